/*
 * The line scan of small INI files (see iniscan.h).
 *
 * Lines are read as iniparser 4.1 reads them, as menu_scan.c does: spaces at the end of a line
 * go, a line ending in \ is joined to the next in one buffer of TT_INI_LINE_MAX bytes, a line
 * starting with ; or # is a comment, [name] starts a section, name = value sets a key, and any
 * other line makes iniparser refuse the whole file. Everything kept is copied once into one
 * block sized for the file, and duplicates are found by sorting, so the scan stays
 * O(n log n) however the bytes are made.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/iniscan.h"

_Thread_local unsigned long tt_iniscan_misses;

struct scan {
    struct tt_iniscan *s;
    tt_text_report_fn *report;
    void *arg;
    size_t text_cap;
    int cur;                 /* the current section line, -1 before any */
    char line[TT_INI_LINE_MAX + 1];
    size_t llen;
    int first_line;          /* the physical line where the current logical line began */
    bool continued;          /* the last physical line ended with \ */
};

static void say(struct scan *sc, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct scan *sc, int line, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    sc->report(sc->arg, line, text);
}

/* iniparser trims with isspace() in the C locale: exactly these six. */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A NUL-terminated copy in the scan's block (sized in tt_iniscan_run so that it never fills). */
static const char *keep(struct scan *sc, const char *p, size_t n, bool lowercase)
{
    struct tt_iniscan *s = sc->s;
    if (s->text_len + n + 1 > sc->text_cap)
        abort(); /* the size computed in tt_iniscan_run is wrong: a bug, not an input */
    char *out = s->text + s->text_len;
    for (size_t i = 0; i < n; i++)
        out[i] = lowercase ? lower(p[i]) : p[i];
    out[n] = '\0';
    s->text_len += n + 1;
    return out;
}

static int add(struct scan *sc, const struct tt_iniscan_line *l)
{
    struct tt_iniscan *s = sc->s;
    if (s->n == s->cap) {
        size_t c = s->cap ? s->cap * 2 : 32;
        struct tt_iniscan_line *g = realloc(s->l, c * sizeof(*g));
        if (!g)
            return ENOMEM;
        s->l = g;
        s->cap = c;
    }
    s->l[s->n++] = *l;
    return 0;
}

/* How iniparser reads a value: in "double" or 'single' quotes it is kept whole up to the next
 * quote of its kind, and what follows is dropped; otherwise it ends at the first ; or #. */
static void read_value(struct tt_iniscan_line *l)
{
    const char *v = l->value;
    size_t n = strlen(v);
    if (!n)
        return;
    if (v[0] == '"' || v[0] == '\'') {
        const char *close = memchr(v + 1, v[0], n - 1);
        if (!close) {
            l->unclosed = true;
            return;
        }
        const char *after = close + 1;
        while (is_space(*after))
            after++;
        if (*after && *after != ';' && *after != '#')
            l->rest = after;
        return;
    }
    l->cut = strpbrk(v, ";#");
}

static void unreadable(struct scan *sc, const char *s, size_t n, const char *eq, int line)
{
    sc->s->fatal = true;
    if (s[0] == '[')
        say(sc, line,
            "this line starts like a [section] but does not end with ]: a [section] stands "
            "alone on its line (put a comment on a line of its own)");
    else if (eq == s)
        say(sc, line, "this line has no name before the =");
    else
        say(sc, line,
            "this line is not a [section], a name = value or a comment (a comment line starts "
            "with ;): '%.*s'",
            (int)(n > 40 ? 40 : n), s);
}

/* One logical line (continuations joined, trailing spaces gone), classified as iniparser 4.1's
 * iniparser_line() does. */
static int logical_line(struct scan *sc, const char *s, size_t n, int line)
{
    while (n && is_space(*s))
        s++, n--;
    if (n == 0 || s[0] == ';' || s[0] == '#')
        return 0;
    struct tt_iniscan_line l = {.line = line, .section = -1};
    if (s[0] == '[' && s[n - 1] == ']') {
        /* iniparser takes the name up to the first ] */
        const char *name = s + 1;
        size_t k = (size_t)((const char *)memchr(name, ']', n - 1) - name);
        while (k && is_space(*name))
            name++, k--;
        while (k && is_space(name[k - 1]))
            k--;
        if (!k) {
            /* iniparser would stay in the section before, under a garbled name */
            sc->s->fatal = true;
            say(sc, line, "this [section] has no name between its brackets");
            return 0;
        }
        l.kind = TT_INISCAN_SECTION;
        l.name = keep(sc, name, k, true);
        l.raw = keep(sc, name, k, false);
        sc->cur = (int)sc->s->n;
        return add(sc, &l);
    }
    const char *eq = memchr(s, '=', n);
    if (!eq || eq == s || s[0] == '[') {
        /* "[phrases] ; a = b" is no section to iniparser but a key named "[phrases] ; a" */
        unreadable(sc, s, n, eq, line);
        return 0;
    }
    size_t k = (size_t)(eq - s);
    while (k && is_space(s[k - 1]))
        k--;
    const char *v = eq + 1, *end = s + n;
    while (v < end && is_space(*v))
        v++;
    l.kind = TT_INISCAN_KEY;
    l.name = keep(sc, s, k, true);
    l.raw = keep(sc, s, k, false);
    l.value = keep(sc, v, (size_t)(end - v), false);
    l.section = sc->cur;
    read_value(&l);
    return add(sc, &l);
}

static _Thread_local const struct tt_iniscan_line *sort_lines; /* qsort has no argument: set while sorting */

static int by_place(const void *a, const void *b)
{
    const struct tt_iniscan_line *x = &sort_lines[*(const size_t *)a];
    const struct tt_iniscan_line *y = &sort_lines[*(const size_t *)b];
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->section != y->section)
        return x->section < y->section ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

static void sort_by_place(const struct tt_iniscan *s, size_t *order)
{
    for (size_t i = 0; i < s->n; i++)
        order[i] = i;
    sort_lines = s->l;
    qsort(order, s->n, sizeof(*order), by_place);
    sort_lines = NULL;
}

/* A repeated [section] is merged by iniparser, and the keys after it join the first one; of two
 * equal keys in one section iniparser keeps the last. Mark each later one with the first's
 * line. */
static int find_repeats(struct scan *sc)
{
    struct tt_iniscan *s = sc->s;
    size_t *order = malloc((s->n ? s->n : 1) * sizeof(*order));
    if (!order)
        return ENOMEM;
    /* Sections first: the keys' section becomes the first header of its name. */
    sort_by_place(s, order);
    for (size_t i = 1; i < s->n; i++) {
        struct tt_iniscan_line *a = &s->l[order[i - 1]], *b = &s->l[order[i]];
        if (b->kind != TT_INISCAN_SECTION || a->kind != TT_INISCAN_SECTION ||
            strcmp(a->name, b->name))
            continue;
        b->first = a->first ? a->first : a->line;
        b->section = a->section >= 0 ? a->section : (int)order[i - 1];
        say(sc, b->line,
            "[%.40s] was already started on line %d: the reader would quietly merge the two; "
            "join them into one",
            b->raw, b->first);
    }
    for (size_t i = 0; i < s->n; i++) {
        struct tt_iniscan_line *l = &s->l[i];
        if (l->kind == TT_INISCAN_KEY && l->section >= 0 && s->l[l->section].section >= 0)
            l->section = s->l[l->section].section;
    }
    /* Then the keys, by section and name. */
    sort_by_place(s, order);
    for (size_t i = 1; i < s->n; i++) {
        struct tt_iniscan_line *a = &s->l[order[i - 1]], *b = &s->l[order[i]];
        if (b->kind == TT_INISCAN_KEY && a->kind == TT_INISCAN_KEY &&
            a->section == b->section && !strcmp(a->name, b->name))
            b->first = a->first ? a->first : a->line;
    }
    free(order);
    return 0;
}

int tt_iniscan_run(struct tt_iniscan *s, const char *data, size_t len, const char *what,
                   tt_text_report_fn *report, void *arg)
{
    memset(s, 0, sizeof(*s));
    if (tt_text_check(data, len, what, report, arg) == TT_TEXT_NOT_TEXT) {
        s->fatal = true;
        return 0;
    }
    struct scan *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return ENOMEM;
    /* A logical line of L bytes keeps at most 2L + 3 (its name twice and its value, each with
     * a NUL); the logical lines hold at most len bytes between them and number at most one per
     * newline, plus one. */
    sc->text_cap = 5 * len + 8;
    s->text = malloc(sc->text_cap);
    if (!s->text) {
        free(sc);
        return ENOMEM;
    }
    sc->s = s;
    sc->report = report;
    sc->arg = arg;
    sc->cur = -1;

    int err = 0, lineno = 0;
    for (size_t pos = 0; pos < len && !err;) {
        const char *p = data + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t plen = nl ? (size_t)(nl - p) : len - pos;
        pos += plen + (nl ? 1 : 0);
        lineno++;
        if (sc->llen == 0)
            sc->first_line = lineno;
        if (sc->llen + plen > TT_INI_LINE_MAX) {
            char joined[48] = "";
            if (lineno != sc->first_line)
                snprintf(joined, sizeof(joined), " (lines %d-%d joined by \\)", sc->first_line,
                         lineno);
            say(sc, sc->first_line,
                "this line is %zu bytes long%s; the reader takes at most %d: shorten it",
                sc->llen + plen, joined, TT_INI_LINE_MAX);
            s->fatal = true;
            sc->llen = 0;
            sc->continued = false;
            continue;
        }
        memcpy(sc->line + sc->llen, p, plen);
        sc->llen += plen;
        while (sc->llen && is_space(sc->line[sc->llen - 1]))
            sc->llen--;
        /* iniparser writes the next line over the backslash: the same join here. */
        if (sc->llen && sc->line[sc->llen - 1] == '\\') {
            sc->llen--;
            sc->continued = true;
            continue;
        }
        sc->continued = false;
        err = logical_line(sc, sc->line, sc->llen, sc->first_line);
        sc->llen = 0;
    }
    if (!err && sc->continued)
        say(sc, sc->first_line,
            "the last line ends with \\, which joins it to a next line that is not there: the "
            "reader would drop it (remove the \\)");
    if (!err)
        err = find_repeats(sc);
    free(sc);
    if (err)
        tt_iniscan_free(s);
    return err;
}

void tt_iniscan_free(struct tt_iniscan *s)
{
    free(s->l);
    free(s->text);
    memset(s, 0, sizeof(*s));
}
