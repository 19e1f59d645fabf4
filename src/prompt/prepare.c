/*
 * Preparing a menu's prompts ahead of time. The tree is finite, so nearly everything a
 * session can say is known before anyone listens: each node's text, its choices (which
 * differ only in the way back they offer), help, and the engine's short phrases. Filling the
 * store with them at start means the first caller never waits for a speech engine, and the
 * disk cache means the next start synthesizes nothing.
 *
 * At one speed (normal) by default: a kiosk's one listener who asks for slower speech waits a
 * moment while it is made. A telephone service prepares every speed, so that none of its
 * callers ever waits for a speech engine; that is about ten times the audio.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compose.h"
#include "core/menu.h"
#include "prompt/prompt.h"

struct walk {
    const tt_menu *m;
    tt_store *store;
    size_t done, total;
    void (*progress)(size_t done, size_t total, void *arg);
    void *arg;
    bool count_only;
    const int *speeds; /* in percent */
    size_t nspeeds;
    int err;
};

/* Take a composed text (may be NULL: out of memory) and get its audio. */
static void want(struct walk *w, int lang, int node, enum tt_part part, char *text)
{
    if (!text) {
        w->err = w->err ? w->err : ENOMEM;
        return;
    }
    if (w->count_only) {
        w->total++;
    } else if (!w->err) {
        const struct tt_clip *clip;
        char brief[TT_REC_ID_MAX];
        const char *id = part == TT_PART_BODY ? w->m->nodes[node].id : NULL;
        if (part == TT_PART_BRIEF) {
            snprintf(brief, sizeof(brief), "%s.short", w->m->nodes[node].id);
            id = brief;
        }
        for (size_t i = 0; i < w->nspeeds && !w->err; i++) {
            w->err = tt_store_get(w->store, w->m->lang[lang], w->m->voice[lang], id, text,
                                  w->speeds[i], &clip);
            if (!w->err) {
                tt_store_mark_prepared(w->store, clip);
                tt_store_release(w->store, clip);
            }
        }
        w->done++;
        if (w->progress)
            w->progress(w->done, w->total, w->arg);
    }
    free(text);
}

/* A node's text, and its choices as offered when the listener came from its usual parent
 * (the way back is the only part of the choices that depends on the path; other paths are
 * composed and synthesized on demand). */
static void walk_node(struct walk *w, tt_phrases *const *ph, int lang, int node,
                      const int *first_parent)
{
    const tt_menu *m = w->m;
    want(w, lang, node, TT_PART_BODY, strdup(m->nodes[node].text[lang]));
    if (m->nodes[node].brief[lang])
        want(w, lang, node, TT_PART_BRIEF, strdup(m->nodes[node].brief[lang]));
    int head = node;
    while (m->nodes[head].prev >= 0)
        head = m->nodes[head].prev;
    int back_to = node == m->start ? -1 : first_parent[head];
    want(w, lang, node, TT_PART_ENGINE, tt_compose_choices(m, ph, lang, node, back_to));
}

static void walk_engine(struct walk *w, tt_phrases *const *ph, int lang)
{
    const tt_menu *m = w->m;
    static const char keys[] = "0123456789*#";
    struct tt_help_menu h, settings;
    tt_help_build(m, lang, false, &h);
    tt_help_build(m, lang, true, &settings);
    want(w, lang, -1, TT_PART_ENGINE, tt_compose_help(m, ph, lang, &h, -1));
    want(w, lang, -1, TT_PART_ENGINE, tt_compose_help(m, ph, lang, &settings, -1));
    want(w, lang, -1, TT_PART_ENGINE, tt_compose_help(m, ph, lang, &h, TT_PH_TO_HELP));
    want(w, lang, -1, TT_PART_ENGINE, tt_compose_help(m, ph, lang, &h, TT_PH_WARN));
    want(w, lang, -1, TT_PART_ENGINE, tt_compose_help_tail(m, ph[lang]));
    for (size_t i = 0; i < h.n; i++)
        if (h.item[i].action == TT_HELP_LANGUAGE)
            want(w, h.item[i].lang, -1, TT_PART_ENGINE,
                 tt_compose_phrase(m, ph[h.item[i].lang], TT_PH_HELP_LANGUAGE, h.item[i].key));
    want(w, lang, -1, TT_PART_ENGINE, tt_compose_phrase(m, ph[lang], TT_PH_WARN, 0));
    want(w, lang, -1, TT_PART_ENGINE, tt_compose_phrase(m, ph[lang], TT_PH_END_HINT, 0));
    /* The start's offer of this language, said to listeners of the others. */
    if (m->lang_key[lang])
        want(w, lang, -1, TT_PART_ENGINE,
             tt_compose_phrase(m, ph[lang], TT_PH_HELP_LANGUAGE, m->lang_key[lang]));
    want(w, lang, -1, TT_PART_ENGINE, tt_compose_phrase(m, ph[lang], TT_PH_AT_START, 0));
    static const enum tt_phrase_id short_ones[] = {
        TT_PH_GOODBYE, TT_PH_BROWSE_NONE, TT_PH_PAUSED,  TT_PH_SLOWER,  TT_PH_FASTER,
        TT_PH_LOUDER,  TT_PH_SOFTER,      TT_PH_SLOWEST, TT_PH_FASTEST, TT_PH_LOUDEST,
        TT_PH_SOFTEST};
    for (size_t i = 0; i < sizeof(short_ones) / sizeof(short_ones[0]); i++)
        want(w, lang, -1, TT_PART_ENGINE, tt_compose_phrase(m, ph[lang], short_ones[i], 0));
    for (const char *k = keys; *k; k++)
        want(w, lang, -1, TT_PART_ENGINE, tt_compose_phrase(m, ph[lang], TT_PH_INVALID, *k));
}

static void walk_all(struct walk *w, tt_phrases *const *ph, const int *first_parent)
{
    for (size_t lang = 0; lang < w->m->nlangs; lang++) {
        for (size_t n = 0; n < w->m->nnodes; n++)
            walk_node(w, ph, (int)lang, (int)n, first_parent);
        walk_engine(w, ph, (int)lang);
    }
}

static int prepare(tt_store *store, const tt_menu *m, tt_phrases *const *ph, const int *speeds,
                   size_t nspeeds, void (*progress)(size_t done, size_t total, void *arg),
                   void *arg)
{
    struct walk w = {.m = m, .store = store, .progress = progress, .arg = arg,
                     .speeds = speeds, .nspeeds = nspeeds};
    int *first_parent = malloc((m->nnodes + 1) * sizeof(int));
    if (!first_parent) {
        w.err = ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < m->nnodes; i++)
        first_parent[i] = -1;
    /* The first node (in file order) that chooses each node: its usual way back. */
    for (size_t i = 0; i < m->nnodes; i++)
        for (int k = 0; k < TT_MAX_CHOICES; k++) {
            int c = m->nodes[i].choice[k];
            if (c >= 0 && first_parent[c] < 0 && (size_t)c != i)
                first_parent[c] = (int)i;
        }
    w.count_only = true;
    walk_all(&w, ph, first_parent);
    w.count_only = false;
    /* Everything known ahead is then read by every caller with no lock, and never evicted;
     * until it is shared, none of it is evicted either (marked as prepared), however much it
     * is. What calls make meanwhile stays bounded, as ever. */
    if (!w.err)
        walk_all(&w, ph, first_parent);
    if (!w.err)
        w.err = tt_store_share(store);
out:
    free(first_parent);
    return w.err;
}

int tt_store_prepare(tt_store *store, const tt_menu *m, tt_phrases *const *ph,
                     void (*progress)(size_t done, size_t total, void *arg), void *arg)
{
    static const int normal = 100;
    return prepare(store, m, ph, &normal, 1, progress, arg);
}

int tt_store_prepare_every_speed(tt_store *store, const tt_menu *m, tt_phrases *const *ph,
                                 void (*progress)(size_t done, size_t total, void *arg),
                                 void *arg)
{
    int speeds[TT_SPEED_LEVELS];
    for (int i = 0; i < TT_SPEED_LEVELS; i++)
        speeds[i] = tt_speed_percent(i);
    return prepare(store, m, ph, speeds, TT_SPEED_LEVELS, progress, arg);
}
