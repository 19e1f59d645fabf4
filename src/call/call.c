/*
 * The call: one listener's session joined to the prompt store, the player, lookups and the
 * transcript, driven by a clock and keys from outside and pulled for audio (tonetree.h).
 *
 * Every driver used to carry this glue itself: turning a SAY into a clip, cutting and fading,
 * deciding that a clip has been heard, starting and polling a lookup, making a slow clip on a
 * worker thread, applying the listener's volume. Here it is once, so a driver owns only what
 * is really its own: its clock, its devices and where keys come from.
 *
 * Time: the driver gives "now" with every call, in its own clock (frames written offline,
 * CLOCK_MONOTONIC at a kiosk, frames read on a line). Audio: the driver pulls frames whenever
 * its output wants them, at any block size; a clip counts as heard when the driver says the
 * frames pulled, but for those still queued in its output, have been played (tt_call_heard).
 * That keeps pauses and timeouts measured from what the listener heard, whatever the depth
 * of a driver's buffers.
 *
 * Background work never blocks the caller of these functions: a lookup runs as a child
 * process (lookup/), and a clip the store does not have ready (speech not prepared, a lookup's
 * answer, an entry read back, a recording at a new speed) is made by the store's workers
 * (prompt.h's store jobs), which takes from milliseconds to seconds. Meanwhile the call plays
 * silence and keys work as ever; a telephone service running hundreds of calls on one thread
 * never waits for one caller's speech engine. Both show up on descriptors (tt_call_fds) that
 * a driver may sleep on; tt_call_step takes their results. An offline driver simply waits for
 * them (tt_call_busy): its clock stands still meanwhile, so its audio is the same as if the
 * clip had been made at once.
 *
 * Threads: everything here runs on the driver's thread. The store's workers touch only the
 * job, and write a byte to work_done when it is made; the call then asks the store whether its
 * job is done (a byte may be left from a job since cut). One job at a time: the SAY waiting
 * for its clip; a new SAY cuts it, and the store keeps public words made for it anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "core/menu.h"
#include "lookup/lookup.h"
#include "prompt/player.h"
#include "prompt/prompt.h"

struct tt_call {
    const tt_menu *m;
    tt_store *store;
    tt_diag *diag;
    struct tt_call_opts o;
    tt_session *s;
    struct tt_player player;
    const struct tt_clip *clip; /* the clip playing, given back to the store when it stops */
    bool playing;        /* a SAY's audio is due and the session has not heard done */
    int64_t pulled;      /* frames pulled so far */
    int64_t clip_end;    /* pulled count at the playing clip's last frame, or -1 until known */
    struct tt_lookup *lookup;
    /* a SAY waiting for its clip, being made by the store's workers */
    struct tt_store_job *job;
    bool job_started;         /* false: waits for room in the store's queue */
    int work_done[2];         /* a worker writes a byte here when a job of ours is made */
    float gain;               /* the listener's volume as a linear gain */
    /* words as text (TT_CALL_TEXT_BESIDE, _ONLY): out holds what the driver has not taken
     * from `taken` on; it may hold a listener's own words (an answer), so it is wiped */
    enum tt_call_text text;
    struct tt_strbuf out;
    size_t taken;
    bool text_said;   /* words have gone out: a new prompt starts on a new line */
    bool turn_marked; /* the turn mark follows the last words said */
};

static int drain(tt_call *c, tt_ms now);

/* The clip has played, been cut or been replaced: the store gets it back (and wipes it, if it
 * held someone's own words). */
static void clip_over(tt_call *c)
{
    tt_store_release(c->store, c->clip);
    c->clip = NULL;
}

/* Cut what plays: faded here, or dropped at once for a driver whose output fades itself. */
static void cut(tt_call *c)
{
    if (c->o.output_fades)
        tt_player_drop(&c->player);
    else
        tt_player_stop(&c->player);
    clip_over(c);
    c->playing = false;
    /* A clip still being made is not wanted now: public words are kept for the next time. */
    tt_store_job_cancel(c->store, c->job, false);
    c->job = NULL;
}

/* Play a clip the store handed over (held: it is given back when it stops). */
static void start_clip(tt_call *c, const struct tt_clip *clip, tt_ms now)
{
    c->clip = clip;
    c->playing = true;
    c->clip_end = -1;
    if (clip->frames == 0) { /* nothing to hear: it has been heard */
        c->playing = false;
        clip_over(c);
        tt_session_done(c->s, now);
        return;
    }
    tt_player_play(&c->player, clip);
}

/* Play a SAY's clip if the store has it; else the store's workers make it (it plays when
 * tt_call_step finds it made), and silence plays meanwhile. */
static int play(tt_call *c, const struct tt_event *ev, tt_ms now)
{
    const struct tt_clip *clip;
    struct tt_store_job *job;
    int err = tt_store_job_new(c->store, c->m, ev, &clip, &job);
    if (err)
        return err;
    if (clip) {
        start_clip(c, clip, now);
        return 0;
    }
    c->job = job;
    c->job_started = false;
    err = tt_store_job_start(c->store, job, c->work_done[1]);
    if (err == EAGAIN)
        return 0; /* the queue is full: asked again at the next step */
    if (err) {
        tt_store_job_cancel(c->store, job, true);
        c->job = NULL;
        return err;
    }
    c->job_started = true;
    return 0;
}

static int start_lookup(tt_call *c, const struct tt_event *ev, tt_ms now)
{
    tt_lookup_free(c->lookup);
    c->lookup = NULL;
    struct tt_lookup_opts lo = {.lang = c->m->lang[ev->lang]};
    /* A command that cannot be run is the service not working, for the listener; why is in
     * diag, for whoever looks after the machine. Out of memory stops the call. */
    int err = tt_lookup_start(&c->lookup, c->m->nodes[ev->node].lookup, ev->text, &lo, c->diag);
    if (err)
        tt_session_lookup_done(c->s, TT_ANSWER_FAILED, NULL, now);
    return err == ENOMEM ? err : 0;
}

/* ---- words as text ------------------------------------------------------------------------ */

static void text_add(tt_call *c, const char *s)
{
    tt_sb_add(&c->out, s);
}

/* A SAY's words, as they may be shown: a new prompt on a new line, the parts of one prompt
 * run on as sentences. */
static void text_say(tt_call *c, const struct tt_event *ev)
{
    if (c->text_said)
        text_add(c, ev->first ? "\n" : " ");
    text_add(c, tt_event_words(ev));
    c->text_said = true;
    c->turn_marked = false;
}

/* What was not taken yet is not wanted now (a key cut the prompt): the next words start on a
 * line of their own. Wiped, as it may have been someone's own. */
static void text_drop(tt_call *c)
{
    if (c->out.len > c->taken)
        memset(c->out.s + c->taken, 0, c->out.len - c->taken);
    c->out.len = c->taken;
    if (c->out.s)
        c->out.s[c->out.len] = '\0';
}

/* The engine has said its piece and waits for the caller: the turn mark (a TTY's GA). */
static void text_turn(tt_call *c)
{
    if (c->text == TT_CALL_TEXT_OFF || !c->o.text_turn || c->turn_marked || !c->text_said ||
        !tt_session_waiting(c->s) || tt_session_ended(c->s) || c->lookup)
        return;
    text_add(c, " ");
    text_add(c, c->o.text_turn);
    c->turn_marked = true;
}

static void set_volume(tt_call *c, int level)
{
    double g = tt_volume_gain(level);
    if (c->o.volume == TT_CALL_VOLUME_RELATIVE)
        g /= tt_volume_gain(TT_VOLUME_DEFAULT);
    c->gain = (float)g;
    if (c->o.volume != TT_CALL_VOLUME_OUTSIDE)
        c->player.gain = c->gain;
}

/* Act on what the session said, then tell the driver: audio first, so that what a driver does
 * with the event (clear a screen) comes after the sound has gone, and slow clean-up (ending a
 * lookup whose processes resist) last. */
static int drain(tt_call *c, tt_ms now)
{
    struct tt_event ev;
    int err = 0;
    while (!err && tt_session_next_event(c->s, &ev)) {
        if (c->o.transcript) {
            char *line = tt_event_line(c->m, &ev);
            if (!line)
                return ENOMEM;
            fprintf(c->o.transcript, "%s\n", line);
            fflush(c->o.transcript);
            free(line);
        }
        switch (ev.type) {
        case TT_EV_SAY: /* a new clip replaces what plays */
            cut(c);
            break;
        case TT_EV_STOP:
        case TT_EV_RESET:
            cut(c);
            text_drop(c);
            break;
        case TT_EV_VOLUME:
            set_volume(c, ev.count);
            break;
        default:
            break;
        }
        if (c->o.on_event)
            c->o.on_event(c->o.arg, &ev, now);
        switch (ev.type) {
        case TT_EV_SAY:
            if (c->text != TT_CALL_TEXT_OFF)
                text_say(c, &ev);
            if (c->text == TT_CALL_TEXT_ONLY)
                c->playing = true; /* until the driver has sent the words */
            else
                err = play(c, &ev, now);
            break;
        case TT_EV_END:
            if (c->text != TT_CALL_TEXT_OFF && c->o.text_end) {
                text_add(c, c->text_said ? "\n" : "");
                text_add(c, c->o.text_end);
            }
            break;
        case TT_EV_LOOKUP:
            err = start_lookup(c, &ev, now);
            break;
        case TT_EV_TRANSFER:
            /* Nowhere to put the caller through (a kiosk, a line, a render): the session says
             * so and goes on, within this same drain. */
            if (!c->o.transfers)
                tt_session_transfer_done(c->s, false, now);
            break;
        case TT_EV_RESET:
            /* The last person's lookup is theirs: it ends with their session. */
            tt_lookup_free(c->lookup);
            c->lookup = NULL;
            break;
        default:
            break;
        }
    }
    if (!err)
        text_turn(c);
    return err ? err : c->out.err;
}

int tt_call_new(tt_call **cp, const tt_menu *m, tt_phrases *const *phrases, tt_store *store,
                const struct tt_call_opts *o, tt_diag *diag)
{
    *cp = NULL;
    /* A clip at another rate than the frames pulled would play at the wrong pitch. */
    if (!m || !store || !o || o->rate <= 0 || o->rate != tt_store_rate(store))
        return EINVAL;
    tt_call *c = calloc(1, sizeof(*c));
    if (!c)
        return ENOMEM;
    c->m = m;
    c->store = store;
    c->diag = diag;
    c->o = *o;
    c->clip_end = -1;
    c->work_done[0] = c->work_done[1] = -1;
    c->text = o->text;
    tt_sb_init_secret(&c->out);
    tt_player_init(&c->player, o->rate);
    set_volume(c, TT_VOLUME_DEFAULT);
    struct tt_session_opts so = {.lang = o->lang, .end_mode = o->end_mode, .idle_ms = o->idle_ms,
                               .asleep = o->asleep};
    int err = tt_session_new(&c->s, m, phrases, &so);
    if (!err && c->text != TT_CALL_TEXT_OFF)
        tt_session_text(c->s, 0); /* not started: the first prompt tells them how to type */
    if (!err && pipe(c->work_done) < 0)
        err = errno;
    for (int i = 0; !err && i < 2; i++)
        if (fcntl(c->work_done[i], F_SETFD, FD_CLOEXEC) < 0 ||
            fcntl(c->work_done[i], F_SETFL, O_NONBLOCK) < 0)
            err = errno;
    if (err) {
        tt_call_free(c);
        return err;
    }
    *cp = c;
    return 0;
}

void tt_call_free(tt_call *c)
{
    if (!c)
        return;
    /* A clip under way is given up (a stretch stops within milliseconds; personal words are
     * wiped when made); after this no worker writes to work_done, so it can be closed. */
    tt_store_job_cancel(c->store, c->job, true);
    for (int i = 0; i < 2; i++)
        if (c->work_done[i] >= 0)
            close(c->work_done[i]);
    tt_lookup_free(c->lookup);
    tt_player_drop(&c->player);
    clip_over(c);
    tt_session_free(c->s);
    tt_sb_free(&c->out);
    free(c);
}

int tt_call_start(tt_call *c, tt_ms now)
{
    tt_session_start(c->s, now);
    return drain(c, now);
}

int tt_call_key(tt_call *c, int key, tt_ms now)
{
    tt_session_key(c->s, key, now);
    return drain(c, now);
}

int tt_call_transfer_done(tt_call *c, bool ok, tt_ms now)
{
    tt_session_transfer_done(c->s, ok, now);
    return drain(c, now);
}

int tt_call_text(tt_call *c, enum tt_call_text mode, tt_ms now)
{
    if (mode == TT_CALL_TEXT_OFF || mode == c->text)
        return 0; /* a caller found to read is not taken back to audio */
    c->text = mode;
    tt_session_text(c->s, now);
    return drain(c, now);
}

/* The length of a UTF-8 sequence from its first byte (1 for a stray continuation byte). */
static size_t utf8_len(unsigned char b)
{
    return b < 0xc0 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
}

size_t tt_call_text_take(tt_call *c, char *buf, size_t cap)
{
    size_t n = 0;
    while (c->taken + n < c->out.len) {
        size_t k = utf8_len((unsigned char)c->out.s[c->taken + n]);
        if (c->taken + n + k > c->out.len)
            k = c->out.len - c->taken - n;
        if (n + k > cap)
            break;
        n += k;
    }
    memcpy(buf, c->out.s + c->taken, n);
    c->taken += n;
    if (c->taken == c->out.len) { /* all taken: start the buffer again, wiped */
        if (c->out.s)
            memset(c->out.s, 0, c->out.len);
        c->out.len = c->taken = 0;
    }
    return n;
}

size_t tt_call_text_left(const tt_call *c)
{
    return c->out.len - c->taken;
}

int tt_call_text_sent(tt_call *c, tt_ms now)
{
    if (c->text != TT_CALL_TEXT_ONLY || !c->playing || c->out.len > c->taken)
        return 0;
    c->playing = false;
    tt_session_done(c->s, now);
    return drain(c, now);
}

int tt_call_text_in(tt_call *c, const char *utf8, size_t n, tt_ms now)
{
    const unsigned char *p = (const unsigned char *)utf8;
    int err = 0;
    for (size_t i = 0; i < n && !err;) {
        unsigned long ch = p[i];
        size_t k = utf8_len(p[i]);
        if (k == 1 && ch >= 0x80) {
            ch = 0; /* a stray continuation byte: nothing */
        } else if (k > 1) { /* a sequence: its value, or nothing if it is broken */
            ch = k == 2 ? ch & 0x1f : k == 3 ? ch & 0x0f : ch & 0x07;
            for (size_t j = 1; j < k; j++)
                if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
                    ch = 0, k = j;
                else
                    ch = ch << 6 | (p[i + j] & 0x3f);
        }
        i += k;
        int key = tt_text_key(ch, tt_session_typing(c->s));
        if (key >= 0)
            err = tt_call_key(c, key, now);
    }
    return err;
}

/* The waiting SAY's clip: played if the store's workers have made it. */
static int work_finished(tt_call *c, tt_ms now)
{
    char b[64];
    while (read(c->work_done[0], b, sizeof(b)) > 0)
        ; /* only wakes: the job says whether it is made */
    if (!c->job_started) {
        int err = tt_store_job_start(c->store, c->job, c->work_done[1]);
        if (err == EAGAIN)
            return 0;
        if (err)
            return err;
        c->job_started = true;
    }
    if (!tt_store_job_done(c->store, c->job))
        return 0;
    const struct tt_clip *clip = NULL;
    int err = tt_store_job_finish(c->store, c->job, &clip);
    c->job = NULL;
    if (err)
        return err;
    /* The clip comes held, so it plays even if the store is full of other calls' clips. */
    start_clip(c, clip, now);
    return drain(c, now);
}

static int lookup_step(tt_call *c, tt_ms now)
{
    bool done = false;
    int err = tt_lookup_poll(c->lookup, &done);
    if (err || !done)
        return err == ENOMEM ? err : 0;
    /* The command's complaints are in diag already, with the entry taken out. */
    tt_session_lookup_done(c->s, tt_lookup_answer(tt_lookup_status(c->lookup)),
                           tt_lookup_text(c->lookup), now);
    tt_lookup_free(c->lookup);
    c->lookup = NULL;
    return drain(c, now);
}

int tt_call_step(tt_call *c, tt_ms now)
{
    int err = 0;
    if (c->job && (err = work_finished(c, now)))
        return err;
    if (c->lookup && (err = lookup_step(c, now)))
        return err;
    tt_ms dl = tt_session_deadline(c->s);
    if (dl != TT_NEVER && now >= dl) {
        tt_session_tick(c->s, now);
        err = drain(c, now);
    }
    return err;
}

size_t tt_call_pull(tt_call *c, int16_t *out, size_t n)
{
    size_t left = tt_player_left(&c->player);
    tt_player_pull(&c->player, out, n);
    if (c->playing && c->clip_end < 0 && left <= n)
        c->clip_end = c->pulled + (int64_t)left;
    c->pulled += (int64_t)n;
    return left < n ? left : n;
}

int tt_call_heard(tt_call *c, size_t queued, tt_ms now)
{
    if (!c->playing || c->clip_end < 0 || c->pulled - (int64_t)queued < c->clip_end)
        return 0;
    c->playing = false;
    clip_over(c);
    tt_session_done(c->s, now);
    return drain(c, now);
}

size_t tt_call_clip_left(const tt_call *c)
{
    return c->playing ? tt_player_left(&c->player) : 0;
}

bool tt_call_playing(const tt_call *c)
{
    return c->playing || c->job;
}

bool tt_call_busy(const tt_call *c)
{
    return c->lookup || c->job;
}

tt_ms tt_call_deadline(const tt_call *c)
{
    return tt_session_deadline(c->s);
}

size_t tt_call_fds(const tt_call *c, int fds[2])
{
    size_t n = 0;
    if (c->job && c->job_started)
        fds[n++] = c->work_done[0];
    if (c->lookup && tt_lookup_fd(c->lookup) >= 0)
        fds[n++] = tt_lookup_fd(c->lookup);
    return n;
}

/* A job that found the store's queue full shows on no descriptor: it is asked again soon. */
#define QUEUE_RETRY_MS 20

int tt_call_poll_ms(const tt_call *c)
{
    int ms = c->lookup ? tt_lookup_timeout_ms(c->lookup) : -1;
    if (c->job && !c->job_started && (ms < 0 || ms > QUEUE_RETRY_MS))
        ms = QUEUE_RETRY_MS;
    return ms;
}

float tt_call_gain(const tt_call *c)
{
    return c->gain;
}

tt_session *tt_call_session(tt_call *c)
{
    return c->s;
}

bool tt_call_ended(const tt_call *c)
{
    return tt_session_ended(c->s);
}
