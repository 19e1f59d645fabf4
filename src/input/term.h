/*
 * Terminal keys: a plain keyboard, or a USB numeric keypad seen as a keyboard, read from a tty.
 *
 * The terminal is put in raw mode (no echo, no line editing, no signals from Ctrl-C) so that
 * each key arrives at once, and every byte or escape sequence waiting is turned into engine
 * keys ('0'-'9', '*', '#', enum tt_key). The mapping is in docs/keymaps.md. Ctrl-C and
 * Ctrl-\ do not reach the session: they come back as "quit", for the program to end itself.
 *
 * Whatever way the program ends (tt_term_close, exit(), or a fatal signal: SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT, SIGABRT, SIGSEGV), the terminal gets its saved settings back; a stop
 * (SIGTSTP) gives them back too, and a continue (SIGCONT) goes raw again. Signal handlers are
 * only installed for signals whose action is still the default: a program that handles a
 * signal itself must call tt_term_close (or exit()) from there.
 *
 * A descriptor that is not a terminal (a pipe, a file: tests, scripted input) is read the
 * same way in "line mode": its settings are not touched, and the end of the input is "quit".
 */
#ifndef TT_TERM_H
#define TT_TERM_H

#include <stdbool.h>
#include <stddef.h>

#include "tonetree.h"

struct tt_term;

/* How long a lone Escape waits for the rest of a sequence before it counts as the exit key:
 * terminals send a whole sequence at once, so only a slow link ever needs more than a few ms. */
#define TT_TERM_ESC_WAIT_MS 50

/**
 * Start reading keys from fd (which stays the caller's: close does not close it).
 * @param tp    set to the reader on success
 * @param fd    a terminal (put in raw mode) or anything else (read as it is: line mode)
 * @param diag  receives what went wrong, or NULL
 * @return 0, EBADF for a closed fd, EBUSY when four terminals are already raw, ENOMEM, or the
 *         errno of tcgetattr/tcsetattr
 */
int tt_term_open(struct tt_term **tp, int fd, tt_diag *diag);
/** The descriptor, to poll() for input. */
int tt_term_fd(const struct tt_term *t);
/** True when the terminal was put in raw mode; false in line mode. */
bool tt_term_is_raw(const struct tt_term *t);
/**
 * Decode every key waiting, without blocking (except up to TT_TERM_ESC_WAIT_MS after a lone
 * Escape). Unknown bytes and sequences are dropped; a sequence cut between two reads is kept
 * and finished by the next call.
 * @param keys  receives up to max keys
 * @param quit  set when Ctrl-C or Ctrl-\ was pressed (the keys before it are still returned),
 *              or, in line mode, when the input has ended and every key in it was returned
 * @return the number of keys stored (0 when none is waiting), or a negative errno: -EIO when
 *         the terminal is gone (hung up). When it returns max, call again at once: more keys
 *         may be waiting that poll() on the fd will not show.
 */
int tt_term_read(struct tt_term *t, int *keys, size_t max, bool *quit);

/** Whether a quit so far was Ctrl-C or Ctrl-\ (rather than the end of the input). */
bool tt_term_interrupted(const struct tt_term *t);

/**
 * Every terminal tt_term_open made raw gets its saved settings back (and, with flush, loses the
 * keys typed but not read, so they never reach the shell). Async-signal-safe: for the
 * program's handlers of fatal signals and of SIGTSTP (the library installs none).
 */
void tt_term_restore_all(bool flush);

/** Every open terminal raw again, after a stop (SIGCONT). Async-signal-safe. */
void tt_term_raw_again(void);

/** Give the terminal its saved settings back (dropping keys typed but not read, so they do
 *  not spill into the shell that runs next) and free the reader. NULL is fine. */
void tt_term_close(struct tt_term *t);

#endif
