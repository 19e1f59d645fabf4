/*
 * A sensitive entry leaves no trace: run the real `tonetree` (render, the kiosk, the line) on
 * a menu that takes a case number marked sensitive, then read every file the program wrote
 * (speech cache, transcript, log, the words it showed, its temporary folder) and look for the
 * number in any spelling: whole, in groups, with spaces or dashes. The words said back to the
 * listener and the lookup's answer are personal too: they must never reach the speech cache,
 * sensitive or not. The kiosk must clear what it showed at every reset, at once.
 *
 * Each program runs in its own folder with TMPDIR, HOME and XDG_CACHE_HOME pointing inside it,
 * so whatever it writes is in reach of the scan; every process is bounded in time and killed
 * by its pid if it overstays.
 */
#define _GNU_SOURCE /* nftw, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dsp/dtmf.h"
#include "proclib.h"
#include "siplib.h"
#include "testlib.h"

#define ENTRY "20310001"
#define ANSWER "Monday, March 3, 2031"
#define CLEAR "\033[H\033[2J\033[3J"

static char top[PATH_MAX]; /* the project's folder (tests run from it) */

/* ---- a folder per run, and a menu in it ---- */

struct run {
    char *dir;
    char menu[PATH_MAX], cache[PATH_MAX], tmp[PATH_MAX], home[PATH_MAX], out[PATH_MAX],
        dev[PATH_MAX], screen[PATH_MAX + 16];
};

static void run_init(struct run *r, bool sensitive)
{
    r->dir = tl_tmpdir();
    snprintf(r->menu, sizeof(r->menu), "%s/hearing.ini", r->dir);
    snprintf(r->cache, sizeof(r->cache), "%s/cache", r->dir);
    snprintf(r->tmp, sizeof(r->tmp), "%s/tmp", r->dir);
    snprintf(r->home, sizeof(r->home), "%s/home", r->dir);
    snprintf(r->out, sizeof(r->out), "%s/out", r->dir);
    snprintf(r->screen, sizeof(r->screen), "%s/screen.txt", r->out);
    /* what stands in for devices (the line's audio) lives outside the scanned folder */
    snprintf(r->dev, sizeof(r->dev), "%s.dev", r->dir);
    assert_int_equal(mkdir(r->tmp, 0700), 0);
    assert_int_equal(mkdir(r->home, 0700), 0);
    assert_int_equal(mkdir(r->out, 0700), 0);
    assert_int_equal(mkdir(r->dev, 0700), 0);
    FILE *f = fopen(r->menu, "w");
    assert_non_null(f);
    fprintf(f,
            "[tonetree]\n"
            "title = Hearing dates\n"
            "start = main\n"
            "[main]\n"
            "title = the main menu\n"
            "text = This line tells you the date of your next court hearing.\n"
            "1 = hearing\n"
            "[hearing]\n"
            "title = the date of your next hearing\n"
            "text = Please enter your case number, then press pound.\n"
            "input = digits\n"
            "min = 8\n"
            "max = 8\n"
            "sensitive = %s\n"
            "lookup = %s/examples/court/hearing-date\n",
            sensitive ? "yes" : "no", top);
    fclose(f);
}

static void run_free(struct run *r)
{
    tl_rmtree(r->dir);
    tl_rmtree(r->dev);
    free(r->dir);
}

/* ---- looking for the entry ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_sep(char c)
{
    return c && strchr(" -./,_:()\t\n", c);
}

/* Does buf hold 5 digits in a row of the entry, however spaced ("2 0 3 1 0", "2031-0",
 * "31000")? Five, not four: the answer names the year 2031, which is four of them. */
static const char *find_entry(const char *buf, size_t n)
{
    const char *e = ENTRY;
    size_t elen = strlen(e), run = 5;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(buf[i]))
            continue;
        for (size_t start = 0; start + run <= elen; start++) {
            size_t j = i, k = start;
            while (k < start + run && j < n && buf[j] == e[k]) {
                k++;
                j++;
                size_t gap = 0;
                while (k < start + run && j < n && gap < 3 && is_sep(buf[j]))
                    j++, gap++;
            }
            if (k == start + run)
                return buf + i;
        }
    }
    return NULL;
}

static const char *scan_cache; /* the cache folder: personal words must not be in it either */
static int scanned;

static int scan_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F || !S_ISREG(sb->st_mode))
        return 0;
    size_t n = 0;
    char *b = tl_read_file(path, &n);
    scanned++;
    const char *hit = find_entry(b, n);
    if (hit) {
        size_t at = (size_t)(hit - b);
        fail_msg("%s holds the entry at byte %zu: \"%.40s\"", path, at, hit);
    }
    if (!strncmp(path, scan_cache, strlen(scan_cache))) {
        if (memmem(b, n, "You entered 2 ", 14))
            fail_msg("%s: a read-back reached the speech cache", path);
        if (memmem(b, n, "March 3", 7))
            fail_msg("%s: the lookup's answer reached the speech cache", path);
        /* only the menu's and the engine's public words: still, no one else's to read */
        if (sb->st_mode & 077)
            fail_msg("%s: a cache file others can read (mode %03o)", path,
                     (unsigned)(sb->st_mode & 0777));
    }
    free(b);
    return 0;
}

/* Every file under root: none may hold the entry, and none in the cache personal words. */
static void scan_tree(const char *root, const char *cache)
{
    scan_cache = cache;
    scanned = 0;
    assert_int_equal(nftw(root, scan_one, 16, FTW_PHYS), 0);
    struct stat st;
    assert_int_equal(stat(cache, &st), 0);
    if (st.st_mode & 077)
        fail_msg("the cache folder is open to others (mode %03o)", (unsigned)(st.st_mode & 0777));
    assert_true(scanned > 0);
}

static void scan(const struct run *r)
{
    scan_tree(r->dir, r->cache);
}

/* ---- render ---- */

static void render(struct run *r, const char *end, const char *keys, char **transcript)
{
    char wav[PATH_MAX + 16], tr[PATH_MAX + 16];
    snprintf(wav, sizeof(wav), "%s/session.wav", r->out);
    snprintf(tr, sizeof(tr), "%s/transcript.txt", r->out);
    char prompts[PATH_MAX + 16];
    snprintf(prompts, sizeof(prompts), "%s/prompts", top);
    const char *argv[] = {"tonetree", "render", r->menu, "--prompts", prompts, "--cache",
                          r->cache, "--end", end, "--keys", keys, "-o", wav, "--transcript", tr,
                          NULL};
    int status = tl_proc_finish(tl_proc_start(&(struct tl_proc){.argv = argv, .in = -1,
                                                                .home = r->home,
                                                                .tmp = r->tmp}),
                                120);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    *transcript = tl_slurp(tr);
}

static void render_on_the_phone_leaves_no_trace_of_a_sensitive_entry(void **state)
{
    (void)state;
    struct run r;
    run_init(&r, true);
    char *t;
    render(&r, "goodbye", "1 2 0 3 1 0 0 0 1 # 1 +3 1 +3 9", &t);
    /* the listener heard it all: the entry read back (masked here) and the answer */
    if (!strstr(t, "You entered * * * *, * * * *.") || !strstr(t, ANSWER))
        fail_msg("the session did not go as planned:\n%s", t);
    scan(&r);
    free(t);
    run_free(&r);
}

static void render_at_a_kiosk_leaves_no_trace_of_a_sensitive_entry(void **state)
{
    (void)state;
    struct run r;
    run_init(&r, true);
    char *t;
    /* 3: hear the digits (a kiosk reads a sensitive entry back only when asked) */
    render(&r, "reset", "1 2 0 3 1 0 0 0 1 3 +1 1 +3 9", &t);
    if (!strstr(t, "You entered 8 digits.") || !strstr(t, "You entered * * * *, * * * *.") ||
        !strstr(t, ANSWER) || !strstr(t, "reset"))
        fail_msg("the session did not go as planned:\n%s", t);
    scan(&r);
    free(t);
    run_free(&r);
}

static void render_keeps_even_an_ordinary_entry_out_of_the_speech_cache(void **state)
{
    (void)state;
    struct run r;
    run_init(&r, false);
    char *t;
    render(&r, "goodbye", "1 2 0 3 1 0 0 0 1 # 1 +3 9", &t);
    /* not sensitive: the transcript may show it... */
    assert_non_null(strstr(t, "You entered 2 0 3 1, 0 0 0 1."));
    assert_non_null(strstr(t, ANSWER));
    /* ...but the cache holds only what is the same for everyone */
    scan_tree(r.cache, r.cache);
    free(t);
    run_free(&r);
}

/* ---- the kiosk ---- */

/* Start the kiosk with no audio device (it shows the words, with the audio's timing), keys on
 * a pipe; returns the pid and the pipe's writing end. */
static pid_t kiosk(struct run *r, const char *idle, int *keys)
{
    char log[PATH_MAX + 16], prompts[PATH_MAX + 16];
    snprintf(log, sizeof(log), "%s/kiosk.log", r->out);
    snprintf(prompts, sizeof(prompts), "%s/prompts", top);
    int p[2];
    tl_key_pipe(p);
    const char *argv[] = {"tonetree", "run", r->menu, "--prompts", prompts, "--cache", r->cache,
                          "--log", log, "--idle", idle, NULL};
    pid_t pid = tl_proc_start(&(struct tl_proc){.argv = argv, .in = p[0], .out = r->screen,
                                                .home = r->home, .tmp = r->tmp});
    close(p[0]);
    *keys = p[1];
    return pid;
}

/* Some seconds on, the screen still ends with the clear: nothing was shown after it (what it
 * holds from `from` on is printed if not). */
static void expect_nothing_after_the_clear(const char *screen, double secs, size_t from,
                                           const char *which)
{
    tl_sleep(secs);
    size_t n;
    char *b = tl_read_file(screen, &n);
    size_t cl = strlen(CLEAR);
    if (n < cl || memcmp(b + n - cl, CLEAR, cl))
        fail_msg("something was shown after %s:\n%s", which, b + (from < n ? from : n));
    free(b);
}

static void the_kiosk_shows_and_keeps_no_sensitive_entry_and_clears_at_the_end_key(void **state)
{
    (void)state;
    struct run r;
    run_init(&r, true);
    int keys;
    pid_t pid = kiosk(&r, "600", &keys);
    tl_wait_file(r.screen, "This line tells you", 0, 60); /* ready: prompts prepared */
    tl_type(keys, "1");
    tl_wait_file(r.screen, "Please enter your case number", 0, 20);
    tl_type(keys, ENTRY);
    tl_wait_file(r.screen, "You entered 8 digits.", 0, 20);
    tl_type(keys, "3"); /* hear them: read back, shown masked */
    tl_wait_file(r.screen, "You entered * * * *, * * * *.", 0, 20);
    tl_type(keys, "1");
    size_t answer = tl_wait_file(r.screen, ANSWER, 0, 30);
    tl_type(keys, "9"); /* the end key: wiped, the screen cleared at once */
    size_t clear = tl_wait_file(r.screen, CLEAR, answer, 20);
    /* and then nothing: the quick exit shows nothing about the topic until the next person */
    expect_nothing_after_the_clear(r.screen, 2.0, clear, "the end key's clear");
    tl_type(keys, "1"); /* the next person wakes it */
    size_t welcome = tl_wait_file(r.screen, "This line tells you", clear, 20);
    assert_true(answer < clear && clear < welcome);
    close(keys); /* the end of the keys ends the kiosk */
    int status = tl_proc_finish(pid, 30);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* the log: counts, and nothing of when anyone looked at what */
    char log[PATH_MAX + 16];
    snprintf(log, sizeof(log), "%s/kiosk.log", r.out);
    char *l = tl_slurp(log);
    if (!strstr(l, " stop: resets 1 by the end key, 0 left idle; lookups 1; audio underruns") ||
        !strstr(l, " ms; visits") ||
        !strstr(l, " hearing=1") || strstr(l, " go ") || strchr(l, '\n') != strrchr(l, '\n'))
        fail_msg("the log is not one line of counts:\n%s", l);
    free(l);
    scan(&r);
    run_free(&r);
}

static void an_idle_kiosk_clears_the_screen_at_once_without_waiting_for_a_key(void **state)
{
    (void)state;
    struct run r;
    run_init(&r, true);
    int keys;
    /* Five seconds: the key below must come before the kiosk forgets (the greeting is shown
     * at once, before the welcome). */
    pid_t pid = kiosk(&r, "5", &keys);
    tl_wait_file(r.screen, "To leave, press", 0, 60);
    tl_type(keys, "1");
    size_t asked = tl_wait_file(r.screen, "Please enter your case number", 0, 20);
    /* five seconds after the key, the kiosk forgets: the screen must be cleared now, while the
     * kiosk waits for the next person, not when they press a key */
    tl_wait_file(r.screen, CLEAR, asked, 20);
    expect_nothing_after_the_clear(r.screen, 0.5, asked, "the idle clear");
    close(keys);
    int status = tl_proc_finish(pid, 30);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    run_free(&r);
}

/* ---- the telephone line ---- */

#define LINE_RATE 16000

struct caller {
    int16_t *pcm;
    size_t n;
};

static void silence(struct caller *c, double s)
{
    size_t k = (size_t)(s * LINE_RATE);
    c->pcm = realloc(c->pcm, (c->n + k) * sizeof(*c->pcm));
    assert_non_null(c->pcm);
    memset(c->pcm + c->n, 0, k * sizeof(*c->pcm));
    c->n += k;
}

static void key(struct caller *c, char digit)
{
    size_t at = c->n;
    silence(c, 0.1);
    struct tt_dtmf_tone t = {.digit = digit, .low_dbm0 = -10, .high_dbm0 = -10};
    assert_int_equal(tt_dtmf_gen(c->pcm + at, (size_t)(0.1 * LINE_RATE), LINE_RATE, &t), 0);
    silence(c, 0.15);
}

static void the_line_leaves_no_trace_of_a_sensitive_entry(void **state)
{
    (void)state;
    struct run r;
    run_init(&r, true);
    /* the caller: 1 during the welcome, the case number, 1 to confirm during the read-back,
     * then (whatever the lookup says by then) 9 to end the call */
    struct caller c = {0};
    silence(&c, 1.0);
    key(&c, '1');
    silence(&c, 1.0);
    for (const char *d = ENTRY; *d; d++)
        key(&c, *d);
    silence(&c, 2.5);
    key(&c, '1');
    silence(&c, 20.0);
    key(&c, '9');
    silence(&c, 5.0);
    char in[PATH_MAX + 16], outraw[PATH_MAX + 16], conf[PATH_MAX + 16], tr[PATH_MAX + 16];
    snprintf(in, sizeof(in), "%s/IN.raw", r.dev);
    snprintf(outraw, sizeof(outraw), "%s/OUT.raw", r.dev);
    snprintf(conf, sizeof(conf), "%s/asound.conf", r.dev);
    snprintf(tr, sizeof(tr), "%s/transcript.txt", r.out);
    FILE *f = fopen(in, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(c.pcm, sizeof(*c.pcm), c.n, f), c.n);
    fclose(f);
    free(c.pcm);
    f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f,
            "pcm.!default {\n type file\n slave.pcm { type null }\n file \"%s\"\n"
            " infile \"%s\"\n format \"raw\"\n perm 0600\n}\n"
            "ctl.!default { type hw card 0 }\n",
            outraw, in);
    fclose(f);
    char prompts[PATH_MAX + 16];
    snprintf(prompts, sizeof(prompts), "%s/prompts", top);
    const char *argv[] = {"tonetree", "line", r.menu, "--prompts", prompts, "--cache", r.cache,
                          "--rate", "16000", "--hangup", "60", "--transcript", tr, NULL};
    int status = tl_proc_finish(tl_proc_start(&(struct tl_proc){.argv = argv, .in = -1,
                                                                .out = r.screen,
                                                                .home = r.home, .tmp = r.tmp,
                                                                .asound = conf}),
                                120);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *said = tl_slurp(r.screen);
        fail_msg("the line exited with status %#x; it said:\n%s", status, said);
    }
    char *t = tl_slurp(tr);
    if (!strstr(t, "You entered * * * *, * * * *.") || !strstr(t, "lookup hearing") ||
        !strstr(t, "Goodbye"))
        fail_msg("the call did not go as planned:\n%s", t);
    free(t);
    scan(&r);
    run_free(&r);
}

/* ---- the SIP service ---- */

/* A caller enters the case number by RFC 4733 events over SIP; the service's log, its
 * standard error, its metrics page, its cache and its temporary files never hold it. */
static void a_sip_call_leaves_no_trace_of_a_sensitive_entry(void **state)
{
    (void)state;
    struct run r;
    run_init(&r, true);
    int port = 0, metrics = 0;
    char log[PATH_MAX + 16], err[PATH_MAX + 16];
    snprintf(log, sizeof(log), "%s/calls.log", r.out);
    snprintf(err, sizeof(err), "%s/sip.err", r.out);
    char prompts[PATH_MAX + 16];
    snprintf(prompts, sizeof(prompts), "%s/prompts", top);
    /* G.711 at the normal speed only: a twentieth of the prompts to make, on the same path */
    /* ports 0: the system chooses free ones, and the service says which; RTP takes any free
     * port of its range */
    const char *argv[] = {"tonetree", "sip", r.menu, "--prompts", prompts,
                          "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0",
                          "--rtp-ports", "30000-59999", "--log", log, "--cache", r.cache,
                          "--narrowband", "--speeds", "normal", NULL};
    struct tl_proc p = {.argv = argv, .in = -1, .err = err, .home = r.home, .tmp = r.tmp};
    pid_t pid = tl_proc_start(&p);
    tl_sip_wait_ready(pid, err, 300.0, &port, &metrics);
    struct tl_sip c;
    tl_sip_open(&c, port, 0, metrics);
    struct tl_dialog d;
    assert_int_equal(tl_sip_call_up(&c, &d), 200);
    uint16_t seq = 1;
    uint32_t ts = 1000;
    uint8_t silence[160];
    memset(silence, 0xff, sizeof(silence)); /* PCMU silence: the caller's media is up */
    tl_sip_rtp(d.rtp, d.their_rtp, 0, seq++, ts, 0x5151, silence, sizeof(silence));
    tl_sleep(1.0);
    tl_sip_press_event(d.rtp, d.their_rtp, &seq, ts += 2000, 0x5151, 1);
    tl_sleep(1.5);
    for (const char *e = ENTRY; *e; e++) {
        tl_sip_press_event(d.rtp, d.their_rtp, &seq, ts += 2000, 0x5151, *e - '0');
        tl_sleep(0.05);
    }
    tl_sip_press_event(d.rtp, d.their_rtp, &seq, ts += 2000, 0x5151, 11); /* # */
    /* the lookup runs and its answer is said */
    assert_true(tl_sip_count_packets(d.rtp, 4.0) >= 100);
    char *page = tl_sip_metric_page(&c);
    const char *hit = find_entry(page, strlen(page));
    if (hit)
        fail_msg("the metrics page shows the entry: \"%.40s\"", hit);
    free(page);
    tl_sip_hang_up(&c, &d);
    tl_sip_close(&c);
    kill(pid, SIGTERM);
    int st = tl_proc_finish(pid, 30.0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* the digits were taken: the caller went to the hearing node, with no invalid key and no
     * timeout (a dropped digit would leave the entry short, and it would time out) */
    char *text = tl_slurp(log);
    print_message("%s", text);
    assert_non_null(strstr(text, "nodes=main>hearing"));
    assert_non_null(strstr(text, "invalid=0 timeouts=0"));
    free(text);
    scan(&r);
    run_free(&r);
}

int main(void)
{
    assert_non_null(getcwd(top, sizeof(top)));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(render_on_the_phone_leaves_no_trace_of_a_sensitive_entry),
        cmocka_unit_test(render_at_a_kiosk_leaves_no_trace_of_a_sensitive_entry),
        cmocka_unit_test(render_keeps_even_an_ordinary_entry_out_of_the_speech_cache),
        cmocka_unit_test(the_kiosk_shows_and_keeps_no_sensitive_entry_and_clears_at_the_end_key),
        cmocka_unit_test(an_idle_kiosk_clears_the_screen_at_once_without_waiting_for_a_key),
        cmocka_unit_test(the_line_leaves_no_trace_of_a_sensitive_entry),
        cmocka_unit_test(a_sip_call_leaves_no_trace_of_a_sensitive_entry),
    };
    if (getenv("TT_TEST")) /* one test by name (a pattern), to look at it alone */
        cmocka_set_test_filter(getenv("TT_TEST"));
    return cmocka_run_group_tests_name("privacy", tests, NULL, NULL);
}
