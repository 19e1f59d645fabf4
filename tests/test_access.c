/*
 * Tests for rows of the accessibility conformance report (docs/accessibility.md) that no other
 * test proved on its own:
 *
 *  - The kiosk's screen (what a braille display reads) shows exactly the words the engine says,
 *    in the order it says them, the "Are you still there?" warning included: Section 508
 *    402.2.1 and 402.2.3, the visual half of 407.5, EN 301 549 5.1.3.3. The words said come
 *    from an offline render of the same walk (its transcript's `say` lines are what the render's
 *    audio holds: tests/test_render.c); the kiosk runs with no audio device, which keeps the
 *    audio's timing, with its keys on a pipe. Staff notices in square brackets ("[no audio
 *    output ...]") are shown and not said: the report says so, and they are left out here.
 *  - Every shipped menu offers at most four choices on a node (ISO/IEC 13714's menus of four):
 *    the loader only warns above four, so a menu could ship with more.
 *
 * Each run of the real program has its own folder, its own HOME, TMPDIR and cache, no audio
 * device, and a time limit after which it is killed by its pid.
 */
#define _GNU_SOURCE /* pipe2 in proclib */
#include <glob.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/menu.h"
#include "proclib.h"
#include "testlib.h"

#define MAX_SAID 128

/* A small menu, its words short: the kiosk says them in real time. Two seconds of silence per
 * try (the default is seven) to keep the test short; the warning's logic is the same. kal16:
 * quick to synthesize. */
static const char menu_ini[] =
    "[tonetree]\n"
    "start = main\n"
    "voice.en = flite:kal16\n"
    "timeout = 2\n"
    "[main]\n"
    "title = the main menu\n"
    "text = Welcome.\n"
    "1 = info\n"
    "2 = forms\n"
    "[info]\n"
    "title = the hours\n"
    "text = Open from nine to five.\n"
    "[forms]\n"
    "title = forms\n"
    "text = At the front desk.\n";

/* The walk: a key that is no choice, a choice, then silence long enough for one warning (+S
 * counts from the last key: the page is said in full first). */
#define WALK "7 1 +10"

struct said {
    char *words[MAX_SAID];
    char key_after[MAX_SAID]; /* the key pressed once words[i] has been said, or 0 */
    size_t n;
};

static void said_free(struct said *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->words[i]);
}

/* The `say` lines of a transcript, and the key after each prompt ("T key K" lines). */
static void parse_transcript(char *text, struct said *s)
{
    memset(s, 0, sizeof(*s));
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *ev = strchr(line, ' ');
        assert_non_null(ev);
        ev++;
        if (!strncmp(ev, "say ", 4)) {
            char *words = strchr(ev + 4, ' '); /* after the node id */
            assert_non_null(words);
            assert_true(s->n < MAX_SAID);
            s->words[s->n] = strdup(words + 1);
            assert_non_null(s->words[s->n]);
            s->n++;
        } else if (!strncmp(ev, "key ", 4)) {
            assert_true(s->n > 0);
            s->key_after[s->n - 1] = ev[4];
        }
    }
}

/* The screen's lines as a listener's display gets them: carriage returns and clear-screen
 * codes taken out, the staff's bracketed notices left out. */
static size_t screen_lines(char *b, char **lines, size_t max)
{
    size_t n = 0;
    for (char *line = strtok(b, "\n"); line; line = strtok(NULL, "\n")) {
        char *cr = strchr(line, '\r');
        if (cr)
            *cr = '\0';
        while (line[0] == '\033') { /* ESC [ ... letter */
            char *e = line + 1;
            while (*e && !(*e >= 'A' && *e <= 'Z') && !(*e >= 'a' && *e <= 'z'))
                e++;
            line = *e ? e + 1 : e;
        }
        if (line[0] == '\0' || line[0] == '[')
            continue;
        assert_true(n < max);
        lines[n++] = line;
    }
    return n;
}

static void the_kiosk_screen_shows_exactly_the_words_said_the_warning_too(void **state)
{
    (void)state;
    char top[PATH_MAX];
    assert_non_null(getcwd(top, sizeof(top)));
    char *dir = tl_tmpdir();
    char menu[PATH_MAX + 32], prompts[PATH_MAX + 32], cache[PATH_MAX + 32],
        transcript[PATH_MAX + 32], wav[PATH_MAX + 32], screen[PATH_MAX + 32],
        err[PATH_MAX + 32];
    snprintf(menu, sizeof(menu), "%s/walk.ini", dir);
    snprintf(prompts, sizeof(prompts), "%s/tests/prompts", top);
    snprintf(cache, sizeof(cache), "%s/cache", dir);
    snprintf(transcript, sizeof(transcript), "%s/transcript.txt", dir);
    snprintf(wav, sizeof(wav), "%s/walk.wav", dir);
    snprintf(screen, sizeof(screen), "%s/screen.txt", dir);
    snprintf(err, sizeof(err), "%s/stderr.txt", dir);
    FILE *f = fopen(menu, "w");
    assert_non_null(f);
    fputs(menu_ini, f);
    fclose(f);

    /* What is said: the walk rendered offline, as at a kiosk. */
    const char *render[] = {"tonetree", "render", menu, "--prompts", prompts, "--cache", cache,
                            "--end", "reset", "--keys", WALK, "-o", wav, "--transcript",
                            transcript, NULL};
    int status = tl_proc_finish(
        tl_proc_start(&(struct tl_proc){.argv = render, .in = -1, .err = err, .home = dir,
                                        .tmp = dir}),
        120);
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        char *e = tl_slurp(err);
        fail_msg("render failed:\n%s", e);
    }
    char *text = tl_slurp(transcript);
    struct said s;
    parse_transcript(text, &s);
    free(text);
    /* the walk went as planned: a wrong key named, and the warning after the last key; the
     * comparison goes up to the warning */
    bool named = false;
    size_t warning = 0;
    for (size_t i = 0; i < s.n && !warning; i++) {
        named |= strstr(s.words[i], "7 is not a choice here.") != NULL;
        if (strstr(s.words[i], "Are you still there? Press any key"))
            warning = i + 1;
    }
    if (!named || !warning)
        fail_msg("the render did not walk as planned (%zu lines said)", s.n);

    /* The same walk at the kiosk: each key typed once the screen shows the whole prompt it
     * answers (the last part is then being said: the key cuts it, which changes nothing that
     * is said next). */
    int keys[2];
    tl_key_pipe(keys);
    const char *run[] = {"tonetree", "run", menu, "--prompts", prompts, "--cache", cache, NULL};
    pid_t pid = tl_proc_start(&(struct tl_proc){.argv = run, .in = keys[0], .out = screen,
                                                .err = err, .home = dir, .tmp = dir});
    close(keys[0]);
    size_t at = 0;
    for (size_t i = 0; i < warning; i++) {
        char want[1100];
        snprintf(want, sizeof(want), "%s\n", s.words[i]);
        at = tl_wait_file(screen, want, at, i == 0 ? 60 : 20) + strlen(want);
        if (s.key_after[i]) {
            char k[2] = {s.key_after[i], '\0'};
            tl_type(keys[1], k);
        }
    }
    close(keys[1]); /* the end of the keys ends the kiosk */
    status = tl_proc_finish(pid, 30);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Line for line, what was shown is what was said: nothing more, nothing else. */
    size_t n;
    char *b = tl_read_file(screen, &n);
    char *lines[MAX_SAID * 2];
    size_t nl = screen_lines(b, lines, MAX_SAID * 2);
    assert_true(nl >= warning);
    for (size_t i = 0; i < warning; i++) {
        if (strcmp(lines[i], s.words[i]))
            fail_msg("line %zu on the screen is '%s'; the engine said '%s'", i + 1, lines[i],
                     s.words[i]);
    }
    print_message("%zu lines shown, each the words said at that point, the warning included\n",
                  warning);
    free(b);
    said_free(&s);
    tl_rmtree(dir);
    free(dir);
}

static void every_shipped_menu_offers_at_most_four_choices_a_node(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob("menus/*.ini", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 1);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        tt_menu *m = NULL;
        tt_diag *d = tt_diag_new();
        int err = tt_menu_load(&m, g.gl_pathv[i], d);
        if (err)
            tt_diag_print(d, stderr);
        assert_int_equal(err, 0);
        size_t most = 0;
        for (size_t k = 0; k < m->nnodes; k++) {
            size_t c = 0;
            for (int slot = 0; slot < TT_MAX_CHOICES; slot++)
                c += m->nodes[k].choice[slot] >= 0;
            if (c > 4)
                fail_msg("%s: node '%s' offers %zu choices: group them one level down",
                         g.gl_pathv[i], m->nodes[k].id, c);
            most = c > most ? c : most;
        }
        print_message("%s: %zu nodes, at most %zu choices on one\n", g.gl_pathv[i], m->nnodes,
                      most);
        tt_menu_free(m);
        tt_diag_free(d);
    }
    globfree(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_kiosk_screen_shows_exactly_the_words_said_the_warning_too),
        cmocka_unit_test(every_shipped_menu_offers_at_most_four_choices_a_node),
    };
    return cmocka_run_group_tests_name("access", tests, NULL, NULL);
}
