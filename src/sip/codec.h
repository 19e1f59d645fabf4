/*
 * The audio codecs of a SIP call: G.711 (PCMU and PCMA) and G.722 at 64 kbit/s, through
 * spandsp. Pure: 16-bit samples in, RTP payload bytes out, and back; no sockets, no clock.
 *
 * A small table says what tonetree speaks and what each codec means for the rest of the call:
 * the name and static payload type SDP uses, the RTP clock that timestamps count in, the rate
 * the engine renders its prompts at, and the size of a 20 ms packet. tt_codec_choose picks one
 * of them from a caller's offer. A call holds one encoder (what it sends) and one decoder
 * (what it hears, for the in-band DTMF receiver), made and freed with the call: G.722 keeps
 * state from packet to packet, so each direction of each call has its own.
 *
 * The trap of G.722 (RFC 3551 4.5.2): it samples at 16 kHz, but SDP writes "G722/8000" and its
 * RTP timestamps count at 8000 per second, an error in RFC 1890 kept for compatibility. So the
 * table has two rates, clock_rate and audio_rate, and a packet's timestamp step is
 * frame_ticks (160), not frame_samples (320). Whatever paces packets uses clock_rate.
 */
#ifndef TT_CODEC_H
#define TT_CODEC_H

#include <stddef.h>
#include <stdint.h>

enum tt_codec_id {
    TT_CODEC_PCMU, /* G.711 mu-law (North America, Japan) */
    TT_CODEC_PCMA, /* G.711 A-law (the rest of the world) */
    TT_CODEC_G722, /* G.722 at 64 kbit/s: 50 Hz to 7 kHz, "HD voice" */
    TT_CODEC_COUNT
};

/* Every packet tonetree sends holds 20 ms: RFC 3551 4.2's default packetization interval,
 * the one every telephone takes without an a=ptime. */
#define TT_CODEC_PTIME_MS 20

/* The largest payload tt_codec_decode takes: a 1500-byte Ethernet packet less the IPv4
 * (20), UDP (8) and RTP (12) headers. A larger one could only come IP-fragmented, which no
 * telephone does for voice; anything that large is refused rather than trusted. At 8000
 * bytes a second it is 182 ms of G.711. */
#define TT_CODEC_MAX_PAYLOAD 1460
/* The most samples one payload decodes to: G.722 at 16 kHz gives two per byte. */
#define TT_CODEC_MAX_DECODED (2 * TT_CODEC_MAX_PAYLOAD)

/* What a codec is, for SDP, RTP and the engine. */
struct tt_codec_info {
    enum tt_codec_id id;
    const char *name;       /* the rtpmap encoding name: "PCMU", "PCMA", "G722" */
    uint8_t pt;             /* static payload type (RFC 3551 table 4): 0, 8, 9 */
    uint32_t clock_rate;    /* RTP clock, as SDP's rtpmap states it: 8000 for all three */
    uint32_t audio_rate;    /* samples per second the codec takes and gives: 8000 or 16000 */
    unsigned frame_samples; /* audio samples in a 20 ms packet: audio_rate / 50 */
    unsigned frame_bytes;   /* payload bytes of a 20 ms packet: 64 kbit/s / 8 / 50 = 160 */
    unsigned frame_ticks;   /* RTP timestamp step per 20 ms packet: clock_rate / 50 = 160 */
};

/** The table entry of a codec; NULL for an id that is not one. */
const struct tt_codec_info *tt_codec_get(enum tt_codec_id id);

/**
 * The codec an SDP rtpmap names: encoding name, clock rate and channels. The name is
 * compared without case: it is a media subtype (RFC 4855 3), and those are case-insensitive
 * (RFC 6838 4.2), so "pcmu" is PCMU. "G722/16000" is not G.722 here: RFC 3551 says
 * 8000, and a peer that writes 16000 would count its timestamps in an unknown clock.
 * @param channels  the rtpmap's encoding parameter; 0 when it has none (which means 1)
 * @return the table entry, or NULL when tonetree does not speak it
 */
const struct tt_codec_info *tt_codec_find(const char *name, uint32_t clock_rate,
                                          unsigned channels);

/* One format of an SDP offer's audio m= line, as the SDP parser gave it. */
struct tt_codec_offer {
    int pt;              /* the payload type the caller uses for it, 0-127 */
    const char *name;    /* its rtpmap encoding name; NULL when the offer has no rtpmap for a
                          * static type (allowed: RFC 4566 6, rtpmap), which then means what
                          * RFC 3551 table 4 says */
    uint32_t clock_rate; /* its rtpmap clock rate (unused when name is NULL) */
    unsigned channels;   /* its rtpmap channels; 0 when not given (1) */
};

/**
 * The codec tonetree answers an offer with: G.722 when offered, else PCMU, else PCMA, whatever
 * order the caller listed them in. Our order over theirs: the caller's order is a preference
 * (RFC 3264 5.1), not a requirement, and a listener who cannot see the menu hears every word
 * better in wideband (50-7000 Hz instead of 300-3400 Hz); between the two G.711 laws nothing
 * is lost either way, so the law of the phone network the service most often sits on first.
 * @param offers   the offer's formats in the order of its m= line; telephone-event and any
 *                 format we do not speak are passed over
 * @param chosen   the index into offers of the one chosen: send with offers[*chosen].pt (a
 *                 caller may give G.722 a dynamic type), and tt_codec_match names the codec
 * @return 0, or ENOENT when the offer has none of ours (answer 488 Not Acceptable Here),
 *         EINVAL for a NULL argument
 */
int tt_codec_choose(const struct tt_codec_offer *offers, size_t n, size_t *chosen);

/** The codec one offered format is, or NULL when it is none of ours. */
const struct tt_codec_info *tt_codec_match(const struct tt_codec_offer *offer);

/* One call's encoder (what it sends) and decoder (what it hears). */
struct tt_codec_enc;
struct tt_codec_dec;

/**
 * Make an encoder.
 * @return 0 (*out is the encoder), EINVAL for an unknown codec, ENOMEM
 */
int tt_codec_enc_new(enum tt_codec_id id, struct tt_codec_enc **out);
/** Free an encoder; NULL is allowed. */
void tt_codec_enc_free(struct tt_codec_enc *e);
const struct tt_codec_info *tt_codec_enc_info(const struct tt_codec_enc *e);

/**
 * Encode samples at the codec's audio_rate into payload bytes: a packet's worth
 * (frame_samples) is the usual call, any count is taken (an even one for G.722, which codes
 * samples in pairs). G.722's input is held within +-TT_CODEC_G722_LIMIT first (see codec.c).
 * @param out  room for cap bytes: n for G.711, n / 2 for G.722
 * @param len  the bytes written
 * @return 0, EINVAL for an odd count to G.722, ENOBUFS when cap is too small
 */
int tt_codec_encode(struct tt_codec_enc *e, const int16_t *pcm, size_t n, uint8_t *out,
                    size_t cap, size_t *len);

/* G.722's input is clipped to this (-0.77 dBFS); codec.c says why. */
#define TT_CODEC_G722_LIMIT 30000

/**
 * Make a decoder.
 * @param rate  the rate to decode to: 0 for the codec's audio_rate; for G.722 also 8000,
 *              which decodes its lower band alone (0-4 kHz, where all eight DTMF tones are)
 *              for half the work in the decoder and in the DTMF receiver after it
 * @return 0 (*out is the decoder), EINVAL for an unknown codec or a rate it cannot give,
 *         ENOMEM
 */
int tt_codec_dec_new(enum tt_codec_id id, int rate, struct tt_codec_dec **out);
/** Free a decoder; NULL is allowed. */
void tt_codec_dec_free(struct tt_codec_dec *d);
const struct tt_codec_info *tt_codec_dec_info(const struct tt_codec_dec *d);
/** The rate the decoder gives its samples at. */
int tt_codec_dec_rate(const struct tt_codec_dec *d);

/**
 * Decode one payload as it came, whatever its length (10, 20, 30 ms or other), into samples
 * at tt_codec_dec_rate. Packets of one stream go through in order; a lost one is simply not
 * given (G.722's state carries on from the last it saw).
 * @param pcm  room for cap samples: len for G.711 and for G.722 at 8000, 2 len for G.722 at
 *             16000 (TT_CODEC_MAX_DECODED is always enough)
 * @param n    the samples written
 * @return 0, EMSGSIZE for a payload over TT_CODEC_MAX_PAYLOAD, ENOBUFS when cap is too small
 */
int tt_codec_decode(struct tt_codec_dec *d, const uint8_t *payload, size_t len, int16_t *pcm,
                    size_t cap, size_t *n);

#endif
