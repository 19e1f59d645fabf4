/*
 * DTMF receiver benchmark: ours beside spandsp's dtmf_rx, in the same run, on the same
 * signals.
 *
 *   1. Conformance: the rows of ITU-T Q.24 (North American figures) that tests/test_dtmf.c
 *      checks, each on 64 signals made here (16 digits, 4 random placements and phases); a
 *      row passes when every signal gives exactly the digits expected. Ours at 8, 16, 44.1
 *      and 48 kHz; spandsp at 8 kHz, the only rate it runs at.
 *   2. Talk-off: every WAV of Debian's asterisk-core-sounds-*-wav and asterisk-moh-opsound-wav
 *      (recorded prompts in five languages and music on hold, 8 kHz), false digits per hour.
 *   3. Speed: samples per second on 60 s of a line (noise and a digit every half second),
 *      median of 9 runs; and instructions per sample counted by valgrind's callgrind (the
 *      benchmark runs itself under callgrind, once per receiver, counting only inside the
 *      receiver's process call).
 *   4. The file path, whole process: 10 minutes of that line in an 8 kHz mono 16-bit WAV,
 *      through `build/tonetree dtmf FILE` and through build/bench/spandsp_dtmf_file (the
 *      plainest program doing the same with spandsp: libsndfile, dtmf_rx, print). Every
 *      instruction of each process by callgrind, start-up and reading included, and the
 *      median wall time of 5 runs; both must print the same digits.
 *
 * spandsp is loaded at run time (dlopen libspandsp.so.2), so this builds without it and says
 * so when it is missing; scripts/bench-deps.sh installs it, the corpus and valgrind. Nothing
 * is asserted: the numbers are printed for docs/dtmf.md.
 * Run: make bench (or build/bench/bench_dtmf; -v lists on stderr each signal a receiver gets
 * wrong; --file-path runs section 4 alone, and TONETREE=path has it measure another build).
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sndfile.h>

#include "dsp/dtmf.h"
#include "prompt/audio.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define TRIALS 4 /* placements per digit per row */
#define SPEED_SECONDS 60
#define SPEED_RUNS 9
#define FRAME_MS 20 /* what a telephony driver hands a receiver at a time */

static const char all_digits[] = "123A456B789C*0#D";
static bool verbose; /* -v: name each signal a receiver gets wrong */

/* ---- the receivers ---- */

enum kind { OURS_C, OURS_AVX2, SPANDSP };
static const char *kind_name[] = {"ours (portable)", "ours (AVX2)", "spandsp"};

/* spandsp 0.0.6's dtmf_rx, looked up at run time. */
typedef void (*span_digits_fn)(void *user, const char *digits, int len);
static void *(*span_init)(void *s, span_digits_fn cb, void *user);
static int (*span_rx)(void *s, const int16_t *amp, int samples);
static int (*span_free)(void *s);
static bool have_spandsp;

static void load_spandsp(void)
{
    void *lib = dlopen("libspandsp.so.2", RTLD_NOW);
    if (!lib)
        return;
    *(void **)&span_init = dlsym(lib, "dtmf_rx_init");
    *(void **)&span_rx = dlsym(lib, "dtmf_rx");
    *(void **)&span_free = dlsym(lib, "dtmf_rx_free");
    have_spandsp = span_init && span_rx && span_free;
}

struct heard {
    char d[256];
    size_t n;
};

static void heard_add(struct heard *h, char c)
{
    if (h->n + 1 < sizeof(h->d)) {
        h->d[h->n++] = c;
        h->d[h->n] = '\0';
    }
}

static void ours_digit(void *user, char digit, uint64_t start, double level)
{
    (void)start;
    (void)level;
    heard_add(user, digit);
}

static void span_digits(void *user, const char *digits, int len)
{
    for (int i = 0; i < len; i++)
        heard_add(user, digits[i]);
}

/* Run one receiver over samples, FRAME_MS at a time. Returns false when it cannot run. */
static bool listen(enum kind k, int rate, const int16_t *pcm, size_t n, struct heard *h)
{
    size_t frame = (size_t)rate * FRAME_MS / 1000;
    h->n = 0;
    h->d[0] = '\0';
    if (k == SPANDSP) {
        if (!have_spandsp || rate != 8000)
            return false;
        void *s = span_init(NULL, span_digits, h);
        if (!s)
            return false;
        for (size_t i = 0; i < n; i += frame)
            span_rx(s, pcm + i, (int)(n - i < frame ? n - i : frame));
        span_free(s);
        return true;
    }
    struct tt_dtmf rx;
    if (!tt_dtmf_init(&rx, rate, ours_digit, h))
        return false;
    if (tt_dtmf_set_simd(&rx, k == OURS_AVX2) != (k == OURS_AVX2))
        return false;
    for (size_t i = 0; i < n; i += frame)
        tt_dtmf_process(&rx, pcm + i, n - i < frame ? n - i : frame);
    tt_dtmf_free(&rx);
    return true;
}

/* ---- signals (as in tests/test_dtmf.c) ---- */

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(void)
{
    return sqrt(-2.0 * log(urand())) * cos(2.0 * M_PI * urand());
}

struct sig {
    int16_t *pcm;
    size_t n, cap;
    int rate;
};

static void sig_room(struct sig *s, size_t more)
{
    if (s->n + more > s->cap) {
        s->cap = (s->n + more) * 2;
        if (!(s->pcm = realloc(s->pcm, s->cap * sizeof(*s->pcm)))) {
            fputs("bench_dtmf: out of memory\n", stderr);
            exit(1);
        }
    }
}

static void sig_silence(struct sig *s, double ms)
{
    size_t k = (size_t)llround(ms * s->rate / 1000.0);
    sig_room(s, k);
    memset(s->pcm + s->n, 0, k * sizeof(*s->pcm));
    s->n += k;
}

static void sig_tone(struct sig *s, char digit, double low, double high, double low_dev,
                     double high_dev, double ms)
{
    size_t k = (size_t)llround(ms * s->rate / 1000.0);
    sig_room(s, k);
    memset(s->pcm + s->n, 0, k * sizeof(*s->pcm));
    struct tt_dtmf_tone t = {digit, low, high, low_dev, high_dev, 2 * M_PI * urand(),
                             2 * M_PI * urand()};
    tt_dtmf_gen(s->pcm + s->n, k, s->rate, &t);
    s->n += k;
}

static void sig_noise(struct sig *s, double low, double high, double snr_db)
{
    double al = tt_dtmf_dbm0_to_amplitude(low), ah = tt_dtmf_dbm0_to_amplitude(high);
    double sd = sqrt((al * al + ah * ah) / 2.0 / pow(10.0, snr_db / 10.0));
    for (size_t i = 0; i < s->n; i++) {
        double v = s->pcm[i] + sd * gauss();
        s->pcm[i] = v >= 32767 ? 32767 : v <= -32768 ? -32768 : (int16_t)lrint(v);
    }
}

/* ---- 1. conformance ---- */

enum row_id {
    DEV15_BOTH, DEV15_ONE, DEV35_BOTH, DEV35_ONE, TWIST_P4, TWIST_M8, TWIST_P8, TWIST_M12,
    MS40, MS20, LEVEL26, LEVEL26_TWIST, LEVEL55, SNR15, HELD, GAP40, BREAK10, SEQUENCE, NROWS
};

static const char *row_name[NROWS] = {
    "accept: both tones +-1.5%",        "accept: one tone +-1.5%",
    "reject: both tones +-3.5%",        "reject: one tone +-3.5%",
    "accept: twist +4 dB",              "accept: twist -8 dB",
    "reject: twist +8 dB (our choice)", "reject: twist -12 dB (our choice)",
    "accept: 40 ms tone",               "reject: 20 ms tone",
    "accept: -26 dBm0 per tone",        "accept: -26/-34 dBm0 (twist -8)",
    "reject: -55 dBm0 per tone",        "accept: 15 dB SNR",
    "held 1 s: reported once",          "40 ms gap: reported twice",
    "10 ms break: reported once",       "16 digits 50/50 ms: exact",
};

/* Signal number `trial` of a row at a rate (the same signal for every receiver at a rate),
 * and the digits it must give. */
static void make_trial(enum row_id row, int trial, int rate, struct sig *s, char *want)
{
    char d = all_digits[trial % 16];
    int v = trial / 16; /* 0..TRIALS-1: which variant */
    double sign = v % 2 ? -1 : 1;
    *s = (struct sig){.rate = rate};
    rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(row * 1000 + trial + 1) + (uint64_t)rate;
    sig_silence(s, 100 + 13 * urand());
    want[0] = d;
    want[1] = '\0';
    switch (row) {
    case DEV15_BOTH:
    case DEV35_BOTH: {
        double dev = row == DEV15_BOTH ? 0.015 : 0.035;
        sig_tone(s, d, -10, -10, sign * dev, (v / 2 ? -sign : sign) * dev, 50);
        break;
    }
    case DEV15_ONE:
    case DEV35_ONE: {
        double dev = (row == DEV15_ONE ? 0.015 : 0.035) * sign;
        sig_tone(s, d, -10, -10, v / 2 ? dev : 0, v / 2 ? 0 : dev, 50);
        break;
    }
    case TWIST_P4: sig_tone(s, d, -14, -10, 0, 0, 50); break;
    case TWIST_M8: sig_tone(s, d, -10, -18, 0, 0, 50); break;
    case TWIST_P8: sig_tone(s, d, -18, -10, 0, 0, 50); break;
    case TWIST_M12: sig_tone(s, d, -10, -22, 0, 0, 50); break;
    case MS40: sig_tone(s, d, -10, -10, 0, 0, 40); break;
    case MS20: sig_tone(s, d, -10, -10, 0, 0, 20); break;
    case LEVEL26: sig_tone(s, d, -26, -26, 0, 0, 50); break;
    case LEVEL26_TWIST: sig_tone(s, d, -26, -34, 0, 0, 50); break;
    case LEVEL55: sig_tone(s, d, -55, -55, 0, 0, 50); break;
    case SNR15:
        sig_tone(s, d, -10, -10, 0, 0, 50);
        sig_silence(s, 80);
        sig_noise(s, -10, -10, 15);
        break;
    case HELD:
        sig_tone(s, d, -10, -10, 0, 0, 1000);
        sig_silence(s, 80);
        sig_noise(s, -10, -10, 15);
        break;
    case GAP40:
        sig_tone(s, d, -10, -10, 0, 0, 50);
        sig_silence(s, 40);
        sig_tone(s, d, -10, -10, 0, 0, 50);
        want[1] = d;
        want[2] = '\0';
        break;
    case BREAK10: {
        size_t at = s->n;
        sig_tone(s, d, -10, -10, 0, 0, 150);
        size_t from = at + (size_t)((60 + 13 * urand()) * rate / 1000);
        memset(s->pcm + from, 0, (size_t)rate / 100 * sizeof(*s->pcm));
        break;
    }
    case SEQUENCE:
        for (int i = 0; i < 16; i++) {
            sig_tone(s, all_digits[i], -10, -10, 0, 0, 50);
            sig_silence(s, 50);
        }
        strcpy(want, all_digits);
        break;
    case NROWS: break;
    }
    if (row == MS20 || row == DEV35_BOTH || row == DEV35_ONE || row == TWIST_P8 ||
        row == TWIST_M12 || row == LEVEL55)
        want[0] = '\0';
    sig_silence(s, 80);
}

static void conformance(void)
{
    static const int rates[] = {8000, 16000, 44100, 48000};
    enum { COLS = 5 };
    printf("\n1. Conformance (ITU-T Q.24, North America): a row passes when all %d signals "
           "give exactly the digits expected\n\n",
           16 * TRIALS);
    printf("%-36s %-10s %-10s %-10s %-10s %-10s\n", "row", "ours 8k", "ours 16k", "ours 44.1k",
           "ours 48k", "spandsp 8k");
    int failed[COLS] = {0};
    char span_fails[512] = "";
    for (int row = 0; row < NROWS; row++) {
        printf("%-36s", row_name[row]);
        for (int col = 0; col < COLS; col++) {
            int rate = rates[col < 4 ? col : 0];
            enum kind k = col < 4 ? OURS_AVX2 : SPANDSP;
            if (k == OURS_AVX2 && !tt_dtmf_have_avx2())
                k = OURS_C;
            int ok = 0, n = 0;
            bool ran = true;
            for (int t = 0; t < 16 * TRIALS; t++) {
                struct sig s;
                char want[32];
                struct heard h;
                make_trial((enum row_id)row, t, rate, &s, want);
                ran = listen(k, rate, s.pcm, s.n, &h);
                free(s.pcm);
                if (!ran)
                    break;
                n++;
                ok += !strcmp(h.d, want);
                if (verbose && strcmp(h.d, want))
                    fprintf(stderr, "%s at %d Hz, %s, signal %d: heard \"%s\", expected \"%s\"\n",
                            kind_name[k], rate, row_name[row], t, h.d, want);
            }
            char cell[32];
            if (!ran)
                snprintf(cell, sizeof(cell), "n/a");
            else if (ok == n)
                snprintf(cell, sizeof(cell), "pass");
            else
                snprintf(cell, sizeof(cell), "FAIL %d/%d", n - ok, n);
            if (ran && ok != n) {
                failed[col]++;
                if (col == 4)
                    snprintf(span_fails + strlen(span_fails), sizeof(span_fails) - strlen(span_fails),
                             "%s\"%s\"", span_fails[0] ? ", " : "", row_name[row]);
            }
            printf(" %-10s", cell);
        }
        printf("\n");
    }
    printf("\nrows failed: ours %d/%d/%d/%d (8/16/44.1/48 kHz), spandsp %d of %d", failed[0],
           failed[1], failed[2], failed[3], failed[4], NROWS);
    if (!have_spandsp)
        printf(" (spandsp not installed: scripts/bench-deps.sh installs libspandsp-dev)");
    printf("\n");
    if (span_fails[0])
        printf("spandsp fails: %s\n", span_fails);
}

/* ---- 2. talk-off ---- */

struct corpus {
    char name[64];
    double seconds;
    size_t files;
    size_t false_digits[3];
};

#define MAX_CORPORA 16
static struct corpus corpora[MAX_CORPORA];
static size_t ncorpora;
static const char *corpus_root;
static size_t listed_hits;

static struct corpus *corpus_for(const char *path)
{
    /* the first folder under the root: a language's voice, or moh */
    const char *rest = path + strlen(corpus_root);
    while (*rest == '/')
        rest++;
    const char *slash = strchr(rest, '/');
    char name[64];
    if (slash)
        snprintf(name, sizeof(name), "%.*s", (int)(slash - rest), rest);
    else
        snprintf(name, sizeof(name), "%s", strrchr(corpus_root, '/') + 1);
    for (size_t i = 0; i < ncorpora; i++)
        if (!strcmp(corpora[i].name, name))
            return &corpora[i];
    if (ncorpora == MAX_CORPORA)
        return &corpora[MAX_CORPORA - 1];
    struct corpus *c = &corpora[ncorpora++];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    return c;
}

static int one_file(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    size_t len = strlen(path);
    if (type != FTW_F || len < 4 || strcasecmp(path + len - 4, ".wav"))
        return 0;
    int16_t *pcm;
    size_t n;
    char why[256];
    if (tt_audio_load(path, 8000, &pcm, &n, why, sizeof(why)))
        return 0; /* silent or unreadable: not part of the corpus */
    struct corpus *c = corpus_for(path);
    c->seconds += (double)n / 8000;
    c->files++;
    for (int k = 0; k < 3; k++) {
        struct heard h;
        if (k == OURS_C || !listen((enum kind)k, 8000, pcm, n, &h))
            continue;
        c->false_digits[k] += h.n;
        if (h.n && listed_hits < 12) {
            listed_hits++;
            printf("  %s hears \"%s\" in %s\n", kind_name[k], h.d, path);
        }
    }
    free(pcm);
    return 0;
}

static void talk_off(void)
{
    static const char *roots[] = {"/usr/share/asterisk/sounds", "/usr/share/asterisk/moh"};
    printf("\n2. Talk-off: false digits in recorded speech and music (8 kHz)\n\n");
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        corpus_root = roots[i];
        if (access(roots[i], R_OK) == 0)
            nftw(roots[i], one_file, 16, FTW_PHYS);
    }
    if (!ncorpora) {
        printf("no corpus: scripts/bench-deps.sh installs asterisk-core-sounds-*-wav and "
               "asterisk-moh-opsound-wav\n");
        return;
    }
    printf("\n%-22s %6s %8s %14s %14s\n", "corpus", "files", "hours", "ours (AVX2)",
           "spandsp");
    struct corpus all = {.name = "all"};
    for (size_t i = 0; i <= ncorpora; i++) {
        struct corpus *c = i < ncorpora ? &corpora[i] : &all;
        if (i < ncorpora) {
            all.seconds += c->seconds;
            all.files += c->files;
            for (int k = 0; k < 3; k++)
                all.false_digits[k] += c->false_digits[k];
        }
        char sp[32];
        if (have_spandsp)
            snprintf(sp, sizeof(sp), "%zu", c->false_digits[SPANDSP]);
        else
            snprintf(sp, sizeof(sp), "n/a");
        printf("%-22s %6zu %8.2f %14zu %14s\n", c->name, c->files, c->seconds / 3600,
               c->false_digits[OURS_AVX2], sp);
    }
    double hours = all.seconds / 3600;
    printf("\nfalse digits per hour: ours %.2f", (double)all.false_digits[OURS_AVX2] / hours);
    if (have_spandsp)
        printf(", spandsp %.2f", (double)all.false_digits[SPANDSP] / hours);
    printf(" (%.2f hours)\n", hours);
}

/* ---- 3. speed ---- */

/* 60 s of a line: noise at -40 dBm0, and a digit of 50 ms every 500 ms at -10 dBm0. */
static void make_line(int rate, struct sig *s)
{
    *s = (struct sig){.rate = rate};
    rng = 12345;
    for (int i = 0; i < SPEED_SECONDS * 2; i++) {
        sig_tone(s, all_digits[i % 16], -10, -12, 0, 0, 50);
        sig_silence(s, 450);
    }
    sig_noise(s, -40, -40, 0);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Samples per second, median of SPEED_RUNS; 0 when the receiver cannot run here. */
static double throughput(enum kind k, const struct sig *s)
{
    double t[SPEED_RUNS];
    struct heard h;
    for (int r = 0; r < SPEED_RUNS; r++) {
        double t0 = now_s();
        if (!listen(k, s->rate, s->pcm, s->n, &h))
            return 0;
        t[r] = now_s() - t0;
    }
    return (double)s->n / median(t, SPEED_RUNS);
}

/* The child side: process the line once, for callgrind to count. */
static int callgrind_one(const char *which, int rate)
{
    enum kind k = !strcmp(which, "spandsp") ? SPANDSP : !strcmp(which, "avx2") ? OURS_AVX2 : OURS_C;
    struct sig s;
    struct heard h;
    make_line(rate, &s);
    bool ok = listen(k, rate, s.pcm, s.n, &h);
    free(s.pcm);
    return ok && h.n == SPEED_SECONDS * 2 ? 0 : 3;
}

static bool in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        size_t len = strcspn(path, ":");
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, prog);
        if (access(buf, X_OK) == 0)
            return true;
        path += len + (path[len] == ':');
    }
    return false;
}

/* The instructions a callgrind output file counted (then removed), or -1. */
static double callgrind_total(const char *path)
{
    FILE *f = fopen(path, "r");
    double total = -1;
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        long long v;
        if (sscanf(line, "totals: %lld", &v) == 1 || sscanf(line, "summary: %lld", &v) == 1)
            total = (double)v;
    }
    if (f)
        fclose(f);
    remove(path);
    return total;
}

/* Instructions per sample in the receiver's process call, by callgrind; -1 if unknown. */
static double instructions(const char *self, enum kind k, int rate)
{
    static const char *which[] = {"portable", "avx2", "spandsp"};
    char out[64], toggle[64], rate_s[16];
    snprintf(out, sizeof(out), "/tmp/bench_dtmf.%d.callgrind", (int)getpid());
    snprintf(out + strlen(out), sizeof(out) - strlen(out), ".%d", k);
    char outopt[96];
    snprintf(outopt, sizeof(outopt), "--callgrind-out-file=%s", out);
    snprintf(toggle, sizeof(toggle), "--toggle-collect=%s",
             k == SPANDSP ? "dtmf_rx" : "tt_dtmf_process");
    snprintf(rate_s, sizeof(rate_s), "%d", rate);
    fflush(stdout); /* or the child would print what is buffered again */
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        FILE *null = freopen("/dev/null", "w", stderr);
        (void)null;
        execlp("valgrind", "valgrind", "--tool=callgrind", outopt, toggle, self,
               "--callgrind-one", which[k], rate_s, (char *)NULL);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
        remove(out);
        return -1;
    }
    double total = callgrind_total(out);
    return total < 0 ? -1 : total / ((double)rate * SPEED_SECONDS);
}

static void speed(const char *self)
{
    printf("\n3. Speed: %d s of a line (noise, a digit every 500 ms), %d ms frames\n\n",
           SPEED_SECONDS, FRAME_MS);
    bool grind = in_path("valgrind");
    printf("%-18s %6s %16s %14s %18s\n", "receiver", "rate", "samples/s", "channels/core",
           "instructions/sample");
    double ips[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}}, sps[3][2] = {{0}};
    static const int rates[] = {8000, 48000};
    for (int r = 0; r < 2; r++) {
        struct sig s;
        make_line(rates[r], &s);
        for (int k = 0; k < 3; k++) {
            if ((k == OURS_AVX2 && !tt_dtmf_have_avx2()) || (k == SPANDSP && (!have_spandsp || r)))
                continue;
            sps[k][r] = throughput((enum kind)k, &s);
            if (grind)
                ips[k][r] = instructions(self, (enum kind)k, rates[r]);
            char ipsc[32] = "n/a";
            if (ips[k][r] >= 0)
                snprintf(ipsc, sizeof(ipsc), "%.1f", ips[k][r]);
            printf("%-18s %6d %16.3g %14.0f %18s\n", kind_name[k], rates[r], sps[k][r],
                   sps[k][r] / rates[r], ipsc);
        }
        free(s.pcm);
    }
    if (!grind)
        printf("(valgrind not installed: scripts/bench-deps.sh installs it)\n");
    if (have_spandsp && sps[SPANDSP][0] > 0) {
        printf("\nat 8 kHz, against spandsp: ");
        for (int k = 0; k < 2; k++) {
            if (sps[k][0] <= 0)
                continue;
            printf("%s%s %.1fx the samples per second", k ? "; " : "", kind_name[k],
                   sps[k][0] / sps[SPANDSP][0]);
            if (ips[k][0] > 0 && ips[SPANDSP][0] > 0)
                printf(", %.1fx fewer instructions", ips[SPANDSP][0] / ips[k][0]);
        }
        printf("\n");
    }
}

/* ---- 4. the file path ---- */

#define FILE_SECONDS 600

/* Run argv to its end with stdout into out_path; callgrind when grind. The whole process's
 * instruction count, or -1 (and the wall time in *secs when not under callgrind). */
static double run_counted(char *const argv[], const char *out_path, bool grind, double *secs)
{
    char cg[96], cgopt[128];
    snprintf(cg, sizeof(cg), "/tmp/bench_dtmf.%d.whole", (int)getpid());
    snprintf(cgopt, sizeof(cgopt), "--callgrind-out-file=%s", cg);
    fflush(stdout); /* or the child would print what is buffered again */
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (!freopen(out_path, "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(127);
        if (grind) {
            char *v[8] = {"valgrind", "--tool=callgrind", cgopt};
            size_t n = 3;
            for (size_t i = 0; argv[i] && n < 7; i++)
                v[n++] = argv[i];
            v[n] = NULL;
            execvp("valgrind", v);
        } else {
            execv(argv[0], argv);
        }
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
        return -1;
    if (secs)
        *secs = now_s() - t0;
    if (!grind)
        return 0;
    return callgrind_total(cg);
}

static bool same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
    bool same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static void file_path(void)
{
    printf("\n4. The file path, whole process: %d min of the line as an 8 kHz mono 16-bit WAV\n\n",
           FILE_SECONDS / 60);
    char wav[64], out_ours[64], out_ref[64];
    snprintf(wav, sizeof(wav), "/tmp/bench_dtmf.%d.wav", (int)getpid());
    snprintf(out_ours, sizeof(out_ours), "/tmp/bench_dtmf.%d.ours", (int)getpid());
    snprintf(out_ref, sizeof(out_ref), "/tmp/bench_dtmf.%d.ref", (int)getpid());
    struct sig s = {.rate = 8000};
    rng = 12345;
    for (int i = 0; i < FILE_SECONDS * 2; i++) {
        sig_tone(&s, all_digits[i % 16], -10, -12, 0, 0, 50);
        sig_silence(&s, 450);
    }
    sig_noise(&s, -40, -40, 0);
    SF_INFO info = {.samplerate = 8000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(wav, SFM_WRITE, &info);
    if (!f || sf_writef_short(f, s.pcm, (sf_count_t)s.n) != (sf_count_t)s.n) {
        printf("cannot write %s\n", wav);
        if (f)
            sf_close(f);
        free(s.pcm);
        return;
    }
    sf_close(f);
    free(s.pcm);
    /* TONETREE=path measures another build (an older one, for a before-and-after) */
    char *ours[] = {getenv("TONETREE") ? getenv("TONETREE") : "build/tonetree", "dtmf", wav, NULL};
    char *ref[] = {"build/bench/spandsp_dtmf_file", wav, NULL};
    bool have_ref = access(ref[0], X_OK) == 0, grind = in_path("valgrind");
    double t_ours[5], t_ref[5];
    bool ok = true;
    for (int i = 0; i < 5 && ok; i++) {
        ok = run_counted(ours, out_ours, false, &t_ours[i]) == 0;
        if (ok && have_ref)
            ok = run_counted(ref, out_ref, false, &t_ref[i]) == 0;
    }
    if (!ok) {
        printf("a run failed (is build/tonetree built?)\n");
        goto out;
    }
    double i_ours = grind ? run_counted(ours, out_ours, true, NULL) : -1;
    double i_ref = grind && have_ref ? run_counted(ref, out_ref, true, NULL) : -1;
    double n = (double)FILE_SECONDS * 8000;
    printf("%-34s %14s %12s %12s\n", "program", "instructions", "per sample", "wall (med)");
    printf("%-34s %14.4g %12.1f %10.3f s\n", "tonetree dtmf FILE", i_ours, i_ours / n,
           median(t_ours, 5));
    if (have_ref) {
        printf("%-34s %14.4g %12.1f %10.3f s\n", "spandsp_dtmf_file FILE (reference)", i_ref,
               i_ref / n, median(t_ref, 5));
        printf("\nthe same digits: %s; tonetree dtmf: %.1fx fewer instructions, %.1fx the speed\n",
               same_file(out_ours, out_ref) ? "yes" : "NO",
               i_ours > 0 && i_ref > 0 ? i_ref / i_ours : 0.0,
               median(t_ref, 5) / median(t_ours, 5));
    } else {
        printf("(build/bench/spandsp_dtmf_file is missing: make bench builds it)\n");
    }
    if (!grind)
        printf("(valgrind not installed: scripts/bench-deps.sh installs it)\n");
out:
    remove(wav);
    remove(out_ours);
    remove(out_ref);
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--callgrind-one")) {
        load_spandsp();
        return callgrind_one(argv[2], atoi(argv[3]));
    }
    if (argc == 2 && !strcmp(argv[1], "--file-path")) { /* section 4 alone */
        file_path();
        return 0;
    }
    verbose = argc > 1 && !strcmp(argv[1], "-v");
    load_spandsp();
    printf("DTMF receivers: ours (%s kernel here) and %s\n",
           tt_dtmf_have_avx2() ? "AVX2" : "portable",
           have_spandsp ? "spandsp's dtmf_rx (libspandsp.so.2)" : "no spandsp (not installed)");
    conformance();
    talk_off();
    /* callgrind runs this program again: by its real path, whatever the current folder */
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len > 0)
        self[len] = '\0';
    else
        snprintf(self, sizeof(self), "%s", argv[0]);
    speed(self);
    file_path();
    return 0;
}
