/*
 * TTY (TDD) modem: Baudot text out as FSK tones and back, and the recognition of a TTY
 * caller (tty.h says what and why; this file says how).
 *
 * Sending: the text is mapped to the US TTY repertoire when it is queued; each character is
 * coded (with its shift, when the receiver's case must change) when its frame begins.
 * spandsp's fsk_tx makes the tones, phase-continuous, at twice our baud rate: each half-bit
 * comes from next_half(), so the 1.5 stop bits are three half-bits.
 *
 * Receiving: spandsp's fsk_rx, in its 5-bit frame mode, is fed one sample at a time so that
 * we know the sample at which it reports a frame; from that, where the frame began. The last
 * HIST samples are kept, and each frame is checked again in them with Goertzel filters
 * (check_frame). A carrier meter (carrier_block) runs beside it on 10 ms blocks.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#include "dsp/tty.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- the code: ITA2 letters, US TTY figures ---- */

#define CODE_BLANK 0x00
#define CODE_LF 0x02
#define CODE_SPACE 0x04
#define CODE_CR 0x08
#define CODE_FIGS 0x1B
#define CODE_LTRS 0x1F

/* What each of the 32 codes shows in each case (0: nothing shown). The letters are ITA2's
 * and every TTY's; the figures are the US TTY set (minimodem's, and the US column of the
 * Baudot tables), which differs from ITA2 at eight codes: S is a bell (ITA2: '), J is '
 * (ITA2: bell), D is $ (ITA2: who-are-you), F ! G & H # (unassigned in ITA2), Z is " (ITA2:
 * +) and V is ; (ITA2: =). */
static const char letters[32] = {
    0,   'E', '\n', 'A', ' ', 'S', 'I', 'U', '\r', 'D', 'R', 'J', 'N', 'F', 'C', 'K',
    'T', 'Z', 'L',  'W', 'H', 'Y', 'P', 'Q', 'O',  'B', 'G', 0,   'M', 'X', 'V', 0};
static const char figures[32] = {
    0,   '3', '\n', '-', ' ', '\a', '8', '7', '\r', '$', '4', '\'', ',', '!', ':', '(',
    '5', '"', ')',  '2', '#', '6',  '0', '1', '9',  '?', '&', 0,    '.', '/', ';', 0};

enum tx_case { CASE_NEW, CASE_LETTERS, CASE_FIGURES, CASE_UNSURE };

/* A character's code, and the case it needs (CASE_NEW: either). -1 when it has none: the
 * queue holds only characters that have one (map_char makes sure). */
static int code_of(char c, enum tx_case *need)
{
    *need = CASE_NEW;
    if (c == ' ' || c == '\r' || c == '\n')
        return c == ' ' ? CODE_SPACE : c == '\r' ? CODE_CR : CODE_LF;
    for (int i = 0; i < 32; i++) {
        if (letters[i] == c) {
            *need = CASE_LETTERS;
            return i;
        }
        if (figures[i] == c) {
            *need = CASE_FIGURES;
            return i;
        }
    }
    return -1;
}

/* ---- timing ---- */

/* 45.45 baud is a bit of 22 ms, 176 samples at 8 kHz; 50 baud, 20 ms, 160 samples. fsk_tx and
 * fsk_rx take the rate in hundredths of a bit per second; fsk_tx runs at twice it (9091:
 * half-bits of 87.999 samples). */
#define HALF_BITS_PER_FRAME 15 /* start 2, data 5 x 2, stop 3 (1.5 bits) */

/* Carrier before and after a burst: 150 ms, near the 180 ms and 156 ms of the 1980s TTY
 * figures in tty.h (lead and hold). Rounded up to whole half-bits; fsk_tx adds one half-bit
 * of mark before it first asks for a bit, so the lead is about 165 ms. */
#define LEAD_MS 150
#define HOLD_MS 150

/* fsk_rx's level cutoff (its default for these tones is -30 dBm0): a TTY maker gives -50 dBm
 * as the weakest input a TTY must take, and a caller's -13 dBm after a long loop and a hybrid
 * can be 30 dB down. -45 dBm0 keeps 5 dB of the maker's range; the frame checks, not the
 * level, keep noise out. The carrier meter and the frame checks use the same floor. */
#define CUTOFF_DBM0 (-45)

/* ---- the frame checks (tty.h, "Receiving" and "Detection") ---- */

/* The middle of a bit: from 20% to 80% of it. Where a frame began is known to a few samples
 * (the edge estimate below), so 20% (35 samples at 45.45 baud) on each side keeps every
 * window inside its bit. */
#define MID_FROM 0.2
#define MID_LEN 0.6

/* spandsp's framing is strict already: it framed no character in the 44 minutes of the
 * talk-off corpus, nor in a minute of white noise (tests/test_tty.c). So
 * the checks add what it does not look at: that each bit's power is in its tone, not merely
 * more in it than in the other.
 * Clean (decoded once the caller is detected): the bit's tone holds a tenth of the bit's power
 * and twice (3 dB) the other tone's; this also confirms where the frame began. */
#define CLEAN_SHARE 0.1
#define CLEAN_RATIO 2.0
/* Pure (counts towards detection): a fifth of the power, and 30 times (15 dB) the other
 * tone's. Measured on minimodem's keystrokes over synthesized speech: with the speech echo
 * 6 dB under the tones the right tone still held 40% or more of each bit, and the other tone
 * stayed 22 to 35 dB under it (the speech spreads its power over some fifty bins of 76 Hz).
 * A voice or an instrument has no bin of the two that is 15 dB above the other, bit after
 * bit, on the grid. */
#define PURE_SHARE 0.2
#define PURE_RATIO 30.0
/* And a pure frame's tones are within 20 Hz of 1400 and 1800 Hz: TTYs keep them within 5 Hz
 * (the 1985 figures); musical notes near them are not that near (F6 is 1397 Hz, but A6, 1760
 * Hz, is 40 Hz from the space tone, and no note is nearer). Measured by two more filters, 40
 * Hz either side of the tone. A melody of pure notes alternating F6 and A6 at random lengths
 * was detected in 38 of 60 ten-second tries without this test, in none with it; minimodem's
 * keystrokes with both tones 15 Hz off are detected, 20 Hz off are not. */
#define FREQ_TOL_HZ 20.0
#define SIDE_HZ 40.0
/* Mark before a lone frame for rule (b): four whole bits. */
#define LEAD_BITS 4
/* Rule (a): the next pure frame starts within 1.5 s of the end of the one before. */
#define CHAIN_GAP_S 1.5

/* Where a frame began, from the sample at which fsk_rx reports it. fsk_rx correlates over
 * min(one bit, 128 samples) = 128 samples (FSK_MAX_WINDOW_LEN), so it sees the start bit's
 * space win when half that window holds it (64 samples after the edge). It then waits for
 * the start bit to hold from 30% to 100% of a bit's phase (560000 / rate100 samples), takes
 * the start bit one sample later, and then one bit every bit time: the stop bit, the
 * seventh, 6 bits after that. Measured on our own frames, where the edges are known: within
 * 2 samples at both rates; the bit middles leave 35 (or 32) samples either way. */
static double report_delay(int rate100)
{
    return 64.0 + ceil(560000.0 / rate100) + 1.0 + 6.0 * 800000.0 / rate100;
}

/* Samples kept: a frame (7.5 bits), its lead (LEAD_BITS + 1) and the report delay's slack,
 * at 176 samples a bit: about 2400. */
#define HIST 4096

/* The carrier meter: 10 ms blocks; a block has tone when the two tones hold 40% of its power
 * (a block that holds a shift from one tone to the other still has each in part); on after 2
 * blocks with tone, off after 8 without. */
#define BLOCK 80
#define CARRIER_SHARE 0.4
#define CARRIER_ON_BLOCKS 2
#define CARRIER_OFF_BLOCKS 8

#define OUTQ 256

struct gz {
    double coef; /* 2 cos w */
    double s1, s2;
};

struct tt_tty {
    double bit; /* samples */

    /* sending */
    fsk_spec_t txspec;
    fsk_tx_state_t *ftx;
    char q[TT_TTY_QUEUE];
    size_t qhead, qlen;
    enum { TX_IDLE, TX_LEAD, TX_FRAME, TX_HOLD } phase;
    unsigned halves;   /* left in the lead, frame or hold */
    uint16_t frame;    /* the frame's half-bits still to send, first in bit 0 */
    enum tx_case tx_case;
    bool flushing;
    unsigned lead_halves, hold_halves;
    char last_put;     /* the last character queued (for the spacing of replacement words) */

    /* receiving */
    fsk_spec_t rxspec;
    fsk_rx_state_t *frx;
    double delay;      /* report_delay */
    int16_t hist[HIST];
    uint64_t pos;      /* samples heard so far; hist[i % HIST] is sample i */
    uint64_t heard_from; /* the first sample of the present stretch not in an echo guard */
    uint64_t gate_until; /* deaf until this sample (the echo guard) */
    uint64_t echo_guard; /* samples */
    bool deaf;
    double floor_power; /* a sine at CUTOFF_DBM0, as mean square */
    bool rx_figures;
    bool detected;
    int chain[2];      /* the pure frames not yet handed over, before detection */
    size_t chain_n;
    int64_t chain_end; /* where the last pure frame's first stop bit ends */
    char outq[OUTQ];
    size_t out_head, out_len;

    /* the carrier meter */
    struct gz bm, bs;
    unsigned blk_n;
    double blk_sum, blk_sumsq;
    unsigned tone_run, quiet_run;
    bool receiving;

    struct tt_tty_stats st;
};

/* ---- small helpers ---- */

static void gz_init(struct gz *g, double hz)
{
    g->coef = 2.0 * cos(2.0 * M_PI * hz / TT_TTY_RATE);
    g->s1 = g->s2 = 0;
}

static void gz_step(struct gz *g, double x)
{
    double s = x + g->coef * g->s1 - g->s2;
    g->s2 = g->s1;
    g->s1 = s;
}

/* The tone's power over n samples, as a mean square: a sine of amplitude A gives A^2 / 2. */
static double gz_power(const struct gz *g, unsigned n)
{
    double y2 = g->s1 * g->s1 + g->s2 * g->s2 - g->coef * g->s1 * g->s2;
    return 2.0 * y2 / ((double)n * n);
}

/* A sine at a level in dBm0, as mean square (a full-scale sine is +3.14 dBm0, as in
 * dsp/dtmf.h and spandsp). */
static double dbm0_power(double dbm0)
{
    double a = 32768.0 * pow(10.0, (dbm0 - 3.14) / 20.0);
    return a * a / 2.0;
}

/* ---- sending ---- */

static size_t queue_room(const tt_tty *t)
{
    return TT_TTY_QUEUE - t->qlen;
}

static void enqueue(tt_tty *t, char c)
{
    t->q[(t->qhead + t->qlen) % TT_TTY_QUEUE] = c;
    t->qlen++;
    t->last_put = c;
}

/* One UTF-8 sequence at s (n > 0 bytes): its code point, and how many bytes it took; -1 (one
 * byte) when it is not well-formed UTF-8. */
static long utf8_next(const unsigned char *s, size_t n, size_t *len)
{
    *len = 1;
    if (s[0] < 0x80)
        return s[0];
    int more;
    long cp;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        more = 1;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        more = 2;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        more = 3;
        cp = s[0] & 0x07;
    } else {
        return -1;
    }
    if ((size_t)more >= n)
        return -1;
    for (int i = 1; i <= more; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    /* overlong forms, surrogates and beyond U+10FFFF are not UTF-8 */
    if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *len = (size_t)more + 1;
    return cp;
}

/* Latin-1 letters (U+00C0 to U+00FF) by their base letter; '2' marks the three that take two
 * (Æ æ as AE, ß as SS), '?' the two signs in the block (× ÷). */
static const char latin1_base[65] = "AAAAAA2CEEEEIIIIDNOOOOO?OUUUUYT2"  /* U+00C0 to U+00DF */
                                    "AAAAAA2CEEEEIIIIDNOOOOO?OUUUUYTY"; /* U+00E0 to U+00FF */

/* How one code point is sent: into out (at most 8 characters of the queue's repertoire).
 * replaced: it is not the character itself (upper case, a newline as CR LF and a tab as a
 * space count as itself). word: the replacement is a word, to be set off by spaces. */
static size_t map_char(long cp, char out[8], bool *replaced, bool *word)
{
    *replaced = false;
    *word = false;
    if (cp >= 'a' && cp <= 'z') {
        out[0] = (char)(cp - 'a' + 'A');
        return 1;
    }
    if ((cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == ' ' || cp == '\a' ||
        (cp > ' ' && cp < 0x7F && strchr("-$!&#'()\"/:;?,.", (int)cp))) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp == '\t') {
        out[0] = ' ';
        return 1;
    }
    if (cp == '\n' || cp == '\v' || cp == '\f') {
        out[0] = '\r';
        out[1] = '\n';
        return 2;
    }
    *replaced = true;
    const char *s;
    switch (cp) {
    case '[': case '{': case '<': s = "("; break;
    case ']': case '}': case '>': s = ")"; break;
    case '_': case '~': s = "-"; break;
    case '\\': case '|': s = "/"; break;
    case '`': s = "'"; break;
    case '+': s = "PLUS"; *word = true; break;
    case '=': s = "EQUALS"; *word = true; break;
    case '%': s = "PERCENT"; *word = true; break;
    case '@': s = "AT"; *word = true; break;
    case '*': s = "STAR"; *word = true; break;
    case 0xA0: s = " "; break;                /* no-break space */
    case 0xA1: s = "!"; break;                /* inverted exclamation mark */
    case 0xBF: s = ""; break;                 /* inverted question mark: ? ends it anyway */
    case 0xAB: case 0xBB: s = "\""; break;   /* angle quotation marks */
    case 0x2018: case 0x2019: case 0x201A: case 0x2032: s = "'"; break;
    case 0x201C: case 0x201D: case 0x201E: case 0x2033: s = "\""; break;
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015:
    case 0x2022: case 0x2212: s = "-"; break; /* hyphens, dashes, bullet, minus */
    case 0x2026: s = "..."; break;            /* ellipsis */
    default:
        s = "?";
        if (cp >= 0xC0 && cp <= 0xFF) {
            char b = latin1_base[cp - 0xC0];
            if (b == '2')
                s = cp == 0xDF ? "SS" : "AE";
            else if (b != '?') {
                out[0] = b;
                return 1;
            }
        }
        break;
    }
    size_t len = strlen(s);
    memcpy(out, s, len);
    return len;
}

static bool is_alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Map the whole text, into the queue when push is true, else only counting. */
static size_t map_text(tt_tty *t, const char *utf8, size_t n, bool push, uint64_t *replaced)
{
    const unsigned char *s = (const unsigned char *)utf8;
    size_t count = 0;
    char prev = t->last_put;
    for (size_t i = 0; i < n;) {
        size_t len;
        long cp = utf8_next(s + i, n - i, &len);
        char out[8];
        bool repl, word;
        size_t k;
        if (cp == '\r') {
            /* CR, or CR LF: one newline */
            out[0] = '\r';
            out[1] = '\n';
            k = 2;
            repl = word = false;
            if (i + 1 < n && s[i + 1] == '\n')
                len = 2;
        } else if (cp < 0) {
            out[0] = '?';
            k = 1;
            repl = true;
            word = false;
        } else {
            k = map_char(cp, out, &repl, &word);
        }
        i += len;
        char pre = 0, post = 0;
        if (word) {
            if (prev && prev != ' ' && prev != '\n')
                pre = ' ';
            if (i < n && is_alnum((char)s[i]))
                post = ' ';
        }
        if (replaced && repl)
            (*replaced)++;
        if (pre) {
            count++;
            if (push)
                enqueue(t, pre);
        }
        for (size_t j = 0; j < k; j++) {
            count++;
            if (push)
                enqueue(t, out[j]);
        }
        if (post) {
            count++;
            if (push)
                enqueue(t, post);
        }
        if (k)
            prev = post ? post : out[k - 1];
    }
    return count;
}

int tt_tty_put(tt_tty *t, const char *utf8, size_t n)
{
    if (!n)
        return 0;
    if (!utf8)
        return EINVAL;
    if (map_text(t, utf8, n, false, NULL) > queue_room(t))
        return ENOSPC;
    map_text(t, utf8, n, true, &t->st.replaced);
    return 0;
}

/* The next code to send, its shift first when the receiver's case must change; -1 when the
 * queue is empty. */
static int next_code(tt_tty *t)
{
    if (!t->qlen)
        return -1;
    char c = t->q[t->qhead];
    enum tx_case need;
    int code = code_of(c, &need);
    if (need == CASE_NEW) {
        if (t->tx_case == CASE_NEW) {
            /* a burst opens with a shift even before a space */
            t->tx_case = CASE_LETTERS;
            return CODE_LTRS;
        }
    } else if (need != t->tx_case) {
        t->tx_case = need;
        return need == CASE_LETTERS ? CODE_LTRS : CODE_FIGS;
    }
    t->q[t->qhead] = 0; /* a read-back of an entry may pass through here: not kept */
    t->qhead = (t->qhead + 1) % TT_TTY_QUEUE;
    t->qlen--;
    /* A TTY returns to letters on a space (unshift on space); one that does not stays in
     * figures. After figures, only a new shift makes both right. */
    if (need == CASE_NEW && t->tx_case == CASE_FIGURES)
        t->tx_case = CASE_UNSURE;
    return code;
}

/* The 15 half-bits of a frame, the first in bit 0: start (space, 0), the five bits least
 * significant first, then 1.5 stop bits (mark, 1). */
static uint16_t frame_of(int code)
{
    uint16_t f = 0;
    for (int i = 0; i < 5; i++)
        if (code >> i & 1)
            f |= (uint16_t)(3u << (2 + 2 * i));
    return (uint16_t)(f | 7u << 12);
}

static int end_burst(tt_tty *t)
{
    t->phase = TX_IDLE;
    t->flushing = false;
    return SIG_STATUS_END_OF_DATA;
}

/* fsk_tx's get_bit: the next half-bit (1 mark, 0 space), or the end of the burst. */
static int next_half(void *user)
{
    tt_tty *t = user;
    if (t->flushing && t->phase != TX_FRAME)
        return end_burst(t);
    if (t->phase == TX_HOLD && t->qlen)
        t->halves = 0; /* more text came: on at once */
    if (!t->halves) {
        if (t->flushing)
            return end_burst(t);
        int code = next_code(t);
        if (code >= 0) {
            t->phase = TX_FRAME;
            t->frame = frame_of(code);
            t->halves = HALF_BITS_PER_FRAME;
        } else if (t->phase != TX_HOLD) {
            t->phase = TX_HOLD;
            t->halves = t->hold_halves;
        } else {
            return end_burst(t);
        }
    }
    t->halves--;
    if (t->phase != TX_FRAME)
        return 1;
    int b = t->frame & 1;
    t->frame >>= 1;
    return b;
}

size_t tt_tty_tx(tt_tty *t, int16_t *out, size_t n)
{
    size_t done = 0, tone = 0;
    while (done < n) {
        if (t->phase == TX_IDLE) {
            if (!t->qlen)
                break;
            fsk_tx_restart(t->ftx, &t->txspec);
            t->phase = TX_LEAD;
            t->halves = t->lead_halves;
            t->tx_case = CASE_NEW;
            t->flushing = false;
        }
        size_t ask = n - done > 65536 ? 65536 : n - done;
        size_t got = (size_t)fsk_tx(t->ftx, out + done, (int)ask);
        if (got) {
            /* deaf from here until the echo guard after this tone (tt_tty_rx is called in
             * turn with the same periods: its next samples are these) */
            uint64_t until = t->pos + done + got + t->echo_guard;
            if (until > t->gate_until)
                t->gate_until = until;
        }
        done += got;
        tone += got;
        if (got < ask && t->phase != TX_IDLE) {
            /* fsk_tx stopped without our end: cannot happen, but never spin */
            t->phase = TX_IDLE;
        }
    }
    if (done < n)
        memset(out + done, 0, (n - done) * sizeof(*out));
    return tone;
}

size_t tt_tty_pending(const tt_tty *t)
{
    return t->qlen;
}

bool tt_tty_sending(const tt_tty *t)
{
    return t->phase != TX_IDLE;
}

void tt_tty_flush(tt_tty *t)
{
    explicit_bzero(t->q, sizeof(t->q));
    t->qlen = 0;
    t->qhead = 0;
    if (t->phase != TX_IDLE)
        t->flushing = true;
}

/* ---- receiving ---- */

static void out_push(tt_tty *t, char c)
{
    if (t->out_len == OUTQ) {
        t->st.lost_in++;
        return;
    }
    t->outq[(t->out_head + t->out_len) % OUTQ] = c;
    t->out_len++;
}

static void decode(tt_tty *t, int code)
{
    if (code == CODE_LTRS || code == CODE_FIGS) {
        t->rx_figures = code == CODE_FIGS;
        return;
    }
    char c = (t->rx_figures ? figures : letters)[code];
    if (code == CODE_SPACE)
        t->rx_figures = false; /* unshift on space, as US TTYs do */
    if (c)
        out_push(t, c);
}

/* What a bit's window must show (the clean and the pure tests). */
struct bit_test {
    double share; /* its tone's least share of the window's power */
    double ratio; /* its tone over the other tone, at least */
    bool exact;   /* and its tone within FREQ_TOL_HZ of nominal */
};
static const struct bit_test clean = {CLEAN_SHARE, CLEAN_RATIO, false};
static const struct bit_test pure = {PURE_SHARE, PURE_RATIO, true};

/* A Goertzel filter's power for a sine `off` Hz from its frequency, over n samples, relative
 * to one on it (the Dirichlet kernel). */
static double response(double off, unsigned n)
{
    double x = M_PI * off / TT_TTY_RATE;
    double r = sin(n * x) / (n * sin(x));
    return r * r;
}

/* Does the window [from, from + len) of the kept samples hold its tone? false too when the
 * window was not all heard (before the start, or in an echo guard). */
static bool holds(tt_tty *t, int64_t from, unsigned len, bool mark, const struct bit_test *b)
{
    int64_t pos = (int64_t)t->pos;
    if (from < (int64_t)t->heard_from || from + (int64_t)len > pos || pos - from > HIST)
        return false;
    double hz = mark ? TT_TTY_MARK_HZ : TT_TTY_SPACE_HZ;
    struct gz want, other, below, above;
    gz_init(&want, hz);
    gz_init(&other, mark ? TT_TTY_SPACE_HZ : TT_TTY_MARK_HZ);
    gz_init(&below, hz - SIDE_HZ);
    gz_init(&above, hz + SIDE_HZ);
    double sum = 0, sumsq = 0;
    for (unsigned i = 0; i < len; i++) {
        double x = t->hist[((uint64_t)from + i) % HIST];
        gz_step(&want, x);
        gz_step(&other, x);
        if (b->exact) {
            gz_step(&below, x);
            gz_step(&above, x);
        }
        sum += x;
        sumsq += x * x;
    }
    double mean = sum / len, e = sumsq / len - mean * mean;
    double pw = gz_power(&want, len), po = gz_power(&other, len);
    if (pw < t->floor_power || pw < b->share * e || pw < b->ratio * po)
        return false;
    if (!b->exact)
        return true;
    /* a tone off by d Hz is nearer one side filter than the other: their powers differ by
     * response(SIDE_HZ - d) / response(SIDE_HZ + d), which grows with d */
    double lo = gz_power(&below, len), hi = gz_power(&above, len);
    double limit = response(SIDE_HZ - FREQ_TOL_HZ, len) / response(SIDE_HZ + FREQ_TOL_HZ, len);
    return fmax(lo, hi) <= limit * fmin(lo, hi);
}

/* The bit before the start bit (mark), the start bit, the five data bits and the first stop
 * bit: does the middle of each hold its tone? */
static bool check_frame(tt_tty *t, int64_t edge, int code, const struct bit_test *b)
{
    unsigned len = (unsigned)lrint(MID_LEN * t->bit);
    for (int k = -1; k <= 6; k++) {
        bool mark = k < 0 || k == 6 || (k >= 1 && k <= 5 && (code >> (k - 1) & 1));
        int64_t from = edge + (int64_t)lrint((k + MID_FROM) * t->bit);
        if (!holds(t, from, len, mark, b))
            return false;
    }
    return true;
}

/* LEAD_BITS whole bits of pure mark before the bit before the start bit's middle. */
static bool has_lead(tt_tty *t, int64_t edge)
{
    unsigned len = (unsigned)lrint(t->bit);
    int64_t end = edge - (int64_t)lrint((1 - MID_FROM) * t->bit);
    for (int j = 1; j <= LEAD_BITS; j++)
        if (!holds(t, end - (int64_t)j * len, len, true, &pure))
            return false;
    return true;
}

static void on_frame(tt_tty *t, int code)
{
    t->st.frames++;
    /* fsk_rx reports the frame while taking the sample t->pos - 1 */
    int64_t edge = (int64_t)t->pos - 1 - (int64_t)lrint(t->delay);
    if (!check_frame(t, edge, code, &clean))
        return;
    t->st.clean++;
    if (t->detected) {
        decode(t, code);
        return;
    }
    if (code == CODE_BLANK || !check_frame(t, edge, code, &pure))
        return;
    t->st.pure++;
    /* the pure frame before this one, if it was close enough: there is at most one, since a
     * second detects */
    if (t->chain_n && edge > t->chain_end + (int64_t)(CHAIN_GAP_S * TT_TTY_RATE))
        t->chain_n = 0;
    t->chain[t->chain_n++] = code;
    t->chain_end = edge + (int64_t)lrint(7 * t->bit);
    if (t->chain_n >= 2 || has_lead(t, edge)) {
        t->detected = true;
        t->st.detected_at = t->pos;
        for (size_t i = 0; i < t->chain_n; i++)
            decode(t, t->chain[i]);
        t->chain_n = 0;
    }
}

/* fsk_rx's put_bit: in 5-bit frame mode, each frame's five bits (and the stop bit, bit 5);
 * negative values are its carrier reports, which its power meter makes (speech turns it on
 * as well as a TTY), so they are not used. */
static void put_frame(void *user, int bits)
{
    if (bits >= 0)
        on_frame(user, bits & 0x1F);
}

static void carrier_block(tt_tty *t)
{
    double mean = t->blk_sum / BLOCK;
    double e = t->blk_sumsq / BLOCK - mean * mean;
    double pm = gz_power(&t->bm, BLOCK), ps = gz_power(&t->bs, BLOCK);
    bool tone = pm + ps >= CARRIER_SHARE * e && (pm > ps ? pm : ps) >= t->floor_power;
    if (tone) {
        t->quiet_run = 0;
        if (++t->tone_run >= CARRIER_ON_BLOCKS)
            t->receiving = true;
    } else {
        t->tone_run = 0;
        if (++t->quiet_run >= CARRIER_OFF_BLOCKS)
            t->receiving = false;
    }
    t->blk_n = 0;
    t->blk_sum = t->blk_sumsq = 0;
    t->bm.s1 = t->bm.s2 = t->bs.s1 = t->bs.s2 = 0;
}

/* Back from an echo guard: nothing heard before counts. */
static void rx_restart(tt_tty *t)
{
    fsk_rx_restart(t->frx, &t->rxspec, FSK_FRAME_MODE_5N1_FRAMES);
    t->heard_from = t->pos;
    t->chain_n = 0;
    t->blk_n = 0;
    t->blk_sum = t->blk_sumsq = 0;
    t->bm.s1 = t->bm.s2 = t->bs.s1 = t->bs.s2 = 0;
    t->tone_run = t->quiet_run = 0;
}

size_t tt_tty_rx(tt_tty *t, const int16_t *in, size_t n, char *out, size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        if (t->pos < t->gate_until) {
            t->deaf = true;
            t->receiving = false;
            t->pos++;
            continue;
        }
        if (t->deaf) {
            t->deaf = false;
            rx_restart(t);
        }
        int16_t x = in[i];
        t->hist[t->pos % HIST] = x;
        t->pos++;
        fsk_rx(t->frx, &x, 1);
        gz_step(&t->bm, x);
        gz_step(&t->bs, x);
        t->blk_sum += x;
        t->blk_sumsq += (double)x * x;
        if (++t->blk_n == BLOCK)
            carrier_block(t);
    }
    size_t k = 0;
    while (k < cap && t->out_len) {
        out[k++] = t->outq[t->out_head];
        t->outq[t->out_head] = 0; /* what the caller typed is theirs once handed over */
        t->out_head = (t->out_head + 1) % OUTQ;
        t->out_len--;
    }
    t->st.chars_in += k;
    return k;
}

bool tt_tty_receiving(const tt_tty *t)
{
    return t->receiving;
}

bool tt_tty_detected(const tt_tty *t)
{
    return t->detected;
}

void tt_tty_set_echo_guard(tt_tty *t, unsigned ms)
{
    t->echo_guard = (uint64_t)ms * TT_TTY_RATE / 1000;
}

void tt_tty_get_stats(const tt_tty *t, struct tt_tty_stats *s)
{
    *s = t->st;
}

/* ---- life ---- */

tt_tty *tt_tty_new(enum tt_tty_baud baud)
{
    if (baud != TT_TTY_45 && baud != TT_TTY_50) {
        errno = EINVAL;
        return NULL;
    }
    tt_tty *t = calloc(1, sizeof(*t));
    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    int rate100 = baud == TT_TTY_45 ? 4545 : 5000;
    /* 45.4545 baud exactly (22 ms bits) for sending; fsk_rx's 45.45 differs by 0.01% */
    t->bit = baud == TT_TTY_45 ? 176.0 : 160.0;
    t->txspec = (fsk_spec_t){"TTY half-bits", TT_TTY_SPACE_HZ, TT_TTY_MARK_HZ,
                             (int)TT_TTY_TX_DBM0, CUTOFF_DBM0, baud == TT_TTY_45 ? 9091 : 10000};
    t->rxspec = (fsk_spec_t){"TTY", TT_TTY_SPACE_HZ, TT_TTY_MARK_HZ, (int)TT_TTY_TX_DBM0,
                             CUTOFF_DBM0, rate100};
    double half_per_s = t->txspec.baud_rate / 100.0;
    t->lead_halves = (unsigned)ceil(LEAD_MS / 1000.0 * half_per_s);
    t->hold_halves = (unsigned)ceil(HOLD_MS / 1000.0 * half_per_s);
    t->delay = report_delay(rate100);
    t->floor_power = dbm0_power(CUTOFF_DBM0);
    t->echo_guard = (uint64_t)TT_TTY_ECHO_GUARD_MS * TT_TTY_RATE / 1000;
    gz_init(&t->bm, TT_TTY_MARK_HZ);
    gz_init(&t->bs, TT_TTY_SPACE_HZ);
    t->ftx = fsk_tx_init(NULL, &t->txspec, next_half, t);
    t->frx = fsk_rx_init(NULL, &t->rxspec, FSK_FRAME_MODE_5N1_FRAMES, put_frame, t);
    if (!t->ftx || !t->frx) {
        tt_tty_free(t);
        errno = ENOMEM;
        return NULL;
    }
    return t;
}

void tt_tty_free(tt_tty *t)
{
    if (!t)
        return;
    if (t->ftx)
        fsk_tx_free(t->ftx);
    if (t->frx)
        fsk_rx_free(t->frx);
    /* the last half second of the caller's tones and what is queued for them may hold an
     * entry (a case number typed, its read-back): wiped, not left in freed memory */
    explicit_bzero(t, sizeof(*t));
    free(t);
}
