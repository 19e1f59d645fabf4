/*
 * Terminal keys, through a real pseudo-terminal: bytes written to the master come out of the
 * slave as keys. Raw mode goes on and comes off exactly; a program killed or stopped while raw
 * gives the terminal back; every key of the mapping decodes; sequences cut in two still do;
 * random bytes never crash. (posix_openpt rather than openpty: it needs no -lutil.)
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/signals.h"
#include "input/term.h"

struct pty {
    int master, slave;
};

static void pty_open(struct pty *p)
{
    p->master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(p->master >= 0);
    assert_int_equal(grantpt(p->master), 0);
    assert_int_equal(unlockpt(p->master), 0);
    const char *name = ptsname(p->master);
    assert_non_null(name);
    p->slave = open(name, O_RDWR | O_NOCTTY);
    assert_true(p->slave >= 0);
}

static void pty_close(struct pty *p)
{
    close(p->slave);
    close(p->master);
}

static void put(int fd, const char *bytes, size_t n)
{
    assert_int_equal(write(fd, bytes, n), (ssize_t)n);
}

static bool readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* Write bytes to the master and read every key they make: a pty hands bytes over to the slave
 * a moment after the write, so read until nothing more arrives for a little while. */
static size_t keys_of(struct tt_term *t, struct pty *p, const char *bytes, size_t n, int *keys,
                      size_t max, bool *quit)
{
    size_t got = 0;
    bool q = false;
    if (n)
        put(p->master, bytes, n);
    readable(p->slave, 1000);
    do {
        bool qq;
        int r = tt_term_read(t, keys + got, max - got, &qq);
        assert_true(r >= 0);
        got += (size_t)r;
        q |= qq;
    } while (got < max && readable(p->slave, 30));
    if (quit)
        *quit = q;
    return got;
}

static void expect_keys(struct tt_term *t, struct pty *p, const char *bytes, size_t n,
                        const int *want, size_t nwant)
{
    int keys[256];
    size_t got = keys_of(t, p, bytes, n, keys, 256, NULL);
    for (size_t i = 0; i < got && i < nwant; i++)
        if (keys[i] != want[i])
            fail_msg("bytes %zu: key %zu is %s (%#x), want %s", n, i, tt_key_name(keys[i]),
                     keys[i], tt_key_name(want[i]));
    if (got != nwant)
        fail_msg("bytes made %zu keys, want %zu", got, nwant);
}

#define EXPECT(t, p, bytes, ...)                                                               \
    do {                                                                                       \
        static const int want_[] = {__VA_ARGS__};                                              \
        expect_keys(t, p, bytes, sizeof(bytes) - 1, want_, sizeof(want_) / sizeof(want_[0])); \
    } while (0)

static void expect_same_termios(const struct termios *a, const struct termios *b)
{
    assert_int_equal(a->c_iflag, b->c_iflag);
    assert_int_equal(a->c_oflag, b->c_oflag);
    assert_int_equal(a->c_cflag, b->c_cflag);
    assert_int_equal(a->c_lflag, b->c_lflag);
    assert_memory_equal(a->c_cc, b->c_cc, sizeof(a->c_cc));
}

static bool is_raw(const struct termios *tio)
{
    return !(tio->c_lflag & (ICANON | ECHO | ISIG)) && !(tio->c_iflag & (ICRNL | IXON)) &&
           tio->c_cc[VMIN] == 0 && tio->c_cc[VTIME] == 0;
}

static void raw_mode_goes_on_and_comes_off_exactly(void **state)
{
    (void)state;
    struct pty p;
    pty_open(&p);
    struct termios before, during, after;
    assert_int_equal(tcgetattr(p.slave, &before), 0);
    assert_false(is_raw(&before));
    struct tt_term *t;
    assert_int_equal(tt_term_open(&t, p.slave, NULL), 0);
    assert_true(tt_term_is_raw(t));
    assert_int_equal(tt_term_fd(t), p.slave);
    assert_int_equal(tcgetattr(p.slave, &during), 0);
    assert_true(is_raw(&during));
    assert_true(during.c_oflag & OPOST); /* output still ends lines properly */
    /* No O_NONBLOCK left on the shared file description. */
    assert_false(fcntl(p.slave, F_GETFL) & O_NONBLOCK);
    tt_term_close(t);
    assert_int_equal(tcgetattr(p.slave, &after), 0);
    expect_same_termios(&before, &after);
    pty_close(&p);
}

static void nothing_waiting_reads_no_keys_at_once(void **state)
{
    (void)state;
    struct pty p;
    pty_open(&p);
    struct tt_term *t;
    assert_int_equal(tt_term_open(&t, p.slave, NULL), 0);
    int keys[4];
    bool quit = true;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(tt_term_read(t, keys, 4, &quit), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_false(quit);
    assert_true((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 20);
    tt_term_close(t);
    pty_close(&p);
}

/* A child goes raw on the pty, says so, then waits to be killed. */
static pid_t raw_child(struct pty *p, int sig_reset)
{
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        setpgid(0, 0); /* its own process group, whose parent (us) is outside: stops work */
        signal(sig_reset, SIG_DFL);
        signal(SIGTSTP, SIG_DFL);
        signal(SIGCONT, SIG_DFL);
        signals_guard_terminals(); /* as tonetree run does: the library installs no handler */
        alarm(20); /* never outlive a failed test */
        struct tt_term *t;
        if (tt_term_open(&t, p->slave, NULL))
            _exit(2);
        if (write(ready[1], "r", 1) != 1)
            _exit(3);
        for (;;)
            pause();
    }
    close(ready[1]);
    char c;
    assert_true(readable(ready[0], 5000));
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    return pid;
}

static void a_fatal_signal_gives_the_terminal_back_and_still_kills(void **state)
{
    (void)state;
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct pty p;
        pty_open(&p);
        struct termios before, during, after;
        assert_int_equal(tcgetattr(p.slave, &before), 0);
        pid_t pid = raw_child(&p, sigs[i]);
        assert_int_equal(tcgetattr(p.slave, &during), 0);
        assert_true(is_raw(&during));
        assert_int_equal(kill(pid, sigs[i]), 0);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!WIFSIGNALED(st) || WTERMSIG(st) != sigs[i])
            fail_msg("signal %d: the child did not die of it (status %#x)", sigs[i], st);
        assert_int_equal(tcgetattr(p.slave, &after), 0);
        expect_same_termios(&before, &after);
        pty_close(&p);
    }
}

static bool wait_raw(int fd, bool raw)
{
    for (int i = 0; i < 400; i++) {
        struct termios tio;
        if (tcgetattr(fd, &tio) == 0 && is_raw(&tio) == raw)
            return true;
        usleep(5000);
    }
    return false;
}

static void a_stop_gives_the_terminal_back_and_continue_takes_it_again(void **state)
{
    (void)state;
    struct pty p;
    pty_open(&p);
    struct termios before, stopped, after;
    assert_int_equal(tcgetattr(p.slave, &before), 0);
    pid_t pid = raw_child(&p, SIGTERM);
    assert_int_equal(kill(pid, SIGTSTP), 0);
    int st;
    assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
    assert_true(WIFSTOPPED(st));
    assert_int_equal(tcgetattr(p.slave, &stopped), 0);
    expect_same_termios(&before, &stopped);
    assert_int_equal(kill(pid, SIGCONT), 0);
    assert_true(wait_raw(p.slave, true));
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    assert_int_equal(tcgetattr(p.slave, &after), 0);
    expect_same_termios(&before, &after);
    pty_close(&p);
}

/* The library installs no signal handler of its own: a raw terminal leaves every signal's
 * action as the program set it (here, the default), for the program to choose. */
static void the_library_installs_no_signal_handler(void **state)
{
    (void)state;
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGTSTP,
                               SIGCONT};
    struct pty p;
    pty_open(&p);
    struct sigaction before[8], dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(sigaction(sigs[i], &dfl, &before[i]), 0);
    struct tt_term *t;
    assert_int_equal(tt_term_open(&t, p.slave, NULL), 0);
    for (size_t i = 0; i < 8; i++) {
        struct sigaction now;
        assert_int_equal(sigaction(sigs[i], NULL, &now), 0);
        if (now.sa_handler != SIG_DFL)
            fail_msg("opening a terminal changed the action of signal %d", sigs[i]);
    }
    tt_term_close(t);
    for (size_t i = 0; i < 8; i++)
        sigaction(sigs[i], &before[i], NULL);
    pty_close(&p);
}

static void exit_without_close_gives_the_terminal_back(void **state)
{
    (void)state;
    struct pty p;
    pty_open(&p);
    struct termios before, after;
    assert_int_equal(tcgetattr(p.slave, &before), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Static, so a leak checker at exit sees it as still in use, not lost. */
        static struct tt_term *t;
        exit(tt_term_open(&t, p.slave, NULL) ? 2 : 0); /* atexit does the work */
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(tcgetattr(p.slave, &after), 0);
    expect_same_termios(&before, &after);
    pty_close(&p);
}

static void plain_keys_map_as_documented(void **state)
{
    (void)state;
    struct pty p;
    pty_open(&p);
    struct tt_term *t;
    assert_int_equal(tt_term_open(&t, p.slave, NULL), 0);
    EXPECT(t, &p, "0123456789*#", '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#');
    /* The keypad's / stands for #; Enter (CR, LF, CR LF once), + - . */
    EXPECT(t, &p, "/\r1\n2\r\n+-.", '#', TT_KEY_SELECT, '1', TT_KEY_SELECT, '2', TT_KEY_SELECT,
           TT_KEY_LOUDER, TT_KEY_SOFTER, TT_KEY_REPEAT);
    EXPECT(t, &p, "\x7f\x08hH?pP <>", TT_KEY_BACK, TT_KEY_BACK, TT_KEY_HELP, TT_KEY_HELP,
           TT_KEY_HELP, TT_KEY_PAUSE, TT_KEY_PAUSE, TT_KEY_PAUSE, TT_KEY_SLOWER, TT_KEY_FASTER);
    /* Letters and other bytes mean nothing. */
    EXPECT(t, &p, "axZ!\x01\x80\xff" "5", '5');
    tt_term_close(t);
    pty_close(&p);
}

static void keypad_and_arrow_sequences_map_as_documented(void **state)
{
    (void)state;
    struct pty p;
    pty_open(&p);
    struct tt_term *t;
    assert_int_equal(tt_term_open(&t, p.slave, NULL), 0);
    /* The numeric keypad in application mode. */
    EXPECT(t, &p, "\x1bOp\x1bOq\x1bOr\x1bOs\x1bOt\x1bOu\x1bOv\x1bOw\x1bOx\x1bOy", '0', '1',
           '2', '3', '4', '5', '6', '7', '8', '9');
    EXPECT(t, &p, "\x1bOj\x1bOo\x1bOk\x1bOm\x1bOn\x1bOM", '*', '#', TT_KEY_LOUDER,
           TT_KEY_SOFTER, TT_KEY_REPEAT, TT_KEY_SELECT);
    /* Arrows, both forms, and with a modifier: up, down, right = select, left = back. */
    EXPECT(t, &p, "\x1b[A\x1b[B\x1b[C\x1b[D", TT_KEY_UP, TT_KEY_DOWN, TT_KEY_SELECT,
           TT_KEY_BACK);
    EXPECT(t, &p, "\x1bOA\x1bOB\x1bOC\x1bOD\x1b[1;2A", TT_KEY_UP, TT_KEY_DOWN, TT_KEY_SELECT,
           TT_KEY_BACK, TT_KEY_UP);
    /* Sequences that mean nothing here are dropped whole: Delete, F5, F1 (two forms), a
     * Linux console F1, a mouse-ish one; the keys after them still count. */
    EXPECT(t, &p, "\x1b[3~\x1b[15~\x1bOP\x1b[11~\x1b[[A\x1b[?25h" "1", '1');
    tt_term_close(t);
    pty_close(&p);
}

static void escape_alone_is_exit_and_ctrl_c_is_quit(void **state)
{
    (void)state;
    struct pty p;
    pty_open(&p);
    struct tt_term *t;
    assert_int_equal(tt_term_open(&t, p.slave, NULL), 0);
    EXPECT(t, &p, "\x1b", TT_KEY_EXIT);
    /* Escape followed by a key that starts no sequence: exit, then that key. Twice: exit twice. */
    EXPECT(t, &p, "\x1b" "1", TT_KEY_EXIT, '1');
    EXPECT(t, &p, "\x1b\x1b", TT_KEY_EXIT, TT_KEY_EXIT);
    EXPECT(t, &p, "\x1b\x1b[A", TT_KEY_EXIT, TT_KEY_UP);
    /* A broken sequence does not swallow the Escape after it. */
    EXPECT(t, &p, "\x1b[\x1b", TT_KEY_EXIT);
    EXPECT(t, &p, "\x1bO\x1b", TT_KEY_EXIT, TT_KEY_EXIT);

    int keys[8];
    bool quit;
    assert_int_equal(keys_of(t, &p, "12\x03" "3", 4, keys, 8, &quit), 2);
    assert_true(quit);
    assert_int_equal(keys[0], '1');
    assert_int_equal(keys[1], '2');
    assert_int_equal(keys_of(t, &p, "\x1c", 1, keys, 8, &quit), 0);
    assert_true(quit);
    /* Quit is not the listener's exit key, and exit is not quit. */
    assert_int_equal(keys_of(t, &p, "\x1b", 1, keys, 8, &quit), 1);
    assert_false(quit);
    tt_term_close(t);
    pty_close(&p);
}

static void a_sequence_cut_between_two_reads_still_decodes(void **state)
{
    (void)state;
    struct pty p;
    pty_open(&p);
    struct tt_term *t;
    assert_int_equal(tt_term_open(&t, p.slave, NULL), 0);
    int keys[8];
    static const char *const first[] = {"\x1bO", "\x1b[", "\x1b[1", "\x1b[1;", "\x1b[1;5"};
    static const char *const second[] = {"p", "A", ";5B", "5C", "D"};
    static const int want[] = {'0', TT_KEY_UP, TT_KEY_DOWN, TT_KEY_SELECT, TT_KEY_BACK};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(keys_of(t, &p, first[i], strlen(first[i]), keys, 8, NULL), 0);
        assert_int_equal(keys_of(t, &p, second[i], strlen(second[i]), keys, 8, NULL), 1);
        assert_int_equal(keys[0], want[i]);
    }
    /* Cut right after the Escape: the read waits TT_TERM_ESC_WAIT_MS for the rest, which a
     * helper process writes as soon as we start reading. On a loaded machine the helper may
     * not run within those 50 ms, and then the Escape alone is rightly the exit key: so the
     * test tries up to ten times and needs the wait to work once. A decoder that does not
     * wait never gives the arrow, however many tries. */
    int got = -1, tries = 0;
    while (got != TT_KEY_DOWN && tries < 10) {
        tries++;
        int go[2];
        assert_int_equal(pipe(go), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            char c;
            alarm(20);
            if (read(go[0], &c, 1) != 1)
                _exit(2);
            _exit(write(p.master, "[B", 2) == 2 ? 0 : 3);
        }
        put(p.master, "\x1b", 1);
        assert_true(readable(p.slave, 1000));
        put(go[1], "g", 1);
        bool quit;
        int n = tt_term_read(t, keys, 8, &quit);
        assert_true(n >= 1);
        got = keys[0];
        if (got != TT_KEY_DOWN)
            assert_int_equal(got, TT_KEY_EXIT); /* too late: the Escape alone */
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        close(go[0]);
        close(go[1]);
        /* what came too late is read and dropped before the next try */
        while (readable(p.slave, 20) && tt_term_read(t, keys, 8, &quit) > 0)
            ;
    }
    print_message("an Escape cut from the rest of its sequence: the arrow after %d tries\n",
                  tries);
    assert_int_equal(got, TT_KEY_DOWN);
    /* CR in one read, LF in the next: still one Enter. */
    assert_int_equal(keys_of(t, &p, "\r", 1, keys, 8, NULL), 1);
    assert_int_equal(keys_of(t, &p, "\n", 1, keys, 8, NULL), 0);
    tt_term_close(t);
    pty_close(&p);
}

static void more_keys_than_room_wait_for_the_next_call(void **state)
{
    (void)state;
    struct pty p;
    pty_open(&p);
    struct tt_term *t;
    assert_int_equal(tt_term_open(&t, p.slave, NULL), 0);
    put(p.master, "123456\x1bOq", 9);
    assert_true(readable(p.slave, 1000));
    usleep(20000);
    int keys[4];
    bool quit;
    assert_int_equal(tt_term_read(t, keys, 4, &quit), 4);
    assert_int_equal(keys[3], '4');
    /* Nothing new on the fd: the rest comes from what the first call kept. */
    assert_int_equal(tt_term_read(t, keys, 4, &quit), 3);
    assert_int_equal(keys[0], '5');
    assert_int_equal(keys[1], '6');
    assert_int_equal(keys[2], '1');
    assert_int_equal(tt_term_read(t, keys, 0, &quit), 0);
    tt_term_close(t);
    pty_close(&p);
}

static void ten_thousand_random_bytes_never_crash(void **state)
{
    (void)state;
    struct pty p;
    pty_open(&p);
    struct tt_term *t;
    assert_int_equal(tt_term_open(&t, p.slave, NULL), 0);
    unsigned seed = 12345;
    char buf[100];
    int keys[64];
    size_t total = 0;
    for (int chunk = 0; chunk < 100; chunk++) {
        for (size_t i = 0; i < sizeof(buf); i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (char)(seed >> 16);
        }
        put(p.master, buf, sizeof(buf));
        readable(p.slave, 1000);
        do {
            bool quit;
            int r = tt_term_read(t, keys, 64, &quit);
            assert_true(r >= 0 && r <= 64);
            for (int i = 0; i < r; i++)
                assert_string_not_equal(tt_key_name(keys[i]), "?");
            total += (size_t)r;
        } while (readable(p.slave, 5));
    }
    assert_true(total > 0);
    tt_term_close(t);
    pty_close(&p);
}

static void a_pipe_is_read_in_line_mode_and_its_end_is_quit(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct tt_term *t;
    assert_int_equal(tt_term_open(&t, fds[0], NULL), 0);
    assert_false(tt_term_is_raw(t));
    put(fds[1], "12\x1bOA\n", 6);
    int keys[8];
    bool quit;
    assert_int_equal(tt_term_read(t, keys, 8, &quit), 4);
    assert_false(quit);
    assert_int_equal(keys[2], TT_KEY_UP);
    assert_int_equal(keys[3], TT_KEY_SELECT);
    assert_int_equal(tt_term_read(t, keys, 8, &quit), 0);
    assert_false(quit);
    /* A cut sequence at the end of the input is dropped; a lone Escape there is exit. */
    put(fds[1], "3\x1b", 2);
    close(fds[1]);
    assert_int_equal(tt_term_read(t, keys, 8, &quit), 2);
    assert_int_equal(keys[0], '3');
    assert_int_equal(keys[1], TT_KEY_EXIT);
    assert_true(quit);
    tt_term_close(t);
    close(fds[0]);

    tt_diag *d = tt_diag_new();
    assert_int_equal(tt_term_open(&t, 999, d), EBADF);
    assert_null(t);
    assert_int_equal(tt_diag_count(d, TT_ERROR), 1);
    tt_diag_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(raw_mode_goes_on_and_comes_off_exactly),
        cmocka_unit_test(nothing_waiting_reads_no_keys_at_once),
        cmocka_unit_test(a_fatal_signal_gives_the_terminal_back_and_still_kills),
        cmocka_unit_test(a_stop_gives_the_terminal_back_and_continue_takes_it_again),
        cmocka_unit_test(the_library_installs_no_signal_handler),
        cmocka_unit_test(exit_without_close_gives_the_terminal_back),
        cmocka_unit_test(plain_keys_map_as_documented),
        cmocka_unit_test(keypad_and_arrow_sequences_map_as_documented),
        cmocka_unit_test(escape_alone_is_exit_and_ctrl_c_is_quit),
        cmocka_unit_test(a_sequence_cut_between_two_reads_still_decodes),
        cmocka_unit_test(more_keys_than_room_wait_for_the_next_call),
        cmocka_unit_test(ten_thousand_random_bytes_never_crash),
        cmocka_unit_test(a_pipe_is_read_in_line_mode_and_its_end_is_quit),
    };
    return cmocka_run_group_tests_name("term", tests, NULL, NULL);
}
