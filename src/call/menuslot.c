/*
 * The menu in service, and its reload (tt_menu_slot in tonetree.h).
 *
 * A court changes its menu while the kiosk or the telephone service runs: new hours, a moved
 * office. Restarting would cut off whoever is listening, and a typo in the new file would leave
 * nothing running at all. So a reload builds the new edition completely beside the running one
 * (menu, phrases, every prompt prepared in the store) and swaps one pointer only when all of
 * that worked; a file with errors is refused and the old edition goes on.
 *
 * Editions are counted: the slot holds the one in service, and each call holds the one it began
 * on, so a call never sees its menu change under it and the old edition is freed when the last
 * call on it ends. Hold and release happen once per call, so one mutex is cheap enough; the
 * long part (loading, synthesis) runs outside it, and reloads are serialized by a second mutex
 * so that two at once cannot put their editions in service in the wrong order.
 *
 * The clips of an old edition stay valid: the store keeps what it prepared for the life of the
 * store (prompt/prompt.c), and a reload re-uses every prompt whose words did not change.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "core/menu.h"

struct edition {
    struct tt_edition pub; /* first: a held tt_edition pointer is the edition */
    tt_menu *menu;
    tt_phrases *phrases[TT_MAX_LANGS];
    int holds; /* the slot's own, while in service, and one per call (under the slot's lock) */
};

struct tt_menu_slot {
    char *path;
    char *prompts_dir;     /* the one asked for, else the first edition's: with a store, later
                            * editions must agree (the store reads recordings from it) */
    bool dir_asked;        /* prompts_dir was given: every edition uses it */
    bool every_speed;
    char *lang;            /* NULL: each edition's first */
    /* The stores every edition is prepared in: one, or one per audio rate for a service whose
     * codecs need several (SIP: 8 kHz for G.711, 16 kHz for G.722). */
    tt_store *stores[TT_MENU_SLOT_STORES];
    size_t nstores;
    pthread_mutex_t lock;  /* current, and every edition's holds */
    pthread_mutex_t reloading; /* one reload at a time (each reads the file as it is then) */
    bool lock_ok, reloading_ok;
    struct edition *current;
};

static void edition_free(struct edition *e)
{
    if (!e)
        return;
    tt_phrases_free_all(e->menu, e->phrases);
    tt_menu_free(e->menu);
    free(e);
}

static int prepare_in(tt_menu_slot *s, tt_store *store, struct edition *e,
                      void (*progress)(size_t done, size_t total, void *arg), void *arg)
{
    return s->every_speed
               ? tt_store_prepare_every_speed(store, e->menu, e->phrases, progress, arg)
               : tt_store_prepare(store, e->menu, e->phrases, progress, arg);
}

static int prepare(tt_menu_slot *s, struct edition *e)
{
    int err = 0;
    for (size_t i = 0; i < s->nstores && !err; i++)
        err = prepare_in(s, s->stores[i], e, NULL, NULL);
    return err;
}

/* Build an edition from the file as it is now; nothing of the slot changes. */
static int edition_load(tt_menu_slot *s, unsigned generation, struct edition **ep,
                        tt_diag *diag)
{
    struct edition *e = calloc(1, sizeof(*e));
    if (!e)
        return ENOMEM;
    int err = tt_menu_load(&e->menu, s->path, diag);
    if (err)
        goto fail;
    if (s->lang && (e->pub.lang = tt_menu_lang_index(e->menu, s->lang)) < 0) {
        tt_diag_add(diag, TT_ERROR, s->path, 0,
                    "this menu has no language '%s'; its languages are listed in "
                    "[tonetree] languages",
                    s->lang);
        err = EINVAL;
        goto fail;
    }
    const char *dir = s->dir_asked ? s->prompts_dir : tt_menu_prompts_dir(e->menu);
    if (s->prompts_dir && strcmp(s->prompts_dir, dir) && s->nstores) {
        /* A new [tonetree] prompts folder: the store would still read recordings from the
         * old one, and the words and the recordings would disagree. */
        tt_diag_add(diag, TT_ERROR, s->path, 0,
                    "the prompts folder moved from '%s' to '%s': restart tonetree to use it",
                    s->prompts_dir, dir);
        err = EINVAL;
        goto fail;
    }
    if ((err = tt_phrases_load_all(e->menu, dir, e->phrases, diag)))
        goto fail;
    if ((err = prepare(s, e))) {
        tt_diag_add(diag, TT_ERROR, s->path, 0,
                    "the prompts of this menu could not all be made (%s): the speech engine's "
                    "own messages are in the store's, reported when tonetree stops",
                    strerror(err));
        goto fail;
    }
    e->pub.menu = e->menu;
    e->pub.phrases = e->phrases;
    e->pub.generation = generation;
    e->holds = 1; /* the slot's */
    *ep = e;
    return 0;
fail:
    edition_free(e);
    return err;
}

static char *dup_or_null(const char *t, bool *failed)
{
    if (!t)
        return NULL;
    char *d = strdup(t);
    if (!d)
        *failed = true;
    return d;
}

int tt_menu_slot_new(tt_menu_slot **sp, const char *path, const struct tt_menu_slot_opts *o,
                     tt_diag *diag)
{
    static const struct tt_menu_slot_opts none;
    if (!o)
        o = &none;
    *sp = NULL;
    tt_menu_slot *s = calloc(1, sizeof(*s));
    if (!s)
        return ENOMEM;
    bool failed = false;
    s->path = dup_or_null(path, &failed);
    s->prompts_dir = dup_or_null(o->prompts_dir, &failed);
    s->dir_asked = o->prompts_dir != NULL;
    s->every_speed = o->every_speed;
    s->lang = dup_or_null(o->lang, &failed);
    int err = failed || !path ? ENOMEM : 0;
    if (err || (err = pthread_mutex_init(&s->lock, NULL)))
        goto out;
    s->lock_ok = true;
    if ((err = pthread_mutex_init(&s->reloading, NULL)))
        goto out;
    s->reloading_ok = true;
    err = edition_load(s, 1, &s->current, diag);
    /* Without a folder asked for, the first edition's is the store's from now on. */
    if (!err && !s->prompts_dir &&
        !(s->prompts_dir = strdup(tt_menu_prompts_dir(s->current->menu))))
        err = ENOMEM;
out:
    if (err) {
        tt_menu_slot_free(s);
        return err;
    }
    *sp = s;
    return 0;
}

/* Drop one hold (under the lock); the edition is freed with the last, outside it. */
static struct edition *unhold(struct edition *e)
{
    return --e->holds == 0 ? e : NULL;
}

int tt_menu_slot_reload(tt_menu_slot *s, tt_diag *diag)
{
    pthread_mutex_lock(&s->reloading);
    pthread_mutex_lock(&s->lock);
    unsigned next = s->current->pub.generation + 1;
    pthread_mutex_unlock(&s->lock);
    struct edition *e = NULL, *gone = NULL;
    int err = edition_load(s, next, &e, diag);
    if (!err) {
        pthread_mutex_lock(&s->lock);
        gone = unhold(s->current);
        s->current = e;
        pthread_mutex_unlock(&s->lock);
        edition_free(gone);
    }
    pthread_mutex_unlock(&s->reloading);
    return err;
}

const char *tt_menu_slot_prompts_dir(const tt_menu_slot *s)
{
    return s->prompts_dir;
}

int tt_menu_slot_prepare(tt_menu_slot *s, tt_store *store,
                         void (*progress)(size_t done, size_t total, void *arg), void *arg)
{
    /* Under the reload lock: a reload begun meanwhile prepares in the store too. */
    pthread_mutex_lock(&s->reloading);
    size_t i = 0;
    while (i < s->nstores && s->stores[i] != store)
        i++;
    if (i == TT_MENU_SLOT_STORES) {
        pthread_mutex_unlock(&s->reloading);
        return ENOSPC;
    }
    if (i == s->nstores)
        s->stores[s->nstores++] = store;
    const struct tt_edition *e = tt_menu_slot_hold(s);
    int err = prepare_in(s, store, (struct edition *)e, progress, arg);
    tt_menu_slot_release(s, e);
    pthread_mutex_unlock(&s->reloading);
    return err;
}

const struct tt_edition *tt_menu_slot_hold(tt_menu_slot *s)
{
    pthread_mutex_lock(&s->lock);
    struct edition *e = s->current;
    e->holds++;
    pthread_mutex_unlock(&s->lock);
    return &e->pub;
}

void tt_menu_slot_release(tt_menu_slot *s, const struct tt_edition *pub)
{
    if (!s || !pub)
        return;
    struct edition *e = (struct edition *)pub; /* pub is its first member */
    pthread_mutex_lock(&s->lock);
    struct edition *gone = unhold(e);
    pthread_mutex_unlock(&s->lock);
    edition_free(gone);
}

unsigned tt_menu_slot_generation(tt_menu_slot *s)
{
    pthread_mutex_lock(&s->lock);
    unsigned g = s->current->pub.generation;
    pthread_mutex_unlock(&s->lock);
    return g;
}

const char *tt_menu_slot_path(const tt_menu_slot *s)
{
    return s->path;
}

void tt_menu_slot_free(tt_menu_slot *s)
{
    if (!s)
        return;
    if (s->current)
        edition_free(unhold(s->current));
    if (s->lock_ok)
        pthread_mutex_destroy(&s->lock);
    if (s->reloading_ok)
        pthread_mutex_destroy(&s->reloading);
    free(s->path);
    free(s->prompts_dir);
    free(s->lang);
    free(s);
}
