/*
 * Diagnostics: the messages a load or a run produced, kept in order until the one place that
 * reports to the user (the command line) prints them. Library code never prints by itself, so
 * an embedding program decides where messages go, and tests can read them back.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

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
    }
    d->n = 0;
    memset(d->count, 0, sizeof(d->count));
}

void tt_diag_free(tt_diag *d)
{
    if (!d)
        return;
    tt_diag_clear(d);
    free(d->msg);
    free(d);
}

void tt_diag_add(tt_diag *d, enum tt_severity sev, const char *file, int line,
                 const char *fmt, ...)
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
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    char *text = malloc((size_t)len + 1);
    if (!text)
        return;
    va_start(ap, fmt);
    vsnprintf(text, (size_t)len + 1, fmt, ap);
    va_end(ap);
    struct tt_diag_msg *m = &d->msg[d->n++];
    m->sev = sev;
    m->file = file ? strdup(file) : NULL;
    m->line = line;
    m->text = text;
    d->count[sev]++;
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

void tt_diag_print(const tt_diag *d, FILE *f)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        const struct tt_diag_msg *m = &d->msg[i];
        if (m->file && m->line > 0)
            fprintf(f, "%s:%d: %s: %s\n", m->file, m->line, sev_word(m->sev), m->text);
        else if (m->file)
            fprintf(f, "%s: %s: %s\n", m->file, sev_word(m->sev), m->text);
        else
            fprintf(f, "tonetree: %s: %s\n", sev_word(m->sev), m->text);
    }
    size_t total = d->count[TT_NOTE] + d->count[TT_WARNING] + d->count[TT_ERROR];
    if (total > d->n)
        fprintf(f, "tonetree: note: %zu more messages not shown\n", total - d->n);
}
