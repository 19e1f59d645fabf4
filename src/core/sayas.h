/*
 * Say-as marks: a number written once in a menu text, spoken one way and shown another.
 *
 * A telephone number written for the voice ("1. 8 0 0. 7 9 9.") reads badly on a screen and
 * on braille, and one written for the eye ("1-800-799-7233") is read by a voice as "one
 * minus eight hundred". So the author writes {tel:1-800-799-7233} once: the voice gets the
 * digits one by one, a pause after each group, and the screen, the transcript and the review
 * page get the number as written. Like SSML's say-as, but in the menu's own plain text.
 *
 *   {tel:1-800-799-7233}   a telephone number: digits one by one, a pause between groups
 *   {digits:2031-0001}     a case or reference number: the same
 *   {date:2027-03-05}      a date: "March 5, 2027" (English), "5 de marzo de 2027" (Spanish)
 */
#ifndef TT_SAYAS_H
#define TT_SAYAS_H

#include <stddef.h>

/**
 * Write out the marks of in for language lang ("en", "es", ...).
 * @param spoken  the words for the voice (caller frees)
 * @param shown   the words for the eye (caller frees), or NULL when in has no marks
 * @param why     on EINVAL: what is wrong, for a message (column counted from 1)
 * @return 0, EINVAL for a mark that cannot be read, ENOMEM
 */
int tt_sayas_expand(const char *in, const char *lang, char **spoken, char **shown, char *why,
                    size_t why_size);

#endif
