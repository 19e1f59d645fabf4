/*
 * How the fuzzers read their input as a stream of choices: a byte at a time (0 once the input
 * is used up, so every input is a whole run), or a run of bytes of up to a given length.
 */
#ifndef TT_FUZZ_INPUT_H
#define TT_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t fuzz_byte(struct fuzz_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

/* Up to want bytes, as many as are left. */
static inline const uint8_t *fuzz_take(struct fuzz_in *in, size_t want, size_t *got)
{
    *got = want < in->n ? want : in->n;
    const uint8_t *p = in->p;
    in->p += *got;
    in->n -= *got;
    return p;
}

#endif
