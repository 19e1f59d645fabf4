/*
 * iniparser on bytes already in memory.
 *
 * iniparser 4.1 reads only from a path, and opens it afresh on every load. A loader that opened
 * a file itself (a regular file, under a size limit: rfile.h) and checked its bytes must not
 * then let iniparser open the same name again: the name may now lead elsewhere (a swapped file,
 * a FIFO), and iniparser would read something no check has seen. So the checked bytes are
 * handed to iniparser through a file of our own that holds exactly them: a memfd where Linux
 * has one (no file on disk), else a temporary file removed when done.
 *
 * iniparser also reports errors through one process-wide callback with no user pointer, which
 * three loaders used to swap in and out around each load: two threads loading at once could
 * each undo the other's, and iniparser then printed on stderr from inside the library. This
 * module owns that callback instead: one dispatcher, installed once, hands each message to the
 * handler of the load running on the same thread (none: the message is dropped, as the loaders'
 * own scans have already refused every line iniparser would). Once installed it stays for the
 * life of the process: a host program that uses iniparser itself gets no messages through
 * iniparser's callback on its own loads.
 */
#ifndef TT_INIMEM_H
#define TT_INIMEM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <iniparser/iniparser.h>

struct tt_inimem {
    int fd;
    bool tmp;         /* path is a temporary file to remove on close */
    char path[4096];  /* what iniparser opens */
};

/**
 * Make the file iniparser will read from (one per load; it may be filled several times).
 * @return 0 or an errno (the file could not be made)
 */
int tt_inimem_open(struct tt_inimem *im);

/** What iniparser said during a load: its printf format and arguments (its line numbers count
 *  from the start of the bytes loaded). */
typedef void tt_inimem_error_fn(void *ctx, const char *fmt, va_list ap);

/**
 * Load these bytes, and only these, with iniparser_load().
 * @param dp       set to the dictionary, or NULL when iniparser refused the bytes
 * @param on_error called on this thread for each message iniparser gives during this load
 *                 (NULL: they are dropped), with ctx
 * @return 0, or the errno of writing the bytes to the file
 */
int tt_inimem_load(struct tt_inimem *im, const char *data, size_t len, dictionary **dp,
                   tt_inimem_error_fn *on_error, void *ctx);

/** Close (and remove) the file; safe on one that never opened. */
void tt_inimem_close(struct tt_inimem *im);

#endif
