/*
 * Text the engine may show and speak: the rules every text file it loads must keep (menus,
 * phrase files, keymaps), in one place so that the three loaders cannot drift apart.
 *
 * Whatever a menu or phrase file says reaches a speech engine, a screen, a braille display and
 * a transcript. So a file must be UTF-8 text (a Latin-1 "é" would reach a braille display as a
 * broken byte), and its lines may hold no control characters (an ESC starts a terminal command
 * on the kiosk screen; a BEL rings it; a CR in mid-line makes a screen write over its own words)
 * and none of the Unicode controls that reorder text on a screen (U+202E shows "Press 1" as
 * "1 sserP", or moves words around, while the voice says them in file order: what is seen and
 * what is heard must be the same words).
 */
#ifndef TT_TEXTCHECK_H
#define TT_TEXTCHECK_H

#include <stddef.h>

/* How bad the bytes are. */
enum tt_text_verdict {
    TT_TEXT_OK = 0,
    TT_TEXT_BAD_LINES, /* some lines break a rule (each reported); the rest can still be read */
    TT_TEXT_NOT_TEXT,  /* not a text file at all (UTF-16, NUL bytes): one message, read no further */
};

/** Called once per problem, with its line (1-based) and the whole message. */
typedef void tt_text_report_fn(void *arg, int line, const char *message);

/**
 * The length of a UTF-8 byte order mark at the start of data: 3, or 0 when there is none.
 * A loader skips it (editors such as Windows Notepad add it; it carries no meaning), and the
 * line numbers stay the same since it stands on line 1.
 */
size_t tt_text_bom(const char *data, size_t len);

/**
 * Check the bytes of a text file (after its byte order mark): UTF-16, NUL bytes, invalid UTF-8,
 * control characters and direction controls, each reported with its line and the fix.
 * @param what  how the file is named in messages ("a menu", "a phrase file")
 * @return the verdict: nothing is reported for TT_TEXT_OK
 */
enum tt_text_verdict tt_text_check(const char *data, size_t len, const char *what,
                                   tt_text_report_fn *report, void *arg);

#endif
