/*
 * Running the real tonetree in tests (see proclib.h). Everything here is bounded: a process
 * that does not end in time is killed by its pid, a file that does not show what is awaited
 * fails the test, so a hang costs seconds, never the suite.
 */
#define _GNU_SOURCE /* pipe2 */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "proclib.h"

double tl_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void tl_sleep(double secs)
{
    struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int open_out(const char *path)
{
    return path ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : open("/dev/null", O_WRONLY);
}

pid_t tl_proc_start(const struct tl_proc *p)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid > 0)
        return pid;
    int in = p->in >= 0 ? p->in : open("/dev/null", O_RDONLY);
    int out = open_out(p->out), err = open_out(p->err);
    if (in < 0 || out < 0 || err < 0)
        _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (p->home)
        setenv("HOME", p->home, 1);
    if (p->tmp) {
        setenv("TMPDIR", p->tmp, 1);
        setenv("XDG_RUNTIME_DIR", p->tmp, 1);
    }
    unsetenv("XDG_CACHE_HOME");
    unsetenv("PULSE_SERVER");
    if (p->asound) {
        setenv("ALSA_CONFIG_PATH", p->asound, 1);
    } else {
        /* an empty ALSA configuration: no device at all */
        setenv("ALSA_CONFIG_PATH", "/dev/null", 1);
    }
    execv(p->bin ? p->bin : "build/tonetree", (char *const *)p->argv);
    _exit(127);
}

int tl_proc_finish(pid_t pid, double secs)
{
    int status = 0;
    double end = tl_now() + secs;
    while (tl_now() < end) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
        tl_sleep(0.02);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fail_msg("tonetree (pid %d) did not end within %.0f s: killed", (int)pid, secs);
    return -1;
}

void tl_key_pipe(int keys[2])
{
    assert_int_equal(pipe2(keys, O_CLOEXEC), 0);
}

void tl_type(int fd, const char *keys)
{
    size_t n = strlen(keys);
    assert_int_equal(write(fd, keys, n), (ssize_t)n);
}

char *tl_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f) {
        char *e = strdup("");
        assert_non_null(e);
        return e;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)(len > 0 ? len : 0) + 1);
    assert_non_null(b);
    *n = len > 0 ? fread(b, 1, (size_t)len, f) : 0;
    b[*n] = '\0';
    fclose(f);
    return b;
}

static const char *find_bytes(const char *b, size_t n, const char *what)
{
    size_t w = strlen(what);
    for (size_t i = 0; i + w <= n; i++)
        if (!memcmp(b + i, what, w))
            return b + i;
    return NULL;
}

size_t tl_wait_file(const char *path, const char *what, size_t from, double secs)
{
    double end = tl_now() + secs;
    for (;;) {
        size_t n;
        char *b = tl_read_file(path, &n);
        const char *hit = from < n ? find_bytes(b + from, n - from, what) : NULL;
        if (hit) {
            size_t at = (size_t)(hit - b);
            free(b);
            return at;
        }
        if (tl_now() >= end) {
            fail_msg("%s did not show '%s' within %.0f s; it holds:\n%s", path, what, secs,
                     from < n ? b + from : "");
        }
        free(b);
        tl_sleep(0.05);
    }
}
