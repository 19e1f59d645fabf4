/*
 * Opening files from outside as regular files only, with a size limit (see rfile.h).
 *
 * The check is made on the descriptor (fstat after open), not on the name before opening,
 * so a name swapped between the two cannot slip a FIFO past it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/rfile.h"

int tt_rfile_open(const char *path, off_t max, int *fdp, off_t *size)
{
    *fdp = -1;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return errno;
    struct stat st;
    int err = 0;
    if (fstat(fd, &st) < 0)
        err = errno;
    else if (S_ISDIR(st.st_mode))
        err = EISDIR;
    else if (!S_ISREG(st.st_mode))
        err = ENODEV;
    else if (st.st_size > max)
        err = EFBIG;
    else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
        err = errno;
    if (err) {
        close(fd);
        return err;
    }
    if (size)
        *size = st.st_size;
    *fdp = fd;
    return 0;
}

int tt_rfile_read(const char *path, size_t max, char **buf, size_t *len)
{
    off_t size;
    int fd, err;
    *buf = NULL;
    *len = 0;
    if ((err = tt_rfile_open(path, (off_t)max, &fd, &size)))
        return err;
    size_t want = (size_t)size, got = 0;
    char *b = malloc(want + 1);
    if (!b) {
        close(fd);
        return ENOMEM;
    }
    /* Read one byte past the size: a file that grew since fstat is over its size, and is
     * refused rather than read in part. */
    while (got <= want) {
        ssize_t r = read(fd, b + got, want + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err = errno;
            break;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!err && got != want)
        err = got > want && got > max ? EFBIG : EIO;
    if (err) {
        free(b);
        return err;
    }
    b[got] = '\0';
    *buf = b;
    *len = got;
    return 0;
}

const char *tt_rfile_why(int err, size_t max, char *buf, size_t size)
{
    switch (err) {
    case EISDIR:
        snprintf(buf, size, "is a folder, not a file");
        break;
    case ENODEV:
        snprintf(buf, size, "is a FIFO, a socket or a device, not a regular file");
        break;
    case EFBIG:
        if (max >= (size_t)1 << 20)
            snprintf(buf, size, "is larger than the %zu MiB allowed", max >> 20);
        else
            snprintf(buf, size, "is larger than the %zu bytes allowed", max);
        break;
    case EIO:
        snprintf(buf, size, "changed while it was being read");
        break;
    default:
        snprintf(buf, size, "cannot be read: %s", strerror(err));
        break;
    }
    return buf;
}

int tt_rfile_check_program(const char *path, char *why, size_t size)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        int err = errno == ENOTDIR ? ENOENT : errno;
        if (err == ENOENT)
            snprintf(why, size, "there is no such file: install the program there, or correct "
                                "the path in the menu");
        else
            snprintf(why, size, "cannot be reached (%s): check the permissions of the folders "
                                "on its path",
                     strerror(err));
        return err;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(why, size, "this is a folder, not a program: give the path of the program "
                            "itself");
        return EACCES;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, size, "this is a pipe, a device or a socket, not a regular file: give "
                            "the path of the program itself");
        return EACCES;
    }
    if (access(path, X_OK) != 0) {
        snprintf(why, size, "the file is not executable: make it so with chmod +x %s", path);
        return EACCES;
    }
    return 0;
}
