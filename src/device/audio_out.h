/*
 * The live audio output: a PortAudio stream on the default output device (or a named one) fed
 * from an SPSC frame ring. The thread that runs the session and the player writes frames into
 * the ring; PortAudio's callback pops them, applies the volume and hands them to the device. The
 * callback never blocks, locks, allocates, prints or synthesizes: a missed deadline there is a
 * click in someone's headphones.
 *
 * All functions except the callback are for the one producer thread (the one that opened the
 * output); tt_out_played, tt_out_lost and tt_out_underruns are safe from any thread.
 */
#ifndef TT_AUDIO_OUT_H
#define TT_AUDIO_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tonetree.h"

struct tt_out;

/**
 * Called from the real-time callback with the frames just handed to the device (after the cut
 * and the volume; interleaved when the device needed two channels). For tests and benchmarks
 * that watch what is played: it must be as cheap and as non-blocking as the callback itself.
 */
typedef void (*tt_out_tap_fn)(void *user, const int16_t *pcm, size_t frames, int channels);

/* Callback period. 5 ms keeps key-to-silence under 30 ms through PulseAudio (measured in
 * bench_kiosk_audio: 17 ms at 5 ms, 35 ms at 10 ms) for a few tenths of a percent of CPU. */
#define TT_OUT_BUFFER_MS 5

struct tt_out_opts {
    const char *device; /* NULL: the default output; else an index, or part of a device's name
                         * (case does not matter; an exact name wins over partial matches) */
    int rate;           /* frames per second the caller writes, e.g. 16000 */
    int buffer_ms;      /* callback period; 0 means TT_OUT_BUFFER_MS */
    int ring_ms;        /* how much audio may be queued ahead; 0 means 200 ms */
    int latency_ms;     /* the device buffer to ask for; 0 means the device's own low latency
                         * (what a key cannot cut: see tt_out_set_latency) */
    tt_out_tap_fn tap;  /* optional, see above */
    void *tap_user;
};

/**
 * Open and start the output. A device that refuses the rate is opened at its own default rate
 * instead (a warning says so, and tt_out_rate() tells the caller to resample); one that refuses
 * mono gets each frame on two channels.
 * @param op    receives the output
 * @param diag  receives the reason for a failure, and a note with the stream's real latency
 * @return 0; ENODEV when there is no output device (or none matches opts->device); EINVAL for
 *         bad options or an ambiguous device name; EIO when PortAudio refuses the device
 */
int tt_out_open(struct tt_out **op, const struct tt_out_opts *o, tt_diag *diag);
/**
 * The rate to prepare audio at for this device: want, if it plays 16-bit audio at that rate
 * (in mono or on two channels), else its own default rate; want too when there is no such
 * device now (a kiosk tries it again later). Nothing is opened.
 */
int tt_out_rate_for(const char *device, int want);
/** Stop the stream (what is still queued is not played) and free everything. NULL is fine. */
void tt_out_close(struct tt_out *o);

/** Queue up to n frames without blocking; returns how many fitted. */
size_t tt_out_write(struct tt_out *o, const int16_t *pcm, size_t n);
/** Frames that can be queued now. */
size_t tt_out_space(const struct tt_out *o);
/** Barge-in: what is queued fades out over 5 ms and is dropped; later writes play normally. */
void tt_out_cut(struct tt_out *o);
/** Volume, linear (1 = as written), applied in the callback; clamped to 0..8. */
void tt_out_set_gain(struct tt_out *o, float linear);
/**
 * Say whether more audio is on its way (true while a prompt plays, false when the kiosk is
 * idle). It only decides what counts as an underrun: a callback that finds the ring short
 * while playing is an underrun; while idle it is not. Until this is first called, a short
 * callback counts only when the previous callback had audio, so an idle output counts nothing
 * (but the natural end of each burst of audio counts once).
 */
void tt_out_set_playing(struct tt_out *o, bool playing);

/** Frames consumed by the callback (played, or dropped by a cut): the playback position. */
int64_t tt_out_played(const struct tt_out *o);
/** Frames written since open. */
int64_t tt_out_written(const struct tt_out *o);
/** The stream's output latency in seconds, as PortAudio reports it (0 when there is none). */
double tt_out_latency(const struct tt_out *o);
/** The rate the stream runs at: opts.rate, or the device's own rate when it refused that. */
int tt_out_rate(const struct tt_out *o);
/** Callbacks that found the ring short while audio was expected (see tt_out_set_playing). */
uint64_t tt_out_underruns(const struct tt_out *o);
/**
 * Callbacks PortAudio flagged with an output underflow while audio was playing: the device ran
 * dry because the callback (or the sound server behind it) was not scheduled in time, and the
 * listener heard a hole. Underflows while only silence was going out are not counted.
 */
uint64_t tt_out_underflows(const struct tt_out *o);
/** True once the stream has died (device unplugged, host error): call tt_out_reopen. */
bool tt_out_lost(const struct tt_out *o);
/**
 * Open the device again after tt_out_lost (or at any time), rescanning the devices when this
 * is the only PortAudio user in the process. The ring is kept: positions carry on, and what was
 * queued plays on the new stream (call tt_out_cut first to drop it instead).
 * @return as tt_out_open; on failure the output stays lost and reopen may be tried again
 */
int tt_out_reopen(struct tt_out *o, tt_diag *diag);

/**
 * Ask for another device latency (ms; 0 for the device's own low latency). A running stream is
 * opened again at once, dropping what the device holds (call it when nothing is playing); one
 * in standby gets it when it starts. A note in diag says what the device gave.
 * @return 0, or as tt_out_open (the output is then lost: see tt_out_reopen)
 */
int tt_out_set_latency(struct tt_out *o, int ms, tt_diag *diag);

/**
 * Stop the stream while nothing is to be played for a while (an idle kiosk then costs no CPU
 * at all), or start it again. The ring and its positions are kept.
 * @return 0, or as tt_out_open when starting again fails
 */
int tt_out_standby(struct tt_out *o, bool standby, tt_diag *diag);
bool tt_out_in_standby(const struct tt_out *o);

/**
 * Print the output devices, one a line: index, name, host API, output channels, default rate,
 * and "(default)" beside the default one. For `tonetree devices`.
 * @return 0, or ENODEV (with the message in diag) when there is none
 */
int tt_out_list(FILE *f, tt_diag *diag);

#endif
