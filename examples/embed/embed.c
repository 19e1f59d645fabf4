/*
 * Embedding tonetree: a program of your own that loads a menu, runs one call through it and
 * pulls the call's audio, using only the public header and the installed library:
 *
 *     cc embed.c $(pkg-config --cflags --libs tonetree) -o embed
 *     ./embed MENU "KEYS" [OUT.raw]
 *
 * The session is a pure state machine, so the program owns the clock: here the clock is the
 * audio itself, as in `tonetree render`. Each thing said is fetched from the prompt store as a
 * clip, "played" by copying its samples out (to OUT.raw: 16-bit mono at 16 kHz, if given) and
 * the session is told when it has finished; each key is pressed once the session is waiting
 * for one. Every event is printed as a transcript line. It prints the seconds of audio and ends
 * with status 0 when the call ended (the end key, or the menu's own end).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tonetree.h>

#define RATE 16000

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: embed MENU \"KEYS\" [OUT.raw]\n");
        return 2;
    }
    const char *keys = argv[2];
    FILE *raw = argc > 3 ? fopen(argv[3], "wb") : NULL;
    tt_diag *d = tt_diag_new();
    tt_menu *m = NULL;
    tt_phrases *ph[8] = {0};
    tt_store *store = NULL;
    tt_session *s = NULL;
    int rc = 1;
    long long frames = 0; /* the call's clock: samples played so far */

    if (!d || tt_menu_load(&m, argv[1], d) || tt_phrases_load_all(m, NULL, ph, d))
        goto out;
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_prompts_dir(m)};
    struct tt_session_opts o = {.lang = 0, .end_mode = TT_END_GOODBYE};
    if (tt_store_new(&store, &so, d) || tt_session_new(&s, m, ph, &o))
        goto out;

    tt_session_start(s, 0);
    for (int guard = 0; guard < 10000 && !tt_session_ended(s); guard++) {
        struct tt_event ev;
        bool said = false;
        while (tt_session_next_event(s, &ev)) {
            char *line = tt_event_line(m, &ev);
            if (line)
                printf("%s\n", line);
            free(line);
            if (ev.type != TT_EV_SAY)
                continue;
            const struct tt_clip *clip;
            if (tt_store_say(store, m, &ev, &clip))
                goto out;
            if (raw)
                fwrite(clip->pcm, sizeof(int16_t), clip->frames, raw);
            frames += (long long)clip->frames;
            tt_store_release(store, clip);
            said = true;
        }
        tt_ms now = (tt_ms)(frames * 1000 / RATE);
        if (said) {
            tt_session_done(s, now);
        } else if (tt_session_waiting(s) && *keys) {
            while (*keys == ' ')
                keys++;
            if (*keys)
                tt_session_key(s, *keys++, now);
        } else if (tt_session_deadline(s) != TT_NEVER) {
            /* nothing to say and no key left: let the session's own time run on (a warning,
             * then its end) */
            tt_ms dl = tt_session_deadline(s);
            frames = dl * RATE / 1000;
            tt_session_tick(s, dl);
        } else {
            break;
        }
    }
    printf("audio: %.2f s at %d Hz; the call %s\n", (double)frames / RATE, RATE,
           tt_session_ended(s) ? "ended" : "did not end");
    rc = tt_session_ended(s) ? 0 : 1;
out:
    tt_diag_print(d, stderr);
    tt_session_free(s);
    tt_store_free(store);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    tt_diag_free(d);
    if (raw)
        fclose(raw);
    return rc;
}
