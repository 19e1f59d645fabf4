/*
 * Files from outside, opened through rfile: whatever a name points at (a FIFO no one writes, a
 * device that never ends, a folder, a file far too big, a file that changes while it is read),
 * the open comes back at once with a reason, and a read gives the whole file or nothing.
 *
 * A FIFO left alone makes open() wait for ever, so every test that touches one runs under an
 * alarm: a regression fails in seconds instead of stalling the suite.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/rfile.h"
#include "testlib.h"

#define HANG_SECONDS 20 /* far longer than any open here takes, even beside stress-ng */

struct fx {
    char *dir;
    char path[512];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->dir = tl_tmpdir();
    *state = f;
    alarm(HANG_SECONDS);
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    alarm(0);
    tl_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static const char *in(struct fx *f, const char *name)
{
    snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
    return f->path;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

/* Both ways in (open, read whole) refuse it with err, and the reason says what it is. */
static void expect_refused(const char *path, off_t max, int err, const char *words)
{
    int fd = 12345;
    assert_int_equal(tt_rfile_open(path, max, &fd, NULL), err);
    assert_int_equal(fd, -1);
    char *buf = (char *)1;
    size_t len = 99;
    assert_int_equal(tt_rfile_read(path, (size_t)max, &buf, &len), err);
    assert_null(buf);
    assert_int_equal(len, 0);
    char why[160];
    const char *w = tt_rfile_why(err, (size_t)max, why, sizeof(why));
    if (!strstr(w, words))
        fail_msg("the reason \"%s\" does not say \"%s\"", w, words);
}

static void a_regular_file_is_read_whole_and_terminated(void **state)
{
    struct fx *f = *state;
    write_file(in(f, "menu.ini"), "[main]\ntext = Hello.\n");
    char *buf;
    size_t len;
    assert_int_equal(tt_rfile_read(f->path, 1024, &buf, &len), 0);
    assert_int_equal(len, 21);
    assert_string_equal(buf, "[main]\ntext = Hello.\n");
    free(buf);

    /* the descriptor it gives blocks (a short read means the end) and closes on exec */
    int fd;
    off_t size;
    assert_int_equal(tt_rfile_open(f->path, 1024, &fd, &size), 0);
    assert_int_equal(size, 21);
    assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);

    /* an empty file is a file */
    write_file(in(f, "empty"), "");
    assert_int_equal(tt_rfile_read(f->path, 1024, &buf, &len), 0);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    free(buf);
}

static void a_fifo_that_no_one_writes_is_refused_at_once(void **state)
{
    struct fx *f = *state;
    assert_int_equal(mkfifo(in(f, "main.wav"), 0600), 0);
    expect_refused(f->path, 1 << 20, ENODEV, "FIFO");
}

static void a_fifo_with_data_waiting_is_refused_too(void **state)
{
    /* Even with bytes ready in it, a FIFO is not a file: what it gives depends on who writes,
     * and when. (Linux lets one process hold both ends, so no writer process is needed.) */
    struct fx *f = *state;
    assert_int_equal(mkfifo(in(f, "phrases.ini"), 0600), 0);
    int w = open(f->path, O_RDWR | O_NONBLOCK);
    assert_true(w >= 0);
    assert_int_equal(write(w, "[x]\n", 4), 4);
    expect_refused(f->path, 1 << 20, ENODEV, "not a regular file");
    close(w);
}

static void dev_zero_is_refused(void **state)
{
    (void)state;
    expect_refused("/dev/zero", 1 << 20, ENODEV, "device");
}

static void a_folder_is_refused(void **state)
{
    struct fx *f = *state;
    assert_int_equal(mkdir(in(f, "main.wav"), 0700), 0);
    expect_refused(f->path, 1 << 20, EISDIR, "folder");
}

static void a_file_over_the_limit_is_refused_and_one_at_it_is_read(void **state)
{
    struct fx *f = *state;
    write_file(in(f, "big"), "0123456789");
    expect_refused(f->path, 9, EFBIG, "9 bytes");
    char *buf;
    size_t len;
    assert_int_equal(tt_rfile_read(f->path, 10, &buf, &len), 0);
    assert_int_equal(len, 10);
    free(buf);

    /* a big limit is said in MiB; the size is checked before a byte is read, so a sparse
     * file of 3 GiB costs nothing */
    int fd = open(in(f, "sparse"), O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)3 << 30), 0);
    close(fd);
    expect_refused(f->path, (off_t)64 << 20, EFBIG, "64 MiB");
}

static void a_symlink_to_a_fifo_or_a_device_is_refused(void **state)
{
    struct fx *f = *state;
    char target[512];
    snprintf(target, sizeof(target), "%s/fifo", f->dir);
    assert_int_equal(mkfifo(target, 0600), 0);
    assert_int_equal(symlink(target, in(f, "main.wav")), 0);
    expect_refused(f->path, 1 << 20, ENODEV, "FIFO");
    assert_int_equal(symlink("/dev/zero", in(f, "phrases.ini")), 0);
    expect_refused(f->path, 1 << 20, ENODEV, "device");
    /* a symlink to a regular file is that file */
    snprintf(target, sizeof(target), "%s/real", f->dir);
    write_file(target, "ok");
    assert_int_equal(symlink(target, in(f, "link")), 0);
    char *buf;
    size_t len;
    assert_int_equal(tt_rfile_read(f->path, 16, &buf, &len), 0);
    assert_string_equal(buf, "ok");
    free(buf);
}

static void a_missing_file_says_so(void **state)
{
    struct fx *f = *state;
    expect_refused(in(f, "nothing-here.ini"), 1 << 20, ENOENT, "No such file");
}

static void a_file_that_grows_while_read_is_refused_not_cut(void **state)
{
    (void)state;
    /* Files in /proc say they are empty and then give bytes: exactly a file that grew between
     * the size check and the read. Reading it must not return the part read so far. */
    char *buf = (char *)1;
    size_t len = 99;
    int err = tt_rfile_read("/proc/self/status", 1 << 20, &buf, &len);
    assert_int_equal(err, EIO);
    assert_null(buf);
    assert_int_equal(len, 0);
    char why[160];
    assert_non_null(strstr(tt_rfile_why(err, 1 << 20, why, sizeof(why)), "changed while"));
}

static void a_file_written_while_it_is_read_gives_a_whole_version_or_a_refusal(void **state)
{
    /* A writer appends lines of 32 bytes as fast as it can while we read: every read that
     * succeeds holds whole lines (the size seen at open, all of it), the others are refused
     * (it changed, or it outgrew the limit). Nothing hangs, nothing is cut in the middle. */
    struct fx *f = *state;
    write_file(in(f, "growing"), "");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(f->path, O_WRONLY | O_APPEND);
        for (int i = 0; fd >= 0 && i < 200000; i++)
            if (write(fd, "0123456789abcdef0123456789abcde\n", 32) != 32)
                break;
        _exit(0);
    }
    size_t ok = 0, refused = 0;
    for (int i = 0; i < 2000; i++) {
        char *buf;
        size_t len;
        int err = tt_rfile_read(f->path, 4 << 20, &buf, &len);
        if (err) {
            if (err != EIO && err != EFBIG)
                fail_msg("read %d: unexpected error %d", i, err);
            refused++;
            continue;
        }
        if (len % 32 != 0 || (len && buf[len - 1] != '\n'))
            fail_msg("read %d: %zu bytes, not whole lines", i, len);
        free(buf);
        ok++;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(ok + refused, 2000);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(a_regular_file_is_read_whole_and_terminated),
        T(a_fifo_that_no_one_writes_is_refused_at_once),
        T(a_fifo_with_data_waiting_is_refused_too),
        T(dev_zero_is_refused),
        T(a_folder_is_refused),
        T(a_file_over_the_limit_is_refused_and_one_at_it_is_read),
        T(a_symlink_to_a_fifo_or_a_device_is_refused),
        T(a_missing_file_says_so),
        T(a_file_that_grows_while_read_is_refused_not_cut),
        T(a_file_written_while_it_is_read_gives_a_whole_version_or_a_refusal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
