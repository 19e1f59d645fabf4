/*
 * The telephone line's duplex audio over PortAudio's blocking calls (see audio_in.h).
 *
 * PortAudio counts Pa_Initialize/Pa_Terminate itself, so this file takes its own reference
 * alongside audio_out.c's. The same guard as audio_out.c: PortAudio 19.6 aborts while listing
 * ALSA devices when ALSA's configuration has no 'default' (or 'dmix') PCM, so that is checked
 * first and reported as "no device".
 */
#define _GNU_SOURCE /* RTLD_DEFAULT, to reach JACK's message hooks without linking JACK */
#include <alsa/asoundlib.h>
#include <dlfcn.h>
#include <ctype.h>
#include <errno.h>
#include <portaudio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audio_in.h"

#define NO_DEVICE_MSG                                                                         \
    "no audio device with both input and output was found: the line needs one (choose it "     \
    "with --device; tonetree devices lists them)"

struct tt_in {
    PaStream *stream;
    int rate, period, channels;
    int64_t latency; /* output latency, frames */
    unsigned long xruns;
    int16_t *wide;   /* period * 2 frames, for a device that only takes two channels */
};

static void alsa_quiet(const char *file, int line, const char *func, int err, const char *fmt,
                       ...)
{
    (void)file, (void)line, (void)func, (void)err, (void)fmt;
}

static void jack_quiet(const char *msg)
{
    (void)msg;
}

/* As audio_out.c: ALSA and JACK print what they fail to find while PortAudio probes them. */
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

static bool alsa_config_usable(void)
{
    snd_config_t *node;
    if (snd_config_update() < 0 || !snd_config)
        return false;
    return snd_config_search(snd_config, "pcm.default", &node) == 0 ||
           snd_config_search(snd_config, "pcm.dmix", &node) == 0;
}

static bool is_number(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static bool duplex_capable(const PaDeviceInfo *info)
{
    return info && info->maxInputChannels >= 1 && info->maxOutputChannels >= 1;
}

static int find_device(const char *want, PaDeviceIndex *devp, tt_diag *diag)
{
    int count = Pa_GetDeviceCount();
    if (!want || !*want) {
        PaDeviceIndex d = Pa_GetDefaultInputDevice();
        if (count <= 0 || d == paNoDevice || !duplex_capable(Pa_GetDeviceInfo(d))) {
            tt_diag_add(diag, TT_ERROR, NULL, 0, NO_DEVICE_MSG);
            return ENODEV;
        }
        *devp = d;
        return 0;
    }
    if (is_number(want)) {
        long i = strtol(want, NULL, 10);
        if (i >= count || !duplex_capable(Pa_GetDeviceInfo((PaDeviceIndex)i))) {
            tt_diag_add(diag, TT_ERROR, NULL, 0,
                        "there is no audio device number %s with input and output", want);
            return ENODEV;
        }
        *devp = (PaDeviceIndex)i;
        return 0;
    }
    int matches = 0;
    size_t n = strlen(want);
    for (PaDeviceIndex i = 0; i < count; i++) {
        const PaDeviceInfo *info = Pa_GetDeviceInfo(i);
        if (!duplex_capable(info))
            continue;
        if (strcasecmp(info->name, want) == 0) {
            *devp = i;
            return 0;
        }
        for (const char *h = info->name; *h; h++)
            if (strncasecmp(h, want, n) == 0) {
                if (matches++ == 0)
                    *devp = i;
                break;
            }
    }
    if (matches == 1)
        return 0;
    tt_diag_add(diag, TT_ERROR, NULL, 0,
                matches ? "%d audio devices with input and output match '%s': give more of "
                          "the name, or its number"
                        : "%d audio devices with input and output match '%s'",
                matches, want);
    return matches ? EINVAL : ENODEV;
}

int tt_in_open(struct tt_in **ip, const struct tt_in_opts *o, tt_diag *diag)
{
    *ip = NULL;
    if (!o || o->rate < 8000 || o->rate > 48000 || o->period < 0 || o->period > o->rate) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "line audio options out of range (rate 8000 to 48000 Hz, period up to 1 s)");
        return EINVAL;
    }
    quiet_sound_libraries();
    if (!alsa_config_usable()) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, NO_DEVICE_MSG);
        return ENODEV;
    }
    PaError pe = Pa_Initialize();
    if (pe != paNoError) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot start the audio system: %s",
                    Pa_GetErrorText(pe));
        return EIO;
    }
    struct tt_in *in = calloc(1, sizeof(*in));
    PaDeviceIndex dev = paNoDevice;
    int err = in ? find_device(o->device, &dev, diag) : ENOMEM;
    if (err)
        goto fail;
    in->rate = o->rate;
    in->period = o->period ? o->period : o->rate / 100;
    const PaDeviceInfo *info = Pa_GetDeviceInfo(dev);
    PaStreamParameters ip_ = {.device = dev, .channelCount = 1, .sampleFormat = paInt16,
                              .suggestedLatency = info->defaultLowInputLatency};
    PaStreamParameters op = {.device = dev, .channelCount = 1, .sampleFormat = paInt16,
                             .suggestedLatency = info->defaultLowOutputLatency};
    pe = Pa_IsFormatSupported(&ip_, &op, o->rate);
    if (pe == paInvalidChannelCount && info->maxInputChannels >= 2 &&
        info->maxOutputChannels >= 2) {
        ip_.channelCount = op.channelCount = 2;
        pe = Pa_IsFormatSupported(&ip_, &op, o->rate);
    }
    if (pe != paFormatIsSupported) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "the audio device '%s' cannot record and play 16-bit audio at %d Hz: %s",
                    info->name, o->rate, Pa_GetErrorText(pe));
        err = pe == paInvalidSampleRate || pe == paInvalidChannelCount ? EINVAL : EIO;
        goto fail;
    }
    in->channels = op.channelCount;
    if (in->channels == 2 && !(in->wide = malloc((size_t)in->period * 2 * sizeof(int16_t)))) {
        err = ENOMEM;
        goto fail;
    }
    pe = Pa_OpenStream(&in->stream, &ip_, &op, o->rate, (unsigned long)in->period, paNoFlag,
                       NULL, NULL);
    if (pe != paNoError) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot open the audio device '%s': %s",
                    info->name, Pa_GetErrorText(pe));
        in->stream = NULL;
        err = pe == paDeviceUnavailable ? EBUSY : EIO;
        goto fail;
    }
    const PaStreamInfo *si = Pa_GetStreamInfo(in->stream);
    in->latency = si ? (int64_t)(si->outputLatency * o->rate + 0.5) : 0;
    if ((pe = Pa_StartStream(in->stream)) != paNoError) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot start the audio device '%s': %s",
                    info->name, Pa_GetErrorText(pe));
        err = EIO;
        goto fail;
    }
    tt_diag_add(diag, TT_NOTE, NULL, 0, "line audio '%s': %d Hz, %d-frame periods, %s",
                info->name, o->rate, in->period, in->channels == 1 ? "mono" : "two channels");
    *ip = in;
    return 0;
fail:
    if (in && in->stream)
        Pa_CloseStream(in->stream);
    if (in)
        free(in->wide);
    free(in);
    Pa_Terminate();
    return err;
}

void tt_in_close(struct tt_in *in)
{
    if (!in)
        return;
    Pa_AbortStream(in->stream);
    Pa_CloseStream(in->stream);
    free(in->wide);
    free(in);
    Pa_Terminate();
}

int tt_in_read(struct tt_in *in, int16_t *pcm, size_t n)
{
    if (n > (size_t)in->period)
        return EINVAL;
    void *buf = in->channels == 2 ? (void *)in->wide : (void *)pcm;
    PaError pe = Pa_ReadStream(in->stream, buf, (unsigned long)n);
    if (pe == paInputOverflowed)
        in->xruns++;
    else if (pe != paNoError)
        return EIO;
    if (in->channels == 2)
        for (size_t i = 0; i < n; i++)
            pcm[i] = (int16_t)(((int32_t)in->wide[2 * i] + in->wide[2 * i + 1]) / 2);
    return 0;
}

int tt_in_write(struct tt_in *in, const int16_t *pcm, size_t n)
{
    if (n > (size_t)in->period)
        return EINVAL;
    const void *buf = pcm;
    if (in->channels == 2) {
        for (size_t i = 0; i < n; i++)
            in->wide[2 * i] = in->wide[2 * i + 1] = pcm[i];
        buf = in->wide;
    }
    PaError pe = Pa_WriteStream(in->stream, buf, (unsigned long)n);
    if (pe == paOutputUnderflowed)
        in->xruns++;
    else if (pe != paNoError)
        return EIO;
    return 0;
}

int tt_in_period(const struct tt_in *in)
{
    return in->period;
}

int64_t tt_in_out_latency(const struct tt_in *in)
{
    return in->latency;
}

unsigned long tt_in_xruns(const struct tt_in *in)
{
    return in->xruns;
}
