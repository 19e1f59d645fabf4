/*
 * Say-as marks (src/core/sayas.c): a number written once in a menu text, spoken one way and shown
 * another. The voice must get telephone and case numbers digit by digit with a pause after each
 * group, and dates as people say them in the language; the screen, braille and the review page
 * must get the number as written. A mark that cannot be read is refused with where it is and
 * what to write instead, and a text with no marks has no second form at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sayas.h"

/* Expand in for lang; it must work, giving these two forms (shown NULL: no second form). */
static void expect_forms(const char *lang, const char *in, const char *spoken, const char *shown)
{
    char *sp = (char *)1, *sh = (char *)1, why[256] = "";
    int err = tt_sayas_expand(in, lang, &sp, &sh, why, sizeof(why));
    if (err)
        fail_msg("\"%s\" (%s): error %d: %s", in, lang, err, why);
    assert_non_null(sp);
    assert_string_equal(sp, spoken);
    if (shown) {
        assert_non_null(sh);
        assert_string_equal(sh, shown);
    } else {
        assert_null(sh);
    }
    free(sp);
    free(sh);
}

/* Expand in; it must be refused as unreadable, with both words in the reason and nothing
 * left to free. */
static void expect_refused(const char *in, const char *a, const char *b)
{
    char *sp = (char *)1, *sh = (char *)1, why[256] = "";
    int err = tt_sayas_expand(in, "en", &sp, &sh, why, sizeof(why));
    if (err != EINVAL)
        fail_msg("\"%s\": expected EINVAL, got %d", in, err);
    assert_null(sp);
    assert_null(sh);
    if (!strstr(why, a) || (b && !strstr(why, b)))
        fail_msg("\"%s\": the reason \"%s\" does not say '%s'%s%s", in, why, a, b ? " and " : "",
                 b ? b : "");
}

/* ---- Where a mark meets the words around it -------------------------------------------------- */

static void the_sentence_s_own_stop_after_a_number_is_not_said_twice(void **state)
{
    (void)state;
    expect_forms("en", "Call {tel:911}.", "Call 9 1 1.", "Call 911.");
    expect_forms("en", "Call {tel:911}, now.", "Call 9 1 1, now.", "Call 911, now.");
    expect_forms("en", "Is it {digits:2031-0001}?", "Is it 2 0 3 1. 0 0 0 1?", "Is it 2031-0001?");
    expect_forms("en", "Call {tel:911} now.", "Call 9 1 1. now.", "Call 911 now.");
}

static void two_numbers_side_by_side_stay_two_numbers(void **state)
{
    (void)state;
    expect_forms("en", "{tel:1}{digits:2}", "1. 2.", "12");
}

static void an_error_column_counts_characters_as_an_editor_does(void **state)
{
    (void)state;
    expect_refused("número {tel:1x}", "column 8", NULL);
}

/* ---- Telephone and case numbers -------------------------------------------------------------- */

static void a_telephone_number_is_said_digit_by_digit_with_a_pause_after_each_group(void **state)
{
    (void)state;
    expect_forms("en", "{tel:1-800-799-7233}", "1. 8 0 0. 7 9 9. 7 2 3 3.", "1-800-799-7233");
    expect_forms("en", "{tel:911}", "9 1 1.", "911");
    /* Spaces, parentheses, dots, slashes and a leading + only end groups. */
    expect_forms("en", "{tel:(555) 123-4567}", "5 5 5. 1 2 3. 4 5 6 7.", "(555) 123-4567");
    expect_forms("en", "{tel:+1 800 555 0100}", "1. 8 0 0. 5 5 5. 0 1 0 0.",
                 "+1 800 555 0100");
    expect_forms("en", "{tel:555.123/4567}", "5 5 5. 1 2 3. 4 5 6 7.", "555.123/4567");
    /* Two separators in a row are one pause. */
    expect_forms("en", "{tel:1 - 800}", "1. 8 0 0.", "1 - 800");
}

static void a_number_in_a_sentence_keeps_the_words_around_it(void **state)
{
    (void)state;
    expect_forms("en", "Call {tel:911} now.", "Call 9 1 1. now.", "Call 911 now.");
    expect_forms("es", "Llame al número {tel:1-800-799-7233} de día o de noche.",
                 "Llame al número 1. 8 0 0. 7 9 9. 7 2 3 3. de día o de noche.",
                 "Llame al número 1-800-799-7233 de día o de noche.");
    expect_forms("en", "Call {tel:1-800-799-7233} or text {digits:88788} today.",
                 "Call 1. 8 0 0. 7 9 9. 7 2 3 3. or text 8 8 7 8 8. today.",
                 "Call 1-800-799-7233 or text 88788 today.");
}

static void a_case_number_is_said_as_a_telephone_number_is(void **state)
{
    (void)state;
    expect_forms("en", "{digits:2031-0001}", "2 0 3 1. 0 0 0 1.", "2031-0001");
    expect_forms("es", "{digits:2031-0001}", "2 0 3 1. 0 0 0 1.", "2031-0001");
    expect_forms("fr", "{digits:42}", "4 2.", "42");
}

/* ---- Dates ----------------------------------------------------------------------------------- */

static void a_date_is_said_as_people_say_it_in_the_language(void **state)
{
    (void)state;
    expect_forms("en", "{date:2027-03-05}", "March 5, 2027", "March 5, 2027");
    expect_forms("en", "The hearing is on {date:2027-12-25}.", "The hearing is on December 25, "
                 "2027.", "The hearing is on December 25, 2027.");
    expect_forms("es", "{date:2027-03-05}", "5 de marzo de 2027", "5 de marzo de 2027");
    expect_forms("es", "La audiencia es el {date:2027-01-01}.",
                 "La audiencia es el 1 de enero de 2027.",
                 "La audiencia es el 1 de enero de 2027.");
    /* A regional code reads as its language. */
    expect_forms("en-us", "{date:2027-09-30}", "September 30, 2027", "September 30, 2027");
    expect_forms("es-419", "{date:2027-09-30}", "30 de septiembre de 2027",
                 "30 de septiembre de 2027");
    /* A language with no month names here gets the date as written, for voice and eye. */
    expect_forms("fr", "{date:2027-03-05}", "2027-03-05", "2027-03-05");
}

static void february_29_is_a_date_only_in_a_leap_year(void **state)
{
    (void)state;
    expect_forms("en", "{date:2028-02-29}", "February 29, 2028", "February 29, 2028");
    expect_forms("en", "{date:2000-02-29}", "February 29, 2000", "February 29, 2000");
    expect_refused("{date:2027-02-29}", "February has no day 29", NULL);
    expect_refused("{date:1900-02-29}", "February has no day 29", NULL); /* a century */
    expect_refused("{date:2027-04-31}", "April has no day 31", NULL);
    expect_refused("{date:2027-02-30}", "February has no day 30", NULL);
}

static void a_date_not_written_year_month_day_is_refused_with_an_example(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{date:2027-13-01}", "{date:2027-00-10}", "{date:2027-01-00}", "{date:2027-3-5}",
        "{date:03/05/2027}", "{date:2027-03-05x}", "{date:March 5}",   "{date:2027-03-5 }",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_refused(bad[i], "a date is written year-month-day", "{date:2027-03-05}");
}

/* ---- No marks -------------------------------------------------------------------------------- */

static void a_text_without_marks_is_shown_as_it_is_spoken(void **state)
{
    (void)state;
    expect_forms("en", "Welcome to the court.", "Welcome to the court.", NULL);
    expect_forms("en", "", "", NULL);
    /* Digits written plainly are left to the author. */
    expect_forms("en", "Call 9 1 1.", "Call 9 1 1.", NULL);
    expect_forms("es", "Bienvenidos a la corte: información general.",
                 "Bienvenidos a la corte: información general.", NULL);
}

/* ---- Marks that cannot be read --------------------------------------------------------------- */

static void a_number_with_other_characters_or_no_digits_is_refused(void **state)
{
    (void)state;
    expect_refused("{tel:12a}", "column 1: 'a' cannot be part of a number", "use digits");
    expect_refused("Call {tel:1-800-CALL-NOW}", "column 6: 'C' cannot be part of a number",
                   NULL);
    expect_refused("{digits:12:34}", "':' cannot be part of a number", NULL);
    expect_refused("{tel:--}", "column 1: the number has no digits", NULL);
    expect_refused("{digits: - }", "the number has no digits", NULL);
}

static void an_unknown_kind_of_mark_is_refused_with_the_kinds_there_are(void **state)
{
    (void)state;
    expect_refused("{foo:1}", "column 1: 'foo' is not a kind of say-as mark",
                   "use tel, digits or date");
    expect_refused("Say {time:10:30}.", "column 5: 'time' is not a kind of say-as mark", NULL);
    /* Braces with no kind at all are not a mark either. */
    expect_refused("Press {1}.", "column 7: {1} is not a say-as mark",
                   "{tel:...}, {digits:...} or {date:...}");
}

static void an_unclosed_or_stray_brace_is_refused_at_its_column(void **state)
{
    (void)state;
    expect_refused("Call {tel:911 now.", "column 6: a { with no } after it",
                   "{tel:...}, {digits:...} or {date:...}");
    expect_refused("} here", "column 1: a } with no { before it", NULL);
    expect_refused("Call {tel:911} or } now.", "column 19: a } with no { before it", NULL);
    /* The first mark is fine; the fault is in the second, and the column says so. */
    expect_refused("{tel:911} and {tel:9x}", "column 15:", "'x' cannot be part of a number");
}

static void a_mark_holds_1_to_64_characters(void **state)
{
    (void)state;
    expect_refused("{tel:}", "column 1: a say-as mark holds 1 to 64 characters", NULL);
    char in[128], spoken[256], shown[128];
    /* 64 digits: the longest mark, said as one group. */
    strcpy(in, "{digits:");
    spoken[0] = shown[0] = '\0';
    for (int i = 0; i < 64; i++) {
        strcat(in, "7");
        strcat(shown, "7");
        strcat(spoken, i ? " 7" : "7");
    }
    strcat(spoken, ".");
    strcat(in, "}");
    expect_forms("en", in, spoken, shown);
    /* 65 is too long: a mark holds a number, not a sentence. */
    in[strlen(in) - 1] = '\0';
    strcat(in, "7}");
    expect_refused(in, "column 1: a say-as mark holds 1 to 64 characters", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_sentence_s_own_stop_after_a_number_is_not_said_twice),
        cmocka_unit_test(two_numbers_side_by_side_stay_two_numbers),
        cmocka_unit_test(an_error_column_counts_characters_as_an_editor_does),
        cmocka_unit_test(a_telephone_number_is_said_digit_by_digit_with_a_pause_after_each_group),
        cmocka_unit_test(a_number_in_a_sentence_keeps_the_words_around_it),
        cmocka_unit_test(a_case_number_is_said_as_a_telephone_number_is),
        cmocka_unit_test(a_date_is_said_as_people_say_it_in_the_language),
        cmocka_unit_test(february_29_is_a_date_only_in_a_leap_year),
        cmocka_unit_test(a_date_not_written_year_month_day_is_refused_with_an_example),
        cmocka_unit_test(a_text_without_marks_is_shown_as_it_is_spoken),
        cmocka_unit_test(a_number_with_other_characters_or_no_digits_is_refused),
        cmocka_unit_test(an_unknown_kind_of_mark_is_refused_with_the_kinds_there_are),
        cmocka_unit_test(an_unclosed_or_stray_brace_is_refused_at_its_column),
        cmocka_unit_test(a_mark_holds_1_to_64_characters),
    };
    return cmocka_run_group_tests_name("say-as marks", tests, NULL, NULL);
}
