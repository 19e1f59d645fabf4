/*
 * Keys from text: what a caller who types (a TTY on the line, real-time text on SIP) means by
 * each character. Drivers hand over every character typed; this says which ones are keys.
 *
 * Digits, * and # are the telephone keys. Many TTYs have no * or # at all (the US Baudot
 * figures have neither on most machines), and someone reading a menu as text thinks in words,
 * so letters stand for the engine's keys too, by their English initials, the same in every
 * language (the text-mode phrase says them; docs/text-callers.md lists them). They map to the
 * named keys, not to the digits: at a digit entry the end key 9 is a digit, but Q must still
 * leave. Enter ends an entry, as a person who types expects, and so does N (both are the
 * entry's own # then: a named key would pass the entry by); elsewhere Enter means nothing.
 * Everything else (spaces, punctuation, other letters, a backspace: a key, once taken, is not
 * taken back) is ignored rather than counted as a wrong key, so that a greeting typed by habit
 * ("HELLO GA") does not walk anyone into help.
 */
#include <stdbool.h>

#include "tonetree.h"

int tt_text_key(unsigned long ch, bool typing)
{
    if ((ch >= '0' && ch <= '9') || ch == '*' || ch == '#')
        return (int)ch;
    if (ch >= 'a' && ch <= 'z')
        ch -= 'a' - 'A';
    switch (ch) {
    case 'H':
        return TT_KEY_HELP;
    case 'R':
        return TT_KEY_REPEAT;
    case 'B':
        return TT_KEY_BACK;
    case 'N':
        return typing ? '#' : TT_KEY_SKIP;
    case 'Q':
        return TT_KEY_EXIT;
    case '\r':
    case '\n':
    case 0x2028:
        return typing ? '#' : -1;
    default:
        return -1;
    }
}
