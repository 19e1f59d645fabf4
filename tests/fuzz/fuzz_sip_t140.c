/*
 * libFuzzer target for real-time text (sip/t140.h): a receiver fed any packets, and a sender
 * fed any text whose packets are checked against RFC 2198's layout here, by a reader of the
 * fuzzer's own, and carried to a second receiver through losses its redundancy covers.
 *
 * The input: a first byte of settings, then records, each led by one byte whose high four
 * bits move the clock on (0 to 555 ms, in 37 ms steps) and whose low two bits say what
 * follows:
 *   0  a packet for the first receiver: sequence number (2 bytes), payload type (1 byte:
 *      0 t140, 1 red, else that byte itself), length (1 byte, or 2 when bit 2 of the lead
 *      byte is set, for blocks longer than the receiver keeps), the payload
 *   1  the first receiver's wait is over at the clock, if it is: after it, no gap waits
 *      for a time already past
 *   2  text for the sender: length (1 byte), the bytes; bits 2-3 of the lead byte: how many
 *      of the next packets the second receiver loses (at most the generations in a row)
 *   3  bit 2: the sender drops what it has not sent; bit 3: the first receiver is reset
 * Settings: bit 0 red or plain t140, bits 1-2 generations, bit 3 the first receiver waits
 * (1 s) or not, bits 4-7 the cps (1, 2, 5, 10, ... from a table).
 *
 * What must hold, besides no crash, leak or undefined behaviour:
 *  - every receiver's text is strict UTF-8 with no control character but "\n" and 0x08, no
 *    BOM, no direction control and no LINE or PARAGRAPH SEPARATOR (t140.h's promise);
 *  - every packet of the sender: red headers of the t140 type, at most the generations, each
 *    redundant block the same bytes as the primary of that many packets before, its offset
 *    the difference of their timestamps and at most 16383, a generation left out only when
 *    it is older than that; a primary of at most 1023 bytes of whole UTF-8 characters, as
 *    many as it says and at most the pace (cps x interval); timestamps rising; the marker
 *    only on text, and on the first packet; at most 10 x cps characters in any 10 s;
 *  - the second receiver, which loses no more packets in a row than there are generations
 *    (and none before it has had a packet carrying all of them: until then it cannot tell
 *    the empty blocks an idle period leaves out from lost text, t140.h), marks no gap; and when every byte put was printable ASCII and nothing was dropped, it
 *    hands on exactly the text put, once the sender has gone idle.
 *
 * The seeds in tests/fuzz/sip_t140/ are written in this format, one situation each.
 *
 * Build: make build/fuzz/fuzz_sip_t140; run: make fuzz (FUZZ_SIP_SECONDS=600 for longer).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "fuzz_text.h"
#include "sip/t140.h"

#define PT 98
#define RED 100
#define TEXT_MAX 65536

static const unsigned cps_table[16] = {1,  2,  5,  10,  20,  30,  30,  30,
                                       30, 40, 60, 100, 200, 500, 999, 1000};

/* Strict UTF-8 (RFC 3629), whole characters; the number of characters, or -1. With `clean`,
 * also none of the characters the receiver promises never to hand on. */
static long check_utf8(const uint8_t *s, size_t n, bool clean)
{
    long chars = 0;
    for (size_t i = 0; i < n; chars++) {
        unsigned cp;
        size_t len = fuzz_utf8_next(s + i, n - i, &cp);
        if (!len)
            return -1;
        if (clean) {
            bool ok_control = cp == '\n' || cp == 0x08;
            if ((cp < 0x20 && !ok_control) || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFEFF ||
                cp == 0x2028 || cp == 0x2029 || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
                (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
                return -1;
        }
        i += len;
    }
    return chars;
}

struct sink {
    uint8_t *text;
    size_t n;
};

static void on_text(void *user, const char *s, size_t n)
{
    struct sink *k = user;
    if (!n || check_utf8((const uint8_t *)s, n, true) < 0)
        abort();
    if (k->n + n <= TEXT_MAX) {
        memcpy(k->text + k->n, s, n);
        k->n += n;
    }
}

/* A primary block sent, as the fuzzer remembers it. */
struct prim {
    uint32_t ts;
    size_t len;
    uint8_t data[TT_T140_BLOCK_MAX];
};

struct state {
    struct tt_t140_tx tx;
    struct tt_t140_rx rx1, rx2;
    struct sink s1, s2;
    struct tt_t140_tx_cfg cfg;
    tt_ms now;
    uint16_t seq2;
    struct prim last[TT_T140_MAX_GENERATIONS]; /* the last primaries, oldest first */
    unsigned nlast;
    bool sent_any;
    uint32_t last_ts;
    struct {
        tt_ms at;
        unsigned chars;
    } text_pk[4096];
    unsigned ntext_pk;
    unsigned lose;          /* packets the second receiver is still to lose */
    unsigned gens_last;     /* generations in the last packet made */
    bool saw_full;          /* the second receiver had a packet with every generation */
    unsigned lost_in_a_row;
    uint8_t *put;           /* all the text put, when printable ASCII */
    size_t nput;
    bool exact;             /* the second receiver must hand on exactly put */
};

static struct state st;
static uint8_t text1[TEXT_MAX], text2[TEXT_MAX], putbuf[TEXT_MAX];

/* Check one packet of the sender against RFC 2198 and RFC 4103, and remember its primary. */
static void check_packet(const uint8_t *p, const struct tt_t140_packet *k, tt_ms at)
{
    size_t h = 0, data = 0;
    unsigned gens = 0;
    size_t blen[TT_T140_MAX_GENERATIONS + 1];
    uint32_t off[TT_T140_MAX_GENERATIONS + 1];
    if (st.cfg.pt_red >= 0) {
        if (k->pt != RED)
            abort();
        for (;;) {
            if (h >= k->len || (p[h] & 0x7F) != PT)
                abort();
            if (!(p[h] & 0x80)) {
                h++;
                break;
            }
            if (gens == st.cfg.generations || k->len - h < 4)
                abort();
            off[gens] = (uint32_t)p[h + 1] << 6 | p[h + 2] >> 2;
            blen[gens] = (size_t)(p[h + 2] & 3) << 8 | p[h + 3];
            data += blen[gens];
            gens++;
            h += 4;
        }
        if (data > k->len - h || gens > st.nlast)
            abort();
        /* the i-th generation is the primary of gens - i packets before */
        size_t o = h;
        for (unsigned i = 0; i < gens; i++) {
            const struct prim *q = &st.last[st.nlast - gens + i];
            if (blen[i] != q->len || memcmp(p + o, q->data, q->len) ||
                off[i] != k->ts - q->ts || off[i] > TT_T140_OFFSET_MAX)
                abort();
            o += blen[i];
        }
        /* a generation is left out only when it is too old */
        if (gens < st.nlast && k->ts - st.last[st.nlast - gens - 1].ts <= TT_T140_OFFSET_MAX)
            abort();
        h = o;
    } else if (k->pt != PT) {
        abort();
    }
    size_t plen = k->len - h;
    long chars = check_utf8(p + h, plen, false);
    unsigned pace = (st.cfg.cps * st.cfg.interval_ms + 999) / 1000;
    if (plen > TT_T140_BLOCK_MAX || chars != (long)k->chars || k->chars > pace)
        abort();
    if (st.sent_any && (int32_t)(k->ts - st.last_ts) <= 0)
        abort();
    if ((k->marker && !k->chars) || (!st.sent_any && !k->marker))
        abort();
    if (k->ts != (uint32_t)at && !(st.sent_any && k->ts == st.last_ts + 1))
        abort();
    st.sent_any = true;
    st.last_ts = k->ts;
    st.gens_last = gens;

    if (k->chars) {
        /* RFC 4103 §6: at most 10 x cps characters in any 10 s, ends included */
        if (st.ntext_pk == sizeof(st.text_pk) / sizeof(st.text_pk[0]))
            abort(); /* more text packets in 10 s than the sender can make */
        st.text_pk[st.ntext_pk].at = at;
        st.text_pk[st.ntext_pk].chars = k->chars;
        st.ntext_pk++;
        unsigned sum = 0, keep = 0;
        for (unsigned i = st.ntext_pk; i-- > 0 && at - st.text_pk[i].at <= 10000; keep++)
            sum += st.text_pk[i].chars;
        /* forget what has left the window */
        memmove(&st.text_pk[0], &st.text_pk[st.ntext_pk - keep], keep * sizeof(st.text_pk[0]));
        st.ntext_pk = keep;
        if (sum > 10 * st.cfg.cps)
            abort();
    }
    if (st.cfg.generations) {
        if (st.nlast == st.cfg.generations) {
            memmove(&st.last[0], &st.last[1], (st.nlast - 1) * sizeof(st.last[0]));
            st.nlast--;
        }
        st.last[st.nlast].ts = k->ts;
        st.last[st.nlast].len = plen;
        memcpy(st.last[st.nlast].data, p + h, plen);
        st.nlast++;
    }
}

/* Make and check every packet due by the clock, and carry it to the second receiver. */
static void send_due(void)
{
    static uint8_t buf[TT_T140_PAYLOAD_MAX];
    tt_ms when;
    while (tt_t140_tx_due(&st.tx, st.now, &when) && when <= st.now) {
        struct tt_t140_packet k;
        if (tt_t140_tx_packet(&st.tx, st.now, buf, sizeof(buf), &k) || !k.made)
            abort();
        check_packet(buf, &k, st.now);
        uint16_t seq = st.seq2++;
        /* Losses start once the second receiver has had a packet with every generation:
         * before that it cannot tell the empty blocks left out after an idle period from
         * lost text (t140.h), and marks such a loss */
        if (st.lose && st.saw_full && st.lost_in_a_row < st.cfg.generations) {
            st.lose--;
            st.lost_in_a_row++;
            continue;
        }
        st.lost_in_a_row = 0;
        if (st.gens_last == st.cfg.generations)
            st.saw_full = true;
        if (tt_t140_rx_packet(&st.rx2, seq, k.pt, buf, k.len, st.now))
            abort();
        if (st.rx2.stats.gaps)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&st, 0, sizeof(st));
    st.s1.text = text1;
    st.s2.text = text2;
    st.put = putbuf;
    st.exact = true;
    st.now = 1000;
    struct fuzz_in in = {data, size};
    uint8_t set = fuzz_byte(&in);
    st.cfg.pt_t140 = PT;
    st.cfg.pt_red = set & 1 ? RED : -1;
    st.cfg.generations = (set >> 1) & 3;
    st.cfg.interval_ms = TT_T140_INTERVAL_MS;
    st.cfg.cps = cps_table[set >> 4];
    if (tt_t140_tx_init(&st.tx, &st.cfg))
        abort();
    st.cfg = st.tx.cfg; /* plain t140 has no generations */
    if (tt_t140_rx_init(&st.rx1, PT, RED, set & 8 ? TT_T140_WAIT_MS : 0, on_text, &st.s1) ||
        tt_t140_rx_init(&st.rx2, PT, st.cfg.pt_red, 0, on_text, &st.s2))
        abort();
    st.seq2 = (uint16_t)(65530 + set); /* the numbers wrap early in some inputs */

    while (in.n) {
        uint8_t lead = fuzz_byte(&in);
        st.now += (lead >> 4) * 37;
        switch (lead & 3) {
        case 0: {
            uint16_t seq = (uint16_t)(fuzz_byte(&in) << 8);
            seq |= fuzz_byte(&in);
            uint8_t t = fuzz_byte(&in);
            int pt = t == 0 ? PT : t == 1 ? RED : t;
            size_t len = fuzz_byte(&in);
            if (lead & 4)
                len = (len << 8 | fuzz_byte(&in)) & 0x7FF;
            size_t n;
            const uint8_t *p = fuzz_take(&in, len, &n);
            uint8_t *copy = malloc(n ? n : 1); /* its own, so that ASan sees a read past n */
            if (!copy)
                abort();
            memcpy(copy, p, n);
            int err = tt_t140_rx_packet(&st.rx1, seq, pt, copy, n, st.now);
            free(copy);
            if (err && err != ENOTSUP && err != EBADMSG)
                abort();
            break;
        }
        case 1: {
            tt_t140_rx_tick(&st.rx1, st.now);
            tt_ms when;
            if (tt_t140_rx_due(&st.rx1, &when) && when <= st.now)
                abort();
            break;
        }
        case 2: {
            size_t n, taken;
            const uint8_t *p = fuzz_take(&in, fuzz_byte(&in), &n);
            int err = tt_t140_tx_put(&st.tx, (const char *)p, n, &taken);
            if ((err && err != ENOSPC) || taken > n || (!err && taken != n))
                abort();
            for (size_t i = 0; i < taken; i++)
                if (p[i] < 0x20 || p[i] > 0x7E)
                    st.exact = false;
            if (st.nput + taken > TEXT_MAX)
                st.exact = false;
            else
                memcpy(st.put + st.nput, p, taken), st.nput += taken;
            st.lose = (lead >> 2) & 3;
            break;
        }
        default:
            if (lead & 4 && tt_t140_tx_flush(&st.tx))
                st.exact = false;
            if (lead & 8)
                tt_t140_rx_reset(&st.rx1);
            break;
        }
        send_due();
    }
    /* let the sender go idle, losing nothing more; the text then is all there */
    st.lose = 0;
    for (int i = 0; i < 100000 && tt_t140_tx_due(&st.tx, st.now, NULL); i++) {
        tt_ms when;
        tt_t140_tx_due(&st.tx, st.now, &when);
        if (when > st.now)
            st.now = when;
        send_due();
    }
    if (tt_t140_tx_due(&st.tx, st.now, NULL))
        abort();
    if (st.exact && (st.s2.n != st.nput || memcmp(st.s2.text, st.put, st.nput)))
        abort();
    tt_t140_rx_reset(&st.rx1);
    tt_t140_rx_reset(&st.rx2);
    return 0;
}
