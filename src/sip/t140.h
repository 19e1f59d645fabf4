/*
 * Real-time text on a SIP call: ITU-T T.140 text in RTP (RFC 4103), with RFC 2198 redundancy.
 * A sender turns the words of prompts into the payloads of an m=text stream, and a receiver
 * turns the payloads the caller's terminal sends back into text, in order, with a mark where
 * text was lost.
 *
 * Pure, like telev.h: no socket, no clock, no libre. The caller owns both structs (no
 * allocation anywhere), passes the time in (its own ms clock, tt_ms), and moves payloads in
 * and out of its RTP stream; the SDP (m=text, t140/1000, red/1000, a=fmtp cps=) is the
 * caller's too.
 *
 * The sender (RFC 4103 §4, §5.1, §5.2, §6):
 *  - text put in is queued; a packet is due when text is queued and the stream is idle (at
 *    once, marker bit set: §5.1 says send the first text after an idle period as soon as
 *    possible, §3.5 and §5.2 mark it), or one interval (300 ms by default, §5.1) after the
 *    last packet while text keeps coming;
 *  - after the last text, packets with an empty primary block go on at every interval until
 *    that text has been sent in every redundant generation (§5.2): `generations` of them
 *    with red, one without (the empty block that §5.2 sends at the start of an idle period).
 *    Then the stream is idle and nothing is due;
 *  - with red, each packet carries the primary blocks of the packets before it, oldest
 *    first, as many as `generations` (2 is §4's recommendation), empty ones included (§5.2:
 *    the receiver counts back from the sequence number to place them, §4.2). A generation
 *    whose timestamp offset would not fit RFC 2198's 14 bits (older than 16383 ms) is left
 *    out (§4.1 forbids sending it); by the rule above it is always an empty block unless the
 *    caller stopped asking for packets for 16 s while some were due. The first packets of a
 *    stream carry fewer generations: there were no blocks before them (§4.2: a redundant
 *    block is one sent before, so none is made up). A primary block holds
 *    at most 1023 bytes (RFC 2198's 10-bit block length), so that it can always be sent
 *    again as a redundant generation; a payload is at most TT_T140_PAYLOAD_MAX bytes;
 *  - the characters sent in any 10 s are at most 10 x cps (§6: cps is the receiver's limit,
 *    a mean over any 10 s; 30 unless its a=fmtp says otherwise), and a packet carries at most
 *    cps x interval of them (rounded up), so that a long prompt flows at an even pace rather
 *    than in a burst and a pause (§9: an automated sender must not send faster than a person
 *    types). At 30 cps a prompt of 600 characters takes 20 s;
 *  - timestamps are the caller's clock in ms (t140's RTP clock is 1000 Hz, §3.5), made to
 *    rise by at least 1 from packet to packet (§3.5: sequential packets never share one).
 *    The caller adds its stream's random base (RFC 3550 §5.1) if it wants one: offsets are
 *    differences and do not change;
 *  - every packet made must be sent, in the order made, with consecutive sequence numbers,
 *    and nothing else in that RTP stream (§5.3: the receiver finds losses by the sequence).
 * Text put in is cleaned on the way (t140.c has the table): invalid UTF-8 becomes U+FFFD, a
 * new line ("\n", "\r\n" or "\r") becomes T.140's LINE SEPARATOR U+2028, a tab a space, and
 * other control characters and the BOM are dropped (BACKSPACE is kept: the driver may erase
 * an echoed character with it).
 *
 * The receiver (RFC 4103 §4.2, §5.3, §5.4):
 *  - packets are placed by sequence number (16 bits, wrapping), each redundant generation by
 *    counting back from the packet's number (§4.2); a block already known (a duplicate
 *    packet, or redundancy for text already had) is dropped, and so is a packet older than
 *    the text already handed on;
 *  - text is handed on in sequence order as soon as it is known. A missing block that the
 *    redundancy of a later packet cannot fill is lost: one U+FFFD (T.140's missing-text mark,
 *    §5.3) for the whole run of missing blocks, however long. §5.3 asks for a mark per
 *    missing block; one per gap says the same thing (text is missing here) without a row of
 *    marks whose number tells nothing about how much text was lost, since empty blocks are
 *    lost too;
 *  - reordering: with redundancy, a packet that comes up to `generations` places late is
 *    already covered by the ones after it. Beyond that, §5.4 lets the receiver wait for a
 *    missing packet (at most 1 s, its recommendation). The receiver waits `wait_ms` from the
 *    arrival of the first block held behind a gap; the caller drives that wait by calling
 *    tt_t140_rx_tick at the time tt_t140_rx_due gives (and every packet it hands in also
 *    checks the time). wait_ms 0 marks a gap as lost at once. A packet that arrives after
 *    its gap was given up is old, and dropped;
 *  - a packet with fewer redundant generations than the stream's usual number (the number
 *    two successive packets carried, §5.3, or the largest seen, since a short burst goes
 *    0, 1, 2 and stops) counts the missing ones as empty blocks (§5.3: a sender
 *    only leaves out empty blocks that became too old to send, after an idle period), so
 *    the loss of the empty blocks at the end of an idle period is not marked as lost text.
 *    Until a packet with every generation has come, the usual number is not known, and
 *    such a loss is marked (the first burst of a call, if exactly its empty tail is lost);
 *    The marker bit is not used: §5.3 allows it to refine loss detection, but a sender that
 *    sets it on every packet (linphone's plain t140 sender does, from its source) would
 *    then hide real losses;
 *  - the very first packet's redundant generations are handed on before its primary (no
 *    text came before them on this receiver), so the first packets of a call may be lost
 *    without losing their text. Keep the receiver for the whole stream (across re-INVITEs)
 *    and reset it on a new SSRC;
 *  - a sequence number far behind the stream (more than TT_T140_RX_BEHIND) twice in a row,
 *    consecutive, is a sender that restarted its numbering (RFC 3550 A.1 does the same):
 *    the held text is handed on, a mark is made, and the stream starts again there.
 * The text handed on is cleaned for tonetree (t140.c has the table): strict UTF-8 with
 * every invalid sequence replaced by U+FFFD; every new line (U+2028, U+2029, CR LF, CR, LF)
 * as one "\n"; BACKSPACE (0x08) passed on, for the caller to apply; the BOM (U+FEFF, which
 * T.140 sends at the start and linphone every 25 s as a keep-alive), BEL, T.140's control
 * sequences (INT "ESC a", SGR "CSI ... m", SOS ... ST strings) and every other C0 or C1
 * control character, DEL and the direction controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069) dropped. So what comes out is printable text, U+FFFD, "\n" and 0x08 only:
 * safe to turn into keys or to show.
 *
 * What the caller types may be a sensitive entry: the receiver wipes each block once it has
 * handed it on, and tt_t140_rx_reset wipes everything it holds.
 *
 * In a driver: tt_t140_tx_put a prompt's words when it starts (tt_t140_tx_flush when it is
 * cut short); on each tick, while tt_t140_tx_due says a packet is due by now, make it with
 * tt_t140_tx_packet and send it (pt, marker, ts as given, the next sequence number); arm the
 * next tick by tt_t140_tx_due's time. Each RTP packet of the m=text stream goes to
 * tt_t140_rx_packet; call tt_t140_rx_tick at tt_t140_rx_due's time; tt_t140_rx_reset on a
 * new SSRC and at the end of the call.
 */
#ifndef TT_SIP_T140_H
#define TT_SIP_T140_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tonetree.h"

/* RFC 4103 §5.1: the buffering time it recommends (T.140 allows up to 500 ms). */
#define TT_T140_INTERVAL_MS 300
/* RFC 4103 §4: the original and two redundant generations. */
#define TT_T140_GENERATIONS 2
/* RFC 4103 §6: the cps a receiver that says none takes. */
#define TT_T140_CPS 30
/* RFC 4103 §5.4: the longest wait for a missing packet it recommends. */
#define TT_T140_WAIT_MS 1000

/* The most redundant generations this sender keeps (a=fmtp:<red> 98/98/98/98 at most). */
#define TT_T140_MAX_GENERATIONS 3
/* RFC 2198 §3: a block's length has 10 bits, its timestamp offset 14. */
#define TT_T140_BLOCK_MAX 1023
#define TT_T140_OFFSET_MAX 16383
/* The largest payload the sender makes: a 4-byte header and a block per generation, the
 * primary's 1-byte header and block. */
#define TT_T140_PAYLOAD_MAX                                                                    \
    (TT_T140_MAX_GENERATIONS * (4 + TT_T140_BLOCK_MAX) + 1 + TT_T140_BLOCK_MAX)
/* Text waiting to be sent, in bytes after cleaning: a prompt of 600 characters is at most
 * 1800 bytes of UTF-8 (2400 if every one were a new line). tt_t140_tx_put takes what fits. */
#define TT_T140_TX_QUEUE 4096
/* The window of RFC 4103 §6's mean, and how many text packets the sender remembers in it:
 * at the shortest interval (100 ms) about 101, and some after idle periods; when all are in
 * the window, text waits until the oldest leaves it. */
#define TT_T140_CPS_WINDOW_MS 10000
#define TT_T140_TX_RECENT 128

/* Blocks the receiver holds, from the next one to hand on: room for a packet and its
 * generations arriving ahead of a gap, and for the packets of a 1 s wait at 300 ms. A block
 * further ahead than that makes the oldest held ones go first (gaps among them marked). */
#define TT_T140_RX_SLOTS 8
/* A sequence number this far behind the stream is not a late packet (RFC 3550 A.1 takes
 * 100 as the most misordering it expects). */
#define TT_T140_RX_BEHIND 100

/* ---- the sender ---- */

struct tt_t140_tx_cfg {
    int pt_t140;          /* the t140/1000 payload type, 0-127 */
    int pt_red;           /* the red/1000 payload type, 0-127; -1 for plain t140 */
    unsigned generations; /* redundant generations with red, 0-TT_T140_MAX_GENERATIONS */
    unsigned interval_ms; /* the buffering time, 100-5000 (RFC 4103 §9 allows 5 s at most) */
    unsigned cps;         /* the peer's cps (a=fmtp), 1-1000 */
};

/* A payload made by tt_t140_tx_packet. */
struct tt_t140_packet {
    bool made;     /* a packet was due and is in the buffer (len may be 0: an empty t140) */
    size_t len;    /* payload bytes */
    int pt;        /* its RTP payload type */
    bool marker;   /* the RTP marker bit */
    uint32_t ts;   /* its RTP timestamp */
    unsigned chars; /* characters of new text in it */
};

struct tt_t140_tx_stats {
    uint64_t packets;    /* packets made */
    uint64_t text;       /* of them with new text */
    uint64_t chars;      /* characters sent */
    uint64_t too_old;    /* redundant generations left out: older than 16383 ms */
    uint64_t replaced;   /* invalid UTF-8 sequences put in, sent as U+FFFD */
    uint64_t dropped;    /* control characters put in and dropped */
};

/* A primary block, kept to be sent again as redundancy. */
struct tt_t140_sent {
    tt_ms at;
    uint16_t len;
    uint8_t data[TT_T140_BLOCK_MAX];
};

/* The sender. Declared here so that a caller can embed it; its fields are private. */
struct tt_t140_tx {
    struct tt_t140_tx_cfg cfg;
    uint8_t queue[TT_T140_TX_QUEUE]; /* clean UTF-8 waiting */
    size_t qlen;
    bool cr;                         /* the last character put was a CR */
    struct tt_t140_sent hist[TT_T140_MAX_GENERATIONS]; /* the last primaries, oldest first */
    unsigned nhist;
    unsigned owed;                   /* empty packets still due after the last text */
    bool sent_any;
    tt_ms last;                      /* the last packet's time (its timestamp) */
    struct {
        tt_ms at;
        unsigned chars;
    } recent[TT_T140_TX_RECENT];     /* text packets of the last 10 s, oldest first */
    unsigned nrecent;
    struct tt_t140_tx_stats stats;
};

/**
 * Set up a sender.
 * @return 0, or EINVAL when a value is out of its range (see struct tt_t140_tx_cfg)
 */
int tt_t140_tx_init(struct tt_t140_tx *tx, const struct tt_t140_tx_cfg *cfg);

/**
 * Queue text to send (UTF-8, whole characters: an incomplete sequence at the end is invalid).
 * @param taken  set to the bytes of utf8 taken (all of them unless the queue is full)
 * @return 0 when all was taken, ENOSPC when the queue filled up first (the rest is the
 *         caller's to put again once packets have gone)
 */
int tt_t140_tx_put(struct tt_t140_tx *tx, const char *utf8, size_t n, size_t *taken);

/** Drop the text not sent yet (a prompt cut short); what was sent keeps its redundancy.
 *  @return the bytes dropped */
size_t tt_t140_tx_flush(struct tt_t140_tx *tx);

/** Bytes queued and not yet in any packet (0: every word put has gone out at least once, which
 *  is when a driver of text alone may count a prompt as said). */
size_t tt_t140_tx_queued(const struct tt_t140_tx *tx);

/**
 * When the next packet is due.
 * @param now   the caller's clock
 * @param when  set to the time it is due (now or earlier: due at once)
 * @return false when nothing is due until more text is put
 */
bool tt_t140_tx_due(const struct tt_t140_tx *tx, tt_ms now, tt_ms *when);

/**
 * Make the packet due at now, if one is.
 * @param buf, cap  where the payload goes (TT_T140_PAYLOAD_MAX bytes always suffice)
 * @param pkt       what was made; pkt->made is false when nothing is due
 * @return 0, or ENOBUFS when the payload would not fit in cap (nothing changes)
 */
int tt_t140_tx_packet(struct tt_t140_tx *tx, tt_ms now, uint8_t *buf, size_t cap,
                      struct tt_t140_packet *pkt);

/* ---- the receiver ---- */

/** Text now known, in order: clean UTF-8 (see above), whole characters, not NUL-terminated.
 *  Called from inside tt_t140_rx_packet, _tick and _reset, which it must not call. */
typedef void (*tt_t140_text_fn)(void *user, const char *utf8, size_t n);

struct tt_t140_rx_stats {
    uint64_t packets;   /* packets taken */
    uint64_t other;     /* packets of another payload type: ignored */
    uint64_t bad;       /* red payloads whose headers do not fit, or not of t140: ignored */
    uint64_t old;       /* packets older than the text handed on: ignored */
    uint64_t copies;    /* blocks already held or handed on */
    uint64_t recovered; /* missing blocks filled from a later packet's redundancy */
    uint64_t assumed;   /* generations left out of a packet, taken as empty blocks */
    uint64_t gaps;      /* missing-text marks made */
    uint64_t waited;    /* gaps that made the receiver wait for a late packet */
    uint64_t restarts;  /* the sender's numbering started again */
    uint64_t cut;       /* blocks longer than TT_T140_BLOCK_MAX: the rest marked missing */
    uint64_t invalid;   /* invalid UTF-8 sequences, handed on as U+FFFD */
    uint64_t controls;  /* control characters and sequences dropped */
    uint64_t boms;      /* U+FEFF dropped */
};

/* A block held until the ones before it are known. */
struct tt_t140_slot {
    bool full;
    bool cut;      /* it was longer than data: a mark follows it */
    uint16_t len;
    tt_ms arrived;
    uint8_t data[TT_T140_BLOCK_MAX];
};

/* The receiver. Declared here so that a caller can embed it; its fields are private. */
struct tt_t140_rx {
    int pt_t140, pt_red;
    tt_ms wait_ms;
    tt_t140_text_fn fn;
    void *user;
    bool started;
    uint16_t next;          /* the sequence number of the next block to hand on */
    unsigned head;          /* its slot */
    struct tt_t140_slot slot[TT_T140_RX_SLOTS];
    int last_gens;          /* the redundant generations of the last red packet (-1: none) */
    uint16_t last_seq;      /* its sequence number */
    unsigned gens;          /* the stream's usual number (0: not known yet) */
    bool in_gap;            /* a mark was made and no block handed on since */
    bool stray;             /* the last packet was far behind; stray_next follows it */
    uint16_t stray_next;
    /* the text filter, across blocks: a control sequence or a CR LF may be cut by them */
    uint8_t mode;
    uint16_t seq_len;
    bool cr;
    struct tt_t140_rx_stats stats;
};

/**
 * Set up a receiver for one RTP stream.
 * @param pt_t140  the t140/1000 payload type, 0-127
 * @param pt_red   the red/1000 payload type, 0-127, or -1 when red was not negotiated
 * @param wait_ms  how long a gap waits for a late packet, 0-TT_T140_WAIT_MS
 * @return 0, or EINVAL (no callback, a value out of range)
 */
int tt_t140_rx_init(struct tt_t140_rx *rx, int pt_t140, int pt_red, tt_ms wait_ms,
                    tt_t140_text_fn fn, void *user);

/**
 * One RTP packet of the text stream (header and padding removed).
 * @param seq  its sequence number
 * @param pt   its payload type
 * @param now  the caller's clock, for the wait
 * @return 0 when it was taken (text, if any, has been given), ENOTSUP for another payload
 *         type, EBADMSG for a red payload whose headers do not fit it or that holds a block
 *         of another payload type (nothing of it is taken)
 */
int tt_t140_rx_packet(struct tt_t140_rx *rx, uint16_t seq, int pt, const uint8_t *payload,
                      size_t n, tt_ms now);

/** When a gap stops waiting: false when nothing waits. */
bool tt_t140_rx_due(const struct tt_t140_rx *rx, tt_ms *when);

/** Give up on gaps whose wait is over at now, and hand on what they held back. */
void tt_t140_rx_tick(struct tt_t140_rx *rx, tt_ms now);

/** A new stream (a new SSRC) or the end of the call: hand on what is held (gaps marked),
 *  then forget the stream and wipe what was held. The counts stay. */
void tt_t140_rx_reset(struct tt_t140_rx *rx);

#endif
