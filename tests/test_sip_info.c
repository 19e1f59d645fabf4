/*
 * Keys in SIP INFO bodies: application/dtmf-relay and application/dtmf as phones write them
 * (names in any case, spaces around '=', LF or CRLF or no line end at all, keys as characters
 * or as RFC 4733 event codes), content types with parameters and odd spacing, and what is
 * refused, with the code the caller answers from (EINVAL: 400, ENOTSUP: 415).
 *
 * Bodies are passed with their length only, from buffers with no NUL after them, as SIP
 * hands them over.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/info.h"

#define RELAY "application/dtmf-relay"
#define DTMF "application/dtmf"

/* Parse a body copied into a heap buffer of exactly its length (no NUL after it: ASan sees a
 * read past the end). */
static int parse(const char *ctype, const char *body, struct tt_info_key *k)
{
    size_t n = strlen(body);
    char *b = malloc(n ? n : 1);
    assert_non_null(b);
    memcpy(b, body, n);
    int err = tt_info_parse(ctype, ctype ? strlen(ctype) : 0, b, n, k);
    free(b);
    return err;
}

static char key_of(const char *ctype, const char *body)
{
    struct tt_info_key k;
    int err = parse(ctype, body, &k);
    if (err)
        fail_msg("%s \"%s\": error %d", ctype, body, err);
    return k.key;
}

static void a_dtmf_relay_body_gives_its_key_and_duration(void **state)
{
    (void)state;
    struct tt_info_key k;
    assert_int_equal(parse(RELAY, "Signal=5\r\nDuration=160\r\n", &k), 0);
    assert_int_equal(k.key, '5');
    assert_int_equal(k.duration_ms, 160);
    assert_false(k.flash);
    /* Duration is optional */
    assert_int_equal(parse(RELAY, "Signal=#\r\n", &k), 0);
    assert_int_equal(k.key, '#');
    assert_int_equal(k.duration_ms, 0);
}

static void names_in_any_case_spaces_around_the_equals_and_any_line_end_are_read(void **state)
{
    (void)state;
    assert_int_equal(key_of(RELAY, "signal=1\nduration=100\n"), '1');
    assert_int_equal(key_of(RELAY, "SIGNAL = 2\r\nDURATION = 100\r\n"), '2');
    assert_int_equal(key_of(RELAY, "Signal= 3\r\nDuration= 250"), '3'); /* no final CRLF */
    assert_int_equal(key_of(RELAY, "Signal =4"), '4');
    assert_int_equal(key_of(RELAY, "\tSignal\t=\t5\t\r\n"), '5');
    assert_int_equal(key_of(RELAY, "Signal=6\rDuration=100\r"), '6'); /* CR alone */
    assert_int_equal(key_of(RELAY, "Duration=100\r\nSignal=7\r\n"), '7'); /* either order */
    assert_int_equal(key_of(RELAY, "\r\n\r\nSignal=8\r\n\r\n"), '8');      /* blank lines */
    struct tt_info_key k;
    assert_int_equal(parse(RELAY, "Signal=9\r\nDuration = 2000 \r\n", &k), 0);
    assert_int_equal(k.duration_ms, 2000);
}

static void every_key_is_read_as_a_character_or_as_its_event_code(void **state)
{
    (void)state;
    const char *chars = "0123456789*#ABCD";
    char body[64];
    for (int i = 0; i < 16; i++) {
        snprintf(body, sizeof(body), "Signal=%c\r\n", chars[i]);
        assert_int_equal(key_of(RELAY, body), chars[i]);
        snprintf(body, sizeof(body), "%c", chars[i]);
        assert_int_equal(key_of(DTMF, body), chars[i]);
        /* RFC 4733 codes: 10 and 11 for * and #, as some phones send */
        snprintf(body, sizeof(body), "Signal=%d\r\nDuration=160\r\n", i);
        assert_int_equal(key_of(RELAY, body), chars[i]);
        snprintf(body, sizeof(body), "%d\r\n", i);
        assert_int_equal(key_of(DTMF, body), chars[i]);
    }
    assert_int_equal(key_of(RELAY, "Signal=a"), 'A');
    assert_int_equal(key_of(RELAY, "Signal=d"), 'D');
    assert_int_equal(key_of(RELAY, "Signal=05"), '5');
    assert_int_equal(key_of(DTMF, "011"), '#');
}

static void an_application_dtmf_body_is_the_key_with_any_white_space_around_it(void **state)
{
    (void)state;
    assert_int_equal(key_of(DTMF, "5"), '5');
    assert_int_equal(key_of(DTMF, "5\r\n"), '5');
    assert_int_equal(key_of(DTMF, " *\n"), '*');
    assert_int_equal(key_of(DTMF, "\r\n#\r\n"), '#');
}

static void a_hook_flash_is_understood_but_is_no_key(void **state)
{
    (void)state;
    const char *flashes[][2] = {
        {RELAY, "Signal=!\r\nDuration=500\r\n"},
        {RELAY, "Signal=16\r\n"},
        {DTMF, "!"},
        {DTMF, "16"},
    };
    for (size_t i = 0; i < sizeof(flashes) / sizeof(flashes[0]); i++) {
        struct tt_info_key k;
        assert_int_equal(parse(flashes[i][0], flashes[i][1], &k), 0);
        assert_true(k.flash);
        assert_int_equal(k.key, 0);
    }
}

static void content_types_compare_without_case_with_parameters_and_spaces(void **state)
{
    (void)state;
    assert_int_equal(key_of("Application/DTMF-Relay", "Signal=1"), '1');
    assert_int_equal(key_of("application/dtmf-relay; charset=utf-8", "Signal=2"), '2');
    assert_int_equal(key_of("application/dtmf-relay;charset=x", "Signal=3"), '3');
    assert_int_equal(key_of("application / dtmf-relay ; a=b", "Signal=4"), '4');
    assert_int_equal(key_of(" APPLICATION/DTMF ", "5"), '5');
    assert_int_equal(key_of("application/dtmf;x=\"y\"", "6"), '6');
}

static void other_content_types_are_not_supported(void **state)
{
    (void)state;
    struct tt_info_key k;
    const char *types[] = {
        "application/sdp", "text/plain", "application/dtmf-relayx", "application/dtmfx",
        "application/", "/dtmf", "application", "dtmf-relay", "application/dtmf relay",
        "applicationx/dtmf", "audio/telephone-event", "application/dtmf-",
        "application/dtm", "",
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (parse(types[i], "Signal=5\r\n", &k) != ENOTSUP)
            fail_msg("content type \"%s\" was taken", types[i]);
    assert_int_equal(parse(NULL, "5", &k), ENOTSUP);
    /* the type is read only as far as its length says */
    assert_int_equal(tt_info_parse(RELAY, 16, "5", 1, &k), 0); /* "application/dtmf" */
    assert_int_equal(k.key, '5');
}

static void an_empty_body_is_no_key_and_no_error(void **state)
{
    (void)state;
    struct tt_info_key k;
    /* an INFO with no body checks that the dialog is alive: it is answered 200 */
    assert_int_equal(tt_info_parse(RELAY, strlen(RELAY), NULL, 0, &k), 0);
    assert_int_equal(k.key, 0);
    assert_false(k.flash);
    assert_int_equal(tt_info_parse(NULL, 0, NULL, 0, &k), 0);
    assert_int_equal(parse("application/sdp", "", &k), 0);
}

static void malformed_bodies_are_refused(void **state)
{
    (void)state;
    const char *relay[] = {
        "5",                              /* no Signal line */
        "Duration=160\r\n",               /* no Signal */
        "Signal=\r\n",                    /* no value */
        "Signal=55\r\n",                  /* two digits that are no event code */
        "Signal=17\r\n",                  /* past the DTMF codes and flash */
        "Signal=-1\r\n",
        "Signal=E\r\n",
        "Signal=5x\r\n",
        "Signal=5 5\r\n",
        "Signal=star\r\n",
        "Signal=99999999999999999999\r\n",
        "Signal=1\r\nSignal=2\r\n", /* which? */
        "Signal=1\r\nSignal=1\r\n",
        "Signal 5\r\n",
        "Signals=5\r\n",
        "Sig nal=5\r\n",
        "Signal=5\r\nSignal=x\r\n",
        "\r\n",
    };
    struct tt_info_key k;
    for (size_t i = 0; i < sizeof(relay) / sizeof(relay[0]); i++) {
        if (parse(RELAY, relay[i], &k) != EINVAL)
            fail_msg("dtmf-relay body \"%s\" was taken", relay[i]);
        assert_int_equal(k.key, 0); /* nothing half-read is left */
    }
    const char *dtmf[] = {"", " ", "\r\n", "55", "17", "x", "5 5", "Signal=5", "5\r\n6", "-5"};
    for (size_t i = 0; i < sizeof(dtmf) / sizeof(dtmf[0]); i++) {
        int err = parse(DTMF, dtmf[i], &k);
        if (err != (dtmf[i][0] ? EINVAL : 0))
            fail_msg("dtmf body \"%s\" gave %d", dtmf[i], err);
    }
}

static void a_nul_in_a_body_is_a_byte_like_any_other(void **state)
{
    (void)state;
    struct tt_info_key k;
    const char a[] = "Signal=5\0\r\n";
    assert_int_equal(tt_info_parse(RELAY, strlen(RELAY), a, sizeof(a) - 1, &k), EINVAL);
    const char b[] = "Signal=5\r\n\0garbage\r\n";
    assert_int_equal(tt_info_parse(RELAY, strlen(RELAY), b, sizeof(b) - 1, &k), 0);
    assert_int_equal(k.key, '5');
    const char c[] = "\0";
    assert_int_equal(tt_info_parse(DTMF, strlen(DTMF), c, 1, &k), EINVAL);
}

static void a_duration_that_is_not_a_number_is_unknown_and_a_huge_one_saturates(void **state)
{
    (void)state;
    struct tt_info_key k;
    assert_int_equal(parse(RELAY, "Signal=5\r\nDuration=abc\r\n", &k), 0);
    assert_int_equal(k.key, '5');
    assert_int_equal(k.duration_ms, 0);
    assert_int_equal(parse(RELAY, "Signal=5\r\nDuration=160ms\r\n", &k), 0);
    assert_int_equal(k.duration_ms, 0);
    assert_int_equal(parse(RELAY, "Signal=5\r\nDuration=99999999999999999999\r\n", &k), 0);
    assert_int_equal(k.duration_ms, UINT32_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_dtmf_relay_body_gives_its_key_and_duration),
        cmocka_unit_test(names_in_any_case_spaces_around_the_equals_and_any_line_end_are_read),
        cmocka_unit_test(every_key_is_read_as_a_character_or_as_its_event_code),
        cmocka_unit_test(an_application_dtmf_body_is_the_key_with_any_white_space_around_it),
        cmocka_unit_test(a_hook_flash_is_understood_but_is_no_key),
        cmocka_unit_test(content_types_compare_without_case_with_parameters_and_spaces),
        cmocka_unit_test(other_content_types_are_not_supported),
        cmocka_unit_test(an_empty_body_is_no_key_and_no_error),
        cmocka_unit_test(malformed_bodies_are_refused),
        cmocka_unit_test(a_nul_in_a_body_is_a_byte_like_any_other),
        cmocka_unit_test(a_duration_that_is_not_a_number_is_unknown_and_a_huge_one_saturates),
    };
    return cmocka_run_group_tests_name("sip_info", tests, NULL, NULL);
}
