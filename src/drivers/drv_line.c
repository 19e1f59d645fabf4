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
 * The call (call/) does the rest: clips, lookups (alongside the audio, polled once a period,
 * never blocking), clips the store has not made yet made by its workers, the transcript.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/menu.h"
#include "device/audio_in.h"
#include "drivers/drv_line.h"
#include "drivers/line_tty.h"
#include "dsp/dtmf.h"
#include "dsp/tty.h"

#define WATCH_MS 20 /* the hang-up watch's block: 50 Hz bins separate 480 and 620 Hz */
#define MAX_PERIOD 4800
#define MAX_DIGITS 16

struct line {
    tt_diag *diag;
    tt_diag *said;       /* the call's messages (a lookup that failed), reported as they come */
    const struct tt_line_opts *o;
    tt_call *c;
    struct tt_in *in;
    struct tt_dtmf *dtmf;
    int rate;
    int64_t frames;      /* read from the line: the clock */
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

    /* a caller who types (line_tty.h): found from their tones, then the call is in text */
    struct line_tty *tty;
    bool text;
    tt_ms text_timeout;
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

/* The first silence brings "Are you still there? Press any key for more time.": the caller is
 * promised time, so the watch's count of silence starts again. */
static void on_event(void *arg, const struct tt_event *ev, tt_ms now)
{
    (void)now;
    struct line *l = arg;
    if (ev->type == TT_EV_TIMEOUT && ev->count == 1)
        l->silent_ms = 0;
    if (ev->type == TT_EV_STOP && l->text)
        line_tty_cut(l->tty); /* a key cut the prompt: the modem's queue goes too */
}

/* What the call had to say (a lookup that failed, with the entry hidden), as it happens: for
 * whoever looks after the line. */
static void report(struct line *l)
{
    if (tt_diag_count(l->said, TT_NOTE) + tt_diag_count(l->said, TT_WARNING) +
        tt_diag_count(l->said, TT_ERROR)) {
        tt_diag_print(l->said, stderr);
        tt_diag_clear(l->said);
    }
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
    if (l->text) /* a caller who reads and types waits longer, and is told so */
        limit += l->text_timeout;
    if (tt_call_playing(l->c))
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

/* Write one period of prompt audio (silence between prompts): a clip is heard once its last
 * frame has gone through the device's output latency. */
static int play_period(struct line *l, int n)
{
    int16_t buf[MAX_PERIOD];
    if (l->text) { /* the words as TTY characters: done when the modem has sent them */
        int err = line_tty_say(l->tty, l->c, buf, (size_t)n, now_ms(l));
        if (!err && (err = tt_in_write(l->in, buf, (size_t)n)))
            tt_diag_add(l->diag, TT_ERROR, NULL, 0, "the line's audio device failed");
        return err;
    }
    tt_call_pull(l->c, buf, (size_t)n);
    int err = tt_in_write(l->in, buf, (size_t)n);
    if (err) {
        tt_diag_add(l->diag, TT_ERROR, NULL, 0, "the line's audio device failed");
        return err;
    }
    return tt_call_heard(l->c, (size_t)tt_in_out_latency(l->in), now_ms(l));
}

/* The caller's tones through the TTY modem: once it has recognized a TTY, the call goes on in
 * text (the characters that made it sure are not keys: a TTY user's first words are often a
 * greeting, and the prompt under way starts again as text anyway); after that, every typed
 * character goes to the call, which takes the ones that are keys. */
static int hear_tty(struct line *l, const int16_t *buf, int n)
{
    if (!l->tty)
        return 0;
    char typed[64];
    size_t k = line_tty_hear(l->tty, buf, (size_t)n, now_ms(l), typed, sizeof(typed));
    if (!l->text && line_tty_detected(l->tty)) {
        l->text = true;
        l->silent_ms = 0;
        note(l, "text tty");
        return tt_call_text(l->c, TT_CALL_TEXT_ONLY, now_ms(l));
    }
    if (l->text && k) {
        l->silent_ms = 0;
        return tt_call_text_in(l->c, typed, k, now_ms(l));
    }
    return 0;
}

static int loop(struct line *l)
{
    int n = tt_in_period(l->in), err;
    tt_ms max_ms = l->o->max_ms > 0 ? l->o->max_ms : 3600 * 1000;
    int16_t buf[MAX_PERIOD];
    if ((err = tt_call_start(l->c, 0)))
        return err;
    /* Once the call has ended, a TTY's last characters (goodbye, SK) still go out. */
    while (!(l->o->stop && *l->o->stop) &&
           (!tt_call_ended(l->c) || (l->text && line_tty_busy(l->tty, l->c)))) {
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
            if ((err = tt_call_key(l->c, l->digits[i], now_ms(l))))
                return err;
        }
        if ((err = hear_tty(l, buf, n)))
            return err;
        if (l->hangup) {
            note(l, l->hangup);
            return 0;
        }
        tt_ms now = now_ms(l);
        err = tt_call_step(l->c, now);
        report(l);
        if (err || (err = play_period(l, n)))
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
    *l = (struct line){.diag = diag, .o = o, .rate = o->rate, .busy_since = -1};
    l->wlen = o->rate * WATCH_MS / 1000;
    double a0 = tt_dtmf_dbm0_to_amplitude(TT_LINE_SILENCE_DBM0);
    l->silence_floor = a0 * a0 / 2;
    double a1 = tt_dtmf_dbm0_to_amplitude(-40.0);
    l->tone_floor = a1 * a1 / 2;
    l->c480 = 2 * cos(2 * M_PI * 480.0 / o->rate);
    l->c620 = 2 * cos(2 * M_PI * 620.0 / o->rate);
    l->text_timeout = m->text_timeout;
    /* A TTY's conventions: GA when it is the caller's turn, SK when the call ends. */
    struct tt_call_opts co = {.rate = o->rate, .lang = o->lang, .end_mode = TT_END_GOODBYE,
                              .volume = TT_CALL_VOLUME_LEVEL, .transcript = o->transcript,
                              .text_turn = "GA", .text_end = "SK",
                              .on_event = on_event, .arg = l};
    struct tt_in_opts io = {.device = o->device, .rate = o->rate};
    int err = ENOMEM;
    if (!(l->said = tt_diag_new()) || (err = tt_call_new(&l->c, m, phrases, store, &co, l->said)))
        goto out;
    if (!(l->dtmf = tt_dtmf_init(NULL, o->rate, on_digit, l))) {
        err = errno ? errno : ENOMEM;
        goto out;
    }
    if ((err = line_tty_new(&l->tty, o->rate)))
        goto out;
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
    /* The echo of our tones comes back after the device's round trip: the modem does not
     * listen until it has, as a TTY does not while it sends. */
    line_tty_set_echo(l->tty, TT_TTY_ECHO_GUARD_MS +
                                  (unsigned)((int64_t)tt_in_out_latency(l->in) * 1000 / o->rate));
    err = loop(l);
out:
    tt_call_free(l->c);
    if (l->said) {
        report(l);
        tt_diag_free(l->said);
    }
    tt_in_close(l->in);
    tt_dtmf_free(l->dtmf);
    line_tty_free(l->tty);
    free(l);
    return err;
}

/* Between calls nobody is on the line, so a reload may take its time here (seconds, when
 * changed prompts are synthesized) and nothing is heard of it. */
static void reload_between_calls(tt_menu_slot *menus, const struct tt_line_opts *o,
                                 sig_atomic_t *seen)
{
    if (!o->reload || *o->reload == *seen)
        return;
    tt_diag *d = tt_diag_new();
    if (!d)
        return; /* tried again before the next call */
    *seen = *o->reload;
    const char *path = tt_menu_slot_path(menus);
    if (tt_menu_slot_reload(menus, d))
        tt_diag_add(d, TT_ERROR, path, 0,
                    "the menu was not reloaded: the line goes on with the one it has; mend the "
                    "file and reload again");
    else
        tt_diag_add(d, TT_NOTE, path, 0, "menu reloaded (edition %u): the next call hears it",
                    tt_menu_slot_generation(menus));
    tt_diag_print(d, stderr);
    tt_diag_free(d);
}

int tt_line_serve(tt_menu_slot *menus, tt_store *store, const struct tt_line_opts *o,
                  tt_diag *diag)
{
    sig_atomic_t seen = o->reload ? *o->reload : 0;
    int err = 0;
    for (unsigned n = 0; !err && (!o->calls || n < o->calls) && !(o->stop && *o->stop); n++) {
        reload_between_calls(menus, o, &seen);
        const struct tt_edition *ed = tt_menu_slot_hold(menus);
        struct tt_line_opts co = *o;
        co.lang = ed->lang;
        if (n > 0)
            tt_diag_clear(diag); /* the device's note again: the caller reports the last */
        err = tt_line_run(ed->menu, ed->phrases, store, &co, diag);
        tt_menu_slot_release(menus, ed);
    }
    return err;
}
