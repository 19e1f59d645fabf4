/*
 * Hiding a caller's entry in text bound for a log. A lookup command's standard error may
 * mention the case number it was given, the log is read by staff, and the caller may be in
 * danger from someone who can read it.
 *
 * The rule: no 4 digits in a row of the entry survive, however they are written. Digits with
 * only separators between them (anything that is not an ASCII letter or digit: spaces,
 * - . / , _ : ( ), and every non-ASCII character) are read as one number, because a person
 * reads "2031-0001", "(2031) 0001" and "2 0 3 1 0 0 0 1" as the same case number. Within
 * such a number every digit that belongs to a 4-digit stretch also found in the entry is
 * hidden, and each run of hidden digits, with the separators inside it, becomes "[entry]".
 * A letter ends a number, so "hearings.csv:12: no such case" keeps its 12.
 *
 * Why 4: pieces shorter than that match too many innocent numbers (a line number, a time)
 * and give little of an 8-digit case number away; every longer piece contains a 4-digit
 * one. An entry of fewer than 4 digits is hidden where it makes up a whole number by itself.
 *
 * Why what comes out is safe: the digits left of a number are the runs the rule did not
 * hide, now separated by "[entry]", whose letters end a number; a 4-digit stretch of one
 * of those runs found in the entry would have been hidden.
 */
#define _GNU_SOURCE /* memmem */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lookup.h"
#include "strbuf.h"

#define PIECE 4 /* the shortest stretch of the entry that is hidden */
#define MARK "[entry]"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Mark the digits d[0..k) of one number that must be hidden. */
static void mark_number(const char *d, size_t k, const char *entry, size_t elen, bool *hide)
{
    memset(hide, 0, k);
    if (elen < PIECE) { /* a short entry: only a whole number equal to it */
        if (k == elen && !memcmp(d, entry, k))
            memset(hide, 1, k);
        return;
    }
    for (size_t t = 0; t + PIECE <= k; t++)
        if (memmem(entry, elen, d + t, PIECE))
            memset(hide + t, 1, PIECE);
}

char *tt_lookup_hide_entry(const char *text, size_t len, const char *entry)
{
    struct tt_strbuf b;
    tt_sb_init(&b);
    size_t elen = strlen(entry);
    size_t *pos = malloc((len + 1) * sizeof(*pos)); /* where each digit of a number stands */
    char *d = malloc(len + 1);                       /* the digits themselves */
    bool *hide = malloc(len + 1);
    if (!pos || !d || !hide) {
        free(pos);
        free(d);
        free(hide);
        return NULL;
    }
    size_t i = 0;
    while (i < len) {
        if (!is_digit(text[i]) || elen == 0) {
            tt_sb_addn(&b, text + i, 1);
            i++;
            continue;
        }
        /* A number: from this digit, across separators, to the last digit before a letter
         * or the end. The separators after its last digit are not part of it. */
        size_t k = 0, end = i;
        for (size_t j = i; j < len && !is_letter(text[j]); j++)
            if (is_digit(text[j])) {
                pos[k] = j;
                d[k++] = text[j];
                end = j + 1;
            }
        mark_number(d, k, entry, elen, hide);
        size_t cur = i;
        for (size_t t = 0; t < k;) {
            if (!hide[t]) {
                t++;
                continue;
            }
            size_t last = t;
            while (last + 1 < k && hide[last + 1])
                last++;
            tt_sb_addn(&b, text + cur, pos[t] - cur);
            tt_sb_add(&b, MARK);
            cur = pos[last] + 1;
            t = last + 1;
        }
        tt_sb_addn(&b, text + cur, end - cur);
        i = end;
    }
    free(pos);
    free(d);
    free(hide);
    return tt_sb_take(&b);
}
