/*
 * The spoken script of a menu, for people who review it on paper, on a screen or in braille.
 *
 * A reviewer must read what a listener hears, not a paraphrase: so the words come from the
 * functions the session itself calls (tt_compose_choices, tt_compose_help, ...) with the same
 * phrases, and the way back each node offers is the one a listener who pressed the printed
 * keys is offered. The script goes node by node in the order a listener meets them (see
 * tt_walk_menu), then the nodes no key reaches, then help and settings, then the short things
 * the engine says anywhere (after a silence, a wrong key, ...).
 *
 * One walk, three forms. The text form has no tables and no long lines, because it is read on
 * braille embossers (often 40 cells a line) and in large print. The HTML page is meant to be
 * accessible itself: a heading per node, relative font sizes, black on white, no scripts, and
 * every character escaped. Labels ("Keys:", "Choices:") are in English for the staff who run
 * the tool; in a page in another language they are marked lang="en" so a screen reader says
 * them right. `make review-page` opens the page of every shipped menu in Chromium and checks
 * it with axe-core and at 200% and 400% zoom (tests/browser/).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "core/compose.h"
#include "prompt/prompt.h"
#include "tools/prompt_list.h"
#include "tools/script.h"

/* Choice keys in the order people hear them, as compose.c offers them: 1 to 9, then 0. */
static const char choice_order[] = "1234567890";

/* ---- The reading order ------------------------------------------------------------------- */

struct visit {
    int node, from, back;
    char key;
};

/* Walk from root depth first; nodes already placed are skipped. An explicit stack rather than
 * recursion: a long page sequence is a deep path, and a menu file must not be able to
 * overflow the C stack. Each node pushes at most 12 visits, so the stack is sized once. */
static void walk_from(const tt_menu *m, struct tt_walk *w, struct visit *stack, int root,
                      int root_back)
{
    size_t top = 0;
    stack[top++] = (struct visit){root, -1, root_back, 0};
    while (top) {
        struct visit v = stack[--top];
        if (w->rank[v.node] >= 0)
            continue;
        w->via[v.node] = v.from;
        w->via_key[v.node] = v.key;
        w->back[v.node] = v.back;
        w->rank[v.node] = (int)w->n;
        w->order[w->n++] = v.node;
        const struct tt_node *n = &m->nodes[v.node];
        /* Pushed in reverse, so that they come off the stack in the order a listener hears
         * them: the choices, then the next page, then the previous one. A page keeps the way
         * back of the page it was turned from; a choice makes this node the way back. */
        if (n->prev >= 0)
            stack[top++] = (struct visit){n->prev, v.node, v.back, m->keys.back};
        if (n->next >= 0)
            stack[top++] = (struct visit){n->next, v.node, v.back, m->keys.skip};
        for (int i = (int)sizeof(choice_order) - 2; i >= 0; i--) {
            int child = tt_node_choice(n, choice_order[i]);
            if (child >= 0)
                stack[top++] = (struct visit){child, v.node, v.node, choice_order[i]};
        }
    }
}

int tt_walk_menu(const tt_menu *m, struct tt_walk *w)
{
    size_t n = m->nnodes;
    int err = 0;
    int *first_parent = NULL;
    struct visit *stack = NULL;

    memset(w, 0, sizeof(*w));
    w->order = malloc((n + 1) * sizeof(int));
    w->rank = malloc((n + 1) * sizeof(int));
    w->via = malloc((n + 1) * sizeof(int));
    w->back = malloc((n + 1) * sizeof(int));
    w->via_key = malloc(n + 1);
    first_parent = malloc((n + 1) * sizeof(int));
    stack = malloc((n * 12 + 1) * sizeof(*stack));
    if (!w->order || !w->rank || !w->via || !w->back || !w->via_key || !first_parent ||
        !stack) {
        err = ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        w->rank[i] = first_parent[i] = -1;
    if (m->start >= 0 && (size_t)m->start < n)
        walk_from(m, w, stack, m->start, -1);
    w->nreach = w->n;

    /* A node no key reaches has no path to say its way back; give it the one src/prompt/prepare.c
     * prepares, the first node in file order that chooses the first page of its sequence. */
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < TT_MAX_CHOICES; k++) {
            int c = m->nodes[i].choice[k];
            if (c >= 0 && first_parent[c] < 0 && (size_t)c != i)
                first_parent[c] = (int)i;
        }
    for (size_t i = 0; i < n; i++) {
        if (w->rank[i] >= 0)
            continue;
        int head = (int)i;
        /* A page loop is a load error, but never trust a bound that is not checked here. */
        for (size_t steps = 0; m->nodes[head].prev >= 0 && steps < n; steps++)
            head = m->nodes[head].prev;
        walk_from(m, w, stack, (int)i, first_parent[head]);
    }
out:
    free(first_parent);
    free(stack);
    if (err)
        tt_walk_free(w);
    return err;
}

void tt_walk_free(struct tt_walk *w)
{
    free(w->order);
    free(w->rank);
    free(w->via);
    free(w->back);
    free(w->via_key);
    memset(w, 0, sizeof(*w));
}

bool tt_walk_reachable(const struct tt_walk *w, int node)
{
    return node >= 0 && (size_t)node < w->n && w->rank[node] >= 0 &&
           (size_t)w->rank[node] < w->nreach;
}

char *tt_walk_keys(const struct tt_walk *w, int node)
{
    if (!tt_walk_reachable(w, node))
        return strdup("");
    /* The path is read backwards from the node; at most one key per node. */
    size_t len = 0;
    for (int v = node; w->via[v] >= 0 && len < w->n; v = w->via[v])
        len++;
    char *s = malloc(len ? 2 * len : 1);
    if (!s)
        return NULL;
    size_t i = len;
    for (int v = node; i > 0; v = w->via[v]) {
        i--;
        s[2 * i] = w->via_key[v];
        s[2 * i + 1] = ' ';
    }
    s[len ? 2 * len - 1 : 0] = '\0';
    return s;
}

/* ---- Output: the three forms ------------------------------------------------------------- */

struct out {
    FILE *f;
    enum tt_script_format fmt;
    int width;
    const tt_menu *m;
    tt_phrases *const *ph;
    int lang;
    bool en_labels; /* html: labels are English words in a page in another language */
    const char *prompts_dir;
    struct tt_walk w;
};

/* One stretch of speech and the language it is said in (help offers each language in its
 * own words). */
struct part {
    char *text;
    int lang;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Is the space at e (in a word that began at s) one not to break at? Between two digits: a
 * telephone number read as "7 2 3" on one line and "3" on the next is misread. Before a short
 * last word: "press" at the end of a line and "1." alone on the next is easy to miss. */
static bool glued(const char *s, const char *e, const char *end)
{
    if (*e != ' ' || e == s || e + 1 >= end)
        return false;
    if (e[-1] >= '0' && e[-1] <= '9' && e[1] >= '0' && e[1] <= '9')
        return true;
    const char *w = e + 1;
    while (w < end && !is_space(*w))
        w++;
    return w == end && w - (e + 1) <= 3;
}

/* Text form: words filled into lines of at most width characters (counted in UTF-8
 * characters, not bytes, so Spanish lines are as long as English ones). A word longer than a
 * line gets a line of its own rather than being cut. */
static void wrapn(FILE *f, const char *s, size_t len, int width, int first, int rest)
{
    const char *end = s + len;
    int col = 0;
    bool empty = true;
    while (s < end) {
        while (s < end && is_space(*s))
            s++;
        if (s == end)
            break;
        const char *e = s;
        int chars = 0;
        for (; e < end; e++) {
            if (is_space(*e) && !glued(s, e, end))
                break;
            chars += ((unsigned char)*e & 0xc0) != 0x80;
        }
        if (!empty && col + 1 + chars > width) {
            fputc('\n', f);
            empty = true;
        }
        if (empty) {
            col = first >= 0 ? first : rest;
            fprintf(f, "%*s", col, "");
            first = -1;
            empty = false;
        } else {
            fputc(' ', f);
            col++;
        }
        fwrite(s, 1, (size_t)(e - s), f);
        col += chars;
        s = e;
    }
    if (!empty)
        fputc('\n', f);
}

void tt_script_wrap(FILE *f, const char *s, int width, int first, int rest)
{
    wrapn(f, s, strlen(s), width, first, rest);
}

static void put_htmln(FILE *f, const char *s, size_t len)
{
    for (const char *end = s + len; s < end; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void put_html(FILE *f, const char *s)
{
    put_htmln(f, s, strlen(s));
}

/* What the engine says, escaped, with a no-break space where the text form does not break a
 * line (see glued): a browser wraps the page to the window, and at 200% zoom "call 9 1" at the
 * end of one line and "1." at the start of the next is a misread emergency number. A run
 * longer than the window still breaks (overflow-wrap in the page's style). */
static void put_html_said(FILE *f, const char *s, size_t len)
{
    const char *end = s + len, *from = s;
    for (const char *p = s; p < end; p++)
        if (glued(s, p, end)) {
            put_htmln(f, from, (size_t)(p - from));
            fputs("&nbsp;", f);
            from = p + 1;
        }
    put_htmln(f, from, (size_t)(end - from));
}

/* Markdown: every character that could start markup is escaped, so a title with a * or a
 * < in it is shown, not interpreted; and a text that begins like a list ("1. 8 0 0") or a
 * heading stays a paragraph. */
static void put_mdn(FILE *f, const char *s, size_t len)
{
    const char *end = s + len, *digits = s;
    while (digits < end && *digits >= '0' && *digits <= '9')
        digits++;
    for (const char *p = s; p < end; p++) {
        bool list_mark = p == s && (*p == '-' || *p == '+' || *p == '=');
        bool numbered = digits > s && p == digits && (*p == '.' || *p == ')');
        if (strchr("\\`*_[]<>#|&~", *p) || list_mark || numbered)
            fputc('\\', f);
        fputc(is_space(*p) ? ' ' : *p, f);
    }
}

static void put_md(FILE *f, const char *s)
{
    put_mdn(f, s, strlen(s));
}

/* Words in the page's own format, escaped (text form: not wrapped; see wrap). */
static void put(const struct out *o, const char *s)
{
    if (o->fmt == TT_SCRIPT_HTML)
        put_html(o->f, s);
    else if (o->fmt == TT_SCRIPT_MD)
        put_md(o->f, s);
    else
        fputs(s, o->f);
}

/* HTML: a lang attribute when the words are not in the page's language. */
static void lang_attr(const struct out *o, int lang)
{
    if (lang != o->lang) {
        fputs(" lang=\"", o->f);
        put_html(o->f, o->m->lang[lang]);
        fputc('"', o->f);
    }
}

/* An English label, marked as such in a page in another language. */
static void label(const struct out *o, const char *s)
{
    if (o->fmt == TT_SCRIPT_HTML && o->en_labels) {
        fputs("<span lang=\"en\">", o->f);
        put_html(o->f, s);
        fputs("</span>", o->f);
    } else {
        put(o, s);
    }
}

static void rule(const struct out *o, char c)
{
    for (int i = 0; i < o->width; i++)
        fputc(c, o->f);
    fputc('\n', o->f);
}

/*
 * A section heading. prefix is English (a number and a node id, or a label), title is in the
 * script's language (may be NULL). Text form: a line of '=' for the big divisions, of '-'
 * between nodes, so a reader running a finger down the page finds each start.
 */
static void heading(const struct out *o, int level, const char *anchor, const char *prefix,
                    const char *title)
{
    FILE *f = o->f;
    switch (o->fmt) {
    case TT_SCRIPT_TXT: {
        /* Every block before ends in a blank line; what follows decides its own spacing. */
        struct tt_strbuf sb;
        tt_sb_init(&sb);
        tt_sb_add(&sb, prefix);
        if (title)
            tt_sb_sentence(&sb, title);
        rule(o, level <= 1 ? '=' : '-');
        if (sb.s)
            tt_script_wrap(f, sb.s, o->width, 0, 0);
        if (level <= 1)
            rule(o, '=');
        tt_sb_free(&sb);
        break;
    }
    case TT_SCRIPT_MD:
        fputs(level <= 1 ? "# " : level == 2 ? "\n## " : "\n### ", f);
        put_md(f, prefix);
        if (title) {
            fputc(' ', f);
            put_md(f, title);
        }
        fputs("\n\n", f);
        break;
    case TT_SCRIPT_HTML:
        fprintf(f, "<h%d", level);
        if (anchor)
            fprintf(f, " id=\"%s\"", anchor);
        fputc('>', f);
        /* A node heading's prefix is a number and an id, the same in any language. */
        if (title && level > 1)
            put_html(f, prefix);
        else
            label(o, prefix);
        if (title) {
            fputc(' ', f);
            put_html(f, title);
        }
        fprintf(f, "</h%d>\n", level);
        break;
    }
}

/* Keys as shown: a run of the same key written out up to this many times, then counted
 * ("# (40 times)"), so that a long page sequence does not fill pages with pound signs. */
#define MAX_RUN 9

/* keys ("3 # # #", one character a key) as they are shown; NULL when out of memory. */
static char *keys_shown(const char *keys)
{
    struct tt_strbuf sb;
    tt_sb_init(&sb);
    for (const char *k = keys; *k;) {
        size_t run = 0;
        const char *e = k;
        while (*e == *k) {
            run++;
            e += e[1] == ' ' ? 2 : 1;
        }
        char buf[48];
        if (sb.len)
            tt_sb_add(&sb, " ");
        if (run > MAX_RUN) {
            snprintf(buf, sizeof(buf), "%c (%zu times)", *k, run);
            tt_sb_add(&sb, buf);
        } else {
            for (size_t i = 0; i < run; i++) {
                char one[3] = {*k, i + 1 < run ? ' ' : 0, 0};
                tt_sb_add(&sb, one);
            }
        }
        k = e;
    }
    return tt_sb_take(&sb);
}

/* "Keys: 3 # #", or the reason there are none. Returns 0 or ENOMEM. */
static int keys_line(const struct out *o, const char *all_keys, const char *none)
{
    FILE *f = o->f;
    char *keys = keys_shown(all_keys);
    if (!keys)
        return ENOMEM;
    switch (o->fmt) {
    case TT_SCRIPT_TXT: {
        struct tt_strbuf sb;
        tt_sb_init(&sb);
        tt_sb_add(&sb, "Keys: ");
        tt_sb_add(&sb, *keys ? keys : none);
        if (sb.s)
            tt_script_wrap(f, sb.s, o->width, 0, 2);
        tt_sb_free(&sb);
        break;
    }
    case TT_SCRIPT_MD:
        fputs("**Keys:** ", f);
        if (*keys)
            fprintf(f, "`%s`", keys); /* only keys, digits, spaces and ( ): safe in `` */
        else
            put_md(f, none);
        fputs("\n\n", f);
        break;
    case TT_SCRIPT_HTML:
        fputs("<p class=\"keys\"><strong>", f);
        label(o, "Keys:");
        fputs("</strong> ", f);
        if (*keys) {
            /* One <kbd> per key: a screen reader says each key, a reader sees them apart.
             * A key is a token of one character; the rest is a count. */
            for (const char *k = keys; *k;) {
                size_t n = strcspn(k, " ");
                if (n == 1)
                    fputs("<kbd>", f);
                put_htmln(f, k, n);
                if (n == 1)
                    fputs("</kbd>", f);
                k += n;
                if (*k == ' ')
                    fputc(*k++, f);
            }
        } else {
            label(o, none);
        }
        fputs("</p>\n", f);
        break;
    }
    free(keys);
    return 0;
}

/* A label and a plain value on one line ("Recorded: prompts/en/step1.wav ..."). */
static void note_line(const struct out *o, const char *name, const char *value)
{
    FILE *f = o->f;
    switch (o->fmt) {
    case TT_SCRIPT_TXT: {
        struct tt_strbuf sb;
        tt_sb_init(&sb);
        tt_sb_add(&sb, name);
        tt_sb_sentence(&sb, value);
        if (sb.s)
            tt_script_wrap(f, sb.s, o->width, 0, 2);
        tt_sb_free(&sb);
        break;
    }
    case TT_SCRIPT_MD:
        fputs("**", f);
        put_md(f, name);
        fputs("** ", f);
        put_md(f, value);
        fputs("\n\n", f);
        break;
    case TT_SCRIPT_HTML:
        fputs("<p><strong>", f);
        label(o, name);
        fputs("</strong> ", f);
        label(o, value);
        fputs("</p>\n", f);
        break;
    }
}

/* Plain English prose for the staff (the introduction, explanations). */
static void prose(const struct out *o, const char *s)
{
    switch (o->fmt) {
    case TT_SCRIPT_TXT:
        tt_script_wrap(o->f, s, o->width, 0, 0);
        fputc('\n', o->f);
        break;
    case TT_SCRIPT_MD:
        put_md(o->f, s);
        fputs("\n\n", o->f);
        break;
    case TT_SCRIPT_HTML:
        fputs("<p>", o->f);
        label(o, s);
        fputs("</p>\n", o->f);
        break;
    }
}

/* What is spoken, as a paragraph. */
static void speech(const struct out *o, const char *s, int lang)
{
    switch (o->fmt) {
    case TT_SCRIPT_TXT:
        tt_script_wrap(o->f, s, o->width, 0, 0);
        fputc('\n', o->f);
        break;
    case TT_SCRIPT_MD:
        put_md(o->f, s);
        fputs("\n\n", o->f);
        break;
    case TT_SCRIPT_HTML:
        fputs("<p", o->f);
        lang_attr(o, lang);
        fputc('>', o->f);
        put_html_said(o->f, s, strlen(s));
        fputs("</p>\n", o->f);
        break;
    }
}

/* The length of the first sentence of s: up to a . ? or ! (and any closing quote or bracket)
 * followed by a space and something that can begin a sentence. A digit or a lowercase letter
 * cannot, so "1. 8 0 0." and "e.g. this" stay whole. */
static size_t sentence_len(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p != '.' && *p != '?' && *p != '!')
            continue;
        const char *e = p + 1;
        while (*e == '"' || *e == '\'' || *e == ')')
            e++;
        if (!*e)
            return (size_t)(e - s);
        if (!is_space(*e))
            continue;
        const char *next = e;
        while (is_space(*next))
            next++;
        if (!*next || !((*next >= '0' && *next <= '9') || (*next >= 'a' && *next <= 'z')))
            return (size_t)(e - s);
    }
    return strlen(s);
}

/* A label on a line of its own, before what it names ("Choices:"). */
static void list_label(const struct out *o, const char *name)
{
    FILE *f = o->f;
    if (o->fmt == TT_SCRIPT_TXT) {
        tt_script_wrap(f, name, o->width, 0, 0);
    } else if (o->fmt == TT_SCRIPT_MD) {
        fputs("**", f);
        put_md(f, name);
        fputs("**\n\n", f);
    } else {
        fputs("<p><strong>", f);
        label(o, name);
        fputs("</strong></p>\n", f);
    }
}

/* What the engine says, a sentence per line or list item: the choices, help's items. Each
 * sentence keeps its words exactly; only the spaces between sentences become line breaks. */
static void sentence_list(const struct out *o, const char *name, const struct part *parts,
                          size_t nparts)
{
    FILE *f = o->f;
    if (name)
        list_label(o, name);
    if (o->fmt == TT_SCRIPT_HTML)
        fputs("<ul>\n", f);
    for (size_t i = 0; i < nparts; i++) {
        const char *s = parts[i].text;
        while (*s) {
            while (is_space(*s))
                s++;
            if (!*s)
                break;
            size_t len = sentence_len(s);
            if (o->fmt == TT_SCRIPT_TXT) {
                wrapn(f, s, len, o->width, 2, 4);
            } else if (o->fmt == TT_SCRIPT_MD) {
                fputs("- ", f);
                put_mdn(f, s, len);
                fputc('\n', f);
            } else {
                fputs("<li", f);
                lang_attr(o, parts[i].lang);
                fputc('>', f);
                put_html_said(f, s, len);
                fputs("</li>\n", f);
            }
            s += len;
        }
    }
    if (o->fmt == TT_SCRIPT_HTML)
        fputs("</ul>\n", f);
    else
        fputc('\n', f);
}

/* ---- The script -------------------------------------------------------------------------- */

static void doc_begin(const struct out *o)
{
    const tt_menu *m = o->m;
    const char *title = m->title[o->lang] ? m->title[o->lang] : m->nodes[m->start].id;
    if (o->fmt != TT_SCRIPT_HTML) {
        heading(o, 1, NULL, "Spoken script:", title);
        return;
    }
    FILE *f = o->f;
    fputs("<!DOCTYPE html>\n<html lang=\"", f);
    put_html(f, m->lang[o->lang]);
    fputs("\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    put_html(f, title);
    fputs(" (", f);
    put_html(f, m->lang[o->lang]);
    fputs(")</title>\n", f);
    /* Large print that still follows the reader's own browser size and zoom (rem, em);
     * black on white, the highest contrast; a short measure so lines are easy to follow;
     * the reader's dark preference honoured with white on black. A word longer than the
     * window (a web address, a case number, a file name) is broken rather than left to run
     * off the side: at 200% zoom a reader who must scroll sideways for every line loses the
     * place (make review-page checks this at 200% and 400%). */
    fputs("<style>\n"
          "body { font-family: Verdana, Tahoma, Arial, sans-serif; font-size: 1.375rem;\n"
          "       line-height: 1.6; color: #000; background: #fff; max-width: 40em;\n"
          "       margin: 0 auto; padding: 1em; overflow-wrap: break-word; }\n"
          "h1 { font-size: 1.8em; line-height: 1.3; }\n"
          "h2 { font-size: 1.4em; line-height: 1.3; margin-top: 2em; padding-top: 0.5em;\n"
          "     border-top: 0.2em solid currentColor; }\n"
          "kbd { font-family: inherit; font-weight: bold; border: 0.1em solid currentColor;\n"
          "      padding: 0 0.3em; }\n"
          "li { margin-bottom: 0.5em; }\n"
          "dt { font-weight: bold; margin-top: 1em; }\n"
          "dd { margin-left: 1.5em; }\n"
          "a { color: #0000cc; }\n"
          "@media (prefers-color-scheme: dark) {\n"
          "  body { color: #fff; background: #000; }\n"
          "  a { color: #99ccff; }\n"
          "}\n"
          "</style>\n</head>\n<body>\n<main>\n",
          f);
    heading(o, 1, NULL, "Spoken script:", title);
}

static void intro(const struct out *o)
{
    const tt_menu *m = o->m;
    const struct tt_keys *k = &m->keys;
    char buf[512];
    note_line(o, "Menu:", m->path);
    note_line(o, "Language:", m->lang[o->lang]);
    if (o->fmt == TT_SCRIPT_TXT)
        fputc('\n', o->f);
    prose(o, "This is everything a listener can hear, in the order of the menu. For each "
             "part: the keys a listener presses from the start to get there (# is the pound "
             "key, * is the star key), the words said there, then the choices the engine "
             "says after them.");
    snprintf(buf, sizeof(buf),
             "Keys that work everywhere: %c repeats, %c goes back (on a page, to the previous "
             "page), %c skips ahead (on a page, to the next page), %c is help, %c ends.",
             k->repeat, k->back, k->skip, k->help, k->end);
    prose(o, buf);
    /* The language keys are keys that work everywhere too: a reviewer must know that a
     * choice can never be on them. */
    if (m->nlangs > 1) {
        struct tt_strbuf sb;
        tt_sb_init(&sb);
        tt_sb_add(&sb, "Language keys, the same on every node:");
        for (size_t l = 0; l < m->nlangs; l++) {
            if (!m->lang_key[l])
                continue;
            snprintf(buf, sizeof(buf), " %c for %s,", m->lang_key[l], m->lang[l]);
            tt_sb_add(&sb, buf);
        }
        if (sb.len && sb.s[sb.len - 1] == ',')
            sb.s[sb.len - 1] = '.';
        if (sb.s && !sb.err)
            prose(o, sb.s);
        tt_sb_free(&sb);
    }
}

/* HTML: links to every section, for readers who move around with a mouse or by tab. A
 * heading of its own, so that a screen-reader user who moves by headings meets it, and so
 * that its name is a label that can be marked English in a page in another language (an
 * aria-label cannot carry a lang). */
static void contents(const struct out *o)
{
    if (o->fmt != TT_SCRIPT_HTML)
        return;
    FILE *f = o->f;
    const tt_menu *m = o->m;
    fputs("<nav aria-labelledby=\"contents\">\n<h2 id=\"contents\">", f);
    label(o, "Contents");
    fputs("</h2>\n<ol>\n", f);
    for (size_t i = 0; i < o->w.n; i++) {
        int node = o->w.order[i];
        fprintf(f, "<li><a href=\"#n%zu\">", i + 1);
        put_html(f, m->nodes[node].title[o->lang]);
        fputs("</a></li>\n", f);
    }
    fputs("</ol>\n<ul>\n<li><a href=\"#help\">", f);
    label(o, "Help");
    fputs("</a></li>\n<li><a href=\"#settings\">", f);
    label(o, "Settings");
    fputs("</a></li>\n<li><a href=\"#other\">", f);
    label(o, "Other things the engine says");
    fputs("</a></li>\n</ul>\n</nav>\n", f);
}

/* A node's words as a reader should see them: say-as marks written for the eye
 * ("1-800-799-7233"), not the digit groups the voice is given ("1. 8 0 0. 7 9 9."). */
static const char *for_the_eye(const char *spoken, const char *shown)
{
    return shown ? shown : spoken;
}

/* "Recorded: <file> (...)" when a recording named name stands in for the words after it;
 * *noted tells whether there was one. Returns 0 or ENOMEM. */
static int recording_note(const struct out *o, const char *name, bool *noted)
{
    char path[4096];
    *noted = false;
    if (!o->prompts_dir ||
        tt_prompt_recording(o->prompts_dir, o->m->lang[o->lang], name, path, sizeof(path)))
        return 0;
    *noted = true;
    struct tt_strbuf sb;
    tt_sb_init(&sb);
    tt_sb_add(&sb, path);
    tt_sb_add(&sb, " (people hear the recording; the text below is its transcript)");
    char *note = tt_sb_take(&sb);
    if (!note)
        return ENOMEM;
    note_line(o, "Recorded:", note);
    free(note);
    return 0;
}

/* What a session says first, before the start node's words (session.c, say_node): the way
 * out, then each other language offering itself in its own words. */
static size_t greeting(const struct out *o, struct part *parts)
{
    const tt_menu *m = o->m;
    size_t n = 0;
    parts[n++] = (struct part){tt_compose_phrase(m, o->ph[o->lang], TT_PH_END_HINT, 0),
                               o->lang};
    for (size_t l = 0; l < m->nlangs; l++)
        if ((int)l != o->lang && m->lang_key[l])
            parts[n++] = (struct part){
                tt_compose_phrase(m, o->ph[l], TT_PH_HELP_LANGUAGE, m->lang_key[l]), (int)l};
    return n;
}

static int node_section(const struct out *o, size_t number)
{
    const tt_menu *m = o->m;
    int node = o->w.order[number - 1];
    const struct tt_node *n = &m->nodes[node];
    char anchor[32], prefix[256], brief_id[TT_REC_ID_MAX];
    struct part greet[TT_MAX_LANGS];
    size_t ngreet = node == m->start ? greeting(o, greet) : 0;
    int err = 0;
    char *keys = tt_walk_keys(&o->w, node);
    struct part choices = {tt_compose_choices(m, o->ph, o->lang, node, o->w.back[node]),
                           o->lang};
    /* The menu's own words: listed, never freed here. */
    struct part brief = {(char *)for_the_eye(n->brief[o->lang], n->brief_shown[o->lang]),
                         o->lang};
    bool noted;
    if (!keys || !choices.text)
        err = ENOMEM;
    for (size_t i = 0; i < ngreet; i++)
        if (!greet[i].text)
            err = ENOMEM;
    if (err)
        goto out;
    snprintf(anchor, sizeof(anchor), "n%zu", number);
    snprintf(prefix, sizeof(prefix), "%zu. [%s]", number, n->id);
    if (o->fmt == TT_SCRIPT_HTML)
        fputs("<section>\n", o->f);
    heading(o, 2, anchor, prefix, n->title[o->lang]);
    const char *no_keys = "none, this is the start";
    if (node != m->start)
        no_keys = tt_walk_reachable(&o->w, node) ? "none"
                                                 : "none, no key leads here from the start";
    if ((err = keys_line(o, keys, no_keys)))
        goto out;
    if (ngreet) {
        if (o->fmt == TT_SCRIPT_TXT)
            fputc('\n', o->f);
        sentence_list(o, "First, when a session begins:", greet, ngreet);
    }
    /* A recording stands in for the text: say which file, so a reviewer listens to it too. */
    if ((err = recording_note(o, n->id, &noted)))
        goto out;
    if (o->fmt == TT_SCRIPT_TXT && (noted || !ngreet))
        fputc('\n', o->f);
    speech(o, for_the_eye(n->text[o->lang], n->shown[o->lang]), o->lang);
    /* Every sentence that can be spoken is in the script: a return visit says the short
     * text instead, and it has a recording of its own (<id>.short). */
    if (brief.text) {
        list_label(o, "On a return visit, said instead of the text above:");
        snprintf(brief_id, sizeof(brief_id), "%s.short", n->id);
        if ((err = recording_note(o, brief_id, &noted)))
            goto out;
        sentence_list(o, NULL, &brief, 1);
    }
    if (n->transfer) {
        /* The words say where; then the caller is put through, and the choices are said only
         * if that did not go through. */
        char label[TT_TRANSFER_MAX + 80];
        snprintf(label, sizeof(label), "Then the caller is put through to %s. If that does not "
                 "go through:", n->transfer);
        struct part failed = {tt_compose_phrase(m, o->ph[o->lang], TT_PH_TRANSFER_FAILED, 0),
                              o->lang};
        sentence_list(o, label, &failed, 1);
        free(failed.text);
    }
    sentence_list(o, n->transfer ? "Then:" : "Choices:", &choices, 1);
    if (o->fmt == TT_SCRIPT_HTML)
        fputs("</section>\n", o->f);
out:
    for (size_t i = 0; i < ngreet; i++)
        free(greet[i].text);
    free(keys);
    free(choices.text);
    return err;
}

/* Help or its settings page, said as the session says it: the heading and items, each other
 * language offering itself in its own words, then how to return and the keys that work
 * everywhere. */
static int help_section(const struct out *o, bool settings)
{
    const tt_menu *m = o->m;
    struct tt_help_menu h, top;
    struct part parts[TT_MAX_LANGS + 4];
    size_t n = 0;
    int err = 0;
    char keys[8] = {m->keys.help, 0};

    tt_help_build(m, o->lang, false, &top);
    tt_help_build(m, o->lang, settings, &h);
    if (settings) {
        keys[0] = 0;
        for (size_t i = 0; i < top.n; i++)
            if (top.item[i].action == TT_HELP_SETTINGS)
                snprintf(keys, sizeof(keys), "%c %c", m->keys.help, top.item[i].key);
    }
    parts[n++] = (struct part){tt_compose_help(m, o->ph, o->lang, &h, -1), o->lang};
    for (size_t i = 0; i < h.n; i++)
        if (h.item[i].action == TT_HELP_LANGUAGE)
            parts[n++] = (struct part){
                tt_compose_phrase(m, o->ph[h.item[i].lang], TT_PH_HELP_LANGUAGE, h.item[i].key),
                h.item[i].lang};
    parts[n++] = (struct part){tt_compose_help_tail(m, o->ph[o->lang]), o->lang};
    for (size_t i = 0; i < n; i++)
        if (!parts[i].text)
            err = ENOMEM;
    if (err)
        goto out;

    if (o->fmt == TT_SCRIPT_HTML)
        fputs("<section>\n", o->f);
    heading(o, 2, settings ? "settings" : "help", settings ? "Settings" : "Help", NULL);
    if ((err = keys_line(o, keys, settings ? "none: help has no room for settings" : "none")))
        goto out;
    if (o->fmt == TT_SCRIPT_TXT)
        fputc('\n', o->f);
    prose(o, settings ? "Speed, volume and pause, from help."
                      : "Help can be reached from anywhere. The listener comes back to where "
                        "they were.");
    sentence_list(o, NULL, parts, n);
    if (o->fmt == TT_SCRIPT_HTML)
        fputs("</section>\n", o->f);
out:
    for (size_t i = 0; i < n; i++)
        free(parts[i].text);
    return err;
}

/* One entry of the appendix: when it is said, and the words. */
static void other_item(const struct out *o, const char *when, const char *text)
{
    FILE *f = o->f;
    switch (o->fmt) {
    case TT_SCRIPT_TXT:
        tt_script_wrap(f, when, o->width, 0, 0);
        tt_script_wrap(f, text, o->width, 2, 2);
        fputc('\n', f);
        break;
    case TT_SCRIPT_MD:
        fputs("- *", f);
        put_md(f, when);
        fputs("*  \n  ", f); /* two spaces: a line break inside the item */
        put_md(f, text);
        fputc('\n', f);
        break;
    case TT_SCRIPT_HTML:
        fputs("<dt>", f);
        label(o, when);
        fputs("</dt>\n<dd>", f);
        put_html_said(f, text, strlen(text));
        fputs("</dd>\n", f);
        break;
    }
}

/* A digit that is not a choice at the start, not an engine key and not a language key: the
 * example of a wrong key. 0 if every digit is taken. */
static char wrong_key(const tt_menu *m)
{
    const struct tt_keys *k = &m->keys;
    for (const char *c = choice_order; *c; c++)
        if (tt_node_choice(&m->nodes[m->start], *c) < 0 && *c != k->repeat && *c != k->back &&
            *c != k->skip && *c != k->help && *c != k->end && tt_menu_lang_of_key(m, *c) < 0)
            return *c;
    return 0;
}

/* "Where am I" as the session answers it at node, for a listener who came by the printed
 * keys: the nodes chosen on the way, the first page of the node's sequence, the node. */
static char *where_example(const struct out *o, int node)
{
    const tt_menu *m = o->m;
    size_t n = 0, cap = o->w.n + 2;
    int *path = malloc(cap * sizeof(int));
    if (!path)
        return NULL;
    for (int v = o->w.back[node]; v >= 0 && n < o->w.n; v = o->w.back[v])
        path[n++] = v;
    for (size_t i = 0; i < n / 2; i++) {
        int t = path[i];
        path[i] = path[n - 1 - i];
        path[n - 1 - i] = t;
    }
    int head = node;
    for (size_t steps = 0; m->nodes[head].prev >= 0 && steps < o->w.n; steps++)
        head = m->nodes[head].prev;
    if (head != node && (!n || path[n - 1] != head))
        path[n++] = head;
    path[n++] = node;
    char *s = tt_compose_where(m, o->ph[o->lang], o->lang, path, n);
    free(path);
    return s;
}

static int others(const struct out *o)
{
    const tt_menu *m = o->m;
    const tt_phrases *p = o->ph[o->lang];
    const struct tt_keys *k = &m->keys;
    int err = 0;
    char wrong = wrong_key(m);
    /* The deepest node a listener can reach: the longest "where am I" answer. */
    int deep = m->start;
    size_t deepest = 0;
    for (size_t i = 0; i < o->w.nreach; i++) {
        size_t d = 0;
        for (int v = o->w.order[i]; o->w.via[v] >= 0 && d < o->w.n; v = o->w.via[v])
            d++;
        if (d > deepest) {
            deepest = d;
            deep = o->w.order[i];
        }
    }
    int items[TT_MAX_CHOICES + 2];
    size_t nitems = tt_browse_items(m, m->start, items);

    struct said {
        char *text;
        const char *when;
    } said[24];
    size_t n = 0;
    double timeout_s = (double)m->timeout / 1000.0;
    char w_silence[128], w_wrong[128], w_tries[128], w_start[128], w_where[256], w_end[160];
    snprintf(w_silence, sizeof(w_silence),
             "After %g seconds with no key (then the choices again):", timeout_s);
    snprintf(w_wrong, sizeof(w_wrong),
             "After a key that is not a choice, for example %c (then the choices again):",
             wrong);
    snprintf(w_tries, sizeof(w_tries),
             "After %d silences or wrong keys in a row, before help:", m->tries);
    snprintf(w_start, sizeof(w_start), "When %c is pressed at the start (then the choices "
                                       "again):", k->back);
    snprintf(w_where, sizeof(w_where), "Where am I (in help), for example at [%s]:",
             m->nodes[deep].id);
    snprintf(w_end, sizeof(w_end),
             "Key %c on the telephone (at a kiosk, %c stops at once and starts again):",
             k->end, k->end);

    said[n++] = (struct said){tt_compose_phrase(m, p, TT_PH_WARN, 0), w_silence};
    if (wrong)
        said[n++] = (struct said){tt_compose_phrase(m, p, TT_PH_INVALID, wrong), w_wrong};
    said[n++] = (struct said){tt_compose_phrase(m, p, TT_PH_TO_HELP, 0), w_tries};
    said[n++] = (struct said){tt_compose_phrase(m, p, TT_PH_AT_START, 0), w_start};
    if (m->lang_key[o->lang])
        said[n++] = (struct said){
            tt_compose_phrase(m, p, TT_PH_END_HINT, 0),
            "After a language key, before the same node is said again in full in this "
            "language:"};
    said[n++] = (struct said){where_example(o, deep), w_where};
    if (nitems)
        said[n++] = (struct said){
            tt_compose_browse(m, p, o->lang, items[0], 1, nitems),
            "Up and down on a kiosk keypad go through the choices one at a time, for "
            "example at the start:"};
    said[n++] = (struct said){tt_compose_phrase(m, p, TT_PH_BROWSE_NONE, 0),
                                  "Up or down where there is nothing to choose:"};
    said[n++] = (struct said){tt_compose_phrase(m, p, TT_PH_PAUSED, 0), "Paused:"};
    static const struct {
        enum tt_phrase_id id;
        const char *when;
    } settings[] = {
        {TT_PH_SLOWER, "After slower:"},
        {TT_PH_FASTER, "After faster:"},
        {TT_PH_LOUDER, "After louder:"},
        {TT_PH_SOFTER, "After softer:"},
        {TT_PH_SLOWEST, "Slower, when it is already the slowest:"},
        {TT_PH_FASTEST, "Faster, when it is already the fastest:"},
        {TT_PH_LOUDEST, "Louder, when it is already the loudest:"},
        {TT_PH_SOFTEST, "Softer, when it is already the softest:"},
    };
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        said[n++] = (struct said){tt_compose_phrase(m, p, settings[i].id, 0),
                                      settings[i].when};
    said[n++] = (struct said){tt_compose_phrase(m, p, TT_PH_GOODBYE, 0), w_end};
    for (size_t i = 0; i < n; i++)
        if (!said[i].text)
            err = ENOMEM;
    if (err)
        goto out;

    if (o->fmt == TT_SCRIPT_HTML)
        fputs("<section>\n", o->f);
    heading(o, 2, "other", "Other things the engine says", NULL);
    if (o->fmt == TT_SCRIPT_HTML)
        fputs("<dl>\n", o->f);
    else if (o->fmt == TT_SCRIPT_TXT)
        fputc('\n', o->f);
    for (size_t i = 0; i < n; i++)
        other_item(o, said[i].when, said[i].text);
    if (o->fmt == TT_SCRIPT_HTML)
        fputs("</dl>\n</section>\n", o->f);
out:
    for (size_t i = 0; i < n; i++)
        free(said[i].text);
    return err;
}

int tt_script_format_parse(const char *name, enum tt_script_format *fmt)
{
    if (!strcmp(name, "txt") || !strcmp(name, "text"))
        *fmt = TT_SCRIPT_TXT;
    else if (!strcmp(name, "md") || !strcmp(name, "markdown"))
        *fmt = TT_SCRIPT_MD;
    else if (!strcmp(name, "html"))
        *fmt = TT_SCRIPT_HTML;
    else
        return EINVAL;
    return 0;
}

int tt_script_write(FILE *f, const tt_menu *m, tt_phrases *const *ph, int lang,
                    enum tt_script_format fmt, const struct tt_script_opts *o, tt_diag *diag)
{
    static const struct tt_script_opts defaults;
    struct out out = {.f = f, .fmt = fmt, .m = m, .ph = ph, .lang = lang};
    int err = 0;
    if (!o)
        o = &defaults;
    if (lang < 0 || (size_t)lang >= m->nlangs) {
        tt_diag_add(diag, TT_ERROR, m->path, 0, "this menu has no language number %d", lang);
        return EINVAL;
    }
    out.width = o->width ? o->width : TT_SCRIPT_WIDTH;
    if (out.width < TT_SCRIPT_MIN_WIDTH || out.width > 1000) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "a script line must be %d to 1000 characters wide, not %d",
                    TT_SCRIPT_MIN_WIDTH, out.width);
        return EINVAL;
    }
    out.prompts_dir = o->prompts_dir;
    out.en_labels = strcmp(m->lang[lang], "en") != 0 && strncmp(m->lang[lang], "en-", 3) != 0;
    if ((err = tt_walk_menu(m, &out.w)))
        goto out;

    doc_begin(&out);
    intro(&out);
    contents(&out);
    for (size_t i = 0; i < out.w.n && !err; i++) {
        if (i == out.w.nreach) {
            if (fmt == TT_SCRIPT_HTML)
                fputs("<section>\n", f);
            heading(&out, 2, "unreachable", "Not reachable from the start", NULL);
            if (fmt == TT_SCRIPT_TXT)
                fputc('\n', f);
            prose(&out, "No key leads to these nodes from the start, so no listener hears "
                        "them. Check the keys of the nodes that should offer them.");
            if (fmt == TT_SCRIPT_HTML)
                fputs("</section>\n", f);
        }
        err = node_section(&out, i + 1);
    }
    if (!err)
        err = help_section(&out, false);
    if (!err)
        err = help_section(&out, true);
    if (!err)
        err = others(&out);
    if (err)
        goto out;
    if (fmt == TT_SCRIPT_HTML)
        fputs("</main>\n</body>\n</html>\n", f);
    else if (fmt == TT_SCRIPT_TXT)
        rule(&out, '=');
    if (fflush(f) != 0 || ferror(f))
        err = EIO;
out:
    if (err == ENOMEM)
        tt_diag_add(diag, TT_ERROR, NULL, 0, "out of memory writing the script");
    else if (err == EIO)
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot write the script (%s)", strerror(EIO));
    tt_walk_free(&out.w);
    return err;
}
