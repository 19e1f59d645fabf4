/*
 * Audio files and sample rates for the prompt store: decode with libsndfile, resample with
 * libsoxr, and the store's own small WAV codec.
 *
 * A recording may come in any format, channel count and rate a court clerk's recorder
 * produced; the player wants mono int16 at one rate. Decoding goes through float (libsndfile
 * scales every format to [-1, 1]), channels are averaged, and libsoxr converts rate and
 * sample type in one pass with clipping, so a loud recording saturates instead of wrapping.
 * Dither is off: the same file then always gives the same samples, which keeps rendered
 * sessions byte-identical between runs.
 *
 * The cache's WAV files are written and read here rather than with libsndfile because each
 * carries its full cache key, which can be a paragraph of text: libsndfile 1.2.0 silently
 * drops string tags over about 2 kB and corrupts files with custom chunks over 64 kB.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>
#include <soxr.h>

#include "audio.h"

/* Limits that turn a corrupt header or a wrong file into a refusal, not a huge allocation. */
#define MAX_RATE 768000     /* the highest rate any recorder writes */
#define MAX_CHANNELS 64
#define MAX_SECONDS (60 * 60) /* a prompt longer than an hour is a mistake */
#define BLOCK 4096           /* frames decoded per libsndfile call */

/* A reason from libsndfile ("Format not recognised.") reads better inside our sentence as
 * "format not recognised". */
void tt_audio_reason(char *why, size_t size, const char *msg)
{
    snprintf(why, size, "%s", msg && *msg ? msg : "unknown error");
    size_t len = strlen(why);
    while (len > 0 && (why[len - 1] == '.' || why[len - 1] == '\n' || why[len - 1] == ' '))
        why[--len] = '\0';
    if (why[0] >= 'A' && why[0] <= 'Z' && !(why[1] >= 'A' && why[1] <= 'Z'))
        why[0] = (char)(why[0] - 'A' + 'a');
}

/* Same rate: float to int16 the way libsoxr does it (x * 32768, rounded, clipped). */
static void float_to_i16(const float *in, size_t n, int16_t *out)
{
    for (size_t i = 0; i < n; i++) {
        float x = in[i] * 32768.0f;
        out[i] = x >= 32767.0f ? 32767 : x <= -32768.0f ? -32768 : (int16_t)lrintf(x);
    }
}

/* One libsoxr pass from mono samples of type itype to int16. */
static int resample_any(const void *in, soxr_datatype_t itype, size_t n, int in_rate,
                        int out_rate, int16_t **out, size_t *out_n)
{
    *out = NULL;
    *out_n = 0;
    if (in_rate <= 0 || out_rate <= 0)
        return EINVAL;
    if (n == 0)
        return 0;
    /* libsoxr's one-shot output is n * ratio rounded; a little room spares an exact formula. */
    size_t cap = (size_t)((double)n * out_rate / in_rate) + 16;
    int16_t *buf = malloc(cap * sizeof(*buf));
    if (!buf)
        return ENOMEM;
    soxr_io_spec_t io = soxr_io_spec(itype, SOXR_INT16_I);
    io.flags |= SOXR_NO_DITHER;
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    size_t done = 0;
    soxr_error_t e = soxr_oneshot(in_rate, out_rate, 1, in, n, NULL, buf, cap, &done, &io, &q,
                                  NULL);
    if (e) {
        free(buf);
        return EIO;
    }
    *out = buf;
    *out_n = done;
    return 0;
}

int tt_audio_resample(const int16_t *in, size_t n, int in_rate, int out_rate, int16_t **out,
                      size_t *out_n)
{
    if (in_rate > 0 && in_rate == out_rate) {
        *out = NULL;
        *out_n = 0;
        if (n == 0)
            return 0;
        if (!(*out = malloc(n * sizeof(**out))))
            return ENOMEM;
        memcpy(*out, in, n * sizeof(*in));
        *out_n = n;
        return 0;
    }
    return resample_any(in, SOXR_INT16_I, n, in_rate, out_rate, out, out_n);
}

int tt_audio_load(const char *path, int rate, int16_t **pcm, size_t *frames, char *why,
                  size_t why_size)
{
    SF_INFO info;
    SNDFILE *f = NULL;
    float *block = NULL, *mono = NULL;
    size_t n = 0, cap = 0;
    int err = EINVAL;

    *pcm = NULL;
    *frames = 0;
    why[0] = '\0';
    memset(&info, 0, sizeof(info));
    if (rate <= 0) {
        snprintf(why, why_size, "the output rate %d Hz is impossible", rate);
        goto out;
    }
    if (!(f = sf_open(path, SFM_READ, &info))) {
        tt_audio_reason(why, why_size, sf_strerror(NULL));
        goto out;
    }
    if (info.channels < 1 || info.channels > MAX_CHANNELS || info.samplerate < 1 ||
        info.samplerate > MAX_RATE) {
        snprintf(why, why_size, "it claims %d channels at %d Hz", info.channels,
                 info.samplerate);
        goto out;
    }
    /* The frame count in a header can be missing or wrong (streams, damaged files): read
     * until the end instead of trusting it. */
    size_t ch = (size_t)info.channels;
    size_t max_frames = (size_t)info.samplerate * MAX_SECONDS;
    if (!(block = malloc(BLOCK * ch * sizeof(*block)))) {
        err = ENOMEM;
        goto out;
    }
    for (;;) {
        sf_count_t got = sf_readf_float(f, block, BLOCK);
        if (got <= 0)
            break;
        if (n + (size_t)got > max_frames) {
            snprintf(why, why_size, "it is longer than %d minutes", MAX_SECONDS / 60);
            goto out;
        }
        if (n + (size_t)got > cap) {
            size_t ncap = cap ? cap * 2 : (size_t)BLOCK * 16;
            while (ncap < n + (size_t)got)
                ncap *= 2;
            float *p = realloc(mono, ncap * sizeof(*p));
            if (!p) {
                err = ENOMEM;
                goto out;
            }
            mono = p;
            cap = ncap;
        }
        for (size_t i = 0; i < (size_t)got; i++) {
            float sum = 0;
            for (size_t c = 0; c < ch; c++) {
                float x = block[i * ch + c];
                sum += isfinite(x) ? x : 0.0f; /* a NaN would smear over the resampler */
            }
            mono[n + i] = sum / (float)ch;
        }
        n += (size_t)got;
    }
    if (sf_error(f)) {
        tt_audio_reason(why, why_size, sf_strerror(f));
        goto out;
    }
    if (n == 0) {
        snprintf(why, why_size, "it has no audio");
        goto out;
    }

    if (info.samplerate == rate) {
        if (!(*pcm = malloc(n * sizeof(**pcm)))) {
            err = ENOMEM;
            goto out;
        }
        float_to_i16(mono, n, *pcm);
        *frames = n;
    } else if ((err = resample_any(mono, SOXR_FLOAT32_I, n, info.samplerate, rate, pcm,
                                   frames))) {
        snprintf(why, why_size, "it cannot be resampled from %d Hz to %d Hz", info.samplerate,
                 rate);
        goto out;
    }
    size_t i = 0;
    while (i < *frames && (*pcm)[i] == 0)
        i++;
    if (i == *frames) {
        snprintf(why, why_size, "it is silent");
        err = EINVAL;
        goto out;
    }
    err = 0;
out:
    if (err) {
        free(*pcm);
        *pcm = NULL;
        *frames = 0;
        if (err == ENOMEM && !why[0])
            snprintf(why, why_size, "out of memory");
    }
    if (f)
        sf_close(f);
    free(block);
    free(mono);
    return err;
}

/* ---- the cache's WAV files ---------------------------------------------------------------- */

static uint8_t *put_le(uint8_t *p, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

static uint32_t get_le(const uint8_t *p, int bytes)
{
    uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint8_t *put_id(uint8_t *p, const char *id)
{
    memcpy(p, id, 4);
    return p + 4;
}

int tt_audio_wav_encode(const int16_t *pcm, size_t frames, int rate, const char *note,
                        size_t note_len, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    size_t pad = note_len & 1; /* RIFF chunks start at even offsets */
    /* "WAVE" + fmt chunk + note chunk + data chunk; RIFF sizes are 32-bit. */
    uint64_t riff = 4 + (8 + 16) + (8 + (uint64_t)note_len + pad) + (8 + (uint64_t)frames * 2);
    if (rate <= 0 || riff > UINT32_MAX - 8)
        return EINVAL;
    uint8_t *b = malloc((size_t)riff + 8);
    if (!b)
        return ENOMEM;
    uint8_t *p = b;
    p = put_le(put_id(p, "RIFF"), (uint32_t)riff, 4);
    p = put_id(p, "WAVE");
    p = put_le(put_id(p, "fmt "), 16, 4);
    p = put_le(p, 1, 2);                     /* PCM */
    p = put_le(p, 1, 2);                     /* mono */
    p = put_le(p, (uint32_t)rate, 4);        /* frames per second */
    p = put_le(p, (uint32_t)rate * 2, 4);    /* bytes per second */
    p = put_le(p, 2, 2);                     /* bytes per frame */
    p = put_le(p, 16, 2);                    /* bits per sample */
    p = put_le(put_id(p, TT_AUDIO_NOTE_CHUNK), (uint32_t)note_len, 4);
    if (note_len)
        memcpy(p, note, note_len);
    p += note_len;
    if (pad)
        *p++ = 0;
    p = put_le(put_id(p, "data"), (uint32_t)(frames * 2), 4);
    for (size_t i = 0; i < frames; i++)
        p = put_le(p, (uint16_t)pcm[i], 2);
    *buf = b;
    *len = (size_t)(p - b);
    return 0;
}

int tt_audio_wav_decode(const uint8_t *buf, size_t len, int *rate, const char **note,
                        size_t *note_len, int16_t **pcm, size_t *frames)
{
    const uint8_t *fmt = NULL, *data = NULL;
    size_t data_len = 0;
    *rate = 0;
    *note = NULL;
    *note_len = 0;
    *pcm = NULL;
    *frames = 0;
    if (len < 12 || memcmp(buf, "RIFF", 4) || memcmp(buf + 8, "WAVE", 4) ||
        get_le(buf + 4, 4) != len - 8) /* a truncated or padded file is not ours */
        return EINVAL;
    size_t off = 12;
    while (off + 8 <= len) {
        const uint8_t *id = buf + off;
        size_t size = get_le(buf + off + 4, 4);
        off += 8;
        if (size > len - off)
            return EINVAL;
        if (!memcmp(id, "fmt ", 4) && size >= 16)
            fmt = buf + off;
        else if (!memcmp(id, TT_AUDIO_NOTE_CHUNK, 4)) {
            *note = (const char *)(buf + off);
            *note_len = size;
        } else if (!memcmp(id, "data", 4)) {
            data = buf + off;
            data_len = size;
        }
        off += size + (size & 1);
    }
    if (!fmt || !*note || !data || data_len == 0 || data_len % 2 ||
        get_le(fmt, 2) != 1 || get_le(fmt + 2, 2) != 1 || get_le(fmt + 14, 2) != 16)
        return EINVAL;
    uint32_t r = get_le(fmt + 4, 4);
    if (r == 0 || r > MAX_RATE)
        return EINVAL;
    size_t n = data_len / 2;
    int16_t *s = malloc(n * sizeof(*s));
    if (!s)
        return ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int32_t v = (int32_t)get_le(data + 2 * i, 2);
        s[i] = (int16_t)(v >= 32768 ? v - 65536 : v); /* two's complement, spelled out */
    }
    *rate = (int)r;
    *pcm = s;
    *frames = n;
    return 0;
}
