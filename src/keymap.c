/*
 * Keymap files: physical key names (as libevdev and evtest print them) to engine keys.
 *
 * iniparser reads the file, as it reads menus. It keeps no line numbers, lowercases every
 * name, and forgives things that would leave a keypad key dead without a word: a key written
 * twice (the last one wins), `KEY_KPSLASH = #` (an unquoted # starts a comment, so the value
 * is empty). So one pass over the raw lines, done the way iniparser splits them, comes first:
 * it records where every key and section is, so each message can name its line, and sees
 * what iniparser would hide. Then each key line is checked against iniparser's value:
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
#include <sys/stat.h>

#include <iniparser/iniparser.h>
#include <libevdev/libevdev.h>

#include "keymap.h"
#include "suggest.h"

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

/* One line of the file that matters, as the scan saw it. Names point into the file's bytes. */
enum entry_kind { ENTRY_SECTION, ENTRY_KEY };

struct entry {
    enum entry_kind kind;
    int line;
    const char *name;  /* the section's or the key's name, as written (not NUL-terminated) */
    size_t len;
    bool in_keymap;    /* a key under [keymap] */
    bool in_section;   /* a key under some section (else before the first one) */
    bool value_cut;    /* the unquoted value begins with # or ;: iniparser reads it as empty */
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

/* ---- The line scan --------------------------------------------------------------------------- */

/* iniparser trims with isspace() in the C locale: exactly these six. */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_space((*s)[*n - 1]))
        (*n)--;
}

static bool same_lower(const char *a, size_t n, const char *lower_word)
{
    size_t m = strlen(lower_word);
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)a[i]) != lower_word[i])
            return false;
    return true;
}

/*
 * Split the file into lines the way iniparser 4.1 does (trailing spaces dropped, a line
 * ending in a backslash continues on the next one, # and ; start comment lines) and note
 * every section and key line. Lines iniparser cannot read are left to its own error report,
 * which carries the line number. Returns 0 or ENOMEM.
 */
static int scan(const char *data, size_t size, struct entry **ep, size_t *np)
{
    struct entry *e = NULL;
    size_t n = 0, cap = 0;
    bool in_keymap = false, in_section = false, continued = false;
    int line = 0;
    for (size_t at = 0; at < size;) {
        const char *s = data + at;
        const char *nl = memchr(s, '\n', size - at);
        size_t len = nl ? (size_t)(nl - s) : size - at;
        at += len + (nl ? 1 : 0);
        line++;
        trim(&s, &len);
        bool was_continued = continued;
        continued = len && s[len - 1] == '\\';
        if (was_continued || !len || s[0] == '#' || s[0] == ';')
            continue;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 32;
            struct entry *g = realloc(e, c * sizeof(*g));
            if (!g) {
                free(e);
                return ENOMEM;
            }
            e = g;
            cap = c;
        }
        struct entry *en = &e[n];
        memset(en, 0, sizeof(*en));
        en->line = line;
        if (s[0] == '[' && s[len - 1] == ']') {
            const char *name = s + 1;
            size_t nlen = (size_t)((const char *)memchr(s, ']', len) - name);
            trim(&name, &nlen);
            en->kind = ENTRY_SECTION;
            en->name = name;
            en->len = nlen;
            in_keymap = same_lower(name, nlen, "keymap");
            in_section = true;
            n++;
            continue;
        }
        const char *eq = memchr(s, '=', len);
        if (!eq || eq == s)
            continue; /* iniparser reports it, with its line */
        const char *name = s;
        size_t nlen = (size_t)(eq - s);
        trim(&name, &nlen);
        const char *v = eq + 1;
        size_t vlen = len - (size_t)(eq + 1 - s);
        trim(&v, &vlen);
        en->kind = ENTRY_KEY;
        en->name = name;
        en->len = nlen;
        en->in_keymap = in_keymap;
        en->in_section = in_section;
        en->value_cut = vlen && (v[0] == '#' || v[0] == ';');
        n++;
    }
    *ep = e;
    *np = n;
    return 0;
}

/* ---- iniparser ------------------------------------------------------------------------------- */

/* iniparser reports through one global callback with no user pointer: the load running on
 * this thread is kept here while iniparser_load() runs. */
static _Thread_local struct load *ini_current;

static int ini_error(const char *fmt, ...)
{
    static const char syntax[] = "iniparser: syntax error in %s (%d):";
    static const char too_long[] = "iniparser: input line too long in %s (%d)";
    struct load *ld = ini_current;
    if (!ld)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    if (strstr(fmt, "memory")) {
        ld->nomem = true;
    } else if (!strncmp(fmt, syntax, sizeof(syntax) - 1)) {
        (void)va_arg(ap, const char *);
        int line = va_arg(ap, int);
        const char *text = strstr(fmt + sizeof(syntax) - 1, "%s") ? va_arg(ap, const char *) : "";
        msg(ld, line,
            "cannot read this line: '%.60s' (a keymap line is KEY_NAME = engine key, "
            "or a comment starting with ;)", text);
    } else if (!strncmp(fmt, too_long, sizeof(too_long) - 1)) {
        (void)va_arg(ap, const char *);
        int line = va_arg(ap, int);
        msg(ld, line, "this line is too long to read (at most 1023 bytes)");
    } else {
        char buf[512];
        vsnprintf(buf, sizeof(buf), fmt, ap);
        buf[strcspn(buf, "\n")] = '\0';
        msg(ld, 0, "%s", buf);
    }
    va_end(ap);
    return 0;
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

static void check_key(struct load *ld, dictionary *d, const struct entry *en,
                      struct tt_keymap *k, int *line_of, bool *named)
{
    char lower[1100], upper[NAME_MAX_LEN + 1];
    int written = (int)(en->len > 60 ? 60 : en->len);
    if (en->len >= sizeof(lower) - 8)
        return; /* iniparser refused the line as too long: already reported */
    memcpy(lower, "keymap:", 7);
    for (size_t i = 0; i < en->len; i++)
        lower[7 + i] = (char)tolower((unsigned char)en->name[i]);
    lower[7 + en->len] = '\0';
    const char *value = iniparser_getstring(d, lower, NULL);

    if (!strcmp(lower + 7, "name")) {
        if (value && *value && !*named) {
            free(k->name);
            k->name = strdup(value);
            if (!k->name)
                ld->nomem = true;
            *named = true;
        }
        return;
    }

    int code = -1;
    if (en->len <= NAME_MAX_LEN) {
        for (size_t i = 0; i <= en->len; i++)
            upper[i] = (char)toupper((unsigned char)lower[7 + i]);
        code = key_code(upper);
    }
    if (code < 0) {
        char hint[200] = "";
        if (en->len <= NAME_MAX_LEN)
            suggest_physical(ld, upper, hint, sizeof(hint));
        msg(ld, en->line,
            "'%.*s' is not a Linux input key name%s: write the names evtest prints for the "
            "keypad's keys, such as KEY_KP1 or KEY_ENTER (see docs/keymaps.md)",
            written, en->name, hint);
        return;
    }
    if (line_of[code]) {
        const char *canon = libevdev_event_code_get_name(EV_KEY, (unsigned)code);
        char alias[2 * NAME_MAX_LEN + 40] = "";
        if (canon && strcmp(canon, upper))
            snprintf(alias, sizeof(alias), " (%s and %s are two names for one key)", upper,
                     canon);
        msg(ld, en->line,
            "%s is mapped twice: it is already on line %d%s; a key stands for one engine key, "
            "so keep one of the two lines", upper, line_of[code], alias);
        return;
    }
    line_of[code] = en->line;

    if (en->value_cut) {
        msg(ld, en->line,
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
        msg(ld, en->line, "%s has no engine key after '=' (for example: %s = select)", upper,
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
        msg(ld, en->line, "'%.*s' is not an engine key%s: use one of %s", (int)(plen > 40 ? 40 : plen),
            p, hint, list);
        return;
    }
    k->key[code] = (int16_t)key;
    k->count++;
}

/* ---- Loading --------------------------------------------------------------------------------- */

static int read_file(struct load *ld, char **datap, size_t *sizep)
{
    int err = 0;
    char *data = NULL;
    FILE *f = fopen(ld->path, "rb");
    if (!f) {
        err = errno;
        tt_diag_add(ld->diag, TT_ERROR, ld->path, 0, "cannot open the keymap: %s", strerror(err));
        return err;
    }
    struct stat st;
    if (fstat(fileno(f), &st)) {
        err = errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > KEYMAP_FILE_MAX) {
        err = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
        tt_diag_add(ld->diag, TT_ERROR, ld->path, 0,
                    "this is not a keymap: %s (a keymap is a short text file)",
                    S_ISREG(st.st_mode) ? "it is over 256 KiB" : "it is not a regular file");
        goto out;
    }
    data = malloc((size_t)st.st_size + 1);
    if (!data) {
        err = ENOMEM;
        goto out;
    }
    size_t got = fread(data, 1, (size_t)st.st_size, f);
    if (ferror(f)) {
        err = EIO;
        tt_diag_add(ld->diag, TT_ERROR, ld->path, 0, "cannot read the keymap");
        goto out;
    }
    data[got] = '\0';
    if (memchr(data, '\0', got)) {
        err = EINVAL;
        tt_diag_add(ld->diag, TT_ERROR, ld->path, 0,
                    "this is not a keymap: it holds NUL bytes (a keymap is a short text file)");
        goto out;
    }
    *datap = data;
    *sizep = got;
    data = NULL;
out:
    free(data);
    fclose(f);
    return err;
}

int tt_keymap_load(struct tt_keymap **kp, const char *path, tt_diag *diag)
{
    struct load ld = {.path = path, .diag = diag};
    struct tt_keymap *k = NULL;
    struct entry *e = NULL;
    size_t n = 0, size = 0;
    char *data = NULL;
    dictionary *d = NULL;
    int *line_of = NULL;
    int err;

    *kp = NULL;
    err = read_file(&ld, &data, &size);
    if (err)
        goto out;
    err = scan(data, size, &e, &n);
    if (err)
        goto out;

    ini_current = &ld;
    iniparser_set_error_callback(ini_error);
    d = iniparser_load(path);
    iniparser_set_error_callback(NULL);
    ini_current = NULL;
    if (ld.nomem) {
        err = ENOMEM;
        goto out;
    }
    if (!d) {
        if (!ld.errors)
            msg(&ld, 0, "the INI reader could not read the keymap");
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
    bool named = false;
    for (size_t i = 0; i < n; i++) {
        const struct entry *en = &e[i];
        int w = (int)(en->len > 40 ? 40 : en->len);
        if (en->kind == ENTRY_SECTION) {
            if (same_lower(en->name, en->len, "keymap")) {
                if (!keymap_line)
                    keymap_line = en->line;
            } else {
                msg(&ld, en->line,
                    "unknown section [%.*s]: a keymap file has one section, [keymap]", w,
                    en->name);
            }
        } else if (!en->in_section) {
            msg(&ld, en->line, "'%.*s' comes before [keymap]: put the line under [keymap]", w,
                en->name);
        } else if (en->in_keymap) {
            check_key(&ld, d, en, k, line_of, &named);
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
    if (!k->name) {
        k->name = strdup(path);
        if (!k->name) {
            err = ENOMEM;
            goto out;
        }
    }
    *kp = k;
    k = NULL;
out:
    if (d)
        iniparser_freedict(d);
    tt_keymap_free(k);
    free(line_of);
    free(e);
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
