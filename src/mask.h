/*
 * Masking a listener's entry wherever it turns up in text: in a lookup's answer before it is
 * shown, in a lookup's complaints before they reach a log.
 *
 * People and programs write numbers in many ways: a case number 20310001 may come back as
 * "2031-0001", "2 0 3 1 0 0 0 1" or "(2031) 0001". So digits count as one run when only a few
 * separator characters stand between them, and a run is masked where a long enough stretch of
 * its digits appears, in order, in the entry.
 */
#ifndef TT_MASK_H
#define TT_MASK_H

#include <stddef.h>

/* Characters that may stand between the digits of one number ("2031-0001", "(2031) 0001"). */
#define TT_MASK_SEPARATORS " -./,_:()"
/* At most this many separators in a row still join digits into one number. */
#define TT_MASK_MAX_GAP 3

/**
 * Replace with '*' every digit of text that belongs to a stretch of at least min_run digits
 * (separators between them ignored) which also appears, in the same order, in entry.
 * min_run = strlen(entry) masks only the whole entry; a smaller one masks parts of it too.
 * @param text   NUL-terminated; changed in place (digits only: the length stays the same)
 * @param entry  the listener's digits ('0'-'9' only); NULL or "" masks nothing
 * @return how many digits were masked
 */
size_t tt_mask_digits(char *text, const char *entry, size_t min_run);

#endif
