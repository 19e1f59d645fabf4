/*
 * `tonetree sip` against callers who break the rules, under AddressSanitizer and
 * UndefinedBehaviorSanitizer (build/asan/tonetree): a thousand calls that leave no descriptor
 * and no leak behind, malformed SIP and SDP, RTP from someone who is not the caller, floods of
 * packets nobody asked for, RFC 4733 durations that make no sense, and a storm of INVITEs past
 * --max-calls. After each, the service must still answer, the calls in progress must keep
 * their audio, and when it is stopped it must exit 0: a leak, a read out of bounds or undefined
 * behaviour anywhere makes the sanitized binary exit otherwise, and the test fails.
 *
 * The hostile caller is written here, on plain UDP sockets: SIP is text, and a caller that can
 * send anything at all is the point. SIPp (`sip-tester`) is the well-behaved crowd: the
 * thousand calls and the storm, with its own scenario (tests/data/sipp/dtmf_call.xml: offer
 * PCMU with telephone-event, press 1 by RFC 2833 from SIPp's shipped capture, hang up).
 * Everything listens on 127.0.0.1, on ports derived from the test's pid; every process is
 * stopped by its pid and every wait is bounded. The prompts are made once into
 * build/sip-test-cache, which every SIP test shares (the words are the same).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "proclib.h"
#include "siplib.h"
#include "testlib.h"

#define MENU "tests/data/sip.ini"
#define CACHE "build/sip-test-cache"
#define BIN "build/asan/tonetree"
#define MAX_CALLS 150
/* The first start may make every prompt at every speed, at two rates: under the sanitizers
 * on a loaded machine, minutes. */
#define READY_S 600.0
/* what the heap may keep after a thousand calls: 64 bytes a call */
#define HEAP_SLACK (64.0 * 1000)

struct fx {
    char *dir;
    char log[512], err[512];
    pid_t pid;
    int port, metrics; /* the service's, as it says them */
    struct tl_sip c;  /* our SIP socket, and where the service is */
};

/* ---- a SIP caller on a plain socket ------------------------------------------------------ */

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->dir = tl_tmpdir();
    snprintf(f->log, sizeof(f->log), "%s/calls.log", f->dir);
    snprintf(f->err, sizeof(f->err), "%s/sip.err", f->dir);
    mkdir("build", 0755);
    mkdir(CACHE, 0755);
    char max[16];
    snprintf(max, sizeof(max), "%d", MAX_CALLS);
    /* ports 0: the system chooses free ones and the service says which, so two runs of the
     * suite on one machine cannot collide; RTP takes any free port of a wide range */
    const char *argv[] = {"tonetree", "sip", MENU, "--listen", "127.0.0.1:0",
                          "--metrics", "127.0.0.1:0", "--rtp-ports", "30000-59999",
                          "--max-calls", max, "--log", f->log, "--cache", CACHE,
                          "--speeds", "normal", NULL};
    setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=23", 1);
    struct tl_proc p = {.argv = argv, .in = -1, .err = f->err, .home = f->dir, .tmp = f->dir,
                        .bin = BIN};
    f->pid = tl_proc_start(&p);
    tl_sip_wait_ready(f->pid, f->err, READY_S, &f->port, &f->metrics);
    tl_sip_open(&f->c, f->port, 0, f->metrics);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
    }
    tl_sip_close(&f->c);
    if (getenv("TT_SIP_KEEP")) /* to look at what happened: the folder is kept, and named */
        print_message("kept %s\n", f->dir);
    else
        tl_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* SIGTERM: drained and gone with status 0 (the sanitizers' reports would change it). */
static void stop_clean(struct fx *f)
{
    kill(f->pid, SIGTERM);
    int st = tl_proc_finish(f->pid, 60.0);
    f->pid = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char *err = tl_slurp(f->err);
        fail_msg("tonetree sip did not exit 0 after SIGTERM (status %d); its stderr:\n%s",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st), err);
    }
}

static int sipp(struct fx *f, int calls, int limit, int rate, int pause_ms, double secs)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "cd %s && timeout -s KILL %d sipp -sf %s/tests/data/sipp/dtmf_call.xml -i 127.0.0.1 "
             "-mp %d -d %d -m %d -l %d -r %d -nostdin -timeout %ds -timeout_error "
             "-trace_err 127.0.0.1:%d >sipp.out 2>&1",
             f->dir, (int)secs + 10, getenv("PWD") ? getenv("PWD") : ".", tl_sip_free_pair(),
             pause_ms, calls, limit, rate, (int)secs, f->port);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static size_t count_lines(const char *path, const char *what)
{
    char *text = tl_slurp(path);
    size_t n = 0;
    for (char *p = text; (p = strstr(p, what)); p++)
        n++;
    free(text);
    return n;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void a_thousand_calls_each_reach_their_page_and_leave_no_descriptor_or_leak(void **state)
{
    struct fx *f = *state;
    /* a few calls first: what the first call sets up once (libre's tables) is not a leak */
    assert_int_equal(sipp(f, 20, 20, 20, 300, 60), 0);
    double fds = tl_sip_metric(&f->c, "process_open_fds");
    double heap = tl_sip_metric(&f->c, "tonetree_heap_bytes");
    int rc = sipp(f, 1000, 100, 100, 300, 120);
    if (rc != 0) {
        char path[600];
        snprintf(path, sizeof(path), "%s/sipp.out", f->dir);
        char *out = tl_slurp(path);
        fail_msg("SIPp reported failed calls (status %d):\n%s", rc, out);
    }
    print_message("1020 calls: %zu log lines reached the info page\n",
                  count_lines(f->log, "nodes=main>info "));
    assert_int_equal(count_lines(f->log, "call call-id="), 1020);
    char *log = tl_slurp(f->log);
    for (char *l = strtok(log, "\n"); l; l = strtok(NULL, "\n"))
        if (!strstr(l, "nodes=main>info "))
            print_message("not at the info page: %s\n", l);
    free(log);
    assert_int_equal(count_lines(f->log, "nodes=main>info "), 1020);
    assert_int_equal(tl_sip_metric(&f->c, "tonetree_calls_active"), 0);
    double after = tl_sip_metric(&f->c, "process_open_fds");
    print_message("open descriptors: %.0f before the 1000 calls, %.0f after\n", fds, after);
    assert_true(after == fds);
    /* The heap, as the sanitizer counts it: libre keeps each call's last transactions for
     * 64 T1 (32 s) after its BYE, so it is watched until it comes back to where it was after
     * the first 20 calls (whose own transactions were still there), within HEAP_SLACK: 64
     * bytes a call. A call that left anything behind, even reachable, stays above it. */
    double now = tl_sip_metric(&f->c, "tonetree_heap_bytes");
    double t0 = tl_now();
    while (now > heap + HEAP_SLACK && tl_now() - t0 < 60.0) {
        tl_sleep(1.0);
        now = tl_sip_metric(&f->c, "tonetree_heap_bytes");
    }
    print_message("heap: %.0f bytes after 20 calls, %.0f after 1000 more (%.0f s later)\n", heap,
                  now, tl_now() - t0);
    assert_true(heap > 0);
    assert_true(now <= heap + HEAP_SLACK);
    stop_clean(f); /* LeakSanitizer runs at exit: a leak fails it */
}

static void malformed_sip_and_sdp_are_answered_or_dropped_and_the_service_goes_on(void **state)
{
    struct fx *f = *state;
    struct tl_dialog d;
    /* garbage, and requests cut short, at the SIP port: nothing to answer, nothing to crash */
    uint32_t seed = 12345;
    char junk[1400];
    for (int i = 0; i < 300; i++) {
        size_t n = 1 + (seed % sizeof(junk));
        for (size_t k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            junk[k] = (char)(seed >> 16);
        }
        tl_sip_send_to(f->c.sock, f->port, junk, n);
    }
    const char *cut[] = {"INVITE", "INVITE sip:ivr@127.0.0.1 SIP/2.0\r\n",
                         "INVITE sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP\r\n\r\n",
                         "OPTIONS sip:x SIP/2.0\r\nContent-Length: 99999\r\n\r\n",
                         "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n"};
    for (size_t i = 0; i < sizeof(cut) / sizeof(*cut); i++)
        tl_sip_send_to(f->c.sock, f->port, cut[i], strlen(cut[i]));
    /* offers that are wrong in each way an SDP can be */
    const char *hdr = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n";
    char sdp[8192];
    snprintf(sdp, sizeof(sdp), "%sm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n", hdr);
    assert_int_equal(tl_sip_invite_with(&f->c, &d, sdp), 488); /* nothing we speak */
    snprintf(sdp, sizeof(sdp), "%sm=video 4000 RTP/AVP 96\r\n", hdr);
    assert_int_equal(tl_sip_invite_with(&f->c, &d, sdp), 488); /* no audio at all */
    snprintf(sdp, sizeof(sdp), "%sm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 G722/16000\r\n",
             hdr); /* a dynamic number given to a codec with a static one: PCMU is there */
    int code = tl_sip_invite_with(&f->c, &d, sdp);
    assert_true(code == 200 || code == 488);
    if (code == 200)
        tl_sip_hang_up(&f->c, &d);
    const char *broken[] = {
        "v=0\r\n", "garbage\r\n", "v=0\r\nm=audio x RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 999.1.1.1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 70000 RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP\r\n",
    };
    for (size_t i = 0; i < sizeof(broken) / sizeof(*broken); i++) {
        code = tl_sip_invite_with(&f->c, &d, broken[i]);
        print_message("broken offer %zu: %d\n", i, code);
        if (code == 200)
            tl_sip_hang_up(&f->c, &d); /* taken as well-formed enough: it must still be a working call */
        else
            assert_true(code >= 400 && code < 600);
    }
    /* a huge offer: 400 formats, an attribute of 4000 bytes */
    int n = snprintf(sdp, sizeof(sdp), "%sm=audio 4000 RTP/AVP", hdr);
    for (int i = 0; i < 400 && n < 3000; i++)
        n += snprintf(sdp + n, sizeof(sdp) - (size_t)n, " %d", i % 128);
    n += snprintf(sdp + n, sizeof(sdp) - (size_t)n, "\r\na=x:");
    while (n < 7000)
        sdp[n++] = 'y';
    snprintf(sdp + n, sizeof(sdp) - (size_t)n, "\r\n");
    code = tl_sip_invite_with(&f->c, &d, sdp);
    print_message("huge offer: %d\n", code);
    if (code == 200)
        tl_sip_hang_up(&f->c, &d);
    /* and the service still serves a caller who plays by the rules */
    assert_int_equal(tl_sip_call_up(&f->c, &d), 200);
    uint16_t seq = 1;
    tl_sip_rtp(d.rtp, d.their_rtp, 0, seq++, 0, 0x1234, (const uint8_t *)junk, 160);
    assert_true(tl_sip_count_packets(d.rtp, 1.0) >= 25); /* 50 a second, half of them at least */
    tl_sip_press_event(d.rtp, d.their_rtp, &seq, 8000, 0x1234, 1);
    tl_sleep(0.5);
    tl_sip_hang_up(&f->c, &d);
    tl_sleep(0.3);
    char *log = tl_slurp(f->log);
    char want[160];
    snprintf(want, sizeof(want), "call-id=%s ", d.callid);
    char *line = strstr(log, want);
    assert_non_null(line);
    assert_non_null(strstr(line, "nodes=main>info "));
    free(log);
    stop_clean(f);
}

static void rtp_from_anyone_but_the_caller_is_ignored_and_cannot_press_keys(void **state)
{
    struct fx *f = *state;
    struct tl_dialog d;
    assert_int_equal(tl_sip_call_up(&f->c, &d), 200);
    uint16_t seq = 100;
    uint8_t silence[160];
    memset(silence, 0xff, sizeof(silence)); /* PCMU silence */
    tl_sip_rtp(d.rtp, d.their_rtp, 0, seq++, 0, 0x1111, silence, sizeof(silence));
    tl_sleep(0.2);
    /* someone else: keys, a flood of unknown payload types, nonsense durations */
    int other = tl_sip_udp_bind(0);
    uint16_t oseq = 1;
    tl_sip_press_event(other, d.their_rtp, &oseq, 4000, 0x2222, 1);
    uint8_t big[1400] = {0};
    for (int i = 0; i < 2000; i++)
        tl_sip_rtp(other, d.their_rtp, 77 + i % 20, oseq++, (uint32_t)i * 160, 0x2222, big,
            (size_t)(i % 1400));
    /* the caller itself sends unknown payload types, a runt event and backwards durations */
    for (int i = 0; i < 500; i++)
        tl_sip_rtp(d.rtp, d.their_rtp, 96 + i % 5, seq++, (uint32_t)i * 160, 0x1111, big, 40);
    /* A flood fills the service's socket buffer, and the kernel drops what comes behind it:
     * the caller's key waits until the flood has been read. */
    tl_sleep(0.5);
    tl_sip_rtp(d.rtp, d.their_rtp, 101, seq++, 90000, 0x1111, (const uint8_t *)"\x03", 1);
    uint16_t durs[] = {0xffff, 0x8000, 0x0001, 0xffff, 0};
    for (size_t i = 0; i < sizeof(durs) / sizeof(*durs); i++) {
        uint8_t ev[4] = {3, (uint8_t)(i == 4 ? 0x80 : 0), (uint8_t)(durs[i] >> 8),
                         (uint8_t)durs[i]};
        tl_sip_rtp(d.rtp, d.their_rtp, 101, seq++, 120000, 0x1111, ev, 4);
    }
    /* the caller's audio kept coming all along */
    assert_true(tl_sip_count_packets(d.rtp, 1.0) >= 25);
    close(other);
    tl_sip_hang_up(&f->c, &d);
    tl_sleep(0.3);
    /* Key 3 (the caller's own, with its odd durations) is not a choice in main: one invalid
     * key. The other sender's 1 never counted: the caller is still at main. */
    char *log = tl_slurp(f->log);
    char want[160];
    snprintf(want, sizeof(want), "call-id=%s ", d.callid);
    char *line = strstr(log, want);
    assert_non_null(line);
    *strchrnul(line, '\n') = 0;
    print_message("%s\n", line);
    assert_non_null(strstr(line, "nodes=main "));
    assert_non_null(strstr(line, "invalid=1 "));
    free(log);
    stop_clean(f);
}

static void an_invite_storm_past_max_calls_gets_503_and_the_call_in_progress_keeps_its_audio(
    void **state)
{
    struct fx *f = *state;
    struct tl_dialog d;
    assert_int_equal(tl_sip_call_up(&f->c, &d), 200);
    uint8_t silence[160];
    memset(silence, 0xff, sizeof(silence));
    tl_sip_rtp(d.rtp, d.their_rtp, 0, 1, 0, 0x3333, silence, sizeof(silence));
    /* 600 calls at 300 a second with room for MAX_CALLS - 1: SIPp counts the refused ones */
    pid_t storm = fork();
    assert_true(storm >= 0);
    if (storm == 0)
        _exit(sipp(f, 600, 600, 300, 2000, 60) >= 0 ? 0 : 1);
    tl_sleep(0.5);
    int got = tl_sip_count_packets(d.rtp, 3.0);
    int st;
    waitpid(storm, &st, 0);
    print_message("during the storm the call in progress got %d packets in 3 s (150 sent)\n",
                  got);
    assert_true(got >= 120);
    double refused = tl_sip_metric(&f->c, "tonetree_calls_refused_total");
    print_message("refused: %.0f\n", refused);
    assert_true(refused >= 1);
    /* INVITEs that never ACK (forged sources): at most a tenth of the calls (16 here) wait for
     * their ACK at once; the rest are refused, and the call in progress goes on */
    int flood = tl_sip_udp_bind(0);
    for (int i = 0; i < 60; i++) {
        char inv[1024], sdp[256];
        snprintf(sdp, sizeof(sdp),
                 "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                 "m=audio 9 RTP/AVP 0\r\n");
        int n = snprintf(inv, sizeof(inv),
                         "INVITE sip:ivr@127.0.0.1:%d SIP/2.0\r\n"
                         "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-fl%d\r\n"
                         "From: <sip:x@127.0.0.1:9>;tag=f%d\r\nTo: <sip:ivr@127.0.0.1>\r\n"
                         "Call-ID: flood-%d-%d\r\nCSeq: 1 INVITE\r\n"
                         "Contact: <sip:x@127.0.0.1:9>\r\nContent-Type: application/sdp\r\n"
                         "Content-Length: %zu\r\n\r\n%s",
                         f->port, i, i, (int)getpid(), i, strlen(sdp), sdp);
        tl_sip_send_to(flood, f->port, inv, (size_t)n);
    }
    close(flood);
    tl_sleep(1.0);
    double active = tl_sip_metric(&f->c, "tonetree_calls_active");
    print_message("60 INVITEs that never ACK: %.0f calls up (the one in progress among them)\n",
                  active);
    assert_true(active <= 1 + 16);
    assert_true(tl_sip_count_packets(d.rtp, 1.0) >= 25);
    tl_sip_hang_up(&f->c, &d);
    stop_clean(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            a_thousand_calls_each_reach_their_page_and_leave_no_descriptor_or_leak, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            malformed_sip_and_sdp_are_answered_or_dropped_and_the_service_goes_on, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            rtp_from_anyone_but_the_caller_is_ignored_and_cannot_press_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(
            an_invite_storm_past_max_calls_gets_503_and_the_call_in_progress_keeps_its_audio,
            setup, teardown),
    };
    if (getenv("TT_TEST")) /* one test by name (a pattern), to look at it alone */
        cmocka_set_test_filter(getenv("TT_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
