/*
 * A TTY caller on the telephone line: the line driver hears every period through the Baudot
 * modem as well as the DTMF receiver, and once the modem has recognized a TTY from the caller's
 * tones, the call goes on in text: the menu's words go out as TTY characters instead of speech,
 * one at a time, never while the caller is typing (TTY is half duplex), and what the caller
 * types comes back as keys (tt_call_text_in). docs/text-callers.md says what the caller gets.
 */
#ifndef TT_LINE_TTY_H
#define TT_LINE_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tonetree.h"

struct line_tty;

/** For a line at `rate` Hz (8000 or more). ENOMEM, or EINVAL for a rate under 8000. */
int line_tty_new(struct line_tty **ltp, int rate);
void line_tty_free(struct line_tty *lt);
/** A period of what the caller sends (n frames at the line's rate): the characters typed, at
 *  most cap, into typed; returns how many. */
size_t line_tty_hear(struct line_tty *lt, const int16_t *in, size_t n, tt_ms now, char *typed,
                     size_t cap);
/** The caller has been recognized as a TTY (and stays so). */
bool line_tty_detected(const struct line_tty *lt);
/** A period of output (n frames at the line's rate), the call's text as TTY tones; when all the
 *  call gave has gone out, tt_call_text_sent. Returns what the call returned, or ENOMEM. */
int line_tty_say(struct line_tty *lt, tt_call *c, int16_t *out, size_t n, tt_ms now);
/** Text still going out (the call's, or the modem's). */
bool line_tty_busy(const struct line_tty *lt, const tt_call *c);
/** The line's echo comes back this long after our tones (its devices' latency): the modem
 *  does not listen meanwhile, as a TTY does not while it sends. */
void line_tty_set_echo(struct line_tty *lt, unsigned ms);
/** A key cut the prompt: what the modem has queued is dropped. */
void line_tty_cut(struct line_tty *lt);

#endif
