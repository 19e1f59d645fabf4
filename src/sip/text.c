/*
 * Real-time text on a call (RFC 4103): the menu's words streamed as T.140 text beside the audio,
 * or instead of it on a call with text only, and what the caller types taken as keys.
 *
 * The SDP: every call's session has an m=text line, red/1000 (RFC 2198 redundancy, three
 * generations of t140: "98/98/98") first and plain t140/1000 after it, as RFC 4103 section 4
 * recommends. It carries port 0 (declined) until the caller offers text: the text socket is
 * opened only then (or before our own offer, for a late offer), so a thousand voice calls do
 * not hold a thousand more ports. libre answers only the media lines the offer has, in its
 * order, so an offer without text gets an answer without it.
 *
 * The stream: t140.c makes the payloads and reads them back; this file moves them. Text the
 * call gives (tt_call_text_take) goes into the sender as soon as it is given, and the sender
 * paces it (300 ms between packets while text flows, the first at once after a quiet spell,
 * no more than the caller's cps). The tick is the call's own send tick (media.c), so a text
 * call needs no timer of its own: every 20 ms is finer than the text needs. The caller's
 * packets are latched as the audio's are (symmetric RTP: the first from the SDP's address
 * fixes the port) and handed to the receiver; the text it gives goes to tt_call_text_in,
 * which takes the characters that are keys.
 *
 * A call with text only has no codec: the send tick still runs (for the text and the call's
 * timers), and no audio is made (TT_CALL_TEXT_ONLY). It has no media timeout either: a caller
 * who reads sends nothing, and RFC 4103 asks for no keep-alive; the longest call and the
 * session's own timeouts end it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip_int.h"
#include "sip/t140.h"

/* Our payload type numbers, in our offer (in an answer, the caller's are used). */
#define PT_T140 98
#define PT_RED 100
#define REDUNDANCY 2 /* generations besides the primary (RFC 4103 section 4) */
#define FIRST_WAIT_MS 2000

struct sip_text {
    struct rtp_sock *rtp;
    struct sa peer, sdp_addr;
    bool latched;
    bool on;               /* agreed in the last offer and answer */
    int pt_t140, pt_red;   /* the caller's numbers (pt_red -1: no redundancy) */
    bool tx_ready, rx_ready;
    struct tt_t140_tx tx;
    struct tt_t140_rx rx;
    char hold[256];        /* text taken from the call that the sender had no room for */
    size_t nhold;
    uint32_t ts0;
};

static void text_in(void *user, const char *utf8, size_t n)
{
    struct scall *c = user;
    if (c->call && c->established)
        (void)tt_call_text_in(c->call, utf8, n, svc_now_ms());
}

static void text_rtp_handler(const struct sa *src, const struct rtp_header *hdr, struct mbuf *mb,
                             void *arg)
{
    struct scall *c = arg;
    struct sip_text *t = c->text;
    if (!t || !t->on || !t->rx_ready)
        return;
    if (t->latched && !sa_cmp(src, &t->peer, SA_ALL))
        return; /* not the caller */
    if (!t->latched) {
        if (!c->svc->o->nat && !sa_cmp(src, &t->sdp_addr, SA_ADDR))
            return;
        t->peer = *src;
        t->latched = true;
    }
    size_t n = mbuf_get_left(mb);
    const uint8_t *p = mbuf_buf(mb);
    if (hdr->pad) { /* libre leaves the padding in (RFC 3550 5.1: its last byte counts it) */
        if (!n || p[n - 1] == 0 || p[n - 1] > n)
            return;
        n -= p[n - 1];
    }
    /* the caller's text is media too: a caller with audio muted who types is not gone */
    c->t_last_rtp = svc_now_ms();
    if (!c->established && c->answered && !scall_establish(c))
        return;
    (void)tt_t140_rx_packet(&t->rx, hdr->seq, hdr->pt, p, n, svc_now_ms());
}

static void text_destructor(void *arg);

/* The stream's state and socket, made when text is first offered (by the caller, or in our own
 * offer): some 17 KB of sender and receiver that a voice call never needs. */
static int text_socket(struct scall *c)
{
    if (!c->text) {
        c->text = mem_zalloc(sizeof(*c->text), text_destructor);
        if (!c->text)
            return ENOMEM;
        c->text->ts0 = rand_u32();
    }
    struct sip_text *t = c->text;
    if (t->rtp)
        return 0;
    const struct tt_sip_opts *o = c->svc->o;
    unsigned lo = o->rtp_lo ? o->rtp_lo : 10000, hi = o->rtp_hi ? o->rtp_hi : 20000;
    int err = rtp_listen(&t->rtp, IPPROTO_UDP, &c->svc->media_addr, (uint16_t)lo, (uint16_t)hi,
                         false, text_rtp_handler, NULL, c);
    if (err)
        return err;
    sdp_media_set_lport(c->sdpt, sa_port(rtp_local(t->rtp)));
    return 0;
}

static void text_destructor(void *arg)
{
    struct sip_text *t = arg;
    mem_deref(t->rtp);
    /* what the caller typed may have been someone's case number */
    if (t->rx_ready)
        tt_t140_rx_reset(&t->rx);
    memset(t->hold, 0, sizeof(t->hold));
}

int text_sdp_setup(struct scall *c)
{
    int err = sdp_media_add(&c->sdpt, c->sdp, "text", 0, sdp_proto_rtpavp);
    if (!err)
        err = sdp_format_add(NULL, c->sdpt, false, "100", "red", 1000, 1, NULL, NULL, NULL,
                             false, "98/98/98");
    if (!err)
        err = sdp_format_add(NULL, c->sdpt, false, "98", "t140", 1000, 1, NULL, NULL, NULL,
                             false, NULL);
    return err;
}

int text_offer(struct scall *c)
{
    return text_socket(c); /* our own offer has text: the caller may take it */
}

int text_choose(struct scall *c)
{
    const struct sdp_format *t140 = sdp_media_rport(c->sdpt)
                                        ? sdp_media_rformat(c->sdpt, "t140")
                                        : NULL;
    if (!t140) {
        if (c->text)
            c->text->on = false;
        return ENOENT;
    }
    int err = text_socket(c);
    if (err)
        return err;
    struct sip_text *t = c->text;
    const struct sdp_format *red = sdp_media_rformat(c->sdpt, "red");
    int pt_red = red ? red->pt : -1;
    /* The answer names what is used: red (with t140 under it) or t140 alone, by the offer's
     * numbers (libre has written them into ours). red's fmtp names t140's number too, so it
     * is written again: liblinphone 5.1 reads no red whose fmtp names another number. */
    for (struct le *le = list_head(sdp_media_format_lst(c->sdpt, true)); le; le = le->next) {
        struct sdp_format *f = le->data;
        if (f->sup)
            f->sup = f->pt == t140->pt || f->pt == pt_red;
        if (f->sup && f->pt == pt_red) {
            char gens[32];
            re_snprintf(gens, sizeof(gens), "%d/%d/%d", t140->pt, t140->pt, t140->pt);
            f->params = mem_deref(f->params);
            if ((err = str_dup(&f->params, gens)))
                return err;
        }
    }
    if (!t->tx_ready || t->pt_t140 != t140->pt || t->pt_red != pt_red) {
        struct tt_t140_tx_cfg cfg = {.pt_t140 = t140->pt, .pt_red = pt_red,
                                     .generations = pt_red >= 0 ? REDUNDANCY : 0,
                                     .interval_ms = TT_T140_INTERVAL_MS, .cps = TT_T140_CPS};
        if ((err = tt_t140_tx_init(&t->tx, &cfg)))
            return err;
        t->tx_ready = true;
    }
    if (!t->rx_ready || t->pt_t140 != t140->pt || t->pt_red != pt_red) {
        if (t->rx_ready)
            tt_t140_rx_reset(&t->rx);
        if ((err = tt_t140_rx_init(&t->rx, t140->pt, pt_red, TT_T140_WAIT_MS, text_in, c)))
            return err;
        t->rx_ready = true;
    }
    t->pt_t140 = t140->pt;
    t->pt_red = pt_red;
    const struct sa *ra = sdp_media_raddr(c->sdpt);
    if (!sa_cmp(ra, &t->sdp_addr, SA_ALL)) {
        t->sdp_addr = *ra;
        t->peer = *ra;
        t->latched = false;
    }
    t->on = true;
    return 0;
}

bool text_on(const struct scall *c)
{
    return c->text && c->text->on;
}

/* The call's text into the sender, as much as it has room for. */
static void feed(struct scall *c)
{
    struct sip_text *t = c->text;
    for (;;) {
        if (!t->nhold)
            t->nhold = tt_call_text_take(c->call, t->hold, sizeof(t->hold));
        if (!t->nhold)
            return;
        size_t took = 0;
        int err = tt_t140_tx_put(&t->tx, t->hold, t->nhold, &took);
        memmove(t->hold, t->hold + took, t->nhold - took);
        memset(t->hold + t->nhold - took, 0, took);
        t->nhold -= took;
        if (err)
            return; /* full: the rest goes once packets have gone */
    }
}

void text_tick(struct scall *c, tt_ms now)
{
    struct sip_text *t = c->text;
    if (!t || !t->on || !c->call)
        return;
    tt_ms when;
    if (t->rx_ready && tt_t140_rx_due(&t->rx, &when) && when <= now)
        tt_t140_rx_tick(&t->rx, now);
    feed(c);
    /* The first words wait for the caller's first text packet (2 s at most): liblinphone
     * drops text that comes before its own text stream has started, and with it the two
     * copies that follow (its facts, docs/text-callers.md). A client that sends nothing
     * first gets its text 2 s into the call. */
    if (!t->latched && now - c->t_start < FIRST_WAIT_MS)
        return;
    /* libre's own buffer, as media.c's packets: rtp_send writes the header in front of the
     * payload, and its transport may keep a reference to what it sends */
    while (!c->held && sa_isset(&t->peer, SA_ALL)) {
        struct mbuf *mb = mbuf_alloc(RTP_HEADER_SIZE + TT_T140_PAYLOAD_MAX);
        struct tt_t140_packet pk;
        if (!mb)
            return;
        mb->pos = mb->end = RTP_HEADER_SIZE;
        if (tt_t140_tx_packet(&t->tx, now, mbuf_buf(mb), TT_T140_PAYLOAD_MAX, &pk) || !pk.made) {
            mem_deref(mb);
            break;
        }
        mb->end += pk.len;
        (void)rtp_send(t->rtp, &t->peer, false, pk.marker, (uint8_t)pk.pt, t->ts0 + pk.ts, mb);
        mem_deref(mb);
        feed(c);
    }
    /* Text alone: a SAY is done when all of its words have gone out in a packet. */
    if (!t->nhold && !tt_call_text_left(c->call) && !tt_t140_tx_queued(&t->tx))
        (void)tt_call_text_sent(c->call, now);
}

void text_cut(struct scall *c)
{
    if (text_on(c)) {
        tt_t140_tx_flush(&c->text->tx);
        memset(c->text->hold, 0, sizeof(c->text->hold));
        c->text->nhold = 0;
    }
}

void text_close(struct scall *c)
{
    c->text = mem_deref(c->text);
}
