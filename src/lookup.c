/*
 * Lookups: run a court's command on the caller's digits and turn what it prints into
 * something safe to speak (see lookup.h for the contract, docs/lookups.md for court IT).
 *
 * The idea is to trust nothing about the command and to be unable to hang on it:
 *   - posix_spawn, never a shell: argv is {command} alone, and the entry, digits only,
 *     arrives on the command's standard input (a pipe holding the digits and a newline, then
 *     its end), so it is in no process's arguments for `ps` to show;
 *   - a new, minimal environment (PATH and LANG), and every descriptor but 0, 1 and 2 closed
 *     in the child, so no secret of the host process reaches it;
 *   - the command leads a process group of its own. When it exits, anything it left running in
 *     that group is killed, and at the time limit the whole group is. The group is killed
 *     while the leader is still an unreaped zombie, which keeps its id from being reused, so the
 *     kill can never reach a stranger's processes;
 *   - its output is read without blocking into a fixed buffer, the excess read and dropped, so
 *     a command printing without end can neither fill our memory nor stall on a full pipe;
 *   - the exit is looked for with waitid(WNOWAIT) on a short beat as well as on the pipe,
 *     because the pipe alone does not tell: a grandchild may hold it open after the command
 *     has ended, or the command may close it and keep running.
 *
 * Time is CLOCK_MONOTONIC read here: this is driver-side code, not the pure session.
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addclosefrom_np */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lookup.h"
#include "strbuf.h"

#define BEAT_MS 50              /* the longest sleep between looks at the command */
#define READ_BUDGET (256 << 10) /* bytes read per poll, so a flood cannot starve a live loop */
#define ERR_KEEP 400            /* bytes of standard error kept for the message */
#define MAX_OUTPUT_CAP (1 << 20)
#define REAP_WAIT_MS 2000       /* a killed process is gone in microseconds; this is a backstop */
/* What is left to read once the command has ended: a pipe holds at most 1 MiB (Linux's
 * pipe-max-size), so this is all of it, yet bounded should something outside the group
 * (a daemon it started with setsid) still be writing. */
#define FINAL_BUDGET (2u << 20)

/* The whole environment a command gets: nothing of ours (no secrets), only a path, a
 * character set, and the listener's language when there is one. */
#define ENV_PATH "PATH=/usr/bin:/bin"
#define ENV_LANG "LANG=C.UTF-8"

struct tt_lookup {
    char *command;
    char entry[TT_LOOKUP_MAX_ENTRY + 1];
    tt_diag *diag;
    pid_t pid;
    int out_fd, err_fd; /* read ends; -1 once at end of file (or closed) */
    struct timespec t0;
    tt_ms limit_ms;
    tt_ms eof_at; /* when standard output ended (ms since start), or -1 */

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

int tt_lookup_check_file(const char *path, char *why, size_t size)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        int err = errno == ENOTDIR ? ENOENT : errno;
        if (err == ENOENT)
            snprintf(why, size, "there is no such file: install the program there, or correct "
                                "the path in the menu");
        else
            snprintf(why, size, "cannot be reached (%s): check the permissions of the folders "
                                "on its path",
                     strerror(err));
        return err;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(why, size, "this is a folder, not a program: give the path of the program "
                            "itself");
        return EACCES;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, size, "this is a pipe, a device or a socket, not a regular file: give "
                            "the path of the program itself");
        return EACCES;
    }
    if (access(path, X_OK) != 0) {
        snprintf(why, size, "the file is not executable: make it so with chmod +x %s", path);
        return EACCES;
    }
    return 0;
}

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
    int err = tt_lookup_check_file(command, why, sizeof(why));
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

/* Keep our pipe ends off 0, 1 and 2 (free in a host that closed its own), so that the
 * child's dup2 onto 1 and 2 can never overwrite one pipe end with the other. */
static int lift_fd(int *fd)
{
    if (*fd > 2)
        return 0;
    int nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
    if (nfd < 0)
        return errno;
    close(*fd);
    *fd = nfd;
    return 0;
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
    if (!err)
        err = lift_fd(&p[0]);
    close(p[1]);
    p[1] = -1;
    explicit_bzero(line, sizeof(line));
    return err;
}

static int make_pipe(int fds[2])
{
    int err = 0;
    if (pipe2(fds, O_CLOEXEC) != 0)
        return errno;
    if ((err = lift_fd(&fds[0])) || (err = lift_fd(&fds[1])))
        goto out;
    if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0)
        err = errno;
out:
    if (err) {
        close(fds[0]);
        close(fds[1]);
        fds[0] = fds[1] = -1;
    }
    return err;
}

/* Close in the child every descriptor above 2: ours are close-on-exec already, but a host
 * (an audio library, a keypad) may hold others that are not. */
static int close_the_rest(posix_spawn_file_actions_t *fa)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(fa, 3);
#else
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = 3; fd < max; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0 && !(fl & FD_CLOEXEC)) {
            int err = posix_spawn_file_actions_addclose(fa, fd);
            if (err)
                return err;
        }
    }
    return 0;
#endif
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
    bool fa_ready = false, attr_ready = false, reported = false;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
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
    l->pid = -1;
    l->out_fd = l->err_fd = -1;
    l->limit_ms = limit;
    l->max_output = max_output;
    l->eof_at = -1;
    l->first_dropped = -1;
    l->status = TT_LOOKUP_RUNNING;
    l->text = "";

    if ((err = entry_pipe(entry, in)) || (err = make_pipe(out)) || (err = make_pipe(errp)))
        goto out;

    if ((err = posix_spawn_file_actions_init(&fa)))
        goto out;
    fa_ready = true;
    if ((err = posix_spawn_file_actions_adddup2(&fa, in[0], 0)) ||
        (err = posix_spawn_file_actions_adddup2(&fa, out[1], 1)) ||
        (err = posix_spawn_file_actions_adddup2(&fa, errp[1], 2)) ||
        (err = close_the_rest(&fa)))
        goto out;

    /* Its own group (so one kill reaches everything it starts), no blocked signals, and every
     * signal at its default: a host that ignores SIGPIPE must not pass that on, or a pipeline
     * inside the command would not end the way its author expects. */
    if ((err = posix_spawnattr_init(&attr)))
        goto out;
    attr_ready = true;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    if ((err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                   POSIX_SPAWN_SETSIGDEF)) ||
        (err = posix_spawnattr_setpgroup(&attr, 0)) ||
        (err = posix_spawnattr_setsigmask(&attr, &none)) ||
        (err = posix_spawnattr_setsigdefault(&attr, &all)))
        goto out;

    char *argv[] = {l->command, NULL};
    char tt_lang[32] = "";
    char *envp[] = {ENV_PATH, ENV_LANG, tt_lang, NULL};
    if (o && o->lang && *o->lang && strlen(o->lang) < 16 &&
        strspn(o->lang, "abcdefghijklmnopqrstuvwxyz-") == strlen(o->lang))
        snprintf(tt_lang, sizeof(tt_lang), "TT_LANG=%s", o->lang);
    else
        envp[2] = NULL;
    clock_gettime(CLOCK_MONOTONIC, &l->t0);
    if ((err = posix_spawn(&l->pid, l->command, &fa, &attr, argv, envp))) {
        l->pid = -1;
        spawn_error(diag, command, err);
        reported = true;
        goto out;
    }
    l->out_fd = out[0];
    l->err_fd = errp[0];
    out[0] = errp[0] = -1;
    *lp = l;
    l = NULL;
out:
    if (fa_ready)
        posix_spawn_file_actions_destroy(&fa);
    if (attr_ready)
        posix_spawnattr_destroy(&attr);
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (out[i] >= 0)
            close(out[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    if (l) {
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
    return l && !l->done ? l->out_fd : -1;
}

int tt_lookup_timeout_ms(const struct tt_lookup *l)
{
    if (!l || l->done)
        return 0;
    tt_ms now = elapsed_ms(l);
    tt_ms wait = BEAT_MS;
    /* Output has ended: the command is almost always exiting this very moment, so look again
     * soon, then back off towards the beat in case it closed its output and carries on. */
    if (l->out_fd < 0 && l->eof_at >= 0) {
        wait = (now - l->eof_at) / 2;
        wait = wait < 1 ? 1 : wait > BEAT_MS ? BEAT_MS : wait;
    }
    tt_ms left = l->limit_ms - now;
    if (left < wait)
        wait = left > 0 ? left : 0;
    return (int)wait;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
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
            close_fd(&l->out_fd);
            l->eof_at = elapsed_ms(l);
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

/* Wait (briefly: it has been sent SIGKILL or has already exited) for the command to be
 * reaped. Returns its wait status, or -1 if it could not be reaped. */
static int reap(struct tt_lookup *l)
{
    int ws = 0;
    for (int i = 0; i < REAP_WAIT_MS; i++) {
        pid_t r = waitpid(l->pid, &ws, WNOHANG);
        if (r == l->pid || (r < 0 && errno != EINTR))
            return r == l->pid ? ws : -1;
        if (r == 0) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    tt_diag_add(l->diag, TT_WARNING, NULL, 0,
                "lookup = %s: process %ld did not go after it was killed", l->command,
                (long)l->pid);
    return -1;
}

/* Kill the command's whole group. Called only while the leader is unreaped (running, or a
 * zombie), so its id still names this group and no other. */
static void kill_group(struct tt_lookup *l)
{
    kill(-l->pid, SIGKILL);
    kill(l->pid, SIGKILL); /* in case it left its group (setpgid) to escape the first kill */
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

static void finish(struct tt_lookup *l, int ws, bool timed_out, int sys_err)
{
    char *said = NULL;
    l->done = true;
    close_fd(&l->out_fd);
    close_fd(&l->err_fd);
    said = err_excerpt(l);
    const char *s = said ? said : "";

    if (timed_out) {
        l->status = TT_LOOKUP_TIMEOUT;
        tt_diag_add(l->diag, TT_WARNING, NULL, 0,
                    "lookup = %s: no answer within %.1f s: it was stopped.%s", l->command,
                    (double)l->limit_ms / 1000.0, s);
    } else if (sys_err) {
        l->status = TT_LOOKUP_FAILED;
        tt_diag_add(l->diag, TT_WARNING, NULL, 0, "lookup = %s: %s.%s", l->command,
                    sys_err == ECHILD ? "its exit status was lost (is SIGCHLD ignored?)"
                                      : strerror(sys_err),
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

int tt_lookup_poll(struct tt_lookup *l, bool *done)
{
    int err = 0;
    if (l->done)
        goto out;
    err = read_out(l, READ_BUDGET);
    read_err(l, READ_BUDGET);
    if (err) {
        kill_group(l);
        reap(l);
        finish(l, 0, false, err);
        goto out;
    }

    siginfo_t si;
    memset(&si, 0, sizeof(si));
    if (waitid(P_PID, (id_t)l->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 && errno != EINTR) {
        err = errno;
        finish(l, 0, false, err); /* ECHILD: reaped by someone else; nothing left to kill */
        goto out;
    }
    if (si.si_pid == l->pid) {
        /* It has ended (a zombie, not yet reaped): end what it left behind, take the last of
         * its output (all in the pipe now, a pipe's worth at most), then reap it. */
        kill_group(l);
        read_out(l, FINAL_BUDGET);
        read_err(l, FINAL_BUDGET);
        int ws = reap(l);
        finish(l, ws < 0 ? 0 : ws, false, ws < 0 ? ECHILD : 0);
    } else if (elapsed_ms(l) >= l->limit_ms) {
        kill_group(l);
        reap(l);
        finish(l, 0, true, 0);
    }
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
    return l->pid;
}

void tt_lookup_free(struct tt_lookup *l)
{
    if (!l)
        return;
    if (!l->done && l->pid > 0) {
        kill_group(l);
        reap(l);
    }
    close_fd(&l->out_fd);
    close_fd(&l->err_fd);
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
