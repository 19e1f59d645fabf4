/*
 * Audio files and sample rates for the prompt store.
 *
 * Everything the store keeps is mono int16 at one output rate, so every sound passes through
 * here once: recordings are decoded (any format libsndfile reads), mixed to mono and resampled
 * with libsoxr; speech is resampled from the engine's rate. The store's own cache files are
 * plain WAV files with one extra chunk holding a note (the cache key), written and read by a
 * small strict codec here, because libsndfile drops long strings and long custom chunks.
 */
#ifndef TT_AUDIO_H
#define TT_AUDIO_H

#include <stddef.h>
#include <stdint.h>

/* The RIFF chunk that holds the note in our WAV files; players skip chunks they don't know. */
#define TT_AUDIO_NOTE_CHUNK "ttky"

/**
 * Decode a whole recording, mix it to mono and resample it to a rate. The file is opened and
 * judged by recfile.h: anything but a regular file is refused without waiting, and so is,
 * before a sample is decoded, a file cut short or beyond the limits on length and decoding
 * cost; memory is the result and a few blocks, never the source.
 * @param path    any file libsndfile reads (WAV, FLAC, Ogg, Opus, MP3, AIFF, AU, ...)
 * @param rate    the output rate, Hz
 * @param pcm     set to malloc'd samples; free() them
 * @param frames  set to their count, never 0 on success
 * @param why     on failure, a reason for a person, and what to do when there is something
 *                to do ("it has no audio", "it is cut short: ...; copy or export it again")
 * @return 0, EINVAL when the file cannot be used (why says why), ENOMEM
 */
int tt_audio_load(const char *path, int rate, int16_t **pcm, size_t *frames, char *why,
                  size_t why_size);

/**
 * Resample mono int16 from one rate to another, once, in good quality (libsoxr HQ, clipped,
 * not dithered so that the same input always gives the same samples).
 * @param out    set to malloc'd samples (NULL when n is 0); free() them
 * @return 0, EINVAL for a bad rate, ENOMEM, or EIO when libsoxr fails
 */
int tt_audio_resample(const int16_t *in, size_t n, int in_rate, int out_rate, int16_t **out,
                      size_t *out_n);

/**
 * Build a mono 16-bit WAV file in memory, with a note in a TT_AUDIO_NOTE_CHUNK chunk.
 * @param buf    set to malloc'd bytes; free() them
 * @return 0, EINVAL when it would not fit in a WAV file, ENOMEM
 */
int tt_audio_wav_encode(const int16_t *pcm, size_t frames, int rate, const char *note,
                        size_t note_len, uint8_t **buf, size_t *len);

/**
 * Read back a WAV file built by tt_audio_wav_encode. Anything else (another layout, a
 * truncated file, stereo, no note, no samples) is refused: it is a cache miss, not audio.
 * @param note   set to point into buf (not NUL-terminated)
 * @param pcm    set to malloc'd samples; free() them
 * @return 0, EINVAL when buf is not such a file, ENOMEM
 */
int tt_audio_wav_decode(const uint8_t *buf, size_t len, int *rate, const char **note,
                        size_t *note_len, int16_t **pcm, size_t *frames);

/** libsndfile's reason ("Format not recognised.") shaped to sit inside our own sentence
 *  ("format not recognised"). */
void tt_audio_reason(char *why, size_t size, const char *msg);

#endif
