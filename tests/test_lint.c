/*
 * Tests of `tonetree check`'s rules: one small broken menu per rule in tests/data/lint/, each
 * giving exactly one finding, at the line its first comment names, with the rule's id. Rules
 * the loader applies are checked through the loader (the menu does not load, or loads with a
 * warning); the others through tt_lint. Recordings are made by the tests in a fresh folder.
 * Then the edges of the rules that guess from words ("press 3") and from the shape of the tree
 * (circles, depth), the shipped guide, and the machine-readable output.
 */
#include <errno.h>
#include <math.h>
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
#include <sndfile.h>

#include "base/diag.h"
#include "core/menu.h"
#include "testlib.h"
#include "tools/lint.h"

#define DATA "tests/data/lint/"
#define HANG_SECONDS 60

static tt_diag *D;

static void dump(void)
{
    tt_diag_print_rules(D, stderr);
}

/* ---- Recordings the tests make --------------------------------------------------------------- */

/* A tone, so that the recording is not silent (the prompt store refuses silence). */
static void record(const char *dir, const char *name, int rate, double seconds)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/en", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof(path), "%s/en/%s", dir, name);
    size_t n = (size_t)(rate * seconds);
    int16_t *pcm = malloc((n ? n : 1) * sizeof(*pcm));
    assert_non_null(pcm);
    for (size_t i = 0; i < n; i++)
        pcm[i] = (int16_t)((i / 8) % 2 ? 3000 : -3000);
    tl_write_wav(path, pcm, n, rate);
    free(pcm);
}

static void write_bytes(const char *dir, const char *name, const char *bytes)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/en", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof(path), "%s/en/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(bytes, f);
    fclose(f);
}

static void rec_none(const char *dir)
{
    (void)dir;
}

static void rec_text(const char *dir)
{
    write_bytes(dir, "main.wav", "This is a note, not a recording.\n");
}

static void rec_6000hz(const char *dir)
{
    record(dir, "main.wav", 6000, 2.0);
}

static void rec_click(const char *dir)
{
    record(dir, "main.wav", 16000, 0.1);
}

static void rec_ok(const char *dir)
{
    record(dir, "main.wav", 16000, 2.0);
}

static void rec_two(const char *dir)
{
    record(dir, "main.wav", 16000, 2.0);
    record(dir, "main.mp3", 16000, 2.0); /* never opened: the WAV comes first */
}

static void rec_capitals(const char *dir)
{
    record(dir, "Main.WAV", 16000, 2.0);
}

static void en_path(const char *dir, const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/en", dir);
    mkdir(path, 0777);
    snprintf(path, size, "%s/en/%s", dir, name);
}

static void rec_fifo(const char *dir)
{
    char path[4096];
    en_path(dir, "main.wav", path, sizeof(path));
    assert_int_equal(mkfifo(path, 0600), 0);
}

/* Keep the first part of a file, as a copy or an export that stopped part way leaves it. */
static void cut(const char *path, double keep)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, (off_t)((double)st.st_size * keep)), 0);
}

static void rec_cut(const char *dir)
{
    char path[4096];
    record(dir, "main.wav", 16000, 2.0);
    en_path(dir, "main.wav", path, sizeof(path));
    cut(path, 0.5);
}

/* Five minutes at 768 kHz, mono 16-bit: the header's sizes say so, and the file is as long,
 * but a hole after its first second costs no disk. */
static void rec_huge(const char *dir)
{
    char path[4096];
    record(dir, "main.wav", 768000, 1.0);
    en_path(dir, "main.wav", path, sizeof(path));
    uint64_t bytes = (uint64_t)768000 * 300 * 2;
    uint8_t le[4];
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    for (int b = 0; b < 4; b++)
        le[b] = (uint8_t)((bytes + 36) >> (8 * b));
    assert_int_equal(fseek(f, 4, SEEK_SET), 0);
    assert_int_equal(fwrite(le, 1, 4, f), 4);
    for (int b = 0; b < 4; b++)
        le[b] = (uint8_t)(bytes >> (8 * b));
    assert_int_equal(fseek(f, 40, SEEK_SET), 0);
    assert_int_equal(fwrite(le, 1, 4, f), 4);
    assert_int_equal(ftruncate(fileno(f), (off_t)(44 + bytes)), 0);
    assert_int_equal(fclose(f), 0);
}

/* ---- One broken menu per rule ---------------------------------------------------------------- */

struct rule_case {
    const char *name; /* the test's name: what the rule catches */
    const char *file;
    int line;
    const char *rule;
    enum tt_severity sev;
    bool refused;                        /* a loader error: the menu does not load */
    void (*recordings)(const char *dir); /* NULL: recordings are not looked at */
    bool expect_recordings;
};

static const struct rule_case rule_cases[] = {
    {"a key to no node is dangling-key, at the key", "dangling-key.ini", 10, "dangling-key",
     TT_ERROR, true, NULL, false},
    {"a choice on the repeat key is reserved-key, at the key", "reserved-key.ini", 10,
     "reserved-key", TT_ERROR, true, NULL, false},
    {"a digit of an input node used as a choice is input-key, at the choice", "input-key.ini",
     15, "input-key", TT_ERROR, true, NULL, false},
    {"a transfer on a node that takes digits is transfer, at the transfer", "transfer.ini", 16,
     "transfer", TT_ERROR, true, NULL, false},
    {"pages that come round again are page-loop, at the next that closes it", "page-loop.ini",
     19, "page-loop", TT_ERROR, true, NULL, false},
    {"two pages with one next page are page-shared, at the second", "page-shared.ini", 21,
     "page-shared", TT_ERROR, true, NULL, false},
    {"a node with no Spanish text is missing-translation, at its section",
     "missing-translation.ini", 15, "missing-translation", TT_ERROR, true, NULL, false},
    {"a node with no text is missing-text, at its section", "missing-text.ini", 11,
     "missing-text", TT_ERROR, true, NULL, false},
    {"an empty text is blank-text, found by the loader", "blank-text-empty.ini", 13,
     "blank-text", TT_ERROR, true, NULL, false},
    {"a text of only dots is blank-text, found by the linter", "blank-text.ini", 13,
     "blank-text", TT_ERROR, false, NULL, false},
    {"a node nobody reaches is unreachable-node, at its section", "unreachable-node.ini", 15,
     "unreachable-node", TT_WARNING, false, NULL, false},
    {"five choices are too-many-choices, at the section", "too-many-choices.ini", 7,
     "too-many-choices", TT_WARNING, false, NULL, false},
    {"a key no node may have is menu-format, at the key", "menu-format.ini", 9, "menu-format",
     TT_ERROR, true, NULL, false},
    {"two menus that lead only to each other are trapped-cycle, at the link back",
     "trapped-cycle.ini", 25, "trapped-cycle", TT_WARNING, false, NULL, false},
    {"choices 1, 2 and 4 are choice-gap, at the 4", "choice-gap.ini", 11, "choice-gap",
     TT_WARNING, false, NULL, false},
    {"'press 3' on a node with no 3 is press-missing-key, at the text", "press-missing-key.ini",
     8, "press-missing-key", TT_ERROR, false, NULL, false},
    {"'press 1' on a node with a 1 is press-in-text, at the text", "press-in-text.ini", 8,
     "press-in-text", TT_WARNING, false, NULL, false},
    {"two choices titled alike are duplicate-title, at the second", "duplicate-title.ini", 10,
     "duplicate-title", TT_WARNING, false, NULL, false},
    {"a hundred words are prompt-too-long, at the text", "prompt-too-long.ini", 8,
     "prompt-too-long", TT_WARNING, false, NULL, false},
    {"nine choices from the start are node-too-deep, at the node", "node-too-deep.ini", 57,
     "node-too-deep", TT_WARNING, false, NULL, false},
    {"no recording, when recordings are expected, is recording-missing, at the text",
     "recording-missing.ini", 9, "recording-missing", TT_WARNING, false, rec_none, true},
    {"a recording that is not audio is recording-unreadable, at the text",
     "recording-unreadable.ini", 9, "recording-unreadable", TT_WARNING, false, rec_text, false},
    {"a recording at 6000 Hz is recording-rate, at the text", "recording-rate.ini", 9,
     "recording-rate", TT_WARNING, false, rec_6000hz, false},
    {"a recording of 0.1 s is recording-length, at the text", "recording-length.ini", 9,
     "recording-length", TT_WARNING, false, rec_click, false},
    {"a recording with a text of no words is recording-no-text, at the text",
     "recording-no-text.ini", 9, "recording-no-text", TT_ERROR, false, rec_ok, false},
    {"main.wav and main.mp3 are recording-duplicate, at the text", "recording-duplicate.ini", 9,
     "recording-duplicate", TT_WARNING, false, rec_two, false},
    {"Main.WAV for node main is recording-misnamed, at the text", "recording-misnamed.ini", 9,
     "recording-misnamed", TT_WARNING, false, rec_capitals, false},
    {"a FIFO named as a recording is recording-not-a-file, at the text, without waiting",
     "recording-not-a-file.ini", 9, "recording-not-a-file", TT_WARNING, false, rec_fifo, true},
    {"a WAV with half its audio is recording-cut-short, at the text", "recording-cut-short.ini",
     9, "recording-cut-short", TT_WARNING, false, rec_cut, false},
    {"five minutes at 768 kHz is recording-too-big, at the text", "recording-too-big.ini", 9,
     "recording-too-big", TT_WARNING, false, rec_huge, false},
};

/* Load a menu file and, if it loads, lint it: every message ends up in D. */
static int check_file(const char *path, const struct tt_lint_opts *o)
{
    tt_menu *m = NULL;
    tt_diag_clear(D);
    int err = tt_menu_load(&m, path, D);
    if (!err)
        err = tt_lint(m, o, D);
    tt_menu_free(m);
    return err;
}

static void one_finding_per_broken_menu(void **state)
{
    const struct rule_case *c = *state;
    char path[256];
    snprintf(path, sizeof(path), DATA "%s", c->file);
    char *dir = c->recordings ? tl_tmpdir() : NULL;
    if (dir)
        c->recordings(dir);
    struct tt_lint_opts o = {.prompts_dir = dir, .expect_recordings = c->expect_recordings};
    alarm(HANG_SECONDS); /* a recording that is a FIFO must not make the checker wait */
    int err = check_file(path, &o);
    alarm(0);
    /* The loader's errors refuse the menu; its warnings and the linter's findings do not. */
    if (err != (c->refused ? EINVAL : 0)) {
        dump();
        fail_msg("%s: expected %d, got %d", path, c->refused ? EINVAL : 0, err);
    }
    const struct tt_diag_msg *msg = tt_diag_get(D, 0);
    if (tt_diag_len(D) != 1 || msg->line != c->line || msg->sev != c->sev || !msg->rule ||
        strcmp(msg->rule, c->rule) || strcmp(msg->file, path)) {
        dump();
        fail_msg("expected exactly one %s at %s:%d [%s]",
                 c->sev == TT_ERROR ? "error" : "warning", path, c->line, c->rule);
    }
    if (dir) {
        tl_rmtree(dir);
        free(dir);
    }
}

/* ---- The good cases -------------------------------------------------------------------------- */

static void a_clean_menu_gets_no_message_at_all(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    struct tt_lint_opts o = {.prompts_dir = dir};
    assert_int_equal(check_file(DATA "ok.ini", &o), 0);
    if (tt_diag_len(D)) {
        dump();
        fail_msg("ok.ini should lint clean");
    }
    tl_rmtree(dir);
    free(dir);
}

static void a_recording_that_fits_its_text_gets_no_message(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    rec_ok(dir); /* 2 s for "This line explains court fees." (about 1.7 s) */
    struct tt_lint_opts o = {.prompts_dir = dir, .expect_recordings = true};
    assert_int_equal(check_file(DATA "recording-missing.ini", &o), 0);
    if (tt_diag_len(D)) {
        dump();
        fail_msg("a fitting recording should raise nothing");
    }
    tl_rmtree(dir);
    free(dir);
}

static void expected_recordings_are_missing_once_per_node_and_language(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    struct tt_lint_opts o = {.prompts_dir = dir, .expect_recordings = true};
    assert_int_equal(check_file(DATA "ok.ini", &o), 0);
    assert_int_equal(tt_diag_len(D), 6 * 2); /* 6 nodes, English and Spanish */
    for (size_t i = 0; i < tt_diag_len(D); i++)
        assert_string_equal(tt_diag_get(D, i)->rule, "recording-missing");
    tl_rmtree(dir);
    free(dir);
}

static void the_shipped_guide_has_no_errors(void **state)
{
    (void)state;
    tt_menu *m = NULL;
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load(&m, "menus/no-contact-order.ini", D), 0);
    struct tt_lint_opts o = {.prompts_dir = tt_menu_prompts_dir(m)};
    assert_int_equal(tt_lint(m, &o, D), 0);
    if (tt_diag_len(D)) {
        fprintf(stderr, "the shipped guide's warnings:\n");
        dump();
    }
    assert_int_equal(tt_diag_count(D, TT_ERROR), 0);
    tt_menu_free(m);
}

static void the_loader_keeps_the_line_of_every_key_of_a_node(void **state)
{
    (void)state;
    tt_menu *m = NULL;
    tt_diag_clear(D);
    assert_int_equal(tt_menu_load(&m, DATA "ok.ini", D), 0);
    const struct tt_node *main_ = &m->nodes[tt_menu_find(m, "main")];
    assert_int_equal(main_->line, 10);
    assert_int_equal(main_->title_line[0], 11);
    assert_int_equal(main_->title_line[1], 12);
    assert_int_equal(main_->text_line[0], 13);
    assert_int_equal(main_->text_line[1], 14);
    assert_int_equal(main_->choice_line[1], 15);
    assert_int_equal(main_->choice_line[3], 17);
    assert_int_equal(main_->choice_line[4], 0);
    assert_int_equal(main_->next_line, 0);
    assert_int_equal(m->nodes[tt_menu_find(m, "waiver")].next_line, 30);
    tt_menu_free(m);
}

/* ---- Menus in memory, for the edges of each rule --------------------------------------------- */

#define HEAD "[tonetree]\nstart = main\n\n"

static int lint_str(const char *ini, const struct tt_lint_opts *o)
{
    tt_menu *m = NULL;
    tt_diag_clear(D);
    int err = tt_menu_load_mem(&m, "inline.ini", ini, strlen(ini), D);
    if (err) {
        dump();
        fail_msg("the menu did not load (%d)", err);
    }
    tt_diag_clear(D); /* the loader's own warnings are not what these tests look at */
    err = tt_lint(m, o, D);
    tt_menu_free(m);
    return err;
}

static size_t count_rule(const char *rule)
{
    size_t n = 0;
    for (size_t i = 0; i < tt_diag_len(D); i++)
        n += tt_diag_get(D, i)->rule && !strcmp(tt_diag_get(D, i)->rule, rule);
    return n;
}

static void expect_rule(const char *rule, int line, const char *words)
{
    for (size_t i = 0; i < tt_diag_len(D); i++) {
        const struct tt_diag_msg *m = tt_diag_get(D, i);
        if (m->rule && !strcmp(m->rule, rule) && m->line == line &&
            (!words || strstr(m->text, words)))
            return;
    }
    dump();
    fail_msg("no [%s] on line %d%s%s", rule, line, words ? " saying " : "", words ? words : "");
}

static void expect_nothing(void)
{
    if (tt_diag_len(D)) {
        dump();
        fail_msg("expected no findings");
    }
}

/* A node 'main' with choices 1 and 2 and this text (line 6). */
static void lint_text(const char *text)
{
    char ini[2048];
    snprintf(ini, sizeof(ini),
             HEAD "[main]\ntitle = the main menu\ntext = %s\n1 = a\n2 = b\n\n"
                  "[a]\ntitle = part a\ntext = Part a.\n\n[b]\ntitle = part b\ntext = Part b.\n",
             text);
    assert_int_equal(lint_str(ini, NULL), 0);
}

static void numbers_to_call_are_not_keys_to_press(void **state)
{
    (void)state;
    lint_text("If you are in danger, call 9 1 1. Or press 9 1 1 on any phone.");
    expect_nothing();
    lint_text("The number is 1. 8 0 0. 7 9 9. 7 2 3 3. Press 1-800-799-7233 from a cell phone.");
    expect_nothing();
    lint_text("Si está en peligro, marque el 9 1 1. O marque 1. 8 0 0. 7 9 9.");
    expect_nothing();
    lint_text("Press one of the buttons on the keypad to go on.");
    expect_nothing();
    lint_text("The press office is open from 8 to 4.");
    expect_nothing();
}

static void press_patterns_name_keys_in_english_and_spanish(void **state)
{
    (void)state;
    lint_text("To hear the hours, press the 3 key.");
    expect_rule("press-missing-key", 6, "\"press the 3\"");
    lint_text("Para escuchar el horario, oprima 3.");
    expect_rule("press-missing-key", 6, "oprima 3");
    lint_text("Para el horario, marque la tecla 4.");
    expect_rule("press-missing-key", 6, "marque la tecla 4");
    lint_text("For the hours, press three.");
    expect_rule("press-missing-key", 6, "press three");
    lint_text("Press 1 or 3 to go on.");
    expect_rule("press-missing-key", 6, "3 does nothing here (its choices: 1 and 2)");
    assert_int_equal(count_rule("press-missing-key"), 1);
    assert_int_equal(count_rule("press-in-text"), 1); /* 1 is a choice: named, not wrong */
}

/* The short text said on a return visit is spoken too: the same rules hold for it, at its
 * own line. */
static void a_short_text_is_judged_as_a_text_is(void **state)
{
    (void)state;
    const char *ini = HEAD "[main]\ntitle = the main menu\ntext = Welcome.\n"
                           "short = Main menu. Press 3 for the fees.\n" /* 7 */
                           "1 = a\n2 = b\n\n"
                           "[a]\ntitle = part a\ntext = Part a.\n"
                           "short = \"...\"\n" /* 14 */
                           "\n[b]\ntitle = part b\ntext = Part b.\n"
                           "short = Part b. Press 1 to go on.\n"; /* 19 */
    assert_int_equal(lint_str(ini, NULL), 0);
    expect_rule("press-missing-key", 7, "the en short text of node 'main' says \"Press 3\"");
    expect_rule("blank-text", 14, "short of node 'a' has no words");
    /* 1 is not a choice of b: its short text sends the listener nowhere. */
    expect_rule("press-missing-key", 19, "short text of node 'b'");
    assert_int_equal(count_rule("press-missing-key"), 2);
}

static void engine_keys_are_always_there(void **state)
{
    (void)state;
    lint_text("To go back, press star. To skip, press pound. For help, oprima 0. Press 5 to "
              "repeat, or 9 to end.");
    assert_int_equal(count_rule("press-missing-key"), 0);
    assert_int_equal(count_rule("press-in-text"), 1); /* once per text */
}

static void a_key_the_text_names_twice_is_reported_once(void **state)
{
    (void)state;
    lint_text("Press 7 for more. Again, press 7 for more.");
    assert_int_equal(count_rule("press-missing-key"), 1);
}

static void menus_that_lead_back_to_the_start_are_not_a_trap(void **state)
{
    (void)state;
    /* Going forward reaches everything: the whole menu is one circle through the start. */
    const char *ini = HEAD "[main]\ntitle = the main menu\ntext = Welcome.\n1 = a\n2 = b\n\n"
                      "[a]\ntitle = part a\ntext = Part a.\n1 = main\n\n"
                      "[b]\ntitle = part b\ntext = Part b.\n1 = main\n";
    assert_int_equal(lint_str(ini, NULL), 0);
    assert_int_equal(count_rule("trapped-cycle"), 0);
}

static void a_menu_with_a_way_out_is_not_a_trap(void **state)
{
    (void)state;
    assert_int_equal(
        lint_str(HEAD "[main]\ntitle = the main menu\ntext = Welcome.\n1 = a\n\n"
                      "[a]\ntitle = part a\ntext = Part a.\n1 = b\n\n"
                      "[b]\ntitle = part b\ntext = Part b.\n1 = a\n2 = c\n\n"
                      "[c]\ntitle = part c\ntext = Part c.\n",
                 NULL),
        0);
    assert_int_equal(count_rule("trapped-cycle"), 0);
}

static void a_node_whose_only_choice_is_itself_is_a_trap(void **state)
{
    (void)state;
    const char *ini = HEAD "[main]\ntitle = the main menu\ntext = Welcome.\n1 = a\n2 = b\n\n"
                      "[a]\ntitle = part a\ntext = Part a.\n1 = a\n\n" /* 13 */
                      "[b]\ntitle = part b\ntext = Part b.\n";
    assert_int_equal(lint_str(ini, NULL), 0);
    expect_rule("trapped-cycle", 13, "key 1 of 'a' goes back to 'a'");
    assert_int_equal(count_rule("trapped-cycle"), 1);
}

static void a_trap_entered_by_pages_points_at_the_link_back(void **state)
{
    (void)state;
    const char *ini = HEAD "[main]\ntitle = the main menu\ntext = Welcome.\n1 = a\n2 = c\n\n"
                      "[a]\ntitle = part a\ntext = Part a.\nnext = b\n\n"
                      "[b]\ntitle = part b\ntext = Part b.\n1 = a\n\n" /* 18 */
                      "[c]\ntitle = part c\ntext = Part c.\n";
    assert_int_equal(lint_str(ini, NULL), 0);
    expect_rule("trapped-cycle", 18, "going forward from 'a'");
}

/* A language key switches language on every node: it is neither a missing key in a text nor
 * a gap among the choices. */
static void language_keys_are_always_there_too(void **state)
{
    (void)state;
    const char *ini = "[tonetree]\nstart = main\nlanguages = en, es\nkey.lang.es = 3\n\n"
                      "[main]\ntitle = the main menu\ntitle.es = el menú\n"
                      "text = Welcome.\ntext.es = Bienvenidos. Para español, oprima 3.\n" /* 10 */
                      "1 = a\n2 = b\n4 = c\n\n"
                      "[a]\ntitle = part a\ntitle.es = parte a\ntext = A.\ntext.es = A.\n\n"
                      "[b]\ntitle = part b\ntitle.es = parte b\ntext = B.\ntext.es = B.\n\n"
                      "[c]\ntitle = part c\ntitle.es = parte c\ntext = C.\ntext.es = C.\n";
    assert_int_equal(lint_str(ini, NULL), 0);
    assert_int_equal(count_rule("choice-gap"), 0);
    assert_int_equal(count_rule("press-missing-key"), 0);
    expect_rule("press-in-text", 10, "oprima 3");
}

static void the_repeat_key_makes_no_gap_between_4_and_6(void **state)
{
    (void)state;
    assert_int_equal(
        lint_str(HEAD "[main]\ntitle = the main menu\ntext = Welcome.\n"
                      "1 = a\n2 = b\n3 = c\n4 = d\n6 = e\n\n"
                      "[a]\ntitle = part a\ntext = A.\n\n[b]\ntitle = part b\ntext = B.\n\n"
                      "[c]\ntitle = part c\ntext = C.\n\n[d]\ntitle = part d\ntext = D.\n\n"
                      "[e]\ntitle = part e\ntext = E.\n",
                 NULL),
        0);
    assert_int_equal(count_rule("choice-gap"), 0);
}

static void choices_that_start_at_2_have_a_gap(void **state)
{
    (void)state;
    const char *ini = HEAD "[main]\ntitle = the main menu\ntext = Welcome.\n2 = a\n\n"
                      "[a]\ntitle = part a\ntext = A.\n";
    assert_int_equal(lint_str(ini, NULL), 0);
    expect_rule("choice-gap", 7, "offers 2, with no 1");
}

static void two_keys_to_one_node_are_a_duplicate(void **state)
{
    (void)state;
    const char *ini = HEAD "[main]\ntitle = the main menu\ntext = Welcome.\n1 = a\n2 = a\n\n"
                      "[a]\ntitle = part a\ntext = A.\n";
    assert_int_equal(lint_str(ini, NULL), 0);
    expect_rule("duplicate-title", 8, "keys 1 and 2 of node 'main' both lead to 'a'");
}

static void titles_that_differ_only_in_spanish_are_still_a_duplicate(void **state)
{
    (void)state;
    assert_int_equal(
        lint_str("[tonetree]\nstart = main\nlanguages = en, es\n\n"
                 "[main]\ntitle = the main menu\ntitle.es = el menú\ntext = Welcome.\n"
                 "text.es = Bienvenido.\n1 = a\n2 = b\n\n"
                 "[a]\ntitle = paying a fee\ntitle.es = cómo pagar\ntext = A.\ntext.es = A.\n\n"
                 "[b]\ntitle = paying by card\ntitle.es = Cómo  pagar\ntext = B.\ntext.es = B.\n",
                 NULL),
        0);
    expect_rule("duplicate-title", 11, "in es");
}

static void the_depth_limit_is_an_option(void **state)
{
    (void)state;
    struct tt_lint_opts o = {.max_depth = 10};
    assert_int_equal(check_file(DATA "node-too-deep.ini", &o), 0);
    assert_int_equal(count_rule("node-too-deep"), 0);
    o.max_depth = 2;
    assert_int_equal(check_file(DATA "node-too-deep.ini", &o), 0);
    assert_int_equal(count_rule("node-too-deep"), 1); /* once, where the branch crosses it */
    expect_rule("node-too-deep", 27, "'level3' is 3 choices away");
}

static void a_stricter_choice_limit_warns_at_4(void **state)
{
    (void)state;
    const char *ini = HEAD "[main]\ntitle = the main menu\ntext = Welcome.\n"
                           "1 = a\n2 = b\n3 = c\n4 = d\n\n"
                           "[a]\ntitle = part a\ntext = A.\n\n[b]\ntitle = part b\ntext = B.\n\n"
                           "[c]\ntitle = part c\ntext = C.\n\n[d]\ntitle = part d\ntext = D.\n";
    assert_int_equal(lint_str(ini, NULL), 0);
    assert_int_equal(count_rule("too-many-choices"), 0);
    struct tt_lint_opts o = {.max_choices = 3};
    assert_int_equal(lint_str(ini, &o), 0);
    expect_rule("too-many-choices", 4, "4 choices");
}

static void the_prompt_limit_and_speaking_rate_are_options(void **state)
{
    (void)state;
    struct tt_lint_opts o = {.max_prompt_seconds = 60};
    assert_int_equal(check_file(DATA "prompt-too-long.ini", &o), 0);
    assert_int_equal(count_rule("prompt-too-long"), 0);
    o = (struct tt_lint_opts){.words_per_minute = 320}; /* 103 words: 19.3 s, under 20 s */
    assert_int_equal(check_file(DATA "prompt-too-long.ini", &o), 0);
    assert_int_equal(count_rule("prompt-too-long"), 0);
    o.words_per_minute = 300; /* 20.6 s */
    assert_int_equal(check_file(DATA "prompt-too-long.ini", &o), 0);
    expect_rule("prompt-too-long", 8, "(103 words at 300 a minute)");
}

/* A text longer than 20 s is hard to hold in mind by ear; the engines speak about 145 words a
 * minute, pauses included: 48 words take 19.9 s, 49 words 20.3 s. */
static void by_default_a_text_may_take_20_seconds_at_145_words_a_minute(void **state)
{
    (void)state;
    char text[1024] = "";
    for (int i = 0; i < 48; i++)
        strcat(text, i ? " court" : "Court");
    strcat(text, ".");
    lint_text(text);
    assert_int_equal(count_rule("prompt-too-long"), 0);
    text[strlen(text) - 1] = '\0';
    strcat(text, " court.");
    lint_text(text);
    expect_rule("prompt-too-long", 6, "takes about 20.3 s to say (49 words at 145 a minute): "
                                      "more than 20 s");
    assert_int_equal(count_rule("prompt-too-long"), 1);
}

/* ---- The safety node within two keys --------------------------------------------------------- */

/* main (line 5) chooses the safety node and cases; cases (line 15) chooses a node that takes
 * digits (line 20), where the help key is a digit of the entry. extra goes into cases. */
static void lint_safety(const char *extra, const char *settings)
{
    char ini[2048];
    snprintf(ini, sizeof(ini),
             "[tonetree]\nstart = main\n%s\n\n"                            /* 1-4 */
             "[main]\ntitle = the main menu\ntext = Welcome.\n1 = help\n2 = cases\n\n" /* 5 */
             "[help]\ntitle = the help lines\ntext = Call for help.\n\n"     /* 11 */
             "[cases]\ntitle = your case\ntext = About your case.\n1 = lookup\n%s\n" /* 15 */
             "[lookup]\ntitle = your hearing date\n"                         /* 20 */
             "text = Enter your case number, then press pound.\ninput = digits\nmin = 4\n"
             "max = 8\nlookup = /bin/true\n",
             settings, extra);
    assert_int_equal(lint_str(ini, NULL), 0);
}

static void safety_far_when_the_way_back_from_digits_has_no_key_to_safety(void **state)
{
    (void)state;
    lint_safety("", "safety = help");
    expect_rule("safety-far", 20, "node 'lookup' takes digits, so its help key is a digit");
    expect_rule("safety-far", 20, "back to 'cases', which has no key to it); give 'cases' a "
                                  "choice for 'help'");
    assert_int_equal(count_rule("safety-far"), 1);
    for (size_t i = 0; i < tt_diag_len(D); i++)
        assert_int_equal(tt_diag_get(D, i)->sev, TT_WARNING);

    /* The node it came from links to the safety node: back, then one key. */
    lint_safety("2 = help", "safety = help");
    assert_int_equal(count_rule("safety-far"), 0);
    /* A menu that names no safety node is not judged. */
    lint_safety("", "");
    assert_int_equal(count_rule("safety-far"), 0);
}

/* From an input node that is a page, back leads to the previous page (not to the node that
 * chose the first page): that page is the one that needs the key. */
static void safety_far_looks_where_back_leads_from_a_page(void **state)
{
    (void)state;
    const char *ini =
        "[tonetree]\nstart = main\nsafety = help\n\n"
        "[main]\ntitle = the main menu\ntext = Welcome.\n1 = help\n2 = intro\n\n"
        "[help]\ntitle = the help lines\ntext = Call for help.\n\n"
        "[intro]\ntitle = your case\ntext = About your case.\nnext = lookup\n\n" /* 15 */
        "[lookup]\ntitle = your hearing date\n"                                   /* 20 */
        "text = Enter your case number, then press pound.\ninput = digits\nmin = 4\n"
        "max = 8\nlookup = /bin/true\n";
    assert_int_equal(lint_str(ini, NULL), 0);
    expect_rule("safety-far", 20, "back to 'intro', which has no key to it");
    assert_int_equal(count_rule("safety-far"), 1);

    /* Started at a node that takes digits, back leads nowhere: no way to safety at all. */
    ini = "[tonetree]\nstart = lookup\nsafety = help\n\n"
          "[lookup]\ntitle = your hearing date\n" /* 5 */
          "text = Enter your case number, then press pound.\ninput = digits\nmin = 4\n"
          "max = 8\nlookup = /bin/true\n\n"
          "[help]\ntitle = the help lines\ntext = Call for help.\n";
    assert_int_equal(lint_str(ini, NULL), 0);
    expect_rule("safety-far", 5, "the menu starts there: its help key is a digit and back "
                                 "leads nowhere");
}

static void a_long_recording_is_a_long_prompt_whatever_its_text(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    record(dir, "main.wav", 8000, 21.0);
    struct tt_lint_opts o = {.prompts_dir = dir};
    assert_int_equal(check_file(DATA "recording-rate.ini", &o), 0);
    expect_rule("prompt-too-long", 9, "recording of node 'main' lasts 21 s: more than 20 s");
    expect_rule("recording-length", 9, "does the recording say more than the text");
    tl_rmtree(dir);
    free(dir);
}

static void a_silent_recording_cannot_be_played(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char path[4096];
    snprintf(path, sizeof(path), "%s/en", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof(path), "%s/en/main.wav", dir);
    int16_t zeros[16000] = {0};
    tl_write_wav(path, zeros, 16000, 16000);
    struct tt_lint_opts o = {.prompts_dir = dir};
    assert_int_equal(check_file(DATA "recording-rate.ini", &o), 0);
    expect_rule("recording-unreadable", 9, "it is silent");
    tl_rmtree(dir);
    free(dir);
}

static void recordings_cut_short_are_found_in_every_format_without_reading_them_all(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int format, rate;
        const char *words; /* what the finding says of the file */
    } files[] = {
        {"main.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 48000, "holds only 1.5 s"},
        {"main.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 44100, "holds only 1.5 s"},
        {"main.au", SF_FORMAT_AU | SF_FORMAT_ULAW, 8000, "holds only 1.5 s"},
        {"main.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, "ends before that"},
        {"main.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, "ends before that"},
        {"main.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, "middle of its audio"},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char *dir = tl_tmpdir(), path[4096];
        en_path(dir, files[i].name, path, sizeof(path));
        SF_INFO info = {.samplerate = files[i].rate, .channels = 1, .format = files[i].format};
        SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
        assert_non_null(sf);
        size_t n = (size_t)files[i].rate * 3;
        float *pcm = malloc(n * sizeof(*pcm));
        assert_non_null(pcm);
        for (size_t k = 0; k < n; k++)
            pcm[k] = (float)(0.3 * sin(2 * M_PI * 440 * (double)k / files[i].rate));
        assert_int_equal(sf_writef_float(sf, pcm, (sf_count_t)n), (sf_count_t)n);
        assert_int_equal(sf_close(sf), 0);
        free(pcm);
        cut(path, 0.5);
        struct tt_lint_opts o = {.prompts_dir = dir};
        assert_int_equal(check_file(DATA "recording-cut-short.ini", &o), 0);
        expect_rule("recording-cut-short", 9, files[i].words);
        expect_rule("recording-cut-short", 9, "copy or export it again");
        assert_int_equal(tt_diag_len(D), 1);
        tl_rmtree(dir);
        free(dir);
    }
}

static void a_folder_named_as_a_recording_is_passed_over_as_the_engine_does(void **state)
{
    (void)state;
    char *dir = tl_tmpdir(), path[4096];
    en_path(dir, "main.wav", path, sizeof(path));
    assert_int_equal(mkdir(path, 0700), 0);
    record(dir, "main.flac", 16000, 2.0); /* the engine plays this one */
    struct tt_lint_opts o = {.prompts_dir = dir};
    assert_int_equal(check_file(DATA "recording-rate.ini", &o), 0);
    expect_nothing();
    tl_rmtree(dir);
    free(dir);
}

static void an_unusual_rate_is_a_warning(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    record(dir, "main.wav", 44101, 2.0);
    struct tt_lint_opts o = {.prompts_dir = dir};
    assert_int_equal(check_file(DATA "recording-rate.ini", &o), 0);
    expect_rule("recording-rate", 9, "not a rate recorders use");
    tl_rmtree(dir);
    free(dir);
}

static void other_nodes_recordings_in_a_shared_folder_are_left_alone(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    rec_ok(dir);
    record(dir, "some-other-menus-node.wav", 16000, 1.0);
    write_bytes(dir, "phrases.ini", "[phrases]\n");
    struct tt_lint_opts o = {.prompts_dir = dir};
    assert_int_equal(check_file(DATA "recording-rate.ini", &o), 0);
    expect_nothing();
    tl_rmtree(dir);
    free(dir);
}

static void findings_come_in_line_order(void **state)
{
    (void)state;
    assert_int_equal(
        lint_str(HEAD "[main]\ntitle = the main menu\ntext = Welcome. Press 7.\n2 = a\n\n" /* 6 */
                      "[a]\ntitle = part a\ntext = A.\n1 = b\n\n"
                      "[b]\ntitle = part b\ntext = Press 8.\n1 = a\n",
                 NULL),
        0);
    assert_true(tt_diag_len(D) >= 3);
    for (size_t i = 1; i < tt_diag_len(D); i++)
        assert_true(tt_diag_get(D, i - 1)->line <= tt_diag_get(D, i)->line);
}

static void bad_options_are_refused(void **state)
{
    (void)state;
    tt_menu *m = NULL;
    tt_diag_clear(D);
    assert_int_equal(tt_lint(NULL, NULL, D), EINVAL);
    assert_int_equal(tt_menu_load(&m, DATA "ok.ini", D), 0);
    struct tt_lint_opts o = {.max_depth = -1};
    assert_int_equal(tt_lint(m, &o, D), EINVAL);
    o = (struct tt_lint_opts){.words_per_minute = -5};
    assert_int_equal(tt_lint(m, &o, D), EINVAL);
    assert_int_equal(tt_lint(m, NULL, NULL), 0); /* no diag: fine, nothing to say anyway */
    tt_menu_free(m);
}

/* ---- Output ---------------------------------------------------------------------------------- */

static char *printed(void (*print)(const tt_diag *, FILE *))
{
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    assert_non_null(f);
    print(D, f);
    fclose(f);
    return out;
}

static void check_prints_the_rule_after_the_message(void **state)
{
    (void)state;
    assert_int_equal(check_file(DATA "dangling-key.ini", NULL), EINVAL);
    tt_diag_add(D, TT_NOTE, NULL, 0, "a message no rule found");
    char *out = printed(tt_diag_print_rules);
    assert_string_equal(out, "tests/data/lint/dangling-key.ini:10: error: key 2 goes to 'stpes', "
                             "which is not a node (did you mean 'steps'?) [dangling-key]\n"
                             "tonetree: note: a message no rule found\n");
    free(out);
    /* The plain print, which the other commands use, leaves the ids out. */
    out = printed(tt_diag_print);
    assert_non_null(strstr(out, "(did you mean 'steps'?)\n"));
    assert_null(strstr(out, "[dangling-key]"));
    free(out);
}

/* A minimal JSON reader: true when s holds one valid JSON value and nothing else. */
static const char *json_value(const char *s);

static const char *json_ws(const char *s)
{
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    return s;
}

static const char *json_str(const char *s)
{
    if (*s++ != '"')
        return NULL;
    while (*s != '"') {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20)
            return NULL; /* raw control characters (a newline) must be escaped */
        if (c == '\\') {
            s++;
            if (*s == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
                        return NULL;
                s += 5;
                continue;
            }
            if (!*s || !strchr("\"\\/bfnrt", *s))
                return NULL;
        }
        s++;
    }
    return s + 1;
}

static const char *json_value(const char *s)
{
    s = json_ws(s);
    if (*s == '"')
        return json_str(s);
    if (*s == '[' || *s == '{') {
        char close = *s == '[' ? ']' : '}';
        bool object = *s == '{';
        s = json_ws(s + 1);
        if (*s == close)
            return s + 1;
        for (;;) {
            if (object) {
                if (!(s = json_str(json_ws(s))))
                    return NULL;
                s = json_ws(s);
                if (*s++ != ':')
                    return NULL;
            }
            if (!(s = json_value(s)))
                return NULL;
            s = json_ws(s);
            if (*s == close)
                return s + 1;
            if (*s++ != ',')
                return NULL;
        }
    }
    if (!strncmp(s, "null", 4) || !strncmp(s, "true", 4))
        return s + 4;
    if (!strncmp(s, "false", 5))
        return s + 5;
    if (*s == '-' || (*s >= '0' && *s <= '9')) {
        s++;
        while (*s >= '0' && *s <= '9')
            s++;
        return s;
    }
    return NULL;
}

static bool valid_json(const char *s)
{
    s = json_value(s);
    return s && !*json_ws(s);
}

/* Is the text valid UTF-8 (JSON must be)? */
static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2
                            : (*p & 0xf8) == 0xf0   ? 3 : -1;
        if (n < 0)
            return false;
        for (p++; n > 0; n--, p++)
            if ((*p & 0xc0) != 0x80)
                return false;
    }
    return true;
}

static void json_output_is_valid_and_escaped(void **state)
{
    (void)state;
    tt_diag_clear(D);
    char *out = printed(tt_diag_print_json);
    assert_string_equal(out, "[]\n");
    free(out);

    assert_int_equal(check_file(DATA "trapped-cycle.ini", NULL), 0);
    tt_diag_add_rule(D, TT_ERROR, "menus/a \"quoted\" name.ini", 3, "some-rule",
                     "a \\ backslash, a \"quote\",\na newline, a tab\t, a bell \a, é and ñ, "
                     "and a cut UTF-8 letter: \xc3 and Latin-1: \xe9.");
    tt_diag_add(D, TT_NOTE, NULL, 0, "no file, no rule");
    out = printed(tt_diag_print_json);
    if (!valid_json(out) || !valid_utf8(out)) {
        fputs(out, stderr);
        fail_msg("not valid JSON");
    }
    assert_non_null(strstr(out, "{\"file\": \"tests/data/lint/trapped-cycle.ini\", \"line\": 25, "
                                "\"severity\": \"warning\", \"rule\": \"trapped-cycle\", "
                                "\"message\": \"going forward from 'forms'"));
    assert_non_null(strstr(out, "\"file\": \"menus/a \\\"quoted\\\" name.ini\""));
    assert_non_null(strstr(out, "a \\\\ backslash, a \\\"quote\\\",\\na newline, a tab\\t, "
                                "a bell \\u0007, é and ñ, and a cut UTF-8 letter: \\ufffd and "
                                "Latin-1: \\ufffd."));
    assert_non_null(strstr(out, "{\"file\": null, \"line\": 0, \"severity\": \"note\", "
                                "\"rule\": null, \"message\": \"no file, no rule\"}"));
    free(out);
}

static void json_output_counts_what_the_list_could_not_keep(void **state)
{
    (void)state;
    tt_diag_clear(D);
    for (int i = 0; i < TT_DIAG_MAX + 5; i++)
        tt_diag_add_rule(D, TT_WARNING, "x.ini", i + 1, "r", "finding %d", i);
    char *out = printed(tt_diag_print_json);
    assert_true(valid_json(out));
    assert_non_null(strstr(out, "\"message\": \"5 more messages not shown\"}\n]\n"));
    free(out);
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

int main(void)
{
    enum { N_RULES = sizeof(rule_cases) / sizeof(*rule_cases) };
    struct CMUnitTest rules[N_RULES];
    for (size_t i = 0; i < N_RULES; i++)
        rules[i] = (struct CMUnitTest){.name = rule_cases[i].name,
                                       .test_func = one_finding_per_broken_menu,
                                       .initial_state = (void *)&rule_cases[i]};
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_clean_menu_gets_no_message_at_all),
        cmocka_unit_test(a_recording_that_fits_its_text_gets_no_message),
        cmocka_unit_test(expected_recordings_are_missing_once_per_node_and_language),
        cmocka_unit_test(the_shipped_guide_has_no_errors),
        cmocka_unit_test(the_loader_keeps_the_line_of_every_key_of_a_node),
        cmocka_unit_test(numbers_to_call_are_not_keys_to_press),
        cmocka_unit_test(press_patterns_name_keys_in_english_and_spanish),
        cmocka_unit_test(a_short_text_is_judged_as_a_text_is),
        cmocka_unit_test(engine_keys_are_always_there),
        cmocka_unit_test(a_key_the_text_names_twice_is_reported_once),
        cmocka_unit_test(menus_that_lead_back_to_the_start_are_not_a_trap),
        cmocka_unit_test(a_menu_with_a_way_out_is_not_a_trap),
        cmocka_unit_test(a_node_whose_only_choice_is_itself_is_a_trap),
        cmocka_unit_test(a_trap_entered_by_pages_points_at_the_link_back),
        cmocka_unit_test(language_keys_are_always_there_too),
        cmocka_unit_test(the_repeat_key_makes_no_gap_between_4_and_6),
        cmocka_unit_test(choices_that_start_at_2_have_a_gap),
        cmocka_unit_test(two_keys_to_one_node_are_a_duplicate),
        cmocka_unit_test(titles_that_differ_only_in_spanish_are_still_a_duplicate),
        cmocka_unit_test(the_depth_limit_is_an_option),
        cmocka_unit_test(a_stricter_choice_limit_warns_at_4),
        cmocka_unit_test(the_prompt_limit_and_speaking_rate_are_options),
        cmocka_unit_test(by_default_a_text_may_take_20_seconds_at_145_words_a_minute),
        cmocka_unit_test(safety_far_when_the_way_back_from_digits_has_no_key_to_safety),
        cmocka_unit_test(safety_far_looks_where_back_leads_from_a_page),
        cmocka_unit_test(a_long_recording_is_a_long_prompt_whatever_its_text),
        cmocka_unit_test(a_silent_recording_cannot_be_played),
        cmocka_unit_test(an_unusual_rate_is_a_warning),
        cmocka_unit_test(recordings_cut_short_are_found_in_every_format_without_reading_them_all),
        cmocka_unit_test(a_folder_named_as_a_recording_is_passed_over_as_the_engine_does),
        cmocka_unit_test(other_nodes_recordings_in_a_shared_folder_are_left_alone),
        cmocka_unit_test(findings_come_in_line_order),
        cmocka_unit_test(bad_options_are_refused),
        cmocka_unit_test(check_prints_the_rule_after_the_message),
        cmocka_unit_test(json_output_is_valid_and_escaped),
        cmocka_unit_test(json_output_counts_what_the_list_could_not_keep),
    };
    int failed = _cmocka_run_group_tests("rules, one broken menu each", rules, N_RULES, setup,
                                         teardown);
    failed += cmocka_run_group_tests_name("the rules' edges and the output", tests, setup,
                                          teardown);
    return failed;
}
