/*
 * Speech synthesis backends: flite for English, espeak-ng for everything else.
 *
 * Both engines are libraries with process-wide state (flite's voice registry, espeak-ng's one
 * current voice and output callback), so this module starts each engine once, lazily, the
 * first time a voice of it is named, and serialises every call into them with one mutex: two
 * stores in two threads then cannot mix their speech. espeak-ng also runs on one thread of its
 * own (see on_espeak_thread). Neither engine is ever shut down:
 * espeak-ng 1.51 hangs in espeak_ng_Synchronize when it is initialised again after
 * espeak_ng_Terminate, and what both keep is reachable from their globals, so leak checkers
 * do not count it.
 *
 * Engines must never print or end the process behind the library's back. espeak-ng reports
 * errors as status codes when driven through espeak_ng_*. flite writes warnings to stderr
 * through cst_errmsg() and calls exit() on internal errors unless cst_errjmp points at a
 * jmp_buf; so we define our own cst_errmsg (it wins over libflite.so's, which calls it
 * through the PLT) that keeps the last message, and catch flite's errors with setjmp.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>
#include <flite/flite.h>
#include <flite/flite_version.h>

#include "base/thread.h"

#include "prompt/tts.h"

#define ALLOWED_VOICES                                                                         \
    "flite:kal16, flite:slt, flite:rms, flite:awb (English), or espeak-ng:<language> for "    \
    "any other language (espeak-ng:es, espeak-ng:fr, ...)"

/* The flite voices we link. Declared here because flite installs no header for them. */
cst_voice *register_cmu_us_kal16(const char *voxdir);
cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);

static const struct flite_voice_def {
    const char *name;  /* canonical: used in cache keys */
    const char *alias; /* "kal" is the same speaker; its 8 kHz diphone voice is not linked */
    cst_voice *(*reg)(const char *voxdir);
    int wpm;
} flite_defs[] = {
    /* The last figure is the voice's own rate, in words per minute over the guide's English
     * texts at its default duration_stretch (measured with bench_pace's method). */
    {"kal16", "kal", register_cmu_us_kal16, 181},
    {"slt", NULL, register_cmu_us_slt, 193},
    {"rms", NULL, register_cmu_us_rms, 175},
    {"awb", NULL, register_cmu_us_awb, 190},
};

/* espeak-ng's rate parameter is nominal: its voices differ around it. Measured at
 * espeakRATE_NORMAL over the guide's Spanish; other voices are taken at their word. */
static const struct {
    const char *voice;
    int wpm;
} espeak_natural[] = {{"es", 177}, {"es-419", 165}};
#define FLITE_NVOICES (sizeof(flite_defs) / sizeof(flite_defs[0]))

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* flite state, under lock. */
static bool flite_started;
static cst_voice *flite_voice[FLITE_NVOICES];
static float flite_stretch[FLITE_NVOICES]; /* the voice's own duration_stretch */
static char flite_msg[256];                /* flite's last message, for error reports */

/* espeak-ng state, under lock. */
static int espeak_rate;        /* > 0 once started */
static int espeak_start_err;   /* remembered so a broken install is not retried per text */
static char espeak_start_msg[256];
static char espeak_voice_now[64]; /* the voice espeak-ng has selected */
struct sink {
    int16_t *pcm;
    size_t n, cap;
    bool oom;
};
static struct sink *espeak_sink; /* where the callback puts samples during one synthesis */

/* Replaces libflite's cst_errmsg, which prints to stderr. See the top of the file. */
int cst_errmsg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(flite_msg, sizeof(flite_msg), fmt, ap);
    va_end(ap);
    size_t len = strlen(flite_msg);
    while (len > 0 && (flite_msg[len - 1] == '\n' || flite_msg[len - 1] == ' '))
        flite_msg[--len] = '\0';
    return 0;
}

/* ---- flite ------------------------------------------------------------------------------ */

static int flite_find(const char *name)
{
    for (size_t i = 0; i < FLITE_NVOICES; i++)
        if (!strcmp(name, flite_defs[i].name) ||
            (flite_defs[i].alias && !strcmp(name, flite_defs[i].alias)))
            return (int)i;
    return -1;
}

/* Under lock: the voice, registered on first use. */
static cst_voice *flite_get(int i)
{
    if (!flite_started) {
        flite_init();
        flite_started = true;
    }
    if (!flite_voice[i]) {
        flite_voice[i] = flite_defs[i].reg(NULL);
        if (flite_voice[i])
            flite_stretch[i] = get_param_float(flite_voice[i]->features, "duration_stretch", 1.0f);
    }
    return flite_voice[i];
}

/* Under lock. */
static int flite_speak(const struct tt_tts_voice *v, const char *text, int speed_pct,
                       int16_t **pcm, size_t *frames, int *rate, tt_diag *diag)
{
    int i = flite_find(v->name);
    cst_voice *voice = i >= 0 ? flite_get(i) : NULL;
    if (!voice) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot load the flite voice '%s'", v->name);
        return EIO;
    }
    /* duration_stretch scales every segment's length: 2.0 is half speed. */
    float pace = (float)flite_defs[i].wpm / TT_TTS_PACE_WPM;
    feat_set_float(voice->features, "duration_stretch",
                   flite_stretch[i] * pace * 100.0f / speed_pct);

    jmp_buf env;
    jmp_buf *saved = cst_errjmp;
    flite_msg[0] = '\0';
    if (setjmp(env)) {
        cst_errjmp = saved;
        tt_diag_add(diag, TT_ERROR, NULL, 0, "flite could not speak \"%.60s\": %s", text,
                    flite_msg[0] ? flite_msg : "internal error");
        return EIO;
    }
    cst_errjmp = &env;
    cst_wave *w = flite_text_to_wave(text, voice);
    cst_errjmp = saved;
    if (!w) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "flite could not speak \"%.60s\"", text);
        return EIO;
    }

    int err = 0;
    int ch = w->num_channels > 0 ? w->num_channels : 1;
    size_t n = w->num_samples > 0 ? (size_t)w->num_samples : 0;
    int16_t *out = NULL;
    if (n > 0) {
        out = malloc(n * sizeof(*out));
        if (!out) {
            err = ENOMEM;
            goto out;
        }
        for (size_t k = 0; k < n; k++) /* flite's voices are mono; take channel 0 if not */
            out[k] = w->samples[k * (size_t)ch];
    }
    *pcm = out;
    *frames = n;
    *rate = w->sample_rate;
out:
    delete_wave(w);
    return err;
}

/* ---- espeak-ng -------------------------------------------------------------------------- */

static void espeak_status_text(espeak_ng_STATUS st, char *buf, size_t size)
{
    espeak_ng_GetStatusCodeMessage(st, buf, size);
}

/* espeak-ng hands over samples in pieces while it synthesizes; a NULL piece ends a text. */
static int espeak_on_samples(short *wav, int numsamples, espeak_EVENT *events)
{
    (void)events;
    struct sink *s = espeak_sink;
    if (!s || !wav || numsamples <= 0)
        return 0;
    size_t need = s->n + (size_t)numsamples;
    if (need > s->cap) {
        size_t cap = s->cap ? s->cap : 16384;
        while (cap < need)
            cap *= 2;
        int16_t *p = realloc(s->pcm, cap * sizeof(*p));
        if (!p) {
            s->oom = true;
            return 1; /* stop synthesis */
        }
        s->pcm = p;
        s->cap = cap;
    }
    memcpy(s->pcm + s->n, wav, (size_t)numsamples * sizeof(*wav));
    s->n = need;
    return 0;
}

/*
 * espeak-ng runs on one thread of its own. Called from one thread and then another (the store's
 * workers come and go with each store), espeak-ng 1.51 crashes now and then in its utf8_in,
 * reading through a pointer it took from a thread's earlier call (test_loudness: 7 runs in 12
 * on one build; 0 in 10 with every synthesis on one thread). So every call into it, from its
 * start to each sentence, is handed to this thread, and the caller (holding lock, so one at a
 * time) waits for it. It takes none of the program's signals (base/thread.h).
 */
struct espeak_job {
    int (*fn)(void *arg);
    void *arg;
    int result;
    bool done;
};
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_cond = PTHREAD_COND_INITIALIZER;
static struct espeak_job *job; /* the one being done, under job_lock */
static bool espeak_thread_up;  /* under lock */

static void *espeak_thread(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&job_lock);
    for (;;) {
        while (!job || job->done)
            pthread_cond_wait(&job_cond, &job_lock);
        struct espeak_job *j = job;
        pthread_mutex_unlock(&job_lock);
        int result = j->fn(j->arg);
        pthread_mutex_lock(&job_lock);
        j->result = result;
        j->done = true;
        pthread_cond_broadcast(&job_cond);
    }
    return NULL;
}

/* Under lock: fn(arg) on espeak-ng's thread, started the first time. */
static int on_espeak_thread(int (*fn)(void *arg), void *arg)
{
    if (!espeak_thread_up) {
        pthread_t t;
        int err = tt_thread_start(&t, espeak_thread, NULL);
        if (err)
            return err;
        pthread_detach(t); /* it lives as long as the process, as espeak-ng's state does */
        espeak_thread_up = true;
    }
    struct espeak_job j = {.fn = fn, .arg = arg};
    pthread_mutex_lock(&job_lock);
    job = &j;
    pthread_cond_broadcast(&job_cond);
    while (!j.done)
        pthread_cond_wait(&job_cond, &job_lock);
    job = NULL;
    pthread_mutex_unlock(&job_lock);
    return j.result;
}

/* Under lock: start espeak-ng once, synchronous (no audio device, no thread of its own). */
static int espeak_start(tt_diag *diag)
{
    if (espeak_rate > 0)
        return 0;
    if (espeak_start_err)
        goto fail;
    espeak_ng_InitializePath(NULL);
    espeak_ng_ERROR_CONTEXT ctx = NULL;
    espeak_ng_STATUS st = espeak_ng_Initialize(&ctx);
    espeak_ng_ClearErrorContext(&ctx);
    if (st == ENS_OK)
        st = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
    if (st != ENS_OK) {
        espeak_status_text(st, espeak_start_msg, sizeof(espeak_start_msg));
        espeak_start_err = EIO;
        goto fail;
    }
    espeak_SetSynthCallback(espeak_on_samples);
    espeak_rate = espeak_ng_GetSampleRate();
    return 0;
fail:
    tt_diag_add(diag, TT_ERROR, NULL, 0,
                "cannot start espeak-ng (%s); is the espeak-ng-data package installed?",
                espeak_start_msg);
    return espeak_start_err;
}

/* Under lock: select a voice unless it is already the current one (loading one takes ms). */
static int espeak_select(const char *name, tt_diag *diag)
{
    int err = espeak_start(diag);
    if (err)
        return err;
    if (!strcmp(espeak_voice_now, name))
        return 0;
    espeak_ng_STATUS st = espeak_ng_SetVoiceByName(name);
    if (st != ENS_OK) {
        espeak_voice_now[0] = '\0';
        if (st == ENS_VOICE_NOT_FOUND) {
            tt_diag_add(diag, TT_ERROR, NULL, 0,
                        "unknown voice 'espeak-ng:%s': espeak-ng has no voice '%s'; use a "
                        "language code it knows (es, fr, de, pt, ...; 'espeak-ng --voices' "
                        "lists them)",
                        name, name);
            return EINVAL;
        }
        char msg[256];
        espeak_status_text(st, msg, sizeof(msg));
        tt_diag_add(diag, TT_ERROR, NULL, 0, "espeak-ng cannot load voice '%s': %s", name, msg);
        return EIO;
    }
    snprintf(espeak_voice_now, sizeof(espeak_voice_now), "%s", name);
    return 0;
}

/* Under lock. */
static int espeak_speak(const struct tt_tts_voice *v, const char *text, int speed_pct,
                        int16_t **pcm, size_t *frames, int *rate, tt_diag *diag)
{
    struct sink s = {0};
    int err = espeak_select(v->name, diag);
    if (err)
        goto out;
    /* espeakRATE is in words per minute; espeak-ng clamps it to its own range. */
    int natural = espeakRATE_NORMAL;
    for (size_t i = 0; i < sizeof(espeak_natural) / sizeof(espeak_natural[0]); i++)
        if (!strcmp(v->name, espeak_natural[i].voice))
            natural = espeak_natural[i].wpm;
    int wpm = (int)((long)espeakRATE_NORMAL * TT_TTS_PACE_WPM / natural * speed_pct / 100);
    if (wpm < espeakRATE_MINIMUM)
        wpm = espeakRATE_MINIMUM;
    if (wpm > espeakRATE_MAXIMUM)
        wpm = espeakRATE_MAXIMUM;
    espeak_ng_SetParameter(espeakRATE, wpm, 0);

    espeak_sink = &s;
    espeak_ng_STATUS st = espeak_ng_Synthesize(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
                                               espeakCHARS_UTF8, NULL, NULL);
    espeak_sink = NULL;
    if (s.oom) {
        err = ENOMEM;
        goto out;
    }
    if (st != ENS_OK) {
        char msg[256];
        espeak_status_text(st, msg, sizeof(msg));
        tt_diag_add(diag, TT_ERROR, NULL, 0, "espeak-ng could not speak \"%.60s\": %s", text,
                    msg);
        err = EIO;
        goto out;
    }
    *pcm = s.pcm;
    *frames = s.n;
    *rate = espeak_rate;
    s.pcm = NULL;
out:
    free(s.pcm);
    return err;
}

/* ---- the interface ---------------------------------------------------------------------- */

/* What the callers hand to espeak-ng's thread. */
struct espeak_call {
    const struct tt_tts_voice *v;
    const char *name, *text;
    int speed_pct;
    int16_t **pcm;
    size_t *frames;
    int *rate;
    char *version; /* filled once, for voice_parse */
    size_t version_size;
    tt_diag *diag;
};

static int espeak_call_select(void *arg)
{
    struct espeak_call *c = arg;
    if (c->version && !c->version[0])
        snprintf(c->version, c->version_size, "%s %s", espeak_Info(NULL), TT_TTS_PACE_TAG);
    return espeak_select(c->name, c->diag);
}

static int espeak_call_speak(void *arg)
{
    struct espeak_call *c = arg;
    return espeak_speak(c->v, c->text, c->speed_pct, c->pcm, c->frames, c->rate, c->diag);
}

int tt_tts_voice_parse(struct tt_tts_voice *v, const char *spec, tt_diag *diag)
{
    const char *colon = spec ? strchr(spec, ':') : NULL;
    if (!colon || !colon[1] || strlen(colon + 1) >= sizeof(v->name)) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "unknown voice '%s': voices are named %s",
                    spec ? spec : "(none)", ALLOWED_VOICES);
        return EINVAL;
    }
    const char *name = colon + 1;
    size_t elen = (size_t)(colon - spec);
    memset(v, 0, sizeof(*v));

    if (elen == strlen("flite") && !strncmp(spec, "flite", elen)) {
        int i = flite_find(name);
        if (i < 0) {
            tt_diag_add(diag, TT_ERROR, NULL, 0,
                        "unknown voice '%s': flite's voices are flite:rms, flite:kal16, "
                        "flite:slt and flite:awb (rms is the clearest: docs/voices.md)",
                        spec);
            return EINVAL;
        }
        v->engine = TT_TTS_FLITE;
        v->engine_name = "flite";
        v->version = FLITE_PROJECT_VERSION " " TT_TTS_PACE_TAG;
        snprintf(v->name, sizeof(v->name), "%s", flite_defs[i].name);
        return 0;
    }
    if (elen == strlen("espeak-ng") && !strncmp(spec, "espeak-ng", elen)) {
        v->engine = TT_TTS_ESPEAK;
        v->engine_name = "espeak-ng";
        /* One string for the process (voices are copied about): espeak-ng's version is. */
        static char version[96];
        snprintf(v->name, sizeof(v->name), "%s", name);
        /* Only espeak-ng knows its voices: ask it now, so a typo is reported up front. */
        struct espeak_call c = {.name = name, .version = version,
                                .version_size = sizeof(version), .diag = diag};
        pthread_mutex_lock(&lock);
        int err = on_espeak_thread(espeak_call_select, &c);
        pthread_mutex_unlock(&lock);
        v->version = version;
        return err;
    }
    tt_diag_add(diag, TT_ERROR, NULL, 0, "unknown speech engine '%.*s' in voice '%s': use %s",
                (int)elen, spec, spec, ALLOWED_VOICES);
    return EINVAL;
}

int tt_tts_speak(const struct tt_tts_voice *v, const char *text, int speed_pct, int16_t **pcm,
                 size_t *frames, int *rate, tt_diag *diag)
{
    *pcm = NULL;
    *frames = 0;
    *rate = 0;
    if (speed_pct < TT_TTS_SPEED_MIN || speed_pct > TT_TTS_SPEED_MAX) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "speech speed %d%% is outside %d%% to %d%%",
                    speed_pct, TT_TTS_SPEED_MIN, TT_TTS_SPEED_MAX);
        return EINVAL;
    }
    struct espeak_call c = {.v = v, .text = text, .speed_pct = speed_pct, .pcm = pcm,
                            .frames = frames, .rate = rate, .diag = diag};
    pthread_mutex_lock(&lock);
    int err = v->engine == TT_TTS_FLITE
                  ? flite_speak(v, text, speed_pct, pcm, frames, rate, diag)
                  : on_espeak_thread(espeak_call_speak, &c);
    pthread_mutex_unlock(&lock);
    return err;
}

int tt_tts_voice_rate(const struct tt_tts_voice *v)
{
    if (v->engine == TT_TTS_FLITE)
        return 16000;
    pthread_mutex_lock(&lock);
    int rate = espeak_rate > 0 ? espeak_rate : 22050;
    pthread_mutex_unlock(&lock);
    return rate;
}
