/*
 * The prompt store: audio for everything a session says, ready before it is needed.
 *
 * A request is (language, voice, node, text). If the node has a recording in
 * <prompts_dir>/<lang>/<node>.<ext>, people hear the recording: a clerk's own voice beats any
 * synthesizer. Otherwise, or when the recording cannot be used (a warning says why), the text
 * is spoken by the voice. Either way the audio is converted once to the output rate, brought
 * to one loudness (loudness.c: every voice, language and recording at -23 LUFS, true peak at
 * most -1 dBTP) and kept in memory for the store's life, so the real-time side only ever
 * copies samples; speech is also kept on disk (cache.c), already at that loudness, so a
 * restart synthesizes and measures nothing.
 *
 * The store is not thread-safe: one thread fills it (usually all at once when a menu loads,
 * see prepare.c), and clips, once returned, never move or change until tt_store_free.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dsp/loudness.h"
#include "dsp/stretch.h"
#include "prompt/audio.h"
#include "prompt/cache.h"
#include "prompt/prompt.h"
#include "prompt/tts.h"

/* Formats libsndfile reads, in the order a recording is looked for: the first found wins. */
static const char *const recording_ext[] = {"wav", "flac", "ogg", "oga", "opus",
                                            "mp3", "aiff", "aif", "au"};
#define N_EXT (sizeof(recording_ext) / sizeof(recording_ext[0]))

#define MIN_RATE 4000
#define MAX_RATE 384000
#define SILENCE_MS 100 /* empty text: a short pause, so the session still gets its "done" */

struct entry {
    struct entry *next; /* in the same bucket */
    uint64_t hash;
    char *lang, *voice, *node, *text; /* node may be NULL */
    int speed;                        /* percent of normal speed */
    struct tt_clip clip;
};

/* Voices already checked, so tt_tts_voice_parse (which asks espeak-ng) runs once each. */
struct voice_memo {
    char *spec;
    struct tt_tts_voice v;
};

struct tt_store {
    int rate;
    char *prompts_dir; /* NULL: no recordings */
    tt_diag *diag;
    struct tt_cache *cache; /* NULL: no disk cache */
    struct entry **bucket;
    size_t nbucket, n;
    struct voice_memo *voice;
    size_t nvoice;
    struct tt_store_stats st;
};

/* ---- the in-memory table ----------------------------------------------------------------- */

static uint64_t hash_str(uint64_t h, const char *s)
{
    /* FNV-1a; a NULL string hashes differently from "" through the terminator byte. */
    if (!s)
        return (h ^ 0xff) * 0x100000001b3u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3u;
    return h * 0x100000001b3u; /* the terminator, so ("ab", "c") differs from ("a", "bc") */
}

static uint64_t request_hash(const char *lang, const char *voice, const char *node,
                             const char *text, int speed)
{
    uint64_t h = (0xcbf29ce484222325u ^ (uint64_t)speed) * 0x100000001b3u;
    h = hash_str(h, lang);
    h = hash_str(h, voice);
    h = hash_str(h, node);
    return hash_str(h, text);
}

static bool same(const char *a, const char *b)
{
    return a && b ? !strcmp(a, b) : a == b;
}

static struct entry *lookup(const tt_store *s, uint64_t h, const char *lang, const char *voice,
                            const char *node, const char *text, int speed)
{
    for (struct entry *e = s->bucket[h % s->nbucket]; e; e = e->next)
        if (e->hash == h && e->speed == speed && same(e->lang, lang) && same(e->voice, voice) &&
            same(e->node, node) && same(e->text, text))
            return e;
    return NULL;
}

static void entry_free(struct entry *e)
{
    if (!e)
        return;
    free(e->lang);
    free(e->voice);
    free(e->node);
    free(e->text);
    free((void *)e->clip.pcm);
    free(e);
}

static struct entry *entry_new(uint64_t h, const char *lang, const char *voice,
                               const char *node, const char *text, int speed)
{
    struct entry *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->hash = h;
    e->speed = speed;
    e->lang = strdup(lang);
    e->voice = strdup(voice);
    e->node = node ? strdup(node) : NULL;
    e->text = strdup(text);
    if (!e->lang || !e->voice || (node && !e->node) || !e->text) {
        entry_free(e);
        return NULL;
    }
    return e;
}

static int insert(tt_store *s, struct entry *e)
{
    /* Keep chains short: double the buckets when there are as many entries. */
    if (s->n >= s->nbucket) {
        size_t nb = s->nbucket * 2;
        struct entry **b = calloc(nb, sizeof(*b));
        if (!b)
            return ENOMEM;
        for (size_t i = 0; i < s->nbucket; i++)
            for (struct entry *x = s->bucket[i], *next; x; x = next) {
                next = x->next;
                x->next = b[x->hash % nb];
                b[x->hash % nb] = x;
            }
        free(s->bucket);
        s->bucket = b;
        s->nbucket = nb;
    }
    e->next = s->bucket[e->hash % s->nbucket];
    s->bucket[e->hash % s->nbucket] = e;
    s->n++;
    s->st.clips++;
    s->st.bytes += e->clip.frames * sizeof(*e->clip.pcm);
    return 0;
}

/* ---- where audio comes from -------------------------------------------------------------- */

static int find_voice(tt_store *s, const char *spec, const struct tt_tts_voice **vp)
{
    for (size_t i = 0; i < s->nvoice; i++)
        if (!strcmp(s->voice[i].spec, spec)) {
            *vp = &s->voice[i].v;
            return 0;
        }
    struct tt_tts_voice v;
    int err = tt_tts_voice_parse(&v, spec, s->diag);
    if (err)
        return err;
    struct voice_memo *m = realloc(s->voice, (s->nvoice + 1) * sizeof(*m));
    if (!m)
        return ENOMEM;
    s->voice = m;
    if (!(m[s->nvoice].spec = strdup(spec)))
        return ENOMEM;
    m[s->nvoice].v = v;
    *vp = &m[s->nvoice++].v;
    return 0;
}

/* A name that stays inside its folder: menu ids and language codes never need more. */
static bool plain_name(const char *s)
{
    return *s && *s != '.' && !strchr(s, '/');
}

int tt_prompt_recording(const char *prompts_dir, const char *lang, const char *node, char *path,
                        size_t size)
{
    if (!prompts_dir || !lang || !node || !plain_name(lang) || !plain_name(node))
        return ENOENT;
    for (size_t i = 0; i < N_EXT; i++) {
        struct stat st;
        int n = snprintf(path, size, "%s/%s/%s.%s", prompts_dir, lang, node, recording_ext[i]);
        /* Not only regular files: a FIFO or a device by that name is a recording that
         * cannot be used, which the store says (audio.c refuses it without waiting). */
        if (n > 0 && (size_t)n < size && stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
            return 0;
    }
    return ENOENT;
}

/* The node's recording, if one exists: 0 with its path, or ENOENT. */
static int find_recording(const tt_store *s, const char *lang, const char *node, char *path,
                          size_t size)
{
    return tt_prompt_recording(s->prompts_dir, lang, node, path, size);
}

static int silence(int rate, int16_t **pcm, size_t *frames)
{
    *frames = (size_t)rate * SILENCE_MS / 1000;
    *pcm = calloc(*frames, sizeof(**pcm));
    return *pcm ? 0 : ENOMEM;
}

/* Speech for a text at the store's rate: from the disk cache, or synthesized and cached.
 * Personal words skip the disk cache both ways: they are never written, and never looked for
 * (a file named after their hash would tell someone they were once said). */
static int speak(tt_store *s, const struct tt_tts_voice *v, const char *text, int speed,
                 bool personal, int16_t **pcm, size_t *frames)
{
    struct tt_cache *cache = personal ? NULL : s->cache;
    int16_t *raw = NULL;
    size_t raw_n = 0, key_len = 0;
    int raw_rate = 0;
    char *key = NULL;
    int err = 0;

    *pcm = NULL;
    *frames = 0;
    if (!*text)
        return silence(s->rate, pcm, frames);
    if (cache) {
        /* The key holds the text: made only for words that may be cached. */
        if (!(key = tt_cache_key(v, speed, s->rate, text, &key_len))) {
            err = ENOMEM;
            goto out;
        }
        err = tt_cache_get(cache, key, key_len, s->rate, pcm, frames);
        if (!err) {
            s->st.disk_hits++;
            goto out;
        }
        if (err != ENOENT)
            goto out;
    }
    err = tt_tts_speak(v, text, speed, &raw, &raw_n, &raw_rate, s->diag);
    s->st.synthesized++;
    if (err)
        goto out;
    if ((err = tt_audio_resample(raw, raw_n, raw_rate, s->rate, pcm, frames))) {
        tt_diag_add(s->diag, TT_ERROR, NULL, 0, "cannot resample speech from %d Hz to %d Hz",
                    raw_rate, s->rate);
        goto out;
    }
    /* Text with nothing to say (only punctuation, say) is a pause, like empty text. */
    if (*frames == 0 && (err = silence(s->rate, pcm, frames)))
        goto out;
    /* At the output rate, so the peak measured is the peak played; before the cache, so a
     * clip read back is already at its loudness. Personal words too, in place: no copy of
     * them is made here (libebur128, like libsoxr above, frees its own working buffers
     * without wiping them; that is beyond our reach). */
    if ((err = tt_loud_normalize(*pcm, *frames, s->rate, NULL)))
        goto out;
    /* A cache that cannot be written costs time at the next start, not this prompt. */
    if (cache)
        tt_cache_put(cache, key, key_len, s->rate, *pcm, *frames);
out:
    if (err) {
        free(*pcm);
        *pcm = NULL;
        *frames = 0;
    }
    /* The engine's own rate copy of personal words goes the way of the clip: wiped. */
    if (raw && personal)
        memset(raw, 0, raw_n * sizeof(*raw));
    free(raw);
    free(key);
    return err;
}

/* ---- the interface ----------------------------------------------------------------------- */

int tt_store_new(tt_store **sp, const struct tt_store_opts *o, tt_diag *diag)
{
    int err = 0;
    tt_store *s = NULL;
    *sp = NULL;
    if (!o || o->rate < MIN_RATE || o->rate > MAX_RATE) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "the output rate must be %d to %d Hz, not %d",
                    MIN_RATE, MAX_RATE, o ? o->rate : 0);
        return EINVAL;
    }
    if (!(s = calloc(1, sizeof(*s)))) {
        err = ENOMEM;
        goto out;
    }
    s->rate = o->rate;
    s->diag = diag;
    s->nbucket = 64;
    if (!(s->bucket = calloc(s->nbucket, sizeof(*s->bucket))) ||
        (o->prompts_dir && !(s->prompts_dir = strdup(o->prompts_dir)))) {
        err = ENOMEM;
        goto out;
    }
    if (o->cache_dir && (err = tt_cache_open(&s->cache, o->cache_dir, diag))) {
        if (err == EINVAL)
            tt_diag_add(diag, TT_ERROR, NULL, 0, "the speech cache folder has an empty name");
        goto out;
    }
    *sp = s;
    s = NULL;
out:
    tt_store_free(s);
    return err;
}

void tt_store_free(tt_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nbucket; i++)
        for (struct entry *e = s->bucket[i], *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    for (size_t i = 0; i < s->nvoice; i++)
        free(s->voice[i].spec);
    free(s->voice);
    free(s->bucket);
    free(s->prompts_dir);
    tt_cache_close(s->cache);
    free(s);
}

/* What reading a recording gave: its audio at the store's rate and the asked speed, or why
 * it cannot be used. Filled by load_recording, which touches nothing of the store's, so that
 * a slow one (a long recording stretched to a new speed) can run on another thread. */
struct recorded {
    char path[4096];
    int rate, speed;
    atomic_bool stop; /* set by another thread: give up, the clip is no longer wanted */
    int16_t *pcm;
    size_t frames;
    int err;
    char why[256];
};

/* Decode the recording at r->path, resample it to r->rate, stretch it to r->speed (pitch
 * kept: stretch.c), and bring it to the loudness of every other prompt (loudness.c). */
static void load_recording(struct recorded *r)
{
    r->err = tt_audio_load(r->path, r->rate, &r->pcm, &r->frames, r->why, sizeof(r->why));
    if (r->err)
        return;
    if (r->speed != TT_TTS_SPEED_NORMAL) {
        int16_t *out;
        size_t n;
        if ((r->err = tt_stretch(r->pcm, r->frames, r->rate, r->speed, &out, &n, &r->stop))) {
            snprintf(r->why, sizeof(r->why), "it cannot be stretched to %d%% speed", r->speed);
            goto fail;
        }
        free(r->pcm);
        r->pcm = out;
        r->frames = n;
    }
    /* Measured as it will play, after stretching (which moves peaks a little). */
    if ((r->err = tt_loud_normalize(r->pcm, r->frames, r->rate, NULL))) {
        snprintf(r->why, sizeof(r->why), "its loudness cannot be measured");
        goto fail;
    }
    return;
fail:
    free(r->pcm);
    r->pcm = NULL;
    r->frames = 0;
}

/* Make the entry for a request that missed, from its recording (rec, or NULL when the node
 * has none) or else from speech, and put it in the table. Takes rec's audio. */
static int add_entry(tt_store *s, uint64_t h, const char *lang, const char *voice,
                     const char *node, const char *text, int speed, struct recorded *rec,
                     const struct tt_clip **clip)
{
    const struct tt_tts_voice *v;
    struct entry *e = NULL;
    int16_t *pcm = NULL;
    size_t frames = 0;
    int err;
    /* The voice is checked even when a recording stands in: a menu with a misspelt voice is
     * wrong, and would speak nothing the day a recording is removed. */
    if ((err = find_voice(s, voice, &v)))
        goto out;
    if (!(e = entry_new(h, lang, voice, node, text, speed))) {
        err = ENOMEM;
        goto out;
    }
    if (rec && rec->err == ENOMEM) {
        err = ENOMEM;
        goto out;
    }
    if (rec && !rec->err) {
        pcm = rec->pcm;
        frames = rec->frames;
        rec->pcm = NULL;
        e->clip.recorded = true;
        s->st.recordings++;
    } else if (rec) {
        /* Never silence: the text is the recording's transcript, so say it instead. */
        tt_diag_add(s->diag, TT_WARNING, rec->path, 0,
                    "cannot read this recording (%s); speaking the node's text instead",
                    rec->why);
        s->st.fallbacks++;
    }
    if (!e->clip.recorded && (err = speak(s, v, text, speed, false, &pcm, &frames)))
        goto out;
    e->clip.pcm = pcm;
    e->clip.frames = frames;
    pcm = NULL;
    if ((err = insert(s, e)))
        goto out;
    *clip = &e->clip;
    e = NULL;
out:
    free(pcm);
    entry_free(e);
    return err;
}

static int check_speed(tt_store *s, int *speed)
{
    if (*speed == 0)
        *speed = TT_TTS_SPEED_NORMAL;
    if (*speed < 25 || *speed > 400) {
        tt_diag_add(s->diag, TT_ERROR, NULL, 0, "speech speed %d%% is out of range (25 to 400)",
                    *speed);
        return EINVAL;
    }
    return 0;
}

int tt_store_get(tt_store *s, const char *lang, const char *voice, const char *node,
                 const char *text, int speed, const struct tt_clip **clip)
{
    if (!s || !lang || !voice || !text || !clip)
        return EINVAL;
    *clip = NULL;
    int err = check_speed(s, &speed);
    if (err)
        return err;
    uint64_t h = request_hash(lang, voice, node, text, speed);
    struct entry *e = lookup(s, h, lang, voice, node, text, speed);
    if (e) {
        *clip = &e->clip;
        return 0;
    }
    struct recorded rec = {.rate = s->rate, .speed = speed};
    bool has = find_recording(s, lang, node, rec.path, sizeof(rec.path)) == 0;
    if (has)
        load_recording(&rec);
    err = add_entry(s, h, lang, voice, node, text, speed, has ? &rec : NULL, clip);
    free(rec.pcm);
    return err;
}

/* ---- slow misses, done on another thread ------------------------------------------------ */

struct tt_store_job {
    char *lang, *voice, *node, *text; /* the request, copied: the job outlives its event */
    int speed;
    uint64_t hash;
    struct recorded rec; /* filled by tt_store_job_run */
};

void tt_store_job_free(struct tt_store_job *j)
{
    if (!j)
        return;
    free(j->lang);
    free(j->voice);
    free(j->node);
    free(j->text);
    free(j->rec.pcm);
    free(j);
}

int tt_store_job_new(tt_store *s, const tt_menu *m, const struct tt_event *ev,
                     struct tt_store_job **jp)
{
    *jp = NULL;
    if (!s || !m || !ev || ev->type != TT_EV_SAY || !ev->text || ev->privacy != TT_PUBLIC ||
        ev->part == TT_PART_ENGINE || ev->lang < 0 || (size_t)ev->lang >= tt_menu_lang_count(m))
        return 0;
    int speed = ev->speed;
    if (check_speed(s, &speed))
        return 0; /* tt_store_say reports it */
    if (speed == TT_TTS_SPEED_NORMAL)
        return 0; /* prepared ahead, or quick to read */
    const char *lang = tt_menu_lang(m, (size_t)ev->lang);
    const char *voice = tt_menu_voice(m, (size_t)ev->lang);
    char id[TT_REC_ID_MAX];
    const char *node = tt_store_rec_id(m, ev, id, sizeof(id));
    uint64_t h = request_hash(lang, voice, node, ev->text, speed);
    if (lookup(s, h, lang, voice, node, ev->text, speed))
        return 0;
    struct tt_store_job *j = calloc(1, sizeof(*j));
    if (!j)
        return ENOMEM;
    j->rec.rate = s->rate;
    j->rec.speed = j->speed = speed;
    j->hash = h;
    if (find_recording(s, lang, node, j->rec.path, sizeof(j->rec.path))) {
        free(j);
        return 0; /* speech: synthesized at once, as ever */
    }
    j->lang = strdup(lang);
    j->voice = strdup(voice);
    j->node = strdup(node);
    j->text = strdup(ev->text);
    if (!j->lang || !j->voice || !j->node || !j->text) {
        tt_store_job_free(j);
        return ENOMEM;
    }
    *jp = j;
    return 0;
}

void tt_store_job_run(struct tt_store_job *j)
{
    load_recording(&j->rec);
}

void tt_store_job_stop(struct tt_store_job *j)
{
    atomic_store_explicit(&j->rec.stop, true, memory_order_relaxed);
}

int tt_store_job_finish(tt_store *s, struct tt_store_job *j)
{
    const struct tt_clip *clip;
    int err = 0;
    if (j->rec.err == ECANCELED) /* given up: nothing to keep, and nothing wrong */
        ;
    else if (!lookup(s, j->hash, j->lang, j->voice, j->node, j->text, j->speed))
        err = add_entry(s, j->hash, j->lang, j->voice, j->node, j->text, j->speed, &j->rec,
                        &clip);
    tt_store_job_free(j);
    return err;
}

/* Personal words: synthesized into memory for one use, never kept in the table or on disk. */
static int say_personal(tt_store *s, const char *voice, const char *text, int speed,
                        const struct tt_clip **clip)
{
    const struct tt_tts_voice *v;
    struct tt_clip *c = NULL;
    int16_t *pcm = NULL;
    size_t frames = 0;
    int err;
    if (speed == 0)
        speed = TT_TTS_SPEED_NORMAL;
    if ((err = find_voice(s, voice, &v)))
        return err;
    if (!(c = calloc(1, sizeof(*c))))
        return ENOMEM;
    if ((err = speak(s, v, text, speed, true, &pcm, &frames))) {
        free(c);
        return err;
    }
    c->pcm = pcm;
    c->frames = frames;
    c->personal = true;
    *clip = c;
    return 0;
}

const char *tt_store_rec_id(const tt_menu *m, const struct tt_event *ev, char *buf,
                            size_t size)
{
    if (ev->part == TT_PART_BODY)
        return tt_menu_node_id(m, ev->node);
    if (ev->part != TT_PART_BRIEF)
        return NULL;
    snprintf(buf, size, "%s.short", tt_menu_node_id(m, ev->node));
    return buf;
}

int tt_store_say(tt_store *s, const tt_menu *m, const struct tt_event *ev,
                 const struct tt_clip **clip)
{
    if (!s || !m || !ev || !clip || ev->type != TT_EV_SAY || !ev->text || ev->lang < 0 ||
        (size_t)ev->lang >= tt_menu_lang_count(m))
        return EINVAL;
    *clip = NULL;
    const char *lang = tt_menu_lang(m, (size_t)ev->lang);
    const char *voice = tt_menu_voice(m, (size_t)ev->lang);
    if (ev->privacy != TT_PUBLIC)
        return say_personal(s, voice, ev->text, ev->speed, clip);
    /* Only a node's own text can have a recording standing in for it. */
    char id[TT_REC_ID_MAX];
    const char *node = tt_store_rec_id(m, ev, id, sizeof(id));
    return tt_store_get(s, lang, voice, node, ev->text, ev->speed, clip);
}

void tt_store_release(tt_store *s, const struct tt_clip *clip)
{
    (void)s;
    if (!clip || !clip->personal)
        return; /* the store's own: it lives as long as the store */
    struct tt_clip *c = (struct tt_clip *)clip;
    if (c->pcm)
        memset((int16_t *)c->pcm, 0, c->frames * sizeof(*c->pcm));
    free((int16_t *)c->pcm);
    memset(c, 0, sizeof(*c));
    free(c);
}

void tt_store_stats(const tt_store *s, struct tt_store_stats *st)
{
    if (s)
        *st = s->st;
    else
        memset(st, 0, sizeof(*st));
}
