/*
 * evdev keypads: keys from a USB keypad read straight from /dev/input/eventN, turned into
 * engine keys by a keymap (keymap.h).
 *
 * Reading the input device instead of a terminal works with no terminal at all (a kiosk with
 * no keyboard and no console), tells the keypad apart from any keyboard, and sees keys a
 * terminal never gets (volume keys, Help). Only presses count: repeats from a key held down
 * and releases are dropped, so a listener who rests a finger on a key hears one action.
 * The reader can grab the device (EVIOCGRAB) so its keys do not also type into a console.
 *
 * A keypad can be unplugged at any time: a read then returns -ENODEV and the caller closes
 * the reader and tries tt_evdev_open again later, the kiosk carrying on meanwhile.
 */
#ifndef TT_EVDEV_H
#define TT_EVDEV_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/input.h>

#include "input/keymap.h"
#include "tonetree.h"

struct tt_evdev;

/* Options for tt_evdev_open. */
enum {
    TT_EVDEV_GRAB = 1 /* take the device for ourselves: its keys reach no console or program */
};

/**
 * Open a keypad.
 * @param ep     set to the reader on success
 * @param path   the device, e.g. /dev/input/event3 or /dev/input/by-id/usb-...-event-kbd
 * @param km     the keymap (kept, not copied: it must outlive the reader)
 * @param flags  0 or TT_EVDEV_GRAB
 * @param diag   receives what went wrong, with what to do about it, or NULL; also a warning
 *               when the device has none of the keymap's keys (the wrong device, or keymap)
 * @return 0, or an errno: ENOENT (no such device), EACCES (not allowed: the kiosk's user must
 *         be in the "input" group), EBUSY (another program grabbed it), ENOTTY (not an input
 *         device), ...
 */
int tt_evdev_open(struct tt_evdev **ep, const char *path, const struct tt_keymap *km,
                  unsigned flags, tt_diag *diag);
/** The descriptor, to poll() for input. */
int tt_evdev_fd(const struct tt_evdev *e);
/** The device's name, as the kernel gives it ("USB Keypad"), for messages. */
const char *tt_evdev_name(const struct tt_evdev *e);
/**
 * Take the key presses waiting, without blocking.
 * @return the number of engine keys stored in keys (0 when none is waiting; keys the keymap
 *         does not map are dropped), or a negative errno: -ENODEV when the device has gone
 *         (close it; open it again when it comes back). When it returns max, call again at
 *         once: more may be waiting that poll() on the fd will not show.
 */
int tt_evdev_read(struct tt_evdev *e, int *keys, size_t max);
/** Release the grab, close the device, free the reader. NULL is fine. */
void tt_evdev_close(struct tt_evdev *e);

/**
 * The engine key an input event stands for, or -1: only a key press (EV_KEY, value 1) of a
 * key the keymap maps counts; releases (0), auto-repeats (2) and every other event do not.
 * This is all of tt_evdev_read's judgement, kept apart so it can be tested with no device.
 */
int tt_evdev_translate(const struct tt_keymap *km, const struct input_event *ev);

/**
 * Find the keypad: the /dev/input/event* device that has the most of the keymap's keys
 * (with no keymap: of the numeric keypad's digits KEY_KP0-KEY_KP9), preferring a device with
 * no letter keys (a keypad over a full keyboard), then the lowest number.
 * @param path  receives the device's path
 * @return 0, ENOENT when no device has any of the keys (or there is no /dev/input),
 *         EACCES when devices exist but none could be opened, ENAMETOOLONG
 */
int tt_evdev_find(char *path, size_t size, const struct tt_keymap *km, tt_diag *diag);

#endif
