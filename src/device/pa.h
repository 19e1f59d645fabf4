/* PortAudio housekeeping shared by the kiosk's output and the line's duplex stream. */
#ifndef TT_PA_H
#define TT_PA_H

#include <portaudio.h>
#include <stdbool.h>

#include "tonetree.h"

/** Take a reference to PortAudio, starting it (quietly) for the first user. ENODEV when
 *  ALSA has no usable configuration (PortAudio 19.6 would abort), EIO when it will not start.
 *  no_device is the message to give in that case. */
int tt_pa_acquire(const char *no_device, tt_diag *diag);
void tt_pa_release(void);
/** Restart PortAudio to see devices that came back (only when the caller is its only user). */
int tt_pa_rescan(const char *no_device, tt_diag *diag);
/** PortAudio's words for an error, or the host's when it has some. */
const char *tt_pa_error(PaError pe);

/* What a caller needs of a device, and how to name such devices in messages. */
struct tt_pa_need {
    bool input;              /* it must also record (the line) */
    const char *one, *many;  /* "audio output device", "audio output devices" */
    const char *no_device;   /* the message when there is none at all */
};

/** The device: the default (NULL or ""), a number, or the one whose name contains want
 *  (case does not matter; an exact name wins). 0, ENODEV (none), or EINVAL (ambiguous). */
int tt_pa_find_device(const char *want, const struct tt_pa_need *need, PaDeviceIndex *devp,
                      tt_diag *diag);

#endif
