/*
 * Loudness benchmark: what bringing every prompt to one loudness costs, and what it changes.
 *
 * 1. Before and after, per language of the guide: every node's text of
 *    menus/no-contact-order.ini spoken by the voice, resampled to 16 kHz as the prompt store
 *    does (the "before" is what the store kept until now), then normalized by loudness.c
 *    (the "after" is what it keeps now). The clips are laid end to end with the 0.4 s pause
 *    the engine puts between prompts and measured with libebur128 as one programme:
 *    integrated loudness and true peak, and the spread of the clips' own loudness. Spanish is
 *    shown in both espeak-ng voices: es (Spain, the guide's voice until now) and es-419
 *    (Latin American, its voice now).
 * 2. Cost: tt_loud_normalize on 30 s of the English speech at 48 kHz and at 8 kHz, timed 11
 *    times each, on the wall clock (CLOCK_MONOTONIC) and in this thread's CPU time
 *    (CLOCK_THREAD_CPUTIME_ID, which a busy neighbour on a shared machine moves less); medians,
 *    in milliseconds per second of audio, and beside them what synthesizing that second took,
 *    for scale.
 *
 * Run: make bench (or build/bench/bench_loudness), from the project's top folder.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebur128.h>

#include "base/diag.h"
#include "bench.h"
#include "core/menu_priv.h"
#include "dsp/loudness.h"
#include "prompt/audio.h"
#include "prompt/tts.h"
#include "tonetree.h"

#define GUIDE "menus/no-contact-order.ini"
#define RATE 16000   /* the render's and the kiosk's default output rate */
#define GAP_MS 400   /* the engine's pause between the parts of a prompt */
#define RUNS 11
#define COST_SECONDS 30

struct clips {
    int16_t **pcm;
    size_t *n;
    size_t count;
    double synth_ms, seconds; /* time spent synthesizing, audio made */
};

static void clips_free(struct clips *c)
{
    for (size_t i = 0; i < c->count; i++)
        free(c->pcm[i]);
    free(c->pcm);
    free(c->n);
    memset(c, 0, sizeof(*c));
}

/* Every node's text in language l, spoken by voice at RATE: the store's "before". */
static int speak_guide(const tt_menu *m, size_t l, const char *voice, struct clips *c,
                       tt_diag *d)
{
    struct tt_tts_voice v;
    int err = tt_tts_voice_parse(&v, voice, d);
    if (err)
        return err;
    memset(c, 0, sizeof(*c));
    if (!(c->pcm = calloc(m->nnodes, sizeof(*c->pcm))) ||
        !(c->n = calloc(m->nnodes, sizeof(*c->n))))
        return ENOMEM;
    for (size_t i = 0; i < m->nnodes; i++) {
        const char *text = m->nodes[i].text[l];
        if (!text || !*text)
            continue;
        int16_t *raw = NULL;
        size_t raw_n = 0;
        int raw_rate = 0;
        double t0 = bench_now_ms();
        if ((err = tt_tts_speak(&v, text, TT_TTS_SPEED_NORMAL, &raw, &raw_n, &raw_rate, d)) ||
            (err = tt_audio_resample(raw, raw_n, raw_rate, RATE, &c->pcm[c->count],
                                     &c->n[c->count]))) {
            free(raw);
            return err;
        }
        c->synth_ms += bench_now_ms() - t0;
        c->seconds += (double)c->n[c->count] / RATE;
        free(raw);
        c->count++;
    }
    return 0;
}

struct programme {
    double lufs, tp;              /* the clips end to end, with pauses */
    double clip_min, clip_max;    /* the clips' own loudness */
    size_t peak_limited;          /* clips the true peak held under the target */
};

/* Measure the clips as one programme, with libebur128 directly. */
static int measure(const struct clips *c, struct programme *p)
{
    static int16_t gap[RATE * GAP_MS / 1000];
    ebur128_state *st = ebur128_init(1, RATE, EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK);
    if (!st)
        return ENOMEM;
    p->clip_min = INFINITY;
    p->clip_max = -INFINITY;
    for (size_t i = 0; i < c->count; i++) {
        struct tt_loud l;
        int err = tt_loud_measure(c->pcm[i], c->n[i], RATE, &l);
        if (err) {
            ebur128_destroy(&st);
            return err;
        }
        p->clip_min = fmin(p->clip_min, l.lufs);
        p->clip_max = fmax(p->clip_max, l.lufs);
        ebur128_add_frames_short(st, c->pcm[i], c->n[i]);
        ebur128_add_frames_short(st, gap, sizeof(gap) / sizeof(*gap));
    }
    double tp = 0;
    ebur128_loudness_global(st, &p->lufs);
    ebur128_true_peak(st, 0, &tp);
    p->tp = 20 * log10(tp);
    ebur128_destroy(&st);
    return 0;
}

static int normalize_all(struct clips *c, size_t *peak_limited)
{
    *peak_limited = 0;
    for (size_t i = 0; i < c->count; i++) {
        struct tt_loud l;
        int err = tt_loud_normalize(c->pcm[i], c->n[i], RATE, &l);
        if (err)
            return err;
        *peak_limited += l.limit == TT_LOUD_PEAK;
    }
    return 0;
}

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Milliseconds tt_loud_normalize takes per second of audio at a rate, on the wall clock and
 * in CPU time: medians of RUNS. */
static int cost(const int16_t *speech, size_t n, int rate, double *wall_ms, double *cpu)
{
    int16_t *x = NULL, *work = NULL;
    size_t xn = 0;
    double t[RUNS], c[RUNS];
    int err = tt_audio_resample(speech, n, RATE, rate, &x, &xn);
    if (err)
        return err;
    if (!(work = malloc(xn * sizeof(*work)))) {
        free(x);
        return ENOMEM;
    }
    for (int r = 0; r < RUNS && !err; r++) {
        memcpy(work, x, xn * sizeof(*work)); /* the same loud input each time */
        double t0 = bench_now_ms(), c0 = cpu_ms();
        err = tt_loud_normalize(work, xn, rate, NULL);
        c[r] = cpu_ms() - c0;
        t[r] = bench_now_ms() - t0;
    }
    if (!err) {
        *wall_ms = bench_median(t, RUNS) / ((double)xn / rate);
        *cpu = bench_median(c, RUNS) / ((double)xn / rate);
    }
    free(work);
    free(x);
    return err;
}

int main(void)
{
    static const struct {
        const char *lang, *voice, *note;
    } voices[] = {
        {"en", "flite:kal16", ""},
        {"es", "espeak-ng:es", " (before: the old voice)"},
        {"es", "espeak-ng:es-419", " (the voice now)"},
    };
    tt_diag *d = tt_diag_new();
    tt_menu *m = NULL;
    struct clips en = {0};
    int err = tt_menu_load(&m, GUIDE, d);
    if (err)
        goto out;

    printf("Loudness of the guide (%s), every node's text at %d Hz, clips end to end with "
           "%d ms pauses; target %.0f LUFS, true peak at most %.0f dBTP\n\n",
           GUIDE, RATE, GAP_MS, TT_LOUD_TARGET_LUFS, TT_LOUD_CEILING_DBTP);
    printf("%-4s %-18s %6s | %-36s | %-36s\n", "", "", "", "before (as synthesized)",
           "after (normalized)");
    printf("%-4s %-18s %6s | %8s %8s %18s | %8s %8s %18s\n", "lang", "voice", "clips", "LUFS",
           "dBTP", "clips LUFS", "LUFS", "dBTP", "clips LUFS");
    double before_lufs[3] = {0}, after_lufs[3] = {0};
    for (size_t k = 0; k < sizeof(voices) / sizeof(*voices); k++) {
        struct clips c;
        struct programme b, a;
        size_t limited = 0;
        int l = tt_menu_lang_index(m, voices[k].lang);
        if (l < 0) {
            err = EINVAL;
            goto out;
        }
        if ((err = speak_guide(m, (size_t)l, voices[k].voice, &c, d)) ||
            (err = measure(&c, &b)) || (err = normalize_all(&c, &limited)) ||
            (err = measure(&c, &a))) {
            clips_free(&c);
            goto out;
        }
        printf("%-4s %-18s %6zu | %8.2f %8.2f %8.1f to %6.1f | %8.2f %8.2f %8.1f to %6.1f\n",
               voices[k].lang, voices[k].voice, c.count, b.lufs, b.tp, b.clip_min, b.clip_max,
               a.lufs, a.tp, a.clip_min, a.clip_max);
        printf("     %s%s: %.0f s of speech; %zu of %zu clips held under the target by their "
               "true peak\n", voices[k].voice, voices[k].note, c.seconds, limited, c.count);
        before_lufs[k] = b.lufs;
        after_lufs[k] = a.lufs;
        if (k == 0)
            en = c; /* kept for the cost: already normalized, as loud as any prompt */
        else
            clips_free(&c);
    }
    printf("\nSpanish minus English: before %+.2f LU (es), %+.2f LU (es-419); after %+.2f LU "
           "(es), %+.2f LU (es-419)\n\n", before_lufs[1] - before_lufs[0],
           before_lufs[2] - before_lufs[0], after_lufs[1] - after_lufs[0],
           after_lufs[2] - after_lufs[0]);

    /* The cost, on the first COST_SECONDS of English speech. */
    size_t want = (size_t)COST_SECONDS * RATE, have = 0;
    int16_t *speech = malloc(want * sizeof(*speech));
    if (!speech) {
        err = ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < en.count && have < want; i++) {
        size_t k = en.n[i] < want - have ? en.n[i] : want - have;
        memcpy(speech + have, en.pcm[i], k * sizeof(*speech));
        have += k;
    }
    double synth = en.synth_ms / en.seconds;
    printf("Cost of tt_loud_normalize (measure, plan, apply), median of %d runs on %.0f s of "
           "speech:\n", RUNS, (double)have / RATE);
    static const int rates[] = {48000, 8000};
    for (size_t r = 0; r < 2 && !err; r++) {
        double wall = 0, cpu = 0;
        if (!(err = cost(speech, have, rates[r], &wall, &cpu)))
            printf("  %5d Hz: %.3f ms of CPU time per second of audio (%.0fx faster than real "
                   "time); %.3f ms on the wall clock\n", rates[r], cpu, 1000.0 / cpu, wall);
    }
    printf("  for scale: synthesizing a second of that speech with flite and resampling it to "
           "16 kHz took %.1f ms on the wall clock\n", synth);
    free(speech);
out:
    if (err) {
        tt_diag_print(d, stderr);
        fprintf(stderr, "bench_loudness: failed (%s)\n", strerror(err));
    }
    clips_free(&en);
    tt_menu_free(m);
    tt_diag_free(d);
    return err ? 1 : 0;
}
