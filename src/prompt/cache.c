/*
 * The disk cache of synthesized speech: one WAV file per key, named by the key's hash.
 *
 * A menu's prompts are fixed, so after the first start every prompt is on disk and a restart
 * (of a kiosk, of a phone line) speaks at once. Files are written atomically and checked on
 * read against the full key they carry, so several processes may share one folder, a crash
 * leaves at worst a stray temporary file, and anything damaged or foreign is a miss that is
 * synthesized and written again.
 *
 * Each file also carries a checksum of its samples beside the key, because a key that matches
 * says nothing about the audio after it: a damaged sector, a byte flipped on a worn card, a
 * file cut and padded by a crash, would otherwise be played as a click or a burst of noise in
 * the middle of someone's instructions. The checksum is FNV-1a, 64 bits, over the samples as
 * the file stores them (16-bit little-endian), the hash already used for the file names: it is
 * a chain of invertible steps, so a change to any one byte always changes it, and wider damage
 * goes unnoticed with a chance of about one in 2^64. It guards against accidents, not against
 * someone who can write the folder (they could write a matching sum); the folder's permissions
 * are that guard.
 *
 * The cache holds the listener-facing speech of a menu, and through bugs elsewhere it may once
 * have held personal words, so no other local user may read it: the folder is created 0700 and
 * its files 0600, whatever the umask. A folder of ours that is open to others (an older version
 * made it 0755) is closed at first use, but only if it holds nothing but cache files: someone
 * who gives --cache /tmp or their home folder gets a warning, not a changed folder. A folder
 * that belongs to another user is warned about too: its owner can read what we write there.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/rfile.h"
#include "prompt/audio.h"
#include "prompt/cache.h"

/* A cache file larger than this is not one we wrote (an hour of 48 kHz speech is 330 MiB). */
#define MAX_FILE ((off_t)512 << 20)

/* The note in each file: this line, the checksum in 16 hex digits and a newline, then the key.
 * The line comes first because the key ends with the text, which may hold anything. */
#define SUM_LABEL "samples fnv1a64 "
#define SUM_AT (sizeof(SUM_LABEL) - 1) /* where the hex digits start */
#define SUM_LEN (SUM_AT + 16 + 1)

#define FNV_OFFSET 0xcbf29ce484222325u
#define FNV_PRIME 0x100000001b3u

/* Several threads may read and write the cache at once (a store shared by many calls): the
 * files are safe by construction (each written under a name of its own, then renamed); the
 * few facts about the folder below are behind the lock. Messages go to the diag the caller
 * gives, which the store merges into its own under its lock. */
struct tt_cache {
    char *dir;
    tt_diag *diag;    /* for tt_cache_open's own messages */
    pthread_mutex_t lock; /* the three below */
    bool dir_checked; /* its owner and mode looked at, once, at first use */
    bool dir_ready;   /* created (or found) by this process */
    int write_err;    /* the first write failure; later writes are skipped */
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
    int err = pthread_mutex_init(&c->lock, NULL);
    if (err) {
        free(c->dir);
        free(c);
        return err;
    }
    *cp = c;
    return 0;
}

void tt_cache_close(struct tt_cache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
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
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
    return h;
}

/* The same hash over samples as the file stores them, low byte first, on any machine. */
static uint64_t samples_sum(const int16_t *pcm, size_t n)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++) {
        uint16_t v = (uint16_t)pcm[i];
        h = (h ^ (v & 0xffu)) * FNV_PRIME;
        h = (h ^ (v >> 8)) * FNV_PRIME;
    }
    return h;
}

int tt_cache_path(const struct tt_cache *c, const char *key, size_t key_len, char *buf,
                  size_t size)
{
    int n = snprintf(buf, size, "%s/%016" PRIx64 ".wav", c->dir, hash64(key, key_len));
    return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

/* A name the cache itself gives: "<16 hex>.wav", or a temporary ".<16 hex>.wav.XXXXXX". */
static bool cache_name(const char *name)
{
    if (*name == '.')
        name++;
    for (int i = 0; i < 16; i++)
        if (!isxdigit((unsigned char)name[i]))
            return false;
    return !strcmp(name + 16, ".wav") || (!strncmp(name + 16, ".wav.", 5) && name[21]);
}

/* Does the folder hold nothing but the cache's own files? Then it is ours to close. */
static bool only_cache_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool only = true;
    struct dirent *e;
    while (only && (e = readdir(d)))
        only = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || cache_name(e->d_name);
    closedir(d);
    return only;
}

/* Once, at first use: no other local user may read the folder (see the top of this file). A
 * folder not there yet is made private when it is created. */
static void guard_dir(struct tt_cache *c, tt_diag *diag)
{
    struct stat st;
    pthread_mutex_lock(&c->lock);
    bool checked = c->dir_checked;
    c->dir_checked = true;
    pthread_mutex_unlock(&c->lock);
    if (checked)
        return;
    if (stat(c->dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return;
    if (st.st_uid != geteuid()) {
        tt_diag_add(diag, TT_WARNING, c->dir, 0,
                    "the speech cache folder belongs to another user (uid %u), who can read "
                    "the speech written in it: use a folder of your own",
                    (unsigned)st.st_uid);
        return;
    }
    if (!(st.st_mode & 077))
        return;
    if (only_cache_files(c->dir) && chmod(c->dir, 0700) == 0)
        return;
    tt_diag_add(diag, TT_WARNING, c->dir, 0,
                "other users can open the speech cache folder (mode %04o), and it holds "
                "files that are not the cache's, so it was left as it is: give the cache a "
                "folder of its own (it is then made private)",
                (unsigned)(st.st_mode & 07777));
}

int tt_cache_get(struct tt_cache *c, const char *key, size_t key_len, int rate, int16_t **pcm,
                 size_t *frames, tt_diag *diag)
{
    char path[4096];
    char *buf = NULL;
    size_t len = 0;
    int file_rate = 0;
    const char *note;
    size_t note_len;

    *pcm = NULL;
    *frames = 0;
    guard_dir(c, diag ? diag : c->diag);
    if (tt_cache_path(c, key, key_len, path, sizeof(path)))
        return ENOENT;
    /* Through rfile: a FIFO or a device under a cache name is a miss, never a wait. */
    int err = tt_rfile_read(path, (size_t)MAX_FILE, &buf, &len);
    if (!err)
        err = tt_audio_wav_decode((const uint8_t *)buf, len, &file_rate, &note, &note_len, pcm,
                                  frames);
    /* Another text with the same hash, a file from elsewhere, or audio damaged since it was
     * written: all misses. */
    if (!err && (note_len != SUM_LEN + key_len || memcmp(note, SUM_LABEL, SUM_AT) ||
                 note[SUM_LEN - 1] != '\n' || memcmp(note + SUM_LEN, key, key_len) ||
                 file_rate != rate))
        err = EINVAL;
    if (!err) {
        char want[17];
        snprintf(want, sizeof(want), "%016" PRIx64, samples_sum(*pcm, *frames));
        if (memcmp(note + SUM_AT, want, 16))
            err = EINVAL;
    }
    if (err) {
        free(*pcm);
        *pcm = NULL;
        *frames = 0;
    }
    free(buf);
    return err == ENOMEM ? ENOMEM : err ? ENOENT : 0;
}

/* mkdir -p: create the folder and every missing parent. Parents are made as mkdir -p makes
 * them; the cache folder itself is private (0700), whatever the umask, when we create it. */
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
        bool leaf = c == '\0';
        if (mkdir(p, leaf ? 0700 : 0755) == 0) {
            if (leaf && chmod(p, 0700) < 0) {
                err = errno;
                break;
            }
        } else if (errno != EEXIST) {
            err = errno;
            break;
        }
        if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
            err = ENOTDIR;
            break;
        }
        *s = c;
        if (leaf)
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
                 const int16_t *pcm, size_t frames, tt_diag *diag)
{
    char path[4096], tmp[4096 + 32];
    char *note = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int fd = -1;
    int err;

    if (!diag)
        diag = c->diag;
    pthread_mutex_lock(&c->lock);
    err = c->write_err;
    pthread_mutex_unlock(&c->lock);
    if (err)
        return err;
    if ((err = tt_cache_path(c, key, key_len, path, sizeof(path))))
        goto out;
    guard_dir(c, diag);
    pthread_mutex_lock(&c->lock);
    if (!c->dir_ready && !(err = make_dirs(c->dir)))
        c->dir_ready = true;
    pthread_mutex_unlock(&c->lock);
    if (err)
        goto out;
    if (!(note = malloc(SUM_LEN + key_len + 1))) { /* + 1: snprintf's terminator */
        err = ENOMEM;
        goto out;
    }
    snprintf(note, SUM_LEN + 1, SUM_LABEL "%016" PRIx64 "\n", samples_sum(pcm, frames));
    memcpy(note + SUM_LEN, key, key_len);
    if ((err = tt_audio_wav_encode(pcm, frames, rate, note, SUM_LEN + key_len, &buf, &len)))
        goto out;
    /* The temporary name starts with a dot and ends in random letters: it never matches a
     * cache file, and two writers never share one. */
    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", c->dir, strrchr(path, '/') + 1);
    if ((fd = mkstemp(tmp)) < 0) {
        err = errno;
        goto out;
    }
    /* Exactly 0600: mkstemp's mode is narrowed by the umask, and a file we cannot read back
     * would be a miss at every start. */
    err = fchmod(fd, 0600) < 0 ? errno : write_all(fd, buf, len);
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
    free(note);
    free(buf);
    if (err && err != ENOMEM) {
        pthread_mutex_lock(&c->lock);
        bool first = !c->write_err;
        if (first)
            c->write_err = err;
        pthread_mutex_unlock(&c->lock);
        if (first) /* said once, however many writers found it */
            tt_diag_add(diag, TT_WARNING, c->dir, 0,
                        "cannot write the speech cache (%s); speech will be synthesized "
                        "again at the next start",
                        strerror(err));
    }
    return err;
}
