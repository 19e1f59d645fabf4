/*
 * The send schedule of an RTP stream, on simulated time: an hour of late wake-ups without
 * drift, a short stall sent as a burst and a long one skipped with the timestamp moved on,
 * silence and the marker bit, sequence numbers and timestamps across their wrap, the
 * lateness histogram's percentiles, and the earliest of many streams.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/pace.h"

#define MS 1000u            /* us */
#define TICKS 160u          /* 20 ms at 8000 Hz: PCMU, PCMA and G.722 alike */
#define T0 123456789012ull  /* an arbitrary monotonic time to start at, us */

static uint64_t rng;

static int reseed(void **state)
{
    (void)state;
    rng = 0x9e3779b97f4a7c15ull;
    return 0;
}

static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void start(struct tt_pace *p, uint16_t seq0, uint32_t ts0, struct tt_pace_hist *h)
{
    assert_int_equal(tt_pace_init(p, T0, TT_PACE_PERIOD_US, TICKS, seq0, ts0, h), 0);
}

/* Take every packet due at now; they go into out (up to max); returns how many. */
static size_t take_all(struct tt_pace *p, uint64_t now, struct tt_pace_pkt *out, size_t max)
{
    size_t n = 0;
    uint64_t want = tt_pace_count(p, now);
    struct tt_pace_pkt pkt;
    while (tt_pace_take(p, now, &pkt)) {
        assert_true(n < max);
        out[n++] = pkt;
    }
    assert_int_equal(n, want); /* tt_pace_count said as much beforehand */
    return n;
}

/* ---- drift ---- */

static void an_hour_of_wakeups_up_to_15_ms_late_sends_exactly_an_hours_packets(void **state)
{
    (void)state;
    struct tt_pace_hist h = {0};
    struct tt_pace p;
    const uint32_t ts0 = 0xfffff000u; /* wraps within the first second */
    start(&p, 40000, ts0, &h);
    const uint64_t hour = 3600ull * 1000 * MS;
    uint64_t sent = 0;
    uint16_t seq = 40000;
    while (tt_pace_next_due(&p) < T0 + hour) {
        /* The loop sleeps until the next packet is due and wakes 0 to 15 ms late. */
        uint64_t now = tt_pace_next_due(&p) + xorshift() % (15 * MS + 1);
        struct tt_pace_pkt pkt[4];
        size_t n = take_all(&p, now, pkt, 4);
        assert_int_equal(n, 1); /* 15 ms late is never a whole period */
        assert_int_equal(pkt[0].seq, seq);
        assert_int_equal(pkt[0].ts, (uint32_t)(ts0 + sent * TICKS));
        assert_int_equal(pkt[0].due, T0 + sent * TT_PACE_PERIOD_US);
        assert_true(pkt[0].late <= 15 * MS);
        assert_int_equal(pkt[0].marker, sent == 0);
        seq++;
        sent++;
    }
    /* 3600 s / 20 ms: not one packet more or less, and none skipped. */
    assert_int_equal(sent, 180000);
    assert_int_equal(p.sent, 180000);
    assert_int_equal(p.skipped, 0);
    assert_int_equal(p.stalls, 0);
    /* The lateness was uniform over 0..15 ms: the median near 7.5 ms, p99 near 14.85 ms,
     * each read at most 3.2% high (pace.h), and the maximum exactly the largest seen. */
    assert_int_equal(h.n, 180000);
    uint64_t p50 = tt_pace_hist_quantile(&h, 0.5), p99 = tt_pace_hist_quantile(&h, 0.99);
    print_message("lateness over the hour: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
                  p50 / 1e3, p99 / 1e3, h.max / 1e3);
    assert_true(p50 > 7300 && p50 < 7700 * 1.032);
    assert_true(p99 > 14700 && p99 < 15000 * 1.032);
    assert_true(h.max <= 15 * MS && h.max > 14990);
}

/* ---- stalls ---- */

static void a_60_ms_stall_sends_the_three_packets_due_at_once(void **state)
{
    (void)state;
    struct tt_pace p;
    struct tt_pace_pkt pkt[8];
    start(&p, 100, 5000, NULL);
    assert_int_equal(take_all(&p, T0, pkt, 8), 1); /* slot 0, on time */
    assert_true(pkt[0].marker);
    /* Nothing for 60 ms: slots 1, 2 and 3 are due, the oldest 40 ms late. */
    size_t n = take_all(&p, T0 + 60 * MS, pkt, 8);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pkt[i].seq, 101 + i);
        assert_int_equal(pkt[i].ts, 5000 + (1 + i) * TICKS);
        assert_int_equal(pkt[i].late, (40 - 20 * i) * MS);
        assert_false(pkt[i].marker); /* one talkspurt: the receiver's buffer absorbs it */
        assert_int_equal(pkt[i].skipped, 0);
    }
    /* and the schedule is where it was: slot 4 at 80 ms */
    assert_int_equal(tt_pace_next_due(&p), T0 + 80 * MS);
}

static void a_stall_whose_oldest_packet_is_60_ms_late_is_still_a_burst(void **state)
{
    (void)state;
    struct tt_pace p;
    struct tt_pace_pkt pkt[8];
    start(&p, 0, 0, NULL);
    assert_int_equal(take_all(&p, T0, pkt, 8), 1);
    /* 80 ms without a wake-up: slot 1 is 60 ms late, exactly TT_PACE_MAX_LATE_US */
    assert_int_equal(take_all(&p, T0 + 80 * MS, pkt, 8), 4);
    assert_int_equal(pkt[0].late, TT_PACE_MAX_LATE_US);
    assert_int_equal(p.stalls, 0);
    /* one microsecond more and it is a stall: slot 6 alone, 5 after the last sent */
    assert_int_equal(take_all(&p, T0 + 180 * MS + 1, pkt, 8), 1);
    assert_int_equal(pkt[0].skipped, 4);
    assert_int_equal(pkt[0].ts, 9 * TICKS);
    assert_int_equal(pkt[0].seq, 5);
    assert_true(pkt[0].marker);
    assert_int_equal(p.stalls, 1);
}

static void a_2_s_stall_skips_ahead_and_the_timestamp_jumps_by_the_time_skipped(void **state)
{
    (void)state;
    struct tt_pace p;
    struct tt_pace_pkt pkt[8];
    start(&p, 7, 1000, NULL);
    for (uint64_t k = 0; k < 10; k++) /* 200 ms on time */
        assert_int_equal(take_all(&p, T0 + k * 20 * MS, pkt, 8), 1);
    assert_int_equal(pkt[0].seq, 16);
    assert_int_equal(pkt[0].ts, 1000 + 9 * TICKS);

    /* The process is stopped for 2 s after slot 9: slots 10 to 109 are due, 100 packets.
     * One goes out: slot 109's, 4 ms late. */
    uint64_t now = T0 + 9 * 20 * MS + 2000 * MS + 4 * MS;
    assert_int_equal(tt_pace_count(&p, now), 1);
    assert_int_equal(take_all(&p, now, pkt, 8), 1);
    assert_int_equal(pkt[0].skipped, 99);
    assert_int_equal(pkt[0].seq, 17);                  /* no gap: nothing was lost */
    assert_int_equal(pkt[0].ts, 1000 + 109 * TICKS);   /* 2 s on: 100 x 160 after slot 9 */
    assert_int_equal(pkt[0].due, T0 + 109 * 20 * MS);  /* still on the grid */
    assert_int_equal(pkt[0].late, 4 * MS);
    assert_true(pkt[0].marker);                        /* a new talkspurt for the receiver */
    assert_int_equal(p.skipped, 99);
    assert_int_equal(p.stalls, 1);
    /* and after it, business as usual */
    assert_int_equal(take_all(&p, T0 + 110 * 20 * MS, pkt, 8), 1);
    assert_int_equal(pkt[0].seq, 18);
    assert_int_equal(pkt[0].ts, 1000 + 110 * TICKS);
    assert_false(pkt[0].marker);
}

static void nothing_is_due_before_the_start_or_between_slots(void **state)
{
    (void)state;
    struct tt_pace p;
    struct tt_pace_pkt pkt;
    start(&p, 0, 0, NULL);
    assert_false(tt_pace_take(&p, T0 - 1, &pkt));
    assert_int_equal(tt_pace_count(&p, 0), 0);
    assert_true(tt_pace_take(&p, T0, &pkt));
    assert_false(tt_pace_take(&p, T0 + 20 * MS - 1, &pkt));
    assert_true(tt_pace_take(&p, T0 + 20 * MS, &pkt));
    assert_int_equal(p.sent, 2);
}

/* ---- silence and the marker ---- */

static void after_silence_the_first_packet_carries_the_marker_and_the_time_passed(void **state)
{
    (void)state;
    struct tt_pace p;
    struct tt_pace_pkt pkt[8];
    start(&p, 500, 0, NULL);
    for (uint64_t k = 0; k < 3; k++) {
        assert_int_equal(take_all(&p, T0 + k * 20 * MS + 3 * MS, pkt, 8), 1);
        assert_int_equal(pkt[0].marker, k == 0); /* the stream's first packet only */
    }
    /* Silence over slots 3 to 7 (the loop says so at each, a little late) */
    for (uint64_t k = 3; k < 8; k++)
        assert_int_equal(tt_pace_silence(&p, T0 + k * 20 * MS + 2 * MS), 1);
    assert_int_equal(tt_pace_silence(&p, T0 + 8 * 20 * MS - 1), 0); /* slot 8 not yet due */
    assert_int_equal(take_all(&p, T0 + 8 * 20 * MS, pkt, 8), 1);
    assert_true(pkt[0].marker);
    assert_int_equal(pkt[0].seq, 503);
    assert_int_equal(pkt[0].ts, 8 * TICKS);
    assert_int_equal(pkt[0].skipped, 0); /* silence is not a stall */
    assert_int_equal(p.skipped, 5);
    assert_int_equal(p.stalls, 0);
    /* Silence covering several slots at once passes them all */
    assert_int_equal(tt_pace_silence(&p, T0 + 12 * 20 * MS + 5 * MS), 4);
    assert_int_equal(take_all(&p, T0 + 13 * 20 * MS, pkt, 8), 1);
    assert_true(pkt[0].marker);
    assert_int_equal(pkt[0].ts, 13 * TICKS);
}

/* ---- wrap ---- */

static void sequence_and_timestamp_wrap_at_2_16_and_2_32(void **state)
{
    (void)state;
    struct tt_pace p;
    struct tt_pace_pkt pkt[8];
    start(&p, 65534, UINT32_MAX - 319, NULL); /* two packets before each wraps */
    const uint16_t seqs[] = {65534, 65535, 0, 1};
    const uint32_t tss[] = {UINT32_MAX - 319, UINT32_MAX - 159, 0, 160};
    for (uint64_t k = 0; k < 4; k++) {
        assert_int_equal(take_all(&p, T0 + k * 20 * MS, pkt, 8), 1);
        assert_int_equal(pkt[0].seq, seqs[k]);
        assert_int_equal(pkt[0].ts, tss[k]);
    }
    /* and far on, where k x ticks itself passes 2^32: slot 2^26 + 5 (15 days on) */
    uint64_t k = (1ull << 26) + 5;
    p.next = k;
    assert_int_equal(take_all(&p, T0 + k * 20 * MS, pkt, 8), 1);
    assert_int_equal(pkt[0].ts, (uint32_t)((uint64_t)(UINT32_MAX - 319) + k * TICKS));
    assert_int_equal(pkt[0].seq, 2);
}

static void a_schedule_needs_a_period_and_a_timestamp_step(void **state)
{
    (void)state;
    struct tt_pace p;
    assert_int_equal(tt_pace_init(&p, 0, 0, TICKS, 0, 0, NULL), EINVAL);
    assert_int_equal(tt_pace_init(&p, 0, 1000001, TICKS, 0, 0, NULL), EINVAL);
    assert_int_equal(tt_pace_init(&p, 0, TT_PACE_PERIOD_US, 0, 0, 0, NULL), EINVAL);
    assert_int_equal(tt_pace_init(&p, 0, 30000, 240, 0, 0, NULL), 0); /* 30 ms packets */
}

/* ---- histogram ---- */

static void the_histogram_reads_percentiles_within_its_bucket_width(void **state)
{
    (void)state;
    struct tt_pace_hist h;
    tt_pace_hist_clear(&h);
    assert_int_equal(tt_pace_hist_quantile(&h, 0.5), 0);
    /* 1..10000 us, once each, in a scrambled order */
    for (uint64_t i = 0; i < 10000; i++)
        tt_pace_hist_add(&h, (i * 7919) % 10000 + 1);
    assert_int_equal(h.n, 10000);
    assert_int_equal(h.max, 10000);
    uint64_t p50 = tt_pace_hist_quantile(&h, 0.5), p99 = tt_pace_hist_quantile(&h, 0.99);
    assert_true(p50 >= 5000 && p50 <= 5000 * 1.032); /* never under, at most 3.2% over */
    assert_true(p99 >= 9900 && p99 <= 10000);        /* and never over the maximum */
    assert_int_equal(tt_pace_hist_quantile(&h, 1.0), 10000);
    assert_int_equal(tt_pace_hist_quantile(&h, 0.0), 1); /* the smallest, exact below 64 */

    /* below 64 us every value has its own bucket */
    tt_pace_hist_clear(&h);
    for (uint64_t v = 0; v < 64; v++)
        tt_pace_hist_add(&h, v);
    assert_int_equal(tt_pace_hist_quantile(&h, 0.5), 31);
    assert_int_equal(tt_pace_hist_quantile(&h, 0.25), 15);

    /* a value past the last octave counts in the last bucket; the maximum stays exact */
    tt_pace_hist_clear(&h);
    tt_pace_hist_add(&h, 100);
    tt_pace_hist_add(&h, 1ull << 40);
    assert_int_equal(h.count[TT_PACE_HIST_BUCKETS - 1], 1);
    assert_int_equal(tt_pace_hist_quantile(&h, 1.0), 1ull << 40);
    assert_int_equal(tt_pace_hist_quantile(&h, 0.5), 100 + 1); /* 100 and 101 share a bucket */

    /* every bucket's values come back within 1/32 over */
    for (uint64_t v = 64; v < (1ull << 32); v = v * 9 / 8 + 1) {
        tt_pace_hist_clear(&h);
        tt_pace_hist_add(&h, v);
        tt_pace_hist_add(&h, UINT32_MAX); /* so the maximum does not cap the reading */
        uint64_t got = tt_pace_hist_quantile(&h, 0.5);
        assert_true(got >= v && (double)got <= (double)v * (1.0 + 1.0 / 32));
    }
}

static void several_streams_share_one_histogram(void **state)
{
    (void)state;
    struct tt_pace_hist h = {0};
    struct tt_pace a, b;
    struct tt_pace_pkt pkt[4];
    start(&a, 0, 0, &h);
    start(&b, 0, 0, &h);
    take_all(&a, T0 + 3 * MS, pkt, 4);
    take_all(&b, T0 + 5 * MS, pkt, 4);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.max, 5 * MS);
}

/* ---- many streams ---- */

static void the_loop_wakes_for_the_earliest_of_its_streams(void **state)
{
    (void)state;
    enum { N = 2000 };
    struct tt_pace *v[N];
    struct tt_pace_pkt pkt[4];
    assert_int_equal(tt_pace_earliest(NULL, 0), UINT64_MAX);
    uint64_t want = UINT64_MAX;
    for (size_t i = 0; i < N; i++) {
        if (i % 7 == 3) { /* a free call slot */
            v[i] = NULL;
            continue;
        }
        v[i] = malloc(sizeof(*v[i]));
        assert_non_null(v[i]);
        /* calls started over the last second, each at a random microsecond */
        assert_int_equal(tt_pace_init(v[i], T0 + xorshift() % (1000 * MS), TT_PACE_PERIOD_US,
                                      TICKS, 0, 0, NULL), 0);
    }
    /* serve everything due up to a moment, then the earliest is the next slot of any */
    uint64_t now = T0 + 1000 * MS;
    for (size_t i = 0; i < N; i++) {
        if (!v[i])
            continue;
        while (tt_pace_take(v[i], now, pkt))
            ;
        uint64_t due = tt_pace_next_due(v[i]);
        assert_true(due > now && due <= now + 20 * MS);
        if (due < want)
            want = due;
    }
    assert_int_equal(tt_pace_earliest(v, N), want);
    for (size_t i = 0; i < N; i++)
        free(v[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(
            an_hour_of_wakeups_up_to_15_ms_late_sends_exactly_an_hours_packets, reseed),
        cmocka_unit_test(a_60_ms_stall_sends_the_three_packets_due_at_once),
        cmocka_unit_test(a_stall_whose_oldest_packet_is_60_ms_late_is_still_a_burst),
        cmocka_unit_test(a_2_s_stall_skips_ahead_and_the_timestamp_jumps_by_the_time_skipped),
        cmocka_unit_test(nothing_is_due_before_the_start_or_between_slots),
        cmocka_unit_test(after_silence_the_first_packet_carries_the_marker_and_the_time_passed),
        cmocka_unit_test(sequence_and_timestamp_wrap_at_2_16_and_2_32),
        cmocka_unit_test(a_schedule_needs_a_period_and_a_timestamp_step),
        cmocka_unit_test(the_histogram_reads_percentiles_within_its_bucket_width),
        cmocka_unit_test(several_streams_share_one_histogram),
        cmocka_unit_test_setup(the_loop_wakes_for_the_earliest_of_its_streams, reseed),
    };
    return cmocka_run_group_tests_name("sip pace", tests, NULL, NULL);
}
