/*
 * Lookups: run a court's command on the caller's digits and turn what it prints into
 * something safe to speak (see lookup.h for the contract, docs/lookups.md for court IT).
 *
 * The idea is to trust nothing about the command and to be unable to hang on it:
 *   - never a shell: argv is {command} alone, and the entry, digits only, arrives on the
 *     command's standard input (a pipe holding the digits and a newline, then its end), so
 *     it is in no process's arguments for `ps` to show;
 *   - a new, minimal environment (PATH, LANG, TT_LANG), every descriptor but 0, 1 and 2
 *     closed in the child, every signal at its default: no secret or odd state of the host
 *     process reaches it;
 *   - it runs under a reaper of ours (lookup_reaper.c), which ends everything it started,
 *     setsid'd sessions and double forks included, when it exits or at the limit, and
 *     reports how it ended on a pipe;
 *   - its standard output and error are read as the data comes, whichever pipe it is on,
 *     into fixed buffers, the excess read and dropped: a command printing without end can
 *     neither fill our memory nor stall on a full pipe;
 *   - one epoll descriptor is readable when either output pipe or the reaper's report is,
 *     so a driver watches one descriptor and sleeps until something happens or the limit.
 *
 * Time is CLOCK_MONOTONIC read here: this is driver-side code, not the pure session.
 */
#define _GNU_SOURCE /* pipe2, memrchr */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/rfile.h"
#include "lookup/lookup.h"
#include "lookup/lookup_reaper.h"

#define READ_BUDGET (256 << 10) /* bytes read per poll, so a flood cannot starve a live loop */
#define ERR_KEEP 400            /* bytes of standard error kept for the message */
#define MAX_OUTPUT_CAP (1 << 20)
/* What is left to read once the reaper reports the end: everything that could write is
 * dead by then, so the pipes hold all there is, a pipe's worth at most (1 MiB, Linux's
 * pipe-max-size); bounded all the same, should something have been left alive. */
#define FINAL_BUDGET (2u << 20)
/* How long the host waits for the reaper to end things once asked, before it kills the
 * reaper itself: the reaper's own give-up time and a margin for a loaded machine. */
#define STOP_WAIT_MS (TT_REAPER_GIVE_UP_MS + 2000)

/* The whole environment a command gets: nothing of ours (no secrets), only a path, a
 * character set, and the listener's language when there is one. */
#define ENV_PATH "PATH=/usr/bin:/bin"
#define ENV_LANG "LANG=C.UTF-8"

struct tt_lookup {
    char *command;
    char entry[TT_LOOKUP_MAX_ENTRY + 1];
    tt_diag *diag;
    struct tt_reaper reaper;
    int out_fd, err_fd; /* read ends; -1 once at end of file (or closed) */
    int ep_fd;          /* epoll: out_fd, err_fd and the reaper's status */
    struct timespec t0;
    tt_ms limit_ms;
    bool stopping; /* the limit passed and the reaper was asked to end it */
    tt_ms stop_at; /* when it was asked (ms since start) */

    char *out; /* max_output + 1 bytes */
    size_t max_output, out_len;
    size_t out_total;  /* bytes the command wrote, kept or not */
    int first_dropped; /* the first byte not kept, or -1 */
    char err[ERR_KEEP + 1];
    size_t err_len;

    bool done;
    enum tt_lookup_status status;
    const char *text; /* "" until done; then into out when OK */
};

static tt_ms elapsed_ms(const struct tt_lookup *l)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    /* Whole nanoseconds first: dividing the two parts apart would round a negative
     * nanosecond difference up, and kill up to a millisecond early. */
    return ((tt_ms)(t.tv_sec - l->t0.tv_sec) * 1000000000 + (t.tv_nsec - l->t0.tv_nsec)) /
           1000000;
}

/* ---- cleaning ---------------------------------------------------------------------------- */

/* What a decoded character becomes: kept, a space, or nothing. */
enum fate { KEEP, SPACE, DROP };

static enum fate fate_of(unsigned c)
{
    if (c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == ' ')
        return SPACE;
    if (c < 0x20 || c == 0x7f)
        return DROP;
    if (c == 0x85 || c == 0x2028 || c == 0x2029) /* next line, line and paragraph separators */
        return SPACE;
    if (c >= 0x80 && c <= 0x9f) /* C1 controls */
        return DROP;
    /* Invisible marks that reorder or hide text on a screen or braille line (the "Trojan
     * source" characters), the byte order mark, interlinear annotations, noncharacters. The
     * joiners U+200C and U+200D stay: several scripts need them. */
    if (c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
        (c >= 0x2066 && c <= 0x2069) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) ||
        (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe)
        return DROP;
    return KEEP;
}

/* Length of the valid UTF-8 character at s (at most n bytes), with its code point; 0 if the
 * bytes there are not one (bad lead, bad continuation, overlong, surrogate, past U+10FFFF,
 * cut short). */
static size_t utf8_char(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80, c &= 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800, c &= 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

size_t tt_lookup_clean(char *buf, size_t len)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t r = 0, w = 0;
    bool space = false; /* a space is owed before the next kept character */
    while (r < len) {
        unsigned cp;
        size_t n = utf8_char(s + r, len - r, &cp);
        if (n == 0) { /* one bad byte dropped; decoding resumes at the next */
            r++;
            continue;
        }
        switch (fate_of(cp)) {
        case SPACE:
            space = w > 0; /* never at the start: that trims the front */
            break;
        case KEEP:
            if (space)
                buf[w++] = ' ';
            space = false;
            memmove(buf + w, s + r, n); /* w <= r: the text only shrinks */
            w += n;
            break;
        case DROP:
            break;
        }
        r += n;
    }
    buf[w] = '\0'; /* a space still owed is the trailing one: trimmed */
    return w;
}

/* ---- checks ------------------------------------------------------------------------------ */

int tt_lookup_check_command(const char *command, tt_diag *diag)
{
    static const char example[] = "for example lookup = /usr/local/lib/court/hearing-date";
    if (!command || !*command) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "a lookup needs a command: write the full path of the program to run, %s",
                    example);
        return EINVAL;
    }
    if (command[0] != '/') {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "lookup = %s: the command must be a full path starting with '/', %s "
                    "(a lookup is never searched for on PATH nor run through a shell)",
                    command, example);
        return EINVAL;
    }
    char why[PATH_MAX + 200];
    int err = tt_rfile_check_program(command, why, sizeof(why));
    if (err)
        tt_diag_add(diag, TT_ERROR, NULL, 0, "lookup = %s: %s", command, why);
    return err;
}

static bool entry_ok(const char *entry)
{
    size_t n = 0;
    if (!entry)
        return false;
    for (; entry[n]; n++)
        if (entry[n] < '0' || entry[n] > '9' || n >= TT_LOOKUP_MAX_ENTRY)
            return false;
    return n > 0;
}

/* ---- starting ---------------------------------------------------------------------------- */

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void close_pair(int p[2])
{
    close_fd(&p[0]);
    close_fd(&p[1]);
}

/* The command's standard input: the entry and a newline, then the end. At most 65 bytes,
 * far less than a pipe holds, so the write is whole and never waits. */
static int entry_pipe(const char *entry, int p[2])
{
    char line[TT_LOOKUP_MAX_ENTRY + 2];
    size_t n = strlen(entry);
    memcpy(line, entry, n);
    line[n++] = '\n';
    if (pipe2(p, O_CLOEXEC) != 0)
        return errno;
    ssize_t w;
    while ((w = write(p[1], line, n)) < 0 && errno == EINTR)
        ;
    int err = w == (ssize_t)n ? 0 : w < 0 ? errno : EIO;
    close_fd(&p[1]);
    explicit_bzero(line, sizeof(line));
    return err;
}

/* An output pipe whose read end (ours) does not block. */
static int output_pipe(int p[2])
{
    if (pipe2(p, O_CLOEXEC) != 0)
        return errno;
    if (fcntl(p[0], F_SETFL, O_NONBLOCK) != 0) {
        int err = errno;
        close_pair(p);
        return err;
    }
    return 0;
}

static int watch_fd(int ep, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
}

static void spawn_error(tt_diag *diag, const char *command, int err)
{
    switch (err) {
    case ENOEXEC:
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "lookup = %s: this system cannot run the file: a script must begin with a "
                    "line such as #!/bin/sh, and a program must be built for this machine",
                    command);
        break;
    case ENOENT:
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "lookup = %s: could not be started: the interpreter named on its first line "
                    "(#!...) is not installed",
                    command);
        break;
    case EACCES:
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "lookup = %s: permission denied when starting it: make it (and the "
                    "interpreter on its first line) executable",
                    command);
        break;
    default:
        tt_diag_add(diag, TT_ERROR, NULL, 0, "lookup = %s: could not be started: %s", command,
                    strerror(err));
    }
}

int tt_lookup_start(struct tt_lookup **lp, const char *command, const char *entry,
                    const struct tt_lookup_opts *o, tt_diag *diag)
{
    int err = 0, in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
    bool reported = false;
    struct tt_lookup *l = NULL;

    *lp = NULL;
    if (!entry_ok(entry)) {
        /* The entry itself stays out of the message: it is the caller's. */
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "a lookup entry must be 1 to %d digits (0-9) and nothing else",
                    TT_LOOKUP_MAX_ENTRY);
        return EINVAL;
    }
    if ((err = tt_lookup_check_command(command, diag)))
        return err;
    tt_ms limit = o && o->limit_ms ? o->limit_ms : TT_LOOKUP_LIMIT_MS;
    size_t max_output = o && o->max_output ? o->max_output : TT_LOOKUP_MAX_OUTPUT;
    if (limit < 0 || limit > INT_MAX || max_output > MAX_OUTPUT_CAP) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "lookup = %s: a time limit must be positive and output at most %d bytes",
                    command, MAX_OUTPUT_CAP);
        return EINVAL;
    }

    if (!(l = calloc(1, sizeof(*l))) || !(l->command = strdup(command)) ||
        !(l->out = malloc(max_output + 1))) {
        err = ENOMEM;
        goto out;
    }
    strcpy(l->entry, entry); /* entry_ok bounded its length */
    l->diag = diag;
    l->reaper.pid = -1;
    l->out_fd = l->err_fd = l->ep_fd = -1;
    l->limit_ms = limit;
    l->max_output = max_output;
    l->first_dropped = -1;
    l->status = TT_LOOKUP_RUNNING;
    l->text = "";

    if ((err = entry_pipe(entry, in)) || (err = output_pipe(out)) || (err = output_pipe(errp)))
        goto out;
    if ((l->ep_fd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        err = errno;
        goto out;
    }

    char *argv[] = {l->command, NULL};
    char tt_lang[32] = "";
    char *envp[] = {ENV_PATH, ENV_LANG, tt_lang, NULL};
    if (o && o->lang && *o->lang && strlen(o->lang) < 16 &&
        strspn(o->lang, "abcdefghijklmnopqrstuvwxyz-") == strlen(o->lang))
        snprintf(tt_lang, sizeof(tt_lang), "TT_LANG=%s", o->lang);
    else
        envp[2] = NULL;
    clock_gettime(CLOCK_MONOTONIC, &l->t0);
    struct tt_reaper_job job = {
        .path = l->command,
        .argv = argv,
        .envp = envp,
        .fd = {in[0], out[1], errp[1]},
        .deadline = {l->t0.tv_sec + limit / 1000, l->t0.tv_nsec + (limit % 1000) * 1000000L},
    };
    if (job.deadline.tv_nsec >= 1000000000L) {
        job.deadline.tv_sec++;
        job.deadline.tv_nsec -= 1000000000L;
    }
    if ((err = tt_reaper_start(&l->reaper, &job))) {
        spawn_error(diag, command, err);
        reported = true;
        goto out;
    }
    l->out_fd = out[0];
    l->err_fd = errp[0];
    out[0] = errp[0] = -1;
    if ((err = watch_fd(l->ep_fd, l->out_fd)) || (err = watch_fd(l->ep_fd, l->err_fd)) ||
        (err = watch_fd(l->ep_fd, l->reaper.status)))
        goto out;
    *lp = l;
    l = NULL;
out:
    close_pair(in);
    close_pair(out); /* the write ends are the command's now: ours must go, or no end of file */
    close_pair(errp);
    if (l) {
        tt_reaper_finish(&l->reaper, STOP_WAIT_MS);
        close_fd(&l->out_fd);
        close_fd(&l->err_fd);
        close_fd(&l->ep_fd);
        free(l->out);
        free(l->command);
        free(l);
    }
    if (err && !reported)
        tt_diag_add(diag, TT_ERROR, NULL, 0, "lookup = %s: could not be started: %s", command,
                    strerror(err));
    return err;
}

/* ---- running ----------------------------------------------------------------------------- */

int tt_lookup_fd(const struct tt_lookup *l)
{
    return l && !l->done ? l->ep_fd : -1;
}

int tt_lookup_timeout_ms(const struct tt_lookup *l)
{
    if (!l || l->done)
        return 0;
    /* Everything that can happen before then (output, the end) makes the descriptor
     * readable; the limit, and the backstop for a reaper that does not answer, do not. */
    tt_ms left = l->stopping ? l->stop_at + STOP_WAIT_MS - elapsed_ms(l)
                             : l->limit_ms - elapsed_ms(l);
    return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Read standard output without blocking: keep up to max_output bytes, count and drop the rest.
 * Stops at `budget` bytes, at "nothing more for now", or at the end (closing the descriptor). */
static int read_out(struct tt_lookup *l, size_t budget)
{
    char junk[4096];
    size_t got = 0;
    while (l->out_fd >= 0 && got < budget) {
        size_t room = l->max_output - l->out_len;
        char *dst = room ? l->out + l->out_len : junk;
        size_t want = room ? room : sizeof(junk);
        ssize_t n = read(l->out_fd, dst, want);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            int err = errno;
            close_fd(&l->out_fd);
            return err;
        }
        if (n == 0) {
            close_fd(&l->out_fd); /* closing also takes it out of the epoll set */
            return 0;
        }
        if (room)
            l->out_len += (size_t)n;
        else if (l->first_dropped < 0)
            l->first_dropped = (unsigned char)junk[0];
        l->out_total += (size_t)n;
        got += (size_t)n;
    }
    return 0;
}

/* Standard error: the first ERR_KEEP bytes are kept for the message, the rest dropped. */
static void read_err(struct tt_lookup *l, size_t budget)
{
    char junk[4096];
    size_t got = 0;
    while (l->err_fd >= 0 && got < budget) {
        size_t room = ERR_KEEP - l->err_len;
        char *dst = room ? l->err + l->err_len : junk;
        ssize_t n = read(l->err_fd, dst, room ? room : sizeof(junk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            close_fd(&l->err_fd);
            return;
        }
        if (room)
            l->err_len += (size_t)n;
        got += (size_t)n;
    }
}

/* The cleaned standard error, with every piece of the caller's entry hidden
 * (tt_lookup_hide_entry), as " It said: ..." for a message; "" when it said nothing.
 * Caller frees. */
static char *err_excerpt(struct tt_lookup *l)
{
    size_t n = tt_lookup_clean(l->err, l->err_len);
    l->err_len = n;
    if (n == 0)
        return strdup("");
    char *hidden = tt_lookup_hide_entry(l->err, n, l->entry);
    if (!hidden)
        return NULL;
    size_t size = strlen(hidden) + sizeof(" It said: \"\"");
    char *said = malloc(size);
    if (said)
        snprintf(said, size, " It said: \"%s\"", hidden);
    free(hidden);
    return said;
}

/* Cut a capped text back to the last whole word (a word cut in half sounds like a fault),
 * unless the cut already fell between words. */
static size_t cut_to_word(char *s, size_t len, int first_dropped)
{
    if (first_dropped == ' ' || first_dropped == '\n' || first_dropped == '\t' ||
        first_dropped == '\r')
        return len;
    char *sp = memrchr(s, ' ', len);
    if (!sp)
        return len;
    *sp = '\0';
    return (size_t)(sp - s);
}

/* How a lookup ended, as finish() needs it. */
struct ending {
    enum { BY_EXIT, BY_LIMIT, BY_OTHERS, BY_FAULT } why;
    int ws;      /* BY_EXIT: the command's wait status */
    int sys_err; /* BY_FAULT: what went wrong on our side */
    int left;    /* processes the reaper could not end; -1: unknown (the reaper was killed) */
};

static void finish(struct tt_lookup *l, const struct ending *e)
{
    l->done = true;
    close_fd(&l->out_fd);
    close_fd(&l->err_fd);
    close_fd(&l->ep_fd);
    char *said = err_excerpt(l);
    const char *s = said ? said : "";
    int ws = e->ws;

    if (e->left > 0)
        tt_diag_add(l->diag, TT_WARNING, NULL, 0,
                    "lookup = %s: %d processes it started could not be stopped within %.1f s "
                    "(stuck in the system?)",
                    l->command, e->left, TT_REAPER_GIVE_UP_MS / 1000.0);
    else if (e->left < 0)
        tt_diag_add(l->diag, TT_WARNING, NULL, 0,
                    "lookup = %s: the process that watches it did not answer when asked to "
                    "stop it, and was killed: what the command started may still be running",
                    l->command);
    if (e->why == BY_LIMIT) {
        l->status = TT_LOOKUP_TIMEOUT;
        tt_diag_add(l->diag, TT_WARNING, NULL, 0,
                    "lookup = %s: no answer within %.1f s: it was stopped.%s", l->command,
                    (double)l->limit_ms / 1000.0, s);
    } else if (e->why == BY_OTHERS) {
        l->status = TT_LOOKUP_FAILED;
        tt_diag_add(l->diag, TT_WARNING, NULL, 0,
                    "lookup = %s: it was stopped from outside (SIGTERM to the process that "
                    "watches it).%s",
                    l->command, s);
    } else if (e->why == BY_FAULT) {
        l->status = TT_LOOKUP_FAILED;
        tt_diag_add(l->diag, TT_WARNING, NULL, 0, "lookup = %s: %s.%s", l->command,
                    e->sys_err == EPIPE ? "the process that watches it ended unexpectedly (was "
                                          "it killed?)"
                                        : strerror(e->sys_err),
                    s);
    } else if (WIFSIGNALED(ws)) {
        l->status = TT_LOOKUP_FAILED;
        tt_diag_add(l->diag, TT_WARNING, NULL, 0, "lookup = %s: it was ended by signal %d (%s).%s",
                    l->command, WTERMSIG(ws), strsignal(WTERMSIG(ws)), s);
    } else if (WEXITSTATUS(ws) == 1) {
        l->status = TT_LOOKUP_EMPTY;
        tt_diag_add(l->diag, TT_NOTE, NULL, 0, "lookup = %s: found nothing for the entry.%s",
                    l->command, s);
    } else if (WEXITSTATUS(ws) != 0) {
        l->status = TT_LOOKUP_FAILED;
        tt_diag_add(l->diag, TT_WARNING, NULL, 0, "lookup = %s: failed with exit status %d.%s",
                    l->command, WEXITSTATUS(ws), s);
    } else {
        size_t n = tt_lookup_clean(l->out, l->out_len);
        if (l->out_total > l->out_len) {
            n = cut_to_word(l->out, n, l->first_dropped);
            tt_diag_add(l->diag, TT_WARNING, NULL, 0,
                        "lookup = %s: it wrote %zu bytes; only the first %zu were kept (an "
                        "answer should be a sentence or two)",
                        l->command, l->out_total, l->max_output);
        }
        if (n > 0) {
            l->status = TT_LOOKUP_OK;
            l->text = l->out;
            if (*s)
                tt_diag_add(l->diag, TT_NOTE, NULL, 0, "lookup = %s: succeeded.%s", l->command,
                            s);
        } else {
            l->status = TT_LOOKUP_EMPTY;
            tt_diag_add(l->diag, TT_WARNING, NULL, 0,
                        "lookup = %s: succeeded but printed nothing that can be spoken (it "
                        "should print a sentence, or exit with status 1 when it finds "
                        "nothing).%s",
                        l->command, s);
        }
    }
    free(said);
}

/* End it from our side (a fault while reading): the reaper ends everything, then goes. */
static void abandon(struct tt_lookup *l, int sys_err)
{
    tt_reaper_finish(&l->reaper, STOP_WAIT_MS);
    finish(l, &(struct ending){.why = BY_FAULT, .sys_err = sys_err});
}

int tt_lookup_poll(struct tt_lookup *l, bool *done)
{
    int err = 0;
    if (l->done)
        goto out;
    if ((err = read_out(l, READ_BUDGET)))
        goto fault;
    read_err(l, READ_BUDGET);

    struct tt_reaper_end end;
    int got = tt_reaper_ended(&l->reaper, &end);
    if (got == 1) {
        /* Everything the command started has been ended and reaped: what is in the pipes is
         * all there will be. */
        if ((err = read_out(l, FINAL_BUDGET)))
            goto fault;
        read_err(l, FINAL_BUDGET);
        tt_reaper_finish(&l->reaper, STOP_WAIT_MS);
        struct ending e = {.ws = end.status, .left = end.left};
        e.why = end.how == TT_REAPER_EXITED  ? BY_EXIT
                : end.how == TT_REAPER_LIMIT ? BY_LIMIT
                : l->stopping                ? BY_LIMIT
                                             : BY_OTHERS;
        finish(l, &e);
    } else if (got != 0) { /* the reaper is gone without a word */
        err = got;
        goto fault;
    } else if (!l->stopping && elapsed_ms(l) >= l->limit_ms) {
        /* The reaper keeps the same deadline and is ending it already; asking is for a
         * reaper that was kept from running (a stopped or starved process). */
        tt_reaper_stop(&l->reaper);
        l->stopping = true;
        l->stop_at = elapsed_ms(l);
    } else if (l->stopping && elapsed_ms(l) >= l->stop_at + STOP_WAIT_MS) {
        tt_reaper_finish(&l->reaper, 0); /* it did not answer: killed */
        finish(l, &(struct ending){.why = BY_LIMIT, .left = -1});
    }
    goto out;
fault:
    abandon(l, err);
out:
    *done = l->done;
    return err;
}

enum tt_lookup_status tt_lookup_status(const struct tt_lookup *l)
{
    return l->status;
}

const char *tt_lookup_text(const struct tt_lookup *l)
{
    return l->status == TT_LOOKUP_OK ? l->text : "";
}

pid_t tt_lookup_pid(const struct tt_lookup *l)
{
    return l->reaper.command;
}

void tt_lookup_free(struct tt_lookup *l)
{
    if (!l)
        return;
    tt_reaper_finish(&l->reaper, STOP_WAIT_MS); /* ends whatever still runs, waits for it */
    close_fd(&l->out_fd);
    close_fd(&l->err_fd);
    close_fd(&l->ep_fd);
    explicit_bzero(l->entry, sizeof(l->entry));
    free(l->out);
    free(l->command);
    free(l);
}

int tt_lookup_run(const char *command, const char *entry, const struct tt_lookup_opts *o,
                  enum tt_lookup_status *st, char **text, tt_diag *diag)
{
    struct tt_lookup *l = NULL;
    bool done = false;
    int err;
    if (text)
        *text = NULL;
    *st = TT_LOOKUP_FAILED;
    if ((err = tt_lookup_start(&l, command, entry, o, diag)))
        return err;
    while (!done) {
        struct pollfd p = {.fd = tt_lookup_fd(l), .events = POLLIN};
        if (poll(&p, 1, tt_lookup_timeout_ms(l)) < 0 && errno != EINTR) {
            err = errno;
            break;
        }
        tt_lookup_poll(l, &done); /* a system error there ends it as FAILED, with a message */
    }
    if (err) { /* poll itself failed: give up on the command */
        tt_diag_add(diag, TT_WARNING, NULL, 0, "lookup = %s: %s", command, strerror(err));
        goto out;
    }
    *st = tt_lookup_status(l);
    if (text && *st == TT_LOOKUP_OK && !(*text = strdup(tt_lookup_text(l)))) {
        err = ENOMEM;
        *st = TT_LOOKUP_FAILED;
    }
out:
    tt_lookup_free(l);
    return err;
}

enum tt_answer tt_lookup_answer(enum tt_lookup_status st)
{
    switch (st) {
    case TT_LOOKUP_OK:
        return TT_ANSWER_OK;
    case TT_LOOKUP_EMPTY:
        return TT_ANSWER_NONE;
    default:
        return TT_ANSWER_FAILED;
    }
}
