/*
 * Running the real `tonetree` in tests: started with its own environment, its output in a
 * file, and always bounded in time (killed by its pid when it overstays, and the test fails).
 */
#ifndef TT_PROCLIB_H
#define TT_PROCLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tl_proc {
    const char *const *argv; /* argv[0] is ignored: build/tonetree runs */
    int in;                  /* its stdin, or -1 for /dev/null */
    const char *out;         /* its stdout goes to this file (created 0600), or NULL: /dev/null */
    const char *err;         /* its stderr, the same way */
    const char *home;        /* HOME, TMPDIR, XDG_RUNTIME_DIR: folders of the test's (or NULL) */
    const char *tmp;
    const char *asound;      /* ALSA_CONFIG_PATH; NULL for a configuration with no device */
    const char *bin;         /* the program to run: NULL for build/tonetree */
};

/** Start build/tonetree (or p->bin); returns its pid. XDG_CACHE_HOME and PULSE_SERVER are unset. */
pid_t tl_proc_start(const struct tl_proc *p);
/** Wait for it to end by itself within secs; kill it and fail the test if it does not.
 *  @return its wait status */
int tl_proc_finish(pid_t pid, double secs);
/** A pipe whose reading end is for tl_proc.in; the writing end (keys[1]) is the test's, and is
 *  closed in the child (or the end of the keys would never reach it). */
void tl_key_pipe(int keys[2]);
/** Write keys (bytes, as at a terminal) to the pipe. */
void tl_type(int fd, const char *keys);
/** A whole file, NUL-terminated; "" when it does not exist yet. */
char *tl_read_file(const char *path, size_t *n);
/** Wait (bounded) until the file holds `what` at or after byte `from`; returns where. Fails
 *  the test, showing the file, when secs pass first. */
size_t tl_wait_file(const char *path, const char *what, size_t from, double secs);
/** Seconds on the monotonic clock. */
double tl_now(void);
void tl_sleep(double secs);

#endif
