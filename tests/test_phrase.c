/*
 * Phrase files: every phrase the engine needs is there, uses only its own placeholders, says
 * the ones it must, and is not silently cut by iniparser. Errors name the file and the line.
 * What the file holds reaches speech, the screen, braille and transcripts: it must be UTF-8 text
 * with no control characters, each phrase written once; and the file must be a file, not a
 * FIFO or a device (each such test ends itself with alarm() if the load hangs).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/diag.h"
#include "base/strbuf.h"
#include "core/phrase.h"
#include "testlib.h"

/* The shipped English file with one line replaced (or removed when with is NULL). */
static char *variant(const char *dir, const char *name, const char *with)
{
    char *src = tl_slurp("prompts/en/phrases.ini");
    static char path[600];
    snprintf(path, sizeof(path), "%s/phrases.ini", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    size_t nlen = strlen(name);
    for (char *line = strtok(src, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, name, nlen) && (line[nlen] == ' ' || line[nlen] == '=')) {
            if (with)
                fprintf(f, "%s = %s\n", name, with);
            continue;
        }
        fprintf(f, "%s\n", line);
    }
    fclose(f);
    free(src);
    return path;
}

/* Load, expect EINVAL, and return the first error (file:line: text) as one string. */
static void expect_error(const char *path, int line, const char *words)
{
    tt_diag *d = tt_diag_new();
    tt_phrases *p = NULL;
    assert_int_equal(tt_phrases_load(&p, path, d), EINVAL);
    assert_null(p);
    const struct tt_diag_msg *m = tt_diag_get(d, 0);
    assert_non_null(m);
    if (m->line != line || !strstr(m->text, words))
        fail_msg("got line %d: %s", m->line, m->text);
    tt_diag_free(d);
}

/* Write bytes to dir/phrases.ini; returns the path (a static buffer). */
static const char *write_bytes(const char *dir, const char *data, size_t len)
{
    static char path[600];
    snprintf(path, sizeof(path), "%s/phrases.ini", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

/* The number of the first line of a file that starts with these bytes, or 0. */
static int line_starting(const char *path, const char *start)
{
    char *text = tl_slurp(path);
    int line = 1, found = 0;
    for (char *s = text; s && !found; line++) {
        if (!strncmp(s, start, strlen(start)))
            found = line;
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    free(text);
    return found;
}

/* Load, expect err, and fail unless some error is on this line with both words (b may be NULL). */
static void expect_message(const char *path, int err, int line, const char *a, const char *b)
{
    tt_diag *d = tt_diag_new();
    tt_phrases *p = (tt_phrases *)1;
    alarm(5);
    int got = tt_phrases_load(&p, path, d);
    alarm(0);
    for (size_t i = 0; i < tt_diag_len(d); i++) {
        const struct tt_diag_msg *m = tt_diag_get(d, i);
        if (m->sev == TT_ERROR && m->line == line && strstr(m->text, a) &&
            (!b || strstr(m->text, b)) && got == err && !p) {
            tt_diag_free(d);
            return;
        }
    }
    tt_diag_print(d, stderr);
    fail_msg("expected error %d with an error on line %d saying '%s'%s%s; got %d", err, line, a,
             b ? " and " : "", b ? b : "", got);
}

static void the_shipped_phrase_files_load_with_every_phrase(void **state)
{
    (void)state;
    static const char *files[] = {"prompts/en/phrases.ini", "prompts/es/phrases.ini",
                                  "tests/prompts/en/phrases.ini", "tests/prompts/es/phrases.ini"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        tt_diag *d = tt_diag_new();
        tt_phrases *p = NULL;
        int err = tt_phrases_load(&p, files[i], d);
        if (err)
            tt_diag_print(d, stderr);
        assert_int_equal(err, 0);
        for (int id = 0; id < TT_PH_COUNT; id++)
            assert_true(strlen(tt_phrase_get(p, id)) > 0);
        tt_phrases_free(p);
        tt_diag_free(d);
    }
}

static void a_missing_phrase_is_named_with_how_to_add_it(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    tt_diag *d = tt_diag_new();
    tt_phrases *p = NULL;
    assert_int_equal(tt_phrases_load(&p, variant(dir, "goodbye", NULL), d), EINVAL);
    assert_non_null(strstr(tt_diag_get(d, 0)->text, "phrase 'goodbye' is missing"));
    tt_diag_free(d);
    tl_rmtree(dir);
    free(dir);
}

static void a_placeholder_a_phrase_cannot_have_is_an_error_on_its_line(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char *path = variant(dir, "goodbye", "Goodbye, {title}.");
    char *text = tl_slurp(path);
    int line = 1;
    for (char *s = text; (s = strchr(s, '\n')) && strncmp(s + 1, "goodbye", 7); s++)
        line++;
    expect_error(path, line + 1, "uses {title}, which it cannot have");
    free(text);
    tl_rmtree(dir);
    free(dir);
}

static void a_phrase_that_drops_its_key_is_an_error(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    tt_diag *d = tt_diag_new();
    tt_phrases *p = NULL;
    assert_int_equal(tt_phrases_load(&p, variant(dir, "choice", "To hear {title}, press."), d),
                     EINVAL);
    assert_non_null(strstr(tt_diag_get(d, 0)->text, "must say {key}"));
    tt_diag_free(d);
    tl_rmtree(dir);
    free(dir);
}

/* The first words of a session say how to leave: the phrase that says them must name the end
 * key, and only the end key (no node, no choice is known that early). */
static void the_way_out_said_first_must_name_the_end_key(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char *path = variant(dir, "end_hint", "To leave at any time, hang up.");
    expect_message(path, EINVAL, line_starting(path, "end_hint"),
                   "phrase 'end_hint' must say {end}", NULL);
    path = variant(dir, "end_hint", "To leave, press {end}, or {key}.");
    expect_message(path, EINVAL, line_starting(path, "end_hint"),
                   "uses {key}, which it cannot have", NULL);
    tt_diag *d = tt_diag_new();
    tt_phrases *p = NULL;
    assert_int_equal(tt_phrases_load(&p, variant(dir, "end_hint", NULL), d), EINVAL);
    assert_non_null(strstr(tt_diag_get(d, 0)->text, "phrase 'end_hint' is missing"));
    tt_diag_free(d);
    tl_rmtree(dir);
    free(dir);
}

/* A page says where it leads ("For step two, press the pound key."): next_page and prev_page
 * may name the page's title, and a file that keeps the old words without it still loads. Each
 * must still say its key. */
static void pages_may_name_where_they_lead(void **state)
{
    (void)state;
    tt_diag *d = tt_diag_new();
    tt_phrases *p = NULL;
    assert_int_equal(tt_phrases_load(&p, "prompts/en/phrases.ini", d), 0);
    struct tt_strbuf sb;
    tt_sb_init(&sb);
    struct tt_phrase_args a = {.title = "step two", .key = '#'};
    tt_phrase_say(p, TT_PH_NEXT_PAGE, &a, &sb);
    a = (struct tt_phrase_args){.title = "step one", .key = '*'};
    tt_phrase_say(p, TT_PH_PREV_PAGE, &a, &sb);
    assert_string_equal(sb.s, "For step two, press the pound key. To go back to step one, press "
                              "the star key.");
    tt_sb_free(&sb);
    tt_phrases_free(p);
    tt_diag_free(d);

    char *dir = tl_tmpdir();
    d = tt_diag_new();
    const char *old = variant(dir, "next_page", "For the next page, press {key}.");
    assert_int_equal(tt_phrases_load(&p, old, d), 0);
    tt_phrases_free(p);
    assert_int_equal(
        tt_phrases_load(&p, variant(dir, "prev_page", "To go back to {title}, press {back}."), d),
        EINVAL);
    tt_diag_free(d);
    char *path = variant(dir, "next_page", "For {title}, press pound.");
    expect_message(path, EINVAL, line_starting(path, "next_page"),
                   "phrase 'next_page' must say {key}", NULL);
    tl_rmtree(dir);
    free(dir);
}

static void an_unquoted_hash_or_semicolon_would_cut_the_phrase_and_is_refused(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char path[600];
    snprintf(path, sizeof(path), "%s/p.ini", dir);
    FILE *f = fopen(path, "w");
    fputs("; comment with ; and #\n[phrases]\ngoodbye = \"Bye; take care.\"\n"
          "warn = Still there? Press # for more time.\n",
          f);
    fclose(f);
    expect_error(path, 4, "would be cut at '#'");
    tl_rmtree(dir);
    free(dir);
}

static void a_missing_file_says_how_to_make_one(void **state)
{
    (void)state;
    tt_diag *d = tt_diag_new();
    tt_phrases *p = NULL;
    assert_int_equal(tt_phrases_load(&p, "tests/prompts/xx/phrases.ini", d), ENOENT);
    assert_non_null(strstr(tt_diag_get(d, 0)->text, "copy prompts/en/phrases.ini"));
    tt_diag_free(d);
}

static void a_phrase_file_that_is_a_fifo_a_device_or_a_folder_is_refused_at_once(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char fifo[600], zero[600], folder[600];
    snprintf(fifo, sizeof(fifo), "%s/fifo.ini", dir);
    snprintf(zero, sizeof(zero), "%s/zero.ini", dir);
    snprintf(folder, sizeof(folder), "%s/folder.ini", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(symlink("/dev/zero", zero), 0);
    assert_int_equal(mkdir(folder, 0700), 0);
    expect_message(fifo, ENODEV, 0, "is a FIFO, a socket or a device, not a regular file", NULL);
    expect_message(zero, ENODEV, 0, "is a FIFO, a socket or a device", NULL);
    expect_message("/dev/zero", ENODEV, 0, "is a FIFO, a socket or a device", NULL);
    expect_message(folder, EISDIR, 0, "is a folder", NULL);
    tl_rmtree(dir);
    free(dir);
}

static void a_phrase_file_far_too_big_is_refused_before_it_is_read(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char path[600];
    snprintf(path, sizeof(path), "%s/phrases.ini", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 1 << 30), 0); /* sparse: costs no disk */
    fclose(f);
    expect_message(path, EINVAL, 0, "is larger than the", "allowed");
    tl_rmtree(dir);
    free(dir);
}

static void a_phrase_in_latin1_is_refused_at_its_line_with_the_fix(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char *path = variant(dir, "goodbye", "Adi\xF3s.");
    expect_message(path, EINVAL, line_starting(path, "goodbye"), "not valid UTF-8",
                   "save the file as UTF-8");
    tl_rmtree(dir);
    free(dir);
}

/* The shipped English file as UTF-16 (little-endian, the Windows kind), with its byte order
 * mark or without. */
static void a_phrase_file_in_utf16_is_named_as_utf16(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char *text = tl_slurp("prompts/en/phrases.ini");
    size_t n = strlen(text);
    char *u16 = malloc(2 * n + 2);
    assert_non_null(u16);
    u16[0] = '\xFF';
    u16[1] = '\xFE';
    for (size_t i = 0; i < n; i++) {
        u16[2 + 2 * i] = text[i];
        u16[3 + 2 * i] = 0;
    }
    expect_message(write_bytes(dir, u16, 2 * n + 2), EINVAL, 1,
                   "this file is UTF-16: save it as UTF-8", NULL);
    expect_message(write_bytes(dir, u16 + 2, 2 * n), EINVAL, 1,
                   "this file is UTF-16: save it as UTF-8", NULL);
    free(u16);
    free(text);
    tl_rmtree(dir);
    free(dir);
}

static void a_utf8_byte_order_mark_is_skipped(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char *text = tl_slurp("prompts/en/phrases.ini");
    size_t n = strlen(text);
    char *bom = malloc(n + 3);
    assert_non_null(bom);
    memcpy(bom, "\xEF\xBB\xBF", 3);
    memcpy(bom + 3, text, n);
    const char *path = write_bytes(dir, bom, n + 3);
    tt_diag *d = tt_diag_new();
    tt_phrases *p = NULL;
    int err = tt_phrases_load(&p, path, d);
    if (err)
        tt_diag_print(d, stderr);
    assert_int_equal(err, 0);
    assert_string_equal(tt_phrase_get(p, TT_PH_KEY_STAR), "the star key");
    tt_phrases_free(p);
    tt_diag_free(d);
    free(bom);
    free(text);
    tl_rmtree(dir);
    free(dir);
}

static void a_phrase_written_twice_is_an_error_naming_both_lines(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char *text = tl_slurp("prompts/en/phrases.ini");
    size_t n = strlen(text), lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += text[i] == '\n';
    char *twice = malloc(n + 64);
    assert_non_null(twice);
    snprintf(twice, n + 64, "%sGoodbye = See you.\n", text);
    const char *path = write_bytes(dir, twice, strlen(twice));
    char first[32];
    snprintf(first, sizeof(first), "first on line %d", line_starting(path, "goodbye"));
    expect_message(path, EINVAL, (int)lines + 1, "'goodbye' is set twice", first);
    free(twice);
    free(text);
    tl_rmtree(dir);
    free(dir);
}

static void a_phrases_section_written_twice_is_an_error_naming_both_lines(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    static const char twice[] = "[phrases]\n"           /* 1 */
                                "goodbye = Bye.\n"      /* 2 */
                                "\n"                    /* 3 */
                                "[Phrases]\n"           /* 4 */
                                "warn = Still there?\n"; /* 5 */
    expect_message(write_bytes(dir, twice, sizeof(twice) - 1), EINVAL, 4,
                   "already started on line 1", "join them into one");
    tl_rmtree(dir);
    free(dir);
}

static void control_characters_in_a_phrase_are_refused_at_their_line_and_column(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    /* "goodbye = " is 10 characters: the ESC is the 15th. */
    char *path = variant(dir, "goodbye", "Good\x1B[2Jbye.");
    expect_message(path, EINVAL, line_starting(path, "goodbye"), "escape character (ESC)",
                   "column 15");
    path = variant(dir, "goodbye", "Bye.\x07");
    expect_message(path, EINVAL, line_starting(path, "goodbye"), "U+0007", "delete it");
    path = variant(dir, "goodbye", "Bye.\x7F");
    expect_message(path, EINVAL, line_starting(path, "goodbye"), "U+007F", NULL);
    path = variant(dir, "goodbye", "Bye.\xC2\x9B" "2J");
    expect_message(path, EINVAL, line_starting(path, "goodbye"), "C1 control character U+009B",
                   NULL);
    path = variant(dir, "goodbye", "Bye.\rHello");
    expect_message(path, EINVAL, line_starting(path, "goodbye"), "carriage return", NULL);
    tl_rmtree(dir);
    free(dir);
}

static void direction_controls_in_a_phrase_are_refused(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char *path = variant(dir, "invalid", "{key} is not a \xE2\x80\xAE" "choice here.");
    expect_message(path, EINVAL, line_starting(path, "invalid"),
                   "U+202E RIGHT-TO-LEFT OVERRIDE", "another order than they are spoken");
    path = variant(dir, "invalid", "\xE2\x81\xA6{key} is not a choice here.\xE2\x81\xA9");
    expect_message(path, EINVAL, line_starting(path, "invalid"), "U+2066 LEFT-TO-RIGHT ISOLATE",
                   NULL);
    tl_rmtree(dir);
    free(dir);
}

static void a_phrase_outside_its_section_or_with_an_unknown_name_is_an_error(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char *path = variant(dir, "goodbye", "Bye.\ngoodbey = Bye.");
    expect_message(path, EINVAL, line_starting(path, "goodbey"), "'goodbey' is not a phrase",
                   "did you mean 'goodbye'?");
    static const char before[] = "goodbye = Bye.\n[phrases]\n";
    expect_message(write_bytes(dir, before, sizeof(before) - 1), EINVAL, 1,
                   "comes before [phrases]", NULL);
    static const char other[] = "[phrase]\ngoodbye = Bye.\n";
    expect_message(write_bytes(dir, other, sizeof(other) - 1), EINVAL, 1,
                   "[phrase] is not a section of a phrase file", "[phrases]");
    tl_rmtree(dir);
    free(dir);
}

static void an_empty_phrase_or_words_after_a_closing_quote_are_errors_at_their_line(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char *path = variant(dir, "goodbye", "");
    expect_message(path, EINVAL, line_starting(path, "goodbye"), "phrase 'goodbye' is empty",
                   NULL);
    path = variant(dir, "goodbye", "\"Bye.\" Take care.");
    expect_message(path, EINVAL, line_starting(path, "goodbye"),
                   "words after the closing quote", NULL);
    path = variant(dir, "goodbye", "\"Bye. Take care.");
    expect_message(path, EINVAL, line_starting(path, "goodbye"), "never closed", NULL);
    tl_rmtree(dir);
    free(dir);
}

static void a_line_the_reader_cannot_read_is_named_and_nothing_else_is_guessed(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    static const char bad[] = "[phrases]\ngoodbye = Bye.\nwarn Still there?\n";
    expect_message(write_bytes(dir, bad, sizeof(bad) - 1), EINVAL, 3,
                   "not a [section], a name = value or a comment", "'warn Still there?'");
    tl_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_shipped_phrase_files_load_with_every_phrase),
        cmocka_unit_test(a_missing_phrase_is_named_with_how_to_add_it),
        cmocka_unit_test(a_placeholder_a_phrase_cannot_have_is_an_error_on_its_line),
        cmocka_unit_test(a_phrase_that_drops_its_key_is_an_error),
        cmocka_unit_test(the_way_out_said_first_must_name_the_end_key),
        cmocka_unit_test(pages_may_name_where_they_lead),
        cmocka_unit_test(an_unquoted_hash_or_semicolon_would_cut_the_phrase_and_is_refused),
        cmocka_unit_test(a_missing_file_says_how_to_make_one),
        cmocka_unit_test(a_phrase_file_that_is_a_fifo_a_device_or_a_folder_is_refused_at_once),
        cmocka_unit_test(a_phrase_file_far_too_big_is_refused_before_it_is_read),
        cmocka_unit_test(a_phrase_in_latin1_is_refused_at_its_line_with_the_fix),
        cmocka_unit_test(a_phrase_file_in_utf16_is_named_as_utf16),
        cmocka_unit_test(a_utf8_byte_order_mark_is_skipped),
        cmocka_unit_test(a_phrase_written_twice_is_an_error_naming_both_lines),
        cmocka_unit_test(a_phrases_section_written_twice_is_an_error_naming_both_lines),
        cmocka_unit_test(control_characters_in_a_phrase_are_refused_at_their_line_and_column),
        cmocka_unit_test(direction_controls_in_a_phrase_are_refused),
        cmocka_unit_test(a_phrase_outside_its_section_or_with_an_unknown_name_is_an_error),
        cmocka_unit_test(an_empty_phrase_or_words_after_a_closing_quote_are_errors_at_their_line),
        cmocka_unit_test(a_line_the_reader_cannot_read_is_named_and_nothing_else_is_guessed),
    };
    return cmocka_run_group_tests_name("phrase", tests, NULL, NULL);
}
