/*
 * Keys in SIP INFO bodies (info.h has the two formats and what each accepts).
 *
 * Everything is read from (pointer, length) spans and compared byte by byte, ASCII only: a
 * body is not a C string and may hold any byte, NUL included, and the locale must not decide
 * whether "SIGNAL" is "signal".
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "sip/info.h"
#include "sip/telev.h"

struct span {
    const char *p;
    size_t n;
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
    return is_blank(c) || c == '\r' || c == '\n';
}

static struct span trim(struct span s, bool (*drop)(char))
{
    while (s.n && drop(s.p[0]))
        s.p++, s.n--;
    while (s.n && drop(s.p[s.n - 1]))
        s.n--;
    return s;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether s is word (lower case), ignoring case. */
static bool same(struct span s, const char *word)
{
    size_t n = strlen(word);
    if (s.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s.p[i]) != word[i])
            return false;
    return true;
}

enum kind { KIND_OTHER, KIND_RELAY, KIND_DTMF };

static enum kind content_kind(const char *ctype, size_t len)
{
    if (!ctype || !len)
        return KIND_OTHER;
    struct span s = {ctype, len};
    const char *semi = memchr(s.p, ';', s.n);
    if (semi)
        s.n = (size_t)(semi - s.p);
    const char *slash = memchr(s.p, '/', s.n);
    if (!slash)
        return KIND_OTHER;
    struct span type = trim((struct span){s.p, (size_t)(slash - s.p)}, is_space);
    struct span sub = trim((struct span){slash + 1, s.n - (size_t)(slash - s.p) - 1}, is_space);
    if (!same(type, "application"))
        return KIND_OTHER;
    if (same(sub, "dtmf-relay"))
        return KIND_RELAY;
    if (same(sub, "dtmf"))
        return KIND_DTMF;
    return KIND_OTHER;
}

/* A key as either format writes it: the key, '!' for a hook flash, 0 for anything else. */
static char read_key(struct span v)
{
    if (v.n == 1) {
        char c = v.p[0];
        if ((c >= '0' && c <= '9') || c == '*' || c == '#' || c == '!' || (c >= 'A' && c <= 'D'))
            return c;
        if (c >= 'a' && c <= 'd')
            return (char)(c - 'a' + 'A');
        return 0;
    }
    if (!v.n)
        return 0;
    /* an RFC 4733 event code, 0-16 (leading zeros allowed) */
    unsigned code = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return 0;
        code = code * 10 + (unsigned)(v.p[i] - '0');
        if (code > 16)
            return 0;
    }
    return code == 16 ? '!' : tt_telev_key(code);
}

/* Duration's milliseconds, or 0 when it is not a plain number (it is only reported). */
static unsigned read_ms(struct span v)
{
    unsigned ms = 0;
    if (!v.n)
        return 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return 0;
        unsigned d = (unsigned)(v.p[i] - '0');
        ms = ms > (UINT32_MAX - d) / 10 ? UINT32_MAX : ms * 10 + d;
    }
    return ms;
}

static int set_key(char key, struct tt_info_key *out)
{
    if (!key)
        return EINVAL;
    if (key == '!')
        out->flash = true;
    else
        out->key = key;
    return 0;
}

static int read_relay(const char *b, size_t n, struct tt_info_key *out)
{
    char key = 0;
    bool signal = false;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && b[j] != '\r' && b[j] != '\n')
            j++;
        struct span line = {b + i, j - i};
        i = j + 1; /* CRLF leaves an empty line behind: skipped like any other */
        const char *eq = memchr(line.p, '=', line.n);
        if (!eq)
            continue; /* a blank line, or a line that is not a field */
        struct span name = trim((struct span){line.p, (size_t)(eq - line.p)}, is_blank);
        struct span value =
            trim((struct span){eq + 1, line.n - (size_t)(eq - line.p) - 1}, is_blank);
        if (same(name, "signal")) {
            if (signal)
                return EINVAL; /* two keys in one body: which? */
            signal = true;
            if (!(key = read_key(value)))
                return EINVAL;
        } else if (same(name, "duration")) {
            out->duration_ms = read_ms(value);
        }
    }
    return set_key(key, out);
}

int tt_info_parse(const char *ctype, size_t ctype_len, const char *body, size_t body_len,
                  struct tt_info_key *out)
{
    int err;
    memset(out, 0, sizeof(*out));
    if (!body_len)
        return 0;
    switch (content_kind(ctype, ctype_len)) {
    case KIND_RELAY:
        err = body ? read_relay(body, body_len, out) : EINVAL;
        break;
    case KIND_DTMF:
        err = body ? set_key(read_key(trim((struct span){body, body_len}, is_space)), out)
                   : EINVAL;
        break;
    default:
        err = ENOTSUP;
    }
    if (err)
        memset(out, 0, sizeof(*out));
    return err;
}
