/*
 * The SIP service (`tonetree sip`) end to end, with a real caller nobody here wrote: baresip
 * 1.0.0 (the Debian package), headless, on loopback only, dials the service, presses keys and
 * records what it heard; the test finds the prompts in that recording by content.
 *
 * Each test gets a private folder and a block of free loopback ports (taken_ports), writes a
 * baresip configuration there (bs_configure: the SIP address, a private RTP range, the codecs
 * the caller offers, an audio source the test wrote, the sndfile module recording both
 * directions), starts `tonetree sip tests/data/sip.ini` on the same loopback, and drives
 * baresip through its ctrl_tcp module: dial, wait for CALL_ESTABLISHED, send keys as RFC 4733
 * events once the recording shows the welcome heard (or mix them as tones into its source),
 * hang up, quit cleanly (so that sndfile finishes its WAV header), then reads dump-*-dec.wav:
 * the service's audio as baresip decoded it, which is what a caller heard.
 *
 * What is asserted, as test_kiosk asserts a real-time path on a busy machine: never
 * sample-exact timing, always order, presence and absence, and bounds.
 *  - Which prompt was heard, and in which order: 40 ms pieces of the clips (made here through
 *    the same store and the same disk cache as the service's, at the codec's rate) matched in
 *    the recording by normalized correlation. A codec changes the samples a little (see
 *    GAIN_TOL), never enough to make another piece of speech match (MATCH).
 *  - A key cuts the welcome: pieces of the welcome from well after the key (CUT_SLACK_S past
 *    where the key could have fallen at the latest) are nowhere in the recording; the pieces
 *    before it were heard in order; the next page (info) starts after the welcome's start
 *    and soon after the last of it heard (INFO_WITHIN_S).
 *  - How loud: the least-squares gain of the matched pieces against the clip, which is the
 *    default volume's gain, within GAIN_TOL (the codecs' quantization, measured offline in
 *    group_setup through spandsp's G.711 and G.722, the coders baresip uses).
 *  - The recording is of the caller's own decoder, fed packet by packet (it grows as RTP
 *    comes, a jitter buffer's depth behind), so its sample count is audio time, not wall
 *    time: wall time is only used for bounds that a loaded machine can only make looser.
 *  - The service's log line for the call, and what SIGTERM does to a call in progress.
 *
 * Facts about baresip 1.0.0 established here, on Debian 12 (each is relied on below):
 *  - ctrl_tcp speaks netstrings of JSON both ways: `<len>:{"command":"dial","params":"sip:..",
 *    "token":"1"},`. Commands used: dial (params: the URI), sndcode (params: the keys, sent as
 *    RFC 4733 events), hangup (no params: the current call, the latest dialled), quit. Each gets
 *    `{"response":true,"ok":true,"data":"..","token":".."}`. A second connection takes over:
 *    the first is closed.
 *  - Events come on the same connection: CALL_LOCAL_SDP, CALL_RINGING, CALL_REMOTE_SDP,
 *    CALL_ESTABLISHED, CALL_RTPESTAB, CALL_RTCP, CALL_CLOSED (param: "Connection reset by
 *    user" after our hangup, or the final response of a refused INVITE: "488 Not Acceptable
 *    Here", "503 Service Unavailable"), SHUTDOWN and EXIT after quit. Call events carry "id",
 *    the SIP Call-ID baresip used (the service's log line names it).
 *  - A second dial while a call is up makes a second call; the first is not put on hold.
 *  - audio_codecs= in the account line limits the offer: `audio_codecs=G722/16000/1` offers
 *    G.722 alone (payload 9, "G722/8000") and, whatever it says, telephone-event 101.
 *  - The sndfile module writes dump-<date-time>-enc.wav and -dec.wav into snd_path. The -dec
 *    file is at the decoder's rate (16000 Hz for G.722 even with auplay_srate 8000: baresip
 *    resamples after it), is written through as each packet is decoded, a jitter buffer
 *    (jitter_buffer_delay, 5-10 packets) behind the network, and gets the lengths in its
 *    header only at the end. quit, SIGTERM and -t all finish the header; after SIGKILL it
 *    says RIFF length 8, data length 0. The names go to the second: two calls begun in one
 *    second would share a file.
 *  - baresip decodes only with a player open: with none (no audio_player, and ALSA with no
 *    card) the call goes on and the -dec file stays empty. `audio_player alsa,null` works but
 *    spins a core (see bs_configure); `aubridge,NAME` works and idles.
 *  - The aufile source (16-bit mono at ausrc_srate; the codec's rate may differ: baresip
 *    resamples to it, as "enable ausrc resampler" says on its output) is read whole when media
 *    starts and played in real time from its first sample, which is about
 *    CALL_ESTABLISHED: a tone mixed into it at T reaches the far end about T after the answer.
 *  - With stdin on /dev/null the stdio module fails to load (it is left out). baresip binds
 *    SIP on UDP and TCP at its port and TLS at port + 1 (shared/recipes/sip.md).
 *
 * Every child (tonetree, baresip) is stopped by its pid and every wait is bounded, so a test
 * fails instead of hanging; baresip also has -t as a backstop, and both get SIGTERM should the
 * test process die. The whole file takes about 65 s on an idle machine, nearly all of it the
 * calls' own real time (the service says two prompts, about 6 s, before the welcome) and the
 * 2 s the service waits for its SIP transactions when it stops; under 10 s of it is CPU.
 * TONETREE=path runs another build of the command; TT_SIP_KEEP=1
 * keeps each test's folder (recordings, logs, configurations) and prints its name.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <spandsp.h>

#include "core/menu.h"
#include "dsp/dtmf.h"
#include "proclib.h"
#include "siplib.h"
#include "testlib.h"

#define MENU "tests/data/sip.ini"
/* The disk cache of the prompts, shared by every SIP test and kept between runs (the words are
 * the same): the service prepares every prompt at every speed at both rates when it starts, a
 * minute on a loaded machine when nothing is cached, under a second when all is. */
#define CACHE "build/sip-test-cache"

/* A piece of a clip, followed through a playing of it (as test_kiosk): 40 ms, short enough that
 * most pieces fall between whatever a loaded machine breaks. */
#define PIECE_MS 40
/* A passage, looked for anywhere: 200 ms of speech spans several sounds, and no two such
 * stretches of these clips are alike. */
#define PASSAGE_MS 200
/* Normalized correlation at which a piece of the recording is that piece of the clip. Through
 * G.711 the same samples correlate at 0.999 and more, through G.722 at 0.99 and more (printed
 * by group_setup); another piece of speech stays well under 0.9. */
#define MATCH 0.9
/* How far the level heard may be from the default volume's gain. What the codecs alone do to
 * the gain measured on matched pieces is printed by group_setup on every run: G.711 +0.11%
 * (its quantizer rounds to the middle of each step, so its error barely biases the gain) and
 * G.722 -0.03% (its band-splitting filters pass speech at unity); through the service and
 * baresip, the levels measured were within 0.2% in every run. 1% leaves five times that, and
 * is a fortieth of a volume step (3 dB, 41%) and a twelfth of 1 dB (12%): a service at the
 * wrong volume level, or that normalized its prompts' loudness, cannot pass. */
#define GAIN_TOL 0.01

/*
 * When the key is sent: once the recording shows this much of the welcome heard. The service
 * first says how to leave and offers the other language (about 6 s), so a key sent at a fixed
 * time after the answer would not fall in the welcome; the recording grows as baresip decodes
 * (see the top), so the test watches it during the call and presses the key once the welcome
 * has been heard this far (watch_heard).
 */
#define KEY_INTO_S 1.5
/*
 * From where on nothing of the welcome may be heard: KEY_INTO_S plus what a busy machine puts
 * between the key and the cut as heard. The recording is baresip's jitter buffer (100-200 ms)
 * behind what the service sent, so the service was that much further into the welcome when the
 * key went; then the key's way through baresip (its next packet time, 20 ms), through the
 * service to the cut (its next packet, 20 ms), what was in flight, and each process woken late
 * behind stress-ng (tens to a few hundred ms). 1.0 s covers that with room; a key that is
 * ignored leaves the whole rest of the welcome (7 s) to be found.
 */
#define CUT_SLACK_S 1.0
/* The welcome up to this long before the key's place in it must have been heard, in order:
 * where a tone in baresip's source falls in the recording is known to within this (the source
 * and the service's audio both start with the call, a few tens of ms apart). */
#define HEARD_BEFORE_S 0.5
/* After the key the call goes on until the recording holds the next page's first
 * INFO_FOLLOW_S; against a service that does not move on (the control test), AFTER_KEY_S. */
#define INFO_FOLLOW_S 1.5
#define AFTER_KEY_S 3.5
/* The next page starts at most this long (in the recording's own audio time) after the last
 * of the welcome heard: the pause the session makes between pages (0.4 s) and the cut's
 * latency. An engine that only moved on at the welcome's end would be 7 s and more. */
#define INFO_WITHIN_S 2.5

/* ---- shared by every test: the prompts, prepared once, and the clips looked for ---- */

/* A clip the service plays, as the store made it (at unity gain), and where its speech is. */
struct ref {
    const char *what;  /* "the English welcome", for messages */
    int16_t *pcm;
    size_t n;
    int rate;
    size_t piece_len, passage_len;
    size_t a;          /* its first clearly audible sample */
    size_t *piece;     /* the start of each piece with speech in it (pauses match anything) */
    size_t npiece;
};

enum { EN, ES, NLANG };
enum { R8K, R16K, NRATE };

static struct {
    tt_menu *m;
    tt_phrases *ph[8];
    tt_store *store[NRATE];
    struct ref welcome[NLANG][NRATE], info[NLANG][NRATE];
    unsigned next_block;  /* taken_ports goes on from here */
} G;

static const int rates[NRATE] = {8000, 16000};
static const char *const langs[NLANG] = {"en", "es"};
static const char *const lang_names[NLANG] = {"English", "Spanish"};

static double now_s(void)
{
    return tl_now();
}

/* A copy of a clip, and its pieces of speech: those louder than a quarter of the clip's rms. */
static void make_ref(struct ref *r, const struct tt_clip *c, int rate, const char *what)
{
    r->what = what;
    r->rate = rate;
    r->piece_len = (size_t)rate * PIECE_MS / 1000;
    r->passage_len = (size_t)rate * PASSAGE_MS / 1000;
    r->n = c->frames;
    r->pcm = malloc(r->n * sizeof(*r->pcm));
    assert_non_null(r->pcm);
    memcpy(r->pcm, c->pcm, r->n * sizeof(*r->pcm));
    r->a = 0;
    while (r->a < r->n && abs(r->pcm[r->a]) < 100)
        r->a++;
    double whole = tl_rms(r->pcm, 0, r->n);
    r->piece = calloc(r->n / r->piece_len + 1, sizeof(*r->piece));
    assert_non_null(r->piece);
    r->npiece = 0;
    for (size_t p = r->a; p + r->piece_len <= r->n; p += r->piece_len)
        if (tl_rms(r->pcm, p, p + r->piece_len) > whole / 4)
            r->piece[r->npiece++] = p;
    assert_true(r->npiece > 10);
}

static void free_ref(struct ref *r)
{
    free(r->pcm);
    free(r->piece);
}

/* The words of a node in a language, as the session says them (the menu file is the truth). */
static const char *node_text(const char *id, int lang)
{
    int node = tt_menu_find(G.m, id);
    assert_true(node >= 0);
    const char *t = G.m->nodes[node].text[lang];
    assert_non_null(t);
    return t;
}

/* ---- the codecs' own effect, measured offline on the clips (what GAIN_TOL allows for) ---- */

/*
 * The share of a stretch's energy above 4.4 kHz (x at 16 kHz): what only a wideband path
 * carries. A 63-tap windowed-sinc high-pass (cut at 4.4 kHz, Hamming window: the stopband is
 * down 50 dB by 3.8 kHz), so that narrowband audio sent at 8 kHz and resampled, whose band
 * ends by 4 kHz, shows almost none.
 */
#define HB_TAPS 63
static double high_share(const int16_t *x, size_t n)
{
    double h[HB_TAPS], fc = 4400.0 / 16000.0;
    const int mid = HB_TAPS / 2;
    for (int k = 0; k < HB_TAPS; k++) {
        double t = k - mid, w = 0.54 - 0.46 * cos(2 * M_PI * k / (HB_TAPS - 1));
        double lp = t == 0 ? 2 * fc : sin(2 * M_PI * fc * t) / (M_PI * t);
        h[k] = -lp * w;
    }
    h[mid] += 1.0;
    double all = 0, high = 0;
    for (size_t i = HB_TAPS; i < n; i++) {
        double y = 0;
        for (int k = 0; k < HB_TAPS; k++)
            y += h[k] * x[i - (size_t)k];
        high += y * y;
        all += (double)x[i - mid] * x[i - mid];
    }
    return all > 0 ? high / all : 0;
}

/* Gain (least squares) and correlation of y against x over [from, to), y lagging by lag. */
static void gain_corr(const int16_t *x, const int16_t *y, size_t from, size_t to, size_t lag,
                      double *gain, double *corr)
{
    double xy = 0, xx = 0, yy = 0;
    for (size_t i = from; i < to; i++) {
        double a = x[i], b = y[i + lag];
        xy += a * b;
        xx += a * a;
        yy += b * b;
    }
    *gain = xx > 0 ? xy / xx : 0;
    *corr = xx > 0 && yy > 0 ? xy / sqrt(xx * yy) : 0;
}

/* The clip at the default volume through G.711 mu-law, or G.722 at 64 kbit/s (spandsp's, the
 * coders baresip's g711 and g722 modules use), back to linear: what each codec alone does to
 * the level and the shape of the speech. */
static void codec_effect(const struct ref *r, bool g722, double *gain, double *corr,
                         double *high)
{
    double g = tt_volume_gain(TT_VOLUME_DEFAULT);
    int16_t *x = malloc(r->n * sizeof(*x)), *y = calloc(r->n + 64, sizeof(*y));
    uint8_t *code = malloc(r->n);
    assert_true(x && y && code);
    for (size_t i = 0; i < r->n; i++)
        x[i] = (int16_t)lrint(r->pcm[i] * g);
    size_t lag = 0;
    if (g722) {
        g722_encode_state_t *e = g722_encode_init(NULL, 64000, 0);
        g722_decode_state_t *d = g722_decode_init(NULL, 64000, 0);
        assert_true(e && d);
        int nb = g722_encode(e, code, x, (int)r->n);
        (void)g722_decode(d, y, code, nb);
        g722_encode_free(e);
        g722_decode_free(d);
        /* the two QMF banks delay the signal by 22 samples: align on the best */
        double best = -1;
        for (size_t l = 0; l < 64; l++) {
            double gg, cc;
            gain_corr(x, y, r->a, r->n - 64, l, &gg, &cc);
            if (cc > best)
                best = cc, lag = l;
        }
    } else {
        for (size_t i = 0; i < r->n; i++)
            y[i] = ulaw_to_linear(linear_to_ulaw(x[i]));
    }
    gain_corr(x, y, r->a, r->n - 64, lag, gain, corr);
    *high = g722 ? high_share(y, r->n) / high_share(x, r->n) : 0;
    free(x);
    free(y);
    free(code);
}

/* Prepare the menu's prompts at both codec rates, at every speed as the service does, into the
 * cache it then reads: it starts warm, and the clips looked for are the very ones it sends. */
static int group_setup(void **state)
{
    (void)state;
    double t0 = now_s();
    G.next_block = 0;
    tt_diag *d = tt_diag_new();
    int err = tt_menu_load(&G.m, MENU, d);
    if (!err)
        err = tt_phrases_load_all(G.m, NULL, G.ph, d);
    for (int r = 0; r < NRATE && !err; r++) {
        struct tt_store_opts so = {.rate = rates[r], .prompts_dir = tt_menu_prompts_dir(G.m),
                                   .cache_dir = CACHE};
        err = tt_store_new(&G.store[r], &so, d);
        if (!err)
            err = tt_store_prepare_every_speed(G.store[r], G.m, G.ph, NULL, NULL);
    }
    static char names[NLANG][NRATE][2][64];
    for (int l = 0; l < NLANG && !err; l++) {
        int li = tt_menu_lang_index(G.m, langs[l]);
        assert_true(li >= 0);
        const char *voice = tt_menu_voice(G.m, (size_t)li);
        for (int r = 0; r < NRATE && !err; r++) {
            const struct tt_clip *w = NULL, *i = NULL;
            err = tt_store_get(G.store[r], langs[l], voice, "main", node_text("main", li), 100,
                               &w);
            if (!err)
                err = tt_store_get(G.store[r], langs[l], voice, "info", node_text("info", li),
                                   100, &i);
            if (err)
                break;
            snprintf(names[l][r][0], 64, "the %s welcome at %d Hz", lang_names[l], rates[r]);
            snprintf(names[l][r][1], 64, "the %s info page at %d Hz", lang_names[l], rates[r]);
            make_ref(&G.welcome[l][r], w, rates[r], names[l][r][0]);
            make_ref(&G.info[l][r], i, rates[r], names[l][r][1]);
            tt_store_release(G.store[r], w);
            tt_store_release(G.store[r], i);
        }
    }
    if (err) {
        tt_diag_print(d, stderr);
        tt_diag_free(d);
        return -1;
    }
    tt_diag_free(d);
    print_message("prompts prepared in %.1f s\n", now_s() - t0);
    print_message("clips: the welcome %.2f s (en) and %.2f s (es), the info page %.2f s (en) "
                  "and %.2f s (es)\n", (double)G.welcome[EN][R8K].n / 8000,
                  (double)G.welcome[ES][R8K].n / 8000, (double)G.info[EN][R8K].n / 8000,
                  (double)G.info[ES][R8K].n / 8000);
    double g, c, hi;
    codec_effect(&G.welcome[EN][R8K], false, &g, &c, &hi);
    print_message("codecs alone, on the welcome at the default volume: G.711 (English) gain "
                  "%.4f corr %.5f;", g, c);
    codec_effect(&G.welcome[ES][R16K], true, &g, &c, &hi);
    print_message(" G.722 (Spanish) gain %.4f corr %.5f, and %.2f of the energy above 4.4 kHz "
                  "kept (%.2f%% of the clip's energy is there)\n", g, c, hi,
                  100 * high_share(G.welcome[ES][R16K].pcm, G.welcome[ES][R16K].n));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int l = 0; l < NLANG; l++)
        for (int r = 0; r < NRATE; r++)
            if (G.welcome[l][r].pcm) {
                free_ref(&G.welcome[l][r]);
                free_ref(&G.info[l][r]);
            }
    for (int r = 0; r < NRATE; r++)
        tt_store_free(G.store[r]);
    tt_phrases_free_all(G.m, G.ph);
    tt_menu_free(G.m);
    return 0;
}

/* ---- ports: a block of free loopback ports for each test ---- */

/*
 * One test's ports, in a block of BLOCK. baresip binds SIP on UDP and TCP at its port and TLS
 * at port + 1, so no two SIP ports here are adjacent; the service's own SIP port is not here:
 * it asks for port 0 and says which it got.
 *   +4 baresip 1 SIP (+5 its TLS)   +8 baresip 1 ctrl_tcp
 *   +12 baresip 2 SIP (+13)         +16 baresip 2 ctrl_tcp
 *   +20..+39 tonetree RTP           +40..+49 baresip 1 RTP          +50..+59 baresip 2 RTP
 */
#define BLOCK 64
#define PORT_LO 16384  /* under Linux's ephemeral range (32768 on), where connections land */
#define PORT_HI 32768

struct ports {
    int tt_rtp_lo, tt_rtp_hi;
    int bs_sip[2], bs_ctrl[2], bs_rtp_lo[2], bs_rtp_hi[2];
};

/* Whether a port is free on 127.0.0.1 for both UDP and TCP. */
static bool port_free(int port)
{
    const int types[] = {SOCK_DGRAM, SOCK_STREAM};
    for (int t = 0; t < 2; t++) {
        int s = socket(AF_INET, types[t] | SOCK_CLOEXEC, 0);
        assert_true(s >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int one = 1;
        if (types[t] == SOCK_STREAM)
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        int rc = bind(s, (struct sockaddr *)&a, sizeof(a));
        close(s);
        if (rc != 0)
            return false;
    }
    return true;
}

/* The next block whose every port is free, from a place the pid chooses (so that two runs
 * of the suite at once start apart) and moving on for each test (so that no test meets the
 * sockets of the one before it still closing). */
static struct ports taken_ports(void)
{
    unsigned nblocks = (PORT_HI - PORT_LO) / BLOCK;
    unsigned first = ((unsigned)getpid() * 37u + G.next_block) % nblocks;
    for (unsigned k = 0; k < nblocks; k++) {
        int base = PORT_LO + (int)((first + k) % nblocks) * BLOCK;
        bool ok = true;
        for (int p = base; ok && p < base + BLOCK; p++)
            ok = port_free(p);
        if (!ok)
            continue;
        G.next_block += k + 1;
        struct ports pt = {.tt_rtp_lo = base + 20, .tt_rtp_hi = base + 39};
        for (int b = 0; b < 2; b++) {
            pt.bs_sip[b] = base + 4 + 8 * b;
            pt.bs_ctrl[b] = base + 8 + 8 * b;
            pt.bs_rtp_lo[b] = base + 40 + 10 * b;
            pt.bs_rtp_hi[b] = base + 49 + 10 * b;
        }
        return pt;
    }
    fail_msg("no block of %d free loopback ports between %d and %d", BLOCK, PORT_LO, PORT_HI);
    return (struct ports){0};
}

/* ---- children: started by fork/exec, always stopped by pid ---- */

/* The program's path, looked up in PATH (before fork: the child only execs). */
static bool find_program(const char *prog, char *buf, size_t size)
{
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        snprintf(buf, size, "%.*s/%s", (int)n, p, prog);
        if (access(buf, X_OK) == 0)
            return true;
        p += n + (end ? 1 : 0);
    }
    return false;
}

/* Wait up to secs for pid to end; true (and *status) when it did. */
static bool wait_bounded(pid_t pid, double secs, int *status)
{
    double until = now_s() + secs;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return true;
        if (r < 0 || now_s() >= until)
            return false;
        tl_sleep(0.005);
    }
}

/* SIGTERM, a bounded wait, then SIGKILL: a child never outlives its test. */
static int stop_child(pid_t *pid)
{
    int status = -1;
    if (*pid <= 0)
        return status;
    kill(*pid, SIGTERM);
    if (!wait_bounded(*pid, 5.0, &status)) {
        kill(*pid, SIGKILL);
        waitpid(*pid, &status, 0);
    }
    *pid = 0;
    return status;
}

/* A wait status in words: "exit status 3", "signal 15". */
static const char *status_text(int status, char *buf, size_t size)
{
    if (WIFEXITED(status))
        snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
    else
        snprintf(buf, size, "signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    return buf;
}

extern char **environ;

/* environ less the variables `set` names, plus `set` ("NAME=value", NULL-terminated). */
static char **make_env(const char *const *set)
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    for (const char *const *v = set; *v; v++)
        n++;
    char **env = calloc(n + 1, sizeof(*env));
    assert_non_null(env);
    for (char **e = environ; *e; e++) {
        bool replaced = false;
        for (const char *const *v = set; *v; v++) {
            size_t name = (size_t)(strchr(*v, '=') - *v) + 1;
            replaced |= strncmp(*e, *v, name) == 0;
        }
        if (!replaced)
            env[k++] = *e;
    }
    for (const char *const *v = set; *v; v++)
        env[k++] = (char *)*v;
    return env;
}

/*
 * fork + exec: stdin from /dev/null, stdout and stderr to the file out (created 0600), the
 * environment env. The child is sent SIGTERM should this process die first (a test killed by
 * run-suite's time limit), so that neither tonetree nor baresip outlives the test. Everything
 * is made before fork: the child only makes async-signal-safe calls.
 */
static pid_t spawn(const char *prog, char *const argv[], char **env, const char *out)
{
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0 && devnull >= 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
            _exit(126);
        dup2(devnull, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execve(prog, argv, env);
        _exit(127);
    }
    close(fd);
    close(devnull);
    return pid;
}

/* ---- baresip: configuration, process, ctrl_tcp ---- */

#define MAX_EVENTS 512
/* Paths: a test's folder (DIR_LEN at most) and the files in it. */
#define DIR_LEN 512
#define PATH_LEN 1024

struct bs_event {
    char type[40];   /* CALL_ESTABLISHED ..., or RESPONSE */
    char id[80];     /* the call's id (its SIP Call-ID), when it has one */
    char param[160]; /* the reason, the peer, or (RESPONSE) "ok" / "error: data" */
    double t;        /* when it was read */
};

struct bs {
    int sip, ctrl, rtp_lo, rtp_hi;
    char dir[PATH_LEN], rec[PATH_LEN], out[PATH_LEN];
    pid_t pid;
    int ctl;                     /* the ctrl_tcp connection, or -1 */
    char buf[1 << 16];
    size_t nbuf;
    struct bs_event ev[MAX_EVENTS];
    size_t nev;
    unsigned token;
};

/* What the caller offers and sends. */
struct bs_opts {
    const char *codecs;   /* account audio_codecs=, e.g. "PCMU/8000/1" */
    int rate;             /* ausrc_srate and auplay_srate: the source WAV's rate */
    const char *source;   /* the WAV it sends */
    bool answer;          /* answer calls (answermode=auto): the control test's fake service */
};

/* The caller's account name: a phone number of the kind the log must never show. */
#define CALLER_USER "caller5550123"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/*
 * A private configuration folder: SIP and media on 127.0.0.1 only (net_interface takes the
 * address; the name "lo" fails), no DNS but a dead local address (never the system's), no
 * sound card, the codecs asked for, the recording of both directions, and ctrl_tcp to drive
 * it. The source is a file (aufile). The player is an aubridge device that no source reads:
 * baresip needs a player to decode at all (with none that opens, the recording stays empty),
 * and ALSA's null device, the usual choice, takes samples as fast as they come, so that
 * baresip's player thread spins a whole core for the length of each call: on a 2-core machine
 * that is half of it taken from the service under test. aubridge's player costs nothing.
 * The stdio module is left out: with stdin on /dev/null it fails to load.
 */
static void bs_configure(struct bs *b, const char *dir, int sip, int ctrl, int rtp_lo,
                         int rtp_hi, const struct bs_opts *o)
{
    memset(b, 0, sizeof(*b));
    b->ctl = -1;
    b->sip = sip;
    b->ctrl = ctrl;
    b->rtp_lo = rtp_lo;
    b->rtp_hi = rtp_hi;
    snprintf(b->dir, sizeof(b->dir), "%s", dir);
    snprintf(b->rec, sizeof(b->rec), "%s/rec", dir);
    snprintf(b->out, sizeof(b->out), "%s/baresip.out", dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(mkdir(b->rec, 0700), 0);
    char text[4096], path[PATH_LEN];
    snprintf(text, sizeof(text),
             "poll_method\t\tepoll\n"
             "sip_listen\t\t127.0.0.1:%d\n"
             "net_interface\t\t127.0.0.1\n"
             "dns_server\t\t127.0.0.1:53\n"
             "call_local_timeout\t20\n"
             "call_max_calls\t\t4\n"
             "audio_player\t\taubridge,heard\n"
             "audio_alert\t\taubridge,alert\n"
             "audio_source\t\taufile,%s\n"
             "ausrc_srate\t\t%d\n"
             "auplay_srate\t\t%d\n"
             "ausrc_channels\t\t1\n"
             "auplay_channels\t\t1\n"
             "rtp_ports\t\t%d-%d\n"
             "jitter_buffer_delay\t5-10\n"
             "module_path\t\t/usr/lib/baresip/modules\n"
             "module\t\t\tg711.so\n"
             "module\t\t\tg722.so\n"
             "module\t\t\tsndfile.so\n"
             "module\t\t\taufile.so\n"
             "module\t\t\taubridge.so\n"
             "module_tmp\t\tuuid.so\n"
             "module_tmp\t\taccount.so\n"
             "module_app\t\tmenu.so\n"
             "module_app\t\tctrl_tcp.so\n"
             "ctrl_tcp_listen\t\t127.0.0.1:%d\n"
             "snd_path\t\t%s\n",
             sip, o->source, o->rate, o->rate, rtp_lo, rtp_hi, ctrl, b->rec);
    snprintf(path, sizeof(path), "%s/config", dir);
    write_text(path, text);
    snprintf(text, sizeof(text), "<sip:%s@127.0.0.1:%d>;regint=0;answermode=%s;audio_codecs=%s\n",
             o->answer ? "ivr" : CALLER_USER, sip, o->answer ? "auto" : "manual", o->codecs);
    snprintf(path, sizeof(path), "%s/accounts", dir);
    write_text(path, text);
}

/* How long baresip may live at most (-t), whatever becomes of the test: a backstop only,
 * each test stops it by its pid long before. */
#define BS_LIFE_S "90"

static void bs_start(struct bs *b)
{
    char prog[1024];
    if (!find_program("baresip", prog, sizeof(prog)))
        fail_msg("baresip is not installed: scripts/deps.sh installs it (baresip)");
    char *argv[] = {"baresip", "-4", "-f", b->dir, "-t", BS_LIFE_S, NULL};
    char home[PATH_LEN + 8];
    snprintf(home, sizeof(home), "HOME=%s", b->dir);
    const char *set[] = {home, NULL};
    char **env = make_env(set);
    b->pid = spawn(prog, argv, env, b->out);
    free(env);
    /* ctrl_tcp listens once baresip is up: about 50 ms here, bounded at 10 s */
    double until = now_s() + 10.0;
    for (;;) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)b->ctrl)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
            b->ctl = s;
            return;
        }
        close(s);
        int status;
        if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
            b->pid = 0;
            char *log = tl_slurp(b->out);
            fail_msg("baresip ended as it started; its output:\n%s", log);
        }
        if (now_s() > until) {
            char *log = tl_slurp(b->out);
            fail_msg("baresip's ctrl_tcp did not listen on %d within 10 s; its output:\n%s",
                     b->ctrl, log);
        }
        tl_sleep(0.02);
    }
}

/* The text after `prefix` in s up to the first character of `end`, into out ("" when prefix
 * is not there). A backslash takes the next character as it is: JSON's escapes read
 * literally, enough for what baresip sends here. */
static void value_after(const char *s, const char *prefix, const char *end, char *out,
                        size_t size)
{
    out[0] = '\0';
    const char *p = strstr(s, prefix);
    if (!p)
        return;
    p += strlen(prefix);
    size_t n = 0;
    for (; *p && !strchr(end, *p) && n + 1 < size; p++) {
        if (*p == '\\' && p[1])
            p++;
        out[n++] = *p;
    }
    out[n] = '\0';
}

/* The string value of "key" in a JSON object. */
static void json_str(const char *j, const char *key, char *out, size_t size)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    value_after(j, pat, "\"", out, size);
}

/* One message from baresip (the JSON of a netstring). */
static void bs_take(struct bs *b, const char *msg, double t)
{
    if (b->nev == MAX_EVENTS)
        fail_msg("more than %d messages from baresip", MAX_EVENTS);
    struct bs_event *e = &b->ev[b->nev++];
    memset(e, 0, sizeof(*e));
    e->t = t;
    if (strstr(msg, "\"response\":true")) {
        snprintf(e->type, sizeof(e->type), "RESPONSE");
        char data[120];
        json_str(msg, "data", data, sizeof(data));
        if (strstr(msg, "\"ok\":true"))
            snprintf(e->param, sizeof(e->param), "ok");
        else
            snprintf(e->param, sizeof(e->param), "error: %s", data);
        return;
    }
    json_str(msg, "type", e->type, sizeof(e->type));
    json_str(msg, "id", e->id, sizeof(e->id));
    json_str(msg, "param", e->param, sizeof(e->param));
}

/* Read what baresip sends until `until` (monotonic seconds), stamping each message. */
static void bs_pump(struct bs *b, double until)
{
    for (;;) {
        double t = now_s();
        if (t >= until || b->ctl < 0)
            return;
        int ms = (int)((until - t) * 1000.0);
        struct pollfd p = {.fd = b->ctl, .events = POLLIN};
        int r = poll(&p, 1, ms < 5 ? ms : 5);
        if (r <= 0 || !(p.revents & (POLLIN | POLLHUP)))
            continue;
        ssize_t got = read(b->ctl, b->buf + b->nbuf, sizeof(b->buf) - 1 - b->nbuf);
        if (got <= 0) {
            close(b->ctl);
            b->ctl = -1;
            return;
        }
        b->nbuf += (size_t)got;
        t = now_s();
        /* netstrings: <length>:<bytes>, */
        for (;;) {
            char *colon = memchr(b->buf, ':', b->nbuf);
            if (!colon)
                break;
            size_t len = strtoul(b->buf, NULL, 10), head = (size_t)(colon - b->buf) + 1;
            if (b->nbuf < head + len + 1)
                break;
            char msg[8192];
            snprintf(msg, sizeof(msg), "%.*s", (int)len, colon + 1);
            bs_take(b, msg, t);
            memmove(b->buf, b->buf + head + len + 1, b->nbuf - head - len - 1);
            b->nbuf -= head + len + 1;
        }
        if (b->nbuf == sizeof(b->buf) - 1)
            fail_msg("a message from baresip longer than %zu bytes", sizeof(b->buf));
    }
}

/* Send a command (params may be NULL); returns when it went. */
static double bs_cmd(struct bs *b, const char *command, const char *params)
{
    char json[512], ns[600];
    b->token++;
    if (params)
        snprintf(json, sizeof(json), "{\"command\":\"%s\",\"params\":\"%s\",\"token\":\"%u\"}",
                 command, params, b->token);
    else
        snprintf(json, sizeof(json), "{\"command\":\"%s\",\"token\":\"%u\"}", command, b->token);
    int n = snprintf(ns, sizeof(ns), "%zu:%s,", strlen(json), json);
    assert_true(b->ctl >= 0);
    double t = now_s();
    assert_int_equal(write(b->ctl, ns, (size_t)n), n);
    return t;
}

static void bs_dump(const struct bs *b)
{
    for (size_t i = 0; i < b->nev; i++)
        fprintf(stderr, "    | %8.3f %-18s %s %s\n", b->ev[i].t, b->ev[i].type, b->ev[i].id,
                b->ev[i].param);
}

/* The first event of `type` from index `from` on (and for call `id`, when given), waiting up
 * to secs for it; fails the test, showing what came, when it does not. */
static size_t bs_wait(struct bs *b, size_t from, const char *type, const char *id, double secs)
{
    double until = now_s() + secs;
    for (;;) {
        for (size_t i = from; i < b->nev; i++)
            if (!strcmp(b->ev[i].type, type) && (!id || !strcmp(b->ev[i].id, id)))
                return i;
        if (now_s() >= until || b->ctl < 0)
            break;
        bs_pump(b, now_s() + 0.01);
    }
    bs_dump(b);
    fail_msg("baresip reported no %s within %.1f s", type, secs);
    return 0;
}

/* Dial the service (or any URI); returns the index of CALL_ESTABLISHED. */
static size_t bs_dial(struct bs *b, const char *uri)
{
    size_t from = b->nev;
    bs_cmd(b, "dial", uri);
    return bs_wait(b, from, "CALL_ESTABLISHED", NULL, 10.0);
}

/* Hang up the current call and wait until baresip reports it closed. */
static void bs_hangup(struct bs *b, const char *id)
{
    size_t from = b->nev;
    bs_cmd(b, "hangup", NULL);
    bs_wait(b, from, "CALL_CLOSED", id, 5.0);
}

/* Quit cleanly (sndfile then finishes its WAV headers); SIGTERM, also clean, if it lingers. */
static void bs_quit(struct bs *b)
{
    if (b->pid <= 0)
        return;
    if (b->ctl >= 0) {
        bs_cmd(b, "quit", NULL);
        bs_pump(b, now_s() + 0.05);
    }
    int status;
    if (wait_bounded(b->pid, 5.0, &status))
        b->pid = 0;
    else
        stop_child(&b->pid);
    if (b->ctl >= 0)
        close(b->ctl);
    b->ctl = -1;
}

/* The recording of what baresip decoded (its one call's dump-*-dec.wav). */
struct cap {
    int16_t *pcm;
    size_t n;
    int rate;
};

/* The path of the newest recording of what baresip decoded (dump-<date-time>-dec.wav, so the
 * newest sorts last); returns how many there are. */
static int rec_path(const struct bs *b, char *path, size_t size)
{
    DIR *d = opendir(b->rec);
    assert_non_null(d);
    int found = 0;
    char last[256] = "";
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l > 8 && !strcmp(e->d_name + l - 8, "-dec.wav")) {
            if (strcmp(e->d_name, last) > 0)
                snprintf(last, sizeof(last), "%s", e->d_name);
            found++;
        }
    }
    closedir(d);
    snprintf(path, size, "%s/%s", b->rec, last);
    return found;
}

/* The recording once baresip has quit (its header finished): it must be the only one. */
static struct cap bs_recording(const struct bs *b)
{
    char path[PATH_LEN + 256];
    int found = rec_path(b, path, sizeof(path));
    if (found != 1) {
        char *log = tl_slurp(b->out);
        fail_msg("%d recordings of what baresip heard in %s, want 1; its output:\n%s", found,
                 b->rec, log);
    }
    struct cap c = {0};
    c.pcm = tl_read_wav(path, &c.n, &c.rate);
    return c;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * The recording so far, while baresip writes it: libsndfile writes each decoded packet
 * through, and fills in the lengths in the header only at the end, so the samples are taken
 * from the data chunk's start to the end of the file (a last odd byte left out). False while
 * there is no recording yet (media has not started).
 */
static bool rec_peek(const struct bs *b, struct cap *c)
{
    char path[PATH_LEN + 256];
    if (rec_path(b, path, sizeof(path)) < 1)
        return false;
    size_t n;
    unsigned char *w = (unsigned char *)tl_read_file(path, &n);
    bool ok = false;
    if (n >= 12 && !memcmp(w, "RIFF", 4) && !memcmp(w + 8, "WAVE", 4)) {
        int rate = 0;
        for (size_t at = 12; at + 8 <= n;) {
            uint32_t len = le32(w + at + 4);
            if (!memcmp(w + at, "fmt ", 4) && at + 16 <= n) {
                rate = (int)le32(w + at + 12);
            } else if (!memcmp(w + at, "data", 4)) {
                size_t k = (n - at - 8) / 2;
                free(c->pcm);
                c->pcm = malloc((k + 1) * sizeof(*c->pcm));
                assert_non_null(c->pcm);
                memcpy(c->pcm, w + at + 8, k * 2); /* little-endian, as this machine */
                c->n = k;
                c->rate = rate;
                ok = rate > 0;
                break;
            }
            at += 8 + len + (len & 1);
        }
    }
    free(w);
    return ok;
}

/* A source for baresip: secs of silence at rate, with DTMF key `key` (0 for none) from
 * key_at_s for key_ms, at -10 dBm0 a tone (well inside Q.24's range, and what phones send). */
static void write_source(const char *path, int rate, double secs, char key, double key_at_s,
                         double key_ms)
{
    size_t n = (size_t)(secs * rate);
    int16_t *pcm = calloc(n, sizeof(*pcm));
    assert_non_null(pcm);
    if (key) {
        size_t at = (size_t)(key_at_s * rate), len = (size_t)(key_ms * rate / 1000.0);
        assert_true(at + len <= n);
        struct tt_dtmf_tone t = {.digit = key, .low_dbm0 = -10, .high_dbm0 = -10};
        assert_int_equal(tt_dtmf_gen(pcm + at, len, rate, &t), 0);
    }
    tl_write_wav(path, pcm, n, rate);
    free(pcm);
}

/* ---- the fixture: a folder, its ports, the service and its callers ---- */

struct fx {
    double t0;                   /* when the test began */
    char *dir;
    struct ports pt;
    char tt_err[PATH_LEN], tt_log[PATH_LEN], source[PATH_LEN];
    char uri[128];               /* the service's address, to dial */
    pid_t tt;
    int tt_port;                 /* its SIP port, as it said */
    bool tt_told;                /* SIGTERM sent */
    struct bs bs[2];
    bool bs_used[2];
    struct cap cap;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    *state = f;
    f->t0 = now_s();
    f->dir = tl_tmpdir();
    f->pt = taken_ports();
    snprintf(f->tt_err, sizeof(f->tt_err), "%s/tonetree.err", f->dir);
    snprintf(f->tt_log, sizeof(f->tt_log), "%s/calls.log", f->dir);
    snprintf(f->source, sizeof(f->source), "%s/source.wav", f->dir);
    f->bs[0].ctl = f->bs[1].ctl = -1;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 2; i++) {
        if (f->bs[i].pid > 0)
            stop_child(&f->bs[i].pid);
        if (f->bs[i].ctl >= 0)
            close(f->bs[i].ctl);
    }
    stop_child(&f->tt);
    free(f->cap.pcm);
    print_message("(%.1f s)\n", now_s() - f->t0);
    if (getenv("TT_SIP_KEEP"))
        print_message("kept %s\n", f->dir);
    else
        tl_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Caller i of the test, configured (not started). */
static struct bs *caller(struct fx *f, int i, const struct bs_opts *o)
{
    char dir[DIR_LEN];
    snprintf(dir, sizeof(dir), "%s/baresip%d", f->dir, i + 1);
    bs_configure(&f->bs[i], dir, f->pt.bs_sip[i], f->pt.bs_ctrl[i], f->pt.bs_rtp_lo[i],
                 f->pt.bs_rtp_hi[i], o);
    f->bs_used[i] = true;
    return &f->bs[i];
}

/* How long a key's tone lasts in the caller's audio: a short press (Q.24 asks a receiver to
 * take 40 ms; phones send 70 ms and more). */
#define TONE_MS 120

/* The test's caller (baresip 1), offering codecs at rate (its source's, too): the source is
 * 40 s of silence, with DTMF key (0: none) from key_at_s for TONE_MS. */
static struct bs *caller_offering(struct fx *f, const char *codecs, int rate, char key,
                                  double key_at_s)
{
    write_source(f->source, rate, 40.0, key, key_at_s, TONE_MS);
    struct bs_opts o = {.codecs = codecs, .rate = rate, .source = f->source};
    return caller(f, 0, &o);
}

/* Start `tonetree sip MENU --listen --rtp-ports --log --cache [extra...]` and wait (bounded)
 * until it says it listens; fails with its stderr if it ends or stays silent instead. */
static void print_service(const struct fx *f)
{
    size_t n;
    char *err = tl_read_file(f->tt_err, &n);
    fprintf(stderr, "    tonetree's stderr:\n%s\n", err);
    free(err);
}

/* How long the service may take to listen: it reads every prompt at every speed at two rates
 * from the cache group_setup filled (under a second; longer beside stress-ng's disk load). */
#define READY_S 60.0

static void tt_start(struct fx *f, const char *const *extra)
{
    const char *bin = getenv("TONETREE");
    bin = bin && *bin ? bin : "build/tonetree";
    if (access(bin, X_OK) != 0)
        fail_msg("%s is missing: build it first (make build/tonetree)", bin);
    char rtp[64];
    snprintf(rtp, sizeof(rtp), "%d-%d", f->pt.tt_rtp_lo, f->pt.tt_rtp_hi);
    /* port 0: the system gives the service a free port, which it says when it listens */
    char *argv[32] = {"tonetree", "sip", MENU, "--listen", "127.0.0.1:0", "--rtp-ports", rtp,
                      "--log", f->tt_log, "--cache", CACHE};
    int n = 11;
    for (; extra && *extra && n < 30; extra++)
        argv[n++] = (char *)*extra;
    argv[n] = NULL;
    /* its own HOME and temporary folders, no sound device, no cache but the test's */
    char home[PATH_LEN + 8], tmp[PATH_LEN + 8], xdg[PATH_LEN + 24];
    snprintf(home, sizeof(home), "HOME=%s", f->dir);
    snprintf(tmp, sizeof(tmp), "TMPDIR=%s", f->dir);
    snprintf(xdg, sizeof(xdg), "XDG_RUNTIME_DIR=%s", f->dir);
    const char *set[] = {home, tmp, xdg, "XDG_CACHE_HOME=", "PULSE_SERVER=",
                         "ALSA_CONFIG_PATH=/dev/null", NULL};
    char **env = make_env(set);
    f->tt = spawn(bin, argv, env, f->tt_err);
    free(env);
    tl_sip_wait_ready(f->tt, f->tt_err, READY_S, &f->tt_port, NULL);
    snprintf(f->uri, sizeof(f->uri), "sip:ivr@127.0.0.1:%d", f->tt_port);
}

/* Tell the service to stop (SIGTERM: it drains, and with no call left it ends): sent as soon
 * as a test's calls are over, so that its last seconds (it waits a little for its SIP
 * transactions) pass while the test measures the recording. */
static void tt_drain(struct fx *f)
{
    if (f->tt > 0 && !f->tt_told) {
        assert_int_equal(kill(f->tt, SIGTERM), 0);
        f->tt_told = true;
    }
}

/* ... and it must end with status 0, within a bound. */
static void tt_finish(struct fx *f)
{
    tt_drain(f);
    int status;
    if (!wait_bounded(f->tt, 10.0, &status)) {
        print_service(f);
        fail_msg("the service was still running 10 s after SIGTERM with no call up");
    }
    f->tt = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char how[64];
        print_service(f);
        fail_msg("the service ended with %s, not exit status 0",
                 status_text(status, how, sizeof(how)));
    }
}

/* ---- finding clips in a recording (test_kiosk's method, at the codec's rate) ---- */

/* Where a piece of a clip sits in the recording, and how well it matches there. */
struct hit {
    long at;          /* recording sample, or -1 */
    double corr;
    double xy, yy;    /* recording . clip and clip . clip over the piece: the gain is xy / yy */
};

/* The hot loop of every search: exact integer sums, built at -O2 and left out of the
 * sanitizers (its callers bound the reads), as in test_kiosk. */
#if defined(__clang__)
__attribute__((no_sanitize("address", "undefined")))
#else
__attribute__((no_sanitize("address", "undefined"), optimize("O2")))
#endif
static double corr_at(const int16_t *x, const int16_t *y, size_t len, size_t step, double *xyp,
                      double *yyp)
{
    int64_t xy = 0, xx = 0, yy = 0;
    for (size_t i = 0; i < len; i += step) {
        int32_t a = x[i], b = y[i];
        xy += a * b;
        xx += a * a;
        yy += b * b;
    }
    if (xyp)
        *xyp = (double)xy, *yyp = (double)yy;
    return xx > 0 && yy > 0 ? (double)xy / sqrt((double)xx * (double)yy) : 0;
}

/* The best match of y (len samples) at every sample in [lo, hi]. */
static struct hit refine(const struct cap *c, long lo, long hi, const int16_t *y, size_t len)
{
    struct hit h = {.at = -1, .corr = -1};
    for (long q = lo < 0 ? 0 : lo; q <= hi && q + (long)len <= (long)c->n; q++) {
        double xy, yy, r = corr_at(c->pcm + q, y, len, 1, &xy, &yy);
        if (r > h.corr)
            h = (struct hit){q, r, xy, yy};
    }
    return h;
}

/*
 * Where y (len samples of a clip) is in the recording, starting between lo and hi: the first
 * place it matches (first) or the best; h.at is -1 when it is not there. A coarse pass looks
 * at every 2nd offset and sample (telephone speech is band-limited to 3.4 kHz at 8 kHz and
 * mostly below 4 kHz at 16 kHz: a place one sample off the peak still correlates well above
 * COARSE), then the offsets around a promising one are tried one by one.
 */
#define COARSE 0.5
static struct hit find_in(const struct cap *c, long lo, long hi, const int16_t *y, size_t len,
                          bool first)
{
    const long d = 2;
    long bq = -1;
    double bc = -1;
    for (long q = lo < 0 ? 0 : lo; q <= hi && q + (long)len <= (long)c->n; q += d) {
        double r = corr_at(c->pcm + q, y, len, (size_t)d, NULL, NULL);
        if (first && r >= COARSE) {
            struct hit h = refine(c, q - d, q + d, y, len);
            if (h.corr >= MATCH)
                return h;
        }
        if (r > bc)
            bc = r, bq = q;
    }
    struct hit h = {.at = -1, .corr = bc};
    if (!first && bq >= 0) {
        h = refine(c, bq - d, bq + d, y, len);
        if (h.corr < MATCH)
            h.at = -1;
    }
    return h;
}

/* A playing of a clip followed through the recording, piece by piece. */
struct track {
    int pieces;       /* pieces of speech the stretch of clip has */
    int found;        /* of those, found where the playing put them */
    double xy, yy;    /* summed over those found: the level */
    long last;        /* recording sample just past the last piece found, or -1 */
    size_t last_p;    /* its position in the clip */
};

static double gain_of(const struct track *t)
{
    return t->yy > 0 ? t->xy / t->yy : 0;
}

/*
 * Follow the playing of r that starts at recording sample `start` over clip positions
 * [p0, p1), in the recording before `hi`. Each piece is looked for where the last one leads
 * (the audio runs on unbroken), and if it is not there, from `back` earlier to `reach` later
 * (a late or lost packet, a jitter buffer that skipped).
 */
static struct track follow(const struct cap *c, const struct ref *r, long start, size_t p0,
                           size_t p1, long hi)
{
    struct track t = {.last = -1};
    long back = c->rate / 10, reach = c->rate / 2, lag = 0;
    for (size_t k = 0; k < r->npiece; k++) {
        size_t p = r->piece[k];
        if (p < p0 || p + r->piece_len > p1)
            continue;
        long want = start + (long)p + lag;
        t.pieces++;
        struct hit h = refine(c, want - 2, want + 2, r->pcm + p, r->piece_len);
        if (h.corr < MATCH)
            h = find_in(c, want - back, want + reach, r->pcm + p, r->piece_len, false);
        if (h.at < 0 || h.corr < MATCH || h.at + (long)r->piece_len > hi)
            continue;
        t.found++;
        t.xy += h.xy;
        t.yy += h.yy;
        lag = h.at - start - (long)p;
        t.last = h.at + (long)r->piece_len;
        t.last_p = p + r->piece_len;
    }
    return t;
}

/* Pieces a start may be found by, and how many of the 8 after one must follow it. */
#define ANCHORS 12
#define FOLLOWERS 3

/* Where a playing of r starts (its sample 0) in the recording, between lo and hi; -1 when it
 * does not. An anchor piece that matches counts when the pieces after it follow there too,
 * which the same sound recurring elsewhere never does; the earliest start wins. */
static long find_start(const struct cap *c, long lo, long hi, const struct ref *r)
{
    long best = -1;
    for (size_t k = 0; k < ANCHORS && k + 8 < r->npiece; k++) {
        size_t p = r->piece[k];
        for (long from = lo + (long)p;;) {
            struct hit h = find_in(c, from, hi + (long)p, r->pcm + p, r->piece_len, true);
            if (h.at < 0)
                break;
            long cand = h.at - (long)p;
            struct track t = follow(c, r, cand, r->piece[k + 1], r->piece[k + 8] + 1,
                                    (long)c->n);
            if (t.found >= FOLLOWERS) {
                if (best < 0 || cand < best)
                    best = cand;
                break;
            }
            from = h.at + (long)r->piece_len / 2;
        }
    }
    return best;
}

static double secs_of(const struct cap *c, long samples)
{
    return (double)samples / c->rate;
}

/* When a start is not found: what each anchor came to (its best match anywhere in the
 * window, and how many of the pieces after it followed there), so that a failure is data. */
static void explain_start(const struct cap *c, long lo, long hi, const struct ref *r)
{
    for (size_t k = 0; k < ANCHORS && k + 8 < r->npiece; k++) {
        size_t p = r->piece[k];
        struct hit h = refine(c, lo + (long)p, hi + (long)p, r->pcm + p, r->piece_len);
        struct track t = {0};
        if (h.at >= 0)
            t = follow(c, r, h.at - (long)p, r->piece[k + 1], r->piece[k + 8] + 1, (long)c->n);
        fprintf(stderr, "    piece %zu (%.0f ms into the clip): best %.4f at %.3f s (gain "
                "%.3f); then %d of %d followed\n", k, 1000.0 * (double)p / r->rate, h.corr,
                (double)h.at / c->rate, h.yy > 0 ? h.xy / h.yy : 0, t.found, t.pieces);
    }
}

/* find_start, failing the test when the clip is not there. */
static long need_start(const struct cap *c, long lo, long hi, const struct ref *r)
{
    assert_int_equal(c->rate, r->rate);
    long at = find_start(c, lo, hi, r);
    if (at < 0)
        explain_start(c, lo, hi, r);
    if (at < 0)
        fail_msg("%s is not in the recording (%.2f s, looked from %.2f s to %.2f s)", r->what,
                 secs_of(c, (long)c->n), secs_of(c, lo), secs_of(c, hi));
    return at;
}

/* Whether passage y (len samples, starting with a piece of piece_len) is anywhere in the
 * recording: its first piece is looked for, and the whole passage tried where that matches
 * (a fifth of the work of sliding the whole passage along). */
static bool passage_in(const struct cap *c, const int16_t *y, size_t len, size_t piece_len)
{
    for (long from = 0;;) {
        struct hit h = find_in(c, from, (long)c->n, y, piece_len, true);
        if (h.at < 0)
            return false;
        if (refine(c, h.at - 2, h.at + 2, y, len).corr >= MATCH)
            return true;
        from = (h.at > from ? h.at : from) + 1; /* a refined hit may sit just before from */
    }
}

/* How many of (up to) eight passages of r from clip position p on, spread over the rest of
 * the clip, are anywhere in the recording: what was played of it past p. */
static int played_past(const struct cap *c, const struct ref *r, size_t p, int *tried)
{
    size_t k0 = 0;
    while (k0 < r->npiece && r->piece[k0] < p)
        k0++;
    size_t left = r->npiece - k0, step = left > 8 ? left / 8 : 1;
    int n = 0;
    *tried = 0;
    for (size_t k = k0; k < r->npiece && r->piece[k] + r->passage_len <= r->n; k += step) {
        (*tried)++;
        n += passage_in(c, r->pcm + r->piece[k], r->passage_len, r->piece_len);
    }
    return n;
}

/* Enough of a stretch of a clip found where its playing put it: that clip, heard in order. */
static void expect_followed(const char *what, const struct track *t)
{
    if (t->pieces < 5 || t->found * 3 < t->pieces * 2)
        fail_msg("%s: only %d of %d pieces of the clip were found where it played", what,
                 t->found, t->pieces);
}

static void expect_level(const char *what, const struct track *t)
{
    double want = tt_volume_gain(TT_VOLUME_DEFAULT), got = gain_of(t);
    print_message("%s: level %.4f against %.4f, the default volume (%+.2f%%), from %d pieces\n",
                  what, got, want, 100.0 * (got / want - 1.0), t->found);
    if (fabs(got / want - 1.0) > GAIN_TOL)
        fail_msg("%s is heard at gain %.4f, not %.4f (the default volume)", what, got, want);
}

/* ---- what a call that pressed a key during the welcome must have heard ---- */

/* What the checks measured, so that a test can state them and the control test can show
 * that they catch a service that gets it wrong. */
struct cut_verdict {
    long welcome_at;     /* where the welcome starts in the recording */
    struct track before; /* the welcome up to HEARD_BEFORE_S before the key's place in it */
    int past, tried;     /* passages of the welcome from CUT_SLACK_S after that, found */
    long info_at;        /* where the next page starts after what was heard of the welcome,
                          * or -1 */
    struct track info;   /* its first INFO_FOLLOW_S */
};

/* Measure: the welcome from its start, how much of it was heard after `into` (the place in it,
 * in seconds, that the key was sent at), and the next page after it. */
static struct cut_verdict measure_cut(const struct cap *c, const struct ref *welcome,
                                      const struct ref *info, double into)
{
    struct cut_verdict v = {.info_at = -1};
    v.welcome_at = need_start(c, 0, (long)c->n, welcome);
    size_t heard = (size_t)lround((into - HEARD_BEFORE_S) * c->rate);
    v.before = follow(c, welcome, v.welcome_at, 0, heard, (long)c->n);
    v.past = played_past(c, welcome, (size_t)lround((into + CUT_SLACK_S) * c->rate), &v.tried);
    long after = v.before.last > 0 ? v.before.last : v.welcome_at;
    v.info_at = find_start(c, after, (long)c->n, info);
    if (v.info_at >= 0)
        v.info = follow(c, info, v.info_at, 0, (size_t)(INFO_FOLLOW_S * c->rate), (long)c->n);
    return v;
}

/* The verdict against what a caller must hear: fails the test, saying what went wrong. */
static void expect_cut(const struct cap *c, const struct ref *welcome, const struct ref *info,
                       double into)
{
    struct cut_verdict v = measure_cut(c, welcome, info, into);
    print_message("%s from %.2f s of the recording, the key %.2f s into it; %d of %d pieces "
                  "heard before; %d of %d passages from %.2f s in heard\n",
                  welcome->what, secs_of(c, v.welcome_at), into, v.before.found,
                  v.before.pieces, v.past, v.tried, into + CUT_SLACK_S);
    expect_followed(welcome->what, &v.before);
    if (v.tried < 4)
        fail_msg("the welcome is too short to tell whether it was cut (%d passages)", v.tried);
    if (v.past > 0)
        fail_msg("%s went on after the key: %d of %d passages from %.2f s into it were heard",
                 welcome->what, v.past, v.tried, into + CUT_SLACK_S);
    if (v.info_at < 0)
        fail_msg("%s was not heard after the welcome", info->what);
    /* the last of the welcome heard, in the recording: follow() before stopped short of the
     * key's place, so follow it on to where the next page starts */
    struct track all = follow(c, welcome, v.welcome_at, 0, welcome->n, v.info_at);
    double gap = secs_of(c, v.info_at + (long)info->a - all.last);
    print_message("%s starts %.2f s into the recording, %.2f s after the last of the welcome "
                  "(heard to %.2f s of it); %d of %d of its first pieces followed\n",
                  info->what, secs_of(c, v.info_at), gap, (double)all.last_p / c->rate,
                  v.info.found, v.info.pieces);
    assert_true(v.info_at > v.welcome_at);
    if (gap > INFO_WITHIN_S)
        fail_msg("%s began %.2f s after the welcome was cut, more than %.1f s", info->what,
                 gap, INFO_WITHIN_S);
    expect_followed(info->what, &v.info);
    expect_level(welcome->what, &all);
    expect_level(info->what, &v.info);
}

/* A clip of another language must be nowhere: the matcher tells speech apart, not just
 * sound from silence (a reference that would match anything could not fail the checks). */
static void expect_absent(const struct cap *c, const struct ref *r)
{
    long at = find_start(c, 0, (long)c->n, r);
    if (at >= 0)
        fail_msg("%s was found at %.2f s of a recording it cannot be in: the matcher is not "
                 "telling speech apart", r->what, secs_of(c, at));
}

/* ---- driving a call ---- */

/* Dial the service; returns the index of CALL_ESTABLISHED, its call id in id. */
static size_t call_up(struct fx *f, struct bs *b, char *id, size_t idn)
{
    if (b->pid <= 0)
        bs_start(b);
    size_t est = bs_dial(b, f->uri);
    snprintf(id, idn, "%s", b->ev[est].id);
    return est;
}

/* Send keys as RFC 4733 events (baresip's sndcode) now. */
static void press(struct bs *b, const char *keys)
{
    size_t from = b->nev;
    bs_cmd(b, "sndcode", keys);
    size_t r = bs_wait(b, from, "RESPONSE", NULL, 5.0);
    assert_string_equal(b->ev[r].param, "ok");
}

/* Fails the test if call id has ended (the service must not end it). */
static void expect_up(const struct fx *f, const struct bs *b, size_t est, const char *id)
{
    for (size_t i = est; i < b->nev; i++)
        if (!strcmp(b->ev[i].type, "CALL_CLOSED") && !strcmp(b->ev[i].id, id)) {
            bs_dump(b);
            print_service(f);
            fail_msg("the call ended before the caller hung up (%s)", b->ev[i].param);
        }
}

/*
 * Watch the recording during the call (bounded by secs) until it holds `into` seconds of r
 * from r's start; returns where r starts in it. It is looked at every 100 ms, baresip's events
 * read meanwhile. A start that the last look could not find, because the pieces that prove it
 * were not recorded yet, lies within `span` of that look's end: each look searches only
 * from there on.
 */
static long watch_heard(struct fx *f, struct bs *b, size_t est, const char *id,
                        const struct ref *r, double into, double secs)
{
    struct cap c = {0};
    long start = -1, lo = 0;
    long span = (long)(r->piece[ANCHORS + 8 < r->npiece ? ANCHORS + 8 : r->npiece - 1] +
                       2 * r->piece_len);
    double until = now_s() + secs;
    for (;;) {
        bs_pump(b, now_s() + 0.1);
        expect_up(f, b, est, id);
        if (rec_peek(b, &c)) {
            assert_int_equal(c.rate, r->rate);
            if (start < 0) {
                start = find_start(&c, lo, (long)c.n, r);
                lo = (long)c.n > span ? (long)c.n - span : 0;
            }
            if (start >= 0 && (long)c.n >= start + lround(into * c.rate)) {
                free(c.pcm);
                return start;
            }
        }
        if (now_s() > until) {
            double got = (double)c.n / (c.rate ? c.rate : 1);
            free(c.pcm);
            print_service(f);
            fail_msg("%s was not heard %.1f s in within %.0f s of the call (%s; %.2f s "
                     "recorded)", r->what, into, secs,
                     start < 0 ? "its start was not found" : "it stopped", got);
        }
    }
}

/*
 * One call: the keys as events once the recording shows KEY_INTO_S of the welcome heard; then
 * hang-up once the recording holds INFO_FOLLOW_S of the next page and a little more (or, with
 * next NULL, AFTER_KEY_S after the key); then baresip quits and its recording is loaded.
 * Returns the place in the welcome (seconds) the key was sent at.
 */
static double call_and_press(struct fx *f, struct bs *b, const struct ref *welcome,
                             const char *keys, const struct ref *next, char *id, size_t idn)
{
    size_t est = call_up(f, b, id, idn);
    watch_heard(f, b, est, id, welcome, KEY_INTO_S, 30.0);
    press(b, keys);
    if (next)
        watch_heard(f, b, est, id, next, INFO_FOLLOW_S + 0.3, 15.0);
    else
        bs_pump(b, now_s() + AFTER_KEY_S);
    expect_up(f, b, est, id);
    bs_hangup(b, id);
    bs_quit(b);
    tt_drain(f);
    f->cap = bs_recording(b);
    return KEY_INTO_S;
}

/* The service's log, and its lines that start with "call ". */
static char *read_log(const struct fx *f, char **lines, size_t max, size_t *n)
{
    size_t len;
    char *log = tl_read_file(f->tt_log, &len);
    *n = 0;
    for (char *s = strtok(log, "\n"); s; s = strtok(NULL, "\n"))
        if (!strncmp(s, "call ", 5) && *n < max)
            lines[(*n)++] = s;
    return log;
}

/* Wait (bounded) until the log holds n call lines: the line is written as the call ends. */
static void wait_log_lines(const struct fx *f, size_t want, double secs)
{
    double until = now_s() + secs;
    for (;;) {
        char *lines[16];
        size_t n;
        char *log = read_log(f, lines, 16, &n);
        if (n >= want) {
            free(log);
            return;
        }
        if (now_s() > until)
            fail_msg("the log has %zu call lines %.0f s after the calls ended, want %zu:\n%s",
                     n, secs, want, log);
        free(log);
        tl_sleep(0.05);
    }
}

/* The value of field name= in a log line ("" when absent). */
static void log_field(const char *line, const char *name, char *out, size_t size)
{
    char pat[64];
    snprintf(pat, sizeof(pat), " %s=", name);
    value_after(line, pat, " ", out, size);
}

static void expect_field(const char *line, const char *name, const char *want)
{
    char v[256];
    log_field(line, name, v, sizeof(v));
    if (strcmp(v, want))
        fail_msg("the log line has %s=%s, want %s=%s:\n%s", name, v, name, want, line);
}

/* The one call line of the log, once written (bounded); free the return value. */
static char *one_log_line(const struct fx *f, char **line)
{
    wait_log_lines(f, 1, 10.0);
    char *lines[4];
    size_t n;
    char *log = read_log(f, lines, 4, &n);
    if (n != 1)
        fail_msg("the log has %zu call lines for one call:\n%s", n, log);
    *line = lines[0];
    print_message("the log: %s\n", lines[0]);
    return log;
}

/* ---- the tests ---- */

static void rfc4733_key_cuts_the_welcome_and_the_info_page_follows_over_pcmu_in_english(
    void **state)
{
    struct fx *f = *state;
    struct bs *b = caller_offering(f, "PCMU/8000/1", 8000, 0, 0);
    tt_start(f, NULL);
    char id[80];
    const struct ref *w = &G.welcome[EN][R8K];
    double into = call_and_press(f, b, w, "1", &G.info[EN][R8K], id, sizeof(id));
    assert_int_equal(f->cap.rate, 8000);
    expect_cut(&f->cap, w, &G.info[EN][R8K], into);
    expect_absent(&f->cap, &G.welcome[ES][R8K]);
    tt_finish(f);
}

static void with_only_g722_offered_the_same_is_heard_wideband_in_spanish(void **state)
{
    struct fx *f = *state;
    struct bs *b = caller_offering(f, "G722/16000/1", 16000, 0, 0);
    const char *es[] = {"--lang", "es", NULL};
    tt_start(f, es);
    char id[80];
    const struct ref *w = &G.welcome[ES][R16K];
    double into = call_and_press(f, b, w, "1", &G.info[ES][R16K], id, sizeof(id));
    assert_int_equal(f->cap.rate, 16000); /* baresip decoded G.722: its dump is at 16 kHz */
    expect_cut(&f->cap, w, &G.info[ES][R16K], into);
    expect_absent(&f->cap, &G.welcome[EN][R16K]);
    /* wideband: what the caller heard of the welcome has the clip's speech above 4.4 kHz
     * (G.722 alone keeps most of it: group_setup prints how much), which a service that
     * made its audio at 8 kHz could not send */
    long at = find_start(&f->cap, 0, (long)f->cap.n, w);
    size_t len = (size_t)lround((into - HEARD_BEFORE_S) * 16000);
    assert_true(at >= 0 && (size_t)at + len <= f->cap.n);
    double heard = high_share(f->cap.pcm + at, len), clip = high_share(w->pcm, len);
    print_message("energy above 4.4 kHz in the first %.1f s of the welcome: %.3f%% heard, "
                  "%.3f%% in the clip\n", (double)len / 16000, 100 * heard, 100 * clip);
    if (heard < clip / 2)
        fail_msg("the welcome was heard narrowband: %.3f%% of its energy above 4.4 kHz, the "
                 "clip has %.3f%%", 100 * heard, 100 * clip);
    tt_finish(f);
}

/*
 * Where the tone is in baresip's source: in the welcome, about KEY_INTO_S into it. The
 * source starts with the call, and the service first says how to leave and offers the other
 * language: the welcome begins about 5.9 s in (the transcript of `tonetree render
 * tests/data/sip.ini`). The test measures where the tone fell in the welcome and fails,
 * saying so, if that was not well inside it.
 */
#define TONE_AT_S 7.5

static void a_key_sent_as_a_tone_cuts_the_welcome_and_a_later_event_counts_as_another_press(
    void **state)
{
    struct fx *f = *state;
    struct bs *b = caller_offering(f, "PCMU/8000/1", 8000, '1', TONE_AT_S);
    const char *tones[] = {"--tones", "on", NULL};
    tt_start(f, tones);
    char id[80];
    const struct ref *w = &G.welcome[EN][R8K], *in = &G.info[EN][R8K];
    size_t est = call_up(f, b, id, sizeof(id));
    /* the info page heard for a while after the tone: then the same key as an event, well
     * past the 700 ms in which the service takes a press arriving two ways as one (sip/keys.h):
     * a second press, and on the info page 1 is not a choice */
    watch_heard(f, b, est, id, in, INFO_FOLLOW_S + 0.3, 30.0);
    press(b, "1");
    bs_pump(b, now_s() + 0.7); /* the event's packets on their way before the BYE */
    expect_up(f, b, est, id);
    bs_hangup(b, id);
    bs_quit(b);
    tt_drain(f);
    f->cap = bs_recording(b);
    /* the tone's place in the welcome: the source and the service's audio start together */
    long at = need_start(&f->cap, 0, (long)f->cap.n, w);
    double into = TONE_AT_S - secs_of(&f->cap, at);
    if (into < HEARD_BEFORE_S + 0.5 || into > 4.0)
        fail_msg("the tone fell %.2f s into the welcome, not well inside it: TONE_AT_S needs "
                 "to follow the service's first prompts", into);
    expect_cut(&f->cap, w, in, into);
    char *line, *log = one_log_line(f, &line);
    expect_field(line, "nodes", "main>info");
    expect_field(line, "invalid", "1"); /* the tone and, later, the event: two presses */
    free(log);
    tt_finish(f);
}

/* Where the press both ways goes: during the service's first prompt (how to leave), where 1
 * already takes the caller to the info page; and how long the call goes on after it (the tone
 * is found within 39 ms of its start, the event within a packet or two: seconds spare). */
#define BOTH_AT_S 1.5
#define BOTH_WAIT_S 2.0

static void a_press_sent_as_a_tone_and_an_event_at_once_counts_once(void **state)
{
    struct fx *f = *state;
    struct bs *b = caller_offering(f, "PCMU/8000/1", 8000, '1', BOTH_AT_S);
    const char *tones[] = {"--tones", "on", NULL};
    tt_start(f, tones);
    char id[80];
    size_t est = call_up(f, b, id, sizeof(id));
    /* the event goes as the tone starts in baresip's audio (its source starts with the call,
     * about when CALL_ESTABLISHED comes): the two reach the service tens of ms apart, well
     * inside the 700 ms it allows between two copies of one press (sip/keys.h) */
    bs_pump(b, b->ev[est].t + BOTH_AT_S);
    press(b, "1");
    /* a fixed time for both to arrive and be acted on, not "until the info page is heard": a
     * service that counted the press twice would cut the info page at once (1 is not a
     * choice there), and the log line says so better than a missing page */
    bs_pump(b, now_s() + BOTH_WAIT_S);
    expect_up(f, b, est, id);
    bs_hangup(b, id);
    bs_quit(b);
    tt_drain(f);
    char *line, *log = one_log_line(f, &line);
    expect_field(line, "nodes", "main>info");
    expect_field(line, "invalid", "0"); /* a second "1" would be invalid on the info page */
    free(log);
    tt_finish(f);
}

/* The log line of a call holds nothing that names the caller: not the number (the user part
 * of its From), not its address or port. */
static void expect_no_caller(const char *line, const struct bs *b)
{
    char port[16];
    snprintf(port, sizeof(port), ":%d", b->sip);
    const char *never[] = {CALLER_USER, "5550123", "127.0.0.1", port, "sip:", "@", NULL};
    for (const char **w = never; *w; w++)
        if (strstr(line, *w))
            fail_msg("the log line names the caller ('%s'):\n%s", *w, line);
}

static void each_call_ends_with_one_log_line_naming_its_nodes_and_never_the_caller(void **state)
{
    struct fx *f = *state;
    struct bs *b = caller_offering(f, "PCMU/8000/1", 8000, 0, 0);
    tt_start(f, NULL);
    /* a first call hung up during the first prompt: one line, written as it ends */
    char id1[80], id2[80];
    size_t est = call_up(f, b, id1, sizeof(id1));
    double t1 = b->ev[est].t;
    bs_pump(b, t1 + 1.5);
    bs_hangup(b, id1);
    double len1 = b->ev[b->nev - 1].t - t1;
    wait_log_lines(f, 1, 10.0);
    /* a second, to the info page and hung up there */
    est = call_up(f, b, id2, sizeof(id2));
    double t2 = b->ev[est].t;
    bs_pump(b, t2 + 1.0);
    press(b, "1");
    watch_heard(f, b, est, id2, &G.info[EN][R8K], 0.5, 15.0);
    bs_hangup(b, id2);
    double len2 = b->ev[b->nev - 1].t - t2;
    wait_log_lines(f, 2, 10.0);
    bs_quit(b);
    tt_drain(f);

    char *lines[4];
    size_t n;
    char *log = read_log(f, lines, 4, &n);
    print_message("the log:\n%s\n%s\n", n > 0 ? lines[0] : "", n > 1 ? lines[1] : "");
    assert_int_equal(n, 2);
    const char *ids[] = {id1, id2}, *nodes[] = {"main", "main>info"};
    double lens[] = {len1, len2};
    for (size_t i = 0; i < 2; i++) {
        expect_field(lines[i], "call-id", ids[i]);
        expect_field(lines[i], "end", "caller-hung-up");
        expect_field(lines[i], "nodes", nodes[i]);
        expect_field(lines[i], "invalid", "0");
        expect_field(lines[i], "timeouts", "0");
        char v[64];
        log_field(lines[i], "start", v, sizeof(v));
        assert_true(v[0] != '\0');
        /* the call's length as the service saw it, from its answer to the BYE: within a
         * busy machine's scheduling of what the caller saw */
        log_field(lines[i], "length", v, sizeof(v));
        char *end;
        double len = strtod(v, &end);
        if (end == v || fabs(len - lens[i]) > 1.0)
            fail_msg("the log line says length=%s, the caller's call lasted %.2f s:\n%s", v,
                     lens[i], lines[i]);
        expect_no_caller(lines[i], b);
    }
    free(log);
    tt_finish(f);
}

/*
 * SIGTERM drains: the call in progress goes on (its audio keeps coming: the welcome, which only
 * starts seconds after the signal, is heard from its start), a new INVITE is refused with 503,
 * and the service exits 0 once the call has ended.
 */
#define TERM_AT_S 1.0
static void sigterm_lets_the_call_finish_refuses_new_ones_with_503_then_exits_0(void **state)
{
    struct fx *f = *state;
    struct bs *b = caller_offering(f, "PCMU/8000/1", 8000, 0, 0);
    tt_start(f, NULL);
    char id[80];
    size_t est = call_up(f, b, id, sizeof(id));
    bs_pump(b, b->ev[est].t + TERM_AT_S);
    tt_drain(f);
    /* once the service says it drains (it looks at the signal's flag on a timer), a second
     * call from the same caller (baresip does not hold the first for it) */
    double until = now_s() + 10.0;
    for (;;) {
        size_t n;
        char *err = tl_read_file(f->tt_err, &n);
        bool draining = strstr(err, "draining") != NULL;
        free(err);
        if (draining)
            break;
        expect_up(f, b, est, id);
        int status;
        if (waitpid(f->tt, &status, WNOHANG) == f->tt) {
            f->tt = 0;
            char how[64];
            fail_msg("the service ended (%s) when told to drain",
                     status_text(status, how, sizeof(how)));
        }
        if (now_s() > until) {
            print_service(f);
            fail_msg("the service did not say it was draining within 10 s of SIGTERM");
        }
        bs_pump(b, now_s() + 0.02);
    }
    size_t from = b->nev;
    bs_cmd(b, "dial", f->uri);
    size_t closed = bs_wait(b, from, "CALL_CLOSED", NULL, 10.0);
    if (!strcmp(b->ev[closed].id, id))
        fail_msg("the call in progress ended when the service was told to stop (%s)",
                 b->ev[closed].param);
    print_message("a call while draining: %s\n", b->ev[closed].param);
    if (strncmp(b->ev[closed].param, "503", 3))
        fail_msg("a call while draining was not refused with 503 but: %s",
                 b->ev[closed].param);
    for (size_t i = from; i < closed; i++)
        assert_string_not_equal(b->ev[i].type, "CALL_ESTABLISHED");
    /* the first call goes on: the welcome is heard, from its start */
    const struct ref *w = &G.welcome[EN][R8K];
    watch_heard(f, b, est, id, w, 1.0, 30.0);
    expect_up(f, b, est, id);
    int status;
    if (waitpid(f->tt, &status, WNOHANG) == f->tt) {
        f->tt = 0;
        fail_msg("the service ended with a call still up");
    }
    bs_hangup(b, id);
    bs_quit(b);
    f->cap = bs_recording(b);
    tt_finish(f); /* it ends by itself, with status 0, its last call over */
    /* what the caller heard: the welcome, seconds after the signal, in order and at its level */
    long at = need_start(&f->cap, 0, (long)f->cap.n, w);
    struct track t = follow(&f->cap, w, at, 0, 8000 * 3 / 4, (long)f->cap.n);
    print_message("the welcome heard from %.2f s of the recording (the signal at about %.1f s); "
                  "%d of %d of its first pieces followed\n", secs_of(&f->cap, at), TERM_AT_S,
                  t.found, t.pieces);
    expect_followed(w->what, &t);
    expect_level(w->what, &t);
    char *line, *log = one_log_line(f, &line);
    expect_field(line, "call-id", id);
    expect_field(line, "end", "caller-hung-up");
    free(log);
}

/*
 * The checks themselves, against a service that gets it wrong: a second baresip answers and
 * plays the welcome and then the info page at the default volume whatever the caller presses,
 * as a service that ignored keys would. Through the same harness the welcome is found from its
 * start, at the right level, in order up to the key; and the check that a key cuts it finds
 * it going on, so expect_cut would fail (as it must), and the info page is not heard where a
 * cut would have put it. This is also the harness's proof on its own: baresip to baresip, no
 * tonetree in it.
 */
static void the_checks_catch_a_service_that_ignores_the_key(void **state)
{
    struct fx *f = *state;
    const struct ref *w = &G.welcome[EN][R8K], *in = &G.info[EN][R8K];
    double g = tt_volume_gain(TT_VOLUME_DEFAULT);
    size_t pause = 8000 * 3 / 10, n = w->n + pause + in->n + 8000 * 10;
    int16_t *pcm = calloc(n, sizeof(*pcm));
    assert_non_null(pcm);
    for (size_t i = 0; i < w->n; i++)
        pcm[i] = (int16_t)lrint(w->pcm[i] * g);
    for (size_t i = 0; i < in->n; i++)
        pcm[w->n + pause + i] = (int16_t)lrint(in->pcm[i] * g);
    char ivr_source[PATH_LEN];
    snprintf(ivr_source, sizeof(ivr_source), "%s/ignores-keys.wav", f->dir);
    tl_write_wav(ivr_source, pcm, n, 8000);
    free(pcm);
    struct bs_opts svc = {.codecs = "PCMU/8000/1", .rate = 8000, .source = ivr_source,
                          .answer = true};
    struct bs *ivr = caller(f, 1, &svc);
    bs_start(ivr);
    snprintf(f->uri, sizeof(f->uri), "sip:ivr@127.0.0.1:%d", ivr->sip);

    char id[80];
    struct bs *b = caller_offering(f, "PCMU/8000/1", 8000, 0, 0);
    double into = call_and_press(f, b, w, "1", NULL, id, sizeof(id));
    bs_quit(ivr);

    struct cut_verdict v = measure_cut(&f->cap, w, in, into);
    print_message("a service that ignores the key: %s from %.2f s; %d of %d pieces before the "
                  "key; %d of %d passages from %.2f s in were heard; the info page %s\n",
                  w->what, secs_of(&f->cap, v.welcome_at), v.before.found, v.before.pieces,
                  v.past, v.tried, into + CUT_SLACK_S, v.info_at < 0 ? "not heard" : "heard");
    expect_followed(w->what, &v.before);
    expect_level(w->what, &v.before);
    assert_true(v.tried >= 4);
    if (v.past == 0)
        fail_msg("the check that a key cuts the welcome did not see it go on");
    /* the passages the fake played before the hang-up, AFTER_KEY_S after the key */
    assert_true(v.past >= 2);
    if (v.info_at >= 0)
        fail_msg("the info page was found where it was never played (at %.2f s)",
                 secs_of(&f->cap, v.info_at));
    expect_absent(&f->cap, &G.welcome[ES][R8K]);
}

int main(void)
{
    const char *only = getenv("TT_SIP_ONLY"); /* a glob of test names, to run some alone */
    if (only && *only)
        cmocka_set_test_filter(only);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_checks_catch_a_service_that_ignores_the_key,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            rfc4733_key_cuts_the_welcome_and_the_info_page_follows_over_pcmu_in_english,
            fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            with_only_g722_offered_the_same_is_heard_wideband_in_spanish, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            a_key_sent_as_a_tone_cuts_the_welcome_and_a_later_event_counts_as_another_press,
            fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(a_press_sent_as_a_tone_and_an_event_at_once_counts_once,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            each_call_ends_with_one_log_line_naming_its_nodes_and_never_the_caller, fx_setup,
            fx_teardown),
        cmocka_unit_test_setup_teardown(
            sigterm_lets_the_call_finish_refuses_new_ones_with_503_then_exits_0, fx_setup,
            fx_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
