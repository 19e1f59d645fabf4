/*
 * The guide as a first-time listener meets it: how long until step one, and how fast it
 * speaks. Both are properties of the audio, not of the machine: exact, and the same on every
 * run, so there is nothing to take a median of.
 *
 * 1. Time to step one: a listener who waits for every prompt to end, then presses the key for
 *    the steps (3), in each language of the guide. Measured in the rendered session: from the
 *    first sample to the moment step one begins. The target is under 35 s (issue 10); before
 *    the listener-experience work it was 49 s in English and 53 s in Spanish.
 * 2. Pace: every node text of the guide, synthesized at the listener's normal speed; words
 *    (as spoken: a number said digit by digit counts each digit) over audio seconds, per
 *    language, beside the target of TT_TTS_PACE_WPM. And the longest text, against the 20 s
 *    that `tonetree check` allows.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/menu.h"
#include "prompt/tts.h"
#include "tonetree.h"

#define GUIDE "menus/no-contact-order.ini"
#define RATE 16000

static size_t count_words(const char *s)
{
    size_t n = 0;
    bool in = false;
    for (; *s; s++) {
        bool w = isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80;
        if (w && !in)
            n++;
        in = w;
    }
    return n;
}

/* Seconds from the start of the session to step one, or -1. */
static double to_step_one(const tt_menu *m, tt_phrases *const *ph, tt_store *store, int lang,
                          tt_diag *d)
{
    char path[512];
    FILE *tf = bench_tmpfile(path, sizeof(path));
    if (!tf)
        return -1;
    struct tt_render_opts ro = {.keys = "3", .transcript = tf, .rate = RATE, .lang = lang};
    int err = tt_render(m, ph, store, &ro, d);
    fclose(tf);
    double at = -1;
    FILE *f = err ? NULL : fopen(path, "r");
    char line[4096];
    while (f && fgets(line, sizeof(line), f))
        if (strstr(line, " go step1")) {
            at = strtod(line, NULL);
            break;
        }
    if (f)
        fclose(f);
    unlink(path);
    return at;
}

int main(void)
{
    tt_diag *d = tt_diag_new();
    tt_menu *m = NULL;
    tt_phrases *ph[TT_MAX_LANGS] = {0};
    tt_store *store = NULL;
    if (tt_menu_load(&m, GUIDE, d) || tt_phrases_load_all(m, NULL, ph, d)) {
        tt_diag_print(d, stderr);
        return 1;
    }
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_prompts_dir(m)};
    if (tt_store_new(&store, &so, d)) {
        tt_diag_print(d, stderr);
        return 1;
    }
    printf("The guide (%s) as a first-time listener hears it, at %d Hz\n\n", GUIDE, RATE);
    printf("1. Time to step one (wait for every prompt, then press 3); target under 35 s\n");
    printf("   %-6s %10s %12s\n", "lang", "seconds", "vs 35 s");
    for (size_t l = 0; l < m->nlangs; l++) {
        double secs = to_step_one(m, ph, store, (int)l, d);
        if (secs < 0) {
            tt_diag_print(d, stderr);
            fprintf(stderr, "bench_guide: the render never reached step one\n");
            return 1;
        }
        printf("   %-6s %10.2f %11.0f%%\n", m->lang[l], secs, 100.0 * secs / 35.0);
    }
    printf("\n2. Pace of the node texts at normal speed; target %d words a minute\n",
           TT_TTS_PACE_WPM);
    printf("   %-6s %-20s %7s %9s %7s %9s  %s\n", "lang", "voice", "words", "seconds", "wpm",
           "vs target", "longest text");
    for (size_t l = 0; l < m->nlangs; l++) {
        size_t words = 0;
        double secs = 0, longest = 0;
        const char *longest_id = "";
        for (size_t n = 0; n < m->nnodes; n++) {
            const struct tt_node *nd = &m->nodes[n];
            const char *texts[2] = {nd->text[l], nd->brief[l]};
            for (int k = 0; k < 2; k++) {
                if (!texts[k])
                    continue;
                const struct tt_clip *clip;
                /* no node id: the voice, even where a recording stands in */
                if (tt_store_get(store, m->lang[l], m->voice[l], NULL, texts[k],
                                 TT_TTS_SPEED_NORMAL, &clip)) {
                    tt_diag_print(d, stderr);
                    return 1;
                }
                double s = (double)clip->frames / RATE;
                words += count_words(texts[k]);
                secs += s;
                if (s > longest) {
                    longest = s;
                    longest_id = nd->id;
                }
            }
        }
        double wpm = secs > 0 ? words * 60.0 / secs : 0;
        printf("   %-6s %-20s %7zu %9.1f %7.1f %8.0f%%  %.1f s (%s)\n", m->lang[l], m->voice[l],
               words, secs, wpm, 100.0 * wpm / TT_TTS_PACE_WPM, longest, longest_id);
    }
    tt_store_free(store);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    tt_diag_free(d);
    return 0;
}
