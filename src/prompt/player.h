/* The player: frames out of the current clip, with a short fade whenever a clip is cut. */
#ifndef TT_PLAYER_H
#define TT_PLAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tonetree.h"

#define TT_FADE_MS 5
#define TT_FADE_MAX (384000 * TT_FADE_MS / 1000) /* frames, at the highest rate a store has */

/* The player never holds on to a clip after it ends, is cut or is replaced: a cut clip's last
 * few milliseconds are copied into the player for the fade, so the driver may give the clip
 * back (and a personal one be wiped) as soon as it stops. */
struct tt_player {
    const int16_t *pcm;  /* the clip playing, or NULL */
    size_t frames, pos;
    int16_t tail[TT_FADE_MAX]; /* what remains of a cut clip, faded out over the next few ms */
    size_t tail_len, tail_pos;
    size_t fade;         /* fade length in frames */
    float gain;          /* linear */
};

void tt_player_init(struct tt_player *p, int rate);
/** Play a clip from its start, replacing what was playing (which is cut with a fade). */
void tt_player_play(struct tt_player *p, const struct tt_clip *c);
/** Cut the clip now: the next TT_FADE_MS ramp down to silence, so the cut never clicks. */
void tt_player_stop(struct tt_player *p);
/** Drop the clip now with no fade here: for drivers whose output fades what is queued. */
void tt_player_drop(struct tt_player *p);
/** Frames left in the playing clip (0 when none is playing). */
size_t tt_player_left(const struct tt_player *p);
/** Fill out with the next n frames (silence when nothing plays). Never allocates or blocks. */
void tt_player_pull(struct tt_player *p, int16_t *out, size_t n);

#endif
