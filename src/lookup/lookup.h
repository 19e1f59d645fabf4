/*
 * Lookups: a menu node takes digits from the caller ("Enter your case number, then press
 * pound") and hands them to a court's own command (`lookup = /usr/local/lib/court/hearing-date`),
 * whose standard output is spoken and shown in the transcript.
 *
 * The command is someone else's program, run on a kiosk that a person in danger may be using,
 * so it is fenced in on every side:
 *   - no shell, and the entry in no argument list: the command is started directly with argv
 *     {command} alone, and reads the entry on its standard input (the digits and a newline,
 *     then end of file). Arguments are shown by `ps` to every local user; a pipe is not. The
 *     entry must be digits only, so nothing the caller types can ever be interpreted;
 *   - no secrets: its environment is PATH=/usr/bin:/bin, LANG=C.UTF-8 and TT_LANG, nothing
 *     else, and it inherits no open file but its three pipes, no ignored or blocked signal;
 *   - bounded time, for everything it starts: it runs below a reaper, a small process of
 *     ours that is its parent and a child subreaper (PR_SET_CHILD_SUBREAPER). Whatever the
 *     command starts stays below the reaper even if it calls setsid or double-forks, because
 *     orphans are re-parented to the nearest subreaper. When the command exits, or at the
 *     limit, the reaper kills (SIGKILL) and reaps every process below it, round after round,
 *     until none is left. The reaper, not a cgroup: cgroup v2 would need a delegated,
 *     writable cgroup, which a kiosk's service user usually does not have; and not the host
 *     made a subreaper: that is process-wide state, which a library must not change in the
 *     program that embeds it. The reaper dies with the host (its control pipe ends, and
 *     PR_SET_PDEATHSIG), ending the lookup first (lookup_reaper.h);
 *   - bounded output: at most max_output bytes are kept (the rest is read and thrown away, so
 *     the command never blocks on a full pipe; both pipes are read as data arrives), and what
 *     is kept is cleaned before anyone hears or sees it: valid UTF-8 only, no control
 *     characters, one line, spaces collapsed.
 *
 * Only a successful command's output is ever spoken (exit status 0 and something left after
 * cleaning). Exit status 1 means "nothing found for this entry" (grep's convention); anything
 * else is a failure. The caller speaks a kind message of its own for every outcome but OK.
 *
 * Nothing here blocks but tt_lookup_run, tt_lookup_start (until exec has succeeded or
 * failed, as posix_spawn does) and tt_lookup_free (until everything the command started is
 * gone): a live driver (the kiosk) starts a lookup, adds tt_lookup_fd() to its poll() set
 * with a timeout no longer than tt_lookup_timeout_ms(), and calls tt_lookup_poll() whenever
 * it wakes, until done. The limit is measured on CLOCK_MONOTONIC inside this module: this is
 * driver-side code, not the pure session. A lookup may be started, polled and freed on any
 * thread, one thread at a time.
 *
 * Messages (a command that cannot be run, a failure with what the command wrote on its
 * standard error, a cut output) go to the caller's tt_diag. They name the command, never the
 * entry: a case number is the caller's own business, and every piece of it in the command's
 * standard error is hidden before it reaches a log (tt_lookup_hide_entry).
 */
#ifndef TT_LOOKUP_H
#define TT_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tonetree.h"

#define TT_LOOKUP_LIMIT_MS 5000   /* default time limit */
#define TT_LOOKUP_MAX_OUTPUT 2000 /* default bytes of output kept: about two minutes of speech */
#define TT_LOOKUP_MAX_ENTRY 64    /* digits; a keypad entry longer than this is a mistake */

struct tt_lookup_opts {
    tt_ms limit_ms;    /* killed after this long (0: TT_LOOKUP_LIMIT_MS) */
    size_t max_output; /* bytes of standard output kept (0: TT_LOOKUP_MAX_OUTPUT) */
    const char *lang;  /* the listener's language code, given as TT_LANG (NULL: none), so the
                        * answer can be in their language; letters and '-' only */
};

enum tt_lookup_status {
    TT_LOOKUP_RUNNING, /* not done yet */
    TT_LOOKUP_OK,      /* exit status 0 and something to say: tt_lookup_text */
    TT_LOOKUP_FAILED,  /* exit status 2 or more, or ended by a signal it was not sent by us */
    TT_LOOKUP_TIMEOUT, /* still running at the limit: it and all it started were killed */
    TT_LOOKUP_EMPTY    /* exit status 1 (nothing found for the entry), or 0 with nothing to say */
};

struct tt_lookup;

/**
 * Check a menu's lookup value without running it: an absolute path to an executable file.
 * @return 0, EINVAL (not absolute), ENOENT, EACCES (a folder, not a regular file, or not
 *         executable); the message says which and what to do
 */
int tt_lookup_check_command(const char *command, tt_diag *diag);

/**
 * Start a lookup: run `command` (no shell, no arguments) under a reaper, with the entry and
 * a newline on its standard input, without waiting for it to answer.
 * @param lp      set to the running lookup on success (free with tt_lookup_free)
 * @param command absolute path of an executable file
 * @param entry   the caller's digits: 1 to TT_LOOKUP_MAX_ENTRY of '0'-'9', nothing else
 * @param o       NULL for the defaults
 * @return 0; EINVAL for an entry that is not digits or a command that is not an absolute
 *         path; ENOENT, EACCES or ENOEXEC for a command that cannot be run; ENOMEM, EMFILE,
 *         EAGAIN when the system is out of something. Every error but EINVAL for the entry
 *         adds a message to diag.
 */
int tt_lookup_start(struct tt_lookup **lp, const char *command, const char *entry,
                    const struct tt_lookup_opts *o, tt_diag *diag);

/** The descriptor to poll() for POLLIN, or -1 once done. It is readable whenever there is
 *  something to do: output on either pipe, or the end of the lookup. */
int tt_lookup_fd(const struct tt_lookup *l);

/** The longest a driver may sleep before calling tt_lookup_poll again (ms; 0 when done):
 *  the time left to the limit, which is the one event the descriptor does not show. */
int tt_lookup_timeout_ms(const struct tt_lookup *l);

/**
 * Read what output there is, take the end when the reaper reports it, ask for the end at
 * the limit. Never blocks (but for a bounded wait, in practice microseconds, for the
 * reaper to exit once it has reported).
 * @param done  set to true once the status is final
 * @return 0, or an errno from the system (the lookup is then done, as FAILED)
 */
int tt_lookup_poll(struct tt_lookup *l, bool *done);

enum tt_lookup_status tt_lookup_status(const struct tt_lookup *l);

/** The cleaned output to speak when the status is OK; "" otherwise (never NULL). */
const char *tt_lookup_text(const struct tt_lookup *l);

/** The command's process id (its group's id too, while it runs); tests use it. */
pid_t tt_lookup_pid(const struct tt_lookup *l);

/** End the command and all it started if still running (waiting for that, a few
 *  milliseconds in practice), close everything, free. NULL is fine. */
void tt_lookup_free(struct tt_lookup *l);

/**
 * Run a lookup to its end, blocking (render, tests).
 * @param st    the outcome
 * @param text  if not NULL: set to the text to speak (caller frees) when *st is OK, else NULL
 * @return 0 when the command ran (whatever its outcome: see *st), or tt_lookup_start's error
 */
int tt_lookup_run(const char *command, const char *entry, const struct tt_lookup_opts *o,
                  enum tt_lookup_status *st, char **text, tt_diag *diag);

/**
 * Clean bytes for speech and display, in place: invalid UTF-8 and control characters dropped,
 * line breaks and tabs turned into spaces, runs of spaces collapsed, both ends trimmed.
 * @return the new length (the text is NUL-terminated; buf must have room for len + 1)
 */
size_t tt_lookup_clean(char *buf, size_t len);

/**
 * Hide every piece of entry in text bound for a log: no 4 digits in a row of the entry
 * survive, however separated ("2031-0001", "2 0 3 1", "(2031) 0001"); each hidden run
 * becomes "[entry]". Separators are whatever is not an ASCII letter or digit; a letter ends
 * a number, so unrelated numbers ("hearings.csv:12:") stay. An entry of fewer than 4 digits
 * is hidden where it is a whole number by itself. See lookup_hide.c for the reasoning.
 * @return a new string (caller frees), or NULL when out of memory
 */
char *tt_lookup_hide_entry(const char *text, size_t len, const char *entry);

/** What a lookup's ending means to the session (found, nothing found, not working). */
enum tt_answer tt_lookup_answer(enum tt_lookup_status st);

#endif
