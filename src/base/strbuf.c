/*
 * A growable string. Allocation failure is remembered rather than returned at every append,
 * so composing a sentence from many pieces stays readable and is checked once at the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"

void tt_sb_init(struct tt_strbuf *b)
{
    b->s = NULL;
    b->len = b->cap = 0;
    b->err = 0;
    b->wipe = false;
}

void tt_sb_init_secret(struct tt_strbuf *b)
{
    tt_sb_init(b);
    b->wipe = true;
}

/* Let go of the buffer, cleared first when it is someone's. */
static void let_go(struct tt_strbuf *b)
{
    if (b->s && b->wipe)
        memset(b->s, 0, b->cap);
    free(b->s);
}

void tt_sb_free(struct tt_strbuf *b)
{
    bool wipe = b->wipe;
    let_go(b);
    tt_sb_init(b);
    b->wipe = wipe;
}

void tt_sb_addn(struct tt_strbuf *b, const char *s, size_t n)
{
    if (b->err)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        /* realloc may move the words and free the old copy as it was: a secret buffer moves
         * by hand, and clears what it leaves. */
        char *p = b->wipe ? malloc(cap) : realloc(b->s, cap);
        if (!p) {
            b->err = ENOMEM;
            return;
        }
        if (b->wipe && b->s) {
            memcpy(p, b->s, b->len + 1);
            let_go(b);
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void tt_sb_add(struct tt_strbuf *b, const char *s)
{
    tt_sb_addn(b, s, strlen(s));
}

void tt_sb_sentence(struct tt_strbuf *b, const char *s)
{
    if (b->len > 0 && b->s[b->len - 1] != ' ')
        tt_sb_addn(b, " ", 1);
    tt_sb_add(b, s);
}

char *tt_sb_take(struct tt_strbuf *b)
{
    char *s = b->err ? NULL : b->s;
    if (b->err)
        let_go(b);
    else if (!s)
        s = strdup("");
    bool wipe = b->wipe;
    tt_sb_init(b);
    b->wipe = wipe;
    return s;
}
