/*
 * A SIP caller on plain UDP sockets (see siplib.h).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "proclib.h"
#include "siplib.h"

void tl_sip_wait_ready(int pid, const char *err, double secs, int *sip_port, int *metrics_port)
{
    double end = tl_now() + secs;
    for (;;) {
        size_t n;
        char *text = tl_read_file(err, &n);
        const char *l = strstr(text, "listening on 127.0.0.1:");
        const char *m = strstr(text, "metrics on http://127.0.0.1:");
        /* the metrics line comes right after the other one, when there is a page */
        bool ready = l && (!metrics_port || m);
        int st;
        if (!ready && waitpid(pid, &st, WNOHANG) == pid)
            fail_msg("tonetree sip ended before it listened (status %d); its stderr:\n%s",
                     WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st), text);
        if (ready) {
            if (sip_port)
                *sip_port = atoi(l + strlen("listening on 127.0.0.1:"));
            if (metrics_port)
                *metrics_port = atoi(m + strlen("metrics on http://127.0.0.1:"));
        }
        free(text);
        if (ready)
            return;
        if (tl_now() > end)
            fail_msg("tonetree sip did not listen within %.0f s (%s)", secs, err);
        tl_sleep(0.1);
    }
}

int tl_sip_free_pair(void)
{
    for (int tries = 0; tries < 100; tries++) {
        int a = tl_sip_udp_bind(0), p = tl_sip_local_port(a);
        if (p > 65533) {
            close(a);
            continue;
        }
        int b = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(p + 2)),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool ok = b >= 0 && bind(b, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(a);
        if (b >= 0)
            close(b);
        if (ok)
            return p;
    }
    fail_msg("no two free loopback UDP ports two apart");
    return -1; /* not reached: fail_msg does not return */
}

void tl_sip_open(struct tl_sip *f, int port, int sock_port, int metrics)
{
    f->port = port;
    f->metrics = metrics;
    f->sock = tl_sip_udp_bind(sock_port);
    f->sock_port = tl_sip_local_port(f->sock);
}

void tl_sip_close(struct tl_sip *f)
{
    if (f->sock > 0)
        close(f->sock);
    f->sock = -1;
}

int tl_sip_udp_bind(int port)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    return s;
}

int tl_sip_local_port(int s)
{
    struct sockaddr_in a;
    socklen_t n = sizeof(a);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &n), 0);
    return ntohs(a.sin_port);
}

void tl_sip_send_to(int s, int port, const void *buf, size_t n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    (void)sendto(s, buf, n, 0, (struct sockaddr *)&a, sizeof(a));
}

/* Wait (bounded) for a datagram; 0 when none came. */
size_t tl_sip_recv_wait(int s, char *buf, size_t cap, double secs)
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


const char *tl_sip_header(const char *msg, const char *name, char *out, size_t cap)
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
void tl_sip_reply(struct tl_sip *f, const char *req, int code, const char *reason)
{
    char via[256], from[256], to[256], cid[128], cseq[64], out[1024];
    if (!tl_sip_header(req, "Via", via, sizeof(via)) ||
        !tl_sip_header(req, "From", from, sizeof(from)) ||
        !tl_sip_header(req, "To", to, sizeof(to)) ||
        !tl_sip_header(req, "Call-ID", cid, sizeof(cid)) ||
        !tl_sip_header(req, "CSeq", cseq, sizeof(cseq)))
        return;
    int n = snprintf(out, sizeof(out),
                     "SIP/2.0 %d %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
                     "CSeq: %s\r\nContent-Length: 0\r\n\r\n",
                     code, reason, via, from, to, cid, cseq);
    tl_sip_send_to(f->sock, f->port, out, (size_t)n);
}

void tl_sip_answer_request(struct tl_sip *f, const char *req)
{
    tl_sip_reply(f, req, 200, "OK");
}

int tl_sip_wait_request(struct tl_sip *f, struct tl_dialog *d, const char *method, char *buf,
                        size_t cap, double secs)
{
    char cid[128];
    size_t ml = strlen(method);
    double end = tl_now() + secs;
    while (tl_now() < end) {
        if (!tl_sip_recv_wait(f->sock, buf, cap, end - tl_now()))
            break;
        if (!strncmp(buf, "SIP/2.0 ", 8))
            continue;
        bool ours = tl_sip_header(buf, "Call-ID", cid, sizeof(cid)) && !strcmp(cid, d->callid);
        if (ours && !strncmp(buf, method, ml) && buf[ml] == ' ')
            return 1;
        tl_sip_answer_request(f, buf);
        if (ours && !strncmp(buf, "BYE ", 4))
            d->bye_seen = 1;
    }
    return 0;
}

int tl_sip_info(struct tl_sip *f, struct tl_dialog *d, const char *ctype, const char *body)
{
    char msg[2048], buf[4096];
    int cseq = ++d->cseq;
    int n = snprintf(msg, sizeof(msg),
                     "INFO sip:tonetree@127.0.0.1:%d SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-info%s%d\r\n"
                     "From: <sip:hostile@127.0.0.1:%d>;tag=%s\r\nTo: <sip:ivr@127.0.0.1:%d>;tag=%s\r\n"
                     "Call-ID: %s\r\nCSeq: %d INFO\r\nMax-Forwards: 70\r\n"
                     "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
                     f->port, f->sock_port, d->from_tag, cseq, f->sock_port, d->from_tag, f->port,
                     d->to_tag, d->callid, cseq, ctype, strlen(body), body);
    int code = 0;
    for (double wait = 0.5, end = tl_now() + 10.0; !code && tl_now() < end; wait *= 2) {
        tl_sip_send_to(f->sock, f->port, msg, (size_t)n);
        code = tl_sip_final_response(f, d->callid, "INFO", buf, sizeof(buf), wait);
    }
    return code;
}

int tl_sip_notify(struct tl_sip *f, struct tl_dialog *d, const char *sipfrag)
{
    char msg[2048], buf[4096];
    int cseq = ++d->cseq;
    int n = snprintf(msg, sizeof(msg),
                     "NOTIFY sip:tonetree@127.0.0.1:%d SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-ntf%s%d\r\n"
                     "From: <sip:hostile@127.0.0.1:%d>;tag=%s\r\nTo: <sip:ivr@127.0.0.1:%d>;tag=%s\r\n"
                     "Call-ID: %s\r\nCSeq: %d NOTIFY\r\nMax-Forwards: 70\r\n"
                     "Event: refer\r\nSubscription-State: terminated;reason=noresource\r\n"
                     "Content-Type: message/sipfrag;version=2.0\r\nContent-Length: %zu\r\n\r\n%s",
                     f->port, f->sock_port, d->from_tag, cseq, f->sock_port, d->from_tag, f->port,
                     d->to_tag, d->callid, cseq, strlen(sipfrag), sipfrag);
    int code = 0;
    for (double wait = 0.5, end = tl_now() + 10.0; !code && tl_now() < end; wait *= 2) {
        tl_sip_send_to(f->sock, f->port, msg, (size_t)n);
        code = tl_sip_final_response(f, d->callid, "NOTIFY", buf, sizeof(buf), wait);
    }
    return code;
}

/* The final response to what we sent (its Call-ID and CSeq method), answering the service's
 * own requests meanwhile and passing over responses to earlier requests (the service repeats a
 * final answer until it is acknowledged); 0 when none came in secs. */
int tl_sip_final_response(struct tl_sip *f, const char *callid, const char *method, char *buf,
                          size_t cap, double secs)
{
    double end = tl_now() + secs;
    while (tl_now() < end) {
        if (!tl_sip_recv_wait(f->sock, buf, cap, end - tl_now()))
            return 0;
        if (strncmp(buf, "SIP/2.0 ", 8)) {
            tl_sip_answer_request(f, buf);
            continue;
        }
        char cseq[64], cid[128];
        int code = atoi(buf + 8);
        if (code >= 200 && tl_sip_header(buf, "CSeq", cseq, sizeof(cseq)) && strstr(cseq, method) &&
            tl_sip_header(buf, "Call-ID", cid, sizeof(cid)) && !strcmp(cid, callid))
            return code;
    }
    return 0;
}

int tl_sip_invite_with(struct tl_sip *f, struct tl_dialog *d, const char *sdp)
{
    return tl_sip_invite_full(f, d, sdp, NULL);
}

int tl_sip_invite_full(struct tl_sip *f, struct tl_dialog *d, const char *sdp, const char *ack_sdp)
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
                     "%sContent-Length: %zu\r\n\r\n%s",
                     f->port, f->sock_port, serial, f->sock_port, d->from_tag, f->port, d->callid,
                     f->sock_port, sdp ? "Content-Type: application/sdp\r\n" : "",
                     sdp ? strlen(sdp) : 0, sdp ? sdp : "");
    assert_true(n > 0 && (size_t)n < sizeof(msg));
    /* Sent again until answered, as over UDP every caller must (RFC 3261 17.1.1.2: T1 = 500
     * ms, doubling): a flood just before may have filled the service's socket buffer. */
    char buf[8192];
    d->status = 0;
    d->cseq = 1;
    for (double wait = 0.5, end = tl_now() + 20.0; !d->status && tl_now() < end; wait *= 2) {
        tl_sip_send_to(f->sock, f->port, msg, (size_t)n);
        d->status = tl_sip_final_response(f, d->callid, "INVITE", buf, sizeof(buf), wait);
    }
    if (d->status >= 200) {
        /* every final answer is acknowledged (RFC 3261 17.1.1.3), or it comes again */
        char to[256];
        const char *tag = tl_sip_header(buf, "To", to, sizeof(to)) ? strstr(to, "tag=") : NULL;
        assert_non_null(tag);
        snprintf(d->to_tag, sizeof(d->to_tag), "%.*s", (int)strcspn(tag + 4, ";>\r\n"), tag + 4);
        const char *m = d->status == 200 ? strstr(buf, "m=audio ") : NULL;
        if (d->status == 200 && !m)
            fail_msg("a 200 with no audio in its answer:\n%s", buf);
        d->their_rtp = m ? atoi(m + 8) : 0;
        const char *body = strstr(buf, "\r\n\r\n");
        snprintf(d->answer, sizeof(d->answer), "%s", body ? body + 4 : "");
        char ack[4096];
        const char *body_ack = d->status == 200 && ack_sdp ? ack_sdp : NULL;
        n = snprintf(ack, sizeof(ack),
                     "ACK sip:ivr@127.0.0.1:%d SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s%d\r\n"
                     "From: <sip:hostile@127.0.0.1:%d>;tag=%s\r\nTo: <sip:ivr@127.0.0.1:%d>;tag=%s\r\n"
                     "Call-ID: %s\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\n"
                     "%sContent-Length: %zu\r\n\r\n%s",
                     f->port, f->sock_port, d->status == 200 ? "ack" : "inv", serial, f->sock_port,
                     d->from_tag, f->port, d->to_tag, d->callid,
                     body_ack ? "Content-Type: application/sdp\r\n" : "",
                     body_ack ? strlen(body_ack) : 0, body_ack ? body_ack : "");
        tl_sip_send_to(f->sock, f->port, ack, (size_t)n);
    }
    return d->status;
}

/* An offer of PCMU and telephone-event 101 from our media socket. */
int tl_sip_call_up(struct tl_sip *f, struct tl_dialog *d)
{
    memset(d, 0, sizeof(*d));
    d->rtp = tl_sip_udp_bind(0);
    char sdp[512];
    snprintf(sdp, sizeof(sdp),
             "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
             "m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
             tl_sip_local_port(d->rtp));
    return tl_sip_invite_with(f, d, sdp);
}

void tl_sip_hang_up(struct tl_sip *f, struct tl_dialog *d)
{
    char bye[1024], buf[4096];
    int n = snprintf(bye, sizeof(bye),
                     "BYE sip:ivr@127.0.0.1:%d SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-bye%s\r\n"
                     "From: <sip:hostile@127.0.0.1:%d>;tag=%s\r\nTo: <sip:ivr@127.0.0.1:%d>;tag=%s\r\n"
                     "Call-ID: %s\r\nCSeq: %d BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                     f->port, f->sock_port, d->from_tag, f->sock_port, d->from_tag, f->port,
                     d->to_tag, d->callid, ++d->cseq);
    int code = 0;
    for (double wait = 0.5, end = tl_now() + 10.0; !code && tl_now() < end; wait *= 2) {
        tl_sip_send_to(f->sock, f->port, bye, (size_t)n);
        code = tl_sip_final_response(f, d->callid, "BYE", buf, sizeof(buf), wait);
    }
    assert_int_equal(code, 200);
    close(d->rtp);
}

/* An offer of PCMU and telephone-event from socket rtp, at this direction. */
static void pcmu_offer(char *sdp, size_t cap, int version, int rtp, const char *direction)
{
    snprintf(sdp, cap,
             "v=0\r\no=- 1 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
             "m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=%s\r\n",
             version, tl_sip_local_port(rtp), direction);
}

int tl_sip_reinvite(struct tl_sip *f, struct tl_dialog *d, const char *direction)
{
    char sdp[512];
    pcmu_offer(sdp, sizeof(sdp), d->cseq + 1, d->rtp, direction);
    return tl_sip_reinvite_full(f, d, sdp, NULL);
}

int tl_sip_reinvite_full(struct tl_sip *f, struct tl_dialog *d, const char *sdp,
                         const char *ack_sdp)
{
    char msg[8192], buf[8192];
    int cseq = ++d->cseq;
    int n = snprintf(msg, sizeof(msg),
                     "INVITE sip:ivr@127.0.0.1:%d SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-re%s%d\r\n"
                     "From: <sip:hostile@127.0.0.1:%d>;tag=%s\r\nTo: <sip:ivr@127.0.0.1:%d>;tag=%s\r\n"
                     "Call-ID: %s\r\nCSeq: %d INVITE\r\n"
                     "Contact: <sip:hostile@127.0.0.1:%d>\r\nMax-Forwards: 70\r\n"
                     "%sContent-Length: %zu\r\n\r\n%s",
                     f->port, f->sock_port, d->from_tag, cseq, f->sock_port, d->from_tag, f->port,
                     d->to_tag, d->callid, cseq, f->sock_port,
                     sdp ? "Content-Type: application/sdp\r\n" : "", sdp ? strlen(sdp) : 0,
                     sdp ? sdp : "");
    assert_true(n > 0 && (size_t)n < sizeof(msg));
    int code = 0;
    for (double wait = 0.5, end = tl_now() + 10.0; !code && tl_now() < end; wait *= 2) {
        tl_sip_send_to(f->sock, f->port, msg, (size_t)n);
        code = tl_sip_final_response(f, d->callid, "INVITE", buf, sizeof(buf), wait);
    }
    if (code >= 200) {
        if (code == 200) {
            const char *body = strstr(buf, "\r\n\r\n");
            snprintf(d->answer, sizeof(d->answer), "%s", body ? body + 4 : "");
            const char *m = strstr(d->answer, "m=audio ");
            if (m)
                d->their_rtp = atoi(m + 8);
        }
        const char *body_ack = code == 200 && ack_sdp ? ack_sdp : NULL;
        char ack[4096];
        n = snprintf(ack, sizeof(ack),
                     "ACK sip:ivr@127.0.0.1:%d SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-reack%s%d\r\n"
                     "From: <sip:hostile@127.0.0.1:%d>;tag=%s\r\nTo: <sip:ivr@127.0.0.1:%d>;tag=%s\r\n"
                     "Call-ID: %s\r\nCSeq: %d ACK\r\nMax-Forwards: 70\r\n"
                     "%sContent-Length: %zu\r\n\r\n%s",
                     f->port, f->sock_port, d->from_tag, cseq, f->sock_port, d->from_tag, f->port,
                     d->to_tag, d->callid, cseq, body_ack ? "Content-Type: application/sdp\r\n" : "",
                     body_ack ? strlen(body_ack) : 0, body_ack ? body_ack : "");
        tl_sip_send_to(f->sock, f->port, ack, (size_t)n);
    }
    return code;
}

int tl_sip_wait_bye(struct tl_sip *f, struct tl_dialog *d, double secs)
{
    char buf[8192], cid[128];
    double end = tl_now() + secs;
    while (tl_now() < end) {
        if (!tl_sip_recv_wait(f->sock, buf, sizeof(buf), end - tl_now()))
            break;
        if (!strncmp(buf, "SIP/2.0 ", 8))
            continue;
        tl_sip_answer_request(f, buf);
        if (!strncmp(buf, "BYE ", 4) && tl_sip_header(buf, "Call-ID", cid, sizeof(cid)) &&
            !strcmp(cid, d->callid))
            d->bye_seen = 1;
        if (d->bye_seen)
            return 1;
    }
    return d->bye_seen;
}

/* One RTP packet from socket s to the service's media port. */
void tl_sip_rtp(int s, int port, int pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
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
    tl_sip_send_to(s, port, pkt, 12 + n);
}

/* A press of key `event` as RFC 4733 packets: 4 updates and 3 copies of the end. */
void tl_sip_press_event(int s, int port, uint16_t *seq, uint32_t ts, uint32_t ssrc, int event)
{
    for (int i = 1; i <= 7; i++) {
        unsigned dur = (unsigned)(i < 4 ? i : 4) * 400;
        uint8_t ev[4] = {(uint8_t)event, (uint8_t)(i >= 4 ? 0x80 | 10 : 10), (uint8_t)(dur >> 8),
                         (uint8_t)dur};
        tl_sip_rtp(s, port, 101, (*seq)++, ts, ssrc, ev, 4);
        tl_sleep(0.02);
    }
}

/* Packets received on s for secs: the service's audio coming. */
int tl_sip_count_packets(int s, double secs)
{
    int n = 0;
    char buf[2048];
    double end = tl_now() + secs;
    while (tl_now() < end)
        if (tl_sip_recv_wait(s, buf, sizeof(buf), end - tl_now()))
            n++;
    return n;
}

/* ---- the service --------------------------------------------------------------------------- */

/* The metrics page, over a plain HTTP/1.0 GET (bounded: a service that does not answer in
 * 10 s fails the test). */
char *tl_sip_metric_page(struct tl_sip *f)
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

double tl_sip_metric(struct tl_sip *f, const char *name)
{
    char *page = tl_sip_metric_page(f);
    char key[128];
    snprintf(key, sizeof(key), "\n%s ", name);
    char *at = strstr(page, key);
    if (!at)
        fail_msg("the metrics page has no %s:\n%s", name, page);
    double v = strtod(at + strlen(key), NULL);
    free(page);
    return v;
}

