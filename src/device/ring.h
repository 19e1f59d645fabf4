/*
 * A single-producer/single-consumer ring of int16 frames: the one hand-over point between the
 * thread that runs the session and the player (the producer) and the real-time audio callback
 * (the consumer). Neither side ever blocks, locks or allocates.
 *
 * Positions are 64-bit frame counts since the ring was made, not offsets: they only grow, so
 * "how much is queued" is a subtraction, full and empty are never confused, and the read
 * position doubles as the playback position ("frames consumed"). At 48 kHz a 64-bit count
 * wraps after millions of years.
 *
 * Barge-in lives here too, because only the consumer may move the read position: the
 * producer records a cut (tt_ring_cut), and the consumer, on its next read, fades the frames
 * queued before the cut to silence over `fade` frames and then skips the rest of them. What the
 * producer writes after the cut plays untouched.
 */
#ifndef TT_RING_H
#define TT_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tt_ring {
    int16_t *buf;
    size_t cap;  /* a power of two, so a position maps to a slot with a mask */
    size_t mask;
    size_t fade; /* frames a cut fades over */

    /* Each index has a single writer; the other side only reads it. Padding keeps them 64
     * bytes apart so the two threads do not bounce one cache line between cores on every
     * call. (Padding rather than _Alignas: the ring is embedded in structs that come from
     * malloc, which does not promise 64-byte alignment.) */
    char pad0[64];
    _Atomic uint64_t wpos; /* producer: frames written since init */
    _Atomic uint64_t cut;  /* producer: write position at the last cut */
    char pad1[64];
    _Atomic uint64_t rpos; /* consumer: frames consumed (played or skipped) */
    char pad2[64];

    /* Consumer-private state of a cut in progress: never touched by the producer. */
    uint64_t cut_seen;  /* the last cut position the consumer acted on */
    size_t fade_done;   /* frames of the current fade already played */
    bool fading;
};

/**
 * Make a ring that holds at least `capacity` frames (rounded up to a power of two).
 * @param fade  frames a cut fades over (at least 1; e.g. 5 ms at the stream's rate)
 * @return 0, EINVAL for a zero or absurd capacity, or ENOMEM
 */
int tt_ring_init(struct tt_ring *r, size_t capacity, size_t fade);
void tt_ring_free(struct tt_ring *r);

/** Producer: copy up to n frames in; returns how many fitted (never blocks). */
size_t tt_ring_write(struct tt_ring *r, const int16_t *pcm, size_t n);
/** Producer: frames that can be written now. */
size_t tt_ring_space(const struct tt_ring *r);
/**
 * Producer: barge-in. Everything written so far is to be faded out and dropped: the consumer's
 * next reads take up to `fade` more of those frames, scaled by (fade - 1 - i) / fade for the
 * i-th of them (a linear ramp whose last step is silence, the same as the player's), then jump
 * the read position to this cut. With fewer than `fade` frames queued, the ramp is simply
 * shorter. A second cut before the first is done keeps the ramp going (it never steps back
 * up) and moves the jump to the newer position.
 */
void tt_ring_cut(struct tt_ring *r);

/**
 * Consumer: take up to n frames into out, applying any pending cut. Frames skipped by a cut
 * are consumed but not returned. Returns the frames stored in out (the rest is untouched).
 */
size_t tt_ring_read(struct tt_ring *r, int16_t *out, size_t n);
/** Frames queued (written and not yet consumed). Exact from either side's own view. */
size_t tt_ring_fill(const struct tt_ring *r);

/** Frames consumed since init, including frames a cut skipped. */
uint64_t tt_ring_read_pos(const struct tt_ring *r);
/** Frames written since init. */
uint64_t tt_ring_write_pos(const struct tt_ring *r);

#endif
