/*
 * The SIP telephone service (`tonetree sip MENU`): one process answers many calls at once on
 * libre's event loop, each call a tt_call on the edition of the menu in service, all of them
 * reading one prompt store per audio rate. The program owns the signals: it passes the flags
 * its handlers set, and the service looks at them on its own timer (the library installs no
 * handler, and libre's loop is started without one).
 */
#ifndef TT_SIP_SIP_H
#define TT_SIP_SIP_H

#include <signal.h>
#include <stdio.h>

#include "tonetree.h"

#define TT_SIP_MAX_CALLS 1000   /* --max-calls when none is given */
#define TT_SIP_RTP_TIMEOUT_MS 30000 /* no RTP from a caller this long (not on hold): gone */
#define TT_SIP_MAX_CALL_MS (60 * 60 * 1000) /* the longest call: an hour */
#define TT_SIP_RETRY_AFTER_S 30 /* what a draining or full engine asks callers to wait */

struct tt_sip_opts {
    const char *listen;      /* "127.0.0.1:5070": the SIP address (UDP); port 0: any free one */
    const char *rtp_addr;    /* the address media binds to: NULL for the SIP address's */
    unsigned rtp_lo, rtp_hi; /* RTP ports, even ones used (0, 0: 10000-20000) */
    unsigned max_calls;      /* calls at once; one more is refused with 503 (0: the default) */
    bool nat;                /* callers behind NAT: a call's media is taken from whatever address
                              * its first packet comes from, not only the one its SDP gave */
    /* Keys as tones in the caller's audio: listened for when the caller offers no
     * telephone-event (TT_SIP_TONES_AUTO), always, or never. A press seen both as a tone and
     * as an event counts once. */
    enum { TT_SIP_TONES_AUTO, TT_SIP_TONES_ON, TT_SIP_TONES_OFF } tones;
    tt_ms rtp_timeout_ms;    /* 0: TT_SIP_RTP_TIMEOUT_MS */
    tt_ms max_call_ms;       /* 0: TT_SIP_MAX_CALL_MS */
    /* One store per rate a codec needs: 8000 (PCMU, PCMA) and 16000 (G.722). The 16 kHz one
     * may be NULL: G.722 is then not offered. Both hold the menu slot's editions. */
    tt_store *store8k, *store16k;
    /* One line per call ended (Call-ID, start, length, end reason, nodes visited), or NULL.
     * Never the caller's number, unless log_caller is set. */
    FILE *log;
    bool log_caller;
    /* "127.0.0.1:9070": the counters in Prometheus's text format over HTTP there, or NULL */
    const char *metrics;
    /* Flags the program's own handlers set: *stop is SIGTERM to drain (new calls and OPTIONS
     * get 503, running calls finish, then the service returns) or any other signal number to
     * hang up every call and return; *reload changes to have the menu file loaded again. */
    const volatile sig_atomic_t *stop;
    const volatile sig_atomic_t *reload;
    /* Told once the service listens, with the addresses it got (a port 0 asked for is the one
     * the system chose) and the metrics page's, or NULL without one; or NULL. */
    void (*ready)(const char *sip, const char *metrics, void *arg);
    /* The operator's messages as they happen (a reload refused with its line, draining, a
     * call's lookup that failed with the entry hidden), for the program to show; NULL drops
     * them. The library itself prints nothing. */
    void (*report)(const tt_diag *d, void *arg);
    void *arg;
};

/**
 * Serve calls until stopped (see stop above). Messages for the operator go to o->report as they
 * happen.
 * @return 0 when drained or stopped, or the error that kept it from serving (EADDRINUSE, ...;
 *         said in diag)
 */
int tt_sip_serve(tt_menu_slot *menus, const struct tt_sip_opts *o, tt_diag *diag);

#endif
