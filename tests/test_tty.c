/*
 * The TTY modem (dsp/tty.h) against minimodem, a TTY modem nobody here wrote, through 8 kHz WAV
 * files: text we send, read by minimodem, and text minimodem sends, read by us, at 45.45 and
 * 50 baud, clean and with the level 20 dB down and noise added. Then detection: minimodem's
 * keystrokes are detected, alone and over synthesized speech; the talk-off corpus (Debian's
 * asterisk-core-sounds-en-wav and asterisk-moh-opsound-wav, about 45 minutes of speech and
 * music), synthesized speech and DTMF digits are not. Then half duplex: the caller's carrier,
 * flush, and the echo guard. Last, spandsp 0.0.6's own V.18 5-bit mode on the same round
 * trips: the evidence for why dsp/tty.c takes only spandsp's FSK parts. Those tests assert
 * spandsp's wrong behaviour, so that a spandsp that has been fixed fails them and we look
 * again.
 *
 * minimodem runs as a process of its own, with its files in a temporary folder, bounded in
 * time (tests/proclib.h). Noise comes from a fixed seed: the same signals every run.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <spandsp.h>

#include "dsp/dtmf.h"
#include "dsp/tty.h"
#include "prompt/audio.h"
#include "prompt/tts.h"
#include "proclib.h"
#include "testlib.h"

#define RATE TT_TTY_RATE
#define MINIMODEM "/usr/bin/minimodem"

static char *dir; /* this run's temporary folder */

/* ---- sample buffers ---- */

struct pcm {
    int16_t *s;
    size_t n, cap;
};

static void pcm_add(struct pcm *p, const int16_t *s, size_t n)
{
    if (p->n + n > p->cap) {
        p->cap = (p->n + n) * 2 + 8000;
        p->s = realloc(p->s, p->cap * sizeof(*p->s));
        assert_non_null(p->s);
    }
    if (s)
        memcpy(p->s + p->n, s, n * sizeof(*s));
    else
        memset(p->s + p->n, 0, n * sizeof(*s));
    p->n += n;
}

static void pcm_silence(struct pcm *p, double seconds)
{
    pcm_add(p, NULL, (size_t)lrint(seconds * RATE));
}

/* The first and last samples that are not silent (minimodem writes exact zeros around its
 * tones, and so do we). */
static void tone_span(const struct pcm *p, size_t *from, size_t *to)
{
    *from = 0;
    while (*from < p->n && !p->s[*from])
        (*from)++;
    *to = p->n;
    while (*to > *from && !p->s[*to - 1])
        (*to)--;
}

/* Scale by gain_db, then add white noise snr_db below the signal's power over its tones (the
 * samples that are not silent): everywhere, or only from the first tone to the last. */
static void pcm_degrade(struct pcm *p, double gain_db, double snr_db, bool only_tones)
{
    double g = pow(10.0, gain_db / 20.0), sum = 0;
    size_t loud = 0;
    for (size_t i = 0; i < p->n; i++) {
        double x = p->s[i] * g;
        p->s[i] = (int16_t)lrint(x);
        if (fabs(x) > 0) {
            sum += x * x;
            loud++;
        }
    }
    double sigma = sqrt(sum / (double)(loud ? loud : 1) / pow(10.0, snr_db / 10.0));
    size_t from = 0, to = p->n;
    if (only_tones)
        tone_span(p, &from, &to);
    for (size_t i = from; i < to; i++) {
        double x = p->s[i] + sigma * tl_gauss();
        p->s[i] = (int16_t)lrint(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
    }
}

/* ---- minimodem ---- */

/* How minimodem is told each kind of signal. Its "tdd" mode is 45.45 baud, mark 1400 Hz,
 * space 1800 Hz, Baudot with 2 stop bits; real TTYs send 1.5 (and some 1), so the receiving
 * tests have minimodem send all three. 50 baud has no mode of its own: Baudot, the tones and
 * the stop bits are given. */
struct mm_mode {
    const char *name;
    enum tt_tty_baud baud;
    const char *args[9];
};

static const struct mm_mode mm45 = {"45.45 baud, 2 stop bits", TT_TTY_45, {"tdd"}};
static const struct mm_mode mm45_15 = {"45.45 baud, 1.5 stop bits", TT_TTY_45,
                                       {"--stopbits", "1.5", "tdd"}};
static const struct mm_mode mm45_1 = {"45.45 baud, 1 stop bit", TT_TTY_45,
                                      {"--stopbits", "1.0", "tdd"}};
static const struct mm_mode mm50 = {
    "50 baud, 1.5 stop bits", TT_TTY_50,
    {"--baudot", "-M", "1400", "-S", "1800", "--stopbits", "1.5", "50"}};
static const struct mm_mode mm50_2 = {
    "50 baud, 2 stop bits", TT_TTY_50,
    {"--baudot", "-M", "1400", "-S", "1800", "--stopbits", "2.0", "50"}};
static const struct mm_mode mm50_1 = {
    "50 baud, 1 stop bit", TT_TTY_50,
    {"--baudot", "-M", "1400", "-S", "1800", "--stopbits", "1.0", "50"}};

/* Run minimodem with these arguments (after its name), its standard input from a file holding
 * `in` (NULL: none); its standard output, which the test frees. */
static char *minimodem(const char *const *args, const char *in)
{
    char inpath[512], outpath[512], errpath[512];
    snprintf(inpath, sizeof(inpath), "%s/mm.in", dir);
    snprintf(outpath, sizeof(outpath), "%s/mm.out", dir);
    snprintf(errpath, sizeof(errpath), "%s/mm.err", dir);
    int fd = -1;
    if (in) {
        FILE *f = fopen(inpath, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(in, 1, strlen(in), f), strlen(in));
        assert_int_equal(fclose(f), 0);
        fd = open(inpath, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
    }
    const char *argv[24] = {"minimodem"};
    size_t k = 1;
    for (; args[k - 1]; k++) {
        assert_true(k < 23);
        argv[k] = args[k - 1];
    }
    argv[k] = NULL;
    struct tl_proc p = {.argv = argv, .in = fd, .out = outpath, .err = errpath, .bin = MINIMODEM};
    pid_t pid = tl_proc_start(&p);
    if (fd >= 0)
        close(fd);
    int st = tl_proc_finish(pid, 60);
    size_t n;
    char *out = tl_read_file(outpath, &n);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) {
        char *err = tl_read_file(errpath, &n);
        fail_msg("minimodem failed (status %d): %s", st, err);
    }
    return out;
}

/* minimodem's tones for text, in 8 kHz samples. */
static void mm_send(const struct mm_mode *m, const char *text, struct pcm *p)
{
    char wav[512];
    snprintf(wav, sizeof(wav), "%s/mm-tx.wav", dir);
    const char *args[16] = {"--tx", "-R", "8000", "-f", wav};
    size_t k = 5;
    for (size_t i = 0; m->args[i]; i++)
        args[k++] = m->args[i];
    args[k] = NULL;
    free(minimodem(args, text));
    size_t n;
    int rate;
    int16_t *s = tl_read_wav(wav, &n, &rate);
    assert_int_equal(rate, RATE);
    pcm_add(p, s, n);
    free(s);
}

/* What minimodem reads in these samples (-q: the text alone). */
static char *mm_hear(const struct mm_mode *m, const struct pcm *p)
{
    char wav[512];
    snprintf(wav, sizeof(wav), "%s/mm-rx.wav", dir);
    tl_write_wav(wav, p->s, p->n, RATE);
    const char *args[16] = {"--rx", "-q", "-f", wav};
    size_t k = 4;
    for (size_t i = 0; m->args[i]; i++)
        args[k++] = m->args[i];
    args[k] = NULL;
    return minimodem(args, NULL);
}

/* ---- our modem ---- */

#define PERIOD 160 /* 20 ms, what a telephony driver hands over at a time */

/* Our tones for text: 0.3 s of silence, the burst, 0.3 s of silence. */
static void our_send(enum tt_tty_baud baud, const char *text, size_t len, struct pcm *p)
{
    tt_tty *t = tt_tty_new(baud);
    assert_non_null(t);
    assert_int_equal(tt_tty_put(t, text, len), 0);
    pcm_silence(p, 0.3);
    int16_t buf[PERIOD];
    size_t periods = 0;
    do {
        tt_tty_tx(t, buf, PERIOD);
        pcm_add(p, buf, PERIOD);
        assert_true(++periods < 100000);
    } while (tt_tty_sending(t) || tt_tty_pending(t));
    pcm_silence(p, 0.3);
    tt_tty_free(t);
}

struct heard {
    char text[2048];
    size_t n;
    struct tt_tty_stats st;
    bool detected;
};

/* What we read in these samples, handed over a period at a time. */
static void our_hear(enum tt_tty_baud baud, const int16_t *s, size_t n, struct heard *h)
{
    memset(h, 0, sizeof(*h));
    tt_tty *t = tt_tty_new(baud);
    assert_non_null(t);
    for (size_t i = 0; i < n; i += PERIOD) {
        size_t k = n - i < PERIOD ? n - i : PERIOD;
        h->n += tt_tty_rx(t, s + i, k, h->text + h->n, sizeof(h->text) - 1 - h->n);
    }
    h->text[h->n] = '\0';
    h->detected = tt_tty_detected(t);
    tt_tty_get_stats(t, &h->st);
    tt_tty_free(t);
}

/* ---- round trips ---- */

/* Upper case (what a TTY shows), with digits, a text that shifts often, punctuation (every
 * US figure but the bell), and lines. minimodem reads a newline as CR LF. */
static const char *const texts[] = {
    "0123456789",
    "A1B2 C3D4 E5-F6 7G 8H 9 IJ 10 K",
    "WAIT: (YES/NO)? IT'S $5, OK! \"Q\" & #9; 3.5-2.",
    "PRESS 1 FOR THE STEPS\r\nPRESS 2 TO HEAR IT AGAIN",
};
#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

/* What we send, minimodem reads exactly: each text at each rate, then 20 dB down with noise
 * 13 dB under the tones (the signal-to-noise ratio a TTY maker gave for a TTY's input).
 * minimodem is told to expect 1.5 stop bits, what TTYs send: its "tdd" default of 2 drops
 * characters of such a sender (it read "012345679" for "0123456789" from us). The noise
 * covers the burst, not the silence around it: minimodem has no level squelch, and in 4 of
 * 20 noise seeds it framed a character out of the noise and the first bits of our carrier
 * (an M or a V before the text), at any signal-to-noise ratio, 30 dB as well as 13. */
static void minimodem_reads_what_we_send(void **state)
{
    (void)state;
    const struct mm_mode *modes[] = {&mm45_15, &mm50};
    for (size_t m = 0; m < 2; m++)
        for (size_t i = 0; i < NTEXTS; i++)
            for (int noisy = 0; noisy <= 1; noisy++) {
                struct pcm p = {0};
                our_send(modes[m]->baud, texts[i], strlen(texts[i]), &p);
                if (noisy) {
                    tl_seed(0x2545f4914f6cdd1dULL + i);
                    pcm_degrade(&p, -20, 13, true);
                }
                char *got = mm_hear(modes[m], &p);
                if (strcmp(got, texts[i]))
                    fail_msg("%s%s: sent \"%s\", minimodem read \"%s\"", modes[m]->name,
                             noisy ? ", -20 dB with noise" : "", texts[i], got);
                free(got);
                free(p.s);
            }
}

/* What minimodem sends, we read exactly: each text, at 45.45 and 50 baud with 2, 1.5 and 1
 * stop bits, clean and 20 dB down with noise 13 dB under the tones (here over the silence
 * too). minimodem sends a newline as LF alone, so the lines are sent here with CR LF. */
static void we_read_what_minimodem_sends(void **state)
{
    (void)state;
    const struct mm_mode *modes[] = {&mm45, &mm45_15, &mm45_1, &mm50, &mm50_2, &mm50_1};
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
        for (size_t i = 0; i < NTEXTS; i++)
            for (int noisy = 0; noisy <= 1; noisy++) {
                struct pcm p = {0};
                pcm_silence(&p, 0.3);
                mm_send(modes[m], texts[i], &p);
                pcm_silence(&p, 0.3);
                if (noisy) {
                    tl_seed(0x9e3779b97f4a7c15ULL + i);
                    pcm_degrade(&p, -20, 13, false);
                }
                struct heard h;
                our_hear(modes[m]->baud, p.s, p.n, &h);
                if (strcmp(h.text, texts[i]))
                    fail_msg("%s%s: minimodem sent \"%s\", we read \"%s\"", modes[m]->name,
                             noisy ? ", -20 dB with noise" : "", texts[i], h.text);
                free(p.s);
            }
}

/* Lower case is sent in upper case, newlines as CR LF, and what Baudot lacks as tty.h says;
 * minimodem reads the result. */
static void what_baudot_lacks_is_replaced_as_documented(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        int replaced;
    } cases[] = {
        {"Press five, then #.\n", "PRESS FIVE, THEN #.\r\n", 0},
        {"a\r\nb\rc\td", "A\r\nB\r\nC D", 0},
        {"Caf\xc3\xa9 ni\xc3\xb1o \xc3\x9c", "CAFE NINO U", 3},
        {"Stra\xc3\x9f" "e \xc3\x86", "STRASSE AE", 2},
        {"50% off, 2+2=4, a@b, 9*", "50 PERCENT OFF, 2 PLUS 2 EQUALS 4, A AT B, 9 STAR", 5},
        {"\xc2\xbfS\xc3\xad?", "SI?", 2},
        {"\xc2\xab" "x\xc2\xbb \xe2\x80\x9cy\xe2\x80\x9d \xe2\x80\x98z\xe2\x80\x99",
         "\"X\" \"Y\" 'Z'", 6},
        {"a \xe2\x80\x94 b\xe2\x80\xa6", "A - B...", 2},
        {"[1] {2} <3> a_b c\\d e|f `g` ~", "(1) (2) (3) A-B C/D E/F 'G' -", 12},
        {"x^y\x01z\xff \xe4\xb8\xad", "X?Y?Z? ?", 4},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tt_tty *t = tt_tty_new(TT_TTY_45);
        assert_int_equal(tt_tty_put(t, cases[i].in, strlen(cases[i].in)), 0);
        struct tt_tty_stats st;
        tt_tty_get_stats(t, &st);
        if (st.replaced != (uint64_t)cases[i].replaced)
            fail_msg("\"%s\": %d replaced, counted %llu", cases[i].in, cases[i].replaced,
                     (unsigned long long)st.replaced);
        tt_tty_free(t);
        struct pcm p = {0};
        our_send(TT_TTY_45, cases[i].in, strlen(cases[i].in), &p);
        char *got = mm_hear(&mm45_15, &p);
        if (strcmp(got, cases[i].out))
            fail_msg("\"%s\": minimodem read \"%s\", want \"%s\"", cases[i].in, got,
                     cases[i].out);
        free(got);
        free(p.s);
    }
}

/* ---- detection ---- */

/* The first keystroke of a TTY caller, as minimodem sends it (its shift, then the
 * character, after 2 bits of mark): detected, and the key is read, within the bound. */
#define DETECT_BOUND_MS 400
static void a_keystroke_from_minimodem_is_detected(void **state)
{
    (void)state;
    const char *keys[] = {"1", "H", "#", "Q"};
    const struct mm_mode *modes[] = {&mm45, &mm45_15, &mm50};
    for (size_t m = 0; m < 3; m++)
        for (size_t i = 0; i < 4; i++) {
            struct pcm p = {0};
            pcm_silence(&p, 0.5);
            mm_send(modes[m], keys[i], &p);
            pcm_silence(&p, 0.5);
            size_t from, to;
            tone_span(&p, &from, &to);
            struct heard h;
            our_hear(modes[m]->baud, p.s, p.n, &h);
            assert_true(h.detected);
            assert_string_equal(h.text, keys[i]);
            double ms = ((double)h.st.detected_at - (double)from) * 1000.0 / RATE;
            if (ms > DETECT_BOUND_MS)
                fail_msg("%s, key %s: detected %.0f ms after the first tone", modes[m]->name,
                         keys[i], ms);
            free(p.s);
        }
}

/* A TTY that sends its carrier first (as TTYs do, and as we do) is detected at its first
 * character: rule (b). */
static void a_burst_with_its_carrier_is_detected_at_its_first_character(void **state)
{
    (void)state;
    for (int b = 0; b < 2; b++) {
        struct pcm p = {0};
        our_send(b ? TT_TTY_50 : TT_TTY_45, "1", 1, &p);
        size_t from, to;
        tone_span(&p, &from, &to);
        struct heard h;
        our_hear(b ? TT_TTY_50 : TT_TTY_45, p.s, p.n, &h);
        assert_true(h.detected);
        assert_string_equal(h.text, "1");
        /* the lead (about 165 ms) and one frame, the shift (7.5 bits): before the second
         * frame, the 1, has begun */
        double bit = b ? 160.0 : 176.0;
        assert_true((double)h.st.detected_at < (double)from + 0.170 * RATE + 8.5 * bit);
        free(p.s);
    }
}

static const char *speech[] = {
    "This guide explains how to ask a court to drop a no-contact order. It is general "
    "information, not legal advice.",
    "To hear the steps, press one. To hear the warnings, press two. Press five to repeat, "
    "star to go back, and nine to end the call.",
    "Three, five, seven, nine; one thousand four hundred and eighteen hundred. Beep boop. "
    "Hmmmm. Ooooooh. Eeeeee! Ahhhhh! Sssss. Shhhhh.",
};
#define NSPEECH (sizeof(speech) / sizeof(speech[0]))

/* Synthesized speech at 8 kHz (flite), scaled to an RMS. */
static void speak(const char *text, int speed, double rms, struct pcm *p)
{
    tt_diag *d = tt_diag_new();
    struct tt_tts_voice v;
    assert_int_equal(tt_tts_voice_parse(&v, "flite:kal16", d), 0);
    int16_t *pcm, *at8;
    size_t n, n8;
    int rate;
    assert_int_equal(tt_tts_speak(&v, text, speed, &pcm, &n, &rate, d), 0);
    assert_int_equal(tt_audio_resample(pcm, n, rate, RATE, &at8, &n8), 0);
    double g = rms > 0 ? rms / tl_rms(at8, 0, n8) : 1.0;
    for (size_t i = 0; i < n8; i++) {
        double x = at8[i] * g;
        at8[i] = (int16_t)lrint(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
    }
    pcm_add(p, at8, n8);
    free(pcm);
    free(at8);
    tt_diag_free(d);
}

/* The caller's first keystroke arrives while we speak: what comes back is our speech's echo
 * with the caller's tones over it. Here the echo is 10 dB under the tones (RMS: a TTY sends
 * at -13 to -9 dBm, our prompts are near -20 dBm0, and a line's hybrid returns them 10 dB
 * or more down), and the keystroke lands at ten places in the speech: each is detected, and
 * the key read. (bench_tty measures how far under the echo it still works.) */
static void a_keystroke_over_our_speech_is_detected(void **state)
{
    (void)state;
    struct pcm key = {0};
    mm_send(&mm45, "1", &key);
    size_t from, to;
    tone_span(&key, &from, &to);
    for (size_t i = from; i < to; i++)
        key.s[i] = (int16_t)lrint(key.s[i] * 0.1); /* -17 dBm0 */
    double key_rms = tl_rms(key.s, from, to);
    struct pcm talk = {0};
    speak(speech[1], 100, key_rms * pow(10.0, -10.0 / 20.0), &talk);
    for (int place = 0; place < 10; place++) {
        struct pcm p = {0};
        pcm_add(&p, talk.s, talk.n);
        size_t at = talk.n / 8 + (size_t)place * (talk.n / 12);
        assert_true(at + (to - from) < p.n);
        for (size_t i = from; i < to; i++) {
            int x = p.s[at + i - from] + key.s[i];
            p.s[at + i - from] = (int16_t)(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
        }
        struct heard h;
        our_hear(TT_TTY_45, p.s, p.n, &h);
        if (!h.detected || strcmp(h.text, "1"))
            fail_msg("keystroke at %.2f s of speech: detected %d, read \"%s\"",
                     (double)at / RATE, h.detected, h.text);
        double ms = ((double)h.st.detected_at - (double)at) * 1000.0 / RATE;
        assert_true(ms <= DETECT_BOUND_MS);
        free(p.s);
    }
    free(talk.s);
    free(key.s);
}

/* ---- no false switch ---- */

struct corpus {
    double seconds;
    size_t files, detected;
    uint64_t frames, pure;
};
static struct corpus corpus;

static int corpus_file(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    size_t len = strlen(path);
    if (type != FTW_F || len < 4 || strcasecmp(path + len - 4, ".wav"))
        return 0;
    int16_t *pcm;
    size_t n;
    char why[256];
    if (tt_audio_load(path, RATE, &pcm, &n, why, sizeof(why)))
        return 0; /* silent or unreadable: not part of the corpus */
    struct heard h;
    our_hear(TT_TTY_45, pcm, n, &h);
    corpus.seconds += (double)n / RATE;
    corpus.files++;
    corpus.frames += h.st.frames;
    corpus.pure += h.st.pure;
    if (h.detected) {
        corpus.detected++;
        print_error("detected a TTY in %s at %.2f s\n", path, (double)h.st.detected_at / RATE);
    }
    free(pcm);
    return 0;
}

/* The DTMF talk-off corpus: recorded prompts and music on hold, no detection. (What spandsp's
 * receiver framed in it, and how many of those frames were pure, is printed.) */
static void the_talk_off_corpus_is_never_a_tty(void **state)
{
    (void)state;
    memset(&corpus, 0, sizeof(corpus));
    static const char *roots[] = {"/usr/share/asterisk/sounds/en_US_f_Allison",
                                  "/usr/share/asterisk/moh"};
    for (size_t i = 0; i < 2; i++) {
        if (access(roots[i], R_OK))
            fail_msg("%s is missing: scripts/deps.sh installs it", roots[i]);
        assert_int_equal(nftw(roots[i], corpus_file, 16, FTW_PHYS), 0);
    }
    print_message("talk-off corpus: %zu files, %.1f minutes, %llu frames framed, %llu pure, "
                  "%zu detections\n",
                  corpus.files, corpus.seconds / 60, (unsigned long long)corpus.frames,
                  (unsigned long long)corpus.pure, corpus.detected);
    assert_true(corpus.seconds > 40 * 60);
    assert_int_equal(corpus.detected, 0);
}

/* Synthesized speech, three texts at three speeds, at a speaking level and near full scale. */
static void synthesized_speech_is_never_a_tty(void **state)
{
    (void)state;
    double seconds = 0;
    for (size_t i = 0; i < NSPEECH; i++)
        for (int speed = 70; speed <= 130; speed += 30)
            for (int loud = 0; loud <= 1; loud++) {
                struct pcm p = {0};
                speak(speech[i], speed, loud ? 8000 : 1500, &p);
                struct heard h;
                our_hear(TT_TTY_45, p.s, p.n, &h);
                if (h.detected)
                    fail_msg("speech %zu at speed %d: detected at %.2f s", i, speed,
                             (double)h.st.detected_at / RATE);
                our_hear(TT_TTY_50, p.s, p.n, &h);
                assert_false(h.detected);
                seconds += (double)p.n / RATE;
                free(p.s);
            }
    assert_true(seconds > 60);
}

/* A melody of pure notes, F6 (1397 Hz, a mark) and A6 (1760 Hz, 40 Hz under the space tone),
 * at random lengths of 50 to 300 ms: spandsp frames characters in it, but it is never a TTY
 * (the frequency test of pure frames; without it, 38 of 60 such tries were detected). And
 * minimodem's keystrokes with both tones 10 Hz off are still detected. */
static void a_melody_near_the_tones_is_never_a_tty_but_a_tty_off_by_10_hz_is(void **state)
{
    (void)state;
    uint64_t frames = 0;
    for (int tr = 0; tr < 20; tr++) {
        struct pcm p = {0};
        pcm_silence(&p, 10);
        tl_seed(0x1234567ULL + (uint64_t)tr);
        double ph = 0, hz = 1397;
        size_t left = 0;
        for (size_t i = 0; i < p.n; i++) {
            if (!left--) {
                hz = tl_urand() < 0.5 ? 1397 : 1760;
                left = 400 + (size_t)(tl_urand() * 2000);
            }
            ph += 2 * M_PI * hz / RATE;
            p.s[i] = (int16_t)lrint(3000 * sin(ph));
        }
        struct heard h;
        our_hear(TT_TTY_45, p.s, p.n, &h);
        if (h.detected)
            fail_msg("melody %d: detected at %.2f s", tr, (double)h.st.detected_at / RATE);
        frames += h.st.frames;
        free(p.s);
    }
    assert_true(frames > 0); /* there was something to refuse */
    for (int off = -10; off <= 10; off += 20) {
        char mark[16], space[16];
        snprintf(mark, sizeof(mark), "%d", 1400 + off);
        snprintf(space, sizeof(space), "%d", 1800 + off);
        const struct mm_mode m = {"off", TT_TTY_45,
                                  {"--baudot", "-M", mark, "-S", space, "--stopbits", "1.5",
                                   "45.45"}};
        struct pcm p = {0};
        pcm_silence(&p, 0.3);
        mm_send(&m, "1", &p);
        pcm_silence(&p, 0.3);
        struct heard h;
        our_hear(TT_TTY_45, p.s, p.n, &h);
        assert_true(h.detected);
        assert_string_equal(h.text, "1");
        free(p.s);
    }
}

/* White noise, at a quiet and at a loud level, a minute each: spandsp's framing finds no
 * character in it, so nothing is detected. */
static void white_noise_is_never_a_tty(void **state)
{
    (void)state;
    for (int loud = 0; loud <= 1; loud++) {
        struct pcm p = {0};
        pcm_silence(&p, 60);
        tl_seed(0x853c49e6748fea9bULL + (uint64_t)loud);
        double sigma = 32768.0 * pow(10.0, ((loud ? -10 : -40) - 3.14) / 20.0) / sqrt(2.0);
        for (size_t i = 0; i < p.n; i++) {
            double x = sigma * tl_gauss();
            p.s[i] = (int16_t)lrint(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
        }
        struct heard h;
        our_hear(TT_TTY_45, p.s, p.n, &h);
        assert_false(h.detected);
        assert_int_equal(h.st.frames, 0);
        free(p.s);
    }
}

/* A caller pressing keys is never taken for a TTY: every digit, held 40 ms to 2 s, in quick
 * runs and alone, at -10 and -25 dBm0 per tone, with twist. */
static void dtmf_digits_are_never_a_tty(void **state)
{
    (void)state;
    static const char digits[] = "123A456B789C*0#D";
    static const int ms[] = {40, 70, 100, 250, 2000};
    for (int level = 0; level < 2; level++)
        for (size_t d = 0; d < 5; d++) {
            struct pcm p = {0};
            pcm_silence(&p, 0.2);
            for (int rep = 0; rep < 2; rep++)
                for (size_t k = 0; k < 16; k++) {
                    size_t at = p.n, len = (size_t)ms[d] * RATE / 1000;
                    pcm_add(&p, NULL, len);
                    struct tt_dtmf_tone t = {.digit = digits[k],
                                             .low_dbm0 = level ? -25 : -10,
                                             .high_dbm0 = level ? -23 : -10,
                                             .low_phase = 0.3 * (double)k};
                    assert_int_equal(tt_dtmf_gen(p.s + at, len, RATE, &t), 0);
                    pcm_silence(&p, rep ? 0.04 : 0.3);
                }
            for (int b = 0; b < 2; b++) {
                struct heard h;
                our_hear(b ? TT_TTY_50 : TT_TTY_45, p.s, p.n, &h);
                if (h.detected)
                    fail_msg("digits of %d ms: detected a TTY", ms[d]);
            }
            free(p.s);
        }
}

/* ---- half duplex ---- */

/* tt_tty_receiving is on while the caller's carrier is (within 40 ms of its start, and all
 * along from 50 ms) and off within 100 ms of its end. */
static void receiving_follows_the_callers_carrier(void **state)
{
    (void)state;
    struct pcm p = {0};
    pcm_silence(&p, 0.5);
    mm_send(&mm45, "HELLO 123", &p);
    pcm_silence(&p, 1.0);
    size_t from, to;
    tone_span(&p, &from, &to);
    tt_tty *t = tt_tty_new(TT_TTY_45);
    char out[64];
    size_t on = 0, off = 0;
    for (size_t i = 0; i < p.n; i += 80) {
        tt_tty_rx(t, p.s + i, 80, out, sizeof(out));
        size_t now = i + 80;
        bool r = tt_tty_receiving(t);
        if (now <= from)
            assert_false(r);
        if (r && !on)
            on = now;
        if (now > from + RATE / 20 && now <= to)
            assert_true(r); /* on 50 ms after the start, and all along */
        if (!r && on && !off && now > to)
            off = now;
        if (off)
            assert_false(r);
    }
    assert_true(on > from && on <= from + 40 * RATE / 1000);
    assert_true(off > to && off <= to + 100 * RATE / 1000);
    tt_tty_free(t);
    free(p.s);
}

/* Flush drops what is queued; the character begun is finished, then the carrier stops. */
static void flush_empties_the_queue_and_ends_the_burst_within_a_character(void **state)
{
    (void)state;
    tt_tty *t = tt_tty_new(TT_TTY_45);
    const char *text = "THE TEXT OF A LONG PROMPT, 1 2 3";
    assert_int_equal(tt_tty_put(t, text, strlen(text)), 0);
    assert_int_equal(tt_tty_pending(t), strlen(text));
    int16_t buf[PERIOD];
    size_t tone = 0;
    for (int i = 0; i < 50; i++) /* 1 s: the lead and about five characters */
        tone += tt_tty_tx(t, buf, PERIOD);
    assert_int_equal(tone, 50 * PERIOD);
    size_t left = tt_tty_pending(t);
    assert_true(left > 0 && left < strlen(text) - 3);
    tt_tty_flush(t);
    assert_int_equal(tt_tty_pending(t), 0);
    size_t after = 0;
    for (int i = 0; i < 20; i++)
        after += tt_tty_tx(t, buf, PERIOD);
    assert_true(after <= 1320); /* at most one frame, 7.5 bits of 176 samples */
    assert_false(tt_tty_sending(t));
    assert_int_equal(tt_tty_tx(t, buf, PERIOD), 0);
    for (int i = 0; i < PERIOD; i++)
        assert_int_equal(buf[i], 0);
    /* and text queued later goes out as a new burst */
    assert_int_equal(tt_tty_put(t, "OK", 2), 0);
    assert_int_equal(tt_tty_tx(t, buf, PERIOD), PERIOD);
    assert_true(tt_tty_sending(t));
    tt_tty_free(t);
}

/* Our own tones coming back (as echo, here at full level) are not heard, and the caller is
 * heard again once the echo guard is over. */
static void our_own_echo_is_not_heard(void **state)
{
    (void)state;
    tt_tty *t = tt_tty_new(TT_TTY_45);
    tt_tty_set_echo_guard(t, 200);
    const char *text = "HELLO 123, PRESS 1";
    assert_int_equal(tt_tty_put(t, text, strlen(text)), 0);
    int16_t buf[PERIOD];
    char out[64];
    size_t got = 0, periods = 0;
    do {
        tt_tty_tx(t, buf, PERIOD);
        got += tt_tty_rx(t, buf, PERIOD, out, sizeof(out));
        assert_false(tt_tty_receiving(t));
        assert_true(++periods < 2000);
    } while (tt_tty_sending(t));
    assert_int_equal(got, 0);
    assert_false(tt_tty_detected(t));
    /* silence through the guard, then minimodem's keystroke */
    struct pcm p = {0};
    pcm_silence(&p, 0.3);
    mm_send(&mm45, "1", &p);
    pcm_silence(&p, 0.3);
    for (size_t i = 0; i < p.n; i += PERIOD) {
        assert_int_equal(tt_tty_tx(t, buf, PERIOD), 0);
        got += tt_tty_rx(t, p.s + i, PERIOD < p.n - i ? PERIOD : p.n - i, out + got,
                         sizeof(out) - got);
    }
    assert_true(tt_tty_detected(t));
    assert_int_equal(got, 1);
    assert_int_equal(out[0], '1');
    free(p.s);
    tt_tty_free(t);
}

/* Every character we send as itself (the bell too, which the minimodem tests leave out), with
 * shifts both ways, through our own sender and receiver: what goes in comes out. */
static void the_whole_repertoire_survives_our_own_round_trip(void **state)
{
    (void)state;
    const char *text = "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG 0123456789\r\n"
                       "-$!&#'()\"/:;?,. \a A-B$C!D&E#F'G(H)I\"J/K:L;M?N,O.P 1A 2 B3\r\n4";
    for (int b = 0; b < 2; b++) {
        struct pcm p = {0};
        our_send(b ? TT_TTY_50 : TT_TTY_45, text, strlen(text), &p);
        struct heard h;
        our_hear(b ? TT_TTY_50 : TT_TTY_45, p.s, p.n, &h);
        assert_string_equal(h.text, text);
        free(p.s);
    }
}

/* Any bytes can be queued: each text is queued whole or refused whole, and goes out. */
static void any_bytes_can_be_queued(void **state)
{
    (void)state;
    tl_seed(0xdeadbeefULL);
    tt_tty *t = tt_tty_new(TT_TTY_45);
    int16_t buf[PERIOD];
    size_t refused = 0;
    for (int i = 0; i < 3000; i++) {
        char s[64];
        size_t n = (size_t)(tl_urand() * sizeof(s));
        for (size_t k = 0; k < n; k++)
            s[k] = (char)(tl_urand() * 256);
        size_t before = tt_tty_pending(t);
        int rc = tt_tty_put(t, s, n);
        if (rc == ENOSPC) {
            refused++;
            assert_int_equal(tt_tty_pending(t), before);
        } else {
            assert_int_equal(rc, 0);
            assert_true(tt_tty_pending(t) >= before + (n ? 1 : 0));
        }
        assert_true(tt_tty_pending(t) <= TT_TTY_QUEUE);
        for (int k = 0; k < 20; k++)
            tt_tty_tx(t, buf, PERIOD);
    }
    assert_true(refused > 0); /* the queue did fill */
    tt_tty_free(t);
}

/* ---- the contract ---- */

static void the_contract(void **state)
{
    (void)state;
    errno = 0;
    assert_null(tt_tty_new((enum tt_tty_baud)7));
    assert_int_equal(errno, EINVAL);
    tt_tty_free(NULL);
    tt_tty *t = tt_tty_new(TT_TTY_50);
    assert_non_null(t);
    int16_t buf[PERIOD];
    memset(buf, 1, sizeof(buf));
    assert_int_equal(tt_tty_tx(t, buf, PERIOD), 0); /* nothing to say: silence */
    for (int i = 0; i < PERIOD; i++)
        assert_int_equal(buf[i], 0);
    assert_false(tt_tty_sending(t));
    assert_int_equal(tt_tty_put(t, NULL, 0), 0);
    assert_int_equal(tt_tty_put(t, NULL, 1), EINVAL);
    /* a text that does not fit is refused whole */
    char *big = malloc(TT_TTY_QUEUE + 1);
    memset(big, 'A', TT_TTY_QUEUE + 1);
    assert_int_equal(tt_tty_put(t, big, TT_TTY_QUEUE + 1), ENOSPC);
    assert_int_equal(tt_tty_pending(t), 0);
    assert_int_equal(tt_tty_put(t, big, TT_TTY_QUEUE - 1), 0);
    assert_int_equal(tt_tty_put(t, "%", 1), ENOSPC); /* " PERCENT" is 8 */
    assert_int_equal(tt_tty_put(t, "a", 1), 0);
    assert_int_equal(tt_tty_pending(t), TT_TTY_QUEUE);
    /* shifts are not counted as pending */
    tt_tty_flush(t);
    assert_int_equal(tt_tty_put(t, "A1 B", 4), 0);
    assert_int_equal(tt_tty_pending(t), 4);
    free(big);
    tt_tty_free(t);
}

/* ---- spandsp 0.0.6's V.18 5-bit mode: the evidence ---- */

struct v18_heard {
    char text[512];
    size_t n;
    int calls;
    size_t first_call_at; /* samples fed before the first text arrived */
    size_t fed;
};

static void v18_put_msg(void *user, const uint8_t *msg, int len)
{
    struct v18_heard *h = user;
    if (!h->calls++)
        h->first_call_at = h->fed;
    for (int i = 0; i < len && h->n + 1 < sizeof(h->text); i++)
        h->text[h->n++] = (char)msg[i];
    h->text[h->n] = '\0';
}

/* v18_tx's samples for text, until it stops, between 0.3 s of silence each side. */
static void v18_send(const char *text, struct pcm *p, size_t *tone)
{
    struct v18_heard h = {0};
    v18_state_t *s = v18_init(NULL, 1, V18_MODE_5BIT_45, v18_put_msg, &h);
    assert_non_null(s);
    assert_int_equal(v18_put(s, text, -1), (int)strlen(text));
    pcm_silence(p, 0.3);
    int16_t buf[PERIOD];
    *tone = 0;
    for (int i = 0; i < 5000; i++) {
        int got = v18_tx(s, buf, PERIOD);
        if (got <= 0)
            break;
        pcm_add(p, buf, (size_t)got);
        *tone += (size_t)got;
    }
    pcm_silence(p, 0.3);
    v18_free(s);
}

/* Unshift on space: v18 does not shift to figures again after a space, so a US TTY
 * (minimodem) reads the figures after it as letters. */
static void spandsp_v18_sends_figures_after_a_space_as_letters(void **state)
{
    (void)state;
    struct pcm p = {0};
    size_t tone;
    v18_send("12 34", &p, &tone);
    char *got = mm_hear(&mm45, &p);
    print_message("spandsp v18 sent \"12 34\"; minimodem read \"%s\"\n", got);
    assert_string_equal(got, "12 ER");
    free(got);
    free(p.s);
}

/* Its figures are a mix: ' ! " ; $ & are sent right, but # goes out as the code a US TTY
 * shows as $, * as ., @ as X and % as /. */
static void spandsp_v18_sends_us_punctuation_wrong(void **state)
{
    (void)state;
    static const char *const sent[] = {"PRESS # OR *", "A@B 50%"};
    static const char *const read[] = {"PRESS $ OR .", "AXB 50/"};
    for (int i = 0; i < 2; i++) {
        struct pcm p = {0};
        size_t tone;
        v18_send(sent[i], &p, &tone);
        char *got = mm_hear(&mm45_15, &p);
        print_message("spandsp v18 sent \"%s\"; minimodem read \"%s\"\n", sent[i], got);
        assert_string_equal(got, read[i]);
        free(got);
        free(p.s);
    }
}

/* What spandsp's v18_rx reads in these samples, and after how many it handed the text over. */
static void v18_hear(const struct pcm *p, struct v18_heard *h)
{
    memset(h, 0, sizeof(*h));
    v18_state_t *s = v18_init(NULL, 0, V18_MODE_5BIT_45, v18_put_msg, h);
    assert_non_null(s);
    for (size_t i = 0; i < p->n; i += PERIOD) {
        size_t k = p->n - i < PERIOD ? p->n - i : PERIOD;
        v18_rx(s, p->s + i, (int)k);
        h->fed += k;
    }
    v18_free(s);
}

/* It reads # as =, & as +, and a TTY's bell as -, and it does not unshift on space: the
 * letters a TTY sends after a space that followed figures come out as figures. */
static void spandsp_v18_reads_us_punctuation_wrong(void **state)
{
    (void)state;
    struct pcm p = {0};
    mm_send(&mm45, "WAIT; \"NO\" & YES! #1", &p);
    pcm_silence(&p, 0.5);
    struct v18_heard h;
    v18_hear(&p, &h);
    print_message("minimodem sent \"WAIT; \\\"NO\\\" & YES! #1\"; spandsp v18 read \"%s\"\n",
                  h.text);
    assert_string_equal(h.text, "WAIT; \"NO\" + 63-! =1");
    struct heard ours;
    our_hear(TT_TTY_45, p.s, p.n, &ours);
    assert_string_equal(ours.text, "WAIT; \"NO\" & YES! #1");
    free(p.s);
}

/* Our shifts are right for a receiver that does not unshift on space too: spandsp's v18_rx,
 * which does not, reads figures, a space and letters from us as sent (it reads the text we
 * send after figures and a space right only because we shift again there). */
static void a_receiver_that_does_not_unshift_on_space_reads_us_right(void **state)
{
    (void)state;
    const char *text = "5 ITEMS, 2 DAYS; 10 AM TO 4 PM";
    struct pcm p = {0};
    our_send(TT_TTY_45, text, strlen(text), &p);
    struct v18_heard h;
    v18_hear(&p, &h);
    assert_string_equal(h.text, text);
    free(p.s);
}

/* Its stop bits: 2, not 1.5. A run of E (code 1) after its opening shift takes 8 bits of
 * 176 samples a character. */
static void spandsp_v18_sends_two_stop_bits(void **state)
{
    (void)state;
    struct pcm p = {0};
    size_t tone;
    v18_send("EEEEEEEEEEEEEEEEEEEE", &p, &tone);
    /* 21 frames (the shift and 20 E), then a LTRS cut short where the 20 ms period ends */
    print_message("spandsp v18: %zu samples of tone for 21 frames (%.1f bits a frame)\n",
                  tone, (double)tone / 21 / 176);
    assert_true(tone >= 21 * 8 * 176 && tone < 21 * 8 * 176 + 2 * PERIOD);
    free(p.s);
}

/* Its text arrives only when the carrier drops (or 256 characters have come): a caller who
 * types a key and goes on typing is not heard until they stop, and the words after the key,
 * sent without a shift after a space, come out as figures. We hand the key over as it ends. */
static void spandsp_v18_hands_over_text_only_when_the_carrier_drops(void **state)
{
    (void)state;
    const char *typed = "1 AND THEN MORE WORDS";
    struct pcm p = {0};
    mm_send(&mm45, typed, &p);
    size_t from, to;
    tone_span(&p, &from, &to);
    pcm_silence(&p, 0.5);
    struct v18_heard h;
    v18_hear(&p, &h);
    tt_tty *t = tt_tty_new(TT_TTY_45);
    char text[64];
    size_t n = 0, first_at = 0;
    for (size_t i = 0; i < p.n; i += PERIOD) {
        size_t k = p.n - i < PERIOD ? p.n - i : PERIOD;
        size_t got = tt_tty_rx(t, p.s + i, k, text + n, sizeof(text) - 1 - n);
        if (got && !n)
            first_at = i + k;
        n += got;
    }
    text[n] = '\0';
    tt_tty_free(t);
    print_message("minimodem typed \"%s\" (%.2f s): spandsp v18 handed over \"%s\" at %.2f s; "
                  "we handed over \"%c\" at %.2f s and read \"%s\"\n",
                  typed, (double)(to - from) / RATE, h.text, (double)h.first_call_at / RATE,
                  text[0], (double)first_at / RATE, text);
    assert_int_equal(h.calls, 1);
    assert_true(h.first_call_at >= to);
    assert_string_equal(h.text, "1 -,$ 5=3, .943 294$-");
    assert_string_equal(text, typed);
    assert_true(first_at < from + 0.5 * RATE);
    free(p.s);
}

static int group_setup(void **state)
{
    (void)state;
    dir = tl_tmpdir();
    if (access(MINIMODEM, X_OK)) {
        fprintf(stderr, "%s is missing: scripts/deps.sh installs minimodem\n", MINIMODEM);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tl_rmtree(dir);
    free(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minimodem_reads_what_we_send),
        cmocka_unit_test(we_read_what_minimodem_sends),
        cmocka_unit_test(what_baudot_lacks_is_replaced_as_documented),
        cmocka_unit_test(a_keystroke_from_minimodem_is_detected),
        cmocka_unit_test(a_burst_with_its_carrier_is_detected_at_its_first_character),
        cmocka_unit_test(a_keystroke_over_our_speech_is_detected),
        cmocka_unit_test(the_talk_off_corpus_is_never_a_tty),
        cmocka_unit_test(synthesized_speech_is_never_a_tty),
        cmocka_unit_test(white_noise_is_never_a_tty),
        cmocka_unit_test(a_melody_near_the_tones_is_never_a_tty_but_a_tty_off_by_10_hz_is),
        cmocka_unit_test(dtmf_digits_are_never_a_tty),
        cmocka_unit_test(receiving_follows_the_callers_carrier),
        cmocka_unit_test(flush_empties_the_queue_and_ends_the_burst_within_a_character),
        cmocka_unit_test(our_own_echo_is_not_heard),
        cmocka_unit_test(the_whole_repertoire_survives_our_own_round_trip),
        cmocka_unit_test(any_bytes_can_be_queued),
        cmocka_unit_test(the_contract),
        cmocka_unit_test(spandsp_v18_sends_figures_after_a_space_as_letters),
        cmocka_unit_test(spandsp_v18_sends_us_punctuation_wrong),
        cmocka_unit_test(spandsp_v18_reads_us_punctuation_wrong),
        cmocka_unit_test(a_receiver_that_does_not_unshift_on_space_reads_us_right),
        cmocka_unit_test(spandsp_v18_sends_two_stop_bits),
        cmocka_unit_test(spandsp_v18_hands_over_text_only_when_the_carrier_drops),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
