/*
 * Callers who read and type (issue 13): the call layer's text mode, driven as a TTY or a
 * real-time-text driver drives it, and the keys typed characters stand for.
 *
 * The driver here is a pretend TTY: it takes the call's text at a fixed number of characters a
 * second (a Baudot TTY sends about six) on a clock of its own, says when all it took has gone
 * out, and types characters back. What the caller's screen shows is everything it took. The
 * behaviour checked is what a person at the other end would see: how to answer in text comes
 * first, then the same words the voice would say, the choices, a turn mark when it is their
 * turn; a typed digit or letter acts as a key; the waits are the text caller's; a key cuts the
 * rest of a prompt; a sensitive entry never comes back in clear. And the switch a line driver
 * makes when it recognizes a TTY during the welcome: the audio stops at once, and the welcome
 * comes again from its start, as text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/menu.h"
#include "proclib.h"
#include "testlib.h"

#define RATE 8000
#define CPS 6 /* a Baudot TTY at 45.45 baud */

#define MENU_HEAD "[tonetree]\ntitle = Text test\nstart = main\n"
static const char *const menu_nodes =
    "[main]\n"
    "title = the main menu\n"
    "text = Welcome to the court line.\n"
    "1 = info\n"
    "2 = case\n"
    "[info]\n"
    "title = the hours\n"
    "text = The clerk's office is open from nine to five.\n"
    "[case]\n"
    "title = your case\n"
    "text = Type your case number, then press pound.\n"
    "input = digits\n"
    "min = 4\n"
    "max = 6\n"
    "sensitive = yes\n"
    "confirm = yes\n"
    "lookup = /bin/true\n";
static char menu_ini[2048];



struct tty {
    tt_menu *m;
    tt_phrases *ph[TT_MAX_LANGS];
    tt_store *store;
    tt_diag *diag;
    tt_call *c;
    tt_ms now;
    double credit;      /* characters the line may send by now */
    char screen[16384]; /* everything the caller's TTY printed */
    size_t len;
    int says, stops;
};

static void on_event(void *arg, const struct tt_event *ev, tt_ms now)
{
    (void)now;
    struct tty *t = arg;
    t->says += ev->type == TT_EV_SAY;
    t->stops += ev->type == TT_EV_STOP;
}

static void tty_open(struct tty *t, const char *ini, enum tt_call_text text)
{
    memset(t, 0, sizeof(*t));
    t->m = tl_menu(ini);
    tl_phrases(t->m, t->ph);
    t->diag = tt_diag_new();
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = "tests/prompts"};
    assert_int_equal(tt_store_new(&t->store, &so, t->diag), 0);
    struct tt_call_opts co = {.rate = RATE, .end_mode = TT_END_GOODBYE,
                              .volume = TT_CALL_VOLUME_RELATIVE, .text = text,
                              .text_turn = "GA", .text_end = "SK",
                              .transcript = getenv("DEBUG_CALL") ? stdout : NULL,
                              .on_event = on_event, .arg = t};
    assert_int_equal(tt_call_new(&t->c, t->m, t->ph, t->store, &co, t->diag), 0);
}

static void tty_close(struct tty *t)
{
    tt_call_free(t->c);
    tt_store_free(t->store);
    tt_diag_free(t->diag);
    tl_phrases_free(t->m, t->ph);
    tt_menu_free(t->m);
}

/* Run the line for ms: text goes out at CPS, the session's timers fire, no audio is made. */
static void run(struct tty *t, tt_ms ms)
{
    int16_t pcm[80];
    for (tt_ms end = t->now + ms; t->now < end; t->now += 10) {
        t->credit += CPS / 100.0;
        while (t->credit >= 1 && tt_call_text_left(t->c)) {
            char ch[8];
            size_t n = tt_call_text_take(t->c, ch, 1); /* one byte: ASCII here */
            if (!n)
                n = tt_call_text_take(t->c, ch, sizeof(ch));
            assert_true(t->len + n < sizeof(t->screen));
            memcpy(t->screen + t->len, ch, n);
            t->len += n;
            t->screen[t->len] = '\0';
            t->credit -= 1;
        }
        if (t->credit > 1)
            t->credit = 1; /* idle: the line does not save up */
        if (!tt_call_text_left(t->c))
            assert_int_equal(tt_call_text_sent(t->c, t->now), 0);
        assert_int_equal(tt_call_step(t->c, t->now), 0);
        /* a text-only call makes no audio at all */
        assert_int_equal(tt_call_pull(t->c, pcm, 80), 0);
    }
}

/* Run until the call waits for the caller with nothing left to send (bounded). */
static void run_to_turn(struct tty *t)
{
    for (int i = 0; i < 600; i++) {
        run(t, 100);
        if (tt_session_waiting(tt_call_session(t->c)) && !tt_call_text_left(t->c))
            return;
    }
    fail_msg("the call never waited for the caller; screen:\n%s", t->screen);
}

static void type(struct tty *t, const char *s)
{
    assert_int_equal(tt_call_text_in(t->c, s, strlen(s), t->now), 0);
}

/* What the screen shows from `from` on. */
static const char *since(const struct tty *t, size_t from)
{
    return t->screen + from;
}

/* ---- keys from characters ---------------------------------------------------------------- */

static void characters_become_keys_and_the_rest_is_ignored(void **state)
{
    (void)state;
    for (int c = '0'; c <= '9'; c++)
        assert_int_equal(tt_text_key((unsigned long)c, false), c);
    assert_int_equal(tt_text_key('*', false), '*');
    assert_int_equal(tt_text_key('#', false), '#');
    assert_int_equal(tt_text_key('h', false), TT_KEY_HELP);
    assert_int_equal(tt_text_key('H', false), TT_KEY_HELP);
    assert_int_equal(tt_text_key('r', false), TT_KEY_REPEAT);
    assert_int_equal(tt_text_key('B', false), TT_KEY_BACK);
    assert_int_equal(tt_text_key('n', false), TT_KEY_SKIP);
    assert_int_equal(tt_text_key('Q', true), TT_KEY_EXIT); /* leaves even mid-entry */
    assert_int_equal(tt_text_key('\r', true), '#'); /* the entry's own end */
    assert_int_equal(tt_text_key('\n', true), '#');
    assert_int_equal(tt_text_key(0x2028, true), '#');
    assert_int_equal(tt_text_key('n', true), '#');
    assert_int_equal(tt_text_key('\r', false), -1);
    assert_int_equal(tt_text_key(0x2028, false), -1);
    const char *ignored = " .,!?'-EGLOPXZaz\b\t";
    for (const char *p = ignored; *p; p++)
        assert_int_equal(tt_text_key((unsigned char)*p, false), -1);
    assert_int_equal(tt_text_key(0xfffd, false), -1);
    assert_int_equal(tt_text_key(0x0661, false), -1); /* another script's digit one */
    assert_string_equal(tt_key_name(TT_KEY_SKIP), "skip");
    assert_int_equal(tt_key_parse("skip"), TT_KEY_SKIP);
}

/* ---- a TTY caller ---------------------------------------------------------------------------- */

static void a_text_caller_reads_how_to_answer_then_the_same_words_then_ga(void **state)
{
    (void)state;
    struct tty t;
    tty_open(&t, menu_ini, TT_CALL_TEXT_ONLY);
    assert_int_equal(tt_call_start(t.c, 0), 0);
    run_to_turn(&t);
    print_message("%s\n", t.screen);
    /* how to answer, with the text caller's wait in seconds, first */
    assert_true(strncmp(t.screen, "Text mode.", 10) == 0);
    assert_non_null(strstr(t.screen, "You have 30 seconds."));
    /* the welcome and the choices in the words the voice says (tests/prompts: choice) */
    const char *w = strstr(t.screen, "Welcome to the court line.");
    const char *c1 = strstr(t.screen, "To hear the hours, press 1.");
    const char *c2 = strstr(t.screen, "To hear your case, press 2.");
    assert_non_null(w);
    assert_non_null(c1);
    assert_non_null(c2);
    assert_true(w < c1 && c1 < c2);
    /* and it is the caller's turn */
    size_t n = strlen(t.screen);
    assert_true(n > 3 && !strcmp(t.screen + n - 3, " GA"));
    /* about six characters a second: the time is the text's length over it */
    print_message("%zu characters in %.1f s\n", n, t.now / 1000.0);
    assert_true(t.now >= (tt_ms)(n * 1000 / CPS) - 1000);
    tty_close(&t);
}

static void a_typed_digit_is_a_choice_and_a_letter_a_key(void **state)
{
    (void)state;
    struct tty t;
    tty_open(&t, menu_ini, TT_CALL_TEXT_ONLY);
    assert_int_equal(tt_call_start(t.c, 0), 0);
    run_to_turn(&t);
    size_t at = t.len;
    type(&t, "1");
    run_to_turn(&t);
    print_message("after 1: %s\n", since(&t, at));
    /* the next prompt on a line of its own, then the words of node info */
    assert_true(since(&t, at)[0] == '\n');
    assert_non_null(strstr(since(&t, at), "The clerk's office is open from nine to five."));
    at = t.len;
    type(&t, "hello"); /* h is help; e, l, o are nothing */
    run_to_turn(&t);
    print_message("after hello: %s\n", since(&t, at));
    assert_non_null(strstr(since(&t, at), "Help."));
    assert_null(strstr(since(&t, at), "is not a choice")); /* e, l, o counted as nothing */
    at = t.len;
    type(&t, "q");
    run(&t, 20000);
    print_message("after q: %s\n", since(&t, at));
    assert_non_null(strstr(since(&t, at), "Goodbye."));
    size_t n = strlen(t.screen);
    assert_true(n > 3 && !strcmp(t.screen + n - 3, "\nSK"));
    assert_true(tt_call_ended(t.c));
    tty_close(&t);
}

static void the_wait_is_the_text_callers_and_said_in_the_text(void **state)
{
    (void)state;
    struct tty t;
    tty_open(&t, menu_ini, TT_CALL_TEXT_ONLY);
    assert_int_equal(tt_call_start(t.c, 0), 0);
    run_to_turn(&t);
    size_t at = t.len;
    run(&t, 29000); /* a voice caller would have been asked "are you still there?" by now */
    assert_int_equal(t.len, at);
    run(&t, 2000);
    run_to_turn(&t);
    print_message("after 31 s: %s\n", since(&t, at));
    assert_non_null(strstr(since(&t, at), "Are you still there?"));
    tty_close(&t);

    /* a menu may set it: the text says the menu's figure */
    char ini[2048];
    snprintf(ini, sizeof(ini), "%stext_timeout = 45\n%s", MENU_HEAD, menu_nodes);
    tty_open(&t, ini, TT_CALL_TEXT_ONLY);
    assert_int_equal(tt_call_start(t.c, 0), 0);
    run_to_turn(&t);
    assert_non_null(strstr(t.screen, "You have 45 seconds."));
    tty_close(&t);
}

static void a_key_cuts_the_rest_of_the_prompt(void **state)
{
    (void)state;
    struct tty t;
    tty_open(&t, menu_ini, TT_CALL_TEXT_ONLY);
    assert_int_equal(tt_call_start(t.c, 0), 0);
    run(&t, 3000); /* some 18 characters of the first prompt */
    assert_true(t.len > 5 && t.len < 40);
    size_t at = t.len;
    type(&t, "1");
    run_to_turn(&t);
    print_message("cut at %zu: %s\n", at, since(&t, at));
    assert_int_equal(t.stops, 1);
    /* nothing more of the welcome: the answer to the key, on a new line */
    assert_null(strstr(t.screen, "Welcome to the court line."));
    assert_true(since(&t, at)[0] == '\n');
    assert_non_null(strstr(since(&t, at), "The clerk's office"));
    tty_close(&t);
}

static void a_sensitive_entry_never_comes_back_in_clear(void **state)
{
    (void)state;
    struct tty t;
    tty_open(&t, menu_ini, TT_CALL_TEXT_ONLY);
    assert_int_equal(tt_call_start(t.c, 0), 0);
    run_to_turn(&t);
    type(&t, "2");
    run_to_turn(&t);
    size_t at = t.len;
    type(&t, "73915\r"); /* Enter ends the entry, as a person who types expects */
    run_to_turn(&t);
    print_message("after the entry: %s\n", since(&t, at));
    /* the read-back (confirm = yes) is what the voice says, masked: a star a digit */
    assert_non_null(strstr(since(&t, at), "You entered * * * * *."));
    at = t.len;
    type(&t, "1"); /* right: the lookup runs, and its answer comes */
    run_to_turn(&t);
    print_message("after yes: %s\n", since(&t, at));
    /* the digits in a row, however spaced or grouped: nowhere on the screen */
    char squeezed[sizeof(t.screen)];
    size_t n = 0;
    for (const char *p = t.screen; *p; p++)
        if (!strchr(" ,.-", *p))
            squeezed[n++] = *p;
    squeezed[n] = '\0';
    assert_null(strstr(squeezed, "739"));
    assert_null(strstr(squeezed, "391"));
    assert_null(strstr(squeezed, "915"));
    tty_close(&t);
}

/* A line driver that recognizes a TTY during the welcome: the audio stops at once, and the
 * welcome comes again, from its start, as text, after how to answer. */
static void a_tty_found_during_the_welcome_gets_it_again_as_text(void **state)
{
    (void)state;
    struct tty t;
    tty_open(&t, menu_ini, TT_CALL_TEXT_OFF);
    assert_int_equal(tt_call_start(t.c, 0), 0);
    /* the audio of the welcome plays for a second (the store makes it first) */
    int16_t pcm[80];
    size_t heard = 0;
    for (double end = tl_now() + 120; heard < RATE && tl_now() < end;) {
        assert_int_equal(tt_call_step(t.c, t.now), 0);
        size_t got = tt_call_pull(t.c, pcm, 80);
        heard += got;
        t.now += 10;
        if (!got)
            tl_sleep(0.005); /* the store's workers are making it */
    }
    assert_true(heard >= RATE);
    assert_int_equal(tt_call_text_left(t.c), 0); /* no text for a voice caller */
    assert_int_equal(tt_call_text(t.c, TT_CALL_TEXT_ONLY, t.now), 0);
    assert_int_equal(t.stops, 1);
    assert_int_equal(tt_call_pull(t.c, pcm, 80), 0); /* silent at once */
    run_to_turn(&t);
    print_message("%s\n", t.screen);
    assert_true(strncmp(t.screen, "Text mode.", 10) == 0);
    assert_non_null(strstr(t.screen, "Welcome to the court line."));
    assert_non_null(strstr(t.screen, "To hear your case, press 2."));
    tty_close(&t);
}

/* Real-time text with audio: the words go as text as each is said, and the audio decides. */
static void text_beside_audio_comes_as_each_part_is_said(void **state)
{
    (void)state;
    struct tty t;
    tty_open(&t, menu_ini, TT_CALL_TEXT_BESIDE);
    assert_int_equal(tt_call_start(t.c, 0), 0);
    /* before any audio has played, the first part's words are there to send */
    char buf[4096];
    size_t n = tt_call_text_take(t.c, buf, sizeof(buf) - 1);
    buf[n] = '\0';
    print_message("first: %s\n", buf);
    assert_true(strncmp(buf, "Text mode.", 10) == 0);
    assert_null(strstr(buf, "Welcome")); /* the welcome is the next part, said later */
    assert_int_equal(tt_call_text_sent(t.c, 0), 0); /* means nothing here: audio decides */
    assert_true(tt_call_playing(t.c));
    tty_close(&t);
}

int main(void)
{
    snprintf(menu_ini, sizeof(menu_ini), "%s%s", MENU_HEAD, menu_nodes);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(characters_become_keys_and_the_rest_is_ignored),
        cmocka_unit_test(a_text_caller_reads_how_to_answer_then_the_same_words_then_ga),
        cmocka_unit_test(a_typed_digit_is_a_choice_and_a_letter_a_key),
        cmocka_unit_test(the_wait_is_the_text_callers_and_said_in_the_text),
        cmocka_unit_test(a_key_cuts_the_rest_of_the_prompt),
        cmocka_unit_test(a_sensitive_entry_never_comes_back_in_clear),
        cmocka_unit_test(a_tty_found_during_the_welcome_gets_it_again_as_text),
        cmocka_unit_test(text_beside_audio_comes_as_each_part_is_said),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
