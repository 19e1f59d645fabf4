/*
 * The line scan: one pass over a menu file's raw bytes, before iniparser sees them.
 *
 * iniparser keeps no line numbers, and it is forgiving in ways that hurt a menu: it cuts a
 * value at an unquoted ; or #, reads `# = node` as a comment, merges a repeated [section]
 * and keeps the last of two equal keys, all without a word. A clerk who writes
 * "Press #, then *." would hear "Press". So this pass walks the lines the way iniparser will,
 * with the walk the phrase and keymap loaders share (tt_ini_lines in base/iniscan.h: same
 * trimming, same \ continuation, same rules for sections, comments and quotes), records where
 * every [section] and key is, and reports what iniparser would hide, in a menu's words: what
 * is here is what only a menu has (node names, spoken words, `# = node`).
 *
 * When the bytes would make iniparser fail or misread the file (a NUL byte, a line over its
 * buffer, a line it cannot parse), the scan marks the result fatal: the loader then reports
 * what the scan found and never runs iniparser on it. What any text file the engine reads may
 * hold (UTF-8, no control characters, no direction controls) is checked by textcheck.c, which
 * the phrase and keymap loaders use too.
 *
 * The pass is linear in the file: each byte is looked at a bounded number of times, lines are
 * joined into one fixed buffer (the walk's), and duplicates are found with hash maps, not by
 * sorting as tt_iniscan_run does: menus run to thousands of sections.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/iniscan.h"
#include "base/textcheck.h"
#include "core/menu_priv.h"

struct scan_state {
    struct tt_load *ld;
    struct tt_scan *s;
    struct tt_menu_map secs;   /* section name -> first section index */
    struct tt_menu_map keys;   /* (section, key name) -> first line */
    int cur;              /* current section (first of its name), -1 before any */
};

static bool is_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Copy a lowercased name into the scan's name store (sized for the whole file up front, so
 * pointers into it stay valid while the maps hold them). */
static const char *keep_name(struct tt_scan *s, const char *p, size_t n)
{
    char *out = s->names + s->names_len;
    for (size_t i = 0; i < n; i++)
        out[i] = tt_ini_lower(p[i]);
    out[n] = '\0';
    s->names_len += n + 1;
    return out;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    void *a = realloc(*arr, c * size);
    if (!a)
        return ENOMEM;
    *arr = a;
    *cap = c;
    return 0;
}

static bool is_words_key(const char *k)
{
    return !strcmp(k, "title") || !strcmp(k, "text") || !strncmp(k, "title.", 6) ||
           !strncmp(k, "text.", 5);
}

/* `# = steps` looks like a choice on the # key, but iniparser reads it as a comment and the
 * choice silently vanishes. A banner comment (`#=====`) or prose (`# = see below`) does not
 * look like that: only `#`, `=`, one name, then nothing or a comment. */
static void hash_choice(struct scan_state *st, const char *s, size_t n, int line)
{
    size_t i = 1;
    while (i < n && tt_ini_space(s[i]))
        i++;
    if (i >= n || s[i] != '=')
        return;
    i++;
    while (i < n && tt_ini_space(s[i]))
        i++;
    size_t t = i;
    while (i < n && (is_id_char(tt_ini_lower(s[i])) || s[i] == '.'))
        i++;
    if (i == t)
        return;
    size_t name_end = i;
    while (i < n && tt_ini_space(s[i]))
        i++;
    if (i < n && s[i] != ';' && s[i] != '#')
        return;
    tt_menu_msg_rule(st->ld, TT_ERROR, line, "reserved-key",
                     "'# = %.*s': # is the skip/next-page key and cannot be a choice; note a "
                     "line starting with # is read as a comment, so this choice does nothing: "
                     "pick a free digit",
                     (int)(name_end - t > 40 ? 40 : name_end - t), s + t);
}

static int section_line(struct scan_state *st, const struct tt_ini_line *l)
{
    struct tt_scan *sc = st->s;
    int line = l->line;
    int err = grow((void **)&sc->sec, &sc->sec_cap, sc->nsec, sizeof(*sc->sec));
    if (err)
        return err;

    /* All between the brackets, trimmed, lowercased: iniparser's name ends at a first ], but
     * "[a]b]" is better named whole, and refused below, than read as [a]. */
    size_t len = l->name_len;
    const char *name = keep_name(sc, l->name, len);

    bool valid = true;
    if (!strcmp(name, TT_SETTINGS)) {
        /* the settings, not a node */
    } else if (len == 0) {
        tt_menu_msg(st->ld, TT_ERROR, line,
                    "[] has no name: a node's name uses a-z, 0-9, _ and - (it names the "
                    "recordings of the node)");
        valid = false;
    } else if (len > TT_ID_MAX) {
        tt_menu_msg(st->ld, TT_ERROR, line,
                    "the node name '%.20s...' is %zu characters long: use at most %d", name, len,
                    TT_ID_MAX);
        valid = false;
    } else {
        for (size_t i = 0; i < len; i++) {
            if (is_id_char(name[i]))
                continue;
            char c = name[i];
            char shown[16] = "";
            if (c > ' ' && c < 127)
                snprintf(shown, sizeof(shown), " (not '%c')", c);
            tt_menu_msg(st->ld, TT_ERROR, line,
                        "'%.40s' cannot be a node name: use only a-z, 0-9, _ and -%s, as the name "
                        "becomes the file name of the node's recordings",
                        name, shown);
            valid = false;
            break;
        }
    }

    int idx = (int)sc->nsec;
    int old = -1;
    err = tt_menu_map_put(&st->secs, 0, name, len, idx, &old);
    if (err == ENOMEM)
        return err;
    if (err == EEXIST) {
        tt_menu_msg(st->ld, TT_ERROR, line,
                    "[%.40s] was already started on line %d: iniparser would quietly merge the "
                    "two; join them into one section or rename one",
                    name, sc->sec[old].line);
    }
    sc->sec[sc->nsec++] = (struct tt_scan_section){.name = name, .line = line,
                                                   .offset = l->offset,
                                                   .first = err == EEXIST ? old : idx,
                                                   .valid = valid, .starts = l->s[1] != ']'};
    /* Keys after a repeated header land in the first one, as they do in iniparser. */
    st->cur = err == EEXIST ? old : idx;
    return 0;
}

/* Check the value as iniparser 4.1 will read it (tt_ini_value_read): what it would cut or
 * drop, said in a menu's words. */
static void check_value(struct scan_state *st, const char *key, const char *v, size_t n,
                        int line, unsigned *flags)
{
    struct tt_ini_value r;
    tt_ini_value_read(v, n, &r);
    if (r.unclosed) {
        tt_menu_msg(st->ld, TT_ERROR, line,
                    "the value of %.40s opens a quote (%c) that is never closed: add the "
                    "closing %c at its end",
                    key, v[0], v[0]);
        return;
    }
    if (r.rest) {
        char q = v[0];
        tt_menu_msg(st->ld, TT_ERROR, line,
                    "the words after the closing %c of %.40s would be dropped: a quoted value "
                    "ends at its next %c%s",
                    q, key, q,
                    q == '"' ? " (to keep a \" inside, put the whole value in single quotes "
                               "' ' instead)"
                             : " (to keep an apostrophe inside, put the whole value in "
                               "double quotes instead)");
        return;
    }
    if (!r.cut)
        return;
    if (r.cut == v) {
        /* "key = #" gives an empty value: the key's own check explains that. */
        *flags |= TT_SCAN_EMPTY_COMMENT;
        return;
    }
    /* After a one-word setting, " ; note" is a comment, as in most INI files. In words that
     * are spoken, a cut is never what the writer meant: "Press #, then *." would say "Press". */
    if (!is_words_key(key) && tt_ini_space(r.cut[-1]))
        return;
    tt_menu_msg(st->ld, TT_ERROR, line,
                "%.40s is cut short at the '%c' (iniparser reads ; and # in a value as the start "
                "of a comment): put the whole value in double quotes",
                key, *r.cut);
}

/* "[main] ; note" or "[main": iniparser fails, or worse, reads "[main] ; a = b" as a key
 * named "[main] ; a" in the previous section. Either way the section never starts. */
static void unclosed_section(struct scan_state *st, int line)
{
    tt_menu_msg(st->ld, TT_ERROR, line,
                "this line starts like a [section] but does not end with ]: a [section] header "
                "stands alone on its line (put a comment on a line of its own)");
    st->s->fatal = true;
}

static int key_line(struct scan_state *st, const struct tt_ini_line *l)
{
    struct tt_scan *sc = st->s;
    int line = l->line;
    size_t klen = l->name_len;
    const char *name = keep_name(sc, l->name, klen);
    unsigned flags = 0;
    check_value(st, name, l->value, l->value_len, line, &flags);

    if (st->cur < 0) {
        tt_menu_msg(st->ld, TT_ERROR, line,
                    "'%.40s' comes before any [section]: settings go under [tonetree], a node's "
                    "keys under its [node]",
                    name);
        return 0;
    }
    int old = -1;
    int err = tt_menu_map_put(&st->keys, st->cur, name, klen, line, &old);
    if (err == ENOMEM)
        return err;
    if (err == EEXIST) {
        tt_menu_msg(st->ld, TT_ERROR, line,
                    "%.40s is set twice in [%.40s] (first on line %d): iniparser would keep only "
                    "the last; remove one",
                    name, sc->sec[st->cur].name, old);
        return 0;
    }
    err = grow((void **)&sc->key, &sc->key_cap, sc->nkey, sizeof(*sc->key));
    if (err)
        return err;
    sc->key[sc->nkey++] =
        (struct tt_scan_key){.name = name, .sec = st->cur, .line = line, .flags = flags};
    return 0;
}

/* One logical line, as tt_ini_lines classified it. */
static int on_line(void *arg, const struct tt_ini_line *l)
{
    struct scan_state *st = arg;
    switch (l->kind) {
    case TT_INI_SECTION:
        return section_line(st, l);
    case TT_INI_KEY:
        return key_line(st, l);
    case TT_INI_COMMENT:
        if (l->s[0] == '#')
            hash_choice(st, l->s, l->n, l->line);
        return 0;
    /* iniparser fails the whole load on the next three: say why, in words. */
    case TT_INI_UNCLOSED:
        unclosed_section(st, l->line);
        return 0;
    case TT_INI_NO_NAME:
        st->s->fatal = true;
        tt_menu_msg(st->ld, TT_ERROR, l->line, "this line has no key before the =");
        return 0;
    case TT_INI_NOT_INI:
        st->s->fatal = true;
        tt_menu_msg(st->ld, TT_ERROR, l->line,
                    "this line is not a [section], a key = value or a comment (a comment line "
                    "starts with ; or #): '%.*s'",
                    (int)(l->n > 40 ? 40 : l->n), l->s);
        return 0;
    case TT_INI_TOO_LONG: {
        char joined[48] = "";
        if (l->last != l->line)
            snprintf(joined, sizeof(joined), " (lines %d-%d joined by \\)", l->line, l->last);
        tt_menu_msg(st->ld, TT_ERROR, l->line,
                    "this line is %zu bytes long%s; the INI reader takes at most %d, even across "
                    "lines joined with \\: shorten it, or move part of the words to a next page "
                    "(next = ...)",
                    l->n, joined, TT_LINE_MAX);
        st->s->fatal = true;
        return 0;
    }
    case TT_INI_DANGLING:
        tt_menu_msg(st->ld, TT_ERROR, l->line,
                    "the last line ends with \\, which joins it to a next line that is not there: "
                    "iniparser would drop it (remove the \\)");
        return 0;
    }
    return 0;
}

static void text_fault(void *arg, int line, const char *message)
{
    tt_menu_msg(arg, TT_ERROR, line, "%s", message);
}

/* Whole-file problems that make every line meaningless: report one clear message. Faults of
 * single lines (bytes that are not UTF-8, control characters) are reported too, but the lines
 * are still read: iniparser reads them as it reads any byte, so every other mistake can be
 * found in the same run. */
static bool not_text(struct tt_load *ld, const char *data, size_t len)
{
    if (len == 0) {
        tt_menu_msg(ld, TT_ERROR, 0,
                    "the file is empty: a menu needs a [tonetree] section with start = and at "
                    "least one node");
        return true;
    }
    return tt_text_check(data, len, "a menu", text_fault, ld) == TT_TEXT_NOT_TEXT;
}

int tt_menu_scan(struct tt_load *ld, const char *data, size_t len)
{
    struct tt_scan *s = &ld->scan;
    struct scan_state st = {.ld = ld, .s = s, .cur = -1};
    int err = 0;

    memset(s, 0, sizeof(*s));
    if (not_text(ld, data, len)) {
        s->fatal = true;
        return 0;
    }
    /* Every name is a piece of one line plus its NUL, and every line but the last ends with a
     * newline byte that is not copied: len + 1 bytes always suffice. */
    s->names = malloc(len + 1);
    if (!s->names)
        return ENOMEM;
    err = tt_menu_map_init(&st.secs, 64);
    if (!err)
        err = tt_menu_map_init(&st.keys, 256);
    if (err)
        goto out;

    err = tt_ini_lines(data, len, on_line, &st);
out:
    tt_menu_map_free(&st.secs);
    tt_menu_map_free(&st.keys);
    return err;
}

void tt_menu_scan_free(struct tt_scan *s)
{
    free(s->names);
    free(s->sec);
    free(s->key);
    memset(s, 0, sizeof(*s));
}
