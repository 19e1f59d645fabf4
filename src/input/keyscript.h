/* Key scripts for offline render: "1 #@2.5 +10 down select 9" (see docs/render.md). */
#ifndef TT_KEYSCRIPT_H
#define TT_KEYSCRIPT_H

#include <stddef.h>

#include "tonetree.h"

enum tt_step_kind {
    TT_STEP_KEY,    /* "K": press once the current prompt has been said */
    TT_STEP_KEY_AT, /* "K@S": press S seconds after the current prompt began (barge-in) */
    TT_STEP_PASS    /* "+S": let S seconds pass with no key */
};

struct tt_step {
    enum tt_step_kind kind;
    int key; /* '0'-'9' '*' '#', or an enum tt_key */
    tt_ms ms;
};

/** Parse a script; errors name the token and what a token may be. Caller frees *steps. */
int tt_keyscript_parse(const char *script, struct tt_step **steps, size_t *n, tt_diag *diag);

#endif
