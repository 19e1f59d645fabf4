/*
 * The program's signal handlers (see signals.h). Each handler does only async-signal-safe
 * work: setting a flag, tcsetattr through tt_term_restore_all, sigaction and raise.
 */
#include <errno.h>
#include <string.h>

#include "cli/signals.h"
#include "input/term.h"

static volatile sig_atomic_t *stop_flag;
static volatile sig_atomic_t *reload_counter;

/* Our handler for sig, whatever was there before (these are the program's own choices). */
static void set_handler(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

static void on_stop(int sig)
{
    *stop_flag = sig;
}

void signals_catch_stop(volatile sig_atomic_t *flag)
{
    stop_flag = flag;
    set_handler(SIGINT, on_stop, 0);
    set_handler(SIGTERM, on_stop, 0);
}

static void on_reload(int sig)
{
    (void)sig;
    /* Only this handler writes it, and it does not interrupt itself (the signal is blocked
     * while its handler runs); it is compared for a change, so it wraps rather than overflow. */
    *reload_counter = *reload_counter < 0x3fffffff ? *reload_counter + 1 : 0;
}

void signals_catch_reload(volatile sig_atomic_t *counter)
{
    reload_counter = counter;
    /* SA_RESTART: a write to the screen is not cut short; poll() wakes anyway */
    set_handler(SIGHUP, on_reload, SA_RESTART);
}

/* Installed with SA_RESETHAND | SA_NODEFER: on entry the action is the default again and the
 * signal is not blocked, so raising it ends the program as if we had never been here. */
static void on_fatal(int sig)
{
    int saved_errno = errno;
    tt_term_restore_all(true);
    raise(sig);
    errno = saved_errno;
}

static void on_stop_key(int sig)
{
    int saved_errno = errno;
    struct sigaction dfl, ours;
    tt_term_restore_all(false);
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGTSTP, &dfl, &ours);
    raise(sig); /* stops here (SA_NODEFER: not blocked); returns after SIGCONT */
    sigaction(SIGTSTP, &ours, NULL);
    tt_term_raw_again();
    errno = saved_errno;
}

/* A stop we could not catch (SIGSTOP) left the terminal raw, which is as good as any. But
 * after a caught stop, the shell may have changed it: raw again on every continue. */
static void on_continue(int sig)
{
    (void)sig;
    int saved_errno = errno;
    tt_term_raw_again();
    errno = saved_errno;
}

/* Take a signal only if nobody else has. */
static void take(int sig, void (*fn)(int), int flags)
{
    struct sigaction old, sa;
    if (sigaction(sig, NULL, &old) || old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO))
        return;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

void signals_guard_terminals(void)
{
    static const int fatal[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV};
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        take(fatal[i], on_fatal, SA_RESETHAND | SA_NODEFER);
    take(SIGTSTP, on_stop_key, SA_RESTART | SA_NODEFER);
    take(SIGCONT, on_continue, SA_RESTART);
}
