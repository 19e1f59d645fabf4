/*
 * The telephone line driver (`tonetree line MENU [--device NAME]`): one duplex audio device,
 * prompts out, keys in through the DTMF receiver, barge-in as at the kiosk, and the caller's
 * hang-up noticed from the line itself.
 */
#ifndef TT_DRV_LINE_H
#define TT_DRV_LINE_H

#include <stdio.h>

#include "tonetree.h"

#define TT_LINE_HANGUP_MS 10000 /* silence this long while waiting for the caller: gone */
#define TT_LINE_BUSY_MS 2000    /* a busy or reorder tone this long: gone */
#define TT_LINE_SILENCE_DBM0 (-50.0)

struct tt_line_opts {
    const char *device; /* NULL: the default device; else a number or part of a name */
    int rate;           /* the line's rate, 8000 to 48000: must be the store's */
    int lang;           /* starting language index */
    FILE *transcript;   /* one line per session event (tt_event_format), and the hang-up */
    tt_ms hangup_ms;    /* 0: TT_LINE_HANGUP_MS */
    tt_ms max_ms;       /* end a call longer than this (line time); 0: one hour */
    /* Set non-zero (by the program's own signal handler, say) to end the call; the library
     * installs no signal handler. NULL: the call ends only in the ways below. */
    const volatile sig_atomic_t *stop;
    /* For tt_line_serve: how many calls to answer (0: until *stop), and a counter that the
     * program changes (its SIGHUP handler adds one, say) to have the menu file loaded again
     * before the next call. */
    unsigned calls;
    const volatile sig_atomic_t *reload;
};

/**
 * Run one call: the session (TT_END_GOODBYE) from the welcome until the caller's end key and
 * goodbye, the caller hanging up (silence or a busy/reorder tone on the input), max_ms, or
 * *o->stop set. Time is the line's own: frames read from the device / rate.
 * @return 0 when the call ended in any of those ways, or the error that stopped it (ENODEV:
 *         no device with input and output)
 */
int tt_line_run(const tt_menu *m, tt_phrases *const *phrases, tt_store *store,
                const struct tt_line_opts *o, tt_diag *diag);

/**
 * Answer calls one after another (o->calls, or until *o->stop), each a tt_line_run on the
 * edition of `menus` in service when it begins, in the slot's language (o->lang is not used).
 * A reload asked for (*o->reload changed) is done between calls, when nobody is on the line:
 * a call in progress always finishes on the menu it began on, and a file with errors is
 * refused (said in diag, with its line) while the old menu goes on. An analogue audio path
 * carries no ring: the next call begins as soon as the last has ended.
 * What a reload said is printed on stderr between calls, as a call's own messages are; diag
 * keeps the last call's device note and the error that stopped serving, if any.
 * @return 0 when the calls were answered or *o->stop was set, or the error that stopped it
 */
int tt_line_serve(tt_menu_slot *menus, tt_store *store, const struct tt_line_opts *o,
                  tt_diag *diag);

#endif
