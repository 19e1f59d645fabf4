/*
 * Phrase files: every phrase the engine needs is there, uses only its own placeholders, says
 * the ones it must, and is not silently cut by iniparser. Errors name the file and the line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "phrase.h"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_shipped_phrase_files_load_with_every_phrase),
        cmocka_unit_test(a_missing_phrase_is_named_with_how_to_add_it),
        cmocka_unit_test(a_placeholder_a_phrase_cannot_have_is_an_error_on_its_line),
        cmocka_unit_test(a_phrase_that_drops_its_key_is_an_error),
        cmocka_unit_test(an_unquoted_hash_or_semicolon_would_cut_the_phrase_and_is_refused),
        cmocka_unit_test(a_missing_file_says_how_to_make_one),
    };
    return cmocka_run_group_tests_name("phrase", tests, NULL, NULL);
}
