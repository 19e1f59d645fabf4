/*
 * Test helpers. The simulated driver stands in for a sound card: each SAY "plays" for a fixed
 * time, then the session hears done; deadlines fire exactly when due. That makes session
 * tests read like a listener's timeline: press 7 at 3 s, expect "7 is not a choice here".
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testlib.h"

tt_menu *tl_menu(const char *ini)
{
    tt_diag *d = tt_diag_new();
    tt_menu *m = NULL;
    int err = tt_menu_load_mem(&m, TL_MENU_NAME, ini, strlen(ini), d);
    if (err)
        tt_diag_print(d, stderr);
    tt_diag_free(d);
    assert_int_equal(err, 0);
    return m;
}

void tl_phrases(const tt_menu *m, tt_phrases **ph)
{
    tt_diag *d = tt_diag_new();
    int err = tt_phrases_load_all(m, NULL, ph, d);
    if (err)
        tt_diag_print(d, stderr);
    tt_diag_free(d);
    assert_int_equal(err, 0);
}

void tl_phrases_free(const tt_menu *m, tt_phrases **ph)
{
    tt_phrases_free_all(m, ph);
}

static void drain(struct tl_sim *t)
{
    struct tt_event ev;
    while (tt_session_next_event(t->s, &ev)) {
        assert_true(t->n < TL_MAX_LINES);
        tt_event_format(t->m, &ev, t->line[t->n], sizeof(t->line[0]));
        t->n++;
        if (ev.type == TT_EV_SAY) {
            t->say_end = t->now + t->say_ms;
            t->speed = ev.speed;
            snprintf(t->said, sizeof(t->said), "%s", ev.text);
        } else if (ev.type == TT_EV_LOOKUP) {
            snprintf(t->entry, sizeof(t->entry), "%s", ev.text);
        }
        else if (ev.type == TT_EV_STOP)
            t->say_end = TT_NEVER;
    }
}

void tl_sim_init_opts(struct tl_sim *t, const tt_menu *m, tt_phrases **ph,
                      const struct tt_session_opts *o)
{
    /* Field by field, not a memset of the whole: the transcript lines (512 KB) are written
     * before they are read (lines at n and beyond hold leftovers of an earlier session), and
     * clearing them for each of test_endkey's 40,000 walks is work for nothing. (Most of that
     * test's time under ASan was its 512 KB local re-poisoned per walk: see test_endkey.c.) */
    t->m = m;
    t->s = NULL;
    t->now = 0;
    t->say_ms = 1000;
    t->say_end = TT_NEVER;
    t->n = t->mark = 0;
    t->speed = 0;
    t->said[0] = t->entry[0] = '\0';
    assert_int_equal(tt_session_new(&t->s, m, ph, o), 0);
    tt_session_start(t->s, 0);
    drain(t);
}

void tl_sim_init(struct tl_sim *t, const tt_menu *m, tt_phrases **ph, enum tt_end_mode mode,
                 int lang)
{
    struct tt_session_opts o = {.lang = lang, .end_mode = mode};
    tl_sim_init_opts(t, m, ph, &o);
}

struct tl_fixture *tl_fixture_new(const char *ini, enum tt_end_mode mode)
{
    struct tl_fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->m = tl_menu(ini);
    tl_phrases(f->m, f->ph);
    tl_sim_init(&f->sim, f->m, f->ph, mode, 0);
    return f;
}

void tl_fixture_free(struct tl_fixture *f)
{
    tl_sim_free(&f->sim);
    tl_phrases_free(f->m, f->ph);
    tt_menu_free(f->m);
    free(f);
}

void tl_sim_free(struct tl_sim *t)
{
    tt_session_free(t->s);
}

static bool step(struct tl_sim *t, tt_ms until)
{
    tt_ms dl = tt_session_deadline(t->s);
    tt_ms next = until;
    if (t->say_end < next)
        next = t->say_end;
    if (dl < next)
        next = dl;
    if (next > until)
        return false;
    t->now = next;
    if (t->say_end == next) {
        t->say_end = TT_NEVER;
        tt_session_done(t->s, t->now);
    } else if (dl == next) {
        tt_session_tick(t->s, t->now);
    } else {
        return false;
    }
    drain(t);
    return true;
}

void tl_run_until(struct tl_sim *t, tt_ms until)
{
    while (!tt_session_ended(t->s) && step(t, until))
        ;
    if (t->now < until)
        t->now = until;
}

void tl_run_to_wait(struct tl_sim *t)
{
    tt_ms limit = t->now + 3600 * 1000;
    while (!tt_session_waiting(t->s) && !tt_session_ended(t->s)) {
        if (!step(t, limit)) {
            tl_dump(t);
            fail_msg("the session neither waited nor ended within an hour");
        }
    }
}

void tl_key(struct tl_sim *t, int key)
{
    tt_session_key(t->s, key, t->now);
    drain(t);
}

void tl_lookup_done(struct tl_sim *t, enum tt_answer a, const char *text)
{
    tt_session_lookup_done(t->s, a, text, t->now);
    drain(t);
}

void tl_transfer_done(struct tl_sim *t, bool ok)
{
    tt_session_transfer_done(t->s, ok, t->now);
    drain(t);
}

void tl_mark(struct tl_sim *t)
{
    t->mark = t->n;
}

int tl_find(const struct tl_sim *t, const char *a, const char *b)
{
    for (size_t i = t->mark; i < t->n; i++)
        if ((!a || strstr(t->line[i], a)) && (!b || strstr(t->line[i], b)))
            return (int)i;
    return -1;
}

void tl_dump(const struct tl_sim *t)
{
    for (size_t i = t->mark; i < t->n; i++)
        fprintf(stderr, "    | %s\n", t->line[i]);
}

void tl_expect(const struct tl_sim *t, const char *a, const char *b)
{
    if (tl_find(t, a, b) < 0) {
        tl_dump(t);
        fail_msg("no transcript line with '%s' and '%s'", a ? a : "", b ? b : "");
    }
}

void tl_expect_not(const struct tl_sim *t, const char *a, const char *b)
{
    int i = tl_find(t, a, b);
    if (i >= 0) {
        tl_dump(t);
        fail_msg("unexpected transcript line: %s", t->line[i]);
    }
}

tt_ms tl_time(const struct tl_sim *t, int i)
{
    double s = strtod(t->line[i], NULL);
    return (tt_ms)(s * 1000.0 + 0.5);
}

/* ---- audio measurements ---------------------------------------------------------------- */
#include <math.h>
#include <sndfile.h>
#include <ftw.h>
#include <unistd.h>

int16_t *tl_read_wav(const char *path, size_t *frames, int *rate)
{
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f)
        fail_msg("cannot open %s: %s", path, sf_strerror(NULL));
    assert_int_equal(info.channels, 1);
    int16_t *pcm = malloc(((size_t)info.frames + 1) * sizeof(*pcm));
    assert_non_null(pcm);
    assert_int_equal(sf_readf_short(f, pcm, info.frames), info.frames);
    sf_close(f);
    *frames = (size_t)info.frames;
    *rate = info.samplerate;
    return pcm;
}

void tl_write_wav(const char *path, const int16_t *pcm, size_t frames, int rate)
{
    SF_INFO info = {.samplerate = rate, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    assert_non_null(f);
    assert_int_equal(sf_writef_short(f, pcm, (sf_count_t)frames), (sf_count_t)frames);
    assert_int_equal(sf_close(f), 0);
}

double tl_rms(const int16_t *pcm, size_t from, size_t to)
{
    double sum = 0;
    if (to <= from)
        return 0;
    for (size_t i = from; i < to; i++)
        sum += (double)pcm[i] * pcm[i];
    return sqrt(sum / (double)(to - from));
}

int tl_peak(const int16_t *pcm, size_t from, size_t to)
{
    int peak = 0;
    for (size_t i = from; i < to; i++) {
        int v = abs(pcm[i]);
        if (v > peak)
            peak = v;
    }
    return peak;
}

double tl_tone(const int16_t *pcm, size_t n, int rate, double hz)
{
    double w = 2.0 * M_PI * hz / rate, c = 2.0 * cos(w), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = pcm[i] / 32768.0 + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double power = s1 * s1 + s2 * s2 - c * s1 * s2;
    return power / ((double)n * n);
}

char *tl_tmpdir(void)
{
    char *dir = strdup("/tmp/tonetree-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return dir;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tl_rmtree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tl_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static uint64_t rng = 1;

void tl_seed(uint64_t seed)
{
    rng = seed;
}

double tl_urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

double tl_gauss(void)
{
    return sqrt(-2.0 * log(tl_urand())) * cos(2.0 * M_PI * tl_urand());
}

int16_t *tl_warble(double seconds, int rate, uint32_t seed)
{
    size_t n = (size_t)(seconds * rate);
    int16_t *x = malloc((n ? n : 1) * sizeof(*x));
    assert_non_null(x);
    uint32_t r = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) {
        r = r * 1664525u + 1013904223u;
        double t = (double)i / rate;
        x[i] = (int16_t)(6000 * sin(2 * M_PI * (180 + 60 * sin(0.7 * t)) * t) *
                             (0.5 + 0.5 * sin(4 * t)) +
                         (int)(r >> 22) - 512);
    }
    return x;
}
