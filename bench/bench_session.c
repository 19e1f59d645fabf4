/*
 * Benchmarks of the guide's start and of barge-in, reported as medians beside a reference
 * measured in the same run (never asserted: these machines are shared and noisy).
 *
 * 1. Time to first audio sample: load the guide, its phrases, open the prompt store, start a
 *    session and get the audio of its first words. Warm cache (the case that matters at every
 *    start after the first) beside cold (the reference: what synthesis costs).
 * 2. Barge-in in the render path: from a key to silence. Two parts: the CPU time to handle the
 *    key (session + player), and the audio the fade still plays (5 ms by design).
 * 3. What privacy costs: personal words (an entry read back, a lookup's answer) are never
 *    cached, so each is synthesized when it is said. Time from the say event to its audio in
 *    memory, beside a public prompt of the same length served from the store (the reference).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "prompt/player.h"
#include "tonetree.h"

#define GUIDE "menus/no-contact-order.ini"
#define RATE 16000
#define RUNS 21

/* Everything from nothing loaded to the first sample of audio in memory. */
static double first_audio(const char *cache, tt_diag *d)
{
    double t0 = bench_now_ms();
    tt_menu *m = NULL;
    tt_phrases *ph[8] = {0};
    tt_store *store = NULL;
    tt_session *s = NULL;
    double t = -1;
    if (tt_menu_load(&m, GUIDE, d) || tt_phrases_load_all(m, NULL, ph, d))
        goto out;
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_prompts_dir(m),
                               .cache_dir = cache};
    if (tt_store_new(&store, &so, d) || tt_session_new(&s, m, ph, NULL))
        goto out;
    tt_session_start(s, 0);
    struct tt_event ev;
    while (tt_session_next_event(s, &ev)) {
        if (ev.type != TT_EV_SAY)
            continue;
        const struct tt_clip *clip;
        if (tt_store_get(store, tt_menu_lang(m, (size_t)ev.lang), tt_menu_voice(m, (size_t)ev.lang),
                         ev.part == TT_PART_BODY ? tt_menu_node_id(m, ev.node) : NULL, ev.text,
                         100, &clip))
            goto out;
        if (clip->frames)
            t = bench_now_ms() - t0;
        break;
    }
out:
    tt_session_free(s);
    tt_store_free(store);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    return t;
}

static int bench_first_audio(tt_diag *d)
{
    char cold[64], warm[] = "build/bench/cache-warm";
    double vc[RUNS], vw[RUNS];
    if (first_audio(warm, d) < 0) { /* fill the warm cache */
        tt_diag_print(d, stderr);
        return 1;
    }
    for (int i = 0; i < RUNS; i++) {
        snprintf(cold, sizeof(cold), "build/bench/cache-cold-%d-%d", (int)getpid(), i);
        vc[i] = first_audio(cold, d);
        vw[i] = first_audio(warm, d);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", cold);
        if (system(cmd) != 0)
            return 1;
    }
    double mc = bench_median(vc, RUNS), mw = bench_median(vw, RUNS);
    printf("time to first audio sample of the guide (median of %d)\n", RUNS);
    printf("  %-34s %9.2f ms\n", "warm cache (aim <= 50 ms)", mw);
    printf("  %-34s %9.2f ms\n", "cold cache (reference: synthesis)", mc);
    printf("  %-34s %9.1fx\n", "cold / warm", mc / mw);
    return 0;
}

/* The guide's welcome is playing; a key arrives: how long until the output is silent? */
static int bench_barge_in(tt_diag *d)
{
    tt_menu *m = NULL;
    tt_phrases *ph[8] = {0};
    tt_store *store = NULL;
    int rc = 1;
    if (tt_menu_load(&m, GUIDE, d) || tt_phrases_load_all(m, NULL, ph, d))
        goto out;
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_prompts_dir(m),
                               .cache_dir = "build/bench/cache-warm"};
    if (tt_store_new(&store, &so, d))
        goto out;
    double cpu[RUNS * 10];
    size_t silent_after = 0;
    int16_t buf[RATE];
    for (int i = 0; i < RUNS * 10; i++) {
        tt_session *s = NULL;
        struct tt_player p;
        struct tt_event ev;
        tt_player_init(&p, RATE);
        if (tt_session_new(&s, m, ph, NULL))
            goto out;
        tt_session_start(s, 0);
        while (tt_session_next_event(s, &ev)) {
            const struct tt_clip *clip;
            if (ev.type == TT_EV_SAY &&
                !tt_store_get(store, tt_menu_lang(m, 0), tt_menu_voice(m, 0),
                              tt_menu_node_id(m, ev.node), ev.text, 100, &clip))
                tt_player_play(&p, clip);
        }
        tt_player_pull(&p, buf, RATE / 2); /* half a second into the welcome */
        double t0 = bench_now_ms();
        tt_session_key(s, '1', 500);
        while (tt_session_next_event(s, &ev))
            if (ev.type == TT_EV_STOP)
                tt_player_stop(&p);
        cpu[i] = (bench_now_ms() - t0) * 1000.0;
        /* how many frames until the output is silent for good */
        tt_player_pull(&p, buf, RATE / 10);
        size_t last = 0;
        for (size_t k = 0; k < RATE / 10; k++)
            if (buf[k])
                last = k + 1;
        if (last > silent_after)
            silent_after = last;
        tt_session_free(s);
    }
    double mc = bench_median(cpu, RUNS * 10);
    printf("barge-in in the render path (median of %d)\n", RUNS * 10);
    printf("  %-34s %9.2f us\n", "key handled (session + player)", mc);
    printf("  %-34s %9.2f ms\n", "audio until silent (the fade)", silent_after * 1000.0 / RATE);
    printf("  %-34s %9.2f ms  (aim <= 10 ms)\n", "key to silence", mc / 1000.0 +
           silent_after * 1000.0 / RATE);
    rc = 0;
out:
    if (rc)
        tt_diag_print(d, stderr);
    tt_store_free(store);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    return rc;
}

/* Time from a SAY to its audio in memory, through tt_store_say and back. */
static double say_ms(tt_store *store, const tt_menu *m, const struct tt_event *ev)
{
    const struct tt_clip *clip;
    double t0 = bench_now_ms();
    if (tt_store_say(store, m, ev, &clip))
        return -1;
    double t = bench_now_ms() - t0;
    tt_store_release(store, clip);
    return t;
}

static int bench_personal(tt_diag *d)
{
    static const char *const said[] = {
        "You entered 2 0 3 1, 0 0 0 1.",
        "Your next hearing is on Monday, March 3, 2031, at 9:30 in the morning, in courtroom 4.",
    };
    static const char *const name[] = {"a read-back", "a lookup's answer"};
    static const int rates[] = {16000, 48000};
    tt_menu *m = NULL;
    tt_phrases *ph[8] = {0};
    int rc = 1;
    if (tt_menu_load(&m, GUIDE, d))
        goto out;
    printf("personal words, synthesized each time they are said (median of %d)\n", RUNS);
    for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
        tt_store *store = NULL;
        struct tt_store_opts so = {.rate = rates[r], .prompts_dir = tt_menu_prompts_dir(m)};
        if (tt_store_new(&store, &so, d))
            goto out;
        for (size_t i = 0; i < sizeof(said) / sizeof(said[0]); i++) {
            struct tt_event ev = {.type = TT_EV_SAY, .node = 0, .lang = 0,
                                  .part = TT_PART_ENGINE, .speed = 100, .text = said[i],
                                  .privacy = TT_PERSONAL};
            double vp[RUNS], vh[RUNS];
            struct tt_event pub = ev;
            pub.privacy = TT_PUBLIC;
            if (say_ms(store, m, &pub) < 0) /* into the store: the hits below */
                goto out;
            for (int k = 0; k < RUNS; k++) {
                vp[k] = say_ms(store, m, &ev);
                vh[k] = say_ms(store, m, &pub);
            }
            double mp = bench_median(vp, RUNS), mh = bench_median(vh, RUNS);
            printf("  %-20s %5d Hz: %8.2f ms, beside %.4f ms from the store (%.0fx)\n",
                   name[i], rates[r], mp, mh, mp / (mh > 0 ? mh : 1e-6));
        }
        tt_store_free(store);
    }
    rc = 0;
out:
    if (rc)
        tt_diag_print(d, stderr);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    return rc;
}

int main(void)
{
    tt_diag *d = tt_diag_new();
    int rc = bench_first_audio(d) || bench_barge_in(d) || bench_personal(d);
    tt_diag_free(d);
    return rc;
}
