/*
 * What the fuzzers hold every loaded word to: text a screen, a braille display and a
 * transcript can take as it is. Written here with a decoder of its own, not the loaders'
 * (src/base/textcheck.c), so that a mistake there is not repeated in the check of it.
 */
#ifndef TT_FUZZ_TEXT_H
#define TT_FUZZ_TEXT_H

#include <stddef.h>

/* One character of strict UTF-8 (RFC 3629) at s[0..n): its length, with its code point in
 * *cp, or 0 when it is broken (a bad or missing byte, an overlong form, a surrogate, past
 * U+10FFFF). */
static inline size_t fuzz_utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0], len;
    if (c < 0x80) {
        *cp = c;
        len = 1;
    } else if (c >= 0xC2 && c < 0xE0) {
        *cp = c & 0x1F;
        len = 2;
    } else if (c >= 0xE0 && c < 0xF0) {
        *cp = c & 0x0F;
        len = 3;
    } else if (c >= 0xF0 && c < 0xF5) {
        *cp = c & 0x07;
        len = 4;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (unsigned k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[k] & 0x3F);
    }
    if ((len == 3 && *cp < 0x800) || (len == 4 && (*cp < 0x10000 || *cp > 0x10FFFF)) ||
        (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return len;
}

/* True when s is strict UTF-8 with no control character but tab, no direction control and no
 * line or paragraph separator. */
static inline int fuzz_clean_text(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t len = fuzz_utf8_next(s + i, n - i, &cp);
        if (!len)
            return 0;
        if ((cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F) ||
            (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
            cp == 0x2029)
            return 0;
        i += len;
    }
    return 1;
}

#endif
