/*
 * The merge of a call's key sources: one press that arrives as an RFC 4733 event, an in-band
 * tone and a SIP INFO counts once, however the three lag each other within the window; a
 * quick repeat from one source always counts twice; and the one case the rule gets wrong,
 * written down as a test so that a change to it is seen.
 *
 * Times are the caller's clock in ms, as a SIP driver would pass them.
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

#include "sip/info.h"
#include "sip/keys.h"
#include "sip/telev.h"

#define RTP TT_KEYS_RTP
#define TONE TT_KEYS_TONE
#define INFO TT_KEYS_INFO

static struct tt_keys m;

static int setup(void **state)
{
    (void)state;
    tt_keys_init(&m, 0);
    return 0;
}

/* Offer a key and check whether it counted (0) or was a copy (EALREADY). */
#define OFFER(src, key, at, want) assert_int_equal(tt_keys_offer(&m, (src), (key), (at)), (want))
#define COUNTS 0
#define COPY EALREADY

static void a_quick_repeat_from_one_source_counts_twice(void **state)
{
    (void)state;
    /* Q.24's fastest: a 40 ms tone and a 40 ms pause */
    OFFER(RTP, '1', 1000, COUNTS);
    OFFER(RTP, '1', 1080, COUNTS);
    OFFER(TONE, '2', 2000, COUNTS);
    OFFER(TONE, '2', 2080, COUNTS);
    OFFER(INFO, '3', 3000, COUNTS);
    OFFER(INFO, '3', 3000, COUNTS); /* two INFO requests are two presses, even at once */
}

static void one_press_sent_as_an_event_and_as_a_tone_counts_once_either_first(void **state)
{
    (void)state;
    OFFER(RTP, '5', 1000, COUNTS);
    OFFER(TONE, '5', 1020, COPY);
    OFFER(TONE, '6', 2000, COUNTS);
    OFFER(RTP, '6', 2040, COPY);
    assert_int_equal(m.stats.counted[RTP] + m.stats.counted[TONE], 2);
    assert_int_equal(m.stats.copies[RTP] + m.stats.copies[TONE], 2);
}

static void a_double_digit_sent_both_ways_counts_twice_however_the_tones_lag(void **state)
{
    (void)state;
    /* the tones 20 ms behind the events */
    OFFER(RTP, '1', 1000, COUNTS);
    OFFER(TONE, '1', 1020, COPY);
    OFFER(RTP, '1', 1100, COUNTS);
    OFFER(TONE, '1', 1120, COPY);
    /* the tones 150 ms behind: both events come before the first tone */
    OFFER(RTP, '4', 5000, COUNTS);
    OFFER(RTP, '4', 5100, COUNTS);
    OFFER(TONE, '4', 5150, COPY);
    OFFER(TONE, '4', 5250, COPY);
    /* and the tones ahead */
    OFFER(TONE, '7', 9000, COUNTS);
    OFFER(TONE, '7', 9090, COUNTS);
    OFFER(RTP, '7', 9100, COPY);
    OFFER(RTP, '7', 9190, COPY);
}

static void a_press_by_all_three_sources_counts_once(void **state)
{
    (void)state;
    OFFER(RTP, '#', 1000, COUNTS);
    OFFER(TONE, '#', 1025, COPY);
    OFFER(INFO, '#', 1060, COPY);
    OFFER(INFO, '0', 2000, COUNTS);
    OFFER(RTP, '0', 2010, COPY);
    OFFER(TONE, '0', 2040, COPY);
}

static void an_INFO_sent_again_after_a_loss_is_still_a_copy_and_a_later_one_is_not(void **state)
{
    (void)state;
    /* the INFO's first transmission lost: the second comes T1 = 500 ms later */
    OFFER(RTP, '9', 1000, COUNTS);
    OFFER(INFO, '9', 1000 + 500 + 100, COPY);
    /* at the edge of the window */
    OFFER(RTP, '8', 5000, COUNTS);
    OFFER(INFO, '8', 5000 + TT_KEYS_WINDOW_MS, COPY);
    /* past it: a press of its own */
    OFFER(RTP, '2', 9000, COUNTS);
    OFFER(INFO, '2', 9000 + TT_KEYS_WINDOW_MS + 1, COUNTS);
}

static void different_keys_are_never_copies_of_each_other(void **state)
{
    (void)state;
    OFFER(RTP, '1', 1000, COUNTS);
    OFFER(TONE, '2', 1000, COUNTS);
    OFFER(INFO, '3', 1000, COUNTS);
    OFFER(TONE, '1', 1010, COPY);
    OFFER(INFO, '2', 1010, COPY);
    OFFER(RTP, '3', 1010, COPY);
}

static void a_counted_key_takes_at_most_one_copy_from_each_source(void **state)
{
    (void)state;
    OFFER(RTP, '5', 1000, COUNTS);
    OFFER(TONE, '5', 1010, COPY);
    /* a second 5 from the tones alone: the first already had its copy from them */
    OFFER(TONE, '5', 1100, COUNTS);
    OFFER(INFO, '5', 1110, COPY);   /* pairs with the first 5, the oldest */
    OFFER(INFO, '5', 1120, COPY);   /* and this one with the second */
    OFFER(INFO, '5', 1130, COUNTS); /* a third press */
}

static void a_source_never_pairs_with_a_press_older_than_one_it_was_a_copy_of(void **state)
{
    (void)state;
    /* events: 1 then 2. The tones miss the 1, bring the 2, and then a later 1 the events
     * lost. That 1 is not the first one (the tones have already reported a later press). */
    OFFER(RTP, '1', 1000, COUNTS);
    OFFER(RTP, '2', 1100, COUNTS);
    OFFER(TONE, '2', 1130, COPY);
    OFFER(TONE, '1', 1330, COUNTS);
}

static void a_press_counted_before_an_earlier_one_still_takes_its_copy(void **state)
{
    (void)state;
    /* "12" 100 ms apart; the tones 150 ms ahead of the events, and missing the 1: the 2 is
     * counted (from the tones) before the 1 (from the events) */
    OFFER(TONE, '2', 1080, COUNTS);
    OFFER(RTP, '1', 1150, COUNTS);
    OFFER(RTP, '2', 1230, COPY);
}

static void a_press_one_source_carried_then_one_another_carried_count_once_the_known_limit(
    void **state)
{
    (void)state;
    /* "77": the first 7 reached us only as an event, the second only as a tone. Nothing can
     * tell that from one 7 sent both ways with the tone 150 ms late; the rule counts one.
     * (It takes a lost press on each of two sources, in a row, on one digit.) */
    OFFER(RTP, '7', 1000, COUNTS);
    OFFER(TONE, '7', 1150, COPY);
}

static void a_clock_that_goes_back_makes_a_key_young_not_old(void **state)
{
    (void)state;
    OFFER(RTP, '3', 1000, COUNTS);
    OFFER(TONE, '3', 900, COPY);
    OFFER(RTP, '4', INT64_MAX, COUNTS);
    OFFER(TONE, '4', INT64_MIN, COPY);
    OFFER(RTP, '5', INT64_MIN, COUNTS);
    OFFER(TONE, '5', INT64_MAX, COUNTS); /* far in the future: old */
}

static void the_window_can_be_set_or_turned_off(void **state)
{
    (void)state;
    tt_keys_init(&m, 50);
    OFFER(RTP, '1', 1000, COUNTS);
    OFFER(TONE, '1', 1050, COPY);
    OFFER(RTP, '2', 2000, COUNTS);
    OFFER(TONE, '2', 2051, COUNTS);
    tt_keys_init(&m, -1); /* every report counts */
    OFFER(RTP, '1', 1000, COUNTS);
    OFFER(TONE, '1', 1000, COUNTS);
}

static void the_merge_remembers_the_last_32_counted_keys(void **state)
{
    (void)state;
    /* a burst from one source, longer than the memory, all within the window */
    for (int i = 0; i <= TT_KEYS_MEMORY; i++)
        OFFER(RTP, '1', 1000 + i, COUNTS);
    /* the tones' copies pair with the remembered ones; the first is forgotten */
    for (int i = 0; i < TT_KEYS_MEMORY; i++)
        OFFER(TONE, '1', 1100 + i, COPY);
    OFFER(TONE, '1', 1200, COUNTS);
}

static void unknown_sources_and_keys_are_refused_and_not_counted(void **state)
{
    (void)state;
    assert_int_equal(tt_keys_offer(&m, TT_KEYS_NSRC, '1', 0), EINVAL);
    assert_int_equal(tt_keys_offer(&m, (enum tt_keys_src)-1, '1', 0), EINVAL);
    const int bad[] = {0, 'E', 'a', '!', ' ', '0' - 1, '9' + 1, 'A' - 1, 256 + '1', -1};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tt_keys_offer(&m, RTP, bad[i], 0), EINVAL);
    const char *good = "0123456789*#ABCD";
    for (size_t i = 0; good[i]; i++)
        assert_true(tt_keys_valid(good[i]));
    assert_int_equal(m.stats.reports[RTP], 0);
    assert_int_equal(m.seq, 0);
}

/* ---- the three pieces together, as a SIP driver would join them ---- */

struct call {
    struct tt_keys keys;
    struct tt_telev rx;
    tt_ms now;
    char heard[64];
    size_t n;
};

static void offer(struct call *c, enum tt_keys_src src, char key)
{
    if (tt_keys_offer(&c->keys, src, key, c->now) == 0) {
        assert_true(c->n + 1 < sizeof(c->heard));
        c->heard[c->n++] = key;
    }
}

static void on_event(void *user, const struct tt_telev_note *n)
{
    if (n->what == TT_TELEV_KEY)
        offer(user, RTP, n->key);
}

static void info(struct call *c, const char *body)
{
    const char *ct = "application/dtmf-relay";
    struct tt_info_key k;
    assert_int_equal(tt_info_parse(ct, strlen(ct), body, strlen(body), &k), 0);
    if (k.key)
        offer(c, INFO, k.key);
}

static void event(struct call *c, uint32_t ts, uint8_t ev, bool end, unsigned dur)
{
    const uint8_t p[] = {ev, (uint8_t)(end << 7 | 10), (uint8_t)(dur >> 8), (uint8_t)dur};
    assert_int_equal(tt_telev_packet(&c->rx, ts, p, sizeof(p)), 0);
}

static void a_phone_sending_events_and_INFO_for_every_press_gives_each_key_once(void **state)
{
    (void)state;
    struct call c = {0};
    tt_keys_init(&c.keys, 0);
    assert_int_equal(tt_telev_init(&c.rx, on_event, &c), 0);
    /* "11#", a press every 250 ms; each INFO 30 ms after its first event packet, the second
     * 1's end packets all lost, the # its INFO first */
    uint32_t ts = 80000;
    c.now = 0;
    event(&c, ts, 1, false, 160);
    c.now = 30;
    info(&c, "Signal=1\r\nDuration=160\r\n");
    c.now = 40;
    event(&c, ts, 1, true, 640);
    event(&c, ts, 1, true, 640);
    event(&c, ts, 1, true, 640);
    c.now = 250;
    event(&c, ts + 2000, 1, false, 160);
    c.now = 280;
    info(&c, "Signal=1\r\nDuration=160\r\n");
    c.now = 290;
    event(&c, ts + 2000, 1, false, 320);
    c.now = 500;
    info(&c, "Signal=11\r\nDuration=160\r\n");
    c.now = 520;
    event(&c, ts + 4000, 11, false, 160);
    event(&c, ts + 4000, 11, true, 640);
    c.heard[c.n] = 0;
    assert_string_equal(c.heard, "11#");
}

#define T(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(a_quick_repeat_from_one_source_counts_twice),
        T(one_press_sent_as_an_event_and_as_a_tone_counts_once_either_first),
        T(a_double_digit_sent_both_ways_counts_twice_however_the_tones_lag),
        T(a_press_by_all_three_sources_counts_once),
        T(an_INFO_sent_again_after_a_loss_is_still_a_copy_and_a_later_one_is_not),
        T(different_keys_are_never_copies_of_each_other),
        T(a_counted_key_takes_at_most_one_copy_from_each_source),
        T(a_source_never_pairs_with_a_press_older_than_one_it_was_a_copy_of),
        T(a_press_counted_before_an_earlier_one_still_takes_its_copy),
        T(a_press_one_source_carried_then_one_another_carried_count_once_the_known_limit),
        T(a_clock_that_goes_back_makes_a_key_young_not_old),
        T(the_window_can_be_set_or_turned_off),
        T(the_merge_remembers_the_last_32_counted_keys),
        T(unknown_sources_and_keys_are_refused_and_not_counted),
        T(a_phone_sending_events_and_INFO_for_every_press_gives_each_key_once),
    };
    return cmocka_run_group_tests_name("sip_keys", tests, NULL, NULL);
}
