/*
 * Masking an entry in text (see mask.h).
 *
 * The text is walked one number at a time: the digits of a number, and where each one stands
 * in the text, are gathered first (separators skipped), then every stretch of at least
 * min_run of them that appears in the entry is marked, and the marked digits become '*'.
 * Texts here are short (an answer is capped at a few kilobytes, an entry at 64 digits), so
 * the plain quadratic search is both fast enough and easy to check.
 */
#include <stdbool.h>
#include <string.h>

#include "mask.h"

#define MAX_NUMBER 256 /* digits gathered per number; a longer one is masked in pieces */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Does d[0..n) appear in entry? */
static bool in_entry(const char *d, size_t n, const char *entry, size_t elen)
{
    for (size_t i = 0; i + n <= elen; i++)
        if (!memcmp(entry + i, d, n))
            return true;
    return false;
}

/* Mark the digits of one number that lie in a long enough stretch found in the entry. */
static size_t mask_number(char *text, const size_t *at, const char *d, size_t n,
                          const char *entry, size_t elen, size_t min_run)
{
    bool mark[MAX_NUMBER] = {false};
    size_t masked = 0;
    for (size_t a = 0; a + min_run <= n; a++) {
        /* The longest stretch from a that the entry holds; shorter ones are inside it. */
        size_t len = 0;
        for (size_t b = n; b >= a + min_run; b--)
            if (in_entry(d + a, b - a, entry, elen)) {
                len = b - a;
                break;
            }
        for (size_t i = a; i < a + len; i++)
            mark[i] = true;
    }
    for (size_t i = 0; i < n; i++)
        if (mark[i]) {
            text[at[i]] = '*';
            masked++;
        }
    return masked;
}

size_t tt_mask_digits(char *text, const char *entry, size_t min_run)
{
    size_t elen = entry ? strlen(entry) : 0;
    size_t masked = 0;
    if (!elen || !text)
        return 0;
    if (min_run == 0)
        min_run = 1;
    if (min_run > elen)
        min_run = elen;
    char d[MAX_NUMBER];
    size_t at[MAX_NUMBER];
    size_t n = 0;
    for (size_t i = 0;; i++) {
        char c = text[i];
        if (is_digit(c) && n < MAX_NUMBER) {
            d[n] = c;
            at[n++] = i;
            continue;
        }
        /* Separators join digits only if another digit follows soon enough. */
        size_t gap = 0;
        while (n && n < MAX_NUMBER && gap < TT_MASK_MAX_GAP && text[i + gap] &&
               strchr(TT_MASK_SEPARATORS, text[i + gap]))
            gap++;
        if (n && n < MAX_NUMBER && gap && is_digit(text[i + gap])) {
            i += gap - 1;
            continue;
        }
        if (n >= min_run)
            masked += mask_number(text, at, d, n, entry, elen, min_run);
        n = 0;
        if (is_digit(c)) { /* a number longer than MAX_NUMBER: go on with a new piece */
            d[n] = c;
            at[n++] = i;
            continue;
        }
        if (!c)
            break;
    }
    return masked;
}
