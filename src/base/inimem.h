/*
 * iniparser on bytes already in memory.
 *
 * iniparser 4.1 reads only from a path, and opens it afresh on every load. A loader that opened
 * a file itself (a regular file, under a size limit: rfile.h) and checked its bytes must not
 * then let iniparser open the same name again: the name may now lead elsewhere (a swapped file,
 * a FIFO), and iniparser would read something no check has seen. So the checked bytes are
 * handed to iniparser through a file of our own that holds exactly them: a memfd where Linux
 * has one (no file on disk), else a temporary file removed when done.
 */
#ifndef TT_INIMEM_H
#define TT_INIMEM_H

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

/**
 * Load these bytes, and only these, with iniparser_load(). Its error callback is the caller's
 * to set: the line numbers it reports count from data.
 * @param dp  set to the dictionary, or NULL when iniparser refused the bytes
 * @return 0, or the errno of writing the bytes to the file
 */
int tt_inimem_load(struct tt_inimem *im, const char *data, size_t len, dictionary **dp);

/** Close (and remove) the file; safe on one that never opened. */
void tt_inimem_close(struct tt_inimem *im);

#endif
