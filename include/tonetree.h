/*
 * tonetree: an accessible voice menu engine.
 *
 * This header is the whole public API. A menu (an immutable tree read from an INI file) is
 * driven by a session (a pure state machine: events in, events out, no I/O and no clock of
 * its own), whose "say" events are turned into audio by a prompt store (recordings decoded
 * with libsndfile, speech synthesized with flite or espeak-ng, all resampled once with
 * libsoxr). A call (tt_call) joins a session to its audio, lookups and transcript; drivers
 * (offline render, kiosk, telephone line, or a program's own: docs/calls.md) own the clock and
 * the devices, and run calls.
 *
 * Every function that can fail returns 0 or a positive errno value; what went wrong, with the
 * file and line where there is one, is added to the caller's tt_diag for the caller to report.
 */
#ifndef TONETREE_H
#define TONETREE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the shared library exports: these functions, and nothing else (it is built with
 * -fvisibility=hidden; `make check-install` compares its symbols with this header). */
#if defined(__GNUC__)
#define TT_API __attribute__((visibility("default")))
#else
#define TT_API
#endif

/* The library's version, "MAJOR.MINOR.PATCH"; tt_version() gives the one linked. */
#define TT_VERSION "0.10.0"
TT_API const char *tt_version(void);

/* Time in milliseconds since a session began. Drivers own the clock; the core never reads it. */
typedef int64_t tt_ms;
#define TT_NEVER INT64_MAX

typedef struct tt_diag tt_diag;
typedef struct tt_menu tt_menu;
typedef struct tt_phrases tt_phrases;
typedef struct tt_session tt_session;
typedef struct tt_store tt_store;

/* ---- Diagnostics: messages for the one place that reports them ---------------------------- */

enum tt_severity { TT_NOTE, TT_WARNING, TT_ERROR };

/** Make an empty diagnostics list. Returns NULL only when out of memory. */
TT_API tt_diag *tt_diag_new(void);
TT_API void tt_diag_free(tt_diag *d);
/** Add a message. file may be NULL; line 0 means "no line". */
TT_API void tt_diag_add(tt_diag *d, enum tt_severity sev, const char *file, int line,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
TT_API size_t tt_diag_count(const tt_diag *d, enum tt_severity sev);
/** Print every message as "file:line: error: text" lines, in the order added. */
TT_API void tt_diag_print(const tt_diag *d, FILE *f);
/** Drop every message (for reuse between runs). */
TT_API void tt_diag_clear(tt_diag *d);

/* ---- Menus ---------------------------------------------------------------------------------- */

/**
 * Load and validate a menu file.
 * @param menup  set to the menu on success (free with tt_menu_free)
 * @param path   the INI file
 * @param diag   receives every error and warning, with the file and line
 * @return 0, EINVAL when the file has errors (all of them are in diag), or another errno
 */
TT_API int tt_menu_load(tt_menu **menup, const char *path, tt_diag *diag);
/** The same from bytes in memory; name is used in messages and to find nothing on disk. */
TT_API int tt_menu_load_mem(tt_menu **menup, const char *name, const char *data, size_t len,
                            tt_diag *diag);
TT_API void tt_menu_free(tt_menu *m);

TT_API size_t tt_menu_node_count(const tt_menu *m);
/** The node's index, or -1. Ids are case-insensitive, as iniparser lowercases them. */
TT_API int tt_menu_find(const tt_menu *m, const char *id);
TT_API const char *tt_menu_node_id(const tt_menu *m, int node);
TT_API size_t tt_menu_lang_count(const tt_menu *m);
/** Language code (e.g. "en") by index; index 0 is the default language. */
TT_API const char *tt_menu_lang(const tt_menu *m, size_t i);
/** Index of a language code, or -1. */
TT_API int tt_menu_lang_index(const tt_menu *m, const char *code);
/** The voice for a language: "engine:name", e.g. "flite:kal16" or "espeak-ng:es". */
TT_API const char *tt_menu_voice(const tt_menu *m, size_t lang);
/** Directory holding prompts/<lang>/... for this menu (from the file, or next to it). */
TT_API const char *tt_menu_prompts_dir(const tt_menu *m);

/* ---- Phrases: the engine's own words, per language, from prompts/<lang>/phrases.ini ------- */

/** Load one language's phrases; every phrase the engine needs must be there. */
TT_API int tt_phrases_load(tt_phrases **pp, const char *path, tt_diag *diag);
TT_API void tt_phrases_free(tt_phrases *p);
/**
 * Load the phrases of every language of a menu, from <prompts_dir>/<lang>/phrases.ini.
 * @param ph  an array of tt_menu_lang_count(m) slots, filled on success
 * @param prompts_dir  NULL for the menu's own (tt_menu_prompts_dir)
 */
TT_API int tt_phrases_load_all(const tt_menu *m, const char *prompts_dir, tt_phrases **ph,
                               tt_diag *diag);
/** Free what tt_phrases_load_all loaded (m may be NULL: then nothing was loaded). */
TT_API void tt_phrases_free_all(const tt_menu *m, tt_phrases **ph);

/* ---- Keys ------------------------------------------------------------------------------------ */

/* A key is '0'-'9', '*' or '#' (the twelve telephone keys, as themselves), or one of the named
 * keys some kiosk keypads have (EZ Access style), which a keymap file assigns. */
enum tt_key {
    TT_KEY_UP = 0x100, /* browse: the previous choice */
    TT_KEY_DOWN,       /* browse: the next choice */
    TT_KEY_SELECT,     /* browse: take the choice just heard */
    TT_KEY_BACK,       /* as the back key (*) */
    TT_KEY_HELP,       /* as the help key (0) */
    TT_KEY_REPEAT,     /* as the repeat key (5) */
    TT_KEY_LOUDER,
    TT_KEY_SOFTER,
    TT_KEY_SLOWER,
    TT_KEY_FASTER,
    TT_KEY_PAUSE,      /* pause, and resume */
    TT_KEY_EXIT,       /* as the end key (9) */
    TT_KEY_SKIP,       /* as the skip key (#): a keypad's "next", a text caller's N or Enter */
    TT_KEY_LAST = TT_KEY_SKIP
};

/** A key's name as keymaps and transcripts write it: "1", "*", "#", "up", "louder", ... */
TT_API const char *tt_key_name(int key);
/** The key a name stands for, or -1. */
TT_API int tt_key_parse(const char *name);
/**
 * The key a character typed by a text caller (a TTY, real-time text) stands for, or -1 for a
 * character that is no key (it is ignored). Digits, * and # are themselves; letters, in either
 * case, are the engine's keys by their English initials: H help, R repeat, B back, N on (skip),
 * Q leave (end). Enter (CR, LF, or T.140's line separator U+2028) and N end a digit entry while
 * one is typed (typing: tt_session_typing; both are then #), and Enter is no key otherwise.
 * ch is a Unicode code point.
 */
TT_API int tt_text_key(unsigned long ch, bool typing);

/* ---- Sessions ------------------------------------------------------------------------------ */

enum tt_end_mode {
    TT_END_GOODBYE, /* the end key says goodbye, then the session ends (telephone, render) */
    TT_END_RESET    /* the end key stops at once, wipes and starts again at the welcome (kiosk) */
};

struct tt_session_opts {
    int lang;                 /* starting language index */
    enum tt_end_mode end_mode;
    tt_ms idle_ms;            /* a kiosk left alone this long forgets everything (0: never) */
    bool asleep;              /* TT_END_RESET only: begin asleep, as after a reset (silent until
                               * a key wakes it with the welcome): a kiosk handed a new menu
                               * while nobody is at it */
};

/* Volume and speed are the listener's, so the session keeps them (and wipes them on reset);
 * drivers apply them: VOLUME events carry a level, SAY and SPEED events a speed in percent. */
#define TT_VOLUME_LEVELS 9
#define TT_VOLUME_DEFAULT 4
#define TT_VOLUME_STEP_DB 3 /* 9 levels, 3 dB apart: 24 dB, the loudest at full scale */
/** The linear gain of a volume level (the default is 12 dB under full scale). */
TT_API double tt_volume_gain(int level);
#define TT_SPEED_LEVELS 9
#define TT_SPEED_DEFAULT 4 /* 100% */
/** The speech speed of a level, in percent of normal (50 to 175; 0 for a level out of range). */
TT_API int tt_speed_percent(int level);

enum tt_event_type {
    TT_EV_START,   /* session began: node = start node, lang */
    TT_EV_SAY,     /* speak text (node = whose words; part: TT_PART_*); driver calls done after */
    TT_EV_STOP,    /* cut the audio now (barge-in); node = what was cut */
    TT_EV_KEY,     /* a key arrived: key */
    TT_EV_GO,      /* moved to node */
    TT_EV_INVALID, /* key is not a choice in node */
    TT_EV_TIMEOUT, /* silence after a prompt: count = silent/invalid tries so far */
    TT_EV_HELP,    /* entered help (count > 0 when sent there by failed tries) */
    TT_EV_LANG,    /* language changed to lang */
    TT_EV_RESET,   /* everything the listener did was wiped (count: 0 end key, 1 left idle) */
    TT_EV_VOLUME,  /* apply volume level count (see tt_volume_gain) */
    TT_EV_SPEED,   /* speech speed is now count percent (later SAY events carry it) */
    TT_EV_PAUSE,   /* the listener paused: nothing more is said until a key */
    TT_EV_RESUME,  /* and went on */
    TT_EV_LOOKUP,  /* run node's lookup command with the entry in text; answer with
                    * tt_session_lookup_done (text is the entry: never log or show it) */
    TT_EV_TRANSFER, /* send the caller to the person at text (the node's transfer = address,
                     * the menu's, not the caller's); answer with tt_session_transfer_done */
    TT_EV_END      /* the session is over */
};

enum tt_part {
    TT_PART_BODY,   /* the node's own text: a recording may stand in for it */
    TT_PART_ENGINE, /* words the engine composed from phrases (choices, help, warnings, ...) */
    TT_PART_BRIEF   /* the node's short text, said on a return visit: recording <id>.short */
};

/* Whose words a SAY carries, which decides where they may go. The session decides it, so no
 * driver has to guess which words are someone's private business. */
enum tt_privacy {
    TT_PUBLIC,    /* the menu's and the engine's words, the same for everyone: may be prepared,
                   * kept for the process's life and cached on disk */
    TT_PERSONAL,  /* made from what this listener did (an entry read back, a lookup's answer,
                   * the path they took): synthesized into memory for this one use, never
                   * cached on disk, and gone when it has played */
    TT_SENSITIVE  /* personal, from an entry the menu marks sensitive: as personal, and only
                   * the masked words (shown) may be displayed or written anywhere */
};

struct tt_event {
    enum tt_event_type type;
    tt_ms at;
    int node;          /* node index, or -1 for the help menu / none */
    int lang;          /* language index the text is in */
    enum tt_part part; /* for SAY */
    bool first;        /* for SAY: the first part of a new prompt (barge-in times count from it) */
    int key;           /* for KEY and INVALID: a char '0'-'9' '*' '#', or an enum tt_key */
    int count;         /* for TIMEOUT and HELP: tries; for VOLUME: the level; for SPEED: percent */
    int speed;         /* for SAY: percent of normal speed to say it at */
    const char *text;  /* for SAY: the exact words; valid until the next call into the session */
    const char *shown; /* for SAY: what may be shown or written, if not text (a sensitive
                        * entry is masked there as *), else NULL: see tt_event_words */
    enum tt_privacy privacy; /* for SAY: where its words and audio may go */
};

/**
 * The words of a SAY that may be shown on a screen or a braille display, or written to a
 * transcript or log: the masked form when there is one. Only a speech engine gets ev->text.
 */
TT_API const char *tt_event_words(const struct tt_event *ev);

TT_API int tt_session_new(tt_session **sp, const tt_menu *m, tt_phrases *const *phrases,
                          const struct tt_session_opts *opts);
TT_API void tt_session_free(tt_session *s);
/** Begin: speaks the start node. */
TT_API void tt_session_start(tt_session *s, tt_ms now);
/** A key was pressed (see enum tt_key). Any key interrupts speech at once. */
TT_API void tt_session_key(tt_session *s, int key, tt_ms now);
/* How a lookup ended, as the session needs to know it. */
enum tt_answer {
    TT_ANSWER_OK,      /* text holds the words to say */
    TT_ANSWER_NONE,    /* the command found nothing for that entry */
    TT_ANSWER_FAILED   /* the command failed, hung, or could not be run */
};

/**
 * The answer to a LOOKUP event. The session says the words, or a kind message for nothing
 * found or for a service not working, with a way on.
 */
TT_API void tt_session_lookup_done(tt_session *s, enum tt_answer a, const char *text, tt_ms now);
/**
 * The answer to a TRANSFER event: ok when the caller was put through (the session ends: the
 * caller is with the person now), else the session says the transfer did not go through, then
 * the node's way on. A driver that cannot transfer answers false at once; one that never
 * answers gets the same after TT_TRANSFER_WAIT_MS.
 */
TT_API void tt_session_transfer_done(tt_session *s, bool ok, tt_ms now);
#define TT_TRANSFER_WAIT_MS 60000 /* a phone may ring this long before the person answers */
/** The audio of the last SAY finished playing. */
TT_API void tt_session_done(tt_session *s, tt_ms now);
/** Time passed; call when now reaches tt_session_deadline(). */
TT_API void tt_session_tick(tt_session *s, tt_ms now);
/** When tick must next be called (TT_NEVER if nothing is pending). */
TT_API tt_ms tt_session_deadline(const tt_session *s);
/** True while a SAY is playing (between a SAY and its done, or a STOP). */
TT_API bool tt_session_speaking(const tt_session *s);
/** True when the whole current prompt has been spoken and the session waits for a key. */
TT_API bool tt_session_waiting(const tt_session *s);
TT_API bool tt_session_ended(const tt_session *s);
/** True while a kiosk left alone (or left in help) has wiped itself and waits in silence for
 *  the next person: any key but the end key wakes it. */
TT_API bool tt_session_asleep(const tt_session *s);
/** True while the listener is typing digits at an input node: every digit is then data, the
 *  end key's digit (9) too, and only a named exit key ends. */
TT_API bool tt_session_typing(const tt_session *s);
/** The listener reads and types from now on (a TTY was recognized, or the call is real-time
 *  text): waits are the menu's text_timeout, the listener is told how to answer in text, and
 *  a prompt under way is said again from its start. Once set, it stays for the session. */
TT_API void tt_session_text(tt_session *s, tt_ms now);
TT_API bool tt_session_text_mode(const tt_session *s);
/** A transfer to a person was asked of the driver and is not answered yet. */
TT_API bool tt_session_transferring(const tt_session *s);
/** True while the listener has paused (the one silence with no deadline: they asked for it). */
TT_API bool tt_session_paused(const tt_session *s);
/** Take the next event; false when there is none. Drain after every call above. */
TT_API bool tt_session_next_event(tt_session *s, struct tt_event *ev);
/** Events dropped because they were not taken in time (the queue holds the newest 32): 0 for a
 *  driver that drains after every call. Not 0 is a driver's bug, for it to report. */
TT_API unsigned long tt_session_events_lost(const tt_session *s);
/**
 * Render an event as one transcript line (no newline) into buf, as snprintf does: returns the
 * length the whole line needs, so a return of size or more means it was cut (call again with
 * a bigger buffer, or use tt_event_line). Only tt_event_words of a SAY is ever written.
 */
TT_API size_t tt_event_format(const tt_menu *m, const struct tt_event *ev, char *buf, size_t size);
/** The same line, whole, in a malloc'd string (caller frees); NULL when out of memory. */
TT_API char *tt_event_line(const tt_menu *m, const struct tt_event *ev);

/* ---- Prompt store: audio for what a session says -------------------------------------------- */

struct tt_store_opts {
    int rate;               /* output sample rate, Hz */
    const char *prompts_dir; /* recordings: <dir>/<lang>/<node>.<ext> */
    const char *cache_dir;   /* synthesized speech cache; NULL for no disk cache */
    size_t dynamic_bytes;    /* audio kept of what was made on demand (not prepared ahead), the
                              * least recently used clip nobody holds going first: 0 for 64 MiB */
    int workers;             /* threads that make calls' misses (speech not prepared, a lookup's
                              * answer, a recording at a new speed) while the calls play on:
                              * 0 for 2, at most 16; TT_STORE_NO_WORKERS to make them on the
                              * call's own thread, which then waits for each */
};
#define TT_STORE_NO_WORKERS (-1)

/** One prompt's audio: mono int16 at the store's rate, owned by the store. */
struct tt_clip {
    const int16_t *pcm;
    size_t frames;
    bool recorded; /* from a recording, not synthesized */
    bool personal; /* made for one SAY of personal words: tt_store_release wipes and frees it */
};

struct tt_store_stats {
    unsigned synthesized;   /* texts sent to a speech engine */
    unsigned disk_hits;     /* speech read back from the disk cache */
    unsigned recordings;    /* recordings decoded */
    unsigned fallbacks;     /* recordings that could not be used: spoke the text instead */
    unsigned evicted;       /* clips made on demand, dropped to keep within dynamic_bytes */
    unsigned clips;         /* clips the store holds (personal ones are never held) */
    size_t bytes;           /* the audio of those clips, in bytes */
};

/**
 * A prompt store. It may be used from any number of threads at once: what tt_store_prepare made
 * is read with no lock; what is made on demand is kept, up to opts.dynamic_bytes, behind a
 * lock that is never held while audio is made. Messages go to diag, under that lock: while
 * other threads use the store, leave diag alone, and give each call a diag of its own.
 * A call's misses are made by the store's own workers (opts.workers), started with the first;
 * free every call on a store before the store.
 */
TT_API int tt_store_new(tt_store **sp, const struct tt_store_opts *o, tt_diag *diag);
TT_API void tt_store_free(tt_store *s);
/** The rate the store's clips are at (what a call on it must pull at). */
TT_API int tt_store_rate(const tt_store *s);
/**
 * Audio for words in a language. Give the clip back with tt_store_release when done with it: a
 * clip made on demand is never evicted while someone holds it.
 * @param lang   language code ("en")
 * @param voice  "engine:voice" ("flite:kal16", "espeak-ng:es")
 * @param node   node id whose recording may stand in for the text, or NULL
 * @param text   the words (the transcript, and the fallback when there is no recording)
 * @param speed  percent of normal speed, 25 to 400 (0 means 100): speech is synthesized at
 *               that speed, recordings are time-stretched with their pitch kept
 */
TT_API int tt_store_get(tt_store *s, const char *lang, const char *voice, const char *node,
                        const char *text, int speed, const struct tt_clip **clip);
/**
 * Audio for a SAY event of a session on menu m: what every driver asks. Public words come from
 * the store's table (a recording for a node's own text, else speech; prepared ahead, cached on
 * disk). Personal and sensitive words (ev->privacy) are synthesized into memory for this one
 * use: they never enter the table or reach the disk cache.
 * Give every clip back with tt_store_release once it has played, been cut, or been replaced,
 * and at a reset: a personal clip's samples are then wiped.
 * @return 0, or the error of tt_store_get (messages in the store's diag)
 */
TT_API int tt_store_say(tt_store *s, const tt_menu *m, const struct tt_event *ev,
                        const struct tt_clip **clip);
/** Give back a clip from tt_store_say or tt_store_get (NULL is fine). A personal clip is
 *  zeroed and freed; another may then be evicted, if it was made on demand. */
TT_API void tt_store_release(tt_store *s, const struct tt_clip *clip);
TT_API void tt_store_stats(const tt_store *s, struct tt_store_stats *st);
/**
 * Get the audio of everything a session of this menu can say that is known ahead (each node's
 * text and choices, help, the engine's phrases), in every language, so nobody waits later.
 * @param progress  called after each prompt with how many are done of how many, or NULL
 */
TT_API int tt_store_prepare(tt_store *store, const tt_menu *m, tt_phrases *const *phrases,
                            void (*progress)(size_t done, size_t total, void *arg), void *arg);
/**
 * As tt_store_prepare, at every speed a listener can ask for (TT_SPEED_LEVELS of them: about
 * ten times the audio and the synthesis of one speed): for a service whose callers must never
 * wait when they ask for slower or faster speech. At one speed only, another is made on demand.
 */
TT_API int tt_store_prepare_every_speed(tt_store *store, const tt_menu *m,
                                        tt_phrases *const *phrases,
                                        void (*progress)(size_t done, size_t total, void *arg),
                                        void *arg);

/**
 * The rate this menu's prompts are made at before any resampling: the highest of its voices'
 * (flite 16000 Hz, espeak-ng 22050 Hz) and of its recordings' (in prompts_dir, NULL for the
 * menu's own), at most 48000 Hz. A store at this rate keeps every prompt as made; a higher one
 * only costs memory (the guide: a third at 16 kHz of what it takes at 48 kHz).
 * @return the rate in Hz, or a negative errno (a voice that cannot be used; said in diag)
 */
TT_API int tt_prompts_rate(const tt_menu *m, const char *prompts_dir, tt_diag *diag);

/* ---- Calls: a session with its audio, for a driver that owns a clock and a device --------- */

typedef struct tt_call tt_call;

/* Where the listener's volume is applied. */
enum tt_call_volume {
    TT_CALL_VOLUME_LEVEL,    /* in the frames pulled, at the level's gain (a line, a phone) */
    TT_CALL_VOLUME_RELATIVE, /* in the frames pulled, relative to the default level, so that
                              * the default leaves prompts as they are (render) */
    TT_CALL_VOLUME_OUTSIDE   /* not in the frames: the driver's output applies tt_call_gain, so
                              * a change is heard at once, not after what is queued (kiosk) */
};

/* How a call gives its words: as audio, as text beside the audio, or as text alone. */
enum tt_call_text {
    TT_CALL_TEXT_OFF,    /* audio only */
    TT_CALL_TEXT_BESIDE, /* audio, and the same words as text as each is said (real-time text
                          * with audio): the audio decides when a SAY is done */
    TT_CALL_TEXT_ONLY    /* text alone (a TTY, real-time text without audio): no audio is
                          * made, and a SAY is done when the driver has sent its text */
};

struct tt_call_opts {
    int rate;                  /* frames per second pulled: must be the store's */
    int lang;                  /* starting language index */
    enum tt_end_mode end_mode;
    tt_ms idle_ms;             /* see tt_session_opts */
    bool asleep;               /* see tt_session_opts */
    enum tt_call_volume volume;
    bool output_fades;         /* the driver's output fades a cut itself (it holds audio ahead):
                                * a cut drops the clip at once instead of fading it here */
    bool transfers;            /* the driver can put a caller through to a person (a SIP
                                * service): it gets TRANSFER events and answers them with
                                * tt_call_transfer_done; without, a transfer fails at once and
                                * the listener hears so */
    enum tt_call_text text;    /* from the start; tt_call_text switches later */
    /* For text: written when the engine has finished its turn and waits for the caller (a
     * TTY's "GA", go ahead), and when the call ends (a TTY's "SK", stop keying); NULL: none. */
    const char *text_turn, *text_end;
    FILE *transcript;          /* every event as a transcript line (tt_event_line), or NULL */
    /* Called for every event of the session, after the call has acted on its audio (a SAY's
     * clip is asked for just after): for a driver's screen, log and line watch. ev is valid
     * during the call only; the callback must not call back into the call. */
    void (*on_event)(void *arg, const struct tt_event *ev, tt_ms now);
    void *arg;
};

/**
 * A call: one listener's session joined to the prompt store (the audio of what it says), a
 * player (fades, volume), lookups (run in the background) and the transcript. The driver owns
 * the clock, passing now (ms) to every function, and pulls audio whenever its output wants it.
 * Nothing here blocks or sleeps; work that takes long (a lookup; a clip not ready in the store:
 * speech not prepared, a lookup's answer, a recording stretched to a new speed) runs in the
 * background, on the store's workers for a clip, and is taken by tt_call_step. A key during
 * the wait cuts it as it would cut the clip.
 * Messages (a lookup that failed, with the entry hidden) are added to diag for the driver to
 * report. Every function that returns int returns 0 or an errno value (ENOMEM, or the store's
 * error for a clip that could not be made).
 */
TT_API int tt_call_new(tt_call **cp, const tt_menu *m, tt_phrases *const *phrases,
                       tt_store *store, const struct tt_call_opts *o, tt_diag *diag);
/** End the call at once: background work is stopped, personal audio wiped. NULL is fine. */
TT_API void tt_call_free(tt_call *c);
/** Begin: the start node is spoken. */
TT_API int tt_call_start(tt_call *c, tt_ms now);
/** A key (enum tt_key): any key cuts the audio at once. */
TT_API int tt_call_key(tt_call *c, int key, tt_ms now);
/** The answer to a TRANSFER event (see tt_session_transfer_done). */
TT_API int tt_call_transfer_done(tt_call *c, bool ok, tt_ms now);
/** From now on the words go as text too, or only (a driver recognized a TTY): the session
 *  is told (tt_session_text: longer waits, the letter keys said, the prompt under way said
 *  again from its start as text). Audio under way is cut when the text replaces it. */
TT_API int tt_call_text(tt_call *c, enum tt_call_text mode, tt_ms now);
/**
 * Text to send to the caller, up to cap bytes (UTF-8, never cut inside a character): the words
 * of each SAY as they may be shown (a sensitive entry masked with *, never in clear), a new
 * prompt on a new line ("
": the driver writes a line end its way), and the turn and end
 * marks of the options. A cut (a key) drops what was not taken yet. Returns the bytes given.
 */
TT_API size_t tt_call_text_take(tt_call *c, char *buf, size_t cap);
/** Bytes of text waiting to be taken. */
TT_API size_t tt_call_text_left(const tt_call *c);
/** TT_CALL_TEXT_ONLY: everything taken so far has reached the caller (a TTY's modem has sent
 *  it, RTT's packets are out); when all of a SAY's text has, the session goes on. */
TT_API int tt_call_text_sent(tt_call *c, tt_ms now);
/** Characters the caller typed (UTF-8): each that is a key (tt_text_key) is pressed. */
TT_API int tt_call_text_in(tt_call *c, const char *utf8, size_t n, tt_ms now);
/** Take what background work has finished and fire the session's timers that are due. Call
 *  when now reaches tt_call_deadline, when a descriptor of tt_call_fds is readable, and at the
 *  latest tt_call_poll_ms after the last step while tt_call_busy. */
TT_API int tt_call_step(tt_call *c, tt_ms now);
/** Fill out with the next n frames (silence when nothing plays); never blocks or allocates.
 *  @return how many of them were a clip's audio */
TT_API size_t tt_call_pull(tt_call *c, int16_t *out, size_t n);
/** Everything pulled has been heard by the listener but the last `queued` frames (still in the
 *  driver's output): when the playing clip's last frame has been heard, the session goes on. */
TT_API int tt_call_heard(tt_call *c, size_t queued, tt_ms now);
/** Frames of the playing clip not yet pulled (0 when none plays). */
TT_API size_t tt_call_clip_left(const tt_call *c);
/** True from a SAY until its audio has been heard, or cut (also while its clip is made). */
TT_API bool tt_call_playing(const tt_call *c);
/** True while background work holds the call up: a lookup runs, or the clip of a SAY is being
 *  made. An offline driver waits for it (its clock stands still); a live one plays on. */
TT_API bool tt_call_busy(const tt_call *c);
/** When tt_call_step must next be called for the session's timers (TT_NEVER: none). */
TT_API tt_ms tt_call_deadline(const tt_call *c);
/** The descriptors to poll() for POLLIN that mean tt_call_step has work (0 to 2 of them). */
TT_API size_t tt_call_fds(const tt_call *c, int fds[2]);
/** The longest a driver may sleep, in real milliseconds, before calling tt_call_step for the
 *  background work (a lookup's time limit, or a clip waiting for room in the store's queue,
 *  which no descriptor shows); -1: no limit. */
TT_API int tt_call_poll_ms(const tt_call *c);
/** The listener's volume as a linear gain (for TT_CALL_VOLUME_OUTSIDE). */
TT_API float tt_call_gain(const tt_call *c);
/** The session, for questions (tt_session_waiting, ...): keys and time go through the call. */
TT_API tt_session *tt_call_session(tt_call *c);
TT_API bool tt_call_ended(const tt_call *c);

/* ---- Menus in service: load a changed file beside the running one ---------------------------- */

/* A menu slot holds the edition of a menu file that new calls start on. A reload loads the file
 * again beside it, with its phrases, checks it, prepares its prompts, and only then puts it in
 * service: calls running on the old edition finish on it (each call holds its edition), and a
 * file with errors is refused while the old edition goes on. Thread-safe throughout: hold and
 * release take a short lock, a reload runs outside it. */
typedef struct tt_menu_slot tt_menu_slot;

/* One loaded edition: a menu and its phrases, as tt_call_new takes them. */
struct tt_edition {
    const tt_menu *menu;
    tt_phrases *const *phrases;
    int lang;            /* the index of tt_menu_slot_opts.lang in this menu (0 without one) */
    unsigned generation; /* 1 for the first load, one more at each reload put in service */
};

struct tt_menu_slot_opts {
    const char *prompts_dir; /* NULL: the menu's own (tt_menu_prompts_dir) */
    const char *lang;        /* a language code every edition must have (calls start in it), or
                              * NULL for the menu's first */
    bool every_speed;        /* prepare every listener speed (tt_store_prepare_every_speed), as a
                              * telephone service does; else the normal speed only */
};

/**
 * Load the first edition of a menu file.
 * @return 0, EINVAL for a menu with errors, or another error; messages in diag
 */
TT_API int tt_menu_slot_new(tt_menu_slot **sp, const char *path, const struct tt_menu_slot_opts *o,
                            tt_diag *diag);
/** The prompts folder of the edition in service (a store is opened on it). */
TT_API const char *tt_menu_slot_prompts_dir(const tt_menu_slot *s);
#define TT_MENU_SLOT_STORES 4 /* stores a slot prepares its editions in */
/**
 * Prepare the edition in service in store (tt_store_prepare), and every later edition before it
 * goes in service. Called again with another store (a service with one store per audio rate),
 * every edition is prepared in each, up to TT_MENU_SLOT_STORES (ENOSPC past that). An edition
 * whose prompts folder moved is then refused, since a store reads recordings from the folder it
 * was opened on.
 */
TT_API int tt_menu_slot_prepare(tt_menu_slot *s, tt_store *store,
                                void (*progress)(size_t done, size_t total, void *arg), void *arg);
/**
 * Load the file again; put the new edition in service if it loads cleanly. Blocks while the new
 * prompts are made (run it off a real-time thread); two reloads at once run one after the other.
 * @return 0 (warnings may be in diag), or the error that refused it (the old edition stays)
 */
TT_API int tt_menu_slot_reload(tt_menu_slot *s, tt_diag *diag);
/** The edition in service, held until tt_menu_slot_release: hold one for each call's life. */
TT_API const struct tt_edition *tt_menu_slot_hold(tt_menu_slot *s);
TT_API void tt_menu_slot_release(tt_menu_slot *s, const struct tt_edition *e);
/** The generation of the edition in service (a driver compares it with the one it holds). */
TT_API unsigned tt_menu_slot_generation(tt_menu_slot *s);
TT_API const char *tt_menu_slot_path(const tt_menu_slot *s);
/** Free the slot; every hold must have been released. NULL is fine. */
TT_API void tt_menu_slot_free(tt_menu_slot *s);

/* ---- Offline render: a key script in, a WAV and a transcript out ------------------------------ */

struct tt_render_opts {
    const char *keys;      /* the key script: "1 #@2.5 +10 9" (docs/render.md) */
    const char *wav_path;  /* where the session's audio goes, or NULL */
    FILE *transcript;      /* one line per event, or NULL */
    int lang;              /* starting language index */
    int rate;              /* output rate: must be the store's */
    enum tt_end_mode end_mode;
    tt_ms max_ms;          /* give up when one step of the key script takes longer than this
                            * (0: one hour) */
};

/**
 * Run a whole session with no device: keys from the script, audio into a WAV file.
 * @return 0, EINVAL for a bad script (message in diag), or the error that stopped it
 */
TT_API int tt_render(const tt_menu *m, tt_phrases *const *phrases, tt_store *store,
                     const struct tt_render_opts *o, tt_diag *diag);

/* ---- The kiosk: a live session on an audio device, keys from a terminal ----------------------- */

struct tt_kiosk_opts {
    const char *device;  /* output device: NULL for the default, a number, or part of a name */
    int rate;            /* output rate: must be the store's */
    int lang;            /* starting language index */
    tt_ms idle_ms;       /* left alone this long, the kiosk forgets everything (0: never) */
    int key_fd;          /* where keys come from: a terminal (raw mode) or any readable fd */
    FILE *transcript;    /* the words said, one line each (for a braille display), or NULL:
                          * masked where they are sensitive, and cleared at every reset */
    const char *log_path; /* counts (visits per node, resets, lookups), appended when the
                           * kiosk stops; NULL for none */
    bool log_visits;      /* also log each visit with its time: a timeline of what people
                           * looked at, which a court must weigh before turning it on */
    const char *keymap_path; /* a USB keypad's keymap file (in keymaps/), or NULL for none */
    const char *keypad_path; /* its evdev device (/dev/input/eventN), or NULL or "auto" to find it */
    /* Set non-zero (by the program's own SIGINT/SIGTERM handler, say) to end the run; the
     * library installs no signal handler of its own. NULL: only the keys end it. */
    const volatile sig_atomic_t *stop;
    /* A kiosk whose menu can be changed while it runs: the menu comes from this slot (then m and
     * phrases are NULL, and lang is the slot's), or NULL for m and phrases for the whole run. */
    tt_menu_slot *menus;
    /* With menus: each time this changes (the program's SIGHUP handler adds one, say), the file
     * is loaded again in the background; the kiosk says on stderr whether the new menu was
     * taken and moves to it the next time nobody is using it (asleep: after the end key or when
     * left idle). The person listening never hears the menu change. */
    const volatile sig_atomic_t *reload;
};

/**
 * For a program's own handlers of fatal signals (the library installs none): give the
 * terminal the kiosk made raw its settings back, dropping keys typed but not read.
 * Async-signal-safe. `tonetree run` does it on SIGQUIT, SIGABRT and SIGSEGV (its SIGHUP reloads
 * the menu).
 */
TT_API void tt_kiosk_restore_terminal(void);

/**
 * Run the kiosk until the keys end (end of input, a terminal that hangs up), Ctrl-C or Ctrl-\
 * at its terminal, or *o->stop is set. With no audio device it warns on stderr and goes on
 * with the words on the transcript.
 * @return 0; ECANCELED when Ctrl-C or Ctrl-\ ended it (the program may exit 130, as for
 *         SIGINT); or the error that stopped it
 */
TT_API int tt_kiosk_run(const tt_menu *m, tt_phrases *const *phrases, tt_store *store,
                        const struct tt_kiosk_opts *o, tt_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
