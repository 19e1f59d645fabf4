/*
 * Starting the library's own threads with the program's signals blocked (see thread.h).
 */
#include <signal.h>

#include "base/thread.h"

int tt_thread_start(pthread_t *t, void *(*fn)(void *arg), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    /* the new thread inherits this thread's mask: set it for the moment of the creation */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return err;
}
