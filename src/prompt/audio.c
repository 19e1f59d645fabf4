/*
 * Audio files and sample rates for the prompt store: decode with libsndfile, resample with
 * libsoxr, and the store's own small WAV codec.
 *
 * A recording may come in any format, channel count and rate a court clerk's recorder
 * produced; the player wants mono int16 at one rate. Decoding goes through float (libsndfile
 * scales every format to [-1, 1]), channels are averaged, and libsoxr converts rate and
 * sample type in one pass with clipping, so a loud recording saturates instead of wrapping.
 * It streams, block by block, through one resampler, so a long recording costs its result
 * and not its source (the samples are the same as resampling it all at once). Dither is
 * off: the same file then always gives the same samples, which keeps rendered sessions
 * byte-identical between runs.
 *
 * The cache's WAV files are written and read here rather than with libsndfile because each
 * carries its full cache key, which can be a paragraph of text: libsndfile 1.2.0 silently
 * drops string tags over about 2 kB and corrupts files with custom chunks over 64 kB.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sndfile.h>
#include <soxr.h>

#include "prompt/audio.h"
#include "prompt/recfile.h"

#define MAX_RATE TT_RECFILE_MAX_RATE /* of the cache's own files too */
#define BLOCK 4096 /* frames decoded per libsndfile call */
/* The most a decoded prompt may hold: ten minutes at 48 kHz, 57.6 MB. The limits on a
 * recording (recfile.h) keep to this at any output rate up to 48 kHz; this one matters only
 * at higher output rates. */
#define MAX_OUT_FRAMES ((size_t)TT_RECFILE_MAX_SECONDS * 48000)

/* A reason from libsndfile ("Format not recognised.") reads better inside our sentence as
 * "format not recognised". */
void tt_audio_reason(char *why, size_t size, const char *msg)
{
    if (msg && !strncasecmp(msg, "error : ", 8)) /* libsndfile's codec errors start so */
        msg += 8;
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

/* The decoded recording, growing as blocks come out of the resampler. */
struct out {
    int16_t *pcm;
    size_t n, cap;
};

static int room(struct out *o, size_t want)
{
    if (o->cap - o->n >= want)
        return 0;
    size_t cap = o->cap ? o->cap : want;
    while (cap - o->n < want)
        cap *= 2;
    int16_t *p = realloc(o->pcm, cap * sizeof(*p));
    if (!p)
        return ENOMEM;
    o->pcm = p;
    o->cap = cap;
    return 0;
}

/* Give libsoxr n mono samples (in NULL: the end, flush what it holds) and keep what comes
 * out. */
static int feed(soxr_t soxr, const float *in, size_t n, struct out *o)
{
    size_t used = 0;
    for (;;) {
        size_t took = 0, done = 0, space;
        int err = room(o, BLOCK);
        if (err)
            return err;
        space = o->cap - o->n;
        if (soxr_process(soxr, in ? in + used : NULL, in ? n - used : 0, &took, o->pcm + o->n,
                         space, &done))
            return EIO;
        used += took;
        o->n += done;
        /* Input: until all of it is taken and the output no longer fills the room given.
         * The end: until nothing more comes out. */
        if (in ? used >= n && done < space : done == 0)
            return 0;
    }
}

/* How many frames rate conversion makes of n, a few over: room reserved once. */
static size_t out_frames(int64_t n, int in_rate, int out_rate)
{
    return (size_t)((double)n * out_rate / in_rate) + 16;
}

int tt_audio_load(const char *path, int rate, int16_t **pcm, size_t *frames, char *why,
                  size_t why_size)
{
    struct tt_recfile r = {0};
    soxr_t soxr = NULL;
    float *block = NULL, *mono = NULL;
    struct out o = {0};
    int err = EINVAL;

    *pcm = NULL;
    *frames = 0;
    why[0] = '\0';
    if (rate <= 0) {
        snprintf(why, why_size, "the output rate %d Hz is impossible", rate);
        return EINVAL;
    }
    if ((err = tt_recfile_open(&r, path, TT_RECFILE_MAX_BYTES, why, why_size)))
        return err == ENOMEM ? ENOMEM : EINVAL;
    err = EINVAL;
    int src = r.info.samplerate;
    size_t ch = (size_t)r.info.channels;
    bool known = tt_recfile_length_known(&r);

    /* Whatever the header already shows to be unusable is refused before a sample is
     * decoded: memory and time are then spent only on what will be played. */
    if (tt_recfile_cut_short(&r, false, why, why_size) ||
        (known && tt_recfile_check_cost(&r, r.info.frames, why, why_size)))
        goto out;
    if (known && out_frames(r.info.frames, src, rate) > MAX_OUT_FRAMES) {
        snprintf(why, why_size,
                 "it would be %.1f million samples at the output rate of %d Hz, more than the "
                 "%.1f million a prompt may hold: cut it, or use a lower output rate",
                 (double)out_frames(r.info.frames, src, rate) / 1e6, rate,
                 (double)MAX_OUT_FRAMES / 1e6);
        goto out;
    }
    if (!(block = malloc(BLOCK * ch * sizeof(*block))) ||
        !(mono = malloc(BLOCK * sizeof(*mono))) ||
        room(&o, known ? out_frames(r.info.frames, src, rate) : (size_t)BLOCK * 16)) {
        err = ENOMEM;
        goto out;
    }
    /* One streaming resampler, block by block: memory is the result and a few blocks, never
     * the whole source as floats (which for 5 minutes at 768 kHz was 1.9 GB). */
    if (src != rate) {
        soxr_error_t e = NULL;
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_INT16_I);
        io.flags |= SOXR_NO_DITHER;
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        if (!(soxr = soxr_create(src, rate, 1, &e, &io, &q, NULL)) || e) {
            snprintf(why, why_size, "it cannot be resampled from %d Hz to %d Hz", src, rate);
            goto out;
        }
    }
    for (;;) {
        int64_t got = tt_recfile_read(&r, block, BLOCK);
        if (got <= 0)
            break;
        /* A length the header did not give is checked as it grows. */
        if (!known && tt_recfile_check_cost(&r, r.got, why, why_size))
            goto out;
        for (size_t i = 0; i < (size_t)got; i++) {
            float sum = 0;
            for (size_t c = 0; c < ch; c++) {
                float x = block[i * ch + c];
                sum += isfinite(x) ? x : 0.0f; /* a NaN would smear over the resampler */
            }
            mono[i] = sum / (float)ch;
        }
        if (soxr) {
            err = feed(soxr, mono, (size_t)got, &o);
        } else if (!(err = room(&o, (size_t)got))) {
            float_to_i16(mono, (size_t)got, o.pcm + o.n);
            o.n += (size_t)got;
        }
        if (err) {
            if (err == EIO)
                snprintf(why, why_size, "it cannot be resampled from %d Hz to %d Hz", src,
                         rate);
            goto out;
        }
        err = EINVAL;
    }
    /* Cut short first: a decoder error where a cut file ends says less than the figures. */
    if (tt_recfile_cut_short(&r, false, why, why_size))
        goto out;
    if (sf_error(r.sf)) {
        tt_audio_reason(why, why_size, sf_strerror(r.sf));
        goto out;
    }
    if (r.got == 0) {
        snprintf(why, why_size, "it has no audio");
        goto out;
    }
    if (soxr && (err = feed(soxr, NULL, 0, &o))) {
        if (err == EIO)
            snprintf(why, why_size, "it cannot be resampled from %d Hz to %d Hz", src, rate);
        goto out;
    }
    err = EINVAL;
    size_t i = 0;
    while (i < o.n && o.pcm[i] == 0)
        i++;
    if (i == o.n) {
        snprintf(why, why_size, "it is silent");
        goto out;
    }
    *pcm = o.pcm;
    *frames = o.n;
    o.pcm = NULL;
    err = 0;
out:
    if (err == ENOMEM && !why[0])
        snprintf(why, why_size, "out of memory");
    tt_recfile_close(&r);
    if (soxr)
        soxr_delete(soxr);
    free(o.pcm);
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
