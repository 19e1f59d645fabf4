/*
 * The rate a menu's prompts are made at before any resampling (tt_prompts_rate in tonetree.h).
 *
 * A store keeps every prompt at its output rate, so the rate is most of a kiosk's memory: the
 * guide's prompts take about 100 MB at 48 kHz and a third of that at the 16 kHz its English
 * voice speaks. Nothing is gained by keeping speech above the rate it was made at; a device
 * that cannot play that rate is the only reason to resample, and then the device's own rate is
 * the one to use. So the question "what rate do this menu's prompts need?" has a cheap answer:
 * the highest of its voices' rates and its recordings' rates (read from their headers),
 * capped at 48 kHz, which is all a listener can hear.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "prompt/recfile.h"
#include "prompt/tts.h"

#define MOST_RATE 48000

/* A recording the store would play for a node of m: <node>.<ext> or <node>.short.<ext>, with
 * an extension prompt.c looks for. A stray file in the folder is not one. */
static bool is_recording(const tt_menu *m, const char *name)
{
    static const char *const ext[] = {".wav",  ".flac", ".ogg", ".oga", ".opus",
                                      ".mp3",  ".aiff", ".aif", ".au"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
        size_t e = strlen(ext[i]);
        if (n <= e || strcmp(name + n - e, ext[i]) || n - e >= 256)
            continue;
        char id[256];
        memcpy(id, name, n - e);
        id[n - e] = '\0';
        size_t k = strlen(id);
        if (k > 6 && !strcmp(id + k - 6, ".short"))
            id[k - 6] = '\0';
        return tt_menu_find(m, id) >= 0;
    }
    return false;
}

/* The highest rate of the recordings in one language's folder (0: none, or no folder). A
 * recording that cannot be read is left to the store, which says why when it meets it. */
static int recordings_rate(const tt_menu *m, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int best = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !is_recording(m, e->d_name))
            continue;
        char path[4096], why[256];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
            continue; /* no recording the store could find either */
        struct tt_recfile r;
        if (tt_recfile_open(&r, path, TT_RECFILE_MAX_BYTES, why, sizeof(why)))
            continue;
        if (r.info.samplerate > best)
            best = r.info.samplerate;
        tt_recfile_close(&r);
    }
    closedir(d);
    return best;
}

int tt_prompts_rate(const tt_menu *m, const char *prompts_dir, tt_diag *diag)
{
    if (!prompts_dir)
        prompts_dir = tt_menu_prompts_dir(m);
    int best = 8000;
    for (size_t i = 0; i < tt_menu_lang_count(m); i++) {
        struct tt_tts_voice v;
        int err = tt_tts_voice_parse(&v, tt_menu_voice(m, i), diag);
        if (err)
            return -err;
        int rate = tt_tts_voice_rate(&v);
        char dir[4096];
        int rec = 0;
        if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", prompts_dir, tt_menu_lang(m, i)) <
            sizeof(dir))
            rec = recordings_rate(m, dir);
        if (rec > rate)
            rate = rec;
        if (rate > best)
            best = rate;
    }
    return best > MOST_RATE ? MOST_RATE : best;
}
