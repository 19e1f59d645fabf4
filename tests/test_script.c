/*
 * The spoken script and the prompt lists, checked on the shipped guide: a reviewer must read
 * every node, in the order a listener meets them, with the choices word for word as the
 * engine composes them and the keys that lead there; the HTML page must be a well-formed,
 * escaped document a screen reader can use; the recording script must list exactly what has
 * no usable recording.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/strbuf.h"
#include "core/compose.h"
#include "core/menu.h"
#include "testlib.h"
#include "tools/prompt_list.h"
#include "tools/script.h"

#define GUIDE "menus/no-contact-order.ini"
#define EN 0
#define ES 1

/* The guide's nodes as a listener meets them: each branch of the main menu in key order,
 * its pages in turn. */
static const char *const guide_order[] = {
    "main",  "safety", "safety-more", "safety-tty", "about", "about-rules", "step1", "step1b",
    "step2", "step3",  "step4",       "step5",      "warn1", "warn2",       "warn3", "warn4",
};
#define GUIDE_NODES (sizeof(guide_order) / sizeof(guide_order[0]))

struct guide {
    tt_menu *m;
    tt_phrases *ph[TT_MAX_LANGS];
    tt_diag *d;
};

static int guide_setup(void **state)
{
    struct guide *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    g->d = tt_diag_new();
    int err = tt_menu_load(&g->m, GUIDE, g->d);
    if (!err)
        err = tt_phrases_load_all(g->m, NULL, g->ph, g->d);
    if (err)
        tt_diag_print(g->d, stderr);
    assert_int_equal(err, 0);
    tt_diag_clear(g->d);
    *state = g;
    return 0;
}

static int guide_teardown(void **state)
{
    struct guide *g = *state;
    tt_phrases_free_all(g->m, g->ph);
    tt_menu_free(g->m);
    tt_diag_free(g->d);
    free(g);
    return 0;
}

/* The whole script in memory. */
static char *script(const tt_menu *m, tt_phrases *const *ph, int lang,
                    enum tt_script_format fmt, const struct tt_script_opts *o, tt_diag *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    int err = tt_script_write(f, m, ph, lang, fmt, o, d);
    if (err)
        tt_diag_print(d, stderr);
    assert_int_equal(err, 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* Every run of white space as one space: wrapping and list layout change only spaces. */
static char *squeeze(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    assert_non_null(out);
    bool space = false;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\n' || *s == '\t') {
            space = o > out;
            continue;
        }
        if (space)
            *o++ = ' ';
        space = false;
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

/* What a reader of the HTML page reads: tags gone, the six entities turned back (a no-break
 * space is read as a space). */
static char *html_text(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    assert_non_null(out);
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&amp;", '&'},  {"&lt;", '<'},  {"&gt;", '>'},
                {"&quot;", '"'}, {"&#39;", '\''}, {"&nbsp;", ' '}};
    while (*s) {
        if (*s == '<') {
            const char *e = strchr(s, '>');
            assert_non_null(e);
            *o++ = ' ';
            s = e + 1;
            continue;
        }
        bool done = false;
        for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]) && !done; i++)
            if (!strncmp(s, ents[i].ent, strlen(ents[i].ent))) {
                *o++ = ents[i].c;
                s += strlen(ents[i].ent);
                done = true;
            }
        if (!done)
            *o++ = *s++;
    }
    *o = '\0';
    char *sq = squeeze(out);
    free(out);
    return sq;
}

/* Markdown as read: list marks and backslash escapes gone. */
static char *md_text(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    assert_non_null(out);
    bool line_start = true;
    while (*s) {
        if (line_start && s[0] == '-' && s[1] == ' ') {
            s += 2;
            continue;
        }
        if (*s == '\\' && s[1]) {
            s++;
        }
        line_start = *s == '\n';
        *o++ = *s++;
    }
    *o = '\0';
    char *sq = squeeze(out);
    free(out);
    return sq;
}

/* Where a squeezed needle is in hay at or after from; fails the test if it is not. */
static const char *find_after(const char *hay, const char *from, const char *needle)
{
    char *sq = squeeze(needle);
    const char *at = strstr(from, sq);
    if (!at)
        fail_msg("not found after offset %td: \"%s\"", from - hay, sq);
    free(sq);
    return at;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The way back a listener is offered in the guide: the main menu, from every other node. */
static char *guide_choices(const struct guide *g, int lang, const char *id)
{
    int node = tt_menu_find(g->m, id);
    assert_true(node >= 0);
    int back = node == g->m->start ? -1 : tt_menu_find(g->m, "main");
    char *c = tt_compose_choices(g->m, g->ph, lang, node, back);
    assert_non_null(c);
    return c;
}

/* Every node's text then its choices, in the listener's order, inside text read as words.
 * A text with say-as marks reads as it is shown ("call 1-800-799-7233"): the digit groups
 * the voice is given ("1. 8 0 0. 7 9 9.") are for the ear, never for a reader. */
static void expect_nodes_in_order(const struct guide *g, int lang, const char *words)
{
    const char *at = words;
    for (size_t i = 0; i < GUIDE_NODES; i++) {
        int node = tt_menu_find(g->m, guide_order[i]);
        const struct tt_node *n = &g->m->nodes[node];
        char heading[128];
        snprintf(heading, sizeof(heading), "%zu. [%s] %s", i + 1, guide_order[i],
                 n->title[lang]);
        at = find_after(words, at, heading);
        if (n->shown[lang]) {
            char *spoken = squeeze(n->text[lang]);
            if (strstr(words, spoken))
                fail_msg("[%s] shows the spoken form: \"%s\"", n->id, spoken);
            free(spoken);
        }
        at = find_after(words, at, n->shown[lang] ? n->shown[lang] : n->text[lang]);
        char *choices = guide_choices(g, lang, guide_order[i]);
        const char *c = find_after(words, at, choices);
        /* ... and those are this node's choices, not a later node's. */
        if (i + 1 < GUIDE_NODES) {
            char next[64];
            snprintf(next, sizeof(next), "%zu. [%s]", i + 2, guide_order[i + 1]);
            const char *n = strstr(at, next);
            assert_non_null(n);
            assert_true(c < n);
        }
        at = c;
        free(choices);
    }
}

/* ---- the text form ------------------------------------------------------------------------ */

static void txt_reads_every_node_in_order_with_its_choices(void **state)
{
    struct guide *g = *state;
    char *s = script(g->m, g->ph, EN, TT_SCRIPT_TXT, NULL, g->d);
    char *words = squeeze(s);
    expect_nodes_in_order(g, EN, words);
    /* Help, settings and the engine's other words come once, after the nodes. Help's first
     * item is the safety node, by its title; the other language is on its own key. */
    const char *last = strstr(words, "16. [warn4]");
    assert_non_null(last);
    const char *help = find_after(words, last, "Help Keys: 0");
    help = find_after(words, help, "Help. To hear the safety and help lines, press 1. To hear "
                                   "where you are, press 2. To change the speed or the volume, "
                                   "or to pause, press 3. To start again from the beginning, "
                                   "press 4.");
    find_after(words, help, "Para español, oprima 7.");
    const char *settings = find_after(words, help, "Settings Keys: 0 3");
    const char *other = find_after(words, settings, "Other things the engine says");
    find_after(words, other, "Are you still there? Press any key for more time.");
    find_after(words, other, "6 is not a choice here.");
    find_after(words, other, "Goodbye. Take care.");
    find_after(words, other, "You are in the main menu, then the steps, then step five: carry "
                             "a copy.");
    assert_int_equal(count(words, "Help Keys: 0"), 1);
    free(words);
    free(s);
}

/* The line after a node's heading line(s). */
static void expect_keys(const char *s, const char *heading, const char *keys_line)
{
    const char *h = strstr(s, heading);
    if (!h)
        fail_msg("no heading \"%s\"", heading);
    const char *k = strstr(h, "\nKeys: ");
    assert_non_null(k);
    char line[128];
    size_t n = strcspn(k + 1, "\n");
    snprintf(line, sizeof(line), "%.*s", (int)n, k + 1);
    assert_string_equal(line, keys_line);
}

static void txt_gives_the_keys_to_each_node(void **state)
{
    struct guide *g = *state;
    char *s = script(g->m, g->ph, EN, TT_SCRIPT_TXT, NULL, g->d);
    expect_keys(s, "1. [main]", "Keys: none, this is the start");
    expect_keys(s, "2. [safety]", "Keys: 1");
    expect_keys(s, "4. [safety-tty]", "Keys: 1 # #");
    expect_keys(s, "7. [step1]", "Keys: 3");
    expect_keys(s, "9. [step2]", "Keys: 3 # #");
    /* The last page of the steps: step one on two pages, then four more. */
    expect_keys(s, "12. [step5]", "Keys: 3 # # # # #");
    expect_keys(s, "16. [warn4]", "Keys: 4 # # #");
    free(s);
}

/* Width in characters, not bytes. */
static size_t chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xc0) != 0x80;
    return c;
}

static void expect_width(const char *s, size_t width)
{
    for (const char *line = s; *line;) {
        size_t n = strcspn(line, "\n");
        if (chars(line, n) > width)
            fail_msg("line longer than %zu: \"%.*s\"", width, (int)n, line);
        line += n + (line[n] == '\n');
    }
}

static void txt_fits_the_width_asked_for(void **state)
{
    struct guide *g = *state;
    char *s = script(g->m, g->ph, ES, TT_SCRIPT_TXT, NULL, g->d);
    expect_width(s, 60);
    free(s);
    struct tt_script_opts o = {.width = 40};
    s = script(g->m, g->ph, ES, TT_SCRIPT_TXT, &o, g->d);
    expect_width(s, 40);
    /* A telephone number is shown as written, whole on its line. */
    assert_non_null(strstr(s, "1-800-799-7233"));
    assert_non_null(strstr(s, "1-800-787-3224"));
    char *words = squeeze(s);
    expect_nodes_in_order(g, ES, words);
    free(words);
    free(s);
}

static void spanish_script_uses_the_spanish_words(void **state)
{
    struct guide *g = *state;
    char *s = script(g->m, g->ph, ES, TT_SCRIPT_TXT, NULL, g->d);
    char *words = squeeze(s);
    assert_non_null(strstr(words, "1. [main] el menú principal"));
    assert_non_null(strstr(words, "Esta guía explica cómo pedirle a la corte"));
    assert_non_null(strstr(words, "Para los pasos, oprima 3."));
    /* A page says where it leads, by the next page's title. */
    assert_non_null(strstr(words, "Para el paso dos: comuníquese con la corte, oprima numeral."));
    assert_non_null(strstr(words, "Para regresar y escuchar los pasos, oprima asterisco."));
    assert_non_null(strstr(words, "For English, press 8."));
    assert_null(strstr(words, "This guide explains"));
    assert_null(strstr(words, "To hear the steps"));
    free(words);
    free(s);
}

/* A reviewer reads every sentence that can be spoken: what a session says before the welcome,
 * the short text said on a return visit, and the way out said again after a language key. */
static void the_start_of_a_session_and_return_visits_are_in_the_script(void **state)
{
    struct guide *g = *state;
    char *s = script(g->m, g->ph, EN, TT_SCRIPT_TXT, NULL, g->d);
    char *words = squeeze(s);
    find_after(words, words, "Language keys, the same on every node: 8 for en, 7 for es.");
    const char *at = find_after(words, words, "1. [main] the main menu Keys: none, this is the "
                                              "start First, when a session begins: To leave, "
                                              "press the number 9. Para español, oprima 7. This "
                                              "guide explains");
    find_after(words, at, "call 911. On a return visit, said instead of the text above: Main "
                          "menu. Choices: To hear the safety and help lines, press 1.");
    /* Only the start has the greeting; only main has a short text. */
    assert_int_equal(count(words, "First, when a session begins:"), 1);
    assert_int_equal(count(words, "On a return visit"), 1);
    at = find_after(words, words, "Other things the engine says");
    find_after(words, at, "After a language key, before the same node is said again in full in "
                          "this language: To leave, press the number 9.");
    free(words);
    free(s);

    s = script(g->m, g->ph, ES, TT_SCRIPT_TXT, NULL, g->d);
    words = squeeze(s);
    find_after(words, words, "First, when a session begins: Para salir en cualquier momento, "
                             "oprima 9. For English, press 8. Esta guía explica");
    find_after(words, words, "llame al 911. On a return visit, said instead of the text above: "
                             "Menú principal. Choices:");
    free(words);
    free(s);

    /* In the HTML page, the other language's offer is marked as that language. */
    s = script(g->m, g->ph, EN, TT_SCRIPT_HTML, NULL, g->d);
    assert_non_null(strstr(s, "<p><strong>First, when a session begins:</strong></p>\n<ul>\n"
                              "<li>To leave, press the number&nbsp;9.</li>\n"
                              "<li lang=\"es\">Para español, oprima&nbsp;7.</li>\n</ul>\n"));
    free(s);
}

/* ---- Markdown ---------------------------------------------------------------------------- */

static void md_has_a_heading_per_node(void **state)
{
    struct guide *g = *state;
    char *s = script(g->m, g->ph, EN, TT_SCRIPT_MD, NULL, g->d);
    /* The nodes, help, settings and the other words; the one title. */
    assert_int_equal(count(s, "\n## "), GUIDE_NODES + 3);
    assert_int_equal(count(s, "\n# "), 0);
    assert_true(!strncmp(s, "# Spoken script: No-contact order help\n", 39));
    assert_non_null(strstr(s, "\n## 12\\. \\[step5\\] step five: carry a copy\n"));
    assert_non_null(strstr(s, "**Keys:** `3 # # # # #`"));
    char *words = md_text(s);
    expect_nodes_in_order(g, EN, words);
    free(words);
    free(s);
}

/* ---- HTML -------------------------------------------------------------------------------- */

static bool is_void(const char *name, size_t n)
{
    return (n == 4 && !strncmp(name, "meta", 4)) || (n == 2 && !strncmp(name, "br", 2));
}

/* Well formed enough for any browser and screen reader: every tag closed in order, every <
 * a tag, every & an entity, attribute values quoted. Returns the number of <h2>. */
static size_t expect_well_formed(const char *s)
{
    const char *stack[64];
    size_t lens[64], depth = 0, h2 = 0;
    assert_true(!strncmp(s, "<!DOCTYPE html>\n", 16));
    s += 16;
    for (; *s; s++) {
        if (*s == '&') {
            assert_true(!strncmp(s, "&amp;", 5) || !strncmp(s, "&lt;", 4) ||
                        !strncmp(s, "&gt;", 4) || !strncmp(s, "&quot;", 6) ||
                        !strncmp(s, "&#39;", 5) || !strncmp(s, "&nbsp;", 6));
            continue;
        }
        assert_true(*s != '>');
        if (*s != '<')
            continue;
        bool closing = s[1] == '/';
        const char *name = s + 1 + closing;
        size_t n = 0;
        while ((name[n] >= 'a' && name[n] <= 'z') || (name[n] >= '0' && name[n] <= '9'))
            n++;
        if (!n)
            fail_msg("a < that is not a tag: \"%.20s\"", s);
        const char *e = name + n;
        /* attributes: name="value" pairs, values free of < > and raw quotes */
        while (*e == ' ') {
            e++;
            while ((*e >= 'a' && *e <= 'z') || *e == '-')
                e++;
            assert_int_equal(*e, '=');
            assert_int_equal(e[1], '"');
            e += 2;
            while (*e && *e != '"') {
                assert_true(*e != '<' && *e != '>');
                e++;
            }
            assert_int_equal(*e, '"');
            e++;
        }
        if (*e != '>')
            fail_msg("a tag not closed with >: \"%.30s\"", s);
        if (closing) {
            assert_true(depth > 0);
            depth--;
            if (lens[depth] != n || strncmp(stack[depth], name, n))
                fail_msg("</%.*s> closes <%.*s>", (int)n, name, (int)lens[depth], stack[depth]);
        } else if (!is_void(name, n)) {
            assert_true(depth < 64);
            stack[depth] = name;
            lens[depth++] = n;
            h2 += n == 2 && !strncmp(name, "h2", 2);
        }
        s = e;
    }
    assert_int_equal(depth, 0);
    return h2;
}

static void html_is_a_well_formed_accessible_page(void **state)
{
    struct guide *g = *state;
    char *s = script(g->m, g->ph, EN, TT_SCRIPT_HTML, NULL, g->d);
    /* A heading per node, plus contents, help, settings and the other things said. */
    assert_int_equal(expect_well_formed(s), GUIDE_NODES + 4);
    assert_non_null(strstr(s, "<html lang=\"en\">"));
    assert_non_null(strstr(s, "<meta charset=\"utf-8\">"));
    assert_null(strstr(s, "<script"));
    assert_null(strstr(s, "<table"));
    assert_non_null(strstr(s, "font-size: 1.375rem"));
    assert_non_null(strstr(s, "line-height: 1.6"));
    /* A word wider than a zoomed window wraps instead of scrolling sideways (make review-page
     * checks the effect in a browser at 200% and 400%). */
    assert_non_null(strstr(s, "overflow-wrap: break-word"));
    assert_non_null(
        strstr(s, "<nav aria-labelledby=\"contents\">\n<h2 id=\"contents\">Contents</h2>"));
    assert_non_null(strstr(s, "<h2 id=\"n12\">12. [step5] step five: carry a copy</h2>"));
    assert_non_null(strstr(s, "<kbd>3</kbd> <kbd>#</kbd> <kbd>#</kbd> <kbd>#</kbd> "
                              "<kbd>#</kbd> <kbd>#</kbd></p>"));
    /* The choices are a list, a sentence an item. A key is never alone at the start of a
     * line, nor a number to call cut in two, however narrow the window (as in the text form:
     * a no-break space where the text form does not break). */
    assert_non_null(strstr(s, "<ul>\n<li>To hear the safety and help lines, press&nbsp;1.</li>\n"));
    assert_non_null(strstr(s, "If you are in danger now, call 911.</p>"));
    /* Text with an apostrophe is escaped. */
    assert_non_null(strstr(s, "the court&#39;s computer system"));
    char *words = html_text(s);
    expect_nodes_in_order(g, EN, words);
    free(words);
    free(s);
}

static void html_in_spanish_marks_the_english_labels(void **state)
{
    struct guide *g = *state;
    char *s = script(g->m, g->ph, ES, TT_SCRIPT_HTML, NULL, g->d);
    assert_int_equal(expect_well_formed(s), GUIDE_NODES + 4);
    assert_non_null(strstr(s, "<html lang=\"es\">"));
    assert_non_null(strstr(s, "<span lang=\"en\">Keys:</span>"));
    assert_non_null(strstr(s, "<h2 id=\"contents\"><span lang=\"en\">Contents</span></h2>"));
    /* Help offers English in English words, marked so a screen reader says them in English;
     * so does the start of a session. */
    assert_int_equal(count(s, "<li lang=\"en\">For English, press&nbsp;8.</li>"), 2);
    char *words = html_text(s);
    expect_nodes_in_order(g, ES, words);
    free(words);
    free(s);
}

/* ---- Any menu a writer can write ------------------------------------------------------------- */

/* Say-as marks in a text and a short text: the script shows each number as written, in
 * every form, and never the spoken digit groups. */
static const char sayas_ini[] =
    "[tonetree]\n"
    "start = main\n"
    "[main]\n"
    "title = the main menu\n"
    "text = Call {tel:1-800-799-7233} or text {digits:88788}. Your case is {digits:2031-0001}. \\\n"
    "The hearing is on {date:2027-03-05}.\n"
    "short = Again, call {tel:911}.\n"
    "1 = more\n"
    "[more]\n"
    "title = more\n"
    "text = More.\n";

static void numbers_are_shown_as_written_never_as_spoken_digit_groups(void **state)
{
    (void)state;
    tt_menu *m = tl_menu(sayas_ini);
    tt_phrases *ph[TT_MAX_LANGS] = {0};
    tl_phrases(m, ph);
    tt_diag *d = tt_diag_new();
    /* What the voice gets, to be sure it is not what the page shows. */
    assert_non_null(strstr(m->nodes[0].text[0], "1. 8 0 0. 7 9 9. 7 2 3 3."));
    assert_non_null(strstr(m->nodes[0].brief[0], "9 1 1."));
    static const char *const shown[] = {
        "Call 1-800-799-7233 or text 88788. Your case is 2031-0001. The hearing is on March "
        "5, 2027.",
        "Again, call 911.",
    };
    static const char *const spoken[] = {"8 0 0", "8 8 7", "2 0 3 1", "9 1 1"};
    for (int fmt = TT_SCRIPT_TXT; fmt <= TT_SCRIPT_HTML; fmt++) {
        char *s = script(m, ph, 0, (enum tt_script_format)fmt, NULL, d);
        char *words = fmt == TT_SCRIPT_HTML ? html_text(s)
                      : fmt == TT_SCRIPT_MD ? md_text(s)
                                            : squeeze(s);
        const char *at = find_after(words, words, shown[0]);
        find_after(words, at, shown[1]);
        for (size_t i = 0; i < sizeof(spoken) / sizeof(spoken[0]); i++)
            if (strstr(words, spoken[i]))
                fail_msg("format %d shows the spoken \"%s\"", fmt, spoken[i]);
        free(words);
        free(s);
    }
    tt_diag_free(d);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
}

/* A language key works everywhere, so it is never the example of a wrong key, and the
 * introduction names it where it was moved to. */
static void a_language_key_is_no_example_of_a_wrong_key(void **state)
{
    (void)state;
    tt_menu *m = tl_menu("[tonetree]\nstart = main\nlanguages = en, es\nkey.lang.es = 3\n"
                         "[main]\ntitle = the main menu\ntitle.es = el menú\ntext = Welcome.\n"
                         "text.es = Bienvenidos.\n1 = a\n2 = b\n"
                         "[a]\ntitle = part a\ntitle.es = parte a\ntext = A.\ntext.es = A.\n"
                         "[b]\ntitle = part b\ntitle.es = parte b\ntext = B.\ntext.es = B.\n");
    tt_phrases *ph[TT_MAX_LANGS] = {0};
    tl_phrases(m, ph);
    tt_diag *d = tt_diag_new();
    char *s = script(m, ph, 0, TT_SCRIPT_TXT, NULL, d);
    char *words = squeeze(s);
    find_after(words, words, "Language keys, the same on every node: 8 for en, 3 for es.");
    find_after(words, words, "for example 4 (then the choices again): 4 is not a choice here.");
    assert_null(strstr(words, "3 is not a choice"));
    free(words);
    free(s);
    tt_diag_free(d);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
}

static const char tricky_ini[] =
    "[tonetree]\n"
    "title = A <b>\"loud\"</b> & 'odd' menu\n"
    "start = main\n"
    "[main]\n"
    "title = the \"main\" <menu> & a\\b\n"
    "text = \"1. Hello & <welcome> it's * _under_ [link](x) `code` # sharp | pipe\"\n"
    "1 = second\n"
    "2 = pages\n"
    "[second]\n"
    "title = the second node\n"
    "text = Second.\n"
    "[pages]\n"
    "title = pages\n"
    "text = Page one.\n"
    "next = pages2\n"
    "[pages2]\n"
    "title = page two\n"
    "text = Page two.\n"
    "3 = second\n"
    "[orphan]\n"
    "title = a lost node\n"
    "text = Nobody hears this.\n"
    "1 = orphan-child\n"
    "[orphan-child]\n"
    "title = its child\n"
    "text = Nor this.\n";

static void html_escapes_whatever_a_writer_wrote(void **state)
{
    (void)state;
    tt_menu *m = tl_menu(tricky_ini);
    tt_phrases *ph[TT_MAX_LANGS] = {0};
    tl_phrases(m, ph);
    tt_diag *d = tt_diag_new();
    char *s = script(m, ph, 0, TT_SCRIPT_HTML, NULL, d);
    /* the contents, the nodes, the unreachable heading, help, settings, the other words */
    assert_int_equal(expect_well_formed(s), 1 + 6 + 1 + 3);
    assert_non_null(strstr(s, "the &quot;main&quot; &lt;menu&gt; &amp; a\\b"));
    assert_non_null(strstr(s, "<title>A &lt;b&gt;&quot;loud&quot;&lt;/b&gt; &amp; &#39;odd&#39; "
                              "menu (en)</title>"));
    assert_non_null(strstr(s, "1. Hello &amp; &lt;welcome&gt; it&#39;s"));
    char *words = html_text(s);
    assert_non_null(strstr(words, "1. Hello & <welcome> it's * _under_ [link](x) `code` # "
                                  "sharp | pipe"));
    free(words);
    free(s);

    /* Markdown shows the same characters rather than reading them as markup. */
    s = script(m, ph, 0, TT_SCRIPT_MD, NULL, d);
    assert_non_null(strstr(s, "\n1\\. Hello \\& \\<welcome\\> it's \\* \\_under\\_ \\[link\\](x) "
                              "\\`code\\` \\# sharp \\| pipe\n"));
    words = md_text(s);
    assert_non_null(strstr(words, "1. Hello & <welcome> it's * _under_ [link](x) `code` # "
                                  "sharp | pipe"));
    free(words);
    free(s);
    tt_diag_free(d);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
}

static void unreachable_nodes_come_last_under_their_own_heading(void **state)
{
    (void)state;
    tt_menu *m = tl_menu(tricky_ini);
    tt_phrases *ph[TT_MAX_LANGS] = {0};
    tl_phrases(m, ph);
    tt_diag *d = tt_diag_new();
    char *s = script(m, ph, 0, TT_SCRIPT_TXT, NULL, d);
    char *words = squeeze(s);
    const char *at = find_after(words, words, "4. [pages2] page two Keys: 2 #");
    /* Reached first by 1 from the start, so pages2's 3 does not list it again. */
    assert_int_equal(count(words, "[second]"), 1);
    at = find_after(words, at, "To hear the second node, press 3.");
    at = find_after(words, at, "Not reachable from the start");
    at = find_after(words, at, "5. [orphan] a lost node Keys: none, no key leads here from "
                               "the start");
    at = find_after(words, at, "To hear its child, press 1.");
    at = find_after(words, at, "6. [orphan-child] its child Keys: none, no key leads here");
    /* Its way back is the node that chooses it. */
    at = find_after(words, at, "Nor this. Choices: To go back to a lost node, press star.");
    find_after(words, at, "Help Keys: 0");
    free(words);
    free(s);
    tt_diag_free(d);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
}

static void a_long_page_sequence_counts_its_presses(void **state)
{
    (void)state;
    char ini[4096];
    size_t n = (size_t)snprintf(ini, sizeof(ini), "[tonetree]\nstart = main\n"
                                "[main]\ntitle = main\ntext = Main.\n1 = p0\n");
    for (int i = 0; i < 12; i++) {
        n += (size_t)snprintf(ini + n, sizeof(ini) - n, "[p%d]\ntitle = page %d\ntext = P.\n",
                              i, i);
        if (i < 11)
            n += (size_t)snprintf(ini + n, sizeof(ini) - n, "next = p%d\n", i + 1);
    }
    tt_menu *m = tl_menu(ini);
    tt_phrases *ph[TT_MAX_LANGS] = {0};
    tl_phrases(m, ph);
    tt_diag *d = tt_diag_new();
    char *s = script(m, ph, 0, TT_SCRIPT_TXT, NULL, d);
    expect_keys(s, "[p9] page 9", "Keys: 1 # # # # # # # # #");
    expect_keys(s, "[p10] page 10", "Keys: 1 # (10 times)");
    expect_keys(s, "[p11] page 11", "Keys: 1 # (11 times)");
    free(s);
    s = script(m, ph, 0, TT_SCRIPT_HTML, NULL, d);
    assert_non_null(strstr(s, "<kbd>1</kbd> <kbd>#</kbd> (11 times)</p>"));
    free(s);
    tt_diag_free(d);
    tl_phrases_free(m, ph);
    tt_menu_free(m);
}

static void recordings_are_named_where_they_stand_in(void **state)
{
    struct guide *g = *state;
    char *dir = tl_tmpdir();
    char path[512];
    snprintf(path, sizeof(path), "%s/en", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/en/step1.wav", dir);
    int16_t pcm[1600] = {0};
    tl_write_wav(path, pcm, 1600, 16000);
    /* The short text has a recording of its own. */
    char brief[512];
    snprintf(brief, sizeof(brief), "%s/en/main.short.wav", dir);
    tl_write_wav(brief, pcm, 1600, 16000);

    struct tt_script_opts o = {.prompts_dir = dir};
    char *s = script(g->m, g->ph, EN, TT_SCRIPT_TXT, &o, g->d);
    char *words = squeeze(s);
    char note[1200];
    snprintf(note, sizeof(note), "7. [step1] the steps Keys: 3 "
             "Recorded: %s (people hear the recording; the text below is its transcript) "
             "There are five steps.", path);
    find_after(words, words, note);
    snprintf(note, sizeof(note), "On a return visit, said instead of the text above: Recorded: "
             "%s (people hear the recording; the text below is its transcript) Main menu.",
             brief);
    find_after(words, words, note);
    assert_int_equal(count(words, "Recorded:"), 2);
    free(words);
    free(s);
    /* Spanish has no recording of it. */
    s = script(g->m, g->ph, ES, TT_SCRIPT_TXT, &o, g->d);
    assert_null(strstr(s, "Recorded:"));
    free(s);
    tl_rmtree(dir);
    free(dir);
}

static void bad_options_are_refused(void **state)
{
    struct guide *g = *state;
    FILE *f = fopen("/dev/null", "w");
    assert_non_null(f);
    struct tt_script_opts o = {.width = 10};
    assert_int_equal(tt_script_write(f, g->m, g->ph, EN, TT_SCRIPT_TXT, &o, g->d), EINVAL);
    assert_int_equal(tt_script_write(f, g->m, g->ph, 5, TT_SCRIPT_TXT, NULL, g->d), EINVAL);
    assert_int_equal(tt_diag_count(g->d, TT_ERROR), 2);
    tt_diag_clear(g->d);
    fclose(f);
    enum tt_script_format fmt;
    assert_int_equal(tt_script_format_parse("html", &fmt), 0);
    assert_int_equal(fmt, TT_SCRIPT_HTML);
    assert_int_equal(tt_script_format_parse("markdown", &fmt), 0);
    assert_int_equal(fmt, TT_SCRIPT_MD);
    assert_int_equal(tt_script_format_parse("text", &fmt), 0);
    assert_int_equal(fmt, TT_SCRIPT_TXT);
    assert_int_equal(tt_script_format_parse("pdf", &fmt), EINVAL);
}

/* ---- prompts --list and --missing ----------------------------------------------------------- */

#define RATE 16000

static const char two_lang_ini[] =
    "[tonetree]\n"
    "start = main\n"
    "languages = en, es\n"
    "[main]\n"
    "title = the main menu\n"
    "title.es = el menú principal\n"
    "text = Welcome.\n"
    "text.es = Bienvenidos.\n"
    "1 = info\n"
    "2 = more\n"
    "[info]\n"
    "title = information\n"
    "title.es = información\n"
    "text = Here are the facts.\n"
    "text.es = Estos son los datos.\n"
    "[more]\n"
    "title = more\n"
    "title.es = más\n"
    "text = More facts.\n"
    "text.es = Más datos.\n";

struct lists {
    char *dir;
    tt_menu *m;
    tt_store *store;
    tt_diag *d;
    char recorded[512];
};

static void lists_open(struct lists *l)
{
    char sub[512];
    l->dir = tl_tmpdir();
    snprintf(sub, sizeof(sub), "%s/en", l->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(sub, sizeof(sub), "%s/es", l->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    /* The clerk's own voice for the English welcome: 1.5 s of a quiet tone. */
    snprintf(l->recorded, sizeof(l->recorded), "%s/en/main.wav", l->dir);
    size_t n = RATE * 3 / 2;
    int16_t *pcm = malloc(n * sizeof(*pcm));
    assert_non_null(pcm);
    for (size_t i = 0; i < n; i++)
        pcm[i] = (int16_t)(3000 * sin(2 * M_PI * 220 * (double)i / RATE));
    tl_write_wav(l->recorded, pcm, n, RATE);
    free(pcm);
    l->m = tl_menu(two_lang_ini);
    l->d = tt_diag_new();
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = l->dir, .cache_dir = NULL};
    assert_int_equal(tt_store_new(&l->store, &so, l->d), 0);
}

static void lists_close(struct lists *l)
{
    tt_store_free(l->store);
    tt_menu_free(l->m);
    tt_diag_free(l->d);
    tl_rmtree(l->dir);
    free(l->dir);
}

static char *list(struct lists *l, bool missing, int lang)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct tt_prompts_list_opts o = {
        .rate = RATE, .prompts_dir = l->dir, .lang = lang, .missing_only = missing};
    int err = tt_prompts_list(f, l->store, l->m, &o, l->d);
    if (err)
        tt_diag_print(l->d, stderr);
    assert_int_equal(err, 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void prompt_list_says_recorded_or_synthesized_and_how_long(void **state)
{
    (void)state;
    struct lists l;
    lists_open(&l);
    char *s = list(&l, false, -1);
    char line[700];
    snprintf(line, sizeof(line), "[main] recorded, 1.5 s: %s\n  Welcome.\n", l.recorded);
    assert_non_null(strstr(s, line));
    assert_int_equal(count(s, "] recorded, "), 1);
    /* Everything else is synthesized, in both languages, with a real length. */
    assert_int_equal(count(s, "] synthesized, "), 5);
    const char *es = strstr(s, "Language es");
    assert_non_null(es);
    const char *main_es = strstr(es, "[main] synthesized, ");
    assert_non_null(main_es);
    double secs = atof(main_es + strlen("[main] synthesized, "));
    assert_true(secs > 0.2 && secs < 5);
    assert_non_null(strstr(main_es, "\n  Bienvenidos.\n"));
    assert_non_null(strstr(s, "Language en: 1 recorded, 2 synthesized"));
    assert_non_null(strstr(s, "Language es: 0 recorded, 3 synthesized"));
    /* In reading order: main, then its choices 1 and 2. */
    const char *a = strstr(s, "[main]"), *b = strstr(s, "[info]"), *c = strstr(s, "[more]");
    assert_true(a && b && c && a < b && b < c);
    free(s);
    lists_close(&l);
}

static void recording_script_lists_exactly_what_is_missing(void **state)
{
    (void)state;
    struct lists l;
    lists_open(&l);
    struct tt_store_stats st;
    char *s = list(&l, true, -1);
    /* A recording script synthesizes nothing: it only names files and words. */
    tt_store_stats(l.store, &st);
    assert_int_equal(st.synthesized, 0);
    assert_int_equal(count(s, "File: "), 5);
    const char *want[][3] = {
        {"en", "info", "Here are the facts."}, {"en", "more", "More facts."},
        {"es", "main", "Bienvenidos."},        {"es", "info", "Estos son los datos."},
        {"es", "more", "Más datos."},
    };
    const char *at = s;
    for (size_t i = 0; i < 5; i++) {
        char file[700];
        snprintf(file, sizeof(file), "File: %s/%s/%s.wav\n\n%s\n", l.dir, want[i][0],
                 want[i][1], want[i][2]);
        const char *p = strstr(at, file);
        if (!p)
            fail_msg("missing from the recording script, in order: %s", file);
        at = p;
    }
    char rec[600];
    snprintf(rec, sizeof(rec), "File: %s", l.recorded);
    assert_null(strstr(s, rec));
    assert_non_null(strstr(s, "Language en: 2 recordings to make."));
    assert_non_null(strstr(s, "Language es: 3 recordings to make."));
    assert_non_null(strstr(s, "1 of 3. [main] el menú principal\n"));
    assert_non_null(strstr(s, "5 recordings to make in all."));
    free(s);

    /* One language at a time, for one speaker in the booth. */
    s = list(&l, true, 0);
    assert_int_equal(count(s, "File: "), 2);
    assert_null(strstr(s, "Language es"));
    free(s);
    lists_close(&l);
}

static void a_recording_that_cannot_be_played_is_still_missing(void **state)
{
    (void)state;
    struct lists l;
    lists_open(&l);
    char bad[512];
    snprintf(bad, sizeof(bad), "%s/es/info.wav", l.dir);
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("not a sound file", f);
    fclose(f);
    char *s = list(&l, true, 1);
    char line[700];
    snprintf(line, sizeof(line), "File: %s (the file there cannot be played: record it again)",
             bad);
    assert_non_null(strstr(s, line));
    assert_int_equal(count(s, "File: "), 3);
    free(s);
    assert_true(tt_diag_count(l.d, TT_WARNING) >= 1);
    lists_close(&l);
}

/* Tools that measure phrases one at a time (bench_voices) take them from the same code as the
 * session: joined with spaces, the sentences one by one are exactly what the engine says, for
 * every node, every way back, both languages, help and settings; and each is its phrase. */
static char *joined(struct tt_said *each, int n)
{
    struct tt_strbuf sb;
    tt_sb_init(&sb);
    for (int i = 0; i < n; i++) {
        if (i)
            tt_sb_add(&sb, " ");
        tt_sb_add(&sb, each[i].text);
        free(each[i].text);
    }
    return tt_sb_take(&sb);
}

static void sentences_one_by_one_are_what_the_engine_says(void **state)
{
    struct guide *g = *state;
    const tt_menu *m = g->m;
    struct tt_said each[TT_MAX_SAID + TT_MAX_LANGS];
    size_t checked = 0;
    for (size_t lang = 0; lang < m->nlangs; lang++) {
        for (size_t node = 0; node < m->nnodes; node++)
            for (int back = -1; back < (int)m->nnodes; back += 1 + (back < 0 ? 0 : 4)) {
                int n = tt_compose_choices_each(m, g->ph, (int)lang, (int)node, back, each,
                                                TT_MAX_SAID);
                assert_true(n >= 1);
                /* each sentence names its phrase: one CHOICE per child, first; the help
                 * hint last at the start node */
                int children = 0, choices = 0;
                for (const char *k = "1234567890"; *k; k++)
                    children += tt_node_choice(&m->nodes[node], *k) >= 0;
                for (int i = 0; i < n; i++) {
                    choices += each[i].id == TT_PH_CHOICE;
                    assert_true(each[i].id != TT_PH_CHOICE || i < children);
                }
                assert_int_equal(choices, children);
                if ((int)node == m->start && !m->nodes[node].input)
                    assert_int_equal(each[n - 1].id, TT_PH_HELP_HINT);
                char *one_by_one = joined(each, n);
                char *whole = tt_compose_choices(m, g->ph, (int)lang, (int)node, back);
                assert_non_null(whole);
                assert_string_equal(one_by_one, whole);
                free(one_by_one);
                free(whole);
                checked++;
            }
        for (int settings = 0; settings < 2; settings++) {
            struct tt_help_menu h;
            tt_help_build(m, (int)lang, settings, &h);
            int n = tt_compose_help_each(m, g->ph, (int)lang, &h, each,
                                         TT_MAX_SAID + TT_MAX_LANGS);
            assert_true(n >= 2);
            assert_int_equal(each[0].id, settings ? TT_PH_SETTINGS : TT_PH_HELP);
            /* help's first item is the safety node, by its title, like a choice */
            if (!settings && m->safety >= 0)
                assert_int_equal(each[1].id, TT_PH_CHOICE);
            char *one_by_one = joined(each, n);
            char *whole = tt_compose_help(m, g->ph, (int)lang, &h, -1);
            assert_string_equal(one_by_one, whole);
            free(one_by_one);
            free(whole);
        }
    }
    assert_true(checked > 2 * GUIDE_NODES);
    /* Too little room is refused whole, with nothing left to free (ASan checks the leak). */
    assert_int_equal(tt_compose_choices_each(m, g->ph, 0, m->start, -1, each, 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(txt_reads_every_node_in_order_with_its_choices),
        cmocka_unit_test(txt_gives_the_keys_to_each_node),
        cmocka_unit_test(txt_fits_the_width_asked_for),
        cmocka_unit_test(spanish_script_uses_the_spanish_words),
        cmocka_unit_test(the_start_of_a_session_and_return_visits_are_in_the_script),
        cmocka_unit_test(md_has_a_heading_per_node),
        cmocka_unit_test(html_is_a_well_formed_accessible_page),
        cmocka_unit_test(html_in_spanish_marks_the_english_labels),
        cmocka_unit_test(recordings_are_named_where_they_stand_in),
        cmocka_unit_test(bad_options_are_refused),
        cmocka_unit_test(sentences_one_by_one_are_what_the_engine_says),
    };
    const struct CMUnitTest any_menu[] = {
        cmocka_unit_test(numbers_are_shown_as_written_never_as_spoken_digit_groups),
        cmocka_unit_test(a_language_key_is_no_example_of_a_wrong_key),
        cmocka_unit_test(html_escapes_whatever_a_writer_wrote),
        cmocka_unit_test(unreachable_nodes_come_last_under_their_own_heading),
        cmocka_unit_test(a_long_page_sequence_counts_its_presses),
        cmocka_unit_test(prompt_list_says_recorded_or_synthesized_and_how_long),
        cmocka_unit_test(recording_script_lists_exactly_what_is_missing),
        cmocka_unit_test(a_recording_that_cannot_be_played_is_still_missing),
    };
    int failed = cmocka_run_group_tests_name("script of the guide", tests, guide_setup,
                                             guide_teardown);
    failed += cmocka_run_group_tests_name("scripts and prompt lists", any_menu, NULL, NULL);
    return failed;
}
