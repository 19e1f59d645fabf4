/*
 * rtt_caller: one real-time-text SIP call (RFC 4103, T.140 over RTP) made by liblinphone, a
 * SIP phone library nobody here wrote, so that the tests of `tonetree sip` can call it the way
 * a deaf caller's software would. A tool the tests run, not a test itself.
 *
 *   rtt_caller [options] sip:URI [STEP...]      call URI, then follow the steps
 *   rtt_caller --answer [options]               answer one call, greet, echo what comes
 *
 * Steps (from argv, one per argument, or from --script FILE, one per line):
 *   wait TEXT     until the text received so far contains TEXT (case-sensitive), at most
 *                 --wait-timeout seconds
 *   type CHARS    send CHARS as real-time text, one character every --type-ms, as a person types
 *   sleep SECS    let the call run
 *   hangup        end the call (and wait, bounded, for it to be released)
 *   ended         until the other side ends the call, at most --wait-timeout seconds (the
 *                 call ending during any other step fails the run)
 * In TEXT and CHARS, \n is Enter, \\ a backslash, \uXXXX any character. Enter is what
 * liblinphone's own "send" of a real-time message does (it ends the line with U+2028, LINE
 * SEPARATOR); \u000a sends a bare line feed instead.
 *
 * Every character received goes to stdout as it arrives (UTF-8, flushed); what the tool does
 * goes to stderr, each line stamped with the seconds since it started. The exit status is 0
 * when the steps are done (or, answering, when the call has ended), 1 with a message when a
 * wait times out, the call fails or ends early, or the whole run passes --timeout, and 2 on a
 * bad command line.
 *
 * The call is kept to what a test on a shared machine may do: SIP and RTP bound to 127.0.0.1
 * (the ports given, or ones the system chooses), no STUN, ICE, uPnP or video, no sound card
 * (mediastreamer's sound card detection is bypassed, so ALSA and PulseAudio are never asked,
 * and the audio stream uses liblinphone's file mode: it sends a second of silence in a loop,
 * or --play's file, and records nothing), nothing written to $HOME (liblinphone's
 * configuration and databases go into --dir, or into a temporary folder removed at exit), and
 * liblinphone's own log silent unless --verbose (then it goes to stderr, never to stdout,
 * which carries the text).
 *
 * Facts about liblinphone 5.1.65 (Debian 12) found while writing this, each relied on below or
 * worth knowing when reading what it sends (seen in loopback captures):
 *  - A received character is queued in the call's chat room and announced by the core's
 *    is_composing_received callback, from inside linphone_core_iterate; get_char returns the
 *    oldest unread one. On U+2028 or LF the queue is cleared right after the callback, so the
 *    callback must drain it. BOMs are dropped on receipt; a loss redundancy cannot cover
 *    comes out as U+FFFD.
 *  - It offers m=text with red (96, fmtp 97/97/97) and t140 (97). It sends a packet every
 *    300 ms with 2 redundant generations, starts with a BOM, and never goes idle: once text
 *    and its redundancy are out it sends another BOM (marker set), so a packet goes every
 *    300 ms for the whole call. With a t140-only answer every packet has the marker and a BOM.
 *    Answering red under payload numbers other than the offer's breaks it (it sends plain
 *    T.140 under the red number and reads nothing).
 *  - Its receiver empties its socket when its stream starts and skips the redundancy of the
 *    first packet it reads: text sent before the far end's stream runs is lost for good
 *    (see caller_text_running).
 *  - Enter, as its own message sending does it, is U+2028 on the wire.
 *  - In file mode with no file it sends no audio RTP at all: hence the looped silence.
 *  - The factory's folders get file names appended without a separator: give a trailing slash.
 *  - By default it puts another interface's IPv6 address in From (guess_hostname).
 *  - Nobody answering: it sends the INVITE again for 32 s (ICMP unreachable is ignored).
 */
#define _GNU_SOURCE /* memmem, nftw's FTW_DEPTH */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linphone/core.h>
#include <mediastreamer2/mssndcard.h>

#define TOOL "rtt_caller"

/* How long liblinphone may take to release a call after our BYE. A BYE over
 * loopback is answered in milliseconds; over UDP, SIP's own retransmission gives up after
 * 32 s, which is longer than any test wants to wait, so the tool stops waiting first. */
#define RELEASE_S 3.0
/* How often the core's loop runs: SIP, and the text stream's events (a received character is
 * handed over in linphone_core_iterate), so this is also the tool's own added latency. */
#define ITERATE_MS 10
/* Answering, the greeting waits for the caller's first text packet (caller_text_running) but
 * not longer than this after the call is up: a caller need not send anything while it has
 * nothing to say (RFC 4103 lets it stay silent), and a liblinphone caller sends its first
 * packet 300 ms after its stream starts. */
#define GREET_ANYWAY_S 2.0

enum op { WAIT, TYPE, SLEEP, HANGUP, ENDED };

struct step {
    enum op op;
    char *line;     /* as written, for the log */
    char *arg;      /* WAIT: the UTF-8 to find */
    size_t argn;
    uint32_t *chars; /* TYPE: the characters to send (ENTER for Enter) */
    size_t nchars;
    double secs;    /* SLEEP */
};

struct opts {
    const char *uri;
    bool answer, audio, text, verbose;
    int sip_port, text_port, audio_port; /* -1: the system chooses */
    const char *dir;
    const char *greeting;
    const char *play;
    uint32_t bye_on; /* answering: the character that makes us hang up (0: none) */
    double timeout, wait_timeout, type_s;
};

struct app {
    struct opts o;
    LinphoneCore *lc;
    LinphoneCall *call;
    LinphoneChatMessage *typing; /* the message being typed into (one per line) */
    double t0;
    /* everything received, UTF-8, for the waits */
    char *rx;
    size_t rxn, rxcap;
    /* characters to echo (answering), sent from the main loop: a packet holds at most
     * 1024 bytes (mediastreamer's TS_OUTBUF_SIZE), so at most that many characters */
    uint32_t echo[1024];
    size_t necho;
    bool connected;  /* streams running at least once */
    double t_up;     /* when they first ran */
    bool ended;      /* released, failed or ended */
    bool we_hung_up;
    bool greeted;
    bool bye_heard; /* answering: bye_on came */
    uint32_t *greet; /* the greeting, decoded */
    size_t ngreet;
    char failure[512]; /* why the call failed, when it did */
};

static struct app A;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One line to stderr, written at once: a test reading the file as it grows (for the port we
 * listen on) must never see half a line. */
static void say(const char *fmt, ...)
{
    char line[1024];
    int n = snprintf(line, sizeof(line), "[%7.3f] " TOOL ": ", now_s() - A.t0);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!A.failure[0])
        vsnprintf(A.failure, sizeof(A.failure), fmt, ap);
    va_end(ap);
}

/* ---- text: UTF-8 both ways, and the script's escapes ---- */

static size_t utf8_put(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | c >> 12);
        out[1] = (char)(0x80 | (c >> 6 & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | c >> 18);
    out[1] = (char)(0x80 | (c >> 12 & 0x3f));
    out[2] = (char)(0x80 | (c >> 6 & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* The next character of UTF-8 text at *p (advanced); U+FFFD for a broken sequence. */
static uint32_t utf8_next(const char **p, const char *end)
{
    const unsigned char *s = (const unsigned char *)*p;
    uint32_t c = s[0];
    int more = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
             : (c & 0xf8) == 0xf0 ? 3 : -1;
    if (more < 0 || (const char *)s + 1 + more > end) {
        (*p)++;
        return 0xfffd;
    }
    c &= more ? 0x3fu >> more : 0x7f;
    for (int i = 1; i <= more; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            (*p)++;
            return 0xfffd;
        }
        c = c << 6 | (s[i] & 0x3f);
    }
    *p += 1 + more;
    return c;
}

/* Enter in a decoded step: above every Unicode code point, so no typed character is taken for
 * it. Typed, it sends the line as liblinphone's own message sending does (put_char). */
#define ENTER 0x110000u
/* What liblinphone's Enter puts on the wire (U+2028 LINE SEPARATOR): what a wait for \n
 * looks for. */
#define LINE_SEP 0x2028u

/* A step's text (UTF-8 with the escapes \n \\ \uXXXX) as characters, into out (room for
 * strlen(s)); their number, or -1 with a message on a bad escape. */
static long decode(const char *s, uint32_t *out)
{
    long n = 0;
    for (const char *p = s, *end = s + strlen(s); p < end;) {
        if (*p != '\\') {
            out[n++] = utf8_next(&p, end);
            continue;
        }
        unsigned v;
        char hex[5] = {0};
        if (p[1] == '\\' || p[1] == 'n') {
            out[n++] = p[1] == 'n' ? ENTER : '\\';
            p += 2;
        } else if (p[1] == 'u' && strlen(p + 2) >= 4 && memcpy(hex, p + 2, 4) &&
                   strspn(hex, "0123456789abcdefABCDEF") == 4 && sscanf(hex, "%x", &v) == 1 &&
                   v != 0) {
            out[n++] = v;
            p += 6;
        } else {
            fprintf(stderr, TOOL ": bad escape in '%s' (known: \\n \\\\ \\uXXXX, not \\u0000)\n",
                    s);
            return -1;
        }
    }
    return n;
}

/* Text in: to stdout at once, and kept for the waits. */
static void received(uint32_t c)
{
    char u[4];
    size_t k = utf8_put(c, u);
    fwrite(u, 1, k, stdout);
    fflush(stdout);
    if (A.rxn + k > A.rxcap) {
        size_t cap = A.rxcap ? A.rxcap * 2 : 4096;
        char *b = realloc(A.rx, cap);
        if (!b) {
            fail("out of memory");
            return;
        }
        A.rx = b;
        A.rxcap = cap;
    }
    memcpy(A.rx + A.rxn, u, k);
    A.rxn += k;
    if (A.o.verbose)
        say("received U+%04X", (unsigned)c);
    if (A.o.answer && c == A.o.bye_on)
        A.bye_heard = true;
    if (A.o.answer) {
        if (A.necho == sizeof(A.echo) / sizeof(A.echo[0]))
            fail("more text came at once than the echo can hold (%zu characters)", A.necho);
        else
            A.echo[A.necho++] = c;
    }
}

/* ---- the call ---- */

static LinphoneChatRoom *text_room(void)
{
    return A.call ? linphone_call_get_chat_room(A.call) : NULL;
}

/* Send one character as real-time text; ENTER sends the line the way liblinphone's own
 * message sending does. */
static int put_char(uint32_t c)
{
    LinphoneChatRoom *room = text_room();
    if (!room)
        return -1;
    if (!A.typing)
        A.typing = linphone_chat_room_create_empty_message(room);
    if (!A.typing)
        return -1;
    if (c == ENTER) {
        linphone_chat_message_send(A.typing);
        linphone_chat_message_unref(A.typing);
        A.typing = NULL;
        return 0;
    }
    return linphone_chat_message_put_char(A.typing, c);
}

/* liblinphone hands each received character to the room's queue and then says "is composing":
 * the queue is drained here, at once, because a received end of line clears it right after. */
static void on_composing(LinphoneCore *lc, LinphoneChatRoom *room)
{
    (void)lc;
    uint32_t c;
    while ((c = linphone_chat_room_get_char(room)) != 0)
        received(c);
}

static void answer(LinphoneCall *call)
{
    LinphoneCallParams *p = linphone_core_create_call_params(A.lc, call);
    linphone_call_params_enable_realtime_text(p, A.o.text);
    linphone_call_params_enable_audio(p, A.o.audio);
    linphone_call_params_enable_video(p, FALSE);
    char *from = linphone_address_as_string(linphone_call_get_remote_address(call));
    say("answering %s (real-time text %s, audio %s)", from, A.o.text ? "on" : "off",
        A.o.audio ? "on" : "off");
    bctbx_free(from);
    if (linphone_call_accept_with_params(call, p) != 0)
        fail("could not answer the call");
    linphone_call_params_unref(p);
}

static void call_failed(LinphoneCall *call)
{
    const LinphoneErrorInfo *ei = linphone_call_get_error_info(call);
    int code = ei ? linphone_error_info_get_protocol_code(ei) : 0;
    const char *phrase = ei ? linphone_error_info_get_phrase(ei) : NULL;
    if (code)
        fail("the call failed: %s (SIP %d %s)",
             linphone_reason_to_string(linphone_call_get_reason(call)), code, phrase ? phrase : "");
    else
        fail("the call failed: %s", linphone_reason_to_string(linphone_call_get_reason(call)));
}

static void on_call_state(LinphoneCore *lc, LinphoneCall *call, LinphoneCallState st,
                          const char *message)
{
    (void)lc;
    if (A.o.verbose || st == LinphoneCallStateConnected || st == LinphoneCallStateError ||
        st == LinphoneCallStateEnd || st == LinphoneCallStateIncomingReceived)
        say("call %s%s%s", linphone_call_state_to_string(st), message ? ": " : "",
            message ? message : "");
    switch (st) {
    case LinphoneCallStateIncomingReceived:
        if (A.call) { /* one call only: a second is turned away */
            linphone_call_decline(call, LinphoneReasonBusy);
            return;
        }
        A.call = linphone_call_ref(call);
        answer(call);
        break;
    case LinphoneCallStateStreamsRunning: {
        if (call != A.call)
            return;
        const LinphoneCallParams *cur = linphone_call_get_current_params(call);
        bool rtt = linphone_call_params_realtime_text_enabled(cur);
        /* The current parameters say audio is enabled even when the answer has no audio
         * stream; the payload type in use tells. */
        const LinphonePayloadType *audio = linphone_call_params_get_used_audio_payload_type(cur);
        const LinphonePayloadType *text = linphone_call_params_get_used_text_payload_type(cur);
        if (!A.connected) {
            char t[64], a[64];
            snprintf(t, sizeof(t), "%s%s%s", rtt ? "on" : "off", text ? " " : "",
                     text ? linphone_payload_type_get_mime_type(text) : "");
            snprintf(a, sizeof(a), "%s%s%s", audio ? "on" : "off", audio ? " " : "",
                     audio ? linphone_payload_type_get_mime_type(audio) : "");
            say("call up: real-time text %s, audio %s", t, a);
            A.t_up = now_s();
        }
        A.connected = true;
        if (!rtt && A.o.text)
            fail("the call was answered without real-time text");
        break;
    }
    case LinphoneCallStateError:
        if (call == A.call)
            call_failed(call);
        A.ended = true;
        break;
    case LinphoneCallStateEnd:
        /* whether that was expected is the step's to say (an "ended" step, or any other) */
        if (call == A.call)
            A.ended = true;
        break;
    case LinphoneCallStateReleased:
        if (call == A.call)
            A.ended = true;
        break;
    default:
        break;
    }
}

/* ---- the core, kept to loopback, no devices, no $HOME ---- */

/* A second of silence (8 kHz, 16-bit mono WAV) for the audio stream to send in a loop: with
 * no file to play, liblinphone's file mode sends no audio RTP at all, which a real phone never
 * does and which a service may take for a caller who has gone. */
static int write_silence(const char *path)
{
    enum { RATE = 8000, SECS = 1, BYTES = RATE * SECS * 2 };
    static const uint8_t zeros[BYTES];
    uint8_t h[44] = "RIFF....WAVEfmt \x10\0\0\0\1\0\1\0........\2\0\x10\0data....";
    uint32_t v[] = {36 + BYTES, RATE, RATE * 2, BYTES};
    const int at[] = {4, 24, 28, 40};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++)
            h[at[i] + b] = (uint8_t)(v[i] >> (8 * b)); /* little-endian, as RIFF is */
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    bool ok = fwrite(h, 1, sizeof(h), f) == sizeof(h) && fwrite(zeros, 1, BYTES, f) == BYTES;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static void on_log(LinphoneLoggingService *svc, const char *domain, LinphoneLogLevel lev,
                   const char *msg)
{
    (void)svc;
    (void)lev;
    fprintf(stderr, "[%7.3f] %s: %s\n", now_s() - A.t0, domain ? domain : "linphone", msg);
}

static int make_core(void)
{
    LinphoneFactory *f = linphone_factory_get();
    /* Everything liblinphone would keep (its databases of messages and calls, its ZRTP cache,
     * downloads) goes to our folder, not to $HOME's default places. It appends file names to
     * these folders as they are ("DIR" + "linphone.db"), so each must end with a slash. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/", A.o.dir);
    linphone_factory_set_data_dir(f, dir);
    linphone_factory_set_config_dir(f, dir);
    linphone_factory_set_download_dir(f, dir);

    /* No ALSA or PulseAudio card is looked for, so none is opened; the audio stream uses
     * liblinphone's file mode instead (set below). */
    ms_snd_card_manager_bypass_soundcard_detection(TRUE);

    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/linphonerc", A.o.dir);
    LinphoneConfig *cfg = linphone_factory_create_config(f, path);
    if (!cfg)
        return -1;
    /* Read when the core starts, so set before it exists: bind SIP and RTP to loopback (the
     * RTP address is also the one the SDP offers). */
    linphone_config_set_string(cfg, "sip", "bind_address", "127.0.0.1");
    linphone_config_set_string(cfg, "rtp", "bind_address", "127.0.0.1");
    linphone_config_set_int(cfg, "sip", "use_ipv6", 0);
    /* Keep our own address as given: by default liblinphone puts the machine's own (here an
     * IPv6 address of another interface) in From. */
    linphone_config_set_int(cfg, "sip", "guess_hostname", 0);
    /* The network is there even when the machine has no default route. */
    linphone_config_set_int(cfg, "sip", "auto_net_state_mon", 0);
    /* Received lines are not stored as chat messages in the database. */
    linphone_config_set_int(cfg, "misc", "store_rtt_messages", 0);

    LinphoneCoreCbs *cbs = linphone_factory_create_core_cbs(f);
    linphone_core_cbs_set_call_state_changed(cbs, on_call_state);
    linphone_core_cbs_set_is_composing_received(cbs, on_composing);
    A.lc = linphone_factory_create_core_with_config_3(f, cfg, NULL);
    linphone_config_unref(cfg);
    if (!A.lc) {
        linphone_core_cbs_unref(cbs);
        return -1;
    }
    linphone_core_add_callbacks(A.lc, cbs);
    linphone_core_cbs_unref(cbs);

    LinphoneTransports *tr = linphone_factory_create_transports(f);
    linphone_transports_set_udp_port(tr, A.o.sip_port);
    linphone_transports_set_tcp_port(tr, LC_SIP_TRANSPORT_DISABLED);
    linphone_transports_set_tls_port(tr, LC_SIP_TRANSPORT_DISABLED);
    linphone_transports_set_dtls_port(tr, LC_SIP_TRANSPORT_DISABLED);
    linphone_core_set_transports(A.lc, tr);
    linphone_transports_unref(tr);

    linphone_core_set_audio_port(A.lc, A.o.audio_port);
    linphone_core_set_text_port(A.lc, A.o.text_port);
    linphone_core_set_network_reachable(A.lc, TRUE);
    linphone_core_set_primary_contact(A.lc, A.o.answer ? "sip:rtt-answer@127.0.0.1"
                                                       : "sip:rtt-caller@127.0.0.1");

    LinphoneNatPolicy *nat = linphone_core_create_nat_policy(A.lc);
    linphone_nat_policy_enable_stun(nat, FALSE);
    linphone_nat_policy_enable_ice(nat, FALSE);
    linphone_nat_policy_enable_upnp(nat, FALSE);
    linphone_nat_policy_enable_turn(nat, FALSE);
    linphone_core_set_nat_policy(A.lc, nat);
    linphone_nat_policy_unref(nat);

    linphone_core_enable_video_capture(A.lc, FALSE);
    linphone_core_enable_video_display(A.lc, FALSE);
    linphone_core_set_use_files(A.lc, TRUE);
    char silence[PATH_MAX];
    if (!A.o.play) {
        snprintf(silence, sizeof(silence), "%s/silence.wav", A.o.dir);
        if (write_silence(silence) != 0)
            return -1;
    }
    linphone_core_set_play_file(A.lc, A.o.play ? A.o.play : silence);
    linphone_core_set_record_file(A.lc, NULL);
    linphone_core_set_ring(A.lc, NULL);
    linphone_core_set_ringback(A.lc, NULL);
    linphone_core_enable_realtime_text(A.lc, TRUE);

    if (linphone_core_start(A.lc) != 0)
        return -1;
    return 0;
}

/* ---- the script ---- */

static int parse_step(const char *line, struct step *s)
{
    memset(s, 0, sizeof(*s));
    s->line = strdup(line);
    if (!s->line)
        return -1;
    if ((!strncmp(line, "wait ", 5) || !strncmp(line, "type ", 5)) && line[5]) {
        s->op = line[0] == 'w' ? WAIT : TYPE;
        s->chars = malloc(strlen(line) * sizeof(*s->chars));
        long n = s->chars ? decode(line + 5, s->chars) : -1;
        if (n <= 0)
            return -1;
        s->nchars = (size_t)n;
        if (s->op == TYPE)
            return 0;
        s->arg = malloc(s->nchars * 4 + 1);
        if (!s->arg)
            return -1;
        for (size_t i = 0; i < s->nchars; i++)
            s->argn += utf8_put(s->chars[i] == ENTER ? LINE_SEP : s->chars[i], s->arg + s->argn);
        return 0;
    }
    if (!strncmp(line, "sleep ", 6)) {
        char *end;
        s->op = SLEEP;
        s->secs = strtod(line + 6, &end);
        if (end != line + 6 && !*end && s->secs >= 0)
            return 0;
    }
    if (!strcmp(line, "hangup")) {
        s->op = HANGUP;
        return 0;
    }
    if (!strcmp(line, "ended")) {
        s->op = ENDED;
        return 0;
    }
    fprintf(stderr,
            TOOL ": not a step: '%s' (steps: wait, type, sleep, hangup, ended; see --help)\n",
            line);
    return -1;
}

static int read_script(const char *path, struct step **steps, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, TOOL ": cannot read the script %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        struct step *s = realloc(*steps, (*n + 1) * sizeof(**steps));
        if (!s) {
            rc = -1;
            break;
        }
        *steps = s;
        rc = parse_step(line, &s[*n]);
        if (rc == 0)
            (*n)++;
    }
    fclose(f);
    return rc;
}

/* ---- the main loop ---- */

static void iterate(void)
{
    linphone_core_iterate(A.lc);
    struct timespec ts = {0, ITERATE_MS * 1000000L};
    nanosleep(&ts, NULL);
}

static void hang_up(void)
{
    if (!A.call || A.ended)
        return;
    A.we_hung_up = true;
    say("hanging up");
    linphone_call_terminate(A.call);
    double until = now_s() + RELEASE_S;
    while (!A.ended && now_s() < until)
        iterate();
}

/* Run the steps once the call is up; 0 when all are done. */
static int run_steps(struct step *steps, size_t n, double deadline)
{
    for (size_t i = 0; i < n; i++) {
        struct step *s = &steps[i];
        const char *name = s->line;
        say("step %zu: %s", i + 1, name);
        if (s->op == HANGUP) {
            hang_up();
            if (!A.ended) {
                fail("the call was not released within %.0f s of our BYE", RELEASE_S);
                return -1;
            }
            continue;
        }
        double until = s->op == SLEEP ? now_s() + s->secs : now_s() + A.o.wait_timeout;
        size_t next = 0; /* TYPE: the next character to send */
        double next_char = now_s();
        for (;;) {
            if (A.failure[0])
                return -1;
            /* text that came with the end of the call still meets a wait */
            if (s->op == WAIT && A.rxn >= s->argn && memmem(A.rx, A.rxn, s->arg, s->argn))
                break;
            if (s->op == ENDED && A.ended)
                break;
            if (A.ended) {
                fail("the other side ended the call during step %zu (%s)", i + 1, name);
                return -1;
            }
            double t = now_s();
            if (t >= deadline) {
                fail("timeout: the run passed --timeout %.0f s during step %zu (%s)",
                     A.o.timeout, i + 1, name);
                return -1;
            }
            if (s->op == WAIT && t >= until) {
                fail("timeout: waited %.1f s for \"%.*s\"; received so far: \"%.*s\"",
                     A.o.wait_timeout, (int)s->argn, s->arg, (int)A.rxn, A.rx ? A.rx : "");
                return -1;
            } else if (s->op == ENDED && t >= until) {
                fail("timeout: waited %.1f s for the other side to end the call",
                     A.o.wait_timeout);
                return -1;
            } else if (s->op == SLEEP) {
                if (t >= until)
                    break;
            } else if (s->op == TYPE && t >= next_char) {
                if (next == s->nchars)
                    break;
                uint32_t c = s->chars[next++];
                if (put_char(c) != 0) {
                    fail("liblinphone refused to send U+%04X", (unsigned)c);
                    return -1;
                }
                if (c == ENTER)
                    say("typed Enter");
                else
                    say("typed U+%04X", (unsigned)c);
                next_char = t + A.o.type_s;
            }
            iterate();
        }
    }
    return 0;
}

/* Whether the caller's text stream has sent us a packet, so that it runs. Text sent before
 * it runs is lost for good, redundancy and all: a liblinphone receiver empties its socket
 * when its stream starts, and reads only the new text of the first packet it then gets. A
 * liblinphone caller starts its streams about when it sends the ACK, which is also when ours
 * start, but on a loaded machine up to a few hundred ms later (the greeting was lost once in
 * about 170 calls before this wait); its first packet, a BOM, goes out one 300 ms interval
 * after its stream starts. */
static bool caller_text_running(void)
{
    LinphoneCallStats *st = linphone_call_get_stats(A.call, LinphoneStreamTypeText);
    if (!st)
        return false;
    const rtp_stats_t *rs = linphone_call_stats_get_rtp_stats(st);
    bool got = rs && rs->packet_recv > 0;
    linphone_call_stats_unref(st);
    return got;
}

/* Answering: greet once the caller's text stream runs, then echo until the call ends. */
static int run_answer(double deadline)
{
    while (!A.ended && !A.failure[0]) {
        if (now_s() >= deadline) {
            fail(A.call ? "timeout: the call was still up after --timeout %.0f s"
                        : "timeout: no call came within --timeout %.0f s",
                 A.o.timeout);
            break;
        }
        if (A.connected && !A.greeted && A.o.text &&
            (caller_text_running() || now_s() - A.t_up > GREET_ANYWAY_S)) {
            A.greeted = true;
            say("greeting: \"%s\"", A.o.greeting);
            for (size_t i = 0; i < A.ngreet; i++)
                if (put_char(A.greet[i]) != 0)
                    fail("liblinphone refused to send the greeting");
        }
        for (size_t i = 0; i < A.necho; i++)
            if (put_char(A.echo[i]) != 0)
                fail("liblinphone refused to echo U+%04X", (unsigned)A.echo[i]);
        A.necho = 0;
        if (A.bye_heard) {
            /* as a menu's end key does: the echo goes out with the next packet, 300 ms at
             * most, and then the call ends */
            double until = now_s() + 0.5;
            while (now_s() < until && !A.ended)
                iterate();
            hang_up();
            break;
        }
        iterate();
    }
    return A.failure[0] ? -1 : 0;
}

static int place_call(void)
{
    LinphoneAddress *to = linphone_core_interpret_url(A.lc, A.o.uri);
    if (!to) {
        fail("not a SIP address: %s", A.o.uri);
        return -1;
    }
    LinphoneCallParams *p = linphone_core_create_call_params(A.lc, NULL);
    linphone_call_params_enable_realtime_text(p, A.o.text);
    linphone_call_params_enable_audio(p, A.o.audio);
    linphone_call_params_enable_video(p, FALSE);
    say("calling %s (real-time text %s, audio %s)", A.o.uri, A.o.text ? "on" : "off",
        A.o.audio ? "on" : "off");
    LinphoneCall *call = linphone_core_invite_address_with_params(A.lc, to, p);
    linphone_call_params_unref(p);
    linphone_address_unref(to);
    if (!call) {
        fail("liblinphone would not place the call to %s", A.o.uri);
        return -1;
    }
    A.call = linphone_call_ref(call);
    return 0;
}

/* ---- the command line ---- */

static void usage(void)
{
    fprintf(stderr,
            "usage: " TOOL " [options] sip:URI [STEP...]\n"
            "       " TOOL " --answer [options]\n"
            "steps: 'wait TEXT' 'type CHARS' 'sleep SECONDS' 'hangup' 'ended'\n"
            "       (escapes in TEXT and CHARS: \\n \\\\ \\uXXXX)\n"
            "options:\n"
            "  --script FILE        the steps, one a line (instead of argv)\n"
            "  --answer             wait for one call, answer it, greet, echo what comes\n"
            "  --greeting TEXT      what the answerer sends first, escapes as in steps\n"
            "                       (default \"Hello.\")\n"
            "  --no-audio           a text-only call (no audio stream offered or accepted)\n"
            "  --no-text            real-time text off (to see how the other side copes)\n"
            "  --play WAV           the audio we send, in a loop (default: silence)\n"
            "  --bye-on CHAR        answering: hang up when CHAR comes (after echoing it)\n"
            "  --port N             our SIP port on 127.0.0.1 (default 0: the system chooses)\n"
            "  --text-port N        our text RTP port (default 0: the system chooses)\n"
            "  --audio-port N       our audio RTP port (default 0: the system chooses)\n"
            "  --dir DIR            liblinphone's configuration and database (default: a\n"
            "                       temporary folder, removed at exit)\n"
            "  --timeout S          the whole run's bound (default 60)\n"
            "  --wait-timeout S     each wait's bound (default 10)\n"
            "  --type-ms MS         the time between typed characters (default 200)\n"
            "  --verbose            liblinphone's own log, on stderr\n");
}

static bool num(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = s ? strtod(s, &end) : 0;
    if (!s || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, struct step **steps, size_t *n)
{
    struct opts *o = &A.o;
    *o = (struct opts){.audio = true, .text = true, .sip_port = -1, .text_port = -1,
                       .audio_port = -1, .greeting = "Hello.", .timeout = 60,
                       .wait_timeout = 10, .type_s = 0.2};
    const char *script = NULL;
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        if (!strcmp(a, "--help")) {
            usage();
            exit(0);
        } else if (!strcmp(a, "--answer"))
            o->answer = true;
        else if (!strcmp(a, "--no-audio"))
            o->audio = false;
        else if (!strcmp(a, "--no-text"))
            o->text = false;
        else if (!strcmp(a, "--verbose"))
            o->verbose = true;
        else if (!strcmp(a, "--script") && v)
            script = argv[++i];
        else if (!strcmp(a, "--greeting") && v)
            o->greeting = argv[++i];
        else if (!strcmp(a, "--play") && v)
            o->play = argv[++i];
        else if (!strcmp(a, "--bye-on") && v) {
            uint32_t c[8];
            if (strlen(v) >= 8 || decode(v, c) != 1 || c[0] == ENTER) {
                fprintf(stderr, TOOL ": --bye-on takes one character\n");
                return -1;
            }
            o->bye_on = c[0];
            i++;
        } else if (!strcmp(a, "--dir") && v)
            o->dir = argv[++i];
        else if (!strcmp(a, "--port") && num(v, 0, 65535, &d))
            o->sip_port = d > 0 ? (int)d : -1, i++;
        else if (!strcmp(a, "--text-port") && num(v, 0, 65535, &d))
            o->text_port = d > 0 ? (int)d : -1, i++;
        else if (!strcmp(a, "--audio-port") && num(v, 0, 65535, &d))
            o->audio_port = d > 0 ? (int)d : -1, i++;
        else if (!strcmp(a, "--timeout") && num(v, 0.1, 86400, &d))
            o->timeout = d, i++;
        else if (!strcmp(a, "--wait-timeout") && num(v, 0.01, 86400, &d))
            o->wait_timeout = d, i++;
        else if (!strcmp(a, "--type-ms") && num(v, 0, 60000, &d))
            o->type_s = d / 1000, i++;
        else {
            fprintf(stderr, TOOL ": bad option or value: %s%s%s\n", a, v ? " " : "", v ? v : "");
            return -1;
        }
    }
    if (!o->answer) {
        if (i >= argc || strncmp(argv[i], "sip:", 4)) {
            fprintf(stderr, TOOL ": give the SIP URI to call (sip:...), or --answer\n");
            return -1;
        }
        o->uri = argv[i++];
    }
    if (script && i < argc) {
        fprintf(stderr, TOOL ": steps come from --script or from the command line, not both\n");
        return -1;
    }
    if (o->answer && (script || i < argc)) {
        fprintf(stderr, TOOL ": --answer takes no steps (it greets and echoes)\n");
        return -1;
    }
    A.greet = malloc((strlen(o->greeting) + 1) * sizeof(*A.greet));
    long ng = A.greet ? decode(o->greeting, A.greet) : -1;
    if (ng < 0)
        return -1;
    A.ngreet = (size_t)ng;
    if (script)
        return read_script(script, steps, n);
    *steps = calloc((size_t)(argc - i) + 1, sizeof(**steps));
    if (!*steps)
        return -1;
    for (; i < argc; i++) {
        if (parse_step(argv[i], &(*steps)[*n]) != 0)
            return -1;
        (*n)++;
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(int argc, char **argv)
{
    A.t0 = now_s();
    struct step *steps = NULL;
    size_t nsteps = 0;
    if (parse_args(argc, argv, &steps, &nsteps) != 0) {
        fprintf(stderr, TOOL ": the options and steps: " TOOL " --help\n");
        return 2;
    }
    /* A test stops us with SIGTERM: the default action ends the process, and the kernel
     * closes our sockets. A closed pipe on stdout must not kill us before we say why. */
    signal(SIGPIPE, SIG_IGN);

    char tmpdir[PATH_MAX] = "";
    if (!A.o.dir) {
        const char *t = getenv("TMPDIR");
        snprintf(tmpdir, sizeof(tmpdir), "%s/" TOOL ".XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(tmpdir)) {
            fprintf(stderr, TOOL ": cannot make a folder in %s: %s\n", t ? t : "/tmp",
                    strerror(errno));
            return 1;
        }
        A.o.dir = tmpdir;
    } else if (mkdir(A.o.dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, TOOL ": cannot make %s: %s\n", A.o.dir, strerror(errno));
        return 1;
    }

    LinphoneLoggingService *log = linphone_logging_service_get();
    if (A.o.verbose) {
        LinphoneLoggingServiceCbs *lcbs =
            linphone_factory_create_logging_service_cbs(linphone_factory_get());
        linphone_logging_service_cbs_set_log_message_written(lcbs, on_log);
        linphone_logging_service_add_callbacks(log, lcbs);
        linphone_logging_service_cbs_unref(lcbs);
        linphone_logging_service_set_log_level(log, LinphoneLogLevelMessage);
    } else {
        linphone_logging_service_set_log_level(log, LinphoneLogLevelFatal);
    }

    int rc = 1;
    double deadline = A.t0 + A.o.timeout;
    if (make_core() != 0) {
        fail("liblinphone could not start (run with --verbose to see why)");
        goto out;
    }
    LinphoneTransports *used = linphone_core_get_transports_used(A.lc);
    say("%s sip:127.0.0.1:%d", A.o.answer ? "listening on" : "calling from",
        linphone_transports_get_udp_port(used));
    linphone_transports_unref(used);

    if (A.o.answer) {
        if (run_answer(deadline) == 0)
            rc = 0;
        goto out;
    }
    if (place_call() != 0)
        goto out;
    while (!A.connected && !A.failure[0] && !A.ended) {
        if (now_s() >= deadline) {
            fail("timeout: the call was not answered within --timeout %.0f s", A.o.timeout);
            break;
        }
        iterate();
    }
    if (A.ended && !A.connected && !A.failure[0])
        fail("the call ended before it was up");
    if (A.connected && !A.failure[0] && run_steps(steps, nsteps, deadline) == 0)
        rc = 0;

out:
    if (A.failure[0])
        say("FAILED: %s", A.failure);
    if (A.lc) {
        hang_up();
        if (A.typing)
            linphone_chat_message_unref(A.typing);
        if (A.call)
            linphone_call_unref(A.call);
        linphone_core_stop(A.lc);
        linphone_core_unref(A.lc);
    }
    if (rc == 0)
        say("done");
    if (tmpdir[0])
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (size_t i = 0; i < nsteps; i++) {
        free(steps[i].arg);
        free(steps[i].chars);
        free(steps[i].line);
    }
    free(steps);
    free(A.rx);
    free(A.greet);
    return rc;
}
