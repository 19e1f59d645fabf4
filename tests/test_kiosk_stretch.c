/*
 * A listener slows down a long recorded talk at the kiosk. The recording must be stretched to
 * the new speed (rubberband: seconds of work for minutes of audio), and while that runs the
 * kiosk must stay alive: it shows the words at once and answers the next key at once, instead
 * of freezing until the stretch is done. And when the kiosk is stopped mid-stretch, it stops
 * promptly.
 *
 * The kiosk runs for real with no audio device (it keeps the audio's timing and shows the
 * words); every wait is bounded.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
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
#include "testlib.h"

#define TALK_SECONDS 120 /* long enough that stretching it takes several seconds */

static void write_talk(const char *path)
{
    int16_t *x = tl_warble(TALK_SECONDS, 16000, 7);
    tl_write_wav(path, x, (size_t)TALK_SECONDS * 16000, 16000);
    free(x);
}

static void copy_file(const char *from, const char *to)
{
    char *s = tl_slurp(from);
    FILE *f = fopen(to, "w");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
    free(s);
}

static void keys_work_while_a_long_recording_is_stretched_to_a_new_speed(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char p[PATH_MAX], menu[PATH_MAX], screen[PATH_MAX], cache[PATH_MAX];
    snprintf(p, sizeof(p), "%s/menus", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/prompts", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/prompts/en", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/prompts/en/phrases.ini", dir);
    copy_file("prompts/en/phrases.ini", p);
    snprintf(p, sizeof(p), "%s/prompts/en/talk.wav", dir);
    write_talk(p);
    snprintf(menu, sizeof(menu), "%s/menus/talk.ini", dir);
    FILE *f = fopen(menu, "w");
    assert_non_null(f);
    fputs("[tonetree]\nstart = main\n"
          "[main]\ntitle = the main menu\ntext = Welcome to the talks.\n1 = talk\n"
          "[talk]\ntitle = the talk\ntext = A long recorded talk.\n",
          f);
    fclose(f);
    snprintf(screen, sizeof(screen), "%s/screen.txt", dir);
    snprintf(cache, sizeof(cache), "%s/cache", dir);

    int keys[2];
    tl_key_pipe(keys);
    const char *argv[] = {"tonetree", "run", menu, "--cache", cache, "--idle", "0", NULL};
    pid_t pid = tl_proc_start(&(struct tl_proc){.argv = argv, .in = keys[0], .out = screen});
    close(keys[0]);
    tl_wait_file(screen, "Welcome to the talks.", 0, 60);
    tl_type(keys[1], "1");
    size_t talk = tl_wait_file(screen, "A long recorded talk.", 0, 20);
    tl_type(keys[1], "<"); /* slower: "Slower.", then the talk again at 85% */
    size_t slower = tl_wait_file(screen, "Slower.", talk, 20);
    double t_slower = tl_now();
    size_t again = tl_wait_file(screen, "A long recorded talk.", slower, 30);
    double t_again = tl_now();
    print_message("the talk was taken up again %.2f s after 'Slower.'\n", t_again - t_slower);
    /* "Slower." lasts about a second; the stretch takes many. A kiosk that stretched on its
     * own thread would show nothing more until the stretch was done. */
    if (t_again - t_slower > 6.0)
        fail_msg("the kiosk froze for %.1f s after 'Slower.'", t_again - t_slower);
    tl_type(keys[1], "*"); /* back, while the stretch still runs */
    double t_key = tl_now();
    tl_wait_file(screen, "Welcome to the talks.", again, 20);
    double answered = tl_now() - t_key;
    print_message("the back key was answered in %.2f s\n", answered);
    if (answered > 3.0)
        fail_msg("the back key took %.1f s to be answered", answered);
    /* stopped mid-stretch, the kiosk stops at once, not when the stretch is done */
    tl_type(keys[1], "<");
    close(keys[1]);
    double t_close = tl_now();
    int status = tl_proc_finish(pid, 60);
    print_message("the kiosk ended %.2f s after its keys did\n", tl_now() - t_close);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(tl_now() - t_close < 10.0);
    tl_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_work_while_a_long_recording_is_stretched_to_a_new_speed),
    };
    return cmocka_run_group_tests_name("kiosk stretch", tests, NULL, NULL);
}
