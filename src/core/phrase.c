/*
 * Phrase files: the engine's own words for one language (prompts/<lang>/phrases.ini).
 *
 * The C code knows only the phrase names and which {placeholders} each may and must use, so a
 * court can re-word every sentence the engine says without a programmer, and a translation is
 * a new file rather than new code. A phrase that is missing, or uses a placeholder it cannot
 * have, is an error at load time: finding it mid-call would leave a person in silence.
 *
 * The file is read once (rfile.h), its lines scanned (iniscan.h: line numbers, the text rules of
 * textcheck.h, names written twice, values iniparser would cut), and the same bytes then handed
 * to iniparser (inimem.h), so what is checked is what is loaded.
 */
#include <errno.h>
#include <stdarg.h>
#include <iniparser/iniparser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/diag.h"
#include "base/inimem.h"
#include "base/iniscan.h"
#include "base/rfile.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "core/phrase.h"

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
    [TT_PH_NEXT_PAGE] = {"next_page", A_TITLE | A_KEY, A_KEY},
    [TT_PH_PREV_PAGE] = {"prev_page", A_TITLE | A_KEY, A_KEY},
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
    [TT_PH_END_HINT] = {"end_hint", A_END, A_END},
    [TT_PH_TRANSFER_FAILED] = {"transfer_failed", 0, 0},
    [TT_PH_TEXT_MODE] = {"text_mode", A_N, A_N},
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

/* A phrase file is a few KiB; anything this big is the wrong file (a recording, a log). */
#define PHRASE_FILE_MAX (256 * 1024)
#define SECTION "phrases"

/* A load in progress: where messages go, and where each phrase was found. */
struct load {
    const char *path;
    tt_diag *diag;
    int errors;
    int line[TT_PH_COUNT]; /* the line iniparser takes each phrase from (the last), 0: none */
};

static void msg(struct load *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void msg(struct load *ld, int line, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    tt_diag_add(ld->diag, TT_ERROR, ld->path, line, "%s", text);
    ld->errors++;
}

static void scan_fault(void *arg, int line, const char *message)
{
    msg(arg, line, "%s", message);
}

/* What iniparser said (through inimem.h). The scan refuses every line iniparser would, so a
 * call here is a miss of the scan. */
static void ini_error(void *ctx, const char *fmt, va_list ap)
{
    char text[512];
    vsnprintf(text, sizeof(text), fmt, ap);
    text[strcspn(text, "\n")] = '\0';
    tt_iniscan_misses++;
    msg(ctx, 0, "the reader could not read this phrase file (%s)", text);
}

static int phrase_id(const char *name)
{
    for (int id = 0; id < TT_PH_COUNT; id++)
        if (!strcmp(phrase_spec[id].name, name))
            return id;
    return -1;
}

/* " (did you mean 'goodbye'?)" for a name close to a phrase's, or "". */
static void suggest(const char *name, char *out, size_t size)
{
    const char *best = NULL;
    int best_d = 3;
    out[0] = '\0';
    for (int id = 0; id < TT_PH_COUNT; id++) {
        const char *cand = phrase_spec[id].name;
        int d = tt_edit_distance(name, strlen(name), cand, strlen(cand), 2, NULL);
        if (d < best_d) {
            best_d = d;
            best = cand;
        }
    }
    if (best)
        snprintf(out, size, " (did you mean '%s'?)", best);
}

/* What iniparser would hide or misread, line by line: a name written twice, a phrase cut at an
 * unquoted ; or # (a court re-wording "press # to go on" would get "press"), words dropped after
 * a closing quote, a line outside [phrases], a name the engine never says. */
static void check_lines(struct load *ld, const struct tt_iniscan *sc)
{
    for (size_t i = 0; i < sc->n; i++) {
        const struct tt_iniscan_line *l = &sc->l[i];
        if (l->kind == TT_INISCAN_SECTION) {
            if (strcmp(l->name, SECTION))
                msg(ld, l->line, "[%.40s] is not a section of a phrase file: every phrase goes "
                    "under [" SECTION "]", l->raw);
            continue;
        }
        if (l->section < 0) {
            msg(ld, l->line, "'%.40s' comes before [" SECTION "]: put every phrase under "
                "[" SECTION "]", l->raw);
            continue;
        }
        if (strcmp(sc->l[l->section].name, SECTION))
            continue; /* its section is already an error */
        int id = phrase_id(l->name);
        if (id < 0) {
            char hint[80];
            suggest(l->name, hint, sizeof(hint));
            msg(ld, l->line, "'%.40s' is not a phrase the engine says%s: correct its name, or "
                "remove the line", l->raw, hint);
            continue;
        }
        if (l->first)
            msg(ld, l->line, "phrase '%s' is set twice (first on line %d): the reader would keep "
                "only the last; remove one", phrase_spec[id].name, l->first);
        ld->line[id] = l->line;
        if (l->unclosed)
            msg(ld, l->line, "the quote that opens this phrase is never closed: add the closing "
                "%c at its end", l->value[0]);
        else if (l->rest)
            msg(ld, l->line, "the words after the closing quote of this phrase would be dropped: "
                "a quoted phrase ends at its next %c", l->value[0]);
        else if (l->cut)
            msg(ld, l->line, "this phrase would be cut at '%c': put the whole phrase in double "
                "quotes", *l->cut);
    }
}

static unsigned placeholder_bit(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(placeholders) / sizeof(placeholders[0]); i++)
        if (strlen(placeholders[i].name) == len && !strncmp(placeholders[i].name, name, len))
            return placeholders[i].bit;
    return 0;
}

static void check_phrase(struct load *ld, enum tt_phrase_id id, const char *text)
{
    unsigned used = 0;
    int line = ld->line[id];
    for (const char *s = strchr(text, '{'); s; s = strchr(s + 1, '{')) {
        const char *e = strchr(s, '}');
        size_t len = e ? (size_t)(e - s - 1) : 0;
        unsigned bit = e ? placeholder_bit(s + 1, len) : 0;
        if (!bit || !(bit & phrase_spec[id].allowed)) {
            msg(ld, line, "phrase '%s' uses {%.*s}, which it cannot have; keep only the "
                "placeholders of the shipped file",
                phrase_spec[id].name, e ? (int)(len > 40 ? 40 : len) : 12, s + 1);
            continue;
        }
        used |= bit;
    }
    for (size_t i = 0; i < sizeof(placeholders) / sizeof(placeholders[0]); i++) {
        if ((phrase_spec[id].required & placeholders[i].bit) && !(used & placeholders[i].bit))
            msg(ld, line, "phrase '%s' must say {%s}, or the listener never hears it",
                phrase_spec[id].name, placeholders[i].name);
    }
}

int tt_phrases_load_mem(tt_phrases **pp, const char *name, const char *data, size_t len,
                        tt_diag *diag)
{
    struct load ld = {.path = name, .diag = diag};
    struct tt_iniscan sc = {0};
    struct tt_inimem im = {.fd = -1};
    dictionary *d = NULL;
    tt_phrases *p = NULL;
    int err = 0;

    *pp = NULL;
    if (len > PHRASE_FILE_MAX) {
        msg(&ld, 0, "this phrase file is larger than the %d KiB allowed: is it the right file?",
            PHRASE_FILE_MAX / 1024);
        return EINVAL;
    }
    /* A UTF-8 byte order mark means nothing (textcheck.h); it stands on line 1. */
    size_t bom = tt_text_bom(data, len);
    data += bom;
    len -= bom;
    if ((err = tt_iniscan_run(&sc, data, len, "a phrase file", scan_fault, &ld)))
        goto out;
    check_lines(&ld, &sc);
    if (sc.fatal) {
        err = EINVAL;
        goto out;
    }
    /* iniparser reads the bytes just checked, never the file again (inimem.h). */
    if ((err = tt_inimem_open(&im)) != 0) {
        msg(&ld, 0, "cannot hand the phrase file to the INI reader: %s", strerror(err));
        goto out;
    }
    err = tt_inimem_load(&im, data, len, &d, ini_error, &ld);
    if (err) {
        msg(&ld, 0, "cannot hand the phrase file to the INI reader: %s", strerror(err));
        goto out;
    }
    if (!d) {
        if (!ld.errors) {
            tt_iniscan_misses++;
            msg(&ld, 0, "the reader could not read this phrase file");
        }
        err = EINVAL;
        goto out;
    }
    if (!(p = calloc(1, sizeof(*p)))) {
        err = ENOMEM;
        goto out;
    }
    for (int id = 0; id < TT_PH_COUNT; id++) {
        char key[64];
        snprintf(key, sizeof(key), SECTION ":%s", phrase_spec[id].name);
        const char *v = iniparser_getstring(d, key, NULL);
        if (!v || !*v) {
            if (ld.line[id])
                msg(&ld, ld.line[id], "phrase '%s' is empty: write what the engine says there "
                    "(see prompts/en/phrases.ini)", phrase_spec[id].name);
            else
                msg(&ld, 0, "phrase '%s' is missing: add '%s = ...' under [" SECTION "]",
                    phrase_spec[id].name, phrase_spec[id].name);
            continue;
        }
        check_phrase(&ld, id, v);
        if (!(p->text[id] = strdup(v))) {
            err = ENOMEM;
            goto out;
        }
    }
out:
    if (d)
        iniparser_freedict(d);
    tt_inimem_close(&im);
    tt_iniscan_free(&sc);
    if (!err && ld.errors)
        err = EINVAL;
    if (err == ENOMEM)
        tt_diag_add(diag, TT_ERROR, name, 0, "out of memory while reading the phrase file");
    if (err)
        tt_phrases_free(p);
    else
        *pp = p;
    return err;
}

int tt_phrases_load(tt_phrases **pp, const char *path, tt_diag *diag)
{
    char *data = NULL, why[128];
    size_t len = 0;
    *pp = NULL;
    /* Opened once, as a regular file only: a FIFO would make the open wait for ever, and
     * /dev/zero never ends (rfile.h). */
    int err = tt_rfile_read(path, PHRASE_FILE_MAX, &data, &len);
    switch (err) {
    case 0:
        err = tt_phrases_load_mem(pp, path, data, len, diag);
        break;
    case EISDIR:
    case ENODEV:
        tt_diag_add(diag, TT_ERROR, path, 0, "this phrase file %s: name a text file such as "
                    "prompts/en/phrases.ini", tt_rfile_why(err, PHRASE_FILE_MAX, why, sizeof(why)));
        break;
    case EFBIG:
        tt_diag_add(diag, TT_ERROR, path, 0, "this phrase file %s: is it the right file?",
                    tt_rfile_why(err, PHRASE_FILE_MAX, why, sizeof(why)));
        err = EINVAL;
        break;
    case EIO:
        tt_diag_add(diag, TT_ERROR, path, 0, "this phrase file %s: try again once it is saved",
                    tt_rfile_why(err, PHRASE_FILE_MAX, why, sizeof(why)));
        break;
    case ENOMEM:
        tt_diag_add(diag, TT_ERROR, path, 0, "out of memory while reading the phrase file");
        break;
    default:
        tt_diag_add(diag, TT_ERROR, path, 0,
                    "cannot read this phrase file (%s); every language of a menu needs one: "
                    "copy prompts/en/phrases.ini and translate it",
                    strerror(err));
        break;
    }
    free(data);
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
