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
           key == k->end || tt_menu_lang_of_key(m, key) >= 0;
}

void tt_help_build(const tt_menu *m, int lang, bool settings, struct tt_help_menu *h)
{
    static const enum tt_help_action help_items[] = {TT_HELP_SAFETY, TT_HELP_WHERE,
                                                     TT_HELP_SETTINGS, TT_HELP_RESTART};
    static const enum tt_help_action settings_items[] = {
        TT_HELP_SLOWER, TT_HELP_FASTER, TT_HELP_LOUDER, TT_HELP_SOFTER, TT_HELP_PAUSE};
    const enum tt_help_action *want = settings ? settings_items : help_items;
    size_t nwant = settings ? 5 : 4;
    size_t from = !settings && m->safety < 0; /* no safety node: no safety item */
    h->settings = settings;
    h->n = 0;
    /* The items take the free digits in order, like any menu's choices (the language keys
     * are not free: they switch language everywhere, help included). */
    for (const char *k = choice_order; *k && from < nwant; k++) {
        if (is_engine_key(m, *k))
            continue;
        h->item[h->n++] = (struct tt_help_item){*k, want[from++], -1};
    }
    /* Then every other language, on its own key. */
    for (size_t l = 0; !settings && l < m->nlangs; l++)
        if ((int)l != lang && m->lang_key[l])
            h->item[h->n++] = (struct tt_help_item){m->lang_key[l], TT_HELP_LANGUAGE, (int)l};
}

const struct tt_help_item *tt_help_find(const struct tt_help_menu *h, int key)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->item[i].key == key)
            return &h->item[i];
    return NULL;
}

static char *choices(const tt_menu *m, tt_phrases *const *ph, int lang, int node, int back_to,
                     bool typing)
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
    /* Pages say where they lead, by title: "For step two, talking to the court, press
     * pound", so a listener knows what the key brings before pressing it. */
    if (n->next >= 0) {
        a = key_args(m, m->keys.skip, m->nodes[n->next].title[lang]);
        tt_phrase_say(p, TT_PH_NEXT_PAGE, &a, &sb);
        if (n->prev >= 0) {
            a = key_args(m, m->keys.back, m->nodes[n->prev].title[lang]);
            tt_phrase_say(p, TT_PH_PREV_PAGE, &a, &sb);
        } else if (back_to >= 0) {
            /* The first page: the back key leaves the sequence, so say where it goes. */
            a = key_args(m, m->keys.back, back_title);
            tt_phrase_say(p, TT_PH_BACK, &a, &sb);
        }
    } else if (n->prev >= 0) {
        a = key_args(m, m->keys.back, m->nodes[n->prev].title[lang]);
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
    /* While typing, the end key is a digit: say how to leave all the same. */
    if (typing) {
        a = key_args(m, 0, NULL);
        tt_phrase_say(p, TT_PH_ENTRY_LEAVE, &a, &sb);
    }
    /* At an input node the help key is a digit of the entry, so it is not offered there. */
    if (node == m->start && !n->input) {
        a = key_args(m, m->keys.help, NULL);
        tt_phrase_say(p, TT_PH_HELP_HINT, &a, &sb);
    }
    return tt_sb_take(&sb);
}

char *tt_compose_choices(const tt_menu *m, tt_phrases *const *ph, int lang, int node,
                         int back_to)
{
    return choices(m, ph, lang, node, back_to, m->nodes[node].input);
}

char *tt_compose_way_on(const tt_menu *m, tt_phrases *const *ph, int lang, int node,
                        int back_to)
{
    return choices(m, ph, lang, node, back_to, false);
}

char *tt_compose_help(const tt_menu *m, tt_phrases *const *ph, int lang,
                      const struct tt_help_menu *h, int lead)
{
    static const enum tt_phrase_id said_as[] = {
        [TT_HELP_WHERE] = TT_PH_HELP_WHERE,   [TT_HELP_SETTINGS] = TT_PH_HELP_SETTINGS,
        [TT_HELP_RESTART] = TT_PH_HELP_RESTART, [TT_HELP_LANGUAGE] = TT_PH_HELP_LANGUAGE,
        [TT_HELP_SLOWER] = TT_PH_SET_SLOWER,  [TT_HELP_FASTER] = TT_PH_SET_FASTER,
        [TT_HELP_LOUDER] = TT_PH_SET_LOUDER,  [TT_HELP_SOFTER] = TT_PH_SET_SOFTER,
        [TT_HELP_PAUSE] = TT_PH_SET_PAUSE,
    };
    const tt_phrases *p = ph[lang];
    struct tt_strbuf sb;
    struct tt_phrase_args a;
    tt_sb_init(&sb);
    if (lead >= 0)
        tt_phrase_say(p, (enum tt_phrase_id)lead, NULL, &sb);
    tt_phrase_say(p, h->settings ? TT_PH_SETTINGS : TT_PH_HELP, NULL, &sb);
    for (size_t i = 0; i < h->n; i++) {
        /* Language items are said by the session in their own language, as their own part. */
        if (h->item[i].action == TT_HELP_LANGUAGE)
            continue;
        if (h->item[i].action == TT_HELP_SAFETY) { /* by its title, like a choice */
            a = key_args(m, h->item[i].key, m->nodes[m->safety].title[lang]);
            tt_phrase_say(p, TT_PH_CHOICE, &a, &sb);
            continue;
        }
        a = key_args(m, h->item[i].key, NULL);
        tt_phrase_say(p, said_as[h->item[i].action], &a, &sb);
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

size_t tt_browse_items(const tt_menu *m, int node, int *items)
{
    const struct tt_node *n = &m->nodes[node];
    size_t count = 0;
    for (const char *k = choice_order; *k; k++)
        if (tt_node_choice(n, *k) >= 0)
            items[count++] = tt_node_choice(n, *k);
    if (n->next >= 0)
        items[count++] = n->next;
    if (n->prev >= 0)
        items[count++] = n->prev;
    return count;
}

char *tt_compose_browse(const tt_menu *m, const tt_phrases *p, int lang, int item, size_t n,
                        size_t count)
{
    struct tt_strbuf sb;
    struct tt_phrase_args a = key_args(m, 0, m->nodes[item].title[lang]);
    a.n = (int)n;
    a.count = (int)count;
    tt_sb_init(&sb);
    tt_phrase_say(p, TT_PH_BROWSE, &a, &sb);
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
