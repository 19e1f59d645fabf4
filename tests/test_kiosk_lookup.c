/*
 * The kiosk runs a lookup alongside its audio loop: keys through a pipe, no audio device (the
 * words are shown instead, with the same timing), and the answer of the shipped example
 * program must be shown, with the entry itself nowhere in what is shown or logged.
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

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void the_kiosk_speaks_the_lookups_answer_and_logs_no_entry(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char out[600], log[600], conf[600], cache[600];
    snprintf(out, sizeof(out), "%s/out.txt", dir);
    snprintf(log, sizeof(log), "%s/kiosk.log", dir);
    snprintf(conf, sizeof(conf), "%s/empty.conf", dir);
    snprintf(cache, sizeof(cache), "%s/cache", dir);
    fclose(fopen(conf, "w"));
    int keys[2];
    assert_int_equal(pipe(keys), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(keys[0], 0);
        close(keys[1]);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        int null = open("/dev/null", O_WRONLY); /* "no audio output device": expected here */
        dup2(null, 2);
        /* no audio device at all: the words on stdout keep the same timing */
        setenv("ALSA_CONFIG_PATH", conf, 1);
        unsetenv("PULSE_SERVER");
        setenv("XDG_RUNTIME_DIR", dir, 1);
        execl("build/tonetree", "tonetree", "run", "menus/hearing-date.ini", "--cache", cache,
              "--log", log, (char *)NULL);
        _exit(127);
    }
    close(keys[0]);
    /* the welcome and its choices (about 10 s of words), then the request: type at once */
    sleep_ms(1500);
    assert_int_equal(write(keys[1], "1", 1), 1);
    sleep_ms(500);
    assert_int_equal(write(keys[1], "20310001", 8), 8);
    sleep_ms(6000); /* the read-back and its question */
    assert_int_equal(write(keys[1], "1", 1), 1);
    sleep_ms(4000); /* "One moment.", the lookup, the answer */
    close(keys[1]); /* the end of the keys ends the kiosk */
    int status = 0;
    for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
        sleep_ms(100);
    if (waitpid(pid, &status, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("the kiosk did not end when its keys ended");
    }
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *shown = tl_slurp(out);
    if (!strstr(shown, "Your next hearing is on Monday, March 3, 2031, at 9:30 in the morning, "
                       "in courtroom 4."))
        fail_msg("the answer was not shown:\n%s", shown);
    char *logged = tl_slurp(log);
    assert_null(strstr(logged, "20310001"));
    /* counts only: the visit is counted, and nothing says when */
    assert_non_null(strstr(logged, " hearing=1"));
    assert_null(strstr(logged, "go hearing"));
    free(shown);
    free(logged);
    tl_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_kiosk_speaks_the_lookups_answer_and_logs_no_entry),
    };
    return cmocka_run_group_tests_name("kiosk lookup", tests, NULL, NULL);
}
