/*
 * Edit distance, for the "did you mean 'steps'?" in error messages. A court clerk who types
 * 'stpes' should be told the fix, not just that something is wrong; the loader and the keymap
 * reader both ask this one function which known name is closest.
 */
#include "base/suggest.h"

int tt_edit_distance(const char *a, size_t la, const char *b, size_t lb, int k, long *budget)
{
    int row[2][TT_SUGGEST_MAX_LEN + 1];
    if ((la > lb ? la - lb : lb - la) > (size_t)k || la > TT_SUGGEST_MAX_LEN ||
        lb > TT_SUGGEST_MAX_LEN)
        return k + 1;
    for (size_t j = 0; j <= lb; j++)
        row[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int *prev = row[(i - 1) & 1], *cur = row[i & 1];
        int best = cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int v = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            cur[j] = v;
            if (v < best)
                best = v;
        }
        if (budget)
            *budget -= (long)lb;
        if (best > k)
            return k + 1;
    }
    return row[la & 1][lb];
}
