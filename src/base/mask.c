/*
 * Finding an entry in text (see mask.h).
 *
 * The text is walked one number at a time: the digits of a number, and where each one stands
 * in the text, are gathered first (separators skipped), then every stretch of `run` of them
 * that the entry holds is marked. A longer piece of the entry is covered by the overlapping
 * stretches inside it. Texts here are short (an answer is capped at a few kilobytes, a log
 * message likewise, an entry at 64 digits), so the plain search is fast enough and easy to
 * check.
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "base/mask.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

size_t tt_mask_mark(const char *text, size_t len, const char *entry, size_t run, bool *mark)
{
    size_t elen = entry ? strlen(entry) : 0, marked = 0;
    memset(mark, 0, len);
    if (!elen)
        return 0;
    if (run == 0)
        run = elen;
    size_t i = 0;
    while (i < len) {
        if (!is_digit(text[i])) {
            i++;
            continue;
        }
        /* A number: from this digit, across separators, to the last digit before a letter or
         * the end of the text. Its digits go to d, where each stands in the text to at. */
        size_t k = 0, end = i;
        for (size_t j = i; j < len && !is_letter(text[j]); j++)
            if (is_digit(text[j]))
                k++, end = j + 1;
        char *d = malloc(k);
        size_t *at = malloc(k * sizeof(*at));
        if (!d || !at) {
            free(d);
            free(at);
            memset(mark, 0, len);
            return (size_t)-1;
        }
        k = 0;
        for (size_t j = i; j < end; j++)
            if (is_digit(text[j]))
                at[k] = j, d[k++] = text[j];
        if (elen < run) { /* a short entry: only a whole number equal to it */
            if (k == elen && !memcmp(d, entry, k))
                for (size_t t = 0; t < k; t++)
                    mark[at[t]] = true;
        } else {
            for (size_t t = 0; t + run <= k; t++)
                if (memmem(entry, elen, d + t, run))
                    for (size_t u = t; u < t + run; u++)
                        mark[at[u]] = true;
        }
        free(d);
        free(at);
        i = end;
    }
    for (size_t j = 0; j < len; j++)
        marked += mark[j];
    return marked;
}

size_t tt_mask_digits(char *text, const char *entry, size_t run)
{
    size_t len = text ? strlen(text) : 0;
    bool *mark = malloc(len ? len : 1);
    if (!mark)
        return (size_t)-1;
    size_t n = tt_mask_mark(text, len, entry, run, mark);
    if (n != (size_t)-1)
        for (size_t i = 0; i < len; i++)
            if (mark[i])
                text[i] = '*';
    free(mark);
    return n;
}
