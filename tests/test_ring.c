/*
 * The frame ring between the player's thread and the audio callback: wrap-around, full and
 * empty, two threads moving millions of frames with nothing lost, repeated or reordered, and
 * the barge-in cut (fade exact to the sample, what follows the cut untouched) alone and while
 * both threads run. Threads never call cmocka (it is not thread-safe): they record what they
 * saw and the main thread checks it afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "device/ring.h"

#define FADE 80 /* 5 ms at 16 kHz */

/* The value written at position p in the patterns below: never 0 and never below the fade
 * length, so a faded sample can never be mistaken for an untouched one. */
static int16_t pattern(uint64_t p)
{
    return (int16_t)(1000 + p % 29000);
}

/* The i-th frame of a fade, as ring.h specifies it. */
static int16_t faded(int16_t x, size_t i, size_t fade)
{
    return (int16_t)((int32_t)x * (int32_t)(fade - 1 - i) / (int32_t)fade);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void write_const(struct tt_ring *r, int16_t v, size_t n)
{
    int16_t buf[4096];
    assert_true(n <= 4096);
    for (size_t i = 0; i < n; i++)
        buf[i] = v;
    assert_int_equal(tt_ring_write(r, buf, n), n);
}

static void capacity_rounds_up_to_a_power_of_two_and_nonsense_is_refused(void **state)
{
    (void)state;
    struct tt_ring r;
    assert_int_equal(tt_ring_init(&r, 100, FADE), 0);
    assert_int_equal(r.cap, 128);
    assert_int_equal(tt_ring_space(&r), 128);
    assert_int_equal(tt_ring_fill(&r), 0);
    tt_ring_free(&r);
    assert_int_equal(tt_ring_init(&r, 64, FADE), 0);
    assert_int_equal(r.cap, 64);
    tt_ring_free(&r);
    assert_int_equal(tt_ring_init(&r, 0, FADE), EINVAL);
    assert_int_equal(tt_ring_init(&r, 64, 0), EINVAL);
    assert_int_equal(tt_ring_init(&r, 64, 1 << 20), EINVAL);
    tt_ring_free(&r); /* harmless after a refused init */
}

static void a_full_ring_takes_nothing_and_an_empty_one_gives_nothing(void **state)
{
    (void)state;
    struct tt_ring r;
    assert_int_equal(tt_ring_init(&r, 16, FADE), 0);
    int16_t in[20], out[20];
    for (int i = 0; i < 20; i++)
        in[i] = (int16_t)(i + 1);
    assert_int_equal(tt_ring_read(&r, out, 5), 0);
    assert_int_equal(tt_ring_write(&r, in, 20), 16); /* only what fits */
    assert_int_equal(tt_ring_space(&r), 0);
    assert_int_equal(tt_ring_fill(&r), 16);
    assert_int_equal(tt_ring_write(&r, in, 1), 0);
    memset(out, 0, sizeof(out));
    assert_int_equal(tt_ring_read(&r, out, 20), 16);
    for (int i = 0; i < 16; i++)
        assert_int_equal(out[i], i + 1);
    assert_int_equal(tt_ring_read(&r, out, 20), 0);
    assert_int_equal(tt_ring_fill(&r), 0);
    assert_int_equal(tt_ring_space(&r), 16);
    assert_int_equal(tt_ring_read_pos(&r), 16);
    assert_int_equal(tt_ring_write_pos(&r), 16);
    tt_ring_free(&r);
}

static void frames_come_out_in_order_across_many_wraps(void **state)
{
    (void)state;
    struct tt_ring r;
    assert_int_equal(tt_ring_init(&r, 16, FADE), 0);
    int16_t buf[16];
    uint64_t w = 0, rd = 0, seed = 42;
    /* Uneven write and read sizes put the wrap point everywhere inside both copies. */
    for (int round = 0; round < 20000; round++) {
        size_t n = xorshift(&seed) % 17;
        size_t space = tt_ring_space(&r);
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(w + i);
        size_t k = tt_ring_write(&r, buf, n);
        assert_int_equal(k, n < space ? n : space);
        w += k;
        size_t m = xorshift(&seed) % 17;
        size_t fill = tt_ring_fill(&r);
        size_t got = tt_ring_read(&r, buf, m);
        assert_int_equal(got, m < fill ? m : fill);
        for (size_t i = 0; i < got; i++)
            assert_int_equal(buf[i], pattern(rd + i));
        rd += got;
        assert_int_equal(tt_ring_write_pos(&r), w);
        assert_int_equal(tt_ring_read_pos(&r), rd);
    }
    assert_true(w > 100000); /* thousands of wraps of a 16-frame ring */
    tt_ring_free(&r);
}

/* ---- two threads, no cuts: every frame once, in order ---- */

#define STRESS_FRAMES 5000000ull

struct stress {
    struct tt_ring r;
    uint64_t bad_at;   /* first position that came out wrong, or UINT64_MAX */
    int16_t bad_value;
    uint64_t received;
};

static void *stress_producer(void *arg)
{
    struct stress *s = arg;
    int16_t buf[700];
    uint64_t w = 0, seed = 7;
    while (w < STRESS_FRAMES) {
        size_t n = 1 + xorshift(&seed) % 700;
        if (n > STRESS_FRAMES - w)
            n = (size_t)(STRESS_FRAMES - w);
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(w + i);
        size_t off = 0;
        while (off < n) {
            size_t k = tt_ring_write(&s->r, buf + off, n - off);
            if (k == 0)
                sched_yield();
            off += k;
        }
        w += n;
    }
    return NULL;
}

static void *stress_consumer(void *arg)
{
    struct stress *s = arg;
    int16_t buf[500];
    uint64_t rd = 0, seed = 11;
    while (rd < STRESS_FRAMES) {
        size_t n = 1 + xorshift(&seed) % 500;
        size_t got = tt_ring_read(&s->r, buf, n);
        if (got == 0)
            sched_yield();
        for (size_t i = 0; i < got; i++) {
            if (buf[i] != pattern(rd + i) && s->bad_at == UINT64_MAX) {
                s->bad_at = rd + i;
                s->bad_value = buf[i];
            }
        }
        rd += got;
    }
    s->received = rd;
    return NULL;
}

static void two_threads_move_millions_of_frames_without_loss_or_repeat(void **state)
{
    (void)state;
    struct stress *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    /* A small ring, so the producer finds it full and the consumer finds it empty often. */
    assert_int_equal(tt_ring_init(&s->r, 1024, FADE), 0);
    s->bad_at = UINT64_MAX;
    pthread_t p, c;
    assert_int_equal(pthread_create(&c, NULL, stress_consumer, s), 0);
    assert_int_equal(pthread_create(&p, NULL, stress_producer, s), 0);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    if (s->bad_at != UINT64_MAX)
        fail_msg("frame %llu came out as %d, expected %d", (unsigned long long)s->bad_at,
                 s->bad_value, pattern(s->bad_at));
    assert_int_equal(s->received, STRESS_FRAMES);
    assert_int_equal(tt_ring_read_pos(&s->r), STRESS_FRAMES);
    assert_int_equal(tt_ring_fill(&s->r), 0);
    tt_ring_free(&s->r);
    free(s);
}

/* ---- the cut, one thread ---- */

static void a_cut_fades_the_queue_over_the_fade_length_then_drops_it(void **state)
{
    (void)state;
    struct tt_ring r;
    assert_int_equal(tt_ring_init(&r, 4096, FADE), 0);
    write_const(&r, 20000, 1000);
    int16_t out[2048];
    assert_int_equal(tt_ring_read(&r, out, 100), 100); /* played before the key: untouched */
    for (int i = 0; i < 100; i++)
        assert_int_equal(out[i], 20000);
    tt_ring_cut(&r);
    write_const(&r, -7, 300); /* the next prompt, written after the cut */
    size_t got = tt_ring_read(&r, out, 2048);
    assert_int_equal(got, FADE + 300);
    for (size_t i = 0; i < FADE; i++)
        assert_int_equal(out[i], faded(20000, i, FADE));
    assert_int_equal(out[0], 20000 * (FADE - 1) / FADE);
    assert_int_equal(out[FADE - 1], 0); /* the ramp ends on silence */
    for (size_t i = FADE; i < got; i++)
        assert_int_equal(out[i], -7);
    /* The 820 frames after the fade were consumed without being played. */
    assert_int_equal(tt_ring_read_pos(&r), 1300);
    assert_int_equal(tt_ring_fill(&r), 0);
    tt_ring_free(&r);
}

static void the_fade_is_exact_on_a_varying_signal_read_one_frame_at_a_time(void **state)
{
    (void)state;
    struct tt_ring r;
    assert_int_equal(tt_ring_init(&r, 4096, FADE), 0);
    int16_t in[1000];
    for (int i = 0; i < 1000; i++)
        in[i] = (int16_t)((i % 2 ? -1 : 1) * (30000 - 17 * i)); /* both signs, all sizes */
    assert_int_equal(tt_ring_write(&r, in, 1000), 1000);
    int16_t x;
    assert_int_equal(tt_ring_read(&r, &x, 1), 1);
    tt_ring_cut(&r);
    /* Reads of one frame: the fade's progress must carry from read to read. */
    for (size_t i = 0; i < FADE; i++) {
        assert_int_equal(tt_ring_read(&r, &x, 1), 1);
        assert_int_equal(x, faded(in[1 + i], i, FADE));
    }
    assert_int_equal(tt_ring_read(&r, &x, 1), 0);
    assert_int_equal(tt_ring_read_pos(&r), 1000);
    tt_ring_free(&r);
}

static void a_cut_with_less_than_the_fade_queued_fades_what_is_there(void **state)
{
    (void)state;
    struct tt_ring r;
    assert_int_equal(tt_ring_init(&r, 4096, FADE), 0);
    write_const(&r, 16000, 10);
    tt_ring_cut(&r);
    write_const(&r, 5, 50);
    int16_t out[100];
    assert_int_equal(tt_ring_read(&r, out, 100), 60);
    /* The same slope as a full fade, cut short; nothing written after the cut is touched. */
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(out[i], faded(16000, i, FADE));
    for (size_t i = 10; i < 60; i++)
        assert_int_equal(out[i], 5);
    assert_int_equal(tt_ring_read_pos(&r), 60);

    /* A cut with nothing queued changes nothing. */
    tt_ring_cut(&r);
    write_const(&r, 9, 20);
    assert_int_equal(tt_ring_read(&r, out, 100), 20);
    for (size_t i = 0; i < 20; i++)
        assert_int_equal(out[i], 9);
    tt_ring_free(&r);
}

static void two_cuts_in_a_row_drop_both_queues_with_one_unbroken_fade(void **state)
{
    (void)state;
    struct tt_ring r;
    assert_int_equal(tt_ring_init(&r, 4096, FADE), 0);
    int16_t out[4096];

    /* Both cuts before the consumer runs: one fade over A, then A and B dropped, C plays. */
    write_const(&r, 10000, 500); /* A */
    tt_ring_cut(&r);
    write_const(&r, 20000, 300); /* B */
    tt_ring_cut(&r);
    write_const(&r, 3, 40); /* C */
    assert_int_equal(tt_ring_read(&r, out, 4096), FADE + 40);
    for (size_t i = 0; i < FADE; i++)
        assert_int_equal(out[i], faded(10000, i, FADE));
    for (size_t i = FADE; i < FADE + 40; i++)
        assert_int_equal(out[i], 3);
    assert_int_equal(tt_ring_read_pos(&r), 840);

    /* The second cut arrives mid-fade: the ramp keeps going down (never back up to full),
     * and everything up to the second cut is dropped. */
    write_const(&r, 10000, 500); /* A */
    tt_ring_cut(&r);
    assert_int_equal(tt_ring_read(&r, out, 30), 30);
    for (size_t i = 0; i < 30; i++)
        assert_int_equal(out[i], faded(10000, i, FADE));
    write_const(&r, 20000, 300); /* B */
    tt_ring_cut(&r);
    write_const(&r, 3, 40); /* C */
    assert_int_equal(tt_ring_read(&r, out, 4096), FADE - 30 + 40);
    for (size_t i = 0; i < FADE - 30; i++)
        assert_int_equal(out[i], faded(10000, 30 + i, FADE));
    for (size_t i = FADE - 30; i < FADE - 30 + 40; i++)
        assert_int_equal(out[i], 3);
    assert_int_equal(tt_ring_read_pos(&r), 840 + 840);

    /* A fade that ran out of old frames mid-ramp, then a new cut: a fresh fade from full. */
    write_const(&r, 8000, 10);
    tt_ring_cut(&r);
    write_const(&r, 12000, 200);
    assert_int_equal(tt_ring_read(&r, out, 20), 20); /* 10 faded, 10 new at full */
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(out[i], faded(8000, i, FADE));
    for (size_t i = 10; i < 20; i++)
        assert_int_equal(out[i], 12000);
    tt_ring_cut(&r);
    assert_int_equal(tt_ring_read(&r, out, 4096), FADE);
    for (size_t i = 0; i < FADE; i++)
        assert_int_equal(out[i], faded(12000, i, FADE));
    assert_int_equal(tt_ring_fill(&r), 0);
    tt_ring_free(&r);
}

static void a_cut_across_the_wrap_point_fades_and_skips_correctly(void **state)
{
    (void)state;
    struct tt_ring r;
    assert_int_equal(tt_ring_init(&r, 128, FADE), 0);
    int16_t buf[128];
    for (int i = 0; i < 100; i++)
        buf[i] = 0;
    assert_int_equal(tt_ring_write(&r, buf, 100), 100);
    assert_int_equal(tt_ring_read(&r, buf, 100), 100);
    /* Positions 100..227 straddle the end of the 128-frame buffer. */
    for (int i = 0; i < 120; i++)
        buf[i] = pattern(100 + (uint64_t)i);
    assert_int_equal(tt_ring_write(&r, buf, 120), 120);
    tt_ring_cut(&r);
    write_const(&r, 4, 8);
    int16_t out[256];
    assert_int_equal(tt_ring_read(&r, out, 256), FADE + 8);
    for (size_t i = 0; i < FADE; i++)
        assert_int_equal(out[i], faded(pattern(100 + i), i, FADE));
    for (size_t i = FADE; i < FADE + 8; i++)
        assert_int_equal(out[i], 4);
    tt_ring_free(&r);
}

/* ---- two threads with cuts: checked afterwards against the fade rules ---- */

#define CUT_FRAMES 2000000ull
#define MAX_CUTS 100000

struct cut_stress {
    struct tt_ring r;
    /* producer's log */
    uint64_t cuts[MAX_CUTS];
    size_t ncuts;
    /* consumer's log: every frame it got, and per read the positions before and after */
    int16_t *frames;
    size_t nframes;
    struct read_rec { uint64_t before, after; size_t got; } *reads;
    size_t nreads, maxreads;
    _Atomic int done;
};

static void *cut_producer(void *arg)
{
    struct cut_stress *s = arg;
    int16_t buf[300];
    uint64_t w = 0, seed = 99;
    while (w < CUT_FRAMES) {
        size_t n = 1 + xorshift(&seed) % 300;
        if (n > CUT_FRAMES - w)
            n = (size_t)(CUT_FRAMES - w);
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(w + i);
        size_t off = 0;
        while (off < n) {
            size_t k = tt_ring_write(&s->r, buf + off, n - off);
            if (k == 0)
                sched_yield();
            off += k;
        }
        w += n;
        /* Cuts often, sometimes two back to back, so every case of ring.h happens. */
        uint64_t dice = xorshift(&seed) % 40;
        if (dice < 2 && s->ncuts + 2 < MAX_CUTS) {
            s->cuts[s->ncuts++] = w;
            tt_ring_cut(&s->r);
            if (dice == 0) {
                s->cuts[s->ncuts++] = w;
                tt_ring_cut(&s->r);
            }
        }
    }
    atomic_store(&s->done, 1);
    return NULL;
}

static void *cut_consumer(void *arg)
{
    struct cut_stress *s = arg;
    uint64_t seed = 5;
    for (;;) {
        int done = atomic_load(&s->done);
        size_t n = 1 + xorshift(&seed) % 200;
        uint64_t before = tt_ring_read_pos(&s->r);
        size_t got = tt_ring_read(&s->r, s->frames + s->nframes, n);
        uint64_t after = tt_ring_read_pos(&s->r);
        if (after != before && s->nreads < s->maxreads)
            s->reads[s->nreads++] = (struct read_rec){before, after, got};
        s->nframes += got;
        if (after == before) {
            if (done && tt_ring_fill(&s->r) == 0)
                break;
            sched_yield();
        }
    }
    return NULL;
}

static bool is_cut(const struct cut_stress *s, uint64_t p)
{
    for (size_t i = 0; i < s->ncuts; i++)
        if (s->cuts[i] == p)
            return true;
    return false;
}

static bool before_some_cut(const struct cut_stress *s, uint64_t p)
{
    return s->ncuts > 0 && p < s->cuts[s->ncuts - 1];
}

static void cuts_while_both_threads_run_follow_the_fade_rules(void **state)
{
    (void)state;
    struct cut_stress *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(tt_ring_init(&s->r, 2048, FADE), 0);
    s->frames = calloc(CUT_FRAMES, sizeof(*s->frames));
    s->maxreads = CUT_FRAMES;
    s->reads = calloc(s->maxreads, sizeof(*s->reads));
    assert_non_null(s->frames);
    assert_non_null(s->reads);
    pthread_t p, c;
    assert_int_equal(pthread_create(&c, NULL, cut_consumer, s), 0);
    assert_int_equal(pthread_create(&p, NULL, cut_producer, s), 0);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    assert_true(s->ncuts > 100);
    assert_true(s->nreads < s->maxreads);

    /* Replay the consumer's log. j is the step of the fade in progress (-1: none). Each
     * frame is either untouched, the next step of the fade, or the first step of a new one;
     * a read may jump ahead once, right after a fade reaches silence, and only to a cut. */
    long j = -1;
    size_t f = 0, fades = 0, skips = 0;
    uint64_t pos = 0;
    for (size_t ri = 0; ri < s->nreads; ri++) {
        const struct read_rec *rr = &s->reads[ri];
        assert_int_equal(rr->before, pos);
        uint64_t skip = rr->after - rr->before - rr->got;
        for (size_t i = 0; i < rr->got; i++, f++) {
            int16_t v = s->frames[f], x = pattern(pos);
            if (j >= 0 && v == faded(x, (size_t)j, FADE)) {
                assert_true(before_some_cut(s, pos));
                j++;
            } else if (v == x) {
                if (j >= 0)
                    assert_true(is_cut(s, pos)); /* a short fade ends only at its cut */
                j = -1;
            } else if (v == faded(x, 0, FADE)) {
                if (j >= 0)
                    assert_true(is_cut(s, pos));
                assert_true(before_some_cut(s, pos));
                fades++;
                j = 1;
            } else {
                fail_msg("frame at %llu is %d: neither %d nor a step of the fade (j=%ld)",
                         (unsigned long long)pos, v, x, j);
            }
            pos++;
            if (j == FADE) {
                j = -1;
                if (skip) {
                    pos += skip;
                    assert_true(is_cut(s, pos));
                    skip = 0;
                    skips++;
                }
            }
        }
        if (skip) { /* the fade completed on the read's last frame */
            assert_true(j == -1);
            pos += skip;
            assert_true(is_cut(s, pos));
            skips++;
        }
        assert_int_equal(pos, rr->after);
    }
    assert_int_equal(f, s->nframes);
    assert_int_equal(pos, CUT_FRAMES);
    assert_true(fades > 0);
    assert_true(skips > 0);
    free(s->frames);
    free(s->reads);
    tt_ring_free(&s->r);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capacity_rounds_up_to_a_power_of_two_and_nonsense_is_refused),
        cmocka_unit_test(a_full_ring_takes_nothing_and_an_empty_one_gives_nothing),
        cmocka_unit_test(frames_come_out_in_order_across_many_wraps),
        cmocka_unit_test(two_threads_move_millions_of_frames_without_loss_or_repeat),
        cmocka_unit_test(a_cut_fades_the_queue_over_the_fade_length_then_drops_it),
        cmocka_unit_test(the_fade_is_exact_on_a_varying_signal_read_one_frame_at_a_time),
        cmocka_unit_test(a_cut_with_less_than_the_fade_queued_fades_what_is_there),
        cmocka_unit_test(two_cuts_in_a_row_drop_both_queues_with_one_unbroken_fade),
        cmocka_unit_test(a_cut_across_the_wrap_point_fades_and_skips_correctly),
        cmocka_unit_test(cuts_while_both_threads_run_follow_the_fade_rules),
    };
    return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
