/*
 * One key press, counted once however many ways it arrives (keys.h has the rule and the
 * window's derivation).
 *
 * The counted keys sit in a ring, oldest first. A report looks through it from the oldest for
 * the first key it could be a copy of; finding none, it is counted and joins the ring.
 */
#include <errno.h>
#include <string.h>

#include "sip/keys.h"

bool tt_keys_valid(int key)
{
    return (key >= '0' && key <= '9') || key == '*' || key == '#' || (key >= 'A' && key <= 'D');
}

void tt_keys_init(struct tt_keys *m, tt_ms window_ms)
{
    memset(m, 0, sizeof(*m));
    m->window = window_ms ? window_ms : TT_KEYS_WINDOW_MS;
}

/* Whether a key counted at `at` is older than the window at `now`. Unsigned, so that no pair
 * of times overflows; a clock that went back makes the key young, not old. */
static bool too_old(const struct tt_keys *m, tt_ms at, tt_ms now)
{
    if (m->window < 0)
        return true;
    return now > at && (uint64_t)now - (uint64_t)at > (uint64_t)m->window;
}

int tt_keys_offer(struct tt_keys *m, enum tt_keys_src src, int key, tt_ms now)
{
    if ((unsigned)src >= TT_KEYS_NSRC || !tt_keys_valid(key))
        return EINVAL;
    uint8_t bit = (uint8_t)(1u << src);
    m->stats.reports[src]++;
    for (unsigned i = 0; i < m->n; i++) {
        struct tt_keys_seen *s = &m->seen[(m->head + i) % TT_KEYS_MEMORY];
        if (s->key != key || (s->from & bit) || s->seq <= m->last[src] || too_old(m, s->at, now))
            continue;
        s->from |= bit;
        m->last[src] = s->seq;
        m->stats.copies[src]++;
        return EALREADY;
    }
    if (m->n == TT_KEYS_MEMORY) {
        m->head = (m->head + 1) % TT_KEYS_MEMORY;
        m->n--;
    }
    struct tt_keys_seen *s = &m->seen[(m->head + m->n++) % TT_KEYS_MEMORY];
    *s = (struct tt_keys_seen){.at = now, .seq = ++m->seq, .key = (char)key, .from = bit};
    m->stats.counted[src]++;
    return 0;
}
