/*
 * Keymap files: physical key names (as libevdev and evtest print them) to engine keys.
 *
 * iniparser reads the file, as it reads menus. It keeps no line numbers, lowercases every
 * name, and forgives things that would leave a keypad key dead without a word: a key written
 * twice (the last one wins), `KEY_KPSLASH = #` (an unquoted # starts a comment, so the value
 * is empty). So the file is read once (rfile.h: a regular file, never a FIFO or a device), and
 * the line scan shared with the phrase loader (iniscan.h) comes first: it records where every
 * key and section is, so each message can name its line, applies the text rules every loaded
 * file keeps (textcheck.h), and sees what iniparser would hide. iniparser then reads those same
 * bytes (inimem.h), and each key line is checked against iniparser's value:
 * the physical name must be one libevdev knows (names are compared upper-cased, as iniparser
 * lowercased them), the value one of the engine's key names, and no physical key may appear
 * twice, under the same name or under an alias (BTN_A is BTN_SOUTH).
 *
 * A keymap is a table indexed by key code (KEY_CNT entries): the lookup done for every key
 * press is one array read.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iniparser/iniparser.h>
#include <libevdev/libevdev.h>

#include "base/inimem.h"
#include "base/iniscan.h"
#include "base/rfile.h"
#include "base/suggest.h"
#include "input/keymap.h"

/* A keymap has a dozen lines; anything this big is the wrong file (a WAV, a log). */
#define KEYMAP_FILE_MAX (256 * 1024)
/* Physical names are short (the longest libevdev name has 28 characters). */
#define NAME_MAX_LEN 48
/* Suggestions cost a pass over every key name: only the first few bad names get one. */
#define SUGGEST_MAX 32

struct tt_keymap {
    char *name;
    int16_t key[KEY_CNT]; /* engine key per code, -1 when unmapped */
    size_t count;
};

struct load {
    const char *path;
    tt_diag *diag;
    int errors;
    bool nomem;
    unsigned suggested;
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

/* iniparser trims with isspace() in the C locale: exactly these six. */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void scan_fault(void *arg, int line, const char *message)
{
    msg(arg, line, "%s", message);
}

/* ---- iniparser ------------------------------------------------------------------------------- */

/* What iniparser said (through inimem.h). The scan refuses every line iniparser would, so a
 * call here is a miss of the scan. */
static void ini_error(void *ctx, const char *fmt, va_list ap)
{
    struct load *ld = ctx;
    char buf[512];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    buf[strcspn(buf, "\n")] = '\0';
    if (strstr(fmt, "memory")) {
        ld->nomem = true;
        return;
    }
    tt_iniscan_misses++;
    msg(ld, 0, "the reader could not read the keymap (%s)", buf);
}

/* ---- Names and suggestions ------------------------------------------------------------------- */

/* Levenshtein distance, up to a bound: only close names are worth suggesting. */
static int distance(const char *a, const char *b)
{
    return tt_edit_distance(a, strlen(a), b, strlen(b), 3, NULL);
}

/* libevdev knows KEY_MAX and KEY_RESERVED by name, but neither is a key a keypad can send. */
static int key_code(const char *upper)
{
    if (!strcmp(upper, "KEY_MAX"))
        return -1;
    int code = libevdev_event_code_from_name(EV_KEY, upper);
    return code > 0 && code < KEY_CNT ? code : -1;
}

/* Up to three key names close to a wrong one, as " (did you mean KEY_KP1?)", or "". */
static void suggest_physical(struct load *ld, const char *upper, char *out, size_t size)
{
    out[0] = '\0';
    if (ld->suggested++ >= SUGGEST_MAX)
        return;
    /* "KP1" for "KEY_KP1" is the most likely slip: a prefix left out. */
    char with_prefix[NAME_MAX_LEN + 8];
    snprintf(with_prefix, sizeof(with_prefix), "KEY_%s", upper);
    if (key_code(with_prefix) > 0) {
        snprintf(out, size, " (did you mean %s?)", with_prefix);
        return;
    }
    const char *best[3] = {NULL, NULL, NULL};
    int best_d = strlen(upper) > 8 ? 3 : 2; /* only names this close are worth saying */
    size_t nbest = 0;
    for (unsigned c = 1; c < KEY_CNT; c++) {
        const char *name = libevdev_event_code_get_name(EV_KEY, c);
        if (!name || key_code(name) != (int)c)
            continue;
        int d = distance(upper, name);
        if (d < best_d) {
            best_d = d;
            nbest = 0;
        }
        if (d == best_d && nbest < 3)
            best[nbest++] = name;
    }
    if (!nbest)
        return;
    if (nbest == 1)
        snprintf(out, size, " (did you mean %s?)", best[0]);
    else if (nbest == 2)
        snprintf(out, size, " (did you mean %s or %s?)", best[0], best[1]);
    else
        snprintf(out, size, " (did you mean %s, %s or %s?)", best[0], best[1], best[2]);
}

/* Every engine key name, for the message that lists them. */
static void engine_key_list(char *out, size_t size)
{
    size_t at = (size_t)snprintf(out, size, "0 to 9, *, \"#\" (with the quotes)");
    for (int k = TT_KEY_UP; k <= TT_KEY_LAST && at < size; k++)
        at += (size_t)snprintf(out + at, size - at, ", %s", tt_key_name(k));
}

static void suggest_engine(const char *value, char *out, size_t size)
{
    out[0] = '\0';
    const char *best = NULL;
    int best_d = 3;
    if (strlen(value) < 3)
        return;
    for (int k = TT_KEY_UP; k <= TT_KEY_LAST; k++) {
        int d = distance(value, tt_key_name(k));
        if (d < best_d) {
            best_d = d;
            best = tt_key_name(k);
        }
    }
    if (best)
        snprintf(out, size, " (did you mean '%s'?)", best);
}

/* ---- Checking each key line ------------------------------------------------------------------ */

static void check_key(struct load *ld, dictionary *d, const struct tt_iniscan_line *l,
                      struct tt_keymap *k, int *line_of)
{
    char dict_key[TT_INI_LINE_MAX + 16], upper[NAME_MAX_LEN + 1];
    size_t len = strlen(l->name);
    int written = (int)(len > 60 ? 60 : len);
    snprintf(dict_key, sizeof(dict_key), "keymap:%s", l->name);
    const char *value = iniparser_getstring(d, dict_key, NULL);

    if (!strcmp(l->name, "name")) {
        if (l->first)
            msg(ld, l->line, "name is set twice (first on line %d): the reader would keep only "
                "the last; remove one", l->first);
        else if (value && *value) {
            free(k->name);
            if (!(k->name = strdup(value)))
                ld->nomem = true;
        }
        return;
    }

    int code = -1;
    if (len <= NAME_MAX_LEN) {
        for (size_t i = 0; i <= len; i++)
            upper[i] = (char)toupper((unsigned char)l->name[i]);
        code = key_code(upper);
    }
    if (code < 0) {
        char hint[200] = "";
        if (len <= NAME_MAX_LEN)
            suggest_physical(ld, upper, hint, sizeof(hint));
        msg(ld, l->line,
            "'%.*s' is not a Linux input key name%s: write the names evtest prints for the "
            "keypad's keys, such as KEY_KP1 or KEY_ENTER (see docs/keymaps.md)",
            written, l->raw, hint);
        return;
    }
    if (line_of[code]) {
        const char *canon = libevdev_event_code_get_name(EV_KEY, (unsigned)code);
        char alias[2 * NAME_MAX_LEN + 40] = "";
        if (canon && strcmp(canon, upper))
            snprintf(alias, sizeof(alias), " (%s and %s are two names for one key)", upper,
                     canon);
        msg(ld, l->line,
            "%s is mapped twice: it is already on line %d%s; a key stands for one engine key, "
            "so keep one of the two lines", upper, line_of[code], alias);
        return;
    }
    line_of[code] = l->line;

    if (l->value[0] == '#' || l->value[0] == ';') {
        msg(ld, l->line,
            "%s has no engine key: an unquoted # or ; starts a comment, so write the # key "
            "with quotes: %s = \"#\"", upper, upper);
        return;
    }
/* Values keep their case in iniparser and quoted ones keep their spaces: forgive both. */
    char v[64];
    size_t vn = 0;
    const char *p = value ? value : "";
    while (is_space(*p))
        p++;
    size_t plen = strlen(p);
    while (plen && is_space(p[plen - 1]))
        plen--;
    if (!plen) {
        msg(ld, l->line, "%s has no engine key after '=' (for example: %s = select)", upper,
            upper);
        return;
    }
    int key = -1;
    if (plen < sizeof(v)) {
        for (vn = 0; vn < plen; vn++)
            v[vn] = (char)tolower((unsigned char)p[vn]);
        v[vn] = '\0';
        key = tt_key_parse(v);
    }
    if (key < 0) {
        char list[300], hint[64] = "";
        engine_key_list(list, sizeof(list));
        if (plen < sizeof(v))
            suggest_engine(v, hint, sizeof(hint));
        msg(ld, l->line, "'%.*s' is not an engine key%s: use one of %s",
            (int)(plen > 40 ? 40 : plen), p, hint, list);
        return;
    }
    k->key[code] = (int16_t)key;
    k->count++;
}

/* ---- Loading --------------------------------------------------------------------------------- */

int tt_keymap_load_mem(struct tt_keymap **kp, const char *name, const char *data, size_t size,
                       tt_diag *diag)
{
    struct load ld = {.path = name, .diag = diag};
    struct tt_keymap *k = NULL;
    struct tt_iniscan sc = {0};
    struct tt_inimem im = {.fd = -1};
    dictionary *d = NULL;
    int *line_of = NULL;
    int err;

    *kp = NULL;
    if (size > KEYMAP_FILE_MAX) {
        msg(&ld, 0, "this is not a keymap: it is over %d KiB (a keymap is a short text file)",
            KEYMAP_FILE_MAX / 1024);
        return EINVAL;
    }
    /* A UTF-8 byte order mark means nothing (textcheck.h); it stands on line 1. */
    size_t bom = tt_text_bom(data, size);
    data += bom;
    size -= bom;
    if ((err = tt_iniscan_run(&sc, data, size, "a keymap", scan_fault, &ld)))
        goto out;
    if (sc.fatal) {
        err = EINVAL;
        goto out;
    }

    if ((err = tt_inimem_open(&im)) != 0) {
        msg(&ld, 0, "cannot hand the keymap to the INI reader: %s", strerror(err));
        goto out;
    }
    err = tt_inimem_load(&im, data, size, &d, ini_error, &ld);
    if (err) {
        msg(&ld, 0, "cannot hand the keymap to the INI reader: %s", strerror(err));
        goto out;
    }
    if (ld.nomem) {
        err = ENOMEM;
        goto out;
    }
    if (!d) {
        if (!ld.errors) {
            tt_iniscan_misses++;
            msg(&ld, 0, "the INI reader could not read the keymap");
        }
        err = EINVAL;
        goto out;
    }

    k = calloc(1, sizeof(*k));
    line_of = calloc(KEY_CNT, sizeof(*line_of));
    if (!k || !line_of) {
        err = ENOMEM;
        goto out;
    }
    for (size_t c = 0; c < KEY_CNT; c++)
        k->key[c] = -1;

    int keymap_line = 0;
    for (size_t i = 0; i < sc.n; i++) {
        const struct tt_iniscan_line *l = &sc.l[i];
        if (l->kind == TT_INISCAN_SECTION) {
            if (strcmp(l->name, "keymap"))
                msg(&ld, l->line,
                    "unknown section [%.40s]: a keymap file has one section, [keymap]", l->raw);
            else if (!keymap_line)
                keymap_line = l->line;
        } else if (l->section < 0) {
            msg(&ld, l->line, "'%.40s' comes before [keymap]: put the line under [keymap]",
                l->raw);
        } else if (!strcmp(sc.l[l->section].name, "keymap")) {
            check_key(&ld, d, l, k, line_of);
        }
    }
    if (ld.nomem) {
        err = ENOMEM;
        goto out;
    }
    if (!keymap_line && !ld.errors)
        msg(&ld, 0, "no [keymap] section: start the file with [keymap], then lines such as "
                    "KEY_KP1 = 1");
    else if (!k->count && !ld.errors)
        msg(&ld, keymap_line, "the keymap is empty: add lines such as KEY_KP1 = 1 under "
                              "[keymap]");
    if (ld.errors) {
        err = EINVAL;
        goto out;
    }
    if (!k->name && !(k->name = strdup(name))) {
        err = ENOMEM;
        goto out;
    }
    *kp = k;
    k = NULL;
out:
    if (d)
        iniparser_freedict(d);
    tt_inimem_close(&im);
    tt_iniscan_free(&sc);
    tt_keymap_free(k);
    free(line_of);
    if (!err && ld.errors)
        err = EINVAL;
    if (err == ENOMEM)
        tt_diag_add(diag, TT_ERROR, name, 0, "out of memory while reading the keymap");
    return err;
}

int tt_keymap_load(struct tt_keymap **kp, const char *path, tt_diag *diag)
{
    char *data = NULL, why[128];
    size_t size = 0;
    *kp = NULL;
    /* Opened once, as a regular file only: a FIFO would make the open wait for ever, and a
     * device never ends (rfile.h). */
    int err = tt_rfile_read(path, KEYMAP_FILE_MAX, &data, &size);
    switch (err) {
    case 0:
        err = tt_keymap_load_mem(kp, path, data, size, diag);
        break;
    case EISDIR:
    case ENODEV:
        tt_diag_add(diag, TT_ERROR, path, 0, "this is not a keymap: it %s (a keymap is a short "
                    "text file, such as keymaps/usb-numpad.ini)",
                    tt_rfile_why(err, KEYMAP_FILE_MAX, why, sizeof(why)));
        break;
    case EFBIG:
        tt_diag_add(diag, TT_ERROR, path, 0, "this is not a keymap: it is over %d KiB (a keymap "
                    "is a short text file)", KEYMAP_FILE_MAX / 1024);
        break;
    case EIO:
        tt_diag_add(diag, TT_ERROR, path, 0, "the keymap %s: try again once it is saved",
                    tt_rfile_why(err, KEYMAP_FILE_MAX, why, sizeof(why)));
        break;
    case ENOMEM:
        tt_diag_add(diag, TT_ERROR, path, 0, "out of memory while reading the keymap");
        break;
    default:
        tt_diag_add(diag, TT_ERROR, path, 0, "cannot open the keymap: %s", strerror(err));
        break;
    }
    free(data);
    return err;
}

void tt_keymap_free(struct tt_keymap *k)
{
    if (!k)
        return;
    free(k->name);
    free(k);
}

int tt_keymap_lookup(const struct tt_keymap *k, unsigned code)
{
    return k && code < KEY_CNT ? k->key[code] : -1;
}

const char *tt_keymap_name(const struct tt_keymap *k)
{
    return k && k->name ? k->name : "";
}

size_t tt_keymap_count(const struct tt_keymap *k)
{
    return k ? k->count : 0;
}
