/*
 * The end key always ends. On a phone it says goodbye and the call is over; at a kiosk it
 * wipes everything at once and starts again. It must do so from every state a listener can be
 * in: a node, a page, help, a pause, a read-back, a confirmation, while a lookup runs, at its
 * answer. The one exception is typing digits, where 9 is a digit (case numbers hold nines):
 * there a keypad's named exit key still ends, and the choices say how to leave.
 *
 * The first tests walk each state by hand; the last drives thousands of random key sequences
 * (every key, with time passing and lookups answered, failing or never answered) through every
 * kind of node and checks the end key after each one. Along the way it holds two more
 * invariants: the session is never silent while waiting for nothing, and a listener who walks
 * away (a quarter of the walks) never leaves it stuck. Its seed is printed when it fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testlib.h"

static const char menu_ini[] =
    "[tonetree]\n"
    "start = main\n"
    "[main]\n"
    "title = the main menu\n"
    "text = Welcome.\n"
    "1 = steps\n"
    "2 = case\n"
    "3 = secret\n"
    "4 = quick\n"
    "[steps]\n"
    "title = the steps\n"
    "text = Step one.\n"
    "next = step2\n"
    "1 = person\n"
    "[person]\n"
    "title = a person\n"
    "text = I am putting you through.\n"
    "transfer = sip:clerk@127.0.0.1\n"
    "2 = main\n"
    "[step2]\n"
    "title = step two\n"
    "text = Step two.\n"
    "[case]\n"
    "title = your hearing date\n"
    "text = Enter your case number, then press pound.\n"
    "input = digits\n"
    "min = 4\n"
    "max = 8\n"
    "lookup = /bin/true\n"
    "[secret]\n"
    "title = your PIN\n"
    "text = Enter your PIN.\n"
    "input = digits\n"
    "min = 4\n"
    "max = 4\n"
    "sensitive = yes\n"
    "lookup = /bin/true\n"
    "[quick]\n"
    "title = a quick number\n"
    "text = Enter a number.\n"
    "input = digits\n"
    "min = 1\n"
    "max = 3\n"
    "confirm = no\n"
    "lookup = /bin/true\n";

static int setup_phone(void **state)
{
    *state = tl_fixture_new(menu_ini, TT_END_GOODBYE);
    return 0;
}

static int setup_kiosk(void **state)
{
    *state = tl_fixture_new(menu_ini, TT_END_RESET);
    return 0;
}

static int teardown(void **state)
{
    tl_fixture_free(*state);
    return 0;
}

static void keys(struct tl_sim *t, const char *k)
{
    for (; *k; k++)
        tl_key(t, *k);
}

/* The end key has ended the session in this mode: on the phone only goodbye is said after it,
 * then the session is over; at the kiosk everything is wiped at once, and it stays silent. */
static void expect_ended(struct tl_sim *t, enum tt_end_mode mode)
{
    if (mode == TT_END_GOODBYE) {
        tl_run_to_wait(t);
        if (!tt_session_ended(t->s)) {
            tl_dump(t);
            fail_msg("the end key did not end the call");
        }
        for (size_t i = t->mark; i < t->n; i++)
            if (strstr(t->line[i], " say ") && !strstr(t->line[i], "Goodbye.")) {
                tl_dump(t);
                fail_msg("something other than goodbye was said after the end key");
            }
        return;
    }
    int reset = tl_find(t, "reset", NULL);
    if (reset < 0 || (size_t)reset > t->mark + 2) { /* key, maybe stop, then reset */
        tl_dump(t);
        fail_msg("the end key did not wipe the kiosk at once");
    }
    for (size_t i = t->mark; i < (size_t)reset; i++)
        assert_null(strstr(t->line[i], " say "));
    tl_expect(t, "volume 4", NULL);
    tl_expect(t, "speed 100", NULL);
    assert_false(tt_session_typing(t->s));
    /* The quick exit: silent until the next person's key, nothing about the topic said. */
    tl_run_until(t, t->now + 600000);
    for (size_t i = t->mark; i < t->n; i++)
        if (strstr(t->line[i], " say ")) {
            tl_dump(t);
            fail_msg("something was said after the kiosk's end key");
        }
    assert_true(tt_session_asleep(t->s));
}

/* To an input node ('2' case, '3' secret, '4' quick), its request said in full. */
static struct tl_sim *at_input(void **state, char which)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, which);
    tl_run_to_wait(t);
    return t;
}

static void end_now(struct tl_sim *t, enum tt_end_mode mode)
{
    tl_mark(t);
    tl_key(t, '9');
    expect_ended(t, mode);
}

/* ---- by hand, state by state ---- */

static void while_typing_9_is_a_digit_and_the_choices_say_how_to_leave(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '2');
    tl_run_to_wait(t);
    tl_expect(t, "say case", "To leave at any time, press star twice, then 9.");
    assert_true(tt_session_typing(t->s));
    tl_mark(t);
    keys(t, "2099");
    assert_false(tt_session_ended(t->s));
    tl_expect_not(t, "reset", NULL);
    tl_expect_not(t, "Goodbye", NULL);
    tl_key(t, '#');
    tl_run_to_wait(t);
    tl_expect(t, "say case", "You entered 2 0 9 9.");
}

static void star_twice_then_9_leaves_from_typing_as_the_choices_say(void **state)
{
    struct tl_sim *t = at_input(state, '2');
    keys(t, "123");
    tl_key(t, '*'); /* clears */
    tl_run_to_wait(t);
    assert_true(tt_session_typing(t->s));
    tl_key(t, '*'); /* back to the main menu */
    tl_run_to_wait(t);
    assert_false(tt_session_typing(t->s));
    end_now(t, TT_END_GOODBYE);
}

static void the_named_exit_key_ends_even_while_typing(void **state)
{
    struct tl_sim *t = at_input(state, '2');
    keys(t, "12");
    tl_mark(t);
    tl_key(t, TT_KEY_EXIT);
    expect_ended(t, TT_END_GOODBYE);
}

static void nine_at_the_read_back_ends(void **state)
{
    struct tl_sim *t = at_input(state, '2');
    keys(t, "1234#");
    tl_run_until(t, t->now + 500); /* the read-back is being said */
    assert_true(tt_session_speaking(t->s));
    end_now(t, TT_END_GOODBYE);
}

static void nine_at_the_confirmation_ends(void **state)
{
    struct tl_sim *t = at_input(state, '2');
    keys(t, "1234#");
    tl_run_to_wait(t); /* "If that is right, press 1." said; waiting */
    end_now(t, TT_END_GOODBYE);
}

static void nine_while_the_lookup_runs_ends(void **state)
{
    struct tl_sim *t = at_input(state, '2');
    keys(t, "1234#");
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_run_to_wait(t); /* "One moment." said; the answer has not come */
    assert_string_equal(t->entry, "1234");
    end_now(t, TT_END_GOODBYE);
    /* the answer, when it comes, changes nothing */
    tl_lookup_done(t, TT_ANSWER_OK, "Your hearing is on Monday.");
    tl_run_to_wait(t);
    tl_expect_not(t, "say", "Monday");
}

static void nine_at_the_answer_ends_instead_of_saying_it_again(void **state)
{
    struct tl_sim *t = at_input(state, '2');
    keys(t, "1234#");
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_lookup_done(t, TT_ANSWER_OK, "Your hearing is on Monday.");
    tl_run_until(t, t->now + 1500); /* into the answer */
    end_now(t, TT_END_GOODBYE);
    tl_expect_not(t, "say", "Monday");
}

static void nine_after_a_failed_lookup_ends(void **state)
{
    struct tl_sim *t = at_input(state, '4');
    keys(t, "12#");
    tl_run_to_wait(t);
    tl_lookup_done(t, TT_ANSWER_FAILED, NULL);
    tl_run_to_wait(t);
    end_now(t, TT_END_GOODBYE);
}

static void at_the_kiosk_9_wipes_from_the_confirmation_of_a_sensitive_entry(void **state)
{
    struct tl_sim *t = at_input(state, '3');
    keys(t, "9999"); /* a PIN of nines: all digits, none ends anything */
    assert_false(tt_session_ended(t->s));
    tl_run_to_wait(t); /* "You entered 4 digits. ... To hear them, press 3." */
    tl_key(t, '3');
    tl_run_until(t, t->now + 500); /* the digits being read back, on request */
    end_now(t, TT_END_RESET);
}

static void at_the_kiosk_9_wipes_at_the_answer(void **state)
{
    struct tl_sim *t = at_input(state, '2');
    keys(t, "1234#");
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_lookup_done(t, TT_ANSWER_OK, "Your hearing is on Monday.");
    tl_run_to_wait(t);
    end_now(t, TT_END_RESET);
    /* silence; and the next person hears the welcome, not the answer */
    tl_key(t, '1');
    tl_run_to_wait(t);
    tl_expect(t, "say main", "Welcome.");
    tl_expect_not(t, "say", "Monday");
}

static void a_kiosk_asleep_stays_asleep_when_9_is_pressed(void **state)
{
    (void)state;
    tt_menu *m = tl_menu(menu_ini);
    tt_phrases *ph[8] = {0};
    tl_phrases(m, ph);
    struct tl_sim t;
    struct tt_session_opts o = {.end_mode = TT_END_RESET, .idle_ms = 60000};
    tl_sim_init_opts(&t, m, ph, &o);
    tl_run_until(&t, 61000); /* left alone: asleep */
    tl_mark(&t);
    tl_key(&t, '9'); /* pressed again, in a hurry: the kiosk must not start talking */
    tl_run_until(&t, t.now + 5000);
    tl_expect_not(&t, "say", NULL);
    tl_key(&t, '1'); /* the next person */
    tl_run_to_wait(&t);
    tl_expect(&t, "say main", "Welcome.");
    tl_sim_free(&t);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
}

/* ---- the property: random walks through every kind of node ---- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    /* xorshift64*: small, and the same sequence on every machine for a seed */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717u) >> 32) % n;
}

static const int alphabet[] = {
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '*', '#',
    '1', '2', '3', '4', '#', '*', /* the keys that move about, more often */
    TT_KEY_UP, TT_KEY_DOWN, TT_KEY_SELECT, TT_KEY_BACK, TT_KEY_HELP, TT_KEY_REPEAT,
    TT_KEY_LOUDER, TT_KEY_SOFTER, TT_KEY_SLOWER, TT_KEY_FASTER, TT_KEY_PAUSE,
};
#define N_ALPHABET (sizeof(alphabet) / sizeof(alphabet[0]))

/* One random step: a key now, a key some way into what is being said, time passing to the
 * next wait, a long silence (timeouts, help, idle), or the lookup's answer. */
static void random_step(struct tl_sim *t, bool *lookup_pending)
{
    static const char *answers[] = {"Your hearing is on Monday.", "", NULL};
    size_t before = t->n;
    switch (rnd(10)) {
    case 8: /* a whole entry, as someone who knows their number types it */
        for (const char *k = "20310001#"; *k; k++)
            tl_key(t, *k);
        break;
    case 9: /* "if that is right, press 1", once it has been said */
        tl_run_to_wait(t);
        tl_key(t, '1');
        break;
    case 0:
    case 1:
    case 2:
        tl_key(t, alphabet[rnd(N_ALPHABET)]);
        break;
    case 3:
        tl_run_until(t, t->now + rnd(3000));
        tl_key(t, alphabet[rnd(N_ALPHABET)]);
        break;
    case 4:
        tl_run_to_wait(t);
        break;
    case 5:
        tl_run_until(t, t->now + 1000 + rnd(40000));
        break;
    case 6:
        if (tt_session_transferring(t->s) && rnd(2)) {
            tl_transfer_done(t, rnd(2)); /* put through, or not (or, by case 5, never) */
        } else if (*lookup_pending) {
            uint32_t a = rnd(3);
            tl_lookup_done(t, a == 0 ? TT_ANSWER_OK : a == 1 ? TT_ANSWER_NONE : TT_ANSWER_FAILED,
                           answers[a]);
            *lookup_pending = false;
        }
        break;
    default:
        tl_key(t, '9'); /* the end key along the way too (a digit while typing) */
        break;
    }
    for (size_t i = before; i < t->n; i++)
        if (strstr(t->line[i], " lookup "))
            *lookup_pending = true;
}

/* Where the walks stood when the end key came: the property is only as good as the states it
 * reaches, so each must be reached (a change that made them unreachable fails the test). */
enum { AT_TYPING, AT_ASLEEP, AT_PAUSED, AT_HELP, AT_CONFIRM, AT_LOOKUP, AT_ANSWER, AT_PAGE,
       AT_TRANSFER, AT_STATES };
static const char *const at_name[] = {"typing", "asleep", "paused", "help", "confirm",
                                      "lookup running", "answer", "page", "transfer"};

/* Is line l the event `ev` ("go", "reset", ...)? Lines are "SECONDS EVENT DETAILS". */
static bool is_event(const char *l, const char *ev)
{
    const char *sp = strchr(l, ' ');
    size_t n = strlen(ev);
    return sp && !strncmp(sp + 1, ev, n) && (sp[1 + n] == ' ' || sp[1 + n] == '\0');
}

/* The state, read from the transcript as a listener would know it. */
static void classify(const struct tl_sim *t, bool lookup_pending, int *count)
{
    if (tt_session_transferring(t->s))
        count[AT_TRANSFER]++;
    if (tt_session_typing(t->s))
        count[AT_TYPING]++;
    if (tt_session_asleep(t->s))
        count[AT_ASLEEP]++;
    if (tt_session_paused(t->s))
        count[AT_PAUSED]++;
    if (lookup_pending)
        count[AT_LOOKUP]++;
    for (size_t i = t->n; i-- > 0;) {
        const char *l = t->line[i];
        if (is_event(l, "go") || is_event(l, "reset"))
            break;
        if (is_event(l, "help")) {
            count[AT_HELP]++;
            break;
        }
        if (strstr(l, "If that is right")) {
            count[AT_CONFIRM]++;
            break;
        }
        if (strstr(l, "To hear it again") || strstr(l, "To try again")) {
            count[AT_ANSWER]++;
            break;
        }
    }
    for (size_t i = t->n; i-- > 0;)
        if (is_event(t->line[i], "go")) {
            if (strstr(t->line[i], " go step2"))
                count[AT_PAGE]++;
            break;
        }
}

/* Silence is only ever for a reason: the session speaks, or will do something at its
 * deadline (the next part, a timeout, the answer to a lookup that never comes), or it has
 * ended, sleeps (a kiosk waiting for the next person), or was paused by the listener. */
static void expect_never_silent_for_nothing(struct tl_sim *t, int w, uint64_t seed)
{
    tt_session *s = t->s;
    if (tt_session_ended(s) || tt_session_asleep(s) || tt_session_paused(s) ||
        tt_session_speaking(s) || tt_session_deadline(s) != TT_NEVER)
        return;
    tl_dump(t);
    fail_msg("walk %d (seed %llu): silent, and nothing will happen", w,
             (unsigned long long)seed);
}

/* Left alone from anywhere (no key, no lookup answer), the session gets itself out: a call
 * ends (timeouts, help, goodbye) unless its listener paused it; a kiosk wipes itself and
 * sleeps. Half an hour is far more than the menu's tries and timeouts take. */
static void expect_not_stuck(struct tl_sim *t, enum tt_end_mode mode, int w, uint64_t seed)
{
    bool paused = tt_session_paused(t->s);
    tl_run_until(t, t->now + 30 * 60 * 1000);
    bool out = mode == TT_END_GOODBYE ? tt_session_ended(t->s) || (paused && tt_session_paused(t->s))
                                      : tt_session_asleep(t->s);
    if (!out) {
        tl_dump(t);
        fail_msg("walk %d (seed %llu): left alone for 30 minutes, the %s neither %s", w,
                 (unsigned long long)seed, mode == TT_END_GOODBYE ? "call" : "kiosk",
                 mode == TT_END_GOODBYE ? "ended" : "went to sleep");
    }
}

static void random_walks(enum tt_end_mode mode, uint64_t seed, int walks)
{
    int count[AT_STATES] = {0};
    tt_menu *m = tl_menu(menu_ini);
    tt_phrases *ph[8] = {0};
    tl_phrases(m, ph);
    /* One simulator for every walk, on the heap: a 512 KB local inside the loop is poisoned
     * and unpoisoned by ASan at every turn (use-after-scope), which made this test 40 times
     * slower under ASan than plain. */
    struct tl_sim *sim = malloc(sizeof(*sim));
    assert_non_null(sim);
    for (int w = 0; w < walks; w++) {
        rng_state = seed + (uint64_t)w * 0x9e3779b97f4a7c15u;
        if (!rng_state)
            rng_state = 1;
        struct tt_session_opts o = {.end_mode = mode,
                                    .idle_ms = mode == TT_END_RESET ? 90000 : 0};
        tl_sim_init_opts(sim, m, ph, &o);
        bool pending = false;
        int steps = (int)rnd(40);
        for (int i = 0; i < steps && !tt_session_ended(sim->s); i++) {
            random_step(sim, &pending);
            expect_never_silent_for_nothing(sim, w, seed);
        }
        if (tt_session_ended(sim->s)) { /* a 9 along the way ended it: fine, walk again */
            tl_sim_free(sim);
            continue;
        }
        if (w % 4 == 3) { /* this listener walks away instead */
            expect_not_stuck(sim, mode, w, seed);
            tl_sim_free(sim);
            continue;
        }
        bool was_typing = tt_session_typing(sim->s);
        classify(sim, pending, count);
        tl_mark(sim);
        if (tt_session_asleep(sim->s)) {
            /* Already wiped and silent: the end key keeps it so, and says nothing. */
            tl_key(sim, '9');
            tl_run_until(sim, sim->now + 10000);
            if (tl_find(sim, "say", NULL) >= 0) {
                tl_dump(sim);
                fail_msg("walk %d (seed %llu): the end key woke a sleeping kiosk", w,
                         (unsigned long long)seed);
            }
            tl_sim_free(sim);
            continue;
        }
        tl_key(sim, '9');
        if (tt_session_events_lost(sim->s)) {
            tl_dump(sim);
            fail_msg("walk %d (seed %llu): %lu events lost though the driver drains after "
                     "every call", w, (unsigned long long)seed, tt_session_events_lost(sim->s));
        }
        if (was_typing) {
            /* 9 was a digit: nothing ended; the named exit key must end it now */
            if (tl_find(sim, "reset", NULL) >= 0 || tt_session_ended(sim->s)) {
                tl_dump(sim);
                fail_msg("walk %d (seed %llu): 9 ended a session while digits were typed", w,
                         (unsigned long long)seed);
            }
            tl_mark(sim);
            tl_key(sim, TT_KEY_EXIT);
        }
        expect_ended(sim, mode);
        tl_sim_free(sim);
    }
    free(sim);
    for (int i = 0; i < AT_STATES; i++) {
        print_message("%s: the end key came %d times at: %s\n",
                      mode == TT_END_RESET ? "kiosk" : "phone", count[i], at_name[i]);
        if (!count[i] && !(i == AT_ASLEEP && mode == TT_END_GOODBYE))
            fail_msg("no walk reached '%s': the property no longer covers it", at_name[i]);
    }
    tl_phrases_free(m, ph);
    tt_menu_free(m);
}

static uint64_t seed_from_env(void)
{
    const char *s = getenv("TT_ENDKEY_SEED");
    return s ? strtoull(s, NULL, 10) : 20261202u;
}

static void the_end_key_ends_the_call_from_every_state_on_the_phone(void **state)
{
    (void)state;
    random_walks(TT_END_GOODBYE, seed_from_env(), 20000);
}

static void the_end_key_wipes_the_kiosk_from_every_state(void **state)
{
    (void)state;
    random_walks(TT_END_RESET, seed_from_env() + 1, 20000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            while_typing_9_is_a_digit_and_the_choices_say_how_to_leave, setup_phone, teardown),
        cmocka_unit_test_setup_teardown(star_twice_then_9_leaves_from_typing_as_the_choices_say,
                                        setup_phone, teardown),
        cmocka_unit_test_setup_teardown(the_named_exit_key_ends_even_while_typing, setup_phone,
                                        teardown),
        cmocka_unit_test_setup_teardown(nine_at_the_read_back_ends, setup_phone, teardown),
        cmocka_unit_test_setup_teardown(nine_at_the_confirmation_ends, setup_phone, teardown),
        cmocka_unit_test_setup_teardown(nine_while_the_lookup_runs_ends, setup_phone, teardown),
        cmocka_unit_test_setup_teardown(nine_at_the_answer_ends_instead_of_saying_it_again,
                                        setup_phone, teardown),
        cmocka_unit_test_setup_teardown(nine_after_a_failed_lookup_ends, setup_phone, teardown),
        cmocka_unit_test_setup_teardown(
            at_the_kiosk_9_wipes_from_the_confirmation_of_a_sensitive_entry, setup_kiosk,
            teardown),
        cmocka_unit_test_setup_teardown(at_the_kiosk_9_wipes_at_the_answer, setup_kiosk,
                                        teardown),
        cmocka_unit_test(a_kiosk_asleep_stays_asleep_when_9_is_pressed),
        cmocka_unit_test(the_end_key_ends_the_call_from_every_state_on_the_phone),
        cmocka_unit_test(the_end_key_wipes_the_kiosk_from_every_state),
    };
    return cmocka_run_group_tests_name("the end key", tests, NULL, NULL);
}
