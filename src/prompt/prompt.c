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
 * Two tiers, for many callers at once (a telephone service plays hundreds of calls from one
 * store, on several threads):
 *  - the shared tier: everything tt_store_prepare made (every prompt a menu can say, known
 *    ahead). It never changes once published, so any number of threads read it with no lock:
 *    a reader loads the tier's pointer (acquire) and walks buckets nobody writes again. A
 *    later prepare (another menu) publishes a new tier; the old one stays readable until
 *    tt_store_free, since a reader may still be in it.
 *  - the dynamic tier: what was made on demand (a prompt at a speed not prepared, a text not
 *    known ahead), behind one mutex, bounded in bytes (opts.dynamic_bytes) with the least
 *    recently used clip nobody holds evicted first. Each clip handed out is counted until it
 *    is given back (tt_store_release), so a clip being played is never freed under a caller.
 * A miss is made outside the lock (speech, a recording decoded, stretched, measured), so one
 * caller's synthesis never holds up another caller's hits; two callers of tt_store_get missing
 * the same words at once both make them, and the second keeps the first's. Calls do not make
 * misses themselves: they hand them to the store's workers (jobs.c), which make the same
 * public words once however many calls ask. Personal words are in neither tier: made for one
 * use and wiped when given back. Messages and counts made during a miss are moved into the
 * store's under the lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/diag.h"
#include "dsp/loudness.h"
#include "dsp/stretch.h"
#include "prompt/audio.h"
#include "prompt/cache.h"
#include "prompt/prompt.h"
#include "prompt/store_int.h"
#include "prompt/tts.h"

/* Formats libsndfile reads, in the order a recording is looked for: the first found wins. */
static const char *const recording_ext[] = {"wav", "flac", "ogg", "oga", "opus",
                                            "mp3", "aiff", "aif", "au"};
#define N_EXT (sizeof(recording_ext) / sizeof(recording_ext[0]))

#define MIN_RATE 4000
#define MAX_RATE 384000
#define SILENCE_MS 100 /* empty text: a short pause, so the session still gets its "done" */
#define DYNAMIC_BYTES_DEFAULT (64u << 20)

struct entry {
    struct entry *next; /* in the same bucket of the dynamic tier */
    struct entry *newer, *older; /* the dynamic tier's recency list */
    uint64_t hash;
    char *lang, *voice, *node, *text; /* node may be NULL */
    int speed;                        /* percent of normal speed */
    int refs;    /* dynamic tier: clips handed out and not given back (under the lock) */
    bool prepared; /* asked for by a prepare: never evicted, and shared by the next share
                    * (under the lock); what calls made on demand stays dynamic */
    atomic_bool shared; /* in the shared tier: read with no lock, never evicted */
    struct tt_clip clip;
};

/* A published shared tier: its own bucket nodes, so that publishing the next one never
 * touches a node a reader may be walking. */
struct shared_node {
    const struct entry *e;
    struct shared_node *next;
};
struct shared_tier {
    size_t nbucket;
    struct shared_node **bucket;
    struct shared_node *nodes;
    struct shared_tier *older; /* tiers published before, kept for readers still in them */
};

/* What a miss made besides its audio, moved into the store's under the lock. */
struct made {
    tt_diag *diag;
    struct tt_store_stats st;
};

/* Voices already checked, so tt_tts_voice_parse (which asks espeak-ng) runs once each. */
struct voice_memo {
    char *spec;
    struct tt_tts_voice v;
};

struct tt_store {
    int rate;
    char *prompts_dir; /* NULL: no recordings */
    struct tt_cache *cache; /* NULL: no disk cache */
    struct tt_pool *pool;   /* the workers that make misses for calls (jobs.c) */
    _Atomic(struct shared_tier *) shared; /* NULL until a prepare publishes one */
    pthread_mutex_t lock; /* everything below */
    tt_diag *diag;
    struct entry **bucket; /* the dynamic tier */
    size_t nbucket, n;
    struct entry *newest, *oldest;
    size_t dyn_bytes, dyn_limit;
    struct entry **owned; /* entries moved to the shared tier, freed with the store */
    size_t nowned, capowned;
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

static bool matches(const struct entry *e, uint64_t h, const char *lang, const char *voice,
                    const char *node, const char *text, int speed)
{
    return e->hash == h && e->speed == speed && same(e->lang, lang) && same(e->voice, voice) &&
           same(e->node, node) && same(e->text, text);
}

/* The dynamic tier (under the lock). */
static struct entry *lookup(const tt_store *s, uint64_t h, const char *lang, const char *voice,
                            const char *node, const char *text, int speed)
{
    for (struct entry *e = s->bucket[h % s->nbucket]; e; e = e->next)
        if (matches(e, h, lang, voice, node, text, speed))
            return e;
    return NULL;
}

/* The shared tier: no lock. */
static const struct entry *lookup_shared(const tt_store *s, uint64_t h, const char *lang,
                                         const char *voice, const char *node, const char *text,
                                         int speed)
{
    const struct shared_tier *t = atomic_load_explicit(&s->shared, memory_order_acquire);
    if (!t)
        return NULL;
    for (const struct shared_node *n = t->bucket[h % t->nbucket]; n; n = n->next)
        if (matches(n->e, h, lang, voice, node, text, speed))
            return n->e;
    return NULL;
}

/* ---- the dynamic tier's recency and its bound (under the lock) ---- */

static void lru_unlink(tt_store *s, struct entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        s->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        s->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_front(tt_store *s, struct entry *e)
{
    e->older = s->newest;
    e->newer = NULL;
    if (s->newest)
        s->newest->newer = e;
    s->newest = e;
    if (!s->oldest)
        s->oldest = e;
}

static void table_remove(tt_store *s, struct entry *e)
{
    for (struct entry **p = &s->bucket[e->hash % s->nbucket]; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            s->n--;
            return;
        }
}

static size_t clip_bytes(const struct entry *e)
{
    return e->clip.frames * sizeof(*e->clip.pcm);
}

static void entry_free(struct entry *e);

/* Over the bound: free the least recently used clips nobody holds. */
static void evict(tt_store *s)
{
    for (struct entry *e = s->oldest, *newer; e && s->dyn_bytes > s->dyn_limit; e = newer) {
        newer = e->newer;
        if (e->refs > 0 || e->prepared)
            continue;
        lru_unlink(s, e);
        table_remove(s, e);
        s->dyn_bytes -= clip_bytes(e);
        s->st.clips--;
        s->st.evicted++;
        s->st.bytes -= clip_bytes(e);
        entry_free(e);
    }
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
    atomic_init(&e->shared, false);
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
    lru_front(s, e);
    s->dyn_bytes += clip_bytes(e);
    s->st.clips++;
    s->st.bytes += clip_bytes(e);
    return 0;
}

/* ---- where audio comes from -------------------------------------------------------------- */

/* The voice, copied out (the memo may move when another voice is added). The memo is read and
 * grown under the lock; a voice not seen yet is checked outside it, since checking an espeak-ng
 * voice waits for the engine, which another caller may be using to speak. Messages go to d. */
static int voice_of(tt_store *s, const char *spec, struct tt_tts_voice *vp, tt_diag *d)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->nvoice; i++)
        if (!strcmp(s->voice[i].spec, spec)) {
            *vp = s->voice[i].v;
            pthread_mutex_unlock(&s->lock);
            return 0;
        }
    pthread_mutex_unlock(&s->lock);
    int err = tt_tts_voice_parse(vp, spec, d);
    if (err)
        return err;
    char *copy = strdup(spec);
    if (!copy)
        return ENOMEM;
    pthread_mutex_lock(&s->lock);
    struct voice_memo *m = realloc(s->voice, (s->nvoice + 1) * sizeof(*m));
    if (m) { /* two callers may both have checked it: a second memo of it is harmless */
        s->voice = m;
        m[s->nvoice].spec = copy;
        m[s->nvoice++].v = *vp;
        copy = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    free(copy);
    return m ? 0 : ENOMEM;
}

/* What a miss made besides audio goes into the store's messages and counts. Under the lock. */
static void made_merge(tt_store *s, struct made *md)
{
    for (size_t i = 0; md->diag && i < tt_diag_len(md->diag); i++) {
        const struct tt_diag_msg *m = tt_diag_get(md->diag, i);
        tt_diag_add(s->diag, m->sev, m->file, m->line, "%s", m->text);
    }
    s->st.synthesized += md->st.synthesized;
    s->st.disk_hits += md->st.disk_hits;
    s->st.recordings += md->st.recordings;
    s->st.fallbacks += md->st.fallbacks;
}

static int made_new(struct made *md)
{
    *md = (struct made){.diag = tt_diag_new()};
    return md->diag ? 0 : ENOMEM;
}

static void made_done(tt_store *s, struct made *md, bool locked)
{
    if (!locked)
        pthread_mutex_lock(&s->lock);
    made_merge(s, md);
    if (!locked)
        pthread_mutex_unlock(&s->lock);
    tt_diag_free(md->diag);
    md->diag = NULL;
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
 * The cache holds two things: the clip at the store's rate, ready to play (a warm start reads
 * it and does nothing else), and the engine's own output at its own rate, so that a store at
 * another rate (an 8 kHz telephone service beside a 22 kHz kiosk) resamples it once instead of
 * synthesizing again. Personal words skip the disk cache both ways: they are never written,
 * and never looked for (a file named after their hash would tell someone they were once said). */
static int speak(tt_store *s, struct made *md, const struct tt_tts_voice *v, const char *text,
                 int speed, bool personal, int16_t **pcm, size_t *frames)
{
    struct tt_cache *cache = personal ? NULL : s->cache;
    int16_t *raw = NULL;
    size_t raw_n = 0, key_len = 0, native_len = 0;
    int raw_rate = 0;
    char *key = NULL, *native = NULL;
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
        err = tt_cache_get(cache, key, key_len, s->rate, pcm, frames, md->diag);
        if (!err) {
            md->st.disk_hits++;
            goto out;
        }
        if (err != ENOENT)
            goto out;
        /* The engine's output, made for a store at another rate: rate 0 in its key. */
        raw_rate = tt_tts_voice_rate(v);
        if (!(native = tt_cache_key(v, speed, 0, text, &native_len))) {
            err = ENOMEM;
            goto out;
        }
        err = tt_cache_get(cache, native, native_len, raw_rate, &raw, &raw_n, md->diag);
        if (!err)
            md->st.disk_hits++;
        else if (err != ENOENT)
            goto out;
    }
    if (!raw) {
        err = tt_tts_speak(v, text, speed, &raw, &raw_n, &raw_rate, md->diag);
        md->st.synthesized++;
        if (err)
            goto out;
        if (cache && raw_n)
            tt_cache_put(cache, native, native_len, raw_rate, raw, raw_n, md->diag);
    }
    if ((err = tt_audio_resample(raw, raw_n, raw_rate, s->rate, pcm, frames))) {
        tt_diag_add(md->diag, TT_ERROR, NULL, 0, "cannot resample speech from %d Hz to %d Hz",
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
        tt_cache_put(cache, key, key_len, s->rate, *pcm, *frames, md->diag);
out:
    if (err) {
        free(*pcm);
        *pcm = NULL;
        *frames = 0;
    }
    /* The engine's own rate copy of personal words goes the way of the clip: wiped. */
    if (raw && personal)
        explicit_bzero(raw, raw_n * sizeof(*raw));
    free(raw);
    free(key);
    free(native);
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
    s->dyn_limit = o->dynamic_bytes ? o->dynamic_bytes : DYNAMIC_BYTES_DEFAULT;
    atomic_init(&s->shared, NULL);
    if ((err = pthread_mutex_init(&s->lock, NULL))) {
        free(s);
        return err;
    }
    s->nbucket = 64;
    if (!(s->bucket = calloc(s->nbucket, sizeof(*s->bucket))) ||
        (o->prompts_dir && !(s->prompts_dir = strdup(o->prompts_dir)))) {
        err = ENOMEM;
        goto out;
    }
    if ((err = tt_pool_new(&s->pool, s, o->workers)))
        goto out;
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

int tt_store_rate(const tt_store *s)
{
    return s->rate;
}

void tt_store_free(tt_store *s)
{
    if (!s)
        return;
    /* First: a worker may still be making a miss nobody waits for, into this store. */
    tt_pool_free(s->pool);
    for (size_t i = 0; i < s->nbucket; i++)
        for (struct entry *e = s->bucket[i], *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    for (size_t i = 0; i < s->nowned; i++)
        entry_free(s->owned[i]);
    free(s->owned);
    for (struct shared_tier *t = atomic_load(&s->shared), *older; t; t = older) {
        older = t->older;
        free(t->bucket);
        free(t->nodes);
        free(t);
    }
    pthread_mutex_destroy(&s->lock);
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
    const atomic_bool *stop; /* NULL, or set by another thread: give up, nobody wants it */
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
        if ((r->err = tt_stretch(r->pcm, r->frames, r->rate, r->speed, &out, &n, r->stop))) {
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
 * has none) or else from speech. Takes rec's audio. Runs without the lock. */
static int make_entry(tt_store *s, struct made *md, uint64_t h, const char *lang,
                      const struct tt_tts_voice *v, const char *voice, const char *node,
                      const char *text, int speed, struct recorded *rec, struct entry **ep)
{
    struct entry *e = NULL;
    int16_t *pcm = NULL;
    size_t frames = 0;
    int err;
    *ep = NULL;
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
        md->st.recordings++;
    } else if (rec) {
        /* Never silence: the text is the recording's transcript, so say it instead. */
        tt_diag_add(md->diag, TT_WARNING, rec->path, 0,
                    "cannot read this recording (%s); speaking the node's text instead",
                    rec->why);
        md->st.fallbacks++;
    }
    if (!e->clip.recorded && (err = speak(s, md, v, text, speed, false, &pcm, &frames)))
        goto out;
    e->clip.pcm = pcm;
    e->clip.frames = frames;
    pcm = NULL;
    *ep = e;
    e = NULL;
    err = 0;
out:
    free(pcm);
    entry_free(e);
    return err;
}

/* Put a made entry in the dynamic tier and hand out its clip, or, when another caller made the
 * same words meanwhile, theirs (ours is dropped). Under the lock. */
static int publish(tt_store *s, struct entry *e, const struct tt_clip **clip)
{
    struct entry *had = lookup(s, e->hash, e->lang, e->voice, e->node, e->text, e->speed);
    if (had) {
        entry_free(e);
        e = had;
        lru_unlink(s, e);
        lru_front(s, e);
    } else {
        int err = insert(s, e);
        if (err) {
            entry_free(e);
            return err;
        }
    }
    e->refs++;
    *clip = &e->clip;
    evict(s);
    return 0;
}

/* No lock unless there is something to say: a hit on the shared tier takes none at all. */
static int check_speed(tt_store *s, int *speed)
{
    if (*speed == 0)
        *speed = TT_TTS_SPEED_NORMAL;
    if (*speed < 25 || *speed > 400) {
        pthread_mutex_lock(&s->lock);
        tt_diag_add(s->diag, TT_ERROR, NULL, 0, "speech speed %d%% is out of range (25 to 400)",
                    *speed);
        pthread_mutex_unlock(&s->lock);
        return EINVAL;
    }
    return 0;
}

/* A hit, held: 0 with the clip, or ENOENT when neither tier has it (EINVAL: a bad speed). */
int tt_store_find(tt_store *s, const char *lang, const char *voice, const char *node,
                  const char *text, int speed, const struct tt_clip **clip)
{
    int err = check_speed(s, &speed);
    if (err)
        return err;
    uint64_t h = request_hash(lang, voice, node, text, speed);
    const struct entry *se = lookup_shared(s, h, lang, voice, node, text, speed);
    if (se) {
        *clip = &se->clip;
        return 0;
    }
    pthread_mutex_lock(&s->lock);
    struct entry *e = lookup(s, h, lang, voice, node, text, speed);
    if (e) {
        e->refs++;
        lru_unlink(s, e);
        lru_front(s, e);
        *clip = &e->clip;
    }
    pthread_mutex_unlock(&s->lock);
    return e ? 0 : ENOENT;
}

/* Make a public miss (the speed already checked) and hand it out held. stop: NULL, or a flag
 * that gives up a stretch early (ECANCELED, nothing kept). */
static int make_public(tt_store *s, const char *lang, const char *voice, const char *node,
                       const char *text, int speed, const atomic_bool *stop,
                       const struct tt_clip **clip)
{
    uint64_t h = request_hash(lang, voice, node, text, speed);
    struct entry *e = NULL;
    struct made md;
    struct tt_tts_voice v;
    int err;
    if ((err = made_new(&md)))
        return err;
    /* The voice is checked even when a recording stands in: a menu with a misspelt voice is
     * wrong, and would speak nothing the day a recording is removed. */
    if ((err = voice_of(s, voice, &v, md.diag))) {
        made_done(s, &md, false);
        return err;
    }
    struct recorded rec = {.rate = s->rate, .speed = speed, .stop = stop};
    bool has = find_recording(s, lang, node, rec.path, sizeof(rec.path)) == 0;
    if (has)
        load_recording(&rec);
    if (has && rec.err == ECANCELED) /* given up: nothing to keep, and nothing wrong */
        err = ECANCELED;
    else
        err = make_entry(s, &md, h, lang, &v, voice, node, text, speed, has ? &rec : NULL, &e);
    free(rec.pcm);
    pthread_mutex_lock(&s->lock);
    made_done(s, &md, true);
    if (!err)
        err = publish(s, e, clip);
    pthread_mutex_unlock(&s->lock);
    return err;
}

int tt_store_get(tt_store *s, const char *lang, const char *voice, const char *node,
                 const char *text, int speed, const struct tt_clip **clip)
{
    if (!s || !lang || !voice || !text || !clip)
        return EINVAL;
    *clip = NULL;
    int err = tt_store_find(s, lang, voice, node, text, speed, clip);
    if (err != ENOENT)
        return err;
    return make_public(s, lang, voice, node, text, speed ? speed : TT_TTS_SPEED_NORMAL, NULL,
                       clip);
}

/* Personal words: synthesized into memory for one use, never kept in the table or on disk. */
static int say_personal(tt_store *s, const char *voice, const char *text, int speed,
                        const struct tt_clip **clip)
{
    struct tt_tts_voice v;
    struct tt_clip *c = NULL;
    int16_t *pcm = NULL;
    size_t frames = 0;
    struct made md;
    int err;
    if (speed == 0)
        speed = TT_TTS_SPEED_NORMAL;
    if (!(c = calloc(1, sizeof(*c))))
        return ENOMEM;
    if ((err = made_new(&md))) {
        free(c);
        return err;
    }
    if (!(err = voice_of(s, voice, &v, md.diag)))
        err = speak(s, &md, &v, text, speed, true, &pcm, &frames);
    made_done(s, &md, false);
    if (err) {
        free(c);
        return err;
    }
    c->pcm = pcm;
    c->frames = frames;
    c->personal = true;
    *clip = c;
    return 0;
}

int tt_store_make(tt_store *s, const char *lang, const char *voice, const char *node,
                  const char *text, int speed, bool personal, const atomic_bool *stop,
                  const struct tt_clip **clip)
{
    *clip = NULL;
    if (personal)
        return say_personal(s, voice, text, speed, clip);
    /* Made meanwhile (by a caller of tt_store_get, or a job asked before it): a hit. */
    int err = tt_store_find(s, lang, voice, node, text, speed, clip);
    if (err != ENOENT)
        return err;
    return make_public(s, lang, voice, node, text, speed ? speed : TT_TTS_SPEED_NORMAL, stop,
                       clip);
}

void tt_store_hold_again(tt_store *s, const struct tt_clip *clip)
{
    if (!clip || clip->personal)
        return;
    struct entry *e = (struct entry *)((char *)clip - offsetof(struct entry, clip));
    if (atomic_load_explicit(&e->shared, memory_order_acquire))
        return; /* the shared tier is not counted */
    pthread_mutex_lock(&s->lock);
    if (!atomic_load_explicit(&e->shared, memory_order_relaxed))
        e->refs++;
    pthread_mutex_unlock(&s->lock);
}

struct tt_pool *tt_store_pool(tt_store *s)
{
    return s->pool;
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
    if (!clip)
        return;
    if (!clip->personal) {
        /* One holder fewer; a clip of the dynamic tier nobody holds may now be evicted. A clip
         * of the shared tier is not counted: no lock. (An entry can move to the shared tier
         * while held, so a holder that saw it dynamic looks again under the lock.) */
        struct entry *e = (struct entry *)((char *)clip - offsetof(struct entry, clip));
        if (!s || atomic_load_explicit(&e->shared, memory_order_acquire))
            return;
        pthread_mutex_lock(&s->lock);
        if (!atomic_load_explicit(&e->shared, memory_order_relaxed) && e->refs > 0) {
            e->refs--;
            evict(s);
        }
        pthread_mutex_unlock(&s->lock);
        return;
    }
    struct tt_clip *c = (struct tt_clip *)clip;
    if (c->pcm)
        explicit_bzero((int16_t *)c->pcm, c->frames * sizeof(*c->pcm));
    free((int16_t *)c->pcm);
    memset(c, 0, sizeof(*c));
    free(c);
}

void tt_store_stats(const tt_store *s, struct tt_store_stats *st)
{
    if (!s) {
        memset(st, 0, sizeof(*st));
        return;
    }
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    *st = s->st;
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
}

void tt_store_mark_prepared(tt_store *s, const struct tt_clip *clip)
{
    if (!s || !clip || clip->personal)
        return;
    struct entry *e = (struct entry *)((char *)clip - offsetof(struct entry, clip));
    if (atomic_load_explicit(&e->shared, memory_order_acquire))
        return; /* shared already: nothing to keep */
    pthread_mutex_lock(&s->lock);
    e->prepared = true;
    pthread_mutex_unlock(&s->lock);
}

/* Move the prepared entries of the dynamic tier into a new shared tier, with those of the last
 * one, and publish it: from then on they are read with no lock and never evicted. What calls
 * made on demand stays in the dynamic tier, bounded: a reload every day must not make a day of
 * other speeds and answers permanent. */
int tt_store_share(tt_store *s)
{
    pthread_mutex_lock(&s->lock);
    struct shared_tier *old = atomic_load_explicit(&s->shared, memory_order_relaxed);
    size_t n = s->nowned + s->n, nb = 64;
    while (nb < n)
        nb *= 2;
    int err = ENOMEM;
    struct shared_tier *t = calloc(1, sizeof(*t));
    struct entry **owned = NULL;
    if (!t || !(t->bucket = calloc(nb, sizeof(*t->bucket))) ||
        !(t->nodes = calloc(n ? n : 1, sizeof(*t->nodes))))
        goto fail;
    if (n > s->capowned) {
        if (!(owned = realloc(s->owned, n * sizeof(*owned))))
            goto fail;
        s->owned = owned;
        s->capowned = n;
    }
    /* the prepared entries of the dynamic tier join the owned ones */
    for (size_t i = 0; i < s->nbucket; i++) {
        for (struct entry **p = &s->bucket[i], *e; (e = *p);) {
            if (!e->prepared) {
                p = &e->next;
                continue;
            }
            *p = e->next;
            e->next = NULL;
            atomic_store_explicit(&e->shared, true, memory_order_release);
            lru_unlink(s, e);
            s->dyn_bytes -= clip_bytes(e);
            s->owned[s->nowned++] = e;
            s->n--;
        }
    }
    t->nbucket = nb;
    for (size_t i = 0; i < s->nowned; i++) {
        struct shared_node *node = &t->nodes[i];
        node->e = s->owned[i];
        node->next = t->bucket[node->e->hash % nb];
        t->bucket[node->e->hash % nb] = node;
    }
    t->older = old;
    atomic_store_explicit(&s->shared, t, memory_order_release);
    pthread_mutex_unlock(&s->lock);
    return 0;
fail:
    if (t) {
        free(t->bucket);
        free(t->nodes);
        free(t);
    }
    pthread_mutex_unlock(&s->lock);
    return err;
}
