/*
 * iniscan (base/iniscan.h): the walk over an INI file's logical lines that the menu, phrase and
 * keymap loaders share, and the reading of a value. The loaders' own tests check their messages;
 * these check what the walk hands them: which kind each line is, the line it starts on, where
 * in the bytes, and the name and value as iniparser 4.1 will see them.
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

#include "base/iniscan.h"

#define MAX_SEEN 16

/* What the walk said of one line, copied (its pointers last only for the call). */
struct seen {
    enum tt_ini_kind kind;
    int line, last;
    size_t offset, n;
    char text[64], name[64], value[64];
};

struct walk {
    struct seen l[MAX_SEEN];
    int n;
    int stop_after; /* return ENOMEM from this call on (1-based); 0: never */
};

static void copy(char *to, const char *p, size_t n)
{
    if (!p)
        n = 0;
    if (n > 63)
        n = 63;
    memcpy(to, p ? p : "", n);
    to[n] = '\0';
}

static int record(void *arg, const struct tt_ini_line *l)
{
    struct walk *w = arg;
    assert_true(w->n < MAX_SEEN);
    struct seen *s = &w->l[w->n++];
    *s = (struct seen){.kind = l->kind, .line = l->line, .last = l->last, .offset = l->offset,
                       .n = l->n};
    copy(s->text, l->s, l->n);
    copy(s->name, l->name, l->name_len);
    copy(s->value, l->value, l->value_len);
    return w->stop_after && w->n >= w->stop_after ? ENOMEM : 0;
}

static struct walk *walk(const char *text, int stop_after)
{
    static struct walk w;
    w = (struct walk){.stop_after = stop_after};
    int err = tt_ini_lines(text, strlen(text), record, &w);
    assert_int_equal(err, stop_after ? ENOMEM : 0);
    return &w;
}

static void each_kind_of_line_is_named_with_its_line_and_place(void **state)
{
    (void)state;
    const char *text = "; note\n\n  [Main]  \nTitle = Hello  \n# = steps\n[main ; x\n= v\n"
                       "just words\n";
    struct walk *w = walk(text, 0);
    assert_int_equal(w->n, 7); /* the blank line is not handed over */
    assert_int_equal(w->l[0].kind, TT_INI_COMMENT);
    assert_int_equal(w->l[1].kind, TT_INI_SECTION);
    assert_int_equal(w->l[1].line, 3);
    assert_int_equal(w->l[1].offset, strstr(text, "  [Main]") - text);
    assert_string_equal(w->l[1].text, "[Main]");
    assert_string_equal(w->l[1].name, "Main"); /* as written: lowercasing is the reader's */
    assert_int_equal(w->l[2].kind, TT_INI_KEY);
    assert_string_equal(w->l[2].name, "Title");
    assert_string_equal(w->l[2].value, "Hello");
    assert_int_equal(w->l[3].kind, TT_INI_COMMENT);
    assert_string_equal(w->l[3].text, "# = steps"); /* whole: the menu looks for a lost choice */
    assert_int_equal(w->l[4].kind, TT_INI_UNCLOSED);
    assert_int_equal(w->l[5].kind, TT_INI_NO_NAME);
    assert_int_equal(w->l[6].kind, TT_INI_NOT_INI);
    assert_int_equal(w->l[6].line, 8);
}

static void a_section_name_is_all_between_the_brackets_trimmed(void **state)
{
    (void)state;
    struct walk *w = walk("[ a]b ]\n[]\n[  ]\n", 0);
    assert_int_equal(w->n, 3);
    assert_string_equal(w->l[0].name, "a]b"); /* iniparser would say "a": the reader judges */
    assert_string_equal(w->l[1].name, "");
    assert_string_equal(w->l[2].name, "");
}

static void lines_joined_by_a_backslash_are_one_line_named_by_its_first(void **state)
{
    (void)state;
    const char *text = "[s]\ntext = one \\\n  two\\\nthree\nnext = x\n";
    struct walk *w = walk(text, 0);
    assert_int_equal(w->n, 3);
    assert_int_equal(w->l[1].line, 2);
    assert_int_equal(w->l[1].offset, 4);
    assert_string_equal(w->l[1].value, "one   twothree"); /* as iniparser joins them */
    assert_int_equal(w->l[2].line, 5);
}

static void a_line_too_long_across_joins_says_where_it_began_and_went_over(void **state)
{
    (void)state;
    char text[3 * TT_INI_LINE_MAX];
    int n = snprintf(text, sizeof(text), "[s]\na = %0600d\\\n%0600d\nb = c\n", 1, 2);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    struct walk *w = walk(text, 0);
    assert_int_equal(w->n, 3);
    assert_int_equal(w->l[1].kind, TT_INI_TOO_LONG);
    assert_int_equal(w->l[1].line, 2);
    assert_int_equal(w->l[1].last, 3);
    assert_int_equal(w->l[1].n, 4 + 600 + 600); /* "a = " and both parts, the \ dropped */
    assert_int_equal(w->l[2].kind, TT_INI_KEY); /* and the walk goes on after it */
}

static void a_last_line_ending_in_a_backslash_is_dangling(void **state)
{
    (void)state;
    struct walk *w = walk("[s]\na = b \\", 0);
    assert_int_equal(w->n, 2);
    assert_int_equal(w->l[1].kind, TT_INI_DANGLING);
    assert_int_equal(w->l[1].line, 2);
}

static void an_error_from_the_reader_ends_the_walk(void **state)
{
    (void)state;
    struct walk *w = walk("[a]\n[b]\n[c]\nd = \\", 2);
    assert_int_equal(w->n, 2); /* no [c], and no dangling line either */
}

static void a_value_is_read_as_iniparser_reads_it(void **state)
{
    (void)state;
    struct tt_ini_value r;
    const char *v = "\"Press #, then *.\" ; note";
    tt_ini_value_read(v, strlen(v), &r);
    assert_false(r.unclosed);
    assert_null(r.rest);
    assert_null(r.cut);

    v = "'it' is";
    tt_ini_value_read(v, strlen(v), &r);
    assert_ptr_equal(r.rest, v + 5);

    v = "\"open";
    tt_ini_value_read(v, strlen(v), &r);
    assert_true(r.unclosed);

    v = "Press 1; or #";
    tt_ini_value_read(v, strlen(v), &r);
    assert_ptr_equal(r.cut, v + 7);

    v = "#";
    tt_ini_value_read(v, 1, &r);
    assert_ptr_equal(r.cut, v);

    tt_ini_value_read("", 0, &r);
    assert_null(r.cut);
    assert_false(r.unclosed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_kind_of_line_is_named_with_its_line_and_place),
        cmocka_unit_test(a_section_name_is_all_between_the_brackets_trimmed),
        cmocka_unit_test(lines_joined_by_a_backslash_are_one_line_named_by_its_first),
        cmocka_unit_test(a_line_too_long_across_joins_says_where_it_began_and_went_over),
        cmocka_unit_test(a_last_line_ending_in_a_backslash_is_dangling),
        cmocka_unit_test(an_error_from_the_reader_ends_the_walk),
        cmocka_unit_test(a_value_is_read_as_iniparser_reads_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
