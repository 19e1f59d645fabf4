/*
 * A SIP caller on plain UDP sockets, for the tests of `tonetree sip`: SIP is text, and a
 * caller that can send anything at all (a broken offer, RTP from the wrong address, a key as
 * RFC 4733 events) is what the hostile and privacy tests need. Every wait is bounded; requests
 * are sent again until answered, as over UDP every caller must. Loopback only.
 */
#ifndef TT_SIPLIB_H
#define TT_SIPLIB_H

#include <stddef.h>
#include <stdint.h>

/* The service and our SIP socket. */
struct tl_sip {
    int port;      /* the service's SIP port */
    int metrics;   /* its metrics port (0: none) */
    int sock;      /* our SIP socket, bound to 127.0.0.1:sock_port */
    int sock_port;
};

/* One call we placed. */
struct tl_dialog {
    char callid[64], from_tag[32], to_tag[64];
    int rtp;       /* our media socket */
    int their_rtp; /* the service's media port, from its answer */
    int status;    /* the final response to the INVITE */
    int cseq;      /* the last CSeq we used in the dialog */
    int bye_seen;  /* the service sent us BYE (answered 200) */
    char answer[2048]; /* the SDP of the service's 200 to our INVITE */
};

/** Wait (bounded) until `tonetree sip` (pid) says on its stderr (the file err) that it
 *  listens, and where: its SIP port, and its metrics port when metrics_port is not NULL (give
 *  it 127.0.0.1:0 for both, and the system chooses free ones: no two runs can collide). Fails
 *  the test at once, showing that stderr, if it ends first. */
void tl_sip_wait_ready(int pid, const char *err, double secs, int *sip_port, int *metrics_port);
/** A free loopback UDP port P with P + 2 free too (SIPp's -mp takes both), found by binding
 *  and letting go: another program could take it meanwhile, but only in that instant. */
int tl_sip_free_pair(void);
/** Bind our SIP socket to 127.0.0.1:sock_port (0: any) for the service at port. */
void tl_sip_open(struct tl_sip *f, int port, int sock_port, int metrics);
void tl_sip_close(struct tl_sip *f);
int tl_sip_udp_bind(int port);
int tl_sip_local_port(int s);
void tl_sip_send_to(int s, int port, const void *buf, size_t n);
size_t tl_sip_recv_wait(int s, char *buf, size_t cap, double secs);
/** A header's value in a message, or NULL. */
const char *tl_sip_header(const char *msg, const char *name, char *out, size_t cap);
/** The final response to a request of ours (its Call-ID and CSeq method), answering the
 *  service's own requests meanwhile; its status, 0 when none came in secs. */
int tl_sip_final_response(struct tl_sip *f, const char *callid, const char *method, char *buf,
                          size_t cap, double secs);
/** Answer a request the service sent us (a BYE) with 200, or with code and reason. */
void tl_sip_answer_request(struct tl_sip *f, const char *req);
void tl_sip_reply(struct tl_sip *f, const char *req, int code, const char *reason);
/** Wait (bounded) for the service's request `method` in this call, into buf, unanswered;
 *  others meanwhile are answered 200. 1 when it came. */
int tl_sip_wait_request(struct tl_sip *f, struct tl_dialog *d, const char *method, char *buf,
                        size_t cap, double secs);
/** A NOTIFY of a transfer's progress in the call (Event: refer, a message/sipfrag body such as
 *  "SIP/2.0 200 OK\r\n"); its final status. */
int tl_sip_notify(struct tl_sip *f, struct tl_dialog *d, const char *sipfrag);
/** INVITE with this SDP; the final status (0: none in 20 s). A final answer is acknowledged. */
int tl_sip_invite_with(struct tl_sip *f, struct tl_dialog *d, const char *sdp);
/** INVITE with this SDP, or none (a late offer: the service offers in its 200), and an ACK
 *  carrying ack_sdp (the answer to that offer) or nothing. */
int tl_sip_invite_full(struct tl_sip *f, struct tl_dialog *d, const char *sdp, const char *ack_sdp);
/** INFO in the call with this content type and body; its final status. */
int tl_sip_info(struct tl_sip *f, struct tl_dialog *d, const char *ctype, const char *body);
/** INVITE offering PCMU and telephone-event 101 from a new media socket (d->rtp). */
int tl_sip_call_up(struct tl_sip *f, struct tl_dialog *d);
/** BYE, and its 200 (the test fails otherwise); the media socket is closed. */
void tl_sip_hang_up(struct tl_sip *f, struct tl_dialog *d);
/** A re-INVITE in the dialog with our offer at this direction ("sendrecv", "sendonly",
 *  "inactive"); the final status, acknowledged. */
int tl_sip_reinvite(struct tl_sip *f, struct tl_dialog *d, const char *direction);
/** A re-INVITE with this SDP, or none (the service then offers in its 200, kept in d->answer),
 *  and an ACK carrying ack_sdp or nothing; the final status. d->their_rtp follows the 200. */
int tl_sip_reinvite_full(struct tl_sip *f, struct tl_dialog *d, const char *sdp,
                         const char *ack_sdp);
/** Wait (bounded) for the service's BYE of this call, answered with 200; true when it came. */
int tl_sip_wait_bye(struct tl_sip *f, struct tl_dialog *d, double secs);
/** One RTP packet from socket s to port. */
void tl_sip_rtp(int s, int port, int pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                const uint8_t *payload, size_t n);
/** A press of DTMF event 0-15 as RFC 4733 packets (payload type 101): 4 updates, 3 ends. */
void tl_sip_press_event(int s, int port, uint16_t *seq, uint32_t ts, uint32_t ssrc, int event);
/** Packets received on s for secs. */
int tl_sip_count_packets(int s, double secs);
/** The metrics page (GET /metrics), NUL-terminated; free it. */
char *tl_sip_metric_page(struct tl_sip *f);
/** One metric's value (the test fails when the page has none). */
double tl_sip_metric(struct tl_sip *f, const char *name);

#endif
