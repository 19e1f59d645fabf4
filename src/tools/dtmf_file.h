/*
 * `tonetree dtmf FILE...`: the DTMF digits in an audio file, as one line a script can read.
 *
 * The file is decoded with libsndfile (any format and channel count; channels are mixed),
 * streamed in chunks through the receiver at the file's own rate when it is one the receiver
 * runs at (8 to 48 kHz), else through libsoxr to 8 kHz first. So a file of any length takes
 * a few kilobytes of memory. It is opened as the prompt store opens recordings (recfile.h).
 */
#ifndef TT_DTMF_FILE_H
#define TT_DTMF_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/**
 * Find the digits in an audio file and print them.
 * @param path     any file libsndfile reads
 * @param verbose  after the digits line, one line per digit: "  5 at 1.234 s, -7.0 dBm0"
 *                 (where it began, and the power of its two tones together)
 * @param out      receives the digits on one line, and nothing else unless verbose: a file
 *                 with no digits gives an empty line
 * @param why      on failure, a reason for a person ("format not recognised"); nothing is
 *                 written to out then, except for a file cut short
 * @return 0; EINVAL when the file cannot be read as audio (a FIFO or a device is refused at
 *         once), or is cut short: then the digits found before the cut are printed all the
 *         same, and why says the file is cut short; ENOMEM; or EIO when libsoxr or writing to
 *         out fails
 */
int tt_dtmf_file(const char *path, bool verbose, FILE *out, char *why, size_t why_size);

#endif
