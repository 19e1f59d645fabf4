/*
 * Transcript lines: one event a line, "SECONDS EVENT DETAILS", e.g.
 *   12.400 say steps To hear step one, press 1.
 * The same words that are spoken go to a braille display or screen reader, and court staff
 * read these lines to review a session; so a line must be self-contained and easy to grep.
 * docs/transcript.md is the reference.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/menu.h"

/* Help is not a node of the menu; '@' cannot start a node id, so this name never collides. */
#define HELP_NAME "@help"

static const char *node_name(const tt_menu *m, int node)
{
    return node >= 0 && (size_t)node < m->nnodes ? m->nodes[node].id : HELP_NAME;
}

const char *tt_event_words(const struct tt_event *ev)
{
    if (ev->shown)
        return ev->shown;
    /* A sensitive SAY always comes with its masked words; if one ever did not, show a mark
     * rather than the words. */
    if (ev->privacy == TT_SENSITIVE)
        return "*";
    return ev->text ? ev->text : "";
}

size_t tt_event_format(const tt_menu *m, const struct tt_event *ev, char *buf, size_t size)
{
    char when[32];
    snprintf(when, sizeof(when), "%" PRId64 ".%03" PRId64, ev->at / 1000, ev->at % 1000);
    const char *node = node_name(m, ev->node);
    int n = 0;
    switch (ev->type) {
    case TT_EV_START:
        n = snprintf(buf, size, "%s start %s lang=%s", when, node, m->lang[ev->lang]);
        break;
    case TT_EV_SAY:
        n = snprintf(buf, size, "%s say %s %s", when, node, tt_event_words(ev));
        break;
    case TT_EV_STOP:
        n = snprintf(buf, size, "%s stop %s", when, node);
        break;
    case TT_EV_KEY:
        n = snprintf(buf, size, "%s key %s", when, tt_key_name(ev->key));
        break;
    case TT_EV_GO:
        n = snprintf(buf, size, "%s go %s", when, node);
        break;
    case TT_EV_INVALID:
        n = snprintf(buf, size, "%s invalid %s %s", when, tt_key_name(ev->key), node);
        break;
    case TT_EV_TIMEOUT:
        n = snprintf(buf, size, "%s timeout %s %d", when, node, ev->count);
        break;
    case TT_EV_HELP:
        n = snprintf(buf, size, "%s help %d", when, ev->count);
        break;
    case TT_EV_LANG:
        n = snprintf(buf, size, "%s lang %s", when, m->lang[ev->lang]);
        break;
    case TT_EV_RESET:
        n = snprintf(buf, size, "%s reset%s", when, ev->count ? " idle" : "");
        break;
    case TT_EV_VOLUME:
        n = snprintf(buf, size, "%s volume %d", when, ev->count);
        break;
    case TT_EV_SPEED:
        n = snprintf(buf, size, "%s speed %d", when, ev->count);
        break;
    case TT_EV_PAUSE:
        n = snprintf(buf, size, "%s pause", when);
        break;
    case TT_EV_RESUME:
        n = snprintf(buf, size, "%s resume", when);
        break;
    case TT_EV_LOOKUP: /* never the entry itself */
        n = snprintf(buf, size, "%s lookup %s", when, node);
        break;
    case TT_EV_TRANSFER: /* the menu's address, not the caller's */
        n = snprintf(buf, size, "%s transfer %s %s", when, node, ev->text ? ev->text : "");
        break;
    case TT_EV_END:
        n = snprintf(buf, size, "%s end", when);
        break;
    }
    return n < 0 ? 0 : (size_t)n;
}

char *tt_event_line(const tt_menu *m, const struct tt_event *ev)
{
    char small[256];
    size_t n = tt_event_format(m, ev, small, sizeof(small));
    char *line = malloc(n + 1);
    if (!line)
        return NULL;
    if (n < sizeof(small))
        memcpy(line, small, n + 1);
    else
        tt_event_format(m, ev, line, n + 1);
    return line;
}
