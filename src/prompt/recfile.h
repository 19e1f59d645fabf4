/*
 * A recording file, opened so that nothing can hang, and judged before it costs anything.
 *
 * Recordings are named by people and left in folders by other programs. libsndfile's own open
 * takes a name and waits for ever on a FIFO, so a recording is opened here as a regular file
 * (rfile.c) and handed to libsndfile as a descriptor. Its header then says how long it is, so
 * that one too long or too costly to decode (minutes at 768 kHz) is refused with figures before
 * a sample is decoded; and whether the file holds all the audio the header promises, so that a
 * copy that stopped part way is not played as half a sentence.
 *
 * The prompt store, `tonetree check` and `tonetree dtmf` all open recordings here, so the three
 * agree on what can be used and say it in the same words.
 */
#ifndef TT_RECFILE_H
#define TT_RECFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sndfile.h>

/* What a recording may cost, decided once for every tool. Ten minutes is far beyond any prompt
 * (the checker already warns over 30 s) yet keeps a mistake cheap. Decoding cost is counted in
 * samples (frames times channels): ten minutes of 48 kHz stereo, 57.6 million, about a second
 * of work; five minutes at 768 kHz is four times that and is refused. */
#define TT_RECFILE_MAX_SECONDS (10 * 60)
#define TT_RECFILE_MAX_SAMPLES ((int64_t)TT_RECFILE_MAX_SECONDS * 48000 * 2)
/* Only a backstop: cost is judged by samples, from the header, which says more than the size
 * (a file of 16-bit samples at 768 kHz is refused by its samples, with figures). 4 GiB is as
 * far as a WAV file's sizes go. */
#define TT_RECFILE_MAX_BYTES ((int64_t)4 << 30)
#define TT_RECFILE_MAX_RATE 768000 /* the highest rate any recorder writes */
#define TT_RECFILE_MAX_CHANNELS 64

struct tt_recfile {
    SNDFILE *sf;
    SF_INFO info;      /* as libsndfile reports it; info.frames may be SF_COUNT_MAX (unknown) */
    uint64_t declared; /* bytes of audio the header declares; 0 when it does not say */
    uint64_t present;  /* bytes from where that audio starts to the end of the file */
    int64_t got;       /* frames read so far */
    bool ended;        /* a read came back short: the decoder found the end */
};

/**
 * Open a recording and check its header: a regular file of at most max_bytes, in a format
 * libsndfile reads, with 1 to 64 channels at 1 Hz to 768 kHz.
 * @param why  on failure, the reason as the end of a sentence about the file ("it is a FIFO,
 *             ..."), with what to do where there is something to do
 * @return 0; ENODEV (a FIFO, socket or device) or EISDIR (a folder): not a file at all;
 *         EINVAL: not audio the engine reads; ENOMEM; or another errno from opening it
 */
int tt_recfile_open(struct tt_recfile *r, const char *path, int64_t max_bytes, char *why,
                    size_t why_size);

/** Read up to n frames (interleaved) as floats in [-1, 1]; 0 at the end or on an error
 *  (sf_error(r->sf) tells which). */
int64_t tt_recfile_read(struct tt_recfile *r, float *buf, int64_t n);

/** Whether libsndfile's 16-bit reading of this file gives exactly the samples the float
 *  reading, scaled by 32768 and rounded, would: 8- and 16-bit PCM, mu-law and A-law (in any
 *  container, FLAC too). For those, tt_recfile_read_short skips the float conversion. */
bool tt_recfile_exact_short(const struct tt_recfile *r);

/** Read up to n frames (interleaved) as 16-bit samples, as tt_recfile_read does floats. */
int64_t tt_recfile_read_short(struct tt_recfile *r, int16_t *buf, int64_t n);

/** Whether the header says how many frames there are (info.frames is then that count). */
bool tt_recfile_length_known(const struct tt_recfile *r);

/**
 * Whether `frames` frames of this recording are within TT_RECFILE_MAX_SECONDS and
 * TT_RECFILE_MAX_SAMPLES. Called with info.frames before decoding when the length is known,
 * and with the frames read so far while decoding when it is not.
 * @return 0, or EFBIG with why saying how long it is, at what rate, the limit and what to do
 */
int tt_recfile_check_cost(const struct tt_recfile *r, int64_t frames, char *why,
                          size_t why_size);

/**
 * Whether the file holds less audio than its header promises. What can be known depends on
 * when it is asked: right after opening, from the header (WAV, RF64, AIFF and AU declare their
 * audio in bytes, which libsndfile quietly shortens to what is there); after reading to the
 * end, also from the frames read against the frame count (FLAC, MP3 with an Xing or Info
 * frame, ...), and for Ogg, whose last page holds the length, from a length libsndfile could
 * not find. With probe, a file not read to the end is checked by seeking to its last frame
 * (cheap, for the checker; the position is lost).
 * @param why  if so, the reason, with what to do
 */
bool tt_recfile_cut_short(struct tt_recfile *r, bool probe, char *why, size_t why_size);

void tt_recfile_close(struct tt_recfile *r);

#endif
