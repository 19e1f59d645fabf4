/*
 * libFuzzer target for the keymap loader: any bytes go to tt_keymap_load_mem, which must answer
 * with a keymap or with EINVAL and at least one error, never crash, leak or hang. A keymap that
 * loads must keep what the kiosk relies on without checking: at least one key mapped, every
 * mapped code an engine key ('0'-'9', '*', '#' or a named key), the count right, and a name
 * that is text a screen can show (fuzz_text.h). And the line scan must
 * agree with iniparser about every line (tt_iniscan_misses).
 *
 * Build: make build/fuzz/fuzz_keymap; run: make fuzz (FUZZ_SMALL_SECONDS=600 for a longer run).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/input-event-codes.h>

#include "base/diag.h"
#include "base/iniscan.h"
#include "fuzz_text.h"
#include "input/keymap.h"

static int engine_key(int k)
{
    return (k >= '0' && k <= '9') || k == '*' || k == '#' || (k >= TT_KEY_UP && k <= TT_KEY_LAST);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tt_diag *d = tt_diag_new();
    struct tt_keymap *k = NULL;
    if (!d)
        return 0;
    int rc = tt_keymap_load_mem(&k, "fuzz/keymap.ini", (const char *)data, size, d);
    if (rc == 0) {
        if (!k || tt_diag_count(d, TT_ERROR) || tt_keymap_count(k) < 1)
            abort();
        size_t mapped = 0;
        for (unsigned c = 0; c < KEY_CNT + 8; c++) {
            int key = tt_keymap_lookup(k, c);
            if (key == -1)
                continue;
            if (c == 0 || c >= KEY_CNT || !engine_key(key))
                abort();
            mapped++;
        }
        if (mapped != tt_keymap_count(k))
            abort();
        const char *name = tt_keymap_name(k);
        if (!fuzz_clean_text((const unsigned char *)name, strlen(name)))
            abort();
    } else if (k || (rc == EINVAL && !tt_diag_count(d, TT_ERROR))) {
        abort();
    }
    if (tt_iniscan_misses) {
        tt_diag_print(d, stderr);
        abort();
    }
    tt_keymap_free(k);
    tt_diag_free(d);
    return 0;
}
