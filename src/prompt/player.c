/*
 * The player turns "play this clip" and "stop" into frames. It is the only place audio is
 * cut, so the fade that keeps barge-in from clicking lives here once for every driver. It
 * works on memory the prompt store already holds and never allocates, so a driver may call
 * it from wherever its real-time constraints allow.
 */
#include <string.h>

#include "prompt/player.h"

void tt_player_init(struct tt_player *p, int rate)
{
    *p = (struct tt_player){0};
    p->fade = (size_t)rate * TT_FADE_MS / 1000;
    if (p->fade == 0)
        p->fade = 1;
    if (p->fade > TT_FADE_MAX)
        p->fade = TT_FADE_MAX;
    p->gain = 1.0f;
}

void tt_player_stop(struct tt_player *p)
{
    if (!p->pcm)
        return;
    size_t left = p->frames - p->pos;
    p->tail_len = left < p->fade ? left : p->fade;
    memcpy(p->tail, p->pcm + p->pos, p->tail_len * sizeof(*p->tail));
    p->tail_pos = 0;
    p->pcm = NULL;
    p->frames = p->pos = 0;
}

void tt_player_drop(struct tt_player *p)
{
    p->pcm = NULL;
    p->frames = p->pos = 0;
    memset(p->tail, 0, p->tail_len * sizeof(*p->tail));
    p->tail_len = p->tail_pos = 0;
}

void tt_player_play(struct tt_player *p, const struct tt_clip *c)
{
    tt_player_stop(p);
    p->pcm = c->pcm;
    p->frames = c->frames;
    p->pos = 0;
}

size_t tt_player_left(const struct tt_player *p)
{
    return p->pcm ? p->frames - p->pos : 0;
}

static int16_t clamp16(float v)
{
    if (v > 32767.0f)
        return 32767;
    if (v < -32768.0f)
        return -32768;
    return (int16_t)v;
}

void tt_player_pull(struct tt_player *p, int16_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = 0.0f;
        if (p->pcm) {
            v += p->pcm[p->pos++];
            if (p->pos == p->frames)
                p->pcm = NULL;
        }
        if (p->tail_pos < p->tail_len) {
            /* Linear ramp from full to zero across the fade, whatever is left of the clip. */
            float k = 1.0f - (float)(p->tail_pos + 1) / (float)p->fade;
            v += k * p->tail[p->tail_pos++];
        }
        out[i] = clamp16(v * p->gain);
    }
}
