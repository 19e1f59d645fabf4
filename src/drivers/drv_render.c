/*
 * The render driver: a whole session offline, from a key script to a WAV and a transcript.
 *
 * It is the reference driver: the clock is the count of samples written, so every key lands
 * on an exact sample and tests can measure the audio around it. Between events it writes
 * whatever the player gives (speech, a fading cut, or silence) up to the next thing that can
 * happen: the clip ending, the session's deadline, or the script's next key.
 */
#include <errno.h>
#include <poll.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "input/keyscript.h"

#define CHUNK 1024
#define DEFAULT_MAX_MS (3600 * 1000)

enum until { UNTIL_TIME, UNTIL_WAITING, UNTIL_PROMPT };

struct render {
    tt_call *c;
    tt_diag *diag;
    const struct tt_render_opts *o;
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

/* Key times in the script count from where a prompt began. */
static void on_event(void *arg, const struct tt_event *ev, tt_ms now)
{
    (void)now;
    struct render *r = arg;
    if (ev->type == TT_EV_SAY && ev->first) {
        r->prompt_start = r->now;
        r->prompt_pending = false;
    }
}

/* Offline there is no audio to keep going, so a lookup (or a clip being made by the store's
 * workers: every miss is) is waited for: the answer comes at the same moment of the session,
 * and the audio is what it would be had the clip been made at once. */
static int wait_background(struct render *r)
{
    int err = 0;
    while (!err && tt_call_busy(r->c)) {
        struct pollfd p[2];
        int fds[2];
        size_t n = tt_call_fds(r->c, fds);
        for (size_t i = 0; i < n; i++)
            p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        if (poll(p, n, tt_call_poll_ms(r->c)) < 0 && errno != EINTR)
            return errno;
        err = tt_call_step(r->c, ms_at(r, r->now));
    }
    return err;
}

static int write_frames(struct render *r, int64_t n)
{
    int16_t buf[CHUNK];
    while (n > 0) {
        size_t k = n > CHUNK ? CHUNK : (size_t)n;
        tt_call_pull(r->c, buf, k);
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
    tt_session *s = tt_call_session(r->c);
    if (tt_session_ended(s))
        return true;
    switch (until) {
    case UNTIL_WAITING:
        return tt_session_waiting(s);
    case UNTIL_PROMPT:
        return !r->prompt_pending || tt_session_waiting(s);
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
        if ((err = wait_background(r)))
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
        /* Write up to the next thing that can happen: the clip's end, a timer, the target. */
        int64_t next = until == UNTIL_TIME && target < limit ? target : limit;
        size_t left = tt_call_clip_left(r->c);
        if (left && r->now + (int64_t)left < next)
            next = r->now + (int64_t)left;
        tt_ms dl = tt_call_deadline(r->c);
        if (dl != TT_NEVER) {
            int64_t at = frames_at(r, dl);
            if (at < next)
                next = at > r->now ? at : r->now;
        }
        if ((err = write_frames(r, next - r->now)))
            return err;
        /* Nothing is queued after the file: what is written is heard. */
        if ((err = tt_call_heard(r->c, 0, ms_at(r, r->now))) ||
            (err = tt_call_step(r->c, ms_at(r, r->now))))
            return err;
    }
}

static int press(struct render *r, int key)
{
    if (tt_call_ended(r->c)) {
        tt_diag_add(r->diag, TT_WARNING, NULL, 0,
                    "render: the session ended before key %s of the key script",
                    tt_key_name(key));
        return 0;
    }
    r->prompt_pending = true;
    return tt_call_key(r->c, key, ms_at(r, r->now));
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
    struct render r = {.diag = diag, .o = o};
    int err = tt_keyscript_parse(o->keys ? o->keys : "", &steps, &nsteps, diag);
    if (err)
        return err;
    if (o->rate <= 0) {
        err = EINVAL;
        goto out;
    }
    r.max_frames = (int64_t)(o->max_ms > 0 ? o->max_ms : DEFAULT_MAX_MS) * o->rate / 1000;
    /* Render keeps prompts at their own level by default (so a render can be compared with
     * the recordings); the listener's volume steps are relative to that. */
    struct tt_call_opts co = {.rate = o->rate, .lang = o->lang, .end_mode = o->end_mode,
                              .volume = TT_CALL_VOLUME_RELATIVE, .transcript = o->transcript,
                              .on_event = on_event, .arg = &r};
    if ((err = tt_call_new(&r.c, m, phrases, store, &co, diag)))
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
    if (!(err = tt_call_start(r.c, 0)))
        err = run_steps(&r, steps, nsteps);
out:
    if (r.wav && sf_close(r.wav) && !err) {
        tt_diag_add(diag, TT_ERROR, o->wav_path, 0, "cannot finish writing this audio file");
        err = EIO;
    }
    tt_call_free(r.c);
    free(steps);
    return err;
}
