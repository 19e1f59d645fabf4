/*
 * Composing the engine's sentences. The engine, not the menu author, speaks every node's
 * choices, built from the children's titles and the phrase file, so a prompt can never offer
 * a key that does nothing or hide one that works.
 */
#include <stdlib.h>

#include "compose.h"
#include "strbuf.h"

/* Choice keys in the order people expect to hear them: 1 to 9, then 0. */
static const char choice_order[] = "1234567890";

static struct tt_phrase_args key_args(const tt_menu *m, int key, const char *title)
{
    struct tt_phrase_args a = {
        .title = title,
        .key = key > 0 && key < 0x100 ? (char)key : 0,
        .repeat = m->keys.repeat,
        .back = m->keys.back,
        .skip = m->keys.skip,
        .end = m->keys.end,
    };
    return a;
}

static int is_engine_key(const tt_menu *m, char key)
{
    const struct tt_keys *k = &m->keys;
    return key == k->repeat || key == k->back || key == k->skip || key == k->help ||
           key == k->end;
}

void tt_help_build(const tt_menu *m, int lang, struct tt_help_menu *h)
{
    const char *next_key = choice_order;
    h->n = 0;
    /* Help's own items take the free digits in order, like any menu's choices. */
    size_t want = 2 + (m->nlangs > 0 ? m->nlangs - 1 : 0);
    for (size_t i = 0; i < want && *next_key; next_key++) {
        if (is_engine_key(m, *next_key))
            continue;
        struct tt_help_item *it = &h->item[h->n];
        it->key = *next_key;
        it->lang = -1;
        if (i == 0) {
            it->action = TT_HELP_WHERE;
        } else if (i == 1) {
            it->action = TT_HELP_RESTART;
        } else {
            int other = (int)(i - 2);
            if (other >= lang)
                other++;
            it->action = TT_HELP_LANGUAGE;
            it->lang = other;
        }
        h->n++;
        i++;
    }
}

const struct tt_help_item *tt_help_find(const struct tt_help_menu *h, int key)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->item[i].key == key)
            return &h->item[i];
    return NULL;
}

char *tt_compose_choices(const tt_menu *m, tt_phrases *const *ph, int lang, int node,
                         int back_to)
{
    const struct tt_node *n = &m->nodes[node];
    const tt_phrases *p = ph[lang];
    struct tt_strbuf sb;
    struct tt_phrase_args a;
    int choices = 0;
    tt_sb_init(&sb);

    for (const char *k = choice_order; *k; k++) {
        int child = tt_node_choice(n, *k);
        if (child < 0)
            continue;
        a = key_args(m, *k, m->nodes[child].title[lang]);
        tt_phrase_say(p, TT_PH_CHOICE, &a, &sb);
        choices++;
    }
    const char *back_title = back_to >= 0 ? m->nodes[back_to].title[lang] : NULL;
    if (n->next >= 0) {
        a = key_args(m, m->keys.skip, NULL);
        tt_phrase_say(p, TT_PH_NEXT_PAGE, &a, &sb);
        if (n->prev >= 0) {
            a = key_args(m, m->keys.back, NULL);
            tt_phrase_say(p, TT_PH_PREV_PAGE, &a, &sb);
        } else if (back_to >= 0) {
            /* The first page: the back key leaves the sequence, so say where it goes. */
            a = key_args(m, m->keys.back, back_title);
            tt_phrase_say(p, TT_PH_BACK, &a, &sb);
        }
    } else if (n->prev >= 0) {
        a = key_args(m, m->keys.back, NULL);
        tt_phrase_say(p, TT_PH_PREV_PAGE, &a, &sb);
        /* On the last page, the skip key ("move on") leads out of the sequence. */
        if (back_to >= 0) {
            a = key_args(m, m->keys.skip, back_title);
            tt_phrase_say(p, TT_PH_BACK, &a, &sb);
        }
    } else if (!choices && back_to >= 0) {
        a = key_args(m, m->keys.back, back_title);
        tt_phrase_say(p, TT_PH_BACK, &a, &sb);
    }
    if (node == m->start) {
        a = key_args(m, m->keys.help, NULL);
        tt_phrase_say(p, TT_PH_HELP_HINT, &a, &sb);
    }
    return tt_sb_take(&sb);
}

char *tt_compose_help(const tt_menu *m, tt_phrases *const *ph, int lang,
                      const struct tt_help_menu *h, int lead)
{
    const tt_phrases *p = ph[lang];
    struct tt_strbuf sb;
    struct tt_phrase_args a;
    tt_sb_init(&sb);
    if (lead >= 0)
        tt_phrase_say(p, (enum tt_phrase_id)lead, NULL, &sb);
    tt_phrase_say(p, TT_PH_HELP, NULL, &sb);
    for (size_t i = 0; i < h->n; i++) {
        a = key_args(m, h->item[i].key, NULL);
        if (h->item[i].action == TT_HELP_WHERE)
            tt_phrase_say(p, TT_PH_HELP_WHERE, &a, &sb);
        else if (h->item[i].action == TT_HELP_RESTART)
            tt_phrase_say(p, TT_PH_HELP_RESTART, &a, &sb);
        /* Language items are said by the session in their own language, as their own part. */
    }
    return tt_sb_take(&sb);
}

char *tt_compose_help_tail(const tt_menu *m, const tt_phrases *p)
{
    struct tt_strbuf sb;
    tt_sb_init(&sb);
    struct tt_phrase_args a = key_args(m, m->keys.back, NULL);
    tt_phrase_say(p, TT_PH_HELP_RETURN, &a, &sb);
    a = key_args(m, 0, NULL);
    tt_phrase_say(p, TT_PH_HELP_KEYS, &a, &sb);
    return tt_sb_take(&sb);
}

char *tt_compose_where(const tt_menu *m, const tt_phrases *p, int lang, const int *path,
                       size_t n)
{
    struct tt_strbuf titles, sb;
    tt_sb_init(&titles);
    tt_sb_init(&sb);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            tt_sb_add(&titles, tt_phrase_get(p, TT_PH_PATH_SEP));
        tt_sb_add(&titles, m->nodes[path[i]].title[lang]);
    }
    char *joined = tt_sb_take(&titles);
    if (!joined)
        return NULL;
    struct tt_phrase_args a = {.path = joined};
    tt_phrase_say(p, TT_PH_WHERE, &a, &sb);
    free(joined);
    return tt_sb_take(&sb);
}

char *tt_compose_phrase(const tt_menu *m, const tt_phrases *p, enum tt_phrase_id id, int key)
{
    struct tt_strbuf sb;
    struct tt_phrase_args a = key_args(m, key, NULL);
    tt_sb_init(&sb);
    tt_phrase_say(p, id, &a, &sb);
    return tt_sb_take(&sb);
}
