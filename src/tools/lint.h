/*
 * The menu linter: what `tonetree check` finds in a menu that loaded.
 *
 * The loader already refuses what would break a session (a key to no node, a choice on an
 * engine key, a page loop, a missing translation) and warns about what it sees on the way (a
 * node nobody reaches, more than 4 choices). The linter looks further, at what a listener
 * would trip over though the menu runs: a text that says "press 3" on a node with no 3,
 * choices numbered 1, 2, 4, two choices that sound the same, a circle of menus that going
 * forward never leaves, a prompt too long to follow, a node buried too deep, and recordings
 * that are missing, unreadable, misnamed or do not match their text.
 *
 * Every finding names the menu file, the line to change and a rule id; docs/lint-rules.md
 * explains each rule (what it catches, why it matters to a listener, how to fix it).
 */
#ifndef TT_LINT_H
#define TT_LINT_H

#include <stdbool.h>

#include "tonetree.h"

/* Defaults, used where tt_lint_opts leaves a number at 0. */
/* A text longer than 20 s is hard to hold in mind by ear, above all under stress. */
#define TT_LINT_MAX_PROMPT_SECONDS 20.0
#define TT_LINT_MAX_DEPTH 8             /* choices from the start node; pages do not count */
/* The engines speak at about 150 words a minute (TT_TTS_PACE_WPM); the pauses at periods and
 * digit groups make a text a little slower: bench_pace measures it on the guide, and
 * docs/lint-rules.md has the table. */
#define TT_LINT_WORDS_PER_MINUTE 145
#define TT_LINT_MAX_CHOICES 4 /* ISO/IEC 13714; the loader warns above 4 in any case */

struct tt_lint_opts {
    /* Recordings are looked for in <prompts_dir>/<lang>/<node>.<ext>, as the prompt store
     * does; NULL: recordings are not looked at (nothing is opened). */
    const char *prompts_dir;
    /* Every node should have a recording in every language: one that has none is a finding
     * (recording-missing). Only with prompts_dir. */
    bool expect_recordings;
    double max_prompt_seconds; /* prompt-too-long above this; 0: TT_LINT_MAX_PROMPT_SECONDS */
    int max_depth;             /* node-too-deep beyond this; 0: TT_LINT_MAX_DEPTH */
    int words_per_minute;      /* to estimate speaking time; 0: TT_LINT_WORDS_PER_MINUTE */
    int max_choices;           /* too-many-choices above this; 0: TT_LINT_MAX_CHOICES */
};

/**
 * Lint a loaded menu: every finding goes to diag as a note, warning or error at the menu's
 * file and line, tagged with its rule id (tt_diag_add_rule), in line order.
 * @param m     a menu from tt_menu_load
 * @param o     options, or NULL for the defaults (no recordings looked at)
 * @param diag  receives the findings (may be NULL: then only the return value tells)
 * @return 0 (findings or not: count diag's errors to know), EINVAL for a NULL menu or a
 *         negative limit, ENOMEM
 */
int tt_lint(const tt_menu *m, const struct tt_lint_opts *o, tt_diag *diag);

#endif
