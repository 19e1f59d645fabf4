/*
 * The line scan of INI files (see iniscan.h).
 *
 * tt_ini_lines reads lines as iniparser 4.1 reads them: spaces at the end of a line go, a line
 * ending in \ is joined to the next in one buffer of TT_INI_LINE_MAX bytes, a line starting with
 * ; or # is a comment, [name] starts a section, name = value sets a key, and any other line
 * makes iniparser refuse the whole file. It copies nothing but the line being joined, so the
 * menu loader can walk a file of thousands of sections with it at the cost of one call a line.
 *
 * tt_iniscan_run, for the small files, copies everything it keeps once into one block sized
 * for the file, and finds duplicates by sorting, so it stays O(n log n) however the bytes are
 * made.
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

/* A NUL-terminated copy in the scan's block (sized in tt_iniscan_run so that it never fills). */
static const char *keep(struct scan *sc, const char *p, size_t n, bool lowercase)
{
    struct tt_iniscan *s = sc->s;
    if (s->text_len + n + 1 > sc->text_cap)
        abort(); /* the size computed in tt_iniscan_run is wrong: a bug, not an input */
    char *out = s->text + s->text_len;
    for (size_t i = 0; i < n; i++)
        out[i] = lowercase ? tt_ini_lower(p[i]) : p[i];
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

void tt_ini_value_read(const char *v, size_t n, struct tt_ini_value *out)
{
    *out = (struct tt_ini_value){0};
    if (!n)
        return;
    if (v[0] == '"' || v[0] == '\'') {
        const char *close = memchr(v + 1, v[0], n - 1), *end = v + n;
        if (!close) {
            out->unclosed = true;
            return;
        }
        const char *after = close + 1;
        while (after < end && tt_ini_space(*after))
            after++;
        if (after < end && *after != ';' && *after != '#')
            out->rest = after;
        return;
    }
    const char *semi = memchr(v, ';', n), *hash = memchr(v, '#', n);
    out->cut = !semi ? hash : !hash ? semi : semi < hash ? semi : hash;
}

/* One logical line (continuations joined, trailing spaces gone), classified as iniparser 4.1's
 * iniparser_line() does. */
static int logical_line(const char *s, size_t n, int line, size_t offset, tt_ini_line_fn *fn,
                        void *arg)
{
    while (n && tt_ini_space(*s))
        s++, n--;
    if (n == 0)
        return 0;
    struct tt_ini_line l = {.line = line, .offset = offset, .s = s, .n = n};
    if (s[0] == ';' || s[0] == '#') {
        l.kind = TT_INI_COMMENT;
    } else if (s[0] == '[' && s[n - 1] == ']') {
        const char *name = s + 1;
        size_t k = n - 2;
        while (k && tt_ini_space(*name))
            name++, k--;
        while (k && tt_ini_space(name[k - 1]))
            k--;
        l.kind = TT_INI_SECTION;
        l.name = name;
        l.name_len = k;
    } else {
        const char *eq = memchr(s, '=', n);
        if (s[0] == '[') {
            /* "[main] ; a = b" is no section to iniparser but a key named "[main] ; a" */
            l.kind = TT_INI_UNCLOSED;
        } else if (!eq) {
            l.kind = TT_INI_NOT_INI;
        } else if (eq == s) {
            l.kind = TT_INI_NO_NAME;
        } else {
            size_t k = (size_t)(eq - s);
            while (k && tt_ini_space(s[k - 1]))
                k--;
            const char *v = eq + 1, *end = s + n;
            while (v < end && tt_ini_space(*v))
                v++;
            l.kind = TT_INI_KEY;
            l.name = s;
            l.name_len = k;
            l.value = v;
            l.value_len = (size_t)(end - v);
        }
    }
    return fn(arg, &l);
}

int tt_ini_lines(const char *data, size_t len, tt_ini_line_fn *fn, void *arg)
{
    char line[TT_INI_LINE_MAX + 1];
    size_t llen = 0, first_pos = 0;
    int err = 0, lineno = 0, first_line = 0;
    bool continued = false; /* the last physical line ended with \ */

    for (size_t pos = 0; pos < len && !err;) {
        const char *p = data + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t plen = nl ? (size_t)(nl - p) : len - pos;
        pos += plen + (nl ? 1 : 0);
        lineno++;
        /* A logical line starts on a line that no \ joins to the one before (after a line
         * holding only \, the next starts afresh: in iniparser too). */
        if (llen == 0) {
            first_line = lineno;
            first_pos = (size_t)(p - data);
        }
        if (llen + plen > TT_INI_LINE_MAX) {
            struct tt_ini_line l = {.kind = TT_INI_TOO_LONG, .line = first_line, .last = lineno,
                                    .offset = first_pos, .n = llen + plen};
            err = fn(arg, &l);
            llen = 0;
            continued = false;
            continue;
        }
        memcpy(line + llen, p, plen);
        llen += plen;
        while (llen && tt_ini_space(line[llen - 1]))
            llen--;
        /* iniparser writes the next line over the backslash: the same join here. */
        if (llen && line[llen - 1] == '\\') {
            llen--;
            continued = true;
            continue;
        }
        continued = false;
        err = logical_line(line, llen, first_line, first_pos, fn, arg);
        llen = 0;
    }
    if (!err && continued) {
        struct tt_ini_line l = {.kind = TT_INI_DANGLING, .line = first_line,
                                .offset = first_pos};
        err = fn(arg, &l);
    }
    return err;
}

static void unreadable(struct scan *sc, const struct tt_ini_line *l)
{
    sc->s->fatal = true;
    if (l->kind == TT_INI_UNCLOSED)
        say(sc, l->line,
            "this line starts like a [section] but does not end with ]: a [section] stands "
            "alone on its line (put a comment on a line of its own)");
    else if (l->kind == TT_INI_NO_NAME)
        say(sc, l->line, "this line has no name before the =");
    else
        say(sc, l->line,
            "this line is not a [section], a name = value or a comment (a comment line starts "
            "with ;): '%.*s'",
            (int)(l->n > 40 ? 40 : l->n), l->s);
}

static int section_line(struct scan *sc, const struct tt_ini_line *in)
{
    /* iniparser takes the name up to the first ] */
    const char *name = in->name;
    const char *close = memchr(name, ']', in->name_len);
    size_t k = close ? (size_t)(close - name) : in->name_len;
    while (k && tt_ini_space(name[k - 1]))
        k--;
    if (!k) {
        /* iniparser would stay in the section before, under a garbled name */
        sc->s->fatal = true;
        say(sc, in->line, "this [section] has no name between its brackets");
        return 0;
    }
    struct tt_iniscan_line l = {.kind = TT_INISCAN_SECTION, .line = in->line, .section = -1};
    l.name = keep(sc, name, k, true);
    l.raw = keep(sc, name, k, false);
    sc->cur = (int)sc->s->n;
    return add(sc, &l);
}

static int key_line(struct scan *sc, const struct tt_ini_line *in)
{
    struct tt_iniscan_line l = {.kind = TT_INISCAN_KEY, .line = in->line, .section = sc->cur};
    l.name = keep(sc, in->name, in->name_len, true);
    l.raw = keep(sc, in->name, in->name_len, false);
    l.value = keep(sc, in->value, in->value_len, false);
    struct tt_ini_value v;
    tt_ini_value_read(l.value, in->value_len, &v);
    l.cut = v.cut;
    l.rest = v.rest;
    l.unclosed = v.unclosed;
    return add(sc, &l);
}

static int on_line(void *arg, const struct tt_ini_line *l)
{
    struct scan *sc = arg;
    switch (l->kind) {
    case TT_INI_SECTION:
        return section_line(sc, l);
    case TT_INI_KEY:
        return key_line(sc, l);
    case TT_INI_COMMENT:
        return 0;
    case TT_INI_UNCLOSED:
    case TT_INI_NO_NAME:
    case TT_INI_NOT_INI:
        unreadable(sc, l);
        return 0;
    case TT_INI_TOO_LONG: {
        char joined[48] = "";
        if (l->last != l->line)
            snprintf(joined, sizeof(joined), " (lines %d-%d joined by \\)", l->line, l->last);
        say(sc, l->line, "this line is %zu bytes long%s; the reader takes at most %d: shorten it",
            l->n, joined, TT_INI_LINE_MAX);
        sc->s->fatal = true;
        return 0;
    }
    case TT_INI_DANGLING:
        say(sc, l->line,
            "the last line ends with \\, which joins it to a next line that is not there: the "
            "reader would drop it (remove the \\)");
        return 0;
    }
    return 0;
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
    /* A logical line of L bytes keeps at most 2L + 3 (its name twice and its value, each with
     * a NUL); the logical lines hold at most len bytes between them and number at most one per
     * newline, plus one. */
    struct scan sc = {.s = s, .report = report, .arg = arg, .text_cap = 5 * len + 8, .cur = -1};
    s->text = malloc(sc.text_cap);
    if (!s->text)
        return ENOMEM;
    int err = tt_ini_lines(data, len, on_line, &sc);
    if (!err)
        err = find_repeats(&sc);
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
