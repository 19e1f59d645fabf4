/*
 * The prompt store, checked by measuring the audio it returns: speech is long enough and loud
 * enough to be speech, recordings keep their pitch and duration through resampling and come
 * out at the one loudness of every prompt (loudness.c), whatever their level, the disk
 * cache makes a second start synthesize nothing, and nothing a clerk can get wrong on disk
 * (a damaged recording, a damaged cache) ever turns a prompt into silence.
 *
 * Every file a test needs is made inside a fresh temporary folder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sndfile.h>

#include "base/diag.h"
#include "dsp/loudness.h"
#include "prompt/audio.h"
#include "prompt/cache.h"
#include "prompt/tts.h"
#include "testlib.h"
#include "tonetree.h"

#define EN "flite:kal16"
#define ES "espeak-ng:es"
#define EN_TEXT "This guide explains how to ask a court to drop a no-contact order."
#define ES_TEXT "Esta guía explica cómo pedir a un tribunal que anule una orden de no contacto."

static const int rates[] = {8000, 16000, 48000};

struct fx {
    char dir[64];
    char prompts[128];
    char cache[128];
    tt_diag *diag;
    tt_store *store;
};

/* ---- helpers ------------------------------------------------------------------------------ */

static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char sub[1024];
            snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
            rm_rf(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/tt-prompt-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->prompts, sizeof(f->prompts), "%s/prompts", f->dir);
    snprintf(f->cache, sizeof(f->cache), "%s/cache", f->dir);
    char sub[192];
    assert_int_equal(mkdir(f->prompts, 0755), 0);
    snprintf(sub, sizeof(sub), "%s/en", f->prompts);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(sub, sizeof(sub), "%s/es", f->prompts);
    assert_int_equal(mkdir(sub, 0755), 0);
    f->diag = tt_diag_new();
    assert_non_null(f->diag);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tt_store_free(f->store);
    tt_diag_free(f->diag);
    rm_rf(f->dir);
    free(f);
    return 0;
}

/* Replace the fixture's store with a new one. */
static tt_store *open_store(struct fx *f, int rate, const char *prompts, const char *cache)
{
    tt_store_free(f->store);
    f->store = NULL;
    struct tt_store_opts o = {.rate = rate, .prompts_dir = prompts, .cache_dir = cache};
    assert_int_equal(tt_store_new(&f->store, &o, f->diag), 0);
    return f->store;
}

static const struct tt_clip *get(tt_store *s, const char *lang, const char *voice,
                                 const char *node, const char *text)
{
    const struct tt_clip *c = NULL;
    int err = tt_store_get(s, lang, voice, node, text, 100, &c);
    assert_int_equal(err, 0);
    assert_non_null(c);
    return c;
}

static struct tt_store_stats stats(const tt_store *s)
{
    struct tt_store_stats st;
    tt_store_stats(s, &st);
    return st;
}

static double rms(const struct tt_clip *c)
{
    double sum = 0;
    for (size_t i = 0; i < c->frames; i++)
        sum += (double)c->pcm[i] * c->pcm[i];
    return c->frames ? sqrt(sum / (double)c->frames) : 0;
}

/* Goertzel: the clip's power at one frequency. */
static double power_at(const struct tt_clip *c, int rate, double hz)
{
    double k = 2 * cos(2 * M_PI * hz / rate), s1 = 0, s2 = 0;
    for (size_t i = 0; i < c->frames; i++) {
        double s0 = c->pcm[i] + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return s1 * s1 + s2 * s2 - k * s1 * s2;
}

/* Speech: loud enough to hear and as long as a sentence takes to say. */
static void assert_speech(const struct tt_clip *c, int rate)
{
    double seconds = (double)c->frames / rate;
    assert_false(c->recorded);
    assert_true(seconds > 0.3 && seconds < 10);
    assert_true(rms(c) > 500); /* silence is 0; flite and espeak-ng speak at RMS 1000-4000 */
}

/* A sine tone, written by libsndfile in any format it writes. */
static void write_tone(const char *path, int format, int rate, int channels, double hz,
                       double seconds, double amp)
{
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    assert_non_null(sf);
    size_t n = (size_t)(seconds * rate);
    float *buf = malloc(n * (size_t)channels * sizeof(*buf));
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++)
        for (int ch = 0; ch < channels; ch++)
            buf[i * (size_t)channels + (size_t)ch] = (float)(amp * sin(2 * M_PI * hz * i / rate));
    assert_int_equal(sf_writef_float(sf, buf, (sf_count_t)n), (sf_count_t)n);
    assert_int_equal(sf_close(sf), 0);
    free(buf);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* A clip's loudness, LUFS (loudness.c; test_loudness checks it against BS.1770's own
 * figures). */
static double lufs(const struct tt_clip *c, int rate)
{
    struct tt_loud l;
    assert_int_equal(tt_loud_measure(c->pcm, c->frames, rate, &l), 0);
    return l.lufs;
}

/* The 440 Hz tone came through: its length at the store's rate, its pitch, and the one
 * loudness of every prompt, whatever level it was recorded at. */
static void assert_tone(const struct tt_clip *c, int rate, double seconds)
{
    assert_true(c->recorded);
    double want = seconds * rate;
    assert_true(fabs((double)c->frames - want) <= 4);
    assert_true(power_at(c, rate, 440) > 1000 * power_at(c, rate, 1000));
    assert_true(fabs(lufs(c, rate) - TT_LOUD_TARGET_LUFS) < 0.1);
}

/* How many diag messages of a severity mention a string (in the file or the text). */
static size_t messages_about(const tt_diag *d, enum tt_severity sev, const char *what)
{
    size_t n = 0;
    for (size_t i = 0; i < tt_diag_len(d); i++) {
        const struct tt_diag_msg *m = tt_diag_get(d, i);
        if (m->sev == sev && ((m->file && strstr(m->file, what)) || strstr(m->text, what)))
            n++;
    }
    return n;
}

static size_t count_files(const char *dir, const char *suffix, size_t *others)
{
    size_t n = 0;
    *others = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        size_t len = strlen(de->d_name);
        if (len == 16 + strlen(suffix) && !strcmp(de->d_name + 16, suffix))
            n++;
        else
            (*others)++;
    }
    closedir(d);
    return n;
}

static void cache_file_of(struct fx *f, int rate, const char *voice, const char *text,
                          char *path, size_t size)
{
    struct tt_tts_voice v;
    struct tt_cache *c;
    size_t len;
    assert_int_equal(tt_tts_voice_parse(&v, voice, f->diag), 0);
    char *key = tt_cache_key(&v, TT_TTS_SPEED_NORMAL, rate, text, &len);
    assert_non_null(key);
    assert_int_equal(tt_cache_open(&c, f->cache, f->diag), 0);
    assert_int_equal(tt_cache_path(c, key, len, path, size), 0);
    tt_cache_close(c);
    free(key);
}

/* The engine's own copy of a text (key rate 0), which a store at another rate, or one whose
 * file at its rate was damaged, would resample: gone, so that the next get must synthesize. */
static void forget_engine_copy(struct fx *f, const char *text)
{
    char path[512];
    cache_file_of(f, 0, EN, text, path, sizeof(path));
    assert_int_equal(unlink(path), 0);
}

/* ---- speech ------------------------------------------------------------------------------- */

static void english_speech_is_a_plausible_sentence_at_every_rate(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        tt_store *s = open_store(f, rates[i], NULL, NULL);
        assert_speech(get(s, "en", EN, NULL, EN_TEXT), rates[i]);
        assert_int_equal(stats(s).synthesized, 1);
    }
    assert_int_equal(tt_diag_len(f->diag), 0);
}

static void spanish_speech_is_a_plausible_sentence_at_every_rate(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        tt_store *s = open_store(f, rates[i], NULL, NULL);
        assert_speech(get(s, "es", ES, NULL, ES_TEXT), rates[i]);
        assert_int_equal(stats(s).synthesized, 1);
    }
    assert_int_equal(tt_diag_len(f->diag), 0);
}

static void speech_is_resampled_to_the_same_duration_at_every_rate(void **state)
{
    struct fx *f = *state;
    size_t at16 = get(open_store(f, 16000, NULL, NULL), "en", EN, NULL, EN_TEXT)->frames;
    size_t at48 = get(open_store(f, 48000, NULL, NULL), "en", EN, NULL, EN_TEXT)->frames;
    size_t at8 = get(open_store(f, 8000, NULL, NULL), "en", EN, NULL, EN_TEXT)->frames;
    /* flite speaks at 16 kHz: the other rates are the same seconds, a few samples apart. */
    assert_true(labs((long)at48 - 3 * (long)at16) <= 4);
    assert_true(labs(2 * (long)at8 - (long)at16) <= 4);
}

static void asking_again_returns_the_same_clip_without_work(void **state)
{
    struct fx *f = *state;
    tt_store *s = open_store(f, 16000, f->prompts, NULL);
    const struct tt_clip *a = get(s, "en", EN, NULL, EN_TEXT);
    const struct tt_clip *b = get(s, "en", EN, NULL, EN_TEXT);
    assert_ptr_equal(a, b);
    assert_int_equal(stats(s).synthesized, 1);
    /* Another text, or the same text as a node's words, is another clip. */
    const struct tt_clip *other = get(s, "en", EN, NULL, "Press one.");
    const struct tt_clip *as_node = get(s, "en", EN, "main", EN_TEXT);
    assert_ptr_not_equal(other, a);
    assert_ptr_not_equal(as_node, a);
    assert_ptr_equal(get(s, "en", EN, NULL, EN_TEXT), a);
    assert_ptr_equal(get(s, "en", EN, "main", EN_TEXT), as_node);
}

static void empty_text_is_a_short_silence(void **state)
{
    struct fx *f = *state;
    tt_store *s = open_store(f, 8000, NULL, f->cache);
    const struct tt_clip *c = get(s, "en", EN, NULL, "");
    assert_true(c->frames > 0 && c->frames <= 8000 / 4);
    assert_true(rms(c) == 0);
    assert_int_equal(stats(s).synthesized, 0);
    assert_int_equal(tt_diag_len(f->diag), 0);
}

static void unknown_voices_are_refused_with_a_message(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = {"klingon:kal16", "flite:nobody", "flite:", "kal16",
                                      "espeak-ng:no-such-language", ""};
    tt_store *s = open_store(f, 16000, f->prompts, NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct tt_clip *c = (const void *)1;
        tt_diag_clear(f->diag);
        assert_int_equal(tt_store_get(s, "en", bad[i], NULL, "Hello.", 100, &c), EINVAL);
        assert_null(c);
        assert_int_equal(tt_diag_count(f->diag, TT_ERROR), 1);
        const char *text = tt_diag_get(f->diag, 0)->text;
        assert_non_null(strstr(text, "voice"));
        if (*bad[i])
            assert_non_null(strstr(text, bad[i]));
        if (strncmp(bad[i], "espeak-ng:", 10)) /* what is allowed: the list of voices */
            assert_non_null(strstr(text, "flite:kal16"));
    }
    assert_int_equal(stats(s).synthesized, 0);
}

static void other_voices_speak_too(void **state)
{
    struct fx *f = *state;
    static const char *const voices[] = {"flite:slt", "flite:rms", "flite:awb", "flite:kal",
                                         "espeak-ng:fr"};
    tt_store *s = open_store(f, 16000, NULL, NULL);
    for (size_t i = 0; i < sizeof(voices) / sizeof(voices[0]); i++)
        assert_speech(get(s, "en", voices[i], NULL, "Press one for the steps."), 16000);
}

static void speed_changes_the_length_and_the_cache_key(void **state)
{
    struct fx *f = *state;
    static const char *const voices[] = {EN, ES};
    for (size_t i = 0; i < 2; i++) {
        struct tt_tts_voice v;
        int16_t *pcm[3];
        size_t n[3];
        int rate;
        static const int speed[3] = {50, 100, 200};
        assert_int_equal(tt_tts_voice_parse(&v, voices[i], f->diag), 0);
        for (int k = 0; k < 3; k++)
            assert_int_equal(tt_tts_speak(&v, i ? ES_TEXT : EN_TEXT, speed[k], &pcm[k], &n[k],
                                          &rate, f->diag),
                             0);
        assert_true(n[0] > n[1] * 3 / 2); /* half speed: clearly longer */
        assert_true(n[2] < n[1] * 3 / 4); /* double speed: clearly shorter */
        for (int k = 0; k < 3; k++)
            free(pcm[k]);

        size_t l1, l2;
        char *k1 = tt_cache_key(&v, 100, 16000, "Hello.", &l1);
        char *k2 = tt_cache_key(&v, 120, 16000, "Hello.", &l2);
        assert_string_not_equal(k1, k2);
        free(k1);
        free(k2);
    }
    struct tt_tts_voice v;
    int16_t *pcm;
    size_t n;
    int rate;
    assert_int_equal(tt_tts_voice_parse(&v, EN, f->diag), 0);
    assert_int_equal(tt_tts_speak(&v, "Hi.", 5, &pcm, &n, &rate, f->diag), EINVAL);
}

/* ---- the disk cache ----------------------------------------------------------------------- */

static const char *const texts[] = {
    EN_TEXT, "To hear the steps, press 1.", "Step one: examine your motives.",
    "It is general information, not legal advice.",
};

static void a_warm_cache_synthesizes_nothing_and_gives_the_same_samples(void **state)
{
    struct fx *f = *state;
    size_t n = sizeof(texts) / sizeof(texts[0]);
    int16_t *cold[8 + 1];
    size_t cold_n[8 + 1];

    tt_store *s = open_store(f, 48000, NULL, f->cache);
    for (size_t i = 0; i <= n; i++) {
        const struct tt_clip *c = i < n ? get(s, "en", EN, NULL, texts[i])
                                        : get(s, "es", ES, NULL, ES_TEXT);
        cold_n[i] = c->frames;
        cold[i] = malloc(c->frames * sizeof(int16_t));
        memcpy(cold[i], c->pcm, c->frames * sizeof(int16_t));
    }
    assert_int_equal(stats(s).synthesized, n + 1);
    assert_int_equal(stats(s).disk_hits, 0);

    s = open_store(f, 48000, NULL, f->cache);
    for (size_t i = 0; i <= n; i++) {
        const struct tt_clip *c = i < n ? get(s, "en", EN, NULL, texts[i])
                                        : get(s, "es", ES, NULL, ES_TEXT);
        assert_int_equal(c->frames, cold_n[i]);
        assert_memory_equal(c->pcm, cold[i], cold_n[i] * sizeof(int16_t));
    }
    assert_int_equal(stats(s).synthesized, 0);
    assert_int_equal(stats(s).disk_hits, n + 1);

    /* Another output rate is resampled from the engine's own output kept on disk, not
     * synthesized again: the same speech, a sixth of the samples. */
    for (int round = 0; round < 2; round++) { /* then it is on disk at 8 kHz too */
        s = open_store(f, 8000, NULL, f->cache);
        for (size_t i = 0; i <= n; i++) {
            const struct tt_clip *c = i < n ? get(s, "en", EN, NULL, texts[i])
                                            : get(s, "es", ES, NULL, ES_TEXT);
            assert_speech(c, 8000);
            assert_true(labs((long)c->frames * 6 - (long)cold_n[i]) <= 12);
        }
        assert_int_equal(stats(s).synthesized, 0);
        assert_int_equal(stats(s).disk_hits, n + 1);
    }
    for (size_t i = 0; i <= n; i++)
        free(cold[i]);
    assert_int_equal(tt_diag_len(f->diag), 0);
}

static void two_processes_can_fill_one_cache_at_once(void **state)
{
    struct fx *f = *state;
    size_t n = sizeof(texts) / sizeof(texts[0]);
    pid_t pid[2];
    for (int p = 0; p < 2; p++) {
        pid[p] = fork();
        assert_true(pid[p] >= 0);
        if (pid[p] == 0) { /* no cmocka in here: it would jump into the parent's stack */
            tt_diag *d = tt_diag_new();
            tt_store *s;
            struct tt_store_opts o = {.rate = 16000, .cache_dir = f->cache};
            int bad = !d || tt_store_new(&s, &o, d);
            for (size_t i = 0; !bad && i < 4 * n; i++) {
                const struct tt_clip *c;
                /* Different orders, and each text several times in a fresh store. */
                size_t k = p ? i % n : n - 1 - i % n;
                if (i % n == 0 && i) {
                    tt_store_free(s);
                    bad = tt_store_new(&s, &o, d);
                }
                bad = bad || tt_store_get(s, "en", EN, NULL, texts[k], 100, &c) || !c->frames;
            }
            bad = bad || tt_diag_len(d) != 0;
            _exit(bad);
        }
    }
    for (int p = 0; p < 2; p++) {
        int status;
        assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    tt_store *s = open_store(f, 16000, NULL, f->cache);
    for (size_t i = 0; i < n; i++)
        assert_speech(get(s, "en", EN, NULL, texts[i]), 16000);
    assert_int_equal(stats(s).synthesized, 0);
    assert_int_equal(stats(s).disk_hits, n);
    size_t others;
    /* each text twice: at 16 kHz, and as the engine made it */
    assert_int_equal(count_files(f->cache, ".wav", &others), 2 * n);
    assert_int_equal(others, 0);
}

static void the_cache_folder_is_created_and_holds_only_finished_files(void **state)
{
    struct fx *f = *state;
    char deep[256];
    snprintf(deep, sizeof(deep), "%s/a/b/c", f->cache);
    tt_store *s = open_store(f, 16000, NULL, deep);
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        get(s, "en", EN, NULL, texts[i]);
    size_t others;
    /* each text at 16 kHz and as the engine made it */
    assert_int_equal(count_files(deep, ".wav", &others), 2 * (sizeof(texts) / sizeof(texts[0])));
    assert_int_equal(others, 0); /* no temporary file left behind */
    /* Each is a WAV file any player reads: mono, 16-bit, at the output rate. */
    char path[512];
    cache_file_of(f, 16000, EN, texts[0], path, sizeof(path));
    char *slash = strrchr(path, '/');
    char real[512];
    snprintf(real, sizeof(real), "%s%s", deep, slash);
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(real, SFM_READ, &info);
    assert_non_null(sf);
    assert_int_equal(info.channels, 1);
    assert_int_equal(info.samplerate, 16000);
    assert_int_equal(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    assert_int_equal(info.frames, get(s, "en", EN, NULL, texts[0])->frames);
    sf_close(sf);
}

static void a_garbage_cache_file_is_a_miss_and_is_replaced(void **state)
{
    struct fx *f = *state;
    tt_store *s = open_store(f, 16000, NULL, f->cache);
    size_t frames = get(s, "en", EN, NULL, EN_TEXT)->frames;

    char path[512];
    cache_file_of(f, 16000, EN, EN_TEXT, path, sizeof(path));
    write_bytes(path, "RIFF\x10\x00\x00\x00WAVEgarbage", 20);
    forget_engine_copy(f, EN_TEXT);
    s = open_store(f, 16000, NULL, f->cache);
    const struct tt_clip *c = get(s, "en", EN, NULL, EN_TEXT);
    assert_int_equal(stats(s).synthesized, 1);
    assert_int_equal(stats(s).disk_hits, 0);
    assert_int_equal(c->frames, frames);
    assert_speech(c, 16000);

    /* ... and the file was written again: the next start reads it. */
    s = open_store(f, 16000, NULL, f->cache);
    get(s, "en", EN, NULL, EN_TEXT);
    assert_int_equal(stats(s).synthesized, 0);
    assert_int_equal(stats(s).disk_hits, 1);

    /* A file cut short (as a crash in a naive writer would leave it) is a miss too. */
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(ftruncate(fileno(fp), 2000), 0);
    fclose(fp);
    forget_engine_copy(f, EN_TEXT);
    s = open_store(f, 16000, NULL, f->cache);
    assert_int_equal(get(s, "en", EN, NULL, EN_TEXT)->frames, frames);
    assert_int_equal(stats(s).synthesized, 1);
    assert_int_equal(tt_diag_len(f->diag), 0);
}

static void a_cache_file_holding_another_key_is_a_miss(void **state)
{
    struct fx *f = *state;
    const char *other = "Press nine to leave at once.";
    tt_store *s = open_store(f, 16000, NULL, f->cache);
    size_t want = get(s, "en", EN, NULL, EN_TEXT)->frames;
    size_t other_frames = get(s, "en", EN, NULL, other)->frames;
    assert_true(want != other_frames);

    /* Put the other text's valid file where this text's file belongs, as a hash collision
     * would: the store must notice the key inside and not say the wrong words. */
    char path[512], other_path[512];
    cache_file_of(f, 16000, EN, EN_TEXT, path, sizeof(path));
    cache_file_of(f, 16000, EN, other, other_path, sizeof(other_path));
    assert_int_equal(rename(other_path, path), 0);
    forget_engine_copy(f, EN_TEXT);

    s = open_store(f, 16000, NULL, f->cache);
    const struct tt_clip *c = get(s, "en", EN, NULL, EN_TEXT);
    assert_int_equal(c->frames, want);
    assert_int_equal(stats(s).synthesized, 1);
    assert_int_equal(stats(s).disk_hits, 0);
}

static void a_cache_that_cannot_be_written_is_a_warning(void **state)
{
    struct fx *f = *state;
    /* A cache folder under a regular file cannot be created, even by root. */
    char blocker[192], cache[256];
    snprintf(blocker, sizeof(blocker), "%s/not-a-folder", f->dir);
    write_bytes(blocker, "x", 1);
    snprintf(cache, sizeof(cache), "%s/cache", blocker);
    tt_store *s = open_store(f, 16000, NULL, cache);
    assert_speech(get(s, "en", EN, NULL, texts[0]), 16000);
    assert_speech(get(s, "en", EN, NULL, texts[1]), 16000);
    assert_int_equal(tt_diag_count(f->diag, TT_ERROR), 0);
    assert_int_equal(tt_diag_count(f->diag, TT_WARNING), 1); /* once, not per prompt */
    assert_int_equal(messages_about(f->diag, TT_WARNING, "speech cache"), 1);
}

static void the_wav_codec_refuses_what_it_did_not_write(void **state)
{
    (void)state;
    int16_t pcm[5] = {0, 1, -1, 32767, -32768};
    uint8_t *buf;
    size_t len;
    assert_int_equal(tt_audio_wav_encode(pcm, 5, 22050, "odd", 3, &buf, &len), 0);
    int rate;
    const char *note;
    size_t note_len, frames;
    int16_t *back;
    assert_int_equal(tt_audio_wav_decode(buf, len, &rate, &note, &note_len, &back, &frames), 0);
    assert_int_equal(rate, 22050);
    assert_int_equal(frames, 5);
    assert_memory_equal(back, pcm, sizeof(pcm));
    assert_int_equal(note_len, 3);
    assert_memory_equal(note, "odd", 3);
    free(back);
    /* Every shorter prefix is refused, as is a file with no note. */
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(tt_audio_wav_decode(buf, cut, &rate, &note, &note_len, &back, &frames),
                         EINVAL);
    memcpy(buf + 36, "junk", 4);
    assert_int_equal(tt_audio_wav_decode(buf, len, &rate, &note, &note_len, &back, &frames),
                     EINVAL);
    free(buf);
}

/* ---- recordings --------------------------------------------------------------------------- */

static void a_wav_recording_overrides_speech_at_every_rate(void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/en/main.wav", f->prompts);
    write_tone(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 440, 1.5, 0.5);
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        tt_store *s = open_store(f, rates[i], f->prompts, f->cache);
        assert_tone(get(s, "en", EN, "main", EN_TEXT), rates[i], 1.5);
        assert_int_equal(stats(s).recordings, 1);
        assert_int_equal(stats(s).synthesized, 0);
        assert_int_equal(stats(s).fallbacks, 0);
    }
    assert_int_equal(tt_diag_len(f->diag), 0);
}

static void a_slower_recording_is_stretched_in_time_with_its_pitch_kept(void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/en/main.wav", f->prompts);
    write_tone(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 440, 2.0, 0.5);
    tt_store *s = open_store(f, 16000, f->prompts, f->cache);
    static const int speeds[] = {50, 85, 150};
    for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++) {
        const struct tt_clip *c = NULL;
        assert_int_equal(tt_store_get(s, "en", EN, "main", EN_TEXT, speeds[i], &c), 0);
        assert_true(c->recorded);
        /* two seconds at half speed last about four, and so on (rubberband may pad a little) */
        double want = 2.0 * 100.0 / speeds[i] * 16000;
        assert_true(fabs((double)c->frames - want) < 0.03 * want);
        /* the pitch stays 440 Hz: a plain resampling would have moved it */
        double at = power_at(c, 16000, 440);
        double moved = power_at(c, 16000, 440.0 * speeds[i] / 100.0);
        assert_true(at > 20 * moved);
        /* measured after stretching: at the one loudness of every prompt */
        assert_true(fabs(lufs(c, 16000) - TT_LOUD_TARGET_LUFS) < 0.1);
    }
    assert_int_equal(stats(s).fallbacks, 0);
}

static void a_flac_recording_overrides_speech(void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/es/main.flac", f->prompts);
    write_tone(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 22050, 1, 440, 2.0, 0.3);
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        tt_store *s = open_store(f, rates[i], f->prompts, NULL);
        assert_tone(get(s, "es", ES, "main", ES_TEXT), rates[i], 2.0);
        assert_int_equal(stats(s).recordings, 1);
    }
}

static void a_recording_at_the_output_rate_is_kept_sample_for_sample_but_for_one_gain(
    void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/en/main.wav", f->prompts);
    write_tone(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 440, 0.5, 0.5);
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    assert_non_null(sf);
    short *want = malloc((size_t)info.frames * sizeof(*want));
    assert_int_equal(sf_readf_short(sf, want, info.frames), info.frames);
    sf_close(sf);
    const struct tt_clip *c = get(open_store(f, 16000, f->prompts, NULL), "en", EN, "main", "x");
    assert_int_equal(c->frames, info.frames);
    /* No resampling, no filter: every sample is the recorded one times the gain that brings
     * the clip to the target loudness, rounded. A 440 Hz tone of amplitude 0.5 reads about
     * -9 LUFS, so the gain is about -14 dB. */
    struct tt_loud l;
    assert_int_equal(tt_loud_measure(want, c->frames, 16000, &l), 0);
    tt_loud_plan(&l);
    assert_int_equal(l.limit, TT_LOUD_TARGET);
    assert_true(l.gain_db < -13 && l.gain_db > -15);
    double g = pow(10, l.gain_db / 20);
    for (size_t i = 0; i < c->frames; i++)
        assert_true(fabs(c->pcm[i] - want[i] * g) <= 0.5);
    free(want);
}

static void recordings_in_every_common_format_are_decoded(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *ext;
        int format, rate;
    } fmt[] = {
        {"ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100},
        {"opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000},
        {"mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100},
        {"aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 32000},
        {"au", SF_FORMAT_AU | SF_FORMAT_ULAW, 8000},
        {"wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 96000},
    };
    for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/en/main.%s", f->prompts, fmt[i].ext);
        write_tone(path, fmt[i].format, fmt[i].rate, 2, 440, 1.5, 0.5);
        tt_store *s = open_store(f, 16000, f->prompts, NULL);
        /* Each comes out at the one loudness, lossy or not. */
        assert_tone(get(s, "en", EN, "main", "x"), 16000, 1.5);
        unlink(path);
    }
    assert_int_equal(tt_diag_len(f->diag), 0);
}

static void a_too_loud_recording_is_clipped_not_wrapped(void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/en/main.wav", f->prompts);
    /* A float file can hold samples over full scale; int16 cannot. */
    write_tone(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 1, 440, 1.0, 1.5);
    const struct tt_clip *c = get(open_store(f, 16000, f->prompts, NULL), "en", EN, "main", "x");
    assert_int_equal(c->frames, 16000);
    /* Clipped at full scale when decoded, then brought down to the one loudness by one gain:
     * the flat tops and bottoms of the clipping are still there, at the same height. */
    int16_t lo = 0, hi = 0;
    for (size_t i = 1000; i < c->frames - 1000; i++) {
        lo = c->pcm[i] < lo ? c->pcm[i] : lo;
        hi = c->pcm[i] > hi ? c->pcm[i] : hi;
    }
    assert_true(hi > 1000 && abs(hi + lo) <= 1);
    double g = hi / 32767.0;
    for (size_t i = 1000; i < c->frames - 1000; i++) {
        double want = 1.5 * 32768 * sin(2 * M_PI * 440 * (double)i / 16000);
        want = want > 32767 ? 32767 : want < -32768 ? -32768 : want;
        assert_true(fabs(c->pcm[i] - g * want) < 1500 * g); /* a wrapped sample is far off */
    }
}

static void the_first_format_found_wins(void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/en/main.flac", f->prompts);
    write_tone(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, 1000, 1.0, 0.5);
    snprintf(path, sizeof(path), "%s/en/main.wav", f->prompts);
    write_tone(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 440, 1.0, 0.5);
    assert_tone(get(open_store(f, 16000, f->prompts, NULL), "en", EN, "main", "x"), 16000, 1.0);
}

static void a_recording_stands_in_only_for_its_node_and_language(void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/en/main.wav", f->prompts);
    write_tone(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 440, 1.0, 0.5);
    tt_store *s = open_store(f, 16000, f->prompts, NULL);
    assert_speech(get(s, "en", EN, NULL, EN_TEXT), 16000);    /* engine words: no node */
    assert_speech(get(s, "en", EN, "steps", EN_TEXT), 16000); /* another node */
    assert_speech(get(s, "es", ES, "main", ES_TEXT), 16000);  /* another language */
    assert_speech(get(s, "en", EN, "../en/main", EN_TEXT), 16000); /* outside the folder */
    assert_true(get(s, "en", EN, "main", EN_TEXT)->recorded);
    assert_int_equal(stats(s).recordings, 1);
    /* No prompts folder at all: speech. */
    s = open_store(f, 16000, NULL, NULL);
    assert_speech(get(s, "en", EN, "main", EN_TEXT), 16000);
}

static void check_fallback(struct fx *f, const char *name, const void *bytes, size_t len)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/en/%s", f->prompts, name);
    write_bytes(path, bytes, len);
    tt_store *s = open_store(f, 16000, f->prompts, f->cache);
    const struct tt_clip *c = get(s, "en", EN, "main", EN_TEXT);
    assert_speech(c, 16000); /* never silence */
    assert_ptr_equal(get(s, "en", EN, "main", EN_TEXT), c);
    assert_int_equal(stats(s).fallbacks, 1);
    assert_int_equal(stats(s).recordings, 0);
    assert_int_equal(tt_diag_count(f->diag, TT_WARNING), 1);
    assert_int_equal(tt_diag_count(f->diag, TT_ERROR), 0);
    assert_int_equal(messages_about(f->diag, TT_WARNING, path), 1);
    assert_int_equal(messages_about(f->diag, TT_WARNING, "cannot read this recording"), 1);
    unlink(path);
    tt_diag_clear(f->diag);
}

static void a_recording_of_random_bytes_falls_back_to_speech(void **state)
{
    uint8_t junk[4096];
    srand(7);
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)rand();
    check_fallback(*state, "main.wav", junk, sizeof(junk));
}

static void a_wav_header_with_no_audio_falls_back_to_speech(void **state)
{
    /* A 44-byte WAV header for 16 kHz mono 16-bit, data size 0. */
    static const uint8_t hdr[44] = {'R', 'I', 'F', 'F', 36, 0, 0, 0, 'W', 'A', 'V', 'E',
                                    'f', 'm', 't', ' ', 16, 0, 0, 0, 1, 0, 1, 0,
                                    0x80, 0x3e, 0, 0, 0, 0x7d, 0, 0, 2, 0, 16, 0,
                                    'd', 'a', 't', 'a', 0, 0, 0, 0};
    check_fallback(*state, "main.wav", hdr, sizeof(hdr));
}

static void a_wav_header_promising_audio_that_is_not_there_falls_back_to_speech(void **state)
{
    /* The same header claiming 32000 bytes of samples, cut off right after it. */
    static const uint8_t hdr[44] = {'R', 'I', 'F', 'F', 36, 0x7d, 0, 0, 'W', 'A', 'V', 'E',
                                    'f', 'm', 't', ' ', 16, 0, 0, 0, 1, 0, 1, 0,
                                    0x80, 0x3e, 0, 0, 0, 0x7d, 0, 0, 2, 0, 16, 0,
                                    'd', 'a', 't', 'a', 0, 0x7d, 0, 0};
    check_fallback(*state, "main.wav", hdr, sizeof(hdr));
}

static void a_text_file_named_flac_falls_back_to_speech(void **state)
{
    static const char text[] = "Record step one here before the kiosk goes live.\n";
    check_fallback(*state, "main.flac", text, sizeof(text) - 1);
}

static void a_silent_recording_falls_back_to_speech(void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/en/main.wav", f->prompts);
    write_tone(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 440, 1.0, 0.0);
    tt_store *s = open_store(f, 16000, f->prompts, NULL);
    assert_speech(get(s, "en", EN, "main", EN_TEXT), 16000);
    assert_int_equal(stats(s).fallbacks, 1);
    assert_int_equal(messages_about(f->diag, TT_WARNING, "silent"), 1);
}


/* ---- files that are not what they seem ---------------------------------------------------- */

/* Opening a FIFO waits for a writer, for ever: any test that makes one runs under an alarm,
 * so that a regression fails in seconds instead of stalling the suite. */
#define HANG_SECONDS 60

/* How many warnings name a file and say some words. */
static size_t warnings_about(const tt_diag *d, const char *path, const char *words)
{
    size_t n = 0;
    for (size_t i = 0; i < tt_diag_len(d); i++) {
        const struct tt_diag_msg *m = tt_diag_get(d, i);
        if (m->sev == TT_WARNING && m->file && !strcmp(m->file, path) && strstr(m->text, words))
            n++;
    }
    return n;
}

/* The node's text is spoken instead of the recording at path, with one warning that names
 * the file and says words. */
static void expect_spoken_instead(struct fx *f, tt_store *s, const char *path, const char *words)
{
    const struct tt_clip *c = get(s, "en", EN, "main", EN_TEXT);
    assert_speech(c, 16000); /* never silence */
    assert_int_equal(stats(s).fallbacks, 1);
    assert_int_equal(stats(s).recordings, 0);
    if (warnings_about(f->diag, path, words) != 1) {
        tt_diag_print(f->diag, stderr);
        fail_msg("expected one warning about %s saying \"%s\"", path, words);
    }
    assert_int_equal(tt_diag_count(f->diag, TT_ERROR), 0);
}

static void a_fifo_named_as_a_recording_is_spoken_with_a_warning(void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/en/main.wav", f->prompts);
    assert_int_equal(mkfifo(path, 0600), 0);
    alarm(HANG_SECONDS);
    tt_store *s = open_store(f, 16000, f->prompts, NULL);
    expect_spoken_instead(f, s, path, "FIFO");
    alarm(0);
}

static void a_device_named_as_a_recording_is_spoken_with_a_warning(void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/en/main.wav", f->prompts);
    assert_int_equal(symlink("/dev/zero", path), 0);
    alarm(HANG_SECONDS);
    tt_store *s = open_store(f, 16000, f->prompts, NULL);
    expect_spoken_instead(f, s, path, "device");
    alarm(0);
}

static void a_fifo_in_the_cache_is_a_miss_and_is_replaced(void **state)
{
    struct fx *f = *state;
    tt_store *s = open_store(f, 16000, NULL, f->cache);
    size_t frames = get(s, "en", EN, NULL, EN_TEXT)->frames;
    char path[512];
    cache_file_of(f, 16000, EN, EN_TEXT, path, sizeof(path));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0600), 0);
    forget_engine_copy(f, EN_TEXT);

    alarm(HANG_SECONDS);
    s = open_store(f, 16000, NULL, f->cache);
    const struct tt_clip *c = get(s, "en", EN, NULL, EN_TEXT);
    alarm(0);
    assert_int_equal(c->frames, frames);
    assert_speech(c, 16000);
    assert_int_equal(stats(s).synthesized, 1);
    assert_int_equal(stats(s).disk_hits, 0);
    /* the FIFO made way for a real cache file, read at the next start */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    s = open_store(f, 16000, NULL, f->cache);
    get(s, "en", EN, NULL, EN_TEXT);
    assert_int_equal(stats(s).disk_hits, 1);
    assert_int_equal(tt_diag_len(f->diag), 0);
}

/* ---- recordings cut short ----------------------------------------------------------------- */

/* Keep the first part of a file, as a copy or an export that stopped part way leaves it. */
static void cut(const char *path, double keep)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, (off_t)((double)st.st_size * keep)), 0);
}

static void a_recording_cut_short_is_spoken_with_a_warning_not_played_in_part(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *ext;
        int format, rate;
    } fmt[] = {
        {"wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000},
        {"wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100},
        {"wav", SF_FORMAT_WAVEX | SF_FORMAT_PCM_24, 48000},
        {"wav", SF_FORMAT_RF64 | SF_FORMAT_PCM_16, 48000},
        {"wav", SF_FORMAT_WAV | SF_FORMAT_IMA_ADPCM, 16000},
        {"aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 44100},
        {"au", SF_FORMAT_AU | SF_FORMAT_ULAW, 8000},
        {"flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100},
        {"mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100},
        {"ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100},
        {"opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000},
    };
    static const double keep[] = {0.6, 0.95};
    for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++)
        for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
            char path[256];
            snprintf(path, sizeof(path), "%s/en/main.%s", f->prompts, fmt[i].ext);
            write_tone(path, fmt[i].format, fmt[i].rate, 1, 440, 3.0, 0.5);
            cut(path, keep[k]);
            tt_diag_clear(f->diag);
            tt_store *s = open_store(f, 16000, f->prompts, NULL);
            const struct tt_clip *c = get(s, "en", EN, "main", EN_TEXT);
            if (c->recorded || warnings_about(f->diag, path, "cut short") != 1) {
                tt_diag_print(f->diag, stderr);
                fail_msg("format %d (.%s) with %.0f%% kept: %s", fmt[i].format, fmt[i].ext,
                         keep[k] * 100, c->recorded ? "played in part" : "no warning");
            }
            expect_spoken_instead(f, s, path, "export it again");
            unlink(path);
        }
}

/* A WAV file, by hand: the header writers of some recorders, not libsndfile's. */
static void write_wav_by_hand(const char *path, uint32_t riff_size, uint32_t data_size,
                              const int16_t *pcm, size_t n, const char *after)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    uint8_t h[44] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ',
                     16, 0, 0, 0, 1, 0, 1, 0, 0x80, 0x3e, 0, 0, 0, 0x7d, 0, 0, 2, 0, 16, 0,
                     'd', 'a', 't', 'a', 0, 0, 0, 0};
    for (int b = 0; b < 4; b++) {
        h[4 + b] = (uint8_t)(riff_size >> (8 * b));
        h[40 + b] = (uint8_t)(data_size >> (8 * b));
    }
    assert_int_equal(fwrite(h, 1, sizeof(h), fp), sizeof(h));
    for (size_t i = 0; i < n; i++) {
        uint8_t le[2] = {(uint8_t)pcm[i], (uint8_t)((uint16_t)pcm[i] >> 8)};
        assert_int_equal(fwrite(le, 1, 2, fp), 2);
    }
    if (after)
        fputs(after, fp);
    assert_int_equal(fclose(fp), 0);
}

static void whole_recordings_are_not_taken_for_cut_ones(void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/en/main.wav", f->prompts);
    size_t n = 16000;
    int16_t *pcm = malloc(n * sizeof(*pcm));
    assert_non_null(pcm);
    for (size_t i = 0; i < n; i++)
        pcm[i] = (int16_t)lrint(0.5 * 32768 * sin(2 * M_PI * 440 * (double)i / 16000));
    const uint32_t bytes = (uint32_t)n * 2;

    /* A chunk after the samples (a LIST of tags, as many editors write) */
    static const char list[] = "LIST\x04\x00\x00\x00INFO";
    write_wav_by_hand(path, 36 + bytes + 12, bytes, pcm, n, list);
    assert_tone(get(open_store(f, 16000, f->prompts, NULL), "en", EN, "main", "x"), 16000, 1.0);
    /* A recorder that streams and never goes back to fill in the sizes */
    write_wav_by_hand(path, 0xffffffff, 0xffffffff, pcm, n, NULL);
    assert_tone(get(open_store(f, 16000, f->prompts, NULL), "en", EN, "main", "x"), 16000, 1.0);
    /* A wrong RIFF size over a whole data chunk: the audio is all there */
    write_wav_by_hand(path, 12345678, bytes, pcm, n, NULL);
    assert_tone(get(open_store(f, 16000, f->prompts, NULL), "en", EN, "main", "x"), 16000, 1.0);
    free(pcm);
    unlink(path);

    /* An MP3 with no Xing or Info frame: its length is an estimate, a frame or so too long */
    snprintf(path, sizeof(path), "%s/en/main.mp3", f->prompts);
    write_tone(path, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 1, 440, 3.0, 0.5);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    uint8_t head[4096];
    size_t got = fread(head, 1, sizeof(head), fp);
    bool found = false;
    for (size_t i = 0; i + 4 <= got && !found; i++)
        if (!memcmp(head + i, "Xing", 4) || !memcmp(head + i, "Info", 4)) {
            memset(head + i, 0, 4);
            found = true;
        }
    assert_true(found);
    assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
    assert_int_equal(fwrite(head, 1, got, fp), got);
    assert_int_equal(fclose(fp), 0);
    const struct tt_clip *c = get(open_store(f, 16000, f->prompts, NULL), "en", EN, "main", "x");
    assert_true(c->recorded);
    assert_int_equal(tt_diag_len(f->diag), 0);
}

/* ---- recordings that would cost too much -------------------------------------------------- */

/* A mono 16-bit WAV of any length that costs no disk: a 440 Hz tone for its first second,
 * then a hole (zeros) to the end. */
static void write_long_wav(const char *path, int rate, double seconds)
{
    size_t frames = (size_t)llround(seconds * rate);
    uint64_t bytes = (uint64_t)frames * 2;
    assert_true(bytes + 36 <= UINT32_MAX);
    size_t tone = frames < (size_t)rate ? frames : (size_t)rate;
    int16_t *pcm = malloc(tone * sizeof(*pcm));
    assert_non_null(pcm);
    for (size_t i = 0; i < tone; i++)
        pcm[i] = (int16_t)lrint(0.5 * 32768 * sin(2 * M_PI * 440 * (double)i / rate));
    SF_INFO info = {.samplerate = rate, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    assert_non_null(sf);
    assert_int_equal(sf_writef_short(sf, pcm, (sf_count_t)tone), (sf_count_t)tone);
    assert_int_equal(sf_close(sf), 0);
    free(pcm);
    /* then the sizes in the header, and the file, made as long as they say */
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    uint8_t le[4];
    for (int b = 0; b < 4; b++)
        le[b] = (uint8_t)((bytes + 36) >> (8 * b));
    assert_int_equal(fseek(fp, 4, SEEK_SET), 0);
    assert_int_equal(fwrite(le, 1, 4, fp), 4);
    for (int b = 0; b < 4; b++)
        le[b] = (uint8_t)(bytes >> (8 * b));
    assert_int_equal(fseek(fp, 40, SEEK_SET), 0);
    assert_int_equal(fwrite(le, 1, 4, fp), 4);
    assert_int_equal(ftruncate(fileno(fp), (off_t)(44 + bytes)), 0);
    assert_int_equal(fclose(fp), 0);
}

/* Resident memory of this process, KiB: now, or the most since the last reset_peak(). */
static long status_kib(const char *field)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (fp && fgets(line, sizeof(line), fp))
        if (!strncmp(line, field, strlen(field)))
            kib = atol(line + strlen(field));
    if (fp)
        fclose(fp);
    return kib;
}

/* Linux forgets the high-water mark of resident memory when "5" is written to clear_refs;
 * false where it cannot (then memory is not measured). */
static bool reset_peak(void)
{
    FILE *fp = fopen("/proc/self/clear_refs", "w");
    if (!fp)
        return false;
    bool ok = fputs("5", fp) >= 0;
    return fclose(fp) == 0 && ok;
}

/* Ask for the recording of node main, and measure how much memory the asking took at most. */
static const struct tt_clip *get_measured(tt_store *s, long *peak_mib)
{
    long before = status_kib("VmRSS:");
    bool measured = reset_peak();
    const struct tt_clip *c = get(s, "en", EN, "main", EN_TEXT);
    long hwm = status_kib("VmHWM:");
    *peak_mib = measured && before > 0 && hwm > 0 ? (hwm - before) / 1024 : -1;
    return c;
}

static void a_recording_too_costly_to_decode_is_spoken_with_a_warning(void **state)
{
    /* Five minutes at 768 kHz: valid, and 230 million samples. Decoding it whole once took
     * 1.9 GB; it is refused from its header, before a sample is decoded. */
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/en/main.wav", f->prompts);
    write_long_wav(path, 768000, 300);
    tt_store *s = open_store(f, 16000, f->prompts, NULL);
    long peak;
    alarm(HANG_SECONDS);
    get_measured(s, &peak);
    alarm(0);
    expect_spoken_instead(f, s, path, "lasts 5 min 0 s at 768000 Hz");
    assert_int_equal(warnings_about(f->diag, path, "resample it to 48 kHz"), 1);
    if (peak >= 0 && peak > 64)
        fail_msg("refusing it took %ld MiB", peak);
}

static void a_recording_over_ten_minutes_is_spoken_with_a_warning(void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/en/main.wav", f->prompts);
    write_long_wav(path, 8000, 10 * 60 + 1);
    tt_store *s = open_store(f, 16000, f->prompts, NULL);
    expect_spoken_instead(f, s, path, "lasts 10 min 1 s");
    assert_int_equal(warnings_about(f->diag, path, "10 minutes"), 1);
}

static void recordings_just_under_the_limits_play(void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/en/main.wav", f->prompts);
    static const struct {
        int rate;
        double seconds;
    } under[] = {
        {8000, 10 * 60 - 1}, /* just under ten minutes */
        {192000, 299},       /* just under the samples allowed: 57.4 of 57.6 million */
    };
    for (size_t i = 0; i < sizeof(under) / sizeof(under[0]); i++) {
        write_long_wav(path, under[i].rate, under[i].seconds);
        tt_store *s = open_store(f, 16000, f->prompts, NULL);
        long peak;
        alarm(HANG_SECONDS);
        const struct tt_clip *c = get_measured(s, &peak);
        alarm(0);
        assert_true(c->recorded);
        assert_true(fabs((double)c->frames - under[i].seconds * 16000) <= 4);
        /* the tone at the start came through */
        struct tt_clip first = {.pcm = c->pcm, .frames = 16000};
        assert_true(power_at(&first, 16000, 440) > 1000 * power_at(&first, 16000, 1000));
        /* memory: the result (2 bytes a sample at 16 kHz) and small buffers, not the source */
        long out_mib = (long)(c->frames * sizeof(int16_t) >> 20);
        if (peak >= 0 && peak > out_mib + 48)
            fail_msg("%d Hz, %.0f s: decoding took %ld MiB for a result of %ld MiB",
                     under[i].rate, under[i].seconds, peak, out_mib);
        unlink(path);
    }
    assert_int_equal(tt_diag_len(f->diag), 0);
}

/* ---- the cache's own checks --------------------------------------------------------------- */

/* Where the samples start in one of the cache's WAV files, and how many bytes they take. */
static size_t samples_in(const uint8_t *b, size_t len, size_t *bytes)
{
    size_t off = 12;
    while (off + 8 <= len) {
        size_t size = (size_t)b[off + 4] | (size_t)b[off + 5] << 8 | (size_t)b[off + 6] << 16 |
                      (size_t)b[off + 7] << 24;
        if (!memcmp(b + off, "data", 4)) {
            *bytes = size;
            return off + 8;
        }
        off += 8 + size + (size & 1);
    }
    fail_msg("no data chunk");
    return 0;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    *len = (size_t)ftell(fp);
    rewind(fp);
    uint8_t *b = malloc(*len);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *len, fp), *len);
    fclose(fp);
    return b;
}

static void a_damaged_sample_in_a_cache_file_is_a_miss_and_is_replaced(void **state)
{
    struct fx *f = *state;
    tt_store *s = open_store(f, 16000, NULL, f->cache);
    get(s, "en", EN, NULL, EN_TEXT);
    char path[512];
    cache_file_of(f, 16000, EN, EN_TEXT, path, sizeof(path));
    size_t len, bytes;
    uint8_t *good = read_all(path, &len);
    size_t at = samples_in(good, len, &bytes);
    assert_true(bytes > 1000);

    /* One byte of one sample, in the middle: a click the listener would hear, in a file
     * whose header, key and size are all still right. */
    static const size_t where[] = {0, 1, 2};
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        size_t flip = where[i] == 0 ? at + bytes / 2 : where[i] == 1 ? at : at + bytes - 1;
        uint8_t *bad = malloc(len);
        assert_non_null(bad);
        memcpy(bad, good, len);
        bad[flip] ^= 0x40;
        write_bytes(path, bad, len);
        free(bad);
        forget_engine_copy(f, EN_TEXT);

        s = open_store(f, 16000, NULL, f->cache);
        const struct tt_clip *c = get(s, "en", EN, NULL, EN_TEXT);
        assert_int_equal(stats(s).disk_hits, 0);
        assert_int_equal(stats(s).synthesized, 1);
        assert_int_equal(c->frames * 2, bytes);
        assert_memory_equal(c->pcm, good + at, bytes); /* the words as they should be */
        /* and the damaged file was replaced by a good one */
        size_t now_len;
        uint8_t *now = read_all(path, &now_len);
        assert_int_equal(now_len, len);
        assert_memory_equal(now, good, len);
        free(now);
    }
    s = open_store(f, 16000, NULL, f->cache);
    get(s, "en", EN, NULL, EN_TEXT);
    assert_int_equal(stats(s).disk_hits, 1);
    free(good);
    assert_int_equal(tt_diag_len(f->diag), 0);
}

/* ---- the cache is private ----------------------------------------------------------------- */

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* Every file in a folder has this mode; returns how many there are. */
static size_t expect_files_mode(const char *dir, mode_t want)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    size_t n = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (mode_of(path) != want)
            fail_msg("%s has mode %04o, not %04o", path, (unsigned)mode_of(path), (unsigned)want);
        n++;
    }
    closedir(d);
    return n;
}

static void the_cache_folder_and_its_files_are_private_whatever_the_umask(void **state)
{
    struct fx *f = *state;
    static const mode_t masks[] = {0, 022, 077, 0277};
    for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
        char deep[256];
        snprintf(deep, sizeof(deep), "%s/u%03o/a/b", f->cache, (unsigned)masks[i]);
        mode_t old = umask(masks[i]);
        tt_store *s = open_store(f, 16000, NULL, deep);
        get(s, "en", EN, NULL, texts[0]);
        get(s, "en", EN, NULL, texts[1]);
        umask(old);
        assert_int_equal(mode_of(deep), 0700);
        assert_int_equal(expect_files_mode(deep, 0600), 4); /* two texts, each twice */
        /* and read back: 0600 is not too tight for ourselves */
        s = open_store(f, 16000, NULL, deep);
        get(s, "en", EN, NULL, texts[0]);
        assert_int_equal(stats(s).disk_hits, 1);
    }
    assert_int_equal(tt_diag_len(f->diag), 0);
}

static void an_open_cache_folder_of_ours_is_made_private_even_when_warm(void **state)
{
    /* A cache an older version filled (folder 0755, files 0644) that needs no write at all:
     * the folder is closed at the first read, so none of its files can be reached. */
    struct fx *f = *state;
    tt_store *s = open_store(f, 16000, NULL, f->cache);
    get(s, "en", EN, NULL, texts[0]);
    assert_int_equal(chmod(f->cache, 0755), 0);
    s = open_store(f, 16000, NULL, f->cache);
    get(s, "en", EN, NULL, texts[0]);
    assert_int_equal(stats(s).disk_hits, 1);
    assert_int_equal(mode_of(f->cache), 0700);
    assert_int_equal(tt_diag_len(f->diag), 0);
}

static void a_shared_folder_named_as_the_cache_is_not_changed_but_warned_about(void **state)
{
    /* A folder with other things in it (someone gave --cache /tmp, or their home) is not
     * ours to close: say so instead. */
    struct fx *f = *state;
    assert_int_equal(mkdir(f->cache, 0777), 0);
    assert_int_equal(chmod(f->cache, 01777), 0);
    char other[256];
    snprintf(other, sizeof(other), "%s/notes.txt", f->cache);
    write_bytes(other, "x", 1);
    assert_int_equal(chmod(other, 0600), 0);
    tt_store *s = open_store(f, 16000, NULL, f->cache);
    assert_speech(get(s, "en", EN, NULL, texts[0]), 16000);
    assert_speech(get(s, "en", EN, NULL, texts[1]), 16000);
    assert_int_equal(mode_of(f->cache), 01777);
    assert_int_equal(messages_about(f->diag, TT_WARNING, "other users"), 1);
    assert_int_equal(tt_diag_count(f->diag, TT_WARNING), 1); /* once, not per prompt */
    assert_int_equal(expect_files_mode(f->cache, 0600), 5); /* notes.txt and our two, twice */
}

static void a_cache_folder_of_another_user_is_warned_about(void **state)
{
    struct fx *f = *state;
    const char *dir = f->cache;
    if (geteuid() == 0) {
        /* root can make a folder belong to someone else (nobody), and still write in it */
        assert_int_equal(mkdir(f->cache, 0755), 0);
        assert_int_equal(chown(f->cache, 65534, 65534), 0);
    } else {
        dir = "/"; /* not ours; only read here, never written (we cannot) */
    }
    tt_store *s = open_store(f, 16000, NULL, dir);
    assert_speech(get(s, "en", EN, NULL, texts[0]), 16000);
    assert_int_equal(messages_about(f->diag, TT_WARNING, "belongs to another user"), 1);
    if (geteuid() == 0)
        assert_int_equal(mode_of(f->cache), 0755); /* not ours to change */
}

/* The rate a menu's prompts are made at: the voices', raised by a recording's, at most 48 kHz. */
static int rate_of(const char *dir, const char *voices, const char *langs)
{
    char ini[1024];
    snprintf(ini, sizeof(ini),
             "[tonetree]\nstart = main\nprompts = %s\nlanguages = %s\n%s\n"
             "[main]\ntitle = the main menu\ntext = Welcome.\n%s",
             dir, langs, voices,
             strchr(langs, ' ') ? "title.es = el menú\ntext.es = Bienvenido.\n" : "");
    tt_diag *d = tt_diag_new();
    tt_menu *m = NULL;
    int err = tt_menu_load_mem(&m, "tests/data/inline.ini", ini, strlen(ini), d);
    if (err)
        tt_diag_print(d, stderr);
    assert_int_equal(err, 0);
    int rate = tt_prompts_rate(m, NULL, d);
    tt_menu_free(m);
    tt_diag_free(d);
    return rate;
}

static void prompts_are_kept_at_the_rate_their_voices_and_recordings_are_made_at(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char en[600], wav[700];
    snprintf(en, sizeof(en), "%s/en", dir);
    assert_int_equal(mkdir(en, 0700), 0);
    assert_int_equal(rate_of(dir, "voice.en = flite:kal16", "en"), 16000);
    assert_int_equal(rate_of(dir, "voice.en = espeak-ng:en", "en"), 22050);
    assert_int_equal(rate_of(dir, "voice.en = flite:rms\nvoice.es = espeak-ng:es", "en es"),
                     22050);
    /* a clerk's recording at 44.1 kHz: kept at its rate */
    int16_t pcm[441] = {0};
    snprintf(wav, sizeof(wav), "%s/main.wav", en);
    tl_write_wav(wav, pcm, 441, 44100);
    assert_int_equal(rate_of(dir, "voice.en = flite:kal16", "en"), 44100);
    /* at 96 kHz: 48 kHz is all a listener hears */
    tl_write_wav(wav, pcm, 441, 96000);
    assert_int_equal(rate_of(dir, "voice.en = flite:kal16", "en"), 48000);
    /* a recording of no node of the menu is not played, so it is not counted */
    char stray[700];
    snprintf(stray, sizeof(stray), "%s/old-welcome.wav", en);
    tl_write_wav(stray, pcm, 441, 96000);
    tl_write_wav(wav, pcm, 441, 44100);
    assert_int_equal(rate_of(dir, "voice.en = flite:kal16", "en"), 44100);
    /* a file that is not audio is the store's to warn about, not a rate */
    FILE *f = fopen(wav, "w");
    assert_non_null(f);
    fputs("not audio", f);
    fclose(f);
    assert_int_equal(rate_of(dir, "voice.en = flite:kal16", "en"), 16000);
    tl_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prompts_are_kept_at_the_rate_their_voices_and_recordings_are_made_at),
        cmocka_unit_test_setup_teardown(english_speech_is_a_plausible_sentence_at_every_rate,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(spanish_speech_is_a_plausible_sentence_at_every_rate,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(speech_is_resampled_to_the_same_duration_at_every_rate,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(asking_again_returns_the_same_clip_without_work, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(empty_text_is_a_short_silence, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_voices_are_refused_with_a_message, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(other_voices_speak_too, setup, teardown),
        cmocka_unit_test_setup_teardown(speed_changes_the_length_and_the_cache_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            a_warm_cache_synthesizes_nothing_and_gives_the_same_samples, setup, teardown),
        cmocka_unit_test_setup_teardown(two_processes_can_fill_one_cache_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            the_cache_folder_is_created_and_holds_only_finished_files, setup, teardown),
        cmocka_unit_test_setup_teardown(a_garbage_cache_file_is_a_miss_and_is_replaced, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_cache_file_holding_another_key_is_a_miss, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_cache_that_cannot_be_written_is_a_warning, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_wav_codec_refuses_what_it_did_not_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_wav_recording_overrides_speech_at_every_rate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_slower_recording_is_stretched_in_time_with_its_pitch_kept,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_flac_recording_overrides_speech, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_recording_at_the_output_rate_is_kept_sample_for_sample_but_for_one_gain, setup,
            teardown),
        cmocka_unit_test_setup_teardown(recordings_in_every_common_format_are_decoded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_too_loud_recording_is_clipped_not_wrapped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_first_format_found_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(a_recording_stands_in_only_for_its_node_and_language,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_recording_of_random_bytes_falls_back_to_speech, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_wav_header_with_no_audio_falls_back_to_speech, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            a_wav_header_promising_audio_that_is_not_there_falls_back_to_speech, setup,
            teardown),
        cmocka_unit_test_setup_teardown(a_text_file_named_flac_falls_back_to_speech, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_silent_recording_falls_back_to_speech, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_fifo_named_as_a_recording_is_spoken_with_a_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(a_device_named_as_a_recording_is_spoken_with_a_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(a_fifo_in_the_cache_is_a_miss_and_is_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(a_recording_cut_short_is_spoken_with_a_warning_not_played_in_part, setup, teardown),
        cmocka_unit_test_setup_teardown(whole_recordings_are_not_taken_for_cut_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(a_recording_too_costly_to_decode_is_spoken_with_a_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(a_recording_over_ten_minutes_is_spoken_with_a_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(recordings_just_under_the_limits_play, setup, teardown),
        cmocka_unit_test_setup_teardown(a_damaged_sample_in_a_cache_file_is_a_miss_and_is_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(the_cache_folder_and_its_files_are_private_whatever_the_umask, setup, teardown),
        cmocka_unit_test_setup_teardown(an_open_cache_folder_of_ours_is_made_private_even_when_warm, setup, teardown),
        cmocka_unit_test_setup_teardown(a_shared_folder_named_as_the_cache_is_not_changed_but_warned_about, setup, teardown),
        cmocka_unit_test_setup_teardown(a_cache_folder_of_another_user_is_warned_about, setup, teardown),
    };
    return cmocka_run_group_tests_name("prompt store", tests, NULL, NULL);
}
