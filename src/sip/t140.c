/*
 * T.140 real-time text in RTP (t140.h has the rules and the sections of RFC 4103 they come
 * from).
 *
 * The sender keeps the clean text waiting, the primary blocks of its last packets (to send
 * them again as redundancy) and the text packets of the last 10 s (for the cps limit). Each
 * call to tt_t140_tx_packet asks one question: is a packet due now, and is it text or the
 * empty block that carries redundancy on?
 *
 * The receiver keeps a window of slots, one per sequence number from the next block to hand
 * on. Every block of a packet (the generations the sender left out, taken as empty; the
 * redundant ones, counted back from the packet's number; then the primary) goes into its
 * slot, and then the slots are handed on from the front for as long as they are full. An
 * empty slot in front of full ones is a gap: it is marked lost at once, or when the wait
 * for a late packet is over. What is handed on goes through the text filter, which keeps its
 * state across blocks because a control sequence or a CR LF may be cut by them.
 *
 * The text filter (receiver; the sender's own table is in clean()):
 *   U+2028, U+2029, CR LF, CR, LF     "\n" (one for CR LF)
 *   BS 0x08                           passed on
 *   U+FEFF                            dropped (counted)
 *   ESC Fe/Fp/Fs, ESC intermediates F  dropped whole (T.140's INT is ESC a)
 *   CSI (0x9B or ESC [) ... final      dropped whole (T.140's SGR is CSI ... m)
 *   SOS (0x98 or ESC X) ... ST         dropped whole (ST is 0x9C or ESC \), at most 256
 *   other C0, DEL, other C1            dropped
 *   direction controls                 dropped
 *   invalid UTF-8                      U+FFFD, one per maximal broken sequence
 *   anything else                      passed on
 * A sequence that breaks off (a character that cannot be part of it) is dropped and the
 * character read as text; one longer than 32 characters is not a sequence and is dropped the
 * same way, so that a stray ESC or SOS cannot swallow what the caller types next.
 */
#include <errno.h>
#include <string.h>

#include "sip/t140.h"

#define RED_F 0x80
#define REPLACEMENT 0xFFFDu
#define NEW_LINE 0x2028u /* T.140's LINE SEPARATOR */
#define BOM 0xFEFFu
#define NOT_UTF8 UINT32_MAX

/* ---- UTF-8 (RFC 3629) ---- */

/* The character at p (n > 0 bytes) and its length. A sequence that is not UTF-8 (a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, cut short) gives NOT_UTF8
 * and the length of its longest part that could have begun a character, at least 1: one
 * replacement per broken sequence, and the byte that broke it is read again (Unicode's
 * "maximal subpart" practice). */
static size_t utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t c = p[0], lo = 0x80, hi = 0xBF;
    size_t len;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* below: overlong */
        hi = c == 0xED ? 0x9F : 0xBF; /* above: surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
        lo = c == 0xF0 ? 0x90 : 0x80; /* below: overlong */
        hi = c == 0xF4 ? 0x8F : 0xBF; /* above: past U+10FFFF */
    } else {
        *cp = NOT_UTF8;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if (i >= n || p[i] < lo || p[i] > hi) {
            *cp = NOT_UTF8;
            return i;
        }
        v = v << 6 | (p[i] & 0x3Fu);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    return len;
}

/* Write cp (a valid scalar value) as UTF-8: 1 to 4 bytes. */
static size_t utf8_put(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* C0, DEL and C1 (ISO 6429's control characters). */
static bool is_control(uint32_t c)
{
    return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

/* The characters that reorder text on a screen (Unicode's bidirectional format controls). */
static bool is_direction(uint32_t c)
{
    return c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069);
}

/* ---- the sender ---- */

int tt_t140_tx_init(struct tt_t140_tx *tx, const struct tt_t140_tx_cfg *cfg)
{
    if (!tx || !cfg || cfg->pt_t140 < 0 || cfg->pt_t140 > 127 || cfg->pt_red < -1 ||
        cfg->pt_red > 127 || cfg->pt_red == cfg->pt_t140 ||
        cfg->generations > TT_T140_MAX_GENERATIONS || cfg->interval_ms < 100 ||
        cfg->interval_ms > 5000 || cfg->cps < 1 || cfg->cps > 1000)
        return EINVAL;
    memset(tx, 0, sizeof(*tx));
    tx->cfg = *cfg;
    if (tx->cfg.pt_red < 0)
        tx->cfg.generations = 0; /* plain t140 carries none */
    return 0;
}

/* What a character put in becomes on the wire: 0 when it is dropped. was_cr: the character
 * before it was a CR (whose new line has been sent). */
static uint32_t clean(struct tt_t140_tx *tx, uint32_t c, bool was_cr)
{
    if (c == NOT_UTF8) {
        tx->stats.replaced++;
        return REPLACEMENT;
    }
    if (c == '\r')
        return NEW_LINE;
    if (c == '\n')
        return was_cr ? 0 : NEW_LINE; /* the LF of a CR LF */
    if (c == '\t')
        return ' ';
    if (c == 0x08)
        return c; /* BACKSPACE: T.140's erase, the driver's to use */
    if (is_control(c) || c == BOM) {
        tx->stats.dropped++;
        return 0;
    }
    return c;
}

int tt_t140_tx_put(struct tt_t140_tx *tx, const char *utf8, size_t n, size_t *taken)
{
    const uint8_t *p = (const uint8_t *)utf8;
    size_t i = 0;
    int err = 0;
    while (i < n) {
        uint32_t c;
        size_t len = utf8_next(p + i, n - i, &c);
        uint32_t out = clean(tx, c, tx->cr);
        if (out) {
            uint8_t b[4];
            size_t k = utf8_put(out, b);
            if (tx->qlen + k > sizeof(tx->queue)) {
                if (c == NOT_UTF8)
                    tx->stats.replaced--; /* it will be counted when it is put again */
                err = ENOSPC;
                break;
            }
            memcpy(tx->queue + tx->qlen, b, k);
            tx->qlen += k;
        }
        tx->cr = c == '\r';
        i += len;
    }
    if (taken)
        *taken = i;
    return err;
}

size_t tt_t140_tx_flush(struct tt_t140_tx *tx)
{
    size_t n = tx->qlen;
    tx->qlen = 0;
    return n;
}

size_t tt_t140_tx_queued(const struct tt_t140_tx *tx)
{
    return tx->qlen;
}

/* The characters of the last 10 s (RFC 4103 §6's window, ends included) at time t, and when
 * the oldest of them leaves it. */
static unsigned sent_in_window(const struct tt_t140_tx *tx, tt_ms t, tt_ms *frees_at)
{
    unsigned sum = 0;
    bool first = true;
    for (unsigned i = 0; i < tx->nrecent; i++) {
        if (t - tx->recent[i].at > TT_T140_CPS_WINDOW_MS)
            continue;
        if (first && frees_at)
            *frees_at = tx->recent[i].at + TT_T140_CPS_WINDOW_MS + 1;
        first = false;
        sum += tx->recent[i].chars;
    }
    return sum;
}

/* How many characters may go at t under the cps limit; when none may, *frees_at is when some
 * may again. */
static unsigned cps_room(const struct tt_t140_tx *tx, tt_ms t, tt_ms *frees_at)
{
    unsigned limit = 10 * tx->cfg.cps; /* a mean of cps over 10 s */
    unsigned sent = sent_in_window(tx, t, frees_at);
    if (tx->nrecent == TT_T140_TX_RECENT && t - tx->recent[0].at <= TT_T140_CPS_WINDOW_MS)
        return 0; /* no room to remember another packet: wait for the oldest to leave */
    return sent < limit ? limit - sent : 0;
}

/* When text may go, given that it is queued: at once after an idle period (§5.1), else an
 * interval after the last packet; and not before the cps limit has room. */
static tt_ms text_time(const struct tt_t140_tx *tx, tt_ms now)
{
    tt_ms t = tx->owed == 0 ? now : tx->last + tx->cfg.interval_ms;
    tt_ms frees_at = t;
    if (cps_room(tx, t > now ? t : now, &frees_at) == 0 && frees_at > t)
        t = frees_at;
    return t;
}

bool tt_t140_tx_due(const struct tt_t140_tx *tx, tt_ms now, tt_ms *when)
{
    bool due = false;
    tt_ms t = 0;
    if (tx->qlen) {
        t = text_time(tx, now);
        due = true;
    }
    if (tx->owed) {
        tt_ms e = tx->last + tx->cfg.interval_ms;
        if (!due || e < t)
            t = e;
        due = true;
    }
    if (due && when)
        *when = t;
    return due;
}

/* The primary block of a text packet: whole characters from the queue, at most the cps room,
 * the pace (cps x interval, rounded up) and TT_T140_BLOCK_MAX bytes. */
static size_t take_text(const struct tt_t140_tx *tx, unsigned room, unsigned *chars)
{
    unsigned pace = (tx->cfg.cps * tx->cfg.interval_ms + 999) / 1000;
    unsigned most = room < pace ? room : pace;
    size_t n = 0;
    unsigned c = 0;
    while (n < tx->qlen && c < most) {
        size_t len = 1;
        while (n + len < tx->qlen && (tx->queue[n + len] & 0xC0) == 0x80)
            len++;
        if (n + len > TT_T140_BLOCK_MAX)
            break;
        n += len;
        c++;
    }
    *chars = c;
    return n;
}

/* Remember the primary just sent, for the next packets' redundancy. */
static void keep_primary(struct tt_t140_tx *tx, tt_ms at, const uint8_t *p, size_t n)
{
    unsigned g = tx->cfg.generations;
    if (!g)
        return;
    if (tx->nhist == g) {
        memmove(&tx->hist[0], &tx->hist[1], (g - 1) * sizeof(tx->hist[0]));
        tx->nhist--;
    }
    struct tt_t140_sent *s = &tx->hist[tx->nhist++];
    s->at = at;
    s->len = (uint16_t)n;
    memcpy(s->data, p, n);
}

/* Remember a text packet for the cps window, forgetting those that have left it. */
static void keep_recent(struct tt_t140_tx *tx, tt_ms at, unsigned chars)
{
    unsigned drop = 0;
    while (drop < tx->nrecent && at - tx->recent[drop].at > TT_T140_CPS_WINDOW_MS)
        drop++;
    if (drop == 0 && tx->nrecent == TT_T140_TX_RECENT)
        drop = 1; /* cps_room kept text back until this one had left; not reached */
    memmove(&tx->recent[0], &tx->recent[drop], (tx->nrecent - drop) * sizeof(tx->recent[0]));
    tx->nrecent -= drop;
    tx->recent[tx->nrecent].at = at;
    tx->recent[tx->nrecent].chars = chars;
    tx->nrecent++;
}

int tt_t140_tx_packet(struct tt_t140_tx *tx, tt_ms now, uint8_t *buf, size_t cap,
                      struct tt_t140_packet *pkt)
{
    memset(pkt, 0, sizeof(*pkt));
    /* Sequential packets never share a timestamp (§3.5), even when text comes right after
     * the last packet of an idle period's start, or the caller's clock stands still. */
    tt_ms at = tx->sent_any && now <= tx->last ? tx->last + 1 : now;
    unsigned chars = 0;
    size_t plen = 0;
    bool text = tx->qlen && text_time(tx, now) <= now;
    if (text) {
        plen = take_text(tx, cps_room(tx, at, NULL), &chars);
        text = chars > 0; /* text_time waited for room, so it has some */
    }
    if (!text) {
        plen = 0;
        if (!tx->owed || tx->last + tx->cfg.interval_ms > now)
            return 0;
    }

    /* The redundant generations, oldest first; those too old for 14 bits are the oldest. */
    unsigned skip = 0;
    size_t need = plen;
    if (tx->cfg.pt_red >= 0) {
        while (skip < tx->nhist && at - tx->hist[skip].at > TT_T140_OFFSET_MAX)
            skip++;
        need += 1;
        for (unsigned i = skip; i < tx->nhist; i++)
            need += 4 + tx->hist[i].len;
    }
    if (need > cap)
        return ENOBUFS;

    size_t o = 0;
    if (tx->cfg.pt_red >= 0) {
        /* RFC 2198 §3: F, block PT, 14-bit offset, 10-bit length, for each redundant block,
         * then F clear and the PT for the primary, then the blocks in that order. */
        for (unsigned i = skip; i < tx->nhist; i++) {
            uint32_t off = (uint32_t)(at - tx->hist[i].at);
            unsigned len = tx->hist[i].len;
            buf[o++] = (uint8_t)(RED_F | tx->cfg.pt_t140);
            buf[o++] = (uint8_t)(off >> 6);
            buf[o++] = (uint8_t)((off & 0x3F) << 2 | len >> 8);
            buf[o++] = (uint8_t)(len & 0xFF);
        }
        buf[o++] = (uint8_t)tx->cfg.pt_t140;
        for (unsigned i = skip; i < tx->nhist; i++) {
            memcpy(buf + o, tx->hist[i].data, tx->hist[i].len);
            o += tx->hist[i].len;
        }
        tx->stats.too_old += skip;
    }
    memcpy(buf + o, tx->queue, plen);
    o += plen;

    pkt->made = true;
    pkt->len = o;
    pkt->pt = tx->cfg.pt_red >= 0 ? tx->cfg.pt_red : tx->cfg.pt_t140;
    /* §3.5, §5.2: the first packet, and the first with text after an idle period */
    pkt->marker = text && tx->owed == 0;
    pkt->ts = (uint32_t)at;
    pkt->chars = chars;

    keep_primary(tx, at, tx->queue, plen);
    if (text) {
        keep_recent(tx, at, chars);
        memmove(tx->queue, tx->queue + plen, tx->qlen - plen);
        tx->qlen -= plen;
        /* §5.2: empty blocks until this one has gone in every generation; without
         * redundancy, the one empty block that starts the idle period */
        tx->owed = tx->cfg.generations ? tx->cfg.generations : 1;
        tx->stats.text++;
        tx->stats.chars += chars;
    } else {
        tx->owed--;
    }
    tx->sent_any = true;
    tx->last = at;
    tx->stats.packets++;
    return 0;
}

/* ---- the receiver ---- */

enum mode { TEXT, ESC_SEQ, CSI_SEQ, STRING, STRING_ESC };
#define SEQ_MAX 32     /* characters of an escape or control sequence, at most */
#define STRING_MAX 256 /* characters of an SOS string, at most */

/* Text on its way to the callback, in chunks. */
struct out {
    struct tt_t140_rx *rx;
    size_t n;
    char buf[256];
};

static void out_flush(struct out *o)
{
    if (o->n)
        o->rx->fn(o->rx->user, o->buf, o->n);
    explicit_bzero(o->buf, o->n); /* what the caller typed: maybe an entry to keep secret */
    o->n = 0;
}

static void emit(struct out *o, uint32_t c)
{
    if (o->n + 4 > sizeof(o->buf))
        out_flush(o);
    o->n += utf8_put(c, (uint8_t *)o->buf + o->n);
}

/* A missing-text mark: the filter starts afresh, since what was lost may have ended a
 * sequence or held the LF of a CR LF. */
static void mark_gap(struct tt_t140_rx *rx, struct out *o)
{
    if (rx->in_gap)
        return; /* one mark per gap */
    rx->in_gap = true;
    rx->stats.gaps++;
    rx->mode = TEXT;
    rx->cr = false;
    emit(o, REPLACEMENT);
}

/* One character of received text through the filter (the table at the top). */
static void take_char(struct tt_t140_rx *rx, struct out *o, uint32_t c)
{
    switch (rx->mode) {
    case ESC_SEQ:
        if (c == '[') {
            rx->mode = CSI_SEQ;
            return;
        }
        if (c == 'X') {
            rx->mode = STRING;
            rx->seq_len = 0;
            return;
        }
        if (c >= 0x20 && c <= 0x2F && ++rx->seq_len < SEQ_MAX)
            return; /* an intermediate byte */
        rx->mode = TEXT;
        if (c >= 0x30 && c <= 0x7E) {
            rx->stats.controls++; /* the final byte: INT (ESC a) and the like */
            return;
        }
        rx->stats.controls++; /* a lone ESC */
        break;
    case CSI_SEQ:
        if (c >= 0x20 && c <= 0x3F && ++rx->seq_len < SEQ_MAX)
            return; /* parameters and intermediates */
        rx->mode = TEXT;
        rx->stats.controls++;
        if (c >= 0x40 && c <= 0x7E)
            return; /* the final byte: SGR's 'm' and the like */
        break;
    case STRING_ESC:
        if (c == '\\') {
            rx->mode = TEXT;
            rx->stats.controls++;
            return;
        }
        rx->mode = STRING; /* the ESC was part of the string; c may be too */
        __attribute__((fallthrough));
    case STRING:
        if (c == 0x9C) {
            rx->mode = TEXT;
            rx->stats.controls++;
            return;
        }
        if (c == 0x1B) {
            rx->mode = STRING_ESC;
            return;
        }
        if (++rx->seq_len < STRING_MAX)
            return;
        rx->mode = TEXT;
        rx->stats.controls++;
        break;
    default:
        break;
    }

    bool was_cr = rx->cr;
    rx->cr = false;
    switch (c) {
    case 0x1B:
        rx->mode = ESC_SEQ;
        rx->seq_len = 0;
        return;
    case 0x9B:
        rx->mode = CSI_SEQ;
        rx->seq_len = 0;
        return;
    case 0x98:
        rx->mode = STRING;
        rx->seq_len = 0;
        return;
    case '\r':
        rx->cr = true;
        emit(o, '\n');
        return;
    case '\n':
        if (!was_cr)
            emit(o, '\n');
        return;
    case 0x2028:
    case 0x2029:
        emit(o, '\n');
        return;
    case 0x08:
        emit(o, 0x08);
        return;
    case BOM:
        rx->stats.boms++;
        return;
    case NOT_UTF8:
        rx->stats.invalid++;
        emit(o, REPLACEMENT);
        return;
    default:
        break;
    }
    if (is_control(c) || is_direction(c)) {
        rx->stats.controls++;
        return;
    }
    emit(o, c);
}

/* Hand on the slot in front (full or not) and move the window on by one. */
static void hand_on_front(struct tt_t140_rx *rx, struct out *o)
{
    struct tt_t140_slot *s = &rx->slot[rx->head];
    if (s->full) {
        rx->in_gap = false;
        /* §3.3: a block holds whole characters, so each is decoded on its own (a sequence
         * cut at its end is invalid); the filter's state goes on across blocks */
        for (size_t i = 0; i < s->len;) {
            uint32_t c;
            i += utf8_next(s->data + i, s->len - i, &c);
            take_char(rx, o, c);
        }
        if (s->cut) {
            rx->stats.cut++;
            mark_gap(rx, o);
        }
        explicit_bzero(s->data, s->len);
    } else {
        mark_gap(rx, o);
    }
    s->full = false;
    s->cut = false;
    s->len = 0;
    rx->head = (rx->head + 1) % TT_T140_RX_SLOTS;
    rx->next++;
}

/* Move the window on by k: what is held is handed on, what is missing marked. */
static void advance(struct tt_t140_rx *rx, struct out *o, unsigned k)
{
    unsigned i = 0;
    for (; i < k && i < TT_T140_RX_SLOTS; i++)
        hand_on_front(rx, o);
    if (i < k) {
        mark_gap(rx, o); /* past the window: all of it missing */
        rx->next = (uint16_t)(rx->next + (k - i));
    }
}

enum kind { PRIMARY, REDUNDANT, ASSUMED };

/* Put one block, for sequence number q, into its slot. */
static void place(struct tt_t140_rx *rx, struct out *o, uint16_t q, const uint8_t *p, size_t n,
                  enum kind kind, tt_ms now)
{
    uint16_t d = (uint16_t)(q - rx->next);
    if (d >= 0x8000)
        return; /* handed on already (redundancy of text had), or given up on */
    if (d >= TT_T140_RX_SLOTS) {
        /* further ahead than the window: the oldest held go first */
        advance(rx, o, d - TT_T140_RX_SLOTS + 1u);
        d = TT_T140_RX_SLOTS - 1;
    }
    struct tt_t140_slot *s = &rx->slot[(rx->head + d) % TT_T140_RX_SLOTS];
    if (s->full) {
        if (kind != ASSUMED)
            rx->stats.copies++;
        return;
    }
    if (n > TT_T140_BLOCK_MAX) {
        /* keep whole characters, and mark the rest missing when it is handed on */
        n = TT_T140_BLOCK_MAX;
        while (n && (p[n] & 0xC0) == 0x80)
            n--;
        s->cut = true;
    }
    s->full = true;
    s->len = (uint16_t)n;
    s->arrived = now;
    if (n)
        memcpy(s->data, p, n);
    if (kind == REDUNDANT)
        rx->stats.recovered++;
    else if (kind == ASSUMED)
        rx->stats.assumed++;
}

/* The earliest arrival among the blocks held behind an empty front slot; false if none. */
static bool held_since(const struct tt_t140_rx *rx, tt_ms *since, unsigned *first)
{
    bool any = false;
    for (unsigned d = 1; d < TT_T140_RX_SLOTS; d++) {
        const struct tt_t140_slot *s = &rx->slot[(rx->head + d) % TT_T140_RX_SLOTS];
        if (!s->full)
            continue;
        if (!any || s->arrived < *since)
            *since = s->arrived;
        if (!any)
            *first = d;
        any = true;
    }
    return any;
}

/* Hand on everything that is known in order, and give up on gaps that waited enough. */
static void drain(struct tt_t140_rx *rx, struct out *o, tt_ms now)
{
    for (;;) {
        if (rx->slot[rx->head].full) {
            hand_on_front(rx, o);
            continue;
        }
        tt_ms since = 0;
        unsigned first = 0;
        if (!held_since(rx, &since, &first))
            return;
        if (rx->wait_ms && now - since < rx->wait_ms)
            return; /* a late packet may still fill it (§5.4) */
        if (rx->wait_ms)
            rx->stats.waited++;
        advance(rx, o, first);
    }
}

int tt_t140_rx_init(struct tt_t140_rx *rx, int pt_t140, int pt_red, tt_ms wait_ms,
                    tt_t140_text_fn fn, void *user)
{
    if (!rx || !fn || pt_t140 < 0 || pt_t140 > 127 || pt_red < -1 || pt_red > 127 ||
        pt_red == pt_t140 || wait_ms < 0 || wait_ms > TT_T140_WAIT_MS)
        return EINVAL;
    memset(rx, 0, sizeof(*rx));
    rx->pt_t140 = pt_t140;
    rx->pt_red = pt_red;
    rx->wait_ms = wait_ms;
    rx->fn = fn;
    rx->user = user;
    rx->last_gens = -1;
    return 0;
}

/* Forget the stream: the window is empty (handed on or wiped) and the next packet starts
 * it again. */
static void forget(struct tt_t140_rx *rx)
{
    for (unsigned i = 0; i < TT_T140_RX_SLOTS; i++) {
        explicit_bzero(rx->slot[i].data, sizeof(rx->slot[i].data));
        rx->slot[i].full = rx->slot[i].cut = false;
        rx->slot[i].len = 0;
    }
    rx->started = false;
    rx->head = 0;
    rx->last_gens = -1;
    rx->gens = 0;
    rx->stray = false;
}

/* A packet far behind the stream: dropped, unless it is the second of a sender that
 * restarted its numbering, which restarts the stream there. */
static bool restarted(struct tt_t140_rx *rx, struct out *o, uint16_t seq)
{
    if ((uint16_t)(rx->next - seq) <= TT_T140_RX_BEHIND)
        return false;
    if (!rx->stray || seq != rx->stray_next) {
        rx->stray = true;
        rx->stray_next = (uint16_t)(seq + 1);
        return false;
    }
    advance(rx, o, TT_T140_RX_SLOTS);
    mark_gap(rx, o); /* the first packet of the new numbering was dropped as stray */
    forget(rx);
    rx->stats.restarts++;
    return true;
}

int tt_t140_rx_packet(struct tt_t140_rx *rx, uint16_t seq, int pt, const uint8_t *payload,
                      size_t n, tt_ms now)
{
    const uint8_t *p = payload;
    bool red = rx->pt_red >= 0 && pt == rx->pt_red;
    if (!red && pt != rx->pt_t140) {
        rx->stats.other++;
        return ENOTSUP;
    }
    /* RFC 2198 §3: check every header and that the blocks fit before taking any of it */
    unsigned gens = 0;
    size_t h = 0, data = 0;
    if (red) {
        for (;;) {
            if (h >= n || (p[h] & 0x7F) != rx->pt_t140)
                goto bad;
            if (!(p[h] & RED_F)) {
                h++;
                break;
            }
            if (n - h < 4)
                goto bad;
            data += (size_t)(p[h + 2] & 0x03) << 8 | p[h + 3];
            h += 4;
            gens++;
        }
        if (data > n - h)
            goto bad;
    }
    rx->stats.packets++;

    struct out o = {.rx = rx};
    if (rx->started && (uint16_t)(seq - rx->next) >= 0x8000 && !restarted(rx, &o, seq)) {
        rx->stats.old++;
        out_flush(&o);
        return 0;
    }
    rx->stray = false;
    if (!rx->started) {
        rx->started = true;
        rx->next = (uint16_t)(seq - gens); /* its generations are text too (t140.h) */
        rx->head = 0;
        rx->in_gap = false;
    }
    if (red) {
        /* §5.3: a packet with fewer generations than the stream's usual number left out
         * empty blocks grown too old. §5.3 takes the usual number from two successive
         * packets (by sequence number: two with a loss between them may both be first
         * packets after idle periods); the largest number seen is taken too, since a short
         * burst never has two: 0, 1, 2, then idle. A sender never sends more than its
         * number. */
        if (gens > rx->gens ||
            ((int)gens == rx->last_gens && seq == (uint16_t)(rx->last_seq + 1)))
            rx->gens = gens;
        rx->last_gens = (int)gens;
        rx->last_seq = seq;
        for (unsigned k = rx->gens; k > gens; k--)
            place(rx, &o, (uint16_t)(seq - k), NULL, 0, ASSUMED, now);
        /* the redundant blocks, oldest first: the i-th of gens is seq - (gens - i) (§4.2) */
        size_t off = h;
        for (unsigned i = 0; i < gens; i++) {
            const uint8_t *hd = p + 4 * i;
            size_t blen = (size_t)(hd[2] & 0x03) << 8 | hd[3];
            place(rx, &o, (uint16_t)(seq - (gens - i)), p + off, blen, REDUNDANT, now);
            off += blen;
        }
        place(rx, &o, seq, p + off, n - off, PRIMARY, now);
    } else {
        place(rx, &o, seq, p, n, PRIMARY, now);
    }
    drain(rx, &o, now);
    out_flush(&o);
    return 0;
bad:
    rx->stats.bad++;
    return EBADMSG;
}

bool tt_t140_rx_due(const struct tt_t140_rx *rx, tt_ms *when)
{
    tt_ms since = 0;
    unsigned first = 0;
    if (!rx->started || rx->slot[rx->head].full || !held_since(rx, &since, &first))
        return false;
    if (when)
        *when = since + rx->wait_ms;
    return true;
}

void tt_t140_rx_tick(struct tt_t140_rx *rx, tt_ms now)
{
    if (!rx->started)
        return;
    struct out o = {.rx = rx};
    drain(rx, &o, now);
    out_flush(&o);
}

void tt_t140_rx_reset(struct tt_t140_rx *rx)
{
    struct out o = {.rx = rx};
    if (rx->started) {
        /* hand on what is held, up to the last full slot, gaps marked */
        unsigned last = 0;
        for (unsigned d = 0; d < TT_T140_RX_SLOTS; d++)
            if (rx->slot[(rx->head + d) % TT_T140_RX_SLOTS].full)
                last = d + 1;
        advance(rx, &o, last);
    }
    out_flush(&o);
    forget(rx);
    rx->mode = TEXT;
    rx->cr = false;
    rx->in_gap = false;
}
