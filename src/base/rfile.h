/*
 * Files from outside: regular files only, and never bigger than the caller can afford.
 *
 * Menus, phrase files, recordings, keymaps and cache entries are named by people (or left in
 * a folder by another process), so a name may point at a FIFO that no one writes (open() or
 * read() would wait for ever), at a device that never ends (/dev/zero), at a folder, or at a
 * file far too big to be what it claims. Every reader of such a file opens it here: the open
 * itself never waits (O_NONBLOCK, then cleared for a regular file), and anything that is not
 * a regular file under the size limit is refused with a reason a court clerk can act on.
 */
#ifndef TT_RFILE_H
#define TT_RFILE_H

#include <stddef.h>
#include <sys/types.h>

/**
 * Open a regular file for reading, refusing anything else before a byte is read.
 * @param fdp   set to the descriptor (O_CLOEXEC, blocking) on success
 * @param max   the largest size accepted, in bytes
 * @param size  if not NULL, set to the file's size
 * @return 0; EISDIR, ENODEV (a FIFO, socket or device) or EFBIG (over max); or open's errno
 */
int tt_rfile_open(const char *path, off_t max, int *fdp, off_t *size);

/**
 * Read a whole regular file (see tt_rfile_open) into memory, NUL-terminated.
 * @param buf  set to the malloc'd bytes (len + 1 with the terminator); caller frees
 * @return 0, tt_rfile_open's errors, EIO for a read that fails or comes up short, ENOMEM
 */
int tt_rfile_read(const char *path, size_t max, char **buf, size_t *len);

/**
 * Why a tt_rfile_* call failed, as the end of a sentence: "is a FIFO or a device, not a
 * regular file". max is the limit that was given (for EFBIG).
 */
const char *tt_rfile_why(int err, size_t max, char *buf, size_t size);

/**
 * Check that a path names a program we may run: it exists, is a regular file (not a folder,
 * a FIFO or a device) and is executable. For the menu loader's check of a lookup and the
 * lookup's own check at start, each with messages of its own.
 * @param why   set to what is wrong and what to do, when it is not 0
 * @return 0, ENOENT, EACCES, or the errno of stat
 */
int tt_rfile_check_program(const char *path, char *why, size_t size);

#endif
