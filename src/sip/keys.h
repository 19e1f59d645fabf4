/*
 * One key press, counted once however many ways it arrives.
 *
 * A call's keys come by up to three sources: RFC 4733 events in the RTP stream (telev.h), the
 * in-band DTMF receiver on the decoded audio (dsp/dtmf.h), and SIP INFO requests (info.h).
 * Which of them are on is the caller's choice (in-band, for one, only when the caller offers
 * no telephone-event, unless configured otherwise); some phones send a press by two or all
 * three at once. This is the merge: each report comes in with its source and the time it
 * arrived (the caller's clock, in ms: the merge reads none), and is either counted or
 * dropped as a copy.
 *
 * The rule. Each source already counts its own presses (the RFC 4733 receiver by the
 * event's timestamp, the in-band receiver by the pause between tones, INFO by its
 * transaction), so the merge never drops a report as a copy of one from the same source. A
 * report of key k from source S is a copy when there is a counted key k
 *   - from another source,
 *   - less than the window (TT_KEYS_WINDOW_MS) old,
 *   - that S has not yet reported (each counted key takes at most one copy from each source),
 *   - and counted after the last key an earlier report of S was a copy of (a source reports
 *     presses in the order they were made: once S's report has been paired with a press,
 *     its later reports are of later presses);
 * the oldest such is the one it copies. Otherwise the report counts.
 *
 * Only S's copies set that bound, not the keys S itself brought first: the order keys are
 * counted in is the order of the presses only as long as the sources' lags differ by less
 * than the time between presses. Events 150 ms behind the tones, presses 80 ms apart, the
 * tones missing the first: the tones bring the second press first, the events then bring
 * the first; the events' report of the second must still find it.
 *
 * What follows:
 *  - a quick repeat from one source always counts twice. Q.24 (North American figures, as
 *    dsp/dtmf.c takes them) lets a digit be 40 ms long and the pause after it 40 ms, so two
 *    presses of one digit can come 80 ms apart, closer than any window that would cover the
 *    lag between sources; the rule needs no such figure because it never compares a source
 *    with itself;
 *  - when every source reports every press, each press counts once, however the sources lag
 *    each other (up to the window): the n-th report of a key from each source pairs with the
 *    n-th counted one. "11" sent both as events and as tones, the tones 20 ms behind, gives
 *    events 0 ms and 100 ms, tones 20 ms and 120 ms: two keys, not one or four;
 *  - what it can get wrong: a press that only source A carried, followed within the window by
 *    a press of the same digit that only source B carried, counts once. That takes one lost
 *    press on each of two sources, in a row, on the same digit.
 *
 * The window: long enough for the slowest copy of one press to follow the first.
 *  - RFC 4733 events and in-band tones travel in the same RTP stream. A phone sends the first
 *    event packet within one update interval of the keypress (50 ms, or the audio packet
 *    interval, RFC 4733 §2.5.1.2) while the tone starts in the audio; a gateway that turns
 *    tones into events sends the event after detecting the tone (Q.24: 40 ms of it). The
 *    in-band receiver here reports a digit at most 39 ms after the tone began (dsp/dtmf.h).
 *    So one leads the other by about 100 ms at most, plus the jitter between two packets of
 *    one stream.
 *  - SIP INFO travels the signalling path, through any proxies, apart from the media. Over
 *    UDP an INFO whose first transmission is lost is sent again T1 = 500 ms later (RFC 3261
 *    §17.1.2.2, timer E); our server transaction absorbs any further copies of it.
 * 700 ms: T1 and 200 ms for the difference of the two paths and the detection delays. A copy
 * later than that (an INFO lost twice: 1.5 s) counts as a press of its own.
 *
 * Memory: the last TT_KEYS_MEMORY counted keys (32). Only keys younger than the window can be
 * copied, and at most 27 can be: three sources, each with presses at most every 80 ms (Q.24,
 * as above), in 700 ms, none of them copies of another.
 */
#ifndef TT_SIP_KEYS_H
#define TT_SIP_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "tonetree.h"

enum tt_keys_src {
    TT_KEYS_RTP,  /* an RFC 4733 event (telev.h) */
    TT_KEYS_TONE, /* an in-band tone (dsp/dtmf.h) */
    TT_KEYS_INFO, /* a SIP INFO request (info.h) */
    TT_KEYS_NSRC
};

#define TT_KEYS_WINDOW_MS 700
#define TT_KEYS_MEMORY 32

struct tt_keys_stats {
    uint64_t reports[TT_KEYS_NSRC]; /* reports offered, by source */
    uint64_t counted[TT_KEYS_NSRC]; /* of them, counted */
    uint64_t copies[TT_KEYS_NSRC];  /* of them, copies of a key another source brought first */
};

/* A counted key. */
struct tt_keys_seen {
    tt_ms at;
    uint64_t seq;  /* its place among counted keys, from 1 */
    char key;
    uint8_t from;  /* the sources that reported it, one bit each */
};

/* The merge for one call. Declared here so that a caller can embed it; fields are private. */
struct tt_keys {
    struct tt_keys_seen seen[TT_KEYS_MEMORY]; /* a ring, oldest at head */
    unsigned head, n;
    uint64_t seq;                  /* keys counted */
    uint64_t last[TT_KEYS_NSRC];   /* the seq of the last key each source's report copied */
    tt_ms window;
    struct tt_keys_stats stats;
};

/**
 * Set up the merge for a call.
 * @param window_ms  how long a key waits for copies from other sources; 0 for
 *                   TT_KEYS_WINDOW_MS (see above), negative for none (nothing is a copy)
 */
void tt_keys_init(struct tt_keys *m, tt_ms window_ms);

/**
 * A key arrived from a source.
 * @param key  '0'-'9', '*', '#' or 'A'-'D'
 * @param now  when it arrived, on the caller's clock (ms)
 * @return 0 when it counts (pass it on to the call), EALREADY when it is a copy of a key
 *         already counted (drop it), EINVAL for an unknown source or key
 */
int tt_keys_offer(struct tt_keys *m, enum tt_keys_src src, int key, tt_ms now);

/** Whether key is one a source may report: '0'-'9', '*', '#' or 'A'-'D'. */
bool tt_keys_valid(int key);

#endif
