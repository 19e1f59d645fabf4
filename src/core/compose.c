/*
 * Composing the engine's sentences. The engine, not the menu author, speaks every node's
 * choices, built from the children's titles and the phrase file, so a prompt can never offer
 * a key that does nothing or hide one that works.
 */
#include <stdlib.h>

#include "base/strbuf.h"
#include "core/compose.h"

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

/* Where choices() and help() put their sentences: always into one string, and, for tools
 * that measure the phrases one by one, also each on its own with the phrase it comes from. */
struct said_to {
    const tt_phrases *p;
    struct tt_strbuf sb;
    struct tt_said *each; /* NULL: only the whole string */
    size_t n, max;
    bool nomem;
};

static void say(struct said_to *o, enum tt_phrase_id id, const struct tt_phrase_args *a)
{
    tt_phrase_say(o->p, id, a, &o->sb);
    if (!o->each || o->nomem)
        return;
    struct tt_strbuf one;
    tt_sb_init(&one);
    tt_phrase_say(o->p, id, a, &one);
    char *text = tt_sb_take(&one);
    if (!text || o->n == o->max) {
        free(text);
        o->nomem = true;
        return;
    }
    o->each[o->n++] = (struct tt_said){id, text};
}

/* Runs a composition into each; returns how many sentences, or -1 (nothing left to free). */
static int each_of(char *all, struct said_to *o)
{
    if (all && !o->nomem) {
        free(all);
        return (int)o->n;
    }
    free(all);
    for (size_t i = 0; i < o->n; i++)
        free(o->each[i].text);
    return -1;
}

static char *choices(const tt_menu *m, tt_phrases *const *ph, int lang, int node, int back_to,
                     bool typing, struct said_to *o)
{
    const struct tt_node *n = &m->nodes[node];
    struct tt_phrase_args a;
    int choices = 0;
    o->p = ph[lang];
    tt_sb_init(&o->sb);

    for (const char *k = choice_order; *k; k++) {
        int child = tt_node_choice(n, *k);
        if (child < 0)
            continue;
        a = key_args(m, *k, m->nodes[child].title[lang]);
        say(o, TT_PH_CHOICE, &a);
        choices++;
    }
    const char *back_title = back_to >= 0 ? m->nodes[back_to].title[lang] : NULL;
    /* Pages say where they lead, by title: "For step two, talking to the court, press
     * pound", so a listener knows what the key brings before pressing it. */
    if (n->next >= 0) {
        a = key_args(m, m->keys.skip, m->nodes[n->next].title[lang]);
        say(o, TT_PH_NEXT_PAGE, &a);
        if (n->prev >= 0) {
            a = key_args(m, m->keys.back, m->nodes[n->prev].title[lang]);
            say(o, TT_PH_PREV_PAGE, &a);
        } else if (back_to >= 0) {
            /* The first page: the back key leaves the sequence, so say where it goes. */
            a = key_args(m, m->keys.back, back_title);
            say(o, TT_PH_BACK, &a);
        }
    } else if (n->prev >= 0) {
        a = key_args(m, m->keys.back, m->nodes[n->prev].title[lang]);
        say(o, TT_PH_PREV_PAGE, &a);
        /* On the last page, the skip key ("move on") leads out of the sequence. */
        if (back_to >= 0) {
            a = key_args(m, m->keys.skip, back_title);
            say(o, TT_PH_BACK, &a);
        }
    } else if (!choices && back_to >= 0) {
        a = key_args(m, m->keys.back, back_title);
        say(o, TT_PH_BACK, &a);
    }
    /* While typing, the end key is a digit: say how to leave all the same. */
    if (typing) {
        a = key_args(m, 0, NULL);
        say(o, TT_PH_ENTRY_LEAVE, &a);
    }
    /* At an input node the help key is a digit of the entry, so it is not offered there. */
    if (node == m->start && !n->input) {
        a = key_args(m, m->keys.help, NULL);
        say(o, TT_PH_HELP_HINT, &a);
    }
    return tt_sb_take(&o->sb);
}

char *tt_compose_choices(const tt_menu *m, tt_phrases *const *ph, int lang, int node,
                         int back_to)
{
    struct said_to o = {0};
    return choices(m, ph, lang, node, back_to, m->nodes[node].input, &o);
}

int tt_compose_choices_each(const tt_menu *m, tt_phrases *const *ph, int lang, int node,
                            int back_to, struct tt_said *each, size_t max)
{
    struct said_to o = {.each = each, .max = max};
    return each_of(choices(m, ph, lang, node, back_to, m->nodes[node].input, &o), &o);
}

char *tt_compose_way_on(const tt_menu *m, tt_phrases *const *ph, int lang, int node,
                        int back_to)
{
    struct said_to o = {0};
    return choices(m, ph, lang, node, back_to, false, &o);
}

static char *help(const tt_menu *m, tt_phrases *const *ph, int lang,
                  const struct tt_help_menu *h, int lead, struct said_to *o)
{
    static const enum tt_phrase_id said_as[] = {
        [TT_HELP_WHERE] = TT_PH_HELP_WHERE,   [TT_HELP_SETTINGS] = TT_PH_HELP_SETTINGS,
        [TT_HELP_RESTART] = TT_PH_HELP_RESTART, [TT_HELP_LANGUAGE] = TT_PH_HELP_LANGUAGE,
        [TT_HELP_SLOWER] = TT_PH_SET_SLOWER,  [TT_HELP_FASTER] = TT_PH_SET_FASTER,
        [TT_HELP_LOUDER] = TT_PH_SET_LOUDER,  [TT_HELP_SOFTER] = TT_PH_SET_SOFTER,
        [TT_HELP_PAUSE] = TT_PH_SET_PAUSE,
    };
    struct tt_phrase_args a;
    o->p = ph[lang];
    tt_sb_init(&o->sb);
    if (lead >= 0)
        say(o, (enum tt_phrase_id)lead, NULL);
    say(o, h->settings ? TT_PH_SETTINGS : TT_PH_HELP, NULL);
    for (size_t i = 0; i < h->n; i++) {
        /* Language items are said by the session in their own language, as their own part. */
        if (h->item[i].action == TT_HELP_LANGUAGE)
            continue;
        if (h->item[i].action == TT_HELP_SAFETY) { /* by its title, like a choice */
            a = key_args(m, h->item[i].key, m->nodes[m->safety].title[lang]);
            say(o, TT_PH_CHOICE, &a);
            continue;
        }
        a = key_args(m, h->item[i].key, NULL);
        say(o, said_as[h->item[i].action], &a);
    }
    return tt_sb_take(&o->sb);
}

char *tt_compose_help(const tt_menu *m, tt_phrases *const *ph, int lang,
                      const struct tt_help_menu *h, int lead)
{
    struct said_to o = {0};
    return help(m, ph, lang, h, lead, &o);
}

int tt_compose_help_each(const tt_menu *m, tt_phrases *const *ph, int lang,
                         const struct tt_help_menu *h, struct tt_said *each, size_t max)
{
    struct said_to o = {.each = each, .max = max};
    return each_of(help(m, ph, lang, h, -1, &o), &o);
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
