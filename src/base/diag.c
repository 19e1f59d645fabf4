/*
 * Diagnostics: the messages a load or a run produced, kept in order until the one place that
 * reports to the user (the command line) prints them. Library code never prints by itself, so
 * an embedding program decides where messages go, and tests can read them back.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"

struct tt_diag {
    struct tt_diag_msg *msg;
    size_t n, cap;
    size_t count[3];
};

tt_diag *tt_diag_new(void)
{
    return calloc(1, sizeof(tt_diag));
}

void tt_diag_clear(tt_diag *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->msg[i].file);
        free(d->msg[i].text);
        free(d->msg[i].rule);
    }
    d->n = 0;
    memset(d->count, 0, sizeof(d->count));
}

void tt_diag_soften(tt_diag *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        if (d->msg[i].sev == TT_ERROR)
            d->msg[i].sev = TT_WARNING;
    d->count[TT_WARNING] += d->count[TT_ERROR];
    d->count[TT_ERROR] = 0;
}

void tt_diag_free(tt_diag *d)
{
    if (!d)
        return;
    tt_diag_clear(d);
    free(d->msg);
    free(d);
}

static void diag_vadd(tt_diag *d, enum tt_severity sev, const char *file, int line,
                      const char *rule, const char *fmt, va_list ap)
{
    if (!d)
        return;
    /* A runaway file (binary junk) could produce one message per byte: the first hundreds are
     * all a person will read, and the cap keeps memory bounded whatever the input. */
    if (d->n >= TT_DIAG_MAX) {
        d->count[sev]++;
        return;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct tt_diag_msg *m = realloc(d->msg, cap * sizeof(*m));
        if (!m)
            return;
        d->msg = m;
        d->cap = cap;
    }
    va_list aq;
    va_copy(aq, ap);
    int len = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (len < 0)
        return;
    char *text = malloc((size_t)len + 1);
    if (!text)
        return;
    vsnprintf(text, (size_t)len + 1, fmt, ap);
    struct tt_diag_msg *m = &d->msg[d->n++];
    m->sev = sev;
    m->file = file ? strdup(file) : NULL;
    m->line = line;
    m->text = text;
    m->rule = rule ? strdup(rule) : NULL;
    d->count[sev]++;
}

void tt_diag_add(tt_diag *d, enum tt_severity sev, const char *file, int line,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, sev, file, line, NULL, fmt, ap);
    va_end(ap);
}

void tt_diag_add_rule(tt_diag *d, enum tt_severity sev, const char *file, int line,
                      const char *rule, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, sev, file, line, rule, fmt, ap);
    va_end(ap);
}

size_t tt_diag_count(const tt_diag *d, enum tt_severity sev)
{
    return d ? d->count[sev] : 0;
}

size_t tt_diag_len(const tt_diag *d)
{
    return d ? d->n : 0;
}

const struct tt_diag_msg *tt_diag_get(const tt_diag *d, size_t i)
{
    return d && i < d->n ? &d->msg[i] : NULL;
}

static const char *sev_word(enum tt_severity sev)
{
    switch (sev) {
    case TT_ERROR:
        return "error";
    case TT_WARNING:
        return "warning";
    default:
        return "note";
    }
}

static void print_lines(const tt_diag *d, FILE *f, bool rules)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        const struct tt_diag_msg *m = &d->msg[i];
        if (m->file && m->line > 0)
            fprintf(f, "%s:%d: %s: %s", m->file, m->line, sev_word(m->sev), m->text);
        else if (m->file)
            fprintf(f, "%s: %s: %s", m->file, sev_word(m->sev), m->text);
        else
            fprintf(f, "tonetree: %s: %s", sev_word(m->sev), m->text);
        if (rules && m->rule)
            fprintf(f, " [%s]", m->rule);
        fputc('\n', f);
    }
    size_t total = d->count[TT_NOTE] + d->count[TT_WARNING] + d->count[TT_ERROR];
    if (total > d->n)
        fprintf(f, "tonetree: note: %zu more messages not shown\n", total - d->n);
}

void tt_diag_print(const tt_diag *d, FILE *f)
{
    print_lines(d, f, false);
}

void tt_diag_print_rules(const tt_diag *d, FILE *f)
{
    print_lines(d, f, true);
}

/* The length of the UTF-8 sequence at s (at most n bytes), or 0 when it is not one: overlong
 * forms, surrogates and code points past U+10FFFF are refused, as JSON readers refuse them. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0)
        len = 2, min = 0x80, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0)
        len = 3, min = 0x800, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0)
        len = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A JSON string, or null. Messages quote the menu's own bytes (cut at a byte count, or not
 * UTF-8 at all), so every byte is checked rather than trusted. */
static void json_string(FILE *f, const char *str)
{
    if (!str) {
        fputs("null", f);
        return;
    }
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = utf8_len(s + i, n - i);
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
        } else if (c == '\n') {
            fputs("\\n", f);
        } else if (c == '\t') {
            fputs("\\t", f);
        } else if (c == '\r') {
            fputs("\\r", f);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
        } else if (!len) {
            fputs("\\ufffd", f);
        } else {
            fwrite(s + i, 1, len, f);
        }
        i += len ? len : 1;
    }
    fputc('"', f);
}

static void json_msg(FILE *f, const char *file, int line, enum tt_severity sev,
                     const char *rule, const char *text)
{
    fputs("{\"file\": ", f);
    json_string(f, file);
    fprintf(f, ", \"line\": %d, \"severity\": \"%s\", \"rule\": ", line, sev_word(sev));
    json_string(f, rule);
    fputs(", \"message\": ", f);
    json_string(f, text);
    fputc('}', f);
}

void tt_diag_print_json(const tt_diag *d, FILE *f)
{
    size_t n = d ? d->n : 0;
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        const struct tt_diag_msg *m = &d->msg[i];
        fputs(i ? ",\n " : "\n ", f);
        json_msg(f, m->file, m->line, m->sev, m->rule, m->text);
    }
    size_t total = d ? d->count[TT_NOTE] + d->count[TT_WARNING] + d->count[TT_ERROR] : 0;
    if (total > n) {
        char text[64];
        snprintf(text, sizeof(text), "%zu more messages not shown", total - n);
        fputs(n ? ",\n " : "\n ", f);
        json_msg(f, NULL, 0, TT_NOTE, NULL, text);
    }
    fputs(n || total > n ? "\n]\n" : "]\n", f);
}
