/*
 * RFC 4733 telephone events: each press once, at its first packet (telev.h has the rules and
 * the sections of the RFC they come from).
 *
 * The receiver keeps a short list of the events it has seen, least recently seen first. Each
 * 4-byte report is looked up by its start timestamp and event code. Found, it is a copy: it
 * may lengthen the event or end it. Not found, it either continues a remembered event of the
 * same code (the next segment of a long event, or the next of packed events) or begins a new
 * press, which is reported at once.
 */
#include <errno.h>
#include <string.h>

#include "sip/telev.h"

/* One 4-byte report (RFC 4733 §2.3). */
struct report {
    uint8_t event;
    bool end;
    uint8_t volume;    /* 0-63: that many dB below 0 dBm0 */
    uint16_t duration; /* timestamp units since the event (or segment) began */
};

static struct report read_report(const uint8_t *b)
{
    /* b[1]: E, then R (reserved: senders write 0 and receivers ignore it, §2.3.3), then the
     * six bits of the volume. */
    struct report rep = {
        .event = b[0],
        .end = (b[1] & 0x80) != 0,
        .volume = b[1] & 0x3f,
        .duration = (uint16_t)(b[2] << 8 | b[3]),
    };
    return rep;
}

char tt_telev_key(unsigned event)
{
    static const char keys[] = "0123456789*#ABCD"; /* §3.2's table, in order */
    return event < 16 ? keys[event] : 0;
}

int tt_telev_init(struct tt_telev *r, tt_telev_fn fn, void *user)
{
    if (!r || !fn)
        return EINVAL;
    memset(r, 0, sizeof(*r));
    r->fn = fn;
    r->user = user;
    return 0;
}

void tt_telev_reset(struct tt_telev *r)
{
    r->n = 0;
}

/* Make seen[i] the most recently seen (the last). */
static struct tt_telev_seen *touch(struct tt_telev *r, unsigned i)
{
    struct tt_telev_seen s = r->seen[i];
    memmove(&r->seen[i], &r->seen[i + 1], (r->n - i - 1) * sizeof(s));
    r->seen[r->n - 1] = s;
    return &r->seen[r->n - 1];
}

/* Remember an event as the most recently seen, forgetting the least recently seen if full. */
static struct tt_telev_seen *remember(struct tt_telev *r, const struct tt_telev_seen *s)
{
    if (r->n == TT_TELEV_MEMORY) {
        memmove(&r->seen[0], &r->seen[1], (r->n - 1) * sizeof(*s));
        r->n--;
    }
    r->seen[r->n++] = *s;
    return &r->seen[r->n - 1];
}

static void tell(struct tt_telev *r, enum tt_telev_what what, const struct tt_telev_seen *s,
                 uint8_t volume)
{
    struct tt_telev_note n = {
        .what = what,
        .key = tt_telev_key(s->event),
        .event = s->event,
        .start = s->press_start,
        .duration = s->base + s->duration,
        .volume_dbm0 = -(int)volume,
    };
    if (what == TT_TELEV_KEY)
        r->stats.keys++;
    else
        r->stats.ends++;
    r->fn(r->user, &n);
}

/* An E bit on segment s: the press ends, and that is told once, whichever of its segments
 * (or copies of their final packets) brings the E bit first. */
static void end_press(struct tt_telev *r, struct tt_telev_seen *s, uint8_t volume)
{
    s->ended = true;
    if (s->end_told)
        return;
    for (unsigned i = 0; i < r->n; i++)
        if (r->seen[i].press == s->press)
            r->seen[i].end_told = true;
    tell(r, TT_TELEV_END, s, volume);
}

/* Whether a report of this code starting at `start` continues segment s (telev.h): s is the
 * block just before it in the same payload (packed, so contiguous by construction), or s has
 * not ended and its segment would end exactly there (start + 0xFFFF). The subtraction wraps
 * at 2^32 as the timestamps do. */
static bool continues(const struct tt_telev_seen *s, uint8_t event, uint32_t start,
                      const uint32_t *packed_after)
{
    if (s->event != event)
        return false;
    if (packed_after && s->start == *packed_after)
        return true;
    return !s->ended && start - s->start == TT_TELEV_SEGMENT;
}

/* One report of an event that began at `start`. packed_after: the start of the block before
 * it in the same payload when that block was of the same event, else NULL. */
static void take(struct tt_telev *r, uint32_t start, const struct report *rep,
                 const uint32_t *packed_after)
{
    r->stats.blocks++;
    if (!tt_telev_key(rep->event)) {
        r->stats.not_dtmf++;
        return;
    }
    if (rep->duration == 0) {
        r->stats.zero++;
        return;
    }
    for (unsigned i = r->n; i-- > 0;) {
        if (r->seen[i].start != start || r->seen[i].event != rep->event)
            continue;
        r->stats.copies++;
        struct tt_telev_seen *s = touch(r, i);
        if (rep->duration > s->duration)
            s->duration = rep->duration;
        if (rep->end)
            end_press(r, s, rep->volume);
        return;
    }
    struct tt_telev_seen s = {.start = start, .duration = rep->duration, .event = rep->event};
    for (unsigned i = r->n; i-- > 0;) {
        const struct tt_telev_seen *p = &r->seen[i];
        if (!continues(p, rep->event, start, packed_after))
            continue;
        /* copied before remember() moves the list */
        s.base = p->base + (uint32_t)(start - p->start);
        s.press = p->press;
        s.press_start = p->press_start;
        s.end_told = p->end_told;
        r->stats.segments++;
        struct tt_telev_seen *q = remember(r, &s);
        if (rep->end)
            end_press(r, q, rep->volume);
        return;
    }
    s.press = ++r->presses;
    s.press_start = start;
    struct tt_telev_seen *q = remember(r, &s);
    tell(r, TT_TELEV_KEY, q, rep->volume);
    if (rep->end)
        end_press(r, q, rep->volume);
}

/* One telephone-event payload at timestamp ts, reading at most *budget blocks. */
static int read_payload(struct tt_telev *r, uint32_t ts, const uint8_t *p, size_t len,
                        unsigned *budget)
{
    r->stats.payloads++;
    if (len < 4) {
        r->stats.runts++;
        return EBADMSG;
    }
    if (len % 4)
        r->stats.trailing++;
    uint32_t start = ts, before = 0;
    int before_event = -1;
    for (size_t off = 0; off + 4 <= len; off += 4) {
        if (*budget == 0) {
            r->stats.surplus += (len - off) / 4;
            break;
        }
        (*budget)--;
        struct report rep = read_report(p + off);
        take(r, start, &rep, rep.event == before_event ? &before : NULL);
        /* Packed events are contiguous (§2.5.1.5): the next began where this one ended,
         * whatever this one was (a code we ignore still took its time). */
        before = start;
        before_event = rep.event;
        start += rep.duration;
    }
    return 0;
}

int tt_telev_packet(struct tt_telev *r, uint32_t ts, const uint8_t *p, size_t len)
{
    unsigned budget = TT_TELEV_MAX_BLOCKS;
    return read_payload(r, ts, p, len, &budget);
}

/* RFC 2198 §3: a 4-byte header for each redundant block (F set, the block's payload type, a
 * 14-bit timestamp offset and a 10-bit length), then a 1-byte header (F clear, payload type)
 * for the primary block, then the blocks in the same order; the primary one takes the rest. */
#define RED_F 0x80

int tt_telev_red(struct tt_telev *r, uint32_t ts, uint8_t event_pt, const uint8_t *p,
                 size_t len)
{
    /* First check that every header and block fits, so that a broken payload gives nothing
     * rather than part of itself. */
    size_t h = 0, data = 0;
    for (;;) {
        if (h >= len)
            goto bad;
        if (!(p[h] & RED_F)) {
            h++;
            break;
        }
        if (len - h < 4)
            goto bad;
        data += (size_t)(p[h + 2] & 0x03) << 8 | p[h + 3];
        h += 4;
    }
    if (data > len - h)
        goto bad;

    unsigned budget = TT_TELEV_MAX_BLOCKS;
    size_t off = h;
    for (size_t i = 0; p[i] & RED_F; i += 4) {
        uint8_t pt = p[i] & 0x7f;
        uint32_t back = (uint32_t)p[i + 1] << 6 | p[i + 2] >> 2;
        size_t blen = (size_t)(p[i + 2] & 0x03) << 8 | p[i + 3];
        /* a redundant block is an earlier packet's payload, at that packet's timestamp */
        if (pt == event_pt)
            read_payload(r, ts - back, p + off, blen, &budget);
        off += blen;
    }
    if ((p[h - 1] & 0x7f) == event_pt)
        read_payload(r, ts, p + off, len - off, &budget);
    return 0;
bad:
    r->stats.red_bad++;
    return EBADMSG;
}
