/*
 * The text rules of every file the engine loads (see textcheck.h).
 *
 * One pass over the bytes, a line at a time: the whole-file faults first (UTF-16 and NUL bytes
 * make every line meaningless, so they get one message and nothing more), then each line is
 * decoded as strict UTF-8 and its first forbidden character named with its column, counted in
 * characters as an editor counts them. Bytes that are not UTF-8 are one message for the whole
 * file (the fix, saving as UTF-8, is one action for all of them); every other fault is a
 * message on its own line, as each is deleted by hand.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/textcheck.h"

size_t tt_text_bom(const char *data, size_t len)
{
    return len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3) ? 3 : 0;
}

/* One strict UTF-8 character at p (no overlong forms, no surrogates, nothing above U+10FFFF):
 * its length, or 0 when the bytes there are not UTF-8. */
static size_t utf8_char(const unsigned char *p, size_t n, unsigned *cp)
{
    unsigned c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t need;
    unsigned lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0; /* overlong below */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates above */
        c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
        c &= 0x07;
    } else {
        return 0;
    }
    if (n <= need || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 1; k <= need; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[k] & 0x3F);
    }
    *cp = c;
    return need + 1;
}

/* What a forbidden character is called, or NULL when it is allowed. A CR is allowed as the last
 * byte of a line: that is a Windows line end. */
static const char *forbidden(unsigned cp, bool at_end, char *buf, size_t size)
{
    static const struct {
        unsigned cp;
        const char *name;
    } named[] = {
        {0x202A, "LEFT-TO-RIGHT EMBEDDING"},  {0x202B, "RIGHT-TO-LEFT EMBEDDING"},
        {0x202C, "POP DIRECTIONAL FORMATTING"}, {0x202D, "LEFT-TO-RIGHT OVERRIDE"},
        {0x202E, "RIGHT-TO-LEFT OVERRIDE"},   {0x2066, "LEFT-TO-RIGHT ISOLATE"},
        {0x2067, "RIGHT-TO-LEFT ISOLATE"},    {0x2068, "FIRST STRONG ISOLATE"},
        {0x2069, "POP DIRECTIONAL ISOLATE"},  {0x2028, "LINE SEPARATOR"},
        {0x2029, "PARAGRAPH SEPARATOR"},
    };
    if (cp == '\t' || (cp == '\r' && at_end))
        return NULL;
    if (cp == 0x1B) {
        snprintf(buf, size, "an escape character (ESC)");
        return buf;
    }
    if (cp == '\r') {
        snprintf(buf, size, "a carriage return (CR)");
        return buf;
    }
    if (cp < 0x20 || cp == 0x7F) {
        snprintf(buf, size, "the control character U+%04X", cp);
        return buf;
    }
    if (cp >= 0x80 && cp <= 0x9F) {
        snprintf(buf, size, "the C1 control character U+%04X", cp);
        return buf;
    }
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        if (named[i].cp == cp) {
            snprintf(buf, size, "the invisible character U+%04X %s", cp, named[i].name);
            return buf;
        }
    }
    return NULL;
}

/* Why the character is refused and what to do, after "this line holds X at column N". */
static const char *fix_for(unsigned cp)
{
    if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
        return "it makes a screen show the words in another order than they are spoken; delete "
               "it (right-to-left words need no such character: a screen orders their letters "
               "itself)";
    if (cp == 0x2028 || cp == 0x2029)
        return "a screen or a transcript would break the line there; delete it";
    if (cp == '\r')
        return "a screen would go back to the start of the line and write the rest over it; "
               "delete it (a CR is fine only at the very end of a line)";
    return "it would reach the screen, the braille display and the transcript as a command, "
           "not as a letter; delete it (an editor may show it as a box, or as ^ and a letter)";
}

/* UTF-16 has a byte order mark, or, for text in Latin letters, a NUL in every other byte. */
static bool looks_utf16(const unsigned char *u, size_t len)
{
    if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        return true;
    size_t pairs = (len < 4096 ? len : 4096) / 2, hi_nul = 0, lo_nul = 0;
    for (size_t i = 0; i < pairs; i++) {
        hi_nul += u[2 * i] && !u[2 * i + 1];
        lo_nul += !u[2 * i] && u[2 * i + 1];
    }
    return pairs && (hi_nul * 2 > pairs || lo_nul * 2 > pairs);
}

static void say(tt_text_report_fn *report, void *arg, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void say(tt_text_report_fn *report, void *arg, int line, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    report(arg, line, text);
}

enum tt_text_verdict tt_text_check(const char *data, size_t len, const char *what,
                                   tt_text_report_fn *report, void *arg)
{
    const unsigned char *u = (const unsigned char *)data;
    const char *nul = memchr(data, '\0', len);
    if (looks_utf16(u, len)) {
        say(report, arg, 1, "this file is UTF-16: save it as UTF-8");
        return TT_TEXT_NOT_TEXT;
    }
    if (nul) {
        int line = 1;
        for (const char *p = data; (p = memchr(p, '\n', (size_t)(nul - p))) != NULL; p++)
            line++;
        say(report, arg, line,
            "this line has a NUL byte: %s must be plain text, saved as UTF-8 (is it a word "
            "processor document?)",
            what);
        return TT_TEXT_NOT_TEXT;
    }

    enum tt_text_verdict verdict = TT_TEXT_OK;
    int line = 0, bad_utf8 = 0, more_utf8 = 0;
    for (size_t pos = 0; pos < len;) {
        const unsigned char *p = u + pos;
        const unsigned char *nl = memchr(p, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - p) : len - pos;
        pos += n + (nl ? 1 : 0);
        line++;

        bool utf8 = true, found = false;
        int column = 0;
        for (size_t i = 0; i < n;) {
            unsigned cp;
            size_t k = utf8_char(p + i, n - i, &cp);
            column++;
            if (!k) {
                utf8 = false;
                i++;
                continue;
            }
            char name[160];
            if (!found && forbidden(cp, i + k == n, name, sizeof(name))) {
                found = true;
                verdict = TT_TEXT_BAD_LINES;
                say(report, arg, line, "this line holds %s at column %d: %s", name, column,
                    fix_for(cp));
            }
            i += k;
        }
        if (!utf8) {
            verdict = TT_TEXT_BAD_LINES;
            if (bad_utf8)
                more_utf8++;
            else
                bad_utf8 = line;
        }
    }
    if (bad_utf8) {
        char more[64] = "";
        if (more_utf8)
            snprintf(more, sizeof(more), " (and %d more line%s after it)", more_utf8,
                     more_utf8 == 1 ? "" : "s");
        say(report, arg, bad_utf8,
            "this line is not valid UTF-8 text%s: save the file as UTF-8 (it may have been "
            "saved as Latin-1 or Windows-1252)",
            more);
    }
    return verdict;
}
