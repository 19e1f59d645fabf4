/*
 * Embedding tonetree: a program of your own that loads a menu, runs one call through it and
 * pulls the call's audio, using only the public header and the installed library:
 *
 *     cc embed.c $(pkg-config --cflags --libs tonetree) -o embed
 *     ./embed MENU "KEYS" [OUT.raw]
 *
 * The call (tt_call) joins the session to the prompt store, the player and lookups; this
 * program is its driver, and owns only a clock and an output. The output here is a file (or
 * nothing) taking 20 ms blocks, as a telephone line would; the clock is the audio itself, the
 * frames pulled so far. Each key is pressed once the call waits for one. Every event is printed
 * as a transcript line (the call writes them). It prints the seconds of audio and ends with
 * status 0 when the call ended (the end key, or the menu's own end).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tonetree.h>

#define RATE 16000
#define BLOCK (RATE / 50) /* 20 ms */

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
    tt_call *call = NULL;
    int rc = 1;
    long long frames = 0; /* the call's clock: samples played so far */

    if (!d || tt_menu_load(&m, argv[1], d) || tt_phrases_load_all(m, NULL, ph, d))
        goto out;
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_prompts_dir(m)};
    struct tt_call_opts co = {.rate = RATE, .end_mode = TT_END_GOODBYE,
                              .volume = TT_CALL_VOLUME_LEVEL, .transcript = stdout};
    if (tt_store_new(&store, &so, d) || tt_call_new(&call, m, ph, store, &co, d) ||
        tt_call_start(call, 0))
        goto out;

    /* An hour of audio at most: a call that never ends is a bug to report, not to wait for. */
    while (!tt_call_ended(call) && frames < 3600LL * RATE) {
        tt_ms now = (tt_ms)(frames * 1000 / RATE);
        if (tt_call_busy(call)) {
            /* A lookup runs, or a clip is being made: offline, wait for it (time stands
             * still, as in `tonetree render`). A live driver would go on playing instead. */
            int fds[2];
            struct pollfd p[2];
            size_t n = tt_call_fds(call, fds);
            for (size_t i = 0; i < n; i++)
                p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
            poll(p, n, tt_call_poll_ms(call));
            if (tt_call_step(call, now))
                goto out;
            continue;
        }
        if (tt_session_waiting(tt_call_session(call))) {
            while (*keys == ' ')
                keys++;
            if (*keys && tt_call_key(call, *keys++, now))
                goto out;
        }
        int16_t block[BLOCK];
        tt_call_pull(call, block, BLOCK);
        if (raw)
            fwrite(block, sizeof(int16_t), BLOCK, raw);
        frames += BLOCK;
        now = (tt_ms)(frames * 1000 / RATE);
        /* Nothing is held after the file: what is pulled is heard. Then the session's own
         * time (pauses, the warning after a silence, its end) runs on. */
        if (tt_call_heard(call, 0, now) || tt_call_step(call, now))
            goto out;
    }
    printf("audio: %.2f s at %d Hz; the call %s\n", (double)frames / RATE, RATE,
           tt_call_ended(call) ? "ended" : "did not end");
    rc = tt_call_ended(call) ? 0 : 1;
out:
    tt_diag_print(d, stderr);
    tt_call_free(call);
    tt_store_free(store);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    tt_diag_free(d);
    if (raw)
        fclose(raw);
    return rc;
}
