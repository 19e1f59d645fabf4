/*
 * A menu reload on a thread of its own, for a driver whose loop must not stop: loading and
 * checking a menu is quick, but preparing its changed prompts is speech synthesis, seconds of
 * it, and a kiosk or a line that waited for that would go silent mid-prompt. The driver starts
 * one, adds its descriptor to its poll(), and takes the result when it is readable.
 */
#ifndef TT_CALL_RELOAD_BG_H
#define TT_CALL_RELOAD_BG_H

#include "tonetree.h"

struct tt_reload_bg;

/** Begin tt_menu_slot_reload(s) on a new thread. */
int tt_reload_bg_start(struct tt_reload_bg **rp, tt_menu_slot *s);
/** Readable (POLLIN) once the reload has finished. */
int tt_reload_bg_fd(const struct tt_reload_bg *r);
/**
 * Wait for the reload (at once if the descriptor was readable), add its messages to `into`,
 * with a last one that says what came of it, and free it.
 * @return the reload's result: 0 when the new edition is in service
 */
int tt_reload_bg_finish(struct tt_reload_bg *r, tt_diag *into);

#endif
