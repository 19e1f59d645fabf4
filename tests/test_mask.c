/*
 * Masking an entry wherever it turns up in text: written whole, with separators, in groups,
 * in parts, at the ends of a line; and what must survive (other numbers, the text around).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/mask.h"

static void check(const char *entry, size_t min_run, const char *in, const char *want)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", in);
    tt_mask_digits(buf, entry, min_run);
    if (strcmp(buf, want))
        fail_msg("mask(\"%s\", %s, %zu)\n  gave \"%s\"\n  want \"%s\"", in, entry, min_run, buf,
                 want);
}

static void the_whole_entry_is_masked_however_it_is_written(void **state)
{
    (void)state;
    const char *e = "20310001";
    check(e, 8, "Case 20310001: Monday.", "Case ********: Monday.");
    check(e, 8, "Case 2031-0001: Monday.", "Case ****-****: Monday.");
    check(e, 8, "Case 2 0 3 1 0 0 0 1 is set.", "Case * * * * * * * * is set.");
    check(e, 8, "Case 2 0 3 1, 0 0 0 1 is set.", "Case * * * *, * * * * is set.");
    check(e, 8, "(2031) 0001", "(****) ****");
    check(e, 8, "2031.0001", "****.****");
    check(e, 8, "2031/0001", "****/****");
    check(e, 8, "20310001", "********");                  /* the whole line */
    check(e, 8, "x20310001", "x********");
    check(e, 8, "number 2031_0001.", "number ****_****.");
}

static void other_numbers_and_words_survive(void **state)
{
    (void)state;
    const char *e = "20310001";
    /* the year of the hearing shares four digits with the case number: only the whole entry
     * is masked in an answer */
    check(e, 8, "Monday, March 3, 2031, at 9:30, in courtroom 4.",
          "Monday, March 3, 2031, at 9:30, in courtroom 4.");
    check(e, 8, "Case 20310002 is not yours.", "Case 20310002 is not yours.");
    check(e, 8, "hearings.csv:12: bad date", "hearings.csv:12: bad date");
    check(e, 8, "", "");
    check("", 4, "2031 0001", "2031 0001");
    check(NULL, 4, "2031 0001", "2031 0001");
}

static void with_a_shorter_run_parts_of_the_entry_go_too(void **state)
{
    (void)state;
    const char *e = "20310001";
    check(e, 4, "looked up 2031 then 0001", "looked up **** then ****");
    check(e, 4, "case 31000 missing", "case ***** missing"); /* the middle of the entry */
    check(e, 4, "line 12: 0001 not found", "line 12: **** not found");
    check(e, 4, "code 203", "code 203");                      /* three digits: kept */
    check(e, 4, "20319999", "****9999");                      /* only what the entry holds */
    check(e, 4, "2 0 3 1 - 0 0 0 1", "* * * * - * * * *");
}

static void any_separators_join_digits_and_a_letter_ends_a_number(void **state)
{
    (void)state;
    const char *e = "20310001";
    check(e, 8, "2031    0001", "****    ****");
    check(e, 8, "2031 -- 0001", "**** -- ****");
    check(e, 8, "2031\xc2\xa0" "0001", "****\xc2\xa0" "****"); /* a no-break space */
    /* letters between digits break a number */
    check(e, 8, "2031a0001", "2031a0001");
    check(e, 8, "2031 and 0001", "2031 and 0001");
}

static void a_short_entry_is_masked_only_where_it_is_a_whole_number(void **state)
{
    (void)state;
    check("007", 4, "pin 0 0 7, line 1007", "pin * * *, line 1007");
    check("007", 4, "007", "***");
}

static void a_very_long_number_is_masked_all_along(void **state)
{
    (void)state;
    char buf[700];
    size_t n = 0;
    for (int i = 0; i < 80; i++) { /* "20310001" eighty times: 640 digits in a row */
        memcpy(buf + n, "20310001", 8);
        n += 8;
    }
    buf[n] = '\0';
    assert_int_equal(tt_mask_digits(buf, "20310001", 4), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(buf[i], '*');
}

/* Random spellings of the entry, with random separators, inside random words: the entry never
 * survives in any of them. */
static void random_spellings_never_leave_the_entry(void **state)
{
    (void)state;
    static const char seps[] = " -./,_:()";
    uint64_t x = 88172645463325252u;
    for (int round = 0; round < 20000; round++) {
        char entry[17], text[256];
        size_t elen = 4 + (size_t)(x % 13);
        for (size_t i = 0; i < elen; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            entry[i] = (char)('0' + x % 10);
        }
        entry[elen] = '\0';
        size_t n = 0;
        n += (size_t)snprintf(text + n, sizeof(text) - n, "said: ");
        for (size_t i = 0; i < elen; i++) {
            text[n++] = entry[i];
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t gap = i + 1 < elen ? x % 4 : 0; /* 0 to 3 separators */
            for (size_t g = 0; g < gap; g++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                text[n++] = seps[x % (sizeof(seps) - 1)];
            }
        }
        n += (size_t)snprintf(text + n, sizeof(text) - n, " ok");
        tt_mask_digits(text, entry, elen);
        for (size_t i = 0; i < n; i++)
            if (text[i] >= '0' && text[i] <= '9')
                fail_msg("round %d: entry %s left a digit in \"%s\"", round, entry, text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_whole_entry_is_masked_however_it_is_written),
        cmocka_unit_test(other_numbers_and_words_survive),
        cmocka_unit_test(with_a_shorter_run_parts_of_the_entry_go_too),
        cmocka_unit_test(any_separators_join_digits_and_a_letter_ends_a_number),
        cmocka_unit_test(a_short_entry_is_masked_only_where_it_is_a_whole_number),
        cmocka_unit_test(a_very_long_number_is_masked_all_along),
        cmocka_unit_test(random_spellings_never_leave_the_entry),
    };
    return cmocka_run_group_tests_name("mask", tests, NULL, NULL);
}
