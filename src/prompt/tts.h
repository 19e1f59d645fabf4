/*
 * Speech synthesis backends: text in, mono int16 samples out at the engine's own rate.
 *
 * Two engines, both process-wide libraries: flite (English; its 16 kHz voices are the most
 * intelligible we measured) and espeak-ng (every other language). A voice is named
 * "engine:name" ("flite:kal16", "espeak-ng:es"); tt_tts_voice_parse checks the name once, so
 * that a bad voice is reported before any text is spoken. Resampling and caching are the
 * prompt store's business, not this module's.
 */
#ifndef TT_TTS_H
#define TT_TTS_H

#include <stddef.h>
#include <stdint.h>

#include "tonetree.h"

/* Speed in percent of the engine's normal rate: the listener's "slower/faster" setting. */
#define TT_TTS_SPEED_NORMAL 100
/* What "normal" is: words per minute. The engines' own defaults run at 165 to 195, too fast
 * for a frightened listener hearing a court's words for the first time; about 150 is the pace
 * of a calm, careful reader. Each voice is slowed from its own measured rate to this one
 * (bench_pace measures the result on the guide). */
#define TT_TTS_PACE_WPM 150
#define TT_TTS_PACE_TAG "pace150" /* in cache keys: a new pace is new audio */
#define TT_TTS_SPEED_MIN 25
#define TT_TTS_SPEED_MAX 400

enum tt_tts_engine { TT_TTS_FLITE, TT_TTS_ESPEAK };

struct tt_tts_voice {
    enum tt_tts_engine engine;
    const char *engine_name; /* "flite" or "espeak-ng": the part before the colon */
    char name[64];           /* the voice within the engine, canonical ("kal" becomes "kal16") */
    const char *version;     /* the engine's version and pace: new versions speak differently */
};

/**
 * Check a voice name such as "flite:kal16" or "espeak-ng:es".
 * @param v      filled in on success
 * @param spec   "engine:name"
 * @param diag   receives an error naming the voice and the voices there are
 * @return 0, EINVAL for an unknown engine or voice, or EIO when an engine cannot start
 */
int tt_tts_voice_parse(struct tt_tts_voice *v, const char *spec, tt_diag *diag);

/**
 * The rate tt_tts_speak gives for this voice, without speaking: flite's voices here are all
 * 16 kHz ("kal" is kal16), espeak-ng's are the engine's rate (22050 Hz; asked of the engine
 * once it has started).
 */
int tt_tts_voice_rate(const struct tt_tts_voice *v);

/**
 * Speak text (UTF-8) with a voice.
 * @param v          a voice from tt_tts_voice_parse
 * @param text       the words, spoken as given
 * @param speed_pct  TT_TTS_SPEED_NORMAL (100) is the engine's normal speed
 * @param pcm        set to malloc'd mono samples (NULL when there are none); free() them
 * @param frames     set to the number of samples (may be 0, e.g. for punctuation only)
 * @param rate       set to the engine's sample rate (flite 16000, espeak-ng 22050)
 * @param diag       receives what went wrong
 * @return 0, EINVAL (bad speed or voice), ENOMEM, or EIO when the engine fails
 */
int tt_tts_speak(const struct tt_tts_voice *v, const char *text, int speed_pct, int16_t **pcm,
                 size_t *frames, int *rate, tt_diag *diag);

#endif
