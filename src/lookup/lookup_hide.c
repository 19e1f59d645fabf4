/*
 * Hiding a caller's entry in text bound for a log. A lookup command's standard error may
 * mention the case number it was given, the log is read by staff, and the caller may be in
 * danger from someone who can read it.
 *
 * Which digits are the entry is mask.c's rule, the one the session also uses to mask an
 * answer, here with its strictest run: no 4 digits in a row of the entry survive, however
 * they are written. Each run of hidden digits, with the separators inside it, becomes
 * "[entry]", so a reader sees that something was taken out and not how long it was.
 *
 * Why what comes out is safe: the digits left of a number are the runs the rule did not
 * hide, now separated by "[entry]", whose letters end a number; a 4-digit stretch of one of
 * those runs found in the entry would have been hidden.
 */
#include <stdlib.h>
#include <string.h>

#include "base/mask.h"
#include "base/strbuf.h"
#include "lookup/lookup.h"

#define PIECE 4 /* the shortest stretch of the entry that is hidden */
#define MARK "[entry]"

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

char *tt_lookup_hide_entry(const char *text, size_t len, const char *entry)
{
    bool *hide = malloc(len ? len : 1);
    if (!hide || tt_mask_mark(text, len, entry, PIECE, hide) == (size_t)-1) {
        free(hide);
        return NULL;
    }
    struct tt_strbuf b;
    tt_sb_init(&b);
    for (size_t i = 0; i < len;) {
        if (!hide[i]) {
            tt_sb_addn(&b, text + i, 1);
            i++;
            continue;
        }
        /* A hidden run: on to the last hidden digit before a digit that stays, a letter, or
         * the end; the separators inside it go with it. */
        size_t last = i;
        for (size_t j = i + 1; j < len && !is_letter(text[j]); j++) {
            if (hide[j])
                last = j;
            else if (text[j] >= '0' && text[j] <= '9')
                break;
        }
        tt_sb_add(&b, MARK);
        i = last + 1;
    }
    free(hide);
    return tt_sb_take(&b);
}
