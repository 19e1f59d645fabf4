/*
 * evdev keypads: libevdev reads the device, a keymap names its keys, presses become keys.
 *
 * libevdev keeps the device's state and handles the kernel's SYN_DROPPED (its event buffer
 * overflowed and events were lost): after one, it replays the difference between the state
 * it knew and the device's real state. A key found down in that replay was pressed while
 * events were being lost, so it counts as a press like any other; a key found up is a release
 * and is dropped as always. A replay cut short because the caller's array was full goes on at
 * the next read.
 *
 * Which device: the driver names one (a stable /dev/input/by-id/ path is best), or
 * tt_evdev_find picks the device with the most of the keymap's keys.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libevdev/libevdev.h>

#include "input/evdev.h"

struct tt_evdev {
    int fd;
    struct libevdev *dev;
    const struct tt_keymap *km;
    bool grabbed;
    bool syncing; /* in the middle of a SYN_DROPPED replay */
};

int tt_evdev_translate(const struct tt_keymap *km, const struct input_event *ev)
{
    /* value 1 is a press, 0 a release, 2 the keyboard's auto-repeat of a key held down. */
    if (ev->type != EV_KEY || ev->value != 1)
        return -1;
    return tt_keymap_lookup(km, ev->code);
}

/* libevdev prints its own complaints to stderr unless told otherwise; library code never
 * prints, and every failure here comes back as an error code anyway. */
static void quiet_log(const struct libevdev *dev, enum libevdev_log_priority priority,
                      void *data, const char *file, int line, const char *func,
                      const char *format, va_list args)
{
    (void)dev, (void)priority, (void)data, (void)file, (void)line, (void)func;
    (void)format, (void)args;
}

static void open_error(tt_diag *diag, const char *path, int err)
{
    switch (err) {
    case ENOENT:
    case ENODEV:
        tt_diag_add(diag, TT_ERROR, path, 0,
                    "no such input device: is the keypad plugged in? (ls -l /dev/input/by-id)");
        break;
    case EACCES:
    case EPERM:
        tt_diag_add(diag, TT_ERROR, path, 0,
                    "not allowed to read this input device: add the kiosk's user to the "
                    "'input' group (sudo usermod -aG input USER), then log in again");
        break;
    case ENOTTY:
    case EINVAL:
        tt_diag_add(diag, TT_ERROR, path, 0,
                    "this is not an input device (use /dev/input/eventN or a "
                    "/dev/input/by-id/...-event-kbd path)");
        break;
    default:
        tt_diag_add(diag, TT_ERROR, path, 0, "cannot open the input device: %s",
                    strerror(err));
    }
}

/* How many of the wanted keys the device has: the keymap's, or the keypad digits. */
static int keys_present(const struct libevdev *dev, const struct tt_keymap *km)
{
    int n = 0;
    if (!km) {
        static const unsigned kp[] = {KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4,
                                      KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9};
        for (size_t i = 0; i < sizeof(kp) / sizeof(kp[0]); i++)
            n += libevdev_has_event_code(dev, EV_KEY, kp[i]) == 1;
        return n;
    }
    for (unsigned c = 0; c < KEY_CNT; c++)
        if (tt_keymap_lookup(km, c) >= 0)
            n += libevdev_has_event_code(dev, EV_KEY, c) == 1;
    return n;
}

int tt_evdev_open(struct tt_evdev **ep, const char *path, const struct tt_keymap *km,
                  unsigned flags, tt_diag *diag)
{
    int err = 0, rc;
    struct tt_evdev *e = calloc(1, sizeof(*e));

    *ep = NULL;
    if (!e)
        return ENOMEM;
    e->km = km;
    e->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (e->fd < 0) {
        err = errno;
        open_error(diag, path, err);
        goto out;
    }
    e->dev = libevdev_new();
    if (!e->dev) {
        err = ENOMEM;
        goto out;
    }
    libevdev_set_device_log_function(e->dev, quiet_log, LIBEVDEV_LOG_ERROR, NULL);
    rc = libevdev_set_fd(e->dev, e->fd);
    if (rc < 0) {
        err = -rc;
        open_error(diag, path, err);
        goto out;
    }
    if (!libevdev_has_event_type(e->dev, EV_KEY)) {
        err = EINVAL;
        tt_diag_add(diag, TT_ERROR, path, 0, "'%s' has no keys: it is not the keypad",
                    tt_evdev_name(e));
        goto out;
    }
    if (!keys_present(e->dev, km))
        tt_diag_add(diag, TT_WARNING, path, 0,
                    "'%s' has none of the keys of the keymap '%s': is this the keypad, and the "
                    "keymap for it? (evtest shows each device's keys)",
                    tt_evdev_name(e), tt_keymap_name(km));
    if (flags & TT_EVDEV_GRAB) {
        rc = libevdev_grab(e->dev, LIBEVDEV_GRAB);
        if (rc < 0) {
            err = -rc;
            tt_diag_add(diag, TT_ERROR, path, 0,
                        "cannot take the keypad for this program alone: %s%s", strerror(err),
                        err == EBUSY ? " (another program has it: is a second kiosk running?)"
                                     : "");
            goto out;
        }
        e->grabbed = true;
    }
    *ep = e;
    e = NULL;
out:
    tt_evdev_close(e);
    return err;
}

int tt_evdev_fd(const struct tt_evdev *e)
{
    return e->fd;
}

const char *tt_evdev_name(const struct tt_evdev *e)
{
    const char *name = libevdev_get_name(e->dev);
    return name ? name : "";
}

int tt_evdev_read(struct tt_evdev *e, int *keys, size_t max)
{
    size_t n = 0;
    while (n < max) {
        struct input_event ev;
        int flag = e->syncing ? LIBEVDEV_READ_FLAG_SYNC : LIBEVDEV_READ_FLAG_NORMAL;
        int rc = libevdev_next_event(e->dev, flag, &ev);
        if (rc == -EAGAIN) {
            if (!e->syncing)
                break;   /* nothing more waiting */
            e->syncing = false; /* replay over: back to normal events */
            continue;
        }
        if (rc == -EINTR)
            continue;
        if (rc < 0)
            return n ? (int)n : rc; /* -ENODEV: unplugged; the next read says so again */
        if (rc == LIBEVDEV_READ_STATUS_SYNC && !e->syncing) {
            e->syncing = true; /* ev is the SYN_DROPPED itself; the replay comes next */
            continue;
        }
        int key = tt_evdev_translate(e->km, &ev);
        if (key >= 0)
            keys[n++] = key;
    }
    return (int)n;
}

void tt_evdev_close(struct tt_evdev *e)
{
    if (!e)
        return;
    if (e->grabbed)
        libevdev_grab(e->dev, LIBEVDEV_UNGRAB);
    libevdev_free(e->dev);
    if (e->fd >= 0)
        close(e->fd);
    free(e);
}

/* ---- Finding the keypad ---------------------------------------------------------------------- */

static bool has_letters(const struct libevdev *dev)
{
    return libevdev_has_event_code(dev, EV_KEY, KEY_A) == 1 ||
           libevdev_has_event_code(dev, EV_KEY, KEY_Q) == 1 ||
           libevdev_has_event_code(dev, EV_KEY, KEY_Z) == 1;
}

int tt_evdev_find(char *path, size_t size, const struct tt_keymap *km, tt_diag *diag)
{
    static const char dir_path[] = "/dev/input";
    int err = ENOENT;
    int best_keys = 0;
    bool best_letters = true;
    unsigned best_num = 0;
    char best_name[256] = "";
    bool denied = false;
    DIR *dir = opendir(dir_path);

    if (!dir) {
        tt_diag_add(diag, TT_ERROR, dir_path, 0,
                    "no input devices here (%s): plug in the keypad, or use the terminal's "
                    "keys", strerror(errno));
        return ENOENT;
    }
    struct dirent *de;
    while ((de = readdir(dir))) {
        unsigned num;
        char tail;
        if (sscanf(de->d_name, "event%u%c", &num, &tail) != 1)
            continue;
        char p[64];
        snprintf(p, sizeof(p), "%s/event%u", dir_path, num);
        int fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            denied |= errno == EACCES || errno == EPERM;
            continue;
        }
        struct libevdev *dev = libevdev_new();
        if (dev)
            libevdev_set_device_log_function(dev, quiet_log, LIBEVDEV_LOG_ERROR, NULL);
        if (dev && libevdev_set_fd(dev, fd) == 0) {
            int keys = keys_present(dev, km);
            bool letters = has_letters(dev);
            bool better = keys > best_keys ||
                          (keys == best_keys && keys > 0 &&
                           ((best_letters && !letters) ||
                            (best_letters == letters && num < best_num)));
            if (better) {
                best_keys = keys;
                best_letters = letters;
                best_num = num;
                const char *name = libevdev_get_name(dev);
                snprintf(best_name, sizeof(best_name), "%s", name ? name : "");
            }
        }
        libevdev_free(dev);
        close(fd);
    }
    closedir(dir);

    if (best_keys) {
        if ((size_t)snprintf(path, size, "%s/event%u", dir_path, best_num) >= size)
            return ENAMETOOLONG;
        tt_diag_add(diag, TT_NOTE, path, 0, "the keypad: '%s' (%d of its keys are in use)",
                    best_name, best_keys);
        return 0;
    }
    if (denied) {
        err = EACCES;
        tt_diag_add(diag, TT_ERROR, dir_path, 0,
                    "not allowed to read the input devices: add the kiosk's user to the "
                    "'input' group (sudo usermod -aG input USER), then log in again");
    } else {
        tt_diag_add(diag, TT_ERROR, dir_path, 0,
                    "no input device has the keypad's keys: is it plugged in? (evtest lists "
                    "the devices and their keys)");
    }
    return err;
}
