/*
 * Misses made by the store's workers (prompt.h's store jobs): a SAY the store has no clip for
 * is a job, made off the caller's thread while that thread goes on using the store, and the
 * result lands in the store as if tt_store_say had made it. The same public words asked twice
 * at once are made once; personal words never are shared. A job can be given up in any state,
 * and a store with no workers makes it at once. No timing is asserted: the workers are held
 * (tt_store_jobs_hold) wherever a test needs a job to be still waiting.
 * Built also under ThreadSanitizer (make tsan).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "prompt/prompt.h"
#include "testlib.h"

#define RATE 16000

static const char menu_fmt[] =
    "[tonetree]\n"
    "start = main\n"
    "prompts = %s\n"
    "[main]\n"
    "title = the main menu\n"
    "text = Welcome.\n"
    "1 = talk\n"
    "[talk]\n"
    "title = the talk\n"
    "text = A long recorded talk.\n";

static struct {
    char *dir;
    tt_menu *m;
    tt_store *store;
    tt_diag *diag;
    int pipe[2]; /* the jobs' completion bytes, as a call's work_done */
} G;

static void write_recording(const char *path, double seconds)
{
    int16_t *x = tl_warble(seconds, RATE, 1);
    tl_write_wav(path, x, (size_t)(seconds * RATE), RATE);
    free(x);
}

static int setup(void **state)
{
    (void)state;
    G.dir = tl_tmpdir();
    char p[600];
    snprintf(p, sizeof(p), "%s/en", G.dir);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/en/talk.wav", G.dir);
    write_recording(p, 20.0);
    char ini[2048];
    snprintf(ini, sizeof(ini), menu_fmt, G.dir);
    G.m = tl_menu(ini);
    G.diag = tt_diag_new();
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = G.dir};
    assert_int_equal(tt_store_new(&G.store, &so, G.diag), 0);
    assert_int_equal(pipe(G.pipe), 0);
    assert_int_equal(fcntl(G.pipe[0], F_SETFL, O_NONBLOCK), 0);
    assert_int_equal(fcntl(G.pipe[1], F_SETFL, O_NONBLOCK), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tt_store_free(G.store);
    close(G.pipe[0]);
    close(G.pipe[1]);
    tt_diag_free(G.diag);
    tt_menu_free(G.m);
    tl_rmtree(G.dir);
    free(G.dir);
    return 0;
}

static struct tt_event say_talk(int speed)
{
    struct tt_event ev = {.type = TT_EV_SAY, .node = tt_menu_find(G.m, "talk"), .lang = 0,
                          .part = TT_PART_BODY, .speed = speed,
                          .text = "A long recorded talk."};
    return ev;
}

/* The engine's own words (no recording can stand in), public or personal. */
static struct tt_event say_words(const char *text, enum tt_privacy privacy)
{
    struct tt_event ev = {.type = TT_EV_SAY, .node = tt_menu_find(G.m, "main"), .lang = 0,
                          .part = TT_PART_ENGINE, .speed = 100, .text = text,
                          .privacy = privacy};
    return ev;
}

/* A miss: a job, not a clip. */
static struct tt_store_job *job_for(const struct tt_event *ev)
{
    const struct tt_clip *c = NULL;
    struct tt_store_job *j = NULL;
    assert_int_equal(tt_store_job_new(G.store, G.m, ev, &c, &j), 0);
    assert_null(c);
    assert_non_null(j);
    return j;
}

/* Sleep on the pipe, as a driver does, until the job is made (bounded: a minute). */
static void wait_made(struct tt_store_job *j)
{
    for (int i = 0; i < 600 && !tt_store_job_done(G.store, j); i++) {
        struct pollfd p = {.fd = G.pipe[0], .events = POLLIN};
        char b[16];
        if (poll(&p, 1, 100) > 0)
            while (read(G.pipe[0], b, sizeof(b)) > 0)
                ;
    }
    assert_true(tt_store_job_done(G.store, j));
}

static unsigned synthesized(void)
{
    struct tt_store_stats st;
    tt_store_stats(G.store, &st);
    return st.synthesized;
}

static void a_recording_at_a_new_speed_is_stretched_by_the_workers(void **state)
{
    (void)state;
    struct tt_event ev = say_talk(70);
    struct tt_store_job *job = job_for(&ev);
    assert_int_equal(tt_store_job_start(G.store, job, G.pipe[1]), 0);
    /* meanwhile the caller's thread goes on: speech, and the recording at its own speed */
    const struct tt_clip *c;
    for (int i = 0; i < 3; i++) {
        char text[64];
        snprintf(text, sizeof(text), "Still here, %d.", i);
        assert_int_equal(tt_store_get(G.store, "en", "flite:kal16", NULL, text, 100, &c), 0);
        assert_true(c->frames > 0);
        tt_store_release(G.store, c);
    }
    struct tt_event normal = say_talk(100);
    assert_int_equal(tt_store_say(G.store, G.m, &normal, &c), 0);
    size_t plain = c->frames;
    assert_true(c->recorded);
    tt_store_release(G.store, c);
    wait_made(job);
    const struct tt_clip *made = NULL;
    assert_int_equal(tt_store_job_finish(G.store, job, &made), 0);
    assert_non_null(made);
    assert_true(made->recorded);
    /* now a hit, made from the recording, 100/70 as long */
    struct tt_store_job *none = NULL;
    assert_int_equal(tt_store_job_new(G.store, G.m, &ev, &c, &none), 0);
    assert_null(none);
    assert_ptr_equal(c, made);
    double ratio = (double)c->frames / (double)plain;
    print_message("stretched to 70%%: %.3f times as long (want %.3f)\n", ratio, 100.0 / 70);
    assert_true(fabs(ratio - 100.0 / 70) < 0.03);
    tt_store_release(G.store, c);
    tt_store_release(G.store, made);
}

static void every_miss_is_a_job_and_a_hit_is_a_clip(void **state)
{
    (void)state;
    /* a hit: the recording at its own speed, made above */
    struct tt_event ev = say_talk(100);
    const struct tt_clip *c = NULL;
    struct tt_store_job *j = NULL;
    assert_int_equal(tt_store_job_new(G.store, G.m, &ev, &c, &j), 0);
    assert_non_null(c);
    assert_null(j);
    tt_store_release(G.store, c);
    /* speech nobody made yet, at normal speed: a job (not made on the caller's thread) */
    ev = say_words("Words nobody prepared.", TT_PUBLIC);
    tt_store_job_cancel(G.store, job_for(&ev), true); /* never started: simply freed */
    /* personal words: a job every time, even the same words */
    ev = say_words("1 2 3 4.", TT_PERSONAL);
    tt_store_job_cancel(G.store, job_for(&ev), true);
    /* a speed out of range is an error, as for tt_store_say */
    ev = say_talk(500);
    assert_int_equal(tt_store_job_new(G.store, G.m, &ev, &c, &j), EINVAL);
    assert_null(c);
    assert_null(j);
}

static void the_same_public_words_asked_at_once_are_made_once(void **state)
{
    (void)state;
    struct tt_event ev = say_words("Asked by two callers at once.", TT_PUBLIC);
    unsigned before = synthesized();
    tt_store_jobs_hold(G.store, true); /* both asked before either is made */
    struct tt_store_job *a = job_for(&ev), *b = job_for(&ev);
    assert_int_equal(tt_store_job_start(G.store, a, G.pipe[1]), 0);
    assert_int_equal(tt_store_job_start(G.store, b, G.pipe[1]), 0);
    assert_false(tt_store_job_done(G.store, a));
    assert_false(tt_store_job_done(G.store, b));
    tt_store_jobs_hold(G.store, false);
    wait_made(a);
    wait_made(b);
    const struct tt_clip *ca = NULL, *cb = NULL;
    assert_int_equal(tt_store_job_finish(G.store, a, &ca), 0);
    assert_int_equal(tt_store_job_finish(G.store, b, &cb), 0);
    assert_non_null(ca);
    assert_ptr_equal(ca, cb); /* one clip, held by each */
    assert_int_equal(synthesized() - before, 1);
    tt_store_release(G.store, ca);
    tt_store_release(G.store, cb);
}

static void personal_words_are_made_for_each_caller(void **state)
{
    (void)state;
    struct tt_event ev = say_words("You entered 2 0 3 1.", TT_PERSONAL);
    unsigned before = synthesized();
    tt_store_jobs_hold(G.store, true);
    struct tt_store_job *a = job_for(&ev), *b = job_for(&ev);
    assert_int_equal(tt_store_job_start(G.store, a, G.pipe[1]), 0);
    assert_int_equal(tt_store_job_start(G.store, b, G.pipe[1]), 0);
    tt_store_jobs_hold(G.store, false);
    wait_made(a);
    wait_made(b);
    const struct tt_clip *ca = NULL, *cb = NULL;
    assert_int_equal(tt_store_job_finish(G.store, a, &ca), 0);
    assert_int_equal(tt_store_job_finish(G.store, b, &cb), 0);
    assert_true(ca->personal && cb->personal);
    assert_ptr_not_equal(ca, cb);
    assert_int_equal(synthesized() - before, 2);
    tt_store_release(G.store, ca);
    tt_store_release(G.store, cb);
}

static void a_job_given_up_before_it_is_made_leaves_nothing(void **state)
{
    (void)state;
    struct tt_event ev = say_talk(50);
    tt_store_jobs_hold(G.store, true);
    struct tt_store_job *j = job_for(&ev);
    assert_int_equal(tt_store_job_start(G.store, j, G.pipe[1]), 0);
    tt_store_job_cancel(G.store, j, true); /* the call ended: nobody wants it */
    struct tt_event personal = say_words("2 0 3 1 0 0 0 1.", TT_PERSONAL);
    j = job_for(&personal);
    assert_int_equal(tt_store_job_start(G.store, j, G.pipe[1]), 0);
    tt_store_job_cancel(G.store, j, false); /* a key: personal words are of no use to anyone */
    tt_store_jobs_hold(G.store, false);
    tt_store_jobs_wait(G.store);
    /* nothing was made: still a miss */
    tt_store_job_cancel(G.store, job_for(&ev), true);
}

static void public_words_given_up_by_a_key_are_kept_for_the_next_time(void **state)
{
    (void)state;
    struct tt_event ev = say_words("Left before it was said.", TT_PUBLIC);
    tt_store_jobs_hold(G.store, true);
    struct tt_store_job *j = job_for(&ev);
    assert_int_equal(tt_store_job_start(G.store, j, G.pipe[1]), 0);
    tt_store_job_cancel(G.store, j, false);
    tt_store_jobs_hold(G.store, false);
    tt_store_jobs_wait(G.store);
    const struct tt_clip *c = NULL;
    struct tt_store_job *none = NULL;
    assert_int_equal(tt_store_job_new(G.store, G.m, &ev, &c, &none), 0);
    assert_null(none);
    assert_non_null(c);
    tt_store_release(G.store, c);
}

/* A listener paging on at a slow speed gives up a page a key at a time: those pages are still
 * made (public: someone may come back to them) but after the page they wait for, not before. */
static void pages_given_up_wait_behind_the_page_the_listener_waits_for(void **state)
{
    (void)state;
    static const char *const pages[] = {"Page one, skipped.", "Page two, skipped.",
                                        "Page three, skipped.", "Page four, skipped.",
                                        "Page five, skipped."};
    tt_store_jobs_hold(G.store, true);
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        struct tt_event ev = say_words(pages[i], TT_PUBLIC);
        struct tt_store_job *j = job_for(&ev);
        assert_int_equal(tt_store_job_start(G.store, j, G.pipe[1]), 0);
        tt_store_job_cancel(G.store, j, false); /* the next key */
    }
    struct tt_event ev = say_words("Page six, which the listener waits for.", TT_PUBLIC);
    struct tt_store_job *now = job_for(&ev);
    assert_int_equal(tt_store_job_start(G.store, now, G.pipe[1]), 0);
    assert_int_equal(tt_store_jobs_ahead(G.store, now), 0);
    /* and a second listener's page goes behind the first's, ahead of the skipped ones */
    struct tt_event ev2 = say_words("Another caller's page.", TT_PUBLIC);
    struct tt_store_job *other = job_for(&ev2);
    assert_int_equal(tt_store_job_start(G.store, other, G.pipe[1]), 0);
    assert_int_equal(tt_store_jobs_ahead(G.store, other), 1);
    tt_store_jobs_hold(G.store, false);
    wait_made(now);
    const struct tt_clip *c = NULL;
    assert_int_equal(tt_store_job_finish(G.store, now, &c), 0);
    tt_store_release(G.store, c);
    wait_made(other);
    assert_int_equal(tt_store_job_finish(G.store, other, &c), 0);
    tt_store_release(G.store, c);
    tt_store_jobs_wait(G.store);
}

static void a_job_given_up_while_made_is_freed_by_the_store(void **state)
{
    (void)state;
    /* Made or not by the time it is given up, whichever: nothing leaks (AddressSanitizer),
     * nothing races (ThreadSanitizer), and no byte is written for it afterwards. */
    struct tt_event ev = say_talk(60);
    struct tt_event personal = say_words("Your hearing is on May 1.", TT_PERSONAL);
    struct tt_store_job *a = job_for(&ev), *b = job_for(&personal);
    assert_int_equal(tt_store_job_start(G.store, a, G.pipe[1]), 0);
    assert_int_equal(tt_store_job_start(G.store, b, G.pipe[1]), 0);
    tt_store_job_cancel(G.store, a, true);
    tt_store_job_cancel(G.store, b, true);
    tt_store_jobs_wait(G.store);
    char buf[16];
    while (read(G.pipe[0], buf, sizeof(buf)) > 0)
        ;
}

static void the_queue_is_bounded(void **state)
{
    (void)state;
    /* Personal words, so that no job follows another: each takes a place in the queue. */
    static struct tt_store_job *q[TT_STORE_QUEUE_MAX];
    struct tt_event ev = say_words("A place in the queue.", TT_PERSONAL);
    tt_store_jobs_hold(G.store, true);
    for (size_t i = 0; i < TT_STORE_QUEUE_MAX; i++) {
        q[i] = job_for(&ev);
        assert_int_equal(tt_store_job_start(G.store, q[i], G.pipe[1]), 0);
    }
    struct tt_store_job *over = job_for(&ev);
    assert_int_equal(tt_store_job_start(G.store, over, G.pipe[1]), EAGAIN);
    tt_store_job_cancel(G.store, q[0], false); /* a place again */
    assert_int_equal(tt_store_job_start(G.store, over, G.pipe[1]), 0);
    tt_store_job_cancel(G.store, over, false);
    for (size_t i = 1; i < TT_STORE_QUEUE_MAX; i++)
        tt_store_job_cancel(G.store, q[i], false);
    tt_store_jobs_hold(G.store, false);
    tt_store_jobs_wait(G.store);
}

static void a_store_with_no_workers_makes_a_job_when_it_starts(void **state)
{
    (void)state;
    tt_store *s = NULL;
    struct tt_store_opts so = {.rate = RATE, .workers = TT_STORE_NO_WORKERS};
    assert_int_equal(tt_store_new(&s, &so, G.diag), 0);
    struct tt_event ev = say_words("Made on the caller's thread.", TT_PUBLIC);
    const struct tt_clip *c = NULL;
    struct tt_store_job *j = NULL;
    assert_int_equal(tt_store_job_new(s, G.m, &ev, &c, &j), 0);
    assert_non_null(j);
    assert_int_equal(tt_store_job_start(s, j, G.pipe[1]), 0);
    assert_true(tt_store_job_done(s, j)); /* at once: no thread, no waiting */
    assert_int_equal(tt_store_job_finish(s, j, &c), 0);
    assert_true(c->frames > 0);
    tt_store_release(s, c);
    tt_store_free(s);
    char buf[16];
    assert_true(read(G.pipe[0], buf, sizeof(buf)) > 0); /* its byte, as from a worker */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_recording_at_a_new_speed_is_stretched_by_the_workers),
        cmocka_unit_test(every_miss_is_a_job_and_a_hit_is_a_clip),
        cmocka_unit_test(the_same_public_words_asked_at_once_are_made_once),
        cmocka_unit_test(personal_words_are_made_for_each_caller),
        cmocka_unit_test(a_job_given_up_before_it_is_made_leaves_nothing),
        cmocka_unit_test(public_words_given_up_by_a_key_are_kept_for_the_next_time),
        cmocka_unit_test(pages_given_up_wait_behind_the_page_the_listener_waits_for),
        cmocka_unit_test(a_job_given_up_while_made_is_freed_by_the_store),
        cmocka_unit_test(the_queue_is_bounded),
        cmocka_unit_test(a_store_with_no_workers_makes_a_job_when_it_starts),
    };
    return cmocka_run_group_tests_name("store jobs", tests, setup, teardown);
}
