/*
 * The telephone line driver: a call on one duplex audio device (see drv_line.h).
 *
 * One thread, one loop, one period (10 ms) at a time: read a period of what the caller sends
 * (this blocks, and is what paces the loop on a real device), give it to the DTMF receiver
 * and to the hang-up watch, hand any key to the session (which stops the prompt: barge-in),
 * then write a period of prompt audio. The session's clock is the line's: frames read / rate.
 * A clip is done when its last frame has been written and the output latency has gone by
 * (measured in frames written, so again on the line's clock).
 *
 * The engine's own prompts do not make keys: what comes back on the input while a prompt plays
 * (line echo) is only speech, and the receiver rejects speech (its talk-off tests); the prompts
 * themselves never contain DTMF. They do not hide the caller either: a key during a prompt cuts
 * it at once, as at the kiosk.
 *
 * Hang-up, noticed from the line itself (no signalling on an analogue audio path):
 *  - silence: TT_LINE_SILENCE_DBM0 or quieter, for hangup_ms counted only while the engine is
 *    not speaking (a caller listening quietly to a long prompt is not gone; echo of the prompt
 *    does not keep a dead line alive). Sound while the engine waits, or a key, starts it again,
 *    and so does the session's first timeout, whose warning promises the caller more time.
 *  - a busy or reorder tone (480 + 620 Hz, the North American precise tones, whatever the
 *    cadence): tone blocks with only tone or silence between them for TT_LINE_BUSY_MS (a
 *    cadence's edges, blocks part tone and part silence, do not break the run; 60 ms of other
 *    sound, or a key, does).
 * Either ends the call at once: nothing more is said (no one is there), a line "hangup
 * silence" or "hangup busy" goes to the transcript, and tt_line_run returns 0.
 *
 * Lookups run as at the kiosk, alongside the audio, polled once a period (never blocking).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/menu.h"
#include "device/audio_in.h"
#include "drivers/drv_line.h"
#include "dsp/dtmf.h"
#include "lookup/lookup.h"
#include "prompt/player.h"

#define WATCH_MS 20 /* the hang-up watch's block: 50 Hz bins separate 480 and 620 Hz */
#define MAX_PERIOD 4800
#define MAX_DIGITS 16

struct line {
    const tt_menu *m;
    tt_store *store;
    tt_diag *diag;
    const struct tt_line_opts *o;
    tt_session *s;
    struct tt_in *in;
    struct tt_dtmf *dtmf;
    struct tt_player player;
    const struct tt_clip *clip; /* the clip playing, given back to the store when it stops */
    struct tt_lookup *lookup;
    int rate;
    int64_t frames;      /* read from the line: the clock */
    int64_t written;     /* written to the line */
    bool playing;
    int64_t clip_end;    /* written position at which the clip has been heard, or -1 */
    char digits[MAX_DIGITS];
    int ndigits;

    /* hang-up watch */
    int16_t wbuf[48000 * WATCH_MS / 1000];
    int wn, wlen;
    double silence_floor; /* mean square at TT_LINE_SILENCE_DBM0 */
    double tone_floor;    /* mean square a busy tone needs (-40 dBm0) */
    double c480, c620;    /* Goertzel coefficients */
    int64_t silent_ms;    /* silence while waiting, so far */
    tt_ms busy_since;     /* first busy-tone block of the current run, or -1 */
    int other_run;        /* blocks in a row that were sound but not the tone */
    const char *hangup;   /* why the call ended, or NULL */
};

static tt_ms now_ms(const struct line *l)
{
    return l->frames * 1000 / l->rate;
}

static void on_digit(void *user, char digit, uint64_t start, double level)
{
    (void)start, (void)level;
    struct line *l = user;
    if (digit >= 'A' && digit <= 'D')
        return; /* no key on a telephone keypad */
    if (l->ndigits < MAX_DIGITS)
        l->digits[l->ndigits++] = digit;
}

static void note(struct line *l, const char *text)
{
    if (l->o->transcript) {
        fprintf(l->o->transcript, "%s\n", text);
        fflush(l->o->transcript);
    }
}

/* The clip has played, been cut or been replaced: the store gets it back (and wipes it, if it
 * held someone's own words). */
static void clip_over(struct line *l)
{
    tt_store_release(l->store, l->clip);
    l->clip = NULL;
}

static int on_say(struct line *l, const struct tt_event *ev)
{
    const struct tt_clip *clip;
    tt_player_stop(&l->player);
    clip_over(l);
    int err = tt_store_say(l->store, l->m, ev, &clip);
    if (err)
        return err;
    l->clip = clip;
    tt_player_play(&l->player, clip);
    l->playing = true;
    l->clip_end = -1;
    return 0;
}

static int drain(struct line *l)
{
    struct tt_event ev;
    int err = 0;
    tt_ms now = now_ms(l);
    while (!err && tt_session_next_event(l->s, &ev)) {
        if (l->o->transcript) {
            char *text = tt_event_line(l->m, &ev);
            if (!text)
                return ENOMEM;
            note(l, text);
            free(text);
        }
        switch (ev.type) {
        case TT_EV_SAY:
            err = on_say(l, &ev);
            break;
        case TT_EV_STOP:
            tt_player_stop(&l->player); /* fades over TT_FADE_MS: a cut never clicks */
            clip_over(l);
            l->playing = false;
            break;
        case TT_EV_VOLUME:
            l->player.gain = (float)tt_volume_gain(ev.count);
            break;
        case TT_EV_TIMEOUT:
            /* The first silence brings "Are you still there? Press any key for more time.":
             * the caller is promised time, so the watch's count of silence starts again. */
            if (ev.count == 1)
                l->silent_ms = 0;
            break;
        case TT_EV_LOOKUP: {
            tt_lookup_free(l->lookup);
            l->lookup = NULL;
            struct tt_lookup_opts lo = {.lang = l->m->lang[ev.lang]};
            if (tt_lookup_start(&l->lookup, l->m->nodes[ev.node].lookup, ev.text, &lo,
                                l->diag)) {
                tt_diag_print(l->diag, stderr);
                tt_diag_clear(l->diag);
                tt_session_lookup_done(l->s, TT_ANSWER_FAILED, NULL, now);
            }
            break;
        }
        default:
            break;
        }
    }
    return err;
}

static int lookup_step(struct line *l)
{
    bool done = false;
    int err = tt_lookup_poll(l->lookup, &done);
    if (err || !done)
        return err == ENOMEM ? err : 0;
    tt_diag_print(l->diag, stderr);
    tt_diag_clear(l->diag);
    tt_session_lookup_done(l->s, tt_lookup_answer(tt_lookup_status(l->lookup)),
                           tt_lookup_text(l->lookup), now_ms(l));
    tt_lookup_free(l->lookup);
    l->lookup = NULL;
    return drain(l);
}

static double goertzel(const int16_t *x, int n, double coef)
{
    double s1 = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double s = x[i] + coef * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    /* |X|^2, turned into the power of the sine it measures: 2 |X|^2 / n^2 */
    return 2.0 * (s1 * s1 + s2 * s2 - coef * s1 * s2) / ((double)n * n);
}

/* One WATCH_MS block of what the caller sends: silence, sound, or a busy/reorder tone. */
static void watch_block(struct line *l)
{
    const int16_t *x = l->wbuf;
    int n = l->wlen;
    double sum = 0, sumsq = 0;
    for (int i = 0; i < n; i++) {
        sum += x[i];
        sumsq += (double)x[i] * x[i];
    }
    double ms = sumsq / n - (sum / n) * (sum / n);
    tt_ms now = now_ms(l);
    bool silent = ms <= l->silence_floor;
    bool tone = false;
    if (!silent && ms >= l->tone_floor) {
        double p = goertzel(x, n, l->c480) + goertzel(x, n, l->c620);
        tone = p >= 0.8 * ms &&
               goertzel(x, n, l->c480) >= 0.1 * ms && goertzel(x, n, l->c620) >= 0.1 * ms;
    }
    if (tone) {
        if (l->busy_since < 0)
            l->busy_since = now;
        else if (now - l->busy_since >= TT_LINE_BUSY_MS)
            l->hangup = "hangup busy";
        l->other_run = 0;
    } else if (!silent && ++l->other_run >= 3) {
        /* Sound that is not the tone for 60 ms: a voice, not the cadence's edges (a block
         * that straddles a tone's start or end is half tone, half silence). */
        l->busy_since = -1;
    }
    tt_ms limit = l->o->hangup_ms > 0 ? l->o->hangup_ms : TT_LINE_HANGUP_MS;
    if (l->playing)
        return; /* the engine speaks: the caller listens (and any echo is ours) */
    if (silent || tone) {
        l->silent_ms += WATCH_MS;
        if (l->silent_ms >= limit)
            l->hangup = "hangup silence";
    } else {
        l->silent_ms = 0;
    }
}

static void watch(struct line *l, const int16_t *x, int n)
{
    for (int i = 0; i < n; i++) {
        l->wbuf[l->wn++] = x[i];
        if (l->wn == l->wlen) {
            watch_block(l);
            l->wn = 0;
        }
    }
}

/* Write one period of prompt audio (silence between prompts); notice a clip's end. */
static int play_period(struct line *l, int n)
{
    int16_t buf[MAX_PERIOD];
    tt_player_pull(&l->player, buf, (size_t)n);
    int err = tt_in_write(l->in, buf, (size_t)n);
    if (err) {
        tt_diag_add(l->diag, TT_ERROR, NULL, 0, "the line's audio device failed");
        return err;
    }
    l->written += n;
    if (l->playing && l->clip_end < 0 && tt_player_left(&l->player) == 0)
        l->clip_end = l->written + tt_in_out_latency(l->in);
    if (l->playing && l->clip_end >= 0 && l->written >= l->clip_end) {
        l->playing = false;
        clip_over(l);
        tt_session_done(l->s, now_ms(l));
        return drain(l);
    }
    return 0;
}

static int loop(struct line *l)
{
    int n = tt_in_period(l->in), err;
    tt_ms max_ms = l->o->max_ms > 0 ? l->o->max_ms : 3600 * 1000;
    int16_t buf[MAX_PERIOD];
    tt_session_start(l->s, 0);
    if ((err = drain(l)))
        return err;
    while (!(l->o->stop && *l->o->stop) && !tt_session_ended(l->s)) {
        if ((err = tt_in_read(l->in, buf, (size_t)n))) {
            tt_diag_add(l->diag, TT_ERROR, NULL, 0, "the line's audio device failed");
            return err;
        }
        l->ndigits = 0;
        tt_dtmf_process(l->dtmf, buf, (size_t)n);
        l->frames += n;
        watch(l, buf, n);
        for (int i = 0; i < l->ndigits; i++) {
            l->silent_ms = 0;
            l->busy_since = -1;
            tt_session_key(l->s, l->digits[i], now_ms(l));
            if ((err = drain(l)))
                return err;
        }
        if (l->hangup) {
            note(l, l->hangup);
            return 0;
        }
        tt_ms now = now_ms(l);
        tt_ms dl = tt_session_deadline(l->s);
        if (dl != TT_NEVER && now >= dl) {
            tt_session_tick(l->s, now);
            if ((err = drain(l)))
                return err;
        }
        if (l->lookup && (err = lookup_step(l)))
            return err;
        if ((err = play_period(l, n)))
            return err;
        if (now >= max_ms) {
            note(l, "hangup time limit");
            return 0;
        }
    }
    return 0;
}

int tt_line_run(const tt_menu *m, tt_phrases *const *phrases, tt_store *store,
                const struct tt_line_opts *o, tt_diag *diag)
{
    if (o->rate < TT_DTMF_MIN_RATE || o->rate > TT_DTMF_MAX_RATE) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "the line runs at 8000 to 48000 Hz, not %d",
                    o->rate);
        return EINVAL;
    }
    struct line *l = calloc(1, sizeof(*l));
    if (!l)
        return ENOMEM;
    *l = (struct line){.m = m, .store = store, .diag = diag, .o = o, .rate = o->rate,
                       .busy_since = -1, .clip_end = -1};
    l->wlen = o->rate * WATCH_MS / 1000;
    double a0 = tt_dtmf_dbm0_to_amplitude(TT_LINE_SILENCE_DBM0);
    l->silence_floor = a0 * a0 / 2;
    double a1 = tt_dtmf_dbm0_to_amplitude(-40.0);
    l->tone_floor = a1 * a1 / 2;
    l->c480 = 2 * cos(2 * M_PI * 480.0 / o->rate);
    l->c620 = 2 * cos(2 * M_PI * 620.0 / o->rate);
    tt_player_init(&l->player, o->rate);
    l->player.gain = (float)tt_volume_gain(TT_VOLUME_DEFAULT);
    struct tt_session_opts so = {.lang = o->lang, .end_mode = TT_END_GOODBYE};
    struct tt_in_opts io = {.device = o->device, .rate = o->rate};
    int err = tt_session_new(&l->s, m, phrases, &so);
    if (err)
        goto out;
    if (!(l->dtmf = tt_dtmf_init(NULL, o->rate, on_digit, l))) {
        err = errno ? errno : ENOMEM;
        goto out;
    }
    /* On success the device's note stays in diag, for whoever reports it. */
    if ((err = tt_in_open(&l->in, &io, diag)))
        goto out;
    if (tt_in_period(l->in) > MAX_PERIOD) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "the line's device reads %d frames at a time, more than the %d the line "
                    "can take: choose another device with --device",
                    tt_in_period(l->in), MAX_PERIOD);
        err = ERANGE;
        goto out;
    }
    err = loop(l);
out:
    tt_lookup_free(l->lookup);
    tt_player_drop(&l->player);
    clip_over(l);
    tt_in_close(l->in);
    tt_dtmf_free(l->dtmf);
    tt_session_free(l->s);
    free(l);
    return err;
}
