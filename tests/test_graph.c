/*
 * The menu as a Graphviz graph, checked on the shipped guide: every node drawn once, every
 * key an arrow labelled with that key, the start marked, and dot syntax that holds whatever a
 * writer puts in a title. Graphviz itself is not needed for these tests; when its dot is on
 * the PATH, the SVG is checked too, and when it is not, the message says what to do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "core/menu.h"
#include "testlib.h"
#include "tools/graph.h"

#define GUIDE "menus/no-contact-order.ini"

static char *graph(const tt_menu *m, int lang)
{
    char *buf = NULL;
    size_t len = 0;
    tt_diag *d = tt_diag_new();
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    int err = tt_graph_write(f, m, lang, d);
    if (err)
        tt_diag_print(d, stderr);
    assert_int_equal(err, 0);
    assert_int_equal(fclose(f), 0);
    tt_diag_free(d);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static tt_menu *guide(void)
{
    tt_diag *d = tt_diag_new();
    tt_menu *m = NULL;
    int err = tt_menu_load(&m, GUIDE, d);
    if (err)
        tt_diag_print(d, stderr);
    assert_int_equal(err, 0);
    tt_diag_free(d);
    return m;
}

/* dot's grammar, as far as we use it: comments, one statement a line ending in ';', braces
 * outside strings balanced, every string closed on its line, and only \" and \\ (and \n in
 * labels) escaped inside one. */
static void expect_dot_syntax(const char *s)
{
    int depth = 0;
    bool opened = false;
    for (const char *line = s; *line;) {
        size_t n = strcspn(line, "\n");
        if (n >= 2 && line[0] == '/' && line[1] == '/') {
            line += n + (line[n] == '\n');
            continue;
        }
        bool in_string = false;
        for (size_t i = 0; i < n; i++) {
            char c = line[i];
            if (in_string) {
                if (c == '\\') {
                    char e = line[i + 1];
                    if (e != '"' && e != '\\' && e != 'n')
                        fail_msg("odd escape \\%c in: %.*s", e, (int)n, line);
                    i++;
                } else if (c == '"') {
                    in_string = false;
                }
            } else if (c == '"') {
                in_string = true;
            } else if (c == '{') {
                depth++;
                opened = true;
            } else if (c == '}') {
                depth--;
                assert_true(depth >= 0);
            }
        }
        if (in_string)
            fail_msg("a string left open: %.*s", (int)n, line);
        bool brace = n > 0 && (line[n - 1] == '{' || line[n - 1] == '}');
        if (n > 0 && !brace && line[n - 1] != ';')
            fail_msg("a statement without ';': %.*s", (int)n, line);
        line += n + (line[n] == '\n');
    }
    assert_true(opened);
    assert_int_equal(depth, 0);
}

static void every_node_is_drawn_once(void **state)
{
    (void)state;
    tt_menu *m = guide();
    char *s = graph(m, 0);
    expect_dot_syntax(s);
    assert_true(!strncmp(s, "// ", 3));
    assert_non_null(strstr(s, "digraph \"menu\" {\n"));
    assert_int_equal(count(s, " [label=\""), m->nnodes + count(s, " -> "));
    for (size_t i = 0; i < m->nnodes; i++) {
        char decl[256];
        snprintf(decl, sizeof(decl), "\n    \"%s\" [label=\"%s\\n%s\"", m->nodes[i].id,
                 m->nodes[i].id, m->nodes[i].title[0]);
        if (count(s, decl) != 1)
            fail_msg("node %s drawn %zu times", m->nodes[i].id, count(s, decl));
    }
    /* The start has a double border, and no node is drawn as unreachable. */
    assert_non_null(strstr(s, "\"main\" [label=\"main\\nthe main menu\", peripheries=2"));
    assert_int_equal(count(s, "peripheries=2"), 1);
    assert_null(strstr(s, "dashed\"]"));
    free(s);
    tt_menu_free(m);
}

static void every_key_is_an_arrow_with_its_label(void **state)
{
    (void)state;
    tt_menu *m = guide();
    char *s = graph(m, 0);
    size_t edges = 0;
    char line[512];
    for (size_t i = 0; i < m->nnodes; i++) {
        const struct tt_node *n = &m->nodes[i];
        for (int k = 0; k < TT_MAX_CHOICES; k++) {
            if (n->choice[k] < 0)
                continue;
            snprintf(line, sizeof(line), "    \"%s\" -> \"%s\" [label=\"%d\"];\n", n->id,
                     m->nodes[n->choice[k]].id, k);
            if (!strstr(s, line))
                fail_msg("no arrow: %s", line);
            edges++;
        }
        if (n->next >= 0) {
            snprintf(line, sizeof(line), "    \"%s\" -> \"%s\" [label=\"#\"];\n", n->id,
                     m->nodes[n->next].id);
            if (!strstr(s, line))
                fail_msg("no next page arrow: %s", line);
            edges++;
        }
        if (n->prev >= 0) {
            snprintf(line, sizeof(line),
                     "    \"%s\" -> \"%s\" [label=\"*\", style=dashed, constraint=false];\n",
                     n->id, m->nodes[n->prev].id);
            if (!strstr(s, line))
                fail_msg("no previous page arrow: %s", line);
            edges++;
        }
    }
    assert_int_equal(count(s, " -> "), edges);
    /* The main menu's four choices (3 and 4 straight to the first step and the first
     * warning) and the steps' six pages are there. */
    assert_non_null(strstr(s, "\"main\" -> \"safety\" [label=\"1\"]"));
    assert_non_null(strstr(s, "\"main\" -> \"about\" [label=\"2\"]"));
    assert_non_null(strstr(s, "\"main\" -> \"step1\" [label=\"3\"]"));
    assert_non_null(strstr(s, "\"main\" -> \"warn1\" [label=\"4\"]"));
    assert_non_null(strstr(s, "\"step1\" -> \"step1b\" [label=\"#\"]"));
    assert_non_null(strstr(s, "\"step1b\" -> \"step2\" [label=\"#\"]"));
    assert_non_null(strstr(s, "\"step4\" -> \"step5\" [label=\"#\"]"));
    free(s);
    tt_menu_free(m);
}

static void spanish_titles_in_a_spanish_graph(void **state)
{
    (void)state;
    tt_menu *m = guide();
    char *s = graph(m, 1);
    expect_dot_syntax(s);
    assert_non_null(strstr(s, "\"main\" [label=\"main\\nel menú principal\""));
    assert_non_null(strstr(s, "label=\"Ayuda con órdenes de no contacto\\n"));
    free(s);
    tt_menu_free(m);
}

static void titles_cannot_break_the_graph(void **state)
{
    (void)state;
    tt_menu *m = tl_menu("[tonetree]\n"
                         "title = a \"quoted\" \\ menu\n"
                         "start = main\n"
                         "[main]\n"
                         "title = the \"main\" <menu> & a\\b \\\"\n"
                         "text = Hello.\n"
                         "1 = leaf\n"
                         "[leaf]\n"
                         "title = \"{leaf}; -> [x]\"\n"
                         "text = Leaf.\n"
                         "[lost]\n"
                         "title = lost\n"
                         "text = Lost.\n");
    char *s = graph(m, 0);
    expect_dot_syntax(s);
    assert_non_null(strstr(s, "label=\"main\\nthe \\\"main\\\" <menu> & a\\\\b \\\\\\\"\""));
    assert_non_null(strstr(s, "label=\"a \\\"quoted\\\" \\\\ menu\\n"));
    assert_non_null(strstr(s, "\"leaf\" [label=\"leaf\\n{leaf}; -> [x]\"];"));
    assert_non_null(strstr(s, "\"main\" -> \"leaf\" [label=\"1\"];"));
    /* A node no key reaches is drawn dashed. */
    assert_non_null(strstr(s, "\"lost\" [label=\"lost\\nlost\", style=\"rounded,dashed\"];"));
    free(s);
    tt_menu_free(m);
}

static bool dot_on_path(void)
{
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char *copy = strdup(path), *save = NULL;
    bool found = false;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        char full[4096];
        snprintf(full, sizeof(full), "%s/dot", *dir ? dir : ".");
        found = access(full, X_OK) == 0;
    }
    free(copy);
    return found;
}

static void svg_comes_from_dot_or_a_clear_message(void **state)
{
    (void)state;
    tt_menu *m = guide();
    tt_diag *d = tt_diag_new();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    int err = tt_graph_svg(f, m, 0, d);
    assert_int_equal(fclose(f), 0);
    if (dot_on_path()) {
        if (err)
            tt_diag_print(d, stderr);
        assert_int_equal(err, 0);
        assert_non_null(strstr(buf, "<svg"));
        assert_non_null(strstr(buf, "the main menu"));
    } else {
        assert_int_equal(err, ENOENT);
        assert_int_equal(tt_diag_len(d), 1);
        assert_non_null(strstr(tt_diag_get(d, 0)->text, "Graphviz is not installed"));
        assert_int_equal(len, 0);
    }
    free(buf);
    tt_diag_free(d);
    tt_menu_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_node_is_drawn_once),
        cmocka_unit_test(every_key_is_an_arrow_with_its_label),
        cmocka_unit_test(spanish_titles_in_a_spanish_graph),
        cmocka_unit_test(titles_cannot_break_the_graph),
        cmocka_unit_test(svg_comes_from_dot_or_a_clear_message),
    };
    return cmocka_run_group_tests_name("menu graph", tests, NULL, NULL);
}
