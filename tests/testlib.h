/* Shared test helpers: menus from strings, and a simulated driver with a fake clock. */
#ifndef TT_TESTLIB_H
#define TT_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>

#include "tonetree.h"

/* Inline test menus are named as if they lived in tests/data/, so their phrases come
 * from tests/prompts/<lang>/phrases.ini (fixed wording the tests can assert on). */
#define TL_MENU_NAME "tests/data/inline.ini"

/** Load a menu from a string; the test fails with the loader's messages if it has errors. */
tt_menu *tl_menu(const char *ini);
/** Phrases for every language of a menu (from tests/prompts). */
void tl_phrases(const tt_menu *m, tt_phrases **ph);
void tl_phrases_free(const tt_menu *m, tt_phrases **ph);

#define TL_MAX_LINES 512

/* A pretend driver: every SAY lasts say_ms, then done is called; deadlines are honoured. */
struct tl_sim {
    const tt_menu *m;
    tt_session *s;
    tt_ms now;
    tt_ms say_ms;
    tt_ms say_end;  /* when the SAY playing ends, or TT_NEVER */
    char line[TL_MAX_LINES][1024];
    size_t n;
    size_t mark;    /* tl_since() looks at lines from here on */
    int speed;      /* the speed of the last SAY */
    char said[1024]; /* the words (not the transcript's) of the last SAY */
    char entry[64];  /* the entry of the last LOOKUP */
};

void tl_sim_init(struct tl_sim *t, const tt_menu *m, tt_phrases **ph, enum tt_end_mode mode,
                 int lang);
/** The same, with every session option given. */
void tl_sim_init_opts(struct tl_sim *t, const tt_menu *m, tt_phrases **ph,
                      const struct tt_session_opts *o);
void tl_sim_free(struct tl_sim *t);
/* A menu, its phrases and a pretend driver on it: what every session test starts from. */
struct tl_fixture {
    tt_menu *m;
    tt_phrases *ph[8];
    struct tl_sim sim;
};

/** A fixture for a menu written inline, its session started in the given end mode. */
struct tl_fixture *tl_fixture_new(const char *ini, enum tt_end_mode mode);
void tl_fixture_free(struct tl_fixture *f);

/** Run the session until time `until` (ms), playing and waiting as a driver would. */
void tl_run_until(struct tl_sim *t, tt_ms until);
/** Run until the session waits for a key (or ends); fails the test after an hour. */
void tl_run_to_wait(struct tl_sim *t);
/** Press a key at the current time (transcript lines recorded). */
void tl_key(struct tl_sim *t, int key);
/** Answer the session's lookup now (as a driver would), transcript lines recorded. */
void tl_lookup_done(struct tl_sim *t, enum tt_answer a, const char *text);
/** Start looking at transcript lines from now on. */
/* Answer the session's TRANSFER: put through (ok) or not. */
void tl_transfer_done(struct tl_sim *t, bool ok);
void tl_mark(struct tl_sim *t);
/** Index of the first line at or after the mark whose text contains all of the words
 *  (an event word, a node id, words spoken), or -1. */
int tl_find(const struct tl_sim *t, const char *a, const char *b);
/** Fail the test, printing the lines since the mark, unless such a line exists. */
void tl_expect(const struct tl_sim *t, const char *a, const char *b);
void tl_expect_not(const struct tl_sim *t, const char *a, const char *b);
/** The time (ms) written at the start of line i. */
tt_ms tl_time(const struct tl_sim *t, int i);
void tl_dump(const struct tl_sim *t);

#endif

/* ---- audio measurements ---- */
#include <stdint.h>

/** Read a whole mono WAV (any format libsndfile reads); the test fails if it cannot. */
int16_t *tl_read_wav(const char *path, size_t *frames, int *rate);
/** Write a mono 16-bit WAV. */
void tl_write_wav(const char *path, const int16_t *pcm, size_t frames, int rate);
/** Root mean square of pcm[from, to). */
double tl_rms(const int16_t *pcm, size_t from, size_t to);
/** Largest absolute sample in pcm[from, to). */
int tl_peak(const int16_t *pcm, size_t from, size_t to);
/** Power at one frequency (Goertzel), normalised so a full-scale sine gives about 0.25. */
double tl_tone(const int16_t *pcm, size_t n, int rate, double hz);
/** A fresh temporary folder (mkdtemp); removed with tl_rmtree. */
char *tl_tmpdir(void);
void tl_rmtree(const char *dir);
/** Read a whole text file (caller frees). */
char *tl_slurp(const char *path);
/** Seconds of a stand-in for a recording: a wavering tone with some noise (caller frees).
 *  Time-stretching and decoding treat it like speech; the seed picks the noise. */
int16_t *tl_warble(double seconds, int rate, uint32_t seed);
/** A seeded random source (xorshift64), for signals a test can make again: the seed, a
 *  uniform number in (0, 1), a normal one (mean 0, deviation 1). */
void tl_seed(uint64_t seed);
double tl_urand(void);
double tl_gauss(void);
