/*
 * Terminal keys: raw mode, the byte decoder, and putting the terminal back on every way out.
 *
 * A kiosk that dies with its terminal in raw mode leaves the next person (or the clerk) with a
 * console that echoes nothing and ignores Enter. So the saved settings of every raw terminal
 * are kept in a small static table that an async-signal-safe handler can read. The library
 * installs no handler: the program does (src/cli/signals.c), and on a fatal signal calls
 * tt_term_restore_all (tcsetattr and tcflush only, async-signal-safe by POSIX) before raising
 * the signal again with the default action, so the program still dies the way it would have
 * (exit status, core dump); on SIGTSTP it puts the settings back before stopping, and on
 * SIGCONT tt_term_raw_again makes the terminals raw again. atexit() (registered here, once)
 * covers exit() without tt_term_close.
 *
 * Reads never block: raw mode sets VMIN = VTIME = 0 and every read is preceded by a poll()
 * with no timeout, which works the same for a pipe. The descriptor's O_NONBLOCK flag is not
 * used on purpose: it belongs to the open file description, which is shared with the shell
 * that started us (stdin), and a flag left set there breaks the shell after we exit.
 *
 * Decoding: one byte is one key, except Escape, which starts a sequence (ESC [ ... final,
 * ESC O x). A lone Escape is the exit key; as it is also the first byte of every sequence,
 * an Escape with nothing after it waits TT_TERM_ESC_WAIT_MS for more before it counts. Bytes
 * of a sequence cut between two reads wait in a small buffer for the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "input/term.h"

#define ESC 0x1b
#define CTRL_C 0x03
#define CTRL_BACKSLASH 0x1c
/* Longest CSI sequence we wait for: real ones (ESC [ 1 ; 5 A) are under 10 bytes. */
#define CSI_MAX 16

struct tt_term {
    int fd;
    bool raw;
    int slot;            /* index in the restore table, or -1 in line mode */
    bool eof;            /* line mode: the input has ended */
    bool interrupted;    /* Ctrl-C or Ctrl-\ was pressed */
    bool last_cr;        /* the last byte was CR: a LF right after it is the same Enter */
    unsigned char pend[64];
    size_t npend;
};

/* ---- The restore table, for the program's signal handlers and atexit ------------------------- */

#define SLOTS 4

struct slot {
    volatile sig_atomic_t active; /* set last on open and cleared first on close */
    int fd;
    struct termios saved, raw;
};

static struct slot slots[SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static bool atexit_done;

/* Async-signal-safe: tcsetattr and tcflush only. Unread keys are flushed so that digits a
 * listener typed do not land in the shell as a command. */
static void restore_all(bool flush)
{
    for (int i = 0; i < SLOTS; i++) {
        if (!slots[i].active)
            continue;
        tcsetattr(slots[i].fd, TCSANOW, &slots[i].saved);
        if (flush)
            tcflush(slots[i].fd, TCIFLUSH);
    }
}

void tt_term_raw_again(void)
{
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].active)
            tcsetattr(slots[i].fd, TCSANOW, &slots[i].raw);
}

void tt_term_restore_all(bool flush)
{
    restore_all(flush);
}

static void atexit_restore(void)
{
    restore_all(true);
}

/* ---- Open and close -------------------------------------------------------------------------- */

static void make_raw(struct termios *raw)
{
    /* Input: bytes as they are (no CR to LF, no stripping), and no Ctrl-S/Ctrl-Q flow control,
     * which would freeze a kiosk until someone knew to press Ctrl-Q. */
    raw->c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    /* No echo (nothing the listener presses shows on a screen), no line editing, and Ctrl-C,
     * Ctrl-\ and Ctrl-Z arrive as bytes instead of signals. */
    raw->c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    raw->c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    raw->c_cflag |= CS8;
    /* Output processing stays on, so a message printed while raw still starts a new line. */
    raw->c_cc[VMIN] = 0;
    raw->c_cc[VTIME] = 0;
}

int tt_term_open(struct tt_term **tp, int fd, tt_diag *diag)
{
    int err = 0;
    struct tt_term *t = NULL;
    bool locked = false;

    *tp = NULL;
    if (fcntl(fd, F_GETFD) < 0) {
        err = errno;
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot read keys from descriptor %d: %s", fd,
                    strerror(err));
        goto out;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        err = ENOMEM;
        goto out;
    }
    t->fd = fd;
    t->slot = -1;
    if (!isatty(fd)) {
        *tp = t; /* line mode: nothing to change, nothing to restore */
        return 0;
    }

    struct termios saved, raw;
    if (tcgetattr(fd, &saved)) {
        err = errno;
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot read the terminal's settings: %s",
                    strerror(err));
        goto out;
    }
    raw = saved;
    make_raw(&raw);

    pthread_mutex_lock(&slots_lock);
    locked = true;
    int s = 0;
    while (s < SLOTS && slots[s].active)
        s++;
    if (s == SLOTS) {
        err = EBUSY;
        tt_diag_add(diag, TT_ERROR, NULL, 0, "too many terminals in raw mode (at most %d)",
                    SLOTS);
        goto out;
    }
    slots[s].fd = fd;
    slots[s].saved = saved;
    slots[s].raw = raw;
    /* exit() without tt_term_close gives the terminal back too */
    if (!atexit_done)
        atexit_done = atexit(atexit_restore) == 0;
    /* A signal handler reads fd and the settings once active is set: keep the stores in
     * order. Table first, raw mode second: a signal in between finds a terminal to put back
     * that is not raw yet, which is harmless. */
    atomic_signal_fence(memory_order_seq_cst);
    slots[s].active = 1;
    if (tcsetattr(fd, TCSANOW, &raw)) {
        err = errno;
        slots[s].active = 0;
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot put the terminal in raw mode: %s",
                    strerror(err));
        goto out;
    }
    t->raw = true;
    t->slot = s;
    *tp = t;
    t = NULL;
out:
    if (locked)
        pthread_mutex_unlock(&slots_lock);
    free(t);
    return err;
}

int tt_term_fd(const struct tt_term *t)
{
    return t->fd;
}

bool tt_term_is_raw(const struct tt_term *t)
{
    return t->raw;
}

void tt_term_close(struct tt_term *t)
{
    if (!t)
        return;
    if (t->raw) {
        pthread_mutex_lock(&slots_lock);
        struct slot *s = &slots[t->slot];
        /* Restore before leaving the table: a signal in between restores twice, harmlessly. */
        tcsetattr(s->fd, TCSANOW, &s->saved);
        tcflush(s->fd, TCIFLUSH);
        s->active = 0;
        pthread_mutex_unlock(&slots_lock);
    }
    free(t);
}

/* ---- Decoding -------------------------------------------------------------------------------- */

/* What a plain byte means, or -1. Documented in docs/keymaps.md: keep the two in step. */
static int byte_key(unsigned char c)
{
    if ((c >= '0' && c <= '9') || c == '*' || c == '#')
        return c;
    switch (c) {
    case '/': /* a USB numeric keypad has no # key: its / key, next to *, stands for it */
        return '#';
    case '\r':
    case '\n':
        return TT_KEY_SELECT;
    case '+':
        return TT_KEY_LOUDER;
    case '-':
        return TT_KEY_SOFTER;
    case '.':
        return TT_KEY_REPEAT;
    case 0x7f: /* Backspace on most terminals */
    case 0x08: /* ... and Ctrl-H on the others */
        return TT_KEY_BACK;
    case 'h':
    case 'H':
    case '?':
        return TT_KEY_HELP;
    case 'p':
    case 'P':
    case ' ':
        return TT_KEY_PAUSE;
    case '<':
        return TT_KEY_SLOWER;
    case '>':
        return TT_KEY_FASTER;
    default:
        return -1;
    }
}

/* ESC O x: the numeric keypad in application mode, and arrows in cursor application mode. */
static int ss3_key(unsigned char c)
{
    if (c >= 'p' && c <= 'y')
        return '0' + (c - 'p');
    switch (c) {
    case 'j':
        return '*';
    case 'o': /* keypad / */
        return '#';
    case 'k':
        return TT_KEY_LOUDER;
    case 'm':
        return TT_KEY_SOFTER;
    case 'n':
        return TT_KEY_REPEAT;
    case 'M':
        return TT_KEY_SELECT;
    case 'A':
        return TT_KEY_UP;
    case 'B':
        return TT_KEY_DOWN;
    case 'C':
        return TT_KEY_SELECT; /* right */
    case 'D':
        return TT_KEY_BACK;   /* left */
    default:
        return -1;
    }
}

/* ESC [ params final: only the arrows mean something (with any modifier: Shift-Up is up). */
static int csi_key(unsigned char final)
{
    return final >= 'A' && final <= 'D' ? ss3_key(final) : -1;
}

enum seq { SEQ_KEY, SEQ_NONE, SEQ_MORE, SEQ_LONE };

/* Read the sequence at b[0] == ESC: its length and key, or that more bytes are needed, or
 * that the Escape stands alone (the next byte starts no sequence, and is read by itself). */
static enum seq escape(const unsigned char *b, size_t n, size_t *len, int *key)
{
    *key = -1;
    if (n < 2)
        return SEQ_MORE;
    if (b[1] == 'O') {
        if (n < 3)
            return SEQ_MORE;
        /* A control byte cannot end ESC O: it is the next key (maybe another Escape), and
         * swallowing it could eat the exit key. */
        if (b[2] < 0x20 || b[2] == 0x7f)
            return *len = 1, SEQ_LONE;
        *len = 3;
        *key = ss3_key(b[2]);
        return *key >= 0 ? SEQ_KEY : SEQ_NONE;
    }
    if (b[1] != '[')
        return *len = 1, SEQ_LONE;
    /* CSI (ECMA-48 5.4): parameter bytes 0x30-0x3F, intermediate bytes 0x20-0x2F, then one
     * final byte 0x40-0x7E. Anything else breaks the sequence off where it stands. */
    for (size_t i = 2; i < n; i++) {
        unsigned char c = b[i];
        if (c >= 0x40 && c <= 0x7e) {
            *len = i + 1;
            *key = csi_key(c);
            return *key >= 0 ? SEQ_KEY : SEQ_NONE;
        }
        if (c < 0x20 || c > 0x3f || i >= CSI_MAX) {
            *len = i;
            return SEQ_NONE;
        }
    }
    return SEQ_MORE;
}

enum stop { STOP_DONE, STOP_FULL, STOP_MORE, STOP_LONE_ESC, STOP_QUIT };

/* Decode t->pend from the start; returns why it stopped and leaves the bytes not consumed. */
static enum stop decode(struct tt_term *t, int *keys, size_t max, size_t *nk)
{
    size_t i = 0;
    enum stop why = STOP_DONE;
    while (i < t->npend) {
        const unsigned char *b = t->pend + i;
        size_t left = t->npend - i, len = 1;
        int key;
        if (b[0] == CTRL_C || b[0] == CTRL_BACKSLASH) {
            why = STOP_QUIT;
            i = t->npend;
            break;
        }
        if (b[0] == ESC) {
            enum seq s = escape(b, left, &len, &key);
            if (s == SEQ_MORE) {
                why = left == 1 ? STOP_LONE_ESC : STOP_MORE;
                break;
            }
            if (s == SEQ_LONE)
                key = TT_KEY_EXIT;
        } else {
            key = byte_key(b[0]);
            if (b[0] == '\n' && t->last_cr)
                key = -1; /* CR LF is one Enter */
        }
        if (key >= 0 && *nk == max) {
            why = STOP_FULL;
            break;
        }
        if (key >= 0)
            keys[(*nk)++] = key;
        t->last_cr = b[0] == '\r';
        i += len;
    }
    memmove(t->pend, t->pend + i, t->npend - i);
    t->npend -= i;
    return why;
}

/* Read what is waiting into the buffer, waiting up to ms for it. Returns 0 or an errno. */
static int fill(struct tt_term *t, int ms)
{
    size_t room = sizeof(t->pend) - t->npend;
    if (!room || t->eof)
        return 0;
    struct pollfd p = {.fd = t->fd, .events = POLLIN};
    int r = poll(&p, 1, ms);
    if (r < 0)
        return errno == EINTR ? 0 : errno;
    if (r == 0)
        return 0;
    if (p.revents & POLLNVAL)
        return EBADF;
    if (!(p.revents & POLLIN)) {
        /* Hung up with nothing left to read: a pipe has ended; a terminal has gone. */
        if (t->raw)
            return EIO;
        t->eof = true;
        return 0;
    }
    ssize_t got = read(t->fd, t->pend + t->npend, room);
    if (got > 0) {
        t->npend += (size_t)got;
        return 0;
    }
    if (got == 0) {
        /* A raw terminal returns 0 for "nothing" (VMIN = 0): only a pipe or a file ends,
         * unless poll also said the other side hung up: then the terminal has gone, and
         * taking it for "nothing yet" would have the caller poll it for ever. */
        if (t->raw && (p.revents & POLLHUP))
            return EIO;
        if (!t->raw)
            t->eof = true;
        return 0;
    }
    return errno == EAGAIN || errno == EINTR ? 0 : errno;
}

int tt_term_read(struct tt_term *t, int *keys, size_t max, bool *quit)
{
    size_t nk = 0;
    bool waited = false;
    int err = 0;

    *quit = false;
    if (!max)
        return 0;
    for (;;) {
        err = fill(t, 0);
        if (err)
            break;
        enum stop why = decode(t, keys, max, &nk);
        if (why == STOP_QUIT) {
            *quit = true;
            t->interrupted = true;
            t->npend = 0;
            break;
        }
        if (why == STOP_LONE_ESC && nk < max) {
            /* Wait once for the rest of a sequence; after that, it was the Escape key. */
            if (!waited && !t->eof) {
                waited = true;
                err = fill(t, TT_TERM_ESC_WAIT_MS);
                if (err)
                    break;
                if (t->npend > 1 || t->eof)
                    continue;
            }
            keys[nk++] = TT_KEY_EXIT;
            t->npend = 0;
            t->last_cr = false;
            continue;
        }
        if (why == STOP_MORE && t->eof)
            t->npend = 0; /* the rest of that sequence will never come */
        break;
    }
    if (t->eof && !t->npend)
        *quit = true;
    if (err && !nk)
        return -err;
    return (int)nk;
}

bool tt_term_interrupted(const struct tt_term *t)
{
    return t && t->interrupted;
}
