/* Time-stretching recordings for slower or faster listening, keeping their pitch. */
#ifndef TT_STRETCH_H
#define TT_STRETCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Stretch mono audio in time by 100/speed_pct (speed 50 doubles its length) without changing
 * its pitch, through the rubberband library.
 * @param stop  NULL, or a flag another thread may set to give up early (it is looked at
 *              every few thousand frames)
 * @return 0 (*out is new memory, caller frees), EINVAL for a speed out of 25..400, ENOMEM,
 *         ECANCELED when stopped
 */
int tt_stretch(const int16_t *in, size_t n, int rate, int speed_pct, int16_t **out,
               size_t *out_n, const atomic_bool *stop);

#endif
