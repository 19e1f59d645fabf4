/*
 * Composing what the engine says from phrases and titles. Pure functions over a menu and a
 * phrase set: the session uses them live, and tools (script, prompts) use them to list every
 * sentence ahead of time, so what is reviewed is exactly what is spoken.
 */
#ifndef TT_COMPOSE_H
#define TT_COMPOSE_H

#include "menu.h"
#include "phrase.h"

/* What help offers besides its fixed keys (* to return, 5 to repeat, 9 to end). */
enum tt_help_action { TT_HELP_WHERE, TT_HELP_RESTART, TT_HELP_LANGUAGE };

struct tt_help_item {
    char key;
    enum tt_help_action action;
    int lang; /* for TT_HELP_LANGUAGE: the language it switches to */
};

struct tt_help_menu {
    struct tt_help_item item[TT_MAX_LANGS + 2];
    size_t n;
};

/** The help menu's items for a session in language lang (one per other language). */
void tt_help_build(const tt_menu *m, int lang, struct tt_help_menu *h);
/** The item a key picks in help, or NULL. */
const struct tt_help_item *tt_help_find(const struct tt_help_menu *h, int key);

/**
 * The choices of a node: one sentence per choice, then the page keys, then a way back.
 * @param back_to  the node * returns to from here (the one the listener came from), or -1
 * @return a new string (caller frees), or NULL when out of memory
 */
char *tt_compose_choices(const tt_menu *m, tt_phrases *const *ph, int lang, int node,
                         int back_to);
/** The help menu's heading and items (not languages), optionally led by a phrase (TT_PH_TO_HELP after failed tries, or -1). */
char *tt_compose_help(const tt_menu *m, tt_phrases *const *ph, int lang,
                      const struct tt_help_menu *h, int lead);
/** The end of the help menu: how to return, and the keys that work everywhere. */
char *tt_compose_help_tail(const tt_menu *m, const tt_phrases *p);
/** "You are in the main menu, then the steps, then step two." */
char *tt_compose_where(const tt_menu *m, const tt_phrases *p, int lang, const int *path,
                       size_t n);
/** One phrase, with a key named in it where the phrase has {key}. */
char *tt_compose_phrase(const tt_menu *m, const tt_phrases *p, enum tt_phrase_id id, int key);

#endif
