/*
 * Real-time text (RFC 4103) on packets checked byte by byte against RFC 2198's layout written
 * here by hand (F bit, block PT, 14-bit timestamp offset, 10-bit length; the primary's 1-byte
 * header), and on round trips from the sender to the receiver through what networks do:
 * losses of one, two and three packets in a row, copies, reordering, the sequence number
 * wrapping at 2^16, a sender that restarts its numbering. Also what the text itself may
 * hold: invalid UTF-8, T.140's control codes, new lines in their three forms; and the cps
 * limit on a prompt of 600 characters.
 *
 * Times are in ms, the RTP clock of t140 (1000 Hz). Payload types: t140 98, red 100 (RFC
 * 4103 §7.2's example), so a block header's first byte is 0x80|98 = 0xE2 and the primary's
 * 0x62.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/t140.h"

#define PT 98
#define RED 100
#define FFFD "\xEF\xBF\xBD"

/* One RFC 2198 header for a redundant block: F set, PT, 14-bit offset, 10-bit length. */
#define HDR(off, len)                                                                          \
    (uint8_t)(0x80 | PT), (uint8_t)((off) >> 6), (uint8_t)(((off)&0x3F) << 2 | (len) >> 8),     \
        (uint8_t)((len)&0xFF)

struct pk {
    uint8_t p[TT_T140_PAYLOAD_MAX];
    struct tt_t140_packet info;
    uint16_t seq;
    tt_ms at;
};

#define MAX_PK 512

struct link {
    int red;
    unsigned gens;
    struct tt_t140_tx tx;
    struct tt_t140_rx rx;
    char text[16384]; /* what the receiver handed on */
    size_t n;
    unsigned calls;   /* callbacks */
    uint16_t seq;     /* the next packet's sequence number */
    struct pk pk[MAX_PK];
    unsigned np;
};

static void on_text(void *user, const char *s, size_t n)
{
    struct link *l = user;
    assert_true(n > 0);
    assert_true(l->n + n < sizeof(l->text));
    memcpy(l->text + l->n, s, n);
    l->n += n;
    l->text[l->n] = 0;
    l->calls++;
}

static struct tt_t140_tx_cfg cfg(int red, unsigned gens, unsigned cps)
{
    struct tt_t140_tx_cfg c = {
        .pt_t140 = PT,
        .pt_red = red,
        .generations = gens,
        .interval_ms = TT_T140_INTERVAL_MS,
        .cps = cps,
    };
    return c;
}

static struct link *link_new(int red, unsigned gens, tt_ms wait, uint16_t seq)
{
    struct link *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    struct tt_t140_tx_cfg c = cfg(red, gens, TT_T140_CPS);
    assert_int_equal(tt_t140_tx_init(&l->tx, &c), 0);
    assert_int_equal(tt_t140_rx_init(&l->rx, PT, red, wait, on_text, l), 0);
    l->seq = seq;
    l->red = red;
    l->gens = gens;
    return l;
}

/* The sender again, with another cps (and interval). */
static void set_cps(struct link *l, unsigned cps, unsigned interval_ms)
{
    struct tt_t140_tx_cfg c = cfg(l->red, l->gens, cps);
    c.interval_ms = interval_ms;
    assert_int_equal(tt_t140_tx_init(&l->tx, &c), 0);
}

/* Make the packet due at now, if any, and keep it; its index, or -1. */
static int make(struct link *l, tt_ms now)
{
    assert_true(l->np < MAX_PK);
    struct pk *k = &l->pk[l->np];
    assert_int_equal(tt_t140_tx_packet(&l->tx, now, k->p, sizeof(k->p), &k->info), 0);
    if (!k->info.made)
        return -1;
    k->seq = l->seq++;
    k->at = now;
    return (int)l->np++;
}

/* Make every packet due up to `to` at the time it is due. */
static void run(struct link *l, tt_ms from, tt_ms to)
{
    tt_ms when, now = from;
    while (tt_t140_tx_due(&l->tx, now, &when) && when <= to) {
        if (when > now)
            now = when;
        assert_true(make(l, now) >= 0);
    }
}

static void put(struct link *l, const char *s)
{
    size_t taken;
    assert_int_equal(tt_t140_tx_put(&l->tx, s, strlen(s), &taken), 0);
    assert_int_equal(taken, strlen(s));
}

static void deliver(struct link *l, unsigned i, tt_ms now)
{
    struct pk *k = &l->pk[i];
    assert_int_equal(
        tt_t140_rx_packet(&l->rx, k->seq, k->info.pt, k->p, k->info.len, now), 0);
}

/* Type s one character per interval from t0, each going in a packet of its own, and let the
 * redundancy run out; the time after the last packet. */
static tt_ms type(struct link *l, tt_ms t0, const char *s)
{
    tt_ms t = t0;
    for (const char *c = s; *c; c++, t += TT_T140_INTERVAL_MS) {
        char one[2] = {*c, 0};
        put(l, one);
        int i = make(l, t);
        assert_true(i >= 0);
        assert_int_equal(l->pk[i].info.chars, 1);
    }
    run(l, t, t + 10 * TT_T140_INTERVAL_MS);
    return t + 10 * TT_T140_INTERVAL_MS;
}

static void payload_is(const struct pk *k, const uint8_t *want, size_t n)
{
    assert_int_equal(k->info.len, n);
    assert_memory_equal(k->p, want, n);
}

static void the_first_text_goes_at_once_marked_and_its_redundancy_at_each_interval(void **state)
{
    (void)state;
    struct link *l = link_new(RED, 2, 0, 1);
    tt_ms when;
    assert_false(tt_t140_tx_due(&l->tx, 0, &when));
    put(l, "A");
    assert_true(tt_t140_tx_due(&l->tx, 1000, &when));
    assert_int_equal(when, 1000);

    /* nothing came before: the primary alone, behind its 1-byte header (F clear, PT 98) */
    assert_int_equal(make(l, 1000), 0);
    const uint8_t p0[] = {0x62, 'A'};
    payload_is(&l->pk[0], p0, sizeof(p0));
    assert_int_equal(l->pk[0].info.pt, RED);
    assert_true(l->pk[0].info.marker);
    assert_int_equal(l->pk[0].info.ts, 1000);

    /* the next interval: an empty primary, "A" once redundant (offset 300, length 1) */
    assert_true(tt_t140_tx_due(&l->tx, 1001, &when));
    assert_int_equal(when, 1300);
    assert_int_equal(make(l, 1299), -1);
    assert_int_equal(make(l, 1300), 1);
    const uint8_t p1[] = {HDR(300, 1), 0x62, 'A'};
    const uint8_t p1_by_hand[] = {0xE2, 0x04, 0xB0, 0x01, 0x62, 0x41};
    assert_memory_equal(p1, p1_by_hand, sizeof(p1)); /* the macro is the RFC's layout */
    payload_is(&l->pk[1], p1_by_hand, sizeof(p1_by_hand));
    assert_false(l->pk[1].info.marker);
    assert_int_equal(l->pk[1].info.ts, 1300);

    /* and once more: "A" 600 ms old, the empty block 300 ms old, the empty primary (the
     * last packet before the idle period: one non-empty block, §5.2) */
    assert_int_equal(make(l, 1600), 2);
    const uint8_t p2[] = {0xE2, 0x09, 0x60, 0x01, 0xE2, 0x04, 0xB0, 0x00, 0x62, 'A'};
    payload_is(&l->pk[2], p2, sizeof(p2));

    /* then idle: nothing more is due */
    assert_false(tt_t140_tx_due(&l->tx, 1900, &when));
    assert_int_equal(make(l, 5000), -1);
    free(l);
}

static void text_that_keeps_coming_goes_at_the_interval_unmarked_and_after_idle_marked(
    void **state)
{
    (void)state;
    struct link *l = link_new(RED, 2, 0, 1);
    put(l, "a");
    assert_int_equal(make(l, 0), 0);
    put(l, "b");
    assert_int_equal(make(l, 100), -1); /* the buffering time (§5.1) */
    assert_int_equal(make(l, 300), 1);
    const uint8_t p1[] = {HDR(300, 1), 0x62, 'a', 'b'};
    payload_is(&l->pk[1], p1, sizeof(p1));
    assert_false(l->pk[1].info.marker);
    run(l, 300, 5000);
    assert_int_equal(l->np, 4); /* two empty primaries after "b" */
    const uint8_t p3[] = {HDR(600, 1), HDR(300, 0), 0x62, 'b'};
    payload_is(&l->pk[3], p3, sizeof(p3));

    /* idle: new text goes at once, marked, with the empty blocks as its redundancy */
    put(l, "c");
    assert_int_equal(make(l, 7000), 4);
    assert_true(l->pk[4].info.marker);
    const uint8_t p4[] = {HDR(6400, 0), HDR(6100, 0), 0x62, 'c'};
    payload_is(&l->pk[4], p4, sizeof(p4));
    free(l);
}

static void plain_t140_sends_the_text_and_then_one_empty_block(void **state)
{
    (void)state;
    struct link *l = link_new(-1, 2, 0, 1);
    put(l, "hi");
    assert_int_equal(make(l, 0), 0);
    assert_int_equal(l->pk[0].info.pt, PT);
    assert_true(l->pk[0].info.marker);
    payload_is(&l->pk[0], (const uint8_t *)"hi", 2);
    assert_int_equal(make(l, 300), 1);
    assert_int_equal(l->pk[1].info.len, 0); /* §5.2: the empty block that starts idleness */
    assert_false(l->pk[1].info.marker);
    assert_int_equal(make(l, 600), -1);
    free(l);
}

static void a_generation_too_old_for_14_bits_is_left_out_and_read_as_empty(void **state)
{
    (void)state;
    struct link *l = link_new(RED, 2, 0, 1);
    put(l, "a");
    run(l, 0, 1000); /* "a" at 0, empties at 300 and 600 */
    assert_int_equal(l->np, 3);
    put(l, "b");
    /* 16383 ms after the empty block at 600 it can still go; 1 ms later it cannot */
    assert_int_equal(make(l, 600 + 16383), 3);
    const uint8_t p3[] = {HDR(16383, 0), 0x62, 'b'}; /* the one at 300 is 16683 old */
    payload_is(&l->pk[3], p3, sizeof(p3));
    assert_int_equal(l->tx.stats.too_old, 1);
    run(l, 600 + 16383, 40000);
    put(l, "c");
    assert_int_equal(make(l, 60000), 6);
    const uint8_t p6[] = {0x62, 'c'};
    payload_is(&l->pk[6], p6, sizeof(p6));

    /* The receiver lost the last empty block before the idle period: the "c" packet has no
     * generations where the stream has two, so the lost one counts as empty (§5.3), not as
     * lost text. */
    for (unsigned i = 0; i < 7; i++)
        if (i != 5)
            deliver(l, i, 0);
    assert_string_equal(l->text, "abc");
    assert_int_equal(l->rx.stats.gaps, 0);
    assert_true(l->rx.stats.assumed >= 1);
    free(l);
}

static void first_packets_of_two_idle_periods_do_not_lower_the_usual_generations(void **state)
{
    (void)state;
    /* "a" and its two empties (0, 1, 2 generations), idle 20 s, "b" (0: both too old) whose
     * empties are lost, idle 20 s, "c" (0 again). "b" and "c" carry the same number, but
     * they are not successive packets: the usual number stays 2 and the lost empties are
     * empty, not lost text (found by the fuzzer). */
    struct link *l = link_new(RED, 2, 0, 1);
    type(l, 0, "a");
    type(l, 20000, "b");
    type(l, 40000, "c");
    assert_int_equal(l->np, 9);
    for (unsigned i = 0; i < l->np; i++)
        if (i != 4 && i != 5)
            deliver(l, i, 0);
    assert_string_equal(l->text, "abc");
    assert_int_equal(l->rx.stats.gaps, 0);
    free(l);
}

/* Losses of n packets in a row, from the third; one character per packet. */
static void lose_in_a_row(unsigned lost, const char *want, uint64_t gaps)
{
    struct link *l = link_new(RED, 2, 0, 65533); /* the numbers wrap on the way */
    type(l, 1000, "0123456789");
    assert_int_equal(l->np, 12);
    for (unsigned i = 0; i < l->np; i++)
        if (i < 3 || i >= 3 + lost)
            deliver(l, i, 0);
    assert_string_equal(l->text, want);
    assert_int_equal(l->rx.stats.gaps, gaps);
    free(l);
}

static void one_packet_lost_is_recovered_from_redundancy(void **state)
{
    (void)state;
    lose_in_a_row(1, "0123456789", 0);
}

static void two_packets_lost_in_a_row_are_recovered_from_redundancy(void **state)
{
    (void)state;
    lose_in_a_row(2, "0123456789", 0);
}

static void three_packets_lost_in_a_row_lose_the_first_one_marked_once(void **state)
{
    (void)state;
    lose_in_a_row(3, "012" FFFD "456789", 1);
}

static void seven_lost_in_a_row_are_one_mark(void **state)
{
    (void)state;
    /* 3 to 9 lost: "3" to "7" gone with no copy left, "8" and "9" in 10's redundancy */
    lose_in_a_row(7, "012" FFFD "89", 1);
}

static void the_loss_of_the_last_packets_shows_at_the_next_text(void **state)
{
    (void)state;
    struct link *l = link_new(RED, 2, 0, 1);
    type(l, 0, "ab");
    unsigned before = l->np; /* "a", "b", two empties */
    type(l, 20000, "c");
    /* lose "b" and both empties that carried it: three in a row */
    for (unsigned i = 0; i < l->np; i++)
        if (i == 0 || i >= before)
            deliver(l, i, 0);
    assert_string_equal(l->text, "a" FFFD "c");
    free(l);
}

static void copies_and_late_packets_are_dropped(void **state)
{
    (void)state;
    struct link *l = link_new(RED, 2, 0, 65530);
    type(l, 0, "abcd");
    for (unsigned i = 0; i < l->np; i++) {
        deliver(l, i, 0);
        deliver(l, i, 0);
        if (i)
            deliver(l, i - 1, 0);
    }
    assert_string_equal(l->text, "abcd");
    assert_int_equal(l->rx.stats.old, 2 * l->np - 1);
    assert_int_equal(l->rx.stats.gaps, 0);
    free(l);
}

static void packets_swapped_on_the_way_lose_nothing_with_redundancy(void **state)
{
    (void)state;
    struct link *l = link_new(RED, 2, 0, 65535);
    type(l, 0, "abcdef");
    unsigned order[] = {0, 2, 1, 3, 5, 4, 6, 7};
    assert_int_equal(l->np, 8);
    for (unsigned i = 0; i < 8; i++)
        deliver(l, order[i], 0);
    assert_string_equal(l->text, "abcdef");
    assert_int_equal(l->rx.stats.gaps, 0);
    free(l);
}

static void without_redundancy_a_swap_waits_for_the_late_packet(void **state)
{
    (void)state;
    struct link *l = link_new(-1, 0, TT_T140_WAIT_MS, 100);
    type(l, 0, "abc");
    deliver(l, 0, 0);
    deliver(l, 2, 600); /* "c" ahead of "b": held */
    assert_string_equal(l->text, "a");
    tt_ms when;
    assert_true(tt_t140_rx_due(&l->rx, &when));
    assert_int_equal(when, 600 + TT_T140_WAIT_MS);
    deliver(l, 1, 700); /* "b" within the wait */
    assert_string_equal(l->text, "abc");
    assert_false(tt_t140_rx_due(&l->rx, &when));
    assert_int_equal(l->rx.stats.gaps, 0);
    free(l);
}

static void without_redundancy_a_lost_packet_is_marked_when_the_wait_is_over(void **state)
{
    (void)state;
    struct link *l = link_new(-1, 0, 500, 100);
    type(l, 0, "abc");
    deliver(l, 0, 0);
    deliver(l, 2, 600);
    tt_t140_rx_tick(&l->rx, 1099);
    assert_string_equal(l->text, "a");
    tt_t140_rx_tick(&l->rx, 1100);
    assert_string_equal(l->text, "a" FFFD "c");
    assert_int_equal(l->rx.stats.waited, 1);
    deliver(l, 1, 1200); /* too late: given up on */
    assert_string_equal(l->text, "a" FFFD "c");
    assert_int_equal(l->rx.stats.old, 1);
    free(l);
}

static void without_waiting_a_swap_is_marked_at_once(void **state)
{
    (void)state;
    struct link *l = link_new(-1, 0, 0, 100);
    type(l, 0, "abc");
    deliver(l, 0, 0);
    deliver(l, 2, 0);
    assert_string_equal(l->text, "a" FFFD "c");
    deliver(l, 1, 0);
    assert_string_equal(l->text, "a" FFFD "c");
    free(l);
}

/* One plain t140 payload to the receiver. */
static void rx_plain(struct link *l, uint16_t seq, const char *bytes)
{
    assert_int_equal(tt_t140_rx_packet(&l->rx, seq, PT, (const uint8_t *)bytes, strlen(bytes),
                                       0),
                     0);
}

static void invalid_utf8_becomes_replacement_characters_never_broken_bytes(void **state)
{
    (void)state;
    struct link *l = link_new(-1, 0, 0, 0);
    /* a lead byte without its continuation; a surrogate (ED A0 80: three broken bytes); an
     * overlong '/' (C0 AF); past U+10FFFF (F4 90 80 80); a character cut at the end of its
     * block (E2 82, the start of the euro sign: one mark) */
    rx_plain(l, 1, "1\xC3(2\xED\xA0\x80" "3\xC0\xAF" "4\xF4\x90\x80\x80" "5\xE2\x82");
    assert_string_equal(l->text, "1" FFFD "(2" FFFD FFFD FFFD "3" FFFD FFFD "4" FFFD FFFD FFFD
                                 FFFD "5" FFFD);
    assert_int_equal(l->rx.stats.invalid, 11);
    rx_plain(l, 2, "\xE2\x82\xAC\xF0\x9F\x98\x80"); /* whole: the euro sign, an emoji */
    assert_string_equal(l->text + strlen(l->text) - 7, "\xE2\x82\xAC\xF0\x9F\x98\x80");
    assert_int_equal(l->rx.stats.invalid, 11);
    free(l);
}

static void the_sender_cleans_what_it_is_given(void **state)
{
    (void)state;
    struct link *l = link_new(-1, 0, 0, 0);
    set_cps(l, 1000, TT_T140_INTERVAL_MS); /* all in one packet */
    put(l, "a\r\nb\nc\rd\te\x01\xFF" "f\xEF\xBB\xBF\b");
    put(l, "\n"); /* a LF after anything but a CR is a new line of its own */
    assert_int_equal(make(l, 0), 0);
    const char want[] = "a\xE2\x80\xA8"
                        "b\xE2\x80\xA8"
                        "c\xE2\x80\xA8"
                        "d e" FFFD "f\b\xE2\x80\xA8";
    payload_is(&l->pk[0], (const uint8_t *)want, strlen(want));
    assert_int_equal(l->tx.stats.replaced, 1);
    assert_int_equal(l->tx.stats.dropped, 2); /* 0x01 and the BOM */

    /* a CR at the end of one put and its LF at the start of the next: one new line */
    struct link *m = link_new(-1, 0, 0, 0);
    put(m, "x\r");
    put(m, "\ny");
    assert_int_equal(make(m, 0), 0);
    payload_is(&m->pk[0], (const uint8_t *)"x\xE2\x80\xA8y", 5);
    free(m);
    free(l);
}

static void t140_controls_are_dropped_and_new_lines_come_as_one_form(void **state)
{
    (void)state;
    struct link *l = link_new(-1, 0, 0, 0);
    rx_plain(l, 1,
             "1\x07"                  /* BEL */
             "\x1B" "a"               /* INT */
             "2\xC2\x9B" "1;4m"       /* SGR by the 8-bit CSI */
             "3\x1B[0m"               /* SGR by ESC [ */
             "4\xC2\x98xyz\xC2\x9C"   /* SOS ... ST */
             "5\x1BXabc\x1B\\"        /* SOS ... ST, 7-bit */
             "6\xEF\xBB\xBF"          /* BOM */
             "7\xE2\x80\xAE"          /* RIGHT-TO-LEFT OVERRIDE */
             "8\x01\x7F\xC2\x85"      /* SOH, DEL, NEL */
             "9\b");                  /* BACKSPACE: passed on */
    assert_string_equal(l->text, "123456789\b");
    assert_int_equal(l->rx.stats.boms, 1);
    l->n = 0;
    l->text[0] = 0;
    rx_plain(l, 2, "a\r\nb\nc\rd\xE2\x80\xA8" "e\xE2\x80\xA9" "f\r");
    rx_plain(l, 3, "\ng"); /* the CR LF cut between two packets is one new line */
    assert_string_equal(l->text, "a\nb\nc\nd\ne\nf\ng");
    /* a sequence cut by two packets is still dropped whole */
    rx_plain(l, 4, "h\x1B[");
    rx_plain(l, 5, "31mi");
    assert_string_equal(l->text, "a\nb\nc\nd\ne\nf\nghi");
    /* and a stray ESC or SOS does not swallow what comes next */
    rx_plain(l, 6, "\x1B" "\xC3\xA9" "\xC2\x98");
    char many[300];
    memset(many, 'z', 299);
    many[299] = 0;
    rx_plain(l, 7, many);
    /* the ESC breaks off at the é, which is text; the SOS string ends after 256 characters
     * with no ST, and the rest is text */
    char want[64] = "\xC3\xA9";
    memset(want + 2, 'z', 299 - 255);
    assert_string_equal(l->text + strlen("a\nb\nc\nd\ne\nf\nghi"), want);
    free(l);
}

static void the_cps_limit_holds_over_any_10_s_and_a_long_prompt_flows_evenly(void **state)
{
    (void)state;
    unsigned cpss[] = {30, 2};
    for (unsigned c = 0; c < 2; c++) {
        unsigned cps = cpss[c];
        struct link *l = link_new(RED, 2, 0, 1);
        set_cps(l, cps, TT_T140_INTERVAL_MS);
        char prompt[601];
        for (int i = 0; i < 600; i++)
            prompt[i] = (char)('a' + i % 26);
        prompt[600] = 0;
        unsigned want = cps == 30 ? 600 : 60;
        prompt[want] = 0;
        put(l, prompt);
        run(l, 0, 400000);
        unsigned pace = (cps * TT_T140_INTERVAL_MS + 999) / 1000; /* 9 at 30 cps, 1 at 2 */
        unsigned total = 0;
        for (unsigned i = 0; i < l->np; i++) {
            assert_true(l->pk[i].info.chars <= pace);
            total += l->pk[i].info.chars;
            unsigned in10 = 0;
            for (unsigned j = i; j < l->np && l->pk[j].at - l->pk[i].at <= 10000; j++)
                in10 += l->pk[j].info.chars;
            assert_true(in10 <= 10 * cps);
        }
        assert_int_equal(total, want);
        /* 10 s carry at most 10 x cps: the last character goes after 10 s */
        unsigned last_text = 0;
        for (unsigned i = 0; i < l->np; i++)
            if (l->pk[i].info.chars)
                last_text = i;
        assert_true(l->pk[last_text].at > 10000);
        for (unsigned i = 0; i < l->np; i++)
            deliver(l, i, 0);
        assert_string_equal(l->text, prompt);
        free(l);
    }
}

static void a_primary_block_holds_at_most_1023_bytes_of_whole_characters(void **state)
{
    (void)state;
    struct link *l = link_new(RED, 2, 0, 1);
    set_cps(l, 1000, 1000);
    char s[1201];
    for (int i = 0; i < 1200; i += 2) {
        s[i] = (char)0xC3; /* é, two bytes */
        s[i + 1] = (char)0xA9;
    }
    s[1200] = 0;
    put(l, s);
    uint8_t small[100];
    struct tt_t140_packet info;
    assert_int_equal(tt_t140_tx_packet(&l->tx, 0, small, sizeof(small), &info), ENOBUFS);
    assert_int_equal(make(l, 0), 0);
    assert_int_equal(l->pk[0].info.chars, 511); /* 1022 bytes: one more would be 1024 */
    assert_int_equal(l->pk[0].info.len, 1 + 1022);
    assert_int_equal(make(l, 1000), 1);
    assert_int_equal(l->pk[1].info.chars, 89);
    /* the first block again, redundant: its length fits the 10 bits */
    const uint8_t h[] = {HDR(1000, 1022)};
    assert_memory_equal(l->pk[1].p, h, 4);
    run(l, 1000, 10000);
    for (unsigned i = 0; i < l->np; i++)
        deliver(l, i, 0);
    assert_string_equal(l->text, s);
    free(l);
}

static void the_queue_takes_what_fits_and_flush_drops_what_was_not_sent(void **state)
{
    (void)state;
    struct link *l = link_new(RED, 2, 0, 1);
    static char big[TT_T140_TX_QUEUE + 10];
    memset(big, 'x', sizeof(big) - 1);
    size_t taken;
    assert_int_equal(tt_t140_tx_put(&l->tx, big, sizeof(big) - 1, &taken), ENOSPC);
    assert_int_equal(taken, TT_T140_TX_QUEUE);
    assert_int_equal(tt_t140_tx_queued(&l->tx), TT_T140_TX_QUEUE);
    assert_int_equal(make(l, 0), 0);
    assert_int_equal(tt_t140_tx_queued(&l->tx), TT_T140_TX_QUEUE - 9);
    assert_int_equal(tt_t140_tx_flush(&l->tx), TT_T140_TX_QUEUE - 9);
    assert_int_equal(tt_t140_tx_queued(&l->tx), 0);
    run(l, 0, 10000);
    assert_int_equal(l->np, 3); /* the 9 sent, and their redundancy */
    free(l);
}

static void timestamps_rise_even_when_text_comes_in_the_same_ms(void **state)
{
    (void)state;
    struct link *l = link_new(-1, 0, 0, 1);
    put(l, "a");
    assert_int_equal(make(l, 0), 0);
    assert_int_equal(make(l, 300), 1); /* the empty block: idle from here */
    put(l, "b");
    assert_int_equal(make(l, 300), 2); /* at once after idleness, but not the same stamp */
    assert_int_equal(l->pk[2].info.ts, 301);
    assert_true(l->pk[2].info.marker);
    free(l);
}

static void a_packet_built_by_hand_from_the_rfc_example_is_read(void **state)
{
    (void)state;
    struct link *l = link_new(RED, 2, 0, 0);
    /* RFC 4103 §7.1's last example: R2 empty, R1 and P with text */
    const uint8_t a[] = {HDR(600, 0), HDR(300, 2), 0x62, 'h', 'e', 'y', '!'};
    assert_int_equal(tt_t140_rx_packet(&l->rx, 10, RED, a, sizeof(a), 0), 0);
    assert_string_equal(l->text, "hey!"); /* the first packet's generations are text too */
    /* the next, with 9 lost: its R1 is 9's primary, its R2 what 10 brought */
    const uint8_t b[] = {HDR(600, 2), HDR(300, 1), 0x62, 'y', '!', '?', '.'};
    assert_int_equal(tt_t140_rx_packet(&l->rx, 12, RED, b, sizeof(b), 0), 0);
    assert_string_equal(l->text, "hey!?.");
    assert_int_equal(l->rx.stats.recovered, 3);
    /* plain t140 beside red, as a peer may switch */
    assert_int_equal(tt_t140_rx_packet(&l->rx, 13, PT, (const uint8_t *)"x", 1, 0), 0);
    assert_string_equal(l->text, "hey!?.x");
    /* what was handed on is not kept: the caller may have typed a secret */
    for (unsigned i = 0; i < TT_T140_RX_SLOTS; i++)
        for (unsigned b = 0; b < TT_T140_BLOCK_MAX; b++)
            assert_int_equal(l->rx.slot[i].data[b], 0);
    free(l);
}

static void broken_red_payloads_and_other_types_are_refused_whole(void **state)
{
    (void)state;
    struct link *l = link_new(RED, 2, 0, 0);
    const uint8_t short_hdr[] = {0xE2, 0x04, 0xB0};
    const uint8_t too_long[] = {HDR(300, 5), 0x62, 'a', 'b'};
    const uint8_t other_pt[] = {0x80 | 0, 0x04, 0xB0, 0x01, 0x62, 'a', 'b'};
    const uint8_t no_primary_hdr[] = {HDR(300, 0)};
    assert_int_equal(tt_t140_rx_packet(&l->rx, 1, RED, short_hdr, sizeof(short_hdr), 0), EBADMSG);
    assert_int_equal(tt_t140_rx_packet(&l->rx, 1, RED, too_long, sizeof(too_long), 0), EBADMSG);
    assert_int_equal(tt_t140_rx_packet(&l->rx, 1, RED, other_pt, sizeof(other_pt), 0), EBADMSG);
    assert_int_equal(
        tt_t140_rx_packet(&l->rx, 1, RED, no_primary_hdr, sizeof(no_primary_hdr), 0), EBADMSG);
    assert_int_equal(tt_t140_rx_packet(&l->rx, 1, RED, NULL, 0, 0), EBADMSG);
    assert_int_equal(tt_t140_rx_packet(&l->rx, 1, 0, (const uint8_t *)"a", 1, 0), ENOTSUP);
    assert_int_equal(l->rx.stats.bad, 5);
    assert_int_equal(l->rx.stats.packets, 0);
    assert_int_equal(l->n, 0);
    free(l);
}

static void a_sender_that_restarts_its_numbering_is_followed_after_two_packets(void **state)
{
    (void)state;
    struct link *l = link_new(-1, 0, 0, 0);
    rx_plain(l, 5000, "a");
    rx_plain(l, 5001, "b");
    rx_plain(l, 10, "c"); /* far behind: a stray, dropped */
    assert_string_equal(l->text, "ab");
    rx_plain(l, 11, "d"); /* follows the stray: the numbering restarted */
    assert_string_equal(l->text, "ab" FFFD "d");
    rx_plain(l, 12, "e");
    assert_string_equal(l->text, "ab" FFFD "de");
    assert_int_equal(l->rx.stats.restarts, 1);
    /* a packet only a little behind is a late one, not a restart */
    rx_plain(l, 2, "x");
    rx_plain(l, 3, "y");
    assert_string_equal(l->text, "ab" FFFD "de");
    free(l);
}

static void a_jump_far_ahead_is_one_mark(void **state)
{
    (void)state;
    struct link *l = link_new(-1, 0, 0, 0);
    rx_plain(l, 65530, "a");
    rx_plain(l, 20000, "b"); /* 20006 ahead, across the wrap */
    rx_plain(l, 20001, "c");
    assert_string_equal(l->text, "a" FFFD "bc");
    assert_int_equal(l->rx.stats.gaps, 1);
    free(l);
}

static void reset_hands_on_what_was_held_and_forgets_the_stream(void **state)
{
    (void)state;
    struct link *l = link_new(-1, 0, 1000, 0);
    rx_plain(l, 1, "a");
    rx_plain(l, 3, "c"); /* waits for 2 */
    assert_string_equal(l->text, "a");
    tt_t140_rx_reset(&l->rx);
    assert_string_equal(l->text, "a" FFFD "c");
    for (unsigned i = 0; i < TT_T140_RX_SLOTS; i++) {
        assert_false(l->rx.slot[i].full);
        for (unsigned b = 0; b < TT_T140_BLOCK_MAX; b++)
            assert_int_equal(l->rx.slot[i].data[b], 0); /* wiped */
    }
    rx_plain(l, 40000, "d"); /* a new stream: any number starts it */
    assert_string_equal(l->text, "a" FFFD "cd");
    free(l);
}

static void a_block_longer_than_the_slot_keeps_whole_characters_and_marks_the_rest(
    void **state)
{
    (void)state;
    struct link *l = link_new(-1, 0, 0, 0);
    static char big[1400];
    memset(big, 'a', sizeof(big) - 1);
    big[1022] = (char)0xC3; /* an é across the cut at 1023 */
    big[1023] = (char)0xA9;
    rx_plain(l, 1, big);
    assert_int_equal(l->n, 1022 + 3);
    assert_memory_equal(l->text + 1022, FFFD, 3);
    assert_int_equal(l->rx.stats.cut, 1);
    free(l);
}

static void a_long_prompt_survives_scattered_losses_intact(void **state)
{
    (void)state;
    struct link *l = link_new(RED, 2, 0, 60000);
    char prompt[601];
    for (int i = 0; i < 600; i++)
        prompt[i] = "To hear the steps, press 1. \xC3\xA9"[i % 30];
    prompt[600] = 0;
    /* whole characters: the é is two bytes at 28-29 of each 30 */
    put(l, prompt);
    run(l, 0, 100000);
    for (unsigned i = 0; i < l->np; i++)
        if (i % 5 != 1 && i % 7 != 2) /* up to two in a row lost */
            deliver(l, i, 0);
    assert_string_equal(l->text, prompt);
    assert_int_equal(l->rx.stats.gaps, 0);
    free(l);
}

static void init_checks_its_values(void **state)
{
    (void)state;
    struct tt_t140_tx tx;
    struct tt_t140_rx rx;
    struct tt_t140_tx_cfg c = cfg(RED, 2, 30);
    assert_int_equal(tt_t140_tx_init(&tx, &c), 0);
    c.generations = TT_T140_MAX_GENERATIONS + 1;
    assert_int_equal(tt_t140_tx_init(&tx, &c), EINVAL);
    c = cfg(PT, 2, 30);
    assert_int_equal(tt_t140_tx_init(&tx, &c), EINVAL);
    c = cfg(RED, 2, 0);
    assert_int_equal(tt_t140_tx_init(&tx, &c), EINVAL);
    c = cfg(128, 2, 30);
    assert_int_equal(tt_t140_tx_init(&tx, &c), EINVAL);
    c = cfg(RED, 2, 30);
    c.interval_ms = 99;
    assert_int_equal(tt_t140_tx_init(&tx, &c), EINVAL);
    assert_int_equal(tt_t140_rx_init(&rx, PT, RED, 0, NULL, NULL), EINVAL);
    assert_int_equal(tt_t140_rx_init(&rx, PT, RED, TT_T140_WAIT_MS + 1, on_text, NULL), EINVAL);
    assert_int_equal(tt_t140_rx_init(&rx, PT, PT, 0, on_text, NULL), EINVAL);
    assert_int_equal(tt_t140_rx_init(&rx, PT, -1, 0, on_text, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_first_text_goes_at_once_marked_and_its_redundancy_at_each_interval),
        cmocka_unit_test(
            text_that_keeps_coming_goes_at_the_interval_unmarked_and_after_idle_marked),
        cmocka_unit_test(plain_t140_sends_the_text_and_then_one_empty_block),
        cmocka_unit_test(a_generation_too_old_for_14_bits_is_left_out_and_read_as_empty),
        cmocka_unit_test(first_packets_of_two_idle_periods_do_not_lower_the_usual_generations),
        cmocka_unit_test(one_packet_lost_is_recovered_from_redundancy),
        cmocka_unit_test(two_packets_lost_in_a_row_are_recovered_from_redundancy),
        cmocka_unit_test(three_packets_lost_in_a_row_lose_the_first_one_marked_once),
        cmocka_unit_test(seven_lost_in_a_row_are_one_mark),
        cmocka_unit_test(the_loss_of_the_last_packets_shows_at_the_next_text),
        cmocka_unit_test(copies_and_late_packets_are_dropped),
        cmocka_unit_test(packets_swapped_on_the_way_lose_nothing_with_redundancy),
        cmocka_unit_test(without_redundancy_a_swap_waits_for_the_late_packet),
        cmocka_unit_test(without_redundancy_a_lost_packet_is_marked_when_the_wait_is_over),
        cmocka_unit_test(without_waiting_a_swap_is_marked_at_once),
        cmocka_unit_test(invalid_utf8_becomes_replacement_characters_never_broken_bytes),
        cmocka_unit_test(the_sender_cleans_what_it_is_given),
        cmocka_unit_test(t140_controls_are_dropped_and_new_lines_come_as_one_form),
        cmocka_unit_test(the_cps_limit_holds_over_any_10_s_and_a_long_prompt_flows_evenly),
        cmocka_unit_test(a_primary_block_holds_at_most_1023_bytes_of_whole_characters),
        cmocka_unit_test(the_queue_takes_what_fits_and_flush_drops_what_was_not_sent),
        cmocka_unit_test(timestamps_rise_even_when_text_comes_in_the_same_ms),
        cmocka_unit_test(a_packet_built_by_hand_from_the_rfc_example_is_read),
        cmocka_unit_test(broken_red_payloads_and_other_types_are_refused_whole),
        cmocka_unit_test(a_sender_that_restarts_its_numbering_is_followed_after_two_packets),
        cmocka_unit_test(a_jump_far_ahead_is_one_mark),
        cmocka_unit_test(reset_hands_on_what_was_held_and_forgets_the_stream),
        cmocka_unit_test(
            a_block_longer_than_the_slot_keeps_whole_characters_and_marks_the_rest),
        cmocka_unit_test(a_long_prompt_survives_scattered_losses_intact),
        cmocka_unit_test(init_checks_its_values),
    };
    return cmocka_run_group_tests_name("sip_t140", tests, NULL, NULL);
}
