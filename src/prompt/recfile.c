/*
 * Opening a recording safely, and judging its cost and its completeness (see recfile.h).
 *
 * libsndfile is the authority on what a file holds, with two gaps this file fills. Its open
 * takes a name, so a FIFO hangs it: the file is opened by rfile and given to sf_open_fd. And
 * when a WAV, AIFF or AU file is cut short, libsndfile notices (it says so only in its log) and
 * reports the frames that are there, as if the file were whole: the header's own size of the
 * audio is read back here, from the few bytes that hold it, and compared with the file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/rfile.h"
#include "prompt/audio.h"
#include "prompt/recfile.h"

/* Chunks looked through before the audio's: files carry a handful (fmt, fact, LIST, bext...). */
#define MAX_CHUNKS 64
/* An MP3 without an Xing or Info frame has an estimated length, off by a frame or two (1152
 * samples each) and by the bit rate's changes: half a percent, from measuring such files. */
#define MPEG_FRAME 1152
#define MPEG_SLACK_PER_MILLE 5

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

static bool read_at(int fd, void *buf, size_t n, off_t at)
{
    ssize_t r;
    do
        r = pread(fd, buf, n, at);
    while (r < 0 && errno == EINTR);
    return r == (ssize_t)n;
}

/*
 * The size of the audio as the header declares it, for the containers whose reader in
 * libsndfile shortens it silently to the file: WAV (RIFF, and RIFX big-endian), RF64/BW64 (the
 * size in a ds64 chunk), AIFF/AIFC (the SSND chunk) and AU. A size of 0 or 0xFFFFFFFF is what
 * recorders that stream write before they know the length: no promise, so nothing is set.
 */
static void header_promise(struct tt_recfile *r, int fd, uint64_t size)
{
    uint8_t h[16];
    r->declared = r->present = 0;
    if (!read_at(fd, h, 12, 0))
        return;
    if (!memcmp(h, ".snd", 4)) { /* AU: where the audio starts, and its size, big-endian */
        uint64_t at = be32(h + 4), n = be32(h + 8);
        if (n != 0 && n != 0xffffffffu && at <= size) {
            r->declared = n;
            r->present = size - at;
        }
        return;
    }
    bool wave = !memcmp(h + 8, "WAVE", 4);
    bool riff = wave && !memcmp(h, "RIFF", 4), rifx = wave && !memcmp(h, "RIFX", 4);
    bool rf64 = wave && (!memcmp(h, "RF64", 4) || !memcmp(h, "BW64", 4));
    bool aiff = !memcmp(h, "FORM", 4) && (!memcmp(h + 8, "AIFF", 4) || !memcmp(h + 8, "AIFC", 4));
    if (!riff && !rifx && !rf64 && !aiff)
        return;
    bool big = rifx || aiff;
    const char *audio = aiff ? "SSND" : "data";
    uint64_t ds64 = 0, at = 12;
    for (int i = 0; i < MAX_CHUNKS && at + 8 <= size; i++) {
        if (!read_at(fd, h, 8, (off_t)at))
            return;
        uint64_t n = big ? be32(h + 4) : le32(h + 4);
        if (rf64 && !memcmp(h, "ds64", 4)) {
            /* riff size, then data size, 64-bit little-endian each */
            uint8_t d[16];
            if (read_at(fd, d, 16, (off_t)at + 8))
                ds64 = le32(d + 8) | (uint64_t)le32(d + 12) << 32;
        }
        if (!memcmp(h, audio, 4)) {
            if (rf64 && n == 0xffffffffu)
                n = ds64;
            if (n != 0 && n != 0xffffffffu) {
                r->declared = n;
                r->present = size - (at + 8);
            }
            return;
        }
        at += 8 + n + (n & 1); /* chunks start at even offsets */
    }
}

int tt_recfile_open(struct tt_recfile *r, const char *path, int64_t max_bytes, char *why,
                    size_t why_size)
{
    off_t size;
    int fd;
    memset(r, 0, sizeof(*r));
    why[0] = '\0';
    int err = tt_rfile_open(path, (off_t)max_bytes, &fd, &size);
    if (err) {
        char w[160];
        tt_rfile_why(err, (size_t)max_bytes, w, sizeof(w));
        if (err == ENODEV)
            snprintf(why, why_size, "it %s: put the recording itself there", w);
        else if (err == EISDIR)
            snprintf(why, why_size, "it %s: the recording must be a file of that name", w);
        else
            snprintf(why, why_size, "it %s", w);
        return err;
    }
    header_promise(r, fd, (uint64_t)size);
    /* close_desc: libsndfile owns the descriptor from here, and closes it even on failure */
    if (!(r->sf = sf_open_fd(fd, SFM_READ, &r->info, 1))) {
        tt_audio_reason(why, why_size, sf_strerror(NULL));
        return EINVAL;
    }
    if (r->info.channels < 1 || r->info.channels > TT_RECFILE_MAX_CHANNELS ||
        r->info.samplerate < 1 || r->info.samplerate > TT_RECFILE_MAX_RATE) {
        snprintf(why, why_size, "it claims %d channels at %d Hz", r->info.channels,
                 r->info.samplerate);
        tt_recfile_close(r);
        return EINVAL;
    }
    return 0;
}

/* What a read gave, counted: a short read is the end (or an error: sf_error says). */
static int64_t took(struct tt_recfile *r, sf_count_t got, int64_t n)
{
    if (got < n)
        r->ended = true;
    if (got <= 0)
        return 0;
    r->got += got;
    return got;
}

int64_t tt_recfile_read(struct tt_recfile *r, float *buf, int64_t n)
{
    return took(r, r->ended ? 0 : sf_readf_float(r->sf, buf, (sf_count_t)n), n);
}

bool tt_recfile_exact_short(const struct tt_recfile *r)
{
    switch (r->info.format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
    case SF_FORMAT_PCM_16:
    case SF_FORMAT_ULAW:
    case SF_FORMAT_ALAW:
        return true;
    default:
        return false; /* wider PCM is truncated, not rounded; float may not be finite */
    }
}

int64_t tt_recfile_read_short(struct tt_recfile *r, int16_t *buf, int64_t n)
{
    return took(r, r->ended ? 0 : sf_readf_short(r->sf, buf, (sf_count_t)n), n);
}

bool tt_recfile_length_known(const struct tt_recfile *r)
{
    return r->info.frames > 0 && r->info.frames != SF_COUNT_MAX;
}

/* "10 min 1 s" or "45 s", rounded up: a limit is never said to be met by a file over it. */
static void say_duration(char *buf, size_t size, int64_t frames, int rate)
{
    int64_t s = (frames + rate - 1) / rate;
    if (s >= 60)
        snprintf(buf, size, "%lld min %lld s", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(buf, size, "%lld s", (long long)s);
}

int tt_recfile_check_cost(const struct tt_recfile *r, int64_t frames, char *why,
                          size_t why_size)
{
    int rate = r->info.samplerate, ch = r->info.channels;
    char len[48];
    say_duration(len, sizeof(len), frames, rate);
    if (frames > (int64_t)TT_RECFILE_MAX_SECONDS * rate) {
        snprintf(why, why_size,
                 "it lasts %s, and a recording may last %d minutes at most: cut it into "
                 "shorter recordings",
                 len, TT_RECFILE_MAX_SECONDS / 60);
        return EFBIG;
    }
    if (frames * ch > TT_RECFILE_MAX_SAMPLES) {
        snprintf(why, why_size,
                 "it lasts %s at %d Hz (%d channel%s): %.1f million samples to decode, more "
                 "than the %.1f million a recording may have (%d minutes of 48 kHz stereo); "
                 "cut it or resample it to 48 kHz",
                 len, rate, ch, ch == 1 ? "" : "s", (double)(frames * ch) / 1e6,
                 (double)TT_RECFILE_MAX_SAMPLES / 1e6, TT_RECFILE_MAX_SECONDS / 60);
        return EFBIG;
    }
    return 0;
}

/* Frames an estimated length may be over by: only MP3 lengths are estimates. */
static int64_t slack(const struct tt_recfile *r)
{
    if ((r->info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG)
        return 0;
    int64_t by_rate = r->info.frames * MPEG_SLACK_PER_MILLE / 1000;
    return by_rate > 2 * MPEG_FRAME ? by_rate : 2 * MPEG_FRAME;
}

static void say_cut(char *why, size_t why_size, const char *what)
{
    snprintf(why, why_size,
             "it is cut short: %s; a copy or an export stopped part way: copy or export it again",
             what);
}

bool tt_recfile_cut_short(struct tt_recfile *r, bool probe, char *why, size_t why_size)
{
    char what[256];
    double rate = r->info.samplerate;
    if (r->declared > r->present) {
        /* libsndfile's frames are those present; the promise is in the same proportion */
        double has = (double)r->info.frames / rate;
        snprintf(what, sizeof(what),
                 "its header promises %.1f s of audio, and the file holds only %.1f s",
                 r->present ? has * (double)r->declared / (double)r->present : has, has);
        say_cut(why, why_size, what);
        return true;
    }
    if (tt_recfile_length_known(r)) {
        int64_t want = r->info.frames - slack(r);
        if (r->ended && r->got < want) {
            /* A decoder that stops with an error where the file ends (FLAC: "lost sync") is
             * the same story told by the codec: say the figures, and its words. */
            char codec[128] = "";
            if (sf_error(r->sf)) {
                char reason[80];
                tt_audio_reason(reason, sizeof(reason), sf_strerror(r->sf));
                snprintf(codec, sizeof(codec), " (the decoder says: %s)", reason);
            }
            snprintf(what, sizeof(what),
                     "its header promises %.1f s of audio, and the file holds only %.1f s%s",
                     (double)r->info.frames / rate, (double)r->got / rate, codec);
            say_cut(why, why_size, what);
            return true;
        }
        if (!r->ended && probe && want > 0) {
            float last[TT_RECFILE_MAX_CHANNELS];
            r->ended = true; /* the position is lost either way */
            if (sf_seek(r->sf, want - 1, SEEK_SET) < 0 || sf_readf_float(r->sf, last, 1) != 1) {
                snprintf(what, sizeof(what),
                         "its header promises %.1f s of audio, and the file ends before that",
                         (double)r->info.frames / rate);
                say_cut(why, why_size, what);
                return true;
            }
        }
        return false;
    }
    /* An Ogg stream's length is in its last page; a file that does not end in one ends in
     * the middle of its audio. */
    if ((r->info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG &&
        r->info.frames == SF_COUNT_MAX) {
        say_cut(why, why_size, "the file ends in the middle of its audio");
        return true;
    }
    return false;
}

void tt_recfile_close(struct tt_recfile *r)
{
    if (r->sf)
        sf_close(r->sf);
    r->sf = NULL;
}
