/*
 * What the SIP service's files share (private to src/sip/): the service, one call, and the
 * verbs each file provides. libre's single thread runs all of it: its handlers and timers are
 * the only entry points, so nothing here takes a lock; the store's workers, which make clips
 * for calls, are reached only through tt_call.
 *
 * Where each behaviour lives, as libre lays out its own protocols:
 *   serve.c   the service: libre, the SIP socket, OPTIONS, the signals, reload, drain
 *   call.c    one call's life: INVITE accepted, ACK, re-INVITE, BYE either way, the end
 *   sdp.c     offer and answer: the codecs and telephone-event we speak
 *   media.c   RTP: the send tick and its schedule, what a caller sends us
 *   callkeys.c  keys from RFC 4733 events, in-band tones and SIP INFO, counted once
 *   metrics.c the counters, and their page for Prometheus
 *   text.c    real-time text (RFC 4103): the m=text line, the words out, what is typed in
 */
#ifndef TT_SIP_SIP_INT_H
#define TT_SIP_SIP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <re.h>

#include "sip/codec.h"
#include "sip/pace.h"
#include "sip/sip.h"

/* The send schedule is a grid of 20 ms packet times cut in TT_SIP_PHASES phases: a call sends
 * on its phase's slot of every 20 ms, and the calls are spread over the phases, so that the
 * packets of a thousand calls leave in twenty bursts of 50 a packet time instead of one of a
 * thousand (a burst's last packet is late by the time the burst takes to send: about 7 us a
 * packet here, so 50 take 0.35 ms; the floor program measured a p99 of 3.1 ms with 4 phases
 * and 1.7 ms with 20 at 1000 streams). */
#define TT_SIP_PTIME_MS 20
#define TT_SIP_PHASES 20
#define TT_SIP_PHASE_US (TT_SIP_PTIME_MS * 1000 / TT_SIP_PHASES)
/* A packet sent more than this after its time counts as late: a quarter of a packet time, the
 * p99 the service aims at. */
#define TT_SIP_LATE_US 5000

struct svc;
struct scall;

/* Why a call ended, for its log line and the counters. */
enum scall_end {
    END_NONE,
    END_CALLER,   /* the caller hung up (BYE, or CANCEL before the answer) */
    END_GOODBYE,  /* the menu said goodbye; the engine hung up */
    END_SILENT,   /* no RTP from the caller for rtp_timeout_ms */
    END_TOO_LONG, /* max_call_ms */
    END_TRANSFERRED, /* put through to a person (REFER, and its NOTIFY said 2xx) */
    END_SHUTDOWN, /* the service was stopped */
    END_FAILED,   /* the SIP transaction failed, or the call could not go on */
    END_COUNT
};

struct svc {
    const struct tt_sip_opts *o;
    tt_menu_slot *menus;
    struct sip *sip;
    struct sipsess_sock *sock;
    struct sip_lsnr *lsnr;
    struct sa laddr;              /* SIP */
    struct sa media_addr;         /* RTP binds here; port 0 */
    struct list calls;            /* struct scall, every call not yet freed */
    unsigned ncalls;              /* calls counted against max_calls */
    unsigned unacked;             /* of them, answered and waiting for their ACK */
    unsigned max_calls;
    struct tmr house;
    int tick_fd;                  /* the send tick's timerfd (media.c) */
    uint64_t t0_us;               /* svc_now_us's origin on CLOCK_MONOTONIC, in us */
    uint64_t grid_us;             /* the next phase slot's time (monotonic microseconds) */
    unsigned grid_phase;          /* which phase it is */
    unsigned phase_calls[TT_SIP_PHASES];
    unsigned pacing;              /* calls on the grid: the tick runs only while there are */
    bool armed;                   /* the tick's timerfd is set */
    bool draining, stopping;
    tt_ms bye_at;                 /* when the engine last hung up a call itself (0: never) */
    struct tt_reload_bg *reloading;
    sig_atomic_t reload_seen;
    /* counters, for the log and (later) the metrics page */
    unsigned long calls_total, calls_refused, end_counts[END_COUNT];
    unsigned long invalid_total, timeouts_total, packets_late;
    unsigned long stack_messages; /* libre's warnings: malformed packets, mostly */
    struct metrics *metrics;
    struct tt_pace_hist late;     /* every packet's send time less its slot's */
};

struct scall {
    struct le le;
    struct svc *svc;
    struct sipsess *sess;
    struct rtp_sock *rtp;
    struct sdp_session *sdp;
    struct sdp_media *sdpm;
    struct sdp_media *sdpt;       /* m=text (real-time text), declined unless offered */
    struct sip_text *text;        /* its stream (text.c) */
    bool text_only;               /* no audio: the call began with text alone */
    const struct tt_edition *ed;
    tt_call *call;
    tt_diag *said;
    char callid[128];
    char caller[128];             /* the From URI, only when log_caller */
    struct timespec wall_start;
    tt_ms t_start;                /* service ms when answered */
    tt_ms t_last_rtp;
    enum scall_end end;
    bool counted;                 /* holds one of max_calls */
    bool established;             /* ACK seen: media flows */
    bool answered;                /* an SDP answer is agreed */
    bool held;                    /* the caller put us on hold (sendonly / inactive) */
    bool bye_sent;
    /* media out */
    const struct tt_codec_info *codec; /* NULL before an offer and answer agree */
    int pt_send;                  /* the payload type we send it with (the caller's number) */
    int pt_telev;                 /* the caller's telephone-event type, -1 if none */
    int rate;                     /* the audio rate of the codec (the store's) */
    struct tt_codec_enc *enc;
    struct tt_codec_dec *dec;     /* for tones in the caller's audio: at 8000 Hz */
    struct sa peer;               /* where RTP goes: the SDP's until the first packet comes */
    struct sa sdp_addr;           /* the media address of the last offer or answer */
    bool latched;                 /* symmetric RTP: the first packet's source is the peer */
    unsigned phase;
    bool pacing;                  /* on the send grid (counted in its phase) */
    struct tt_pace pace;
    uint32_t ts0;
    /* keys in */
    struct callkeys *keys;
    /* a transfer to a person: the address, the REFER, and the timer that sends it from the
     * loop (the session asks for it inside a call into tt_call, which must not be re-entered) */
    char *transfer_to;
    struct sip_request *refer;
    struct tmr transfer_tmr;
    /* what the log says: the nodes visited, in order, and the counts */
    char visited[512];
    size_t nvisited;
    unsigned invalid, timeouts;
    int node;                     /* the node the caller is at (hang-ups by node) */
};

/* service time in ms (monotonic, since the service began) and in microseconds */
tt_ms svc_now_ms(void);
uint64_t svc_now_us(void);
void svc_report(struct svc *s, tt_diag *d);

/* call.c */
void scall_conn_handler(const struct sip_msg *msg, void *arg);
bool scall_establish(struct scall *c);
/* A NOTIFY in the dialog of one of our calls (the progress of a transfer); false when it is no
 * call's. The request is answered either way. */
bool scall_notify(struct svc *s, const struct sip_msg *msg);
/* End the call for `why`: a BYE when the session is up, then freed (the BYE goes out
 * asynchronously: the loop keeps running). */
void scall_end(struct scall *c, enum scall_end why);
void scall_free_all(struct svc *s);
const char *scall_end_name(enum scall_end e);

/* sdp.c */
int sdp_setup(struct scall *c);
/* After an offer or an answer was decoded: choose the codec and telephone-event; ENOENT when
 * nothing we speak is offered. */
int sdp_choose(struct scall *c);
int sdp_answer(struct scall *c, struct mbuf **descp);
int sdp_offer(struct scall *c, struct mbuf **descp);

/* media.c */
int media_open(struct scall *c);
void media_start(struct scall *c);
void media_close(struct scall *c);
/* The service's send timer: every call whose packet time came sends it. */
void media_tick(void *arg);
void media_tick_fd(int flags, void *arg);
void media_arm(struct svc *s);
/* The codec's encoder and decoder made, then put in place with c->codec and c->rate. */
int media_codec_set(struct scall *c, const struct tt_codec_info *k);

/* text.c */
int text_sdp_setup(struct scall *c);
/* Before our own offer (a late offer): the text socket, so the offer has a port for it. */
int text_offer(struct scall *c);
/* After an offer or an answer was decoded: 0 when text is on, ENOENT when the caller has
 * none. */
int text_choose(struct scall *c);
bool text_on(const struct scall *c);
/* At the call's send tick: the call's text out, the caller's waits given up. */
void text_tick(struct scall *c, tt_ms now);
/* A key cut the prompt: its words not sent yet are dropped. */
void text_cut(struct scall *c);
void text_close(struct scall *c);

/* metrics.c: the page is served when addr is set */
int metrics_open(struct svc *s, const struct sa *addr);
void metrics_close(struct svc *s);
/* Where the page is served (the port the system chose for a port 0). */
int metrics_where(const struct svc *s, struct sa *where);
void metrics_visit(struct svc *s, const char *node_id);
void metrics_hangup(struct svc *s, const char *node_id);

/* callkeys.c */
struct callkeys;
int callkeys_new(struct scall *c);
void callkeys_free(struct scall *c);
void callkeys_rtp_event(struct scall *c, const struct rtp_header *h, const uint8_t *p, size_t n);
void callkeys_rtp_audio(struct scall *c, const uint8_t *p, size_t n);
void callkeys_info(struct scall *c, const struct sip_msg *msg);

#endif
