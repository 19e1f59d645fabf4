/*
 * One prompt store, many callers: 200 calls at once, 50 on each of 4 threads, every one a
 * tt_call pulled 20 ms at a time in turn, pressing keys (choices, back, repeat, help, louder,
 * slower, faster) until it ends. What was prepared is read with no lock; what the speed keys
 * ask for is made on demand, kept in the bounded dynamic tier and evicted when nobody holds it.
 * Built also under ThreadSanitizer (make tsan), which is the point: any race between the
 * callers, the tiers and the eviction is reported there.
 *
 * Asserted: prepare keeps all it made, though it is more than the dynamic tier's bound; every
 * call runs to its end without an error and was heard (sound in its audio); the dynamic tier
 * ends within its bound; clips were evicted (the bound was reached) and none was freed while
 * held (ASan, TSan). The store has a disk cache, which the misses read and write at once.
 * A call waiting for a clip from the store's workers stands still (as an offline driver's
 * clock does) while the others on its thread play on.
 *
 * And 32 calls, 8 on each thread, missing the same words at the same moment (nothing
 * prepared, the workers held until all have asked): the words are synthesized once, and every
 * call hears the same clip.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prompt/prompt.h"
#include "testlib.h"

#define RATE 8000
#define THREADS 4
#define CALLS_PER_THREAD 50
#define BLOCK (RATE / 50)
#define CALL_SECONDS 12         /* then the end key */
#define DYNAMIC_BYTES (1u << 20) /* small, so that eviction happens: less than what prepare
                                  * makes, which must all be kept all the same */

static const char menu_ini[] = "[tonetree]\n"
                               "start = main\n"
                               "[main]\n"
                               "title = the main menu\n"
                               "text = Welcome.\n"
                               "1 = news\n"
                               "2 = hours\n"
                               "[news]\n"
                               "title = the news\n"
                               "text = No news today.\n"
                               "[hours]\n"
                               "title = the hours\n"
                               "text = Open nine to five.\n";

/* The speed keys make misses (each call's own speeds): rarer, so that the test stays quick
 * under ThreadSanitizer, yet enough to fill the dynamic tier many times over. */
static const int alphabet[] = {'1', '2', '*', '5', '0', '1', '2', '*', '5', '1', '2', '*',
                               '1', '2', '*', '5', '0', '1', '2', '*', TT_KEY_LOUDER,
                               TT_KEY_SOFTER, TT_KEY_SLOWER, TT_KEY_FASTER};
#define N_ALPHABET (sizeof(alphabet) / sizeof(alphabet[0]))

struct caller {
    tt_call *c;
    int64_t frames;   /* this call's clock */
    int64_t next_key; /* frame of its next key */
    uint64_t rng;
    size_t sound;     /* frames that were not silence */
    int keys;
    bool done;
};

struct worker {
    tt_store *store;
    const tt_menu *m;
    tt_phrases **ph;
    int index;
    int failures;
    int keys;
    size_t unheard;   /* calls with no sound at all */
    char why[256];
};

static uint32_t rnd(uint64_t *s, uint32_t n)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)((*s * 2685821657736338717u) >> 32) % n;
}

static void fail_with(struct worker *w, const char *what, int err)
{
    if (!w->failures++)
        snprintf(w->why, sizeof(w->why), "%s: error %d", what, err);
}

static void *run_thread(void *arg)
{
    struct worker *w = arg;
    struct caller *calls = calloc(CALLS_PER_THREAD, sizeof(*calls));
    tt_diag *d = tt_diag_new();
    struct tt_call_opts co = {.rate = RATE, .end_mode = TT_END_GOODBYE,
                              .volume = TT_CALL_VOLUME_LEVEL};
    int err;
    for (int i = 0; i < CALLS_PER_THREAD; i++) {
        struct caller *k = &calls[i];
        k->rng = 0x9e3779b97f4a7c15u * (uint64_t)(w->index * CALLS_PER_THREAD + i + 1);
        k->next_key = RATE + rnd(&k->rng, 2 * RATE);
        if ((err = tt_call_new(&k->c, w->m, w->ph, w->store, &co, d)) ||
            (err = tt_call_start(k->c, 0))) {
            fail_with(w, "start", err);
            k->done = true;
        }
    }
    int16_t buf[BLOCK];
    struct pollfd wait[2 * CALLS_PER_THREAD];
    for (int live = CALLS_PER_THREAD; live > 0;) {
        live = 0;
        int stalled = 0;
        nfds_t waiting = 0;
        for (int i = 0; i < CALLS_PER_THREAD; i++) {
            struct caller *k = &calls[i];
            if (k->done)
                continue;
            tt_ms now = k->frames * 1000 / RATE;
            /* A clip being made by the store's workers: this call's clock stands still, as an
             * offline driver's does, while the others on this thread go on. */
            if (tt_call_busy(k->c)) {
                if ((err = tt_call_step(k->c, now)))
                    fail_with(w, "step", err);
                if (tt_call_busy(k->c)) {
                    int fds[2];
                    for (size_t f = 0, n = tt_call_fds(k->c, fds); f < n; f++)
                        wait[waiting++] = (struct pollfd){.fd = fds[f], .events = POLLIN};
                    stalled++;
                    live++;
                    continue;
                }
            }
            if (k->frames >= k->next_key) {
                int key = k->frames >= (int64_t)CALL_SECONDS * RATE
                              ? '9'
                              : alphabet[rnd(&k->rng, N_ALPHABET)];
                if ((err = tt_call_key(k->c, key, now)))
                    fail_with(w, "key", err);
                k->keys++;
                k->next_key = k->frames + RATE / 2 + rnd(&k->rng, 3 * RATE);
            }
            tt_call_pull(k->c, buf, BLOCK);
            for (int j = 0; j < BLOCK; j++)
                k->sound += buf[j] != 0;
            k->frames += BLOCK;
            now = k->frames * 1000 / RATE;
            if ((err = tt_call_heard(k->c, 0, now)) || (err = tt_call_step(k->c, now)))
                fail_with(w, "play", err);
            if (tt_call_ended(k->c) || k->frames > (int64_t)(CALL_SECONDS + 120) * RATE) {
                if (!tt_call_ended(k->c))
                    fail_with(w, "a call did not end", 0);
                k->done = true;
                w->keys += k->keys;
                w->unheard += k->sound == 0;
                tt_call_free(k->c);
                k->c = NULL;
                continue;
            }
            live++;
        }
        /* Every call left waits for a worker: sleep until one is woken (bounded, no timing). */
        if (live > 0 && stalled == live)
            poll(wait, waiting, 20);
    }
    free(calls);
    tt_diag_free(d);
    return NULL;
}

static void two_hundred_calls_on_four_threads_share_one_store(void **state)
{
    (void)state;
    tt_menu *m = tl_menu(menu_ini);
    tt_phrases *ph[8] = {0};
    tl_phrases(m, ph);
    tt_diag *d = tt_diag_new();
    char *dir = tl_tmpdir();
    /* With a disk cache, which the callers' misses then read and write at once. */
    tt_store *store = NULL, *roomy = NULL;
    struct tt_store_opts so = {.rate = RATE, .cache_dir = dir, .dynamic_bytes = DYNAMIC_BYTES};
    assert_int_equal(tt_store_new(&store, &so, d), 0);
    assert_int_equal(tt_store_prepare(store, m, ph, NULL, NULL), 0);
    struct tt_store_stats before, after, all;
    tt_store_stats(store, &before);
    /* Prepare keeps everything it made, even beyond the bound: as many clips as in a store
     * with room to spare, and none evicted. */
    so.dynamic_bytes = 0;
    assert_int_equal(tt_store_new(&roomy, &so, d), 0);
    assert_int_equal(tt_store_prepare(roomy, m, ph, NULL, NULL), 0);
    tt_store_stats(roomy, &all);
    tt_store_free(roomy);
    assert_true(before.bytes > DYNAMIC_BYTES);
    assert_int_equal(before.clips, all.clips);
    assert_int_equal(before.evicted, 0);

    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.store = store, .m = m, .ph = ph, .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, run_thread, &w[i]), 0);
    }
    int keys = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        if (w[i].failures)
            fail_msg("thread %d: %d failures, the first: %s", i, w[i].failures, w[i].why);
        assert_int_equal(w[i].unheard, 0);
        keys += w[i].keys;
    }
    tt_store_stats(store, &after);
    size_t dynamic = after.bytes - before.bytes;
    print_message("%d calls, %d keys; prepared %u clips (%zu KB, read with no lock); made on "
                  "demand %u more, %u evicted; the dynamic tier ends at %zu KB of %u KB\n",
                  THREADS * CALLS_PER_THREAD, keys, before.clips, before.bytes / 1024,
                  after.synthesized - before.synthesized, after.evicted, dynamic / 1024,
                  DYNAMIC_BYTES / 1024);
    assert_true(dynamic <= DYNAMIC_BYTES);
    assert_true(after.evicted > 0);
    assert_true(after.synthesized > before.synthesized);
    if (tt_diag_count(d, TT_ERROR))
        tt_diag_print(d, stderr);
    assert_int_equal(tt_diag_count(d, TT_ERROR), 0);
    tt_store_free(store);
    tt_diag_free(d);
    tl_rmtree(dir);
    free(dir);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
}

/* ---- the same words missed by many calls at once ---------------------------------------- */

#define SAME_CALLS 8 /* on each thread */

struct same_words {
    tt_store *store;
    const tt_menu *m;
    tt_phrases **ph;
    pthread_barrier_t *asked; /* every call has asked for its first clip */
    int failures;
    int heard;               /* calls whose first clip was heard */
    size_t sound[SAME_CALLS]; /* frames of sound in each call's first clip */
};

static void *ask_the_same(void *arg)
{
    struct same_words *w = arg;
    tt_diag *d = tt_diag_new();
    tt_call *c[SAME_CALLS] = {0};
    struct tt_call_opts co = {.rate = RATE, .end_mode = TT_END_GOODBYE,
                              .volume = TT_CALL_VOLUME_LEVEL};
    for (int i = 0; i < SAME_CALLS; i++)
        if (tt_call_new(&c[i], w->m, w->ph, w->store, &co, d) || tt_call_start(c[i], 0))
            w->failures++;
    pthread_barrier_wait(w->asked);
    /* Wait for each call's first clip (the workers are let go once all have asked), then
     * pull it whole; never tt_call_heard, so the session says nothing more. */
    for (int i = 0; i < SAME_CALLS && c[i]; i++) {
        for (int tries = 0; tries < 1200 && tt_call_busy(c[i]); tries++) {
            int fds[2];
            struct pollfd p[2];
            size_t n = tt_call_fds(c[i], fds);
            for (size_t f = 0; f < n; f++)
                p[f] = (struct pollfd){.fd = fds[f], .events = POLLIN};
            poll(p, n, 100);
            if (tt_call_step(c[i], 0))
                w->failures++;
        }
        int16_t buf[BLOCK];
        for (size_t left; (left = tt_call_clip_left(c[i])) > 0;) {
            size_t k = left < BLOCK ? left : BLOCK;
            tt_call_pull(c[i], buf, k);
            for (size_t j = 0; j < k; j++)
                w->sound[i] += buf[j] != 0;
        }
        w->heard += w->sound[i] > 0;
    }
    for (int i = 0; i < SAME_CALLS; i++)
        tt_call_free(c[i]);
    tt_diag_free(d);
    return NULL;
}

static void calls_missing_the_same_words_at_once_have_them_made_once(void **state)
{
    (void)state;
    tt_menu *m = tl_menu(menu_ini);
    tt_phrases *ph[8] = {0};
    tl_phrases(m, ph);
    tt_diag *d = tt_diag_new();
    tt_store *store = NULL;
    /* Nothing prepared, no disk cache: every call's first words are a miss, to synthesize. */
    assert_int_equal(tt_store_new(&store, &(struct tt_store_opts){.rate = RATE}, d), 0);
    tt_store_jobs_hold(store, true); /* so that all have asked before any is made */
    pthread_barrier_t asked;
    assert_int_equal(pthread_barrier_init(&asked, NULL, THREADS + 1), 0);
    pthread_t th[THREADS];
    struct same_words w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct same_words){.store = store, .m = m, .ph = ph, .asked = &asked};
        assert_int_equal(pthread_create(&th[i], NULL, ask_the_same, &w[i]), 0);
    }
    pthread_barrier_wait(&asked);
    struct tt_store_stats st;
    tt_store_stats(store, &st);
    assert_int_equal(st.synthesized, 0);
    tt_store_jobs_hold(store, false);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
        assert_int_equal(w[i].heard, SAME_CALLS);
        for (int k = 0; k < SAME_CALLS; k++)
            assert_int_equal(w[i].sound[k], w[0].sound[0]); /* the same clip for everyone */
    }
    tt_store_stats(store, &st);
    print_message("%d calls asked for the same words at once: synthesized %u time(s)\n",
                  THREADS * SAME_CALLS, st.synthesized);
    assert_int_equal(st.synthesized, 1);
    pthread_barrier_destroy(&asked);
    tt_store_free(store);
    tt_diag_free(d);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_hundred_calls_on_four_threads_share_one_store),
        cmocka_unit_test(calls_missing_the_same_words_at_once_have_them_made_once),
    };
    return cmocka_run_group_tests_name("store for many callers", tests, NULL, NULL);
}
