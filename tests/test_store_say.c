/*
 * tt_store_say, the one way drivers get audio for what a session says: public words are kept
 * (in memory and in the disk cache), a listener's own words never are. A kiosk that answers a
 * thousand people's case numbers must hold no more memory, and have no more files in its
 * cache, than one that answered none.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testlib.h"

#define RATE 48000

static const char menu_ini[] = "[tonetree]\nstart = main\n"
                               "[main]\ntitle = the main menu\ntext = Welcome.\n";

static size_t files_in(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static struct tt_event answer(char *buf, size_t size, int i, enum tt_privacy privacy)
{
    snprintf(buf, size, "Your next hearing is on day %d, at %d in the morning, in room %d.",
             i % 28 + 1, i % 12 + 1, i);
    struct tt_event ev = {.type = TT_EV_SAY, .node = 0, .lang = 0, .part = TT_PART_ENGINE,
                          .speed = 100, .text = buf, .privacy = privacy};
    return ev;
}

#define ANSWERS 40

static void many_distinct_answers_leave_the_store_and_its_cache_as_they_were(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    tt_menu *m = tl_menu(menu_ini);
    tt_diag *d = tt_diag_new();
    tt_store *s = NULL;
    struct tt_store_opts so = {.rate = RATE, .cache_dir = dir};
    assert_int_equal(tt_store_new(&s, &so, d), 0);
    char text[128];
    const struct tt_clip *c;
    struct tt_store_stats before, after;
    tt_store_stats(s, &before);
    size_t files = files_in(dir);
    /* 40, not hundreds: the measure is exact (the store's own counts and the files on disk),
     * so one kept answer would show; each is a few seconds of speech synthesized and
     * normalized at 48 kHz, which on a loaded 2-core machine under ASan adds up. */
    for (int i = 0; i < ANSWERS; i++) {
        struct tt_event ev = answer(text, sizeof(text), i, i % 2 ? TT_PERSONAL : TT_SENSITIVE);
        assert_int_equal(tt_store_say(s, m, &ev, &c), 0);
        assert_true(c->personal && c->frames > RATE); /* a sentence of some seconds */
        tt_store_release(s, c);
    }
    tt_store_stats(s, &after);
    print_message("%d answers: the store holds %u clips (%zu bytes) before and %u (%zu) after; "
                  "%zu cache files before and %zu after\n",
                  ANSWERS, before.clips, before.bytes, after.clips, after.bytes, files, files_in(dir));
    assert_int_equal(after.clips, before.clips);
    assert_int_equal(after.bytes, before.bytes);
    assert_int_equal(files_in(dir), files);
    assert_int_equal(after.disk_hits, 0);
    /* the control: the same sentences as public words are kept, so the measure can see it */
    for (int i = 0; i < 20; i++) {
        struct tt_event ev = answer(text, sizeof(text), i, TT_PUBLIC);
        assert_int_equal(tt_store_say(s, m, &ev, &c), 0);
        assert_false(c->personal);
        tt_store_release(s, c);
    }
    tt_store_stats(s, &after);
    print_message("20 public sentences: %u clips, %zu bytes; %zu cache files\n", after.clips,
                  after.bytes, files_in(dir));
    assert_int_equal(after.clips, before.clips + 20);
    assert_true(after.bytes > before.bytes + 20 * (size_t)RATE * 2);
    assert_int_equal(files_in(dir), files + 2 * 20); /* at the store's rate and the engine's */
    tt_store_free(s);
    tt_diag_free(d);
    tt_menu_free(m);
    tl_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_distinct_answers_leave_the_store_and_its_cache_as_they_were),
    };
    return cmocka_run_group_tests_name("store say", tests, NULL, NULL);
}
