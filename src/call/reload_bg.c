/*
 * A menu reload on a thread of its own (see reload_bg.h).
 *
 * The thread owns its own messages (a tt_diag nobody else touches) until it writes one byte to
 * its pipe; the driver then joins it and takes them. The slot itself is thread-safe, so calls
 * running meanwhile keep playing from the store and holding their editions.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/thread.h"
#include "call/reload_bg.h"

struct tt_reload_bg {
    tt_menu_slot *slot;
    pthread_t thread;
    int done[2];
    tt_diag *diag;
    int err;
};

static void *run(void *arg)
{
    struct tt_reload_bg *r = arg;
    r->err = tt_menu_slot_reload(r->slot, r->diag);
    char b = 1;
    while (write(r->done[1], &b, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

static void release(struct tt_reload_bg *r)
{
    if (r->done[0] >= 0)
        close(r->done[0]);
    if (r->done[1] >= 0)
        close(r->done[1]);
    tt_diag_free(r->diag);
    free(r);
}

int tt_reload_bg_start(struct tt_reload_bg **rp, tt_menu_slot *s)
{
    *rp = NULL;
    struct tt_reload_bg *r = calloc(1, sizeof(*r));
    if (!r)
        return ENOMEM;
    r->slot = s;
    r->done[0] = r->done[1] = -1;
    int err = 0;
    if (!(r->diag = tt_diag_new()))
        err = ENOMEM;
    else if (pipe(r->done) || fcntl(r->done[0], F_SETFD, FD_CLOEXEC) ||
             fcntl(r->done[1], F_SETFD, FD_CLOEXEC)) /* not into a lookup's program */
        err = errno;
    else {
        /* The program's signals (SIGINT, SIGHUP) are for its own thread, whose poll() they
         * wake: this one takes none (base/thread.h). */
        err = tt_thread_start(&r->thread, run, r);
    }
    if (err) {
        release(r);
        return err;
    }
    *rp = r;
    return 0;
}

int tt_reload_bg_fd(const struct tt_reload_bg *r)
{
    return r->done[0];
}

int tt_reload_bg_finish(struct tt_reload_bg *r, tt_diag *into)
{
    pthread_join(r->thread, NULL);
    for (size_t i = 0; i < tt_diag_len(r->diag); i++) {
        const struct tt_diag_msg *m = tt_diag_get(r->diag, i);
        tt_diag_add(into, m->sev, m->file, m->line, "%s", m->text);
    }
    int err = r->err;
    const char *path = tt_menu_slot_path(r->slot);
    if (err)
        tt_diag_add(into, TT_ERROR, path, 0,
                    "the menu was not reloaded (%s): the one in service goes on; mend the file "
                    "and reload again",
                    strerror(err));
    else
        tt_diag_add(into, TT_NOTE, path, 0,
                    "menu reloaded (edition %u): calls that began before go on with the one "
                    "they began on",
                    tt_menu_slot_generation(r->slot));
    release(r);
    return err;
}
