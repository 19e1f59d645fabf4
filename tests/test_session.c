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

struct fixture {
    tt_menu *m;
    tt_phrases *ph[8];
    struct tl_sim sim;
};

static int setup_mode(void **state, enum tt_end_mode mode)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->m = tl_menu(menu_ini);
    tl_phrases(f->m, f->ph);
    tl_sim_init(&f->sim, f->m, f->ph, mode, 0);
    *state = f;
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
    struct fixture *f = *state;
    tl_sim_free(&f->sim);
    tl_phrases_free(f->m, f->ph);
    tt_menu_free(f->m);
    free(f);
    return 0;
}

static const char main_choices[] =
    "say main To hear the steps, press 1. To hear more information, press 2. "
    "For help, press 0.";

static void the_start_node_says_its_text_then_choices_from_the_childrens_titles(void **state)
{
    struct fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    assert_string_equal(t->line[0], "0.000 start main lang=en");
    assert_string_equal(t->line[1], "0.000 say main Welcome.");
    /* one second of speech, then the 0.4 s pause between parts */
    assert_string_equal(t->line[2], "1.400 say main To hear the steps, press 1. "
                                    "To hear more information, press 2. For help, press 0.");
    assert_int_equal(t->n, 3);
}

static void any_key_stops_speech_at_the_moment_it_is_pressed(void **state)
{
    struct fixture *f = *state;
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
    struct fixture *f = *state;
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
    struct fixture *f = *state;
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
    struct fixture *f = *state;
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
    struct fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_until(t, 300);
    tl_mark(t);
    tl_key(t, '#');
    tl_run_to_wait(t);
    tl_expect(t, "0.300 stop main", NULL);
    tl_expect(t, "0.700 say main To hear the steps", NULL);
    tl_expect_not(t, "Welcome.", NULL);
}

static void hash_and_star_walk_a_page_sequence_and_the_last_page_leads_out(void **state)
{
    struct fixture *f = *state;
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
    struct fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '7');
    tl_run_to_wait(t);
    tl_expect(t, "invalid 7 main", NULL);
    int said = tl_find(t, "say main 7 is not a choice here.", NULL);
    assert_true(said >= 0);
    assert_string_equal(strchr(t->line[said + 1], ' ') + 1, main_choices);
}

static void three_wrong_keys_lead_to_help_not_a_dead_end(void **state)
{
    struct fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '7');
    tl_run_to_wait(t);
    tl_key(t, '8');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '6');
    tl_run_to_wait(t);
    tl_expect(t, "help 3", NULL);
    tl_expect(t, "say @help Let me help. Help. To hear where you are, press 1. "
                 "To start again, press 2.", NULL);
    tl_expect(t, "say @help Para escuchar en español, oprima 3.", NULL);
    tl_expect(t, "say @help To go back to where you were, press star.", NULL);
}

static void a_good_key_between_mistakes_starts_the_count_again(void **state)
{
    struct fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '7');
    tl_run_to_wait(t);
    tl_key(t, '5');
    tl_run_to_wait(t);
    tl_key(t, '7');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '7');
    tl_run_to_wait(t);
    tl_expect(t, "say main 7 is not a choice here.", NULL);
    tl_expect_not(t, " help ", NULL);
}

static void silence_warns_before_it_acts_and_three_silences_lead_to_help(void **state)
{
    struct fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t); /* the prompt ends at 2.4 s */
    tl_mark(t);
    tl_run_until(t, 9399);
    assert_int_equal(t->n, t->mark); /* nothing before the 7 s are up */
    tl_run_until(t, 10800);
    assert_string_equal(t->line[t->mark], "9.400 timeout main 1");
    assert_string_equal(t->line[t->mark + 1],
                        "9.400 say main Are you still there? Press any key for more time.");
    assert_string_equal(t->line[t->mark + 2], "10.800 say main To hear the steps, press 1. "
                        "To hear more information, press 2. For help, press 0.");
    /* two parts said (1 s each, 0.4 s apart), then 7 s more: the second try */
    tl_run_until(t, 18800);
    tl_expect(t, "18.800 timeout main 2", NULL);
    tl_mark(t);
    tl_run_until(t, 28200);
    tl_expect(t, "28.200 timeout main 3", NULL);
    tl_expect(t, "28.200 help 3", NULL);
    tl_expect(t, "say @help Let me help. Help.", NULL);
}

static void after_the_warning_any_key_means_more_time_not_a_mistake(void **state)
{
    struct fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_run_until(t, 9400); /* warning */
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '7');
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
    struct fixture *f = *state;
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
    struct fixture *f = *state;
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
    struct fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '2');
    tl_run_to_wait(t);
    tl_key(t, '0');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '2');
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
    struct fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '0');
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '3');
    tl_run_to_wait(t);
    tl_expect(t, "lang es", NULL);
    tl_expect(t, "say main Bienvenido.", NULL);
    tl_expect(t, "say main Para escuchar los pasos, oprima 1.", NULL);
    /* help now offers English, in English */
    tl_key(t, '0');
    tl_run_to_wait(t);
    tl_expect(t, "say @help To hear this in English, press 3.", NULL);
}

static void a_wrong_key_in_help_is_named_and_help_said_again(void **state)
{
    struct fixture *f = *state;
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
    struct fixture *f = *state;
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
    struct fixture *f = *state;
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

static void at_a_kiosk_nine_stops_at_once_wipes_and_welcomes_again(void **state)
{
    struct fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tl_key(t, '0');
    tl_run_to_wait(t);
    tl_key(t, '3'); /* Spanish */
    tl_run_to_wait(t);
    tl_key(t, '1');
    tl_run_until(t, t->now + 900);
    tl_mark(t);
    tl_key(t, '9');
    int reset = tl_find(t, "reset", NULL);
    assert_true(reset >= 0);
    assert_int_equal(tl_time(t, reset), t->now);
    /* straight back to the welcome, in the default language, with no pause */
    tl_expect(t, "say main Welcome.", NULL);
    assert_int_equal(tl_time(t, tl_find(t, "say main Welcome.", NULL)), t->now);
    tl_expect_not(t, "Goodbye", NULL);
    /* and the way back was wiped */
    tl_run_to_wait(t);
    tl_mark(t);
    tl_key(t, '*');
    tl_run_to_wait(t);
    tl_expect(t, "You are at the beginning.", NULL);
}

static void silence_in_help_ends_the_session_after_its_tries(void **state)
{
    struct fixture *f = *state;
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
    struct fixture *f = *state;
    struct tl_sim *t = &f->sim;
    tl_run_to_wait(t);
    tt_ms dl = tt_session_deadline(t->s);
    assert_int_equal(dl, t->now + 7000);
    tt_session_tick(t->s, dl - 1);
    struct tt_event ev;
    assert_false(tt_session_next_event(t->s, &ev));
    assert_int_equal(tt_session_deadline(t->s), dl);
}

/* A listener pressing anything at any time, for simulated hours: the session must always be
 * saying something, about to, or waiting with a deadline; never silent for good. */
static void random_keys_at_random_times_never_leave_the_listener_in_silence(void **state)
{
    struct fixture *f = *state;
    static const char keys[] = "0123456789*#";
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
            assert_true(tt_session_speaking(t->s) || tt_session_deadline(t->s) != TT_NEVER);
            seed = seed * 1103515245u + 12345u;
            t->n = t->mark = 0; /* keep only recent lines */
            tl_key(t, keys[(seed >> 16) % 12]);
            assert_true(tt_session_ended(t->s) || tt_session_speaking(t->s) ||
                        tt_session_deadline(t->s) != TT_NEVER);
            for (size_t l = 0; l < t->n; l++)
                if (strstr(t->line[l], " say "))
                    assert_true(strlen(strstr(t->line[l], " say ")) > 8);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            the_start_node_says_its_text_then_choices_from_the_childrens_titles, setup,
            teardown),
        cmocka_unit_test_setup_teardown(any_key_stops_speech_at_the_moment_it_is_pressed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(choosing_then_star_goes_back_to_the_menu_it_came_from,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(star_at_the_start_says_so_and_offers_the_choices, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(five_repeats_the_whole_node, setup, teardown),
        cmocka_unit_test_setup_teardown(hash_during_the_text_skips_to_the_choices, setup,
                                        teardown),
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
        cmocka_unit_test_setup_teardown(at_a_kiosk_nine_stops_at_once_wipes_and_welcomes_again,
                                        setup_kiosk, teardown),
        cmocka_unit_test_setup_teardown(silence_in_help_ends_the_session_after_its_tries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(tick_before_the_deadline_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            random_keys_at_random_times_never_leave_the_listener_in_silence, setup, teardown),
    };
    return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
