/*
 * Threads the library starts for its own work (the store's workers, espeak-ng's thread, a menu
 * reload). The library installs no signal handler and must not take the program's signals: a
 * SIGINT or SIGHUP meant for the program's own thread, which waits for it in poll(), would
 * otherwise run the handler on a library thread and not wake the program. So these threads
 * start with every signal blocked, but for faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL), which
 * must still reach the program's handler (it gives a raw terminal back): blocked, the kernel
 * would end the program without it.
 */
#ifndef TT_BASE_THREAD_H
#define TT_BASE_THREAD_H

#include <pthread.h>

/** pthread_create, with the signals blocked as above; returns its error. */
int tt_thread_start(pthread_t *t, void *(*fn)(void *arg), void *arg);

#endif
