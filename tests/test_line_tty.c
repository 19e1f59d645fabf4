/*
 * A TTY caller on the telephone line (`tonetree line`, tt_line_run), end to end, with a TTY
 * nobody here wrote: minimodem in its TDD mode (Baudot, 45.45 baud) makes the caller's
 * keystrokes, and reads what the line sent back, as the caller's TTY would print it.
 *
 * Through ALSA's file plugin, in process, as tests/test_line.c does: what the caller sends is
 * the device's input (IN.raw), what the line plays lands in OUT.raw, and the line's clock is
 * frames read, so every time below is line time however fast the plugin runs. The caller
 * types a greeting during the spoken welcome (a TTY user who hears nothing they can read
 * types first), is recognized from those tones alone, reads the menu as text, types 1 and
 * reads the page it leads to, then types Q and reads goodbye and SK. And a voice caller with
 * keys and speech on the same line is never switched to text (test_line.c's calls, and
 * test_tty.c's talk-off corpus, hold that too).
 *
 * At 8000 Hz, the telephone's rate and the modem's, and at 16000 Hz, the rate `tonetree line`
 * runs at by default, where the line's audio is resampled for the modem both ways; and with a
 * 50-baud TTY (outside the US), which the line recognizes and answers at its own rate. Every run
 * is bounded in line time (max_ms) and in wall time (alarm). TT_LINE_KEEP=1 keeps the folder.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/drv_line.h"
#include "prompt/audio.h"
#include "dsp/dtmf.h"
#include "proclib.h"
#include "testlib.h"

#define WALL_LIMIT_S 120

static const char *const menu_text =
    "[tonetree]\n"
    "title = TTY test\n"
    "start = main\n"
    "voice.en = flite:kal16\n"
    "[main]\n"
    "title = the main menu\n"
    "text = Welcome to the court line.\n"
    "1 = hours\n"
    "[hours]\n"
    "title = the hours\n"
    "text = The clerk's office is open from nine to five.\n";

struct fx {
    char *dir;
    char conf[600], in[600], out[600], menu[600];
    int rate;
    int baud; /* the caller's TTY: 45 (45.45, the US) or 50 */
    tt_menu *m;
    tt_phrases *ph[8];
    tt_store *store;
    int16_t *pcm; /* the caller's side of the line */
    size_t n, cap;
};

static int setup_at(void **state, int rate, int baud)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->rate = rate;
    f->baud = baud;
    f->dir = tl_tmpdir();
    snprintf(f->conf, sizeof(f->conf), "%s/asound.conf", f->dir);
    snprintf(f->in, sizeof(f->in), "%s/IN.raw", f->dir);
    snprintf(f->out, sizeof(f->out), "%s/OUT.raw", f->dir);
    FILE *c = fopen(f->conf, "w");
    assert_non_null(c);
    fprintf(c,
            "pcm.!default {\n type file\n slave.pcm { type null }\n file \"%s\"\n"
            " infile \"%s\"\n format \"raw\"\n perm 0644\n}\n"
            "ctl.!default { type hw card 0 }\n",
            f->out, f->in);
    fclose(c);
    setenv("ALSA_CONFIG_PATH", f->conf, 1);
    f->m = tl_menu(menu_text);
    tl_phrases(f->m, f->ph);
    tt_diag *d = tt_diag_new();
    struct tt_store_opts so = {.rate = rate, .prompts_dir = "tests/prompts"};
    assert_int_equal(tt_store_new(&f->store, &so, d), 0);
    tt_diag_free(d);
    *state = f;
    return 0;
}

static int setup8(void **state)
{
    return setup_at(state, 8000, 45);
}

static int setup16(void **state)
{
    return setup_at(state, 16000, 45);
}

static int setup8_50(void **state)
{
    return setup_at(state, 8000, 50);
}

/* minimodem's mode for the caller's TTY (1.5 stop bits, as TTYs send) */
static const char *mode(const struct fx *f)
{
    return f->baud == 50 ? "--baudot -M 1400 -S 1800 --stopbits 1.5 50" : "--stopbits 1.5 tdd";
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tt_store_free(f->store);
    tl_phrases_free(f->m, f->ph);
    tt_menu_free(f->m);
    if (getenv("TT_LINE_KEEP"))
        fprintf(stderr, "kept %s\n", f->dir);
    else
        tl_rmtree(f->dir);
    free(f->dir);
    free(f->pcm);
    free(f);
    return 0;
}

/* ---- the caller ---- */

static void grow(struct fx *f, size_t k)
{
    if (f->n + k > f->cap) {
        f->cap = (f->n + k) * 2;
        f->pcm = realloc(f->pcm, f->cap * sizeof(*f->pcm));
        assert_non_null(f->pcm);
    }
}

/* Silence until line time `at` seconds. */
static void quiet_until(struct fx *f, double at)
{
    size_t to = (size_t)(at * f->rate);
    assert_true(to >= f->n);
    grow(f, to - f->n);
    memset(f->pcm + f->n, 0, (to - f->n) * sizeof(*f->pcm));
    f->n = to;
}

/* The caller's TTY types `text`: minimodem's tones, at a TTY's level (-12 dBm0 at the peak).
 * minimodem's own TDD mode sends 2 stop bits; a TTY sends 1.5, and so does this caller. */
static void tty_types(struct fx *f, const char *text)
{
    char wav[700], cmd[1400];
    snprintf(wav, sizeof(wav), "%s/keys.wav", f->dir);
    snprintf(cmd, sizeof(cmd),
             "printf '%%s' '%s' | timeout 30 minimodem --tx -q -R %d -f %s %s", text, f->rate,
             wav, mode(f));
    assert_int_equal(system(cmd), 0);
    size_t n;
    int rate;
    int16_t *pcm = tl_read_wav(wav, &n, &rate);
    assert_non_null(pcm);
    assert_int_equal(rate, f->rate);
    int peak = tl_peak(pcm, 0, n);
    assert_true(peak > 0);
    double gain = tt_dtmf_dbm0_to_amplitude(-12) / peak;
    grow(f, n);
    for (size_t i = 0; i < n; i++)
        f->pcm[f->n + i] = (int16_t)lrint(pcm[i] * gain);
    f->n += n;
    free(pcm);
}

/* ---- the call ---- */

struct call {
    char *transcript;
    char *printed; /* what the caller's TTY printed: minimodem reading what the line sent */
    double wall_s;
};

static void run_call(struct fx *f, struct call *r)
{
    FILE *in = fopen(f->in, "w");
    assert_non_null(in);
    assert_int_equal(fwrite(f->pcm, sizeof(*f->pcm), f->n, in), f->n);
    fclose(in);
    char tpath[700];
    snprintf(tpath, sizeof(tpath), "%s/transcript.txt", f->dir);
    FILE *tf = fopen(tpath, "w");
    assert_non_null(tf);
    struct tt_line_opts o = {.rate = f->rate, .transcript = tf, .max_ms = 150000};
    tt_diag *d = tt_diag_new();
    double t0 = tl_now();
    alarm(WALL_LIMIT_S);
    int err = tt_line_run(f->m, f->ph, f->store, &o, d);
    alarm(0);
    r->wall_s = tl_now() - t0;
    if (err)
        tt_diag_print(d, stderr);
    tt_diag_free(d);
    fclose(tf);
    assert_int_equal(err, 0);
    r->transcript = tl_slurp(tpath);
    /* what went out, read by minimodem as the caller's TTY */
    size_t n = 0;
    char *raw = tl_read_file(f->out, &n);
    char wav[700], cmd[1400];
    snprintf(wav, sizeof(wav), "%s/out.wav", f->dir);
    /* The caller's TTY is on the telephone network: 8000 Hz. (minimodem 0.24 reading at 16
     * or 48 kHz also makes up characters at the edges of bursts, from the line's output and
     * from a clean 8 kHz burst resampled up alike: its receiver has no squelch.) */
    int16_t *at8 = NULL;
    size_t n8 = n / 2;
    if (f->rate != 8000)
        assert_int_equal(tt_audio_resample((const int16_t *)raw, n / 2, f->rate, 8000, &at8, &n8),
                         0);
    tl_write_wav(wav, at8 ? at8 : (const int16_t *)raw, n8, 8000);
    free(at8);
    free(raw);
    snprintf(cmd, sizeof(cmd), "timeout 60 minimodem --rx -q -f %s %s", wav, mode(f));
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    r->printed = calloc(1, cap);
    assert_non_null(r->printed);
    for (size_t k; (k = fread(r->printed + len, 1, cap - 1 - len, p)) > 0;)
        len += k;
    assert_int_equal(pclose(p), 0);
    if (getenv("TT_LINE_KEEP"))
        fprintf(stderr, "---- transcript\n%s---- printed\n%s\n----\n", r->transcript,
                r->printed);
}

static void call_free(struct call *r)
{
    free(r->transcript);
    free(r->printed);
}

/* Where `what` is in the TTY's print, after `from`; fails the test, showing it all, if not. */
static const char *printed(const struct call *r, const char *from, const char *what)
{
    const char *p = strstr(from ? from : r->printed, what);
    if (!p)
        fail_msg("the caller's TTY did not print \"%s\"; it printed:\n%s\ntranscript:\n%s", what,
                 r->printed, r->transcript);
    return p;
}

static void tty_call(void **state)
{
    struct fx *f = *state;
    /* the greeting during the spoken welcome, then 1 once the menu has been read (its text is
     * about 160 characters: some 28 s at six a second), then Q once the page has been */
    quiet_until(f, 1.5);
    tty_types(f, "HELLO GA");
    quiet_until(f, 45);
    tty_types(f, "1");
    quiet_until(f, 75);
    tty_types(f, "Q");
    quiet_until(f, 80);
    struct call r;
    run_call(f, &r);
    print_message("%.1f s of wall time for %.0f s of line\n", r.wall_s,
                  (double)f->n / f->rate);
    print_message("the caller's TTY printed:\n%s\n", r.printed);
    /* recognized, and the spoken welcome cut at once */
    const char *tty = strstr(r.transcript, "text tty");
    assert_non_null(tty);
    assert_true(tty > strstr(r.transcript, "say"));
    /* the menu as text: how to answer, then the same words, then GA */
    const char *intro = printed(&r, NULL, "TEXT MODE.");
    printed(&r, intro, "YOU HAVE 30 SECONDS.");
    const char *welcome = printed(&r, intro, "WELCOME TO THE COURT LINE.");
    const char *choice = printed(&r, welcome, "TO HEAR THE HOURS, PRESS 1.");
    const char *ga = printed(&r, choice, "GA");
    /* 1 typed: the page it leads to; Q: goodbye and SK */
    const char *hours = printed(&r, ga, "THE CLERK'S OFFICE IS OPEN FROM NINE TO FIVE.");
    const char *bye = printed(&r, hours, "GOODBYE.");
    printed(&r, bye, "SK");
    const char *k1 = strstr(r.transcript, "key 1");
    assert_non_null(k1);
    assert_non_null(strstr(k1, "go hours"));
    assert_non_null(strstr(k1, "key exit"));
    /* the greeting's letters were not keys (its H would have been help): none but 1 and Q */
    assert_null(strstr(r.transcript, " invalid "));
    assert_null(strstr(r.transcript, " help "));
    const char *k = r.transcript;
    int keys = 0;
    while ((k = strstr(k, " key ")))
        keys++, k++;
    assert_int_equal(keys, 2);
    call_free(&r);
}

/* The root mean square of what the line sent between two line times. */
static double sent_rms(const struct fx *f, double from, double to)
{
    size_t n = 0;
    char *raw = tl_read_file(f->out, &n);
    const int16_t *x = (const int16_t *)raw;
    size_t a = (size_t)(from * f->rate), b = (size_t)(to * f->rate);
    if (b > n / 2)
        b = n / 2;
    double rms = a < b ? tl_rms(x, a, b) : 0;
    free(raw);
    return rms;
}

/* The first 100 ms window from `from` on in which the line sent nothing, or -1. */
static double first_quiet(const struct fx *f, double from, double to)
{
    for (double t = from; t + 0.1 <= to; t += 0.02)
        if (sent_rms(f, t, t + 0.1) < 10)
            return t;
    return -1;
}

/* TTY is half duplex: a caller who starts typing words (no keys among them) in the middle of
 * the menu's text is heard at the end of the burst under way (a sentence, at most 48
 * characters), and the engine then sends nothing until they have stopped, then goes on. */
static void the_engine_does_not_send_while_the_caller_types(void **state)
{
    struct fx *f = *state;
    quiet_until(f, 1.5);
    tty_types(f, "HELLO GA");
    quiet_until(f, 9.0);
    double t0 = (double)f->n / f->rate;
    tty_types(f, "I SEE IT AT SIX. I SEE IT AT SIX. I SEE IT."); /* no letter of it is a key */
    double t1 = (double)f->n / f->rate;
    quiet_until(f, 60);
    tty_types(f, "Q");
    quiet_until(f, 66);
    struct call r;
    run_call(f, &r);
    /* the burst under way ends within 48 characters (8 s at most), and stays ended */
    double quiet = first_quiet(f, t0, t0 + 8.5);
    print_message("the caller typed from %.2f to %.2f s; the line sent rms %.0f before, went "
                  "quiet at %.2f s, rms %.0f from then until the caller stopped, %.0f after\n",
                  t0, t1, sent_rms(f, t0 - 1.0, t0), quiet, sent_rms(f, quiet, t1),
                  sent_rms(f, t1 + 1.0, t1 + 2.0));
    print_message("the caller's TTY printed:\n%s\n", r.printed);
    assert_true(sent_rms(f, t0 - 1.0, t0) > 300); /* sending when the caller began */
    assert_true(quiet > 0);
    assert_true(sent_rms(f, quiet, t1) < 10);    /* nothing more while they typed */
    assert_true(sent_rms(f, t1 + 1.0, t1 + 2.0) > 300); /* and on again after */
    /* and nothing of the menu's text was lost or broken by the pause */
    const char *intro = printed(&r, NULL, "TEXT MODE.");
    const char *w = printed(&r, intro, "WELCOME TO THE COURT LINE.");
    printed(&r, w, "TO HEAR THE HOURS, PRESS 1.");
    assert_null(strstr(r.transcript, " invalid "));
    call_free(&r);
}

static void a_tty_caller_is_recognized_reads_the_menu_and_types_choices_at_8000_hz(void **state)
{
    tty_call(state);
}

static void the_same_on_a_line_at_16000_hz(void **state)
{
    tty_call(state);
}

static void the_same_with_a_50_baud_tty(void **state)
{
    tty_call(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            a_tty_caller_is_recognized_reads_the_menu_and_types_choices_at_8000_hz, setup8,
            teardown),
        cmocka_unit_test_setup_teardown(the_same_on_a_line_at_16000_hz, setup16, teardown),
        cmocka_unit_test_setup_teardown(the_same_with_a_50_baud_tty, setup8_50, teardown),
        cmocka_unit_test_setup_teardown(the_engine_does_not_send_while_the_caller_types, setup8,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
