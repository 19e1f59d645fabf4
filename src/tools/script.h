/*
 * The spoken script: everything a session of a menu can say, written out as text for the
 * people who review it without pressing through it (court staff, lawyers, interpreters).
 *
 * Nothing here is reworded: each node's choices come from tt_compose_choices and help, settings
 * and the engine's short phrases from the same compose functions the session calls, so the
 * script is what is spoken. Three forms: plain text wrapped for a braille embosser, Markdown,
 * and a complete accessible HTML page.
 *
 * The reading order (a depth-first walk from the start in key order) and each node's key path
 * are shared with the graph and the prompt lists, so every tool lists nodes in the same order.
 */
#ifndef TT_SCRIPT_H
#define TT_SCRIPT_H

#include <stdbool.h>
#include <stdio.h>

#include "core/menu.h"
#include "core/phrase.h"

enum tt_script_format { TT_SCRIPT_TXT, TT_SCRIPT_MD, TT_SCRIPT_HTML };

#define TT_SCRIPT_WIDTH 60     /* default text width: fits large print and most embossers */
#define TT_SCRIPT_MIN_WIDTH 20 /* narrower than this, a key path or a label would not fit */

struct tt_script_opts {
    int width;               /* text form: wrap at this many characters (0: TT_SCRIPT_WIDTH) */
    const char *prompts_dir; /* note the recordings found in <dir>/<lang>/, or NULL */
};

/**
 * Write the whole spoken script of a menu in one language.
 * @param f     where it goes (nothing else is printed)
 * @param ph    the phrases of every language (tt_phrases_load_all)
 * @param lang  language index
 * @param o     options, or NULL for the defaults
 * @return 0, EINVAL for a bad language or width (message in diag), ENOMEM, or EIO when f
 *         could not be written
 */
int tt_script_write(FILE *f, const tt_menu *m, tt_phrases *const *ph, int lang,
                    enum tt_script_format fmt, const struct tt_script_opts *o, tt_diag *diag);

/**
 * Fill words into lines of at most width characters (UTF-8 characters), the first line
 * indented by first spaces, the others by rest. Never breaks inside a spaced-out number
 * ("7 2 3 3") or before a short last word ("press 1."); a word longer than a line stands on
 * a line of its own.
 */
void tt_script_wrap(FILE *f, const char *s, int width, int first, int rest);

/** "txt" (or "text"), "md" (or "markdown"), "html": 0, or EINVAL for any other name. */
int tt_script_format_parse(const char *name, enum tt_script_format *fmt);

/* ---- The reading order ------------------------------------------------------------------- */

/* Every node once: first those reachable from the start, depth first in the order a listener
 * meets the keys (choices 1 to 9, then 0, then the next page, then the previous page), then
 * the rest, each walked the same way from the first one in file order. */
struct tt_walk {
    size_t n;       /* the menu's node count */
    size_t nreach;  /* order[0 .. nreach) are reachable from the start */
    int *order;     /* node indices in reading order */
    int *rank;      /* per node: its place in order */
    int *via;       /* per node: the node it was first reached from, or -1 */
    char *via_key;  /* per node: the key pressed there (a choice digit, skip or back) */
    int *back;      /* per node: where the way back leads, as a listener who came by that
                     * path hears it offered (the session's history), or -1 */
};

/** Walk a menu. Returns 0 or ENOMEM; free with tt_walk_free. */
int tt_walk_menu(const tt_menu *m, struct tt_walk *w);
void tt_walk_free(struct tt_walk *w);
/** Is the node reachable from the start? */
bool tt_walk_reachable(const struct tt_walk *w, int node);
/**
 * The keys a listener presses from the start to reach a node, separated by spaces: "3 # #".
 * "" for the start node and for nodes that cannot be reached.
 * @return a new string (caller frees), or NULL when out of memory
 */
char *tt_walk_keys(const struct tt_walk *w, int node);

#endif
