/*
 * DTMF receiver (ITU-T Q.24, North American figures) and generator.
 *
 * Samples are cut into fixed blocks of 13 ms (104 samples at 8 kHz; the same duration at
 * every rate, so every threshold below holds at every rate). Over each block a bank of eight
 * Goertzel filters (a kernel: portable C, or AVX2 chosen at run time) gives each DTMF tone's
 * complex amplitude, at the middle of the block and at its end, and the block's energy.
 * Then, once per block:
 *
 *   1. the strongest row tone and the strongest column tone are found, and the block is a
 *      candidate if both are loud enough and stand a little clear of their groups;
 *   2. two candidate blocks in a row with the same pair are tested as a pair: the phase each
 *      tone advanced from one block to the next gives its frequency (the halves of each block
 *      settle which turn of the phase it is), which must be within 2.5% of nominal; knowing
 *      both frequencies, the two filters' outputs are solved for the two tones' amplitudes
 *      (each filter also sees the other tone through its sidelobes); then the share of each
 *      block's energy the two tones hold, their levels and the twist over the pair, and that
 *      nothing else stands near them in the other six filters;
 *   3. a pair that passes is a digit, reported once, with where it began (from how much of
 *      it the block before held); it is held while each new block still shows its tones
 *      (looser limits: hysteresis), and ends after two blocks that do not.
 *
 * Why the phase: with one block length the filters' bandwidth cannot tell 1.5% from 3.5% at
 * every frequency (3.5% of 697 Hz is 24 Hz, less than 1.5% of 1633 Hz), and the block cannot
 * be longer than 13 ms or a 40 ms tone would no longer hold two whole blocks. The phase
 * advance over 13 ms measures the frequency to within a few Hz, for every tone, at no cost per
 * sample. docs/dtmf.md has the derivations and the measured margins.
 */
#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp/dtmf.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const double tone_hz[8] = {697, 770, 852, 941, 1209, 1336, 1477, 1633};
static const char keys[4][5] = {"123A", "456B", "789C", "*0#D"};

/* ---- thresholds, each with the Q.24 figure it implements ---- */

/* Block length. Q.24 (North America): a 40 ms tone must be accepted. A tone of L samples
 * holds two whole blocks of n, wherever it starts, when L >= 3n - 1, so n <= 13.3 ms; we take
 * 13 ms, rounded down to 8 samples for the vector kernels (12.9 ms at 44.1 kHz). A 20 ms
 * tone (reject) then spans at most 1.55 blocks: the energy test below refuses it. */
#define BLOCK_SECONDS 0.013

/* Frequency. Q.24: accept a deviation of 1.5%, reject 3.5%; the limit is the middle, 2.5%,
 * leaving 1% (7 Hz at 697 Hz, 16 Hz at 1633 Hz) for the estimate's errors: measured, at most
 * 3.5 Hz on a row tone and 4.6 Hz on a column tone with -26 dBm0, 8 dB of twist and 15 dB of
 * noise all at once (docs/dtmf.md). */
#define FREQ_TOLERANCE 0.025

/* Level. Q.24: accept -26 dBm0 per tone, reject -55 dBm0. With the -8 dB twist Q.24 also
 * allows, the weaker tone of an accepted digit can be -34 dBm0: -40 dBm0 per tone (averaged
 * over the pair's two blocks) leaves 6 dB below that and 15 dB above -55. */
#define LEVEL_MIN_DBM0 (-40.0)

/* Twist (high group minus low group), over the pair's two blocks. Q.24: accept from -8 dB
 * to +4 dB, and it sets no limit beyond. We reject beyond -10 dB and +6 dB: 2 dB of margin
 * each way, and a signal of -12 or +8 dB is refused. */
#define TWIST_NORMAL_DB 10.0
#define TWIST_REVERSE_DB 6.0

/* Relative peak: each tone must be 8 dB above every other tone of its group (spandsp's
 * figure). A DTMF signal has one tone per group, and its two tones' sidelobes are removed
 * before this test (see pair_test): what is left in the other six filters is the rest of the
 * signal. A chord, or a voice's harmonics, fail it. Per block, before the pair test, the
 * sidelobes are still there (the strong tone of an 8 dB twist puts a third filter within
 * 5 dB of the weak tone), so a block needs only 3 dB to be a candidate. */
#define REL_PEAK_DB 8.0
#define REL_PEAK_CAND_DB 3.0

/* Energy share: the two tones must hold 79% (-1 dB) of each block's energy, and 89%
 * (-0.5 dB) of one of the two. Q.24 asks for digits at 15 dB signal-to-noise: the tones
 * then hold 97% (-0.14 dB). Speech and music spread their energy over many frequencies. And
 * a block that a tone fills only in part, a fraction a, holds a share a (a filter adds the
 * tone up coherently, to a^2 of a whole block's power, while the energy is a): a 20 ms tone
 * (reject) spans at most 1.55 blocks, so if one block holds 89% of it, the other holds at
 * most 66% < 79%. Hence two thresholds: one alone would have to be above 77% (an even
 * split) and below 97% (noise) with errors of a few percent both ways. A tone is accepted
 * from 22 ms (0.89 + 0.79 = 1.68 blocks) when it lands well, and always from 39 ms. */
#define ENERGY_SHARE_DB (-1.0)
#define ENERGY_SHARE_FULL_DB (-0.5)

/* Hysteresis: once a digit is reported, a block still shows it if both tones are within
 * 6 dB of LEVEL_MIN_DBM0, are still the strongest of their groups and hold half the energy.
 * Q.24: an interruption of up to 10 ms must not split a digit: 10 ms out of 13 ms blocks
 * leaves one block at least 62% (> 50%) full, so at most one block in a row fails, and a
 * digit ends after two. A 40 ms gap (accepted as a gap: a repeated key is two digits) holds
 * two whole silent blocks. */
#define SUSTAIN_LEVEL_DB (-6.0)
#define SUSTAIN_SHARE_DB (-3.0)
#define SUSTAIN_MISSES 2

/* A candidate block's tones, before the loss at up to 2.5% off is undone, may be this far
 * below LEVEL_MIN_DBM0 (the loss at 2.5% of 1633 Hz over 13 ms is 4.5 dB). */
#define CAND_SLACK_DB (-5.0)

static double db_to_power(double db)
{
    return pow(10.0, db / 10.0);
}

double tt_dtmf_dbm0_to_amplitude(double dbm0)
{
    return 32768.0 * pow(10.0, (dbm0 - TT_DTMF_DBM0_MAX_SINE) / 20.0);
}

/* The power (int16 units squared, mean square) of a sine at a level in dBm0. */
static double dbm0_to_power(double dbm0)
{
    double a = tt_dtmf_dbm0_to_amplitude(dbm0);
    return a * a / 2.0;
}

static double norm(double complex z)
{
    return creal(z) * creal(z) + cimag(z) * cimag(z);
}

static double power_to_dbm0(double p)
{
    return 10.0 * log10(p / dbm0_to_power(0.0));
}

/* ---- the portable kernel ---- */

#if defined(__GNUC__) || defined(__clang__)
/* The eight filters as two vectors of four (GNU C vector extensions: SSE2 on x86-64, NEON on
 * ARM, plain scalar code where there is no vector unit), four samples at a time. a holds
 * s[i-2] and b s[i-1]; each step writes s[i] over s[i-2], so the two take turns. */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static void goertzel_run(const float coef[8], const int16_t *x, unsigned n, float s1[8],
                         float s2[8], v4f *sum, v4f *sq)
{
    v4f c0, c1, a0, a1, b0, b1;
    memcpy(&c0, coef, sizeof(c0));
    memcpy(&c1, coef + 4, sizeof(c1));
    memcpy(&a0, s2, sizeof(a0));
    memcpy(&a1, s2 + 4, sizeof(a1));
    memcpy(&b0, s1, sizeof(b0));
    memcpy(&b1, s1 + 4, sizeof(b1));
    v4f sm = *sum, sqr = *sq;
    for (unsigned i = 0; i < n; i += 4) {
        v4i w = {x[i], x[i + 1], x[i + 2], x[i + 3]};
        v4f v = __builtin_convertvector(w, v4f);
        sm += v;
        sqr += v * v;
        v4f x0 = {v[0], v[0], v[0], v[0]}, x1 = {v[1], v[1], v[1], v[1]};
        v4f x2 = {v[2], v[2], v[2], v[2]}, x3 = {v[3], v[3], v[3], v[3]};
        a0 = x0 - a0 + c0 * b0;
        a1 = x0 - a1 + c1 * b1;
        b0 = x1 - b0 + c0 * a0;
        b1 = x1 - b1 + c1 * a1;
        a0 = x2 - a0 + c0 * b0;
        a1 = x2 - a1 + c1 * b1;
        b0 = x3 - b0 + c0 * a0;
        b1 = x3 - b1 + c1 * a1;
    }
    memcpy(s2, &a0, sizeof(a0));
    memcpy(s2 + 4, &a1, sizeof(a1));
    memcpy(s1, &b0, sizeof(b0));
    memcpy(s1 + 4, &b1, sizeof(b1));
    *sum = sm;
    *sq = sqr;
}

static void filters(const float coef[8], const int16_t *x, unsigned n, unsigned mid,
                    struct tt_dtmf_acc *acc)
{
    float s1[8] = {0}, s2[8] = {0};
    v4f sum = {0, 0, 0, 0}, sq = {0, 0, 0, 0};
    goertzel_run(coef, x, mid, s1, s2, &sum, &sq);
    memcpy(acc->s1m, s1, sizeof(s1));
    memcpy(acc->s2m, s2, sizeof(s2));
    goertzel_run(coef, x + mid, n - mid, s1, s2, &sum, &sq);
    memcpy(acc->s1, s1, sizeof(s1));
    memcpy(acc->s2, s2, sizeof(s2));
    acc->sum = (double)sum[0] + sum[1] + sum[2] + sum[3];
    acc->sumsq = (double)sq[0] + sq[1] + sq[2] + sq[3];
}

#else
/* Any C11 compiler: the same filters, one at a time. */
static void goertzel_run(const float coef[8], const int16_t *x, unsigned n, float s1[8],
                         float s2[8], double *sum, double *sq)
{
    for (unsigned i = 0; i < n; i++) {
        float v = x[i];
        *sum += v;
        *sq += v * v;
        for (int k = 0; k < 8; k++) {
            float s0 = v + coef[k] * s1[k] - s2[k];
            s2[k] = s1[k];
            s1[k] = s0;
        }
    }
}

static void filters(const float coef[8], const int16_t *x, unsigned n, unsigned mid,
                    struct tt_dtmf_acc *acc)
{
    float s1[8] = {0}, s2[8] = {0};
    double sum = 0, sq = 0;
    goertzel_run(coef, x, mid, s1, s2, &sum, &sq);
    memcpy(acc->s1m, s1, sizeof(s1));
    memcpy(acc->s2m, s2, sizeof(s2));
    goertzel_run(coef, x + mid, n - mid, s1, s2, &sum, &sq);
    memcpy(acc->s1, s1, sizeof(s1));
    memcpy(acc->s2, s2, sizeof(s2));
    acc->sum = sum;
    acc->sumsq = sq;
}
#endif

/* ---- set up ---- */

struct tt_dtmf *tt_dtmf_init(struct tt_dtmf *s, int rate, tt_dtmf_digit_fn cb, void *user)
{
    if (rate < TT_DTMF_MIN_RATE || rate > TT_DTMF_MAX_RATE || !cb) {
        errno = EINVAL;
        return NULL;
    }
    bool allocated = false;
    if (!s) {
        if (!(s = malloc(sizeof(*s)))) {
            errno = ENOMEM;
            return NULL;
        }
        allocated = true;
    }
    memset(s, 0, sizeof(*s));
    s->allocated = allocated;
    s->rate = rate;
    s->cb = cb;
    s->user = user;
    s->n = (unsigned)(BLOCK_SECONDS * rate / 8) * 8;
    s->mid = s->n / 16 * 8;
    s->pw_scale = (float)(2.0 / ((double)s->n * s->n));
    s->cand_pw = (float)(dbm0_to_power(LEVEL_MIN_DBM0) * db_to_power(CAND_SLACK_DB));
    s->rel_peak_cand = (float)db_to_power(REL_PEAK_CAND_DB);
    s->rel_peak = (float)db_to_power(REL_PEAK_DB);
    s->sustain_pw = (float)dbm0_to_power(LEVEL_MIN_DBM0 + SUSTAIN_LEVEL_DB);
    s->sustain_share = (float)db_to_power(SUSTAIN_SHARE_DB);
    for (int k = 0; k < 8; k++) {
        double w = 2.0 * M_PI * tone_hz[k] / rate;
        s->w[k] = w;
        s->coef[k] = (float)(2.0 * cos(w));
        s->cosw[k] = (float)cos(w);
        s->sinw[k] = (float)sin(w);
        double wre = 0, wim = 0;
        for (unsigned i = 0; i < s->n; i++) {
            if (i == s->mid) {
                s->wmre[k] = (float)wre;
                s->wmim[k] = (float)wim;
            }
            wre += cos(w * i);
            wim += sin(w * i);
        }
        s->wre[k] = (float)wre;
        s->wim[k] = (float)wim;
        s->hre[k] = (float)cos(w * (s->n - s->mid));
        s->him[k] = (float)-sin(w * (s->n - s->mid));
        s->rre[k] = cos(w * (s->n - 1));
        s->rim[k] = -sin(w * (s->n - 1));
        s->qre[k] = (float)cos(w * s->n);
        s->qim[k] = (float)-sin(w * s->n);
    }
    for (int i = 0; i < 3; i++)
        s->rec[i].row = s->rec[i].col = -1;
    tt_dtmf_set_simd(s, true);
    return s;
}

void tt_dtmf_free(struct tt_dtmf *s)
{
    if (s && s->allocated)
        free(s);
}

bool tt_dtmf_set_simd(struct tt_dtmf *s, bool on)
{
    s->simd = on && tt_dtmf_have_avx2();
    s->kernel = s->simd ? tt_dtmf_kernel_avx2 : tt_dtmf_kernel_c;
    return s->simd;
}

/* ---- once per block ---- */

/* The filters' outputs (DC removed), the tones' powers and the block's candidate pair. */
/* The strongest of four tones, and the power of the strongest of the other three. */
static int group_peak(const float pw[4], float *second)
{
    int best = 0;
    for (int k = 1; k < 4; k++)
        if (pw[k] > pw[best])
            best = k;
    float sec = 0;
    for (int k = 0; k < 4; k++)
        if (k != best && pw[k] > sec)
            sec = pw[k];
    *second = sec;
    return best;
}

/* What a block shows: each filter's output with the block's DC taken out, each tone's power,
 * the strongest tone of each group and how clear of its group it stands. (The AVX2 kernel
 * does the same in dtmf_avx2.c.) */
static void block_measure(const struct tt_dtmf *restrict s, struct tt_dtmf_rec *restrict r)
{
    const struct tt_dtmf_acc *a = &r->acc;
    double n = s->n, mean = a->sum / n;
    r->energy = (float)((a->sumsq - a->sum * mean) / n);
    float m = (float)mean, yre[8], yim[8], pw[8];
    for (int k = 0; k < 8; k++) {
        /* y = s[n-1] - e^{-jw} s[n-2] = sum over the block of x[i] e^{jw(n-1-i)} */
        yre[k] = a->s1[k] - s->cosw[k] * a->s2[k] - m * s->wre[k];
        yim[k] = s->sinw[k] * a->s2[k] - m * s->wim[k];
        pw[k] = (yre[k] * yre[k] + yim[k] * yim[k]) * s->pw_scale;
    }
    memcpy(r->yre, yre, sizeof(yre));
    memcpy(r->yim, yim, sizeof(yim));
    memcpy(r->pw, pw, sizeof(pw));
    float row_next, col_next;
    int row = group_peak(pw, &row_next), col = group_peak(pw + 4, &col_next);
    float row_pw = pw[row], col_pw = pw[col + 4];
    r->row = (int8_t)row;
    r->col = (int8_t)col;
    r->cand = row_pw >= s->cand_pw && col_pw >= s->cand_pw &&
              row_next * s->rel_peak_cand <= row_pw && col_next * s->rel_peak_cand <= col_pw;
    r->clear = row_next * s->rel_peak <= row_pw && col_next * s->rel_peak <= col_pw;
}

void tt_dtmf_kernel_c(const struct tt_dtmf *s, const int16_t *x, struct tt_dtmf_rec *r)
{
    filters(s->coef, x, s->n, s->mid, &r->acc);
    block_measure(s, r);
}

/* The filter's power response to a tone dw rad/sample off its frequency, over n samples:
 * (sin(n dw / 2) / (n sin(dw / 2)))^2. */
static double response(double dw, unsigned n)
{
    double h = dw / 2.0;
    if (fabs(h) < 1e-9)
        return 1.0;
    double r = sin(n * h) / (n * sin(h));
    return r * r;
}

/* The frequency offset (rad/sample) of tone k over blocks p then c: the phase advance from
 * one block to the next, less a nominal tone's, is n * dw modulo 2 pi; the phase from the
 * first half of each block to the second is n/2 * dw with no ambiguity for |dw| < 2 pi / n
 * (77 Hz, beyond 3.5% of 1633 Hz), and picks the turn. */
static double offset(const struct tt_dtmf *s, const struct tt_dtmf_rec *p,
                     const struct tt_dtmf_rec *c, int k)
{
    /* fine: arg(y_c conj(y_p) e^{-jwn}) */
    double zre = c->yre[k] * p->yre[k] + c->yim[k] * p->yim[k];
    double zim = c->yim[k] * p->yre[k] - c->yre[k] * p->yim[k];
    double fine = atan2(zim * s->qre[k] + zre * s->qim[k], zre * s->qre[k] - zim * s->qim[k]);
    /* coarse: in each block, the first half X1 = e^{-jw(mid-1)} y_mid and the second
     * X2 = X - X1; arg(X2 conj X1) = arg((e^{-jw(n-mid)} y - y_mid) conj(y_mid)). */
    double hre = 0, him = 0;
    const struct tt_dtmf_rec *b[2] = {p, c};
    double mean[2] = {p->acc.sum / s->n, c->acc.sum / s->n};
    for (int i = 0; i < 2; i++) {
        const struct tt_dtmf_acc *a = &b[i]->acc;
        double m = mean[i];
        double ymre = a->s1m[k] - s->cosw[k] * a->s2m[k] - m * s->wmre[k];
        double ymim = s->sinw[k] * a->s2m[k] - m * s->wmim[k];
        double x2re = s->hre[k] * b[i]->yre[k] - s->him[k] * b[i]->yim[k] - ymre;
        double x2im = s->hre[k] * b[i]->yim[k] + s->him[k] * b[i]->yre[k] - ymim;
        hre += x2re * ymre + x2im * ymim;
        him += x2im * ymre - x2re * ymim;
    }
    double coarse = 2.0 * atan2(him, hre); /* n * dw, roughly */
    double turns = nearbyint((coarse - fine) / (2.0 * M_PI));
    return (fine + 2.0 * M_PI * turns) / s->n;
}

/* sum over n < len of e^{j d n}: what a filter of `len` samples sees of a tone d rad/sample
 * off its frequency, for each unit of the tone's complex amplitude. */
static double complex dirichlet(double d, unsigned len)
{
    double h = d / 2.0;
    if (fabs(h) < 1e-9)
        return len;
    double ph = h * (len - 1); /* cos and sin of one angle: one sincos call */
    return (cos(ph) + I * sin(ph)) * (sin(len * h) / sin(h));
}

/* Block b's DFT at tone k's nominal frequency, with its time origin at the block's first
 * sample: X = e^{-jw(n-1)} y. */
static double complex bin(const struct tt_dtmf *s, const struct tt_dtmf_rec *b, int k)
{
    return (b->yre[k] + I * b->yim[k]) * (s->rre[k] + I * s->rim[k]);
}

/* A digit's two tones, as measured over a pair of blocks. */
struct pair {
    int tone[2];                /* row filter, column filter */
    double dw[2];               /* each tone's offset from nominal, rad/sample */
    double complex amp[2][2];   /* [block][tone]: complex amplitudes at the blocks' starts */
    double complex inv[2][2];   /* the inverse of the filters' response to the tones */
};

/* What the pair's two filters see of its two tones, for each unit of their complex
 * amplitudes, at the tones' offsets: [row filter, column filter][row tone, column tone]. */
static bool pair_matrix(const struct tt_dtmf *s, const struct pair *q, double complex m[2][2])
{
    double wr = s->w[q->tone[0]], wc = s->w[q->tone[1]];
    m[0][0] = dirichlet(q->dw[0], s->n);
    m[1][1] = dirichlet(q->dw[1], s->n);
    m[0][1] = dirichlet(wc + q->dw[1] - wr, s->n); /* the column tone in the row filter */
    m[1][0] = dirichlet(wr + q->dw[0] - wc, s->n); /* the row tone in the column filter */
    double complex det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    if (cabs(det) < 1e-6 * s->n * s->n)
        return false;
    double complex t = m[0][0] / det;
    m[0][0] = m[1][1] / det; /* m becomes its inverse */
    m[1][1] = t;
    m[0][1] = -m[0][1] / det;
    m[1][0] = -m[1][0] / det;
    return true;
}

/* Block b's outputs at the pair's two filters, solved for the two tones' amplitudes. */
static void solve(const struct tt_dtmf *s, const struct tt_dtmf_rec *b, const struct pair *q,
                  double complex amp[2])
{
    double complex xr = bin(s, b, q->tone[0]), xc = bin(s, b, q->tone[1]);
    amp[0] = q->inv[0][0] * xr + q->inv[0][1] * xc;
    amp[1] = q->inv[1][0] * xr + q->inv[1][1] * xc;
}

/* Blocks p then c, both candidates for the same pair: is it a digit? On success q holds its
 * tones and level is the power of the two together, dBm0.
 *
 * Each filter also sees the other tone through its sidelobes: 9% of its amplitude for the
 * closest pair (941 and 1209 Hz, 3.5 bins apart), and with 8 dB of twist that is 23% of the
 * weaker tone, enough to move its level by 2 dB and its phase by 0.2 rad. So, knowing both
 * frequencies, the two outputs are solved for the two tones' complex amplitudes (a 2x2
 * system), the frequencies are measured again on those, and once more. What remains is the
 * tones' true levels: no loss correction, no twist error. The cheap tests come first: on
 * speech and at a digit's edges most pairs fail early. */
static bool pair_test(const struct tt_dtmf *s, const struct tt_dtmf_rec *p,
                      const struct tt_dtmf_rec *c, struct pair *q, double *level)
{
    const struct tt_dtmf_rec *b[2] = {p, c};
    q->tone[0] = c->row;
    q->tone[1] = c->col + 4;
    for (int t = 0; t < 2; t++) {
        q->dw[t] = offset(s, p, c, q->tone[t]);
        /* before the sidelobes are removed the estimate may be 6 Hz off: only what is
         * well beyond the limit goes now */
        if (fabs(q->dw[t]) > 1.5 * s->w[q->tone[t]] * FREQ_TOLERANCE)
            return false;
    }
    for (int iter = 0; iter < 2; iter++) {
        if (!pair_matrix(s, q, q->inv))
            return false;
        for (int i = 0; i < 2; i++)
            solve(s, b[i], q, q->amp[i]);
        /* Each tone's phase advanced by (w + dw) n from one block to the next. */
        for (int t = 0; t < 2; t++) {
            int k = q->tone[t];
            double fine = carg(q->amp[1][t] * conj(q->amp[0][t]) * (s->qre[k] + I * s->qim[k]));
            double turns = nearbyint((q->dw[t] * s->n - fine) / (2.0 * M_PI));
            q->dw[t] = (fine + 2.0 * M_PI * turns) / s->n;
        }
    }
    for (int t = 0; t < 2; t++)
        if (fabs(q->dw[t]) > s->w[q->tone[t]] * FREQ_TOLERANCE)
            return false;
    double min_pw = dbm0_to_power(LEVEL_MIN_DBM0);
    double share = db_to_power(ENERGY_SHARE_DB), full = db_to_power(ENERGY_SHARE_FULL_DB);
    double normal = db_to_power(-TWIST_NORMAL_DB), reverse = db_to_power(TWIST_REVERSE_DB);
    bool one_full = false;
    double top = 0, row_sum = 0, col_sum = 0;
    for (int i = 0; i < 2; i++) {
        /* a tone A sin(...) has complex amplitude A/2 and power A^2/2 = 2|a|^2 */
        double pr = 2.0 * norm(q->amp[i][0]), pc = 2.0 * norm(q->amp[i][1]);
        if (pr + pc < share * b[i]->energy)
            return false;
        one_full = one_full || pr + pc >= full * b[i]->energy;
        if (pr + pc > top)
            top = pr + pc; /* the fuller block: the other may hold the digit's start */
        row_sum += pr;
        col_sum += pc;
    }
    /* Level and twist over the two blocks together: at 15 dB signal-to-noise the weaker tone
     * of a -8 dB twist wavers by a dB from one block to the next. */
    if (row_sum < 2 * min_pw || col_sum < 2 * min_pw)
        return false;
    if (col_sum < row_sum * normal || col_sum > row_sum * reverse)
        return false;
    if (!one_full)
        return false;
    /* Each tone 8 dB above the others of its group: as the filters see them when that is
     * plain, else with the two tones' sidelobes taken out of the other six filters. */
    double peak = db_to_power(REL_PEAK_DB);
    for (int k = 0; k < 8 && !(p->clear && c->clear); k++) {
        if (k == q->tone[0] || k == q->tone[1])
            continue;
        int t = k < 4 ? 0 : 1;
        double complex lr = dirichlet(s->w[q->tone[0]] + q->dw[0] - s->w[k], s->n);
        double complex lc = dirichlet(s->w[q->tone[1]] + q->dw[1] - s->w[k], s->n);
        for (int i = 0; i < 2; i++) {
            double complex rest = bin(s, b[i], k) - q->amp[i][0] * lr - q->amp[i][1] * lc;
            if (norm(rest) * peak > norm(q->amp[i][t]) * s->n * s->n)
                return false;
        }
    }
    *level = power_to_dbm0(top);
    return true;
}

/* Does block r still show the digit being held? */
static bool sustained(const struct tt_dtmf *s, const struct tt_dtmf_rec *r)
{
    if (r->row != s->row || r->col != s->col)
        return false;
    float pr = r->pw[s->row] * s->gain_row, pc = r->pw[s->col + 4] * s->gain_col;
    return pr >= s->sustain_pw && pc >= s->sustain_pw && pr + pc >= s->sustain_share * r->energy;
}

/* Where the digit began. A tone that fills the last fraction a of a block adds up in the
 * filters (coherently) to a times the amplitude a whole block gives. Measured against the
 * fuller block of the pair, the pair's first block and the block before it hold a1 + a0
 * blocks of the digit before the second block begins: either the first is partial and the
 * one before empty, or the first is full and the one before holds the digit's start. (Each
 * is known to 2%, a quarter of a millisecond, so both are simply added.) */
static uint64_t onset(const struct tt_dtmf *s, const struct tt_dtmf_rec *before,
                      const struct tt_dtmf_rec *first, const struct pair *q)
{
    double a[2];
    for (int i = 0; i < 2; i++)
        a[i] = cabs(q->amp[i][0]) + cabs(q->amp[i][1]);
    double full = a[0] > a[1] ? a[0] : a[1], a1, a0 = 0;
    if (!(full > 0))
        return first->start;
    a1 = a[0] / full;
    double complex amp[2];
    if (before) {
        solve(s, before, q, amp);
        a0 = (cabs(amp[0]) + cabs(amp[1])) / full;
    }
    double held = (a0 < 1 ? a0 : 1) + a1;
    uint64_t back = (uint64_t)lrint(held * s->n), second = first->start + s->n;
    return second >= back ? second - back : 0;
}

static void block_done(struct tt_dtmf *s, const int16_t *x)
{
    unsigned cur = (s->cur + 1) % 3;
    struct tt_dtmf_rec *c = &s->rec[cur], *p = &s->rec[(cur + 2) % 3],
                       *pp = &s->rec[(cur + 1) % 3];
    s->cur = cur;
    s->kernel(s, x, c);
    c->start = s->pos;
    s->pos += s->n;
    s->blocks++;

    if (s->digit) {
        if (sustained(s, c)) {
            s->misses = 0;
            return;
        }
        if (++s->misses < SUSTAIN_MISSES)
            return;
        s->digit = 0;
    }
    if (s->blocks < 2 || !c->cand || !p->cand || c->row != p->row || c->col != p->col)
        return;
    struct pair q;
    double level;
    if (!pair_test(s, p, c, &q, &level))
        return;
    s->digit = keys[c->row][c->col];
    s->row = c->row;
    s->col = c->col;
    s->gain_row = (float)(1.0 / response(q.dw[0], s->n));
    s->gain_col = (float)(1.0 / response(q.dw[1], s->n));
    s->misses = 0;
    uint64_t start = onset(s, s->blocks >= 3 ? pp : NULL, p, &q);
    s->cb(s->user, s->digit, start, level);
}

void tt_dtmf_process(struct tt_dtmf *s, const int16_t *amp, size_t n)
{
    while (n > 0) {
        if (s->fill == 0 && n >= s->n) {
            block_done(s, amp);
            amp += s->n;
            n -= s->n;
            continue;
        }
        size_t take = s->n - s->fill;
        if (take > n)
            take = n;
        memcpy(s->buf + s->fill, amp, take * sizeof(*amp));
        s->fill += (unsigned)take;
        amp += take;
        n -= take;
        if (s->fill == s->n) {
            s->fill = 0;
            block_done(s, s->buf);
        }
    }
}

/* ---- the generator ---- */

int tt_dtmf_gen(int16_t *pcm, size_t n, int rate, const struct tt_dtmf_tone *t)
{
    int row = -1, col = -1;
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            if (keys[r][c] == t->digit) {
                row = r;
                col = c;
            }
    if (row < 0 || rate < 1)
        return EINVAL;
    double wl = 2.0 * M_PI * tone_hz[row] * (1.0 + t->low_dev) / rate;
    double wh = 2.0 * M_PI * tone_hz[col + 4] * (1.0 + t->high_dev) / rate;
    double al = tt_dtmf_dbm0_to_amplitude(t->low_dbm0);
    double ah = tt_dtmf_dbm0_to_amplitude(t->high_dbm0);
    for (size_t i = 0; i < n; i++) {
        double v = pcm[i] + al * sin(wl * (double)i + t->low_phase) +
                   ah * sin(wh * (double)i + t->high_phase);
        pcm[i] = v >= 32767 ? 32767 : v <= -32768 ? -32768 : (int16_t)lrint(v);
    }
    return 0;
}
