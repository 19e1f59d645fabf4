/*
 * Keymap files: which physical key of a keypad (a Linux input key code, as evdev reports it)
 * stands for which engine key ('0'-'9', '*', '#' or an enum tt_key).
 *
 * A keypad is just a USB keyboard with a few keys, and every model sends different codes: the
 * court writes (or picks) a small INI file naming the keys the way libevdev and evtest name them
 * (KEY_KP1, KEY_KPENTER, KEY_UP, BTN_0, ...), so no code changes when the hardware does.
 * The format is in docs/keymaps.md; keymaps/ holds the shipped ones.
 */
#ifndef TT_KEYMAP_H
#define TT_KEYMAP_H

#include <stddef.h>

#include "tonetree.h"

struct tt_keymap;

/**
 * Load and check a keymap file.
 * @param kp    set to the keymap on success (free with tt_keymap_free), NULL otherwise
 * @param path  the INI file
 * @param diag  receives every error, each with the file, the line and the fix
 * @return 0, EINVAL when the file has errors (all of them are in diag), or another errno
 *         (ENOENT, EACCES, ENOMEM, EFBIG for a file far too big to be a keymap, EISDIR for a
 *         folder, ENODEV for a FIFO, a socket or a device: it is refused before any read)
 */
int tt_keymap_load(struct tt_keymap **kp, const char *path, tt_diag *diag);
/**
 * The same from the bytes of a keymap file (tt_keymap_load reads the file, then this).
 * @param name  the file as named in messages, and the keymap's name when it has no "name ="
 */
int tt_keymap_load_mem(struct tt_keymap **kp, const char *name, const char *data, size_t size,
                       tt_diag *diag);
void tt_keymap_free(struct tt_keymap *k);

/** The engine key a physical key code stands for, or -1 when the keymap does not map it. */
int tt_keymap_lookup(const struct tt_keymap *k, unsigned code);
/** The keymap's "name =", or its file's path when it has none (for messages). Never NULL. */
const char *tt_keymap_name(const struct tt_keymap *k);
/** How many physical keys are mapped (at least one in a loaded keymap). */
size_t tt_keymap_count(const struct tt_keymap *k);

#endif
