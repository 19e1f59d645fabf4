/*
 * DTMF: a receiver that meets ITU-T Q.24 as North American networks use it, and a generator.
 *
 * The receiver is pure signal processing in spandsp's shape: init, process a block of int16
 * samples of any size, release; each digit comes out once through a callback, with the sample
 * where it began and its level. No files, clocks or threads, so a driver can run one per line
 * and a test can check it sample-exact. It works at any rate from 8 to 48 kHz (a telephone
 * line, or a sound card at 16, 44.1 or 48 kHz) without resampling.
 *
 * The idea: eight Goertzel filters over fixed 13 ms blocks measure the eight DTMF tones; a
 * digit is a row tone and a column tone that hold most of the block's energy in two blocks in
 * a row, and whose phase advances from block to block at a rate within 2.5% of the nominal
 * frequencies. Measuring the frequency from the phase, rather than from the filters'
 * bandwidth, is what separates 1.5% (accept) from 3.5% (reject) for all eight tones with one
 * block length. docs/dtmf.md derives every threshold from Q.24.
 *
 * Levels are in dBm0 with the G.711 convention spandsp uses: a full-scale int16 sine
 * (amplitude 32768) is +3.14 dBm0, so 0 dBm0 is a sine of amplitude 32768 * 10^(-3.14/20),
 * about 22786.
 */
#ifndef TT_DTMF_H
#define TT_DTMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A full-scale sine is +3.14 dBm0 (G.711 mu-law; spandsp's DBM0_MAX_SINE_POWER). */
#define TT_DTMF_DBM0_MAX_SINE 3.14
#define TT_DTMF_MIN_RATE 8000
#define TT_DTMF_MAX_RATE 48000

/**
 * Called once for each digit, however long it is held, when it has filled two 13 ms blocks
 * (at most 39 ms after it began, whatever the rate).
 * @param user   as given to tt_dtmf_init
 * @param digit  '0'-'9', '*', '#' or 'A'-'D'
 * @param start  the sample, counted from the first one given to tt_dtmf_process, where the
 *               tones began (to within about a millisecond)
 * @param level  the power of the two tones together, dBm0 (two tones of -10 dBm0 each are
 *               -7.0 dBm0; this is what a level meter on the line reads)
 */
typedef void (*tt_dtmf_digit_fn)(void *user, char digit, uint64_t start, double level);

/* The longest block, at TT_DTMF_MAX_RATE: 13 ms rounded down to 8 samples. */
#define TT_DTMF_MAX_BLOCK 624

/* The Goertzel filters' states at the middle and at the end of a block, with the sum and
 * the sum of squares of its samples: what a kernel (portable or AVX2) hands to the analysis. */
struct tt_dtmf_acc {
    float s1m[8], s2m[8]; /* s[mid-1], s[mid-2] */
    float s1[8], s2[8];   /* s[n-1], s[n-2] */
    double sum, sumsq;
};

/* What one block showed; the receiver keeps the last three. */
struct tt_dtmf_rec {
    struct tt_dtmf_acc acc;
    float yre[8], yim[8]; /* each filter's output, DC removed */
    float pw[8];          /* each tone's power, as the filter sees it (int16 units squared) */
    float energy;         /* the block's mean square, DC removed */
    uint64_t start;       /* its first sample */
    int8_t row, col;      /* the strongest of each group */
    bool cand;            /* could be half of a digit: worth the pair test */
    bool clear;           /* its two tones stand REL_PEAK_DB clear of their groups as seen */
};

/* The receiver. Its fields are private: it is declared here so that a caller can embed it
 * (as spandsp allows) instead of having tt_dtmf_init allocate it. */
struct tt_dtmf {
    int rate;
    unsigned n, mid;        /* block length, and where its two halves meet */
    double w[8];            /* each tone's frequency, rad/sample: rows 697..941, columns 1209..1633 */
    float coef[8];          /* 2 cos(w) */
    float cosw[8], sinw[8];
    float wre[8], wim[8];   /* sum of e^{jwk} over a block: a DC offset's share in y */
    float wmre[8], wmim[8]; /* the same over the first half */
    float hre[8], him[8];   /* e^{-jw(n-mid)}: turns y and y_mid into the second half */
    float qre[8], qim[8];   /* e^{-jwn}: the phase a nominal tone advances in one block */
    double rre[8], rim[8];  /* e^{-jw(n-1)}: moves y's time origin to the block's start */
    float pw_scale;         /* |y|^2 to tone power: 2 / n^2 */
    float cand_pw, rel_peak_cand, rel_peak, sustain_pw, sustain_share; /* as power ratios */
    void (*kernel)(const struct tt_dtmf *s, const int16_t *x, struct tt_dtmf_rec *r);
    bool simd;

    int16_t buf[TT_DTMF_MAX_BLOCK];
    unsigned fill;
    uint64_t pos;           /* samples taken into blocks so far */
    struct tt_dtmf_rec rec[3];
    unsigned cur;           /* rec[cur] is the newest block */
    uint64_t blocks;

    char digit;             /* the digit being held, or 0 */
    int row, col;
    float gain_row, gain_col; /* its tones' loss corrections (1 / filter response at offset) */
    int misses;             /* blocks in a row that did not show it */

    tt_dtmf_digit_fn cb;
    void *user;
    bool allocated;
};

/**
 * Set up a receiver.
 * @param s     memory for it, or NULL to allocate one
 * @param rate  sample rate, TT_DTMF_MIN_RATE to TT_DTMF_MAX_RATE Hz
 * @param cb    called for each digit
 * @param user  passed to cb
 * @return s (or the new receiver), or NULL with errno EINVAL (bad rate, no callback) or ENOMEM
 */
struct tt_dtmf *tt_dtmf_init(struct tt_dtmf *s, int rate, tt_dtmf_digit_fn cb, void *user);

/**
 * Feed samples: any number, from 1 up, in one call or many; the digits found are the same.
 * Digits are reported from inside this call.
 */
void tt_dtmf_process(struct tt_dtmf *s, const int16_t *amp, size_t n);

/** Release a receiver (and free it if tt_dtmf_init allocated it). NULL is allowed. */
void tt_dtmf_free(struct tt_dtmf *s);

/**
 * Choose the vectorised (AVX2 and FMA) path or the portable one. The vectorised path is
 * chosen by tt_dtmf_init when the processor has it; this is for tests and benchmarks.
 * @return whether the vectorised path is now in use (false when the processor lacks it)
 */
bool tt_dtmf_set_simd(struct tt_dtmf *s, bool on);

/* One DTMF signal, in the terms Q.24 tests with. A zeroed struct (but the digit) is a
 * nominal tone pair at 0 dBm0 per tone. */
struct tt_dtmf_tone {
    char digit;
    double low_dbm0, high_dbm0; /* each tone's level (high minus low is the twist) */
    double low_dev, high_dev;   /* relative frequency deviation: 0.015 is 1.5% high */
    double low_phase, high_phase; /* starting phases, radians */
};

/**
 * Add a DTMF signal to samples (saturating at full scale), as spandsp's dtmf_tx would.
 * @param pcm   n samples at rate; the tone pair is added to what is there
 * @return 0, or EINVAL for an unknown digit or a rate below 1 Hz
 */
int tt_dtmf_gen(int16_t *pcm, size_t n, int rate, const struct tt_dtmf_tone *t);

/** The amplitude of a sine at a level in dBm0: 32768 * 10^((dbm0 - 3.14) / 20). */
double tt_dtmf_dbm0_to_amplitude(double dbm0);

/* The kernels: one block of s->n samples through the filters (tt_dtmf_acc), then what the
 * block shows (the rest of tt_dtmf_rec but its start). */
void tt_dtmf_kernel_c(const struct tt_dtmf *s, const int16_t *x, struct tt_dtmf_rec *r);
void tt_dtmf_kernel_avx2(const struct tt_dtmf *s, const int16_t *x, struct tt_dtmf_rec *r);
/* Whether this build and this processor can run tt_dtmf_kernel_avx2. */
bool tt_dtmf_have_avx2(void);

#endif
