/*
 * Preparing a menu's prompts: at the normal speed by default, or at every speed a listener can
 * ask for (tt_store_prepare_every_speed, for a telephone service whose callers must never wait
 * for a speech engine). Measured in what the store had to make afterwards: nothing, for a
 * prompt prepared at that speed; one synthesis, for a prompt that was not.
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

#define RATE 8000

/* espeak-ng, the quicker engine: every speed is nine times the synthesis */
static const char menu_ini[] = "[tonetree]\n"
                               "start = main\n"
                               "voice.en = espeak-ng:en\n"
                               "[main]\n"
                               "title = the main menu\n"
                               "text = Welcome to the court.\n"
                               "1 = hours\n"
                               "[hours]\n"
                               "title = the hours\n"
                               "text = Open nine to five.\n";

struct fixture {
    tt_menu *m;
    tt_phrases *ph[8];
    tt_store *store;
    tt_diag *d;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->m = tl_menu(menu_ini);
    tl_phrases(f->m, f->ph);
    f->d = tt_diag_new();
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_prompts_dir(f->m)};
    assert_int_equal(tt_store_new(&f->store, &so, f->d), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tt_store_free(f->store);
    tl_phrases_free(f->m, f->ph);
    tt_menu_free(f->m);
    tt_diag_free(f->d);
    free(f);
    return 0;
}

/* The welcome at a speed: its length, and how many syntheses getting it took. */
static size_t welcome_at(struct fixture *f, int speed, unsigned *made)
{
    struct tt_store_stats a, b;
    tt_store_stats(f->store, &a);
    const struct tt_clip *clip = NULL;
    assert_int_equal(tt_store_get(f->store, tt_menu_lang(f->m, 0), tt_menu_voice(f->m, 0),
                                  "main", "Welcome to the court.", speed, &clip),
                     0);
    size_t frames = clip->frames;
    tt_store_release(f->store, clip);
    tt_store_stats(f->store, &b);
    *made = b.synthesized - a.synthesized;
    return frames;
}

static void the_speeds_are_nine_from_half_to_one_and_three_quarters(void **state)
{
    (void)state;
    assert_int_equal(TT_SPEED_LEVELS, 9);
    assert_int_equal(tt_speed_percent(0), 50);
    assert_int_equal(tt_speed_percent(TT_SPEED_DEFAULT), 100);
    assert_int_equal(tt_speed_percent(TT_SPEED_LEVELS - 1), 175);
    assert_int_equal(tt_speed_percent(-1), 0);
    assert_int_equal(tt_speed_percent(TT_SPEED_LEVELS), 0);
    for (int i = 1; i < TT_SPEED_LEVELS; i++)
        assert_true(tt_speed_percent(i) > tt_speed_percent(i - 1));
}

static void prepared_at_normal_speed_a_slower_prompt_is_made_on_demand(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(tt_store_prepare(f->store, f->m, f->ph, NULL, NULL), 0);
    unsigned made;
    size_t normal = welcome_at(f, 100, &made);
    assert_int_equal(made, 0);
    size_t slow = welcome_at(f, 70, &made);
    assert_int_equal(made, 1);
    assert_true(slow > normal);
}

static void prepared_at_every_speed_nothing_is_made_on_demand(void **state)
{
    struct fixture *f = *state;
    struct tt_store_stats st;
    assert_int_equal(tt_store_prepare_every_speed(f->store, f->m, f->ph, NULL, NULL), 0);
    tt_store_stats(f->store, &st);
    unsigned prepared = st.synthesized;
    size_t last = 0;
    /* from the fastest to the slowest: each longer than the last, none made now */
    for (int i = TT_SPEED_LEVELS - 1; i >= 0; i--) {
        unsigned made;
        size_t n = welcome_at(f, tt_speed_percent(i), &made);
        assert_int_equal(made, 0);
        assert_true(n > last);
        last = n;
    }
    /* and every prompt of the menu was made at each speed */
    assert_true(prepared % TT_SPEED_LEVELS == 0);
    assert_true(prepared >= 5 * TT_SPEED_LEVELS);
}

/* A reload prepares again: only what prepare asked for becomes permanent. What calls made on
 * demand (another speed, an answer) stays in the bounded dynamic tier, or a kiosk reloaded
 * every day would keep every day's misses for good. */
static void preparing_again_keeps_what_calls_made_on_demand_evictable(void **state)
{
    struct fixture *f = *state;
    tt_store_free(f->store);
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_prompts_dir(f->m),
                               .dynamic_bytes = 1};
    assert_int_equal(tt_store_new(&f->store, &so, f->d), 0);
    assert_int_equal(tt_store_prepare(f->store, f->m, f->ph, NULL, NULL), 0);
    unsigned made;
    const struct tt_clip *held = NULL;
    assert_int_equal(tt_store_get(f->store, tt_menu_lang(f->m, 0), tt_menu_voice(f->m, 0),
                                  "main", "Welcome to the court.", 70, &held),
                     0);
    /* prepared again while a call holds a clip it made on demand */
    assert_int_equal(tt_store_prepare(f->store, f->m, f->ph, NULL, NULL), 0);
    tt_store_release(f->store, held); /* over the bound: evicted now */
    struct tt_store_stats st;
    tt_store_stats(f->store, &st);
    assert_int_equal(st.evicted, 1);
    welcome_at(f, 70, &made);
    assert_int_equal(made, 1); /* made again: it had not become permanent */
    welcome_at(f, 100, &made);
    assert_int_equal(made, 0); /* what prepare made stays, above the 1-byte bound */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_speeds_are_nine_from_half_to_one_and_three_quarters),
        cmocka_unit_test_setup_teardown(
            prepared_at_normal_speed_a_slower_prompt_is_made_on_demand, setup, teardown),
        cmocka_unit_test_setup_teardown(prepared_at_every_speed_nothing_is_made_on_demand,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            preparing_again_keeps_what_calls_made_on_demand_evictable, setup, teardown),
    };
    return cmocka_run_group_tests_name("prepare", tests, NULL, NULL);
}
