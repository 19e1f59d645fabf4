/*
 * Slow misses on another thread (prompt.h's store jobs): a recording asked for at a new speed
 * is stretched off the driver's thread while that thread goes on using the store, and the
 * result lands in the store as if tt_store_say had made it. A job can be told to give up.
 * Built also under ThreadSanitizer (make tsan).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tt_store_free(G.store);
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

static void *run(void *arg)
{
    tt_store_job_run(arg);
    return NULL;
}

static void a_recording_at_a_new_speed_is_stretched_on_another_thread(void **state)
{
    (void)state;
    struct tt_event ev = say_talk(70);
    struct tt_store_job *job = NULL;
    assert_int_equal(tt_store_job_new(G.store, G.m, &ev, &job), 0);
    assert_non_null(job);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run, job), 0);
    /* meanwhile the driver's thread goes on: speech, and the recording at its own speed */
    const struct tt_clip *c;
    for (int i = 0; i < 3; i++) {
        char text[64];
        snprintf(text, sizeof(text), "Still here, %d.", i);
        assert_int_equal(tt_store_get(G.store, "en", "flite:kal16", NULL, text, 100, &c), 0);
        assert_true(c->frames > 0);
    }
    struct tt_event normal = say_talk(100);
    assert_int_equal(tt_store_say(G.store, G.m, &normal, &c), 0);
    size_t plain = c->frames;
    assert_true(c->recorded);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(tt_store_job_finish(G.store, job, NULL), 0);
    /* now a hit, made from the recording, 100/70 as long */
    assert_int_equal(tt_store_job_new(G.store, G.m, &ev, &job), 0);
    assert_null(job);
    assert_int_equal(tt_store_say(G.store, G.m, &ev, &c), 0);
    assert_true(c->recorded);
    double ratio = (double)c->frames / (double)plain;
    print_message("stretched to 70%%: %.3f times as long (want %.3f)\n", ratio, 100.0 / 70);
    assert_true(fabs(ratio - 100.0 / 70) < 0.03);
}

static void speech_and_normal_speed_are_never_jobs(void **state)
{
    (void)state;
    struct tt_store_job *job = NULL;
    struct tt_event ev = say_talk(100);
    assert_int_equal(tt_store_job_new(G.store, G.m, &ev, &job), 0);
    assert_null(job);
    ev = say_talk(85);
    ev.part = TT_PART_ENGINE; /* the engine's words: speech, synthesized at once */
    assert_int_equal(tt_store_job_new(G.store, G.m, &ev, &job), 0);
    assert_null(job);
    ev = say_talk(85);
    ev.privacy = TT_PERSONAL;
    assert_int_equal(tt_store_job_new(G.store, G.m, &ev, &job), 0);
    assert_null(job);
    ev = say_talk(85);
    ev.node = tt_menu_find(G.m, "main"); /* no recording */
    ev.text = "Welcome.";
    assert_int_equal(tt_store_job_new(G.store, G.m, &ev, &job), 0);
    assert_null(job);
}

static void a_job_told_to_stop_gives_up_and_leaves_nothing(void **state)
{
    (void)state;
    struct tt_event ev = say_talk(50);
    struct tt_store_job *job = NULL;
    assert_int_equal(tt_store_job_new(G.store, G.m, &ev, &job), 0);
    assert_non_null(job);
    tt_store_job_stop(job); /* before it even starts: it must still end, and quickly */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run, job), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(tt_store_job_finish(G.store, job, NULL), 0);
    /* nothing was kept: it is still a slow miss */
    assert_int_equal(tt_store_job_new(G.store, G.m, &ev, &job), 0);
    assert_non_null(job);
    tt_store_job_free(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_recording_at_a_new_speed_is_stretched_on_another_thread),
        cmocka_unit_test(speech_and_normal_speed_are_never_jobs),
        cmocka_unit_test(a_job_told_to_stop_gives_up_and_leaves_nothing),
    };
    return cmocka_run_group_tests_name("store jobs", tests, setup, teardown);
}
