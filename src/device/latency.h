/*
 * How much audio the kiosk keeps in the device after underruns: the policy alone, with no
 * device and no clock, so that it can be tested as a plain function.
 *
 * An underrun is a moment the listener heard a hole in a prompt: the device ran dry because
 * the audio callback (or the sound server behind it) was not scheduled in time, or the ring
 * ran dry because the kiosk's own thread was late. The answer sound servers give is to buffer
 * more: PulseAudio's ALSA sink doubles its wakeup watermark at each underrun, up to a limit.
 * We do the same with the output's latency (doubled for each underrun since the last time it
 * grew), which is the device buffer a key cannot cut (what is in the device still plays after
 * a key; what is in our ring does not), so it is capped where a key no longer stops the voice
 * at once.
 *
 * Growing means opening the stream again, which drops what the device holds. So it waits for
 * a quiet moment (nothing playing, and quiet for longer than the device's buffer, so nothing
 * heard is dropped), unless one prompt keeps breaking up: then one more short hole now is
 * better than many.
 */
#ifndef TT_LATENCY_H
#define TT_LATENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "tonetree.h"

/* The most we buffer in the device: a key then takes up to this long (plus the fade) to
 * silence the voice. 200 ms is about the longest a reply still feels immediate in
 * conversation; more would make barge-in sluggish, which the design forbids. */
#define TT_LATENCY_MAX_MS 200
/* Underruns within one prompt that make the output grow at once rather than at the next
 * quiet moment: one hole can be bad luck, three in one prompt is a machine that is too busy
 * for the buffer. */
#define TT_LATENCY_BURST 3
/* How long past the device's buffer the output must have been quiet before it is reopened:
 * PortAudio's reported latency is an estimate, and the sound server may hold a little more. */
#define TT_LATENCY_QUIET_MARGIN_MS 50

struct tt_latency {
    int ms;         /* the output latency in effect: what the device reports, or what was last
                     * asked for if that is more (a device may not give all it is asked) */
    uint64_t seen;  /* underruns already answered (grown for, or found at the cap) */
};

/** Start from the latency the device was opened with. */
void tt_latency_init(struct tt_latency *l, int ms);

/** The latency to ask for after `underruns` underruns at `ms`: twice as much for each (and at
 *  least 10 ms more), never more than TT_LATENCY_MAX_MS. */
int tt_latency_next_ms(int ms, uint64_t underruns);

/**
 * Decide, with the output's underrun count so far, whether to reopen it with more latency now.
 * @param underruns  underruns counted since the kiosk started (only ever grows)
 * @param playing    a prompt is playing (or queued)
 * @param quiet_ms   how long the output has had nothing to play (ignored while playing)
 * @return the latency to reopen with (then call tt_latency_opened with what the device gave),
 *         or 0 to do nothing now
 */
int tt_latency_step(struct tt_latency *l, uint64_t underruns, bool playing, tt_ms quiet_ms);

/** The output was reopened after asking for `asked` ms and the device reports `got` ms (or
 *  reopening failed: got 0); the `underruns` counted so far are answered. */
void tt_latency_opened(struct tt_latency *l, int asked, int got, uint64_t underruns);

#endif
