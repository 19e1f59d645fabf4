/*
 * The tonetree command as a user runs it: build/tonetree, started from the project's top folder.
 *
 * Its conventions, the same for every command (docs/cli.md): --help on standard output with
 * status 0; --version; a command line it cannot take named in one line with the command's
 * usage, status 2; a file given that has errors or cannot be read, status 1; and status 3 when
 * tonetree itself could not do it. Ctrl-C (SIGINT, or the key at the kiosk) ends a kiosk with
 * status 130, SIGTERM with 0, and a missing sound card is a warning.
 *
 * Output that cannot be written must not pass for success: a script, a transcript or a JSON
 * report lost to a full disk, with exit status 0, is trusted by whoever runs it next (a clerk,
 * a CI job). Every command that writes on standard output is run with its output on /dev/full
 * (every write fails with ENOSPC, as on a full disk): each must end with status 3 and say so in
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
    if (r.status != 3 || strcmp(r.err, FULL_MESSAGE)) {
        fprintf(stderr, "tonetree %s ... > /dev/full: status %d, stderr:\n%s", args[0],
                r.status, r.err);
        fail_msg("expected status 3 and only the line: %s", FULL_MESSAGE);
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

static void check_json_on_a_full_disk_exits_3(void **state)
{
    (void)state;
    expect_full_disk_noticed(NULL, ARGS("check", "--format", "json", "menus/no-contact-order.ini"));
}

static void render_with_its_transcript_on_a_full_disk_exits_3(void **state)
{
    (void)state;
    char *cache = tl_tmpdir();
    expect_full_disk_noticed(NULL, ARGS("render", "tests/data/kiosk.ini", "--keys", "1 1",
                                        "--transcript", "-", "--cache", cache));
    tl_rmtree(cache);
    free(cache);
}

static void script_and_graph_on_a_full_disk_exit_3(void **state)
{
    (void)state;
    expect_full_disk_noticed(NULL, ARGS("script", "menus/no-contact-order.ini"));
    expect_full_disk_noticed(NULL, ARGS("script", "--format", "html", "menus/hearing-date.ini"));
    expect_full_disk_noticed(NULL, ARGS("graph", "menus/no-contact-order.ini"));
}

static void prompts_lists_and_its_summary_on_a_full_disk_exit_3(void **state)
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

static void dtmf_on_a_full_disk_exits_3(void **state)
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

static void help_on_a_full_disk_exits_3(void **state)
{
    (void)state;
    expect_full_disk_noticed(NULL, ARGS("help"));
}

/* An ALSA setup of its own, with one device that takes anything (the machine may have no sound
 * card), so that devices has a line to write. */
static void devices_on_a_full_disk_exits_3(void **state)
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
    assert_int_equal(WEXITSTATUS(status), 3);
    char *text = tl_slurp(err_path);
    assert_string_equal(text, "tonetree: cannot write the output: Bad file descriptor\n");
    free(text);
    tl_rmtree(dir);
    free(dir);
}


/* A reader that went away (`tonetree ... | head -1`): a failed write, status 3, not a death by
 * SIGPIPE. The pipe's reading end is closed before tonetree writes. */
static void a_reader_that_went_away_is_a_failed_write(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    close(p[0]);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(p[1], 1);
        dup2(null, 2);
        signal(SIGPIPE, SIG_DFL); /* as a shell starts it */
        execl(tonetree_bin(), "tonetree", "check", "--format", "json",
              "menus/no-contact-order.ini", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    int status;
    alarm(60);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    alarm(0);
    if (!WIFEXITED(status))
        fail_msg("tonetree died of signal %d instead of exiting 3", WTERMSIG(status));
    assert_int_equal(WEXITSTATUS(status), 3);
}

/* ---- the conventions every command follows ---- */

/* Run tonetree with stdout in a file; returns the run, and stdout's text in *out. */
static struct run run_capture(const char *set, const char *const *args, char **out)
{
    char *dir = tl_tmpdir();
    char path[600];
    snprintf(path, sizeof(path), "%s/stdout.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    struct run r = run_tonetree(path, set, args);
    *out = tl_slurp(path);
    tl_rmtree(dir);
    free(dir);
    return r;
}

static const char *const command_names[] = {"run",   "line",  "render", "prompts", "script",
                                            "graph", "check", "dtmf",   "devices"};
#define NCOMMANDS (sizeof(command_names) / sizeof(command_names[0]))

static void every_command_answers_help_on_stdout_with_status_0(void **state)
{
    (void)state;
    char *all;
    struct run r = run_capture(NULL, ARGS("--help"), &all);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    free(r.err);
    assert_non_null(strstr(all, "exit status:"));
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const char *name = command_names[i];
        char line[64], head[64];
        snprintf(line, sizeof(line), "\n  %-9s ", name); /* listed, with its summary */
        if (!strstr(all, line))
            fail_msg("tonetree --help does not list '%s':\n%s", name, all);
        char *text, *again, *shorter;
        r = run_capture(NULL, ARGS(name, "--help"), &text);
        if (r.status != 0 || *r.err)
            fail_msg("tonetree %s --help: status %d, stderr: %s", name, r.status, r.err);
        free(r.err);
        snprintf(head, sizeof(head), "usage: tonetree %s ", name);
        if (strncmp(text, head, strlen(head)) || !strstr(text, "exit status:") ||
            (strcmp(name, "devices") && !strstr(text, "\noptions:\n")))
            fail_msg("tonetree %s --help says:\n%s", name, text);
        r = run_capture(NULL, ARGS("help", name), &again);
        assert_int_equal(r.status, 0);
        free(r.err);
        assert_string_equal(again, text);
        r = run_capture(NULL, ARGS(name, "-h"), &shorter);
        assert_int_equal(r.status, 0);
        free(r.err);
        assert_string_equal(shorter, text);
        free(text);
        free(again);
        free(shorter);
    }
    free(all);
}

static void version_is_the_librarys(void **state)
{
    (void)state;
    char *out;
    struct run r = run_capture(NULL, ARGS("--version"), &out);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    assert_string_equal(out, "tonetree " TT_VERSION "\n");
    assert_string_equal(tt_version(), TT_VERSION);
    free(r.err);
    free(out);
}

/* A command line tonetree cannot take: status 2, nothing on stdout, one line naming what was
 * wrong, then the command's usage (or, with no command, where the list is). */
static void a_wrong_command_line_names_what_was_wrong_and_exits_2(void **state)
{
    (void)state;
    static const struct {
        const char *args[6];
        const char *said;
        const char *usage;
    } cases[] = {
        {{"render", "--bogus", "menus/hearing-date.ini"}, "tonetree render: there is no option --bogus\n", "usage: tonetree render "},
        {{"graph", "-x", "menus/hearing-date.ini"}, "tonetree graph: there is no option -x\n", "usage: tonetree graph "},
        {{"check", "--max-depth"}, "tonetree check: --max-depth needs a value\n", "usage: tonetree check "},
        {{"graph", "--svg=1", "menus/hearing-date.ini"}, "tonetree graph: --svg takes no value\n", "usage: tonetree graph "},
        {{"script", "--format", "pdf", "menus/hearing-date.ini"}, "tonetree script: --format takes txt, md or html, not 'pdf'\n", "usage: tonetree script "},
        {{"render", "menus/hearing-date.ini", "--keys", "1"}, "tonetree render: give -o OUT.wav, --transcript FILE, or both\n", "usage: tonetree render "},
        {{"run", "a.ini", "b.ini"}, "tonetree run: give one menu file, not 2\n", "usage: tonetree run "},
        {{"line", "--hangup", "0", "menus/hearing-date.ini"}, "tonetree line: --hangup takes seconds, 1 to 3600, not '0'\n", "usage: tonetree line "},
        {{"dtmf"}, "tonetree dtmf: give at least one audio file\n", "usage: tonetree dtmf "},
        {{"devices", "extra"}, "tonetree devices: takes no file ('extra')\n", "usage: tonetree devices "},
        {{"help", "nothing"}, "tonetree help: there is no command 'nothing'\n", "usage: tonetree help "},
        {{"dtmf", "--verbose", "-xv", "a.wav"}, "tonetree dtmf: there is no option -x\n", "usage: tonetree dtmf "},
        {{"check", "--max", "1", "menus/hearing-date.ini"}, "tonetree check: --max could be --max-seconds or --max-depth: give more of its name\n", "usage: tonetree check "},
        {{"run", "--idle", "nan", "menus/hearing-date.ini"}, "tonetree run: --idle takes seconds, 0 to 86400 (0: never), not 'nan'\n", "usage: tonetree run "},
        {{"line", "--rate", "96000", "menus/hearing-date.ini"}, "tonetree line: --rate takes a sample rate from 8000 to 48000 Hz, not '96000'\n", "usage: tonetree line "},
        {{"render", "--rate", "16000abc", "menus/hearing-date.ini"}, "tonetree render: --rate takes a sample rate from 8000 to 192000 Hz, not '16000abc'\n", "usage: tonetree render "},
        {{"render", "--cache", "", "menus/hearing-date.ini"}, "tonetree render: --cache takes a folder (or give --no-cache)\n", "usage: tonetree render "},
        {{"frobnicate"}, "tonetree: there is no command 'frobnicate'\n", "tonetree --help lists"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out;
        struct run r = run_capture(NULL, cases[i].args, &out);
        if (r.status != 2 || *out || strncmp(r.err, cases[i].said, strlen(cases[i].said)) ||
            !strstr(r.err, cases[i].usage))
            fail_msg("tonetree %s ...: status %d, stdout '%s', stderr:\n%s(want status 2, and "
                     "first: %s)", cases[i].args[0], r.status, out, r.err, cases[i].said);
        free(r.err);
        free(out);
    }
    /* no command at all */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(tonetree_bin(), "tonetree", (char *)NULL);
        _exit(127);
    }
    int status;
    alarm(30);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    alarm(0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
}

/* A file given that is missing or has errors is status 1, whichever command reads it. */
static void a_file_with_errors_or_missing_is_status_1_for_every_command(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char bad[600], text[600], missing[600];
    snprintf(bad, sizeof(bad), "%s/bad.ini", dir);
    snprintf(text, sizeof(text), "%s/notes.wav", dir);
    snprintf(missing, sizeof(missing), "%s/nothing-here.ini", dir);
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("[tonetree]\nstart = main\n[main]\ntitle = Main\ntext = Hello.\n1 = nowhere\n", f);
    fclose(f);
    f = fopen(text, "w");
    assert_non_null(f);
    fputs("not audio at all\n", f);
    fclose(f);
    const char *const *cases[] = {
        ARGS("check", bad),
        ARGS("check", missing),
        ARGS("render", bad, "--keys", "1", "--transcript", "-", "--no-cache"),
        ARGS("render", missing, "--keys", "1", "--transcript", "-", "--no-cache"),
        ARGS("script", bad),
        ARGS("script", missing),
        ARGS("graph", missing),
        ARGS("prompts", missing, "--missing"),
        ARGS("render", "menus/hearing-date.ini", "--keys", "1 @@@", "--transcript", "-",
             "--no-cache"),
        ARGS("dtmf", text),
        ARGS("dtmf", missing),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out;
        struct run r = run_capture(NULL, cases[i], &out);
        if (r.status != 1 || !*r.err)
            fail_msg("tonetree %s %s: status %d (want 1, with a message), stderr:\n%s",
                     cases[i][0], cases[i][1], r.status, r.err);
        free(r.err);
        free(out);
    }
    tl_rmtree(dir);
    free(dir);
}

/* tonetree failing to do it (here: Graphviz's dot cannot be found to draw the graph) is
 * status 3, though the error number is ENOENT, as for a missing file. */
static void a_helper_program_that_cannot_run_is_status_3(void **state)
{
    (void)state;
    char *out;
    struct run r = run_capture("PATH=/nonexistent-tonetree-test",
                               ARGS("graph", "--svg", "menus/hearing-date.ini"), &out);
    if (r.status != 3 || !*r.err)
        fail_msg("graph --svg with no dot: status %d, stderr:\n%s", r.status, r.err);
    free(r.err);
    free(out);
}

/* ---- the kiosk's ends, with no sound card: SIGINT 130, Ctrl-C 130, SIGTERM 0 ---- */

/* Start `tonetree run MENU [--idle SECONDS]` with keys from a pipe (kept open here), no sound
 * card, and the speech cache given (shared by the runs of a test, so the prompts are made
 * once); wait (bounded) until it shows the welcome. */
static pid_t kiosk_no_device_on(const char *dir, const char *cache, const char *menu,
                                const char *idle, int *keys, char *out_path, char *err_path,
                                size_t size)
{
    char conf[600], set[700];
    snprintf(conf, sizeof(conf), "%s/empty.conf", dir);
    snprintf(out_path, size, "%s/screen.txt", dir);
    snprintf(err_path, size, "%s/stderr.txt", dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(set, sizeof(set), "ALSA_CONFIG_PATH=%s", conf);
    int p[2];
    assert_int_equal(pipe(p), 0);
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(out >= 0 && err >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[0], 0);
        dup2(out, 1);
        dup2(err, 2);
        close(p[1]);
        putenv(set);
        unsetenv("PULSE_SERVER");
        setenv("XDG_RUNTIME_DIR", dir, 1); /* no sound server to be found */
        execl(tonetree_bin(), "tonetree", "run", menu, "--cache", cache,
              idle ? "--idle" : (char *)NULL, idle, (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    close(out);
    close(err);
    *keys = p[1];
    double until = now_s() + TIMEOUT_S;
    for (;;) {
        char *screen = tl_slurp(out_path);
        bool up = strstr(screen, "Welcome") != NULL;
        free(screen);
        if (up)
            break;
        if (now_s() > until || waitpid(pid, NULL, WNOHANG) == pid) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("the kiosk did not show its welcome within %.0f s", TIMEOUT_S);
        }
        usleep(20000);
    }
    return pid;
}

static pid_t kiosk_no_device(const char *dir, const char *cache, int *keys, char *out_path,
                             char *err_path, size_t size)
{
    return kiosk_no_device_on(dir, cache, "tests/data/kiosk.ini", NULL, keys, out_path, err_path,
                              size);
}

/* Wait (bounded) until the file holds `words` after `from` bytes; where they end, or fail. */
static size_t wait_for(const char *path, size_t from, const char *words, pid_t pid,
                       const char *what)
{
    double until = now_s() + TIMEOUT_S;
    for (;;) {
        char *text = tl_slurp(path);
        char *at = strlen(text) > from ? strstr(text + from, words) : NULL;
        size_t end = at ? (size_t)(at - text) + strlen(words) : 0;
        if (at) {
            free(text);
            return end;
        }
        if (now_s() > until) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("%s: '%s' did not come within %.0f s; %s has:\n%s", what, words, TIMEOUT_S,
                     path, text + (strlen(text) > from ? from : strlen(text)));
        }
        free(text);
        usleep(20000);
    }
}

/* Its exit status, waiting at most 20 s (then it is killed, and the test fails). */
static int wait_exit(pid_t pid)
{
    double until = now_s() + 20.0;
    int status;
    while (waitpid(pid, &status, WNOHANG) != pid) {
        if (now_s() > until) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("the kiosk did not end within 20 s");
        }
        usleep(10000);
    }
    if (!WIFEXITED(status))
        fail_msg("the kiosk died of signal %d instead of ending", WTERMSIG(status));
    return WEXITSTATUS(status);
}

static void the_kiosk_ends_130_on_ctrl_c_and_sigint_0_on_sigterm_and_warns_of_no_device(
    void **state)
{
    (void)state;
    static const struct {
        int sig;      /* a signal to send, or 0 for Ctrl-C on the keys */
        int status;
    } ends[] = {{SIGINT, 130}, {0, 130}, {SIGTERM, 0}};
    char *cache = tl_tmpdir();
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
        char *dir = tl_tmpdir();
        char out[600], err[600];
        int keys;
        pid_t pid = kiosk_no_device(dir, cache, &keys, out, err, sizeof(out));
        if (ends[i].sig)
            kill(pid, ends[i].sig);
        else
            assert_int_equal(write(keys, "\003", 1), 1);
        int status = wait_exit(pid);
        close(keys);
        char *text = tl_slurp(err);
        if (status != ends[i].status)
            fail_msg("ended by %s: status %d, want %d; stderr:\n%s",
                     ends[i].sig ? strsignal(ends[i].sig) : "Ctrl-C", status, ends[i].status,
                     text);
        /* no sound card: said as a warning (the kiosk goes on with the words), never "error" */
        if (!strstr(text, "warning: no audio output device") || strstr(text, "error"))
            fail_msg("no sound card should be a warning; stderr:\n%s", text);
        free(text);
        tl_rmtree(dir);
        free(dir);
    }
    tl_rmtree(cache);
    free(cache);
}

/* The kiosk's menu as a court would change it: a copy of the test menu in a folder of its
 * own, finding its prompts in tests/prompts. */
static void write_kiosk_menu(const char *path, const char *from, const char *to)
{
    char *text = tl_slurp("tests/data/kiosk.ini");
    char cwd[256];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    char *at = strstr(text, "[tonetree]\n");
    assert_non_null(at);
    at += strlen("[tonetree]\n");
    fprintf(f, "%.*sprompts = %s/tests/prompts\n", (int)(at - text), text, cwd);
    char *hit = from ? strstr(at, from) : NULL;
    if (hit)
        fprintf(f, "%.*s%s%s", (int)(hit - at), at, to, hit + strlen(from));
    else
        fputs(at, f);
    assert_int_equal(fclose(f), 0);
    free(text);
}

/* SIGHUP: the changed menu is loaded beside the running one; the person listening goes on
 * with the one they began on; the kiosk moves to the new one when it is at rest (left idle),
 * so the next person hears it; a file with errors is refused, said with its line, and the
 * kiosk goes on. */
static void sighup_reloads_the_kiosk_menu_for_the_next_person_and_refuses_a_broken_one(
    void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char *cache = tl_tmpdir();
    char menu[600], out[600], err[600];
    snprintf(menu, sizeof(menu), "%s/court.ini", dir);
    write_kiosk_menu(menu, NULL, NULL);
    int keys;
    pid_t pid = kiosk_no_device_on(dir, cache, menu, "8", &keys, out, err, sizeof(out));

    write_kiosk_menu(menu, "Welcome to the kiosk test", "Hello from the new menu");
    assert_int_equal(kill(pid, SIGHUP), 0);
    size_t e = wait_for(err, 0, "menu reloaded (edition 2)", pid, "the reload");
    /* Someone is listening: their key still goes where the old menu said. */
    assert_int_equal(write(keys, "1", 1), 1);
    size_t o = wait_for(out, 0, "Here are some facts", pid, "the old menu's choice 1");

    write_kiosk_menu(menu, "start = main", "start = nowhere");
    assert_int_equal(kill(pid, SIGHUP), 0);
    e = wait_for(err, e, "the menu was not reloaded", pid, "refusing a broken file");
    char *text = tl_slurp(err);
    char line[700];
    snprintf(line, sizeof(line), "%s:8: error: start goes to 'nowhere'", menu);
    if (!strstr(text, line))
        fail_msg("the refusal should name the file and line (%s); stderr:\n%s", line, text);
    free(text);

    /* Left alone, the kiosk forgets the listener and takes the new menu; the next person
     * wakes it and hears the new welcome. */
    wait_for(err, e, "the kiosk now runs edition 2", pid, "moving to the new menu at rest");
    o = wait_for(out, o, "\033[3J", pid, "the screen cleared at the idle reset");
    assert_int_equal(write(keys, "5", 1), 1);
    wait_for(out, o, "Hello from the new menu", pid, "the new menu's welcome");
    text = tl_slurp(out);
    if (strstr(text, "Hello from the new menu") < strstr(text, "Here are some facts"))
        fail_msg("the new welcome came before the old session ended; screen:\n%s", text);
    free(text);

    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(wait_exit(pid), 0);
    close(keys);
    tl_rmtree(dir);
    free(dir);
    tl_rmtree(cache);
    free(cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_json_on_a_full_disk_exits_3),
        cmocka_unit_test(render_with_its_transcript_on_a_full_disk_exits_3),
        cmocka_unit_test(script_and_graph_on_a_full_disk_exit_3),
        cmocka_unit_test(prompts_lists_and_its_summary_on_a_full_disk_exit_3),
        cmocka_unit_test(dtmf_on_a_full_disk_exits_3),
        cmocka_unit_test(help_on_a_full_disk_exits_3),
        cmocka_unit_test(devices_on_a_full_disk_exits_3),
        cmocka_unit_test(a_closed_output_is_a_failed_write),
        cmocka_unit_test(a_reader_that_went_away_is_a_failed_write),
        cmocka_unit_test(every_command_answers_help_on_stdout_with_status_0),
        cmocka_unit_test(version_is_the_librarys),
        cmocka_unit_test(a_wrong_command_line_names_what_was_wrong_and_exits_2),
        cmocka_unit_test(a_file_with_errors_or_missing_is_status_1_for_every_command),
        cmocka_unit_test(a_helper_program_that_cannot_run_is_status_3),
        cmocka_unit_test(the_kiosk_ends_130_on_ctrl_c_and_sigint_0_on_sigterm_and_warns_of_no_device),
        cmocka_unit_test(
            sighup_reloads_the_kiosk_menu_for_the_next_person_and_refuses_a_broken_one),
    };
    return cmocka_run_group_tests_name("command line", tests, NULL, NULL);
}
