/*
 * The driver of scripts/bench-compare.sh: one program, built once against an older tree of
 * tonetree and once against this one, so that a before/after comparison runs the same code on
 * both sides and only the library differs. It prints one "measure value" line per figure, the
 * median of a few runs, for the script to gather over alternating rounds.
 *
 * The figures are those of bench_session and bench_menu, with nothing else between them:
 *   - time to first audio of the guide (menu, phrases, store, session, the first words' clip),
 *     from a warm disk cache (every start after the first) and from a cold one (synthesis);
 *   - barge-in as the render driver handles a key: old trees drive the session and the player
 *     themselves (drv_render.c did), newer ones through tt_call_key, which now does it for
 *     every driver; so this measures what the call layer costs on the key's path;
 *   - barge-in as bench_session measures it (session and player only, the same code on both
 *     sides), which tells a change in the session or the player from one in the call layer;
 *   - loading a 10,000-node menu: tt_menu_load in all, and our share of it (the whole less
 *     iniparser's reading of the chunks, as bench_menu reports it).
 *
 * It uses the public header and, for the two figures that need them, the player and the menu
 * loader's private header, whose calls are the same in every tree since 87980a9; only their
 * folder moved (src/ became one folder per layer), which __has_include finds. BC_HAS_CALL,
 * given by the script, says whether the tree has tt_call.
 *
 * The times of a few hundred nanoseconds (a key) sit near the clock's own cost, which is
 * printed beside them (timer_us: two clock readings back to back); for those, and to see past
 * a busy machine, `instr` runs each measured step once more inside a function of its own
 * (instr_*), for the script to count its instructions with callgrind --toggle-collect.
 *
 * Run by the script; by hand:
 *   compare_driver gen-menu FILE NODES        write the big menu (the shape bench_menu writes)
 *   compare_driver run GUIDE CACHE BIGMENU    print the figures (CACHE must be warm)
 *   compare_driver instr GUIDE CACHE BIGMENU  each step once in instr_first_audio,
 *                                             instr_key and instr_menu_load
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iniparser/iniparser.h>

#include "bench.h"
#include "tonetree.h"
#if __has_include("core/menu_priv.h")
#include "core/menu_priv.h"
#include "prompt/player.h"
#else
#include "menu_priv.h"
#include "player.h"
#endif

#ifndef BC_HAS_CALL
#error "BC_HAS_CALL must say whether this tree has tt_call (scripts/bench-compare.sh sets it)"
#endif

#define RATE 16000
/* Runs per round for each figure: the script's rounds give the spread, so a round only needs
 * a median that one slow run does not move. Cold runs synthesize, so there are fewer. */
#define RUNS_WARM 11
#define RUNS_COLD 3
#define RUNS_KEY 101
#define RUNS_MENU 5

/* The 10,000-node menu: node i offers keys 1-3 to nodes 3i+1..3i+3, and the leaves are page
 * sequences of four (next = the following leaf), as bench_menu writes it, so that the figure
 * here can be read beside bench_menu's. */
static int gen_menu(const char *path, int nodes)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return errno;
    bench_write_tree_menu(f, nodes, "compare_driver");
    int err = ferror(f) ? EIO : 0;
    if (fclose(f) && !err)
        err = EIO;
    return err;
}

/* Everything from nothing loaded to the first words' audio in memory, as a driver asks for
 * it (tt_store_say). Returns ms, or -1. *synth gets what the store had to synthesize. */
static double first_audio(const char *guide, const char *cache, unsigned *synth, tt_diag *d)
{
    double t0 = bench_now_ms(), t = -1;
    tt_menu *m = NULL;
    tt_phrases *ph[8] = {0};
    tt_store *store = NULL;
    tt_session *s = NULL;
    if (tt_menu_load(&m, guide, d) || tt_phrases_load_all(m, NULL, ph, d))
        goto out;
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_prompts_dir(m),
                               .cache_dir = cache};
    if (tt_store_new(&store, &so, d) || tt_session_new(&s, m, ph, NULL))
        goto out;
    tt_session_start(s, 0);
    struct tt_event ev;
    while (tt_session_next_event(s, &ev)) {
        if (ev.type != TT_EV_SAY)
            continue;
        const struct tt_clip *clip;
        if (tt_store_say(store, m, &ev, &clip))
            goto out;
        if (clip->frames)
            t = bench_now_ms() - t0;
        tt_store_release(store, clip);
        break;
    }
    struct tt_store_stats st;
    tt_store_stats(store, &st);
    *synth += st.synthesized;
out:
    tt_session_free(s);
    tt_store_free(store);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    return t;
}

static int bench_first_audio(const char *guide, const char *cache, tt_diag *d)
{
    double vw[RUNS_WARM], vc[RUNS_COLD];
    unsigned synth_warm = 0, synth_cold = 0;
    for (int i = 0; i < RUNS_WARM; i++)
        if ((vw[i] = first_audio(guide, cache, &synth_warm, d)) < 0)
            return 1;
    for (int i = 0; i < RUNS_COLD; i++) {
        char cold[4200], cmd[4300];
        snprintf(cold, sizeof(cold), "%s-cold-%d-%d", cache, (int)getpid(), i);
        vc[i] = first_audio(guide, cold, &synth_cold, d);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cold);
        if (vc[i] < 0 || system(cmd) != 0)
            return 1;
    }
    printf("first_audio_warm_ms %.3f\n", bench_median(vw, RUNS_WARM));
    printf("first_audio_cold_ms %.3f\n", bench_median(vc, RUNS_COLD));
    /* Not a figure but a check the script prints: a warm run that synthesized was not warm. */
    printf("warm_synthesized %u\n", synth_warm);
    return 0;
}

/* ---- Barge-in as the render driver handles a key ---------------------------------------- */

#if BC_HAS_CALL
struct render {
    tt_call *c;
};

static int render_start(struct render *r, const tt_menu *m, tt_phrases *const *ph,
                        tt_store *store, tt_diag *d)
{
    /* drv_render's options: no transcript here, as a render without --transcript. */
    struct tt_call_opts co = {.rate = RATE, .volume = TT_CALL_VOLUME_RELATIVE};
    int err = tt_call_new(&r->c, m, ph, store, &co, d);
    return err ? err : tt_call_start(r->c, 0);
}

static void render_pull(struct render *r, int16_t *buf, size_t n)
{
    tt_call_pull(r->c, buf, n);
}

static int render_key(struct render *r, int key, tt_ms now)
{
    return tt_call_key(r->c, key, now);
}

static void render_end(struct render *r)
{
    tt_call_free(r->c);
}
#else
/* Before tt_call, drv_render drove the session and the player itself: on a SAY the clip in
 * play is cut and the new one asked of the store, on a STOP it is cut. This is that path, and
 * nothing else (no transcript, no lookup: key 1 of the guide needs neither). */
struct render {
    const tt_menu *m;
    tt_store *store;
    tt_session *s;
    struct tt_player p;
    const struct tt_clip *clip;
};

static void render_cut(struct render *r)
{
    tt_player_stop(&r->p);
    tt_store_release(r->store, r->clip);
    r->clip = NULL;
}

static int render_drain(struct render *r, tt_ms now)
{
    struct tt_event ev;
    int err = 0;
    while (!err && tt_session_next_event(r->s, &ev)) {
        if (ev.type == TT_EV_STOP) {
            render_cut(r);
        } else if (ev.type == TT_EV_SAY) {
            render_cut(r);
            if ((err = tt_store_say(r->store, r->m, &ev, &r->clip)))
                break;
            if (r->clip->frames == 0) {
                tt_store_release(r->store, r->clip);
                r->clip = NULL;
                tt_session_done(r->s, now);
            } else {
                tt_player_play(&r->p, r->clip);
            }
        }
    }
    return err;
}

static int render_start(struct render *r, const tt_menu *m, tt_phrases *const *ph,
                        tt_store *store, tt_diag *d)
{
    (void)d;
    *r = (struct render){.m = m, .store = store};
    tt_player_init(&r->p, RATE);
    int err = tt_session_new(&r->s, m, ph, NULL);
    if (err)
        return err;
    tt_session_start(r->s, 0);
    return render_drain(r, 0);
}

static void render_pull(struct render *r, int16_t *buf, size_t n)
{
    tt_player_pull(&r->p, buf, n);
}

static int render_key(struct render *r, int key, tt_ms now)
{
    tt_session_key(r->s, key, now);
    return render_drain(r, now);
}

static void render_end(struct render *r)
{
    tt_player_drop(&r->p);
    tt_store_release(r->store, r->clip);
    tt_session_free(r->s);
}
#endif

/* The welcome plays; half a second in, key 1: the CPU time until the key is handled (the cut
 * begun and the answer's first clip in play). The store is shared by every run and warmed by
 * a first run that is not counted, so the answer's clip is a hit in memory, as it is in a
 * render from the second time the same prompt is asked for. */
static double key_render_us(const tt_menu *m, tt_phrases *const *ph, tt_store *store,
                            tt_diag *d)
{
    static int16_t buf[RATE];
    double v[RUNS_KEY];
    for (int i = -1; i < RUNS_KEY; i++) {
        struct render r;
        if (render_start(&r, m, ph, store, d))
            return -1;
        render_pull(&r, buf, RATE / 2);
        double t0 = bench_now_ms();
        int err = render_key(&r, '1', 500);
        double t = (bench_now_ms() - t0) * 1000.0;
        render_end(&r);
        if (err)
            return -1;
        if (i >= 0)
            v[i] = t;
    }
    return bench_median(v, RUNS_KEY);
}

/* bench_session's barge-in: the session and the player alone, the answer not asked for. Also
 * gives how long the fade still plays (5 ms by design). */
static double key_session_player_us(const tt_menu *m, tt_phrases *const *ph, tt_store *store,
                                    double *fade_ms)
{
    static int16_t buf[RATE];
    double v[RUNS_KEY];
    size_t silent_after = 0;
    for (int i = 0; i < RUNS_KEY; i++) {
        tt_session *s = NULL;
        struct tt_player p;
        struct tt_event ev;
        tt_player_init(&p, RATE);
        if (tt_session_new(&s, m, ph, NULL))
            return -1;
        tt_session_start(s, 0);
        const struct tt_clip *clip = NULL;
        while (tt_session_next_event(s, &ev))
            if (ev.type == TT_EV_SAY && !clip && !tt_store_say(store, m, &ev, &clip))
                tt_player_play(&p, clip);
        tt_player_pull(&p, buf, RATE / 2);
        double t0 = bench_now_ms();
        tt_session_key(s, '1', 500);
        while (tt_session_next_event(s, &ev))
            if (ev.type == TT_EV_STOP)
                tt_player_stop(&p);
        v[i] = (bench_now_ms() - t0) * 1000.0;
        tt_player_pull(&p, buf, RATE / 10);
        size_t last = 0;
        for (size_t k = 0; k < RATE / 10; k++)
            if (buf[k])
                last = k + 1;
        if (last > silent_after)
            silent_after = last;
        tt_store_release(store, clip);
        tt_session_free(s);
    }
    *fade_ms = silent_after * 1000.0 / RATE;
    return bench_median(v, RUNS_KEY);
}

static int bench_barge_in(const char *guide, const char *cache, tt_diag *d)
{
    tt_menu *m = NULL;
    tt_phrases *ph[8] = {0};
    tt_store *store = NULL;
    int rc = 1;
    if (tt_menu_load(&m, guide, d) || tt_phrases_load_all(m, NULL, ph, d))
        goto out;
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_prompts_dir(m),
                               .cache_dir = cache};
    if (tt_store_new(&store, &so, d))
        goto out;
    double fade = 0, kr = key_render_us(m, ph, store, d);
    double ks = key_session_player_us(m, ph, store, &fade);
    if (kr < 0 || ks < 0)
        goto out;
    printf("key_render_us %.3f\n", kr);
    printf("key_session_player_us %.3f\n", ks);
    printf("fade_ms %.3f\n", fade);
    double tv[RUNS_KEY];
    for (int i = 0; i < RUNS_KEY; i++) {
        double t0 = bench_now_ms();
        tv[i] = (bench_now_ms() - t0) * 1000.0;
    }
    printf("timer_us %.3f\n", bench_median(tv, RUNS_KEY));
    rc = 0;
out:
    tt_store_free(store);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    return rc;
}

/* ---- Menu load ------------------------------------------------------------------------- */

static int bench_menu_load(const char *path, tt_diag *d)
{
    struct tt_load ld = {.name = path};
    char *data = NULL;
    size_t len = 0;
    long size;
    int rc = 1;
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
        !(data = malloc((size_t)size + 1)) || (len = fread(data, 1, (size_t)size, f)) !=
        (size_t)size || tt_menu_scan(&ld, data, len) || ld.scan.fatal) {
        fprintf(stderr, "compare_driver: cannot read or scan %s\n", path);
        goto out;
    }
    double b[RUNS_MENU], c[RUNS_MENU];
    for (int r = 0; r < RUNS_MENU; r++) {
        tt_menu *m = NULL;
        tt_diag_clear(d);
        double t0 = bench_now_ms();
        int err = tt_menu_load(&m, path, d);
        b[r] = bench_now_ms() - t0;
        tt_menu_free(m);
        struct tt_ini *ini = NULL;
        t0 = bench_now_ms();
        err = err ? err : tt_menu_ini_read(&ld, data, len, &ini);
        c[r] = bench_now_ms() - t0;
        tt_menu_ini_free(ini);
        if (err) {
            fprintf(stderr, "compare_driver: %s did not load (%d)\n", path, err);
            goto out;
        }
    }
    double mb = bench_median(b, RUNS_MENU), mc = bench_median(c, RUNS_MENU);
    printf("menu_load_ms %.3f\n", mb);
    printf("menu_share_ms %.3f\n", mb - mc);
    rc = 0;
out:
    if (f)
        fclose(f);
    tt_menu_scan_free(&ld.scan);
    free(data);
    return rc;
}

/* ---- One of each, for callgrind ------------------------------------------------------- */

/* Each step once more after a first run that is not counted (it pays for what a process does
 * once: the C library's locale, flite's lexicon), in a function callgrind is told to count
 * (--toggle-collect=instr_*). noinline keeps each one a function of its own at -O2. */
__attribute__((noinline)) static double instr_first_audio(const char *guide, const char *cache,
                                                          unsigned *synth, tt_diag *d)
{
    return first_audio(guide, cache, synth, d);
}

__attribute__((noinline)) static int instr_key(struct render *r)
{
    return render_key(r, '1', 500);
}

__attribute__((noinline)) static int instr_menu_load(const char *path, tt_diag *d)
{
    tt_menu *m = NULL;
    int err = tt_menu_load(&m, path, d);
    tt_menu_free(m);
    return err;
}

static int instr(const char *guide, const char *cache, const char *bigmenu, tt_diag *d)
{
    static int16_t buf[RATE];
    unsigned synth = 0;
    tt_menu *m = NULL;
    tt_phrases *ph[8] = {0};
    tt_store *store = NULL;
    int rc = 1;
    if (first_audio(guide, cache, &synth, d) < 0 || instr_first_audio(guide, cache, &synth, d) < 0)
        goto out;
    if (tt_menu_load(&m, guide, d) || tt_phrases_load_all(m, NULL, ph, d))
        goto out;
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_prompts_dir(m),
                               .cache_dir = cache};
    if (tt_store_new(&store, &so, d))
        goto out;
    for (int i = 0; i < 2; i++) {
        struct render r;
        if (render_start(&r, m, ph, store, d))
            goto out;
        render_pull(&r, buf, RATE / 2);
        int err = i ? instr_key(&r) : render_key(&r, '1', 500);
        render_end(&r);
        if (err)
            goto out;
    }
    tt_menu *big = NULL;
    int err = tt_menu_load(&big, bigmenu, d);
    tt_menu_free(big);
    if (err || instr_menu_load(bigmenu, d))
        goto out;
    rc = 0;
out:
    tt_store_free(store);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "gen-menu")) {
        int err = gen_menu(argv[2], atoi(argv[3]));
        if (err)
            fprintf(stderr, "compare_driver: cannot write %s: %s\n", argv[2], strerror(err));
        return err ? 1 : 0;
    }
    bool run = argc == 5 && !strcmp(argv[1], "run");
    if (argc != 5 || (!run && strcmp(argv[1], "instr"))) {
        fprintf(stderr, "usage: %s gen-menu FILE NODES | run|instr GUIDE CACHE BIGMENU\n",
                argv[0]);
        return 2;
    }
    tt_diag *d = tt_diag_new();
    int rc = run ? bench_first_audio(argv[2], argv[3], d) || bench_barge_in(argv[2], argv[3], d) ||
                       bench_menu_load(argv[4], d)
                 : instr(argv[2], argv[3], argv[4], d);
    if (rc)
        tt_diag_print(d, stderr);
    tt_diag_free(d);
    return rc;
}
