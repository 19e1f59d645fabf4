/*
 * Key scripts: what a listener does, written down so a session can be replayed offline. The
 * three token forms say *when* a key comes relative to what the engine is saying, because
 * that is what the behaviour depends on (a key during a prompt is barge-in; silence is a try).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "input/keyscript.h"

#define MAX_SECONDS 86400.0 /* a day: longer is a typo, and would make render run for ever */

/* A key as a script writes it: one of the twelve telephone keys, or a named key ("down"). */
static int parse_key(const char *s, size_t len)
{
    char name[16];
    if (len == 0 || len >= sizeof(name))
        return -1;
    memcpy(name, s, len);
    name[len] = '\0';
    return tt_key_parse(name);
}

/* Seconds as written ("2", "0.25"): digits with at most one point; returns -1 if not that. */
static tt_ms parse_seconds(const char *s, size_t len)
{
    if (len == 0 || len > 16)
        return -1;
    char buf[17];
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (strspn(buf, "0123456789.") != len || strchr(buf, '.') != strrchr(buf, '.') ||
        buf[0] == '.')
        return -1;
    double v = strtod(buf, NULL);
    if (v > MAX_SECONDS)
        return -1;
    return (tt_ms)(v * 1000.0 + 0.5);
}

static int bad_token(tt_diag *diag, size_t index, const char *tok, size_t len)
{
    tt_diag_add(diag, TT_ERROR, NULL, 0,
                "key script: token %zu '%.*s' is not a step; write K (press K after the prompt), "
                "K@SECONDS (press during the prompt) or +SECONDS (wait), where K is 0-9, * or #, "
                "or a named key (up, down, select, back, help, repeat, louder, softer, slower, "
                "faster, pause, exit)",
                index, (int)(len > 40 ? 40 : len), tok);
    return EINVAL;
}

int tt_keyscript_parse(const char *script, struct tt_step **steps, size_t *n, tt_diag *diag)
{
    *steps = NULL;
    *n = 0;
    size_t cap = 0, count = 0, index = 0;
    struct tt_step *v = NULL;
    int err = 0;
    const char *p = script;
    while (*p) {
        p += strspn(p, " \t\r\n,");
        if (!*p)
            break;
        size_t len = strcspn(p, " \t\r\n,");
        index++;
        struct tt_step st = {0};
        const char *at = memchr(p, '@', len);
        size_t key_len = at ? (size_t)(at - p) : len;
        if (p[0] == '+') {
            st.kind = TT_STEP_PASS;
            st.ms = parse_seconds(p + 1, len - 1);
        } else if ((st.key = parse_key(p, key_len)) < 0) {
            st.ms = -1;
        } else if (at) {
            st.kind = TT_STEP_KEY_AT;
            st.ms = parse_seconds(at + 1, len - key_len - 1);
        } else {
            st.kind = TT_STEP_KEY;
        }
        if (st.ms < 0) {
            err = bad_token(diag, index, p, len);
            goto out;
        }
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            struct tt_step *nv = realloc(v, cap * sizeof(*nv));
            if (!nv) {
                err = ENOMEM;
                goto out;
            }
            v = nv;
        }
        v[count++] = st;
        p += len;
    }
out:
    if (err) {
        free(v);
        return err;
    }
    *steps = v;
    *n = count;
    return 0;
}
