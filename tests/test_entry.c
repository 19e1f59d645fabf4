/*
 * Digit entry: an input node collects digits (every digit is data, 9 and 0 included), * clears,
 * # or a pause ends the entry, the entry is read back in groups for a yes or no, and the lookup's
 * answer (or its failure) is said with a way on. Sensitive entries never reach a transcript.
 * Driven through the pretend driver of testlib: each part of a prompt takes one second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
    "1 = case\n"
    "2 = secret\n"
    "[case]\n"
    "title = your hearing date\n"
    "text = Enter your case number, then press hash.\n"
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
    "lookup = /bin/true\n";

static int setup_mode(void **state, enum tt_end_mode mode)
{
    *state = tl_fixture_new(menu_ini, mode);
    return 0;
}

static int setup(void **state)
{
    return setup_mode(state, TT_END_GOODBYE);
}

static int setup_kiosk(void **state)
{
    return setup_mode(state, TT_END_RESET);
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

/* To the case node, its request said in full. */
static struct tl_sim *at_case(void **state, char which)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, which);
    tl_run_to_wait(t);
    tl_mark(t);
    return t;
}

static void digits_then_hash_are_read_back_in_groups_for_a_yes_or_no(void **state)
{
    struct tl_sim *t = at_case(state, '1');
    keys(t, "2024156#");
    tl_run_to_wait(t);
    tl_expect(t, "say case You entered 2 0 2 4, 1 5 6.", NULL);
    tl_expect(t, "say case If that is right, press 1. To enter it again, press 2.", NULL);
    tl_mark(t);
    tl_key(t, '1');
    tl_expect(t, "lookup case", NULL);
    assert_string_equal(t->entry, "2024156");
    /* the entry is never in the transcript, not even in the lookup line */
    tl_expect_not(t, "2024156", NULL);
    tl_run_to_wait(t);
    tl_expect(t, "say case One moment.", NULL);
}

static void the_answer_is_said_with_a_way_on(void **state)
{
    struct tl_sim *t = at_case(state, '1');
    keys(t, "2024156#");
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_run_until(t, t->now + 300); /* the answer comes while "One moment." is said */
    tl_lookup_done(t, TT_ANSWER_OK, "Your hearing is on May 1.");
    tl_run_to_wait(t);
    tl_expect(t, "say case One moment.", NULL);
    tl_expect(t, "say case Your hearing is on May 1.", NULL);
    tl_expect(t, "say case To hear it again, press 1. To enter another number, press 2. "
                 "To go back to the main menu, press star.", NULL);
    tl_mark(t);
    tl_key(t, '1');
    tl_run_to_wait(t);
    tl_expect(t, "say case Your hearing is on May 1.", NULL);
    tl_mark(t);
    tl_key(t, '*');
    tl_run_to_wait(t);
    tl_expect(t, "go main", NULL);
}

static void every_digit_is_data_during_entry_even_9_0_and_5(void **state)
{
    struct tl_sim *t = at_case(state, '1');
    keys(t, "9050#");
    tl_run_to_wait(t);
    tl_expect_not(t, "Goodbye", NULL);
    tl_expect_not(t, " help ", NULL);
    tl_expect(t, "You entered 9 0 5 0.", NULL);
}

static void star_clears_and_asks_again_and_star_with_nothing_goes_back(void **state)
{
    struct tl_sim *t = at_case(state, '1');
    keys(t, "20*");
    tl_run_to_wait(t);
    tl_expect(t, "say case Cleared. Please start again.", NULL);
    tl_expect(t, "say case Enter your case number, then press hash.", NULL);
    keys(t, "1234#");
    tl_run_to_wait(t);
    tl_expect(t, "You entered 1 2 3 4.", NULL); /* nothing left of the cleared digits */
    tl_key(t, '2'); /* no: enter it again */
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '*');
    tl_run_to_wait(t);
    tl_expect(t, "go main", NULL);
}

static void a_pause_after_the_last_digit_ends_the_entry(void **state)
{
    struct tl_sim *t = at_case(state, '1');
    keys(t, "20241");
    tt_ms last = t->now;
    tl_run_until(t, last + 4999);
    tl_expect_not(t, "You entered", NULL);
    tl_run_until(t, last + 5000);
    int i = tl_find(t, "You entered 2 0 2 4 1.", NULL);
    assert_true(i >= 0);
    assert_int_equal(tl_time(t, i), last + 5000);
}

static void keying_keeps_extending_the_wait(void **state)
{
    struct tl_sim *t = at_case(state, '1');
    for (int i = 0; i < 6; i++) {
        tl_key(t, '3');
        tl_run_until(t, t->now + 4000); /* under 5 s between digits */
    }
    tl_expect_not(t, "You entered", NULL);
    tl_run_until(t, t->now + 1000);
    tl_expect(t, "You entered 3 3 3 3, 3 3.", NULL);
}

static void too_few_digits_says_how_many_and_asks_again(void **state)
{
    struct tl_sim *t = at_case(state, '1');
    keys(t, "12#");
    tl_run_to_wait(t);
    tl_expect(t, "say case That is too short. Please enter at least 4 digits.", NULL);
    tl_expect(t, "say case Enter your case number, then press hash.", NULL);
}

static void the_most_digits_end_the_entry_by_themselves(void **state)
{
    struct tl_sim *t = at_case(state, '1');
    keys(t, "12345678");
    tl_run_to_wait(t);
    tl_expect(t, "You entered 1 2 3 4, 5 6 7 8.", NULL);
}

static void pound_after_a_full_entry_ends_it_once(void **state)
{
    struct tl_sim *t = at_case(state, '1');
    keys(t, "12345678");
    tl_run_until(t, t->now + 600); /* into the read-back */
    tl_key(t, '#');
    tl_run_to_wait(t);
    tl_expect_not(t, "stop case", NULL);
    tl_expect(t, "You entered 1 2 3 4, 5 6 7 8.", NULL);
    int n = 0;
    for (size_t i = t->mark; i < t->n; i++)
        n += strstr(t->line[i], "You entered") != NULL;
    assert_int_equal(n, 1);
}

static void a_failed_lookup_is_said_kindly_with_a_way_to_try_again(void **state)
{
    struct tl_sim *t = at_case(state, '1');
    keys(t, "99999#");
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_run_to_wait(t);
    tl_lookup_done(t, TT_ANSWER_NONE, NULL);
    tl_run_to_wait(t);
    tl_expect(t, "say case Sorry, I could not find an answer for that number.", NULL);
    tl_expect(t, "say case To try again, press 1. To go back to the main menu, press star.",
              NULL);
    tl_mark(t);
    tl_key(t, '1');
    tl_run_to_wait(t);
    tl_expect(t, "say case Enter your case number, then press hash.", NULL);
}

static void a_lookup_nobody_answers_does_not_leave_the_listener_in_silence(void **state)
{
    struct tl_sim *t = at_case(state, '1');
    keys(t, "1234#");
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_run_until(t, t->now + 10000);
    tl_expect(t, "Sorry, that service is not working right now.", NULL);
}

static void silence_before_any_digit_repeats_the_request(void **state)
{
    struct tl_sim *t = at_case(state, '1');
    tl_run_until(t, t->now + 7000);
    tl_run_to_wait(t);
    tl_expect(t, "timeout case 1", NULL);
    tl_expect(t, "say case Are you still there?", NULL);
    tl_expect(t, "say case Enter your case number, then press hash.", NULL);
}

static void a_sensitive_entry_is_masked_in_the_transcript_but_said_to_the_caller(void **state)
{
    struct tl_sim *t = at_case(state, '2');
    keys(t, "4711");
    tl_run_to_wait(t);
    tl_expect(t, "key *", NULL);
    tl_expect_not(t, "key 4", NULL);
    tl_expect_not(t, "key 7", NULL);
    tl_expect(t, "say secret You entered * * * *.", NULL);
    /* on a phone line the caller hears their own digits read back */
    for (size_t i = 0; i < t->n; i++)
        assert_null(strstr(t->line[i], "4711"));
    assert_non_null(strstr(t->line[t->n - 1], "If that is right"));
    tl_mark(t);
    tl_key(t, '1');
    assert_string_equal(t->entry, "4711");
    for (size_t i = 0; i < t->n; i++) {
        assert_null(strstr(t->line[i], "4 7 1 1"));
        assert_null(strstr(t->line[i], "4711"));
    }
}

static void the_caller_hears_a_sensitive_entry_in_full(void **state)
{
    struct tl_sim *t = at_case(state, '2');
    keys(t, "4711");
    /* the readback is the part before the question: find what was said, not shown */
    tl_run_until(t, t->now + 400 + 500);
    assert_string_equal(t->said, "You entered 4 7 1 1.");
    assert_int_equal(t->speed, 85); /* a step slower than the normal 100 */
    tl_run_until(t, t->now + 1000);
    assert_int_equal(t->speed, 100); /* and only the digits */
}

static void at_a_kiosk_a_sensitive_entry_is_read_back_only_on_request(void **state)
{
    struct tl_sim *t = at_case(state, '2');
    keys(t, "4711");
    tl_run_to_wait(t);
    tl_expect(t, "say secret You entered 4 digits.", NULL);
    tl_expect(t, "To hear them, press 3.", NULL);
    tl_mark(t);
    tl_key(t, '3');
    tl_run_until(t, t->now + 900);
    assert_string_equal(t->said, "You entered 4 7 1 1.");
    tl_run_to_wait(t);
    tl_expect(t, "say secret You entered * * * *.", NULL);
}

static void the_end_key_at_a_kiosk_wipes_an_entry_in_progress(void **state)
{
    struct tl_sim *t = at_case(state, '1');
    keys(t, "2024");
    tl_key(t, TT_KEY_EXIT);
    tl_run_to_wait(t);
    assert_true(tt_session_asleep(t->s)); /* silent until the next person */
    tl_key(t, '1');                        /* who wakes it: the welcome */
    tl_run_to_wait(t);
    tl_key(t, '1');                        /* and chooses the case number again */
    tl_run_to_wait(t);
    tl_mark(t);
    keys(t, "5555#");
    tl_run_to_wait(t);
    tl_expect(t, "You entered 5 5 5 5.", NULL);
    tl_expect_not(t, "2 0 2 4", NULL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define K(name) cmocka_unit_test_setup_teardown(name, setup_kiosk, teardown)
    const struct CMUnitTest tests[] = {
        T(digits_then_hash_are_read_back_in_groups_for_a_yes_or_no),
        T(the_answer_is_said_with_a_way_on),
        T(every_digit_is_data_during_entry_even_9_0_and_5),
        T(star_clears_and_asks_again_and_star_with_nothing_goes_back),
        T(a_pause_after_the_last_digit_ends_the_entry),
        T(keying_keeps_extending_the_wait),
        T(too_few_digits_says_how_many_and_asks_again),
        T(the_most_digits_end_the_entry_by_themselves),
        T(pound_after_a_full_entry_ends_it_once),
        T(a_failed_lookup_is_said_kindly_with_a_way_to_try_again),
        T(a_lookup_nobody_answers_does_not_leave_the_listener_in_silence),
        T(silence_before_any_digit_repeats_the_request),
        T(a_sensitive_entry_is_masked_in_the_transcript_but_said_to_the_caller),
        T(the_caller_hears_a_sensitive_entry_in_full),
        K(at_a_kiosk_a_sensitive_entry_is_read_back_only_on_request),
        K(the_end_key_at_a_kiosk_wipes_an_entry_in_progress),
    };
    return cmocka_run_group_tests_name("entry", tests, NULL, NULL);
}
