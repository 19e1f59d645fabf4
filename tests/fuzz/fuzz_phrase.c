/*
 * libFuzzer target for the phrase loader: any bytes go to tt_phrases_load_mem, which must answer
 * with phrases or with EINVAL and at least one error, never crash, leak or hang (the sanitizers
 * and libFuzzer's timeout watch for those). Phrases that load must keep what the engine relies
 * on without checking: every phrase there and not empty, and every one of them text a screen, a
 * braille display and a transcript can take (fuzz_text.h), as written and as the session says
 * them with their placeholders filled in. And the line scan must agree with iniparser about every
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

#include "base/diag.h"
#include "base/iniscan.h"
#include "base/strbuf.h"
#include "core/phrase.h"
#include "fuzz_text.h"

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
            if (!t || !*t || !fuzz_clean_text((const unsigned char *)t, strlen(t)))
                abort();
            struct tt_strbuf sb;
            tt_sb_init(&sb);
            tt_phrase_say(p, id, &args, &sb);
            if (sb.len && !fuzz_clean_text((const unsigned char *)sb.s, sb.len))
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
