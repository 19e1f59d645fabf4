/*
 * Real-time text on `tonetree sip` (RFC 4103), with a caller nobody here wrote: liblinphone,
 * through tests/rtt_caller.c. The caller reads the menu as text as it comes, types a choice
 * (no Enter: each character is taken as it arrives) and reads the answer; with audio beside
 * the text, and with text alone (a call whose offer has no audio at all). And a sensitive
 * entry typed in text: read back to the caller as stars, and nowhere in the service's log,
 * its messages or its metrics.
 *
 * The service runs on a copy of tests/data/sip.ini with its phrases from tests/prompts, at the
 * normal speed only, its prompts in build/sip-test-cache (shared by the SIP tests). Everything
 * is on 127.0.0.1 with ports the system chooses; both programs are stopped by their pids, and
 * every wait is bounded (rtt_caller bounds its own, and is killed if it overstays).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "proclib.h"
#include "siplib.h"
#include "testlib.h"

#define CACHE "build/sip-test-cache"
#define CALLER "build/tests/rtt_caller"
#define ENTRY "73915"

struct fx {
    char *dir;
    char menu[PATH_MAX], log[PATH_MAX], err[PATH_MAX];
    pid_t pid;
    int port, metrics;
    struct tl_sip c;
};

static char top[PATH_MAX];

/* tests/data/sip.ini with a second choice: a case number, sensitive, read back */
static void write_menu(struct fx *f)
{
    char *orig = tl_slurp("tests/data/sip.ini");
    FILE *m = fopen(f->menu, "w");
    assert_non_null(m);
    char *at = strstr(orig, "1 = info\n");
    assert_non_null(at);
    at += strlen("1 = info\n");
    fprintf(m, "%.*s2 = case\n%s", (int)(at - orig), orig, at);
    fprintf(m, "\n[case]\ntitle = your case\ntitle.es = su caso\n"
               "text = Type your case number, then pound.\n"
               "text.es = Escriba su número de caso, luego numeral.\n"
               "input = digits\nmin = 5\nmax = 8\nsensitive = yes\nconfirm = yes\n"
               "lookup = %s/examples/court/hearing-date\n",
            top);
    assert_int_equal(fclose(m), 0);
    free(orig);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->dir = tl_tmpdir();
    snprintf(f->menu, sizeof(f->menu), "%s/sip.ini", f->dir);
    snprintf(f->log, sizeof(f->log), "%s/calls.log", f->dir);
    snprintf(f->err, sizeof(f->err), "%s/sip.err", f->dir);
    write_menu(f);
    mkdir("build", 0755);
    mkdir(CACHE, 0755);
    char prompts[PATH_MAX + 16];
    snprintf(prompts, sizeof(prompts), "%s/tests/prompts", top);
    const char *argv[] = {"tonetree", "sip", f->menu, "--prompts", prompts,
                          "--listen", "127.0.0.1:0", "--rtp-ports", "30000-59999",
                          "--log", f->log, "--cache", CACHE, "--speeds", "normal",
                          "--metrics", "127.0.0.1:0", NULL};
    struct tl_proc p = {.argv = argv, .in = -1, .err = f->err, .home = f->dir, .tmp = f->dir};
    f->pid = tl_proc_start(&p);
    tl_sip_wait_ready(f->pid, f->err, 300.0, &f->port, &f->metrics);
    tl_sip_open(&f->c, f->port, 0, f->metrics);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
    }
    tl_sip_close(&f->c);
    tl_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* rtt_caller to the service with these steps (NULL-terminated); its stdout (the text it
 * received) is returned, and its exit status must be 0. */
static char *rtt_call(struct fx *f, bool audio, const char *const *steps)
{
    char uri[64], out[PATH_MAX + 8], err[PATH_MAX + 8], caller_dir[PATH_MAX + 8];
    snprintf(uri, sizeof(uri), "sip:ivr@127.0.0.1:%d", f->port);
    snprintf(out, sizeof(out), "%s/rtt.out", f->dir);
    snprintf(err, sizeof(err), "%s/rtt.err", f->dir);
    snprintf(caller_dir, sizeof(caller_dir), "%s/linphone", f->dir);
    mkdir(caller_dir, 0700);
    const char *argv[32] = {"rtt_caller", "--timeout", "120", "--wait-timeout", "60",
                            "--dir", caller_dir};
    int n = 7;
    if (!audio)
        argv[n++] = "--no-audio";
    argv[n++] = uri;
    for (; *steps && n < 31; steps++)
        argv[n++] = *steps;
    argv[n] = NULL;
    char bin[PATH_MAX + 32];
    snprintf(bin, sizeof(bin), "%s/" CALLER, top);
    struct tl_proc p = {.argv = argv, .in = -1, .out = out, .err = err, .home = f->dir,
                        .tmp = f->dir, .bin = bin};
    int st = tl_proc_finish(tl_proc_start(&p), 150.0);
    char *text = tl_slurp(out);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char *e = tl_slurp(err);
        fail_msg("rtt_caller failed (status %d); it received:\n%s\nits messages:\n%s",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st), text, e);
    }
    return text;
}

/* The call's log line (the only call in the log). */
static char *log_line(struct fx *f)
{
    char *log = NULL;
    for (double end = tl_now() + 10; tl_now() < end; tl_sleep(0.1)) {
        free(log);
        log = tl_slurp(f->log);
        if (strstr(log, "call-id="))
            break;
    }
    print_message("%s", log);
    return log;
}

static void a_caller_with_rtt_reads_the_menu_types_1_and_reads_the_answer(void **state)
{
    struct fx *f = *state;
    /* the first words come as they start to be said (the choices follow some 20 s of
     * speech): 1 is typed as soon as they arrive, and cuts the prompt, as a key does */
    static const char *const steps[] = {"wait Text mode.", "type 1", "wait facts about the court",
                                        "hangup", NULL};
    char *text = rtt_call(f, true, steps);
    print_message("the caller read:\n%s\n", text);
    /* how to answer in text first, then (the prompt cut by the key) the answer */
    const char *intro = strstr(text, "Text mode.");
    const char *info = strstr(text, "Here are some facts about the court");
    assert_non_null(intro);
    assert_non_null(info);
    assert_true(intro < info);
    /* the prompt was cut by the key: its later parts, said after the first, never came */
    assert_null(strstr(text, "Welcome to the telephone test."));
    assert_null(strstr(text, " GA")); /* a TTY's turn mark: not for real-time text */
    char *log = log_line(f);
    assert_non_null(strstr(log, "nodes=main>info "));
    free(log);
    free(text);
}

static void a_call_with_text_alone_works_the_same(void **state)
{
    struct fx *f = *state;
    static const char *const steps[] = {"wait Welcome", "type 1", "wait facts about the court",
                                        "hangup", NULL};
    char *text = rtt_call(f, false, steps);
    print_message("the caller read:\n%s\n", text);
    assert_non_null(strstr(text, "Text mode."));
    assert_non_null(strstr(text, "You have 30 seconds."));
    char *log = log_line(f);
    assert_non_null(strstr(log, "nodes=main>info "));
    free(log);
    free(text);
}

static void a_sensitive_entry_typed_in_text_comes_back_as_stars_and_is_kept_nowhere(
    void **state)
{
    struct fx *f = *state;
    static const char *const steps[] = {"wait Welcome", "type 2", "wait then pound.",
                                        "type " ENTRY "#", "wait You entered * * * * *.",
                                        "hangup", NULL};
    char *text = rtt_call(f, false, steps); /* text alone: it goes at 30 characters a second */
    print_message("the caller read:\n%s\n", text);
    assert_null(strstr(text, ENTRY));
    char *log = log_line(f);
    assert_null(strstr(log, ENTRY));
    assert_non_null(strstr(log, "nodes=main>case "));
    free(log);
    char *err = tl_slurp(f->err);
    assert_null(strstr(err, ENTRY));
    free(err);
    char *page = tl_sip_metric_page(&f->c);
    assert_null(strstr(page, ENTRY));
    free(page);
    free(text);
}

int main(void)
{
    assert_non_null(getcwd(top, sizeof(top)));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            a_caller_with_rtt_reads_the_menu_types_1_and_reads_the_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(a_call_with_text_alone_works_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_sensitive_entry_typed_in_text_comes_back_as_stars_and_is_kept_nowhere, setup,
            teardown),
    };
    if (getenv("TT_TEST"))
        cmocka_set_test_filter(getenv("TT_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
