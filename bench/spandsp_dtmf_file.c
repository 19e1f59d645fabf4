/*
 * The reference for bench_dtmf's whole-process count: the plainest program that does what
 * `tonetree dtmf FILE` does with spandsp instead of our receiver. libsndfile reads the file
 * as 16-bit samples, 20 ms at a time (what a telephony program hands a receiver), spandsp's
 * dtmf_rx listens, and the digits are printed on one line. Mono files at 8 kHz only, the one
 * rate spandsp runs at; anything else is refused. Not part of tonetree: built by `make bench`.
 */
#include <stdio.h>
#include <string.h>

#include <sndfile.h>
#include <spandsp.h>

static char digits[4096];
static size_t ndigits;

static void heard(void *user, const char *d, int len)
{
    (void)user;
    for (int i = 0; i < len && ndigits + 1 < sizeof(digits); i++)
        digits[ndigits++] = d[i];
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: spandsp_dtmf_file FILE.wav (mono, 8 kHz)\n");
        return 2;
    }
    SF_INFO info;
    memset(&info, 0, sizeof(info));
    SNDFILE *f = sf_open(argv[1], SFM_READ, &info);
    if (!f || info.channels != 1 || info.samplerate != 8000) {
        fprintf(stderr, "%s: not a mono 8 kHz audio file\n", argv[1]);
        return 1;
    }
    dtmf_rx_state_t *rx = dtmf_rx_init(NULL, heard, NULL);
    int16_t buf[160];
    sf_count_t got;
    while ((got = sf_readf_short(f, buf, 160)) > 0)
        dtmf_rx(rx, buf, (int)got);
    sf_close(f);
    dtmf_rx_free(rx);
    digits[ndigits] = '\0';
    printf("%s\n", digits);
    return 0;
}
