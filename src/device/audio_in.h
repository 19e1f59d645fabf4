/*
 * The telephone line's audio: one PortAudio stream, duplex, on one device (the default, an
 * index, or part of a name), read and written with PortAudio's blocking calls from the
 * driver's one thread. Mono int16 at the caller's rate both ways.
 *
 * Why blocking rather than a callback and rings (as audio_out.h does for the kiosk): on a line
 * the input is the clock. The driver reads one period of what the caller sends, acts on it,
 * and writes one period of prompt audio, so input and output stay in lock-step and the
 * session's time is simply frames read / rate. On a real device the reads pace the loop in
 * real time; through ALSA's file plugin (which has no clock) the same loop runs as fast as it
 * can and still sees exactly the same sequence of frames: the tests are deterministic.
 */
#ifndef TT_AUDIO_IN_H
#define TT_AUDIO_IN_H

#include <stddef.h>
#include <stdint.h>

#include "tonetree.h"

struct tt_in;

struct tt_in_opts {
    const char *device; /* NULL: the default input/output; else an index or part of a name */
    int rate;           /* frames per second, both ways (8000 to 48000) */
    int period;         /* frames per read/write; 0 means rate / 100 (10 ms) */
};

/**
 * Open and start a duplex stream. A device that refuses mono gets two channels (the input is
 * mixed down, the output duplicated).
 * @return 0; ENODEV when there is no device with both input and output (or none matches);
 *         EINVAL for bad options or an ambiguous name; EIO when PortAudio refuses the device
 */
int tt_in_open(struct tt_in **ip, const struct tt_in_opts *o, tt_diag *diag);
void tt_in_close(struct tt_in *in);
/** Read exactly n frames (n <= period), blocking. An input overflow is counted, not an error.
 *  @return 0, or EIO when the stream failed */
int tt_in_read(struct tt_in *in, int16_t *pcm, size_t n);
/** Write exactly n frames (n <= period), blocking. @return 0, or EIO */
int tt_in_write(struct tt_in *in, const int16_t *pcm, size_t n);
int tt_in_period(const struct tt_in *in);
/** Output latency in frames, as PortAudio reports it. */
int64_t tt_in_out_latency(const struct tt_in *in);
/** Input overflows and output underflows seen so far. */
unsigned long tt_in_xruns(const struct tt_in *in);

#endif
