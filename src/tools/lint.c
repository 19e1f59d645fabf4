/*
 * The menu linter (lint.h): rules over a loaded menu, each finding at the line to change.
 *
 * The loader has refused every menu a session could not run, so the linter judges only how
 * the menu will sound: for each node and language, its texts and its recording; for each
 * node, its choices; and for the tree, where going forward leads. It reads the menu and, when
 * asked, the prompts folder; it prints nothing. Findings are kept, sorted by line (a person
 * fixes a file from the top) and handed to the diag list at the end, each with its rule id.
 *
 * Everything is linear in the size of the menu: one pass over the nodes, one walk for depth,
 * one Tarjan walk for circles, one readdir per language folder. Recordings are opened only
 * when options name a prompts folder, as the prompt store opens them (recfile.c: a FIFO never
 * hangs the checker), and only their headers, first samples and last frame are read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "base/diag.h"
#include "core/menu.h"
#include "prompt/recfile.h"
#include "tools/lint.h"

/* ---- Findings -------------------------------------------------------------------------------- */

struct finding {
    int line;
    unsigned seq; /* order found, to keep it among findings on one line */
    enum tt_severity sev;
    const char *rule; /* a string literal */
    char *text;
};

/* What is known of one node's recording in one language. */
enum rec_state { REC_NONE, REC_OK, REC_BAD };

struct rec {
    uint16_t found;      /* bit i: <node>.<recording_ext[i]> exists, named exactly so */
    unsigned char state; /* enum rec_state, once the first one found is opened */
    double seconds;      /* its length, when REC_OK */
    char *misnamed;      /* a file that is this recording but for its case ("Step1.WAV") */
};

struct lint {
    const tt_menu *m;
    struct tt_lint_opts o;
    struct finding *f;
    size_t n, cap;
    bool nomem;
    struct rec *rec;     /* [node * nlangs + lang], when recordings are looked at */
    int *dist;           /* choices from the start node (pages count 0); INT32_MAX: unreached */
};

static void found(struct lint *l, enum tt_severity sev, int line, const char *rule,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void found(struct lint *l, enum tt_severity sev, int line, const char *rule,
                  const char *fmt, ...)
{
    if (l->nomem)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        struct finding *f = realloc(l->f, cap * sizeof(*f));
        if (!f) {
            l->nomem = true;
            return;
        }
        l->f = f;
        l->cap = cap;
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    char *text = strdup(buf);
    if (!text) {
        l->nomem = true;
        return;
    }
    l->f[l->n] = (struct finding){
        .line = line, .seq = (unsigned)l->n, .sev = sev, .rule = rule, .text = text};
    l->n++;
}

static int finding_order(const void *a, const void *b)
{
    const struct finding *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- Words ----------------------------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A byte of a word: ASCII letters and digits, apostrophes, and any byte of a UTF-8 sequence
 * (accented letters; punctuation outside ASCII is rare in spoken texts). */
static bool is_word_byte(char c)
{
    unsigned char u = (unsigned char)c;
    return is_digit(c) || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80 ||
           c == '\'';
}

static char lower(char c)
{
    return (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/* Words as a voice says them: "1. 8 0 0." is four words, as it is four numbers spoken. */
static size_t count_words(const char *s)
{
    size_t n = 0;
    bool in = false;
    for (; s && *s; s++) {
        bool w = is_word_byte(*s);
        n += w && !in;
        in = w;
    }
    return n;
}

static double speak_seconds(const struct lint *l, size_t words)
{
    return (double)words * 60.0 / l->o.words_per_minute;
}

/* The line of a node's text (or title) in a language; the [section] when it was not written
 * (a menu made in memory). */
static int text_line(const struct tt_node *nd, int lang)
{
    return nd->text_line[lang] ? nd->text_line[lang] : nd->line;
}

static int title_line(const struct tt_node *nd, int lang)
{
    return nd->title_line[lang] ? nd->title_line[lang] : nd->line;
}

/* The way a language's key in the file is written: text, text.es. */
static void key_name(const tt_menu *m, const char *base, int lang, char *buf, size_t size)
{
    if (lang == 0)
        snprintf(buf, size, "%s", base);
    else
        snprintf(buf, size, "%s.%s", base, m->lang[lang]);
}

/* ---- Keys ------------------------------------------------------------------------------------ */

/* The keys that do the same on every node: the engine's, and the language keys (a choice
 * can be on neither, and a text that names one names a key that works). */
static bool is_engine_key(const tt_menu *m, char key)
{
    const struct tt_keys *k = &m->keys;
    return key == k->repeat || key == k->back || key == k->skip || key == k->help ||
           key == k->end || tt_menu_lang_of_key(m, key) >= 0;
}

static bool node_has_key(const tt_menu *m, const struct tt_node *nd, char key)
{
    int slot = tt_key_slot(key);
    /* On an input node every digit is taken (as part of the entry). */
    return is_engine_key(m, key) || (slot >= 0 && (nd->choice[slot] >= 0 || nd->input));
}

/* The order the engine says choices in (compose.c, tt_browse_items): 1 to 9, then 0. */
static const char key_order[] = "1234567890";

/* "1, 2 and 4", or "none" */
static void choice_list(const struct tt_node *nd, char *buf, size_t size)
{
    size_t used = 0, count = 0, total = 0;
    for (const char *k = key_order; *k; k++)
        total += nd->choice[*k - '0'] >= 0;
    buf[0] = '\0';
    for (const char *k = key_order; *k && used < size; k++) {
        if (nd->choice[*k - '0'] < 0)
            continue;
        count++;
        used += (size_t)snprintf(buf + used, size - used, "%s%c",
                                 count == 1 ? "" : count == total ? " and " : ", ", *k);
    }
    if (!total)
        snprintf(buf, size, "none");
}

/* ---- Choices --------------------------------------------------------------------------------- */

/* Choices numbered 1, 2, 4: a listener who hears no 3 wonders what they missed. A gap is a
 * key free for choices (not an engine key), unused, before a key that is used. */
static void check_gap(struct lint *l, const struct tt_node *nd)
{
    char hole = 0;
    for (const char *k = key_order; *k; k++) {
        if (is_engine_key(l->m, *k))
            continue;
        if (nd->choice[*k - '0'] < 0) {
            if (!hole)
                hole = *k;
            continue;
        }
        if (!hole)
            continue;
        char list[48];
        choice_list(nd, list, sizeof(list));
        found(l, TT_WARNING, nd->choice_line[*k - '0'] ? nd->choice_line[*k - '0'] : nd->line,
              "choice-gap",
              "node '%s' offers %s, with no %c: a listener hears the numbers skip and may think "
              "a choice was missed; number the choices without a gap",
              nd->id, list, hole);
        return;
    }
}

/* A title as it sounds: small letters, one space between words, no spaces or full stops at
 * either end. Titles are short; a longer one is compared on its first bytes. */
static void sound_of(const char *s, char *out, size_t size)
{
    size_t n = 0;
    bool space = false;
    while (is_space(*s))
        s++;
    for (; *s && n + 1 < size; s++) {
        if (is_space(*s)) {
            space = true;
            continue;
        }
        if (space && n + 2 < size)
            out[n++] = ' ';
        space = false;
        out[n++] = lower(*s);
    }
    while (n && out[n - 1] == '.')
        n--;
    out[n] = '\0';
}

static bool same_words(const char *a, const char *b)
{
    char x[256], y[256];
    sound_of(a, x, sizeof(x));
    sound_of(b, y, sizeof(y));
    return !strcmp(x, y);
}

/* The engine says "To hear <title>, press <key>." for each choice: two the same leave the
 * listener unable to tell them apart. */
static void check_titles(struct lint *l, const struct tt_node *nd)
{
    const tt_menu *m = l->m;
    for (const char *j = key_order; *j; j++) {
        int to = nd->choice[*j - '0'];
        if (to < 0)
            continue;
        int line = nd->choice_line[*j - '0'] ? nd->choice_line[*j - '0'] : nd->line;
        for (const char *i = key_order; i < j; i++) {
            int other = nd->choice[*i - '0'];
            if (other < 0)
                continue;
            if (other == to) {
                found(l, TT_WARNING, line, "duplicate-title",
                      "keys %c and %c of node '%s' both lead to '%s': the listener hears the "
                      "same choice twice; keep one",
                      *i, *j, nd->id, m->nodes[to].id);
                break;
            }
            size_t lang = 0;
            while (lang < m->nlangs &&
                   !(m->nodes[to].title[lang] && m->nodes[other].title[lang] &&
                     same_words(m->nodes[to].title[lang], m->nodes[other].title[lang])))
                lang++;
            if (lang < m->nlangs) {
                found(l, TT_WARNING, line, "duplicate-title",
                      "keys %c and %c of node '%s' both say \"%.60s\" in %s (the titles of "
                      "'%s' and '%s'): the listener cannot tell them apart; give each a title "
                      "of its own",
                      *i, *j, nd->id, m->nodes[to].title[lang], m->lang[lang],
                      m->nodes[other].id, m->nodes[to].id);
                break;
            }
        }
    }
}

static void check_choices(struct lint *l, const struct tt_node *nd)
{
    int count = 0;
    for (int k = 0; k < TT_MAX_CHOICES; k++)
        count += nd->choice[k] >= 0;
    /* Above 4 the loader has warned already (too-many-choices): only a stricter limit adds. */
    if (count > l->o.max_choices && count <= TT_LINT_MAX_CHOICES)
        found(l, TT_WARNING, nd->line, "too-many-choices",
              "node '%s' offers %d choices, more than the %d set for this check: group some of "
              "them into a menu one level down",
              nd->id, count, l->o.max_choices);
    check_gap(l, nd);
    check_titles(l, nd);
}

/* ---- "Press 3" in a text --------------------------------------------------------------------- */

/* A token of text: a word (is_word_byte) or one other byte that is not a space. */
struct tok {
    const char *p;
    size_t n;
    bool word;
};

static bool next_tok(const char **s, struct tok *t)
{
    const char *p = *s;
    while (is_space(*p))
        p++;
    if (!*p) {
        *s = p;
        return false;
    }
    t->p = p;
    t->word = is_word_byte(*p);
    if (t->word)
        while (is_word_byte(*p))
            p++;
    else
        p++;
    t->n = (size_t)(p - t->p);
    *s = p;
    return true;
}

/* A word to look for, with its length: texts are long and most tokens are not these words,
 * so the length turns almost every comparison away at once. */
struct word {
    const char *w;
    size_t n;
};
#define W(s) {s, sizeof(s) - 1}

static bool tok_is(const struct tok *t, struct word w)
{
    if (!t->word || t->n != w.n)
        return false;
    for (size_t i = 0; i < w.n; i++)
        if (lower(t->p[i]) != w.w[i])
            return false;
    return true;
}

static bool tok_in(const struct tok *t, const struct word *list)
{
    for (; list->w; list++)
        if (tok_is(t, *list))
            return true;
    return false;
}

/* The verbs that ask for a key (English and Spanish, in the forms a menu would use), the
 * words that may stand between them and the key, and the words that join a list of keys. */
static const struct word press_verbs[] = {
    W("press"), W("push"), W("oprima"), W("oprime"), W("presione"), W("presiona"), W("pulse"),
    W("marque"), W("teclee"), {NULL, 0}};
static const struct word press_fillers[] = {
    W("the"), W("key"), W("button"), W("number"), W("la"), W("el"), W("tecla"), W("botón"),
    W("boton"), W("número"), W("numero"), {NULL, 0}};
static const struct word press_joins[] = {W("or"), W("and"), W("o"), W("u"), W("y"), {NULL, 0}};
static const struct word after_number_word[] = {W("of"), W("de"), W("del"), {NULL, 0}};

static const struct {
    struct word word;
    char key;
} key_words[] = {
    {W("zero"), '0'},    {W("one"), '1'},      {W("two"), '2'},       {W("three"), '3'},
    {W("four"), '4'},    {W("five"), '5'},     {W("six"), '6'},       {W("seven"), '7'},
    {W("eight"), '8'},   {W("nine"), '9'},     {W("star"), '*'},      {W("asterisk"), '*'},
    {W("pound"), '#'},   {W("hash"), '#'},     {W("cero"), '0'},      {W("uno"), '1'},
    {W("dos"), '2'},     {W("tres"), '3'},     {W("cuatro"), '4'},    {W("cinco"), '5'},
    {W("seis"), '6'},    {W("siete"), '7'},    {W("ocho"), '8'},      {W("nueve"), '9'},
    {W("asterisco"), '*'}, {W("estrella"), '*'}, {W("numeral"), '#'}, {W("gato"), '#'},
    {W("almohadilla"), '#'},
};

/* The key a token names ('0'-'9', '*', '#'), or 0. */
static char tok_key(const struct tok *t)
{
    if (!t->word)
        return t->n == 1 && (*t->p == '*' || *t->p == '#') ? *t->p : 0;
    if (t->n == 1 && is_digit(*t->p))
        return *t->p;
    for (size_t i = 0; i < sizeof(key_words) / sizeof(*key_words); i++)
        if (tok_is(t, key_words[i].word))
            return key_words[i].key;
    return 0;
}

/* A number said digit by digit ("9 1 1", "1. 8 0 0", "nine one one") goes on with a digit. */
static bool tok_digits(const struct tok *t)
{
    if (!t->word)
        return false;
    char k = tok_key(t);
    if (k && k != '*' && k != '#')
        return true;
    for (size_t i = 0; i < t->n; i++)
        if (!is_digit(t->p[i]))
            return false;
    return true;
}

/* Skip the words between a verb (or a join) and its key: "press the star key". */
static bool next_key_tok(const char **s, struct tok *t)
{
    bool have = next_tok(s, t);
    for (int i = 0; have && i < 3 && tok_in(t, press_fillers); i++)
        have = next_tok(s, t);
    return have;
}

/* Is the key just read a key, or the start of a number or of "one of"? On return *s is past
 * what follows the key, and *join tells whether that was "or", "and" or a comma. */
static bool key_stands_alone(const char **s, const struct tok *key, bool *join)
{
    struct tok t, u;
    const char *p = *s;
    *join = false;
    if (!next_tok(&p, &t))
        return true;
    if (tok_digits(&t))
        return false;
    if (!t.word && (*t.p == '.' || *t.p == '-')) {
        const char *q = p;
        if (next_tok(&q, &u) && tok_digits(&u))
            return false;
    }
    if (key->word && key->n > 1 && tok_in(&t, after_number_word))
        return false;
    if (tok_in(&t, press_joins) || (!t.word && *t.p == ',')) {
        *join = true;
        *s = p;
    }
    return true;
}

static int key_bit(char key)
{
    return key == '*' ? 10 : key == '#' ? 11 : key - '0';
}

/* The engine says every key itself ("To hear the steps, press 3"), so a text that names one
 * says it twice at best, and when the choices change it names a key that does nothing (or
 * something else): a listener who follows the words is sent the wrong way. */
static void check_press(struct lint *l, const struct tt_node *nd, int lang, const char *s,
                        int line, const char *what)
{
    const tt_menu *m = l->m;
    unsigned reported = 0;
    bool named = false;
    struct tok t;
    while (s && next_tok(&s, &t)) {
        if (!tok_in(&t, press_verbs))
            continue;
        const char *verb = t.p, *p = s;
        struct tok k;
        bool join = true;
        while (join && next_key_tok(&p, &k)) {
            char key = tok_key(&k);
            if (!key)
                break;
            const char *after = k.p + k.n;
            if (!key_stands_alone(&p, &k, &join))
                break;
            int quoted = (int)(after - verb > 60 ? 60 : after - verb);
            if (!node_has_key(m, nd, key)) {
                if (reported & (1u << key_bit(key)))
                    continue;
                reported |= 1u << key_bit(key);
                char list[48];
                choice_list(nd, list, sizeof(list));
                found(l, TT_ERROR, line, "press-missing-key",
                      "the %s %s of node '%s' says \"%.*s\", but %c does nothing here (its "
                      "choices: %s): a listener who follows it hears that %c is not a choice; "
                      "take the key out of the text, the engine says the choices itself",
                      m->lang[lang], what, nd->id, quoted, verb, key, list, key);
            } else if (!named && !(nd->input && (key == '#' || key == '*'))) {
                /* An input node's text must say how to end an entry: the engine does not. */
                named = true;
                found(l, TT_WARNING, line, "press-in-text",
                      "the %s %s of node '%s' says \"%.*s\": the engine names every key "
                      "itself, so this is said twice, and turns wrong when the choices change; "
                      "take it out of the text",
                      m->lang[lang], what, nd->id, quoted, verb);
            }
        }
    }
}

/* ---- Texts ----------------------------------------------------------------------------------- */

static struct rec *rec_of(const struct lint *l, int node, int lang)
{
    return l->rec ? &l->rec[(size_t)node * l->m->nlangs + (size_t)lang] : NULL;
}

static void check_texts(struct lint *l, int node)
{
    const tt_menu *m = l->m;
    const struct tt_node *nd = &m->nodes[node];
    for (int lang = 0; lang < (int)m->nlangs; lang++) {
        char key[32];
        const struct rec *r = rec_of(l, node, lang);
        bool recorded = r && r->found;
        /* The loader refuses empty words; text made only of spaces or punctuation is as
         * silent, and sounds like a broken line. */
        if (nd->title[lang] && !count_words(nd->title[lang])) {
            key_name(m, "title", lang, key, sizeof(key));
            found(l, TT_ERROR, title_line(nd, lang), "blank-text",
                  "%s of node '%s' has no words: the engine would say \"To hear , press ...\"; "
                  "write a short title",
                  key, nd->id);
        }
        if (!nd->text[lang])
            continue;
        size_t words = count_words(nd->text[lang]);
        key_name(m, "text", lang, key, sizeof(key));
        if (!words && recorded)
            found(l, TT_ERROR, text_line(nd, lang), "recording-no-text",
                  "%s of node '%s' has no words, but it has a recording: the text is the "
                  "recording's transcript (for braille and screens) and what is said when the "
                  "recording cannot be played; write down what the recording says",
                  key, nd->id);
        else if (!words)
            found(l, TT_ERROR, text_line(nd, lang), "blank-text",
                  "%s of node '%s' has no words: a listener arriving here hears nothing, and "
                  "thinks the line has gone dead; write what this node is about",
                  key, nd->id);
        check_press(l, nd, lang, nd->text[lang], text_line(nd, lang), "text");
        /* What the listener hears: the recording when it plays, else the voice. */
        if (r && r->state == REC_OK) {
            if (r->seconds > l->o.max_prompt_seconds)
                found(l, TT_WARNING, text_line(nd, lang), "prompt-too-long",
                      "the %s recording of node '%s' lasts %.0f s: more than %g s is hard to "
                      "follow and to remember by ear; split it into pages (next = ...)",
                      m->lang[lang], nd->id, r->seconds, l->o.max_prompt_seconds);
        } else if (speak_seconds(l, words) > l->o.max_prompt_seconds) {
            found(l, TT_WARNING, text_line(nd, lang), "prompt-too-long",
                  "%s of node '%s' takes about %.1f s to say (%zu words at %d a minute): more "
                  "than %g s is hard to follow and to remember by ear; split it into pages "
                  "(next = ...)",
                  key, nd->id, speak_seconds(l, words), words, l->o.words_per_minute,
                  l->o.max_prompt_seconds);
        }
        /* The short text said on a return visit is judged as the text is: it is spoken too. */
        if (nd->brief[lang]) {
            int line = nd->brief_line[lang] ? nd->brief_line[lang] : nd->line;
            key_name(m, "short", lang, key, sizeof(key));
            if (!count_words(nd->brief[lang]))
                found(l, TT_ERROR, line, "blank-text",
                      "%s of node '%s' has no words: a listener coming back here hears "
                      "nothing, and thinks the line has gone dead; write a few words, or leave "
                      "the short text out",
                      key, nd->id);
            check_press(l, nd, lang, nd->brief[lang], line, "short text");
        }
    }
}

/* ---- Safety within two keys ----------------------------------------------------------------- */

/* Does one key at node lead straight to the safety node (a choice, or a page turn)? */
static bool links_to_safety(const tt_menu *m, int node)
{
    const struct tt_node *n = &m->nodes[node];
    if (node == m->safety || n->next == m->safety || n->prev == m->safety)
        return true;
    for (int c = 0; c < TT_MAX_CHOICES; c++)
        if (n->choice[c] == m->safety)
            return true;
    return false;
}

static void safety_far(struct lint *l, const struct tt_node *n, int back_to)
{
    const tt_menu *m = l->m;
    const char *to = m->nodes[back_to].id, *safety = m->nodes[m->safety].id;
    found(l, TT_WARNING, n->line, "safety-far",
          "node '%s' takes digits, so its help key is a digit: from there the safety node '%s' "
          "is more than two keys away (back to '%s', which has no key to it); give '%s' a "
          "choice for '%s'",
          n->id, safety, to, to, safety);
}

/*
 * Someone in danger must reach the safety lines at once, from wherever they are. On an ordinary
 * node that is two keys at most: help, whose first item is the safety node. While digits are
 * typed, the help key is a digit, so the way is back (star, with nothing typed) and then one
 * key from where back leads (session.c, back_key): the previous page when the input node is a
 * page, else the node the listener chose it from. That node must link to the safety node
 * itself. At the start, back leads nowhere at all.
 */
static void check_safety(struct lint *l)
{
    const tt_menu *m = l->m;
    if (m->safety < 0 || m->keys.help < '0' || m->keys.help > '9')
        return;
    for (size_t i = 0; i < m->nnodes; i++) {
        const struct tt_node *n = &m->nodes[i];
        if (!n->input || links_to_safety(m, (int)i))
            continue;
        if (n->prev >= 0) {
            if (!links_to_safety(m, n->prev))
                safety_far(l, n, n->prev);
            continue;
        }
        for (size_t p = 0; p < m->nnodes; p++) {
            bool parent = false;
            for (int c = 0; c < TT_MAX_CHOICES; c++)
                parent |= m->nodes[p].choice[c] == (int)i;
            if (parent && !links_to_safety(m, (int)p))
                safety_far(l, n, (int)p);
        }
        if ((int)i == m->start)
            found(l, TT_WARNING, n->line, "safety-far",
                  "node '%s' takes digits and the menu starts there: its help key is a digit "
                  "and back leads nowhere, so the safety node '%s' cannot be reached; start "
                  "the menu at a node that offers both",
                  n->id, m->nodes[m->safety].id);
    }
}

/* ---- Recordings ------------------------------------------------------------------------------ */

/* The formats the prompt store looks for, in its order (src/prompt/prompt.c, recording_ext): keep
 * the two lists the same, or the linter judges a file the engine never plays. */
static const char *const recording_ext[] = {"wav", "flac", "ogg", "oga", "opus",
                                            "mp3", "aiff", "aif", "au"};
#define N_EXT (sizeof(recording_ext) / sizeof(recording_ext[0]))

/* The limits under which the prompt store refuses a file are recfile.h's, shared. */
#define REC_MIN_SECONDS 0.2 /* shorter is a click, or a file cut off */
#define REC_SLACK_SECONDS 2.0 /* leading and trailing silence a recording may have */

/* Rates recorders and converters write; anything else is likely a wrong setting. */
static const int usual_rates[] = {8000,  11025, 12000, 16000, 22050,  24000, 32000,
                                  44100, 48000, 64000, 88200, 96000, 176400, 192000};

static int ext_index(const char *ext, bool *exact)
{
    for (size_t i = 0; i < N_EXT; i++) {
        const char *a = recording_ext[i], *b = ext;
        while (*a && lower(*b) == *a)
            a++, b++;
        if (!*a && !*b) {
            *exact = !strcmp(ext, recording_ext[i]);
            return (int)i;
        }
    }
    return -1;
}

/* One language folder: which node has which recording, by one readdir. The prompt store
 * stat()s the exact name, so a file that differs only in case is never played. */
static int scan_folder(struct lint *l, int lang)
{
    const tt_menu *m = l->m;
    char dir[4096];
    if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", l->o.prompts_dir, m->lang[lang]) >=
        sizeof(dir))
        return 0;
    DIR *d = opendir(dir);
    if (!d) {
        /* No folder for the language: no recordings, which is fine unless they are expected
         * (then each node says so). Any other reason is worth saying once. */
        if (errno != ENOENT && errno != ENOTDIR)
            found(l, TT_WARNING, 0, "recording-unreadable",
                  "cannot read the recordings folder %s: %s", dir, strerror(errno));
        return 0;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *dot = strrchr(e->d_name, '.');
        size_t stem = dot ? (size_t)(dot - e->d_name) : 0;
        bool exact = false;
        int x = dot && stem ? ext_index(dot + 1, &exact) : -1;
        if (x < 0 || stem > 64)
            continue;
        /* A folder by a recording's name is passed over, as the prompt store passes it;
         * anything else (a FIFO, a device) is a recording that cannot be used. */
        struct stat st;
        if (e->d_type != DT_REG && fstatat(dirfd(d), e->d_name, &st, 0) == 0 &&
            S_ISDIR(st.st_mode))
            continue;
        char id[65];
        memcpy(id, e->d_name, stem);
        id[stem] = '\0';
        int node = tt_menu_find(m, id);
        if (node < 0)
            continue; /* another menu's recording, or not one: the folder may be shared */
        struct rec *r = rec_of(l, node, lang);
        if (exact && !strcmp(id, m->nodes[node].id)) {
            r->found |= (uint16_t)(1u << x);
        } else if (!r->misnamed && !(r->misnamed = strdup(e->d_name))) {
            closedir(d);
            return ENOMEM;
        }
    }
    closedir(d);
    return 0;
}

static bool usual_rate(int rate)
{
    for (size_t i = 0; i < sizeof(usual_rates) / sizeof(*usual_rates); i++)
        if (rate == usual_rates[i])
            return true;
    return false;
}

/* Is there a sample that is not zero once made 16-bit? audio.c refuses a silent file; a real
 * recording has one within its first block, so this reads a few KiB of all but broken files. */
static bool has_sound(struct tt_recfile *f)
{
    float buf[4096];
    int64_t per = (int64_t)(sizeof(buf) / sizeof(*buf)) / f->info.channels, got;
    while ((got = tt_recfile_read(f, buf, per)) > 0)
        for (int64_t i = 0; i < got * f->info.channels; i++)
            if (lrintf(buf[i] * 32768.0f) != 0)
                return true;
    return false;
}

/* A length the header does not give (an Ogg stream, say): read to the end to learn it, within
 * the limits the store reads it with. */
static int64_t count_frames(struct tt_recfile *f, char *why, size_t why_size)
{
    float buf[4096];
    int64_t per = (int64_t)(sizeof(buf) / sizeof(*buf)) / f->info.channels;
    while (tt_recfile_read(f, buf, per) > 0)
        if (tt_recfile_check_cost(f, f->got, why, why_size))
            return -1;
    return f->got;
}

/* Open one recording as the prompt store would, and judge what it holds. */
static void check_recording(struct lint *l, int node, int lang, const char *path)
{
    const tt_menu *m = l->m;
    const struct tt_node *nd = &m->nodes[node];
    struct rec *r = rec_of(l, node, lang);
    int line = text_line(nd, lang);
    struct tt_recfile f;
    r->state = REC_BAD;
    char why[512] = "";
    const char *rule = NULL; /* a rule of its own; NULL: recording-unreadable */
    int64_t frames = 0;
    int err = tt_recfile_open(&f, path, TT_RECFILE_MAX_BYTES, why, sizeof(why));
    if (err == ENODEV || err == EISDIR) {
        rule = "recording-not-a-file";
    } else if (err) {
        /* why is already said */
    } else if (tt_recfile_cut_short(&f, false, why, sizeof(why))) {
        rule = "recording-cut-short";
    } else if (f.info.frames <= 0) {
        snprintf(why, sizeof(why), "it has no audio");
    } else if ((frames = tt_recfile_length_known(&f) ? f.info.frames
                                                     : count_frames(&f, why, sizeof(why))) < 0 ||
               tt_recfile_check_cost(&f, frames, why, sizeof(why))) {
        rule = "recording-too-big";
    } else if (!has_sound(&f)) {
        /* read to the end: a file cut short may be silent only for want of its audio */
        if (tt_recfile_cut_short(&f, false, why, sizeof(why)))
            rule = "recording-cut-short";
        else
            snprintf(why, sizeof(why), "it is silent");
    } else if (tt_recfile_cut_short(&f, true, why, sizeof(why))) {
        rule = "recording-cut-short";
    } else {
        why[0] = '\0';
    }
    int rate = f.info.samplerate;
    tt_recfile_close(&f);
    if (rule) {
        found(l, TT_WARNING, line, rule,
              "the %s recording of node '%s' (%s) is not played, the voice says its text "
              "instead: %s",
              m->lang[lang], nd->id, path, why);
        return;
    }
    if (why[0]) {
        found(l, TT_WARNING, line, "recording-unreadable",
              "the %s recording of node '%s' cannot be played (%s): %s; the voice says the "
              "text instead; export it again, as WAV for example",
              m->lang[lang], nd->id, why, path);
        return;
    }
    r->state = REC_OK;
    r->seconds = (double)frames / rate;

    if (rate < 8000)
        found(l, TT_WARNING, line, "recording-rate",
              "the %s recording of node '%s' is at %d Hz, under even the telephone's 8000 Hz: "
              "it sounds muffled; record it again at 16000 Hz or more: %s",
              m->lang[lang], nd->id, rate, path);
    else if (!usual_rate(rate))
        found(l, TT_WARNING, line, "recording-rate",
              "the %s recording of node '%s' is at %d Hz, not a rate recorders use: it may "
              "play at the wrong speed or pitch; export it again at 16000, 44100 or 48000 Hz: "
              "%s",
              m->lang[lang], nd->id, rate, path);

    /* Against the text it transcribes: far shorter or far longer means another take, a cut
     * file or a forgotten re-recording after the text changed. Two seconds of slack, for the
     * silence at either end and for short texts, where the estimate is rough. */
    double est = speak_seconds(l, count_words(nd->text[lang]));
    if (r->seconds < REC_MIN_SECONDS)
        found(l, TT_WARNING, line, "recording-length",
              "the %s recording of node '%s' lasts only %.2f s: a click, or a file cut off; "
              "record it again: %s",
              m->lang[lang], nd->id, r->seconds, path);
    else if (est == 0)
        return; /* no words to compare with: recording-no-text says so */
    else if (r->seconds * 3 < est && est - r->seconds > REC_SLACK_SECONDS)
        found(l, TT_WARNING, line, "recording-length",
              "the %s recording of node '%s' lasts %.1f s, but its text takes about %.0f s to "
              "say: does the recording say all of the text? %s",
              m->lang[lang], nd->id, r->seconds, est, path);
    else if (r->seconds > est * 3 && r->seconds - est > REC_SLACK_SECONDS)
        found(l, TT_WARNING, line, "recording-length",
              "the %s recording of node '%s' lasts %.1f s, but its text takes about %.0f s to "
              "say: does the recording say more than the text, or have long silences? %s",
              m->lang[lang], nd->id, r->seconds, est, path);
}

static int check_recordings(struct lint *l)
{
    const tt_menu *m = l->m;
    int err = 0;
    for (size_t lang = 0; lang < m->nlangs && !err; lang++)
        err = scan_folder(l, (int)lang);
    if (err)
        return err;
    char path[4096];
    for (size_t node = 0; node < m->nnodes; node++) {
        const struct tt_node *nd = &m->nodes[node];
        for (size_t lang = 0; lang < m->nlangs; lang++) {
            struct rec *r = rec_of(l, (int)node, (int)lang);
            int line = text_line(nd, (int)lang);
            if (!r->found && r->misnamed) {
                found(l, TT_WARNING, line, "recording-misnamed",
                      "%s/%s/%s is never played: the engine looks for exactly %s.wav (or "
                      ".flac, .mp3, ...), in small letters; rename the file",
                      l->o.prompts_dir, m->lang[lang], r->misnamed, nd->id);
                continue;
            }
            if (!r->found) {
                if (l->o.expect_recordings)
                    found(l, TT_WARNING, line, "recording-missing",
                          "node '%s' has no %s recording (%s/%s/%s.wav, or .flac, .mp3, ...): "
                          "the voice says the text instead",
                          nd->id, m->lang[lang], l->o.prompts_dir, m->lang[lang], nd->id);
                continue;
            }
            int first = __builtin_ctz(r->found);
            snprintf(path, sizeof(path), "%s/%s/%s.%s", l->o.prompts_dir, m->lang[lang], nd->id,
                     recording_ext[first]);
            for (size_t x = (size_t)first + 1; x < N_EXT; x++)
                if (r->found & (1u << x))
                    found(l, TT_WARNING, line, "recording-duplicate",
                          "node '%s' has two %s recordings, %s.%s and %s.%s: the engine plays "
                          "the %s one; remove the other, so that nobody edits the wrong one",
                          nd->id, m->lang[lang], nd->id, recording_ext[first], nd->id,
                          recording_ext[x], recording_ext[first]);
            check_recording(l, (int)node, (int)lang, path);
        }
    }
    return 0;
}

/* ---- Where going forward leads --------------------------------------------------------------- */

#define N_LINKS (TT_MAX_CHOICES + 1) /* the choices, then next */

static int link_to(const struct tt_node *nd, int i)
{
    return i < TT_MAX_CHOICES ? nd->choice[i] : nd->next;
}

static int link_line(const struct tt_node *nd, int i)
{
    int line = i < TT_MAX_CHOICES ? nd->choice_line[i] : nd->next_line;
    return line ? line : nd->line;
}

/* Depth is the number of choices from the start node, as "where am I" counts it: the pages
 * of a sequence are one place, so next costs nothing. A breadth-first walk by levels, where
 * next stays on the level (a 0-1 walk): each node enters each level's list at most once. */
static int measure_depth(struct lint *l)
{
    const tt_menu *m = l->m;
    size_t n = m->nnodes;
    int *cur = malloc(n * sizeof(int)), *nxt = malloc(n * sizeof(int));
    unsigned char *by_choice = calloc(n, 1);
    int err = 0;
    if (!l->dist || !cur || !nxt || !by_choice) {
        err = ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        l->dist[i] = INT32_MAX;
    size_t ncur = 0, nnxt = 0;
    l->dist[m->start] = 0;
    cur[ncur++] = m->start;
    for (int d = 0; ncur; d++) {
        nnxt = 0;
        for (size_t q = 0; q < ncur; q++) {
            const struct tt_node *nd = &m->nodes[cur[q]];
            if (l->dist[cur[q]] != d)
                continue; /* reached by a shorter way since it was listed */
            if (nd->next >= 0 && l->dist[nd->next] > d) {
                l->dist[nd->next] = d;
                by_choice[nd->next] = 0;
                cur[ncur++] = nd->next;
            }
            for (int k = 0; k < TT_MAX_CHOICES; k++) {
                int to = nd->choice[k];
                if (to >= 0 && l->dist[to] > d + 1) {
                    l->dist[to] = d + 1;
                    by_choice[to] = 1;
                    nxt[nnxt++] = to;
                }
            }
        }
        int *t = cur;
        cur = nxt;
        nxt = t;
        ncur = nnxt;
    }
    /* One finding per branch that crosses the limit: at the node where it does. What lies
     * below it, and the rest of its pages, are as deep or deeper and need no words of their
     * own. */
    for (size_t i = 0; i < n; i++)
        if (l->dist[i] == l->o.max_depth + 1 && by_choice[i])
            found(l, TT_WARNING, m->nodes[i].line, "node-too-deep",
                  "node '%s' is %d choices away from the start node '%s' (the limit is %d): a "
                  "listener has to hold the way through %d menus in mind to find it again; "
                  "move it, or the menu that leads to it, nearer the start",
                  m->nodes[i].id, l->dist[i], m->nodes[m->start].id, l->o.max_depth,
                  l->dist[i]);
out:
    free(cur);
    free(nxt);
    free(by_choice);
    return err;
}

/* The nodes of one trap, for a message: "'a', 'b' and 'c'", or the first four and a count. */
static void member_list(const tt_menu *m, const int *next_member, int first, size_t size,
                        char *buf, size_t bufsize)
{
    size_t used = 0, i = 0;
    buf[0] = '\0';
    for (int v = first; v >= 0 && used < bufsize; v = next_member[v], i++) {
        const char *sep = i == 0 ? "" : i + 1 == size || i == 4 ? " and " : ", ";
        if (i == 4) {
            snprintf(buf + used, bufsize - used, "%s%zu more", sep, size - 4);
            return;
        }
        used += (size_t)snprintf(buf + used, bufsize - used, "%s'%.40s'", sep, m->nodes[v].id);
    }
}

/*
 * A trap: nodes where going forward only goes round. Keys * (back) and 0 (help, "start
 * again") always lead out, so nobody is locked in; but a listener who goes on choosing never
 * comes back to the rest of the menu, and every round adds steps that * must undo one by one.
 * In graph words: a strongly connected set of the nodes reachable from the start, over
 * choices and next, that no choice or next leaves, with a circle in it (two nodes or more, or
 * a choice to itself), that does not hold the start node. (One that holds the start holds the
 * whole menu: going forward then reaches everything, as in a menu whose pages all lead back
 * to the main menu.) Tarjan's algorithm, without recursion, finds every such set in one walk.
 */
static int find_traps(struct lint *l)
{
    const tt_menu *m = l->m;
    size_t n = m->nnodes;
    int *index = malloc(n * sizeof(int)), *low = malloc(n * sizeof(int));
    int *comp = malloc(n * sizeof(int)), *stack = malloc(n * sizeof(int));
    int *call = malloc(n * sizeof(int)), *call_link = malloc(n * sizeof(int));
    int *next_member = malloc(n * sizeof(int));
    unsigned char *on_stack = calloc(n, 1);
    /* Per component: its size, first member, and flags. */
    int *size = NULL, *first = NULL;
    unsigned char *flags = NULL;
    int err = 0, counter = 0, ncomp = 0;
    size_t sp = 0, cp = 0;
    enum { LEAVES = 1, CIRCLE = 2, START = 4 };

    if (!index || !low || !comp || !stack || !call || !call_link || !next_member || !on_stack) {
        err = ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        index[i] = comp[i] = -1;
    index[m->start] = low[m->start] = counter++;
    stack[sp++] = m->start;
    on_stack[m->start] = 1;
    call[cp] = m->start;
    call_link[cp++] = 0;
    while (cp) {
        int v = call[cp - 1];
        if (call_link[cp - 1] < N_LINKS) {
            int w = link_to(&m->nodes[v], call_link[cp - 1]++);
            if (w < 0)
                continue;
            if (index[w] < 0) {
                index[w] = low[w] = counter++;
                stack[sp++] = w;
                on_stack[w] = 1;
                call[cp] = w;
                call_link[cp++] = 0;
            } else if (on_stack[w] && index[w] < low[v]) {
                low[v] = index[w];
            }
            continue;
        }
        cp--;
        if (cp && low[v] < low[call[cp - 1]])
            low[call[cp - 1]] = low[v];
        if (low[v] == index[v]) {
            int w;
            do {
                w = stack[--sp];
                on_stack[w] = 0;
                comp[w] = ncomp;
            } while (w != v);
            ncomp++;
        }
    }

    size = calloc((size_t)ncomp + 1, sizeof(int));
    first = malloc(((size_t)ncomp + 1) * sizeof(int));
    flags = calloc((size_t)ncomp + 1, 1);
    if (!size || !first || !flags) {
        err = ENOMEM;
        goto out;
    }
    for (int c = 0; c < ncomp; c++)
        first[c] = -1;
    for (size_t v = n; v-- > 0;) {
        int c = comp[v];
        if (c < 0)
            continue;
        next_member[v] = first[c];
        first[c] = (int)v;
        size[c]++;
        for (int i = 0; i < N_LINKS; i++) {
            int w = link_to(&m->nodes[v], i);
            if (w < 0)
                continue;
            if (comp[w] != c)
                flags[c] |= LEAVES;
            else if (w == (int)v)
                flags[c] |= CIRCLE;
        }
    }
    flags[comp[m->start]] |= START;

    for (int c = 0; c < ncomp; c++) {
        if ((flags[c] & (LEAVES | START)) || !(size[c] > 1 || (flags[c] & CIRCLE)))
            continue;
        /* Where the listener comes in (the member nearest the start), and the first link that
         * leads back to it: the one that closes the circle, and a place to break it. */
        int entry = first[c];
        for (int v = first[c]; v >= 0; v = next_member[v])
            if (l->dist[v] < l->dist[entry])
                entry = v;
        int from = -1, link = 0;
        for (int v = first[c]; v >= 0 && from < 0; v = next_member[v])
            for (int i = 0; i < N_LINKS && from < 0; i++)
                if (link_to(&m->nodes[v], i) == entry)
                    from = v, link = i;
        char members[256], what[16];
        member_list(m, next_member, first[c], (size_t)size[c], members, sizeof(members));
        if (link < TT_MAX_CHOICES)
            snprintf(what, sizeof(what), "key %d", link);
        else
            snprintf(what, sizeof(what), "next");
        found(l, TT_WARNING, link_line(&m->nodes[from], link), "trapped-cycle",
              "going forward from '%s' only goes round: every choice and next page of %s leads "
              "back among them, never to the rest of the menu, and only star (step by step) or "
              "help's \"start again\" lead out; %s of '%s' goes back to '%s': point it "
              "somewhere new, or remove it (star already goes back)",
              m->nodes[entry].id, members, what, m->nodes[from].id, m->nodes[entry].id);
    }
out:
    free(index);
    free(low);
    free(comp);
    free(stack);
    free(call);
    free(call_link);
    free(next_member);
    free(on_stack);
    free(size);
    free(first);
    free(flags);
    return err;
}

/* ---- The whole check ------------------------------------------------------------------------- */

int tt_lint(const tt_menu *m, const struct tt_lint_opts *o, tt_diag *diag)
{
    struct lint l = {.m = m};
    int err = 0;
    if (!m)
        return EINVAL;
    if (o)
        l.o = *o;
    if (!(l.o.max_prompt_seconds >= 0) || l.o.max_depth < 0 || l.o.words_per_minute < 0 ||
        l.o.max_choices < 0)
        return EINVAL;
    /* Deeper than any menu can be (a file holds at most 8 MiB): keeps max_depth + 1 in range. */
    if (l.o.max_depth > 1000000)
        l.o.max_depth = 1000000;
    if (!l.o.max_prompt_seconds)
        l.o.max_prompt_seconds = TT_LINT_MAX_PROMPT_SECONDS;
    if (!l.o.max_depth)
        l.o.max_depth = TT_LINT_MAX_DEPTH;
    if (!l.o.words_per_minute)
        l.o.words_per_minute = TT_LINT_WORDS_PER_MINUTE;
    if (!l.o.max_choices)
        l.o.max_choices = TT_LINT_MAX_CHOICES;

    if (l.o.prompts_dir) {
        if (!(l.rec = calloc(m->nnodes * m->nlangs + 1, sizeof(*l.rec)))) {
            err = ENOMEM;
            goto out;
        }
        if ((err = check_recordings(&l)))
            goto out;
    }
    for (size_t i = 0; i < m->nnodes; i++) {
        check_choices(&l, &m->nodes[i]);
        check_texts(&l, (int)i);
    }
    check_safety(&l);
    if (m->start >= 0 && (size_t)m->start < m->nnodes) {
        l.dist = malloc(m->nnodes * sizeof(int));
        if ((err = measure_depth(&l)) || (err = find_traps(&l)))
            goto out;
    }
    if (l.nomem) {
        err = ENOMEM;
        goto out;
    }
    if (l.n)
        qsort(l.f, l.n, sizeof(*l.f), finding_order);
    for (size_t i = 0; i < l.n; i++)
        tt_diag_add_rule(diag, l.f[i].sev, m->path, l.f[i].line, l.f[i].rule, "%s", l.f[i].text);
out:
    if (err == ENOMEM)
        tt_diag_add(diag, TT_ERROR, m->path, 0, "out of memory while checking the menu");
    for (size_t i = 0; i < l.n; i++)
        free(l.f[i].text);
    free(l.f);
    if (l.rec)
        for (size_t i = 0; i < m->nnodes * m->nlangs; i++)
            free(l.rec[i].misnamed);
    free(l.rec);
    free(l.dist);
    return err;
}
