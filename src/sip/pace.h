/*
 * The send schedule of one RTP stream: when each 20 ms packet is due, and the sequence
 * number, timestamp and marker bit it goes out with. Pure: the caller's loop owns the clock
 * and gives the time (a monotonic clock in microseconds) to every call.
 *
 * The schedule is absolute: packet k is due at start + k x period, never at "the last send
 * + period", so a loop that wakes late sends late but the next packet is due on time again,
 * and an hour of late wake-ups sends exactly an hour of packets. When the loop was late by
 * more than a packet, the packets due are sent at once, up to a limit; after a longer stall
 * the schedule jumps to the present instead, and the RTP timestamp jumps with it (see
 * TT_PACE_MAX_LATE_US). The timestamp is always a function of the slot: ts0 + k x ticks, so
 * it never drifts from the schedule either.
 *
 * Each packet's lateness (when the caller says it sent it, less when it was due) can go into
 * a fixed histogram shared by any number of streams, from which the benchmark reads p50, p99
 * and the maximum without keeping every packet.
 */
#ifndef TT_PACE_H
#define TT_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 20 ms between packets (codec.h's TT_CODEC_PTIME_MS), in microseconds. */
#define TT_PACE_PERIOD_US 20000u

/*
 * The most the oldest packet due may be late and still be sent: 60 ms. Beyond it the
 * schedule skips to the newest slot due, which goes out alone, with the marker bit, and with
 * its own timestamp (so the timestamp moves on by the time skipped while the sequence number
 * does not: the receiver sees a pause, not lost or compressed audio).
 *
 * Why 60: a receiver holds each packet for its jitter buffer's depth before playing it, so
 * a packet up to that depth late still plays in its turn; buffers are 40 to 200 ms deep. A
 * burst whose oldest packet is at most 60 ms late (the loop woke up to 80 ms after its last
 * send, which was on time: four packets at once) therefore plays without a gap in any
 * buffer of 60 ms or more, and in the shallowest, 40 ms, loses only its oldest packet,
 * where a skip would have left a gap of three. A packet later than a buffer's depth is
 * worse than no packet: a fixed buffer throws it away, and an adaptive one takes it as
 * network jitter and grows by its lateness, which delays everything the caller hears after
 * it, the cut of a prompt when they press a key included. After a longer stall (the process
 * stopped for 2 s) bursting 100 packets would be exactly that, so the schedule moves on;
 * the caller may resume its audio where it stopped (for a spoken menu: a pause, no lost
 * words). An ordinary late wake-up stays well under the limit: bench/udp_floor's sending
 * loop, beside another job's stress-ng load on this 2-core machine, was late by 0.17 ms at
 * p99 with 100 streams; with 1000 it was 35 ms (max 52 ms), the sending thread itself short
 * of CPU: a machine that full is near the limit, and its calls should go to another engine.
 */
#define TT_PACE_MAX_LATE_US 60000u

/* ---- lateness histogram ---- */

/* Buckets: exact below 64 us, then 32 to each power of two (each bucket 1/32 of its octave,
 * so a percentile read from it is at most 3.2% high), up to 2^32 us (71 minutes); anything
 * later counts in the last bucket. 64 + 26 x 32 buckets of 8 bytes: 7 KB, once per loop. */
#define TT_PACE_HIST_SUB 32
#define TT_PACE_HIST_BUCKETS (2 * TT_PACE_HIST_SUB + 26 * TT_PACE_HIST_SUB)

struct tt_pace_hist {
    uint64_t n;   /* packets recorded */
    uint64_t max; /* the latest, exactly */
    uint64_t count[TT_PACE_HIST_BUCKETS];
};

/** Empty a histogram (a zeroed one is empty too). */
void tt_pace_hist_clear(struct tt_pace_hist *h);
/** Count one lateness, in microseconds. */
void tt_pace_hist_add(struct tt_pace_hist *h, uint64_t late_us);
/**
 * The lateness that a fraction q (0 to 1) of the packets did not exceed: q = 0.5 is the
 * median, 0.99 the p99, 1 the maximum (exact). Read as the top of its bucket, never above
 * the maximum: at most 3.2% over the true figure, never under it.
 * @return microseconds; 0 for an empty histogram
 */
uint64_t tt_pace_hist_quantile(const struct tt_pace_hist *h, double q);

/* ---- one stream's schedule ---- */

struct tt_pace {
    uint64_t start;  /* us: when slot 0 is due */
    uint64_t next;   /* the slot of the next packet */
    uint32_t period; /* us between slots */
    uint32_t ticks;  /* RTP timestamp units per slot (codec.h's frame_ticks) */
    uint32_t ts0;    /* the timestamp of slot 0 */
    uint16_t seq;    /* the sequence number of the next packet sent */
    bool marker;     /* the next packet sent begins a talkspurt */

    uint64_t sent;    /* packets handed out */
    uint64_t skipped; /* slots passed over without a packet: stalls and silence */
    uint64_t stalls;  /* times the schedule jumped ahead after a stall */
    struct tt_pace_hist *hist; /* where lateness is counted; NULL: nowhere */
};

/* One packet to send now. */
struct tt_pace_pkt {
    uint16_t seq;
    uint32_t ts;
    bool marker;      /* set the RTP marker bit */
    uint64_t due;     /* us: when it was due */
    uint64_t late;    /* us: the time given to tt_pace_take less due */
    uint64_t skipped; /* slots the schedule jumped over just before this packet (a stall) */
};

/**
 * Start a schedule: the first packet is due at `start`, and carries the marker bit.
 * @param period  us between packets (TT_PACE_PERIOD_US), 1 us to 1 s
 * @param ticks   RTP timestamp units per packet: the codec's frame_ticks (160 for all of
 *                codec.h's: G.722 too, whose clock is 8000)
 * @param seq0    the first sequence number, random (RFC 3550 5.1)
 * @param ts0     the first timestamp, random (RFC 3550 5.1)
 * @param hist    where to count each packet's lateness, or NULL
 * @return 0, or EINVAL for a period or ticks out of range
 */
int tt_pace_init(struct tt_pace *p, uint64_t start, uint32_t period, uint32_t ticks,
                 uint16_t seq0, uint32_t ts0, struct tt_pace_hist *hist);

/** When the next packet is due, us. */
uint64_t tt_pace_next_due(const struct tt_pace *p);

/** How many packets tt_pace_take would give at `now` (after a stall: 1). */
uint64_t tt_pace_count(const struct tt_pace *p, uint64_t now);

/**
 * The next packet, if one is due at `now`: call until it says no, sending one packet each
 * time. Give the time the packet really leaves (a clock read after the wake-up, not the time
 * the loop meant to wake): that is what the histogram records as its lateness.
 * @return true with *pkt filled, false when nothing is due (pkt untouched)
 */
bool tt_pace_take(struct tt_pace *p, uint64_t now, struct tt_pace_pkt *pkt);

/**
 * Silence: nothing is sent for the slots due by `now` (a caller that sends no packets while
 * it has nothing to say, RFC 3551 4.1); their time passes in the timestamp, the sequence
 * number stays, and the next packet sent carries the marker bit, the first of a talkspurt.
 * @return the slots passed over
 */
uint64_t tt_pace_silence(struct tt_pace *p, uint64_t now);

/**
 * When the loop must next wake: the earliest tt_pace_next_due of n streams (NULL entries,
 * free call slots, are passed over). A plain scan, once per wake-up: 2000 streams take 2 us
 * in cache, 9 us from memory when the schedules sit in one array and 59 us when each is in
 * its own allocation (measured; pace.c has the figures beside what sending costs).
 * @return us; UINT64_MAX when there is no stream
 */
uint64_t tt_pace_earliest(struct tt_pace *const *streams, size_t n);

#endif
