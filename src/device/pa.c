/*
 * PortAudio housekeeping: PortAudio is one library state per process, so starting and
 * stopping it is counted here for every part of tonetree that opens a stream; the ALSA and
 * JACK chatter it causes is silenced once; and devices are chosen by the same rules (the
 * default, a number, or part of a name) whoever asks.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT, to reach JACK's message hooks without linking JACK */
#include <alsa/asoundlib.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "device/pa.h"

static pthread_mutex_t pa_lock = PTHREAD_MUTEX_INITIALIZER;
static int pa_users; /* streams and listings holding a reference */
static bool pa_up;   /* Pa_Initialize succeeded and Pa_Terminate has not run since */

static void alsa_quiet(const char *file, int line, const char *func, int err, const char *fmt,
                       ...)
{
    (void)file, (void)line, (void)func, (void)err, (void)fmt;
}

static void jack_quiet(const char *msg)
{
    (void)msg;
}

/*
 * Pa_Initialize probes every ALSA plugin and the JACK server, and both libraries print what
 * they fail to find (about a hundred lines on a stock machine). Those are not errors for us:
 * a missing device is reported once, plainly, through the diag. JACK comes in as a dependency
 * of libportaudio, so its hooks are looked up in the running process instead of linked.
 */
static void quiet_sound_libraries(void)
{
    snd_lib_error_set_handler(alsa_quiet);
    void (*set_error)(void (*)(const char *));
    void (*set_info)(void (*)(const char *));
    *(void **)&set_error = dlsym(RTLD_DEFAULT, "jack_set_error_function");
    *(void **)&set_info = dlsym(RTLD_DEFAULT, "jack_set_info_function");
    if (set_error)
        set_error(jack_quiet);
    if (set_info)
        set_info(jack_quiet);
}

/*
 * PortAudio 19.6 asserts (aborts the whole program) while listing ALSA devices when ALSA's
 * configuration lists no 'default' or 'dmix' PCM, e.g. when /usr/share/alsa/alsa.conf is
 * missing or ALSA_CONFIG_PATH points at an empty file. Check first, and report it instead.
 */
static bool alsa_config_usable(void)
{
    snd_config_t *node;
    if (snd_config_update() < 0 || !snd_config)
        return false;
    return snd_config_search(snd_config, "pcm.default", &node) == 0 ||
           snd_config_search(snd_config, "pcm.dmix", &node) == 0;
}

static void no_alsa_config(const char *no_device, tt_diag *diag)
{
    tt_diag_add(diag, TT_ERROR, NULL, 0, "%s", no_device);
    tt_diag_add(diag, TT_NOTE, NULL, 0,
                "the sound system (ALSA) has no 'default' device in its configuration: is "
                "/usr/share/alsa/alsa.conf missing, or ALSA_CONFIG_PATH pointing elsewhere?");
}

/* Bring PortAudio up if it is down. Called with pa_lock held. */
static int pa_start(const char *no_device, tt_diag *diag)
{
    if (pa_up)
        return 0;
    quiet_sound_libraries();
    if (!alsa_config_usable()) {
        no_alsa_config(no_device, diag);
        return ENODEV;
    }
    PaError pe = Pa_Initialize();
    if (pe != paNoError) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot start the audio system: %s",
                    Pa_GetErrorText(pe));
        return EIO;
    }
    pa_up = true;
    return 0;
}

/* Take a reference to PortAudio, starting it for the first user. */
int tt_pa_acquire(const char *no_device, tt_diag *diag)
{
    pthread_mutex_lock(&pa_lock);
    int err = pa_start(no_device, diag);
    if (err == 0)
        pa_users++;
    pthread_mutex_unlock(&pa_lock);
    return err;
}

void tt_pa_release(void)
{
    pthread_mutex_lock(&pa_lock);
    if (pa_users > 0 && --pa_users == 0 && pa_up) {
        Pa_Terminate();
        pa_up = false;
    }
    pthread_mutex_unlock(&pa_lock);
}

/*
 * PortAudio lists devices once, at Pa_Initialize: to see a device that came back, start it
 * again. Only possible when the caller is the only user (others may have streams open). The
 * caller keeps its reference either way; if PortAudio cannot come back up now, the next
 * rescan tries again.
 */
int tt_pa_rescan(const char *no_device, tt_diag *diag)
{
    pthread_mutex_lock(&pa_lock);
    if (pa_users == 1 && pa_up) {
        Pa_Terminate();
        pa_up = false;
    } else if (pa_up) {
        tt_diag_add(diag, TT_NOTE, NULL, 0,
                    "audio devices were not rescanned: another part of the program uses them");
    }
    int err = pa_start(no_device, diag);
    pthread_mutex_unlock(&pa_lock);
    return err;
}

const char *tt_pa_error(PaError pe)
{
    if (pe == paUnanticipatedHostError) {
        const PaHostErrorInfo *h = Pa_GetLastHostErrorInfo();
        if (h && h->errorText && *h->errorText)
            return h->errorText;
    }
    return Pa_GetErrorText(pe);
}

static bool is_number(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

static bool usable(const PaDeviceInfo *info, const struct tt_pa_need *need)
{
    return info && info->maxOutputChannels >= 1 && (!need->input || info->maxInputChannels >= 1);
}

/* Which device: the default, an index, or the one whose name matches. */
int tt_pa_find_device(const char *want, const struct tt_pa_need *need, PaDeviceIndex *devp,
                      tt_diag *diag)
{
    int count = Pa_GetDeviceCount();
    if (!want || !*want) {
        PaDeviceIndex d = need->input ? Pa_GetDefaultInputDevice() : Pa_GetDefaultOutputDevice();
        if (count <= 0 || d == paNoDevice || !usable(Pa_GetDeviceInfo(d), need)) {
            tt_diag_add(diag, TT_ERROR, NULL, 0, "%s", need->no_device);
            return ENODEV;
        }
        *devp = d;
        return 0;
    }
    if (is_number(want)) {
        long i = strtol(want, NULL, 10);
        const PaDeviceInfo *info = i < count ? Pa_GetDeviceInfo((PaDeviceIndex)i) : NULL;
        if (!usable(info, need)) {
            tt_diag_add(diag, TT_ERROR, NULL, 0,
                        "there is no %s number %s: tonetree devices lists them", need->one,
                        want);
            return ENODEV;
        }
        *devp = (PaDeviceIndex)i;
        return 0;
    }
    PaDeviceIndex found = paNoDevice;
    int matches = 0;
    for (PaDeviceIndex i = 0; i < count; i++) {
        const PaDeviceInfo *info = Pa_GetDeviceInfo(i);
        if (!usable(info, need) || !contains_nocase(info->name, want))
            continue;
        if (strcasecmp(info->name, want) == 0) { /* an exact name wins over partial ones */
            *devp = i;
            return 0;
        }
        if (matches++ == 0)
            found = i;
    }
    if (matches == 1) {
        *devp = found;
        return 0;
    }
    if (matches == 0) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "no %s matches '%s': tonetree devices lists them",
                    need->one, want);
        return ENODEV;
    }
    tt_diag_add(diag, TT_ERROR, NULL, 0,
                "%d %s match '%s': give more of the name, or its number "
                "(tonetree devices lists them)", matches, need->many, want);
    return EINVAL;
}
