/*
 * Say-as marks (see sayas.h): {tel:...}, {digits:...} and {date:...} in menu texts, written out
 * once when the menu loads, so the session, the store and every driver only ever see plain
 * words: one form for the voice, one for the eye.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "core/sayas.h"

#define MARK_MAX 64 /* the longest value a mark may hold: a number, not a sentence */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The column an editor shows: characters, not bytes (UTF-8 continuation bytes do not count). */
static size_t column(const char *in, const char *at)
{
    size_t col = 1;
    for (const char *p = in; p < at; p++)
        col += ((unsigned char)*p & 0xC0) != 0x80;
    return col;
}

/* Digits one by one, each group ended by a period: the voice pauses there, as a person reading
 * a number aloud does. Separators (- . space parentheses /) only end groups. */
static int say_groups(const char *v, size_t n, struct tt_strbuf *out, char *why, size_t ws)
{
    size_t digits = 0;
    bool in_group = false;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (is_digit(c)) {
            if (in_group)
                tt_sb_add(out, " ");
            else if (digits)
                tt_sb_add(out, " ");
            tt_sb_addn(out, &c, 1);
            in_group = true;
            digits++;
        } else if (strchr("-. ()/+", c)) {
            if (in_group)
                tt_sb_add(out, ".");
            in_group = false;
        } else {
            snprintf(why, ws, "'%c' cannot be part of a number: use digits, with - or spaces "
                              "between the groups", c);
            return EINVAL;
        }
    }
    if (!digits) {
        snprintf(why, ws, "the number has no digits");
        return EINVAL;
    }
    if (in_group)
        tt_sb_add(out, ".");
    return 0;
}

static const char *const months_en[] = {"January", "February", "March",     "April",
                                        "May",     "June",     "July",      "August",
                                        "September", "October", "November", "December"};
static const char *const months_es[] = {"enero", "febrero", "marzo",      "abril",
                                        "mayo",  "junio",   "julio",      "agosto",
                                        "septiembre", "octubre", "noviembre", "diciembre"};

/* A date written YYYY-MM-DD, as people say it in the language. Languages without a table
 * here get the date as written, for both voice and eye. */
static int say_date(const char *v, size_t n, const char *lang, struct tt_strbuf *spoken,
                    struct tt_strbuf *shown, char *why, size_t ws)
{
    int y, mo, d;
    char tail;
    char buf[MARK_MAX + 1];
    memcpy(buf, v, n);
    buf[n] = '\0';
    if (n != 10 || sscanf(buf, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 || !is_digit(buf[0]) ||
        mo < 1 || mo > 12 || d < 1 || d > 31) {
        snprintf(why, ws, "a date is written year-month-day, e.g. {date:2027-03-05}");
        return EINVAL;
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap)) {
        snprintf(why, ws, "%s has no day %d", months_en[mo - 1], d);
        return EINVAL;
    }
    char out[96];
    if (!strncmp(lang, "en", 2))
        snprintf(out, sizeof(out), "%s %d, %d", months_en[mo - 1], d, y);
    else if (!strncmp(lang, "es", 2))
        snprintf(out, sizeof(out), "%d de %s de %d", d, months_es[mo - 1], y);
    else
        snprintf(out, sizeof(out), "%s", buf);
    tt_sb_add(spoken, out);
    tt_sb_add(shown, out);
    return 0;
}

int tt_sayas_expand(const char *in, const char *lang, char **spoken, char **shown, char *why,
                    size_t why_size)
{
    struct tt_strbuf sp, sh;
    bool marks = false;
    int err = 0;
    *spoken = *shown = NULL;
    tt_sb_init(&sp);
    tt_sb_init(&sh);
    for (const char *p = in; *p && !err;) {
        const char *open = strchr(p, '{');
        const char *close = strchr(p, '}');
        if (close && (!open || close < open)) {
            snprintf(why, why_size, "column %zu: a } with no { before it", column(in, close));
            err = EINVAL;
            break;
        }
        if (!open) {
            tt_sb_add(&sp, p);
            tt_sb_add(&sh, p);
            break;
        }
        tt_sb_addn(&sp, p, (size_t)(open - p));
        tt_sb_addn(&sh, p, (size_t)(open - p));
        size_t col = column(in, open);
        const char *end = strchr(open, '}');
        const char *colon = strchr(open, ':');
        if (!end) {
            snprintf(why, why_size, "column %zu: a { with no } after it: write {tel:...}, "
                                    "{digits:...} or {date:...}", col);
            err = EINVAL;
            break;
        }
        if (!colon || colon > end) {
            snprintf(why, why_size, "column %zu: {%.*s} is not a say-as mark: write {tel:...}, "
                                    "{digits:...} or {date:...}",
                     col, (int)(end - open - 1 < 20 ? end - open - 1 : 20), open + 1);
            err = EINVAL;
            break;
        }
        size_t kl = (size_t)(colon - open - 1);
        const char *v = colon + 1;
        size_t vl = (size_t)(end - v);
        char sub[160] = "";
        if (vl == 0 || vl > MARK_MAX) {
            snprintf(why, why_size, "column %zu: a say-as mark holds 1 to %d characters", col,
                     MARK_MAX);
            err = EINVAL;
        } else if ((kl == 3 && !strncmp(open + 1, "tel", 3)) ||
                   (kl == 6 && !strncmp(open + 1, "digits", 6))) {
            err = say_groups(v, vl, &sp, sub, sizeof(sub));
            tt_sb_addn(&sh, v, vl);
        } else if (kl == 4 && !strncmp(open + 1, "date", 4)) {
            err = say_date(v, vl, lang, &sp, &sh, sub, sizeof(sub));
        } else {
            snprintf(sub, sizeof(sub), "'%.*s' is not a kind of say-as mark: use tel, digits "
                                       "or date", (int)(kl < 20 ? kl : 20), open + 1);
            err = EINVAL;
        }
        if (err && sub[0])
            snprintf(why, why_size, "column %zu: %s", col, sub);
        marks = true;
        p = end + 1;
        /* The voice's last group already ends in a period: the text's own . , ? ! or ; after
         * the mark would make it two ("9 1 1.."), so it takes the place of that period. A
         * mark right after a mark gets a space, or "1.2." reads as one point two. */
        if (!err && sp.len && sp.s[sp.len - 1] == '.' && (kl == 3 || kl == 6)) {
            if (*p && strchr(".,?!;:", *p)) {
                sp.len--;
                sp.s[sp.len] = '\0';
            } else if (*p == '{') {
                tt_sb_add(&sp, " ");
            }
        }
    }
    if (!err && (sp.err || sh.err))
        err = ENOMEM;
    if (!err) {
        *spoken = tt_sb_take(&sp);
        if (marks)
            *shown = tt_sb_take(&sh);
        if (!*spoken || (marks && !*shown))
            err = ENOMEM;
    }
    if (err) {
        free(*spoken);
        free(*shown);
        *spoken = *shown = NULL;
    }
    tt_sb_free(&sp);
    tt_sb_free(&sh);
    return err;
}
