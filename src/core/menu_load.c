/*
 * The menu loader: bytes -> line scan -> iniparser -> struct tt_menu -> checks.
 *
 * iniparser (4.1) does the INI reading; it only reads from a path, so bytes from memory are
 * handed to it through a file of their own (inimem.h), and a file is read once into memory so
 * that the scan and iniparser are sure to see the same bytes. Its dictionary searches every entry
 * on each insert and on each iniparser_getstring(), so a big menu would be quadratic: the file
 * goes to iniparser in chunks of sections, a small dictionary each (TT_INI_CHUNK), and every
 * "section:key" of every chunk is put in our own hash map once and looked up from there.
 *
 * The line scan (menu_scan.c) says where each key is, so every message here names its line.
 * This file turns values into the menu's fields and reports values that make no sense on
 * their own (a bad number, an unknown key, a language code that is not one); menu_check.c
 * then judges the menu as a whole. A load with any error returns EINVAL and no menu, after
 * reporting every error it found, not only the first.
 *
 * Also here: the public accessors, and the hash map the three menu files share.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <iniparser/iniparser.h>

#include "base/diag.h"
#include "base/inimem.h"
#include "base/rfile.h"
#include "base/textcheck.h"
#include "core/menu_priv.h"
#include "core/sayas.h"

/* ---- Hash map -------------------------------------------------------------------------------- */

/* FNV-1a with a per-map seed taken from addresses (random under ASLR), so that a file cannot
 * be written in advance to make every name collide. Open addressing, kept under half full. */
static uint64_t map_hash(const struct tt_menu_map *m, int tag, const char *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ m->seed;
    h = (h ^ (uint32_t)tag) * 0x100000001b3ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

int tt_menu_map_init(struct tt_menu_map *m, size_t expected)
{
    /* atomic: menus may be loaded on several threads at once */
    static _Atomic unsigned long counter;
    size_t cap = 16;
    while (cap < expected * 2)
        cap *= 2;
    m->slot = calloc(cap, sizeof(*m->slot));
    if (!m->slot)
        return ENOMEM;
    m->cap = cap;
    m->n = 0;
    m->seed = ((uint64_t)(uintptr_t)m << 17) ^ (uint64_t)(uintptr_t)&counter ^
              (uint64_t)(atomic_fetch_add(&counter, 1) + 1);
    return 0;
}

void tt_menu_map_free(struct tt_menu_map *m)
{
    free(m->slot);
    m->slot = NULL;
    m->cap = m->n = 0;
}

static struct tt_menu_map_slot *map_find(const struct tt_menu_map *m, int tag, const char *key,
                                         size_t len)
{
    size_t mask = m->cap - 1;
    for (size_t i = map_hash(m, tag, key, len) & mask;; i = (i + 1) & mask) {
        struct tt_menu_map_slot *s = &m->slot[i];
        if (!s->key || (s->tag == tag && s->len == len && !memcmp(s->key, key, len)))
            return s;
    }
}

int tt_menu_map_get(const struct tt_menu_map *m, int tag, const char *key, size_t len)
{
    if (!m->cap)
        return -1;
    const struct tt_menu_map_slot *s = map_find(m, tag, key, len);
    return s->key ? s->value : -1;
}

int tt_menu_map_put(struct tt_menu_map *m, int tag, const char *key, size_t len, int value,
                    int *old)
{
    if ((m->n + 1) * 2 > m->cap) {
        struct tt_menu_map bigger = *m;
        bigger.cap = m->cap ? m->cap * 2 : 16;
        bigger.slot = calloc(bigger.cap, sizeof(*bigger.slot));
        if (!bigger.slot)
            return ENOMEM;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slot[i].key)
                *map_find(&bigger, m->slot[i].tag, m->slot[i].key, m->slot[i].len) = m->slot[i];
        free(m->slot);
        *m = bigger;
    }
    struct tt_menu_map_slot *s = map_find(m, tag, key, len);
    if (s->key) {
        if (old)
            *old = s->value;
        return EEXIST;
    }
    *s = (struct tt_menu_map_slot){.key = key, .len = (uint32_t)len, .tag = tag, .value = value};
    m->n++;
    return 0;
}

/* ---- Messages and engine keys ---------------------------------------------------------------- */

static void menu_vmsg(struct tt_load *ld, enum tt_severity sev, int line, const char *rule,
                      const char *fmt, va_list ap)
{
    if (sev == TT_ERROR)
        ld->errors++;
    if (!ld->diag)
        return;
    /* A diag list shows TT_DIAG_MAX messages and only counts the rest: keep no more (binary
     * junk can give one message per line), and skip the formatting of the others. */
    if (ld->nnotes == TT_DIAG_MAX) {
        ld->extra[sev]++;
        return;
    }
    if (!ld->notes && !(ld->notes = calloc(TT_DIAG_MAX, sizeof(*ld->notes)))) {
        ld->nomem = true;
        return;
    }
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    struct tt_load_note *n = &ld->notes[ld->nnotes];
    if (!(n->text = strdup(buf))) {
        ld->nomem = true;
        return;
    }
    n->line = line;
    n->sev = sev;
    n->rule = rule;
    n->seq = (unsigned)ld->nnotes++;
}

void tt_menu_msg(struct tt_load *ld, enum tt_severity sev, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    menu_vmsg(ld, sev, line, NULL, fmt, ap);
    va_end(ap);
}

void tt_menu_msg_rule(struct tt_load *ld, enum tt_severity sev, int line, const char *rule,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    menu_vmsg(ld, sev, line, rule, fmt, ap);
    va_end(ap);
}

static int note_order(const void *a, const void *b)
{
    const struct tt_load_note *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void tt_menu_msg_flush(struct tt_load *ld)
{
    if (ld->nnotes)
        qsort(ld->notes, ld->nnotes, sizeof(*ld->notes), note_order);
    for (size_t i = 0; i < ld->nnotes; i++) {
        /* Every message at a line is a finding of `tonetree check`: those no rule claims are
         * about the file's format (syntax, unknown keys, bad values). Line 0 is about reading
         * the file at all, which no rule covers. */
        const struct tt_load_note *n = &ld->notes[i];
        const char *rule = n->rule ? n->rule : n->line > 0 ? "menu-format" : NULL;
        tt_diag_add_rule(ld->diag, n->sev, ld->name, n->line, rule, "%s", n->text);
        free(ld->notes[i].text);
    }
    /* The list is full by now: these only count. */
    for (int sev = 0; sev < 3; sev++)
        for (size_t i = 0; i < ld->extra[sev]; i++)
            tt_diag_add(ld->diag, (enum tt_severity)sev, ld->name, 0, "%s", "");
    free(ld->notes);
    ld->notes = NULL;
    ld->nnotes = 0;
    memset(ld->extra, 0, sizeof(ld->extra));
}

static const struct {
    const char *name, *does;
    char def;
} engine_keys[TT_ROLE_COUNT] = {
    [TT_ROLE_REPEAT] = {"key.repeat", "the repeat key (it says the prompt again)", '5'},
    [TT_ROLE_BACK] = {"key.back", "the back key (it goes back one step, or to the previous page)",
                     '*'},
    [TT_ROLE_SKIP] = {"key.skip",
                     "the skip key (it skips the rest of the prompt, or turns to the next page)",
                     '#'},
    [TT_ROLE_HELP] = {"key.help", "the help key (it opens help and settings)", '0'},
    [TT_ROLE_END] = {"key.end", "the end key (it ends the session)", '9'},
};

const char *tt_menu_key_name(enum tt_menu_role k)
{
    return engine_keys[k].name;
}

const char *tt_menu_key_does(enum tt_menu_role k)
{
    return engine_keys[k].does;
}

static char *engine_key_ptr(struct tt_keys *keys, enum tt_menu_role k)
{
    switch (k) {
    case TT_ROLE_REPEAT:
        return &keys->repeat;
    case TT_ROLE_BACK:
        return &keys->back;
    case TT_ROLE_SKIP:
        return &keys->skip;
    case TT_ROLE_HELP:
        return &keys->help;
    default:
        return &keys->end;
    }
}

char tt_menu_key_get(const struct tt_keys *keys, enum tt_menu_role k)
{
    return *engine_key_ptr((struct tt_keys *)keys, k);
}

/* ---- Handing bytes to iniparser -------------------------------------------------------------- */

_Thread_local unsigned long tt_menu_scan_misses;

/* What iniparser said about a chunk (through inimem.h): ld->ini_line0 is the number of lines
 * of the file before the chunk (iniparser's line numbers count from the chunk's start). */
static void ini_error(void *ctx, const char *fmt, va_list ap)
{
    static const char syntax[] = "iniparser: syntax error in %s (%d):";
    static const char too_long[] = "iniparser: input line too long in %s (%d)";
    struct tt_load *ld = ctx;
    int ini_line0 = ld->ini_line0;
    if (strstr(fmt, "memory")) {
        ld->nomem = true;
        return;
    }
    /* The scan rejects every line iniparser would: a line error reaching here is a miss. */
    if (!strstr(fmt, "cannot open"))
        tt_menu_scan_misses++;
    if (!strncmp(fmt, syntax, sizeof(syntax) - 1)) {
        (void)va_arg(ap, const char *);
        int line = ini_line0 + va_arg(ap, int);
        const char *text = strstr(fmt + sizeof(syntax) - 1, "%s") ? va_arg(ap, const char *) : "";
        tt_menu_msg(ld, TT_ERROR, line, "iniparser cannot read this line: '%.60s'", text);
    } else if (!strncmp(fmt, too_long, sizeof(too_long) - 1)) {
        (void)va_arg(ap, const char *);
        int line = ini_line0 + va_arg(ap, int);
        tt_menu_msg(ld, TT_ERROR, line,
                    "this line is too long for the INI reader (at most %d bytes)", TT_LINE_MAX);
    } else {
        char buf[512];
        vsnprintf(buf, sizeof(buf), fmt, ap);
        buf[strcspn(buf, "\n")] = '\0';
        tt_menu_msg(ld, TT_ERROR, 0, "%s", buf);
    }
}

struct tt_ini {
    size_t n;
    dictionary *dict[]; /* in file order; NULL for a chunk iniparser rejected */
};

/* Where a chunk begins: its first byte, and the number of lines of the file before it. */
struct ini_cut {
    size_t at;
    int line0;
};

/* Where to cut the file for iniparser. The first chunk starts at the top (with whatever comes
 * before the first section); each other one at a section header, once the chunk before holds
 * TT_INI_CHUNK sections. INI sections are independent, and iniparser starts a chunk in no
 * section with no line half read, so it reads each chunk as it would in the whole file:
 * - the cut is at the first line of the header's logical line; the scan joins lines with \
 *   exactly as iniparser does, so no logical line is split (and a header that \ joins to the
 *   line before is no header, to either);
 * - the header enters its section whatever came before it. Not so "[]" or "[]x]": iniparser
 *   then stays in the section before, its name cut to the header's length less one; no cut
 *   there. */
static size_t ini_cuts(const struct tt_scan *sc, struct ini_cut *cut)
{
    size_t n = 0, in_chunk = 0;
    cut[n++] = (struct ini_cut){.at = 0, .line0 = 0};
    for (size_t i = 0; i < sc->nsec; i++, in_chunk++) {
        if (in_chunk >= TT_INI_CHUNK && sc->sec[i].starts) {
            cut[n++] = (struct ini_cut){.at = sc->sec[i].offset, .line0 = sc->sec[i].line - 1};
            in_chunk = 0;
        }
    }
    return n;
}

int tt_menu_ini_read(struct tt_load *ld, const char *data, size_t len, struct tt_ini **inip)
{
    /* At most one cut per TT_INI_CHUNK sections, plus the top of the file. */
    size_t most = ld->scan.nsec / TT_INI_CHUNK + 1;
    struct ini_cut *cut = malloc(most * sizeof(*cut));
    struct tt_ini *ini = calloc(1, sizeof(*ini) + most * sizeof(ini->dict[0]));
    struct tt_inimem im = {.fd = -1};
    int err = 0;
    bool rejected = false;
    size_t n = 0;
    *inip = NULL;
    if (!cut || !ini) {
        err = ENOMEM;
    } else if ((err = tt_inimem_open(&im)) != 0) {
        tt_menu_msg(ld, TT_ERROR, 0, "cannot hand the menu to the INI reader: %s", strerror(err));
    } else {
        n = ini_cuts(&ld->scan, cut);
    }

    for (size_t c = 0; c < n && !ld->nomem; c++) {
        size_t end = c + 1 < n ? cut[c + 1].at : len;
        int errors = ld->errors;
        dictionary *d = NULL;
        ld->ini_line0 = cut[c].line0;
        if ((err = tt_inimem_load(&im, data + cut[c].at, end - cut[c].at, &d, ini_error, ld)) !=
            0) {
            tt_menu_msg(ld, TT_ERROR, 0, "cannot hand the menu to the INI reader: %s",
                        strerror(err));
            break;
        }
        ini->dict[ini->n++] = d;
        if (!d) {
            /* Read the other chunks still: every line iniparser rejects gets its message. */
            rejected = true;
            if (ld->errors == errors) {
                tt_menu_scan_misses++;
                tt_menu_msg(ld, TT_ERROR, 0, "the INI reader could not read the file");
            }
        }
    }

    tt_inimem_close(&im);
    free(cut);
    if (!err && ld->nomem)
        err = ENOMEM;
    if (err || rejected)
        tt_menu_ini_free(ini);
    else
        *inip = ini;
    return err;
}

void tt_menu_ini_free(struct tt_ini *ini)
{
    if (!ini)
        return;
    for (size_t c = 0; c < ini->n; c++)
        if (ini->dict[c])
            iniparser_freedict(ini->dict[c]);
    free(ini);
}

/* ---- From the dictionaries to the menu ------------------------------------------------------- */

struct build {
    struct tt_load *ld;
    tt_menu *m;
    struct tt_menu_map dict;   /* "section:key" -> index in val[] */
    const char **val;     /* iniparser's values, from every chunk's dictionary */
    int *sec_node;        /* scan section -> node index, or -1 */
    int settings;         /* scan section of [tonetree], or -1 */
    int title_line[TT_MAX_LANGS];
    const char *prompts;  /* as written, or NULL */
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const char *value(struct build *b, const struct tt_scan_key *k)
{
    char full[2 * TT_LINE_MAX + 2];
    const char *sec = b->ld->scan.sec[k->sec].name;
    size_t sl = strlen(sec), kl = strlen(k->name);
    memcpy(full, sec, sl);
    full[sl] = ':';
    memcpy(full + sl + 1, k->name, kl);
    full[sl + 1 + kl] = '\0'; /* for the message below */
    int i = tt_menu_map_get(&b->dict, 0, full, sl + 1 + kl);
    if (i < 0) {
        /* The scan and iniparser disagree about this line: say so rather than guess. */
        tt_menu_scan_misses++;
        tt_menu_msg(b->ld, TT_ERROR, k->line, "the INI reader did not read %.40s on this line",
                    k->name);
        return NULL;
    }
    if (!b->val[i]) {
        /* iniparser stores [a:b] as the entry "a:b", the same as key b of [a]. */
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "%.40s lost its value to a [section] named %s: rename that section", k->name,
                    full);
        return NULL;
    }
    return b->val[i];
}

static void lang_list(const tt_menu *m, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < m->nlangs && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", m->lang[i]);
}

static int lang_find(const tt_menu *m, const char *code)
{
    for (size_t i = 0; i < m->nlangs; i++)
        if (!strcmp(m->lang[i], code))
            return (int)i;
    return -1;
}

/* A language code: [a-z]{2,3}(-[a-z0-9]{1,8})?, lowercased (keys such as text.es-MX are
 * lowercased by iniparser too), and short enough for the menu's code field. */
static bool lang_code(const char *p, size_t n, char *out, size_t size)
{
    if (n >= size)
        return false;
    size_t i = 0;
    for (; i < n; i++) {
        char c = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
        out[i] = c;
    }
    out[n] = '\0';
    size_t primary = 0;
    while (primary < n && out[primary] >= 'a' && out[primary] <= 'z')
        primary++;
    if (primary < 2 || primary > 3)
        return false;
    if (primary == n)
        return true;
    if (out[primary] != '-' || n - primary - 1 < 1 || n - primary - 1 > 8)
        return false;
    for (i = primary + 1; i < n; i++)
        if (!((out[i] >= 'a' && out[i] <= 'z') || is_digit(out[i])))
            return false;
    return true;
}

static void parse_languages(struct build *b, const struct tt_scan_key *k, const char *v)
{
    tt_menu *m = b->m;
    size_t listed = 0;
    for (const char *p = v; *p;) {
        while (*p == ',' || is_space(*p))
            p++;
        if (!*p)
            break;
        const char *t = p;
        while (*p && *p != ',' && !is_space(*p))
            p++;
        size_t n = (size_t)(p - t);
        char code[sizeof(m->lang[0])];
        listed++;
        if (!lang_code(t, n, code, sizeof(code))) {
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "'%.*s' is not a language code: write codes such as en, es or pt-br "
                        "(2 or 3 letters, then optionally - and a region), separated by commas",
                        (int)(n > 20 ? 20 : n), t);
        } else if (lang_find(m, code) >= 0) {
            tt_menu_msg(b->ld, TT_ERROR, k->line, "%s is listed twice in %s", code, k->name);
        } else if (m->nlangs < TT_MAX_LANGS) {
            memcpy(m->lang[m->nlangs++], code, sizeof(code));
        }
    }
    if (listed > TT_MAX_LANGS)
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "%s lists %zu languages: a menu can have at most %d", k->name, listed,
                    TT_MAX_LANGS);
    if (listed == 0)
        tt_menu_msg(b->ld, TT_ERROR, k->line, "%s is empty: name a language, e.g. %s = en",
                    k->name, k->name);
}

/* The languages come first: every title.xx, text.xx and voice.xx is judged against them. */
static void load_languages(struct build *b)
{
    const struct tt_scan *sc = &b->ld->scan;
    const struct tt_scan_key *seen = NULL;
    for (size_t i = 0; b->settings >= 0 && i < sc->nkey; i++) {
        const struct tt_scan_key *k = &sc->key[i];
        if (k->sec != b->settings ||
            (strcmp(k->name, "language") && strcmp(k->name, "languages")))
            continue;
        if (seen) {
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "%s and %s (line %d) both name the languages: keep one", k->name,
                        seen->name, seen->line);
            continue;
        }
        seen = k;
        const char *v = value(b, k);
        if (v)
            parse_languages(b, k, v);
    }
    if (b->m->nlangs == 0) {
        /* The default, also after a bad list, so that the checks that follow still run. */
        memcpy(b->m->lang[0], "en", 3);
        b->m->nlangs = 1;
    }
}

/* "title" is the default language's; "title.es" names one. -1 (and a message) when the
 * suffix is not one of the menu's languages; -2 when key is not base or base.xx at all. */
static int words_lang(struct build *b, const struct tt_scan_key *k, const char *base)
{
    size_t bl = strlen(base);
    if (strncmp(k->name, base, bl))
        return -2;
    if (k->name[bl] == '\0')
        return 0;
    if (k->name[bl] != '.')
        return -2;
    const char *code = k->name + bl + 1;
    int l = lang_find(b->m, code);
    if (l >= 0)
        return l;
    char norm[sizeof(b->m->lang[0])];
    if (!lang_code(code, strlen(code), norm, sizeof(norm)))
        return -2;
    char list[TT_MAX_LANGS * 16];
    lang_list(b->m, list, sizeof(list));
    tt_menu_msg(b->ld, TT_ERROR, k->line,
                "%s: %s is not one of this menu's languages (%s): add it to languages in "
                "[tonetree], or correct the code",
                k->name, code, list);
    return -1;
}

/* title or text in a language: keep a copy; two keys for one language is an error. */
static int set_words(struct build *b, const struct tt_scan_key *k, int lang, char **slot,
                     int *line)
{
    const char *v = value(b, k);
    if (!v)
        return 0;
    if (*line) {
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "%s gives the %s %s again (it was given on line %d): keep one", k->name,
                    b->m->lang[lang],
                    !strncmp(k->name, "title", 5) ? "title"
                    : !strncmp(k->name, "short", 5) ? "short text"
                                                     : "text",
                    *line);
        return 0;
    }
    *line = k->line;
    *slot = strdup(v);
    return *slot ? 0 : ENOMEM;
}

static void suggest_msg(const struct tt_suggest *s, char *buf, size_t size)
{
    const char *best = tt_menu_suggest_best(s);
    if (best)
        snprintf(buf, size, " (did you mean '%s'?)", best);
    else
        buf[0] = '\0';
}

static const char *const setting_names[] = {
    "title",   "start",   "language", "languages", "prompts",  "timeout",  "tries",
    "gap",     "key.repeat", "key.back", "key.skip", "key.help", "key.end", "digit_timeout",
    "safety", "text_timeout",
};
static const char *const node_names[] = {"title",     "text",    "short",  "next",
                                         "input",     "min",     "max",    "sensitive",
                                         "confirm",   "lookup",  "transfer"};

static bool is_setting(const char *k)
{
    for (size_t i = 0; i < sizeof(setting_names) / sizeof(*setting_names); i++)
        if (!strcmp(k, setting_names[i]) && strcmp(k, "title"))
            return true;
    return !strncmp(k, "voice.", 6) || !strncmp(k, "key.", 4);
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!is_digit(*s))
            return false;
    return true;
}

/* A key nobody knows: say what it would be, or where it belongs. */
static void unknown_key(struct build *b, const struct tt_scan_key *k, int node)
{
    char hint[128] = "";
    struct tt_suggest s;
    const tt_menu *m = b->m;
    if (node >= 0 && !strcmp(k->name, "prev")) {
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "prev cannot be set: it follows from next (write next = %s in the page "
                    "before this one, and remove this line)",
                    m->nodes[node].id);
        return;
    }
    if (node >= 0 && !strcmp(k->name, "*")) {
        for (int e = 0; e < TT_ROLE_COUNT; e++)
            if (tt_menu_key_get(&m->keys, (enum tt_menu_role)e) == '*')
                snprintf(hint, sizeof(hint), ": it is %s", tt_menu_key_does((enum tt_menu_role)e));
        tt_menu_msg_rule(b->ld, TT_ERROR, k->line, "reserved-key",
                         "* cannot be a choice%s; choices are the digits 0-9: pick a free digit",
                         hint);
        return;
    }
    if (node >= 0 && all_digits(k->name)) {
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "%.20s cannot be a choice: a choice is one digit, 0-9", k->name);
        return;
    }
    if (node >= 0 && is_setting(k->name)) {
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "%.40s is a setting of the whole menu: move it to [tonetree]", k->name);
        return;
    }
    if (node < 0 && (all_digits(k->name) || !strcmp(k->name, "next") ||
                     !strcmp(k->name, "text") || !strncmp(k->name, "text.", 5))) {
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "%.40s belongs in a node's [section], not in [tonetree]", k->name);
        return;
    }
    if (node < 0 && !strcmp(k->name, "voice")) {
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "voice needs a language: write voice.%s = engine:name", m->lang[0]);
        return;
    }
    if (tt_menu_suggest_init(&s, b->ld, k->name)) {
        char cand[TT_ID_MAX];
        if (node >= 0) {
            for (size_t i = 0; i < sizeof(node_names) / sizeof(*node_names); i++)
                tt_menu_suggest_try(&s, node_names[i]);
            for (size_t l = 0; l < m->nlangs; l++) {
                snprintf(cand, sizeof(cand), "title.%s", m->lang[l]);
                tt_menu_suggest_try(&s, cand);
                snprintf(cand, sizeof(cand), "text.%s", m->lang[l]);
                tt_menu_suggest_try(&s, cand);
            }
        } else {
            for (size_t i = 0; i < sizeof(setting_names) / sizeof(*setting_names); i++)
                tt_menu_suggest_try(&s, setting_names[i]);
            for (size_t l = 0; l < m->nlangs; l++) {
                snprintf(cand, sizeof(cand), "title.%s", m->lang[l]);
                tt_menu_suggest_try(&s, cand);
                snprintf(cand, sizeof(cand), "voice.%s", m->lang[l]);
                tt_menu_suggest_try(&s, cand);
            }
        }
        suggest_msg(&s, hint, sizeof(hint));
    }
    if (node >= 0)
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "%.40s is not a key a node can have%s; a node has title, text, next and "
                    "digit keys",
                    k->name, hint);
    else
        tt_menu_msg(b->ld, TT_ERROR, k->line, "%.40s is not a setting of [tonetree]%s",
                    k->name, hint);
}

/* Seconds as written by a person ("7", "0.4", ".5"), to milliseconds, without strtod (whose
 * decimal point follows the locale the host program may have set). */
static bool parse_seconds(const char *v, tt_ms *ms)
{
    int64_t whole = 0, frac = 0;
    int nfrac = 0;
    bool digits = false, round_up = false;
    const char *p = v;
    for (; is_digit(*p); p++, digits = true)
        if (whole < 100000000)
            whole = whole * 10 + (*p - '0');
    if (*p == '.') {
        for (p++; is_digit(*p); p++, digits = true) {
            if (nfrac < 3)
                frac = frac * 10 + (*p - '0'), nfrac++;
            else if (nfrac++ == 3)
                round_up = *p >= '5';
        }
    }
    if (!digits || *p)
        return false;
    for (; nfrac < 3; nfrac++)
        frac *= 10;
    *ms = whole * 1000 + frac + (round_up ? 1 : 0);
    return true;
}

static void set_seconds(struct build *b, const struct tt_scan_key *k, const char *v, tt_ms *out,
                        tt_ms lo, tt_ms hi, const char *what)
{
    tt_ms ms;
    if (!parse_seconds(v, &ms))
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "%s = %.20s is not a number of seconds: write it like 7 or 0.5 (%s)", k->name,
                    v, what);
    else if (ms < lo || ms > hi)
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "%s = %.20s is out of range: give %g to %g seconds (%s)", k->name, v,
                    (double)lo / 1000, (double)hi / 1000, what);
    else
        *out = ms;
}

static void set_tries(struct build *b, const struct tt_scan_key *k, const char *v)
{
    long n = 0;
    bool ok = all_digits(v);
    for (const char *p = v; ok && *p && n <= 1000; p++)
        n = n * 10 + (*p - '0');
    if (!ok || n < 1 || n > 10)
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "tries = %.20s: give a whole number from 1 to 10 (the silent or wrong tries "
                    "before help)",
                    v);
    else
        b->m->tries = (int)n;
}

static void set_engine_key(struct build *b, const struct tt_scan_key *k, const char *v)
{
    for (int e = 0; e < TT_ROLE_COUNT; e++) {
        if (strcmp(k->name, engine_keys[e].name))
            continue;
        if (v[0] && !v[1] && strchr("0123456789*#", v[0])) {
            *engine_key_ptr(&b->m->keys, (enum tt_menu_role)e) = v[0];
            b->ld->key_line[e] = k->line;
        } else if (!v[0] && (k->flags & TT_SCAN_EMPTY_COMMENT)) {
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "%s is empty: a # or ; after the = starts a comment; write the key in "
                        "double quotes, e.g. %s = \"#\"",
                        k->name, k->name);
        } else {
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "%s = %.20s: an engine key is one of 0-9, * or #", k->name, v);
        }
        return;
    }
    unknown_key(b, k, -1);
}

static const char *const flite_voices[] = {"kal16", "kal", "slt", "rms", "awb"};

static int set_voice(struct build *b, const struct tt_scan_key *k, int lang, const char *v)
{
    char hint[64] = "";
    struct tt_suggest s;
    const char *colon = strchr(v, ':');
    if (!colon) {
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "%s = %.40s: write engine:voice, e.g. flite:kal16 or espeak-ng:%s", k->name, v,
                    b->m->lang[lang]);
        return 0;
    }
    size_t el = (size_t)(colon - v);
    const char *name = colon + 1;
    if (el == 5 && !strncmp(v, "flite", 5)) {
        bool known = false;
        for (size_t i = 0; i < sizeof(flite_voices) / sizeof(*flite_voices); i++)
            known |= !strcmp(name, flite_voices[i]);
        if (!known) {
            if (tt_menu_suggest_init(&s, b->ld, name)) {
                for (size_t i = 0; i < sizeof(flite_voices) / sizeof(*flite_voices); i++)
                    tt_menu_suggest_try(&s, flite_voices[i]);
                suggest_msg(&s, hint, sizeof(hint));
            }
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "flite has no voice '%.20s'%s: its voices are kal16, kal, slt, rms and awb",
                        name, hint);
            return 0;
        }
        if (strncmp(b->m->lang[lang], "en", 2) ||
            (b->m->lang[lang][2] && b->m->lang[lang][2] != '-'))
            tt_menu_msg(b->ld, TT_WARNING, k->line,
                        "flite speaks only English, and this voice is for %s: espeak-ng:%s would "
                        "speak it",
                        b->m->lang[lang], b->m->lang[lang]);
    } else if (el == 9 && !strncmp(v, "espeak-ng", 9)) {
        bool ok = *name != '\0';
        for (const char *p = name; *p; p++)
            ok &= (unsigned char)*p > ' ' && *p != 127;
        if (!ok) {
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "%s: espeak-ng needs a voice name without spaces after the colon, e.g. "
                        "espeak-ng:%s",
                        k->name, b->m->lang[lang]);
            return 0;
        }
    } else {
        char engine[32];
        snprintf(engine, sizeof(engine), "%.*s", (int)(el < 31 ? el : 31), v);
        if (!strncmp(engine, "espeak", 6)) {
            snprintf(hint, sizeof(hint), " (did you mean 'espeak-ng'?)");
        } else if (tt_menu_suggest_init(&s, b->ld, engine)) {
            tt_menu_suggest_try(&s, "flite");
            tt_menu_suggest_try(&s, "espeak-ng");
            suggest_msg(&s, hint, sizeof(hint));
        }
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "'%s' is not a speech engine%s: use flite (English) or espeak-ng", engine,
                    hint);
        return 0;
    }
    free(b->m->voice[lang]);
    b->m->voice[lang] = strdup(v);
    return b->m->voice[lang] ? 0 : ENOMEM;
}

static int settings_key(struct build *b, const struct tt_scan_key *k)
{
    const char *n = k->name;
    if (!strcmp(n, "language") || !strcmp(n, "languages"))
        return 0; /* read first, by load_languages() */
    int l = words_lang(b, k, "title");
    if (l >= 0)
        return set_words(b, k, l, &b->m->title[l], &b->title_line[l]);
    if (l == -1)
        return 0;
    if (!strncmp(n, "key.lang", 8)) {
        l = words_lang(b, k, "key.lang");
        if (l == -2 || (l == 0 && !n[8])) {
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "%.40s: name the language, e.g. key.lang.%s = 8", n, b->m->lang[0]);
            return 0;
        }
        if (l < 0)
            return 0;
        const char *v = value(b, k);
        if (v && v[0] >= '1' && v[0] <= '9' && !v[1]) {
            b->m->lang_key[l] = v[0];
            b->ld->lang_key_line[l] = k->line;
        } else if (v) {
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "%s = %.20s: a language key is one digit, 1 to 9, the same on every node",
                        n, v);
        }
        return 0;
    }
    if (!strncmp(n, "voice.", 6)) {
        l = words_lang(b, k, "voice");
        if (l == -2) {
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "%.40s: '%.20s' is not a language code (voice.en, voice.es, ...)", n,
                        n + 6);
            return 0;
        }
        if (l < 0)
            return 0;
        const char *v = value(b, k);
        return v ? set_voice(b, k, l, v) : 0;
    }
    const char *v = NULL;
    bool known = !strcmp(n, "start") || !strcmp(n, "prompts") || !strcmp(n, "timeout") ||
                 !strcmp(n, "tries") || !strcmp(n, "gap") || !strncmp(n, "key.", 4) ||
                 !strcmp(n, "digit_timeout") || !strcmp(n, "safety") ||
                 !strcmp(n, "text_timeout");
    if (!known) {
        unknown_key(b, k, -1);
        return 0;
    }
    if (!strncmp(n, "key.", 4)) {
        bool engine = false;
        for (int e = 0; e < TT_ROLE_COUNT; e++)
            engine |= !strcmp(n, engine_keys[e].name);
        if (!engine) {
            unknown_key(b, k, -1);
            return 0;
        }
    }
    if (!(v = value(b, k)))
        return 0;
    if (!strcmp(n, "start")) {
        b->ld->start = (struct tt_ref){.to = v, .line = k->line};
    } else if (!strcmp(n, "safety")) {
        b->ld->safety = (struct tt_ref){.to = v, .line = k->line};
    } else if (!strcmp(n, "prompts")) {
        if (!*v)
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "prompts is empty: name the folder of the recordings, e.g. ../prompts");
        b->prompts = v;
    } else if (!strcmp(n, "timeout")) {
        set_seconds(b, k, v, &b->m->timeout, 500, 600000,
                    "the silence after a prompt before it counts as a try");
    } else if (!strcmp(n, "gap")) {
        set_seconds(b, k, v, &b->m->gap, 0, 5000, "the pause between the parts of a prompt");
    } else if (!strcmp(n, "digit_timeout")) {
        set_seconds(b, k, v, &b->m->digit_timeout, 1000, 60000,
                    "the silence after a digit that ends an entry");
    } else if (!strcmp(n, "text_timeout")) {
        set_seconds(b, k, v, &b->m->text_timeout, 5000, 600000,
                    "the wait for a caller who reads and types");
    } else if (!strcmp(n, "tries")) {
        set_tries(b, k, v);
    } else {
        set_engine_key(b, k, v);
    }
    return 0;
}

static bool parse_yes_no(const char *v, bool *out)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
        *out = true;
    else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
        *out = false;
    else
        return false;
    return true;
}

/* The keys of an input node: input = digits, min, max, sensitive, confirm, lookup. */
static void input_key(struct build *b, struct tt_node *nd, const struct tt_scan_key *k,
                      const char *n, const char *v)
{
    if (!strcmp(n, "input")) {
        if (strcmp(v, "digits"))
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "input = %.20s: the only kind of input is digits (input = digits)", v);
        nd->input = true;
        nd->input_line = k->line;
    } else if (!strcmp(n, "min") || !strcmp(n, "max")) {
        long x = 0;
        bool ok = all_digits(v) && strlen(v) <= 3;
        for (const char *p = v; ok && *p; p++)
            x = x * 10 + (*p - '0');
        if (!ok || x < 1 || x > TT_ENTRY_MAX)
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "%s = %.20s: give a whole number of digits from 1 to %d", n, v,
                        TT_ENTRY_MAX);
        else if (n[1] == 'i')
            nd->in_min = (int)x;
        else
            nd->in_max = (int)x;
    } else if (!strcmp(n, "sensitive") || !strcmp(n, "confirm")) {
        if (!parse_yes_no(v, n[0] == 's' ? &nd->sensitive : &nd->confirm))
            tt_menu_msg(b->ld, TT_ERROR, k->line, "%s = %.20s: write yes or no", n, v);
    } else {
        /* Relative to the menu file's folder, and checked now: a missing command found at
         * the moment a caller needs it is a dead end. */
        char joined[4096], real[PATH_MAX], why[PATH_MAX + 200];
        const char *slash = strrchr(b->m->path, '/');
        int dl = v[0] == '/' || !slash ? 0 : (int)(slash - b->m->path) + 1;
        snprintf(joined, sizeof(joined), "%.*s%s", dl, b->m->path, v);
        nd->lookup_line = k->line;
        if (!realpath(joined, real))
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "lookup = %.200s: no program can be run there (%s); give the path of "
                        "an executable file, absolute or relative to this menu's folder",
                        v, strerror(errno));
        else if (tt_rfile_check_program(real, why, sizeof(why))) /* a folder, a FIFO, ... */
            tt_menu_msg(b->ld, TT_ERROR, k->line, "lookup = %.200s: %s", v, why);
        else if (!(nd->lookup = strdup(real)))
            b->ld->nomem = true;
    }
}

/* transfer = sip:clerk@pbx.court.example: where a person answers. Only the address's form is
 * checked here (a scheme a phone system takes, and nothing that could break the header it goes
 * into); whether anyone answers there is learned when a caller is sent. */
static void transfer_key(struct build *b, struct tt_node *nd, const struct tt_scan_key *k,
                         const char *v)
{
    static const char *const schemes[] = {"sip:", "sips:", "tel:"};
    size_t n = strlen(v), sl = 0;
    for (size_t i = 0; i < sizeof(schemes) / sizeof(*schemes) && !sl; i++)
        if (!strncasecmp(v, schemes[i], strlen(schemes[i])))
            sl = strlen(schemes[i]);
    bool plain = n <= TT_TRANSFER_MAX;
    for (const char *p = v; plain && *p; p++)
        plain = (unsigned char)*p > ' ' && *p != 0x7f && !strchr("<>\"", *p);
    nd->transfer_line = k->line;
    if (!sl || n == sl)
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "transfer = %.200s: give the address of a person to send callers to, as "
                    "sip:user@host, sips:user@host or tel:+15551234567",
                    v);
    else if (!plain)
        tt_menu_msg(b->ld, TT_ERROR, k->line,
                    "transfer = %.200s: an address has no spaces, quotes or angle brackets and "
                    "at most %d characters",
                    v, TT_TRANSFER_MAX);
    else if (!(nd->transfer = strdup(v)))
        b->ld->nomem = true;
}

static int node_key(struct build *b, int node, const struct tt_scan_key *k)
{
    struct tt_node *nd = &b->m->nodes[node];
    struct tt_node_src *src = &b->ld->src[node];
    const char *n = k->name;
    int l;
    if (is_digit(n[0]) && !n[1]) {
        const char *v = value(b, k);
        if (v && !*v)
            tt_menu_msg(b->ld, TT_ERROR, k->line, "key %c has no node after the =", n[0]);
        else if (v)
            src->choice[n[0] - '0'] = (struct tt_ref){.to = v, .line = k->line};
        nd->choice_line[n[0] - '0'] = src->choice[n[0] - '0'].line;
        return 0;
    }
    if (!strcmp(n, "next")) {
        const char *v = value(b, k);
        if (v && !*v)
            tt_menu_msg(b->ld, TT_ERROR, k->line,
                        "next is empty: name the next page, or remove the line");
        else if (v)
            src->next = (struct tt_ref){.to = v, .line = k->line};
        nd->next_line = src->next.line;
        return 0;
    }
    if (!strcmp(n, "transfer")) {
        const char *v = value(b, k);
        if (v)
            transfer_key(b, nd, k, v);
        return 0;
    }
    if (!strcmp(n, "input") || !strcmp(n, "min") || !strcmp(n, "max") ||
        !strcmp(n, "sensitive") || !strcmp(n, "confirm") || !strcmp(n, "lookup")) {
        const char *v = value(b, k);
        if (v)
            input_key(b, nd, k, n, v);
        return 0;
    }
    /* The node keeps the lines of its words too (set_words keeps the first of two). */
    if ((l = words_lang(b, k, "title")) >= 0) {
        int err = set_words(b, k, l, &nd->title[l], &src->title_line[l]);
        nd->title_line[l] = src->title_line[l];
        return err;
    }
    if (l == -1)
        return 0;
    if ((l = words_lang(b, k, "text")) >= 0) {
        int err = set_words(b, k, l, &nd->text[l], &src->text_line[l]);
        nd->text_line[l] = src->text_line[l];
        return err;
    }
    if (l == -1)
        return 0;
    if ((l = words_lang(b, k, "short")) >= 0)
        return set_words(b, k, l, &nd->brief[l], &nd->brief_line[l]);
    if (l == -1)
        return 0;
    unknown_key(b, k, node);
    return 0;
}

/* Every valid section but [tonetree] is a node, in file order. */
static int make_nodes(struct build *b)
{
    struct tt_load *ld = b->ld;
    const struct tt_scan *sc = &ld->scan;
    size_t count = 0;
    b->settings = -1;
    b->sec_node = malloc((sc->nsec ? sc->nsec : 1) * sizeof(int));
    if (!b->sec_node)
        return ENOMEM;
    for (size_t i = 0; i < sc->nsec; i++) {
        const struct tt_scan_section *s = &sc->sec[i];
        b->sec_node[i] = -1;
        if (!s->valid || s->first != (int)i)
            continue;
        if (!strcmp(s->name, TT_SETTINGS))
            b->settings = (int)i;
        else
            count++;
    }
    tt_menu *m = b->m;
    m->nodes = calloc(count ? count : 1, sizeof(*m->nodes));
    ld->src = calloc(count ? count : 1, sizeof(*ld->src));
    int err = tt_menu_map_init(&ld->ids, count);
    if (!m->nodes || !ld->src || err)
        return ENOMEM;
    for (size_t i = 0; i < sc->nsec; i++) {
        const struct tt_scan_section *s = &sc->sec[i];
        if (!s->valid || s->first != (int)i || (int)i == b->settings)
            continue;
        struct tt_node *nd = &m->nodes[m->nnodes];
        nd->id = strdup(s->name);
        if (!nd->id)
            return ENOMEM;
        nd->line = s->line;
        nd->next = nd->prev = -1;
        nd->confirm = true; /* reading an entry back is the default: keys are easy to miss */
        for (int c = 0; c < TT_MAX_CHOICES; c++)
            nd->choice[c] = -1;
        b->sec_node[i] = (int)m->nnodes;
        if (tt_menu_map_put(&ld->ids, 0, nd->id, strlen(nd->id), (int)m->nnodes, NULL) == ENOMEM)
            return ENOMEM;
        m->nnodes++;
    }
    if (b->settings >= 0)
        ld->settings_line = sc->sec[b->settings].line;
    else
        tt_menu_msg(ld, TT_ERROR, 0,
                    "there is no [tonetree] section: add one at the top, with start = <the first "
                    "node>");
    return 0;
}

/* Write out a text's say-as marks (sayas.h): words becomes the spoken form, shown the form for
 * the eye (NULL when they are the same). A mark that cannot be read is an error at its line. */
static int expand_marks(struct build *b, int line, const char *what, const char *lang,
                        char **words, char **shown)
{
    if (!*words)
        return 0;
    char why[256], *spoken, *eye;
    int err = tt_sayas_expand(*words, lang, &spoken, &eye, why, sizeof(why));
    if (err == EINVAL) {
        tt_menu_msg(b->ld, TT_ERROR, line, "%s (%s): %s", what, lang, why);
        return 0;
    }
    if (err)
        return err;
    free(*words);
    *words = spoken;
    *shown = eye;
    return 0;
}

/* Spanish with no voice given is Latin American Spanish (espeak-ng's es-419), the Spanish
 * most people in the US speak and hear at court; espeak-ng's plain "es" is the Spanish of
 * Spain. Only es-es asks for Spain's. */
static bool americas_spanish(const char *lang)
{
    return !strcmp(lang, "es") || (!strncmp(lang, "es-", 3) && strcmp(lang, "es-es"));
}

static int finish_settings(struct build *b)
{
    tt_menu *m = b->m;
    for (size_t l = 0; l < m->nlangs; l++) {
        if (m->voice[l])
            continue;
        char v[64];
        if (!strcmp(m->lang[l], "en"))
            snprintf(v, sizeof(v), "flite:rms"); /* clearest by measurement: docs/voices.md */
        else if (americas_spanish(m->lang[l]))
            snprintf(v, sizeof(v), "espeak-ng:es-419");
        else if (!strcmp(m->lang[l], "es-es"))
            snprintf(v, sizeof(v), "espeak-ng:es");
        else
            snprintf(v, sizeof(v), "espeak-ng:%s", m->lang[l]);
        if (!(m->voice[l] = strdup(v)))
            return ENOMEM;
    }
    /* Each language has a key of its own, the same on every node, so that a listener who
     * does not understand the first words can still find theirs: 8 for the first, 7 for the
     * second, and on down (keys people rarely need for choices). One language needs none. */
    if (m->nlangs > 1) {
        for (size_t l = 0; l < m->nlangs; l++) {
            if (m->lang_key[l])
                continue;
            for (char c = (char)('8' - l); c >= '1'; c--) {
                bool taken = false;
                for (size_t o = 0; o < m->nlangs; o++)
                    taken |= m->lang_key[o] == c;
                for (int e = 0; e < TT_ROLE_COUNT; e++)
                    taken |= tt_menu_key_get(&m->keys, (enum tt_menu_role)e) == c;
                if (!taken) {
                    m->lang_key[l] = c;
                    break;
                }
            }
        }
        for (size_t l = 0; l < m->nlangs; l++) {
            if (!m->lang_key[l])
                tt_menu_msg(b->ld, TT_ERROR, b->ld->settings_line,
                            "%s has no language key left: every digit is an engine key or "
                            "another language's; a menu can offer at most as many languages as "
                            "it has free digits, so list fewer languages",
                            m->lang[l]);
            for (size_t o = l + 1; o < m->nlangs; o++)
                if (m->lang_key[l] && m->lang_key[l] == m->lang_key[o])
                    tt_menu_msg(b->ld, TT_ERROR, b->ld->lang_key_line[o] ? b->ld->lang_key_line[o]
                                                                         : b->ld->lang_key_line[l],
                                "key.lang.%s and key.lang.%s are both %c: each language needs a "
                                "key of its own",
                                m->lang[l], m->lang[o], m->lang_key[l]);
            for (int e = 0; e < TT_ROLE_COUNT; e++)
                if (m->lang_key[l] == tt_menu_key_get(&m->keys, (enum tt_menu_role)e))
                    tt_menu_msg(b->ld, TT_ERROR, b->ld->lang_key_line[l],
                                "key.lang.%s = %c clashes with %s: %c is already %s", m->lang[l],
                                m->lang_key[l], engine_keys[e].name, m->lang_key[l],
                                engine_keys[e].does);
        }
    } else if (b->ld->lang_key_line[0]) {
        tt_menu_msg(b->ld, TT_WARNING, b->ld->lang_key_line[0],
                    "key.lang.%s does nothing: this menu has one language", m->lang[0]);
        m->lang_key[0] = 0;
    }
    /* Say-as marks are written out once, here: nothing after the load sees a mark. */
    for (size_t i = 0; i < m->nnodes; i++) {
        struct tt_node *nd = &m->nodes[i];
        for (size_t l = 0; l < m->nlangs; l++) {
            int err = expand_marks(b, nd->text_line[l], "text", m->lang[l], &nd->text[l],
                                   &nd->shown[l]);
            if (!err)
                err = expand_marks(b, nd->brief_line[l], "short", m->lang[l], &nd->brief[l],
                                   &nd->brief_shown[l]);
            if (err)
                return err;
        }
    }
    /* Two engine keys on one key: the one set in the file is the one to move. */
    for (int i = 0; i < TT_ROLE_COUNT; i++) {
        for (int j = i + 1; j < TT_ROLE_COUNT; j++) {
            char c = tt_menu_key_get(&m->keys, (enum tt_menu_role)i);
            if (c != tt_menu_key_get(&m->keys, (enum tt_menu_role)j))
                continue;
            int li = b->ld->key_line[i], lj = b->ld->key_line[j];
            int e = lj > li ? j : i, o = e == j ? i : j;
            char where[48];
            if (b->ld->key_line[o])
                snprintf(where, sizeof(where), "line %d", b->ld->key_line[o]);
            else
                snprintf(where, sizeof(where), "by default");
            tt_menu_msg(b->ld, TT_ERROR, b->ld->key_line[e],
                        "%s = %c clashes with %s (%s): %c is already %s; each engine key needs "
                        "a key of its own",
                        engine_keys[e].name, c, engine_keys[o].name, where, c,
                        engine_keys[o].does);
        }
    }
    /* Prompts are found relative to the menu file's folder. */
    const char *p = b->prompts && *b->prompts ? b->prompts : "../prompts";
    const char *slash = strrchr(m->path, '/');
    size_t dl = p[0] == '/' || !slash ? 0 : (size_t)(slash - m->path) + 1;
    m->prompts_dir = malloc(dl + strlen(p) + 1);
    if (!m->prompts_dir)
        return ENOMEM;
    memcpy(m->prompts_dir, m->path, dl);
    strcpy(m->prompts_dir + dl, p);
    return 0;
}

/* One walk over each dictionary, instead of one iniparser_getstring() walk per key. The same
 * "section:key" in two chunks (a [section] repeated, an error the scan reports) keeps the
 * later value, as one dictionary would: the chunks are walked from the last, first one wins. */
static int index_values(struct build *b, const struct tt_ini *ini)
{
    size_t entries = 0;
    for (size_t c = 0; c < ini->n; c++)
        entries += (size_t)(ini->dict[c]->n > 0 ? ini->dict[c]->n : 0);
    b->val = malloc((entries ? entries : 1) * sizeof(*b->val));
    if (!b->val || tt_menu_map_init(&b->dict, entries))
        return ENOMEM;
    size_t n = 0;
    for (size_t c = ini->n; c-- > 0;) {
        const dictionary *d = ini->dict[c];
        for (ssize_t i = 0; i < d->size; i++) {
            if (!d->key[i])
                continue;
            int err = tt_menu_map_put(&b->dict, 0, d->key[i], strlen(d->key[i]), (int)n, NULL);
            if (err == ENOMEM)
                return ENOMEM;
            if (!err)
                b->val[n++] = d->val[i];
        }
    }
    return 0;
}

static int build_menu(struct tt_load *ld, const struct tt_ini *ini)
{
    struct build b = {.ld = ld, .m = ld->m};
    const struct tt_scan *sc = &ld->scan;
    int err = index_values(&b, ini);
    if (!err)
        err = make_nodes(&b);
    if (err)
        goto out;
    load_languages(&b);
    for (size_t i = 0; i < sc->nkey && !err; i++) {
        const struct tt_scan_key *k = &sc->key[i];
        if (k->sec == b.settings)
            err = settings_key(&b, k);
        else if (b.sec_node[k->sec] >= 0)
            err = node_key(&b, b.sec_node[k->sec], k);
    }
    if (!err)
        err = finish_settings(&b);
out:
    tt_menu_map_free(&b.dict);
    free(b.val);
    free(b.sec_node);
    return err;
}

/* ---- Public API ------------------------------------------------------------------------------ */

static tt_menu *menu_new(const char *name)
{
    tt_menu *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->path = strdup(name);
    if (!m->path) {
        free(m);
        return NULL;
    }
    m->start = -1;
    m->safety = -1;
    m->keys = (struct tt_keys){.repeat = '5', .back = '*', .skip = '#', .help = '0', .end = '9'};
    m->timeout = 7000;
    m->gap = 400;
    m->tries = 3;
    m->digit_timeout = 5000;
    /* A TTY sends about six characters a second: a caller reads the prompt as it comes, then
     * types. Half a minute for each wait, against seven seconds by ear. */
    m->text_timeout = 30000;
    return m;
}

static int load_bytes(tt_menu **menup, const char *name, const char *data, size_t len,
                      tt_diag *diag)
{
    struct tt_load ld = {.name = name, .diag = diag, .suggest_budget = 20 * 1000 * 1000};
    struct tt_ini *ini = NULL;
    int err = 0;

    if (len > TT_FILE_MAX) {
        tt_menu_msg(&ld, TT_ERROR, 0,
                    "the file is %zu bytes: a menu may be at most 8 MiB; split it into smaller "
                    "menus",
                    len);
        goto out;
    }
    /* A UTF-8 byte order mark (Notepad's "UTF-8 with BOM") means nothing: skip it. It stands on
     * line 1, so every line keeps its number. */
    size_t bom = tt_text_bom(data, len);
    data += bom;
    len -= bom;
    err = tt_menu_scan(&ld, data, len);
    if (err || ld.scan.fatal)
        goto out;
    err = tt_menu_ini_read(&ld, data, len, &ini);
    if (err || !ini)
        goto out;
    if (!(ld.m = menu_new(name))) {
        err = ENOMEM;
        goto out;
    }
    err = build_menu(&ld, ini);
    if (!err)
        err = tt_menu_check(&ld);
out:
    if (!err && ld.nomem)
        err = ENOMEM;
    if (!err && ld.errors)
        err = EINVAL;
    if (!err) {
        /* The id map borrows the node ids, which now belong to the menu: it goes along. */
        struct tt_menu_map *index = malloc(sizeof(*index));
        if (!index) {
            err = ENOMEM;
        } else {
            *index = ld.ids;
            ld.ids = (struct tt_menu_map){0};
            ld.m->index = index;
            *menup = ld.m;
            ld.m = NULL;
        }
    }
    if (err == ENOMEM)
        tt_menu_msg(&ld, TT_ERROR, 0, "out of memory while loading the menu");
    tt_menu_msg_flush(&ld);
    tt_menu_free(ld.m);
    free(ld.src);
    tt_menu_map_free(&ld.ids);
    tt_menu_scan_free(&ld.scan);
    tt_menu_ini_free(ini);
    return err;
}

int tt_menu_load_mem(tt_menu **menup, const char *name, const char *data, size_t len,
                     tt_diag *diag)
{
    if (!menup)
        return EINVAL;
    *menup = NULL;
    if (!data && len)
        return EINVAL;
    return load_bytes(menup, name ? name : "<menu>", data ? data : "", len, diag);
}

/* Read the whole file, which must be a regular one: a FIFO would make the open wait for ever,
 * a device such as /dev/zero never ends, and the name is opened once only (rfile.h), so what is
 * checked is what was read. */
static int read_file(struct tt_load *ld, const char *path, char **bufp, size_t *lenp)
{
    char why[128];
    int err = tt_rfile_read(path, TT_FILE_MAX, bufp, lenp);
    switch (err) {
    case 0:
        break;
    case EISDIR:
        tt_menu_msg(ld, TT_ERROR, 0, "this is a folder, not a menu file");
        break;
    case ENODEV:
        tt_menu_msg(ld, TT_ERROR, 0, "this %s: name the menu's .ini file",
                    tt_rfile_why(err, TT_FILE_MAX, why, sizeof(why)));
        break;
    case EFBIG:
        /* The same message load_bytes() gives, without reading 8 MiB to give it. */
        tt_menu_msg(ld, TT_ERROR, 0, "the file %s: a menu may be at most 8 MiB; split it into "
                    "smaller menus", tt_rfile_why(err, TT_FILE_MAX, why, sizeof(why)));
        err = EINVAL;
        break;
    case EIO:
        tt_menu_msg(ld, TT_ERROR, 0, "the menu %s: try again once it is saved",
                    tt_rfile_why(err, TT_FILE_MAX, why, sizeof(why)));
        break;
    case ENOMEM:
        tt_menu_msg(ld, TT_ERROR, 0, "out of memory while reading the menu");
        break;
    default:
        tt_menu_msg(ld, TT_ERROR, 0, "cannot open the menu: %s", strerror(err));
        break;
    }
    return err;
}

int tt_menu_load(tt_menu **menup, const char *path, tt_diag *diag)
{
    if (!menup || !path)
        return EINVAL;
    *menup = NULL;
    struct tt_load ld = {.name = path, .diag = diag};
    char *buf = NULL;
    size_t len = 0;
    int err = read_file(&ld, path, &buf, &len);
    tt_menu_msg_flush(&ld);
    if (err)
        return err;
    err = load_bytes(menup, path, buf ? buf : "", len, diag);
    free(buf);
    return err;
}

void tt_menu_free(tt_menu *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nnodes; i++) {
        free(m->nodes[i].id);
        free(m->nodes[i].lookup);
        free(m->nodes[i].transfer);
        for (int l = 0; l < TT_MAX_LANGS; l++) {
            free(m->nodes[i].title[l]);
            free(m->nodes[i].text[l]);
            free(m->nodes[i].shown[l]);
            free(m->nodes[i].brief[l]);
            free(m->nodes[i].brief_shown[l]);
        }
    }
    for (int l = 0; l < TT_MAX_LANGS; l++) {
        free(m->title[l]);
        free(m->voice[l]);
    }
    if (m->index) {
        tt_menu_map_free(m->index);
        free(m->index);
    }
    free(m->nodes);
    free(m->path);
    free(m->prompts_dir);
    free(m);
}

size_t tt_menu_node_count(const tt_menu *m)
{
    return m ? m->nnodes : 0;
}

int tt_menu_find(const tt_menu *m, const char *id)
{
    if (!m || !id)
        return -1;
    char low[TT_ID_MAX + 1];
    size_t n = strlen(id);
    if (n > TT_ID_MAX)
        return -1;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)(id[i] >= 'A' && id[i] <= 'Z' ? id[i] - 'A' + 'a' : id[i]);
    if (m->index)
        return tt_menu_map_get(m->index, 0, low, n);
    /* A menu put together by hand (tests) has no index. */
    for (size_t i = 0; i < m->nnodes; i++)
        if (!strcmp(m->nodes[i].id, low))
            return (int)i;
    return -1;
}

const char *tt_menu_node_id(const tt_menu *m, int node)
{
    return m && node >= 0 && (size_t)node < m->nnodes ? m->nodes[node].id : NULL;
}

size_t tt_menu_lang_count(const tt_menu *m)
{
    return m ? m->nlangs : 0;
}

const char *tt_menu_lang(const tt_menu *m, size_t i)
{
    return m && i < m->nlangs ? m->lang[i] : NULL;
}

int tt_menu_lang_index(const tt_menu *m, const char *code)
{
    if (!m || !code)
        return -1;
    for (size_t i = 0; i < m->nlangs; i++) {
        const char *a = m->lang[i], *c = code;
        while (*a && (*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c) == *a)
            a++, c++;
        if (!*a && !*c)
            return (int)i;
    }
    return -1;
}

const char *tt_menu_voice(const tt_menu *m, size_t lang)
{
    return m && lang < m->nlangs ? m->voice[lang] : NULL;
}

const char *tt_menu_prompts_dir(const tt_menu *m)
{
    return m ? m->prompts_dir : NULL;
}
