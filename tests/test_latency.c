/*
 * The kiosk's latency policy after underruns (latency.c), without a device: underruns seen,
 * playing or quiet, in; the latency to reopen the output with (or nothing yet) out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "device/latency.h"

static void each_underrun_doubles_the_latency_up_to_the_cap(void **state)
{
    (void)state;
    assert_int_equal(tt_latency_next_ms(10, 0), 10);
    assert_int_equal(tt_latency_next_ms(10, 1), 20);
    assert_int_equal(tt_latency_next_ms(20, 1), 40);
    assert_int_equal(tt_latency_next_ms(10, 3), 80); /* a prompt that broke up three times */
    assert_int_equal(tt_latency_next_ms(45, 1), 90);
    assert_int_equal(tt_latency_next_ms(90, 1), 180);
    assert_int_equal(tt_latency_next_ms(180, 1), TT_LATENCY_MAX_MS);
    assert_int_equal(tt_latency_next_ms(10, 1000000), TT_LATENCY_MAX_MS); /* and quickly */
    assert_int_equal(tt_latency_next_ms(TT_LATENCY_MAX_MS, 1), TT_LATENCY_MAX_MS);
    assert_int_equal(tt_latency_next_ms(500, 1), TT_LATENCY_MAX_MS); /* a device that gave more */
    /* a device reporting (almost) no latency still moves */
    assert_int_equal(tt_latency_next_ms(0, 1), 10);
    assert_int_equal(tt_latency_next_ms(3, 1), 13);
}

static void no_underruns_no_change_whatever_else_happens(void **state)
{
    (void)state;
    struct tt_latency l;
    tt_latency_init(&l, 10);
    assert_int_equal(tt_latency_step(&l, 0, true, 0), 0);
    assert_int_equal(tt_latency_step(&l, 0, false, 60000), 0);
    assert_int_equal(l.ms, 10);
}

static void one_underrun_in_a_prompt_waits_until_the_device_has_drained(void **state)
{
    (void)state;
    struct tt_latency l;
    tt_latency_init(&l, 10);
    /* while the prompt plays: reopening would drop what the device holds, so not yet */
    assert_int_equal(tt_latency_step(&l, 1, true, 0), 0);
    assert_int_equal(tt_latency_step(&l, 2, true, 0), 0);
    /* it ended, but the device may still be playing its last 10 ms (and a margin) */
    assert_int_equal(tt_latency_step(&l, 2, false, 10 + TT_LATENCY_QUIET_MARGIN_MS - 1), 0);
    /* now nothing anyone would hear is dropped: two underruns, two doublings */
    assert_int_equal(tt_latency_step(&l, 2, false, 10 + TT_LATENCY_QUIET_MARGIN_MS), 40);
    tt_latency_opened(&l, 40, 45, 2);
    assert_int_equal(l.ms, 45);
    /* answered: the same count asks for nothing more */
    assert_int_equal(tt_latency_step(&l, 2, false, 60000), 0);
    /* one more, one doubling from what the device gave */
    assert_int_equal(tt_latency_step(&l, 3, false, 60000), 90);
}

static void a_prompt_that_keeps_breaking_up_grows_at_once(void **state)
{
    (void)state;
    struct tt_latency l;
    tt_latency_init(&l, 10);
    assert_int_equal(tt_latency_step(&l, TT_LATENCY_BURST - 1, true, 0), 0);
    /* three underruns: three doublings, in one reopen */
    assert_int_equal(tt_latency_step(&l, TT_LATENCY_BURST, true, 0), 80);
    tt_latency_opened(&l, 80, 80, TT_LATENCY_BURST);
    /* the next burst is counted from there, not from the start */
    assert_int_equal(tt_latency_step(&l, 2 * TT_LATENCY_BURST - 1, true, 0), 0);
    assert_int_equal(tt_latency_step(&l, 2 * TT_LATENCY_BURST, true, 0), TT_LATENCY_MAX_MS);
}

static void at_the_cap_underruns_are_only_counted(void **state)
{
    (void)state;
    struct tt_latency l;
    tt_latency_init(&l, 10);
    uint64_t n = 0;
    int steps = 0, ms;
    /* a machine that never keeps up, one underrun at a time: 10, 20, 40, 80, 160, 200, and no
     * further */
    while ((ms = tt_latency_step(&l, ++n, false, 60000)) != 0) {
        tt_latency_opened(&l, ms, ms, n);
        steps++;
        assert_true(steps <= 10);
    }
    assert_int_equal(steps, 5);
    assert_int_equal(l.ms, TT_LATENCY_MAX_MS);
    assert_int_equal(tt_latency_step(&l, n + 100, false, 60000), 0);
    assert_int_equal(l.seen, n + 100);
}

static void a_device_that_gives_less_than_asked_is_not_asked_the_same_forever(void **state)
{
    (void)state;
    struct tt_latency l;
    tt_latency_init(&l, 10);
    assert_int_equal(tt_latency_step(&l, 1, false, 1000), 20);
    tt_latency_opened(&l, 20, 10, 1); /* the device stayed at 10 ms */
    assert_int_equal(tt_latency_step(&l, 2, false, 1000), 40);
    tt_latency_opened(&l, 40, 0, 2); /* reopening failed */
    assert_int_equal(tt_latency_step(&l, 3, false, 1000), 80);
    /* and one that gives more than asked is taken at its word */
    tt_latency_opened(&l, 80, 120, 3);
    assert_int_equal(l.ms, 120);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_underrun_doubles_the_latency_up_to_the_cap),
        cmocka_unit_test(no_underruns_no_change_whatever_else_happens),
        cmocka_unit_test(one_underrun_in_a_prompt_waits_until_the_device_has_drained),
        cmocka_unit_test(a_prompt_that_keeps_breaking_up_grows_at_once),
        cmocka_unit_test(at_the_cap_underruns_are_only_counted),
        cmocka_unit_test(a_device_that_gives_less_than_asked_is_not_asked_the_same_forever),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
