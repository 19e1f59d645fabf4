/*
 * RTP send schedules (see pace.h for the rules): slots on an absolute grid, the catch-up
 * rule after a stall, the header fields of each packet, the lateness histogram, and the scan
 * that tells one event loop when the next packet of any of its calls is due.
 *
 * Everything is integer arithmetic on the slot number k: due = start + k x period and
 * ts = ts0 + k x ticks (mod 2^32, as RTP's timestamp wraps). Nothing is accumulated, so
 * nothing can drift: a schedule a day old computes its next slot exactly as its first.
 *
 * The scan, measured (-O2 on this project's 2-core AMD EPYC virtual machine, 2000 streams):
 * 1.9 us with the schedules in cache (1 ns a stream); with the caches emptied before each
 * scan, 59 us when each schedule sits in its own allocation somewhere in the heap (a cache
 * miss a stream) and 9 us when they sit in one array (the prefetcher runs ahead; struct
 * tt_pace is 64 bytes, one cache line). A loop that wakes once per millisecond (libre's
 * timers count milliseconds, so 2000 calls' slots fall on at most 20 distinct milliseconds
 * of each 20 ms) thus spends 2 to 60 ms of CPU a second on it. Sending the packets costs
 * far more: bench/udp_floor's sending loop took about 7 us of CPU a packet (sendto on
 * loopback, which also delivers the packet to the receiving socket; measured beside another
 * job's stress-ng load), 700 ms a second for 2000 calls. So a plain scan, and the schedules
 * are best kept in one array; a timer wheel would save little and need keeping in step with
 * every call's start, stall and end.
 */
#include <errno.h>
#include <string.h>

#include "sip/pace.h"

/* ---- histogram ---- */

/* The index of the highest set bit of v (v > 0). */
static unsigned top_bit(uint64_t v)
{
#if defined(__GNUC__) || defined(__clang__)
    return 63u - (unsigned)__builtin_clzll(v);
#else
    unsigned e = 0;
    while (v >>= 1)
        e++;
    return e;
#endif
}

/* The octave of the first bucket that is not exact: [64, 128). */
#define FIRST_OCTAVE 6 /* log2(2 x TT_PACE_HIST_SUB) */
/* The last octave kept apart: [2^31, 2^32). */
#define LAST_OCTAVE 31

static unsigned bucket_of(uint64_t v)
{
    if (v < 2 * TT_PACE_HIST_SUB)
        return (unsigned)v;
    if (v >> (LAST_OCTAVE + 1))
        return TT_PACE_HIST_BUCKETS - 1;
    unsigned e = top_bit(v);
    /* The five bits under the top one pick one of the octave's 32 buckets. */
    unsigned sub = (unsigned)(v >> (e - 5)) - TT_PACE_HIST_SUB;
    return 2 * TT_PACE_HIST_SUB + (e - FIRST_OCTAVE) * TT_PACE_HIST_SUB + sub;
}

/* The largest value bucket b holds. */
static uint64_t bucket_top(unsigned b)
{
    if (b < 2 * TT_PACE_HIST_SUB)
        return b;
    unsigned e = FIRST_OCTAVE + (b - 2 * TT_PACE_HIST_SUB) / TT_PACE_HIST_SUB;
    uint64_t sub = (b - 2 * TT_PACE_HIST_SUB) % TT_PACE_HIST_SUB;
    uint64_t low = (TT_PACE_HIST_SUB + sub) << (e - 5);
    return low + ((uint64_t)1 << (e - 5)) - 1;
}

void tt_pace_hist_clear(struct tt_pace_hist *h)
{
    memset(h, 0, sizeof(*h));
}

void tt_pace_hist_add(struct tt_pace_hist *h, uint64_t late_us)
{
    h->count[bucket_of(late_us)]++;
    h->n++;
    if (late_us > h->max)
        h->max = late_us;
}

uint64_t tt_pace_hist_quantile(const struct tt_pace_hist *h, double q)
{
    if (h->n == 0)
        return 0;
    if (q >= 1.0)
        return h->max;
    /* The rank of the packet that a fraction q of them come up to: ceil(q n), at least 1. */
    double r = q * (double)h->n;
    uint64_t rank = (uint64_t)r;
    if ((double)rank < r || rank == 0)
        rank++;
    uint64_t seen = 0;
    for (unsigned b = 0; b < TT_PACE_HIST_BUCKETS; b++) {
        seen += h->count[b];
        if (seen >= rank) {
            uint64_t top = bucket_top(b);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}

/* ---- schedule ---- */

/* The longest period taken: a second is 50 packets' worth; anything longer is a mistake. */
#define PERIOD_MAX_US 1000000u

int tt_pace_init(struct tt_pace *p, uint64_t start, uint32_t period, uint32_t ticks,
                 uint16_t seq0, uint32_t ts0, struct tt_pace_hist *hist)
{
    memset(p, 0, sizeof(*p));
    if (period == 0 || period > PERIOD_MAX_US || ticks == 0)
        return EINVAL;
    p->start = start;
    p->period = period;
    p->ticks = ticks;
    p->ts0 = ts0;
    p->seq = seq0;
    p->marker = true; /* the first packet of a stream begins its first talkspurt */
    p->hist = hist;
    return 0;
}

static uint64_t due_of(const struct tt_pace *p, uint64_t slot)
{
    return p->start + slot * p->period;
}

/* The newest slot due at now (now >= start). */
static uint64_t newest_slot(const struct tt_pace *p, uint64_t now)
{
    return (now - p->start) / p->period;
}

uint64_t tt_pace_next_due(const struct tt_pace *p)
{
    return due_of(p, p->next);
}

uint64_t tt_pace_count(const struct tt_pace *p, uint64_t now)
{
    uint64_t due = due_of(p, p->next);
    if (now < due)
        return 0;
    if (now - due > TT_PACE_MAX_LATE_US)
        return 1;
    return newest_slot(p, now) - p->next + 1;
}

bool tt_pace_take(struct tt_pace *p, uint64_t now, struct tt_pace_pkt *pkt)
{
    uint64_t due = due_of(p, p->next);
    if (now < due)
        return false;
    uint64_t skipped = 0;
    if (now - due > TT_PACE_MAX_LATE_US) {
        /* A stall: go to the newest slot due, and start a new talkspurt there. */
        uint64_t slot = newest_slot(p, now);
        skipped = slot - p->next;
        p->next = slot;
        p->skipped += skipped;
        p->stalls++;
        p->marker = true;
        due = due_of(p, slot);
    }
    pkt->seq = p->seq++;
    /* k x ticks taken mod 2^64, then mod 2^32: the same as mod 2^32 all along. */
    pkt->ts = p->ts0 + (uint32_t)(p->next * p->ticks);
    pkt->marker = p->marker;
    pkt->due = due;
    pkt->late = now - due;
    pkt->skipped = skipped;
    p->marker = false;
    p->next++;
    p->sent++;
    if (p->hist)
        tt_pace_hist_add(p->hist, pkt->late);
    return true;
}

uint64_t tt_pace_silence(struct tt_pace *p, uint64_t now)
{
    if (now < due_of(p, p->next))
        return 0;
    uint64_t slot = newest_slot(p, now) + 1;
    uint64_t k = slot - p->next;
    p->next = slot;
    p->skipped += k;
    p->marker = true;
    return k;
}

uint64_t tt_pace_earliest(struct tt_pace *const *streams, size_t n)
{
    uint64_t best = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (!streams[i])
            continue;
        uint64_t due = due_of(streams[i], streams[i]->next);
        if (due < best)
            best = due;
    }
    return best;
}
