/*
 * The DTMF receiver's Goertzel bank with AVX2 and FMA: the eight filters in one register.
 *
 * Each filter runs s[i] = x[i] + 2cos(w) s[i-1] - s[i-2]. With the eight states side by side
 * in one 256-bit register, a sample costs three instructions: broadcast it, subtract s[i-2],
 * and one fused multiply-add with s[i-1]. Writing the new state over s[i-2] lets two
 * registers take turns, so no moves are needed. Eight samples at a time are widened from
 * int16 to float in two instructions, and their sum and sum of squares (the block's energy)
 * cost one instruction each per eight samples: about 4 instructions a sample, where
 * spandsp's scalar float loop takes about 66. The end of a block (each tone's power, the
 * strongest of each group) is done eight tones at a time too, in about 40 instructions.
 *
 * The functions carry target attributes, so this file needs no compiler flags, and
 * tt_dtmf_have_avx2 asks the processor at run time; dtmf.c falls back to the portable kernel.
 * On other architectures only the portable kernel exists and tt_dtmf_kernel_avx2 is never
 * called.
 */
#include <stddef.h>
#include <string.h>

#include "dsp/dtmf.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

bool tt_dtmf_have_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* Samples [from, to) of x, both multiples of 8; a holds s[i-2] and b s[i-1], and so again
 * on return (an even number of steps). */
AVX2 static inline void run(__m256 c, const int16_t *x, unsigned from, unsigned to, __m256 *pa,
                            __m256 *pb, __m256 *psum, __m256 *psq)
{
    __m256 a = *pa, b = *pb, sum = *psum, sq = *psq;
    float v[8] __attribute__((aligned(32)));
    for (unsigned i = from; i < to; i += 8) {
        __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(x + i))));
        sum = _mm256_add_ps(sum, f);
        sq = _mm256_fmadd_ps(f, f, sq);
        _mm256_store_ps(v, f);
        a = _mm256_fmadd_ps(c, b, _mm256_sub_ps(_mm256_broadcast_ss(&v[0]), a));
        b = _mm256_fmadd_ps(c, a, _mm256_sub_ps(_mm256_broadcast_ss(&v[1]), b));
        a = _mm256_fmadd_ps(c, b, _mm256_sub_ps(_mm256_broadcast_ss(&v[2]), a));
        b = _mm256_fmadd_ps(c, a, _mm256_sub_ps(_mm256_broadcast_ss(&v[3]), b));
        a = _mm256_fmadd_ps(c, b, _mm256_sub_ps(_mm256_broadcast_ss(&v[4]), a));
        b = _mm256_fmadd_ps(c, a, _mm256_sub_ps(_mm256_broadcast_ss(&v[5]), b));
        a = _mm256_fmadd_ps(c, b, _mm256_sub_ps(_mm256_broadcast_ss(&v[6]), a));
        b = _mm256_fmadd_ps(c, a, _mm256_sub_ps(_mm256_broadcast_ss(&v[7]), b));
    }
    *pa = a;
    *pb = b;
    *psum = sum;
    *psq = sq;
}

AVX2 static double hsum(__m256 v)
{
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* What the block shows, as block_measure in dtmf.c does it, eight tones at a time: the
 * outputs with DC taken out, the powers, and per group (rows in the low half of the register,
 * columns in the high half) the strongest tone and how many come near it. */
AVX2 static void measure(const struct tt_dtmf *s, struct tt_dtmf_rec *r, __m256 s1, __m256 s2)
{
    const struct tt_dtmf_acc *a = &r->acc;
    double n = s->n, mean = a->sum / n;
    r->energy = (float)((a->sumsq - a->sum * mean) / n);
    __m256 m = _mm256_set1_ps((float)mean);
    __m256 yre = _mm256_fnmadd_ps(m, _mm256_loadu_ps(s->wre),
                                  _mm256_fnmadd_ps(_mm256_loadu_ps(s->cosw), s2, s1));
    __m256 yim = _mm256_fnmadd_ps(m, _mm256_loadu_ps(s->wim),
                                  _mm256_mul_ps(_mm256_loadu_ps(s->sinw), s2));
    __m256 pw = _mm256_mul_ps(_mm256_fmadd_ps(yre, yre, _mm256_mul_ps(yim, yim)),
                              _mm256_set1_ps(s->pw_scale));
    _mm256_storeu_ps(r->yre, yre);
    _mm256_storeu_ps(r->yim, yim);
    _mm256_storeu_ps(r->pw, pw);
    /* the largest of each half, in every lane of that half */
    __m256 top = _mm256_max_ps(pw, _mm256_permute_ps(pw, _MM_SHUFFLE(1, 0, 3, 2)));
    top = _mm256_max_ps(top, _mm256_permute_ps(top, _MM_SHUFFLE(2, 3, 0, 1)));
    unsigned best = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(pw, top, _CMP_EQ_OQ));
    r->row = (int8_t)(best & 15 ? __builtin_ctz(best & 15) : 0);
    r->col = (int8_t)(best >> 4 ? __builtin_ctz(best >> 4) : 0);
    unsigned loud = (unsigned)_mm256_movemask_ps(
        _mm256_cmp_ps(top, _mm256_set1_ps(s->cand_pw), _CMP_GE_OQ));
    /* tones within the limit of the strongest, the strongest itself included */
    unsigned near = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(
        _mm256_mul_ps(pw, _mm256_set1_ps(s->rel_peak_cand)), top, _CMP_GT_OQ));
    unsigned near8 = (unsigned)_mm256_movemask_ps(
        _mm256_cmp_ps(_mm256_mul_ps(pw, _mm256_set1_ps(s->rel_peak)), top, _CMP_GT_OQ));
    r->cand = (loud & 0x11) == 0x11 && __builtin_popcount(near & 15) <= 1 &&
              __builtin_popcount(near >> 4) <= 1;
    r->clear = __builtin_popcount(near8 & 15) <= 1 && __builtin_popcount(near8 >> 4) <= 1;
}

AVX2 void tt_dtmf_kernel_avx2(const struct tt_dtmf *s, const int16_t *x, struct tt_dtmf_rec *r)
{
    struct tt_dtmf_acc *acc = &r->acc;
    __m256 c = _mm256_loadu_ps(s->coef);
    __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
    __m256 sum = _mm256_setzero_ps(), sq = _mm256_setzero_ps();
    run(c, x, 0, s->mid, &a, &b, &sum, &sq);
    _mm256_storeu_ps(acc->s1m, b);
    _mm256_storeu_ps(acc->s2m, a);
    run(c, x, s->mid, s->n, &a, &b, &sum, &sq);
    _mm256_storeu_ps(acc->s1, b);
    _mm256_storeu_ps(acc->s2, a);
    acc->sum = hsum(sum);
    acc->sumsq = hsum(sq);
    measure(s, r, b, a);
}

#else

bool tt_dtmf_have_avx2(void)
{
    return false;
}

void tt_dtmf_kernel_avx2(const struct tt_dtmf *s, const int16_t *x, struct tt_dtmf_rec *r)
{
    tt_dtmf_kernel_c(s, x, r);
}

#endif
