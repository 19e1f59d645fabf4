/*
 * The program's signal handlers. The library installs none (it may be embedded in a program
 * with handlers of its own); `tonetree` installs these: a way to end a run cleanly, and a guard
 * that gives raw terminals back on any other way out.
 */
#ifndef TT_CLI_SIGNALS_H
#define TT_CLI_SIGNALS_H

#include <signal.h>

/**
 * SIGINT and SIGTERM set *flag to the signal's number (no SA_RESTART, so a waiting poll()
 * wakes): for a run that ends itself cleanly (the kiosk, the line) when it sees the flag.
 */
void signals_catch_stop(volatile sig_atomic_t *flag);

/**
 * SIGHUP changes *counter (SA_RESTART: reads and writes go on; poll() is never restarted, so a
 * waiting one wakes): a service reloads its menu when it sees the counter change, as daemons do. Replaces the terminal guard's SIGHUP: a
 * kiosk whose terminal really hangs up learns it from the terminal itself (reads fail) and ends
 * as before.
 */
void signals_catch_reload(volatile sig_atomic_t *counter);

/**
 * Terminals made raw (input/term.h) are given back on SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, and on
 * SIGINT and SIGTERM until signals_catch_stop takes them; the signal is then raised again with
 * its default action, so the program still ends as it would have (status, core dump). SIGTSTP
 * gives them back before the stop, SIGCONT makes them raw again. A signal that already has a
 * handler is left alone.
 */
void signals_guard_terminals(void);

#endif
