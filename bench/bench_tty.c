/*
 * TTY modem benchmark (dsp/tty.h), for the notes on issue 13:
 *
 *   1. Detection time: from the first tone of a caller's first keystroke to tt_tty_detected,
 *      in samples heard (so the machine's load does not enter it). The keystrokes are
 *      minimodem's (a shift and the key after 2 bits of mark: rule (a) of tty.h) and ours
 *      (150 ms of carrier first, as TTYs send it: rule (b)); alone, and at 24 places in
 *      synthesized speech whose echo is 20, 10, 6, 3 and 0 dB under the tones, where the
 *      share of keystrokes detected is given too.
 *   2. Characters per second sent, at 45.45 and 50 baud: a menu's words, digits and a text that
 *      shifts at every character; counted over the frames alone, and over the whole burst
 *      with its carrier before and after.
 *   3. CPU per second of audio: tt_tty_rx on 60 s of a line (noise at -50 dBm0 and a TTY
 *      character every 2 s) and tt_tty_tx on 60 s of text, 20 ms at a time; the thread's CPU
 *      time, median of 9 runs.
 *
 * minimodem (scripts/deps.sh installs it) runs as a process, bounded in time. Nothing is
 * asserted: the figures are printed, with medians, for the notes.
 * Run: make bench (or build/bench/bench_tty).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sndfile.h>

#include "bench.h"
#include "dsp/tty.h"
#include "prompt/audio.h"
#include "prompt/tts.h"

#define RATE TT_TTY_RATE
#define PERIOD 160 /* 20 ms */
#define RUNS 9

struct pcm {
    int16_t *s;
    size_t n, cap;
};

static void pcm_add(struct pcm *p, const int16_t *s, size_t n)
{
    if (p->n + n > p->cap) {
        p->cap = (p->n + n) * 2 + RATE;
        p->s = realloc(p->s, p->cap * sizeof(*p->s));
        if (!p->s) {
            perror("bench_tty");
            exit(1);
        }
    }
    if (s)
        memcpy(p->s + p->n, s, n * sizeof(*s));
    else
        memset(p->s + p->n, 0, n * sizeof(*s));
    p->n += n;
}

static void tone_span(const struct pcm *p, size_t *from, size_t *to)
{
    *from = 0;
    while (*from < p->n && !p->s[*from])
        (*from)++;
    *to = p->n;
    while (*to > *from && !p->s[*to - 1])
        (*to)--;
}

static int16_t clip(double x)
{
    return (int16_t)lrint(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
}

/* ---- the callers ---- */

static char tmpdir[64];

/* minimodem's tones for text (45.45 baud, its "tdd" mode), or false when it cannot run. */
static bool minimodem_send(const char *text, struct pcm *p)
{
    char in[128], wav[128];
    snprintf(in, sizeof(in), "%s/in.txt", tmpdir);
    snprintf(wav, sizeof(wav), "%s/mm.wav", tmpdir);
    FILE *f = fopen(in, "w");
    if (!f || fputs(text, f) < 0 || fclose(f))
        return false;
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (!pid) {
        int fd = open(in, O_RDONLY);
        int null = open("/dev/null", O_WRONLY);
        if (fd < 0 || null < 0)
            _exit(126);
        dup2(fd, 0);
        dup2(null, 1);
        dup2(null, 2);
        execl("/usr/bin/minimodem", "minimodem", "--tx", "-R", "8000", "-f", wav, "tdd",
              (char *)NULL);
        _exit(127);
    }
    int st = 0;
    double end = bench_now_ms() + 30000;
    while (waitpid(pid, &st, WNOHANG) != pid) {
        if (bench_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return false;
        }
        usleep(10000);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        return false;
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(wav, SFM_READ, &info);
    if (!sf)
        return false;
    int16_t *s = malloc((size_t)info.frames * sizeof(*s) + 1);
    sf_count_t got = s ? sf_readf_short(sf, s, info.frames) : 0;
    sf_close(sf);
    if (info.samplerate != RATE || info.channels != 1 || got != info.frames) {
        free(s);
        return false;
    }
    pcm_add(p, s, (size_t)got);
    free(s);
    return true;
}

/* Our own tones for text: a TTY that sends its carrier first. */
static void our_send(enum tt_tty_baud baud, const char *text, struct pcm *p)
{
    tt_tty *t = tt_tty_new(baud);
    tt_tty_put(t, text, strlen(text));
    int16_t buf[PERIOD];
    do {
        tt_tty_tx(t, buf, PERIOD);
        pcm_add(p, buf, PERIOD);
    } while (tt_tty_sending(t) || tt_tty_pending(t));
    tt_tty_free(t);
}

/* The samples heard before detection (0 when not detected), a period at a time. */
static uint64_t detect(const int16_t *s, size_t n)
{
    tt_tty *t = tt_tty_new(TT_TTY_45);
    char out[64];
    for (size_t i = 0; i < n; i += PERIOD)
        tt_tty_rx(t, s + i, n - i < PERIOD ? n - i : PERIOD, out, sizeof(out));
    struct tt_tty_stats st;
    tt_tty_get_stats(t, &st);
    tt_tty_free(t);
    return st.detected_at;
}

/* ---- 1. detection time ---- */

static const char *speech[] = {
    "This guide explains how to ask a court to drop a no-contact order. It is general "
    "information, not legal advice.",
    "To hear the steps, press one. To hear the warnings, press two. Press five to repeat, "
    "star to go back, and nine to end the call.",
    "There are five steps. Step one: examine your motives. Step two: talk to an advocate.",
};
#define NSPEECH (sizeof(speech) / sizeof(speech[0]))
#define PLACES 8 /* per text */

static bool speak(const char *text, struct pcm *p)
{
    tt_diag *d = tt_diag_new();
    struct tt_tts_voice v;
    int16_t *pcm = NULL, *at8 = NULL;
    size_t n, n8;
    int rate;
    bool ok = !tt_tts_voice_parse(&v, "flite:kal16", d) &&
              !tt_tts_speak(&v, text, 100, &pcm, &n, &rate, d) &&
              !tt_audio_resample(pcm, n, rate, RATE, &at8, &n8);
    if (ok)
        pcm_add(p, at8, n8);
    free(pcm);
    free(at8);
    tt_diag_free(d);
    return ok;
}

static double rms(const int16_t *s, size_t from, size_t to)
{
    double sum = 0;
    for (size_t i = from; i < to; i++)
        sum += (double)s[i] * s[i];
    return to > from ? sqrt(sum / (double)(to - from)) : 0;
}

/* One keystroke (its tones in key[from, to)), alone: the detection time in ms. */
static void detection_alone(const char *who, const struct pcm *key)
{
    size_t from, to;
    tone_span(key, &from, &to);
    uint64_t at = detect(key->s, key->n);
    if (at)
        printf("  %-44s detected %6.0f ms after its first tone\n", who,
               ((double)at - (double)from) * 1000.0 / RATE);
    else
        printf("  %-44s not detected\n", who);
}

/* The keystroke at PLACES places in each speech text, the echo `under` dB under it. */
static void detection_over_speech(const char *who, const struct pcm *key, double under,
                                  struct pcm *talk)
{
    size_t from, to;
    tone_span(key, &from, &to);
    double key_rms = rms(key->s, from, to);
    double ms[NSPEECH * PLACES];
    int n = 0, tries = 0;
    for (size_t i = 0; i < NSPEECH; i++) {
        double g = key_rms * pow(10.0, -under / 20.0) / rms(talk[i].s, 0, talk[i].n);
        for (int place = 0; place < PLACES; place++) {
            struct pcm p = {0};
            pcm_add(&p, NULL, talk[i].n);
            for (size_t k = 0; k < talk[i].n; k++)
                p.s[k] = clip(talk[i].s[k] * g);
            size_t at = talk[i].n / 10 + (size_t)place * (talk[i].n * 7 / 10 / PLACES);
            if (at + (to - from) > p.n)
                continue;
            for (size_t k = from; k < to; k++)
                p.s[at + k - from] = clip(p.s[at + k - from] + key->s[k]);
            tries++;
            uint64_t d = detect(p.s, p.n);
            if (d)
                ms[n++] = ((double)d - (double)at) * 1000.0 / RATE;
            free(p.s);
        }
    }
    if (n)
        printf("  %-26s echo %2.0f dB under: %2d of %2d detected, median %4.0f ms\n", who,
               under, n, tries, bench_median(ms, n));
    else
        printf("  %-26s echo %2.0f dB under: 0 of %d detected\n", who, under, tries);
}

static void detection_time(void)
{
    printf("1. Detection time, from the first tone of the first keystroke (45.45 baud)\n\n");
    struct pcm mm = {0}, ours = {0};
    bool have_mm = minimodem_send("1", &mm);
    our_send(TT_TTY_45, "1", &ours);
    if (have_mm)
        detection_alone("minimodem, key 1 (2 bits of mark, FIGS, 1)", &mm);
    else
        printf("  minimodem did not run: scripts/deps.sh installs it\n");
    detection_alone("ours, key 1 (165 ms of mark, FIGS, 1)", &ours);
    struct pcm talk[NSPEECH] = {{0}};
    for (size_t i = 0; i < NSPEECH; i++)
        if (!speak(speech[i], &talk[i])) {
            printf("  no speech (flite): the part over speech is left out\n");
            goto out;
        }
    /* the keystrokes at a caller's level: minimodem's full scale 20 dB down, -17 dBm0 */
    for (size_t k = 0; k < mm.n; k++)
        mm.s[k] = clip(mm.s[k] * 0.1);
    printf("\n  over synthesized speech (%d places in each of %zu texts):\n", PLACES, NSPEECH);
    static const double under[] = {20, 10, 6, 3, 0};
    for (size_t u = 0; u < sizeof(under) / sizeof(under[0]); u++) {
        if (have_mm)
            detection_over_speech("minimodem, key 1", &mm, under[u], talk);
        detection_over_speech("ours, key 1", &ours, under[u], talk);
    }
out:
    for (size_t i = 0; i < NSPEECH; i++)
        free(talk[i].s);
    free(mm.s);
    free(ours.s);
}

/* ---- 2. characters per second ---- */

static void chars_per_second(void)
{
    printf("\n2. Characters per second sent\n\n");
    static const struct {
        const char *name, *text;
    } texts[] = {
        {"a menu's words",
         "TO HEAR THE STEPS, PRESS 1. TO HEAR THE WARNINGS, PRESS 2. TO HEAR THIS AGAIN, "
         "PRESS 5. TO GO BACK, PRESS STAR. TO END THE CALL, PRESS 9. GA"},
        {"letters only", "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG AND RUNS AWAY FROM IT"},
        {"digits only", "01234567890123456789012345678901234567890123456789"},
        {"a shift at every character", "A1B2C3D4E5F6G7H8I9J0A1B2C3D4E5F6G7H8I9J0"},
    };
    printf("  %-28s %8s %16s %16s\n", "text", "chars", "45.45 baud", "50 baud");
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        size_t chars = strlen(texts[i].text);
        printf("  %-28s %8zu", texts[i].name, chars);
        for (int b = 0; b < 2; b++) {
            struct pcm p = {0};
            our_send(b ? TT_TTY_50 : TT_TTY_45, texts[i].text, &p);
            size_t from, to;
            tone_span(&p, &from, &to);
            /* the burst less its lead (about 165 ms) and hold (about 150 ms): measured as
             * the same burst for one character less its frames */
            struct pcm one = {0};
            our_send(b ? TT_TTY_50 : TT_TTY_45, "E", &one);
            size_t f1, t1;
            tone_span(&one, &f1, &t1);
            double bit = b ? 160.0 : 176.0;
            double carrier = (double)(t1 - f1) - 2 * 7.5 * bit; /* LTRS E */
            double burst = (double)(to - from) / RATE;
            double frames = ((double)(to - from) - carrier) / RATE;
            printf("   %5.2f (%5.2f)", (double)chars / frames, (double)chars / burst);
            free(p.s);
            free(one.s);
        }
        printf("\n");
    }
    printf("  (characters a second over the frames, and in brackets over the whole burst with "
           "its carrier before and after; shifts count as time, not as characters)\n");
}

/* ---- 3. CPU ---- */

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void cpu(void)
{
    printf("\n3. CPU per second of audio (this thread's CPU time, median of %d runs)\n\n", RUNS);
    /* 60 s of a line: noise at -50 dBm0, a TTY character (with its carrier) every 2 s */
    struct pcm line = {0};
    struct pcm ch = {0};
    our_send(TT_TTY_45, "1", &ch);
    uint64_t r = 12345;
    double sigma = 32768.0 * pow(10.0, (-50 - 3.14) / 20.0) / sqrt(2.0);
    while (line.n < 60 * RATE) {
        size_t at = line.n;
        pcm_add(&line, NULL, 2 * RATE);
        for (size_t k = 0; k < ch.n && at + k < line.n; k++)
            line.s[at + k] = ch.s[k];
        for (size_t k = at; k < line.n; k++) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            double u1 = ((double)(r >> 11) + 0.5) / 9007199254740992.0;
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            double u2 = ((double)(r >> 11) + 0.5) / 9007199254740992.0;
            line.s[k] = clip(line.s[k] + sigma * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
        }
    }
    double rx[RUNS], tx[RUNS];
    size_t chars = 0;
    for (int run = 0; run < RUNS; run++) {
        tt_tty *t = tt_tty_new(TT_TTY_45);
        char out[64];
        chars = 0;
        double t0 = cpu_ms();
        for (size_t i = 0; i < line.n; i += PERIOD)
            chars += tt_tty_rx(t, line.s + i, PERIOD, out, sizeof(out));
        rx[run] = (cpu_ms() - t0) / 60.0;
        tt_tty_free(t);

        t = tt_tty_new(TT_TTY_45);
        static char text[400];
        memset(text, 'E', sizeof(text) - 1); /* 60 s of frames: 400 characters is 66 s */
        tt_tty_put(t, text, strlen(text));
        int16_t buf[PERIOD];
        t0 = cpu_ms();
        for (size_t i = 0; i < 60 * RATE; i += PERIOD)
            tt_tty_tx(t, buf, PERIOD);
        tx[run] = (cpu_ms() - t0) / 60.0;
        tt_tty_free(t);
    }
    double mrx = bench_median(rx, RUNS), mtx = bench_median(tx, RUNS);
    printf("  receive (tt_tty_rx):  %6.3f ms of CPU a second of audio (%.3f%% of a core; "
           "%zu characters read of 30)\n",
           mrx, mrx / 10.0, chars);
    printf("  send (tt_tty_tx):     %6.3f ms of CPU a second of audio (%.3f%% of a core)\n", mtx,
           mtx / 10.0);
    free(line.s);
    free(ch.s);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/tonetree-bench-tty-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("bench_tty");
        return 1;
    }
    printf("TTY modem (dsp/tty.h): spandsp's FSK parts with our Baudot, shifts and detection\n\n");
    detection_time();
    chars_per_second();
    cpu();
    char path[128];
    snprintf(path, sizeof(path), "%s/in.txt", tmpdir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/mm.wav", tmpdir);
    unlink(path);
    rmdir(tmpdir);
    return 0;
}
