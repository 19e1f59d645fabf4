/*
 * One loudness for every prompt (see loudness.h): libebur128 measures, this file decides and
 * scales.
 *
 * Measuring. One libebur128 state per clip, in integrated mode with true peak. BS.1770 gates
 * 400 ms blocks: a block under -70 LUFS is dropped, then any block 10 LU under the mean of the
 * rest, which is what makes pauses between sentences not count. A clip shorter than one block
 * (a lone "Uno.", a 300 ms chime) has no block at all, and libebur128 then says -infinity; for
 * those the loudness is taken over the clip's whole length with no gate (libebur128's
 * loudness_window, which reads the K-weighted samples it already holds). That reads a word
 * with silence around it a little low, so a short clip ends a little loud, never absurdly.
 *
 * The true peak is found by libebur128's 4x polyphase interpolator (49 taps: 13 input samples
 * of delay line, centred), so the values between the last few samples only come out once more
 * samples follow: a few zeros are fed after the clip, once its loudness has been read, to let
 * them out. A clip then sounds in the player as it was measured, with silence after it.
 *
 * Threads: libebur128 1.2.6 writes its own globals (the gate's threshold energy and other
 * constants) in every ebur128_init and reads them while it measures, so two measurements in
 * two threads at once (a store's worker stretching a recording while a driver speaks personal
 * words) would race on them. One lock makes each measurement, from init to destroy, run alone;
 * it is held for about 2 ms per second of audio at 48 kHz, and nothing else waits on it.
 * Scaling the samples happens outside it.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>

#include <ebur128.h>

#include "dsp/loudness.h"

/* Zeros fed after a clip to flush the true-peak interpolator: its delay line is
 * ceil(49 taps / 4 phases) = 13 input samples; 16 is a round number above that. */
#define TP_FLUSH_FRAMES 16

/* The ceiling, less 2 steps of 16 bits (0.0006 dB): rounding each scaled sample moves it by
 * at most half a step, and each of the interpolator's phases sums its taps' magnitudes to at
 * most 1.87, so rounding can lift a true peak by under one step, never two. */
#define CEILING_LINEAR (pow(10.0, TT_LOUD_CEILING_DBTP / 20.0) - 2.0 / 32768.0)

/* libebur128's own limits on the rate (VALIDATE_MAX_SAMPLERATE is far above this). */
#define MIN_RATE 16
#define MAX_RATE 384000

/* Held around every use of libebur128 (see the top of this file). */
static pthread_mutex_t ebur128_lock = PTHREAD_MUTEX_INITIALIZER;

static void left_as_is(struct tt_loud *l)
{
    l->gain_db = 0.0;
    l->limit = TT_LOUD_SILENT;
}

int tt_loud_measure(const int16_t *pcm, size_t n, int rate, struct tt_loud *l)
{
    static const int16_t zeros[TP_FLUSH_FRAMES];
    double lufs = -HUGE_VAL, peak = 0.0;
    int err = 0;

    l->lufs = TT_LOUD_GATE_LUFS;
    l->peak_dbtp = TT_LOUD_FLOOR_DBTP;
    l->short_clip = (double)n * 1000.0 < (double)TT_LOUD_BLOCK_MS * rate;
    left_as_is(l);
    if (rate < MIN_RATE || rate > MAX_RATE)
        return EINVAL;
    if (n == 0)
        return 0;
    pthread_mutex_lock(&ebur128_lock);
    ebur128_state *st =
        ebur128_init(1, (unsigned long)rate, EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK);
    if (!st) {
        pthread_mutex_unlock(&ebur128_lock);
        return ENOMEM;
    }
    if (ebur128_add_frames_short(st, pcm, n) != EBUR128_SUCCESS ||
        ebur128_loudness_global(st, &lufs) != EBUR128_SUCCESS) {
        err = ENOMEM; /* the only way either fails with a valid state */
        goto out;
    }
    if (!isfinite(lufs)) {
        /* No 400 ms block above the gate: a short clip, or silence. Ungated over the clip,
         * or over its last block when it is longer (then it is silence, and reads so). */
        unsigned long ms = (unsigned long)((double)n * 1000.0 / rate);
        if (ms > TT_LOUD_BLOCK_MS)
            ms = TT_LOUD_BLOCK_MS;
        lufs = -HUGE_VAL;
        if (ms > 0 && ebur128_loudness_window(st, ms, &lufs) != EBUR128_SUCCESS)
            lufs = -HUGE_VAL;
    }
    if (ebur128_add_frames_short(st, zeros, TP_FLUSH_FRAMES) != EBUR128_SUCCESS ||
        ebur128_true_peak(st, 0, &peak) != EBUR128_SUCCESS) {
        err = ENOMEM;
        goto out;
    }
    /* The same absolute gate for a short clip as for a long one's blocks. */
    if (isfinite(lufs) && lufs >= TT_LOUD_GATE_LUFS)
        l->lufs = lufs;
    if (isfinite(peak) && peak > 0.0) {
        double db = 20.0 * log10(peak);
        l->peak_dbtp = db > TT_LOUD_FLOOR_DBTP ? db : TT_LOUD_FLOOR_DBTP;
    }
out:
    ebur128_destroy(&st);
    pthread_mutex_unlock(&ebur128_lock);
    return err;
}

void tt_loud_plan(struct tt_loud *l)
{
    /* The gain that puts the true peak on the ceiling: dB of the ceiling over the peak. */
    double peak_gain = 20.0 * log10(CEILING_LINEAR) - l->peak_dbtp;
    if (l->lufs <= TT_LOUD_GATE_LUFS) {
        left_as_is(l);
        if (peak_gain < 0.0)
            l->gain_db = peak_gain;
        return;
    }
    l->gain_db = TT_LOUD_TARGET_LUFS - l->lufs;
    l->limit = TT_LOUD_TARGET;
    if (l->gain_db > TT_LOUD_MAX_GAIN_DB) {
        l->gain_db = TT_LOUD_MAX_GAIN_DB;
        l->limit = TT_LOUD_MAX_GAIN;
    }
    if (peak_gain < l->gain_db) {
        l->gain_db = peak_gain;
        l->limit = TT_LOUD_PEAK;
    }
}

void tt_loud_apply(int16_t *pcm, size_t n, double gain_db)
{
    if (gain_db == 0.0)
        return;
    double g = pow(10.0, gain_db / 20.0);
    for (size_t i = 0; i < n; i++) {
        double v = nearbyint(pcm[i] * g);
        pcm[i] = v > 32767.0 ? 32767 : v < -32768.0 ? -32768 : (int16_t)v;
    }
}

int tt_loud_normalize(int16_t *pcm, size_t n, int rate, struct tt_loud *l)
{
    struct tt_loud mine;
    if (!l)
        l = &mine;
    int err = tt_loud_measure(pcm, n, rate, l);
    if (err)
        return err;
    tt_loud_plan(l);
    tt_loud_apply(pcm, n, l->gain_db);
    return 0;
}
