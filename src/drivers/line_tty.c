/*
 * A TTY caller on the telephone line (see line_tty.h): the Baudot modem (dsp/tty.h) between
 * the line's audio and a call in text, at the rate of the caller's TTY (45.45 or 50 baud:
 * both are listened for, and the one recognized answers).
 *
 * The modem works at 8000 Hz, the telephone's own rate; a line device that runs faster has its
 * audio brought down to 8000 Hz for the modem's receiver and the modem's tones brought up to
 * the line's rate, by libsoxr streaming (a few milliseconds of delay each way, nothing a TTY
 * notices). What goes out is kept in a small queue of line frames so that every period gets
 * exactly the frames it asks for.
 *
 * Half duplex: a TTY cannot receive while it sends, and two TTYs that send at once garble each
 * other. The modem does not listen while it sends, nor for the echo guard after (its own tones
 * come back on a line): so the engine sends in bursts of a sentence (or BURST_MAX characters,
 * some 8 s) and listens between them, for the echo guard and LISTEN_MS more. A caller who has
 * started typing is heard there, and the engine sends nothing more until they have stopped,
 * and HOLD_MS after (a TTY user pauses between words; the engine does not barge into a
 * sentence). A character is handed to the modem only when it has none queued, so a burst ends
 * or pauses between two characters: a Baudot character cut in half is a wrong character on the
 * caller's paper. What the caller types while a burst goes out is lost, as between two TTYs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <soxr.h>

#include "drivers/line_tty.h"
#include "dsp/tty.h"

#define TTY_RATE 8000
#define BLOCK 80 /* 10 ms at 8000 Hz: the modem's output is made this much at a time */
/* Quiet after the caller's last character before the engine sends again: longer than the
 * gap between a typist's characters at 45.45 baud (one character is 165 ms). */
#define HOLD_MS 500
#define OUTQ 9600 /* line frames queued: 200 ms at 48 kHz */
#define BURST_MAX 48 /* characters sent before the engine listens, if no sentence ends first */
#define LISTEN_MS 100 /* listening between bursts, after the echo guard: the modem knows a
                       * caller's carrier within 30 ms */

struct line_tty {
    /* Until a TTY is recognized, one modem listens at each rate: 45.45 baud (the US) and 50
     * (elsewhere). The one that recognizes it is the call's from then on; the other stops. */
    tt_tty *by_rate[2];
    tt_tty *modem; /* the call's, once recognized; before, the 45.45 one (it sends nothing) */
    int rate;
    soxr_t down, up; /* NULL at 8000 Hz */
    int16_t outq[OUTQ];
    size_t outn;
    bool detected;
    tt_ms hold_until;
    unsigned echo_ms;   /* the modem's echo guard */
    unsigned burst;     /* characters handed to the modem in this burst */
    bool burst_over;    /* a burst has ended: listen before the next */
    tt_ms listen_until; /* the end of the listening after a burst, once its tones stopped */
};

static soxr_t stream(int from, int to)
{
    soxr_error_t e;
    soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_MQ, 0);
    soxr_t s = soxr_create(from, to, 1, &e, &io, &q, NULL);
    return e ? NULL : s;
}

int line_tty_new(struct line_tty **ltp, int rate)
{
    *ltp = NULL;
    if (rate < TTY_RATE)
        return EINVAL;
    struct line_tty *lt = calloc(1, sizeof(*lt));
    if (!lt)
        return ENOMEM;
    lt->rate = rate;
    lt->by_rate[0] = tt_tty_new(TT_TTY_45);
    lt->by_rate[1] = tt_tty_new(TT_TTY_50);
    lt->modem = lt->by_rate[0];
    lt->echo_ms = TT_TTY_ECHO_GUARD_MS;
    if (!lt->by_rate[0] || !lt->by_rate[1] ||
        (rate != TTY_RATE &&
         (!(lt->down = stream(rate, TTY_RATE)) || !(lt->up = stream(TTY_RATE, rate))))) {
        line_tty_free(lt);
        return ENOMEM;
    }
    *ltp = lt;
    return 0;
}

void line_tty_free(struct line_tty *lt)
{
    if (!lt)
        return;
    tt_tty_free(lt->by_rate[0]);
    tt_tty_free(lt->by_rate[1]);
    if (lt->down)
        soxr_delete(lt->down);
    if (lt->up)
        soxr_delete(lt->up);
    free(lt);
}

size_t line_tty_hear(struct line_tty *lt, const int16_t *in, size_t n, tt_ms now, char *typed,
                     size_t cap)
{
    int16_t buf[BLOCK * 8];
    size_t got = 0;
    while (n > 0) {
        size_t take = n, made = n;
        const int16_t *x = in;
        if (lt->down) {
            size_t idone = 0;
            if (take > BLOCK * 8)
                take = BLOCK * 8;
            soxr_process(lt->down, in, take, &idone, buf, BLOCK * 8, &made);
            take = idone ? idone : take;
            x = buf;
        }
        if (lt->detected) {
            got += tt_tty_rx(lt->modem, x, made, typed + got, cap - got);
        } else {
            /* both listen; what they heard before one was sure is not kept (the driver takes
             * no key from it) */
            char junk[64];
            for (int r = 0; r < 2; r++) {
                (void)tt_tty_rx(lt->by_rate[r], x, made, junk, sizeof(junk));
                if (!lt->detected && tt_tty_detected(lt->by_rate[r])) {
                    lt->detected = true;
                    lt->modem = lt->by_rate[r];
                }
            }
        }
        in += take;
        n -= take;
    }
    if (tt_tty_receiving(lt->modem))
        lt->hold_until = now + HOLD_MS;
    return got;
}

bool line_tty_detected(const struct line_tty *lt)
{
    return lt->detected;
}

/* One block of the modem's output, at the line's rate, onto the queue. */
static void make_block(struct line_tty *lt)
{
    int16_t b8[BLOCK];
    tt_tty_tx(lt->modem, b8, BLOCK);
    if (!lt->up) {
        memcpy(lt->outq + lt->outn, b8, sizeof(b8));
        lt->outn += BLOCK;
        return;
    }
    size_t idone = 0, odone = 0;
    soxr_process(lt->up, b8, BLOCK, &idone, lt->outq + lt->outn, OUTQ - lt->outn, &odone);
    lt->outn += odone;
}

int line_tty_say(struct line_tty *lt, tt_call *c, int16_t *out, size_t n, tt_ms now)
{
    /* After a burst: once its tones have stopped, listen (the echo guard, then LISTEN_MS); a
     * caller heard typing meanwhile holds the next burst back (hold_until). */
    bool sending = tt_tty_sending(lt->modem);
    if (lt->burst_over && !sending && !lt->listen_until)
        lt->listen_until = now + lt->echo_ms + LISTEN_MS;
    if (lt->burst_over && lt->listen_until && now >= lt->listen_until) {
        lt->burst_over = false;
        lt->listen_until = 0;
        lt->burst = 0;
    }
    /* A character from the call when the modem has none queued and the caller is quiet. */
    if (!lt->burst_over && !tt_tty_pending(lt->modem) && !tt_tty_receiving(lt->modem) &&
        now >= lt->hold_until && tt_call_text_left(c)) {
        char ch[4];
        size_t k = tt_call_text_take(c, ch, 1);
        if (!k)
            k = tt_call_text_take(c, ch, sizeof(ch)); /* a character of several bytes */
        if (tt_tty_put(lt->modem, ch, k) < 0)
            return ENOMEM;
        if (++lt->burst >= BURST_MAX || (k == 1 && strchr(".?!\n", ch[0])))
            lt->burst_over = true;
    }
    /* (the resampler gives nothing for its first blocks, while it fills its delay line) */
    while (lt->outn < n && lt->outn + BLOCK * 6 + 64 <= OUTQ)
        make_block(lt);
    size_t k = lt->outn < n ? lt->outn : n;
    memcpy(out, lt->outq, k * sizeof(*out));
    memset(out + k, 0, (n - k) * sizeof(*out));
    memmove(lt->outq, lt->outq + k, (lt->outn - k) * sizeof(*out));
    lt->outn -= k;
    /* All the call gave has gone: the modem has sent its last burst, carrier hold and all
     * (what is left in the queue is under a block's worth: 10 ms). */
    if (!tt_call_text_left(c) && !tt_tty_pending(lt->modem) && !tt_tty_sending(lt->modem))
        return tt_call_text_sent(c, now);
    return 0;
}

bool line_tty_busy(const struct line_tty *lt, const tt_call *c)
{
    return tt_call_text_left(c) || tt_tty_pending(lt->modem) || tt_tty_sending(lt->modem);
}

void line_tty_set_echo(struct line_tty *lt, unsigned ms)
{
    lt->echo_ms = ms;
    tt_tty_set_echo_guard(lt->by_rate[0], ms);
    tt_tty_set_echo_guard(lt->by_rate[1], ms);
}

void line_tty_cut(struct line_tty *lt)
{
    tt_tty_flush(lt->modem);
}
