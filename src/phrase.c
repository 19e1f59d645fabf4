/*
 * Phrase files: the engine's own words for one language (prompts/<lang>/phrases.ini).
 *
 * The C code knows only the phrase names and which {placeholders} each may and must use, so a
 * court can re-word every sentence the engine says without a programmer, and a translation is
 * a new file rather than new code. A phrase that is missing, or uses a placeholder it cannot
 * have, is an error at load time: finding it mid-call would leave a person in silence.
 */
#include <errno.h>
#include <stdarg.h>
#include <iniparser/iniparser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "phrase.h"
#include "strbuf.h"

enum {
    A_TITLE = 1 << 0,
    A_KEY = 1 << 1,
    A_PATH = 1 << 2,
    A_REPEAT = 1 << 3,
    A_BACK = 1 << 4,
    A_SKIP = 1 << 5,
    A_END = 1 << 6,
    A_N = 1 << 7,
    A_COUNT = 1 << 8,
    A_DIGITS = 1 << 9,
};

static const struct {
    const char *name;
    unsigned allowed, required;
} phrase_spec[TT_PH_COUNT] = {
    [TT_PH_CHOICE] = {"choice", A_TITLE | A_KEY, A_TITLE | A_KEY},
    [TT_PH_NEXT_PAGE] = {"next_page", A_KEY, A_KEY},
    [TT_PH_PREV_PAGE] = {"prev_page", A_KEY, A_KEY},
    [TT_PH_BACK] = {"back", A_TITLE | A_KEY, A_KEY},
    [TT_PH_HELP_HINT] = {"help_hint", A_KEY, A_KEY},
    [TT_PH_INVALID] = {"invalid", A_KEY, A_KEY},
    [TT_PH_WARN] = {"warn", 0, 0},
    [TT_PH_TO_HELP] = {"to_help", 0, 0},
    [TT_PH_HELP] = {"help", 0, 0},
    [TT_PH_HELP_WHERE] = {"help_where", A_KEY, A_KEY},
    [TT_PH_HELP_RESTART] = {"help_restart", A_KEY, A_KEY},
    [TT_PH_HELP_LANGUAGE] = {"help_language", A_KEY, A_KEY},
    [TT_PH_HELP_RETURN] = {"help_return", A_KEY, A_KEY},
    [TT_PH_HELP_KEYS] = {"help_keys", A_REPEAT | A_BACK | A_SKIP | A_END, 0},
    [TT_PH_WHERE] = {"where", A_PATH, A_PATH},
    [TT_PH_PATH_SEP] = {"path_sep", 0, 0},
    [TT_PH_AT_START] = {"at_start", 0, 0},
    [TT_PH_GOODBYE] = {"goodbye", 0, 0},
    [TT_PH_KEY_STAR] = {"key_star", 0, 0},
    [TT_PH_KEY_HASH] = {"key_hash", 0, 0},
    [TT_PH_BROWSE] = {"browse", A_N | A_COUNT | A_TITLE, A_TITLE},
    [TT_PH_BROWSE_NONE] = {"browse_none", 0, 0},
    [TT_PH_HELP_SETTINGS] = {"help_settings", A_KEY, A_KEY},
    [TT_PH_SETTINGS] = {"settings", 0, 0},
    [TT_PH_SET_SLOWER] = {"set_slower", A_KEY, A_KEY},
    [TT_PH_SET_FASTER] = {"set_faster", A_KEY, A_KEY},
    [TT_PH_SET_LOUDER] = {"set_louder", A_KEY, A_KEY},
    [TT_PH_SET_SOFTER] = {"set_softer", A_KEY, A_KEY},
    [TT_PH_SET_PAUSE] = {"set_pause", A_KEY, A_KEY},
    [TT_PH_SLOWER] = {"slower", 0, 0},
    [TT_PH_FASTER] = {"faster", 0, 0},
    [TT_PH_LOUDER] = {"louder", 0, 0},
    [TT_PH_SOFTER] = {"softer", 0, 0},
    [TT_PH_SLOWEST] = {"slowest", 0, 0},
    [TT_PH_FASTEST] = {"fastest", 0, 0},
    [TT_PH_LOUDEST] = {"loudest", 0, 0},
    [TT_PH_SOFTEST] = {"softest", 0, 0},
    [TT_PH_PAUSED] = {"paused", 0, 0},
    [TT_PH_ENTRY_READBACK] = {"entry_readback", A_DIGITS, A_DIGITS},
    [TT_PH_ENTRY_COUNT] = {"entry_count", A_N, A_N},
    [TT_PH_ENTRY_YES] = {"entry_yes", A_KEY, A_KEY},
    [TT_PH_ENTRY_AGAIN] = {"entry_again", A_KEY, A_KEY},
    [TT_PH_ENTRY_HEAR] = {"entry_hear", A_KEY, A_KEY},
    [TT_PH_ENTRY_SHORT] = {"entry_short", A_N, 0},
    [TT_PH_ENTRY_CLEARED] = {"entry_cleared", 0, 0},
    [TT_PH_ENTRY_LEAVE] = {"entry_leave", A_BACK | A_END, A_BACK | A_END},
    [TT_PH_LOOKUP_WAIT] = {"lookup_wait", 0, 0},
    [TT_PH_LOOKUP_FAILED] = {"lookup_failed", 0, 0},
    [TT_PH_LOOKUP_DOWN] = {"lookup_down", 0, 0},
    [TT_PH_LOOKUP_RETRY] = {"lookup_retry", A_KEY, A_KEY},
    [TT_PH_RESULT_AGAIN] = {"result_again", A_KEY, A_KEY},
    [TT_PH_RESULT_ANOTHER] = {"result_another", A_KEY, A_KEY},
};

static const struct {
    const char *name;
    unsigned bit;
} placeholders[] = {
    {"title", A_TITLE}, {"key", A_KEY},   {"path", A_PATH}, {"repeat", A_REPEAT},
    {"back", A_BACK},   {"skip", A_SKIP}, {"end", A_END},     {"n", A_N},
    {"count", A_COUNT}, {"digits", A_DIGITS},
};

struct tt_phrases {
    char *text[TT_PH_COUNT];
};

const char *tt_phrase_name(enum tt_phrase_id id)
{
    return phrase_spec[id].name;
}

const char *tt_phrase_get(const tt_phrases *p, enum tt_phrase_id id)
{
    return p->text[id];
}

/* iniparser keeps no line numbers: find "name =" inside [phrases] ourselves, for messages. */
static int line_of(const char *path, const char *name)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char buf[2048];
    int line = 0, found = 0;
    size_t nlen = strlen(name);
    while (!found && fgets(buf, sizeof(buf), f)) {
        line++;
        const char *s = buf + strspn(buf, " \t");
        if (strncasecmp(s, name, nlen) == 0) {
            s += nlen;
            s += strspn(s, " \t");
            found = *s == '=';
        }
    }
    fclose(f);
    return found ? line : 0;
}

/* iniparser silently cuts an unquoted value at ; or # (a court re-wording "press # to go on"
 * would get "press"), and it has no line numbers: look at the raw lines first. */
static int check_lines(const char *path, tt_diag *diag)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char buf[2048];
    int line = 0, err = 0;
    while (fgets(buf, sizeof(buf), f)) {
        line++;
        const char *s = buf + strspn(buf, " \t");
        const char *eq = strchr(s, '=');
        if (*s == ';' || *s == '#' || *s == '[' || !eq)
            continue;
        const char *v = eq + 1 + strspn(eq + 1, " \t");
        if (*v != '"' && strpbrk(v, ";#")) {
            tt_diag_add(diag, TT_ERROR, path, line,
                        "this phrase would be cut at '%c': put the whole phrase in double "
                        "quotes",
                        *strpbrk(v, ";#"));
            err = EINVAL;
        }
    }
    fclose(f);
    return err;
}

/* iniparser reports syntax errors through one global callback with no user pointer. */
static _Thread_local struct {
    const char *path;
    tt_diag *diag;
} ini_report;

static int ini_error(const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    text[strcspn(text, "\n")] = '\0';
    if (ini_report.diag)
        tt_diag_add(ini_report.diag, TT_ERROR, ini_report.path, 0, "%s", text);
    return 0;
}

static unsigned placeholder_bit(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(placeholders) / sizeof(placeholders[0]); i++)
        if (strlen(placeholders[i].name) == len && !strncmp(placeholders[i].name, name, len))
            return placeholders[i].bit;
    return 0;
}

static int check_phrase(const char *path, enum tt_phrase_id id, const char *text, tt_diag *diag)
{
    unsigned used = 0;
    int err = 0;
    for (const char *s = strchr(text, '{'); s; s = strchr(s + 1, '{')) {
        const char *e = strchr(s, '}');
        size_t len = e ? (size_t)(e - s - 1) : 0;
        unsigned bit = e ? placeholder_bit(s + 1, len) : 0;
        if (!bit || !(bit & phrase_spec[id].allowed)) {
            tt_diag_add(diag, TT_ERROR, path, line_of(path, phrase_spec[id].name),
                        "phrase '%s' uses {%.*s}, which it cannot have; keep only the "
                        "placeholders of the shipped file",
                        phrase_spec[id].name, e ? (int)len : 12, s + 1);
            err = EINVAL;
            continue;
        }
        used |= bit;
    }
    for (size_t i = 0; i < sizeof(placeholders) / sizeof(placeholders[0]); i++) {
        if ((phrase_spec[id].required & placeholders[i].bit) && !(used & placeholders[i].bit)) {
            tt_diag_add(diag, TT_ERROR, path, line_of(path, phrase_spec[id].name),
                        "phrase '%s' must say {%s}, or the listener never hears it",
                        phrase_spec[id].name, placeholders[i].name);
            err = EINVAL;
        }
    }
    return err;
}

int tt_phrases_load(tt_phrases **pp, const char *path, tt_diag *diag)
{
    int err = 0;
    *pp = NULL;
    tt_phrases *p = calloc(1, sizeof(*p));
    if (!p)
        return ENOMEM;
    dictionary *d = NULL;
    /* Check first, so the message is ours (iniparser would print its own to stderr). */
    FILE *f = fopen(path, "r");
    if (!f) {
        tt_diag_add(diag, TT_ERROR, path, 0,
                    "cannot read this phrase file (%s); every language of a menu needs one: "
                    "copy prompts/en/phrases.ini and translate it",
                    strerror(errno));
        err = ENOENT;
        goto out;
    }
    fclose(f);
    if ((err = check_lines(path, diag)))
        goto out;
    ini_report.path = path;
    ini_report.diag = diag;
    iniparser_set_error_callback(ini_error);
    d = iniparser_load(path);
    iniparser_set_error_callback(NULL);
    ini_report.diag = NULL;
    if (!d) {
        tt_diag_add(diag, TT_ERROR, path, 0,
                    "this phrase file is not a valid INI file: see the lines iniparser named");
        err = EINVAL;
        goto out;
    }
    for (int id = 0; id < TT_PH_COUNT; id++) {
        char key[64];
        snprintf(key, sizeof(key), "phrases:%s", phrase_spec[id].name);
        const char *v = iniparser_getstring(d, key, NULL);
        if (!v || !*v) {
            tt_diag_add(diag, TT_ERROR, path, 0, "phrase '%s' is missing: add '%s = ...' under "
                        "[phrases]", phrase_spec[id].name, phrase_spec[id].name);
            err = EINVAL;
            continue;
        }
        if (check_phrase(path, id, v, diag))
            err = EINVAL;
        if (!(p->text[id] = strdup(v))) {
            err = ENOMEM;
            goto out;
        }
    }
out:
    if (d)
        iniparser_freedict(d);
    if (err)
        tt_phrases_free(p);
    else
        *pp = p;
    return err;
}

void tt_phrases_free(tt_phrases *p)
{
    if (!p)
        return;
    for (int i = 0; i < TT_PH_COUNT; i++)
        free(p->text[i]);
    free(p);
}

void tt_phrase_key(const tt_phrases *p, char key, struct tt_strbuf *out)
{
    if (key == '*')
        tt_sb_add(out, p->text[TT_PH_KEY_STAR]);
    else if (key == '#')
        tt_sb_add(out, p->text[TT_PH_KEY_HASH]);
    else
        tt_sb_addn(out, &key, 1);
}

void tt_phrase_say(const tt_phrases *p, enum tt_phrase_id id, const struct tt_phrase_args *a,
                   struct tt_strbuf *out)
{
    static const struct tt_phrase_args none;
    if (!a)
        a = &none;
    const char *s = p->text[id];
    if (out->len > 0 && out->s[out->len - 1] != ' ' && id != TT_PH_PATH_SEP)
        tt_sb_addn(out, " ", 1);
    while (*s) {
        const char *open = strchr(s, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            tt_sb_add(out, s);
            break;
        }
        tt_sb_addn(out, s, (size_t)(open - s));
        unsigned bit = placeholder_bit(open + 1, (size_t)(close - open - 1));
        switch (bit) {
        case A_TITLE:
            tt_sb_add(out, a->title ? a->title : "");
            break;
        case A_PATH:
            tt_sb_add(out, a->path ? a->path : "");
            break;
        case A_DIGITS:
            tt_sb_add(out, a->digits ? a->digits : "");
            break;
        case A_KEY:
            tt_phrase_key(p, a->key, out);
            break;
        case A_REPEAT:
            tt_phrase_key(p, a->repeat, out);
            break;
        case A_BACK:
            tt_phrase_key(p, a->back, out);
            break;
        case A_SKIP:
            tt_phrase_key(p, a->skip, out);
            break;
        case A_END:
            tt_phrase_key(p, a->end, out);
            break;
        case A_N:
        case A_COUNT: {
            char num[16];
            snprintf(num, sizeof(num), "%d", bit == A_N ? a->n : a->count);
            tt_sb_add(out, num);
            break;
        }
        default:
            tt_sb_addn(out, open, (size_t)(close - open + 1));
        }
        s = close + 1;
    }
}

int tt_phrases_load_all(const tt_menu *m, const char *prompts_dir, tt_phrases **ph,
                        tt_diag *diag)
{
    int err = 0;
    size_t n = tt_menu_lang_count(m);
    if (!prompts_dir)
        prompts_dir = tt_menu_prompts_dir(m);
    for (size_t i = 0; i < n; i++)
        ph[i] = NULL;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s/phrases.ini", prompts_dir, tt_menu_lang(m, i));
        int e = tt_phrases_load(&ph[i], path, diag);
        if (e && !err)
            err = e;
    }
    if (err)
        tt_phrases_free_all(m, ph);
    return err;
}

void tt_phrases_free_all(const tt_menu *m, tt_phrases **ph)
{
    if (!m)
        return;
    for (size_t i = 0; i < tt_menu_lang_count(m); i++) {
        tt_phrases_free(ph[i]);
        ph[i] = NULL;
    }
}
