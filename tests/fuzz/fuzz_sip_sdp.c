/*
 * libFuzzer target for a SIP call's offer and answer: any bytes are an SDP offer to the call's
 * own code (src/sip/sdp.c and text.c, on libre's SDP parser), as an INVITE's body reaches it:
 * the call's formats are set up, the offer decoded, a codec and telephone-event chosen, and
 * the answer written. Then the same bytes once more as a re-INVITE's offer to the same call,
 * where only a codec of the call's rate will do.
 *
 * What must hold, besides no crash, leak or undefined behaviour:
 *  - the choice is refused (ENOENT, a 488) or names one of our codecs, with a payload type
 *    the offer could have used (0-127) and a telephone-event type of -1 or 0-127;
 *  - a chosen call has its encoder and decoder, at the codec's rate;
 *  - a re-offer keeps the call at its rate;
 *  - a chosen call's answer offers its audio (or its text, for a call of text alone) over
 *    RTP/AVP.
 *
 * Build: make build/fuzz/fuzz_sip_sdp; run: make fuzz (FUZZ_SIP_SECONDS=600 for longer).
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip_int.h"

static struct tt_sip_opts opts = {.store16k = (tt_store *)1}; /* G.722 offered (never read) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct svc s = {.o = &opts};
    sa_set_str(&s.media_addr, "127.0.0.1", 0);
    struct scall c = {.svc = &s, .pt_telev = -1, .node = -1};
    struct mbuf *mb = mbuf_alloc(size + 1), *answer = NULL;
    if (!mb || sdp_setup(&c))
        goto out;
    (void)mbuf_write_mem(mb, data, size);
    mb->pos = 0;
    if (sdp_decode(c.sdp, mb, true))
        goto out;
    int err = sdp_choose(&c);
    if (err == ENOENT)
        goto out;
    /* audio, or text alone (then at 8000 Hz, with no codec) */
    if (err || (!c.codec && (!text_on(&c) || !c.text_only || c.rate != 8000)))
        abort();
    if (c.codec && (c.pt_send < 0 || c.pt_send > 127 || c.pt_telev < -1 || c.pt_telev > 127 ||
                    !c.enc || !c.dec || c.rate != (int)c.codec->audio_rate))
        abort();
    if (sdp_answer(&c, &answer))
        abort();
    /* An answer that names its audio. (Not that libre could read every answer back: to a
     * broken m= line it answers with the line turned down and the broken part echoed.) */
    if (!answer || !memmem(answer->buf, answer->end, "RTP/AVP", 7))
        abort();
    /* the same offer again, as a re-INVITE: the call's rate is fixed now */
    c.call = (tt_call *)1; /* sdp_choose asks only whether a call exists */
    int rate = c.rate;
    mb->pos = 0;
    if (!sdp_decode(c.sdp, mb, true) && !sdp_choose(&c) && c.rate != rate)
        abort();
    c.call = NULL;
out:
    mem_deref(answer);
    mem_deref(mb);
    tt_codec_enc_free(c.enc);
    tt_codec_dec_free(c.dec);
    text_close(&c); /* its socket, if the offer had text */
    mem_deref(c.sdp); /* and its media, which it owns */
    return 0;
}
