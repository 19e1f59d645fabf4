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
#include "testlib.h"

#define MENU "tests/data/sip.ini"
#define CACHE "build/sip-test-cache"
#define BIN "build/asan/tonetree"
#define MAX_CALLS 150
/* The first start may make every prompt at every speed, at two rates: under the sanitizers
 * on a loaded machine, minutes. */
#define READY_S 600.0

struct fx {
    char *dir;
    char log[512], err[512];
    pid_t pid;
    int port, metrics, rtp_lo, sipp_port;
    int sip;          /* our SIP socket */
    int sip_port;
};

static int base_port(void)
{
    /* 40 ports per pid slot, in 20000-59999: the service, its metrics, SIPp, our sockets */
    return 20000 + (int)(getpid() % 1000) * 40;
}

/* ---- a SIP caller on a plain socket ------------------------------------------------------ */

static int udp_bind(int port)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    return s;
}

static int local_port(int s)
{
    struct sockaddr_in a;
    socklen_t n = sizeof(a);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &n), 0);
    return ntohs(a.sin_port);
}

static void send_to(int s, int port, const void *buf, size_t n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    (void)sendto(s, buf, n, 0, (struct sockaddr *)&a, sizeof(a));
}

/* Wait (bounded) for a datagram; 0 when none came. */
static size_t recv_wait(int s, char *buf, size_t cap, double secs)
{
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, (int)(secs * 1000)) != 1)
        return 0;
    ssize_t n = recv(s, buf, cap - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    return (size_t)n;
}

struct dialog {
    char callid[64], from_tag[32], to_tag[64];
    int rtp;       /* our media socket */
    int their_rtp; /* the service's media port, from its answer */
    int status;    /* the final response to the INVITE */
};

static const char *header(const char *msg, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = msg; p && *p; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL) {
        if (!strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t n = strcspn(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), v);
            return out;
        }
        if (!strncmp(p, "\r\n", 2))
            break;
    }
    return NULL;
}

/* Answer a request the service sends us (a BYE after its goodbye) with 200. */
static void answer_request(struct fx *f, const char *req)
{
    char via[256], from[256], to[256], cid[128], cseq[64], out[1024];
    if (!header(req, "Via", via, sizeof(via)) || !header(req, "From", from, sizeof(from)) ||
        !header(req, "To", to, sizeof(to)) || !header(req, "Call-ID", cid, sizeof(cid)) ||
        !header(req, "CSeq", cseq, sizeof(cseq)))
        return;
    int n = snprintf(out, sizeof(out),
                     "SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
                     "CSeq: %s\r\nContent-Length: 0\r\n\r\n",
                     via, from, to, cid, cseq);
    send_to(f->sip, f->port, out, (size_t)n);
}

/* The final response to what we sent (its Call-ID and CSeq method), answering the service's
 * own requests meanwhile and passing over responses to earlier requests (the service repeats a
 * final answer until it is acknowledged); 0 when none came in secs. */
static int final_response(struct fx *f, const char *callid, const char *method, char *buf,
                          size_t cap, double secs)
{
    double end = tl_now() + secs;
    while (tl_now() < end) {
        if (!recv_wait(f->sip, buf, cap, end - tl_now()))
            return 0;
        if (strncmp(buf, "SIP/2.0 ", 8)) {
            answer_request(f, buf);
            continue;
        }
        char cseq[64], cid[128];
        int code = atoi(buf + 8);
        if (code >= 200 && header(buf, "CSeq", cseq, sizeof(cseq)) && strstr(cseq, method) &&
            header(buf, "Call-ID", cid, sizeof(cid)) && !strcmp(cid, callid))
            return code;
    }
    return 0;
}

static int invite_with(struct fx *f, struct dialog *d, const char *sdp)
{
    static int serial;
    snprintf(d->callid, sizeof(d->callid), "hostile-%d-%d@127.0.0.1", (int)getpid(), ++serial);
    snprintf(d->from_tag, sizeof(d->from_tag), "t%d", serial);
    char msg[16384];
    int n = snprintf(msg, sizeof(msg),
                     "INVITE sip:ivr@127.0.0.1:%d SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-inv%d\r\n"
                     "From: <sip:hostile@127.0.0.1:%d>;tag=%s\r\n"
                     "To: <sip:ivr@127.0.0.1:%d>\r\n"
                     "Call-ID: %s\r\nCSeq: 1 INVITE\r\n"
                     "Contact: <sip:hostile@127.0.0.1:%d>\r\nMax-Forwards: 70\r\n"
                     "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
                     f->port, f->sip_port, serial, f->sip_port, d->from_tag, f->port, d->callid,
                     f->sip_port, strlen(sdp), sdp);
    assert_true(n > 0 && (size_t)n < sizeof(msg));
    /* Sent again until answered, as over UDP every caller must (RFC 3261 17.1.1.2: T1 = 500
     * ms, doubling): a flood just before may have filled the service's socket buffer. */
    char buf[8192];
    d->status = 0;
    for (double wait = 0.5, end = tl_now() + 20.0; !d->status && tl_now() < end; wait *= 2) {
        send_to(f->sip, f->port, msg, (size_t)n);
        d->status = final_response(f, d->callid, "INVITE", buf, sizeof(buf), wait);
    }
    if (d->status >= 200) {
        /* every final answer is acknowledged (RFC 3261 17.1.1.3), or it comes again */
        char to[256];
        const char *tag = header(buf, "To", to, sizeof(to)) ? strstr(to, "tag=") : NULL;
        assert_non_null(tag);
        snprintf(d->to_tag, sizeof(d->to_tag), "%.*s", (int)strcspn(tag + 4, ";>\r\n"), tag + 4);
        const char *m = d->status == 200 ? strstr(buf, "m=audio ") : NULL;
        if (d->status == 200 && !m)
            fail_msg("a 200 with no audio in its answer:\n%s", buf);
        d->their_rtp = m ? atoi(m + 8) : 0;
        char ack[1024];
        n = snprintf(ack, sizeof(ack),
                     "ACK sip:ivr@127.0.0.1:%d SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s%d\r\n"
                     "From: <sip:hostile@127.0.0.1:%d>;tag=%s\r\nTo: <sip:ivr@127.0.0.1:%d>;tag=%s\r\n"
                     "Call-ID: %s\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                     f->port, f->sip_port, d->status == 200 ? "ack" : "inv", serial, f->sip_port,
                     d->from_tag, f->port, d->to_tag, d->callid);
        send_to(f->sip, f->port, ack, (size_t)n);
    }
    return d->status;
}

/* An offer of PCMU and telephone-event 101 from our media socket. */
static int call_up(struct fx *f, struct dialog *d)
{
    memset(d, 0, sizeof(*d));
    d->rtp = udp_bind(0);
    char sdp[512];
    snprintf(sdp, sizeof(sdp),
             "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
             "m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
             local_port(d->rtp));
    return invite_with(f, d, sdp);
}

static void hang_up(struct fx *f, struct dialog *d)
{
    char bye[1024], buf[4096];
    int n = snprintf(bye, sizeof(bye),
                     "BYE sip:ivr@127.0.0.1:%d SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-bye%s\r\n"
                     "From: <sip:hostile@127.0.0.1:%d>;tag=%s\r\nTo: <sip:ivr@127.0.0.1:%d>;tag=%s\r\n"
                     "Call-ID: %s\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                     f->port, f->sip_port, d->from_tag, f->sip_port, d->from_tag, f->port,
                     d->to_tag, d->callid);
    int code = 0;
    for (double wait = 0.5, end = tl_now() + 10.0; !code && tl_now() < end; wait *= 2) {
        send_to(f->sip, f->port, bye, (size_t)n);
        code = final_response(f, d->callid, "BYE", buf, sizeof(buf), wait);
    }
    assert_int_equal(code, 200);
    close(d->rtp);
}

/* One RTP packet from socket s to the service's media port. */
static void rtp(int s, int port, int pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                const uint8_t *payload, size_t n)
{
    uint8_t pkt[1600];
    pkt[0] = 0x80;
    pkt[1] = (uint8_t)pt;
    pkt[2] = (uint8_t)(seq >> 8);
    pkt[3] = (uint8_t)seq;
    for (int i = 0; i < 4; i++) {
        pkt[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        pkt[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
    memcpy(pkt + 12, payload, n);
    send_to(s, port, pkt, 12 + n);
}

/* A press of key `event` as RFC 4733 packets: 4 updates and 3 copies of the end. */
static void press_event(int s, int port, uint16_t *seq, uint32_t ts, uint32_t ssrc, int event)
{
    for (int i = 1; i <= 7; i++) {
        unsigned dur = (unsigned)(i < 4 ? i : 4) * 400;
        uint8_t ev[4] = {(uint8_t)event, (uint8_t)(i >= 4 ? 0x80 | 10 : 10), (uint8_t)(dur >> 8),
                         (uint8_t)dur};
        rtp(s, port, 101, (*seq)++, ts, ssrc, ev, 4);
        tl_sleep(0.02);
    }
}

/* Packets received on s for secs: the service's audio coming. */
static int count_packets(int s, double secs)
{
    int n = 0;
    char buf[2048];
    double end = tl_now() + secs;
    while (tl_now() < end)
        if (recv_wait(s, buf, sizeof(buf), end - tl_now()))
            n++;
    return n;
}

/* ---- the service --------------------------------------------------------------------------- */

/* The metrics page, over a plain HTTP/1.0 GET (bounded: a service that does not answer in
 * 10 s fails the test). */
static char *metric_page(struct fx *f)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->metrics),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
    const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    assert_int_equal(write(s, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
    size_t cap = 1 << 16, n = 0;
    char *page = calloc(1, cap);
    assert_non_null(page);
    double end = tl_now() + 10.0;
    for (;;) {
        struct pollfd p = {.fd = s, .events = POLLIN};
        if (tl_now() > end || poll(&p, 1, 1000) < 0)
            fail_msg("the metrics page did not come in 10 s");
        if (!(p.revents & (POLLIN | POLLHUP)))
            continue;
        ssize_t got = read(s, page + n, cap - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
        page[n] = 0;
        /* libre keeps the connection open: the page is whole at its Content-Length */
        const char *body = strstr(page, "\r\n\r\n");
        const char *len = strcasestr(page, "Content-Length:");
        if (n == cap - 1 || (body && len && (size_t)(page + n - (body + 4)) >= strtoul(len + 15, NULL, 10)))
            break;
    }
    close(s);
    page[n] = 0;
    return page;
}

static double metric(struct fx *f, const char *name)
{
    char *page = metric_page(f);
    char key[128];
    snprintf(key, sizeof(key), "\n%s ", name);
    char *at = strstr(page, key);
    if (!at)
        fail_msg("the metrics page has no %s:\n%s", name, page);
    double v = strtod(at + strlen(key), NULL);
    free(page);
    return v;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->dir = tl_tmpdir();
    snprintf(f->log, sizeof(f->log), "%s/calls.log", f->dir);
    snprintf(f->err, sizeof(f->err), "%s/sip.err", f->dir);
    int b = base_port();
    f->port = b;
    f->metrics = b + 1;
    f->sipp_port = b + 2;
    f->sip_port = b + 4;
    f->rtp_lo = 40000 + (int)(getpid() % 100) * 200;
    mkdir("build", 0755);
    mkdir(CACHE, 0755);
    char listen[32], metrics[32], ports[32], max[16];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", f->port);
    snprintf(metrics, sizeof(metrics), "127.0.0.1:%d", f->metrics);
    snprintf(ports, sizeof(ports), "%d-%d", f->rtp_lo, f->rtp_lo + 199);
    snprintf(max, sizeof(max), "%d", MAX_CALLS);
    const char *argv[] = {"tonetree", "sip", MENU, "--listen", listen, "--metrics", metrics,
                          "--rtp-ports", ports, "--max-calls", max, "--log", f->log,
                          "--cache", CACHE, NULL};
    setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=23", 1);
    struct tl_proc p = {.argv = argv, .in = -1, .err = f->err, .home = f->dir, .tmp = f->dir,
                        .bin = BIN};
    f->pid = tl_proc_start(&p);
    tl_wait_file(f->err, "listening on", 0, READY_S);
    f->sip = udp_bind(f->sip_port);
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
    if (f->sip > 0)
        close(f->sip);
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
             "-p %d -mp %d -d %d -m %d -l %d -r %d -nostdin -timeout %ds -timeout_error "
             "-trace_err 127.0.0.1:%d >sipp.out 2>&1",
             f->dir, (int)secs + 10, getenv("PWD") ? getenv("PWD") : ".", f->sipp_port,
             f->rtp_lo + 300, pause_ms, calls, limit, rate, (int)secs, f->port);
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
    double fds = metric(f, "process_open_fds");
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
    assert_int_equal(metric(f, "tonetree_calls_active"), 0);
    double after = metric(f, "process_open_fds");
    print_message("open descriptors: %.0f before the 1000 calls, %.0f after\n", fds, after);
    assert_true(after == fds);
    stop_clean(f); /* LeakSanitizer runs at exit: a leak fails it */
}

static void malformed_sip_and_sdp_are_answered_or_dropped_and_the_service_goes_on(void **state)
{
    struct fx *f = *state;
    struct dialog d;
    /* garbage, and requests cut short, at the SIP port: nothing to answer, nothing to crash */
    uint32_t seed = 12345;
    char junk[1400];
    for (int i = 0; i < 300; i++) {
        size_t n = 1 + (seed % sizeof(junk));
        for (size_t k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            junk[k] = (char)(seed >> 16);
        }
        send_to(f->sip, f->port, junk, n);
    }
    const char *cut[] = {"INVITE", "INVITE sip:ivr@127.0.0.1 SIP/2.0\r\n",
                         "INVITE sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP\r\n\r\n",
                         "OPTIONS sip:x SIP/2.0\r\nContent-Length: 99999\r\n\r\n",
                         "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n"};
    for (size_t i = 0; i < sizeof(cut) / sizeof(*cut); i++)
        send_to(f->sip, f->port, cut[i], strlen(cut[i]));
    /* offers that are wrong in each way an SDP can be */
    const char *hdr = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n";
    char sdp[8192];
    snprintf(sdp, sizeof(sdp), "%sm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n", hdr);
    assert_int_equal(invite_with(f, &d, sdp), 488); /* nothing we speak */
    snprintf(sdp, sizeof(sdp), "%sm=video 4000 RTP/AVP 96\r\n", hdr);
    assert_int_equal(invite_with(f, &d, sdp), 488); /* no audio at all */
    snprintf(sdp, sizeof(sdp), "%sm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 G722/16000\r\n",
             hdr); /* a dynamic number given to a codec with a static one: PCMU is there */
    int code = invite_with(f, &d, sdp);
    assert_true(code == 200 || code == 488);
    if (code == 200)
        hang_up(f, &d);
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
        code = invite_with(f, &d, broken[i]);
        print_message("broken offer %zu: %d\n", i, code);
        if (code == 200)
            hang_up(f, &d); /* taken as well-formed enough: it must still be a working call */
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
    code = invite_with(f, &d, sdp);
    print_message("huge offer: %d\n", code);
    if (code == 200)
        hang_up(f, &d);
    /* and the service still serves a caller who plays by the rules */
    assert_int_equal(call_up(f, &d), 200);
    uint16_t seq = 1;
    rtp(d.rtp, d.their_rtp, 0, seq++, 0, 0x1234, (const uint8_t *)junk, 160);
    assert_true(count_packets(d.rtp, 1.0) >= 25); /* 50 a second, half of them at least */
    press_event(d.rtp, d.their_rtp, &seq, 8000, 0x1234, 1);
    tl_sleep(0.5);
    hang_up(f, &d);
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
    struct dialog d;
    assert_int_equal(call_up(f, &d), 200);
    uint16_t seq = 100;
    uint8_t silence[160];
    memset(silence, 0xff, sizeof(silence)); /* PCMU silence */
    rtp(d.rtp, d.their_rtp, 0, seq++, 0, 0x1111, silence, sizeof(silence));
    tl_sleep(0.2);
    /* someone else: keys, a flood of unknown payload types, nonsense durations */
    int other = udp_bind(0);
    uint16_t oseq = 1;
    press_event(other, d.their_rtp, &oseq, 4000, 0x2222, 1);
    uint8_t big[1400] = {0};
    for (int i = 0; i < 2000; i++)
        rtp(other, d.their_rtp, 77 + i % 20, oseq++, (uint32_t)i * 160, 0x2222, big,
            (size_t)(i % 1400));
    /* the caller itself sends unknown payload types, a runt event and backwards durations */
    for (int i = 0; i < 500; i++)
        rtp(d.rtp, d.their_rtp, 96 + i % 5, seq++, (uint32_t)i * 160, 0x1111, big, 40);
    /* A flood fills the service's socket buffer, and the kernel drops what comes behind it:
     * the caller's key waits until the flood has been read. */
    tl_sleep(0.5);
    rtp(d.rtp, d.their_rtp, 101, seq++, 90000, 0x1111, (const uint8_t *)"\x03", 1);
    uint16_t durs[] = {0xffff, 0x8000, 0x0001, 0xffff, 0};
    for (size_t i = 0; i < sizeof(durs) / sizeof(*durs); i++) {
        uint8_t ev[4] = {3, (uint8_t)(i == 4 ? 0x80 : 0), (uint8_t)(durs[i] >> 8),
                         (uint8_t)durs[i]};
        rtp(d.rtp, d.their_rtp, 101, seq++, 120000, 0x1111, ev, 4);
    }
    /* the caller's audio kept coming all along */
    assert_true(count_packets(d.rtp, 1.0) >= 25);
    close(other);
    hang_up(f, &d);
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
    struct dialog d;
    assert_int_equal(call_up(f, &d), 200);
    uint8_t silence[160];
    memset(silence, 0xff, sizeof(silence));
    rtp(d.rtp, d.their_rtp, 0, 1, 0, 0x3333, silence, sizeof(silence));
    /* 600 calls at 300 a second with room for MAX_CALLS - 1: SIPp counts the refused ones */
    pid_t storm = fork();
    assert_true(storm >= 0);
    if (storm == 0)
        _exit(sipp(f, 600, 600, 300, 2000, 60) >= 0 ? 0 : 1);
    tl_sleep(0.5);
    int got = count_packets(d.rtp, 3.0);
    int st;
    waitpid(storm, &st, 0);
    print_message("during the storm the call in progress got %d packets in 3 s (150 sent)\n",
                  got);
    assert_true(got >= 120);
    double refused = metric(f, "tonetree_calls_refused_total");
    print_message("refused: %.0f\n", refused);
    assert_true(refused >= 1);
    hang_up(f, &d);
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
