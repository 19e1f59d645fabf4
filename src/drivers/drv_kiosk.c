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
 * The call (call/) does what every driver needs: clips, lookups alongside the audio, a clip
 * the store has not made yet (speech not prepared, a recording at a new speed) made by the
 * store's workers while keys keep working. The kiosk sleeps on the call's descriptors too.
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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "call/reload_bg.h"
#include "device/audio_out.h"
#include "device/latency.h"
#include "input/evdev.h"
#include "input/keymap.h"
#include "input/term.h"

#define CHUNK 512
#define RETRY_MS 3000   /* how often a missing or lost device is tried again */
#define FEED_MS 5       /* how often the ring is topped up while audio plays */
#define STANDBY_MS 5000 /* silent this long, the output stream stops: an idle kiosk costs nothing */

struct kiosk {
    const tt_menu *m;
    tt_phrases *const *phrases;
    tt_store *store;
    struct tt_call_opts co;
    /* A menu that can be reloaded: the edition the call runs on, and a reload under way. */
    const struct tt_edition *ed; /* NULL without o->menus */
    struct tt_reload_bg *reloading;
    sig_atomic_t reload_seen;    /* *o->reload when the last reload began */
    unsigned move_failed;        /* an edition the kiosk could not move to (not tried again) */
    tt_diag *diag;
    tt_diag *said;           /* the call's messages (a lookup that failed), reported as they come */
    const struct tt_kiosk_opts *o;
    tt_call *c;
    struct tt_term *term;
    struct tt_keymap *keymap;
    struct tt_evdev *keypad; /* NULL without one, or while it is unplugged */
    char keypad_path[256];
    struct tt_out *out;      /* NULL while there is no device */
    struct tt_latency lat;   /* the output's latency, grown after underruns */
    int lat_asked;           /* what to ask a new stream for: 0 until grown (the device's own) */
    uint64_t underruns_gone; /* underruns counted by outputs since closed (lost devices) */
    int rate;
    bool clip_started;       /* the playing clip's first frames are in the output */
    bool clip_queued;        /* and its last */
    int64_t null_at;         /* with no device, the frame the listener would be hearing now */
    tt_ms next_retry;
    tt_ms next_keypad;
    tt_ms quiet_since;       /* when the output last had nothing to play */
    struct timespec t0;
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
        tt_out_set_gain(k->out, tt_call_gain(k->c));
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

/* The counts, when the kiosk stops: how much each part was used, and nothing of when. The
 * visits are counted per node of a menu, so they are written (and begun again) at a reload
 * too: "reload" instead of "stop". */
static void log_counts(struct kiosk *k, const char *why)
{
    if (!k->log)
        return;
    char when[32];
    time_t t = time(NULL);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime(&t));
    /* Underruns are the machine's health, not anyone's visit: a count, and the latency they
     * led to, so whoever looks after the kiosk can see that it was too busy. */
    fprintf(k->log,
            "%s %s: resets %u by the end key, %u left idle; lookups %u; audio underruns "
            "%llu, output latency %d ms; visits",
            when, why, k->resets_end, k->resets_idle, k->lookups, (unsigned long long)underruns(k),
            k->lat_known ? k->lat.ms : 0);
    for (size_t i = 0; i < tt_menu_node_count(k->m); i++)
        if (k->visits[i])
            fprintf(k->log, " %s=%u", tt_menu_node_id(k->m, (int)i), k->visits[i]);
    fputc('\n', k->log);
    fflush(k->log);
}

/* What the kiosk itself does with what the session says, after the call has dealt with the
 * audio: the screen, the log's counts, the output's cut and volume. */
static void on_event(void *arg, const struct tt_event *ev, tt_ms now)
{
    struct kiosk *k = arg;
    switch (ev->type) {
    case TT_EV_SAY:
        show(k, tt_event_words(ev));
        k->clip_started = k->clip_queued = false;
        if (k->out && tt_out_in_standby(k->out) && tt_out_standby(k->out, false, NULL))
            k->next_retry = now; /* the device would not start again: treat it as lost */
        break;
    case TT_EV_STOP:
        /* The output fades what it has queued (the call dropped the rest at once). */
        if (k->out) {
            tt_out_cut(k->out);
            tt_out_set_playing(k->out, false); /* the pause after a cut is no underrun */
        }
        k->quiet_since = now;
        break;
    case TT_EV_VOLUME:
        if (k->out)
            tt_out_set_gain(k->out, tt_call_gain(k->c));
        break;
    case TT_EV_LOOKUP:
        k->lookups++;
        break;
    case TT_EV_GO:
        k->visits[ev->node]++;
        log_line(k, "go", ev->node);
        break;
    case TT_EV_RESET:
        if (ev->count)
            k->resets_idle++;
        else
            k->resets_end++;
        log_line(k, ev->count ? "reset idle" : "reset", -1);
        /* The audio is gone already; the screen goes now, before the call ends the last
         * person's lookup (which can take up to TT_REAPER_GIVE_UP_MS if it resists). */
        clear_screen(k);
        break;
    case TT_EV_START:
        log_line(k, "start", ev->node);
        break;
    default:
        break;
    }
}

/* What the call had to say (a lookup that failed, with the entry hidden), as it happens: for
 * whoever looks after the kiosk. */
static void report(struct kiosk *k)
{
    if (tt_diag_count(k->said, TT_NOTE) + tt_diag_count(k->said, TT_WARNING) +
        tt_diag_count(k->said, TT_ERROR)) {
        tt_diag_print(k->said, stderr);
        tt_diag_clear(k->said);
    }
}

static int64_t frames_at(const struct kiosk *k, tt_ms t)
{
    return t * k->rate / 1000;
}

/* With no device, the audio goes nowhere at the pace it would have played, so the session's
 * timing is the same as with one (and a braille reader gets the same pauses). Called before
 * anything reaches the call, so a prompt starts where the listener is. */
static int null_feed(struct kiosk *k, tt_ms now)
{
    if (k->out) {
        k->null_at = frames_at(k, now);
        return 0;
    }
    int64_t n = frames_at(k, now) - k->null_at;
    k->null_at = frames_at(k, now);
    int16_t buf[CHUNK];
    size_t left;
    while (n > 0 && (left = tt_call_clip_left(k->c)) > 0) {
        size_t m = left < CHUNK ? left : CHUNK;
        m = (int64_t)m < n ? m : (size_t)n;
        tt_call_pull(k->c, buf, m);
        n -= (int64_t)m;
    }
    return tt_call_heard(k->c, 0, now);
}

/* Top the output up from the call; tell the call what the listener has heard. */
static int feed(struct kiosk *k, tt_ms now)
{
    if (!k->out)
        return null_feed(k, now);
    k->null_at = frames_at(k, now);
    if (!tt_call_playing(k->c))
        return 0;
    int16_t buf[CHUNK];
    size_t space, left;
    while ((space = tt_out_space(k->out)) > 0 && (left = tt_call_clip_left(k->c)) > 0) {
        size_t n = left < space ? left : space;
        n = n < CHUNK ? n : CHUNK;
        tt_call_pull(k->c, buf, n);
        tt_out_write(k->out, buf, n);
        if (!k->clip_started) {
            /* From now until the last frame is written, a ring found short is a hole. (Not
             * before the first write: the callback may run between the SAY and this.) */
            k->clip_started = true;
            tt_out_set_playing(k->out, true);
        }
    }
    if (k->clip_started && !k->clip_queued && tt_call_clip_left(k->c) == 0) {
        /* All of it is queued: the ring running out now is the clip's end, not a hole. */
        k->clip_queued = true;
        tt_out_set_playing(k->out, false);
    }
    int err = tt_call_heard(k->c, (size_t)(tt_out_written(k->out) - tt_out_played(k->out)), now);
    if (!tt_call_playing(k->c))
        k->quiet_since = now;
    return err;
}

/* After underruns, more latency: at a quiet moment, or at once when a prompt keeps breaking
 * up (latency.h). A stream in standby takes it when it starts again. */
static void adapt_latency(struct kiosk *k, tt_ms now)
{
    if (!k->out || !k->lat_known)
        return;
    uint64_t n = underruns(k);
    int want = tt_latency_step(&k->lat, n, tt_call_playing(k->c), now - k->quiet_since);
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
    if (k->out && !tt_call_playing(k->c) && !tt_out_in_standby(k->out) &&
        now - k->quiet_since >= STANDBY_MS)
        tt_out_standby(k->out, true, NULL);
}

static int poll_timeout(const struct kiosk *k, tt_ms now)
{
    tt_ms wait = 1000;
    bool playing = tt_call_playing(k->c);
    if (k->out && !playing && !tt_out_in_standby(k->out))
        wait = k->quiet_since + STANDBY_MS > now ? k->quiet_since + STANDBY_MS - now : 0;
    tt_ms dl = tt_call_deadline(k->c);
    if (dl != TT_NEVER)
        wait = dl > now ? dl - now : 0;
    size_t left = tt_call_clip_left(k->c);
    /* Topped up while a clip is being written or heard; not while one is being made (by the
     * store's workers: the call's descriptor says when it is ready). */
    if (k->out && (left || k->clip_started) && playing && wait > FEED_MS)
        wait = FEED_MS;
    if (!k->out && left) { /* with no device, until the clip would have been heard */
        tt_ms due = (tt_ms)((left * 1000 + (size_t)k->rate - 1) / (size_t)k->rate);
        wait = due < wait ? due : wait;
    }
    if (!k->out && k->next_retry - now < wait)
        wait = k->next_retry > now ? k->next_retry - now : 0;
    int bg = tt_call_poll_ms(k->c);
    if (bg >= 0 && bg < wait)
        wait = bg;
    return (int)wait;
}

static int press(struct kiosk *k, const int *keys, int n)
{
    for (int i = 0; i < n; i++) {
        tt_ms now = now_ms(k);
        int err = null_feed(k, now);
        if (!err)
            err = tt_call_key(k->c, keys[i], now);
        report(k);
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

/* SIGHUP (or whatever the program uses) asked for the menu file again: loaded in the
 * background, so that the person listening hears nothing of it. One at a time; a request that
 * comes during one starts the next when it ends. */
static void maybe_reload(struct kiosk *k)
{
    if (!k->ed || !k->o->reload || k->reloading || *k->o->reload == k->reload_seen)
        return;
    k->reload_seen = *k->o->reload;
    int err = tt_reload_bg_start(&k->reloading, k->o->menus);
    if (err) {
        tt_diag_add(k->said, TT_ERROR, tt_menu_slot_path(k->o->menus), 0,
                    "cannot reload the menu: %s", strerror(err));
        report(k);
    }
}

static void reload_finished(struct kiosk *k)
{
    tt_reload_bg_finish(k->reloading, k->said);
    k->reloading = NULL;
    report(k);
}

/* A new edition is in service and nobody is at the kiosk (asleep: the last person's session
 * was wiped by the end key or the idle timer): the next person gets it. A new call, begun
 * asleep like the one it replaces, so that nothing is said to an empty room. */
static int move_to_new_menu(struct kiosk *k, tt_ms now)
{
    if (!k->ed || !tt_session_asleep(tt_call_session(k->c)))
        return 0;
    unsigned g = tt_menu_slot_generation(k->o->menus);
    if (g == k->ed->generation || g == k->move_failed)
        return 0;
    const struct tt_edition *ed = tt_menu_slot_hold(k->o->menus);
    unsigned *visits = calloc(tt_menu_node_count(ed->menu), sizeof(*visits));
    tt_call *c = NULL;
    struct tt_call_opts co = k->co;
    co.lang = ed->lang;
    co.asleep = true;
    int err = visits ? tt_call_new(&c, ed->menu, ed->phrases, k->store, &co, k->said) : ENOMEM;
    if (err) {
        /* The old menu goes on (its call is untouched); tried again at the next reload. */
        free(visits);
        tt_diag_add(k->said, TT_ERROR, tt_menu_slot_path(k->o->menus), 0,
                    "cannot move to edition %u of the menu (%s): the kiosk goes on with "
                    "edition %u",
                    ed->generation, strerror(err), k->ed->generation);
        k->move_failed = ed->generation;
        tt_menu_slot_release(k->o->menus, ed);
        report(k);
        return 0;
    }
    log_counts(k, "reload");
    k->resets_end = k->resets_idle = k->lookups = 0; /* the next line counts from here */
    tt_call_free(k->c);
    tt_menu_slot_release(k->o->menus, k->ed);
    free(k->visits);
    k->c = c;
    k->ed = ed;
    k->m = ed->menu;
    k->phrases = ed->phrases;
    k->visits = visits;
    k->clip_started = k->clip_queued = false;
    tt_diag_add(k->said, TT_NOTE, tt_menu_slot_path(k->o->menus), 0,
                "the kiosk now runs edition %u of the menu", ed->generation);
    err = tt_call_start(k->c, now);
    report(k);
    return err;
}

static int loop(struct kiosk *k)
{
    int err = tt_call_start(k->c, 0);
    while (!err && !(k->o->stop && *k->o->stop)) {
        tt_ms now = now_ms(k);
        if ((err = feed(k, now)))
            break;
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
        tt_ms dl = tt_call_deadline(k->c);
        if (dl != TT_NEVER && now >= dl) {
            err = tt_call_step(k->c, now);
            report(k);
            continue;
        }
        maybe_reload(k);
        if ((err = move_to_new_menu(k, now)))
            break;
        int fds[2];
        size_t nbg = tt_call_fds(k->c, fds);
        struct pollfd pfd[5] = {{.fd = tt_term_fd(k->term), .events = POLLIN},
                                {.fd = k->keypad ? tt_evdev_fd(k->keypad) : -1,
                                 .events = POLLIN},
                                {.fd = nbg > 0 ? fds[0] : -1, .events = POLLIN},
                                {.fd = nbg > 1 ? fds[1] : -1, .events = POLLIN},
                                {.fd = k->reloading ? tt_reload_bg_fd(k->reloading) : -1,
                                 .events = POLLIN}};
        int r = poll(pfd, 5, poll_timeout(k, now));
        if (r < 0 && errno != EINTR) {
            err = errno;
            break;
        }
        /* What finished in the background (a lookup, a clip made), at the time it is heard. */
        if ((err = null_feed(k, now_ms(k))) || (err = tt_call_step(k->c, now_ms(k))))
            break;
        report(k);
        if (r > 0 && pfd[4].revents)
            reload_finished(k);
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
    struct kiosk k = {.m = m, .phrases = phrases, .store = store, .diag = diag, .o = o,
                      .rate = o->rate};
    int err = ENOMEM;
    clock_gettime(CLOCK_MONOTONIC, &k.t0);
    /* The words go to the screen masked (on_event), not as transcript lines; the volume is
     * the output's, so that a change is heard at once and not after what it holds. */
    k.co = (struct tt_call_opts){.rate = o->rate, .lang = o->lang, .end_mode = TT_END_RESET,
                                 .idle_ms = o->idle_ms, .volume = TT_CALL_VOLUME_OUTSIDE,
                                 .output_fades = true, .on_event = on_event, .arg = &k};
    if (o->menus) {
        k.ed = tt_menu_slot_hold(o->menus);
        k.m = k.ed->menu;
        k.phrases = k.ed->phrases;
        k.co.lang = k.ed->lang;
        k.reload_seen = o->reload ? *o->reload : 0;
    }
    if (!(k.said = tt_diag_new()) ||
        !(k.visits = calloc(tt_menu_node_count(k.m), sizeof(*k.visits))))
        goto out;
    if ((err = tt_call_new(&k.c, k.m, k.phrases, store, &k.co, k.said)))
        goto out;
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
    /* Stops a stretch under way (within milliseconds), ends a lookup, wipes personal audio. */
    tt_call_free(k.c);
    /* Whoever used the kiosk last, their words leave the screen with the kiosk (unless the
     * terminal has hung up: then there is no screen left to clear, nor to write to). */
    if (!k.hung_up)
        clear_screen(&k);
    if (k.visits)
        log_counts(&k, "stop");
    free(k.visits);
    close_output(&k);
    tt_evdev_close(k.keypad);
    tt_keymap_free(k.keymap);
    tt_term_close(k.term);
    if (k.log)
        fclose(k.log);
    /* A reload under way is let finish (its edition stays in the slot), after the screen was
     * cleared and the terminal given back: it may be synthesizing for a while. */
    if (k.reloading && k.said)
        tt_reload_bg_finish(k.reloading, k.said);
    if (k.said) {
        report(&k);
        tt_diag_free(k.said);
    }
    tt_menu_slot_release(o->menus, k.ed);
    return err;
}

void tt_kiosk_restore_terminal(void)
{
    tt_term_restore_all(true);
}
