/*
 * The tonetree command as a user runs it: build/tonetree, started from the project's top folder.
 *
 * Output that cannot be written must not pass for success: a script, a transcript or a JSON
 * report lost to a full disk, with exit status 0, is trusted by whoever runs it next (a clerk,
 * a CI job). Every command that writes on standard output is run with its output on /dev/full
 * (every write fails with ENOSPC, as on a full disk): each must end with status 2 and say so in
 * one line. The same command with its output on /dev/null must succeed, so that the failure
 * is the output's and nothing else's. Each child is bounded in time and killed by its pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testlib.h"

#define FULL_MESSAGE "tonetree: cannot write the output: No space left on device\n"
#define TIMEOUT_S 60.0

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *tonetree_bin(void)
{
    const char *b = getenv("TONETREE");
    return b && *b ? b : "build/tonetree";
}

/* What a run left: its exit status (-1 when it did not exit by itself) and its stderr. */
struct run {
    int status;
    char *err;
};

/*
 * Run tonetree with these arguments (NULL-terminated, without the program name), stdout on
 * out_path, stderr captured, in the environment plus `set` ("NAME=value" or NULL). Killed by
 * its pid if it outlives TIMEOUT_S.
 */
static struct run run_tonetree(const char *out_path, const char *set, const char *const *args)
{
    char *dir = tl_tmpdir();
    char err_path[600];
    snprintf(err_path, sizeof(err_path), "%s/stderr.txt", dir);
    const char *argv[32] = {tonetree_bin()};
    size_t n = 1;
    for (; args[n - 1]; n++) {
        assert_true(n < 31);
        argv[n] = args[n - 1];
    }
    argv[n] = NULL;
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **env = calloc(nenv + 2, sizeof(*env));
    assert_non_null(env);
    memcpy(env, environ, nenv * sizeof(*env));
    env[nenv] = (char *)set;

    int out = open(out_path, O_WRONLY | O_CLOEXEC);
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(out >= 0 && err >= 0 && in >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execve(argv[0], (char *const *)argv, env);
        _exit(127);
    }
    close(out);
    close(err);
    close(in);
    free(env);

    struct run r = {.status = -1};
    int status;
    double until = now_s() + TIMEOUT_S;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            if (WIFEXITED(status))
                r.status = WEXITSTATUS(status);
            break;
        }
        if (now_s() > until) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        usleep(5000);
    }
    r.err = tl_slurp(err_path);
    tl_rmtree(dir);
    free(dir);
    return r;
}

/* The command fails on a full disk with the one message, and succeeds with room to write. */
static void expect_full_disk_noticed(const char *set, const char *const *args)
{
    struct run r = run_tonetree("/dev/full", set, args);
    if (r.status != 2 || strcmp(r.err, FULL_MESSAGE)) {
        fprintf(stderr, "tonetree %s ... > /dev/full: status %d, stderr:\n%s", args[0],
                r.status, r.err);
        fail_msg("expected status 2 and only the line: %s", FULL_MESSAGE);
    }
    free(r.err);
    r = run_tonetree("/dev/null", set, args);
    if (r.status != 0) {
        fprintf(stderr, "tonetree %s ... > /dev/null: status %d, stderr:\n%s", args[0], r.status,
                r.err);
        fail_msg("expected the command to succeed with its output on /dev/null");
    }
    free(r.err);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void check_json_on_a_full_disk_exits_2(void **state)
{
    (void)state;
    expect_full_disk_noticed(NULL, ARGS("check", "--format", "json", "menus/no-contact-order.ini"));
}

static void render_with_its_transcript_on_a_full_disk_exits_2(void **state)
{
    (void)state;
    char *cache = tl_tmpdir();
    expect_full_disk_noticed(NULL, ARGS("render", "tests/data/kiosk.ini", "--keys", "1 1",
                                        "--transcript", "-", "--cache", cache));
    tl_rmtree(cache);
    free(cache);
}

static void script_and_graph_on_a_full_disk_exit_2(void **state)
{
    (void)state;
    expect_full_disk_noticed(NULL, ARGS("script", "menus/no-contact-order.ini"));
    expect_full_disk_noticed(NULL, ARGS("script", "--format", "html", "menus/hearing-date.ini"));
    expect_full_disk_noticed(NULL, ARGS("graph", "menus/no-contact-order.ini"));
}

static void prompts_lists_and_its_summary_on_a_full_disk_exit_2(void **state)
{
    (void)state;
    char *cache = tl_tmpdir();
    expect_full_disk_noticed(NULL, ARGS("prompts", "tests/data/kiosk.ini", "--list", "--cache",
                                        cache));
    expect_full_disk_noticed(NULL, ARGS("prompts", "tests/data/kiosk.ini", "--missing",
                                        "--cache", cache));
    expect_full_disk_noticed(NULL, ARGS("prompts", "tests/data/kiosk.ini", "--cache", cache));
    tl_rmtree(cache);
    free(cache);
}

static void dtmf_on_a_full_disk_exits_2(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char wav[600];
    snprintf(wav, sizeof(wav), "%s/silence.wav", dir);
    int16_t pcm[8000] = {0};
    tl_write_wav(wav, pcm, 8000, 8000);
    expect_full_disk_noticed(NULL, ARGS("dtmf", wav));
    expect_full_disk_noticed(NULL, ARGS("dtmf", "-v", wav, wav));
    tl_rmtree(dir);
    free(dir);
}

static void help_on_a_full_disk_exits_2(void **state)
{
    (void)state;
    expect_full_disk_noticed(NULL, ARGS("help"));
}

/* An ALSA setup of its own, with one device that takes anything (the machine may have no sound
 * card), so that devices has a line to write. */
static void devices_on_a_full_disk_exits_2(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char conf[600], set[700];
    snprintf(conf, sizeof(conf), "%s/asound.conf", dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fputs("pcm.!default { type null }\nctl.!default { type hw card 0 }\n", f);
    fclose(f);
    snprintf(set, sizeof(set), "ALSA_CONFIG_PATH=%s", conf);
    expect_full_disk_noticed(set, ARGS("devices"));
    tl_rmtree(dir);
    free(dir);
}

/* The output closed altogether (`tonetree help >&-`) is a failed write too. */
static void a_closed_output_is_a_failed_write(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char err_path[600];
    snprintf(err_path, sizeof(err_path), "%s/stderr.txt", dir);
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(err >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(err, 2);
        close(1);
        execl(tonetree_bin(), "tonetree", "help", (char *)NULL);
        _exit(127);
    }
    close(err);
    int status;
    alarm(30);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    alarm(0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    char *text = tl_slurp(err_path);
    assert_string_equal(text, "tonetree: cannot write the output: Bad file descriptor\n");
    free(text);
    tl_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_json_on_a_full_disk_exits_2),
        cmocka_unit_test(render_with_its_transcript_on_a_full_disk_exits_2),
        cmocka_unit_test(script_and_graph_on_a_full_disk_exit_2),
        cmocka_unit_test(prompts_lists_and_its_summary_on_a_full_disk_exit_2),
        cmocka_unit_test(dtmf_on_a_full_disk_exits_2),
        cmocka_unit_test(help_on_a_full_disk_exits_2),
        cmocka_unit_test(devices_on_a_full_disk_exits_2),
        cmocka_unit_test(a_closed_output_is_a_failed_write),
    };
    return cmocka_run_group_tests_name("command line", tests, NULL, NULL);
}
