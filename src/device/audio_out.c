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
 * PortAudio is one library state per process: pa.c counts Pa_Initialize/Pa_Terminate so
 * that several users (an output, a device listing, the line) can come and go.
 */
#include <errno.h>
#include <pa_linux_alsa.h> /* PaAlsa_EnableRealtimeScheduling */
#include <portaudio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "device/audio_out.h"
#include "device/pa.h"
#include "device/ring.h"
#include "prompt/player.h" /* TT_FADE_MS: the same fade as every other cut */

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
    _Atomic uint64_t underflows; /* the device ran dry while audio was playing */
    _Atomic bool lost;        /* the stream ended without being asked to */
    _Atomic bool stopping;    /* we are ending it: its end is not a loss */
    bool prev_had_data;       /* callback-private */
};

/* ---- PortAudio, once per process ---- */

static const struct tt_pa_need output_need = {false, "audio output device",
                                               "audio output devices", NO_DEVICE_MSG};

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
    (void)input, (void)time;
    struct tt_out *o = user;
    int16_t *pcm = output;
    size_t n = frames;
    size_t got = tt_ring_read(&o->ring, pcm, n);
    int playing = atomic_load_explicit(&o->playing, memory_order_relaxed);
    if (got < n) {
        memset(pcm + got, 0, (n - got) * sizeof(*pcm));
        if (playing == 1 || (playing < 0 && o->prev_had_data))
            atomic_fetch_add_explicit(&o->underruns, 1, memory_order_relaxed);
    }
    /* The device ran dry before this call. A hole in silence is no hole: count it only when
     * audio was going out around it. */
    if ((flags & paOutputUnderflow) && (playing == 1 || got > 0 || o->prev_had_data))
        atomic_fetch_add_explicit(&o->underflows, 1, memory_order_relaxed);
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
                    info->name, want_rate, tt_pa_error(pe), info->defaultSampleRate);
        return pe == paInvalidSampleRate || pe == paInvalidChannelCount ? EINVAL : EIO;
    }
    return 0;
}

/*
 * Open and start one stream. With rt, the callback thread asks for real-time scheduling
 * (SCHED_FIFO, through PortAudio's ALSA extension): a thread that is not scheduled in time is
 * a hole in the audio, and the callback does so little that it cannot starve anyone. Where
 * that is not allowed PortAudio should go on without it, but 19.6 reads errno after
 * pthread_setschedparam (which returns its error instead of setting errno), so a refusal
 * can fail the start: the caller then tries again without.
 */
/*
 * A stream whose start failed. PortAudio 19.6's ALSA start makes the callback thread, and when
 * it cannot finish starting it (its priority refused, or no word from it within 1 s, which a
 * busy machine can take) it cancels and joins that thread itself. Pa_CloseStream would then
 * abort the stream again: cancel and join the same thread a second time (undefined), and when
 * that fails, skip freeing the stream (pa_front.c closes only after a good abort). A stress
 * run showed that leak under LeakSanitizer. Such a stream (neither active nor stopped) is
 * therefore not closed but kept here for the process's life, a few hundred bytes each,
 * reachable, so that a leak checker still reports any stream we really forgot. Any other
 * stream is closed as usual. PortAudio's streams are process-wide anyway (pa.c); the lock is
 * for two outputs failing at once.
 */
#define KEPT_MAX 64
static PaStream *kept[KEPT_MAX];
static size_t nkept;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

static void close_failed_start(PaStream *s)
{
    if (Pa_IsStreamActive(s) != 0 || Pa_IsStreamStopped(s) != 0) {
        Pa_CloseStream(s);
        return;
    }
    pthread_mutex_lock(&kept_lock);
    if (nkept < KEPT_MAX)
        kept[nkept++] = s; /* past that, it is simply not freed */
    pthread_mutex_unlock(&kept_lock);
}

static PaError open_one(struct tt_out *o, const PaStreamParameters *p, int rate,
                        unsigned long period, bool rt, PaStream **sp)
{
    PaStream *s = NULL;
    atomic_store(&o->stopping, false);
    atomic_store(&o->lost, false);
    o->prev_had_data = false;
    PaError pe = Pa_OpenStream(&s, NULL, p, rate, period, paNoFlag, play_cb, o);
    if (pe != paNoError)
        return pe;
    Pa_SetStreamFinishedCallback(s, finished_cb);
    if (rt)
        PaAlsa_EnableRealtimeScheduling(s, 1);
    pe = Pa_StartStream(s);
    if (pe != paNoError) {
        atomic_store(&o->stopping, true);
        close_failed_start(s);
        return pe;
    }
    *sp = s;
    return paNoError;
}

/* Open and start a stream on the chosen device, into o (whose ring may not exist yet). */
static int start_stream(struct tt_out *o, tt_diag *diag)
{
    PaStream *s = NULL;
    PaDeviceIndex dev;
    int err = tt_pa_find_device(o->device, &output_need, &dev, diag);
    if (err)
        return err;
    const PaDeviceInfo *info = Pa_GetDeviceInfo(dev);
    PaStreamParameters p = {
        .device = dev,
        .channelCount = 1,
        .sampleFormat = paInt16,
        .suggestedLatency = o->opts.latency_ms > 0 ? o->opts.latency_ms / 1000.0
                                                   : info->defaultLowOutputLatency,
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

    const PaHostApiInfo *api = Pa_GetHostApiInfo(info->hostApi);
    bool rt = api && api->type == paALSA; /* the only host API with a way to ask */
    PaError pe = open_one(o, &p, rate, period, rt, &s);
    if (pe != paNoError && rt) {
        rt = false;
        pe = open_one(o, &p, rate, period, false, &s);
    }
    if (pe != paNoError) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot open the audio device '%s': %s",
                    info->name, tt_pa_error(pe));
        return pe == paDeviceUnavailable ? EBUSY : EIO;
    }
    o->stream = s;
    const PaStreamInfo *si = Pa_GetStreamInfo(s);
    o->latency = si ? si->outputLatency : 0;
    tt_diag_add(diag, TT_NOTE, NULL, 0,
                "audio output '%s' (%s): %d Hz, %s, %lu-frame buffers, output latency %.1f ms%s",
                info->name, api ? api->name : "?", rate,
                o->channels == 1 ? "mono" : "mono on two channels", period, o->latency * 1e3,
                rt ? ", real-time callback asked for" : "");
    return 0;
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
        opts->buffer_ms > 1000 || opts->ring_ms < 0 || opts->ring_ms > 60000 ||
        opts->latency_ms < 0 || opts->latency_ms > 2000) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "audio output options out of range (rate 1000 to 768000 Hz, buffer up to "
                    "1 s, queue up to 60 s, latency up to 2 s)");
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
    atomic_init(&o->underflows, 0);
    atomic_init(&o->lost, false);
    atomic_init(&o->stopping, false);
    err = tt_pa_acquire(NO_DEVICE_MSG, diag);
    if (err)
        goto out;
    err = start_stream(o, diag);
    if (err) {
        tt_pa_release();
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

int tt_out_rate_for(const char *device, int want)
{
    tt_diag *d = tt_diag_new(); /* nothing to say: no device is not this question's failure */
    if (!d || tt_pa_acquire(NO_DEVICE_MSG, d)) {
        tt_diag_free(d);
        return want;
    }
    int rate = want;
    PaDeviceIndex dev;
    if (!tt_pa_find_device(device, &output_need, &dev, d)) {
        const PaDeviceInfo *info = Pa_GetDeviceInfo(dev);
        PaStreamParameters p = {.device = dev, .channelCount = 1, .sampleFormat = paInt16,
                                .suggestedLatency = info->defaultLowOutputLatency};
        PaError pe = Pa_IsFormatSupported(NULL, &p, want);
        if (pe == paInvalidChannelCount && info->maxOutputChannels >= 2) {
            p.channelCount = 2;
            pe = Pa_IsFormatSupported(NULL, &p, want);
        }
        int own = (int)info->defaultSampleRate;
        if (pe == paInvalidSampleRate && own > 0 &&
            Pa_IsFormatSupported(NULL, &p, own) == paFormatIsSupported)
            rate = own;
    }
    tt_pa_release();
    tt_diag_free(d);
    return rate;
}

void tt_out_close(struct tt_out *o)
{
    if (!o)
        return;
    stop_stream(o);
    tt_pa_release();
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

int tt_out_set_latency(struct tt_out *o, int ms, tt_diag *diag)
{
    if (ms < 0 || ms > 2000) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "audio output latency out of range (up to 2 s)");
        return EINVAL;
    }
    o->opts.latency_ms = ms;
    if (!o->stream)
        return 0; /* in standby (or lost): the next start asks for it */
    stop_stream(o);
    int err = start_stream(o, diag);
    if (err)
        atomic_store(&o->lost, true); /* as after a failed reopen: the caller retries */
    return err;
}

bool tt_out_in_standby(const struct tt_out *o)
{
    return !o->stream;
}

int tt_out_reopen(struct tt_out *o, tt_diag *diag)
{
    stop_stream(o);
    int err = tt_pa_rescan(NO_DEVICE_MSG, diag);
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

uint64_t tt_out_underflows(const struct tt_out *o)
{
    return atomic_load_explicit(&o->underflows, memory_order_relaxed);
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
    int err = tt_pa_acquire(NO_DEVICE_MSG, diag);
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
    tt_pa_release();
    return err;
}
