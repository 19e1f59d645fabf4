/*
 * The session's rules, each driven by timed events through a pretend driver in which every
 * part of a prompt takes one second to say. Defaults: 0.4 s pause between parts and before an
 * answer, 7 s of silence per try, 3 tries before help.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "testlib.h"

static const char menu_ini[] =
    "[tonetree]\n"
    "start = main\n"
    "languages = en, es\n"
    "[main]\n"
    "title = the main menu\n"
    "title.es = el menú principal\n"
    "text = Welcome.\n"
    "text.es = Bienvenido.\n"
    "1 = steps\n"
    "2 = info\n"
    "[steps]\n"
    "title = the steps\n"
    "title.es = los pasos\n"
    "text = There are three steps.\n"
    "text.es = Hay tres pasos.\n"
    "next = step1\n"
    "[step1]\n"
    "title = step one\n"
    "title.es = paso uno\n"
    "text = First do this.\n"
    "text.es = Primero haga esto.\n"
    "next = step2\n"
    "[step2]\n"
    "title = step two\n"
    "title.es = paso dos\n"
    "text = Then do that.\n"
    "text.es = Luego haga aquello.\n"
    "next = step3\n"
    "[step3]\n"
    "title = step three\n"
    "title.es = paso tres\n"
    "text = Last, finish.\n"
    "text.es = Al final, termine.\n"
    "[info]\n"
    "title = more information\n"
    "title.es = más información\n"
    "text = Some facts.\n"
    "text.es = Algunos datos.\n";

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

static const char main_choices[] =
    "say main To hear the steps, press 1. To hear more information, press 2. "
    "For help, press 0.";

static void the_start_node_says_its_text_then_choices_from_the_childrens_titles(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    assert_string_equal(t->line[0], "0.000 start main lang=en");
    /* First how to leave, then the other language in its own words (one second of speech
     * each, then the 0.4 s pause between parts), then the welcome and its choices. */
    assert_string_equal(t->line[1], "0.000 say main To leave, press 9.");
    assert_string_equal(t->line[2], "1.400 say main Para escuchar en español, oprima 7.");
    assert_string_equal(t->line[3], "2.800 say main Welcome.");
    assert_string_equal(t->line[4], "4.200 say main To hear the steps, press 1. "
                                    "To hear more information, press 2. For help, press 0.");
    assert_int_equal(t->n, 5);
}

static void any_key_stops_speech_at_the_moment_it_is_pressed(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_until(t, 500);
    tl_mark(t);
    tl_key(t, '2');
    assert_string_equal(t->line[t->mark], "0.500 key 2");
    assert_string_equal(t->line[t->mark + 1], "0.500 stop main");
    assert_string_equal(t->line[t->mark + 2], "0.500 go info");
    tl_run_to_wait(t);
    tl_expect(t, "0.900 say info Some facts.", NULL);
}

static void choosing_then_star_goes_back_to_the_menu_it_came_from(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '2');
    tl_run_to_wait(t);
    /* a node with no choices offers the way back, by name */
    tl_expect(t, "say info To go back to the main menu, press star.", NULL);
    tl_mark(t);
    tl_key(t, '*');
    tl_run_to_wait(t);
    tl_expect(t, "go main", NULL);
    tl_expect(t, "say main Welcome.", NULL);
}

static void star_at_the_start_says_so_and_offers_the_choices(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '*');
    tl_run_to_wait(t);
    tl_expect(t, "say main You are at the beginning.", NULL);
    tl_expect(t, "say main To hear the steps, press 1.", NULL);
    tl_expect_not(t, "go ", NULL);
}

static void five_repeats_the_whole_node(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '5');
    tl_run_to_wait(t);
    tl_expect(t, "say main Welcome.", NULL);
    tl_expect(t, main_choices, NULL);
}

static void hash_during_the_text_skips_to_the_choices(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_until(t, 3100); /* into "Welcome." */
    tl_mark(t);
    tl_key(t, '#');
    tl_run_to_wait(t);
    tl_expect(t, "3.100 stop main", NULL);
    tl_expect(t, "3.500 say main To hear the steps", NULL);
    tl_expect_not(t, "Welcome.", NULL);
}

static void hash_during_the_greeting_skips_to_the_choices(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_until(t, 300); /* into "To leave, press 9." */
    tl_mark(t);
    tl_key(t, '#');
    tl_run_to_wait(t);
    tl_expect(t, "0.300 stop main", NULL);
    tl_expect(t, "0.700 say main To hear the steps", NULL);
    tl_expect_not(t, "Welcome.", NULL);
    tl_expect_not(t, "español", NULL);
}

static void the_language_key_works_on_every_node_and_says_the_way_out_again(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_until(t, 1500); /* while Spanish is offered */
    tl_mark(t);
    tl_key(t, '7');
    tl_run_to_wait(t);
    tl_expect(t, "lang es", NULL);
    tl_expect(t, "say main Para salir, oprima 9.", NULL);
    tl_expect(t, "say main To hear this in English, press 8.", NULL);
    tl_expect(t, "say main Bienvenido.", NULL);
    /* deep in a page sequence, the other language's key works the same */
    tl_key(t, '1');
    tl_run_to_wait(t);
    tl_key(t, '#');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '8');
    tl_run_to_wait(t);
    tl_expect(t, "lang en", NULL);
    tl_expect(t, "say step1 To leave, press 9.", NULL);
    tl_expect(t, "say step1 First do this.", NULL);
    tl_expect_not(t, "invalid", NULL);
}

static void hash_and_star_walk_a_page_sequence_and_the_last_page_leads_out(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_run_to_wait(t);
    tl_expect(t, "say steps For the next page, press hash.", NULL);
    tl_key(t, '#');
    tl_key(t, '#'); /* barge-in during the pause before step one: the key still counts */
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '#');
    tl_run_to_wait(t);
    tl_expect(t, "go step3", NULL);
    tl_expect(t, "say step3 Last, finish.", NULL);
    tl_expect(t, "say step3 For the previous page, press star. "
                 "To go back to the main menu, press hash.", NULL);
    tl_mark(t);
    tl_key(t, '*');
    tl_run_to_wait(t);
    tl_expect(t, "go step2", NULL);
    tl_expect(t, "say step2 For the next page, press hash. For the previous page, press star.",
              NULL);
    tl_key(t, '*');
    tl_run_to_wait(t);
    tl_key(t, '*');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '*'); /* the first page: back to where the sequence was entered */
    tl_run_to_wait(t);
    tl_expect(t, "go main", NULL);
    /* and from the last page, hash leaves for the menu too */
    tl_key(t, '1');
    tl_run_to_wait(t);
    for (int i = 0; i < 3; i++) { /* to step one, two, three */
        tl_key(t, '#');
        tl_run_to_wait(t);
    }
    tl_mark(t);
    tl_key(t, '#');
    tl_run_to_wait(t);
    tl_expect(t, "go main", NULL);
}

static void a_wrong_key_is_named_back_with_the_choices(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '6');
    tl_run_to_wait(t);
    tl_expect(t, "invalid 6 main", NULL);
    int said = tl_find(t, "say main 6 is not a choice here.", NULL);
    assert_true(said >= 0);
    assert_string_equal(strchr(t->line[said + 1], ' ') + 1, main_choices);
}

static void three_wrong_keys_lead_to_help_not_a_dead_end(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '6');
    tl_run_to_wait(t);
    tl_key(t, '4');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '3');
    tl_run_to_wait(t);
    tl_expect(t, "help 3", NULL);
    tl_expect(t, "say @help Let me help. Help. To hear where you are, press 1. "
                 "For speed and volume, press 2. To start again, press 3.", NULL);
    /* every other language, on its own key: the same key as on every node */
    tl_expect(t, "say @help Para escuchar en español, oprima 7.", NULL);
    tl_expect(t, "say @help To go back to where you were, press star.", NULL);
}

static void a_good_key_between_mistakes_starts_the_count_again(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '6');
    tl_run_to_wait(t);
    tl_key(t, '5');
    tl_run_to_wait(t);
    tl_key(t, '6');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '6');
    tl_run_to_wait(t);
    tl_expect(t, "say main 6 is not a choice here.", NULL);
    tl_expect_not(t, " help ", NULL);
}

static void silence_warns_before_it_acts_and_three_silences_lead_to_help(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t); /* the prompt ends at 5.2 s (four parts) */
    tl_mark(t);
    tl_run_until(t, 12199);
    assert_int_equal(t->n, t->mark); /* nothing before the 7 s are up */
    tl_run_until(t, 13600);
    assert_string_equal(t->line[t->mark], "12.200 timeout main 1");
    assert_string_equal(t->line[t->mark + 1],
                        "12.200 say main Are you still there? Press any key for more time.");
    assert_string_equal(t->line[t->mark + 2], "13.600 say main To hear the steps, press 1. "
                        "To hear more information, press 2. For help, press 0.");
    /* two parts said (1 s each, 0.4 s apart), then 7 s more: the second try */
    tl_run_until(t, 21600);
    tl_expect(t, "21.600 timeout main 2", NULL);
    tl_mark(t);
    tl_run_until(t, 31000);
    tl_expect(t, "31.000 timeout main 3", NULL);
    tl_expect(t, "31.000 help 3", NULL);
    tl_expect(t, "say @help Let me help. Help.", NULL);
}

static void after_the_warning_any_key_means_more_time_not_a_mistake(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_run_until(t, 12200); /* warning */
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '6');
    tl_run_to_wait(t);
    tl_expect_not(t, "invalid", NULL);
    tl_expect(t, main_choices, NULL);
    /* and the count of tries started again: two more silences do not reach help */
    tl_mark(t);
    tl_run_until(t, t->now + 2 * 8000);
    tl_expect_not(t, " help ", NULL);
}

static void help_where_am_i_speaks_the_path_from_the_top(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_run_to_wait(t);
    tl_key(t, '#');
    tl_run_to_wait(t);
    tl_key(t, '#');
    tl_run_to_wait(t);
    tl_key(t, '0');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '1');
    tl_run_to_wait(t);
    tl_expect(t, "say step2 You are in the main menu, then the steps, then step two.", NULL);
    tl_expect(t, "say step2 For the next page, press hash.", NULL);
}

static void help_star_returns_to_where_the_listener_was(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '2');
    tl_run_to_wait(t);
    tl_key(t, '0');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '*');
    tl_run_to_wait(t);
    tl_expect(t, "go info", NULL);
    tl_expect(t, "say info Some facts.", NULL);
}

static void help_can_start_again_from_the_beginning(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '2');
    tl_run_to_wait(t);
    tl_key(t, '0');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '3');
    tl_run_to_wait(t);
    tl_expect(t, "go main", NULL);
    /* the way back is forgotten: star at the start says so */
    tl_mark(t);
    tl_key(t, '*');
    tl_run_to_wait(t);
    tl_expect(t, "You are at the beginning.", NULL);
}

static void help_switches_language_and_says_the_node_in_it(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '0');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '7'); /* help offers Spanish on its language key */
    tl_run_to_wait(t);
    tl_expect(t, "lang es", NULL);
    tl_expect(t, "say main Bienvenido.", NULL);
    tl_expect(t, "say main Para escuchar los pasos, oprima 1.", NULL);
    /* help now offers English, in English */
    tl_key(t, '0');
    tl_run_to_wait(t);
    tl_expect(t, "say @help To hear this in English, press 8.", NULL);
}

static void a_wrong_key_in_help_is_named_and_help_said_again(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '0');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '8');
    tl_run_to_wait(t);
    tl_expect(t, "invalid 8 @help", NULL);
    tl_expect(t, "say @help 8 is not a choice here.", NULL);
    tl_expect(t, "say @help Help.", NULL);
}

static void nine_says_goodbye_then_ends(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_until(t, 200);
    tl_mark(t);
    tl_key(t, '9');
    tl_run_to_wait(t);
    tl_expect(t, "0.200 stop main", NULL);
    tl_expect(t, "0.200 say main Goodbye.", NULL);
    tl_expect(t, "1.200 end", NULL);
    assert_true(tt_session_ended(t->s));
    /* nothing happens after the end */
    size_t n = t->n;
    tl_key(t, '1');
    tl_run_until(t, 60000);
    assert_int_equal(t->n, n);
}

static void a_key_during_goodbye_ends_at_once(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '9');
    tl_run_until(t, t->now + 300);
    tl_mark(t);
    tl_key(t, '1');
    tl_expect(t, "stop main", NULL);
    tl_expect(t, "end", NULL);
    assert_true(tt_session_ended(t->s));
}

static void at_a_kiosk_nine_stops_at_once_wipes_and_stays_silent(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '7'); /* Spanish */
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_run_until(t, t->now + 900);
    tl_mark(t);
    tl_key(t, '9');
    tl_expect(t, "stop step", NULL);
    int reset = tl_find(t, "reset", NULL);
    assert_true(reset >= 0);
    assert_int_equal(tl_time(t, reset), t->now);
    /* The quick exit: whoever made the listener press it hears nothing about the topic.
     * Not a word is said, for as long as nobody presses a key. */
    tl_run_until(t, t->now + 3600000);
    tl_expect_not(t, " say ", NULL);
    tl_expect_not(t, "Goodbye", NULL);
    assert_true(tt_session_asleep(t->s));
    assert_false(tt_session_ended(t->s));
    /* A second 9 (pressed again in a hurry) keeps it silent. */
    tl_key(t, '9');
    tl_run_until(t, t->now + 60000);
    tl_expect_not(t, " say ", NULL);
    /* The next person's key wakes it: the welcome, in the default language, from the top. */
    tl_mark(t);
    tl_key(t, '1');
    tl_run_to_wait(t);
    tl_expect(t, "say main To leave, press 9.", NULL);
    tl_expect(t, "say main Welcome.", NULL);
    tl_expect_not(t, "Bienvenido", NULL);
    /* and the way back was wiped */
    tl_mark(t);
    tl_key(t, '*');
    tl_run_to_wait(t);
    tl_expect(t, "You are at the beginning.", NULL);
}

static void silence_in_help_ends_the_session_after_its_tries(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '0');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_run_until(t, t->now + 120000);
    tl_expect(t, "timeout @help 1", NULL);
    tl_expect(t, "say @help Are you still there?", NULL);
    tl_expect(t, "timeout @help 3", NULL);
    tl_expect(t, "say @help Goodbye.", NULL);
    tl_expect(t, "end", NULL);
}

static void tick_before_the_deadline_changes_nothing(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tt_ms dl = tt_session_deadline(t->s);
    assert_int_equal(dl, t->now + 7000);
    tt_session_tick(t->s, dl - 1);
    struct tt_event ev;
    assert_false(tt_session_next_event(t->s, &ev));
    assert_int_equal(tt_session_deadline(t->s), dl);
}


static void down_and_up_step_through_the_choices_one_at_a_time(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, TT_KEY_DOWN);
    tl_run_to_wait(t);
    tl_expect(t, "key down", NULL);
    tl_expect(t, "say main Choice 1 of 2: the steps. To choose it, press select.", NULL);
    tl_key(t, TT_KEY_DOWN);
    tl_run_to_wait(t);
    tl_expect(t, "say main Choice 2 of 2: more information.", NULL);
    tl_mark(t);
    tl_key(t, TT_KEY_DOWN); /* past the last: round to the first */
    tl_run_to_wait(t);
    tl_expect(t, "Choice 1 of 2: the steps.", NULL);
    tl_mark(t);
    tl_key(t, TT_KEY_UP); /* and back round to the last */
    tl_run_to_wait(t);
    tl_expect(t, "Choice 2 of 2: more information.", NULL);
    tl_mark(t);
    tl_key(t, TT_KEY_SELECT);
    tl_run_to_wait(t);
    tl_expect(t, "go info", NULL);
    /* it was a step down the tree: back returns */
    tl_mark(t);
    tl_key(t, TT_KEY_BACK);
    tl_run_to_wait(t);
    tl_expect(t, "go main", NULL);
}

static void browsing_a_page_offers_the_next_and_previous_pages(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_run_to_wait(t);
    tl_key(t, '#');
    tl_run_to_wait(t); /* step one */
    tl_mark(t);
    tl_key(t, TT_KEY_DOWN);
    tl_run_to_wait(t);
    tl_expect(t, "say step1 Choice 1 of 2: step two.", NULL);
    tl_key(t, TT_KEY_DOWN);
    tl_run_to_wait(t);
    tl_expect(t, "say step1 Choice 2 of 2: the steps.", NULL);
    tl_key(t, TT_KEY_SELECT);
    tl_run_to_wait(t);
    tl_expect(t, "go steps", NULL);
    /* a page move kept the way back: back from the first page leaves for the menu */
    tl_mark(t);
    tl_key(t, TT_KEY_BACK);
    tl_run_to_wait(t);
    tl_expect(t, "go main", NULL);
}

static void browsing_where_there_is_nothing_to_choose_says_so(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '2');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, TT_KEY_DOWN);
    tl_run_to_wait(t);
    tl_expect(t, "say info There are no choices here.", NULL);
    tl_expect(t, "say info To go back to the main menu, press star.", NULL);
    tl_mark(t);
    tl_key(t, TT_KEY_SELECT);
    tl_run_to_wait(t);
    tl_expect_not(t, " go main", NULL);
    tl_expect_not(t, " go info", NULL);
}

static void louder_is_said_back_and_the_cut_part_goes_on(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_until(t, 3300); /* half way through "Welcome." */
    tl_mark(t);
    tl_key(t, TT_KEY_LOUDER);
    tl_run_to_wait(t);
    assert_string_equal(t->line[t->mark], "3.300 key louder");
    assert_string_equal(t->line[t->mark + 1], "3.300 stop main");
    assert_string_equal(t->line[t->mark + 2], "3.300 volume 5");
    assert_string_equal(t->line[t->mark + 3], "3.300 say main Louder.");
    /* then the part that was cut, from its start, and the rest of the prompt */
    assert_string_equal(t->line[t->mark + 4], "4.700 say main Welcome.");
    tl_expect(t, main_choices, NULL);
}

static void volume_has_nine_levels_and_says_when_there_is_no_further_step(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    for (int i = 0; i < 4; i++) {
        tl_key(t, TT_KEY_LOUDER);
        tl_run_to_wait(t);
    }
    tl_expect(t, "volume 8", NULL);
    tl_mark(t);
    tl_key(t, TT_KEY_LOUDER);
    tl_run_to_wait(t);
    tl_expect(t, "say main This is the loudest.", NULL);
    tl_expect_not(t, "volume", NULL);
    for (int i = 0; i < 8; i++) {
        tl_key(t, TT_KEY_SOFTER);
        tl_run_to_wait(t);
    }
    tl_expect(t, "volume 0", NULL);
    tl_mark(t);
    tl_key(t, TT_KEY_SOFTER);
    tl_run_to_wait(t);
    tl_expect(t, "This is the softest.", NULL);
    /* the levels are 3 dB apart and span 24 dB, the loudest at full scale */
    assert_true(fabs(tt_volume_gain(8) - 1.0) < 1e-9);
    assert_true(fabs(20 * log10(tt_volume_gain(5) / tt_volume_gain(4)) - 3.0) < 1e-9);
    assert_true(fabs(20 * log10(tt_volume_gain(8) / tt_volume_gain(0)) - 24.0) < 1e-9);
}

static void slower_speech_is_asked_of_every_later_prompt(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    assert_int_equal(t->speed, 100);
    tl_mark(t);
    tl_key(t, TT_KEY_SLOWER);
    tl_expect(t, "speed 85", NULL);
    tl_expect(t, "say main Slower.", NULL);
    assert_int_equal(t->speed, 85);
    tl_run_to_wait(t);
    tl_key(t, '2');
    tl_run_to_wait(t);
    assert_int_equal(t->speed, 85);
    tl_key(t, TT_KEY_FASTER);
    tl_key(t, TT_KEY_FASTER);
    tl_run_to_wait(t);
    assert_int_equal(t->speed, 115);
}

static void help_leads_to_settings_for_speed_volume_and_pause(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '0');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '2');
    tl_run_to_wait(t);
    tl_expect(t, "say @help Settings. To slow down, press 1. To speed up, press 2. "
                 "For louder, press 3. For softer, press 4. To pause, press 6.", NULL);
    tl_mark(t);
    tl_key(t, '3');
    tl_run_to_wait(t);
    tl_expect(t, "volume 5", NULL);
    tl_expect(t, "say @help Louder.", NULL);
    /* still in settings: another step is one key away */
    tl_mark(t);
    tl_key(t, '1');
    tl_run_to_wait(t);
    tl_expect(t, "speed 85", NULL);
    tl_mark(t);
    tl_key(t, '*');
    tl_run_to_wait(t);
    tl_expect(t, "go main", NULL);
}

static void pause_stays_silent_without_counting_tries_until_a_key(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_until(t, 4500); /* into the choices */
    tl_mark(t);
    tl_key(t, TT_KEY_PAUSE);
    tl_run_to_wait(t);
    tl_expect(t, "pause", NULL);
    tl_expect(t, "say main Paused. Press any key to go on.", NULL);
    assert_true(tt_session_paused(t->s));
    assert_int_equal(tt_session_deadline(t->s), TT_NEVER);
    tl_mark(t);
    tl_run_until(t, t->now + 600000);
    assert_int_equal(t->n, t->mark); /* ten minutes: nothing said, no try counted */
    tl_key(t, '6'); /* any key goes on, with what the pause cut off */
    tl_run_to_wait(t);
    tl_expect(t, "resume", NULL);
    tl_expect_not(t, "invalid", NULL);
    tl_expect(t, main_choices, NULL);
    assert_false(tt_session_paused(t->s));
}

static void a_kiosk_left_idle_forgets_everything_and_waits_silently(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_sim_free(t);
    struct tt_session_opts o = {.end_mode = TT_END_RESET, .idle_ms = 120000};
    tl_sim_init_opts(t, f->m, f->ph, &o);
    tl_run_to_wait(t);
    tl_key(t, TT_KEY_LOUDER);
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_run_to_wait(t);
    /* paused, no try is ever counted: only the idle timer can end it */
    tl_key(t, TT_KEY_PAUSE);
    tt_ms last = t->now;
    tl_mark(t);
    tl_run_until(t, last + 120000);
    int reset = tl_find(t, "reset idle", NULL);
    assert_true(reset >= 0);
    assert_int_equal(tl_time(t, reset), last + 120000);
    tl_expect(t, "volume 4", NULL);
    tl_expect(t, "speed 100", NULL);
    /* then nothing at all, however long nobody comes */
    tl_mark(t);
    tl_run_until(t, t->now + 3600000);
    assert_int_equal(t->n, t->mark);
    /* the next person's first key wakes it with the welcome, and nothing of the last one */
    tl_key(t, '5');
    tl_run_to_wait(t);
    tl_expect(t, "say main Welcome.", NULL);
    tl_mark(t);
    tl_key(t, '*');
    tl_run_to_wait(t);
    tl_expect(t, "You are at the beginning.", NULL);
}

/* A kiosk handed a new menu while nobody is at it begins asleep: nothing said to an empty
 * room, no try counted, until a key wakes it with the welcome (the end key does not). */
static void a_kiosk_begun_asleep_says_nothing_until_a_key_wakes_it(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_sim_free(t);
    struct tt_session_opts o = {.end_mode = TT_END_RESET, .idle_ms = 120000, .asleep = true};
    tl_sim_init_opts(t, f->m, f->ph, &o);
    tl_mark(t);
    tl_run_until(t, 3600000);
    tl_expect_not(t, "say", NULL);
    tl_expect_not(t, "timeout", NULL);
    assert_true(tt_session_asleep(t->s));
    assert_int_equal(tt_session_deadline(t->s), TT_NEVER);
    tl_key(t, '9');
    tl_run_until(t, t->now + 60000);
    tl_expect_not(t, "say", NULL);
    assert_true(tt_session_asleep(t->s));
    tl_key(t, '5');
    tl_run_to_wait(t);
    tl_expect(t, "say main Welcome.", NULL);
    assert_false(tt_session_asleep(t->s));
}

static void an_idle_reset_in_the_middle_of_a_prompt_stops_it_first(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_sim_free(t);
    struct tt_session_opts o = {.end_mode = TT_END_RESET, .idle_ms = 120000};
    tl_sim_init_opts(t, f->m, f->ph, &o);
    t->say_ms = 200000; /* a prompt longer than the idle time */
    tl_run_until(t, 120000);
    int stop = tl_find(t, "120.000 stop main", NULL);
    int reset = tl_find(t, "120.000 reset idle", NULL);
    assert_true(stop >= 0 && reset > stop);
    assert_false(tt_session_speaking(t->s));
}

static void a_kiosk_nobody_answers_goes_quiet_after_help_instead_of_talking_forever(
    void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_run_until(t, 200000);
    tl_expect(t, "help 3", NULL);
    int reset = tl_find(t, "reset idle", NULL);
    assert_true(reset >= 0);
    assert_int_equal(t->n, (size_t)reset + 3); /* reset, volume, speed: then silence */
}

static void the_end_key_at_a_kiosk_also_resets_volume_and_speed(void **state)
{
    struct tl_fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, TT_KEY_SLOWER);
    tl_key(t, TT_KEY_SOFTER);
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, TT_KEY_EXIT);
    tl_expect(t, "reset", NULL);
    tl_expect(t, "volume 4", NULL);
    tl_expect(t, "speed 100", NULL);
    tl_key(t, '1'); /* the next person */
    tl_run_to_wait(t);
    assert_int_equal(t->speed, 100);
}

/* A listener pressing anything at any time, for simulated hours: the session must always be
 * saying something, about to, or waiting with a deadline; never silent for good. */
static void random_keys_at_random_times_never_leave_the_listener_in_silence(void **state)
{
    struct tl_fixture *f = *state;
    static const int keys[] = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#',
                               TT_KEY_UP, TT_KEY_DOWN, TT_KEY_SELECT, TT_KEY_LOUDER,
                               TT_KEY_SLOWER, TT_KEY_FASTER, TT_KEY_PAUSE, TT_KEY_BACK};
    unsigned seed = 12345;
    for (int run = 0; run < 40; run++) {
        struct tl_sim *t = &f->sim;
        tl_sim_free(t);
        tl_sim_init(t, f->m, f->ph, run % 2 ? TT_END_RESET : TT_END_GOODBYE, run % 2);
        t->say_ms = 300 + run * 50;
        for (int i = 0; i < 300 && !tt_session_ended(t->s); i++) {
            seed = seed * 1103515245u + 12345u;
            tl_run_until(t, t->now + (tt_ms)(seed >> 16) % 9000);
            if (tt_session_ended(t->s))
                break;
            /* asleep: a kiosk wiped by its end key or left idle, silent until the next person */
            assert_true(tt_session_speaking(t->s) || tt_session_paused(t->s) ||
                        tt_session_asleep(t->s) || tt_session_deadline(t->s) != TT_NEVER);
            seed = seed * 1103515245u + 12345u;
            t->n = t->mark = 0; /* keep only recent lines */
            tl_key(t, keys[(seed >> 16) % (sizeof(keys) / sizeof(keys[0]))]);
            assert_true(tt_session_ended(t->s) || tt_session_speaking(t->s) ||
                        tt_session_paused(t->s) || tt_session_asleep(t->s) ||
                        tt_session_deadline(t->s) != TT_NEVER);
            for (size_t l = 0; l < t->n; l++)
                if (strstr(t->line[l], " say "))
                    assert_true(strlen(strstr(t->line[l], " say ")) > 8);
        }
    }
}

/* A driver that does not drain loses the oldest events, and is told how many: the queue keeps
 * the newest, the session goes on, and the end key still ends. One that drains loses none. */
static void events_not_taken_are_counted_as_lost_never_silently(void **state)
{
    struct tl_fixture *f = *state;
    tt_session *s = NULL;
    struct tt_session_opts o = {.end_mode = TT_END_GOODBYE};
    assert_int_equal(tt_session_new(&s, f->m, f->ph, &o), 0);
    tt_session_start(s, 0);
    tt_ms now = 0;
    for (int i = 0; i < 40; i++) /* 40 repeats, each a KEY, a STOP and more: none taken */
        tt_session_key(s, '5', now += 100);
    unsigned long lost = tt_session_events_lost(s);
    print_message("40 keys not drained: %lu events lost\n", lost);
    assert_true(lost > 0);
    struct tt_event ev;
    int n = 0, keys = 0;
    tt_ms last = -1;
    while (tt_session_next_event(s, &ev)) {
        n++;
        keys += ev.type == TT_EV_KEY;
        assert_true(ev.at >= last); /* what is left is in order, */
        last = ev.at;
    }
    assert_int_equal(n, 32);    /* the newest 32 */
    assert_int_equal(last, now); /* up to the last key */
    assert_true(keys > 0);
    tt_session_key(s, '9', now += 100);
    while (tt_session_next_event(s, &ev))
        ;
    tt_session_done(s, now += 1000); /* goodbye said */
    while (tt_session_next_event(s, &ev))
        ;
    assert_true(tt_session_ended(s));
    assert_int_equal(tt_session_events_lost(s), lost); /* drained since: nothing more lost */
    tt_session_free(s);
}

/* ---- transfer to a person ---- */

static const char transfer_ini[] =
    "[tonetree]\n"
    "start = main\n"
    "[main]\n"
    "title = the main menu\n"
    "text = Welcome.\n"
    "1 = person\n"
    "[person]\n"
    "title = a person\n"
    "text = I am putting you through to the clerk.\n"
    "transfer = sip:clerk@127.0.0.1\n"
    "1 = main\n";

static struct tl_fixture *at_the_transfer(void)
{
    struct tl_fixture *f = tl_fixture_new(transfer_ini, TT_END_GOODBYE);
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_run_to_wait(t); /* the node's words, then the transfer is asked for */
    return f;
}

static void a_transfer_node_says_where_then_asks_the_driver_and_ends_when_put_through(
    void **state)
{
    (void)state;
    struct tl_fixture *f = at_the_transfer();
    struct tl_sim *t = &f->sim;
    tl_expect(t, "say person I am putting you through to the clerk.", NULL);
    tl_expect(t, "transfer person sip:clerk@127.0.0.1", NULL);
    /* its choices are not said before the transfer: the caller is leaving */
    tl_expect_not(t, "say person To hear the main menu", NULL);
    assert_true(tt_session_transferring(t->s));
    tl_mark(t);
    tl_key(t, '1'); /* keys wait while the person is called */
    tl_expect_not(t, "go main", NULL);
    tl_transfer_done(t, true);
    tl_expect(t, "end", NULL);
    assert_true(tt_session_ended(t->s));
    tl_fixture_free(f);
}

static void a_transfer_that_fails_says_so_then_the_way_back(void **state)
{
    (void)state;
    struct tl_fixture *f = at_the_transfer();
    struct tl_sim *t = &f->sim;
    tl_mark(t);
    tl_transfer_done(t, false);
    tl_run_to_wait(t);
    tl_expect(t, "say person Sorry, I could not put you through.", NULL);
    tl_expect(t, "say person To hear the main menu, press 1.", NULL);
    assert_false(tt_session_transferring(t->s));
    tl_key(t, '1');
    tl_expect(t, "go main", NULL);
    tl_fixture_free(f);
}

static void a_transfer_never_answered_fails_after_its_time_and_the_end_key_still_ends(
    void **state)
{
    (void)state;
    struct tl_fixture *f = at_the_transfer();
    struct tl_sim *t = &f->sim;
    tt_ms asked = t->now;
    tl_mark(t);
    tl_run_until(t, asked + TT_TRANSFER_WAIT_MS - 100);
    tl_expect_not(t, "say person Sorry", NULL); /* still waiting for the person */
    tl_run_until(t, asked + TT_TRANSFER_WAIT_MS + 100);
    tl_expect(t, "say person Sorry, I could not put you through.", NULL);
    tl_fixture_free(f);
    /* the end key while the person is called: goodbye, and a late answer changes nothing */
    f = at_the_transfer();
    t = &f->sim;
    tl_mark(t);
    tl_key(t, '9');
    tl_run_to_wait(t);
    tl_expect(t, "say person Goodbye.", NULL);
    assert_true(tt_session_ended(t->s));
    tl_transfer_done(t, true);
    assert_true(tt_session_ended(t->s));
    tl_fixture_free(f);
}

static void pound_during_the_transfer_words_transfers_at_once_and_a_stray_key_says_them_again(
    void **state)
{
    (void)state;
    struct tl_fixture *f = tl_fixture_new(transfer_ini, TT_END_GOODBYE);
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_run_until(t, t->now + 800); /* into the words */
    tl_mark(t);
    tl_key(t, '#');
    tl_expect(t, "transfer person sip:clerk@127.0.0.1", NULL);
    assert_true(tt_session_transferring(t->s));
    tl_fixture_free(f);
    /* 7 is not a choice: said so, then the words again, then the transfer */
    f = tl_fixture_new(transfer_ini, TT_END_GOODBYE);
    t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_run_until(t, t->now + 800);
    tl_mark(t);
    tl_key(t, '7');
    tl_run_to_wait(t);
    tl_expect(t, "say person 7 is not a choice here.", NULL);
    tl_expect(t, "say person I am putting you through to the clerk.", NULL);
    tl_expect(t, "transfer person sip:clerk@127.0.0.1", NULL);
    tl_fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            the_start_node_says_its_text_then_choices_from_the_childrens_titles, setup,
            teardown),
        cmocka_unit_test(
            a_transfer_node_says_where_then_asks_the_driver_and_ends_when_put_through),
        cmocka_unit_test(a_transfer_that_fails_says_so_then_the_way_back),
        cmocka_unit_test(
            pound_during_the_transfer_words_transfers_at_once_and_a_stray_key_says_them_again),
        cmocka_unit_test(
            a_transfer_never_answered_fails_after_its_time_and_the_end_key_still_ends),
        cmocka_unit_test_setup_teardown(events_not_taken_are_counted_as_lost_never_silently,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(any_key_stops_speech_at_the_moment_it_is_pressed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(choosing_then_star_goes_back_to_the_menu_it_came_from,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(star_at_the_start_says_so_and_offers_the_choices, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(five_repeats_the_whole_node, setup, teardown),
        cmocka_unit_test_setup_teardown(hash_during_the_text_skips_to_the_choices, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hash_during_the_greeting_skips_to_the_choices, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            the_language_key_works_on_every_node_and_says_the_way_out_again, setup, teardown),
        cmocka_unit_test_setup_teardown(
            hash_and_star_walk_a_page_sequence_and_the_last_page_leads_out, setup, teardown),
        cmocka_unit_test_setup_teardown(a_wrong_key_is_named_back_with_the_choices, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(three_wrong_keys_lead_to_help_not_a_dead_end, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_good_key_between_mistakes_starts_the_count_again,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            silence_warns_before_it_acts_and_three_silences_lead_to_help, setup, teardown),
        cmocka_unit_test_setup_teardown(after_the_warning_any_key_means_more_time_not_a_mistake,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(help_where_am_i_speaks_the_path_from_the_top, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(help_star_returns_to_where_the_listener_was, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(help_can_start_again_from_the_beginning, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(help_switches_language_and_says_the_node_in_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_wrong_key_in_help_is_named_and_help_said_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(nine_says_goodbye_then_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(a_key_during_goodbye_ends_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(at_a_kiosk_nine_stops_at_once_wipes_and_stays_silent,
                                        setup_kiosk, teardown),
        cmocka_unit_test_setup_teardown(silence_in_help_ends_the_session_after_its_tries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(tick_before_the_deadline_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(down_and_up_step_through_the_choices_one_at_a_time,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(browsing_a_page_offers_the_next_and_previous_pages,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(browsing_where_there_is_nothing_to_choose_says_so,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(louder_is_said_back_and_the_cut_part_goes_on, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            volume_has_nine_levels_and_says_when_there_is_no_further_step, setup, teardown),
        cmocka_unit_test_setup_teardown(slower_speech_is_asked_of_every_later_prompt, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(help_leads_to_settings_for_speed_volume_and_pause,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(pause_stays_silent_without_counting_tries_until_a_key,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_kiosk_left_idle_forgets_everything_and_waits_silently,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(the_end_key_at_a_kiosk_also_resets_volume_and_speed,
                                        setup_kiosk, teardown),
        cmocka_unit_test_setup_teardown(
            a_kiosk_nobody_answers_goes_quiet_after_help_instead_of_talking_forever, setup_kiosk,
            teardown),
        cmocka_unit_test_setup_teardown(an_idle_reset_in_the_middle_of_a_prompt_stops_it_first,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_kiosk_begun_asleep_says_nothing_until_a_key_wakes_it,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            random_keys_at_random_times_never_leave_the_listener_in_silence, setup, teardown),
    };
    return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
