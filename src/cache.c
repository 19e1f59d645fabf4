/*
 * The disk cache of synthesized speech: one WAV file per key, named by the key's hash.
 *
 * A menu's prompts are fixed, so after the first start every prompt is on disk and a restart
 * (of a kiosk, of a phone line) speaks at once. Files are written atomically and checked on
 * read against the full key they carry, so several processes may share one folder, a crash
 * leaves at worst a stray temporary file, and anything damaged or foreign is a miss that is
 * synthesized and written again.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio.h"
#include "cache.h"

/* A cache file larger than this is not one we wrote (an hour of 48 kHz speech is 330 MiB). */
#define MAX_FILE ((off_t)512 << 20)

struct tt_cache {
    char *dir;
    tt_diag *diag;
    bool dir_ready; /* created (or found) by this process */
    int write_err;  /* the first write failure; later writes are skipped */
};

int tt_cache_open(struct tt_cache **cp, const char *dir, tt_diag *diag)
{
    *cp = NULL;
    if (!dir || !*dir)
        return EINVAL;
    struct tt_cache *c = calloc(1, sizeof(*c));
    if (!c || !(c->dir = strdup(dir))) {
        free(c);
        return ENOMEM;
    }
    c->diag = diag;
    *cp = c;
    return 0;
}

void tt_cache_close(struct tt_cache *c)
{
    if (!c)
        return;
    free(c->dir);
    free(c);
}

char *tt_cache_key(const struct tt_tts_voice *v, int speed_pct, int rate, const char *text,
                   size_t *len)
{
    /* One field per line, the text last and unescaped: it is the only field that can hold a
     * newline, so the key stays unambiguous. */
    const char *fmt = "tonetree speech cache %d\nengine %s %s\nvoice %s\nspeed %d\nrate %d\n"
                      "text %s";
    int n = snprintf(NULL, 0, fmt, TT_CACHE_FORMAT, v->engine_name, v->version, v->name,
                     speed_pct, rate, text);
    if (n < 0)
        return NULL;
    char *key = malloc((size_t)n + 1);
    if (!key)
        return NULL;
    snprintf(key, (size_t)n + 1, fmt, TT_CACHE_FORMAT, v->engine_name, v->version, v->name,
             speed_pct, rate, text);
    *len = (size_t)n;
    return key;
}

/* FNV-1a, 64 bits: spreads keys evenly over file names; collisions are caught by the key. */
static uint64_t hash64(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3u;
    }
    return h;
}

int tt_cache_path(const struct tt_cache *c, const char *key, size_t key_len, char *buf,
                  size_t size)
{
    int n = snprintf(buf, size, "%s/%016" PRIx64 ".wav", c->dir, hash64(key, key_len));
    return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

/* Read a whole small file. */
static int slurp(const char *path, uint8_t **buf, size_t *len)
{
    uint8_t *b = NULL;
    int err = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        err = errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
        err = EINVAL;
        goto out;
    }
    size_t want = (size_t)st.st_size, got = 0;
    if (!(b = malloc(want ? want : 1))) {
        err = ENOMEM;
        goto out;
    }
    while (got < want) {
        ssize_t r = read(fd, b + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err = r < 0 ? errno : EIO;
            goto out;
        }
        got += (size_t)r;
    }
    *buf = b;
    *len = got;
    b = NULL;
out:
    free(b);
    close(fd);
    return err;
}

int tt_cache_get(struct tt_cache *c, const char *key, size_t key_len, int rate, int16_t **pcm,
                 size_t *frames)
{
    char path[4096];
    uint8_t *buf = NULL;
    size_t len = 0;
    int file_rate = 0;
    const char *note;
    size_t note_len;

    *pcm = NULL;
    *frames = 0;
    if (tt_cache_path(c, key, key_len, path, sizeof(path)))
        return ENOENT;
    int err = slurp(path, &buf, &len);
    if (!err)
        err = tt_audio_wav_decode(buf, len, &file_rate, &note, &note_len, pcm, frames);
    if (!err && (note_len != key_len || memcmp(note, key, key_len) || file_rate != rate))
        err = EINVAL; /* another text with the same hash, or a file from elsewhere */
    if (err) {
        free(*pcm);
        *pcm = NULL;
        *frames = 0;
    }
    free(buf);
    return err == ENOMEM ? ENOMEM : err ? ENOENT : 0;
}

/* mkdir -p: create the folder and every missing parent. */
static int make_dirs(const char *dir)
{
    char *p = strdup(dir);
    int err = 0;
    if (!p)
        return ENOMEM;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        struct stat st;
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
            err = errno;
            break;
        }
        if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
            err = ENOTDIR;
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    return err;
}

static int write_all(int fd, const uint8_t *b, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int tt_cache_put(struct tt_cache *c, const char *key, size_t key_len, int rate,
                 const int16_t *pcm, size_t frames)
{
    char path[4096], tmp[4096 + 32];
    uint8_t *buf = NULL;
    size_t len = 0;
    int fd = -1;
    int err;

    if (c->write_err)
        return c->write_err;
    if ((err = tt_cache_path(c, key, key_len, path, sizeof(path))))
        goto out;
    if (!c->dir_ready) {
        if ((err = make_dirs(c->dir)))
            goto out;
        c->dir_ready = true;
    }
    if ((err = tt_audio_wav_encode(pcm, frames, rate, key, key_len, &buf, &len)))
        goto out;
    /* The temporary name starts with a dot and ends in random letters: it never matches a
     * cache file, and two writers never share one. */
    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", c->dir, strrchr(path, '/') + 1);
    if ((fd = mkstemp(tmp)) < 0) {
        err = errno;
        goto out;
    }
    /* mkstemp makes the file private (0600); speech of a menu's text is not, and another
     * user (the kiosk service, say) may read a cache someone else filled. */
    err = fchmod(fd, 0644) < 0 ? errno : write_all(fd, buf, len);
    /* Data on disk before the name: after a crash the name never points at a hole. */
    if (!err && fsync(fd) < 0)
        err = errno;
    if (close(fd) < 0 && !err)
        err = errno;
    fd = -1;
    if (!err && rename(tmp, path) < 0)
        err = errno;
    if (err)
        unlink(tmp);
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    if (err && err != ENOMEM) {
        c->write_err = err;
        tt_diag_add(c->diag, TT_WARNING, c->dir, 0,
                    "cannot write the speech cache (%s); speech will be synthesized again "
                    "at the next start",
                    strerror(err));
    }
    return err;
}
