/*
 * A call's keys, from the three ways a phone sends them: RFC 4733 events in the RTP stream,
 * tones in the audio (the project's Q.24 receiver, dsp/dtmf.c), and SIP INFO. Each is parsed
 * by its own module (telev.c, info.c); keys.c counts a press seen by more than one way once.
 *
 * The tone receiver runs only when the caller offered no telephone-event (a phone that sends
 * events usually strips the tones from its audio, or sends both: then the events are the
 * better copy), unless the service was told otherwise. Its audio is the caller's, decoded from
 * the codec; nothing of it is kept.
 */
#include <errno.h>
#include <stdlib.h>

#include "dsp/dtmf.h"
#include "sip/codec.h"
#include "sip/info.h"
#include "sip/keys.h"
#include "sip/sip_int.h"
#include "sip/telev.h"

struct callkeys {
    struct tt_telev telev;
    uint32_t ssrc;        /* the event stream's; a new one is a new stream (RFC 3550 8.2) */
    bool have_ssrc;
    struct tt_keys merge;
    struct tt_dtmf *dtmf; /* made at the first audio packet that needs listening to */
    struct scall *c;
};

/* A key from any source: passed on once, whichever way it came first. 'A'-'D' are DTMF keys a
 * telephone keypad does not have; the session has no use for them. */
static void press(struct scall *c, char key, enum tt_keys_src src)
{
    tt_ms now = svc_now_ms();
    if (tt_keys_offer(&c->keys->merge, src, key, now))
        return; /* the same press, seen another way (or not a key) */
    if (key >= 'A' && key <= 'D')
        return;
    if (c->call && c->established) {
        (void)tt_call_key(c->call, key, now);
        svc_report(c->svc, c->said);
    }
}

static void on_event(void *user, const struct tt_telev_note *n)
{
    struct callkeys *k = user;
    if (n->what == TT_TELEV_KEY)
        press(k->c, n->key, TT_KEYS_RTP);
}

static void on_tone(void *user, char digit, uint64_t start, double level)
{
    (void)start;
    (void)level;
    struct callkeys *k = user;
    press(k->c, digit, TT_KEYS_TONE);
}

int callkeys_new(struct scall *c)
{
    struct callkeys *k = calloc(1, sizeof(*k));
    if (!k)
        return ENOMEM;
    k->c = c;
    (void)tt_telev_init(&k->telev, on_event, k);
    tt_keys_init(&k->merge, 0);
    c->keys = k;
    return 0;
}

void callkeys_free(struct scall *c)
{
    if (!c->keys)
        return;
    tt_dtmf_free(c->keys->dtmf);
    free(c->keys);
    c->keys = NULL;
}

void callkeys_rtp_event(struct scall *c, const struct rtp_header *h, const uint8_t *p, size_t n)
{
    struct callkeys *k = c->keys;
    if (k->have_ssrc && h->ssrc != k->ssrc)
        tt_telev_reset(&k->telev); /* timestamps of another stream mean nothing here */
    k->ssrc = h->ssrc;
    k->have_ssrc = true;
    (void)tt_telev_packet(&k->telev, h->ts, p, n);
}

void callkeys_rtp_audio(struct scall *c, const uint8_t *p, size_t n)
{
    struct callkeys *k = c->keys;
    /* tones only when the caller sends no events, unless the service asks otherwise */
    int tones = c->svc->o->tones;
    if (tones == TT_SIP_TONES_OFF || (tones == TT_SIP_TONES_AUTO && c->pt_telev >= 0) || !c->dec)
        return;
    if (!k->dtmf && !(k->dtmf = tt_dtmf_init(NULL, 8000, on_tone, k)))
        return;
    int16_t pcm[TT_CODEC_MAX_DECODED];
    size_t got = 0;
    if (!tt_codec_decode(c->dec, p, n, pcm, TT_CODEC_MAX_DECODED, &got))
        tt_dtmf_process(k->dtmf, pcm, got);
}

void callkeys_info(struct scall *c, const struct sip_msg *msg)
{
    const struct sip_hdr *ct = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
    struct tt_info_key key;
    int err = tt_info_parse(ct ? ct->val.p : NULL, ct ? ct->val.l : 0,
                            (const char *)mbuf_buf(msg->mb), mbuf_get_left(msg->mb), &key);
    if (err == ENOTSUP) {
        (void)sip_replyf(c->svc->sip, msg, 415, "Unsupported Media Type",
                         "Accept: application/dtmf-relay, application/dtmf\r\n"
                         "Content-Length: 0\r\n\r\n");
        return;
    }
    if (err) {
        (void)sip_reply(c->svc->sip, msg, 400, "Bad Request");
        return;
    }
    (void)sip_reply(c->svc->sip, msg, 200, "OK");
    if (key.key)
        press(c, key.key, TT_KEYS_INFO);
}
