/*
 * The disk cache of synthesized speech, addressed by content.
 *
 * The key of a clip is everything that decides its samples (engine, engine version, voice,
 * speed, output rate, the exact text, and this cache's format version); its file is named
 * after a 64-bit hash of the key and holds the whole key and a checksum of its samples, so a
 * hash collision, a stale file or damaged audio is a miss, never the wrong words or noise. The
 * folder and its files are private to the user who runs the engine (0700, 0600).
 *
 * A clip is kept twice: at the output rate, ready to play (a warm start reads it and does
 * neither synthesis nor resampling), and as the engine made it, at the engine's rate (its key
 * says rate 0), from which a store at another rate resamples instead of synthesizing again.
 */
#ifndef TT_CACHE_H
#define TT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "prompt/tts.h"
#include "tonetree.h"

/* Bump when the file layout, the key or what the samples are changes: old files then simply
 * stop matching.
 * 2: a checksum of the samples beside the key.
 * 3: speech brought to one loudness (loudness.c) before it is written. */
#define TT_CACHE_FORMAT 3

struct tt_cache;

/**
 * Open a cache folder. Nothing is touched on disk until the first use: the first read or write
 * makes an existing folder private (or warns, see cache.c), the first write creates the folder
 * (0700) and its parents.
 * @param diag  receives one warning if the cache cannot be written (kept, not owned)
 * @return 0, EINVAL for an empty name, or ENOMEM
 */
int tt_cache_open(struct tt_cache **cp, const char *dir, tt_diag *diag);
void tt_cache_close(struct tt_cache *c);

/**
 * The key for one text spoken by a voice at a speed, delivered at a rate (0: the engine's own
 * output, before resampling and loudness).
 * @param len  set to the key's length
 * @return a malloc'd string, or NULL when out of memory
 */
char *tt_cache_key(const struct tt_tts_voice *v, int speed_pct, int rate, const char *text,
                   size_t *len);

/** The file a key lives in: "<dir>/<16 hex digits>.wav". Returns 0 or ENAMETOOLONG. */
int tt_cache_path(const struct tt_cache *c, const char *key, size_t key_len, char *buf,
                  size_t size);

/**
 * Read a clip back.
 * @param pcm  set to malloc'd samples at rate; free() them
 * @param diag where a warning about the folder goes (NULL: the diag given to tt_cache_open);
 *             any thread may read and write the cache at once, each with a diag of its own
 * @return 0 on a hit; ENOENT on a miss (no file, not a regular file, a damaged file or damaged
 *         samples, another key, another rate); ENOMEM
 */
int tt_cache_get(struct tt_cache *c, const char *key, size_t key_len, int rate, int16_t **pcm,
                 size_t *frames, tt_diag *diag);

/**
 * Store a clip atomically (a temporary file in the same folder, then rename), so readers in
 * other processes see the old file, the new one, or none, never half of one. A failure is a
 * warning added to diag (as for tt_cache_get) once per cache (later writes are then skipped):
 * speech still plays, it is only synthesized again next time.
 * @return 0 or the errno of the failure
 */
int tt_cache_put(struct tt_cache *c, const char *key, size_t key_len, int rate,
                 const int16_t *pcm, size_t frames, tt_diag *diag);

#endif
