/*
 * iniparser on bytes in memory (see inimem.h): a memfd named by /proc/self/fd/N, or a
 * temporary file when there is no memfd (another system, or /proc not mounted). And the one
 * owner of iniparser's error callback.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/inimem.h"

/* The load running on this thread, for the dispatcher (set only while iniparser_load runs). */
static _Thread_local tt_inimem_error_fn *current_fn;
static _Thread_local void *current_ctx;
static pthread_once_t dispatcher_once = PTHREAD_ONCE_INIT;

static int dispatch(const char *fmt, ...)
{
    if (!current_fn)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    current_fn(current_ctx, fmt, ap);
    va_end(ap);
    return 0;
}

/* Installed once, never swapped: every later load on any thread goes through it. */
static void install_dispatcher(void)
{
    iniparser_set_error_callback(dispatch);
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

int tt_inimem_open(struct tt_inimem *im)
{
    im->tmp = false;
    im->fd = -1;
#ifdef __linux__
    int fd = memfd_create("tonetree-ini", MFD_CLOEXEC);
    if (fd >= 0) {
        snprintf(im->path, sizeof(im->path), "/proc/self/fd/%d", fd);
        if (!access(im->path, R_OK)) {
            im->fd = fd;
            return 0;
        }
        close(fd);
    }
#endif
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    if ((size_t)snprintf(im->path, sizeof(im->path), "%s/tonetree-ini-XXXXXX", dir) >=
        sizeof(im->path))
        return ENAMETOOLONG;
    int tfd = mkstemp(im->path);
    if (tfd < 0)
        return errno;
    im->fd = tfd;
    im->tmp = true;
    return 0;
}

int tt_inimem_load(struct tt_inimem *im, const char *data, size_t len, dictionary **dp,
                   tt_inimem_error_fn *on_error, void *ctx)
{
    *dp = NULL;
    /* Exactly these bytes: what an earlier load left must not show through. */
    if (ftruncate(im->fd, 0) != 0 || lseek(im->fd, 0, SEEK_SET) != 0)
        return errno;
    int err = write_all(im->fd, data, len);
    if (err)
        return err;
    pthread_once(&dispatcher_once, install_dispatcher);
    tt_inimem_error_fn *outer_fn = current_fn; /* a load inside a handler gets its own back */
    void *outer_ctx = current_ctx;
    current_fn = on_error;
    current_ctx = ctx;
    *dp = iniparser_load(im->path);
    current_fn = outer_fn;
    current_ctx = outer_ctx;
    return 0;
}

void tt_inimem_close(struct tt_inimem *im)
{
    if (im->fd >= 0)
        close(im->fd);
    if (im->tmp)
        unlink(im->path);
    im->fd = -1;
    im->tmp = false;
}
