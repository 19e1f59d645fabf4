/*
 * Time-stretching recordings. Synthesized speech is simply synthesized again at the new
 * speed, but a clerk's recording can only be stretched. Doing that well (no chipmunk pitch,
 * no warble) is a craft of its own, so it is left to rubberband, run offline on the whole
 * recording once per speed; the prompt store keeps the result like any other clip.
 */
#include <errno.h>
#include <rubberband/rubberband-c.h>
#include <stdlib.h>

#include "dsp/stretch.h"

#define CHUNK 4096

int tt_stretch(const int16_t *in, size_t n, int rate, int speed_pct, int16_t **out,
               size_t *out_n, const atomic_bool *stop)
{
    int err = 0;
    float *fin = NULL, *fout = NULL;
    RubberBandState rb = NULL;
    size_t cap, got = 0;

    *out = NULL;
    *out_n = 0;
    if (speed_pct < 25 || speed_pct > 400 || rate <= 0 || n > UINT32_MAX / 4)
        return EINVAL;
    double ratio = 100.0 / speed_pct;
    cap = (size_t)(n * ratio) + CHUNK * 2;
    fin = malloc((n + 1) * sizeof(*fin));
    fout = malloc(cap * sizeof(*fout));
    if (!fin || !fout) {
        err = ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        fin[i] = in[i] / 32768.0f;
    /* Offline, finer engine: quality over speed, since it runs once per recording and speed. */
    rb = rubberband_new((unsigned)rate, 1,
                        RubberBandOptionProcessOffline | RubberBandOptionEngineFiner, ratio, 1.0);
    if (!rb) {
        err = ENOMEM;
        goto out;
    }
    rubberband_set_expected_input_duration(rb, (unsigned)n);
    for (size_t i = 0; i < n; i += CHUNK) {
        const float *p = fin + i;
        size_t k = n - i < CHUNK ? n - i : CHUNK;
        rubberband_study(rb, &p, (unsigned)k, i + k >= n);
    }
    for (size_t i = 0; i < n || rubberband_available(rb) > 0;) {
        if (stop && atomic_load_explicit(stop, memory_order_relaxed)) {
            err = ECANCELED;
            goto out;
        }
        if (i < n) {
            const float *p = fin + i;
            size_t k = n - i < CHUNK ? n - i : CHUNK;
            rubberband_process(rb, &p, (unsigned)k, i + k >= n);
            i += k;
        }
        int avail;
        while ((avail = rubberband_available(rb)) > 0) {
            if (got + (size_t)avail > cap) {
                size_t ncap = (got + (size_t)avail) * 2;
                float *f = realloc(fout, ncap * sizeof(*f));
                if (!f) {
                    err = ENOMEM;
                    goto out;
                }
                fout = f;
                cap = ncap;
            }
            float *q = fout + got;
            got += rubberband_retrieve(rb, &q, (unsigned)avail);
        }
        if (i >= n && rubberband_available(rb) <= 0)
            break;
    }
    if (!(*out = malloc((got ? got : 1) * sizeof(**out)))) {
        err = ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < got; i++) {
        float v = fout[i] * 32768.0f;
        (*out)[i] = v > 32767.0f ? 32767 : v < -32768.0f ? -32768 : (int16_t)v;
    }
    *out_n = got;
out:
    if (rb)
        rubberband_delete(rb);
    free(fin);
    free(fout);
    return err;
}
