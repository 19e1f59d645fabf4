/* A growable string: the session composes what it says from phrases and titles. */
#ifndef TT_STRBUF_H
#define TT_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct tt_strbuf {
    char *s;
    size_t len, cap;
    int err; /* first allocation failure (ENOMEM); later appends do nothing */
    bool wipe; /* what it holds is someone's (their entry): cleared before memory is let go */
};

void tt_sb_init(struct tt_strbuf *b);
/** For words that hold a listener's entry: every buffer it lets go of (on growing, on free)
 *  is cleared first, so no copy is left behind in freed memory. */
void tt_sb_init_secret(struct tt_strbuf *b);
void tt_sb_free(struct tt_strbuf *b);
void tt_sb_addn(struct tt_strbuf *b, const char *s, size_t n);
void tt_sb_add(struct tt_strbuf *b, const char *s);
/** Add a space first unless the buffer is empty or already ends in one. */
void tt_sb_sentence(struct tt_strbuf *b, const char *s);
/** Hand the string over (caller frees); the buffer is empty after. NULL on an earlier failure. */
char *tt_sb_take(struct tt_strbuf *b);

#endif
