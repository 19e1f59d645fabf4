/*
 * The shipped guide (menus/no-contact-order.ini), as a first-time listener meets it: the rules of
 * issue 10 checked on the real menu, with its real phrases and voices. Where a rule is about time
 * or sound, it is checked in rendered audio (16 kHz): the render's clock is the audio's own, so
 * these figures are exact and the same on a busy machine.
 *
 *   - the way out is the first thing said, and every other language is offered, in its own
 *     language and voice, within the first six seconds;
 *   - a listener who waits for every prompt and then presses 3 reaches step one in under 35 s;
 *   - no text of the guide runs over 20 s at the normal speed;
 *   - the safety lines are two keys (0, then 1) from every node, and help says them first;
 *   - pages say where they lead, and "page" is never said;
 *   - numbers are spoken digit by digit in groups and shown as written;
 *   - the content the issue asks for is there, in both languages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/menu.h"
#include "prompt/tts.h"
#include "testlib.h"

#define GUIDE "menus/no-contact-order.ini"
#define RATE 16000

struct guide {
    tt_menu *m;
    tt_phrases *ph[TT_MAX_LANGS];
    tt_store *store;
    tt_diag *d;
    char *dir;
};

static int setup(void **state)
{
    struct guide *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    g->d = tt_diag_new();
    if (tt_menu_load(&g->m, GUIDE, g->d) || tt_phrases_load_all(g->m, NULL, g->ph, g->d)) {
        tt_diag_print(g->d, stderr);
        fail_msg("the guide does not load");
    }
    g->dir = tl_tmpdir();
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_prompts_dir(g->m),
                               .cache_dir = g->dir};
    assert_int_equal(tt_store_new(&g->store, &so, g->d), 0);
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    struct guide *g = *state;
    tt_store_free(g->store);
    tt_phrases_free_all(g->m, g->ph);
    tt_menu_free(g->m);
    tt_diag_free(g->d);
    tl_rmtree(g->dir);
    free(g->dir);
    free(g);
    return 0;
}

static int lang_of(const tt_menu *m, const char *code)
{
    for (size_t l = 0; l < m->nlangs; l++)
        if (!strcmp(m->lang[l], code))
            return (int)l;
    fail_msg("the guide has no language %s", code);
    return -1;
}

/* A rendered session: its transcript lines and its audio. */
struct render {
    char *text;
    char *line[1024];
    size_t n;
    int16_t *pcm;
    size_t frames;
};

static void render(struct guide *g, const char *keys, int lang, struct render *r)
{
    memset(r, 0, sizeof(*r));
    char tr[600], wav[600];
    snprintf(tr, sizeof(tr), "%s/t.txt", g->dir);
    snprintf(wav, sizeof(wav), "%s/a.wav", g->dir);
    FILE *f = fopen(tr, "w");
    assert_non_null(f);
    struct tt_render_opts ro = {.keys = keys, .transcript = f, .wav_path = wav, .rate = RATE,
                                .lang = lang};
    int err = tt_render(g->m, g->ph, g->store, &ro, g->d);
    fclose(f);
    if (err) {
        tt_diag_print(g->d, stderr);
        fail_msg("the render failed");
    }
    r->text = tl_slurp(tr);
    for (char *s = strtok(r->text, "\n"); s && r->n < 1024; s = strtok(NULL, "\n"))
        r->line[r->n++] = s;
    r->pcm = tl_read_wav(wav, &r->frames, &(int){0});
}

static void render_free(struct render *r)
{
    free(r->text);
    free(r->pcm);
}

/* The index of the first line with `what`, or fail. */
static size_t line_with(const struct render *r, const char *what)
{
    for (size_t i = 0; i < r->n; i++)
        if (strstr(r->line[i], what))
            return i;
    for (size_t i = 0; i < r->n; i++)
        fprintf(stderr, "    | %s\n", r->line[i]);
    fail_msg("no line with '%s'", what);
    return 0;
}

static double secs(const struct render *r, size_t i)
{
    return strtod(r->line[i], NULL);
}

/* ---- the first seconds ------------------------------------------------------------------- */

static void each_language_is_offered_in_its_own_words_and_voice_within_six_seconds(void **state)
{
    struct guide *g = *state;
    static const struct {
        const char *start, *offer, *exit;
    } cases[] = {
        {"en", "Para español, oprima 7.", "To leave, press the number 9."},
        {"es", "For English, press 8.", "Para salir en cualquier momento, oprima 9."},
    };
    for (size_t c = 0; c < 2; c++) {
        int lang = lang_of(g->m, cases[c].start);
        struct render r;
        render(g, "", lang, &r);
        /* the way out first, at once */
        assert_true(strstr(r.line[1], cases[c].exit) && secs(&r, 1) == 0.0);
        size_t o = line_with(&r, cases[c].offer);
        /* the offer has ended (the next part begins after the 0.4 s pause) by 6 s */
        assert_true(o + 1 < r.n);
        double end = secs(&r, o + 1) - 0.4;
        print_message("%s: the other language is offered from %.2f s to %.2f s\n",
                      cases[c].start, secs(&r, o), end);
        assert_true(end <= 6.0);
        size_t at = (size_t)(secs(&r, o) * RATE);
        assert_true(tl_rms(r.pcm, at, at + RATE / 2) > 300.0); /* and it is heard */
        render_free(&r);

        /* in that language's own voice: the session says it as a part in that language */
        tt_session *s;
        struct tt_session_opts so = {.lang = lang};
        assert_int_equal(tt_session_new(&s, g->m, g->ph, &so), 0);
        tt_session_start(s, 0);
        struct tt_event ev;
        int offered_in = -1;
        for (int k = 0; k < 3 && tt_session_next_event(s, &ev);) {
            if (ev.type != TT_EV_SAY)
                continue;
            k++;
            if (!strcmp(ev.text, cases[c].offer))
                offered_in = ev.lang;
            tt_session_done(s, 0);
            tt_session_tick(s, tt_session_deadline(s));
        }
        assert_int_equal(offered_in, 1 - lang);
        tt_session_free(s);
    }
}

/* ---- time to step one, and the length of each text ---------------------------------------- */

static void a_listener_who_waits_reaches_step_one_in_under_35_seconds(void **state)
{
    struct guide *g = *state;
    for (size_t l = 0; l < g->m->nlangs; l++) {
        struct render r;
        render(g, "3", (int)l, &r);
        double t = secs(&r, line_with(&r, " go step1"));
        print_message("%s: step one at %.2f s\n", g->m->lang[l], t);
        assert_true(t < 35.0);
        render_free(&r);
    }
}

static void no_text_of_the_guide_runs_over_20_seconds(void **state)
{
    struct guide *g = *state;
    const tt_menu *m = g->m;
    for (size_t l = 0; l < m->nlangs; l++)
        for (size_t n = 0; n < m->nnodes; n++) {
            const char *texts[2] = {m->nodes[n].text[l], m->nodes[n].brief[l]};
            for (int k = 0; k < 2; k++) {
                if (!texts[k])
                    continue;
                const struct tt_clip *clip;
                assert_int_equal(tt_store_get(g->store, m->lang[l], m->voice[l], NULL, texts[k],
                                              TT_TTS_SPEED_NORMAL, &clip),
                                 0);
                double s = (double)clip->frames / RATE;
                if (s > 20.0)
                    fail_msg("%s of [%s] in %s takes %.1f s", k ? "short" : "text",
                             m->nodes[n].id, m->lang[l], s);
            }
        }
}

/* ---- every node, by the keys a listener presses --------------------------------------------- */

/* Key paths from the start to every node (choices and the pound key for next pages). */
static void paths(const tt_menu *m, char path[][64])
{
    int queue[256], head = 0, tail = 0;
    for (size_t i = 0; i < m->nnodes; i++)
        path[i][0] = '\1'; /* not reached */
    path[m->start][0] = '\0';
    queue[tail++] = m->start;
    while (head < tail) {
        int v = queue[head++];
        const struct tt_node *nd = &m->nodes[v];
        for (int k = 0; k <= TT_MAX_CHOICES; k++) {
            int to = k < TT_MAX_CHOICES ? nd->choice[k] : nd->next;
            char key = k < TT_MAX_CHOICES ? (char)('0' + k) : '#';
            if (to < 0 || path[to][0] != '\1')
                continue;
            size_t len = strlen(path[v]);
            if (len + 1 >= sizeof(path[to]))
                continue;
            memcpy(path[to], path[v], len);
            path[to][len] = key;
            path[to][len + 1] = '\0';
            queue[tail++] = to;
        }
    }
}

static void walk(struct tl_sim *t, const char *keys)
{
    tl_run_to_wait(t);
    for (const char *k = keys; *k; k++) {
        tl_key(t, *k);
        tl_run_to_wait(t);
    }
}

static void safety_is_two_keys_from_every_node_and_said_first_in_help(void **state)
{
    struct guide *g = *state;
    const tt_menu *m = g->m;
    assert_true(m->safety >= 0);
    char path[256][64];
    paths(m, path);
    for (size_t l = 0; l < m->nlangs; l++)
        for (size_t n = 0; n < m->nnodes; n++) {
            assert_true(path[n][0] != '\1');
            struct tl_sim t;
            tl_sim_init(&t, m, g->ph, TT_END_GOODBYE, (int)l);
            walk(&t, path[n]);
            tl_mark(&t);
            tl_key(&t, '0');
            tl_run_to_wait(&t);
            /* help's first words after its heading: the safety lines, on 1 */
            int h = tl_find(&t, "say @help", NULL);
            assert_true(h >= 0);
            const char *first = strchr(strstr(t.line[h], "say @help ") + 10, '.') + 2;
            char want[128];
            snprintf(want, sizeof(want), l ? "Para %s, oprima 1." : "To hear %s, press 1.",
                     m->nodes[m->safety].title[l]);
            if (strncmp(first, want, strlen(want))) {
                tl_dump(&t);
                fail_msg("from [%s] (%s), help does not begin with \"%s\"", m->nodes[n].id,
                         m->lang[l], want);
            }
            tl_mark(&t);
            tl_key(&t, '1');
            tl_run_to_wait(&t);
            tl_expect(&t, "go safety", NULL);
            tl_sim_free(&t);
        }
}

static void pages_say_where_they_lead_and_page_is_never_said(void **state)
{
    struct guide *g = *state;
    const tt_menu *m = g->m;
    char path[256][64];
    paths(m, path);
    for (size_t l = 0; l < m->nlangs; l++)
        for (size_t n = 0; n < m->nnodes; n++) {
            struct tl_sim t;
            tl_sim_init(&t, m, g->ph, TT_END_GOODBYE, (int)l);
            walk(&t, path[n]);
            for (size_t i = 0; i < t.n; i++) {
                const char *say = strstr(t.line[i], " say ");
                if (say && (strstr(say, "page") || strstr(say, "página"))) {
                    tl_dump(&t);
                    fail_msg("\"page\" is said: %s", t.line[i]);
                }
            }
            const struct tt_node *nd = &m->nodes[n];
            if (nd->next >= 0) { /* the next page by its title, on the pound key */
                char want[256];
                snprintf(want, sizeof(want), l ? "Para %s, oprima numeral." :
                                                 "For %s, press the pound key.",
                         m->nodes[nd->next].title[l]);
                tl_expect(&t, want, NULL);
            }
            tl_sim_free(&t);
        }
}

/* ---- numbers and content ---------------------------------------------------------------------- */

static void numbers_are_spoken_in_groups_and_shown_as_written(void **state)
{
    struct guide *g = *state;
    int safety = g->m->safety;
    assert_non_null(strstr(g->m->nodes[safety].text[0], "1. 8 0 0. 7 9 9. 7 2 3 3."));
    assert_non_null(strstr(g->m->nodes[safety].shown[0], "1-800-799-7233"));
    struct render r;
    render(g, "1", 0, &r); /* the transcript shows what a screen shows */
    size_t i = line_with(&r, "say safety");
    assert_non_null(strstr(r.line[i], "1-800-799-7233"));
    assert_null(strstr(r.line[i], "8 0 0"));
    render_free(&r);
}

static const char *text_of(const tt_menu *m, const char *id, int lang)
{
    for (size_t n = 0; n < m->nnodes; n++)
        if (!strcmp(m->nodes[n].id, id))
            return m->nodes[n].shown[lang] ? m->nodes[n].shown[lang] : m->nodes[n].text[lang];
    fail_msg("no node %s", id);
    return NULL;
}

static void the_content_says_when_contact_may_resume_and_how_else_to_reach_help(void **state)
{
    struct guide *g = *state;
    const tt_menu *m = g->m;
    int en = lang_of(m, "en"), es = lang_of(m, "es");
    assert_non_null(strstr(text_of(m, "step5", en), "Do not make contact until the judge has "
                                                    "signed the change"));
    assert_non_null(strstr(text_of(m, "step5", en), "you have a copy"));
    assert_non_null(strstr(text_of(m, "step5", es), "No tenga contacto hasta que el juez haya "
                                                    "firmado el cambio"));
    assert_non_null(strstr(text_of(m, "step5", es), "usted tenga una copia"));
    assert_non_null(strstr(text_of(m, "safety-more", en), "answers in Spanish"));
    assert_non_null(strstr(text_of(m, "safety-more", en), "text the word START to 88788"));
    assert_non_null(strstr(text_of(m, "safety-more", es), "atiende en español"));
    assert_non_null(strstr(text_of(m, "safety-more", es), "START al 88788"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_language_is_offered_in_its_own_words_and_voice_within_six_seconds),
        cmocka_unit_test(a_listener_who_waits_reaches_step_one_in_under_35_seconds),
        cmocka_unit_test(no_text_of_the_guide_runs_over_20_seconds),
        cmocka_unit_test(safety_is_two_keys_from_every_node_and_said_first_in_help),
        cmocka_unit_test(pages_say_where_they_lead_and_page_is_never_said),
        cmocka_unit_test(numbers_are_spoken_in_groups_and_shown_as_written),
        cmocka_unit_test(the_content_says_when_contact_may_resume_and_how_else_to_reach_help),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
