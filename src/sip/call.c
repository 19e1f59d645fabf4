/*
 * One call's life, from the INVITE to the log line.
 *
 * INVITE: a call is refused with 503 and Retry-After while the service drains or when it has
 * max_calls already (a balancer in front sends it to another engine; a phone tries later), and
 * with 488 when the offer has no codec we speak. Otherwise it is answered at once with 200:
 * nothing is said before the ACK, so the caller hears the welcome from its start. With an
 * offer, the answer goes in the 200; without one (a late offer), the 200 carries our offer and
 * the answer comes in the ACK.
 *
 * The call's session runs on the edition of the menu in service when the INVITE came, held
 * until the call is freed (a reload meanwhile does not touch it), at the rate of the codec
 * chosen, with the store of that rate. A re-INVITE may move the call on hold and back, or to
 * another codec of the same rate; one of another rate is refused (488), since the call's audio
 * is made at its rate.
 *
 * Ends: the caller's BYE (or CANCEL), the menu's goodbye (the engine sends BYE once it has been
 * heard), no RTP for rtp_timeout_ms, max_call_ms, or the service stopping. Every end goes
 * through scall_end, which writes the log line and frees everything the call had.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sip/sip_int.h"

static const char *const end_names[END_COUNT] = {
    [END_NONE] = "none",         [END_CALLER] = "caller-hung-up",
    [END_GOODBYE] = "goodbye",   [END_SILENT] = "no-media",
    [END_TOO_LONG] = "too-long", [END_TRANSFERRED] = "transferred",
    [END_SHUTDOWN] = "shutdown",
    [END_FAILED] = "failed",
};

const char *scall_end_name(enum scall_end e)
{
    return e < END_COUNT ? end_names[e] : "?";
}

static void visit(struct scall *c, int node)
{
    c->node = node;
    if (!c->ed || node < 0)
        return;
    const char *id = tt_menu_node_id(c->ed->menu, node);
    metrics_visit(c->svc, id);
    size_t room = sizeof(c->visited) - c->nvisited;
    if (room < 5)
        return; /* full: the last mark below says so */
    int n = snprintf(c->visited + c->nvisited, room, "%s%s", c->nvisited ? ">" : "", id);
    if (n < 0 || (size_t)n >= room - 4) {
        /* what does not fit is marked, not cut mid-name */
        snprintf(c->visited + c->nvisited, room, "%s...", c->nvisited ? ">" : "");
        c->nvisited = sizeof(c->visited) - 1;
        return;
    }
    c->nvisited += (size_t)n;
}

static void transfer_failed(struct scall *c)
{
    c->refer = mem_deref(c->refer);
    if (c->call && !tt_call_ended(c->call)) {
        (void)tt_call_transfer_done(c->call, false, svc_now_ms());
        svc_report(c->svc, c->said);
    }
}

/* The answer to our REFER: 202 means the phone will try (its NOTIFYs say how it went); an
 * error means it will not, and the caller hears so at once. */
static void refer_resp(int err, const struct sip_msg *msg, void *arg)
{
    struct scall *c = arg;
    if (!err && msg && msg->scode < 200)
        return; /* 100 Trying: the request goes on, and c->refer still holds it */
    c->refer = NULL; /* libre frees the request after this */
    if (err || !msg || msg->scode >= 300)
        transfer_failed(c);
}

/* A blind transfer (RFC 3515): the caller's phone is asked to call the person itself. */
static void transfer_send(void *arg)
{
    struct scall *c = arg;
    if (!c->sess || !c->transfer_to) {
        transfer_failed(c);
        return;
    }
    int err = sip_drequestf(&c->refer, c->svc->sip, true, "REFER", sipsess_dialog(c->sess), 0,
                            NULL, NULL, refer_resp, c,
                            "Contact: <sip:tonetree@%J>\r\n"
                            "Refer-To: <%s>\r\n"
                            "Referred-By: <sip:tonetree@%J>\r\n"
                            "Content-Length: 0\r\n\r\n",
                            &c->svc->laddr, c->transfer_to, &c->svc->laddr);
    if (err)
        transfer_failed(c);
}

bool scall_notify(struct svc *s, const struct sip_msg *msg)
{
    struct scall *c = NULL;
    for (struct le *le = list_head(&s->calls); le && !c; le = le->next) {
        struct scall *x = le->data;
        if (x->sess && sip_dialog_cmp(sipsess_dialog(x->sess), msg))
            c = x;
    }
    if (!c) {
        (void)sip_reply(s->sip, msg, 481, "Call/Transaction Does Not Exist");
        return false;
    }
    (void)sip_reply(s->sip, msg, 200, "OK");
    /* The body is a fragment of the phone's own call to the person (message/sipfrag): its
     * status line says how that call went. */
    struct pl code;
    if (!c->transfer_to || !c->call || !tt_session_transferring(tt_call_session(c->call)) ||
        re_regex((const char *)mbuf_buf(msg->mb), mbuf_get_left(msg->mb),
                 "SIP/2.0 [0-9]+", &code))
        return true;
    uint32_t sc = pl_u32(&code);
    if (sc < 200)
        return true; /* trying, ringing: the session's own limit waits for the rest */
    if (sc < 300) {
        c->end = END_TRANSFERRED;
        (void)tt_call_transfer_done(c->call, true, svc_now_ms()); /* the send tick hangs up */
    } else {
        transfer_failed(c);
    }
    svc_report(c->svc, c->said);
    return true;
}

/* The session's events: only where the caller went, and counts. Never the words said or the
 * keys pressed (an entry may be someone's private business). */
static void on_event(void *arg, const struct tt_event *ev, tt_ms now)
{
    (void)now;
    struct scall *c = arg;
    switch (ev->type) {
    case TT_EV_START:
    case TT_EV_GO: visit(c, ev->node); break;
    case TT_EV_INVALID:
        c->invalid++;
        c->svc->invalid_total++;
        break;
    case TT_EV_TIMEOUT:
        c->timeouts++;
        c->svc->timeouts_total++;
        break;
    case TT_EV_STOP: text_cut(c); break;
    case TT_EV_TRANSFER:
        free(c->transfer_to);
        c->transfer_to = ev->text ? strdup(ev->text) : NULL;
        tmr_start(&c->transfer_tmr, 0, transfer_send, c);
        break;
    default: break;
    }
}

/* What a caller sends goes into the log as one word of plain characters: a Call-ID with spaces
 * or line breaks in it must not forge fields or lines of its own. */
static void log_safe(char *t)
{
    for (; *t; t++)
        if ((unsigned char)*t <= ' ' || (unsigned char)*t >= 0x7f)
            *t = '?';
}

static void log_line(struct scall *c)
{
    FILE *f = c->svc->o->log;
    if (!f)
        return;
    char start[32];
    struct tm tm;
    gmtime_r(&c->wall_start.tv_sec, &tm);
    strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm);
    tt_ms len = c->established ? svc_now_ms() - c->t_start : 0;
    fprintf(f, "call call-id=%s start=%s length=%.1f end=%s nodes=%s invalid=%u timeouts=%u",
            c->callid, start, (double)len / 1000.0, scall_end_name(c->end),
            c->nvisited ? c->visited : "-", c->invalid, c->timeouts);
    if (c->svc->o->log_caller && c->caller[0])
        fprintf(f, " caller=%s", c->caller);
    fputc('\n', f);
    fflush(f);
}

static void scall_destructor(void *arg)
{
    struct scall *c = arg;
    list_unlink(&c->le);
    tmr_cancel(&c->transfer_tmr);
    c->refer = mem_deref(c->refer);
    free(c->transfer_to);
    if (c->counted)
        c->svc->ncalls--;
    if (c->counted && !c->established)
        c->svc->unacked--;
    media_close(c);
    text_close(c);
    callkeys_free(c);
    tt_call_free(c->call);
    if (c->ed)
        tt_menu_slot_release(c->svc->menus, c->ed);
    if (c->said) {
        svc_report(c->svc, c->said);
        tt_diag_free(c->said);
    }
    mem_deref(c->sess);
    mem_deref(c->sdp);
}

void scall_end(struct scall *c, enum scall_end why)
{
    if (c->end == END_NONE)
        c->end = why;
    c->svc->end_counts[c->end]++;
    if (c->end == END_CALLER && c->ed && c->node >= 0)
        metrics_hangup(c->svc, tt_menu_node_id(c->ed->menu, c->node));
    log_line(c);
    if (c->sess && c->end != END_CALLER && c->end != END_FAILED)
        c->svc->bye_at = svc_now_ms() ? svc_now_ms() : 1; /* ours to hang up: a BYE goes */
    /* Freeing an established session sends the BYE; libre keeps its transaction running on
     * the loop after we let go. */
    mem_deref(c);
}

void scall_free_all(struct svc *s)
{
    while (list_head(&s->calls))
        scall_end(list_head(&s->calls)->data, END_SHUTDOWN);
}

/* The session, once the codec (and so the rate) is known: from the offer, or from the answer
 * in the ACK after a late offer. */
static int call_begin(struct scall *c)
{
    if (c->call)
        return 0;
    const struct tt_sip_opts *o = c->svc->o;
    tt_store *store = c->rate == 16000 ? o->store16k : o->store8k;
    if (!store)
        return ENOTSUP;
    c->ed = tt_menu_slot_hold(c->svc->menus);
    /* A telephone: the volume is in the frames, at the level's gain; the goodbye is said and
     * heard before the engine hangs up. */
    struct tt_call_opts co = {.rate = c->rate, .lang = c->ed->lang, .end_mode = TT_END_GOODBYE,
                              .volume = TT_CALL_VOLUME_LEVEL, .transfers = true,
                              .text = !text_on(c)     ? TT_CALL_TEXT_OFF
                                      : c->text_only ? TT_CALL_TEXT_ONLY
                                                     : TT_CALL_TEXT_BESIDE,
                              .on_event = on_event, .arg = c};
    return tt_call_new(&c->call, c->ed->menu, c->ed->phrases, store, &co, c->said);
}

static int offer_handler(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
    struct scall *c = arg;
    int err;
    if (mbuf_get_left(msg->mb)) {
        if ((err = sdp_decode(c->sdp, msg->mb, true)) || (err = sdp_choose(c)))
            return err;
        /* text added to a call under way: from now on its words go as text too */
        if (text_on(c) && c->call &&
            (err = tt_call_text(c->call, c->text_only ? TT_CALL_TEXT_ONLY : TT_CALL_TEXT_BESIDE,
                                svc_now_ms())))
            return err;
        return sdp_answer(c, descp);
    }
    return sdp_offer(c, descp); /* a re-INVITE without an offer: ours, answered in the ACK */
}

static int answer_handler(const struct sip_msg *msg, void *arg)
{
    struct scall *c = arg;
    int err;
    if ((err = sdp_decode(c->sdp, msg->mb, false)) || (err = sdp_choose(c)))
        return err;
    return call_begin(c);
}

/* The dialog is up: the session begins and the packets start. On the ACK, or on the caller's
 * first RTP packet if that comes first (the ACK was lost or is late: media from the caller
 * proves it has our answer, and a key pressed at once must not be lost). False when the call
 * could not begin and was ended (freed). */
bool scall_establish(struct scall *c)
{
    if (c->established)
        return true;
    if (!c->call) { /* a late offer whose ACK brought no answer we could use */
        scall_end(c, END_FAILED);
        return false;
    }
    c->established = true;
    c->svc->unacked--;
    c->t_start = c->t_last_rtp = svc_now_ms();
    media_start(c);
    int err = tt_call_start(c->call, c->t_start);
    svc_report(c->svc, c->said);
    if (err) {
        scall_end(c, END_FAILED);
        return false;
    }
    return true;
}

static void estab_handler(const struct sip_msg *msg, void *arg)
{
    (void)msg;
    (void)scall_establish(arg);
}

static void info_handler(struct sip *sip, const struct sip_msg *msg, void *arg)
{
    (void)sip;
    callkeys_info(arg, msg);
}

static void close_handler(int err, const struct sip_msg *msg, void *arg)
{
    (void)msg;
    struct scall *c = arg;
    /* The session is over on libre's side: nothing more to send on it. */
    /* the reason already given stays (a transfer put through, then the phone's BYE) */
    scall_end(c, err == ECONNRESET || err == 0 ? END_CALLER : END_FAILED);
}

/* Calls answered whose ACK has not come yet. A caller's ACK follows its 200 within a round
 * trip; INVITEs from forged addresses never ACK, and each would hold a call for libre's 32 s.
 * So only a tenth of the calls (at least 16) may wait at once: a flood of INVITEs fills that,
 * not every call the service has. */
static unsigned max_unacked(const struct svc *s)
{
    return s->max_calls / 10 > 16 ? s->max_calls / 10 : 16;
}

static void refuse(struct svc *s, const struct sip_msg *msg, uint16_t code, const char *reason)
{
    s->calls_refused++;
    if (code == 503)
        (void)sip_treplyf(NULL, NULL, s->sip, msg, false, code, reason,
                          "Retry-After: %d\r\nContent-Length: 0\r\n\r\n", TT_SIP_RETRY_AFTER_S);
    else
        (void)sip_treply(NULL, s->sip, msg, code, reason);
}

void scall_conn_handler(const struct sip_msg *msg, void *arg)
{
    struct svc *s = arg;
    if (s->draining || s->stopping) {
        refuse(s, msg, 503, "Service Unavailable");
        return;
    }
    if (s->ncalls >= s->max_calls || s->unacked >= max_unacked(s)) {
        refuse(s, msg, 503, "Too Many Calls");
        return;
    }
    struct scall *c = mem_zalloc(sizeof(*c), scall_destructor);
    if (!c) {
        refuse(s, msg, 500, "Server Internal Error");
        return;
    }
    c->svc = s;
    c->node = -1;
    c->pt_telev = -1;
    list_append(&s->calls, &c->le, c);
    c->counted = true;
    s->ncalls++;
    s->unacked++;
    s->calls_total++;
    clock_gettime(CLOCK_REALTIME, &c->wall_start);
    re_snprintf(c->callid, sizeof(c->callid), "%r", &msg->callid);
    log_safe(c->callid);
    if (s->o->log_caller) {
        re_snprintf(c->caller, sizeof(c->caller), "%r", &msg->from.auri);
        log_safe(c->caller);
    }
    struct mbuf *desc = NULL;
    int err = 0;
    uint16_t code = 500;
    const char *reason = "Server Internal Error";
    if (!(c->said = tt_diag_new())) {
        err = ENOMEM;
        goto out;
    }
    if ((err = media_open(c)) || (err = sdp_setup(c)) || (err = callkeys_new(c)))
        goto out;
    if (mbuf_get_left(msg->mb)) {
        if ((err = sdp_decode(c->sdp, msg->mb, true))) {
            code = 400;
            reason = "Bad Session Description";
            goto out;
        }
        if ((err = sdp_choose(c))) {
            code = 488;
            reason = "Not Acceptable Here";
            goto out;
        }
        if ((err = call_begin(c)) || (err = sdp_answer(c, &desc)))
            goto out;
    } else if ((err = sdp_offer(c, &desc))) {
        goto out;
    }
    err = sipsess_accept(&c->sess, s->sock, msg, 200, "OK", "tonetree", "application/sdp", desc,
                         NULL, NULL, false, offer_handler, answer_handler, estab_handler,
                         info_handler, NULL, close_handler, c,
                         "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO\r\n");
out:
    mem_deref(desc);
    if (err) {
        if (!c->sess)
            refuse(s, msg, code, reason);
        s->calls_total--;
        c->end = END_FAILED;
        mem_deref(c); /* no log line: it never was a call */
    }
}
