/*
 * The menu loader's tests: every rule of the menu format, each checked by the exact line it
 * reports and the words that tell the writer what to fix; then inputs a fuzzer would try.
 *
 * Most menus are inline strings loaded with tt_menu_load_mem under the name "menus/t.ini";
 * the line number a test expects is written beside the line it means. A few files in
 * tests/data/ check loading from disk (run from the project's top folder).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "core/menu_priv.h"
#include "testlib.h"

#define NAME "menus/t.ini"

static tt_diag *D;

static void dump(void)
{
    tt_diag_print(D, stderr);
}

static int load(const char *ini, tt_menu **m)
{
    tt_diag_clear(D);
    return tt_menu_load_mem(m, NAME, ini, strlen(ini), D);
}

/* Load a menu that must have no errors (warnings allowed). */
static tt_menu *ok(const char *ini)
{
    tt_menu *m = NULL;
    int rc = load(ini, &m);
    if (rc != 0 || !m) {
        dump();
        fail_msg("expected the menu to load, got %d", rc);
    }
    return m;
}

/* Load a menu that must be rejected. */
static void bad(const char *ini)
{
    tt_menu *m = (tt_menu *)1;
    int rc = load(ini, &m);
    if (rc != EINVAL) {
        dump();
        fail_msg("expected EINVAL, got %d", rc);
    }
    assert_null(m);
    assert_true(tt_diag_count(D, TT_ERROR) > 0);
}

/* A message of this severity on this line containing all the given words. */
static const struct tt_diag_msg *find(enum tt_severity sev, int line, const char *a,
                                      const char *b)
{
    for (size_t i = 0; i < tt_diag_len(D); i++) {
        const struct tt_diag_msg *m = tt_diag_get(D, i);
        if (m->sev == sev && m->line == line && strstr(m->text, a) && (!b || strstr(m->text, b)))
            return m;
    }
    return NULL;
}

static void expect_sev(enum tt_severity sev, int line, const char *a, const char *b)
{
    if (!find(sev, line, a, b)) {
        dump();
        fail_msg("no %s on line %d with '%s'%s%s%s", sev == TT_ERROR ? "error" : "warning", line,
                 a, b ? " and '" : "", b ? b : "", b ? "'" : "");
    }
}

#define expect_error(line, a) expect_sev(TT_ERROR, line, a, NULL)
#define expect_error2(line, a, b) expect_sev(TT_ERROR, line, a, b)
#define expect_warning(line, a) expect_sev(TT_WARNING, line, a, NULL)

static void expect_no(const char *a)
{
    for (size_t i = 0; i < tt_diag_len(D); i++) {
        if (strstr(tt_diag_get(D, i)->text, a)) {
            dump();
            fail_msg("unexpected message with '%s'", a);
        }
    }
}

/* The first lines of most test menus: settings, then a start node. */
#define HEAD                                                                                  \
    "[tonetree]\n"   /* 1 */                                                                  \
    "start = main\n" /* 2 */                                                                  \
    "\n"             /* 3 */                                                                  \
    "[main]\n"       /* 4 */                                                                  \
    "title = Main\n" /* 5 */                                                                  \
    "text = Hello.\n" /* 6 */

/* A node that needs nothing: [name] with its title and text (three lines). */
#define NODE(id) "[" id "]\ntitle = " id "\ntext = The " id " page.\n"

/* ---- A menu that is right -------------------------------------------------------------------- */

static void a_complete_menu_loads_with_its_nodes_links_languages_and_settings(void **state)
{
    (void)state;
    tt_menu *m = NULL;
    tt_diag_clear(D);
    int rc = tt_menu_load(&m, "tests/data/ok_full.ini", D);
    if (rc)
        dump();
    assert_int_equal(rc, 0);
    assert_int_equal(tt_diag_len(D), 0);

    assert_int_equal(tt_menu_node_count(m), 5);
    int main_ = tt_menu_find(m, "main"), steps = tt_menu_find(m, "steps");
    int step1 = tt_menu_find(m, "step1"), step2 = tt_menu_find(m, "STEP2");
    int warnings = tt_menu_find(m, "warnings");
    assert_int_equal(main_, 0);
    assert_int_equal(m->start, main_);
    assert_true(steps >= 0 && step1 >= 0 && step2 >= 0 && warnings >= 0);
    assert_int_equal(tt_menu_find(m, "nothing"), -1);
    assert_string_equal(tt_menu_node_id(m, step1), "step1");
    assert_int_equal(m->nodes[main_].line, 19);

    /* choices (a value's case does not matter: "Warnings"), pages */
    assert_int_equal(tt_node_choice(&m->nodes[main_], '1'), steps);
    assert_int_equal(tt_node_choice(&m->nodes[main_], '2'), warnings);
    assert_int_equal(tt_node_choice(&m->nodes[main_], '3'), -1);
    assert_int_equal(tt_node_choice(&m->nodes[steps], '1'), step1);
    assert_int_equal(m->nodes[step1].next, step2);
    assert_int_equal(m->nodes[step2].prev, step1);
    assert_int_equal(m->nodes[step1].prev, -1);
    assert_int_equal(m->nodes[step2].next, -1);

    /* languages and voices */
    assert_int_equal(tt_menu_lang_count(m), 2);
    assert_string_equal(tt_menu_lang(m, 0), "en");
    assert_string_equal(tt_menu_lang(m, 1), "es");
    assert_null(tt_menu_lang(m, 2));
    assert_int_equal(tt_menu_lang_index(m, "ES"), 1);
    assert_int_equal(tt_menu_lang_index(m, "fr"), -1);
    assert_string_equal(tt_menu_voice(m, 0), "flite:slt");
    assert_string_equal(tt_menu_voice(m, 1), "espeak-ng:es");
    assert_int_equal(m->lang_key[0], '8');
    assert_int_equal(m->lang_key[1], '7');
    assert_string_equal(tt_menu_prompts_dir(m), "tests/data/../prompts");

    /* words: quoted values whole, continued lines joined */
    assert_string_equal(m->title[0], "Test help");
    assert_string_equal(m->title[1], "Ayuda de prueba");
    assert_string_equal(m->nodes[main_].title[1], "el menú principal");
    assert_string_equal(m->nodes[main_].text[0], "Welcome; press a key. # skips.");
    assert_string_equal(m->nodes[warnings].text[0], "Say \"stop\" if you need to.");
    assert_string_equal(m->nodes[warnings].text[1], "Diga \"alto\".");
    const char *joined = m->nodes[steps].text[0];
    assert_true(!strncmp(joined, "There are two steps,", 20));
    assert_non_null(strstr(joined, "read one after the other."));

    /* timing and keys */
    assert_int_equal(m->timeout, 12500);
    assert_int_equal(m->tries, 2);
    assert_int_equal(m->gap, 250);
    assert_int_equal(m->keys.repeat, '5');
    assert_int_equal(m->keys.back, '*');
    assert_int_equal(m->keys.skip, '#');
    assert_int_equal(m->keys.help, '0');
    assert_int_equal(m->keys.end, '9');
    tt_menu_free(m);
}

static void settings_left_out_take_their_defaults(void **state)
{
    (void)state;
    tt_menu *m = ok(HEAD);
    assert_int_equal(tt_menu_lang_count(m), 1);
    assert_string_equal(tt_menu_lang(m, 0), "en");
    assert_string_equal(tt_menu_voice(m, 0), "flite:rms");
    assert_int_equal(m->timeout, 7000);
    assert_int_equal(m->tries, 3);
    assert_int_equal(m->gap, 400);
    assert_int_equal(m->keys.repeat, '5');
    assert_int_equal(m->keys.back, '*');
    assert_int_equal(m->keys.skip, '#');
    assert_int_equal(m->keys.help, '0');
    assert_int_equal(m->keys.end, '9');
    assert_string_equal(tt_menu_prompts_dir(m), "menus/../prompts");
    assert_null(m->title[0]);
    assert_int_equal(m->start, 0);
    assert_int_equal(m->safety, -1);
    assert_int_equal(m->lang_key[0], 0); /* one language: no key switches to it */
    assert_null(m->nodes[0].shown[0]);
    assert_null(m->nodes[0].brief[0]);
    assert_string_equal(m->path, NAME);
    tt_menu_free(m);
}

static void other_languages_get_an_espeak_voice_and_lowercase_codes(void **state)
{
    (void)state;
    tt_menu *m = ok("[tonetree]\nstart = main\nlanguage = ES\n"
                    "[main]\ntitle = Inicio\ntext = Hola.\n");
    assert_string_equal(tt_menu_lang(m, 0), "es");
    /* Spanish is the Spanish of the Americas unless Spain's is asked for */
    assert_string_equal(tt_menu_voice(m, 0), "espeak-ng:es-419");
    tt_menu_free(m);

    m = ok("[tonetree]\nstart = main\nlanguages = es-MX es-ES\n"
           "[main]\ntitle = Inicio\ntitle.es-es = Inicio\ntext = Hola.\ntext.es-es = Hola.\n");
    assert_string_equal(tt_menu_voice(m, 0), "espeak-ng:es-419");
    assert_string_equal(tt_menu_voice(m, 1), "espeak-ng:es");
    tt_menu_free(m);

    m = ok("[tonetree]\nstart = main\nlanguages = pt-BR en\n"
           "[main]\ntitle = Inicio\ntitle.en = Start\ntext = Ola.\ntext.EN = Hello.\n");
    assert_string_equal(tt_menu_lang(m, 0), "pt-br");
    assert_string_equal(tt_menu_voice(m, 0), "espeak-ng:pt-br");
    assert_string_equal(tt_menu_voice(m, 1), "flite:rms");
    assert_string_equal(m->nodes[0].text[1], "Hello.");
    tt_menu_free(m);
}

static void the_prompts_folder_is_found_from_the_menu_file_folder(void **state)
{
    (void)state;
    tt_menu *m = ok("[tonetree]\nstart = main\nprompts = audio\n" NODE("main"));
    assert_string_equal(tt_menu_prompts_dir(m), "menus/audio");
    tt_menu_free(m);
    m = ok("[tonetree]\nstart = main\nprompts = /srv/audio ; on the kiosk\n" NODE("main"));
    assert_string_equal(tt_menu_prompts_dir(m), "/srv/audio");
    tt_menu_free(m);
    tt_diag_clear(D);
    const char *ini = HEAD;
    assert_int_equal(tt_menu_load_mem(&m, "t.ini", ini, strlen(ini), D), 0);
    assert_string_equal(tt_menu_prompts_dir(m), "../prompts");
    tt_menu_free(m);
}

static void a_title_given_as_title_en_counts_for_the_default_language(void **state)
{
    (void)state;
    tt_menu *m = ok("[tonetree]\nstart = main\n[main]\ntitle.en = Main\ntext.en = Hi.\n");
    assert_string_equal(m->nodes[0].title[0], "Main");
    assert_string_equal(m->nodes[0].text[0], "Hi.");
    tt_menu_free(m);

    bad("[tonetree]\nstart = main\n"
        "[main]\n"
        "title = Main\n"    /* 4 */
        "title.en = Main\n" /* 5 */
        "text = Hi.\n");
    expect_error2(5, "title.en gives the en title again", "line 4");
}

static void a_comment_after_a_one_word_setting_is_allowed(void **state)
{
    (void)state;
    tt_menu *m = ok("[tonetree]\nstart = main ; the first node\ntimeout = 9 # seconds\n"
                    "[main]\ntitle = Main\ntext = Hi.\n1 = other   ; a choice\n" NODE("other"));
    assert_int_equal(m->timeout, 9000);
    assert_int_equal(m->nodes[0].choice[1], 1);
    tt_menu_free(m);
}

static void nodes_ids_are_lowercased_and_links_match_any_case(void **state)
{
    (void)state;
    tt_menu *m = ok("[tonetree]\nstart = MAIN\n[Main]\ntitle = M\ntext = M.\n1 = Info_Page-2\n"
                    "[INFO_page-2]\ntitle = I\ntext = I.\n");
    assert_string_equal(tt_menu_node_id(m, 0), "main");
    assert_string_equal(tt_menu_node_id(m, 1), "info_page-2");
    assert_int_equal(tt_menu_find(m, "Info_Page-2"), 1);
    assert_int_equal(m->nodes[0].choice[1], 1);
    tt_menu_free(m);
}

static void an_unreachable_node_is_a_warning_and_the_menu_still_loads(void **state)
{
    (void)state;
    tt_menu *m = ok(HEAD "\n"
                         "[orphan]\n" /* 8 */
                         "title = O\ntext = O.\n");
    expect_warning(8, "node 'orphan' cannot be reached");
    assert_int_equal(tt_diag_count(D, TT_ERROR), 0);
    tt_menu_free(m);
}

static void nodes_reached_only_through_pages_and_prev_are_reachable(void **state)
{
    (void)state;
    /* start is the second page: the first is reached with back (prev). */
    tt_menu *m = ok("[tonetree]\nstart = p2\n" NODE("p1") "next = p2\n" NODE("p2") "next = p3\n"
                        NODE("p3"));
    assert_int_equal(tt_diag_len(D), 0);
    assert_int_equal(m->nodes[1].prev, 0);
    assert_int_equal(m->nodes[2].prev, 1);
    tt_menu_free(m);
}

static void more_than_four_choices_is_a_warning(void **state)
{
    (void)state;
    tt_menu *m = ok("[tonetree]\nstart = main\n"
                    "[main]\n" /* 3 */
                    "title = M\ntext = M.\n1 = a\n2 = a\n3 = a\n4 = a\n6 = a\n" NODE("a"));
    expect_warning(3, "offers 5 choices");
    tt_menu_free(m);
}

/* ---- Links between nodes --------------------------------------------------------------------- */

static void a_key_to_a_missing_node_names_the_line_and_suggests_the_closest_id(void **state)
{
    (void)state;
    tt_menu *m = NULL;
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load(&m, "tests/data/bad_dangling.ini", D), EINVAL);
    assert_null(m);
    expect_error(14, "key 3 goes to 'stpes', which is not a node (did you mean 'steps'?)");
    assert_int_equal(tt_diag_count(D, TT_ERROR), 1);

    /* As printed for a person: file:line: error: text */
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    tt_diag_print(D, f);
    fclose(f);
    assert_non_null(strstr(out, "tests/data/bad_dangling.ini:14: error: key 3 goes to 'stpes', "
                                "which is not a node (did you mean 'steps'?)\n"));
    free(out);
}

static void next_and_start_to_missing_nodes_are_errors_with_suggestions(void **state)
{
    (void)state;
    bad("[tonetree]\n"
        "start = mian\n" /* 2 */
        "[main]\ntitle = M\ntext = M.\n"
        "next = paeg2\n" /* 6 */
        NODE("page2"));
    expect_error(2, "start goes to 'mian', which is not a node (did you mean 'main'?)");
    expect_error(6, "next goes to 'paeg2', which is not a node (did you mean 'page2'?)");
}

static void a_link_with_no_near_name_gets_no_suggestion(void **state)
{
    (void)state;
    bad(HEAD "1 = elsewhere\n"); /* 7 */
    expect_error(7, "key 1 goes to 'elsewhere', which is not a node");
    expect_no("did you mean");
}

static void a_link_to_the_settings_section_says_it_is_not_a_node(void **state)
{
    (void)state;
    bad(HEAD "1 = tonetree\n");
    expect_error(7, "holds the settings");
}

static void an_empty_link_is_an_error(void **state)
{
    (void)state;
    bad(HEAD "1 =\n" /* 7 */ "next = \n" /* 8 */);
    expect_error(7, "key 1 has no node");
    expect_error(8, "next is empty");
}

static void a_missing_settings_section_or_start_is_an_error(void **state)
{
    (void)state;
    bad(NODE("main"));
    expect_error(0, "no [tonetree] section");
    bad("[tonetree]\n"   /* 1 */
        "title = Help\n" /* 2 */
        NODE("main"));
    expect_error(1, "[tonetree] has no start");
}

/* ---- Keys ------------------------------------------------------------------------------------ */

static void a_choice_on_an_engine_key_says_what_the_key_does(void **state)
{
    (void)state;
    bad(HEAD "5 = other\n" /* 7 */ "0 = other\n" /* 8 */ "9 = other\n" /* 9 */ NODE("other"));
    expect_error2(7, "key 5 is the repeat key", "pick another digit");
    expect_error2(8, "key 0 is the help key", "pick another digit");
    expect_error2(9, "key 9 is the end key", "pick another digit");
}

static void a_moved_engine_key_frees_its_digit_and_takes_the_new_one(void **state)
{
    (void)state;
    tt_menu *m = ok("[tonetree]\nstart = main\nkey.repeat = *\nkey.back = 7\n"
                    "[main]\ntitle = M\ntext = M.\n5 = other\n" NODE("other"));
    assert_int_equal(m->keys.repeat, '*');
    assert_int_equal(m->keys.back, '7');
    assert_int_equal(m->nodes[0].choice[5], 1);
    tt_menu_free(m);

    bad("[tonetree]\nstart = main\n"
        "key.back = 7\n" /* 3 */
        "key.repeat = *\n"
        "[main]\ntitle = M\ntext = M.\n"
        "7 = other\n" /* 8 */
        NODE("other"));
    expect_error2(8, "key 7 is the back key", "set by key.back on line 3");
}

static void star_is_not_a_choice(void **state)
{
    (void)state;
    bad(HEAD "* = other\n" /* 7 */ NODE("other"));
    expect_error2(7, "* cannot be a choice", "the back key");
}

static void hash_as_a_choice_is_an_error_though_iniparser_reads_a_comment(void **state)
{
    (void)state;
    tt_menu *m = NULL;
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load(&m, "tests/data/bad_hash_choice.ini", D), EINVAL);
    expect_error2(9, "# is the skip/next-page key and cannot be a choice",
                  "a line starting with # is read as a comment");

    bad(HEAD "  #=other ; the skip key\n" /* 7 */ NODE("other"));
    expect_error(7, "# is the skip/next-page key");
}

static void comment_lines_that_merely_start_with_hash_equals_are_fine(void **state)
{
    (void)state;
    tt_menu *m = ok("#==========================\n"
                    "# = see the guide below =\n"
                    "#= main menu\n" HEAD);
    tt_menu_free(m);
}

static void a_choice_key_must_be_one_digit(void **state)
{
    (void)state;
    bad(HEAD "10 = other\n" NODE("other"));
    expect_error(7, "a choice is one digit");
}

static void engine_keys_must_be_a_keypad_key_and_all_different(void **state)
{
    (void)state;
    bad("[tonetree]\nstart = main\n"
        "key.back = x\n"   /* 3 */
        "key.skip = #\n"   /* 4 */
        "key.help = 5\n"   /* 5 */
        "key.end = 99\n"   /* 6 */
        "key.stop = 1\n"   /* 7 */
        NODE("main"));
    expect_error(3, "an engine key is one of 0-9, * or #");
    expect_error2(4, "key.skip is empty", "key.skip = \"#\"");
    expect_error2(5, "key.help = 5 clashes with key.repeat (by default)", "the repeat key");
    expect_error(6, "an engine key is one of 0-9, * or #");
    expect_error(7, "key.stop is not a setting of [tonetree]");

    bad("[tonetree]\nstart = main\n"
        "key.help = 1\n" /* 3 */
        "key.end = 1\n"  /* 4 */
        NODE("main"));
    expect_error2(4, "key.end = 1 clashes with key.help (line 3)", "each engine key");
}

/* ---- Language keys --------------------------------------------------------------------------- */

/* A node in English and Spanish: [id] with its title, text, title.es and text.es (five lines). */
#define NODE2(id) "[" id "]\ntitle = " id "\ntitle.es = " id "\ntext = The " id " page.\n" \
                  "text.es = La página " id ".\n"

/* The settings of a menu in English and Spanish, then lines of its own; main is on line 3 + the
 * number of lines given in set. */
#define TWO(set) "[tonetree]\nstart = main\nlanguages = en, es\n" set

static const struct tt_diag_msg *find_rule(enum tt_severity sev, int line, const char *rule,
                                           const char *words)
{
    for (size_t i = 0; i < tt_diag_len(D); i++) {
        const struct tt_diag_msg *m = tt_diag_get(D, i);
        if (m->sev == sev && m->line == line && m->rule && !strcmp(m->rule, rule) &&
            strstr(m->text, words))
            return m;
    }
    dump();
    fail_msg("no [%s] on line %d with '%s'", rule, line, words);
    return NULL;
}

static void language_keys_default_to_8_then_7_and_down(void **state)
{
    (void)state;
    tt_menu *m = ok(TWO("") NODE2("main"));
    assert_int_equal(m->lang_key[0], '8');
    assert_int_equal(m->lang_key[1], '7');
    assert_int_equal(tt_menu_lang_of_key(m, '8'), 0);
    assert_int_equal(tt_menu_lang_of_key(m, '7'), 1);
    assert_int_equal(tt_menu_lang_of_key(m, '1'), -1);
    assert_int_equal(tt_menu_lang_of_key(m, '*'), -1);
    tt_menu_free(m);

    m = ok("[tonetree]\nstart = main\nlanguages = en, es, fr\n"
           "[main]\ntitle = a\ntitle.es = a\ntitle.fr = a\ntext = a\ntext.es = a\ntext.fr = a\n");
    assert_int_equal(m->lang_key[2], '6');
    tt_menu_free(m);

    /* An engine key moved onto 8 pushes the languages down, past it. */
    m = ok(TWO("key.repeat = 8\n") NODE2("main"));
    assert_int_equal(m->lang_key[0], '7');
    assert_int_equal(m->lang_key[1], '6');
    tt_menu_free(m);

    /* One language needs no key: 8 is an ordinary choice there. */
    m = ok(HEAD "8 = other\n" NODE("other"));
    assert_int_equal(m->lang_key[0], 0);
    assert_int_equal(tt_menu_lang_of_key(m, '8'), -1);
    assert_int_equal(tt_node_choice(&m->nodes[0], '8'), 1);
    tt_menu_free(m);
    m = ok("[tonetree]\nstart = main\n"
           "key.lang.en = 3\n" /* 3 */
           NODE("main"));
    expect_warning(3, "key.lang.en does nothing: this menu has one language");
    assert_int_equal(m->lang_key[0], 0);
    tt_menu_free(m);
}

static void language_keys_can_be_set_and_free_their_default_digits(void **state)
{
    (void)state;
    tt_menu *m = ok(TWO("key.lang.en = 1\nkey.lang.ES = 2\n")
                    "[main]\ntitle = M\ntitle.es = M\ntext = M.\ntext.es = M.\n"
                    "7 = a\n8 = b\n" NODE2("a") NODE2("b"));
    assert_int_equal(m->lang_key[0], '1');
    assert_int_equal(m->lang_key[1], '2');
    assert_int_equal(tt_node_choice(&m->nodes[0], '7'), 1);
    assert_int_equal(tt_node_choice(&m->nodes[0], '8'), 2);
    tt_menu_free(m);

    /* Setting one language keeps the other's default. */
    m = ok(TWO("key.lang.es = 3\n") NODE2("main"));
    assert_int_equal(m->lang_key[0], '8');
    assert_int_equal(m->lang_key[1], '3');
    tt_menu_free(m);

    bad(TWO("key.lang.es = 0\n"  /* 4 */
            "key.lang.en = 10\n" /* 5 */
            "key.lang = 3\n"     /* 6 */
            "key.lang.fr = 2\n") /* 7 */
        NODE2("main"));
    expect_error2(4, "key.lang.es = 0: a language key is one digit, 1 to 9", "every node");
    expect_error(5, "key.lang.en = 10: a language key is one digit, 1 to 9");
    expect_error2(6, "key.lang: name the language", "key.lang.en = 8");
    expect_error(7, "fr is not one of this menu's languages");
}

static void a_choice_on_a_language_key_is_a_reserved_key_error(void **state)
{
    (void)state;
    bad(TWO("") /* main is on line 4 */
        "[main]\ntitle = M\ntitle.es = M\ntext = M.\ntext.es = M.\n"
        "8 = other\n" /* 9 */
        "7 = other\n" /* 10 */
        NODE2("other"));
    find_rule(TT_ERROR, 9, "reserved-key",
              "key 8 switches to en on every node (key.lang.en, by default): pick another digit");
    find_rule(TT_ERROR, 10, "reserved-key", "key 7 switches to es on every node (key.lang.es");

    bad(TWO("key.lang.es = 3\n") /* 4 */
        "[main]\ntitle = M\ntitle.es = M\ntext = M.\ntext.es = M.\n"
        "3 = other\n" /* 10 */
        NODE2("other"));
    find_rule(TT_ERROR, 10, "reserved-key", "key 3 switches to es on every node (key.lang.es, "
                                            "set on line 4)");
}

static void two_languages_on_one_key_are_refused(void **state)
{
    (void)state;
    bad(TWO("key.lang.en = 3\n" /* 4 */
            "key.lang.es = 3\n") /* 5 */
        NODE2("main"));
    expect_error2(5, "key.lang.en and key.lang.es are both 3", "each language needs a key of "
                                                              "its own");
    /* A key set on the other language's default moves that default instead. */
    tt_menu *m = ok(TWO("key.lang.es = 8\n") NODE2("main"));
    assert_int_equal(m->lang_key[0], '7');
    assert_int_equal(m->lang_key[1], '8');
    tt_menu_free(m);
}

static void a_language_key_on_an_engine_key_is_refused(void **state)
{
    (void)state;
    bad(TWO("key.lang.es = 5\n") /* 4 */ NODE2("main"));
    expect_error2(4, "key.lang.es = 5 clashes with key.repeat", "5 is already");
    bad(TWO("key.help = 3\n"       /* 4 */
            "key.lang.en = 3\n")   /* 5 */
        NODE2("main"));
    expect_error(5, "key.lang.en = 3 clashes with key.help");
}

/* ---- The safety node ------------------------------------------------------------------------- */

static void safety_names_the_node_help_offers_first(void **state)
{
    (void)state;
    tt_menu *m = ok("[tonetree]\nstart = main\nsafety = Help-Lines\n"
                    "[main]\ntitle = M\ntext = M.\n1 = help-lines\n" NODE("help-lines"));
    assert_int_equal(m->safety, tt_menu_find(m, "help-lines"));
    tt_menu_free(m);

    bad("[tonetree]\nstart = main\n"
        "safety = nosuch\n" /* 3 */
        NODE("main"));
    find_rule(TT_ERROR, 3, "dangling-key", "safety goes to 'nosuch', which is not a node");
    bad("[tonetree]\nstart = main\n"
        "safety = helplines\n" /* 3 */
        "[main]\ntitle = M\ntext = M.\n1 = help-lines\n" NODE("help-lines"));
    expect_error(3, "(did you mean 'help-lines'?)");
    bad("[tonetree]\nstart = main\n"
        "safety = \n" /* 3 */
        NODE("main"));
    expect_error(3, "safety");
}

/* ---- Short texts ----------------------------------------------------------------------------- */

static void a_short_text_is_kept_in_every_language(void **state)
{
    (void)state;
    tt_menu *m = ok(TWO("") /* main is on line 4 */
                    "[main]\ntitle = M\ntitle.es = M\ntext = Welcome to the court.\n"
                    "text.es = Bienvenidos a la corte.\n"
                    "short = Main menu.\n" /* 9 */
                    "short.es = Menú principal.\n" /* 10 */
                    "1 = other\n" NODE2("other"));
    const struct tt_node *n = &m->nodes[0];
    assert_string_equal(n->brief[0], "Main menu.");
    assert_string_equal(n->brief[1], "Menú principal.");
    assert_int_equal(n->brief_line[0], 9);
    assert_int_equal(n->brief_line[1], 10);
    assert_null(n->brief_shown[0]);
    assert_null(m->nodes[1].brief[0]);
    assert_null(m->nodes[1].brief[1]);
    tt_menu_free(m);
}

static void a_short_text_in_one_language_only_is_a_missing_translation(void **state)
{
    (void)state;
    bad(TWO("")
        "[main]\n" /* 4 */
        "title = M\ntitle.es = M\ntext = M.\ntext.es = M.\nshort = Main.\n");
    find_rule(TT_ERROR, 4, "missing-translation", "node 'main' has no short in es: add "
                                                  "short.es = ...");
    bad(TWO("")
        "[main]\n" /* 4 */
        "title = M\ntitle.es = M\ntext = M.\ntext.es = M.\nshort.es = Principal.\n");
    find_rule(TT_ERROR, 4, "missing-text", "node 'main' has no short in en: add short = ...");

    bad(HEAD "short = Main.\n" /* 7 */ "short = Main menu.\n" /* 8 */);
    expect_error2(8, "short is set twice in [main] (first on line 7)", "remove one");
    bad(HEAD "short = Main.\n" /* 7 */ "short.en = Main menu.\n" /* 8 */);
    expect_error2(8, "gives the en short text again (it was given on line 7)", "keep one");
}

/* ---- Say-as marks ---------------------------------------------------------------------------- */

static void say_as_marks_are_written_out_for_the_voice_and_kept_for_the_eye(void **state)
{
    (void)state;
    tt_menu *m = ok(TWO("")
                    "[main]\ntitle = M\ntitle.es = M\n"
                    "text = {tel:1-800-799-7233}\n"
                    "text.es = La audiencia es el {date:2027-03-05}.\n"
                    "short = Call {digits:88788}.\n"
                    "short.es = Llame al {digits:88788}.\n"
                    "1 = other\n" NODE2("other"));
    const struct tt_node *n = &m->nodes[0];
    assert_string_equal(n->text[0], "1. 8 0 0. 7 9 9. 7 2 3 3.");
    assert_string_equal(n->shown[0], "1-800-799-7233");
    assert_string_equal(n->text[1], "La audiencia es el 5 de marzo de 2027.");
    assert_string_equal(n->shown[1], "La audiencia es el 5 de marzo de 2027.");
    assert_non_null(strstr(n->brief[0], "8 8 7 8 8."));
    assert_string_equal(n->brief_shown[0], "Call 88788.");
    assert_string_equal(n->brief_shown[1], "Llame al 88788.");
    /* A text with no marks is shown as it is spoken. */
    assert_null(m->nodes[1].shown[0]);
    assert_null(m->nodes[1].shown[1]);
    tt_menu_free(m);
}

static void a_mark_that_cannot_be_read_is_an_error_at_its_line(void **state)
{
    (void)state;
    bad("[tonetree]\nstart = main\n"
        "[main]\ntitle = M\n"
        "text = Call {tel:12a} now.\n" /* 5 */
        "1 = a\n2 = b\n3 = c\n"
        "[a]\ntitle = a\n"
        "text = See {foo:1}.\n" /* 11 */
        "[b]\ntitle = b\n"
        "text = Call {tel:911 now, \\\n" /* 14 */
        "or later.\n"
        "[c]\ntitle = c\ntext = C.\n"
        "short = Call {tel:}.\n" /* 19 */);
    expect_error2(5, "text (en): column 6:", "'a' cannot be part of a number");
    expect_error2(11, "text (en): column 5:", "'foo' is not a kind of say-as mark: use tel, "
                                              "digits or date");
    expect_error2(14, "text (en): column 6: a { with no } after it", "{tel:...}");
    expect_error2(19, "short (en): column 6:", "a say-as mark holds 1 to");
    assert_int_equal(tt_diag_count(D, TT_ERROR), 4);
}

/* ---- Keys nobody knows ----------------------------------------------------------------------- */

static void unknown_keys_are_errors_that_suggest_the_closest_known_key(void **state)
{
    (void)state;
    bad("[tonetree]\nstart = main\nlanguages = en, es\n"
        "timout = 7\n"  /* 4 */
        "voice.es = espeak-ng:es\n"
        "[main]\ntitle = M\ntitle.es = M\ntext = M.\ntext.es = M.\n"
        "titel = M\n"   /* 11 */
        "txt.es = M\n"  /* 12 */
        "colour = red\n" /* 13 */);
    expect_error(4, "timout is not a setting of [tonetree] (did you mean 'timeout'?)");
    expect_error(11, "titel is not a key a node can have (did you mean 'title'?)");
    expect_error(12, "(did you mean 'text.es'?)");
    expect_error(13, "colour is not a key a node can have;");
}

static void prev_is_an_error_because_it_comes_from_next(void **state)
{
    (void)state;
    bad(HEAD "prev = other\n" /* 7 */ NODE("other"));
    expect_error2(7, "prev cannot be set", "next = main");
}

static void settings_in_a_node_and_node_keys_in_the_settings_are_errors(void **state)
{
    (void)state;
    bad("[tonetree]\nstart = main\n"
        "1 = main\n"  /* 3 */
        "text = x\n"  /* 4 */
        "[main]\ntitle = M\ntext = M.\n"
        "timeout = 5\n" /* 8 */);
    expect_error(3, "belongs in a node's [section]");
    expect_error(4, "belongs in a node's [section]");
    expect_error(8, "move it to [tonetree]");
}

static void a_key_before_any_section_is_an_error(void **state)
{
    (void)state;
    bad("start = main\n" HEAD);
    expect_error(1, "comes before any [section]");
}

/* ---- What iniparser would hide --------------------------------------------------------------- */

static void a_duplicate_key_names_both_lines(void **state)
{
    (void)state;
    bad(HEAD "1 = other\n" /* 7 */ "1 = main\n" /* 8 */ NODE("other"));
    expect_error2(8, "1 is set twice in [main]", "first on line 7");
}

static void a_repeated_section_names_both_lines(void **state)
{
    (void)state;
    bad(HEAD NODE("other") /* 7-9 */
        "[main]\n"         /* 10 */
        "1 = other\n");
    expect_error2(10, "[main] was already started on line 4", "merge");
}

static void an_unquoted_semicolon_or_hash_in_words_is_an_error_with_the_fix(void **state)
{
    (void)state;
    bad("[tonetree]\nstart = main\n[main]\ntitle = Main\n"
        "text = Press #, then *.\n"            /* 5 */
        "title = x\n"                          /* 6: a duplicate too, to show both are found */
        );
    expect_error2(5, "text is cut short at the '#'", "put the whole value in double quotes");

    bad("[tonetree]\nstart = main\n[main]\n"
        "title = Main ; the top\n" /* 4 */
        "text = Call 555-1234;ask for the clerk.\n" /* 5 */);
    expect_error2(4, "title is cut short at the ';'", "double quotes");
    expect_error(5, "text is cut short at the ';'");

    /* in a one-word setting, a # glued to the value is a cut too */
    bad(HEAD "next = other#2\n" /* 7 */ NODE("other"));
    expect_error(7, "next is cut short at the '#'");
}

static void quoted_words_are_kept_whole(void **state)
{
    (void)state;
    tt_menu *m = ok("[tonetree]\nstart = main\n[main]\ntitle = \"Main; menu\" ; comment\n"
                    "text = 'Press #, then *.'\n");
    assert_string_equal(m->nodes[0].title[0], "Main; menu");
    assert_string_equal(m->nodes[0].text[0], "Press #, then *.");
    tt_menu_free(m);
}

static void words_after_a_closing_quote_or_an_unclosed_quote_are_errors(void **state)
{
    (void)state;
    bad("[tonetree]\nstart = main\n[main]\ntitle = M\n"
        "text = \"He said \"no\" twice\"\n" /* 5 */
        "text.en = x\n");
    expect_error2(5, "words after the closing \" of text would be dropped", "single quotes");

    bad("[tonetree]\nstart = main\n[main]\ntitle = M\n"
        "text = \"open\n" /* 5 */);
    expect_error(5, "never closed");
}

static void continued_lines_are_joined_and_a_dangling_backslash_is_an_error(void **state)
{
    (void)state;
    tt_menu *m = ok("[tonetree]\nstart = main\n[main]\ntitle = M\ntext = one \\\ntwo\n");
    assert_string_equal(m->nodes[0].text[0], "one two");
    tt_menu_free(m);

    bad("[tonetree]\nstart = main\n[main]\ntitle = M\ntext = one \\\n" /* 5 */);
    expect_error(5, "ends with \\");
}

static void a_line_longer_than_iniparser_reads_is_an_error_saying_what_to_do(void **state)
{
    (void)state;
    /* "text = " is 7 bytes: 1015 more make 1022, the most iniparser reads. */
    char ini[4096];
    char words[1100];
    memset(words, 'a', sizeof(words));
    snprintf(ini, sizeof(ini), "[tonetree]\nstart = main\n[main]\ntitle = M\ntext = %.*s\n", 1015,
             words);
    tt_menu *m = ok(ini);
    assert_int_equal(strlen(m->nodes[0].text[0]), 1015);
    tt_menu_free(m);

    snprintf(ini, sizeof(ini),
             "[tonetree]\nstart = main\n[main]\ntitle = M\n"
             "text = %.*s\n" /* 5 */
             "title = again\n" /* 6: still scanned, still reported */,
             1016, words);
    bad(ini);
    expect_error2(5, "this line is 1023 bytes long", "move part of the words to a next page");
    expect_error(6, "title is set twice");

    /* joining lines with \ does not help: iniparser joins them into the same buffer */
    snprintf(ini, sizeof(ini),
             "[tonetree]\nstart = main\n[main]\ntitle = M\n"
             "text = %.*s \\\n" /* 5 */
             "%.*s\n",
             600, words, 600, words);
    bad(ini);
    expect_error2(5, "lines 5-6 joined", "at most 1022");
}

static void iniparser_syntax_errors_become_file_and_line_errors(void **state)
{
    (void)state;
    bad(HEAD "just some words\n" /* 7 */);
    expect_error2(7, "not a [section], a key = value or a comment", "just some words");

    bad("[tonetree]\nstart = main\n"
        "[main] ; the first node\n" /* 3 */
        "title = M\ntext = M.\n");
    expect_error2(3, "does not end with ]", "put a comment on a line of its own");

    bad("[tonetree]\nstart = main\n"
        "[main\n" /* 3 */
        "title = M\ntext = M.\n");
    expect_error(3, "does not end with ]");

    bad("[tonetree]\nstart = main\n"
        "[main] ; a = b\n" /* 3: iniparser would read a key named "[main] ; a" */
        "title = M\ntext = M.\n");
    expect_error(3, "does not end with ]");

    bad(HEAD "= other\n" /* 7 */);
    expect_error(7, "no key before the =");
}

/* ---- Node names, languages, translations ----------------------------------------------------- */

static void a_message_quoting_a_line_quotes_that_line_and_nothing_of_the_one_before(void **state)
{
    (void)state;
    /* The scan joins each line into one buffer: a short line after a long one must not be
     * quoted with the long one's tail ("'words = a title long...'"). */
    bad(HEAD "1 = x\n[x]\ntitle = a title long enough to leave its tail in the buffer\n"
             "words\n" /* 10 */ "text = x\n");
    expect_error2(10, "not a [section], a key = value or a comment", "'words'");
    expect_no("words = a title");
}

static void node_names_must_be_safe_file_names(void **state)
{
    (void)state;
    bad(HEAD "[step.1]\n" /* 7 */ "title = x\ntext = x\n"
             "[../etc]\n" /* 10 */
             "[]\n"       /* 11 */
             "[a b]\n"    /* 12 */
             "[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n" /* 13: 65 */);
    expect_error2(7, "'step.1' cannot be a node name", "(not '.')");
    expect_error2(10, "cannot be a node name", "(not '.')");
    expect_error(11, "[] has no name");
    expect_error(12, "'a b' cannot be a node name");
    expect_error(13, "is 65 characters long");

    /* 64 is fine */
#define ID64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    tt_menu *m = ok("[tonetree]\nstart = " ID64 "\n" NODE(ID64));
#undef ID64
    tt_menu_free(m);
}

static void a_missing_title_or_text_names_the_node_its_line_and_the_language(void **state)
{
    (void)state;
    bad("[tonetree]\nstart = main\nlanguages = en, es\n"
        "[main]\n" /* 4 */
        "title = Main\ntitle.es = Principal\ntext = Hello.\n"
        "[other]\n" /* 8 */
        "title.es = Otro\ntext.es = Otro.\n"
        "text = \n" /* 11 */);
    expect_error(4, "node 'main' has no text in es: add text.es = ...");
    expect_error(8, "node 'other' has no title in en: add title = ...");
    expect_error(11, "the text of node 'other' in en is empty");
    assert_int_equal(tt_diag_count(D, TT_ERROR), 3);
}

static void a_suffix_for_a_language_the_menu_does_not_have_is_an_error(void **state)
{
    (void)state;
    bad("[tonetree]\nstart = main\n"
        "title.fr = Aide\n" /* 3 */
        "voice.de = espeak-ng:de\n" /* 4 */
        "[main]\ntitle = M\ntext = M.\n"
        "text.es = M.\n" /* 8 */);
    expect_error2(3, "fr is not one of this menu's languages (en)", "add it to languages");
    expect_error(4, "de is not one of this menu's languages");
    expect_error(8, "es is not one of this menu's languages");
}

static void the_menu_title_once_given_is_needed_in_every_language(void **state)
{
    (void)state;
    bad("[tonetree]\n" /* 1 */
        "start = main\nlanguages = en, es\ntitle = Help\n"
        "[main]\ntitle = M\ntitle.es = M\ntext = M.\ntext.es = M.\n");
    expect_error(1, "[tonetree] has a title, but none in es: add title.es = ...");
}

static void language_codes_are_checked(void **state)
{
    (void)state;
    bad("[tonetree]\nstart = main\n"
        "languages = en, e1, english, es-, en\n" /* 3 */
        NODE("main"));
    expect_error(3, "'e1' is not a language code");
    expect_error(3, "'english' is not a language code");
    expect_error(3, "'es-' is not a language code");
    expect_error(3, "en is listed twice");

    bad("[tonetree]\nstart = main\n"
        "language = en\n"    /* 3 */
        "languages = en\n"   /* 4 */
        NODE("main"));
    expect_error2(4, "languages and language (line 3) both name the languages", "keep one");

    bad("[tonetree]\nstart = main\nlanguages = ,\n" NODE("main"));
    expect_error(3, "languages is empty");
}

static void ten_languages_are_rejected_and_seven_are_fine(void **state)
{
    (void)state;
    bad("[tonetree]\nstart = main\n"
        "languages = en, es, fr, de, it, pt, nl, pl, sv, fi\n" /* 3 */
        NODE("main"));
    expect_error(3, "lists 10 languages: a menu can have at most 8");

    /* Each language needs a key of its own: with 0, 5 and 9 the engine's, seven digits are
     * left, so the eighth language has none. */
    bad("[tonetree]\nstart = main\nlanguages = en, es, fr, de, it, pt, nl, pl\n"
        "[main]\n"
        "title = a\ntitle.es = a\ntitle.fr = a\ntitle.de = a\ntitle.it = a\n"
        "title.pt = a\ntitle.nl = a\ntitle.pl = a\n"
        "text = a\ntext.es = a\ntext.fr = a\ntext.de = a\ntext.it = a\n"
        "text.pt = a\ntext.nl = a\ntext.pl = a\n");
    expect_error(1, "pl has no language key left");

    tt_menu *m = ok("[tonetree]\nstart = main\nlanguages = en, es, fr, de, it, pt, nl\n"
                    "[main]\n"
                    "title = a\ntitle.es = a\ntitle.fr = a\ntitle.de = a\ntitle.it = a\n"
                    "title.pt = a\ntitle.nl = a\n"
                    "text = a\ntext.es = a\ntext.fr = a\ntext.de = a\ntext.it = a\n"
                    "text.pt = a\ntext.nl = a\n");
    assert_int_equal(tt_menu_lang_count(m), 7);
    assert_string_equal(tt_menu_lang(m, 6), "nl");
    assert_string_equal(tt_menu_voice(m, 6), "espeak-ng:nl");
    tt_menu_free(m);
}

static void voices_name_a_known_engine_and_voice(void **state)
{
    (void)state;
    bad("[tonetree]\nstart = main\nlanguages = en, es, fr\n"
        "voice.en = flite:kal1\n"    /* 4 */
        "voice.es = espeak:es\n"     /* 5 */
        "voice.fr = kal16\n"         /* 6 */
        "[main]\ntitle = a\ntitle.es = a\ntitle.fr = a\ntext = a\ntext.es = a\ntext.fr = a\n");
    expect_error2(4, "flite has no voice 'kal1' (did you mean 'kal16'?)", "kal16, kal, slt");
    expect_error2(5, "'espeak' is not a speech engine (did you mean 'espeak-ng'?)",
                  "flite (English) or espeak-ng");
    expect_error(6, "write engine:voice");

    tt_menu *m = ok("[tonetree]\nstart = main\nlanguage = es\n"
                    "voice.es = flite:kal16\n" /* 4 */
                    "[main]\ntitle = a\ntext = a\n");
    expect_warning(4, "flite speaks only English");
    assert_string_equal(tt_menu_voice(m, 0), "flite:kal16");
    tt_menu_free(m);
}

/* ---- Timing ---------------------------------------------------------------------------------- */

static void timing_out_of_range_or_not_a_number_is_an_error(void **state)
{
    (void)state;
    bad("[tonetree]\nstart = main\n"
        "timeout = 0.4\n" /* 3 */
        "tries = 11\n"    /* 4 */
        "gap = 5.5\n"     /* 5 */
        NODE("main"));
    expect_error2(3, "timeout = 0.4 is out of range", "0.5 to 600 seconds");
    expect_error(4, "tries = 11: give a whole number from 1 to 10");
    expect_error2(5, "gap = 5.5 is out of range", "0 to 5 seconds");

    bad("[tonetree]\nstart = main\n"
        "timeout = seven\n" /* 3 */
        "tries = 2.5\n"     /* 4 */
        "gap = -1\n"        /* 5 */
        NODE("main"));
    expect_error(3, "timeout = seven is not a number of seconds");
    expect_error(4, "tries = 2.5: give a whole number");
    expect_error(5, "gap = -1 is not a number of seconds");

    tt_menu *m = ok("[tonetree]\nstart = main\ntimeout = .5\ntries = 10\ngap = 0\n" NODE("main"));
    assert_int_equal(m->timeout, 500);
    assert_int_equal(m->tries, 10);
    assert_int_equal(m->gap, 0);
    tt_menu_free(m);
    m = ok("[tonetree]\nstart = main\ntimeout = 600\ngap = 5.0\n" NODE("main"));
    assert_int_equal(m->timeout, 600000);
    assert_int_equal(m->gap, 5000);
    tt_menu_free(m);
}

/* ---- Page sequences -------------------------------------------------------------------------- */

static void a_page_may_follow_only_one_page(void **state)
{
    (void)state;
    bad(HEAD "1 = a\n2 = b\n" /* 7-8 */
        "[a]\ntitle = a\ntext = a\n"
        "next = c\n" /* 12 */
        "[b]\ntitle = b\ntext = b\n"
        "next = c\n" /* 16 */
        NODE("c"));
    expect_error2(16, "'c' is already the next page after 'a' (line 12)", "only one page");
}

static void a_page_sequence_that_loops_is_an_error_naming_the_loop(void **state)
{
    (void)state;
    tt_menu *m = NULL;
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load(&m, "tests/data/bad_page_loop.ini", D), EINVAL);
    expect_error(13, "the pages loop: page1 -> page2 -> page1");

    bad(HEAD "next = main\n" /* 7 */);
    expect_error(7, "the pages loop: main -> main");

    /* a loop that the start does not enter is found too, once */
    bad(HEAD "1 = x\n" NODE("x") "next = y\n" NODE("y") "next = z\n" NODE("z")
        "next = y\n" /* 19 */);
    expect_error(19, "the pages loop: y -> z -> y");
    assert_int_equal(tt_diag_count(D, TT_ERROR), 2); /* and y follows both x and z */
}

/* ---- Everything at once ---------------------------------------------------------------------- */

static void every_error_is_reported_not_only_the_first(void **state)
{
    (void)state;
    bad("[tonetree]\nstart = mian\ntries = 0\n"
        "[main]\ntitle = M\n"
        "1 = nowhere\n"
        "5 = main\n"
        "colour = red\n"
        "[b.c]\n");
    expect_error(2, "start goes to 'mian'");
    expect_error(3, "tries = 0");
    expect_error(4, "has no text in en");
    expect_error(6, "key 1 goes to 'nowhere'");
    expect_error(7, "key 5 is the repeat key");
    expect_error(8, "colour is not a key");
    expect_error(9, "'b.c' cannot be a node name");
    assert_int_equal(tt_diag_count(D, TT_ERROR), 7);
}

static void a_load_without_a_diag_list_still_fails_cleanly(void **state)
{
    (void)state;
    tt_menu *m = NULL;
    const char *ini = "[tonetree]\n";
    assert_int_equal(tt_menu_load_mem(&m, NAME, ini, strlen(ini), NULL), EINVAL);
    assert_null(m);
    ini = HEAD;
    assert_int_equal(tt_menu_load_mem(&m, NULL, ini, strlen(ini), NULL), 0);
    tt_menu_free(m);
}

/* ---- Big menus: iniparser reads them a chunk of sections at a time --------------------------- */

/* A menu written line by line, remembering where each line went. */
struct big {
    char *s;
    size_t len, cap;
    int lines; /* complete lines so far */
};

/* Append text (printf-style); returns the line it starts on. */
static int add(struct big *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add(struct big *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int line = b->lines + 1;
    for (int i = 0; i < n; i++)
        b->lines += b->s[b->len + (size_t)i] == '\n';
    b->len += (size_t)n;
    return line;
}

/* [tonetree] is section 0 and node i section i + 1, so a chunk of TT_INI_CHUNK sections ends
 * with node FIRST_OF(k) - 1 and the next chunk starts at the header of node FIRST_OF(k). */
#define FIRST_OF(k) ((k) * TT_INI_CHUNK - 1)

/* 1,000 nodes, 16 chunks: every value and link comes through, whichever chunks it spans. */
static void a_menu_of_many_chunks_loads_with_every_value_and_link(void **state)
{
    (void)state;
    enum { N = 1000 };
    static int header[N];
    struct big b = {0};
    add(&b, "; before the first section: comments go in the first chunk\n#\n\n");
    add(&b, "[tonetree]\nstart = n0\nlanguages = en, es\ntimeout = 5\n\n");
    for (int i = 0; i < N; i++) {
        if (i == FIRST_OF(1)) /* a header continued with \, right where a chunk starts */
            header[i] = add(&b, "[n\\\n%d]\n", i);
        else
            header[i] = add(&b, "[n%d]\n", i);
        add(&b, "title = Title %d\ntitle.es = \"Título %d; es\"\n", i, i);
        if (i == FIRST_OF(2) - 1) /* a value continued with \, in the last node of a chunk */
            add(&b, "text = Text \\\n  %d\ntext.es = Texto %d\n", i, i);
        else
            add(&b, "text = Text %d\ntext.es = Texto %d\n", i, i);
        /* A tree (1, 2), links forward and back across chunks (3, 4), pages among the
         * leaves in fours. */
        if (2 * i + 2 < N)
            add(&b, "1 = n%d\n2 = n%d\n3 = N%d\n", 2 * i + 1, 2 * i + 2, (i + N / 2) % N);
        if (i >= 300 && i < N / 2)
            add(&b, "4 = n%d\n", i - 300);
        if (i >= N / 2 && (i - N / 2) % 4 != 3 && i + 1 < N)
            add(&b, "next = n%d\n", i + 1);
        add(&b, "\n");
    }
    tt_menu *m = NULL;
    tt_diag_clear(D);
    int rc = tt_menu_load_mem(&m, NAME, b.s, b.len, D);
    if (rc)
        dump();
    assert_int_equal(rc, 0);
    assert_int_equal(tt_menu_scan_misses, 0);
    assert_int_equal(tt_menu_node_count(m), N);
    assert_int_equal(m->timeout, 5000);
    char want[64];
    for (int i = 0; i < N; i++) {
        snprintf(want, sizeof(want), "n%d", i);
        int n = tt_menu_find(m, want);
        assert_int_equal(n, i);
        const struct tt_node *nd = &m->nodes[n];
        assert_int_equal(nd->line, header[i]);
        snprintf(want, sizeof(want), "Title %d", i);
        assert_string_equal(nd->title[0], want);
        snprintf(want, sizeof(want), "Título %d; es", i);
        assert_string_equal(nd->title[1], want);
        snprintf(want, sizeof(want), i == FIRST_OF(2) - 1 ? "Text   %d" : "Text %d", i);
        assert_string_equal(nd->text[0], want);
        snprintf(want, sizeof(want), "Texto %d", i);
        assert_string_equal(nd->text[1], want);
        assert_int_equal(nd->choice[1], 2 * i + 2 < N ? 2 * i + 1 : -1);
        assert_int_equal(nd->choice[2], 2 * i + 2 < N ? 2 * i + 2 : -1);
        assert_int_equal(nd->choice[3], 2 * i + 2 < N ? (i + N / 2) % N : -1);
        assert_int_equal(nd->choice[4], i >= 300 && i < N / 2 ? i - 300 : -1);
        bool paged = i >= N / 2 && (i - N / 2) % 4 != 3 && i + 1 < N;
        assert_int_equal(nd->next, paged ? i + 1 : -1);
    }
    tt_menu_free(m);
    free(b.s);
}

/* Messages name their line in the whole file, on either side of a cut. */
static void errors_next_to_a_chunk_boundary_name_their_exact_lines(void **state)
{
    (void)state;
    enum { N = 3 * TT_INI_CHUNK + 8 };
    struct big b = {0};
    add(&b, "; a comment\n");
    int stray = add(&b, "stray = 1\n");
    add(&b, "[tonetree]\nstart = n0\n");
    int nowhere = 0, titel = 0, empty = 0, dotted = 0;
    for (int i = 0; i < N; i++) {
        if (i == FIRST_OF(2))
            empty = add(&b, "[]\n"); /* no cut here: iniparser stays in the section before */
        if (i == FIRST_OF(2) + 5)
            dotted = add(&b, "[step.%d]\n", i);
        else
            add(&b, "[n%d]\n", i);
        if (i == FIRST_OF(1))
            titel = add(&b, "titel = x\n"); /* the first key of a chunk */
        add(&b, "title = t\ntext = t\n");
        if (i + 1 < N)
            add(&b, "1 = n%d\n", i + 1);
        if (i == FIRST_OF(1) - 1)
            nowhere = add(&b, "2 = nowhere\n"); /* the last line of a chunk */
    }
    tt_menu *m = (tt_menu *)1;
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load_mem(&m, NAME, b.s, b.len, D), EINVAL);
    assert_null(m);
    expect_error(stray, "'stray' comes before any [section]");
    expect_error(nowhere, "key 2 goes to 'nowhere', which is not a node");
    expect_error2(titel, "titel is not a key a node can have", "did you mean 'title'?");
    expect_error(empty, "[] has no name");
    expect_error(dotted, "cannot be a node name");
    expect_error(dotted - 1, "key 1 goes to 'n");  /* the link to the renamed node */
    expect_no("INI reader");
    assert_int_equal(tt_diag_count(D, TT_ERROR), 6);
    assert_int_equal(tt_menu_scan_misses, 0);
    free(b.s);
}

/* A [section] started again in a later chunk: the scan reports it, and the keys of both parts
 * are still found (iniparser has put them in two dictionaries). A key given in both has the
 * later value, as in one dictionary: that is the value the messages go by. */
static void a_section_repeated_in_a_later_chunk_is_an_error_and_its_keys_are_found(void **state)
{
    (void)state;
    enum { N = 3 * TT_INI_CHUNK + 8 };
    struct big b = {0};
    add(&b, "[tonetree]\nstart = n0\n");
    int first = 0, again = 0, twice = 0, title = 0, link = 0, link2 = 0;
    for (int i = 0; i < N; i++) {
        int h = add(&b, "[n%d]\n", i);
        if (i == 5) {
            first = h;
            title = add(&b, "title = Five\n"); /* its text comes in the second part */
        } else {
            add(&b, "title = t\ntext = t\n");
        }
        if (i + 1 < N)
            h = add(&b, "1 = n%d\n", i + 1);
        if (i == 5)
            link = h;
        if (i == FIRST_OF(2) + 3) {
            again = add(&b, "[n5]\n");
            add(&b, "text = Five.\n");
            twice = add(&b, "title = Five again\n");
            link2 = add(&b, "1 = nowhere\n");
        }
    }
    tt_menu *m = (tt_menu *)1;
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load_mem(&m, NAME, b.s, b.len, D), EINVAL);
    expect_error2(again, "[n5] was already started on line", "merge");
    char was[32];
    snprintf(was, sizeof(was), "line %d", first);
    expect_error2(again, "[n5] was already started", was);
    snprintf(was, sizeof(was), "first on line %d", title);
    expect_error2(twice, "title is set twice in [n5]", was);
    snprintf(was, sizeof(was), "first on line %d", link);
    expect_error2(link2, "1 is set twice in [n5]", was);
    expect_error(link, "key 1 goes to 'nowhere'");
    expect_no("has no text"); /* text from the second part reached node n5 */
    expect_no("INI reader");
    assert_int_equal(tt_diag_count(D, TT_ERROR), 4);
    assert_int_equal(tt_menu_scan_misses, 0);
    free(b.s);
}

/* A line ending with \ joins the next one, even a [header] where a chunk would start: the
 * header is then part of a value, as iniparser reads the whole file, and no cut is made there. */
static void a_header_joined_to_the_line_before_by_a_backslash_is_no_cut(void **state)
{
    (void)state;
    enum { N = 2 * TT_INI_CHUNK };
    struct big b = {0};
    add(&b, "[tonetree]\nstart = n0\n");
    for (int i = 0; i < N; i++) {
        add(&b, "[n%d]\ntitle = t\n", i);
        if (i + 1 < N)
            add(&b, "1 = n%d\n", i + 1);
        if (i == FIRST_OF(1) - 1)
            add(&b, "text = the last words \\\n[swallowed]\n");
        else
            add(&b, "text = t\n");
    }
    tt_menu *m = NULL;
    tt_diag_clear(D);
    int rc = tt_menu_load_mem(&m, NAME, b.s, b.len, D);
    if (rc)
        dump();
    assert_int_equal(rc, 0);
    assert_int_equal(tt_menu_scan_misses, 0);
    assert_string_equal(m->nodes[FIRST_OF(1) - 1].text[0], "the last words [swallowed]");
    assert_int_equal(tt_menu_find(m, "swallowed"), -1);
    tt_menu_free(m);
    free(b.s);
}

/* "[]" does not start a section in iniparser: it stays in the one before, named by as many of
 * its letters as the header's length less one ("n" after [n62]), so a key after it can replace
 * one of node [n]. That is how the whole file reads; a cut just before "[]" would hide it. */
static void an_empty_header_where_a_chunk_would_start_is_read_as_in_the_whole_file(void **state)
{
    (void)state;
    enum { N = 2 * TT_INI_CHUNK };
    struct big b = {0};
    add(&b, "[tonetree]\nstart = n\n");
    int link = 0, empty = 0;
    for (int i = 0; i < N; i++) {
        if (i == FIRST_OF(1)) {
            empty = add(&b, "[]\n");
            add(&b, "1 = zz\n");
        }
        if (i == 0) {
            add(&b, "[n]\ntitle = t\ntext = t\n");
            link = add(&b, "1 = n1\n");
        } else {
            add(&b, "[n%d]\ntitle = t\ntext = t\n", i);
            if (i + 1 < N)
                add(&b, "1 = n%d\n", i + 1);
        }
    }
    tt_menu *m = (tt_menu *)1;
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load_mem(&m, NAME, b.s, b.len, D), EINVAL);
    expect_error(empty, "[] has no name");
    expect_error(link, "key 1 goes to 'zz', which is not a node");
    assert_int_equal(tt_diag_count(D, TT_ERROR), 2);
    assert_int_equal(tt_menu_scan_misses, 0);
    free(b.s);
}

/* The scan rejects every line iniparser cannot read, so the loader never lets iniparser see
 * them; run it anyway: its messages name the line in the whole file, not in its chunk. */
static void iniparser_errors_in_a_later_chunk_name_their_line_in_the_file(void **state)
{
    (void)state;
    enum { N = 4 * TT_INI_CHUNK };
    char words[1100];
    memset(words, 'a', sizeof(words));
    struct big b = {0};
    add(&b, "[tonetree]\nstart = n0\n");
    int syntax = 0, too_long = 0;
    for (int i = 0; i < N; i++) {
        add(&b, "[n%d]\ntitle = t\ntext = t\n", i);
        if (i == FIRST_OF(2) + 2)
            syntax = add(&b, "just some words\n");
        if (i == FIRST_OF(3) + 1)
            too_long = add(&b, "text.en = %.*s\n", (int)sizeof(words), words);
    }
    struct tt_load ld = {.name = NAME, .diag = D};
    tt_diag_clear(D);
    assert_int_equal(tt_menu_scan(&ld, b.s, b.len), 0);
    assert_true(ld.scan.fatal); /* what the loader goes by: it stops here */
    struct tt_ini *ini = (struct tt_ini *)1;
    int rc = tt_menu_ini_read(&ld, b.s, b.len, &ini);
    unsigned long misses = tt_menu_scan_misses;
    tt_menu_scan_misses = 0; /* each was an error the scan had to foresee */
    assert_int_equal(rc, 0);
    assert_null(ini);
    assert_int_equal(misses, 2);
    tt_menu_msg_flush(&ld);
    tt_menu_scan_free(&ld.scan);
    expect_error2(syntax, "iniparser cannot read this line", "just some words");
    expect_error(syntax, "not a [section], a key = value or a comment"); /* the scan's */
    expect_error(too_long, "too long for the INI reader");
    expect_error(too_long, "this line is 1110 bytes long"); /* the scan's */
    free(b.s);
}

/* ---- Files and bytes that are not menus ------------------------------------------------------ */

static void a_missing_file_or_a_folder_is_reported_with_its_errno(void **state)
{
    (void)state;
    tt_menu *m = NULL;
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load(&m, "tests/data/no-such-menu.ini", D), ENOENT);
    assert_null(m);
    expect_error(0, "cannot open the menu");
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load(&m, "tests/data", D), EISDIR);
    expect_error(0, "a folder");
}

/* A FIFO no one writes to would make open() wait for ever, and /dev/zero never ends: neither
 * is a menu, and saying so must take no time. alarm() ends the test if the load hangs. */
static void a_fifo_or_a_device_named_as_a_menu_is_refused_at_once(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char fifo[600], link[600];
    snprintf(fifo, sizeof(fifo), "%s/menu.ini", dir);
    snprintf(link, sizeof(link), "%s/zero.ini", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(symlink("/dev/zero", link), 0);
    const char *const paths[] = {fifo, "/dev/zero", link, "/dev/null"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        tt_menu *m = (tt_menu *)1;
        tt_diag_clear(D);
        alarm(5);
        assert_int_equal(tt_menu_load(&m, paths[i], D), ENODEV);
        alarm(0);
        assert_null(m);
        expect_error(0, "is a FIFO, a socket or a device, not a regular file");
    }
    tl_rmtree(dir);
    free(dir);
}

static void a_file_over_8_mib_on_disk_is_refused_before_it_is_read(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char path[600];
    snprintf(path, sizeof(path), "%s/big.ini", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    /* A sparse file: 9 MiB of nothing costs no disk. */
    assert_int_equal(ftruncate(fileno(f), 9 << 20), 0);
    fclose(f);
    tt_menu *m = (tt_menu *)1;
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load(&m, path, D), EINVAL);
    assert_null(m);
    expect_error(0, "at most 8 MiB");
    tl_rmtree(dir);
    free(dir);
}

static void an_empty_file_is_an_error(void **state)
{
    (void)state;
    bad("");
    expect_error(0, "the file is empty");
    bad("\n\n; only a comment\n");
    expect_error(0, "no [tonetree] section");
}

static void a_nul_byte_is_an_error_naming_its_line(void **state)
{
    (void)state;
    tt_menu *m = (tt_menu *)1;
    static const char ini[] = "[tonetree]\nstart = main\ntitle = a\0b\n";
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load_mem(&m, NAME, ini, sizeof(ini) - 1, D), EINVAL);
    assert_null(m);
    expect_error(3, "NUL byte");
}

static void a_file_saved_as_utf16_is_an_error_with_or_without_its_byte_order_mark(void **state)
{
    (void)state;
    tt_menu *m = NULL;
    static const char u16[] = "\xFF\xFE[\0t\0";
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load_mem(&m, NAME, u16, sizeof(u16) - 1, D), EINVAL);
    expect_error(1, "this file is UTF-16: save it as UTF-8");
    /* Big-endian, and with no mark at all: the NUL in every other byte gives it away, where
     * "a NUL byte" would send the writer looking for a word processor document. */
    static const char be[] = "\xFE\xFF\0[\0t";
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load_mem(&m, NAME, be, sizeof(be) - 1, D), EINVAL);
    expect_error(1, "this file is UTF-16");
    static const char bare[] = "[\0t\0o\0n\0e\0]\0\n\0s\0t\0";
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load_mem(&m, NAME, bare, sizeof(bare) - 1, D), EINVAL);
    expect_error(1, "this file is UTF-16: save it as UTF-8");
    expect_no("NUL byte");
}

static void a_utf8_byte_order_mark_is_skipped_and_lines_keep_their_numbers(void **state)
{
    (void)state;
    tt_menu *m = ok("\xEF\xBB\xBF" HEAD);
    assert_int_equal(tt_menu_find(m, "main"), 0);
    tt_menu_free(m);
    bad("\xEF\xBB\xBF" HEAD "1 = nowhere\n" /* 7 */);
    expect_error(7, "'nowhere'");
    /* Only at the very start: elsewhere it is no mark but a stray character, and the settings
     * section's name would not be [tonetree]. */
    bad("\n\xEF\xBB\xBF" HEAD);
}

static void control_characters_in_words_are_refused_with_their_line_and_column(void **state)
{
    (void)state;
    /* An escape sequence in a title would clear the kiosk screen, or worse. */
    bad(HEAD "[x]\ntitle = the \x1B[2Jsteps\n" /* 8 */ "text = Fine.\n");
    expect_error2(8, "escape character (ESC)", "column 13");
    bad(HEAD "[x]\ntitle = x\ntext = Ring\x07 the bell.\n" /* 9 */);
    expect_error2(9, "U+0007", "delete it");
    bad(HEAD "[x]\ntitle = x\ntext = The end\x7F.\n" /* 9 */);
    expect_error(9, "U+007F");
    /* C1 controls, written as UTF-8 (U+0085 and U+009B, the one-byte CSI). */
    bad(HEAD "[x]\ntitle = x\ntext = Next\xC2\x85line.\n" /* 9 */);
    expect_error(9, "C1 control character U+0085");
    bad(HEAD "[x]\ntitle = \xC2\x9B" "2J\n" /* 8 */ "text = x\n");
    expect_error2(8, "U+009B", "column 9");
    /* A CR inside a line writes over its start on a screen; at a line's end it is a Windows
     * line end, which is fine. */
    bad(HEAD "[x]\ntitle = Safe\rDanger\n" /* 8 */ "text = x\n");
    expect_error2(8, "carriage return", "column 13");
    tt_menu_free(ok("[tonetree]\r\nstart = main\r\n[main]\r\ntitle = Main\r\ntext = Hi.\r\n"));
    /* Tabs are spaces to the reader. */
    tt_menu_free(ok(HEAD "1 = x\n[x]\ntitle\t=\tx\ntext = a\tb\n"));
}

static void direction_controls_that_reorder_a_screen_are_refused(void **state)
{
    (void)state;
    /* U+202E shows "Press 1 to stay" on a screen in another order than the voice says it. */
    bad(HEAD "[x]\ntitle = x\ntext = Call \xE2\x80\xAE" "1 1 9\n" /* 9 */);
    expect_error2(9, "U+202E RIGHT-TO-LEFT OVERRIDE", "another order than they are spoken");
    expect_error(9, "column 13");
    static const char *const controls[] = {
        "\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD",
        "\xE2\x81\xA6", "\xE2\x81\xA7", "\xE2\x81\xA8", "\xE2\x81\xA9",
        "\xE2\x80\xA8", "\xE2\x80\xA9",
    };
    for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
        char ini[256];
        snprintf(ini, sizeof(ini), HEAD "[x]\ntitle = a%sb\n" /* 8 */ "text = x\n", controls[i]);
        bad(ini);
        expect_error(8, "the invisible character U+");
    }
    /* Right-to-left letters themselves are words like any other (Hebrew, Arabic). */
    tt_menu_free(ok(HEAD "1 = x\n[x]\ntitle = \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D\ntext = x\n"));
}

static void text_that_is_not_utf8_names_the_first_bad_line(void **state)
{
    (void)state;
    tt_menu *m = NULL;
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load(&m, "tests/data/bad_latin1.ini", D), EINVAL);
    expect_error2(6, "not valid UTF-8", "and 1 more line");
    /* overlong forms and surrogates are not UTF-8 either */
    bad(HEAD "title.x = \xC0\xAF\n");
    expect_error(7, "not valid UTF-8");
    bad(HEAD "\n\n; \xED\xA0\x80\n" /* 9 */);
    expect_error(9, "not valid UTF-8");
}

static void a_file_over_8_mib_is_an_error(void **state)
{
    (void)state;
    size_t len = 10u << 20;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, 'a', len);
    tt_menu *m = NULL;
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load_mem(&m, NAME, big, len, D), EINVAL);
    expect_error(0, "at most 8 MiB");
    free(big);
}

static void a_5000_byte_line_is_an_error_not_a_crash(void **state)
{
    (void)state;
    char *ini = malloc(6000);
    assert_non_null(ini);
    int n = snprintf(ini, 6000, "[tonetree]\nstart = main\n[main]\ntitle = ");
    memset(ini + n, 'x', 5000);
    strcpy(ini + n + 5000, "\ntext = t\n");
    bad(ini);
    expect_error(4, "bytes long");
    free(ini);
}

static void odd_little_files_are_errors_not_crashes(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "[", "]", "=", "\\", "[]", "[tonetree]", "[tonetree]\nstart=\n", "\n\n\n",
        "[tonetree]\nstart = main\n[main]\n1 = main\n2 = main\n", "#", ";", "a=b",
        "[tonetree]\nstart = a\n[a]\nnext = a\n", "\"", "[x]\n=\n", "[tonetree\n",
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(*inputs); i++) {
        bad(inputs[i]);
        assert_true(tt_diag_len(D) > 0);
    }
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1664525u + 1013904223u;
    return rnd_state >> 8;
}

static void random_binary_is_rejected_with_a_message(void **state)
{
    (void)state;
    char *buf = malloc(65536);
    assert_non_null(buf);
    for (int round = 0; round < 20; round++) {
        size_t len = 1 + rnd() % 65536;
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)rnd();
        tt_menu *m = NULL;
        tt_diag_clear(D);
        assert_int_equal(tt_menu_load_mem(&m, NAME, buf, len, D), EINVAL);
        assert_null(m);
        assert_true(tt_diag_len(D) > 0);
    }
    free(buf);
}

/* Random menus from INI-shaped pieces: whatever the mix, the answer is a menu or EINVAL with
 * an error, never a crash (run under the sanitizers by `make asan`), and iniparser never
 * reads a line otherwise than the line scan expects. */
static void random_ini_shaped_text_gives_a_menu_or_errors(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "[tonetree]\n", "start = a\n", "[a]\n", "[b]\n", "[A]\n", "title = t\n", "text = t\n",
        "1 = b\n", "2 = a\n", "5 = a\n", "next = b\n", "next = a\n", "# = a\n", "\\\n", "=\n",
        "languages = en, es\n", "title.es = t\n", "text.es = \"t;#\"\n", "key.help = 1\n",
        "text = a ; b\n", "x = 'y\n", "[a\n", "\xC3\n", "gap = 9\n", "tries = 2\n", "\n", " ",
        "prev = a\n", "* = b\n", "[b]\nnext = b\n", "1 = zz\n",
    };
    char buf[4096];
    int loaded = 0;
    for (int round = 0; round < 400; round++) {
        size_t len = 0;
        int parts = (int)(rnd() % 24);
        for (int p = 0; p < parts; p++) {
            const char *s = pieces[rnd() % (sizeof(pieces) / sizeof(*pieces))];
            size_t n = strlen(s);
            if (len + n >= sizeof(buf))
                break;
            memcpy(buf + len, s, n);
            len += n;
        }
        tt_menu *m = NULL;
        tt_diag_clear(D);
        int rc = tt_menu_load_mem(&m, NAME, buf, len, D);
        assert_int_equal(tt_menu_scan_misses, 0); /* the scan read each line as iniparser did */
        if (rc == 0) {
            assert_non_null(m);
            assert_int_equal(tt_diag_count(D, TT_ERROR), 0);
            assert_true(m->start >= 0 && (size_t)m->start < m->nnodes);
            loaded++;
            tt_menu_free(m);
        } else {
            assert_int_equal(rc, EINVAL);
            assert_null(m);
            assert_true(tt_diag_count(D, TT_ERROR) > 0);
        }
    }
    (void)loaded;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Thousands of broken links must not make "did you mean" compare every pair: the load stays
 * fast, and the first links still get their suggestion. */
static void a_menu_full_of_broken_links_still_loads_in_bounded_time(void **state)
{
    (void)state;
    enum { N = 4000 };
    size_t cap = (size_t)N * 80 + 64, len = 0;
    char *ini = malloc(cap);
    assert_non_null(ini);
    len += (size_t)snprintf(ini, cap, "[tonetree]\nstart = node0\n");
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(ini + len, cap - len, "[node%d]\ntitle = t\ntext = t\n1 = nod%d\n",
                                i, i);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tt_menu *m = NULL;
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load_mem(&m, NAME, ini, len, D), EINVAL);
    double s = seconds_since(&t0);
    expect_error(6, "key 1 goes to 'nod0', which is not a node (did you mean 'node0'?)");
    assert_int_equal(tt_diag_count(D, TT_ERROR), N);
    assert_true(s < 10.0); /* iniparser's own quadratic load is most of it */
    free(ini);
}

static void accessors_are_safe_on_nothing(void **state)
{
    (void)state;
    assert_int_equal(tt_menu_node_count(NULL), 0);
    assert_int_equal(tt_menu_find(NULL, "x"), -1);
    assert_null(tt_menu_node_id(NULL, 0));
    assert_int_equal(tt_menu_lang_count(NULL), 0);
    assert_null(tt_menu_lang(NULL, 0));
    assert_int_equal(tt_menu_lang_index(NULL, "en"), -1);
    assert_null(tt_menu_voice(NULL, 0));
    assert_null(tt_menu_prompts_dir(NULL));
    tt_menu_free(NULL);
    tt_menu *m = ok(HEAD);
    assert_null(tt_menu_node_id(m, 1));
    assert_null(tt_menu_node_id(m, -1));
    assert_null(tt_menu_voice(m, 1));
    assert_int_equal(
        tt_menu_find(m, "a-name-that-is-longer-than-sixty-four-characters-cannot-be-a-node"), -1);
    tt_menu_free(m);
}

static int setup(void **state)
{
    (void)state;
    D = tt_diag_new();
    return D ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tt_diag_free(D);
    return 0;
}

static void a_transfer_address_must_be_sip_sips_or_tel_and_plain(void **state)
{
    (void)state;
    tt_menu *m = ok(HEAD "transfer = sip:clerk@pbx.court.example\n");
    assert_string_equal(m->nodes[0].transfer, "sip:clerk@pbx.court.example");
    tt_menu_free(m);
    m = ok(HEAD "transfer = TEL:+15551234567\n");
    tt_menu_free(m);
    bad(HEAD "transfer = clerk@pbx\n"); /* 7 */
    expect_error(7, "give the address of a person");
    bad(HEAD "transfer = sip:\n");
    expect_error(7, "give the address of a person");
    bad(HEAD "transfer = sip:clerk@pbx>\\r\\nX-Evil: 1\n");
    expect_error(7, "no spaces, quotes or angle brackets");
    bad(HEAD "transfer = \"sip:a b\"\n");
    expect_error(7, "no spaces, quotes or angle brackets");
}

static void a_transfer_node_cannot_take_digits_or_be_a_page(void **state)
{
    (void)state;
    bad(HEAD "transfer = sip:clerk@pbx\n" /* 7 */ "input = digits\n" /* 8 */
             "lookup = /bin/true\n");
    expect_error(7, "cannot also transfer");
    bad(HEAD "transfer = sip:clerk@pbx\n" /* 7 */ "next = two\n" /* 8 */
        "[two]\ntitle = Two\ntext = Two.\n");
    expect_error(8, "cannot be a page with a next page");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_transfer_address_must_be_sip_sips_or_tel_and_plain),
        cmocka_unit_test(a_transfer_node_cannot_take_digits_or_be_a_page),
        cmocka_unit_test(a_complete_menu_loads_with_its_nodes_links_languages_and_settings),
        cmocka_unit_test(settings_left_out_take_their_defaults),
        cmocka_unit_test(other_languages_get_an_espeak_voice_and_lowercase_codes),
        cmocka_unit_test(the_prompts_folder_is_found_from_the_menu_file_folder),
        cmocka_unit_test(a_title_given_as_title_en_counts_for_the_default_language),
        cmocka_unit_test(a_comment_after_a_one_word_setting_is_allowed),
        cmocka_unit_test(nodes_ids_are_lowercased_and_links_match_any_case),
        cmocka_unit_test(an_unreachable_node_is_a_warning_and_the_menu_still_loads),
        cmocka_unit_test(nodes_reached_only_through_pages_and_prev_are_reachable),
        cmocka_unit_test(more_than_four_choices_is_a_warning),
        cmocka_unit_test(a_key_to_a_missing_node_names_the_line_and_suggests_the_closest_id),
        cmocka_unit_test(next_and_start_to_missing_nodes_are_errors_with_suggestions),
        cmocka_unit_test(a_link_with_no_near_name_gets_no_suggestion),
        cmocka_unit_test(a_link_to_the_settings_section_says_it_is_not_a_node),
        cmocka_unit_test(an_empty_link_is_an_error),
        cmocka_unit_test(a_missing_settings_section_or_start_is_an_error),
        cmocka_unit_test(a_choice_on_an_engine_key_says_what_the_key_does),
        cmocka_unit_test(a_moved_engine_key_frees_its_digit_and_takes_the_new_one),
        cmocka_unit_test(star_is_not_a_choice),
        cmocka_unit_test(hash_as_a_choice_is_an_error_though_iniparser_reads_a_comment),
        cmocka_unit_test(comment_lines_that_merely_start_with_hash_equals_are_fine),
        cmocka_unit_test(a_choice_key_must_be_one_digit),
        cmocka_unit_test(engine_keys_must_be_a_keypad_key_and_all_different),
        cmocka_unit_test(language_keys_default_to_8_then_7_and_down),
        cmocka_unit_test(language_keys_can_be_set_and_free_their_default_digits),
        cmocka_unit_test(a_choice_on_a_language_key_is_a_reserved_key_error),
        cmocka_unit_test(two_languages_on_one_key_are_refused),
        cmocka_unit_test(a_language_key_on_an_engine_key_is_refused),
        cmocka_unit_test(safety_names_the_node_help_offers_first),
        cmocka_unit_test(a_short_text_is_kept_in_every_language),
        cmocka_unit_test(a_short_text_in_one_language_only_is_a_missing_translation),
        cmocka_unit_test(say_as_marks_are_written_out_for_the_voice_and_kept_for_the_eye),
        cmocka_unit_test(a_mark_that_cannot_be_read_is_an_error_at_its_line),
        cmocka_unit_test(unknown_keys_are_errors_that_suggest_the_closest_known_key),
        cmocka_unit_test(prev_is_an_error_because_it_comes_from_next),
        cmocka_unit_test(settings_in_a_node_and_node_keys_in_the_settings_are_errors),
        cmocka_unit_test(a_key_before_any_section_is_an_error),
        cmocka_unit_test(a_duplicate_key_names_both_lines),
        cmocka_unit_test(a_repeated_section_names_both_lines),
        cmocka_unit_test(an_unquoted_semicolon_or_hash_in_words_is_an_error_with_the_fix),
        cmocka_unit_test(quoted_words_are_kept_whole),
        cmocka_unit_test(words_after_a_closing_quote_or_an_unclosed_quote_are_errors),
        cmocka_unit_test(continued_lines_are_joined_and_a_dangling_backslash_is_an_error),
        cmocka_unit_test(a_line_longer_than_iniparser_reads_is_an_error_saying_what_to_do),
        cmocka_unit_test(iniparser_syntax_errors_become_file_and_line_errors),
        cmocka_unit_test(a_message_quoting_a_line_quotes_that_line_and_nothing_of_the_one_before),
        cmocka_unit_test(node_names_must_be_safe_file_names),
        cmocka_unit_test(a_missing_title_or_text_names_the_node_its_line_and_the_language),
        cmocka_unit_test(a_suffix_for_a_language_the_menu_does_not_have_is_an_error),
        cmocka_unit_test(the_menu_title_once_given_is_needed_in_every_language),
        cmocka_unit_test(language_codes_are_checked),
        cmocka_unit_test(ten_languages_are_rejected_and_seven_are_fine),
        cmocka_unit_test(voices_name_a_known_engine_and_voice),
        cmocka_unit_test(timing_out_of_range_or_not_a_number_is_an_error),
        cmocka_unit_test(a_page_may_follow_only_one_page),
        cmocka_unit_test(a_page_sequence_that_loops_is_an_error_naming_the_loop),
        cmocka_unit_test(every_error_is_reported_not_only_the_first),
        cmocka_unit_test(a_load_without_a_diag_list_still_fails_cleanly),
        cmocka_unit_test(a_menu_of_many_chunks_loads_with_every_value_and_link),
        cmocka_unit_test(errors_next_to_a_chunk_boundary_name_their_exact_lines),
        cmocka_unit_test(a_section_repeated_in_a_later_chunk_is_an_error_and_its_keys_are_found),
        cmocka_unit_test(a_header_joined_to_the_line_before_by_a_backslash_is_no_cut),
        cmocka_unit_test(an_empty_header_where_a_chunk_would_start_is_read_as_in_the_whole_file),
        cmocka_unit_test(iniparser_errors_in_a_later_chunk_name_their_line_in_the_file),
        cmocka_unit_test(a_missing_file_or_a_folder_is_reported_with_its_errno),
        cmocka_unit_test(a_fifo_or_a_device_named_as_a_menu_is_refused_at_once),
        cmocka_unit_test(a_file_over_8_mib_on_disk_is_refused_before_it_is_read),
        cmocka_unit_test(an_empty_file_is_an_error),
        cmocka_unit_test(a_nul_byte_is_an_error_naming_its_line),
        cmocka_unit_test(a_file_saved_as_utf16_is_an_error_with_or_without_its_byte_order_mark),
        cmocka_unit_test(a_utf8_byte_order_mark_is_skipped_and_lines_keep_their_numbers),
        cmocka_unit_test(control_characters_in_words_are_refused_with_their_line_and_column),
        cmocka_unit_test(direction_controls_that_reorder_a_screen_are_refused),
        cmocka_unit_test(text_that_is_not_utf8_names_the_first_bad_line),
        cmocka_unit_test(a_file_over_8_mib_is_an_error),
        cmocka_unit_test(a_5000_byte_line_is_an_error_not_a_crash),
        cmocka_unit_test(odd_little_files_are_errors_not_crashes),
        cmocka_unit_test(random_binary_is_rejected_with_a_message),
        cmocka_unit_test(random_ini_shaped_text_gives_a_menu_or_errors),
        cmocka_unit_test(a_menu_full_of_broken_links_still_loads_in_bounded_time),
        cmocka_unit_test(accessors_are_safe_on_nothing),
    };
    return cmocka_run_group_tests_name("menu loader", tests, setup, teardown);
}
