/*
 * The real-time-text test caller (tests/rtt_caller.c, on liblinphone) proved against itself
 * before it is trusted against `tonetree sip`: two rtt_caller processes on 127.0.0.1, one
 * answering (it greets, then echoes every character), one calling and following a script.
 *
 * What is asserted is what a test of the service will rely on: the greeting arrives whole and
 * in order, typed characters come back, a wait that is not met fails with the text it waited
 * for, a call answered without text fails, the far end hanging up passes an "ended" step and
 * fails any other, a call to nobody fails, each within its bound, and nothing is written
 * under $HOME. Never timing to the millisecond: the machine is shared.
 *
 * Each test gets a private folder (its HOME, TMPDIR, and liblinphone's folders) removed at
 * the end unless TT_RTT_KEEP=1; both processes are stopped by their pids with bounded waits.
 * rtt_caller is found beside this test's own binary (build/tests/).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "proclib.h"

/* Bounds, all far above what a call on loopback takes (measured on a loaded 2-core machine:
 * INVITE to streams running 35-90 ms, the greeting whole 0.4 s later, a whole scripted call
 * 1.2-1.4 s) so that a busy machine passes, and far below the suite's. */
#define READY_S 15.0  /* the answerer listening */
#define RUN_S 40.0    /* a whole scripted call */
#define TIMEOUT "30"  /* each tool's own --timeout, under RUN_S so that it fails first */
#define GREETING "Welcome. Press 1 for the steps."

static char tool[PATH_MAX];

struct fx {
    char dir[PATH_MAX / 2]; /* short enough that every path in it fits PATH_MAX */
    char home[PATH_MAX];
    char a_out[PATH_MAX], a_err[PATH_MAX], c_out[PATH_MAX], c_err[PATH_MAX];
    char a_dir[PATH_MAX], c_dir[PATH_MAX];
    pid_t answerer, caller;
    int port;
};

static void path_in(const struct fx *f, char *buf, const char *name)
{
    snprintf(buf, PATH_MAX, "%s/%s", f->dir, name);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    const char *t = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/rtt-test.XXXXXX", t && *t ? t : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    path_in(f, f->home, "home");
    assert_int_equal(mkdir(f->home, 0700), 0);
    path_in(f, f->a_out, "answerer.out");
    path_in(f, f->a_err, "answerer.err");
    path_in(f, f->c_out, "caller.out");
    path_in(f, f->c_err, "caller.err");
    path_in(f, f->a_dir, "answerer");
    path_in(f, f->c_dir, "caller");
    *state = f;
    return 0;
}

static bool wait_bounded(pid_t pid, double secs, int *status)
{
    double until = tl_now() + secs;
    for (;;) {
        if (waitpid(pid, status, WNOHANG) == pid)
            return true;
        if (tl_now() >= until)
            return false;
        tl_sleep(0.02);
    }
}

/* SIGTERM, a bounded wait, then SIGKILL: for a process a failed test left behind. */
static void stop(pid_t *pid)
{
    int status;
    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    if (!wait_bounded(*pid, 5, &status)) {
        kill(*pid, SIGKILL);
        waitpid(*pid, &status, 0);
    }
    *pid = 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    stop(&f->caller);
    stop(&f->answerer);
    if (getenv("TT_RTT_KEEP"))
        fprintf(stderr, "kept %s\n", f->dir);
    else
        nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static pid_t run(struct fx *f, const char *const *argv, const char *out, const char *err)
{
    struct tl_proc p = {.argv = argv, .in = -1, .out = out, .err = err, .home = f->home,
                        .tmp = f->dir, .bin = tool};
    return tl_proc_start(&p);
}

/* Start the answerer (with extra options, NULL-terminated) and learn its SIP port. */
static void answerer_start(struct fx *f, const char *extra1, const char *extra2)
{
    const char *argv[] = {"rtt_caller", "--answer", "--dir", f->a_dir, "--timeout", TIMEOUT,
                          "--greeting", GREETING, extra1, extra2, NULL};
    /* a test's second answerer must not be taken for its first: its stderr is truncated by
     * the child, after the fork, so the first one's port line could be read meanwhile */
    unlink(f->a_err);
    unlink(f->a_out);
    f->answerer = run(f, argv, f->a_out, f->a_err);
    const char *what = "listening on sip:127.0.0.1:";
    size_t at = tl_wait_file(f->a_err, what, 0, READY_S);
    /* the whole line, to its end, so that the port is never read half written */
    tl_wait_file(f->a_err, "\n", at, READY_S);
    size_t n;
    char *b = tl_read_file(f->a_err, &n);
    f->port = atoi(b + at + strlen(what));
    free(b);
    assert_true(f->port > 0 && f->port < 65536);
}

/* Run the caller to its end (bounded); its exit status, and how long it took. */
static int caller_run(struct fx *f, const char *const *opts, const char *const *steps,
                      double *secs)
{
    char uri[64];
    snprintf(uri, sizeof(uri), "sip:rtt@127.0.0.1:%d", f->port);
    const char *argv[32] = {"rtt_caller", "--dir", f->c_dir, "--timeout", TIMEOUT,
                            "--wait-timeout", "10"};
    size_t n = 7;
    for (; opts && *opts && n < 20; opts++)
        argv[n++] = *opts;
    argv[n++] = uri;
    for (; *steps && n < 31; steps++)
        argv[n++] = *steps;
    argv[n] = NULL;
    double t = tl_now();
    f->caller = run(f, argv, f->c_out, f->c_err);
    int st = tl_proc_finish(f->caller, RUN_S);
    f->caller = 0;
    *secs = tl_now() - t;
    if (!WIFEXITED(st)) {
        size_t k;
        char *e = tl_read_file(f->c_err, &k);
        fail_msg("rtt_caller did not exit normally (status %d); its stderr:\n%s", st, e);
    }
    return WEXITSTATUS(st);
}

static char *contents(const char *path)
{
    size_t n;
    return tl_read_file(path, &n);
}

static void expect_in(const char *path, const char *what)
{
    char *b = contents(path);
    if (!strstr(b, what))
        fail_msg("%s does not hold \"%s\"; it holds:\n%s", path, what, b);
    free(b);
}

/* The answerer ends by itself once the call is over, with this status. */
static void answerer_ends(struct fx *f, int want)
{
    int st = tl_proc_finish(f->answerer, 10);
    f->answerer = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != want) {
        char *e = contents(f->a_err);
        fail_msg("the answerer ended with status %d, want exit %d; its stderr:\n%s", st, want, e);
    }
}

/* Nothing written under $HOME: liblinphone's files (its configuration and its database)
 * went to --dir. */
static void home_untouched(struct fx *f)
{
    char db[PATH_MAX + 16];
    struct stat st;
    snprintf(db, sizeof(db), "%s/linphone.db", f->c_dir);
    assert_int_equal(stat(db, &st), 0);
    snprintf(db, sizeof(db), "%s/linphonerc", f->a_dir);
    assert_int_equal(stat(db, &st), 0);
    DIR *d = opendir(f->home);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            fail_msg("rtt_caller wrote %s/%s", f->home, e->d_name);
    closedir(d);
}

static void expect_exactly(const char *path, const char *want)
{
    char *b = contents(path);
    if (strcmp(b, want))
        fail_msg("%s holds \"%s\", want \"%s\"", path, b, want);
    free(b);
}

/* The greeting arrives, "1#" typed comes back, both tools end by themselves with 0. The steps
 * come from argv, or from a script file when script is true. */
static void echo_call(void **state, const char *opt, bool script)
{
    struct fx *f = *state;
    answerer_start(f, opt, NULL);
    const char *steps[] = {"wait " GREETING, "type 1#", "wait 1#", "hangup", NULL};
    const char *opts[] = {opt, NULL, NULL, NULL};
    char path[PATH_MAX];
    const char *none[] = {NULL};
    if (script) {
        path_in(f, path, "script");
        FILE *s = fopen(path, "w");
        assert_non_null(s);
        for (size_t i = 0; steps[i]; i++)
            fprintf(s, "%s\n", steps[i]);
        assert_int_equal(fclose(s), 0);
        opts[opt ? 1 : 0] = "--script";
        opts[opt ? 2 : 1] = path;
    }
    double secs;
    int rc = caller_run(f, opts, script ? none : steps, &secs);
    if (rc != 0)
        fail_msg("the caller exited %d; its stderr:\n%s\nthe answerer's:\n%s", rc,
                 contents(f->c_err), contents(f->a_err));
    print_message("call, greeting, \"1#\" typed and echoed, hangup: %.2f s\n", secs);
    /* What each side received, exactly: the greeting and then the echo, nothing lost,
     * reordered or added (the BOMs liblinphone sends are its receiver's to drop). */
    expect_exactly(f->c_out, GREETING "1#");
    expect_exactly(f->a_out, "1#");
    answerer_ends(f, 0);
    home_untouched(f);
}

static void test_echo(void **state)
{
    echo_call(state, NULL, false);
    struct fx *f = *state;
    expect_in(f->c_err, "call up: real-time text on red, audio on");
}

/* Text only (no m=audio offered), the steps from a file. */
static void test_echo_text_only(void **state)
{
    echo_call(state, "--no-audio", true);
    struct fx *f = *state;
    expect_in(f->c_err, "call up: real-time text on red, audio off");
    expect_in(f->a_err, "call up: real-time text on red, audio off");
}

/* A wait that is never met fails the caller, naming the text, after its own bound; the call
 * is hung up, so the answerer ends too. */
static void test_wait_times_out(void **state)
{
    struct fx *f = *state;
    answerer_start(f, NULL, NULL);
    const char *steps[] = {"wait " GREETING, "wait never sent", NULL};
    /* a short bound for the waits: given after caller_run's own, it is the one that counts */
    const char *opts[] = {"--wait-timeout", "3", NULL};
    double secs;
    int rc = caller_run(f, opts, steps, &secs);
    print_message("a wait never met failed the caller after %.2f s\n", secs);
    assert_int_equal(rc, 1);
    expect_in(f->c_err, "timeout: waited 3.0 s for \"never sent\"; received so far: \"" GREETING);
    /* well before the run's own bound: the wait's, not --timeout, ended it */
    assert_true(secs < 20);
    answerer_ends(f, 0);
}

/* The answerer takes the call without real-time text: the caller says so and fails. */
static void test_answer_without_text(void **state)
{
    struct fx *f = *state;
    answerer_start(f, "--no-text", NULL);
    const char *steps[] = {"wait " GREETING, NULL};
    double secs;
    int rc = caller_run(f, NULL, steps, &secs);
    assert_int_equal(rc, 1);
    expect_in(f->c_err, "the call was answered without real-time text");
    answerer_ends(f, 0);
}

/* The far end hangs up, as a menu's end key makes it do: an "ended" step waits for that and
 * the run passes; the same hang-up during any other step fails the run, naming the step. */
static void test_far_end_hangs_up(void **state)
{
    struct fx *f = *state;
    answerer_start(f, "--bye-on", "9");
    const char *steps[] = {"wait " GREETING, "type 9", "wait 9", "ended", NULL};
    double secs;
    int rc = caller_run(f, NULL, steps, &secs);
    if (rc != 0)
        fail_msg("the caller exited %d; its stderr:\n%s\nthe answerer's:\n%s", rc,
                 contents(f->c_err), contents(f->a_err));
    expect_exactly(f->c_out, GREETING "9");
    answerer_ends(f, 0);

    answerer_start(f, "--bye-on", "9");
    const char *unexpected[] = {"wait " GREETING, "type 9", "sleep 8", "hangup", NULL};
    rc = caller_run(f, NULL, unexpected, &secs);
    assert_int_equal(rc, 1);
    expect_in(f->c_err, "FAILED: the other side ended the call during step 3 (sleep 8)");
    assert_true(secs < 8); /* it failed when the call ended, not after the sleep */
    answerer_ends(f, 0);
}

/* Nobody at the address: the call fails, the caller says so and exits 1 within its bound. */
static void test_nobody_there(void **state)
{
    struct fx *f = *state;
    /* A loopback port nobody has: bound, then let go. */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    f->port = ntohs(a.sin_port);
    close(s);
    const char *steps[] = {"wait anything", NULL};
    /* liblinphone itself would send the INVITE again for 32 s (SIP's timer B): the run's own
     * bound ends it first */
    const char *opts[] = {"--timeout", "4", NULL};
    double secs;
    int rc = caller_run(f, opts, steps, &secs);
    print_message("a call to nobody failed after %.2f s\n", secs);
    assert_int_equal(rc, 1);
    expect_in(f->c_err, "FAILED: timeout: the call was not answered within --timeout 4 s");
    assert_true(secs < 20);
}

int main(int argc, char **argv)
{
    (void)argc;
    char self[PATH_MAX];
    snprintf(self, sizeof(self), "%s", argv[0]);
    snprintf(tool, sizeof(tool), "%s/rtt_caller", dirname(self));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_text_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_without_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_far_end_hangs_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nobody_there, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
