/*
 * inimem (base/inimem.h): iniparser on bytes in memory, and the one owner of iniparser's
 * process-wide error callback. Loads running on several threads at once each hear only their
 * own iniparser messages (a handler per thread, one dispatcher installed once), and a load with
 * no handler prints nothing: the library never writes on stderr. Runs under ThreadSanitizer too.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/inimem.h"
#include "testlib.h"

#define THREADS 4
#define LOADS 200

struct heard {
    int id;          /* which thread's load this is: its bad line names it */
    int mine, other; /* messages that named this load's line, and any other */
};

static void on_error(void *ctx, const char *fmt, va_list ap)
{
    struct heard *h = ctx;
    char buf[512], want[32];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    snprintf(want, sizeof(want), "bad line %d", h->id);
    if (strstr(buf, want))
        h->mine++;
    else
        h->other++;
}

/* Each thread loads, again and again, bytes with a line iniparser refuses, naming the thread. */
static void *loader(void *arg)
{
    struct heard *h = arg;
    struct tt_inimem im = {.fd = -1};
    char text[128];
    snprintf(text, sizeof(text), "[s]\nkey = value\nbad line %d\n", h->id);
    if (tt_inimem_open(&im))
        return NULL;
    for (int i = 0; i < LOADS; i++) {
        dictionary *d = NULL;
        if (tt_inimem_load(&im, text, strlen(text), &d, on_error, h))
            break;
        if (d)
            iniparser_freedict(d);
    }
    tt_inimem_close(&im);
    return NULL;
}

static void loads_on_four_threads_each_hear_only_their_own_messages(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    struct heard h[THREADS];
    for (int i = 0; i < THREADS; i++) {
        h[i] = (struct heard){.id = i + 1};
        assert_int_equal(pthread_create(&t[i], NULL, loader, &h[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        print_message("thread %d: %d messages about its own line, %d about others\n", h[i].id,
                      h[i].mine, h[i].other);
        assert_int_equal(h[i].mine, LOADS); /* every load heard, once */
        assert_int_equal(h[i].other, 0);
    }
}

/* With no handler, iniparser's message goes nowhere: not to stderr (which is a file here). */
static void a_load_with_no_handler_prints_nothing(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char path[600];
    snprintf(path, sizeof(path), "%s/stderr.txt", dir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    struct tt_inimem im = {.fd = -1};
    assert_int_equal(tt_inimem_open(&im), 0);
    dictionary *d = NULL;
    static const char text[] = "[s]\nthis line has no equals sign\n";
    int err = tt_inimem_load(&im, text, strlen(text), &d, NULL, NULL);
    tt_inimem_close(&im);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(err, 0);
    assert_null(d); /* iniparser did refuse it: there was something to print */
    char *got = tl_slurp(path);
    assert_string_equal(got, "");
    free(got);
    tl_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_on_four_threads_each_hear_only_their_own_messages),
        cmocka_unit_test(a_load_with_no_handler_prints_nothing),
    };
    return cmocka_run_group_tests_name("inimem", tests, NULL, NULL);
}
