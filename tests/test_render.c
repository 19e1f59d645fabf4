/*
 * Offline render, checked in the audio itself: real speech from the real engines, written to
 * a WAV, then measured around the times the transcript gives.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>
#include <sys/stat.h>
#include <limits.h>

#include "testlib.h"

#define RATE 16000

/* kal16, not the default voice: these tests compare two renders sample for sample, and flite's
 * clustergen voices (rms, slt, awb) do not say a text twice in one process exactly alike. */
static const char menu_ini[] =
    "[tonetree]\n"
    "start = main\n"
    "voice.en = flite:kal16\n"
    "[main]\n"
    "title = the main menu\n"
    "text = Welcome to the test menu. This sentence is long enough to be cut off.\n"
    "1 = info\n"
    "[info]\n"
    "title = more information\n"
    "text = Here are some facts.\n";

struct run {
    char *dir;
    char wav[512], transcript[512];
    int16_t *pcm;
    size_t frames;
    char *text;
    char *lines[512];
    size_t nlines;
    struct tt_store_stats stats;
};

/* Render a session of `ini` with `keys`; prompts_dir NULL for the test phrases. */
static enum tt_end_mode render_end_mode = TT_END_GOODBYE;

static int render(struct run *r, const char *ini, const char *keys, const char *prompts_dir)
{
    memset(r, 0, sizeof(*r));
    r->dir = tl_tmpdir();
    snprintf(r->wav, sizeof(r->wav), "%s/out.wav", r->dir);
    snprintf(r->transcript, sizeof(r->transcript), "%s/out.txt", r->dir);
    char cache[512];
    snprintf(cache, sizeof(cache), "%s/cache", r->dir);

    tt_menu *m = tl_menu(ini);
    tt_phrases *ph[8] = {0};
    tt_diag *d = tt_diag_new();
    assert_int_equal(tt_phrases_load_all(m, prompts_dir, ph, d), 0);
    tt_store *store = NULL;
    struct tt_store_opts so = {
        .rate = RATE,
        .prompts_dir = prompts_dir ? prompts_dir : tt_menu_prompts_dir(m),
        .cache_dir = cache,
    };
    assert_int_equal(tt_store_new(&store, &so, d), 0);
    FILE *tf = fopen(r->transcript, "w");
    assert_non_null(tf);
    struct tt_render_opts ro = {
        .keys = keys, .wav_path = r->wav, .transcript = tf, .rate = RATE,
        .end_mode = render_end_mode,
    };
    int err = tt_render(m, ph, store, &ro, d);
    fclose(tf);
    if (err)
        tt_diag_print(d, stderr);
    tt_store_stats(store, &r->stats);
    tt_store_free(store);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
    tt_diag_free(d);
    if (err)
        return err;
    r->pcm = tl_read_wav(r->wav, &r->frames, &(int){0});
    r->text = tl_slurp(r->transcript);
    for (char *s = strtok(r->text, "\n"); s && r->nlines < 512; s = strtok(NULL, "\n"))
        r->lines[r->nlines++] = s;
    return 0;
}

static void run_free(struct run *r)
{
    tl_rmtree(r->dir);
    free(r->dir);
    free(r->pcm);
    free(r->text);
}

/* The sample where the first line containing `what` happened, or fail. */
static size_t at(const struct run *r, const char *what)
{
    for (size_t i = 0; i < r->nlines; i++)
        if (strstr(r->lines[i], what))
            return (size_t)(strtod(r->lines[i], NULL) * RATE + 0.5);
    for (size_t i = 0; i < r->nlines; i++)
        fprintf(stderr, "    | %s\n", r->lines[i]);
    fail_msg("no transcript line with '%s'", what);
    return 0;
}

static void after_a_key_the_output_is_silent_within_10_ms_and_the_next_prompt_follows(
    void **state)
{
    (void)state;
    struct run r;
    assert_int_equal(render(&r, menu_ini, "1@1.5", NULL), 0);
    size_t key = at(&r, "key 1");
    assert_int_equal(key, (size_t)(1.5 * RATE));
    size_t next = at(&r, "say info Here are some facts.");
    /* speech was playing when the key came */
    assert_true(tl_rms(r.pcm, key - RATE / 5, key) > 300.0);
    /* from 10 ms after the key until the answer begins: digital silence */
    assert_int_equal(tl_peak(r.pcm, key + RATE / 100, next), 0);
    /* the answer comes after the 0.4 s pause, and it is speech */
    assert_int_equal(next - key, (size_t)(0.4 * RATE));
    assert_true(tl_rms(r.pcm, next, next + RATE) > 300.0);
    run_free(&r);
}

/* When the welcome begins, in seconds: after the way out, said first in every session. */
static double welcome_at(void)
{
    struct run r;
    assert_int_equal(render(&r, menu_ini, "", NULL), 0);
    double t = (double)at(&r, "say main Welcome") / RATE;
    assert_true(t > 0.5); /* the way out came first */
    run_free(&r);
    return t;
}

static void the_cut_fades_out_over_5_ms_instead_of_clicking(void **state)
{
    (void)state;
    struct run cut, whole;
    assert_int_equal(render(&whole, menu_ini, "", NULL), 0);
    /* a key well into the welcome, on a whole millisecond where there is speech to fade */
    size_t ms = (size_t)(welcome_at() * 1000) + 1000;
    while (tl_rms(whole.pcm, ms * RATE / 1000, ms * RATE / 1000 + RATE / 200) < 1000.0)
        ms++;
    char keys[32];
    snprintf(keys, sizeof(keys), "1@%zu.%03zu", ms / 1000, ms % 1000);
    assert_int_equal(render(&cut, menu_ini, keys, NULL), 0);
    size_t key = at(&cut, "key 1");
    size_t fade = RATE * 5 / 1000;
    /* up to the key, the same speech; over the next 5 ms, that speech ramped down to zero */
    for (size_t i = key - 100; i < key; i++)
        assert_int_equal(cut.pcm[i], whole.pcm[i]);
    assert_true(tl_rms(whole.pcm, key, key + fade) > 100.0); /* there was something to fade */
    for (size_t i = 0; i < fade; i++) {
        double k = 1.0 - (double)(i + 1) / (double)fade;
        double want = k * whole.pcm[key + i];
        /* two roundings to whole samples, half a step each, and float's own error */
        assert_true(fabs(cut.pcm[key + i] - want) <= 1.01);
    }
    assert_int_equal(tl_peak(cut.pcm, key + fade, key + 2 * fade), 0);
    run_free(&cut);
    run_free(&whole);
}

/* The kiosk's quick exit, in the audio: the speech stops within the 5 ms fade, and then not a
 * sample of sound, for as long as nobody presses a key; the transcript says nothing more. */
static void at_a_kiosk_the_end_key_cuts_the_audio_and_stays_silent(void **state)
{
    (void)state;
    struct run r;
    render_end_mode = TT_END_RESET;
    double w = welcome_at();
    char keys[64];
    snprintf(keys, sizeof(keys), "9@%.3f +60", w + 1.0); /* in the middle of the welcome */
    int err = render(&r, menu_ini, keys, NULL);
    render_end_mode = TT_END_GOODBYE;
    assert_int_equal(err, 0);
    size_t key = at(&r, "key 9");
    at(&r, "reset");
    assert_true(tl_rms(r.pcm, key - RATE / 2, key) > 300.0); /* it was speaking */
    assert_true(r.frames >= key + 59 * RATE);                 /* a minute went by */
    assert_int_equal(tl_peak(r.pcm, key + RATE * 5 / 1000, r.frames), 0);
    bool after = false;
    for (size_t i = 0; i < r.nlines; i++) {
        after |= strstr(r.lines[i], " key 9") != NULL;
        if (after)
            assert_null(strstr(r.lines[i], " say "));
    }
    run_free(&r);
}

static void parts_of_a_prompt_are_separated_by_the_pause_and_nothing_else(void **state)
{
    (void)state;
    struct run r;
    assert_int_equal(render(&r, menu_ini, "", NULL), 0);
    size_t choices = at(&r, "say main To hear more information, press 1.");
    /* the 0.4 s before the choices are the pause: silent (the transcript's times are whole
     * milliseconds, so leave one out at the start, where the text's last samples may be) */
    assert_int_equal(tl_peak(r.pcm, choices - (size_t)(0.4 * RATE) + RATE / 1000, choices), 0);
    /* and the session's audio ends with the end of the choices */
    assert_true(r.frames > choices + RATE / 2);
    assert_true(tl_rms(r.pcm, choices, r.frames) > 300.0);
    run_free(&r);
}

static void silence_reaches_the_warning_exactly_seven_seconds_after_the_prompt(void **state)
{
    (void)state;
    struct run r;
    assert_int_equal(render(&r, menu_ini, "+30", NULL), 0);
    size_t timeout = at(&r, "timeout main 1");
    size_t warn = at(&r, "say main Are you still there?");
    assert_int_equal(timeout, warn);
    /* seven seconds of silence before it: the prompt ended exactly then */
    assert_int_equal(tl_peak(r.pcm, timeout - 7 * RATE + RATE / 1000, timeout), 0);
    assert_true(tl_rms(r.pcm, timeout - 7 * RATE - RATE / 2, timeout - 7 * RATE) > 100.0);
    assert_true(tl_rms(r.pcm, warn, warn + RATE) > 300.0);
    run_free(&r);
}

static void a_whole_session_ends_and_the_audio_lasts_until_the_end_line(void **state)
{
    (void)state;
    struct run r;
    assert_int_equal(render(&r, menu_ini, "1 * 7 0 1 9", NULL), 0);
    const char *last = r.lines[r.nlines - 1];
    assert_string_equal(last + strlen(last) - 4, " end");
    size_t end = (size_t)(strtod(last, NULL) * RATE + 0.5);
    /* the transcript has whole milliseconds: up to one of them apart */
    assert_true(r.frames >= end && r.frames - end < RATE / 1000);
    at(&r, "invalid 7 main");
    at(&r, "say main You are in the main menu.");
    at(&r, "say main Goodbye.");
    run_free(&r);
}

static void a_recording_named_after_a_node_plays_instead_of_its_text(void **state)
{
    (void)state;
    char *prompts = tl_tmpdir();
    char path[600];
    snprintf(path, sizeof(path), "%s/en", prompts);
    assert_int_equal(mkdir(path, 0755), 0);
    char *phrases = tl_slurp("tests/prompts/en/phrases.ini");
    snprintf(path, sizeof(path), "%s/en/phrases.ini", prompts);
    FILE *f = fopen(path, "w");
    fputs(phrases, f);
    fclose(f);
    free(phrases);
    /* one second of 440 Hz at 44.1 kHz: the store must resample it to 16 kHz */
    int16_t tone[44100];
    for (int i = 0; i < 44100; i++)
        tone[i] = (int16_t)(8000.0 * sin(2.0 * M_PI * 440.0 * i / 44100.0));
    snprintf(path, sizeof(path), "%s/en/main.wav", prompts);
    tl_write_wav(path, tone, 44100, 44100);

    struct run r;
    assert_int_equal(render(&r, menu_ini, "", prompts), 0);
    size_t welcome = at(&r, "say main Welcome to the test menu.");
    size_t choices = at(&r, "say main To hear more information");
    /* the recording, one second long, then the pause (the transcript has whole ms) */
    size_t gap = choices - welcome;
    assert_true(gap + RATE / 1000 >= RATE + (size_t)(0.4 * RATE) &&
                gap <= RATE + (size_t)(0.4 * RATE) + RATE / 1000);
    assert_true(tl_tone(r.pcm + welcome, RATE, RATE, 440.0) >
                100.0 * tl_tone(r.pcm + welcome, RATE, RATE, 1000.0));
    assert_int_equal(r.stats.recordings, 1);
    run_free(&r);
    tl_rmtree(prompts);
    free(prompts);
}

static void louder_is_louder_by_the_promised_step_in_the_audio(void **state)
{
    (void)state;
    struct run r;
    double w = welcome_at();
    char keys[32];
    snprintf(keys, sizeof(keys), "louder@%.3f", w + 0.6);
    assert_int_equal(render(&r, menu_ini, keys, NULL), 0);
    size_t first = at(&r, "say main Welcome");
    at(&r, "say main Louder.");
    /* the welcome is said again after the confirmation: find its second start */
    size_t again = 0;
    for (size_t i = 0; i < r.nlines; i++)
        if (strstr(r.lines[i], "say main Welcome") && strtod(r.lines[i], NULL) > w + 0.5)
            again = (size_t)(strtod(r.lines[i], NULL) * RATE + 0.5);
    assert_true(again > first);
    /* sample for sample, the same speech 3 dB up (until a sample would clip) */
    double step = pow(10.0, 3.0 / 20.0);
    size_t compared = 0;
    for (size_t i = 0; i < (size_t)(0.5 * RATE); i++) {
        double want = r.pcm[first + i] * step;
        if (fabs(want) > 32000.0)
            continue;
        assert_true(fabs(r.pcm[again + i] - want) <= 1.0);
        compared++;
    }
    assert_true(compared > (size_t)(0.45 * RATE));
    assert_true(tl_rms(r.pcm, again, again + RATE / 2) >
                1.4 * tl_rms(r.pcm, first, first + RATE / 2));
    run_free(&r);
}

static void down_then_select_browses_to_a_choice_in_the_render_path(void **state)
{
    (void)state;
    struct run r;
    assert_int_equal(render(&r, menu_ini, "down select", NULL), 0);
    at(&r, "key down");
    size_t choice = at(&r, "say main Choice 1 of 1: more information.");
    assert_true(tl_rms(r.pcm, choice, choice + RATE / 2) > 300.0);
    at(&r, "key select");
    size_t info = at(&r, "say info Here are some facts.");
    assert_true(tl_rms(r.pcm, info, info + RATE / 2) > 300.0);
    run_free(&r);
}

/* Render the shipped hearing-date example (a real lookup program) with a key script. */
static void render_hearing_lang(struct run *r, const char *keys, int lang);

static void render_hearing(struct run *r, const char *keys)
{
    render_hearing_lang(r, keys, 0);
}

static void render_hearing_lang(struct run *r, const char *keys, int lang)
{
    memset(r, 0, sizeof(*r));
    r->dir = tl_tmpdir();
    snprintf(r->wav, sizeof(r->wav), "%s/out.wav", r->dir);
    snprintf(r->transcript, sizeof(r->transcript), "%s/out.txt", r->dir);
    char cache[512];
    snprintf(cache, sizeof(cache), "%s/cache", r->dir);
    tt_diag *d = tt_diag_new();
    tt_menu *m = NULL;
    tt_phrases *ph[8] = {0};
    tt_store *store = NULL;
    assert_int_equal(tt_menu_load(&m, "menus/hearing-date.ini", d), 0);
    assert_int_equal(tt_phrases_load_all(m, NULL, ph, d), 0);
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_prompts_dir(m),
                               .cache_dir = cache};
    assert_int_equal(tt_store_new(&store, &so, d), 0);
    FILE *tf = fopen(r->transcript, "w");
    struct tt_render_opts ro = {.keys = keys, .wav_path = r->wav, .transcript = tf, .rate = RATE,
                                .lang = lang};
    int err = tt_render(m, ph, store, &ro, d);
    fclose(tf);
    if (err)
        tt_diag_print(d, stderr);
    assert_int_equal(err, 0);
    tt_store_free(store);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    tt_diag_free(d);
    r->pcm = tl_read_wav(r->wav, &r->frames, &(int){0});
    r->text = tl_slurp(r->transcript);
    for (char *s = strtok(r->text, "\n"); s && r->nlines < 512; s = strtok(NULL, "\n"))
        r->lines[r->nlines++] = s;
}

static void an_entered_case_number_is_looked_up_and_the_answer_spoken(void **state)
{
    (void)state;
    struct run r;
    /* typed during the request, as people do */
    render_hearing(&r, "1 2@0.5 0 3 1 0 0 0 1 +1 1");
    at(&r, "say hearing You entered 2 0 3 1, 0 0 0 1.");
    at(&r, "lookup hearing");
    size_t answer = at(&r, "say hearing Your next hearing is on Monday, March 3, 2031, at 9:30 "
                           "in the morning, in courtroom 4.");
    assert_true(tl_rms(r.pcm, answer, answer + RATE) > 300.0);
    at(&r, "say hearing To hear it again, press 1. To enter another number, press 2.");
    run_free(&r);
}

static void the_answer_comes_in_the_listeners_language(void **state)
{
    (void)state;
    struct run r;
    render_hearing_lang(&r, "1 2 0 3 1 0 0 0 2 1", 1);
    at(&r, "say hearing Usted marcó 2 0 3 1, 0 0 0 2.");
    size_t answer = at(&r, "say hearing Su próxima audiencia es el martes 4 de marzo de 2031, "
                           "a las 2 de la tarde, en la sala 2B.");
    assert_true(tl_rms(r.pcm, answer, answer + RATE) > 300.0);
    run_free(&r);
}

static void a_case_number_not_on_file_gets_a_kind_answer_and_a_way_to_try_again(void **state)
{
    (void)state;
    struct run r;
    render_hearing(&r, "1 9 9 9 9 9 9 9 9 1");
    size_t sorry = at(&r, "say hearing Sorry, I could not find an answer for that number.");
    assert_true(tl_rms(r.pcm, sorry, sorry + RATE) > 300.0);
    at(&r, "say hearing To try again, press 1.");
    run_free(&r);
}

/* A menu in a temporary folder whose lookup is the given shell script. */
static void render_lookup(struct run *r, const char *script, bool sensitive, const char *keys)
{
    char *dir = tl_tmpdir();
    char path[600], prompts[PATH_MAX];
    assert_non_null(realpath("tests/prompts", prompts));
    snprintf(path, sizeof(path), "%s/lookup.sh", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "#!/bin/sh\n%s\n", script);
    fclose(f);
    chmod(path, 0755);
    snprintf(path, sizeof(path), "%s/menu.ini", dir);
    f = fopen(path, "w");
    fprintf(f,
            "[tonetree]\nstart = ask\nprompts = %s\n[ask]\ntitle = the question\n"
            "text = Enter four digits.\ninput = digits\nmin = 4\nmax = 4\n"
            "sensitive = %s\nlookup = lookup.sh\n",
            prompts, sensitive ? "yes" : "no");
    fclose(f);
    memset(r, 0, sizeof(*r));
    r->dir = dir;
    snprintf(r->wav, sizeof(r->wav), "%s/out.wav", dir);
    snprintf(r->transcript, sizeof(r->transcript), "%s/out.txt", dir);
    tt_diag *d = tt_diag_new();
    tt_menu *m = NULL;
    tt_phrases *ph[8] = {0};
    tt_store *store = NULL;
    assert_int_equal(tt_menu_load(&m, path, d), 0);
    assert_int_equal(tt_phrases_load_all(m, NULL, ph, d), 0);
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = prompts};
    assert_int_equal(tt_store_new(&store, &so, d), 0);
    FILE *tf = fopen(r->transcript, "w");
    struct tt_render_opts ro = {.keys = keys, .wav_path = r->wav, .transcript = tf, .rate = RATE};
    assert_int_equal(tt_render(m, ph, store, &ro, d), 0);
    fclose(tf);
    tt_store_free(store);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    tt_diag_free(d);
    r->pcm = tl_read_wav(r->wav, &r->frames, &(int){0});
    r->text = tl_slurp(r->transcript);
    for (char *s = strtok(r->text, "\n"); s && r->nlines < 512; s = strtok(NULL, "\n"))
        r->lines[r->nlines++] = s;
}

static void a_lookup_that_hangs_is_killed_at_its_limit_and_the_caller_is_told(void **state)
{
    (void)state;
    struct run r;
    render_lookup(&r, "sleep 100", false, "1 2 3 4 1");
    size_t lookup = at(&r, "lookup ask");
    size_t down = at(&r, "say ask Sorry, that service is not working right now.");
    /* offline, the wait costs no session time: the answer follows "One moment." */
    assert_true(down > lookup);
    assert_true(tl_rms(r.pcm, down, down + RATE / 2) > 300.0);
    run_free(&r);
}

static void hostile_lookup_output_is_said_only_as_clean_capped_words(void **state)
{
    (void)state;
    struct run r;
    render_lookup(&r, "printf 'Hearing \\033[31m on\\001 May\\n 1.'; head -c 100000 /dev/zero | tr '\\0' x",
                  false, "1 2 3 4 1");
    const char *said = NULL;
    for (size_t i = 0; i < r.nlines; i++)
        if (strstr(r.lines[i], "say ask Hearing"))
            said = r.lines[i];
    assert_non_null(said);
    for (const char *p = said; *p; p++)
        assert_true((unsigned char)*p >= 0x20);
    assert_true(strlen(said) < 2100); /* capped at 2000 bytes of output */
    run_free(&r);
}

static void a_sensitive_entry_leaves_no_digit_in_the_transcript(void **state)
{
    (void)state;
    struct run r;
    render_lookup(&r, "echo Thank you.", true, "4 7 1 9 1");
    at(&r, "say ask You entered * * * *.");
    at(&r, "say ask Thank you.");
    for (size_t i = 0; i < r.nlines; i++) {
        assert_null(strstr(r.lines[i], "4719"));
        assert_null(strstr(r.lines[i], "4 7 1 9"));
        assert_null(strstr(r.lines[i], "key 4"));
        assert_null(strstr(r.lines[i], "key 7"));
        assert_null(strstr(r.lines[i], "key 9"));
    }
    run_free(&r);
}

static void a_bad_key_script_is_refused_with_the_token_named(void **state)
{
    (void)state;
    tt_menu *m = tl_menu(menu_ini);
    tt_phrases *ph[8] = {0};
    tt_diag *d = tt_diag_new();
    tl_phrases(m, ph);
    struct tt_render_opts ro = {.keys = "1 2@x", .rate = RATE};
    assert_int_equal(tt_render(m, ph, NULL, &ro, d), EINVAL);
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    tt_diag_print(d, mf);
    fclose(mf);
    assert_non_null(strstr(buf, "token 2 '2@x'"));
    free(buf);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
    tt_diag_free(d);
}

/* The limit is for each step of the key script, as documented: a script of short steps may
 * run longer than it in all; one step that is never reached stops the render. */
static void the_time_limit_is_per_step_of_the_key_script(void **state)
{
    (void)state;
    tt_menu *m = tl_menu(menu_ini);
    tt_phrases *ph[8] = {0};
    tt_diag *d = tt_diag_new();
    tl_phrases(m, ph);
    tt_store *store = NULL;
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_prompts_dir(m)};
    assert_int_equal(tt_store_new(&store, &so, d), 0);
    /* four silences of 6 s: 24 s in all, against a limit of 10 s a step */
    struct tt_render_opts ro = {.keys = "+6 +6 +6 +6", .rate = RATE, .max_ms = 10000};
    int err = tt_render(m, ph, store, &ro, d);
    if (err)
        tt_diag_print(d, stderr);
    assert_int_equal(err, 0);
    /* one step of 12 s is over the limit */
    ro.keys = "+12";
    assert_int_equal(tt_render(m, ph, store, &ro, d), ETIMEDOUT);
    tt_store_free(store);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
    tt_diag_free(d);
}

/* A transcript line is never cut, however long the words. */
static void a_transcript_line_is_whole_however_long(void **state)
{
    (void)state;
    tt_menu *m = tl_menu(menu_ini);
    size_t n = 20000;
    char *words = malloc(n + 1);
    assert_non_null(words);
    for (size_t i = 0; i < n; i++)
        words[i] = i % 6 == 5 ? ' ' : 'a' + (char)(i % 26);
    words[n - 1] = '.';
    words[n] = '\0';
    struct tt_event ev = {.type = TT_EV_SAY, .at = 1500, .node = 0, .text = words};
    char small[64];
    size_t need = tt_event_format(m, &ev, small, sizeof(small));
    assert_true(need > n);
    char *line = tt_event_line(m, &ev);
    assert_non_null(line);
    assert_int_equal(strlen(line), need);
    assert_non_null(strstr(line, words));
    free(line);
    free(words);
    tt_menu_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_time_limit_is_per_step_of_the_key_script),
        cmocka_unit_test(a_transcript_line_is_whole_however_long),
        cmocka_unit_test(
            after_a_key_the_output_is_silent_within_10_ms_and_the_next_prompt_follows),
        cmocka_unit_test(the_cut_fades_out_over_5_ms_instead_of_clicking),
        cmocka_unit_test(at_a_kiosk_the_end_key_cuts_the_audio_and_stays_silent),
        cmocka_unit_test(parts_of_a_prompt_are_separated_by_the_pause_and_nothing_else),
        cmocka_unit_test(silence_reaches_the_warning_exactly_seven_seconds_after_the_prompt),
        cmocka_unit_test(a_whole_session_ends_and_the_audio_lasts_until_the_end_line),
        cmocka_unit_test(a_recording_named_after_a_node_plays_instead_of_its_text),
        cmocka_unit_test(louder_is_louder_by_the_promised_step_in_the_audio),
        cmocka_unit_test(down_then_select_browses_to_a_choice_in_the_render_path),
        cmocka_unit_test(an_entered_case_number_is_looked_up_and_the_answer_spoken),
        cmocka_unit_test(a_case_number_not_on_file_gets_a_kind_answer_and_a_way_to_try_again),
        cmocka_unit_test(the_answer_comes_in_the_listeners_language),
        cmocka_unit_test(a_lookup_that_hangs_is_killed_at_its_limit_and_the_caller_is_told),
        cmocka_unit_test(hostile_lookup_output_is_said_only_as_clean_capped_words),
        cmocka_unit_test(a_sensitive_entry_leaves_no_digit_in_the_transcript),
        cmocka_unit_test(a_bad_key_script_is_refused_with_the_token_named),
    };
    return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
