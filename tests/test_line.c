/*
 * The line driver (`tonetree line`, tt_line_run) end to end through ALSA's file plugin, in
 * process: a recorded "caller" is the device's input (IN.raw), what the line plays lands in
 * OUT.raw.
 *
 * Deterministic although the file plugin has no clock: the driver's clock is the line's own
 * (frames read / rate), and it reads and writes the same blocking duplex stream a period at a
 * time, so a key placed at 1.0 s in IN.raw reaches the session at line time 1.0 s however fast
 * the plugin runs. Past the end of IN.raw the plugin records zeros: a caller gone silent.
 *
 * Every run is bounded twice: in line time by max_ms (reaching it fails the test: the call
 * should end by itself) and in wall time by alarm() (a hang kills the test instead of stalling).
 * TT_LINE_KEEP=1 keeps the folder (config, IN.raw, OUT.raw, transcript) and prints its name.
 */
#define _GNU_SOURCE /* fopencookie: a transcript that acts when a call hangs up */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/drv_line.h"
#include "dsp/dtmf.h"
#include "testlib.h"

#define RATE 16000
#define MENU "tests/data/kiosk.ini"
#define WALL_LIMIT_S 60

static struct {
    char *dir;
    char conf[600], in[600], out[600], cache[600];
    tt_menu *m;
    tt_phrases *ph[8];
    tt_store *store;
} G;

static int group_setup(void **state)
{
    (void)state;
    G.dir = tl_tmpdir();
    snprintf(G.conf, sizeof(G.conf), "%s/asound.conf", G.dir);
    snprintf(G.in, sizeof(G.in), "%s/IN.raw", G.dir);
    snprintf(G.out, sizeof(G.out), "%s/OUT.raw", G.dir);
    snprintf(G.cache, sizeof(G.cache), "%s/cache", G.dir);
    FILE *f = fopen(G.conf, "w");
    if (!f)
        return -1;
    fprintf(f,
            "pcm.!default {\n type file\n slave.pcm { type null }\n file \"%s\"\n"
            " infile \"%s\"\n format \"raw\"\n perm 0644\n}\n"
            "ctl.!default { type hw card 0 }\n",
            G.out, G.in);
    fclose(f);
    /* IN.raw must exist before PortAudio starts, or the device has no input. */
    if (!(f = fopen(G.in, "w")))
        return -1;
    fclose(f);
    setenv("ALSA_CONFIG_PATH", G.conf, 1);
    tt_diag *d = tt_diag_new();
    int err = tt_menu_load(&G.m, MENU, d);
    if (!err)
        tl_phrases(G.m, G.ph);
    struct tt_store_opts so = {
        .rate = RATE, .prompts_dir = G.m ? tt_menu_prompts_dir(G.m) : NULL, .cache_dir = G.cache};
    if (!err)
        err = tt_store_new(&G.store, &so, d);
    if (!err)
        err = tt_store_prepare(G.store, G.m, G.ph, NULL, NULL);
    tt_diag_print(d, stderr);
    tt_diag_free(d);
    return err ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tt_store_free(G.store);
    if (G.m)
        tl_phrases_free(G.m, G.ph);
    tt_menu_free(G.m);
    if (getenv("TT_LINE_KEEP"))
        fprintf(stderr, "kept %s\n", G.dir);
    else
        tl_rmtree(G.dir);
    free(G.dir);
    return 0;
}

/* ---- the caller: a signal built piece by piece ---- */

struct caller {
    int16_t *pcm;
    size_t n, cap;
};

static void silence(struct caller *c, double s)
{
    size_t k = (size_t)(s * RATE);
    if (c->n + k > c->cap) {
        c->cap = (c->n + k) * 2;
        c->pcm = realloc(c->pcm, c->cap * sizeof(*c->pcm));
        assert_non_null(c->pcm);
    }
    memset(c->pcm + c->n, 0, k * sizeof(*c->pcm));
    c->n += k;
}

static void key(struct caller *c, char digit, double s)
{
    size_t at = c->n;
    silence(c, s);
    struct tt_dtmf_tone t = {.digit = digit, .low_dbm0 = -10, .high_dbm0 = -10};
    assert_int_equal(tt_dtmf_gen(c->pcm + at, (size_t)(s * RATE), RATE, &t), 0);
}

/* A reorder tone: 480 + 620 Hz at -24 dBm0 each, 0.25 s on, 0.25 s off. */
static void reorder(struct caller *c, double s)
{
    double a = tt_dtmf_dbm0_to_amplitude(-24);
    for (double done = 0; done < s; done += 0.5) {
        size_t at = c->n;
        silence(c, 0.25);
        for (size_t i = 0; i < (size_t)(0.25 * RATE); i++) {
            double t = (double)(at + i) / RATE;
            c->pcm[at + i] = (int16_t)(a * sin(2 * M_PI * 480 * t) + a * sin(2 * M_PI * 620 * t));
        }
        silence(c, 0.25);
    }
}

/* ---- running a call ---- */

struct call {
    char *transcript;
    int err;
    double wall_s;
    int16_t *out;
    size_t out_n;
};

static void run_call(struct caller *c, tt_ms hangup_ms, struct call *r)
{
    FILE *f = fopen(G.in, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(c->pcm, sizeof(*c->pcm), c->n, f), c->n);
    fclose(f);
    unlink(G.out);
    char tpath[700];
    snprintf(tpath, sizeof(tpath), "%s/transcript.txt", G.dir);
    FILE *tf = fopen(tpath, "w");
    assert_non_null(tf);
    struct tt_line_opts o = {.rate = RATE, .transcript = tf, .hangup_ms = hangup_ms,
                             .max_ms = 120000};
    tt_diag *d = tt_diag_new();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    alarm(WALL_LIMIT_S);
    r->err = tt_line_run(G.m, G.ph, G.store, &o, d);
    alarm(0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->wall_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (r->err)
        tt_diag_print(d, stderr);
    tt_diag_free(d);
    fclose(tf);
    r->transcript = tl_slurp(tpath);
    assert_non_null(r->transcript);
    if (getenv("TT_LINE_KEEP"))
        fprintf(stderr, "---- transcript\n%s----\n", r->transcript);
    f = fopen(G.out, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    r->out_n = (size_t)size / 2;
    r->out = malloc(r->out_n * 2 + 2);
    assert_non_null(r->out);
    assert_int_equal(fread(r->out, 2, r->out_n, f), r->out_n);
    fclose(f);
}

static void call_free(struct call *r)
{
    free(r->transcript);
    free(r->out);
}

/* The line holding `what`, at or after `from`; fails the test when there is none. */
static const char *line_with(const char *text, const char *from, const char *what)
{
    const char *p = strstr(from ? from : text, what);
    if (!p) {
        fprintf(stderr, "no '%s' in the transcript:\n%s", what, text);
        fail();
    }
    return p;
}

static const char *last_line(const char *text)
{
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        n--;
    while (n > 0 && text[n - 1] != '\n')
        n--;
    return text + n;
}

/* A caller presses 1 during the welcome, then says nothing: the prompt is cut, the session
 * moves to "info", and after 3 s of silence while the line waits the call ends by itself. */
static void test_key_during_prompt_then_silence(void **state)
{
    (void)state;
    struct caller c = {0};
    silence(&c, 1.0);
    key(&c, '1', 0.1);
    silence(&c, 0.5);
    struct call r;
    run_call(&c, 3000, &r);
    assert_int_equal(r.err, 0);
    const char *k = line_with(r.transcript, NULL, "key 1");
    const char *s = line_with(r.transcript, NULL, "stop");
    assert_true(s > k); /* barge-in: the welcome was cut after the key */
    line_with(r.transcript, k, "go info");
    assert_string_equal(last_line(r.transcript), "hangup silence\n");
    assert_null(strstr(r.transcript, "time limit"));
    assert_true(r.wall_s < WALL_LIMIT_S);
    /* Audio went out: the welcome (cut) and the info prompt. */
    assert_true(r.out_n > (size_t)RATE);
    assert_true(tl_peak(r.out, 0, r.out_n) > 1000);
    /* The key began at 1.000 s of the caller's audio: the session heard it within a
     * receiver's reach (at most 39 ms), on the line's clock, whatever the plugin's speed. */
    const char *ls = k;
    while (ls > r.transcript && ls[-1] != '\n')
        ls--;
    double at = strtod(ls, NULL);
    assert_true(at >= 1.0 && at <= 1.04);
    /* Barge-in in what was played: the first stretch of audio (the welcome, 9.5 s whole) ends
     * where the key cut it, followed by the pause before "info". Offsets allow for the
     * silence PortAudio primes the device with (about 0.1 s). */
    size_t first = 0, end = 0;
    while (first < r.out_n && r.out[first] == 0)
        first++;
    for (size_t i = first, zeros = 0; i < r.out_n; i++) {
        zeros = r.out[i] == 0 ? zeros + 1 : 0;
        if (zeros == (size_t)(0.3 * RATE)) {
            end = i + 1 - zeros;
            break;
        }
    }
    if (getenv("TT_LINE_KEEP"))
        fprintf(stderr, "key at %.3f s; first audio at %zu, cut at %zu\n", at, first, end);
    assert_true(end > (size_t)(0.9 * RATE));
    assert_true(end < (size_t)(1.3 * RATE));
    call_free(&r);
    free(c.pcm);
}

/* A caller presses 1, then the line gives a reorder tone: the call ends on the tone (after
 * 2 s of it), long before the 60 s silence limit. */
static void test_reorder_tone_ends_call(void **state)
{
    (void)state;
    struct caller c = {0};
    silence(&c, 0.5);
    key(&c, '1', 0.1);
    silence(&c, 0.5);
    reorder(&c, 6.0);
    struct call r;
    run_call(&c, 60000, &r);
    assert_int_equal(r.err, 0);
    line_with(r.transcript, NULL, "key 1");
    assert_string_equal(last_line(r.transcript), "hangup busy\n");
    call_free(&r);
    free(c.pcm);
}

/* The prompts alone (a caller who never presses anything, and whose line echoes nothing) make
 * no key, and silence ends the call. */
static void test_no_keys_from_prompts(void **state)
{
    (void)state;
    struct caller c = {0};
    silence(&c, 0.1);
    struct call r;
    run_call(&c, 2000, &r);
    assert_int_equal(r.err, 0);
    assert_null(strstr(r.transcript, "key "));
    assert_string_equal(last_line(r.transcript), "hangup silence\n");
    /* The welcome was played whole (about 8 s) before the silence began to count. */
    assert_true(r.out_n > (size_t)(5 * RATE));
    call_free(&r);
    free(c.pcm);
}

/* The line echoes the engine's own prompt back (at -20 dB) and the caller presses nothing:
 * the receiver must not take the echo for keys. */
static void test_echo_makes_no_keys(void **state)
{
    (void)state;
    const struct tt_clip *clip;
    assert_int_equal(tt_store_get(G.store, "en", "flite:kal16", "main",
                                  "Welcome to the kiosk test. This sentence is long enough to be "
                                  "cut off by a key, and to be said again a little louder, so "
                                  "that the two can be compared.",
                                  100, &clip),
                     0);
    struct caller c = {0};
    silence(&c, (double)clip->frames / RATE);
    for (size_t i = 0; i < clip->frames; i++)
        c.pcm[i] = (int16_t)(clip->pcm[i] / 10);
    struct call r;
    run_call(&c, 2000, &r);
    assert_int_equal(r.err, 0);
    assert_null(strstr(r.transcript, "key "));
    assert_string_equal(last_line(r.transcript), "hangup silence\n");
    call_free(&r);
    free(c.pcm);
}

/* A caller who says nothing at all, on a line quieter than the hang-up watch's floor, at the
 * default hang-up time (10 s of silence while the engine waits): the engine's 7 s timeout comes
 * first, so "Are you still there? Press any key for more time." is said before the call ends
 * (Section 508 407.5 on the telephone), and the warning's promise of more time is kept: the
 * watch counts its 10 s of silence afresh from the warning, so the line hangs up no sooner
 * than 10 s of waiting after it (the session's next 7 s timeout comes first). */
static void test_a_silent_caller_is_warned_before_the_line_hangs_up(void **state)
{
    (void)state;
    struct caller c = {0};
    silence(&c, 0.1);
    struct call r;
    run_call(&c, 0, &r);
    assert_int_equal(r.err, 0);
    const char *timeout = line_with(r.transcript, NULL, "timeout main 1");
    const char *warn = line_with(r.transcript, timeout, "Are you still there? Press any key");
    const char *hangup = line_with(r.transcript, warn, "hangup silence");
    assert_string_equal(last_line(r.transcript), "hangup silence\n");
    assert_non_null(hangup);
    const char *ws = warn;
    while (ws > r.transcript && ws[-1] != '\n')
        ws--;
    /* the hang-up line has no time: the call's length is the audio the line wrote */
    double warned = strtod(ws, NULL), gone = (double)r.out_n / RATE;
    print_message("warned %.1f s into the call; the line hung up at about %.1f s\n", warned,
                  gone);
    if (gone - warned < 10.0)
        fail_msg("the line hung up %.1f s after the warning:\n%s", gone - warned, r.transcript);
    line_with(r.transcript, warn, "timeout main 2"); /* the session's own next try came */
    call_free(&r);
    free(c.pcm);
}

/* The caller's end key: the session says goodbye and the call ends there, not by hang-up. */
static void test_end_key_says_goodbye(void **state)
{
    (void)state;
    struct caller c = {0};
    silence(&c, 1.0);
    key(&c, '9', 0.1);
    struct call r;
    run_call(&c, 60000, &r);
    assert_int_equal(r.err, 0);
    line_with(r.transcript, NULL, "key 9");
    assert_null(strstr(r.transcript, "hangup"));
    assert_non_null(strstr(last_line(r.transcript), "end"));
    call_free(&r);
    free(c.pcm);
}

/* ---- answering calls one after another, with the menu reloaded between them ---- */

/* The menu file as a court would change it: the test menu in a folder of its own. */
static void write_line_menu(const char *path, const char *one, bool broken)
{
    char *text = tl_slurp(MENU);
    char cwd[256];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    const char *body = strstr(text, "[tonetree]\n") + strlen("[tonetree]\n");
    fprintf(f, "%.*sprompts = %s/tests/prompts\n", (int)(body - text), text, cwd);
    if (broken)
        fputs("start = nowhere\n", f); /* said twice, and to nowhere: refused */
    const char *choice = strstr(body, "1 = info\n");
    assert_non_null(choice);
    fprintf(f, "%.*s1 = %s\n%s%s", (int)(choice - body), body, one,
            strcmp(one, "info") ? "3 = info\n" : "", choice + strlen("1 = info\n"));
    assert_int_equal(fclose(f), 0);
    free(text);
}

/* What the program does on SIGHUP, done where it can be placed exactly: as each call hangs
 * up, the next edition of the file is written and a reload is asked for. */
struct changes {
    char path[700];
    char *seen;            /* the whole transcript so far */
    size_t n;
    int hangups;
    volatile sig_atomic_t reload;
};

static ssize_t transcript_write(void *cookie, const char *buf, size_t size)
{
    struct changes *ch = cookie;
    ch->seen = realloc(ch->seen, ch->n + size + 1);
    assert_non_null(ch->seen);
    memcpy(ch->seen + ch->n, buf, size);
    ch->n += size;
    ch->seen[ch->n] = '\0';
    int hangups = 0;
    for (const char *p = ch->seen; (p = strstr(p, "hangup ")); p++)
        hangups++;
    if (hangups > ch->hangups) {
        ch->hangups = hangups;
        /* after call 1 a broken file, after call 2 a mended one where 1 goes to the forms */
        write_line_menu(ch->path, "forms", hangups == 1);
        ch->reload++;
    }
    return (ssize_t)size;
}

static void test_calls_one_after_another_take_a_reloaded_menu_between_calls(void **state)
{
    (void)state;
    struct changes ch = {0};
    snprintf(ch.path, sizeof(ch.path), "%s/court.ini", G.dir);
    write_line_menu(ch.path, "info", false);
    tt_diag *d = tt_diag_new();
    tt_menu_slot *slot = NULL;
    assert_int_equal(tt_menu_slot_new(&slot, ch.path, NULL, d), 0);
    assert_int_equal(tt_menu_slot_prepare(slot, G.store, NULL, NULL), 0);

    /* Each caller presses 1 during the welcome, then goes quiet: hung up after 1 s. */
    struct caller c = {0};
    silence(&c, 1.0);
    key(&c, '1', 0.1);
    silence(&c, 0.5);
    FILE *f = fopen(G.in, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(c.pcm, sizeof(*c.pcm), c.n, f), c.n);
    fclose(f);
    FILE *tf = fopencookie(&ch, "w", (cookie_io_functions_t){.write = transcript_write});
    assert_non_null(tf);
    struct tt_line_opts o = {.rate = RATE, .transcript = tf, .hangup_ms = 1000,
                             .max_ms = 120000, .calls = 3, .reload = &ch.reload};
    alarm(WALL_LIMIT_S);
    int err = tt_line_serve(slot, G.store, &o, d);
    alarm(0);
    fclose(tf);
    if (err)
        tt_diag_print(d, stderr);
    assert_int_equal(err, 0);
    if (getenv("TT_LINE_KEEP"))
        fprintf(stderr, "---- transcript\n%s----\n", ch.seen);
    assert_int_equal(ch.hangups, 3);

    /* Call 1 on the first edition; call 2 too, the broken file having been refused; call 3
     * on the mended one. */
    const char *h1 = line_with(ch.seen, NULL, "hangup ");
    const char *h2 = line_with(ch.seen, h1 + 1, "hangup ");
    const char *g1 = line_with(ch.seen, NULL, "go ");
    const char *g2 = line_with(ch.seen, h1, "go ");
    const char *g3 = line_with(ch.seen, h2, "go ");
    assert_true(g1 < h1 && g2 < h2);
    assert_int_equal(strncmp(g1, "go info", 7), 0);
    assert_int_equal(strncmp(g2, "go info", 7), 0);
    assert_int_equal(strncmp(g3, "go forms", 8), 0);
    assert_int_equal(tt_menu_slot_generation(slot), 2);

    tt_menu_slot_free(slot);
    tt_diag_free(d);
    free(ch.seen);
    free(c.pcm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_during_prompt_then_silence),
        cmocka_unit_test(test_reorder_tone_ends_call),
        cmocka_unit_test(test_no_keys_from_prompts),
        cmocka_unit_test(test_echo_makes_no_keys),
        cmocka_unit_test(test_end_key_says_goodbye),
        cmocka_unit_test(test_a_silent_caller_is_warned_before_the_line_hangs_up),
        cmocka_unit_test(test_calls_one_after_another_take_a_reloaded_menu_between_calls),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
