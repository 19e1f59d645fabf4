/*
 * Keymap files: the shipped keymaps load and map their keys; every mistake names its line.
 * Also the evdev side of keymaps: which input events become keys (tt_evdev_translate), and
 * the errors of opening something that is not a keypad. Reading a real device needs
 * /dev/input (or /dev/uinput to make one), which a build machine may not have.
 * A keymap named on the command line may be anything: a FIFO or a device is refused at once
 * (those tests end themselves with alarm() if the load hangs).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libevdev/libevdev.h>

#include "base/diag.h"
#include "input/evdev.h"
#include "input/keymap.h"

/* Write text to a fresh temporary file; the caller unlinks and frees the path. */
static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/tonetree-keymap-XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

/* Load a keymap from text, expecting it to fail; returns the diagnostics (caller frees). */
static tt_diag *load_bad(const char *text)
{
    char *path = write_temp(text);
    tt_diag *d = tt_diag_new();
    struct tt_keymap *k = (void *)1;
    assert_int_equal(tt_keymap_load(&k, path, d), EINVAL);
    assert_null(k);
    assert_true(tt_diag_count(d, TT_ERROR) >= 1);
    unlink(path);
    free(path);
    return d;
}

/* Fail unless some error is on this line and contains both words (b may be NULL). */
static void expect_error(const tt_diag *d, int line, const char *a, const char *b)
{
    for (size_t i = 0; i < tt_diag_len(d); i++) {
        const struct tt_diag_msg *m = tt_diag_get(d, i);
        if (m->sev == TT_ERROR && m->line == line && strstr(m->text, a) &&
            (!b || strstr(m->text, b)))
            return;
    }
    tt_diag_print(d, stderr);
    fail_msg("no error on line %d with '%s' and '%s'", line, a, b ? b : "");
}

static unsigned code(const char *name)
{
    int c = libevdev_event_code_from_name(EV_KEY, name);
    assert_true(c > 0);
    return (unsigned)c;
}

static void the_usb_numpad_keymap_maps_the_whole_keypad(void **state)
{
    (void)state;
    struct tt_keymap *k;
    tt_diag *d = tt_diag_new();
    int err = tt_keymap_load(&k, "keymaps/usb-numpad.ini", d);
    tt_diag_print(d, stderr);
    assert_int_equal(err, 0);
    assert_string_equal(tt_keymap_name(k), "Plain USB numeric keypad");
    char name[32];
    for (int i = 0; i <= 9; i++) {
        snprintf(name, sizeof(name), "KEY_KP%d", i);
        assert_int_equal(tt_keymap_lookup(k, code(name)), '0' + i);
    }
    assert_int_equal(tt_keymap_lookup(k, code("KEY_KPASTERISK")), '*');
    assert_int_equal(tt_keymap_lookup(k, code("KEY_KPSLASH")), '#');
    assert_int_equal(tt_keymap_lookup(k, code("KEY_KPENTER")), TT_KEY_SELECT);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_KPPLUS")), TT_KEY_LOUDER);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_KPMINUS")), TT_KEY_SOFTER);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_KPDOT")), TT_KEY_REPEAT);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_NUMLOCK")), TT_KEY_HELP);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_BACKSPACE")), TT_KEY_BACK);
    assert_int_equal(tt_keymap_count(k), 18);
    /* Keys it does not name, and codes out of range, are unmapped. */
    assert_int_equal(tt_keymap_lookup(k, code("KEY_A")), -1);
    assert_int_equal(tt_keymap_lookup(k, 0), -1);
    assert_int_equal(tt_keymap_lookup(k, 100000), -1);
    assert_int_equal(tt_diag_count(d, TT_ERROR) + tt_diag_count(d, TT_WARNING), 0);
    tt_keymap_free(k);
    tt_diag_free(d);
}

static void the_ez_access_keymap_maps_arrows_select_back_and_help(void **state)
{
    (void)state;
    struct tt_keymap *k;
    tt_diag *d = tt_diag_new();
    int err = tt_keymap_load(&k, "keymaps/ez-access.ini", d);
    tt_diag_print(d, stderr);
    assert_int_equal(err, 0);
    assert_non_null(strstr(tt_keymap_name(k), "EZ Access"));
    assert_int_equal(tt_keymap_lookup(k, code("KEY_UP")), TT_KEY_UP);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_DOWN")), TT_KEY_DOWN);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_ENTER")), TT_KEY_SELECT);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_KPENTER")), TT_KEY_SELECT);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_RIGHT")), TT_KEY_SELECT);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_LEFT")), TT_KEY_BACK);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_BACKSPACE")), TT_KEY_BACK);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_HELP")), TT_KEY_HELP);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_F1")), TT_KEY_HELP);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_VOLUMEUP")), TT_KEY_LOUDER);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_VOLUMEDOWN")), TT_KEY_SOFTER);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_ESC")), -1);
    tt_keymap_free(k);
    tt_diag_free(d);
}

static void names_are_read_in_any_case_and_values_forgive_case_and_quotes(void **state)
{
    (void)state;
    char *path = write_temp("[KeyMap]\n"
                            "key_kp1 = 1\n"
                            "Key_Up = UP\n"
                            "BTN_0 = \" Select \"\n"
                            "KEY_KPSLASH = '#'   # quoted either way\n"
                            "KEY_X = \\\n"
                            "   exit\n");
    struct tt_keymap *k;
    tt_diag *d = tt_diag_new();
    int err = tt_keymap_load(&k, path, d);
    tt_diag_print(d, stderr);
    assert_int_equal(err, 0);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_KP1")), '1');
    assert_int_equal(tt_keymap_lookup(k, code("KEY_UP")), TT_KEY_UP);
    assert_int_equal(tt_keymap_lookup(k, code("BTN_0")), TT_KEY_SELECT);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_KPSLASH")), '#');
    assert_int_equal(tt_keymap_lookup(k, code("KEY_X")), TT_KEY_EXIT);
    assert_string_equal(tt_keymap_name(k), path); /* no name =: the path stands in */
    tt_keymap_free(k);
    tt_diag_free(d);
    unlink(path);
    free(path);
}

static void an_unknown_key_name_is_named_with_its_line_and_close_names(void **state)
{
    (void)state;
    tt_diag *d = load_bad("; keypad\n"
                          "[keymap]\n"
                          "KEY_KP1 = 1\n"
                          "KEY_KP11 = 2\n"
                          "KP3 = 3\n"
                          "KEY_KPENTR = select\n"
                          "KEY_NOTHING_LIKE_THIS_AT_ALL = 4\n");
    expect_error(d, 4, "'KEY_KP11' is not a Linux input key name", "did you mean KEY_KP1");
    expect_error(d, 4, "evtest", NULL);
    expect_error(d, 5, "'KP3' is not a Linux input key name", "did you mean KEY_KP3?");
    expect_error(d, 6, "KEY_KPENTR", "KEY_KPENTER");
    expect_error(d, 7, "KEY_NOTHING_LIKE_THIS_AT_ALL", NULL);
    assert_int_equal(tt_diag_count(d, TT_ERROR), 4);
    tt_diag_free(d);
}

static void an_unknown_engine_key_lists_the_valid_ones(void **state)
{
    (void)state;
    tt_diag *d = load_bad("[keymap]\n"
                          "KEY_KP1 = 1\n"
                          "KEY_KPENTER = selct\n"
                          "KEY_KP2 = 12\n");
    expect_error(d, 3, "'selct' is not an engine key", "did you mean 'select'?");
    expect_error(d, 3, "0 to 9, *, \"#\"", "up, down, select, back, help, repeat, louder, "
                                            "softer, slower, faster, pause, exit");
    expect_error(d, 4, "'12' is not an engine key", NULL);
    tt_diag_free(d);
}

static void an_unquoted_hash_is_caught_with_the_fix(void **state)
{
    (void)state;
    tt_diag *d = load_bad("[keymap]\n"
                          "KEY_KPSLASH = #\n"
                          "KEY_KP1 =\n");
    expect_error(d, 2, "KEY_KPSLASH has no engine key", "KEY_KPSLASH = \"#\"");
    expect_error(d, 3, "KEY_KP1 has no engine key after '='", NULL);
    tt_diag_free(d);
}

static void a_key_mapped_twice_names_both_lines(void **state)
{
    (void)state;
    tt_diag *d = load_bad("[keymap]\n"
                          "KEY_KP1 = 1\n"
                          "KEY_KP2 = 2\n"
                          "key_kp1 = 3\n"
                          "BTN_SOUTH = up\n"
                          "BTN_A = down\n");
    expect_error(d, 4, "KEY_KP1 is mapped twice", "already on line 2");
    /* BTN_A is another name for BTN_SOUTH: the same physical key. */
    expect_error(d, 6, "mapped twice", "already on line 5");
    assert_int_equal(tt_diag_count(d, TT_ERROR), 2);
    tt_diag_free(d);
}

static void an_empty_keymap_is_refused(void **state)
{
    (void)state;
    tt_diag *d = load_bad("; nothing yet\n"
                          "[keymap]\n"
                          "name = Nothing\n");
    expect_error(d, 2, "the keymap is empty", "KEY_KP1 = 1");
    tt_diag_free(d);
    d = load_bad("; no section at all\n");
    expect_error(d, 0, "no [keymap] section", NULL);
    tt_diag_free(d);
    d = load_bad("");
    expect_error(d, 0, "no [keymap] section", NULL);
    tt_diag_free(d);
}

static void lines_outside_keymap_and_unreadable_lines_are_named(void **state)
{
    (void)state;
    tt_diag *d = load_bad("KEY_KP0 = 0\n"
                          "[keymap]\n"
                          "KEY_KP1 = 1\n"
                          "[other]\n"
                          "KEY_KP2 = 2\n");
    expect_error(d, 1, "'KEY_KP0' comes before [keymap]", NULL);
    expect_error(d, 4, "unknown section [other]", NULL);
    tt_diag_free(d);
    d = load_bad("[keymap]\n"
                 "KEY_KP1 = 1\n"
                 "KEY_KP2 two\n");
    expect_error(d, 3, "not a [section], a name = value or a comment", "'KEY_KP2 two'");
    tt_diag_free(d);
}

static void a_missing_or_binary_file_is_an_error_not_a_crash(void **state)
{
    (void)state;
    struct tt_keymap *k = (void *)1;
    tt_diag *d = tt_diag_new();
    assert_int_equal(tt_keymap_load(&k, "keymaps/no-such-keymap.ini", d), ENOENT);
    assert_null(k);
    assert_non_null(strstr(tt_diag_get(d, 0)->text, "cannot open the keymap"));
    tt_diag_free(d);

    char *path = write_temp("[keymap]\nKEY_KP1 = 1\n");
    FILE *f = fopen(path, "ab");
    fwrite("\0\0\0", 1, 3, f);
    fclose(f);
    d = tt_diag_new();
    assert_int_equal(tt_keymap_load(&k, path, d), EINVAL);
    assert_non_null(strstr(tt_diag_get(d, 0)->text, "NUL"));
    tt_diag_free(d);
    unlink(path);
    free(path);
}

/* Write bytes (NULs and all) to a fresh temporary file; the caller unlinks and frees. */
static char *write_bytes(const char *data, size_t n)
{
    char *path = strdup("/tmp/tonetree-keymap-XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
    return path;
}

static void a_keymap_that_is_a_fifo_or_a_device_is_refused_at_once(void **state)
{
    (void)state;
    char dir[] = "/tmp/tonetree-keymap-dir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fifo[128], zero[128];
    snprintf(fifo, sizeof(fifo), "%s/keymap.ini", dir);
    snprintf(zero, sizeof(zero), "%s/zero.ini", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(symlink("/dev/zero", zero), 0);
    const char *const paths[] = {fifo, zero, "/dev/zero"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct tt_keymap *k = (void *)1;
        tt_diag *d = tt_diag_new();
        alarm(5);
        assert_int_equal(tt_keymap_load(&k, paths[i], d), ENODEV);
        alarm(0);
        assert_null(k);
        expect_error(d, 0, "is a FIFO, a socket or a device, not a regular file", NULL);
        tt_diag_free(d);
    }
    struct tt_keymap *k = (void *)1;
    tt_diag *d = tt_diag_new();
    assert_int_equal(tt_keymap_load(&k, dir, d), EISDIR);
    expect_error(d, 0, "is a folder", NULL);
    tt_diag_free(d);
    unlink(fifo);
    unlink(zero);
    rmdir(dir);
}

static void a_keymap_in_latin1_or_utf16_says_to_save_it_as_utf8(void **state)
{
    (void)state;
    tt_diag *d = load_bad("[keymap]\n"
                          "name = Teclado num\xE9rico\n" /* 2 */
                          "KEY_KP1 = 1\n");
    expect_error(d, 2, "not valid UTF-8", "save the file as UTF-8");
    tt_diag_free(d);
    static const char u16[] = "\xFF\xFE[\0k\0e\0y\0m\0a\0p\0]\0\n\0";
    char *path = write_bytes(u16, sizeof(u16) - 1);
    struct tt_keymap *k = (void *)1;
    d = tt_diag_new();
    assert_int_equal(tt_keymap_load(&k, path, d), EINVAL);
    expect_error(d, 1, "this file is UTF-16: save it as UTF-8", NULL);
    tt_diag_free(d);
    unlink(path);
    free(path);
}

static void a_utf8_byte_order_mark_before_a_keymap_is_skipped(void **state)
{
    (void)state;
    char *path = write_temp("\xEF\xBB\xBF[keymap]\nKEY_KP1 = 1\n");
    struct tt_keymap *k = NULL;
    tt_diag *d = tt_diag_new();
    int err = tt_keymap_load(&k, path, d);
    tt_diag_print(d, stderr);
    assert_int_equal(err, 0);
    assert_int_equal(tt_keymap_lookup(k, code("KEY_KP1")), '1');
    tt_keymap_free(k);
    tt_diag_free(d);
    unlink(path);
    free(path);
}

static void control_characters_in_a_keymap_are_refused_at_their_line(void **state)
{
    (void)state;
    /* The name is shown and logged: an escape sequence there would reach the screen. */
    tt_diag *d = load_bad("[keymap]\n"
                          "name = Keypad\x1B]0;owned\x07\n" /* 2 */
                          "KEY_KP1 = 1\n"
                          "KEY_KP2 = \xE2\x80\xAE" "2\n"); /* 4 */
    expect_error(d, 2, "escape character (ESC)", "column 14");
    expect_error(d, 4, "U+202E RIGHT-TO-LEFT OVERRIDE", NULL);
    tt_diag_free(d);
}

static void a_keymap_section_or_name_written_twice_is_an_error(void **state)
{
    (void)state;
    tt_diag *d = load_bad("[keymap]\n"
                          "name = First\n"
                          "KEY_KP1 = 1\n"
                          "[Keymap]\n"           /* 4 */
                          "name = Second\n"      /* 5 */
                          "KEY_KP2 = 2\n");
    expect_error(d, 4, "[Keymap] was already started on line 1", NULL);
    expect_error(d, 5, "name is set twice (first on line 2)", NULL);
    tt_diag_free(d);
}

static struct input_event event(unsigned type, unsigned code, int value)
{
    struct input_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = (unsigned short)type;
    ev.code = (unsigned short)code;
    ev.value = value;
    return ev;
}

static void only_presses_of_mapped_keys_become_keys(void **state)
{
    (void)state;
    struct tt_keymap *k;
    assert_int_equal(tt_keymap_load(&k, "keymaps/usb-numpad.ini", NULL), 0);
    struct input_event ev = event(EV_KEY, KEY_KP7, 1);
    assert_int_equal(tt_evdev_translate(k, &ev), '7');
    ev = event(EV_KEY, KEY_KPSLASH, 1);
    assert_int_equal(tt_evdev_translate(k, &ev), '#');
    ev = event(EV_KEY, KEY_KPENTER, 1);
    assert_int_equal(tt_evdev_translate(k, &ev), TT_KEY_SELECT);
    /* A release, and the auto-repeat of a key held down, are not presses. */
    ev = event(EV_KEY, KEY_KP7, 0);
    assert_int_equal(tt_evdev_translate(k, &ev), -1);
    ev = event(EV_KEY, KEY_KP7, 2);
    assert_int_equal(tt_evdev_translate(k, &ev), -1);
    /* A key the keymap does not name, and events that are not keys, mean nothing. */
    ev = event(EV_KEY, KEY_A, 1);
    assert_int_equal(tt_evdev_translate(k, &ev), -1);
    ev = event(EV_MSC, MSC_SCAN, 1);
    assert_int_equal(tt_evdev_translate(k, &ev), -1);
    ev = event(EV_SYN, SYN_REPORT, 1);
    assert_int_equal(tt_evdev_translate(k, &ev), -1);
    ev = event(EV_SYN, SYN_DROPPED, 1);
    assert_int_equal(tt_evdev_translate(k, &ev), -1);
    ev = event(EV_LED, LED_NUML, 1);
    assert_int_equal(tt_evdev_translate(k, &ev), -1);
    ev = event(EV_KEY, 0xffff, 1);
    assert_int_equal(tt_evdev_translate(k, &ev), -1);
    tt_keymap_free(k);
}

static void opening_what_is_not_a_keypad_says_what_to_do(void **state)
{
    (void)state;
    struct tt_keymap *k;
    assert_int_equal(tt_keymap_load(&k, "keymaps/usb-numpad.ini", NULL), 0);
    struct tt_evdev *e = (void *)1;
    tt_diag *d = tt_diag_new();
    assert_int_equal(tt_evdev_open(&e, "/dev/input/no-such-event99", k, 0, d), ENOENT);
    assert_null(e);
    assert_non_null(strstr(tt_diag_get(d, 0)->text, "plugged in"));
    tt_diag_clear(d);
    int err = tt_evdev_open(&e, "/dev/null", k, TT_EVDEV_GRAB, d);
    assert_true(err == ENOTTY || err == EINVAL);
    assert_null(e);
    assert_non_null(strstr(tt_diag_get(d, 0)->text, "not an input device"));
    tt_diag_clear(d);
    /* Whatever this machine has, finding answers with a device path or says why not. */
    char path[128];
    err = tt_evdev_find(path, sizeof(path), k, d);
    if (err == 0)
        assert_memory_equal(path, "/dev/input/event", 16);
    else
        assert_true((err == ENOENT || err == EACCES) && tt_diag_count(d, TT_ERROR) == 1);
    tt_evdev_close(NULL);
    tt_diag_free(d);
    tt_keymap_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_usb_numpad_keymap_maps_the_whole_keypad),
        cmocka_unit_test(the_ez_access_keymap_maps_arrows_select_back_and_help),
        cmocka_unit_test(names_are_read_in_any_case_and_values_forgive_case_and_quotes),
        cmocka_unit_test(an_unknown_key_name_is_named_with_its_line_and_close_names),
        cmocka_unit_test(an_unknown_engine_key_lists_the_valid_ones),
        cmocka_unit_test(an_unquoted_hash_is_caught_with_the_fix),
        cmocka_unit_test(a_key_mapped_twice_names_both_lines),
        cmocka_unit_test(an_empty_keymap_is_refused),
        cmocka_unit_test(lines_outside_keymap_and_unreadable_lines_are_named),
        cmocka_unit_test(a_missing_or_binary_file_is_an_error_not_a_crash),
        cmocka_unit_test(a_keymap_that_is_a_fifo_or_a_device_is_refused_at_once),
        cmocka_unit_test(a_keymap_in_latin1_or_utf16_says_to_save_it_as_utf8),
        cmocka_unit_test(a_utf8_byte_order_mark_before_a_keymap_is_skipped),
        cmocka_unit_test(control_characters_in_a_keymap_are_refused_at_their_line),
        cmocka_unit_test(a_keymap_section_or_name_written_twice_is_an_error),
        cmocka_unit_test(only_presses_of_mapped_keys_become_keys),
        cmocka_unit_test(opening_what_is_not_a_keypad_says_what_to_do),
    };
    return cmocka_run_group_tests_name("keymap", tests, NULL, NULL);
}
