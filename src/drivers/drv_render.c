/*
 * The render driver: a whole session offline, from a key script to a WAV and a transcript.
 *
 * It is the reference driver: the clock is the count of samples written, so every key lands
 * on an exact sample and tests can measure the audio around it. Between events it writes
 * whatever the player gives (speech, a fading cut, or silence) up to the next thing that can
 * happen: the clip ending, the session's deadline, or the script's next key.
 */
#include <errno.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "core/menu.h"
#include "input/keyscript.h"
#include "lookup/lookup.h"
#include "prompt/player.h"

#define CHUNK 1024
#define DEFAULT_MAX_MS (3600 * 1000)

enum until { UNTIL_TIME, UNTIL_WAITING, UNTIL_PROMPT };

struct render {
    const tt_menu *m;
    tt_store *store;
    tt_session *s;
    tt_diag *diag;
    const struct tt_render_opts *o;
    struct tt_player player;
    const struct tt_clip *clip; /* the clip playing, given back to the store when it stops */
    SNDFILE *wav;
    int64_t now;          /* frames written so far: the session's clock */
    int64_t prompt_start; /* frame where the current prompt's first part began */
    bool prompt_pending;  /* a key was answered but its prompt has not begun yet */
    int64_t max_frames;
};

static tt_ms ms_at(const struct render *r, int64_t frames)
{
    return frames * 1000 / r->o->rate;
}

static int64_t frames_at(const struct render *r, tt_ms ms)
{
    return (ms * r->o->rate + 999) / 1000;
}

/* The clip has played, been cut or been replaced: the store gets it back (and wipes it, if it
 * held someone's own words). */
static void clip_over(struct render *r)
{
    tt_store_release(r->store, r->clip);
    r->clip = NULL;
}

static int on_say(struct render *r, const struct tt_event *ev)
{
    const struct tt_clip *clip;
    tt_player_stop(&r->player);
    clip_over(r);
    int err = tt_store_say(r->store, r->m, ev, &clip);
    if (err)
        return err;
    r->clip = clip;
    if (ev->first) {
        r->prompt_start = r->now;
        r->prompt_pending = false;
    }
    if (clip->frames == 0) {
        clip_over(r);
        tt_session_done(r->s, ms_at(r, r->now));
        return 0;
    }
    tt_player_play(&r->player, clip);
    return 0;
}

/* Offline there is no audio to keep going, so the lookup simply runs to its end (bounded by
 * its own time limit) and the answer comes at the same moment of the session. */
static int on_lookup(struct render *r, const struct tt_event *ev)
{
    enum tt_lookup_status st = TT_LOOKUP_FAILED;
    char *text = NULL;
    struct tt_lookup_opts lo = {.lang = r->m->lang[ev->lang]};
    int err = tt_lookup_run(r->m->nodes[ev->node].lookup, ev->text, &lo, &st, &text, r->diag);
    if (err && err != ENOMEM)
        err = 0; /* could not be run: the listener hears that the service is not working */
    tt_session_lookup_done(r->s, tt_lookup_answer(st), text, ms_at(r, r->now));
    free(text);
    return err;
}

/* Act on what the session said: audio events drive the player, every event is transcribed. */
static int drain(struct render *r)
{
    struct tt_event ev;
    int err = 0;
    while (!err && tt_session_next_event(r->s, &ev)) {
        if (r->o->transcript) {
            char *line = tt_event_line(r->m, &ev);
            if (!line)
                return ENOMEM;
            fprintf(r->o->transcript, "%s\n", line);
            free(line);
        }
        if (ev.type == TT_EV_SAY) {
            err = on_say(r, &ev);
        } else if (ev.type == TT_EV_STOP) {
            tt_player_stop(&r->player);
            clip_over(r);
        }
        else if (ev.type == TT_EV_LOOKUP)
            err = on_lookup(r, &ev);
        else if (ev.type == TT_EV_VOLUME)
            /* Render keeps prompts at their own level by default (so a render can be compared
             * with the recordings); listener volume steps are relative to that. */
            r->player.gain =
                (float)(tt_volume_gain(ev.count) / tt_volume_gain(TT_VOLUME_DEFAULT));
    }
    return err;
}

static int write_frames(struct render *r, int64_t n)
{
    int16_t buf[CHUNK];
    while (n > 0) {
        size_t k = n > CHUNK ? CHUNK : (size_t)n;
        tt_player_pull(&r->player, buf, k);
        if (r->wav && sf_writef_short(r->wav, buf, (sf_count_t)k) != (sf_count_t)k) {
            tt_diag_add(r->diag, TT_ERROR, r->o->wav_path, 0, "cannot write audio: %s",
                        sf_strerror(r->wav));
            return EIO;
        }
        r->now += (int64_t)k;
        n -= (int64_t)k;
    }
    return 0;
}

static bool reached(const struct render *r, enum until until, int64_t target)
{
    if (tt_session_ended(r->s))
        return true;
    switch (until) {
    case UNTIL_WAITING:
        return tt_session_waiting(r->s);
    case UNTIL_PROMPT:
        return !r->prompt_pending || tt_session_waiting(r->s);
    default:
        return r->now >= target;
    }
}

/* Run the session forward until the condition holds, writing audio as time passes. */
static int advance(struct render *r, enum until until, int64_t target)
{
    /* The limit is for each step of the script: a long script of short steps is fine, a
     * step that never comes (a key the session no longer waits for) is not. */
    int64_t limit = r->now + r->max_frames;
    int err;
    for (;;) {
        if ((err = drain(r)))
            return err;
        if (reached(r, until, target))
            return 0;
        if (r->now >= limit) {
            tt_diag_add(r->diag, TT_ERROR, NULL, 0,
                        "render: the session went on past %lld s without reaching the next "
                        "step of the key script",
                        (long long)(r->max_frames / r->o->rate));
            return ETIMEDOUT;
        }
        int64_t next = until == UNTIL_TIME && target < limit ? target : limit;
        size_t left = tt_player_left(&r->player);
        if (left && r->now + (int64_t)left < next)
            next = r->now + (int64_t)left;
        tt_ms dl = tt_session_deadline(r->s);
        if (dl != TT_NEVER) {
            int64_t at = frames_at(r, dl);
            if (at < next)
                next = at > r->now ? at : r->now;
        }
        if ((err = write_frames(r, next - r->now)))
            return err;
        if (left && tt_player_left(&r->player) == 0) {
            clip_over(r);
            tt_session_done(r->s, ms_at(r, r->now));
        }
        else if (dl != TT_NEVER && ms_at(r, r->now) >= dl)
            tt_session_tick(r->s, ms_at(r, r->now));
    }
}

static int press(struct render *r, int key)
{
    if (tt_session_ended(r->s)) {
        tt_diag_add(r->diag, TT_WARNING, NULL, 0,
                    "render: the session ended before key %s of the key script",
                    tt_key_name(key));
        return 0;
    }
    r->prompt_pending = true;
    tt_session_key(r->s, key, ms_at(r, r->now));
    return 0;
}

static int run_steps(struct render *r, const struct tt_step *st, size_t n)
{
    int err = 0;
    for (size_t i = 0; !err && i < n; i++) {
        switch (st[i].kind) {
        case TT_STEP_KEY:
            if (!(err = advance(r, UNTIL_WAITING, 0)))
                err = press(r, st[i].key);
            break;
        case TT_STEP_KEY_AT:
            /* "S seconds after the current prompt began": wait for the answer to the last
             * key to begin first, or the time would count from the prompt before it. */
            if ((err = advance(r, UNTIL_PROMPT, 0)))
                break;
            if (!(err = advance(r, UNTIL_TIME, r->prompt_start + frames_at(r, st[i].ms))))
                err = press(r, st[i].key);
            break;
        case TT_STEP_PASS:
            err = advance(r, UNTIL_TIME, r->now + frames_at(r, st[i].ms));
            break;
        }
    }
    /* Let the last answer be heard in full. */
    if (!err)
        err = advance(r, UNTIL_WAITING, 0);
    return err;
}

int tt_render(const tt_menu *m, tt_phrases *const *phrases, tt_store *store,
              const struct tt_render_opts *o, tt_diag *diag)
{
    struct tt_step *steps = NULL;
    size_t nsteps = 0;
    struct render r = {.m = m, .store = store, .diag = diag, .o = o};
    int err = tt_keyscript_parse(o->keys ? o->keys : "", &steps, &nsteps, diag);
    if (err)
        return err;
    if (o->rate <= 0) {
        err = EINVAL;
        goto out;
    }
    r.max_frames = (int64_t)(o->max_ms > 0 ? o->max_ms : DEFAULT_MAX_MS) * o->rate / 1000;
    tt_player_init(&r.player, o->rate);
    struct tt_session_opts so = {.lang = o->lang, .end_mode = o->end_mode};
    if ((err = tt_session_new(&r.s, m, phrases, &so)))
        goto out;
    if (o->wav_path) {
        SF_INFO info = {.samplerate = o->rate, .channels = 1,
                        .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
        r.wav = sf_open(o->wav_path, SFM_WRITE, &info);
        if (!r.wav) {
            tt_diag_add(diag, TT_ERROR, o->wav_path, 0, "cannot create this audio file: %s",
                        sf_strerror(NULL));
            err = EIO;
            goto out;
        }
    }
    r.prompt_pending = true;
    tt_session_start(r.s, 0);
    err = run_steps(&r, steps, nsteps);
out:
    if (r.wav && sf_close(r.wav) && !err) {
        tt_diag_add(diag, TT_ERROR, o->wav_path, 0, "cannot finish writing this audio file");
        err = EIO;
    }
    tt_player_drop(&r.player);
    clip_over(&r);
    tt_session_free(r.s);
    free(steps);
    return err;
}
