/*
 * The codecs of a SIP call: what the table says about each (and G.722's two rates), which
 * codec an offer gets, G.711's code words against the standard, how clean a tone comes back
 * through each codec, payloads of any length, and DTMF that still reaches the receiver after
 * a trip through PCMU, PCMA and G.722.
 *
 * The test tone is 1020 Hz, not 1000: at 8 kHz a 1000 Hz sine repeats every 8 samples, so
 * G.711 quantizes the same 8 values over and over and its "noise" is whatever those 8
 * errors happen to be (measured with mu-law at amplitudes from 7200 to 32767: anywhere from
 * 39 to 57 dB). 1020 Hz repeats only every 400 samples and visits the whole quantizer;
 * telephone test sets use 1004 or 1020 Hz for this reason.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsp/dtmf.h"
#include "sip/codec.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define TEST_HZ 1020.0

/* ---- helpers ---- */

static struct tt_codec_enc *enc_new(enum tt_codec_id id)
{
    struct tt_codec_enc *e;
    assert_int_equal(tt_codec_enc_new(id, &e), 0);
    return e;
}

static struct tt_codec_dec *dec_new(enum tt_codec_id id, int rate)
{
    struct tt_codec_dec *d;
    assert_int_equal(tt_codec_dec_new(id, rate, &d), 0);
    return d;
}

/* Send pcm through a codec as 20 ms packets, as a call would, and decode each packet on the
 * other side. Returns the decoded samples (n_out of them; caller frees). */
static int16_t *round_trip(enum tt_codec_id id, int dec_rate, const int16_t *pcm, size_t n,
                           size_t *n_out)
{
    const struct tt_codec_info *c = tt_codec_get(id);
    struct tt_codec_enc *e = enc_new(id);
    struct tt_codec_dec *d = dec_new(id, dec_rate);
    int16_t *out = malloc((n + 1) * sizeof(*out));
    assert_non_null(out);
    size_t got = 0;
    for (size_t i = 0; i + c->frame_samples <= n; i += c->frame_samples) {
        uint8_t payload[TT_CODEC_MAX_PAYLOAD];
        size_t len, k;
        assert_int_equal(tt_codec_encode(e, pcm + i, c->frame_samples, payload,
                                         sizeof(payload), &len), 0);
        assert_int_equal(len, c->frame_bytes);
        assert_int_equal(tt_codec_decode(d, payload, len, out + got, n + 1 - got, &k), 0);
        got += k;
    }
    tt_codec_enc_free(e);
    tt_codec_dec_free(d);
    *n_out = got;
    return out;
}

static int16_t *sine(int rate, double amplitude, size_t n)
{
    int16_t *x = malloc(n * sizeof(*x));
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        double v = amplitude * sin(2.0 * M_PI * TEST_HZ * (double)i / rate + 0.3);
        x[i] = v >= 32767 ? 32767 : v <= -32768 ? -32768 : (int16_t)lrint(v);
    }
    return x;
}

/* Signal to noise of a tone at TEST_HZ: the least-squares fit of a sine and cosine at that
 * frequency (and a constant) is the signal, what is left is the noise. Fitting, rather than
 * subtracting the input, leaves out the codec's delay and gain, which are not noise. */
static double snr_db(const int16_t *y, size_t n, int rate)
{
    double a[3][3] = {{0}}, r[3] = {0};
    for (size_t i = 0; i < n; i++) {
        double w = 2.0 * M_PI * TEST_HZ * (double)i / rate;
        double b[3] = {sin(w), cos(w), 1.0};
        for (int j = 0; j < 3; j++) {
            r[j] += b[j] * y[i];
            for (int k = 0; k < 3; k++)
                a[j][k] += b[j] * b[k];
        }
    }
    for (int c = 0; c < 3; c++) /* Gaussian elimination: the matrix is positive definite */
        for (int j = c + 1; j < 3; j++) {
            double m = a[j][c] / a[c][c];
            for (int k = 0; k < 3; k++)
                a[j][k] -= m * a[c][k];
            r[j] -= m * r[c];
        }
    double x[3];
    for (int j = 2; j >= 0; j--) {
        double s = r[j];
        for (int k = j + 1; k < 3; k++)
            s -= a[j][k] * x[k];
        x[j] = s / a[j][j];
    }
    double sig = 0, noise = 0;
    for (size_t i = 0; i < n; i++) {
        double w = 2.0 * M_PI * TEST_HZ * (double)i / rate;
        double fit = x[0] * sin(w) + x[1] * cos(w);
        double e = y[i] - fit - x[2];
        sig += fit * fit;
        noise += e * e;
    }
    return 10.0 * log10(sig / noise);
}

/* One second of the tone at `amplitude` through the codec; the SNR of what came back, its
 * first 100 ms left out (G.722's predictors adapt from silence). */
static double codec_snr(enum tt_codec_id id, int dec_rate, double amplitude)
{
    const struct tt_codec_info *c = tt_codec_get(id);
    size_t n = c->audio_rate, got;
    int16_t *x = sine((int)c->audio_rate, amplitude, n);
    int16_t *y = round_trip(id, dec_rate, x, n, &got);
    size_t skip = got / 10;
    double s = snr_db(y + skip, got - skip, dec_rate ? dec_rate : (int)c->audio_rate);
    free(x);
    free(y);
    return s;
}

/* ---- the table ---- */

static void the_table_gives_each_codec_its_sdp_name_payload_type_and_packet_sizes(void **state)
{
    (void)state;
    const struct tt_codec_info *u = tt_codec_get(TT_CODEC_PCMU);
    const struct tt_codec_info *a = tt_codec_get(TT_CODEC_PCMA);
    const struct tt_codec_info *g = tt_codec_get(TT_CODEC_G722);
    assert_string_equal(u->name, "PCMU");
    assert_string_equal(a->name, "PCMA");
    assert_string_equal(g->name, "G722");
    assert_int_equal(u->pt, 0);
    assert_int_equal(a->pt, 8);
    assert_int_equal(g->pt, 9);
    /* G.711: 8000 samples a second of one byte each; 20 ms is 160 of both. */
    for (int i = 0; i < 2; i++) {
        const struct tt_codec_info *c = i ? a : u;
        assert_int_equal(c->clock_rate, 8000);
        assert_int_equal(c->audio_rate, 8000);
        assert_int_equal(c->frame_samples, 160);
        assert_int_equal(c->frame_bytes, 160);
        assert_int_equal(c->frame_ticks, 160);
    }
    assert_null(tt_codec_get(TT_CODEC_COUNT));
}

static void g722_samples_at_16_khz_but_its_rtp_clock_and_sdp_rate_are_8000(void **state)
{
    (void)state;
    const struct tt_codec_info *g = tt_codec_get(TT_CODEC_G722);
    assert_int_equal(g->audio_rate, 16000);
    assert_int_equal(g->clock_rate, 8000);
    assert_int_equal(g->frame_samples, 320); /* 20 ms of 16 kHz audio */
    assert_int_equal(g->frame_bytes, 160);   /* 64 kbit/s */
    assert_int_equal(g->frame_ticks, 160);   /* the timestamp moves by 20 ms of 8000 Hz */
    /* and SDP's "G722/8000" is G.722, "G722/16000" is not */
    assert_ptr_equal(tt_codec_find("G722", 8000, 0), g);
    assert_null(tt_codec_find("G722", 16000, 0));
    /* a packet really holds 320 samples and decodes back to 320 */
    struct tt_codec_enc *e = enc_new(TT_CODEC_G722);
    struct tt_codec_dec *d = dec_new(TT_CODEC_G722, 0);
    int16_t pcm[320] = {0}, back[TT_CODEC_MAX_DECODED];
    uint8_t payload[160];
    size_t len, n;
    assert_int_equal(tt_codec_encode(e, pcm, 320, payload, sizeof(payload), &len), 0);
    assert_int_equal(len, 160);
    assert_int_equal(tt_codec_decode(d, payload, len, back, TT_CODEC_MAX_DECODED, &n), 0);
    assert_int_equal(n, 320);
    assert_int_equal(tt_codec_dec_rate(d), 16000);
    tt_codec_enc_free(e);
    tt_codec_dec_free(d);
}

static void rtpmap_names_match_in_any_case_and_only_at_their_rate_in_mono(void **state)
{
    (void)state;
    assert_ptr_equal(tt_codec_find("pcmu", 8000, 0), tt_codec_get(TT_CODEC_PCMU));
    assert_ptr_equal(tt_codec_find("Pcma", 8000, 1), tt_codec_get(TT_CODEC_PCMA));
    assert_ptr_equal(tt_codec_find("g722", 8000, 1), tt_codec_get(TT_CODEC_G722));
    assert_null(tt_codec_find("PCMU", 16000, 0));
    assert_null(tt_codec_find("PCMU", 8000, 2)); /* stereo */
    assert_null(tt_codec_find("opus", 48000, 2));
    assert_null(tt_codec_find("PCM", 8000, 0));
    assert_null(tt_codec_find(NULL, 8000, 0));
}

/* ---- the choice ---- */

#define OFFER(p, n, r) {.pt = (p), .name = (n), .clock_rate = (r)}

static int choose(const struct tt_codec_offer *o, size_t n, size_t *at)
{
    *at = (size_t)-1;
    return tt_codec_choose(o, n, at);
}

static void an_offer_gets_g722_first_then_pcmu_then_pcma_whatever_its_order(void **state)
{
    (void)state;
    size_t at;
    const struct tt_codec_offer all[] = {OFFER(8, "PCMA", 8000), OFFER(0, "PCMU", 8000),
                                         OFFER(101, "telephone-event", 8000),
                                         OFFER(9, "G722", 8000)};
    assert_int_equal(choose(all, 4, &at), 0);
    assert_int_equal(at, 3);
    assert_int_equal(choose(all, 3, &at), 0); /* no G.722: PCMU, though PCMA came first */
    assert_int_equal(at, 1);
    assert_int_equal(choose(all, 1, &at), 0); /* PCMA alone */
    assert_int_equal(at, 0);

    /* A caller's own payload type for G.722 is what we send with. */
    const struct tt_codec_offer dyn[] = {OFFER(0, "PCMU", 8000), OFFER(96, "g722", 8000)};
    assert_int_equal(choose(dyn, 2, &at), 0);
    assert_int_equal(dyn[at].pt, 96);
    assert_ptr_equal(tt_codec_match(&dyn[at]), tt_codec_get(TT_CODEC_G722));

    /* Static types without an rtpmap line mean what RFC 3551 says. */
    const struct tt_codec_offer bare[] = {OFFER(8, NULL, 0), OFFER(0, NULL, 0),
                                          OFFER(18, NULL, 0)};
    assert_int_equal(choose(bare, 3, &at), 0);
    assert_int_equal(at, 1);
    const struct tt_codec_offer bare9[] = {OFFER(0, NULL, 0), OFFER(9, "", 0)};
    assert_int_equal(choose(bare9, 2, &at), 0);
    assert_int_equal(at, 1);
}

static void an_offer_with_none_of_ours_is_refused(void **state)
{
    (void)state;
    size_t at;
    const struct tt_codec_offer none[] = {OFFER(111, "opus", 48000),
                                          OFFER(9, "G722", 16000), /* the wrong clock */
                                          OFFER(96, NULL, 0),      /* dynamic, no rtpmap */
                                          OFFER(101, "telephone-event", 8000)};
    assert_int_equal(choose(none, 4, &at), ENOENT);
    assert_int_equal(choose(none, 0, &at), ENOENT);
    assert_int_equal(tt_codec_choose(NULL, 0, &at), ENOENT);
    assert_int_equal(tt_codec_choose(NULL, 1, &at), EINVAL);
    assert_int_equal(tt_codec_choose(none, 1, NULL), EINVAL);
}

/* ---- G.711's code words (ITU-T G.711 tables 1a and 2a, in 16-bit linear: mu-law's 14-bit
 * values times 4, A-law's 13-bit values times 8) ---- */

static uint8_t ulaw(int16_t x)
{
    struct tt_codec_enc *e = enc_new(TT_CODEC_PCMU);
    uint8_t b;
    size_t len;
    assert_int_equal(tt_codec_encode(e, &x, 1, &b, 1, &len), 0);
    tt_codec_enc_free(e);
    return b;
}

static uint8_t alaw(int16_t x)
{
    struct tt_codec_enc *e = enc_new(TT_CODEC_PCMA);
    uint8_t b;
    size_t len;
    assert_int_equal(tt_codec_encode(e, &x, 1, &b, 1, &len), 0);
    tt_codec_enc_free(e);
    return b;
}

static int16_t from(enum tt_codec_id id, uint8_t b)
{
    struct tt_codec_dec *d = dec_new(id, 0);
    int16_t x;
    size_t n;
    assert_int_equal(tt_codec_decode(d, &b, 1, &x, 1, &n), 0);
    assert_int_equal(n, 1);
    tt_codec_dec_free(d);
    return x;
}

static void g711_code_words_are_the_standards(void **state)
{
    (void)state;
    /* Silence: mu-law's all-ones word (+0; 0x7F is -0), A-law's 0xD5 (its smallest positive
     * word, 0x80, with the even bits inverted as G.711 sends it; 0x55 the negative one). */
    assert_int_equal(ulaw(0), 0xFF);
    assert_int_equal(alaw(0), 0xD5);
    assert_int_equal(from(TT_CODEC_PCMU, 0xFF), 0);
    assert_int_equal(from(TT_CODEC_PCMU, 0x7F), 0);
    assert_int_equal(from(TT_CODEC_PCMA, 0xD5), 8);   /* 13-bit 1, the first step's middle */
    assert_int_equal(from(TT_CODEC_PCMA, 0x55), -8);
    /* Full scale: the top words, and their values, mu-law 8031 (x4), A-law 4032 (x8). */
    assert_int_equal(ulaw(32767), 0x80);
    assert_int_equal(ulaw(-32768), 0x00);
    assert_int_equal(alaw(32767), 0xAA);
    assert_int_equal(alaw(-32768), 0x2A);
    assert_int_equal(from(TT_CODEC_PCMU, 0x80), 32124);
    assert_int_equal(from(TT_CODEC_PCMU, 0x00), -32124);
    assert_int_equal(from(TT_CODEC_PCMA, 0xAA), 32256);
    assert_int_equal(from(TT_CODEC_PCMA, 0x2A), -32256);
    /* And every word decodes to a value that encodes back to the same word. */
    for (int b = 0; b < 256; b++) {
        if (b != 0x7F) /* -0 encodes as +0 */
            assert_int_equal(ulaw(from(TT_CODEC_PCMU, (uint8_t)b)), b);
        assert_int_equal(alaw(from(TT_CODEC_PCMA, (uint8_t)b)), b);
    }
}

/* ---- how clean a tone comes back ---- */

/*
 * G.711 at full scale. A log-law quantizer's noise follows the signal, so its SNR hardly
 * depends on the level: for a sine in the logarithmic segments it is about
 * 6.02 x 8 + 4.77 - 20 log10(ln(1 + 255)) = 38.1 dB for mu-law (A-law: 20 log10(1 + ln 87.6),
 * 38.2 dB). Bounded from below without the formula: the top segment, where a full-scale
 * sine spends most of its time, has steps of 1024 (16-bit scale) in both laws, noise
 * 1024^2 / 12, and a sine of amplitude A has power A^2 / 2; at A = 32767 that is 37.9 dB if
 * every sample fell in the top segment. The lower segments' smaller steps only add to it.
 * Measured: 38.5 dB (mu-law), 39.1 dB (A-law). Bound: 37 dB, 0.9 dB under the top segment's
 * figure for the few samples where a full-scale sine overloads mu-law (above 32636).
 */
#define G711_SNR_MIN_DB 37.0

/*
 * G.722 has no such formula (ADPCM's noise depends on how well its predictors follow the
 * signal). Measured with spandsp 0.0.6 at 1020 Hz: 48.0 dB at -1 dBFS (the prompts' true-peak
 * ceiling), 47.9 dB at 0 dBm0. Bound: 45 dB. The codec is bit-exact, so the figure does not
 * move from run to run; the 3 dB are for another spandsp build's rounding.
 */
#define G722_SNR_MIN_DB 45.0
#define MINUS_1_DBFS 29204.0 /* 32767 x 10^(-1/20) */

static void a_full_scale_tone_comes_back_through_g711_above_37_db(void **state)
{
    (void)state;
    double u = codec_snr(TT_CODEC_PCMU, 0, 32767), a = codec_snr(TT_CODEC_PCMA, 0, 32767);
    print_message("G.711 at full scale: PCMU %.2f dB, PCMA %.2f dB\n", u, a);
    assert_true(u > G711_SNR_MIN_DB);
    assert_true(a > G711_SNR_MIN_DB);
    /* and a quieter one too, at 0 dBm0: the law keeps the noise in step with the level */
    double u0 = codec_snr(TT_CODEC_PCMU, 0, tt_dtmf_dbm0_to_amplitude(0));
    double a0 = codec_snr(TT_CODEC_PCMA, 0, tt_dtmf_dbm0_to_amplitude(0));
    print_message("G.711 at 0 dBm0: PCMU %.2f dB, PCMA %.2f dB\n", u0, a0);
    /* 0 dBm0 is 3.14 dB under full scale: the top segment's bound falls by as much */
    assert_true(u0 > G711_SNR_MIN_DB - TT_DTMF_DBM0_MAX_SINE);
    assert_true(a0 > G711_SNR_MIN_DB - TT_DTMF_DBM0_MAX_SINE);
}

static void a_loud_tone_comes_back_through_g722_above_45_db(void **state)
{
    (void)state;
    double g = codec_snr(TT_CODEC_G722, 0, MINUS_1_DBFS);
    double g0 = codec_snr(TT_CODEC_G722, 0, tt_dtmf_dbm0_to_amplitude(0));
    print_message("G.722: %.2f dB at -1 dBFS, %.2f dB at 0 dBm0\n", g, g0);
    assert_true(g > G722_SNR_MIN_DB);
    assert_true(g0 > G722_SNR_MIN_DB);
}

/*
 * At full scale spandsp's decoder wraps its overshoots round to the other sign (codec.c),
 * which took this SNR to 7 dB before the encoder clipped its input. Clipped at 30000, the
 * sine's tops are cut (a sine clipped to 91.6% of its amplitude, with no codec at all, has an
 * SNR of 29.1 dB by the same measure; through G.722, 29.6 dB) but nothing wraps: every loud
 * sample keeps its sign. Bound: 26 dB, the clipping's own figure less 3 dB.
 */
static void a_full_scale_tone_through_g722_is_clipped_never_wrapped(void **state)
{
    (void)state;
    size_t n = 16000, got;
    int16_t *x = sine(16000, 32767, n);
    int16_t *y = round_trip(TT_CODEC_G722, 0, x, n, &got);
    assert_int_equal(got, n);
    /* The codec's delay, found as the lag of the best match. */
    size_t lag = 0;
    double best = -HUGE_VAL;
    for (size_t d = 0; d < 64; d++) {
        double c = 0;
        for (size_t i = 1600; i < n - 64; i++)
            c += (double)x[i] * y[i + d];
        if (c > best) {
            best = c;
            lag = d;
        }
    }
    for (size_t i = 1600; i < n - 64; i++)
        if (abs(x[i]) > 16000)
            assert_true((x[i] > 0) == (y[i + lag] > 0));
    double s = snr_db(y + 1600, got - 1600, 16000);
    print_message("G.722 at full scale, clipped: %.2f dB (delay %zu samples)\n", s, lag);
    assert_true(s > 26.0);
    free(x);
    free(y);
}

/* ---- payloads of any length ---- */

static void payloads_of_10_20_and_30_ms_decode_to_the_same_samples(void **state)
{
    (void)state;
    const enum tt_codec_id ids[] = {TT_CODEC_PCMU, TT_CODEC_PCMA, TT_CODEC_G722};
    for (size_t c = 0; c < 3; c++) {
        const struct tt_codec_info *info = tt_codec_get(ids[c]);
        /* 120 ms: a whole number of 10, 20 and 30 ms payloads */
        size_t n = info->audio_rate * 120 / 1000, bytes = n * info->frame_bytes /
                                                          info->frame_samples;
        int16_t *x = sine((int)info->audio_rate, 8000, n);
        uint8_t *payload = malloc(bytes);
        assert_non_null(payload);
        struct tt_codec_enc *e = enc_new(ids[c]);
        size_t len;
        assert_int_equal(tt_codec_encode(e, x, n, payload, bytes, &len), 0);
        assert_int_equal(len, bytes);
        tt_codec_enc_free(e);

        int16_t *whole = malloc(n * sizeof(*whole)), *parts = malloc(n * sizeof(*parts));
        assert_non_null(whole);
        assert_non_null(parts);
        size_t k;
        struct tt_codec_dec *d = dec_new(ids[c], 0);
        assert_int_equal(tt_codec_decode(d, payload, bytes, whole, n, &k), 0);
        assert_int_equal(k, n);
        tt_codec_dec_free(d);
        for (int ms = 10; ms <= 30; ms += 10) {
            size_t step = bytes * ms / 120, got = 0;
            d = dec_new(ids[c], 0);
            for (size_t at = 0; at < bytes; at += step) {
                assert_int_equal(tt_codec_decode(d, payload + at, step, parts + got, n - got,
                                                 &k), 0);
                assert_int_equal(k, n * ms / 120);
                got += k;
            }
            assert_int_equal(got, n);
            assert_memory_equal(parts, whole, n * sizeof(*parts));
            tt_codec_dec_free(d);
        }
        free(x);
        free(payload);
        free(whole);
        free(parts);
    }
}

static void oversized_payloads_short_buffers_and_odd_g722_counts_are_refused(void **state)
{
    (void)state;
    static uint8_t big[TT_CODEC_MAX_PAYLOAD + 1];
    static int16_t pcm[TT_CODEC_MAX_DECODED + 2];
    size_t n = 99, len = 99;
    struct tt_codec_dec *d = dec_new(TT_CODEC_G722, 0);
    assert_int_equal(tt_codec_decode(d, big, sizeof(big), pcm, TT_CODEC_MAX_DECODED + 2, &n),
                     EMSGSIZE);
    assert_int_equal(n, 0);
    assert_int_equal(tt_codec_decode(d, big, TT_CODEC_MAX_PAYLOAD, pcm, TT_CODEC_MAX_DECODED,
                                     &n), 0);
    assert_int_equal(n, TT_CODEC_MAX_DECODED);
    assert_int_equal(tt_codec_decode(d, big, 160, pcm, 319, &n), ENOBUFS);
    assert_int_equal(tt_codec_decode(d, big, 0, pcm, 0, &n), 0);
    assert_int_equal(n, 0);
    tt_codec_dec_free(d);

    d = dec_new(TT_CODEC_PCMU, 0);
    assert_int_equal(tt_codec_decode(d, big, TT_CODEC_MAX_PAYLOAD, pcm, TT_CODEC_MAX_PAYLOAD,
                                     &n), 0);
    assert_int_equal(n, TT_CODEC_MAX_PAYLOAD);
    assert_int_equal(tt_codec_decode(d, big, 160, pcm, 159, &n), ENOBUFS);
    tt_codec_dec_free(d);

    struct tt_codec_enc *e = enc_new(TT_CODEC_G722);
    assert_int_equal(tt_codec_encode(e, pcm, 319, big, sizeof(big), &len), EINVAL);
    assert_int_equal(tt_codec_encode(e, pcm, 320, big, 159, &len), ENOBUFS);
    assert_int_equal(len, 0);
    tt_codec_enc_free(e);
    e = enc_new(TT_CODEC_PCMA);
    assert_int_equal(tt_codec_encode(e, pcm, 160, big, 159, &len), ENOBUFS);
    tt_codec_enc_free(e);

    struct tt_codec_enc *eo;
    struct tt_codec_dec *dd;
    assert_int_equal(tt_codec_enc_new(TT_CODEC_COUNT, &eo), EINVAL);
    assert_null(eo);
    assert_int_equal(tt_codec_dec_new(TT_CODEC_COUNT, 0, &dd), EINVAL);
    assert_int_equal(tt_codec_dec_new(TT_CODEC_PCMU, 16000, &dd), EINVAL);
    assert_int_equal(tt_codec_dec_new(TT_CODEC_G722, 44100, &dd), EINVAL);
    assert_null(dd);
    tt_codec_enc_free(NULL);
    tt_codec_dec_free(NULL);
}

/* ---- DTMF through the codecs ---- */

static const char all_digits[] = "123A456B789C*0#D";

struct heard {
    char d[64];
    int n;
};

static void on_digit(void *user, char digit, uint64_t start, double level)
{
    (void)start;
    (void)level;
    struct heard *h = user;
    if (h->n < (int)sizeof(h->d) - 1)
        h->d[h->n++] = digit;
    h->d[h->n] = '\0';
}

/*
 * All sixteen digits, each 50 ms of tone and 50 ms of silence (Q.24's shortest accepted
 * pause is 40 ms), encoded in 20 ms packets, decoded on the other side and given to the
 * project's receiver 20 ms at a time, as the SIP driver will. Levels per tone in dBm0.
 */
static void dtmf_through(enum tt_codec_id id, int dec_rate, double low, double high)
{
    const struct tt_codec_info *c = tt_codec_get(id);
    int rate = (int)c->audio_rate;
    size_t per = (size_t)rate / 10, lead = (size_t)rate / 10; /* 100 ms a digit, 100 ms lead */
    size_t n = lead + per * 16 + (size_t)rate / 5;
    n -= n % c->frame_samples;
    int16_t *x = calloc(n, sizeof(*x));
    assert_non_null(x);
    for (int i = 0; i < 16; i++) {
        struct tt_dtmf_tone t = {.digit = all_digits[i], .low_dbm0 = low, .high_dbm0 = high,
                                 .low_phase = 0.7 * i, .high_phase = 1.3 * i};
        assert_int_equal(tt_dtmf_gen(x + lead + per * (size_t)i, per / 2, rate, &t), 0);
    }
    size_t got;
    int16_t *y = round_trip(id, dec_rate, x, n, &got);
    int out_rate = dec_rate ? dec_rate : rate;
    struct heard h = {0};
    struct tt_dtmf rx;
    assert_non_null(tt_dtmf_init(&rx, out_rate, on_digit, &h));
    size_t block = (size_t)out_rate / 50;
    for (size_t i = 0; i < got; i += block)
        tt_dtmf_process(&rx, y + i, got - i < block ? got - i : block);
    tt_dtmf_free(&rx);
    if (strcmp(h.d, all_digits))
        fail_msg("%s decoded at %d Hz, tones at %.0f/%.0f dBm0: heard \"%s\"", c->name,
                 out_rate, low, high, h.d);
    free(x);
    free(y);
}

/* At the usual level, at Q.24's weakest accepted (-26 dBm0 a tone), and with its largest
 * accepted twists (high group 8 dB under the low, and 4 dB over). */
static void dtmf_cases(enum tt_codec_id id, int dec_rate)
{
    dtmf_through(id, dec_rate, -10, -10);
    dtmf_through(id, dec_rate, -26, -26);
    dtmf_through(id, dec_rate, -18, -26);
    dtmf_through(id, dec_rate, -26, -22);
}

static void every_dtmf_digit_survives_pcmu_and_pcma_at_8_khz(void **state)
{
    (void)state;
    dtmf_cases(TT_CODEC_PCMU, 0);
    dtmf_cases(TT_CODEC_PCMA, 0);
}

static void every_dtmf_digit_survives_g722_at_16_khz_and_its_lower_band_at_8_khz(void **state)
{
    (void)state;
    dtmf_cases(TT_CODEC_G722, 0);
    dtmf_cases(TT_CODEC_G722, 8000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_table_gives_each_codec_its_sdp_name_payload_type_and_packet_sizes),
        cmocka_unit_test(g722_samples_at_16_khz_but_its_rtp_clock_and_sdp_rate_are_8000),
        cmocka_unit_test(rtpmap_names_match_in_any_case_and_only_at_their_rate_in_mono),
        cmocka_unit_test(an_offer_gets_g722_first_then_pcmu_then_pcma_whatever_its_order),
        cmocka_unit_test(an_offer_with_none_of_ours_is_refused),
        cmocka_unit_test(g711_code_words_are_the_standards),
        cmocka_unit_test(a_full_scale_tone_comes_back_through_g711_above_37_db),
        cmocka_unit_test(a_loud_tone_comes_back_through_g722_above_45_db),
        cmocka_unit_test(a_full_scale_tone_through_g722_is_clipped_never_wrapped),
        cmocka_unit_test(payloads_of_10_20_and_30_ms_decode_to_the_same_samples),
        cmocka_unit_test(oversized_payloads_short_buffers_and_odd_g722_counts_are_refused),
        cmocka_unit_test(every_dtmf_digit_survives_pcmu_and_pcma_at_8_khz),
        cmocka_unit_test(every_dtmf_digit_survives_g722_at_16_khz_and_its_lower_band_at_8_khz),
    };
    return cmocka_run_group_tests_name("sip codec", tests, NULL, NULL);
}
