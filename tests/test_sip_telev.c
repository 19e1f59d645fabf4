/*
 * The RFC 4733 receiver on packets written here from the RFC's description of the payload
 * (§2.3: event, E, R, volume, duration) and of how senders send it (§2.5.1: one timestamp for
 * every packet of an event, three copies of the final packet, segments for long events,
 * packed events, RFC 2198 redundancy), and on what networks do to them: loss, reordering,
 * copies, timestamps wrapping at 2^32.
 *
 * Timestamps are at 8 kHz: 160 units are 20 ms, 800 are 100 ms.
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

#include "sip/telev.h"

/* One 4-byte report: event, E bit, volume (0-63), duration (RFC 4733 §2.3). */
#define BLK(ev, e, vol, dur)                                                                  \
    (uint8_t)(ev), (uint8_t)((e) << 7 | (vol)), (uint8_t)((dur) >> 8), (uint8_t)((dur)&0xff)

#define MAX_NOTES 256

struct rx {
    struct tt_telev r;
    struct tt_telev_note note[MAX_NOTES];
    size_t n;
    char keys[MAX_NOTES + 1]; /* the KEY notes' keys, in order */
    size_t nkeys, nends;
};

static void on_note(void *user, const struct tt_telev_note *n)
{
    struct rx *x = user;
    assert_true(x->n < MAX_NOTES);
    x->note[x->n++] = *n;
    if (n->what == TT_TELEV_KEY)
        x->keys[x->nkeys++] = n->key;
    else
        x->nends++;
}

static int setup(void **state)
{
    struct rx *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    assert_int_equal(tt_telev_init(&x->r, on_note, x), 0);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

#define FEED(x, ts, ...)                                                                       \
    do {                                                                                       \
        const uint8_t p_[] = {__VA_ARGS__};                                                    \
        assert_int_equal(tt_telev_packet(&(x)->r, (ts), p_, sizeof(p_)), 0);                   \
    } while (0)

/* The last note of a kind. */
static const struct tt_telev_note *last(const struct rx *x, enum tt_telev_what what)
{
    for (size_t i = x->n; i-- > 0;)
        if (x->note[i].what == what)
            return &x->note[i];
    fail_msg("no note of that kind");
    return NULL;
}

/* A whole press as a phone sends it: updates every 20 ms from `dur0` to the end, then the
 * final packet three times (§2.5.1.4). */
static void press(struct rx *x, uint32_t ts, uint8_t ev, unsigned len)
{
    for (unsigned d = 160; d < len; d += 160)
        FEED(x, ts, BLK(ev, 0, 10, d));
    for (int i = 0; i < 3; i++)
        FEED(x, ts, BLK(ev, 1, 10, len));
}

static void a_press_is_reported_at_its_first_packet_and_its_end_once(void **state)
{
    struct rx *x = *state;
    /* digit 5 at -10 dBm0, 20 ms in: event 0x05, E=0 R=0 volume 10 (0x0a), duration 160 */
    const uint8_t first[] = {0x05, 0x0a, 0x00, 0xa0};
    assert_int_equal(tt_telev_packet(&x->r, 48000, first, sizeof(first)), 0);
    assert_string_equal(x->keys, "5");
    const struct tt_telev_note *k = last(x, TT_TELEV_KEY);
    assert_int_equal(k->start, 48000);
    assert_int_equal(k->duration, 160);
    assert_int_equal(k->volume_dbm0, -10);
    assert_int_equal(k->event, 5);

    FEED(x, 48000, 0x05, 0x0a, 0x01, 0x40); /* 320 */
    FEED(x, 48000, 0x05, 0x0a, 0x01, 0xe0); /* 480 */
    /* the final packet, E set (0x8a), 100 ms, and its two copies */
    for (int i = 0; i < 3; i++)
        FEED(x, 48000, 0x05, 0x8a, 0x03, 0x20);
    assert_string_equal(x->keys, "5");
    assert_int_equal(x->nends, 1);
    assert_int_equal(last(x, TT_TELEV_END)->duration, 800);
    assert_int_equal(x->r.stats.copies, 5);
}

static void a_press_whose_start_was_lost_counts_once_at_its_first_end_packet(void **state)
{
    struct rx *x = *state;
    for (int i = 0; i < 3; i++)
        FEED(x, 1000, BLK(7, 1, 10, 960));
    assert_string_equal(x->keys, "7");
    assert_int_equal(x->nends, 1);
    assert_int_equal(x->note[0].what, TT_TELEV_KEY); /* the key, then its end, in one packet */
    assert_int_equal(x->note[1].what, TT_TELEV_END);
    assert_int_equal(x->note[1].duration, 960);
}

static void a_repeat_of_the_same_digit_after_its_end_packets_were_lost_counts_twice(void **state)
{
    struct rx *x = *state;
    /* "11": the first 1's three end packets never arrive */
    FEED(x, 1000, BLK(1, 0, 10, 160));
    FEED(x, 1000, BLK(1, 0, 10, 320));
    FEED(x, 1000, BLK(1, 0, 10, 480));
    /* the second began 100 ms after the first ended (at 640): its own timestamp */
    press(x, 1000 + 640 + 800, 1, 640);
    assert_string_equal(x->keys, "11");
    assert_int_equal(x->nends, 1);
}

static void the_end_packets_arriving_before_the_rest_count_once_with_the_longest_duration(
    void **state)
{
    struct rx *x = *state;
    FEED(x, 5000, BLK(9, 1, 10, 800));
    FEED(x, 5000, BLK(9, 0, 10, 480));
    FEED(x, 5000, BLK(9, 0, 10, 160));
    FEED(x, 5000, BLK(9, 1, 10, 800));
    FEED(x, 5000, BLK(9, 0, 10, 320));
    FEED(x, 5000, BLK(9, 1, 10, 800));
    assert_string_equal(x->keys, "9");
    assert_int_equal(x->nends, 1);
    assert_int_equal(last(x, TT_TELEV_END)->duration, 800);
    assert_int_equal(x->r.seen[x->r.n - 1].duration, 800); /* not shortened by the late ones */
}

static void two_presses_whose_packets_cross_on_the_way_count_twice(void **state)
{
    struct rx *x = *state;
    /* 4 then 2; the 4's end copies arrive after the 2 has begun */
    FEED(x, 100, BLK(4, 0, 10, 160));
    FEED(x, 100, BLK(4, 0, 10, 320));
    FEED(x, 100 + 320 + 480, BLK(2, 0, 10, 160));
    FEED(x, 100, BLK(4, 1, 10, 400));
    FEED(x, 100 + 320 + 480, BLK(2, 0, 10, 320));
    FEED(x, 100, BLK(4, 1, 10, 400));
    FEED(x, 100 + 320 + 480, BLK(2, 1, 10, 400));
    FEED(x, 100, BLK(4, 1, 10, 400));
    FEED(x, 100 + 320 + 480, BLK(2, 1, 10, 400));
    FEED(x, 100 + 320 + 480, BLK(2, 1, 10, 400));
    assert_string_equal(x->keys, "42");
    assert_int_equal(x->nends, 2);
}

static void packets_lost_between_the_start_and_the_end_still_give_one_press(void **state)
{
    struct rx *x = *state;
    /* a gap in the sequence: the start, then nothing until the end packets */
    FEED(x, 2000, BLK(3, 0, 10, 160));
    for (int i = 0; i < 3; i++)
        FEED(x, 2000, BLK(3, 1, 10, 1440));
    assert_string_equal(x->keys, "3");
    assert_int_equal(last(x, TT_TELEV_END)->duration, 1440);
}

static void presses_across_the_timestamp_wrap_are_told_apart(void **state)
{
    struct rx *x = *state;
    uint32_t t1 = 0xffffff00u; /* 256 units before the wrap */
    press(x, t1, 8, 640);      /* it ends after the wrap */
    uint32_t t2 = t1 + 640 + 800; /* past the wrap: 0x000004a0 */
    assert_true(t2 < t1);
    press(x, t2, 8, 640);
    FEED(x, t1, BLK(8, 1, 10, 640)); /* a late copy of the first */
    assert_string_equal(x->keys, "88");
    assert_int_equal(x->nends, 2);
    assert_int_equal(last(x, TT_TELEV_KEY)->start, t2);
}

static void a_long_event_goes_on_in_segments_as_one_press(void **state)
{
    struct rx *x = *state;
    /* 0 held for 2 * 0xFFFF + 1600 units (16.6 s): segments at T, T + 0xFFFF, T + 2 * 0xFFFF
     * (§2.5.1.3), the first ending with the largest duration and no E, the last with E */
    uint32_t t = 0xfffe0000u; /* the third segment's timestamp wraps */
    FEED(x, t, BLK(0, 0, 10, 160));
    FEED(x, t, BLK(0, 0, 10, 32000));
    FEED(x, t, BLK(0, 0, 10, 0xffff));
    FEED(x, t + 0xffff, BLK(0, 0, 10, 160));
    /* the largest duration of the second segment is lost: its last report is 65440 */
    FEED(x, t + 0xffff, BLK(0, 0, 10, 65440));
    FEED(x, t + 2 * 0xffff, BLK(0, 0, 10, 800));
    for (int i = 0; i < 3; i++)
        FEED(x, t + 2 * 0xffff, BLK(0, 1, 10, 1600));
    assert_string_equal(x->keys, "0");
    assert_int_equal(x->nends, 1);
    const struct tt_telev_note *e = last(x, TT_TELEV_END);
    assert_int_equal(e->start, t);
    assert_int_equal(e->duration, 2 * 0xffffu + 1600);
    assert_int_equal(x->r.stats.segments, 2);
}

static void the_same_digit_a_segment_after_an_ended_press_is_a_new_press(void **state)
{
    struct rx *x = *state;
    press(x, 7000, 6, 800);
    /* 0xFFFF later is where a second segment would start, but the first press ended */
    press(x, 7000 + 0xffff, 6, 800);
    assert_string_equal(x->keys, "66");
}

static void a_repeat_starting_exactly_where_the_last_press_ended_still_counts(void **state)
{
    struct rx *x = *state;
    /* a sender whose timestamps stand still between events: each starts where the last
     * ended. Against RFC 3550, but a repeated digit must not be lost to it. */
    press(x, 1000, 5, 800);
    press(x, 1800, 5, 800);
    /* and with the first's end packets lost, its last update as long as its end */
    FEED(x, 5000, BLK(6, 0, 10, 160));
    FEED(x, 5000, BLK(6, 0, 10, 800));
    press(x, 5800, 6, 800);
    assert_string_equal(x->keys, "5566");
}

static void a_report_of_duration_zero_is_ignored_and_the_next_packet_counts(void **state)
{
    struct rx *x = *state;
    FEED(x, 300, BLK(2, 0, 10, 0));
    FEED(x, 300, BLK(2, 1, 10, 0));
    assert_int_equal(x->n, 0);
    assert_int_equal(x->r.stats.zero, 2);
    FEED(x, 300, BLK(2, 0, 10, 160));
    assert_string_equal(x->keys, "2");
    assert_int_equal(last(x, TT_TELEV_KEY)->duration, 160);
}

static void the_volume_is_reported_and_the_reserved_bit_ignored(void **state)
{
    struct rx *x = *state;
    /* volume 63 (the quietest, -63 dBm0) with R set (0x40) */
    FEED(x, 100, 0x0b, 0x40 | 63, 0x00, 0xa0);
    assert_string_equal(x->keys, "#");
    assert_int_equal(last(x, TT_TELEV_KEY)->volume_dbm0, -63);
    /* volume 0 (0 dBm0, or a sender that leaves it empty), R set, E set */
    FEED(x, 2000, 0x0a, 0x80 | 0x40, 0x03, 0x20);
    assert_string_equal(x->keys, "#*");
    assert_int_equal(last(x, TT_TELEV_KEY)->volume_dbm0, 0);
    assert_int_equal(x->nends, 1);
}

static void every_DTMF_event_code_has_its_key_and_others_have_none(void **state)
{
    struct rx *x = *state;
    for (unsigned ev = 0; ev < 16; ev++)
        press(x, 1000 + ev * 2000, (uint8_t)ev, 800);
    assert_string_equal(x->keys, "0123456789*#ABCD");
    /* hook flash (16), answer tone (32), ringing tone (70), and the largest code */
    press(x, 100000, 16, 800);
    press(x, 110000, 32, 800);
    press(x, 120000, 70, 800);
    press(x, 130000, 255, 800);
    assert_int_equal(x->nkeys, 16);
    assert_int_equal(x->nends, 16);
    assert_int_equal(x->r.stats.not_dtmf, 4 * 7); /* four updates and three ends each */
    assert_int_equal(tt_telev_key(16), 0);
}

static void a_payload_shorter_than_a_block_is_ignored_and_counted(void **state)
{
    struct rx *x = *state;
    const uint8_t p[] = {BLK(5, 0, 10, 160)};
    for (size_t len = 0; len < 4; len++)
        assert_int_equal(tt_telev_packet(&x->r, 100, p, len), EBADMSG);
    assert_int_equal(tt_telev_packet(&x->r, 100, NULL, 0), EBADMSG);
    assert_int_equal(x->n, 0);
    assert_int_equal(x->r.stats.runts, 5);
    /* bytes after the last whole block are left, the block is read */
    const uint8_t q[] = {BLK(5, 0, 10, 160), 0xff, 0xff};
    assert_int_equal(tt_telev_packet(&x->r, 100, q, sizeof(q)), 0);
    assert_string_equal(x->keys, "5");
    assert_int_equal(x->r.stats.trailing, 1);
}

static void events_packed_in_one_payload_each_start_where_the_one_before_ended(void **state)
{
    struct rx *x = *state;
    /* 1 then 2, contiguous (§2.5.1.5): the 2 begins at 900 + 800 */
    FEED(x, 900, BLK(1, 1, 10, 800), BLK(2, 1, 10, 640));
    assert_string_equal(x->keys, "12");
    assert_int_equal(x->note[2].start, 1700);
    /* the 2 on its own later, at its own start: a copy */
    FEED(x, 1700, BLK(2, 1, 10, 640));
    assert_string_equal(x->keys, "12");
    assert_int_equal(x->nends, 2);
}

static void two_packed_events_of_one_digit_are_one_press(void **state)
{
    struct rx *x = *state;
    /* no pause between them: one tone, as a DTMF receiver would hear it */
    FEED(x, 900, BLK(4, 1, 10, 800), BLK(4, 1, 10, 800));
    FEED(x, 900, BLK(4, 1, 10, 800), BLK(4, 1, 10, 800));
    assert_string_equal(x->keys, "4");
    assert_int_equal(x->nends, 1);
}

static void an_old_copy_is_a_copy_after_fifteen_other_events_and_not_after_sixteen(void **state)
{
    struct rx *x = *state;
    uint32_t ts = 1000;
    for (unsigned i = 0; i < TT_TELEV_MEMORY; i++)
        press(x, ts + i * 1600, (uint8_t)(i % 10), 640);
    /* the first press, fifteen presses later */
    FEED(x, ts, BLK(0, 1, 10, 640));
    assert_int_equal(x->nkeys, TT_TELEV_MEMORY);
    /* the second (1 at 2600) has now had sixteen other events seen after it, counting that
     * copy of the first: it is forgotten, and a copy of it counts again (the bound) */
    press(x, ts + TT_TELEV_MEMORY * 1600, 2, 640);
    FEED(x, ts, BLK(0, 1, 10, 640));
    assert_int_equal(x->nkeys, TT_TELEV_MEMORY + 1);
    FEED(x, ts + 1600, BLK(1, 1, 10, 640));
    assert_int_equal(x->nkeys, TT_TELEV_MEMORY + 2);
}

static void a_press_still_going_is_not_forgotten_however_many_follow(void **state)
{
    struct rx *x = *state;
    /* a copy refreshes an event: it is the least recently seen that is forgotten */
    FEED(x, 10, BLK(5, 0, 10, 160));
    for (unsigned i = 1; i < 3 * TT_TELEV_MEMORY; i++) {
        press(x, 10 + i * 1600, 9, 640);
        FEED(x, 10, BLK(5, 0, 10, 160));
    }
    assert_int_equal(x->nkeys, 3 * TT_TELEV_MEMORY);
    assert_int_equal(x->keys[0], '5');
    assert_null(strchr(x->keys + 1, '5'));
}

static void a_timestamp_that_jumps_back_does_not_lock_keys_out(void **state)
{
    struct rx *x = *state;
    /* the sender's timestamps start again lower (same SSRC, a new base after a re-INVITE) */
    press(x, 0x70000000u, 1, 640);
    press(x, 0x70001000u, 2, 640);
    press(x, 0x00001000u, 3, 640);
    press(x, 0x00002000u, 3, 640);
    assert_string_equal(x->keys, "1233");
}

static void reset_forgets_the_events_of_the_old_stream(void **state)
{
    struct rx *x = *state;
    press(x, 4000, 7, 640);
    tt_telev_reset(&x->r);
    FEED(x, 4000, BLK(7, 1, 10, 640)); /* a new SSRC happens to use the same timestamp */
    assert_string_equal(x->keys, "77");
}

static void more_blocks_than_the_limit_in_one_payload_are_ignored(void **state)
{
    struct rx *x = *state;
    uint8_t p[4 * (TT_TELEV_MAX_BLOCKS + 2)];
    for (unsigned i = 0; i < TT_TELEV_MAX_BLOCKS + 2; i++) {
        const uint8_t b[] = {BLK(i % 10, 1, 10, 400)};
        memcpy(p + 4 * i, b, 4);
    }
    assert_int_equal(tt_telev_packet(&x->r, 0, p, sizeof(p)), 0);
    assert_int_equal(tt_telev_packet(&x->r, 0, p, sizeof(p)), 0);
    assert_int_equal(x->nkeys, TT_TELEV_MAX_BLOCKS);
    assert_int_equal(x->r.stats.surplus, 4);
}

/* An RFC 2198 header for a redundant block (F set). */
#define RED_HDR(pt, back, len)                                                                 \
    (uint8_t)(0x80 | (pt)), (uint8_t)((back) >> 6), (uint8_t)(((back)&0x3f) << 2 | (len) >> 8), \
        (uint8_t)((len)&0xff)

static void redundant_events_in_an_RFC_2198_payload_count_once_each(void **state)
{
    struct rx *x = *state;
    const uint8_t te = 101; /* the telephone-event payload type the SDP gave */
    /* the 1's end, repeated as a redundant block 800 units back, with the 2's start */
    const uint8_t a[] = {RED_HDR(te, 800, 4), te, BLK(1, 1, 10, 640), BLK(2, 0, 10, 160)};
    assert_int_equal(tt_telev_red(&x->r, 6000, te, a, sizeof(a)), 0);
    assert_string_equal(x->keys, "12");
    assert_int_equal(x->note[0].start, 5200);
    /* a later packet repeats the 1 and the 2's start and brings the 2's end: its timestamp
     * is still the 2's start, every packet of an event has it (§2.2.1) */
    const uint8_t b[] = {RED_HDR(te, 800, 4), RED_HDR(te, 0, 4), te,
                         BLK(1, 1, 10, 640), BLK(2, 0, 10, 160), BLK(2, 1, 10, 400)};
    assert_int_equal(tt_telev_red(&x->r, 6000, te, b, sizeof(b)), 0);
    assert_string_equal(x->keys, "12");
    assert_int_equal(x->nends, 2);
    /* a block of another payload type (PCMU, 0) is skipped */
    const uint8_t c[] = {RED_HDR(0, 160, 4), te, 0xff, 0xff, 0xff, 0xff, BLK(3, 0, 10, 160)};
    assert_int_equal(tt_telev_red(&x->r, 9000, te, c, sizeof(c)), 0);
    assert_string_equal(x->keys, "123");
}

static void an_RFC_2198_payload_whose_headers_do_not_fit_gives_nothing(void **state)
{
    struct rx *x = *state;
    const uint8_t te = 101;
    /* a block longer than what follows */
    const uint8_t a[] = {RED_HDR(te, 800, 8), te, BLK(1, 1, 10, 640)};
    assert_int_equal(tt_telev_red(&x->r, 6000, te, a, sizeof(a)), EBADMSG);
    /* no final header */
    const uint8_t b[] = {RED_HDR(te, 800, 0)};
    assert_int_equal(tt_telev_red(&x->r, 6000, te, b, sizeof(b)), EBADMSG);
    /* a header cut short */
    const uint8_t c[] = {0x80 | te, 0x00};
    assert_int_equal(tt_telev_red(&x->r, 6000, te, c, sizeof(c)), EBADMSG);
    assert_int_equal(tt_telev_red(&x->r, 6000, te, NULL, 0), EBADMSG);
    assert_int_equal(x->n, 0);
    assert_int_equal(x->r.stats.red_bad, 4);
}

static void init_wants_a_callback(void **state)
{
    (void)state;
    struct tt_telev r;
    assert_int_equal(tt_telev_init(&r, NULL, NULL), EINVAL);
    assert_int_equal(tt_telev_init(NULL, on_note, NULL), EINVAL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(a_press_is_reported_at_its_first_packet_and_its_end_once),
        T(a_press_whose_start_was_lost_counts_once_at_its_first_end_packet),
        T(a_repeat_of_the_same_digit_after_its_end_packets_were_lost_counts_twice),
        T(the_end_packets_arriving_before_the_rest_count_once_with_the_longest_duration),
        T(two_presses_whose_packets_cross_on_the_way_count_twice),
        T(packets_lost_between_the_start_and_the_end_still_give_one_press),
        T(presses_across_the_timestamp_wrap_are_told_apart),
        T(a_long_event_goes_on_in_segments_as_one_press),
        T(the_same_digit_a_segment_after_an_ended_press_is_a_new_press),
        T(a_repeat_starting_exactly_where_the_last_press_ended_still_counts),
        T(a_report_of_duration_zero_is_ignored_and_the_next_packet_counts),
        T(the_volume_is_reported_and_the_reserved_bit_ignored),
        T(every_DTMF_event_code_has_its_key_and_others_have_none),
        T(a_payload_shorter_than_a_block_is_ignored_and_counted),
        T(events_packed_in_one_payload_each_start_where_the_one_before_ended),
        T(two_packed_events_of_one_digit_are_one_press),
        T(an_old_copy_is_a_copy_after_fifteen_other_events_and_not_after_sixteen),
        T(a_press_still_going_is_not_forgotten_however_many_follow),
        T(a_timestamp_that_jumps_back_does_not_lock_keys_out),
        T(reset_forgets_the_events_of_the_old_stream),
        T(more_blocks_than_the_limit_in_one_payload_are_ignored),
        T(redundant_events_in_an_RFC_2198_payload_count_once_each),
        T(an_RFC_2198_payload_whose_headers_do_not_fit_gives_nothing),
        cmocka_unit_test(init_wants_a_callback),
    };
    return cmocka_run_group_tests_name("sip_telev", tests, NULL, NULL);
}
