/*
 * The lookup's reaper (see lookup_reaper.h for why it exists and how the host talks to it).
 *
 * Two halves live here. The host half (tt_reaper_*) forks the reaper, reads its records and
 * reaps it; it is ordinary library code. The reaper half (everything static below
 * reaper_main) runs in the forked process of a possibly multithreaded host, where another
 * thread may have held a lock of malloc or stdio at the moment of the fork: so it uses
 * system calls and its own stack only. Numbers are formatted and parsed by hand for the
 * same reason.
 *
 * The price of a forked reaper: the fork copies the host's page tables, a few milliseconds
 * per hundred megabytes the host has resident, and a host thread that faults a page
 * meanwhile waits for it. posix_spawn avoided the copy, but cannot run code of ours; a reaper
 * exec'd from a helper program of its own would avoid it too, at the cost of installing and
 * finding that program.
 *
 * The reaper's life:
 *   set up    die with the host (PR_SET_PDEATHSIG, checked against getppid(): it also fires
 *             when only the host thread that forked us ends); become a subreaper; keep only
 *             its own descriptors; all signals stay blocked and SIGCHLD, SIGHUP and SIGTERM
 *             are read from a signalfd, so no handler of the host's can ever run here.
 *   start     clone the command (sharing memory until exec, as posix_spawn does), which
 *             resets its signals and descriptors and execs; a close-on-exec pipe carries
 *             exec's errno back if it fails.
 *   watch     until the command exits, the deadline passes, the control pipe is readable
 *             (a byte, or end of file: the host closed it or died), or SIGTERM.
 *   end       SIGKILL the command's group while its leader is unreaped (so the id names no
 *             one else's group), then, round after round, reap the dead and SIGKILL every
 *             live child and the group it leads: the orphans of the killed are re-parented
 *             to us and killed in the next round. Done when waitpid says ECHILD; given up
 *             (and the survivors counted) after TT_REAPER_GIVE_UP_MS, for a process stuck in
 *             the kernel that no signal can end.
 */
#define _GNU_SOURCE /* _Fork, clone, close_range, getdents64, pipe2 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lookup/lookup_reaper.h"

/* One record on the status pipe. 16 bytes: far below PIPE_BUF, so each is written whole and
 * read whole. */
struct record {
    int32_t kind; /* one of the REC_ values */
    int32_t a;    /* STARTED: the command's pid; NOT_STARTED: an errno; ENDED: how */
    int32_t b;    /* ENDED: the command's wait status */
    int32_t c;    /* ENDED: processes left alive */
};

enum { REC_STARTED = 1, REC_NOT_STARTED, REC_ENDED };

/* The reaper's descriptors once settled: the host's pipes and the command's three. */
enum { FD_CTL = 3, FD_STATUS, FD_IN, FD_OUT, FD_ERR, FD_COUNT = 5 };

#define END_ROUND_MS 10 /* the longest wait for a SIGCHLD between two rounds of killing */
#define COMMAND_STACK (256 << 10) /* the command's stack from clone to exec: a few calls deep,
                                   * with room for a sanitizer's redzones */

/* ---- the reaper (async-signal-safe from here to reaper_main) ------------------------------ */

static void send_record(int fd, int kind, int a, int b, int c)
{
    struct record r = {kind, a, b, c};
    while (write(fd, &r, sizeof(r)) < 0 && errno == EINTR)
        ;
}

/* Milliseconds until t on CLOCK_MONOTONIC, rounded up (so a wait never ends just short of
 * it and spins); 0 once it has passed. */
static long long ms_until(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ns = (long long)(t->tv_sec - now.tv_sec) * 1000000000 + (t->tv_nsec - now.tv_nsec);
    return ns <= 0 ? 0 : (ns + 999999) / 1000000;
}

/* Close every descriptor from lo to hi (inclusive). */
static void close_span(int lo, int hi)
{
    if (lo > hi)
        return;
    if (close_range((unsigned)lo, (unsigned)hi, 0) == 0)
        return;
    /* A kernel older than 5.9: one by one, up to the descriptor limit (bounded, because a
     * limit may be huge and each close is a system call). */
    struct rlimit rl;
    int max = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)max)
        max = (int)rl.rlim_cur;
    for (int fd = lo; fd <= hi && fd < max; fd++)
        close(fd);
}

/* Move the reaper's descriptors to FD_CTL..FD_ERR, close all else (the host's audio device,
 * sockets, other lookups' pipes: holding them would keep them open behind the host's back),
 * and put /dev/null on 0, 1 and 2. On failure the descriptors in fd[] are still valid. */
static int settle_fds(int fd[FD_COUNT])
{
    int base = FD_CTL + FD_COUNT;
    for (int i = 0; i < FD_COUNT; i++)
        if (fd[i] >= base)
            base = fd[i] + 1;
    /* First above all of them, so that moving one down can never overwrite another. */
    for (int i = 0; i < FD_COUNT; i++) {
        int d = fcntl(fd[i], F_DUPFD, base);
        if (d < 0)
            return errno;
        fd[i] = d;
    }
    for (int i = 0; i < FD_COUNT; i++)
        if (dup2(fd[i], FD_CTL + i) < 0)
            return errno;
    close_span(FD_CTL + FD_COUNT, INT_MAX);
    for (int i = 0; i < FD_COUNT; i++)
        fd[i] = FD_CTL + i;
    int null = open("/dev/null", O_RDWR);
    for (int i = 0; i < 3; i++)
        if (null < 0 || dup2(null, i) < 0)
            close(i);
    if (null > 2)
        close(null);
    return 0;
}

/* What the command's side of the clone needs to know. */
struct command_args {
    const struct tt_reaper_job *job;
    int errfd;    /* exec's errno goes here if it fails */
    pid_t reaper; /* its parent */
};

/* The command's side of the clone: a process group of its own, its standard descriptors and
 * nothing else, every signal at its default and none blocked, then exec. It shares the
 * reaper's memory until then (CLONE_VM), so it writes nothing but its own stack, and errno. */
__attribute__((noreturn)) static int command_main(void *arg)
{
    const struct command_args *a = arg;
    const struct tt_reaper_job *job = a->job;
    int errfd = a->errfd;
    pid_t reaper = a->reaper;
    int err;
    setpgid(0, 0);
    /* Should the reaper itself be killed (SIGKILL can't be caught), the command goes with
     * it rather than run on unwatched. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != reaper)
        _exit(127);
    if (dup2(FD_IN, 0) < 0 || dup2(FD_OUT, 1) < 0 || dup2(FD_ERR, 2) < 0)
        goto fail;
    close_span(3, errfd - 1);
    close_span(errfd + 1, INT_MAX);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &dfl, NULL); /* glibc's own two refuse: exec resets them anyway */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(job->path, job->argv, job->envp);
fail:
    err = errno;
    while (write(errfd, &err, sizeof(err)) < 0 && errno == EINTR)
        ;
    _exit(127);
}

/* Wait for the reason to end: the command's exit, the deadline, the host, or SIGTERM. */
static int watch(int sfd, pid_t command, const struct timespec *deadline, pid_t host)
{
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        /* WNOWAIT: the command stays a zombie, so its id still names its group at the end. */
        if (waitid(P_PID, (id_t)command, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
            return TT_REAPER_ASKED; /* cannot happen to our own child; end it to be safe */
        if (si.si_pid == command)
            return TT_REAPER_EXITED;
        long long left = ms_until(deadline);
        if (left == 0)
            return TT_REAPER_LIMIT;
        struct pollfd p[2] = {{.fd = FD_CTL, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        int n = poll(p, 2, left > INT_MAX ? INT_MAX : (int)left);
        if (n < 0 && errno != EINTR)
            return TT_REAPER_ASKED;
        if (n > 0 && p[0].revents)
            return TT_REAPER_ASKED; /* a byte, or the end: the host is done with this lookup */
        if (n > 0 && p[1].revents) {
            struct signalfd_siginfo ss;
            while (read(sfd, &ss, sizeof(ss)) == (ssize_t)sizeof(ss)) {
                if (ss.ssi_signo == SIGTERM)
                    return TT_REAPER_ASKED;
                /* PR_SET_PDEATHSIG fires when the thread that forked us ends, which is not
                 * the host's end if other threads go on: then our parent is still the host. */
                if (ss.ssi_signo == SIGHUP && getppid() != host)
                    return TT_REAPER_ASKED;
            }
        }
    }
}

/* "123/stat" for a process id given as its /proc name. */
static bool stat_path(const char *name, char *path, size_t size)
{
    size_t n = strlen(name);
    if (n == 0 || n + sizeof("/stat") > size)
        return false;
    for (size_t i = 0; i < n; i++)
        if (name[i] < '0' || name[i] > '9')
            return false;
    memcpy(path, name, n);
    memcpy(path + n, "/stat", sizeof("/stat"));
    return true;
}

/* The state and parent of a process from its /proc stat line ("pid (name) S ppid ..."; the
 * name may hold spaces and parentheses, so the last ')' ends it). */
static bool read_stat(int proc, const char *path, char *state, pid_t *ppid)
{
    char buf[512];
    int fd = openat(proc, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    char *p = NULL;
    for (ssize_t i = n - 1; i >= 0; i--)
        if (buf[i] == ')') {
            p = buf + i;
            break;
        }
    if (!p || p + 4 >= buf + n || p[1] != ' ' || p[3] != ' ')
        return false;
    *state = p[2];
    long v = 0;
    const char *q = p + 4;
    if (*q < '0' || *q > '9')
        return false;
    while (q < buf + n && *q >= '0' && *q <= '9')
        v = v * 10 + (*q++ - '0');
    *ppid = (pid_t)v;
    return true;
}

/* SIGKILL every live child of ours, and the process group each leads if it leads one (a
 * child that called setsid does: the whole of its session goes at once). Our children are
 * unreaped, so their ids name no one else. Returns how many were alive; -1 if /proc cannot
 * be read. */
static int kill_children(pid_t self)
{
    int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proc < 0)
        return -1;
    int alive = 0;
    char buf[4096] __attribute__((aligned(8)));
    ssize_t n;
    while ((n = getdents64(proc, buf, sizeof(buf))) > 0) {
        for (ssize_t off = 0; off < n;) {
            struct dirent64 *d = (struct dirent64 *)(void *)(buf + off);
            off += d->d_reclen;
            char path[32], state;
            pid_t pid = 0, ppid = 0;
            if (!stat_path(d->d_name, path, sizeof(path)) ||
                !read_stat(proc, path, &state, &ppid) || ppid != self || state == 'Z' ||
                state == 'X')
                continue;
            for (const char *c = d->d_name; *c; c++)
                pid = pid * 10 + (*c - '0');
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            alive++;
        }
    }
    close(proc);
    return alive;
}

/* End everything below us; the command's wait status goes to *status. Returns how many
 * processes were still alive when we gave up (0: none left). */
static int end_all(pid_t command, int sfd, int *status)
{
    struct timespec give_up;
    clock_gettime(CLOCK_MONOTONIC, &give_up);
    give_up.tv_sec += TT_REAPER_GIVE_UP_MS / 1000;
    give_up.tv_nsec += (TT_REAPER_GIVE_UP_MS % 1000) * 1000000L;
    if (give_up.tv_nsec >= 1000000000L) {
        give_up.tv_sec++;
        give_up.tv_nsec -= 1000000000L;
    }
    kill(-command, SIGKILL); /* its group, while the leader is unreaped */
    kill(command, SIGKILL);  /* in case it left its group */
    pid_t self = getpid();
    for (;;) {
        int ws;
        pid_t p;
        while ((p = waitpid(-1, &ws, WNOHANG)) > 0)
            if (p == command)
                *status = ws;
        if (p < 0 && errno == ECHILD)
            return 0;
        /* After the reaping: a parent's orphans are ours before it can be reaped. */
        int alive = kill_children(self);
        if (ms_until(&give_up) == 0)
            return alive > 0 ? alive : 1;
        struct pollfd pf = {.fd = sfd, .events = POLLIN};
        if (poll(&pf, 1, END_ROUND_MS) > 0) {
            struct signalfd_siginfo ss;
            while (read(sfd, &ss, sizeof(ss)) == (ssize_t)sizeof(ss))
                ;
        }
    }
}

__attribute__((noreturn)) static void reaper_main(const struct tt_reaper_job *job, int ctl,
                                                  int st, pid_t host)
{
    int fd[FD_COUNT] = {ctl, st, job->fd[0], job->fd[1], job->fd[2]};
    int err = 0;
    /* SIGHUP, read from the signalfd below; the control pipe is the first witness. */
    prctl(PR_SET_PDEATHSIG, SIGHUP);
    if (getppid() != host)
        _exit(0); /* the host is gone already, and nothing was started */
    prctl(PR_SET_NAME, "tonetree-reaper"); /* what ps and top show for it (15 bytes max) */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        err = errno;
        goto fail;
    }
    /* A host may ignore SIGCHLD; then our children would leave no status and no zombie. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &dfl, NULL);
    if ((err = settle_fds(fd)))
        goto fail;

    /* Every signal is blocked (the host blocked them around the fork); these three are read. */
    sigset_t watched;
    sigemptyset(&watched);
    sigaddset(&watched, SIGCHLD);
    sigaddset(&watched, SIGHUP);
    sigaddset(&watched, SIGTERM);
    int sfd = signalfd(-1, &watched, SFD_CLOEXEC | SFD_NONBLOCK);
    int execp[2];
    if (sfd < 0 || pipe2(execp, O_CLOEXEC) != 0) {
        err = errno;
        goto fail;
    }
    /* The command is cloned as posix_spawn does it: sharing our memory (CLONE_VM) on a stack
     * of its own, with us suspended until it has exec'd (CLONE_VFORK). A fork would copy the
     * page tables of the whole host a second time (ours are a copy of the host's), which in
     * a host holding hundreds of megabytes of audio costs milliseconds. */
    void *stack = mmap(NULL, COMMAND_STACK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        err = errno;
        goto fail;
    }
    struct command_args args = {job, execp[1], getpid()};
    pid_t command = clone(command_main, (char *)stack + COMMAND_STACK,
                          CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
    err = command < 0 ? errno : 0;
    munmap(stack, COMMAND_STACK);
    if (err)
        goto fail;
    setpgid(command, command); /* as the child does: the group exists before either goes on */
    close(execp[1]);
    close(FD_IN);
    close(FD_OUT);
    close(FD_ERR);
    int exec_err = 0;
    ssize_t n;
    while ((n = read(execp[0], &exec_err, sizeof(exec_err))) < 0 && errno == EINTR)
        ;
    close(execp[0]);
    if (n == (ssize_t)sizeof(exec_err)) { /* exec failed: nothing else can have started */
        int ws;
        while (waitpid(command, &ws, 0) < 0 && errno == EINTR)
            ;
        err = exec_err;
        goto fail;
    }
    send_record(FD_STATUS, REC_STARTED, command, 0, 0);

    int how = watch(sfd, command, &job->deadline, host);
    int status = 0;
    int left = end_all(command, sfd, &status);
    send_record(FD_STATUS, REC_ENDED, how, status, left);
    _exit(0);
fail:
    send_record(fd[1], REC_NOT_STARTED, err ? err : EIO, 0, 0);
    _exit(0);
}

/* ---- the host's half ----------------------------------------------------------------------- */

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Read one whole record, waiting up to ms (-1: no limit). 0, ETIMEDOUT, EPIPE (the reaper
 * is gone), or the errno of poll or read. */
static int read_record(int fd, struct record *rec, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n;
    while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return errno;
    if (n == 0)
        return ETIMEDOUT;
    ssize_t got;
    while ((got = read(fd, rec, sizeof(*rec))) < 0 && errno == EINTR)
        ;
    if (got < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : errno;
    return got == (ssize_t)sizeof(*rec) ? 0 : EPIPE;
}

int tt_reaper_start(struct tt_reaper *r, const struct tt_reaper_job *job)
{
    int ctl[2] = {-1, -1}, st[2] = {-1, -1}, err = 0;
    r->pid = r->command = -1;
    r->ctl = r->status = r->pidfd = -1;
    if (pipe2(ctl, O_CLOEXEC) != 0 || pipe2(st, O_CLOEXEC) != 0) {
        err = errno;
        goto out;
    }
    /* Blocked in the reaper from its first instruction: a signal arriving then must not run
     * a handler of the host's in it. (This thread's mask only, and put back at once.) */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t host = getpid();
    pid_t pid = _Fork();
    if (pid == 0)
        reaper_main(job, ctl[0], st[1], host);
    err = pid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err)
        goto out;
    r->pid = pid;
    r->ctl = ctl[1];
    r->status = st[0];
    ctl[1] = st[0] = -1;
    r->pidfd = pidfd_open(pid, 0); /* -1 on a kernel without: tt_reaper_finish then polls */

    /* exec's verdict. The reaper only runs system calls before it, so it comes at once;
     * the bound is for a reaper stopped from outside, which must not hang the host. */
    struct record rec;
    long long ms = ms_until(&job->deadline) + TT_REAPER_GIVE_UP_MS;
    err = read_record(r->status, &rec, ms > INT_MAX ? INT_MAX : (int)ms);
    if (!err && rec.kind == REC_STARTED && rec.a > 0)
        r->command = rec.a;
    else if (!err && rec.kind == REC_NOT_STARTED)
        err = rec.a > 0 ? rec.a : EIO;
    else if (!err)
        err = EPROTO;
    if (!err && fcntl(r->status, F_SETFL, O_NONBLOCK) != 0)
        err = errno;
    if (err)
        tt_reaper_finish(r, TT_REAPER_GIVE_UP_MS);
out:
    close_fd(&ctl[0]);
    close_fd(&ctl[1]);
    close_fd(&st[0]);
    close_fd(&st[1]);
    return err;
}

int tt_reaper_ended(struct tt_reaper *r, struct tt_reaper_end *end)
{
    struct record rec;
    if (r->status < 0)
        return EPIPE;
    int err = read_record(r->status, &rec, 0);
    if (err == ETIMEDOUT)
        return 0;
    if (err || rec.kind != REC_ENDED)
        return EPIPE;
    end->how = rec.a;
    end->status = rec.b;
    end->left = rec.c;
    return 1;
}

void tt_reaper_stop(struct tt_reaper *r)
{
    close_fd(&r->ctl);
}

/* Reap the reaper if it has exited: true when it is gone (reaped here, or by someone else:
 * a host that ignores SIGCHLD has its children reaped by the kernel). */
static bool reaped(pid_t pid)
{
    int ws;
    pid_t p;
    while ((p = waitpid(pid, &ws, WNOHANG)) < 0 && errno == EINTR)
        ;
    return p == pid || (p < 0 && errno == ECHILD);
}

bool tt_reaper_finish(struct tt_reaper *r, int wait_ms)
{
    bool by_itself = true;
    if (r->pid <= 0)
        goto out;
    tt_reaper_stop(r);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!reaped(r->pid)) {
        long long left = ms_until(&until);
        if (left == 0) {
            /* Stopped from outside, or stuck: kill it (through the pidfd when there is one,
             * which can never reach a stranger that reused the id). */
            if (r->pidfd < 0 || pidfd_send_signal(r->pidfd, SIGKILL, NULL, 0) != 0)
                kill(r->pid, SIGKILL);
            while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
                ;
            by_itself = false;
            break;
        }
        if (r->pidfd >= 0) {
            struct pollfd p = {.fd = r->pidfd, .events = POLLIN};
            poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        } else {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    r->pid = -1;
out:
    close_fd(&r->ctl);
    close_fd(&r->status);
    close_fd(&r->pidfd);
    return by_itself;
}
