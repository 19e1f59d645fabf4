/*
 * The SIP service: libre set up on the address asked for, calls taken by call.c, OPTIONS
 * answered here (a balancer's health probe), and a housekeeping timer that looks at the
 * program's flags: a reload asked for (done on a thread of its own, so no call's audio waits
 * for the synthesis of changed prompts), SIGTERM (drain: new calls and probes get 503 with
 * Retry-After, so a balancer moves them elsewhere, and the service ends when its last call
 * has), any other stop (hang up every call, then end).
 *
 * libre runs on this thread only; re_main is started without a signal handler, since the
 * program owns its signals. The descriptors of a thousand calls are past libre's default of
 * 1024, so its table is sized from the process's own limit.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <time.h>

#include "base/diag.h"
#include "call/reload_bg.h"
#include "sip/sip_int.h"

/* re_dbg.h wants a module name and level for its own macros, which are not used here */
#define DEBUG_MODULE "tonetree"
#define DEBUG_LEVEL 0
#include <re_dbg.h>

/* How often the flags are looked at: a SIGTERM is acted on within this. */
#define HOUSE_MS 100
/* After the last call of a drain or a stop, when the engine itself hung up: time for its BYEs to
 * be answered, capped (libre would wait 32 s for a UDP transaction that nobody answers). */
#define CLOSE_MS 2000

static struct timespec t0;

uint64_t svc_now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)(t.tv_sec - t0.tv_sec) * 1000000u + (uint64_t)((t.tv_nsec - t0.tv_nsec) / 1000);
}

tt_ms svc_now_ms(void)
{
    return (tt_ms)(svc_now_us() / 1000);
}

void svc_report(struct svc *s, tt_diag *d)
{
    if (!d || !tt_diag_len(d))
        return;
    if (s->o->report)
        s->o->report(d, s->o->arg);
    tt_diag_clear(d);
}

/* libre writes its warnings (a datagram that is not SIP, say) to stderr unless a handler takes
 * them: one a malformed packet, so anyone on the network could fill the operator's log. They
 * are counted instead (the metrics page shows the count). libre keeps one handler for the
 * process; the service sets it for its life and takes it back. */
static void libre_message(int level, const char *p, size_t len, void *arg)
{
    (void)level;
    (void)p;
    (void)len;
    struct svc *s = arg;
    s->stack_messages++;
}

static bool request_handler(const struct sip_msg *msg, void *arg)
{
    struct svc *s = arg;
    if (!pl_strcmp(&msg->met, "NOTIFY")) { /* a transfer's progress (sipsess takes none) */
        (void)scall_notify(s, msg);
        return true;
    }
    if (pl_strcmp(&msg->met, "OPTIONS"))
        return false; /* INVITE and the rest: sipsess's, or libre's own 501 */
    if (s->draining || s->stopping)
        (void)sip_treplyf(NULL, NULL, s->sip, msg, false, 503, "Service Unavailable",
                          "Retry-After: %d\r\nContent-Length: 0\r\n\r\n", TT_SIP_RETRY_AFTER_S);
    else
        (void)sip_treplyf(NULL, NULL, s->sip, msg, false, 200, "OK",
                          "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO\r\n"
                          "Accept: application/sdp\r\n"
                          "Content-Length: 0\r\n\r\n");
    return true;
}

static void close_done(void *arg)
{
    (void)arg;
    re_cancel();
}

static void house(void *arg)
{
    struct svc *s = arg;
    const struct tt_sip_opts *o = s->o;
    if (o->reload && *o->reload != s->reload_seen && !s->reloading) {
        s->reload_seen = *o->reload;
        tt_diag *d = tt_diag_new();
        if (d)
            tt_diag_add(d, TT_NOTE, tt_menu_slot_path(s->menus), 0, "reloading the menu");
        int err = tt_reload_bg_start(&s->reloading, s->menus);
        if (err && d)
            tt_diag_add(d, TT_ERROR, tt_menu_slot_path(s->menus), 0,
                        "cannot reload the menu: %s", strerror(err));
        svc_report(s, d);
        tt_diag_free(d);
    }
    if (s->reloading) {
        struct pollfd p = {.fd = tt_reload_bg_fd(s->reloading), .events = POLLIN};
        if (poll(&p, 1, 0) == 1) {
            tt_diag *d = tt_diag_new();
            tt_reload_bg_finish(s->reloading, d);
            s->reloading = NULL;
            svc_report(s, d);
            tt_diag_free(d);
        }
    }
    if (o->stop && *o->stop == SIGTERM && !s->draining && !s->stopping) {
        s->draining = true;
        tt_diag *d = tt_diag_new();
        if (d)
            tt_diag_add(d, TT_NOTE, NULL, 0, "draining: %u calls to finish, new calls refused",
                        s->ncalls);
        svc_report(s, d);
        tt_diag_free(d);
    }
    /* any other stop, even during a drain: everyone is hung up now */
    if (o->stop && *o->stop && *o->stop != SIGTERM && !s->stopping) {
        s->stopping = true;
        scall_free_all(s);
    }
    if ((s->draining || s->stopping) && !list_head(&s->calls) && !s->reloading) {
        /* Every call is over: a BYE of ours sent in the last CLOSE_MS may still want its
         * answer (or a resend), so that long is left for it; else the service ends now. */
        tt_ms since = svc_now_ms() - s->bye_at;
        tmr_start(&s->house, s->bye_at && since < CLOSE_MS ? (uint64_t)(CLOSE_MS - since) : 1,
                  close_done, s);
        return;
    }
    tmr_start(&s->house, HOUSE_MS, house, s);
}

static int raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &r);
    }
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return 1024;
    return r.rlim_cur > 65536 ? 65536 : (int)r.rlim_cur;
}

static int parse_addr(struct sa *sa, const char *text, tt_diag *d, const char *what)
{
    int err = sa_decode(sa, text, strlen(text));
    if (err)
        tt_diag_add(d, TT_ERROR, NULL, 0, "%s '%s' is not an address:port (127.0.0.1:5070)",
                    what, text);
    return err ? EINVAL : 0;
}

int tt_sip_serve(tt_menu_slot *menus, const struct tt_sip_opts *o, tt_diag *diag)
{
    struct svc s = {.o = o, .menus = menus, .tick_fd = -1};
    s.max_calls = o->max_calls ? o->max_calls : TT_SIP_MAX_CALLS;
    s.reload_seen = o->reload ? *o->reload : 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int maxfds = raise_fd_limit();
    dbg_handler_set(libre_message, &s);
    int err = libre_init();
    if (err) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot start libre: %s", strerror(err));
        dbg_handler_set(NULL, NULL);
        return err;
    }
    if ((err = fd_setsize(maxfds)))
        goto out;
    if ((err = parse_addr(&s.laddr, o->listen ? o->listen : "127.0.0.1:5070", diag, "--listen")))
        goto out;
    if (sa_is_any(&s.laddr)) {
        /* The address goes into every SDP and Contact: phones must be able to reach it. */
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "--listen %s: give the address phones reach this machine at, not a "
                    "wildcard (it is written into every call's SDP)",
                    o->listen);
        err = EINVAL;
        goto out;
    }
    s.media_addr = s.laddr;
    if (o->rtp_addr && (err = sa_set_str(&s.media_addr, o->rtp_addr, 0))) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "the media address '%s' is not an address",
                    o->rtp_addr);
        err = EINVAL;
        goto out;
    }
    sa_set_port(&s.media_addr, 0);
    char software[64];
    snprintf(software, sizeof(software), "tonetree/%s", TT_VERSION);
    if ((err = sip_alloc(&s.sip, NULL, 32, 32, 32, software, NULL, NULL)))
        goto fail;
    if ((err = sip_transp_add(s.sip, SIP_TRANSP_UDP, &s.laddr))) {
        char where[64];
        re_snprintf(where, sizeof(where), "%J", &s.laddr);
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot listen for SIP on %s: %s", where,
                    strerror(err));
        goto out;
    }
    (void)sip_transp_laddr(s.sip, &s.laddr, SIP_TRANSP_UDP, NULL); /* the port it got */
    /* OPTIONS first: its handler answers only those, and leaves the rest to sipsess */
    if ((err = sip_listen(&s.lsnr, s.sip, true, request_handler, &s)) ||
        (err = sipsess_listen(&s.sock, s.sip, 32, scall_conn_handler, &s)))
        goto fail;
    struct sa maddr;
    if (o->metrics && (err = parse_addr(&maddr, o->metrics, diag, "--metrics")))
        goto out;
    if ((err = metrics_open(&s, o->metrics ? &maddr : NULL))) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot start the metrics (%s): %s",
                    o->metrics ? o->metrics : "no page", strerror(err));
        goto out;
    }
    tmr_init(&s.house);
    s.grid_us = 0; /* the phases' own grid (media.c starts each call on it): from t0 */
    s.t0_us = (uint64_t)t0.tv_sec * 1000000u + (uint64_t)t0.tv_nsec / 1000;
    s.tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (s.tick_fd < 0 || (err = fd_listen(s.tick_fd, FD_READ, media_tick_fd, &s))) {
        err = s.tick_fd < 0 ? errno : err;
        goto fail;
    }
    /* (armed by the first call: media_start) */
    tmr_start(&s.house, HOUSE_MS, house, &s);
    if (o->ready) {
        char where[64], metrics[64];
        struct sa m;
        re_snprintf(where, sizeof(where), "%J", &s.laddr);
        if (!metrics_where(&s, &m))
            re_snprintf(metrics, sizeof(metrics), "%J", &m);
        o->ready(where, o->metrics ? metrics : NULL, o->arg);
    }
    err = re_main(NULL);
    goto out;
fail:
    tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot start the SIP service: %s", strerror(err));
out:
    scall_free_all(&s);
    if (s.reloading) {
        tt_diag *d = tt_diag_new();
        tt_reload_bg_finish(s.reloading, d);
        svc_report(&s, d);
        tt_diag_free(d);
    }
    if (s.tick_fd > 0) {
        fd_close(s.tick_fd);
        close(s.tick_fd);
    }
    tmr_cancel(&s.house);
    metrics_close(&s);
    mem_deref(s.sock);
    mem_deref(s.lsnr);
    if (s.sip)
        sip_close(s.sip, true);
    mem_deref(s.sip);
    libre_close();
    dbg_handler_set(NULL, NULL);
    return err;
}
