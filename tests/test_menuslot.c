/*
 * Menu reload (tt_menu_slot): a changed menu file is loaded beside the one in service and put
 * in service only when all of it worked; a file with errors is refused and the old edition
 * goes on; a call that began on an edition finishes on it; a reload makes only the prompts
 * whose words changed; any number of threads hold and release editions while reloads run
 * (also built under ThreadSanitizer, make tsan). ASan (make asan) checks that an edition lives
 * exactly as long as its last hold.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/diag.h"
#include "testlib.h"

#define RATE 8000

/* Edition A: three nodes, 1 goes to the news. Edition B: four nodes, 1 goes to the weather. */
static const char menu_a[] = "[tonetree]\n"
                             "start = main\n"
                             "prompts = %s\n"
                             "[main]\n"
                             "title = the main menu\n"
                             "text = Welcome to the first edition.\n"
                             "1 = news\n"
                             "2 = hours\n"
                             "[news]\n"
                             "title = the news\n"
                             "text = No news today.\n"
                             "[hours]\n"
                             "title = the hours\n"
                             "text = Open nine to five.\n";
static const char menu_b[] = "[tonetree]\n"
                             "start = main\n"
                             "prompts = %s\n"
                             "[main]\n"
                             "title = the main menu\n"
                             "text = Welcome to the second edition.\n"
                             "1 = weather\n"
                             "2 = hours\n"
                             "3 = news\n"
                             "[weather]\n"
                             "title = the weather\n"
                             "text = Sunny.\n"
                             "[news]\n"
                             "title = the news\n"
                             "text = No news today.\n"
                             "[hours]\n"
                             "title = the hours\n"
                             "text = Open nine to five.\n";
static const char menu_broken[] = "[tonetree]\n"
                                  "start = nowhere\n"
                                  "prompts = %s\n"
                                  "[main]\n"
                                  "title = the main menu\n"
                                  "text = Welcome.\n";

struct fixture {
    char *dir;
    char path[512];
    char prompts[512]; /* tests/prompts, absolute: the menu file lives elsewhere */
    tt_diag *d;
};

static void write_menu(struct fixture *f, const char *fmt, const char *prompts)
{
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fprintf(fp, fmt, prompts ? prompts : f->prompts);
    assert_int_equal(fclose(fp), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->dir = tl_tmpdir();
    snprintf(f->path, sizeof(f->path), "%s/menu.ini", f->dir);
    char cwd[256];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(f->prompts, sizeof(f->prompts), "%s/tests/prompts", cwd);
    f->d = tt_diag_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tl_rmtree(f->dir);
    free(f->dir);
    tt_diag_free(f->d);
    free(f);
    return 0;
}

static tt_menu_slot *slot_on(struct fixture *f, const char *fmt, const char *lang)
{
    write_menu(f, fmt, NULL);
    struct tt_menu_slot_opts o = {.lang = lang};
    tt_menu_slot *s = NULL;
    int err = tt_menu_slot_new(&s, f->path, &o, f->d);
    if (err)
        tt_diag_print(f->d, stderr);
    assert_int_equal(err, 0);
    return s;
}

static bool said(const tt_diag *d, enum tt_severity sev, const char *words)
{
    for (size_t i = 0; i < tt_diag_len(d); i++) {
        const struct tt_diag_msg *m = tt_diag_get(d, i);
        if (m->sev == sev && strstr(m->text, words))
            return true;
    }
    return false;
}

static void a_reload_puts_a_new_edition_in_service_and_a_held_one_lives_on(void **state)
{
    struct fixture *f = *state;
    tt_menu_slot *s = slot_on(f, menu_a, NULL);
    assert_int_equal(tt_menu_slot_generation(s), 1);
    const struct tt_edition *a = tt_menu_slot_hold(s);
    assert_int_equal(a->generation, 1);
    assert_int_equal(tt_menu_node_count(a->menu), 3);

    write_menu(f, menu_b, NULL);
    assert_int_equal(tt_menu_slot_reload(s, f->d), 0);
    assert_int_equal(tt_menu_slot_generation(s), 2);
    const struct tt_edition *b = tt_menu_slot_hold(s);
    assert_int_equal(b->generation, 2);
    assert_int_equal(tt_menu_node_count(b->menu), 4);
    assert_true(tt_menu_find(b->menu, "weather") >= 0);
    /* The held edition is untouched: its menu and phrases are still there to be read. */
    assert_int_equal(tt_menu_node_count(a->menu), 3);
    assert_true(tt_menu_find(a->menu, "weather") < 0);
    assert_string_equal(tt_menu_node_id(a->menu, tt_menu_find(a->menu, "news")), "news");
    assert_non_null(a->phrases[0]);
    tt_menu_slot_release(s, a); /* its last hold: freed here (ASan would see a later use) */
    tt_menu_slot_release(s, b);
    assert_int_equal(tt_diag_count(f->d, TT_ERROR), 0);
    tt_menu_slot_free(s);
}

static void a_file_with_errors_is_refused_and_the_old_edition_stays(void **state)
{
    struct fixture *f = *state;
    tt_menu_slot *s = slot_on(f, menu_a, NULL);

    write_menu(f, menu_broken, NULL);
    assert_int_equal(tt_menu_slot_reload(s, f->d), EINVAL);
    assert_true(said(f->d, TT_ERROR, "nowhere")); /* the file's own fault, with its line */
    bool lined = false;
    for (size_t i = 0; i < tt_diag_len(f->d); i++)
        lined |= tt_diag_get(f->d, i)->line == 2;
    assert_true(lined);
    assert_int_equal(tt_menu_slot_generation(s), 1);
    const struct tt_edition *e = tt_menu_slot_hold(s);
    assert_int_equal(tt_menu_node_count(e->menu), 3);
    tt_menu_slot_release(s, e);

    /* Gone, or emptied while being written: refused the same way. */
    assert_int_equal(unlink(f->path), 0);
    tt_diag_clear(f->d);
    assert_int_not_equal(tt_menu_slot_reload(s, f->d), 0);
    assert_true(tt_diag_count(f->d, TT_ERROR) > 0);
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fclose(fp);
    tt_diag_clear(f->d);
    assert_int_not_equal(tt_menu_slot_reload(s, f->d), 0);
    assert_int_equal(tt_menu_slot_generation(s), 1);

    /* Mended, it is taken. */
    write_menu(f, menu_b, NULL);
    assert_int_equal(tt_menu_slot_reload(s, f->d), 0);
    assert_int_equal(tt_menu_slot_generation(s), 2);
    tt_menu_slot_free(s);
}

static void every_edition_must_have_the_language_asked_for(void **state)
{
    struct fixture *f = *state;
    static const char both[] = "[tonetree]\n"
                               "start = main\n"
                               "prompts = %s\n"
                               "languages = en es\n"
                               "[main]\n"
                               "title.en = the main menu\n"
                               "title.es = el menú principal\n"
                               "text.en = Welcome.\n"
                               "text.es = Bienvenido.\n";
    tt_menu_slot *s = slot_on(f, both, "es");
    const struct tt_edition *e = tt_menu_slot_hold(s);
    assert_int_equal(e->lang, 1);
    assert_string_equal(tt_menu_lang(e->menu, (size_t)e->lang), "es");
    tt_menu_slot_release(s, e);

    write_menu(f, menu_a, NULL); /* English only */
    assert_int_equal(tt_menu_slot_reload(s, f->d), EINVAL);
    assert_true(said(f->d, TT_ERROR, "no language 'es'"));
    assert_int_equal(tt_menu_slot_generation(s), 1);
    tt_menu_slot_free(s);
}

/* A call's view of its session: where key 1 took it. */
struct heard {
    const tt_menu *m;
    char went[64];
};

static void on_event(void *arg, const struct tt_event *ev, tt_ms now)
{
    (void)now;
    struct heard *h = arg;
    if (ev->type == TT_EV_GO)
        snprintf(h->went, sizeof(h->went), "%s", tt_menu_node_id(h->m, ev->node));
}

static void pull(tt_call *c, tt_ms *now, tt_ms ms)
{
    int16_t buf[RATE / 50];
    for (tt_ms end = *now + ms; *now < end; *now += 20) {
        assert_int_equal(tt_call_step(c, *now), 0);
        tt_call_pull(c, buf, RATE / 50);
        assert_int_equal(tt_call_heard(c, 0, *now), 0);
    }
}

static void a_call_finishes_on_its_edition_and_a_reload_makes_only_what_changed(void **state)
{
    struct fixture *f = *state;
    tt_menu_slot *s = slot_on(f, menu_a, NULL);
    tt_store *store = NULL;
    struct tt_store_opts so = {.rate = RATE, .prompts_dir = tt_menu_slot_prompts_dir(s)};
    assert_int_equal(tt_store_new(&store, &so, f->d), 0);
    assert_int_equal(tt_menu_slot_prepare(s, store, NULL, NULL), 0);
    struct tt_store_stats before, after;
    tt_store_stats(store, &before);
    assert_true(before.synthesized > 5);

    const struct tt_edition *a = tt_menu_slot_hold(s);
    struct heard h = {.m = a->menu};
    struct tt_call_opts co = {.rate = RATE, .end_mode = TT_END_GOODBYE, .on_event = on_event,
                              .arg = &h};
    tt_call *c = NULL;
    tt_ms now = 0;
    assert_int_equal(tt_call_new(&c, a->menu, a->phrases, store, &co, f->d), 0);
    assert_int_equal(tt_call_start(c, now), 0);
    pull(c, &now, 500);

    /* B differs from A in the welcome and in one new node: the rest is in the store already. */
    write_menu(f, menu_b, NULL);
    assert_int_equal(tt_menu_slot_reload(s, f->d), 0);
    tt_store_stats(store, &after);
    unsigned made = after.synthesized - before.synthesized;
    /* the new welcome, the weather's text, its choices line, the main menu's new choices and
     * what help says of them: a handful, not the whole menu again */
    assert_true(made >= 2 && made <= 8); /* 3 when written; all 36 again would fail */

    /* The call that began on A goes on with A: its 1 is still the news. */
    assert_int_equal(tt_call_key(c, '1', now), 0);
    pull(c, &now, 200);
    assert_string_equal(h.went, "news");
    tt_call_free(c);
    tt_menu_slot_release(s, a);

    /* A new call starts on B, where 1 is the weather. */
    const struct tt_edition *b = tt_menu_slot_hold(s);
    h = (struct heard){.m = b->menu};
    now = 0;
    assert_int_equal(tt_call_new(&c, b->menu, b->phrases, store, &co, f->d), 0);
    assert_int_equal(tt_call_start(c, now), 0);
    pull(c, &now, 500);
    assert_int_equal(tt_call_key(c, '1', now), 0);
    pull(c, &now, 200);
    assert_string_equal(h.went, "weather");
    tt_call_free(c);
    tt_menu_slot_release(s, b);

    /* The store reads recordings from the folder it was opened on: a menu that moves its
     * prompts folder is refused rather than half followed. */
    write_menu(f, menu_b, f->dir);
    tt_diag_clear(f->d);
    assert_int_equal(tt_menu_slot_reload(s, f->d), EINVAL);
    assert_true(said(f->d, TT_ERROR, "prompts folder moved"));
    assert_int_equal(tt_menu_slot_generation(s), 2);

    tt_menu_slot_free(s);
    tt_store_free(store);
}

/* ---- many holders, reloads beside them ---- */

#define HOLDERS 4
#define HOLDS 3000
#define RELOADS 30

struct holder {
    tt_menu_slot *s;
    int wrong; /* editions whose menu was not the one their generation says */
    unsigned seen_max;
};

static void *hold_often(void *arg)
{
    struct holder *h = arg;
    for (int i = 0; i < HOLDS; i++) {
        const struct tt_edition *e = tt_menu_slot_hold(h->s);
        /* odd generations are A (3 nodes), even ones B (4) */
        size_t want = e->generation % 2 ? 3 : 4;
        if (tt_menu_node_count(e->menu) != want || tt_menu_find(e->menu, "hours") < 0)
            h->wrong++;
        if (e->generation > h->seen_max)
            h->seen_max = e->generation;
        tt_menu_slot_release(h->s, e);
    }
    return NULL;
}

static void holders_on_four_threads_never_see_a_half_made_edition(void **state)
{
    struct fixture *f = *state;
    tt_menu_slot *s = slot_on(f, menu_a, NULL);
    struct holder h[HOLDERS];
    pthread_t t[HOLDERS];
    for (int i = 0; i < HOLDERS; i++) {
        h[i] = (struct holder){.s = s};
        assert_int_equal(pthread_create(&t[i], NULL, hold_often, &h[i]), 0);
    }
    for (int r = 0; r < RELOADS; r++) {
        write_menu(f, r % 2 ? menu_a : menu_b, NULL);
        assert_int_equal(tt_menu_slot_reload(s, f->d), 0);
    }
    for (int i = 0; i < HOLDERS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(h[i].wrong, 0);
    }
    assert_int_equal(tt_menu_slot_generation(s), RELOADS + 1);
    tt_menu_slot_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            a_reload_puts_a_new_edition_in_service_and_a_held_one_lives_on, setup, teardown),
        cmocka_unit_test_setup_teardown(a_file_with_errors_is_refused_and_the_old_edition_stays,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(every_edition_must_have_the_language_asked_for, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            a_call_finishes_on_its_edition_and_a_reload_makes_only_what_changed, setup,
            teardown),
        cmocka_unit_test_setup_teardown(holders_on_four_threads_never_see_a_half_made_edition,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
