/*
 * Finding a listener's entry wherever it turns up in text, so that it can be masked: in a
 * lookup's answer before it is shown, in a lookup's complaints before they reach a log.
 *
 * People and programs write numbers in many ways: a case number 20310001 may come back as
 * "2031-0001", "2 0 3 1 0 0 0 1" or "(2031) 0001". So digits with only separators between
 * them (anything that is not an ASCII letter or digit: spaces, - . / , _ : ( ), and every
 * non-ASCII character) are read as one number, and a letter ends a number, so that
 * "hearings.csv:12: no such case" keeps its 12. Within a number, every digit that belongs to
 * a stretch of at least `run` digits also found, in the same order, in the entry is masked.
 * An entry shorter than `run` is masked only where it makes up a whole number by itself.
 *
 * The run is the caller's choice: the whole entry where the rest of the text matters (an
 * answer that names the year 2031 must keep it), 4 where nothing of the entry may leak (a
 * log: pieces shorter than 4 match too many innocent numbers, a line number or a time, and
 * give little of an 8-digit number away; every longer piece contains a 4-digit one).
 */
#ifndef TT_MASK_H
#define TT_MASK_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Mark the digits of text[0..len) that belong to the entry (see above).
 * @param entry  the listener's digits ('0'-'9' only); NULL or "" marks nothing
 * @param run    the shortest stretch of the entry that counts (0 means the whole entry)
 * @param mark   len flags, set true for each character to mask (digits only)
 * @return how many were marked
 */
size_t tt_mask_mark(const char *text, size_t len, const char *entry, size_t run, bool *mark);

/**
 * Replace with '*' every digit tt_mask_mark marks, in place (the length stays the same).
 * @return how many were masked, or (size_t)-1 when out of memory (text then unchanged)
 */
size_t tt_mask_digits(char *text, const char *entry, size_t run);

#endif
