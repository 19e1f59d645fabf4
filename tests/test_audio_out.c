/*
 * The live output through the real PortAudio path, with no sound card: ALSA's `file` plugin
 * (configured through ALSA_CONFIG_PATH in a private folder) writes what PortAudio plays into a
 * raw file, which the tests search by content. The plugin is not paced by a clock: it runs far
 * faster than real time and starts with PortAudio's priming silence, so signals are found by a
 * marker, never by offset, and every wait is bounded so that a test fails instead of hanging.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/diag.h"
#include "device/audio_out.h"

#define RATE 16000
#define FADE (RATE * 5 / 1000)
#define TIMEOUT_MS 5000

static const char no_device_msg[] =
    "no audio output device was found: connect headphones or speakers, or choose one with "
    "--device (tonetree devices lists them)";

/* A tap that stops the callback right after the first buffer with sound in it, until the test
 * lets it go: the only way to cut audio that is certainly still queued when the device runs
 * thousands of times faster than real time. (A real tap must never wait.) */
struct hold {
    _Atomic int armed, holding, release;
};

/* Per test: a private folder, and the output (closed by the teardown even when a check fails
 * half-way, so one failure does not leave PortAudio up with a stale device list). */
struct env {
    char dir[64];
    char conf[128];
    char out[128];
    struct tt_out *o;
    struct hold hold;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    strcpy(e->dir, "/tmp/tt-audio-XXXXXX");
    if (!mkdtemp(e->dir))
        return -1;
    snprintf(e->conf, sizeof(e->conf), "%s/alsa.conf", e->dir);
    snprintf(e->out, sizeof(e->out), "%s/OUT.raw", e->dir);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    atomic_store(&e->hold.release, 1);
    tt_out_close(e->o);
    char path[160];
    snprintf(path, sizeof(path), "%s/stderr.txt", e->dir);
    unlink(path);
    unlink(e->conf);
    unlink(e->out);
    rmdir(e->dir);
    free(e);
    return 0;
}

/* The ALSA configurations the tests use, in place of the system's. */
enum conf { CONF_FILE, CONF_FULL, CONF_NO_CARD, CONF_EMPTY };

static void use_conf(struct env *e, enum conf kind)
{
    FILE *f = fopen(e->conf, "w");
    assert_non_null(f);
    if (kind == CONF_FILE || kind == CONF_FULL)
        /* What is played lands in a file (raw S16_LE at the stream's rate); /dev/full makes
         * every write fail, which is how a device that goes away looks to PortAudio. */
        fprintf(f,
                "pcm.!default {\n"
                "    type file\n"
                "    slave.pcm { type null }\n"
                "    file \"%s\"\n"
                "    format \"raw\"\n"
                "    perm 0644\n"
                "}\n"
                "ctl.!default { type hw card 0 }\n",
                kind == CONF_FILE ? e->out : "/dev/full");
    else if (kind == CONF_NO_CARD)
        /* What a machine without a sound card has: a default device that cannot open. */
        fprintf(f, "pcm.!default { type hw card 0 }\nctl.!default { type hw card 0 }\n");
    fclose(f);
    unlink(e->out);
    setenv("ALSA_CONFIG_PATH", e->conf, 1);
}

static bool have_sound_card(void)
{
    return access("/dev/snd/controlC0", F_OK) == 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait until the callback has consumed everything written; fails the test after 5 s. */
static void wait_played(struct tt_out *o)
{
    double t0 = now_ms();
    while (tt_out_played(o) < tt_out_written(o)) {
        if (now_ms() - t0 > TIMEOUT_MS)
            fail_msg("the output consumed %lld of %lld frames in 5 s",
                     (long long)tt_out_played(o), (long long)tt_out_written(o));
        sleep_ms(1);
    }
}

static void write_all(struct tt_out *o, const int16_t *pcm, size_t n)
{
    double t0 = now_ms();
    size_t off = 0;
    while (off < n) {
        off += tt_out_write(o, pcm + off, n - off);
        if (off < n) {
            if (now_ms() - t0 > TIMEOUT_MS)
                fail_msg("the output took %zu of %zu frames in 5 s", off, n);
            sleep_ms(1);
        }
    }
}

/* Eight marker frames, then a tone: the marker is how the signal is found in the file. */
static int16_t *make_signal(size_t n, double hz, int16_t m0)
{
    int16_t *s = malloc(n * sizeof(*s));
    assert_non_null(s);
    static const int16_t shape[8] = {2, -2, 1, -1, 3, -3, 2, -1};
    for (size_t i = 0; i < n; i++)
        s[i] = i < 8 ? (int16_t)(shape[i] * m0)
                     : (int16_t)lrint(10000.0 * sin(2.0 * M_PI * hz * (double)i / RATE));
    return s;
}

static int16_t *read_raw(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *n = 0;
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    int16_t *pcm = malloc((size_t)size + 2);
    assert_non_null(pcm);
    *n = fread(pcm, sizeof(*pcm), (size_t)size / sizeof(*pcm), f);
    fclose(f);
    return pcm;
}

static ptrdiff_t find_frames(const int16_t *hay, size_t n, const int16_t *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, k * sizeof(*hay)) == 0)
            return (ptrdiff_t)i;
    return -1;
}

/*
 * Wait until the output file holds `needle` and at least `after` frames past its start (the
 * file plugin writes a buffer behind what was played), then return the file's frames.
 */
static int16_t *wait_in_file(const char *path, const int16_t *needle, size_t k, size_t after,
                             size_t *n, size_t *at)
{
    double t0 = now_ms();
    for (;;) {
        int16_t *pcm = read_raw(path, n);
        ptrdiff_t i = pcm ? find_frames(pcm, *n, needle, k) : -1;
        if (i >= 0 && (size_t)i + after <= *n) {
            *at = (size_t)i;
            return pcm;
        }
        free(pcm);
        if (now_ms() - t0 > TIMEOUT_MS)
            fail_msg("the signal did not reach %s within 5 s", path);
        sleep_ms(2);
    }
}

static struct tt_out *open_ok(struct env *e, const struct tt_out_opts *opts, tt_diag *d)
{
    int err = tt_out_open(&e->o, opts, d);
    if (err) {
        tt_diag_print(d, stderr);
        fail_msg("tt_out_open: %s", strerror(err));
    }
    return e->o;
}

static void close_out(struct env *e)
{
    tt_out_close(e->o);
    e->o = NULL;
}

static bool diag_has(const tt_diag *d, enum tt_severity sev, const char *text)
{
    for (size_t i = 0; i < tt_diag_len(d); i++)
        if (tt_diag_get(d, i)->sev == sev && strstr(tt_diag_get(d, i)->text, text))
            return true;
    return false;
}

static void a_signal_comes_out_byte_exact_at_unity_gain(void **state)
{
    struct env *e = *state;
    use_conf(e, CONF_FILE);
    tt_diag *d = tt_diag_new();
    struct tt_out_opts opts = {.rate = RATE, .buffer_ms = 10, .ring_ms = 2000};
    struct tt_out *o = open_ok(e, &opts, d);
    assert_int_equal(tt_out_rate(o), RATE);
    assert_true(diag_has(d, TT_NOTE, "output latency"));
    assert_true(tt_out_latency(o) > 0);
    assert_false(tt_out_lost(o));

    int16_t *sig = make_signal(RATE, 440, 4000); /* 1 s */
    write_all(o, sig, RATE);
    wait_played(o);
    size_t n, at;
    int16_t *got = wait_in_file(e->out, sig, 8, RATE, &n, &at);
    assert_memory_equal(got + at, sig, RATE * sizeof(*sig));
    /* Everything before it is the priming silence and the idle stream: no stray audio. */
    for (size_t i = 0; i < at; i++)
        assert_int_equal(got[i], 0);
    assert_int_equal(tt_out_written(o), RATE);
    assert_int_equal(tt_out_played(o), RATE);
    free(got);
    free(sig);
    close_out(e);
    tt_diag_free(d);
}

static void standby_stops_the_stream_and_audio_plays_again_after_it(void **state)
{
    struct env *e = *state;
    use_conf(e, CONF_FILE);
    tt_diag *d = tt_diag_new();
    struct tt_out_opts opts = {.rate = RATE, .ring_ms = 2000};
    struct tt_out *o = open_ok(e, &opts, d);
    assert_false(tt_out_in_standby(o));
    assert_int_equal(tt_out_standby(o, true, d), 0);
    assert_true(tt_out_in_standby(o));
    assert_false(tt_out_lost(o)); /* a stream we stopped is not a lost device */
    /* written while stopped: queued, not played */
    int16_t *sig = make_signal(RATE / 2, 440, 4000);
    write_all(o, sig, RATE / 2);
    sleep_ms(50);
    assert_int_equal(tt_out_played(o), 0);
    assert_int_equal(tt_out_standby(o, false, d), 0);
    assert_false(tt_out_in_standby(o));
    wait_played(o);
    size_t n, at;
    int16_t *got = wait_in_file(e->out, sig, 8, RATE / 2, &n, &at);
    assert_memory_equal(got + at, sig, (RATE / 2) * sizeof(*sig));
    free(got);
    free(sig);
    close_out(e);
    tt_diag_free(d);
}

static void a_new_latency_restarts_the_stream_and_audio_plays_whole_after_it(void **state)
{
    struct env *e = *state;
    use_conf(e, CONF_FILE);
    tt_diag *d = tt_diag_new();
    struct tt_out_opts opts = {.rate = RATE, .ring_ms = 2000};
    struct tt_out *o = open_ok(e, &opts, d);
    double low = tt_out_latency(o);
    /* the callback thread asks for real-time scheduling, and the stream opens either way */
    assert_true(diag_has(d, TT_NOTE, "real-time callback asked for"));
    tt_diag_clear(d);
    assert_int_equal(tt_out_set_latency(o, 150, d), 0);
    assert_false(tt_out_lost(o));
    assert_false(tt_out_in_standby(o));
    double high = tt_out_latency(o);
    print_message("latency: %.1f ms by default, %.1f ms when 150 ms is asked for\n", low * 1e3,
                  high * 1e3);
    assert_true(high > low && high >= 0.1);
    assert_true(diag_has(d, TT_NOTE, "output latency"));
    int16_t *sig = make_signal(RATE / 2, 440, 4000);
    write_all(o, sig, RATE / 2);
    wait_played(o);
    size_t n, at;
    int16_t *got = wait_in_file(e->out, sig, 8, RATE / 2, &n, &at);
    assert_memory_equal(got + at, sig, (RATE / 2) * sizeof(*sig));
    free(got);

    /* in standby the new latency waits for the start, and what was queued is kept */
    assert_int_equal(tt_out_standby(o, true, d), 0);
    int16_t *sig2 = make_signal(RATE / 2, 660, 5000);
    write_all(o, sig2, RATE / 2);
    assert_int_equal(tt_out_set_latency(o, 0, d), 0);
    assert_true(tt_out_in_standby(o));
    assert_int_equal(tt_out_standby(o, false, d), 0);
    assert_true(fabs(tt_out_latency(o) - low) < 1e-6); /* 0: the device's own again */
    wait_played(o);
    got = wait_in_file(e->out, sig2, 8, RATE / 2, &n, &at);
    assert_memory_equal(got + at, sig2, (RATE / 2) * sizeof(*sig2));
    free(got);
    assert_int_equal(tt_out_set_latency(o, -1, d), EINVAL);
    assert_int_equal(tt_out_set_latency(o, 5000, d), EINVAL);
    free(sig);
    free(sig2);
    close_out(e);
    tt_diag_free(d);
}

static void half_gain_halves_every_frame(void **state)
{
    struct env *e = *state;
    use_conf(e, CONF_FILE);
    tt_diag *d = tt_diag_new();
    struct tt_out_opts opts = {.rate = RATE, .ring_ms = 2000};
    struct tt_out *o = open_ok(e, &opts, d);
    tt_out_set_gain(o, 0.5f);
    int16_t *sig = make_signal(RATE, 440, 4000);
    int16_t half_marker[8];
    for (int i = 0; i < 8; i++)
        half_marker[i] = (int16_t)(sig[i] / 2); /* the marker's values are even */
    write_all(o, sig, RATE);
    wait_played(o);
    size_t n, at;
    int16_t *got = wait_in_file(e->out, half_marker, 8, RATE, &n, &at);
    for (size_t i = 0; i < RATE; i++)
        if (abs(got[at + i] - sig[i] / 2) > 1)
            fail_msg("frame %zu: %d at gain 0.5 came out as %d", i, sig[i], got[at + i]);
    free(got);
    free(sig);
    close_out(e);
    tt_diag_free(d);
}

static void a_gain_above_one_clamps_instead_of_wrapping(void **state)
{
    struct env *e = *state;
    use_conf(e, CONF_FILE);
    tt_diag *d = tt_diag_new();
    struct tt_out_opts opts = {.rate = RATE, .ring_ms = 1000};
    struct tt_out *o = open_ok(e, &opts, d);
    tt_out_set_gain(o, 100.0f); /* taken as the maximum, 8 */
    int16_t *sig = make_signal(RATE / 4, 440, 4000);
    /* 4000 * {2,-2,1,-1,3,-3,2,-1} * 8, held to the int16 range */
    static const int16_t loud_marker[8] = {32767, -32768, 32000, -32000,
                                           32767, -32768, 32767, -32000};
    write_all(o, sig, RATE / 4);
    wait_played(o);
    size_t n, at;
    int16_t *got = wait_in_file(e->out, loud_marker, 8, RATE / 4, &n, &at);
    for (size_t i = 8; i < RATE / 4; i++) {
        long want = lrintf((float)sig[i] * 8.0f);
        want = want > 32767 ? 32767 : want < -32768 ? -32768 : want;
        if (labs(got[at + i] - want) > 1)
            fail_msg("frame %zu: %d at gain 8 came out as %d", i, sig[i], got[at + i]);
    }
    free(got);
    free(sig);
    close_out(e);
    tt_diag_free(d);
}

static void hold_tap(void *user, const int16_t *pcm, size_t frames, int channels)
{
    struct hold *h = user;
    if (!atomic_load(&h->armed))
        return;
    size_t i = 0;
    while (i < frames * (size_t)channels && pcm[i] == 0)
        i++;
    if (i == frames * (size_t)channels)
        return;
    atomic_store(&h->armed, 0);
    atomic_store(&h->holding, 1);
    for (int t = 0; t < TIMEOUT_MS && !atomic_load(&h->release); t++)
        sleep_ms(1);
}

static void a_cut_fades_the_queued_audio_in_5_ms_and_the_next_prompt_follows(void **state)
{
    struct env *e = *state;
    use_conf(e, CONF_FILE);
    tt_diag *d = tt_diag_new();
    struct hold *h = &e->hold;
    struct tt_out_opts opts = {.rate = RATE, .buffer_ms = 10, .ring_ms = 2000,
                               .tap = hold_tap, .tap_user = h};
    struct tt_out *o = open_ok(e, &opts, d);
    int16_t *a = make_signal(RATE, 440, 4000);     /* the prompt a key interrupts */
    int16_t *b = make_signal(RATE / 2, 1000, 5000); /* what the key starts */
    atomic_store(&h->armed, 1);
    write_all(o, a, RATE);
    double t0 = now_ms();
    while (!atomic_load(&h->holding))
        if (now_ms() - t0 > TIMEOUT_MS)
            fail_msg("the callback never played the first prompt");
    tt_out_cut(o);
    write_all(o, b, RATE / 2);
    atomic_store(&h->release, 1);
    wait_played(o);

    size_t n, at, period = RATE / 100;
    int16_t *got = wait_in_file(e->out, a, 8, period + FADE + RATE / 2, &n, &at);
    /* The buffer played before the key, untouched; then 5 ms of the rest of A ramping down
     * exactly as ring.h says; then B at once, whole; then nothing. */
    assert_memory_equal(got + at, a, period * sizeof(*a));
    for (size_t i = 0; i < FADE; i++) {
        int16_t want = (int16_t)((int32_t)a[period + i] * (FADE - 1 - (int32_t)i) / FADE);
        if (got[at + period + i] != want)
            fail_msg("fade frame %zu is %d, expected %d", i, got[at + period + i], want);
    }
    assert_int_equal(got[at + period + FADE - 1], 0);
    assert_memory_equal(got + at + period + FADE, b, (RATE / 2) * sizeof(*b));
    for (size_t i = at + period + FADE + RATE / 2; i < n; i++)
        if (got[i] != 0)
            fail_msg("old audio after the cut: frame %zu is %d", i, got[i]);
    /* Consumed: all of A (played or dropped) and all of B. */
    assert_int_equal(tt_out_played(o), RATE + RATE / 2);
    free(got);
    free(a);
    free(b);
    close_out(e);
    tt_diag_free(d);
}

static void an_idle_output_counts_no_underruns(void **state)
{
    struct env *e = *state;
    use_conf(e, CONF_FILE);
    tt_diag *d = tt_diag_new();
    struct tt_out_opts opts = {.rate = RATE, .ring_ms = 500};
    struct tt_out *o = open_ok(e, &opts, d);
    sleep_ms(30); /* thousands of empty callbacks at the file plugin's speed */
    assert_int_equal(tt_out_underruns(o), 0);

    /* Unmarked, the end of a burst is one short callback after one with audio: counted once. */
    int16_t *sig = make_signal(1600, 440, 4000);
    write_all(o, sig, 1600);
    wait_played(o);
    sleep_ms(10);
    assert_int_equal(tt_out_underruns(o), 1);

    /* Marked as playing, every empty callback is an underrun; marked idle, none is. */
    tt_out_set_playing(o, true);
    sleep_ms(10);
    uint64_t u = tt_out_underruns(o);
    assert_true(u > 1);
    tt_out_set_playing(o, false);
    sleep_ms(2);
    u = tt_out_underruns(o);
    write_all(o, sig, 1600);
    wait_played(o);
    sleep_ms(10);
    assert_int_equal(tt_out_underruns(o), u);
    free(sig);
    close_out(e);
    tt_diag_free(d);
}

static void the_device_list_marks_the_default(void **state)
{
    struct env *e = *state;
    use_conf(e, CONF_FILE);
    tt_diag *d = tt_diag_new();
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(tt_out_list(f, d), 0);
    fclose(f);
    assert_non_null(strstr(text, "default"));
    assert_non_null(strstr(text, "ALSA"));
    assert_non_null(strstr(text, "(default)"));
    assert_non_null(strstr(text, "Hz"));
    free(text);
    tt_diag_free(d);
}

static void devices_are_chosen_by_index_or_part_of_the_name(void **state)
{
    struct env *e = *state;
    use_conf(e, CONF_FILE);
    tt_diag *d = tt_diag_new();
    struct tt_out_opts opts = {.rate = RATE, .device = "DEFA"};
    struct tt_out *o = open_ok(e, &opts, d);
    close_out(e);
    opts.device = "0";
    o = open_ok(e, &opts, d);
    close_out(e);

    tt_diag_clear(d);
    opts.device = "usb headset";
    assert_int_equal(tt_out_open(&o, &opts, d), ENODEV);
    assert_null(o);
    assert_true(diag_has(d, TT_ERROR, "no audio output device matches 'usb headset'"));
    tt_diag_clear(d);
    opts.device = "7";
    assert_int_equal(tt_out_open(&o, &opts, d), ENODEV);
    assert_true(diag_has(d, TT_ERROR, "no audio output device number 7"));
    tt_diag_clear(d);
    opts.device = NULL;
    opts.rate = 10;
    assert_int_equal(tt_out_open(&o, &opts, d), EINVAL);
    assert_null(o);
    tt_diag_free(d);
}

static void a_rate_the_device_refuses_opens_at_its_own_rate_and_says_so(void **state)
{
    struct env *e = *state;
    use_conf(e, CONF_FILE);
    tt_diag *d = tt_diag_new();
    /* ALSA's plugins take any rate up to 384 kHz; 768 kHz is the one they refuse. */
    struct tt_out_opts opts = {.rate = 768000, .ring_ms = 1000};
    struct tt_out *o = open_ok(e, &opts, d);
    int rate = tt_out_rate(o);
    assert_int_not_equal(rate, 768000);
    assert_true(diag_has(d, TT_WARNING, "cannot play at 768000 Hz"));
    /* And audio written at that rate plays exactly. */
    int16_t *sig = make_signal(4000, 440, 4000);
    write_all(o, sig, 4000);
    wait_played(o);
    size_t n, at;
    int16_t *got = wait_in_file(e->out, sig, 8, 4000, &n, &at);
    assert_memory_equal(got + at, sig, 4000 * sizeof(*sig));
    free(got);
    free(sig);
    close_out(e);
    tt_diag_free(d);
}

static void no_device_is_enodev_with_a_plain_message_and_nothing_on_stderr(void **state)
{
    struct env *e = *state;
    if (have_sound_card()) {
        /* PortAudio would list the card's own devices: nothing to check on this machine (not
         * a skip, which the suite counts as a failure: no install step can remove a card) */
        print_message("this machine has a sound card: the no-device case cannot be made\n");
        return;
    }
    use_conf(e, CONF_NO_CARD);
    tt_diag *d = tt_diag_new();
    struct tt_out *o = (void *)1;
    struct tt_out_opts opts = {.rate = RATE};

    /* ALSA and JACK would print their probing failures here: they must stay quiet. */
    char errpath[160];
    snprintf(errpath, sizeof(errpath), "%s/stderr.txt", e->dir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
    double t0 = now_ms();
    int err = tt_out_open(&o, &opts, d);
    int err_list = tt_out_list(stdout, d);
    double took = now_ms() - t0;
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    size_t noise;
    free(read_raw(errpath, &noise));
    unlink(errpath);

    assert_int_equal(err, ENODEV);
    assert_null(o);
    assert_int_equal(err_list, ENODEV);
    assert_true(tt_diag_len(d) >= 1);
    assert_string_equal(tt_diag_get(d, 0)->text, no_device_msg);
    assert_int_equal(tt_diag_get(d, 0)->sev, TT_ERROR);
    assert_int_equal(noise, 0);
    assert_true(took < TIMEOUT_MS);

    /* An ALSA configuration with no devices at all: PortAudio 19.6 would abort the program
     * on it; the output reports it instead. */
    use_conf(e, CONF_EMPTY);
    tt_diag_clear(d);
    assert_int_equal(tt_out_open(&o, &opts, d), ENODEV);
    assert_string_equal(tt_diag_get(d, 0)->text, no_device_msg);
    assert_true(diag_has(d, TT_NOTE, "ALSA"));
    tt_diag_free(d);
}

static void a_device_that_fails_is_lost_and_reopen_brings_it_back(void **state)
{
    struct env *e = *state;
    use_conf(e, CONF_FULL);
    tt_diag *d = tt_diag_new();
    struct tt_out_opts opts = {.rate = RATE, .ring_ms = 2000};

    /* PortAudio's ALSA code prints its own failed checks when writes fail: keep them out of
     * the test log. */
    fflush(stderr);
    int saved = dup(2);
    int fd = open("/dev/null", O_WRONLY);
    dup2(fd, 2);
    close(fd);
    int err = tt_out_open(&e->o, &opts, d);
    struct tt_out *o = e->o;
    double t0 = now_ms();
    while (err == 0 && !tt_out_lost(o) && now_ms() - t0 < TIMEOUT_MS)
        sleep_ms(1);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(err, 0);
    assert_true(tt_out_lost(o));

    /* While it is gone, writes queue up to the ring's size and nothing is consumed. */
    int16_t *sig = make_signal(RATE, 440, 4000);
    int64_t played = tt_out_played(o);
    write_all(o, sig, RATE);

    /* Still no device: reopen says so and the output stays lost. */
    if (!have_sound_card()) {
        use_conf(e, CONF_NO_CARD);
        tt_diag_clear(d);
        assert_int_equal(tt_out_reopen(o, d), ENODEV);
        assert_true(tt_out_lost(o));
        assert_true(diag_has(d, TT_ERROR, no_device_msg));
    }

    /* The device is back: the queued audio plays on the new stream, positions carry on. */
    use_conf(e, CONF_FILE);
    tt_diag_clear(d);
    assert_int_equal(tt_out_reopen(o, d), 0);
    assert_false(tt_out_lost(o));
    wait_played(o);
    assert_int_equal(tt_out_played(o), played + RATE);
    size_t n, at;
    int16_t *got = wait_in_file(e->out, sig, 8, RATE, &n, &at);
    assert_memory_equal(got + at, sig, RATE * sizeof(*sig));
    free(got);
    free(sig);
    close_out(e);
    tt_diag_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_signal_comes_out_byte_exact_at_unity_gain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(standby_stops_the_stream_and_audio_plays_again_after_it,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_new_latency_restarts_the_stream_and_audio_plays_whole_after_it, setup, teardown),
        cmocka_unit_test_setup_teardown(half_gain_halves_every_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(a_gain_above_one_clamps_instead_of_wrapping, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            a_cut_fades_the_queued_audio_in_5_ms_and_the_next_prompt_follows, setup, teardown),
        cmocka_unit_test_setup_teardown(an_idle_output_counts_no_underruns, setup, teardown),
        cmocka_unit_test_setup_teardown(the_device_list_marks_the_default, setup, teardown),
        cmocka_unit_test_setup_teardown(devices_are_chosen_by_index_or_part_of_the_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            a_rate_the_device_refuses_opens_at_its_own_rate_and_says_so, setup, teardown),
        cmocka_unit_test_setup_teardown(
            no_device_is_enodev_with_a_plain_message_and_nothing_on_stderr, setup, teardown),
        cmocka_unit_test_setup_teardown(a_device_that_fails_is_lost_and_reopen_brings_it_back,
                                        setup, teardown),
    };
    return cmocka_run_group_tests_name("audio_out", tests, NULL, NULL);
}
