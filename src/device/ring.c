/*
 * The SPSC frame ring (see ring.h for the idea). The memory-ordering contract, in one place:
 *
 *   producer: fill slots, then store wpos (release)  -> consumer: load wpos (acquire), read slots
 *   consumer: read slots, then store rpos (release)  -> producer: load rpos (acquire), reuse slots
 *   producer: store wpos, then store cut (release)   -> consumer: load cut (acquire), then wpos
 *
 * Each side loads its own index relaxed (nobody else writes it). Loading the cut before the
 * write position guarantees the consumer never sees a cut beyond what it sees written.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device/ring.h"

/* The fade is computed in 32-bit integers: 32768 * (fade - 1) must not overflow. */
#define TT_RING_MAX_FADE 65536

int tt_ring_init(struct tt_ring *r, size_t capacity, size_t fade)
{
    memset(r, 0, sizeof(*r));
    if (capacity == 0 || capacity > ((size_t)1 << 40) || fade == 0 || fade > TT_RING_MAX_FADE)
        return EINVAL;
    size_t cap = 1;
    while (cap < capacity)
        cap <<= 1;
    r->buf = calloc(cap, sizeof(*r->buf));
    if (!r->buf)
        return ENOMEM;
    r->cap = cap;
    r->mask = cap - 1;
    r->fade = fade;
    atomic_init(&r->wpos, 0);
    atomic_init(&r->cut, 0);
    atomic_init(&r->rpos, 0);
    return 0;
}

void tt_ring_free(struct tt_ring *r)
{
    if (!r)
        return;
    free(r->buf);
    r->buf = NULL;
    r->cap = r->mask = 0;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

size_t tt_ring_write(struct tt_ring *r, const int16_t *pcm, size_t n)
{
    uint64_t wp = atomic_load_explicit(&r->wpos, memory_order_relaxed);
    uint64_t rp = atomic_load_explicit(&r->rpos, memory_order_acquire);
    size_t k = min_size(n, r->cap - (size_t)(wp - rp));
    if (k == 0)
        return 0;
    /* At most two copies: up to the end of the buffer, then from its start. */
    size_t at = (size_t)wp & r->mask;
    size_t first = min_size(k, r->cap - at);
    memcpy(r->buf + at, pcm, first * sizeof(*pcm));
    memcpy(r->buf, pcm + first, (k - first) * sizeof(*pcm));
    atomic_store_explicit(&r->wpos, wp + k, memory_order_release);
    return k;
}

size_t tt_ring_space(const struct tt_ring *r)
{
    size_t fill = tt_ring_fill(r);
    return fill >= r->cap ? 0 : r->cap - fill;
}

void tt_ring_cut(struct tt_ring *r)
{
    uint64_t wp = atomic_load_explicit(&r->wpos, memory_order_relaxed);
    atomic_store_explicit(&r->cut, wp, memory_order_release);
}

size_t tt_ring_fill(const struct tt_ring *r)
{
    /* The read position first: the write position, loaded after, can only be further on, so
     * the difference never goes negative even when a third thread asks. */
    uint64_t rp = atomic_load_explicit(&r->rpos, memory_order_acquire);
    uint64_t wp = atomic_load_explicit(&r->wpos, memory_order_acquire);
    return (size_t)(wp - rp);
}

uint64_t tt_ring_read_pos(const struct tt_ring *r)
{
    return atomic_load_explicit(&r->rpos, memory_order_acquire);
}

uint64_t tt_ring_write_pos(const struct tt_ring *r)
{
    return atomic_load_explicit(&r->wpos, memory_order_acquire);
}

/* Copy k frames starting at position rp out of the ring, as they are. */
static void copy_out(const struct tt_ring *r, uint64_t rp, int16_t *out, size_t k)
{
    size_t at = (size_t)rp & r->mask;
    size_t first = min_size(k, r->cap - at);
    memcpy(out, r->buf + at, first * sizeof(*out));
    memcpy(out + first, r->buf, (k - first) * sizeof(*out));
}

size_t tt_ring_read(struct tt_ring *r, int16_t *out, size_t n)
{
    uint64_t rp = atomic_load_explicit(&r->rpos, memory_order_relaxed);
    uint64_t cut = atomic_load_explicit(&r->cut, memory_order_acquire);
    uint64_t wp = atomic_load_explicit(&r->wpos, memory_order_acquire);

    if (cut != r->cut_seen) {
        r->cut_seen = cut;
        /* A cut at or before what was already consumed has nothing left to remove. A cut
         * during a fade keeps the fade's progress: restarting it would step the level back
         * up, an audible click in the middle of a barge-in. */
        if (cut > rp && !r->fading) {
            r->fading = true;
            r->fade_done = 0;
        }
    }

    size_t got = 0;
    while (got < n && rp < wp) {
        if (r->fading) {
            size_t k = min_size(n - got, (size_t)(r->cut_seen - rp));
            k = min_size(k, r->fade - r->fade_done);
            int32_t f = (int32_t)r->fade;
            for (size_t i = 0; i < k; i++) {
                int32_t step = f - 1 - (int32_t)(r->fade_done + i);
                int32_t x = r->buf[(size_t)(rp + i) & r->mask];
                out[got + i] = (int16_t)(x * step / f);
            }
            got += k;
            rp += k;
            r->fade_done += k;
            if (rp == r->cut_seen) {
                r->fading = false; /* fewer than `fade` frames were queued: all are faded */
            } else if (r->fade_done == r->fade) {
                rp = r->cut_seen; /* faded to silence: the rest before the cut is dropped */
                r->fading = false;
            }
            continue;
        }
        size_t k = min_size(n - got, (size_t)(wp - rp));
        copy_out(r, rp, out + got, k);
        got += k;
        rp += k;
    }
    atomic_store_explicit(&r->rpos, rp, memory_order_release);
    return got;
}
