/*
 * One loudness for every prompt: measure a clip (ITU-R BS.1770 through libebur128) and bring
 * it to the EBU R128 target with its true peak kept under a ceiling, by one gain.
 *
 * Prompts come from different places: flite speaks English about 7 dB quieter than espeak-ng
 * speaks Spanish, and a clerk's recording may be anywhere. A listener who changes language, or
 * moves from a recorded page to a synthesized one, should not have to reach for the volume, and
 * nothing should touch full scale and crackle on a cheap headset. So every clip is measured
 * once, when the prompt store prepares it, and scaled: a plain gain, no compression, so the
 * voice sounds as it did, only at one level.
 *
 * The gain is the smallest of three: the one that reaches the target, the one that keeps the
 * true peak at the ceiling, and a cap on how far a quiet clip is raised. When the peak wins the
 * clip ends quieter than the target (speech with sharp peaks, a few tenths of a LU to a few
 * LU); when the cap wins it ends quieter too, rather than raising hiss to the level of speech.
 * Silence (nothing above BS.1770's absolute gate) is left as it is, and so is anything too
 * short to measure: no division by nothing, no NaN, no infinity in the numbers given back.
 *
 * Signal processing only: samples in, numbers out; no files or clocks. Any thread may call
 * it; measurements take turns on one lock, because libebur128 keeps globals (loudness.c).
 */
#ifndef TT_LOUDNESS_H
#define TT_LOUDNESS_H

#include <stddef.h>
#include <stdint.h>

/* EBU R128 (2020) programme loudness target: -23 LUFS, and its maximum true peak: -1 dBTP. */
#define TT_LOUD_TARGET_LUFS (-23.0)
#define TT_LOUD_CEILING_DBTP (-1.0)
/* BS.1770-4's absolute gate: blocks under -70 LUFS do not count as programme. A clip with
 * nothing above it is silence, and its loudness is reported as this figure. */
#define TT_LOUD_GATE_LUFS (-70.0)
/* The true peak reported for digital silence. The quietest non-zero 16-bit sample is
 * 20 log10(1/32768) = -90.3 dBFS, so nothing real reads this low. */
#define TT_LOUD_FLOOR_DBTP (-100.0)
/* The most a clip is raised: +24 dB takes a recording at -47 LUFS to the target. Anything
 * quieter is almost surely a fault (a muted microphone, the wrong input) and raising it
 * further would bring its hiss up to the level of speech. 24 dB is also 4 bits: 16-bit
 * audio raised that far still keeps 12 bits of its own above the quantisation floor. */
#define TT_LOUD_MAX_GAIN_DB 24.0
/* BS.1770's gating block: clips shorter than 400 ms have no block to gate, so they are
 * measured ungated over their whole length instead (see loudness.c). */
#define TT_LOUD_BLOCK_MS 400

/* What decided a clip's gain. */
enum tt_loud_limit {
    TT_LOUD_TARGET,   /* it reaches TT_LOUD_TARGET_LUFS */
    TT_LOUD_PEAK,     /* the true peak ceiling held it back: it ends quieter than the target */
    TT_LOUD_MAX_GAIN, /* too quiet to raise all the way: it ends quieter than the target */
    TT_LOUD_SILENT,   /* nothing to measure (silence, or under a millisecond): left as is,
                       * except that a peak over the ceiling is still brought down */
};

struct tt_loud {
    double lufs;      /* loudness before, LUFS (TT_LOUD_GATE_LUFS for silence) */
    double peak_dbtp; /* true peak before, dBTP (TT_LOUD_FLOOR_DBTP for digital silence) */
    double gain_db;   /* the gain chosen (tt_loud_plan), dB; never above TT_LOUD_MAX_GAIN_DB */
    enum tt_loud_limit limit;
    int short_clip;   /* under TT_LOUD_BLOCK_MS: lufs is ungated, over the whole clip */
};

/**
 * Measure a mono clip: its integrated loudness (BS.1770-4, gated; a clip under 400 ms
 * ungated over its length) and its true peak (4x oversampled under 96 kHz).
 * Fills lufs, peak_dbtp and short_clip; gain_db and limit are set as for a clip left as is.
 * @param rate  Hz, 16 to 384000
 * @return 0, EINVAL for a bad rate, or ENOMEM
 */
int tt_loud_measure(const int16_t *pcm, size_t n, int rate, struct tt_loud *l);

/** Choose the gain for a measured clip: fills gain_db and limit (see the top of this file). */
void tt_loud_plan(struct tt_loud *l);

/** Scale samples by a gain in dB, rounding to the nearest and clipping at full scale. */
void tt_loud_apply(int16_t *pcm, size_t n, double gain_db);

/**
 * Measure, plan and apply: the clip, in place, at one loudness.
 * @param l  NULL, or filled with what was measured and done
 * @return 0, EINVAL for a bad rate, or ENOMEM (the samples are then untouched)
 */
int tt_loud_normalize(int16_t *pcm, size_t n, int rate, struct tt_loud *l);

#endif
