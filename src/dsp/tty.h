/*
 * TTY (TDD) text telephony on an analog line, and the recognition of a TTY caller.
 *
 * A TTY speaks Baudot: FSK with mark 1400 Hz and space 1800 Hz, 45.45 baud in North America
 * (50 baud elsewhere), each character one start bit (space), five data bits (least
 * significant first), 1.5 stop bits (mark); 32 codes, two of them shifts (LTRS, FIGS)
 * choosing between letters and figures; half duplex. This module sends text as those tones
 * and turns the caller's tones back into text, at 8000 Hz, int16 samples, in spandsp's shape:
 * a state, blocks of samples in or out, no files, no clock, no threads.
 *
 * What is spandsp's and what is ours. spandsp 0.0.6 (Debian 12's build) has a V.18 module whose
 * 5-bit modes are meant for this, and it was tried first against minimodem (tests/test_tty.c
 * keeps the evidence as tests of spandsp itself). It loses or changes a caller's text:
 *   - it never shifts to figures again after a space, while US TTYs return to letters on
 *     every space (unshift on space): "12 34" reaches the caller as "12 ER"; and it does not
 *     unshift on a space it hears, so the words a TTY types after "1 " come out as figures
 *     ("1 AND THEN MORE WORDS" read as "1 -,$ 5=3, .943 294$-");
 *   - some of its figures are not the US TTY's: it sends # as the code a TTY shows as $, *
 *     as ., @ as X and % as /, and reads a TTY's # as =, & as + and its bell as -;
 *   - v18_rx hands text over only when the carrier drops (or 256 characters have come): a
 *     key typed at the start of a burst arrives when the caller stops typing;
 *   - it sends 2 stop bits, not 1.5 (8 bits a character: 5.68 characters a second instead of
 *     6.06), and ends each burst by cutting a LTRS character short, with no carrier hold.
 * So the parts that are right are used as they are: spandsp's FSK modulator (fsk_tx,
 * phase-continuous) and its FSK demodulator with 5-bit framing (fsk_rx in
 * FSK_FRAME_MODE_5N1_FRAMES: the start bit held, each bit stable over the end of its time,
 * the stop bit checked). The smallest correct rest is ours: the US TTY code table with its
 * shift rules, the 1.5 stop bits (fsk_tx is run at twice the baud rate, so a frame is 15
 * half-bits), the carrier before and after each burst, handing each character over as it
 * arrives, and the detection below.
 *
 * Sending. Text is mapped when it is queued (tt_tty_put) and coded when it is sent, so the
 * shifts follow what the receiver last saw:
 *   - letters are sent in upper case; a newline (LF, CR or CR LF) as CR LF; a tab as a space;
 *   - the US figures are 0-9 - $ ! & # ' ( ) " / : ; ? , . and a space, CR and LF work in
 *     either case;
 *   - every burst starts with about 165 ms of mark and an explicit shift, and ends with
 *     about 150 ms of mark (a TTY of the 1980s: carrier 180 ms before data, held 156 ms
 *     after), so a receiver that has just woken or has just been typed on is in the right
 *     case;
 *   - after a space, CR or LF that followed figures, the next letter or figure is preceded
 *     by its shift: a TTY that unshifts on space and one that does not then both read it
 *     right. (Only after figures: after letters both kinds are in letters already.)
 *   - what Baudot lacks is replaced, never dropped and never sent as a wrong code: accented
 *     Latin letters by their base letter (A for Á, N for Ñ, SS for ß, AE for Æ), typographic
 *     quotes and dashes by ' " -, the inverted ! by !, an ellipsis by three dots, [ { < by (
 *     and ] } > by ), _ and ~ by -, backslash and | by /, ` by '; + = % @ * by the words
 *     PLUS, EQUALS, PERCENT, AT, STAR, set off by spaces from a letter or digit beside them;
 *     the inverted ? is left out (Spanish ends the question with ? as well); anything else,
 *     and a byte that is not UTF-8, by ?. The stats count the characters replaced.
 *
 * Receiving. spandsp's framing is strict: it framed no character at all in the 44 minutes of
 * the talk-off corpus, nor in a minute of white noise. Each frame it does frame is looked at
 * again in the samples, by Goertzel filters at 1400 and 1800 Hz over the middle 60% of each
 * of its bits (and of the bit before its start bit, which is mark: a lead or the last stop
 * bit), against each bit's whole power. Once the caller is detected, a frame is decoded (US
 * figures, unshift on space) and handed over at once when each bit's tone holds a tenth of
 * the bit's power and twice the other tone's ("clean": it confirms where the frame began and
 * that it is the tones, not broadband sound).
 *
 * Detection ("the caller is a TTY"), from the tones alone, also while our own speech echoes
 * back under them. A frame is "pure" when each of those eight bit middles has its tone at
 * -45 dBm0 or more, holding a fifth of the bit's power and 30 times (15 dB) the other tone's,
 * within 20 Hz of its frequency (TTYs keep 5 Hz; the nearest musical note to 1800 Hz is 40 Hz
 * off), and its code is not 0 (blank, which a TTY does not send: a lone 130 ms beep at 1800 Hz
 * would otherwise be one). The caller is detected at
 *   (a) a second pure frame starting within 1.5 s of the end of the one before: a TTY's
 *       first keystroke is usually two frames (a shift, then the character; minimodem sends
 *       it so), and a typist's next key comes well within that; or
 *   (b) one pure frame after at least 4.6 bits (100 ms at 45.45 baud) of pure mark: the
 *       carrier a TTY sends before its first character (180 ms on the TTYs of the 1980s).
 * Why this is not speech, music or DTMF: it takes 14 bit times (or 8 and a held mark) in
 * which one of two exact tones, 400 Hz apart, switching on a 22 ms grid, is 15 dB above the
 * other every time, on top of spandsp's framing. A voice spreads its power over harmonics
 * and formants, so the two bins 400 Hz apart are rarely 15 dB apart bit after bit; music
 * has no note near enough to 1800 Hz; DTMF is two tones at once, neither within 60 Hz of
 * these. (Pure tones switching at random between exactly 1400 and 1800 Hz are detected: that
 * is FSK on the TTY's tones.) The talk-off corpus, synthesized speech and every DTMF digit give
 * no detection (tests/test_tty.c). Why it works under speech: on a line the caller's tones
 * (sent at -13 to -9 dBm, a few dB lost on the loop) should arrive well above the echo of our
 * prompt (near -20 dBm0, returned 6 to 20 dB down by the hybrid): about 8 dB or more, by
 * that estimate. With the echo 6 dB under the tones the right tone still held 40% of each
 * bit and stayed 22 dB or more above the other tone; bench_tty measures the share of
 * keystrokes detected as the echo grows: all of 24 at 10 dB under, 23 at 6, 12 at 0. The
 * characters of the frames that detected the caller are handed over too, so the first
 * keystroke is not lost. A TTY at the other rate (50 baud heard by a 45.45 baud modem, or
 * the reverse) is a TTY too, but its text comes out wrong: a single keystroke was not
 * detected in our tries (five keys each way), a sentence was. A line that may carry both
 * needs a modem for each.
 *
 * Half duplex. Like a TTY, we do not listen while we send: from the first tone sample
 * tt_tty_tx gives until the echo guard (250 ms by default; the driver knows its line's echo
 * delay and sets it) after the last, tt_tty_rx ignores what it hears, which is mostly our own
 * tones coming back. What the caller types meanwhile is lost, as it would be between two
 * TTYs; the engine should send in short bursts and look at tt_tty_receiving between them.
 * tt_tty_receiving says whether one of the two tones holds the line now: on within 30 ms of
 * the tone's start, off within 100 ms of its end (a TTY holds its carrier about 150 ms after
 * its last character, so it stays on between quick keystrokes).
 *
 * Privacy: nothing is written anywhere. What the caller typed, and what we send them (which
 * may read an entry back), is kept only until it is handed over or sent (the characters are
 * wiped from the queues then, and by tt_tty_flush); the last half second of heard samples and
 * everything else is wiped by tt_tty_free.
 *
 * Threads: a tt_tty belongs to one thread at a time; tt_tty_tx and tt_tty_rx are called in
 * turn, each with the samples of one period (a duplex sound card callback's in and out), so
 * that the echo guard lines up with the echo.
 */
#ifndef TT_TTY_H
#define TT_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TT_TTY_RATE 8000
#define TT_TTY_MARK_HZ 1400
#define TT_TTY_SPACE_HZ 1800

/* Our transmit level: TTYs send -13 to -9 dBm at the line (a TTY maker's figures, 1985). */
#define TT_TTY_TX_DBM0 (-10.0)

/* Text queued and not yet sent, at most (a character a byte): 11 minutes at 6 a second. */
#define TT_TTY_QUEUE 4096

#define TT_TTY_ECHO_GUARD_MS 250

typedef struct tt_tty tt_tty;
enum tt_tty_baud { TT_TTY_45, TT_TTY_50 };

struct tt_tty_stats {
    uint64_t frames;     /* frames spandsp's receiver framed */
    uint64_t clean;      /* ... whose bits hold the right tones (decoded once detected) */
    uint64_t pure;       /* ... that count towards detection */
    uint64_t chars_in;   /* characters handed out by tt_tty_rx */
    uint64_t lost_in;    /* characters lost because tt_tty_rx was not given room for them */
    uint64_t replaced;   /* characters tt_tty_put had to replace */
    uint64_t detected_at; /* input samples (counted from the first) when the caller was
                             detected; 0 while not detected */
};

/** A new modem. NULL with errno ENOMEM, or EINVAL for an unknown baud. */
tt_tty *tt_tty_new(enum tt_tty_baud baud);
/** NULL is allowed. */
void tt_tty_free(tt_tty *t);

/**
 * Queue text to send (see "Sending" above for what Baudot lacks).
 * @param utf8  n bytes of UTF-8 (not NUL-terminated necessarily)
 * @return 0; ENOSPC when it does not fit in what is left of TT_TTY_QUEUE (nothing is queued
 *         then); EINVAL for a NULL text with n > 0
 */
int tt_tty_put(tt_tty *t, const char *utf8, size_t n);

/**
 * The next n samples to send: a burst's tones while there is text, silence (zeros) when
 * there is none.
 * @return how many of them carry tone
 */
size_t tt_tty_tx(tt_tty *t, int16_t *out, size_t n);

/** Characters queued and not yet begun, as they will be sent (a replacement word counts its
 *  letters and spaces; shifts are not counted). */
size_t tt_tty_pending(const tt_tty *t);

/** Whether a burst is on the line (its lead, characters or hold). */
bool tt_tty_sending(const tt_tty *t);

/**
 * Drop what is queued (the caller has started typing). A character already begun is
 * finished, so that the caller's screen shows no broken one, and then the carrier stops
 * (at most one character, 165 ms at 45.45 baud).
 */
void tt_tty_flush(tt_tty *t);

/**
 * Hear n samples (any number: a period of a duplex callback, typically 20 ms).
 * @param out  the characters decoded (ASCII: A-Z, 0-9, the US figures above, space, CR, LF,
 *             BEL) are appended here, at most cap of them; the rest wait for the next call
 *             (up to 256: beyond that they are lost, and counted in lost_in)
 * @return how many were appended
 */
size_t tt_tty_rx(tt_tty *t, const int16_t *in, size_t n, char *out, size_t cap);

/** The caller's carrier is on now (they are typing). Always false during the echo guard. */
bool tt_tty_receiving(const tt_tty *t);

/** The caller has been recognized as a TTY (see "Detection"); it stays so. */
bool tt_tty_detected(const tt_tty *t);

/** How long after our last tone tt_tty_rx stays deaf (default TT_TTY_ECHO_GUARD_MS). */
void tt_tty_set_echo_guard(tt_tty *t, unsigned ms);

void tt_tty_get_stats(const tt_tty *t, struct tt_tty_stats *s);

#endif
