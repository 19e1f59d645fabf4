/*
 * Offer and answer (RFC 3264) for one call: the audio formats tonetree speaks, in the order it
 * prefers them, telephone-event for keys, and real-time text (text.c has its m=text line).
 *
 * libre's SDP session does the matching: our formats are added to the media line, sdp_decode
 * marks those the other side also has, and sdp_encode writes an answer with only those. What is
 * left to us is which one to send with: the first of ours the caller also offered, in our order
 * (wideband G.722 when the phone has it, since speech is easier to follow; then G.711), and the
 * caller's payload type numbers, which libre has written into our formats on decoding.
 * telephone-event is offered at 8000 Hz: RFC 4733 wants the event clock to be the audio's RTP
 * clock, and all three codecs run an 8000 Hz RTP clock (G.722 too, by RFC 3551's rule for it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sip/codec.h"
#include "sip/sip_int.h"

/* The event codes we take: the 16 DTMF events (RFC 4733 section 3.2). */
#define TELEV_EVENTS "0-15"

int sdp_setup(struct scall *c)
{
    struct sa laddr = c->svc->media_addr;
    int err = sdp_session_alloc(&c->sdp, &laddr);
    if (err)
        return err;
    err = sdp_media_add(&c->sdpm, c->sdp, sdp_media_audio, sa_port(rtp_local(c->rtp)),
                        sdp_proto_rtpavp);
    if (err)
        return err;
    /* In our order of preference: when we make the offer (a late offer), the phone takes the
     * first it has, and wideband first is what a listener should get */
    static const enum tt_codec_id order[] = {TT_CODEC_G722, TT_CODEC_PCMU, TT_CODEC_PCMA};
    for (size_t i = 0; i < sizeof(order) / sizeof(*order); i++) {
        const struct tt_codec_info *k = tt_codec_get(order[i]);
        if (k->audio_rate == 16000 && !c->svc->o->store16k)
            continue; /* no store at its rate: not offered */
        char pt[8];
        snprintf(pt, sizeof(pt), "%u", k->pt);
        if ((err = sdp_format_add(NULL, c->sdpm, false, pt, k->name, k->clock_rate, 1, NULL,
                                  NULL, NULL, false, NULL)))
            return err;
    }
    err = sdp_format_add(NULL, c->sdpm, false, "101", "telephone-event", 8000, 1, NULL, NULL,
                         NULL, false, "%s", TELEV_EVENTS);
    if (err)
        return err;
    /* 20 ms packets: what we send, and a hint of what we would like */
    err = sdp_media_set_lattr(c->sdpm, true, sdp_attr_ptime, "%d", TT_SIP_PTIME_MS);
    return err ? err : text_sdp_setup(c);
}

/* The audio of an offer or answer: the codec, telephone-event, hold, where media goes. */
static int choose_audio(struct scall *c)
{
    /* Ours that the other side also has, with its payload type numbers (libre wrote them
     * into our formats when it decoded the offer or answer). Once the call has its audio at
     * a rate, only codecs of that rate will do. */
    struct tt_codec_offer offers[TT_CODEC_COUNT];
    size_t n = 0;
    /* No audio line in what they sent (or one turned down with port 0): libre leaves our
     * formats marked as they were made, supported, so this must be asked first. */
    if (!sdp_media_rport(c->sdpm))
        return ENOENT;
    const struct list *lst = sdp_media_format_lst(c->sdpm, true);
    for (struct le *le = list_head(lst); le && n < TT_CODEC_COUNT; le = le->next) {
        const struct sdp_format *f = le->data;
        const struct tt_codec_info *k = f->sup ? tt_codec_find(f->name, f->srate, f->ch) : NULL;
        if (!k || (c->call && (int)k->audio_rate != c->rate))
            continue;
        offers[n++] = (struct tt_codec_offer){.pt = f->pt, .name = f->name,
                                              .clock_rate = f->srate, .channels = f->ch};
    }
    size_t i;
    if (tt_codec_choose(offers, n, &i))
        return ENOENT;
    const struct tt_codec_info *k = tt_codec_match(&offers[i]);
    if (k != c->codec) { /* the new codec's states first: a failure leaves the call as it was */
        int err = media_codec_set(c, k);
        if (err)
            return err;
    }
    c->pt_send = offers[i].pt;
    /* The answer names only what is used, the codec chosen and telephone-event: a caller
     * told of several codecs may send with another than ours, and its tones would then go
     * unheard (only the chosen codec's packets are decoded). */
    for (struct le *le = list_head(lst); le; le = le->next) {
        struct sdp_format *f = le->data;
        if (f->sup)
            f->sup = f->pt == c->pt_send || !strcasecmp(f->name, "telephone-event");
    }
    const struct sdp_format *te = sdp_media_rformat(c->sdpm, "telephone-event");
    c->pt_telev = te ? te->pt : -1;
    enum sdp_dir dir = sdp_media_rdir(c->sdpm);
    bool was_held = c->held;
    /* libre keeps the remote direction from our side: their "sendonly" is our RECVONLY. The
     * caller will not hear us (sendonly or inactive: on hold) when we may not send. */
    c->held = !(dir & SDP_SENDONLY);
    if (was_held && !c->held)
        c->t_last_rtp = svc_now_ms(); /* a phone on hold may send nothing: count afresh */
    /* Where media goes: the SDP's address, until the caller's first packet fixes it. A new
     * address in a later offer (a PBX moving the media) is followed, and latched afresh. */
    const struct sa *ra = sdp_media_raddr(c->sdpm);
    if (!sa_cmp(ra, &c->sdp_addr, SA_ALL)) {
        c->sdp_addr = *ra;
        c->peer = *ra;
        c->latched = false;
    }
    return 0;
}

/*
 * Audio, text, or both. A call may begin with text alone (a deaf caller's app may offer no
 * audio): it is made at 8000 Hz, makes no audio, and stays without it (audio offered later is
 * declined). A call with audio must keep it: an offer without it is refused, as before.
 */
int sdp_choose(struct scall *c)
{
    int terr = text_choose(c);
    if (terr && terr != ENOENT)
        return terr;
    int aerr = c->text_only ? ENOENT : choose_audio(c);
    if (aerr && (aerr != ENOENT || terr || c->codec))
        return aerr;
    if (aerr) { /* text alone: no audio format is answered (its line gets port 0) */
        for (struct le *le = list_head(sdp_media_format_lst(c->sdpm, true)); le; le = le->next)
            ((struct sdp_format *)le->data)->sup = false;
        if (!c->call) {
            c->text_only = true;
            c->rate = 8000;
        }
        c->held = false;
    }
    c->answered = true;
    return 0;
}

int sdp_answer(struct scall *c, struct mbuf **descp)
{
    return sdp_encode(descp, c->sdp, false);
}

int sdp_offer(struct scall *c, struct mbuf **descp)
{
    /* A call with its audio at a rate offers only codecs of that rate (and telephone-event);
     * before that, every one we speak. */
    const struct list *lst = sdp_media_format_lst(c->sdpm, true);
    for (struct le *le = list_head(lst); le; le = le->next) {
        struct sdp_format *f = le->data;
        const struct tt_codec_info *k = tt_codec_find(f->name, f->srate, f->ch);
        f->sup = !k || !c->call || (int)k->audio_rate == c->rate;
    }
    int err = text_offer(c);
    return err ? err : sdp_encode(descp, c->sdp, true);
}
