/*
 * RFC 4733 telephone events: the keys in one RTP stream's event packets, each press reported
 * once, at the first packet of it that arrives.
 *
 * Pure: payload bytes and the packet's RTP timestamp in, notes out through a callback. No
 * socket, no clock, no libre; the caller (the RTP receive handler) has already picked the
 * packets of the negotiated telephone-event payload type and stripped the RTP header and any
 * padding (the P bit's bytes would otherwise read as one more event).
 *
 * What identifies an event. Every packet of an event carries the RTP timestamp of the event's
 * start (RFC 4733 §2.2.1, §2.5.1.2), however long it lasts and however often its final packet
 * is sent again (three times, §2.5.1.4). So an event is its start timestamp (with its event
 * code: two codes at one instant cannot both be right, and taking the pair costs nothing when
 * the sender is right). The event code alone is not an identity: keying on it, as libre's
 * telev_recv does, drops a quick repeat of the same digit whenever every end packet of the
 * first was lost, because the second looks like more of the first.
 *
 * The rules, from the RFC:
 *  - a press is reported at the first packet seen of it, whatever that packet is: the start,
 *    an update, or (when the start was lost) an end packet. Every later packet of it,
 *    retransmitted end packets included, in any order, only updates its duration (the
 *    longest reported: a reordered older update does not shorten it) and its end;
 *  - events 0-15 are DTMF (§3.2): 0-9, 10 '*', 11 '#', 12-15 'A'-'D'. Others (16 is a hook
 *    flash, 32 and up are fax and modem tones, line tones) are counted and ignored;
 *  - a duration of 0 means "a state, until further notice" (§2.3.5), which a DTMF event is
 *    not: such a report is ignored (counted), and the event's next packet counts instead;
 *  - the R bit is reserved and ignored (§2.3.3); the volume (0 to 63, read as 0 to -63 dBm0,
 *    §2.3.4) is reported but does not decide anything: the sender has already decided the
 *    tone was a digit;
 *  - an event that lasts longer than the 16-bit duration (0xFFFF timestamp units, 8.2 s at
 *    8 kHz) goes on in a new segment whose timestamp is where the last one ended, start +
 *    0xFFFF, with no marker and the same code; only the last segment has the E bit
 *    (§2.5.1.3, §2.5.2.3). So a report with the same code as an event that has not ended,
 *    exactly 0xFFFF after its start, continues it: same press, no new key, even when the
 *    report of the full 0xFFFF was lost. A genuine second press there would need the first
 *    to be still going after 8.2 s with no end seen, and to start on exactly that unit. Only
 *    that offset counts: a same-code event that starts exactly where the last one ended is
 *    a new press, so that a sender whose timestamps stand still between events (against
 *    RFC 3550) still has its repeated digits counted;
 *  - a payload of several 4-byte blocks holds contiguous events (§2.5.1.5): the first starts
 *    at the packet's timestamp, each next one where the one before ended (start + duration).
 *    Two blocks of one digit side by side in a payload have no pause between them: one tone,
 *    as a DTMF receiver would hear it (a new press needs a pause, 40 ms by Q.24), so one
 *    press. Redundant copies of earlier events (§2.6.2) come in RFC 2198 payloads, whose
 *    blocks carry their own timestamp offsets: tt_telev_red unpacks them. Either way each
 *    block is an event at its own start time, so a redundant copy of an event already seen
 *    is a copy.
 *
 * What the RTP header adds and what it does not. The marker bit starts an event (§2.2.2), but
 * the timestamp already says which event a packet belongs to, and some senders mark the
 * first three packets, so it is not taken. The sequence number is not taken either: event
 * packets share it with the audio packets (§2.5.1.2), so its gaps mean nothing here, and the
 * longest-duration rule above already makes order within an event not matter.
 *
 * Memory: the TT_TELEV_MEMORY events (16) most recently seen (a packet of an event, copies
 * included, makes it the most recent). A copy is recognised if fewer than 16 other events were
 * seen between the event's last packet and the copy. The last copy of a final
 * packet is sent two update intervals after the first (§2.5.1.4: three copies, at 50 ms, or
 * the audio packet interval), so it arrives within a few hundred milliseconds even with a
 * deep jitter buffer; the fastest dialing Q.24 allows (40 ms tone, 40 ms pause) starts at most
 * 12.5 events a second, so 16 events is at least 1.28 s of machine dialing and several seconds
 * of a person's. A copy later than that would be reported again: the memory is not kept by
 * age, so that a sender whose timestamps jump (a new timestamp base after a re-INVITE or a
 * transfer, with the same SSRC) is never locked out. Call tt_telev_reset on a new SSRC.
 *
 * Reordered presses are reported in the order their first packets arrive: with no clock the
 * receiver cannot wait for an earlier one. Durations are in timestamp units (the rate of the
 * telephone-event format in the SDP, 8000 unless it says otherwise).
 */
#ifndef TT_SIP_TELEV_H
#define TT_SIP_TELEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How many events the receiver remembers (see above). */
#define TT_TELEV_MEMORY 16
/* At most this many blocks are read from one call's payload (the rest are counted and
 * ignored), so that a copy of any payload finds every event it touched among the most recent
 * and still remembered. More is not DTMF from a keypad: Q.24's pause between digits means
 * DTMF events are never contiguous, and §2.5.1.5 packs only contiguous events; an RFC 2198
 * payload repeats a few recent ones. */
#define TT_TELEV_MAX_BLOCKS 8
/* The longest duration one segment reports (§2.5.1.3): the 16-bit field's largest value. */
#define TT_TELEV_SEGMENT 0xFFFFu

enum tt_telev_what {
    TT_TELEV_KEY, /* a press began (its first packet seen) */
    TT_TELEV_END  /* the press ended (its first packet with the E bit seen) */
};

struct tt_telev_note {
    enum tt_telev_what what;
    char key;          /* '0'-'9', '*', '#' or 'A'-'D' */
    uint8_t event;     /* the event code, 0-15 */
    uint32_t start;    /* the RTP timestamp where the press began (its first segment's) */
    uint64_t duration; /* timestamp units so far, every segment counted; final for END */
    int volume_dbm0;   /* 0 to -63, from the packet that made this note */
};

/** Called for each note, from inside tt_telev_packet or tt_telev_red; it must not call
 *  either of them again on the same receiver. */
typedef void (*tt_telev_fn)(void *user, const struct tt_telev_note *n);

/* Counts, for the caller's logs and for tests. */
struct tt_telev_stats {
    uint64_t payloads;  /* telephone-event payloads given (each RFC 2198 block is one) */
    uint64_t runts;     /* payloads shorter than one 4-byte block: ignored */
    uint64_t trailing;  /* payloads with bytes after their last whole block (those ignored) */
    uint64_t blocks;    /* 4-byte event reports read */
    uint64_t surplus;   /* blocks past TT_TELEV_MAX_BLOCKS in one call: ignored */
    uint64_t not_dtmf;  /* events 16 and up: ignored */
    uint64_t zero;      /* DTMF reports of duration 0: ignored */
    uint64_t copies;    /* reports of an event already seen */
    uint64_t segments;  /* reports that began a new segment of a press (long or packed) */
    uint64_t keys;      /* presses reported */
    uint64_t ends;      /* ends reported */
    uint64_t red_bad;   /* RFC 2198 payloads whose headers do not fit: ignored */
};

/* One remembered event (a segment of a press). */
struct tt_telev_seen {
    uint32_t start;    /* its RTP timestamp */
    uint32_t duration; /* the longest duration reported for it */
    uint64_t base;     /* the press's duration before this segment began */
    uint32_t press;    /* which press it belongs to (a count, from 1) */
    uint32_t press_start; /* that press's first segment's timestamp */
    uint8_t event;
    bool ended;        /* a report of it had the E bit */
    bool end_told;     /* the press's END has been reported */
};

/* The receiver. Declared here so that a caller can embed it; its fields are private. */
struct tt_telev {
    struct tt_telev_seen seen[TT_TELEV_MEMORY]; /* least recently seen first */
    unsigned n;        /* how many are remembered */
    uint32_t presses;
    tt_telev_fn fn;
    void *user;
    struct tt_telev_stats stats;
};

/**
 * Set up a receiver for one RTP stream.
 * @param fn    called for each note
 * @param user  passed to fn
 * @return 0, or EINVAL without a callback
 */
int tt_telev_init(struct tt_telev *r, tt_telev_fn fn, void *user);

/** Forget every event (a new SSRC: a new stream). The counts stay. */
void tt_telev_reset(struct tt_telev *r);

/**
 * One telephone-event payload (RFC 4733 §2.3): one or more 4-byte blocks.
 * @param ts   the packet's RTP timestamp
 * @param p    the payload, RTP header and padding removed
 * @return 0 when it was read (notes, if any, have been given), or EBADMSG when it is shorter
 *         than one block (ignored)
 */
int tt_telev_packet(struct tt_telev *r, uint32_t ts, const uint8_t *p, size_t len);

/**
 * An RFC 2198 redundant-audio payload: each block of payload type event_pt is read as a
 * telephone-event payload at its own timestamp (the packet's minus the block's offset),
 * oldest first; blocks of other payload types are skipped.
 * @param ts        the packet's RTP timestamp
 * @param event_pt  the telephone-event payload type the SDP gave (0-127)
 * @return 0, or EBADMSG when the headers do not fit the payload (nothing is read then)
 */
int tt_telev_red(struct tt_telev *r, uint32_t ts, uint8_t event_pt, const uint8_t *p,
                 size_t len);

/** The key of a DTMF event code (RFC 4733 §3.2), or 0 for codes 16 and up. */
char tt_telev_key(unsigned event);

#endif
