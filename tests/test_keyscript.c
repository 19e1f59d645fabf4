/* Key scripts: the three step forms, and every malformed token refused with its number. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/diag.h"
#include "input/keyscript.h"

static void the_three_forms_parse_with_times_in_milliseconds(void **state)
{
    (void)state;
    struct tt_step *st;
    size_t n;
    assert_int_equal(tt_keyscript_parse("  1 #@2.5\t+10  *@0 9,0 ", &st, &n, NULL), 0);
    assert_int_equal(n, 6);
    assert_int_equal(st[0].kind, TT_STEP_KEY);
    assert_int_equal(st[0].key, '1');
    assert_int_equal(st[1].kind, TT_STEP_KEY_AT);
    assert_int_equal(st[1].key, '#');
    assert_int_equal(st[1].ms, 2500);
    assert_int_equal(st[2].kind, TT_STEP_PASS);
    assert_int_equal(st[2].ms, 10000);
    assert_int_equal(st[3].kind, TT_STEP_KEY_AT);
    assert_int_equal(st[3].ms, 0);
    assert_int_equal(st[4].key, '9');
    assert_int_equal(st[5].key, '0');
    free(st);
}

static void named_keys_parse_alone_and_with_a_time(void **state)
{
    (void)state;
    struct tt_step *st;
    size_t n;
    assert_int_equal(tt_keyscript_parse("down select@0.5 louder", &st, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_int_equal(st[0].kind, TT_STEP_KEY);
    assert_int_equal(st[0].key, TT_KEY_DOWN);
    assert_int_equal(st[1].kind, TT_STEP_KEY_AT);
    assert_int_equal(st[1].key, TT_KEY_SELECT);
    assert_int_equal(st[1].ms, 500);
    assert_int_equal(st[2].key, TT_KEY_LOUDER);
    free(st);
}

static void an_empty_script_is_no_steps(void **state)
{
    (void)state;
    struct tt_step *st;
    size_t n = 99;
    assert_int_equal(tt_keyscript_parse("", &st, &n, NULL), 0);
    assert_int_equal(n, 0);
    free(st);
}

static void malformed_tokens_are_refused_and_named(void **state)
{
    (void)state;
    static const char *bad[] = {"a", "12", "1@", "+", "1@x", "1@1.2.3", "+.5", "+-1",
                                "+100000", "1@ 2", "@1", "A@1", "+1e3", "1@1.0000000000000000001",
                                "Down", "downn", "select@", "louder@x", "1@2@3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tt_diag *d = tt_diag_new();
        struct tt_step *st = (void *)1;
        size_t n = 1;
        assert_int_equal(tt_keyscript_parse(bad[i], &st, &n, d), EINVAL);
        assert_null(st);
        assert_int_equal(n, 0);
        assert_int_equal(tt_diag_count(d, TT_ERROR), 1);
        assert_non_null(strstr(tt_diag_get(d, 0)->text, "token 1"));
        tt_diag_free(d);
    }
    tt_diag *d = tt_diag_new();
    struct tt_step *st;
    size_t n;
    assert_int_equal(tt_keyscript_parse("1 2 3 4x", &st, &n, d), EINVAL);
    assert_non_null(strstr(tt_diag_get(d, 0)->text, "token 4 '4x'"));
    tt_diag_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_three_forms_parse_with_times_in_milliseconds),
        cmocka_unit_test(named_keys_parse_alone_and_with_a_time),
        cmocka_unit_test(an_empty_script_is_no_steps),
        cmocka_unit_test(malformed_tokens_are_refused_and_named),
    };
    return cmocka_run_group_tests_name("keyscript", tests, NULL, NULL);
}
