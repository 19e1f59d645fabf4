/*
 * Lookups: a court's command run on the caller's digits. Each test writes the small sh script
 * it needs into a fresh folder, runs it through the module, and checks what a listener would
 * hear (the status and the text) and what court IT would read (the messages). Every test
 * also checks, on its way out, that it left no descriptor open and no child behind: a kiosk
 * runs for months, and one leaked pipe per lookup would end it.
 *
 * Set TL_TIMES=1 to print each test's wall time (the time limits here are real time).
 */
#define _GNU_SOURCE /* memmem */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

#include <cmocka.h>

#include "base/diag.h"
#include "lookup/lookup.h"
#include "testlib.h"

#define EXAMPLE "examples/court/hearing-date"

/* How late past its limit a killed lookup may end, or how long a quick one may take, on a
 * machine loaded to its knees (the suite runs beside stress-ng): a bound that tells "at the
 * limit" from "at the end of a 100 s sleep", never a measure of speed. */
#define SLACK_MS 2500

static char *dir;        /* this run's scratch folder */
static int fds_before;   /* open descriptors when the test began */
static struct timespec test_t0;

/* ---- helpers ------------------------------------------------------------------------------ */

static tt_ms mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (tt_ms)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the one opendir holds */
}

/* A path inside the scratch folder (static: one at a time, copied by callers that keep it). */
static const char *in_dir(const char *name)
{
    static char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

/* Write an executable sh script named `name` whose body is printf(fmt, ...); in it, the shell
 * variable $D is the scratch folder. Returns its path (caller frees). */
static char *script(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static char *script(const char *name, const char *fmt, ...)
{
    char body[4096], text[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    snprintf(text, sizeof(text), "#!/bin/sh\nD='%s'\n%s\n", dir, body);
    char *path = strdup(in_dir(name));
    write_file(path, text, 0755);
    return path;
}

static bool diag_has(const tt_diag *d, enum tt_severity sev, const char *needle)
{
    for (size_t i = 0; i < tt_diag_len(d); i++) {
        const struct tt_diag_msg *m = tt_diag_get(d, i);
        if (m->sev == sev && strstr(m->text, needle))
            return true;
    }
    return false;
}

static bool diag_mentions(const tt_diag *d, const char *needle)
{
    for (size_t i = 0; i < tt_diag_len(d); i++)
        if (strstr(tt_diag_get(d, i)->text, needle))
            return true;
    return false;
}

#define expect_diag(d, sev, needle)                                                          \
    do {                                                                                     \
        if (!diag_has(d, sev, needle)) {                                                     \
            tt_diag_print(d, stderr);                                                        \
            fail_msg("no message containing \"%s\"", needle);                                \
        }                                                                                    \
    } while (0)

/* Live (not dead, not a zombie) processes in process group pg. Processes we killed are
 * reparented, and whoever adopts them may be slow to reap them: a zombie is dead enough. */
static int group_alive(pid_t pg)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
        char state;
        int ppid, pgrp;
        if (p && sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pg &&
            state != 'Z' && state != 'X')
            n++;
    }
    closedir(d);
    return n;
}

static bool pid_alive(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* SIGKILL is delivered at once but acted on asynchronously: allow a moment (a generous one,
 * measured on the clock: a loaded machine may not run the dying process for a while). */
static bool ends_soon(bool (*alive)(pid_t), pid_t pid)
{
    tt_ms until = mono_ms() + 10000;
    do {
        if (!alive(pid))
            return true;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    } while (mono_ms() < until);
    return !alive(pid);
}

static bool group_alive_b(pid_t pg)
{
    return group_alive(pg) > 0;
}

/* A pid a script wrote to a file in the scratch folder, waiting (briefly) for it to appear. */
static pid_t read_pid(const char *name)
{
    tt_ms until = mono_ms() + 10000; /* a bound, not a timing: a loaded machine is slow */
    while (mono_ms() < until) {
        FILE *f = fopen(in_dir(name), "r");
        long pid = 0;
        if (f) {
            int got = fscanf(f, "%ld", &pid);
            fclose(f);
            if (got == 1 && pid > 0)
                return (pid_t)pid;
        }
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    fail_msg("the script never wrote %s", name);
    return -1;
}

/* The whole command line of a process, its arguments joined by NULs; 0 bytes if it is gone. */
static size_t cmdline_of(pid_t pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

static bool cmdline_has(pid_t pid, const char *needle)
{
    char buf[8192];
    size_t n = cmdline_of(pid, buf, sizeof(buf));
    return memmem(buf, n, needle, strlen(needle)) != NULL;
}

/* State and parent of a process from /proc/PID/stat; false if it is gone. */
static bool stat_of(pid_t pid, char *state, pid_t *ppid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    char *p = strrchr(buf, ')');
    int pp = 0;
    if (!p || sscanf(p + 1, " %c %d", state, &pp) != 2)
        return false;
    *ppid = pp;
    return true;
}

/* Call fn on every process there is (its pid, state and parent). */
static void each_process(void (*fn)(pid_t pid, char state, pid_t ppid, void *arg), void *arg)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        pid_t pid = (pid_t)atol(e->d_name), ppid;
        char state;
        if (stat_of(pid, &state, &ppid))
            fn(pid, state, ppid, arg);
    }
    closedir(d);
}

/* The processes below `root` (children, their children, ...), found in rounds over /proc. */
struct tree {
    pid_t root;
    pid_t pid[512];
    int n;
    bool grew;
};

static bool in_tree(const struct tree *t, pid_t pid)
{
    if (pid == t->root)
        return true;
    for (int i = 0; i < t->n; i++)
        if (t->pid[i] == pid)
            return true;
    return false;
}

static void add_if_below(pid_t pid, char state, pid_t ppid, void *arg)
{
    struct tree *t = arg;
    (void)state;
    if (in_tree(t, ppid) && !in_tree(t, pid) && t->n < 512) {
        t->pid[t->n++] = pid;
        t->grew = true;
    }
}

static int descendants(pid_t root, struct tree *t)
{
    t->root = root;
    t->n = 0;
    do {
        t->grew = false;
        each_process(add_if_below, t);
    } while (t->grew);
    return t->n;
}

/* The children of pid (t->root). */
static void add_if_child(pid_t pid, char state, pid_t ppid, void *arg)
{
    struct tree *t = arg;
    (void)state;
    if (ppid == t->root && t->n < 512)
        t->pid[t->n++] = pid;
}

/* The mark this run puts on the sleepers its scripts start: `sleep 1000.<our pid><n>` is a
 * process no one else on the machine runs, so one found anywhere was left behind by us. */
static const char *sleeper(int n)
{
    static char s[64];
    snprintf(s, sizeof(s), "1000.%ld%d", (long)getpid(), n);
    return s;
}

/* Live processes, anywhere on the machine, that carry this run's mark: a sleeper, or a
 * script from the scratch folder. Processes that escaped us have other parents (init, a
 * session's reaper), so they are looked for by what they are, not by whose child they are. */
struct marked {
    char mark[64];
    pid_t pid[512];
    int n;
};

static void add_if_marked(pid_t pid, char state, pid_t ppid, void *arg)
{
    struct marked *m = arg;
    (void)ppid;
    if (state != 'Z' && state != 'X' && pid != getpid() &&
        (cmdline_has(pid, m->mark) || cmdline_has(pid, dir)) && m->n < 512)
        m->pid[m->n++] = pid;
}

static int left_behind(struct marked *m)
{
    snprintf(m->mark, sizeof(m->mark), "1000.%ld", (long)getpid());
    m->n = 0;
    each_process(add_if_marked, m);
    return m->n;
}

static int count_left_behind(void)
{
    struct marked m;
    return left_behind(&m);
}

/* A process is gone when it does not exist, is a zombie, or is no longer the one we started
 * (its id reused: its command line no longer carries our mark). */
static bool marked_alive(pid_t pid)
{
    char state;
    pid_t ppid;
    char mark[64];
    snprintf(mark, sizeof(mark), "1000.%ld", (long)getpid());
    return stat_of(pid, &state, &ppid) && state != 'Z' && state != 'X' &&
           (cmdline_has(pid, mark) || cmdline_has(pid, dir));
}

/* The pid a SETSID_SLEEPER wrote, once it is the sleeper: it writes the pid and then execs
 * sleep, and in between /proc shows an empty command line, so the marked process looks
 * unmarked (seen once on an idle machine as "the sleeper is not alive" just after its pid
 * arrived). Waits, bounded, until it carries the mark or is gone. */
static pid_t read_sleeper_pid(const char *name)
{
    pid_t pid = read_pid(name);
    tt_ms until = mono_ms() + 10000;
    char state;
    pid_t ppid;
    while (pid > 0 && mono_ms() < until && !marked_alive(pid) && stat_of(pid, &state, &ppid) &&
           state != 'Z' && state != 'X') {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return pid;
}

/* No 4 digits in a row of the entry, with anything but letters and digits between them,
 * anywhere in text: the rule for what reaches a log, checked independently of how the
 * module enforces it (drop everything but letters and digits, then look for the entry's
 * 4-digit pieces). */
static bool has_entry_piece(const char *text, const char *entry)
{
    char alnum[4096];
    size_t n = 0;
    for (const char *p = text; *p && n < sizeof(alnum) - 1; p++)
        if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
            alnum[n++] = *p;
    alnum[n] = '\0';
    size_t elen = strlen(entry);
    for (size_t i = 0; i + 4 <= elen; i++) {
        char piece[5];
        memcpy(piece, entry + i, 4);
        piece[4] = '\0';
        if (strstr(alnum, piece))
            return true;
    }
    return false;
}

static bool diag_has_entry_piece(const tt_diag *d, const char *entry)
{
    for (size_t i = 0; i < tt_diag_len(d); i++)
        if (has_entry_piece(tt_diag_get(d, i)->text, entry))
            return true;
    return false;
}

static bool valid_utf8_no_controls(const char *s)
{
    mbstate_t st;
    memset(&st, 0, sizeof(st));
    size_t n = strlen(s);
    while (n > 0) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, s, n, &st);
        if (k == (size_t)-1 || k == (size_t)-2 || k == 0)
            return false;
        if (wc < 0x20 || wc == 0x7f || (wc >= 0x80 && wc <= 0x9f) ||
            (wc >= 0xd800 && wc <= 0xdfff))
            return false;
        s += k;
        n -= k;
    }
    return true;
}

/* Cleaned text has no space at either end and never two in a row. */
static bool tidy_spaces(const char *s)
{
    size_t n = strlen(s);
    return n == 0 || (s[0] != ' ' && s[n - 1] != ' ' && !strstr(s, "  "));
}

/* Run command on entry with the given limit (0: default), checking the result. */
struct run {
    int err;
    enum tt_lookup_status st;
    char *text;
    tt_ms ms;
    tt_diag *d;
};

static void run_opts(struct run *r, const char *command, const char *entry,
                     const struct tt_lookup_opts *o)
{
    r->d = tt_diag_new();
    assert_non_null(r->d);
    r->text = NULL;
    tt_ms t0 = mono_ms();
    r->err = tt_lookup_run(command, entry, o, &r->st, &r->text, r->d);
    r->ms = mono_ms() - t0;
}

static void run(struct run *r, const char *command, const char *entry, tt_ms limit)
{
    struct tt_lookup_opts o = {.limit_ms = limit};
    run_opts(r, command, entry, &o);
}

static void run_free(struct run *r)
{
    free(r->text);
    tt_diag_free(r->d);
}

static char *realpath_of(const char *path)
{
    char *p = realpath(path, NULL);
    assert_non_null(p);
    return p;
}

/* ---- fixtures ----------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    dir = tl_tmpdir();
    setlocale(LC_CTYPE, "C.UTF-8"); /* for the independent UTF-8 check (mbrtowc) */
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tl_rmtree(dir);
    free(dir);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    fds_before = fd_count();
    clock_gettime(CLOCK_MONOTONIC, &test_t0);
    return 0;
}

/* Every test ends with nothing open that it did not find, and no child at all: not running,
 * not a zombie waiting to be reaped. */
static int teardown(void **state)
{
    (void)state;
    if (getenv("TL_TIMES")) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        fprintf(stderr, "    %6.0f ms\n",
                (double)(t.tv_sec - test_t0.tv_sec) * 1e3 + (t.tv_nsec - test_t0.tv_nsec) / 1e6);
    }
    bool failed = false;
    struct marked m;
    if (left_behind(&m) > 0) {
        fprintf(stderr, "%d processes the lookup started were left behind\n", m.n);
        for (int i = 0; i < m.n; i++)
            kill(m.pid[i], SIGKILL); /* ours (they carry this run's mark): clean up after a failure */
        failed = true;
    }
    int st;
    errno = 0;
    if (waitpid(-1, &st, WNOHANG) != -1 || errno != ECHILD) {
        fprintf(stderr, "a child process was left behind\n");
        /* End them (our own children, by pid), so that one failure does not fail every test
         * after it. */
        struct tree kids = {.root = getpid()};
        each_process(add_if_child, &kids);
        for (int i = 0; i < kids.n; i++)
            kill(kids.pid[i], SIGKILL);
        while (waitpid(-1, &st, 0) > 0)
            ;
        return -1;
    }
    if (failed)
        return -1;
    int now = fd_count();
    if (now != fds_before) {
        fprintf(stderr, "descriptors: %d before the test, %d after\n", fds_before, now);
        return -1;
    }
    return 0;
}

/* ---- success ------------------------------------------------------------------------------ */

static void a_lookup_that_answers_is_spoken_word_for_word(void **state)
{
    (void)state;
    char *cmd = script("answer", "IFS= read -r n; echo \"Case $n is set for trial on Friday.\"");
    struct run r;
    run(&r, cmd, "12345", 0);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.st, TT_LOOKUP_OK);
    assert_string_equal(r.text, "Case 12345 is set for trial on Friday.");
    assert_int_equal(tt_diag_count(r.d, TT_WARNING) + tt_diag_count(r.d, TT_ERROR), 0);
    assert_true(r.ms < SLACK_MS);
    run_free(&r);
    free(cmd);
}

static void the_entry_arrives_on_standard_input_as_one_line_and_argv_is_the_command_alone(
    void **state)
{
    (void)state;
    /* od shows every byte it reads: the digits, the newline, then the end of input. */
    char *cmd = script("args", "printf 'count %%s, ' \"$#\"; od -An -c");
    struct run r;
    run(&r, cmd, "007", 0);
    assert_int_equal(r.st, TT_LOOKUP_OK);
    assert_string_equal(r.text, "count 0, 0 0 7 \\n");
    run_free(&r);
    free(cmd);
}

static void the_entry_is_in_no_argv_of_the_command_or_of_what_it_starts(void **state)
{
    (void)state;
    /* What `ps` shows every local user while the lookup runs: the command line of the
     * command, of the child it starts, and of anything of ours in between. */
    char *cmd = script("argv",
                       "IFS= read -r n; sleep %s & echo $! > \"$D/kid.pid\"; "
                       "echo $$ > \"$D/self.pid\"; wait",
                       sleeper(1));
    struct tt_lookup *l;
    assert_int_equal(tt_lookup_start(&l, cmd, "20310001", NULL, NULL), 0);
    pid_t self = read_pid("self.pid"), kid = read_pid("kid.pid");
    /* The shell writes the child's pid as soon as it forks; the child runs sleep a moment
     * later (much later on a loaded machine). Look once it has. */
    for (int i = 0; i < 2000 && !cmdline_has(kid, sleeper(1)); i++)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    struct tree t;
    descendants(getpid(), &t);
    assert_true(in_tree(&t, self));
    assert_true(in_tree(&t, kid));
    for (int i = 0; i < t.n; i++) {
        char line[8192];
        size_t n = cmdline_of(t.pid[i], line, sizeof(line));
        if (memmem(line, n, "20310001", 8))
            fail_msg("process %ld has the entry in its arguments", (long)t.pid[i]);
    }
    assert_true(cmdline_has(kid, sleeper(1))); /* it was looked at while it ran */
    tt_lookup_free(l);
    assert_true(ends_soon(marked_alive, kid));
    assert_true(ends_soon(marked_alive, self));
    free(cmd);
}

/* ---- the example lookup shipped for court IT ---------------------------------------------- */

static void the_example_says_the_next_hearing_in_words(void **state)
{
    (void)state;
    char *cmd = realpath_of(EXAMPLE);
    struct run r;
    run(&r, cmd, "20310001", 0);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.st, TT_LOOKUP_OK);
    /* The shipped file is fictional and its dates fixed: once they are past, the example says
     * so (it never calls a past date "next"). */
    char today[16];
    time_t now = time(NULL);
    strftime(today, sizeof(today), "%Y-%m-%d", localtime(&now));
    if (strcmp(today, "2031-03-03") <= 0)
        assert_string_equal(r.text, "Your next hearing is on Monday, March 3, 2031, at 9:30 in "
                                    "the morning, in courtroom 4.");
    else
        assert_string_equal(r.text, "There is no upcoming hearing on record for this case. "
                                    "Please ask at the clerk's office.");
    run_free(&r);
    free(cmd);
}

/* A copy of the example beside a CSV of the test's own, with dates that stay in the future. */
static char *example_copy(const char *csv)
{
    char *src = tl_slurp(EXAMPLE);
    mkdir(in_dir("court"), 0755);
    write_file(in_dir("court/hearings.csv"), csv, 0644);
    write_file(in_dir("court/hearing-date"), src, 0755);
    free(src);
    return strdup(in_dir("court/hearing-date"));
}

static void the_example_picks_the_earliest_hearing_still_to_come(void **state)
{
    (void)state;
    char *cmd = example_copy("# test data\r\n"
                             "case,date,time,courtroom\r\n"
                             "11,2099-06-01,14:00,2B\r\n"
                             "11,2001-01-01,09:00,1\r\n"
                             "11,2099-05-04,12:00,3\r\n"
                             "22,2099-12-31,17:05,Annex\r\n"
                             "33,2001-02-03,09:00,1\r\n");
    static const struct {
        const char *entry, *said;
    } cases[] = {
        {"11", "Your next hearing is on Monday, May 4, 2099, at noon, in courtroom 3."},
        {"22", "Your next hearing is on Thursday, December 31, 2099, at 5:05 in the afternoon, "
               "in courtroom Annex."},
        {"33", "There is no upcoming hearing on record for this case. Please ask at the "
               "clerk's office."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run r;
        run(&r, cmd, cases[i].entry, 0);
        assert_int_equal(r.st, TT_LOOKUP_OK);
        assert_string_equal(r.text, cases[i].said);
        run_free(&r);
    }
    free(cmd);
}

static void the_example_puts_the_case_number_in_no_command_line(void **state)
{
    (void)state;
    /* A long file keeps the example busy (its awk reads every line) long enough for every
     * command line below us to be read over and over while it runs: the case number must be
     * in none, not even in what the example starts (awk, date). */
    size_t size = 0;
    char *csv = NULL;
    FILE *f = open_memstream(&csv, &size);
    assert_non_null(f);
    fputs("case,date,time,courtroom\n", f);
    for (int i = 0; i < 200000; i++)
        fprintf(f, "%d,2099-01-01,09:00,1\n", 10000000 + i);
    fputs("20310001,2099-03-03,09:30,4\n", f);
    assert_int_equal(fclose(f), 0);
    char *cmd = example_copy(csv);
    free(csv);
    struct tt_lookup *l;
    struct tt_lookup_opts o = {.limit_ms = 120000};
    assert_int_equal(tt_lookup_start(&l, cmd, "20310001", &o, NULL), 0);
    bool done = false, saw_awk = false;
    while (!done) {
        struct tree t;
        descendants(getpid(), &t);
        for (int i = 0; i < t.n; i++) {
            if (cmdline_has(t.pid[i], "20310001"))
                fail_msg("process %ld has the case number in its arguments", (long)t.pid[i]);
            saw_awk = saw_awk || cmdline_has(t.pid[i], "awk");
        }
        struct pollfd p = {.fd = tt_lookup_fd(l), .events = POLLIN};
        poll(&p, 1, 5);
        assert_int_equal(tt_lookup_poll(l, &done), 0);
    }
    assert_int_equal(tt_lookup_status(l), TT_LOOKUP_OK);
    assert_string_equal(tt_lookup_text(l), "Your next hearing is on Tuesday, March 3, 2099, at "
                                           "9:30 in the morning, in courtroom 4.");
    assert_true(saw_awk); /* it was looked at while the work was done */
    tt_lookup_free(l);
    free(cmd);
}

static void a_case_the_example_does_not_know_is_empty_and_says_nothing(void **state)
{
    (void)state;
    char *cmd = realpath_of(EXAMPLE);
    struct run r;
    run(&r, cmd, "99999999", 0);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.st, TT_LOOKUP_EMPTY); /* exit status 1: not found */
    assert_null(r.text);
    expect_diag(r.d, TT_NOTE, "found nothing");
    assert_false(diag_mentions(r.d, "99999999")); /* the entry stays out of the log */
    run_free(&r);
    free(cmd);
}

static void a_malformed_hearings_file_fails_and_names_the_line(void **state)
{
    (void)state;
    char *cmd = example_copy("case,date,time,courtroom\n"
                             "11,2099-06-01,14:00,2B\n"
                             "12,2099-02-30,09:00,1\n");
    struct run r;
    run(&r, cmd, "11", 0);
    assert_int_equal(r.st, TT_LOOKUP_FAILED); /* exit status 2 */
    assert_null(r.text);
    expect_diag(r.d, TT_WARNING, "exit status 2");
    expect_diag(r.d, TT_WARNING, "hearings.csv:3: there is no such date: 2099-02-30");
    run_free(&r);
    free(cmd);
}

/* ---- failure ------------------------------------------------------------------------------ */

static void a_failing_lookup_is_failed_and_its_complaint_reaches_the_log(void **state)
{
    (void)state;
    char *cmd = script("fail", "IFS= read -r n; echo 'Your hearing is' ; "
                               "echo \"database down for case $n\" >&2; exit 3");
    struct run r;
    run(&r, cmd, "4242", 0);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.st, TT_LOOKUP_FAILED);
    assert_null(r.text); /* half an answer is never spoken */
    expect_diag(r.d, TT_WARNING, "exit status 3");
    expect_diag(r.d, TT_WARNING, "database down for case [entry]");
    assert_false(diag_mentions(r.d, "4242"));
    run_free(&r);
    free(cmd);
}

static void a_lookup_ended_by_a_signal_is_failed(void **state)
{
    (void)state;
    char *cmd = script("signal", "echo 'About to crash.'; kill -TERM $$; sleep 5");
    struct run r;
    run(&r, cmd, "1", 0);
    assert_int_equal(r.st, TT_LOOKUP_FAILED);
    expect_diag(r.d, TT_WARNING, "signal 15");
    run_free(&r);
    free(cmd);
}

static void a_lookup_that_prints_nothing_or_only_blanks_is_empty(void **state)
{
    (void)state;
    char *silent = script("silent", "exit 0");
    char *blank = script("blank", "printf '\\n\\t  \\001\\033\\r\\n'");
    struct run r;
    run(&r, silent, "1", 0);
    assert_int_equal(r.st, TT_LOOKUP_EMPTY);
    assert_null(r.text);
    expect_diag(r.d, TT_WARNING, "printed nothing that can be spoken");
    run_free(&r);
    run(&r, blank, "1", 0);
    assert_int_equal(r.st, TT_LOOKUP_EMPTY);
    run_free(&r);
    free(silent);
    free(blank);
}

/* ---- standard error: what reaches the log ------------------------------------------------ */

static void the_entry_is_blanked_from_standard_error_however_it_is_spelled(void **state)
{
    (void)state;
    /* What the command writes on standard error, and what of it reaches the log. */
    static const struct {
        const char *wrote, *logged;
    } cases[] = {
        {"hearings.csv:12: no case 20310001 here", "hearings.csv:12: no case [entry] here"},
        {"hearings.csv:12: no case 2031-0001 here", "hearings.csv:12: no case [entry] here"},
        {"no case 2 0 3 1 0 0 0 1 here", "no case [entry] here"},
        {"no case 2031.0001 here", "no case [entry] here"},
        {"no case (2031) 0001 here", "no case ([entry] here"},
        {"no case 2031/0001 here", "no case [entry] here"},
        {"no case 2031,0001 here", "no case [entry] here"},
        {"no case 2031_0001 here", "no case [entry] here"},
        {"no case 2031:0001 here", "no case [entry] here"},
        {"no case 20-31-00-01 here", "no case [entry] here"},
        {"20310001 not found", "[entry] not found"},
        {"not found: 2031-0001", "not found: [entry]"},
        {"case 2031, part 0001", "case [entry], part [entry]"},
        {"case ending 0001, filed 310", "case ending [entry], filed 310"},
        {"hearings.csv:12:2031-0001", "hearings.csv:12:[entry]"},
        {"line 7: 203", "line 7: 203"}, /* three digits, and a line number: they stay */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *cmd = script("spelled", "printf '%%s\\n' '%s' >&2; exit 3", cases[i].wrote);
        struct run r;
        run(&r, cmd, "20310001", 0);
        assert_int_equal(r.st, TT_LOOKUP_FAILED);
        char want[256];
        snprintf(want, sizeof(want), "It said: \"%s\"", cases[i].logged);
        if (!diag_has(r.d, TT_WARNING, want)) {
            tt_diag_print(r.d, stderr);
            fail_msg("wrote \"%s\": the log should have %s", cases[i].wrote, want);
        }
        assert_false(diag_has_entry_piece(r.d, "20310001"));
        run_free(&r);
        free(cmd);
    }
    /* Split over two writes, at the end of one and the start of the next. */
    char *cmd = script("split", "printf 'case 2031' >&2; sleep 0.05; printf -- '-0001\\n' >&2; "
                                "exit 3");
    struct run r;
    run(&r, cmd, "20310001", 0);
    expect_diag(r.d, TT_WARNING, "It said: \"case [entry]\"");
    assert_false(diag_has_entry_piece(r.d, "20310001"));
    run_free(&r);
    free(cmd);
}

/* A small random generator of our own, so a failure can be replayed from its seed. */
static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

static void no_four_digits_of_the_entry_survive_any_separators(void **state)
{
    (void)state;
    static const char *seps[] = {"",  " ",  "-", ".",   "/", ",",  "_",  ":", "(",
                                 ")", "  ", "- ", " / ", "é", "\t", "#", "|", "..."};
    static const char *words[] = {"case", "hearings.csv:12:", "line", "not found", "at 9:30",
                                  "id",   "x",                "2099", "ok",        "7"};
    uint64_t x = 0x2545f4914f6cdd1du;
    for (int round = 0; round < 5000; round++) {
        /* An entry of 4 to 20 digits. */
        char entry[TT_LOOKUP_MAX_ENTRY + 1];
        size_t elen = 4 + next_rand(&x) % 17;
        for (size_t i = 0; i < elen; i++)
            entry[i] = (char)('0' + next_rand(&x) % 10);
        entry[elen] = '\0';
        /* Text with the entry, or a piece of it, written with random separators, among
         * words and unrelated numbers. */
        char text[1024];
        size_t n = 0;
        int parts = 1 + (int)(next_rand(&x) % 4);
        for (int p = 0; p < parts; p++) {
            const char *w = words[next_rand(&x) % (sizeof(words) / sizeof(words[0]))];
            n += (size_t)snprintf(text + n, sizeof(text) - n, "%s ", w);
            size_t from = next_rand(&x) % 3 ? 0 : next_rand(&x) % (elen - 3);
            size_t to = from + 4 + next_rand(&x) % (elen - from - 3);
            for (size_t i = from; i < to && n < sizeof(text) - 16; i++) {
                text[n++] = entry[i];
                const char *sep = seps[next_rand(&x) % (sizeof(seps) / sizeof(seps[0]))];
                if (i + 1 < to && next_rand(&x) % 2)
                    n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", sep);
            }
            n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
                                  next_rand(&x) % 2 ? " " : ", ");
        }
        text[n] = '\0';
        char *out = tt_lookup_hide_entry(text, n, entry);
        assert_non_null(out);
        if (has_entry_piece(out, entry))
            fail_msg("round %d: entry %s, wrote \"%s\", kept \"%s\"", round, entry, text, out);
        assert_non_null(strstr(out, "[entry]"));
        free(out);
    }
    /* A short entry is blanked where it stands alone as a number, however spaced. */
    char *out = tt_lookup_hide_entry("pin 0 0 7, line 1007", 20, "007");
    assert_string_equal(out, "pin [entry], line 1007");
    free(out);
}

static void eight_megabytes_on_either_output_do_not_stall_the_lookup(void **state)
{
    (void)state;
    /* Alone, each of these takes a few hundredths of a second: a lookup that drains one pipe
     * but not the other would block the command on the full one until the limit. */
    char *err_ok = script("err8", "IFS= read -r n; echo \"looking up $n\" >&2; "
                                  "head -c 8000000 /dev/zero | tr '\\000' x >&2; "
                                  "echo 'Found it.'");
    char *err_none = script("err8none", "IFS= read -r n; echo \"no $n\" >&2; "
                                        "head -c 8000000 /dev/zero | tr '\\000' x >&2; exit 1");
    char *out_ok = script("out8", "head -c 8000000 /dev/zero | tr '\\000' y; "
                                  "head -c 8000000 /dev/zero | tr '\\000' x >&2");
    struct run r;
    run(&r, err_ok, "20310001", 0);
    assert_int_equal(r.st, TT_LOOKUP_OK);
    assert_string_equal(r.text, "Found it.");
    expect_diag(r.d, TT_NOTE, "It said: \"looking up [entry] xxxx");
    for (size_t i = 0; i < tt_diag_len(r.d); i++)
        assert_true(strlen(tt_diag_get(r.d, i)->text) < 1000); /* a log line, not 8 MB */
    assert_false(diag_has_entry_piece(r.d, "20310001"));
    run_free(&r);

    run(&r, err_none, "20310001", 0);
    assert_int_equal(r.st, TT_LOOKUP_EMPTY);
    expect_diag(r.d, TT_NOTE, "It said: \"no [entry] xxxx");
    for (size_t i = 0; i < tt_diag_len(r.d); i++)
        assert_true(strlen(tt_diag_get(r.d, i)->text) < 1000);
    run_free(&r);

    run(&r, out_ok, "20310001", 0);
    assert_int_equal(r.st, TT_LOOKUP_OK); /* 8 MB of one word, cut to the cap */
    assert_int_equal(strlen(r.text), TT_LOOKUP_MAX_OUTPUT);
    run_free(&r);
    free(err_ok);
    free(err_none);
    free(out_ok);
}

/* ---- hangs -------------------------------------------------------------------------------- */

static void a_hung_lookup_is_killed_at_its_limit(void **state)
{
    (void)state;
    /* Whatever it got to start before the limit (on a loaded machine, perhaps nothing) is
     * gone after it: the script and its sleeper carry this run's mark. */
    char *cmd = script("hang", "echo 'Looking'; sleep %s", sleeper(6));
    struct run r;
    run(&r, cmd, "1", 300);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.st, TT_LOOKUP_TIMEOUT);
    assert_null(r.text); /* "Looking" was printed, but a timed-out answer is never spoken */
    assert_true(r.ms >= 300);
    assert_true(r.ms <= 300 + SLACK_MS);
    expect_diag(r.d, TT_WARNING, "no answer within 0.3 s");
    assert_int_equal(count_left_behind(), 0);
    run_free(&r);
    free(cmd);
}

static void a_grandchild_holding_the_output_open_is_killed_with_the_group(void **state)
{
    (void)state;
    char *cmd = script("gc", "sleep %s & wait", sleeper(7));
    struct run r;
    run(&r, cmd, "1", 300);
    assert_int_equal(r.st, TT_LOOKUP_TIMEOUT);
    assert_true(r.ms >= 300 && r.ms <= 300 + SLACK_MS);
    assert_int_equal(count_left_behind(), 0);
    run_free(&r);
    free(cmd);
}

static void a_command_that_answers_and_leaves_a_straggler_is_done_at_once(void **state)
{
    (void)state;
    /* The command's exit ends the lookup, even though the straggler still holds its output. */
    char *cmd = script("straggler",
                       "(sleep 100; echo late) & echo $! > \"$D/st.pid\"; echo 'Answer.'");
    struct run r;
    run(&r, cmd, "1", 3000);
    assert_int_equal(r.st, TT_LOOKUP_OK);
    assert_string_equal(r.text, "Answer.");
    assert_true(r.ms < SLACK_MS);
    assert_true(ends_soon(pid_alive, read_pid("st.pid")));
    run_free(&r);
    free(cmd);
}

static void a_command_that_closes_its_output_and_carries_on_times_out_without_spinning(
    void **state)
{
    (void)state;
    char *cmd = script("closer", "exec >&-; sleep 100");
    struct tt_lookup *l;
    struct tt_lookup_opts o = {.limit_ms = 400};
    tt_diag *d = tt_diag_new();
    tt_ms t0 = mono_ms(); /* the limit counts from the spawn, inside start */
    assert_int_equal(tt_lookup_start(&l, cmd, "1", &o, d), 0);
    bool done = false;
    int wakeups = 0;
    while (!done) {
        struct pollfd p = {.fd = tt_lookup_fd(l), .events = POLLIN};
        poll(&p, 1, tt_lookup_timeout_ms(l));
        assert_int_equal(tt_lookup_poll(l, &done), 0);
        wakeups++;
    }
    tt_ms ms = mono_ms() - t0;
    assert_int_equal(tt_lookup_status(l), TT_LOOKUP_TIMEOUT);
    if (ms < 400 || ms > 400 + SLACK_MS)
        fail_msg("timed out after %lld ms", (long long)ms);
    /* 50 ms beats after a short back-off, not a busy loop on a closed descriptor. */
    assert_true(wakeups < 40);
    assert_int_equal(tt_lookup_fd(l), -1);
    assert_int_equal(tt_lookup_timeout_ms(l), 0);
    tt_lookup_free(l);
    tt_diag_free(d);
    free(cmd);
}

/* ---- the poll interface ------------------------------------------------------------------- */

static void a_live_driver_polls_a_lookup_to_its_end_without_busy_waiting(void **state)
{
    (void)state;
    char *cmd = script("slow", "sleep 0.2; echo 'Ready now.'");
    struct tt_lookup *l;
    tt_diag *d = tt_diag_new();
    assert_int_equal(tt_lookup_start(&l, cmd, "5", NULL, d), 0);
    assert_true(tt_lookup_fd(l) >= 0);
    assert_int_equal(tt_lookup_status(l), TT_LOOKUP_RUNNING);
    assert_string_equal(tt_lookup_text(l), "");
    bool done = false;
    int wakeups = 0;
    while (!done) {
        int t = tt_lookup_timeout_ms(l);
        assert_true(t >= 0 && t <= TT_LOOKUP_LIMIT_MS);
        struct pollfd p = {.fd = tt_lookup_fd(l), .events = POLLIN};
        poll(&p, 1, t);
        assert_int_equal(tt_lookup_poll(l, &done), 0);
        wakeups++;
    }
    assert_int_equal(tt_lookup_status(l), TT_LOOKUP_OK);
    assert_string_equal(tt_lookup_text(l), "Ready now.");
    assert_true(wakeups < 20); /* about 200 ms / 50 ms, plus the end */
    /* Asking again once done changes nothing. */
    assert_int_equal(tt_lookup_poll(l, &done), 0);
    assert_true(done);
    tt_lookup_free(l);
    tt_diag_free(d);
    free(cmd);
}

static void freeing_a_running_lookup_kills_its_whole_group(void **state)
{
    (void)state;
    char *cmd = script("abandon", "sleep 100 & echo $! > \"$D/ab.pid\"; wait");
    struct tt_lookup *l;
    assert_int_equal(tt_lookup_start(&l, cmd, "1", NULL, NULL), 0);
    pid_t pg = tt_lookup_pid(l);
    pid_t gc = read_pid("ab.pid");
    assert_true(pid_alive(gc));
    tt_lookup_free(l); /* the caller hung up, say */
    assert_true(ends_soon(pid_alive, gc));
    assert_true(ends_soon(group_alive_b, pg));
    free(cmd);
}

/* ---- escapes: setsid, double forks, many forks, a host that dies ----------------------------- */

/* A script line that starts a sleeper in a session of its own (setsid -f forks and the
 * setsid'd process execs sleep; its parent, setsid, exits at once: a double fork), which
 * writes its pid to `file` first. */
#define SETSID_SLEEPER "setsid -f sh -c \"echo \\$\\$ > '$D/%s'; exec sleep %s\""

static void a_sleeper_in_a_session_of_its_own_is_ended_at_the_limit(void **state)
{
    (void)state;
    /* The command waits for its sleeper to be under way, then hangs; the limit leaves a
     * loaded machine ample time for that. */
    char *cmd = script("sid_limit",
                       SETSID_SLEEPER "; while [ ! -s \"$D/sid1.pid\" ]; do sleep 0.01; done; "
                                      "sleep 100",
                       "sid1.pid", sleeper(2));
    struct run r;
    run(&r, cmd, "1", 2000);
    assert_int_equal(r.st, TT_LOOKUP_TIMEOUT);
    pid_t s = read_sleeper_pid("sid1.pid");
    assert_false(marked_alive(s)); /* gone by the time the lookup is over, not later */
    assert_int_equal(count_left_behind(), 0);
    run_free(&r);
    free(cmd);
}

static void a_sleeper_in_a_session_of_its_own_is_ended_when_the_command_exits(void **state)
{
    (void)state;
    char *cmd = script("sid_exit",
                       SETSID_SLEEPER "; while [ ! -s \"$D/sid2.pid\" ]; do sleep 0.01; done; "
                                      "echo 'Answer.'",
                       "sid2.pid", sleeper(3));
    struct run r;
    run(&r, cmd, "1", 0);
    assert_int_equal(r.st, TT_LOOKUP_OK);
    assert_string_equal(r.text, "Answer.");
    assert_false(marked_alive(read_sleeper_pid("sid2.pid")));
    assert_int_equal(count_left_behind(), 0);
    run_free(&r);
    free(cmd);
}

/* A bounded fork bomb: a binary tree of processes 7 levels deep (255 of them), every one in a
 * session of its own, each becoming a sleeper once it has started its two children. */
static char *bomb(void)
{
    return script("bomb",
                  "d=$1; if [ \"$d\" -lt 7 ]; then setsid -f \"$D/bomb\" $((d + 1)); "
                  "setsid -f \"$D/bomb\" $((d + 1)); fi; exec sleep %s",
                  sleeper(4));
}

static void a_command_that_forks_hundreds_of_processes_leaves_none_behind(void **state)
{
    (void)state;
    char *b = bomb();
    char *hang = script("bomb_hang", "\"$D/bomb\" 0 & sleep 100");
    char *exits = script("bomb_exit", "\"$D/bomb\" 0 & sleep 0.5; echo 'Answer.'");
    struct run r;
    run(&r, hang, "1", 1000); /* at the limit, with the tree still growing */
    assert_int_equal(r.st, TT_LOOKUP_TIMEOUT);
    assert_int_equal(count_left_behind(), 0);
    assert_false(diag_mentions(r.d, "could not be stopped"));
    run_free(&r);
    run(&r, exits, "1", 0); /* at the command's exit */
    assert_int_equal(r.st, TT_LOOKUP_OK);
    assert_int_equal(count_left_behind(), 0);
    run_free(&r);
    free(b);
    free(hang);
    free(exits);
}

static void a_lookup_ends_with_its_host_even_when_the_host_is_killed(void **state)
{
    (void)state;
    char *cmd = script("host_dies", SETSID_SLEEPER "; echo $$ > \"$D/hd.pid\"; sleep 100",
                       "hd_sid.pid", sleeper(5));
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t host = fork();
    assert_true(host >= 0);
    if (host == 0) { /* a kiosk that starts a lookup, then dies without a chance to clean up */
        close(ready[0]);
        struct tt_lookup *l = NULL;
        struct tt_lookup_opts o = {.limit_ms = 60000};
        int err = tt_lookup_start(&l, cmd, "1", &o, NULL);
        if (write(ready[1], &err, sizeof(err)) != sizeof(err))
            _exit(1);
        pause();
        _exit(0);
    }
    close(ready[1]);
    int err = -1;
    assert_int_equal(read(ready[0], &err, sizeof(err)), sizeof(err));
    close(ready[0]);
    assert_int_equal(err, 0);
    pid_t sid = read_sleeper_pid("hd_sid.pid"), command = read_pid("hd.pid");
    struct tree kids = {.root = host};
    each_process(add_if_child, &kids); /* whatever the host runs the lookup with */
    assert_true(marked_alive(sid));
    assert_int_equal(kill(host, SIGKILL), 0);
    assert_int_equal(waitpid(host, NULL, 0), host);
    assert_true(ends_soon(marked_alive, sid));
    assert_true(ends_soon(marked_alive, command));
    for (int i = 0; i < kids.n; i++)
        assert_true(ends_soon(pid_alive, kids.pid[i]));
    assert_int_equal(count_left_behind(), 0);
    free(cmd);
}

struct on_thread {
    const char *cmd;
    struct tt_lookup *l;
    int err;
};

static void *start_on_thread(void *arg)
{
    struct on_thread *t = arg;
    t->err = tt_lookup_start(&t->l, t->cmd, "1", NULL, NULL);
    return NULL;
}

static void a_lookup_started_on_a_thread_that_has_ended_runs_to_its_answer(void **state)
{
    (void)state;
    /* A host may start a lookup on a worker thread that ends before the answer comes: the
     * lookup is the process's, not the thread's, and must not be taken for orphaned. */
    char *cmd = script("thread", "sleep 0.3; echo 'Still here.'");
    struct on_thread t = {.cmd = cmd};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, start_on_thread, &t), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(t.err, 0);
    bool done = false;
    while (!done) {
        struct pollfd p = {.fd = tt_lookup_fd(t.l), .events = POLLIN};
        poll(&p, 1, tt_lookup_timeout_ms(t.l));
        assert_int_equal(tt_lookup_poll(t.l, &done), 0);
    }
    assert_int_equal(tt_lookup_status(t.l), TT_LOOKUP_OK);
    assert_string_equal(tt_lookup_text(t.l), "Still here.");
    tt_lookup_free(t.l);
    free(cmd);
}

/* ---- hostile output ----------------------------------------------------------------------- */

static void a_flood_of_output_is_capped_at_a_word_and_the_command_is_not_blocked(void **state)
{
    (void)state;
    char *cmd = script("flood", "yes 'The court is open.' | head -c 10000000");
    struct run r;
    run(&r, cmd, "1", 0);
    assert_int_equal(r.st, TT_LOOKUP_OK); /* it ended by itself: all 10 MB were read */
    assert_true(strlen(r.text) <= TT_LOOKUP_MAX_OUTPUT);
    assert_true(strlen(r.text) > TT_LOOKUP_MAX_OUTPUT - 40);
    expect_diag(r.d, TT_WARNING, "it wrote 10000000 bytes; only the first 2000 were kept");
    /* Whole words only, none cut in half. */
    char *copy = strdup(r.text), *save = NULL;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
        assert_true(!strcmp(w, "The") || !strcmp(w, "court") || !strcmp(w, "is") ||
                    !strcmp(w, "open."));
    free(copy);
    run_free(&r);
    free(cmd);
}

static void binary_output_becomes_clean_text_or_nothing(void **state)
{
    (void)state;
    char *cmd = script("binary", "head -c 4096 /dev/urandom");
    for (int i = 0; i < 10; i++) {
        struct run r;
        run(&r, cmd, "1", 0);
        assert_true(r.st == TT_LOOKUP_OK || r.st == TT_LOOKUP_EMPTY);
        if (r.st == TT_LOOKUP_OK) {
            assert_true(strlen(r.text) <= TT_LOOKUP_MAX_OUTPUT);
            assert_true(valid_utf8_no_controls(r.text));
            assert_true(tidy_spaces(r.text));
        }
        run_free(&r);
    }
    free(cmd);
}

static void control_characters_and_bad_bytes_are_dropped_and_lines_joined(void **state)
{
    (void)state;
    /* CR LF, a tab, a bell, an escape, bytes that are not UTF-8, an overlong '/', a surrogate,
     * a right-to-left override, C1 controls: what is left is the words, on one line. */
    char *cmd = script("dirty", "printf '  Line one.\\r\\n\\tLine\\007 two \\377\\376 "
                                "\\033[2J\\303\\251t\\303\\251 \\300\\257\\355\\240\\200"
                                "\\342\\200\\256evil\\302\\233 end.\\n\\n'");
    struct run r;
    run(&r, cmd, "1", 0);
    assert_int_equal(r.st, TT_LOOKUP_OK);
    assert_string_equal(r.text, "Line one. Line two [2Jété evil end.");
    run_free(&r);
    free(cmd);
}

static void the_cap_falls_between_characters_and_between_words(void **state)
{
    (void)state;
    char *accents = script("accents", "printf '\\303\\251\\303\\251\\303\\251\\303\\251"
                                      "\\303\\251\\303\\251\\303\\251'"); /* 7 é, 14 bytes */
    char *words = script("words", "printf 'one two three four'");
    struct run r;
    struct tt_lookup_opts o = {.max_output = 9}; /* four é and half of the fifth */
    run_opts(&r, accents, "1", &o);
    assert_int_equal(r.st, TT_LOOKUP_OK);
    assert_string_equal(r.text, "éééé");
    expect_diag(r.d, TT_WARNING, "only the first 9 were kept");
    run_free(&r);

    o.max_output = 10; /* "one two th": the half word goes */
    run_opts(&r, words, "1", &o);
    assert_string_equal(r.text, "one two");
    run_free(&r);
    o.max_output = 7; /* "one two", the next byte a space: nothing to cut */
    run_opts(&r, words, "1", &o);
    assert_string_equal(r.text, "one two");
    run_free(&r);
    o.max_output = 2; /* no word fits: the characters that do */
    run_opts(&r, words, "1", &o);
    assert_string_equal(r.text, "on");
    run_free(&r);
    free(accents);
    free(words);
}

static void the_cleaner_keeps_valid_text_whole_and_random_bytes_tidy(void **state)
{
    (void)state;
    char ok[] = "Ñandú, 東京, emoji \xf0\x9f\x98\x80, joiner a\xe2\x80\x8d" "b.";
    size_t n = strlen(ok);
    assert_int_equal(tt_lookup_clean(ok, n), n);
    /* Random bytes: whatever comes out is valid, free of controls, and tidy. */
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 2000; round++) {
        unsigned char buf[257];
        size_t len = (size_t)(x % 256);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* Mostly high bytes and controls: the interesting part of the space. */
            buf[i] = (unsigned char)(x % 3 ? 0x80 | (x >> 8) : (x >> 8) & 0x7f);
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t out = tt_lookup_clean((char *)buf, len);
        assert_true(out <= len);
        assert_int_equal(strlen((char *)buf), out);
        assert_true(valid_utf8_no_controls((char *)buf));
        assert_true(tidy_spaces((char *)buf));
    }
}

/* ---- what the command is given ------------------------------------------------------------ */

/* "A=1 B=2" as "A B", in place: a failing test must not print the values of the host's
 * environment (this one's, or a CI runner's) into a log. */
static const char *names_only(char *s)
{
    char *w = s;
    bool in_value = false;
    for (char *r = s; *r; r++) {
        if (*r == ' ')
            in_value = false;
        else if (*r == '=')
            in_value = true;
        if (!in_value)
            *w++ = *r;
    }
    *w = '\0';
    return s;
}

static void the_command_gets_only_path_and_lang_and_no_secret(void **state)
{
    (void)state;
    setenv("TT_TEST_DB_PASSWORD", "hunter2-secret", 1);
    /* What the process was given (the shell adds PWD of its own in `env`). */
    char *given = script("environ", "tr '\\000' '\\n' < /proc/$$/environ");
    char *env = script("env", "env");
    struct run r;
    run(&r, given, "1", 0);
    assert_int_equal(r.st, TT_LOOKUP_OK);
    if (strcmp(r.text, "PATH=/usr/bin:/bin LANG=C.UTF-8") != 0)
        fail_msg("the command was given more than PATH and LANG: %s", names_only(r.text));
    run_free(&r);
    run(&r, env, "1", 0);
    assert_int_equal(r.st, TT_LOOKUP_OK);
    if (strstr(r.text, "hunter2") || strstr(r.text, "TT_TEST_DB_PASSWORD") ||
        strstr(r.text, "HOME="))
        fail_msg("the host's environment reached the command: %s", names_only(r.text));
    run_free(&r);
    unsetenv("TT_TEST_DB_PASSWORD");
    free(given);
    free(env);
}

static void the_listeners_language_is_given_as_tt_lang_and_nothing_odd_gets_through(void **state)
{
    (void)state;
    char *given = script("environ", "tr '\\000' '\\n' < /proc/$$/environ");
    static const struct {
        const char *lang, *want;
    } cases[] = {
        {"es", "PATH=/usr/bin:/bin LANG=C.UTF-8 TT_LANG=es"},
        {"pt-br", "PATH=/usr/bin:/bin LANG=C.UTF-8 TT_LANG=pt-br"},
        {"es; rm -rf /", "PATH=/usr/bin:/bin LANG=C.UTF-8"}, /* not a code: left out */
        {"", "PATH=/usr/bin:/bin LANG=C.UTF-8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tt_lookup_opts o = {.lang = cases[i].lang};
        enum tt_lookup_status st;
        char *text = NULL;
        assert_int_equal(tt_lookup_run(given, "1", &o, &st, &text, NULL), 0);
        assert_int_equal(st, TT_LOOKUP_OK);
        assert_string_equal(text, cases[i].want);
        free(text);
    }
    free(given);
}

static void the_command_inherits_no_descriptor_and_no_ignored_or_blocked_signal(void **state)
{
    (void)state;
    /* A descriptor the host left inheritable (no close-on-exec), as a library might. */
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, 50), 50);
    close(fd);
    /* A host that ignores SIGPIPE and blocks SIGUSR1. */
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    sigset_t usr1, was;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &was);
    char *cmd = script("inherit",
                       "if [ -e /proc/$$/fd/50 ]; then echo 'fd 50 leaked.'; fi; "
                       "echo \"stdin $(readlink /proc/$$/fd/0).\"; "
                       "echo \"group $(awk '{print $5}' /proc/$$/stat) self $$.\"");
    /* The signal state as the command received it, read by grep after an exec (the shell
     * blocks signals of its own for moments while it runs commands). */
    char *sig = script("signals", "exec grep -E '^Sig(Ign|Blk)' /proc/self/status");
    struct run r, rs;
    run(&r, cmd, "1", 0);
    run(&rs, sig, "1", 0);
    signal(SIGPIPE, old);
    sigprocmask(SIG_SETMASK, &was, NULL);
    close(50);
    assert_int_equal(r.st, TT_LOOKUP_OK);
    assert_null(strstr(r.text, "leaked"));
    assert_non_null(strstr(r.text, "stdin pipe:")); /* the entry's own pipe, nothing else */
    /* Its own process group: the group id is its own pid. */
    const char *g = strstr(r.text, "group ");
    assert_non_null(g);
    long pg = 0, self = -1;
    assert_int_equal(sscanf(g, "group %ld self %ld", &pg, &self), 2);
    assert_int_equal(pg, self);

    /* No ordinary signal (1-31) ignored or blocked. glibc's posix_spawn itself sets its two
     * internal real-time signals (32, 33) to ignored in the child; exec keeps that, and it is
     * harmless. In the masks, bit n-1 stands for signal n. */
    assert_int_equal(rs.st, TT_LOOKUP_OK);
    const char *ign = strstr(rs.text, "SigIgn: "), *blk = strstr(rs.text, "SigBlk: ");
    assert_non_null(ign);
    assert_non_null(blk);
    if (strtoull(ign + 8, NULL, 16) & 0x7fffffffull)
        fail_msg("signals ignored: %s", rs.text);
    if (strtoull(blk + 8, NULL, 16) != 0)
        fail_msg("signals blocked: %s", rs.text);
    run_free(&rs);
    free(sig);
    run_free(&r);
    free(cmd);
}

/* ---- refusals ----------------------------------------------------------------------------- */

static void entries_that_are_not_keypad_digits_are_refused_before_anything_runs(void **state)
{
    (void)state;
    char *cmd = script("marker", "touch \"$D/ran\"; echo 'ran'");
    static const char *bad[] = {
        "",  "12a", "1 2", "1;reboot", "$(reboot)", "`id`", "*", "#", "-1", "1\n2",
        "١٢", /* Arabic-Indic digits: digits, but not a keypad's */
        "12345678901234567890123456789012345678901234567890123456789012345", /* 65 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct run r;
        run(&r, cmd, bad[i], 0);
        assert_int_equal(r.err, EINVAL);
        assert_null(r.text);
        expect_diag(r.d, TT_ERROR, "digits");
        run_free(&r);
    }
    struct run r;
    run(&r, cmd, NULL, 0);
    assert_int_equal(r.err, EINVAL);
    run_free(&r);
    assert_int_equal(access(in_dir("ran"), F_OK), -1); /* never started */
    /* The longest entry accepted: 64 digits. */
    run(&r, cmd, "1234567890123456789012345678901234567890123456789012345678901234", 0);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.st, TT_LOOKUP_OK);
    run_free(&r);
    free(cmd);
}

static void commands_that_cannot_be_run_are_refused_with_what_to_do(void **state)
{
    (void)state;
    char *plain = strdup(in_dir("plain"));
    write_file(plain, "#!/bin/sh\necho hi\n", 0644);
    char *noshebang = strdup(in_dir("noshebang"));
    write_file(noshebang, "echo hi\n", 0755);
    char *nointerp = strdup(in_dir("nointerp"));
    write_file(nointerp, "#!/nonexistent/interpreter\necho hi\n", 0755);
    static const struct {
        int err;
        const char *said;
    } want[] = {
        {EINVAL, "must be a full path starting with '/'"},
        {EINVAL, "must be a full path starting with '/'"},
        {ENOENT, "there is no such file"},
        {EACCES, "this is a folder"},
        {EACCES, "chmod +x"},
        {ENOEXEC, "#!/bin/sh"},
        {ENOENT, "interpreter"},
        {EINVAL, "needs a command"},
    };
    const char *cmds[] = {EXAMPLE, "hearing-date", "/nonexistent/court/hearing-date", dir,
                          plain,   noshebang,      nointerp, ""};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct run r;
        run(&r, cmds[i], "1", 0);
        if (r.err != want[i].err)
            fail_msg("%s: %d, not %d", cmds[i], r.err, want[i].err);
        expect_diag(r.d, TT_ERROR, want[i].said);
        if (*cmds[i])
            expect_diag(r.d, TT_ERROR, cmds[i]); /* the menu's value, named */
        run_free(&r);
    }
    struct run r;
    run(&r, NULL, "1", 0);
    assert_int_equal(r.err, EINVAL);
    run_free(&r);
    /* The same check, without running anything, for the loader and the linter. */
    assert_int_equal(tt_lookup_check_command(plain, NULL), EACCES);
    char *ex = realpath_of(EXAMPLE);
    assert_int_equal(tt_lookup_check_command(ex, NULL), 0);
    free(ex);
    free(plain);
    free(noshebang);
    free(nointerp);
}

/* Load a menu written into the scratch folder whose input node's lookup is `value`. */
static int load_menu_with_lookup(const char *value, tt_diag *d)
{
    char ini[1024];
    snprintf(ini, sizeof(ini),
             "[tonetree]\nstart = ask\n[ask]\ntitle = your case\ntext = Enter your case "
             "number.\ninput = digits\nlookup = %s\n",
             value);
    char *path = strdup(in_dir("menu.ini"));
    write_file(path, ini, 0644);
    tt_menu *m = NULL;
    int err = tt_menu_load(&m, path, d);
    tt_menu_free(m);
    free(path);
    return err;
}

static void a_menu_whose_lookup_is_a_folder_or_no_program_is_refused_with_what_to_do(
    void **state)
{
    (void)state;
    mkdir(in_dir("court"), 0755);
    char *answer = script("answer", "echo 'Yes.'");
    write_file(in_dir("notes.txt"), "not a program\n", 0644);
    assert_int_equal(mkfifo(in_dir("fifo"), 0755), 0);
    static const struct {
        const char *value, *said;
    } bad[] = {
        {NULL, "this is a folder, not a program: give the path of the program itself"},
        {"court", "this is a folder, not a program"},      /* relative: the menu's folder */
        {".", "this is a folder, not a program"},
        {"notes.txt", "chmod +x"},
        {"fifo", "not a regular file"},
        {"missing", "no program can be run there"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tt_diag *d = tt_diag_new();
        const char *value = bad[i].value ? bad[i].value : dir; /* the absolute folder */
        assert_int_not_equal(load_menu_with_lookup(value, d), 0);
        expect_diag(d, TT_ERROR, bad[i].said);
        expect_diag(d, TT_ERROR, value); /* the menu's own words, quoted back */
        tt_diag_free(d);
    }
    /* A program beside the menu, named relative to the menu's folder, is fine. */
    tt_diag *d = tt_diag_new();
    assert_int_equal(load_menu_with_lookup("answer", d), 0);
    assert_int_equal(load_menu_with_lookup("./answer", d), 0);
    assert_int_equal(load_menu_with_lookup(answer, d), 0);
    tt_diag_free(d);
    unlink(in_dir("fifo"));
    free(answer);
}

static void many_lookups_leak_nothing(void **state)
{
    (void)state;
    /* The teardown checks descriptors and children; this just makes the numbers count. */
    char *ok = script("many", "IFS= read -r n; echo \"Number $n.\"");
    char *hang = script("many_hang", "sleep 100");
    for (int i = 0; i < 50; i++) {
        struct run r;
        char entry[16];
        snprintf(entry, sizeof(entry), "%d", i);
        run(&r, i % 10 == 9 ? hang : ok, entry, i % 10 == 9 ? 50 : 2000);
        assert_int_equal(r.st, i % 10 == 9 ? TT_LOOKUP_TIMEOUT : TT_LOOKUP_OK);
        run_free(&r);
    }
    free(ok);
    free(hang);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_lookup_that_answers_is_spoken_word_for_word, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            the_entry_arrives_on_standard_input_as_one_line_and_argv_is_the_command_alone,
            setup, teardown),
        cmocka_unit_test_setup_teardown(the_entry_is_in_no_argv_of_the_command_or_of_what_it_starts,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(the_example_says_the_next_hearing_in_words, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_example_picks_the_earliest_hearing_still_to_come,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(the_example_puts_the_case_number_in_no_command_line,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_case_the_example_does_not_know_is_empty_and_says_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(a_malformed_hearings_file_fails_and_names_the_line,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_failing_lookup_is_failed_and_its_complaint_reaches_the_log, setup, teardown),
        cmocka_unit_test_setup_teardown(a_lookup_ended_by_a_signal_is_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(a_lookup_that_prints_nothing_or_only_blanks_is_empty,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            the_entry_is_blanked_from_standard_error_however_it_is_spelled, setup, teardown),
        cmocka_unit_test_setup_teardown(no_four_digits_of_the_entry_survive_any_separators,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            eight_megabytes_on_either_output_do_not_stall_the_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(a_hung_lookup_is_killed_at_its_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_grandchild_holding_the_output_open_is_killed_with_the_group, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_command_that_answers_and_leaves_a_straggler_is_done_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_command_that_closes_its_output_and_carries_on_times_out_without_spinning, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            a_live_driver_polls_a_lookup_to_its_end_without_busy_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(freeing_a_running_lookup_kills_its_whole_group, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_sleeper_in_a_session_of_its_own_is_ended_at_the_limit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_sleeper_in_a_session_of_its_own_is_ended_when_the_command_exits, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_command_that_forks_hundreds_of_processes_leaves_none_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(a_lookup_ends_with_its_host_even_when_the_host_is_killed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_lookup_started_on_a_thread_that_has_ended_runs_to_its_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_flood_of_output_is_capped_at_a_word_and_the_command_is_not_blocked, setup,
            teardown),
        cmocka_unit_test_setup_teardown(binary_output_becomes_clean_text_or_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            control_characters_and_bad_bytes_are_dropped_and_lines_joined, setup, teardown),
        cmocka_unit_test_setup_teardown(the_cap_falls_between_characters_and_between_words,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            the_cleaner_keeps_valid_text_whole_and_random_bytes_tidy, setup, teardown),
        cmocka_unit_test_setup_teardown(the_command_gets_only_path_and_lang_and_no_secret,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(the_listeners_language_is_given_as_tt_lang_and_nothing_odd_gets_through,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            the_command_inherits_no_descriptor_and_no_ignored_or_blocked_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(
            entries_that_are_not_keypad_digits_are_refused_before_anything_runs, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            commands_that_cannot_be_run_are_refused_with_what_to_do, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_menu_whose_lookup_is_a_folder_or_no_program_is_refused_with_what_to_do, setup,
            teardown),
        cmocka_unit_test_setup_teardown(many_lookups_leak_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
