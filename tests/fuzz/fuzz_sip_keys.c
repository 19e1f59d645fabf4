/*
 * libFuzzer target for a SIP call's keys: the RFC 4733 receiver (sip/telev.h), the INFO body
 * parser (sip/info.h) and the merge (sip/keys.h), fed together as a call would feed them.
 *
 * The input is a stream of records, each led by one byte: its low two bits say what follows,
 * its high four bits how far the clock moves first (0 to 375 ms, in 25 ms steps):
 *   0  a telephone-event payload: timestamp (4 bytes), length (1 byte, up to 31), the bytes;
 *      bits 2-3 of the lead byte: how many more copies of it arrive at once (0-3)
 *   1  an RFC 2198 payload: timestamp (4), its telephone-event payload type (1), length (1),
 *      the bytes; copies as above
 *   2  a SIP INFO: content type (1 byte: one of the table below, or past it, that many
 *      bytes of its own), body length (1), the body
 *   3  an in-band tone: the key (1 byte: one of the sixteen, or past 223 the byte itself)
 * A record cut short by the end of the input is read as far as it goes.
 *
 * What must hold, besides no crash, leak or undefined behaviour:
 *  - every key out of any of them is one of 0-9 * # A-D, and an event's key is its code's;
 *  - copies of a payload that arrive together give no key and no end after the first;
 *  - no press ends more often than presses begin;
 *  - the INFO parser answers 0, EINVAL or ENOTSUP, and a key only with 0;
 *  - the merge counts every key at least as often as any one source reported it (a source's
 *    own repeats are never dropped) and never more often than all sources together did.
 *
 * The seeds in tests/fuzz/sip_keys/ are written in this format, one situation each: a whole
 * press with its end copies, a lost start, a repeat after lost ends, the timestamp wrap, a
 * long event in segments, packed events, RFC 2198, INFO bodies of both kinds, one press by
 * all three sources, tones, payloads too short.
 *
 * Build: make build/fuzz/fuzz_sip_keys; run: make fuzz (FUZZ_SIP_SECONDS=600 for longer).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "sip/info.h"
#include "sip/keys.h"
#include "sip/telev.h"

static const char valid[] = "0123456789*#ABCD";

static const char *const ctypes[] = {
    "application/dtmf-relay",
    "application/dtmf",
    "Application/DTMF-Relay; charset=utf-8",
    "application / dtmf",
    "application/sdp",
    "",
};
#define NCTYPES (sizeof(ctypes) / sizeof(ctypes[0]))

static uint32_t u32(struct fuzz_in *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | fuzz_byte(in);
    return v;
}

struct call {
    struct tt_telev rx;
    struct tt_keys keys;
    tt_ms now;
    uint64_t keys_told, ends_told; /* by the receiver, after a payload's first copy */
    uint64_t reports[TT_KEYS_NSRC][16];
    uint64_t counted[16];
};

static void offer(struct call *c, enum tt_keys_src src, int key)
{
    int err = tt_keys_offer(&c->keys, src, key, c->now);
    const char *k = key > 0 && key < 256 ? strchr(valid, key) : NULL;
    if (!k) {
        if (err != EINVAL)
            abort();
        return;
    }
    if (err != 0 && err != EALREADY)
        abort();
    size_t i = (size_t)(k - valid);
    c->reports[src][i]++;
    if (!err)
        c->counted[i]++;
    uint64_t all = 0;
    for (int s = 0; s < TT_KEYS_NSRC; s++) {
        if (c->reports[s][i] > c->counted[i])
            abort(); /* a source's report was taken as a copy of its own */
        all += c->reports[s][i];
    }
    if (c->counted[i] > all)
        abort();
}

static void on_note(void *user, const struct tt_telev_note *n)
{
    struct call *c = user;
    if (n->event > 15 || !n->key || n->key != tt_telev_key(n->event) ||
        n->volume_dbm0 > 0 || n->volume_dbm0 < -63)
        abort();
    if (n->what == TT_TELEV_KEY) {
        c->keys_told++;
        offer(c, TT_KEYS_RTP, n->key);
    } else {
        c->ends_told++;
    }
}

/* A payload and its copies: only the first may tell anything. */
static void payload(struct call *c, struct fuzz_in *in, uint8_t lead, bool red)
{
    uint32_t ts = u32(in);
    uint8_t pt = red ? fuzz_byte(in) : 0;
    size_t len;
    const uint8_t *p = fuzz_take(in, red ? fuzz_byte(in) : fuzz_byte(in) & 31u, &len);
    /* a copy of its own, so that ASan sees any read past its length */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, p, len);
    unsigned copies = (lead >> 2) & 3;
    for (unsigned i = 0; i <= copies; i++) {
        if (i == 1)
            c->keys_told = c->ends_told = 0;
        int err = red ? tt_telev_red(&c->rx, ts, pt, copy, len)
                      : tt_telev_packet(&c->rx, ts, copy, len);
        if (err != 0 && err != EBADMSG)
            abort();
    }
    if (copies && (c->keys_told || c->ends_told))
        abort();
    free(copy);
}

static void info(struct call *c, struct fuzz_in *in)
{
    uint8_t t = fuzz_byte(in);
    size_t clen;
    const char *ctype;
    if (t < NCTYPES) {
        ctype = ctypes[t];
        clen = strlen(ctype);
    } else {
        ctype = (const char *)fuzz_take(in, t - NCTYPES, &clen);
    }
    size_t blen;
    const uint8_t *b = fuzz_take(in, fuzz_byte(in), &blen);
    char *body = malloc(blen ? blen : 1);
    if (!body)
        abort();
    memcpy(body, b, blen);
    struct tt_info_key k;
    int err = tt_info_parse(clen ? ctype : NULL, clen, body, blen, &k);
    free(body);
    if (err == 0) {
        if (k.flash && k.key)
            abort();
        if (k.key)
            offer(c, TT_KEYS_INFO, k.key);
    } else if (err != EINVAL && err != ENOTSUP) {
        abort();
    } else if (k.key || k.flash || k.duration_ms) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct call c;
    memset(&c, 0, sizeof(c));
    if (tt_telev_init(&c.rx, on_note, &c))
        abort();
    tt_keys_init(&c.keys, 0);
    struct fuzz_in in = {data, size};
    while (in.n) {
        uint8_t lead = fuzz_byte(&in);
        c.now += (lead >> 4) * 25;
        switch (lead & 3) {
        case 0:
        case 1:
            payload(&c, &in, lead, lead & 1);
            break;
        case 2:
            info(&c, &in);
            break;
        default: {
            uint8_t b = fuzz_byte(&in);
            offer(&c, TT_KEYS_TONE, b < 224 ? valid[b % 16] : b);
        }
        }
    }
    if (c.rx.stats.ends > c.rx.stats.keys)
        abort();
    return 0;
}
