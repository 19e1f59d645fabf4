/*
 * The kiosk driver: the courthouse terminal. Keys from the terminal (and USB keypads), audio
 * to the default output through PortAudio, the session in between, on one thread.
 *
 * The loop owns the clock (CLOCK_MONOTONIC, in ms since the session began) and sleeps in
 * poll() until a key, the session's deadline, or the moment the output wants more audio. It
 * pulls frames from the player into the output's ring, never more than the ring takes, so it
 * never blocks; the real-time callback on the other side only copies. A clip is "done" when
 * the device has consumed its last frame, so the session's pauses and timeouts are measured
 * from what the listener actually heard.
 *
 * A recording asked for at a new speed must be stretched, which takes seconds for a long one:
 * that work goes to a worker thread (prompt.h's store jobs), and the loop goes on taking keys
 * while it runs; the clip plays when it is ready, unless a key has moved the listener on.
 * Threads: the loop thread owns everything here; the worker owns only its job, from
 * pthread_create until it writes to work_done, after which the loop joins it and takes the
 * job back. One job runs at a time; a second slow SAY waits for the worker.
 *
 * With no audio device the kiosk still runs: it says so plainly, shows the words on the
 * terminal (where a braille display reads them), keeps the same timing as if the audio were
 * playing, and tries the device again every few seconds.
 *
 * Underruns (a hole in a prompt: the device or the ring ran dry because a thread was not
 * scheduled in time) are counted, and answered as sound servers answer them: the output is
 * reopened with twice the latency, up to a cap, at a moment when that drops nothing anyone
 * would hear (latency.c has the policy). The callback thread asks for real-time scheduling
 * where the system allows it (audio_out.c).
 *
 * Privacy: the terminal shows the words said, never the keys pressed, and of those only what
 * may be shown (tt_event_words: a sensitive entry masked); the audio of someone's own words is
 * never kept (tt_store_say / tt_store_release); every reset, by the end key or by the idle
 * timer, clears the screen and its scrollback at once, and so does the kiosk's stop. The log
 * (optional) holds counts written when the kiosk stops, not a timeline: when people looked at
 * the safety page is nobody's business. --log-visits adds the timeline for a court that has
 * weighed that.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "core/menu.h"
#include "device/audio_out.h"
#include "device/latency.h"
#include "input/evdev.h"
#include "input/keymap.h"
#include "input/term.h"
#include "lookup/lookup.h"
#include "prompt/player.h"
#include "prompt/prompt.h"

#define CHUNK 512
#define RETRY_MS 3000   /* how often a missing or lost device is tried again */
#define FEED_MS 5       /* how often the ring is topped up while audio plays */
#define STANDBY_MS 5000 /* silent this long, the output stream stops: an idle kiosk costs nothing */

struct kiosk {
    const tt_menu *m;
    tt_store *store;
    tt_diag *diag;
    const struct tt_kiosk_opts *o;
    tt_session *s;
    struct tt_term *term;
    struct tt_keymap *keymap;
    struct tt_evdev *keypad; /* NULL without one, or while it is unplugged */
    char keypad_path[256];
    struct tt_out *out;      /* NULL while there is no device */
    struct tt_latency lat;   /* the output's latency, grown after underruns */
    int lat_asked;           /* what to ask a new stream for: 0 until grown (the device's own) */
    uint64_t underruns_gone; /* underruns counted by outputs since closed (lost devices) */
    int rate;
    struct tt_player player;
    bool playing;            /* a clip was asked for and the session has not heard done */
    int64_t clip_end;        /* output position of the clip's last frame, once all written */
    bool clip_started;       /* its first frames are in the output */
    tt_ms clip_due;          /* with no device: when the clip would have ended */
    tt_ms next_retry;
    tt_ms next_keypad;
    tt_ms quiet_since;       /* when the output last had nothing to play */
    struct tt_lookup *lookup; /* a court's command answering an entry, while it runs */
    const struct tt_clip *clip; /* the clip playing, given back to the store when it stops */
    /* the worker: a slow clip being made, and the SAY that waits for it */
    pthread_t worker;
    struct tt_store_job *job; /* the worker's while it runs */
    bool working;
    int work_done[2];         /* the worker writes a byte here when its job is done */
    bool say_waiting;
    struct tt_event waiting;  /* its words stay valid: the session has said nothing since */
    struct timespec t0;
    float gain;
    FILE *log;
    /* What the log counts (never when, unless the court asked for visits). */
    unsigned *visits;        /* per node */
    unsigned resets_end, resets_idle, lookups;
    bool lat_known;          /* lat holds a device's latency (an output has been opened) */
    bool hung_up; /* the terminal is gone, and its screen with it */
};

static tt_ms now_ms(const struct kiosk *k)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (tt_ms)(t.tv_sec - k->t0.tv_sec) * 1000 + (t.tv_nsec - k->t0.tv_nsec) / 1000000;
}

/* The terminal is in raw mode: lines need a carriage return too. */
static void show(struct kiosk *k, const char *text)
{
    if (!k->o->transcript)
        return;
    fputs(text, k->o->transcript);
    fputs(k->term && tt_term_is_raw(k->term) ? "\r\n" : "\n", k->o->transcript);
    fflush(k->o->transcript);
}

/* What was shown of the last person's session goes, at once: the screen and the scrollback
 * are cleared and flushed. The same codes are written when the words go to a pipe or a file,
 * so that a terminal or display at the other end clears too. */
static void clear_screen(struct kiosk *k)
{
    if (!k->o->transcript)
        return;
    fputs("\033[H\033[2J\033[3J", k->o->transcript);
    fflush(k->o->transcript);
}

/* The clip has played, been cut or been replaced: the store gets it back (and wipes it, if it
 * held someone's own words). */
static void clip_over(struct kiosk *k)
{
    tt_store_release(k->store, k->clip);
    k->clip = NULL;
}

static void log_line(struct kiosk *k, const char *what, int node)
{
    if (!k->log || !k->o->log_visits)
        return;
    char when[32];
    time_t t = time(NULL);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime(&t));
    fprintf(k->log, "%s %s%s%s\n", when, what, node >= 0 ? " " : "",
            node >= 0 ? tt_menu_node_id(k->m, node) : "");
    fflush(k->log);
}

/* Underruns since the kiosk started, on every output it has had. */
static uint64_t underruns(const struct kiosk *k)
{
    uint64_t n = k->underruns_gone;
    if (k->out)
        n += tt_out_underruns(k->out) + tt_out_underflows(k->out);
    return n;
}

static int latency_ms(const struct tt_out *out)
{
    return (int)(tt_out_latency(out) * 1000.0 + 0.5);
}

static void close_output(struct kiosk *k)
{
    if (!k->out)
        return;
    k->underruns_gone += tt_out_underruns(k->out) + tt_out_underflows(k->out);
    tt_out_close(k->out);
    k->out = NULL;
}

static void open_output(struct kiosk *k, bool first)
{
    /* A device that comes back gets the latency this kiosk has learned it needs. */
    struct tt_out_opts oo = {.device = k->o->device, .rate = k->rate, .latency_ms = k->lat_asked};
    tt_diag *d = tt_diag_new();
    int err = tt_out_open(&k->out, &oo, d);
    if (!err && tt_out_rate(k->out) != k->rate) {
        /* The prompts were prepared at our rate; a device that wants another gets asked for
         * by name rather than played at the wrong speed. */
        tt_diag_add(d, TT_ERROR, NULL, 0,
                    "the audio device only plays at %d Hz: start tonetree with --rate %d",
                    tt_out_rate(k->out), tt_out_rate(k->out));
        tt_out_close(k->out);
        k->out = NULL;
        err = EINVAL;
    }
    if (!err) {
        /* The device chosen and its real output latency, for whoever looks after the kiosk. */
        tt_diag_print(d, stderr);
        tt_out_set_gain(k->out, k->gain);
        if (!k->lat_known)
            tt_latency_init(&k->lat, latency_ms(k->out));
        k->lat_known = true;
        if (!first)
            show(k, "[audio output is back]");
    } else if (first) {
        /* Said once, plainly, then the kiosk carries on with words on the screen: a warning,
         * since it goes on (and tries the device again every few seconds). */
        tt_diag_soften(d);
        tt_diag_print(d, stderr);
        show(k, "[no audio output: the words are shown here; tonetree tries the device again "
                "every few seconds]");
    }
    tt_diag_free(d);
}

/* The counts, when the kiosk stops: how much each part was used, and nothing of when. */
static void log_counts(struct kiosk *k)
{
    if (!k->log)
        return;
    char when[32];
    time_t t = time(NULL);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime(&t));
    /* Underruns are the machine's health, not anyone's visit: a count, and the latency they
     * led to, so whoever looks after the kiosk can see that it was too busy. */
    fprintf(k->log,
            "%s stop: resets %u by the end key, %u left idle; lookups %u; audio underruns "
            "%llu, output latency %d ms; visits",
            when, k->resets_end, k->resets_idle, k->lookups, (unsigned long long)underruns(k),
            k->lat_known ? k->lat.ms : 0);
    for (size_t i = 0; i < tt_menu_node_count(k->m); i++)
        if (k->visits[i])
            fprintf(k->log, " %s=%u", tt_menu_node_id(k->m, (int)i), k->visits[i]);
    fputc('\n', k->log);
    fflush(k->log);
}

static void *work(void *arg)
{
    struct kiosk *k = arg;
    tt_store_job_run(k->job);
    ssize_t w;
    do
        w = write(k->work_done[1], "", 1);
    while (w < 0 && errno == EINTR);
    return NULL;
}

/* Play a SAY's clip, or hand its making to the worker if it is slow (it plays when ready). */
static int play(struct kiosk *k, const struct tt_event *ev, tt_ms now)
{
    const struct tt_clip *clip;
    struct tt_store_job *job = NULL;
    int err = tt_store_job_new(k->store, k->m, ev, &job);
    if (err)
        return err;
    if (job) {
        k->say_waiting = true;
        k->waiting = *ev;
        if (k->working) { /* the worker is busy: this one is asked again when it is free */
            tt_store_job_free(job);
            return 0;
        }
        k->job = job;
        if ((err = pthread_create(&k->worker, NULL, work, k))) {
            /* no thread: make it here, late rather than never */
            tt_store_job_run(job);
            k->job = NULL;
            k->say_waiting = false;
            if ((err = tt_store_job_finish(k->store, job)))
                return err;
        } else {
            k->working = true;
            return 0;
        }
    }
    if ((err = tt_store_say(k->store, k->m, ev, &clip)))
        return err;
    k->clip = clip;
    if (k->out && tt_out_in_standby(k->out) && tt_out_standby(k->out, false, NULL))
        k->next_retry = now; /* the device would not start again: treat it as lost */
    tt_player_play(&k->player, clip);
    k->playing = true;
    k->clip_end = -1;
    k->clip_due = now + (tt_ms)(clip->frames * 1000 / (size_t)k->rate);
    k->clip_started = false;
    return 0;
}

static int on_say(struct kiosk *k, const struct tt_event *ev, tt_ms now)
{
    tt_player_drop(&k->player);
    clip_over(k);
    k->say_waiting = false;
    show(k, tt_event_words(ev));
    return play(k, ev, now);
}

/* The worker has made its clip: into the store, and played if it is still wanted. */
static int work_finished(struct kiosk *k, tt_ms now)
{
    char b;
    while (read(k->work_done[0], &b, 1) < 0 && errno == EINTR)
        ;
    pthread_join(k->worker, NULL);
    k->working = false;
    int err = tt_store_job_finish(k->store, k->job);
    k->job = NULL;
    if (err || !k->say_waiting)
        return err;
    k->say_waiting = false;
    return play(k, &k->waiting, now);
}

static int drain(struct kiosk *k, tt_ms now)
{
    struct tt_event ev;
    int err = 0;
    while (!err && tt_session_next_event(k->s, &ev)) {
        switch (ev.type) {
        case TT_EV_SAY:
            err = on_say(k, &ev, now);
            break;
        case TT_EV_STOP:
            /* The output fades what it has queued; the player drops the rest at once. */
            tt_player_drop(&k->player);
            clip_over(k);
            k->say_waiting = false;
            if (k->out) {
                tt_out_cut(k->out);
                tt_out_set_playing(k->out, false); /* the pause after a cut is no underrun */
            }
            k->playing = false;
            k->quiet_since = now;
            break;
        case TT_EV_VOLUME:
            k->gain = (float)tt_volume_gain(ev.count);
            if (k->out)
                tt_out_set_gain(k->out, k->gain);
            break;
        case TT_EV_LOOKUP:
            /* Run alongside the audio ("One moment."); the loop polls it to its end. */
            tt_lookup_free(k->lookup);
            k->lookup = NULL;
            k->lookups++;
            struct tt_lookup_opts lo = {.lang = k->m->lang[ev.lang]};
            if (tt_lookup_start(&k->lookup, k->m->nodes[ev.node].lookup, ev.text, &lo,
                                k->diag)) {
                tt_diag_print(k->diag, stderr);
                tt_diag_clear(k->diag);
                tt_session_lookup_done(k->s, TT_ANSWER_FAILED, NULL, now);
            }
            break;
        case TT_EV_GO:
            k->visits[ev.node]++;
            log_line(k, "go", ev.node);
            break;
        case TT_EV_RESET:
            if (ev.count)
                k->resets_idle++;
            else
                k->resets_end++;
            log_line(k, ev.count ? "reset idle" : "reset", -1);
            tt_player_drop(&k->player);
            clip_over(k);
            k->say_waiting = false;
            clear_screen(k);
            /* The last person's lookup is theirs: end it, after the screen and the audio are
             * wiped, since ending a lookup whose processes resist can take up to
             * TT_REAPER_GIVE_UP_MS. */
            tt_lookup_free(k->lookup);
            k->lookup = NULL;
            break;
        case TT_EV_START:
            log_line(k, "start", ev.node);
            break;
        default:
            break;
        }
    }
    return err;
}

/* Top the output up from the player; notice when the clip has been heard to its end. */
static void feed(struct kiosk *k, tt_ms now)
{
    if (!k->playing)
        return;
    if (!k->out) {
        if (now >= k->clip_due) {
            k->playing = false;
            clip_over(k);
            tt_session_done(k->s, now);
        }
        return;
    }
    int16_t buf[CHUNK];
    size_t space;
    while ((space = tt_out_space(k->out)) > 0 && tt_player_left(&k->player) > 0) {
        size_t n = tt_player_left(&k->player);
        n = n < space ? n : space;
        n = n < CHUNK ? n : CHUNK;
        tt_player_pull(&k->player, buf, n);
        tt_out_write(k->out, buf, n);
        if (!k->clip_started) {
            /* From now until the last frame is written, a ring found short is a hole. (Not
             * before the first write: the callback may run between the SAY and this.) */
            k->clip_started = true;
            tt_out_set_playing(k->out, true);
        }
    }
    if (tt_player_left(&k->player) == 0 && k->clip_end < 0) {
        k->clip_end = tt_out_written(k->out);
        /* All of it is queued: the ring running out now is the clip's end, not a hole. */
        tt_out_set_playing(k->out, false);
    }
    if (k->clip_end >= 0 && tt_out_played(k->out) >= k->clip_end) {
        k->playing = false;
        k->quiet_since = now;
        clip_over(k);
        tt_session_done(k->s, now);
    }
}

/* After underruns, more latency: at a quiet moment, or at once when a prompt keeps breaking
 * up (latency.h). A stream in standby takes it when it starts again. */
static void adapt_latency(struct kiosk *k, tt_ms now)
{
    if (!k->out || !k->lat_known)
        return;
    uint64_t n = underruns(k);
    int want = tt_latency_step(&k->lat, n, k->playing, now - k->quiet_since);
    if (!want)
        return;
    bool running = !tt_out_in_standby(k->out);
    tt_diag *d = tt_diag_new();
    tt_diag_add(d, TT_NOTE, NULL, 0,
                "audio output: %llu underruns so far (the audio broke up); asking the device "
                "for %d ms of latency",
                (unsigned long long)n, want);
    tt_ms t0 = now_ms(k);
    int err = tt_out_set_latency(k->out, want, d);
    if (running && !err) /* a hole as long as this was heard if a prompt was playing */
        tt_diag_add(d, TT_NOTE, NULL, 0, "audio output reopened in %lld ms",
                    (long long)(now_ms(k) - t0));
    tt_diag_print(d, stderr); /* with the device's note: the latency it gave */
    tt_diag_free(d);
    k->lat_asked = want;
    /* On failure the output is marked lost, and the loop opens it again with want. */
    tt_latency_opened(&k->lat, want, running && !err ? latency_ms(k->out) : 0, underruns(k));
}

/* Nothing has played for a while: stop the stream until the next prompt. */
static void maybe_standby(struct kiosk *k, tt_ms now)
{
    if (k->out && !k->playing && !tt_out_in_standby(k->out) && now - k->quiet_since >= STANDBY_MS)
        tt_out_standby(k->out, true, NULL);
}

static int poll_timeout(const struct kiosk *k, tt_ms now)
{
    tt_ms wait = 1000;
    if (k->out && !k->playing && !tt_out_in_standby(k->out))
        wait = k->quiet_since + STANDBY_MS > now ? k->quiet_since + STANDBY_MS - now : 0;
    tt_ms dl = tt_session_deadline(k->s);
    if (dl != TT_NEVER)
        wait = dl > now ? dl - now : 0;
    if (k->playing)
        wait = k->out ? (wait < FEED_MS ? wait : FEED_MS)
                      : (k->clip_due > now ? (k->clip_due - now < wait ? k->clip_due - now : wait)
                                           : 0);
    if (!k->out && k->next_retry - now < wait)
        wait = k->next_retry > now ? k->next_retry - now : 0;
    return (int)wait;
}

static int press(struct kiosk *k, const int *keys, int n)
{
    for (int i = 0; i < n; i++) {
        tt_session_key(k->s, keys[i], now_ms(k));
        int err = drain(k, now_ms(k));
        if (err)
            return err;
    }
    return 0;
}

static int terminal_keys(struct kiosk *k, bool *quit)
{
    int keys[32], n, err = 0;
    /* A full batch means more may be waiting that poll() would not show again. */
    do {
        n = tt_term_read(k->term, keys, 32, quit);
        if (n == -EIO) { /* the terminal hung up: the keys have ended, as at end of input */
            k->hung_up = true;
            *quit = true;
            return 0;
        }
        if (n < 0)
            return -n;
        err = press(k, keys, n);
    } while (!err && n == 32);
    return err;
}

static void reopen_keypad(struct kiosk *k)
{
    if (tt_evdev_open(&k->keypad, k->keypad_path, k->keymap, TT_EVDEV_GRAB, NULL) == 0)
        show(k, "[the keypad is back]");
}

static int keypad_keys(struct kiosk *k, tt_ms now)
{
    int keys[32], n, err = 0;
    do {
        n = tt_evdev_read(k->keypad, keys, 32);
        if (n == -ENODEV) {
            /* Unplugged: the terminal still works; the keypad is looked for again. */
            show(k, "[the keypad was unplugged]");
            tt_evdev_close(k->keypad);
            k->keypad = NULL;
            k->next_keypad = now + RETRY_MS;
            return 0;
        }
        if (n < 0)
            return -n;
        err = press(k, keys, n);
    } while (!err && n == 32);
    return err;
}

static int lookup_step(struct kiosk *k, tt_ms now)
{
    bool done = false;
    int err = tt_lookup_poll(k->lookup, &done);
    if (err || !done)
        return err == ENOMEM ? err : 0;
    enum tt_lookup_status st = tt_lookup_status(k->lookup);
    tt_diag_print(k->diag, stderr); /* a command's complaint, with the entry taken out */
    tt_diag_clear(k->diag);
    tt_session_lookup_done(k->s, tt_lookup_answer(st), tt_lookup_text(k->lookup), now);
    tt_lookup_free(k->lookup);
    k->lookup = NULL;
    return drain(k, now);
}

static int loop(struct kiosk *k)
{
    int err = 0;
    tt_session_start(k->s, 0);
    while (!err && !(k->o->stop && *k->o->stop)) {
        tt_ms now = now_ms(k);
        if ((err = drain(k, now)))
            break;
        feed(k, now);
        adapt_latency(k, now);
        maybe_standby(k, now);
        if (k->out && tt_out_lost(k->out)) {
            show(k, "[the audio output was lost: trying to open it again]");
            close_output(k);
            k->next_retry = now + RETRY_MS;
        }
        if (!k->out && now >= k->next_retry) {
            open_output(k, false);
            k->next_retry = now + RETRY_MS;
        }
        tt_ms dl = tt_session_deadline(k->s);
        if (dl != TT_NEVER && now >= dl) {
            tt_session_tick(k->s, now);
            continue;
        }
        struct pollfd pfd[4] = {{.fd = tt_term_fd(k->term), .events = POLLIN},
                                {.fd = k->keypad ? tt_evdev_fd(k->keypad) : -1,
                                 .events = POLLIN},
                                {.fd = k->lookup ? tt_lookup_fd(k->lookup) : -1,
                                 .events = POLLIN},
                                {.fd = k->working ? k->work_done[0] : -1, .events = POLLIN}};
        int wait = poll_timeout(k, now);
        if (k->lookup && tt_lookup_timeout_ms(k->lookup) < wait)
            wait = tt_lookup_timeout_ms(k->lookup);
        int r = poll(pfd, 4, wait);
        if (r > 0 && pfd[3].revents && (err = work_finished(k, now_ms(k))))
            break;
        if (k->lookup && (err = lookup_step(k, now_ms(k))))
            break;
        if (r < 0 && errno != EINTR) {
            err = errno;
            break;
        }
        bool quit = false;
        if (r > 0 && pfd[0].revents)
            err = terminal_keys(k, &quit);
        if (!err && r > 0 && pfd[1].revents)
            err = keypad_keys(k, now);
        if (!k->keypad && k->keymap && now >= k->next_keypad) {
            reopen_keypad(k);
            k->next_keypad = now + RETRY_MS;
        }
        if (quit)
            break;
    }
    return err;
}

int tt_kiosk_run(const tt_menu *m, tt_phrases *const *phrases, tt_store *store,
                 const struct tt_kiosk_opts *o, tt_diag *diag)
{
    struct kiosk k = {.m = m, .store = store, .diag = diag, .o = o, .rate = o->rate,
                      .work_done = {-1, -1}};
    int err;
    k.gain = (float)tt_volume_gain(TT_VOLUME_DEFAULT);
    clock_gettime(CLOCK_MONOTONIC, &k.t0);
    tt_player_init(&k.player, k.rate);
    struct tt_session_opts so = {.lang = o->lang, .end_mode = TT_END_RESET, .idle_ms = o->idle_ms};
    if ((err = tt_session_new(&k.s, m, phrases, &so)))
        return err;
    if (!(k.visits = calloc(tt_menu_node_count(m), sizeof(*k.visits)))) {
        err = ENOMEM;
        goto out;
    }
    if (pipe(k.work_done) < 0 || fcntl(k.work_done[0], F_SETFD, FD_CLOEXEC) < 0 ||
        fcntl(k.work_done[1], F_SETFD, FD_CLOEXEC) < 0) {
        err = errno;
        goto out;
    }
    if (o->log_path && !(k.log = fopen(o->log_path, "a"))) {
        tt_diag_add(diag, TT_ERROR, o->log_path, 0, "cannot open the log: %s", strerror(errno));
        err = EIO;
        goto out;
    }
    if ((err = tt_term_open(&k.term, o->key_fd, diag)))
        goto out;
    if (o->keymap_path) {
        if ((err = tt_keymap_load(&k.keymap, o->keymap_path, diag)))
            goto out;
        if (o->keypad_path && strcmp(o->keypad_path, "auto"))
            snprintf(k.keypad_path, sizeof(k.keypad_path), "%s", o->keypad_path);
        else if ((err = tt_evdev_find(k.keypad_path, sizeof(k.keypad_path), k.keymap, diag)))
            goto out;
        if ((err = tt_evdev_open(&k.keypad, k.keypad_path, k.keymap, TT_EVDEV_GRAB, diag)))
            goto out;
    }
    open_output(&k, true);
    k.next_retry = RETRY_MS;
    err = loop(&k);
    if (!err && tt_term_interrupted(k.term))
        err = ECANCELED;
out:
    if (k.working) { /* a stretch under way: told to give up, it ends within milliseconds */
        tt_store_job_stop(k.job);
        pthread_join(k.worker, NULL);
        tt_store_job_free(k.job);
    }
    if (k.work_done[0] >= 0)
        close(k.work_done[0]), close(k.work_done[1]);
    tt_lookup_free(k.lookup);
    tt_player_drop(&k.player);
    clip_over(&k);
    /* Whoever used the kiosk last, their words leave the screen with the kiosk (unless the
     * terminal has hung up: then there is no screen left to clear, nor to write to). */
    if (!k.hung_up)
        clear_screen(&k);
    log_counts(&k);
    free(k.visits);
    close_output(&k);
    tt_evdev_close(k.keypad);
    tt_keymap_free(k.keymap);
    tt_term_close(k.term);
    tt_session_free(k.s);
    if (k.log)
        fclose(k.log);
    return err;
}

void tt_kiosk_restore_terminal(void)
{
    tt_term_restore_all(true);
}
