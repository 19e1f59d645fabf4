/*
 * RTP for every call: one socket per call (libre 1.1 binds the RTCP port beside it too, though
 * nothing here sends reports: so a call holds two UDP descriptors, and the call's pipe two
 * more), the send tick that paces all calls' packets, and what callers send us.
 *
 * Pacing. A packet time is 20 ms; a call's packets are due on a grid fixed when its media
 * starts (start + n x 20 ms, in the monotonic clock), never "now + 20 ms", so a late wake-up
 * is never carried into the next packet and the stream does not drift. The calls are spread
 * over TT_SIP_PHASES phases of the grid (sip_int.h); one libre timer wakes at the next phase's
 * time and sends for the calls whose packet is due. A wake-up late by a few packets sends them
 * at once (a jitter buffer of 40 ms or more takes a short burst); after a longer stall the
 * schedule skips the lost time instead, moving the RTP timestamp on by it, so that the caller's
 * buffer sees a gap and not seconds of speech pressed together (pace.c has the rule). Every
 * packet's lateness goes into the service's histogram.
 *
 * Each packet is what the call gives for 20 ms: a prompt, or silence while nothing plays (a
 * phone that gets no packets may think the call dead). tt_call_heard follows at once: once
 * sent, a frame is as good as heard (the network and the phone's buffer add a constant that
 * the session's timers do not need).
 *
 * In: symmetric RTP (RFC 4961's idea): the first packet's source (from the address the caller's
 * SDP gave, unless --nat) is where media goes from then on, and packets from any other address
 * are dropped, so nobody else can inject keys
 * or steer the stream. telephone-event packets go to the key path, audio to the in-band tone
 * receiver (when it is on), anything else is counted and dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "sip/sip_int.h"

/* The largest payload we take (codec.h: a 1500-byte Ethernet frame less the headers). */
#define MAX_PAYLOAD TT_CODEC_MAX_PAYLOAD

static void rtp_handler(const struct sa *src, const struct rtp_header *hdr, struct mbuf *mb,
                        void *arg)
{
    struct scall *c = arg;
    if (!c->call)
        return;
    if (c->latched && !sa_cmp(src, &c->peer, SA_ALL))
        return; /* not the caller: ignored */
    if (!c->latched) {
        /* The first packet fixes the caller's port, but only from the address its SDP gave:
         * else anyone who sprays packets at our ports before the caller's first one came would
         * take the call over. Behind NAT the addresses differ: --nat takes any. */
        if (!c->svc->o->nat && !sa_cmp(src, &c->sdp_addr, SA_ADDR))
            return;
        c->peer = *src;
        c->latched = true;
    }
    c->t_last_rtp = svc_now_ms();
    if (!c->established && c->answered && !scall_establish(c))
        return; /* it could not begin, and was ended */
    size_t n = mbuf_get_left(mb);
    const uint8_t *p = mbuf_buf(mb);
    /* libre's header decoder notes the padding bit but leaves the padding in the payload: its
     * last byte says how many bytes to drop (RFC 3550 5.1), or the padding would be read as
     * audio, or as one more event (a phantom '0'). A count past the payload is a broken
     * packet. */
    if (hdr->pad) {
        if (!n || p[n - 1] == 0 || p[n - 1] > n)
            return;
        n -= p[n - 1];
    }
    if (n > MAX_PAYLOAD)
        return;
    if (c->pt_telev >= 0 && hdr->pt == c->pt_telev)
        callkeys_rtp_event(c, hdr, p, n);
    else if (c->codec && hdr->pt == c->pt_send)
        callkeys_rtp_audio(c, p, n);
}

int media_open(struct scall *c)
{
    const struct tt_sip_opts *o = c->svc->o;
    unsigned lo = o->rtp_lo ? o->rtp_lo : 10000, hi = o->rtp_hi ? o->rtp_hi : 20000;
    int err = rtp_listen(&c->rtp, IPPROTO_UDP, &c->svc->media_addr, (uint16_t)lo, (uint16_t)hi,
                         false, rtp_handler, NULL, c);
    if (err)
        return err;
    /* RFC 3550 5.1: a random first timestamp (libre's socket picks the sequence number) */
    c->ts0 = rand_u32();
    return 0;
}

int media_codec_set(struct scall *c, const struct tt_codec_info *k)
{
    struct tt_codec_enc *enc = NULL;
    struct tt_codec_dec *dec = NULL;
    /* tones are all under 2 kHz: G.722's lower band alone (8 kHz) holds them, for half the
     * decoding and half the DTMF receiver's work */
    int err = tt_codec_enc_new(k->id, &enc);
    if (!err)
        err = tt_codec_dec_new(k->id, 8000, &dec);
    if (err) {
        tt_codec_enc_free(enc);
        tt_codec_dec_free(dec);
        return err;
    }
    tt_codec_enc_free(c->enc);
    tt_codec_dec_free(c->dec);
    c->enc = enc;
    c->dec = dec;
    c->codec = k;
    c->rate = (int)k->audio_rate;
    return 0;
}

/* Put the call on the least busy phase and start its grid at that phase's next slot. */
void media_start(struct scall *c)
{
    struct svc *s = c->svc;
    unsigned best = 0;
    for (unsigned p = 1; p < TT_SIP_PHASES; p++)
        if (s->phase_calls[p] < s->phase_calls[best])
            best = p;
    s->phase_calls[best]++;
    c->phase = best;
    uint64_t now = svc_now_us(), period = TT_PACE_PERIOD_US;
    uint64_t slot = (now / period) * period + best * TT_SIP_PHASE_US;
    if (slot < now)
        slot += period;
    /* (a call with text alone has no codec: its grid only ticks, for the text and timers) */
    (void)tt_pace_init(&c->pace, slot, TT_PACE_PERIOD_US, c->codec ? c->codec->frame_ticks : 160,
                       0, c->ts0, &s->late); /* libre numbers the packets itself */
    c->pacing = true;
    s->pacing++;
    if (!s->armed) { /* the first call after a quiet spell: the tick starts again */
        s->grid_us = (now / TT_SIP_PHASE_US + 1) * TT_SIP_PHASE_US;
        media_arm(s);
    }
}

void media_close(struct scall *c)
{
    if (c->pacing) {
        c->svc->phase_calls[c->phase]--;
        c->svc->pacing--;
    }
    c->pacing = false;
    c->rtp = mem_deref(c->rtp);
    tt_codec_enc_free(c->enc);
    tt_codec_dec_free(c->dec);
    c->enc = NULL;
    c->dec = NULL;
}

/* One packet of the call: 20 ms from the call (silence if nothing plays), encoded. */
static void send_packet(struct scall *c, const struct tt_pace_pkt *pk, tt_ms now)
{
    int16_t pcm[TT_CODEC_PTIME_MS * 16]; /* 20 ms at 16 kHz */
    size_t n = c->codec->frame_samples;
    tt_call_pull(c->call, pcm, n);
    tt_call_heard(c->call, 0, now);
    struct mbuf *mb = mbuf_alloc(RTP_HEADER_SIZE + c->codec->frame_bytes);
    if (!mb)
        return;
    mb->pos = mb->end = RTP_HEADER_SIZE;
    size_t len = 0;
    if (!tt_codec_encode(c->enc, pcm, n, mbuf_buf(mb), mb->size - mb->pos, &len)) {
        mb->end += len;
        (void)rtp_send(c->rtp, &c->peer, false, pk->marker, (uint8_t)c->pt_send, pk->ts, mb);
    }
    mem_deref(mb);
}

/* The call's packets due by now_us; false when the call ended and was freed. */
static bool call_tick(struct scall *c, uint64_t now_us, tt_ms now)
{
    /* On hold nobody hears us: nothing is pulled, so the prompt waits where it was and the
     * session's timers (which run from a prompt's end) wait with it; the schedule moves on. */
    if (c->held || !c->codec || !sa_isset(&c->peer, SA_ALL)) {
        (void)tt_pace_silence(&c->pace, now_us);
    } else {
        struct tt_pace_pkt pk;
        while (tt_pace_take(&c->pace, now_us, &pk)) {
            if (pk.late > TT_SIP_LATE_US)
                c->svc->packets_late++;
            send_packet(c, &pk, now);
        }
    }
    text_tick(c, now);
    (void)tt_call_step(c->call, now);
    svc_report(c->svc, c->said);
    if (tt_call_ended(c->call)) {
        scall_end(c, END_GOODBYE);
        return false;
    }
    const struct tt_sip_opts *o = c->svc->o;
    tt_ms silent = o->rtp_timeout_ms ? o->rtp_timeout_ms : TT_SIP_RTP_TIMEOUT_MS;
    tt_ms longest = o->max_call_ms ? o->max_call_ms : TT_SIP_MAX_CALL_MS;
    if (!c->held && !c->text_only && now - c->t_last_rtp > silent) {
        scall_end(c, END_SILENT);
        return false;
    }
    if (now - c->t_start > longest) {
        scall_end(c, END_TOO_LONG);
        return false;
    }
    return true;
}

void media_tick(void *arg)
{
    struct svc *s = arg;
    uint64_t now_us = svc_now_us();
    tt_ms now = svc_now_ms();
    for (struct le *le = list_head(&s->calls); le;) {
        struct scall *c = le->data;
        le = le->next; /* c may be freed */
        if (!c->pacing || tt_pace_next_due(&c->pace) > now_us)
            continue;
        /* Each call's packet at the time it really leaves: the burst's own length is part of
         * how late the last ones are, and the histogram must show it. */
        (void)call_tick(c, svc_now_us(), now);
    }
    /* The next phase slot after now, on a timerfd at its absolute time: libre's own timers
     * count whole milliseconds (a tick 0-2 ms late), and re-arming one walks all of them. */
    while (s->grid_us <= svc_now_us())
        s->grid_us += TT_SIP_PHASE_US;
    if (s->pacing)
        media_arm(s);
    else
        s->armed = false; /* no call: no tick (an idle service does not wake 1000 times a
                           * second); the next call's media_start arms it again */
}

void media_arm(struct svc *s)
{
    s->armed = true;
    uint64_t at = s->t0_us + s->grid_us;
    struct itimerspec it = {.it_value = {.tv_sec = (time_t)(at / 1000000),
                                         .tv_nsec = (long)(at % 1000000) * 1000}};
    (void)timerfd_settime(s->tick_fd, TFD_TIMER_ABSTIME, &it, NULL);
}

void media_tick_fd(int flags, void *arg)
{
    struct svc *s = arg;
    uint64_t expired;
    (void)flags;
    if (read(s->tick_fd, &expired, sizeof(expired)) < 0)
        return; /* nothing due yet (a spurious wake): the timer is still set */
    media_tick(s);
}
