/*
 * Diagnostics internals: tests and the command line read messages back one by one, and tools
 * (the loader, the linter) tag a message with the id of the rule that found it, so that
 * `tonetree check` prints "FILE:LINE: error: message [rule-id]" the way compilers do and
 * scripts can pick findings by rule.
 */
#ifndef TT_DIAG_H
#define TT_DIAG_H

#include <stdio.h>

#include "tonetree.h"

#define TT_DIAG_MAX 200

struct tt_diag_msg {
    enum tt_severity sev;
    char *file; /* NULL when the message is about no file */
    int line;   /* 0 when it is about no line */
    char *text;
    char *rule; /* the rule's id ("dangling-key"), NULL when no rule found it */
};

size_t tt_diag_len(const tt_diag *d);

/** Every error so far becomes a warning: for a failure the caller lives with (a kiosk with no
 *  sound card goes on with the words on its screen), so the user reads "warning", not "error". */
void tt_diag_soften(tt_diag *d);
const struct tt_diag_msg *tt_diag_get(const tt_diag *d, size_t i);

/** tt_diag_add, with the id of the rule that found it (rule may be NULL: no rule). */
void tt_diag_add_rule(tt_diag *d, enum tt_severity sev, const char *file, int line,
                      const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/**
 * Print every message as tt_diag_print does, with " [rule-id]" after each message a rule found:
 * "menus/x.ini:14: error: key 3 goes to 'stpes', which is not a node [dangling-key]". This is
 * what `tonetree check` prints. tt_diag_print leaves the ids out, so that the other commands
 * (and the tests that read their output) keep the plain sentences.
 */
void tt_diag_print_rules(const tt_diag *d, FILE *f);

/**
 * Print every message as one JSON array of objects, in the order added:
 * [{"file": "menus/x.ini", "line": 12, "severity": "error", "rule": "dangling-key",
 *   "message": "..."}, ...]. file and rule are null when the message has none, line is 0 when
 * it is about no line; messages past the most a list keeps come last as one note. Strings are
 * escaped, and bytes that are not UTF-8 become U+FFFD, so the output is always valid JSON.
 */
void tt_diag_print_json(const tt_diag *d, FILE *f);

#endif
