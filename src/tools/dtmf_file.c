/*
 * `tonetree dtmf FILE...`: decode an audio file, run the DTMF receiver over it, print the
 * digits.
 *
 * A mono file of 8- or 16-bit PCM, mu-law or A-law (every telephone recording) at a rate the
 * receiver runs at is read by libsndfile straight into 16-bit samples and handed on: no float
 * conversion, so the whole program costs little more than the receiver itself (bench_dtmf's
 * whole-process count beside a plain spandsp program). Anything else libsndfile gives as
 * floats in [-1, 1]; the channels are averaged (as the prompt store does) and scaled to int16
 * the way libsoxr does it. Both ways, a file here and the same file through tt_audio_load give
 * the same samples. A rate the receiver runs at (8 to
 * 48 kHz) is used as it is: resampling would only blur a tone's start. Anything else goes
 * through a streaming libsoxr resampler to 8 kHz, the telephone rate. The digits are kept
 * until the whole file has been read, so that a file that fails half way prints nothing.
 *
 * The file is opened as the prompt store opens recordings (recfile.c): a FIFO or a device is
 * refused at once, not waited on. A file cut short (its header promises more audio than it
 * holds) is the one failure that still prints: the digits before the cut are real and may be
 * all someone has, but a script must not take them for the whole call, so the return is an
 * error that says the file is cut short.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>
#include <soxr.h>

#include "dsp/dtmf.h"
#include "prompt/audio.h"
#include "prompt/recfile.h"
#include "tools/dtmf_file.h"

#define CHUNK 4096 /* frames per libsndfile call */
#define FALLBACK_RATE 8000

struct found {
    char digit;
    uint64_t start;
    double level;
};

struct scan {
    struct found *d;
    size_t n, cap;
    bool nomem;
};

static void digit_handler(void *user, char digit, uint64_t start, double level)
{
    struct scan *sc = user;
    if (sc->n == sc->cap) {
        size_t ncap = sc->cap ? sc->cap * 2 : 64;
        struct found *p = realloc(sc->d, ncap * sizeof(*p));
        if (!p) {
            sc->nomem = true;
            return;
        }
        sc->d = p;
        sc->cap = ncap;
    }
    sc->d[sc->n++] = (struct found){digit, start, level};
}


static int16_t to_i16(float x)
{
    x *= 32768.0f;
    return x >= 32767.0f ? 32767 : x <= -32768.0f ? -32768 : (int16_t)lrintf(x);
}

static int print_digits(const struct scan *sc, int rate, bool verbose, FILE *out)
{
    for (size_t i = 0; i < sc->n; i++)
        fputc(sc->d[i].digit, out);
    fputc('\n', out);
    for (size_t i = 0; verbose && i < sc->n; i++)
        fprintf(out, "  %c at %.3f s, %.1f dBm0\n", sc->d[i].digit,
                (double)sc->d[i].start / rate, sc->d[i].level);
    return fflush(out) || ferror(out) ? EIO : 0;
}

int tt_dtmf_file(const char *path, bool verbose, FILE *out, char *why, size_t why_size)
{
    struct tt_recfile r = {0};
    float *block = NULL, *mono = NULL;
    int16_t *pcm = NULL;
    soxr_t soxr = NULL;
    struct tt_dtmf rx;
    struct scan sc = {0};
    int err;

    why[0] = '\0';
    /* A call recording may be hours long and is streamed: only the size of a WAV file
     * limits it, not the cost limits of a prompt. */
    if ((err = tt_recfile_open(&r, path, TT_RECFILE_MAX_BYTES, why, why_size)))
        return err == ENOMEM ? ENOMEM : EINVAL;
    err = EINVAL;
    SF_INFO info = r.info;
    bool native = info.samplerate >= TT_DTMF_MIN_RATE && info.samplerate <= TT_DTMF_MAX_RATE;
    int rate = native ? info.samplerate : FALLBACK_RATE;
    size_t ch = (size_t)info.channels;
    /* libsoxr is asked for at most CHUNK frames at a time, whatever the ratio */
    if (!(block = malloc(CHUNK * ch * sizeof(*block))) ||
        !(mono = malloc(CHUNK * sizeof(*mono))) || !(pcm = malloc(CHUNK * sizeof(*pcm)))) {
        err = ENOMEM;
        goto out;
    }
    if (!native) {
        soxr_error_t e = NULL;
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_INT16_I);
        io.flags |= SOXR_NO_DITHER;
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        soxr = soxr_create(info.samplerate, rate, 1, &e, &io, &q, NULL);
        if (!soxr || e) {
            snprintf(why, why_size, "it cannot be resampled from %d Hz to %d Hz",
                     info.samplerate, rate);
            err = EIO;
            goto out;
        }
    }
    if (!tt_dtmf_init(&rx, rate, digit_handler, &sc)) {
        err = errno;
        goto out;
    }
    /* The direct way: the samples as they are in the file. */
    bool direct = native && ch == 1 && tt_recfile_exact_short(&r);
    while (direct) {
        int64_t got = tt_recfile_read_short(&r, pcm, CHUNK);
        if (got <= 0)
            break;
        tt_dtmf_process(&rx, pcm, (size_t)got);
    }
    for (bool last = direct; !last;) {
        int64_t got = tt_recfile_read(&r, block, CHUNK);
        last = got <= 0;
        size_t n = got > 0 ? (size_t)got : 0;
        for (size_t i = 0; i < n; i++) {
            float sum = 0;
            for (size_t c = 0; c < ch; c++) {
                float x = block[i * ch + c];
                sum += isfinite(x) ? x : 0.0f;
            }
            mono[i] = sum / (float)ch;
        }
        if (native) {
            for (size_t i = 0; i < n; i++)
                pcm[i] = to_i16(mono[i]);
            tt_dtmf_process(&rx, pcm, n);
            continue;
        }
        /* NULL input at the end flushes what libsoxr still holds */
        const float *in = last ? NULL : mono;
        size_t used = 0;
        do {
            size_t done = 0, took = 0;
            if (soxr_process(soxr, in ? in + used : NULL, n - used, &took, pcm, CHUNK, &done)) {
                snprintf(why, why_size, "it cannot be resampled from %d Hz to %d Hz",
                         info.samplerate, rate);
                err = EIO;
                goto out;
            }
            used += took;
            tt_dtmf_process(&rx, pcm, done);
            if (!done && (used >= n || !took))
                break;
        } while (1);
    }
    bool cut = tt_recfile_cut_short(&r, false, why, why_size);
    if (!cut && sf_error(r.sf)) {
        tt_audio_reason(why, why_size, sf_strerror(r.sf));
        goto out;
    }
    if (sc.nomem) {
        err = ENOMEM;
        goto out;
    }
    if ((err = print_digits(&sc, rate, verbose, out))) {
        snprintf(why, why_size, "the digits could not be written");
        goto out;
    }
    if (cut) {
        size_t len = strlen(why);
        snprintf(why + len, why_size - len, " (the digits printed are those before the cut)");
        err = EINVAL;
    }
out:
    if (err == ENOMEM && !why[0])
        snprintf(why, why_size, "out of memory");
    tt_recfile_close(&r);
    if (soxr)
        soxr_delete(soxr);
    free(block);
    free(mono);
    free(pcm);
    free(sc.d);
    return err;
}
