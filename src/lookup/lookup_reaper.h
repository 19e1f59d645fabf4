/*
 * The lookup's reaper: a small process of ours that stands between the host and a court's
 * lookup command, so that everything the command starts can be ended, however it tries to
 * get away (a new process group, setsid, a double fork, a daemon).
 *
 * Why a process of our own: a process group is left with one setsid(); a cgroup would hold
 * everything, but needs a delegated, writable cgroup that a kiosk's service user usually
 * does not have; PR_SET_CHILD_SUBREAPER does what is needed without privileges, but it is
 * process-wide state, and a library must not change that in its host. So the reaper is a
 * process forked for the purpose that marks *itself* a subreaper: whatever the command
 * starts stays below it, because an orphan is re-parented to its nearest subreaper, not to
 * init. At the end the reaper kills its children and reaps them, round after round (the
 * orphans of the killed come to it), until it has none.
 *
 * The host talks to it through two pipes. Control (host to reaper): closing it, or the host
 * dying, which closes it too, ends the lookup. Status (reaper to host): a STARTED or
 * NOT_STARTED record when exec has succeeded or failed, then an ENDED record once nothing
 * the command started is left, then end of file when the reaper exits. The reaper never
 * waits for the host: it writes two records of 16 bytes, and a pipe holds far more.
 *
 * Threads: tt_reaper_start may be called on any thread of a multithreaded host. The reaper
 * is created with _Fork and, from then to its exit, calls only async-signal-safe functions
 * (system calls: no malloc, no stdio, no locks, no atfork handlers).
 */
#ifndef TT_LOOKUP_REAPER_H
#define TT_LOOKUP_REAPER_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

/* What the reaper is to run. Everything here is prepared by the host before the fork. */
struct tt_reaper_job {
    const char *path;          /* absolute path of the command */
    char *const *argv;         /* its arguments */
    char *const *envp;         /* its whole environment */
    int fd[3];                 /* its standard input, output and error (the host's ends) */
    struct timespec deadline;  /* CLOCK_MONOTONIC: ended then if still running */
};

/* How a lookup ended, as the reaper saw it. */
enum tt_reaper_how {
    TT_REAPER_EXITED = 1, /* the command exited by itself: status is its wait status */
    TT_REAPER_LIMIT,      /* the deadline passed with the command still running */
    TT_REAPER_ASKED       /* the host closed the control pipe (or died), or SIGTERM */
};

struct tt_reaper_end {
    int how;    /* enum tt_reaper_how */
    int status; /* the command's wait status (meaningful when EXITED) */
    int left;   /* processes still alive when the reaper gave up on them (0: none) */
};

struct tt_reaper {
    pid_t pid;     /* the reaper (a child of the host) */
    pid_t command; /* the command (the leader of a process group of its own) */
    int ctl;       /* control pipe, write end: close it to end the lookup */
    int status;    /* status pipe, read end, non-blocking */
    int pidfd;     /* readable once the reaper has exited; -1 where the system has none */
};

/**
 * Fork a reaper, which starts the job's command, and wait for exec's verdict.
 * The job's descriptors stay open in the host: close them once this returns.
 * @return 0 (the command runs); the errno of a failed exec (ENOENT, EACCES, ENOEXEC, ...);
 *         or the errno of a failed pipe, fork or set-up (EAGAIN, EMFILE, ...)
 */
int tt_reaper_start(struct tt_reaper *r, const struct tt_reaper_job *job);

/**
 * Take the ENDED record, without blocking.
 * @return 1 with *end filled; 0 when it has not come yet; EPIPE when the reaper is gone
 *         without sending it (killed from outside)
 */
int tt_reaper_ended(struct tt_reaper *r, struct tt_reaper_end *end);

/** Ask the reaper to end the lookup now (it then sends ENDED, with TT_REAPER_ASKED). */
void tt_reaper_stop(struct tt_reaper *r);

/**
 * Ask it to stop if not done, wait up to wait_ms for it to exit, reap it, and close its
 * descriptors. A reaper still there after wait_ms is killed (SIGKILL) and reaped.
 * @return true if it exited by itself
 */
bool tt_reaper_finish(struct tt_reaper *r, int wait_ms);

/** How long a reaper may spend ending what a command started before it gives up (ms). Only a
 *  process stuck in the kernel should take that long; 3 s was not enough on a loaded machine
 *  (a 255-process fork tree under CPU and disk-sync stress, some of it mid-exec: 3 left). */
#define TT_REAPER_GIVE_UP_MS 10000

#endif
