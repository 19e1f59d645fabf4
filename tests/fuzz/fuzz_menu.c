/*
 * libFuzzer target for the menu loader: any bytes go to tt_menu_load_mem, which must answer
 * with a menu or with EINVAL and at least one error, never crash, leak or hang (the sanitizers
 * and libFuzzer's timeout watch for those). A menu that loads must also keep the promises the
 * session relies on without checking: every link in range, prev the mirror of next, words in
 * every language, all of them clean text (fuzz_text.h), node ids safe as file names. And the
 * line scan must agree with iniparser about every line (tt_menu_scan_misses).
 *
 * Build: make build/fuzz/fuzz_menu; run: make fuzz (FUZZ_SECONDS=300 for a longer run).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/menu_priv.h"
#include "fuzz_text.h"
#include "tools/lint.h"

static void check_link(const tt_menu *m, int to)
{
    if (to < -1 || to >= (int)m->nnodes)
        abort();
}

static void check_menu(const tt_menu *m)
{
    if (m->nlangs < 1 || m->nlangs > TT_MAX_LANGS || m->nnodes < 1)
        abort();
    if (m->start < 0 || m->start >= (int)m->nnodes)
        abort();
    for (size_t l = 0; l < m->nlangs; l++) {
        if (!m->voice[l] || !m->lang[l][0])
            abort();
        if (m->title[l] && !fuzz_clean_text((const unsigned char *)m->title[l],
                                            strlen(m->title[l])))
            abort();
    }
    for (size_t i = 0; i < m->nnodes; i++) {
        const struct tt_node *n = &m->nodes[i];
        size_t len = strlen(n->id);
        if (len < 1 || len > 64 || strspn(n->id, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len)
            abort();
        if (tt_menu_find(m, n->id) != (int)i)
            abort();
        for (size_t l = 0; l < m->nlangs; l++) {
            if (!n->title[l] || !n->text[l] || !n->title[l][0] || !n->text[l][0])
                abort();
            /* what a screen, a braille display and a transcript show (fuzz_text.h) */
            if (!fuzz_clean_text((const unsigned char *)n->title[l], strlen(n->title[l])) ||
                !fuzz_clean_text((const unsigned char *)n->text[l], strlen(n->text[l])))
                abort();
        }
        for (int c = 0; c < TT_MAX_CHOICES; c++)
            check_link(m, n->choice[c]);
        check_link(m, n->next);
        check_link(m, n->prev);
        if (n->next >= 0 && m->nodes[n->next].prev != (int)i)
            abort();
        if (n->prev >= 0 && m->nodes[n->prev].next != (int)i)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tt_diag *d = tt_diag_new();
    tt_menu *m = NULL;
    if (!d)
        return 0;
    int rc = tt_menu_load_mem(&m, "fuzz/menu.ini", (const char *)data, size, d);
    if (rc == 0) {
        if (!m || tt_diag_count(d, TT_ERROR))
            abort();
        check_menu(m);
        /* What loads is linted too (no recordings: nothing on disk is read). */
        if (tt_lint(m, NULL, d) == EINVAL)
            abort();
    } else if (m || (rc == EINVAL && !tt_diag_count(d, TT_ERROR))) {
        abort();
    }
    /* The line scan must read every line as iniparser does (menu_priv.h). */
    if (tt_menu_scan_misses) {
        tt_diag_print(d, stderr);
        abort();
    }
    tt_menu_free(m);
    tt_diag_free(d);
    return 0;
}
