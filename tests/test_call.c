/*
 * The call layer (tt_call): a session with its audio, driven by a clock and keys from outside
 * and pulled for frames. These tests are small drivers written against the public header only,
 * as a new driver (a telephone service) would be:
 *  - the frames a call gives do not depend on the block size it is pulled in;
 *  - a clip counts as heard only when the frames a driver still holds have played;
 *  - a recording stretched to a new speed is made in the background: keys work meanwhile,
 *    and a clip nobody waits for any more is kept but not played;
 *  - a lookup runs in the background while the audio goes on, and its answer is spoken;
 *  - a clip the store does not have (speech not prepared, personal words) is made by the
 *    store's workers: the call is never blocked by it, plays silence, and keys work meanwhile;
 *    a call freed while its clip is made leaves nothing behind.
 * The workers are held (tt_store_jobs_hold, prompt.h: the one internal hook used here)
 * wherever a test needs a clip to be still in the making, so nothing depends on how fast the
 * machine is. Built also under ThreadSanitizer (the store's workers).
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "prompt/prompt.h"
#include "testlib.h"

#define RATE 8000

/* A driver's view of one call: its own clock in frames, and what it heard and saw. */
struct drv {
    tt_call *c;
    tt_store *store;
    bool own_store;
    tt_diag *diag;
    int64_t frames;  /* pulled so far: the clock */
    int16_t *audio;  /* everything pulled */
    size_t len, cap;
    char lines[256][256];
    tt_ms at[256];
    int n;
    bool live; /* plays on while background work runs; else waits for it, as render does */
};

static void on_event(void *arg, const struct tt_event *ev, tt_ms now)
{
    struct drv *d = arg;
    if (d->n < 256 && (ev->type == TT_EV_SAY || ev->type == TT_EV_LOOKUP)) {
        snprintf(d->lines[d->n], sizeof(d->lines[0]), "%s %s",
                 ev->type == TT_EV_SAY ? "say" : "lookup",
                 ev->type == TT_EV_SAY ? tt_event_words(ev) : "");
        d->at[d->n++] = now;
    }
}

static tt_ms now_of(const struct drv *d)
{
    return d->frames * 1000 / RATE;
}

/* store: NULL for a store of its own, with recordings from prompts */
static void drv_open(struct drv *d, const tt_menu *m, tt_phrases **ph, const char *prompts,
                     tt_store *store)
{
    memset(d, 0, sizeof(*d));
    d->diag = tt_diag_new();
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = prompts};
    if (store)
        d->store = store;
    else
        assert_int_equal(tt_store_new(&d->store, &so, d->diag), 0);
    d->own_store = !store;
    /* DEBUG_CALL=1 writes every event on stdout, to see what a failure did. */
    struct tt_call_opts co = {.rate = RATE, .end_mode = TT_END_GOODBYE,
                              .volume = TT_CALL_VOLUME_RELATIVE,
                              .transcript = getenv("DEBUG_CALL") ? stdout : NULL,
                              .on_event = on_event, .arg = d};
    assert_int_equal(tt_call_new(&d->c, m, ph, d->store, &co, d->diag), 0);
    assert_int_equal(tt_call_start(d->c, 0), 0);
}

static void drv_close(struct drv *d)
{
    tt_call_free(d->c);
    if (d->own_store)
        tt_store_free(d->store);
    tt_diag_free(d->diag);
    free(d->audio);
}

/* Wait on the call's descriptors, as a live driver sleeps; bounded. */
static bool wait_background(struct drv *d, int seconds)
{
    time_t end = time(NULL) + seconds;
    while (time(NULL) < end) {
        int fds[2];
        struct pollfd p[2];
        size_t n = tt_call_fds(d->c, fds);
        if (n == 0)
            return true;
        for (size_t i = 0; i < n; i++)
            p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        int wait = tt_call_poll_ms(d->c);
        poll(p, n, wait < 0 || wait > 1000 ? 1000 : wait);
        assert_int_equal(tt_call_step(d->c, now_of(d)), 0);
    }
    return false;
}

/* Pull n frames in blocks of `block`, with `queued` of them always still "in the output":
 * the call hears of frames only once they are that far behind. */
static void play(struct drv *d, size_t n, size_t block, size_t queued)
{
    while (n > 0) {
        size_t k = n < block ? n : block;
        /* Offline, the clock stands still while a clip is made or a lookup runs: what the
         * call does then cannot depend on how busy the machine is. */
        if (!d->live)
            assert_true(wait_background(d, 120));
        if (d->len + k > d->cap) {
            d->cap = (d->len + k) * 2;
            d->audio = realloc(d->audio, d->cap * sizeof(*d->audio));
            assert_non_null(d->audio);
        }
        tt_call_pull(d->c, d->audio + d->len, k);
        d->len += k;
        d->frames += (int64_t)k;
        n -= k;
        size_t q = (size_t)d->frames < queued ? (size_t)d->frames : queued;
        assert_int_equal(tt_call_heard(d->c, q, now_of(d)), 0);
        assert_int_equal(tt_call_step(d->c, now_of(d)), 0);
    }
}

/* Play until the session waits for a key (at most `seconds` of call time). */
static void play_to_wait(struct drv *d, size_t block, size_t queued, int seconds)
{
    int64_t end = d->frames + (int64_t)seconds * RATE;
    while (!tt_session_waiting(tt_call_session(d->c)) && !tt_call_ended(d->c)) {
        assert_true(d->frames < end);
        play(d, block, block, queued);
    }
}

/* The first prompt from index `from` on with these words, or -1. */
static int find(const struct drv *d, int from, const char *words)
{
    for (int i = from; i < d->n; i++)
        if (strstr(d->lines[i], words))
            return i;
    return -1;
}

static const char two_pages[] = "[tonetree]\n"
                                "start = main\n"
                                "[main]\n"
                                "title = the main menu\n"
                                "text = Welcome to the test line.\n"
                                "1 = news\n"
                                "[news]\n"
                                "title = the news\n"
                                "text = There is no news today.\n";

/* Everything but silence, in order: what a listener hears, whatever the blocks were. */
static size_t sound_of(const int16_t *x, size_t n, int16_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i])
            out[k++] = x[i];
    return k;
}

static void the_audio_does_not_depend_on_the_block_size(void **state)
{
    (void)state;
    tt_menu *m = tl_menu(two_pages);
    tt_phrases *ph[8] = {0};
    tl_phrases(m, ph);
    static const size_t blocks[] = {1, 7, 160, 1024, 4093};
    /* One store for all: a text synthesized twice may differ in its last bits (the speech
     * engine's own state), and this is about the call, not the engine. */
    tt_diag *dg = tt_diag_new();
    tt_store *store = NULL;
    assert_int_equal(tt_store_new(&store, &(struct tt_store_opts){.rate = RATE}, dg), 0);
    int16_t *ref = NULL;
    size_t ref_n = 0;
    char ref_lines[256][256];
    int ref_count = 0;
    for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
        struct drv d;
        drv_open(&d, m, ph, NULL, store);
        play_to_wait(&d, blocks[b], 0, 120);
        assert_int_equal(tt_call_key(d.c, '1', now_of(&d)), 0);
        play_to_wait(&d, blocks[b], 0, 120);
        assert_int_equal(tt_call_key(d.c, '9', now_of(&d)), 0);
        while (!tt_call_ended(d.c)) {
            assert_true(d.frames < 600 * RATE);
            play(&d, blocks[b], blocks[b], 0);
        }
        int16_t *s = malloc((d.len + 1) * sizeof(*s));
        assert_non_null(s);
        size_t n = sound_of(d.audio, d.len, s);
        assert_true(n > (size_t)RATE); /* seconds of speech, not a few samples */
        assert_true(find(&d, 0, "There is no news today.") >= 0);
        if (b == 0) {
            ref = s;
            ref_n = n;
            ref_count = d.n;
            memcpy(ref_lines, d.lines, sizeof(ref_lines));
        } else {
            printf("blocks of %zu: %zu frames of sound, %d prompts, %.3f s in all\n", blocks[b],
                   n, d.n, (double)d.len / RATE);
            assert_int_equal(n, ref_n);
            assert_memory_equal(s, ref, n * sizeof(*s));
            assert_int_equal(d.n, ref_count);
            for (int i = 0; i < d.n; i++)
                assert_string_equal(d.lines[i], ref_lines[i]);
            free(s);
        }
        drv_close(&d);
    }
    free(ref);
    tt_store_free(store);
    tt_diag_free(dg);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
}

static void a_clip_is_heard_only_when_the_frames_held_ahead_have_played(void **state)
{
    (void)state;
    tt_menu *m = tl_menu(two_pages);
    tt_phrases *ph[8] = {0};
    tl_phrases(m, ph);
    /* The welcome is two prompts (the node's words, then its choices): the second begins a
     * pause after the first has been heard, so a driver holding 0.5 s of audio ahead hears
     * it 0.5 s later than one holding none. */
    tt_ms second[2];
    for (int q = 0; q < 2; q++) {
        struct drv d;
        drv_open(&d, m, ph, NULL, NULL);
        play_to_wait(&d, 80, q ? RATE / 2 : 0, 120);
        assert_true(d.n >= 2);
        second[q] = d.at[1];
        drv_close(&d);
    }
    printf("the second prompt began at %.3f s, and at %.3f s with 0.5 s held ahead\n",
           second[0] / 1000.0, second[1] / 1000.0);
    /* 500 ms later, within one block (10 ms) either way */
    assert_true(second[1] - second[0] >= 490 && second[1] - second[0] <= 510);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
}

static const char talk_fmt[] = "[tonetree]\n"
                               "start = main\n"
                               "[main]\n"
                               "title = the main menu\n"
                               "text = Welcome.\n"
                               "1 = talk\n"
                               "[talk]\n"
                               "title = the talk\n"
                               "text = A long recorded talk.\n";

static void keys_work_while_a_slow_clip_is_made(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char p[600];
    snprintf(p, sizeof(p), "%s/en", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/en/talk.wav", dir);
    int16_t *x = tl_warble(120, RATE, 3);
    tl_write_wav(p, x, 120 * RATE, RATE);
    free(x);
    tt_menu *m = tl_menu(talk_fmt);
    tt_phrases *ph[8] = {0};
    tl_phrases(m, ph);
    struct drv d;
    drv_open(&d, m, ph, dir, NULL);
    play_to_wait(&d, 80, 0, 60);
    /* Slower: the talk, recorded at normal speed, must be stretched (seconds of work). */
    assert_int_equal(tt_call_key(d.c, TT_KEY_SLOWER, now_of(&d)), 0);
    play_to_wait(&d, 80, 0, 60);
    int before = d.n;
    assert_int_equal(tt_call_key(d.c, '1', now_of(&d)), 0);
    /* The page's words come after a short pause: shown then, with their clip not made yet. */
    for (int64_t end = d.frames + 5 * RATE; find(&d, before, "A long recorded talk.") < 0;)
        assert_true(d.frames < end), play(&d, 80, 80, 0);
    assert_true(tt_call_busy(d.c));
    assert_true(tt_call_playing(d.c));
    assert_int_equal(tt_call_clip_left(d.c), 0);
    int fds[2];
    assert_int_equal(tt_call_fds(d.c, fds), 1);
    /* Meanwhile the audio goes on (silence), and the back key is answered at once. */
    d.live = true;
    play(&d, RATE / 10, 80, 0);
    bool still_making = tt_call_fds(d.c, fds) == 1;
    assert_int_equal(tt_call_key(d.c, '*', now_of(&d)), 0);
    assert_false(tt_call_busy(d.c));
    int back = d.n;
    for (int64_t end = d.frames + 5 * RATE; d.n == back;)
        assert_true(d.frames < end), play(&d, 80, 80, 0);
    assert_non_null(strstr(d.lines[back], "Welcome"));
    /* The welcome at this speed is a miss too: made by the other worker, whatever the one
     * stretching the talk does, and then played. */
    d.live = false;
    assert_true(wait_background(&d, 120));
    assert_true(tt_call_clip_left(d.c) > 0);
    printf("the back key was answered %s the stretch had ended\n",
           still_making ? "before" : "after");
    /* The stretch ends; its clip is kept, but nobody waits for it now. */
    d.live = false;
    assert_true(wait_background(&d, 120));
    tt_store_jobs_wait(d.store);
    play_to_wait(&d, 80, 0, 60);
    for (int i = back; i < d.n; i++)
        assert_null(strstr(d.lines[i], "A long recorded talk."));
    /* Asked for again at that speed, it plays at once. */
    before = d.n;
    assert_int_equal(tt_call_key(d.c, '1', now_of(&d)), 0);
    for (int64_t end = d.frames + 5 * RATE; find(&d, before, "A long recorded talk.") < 0;)
        assert_true(d.frames < end), play(&d, 80, 80, 0);
    assert_false(tt_call_busy(d.c));
    assert_true(tt_call_clip_left(d.c) > 120 * RATE); /* slower: longer than the recording */
    /* Slower still, and the call ends while that stretch runs: the worker is told to give up
     * and joined (ThreadSanitizer watches the hand-over). */
    before = d.n;
    assert_int_equal(tt_call_key(d.c, TT_KEY_SLOWER, now_of(&d)), 0); /* says it again, slower */
    for (int64_t end = d.frames + 5 * RATE; find(&d, before, "A long recorded talk.") < 0;)
        assert_true(d.frames < end), play(&d, 80, 80, 0);
    assert_true(tt_call_busy(d.c));
    drv_close(&d);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
    tl_rmtree(dir);
    free(dir);
}

static void a_lookup_runs_while_the_audio_goes_on(void **state)
{
    (void)state;
    tt_diag *dg = tt_diag_new();
    tt_menu *m = NULL;
    assert_int_equal(tt_menu_load(&m, "menus/hearing-date.ini", dg), 0);
    tt_phrases *ph[8] = {0};
    assert_int_equal(tt_phrases_load_all(m, NULL, ph, dg), 0);
    struct drv d;
    drv_open(&d, m, ph, NULL, NULL);
    play_to_wait(&d, 160, 0, 120);
    const char *keys = "120310001#";
    for (const char *k = keys; *k; k++) {
        assert_int_equal(tt_call_key(d.c, *k, now_of(&d)), 0);
        if (*k == '1' && k == keys)
            play_to_wait(&d, 160, 0, 120);
    }
    play_to_wait(&d, 160, 0, 120);
    assert_int_equal(tt_call_key(d.c, '1', now_of(&d)), 0); /* that is right */
    assert_true(find(&d, 0, "lookup") >= 0);
    assert_true(tt_call_busy(d.c));
    /* "One moment." plays while the court's program works. */
    d.live = true;
    int64_t start = d.frames;
    time_t end = time(NULL) + 60;
    while (tt_call_busy(d.c) && time(NULL) < end) {
        play(&d, 160, 160, 0);
        struct timespec t = {0, 20 * 1000 * 1000}; /* 20 ms of audio takes 20 ms */
        nanosleep(&t, NULL);
    }
    assert_false(tt_call_busy(d.c));
    printf("%.2f s of audio played while the lookup ran\n",
           (double)(d.frames - start) / RATE);
    assert_true(d.frames > start);
    d.live = false;
    play_to_wait(&d, 160, 0, 120);
    assert_true(find(&d, 0, "Your next hearing is on") >= 0);
    drv_close(&d);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    tt_diag_free(dg);
}

/* Frames from `from` on that are all silence. */
static bool silent_since(const struct drv *d, size_t from)
{
    for (size_t i = from; i < d->len; i++)
        if (d->audio[i])
            return false;
    return true;
}

static void a_miss_does_not_hold_up_the_call_and_keys_work_meanwhile(void **state)
{
    (void)state;
    tt_menu *m = tl_menu(two_pages);
    tt_phrases *ph[8] = {0};
    tl_phrases(m, ph);
    tt_diag *dg = tt_diag_new();
    tt_store *store = NULL;
    assert_int_equal(tt_store_new(&store, &(struct tt_store_opts){.rate = RATE}, dg), 0);
    /* Nothing prepared, and the workers held: the welcome's clip cannot be made until the
     * test says so. The call must go on all the same. */
    tt_store_jobs_hold(store, true);
    struct drv d;
    drv_open(&d, m, ph, NULL, store);
    d.live = true;
    assert_int_equal(d.n, 1); /* the first words ("To leave, press 9."), not made yet */
    assert_true(tt_call_busy(d.c));
    assert_true(tt_call_playing(d.c));
    assert_int_equal(tt_call_clip_left(d.c), 0);
    int fds[2];
    assert_int_equal(tt_call_fds(d.c, fds), 1);
    /* A second of audio is pulled and stepped through while the clip is not made: each pull
     * returns (silence), and the call still waits for its clip. */
    play(&d, RATE, 160, 0);
    assert_true(silent_since(&d, 0));
    assert_true(tt_call_busy(d.c));
    /* A key during the wait: answered at once, the welcome's clip no longer waited for. */
    assert_int_equal(tt_call_key(d.c, '1', now_of(&d)), 0);
    assert_false(tt_call_busy(d.c));
    for (int64_t end = d.frames + 5 * RATE; find(&d, 1, "There is no news today.") < 0;)
        assert_true(d.frames < end), play(&d, 160, 160, 0);
    assert_true(tt_call_busy(d.c)); /* its clip is a miss too, and the workers are held */
    size_t quiet = d.len;
    play(&d, RATE / 2, 160, 0);
    assert_true(silent_since(&d, quiet));
    /* Let the workers go: the news is made, and heard. */
    tt_store_jobs_hold(store, false);
    assert_true(wait_background(&d, 120));
    assert_false(tt_call_busy(d.c));
    assert_true(tt_call_clip_left(d.c) > 0);
    quiet = d.len;
    play(&d, RATE / 2, 160, 0);
    assert_false(silent_since(&d, quiet));
    assert_int_equal(find(&d, 0, "Welcome"), -1); /* the key came first: never said */
    drv_close(&d);
    tt_store_jobs_wait(store); /* the welcome, kept for the next caller though nobody waited */
    tt_store_free(store);
    tt_diag_free(dg);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
}

/* Up to the entry read back (personal words), with the workers held from the entry on. */
static void reach_read_back(struct drv *d)
{
    play_to_wait(d, 160, 0, 120);
    assert_int_equal(tt_call_key(d->c, '1', now_of(d)), 0);
    play_to_wait(d, 160, 0, 120);
    tt_store_jobs_hold(d->store, true);
    for (const char *k = "20310001#"; *k; k++)
        assert_int_equal(tt_call_key(d->c, *k, now_of(d)), 0);
    d->live = true;
    for (int64_t end = d->frames + 5 * RATE; find(d, 0, "You entered") < 0;)
        assert_true(d->frames < end), play(d, 160, 160, 0);
}

static void personal_words_are_made_while_the_call_plays_on(void **state)
{
    (void)state;
    tt_diag *dg = tt_diag_new();
    tt_menu *m = NULL;
    assert_int_equal(tt_menu_load(&m, "menus/hearing-date.ini", dg), 0);
    tt_phrases *ph[8] = {0};
    assert_int_equal(tt_phrases_load_all(m, NULL, ph, dg), 0);
    struct drv d;
    drv_open(&d, m, ph, NULL, NULL);
    reach_read_back(&d);
    /* The entry read back is personal: made by a worker for this call alone, and held. */
    assert_true(tt_call_busy(d.c));
    assert_int_equal(tt_call_clip_left(d.c), 0);
    size_t quiet = d.len;
    play(&d, RATE, 160, 0);
    assert_true(silent_since(&d, quiet));
    assert_true(tt_call_busy(d.c));
    /* "That is right" during the wait: the lookup starts; the read-back is dropped unheard. */
    assert_int_equal(tt_call_key(d.c, '1', now_of(&d)), 0);
    assert_true(find(&d, 0, "lookup") >= 0);
    tt_store_jobs_hold(d.store, false);
    /* The answer, personal too, is made when the court's program has given it; the audio goes
     * on meanwhile (as a live driver's would). */
    time_t end = time(NULL) + 60;
    while (tt_call_busy(d.c) && time(NULL) < end) {
        play(&d, 160, 160, 0);
        struct timespec t = {0, 20 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    assert_false(tt_call_busy(d.c));
    d.live = false;
    play_to_wait(&d, 160, 0, 120);
    assert_true(find(&d, 0, "Your next hearing is on") >= 0);
    drv_close(&d);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    tt_diag_free(dg);
}

static void a_call_freed_while_its_clip_is_made_leaves_nothing(void **state)
{
    (void)state;
    tt_diag *dg = tt_diag_new();
    tt_menu *hd = NULL;
    assert_int_equal(tt_menu_load(&hd, "menus/hearing-date.ini", dg), 0);
    tt_phrases *hph[8] = {0};
    assert_int_equal(tt_phrases_load_all(hd, NULL, hph, dg), 0);
    tt_menu *m = tl_menu(two_pages);
    tt_phrases *ph[8] = {0};
    tl_phrases(m, ph);
    tt_store *store = NULL;
    assert_int_equal(tt_store_new(&store, &(struct tt_store_opts){.rate = RATE}, dg), 0);
    struct drv d;
    /* personal words waiting for a worker */
    drv_open(&d, hd, hph, NULL, store);
    reach_read_back(&d);
    assert_true(tt_call_busy(d.c));
    drv_close(&d);
    /* public words waiting for a worker */
    drv_open(&d, m, ph, NULL, store);
    assert_true(tt_call_busy(d.c));
    drv_close(&d);
    tt_store_jobs_hold(store, false);
    /* public words a worker may be making already (or not yet, or done: all must be clean) */
    drv_open(&d, m, ph, NULL, store);
    assert_int_equal(tt_call_key(d.c, TT_KEY_SLOWER, now_of(&d)), 0);
    drv_close(&d);
    /* AddressSanitizer: nothing leaks; ThreadSanitizer: no race with the workers */
    tt_store_jobs_wait(store);
    tt_store_free(store);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
    tt_phrases_free_all(hd, hph);
    tt_menu_free(hd);
    tt_diag_free(dg);
}

static void a_call_at_another_rate_than_its_store_is_refused(void **state)
{
    (void)state;
    tt_menu *m = tl_menu(two_pages);
    tt_phrases *ph[8] = {0};
    tl_phrases(m, ph);
    tt_diag *dg = tt_diag_new();
    tt_store *store = NULL;
    assert_int_equal(tt_store_new(&store, &(struct tt_store_opts){.rate = RATE}, dg), 0);
    assert_int_equal(tt_store_rate(store), RATE);
    tt_call *c = NULL;
    struct tt_call_opts co = {.rate = RATE / 2, .end_mode = TT_END_GOODBYE};
    /* its clips would play at half speed, an octave down */
    assert_int_equal(tt_call_new(&c, m, ph, store, &co, dg), EINVAL);
    assert_null(c);
    tt_store_free(store);
    tt_diag_free(dg);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_call_at_another_rate_than_its_store_is_refused),
        cmocka_unit_test(the_audio_does_not_depend_on_the_block_size),
        cmocka_unit_test(a_clip_is_heard_only_when_the_frames_held_ahead_have_played),
        cmocka_unit_test(keys_work_while_a_slow_clip_is_made),
        cmocka_unit_test(a_lookup_runs_while_the_audio_goes_on),
        cmocka_unit_test(a_miss_does_not_hold_up_the_call_and_keys_work_meanwhile),
        cmocka_unit_test(personal_words_are_made_while_the_call_plays_on),
        cmocka_unit_test(a_call_freed_while_its_clip_is_made_leaves_nothing),
    };
    return cmocka_run_group_tests_name("call", tests, NULL, NULL);
}
