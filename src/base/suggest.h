/* Edit distance for "did you mean" suggestions in error messages. */
#ifndef TT_SUGGEST_H
#define TT_SUGGEST_H

#include <stddef.h>

#define TT_SUGGEST_MAX_LEN 72 /* longer words are never compared */

/**
 * Levenshtein distance of a and b if it is at most k, else k + 1. Stops as soon as a whole
 * row of the table exceeds k (the distance can only grow from there), so comparing a word
 * with many far-off candidates stays cheap.
 * @param budget  if not NULL, decreased by the work done (callers cap it for hostile input)
 */
int tt_edit_distance(const char *a, size_t la, const char *b, size_t lb, int k, long *budget);

#endif
