/*
 * Composing what the engine says from phrases and titles. Pure functions over a menu and a
 * phrase set: the session uses them live, and tools (script, prompts) use them to list every
 * sentence ahead of time, so what is reviewed is exactly what is spoken.
 */
#ifndef TT_COMPOSE_H
#define TT_COMPOSE_H

#include "core/menu.h"
#include "core/phrase.h"

#include <stdbool.h>

/* What help and its settings page offer besides their fixed keys (* to return, 5 to repeat,
 * 9 to end). */
enum tt_help_action {
    TT_HELP_SAFETY, /* the menu's safety node ([tonetree] safety): always help's first item */
    TT_HELP_WHERE,
    TT_HELP_SETTINGS,
    TT_HELP_RESTART,
    TT_HELP_LANGUAGE,
    TT_HELP_SLOWER,
    TT_HELP_FASTER,
    TT_HELP_LOUDER,
    TT_HELP_SOFTER,
    TT_HELP_PAUSE
};

struct tt_help_item {
    int key;
    enum tt_help_action action;
    int lang; /* for TT_HELP_LANGUAGE: the language it switches to */
};

struct tt_help_menu {
    bool settings; /* the settings page rather than help itself */
    struct tt_help_item item[TT_MAX_LANGS + 4];
    size_t n;
};

/** Help's items for a session in language lang: the safety node first (when the menu names
 *  one), then where, settings, start again, then every other language on its own key; or
 *  with settings, the settings page's. */
void tt_help_build(const tt_menu *m, int lang, bool settings, struct tt_help_menu *h);
/** The item a key picks, or NULL. */
const struct tt_help_item *tt_help_find(const struct tt_help_menu *h, int key);

/**
 * The choices of a node: one sentence per choice, then the page keys, then a way back.
 * @param back_to  the node * returns to from here (the one the listener came from), or -1
 * @return a new string (caller frees), or NULL when out of memory
 */
char *tt_compose_choices(const tt_menu *m, tt_phrases *const *ph, int lang, int node,
                         int back_to);
/** One sentence of a composition and the phrase it comes from. */
struct tt_said {
    enum tt_phrase_id id;
    char *text; /* the caller frees it */
};
/** At most: every choice, two page keys (or one and a way back), how to leave an entry, the
 *  help hint. */
#define TT_MAX_SAID (TT_MAX_CHOICES + 4)
/**
 * The sentences of tt_compose_choices one by one, each with its phrase, from the same code:
 * for tools that measure phrases on their own (bench_voices), so they cannot drift from what
 * the engine says. Fills each (room for max, TT_MAX_SAID is enough) and returns how many, or
 * -1 when out of memory or when max is too small (then nothing is left to free).
 */
int tt_compose_choices_each(const tt_menu *m, tt_phrases *const *ph, int lang, int node,
                            int back_to, struct tt_said *each, size_t max);
/** The same without what is only said while digits are typed at an input node (how to
 *  leave while 9 is a digit): for a read-back, a lookup's answer, and the like. */
char *tt_compose_way_on(const tt_menu *m, tt_phrases *const *ph, int lang, int node,
                        int back_to);
/** The help menu's heading and items (not languages), optionally led by a phrase (TT_PH_TO_HELP after failed tries, or -1). */
char *tt_compose_help(const tt_menu *m, tt_phrases *const *ph, int lang,
                      const struct tt_help_menu *h, int lead);
/** Help's sentences one by one (without a lead), like tt_compose_choices_each; room for 6
 *  (the heading and the settings page's five items; languages are not composed here). */
int tt_compose_help_each(const tt_menu *m, tt_phrases *const *ph, int lang,
                         const struct tt_help_menu *h, struct tt_said *each, size_t max);
/** The end of the help menu: how to return, and the keys that work everywhere. */
char *tt_compose_help_tail(const tt_menu *m, const tt_phrases *p);
/** "You are in the main menu, then the steps, then step two." */
char *tt_compose_where(const tt_menu *m, const tt_phrases *p, int lang, const int *path,
                       size_t n);
/**
 * What up and down step through at a node: its choices (1 to 9, then 0), then its next and
 * previous pages. Fills items (room for TT_MAX_CHOICES + 2) and returns how many.
 */
size_t tt_browse_items(const tt_menu *m, int node, int *items);
/** "Choice 2 of 3: the warnings. To choose it, press select." */
char *tt_compose_browse(const tt_menu *m, const tt_phrases *p, int lang, int item, size_t n,
                        size_t count);
/** One phrase, with a key named in it where the phrase has {key}. */
char *tt_compose_phrase(const tt_menu *m, const tt_phrases *p, enum tt_phrase_id id, int key);

#endif
