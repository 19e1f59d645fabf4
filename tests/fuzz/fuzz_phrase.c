/*
 * libFuzzer target for the phrase loader: any bytes go to tt_phrases_load_mem, which must answer
 * with phrases or with EINVAL and at least one error, never crash, leak or hang (the sanitizers
 * and libFuzzer's timeout watch for those). Phrases that load must keep what the engine relies
 * on without checking: every phrase there and not empty, and every one of them text a screen, a
 * braille display and a transcript can take (strict UTF-8, no control characters but tab, no
 * direction controls), checked here with a decoder of its own rather than the loader's, filled
 * in and said as the session says them. And the line scan must agree with iniparser about every
 * line (tt_iniscan_misses).
 *
 * Build: make build/fuzz/fuzz_phrase; run: make fuzz (FUZZ_SMALL_SECONDS=600 for a longer run).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "iniscan.h"
#include "phrase.h"
#include "strbuf.h"

/* True when s is UTF-8 with nothing a screen would take as a command or reorder. */
static int clean_text(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], cp, len;
        if (c < 0x80) {
            cp = c;
            len = 1;
        } else if (c >= 0xC2 && c < 0xE0) {
            cp = c & 0x1F;
            len = 2;
        } else if (c >= 0xE0 && c < 0xF0) {
            cp = c & 0x0F;
            len = 3;
        } else if (c >= 0xF0 && c < 0xF5) {
            cp = c & 0x07;
            len = 4;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* overlong forms, surrogates, past U+10FFFF */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        if ((cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F) ||
            (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
            cp == 0x2029)
            return 0;
        i += len;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tt_diag *d = tt_diag_new();
    tt_phrases *p = NULL;
    if (!d)
        return 0;
    int rc = tt_phrases_load_mem(&p, "fuzz/phrases.ini", (const char *)data, size, d);
    if (rc == 0) {
        if (!p || tt_diag_count(d, TT_ERROR))
            abort();
        const struct tt_phrase_args args = {.title = "the title", .path = "a, then b",
                                            .key = '*', .repeat = '5', .back = '*', .skip = '#',
                                            .end = '9', .n = 1, .count = 2, .digits = "1 2"};
        for (int id = 0; id < TT_PH_COUNT; id++) {
            const char *t = tt_phrase_get(p, id);
            if (!t || !*t || !clean_text((const unsigned char *)t, strlen(t)))
                abort();
            struct tt_strbuf sb;
            tt_sb_init(&sb);
            tt_phrase_say(p, id, &args, &sb);
            if (sb.len && !clean_text((const unsigned char *)sb.s, sb.len))
                abort();
            tt_sb_free(&sb);
        }
    } else if (p || (rc == EINVAL && !tt_diag_count(d, TT_ERROR))) {
        abort();
    }
    if (tt_iniscan_misses) {
        tt_diag_print(d, stderr);
        abort();
    }
    tt_phrases_free(p);
    tt_diag_free(d);
    return 0;
}
