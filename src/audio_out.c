/*
 * The live audio output over PortAudio (see audio_out.h for what it offers).
 *
 * The idea: the session's thread writes into a frame ring (ring.c); PortAudio's callback
 * thread is the ring's only consumer. Everything the callback needs is set before the stream
 * starts or read through atomics, so it never waits on the other thread. Opening, closing and
 * reopening happen on the producer thread; PortAudio joins its callback thread when a stream
 * closes and creates a fresh one when a stream starts, which is what lets a reopened stream's
 * callback take over the ring (and its cut-in-progress state) safely.
 *
 * PortAudio is one library state per process: Pa_Initialize/Pa_Terminate are counted here so
 * that several users (an output, a device listing) can come and go.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT, to reach JACK's message hooks without linking JACK */
#include <alsa/asoundlib.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <portaudio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audio_out.h"
#include "player.h" /* TT_FADE_MS: the same fade as every other cut */
#include "ring.h"

#define NO_DEVICE_MSG                                                                      \
    "no audio output device was found: connect headphones or speakers, or choose one with " \
    "--device (tonetree devices lists them)"

struct tt_out {
    struct tt_ring ring;
    PaStream *stream;
    char *device;          /* opts.device, copied so reopen can look for it again */
    struct tt_out_opts opts;
    int rate;              /* what the stream runs at */
    int channels;          /* 1, or 2 for a device that refuses mono */
    unsigned long period;  /* frames per callback */
    double latency;        /* seconds, from PortAudio */

    _Atomic float gain;
    _Atomic int playing;      /* -1: never said; 0: idle; 1: audio is on its way */
    _Atomic uint64_t underruns;
    _Atomic bool lost;        /* the stream ended without being asked to */
    _Atomic bool stopping;    /* we are ending it: its end is not a loss */
    bool prev_had_data;       /* callback-private */
};

/* ---- PortAudio, once per process ---- */

static pthread_mutex_t pa_lock = PTHREAD_MUTEX_INITIALIZER;
static int pa_users; /* tt_out and tt_out_list calls holding a reference */
static bool pa_up;   /* Pa_Initialize succeeded and Pa_Terminate has not run since */

static void alsa_quiet(const char *file, int line, const char *func, int err, const char *fmt,
                       ...)
{
    (void)file, (void)line, (void)func, (void)err, (void)fmt;
}

static void jack_quiet(const char *msg)
{
    (void)msg;
}

/*
 * Pa_Initialize probes every ALSA plugin and the JACK server, and both libraries print what
 * they fail to find (about a hundred lines on a stock machine). Those are not errors for us:
 * a missing device is reported once, plainly, through the diag. JACK comes in as a dependency
 * of libportaudio, so its hooks are looked up in the running process instead of linked.
 */
static void quiet_sound_libraries(void)
{
    snd_lib_error_set_handler(alsa_quiet);
    void (*set_error)(void (*)(const char *));
    void (*set_info)(void (*)(const char *));
    *(void **)&set_error = dlsym(RTLD_DEFAULT, "jack_set_error_function");
    *(void **)&set_info = dlsym(RTLD_DEFAULT, "jack_set_info_function");
    if (set_error)
        set_error(jack_quiet);
    if (set_info)
        set_info(jack_quiet);
}

/*
 * PortAudio 19.6 asserts (aborts the whole program) while listing ALSA devices when ALSA's
 * configuration lists no 'default' or 'dmix' PCM, e.g. when /usr/share/alsa/alsa.conf is
 * missing or ALSA_CONFIG_PATH points at an empty file. Check first, and report it instead.
 */
static bool alsa_config_usable(void)
{
    snd_config_t *node;
    if (snd_config_update() < 0 || !snd_config)
        return false;
    return snd_config_search(snd_config, "pcm.default", &node) == 0 ||
           snd_config_search(snd_config, "pcm.dmix", &node) == 0;
}

static void no_alsa_config(tt_diag *diag)
{
    tt_diag_add(diag, TT_ERROR, NULL, 0, NO_DEVICE_MSG);
    tt_diag_add(diag, TT_NOTE, NULL, 0,
                "the sound system (ALSA) has no 'default' device in its configuration: is "
                "/usr/share/alsa/alsa.conf missing, or ALSA_CONFIG_PATH pointing elsewhere?");
}

/* Bring PortAudio up if it is down. Called with pa_lock held. */
static int pa_start(tt_diag *diag)
{
    if (pa_up)
        return 0;
    quiet_sound_libraries();
    if (!alsa_config_usable()) {
        no_alsa_config(diag);
        return ENODEV;
    }
    PaError pe = Pa_Initialize();
    if (pe != paNoError) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot start the audio system: %s",
                    Pa_GetErrorText(pe));
        return EIO;
    }
    pa_up = true;
    return 0;
}

/* Take a reference to PortAudio, starting it for the first user. */
static int pa_acquire(tt_diag *diag)
{
    pthread_mutex_lock(&pa_lock);
    int err = pa_start(diag);
    if (err == 0)
        pa_users++;
    pthread_mutex_unlock(&pa_lock);
    return err;
}

static void pa_release(void)
{
    pthread_mutex_lock(&pa_lock);
    if (pa_users > 0 && --pa_users == 0 && pa_up) {
        Pa_Terminate();
        pa_up = false;
    }
    pthread_mutex_unlock(&pa_lock);
}

/*
 * PortAudio lists devices once, at Pa_Initialize: to see a device that came back, start it
 * again. Only possible when the caller is the only user (others may have streams open). The
 * caller keeps its reference either way; if PortAudio cannot come back up now, the next
 * rescan tries again.
 */
static int pa_rescan(tt_diag *diag)
{
    pthread_mutex_lock(&pa_lock);
    if (pa_users == 1 && pa_up) {
        Pa_Terminate();
        pa_up = false;
    } else if (pa_up) {
        tt_diag_add(diag, TT_NOTE, NULL, 0,
                    "audio devices were not rescanned: another part of the program uses them");
    }
    int err = pa_start(diag);
    pthread_mutex_unlock(&pa_lock);
    return err;
}

static const char *pa_error(PaError pe)
{
    if (pe == paUnanticipatedHostError) {
        const PaHostErrorInfo *h = Pa_GetLastHostErrorInfo();
        if (h && h->errorText && *h->errorText)
            return h->errorText;
    }
    return Pa_GetErrorText(pe);
}

/* ---- the real-time side ---- */

static int16_t scale(int16_t x, float g)
{
    float v = (float)x * g;
    v += v >= 0.0f ? 0.5f : -0.5f; /* round to nearest, so a gain of 1/2 halves exactly */
    if (v > 32767.0f)
        return 32767;
    if (v < -32768.0f)
        return -32768;
    return (int16_t)v;
}

/*
 * PortAudio's callback. Only the ring, atomics and the buffer PortAudio hands us: no locks, no
 * allocation, no system calls (the optional tap is the caller's, under the same rules).
 */
static int play_cb(const void *input, void *output, unsigned long frames,
                   const PaStreamCallbackTimeInfo *time, PaStreamCallbackFlags flags, void *user)
{
    (void)input, (void)time, (void)flags;
    struct tt_out *o = user;
    int16_t *pcm = output;
    size_t n = frames;
    size_t got = tt_ring_read(&o->ring, pcm, n);
    if (got < n) {
        memset(pcm + got, 0, (n - got) * sizeof(*pcm));
        int playing = atomic_load_explicit(&o->playing, memory_order_relaxed);
        if (playing == 1 || (playing < 0 && o->prev_had_data))
            atomic_fetch_add_explicit(&o->underruns, 1, memory_order_relaxed);
    }
    o->prev_had_data = got > 0;
    float g = atomic_load_explicit(&o->gain, memory_order_relaxed);
    if (g != 1.0f) /* at unity the frames go out exactly as written */
        for (size_t i = 0; i < got; i++)
            pcm[i] = scale(pcm[i], g);
    if (o->channels == 2) {
        /* Widen in place from the end: slot i is read before slots 2i, 2i+1 are written. */
        for (size_t i = n; i-- > 0;) {
            int16_t x = pcm[i];
            pcm[2 * i] = x;
            pcm[2 * i + 1] = x;
        }
    }
    if (o->opts.tap)
        o->opts.tap(o->opts.tap_user, pcm, n, o->channels);
    return paContinue;
}

/* Called by PortAudio when the stream ends: after our own stop, or when the device failed. */
static void finished_cb(void *user)
{
    struct tt_out *o = user;
    if (!atomic_load(&o->stopping))
        atomic_store(&o->lost, true);
}

/* ---- opening ---- */

static bool is_number(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

/* Which device: the default, an index, or the one output whose name matches. */
static int find_device(const char *want, PaDeviceIndex *devp, tt_diag *diag)
{
    int count = Pa_GetDeviceCount();
    if (!want || !*want) {
        PaDeviceIndex d = Pa_GetDefaultOutputDevice();
        if (count <= 0 || d == paNoDevice) {
            tt_diag_add(diag, TT_ERROR, NULL, 0, NO_DEVICE_MSG);
            return ENODEV;
        }
        *devp = d;
        return 0;
    }
    if (is_number(want)) {
        long i = strtol(want, NULL, 10);
        const PaDeviceInfo *info = i < count ? Pa_GetDeviceInfo((PaDeviceIndex)i) : NULL;
        if (!info || info->maxOutputChannels < 1) {
            tt_diag_add(diag, TT_ERROR, NULL, 0,
                        "there is no audio output device number %s: tonetree devices lists "
                        "them", want);
            return ENODEV;
        }
        *devp = (PaDeviceIndex)i;
        return 0;
    }
    PaDeviceIndex found = paNoDevice;
    int matches = 0;
    for (PaDeviceIndex i = 0; i < count; i++) {
        const PaDeviceInfo *info = Pa_GetDeviceInfo(i);
        if (!info || info->maxOutputChannels < 1 || !contains_nocase(info->name, want))
            continue;
        if (strcasecmp(info->name, want) == 0) { /* an exact name wins over partial ones */
            *devp = i;
            return 0;
        }
        if (matches++ == 0)
            found = i;
    }
    if (matches == 1) {
        *devp = found;
        return 0;
    }
    if (matches == 0) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "no audio output device matches '%s': tonetree devices lists them", want);
        return ENODEV;
    }
    tt_diag_add(diag, TT_ERROR, NULL, 0,
                "%d audio output devices match '%s': give more of the name, or its number "
                "(tonetree devices lists them)", matches, want);
    return EINVAL;
}

/* Pick channels and rate the device accepts: mono at the asked rate if it can; a device that
 * refuses mono gets two channels; one that refuses the rate runs at its own. */
static int choose_format(struct tt_out *o, PaStreamParameters *p, const PaDeviceInfo *info,
                         int want_rate, int *ratep, tt_diag *diag)
{
    PaError pe = Pa_IsFormatSupported(NULL, p, want_rate);
    if (pe == paInvalidChannelCount && info->maxOutputChannels >= 2) {
        p->channelCount = 2;
        pe = Pa_IsFormatSupported(NULL, p, want_rate);
    }
    *ratep = want_rate;
    if (pe == paInvalidSampleRate && o->rate == 0) { /* first open: the ring is not made yet */
        int own = (int)info->defaultSampleRate;
        if (own > 0 && Pa_IsFormatSupported(NULL, p, own) == paFormatIsSupported) {
            tt_diag_add(diag, TT_WARNING, NULL, 0,
                        "the audio device '%s' cannot play at %d Hz; it was opened at its own "
                        "rate, %d Hz, so audio must be prepared at %d Hz",
                        info->name, want_rate, own, own);
            *ratep = own;
            return 0;
        }
    }
    if (pe != paFormatIsSupported) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "the audio device '%s' cannot play 16-bit audio at %d Hz (%s); its own "
                    "rate is %.0f Hz",
                    info->name, want_rate, pa_error(pe), info->defaultSampleRate);
        return pe == paInvalidSampleRate || pe == paInvalidChannelCount ? EINVAL : EIO;
    }
    return 0;
}

/* Open and start a stream on the chosen device, into o (whose ring may not exist yet). */
static int start_stream(struct tt_out *o, tt_diag *diag)
{
    PaStream *s = NULL;
    PaDeviceIndex dev;
    int err = find_device(o->device, &dev, diag);
    if (err)
        return err;
    const PaDeviceInfo *info = Pa_GetDeviceInfo(dev);
    PaStreamParameters p = {
        .device = dev,
        .channelCount = 1,
        .sampleFormat = paInt16,
        .suggestedLatency = info->defaultLowOutputLatency,
    };
    int rate;
    err = choose_format(o, &p, info, o->rate ? o->rate : o->opts.rate, &rate, diag);
    if (err)
        return err;
    int ms = o->opts.buffer_ms > 0 ? o->opts.buffer_ms : TT_OUT_BUFFER_MS;
    unsigned long period = (unsigned long)rate * (unsigned long)ms / 1000;
    if (period < 16)
        period = 16;

    if (!o->ring.buf) {
        int ring_ms = o->opts.ring_ms > 0 ? o->opts.ring_ms : 200;
        size_t cap = (size_t)rate * (size_t)ring_ms / 1000;
        if (cap < 2 * period)
            cap = 2 * period; /* at least a period queued while the next is written */
        size_t fade = (size_t)rate * TT_FADE_MS / 1000;
        err = tt_ring_init(&o->ring, cap, fade ? fade : 1);
        if (err)
            return err;
    }
    o->rate = rate;
    o->channels = p.channelCount;
    o->period = period;
    o->prev_had_data = false;
    atomic_store(&o->stopping, false);
    atomic_store(&o->lost, false);

    PaError pe = Pa_OpenStream(&s, NULL, &p, rate, period, paNoFlag, play_cb, o);
    if (pe != paNoError) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot open the audio device '%s': %s",
                    info->name, pa_error(pe));
        err = pe == paDeviceUnavailable ? EBUSY : EIO;
        s = NULL;
        goto out;
    }
    Pa_SetStreamFinishedCallback(s, finished_cb);
    const PaStreamInfo *si = Pa_GetStreamInfo(s);
    o->latency = si ? si->outputLatency : 0;
    pe = Pa_StartStream(s);
    if (pe != paNoError) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot start the audio device '%s': %s",
                    info->name, pa_error(pe));
        err = EIO;
        goto out;
    }
    o->stream = s;
    s = NULL;
    const PaHostApiInfo *api = Pa_GetHostApiInfo(info->hostApi);
    tt_diag_add(diag, TT_NOTE, NULL, 0,
                "audio output '%s' (%s): %d Hz, %s, %lu-frame buffers, output latency %.1f ms",
                info->name, api ? api->name : "?", rate,
                o->channels == 1 ? "mono" : "mono on two channels", period, o->latency * 1e3);
out:
    if (s) {
        atomic_store(&o->stopping, true);
        Pa_CloseStream(s);
    }
    return err;
}

static void stop_stream(struct tt_out *o)
{
    if (!o->stream)
        return;
    atomic_store(&o->stopping, true);
    /* Abort rather than stop: stopping waits for queued buffers to play, and a device that
     * has gone away may never play them. */
    Pa_AbortStream(o->stream);
    Pa_CloseStream(o->stream);
    o->stream = NULL;
}

int tt_out_open(struct tt_out **op, const struct tt_out_opts *opts, tt_diag *diag)
{
    *op = NULL;
    if (!opts || opts->rate < 1000 || opts->rate > 768000 || opts->buffer_ms < 0 ||
        opts->buffer_ms > 1000 || opts->ring_ms < 0 || opts->ring_ms > 60000) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "audio output options out of range (rate 1000 to 768000 Hz, buffer up to "
                    "1 s, queue up to 60 s)");
        return EINVAL;
    }
    struct tt_out *o = calloc(1, sizeof(*o));
    if (!o)
        return ENOMEM;
    int err;
    o->opts = *opts;
    o->opts.device = NULL;
    if (opts->device && !(o->device = strdup(opts->device))) {
        err = ENOMEM;
        goto out;
    }
    atomic_init(&o->gain, 1.0f);
    atomic_init(&o->playing, -1);
    atomic_init(&o->underruns, 0);
    atomic_init(&o->lost, false);
    atomic_init(&o->stopping, false);
    err = pa_acquire(diag);
    if (err)
        goto out;
    err = start_stream(o, diag);
    if (err) {
        pa_release();
        goto out;
    }
    *op = o;
out:
    if (err) {
        tt_ring_free(&o->ring);
        free(o->device);
        free(o);
    }
    return err;
}

void tt_out_close(struct tt_out *o)
{
    if (!o)
        return;
    stop_stream(o);
    pa_release();
    tt_ring_free(&o->ring);
    free(o->device);
    free(o);
}

int tt_out_standby(struct tt_out *o, bool standby, tt_diag *diag)
{
    if (standby) {
        stop_stream(o);
        return 0;
    }
    return o->stream ? 0 : start_stream(o, diag);
}

bool tt_out_in_standby(const struct tt_out *o)
{
    return !o->stream;
}

int tt_out_reopen(struct tt_out *o, tt_diag *diag)
{
    stop_stream(o);
    int err = pa_rescan(diag);
    if (err == 0)
        err = start_stream(o, diag);
    if (err)
        atomic_store(&o->lost, true); /* still lost: the caller may try again later */
    return err;
}

/* ---- the producer's side ---- */

size_t tt_out_write(struct tt_out *o, const int16_t *pcm, size_t n)
{
    return tt_ring_write(&o->ring, pcm, n);
}

size_t tt_out_space(const struct tt_out *o)
{
    return tt_ring_space(&o->ring);
}

void tt_out_cut(struct tt_out *o)
{
    tt_ring_cut(&o->ring);
}

void tt_out_set_gain(struct tt_out *o, float linear)
{
    if (!(linear >= 0.0f)) /* also NaN */
        linear = 0.0f;
    if (linear > 8.0f)
        linear = 8.0f;
    atomic_store_explicit(&o->gain, linear, memory_order_relaxed);
}

void tt_out_set_playing(struct tt_out *o, bool playing)
{
    atomic_store_explicit(&o->playing, playing ? 1 : 0, memory_order_relaxed);
}

int64_t tt_out_played(const struct tt_out *o)
{
    return (int64_t)tt_ring_read_pos(&o->ring);
}

int64_t tt_out_written(const struct tt_out *o)
{
    return (int64_t)tt_ring_write_pos(&o->ring);
}

double tt_out_latency(const struct tt_out *o)
{
    return o->latency;
}

int tt_out_rate(const struct tt_out *o)
{
    return o->rate;
}

uint64_t tt_out_underruns(const struct tt_out *o)
{
    return atomic_load_explicit(&o->underruns, memory_order_relaxed);
}

bool tt_out_lost(const struct tt_out *o)
{
    /* Only the flag: the stream pointer belongs to the producer thread, and PortAudio calls
     * finished_cb whenever a stream ends, including when its host thread dies on an error. */
    return atomic_load(&o->lost);
}

/* ---- listing ---- */

int tt_out_list(FILE *f, tt_diag *diag)
{
    int err = pa_acquire(diag);
    if (err)
        return err;
    int count = Pa_GetDeviceCount();
    PaDeviceIndex def = Pa_GetDefaultOutputDevice();
    int shown = 0;
    for (PaDeviceIndex i = 0; i < count; i++) {
        const PaDeviceInfo *info = Pa_GetDeviceInfo(i);
        if (!info || info->maxOutputChannels < 1)
            continue;
        const PaHostApiInfo *api = Pa_GetHostApiInfo(info->hostApi);
        fprintf(f, "%3d  %-40s  %-6s  %3d ch  %6.0f Hz%s\n", i, info->name,
                api ? api->name : "?", info->maxOutputChannels, info->defaultSampleRate,
                i == def ? "  (default)" : "");
        shown++;
    }
    if (shown == 0) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, NO_DEVICE_MSG);
        err = ENODEV;
    }
    pa_release();
    return err;
}
