/*
 * The audio codecs of a SIP call (see codec.h): the table, the choice among a caller's offer,
 * and the encoders and decoders, which are thin wrappers over spandsp.
 *
 * G.711 is a table lookup per sample with no memory (spandsp's inline linear_to_ulaw and
 * friends), so its encoder and decoder only carry the table entry. G.722 is sub-band ADPCM:
 * a quadrature mirror filter splits 16 kHz audio into a lower and an upper band, each coded
 * by a predictor that adapts to what came before, so each direction of a call keeps a
 * spandsp state, allocated when the call starts.
 *
 * One thing spandsp's G.722 does that we must keep away from: its decoder (spandsp 0.0.6,
 * the one Debian 12 ships, and the code baresip's g722 module and other telephony software
 * build on) writes its output without saturating it, so a reconstructed sample a little
 * over full scale wraps round to the other sign: a loud click. ADPCM overshoots on peaks,
 * so input near full scale is enough. Measured here (1020 Hz sine, 64 kbit/s): clean up to
 * an amplitude of 32479, wrapping from 32511 on (an overshoot of about 260); speech scaled
 * to a peak of 32517 wrapped, at 32267 it did not (an overshoot under 500). The encoder
 * therefore clips its input to TT_CODEC_G722_LIMIT, 30000 (-0.77 dBFS): 2767 of room, five
 * times the largest overshoot seen, and still above the -1 dBTP (29204) that dsp/loudness.c
 * holds every prompt's true peak under. So a prompt is never touched at any volume up to
 * the loudest level, which plays it at its normalized level (tonetree.h:
 * TT_VOLUME_STEP_DB); only audio that a driver has already raised past full scale is
 * clipped, 0.77 dB lower than it was anyway, instead of clicking at the far end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spandsp.h>

#include "sip/codec.h"

/* 64 kbit/s: the mode RTP's G722 payload carries (RFC 3551 4.5.2); G.722's 56 and 48 kbit/s
 * modes leave room for data in an ISDN channel and have no RTP name. */
#define G722_BITRATE 64000

/* Packets per second at TT_CODEC_PTIME_MS. */
#define PACKETS_PER_S (1000 / TT_CODEC_PTIME_MS)

/* Bytes per second of all three: 64 kbit/s. */
#define BYTES_PER_S (64000 / 8)

static const struct tt_codec_info table[TT_CODEC_COUNT] = {
    [TT_CODEC_PCMU] = {TT_CODEC_PCMU, "PCMU", 0, 8000, 8000, 8000 / PACKETS_PER_S,
                       BYTES_PER_S / PACKETS_PER_S, 8000 / PACKETS_PER_S},
    [TT_CODEC_PCMA] = {TT_CODEC_PCMA, "PCMA", 8, 8000, 8000, 8000 / PACKETS_PER_S,
                       BYTES_PER_S / PACKETS_PER_S, 8000 / PACKETS_PER_S},
    /* 16000 samples a second, but a clock of 8000 (RFC 3551 4.5.2): see codec.h. */
    [TT_CODEC_G722] = {TT_CODEC_G722, "G722", 9, 8000, 16000, 16000 / PACKETS_PER_S,
                       BYTES_PER_S / PACKETS_PER_S, 8000 / PACKETS_PER_S},
};

/* The order tt_codec_choose prefers (codec.h says why). */
static const enum tt_codec_id preference[] = {TT_CODEC_G722, TT_CODEC_PCMU, TT_CODEC_PCMA};

const struct tt_codec_info *tt_codec_get(enum tt_codec_id id)
{
    if ((unsigned)id >= TT_CODEC_COUNT)
        return NULL;
    return &table[id];
}

const struct tt_codec_info *tt_codec_find(const char *name, uint32_t clock_rate,
                                          unsigned channels)
{
    if (!name || (channels != 0 && channels != 1))
        return NULL;
    for (int i = 0; i < TT_CODEC_COUNT; i++) {
        if (strcasecmp(name, table[i].name) == 0 && clock_rate == table[i].clock_rate)
            return &table[i];
    }
    return NULL;
}

const struct tt_codec_info *tt_codec_match(const struct tt_codec_offer *offer)
{
    if (!offer)
        return NULL;
    if (offer->name && offer->name[0])
        return tt_codec_find(offer->name, offer->clock_rate, offer->channels);
    /* No rtpmap: only a static payload type carries a meaning of its own. */
    for (int i = 0; i < TT_CODEC_COUNT; i++) {
        if (offer->pt == table[i].pt)
            return &table[i];
    }
    return NULL;
}

int tt_codec_choose(const struct tt_codec_offer *offers, size_t n, size_t *chosen)
{
    if ((!offers && n > 0) || !chosen)
        return EINVAL;
    for (size_t p = 0; p < sizeof(preference) / sizeof(preference[0]); p++) {
        for (size_t i = 0; i < n; i++) {
            const struct tt_codec_info *c = tt_codec_match(&offers[i]);
            if (c && c->id == preference[p]) {
                *chosen = i;
                return 0;
            }
        }
    }
    return ENOENT;
}

/* ---- encoding ---- */

struct tt_codec_enc {
    const struct tt_codec_info *info;
    g722_encode_state_t *g722; /* NULL for G.711 */
};

int tt_codec_enc_new(enum tt_codec_id id, struct tt_codec_enc **out)
{
    *out = NULL;
    const struct tt_codec_info *info = tt_codec_get(id);
    if (!info)
        return EINVAL;
    struct tt_codec_enc *e = calloc(1, sizeof(*e));
    if (!e)
        return ENOMEM;
    e->info = info;
    if (id == TT_CODEC_G722) {
        /* Options 0: 16 kHz samples in, one byte per pair of samples out (not packed). */
        e->g722 = g722_encode_init(NULL, G722_BITRATE, 0);
        if (!e->g722) {
            free(e);
            return ENOMEM;
        }
    }
    *out = e;
    return 0;
}

void tt_codec_enc_free(struct tt_codec_enc *e)
{
    if (!e)
        return;
    if (e->g722)
        g722_encode_free(e->g722);
    free(e);
}

const struct tt_codec_info *tt_codec_enc_info(const struct tt_codec_enc *e)
{
    return e->info;
}

/* G.722 takes samples in pairs and its input is clipped first, so it goes through a small
 * copy: 20 ms at 16 kHz, a packet's worth, on the stack. */
#define G722_CHUNK 320

static void g722_encode_clipped(g722_encode_state_t *s, const int16_t *pcm, size_t n,
                                uint8_t *out)
{
    int16_t buf[G722_CHUNK];
    while (n > 0) {
        size_t k = n < G722_CHUNK ? n : G722_CHUNK;
        for (size_t i = 0; i < k; i++) {
            int16_t v = pcm[i];
            buf[i] = v > TT_CODEC_G722_LIMIT    ? TT_CODEC_G722_LIMIT
                     : v < -TT_CODEC_G722_LIMIT ? -TT_CODEC_G722_LIMIT
                                                : v;
        }
        out += g722_encode(s, out, buf, (int)k);
        pcm += k;
        n -= k;
    }
}

int tt_codec_encode(struct tt_codec_enc *e, const int16_t *pcm, size_t n, uint8_t *out,
                    size_t cap, size_t *len)
{
    *len = 0;
    switch (e->info->id) {
    case TT_CODEC_PCMU:
        if (cap < n)
            return ENOBUFS;
        for (size_t i = 0; i < n; i++)
            out[i] = linear_to_ulaw(pcm[i]);
        *len = n;
        return 0;
    case TT_CODEC_PCMA:
        if (cap < n)
            return ENOBUFS;
        for (size_t i = 0; i < n; i++)
            out[i] = linear_to_alaw(pcm[i]);
        *len = n;
        return 0;
    case TT_CODEC_G722:
        if (n % 2)
            return EINVAL;
        if (cap < n / 2)
            return ENOBUFS;
        g722_encode_clipped(e->g722, pcm, n, out);
        *len = n / 2;
        return 0;
    default:
        return EINVAL;
    }
}

/* ---- decoding ---- */

struct tt_codec_dec {
    const struct tt_codec_info *info;
    int rate;
    g722_decode_state_t *g722; /* NULL for G.711 */
};

int tt_codec_dec_new(enum tt_codec_id id, int rate, struct tt_codec_dec **out)
{
    *out = NULL;
    const struct tt_codec_info *info = tt_codec_get(id);
    if (!info)
        return EINVAL;
    if (rate == 0)
        rate = (int)info->audio_rate;
    /* G.711 is 8 kHz only; G.722 gives 16 kHz, or its lower band alone at 8 kHz. */
    if (rate != (int)info->audio_rate && !(id == TT_CODEC_G722 && rate == 8000))
        return EINVAL;
    struct tt_codec_dec *d = calloc(1, sizeof(*d));
    if (!d)
        return ENOMEM;
    d->info = info;
    d->rate = rate;
    if (id == TT_CODEC_G722) {
        d->g722 = g722_decode_init(NULL, G722_BITRATE, rate == 8000 ? G722_SAMPLE_RATE_8000 : 0);
        if (!d->g722) {
            free(d);
            return ENOMEM;
        }
    }
    *out = d;
    return 0;
}

void tt_codec_dec_free(struct tt_codec_dec *d)
{
    if (!d)
        return;
    if (d->g722)
        g722_decode_free(d->g722);
    free(d);
}

const struct tt_codec_info *tt_codec_dec_info(const struct tt_codec_dec *d)
{
    return d->info;
}

int tt_codec_dec_rate(const struct tt_codec_dec *d)
{
    return d->rate;
}

int tt_codec_decode(struct tt_codec_dec *d, const uint8_t *payload, size_t len, int16_t *pcm,
                    size_t cap, size_t *n)
{
    *n = 0;
    if (len > TT_CODEC_MAX_PAYLOAD)
        return EMSGSIZE;
    /* Samples per byte: two for G.722 at 16 kHz (a byte codes a pair), else one. */
    size_t want = d->rate == 16000 ? 2 * len : len;
    if (cap < want)
        return ENOBUFS;
    switch (d->info->id) {
    case TT_CODEC_PCMU:
        for (size_t i = 0; i < len; i++)
            pcm[i] = ulaw_to_linear(payload[i]);
        break;
    case TT_CODEC_PCMA:
        for (size_t i = 0; i < len; i++)
            pcm[i] = alaw_to_linear(payload[i]);
        break;
    case TT_CODEC_G722:
        if (len > 0)
            want = (size_t)g722_decode(d->g722, pcm, payload, (int)len);
        break;
    default:
        return EINVAL;
    }
    *n = want;
    return 0;
}
