/*
 * The telephone line's duplex audio over PortAudio's blocking calls (see audio_in.h).
 *
 * PortAudio is started, and devices chosen, through pa.c, as for the kiosk's output.
 */
#include <errno.h>
#include <portaudio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "device/audio_in.h"
#include "device/pa.h"

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

static const struct tt_pa_need duplex_need = {true, "audio device with input and output",
                                               "audio devices with input and output",
                                               NO_DEVICE_MSG};

int tt_in_open(struct tt_in **ip, const struct tt_in_opts *o, tt_diag *diag)
{
    *ip = NULL;
    if (!o || o->rate < 8000 || o->rate > 48000 || o->period < 0 || o->period > o->rate) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "line audio options out of range (rate 8000 to 48000 Hz, period up to 1 s)");
        return EINVAL;
    }
    int perr = tt_pa_acquire(NO_DEVICE_MSG, diag);
    if (perr)
        return perr;
    struct tt_in *in = calloc(1, sizeof(*in));
    PaDeviceIndex dev = paNoDevice;
    int err = in ? tt_pa_find_device(o->device, &duplex_need, &dev, diag) : ENOMEM;
    if (err)
        goto fail;
    in->rate = o->rate;
    in->period = o->period ? o->period : o->rate / 100;
    const PaDeviceInfo *info = Pa_GetDeviceInfo(dev);
    PaStreamParameters ip_ = {.device = dev, .channelCount = 1, .sampleFormat = paInt16,
                              .suggestedLatency = info->defaultLowInputLatency};
    PaStreamParameters op = {.device = dev, .channelCount = 1, .sampleFormat = paInt16,
                             .suggestedLatency = info->defaultLowOutputLatency};
    PaError pe = Pa_IsFormatSupported(&ip_, &op, o->rate);
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
    tt_pa_release();
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
    tt_pa_release();
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
