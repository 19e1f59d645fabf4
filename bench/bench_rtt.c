/*
 * Real-time text on `tonetree sip` (issue 13's benchmark): how soon a caller reads a prompt, and
 * how soon a typed key is answered, in text.
 *
 *  - prompt to text: from our ACK (the call begins, and the first prompt with it; our text
 *    stream's first packet, a BOM, goes with it, as a phone's does) to the first RTP packet of
 *    the text stream that carries characters. EN 301 549 asks for 500 ms or less
 *    between text being entered and being sent; the engine's text is entered when a prompt
 *    starts, so that is the bound this is held against, printed beside it.
 *  - key to answer: half a second into the first prompt's text, a "1" is sent as one T.140
 *    packet (it cuts the prompt, as any key does); from then to the first packet carrying the
 *    next page's characters. It holds the session's pause before an answer (the menu's gap,
 *    400 ms) and the sender's wait for its 300 ms packet slot at most, so the figure to compare
 *    is gap + 300 ms.
 *
 * The caller is written here on a raw UDP socket: SIP text, and T.140 read back by the
 * project's own receiver (src/sip/t140.c), so that the times are the packets' own, with no
 * phone library's loop in between. Calls with text alone and with audio beside the text, N each,
 * one after another on one service; medians, p90 and max. Loopback only; the service is
 * started and stopped by its pid, every wait bounded. Benchmarks report: they never fail on a
 * figure.
 *
 *   build/bench/bench_rtt [N]       (make bench runs it; about 1 s a call)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "sip/t140.h"

#define GAP_MS 400 /* the menu's gap (tests/data/sip.ini keeps the default) */

static int udp(void)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
        exit(1);
    return s;
}

static int port_of(int s)
{
    struct sockaddr_in a;
    socklen_t l = sizeof(a);
    getsockname(s, (struct sockaddr *)&a, &l);
    return ntohs(a.sin_port);
}

static void send_to(int s, int port, const void *b, size_t n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    (void)sendto(s, b, n, 0, (struct sockaddr *)&a, sizeof(a));
}

static ssize_t recv_wait(int s, void *b, size_t n, int ms)
{
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return -1;
    return recv(s, b, n, 0);
}

/* ---- the text the caller reads ---- */

struct screen {
    char text[16384];
    size_t len;
};

static void on_text(void *user, const char *utf8, size_t n)
{
    struct screen *sc = user;
    if (sc->len + n < sizeof(sc->text)) {
        memcpy(sc->text + sc->len, utf8, n);
        sc->len += n;
        sc->text[sc->len] = '\0';
    }
}

struct result {
    double prompt_ms, key_ms;
    bool ok;
};

/* One call: INVITE (text alone, or audio and text), ACK, the first text, a "1", the answer. */
static struct result one_call(int sip_port, bool audio, int serial)
{
    struct result r = {0};
    int sip = udp(), trtp = udp(), artp = udp();
    char sdp[1024], msg[4096], buf[8192];
    int n = snprintf(sdp, sizeof(sdp),
                     "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n");
    if (audio)
        n += snprintf(sdp + n, sizeof(sdp) - (size_t)n,
                      "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", port_of(artp));
    snprintf(sdp + n, sizeof(sdp) - (size_t)n,
             "m=text %d RTP/AVP 96 97\r\na=rtpmap:96 red/1000\r\na=fmtp:96 97/97/97\r\n"
             "a=rtpmap:97 t140/1000\r\n",
             port_of(trtp));
    char callid[64];
    snprintf(callid, sizeof(callid), "bench-rtt-%d-%d", (int)getpid(), serial);
    int sp = port_of(sip);
    int m = snprintf(msg, sizeof(msg),
                     "INVITE sip:ivr@127.0.0.1:%d SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-b%d\r\n"
                     "From: <sip:bench@127.0.0.1:%d>;tag=b%d\r\nTo: <sip:ivr@127.0.0.1:%d>\r\n"
                     "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:bench@127.0.0.1:%d>\r\n"
                     "Max-Forwards: 70\r\nContent-Type: application/sdp\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     sip_port, sp, serial, sp, serial, sip_port, callid, sp, strlen(sdp), sdp);
    send_to(sip, sip_port, msg, (size_t)m);
    char to[256] = "";
    int their_text = 0;
    for (double end = bench_now_ms() + 5000; bench_now_ms() < end;) {
        ssize_t k = recv_wait(sip, buf, sizeof(buf) - 1, 500);
        if (k <= 0)
            continue;
        buf[k] = '\0';
        if (strncmp(buf, "SIP/2.0 200", 11))
            continue;
        char *t = strcasestr(buf, "\r\nTo:");
        char *mt = strstr(buf, "m=text ");
        if (t)
            snprintf(to, sizeof(to), "%.*s", (int)strcspn(t + 2, "\r"), t + 2);
        if (mt)
            their_text = atoi(mt + 7);
        break;
    }
    if (!their_text)
        goto out;
    m = snprintf(msg, sizeof(msg),
                 "ACK sip:ivr@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-a%d\r\n"
                 "From: <sip:bench@127.0.0.1:%d>;tag=b%d\r\n%s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\n"
                 "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                 sip_port, sp, serial, sp, serial, to, callid);
    double t_ack = bench_now_ms();
    send_to(sip, sip_port, msg, (size_t)m);
    /* as a real-time-text phone does when its stream starts (liblinphone: a BOM): the service
     * sends its first words once it has the caller's first packet */
    uint16_t seq = 1;
    uint8_t bom[12 + 4] = {0x80, 96, 0, (uint8_t)seq++, 0, 0, 0, 0, 0, 0, 0x42, 0x42,
                           97, 0xef, 0xbb, 0xbf};
    send_to(trtp, their_text, bom, sizeof(bom));
    struct screen sc = {0};
    struct tt_t140_rx rx;
    tt_t140_rx_init(&rx, 97, 96, 0, on_text, &sc);
    double t_first = 0, t_key = 0, t_answer = 0;
    size_t at_key = 0;
    for (double end = t_ack + 60000; bench_now_ms() < end && !t_answer;) {
        uint8_t pkt[2048];
        ssize_t k = recv_wait(trtp, pkt, sizeof(pkt), 100);
        double now = bench_now_ms();
        if (k > 12) {
            size_t before = sc.len;
            tt_t140_rx_packet(&rx, (uint16_t)(pkt[2] << 8 | pkt[3]), pkt[1] & 0x7f, pkt + 12,
                              (size_t)k - 12, (tt_ms)now);
            if (sc.len > before && !t_first)
                t_first = now;
            if (t_key && sc.len > at_key)
                t_answer = now;
        }
        /* half a second into the first prompt's text: type 1 (it cuts the prompt, and the
         * answer is the next page), as a red packet with no redundant generation yet */
        if (!t_key && t_first && now - t_first >= 500) {
            uint8_t key[12 + 2] = {0x80, 96, (uint8_t)(seq >> 8), (uint8_t)seq, 0, 0, 0, 0,
                                   0, 0, 0x42, 0x42, 97, '1'};
            seq++;
            /* the service latched its text peer on its first packet to us: it sends to us,
             * and takes ours from the port it sends to */
            send_to(trtp, their_text, key, sizeof(key));
            t_key = bench_now_ms();
            at_key = sc.len;
        }
    }
    r.prompt_ms = t_first - t_ack;
    r.key_ms = t_answer - t_key;
    r.ok = t_first && t_answer;
    m = snprintf(msg, sizeof(msg),
                 "BYE sip:ivr@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-y%d\r\n"
                 "From: <sip:bench@127.0.0.1:%d>;tag=b%d\r\n%s\r\nCall-ID: %s\r\nCSeq: 2 BYE\r\n"
                 "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                 sip_port, sp, serial, sp, serial, to, callid);
    send_to(sip, sip_port, msg, (size_t)m);
    (void)recv_wait(sip, buf, sizeof(buf), 1000);
    tt_t140_rx_reset(&rx);
out:
    close(sip);
    close(trtp);
    close(artp);
    return r;
}

static void report(const char *what, double *v, int n, const char *against)
{
    double p90, max;
    double med = bench_median(v, n); /* sorts */
    p90 = v[(n * 9 + 9) / 10 - 1];
    max = v[n - 1];
    printf("  %-34s median %6.0f ms   p90 %6.0f ms   max %6.0f ms   (%s)\n", what, med, p90, max,
           against);
}

int main(int argc, char **argv)
{
    int calls = argc > 1 ? atoi(argv[1]) : 10;
    if (calls < 1)
        calls = 10;
    char dir[] = "/tmp/tonetree-bench-rtt-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char err[sizeof(dir) + 16];
    snprintf(err, sizeof(err), "%s/err", dir);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        execl("build/tonetree", "tonetree", "sip", "tests/data/sip.ini", "--prompts",
              "tests/prompts", "--listen", "127.0.0.1:0", "--rtp-ports", "30000-59999",
              "--cache", "build/sip-test-cache", "--speeds", "normal", (char *)NULL);
        _exit(127);
    }
    int port = 0;
    for (double end = bench_now_ms() + 600000; !port && bench_now_ms() < end;) {
        usleep(100000);
        FILE *f = fopen(err, "r");
        char line[256];
        while (f && fgets(line, sizeof(line), f))
            if (strstr(line, "listening on 127.0.0.1:"))
                port = atoi(strstr(line, "127.0.0.1:") + 10);
        if (f)
            fclose(f);
        if (waitpid(pid, NULL, WNOHANG) == pid)
            break;
    }
    if (!port) {
        fprintf(stderr, "bench_rtt: tonetree sip did not start (see %s)\n", err);
        kill(pid, SIGKILL);
        return 1;
    }
    printf("real-time text on tonetree sip: %d calls of each kind, one at a time (loopback)\n",
           calls);
    for (int audio = 0; audio < 2; audio++) {
        double *p = calloc((size_t)calls, sizeof(double)), *k = calloc((size_t)calls, sizeof(double));
        int ok = 0;
        for (int i = 0; i < calls; i++) {
            struct result r = one_call(port, audio, audio * 1000 + i);
            if (r.ok) {
                p[ok] = r.prompt_ms;
                k[ok] = r.key_ms;
                ok++;
            }
        }
        printf("%s: %d of %d calls complete\n", audio ? "audio and text" : "text alone", ok,
               calls);
        if (ok) {
            report("prompt start to its first text", p, ok, "EN 301 549: 500 ms at most");
            char against[64];
            snprintf(against, sizeof(against), "the gap %d ms + one 300 ms slot: %d ms", GAP_MS,
                     GAP_MS + 300);
            report("typed 1 to the answer's first text", k, ok, against);
        }
        free(p);
        free(k);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    unlink(err);
    rmdir(dir);
    return 0;
}
