/*
 * The kiosk (`tonetree run`) end to end, on the real device path, in real time.
 *
 * Each test starts a private PulseAudio server with one null sink ("out", 48 kHz mono s16le,
 * norewinds=1) in a mkdtemp folder (its own XDG_RUNTIME_DIR and HOME, so nothing else on the
 * machine is touched), records the sink's monitor with parec into a raw file, and runs
 * build/tonetree run tests/data/kiosk.ini on a pseudo-terminal, the way a person at the kiosk
 * would: keys are written to the pty master at chosen moments, and every line the kiosk shows
 * (its braille feed) is read back with a CLOCK_MONOTONIC stamp as it arrives. ALSA's pulse
 * plugin sends PortAudio's default output to the server, so what the capture holds is what the
 * listener would have heard.
 *
 * How the audio is checked: PulseAudio passes the stream through the null sink unchanged
 * (checked by hand on Debian 12 and asserted in the first test: same rate, same format, stream
 * volume 100%), so the capture holds exactly clip[i] * tt_volume_gain(level), rounded as
 * audio_out.c rounds. The test synthesizes the same clips through tt_store (same cache, 48 kHz,
 * speed 100, flite:kal16) and finds them in the capture by their samples. That gives the onset
 * of each prompt in capture samples; the moment its text line appeared on the pty gives the
 * same onset in wall time. Both went through the same output latency, so a key written at wall
 * time Tk lands at a known capture sample, and "silent within 30 ms of the key" can be checked
 * on the device path itself.
 *
 * The no-device tests run the kiosk with ALSA_CONFIG_PATH pointing at an empty file and no
 * PulseAudio server: it must say so plainly and carry on with the words; SIGTERM ends it with
 * status 0 and the terminal cooked again; a terminal that hangs up ends it at once (SIGHUP
 * when it is the controlling terminal; status 0, and no busy loop, when it is not).
 *
 * Every wait is bounded (the kiosk's lines, the server coming up, children ending), so a test
 * fails instead of hanging; every child is stopped by its pid (SIGTERM, then SIGKILL). The whole
 * file runs in about 35 s. Without pulseaudio/parec the device tests are skipped, saying why.
 * TONETREE=path runs another build of the command; TT_KIOSK_KEEP=1 keeps each test's folder
 * (capture, log, stderr) and prints its name.
 */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testlib.h"

#define RATE 48000
#define MENU "tests/data/kiosk.ini"
#define VOICE "flite:kal16"
/* Silence on the device: after a cut the callback writes zeros, and the null sink passes them
 * through, so "silent" could be exactly 0; allow a hair in case a server ever dithers. */
#define TINY 2
#define MAX_LINES 256

/* The menu's words the tests look for (tests/data/kiosk.ini, tests/prompts/en/phrases.ini). */
static const char welcome_text[] =
    "Welcome to the kiosk test. This sentence is long enough to be cut off by a key, and to "
    "be said again a little louder, so that the two can be compared.";

extern char **environ;

/* ---- shared by every test: the prompts, prepared once, and the welcome at two volumes ---- */

static struct {
    char *dir;
    char cache[512];
    tt_menu *m;
    tt_phrases *ph[8];
    tt_store *store;
    int16_t *w4, *w5; /* the welcome as the device plays it at volume 4 (default) and 5 */
    size_t wn;
    bool have_pulse;  /* pulseaudio, pactl and parec are installed */
} G;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The program's path (as given when it has a slash, else looked up in PATH). */
static bool find_program(const char *prog, char *buf, size_t size)
{
    if (strchr(prog, '/')) {
        snprintf(buf, size, "%s", prog);
        return access(buf, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        snprintf(buf, size, "%.*s/%s", (int)n, p, prog);
        if (access(buf, X_OK) == 0)
            return true;
        p += n + (end ? 1 : 0);
    }
    return false;
}

static bool in_path(const char *prog)
{
    char buf[1024];
    return find_program(prog, buf, sizeof(buf));
}

/* The same rounding as audio_out.c's callback: what the device is handed at a gain. */
static int16_t scale(int16_t x, float g)
{
    float v = (float)x * g;
    v += v >= 0.0f ? 0.5f : -0.5f;
    if (v > 32767.0f)
        return 32767;
    if (v < -32768.0f)
        return -32768;
    return (int16_t)v;
}

static int16_t *scaled(const struct tt_clip *c, int level)
{
    float g = (float)tt_volume_gain(level);
    int16_t *out = malloc(c->frames * sizeof(*out));
    assert_non_null(out);
    for (size_t i = 0; i < c->frames; i++)
        out[i] = scale(c->pcm[i], g);
    return out;
}

/* Prepare the menu's prompts into a shared cache once, so each kiosk starts warm (well under a
 * second) and the clips the tests look for are the very ones the kiosk reads back. */
static int group_setup(void **state)
{
    (void)state;
    G.have_pulse = in_path("pulseaudio") && in_path("pactl") && in_path("parec");
    G.dir = tl_tmpdir();
    snprintf(G.cache, sizeof(G.cache), "%s/cache", G.dir);
    tt_diag *d = tt_diag_new();
    int err = tt_menu_load(&G.m, MENU, d);
    if (!err)
        err = tt_phrases_load_all(G.m, NULL, G.ph, d);
    struct tt_store_opts so = {
        .rate = RATE, .prompts_dir = G.m ? tt_menu_prompts_dir(G.m) : NULL, .cache_dir = G.cache};
    if (!err)
        err = tt_store_new(&G.store, &so, d);
    if (!err)
        err = tt_store_prepare(G.store, G.m, G.ph, NULL, NULL);
    const struct tt_clip *c = NULL;
    if (!err)
        err = tt_store_get(G.store, "en", VOICE, "main", welcome_text, 100, &c);
    if (err) {
        tt_diag_print(d, stderr);
        tt_diag_free(d);
        return -1;
    }
    tt_diag_free(d);
    G.w4 = scaled(c, TT_VOLUME_DEFAULT);
    G.w5 = scaled(c, TT_VOLUME_DEFAULT + 1);
    G.wn = c->frames;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free(G.w4);
    free(G.w5);
    tt_store_free(G.store);
    tt_phrases_free_all(G.m, G.ph);
    tt_menu_free(G.m);
    tl_rmtree(G.dir);
    free(G.dir);
    return 0;
}

/* ---- children: started with a chosen environment, always stopped by pid ---- */

/* environ without the variables that would lead a child to the real session's sound server or
 * ALSA setup, plus `set` ("NAME=value", NULL-terminated). */
static char **make_env(const char *const *set)
{
    static const char *const drop[] = {"XDG_RUNTIME_DIR=", "HOME=", "ALSA_CONFIG_PATH=",
                                       "PULSE_SERVER=", "PULSE_RUNTIME_PATH=", "PULSE_SINK=",
                                       "PULSE_COOKIE=", "DBUS_SESSION_BUS_ADDRESS=",
                                       "XDG_CONFIG_HOME=", NULL};
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    for (const char *const *s = set; *s; s++)
        n++;
    char **env = calloc(n + 1, sizeof(*env));
    assert_non_null(env);
    for (char **e = environ; *e; e++) {
        bool skip_it = false;
        for (const char *const *d = drop; *d; d++)
            skip_it |= strncmp(*e, *d, strlen(*d)) == 0;
        if (!skip_it)
            env[k++] = strdup(*e);
    }
    for (const char *const *s = set; *s; s++)
        env[k++] = strdup(*s);
    return env;
}

static void free_env(char **env)
{
    for (char **e = env; e && *e; e++)
        free(*e);
    free(env);
}

/*
 * fork + execve. stdin/stdout go to in_fd/out_fd (or /dev/null when -1), stderr to err_fd.
 * With tty set, the child starts a session and opens the pty slave by name for stdin and
 * stdout: with ctty, the pty becomes its controlling terminal, as a login terminal would be;
 * without, it is just a terminal it was handed (as a service might be). Everything is
 * computed before fork: the child only makes async-signal-safe calls.
 */
static pid_t spawn(char *const argv[], char **env, int in_fd, int out_fd, int err_fd,
                   const char *tty, bool ctty)
{
    char path[1024];
    if (!find_program(argv[0], path, sizeof(path)))
        fail_msg("%s is not installed", argv[0]);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    assert_true(devnull >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (tty) {
            setsid();
            int t = open(tty, ctty ? O_RDWR : O_RDWR | O_NOCTTY);
            if (t < 0)
                _exit(126);
            in_fd = out_fd = t;
        }
        dup2(in_fd >= 0 ? in_fd : devnull, 0);
        dup2(out_fd >= 0 ? out_fd : devnull, 1);
        dup2(err_fd >= 0 ? err_fd : devnull, 2);
        for (int fd = 3; fd < 256; fd++)
            close(fd);
        execve(path, argv, env);
        _exit(127);
    }
    close(devnull);
    return pid;
}

/* Wait up to secs for pid to end; true (and *status) when it did. */
static bool wait_bounded(pid_t pid, double secs, int *status)
{
    double until = now_s() + secs;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return true;
        if (r < 0 || now_s() >= until)
            return false;
        usleep(5000);
    }
}

/* SIGTERM, a bounded wait, then SIGKILL: a child never outlives its test. */
static int stop_child(pid_t *pid)
{
    int status = -1;
    if (*pid <= 0)
        return status;
    kill(*pid, SIGTERM);
    if (!wait_bounded(*pid, 3.0, &status)) {
        kill(*pid, SIGKILL);
        waitpid(*pid, &status, 0);
    }
    *pid = 0;
    return status;
}

/* Run a short command to its end (bounded); its exit status, or -1 when it had to be killed. */
static int run_bounded(char *const argv[], char **env, double secs)
{
    pid_t pid = spawn(argv, env, -1, -1, -1, NULL, false);
    int status;
    if (!wait_bounded(pid, secs, &status)) {
        stop_child(&pid);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- the fixture: a folder, a sound server and a recorder, a kiosk on a pty ---- */

struct line {
    char text[1024];
    double t;       /* CLOCK_MONOTONIC when its first byte was read */
};

struct fx {
    char *dir;
    char cap[600], log[600], err[600], pa_log[600];
    char **env;
    pid_t pulse, parec, kiosk;
    int master, slave;      /* the pty; the slave is kept open here to read its termios */
    struct termios tio0;    /* the pty's settings before the kiosk started */
    struct line lines[MAX_LINES];
    size_t nlines;
    char part[1024];        /* a line still arriving */
    size_t npart;
    double part_t;
    int esc;                /* escape-sequence state: 0 text, 1 after ESC, 2 inside CSI */
    char csi[16];
    size_t ncsi;
    double t_clear[16];     /* when the screen-and-scrollback clear (ESC [3J) arrived */
    size_t nclear;
    bool watch_log;         /* look for "reset idle" in the log while pumping */
    double t_idle;          /* when it appeared, or 0 */
    int16_t *pcm;           /* the capture, once loaded */
    size_t npcm;
};

static void path_in(char *buf, size_t size, const struct fx *f, const char *name)
{
    snprintf(buf, size, "%s/%s", f->dir, name);
}

static struct fx *fx_new(void)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->master = f->slave = -1;
    f->dir = tl_tmpdir();
    path_in(f->cap, sizeof(f->cap), f, "cap.raw");
    path_in(f->log, sizeof(f->log), f, "nav.log");
    path_in(f->err, sizeof(f->err), f, "kiosk.err");
    path_in(f->pa_log, sizeof(f->pa_log), f, "pulse.log");
    return f;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* A private sound server with a null sink, made the default, and parec recording its monitor.
 * Returns 0, or -1 (having said why) when the server will not come up in time. */
static int start_audio(struct fx *f)
{
    char run[600], home[600], xdg[700], homev[700];
    path_in(run, sizeof(run), f, "run");
    path_in(home, sizeof(home), f, "home");
    mkdir(run, 0700);
    mkdir(home, 0700);
    snprintf(xdg, sizeof(xdg), "XDG_RUNTIME_DIR=%s", run);
    snprintf(homev, sizeof(homev), "HOME=%s", home);
    const char *set[] = {xdg, homev, NULL};
    f->env = make_env(set);

    int pa_err = open(f->pa_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(pa_err >= 0);
    char *pa[] = {"pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
                  "--use-pid-file=no", "-L", "module-native-protocol-unix", "-L",
                  /* norewinds=1: without it the monitor loses about 1 s when a stream joins */
                  "module-null-sink sink_name=out rate=48000 channels=1 format=s16le "
                  "norewinds=1",
                  NULL};
    f->pulse = spawn(pa, f->env, -1, -1, pa_err, NULL, false);
    close(pa_err);
    /* The server is up when pactl can talk to it: bounded, about 0.2 s here. */
    char *info[] = {"pactl", "info", NULL};
    double until = now_s() + 8.0;
    while (run_bounded(info, f->env, 2.0) != 0) {
        if (now_s() > until || waitpid(f->pulse, NULL, WNOHANG) == f->pulse) {
            char *log = tl_slurp(f->pa_log);
            print_message("pulseaudio did not come up within 8 s; its log:\n%s\n", log);
            free(log);
            return -1;
        }
        usleep(50000);
    }
    char *def[] = {"pactl", "set-default-sink", "out", NULL};
    assert_int_equal(run_bounded(def, f->env, 3.0), 0);

    int cap = open(f->cap, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(cap >= 0);
    /* 20 ms fragments, so the file follows the sink closely (the first test uses its size) */
    char *rec[] = {"parec", "-d", "out.monitor", "--rate=48000", "--channels=1",
                   "--format=s16le", "--latency-msec=20", NULL};
    f->parec = spawn(rec, f->env, -1, cap, -1, NULL, false);
    close(cap);
    /* Recording has begun once the file grows (the sink renders silence all the time). */
    until = now_s() + 5.0;
    while (file_size(f->cap) <= 0) {
        if (now_s() > until) {
            print_message("parec recorded nothing within 5 s\n");
            return -1;
        }
        usleep(10000);
    }
    return 0;
}

static int fx_setup_audio(void **state)
{
    struct fx *f = fx_new();
    *state = f;
    if (!G.have_pulse)
        return 0; /* the test skips itself, saying why */
    return start_audio(f);
}

/* No sound server and an ALSA configuration with no device at all. */
static int fx_setup_no_device(void **state)
{
    struct fx *f = fx_new();
    *state = f;
    char run[600], home[600], conf[600], xdg[700], homev[700], alsa[700];
    path_in(run, sizeof(run), f, "run");
    path_in(home, sizeof(home), f, "home");
    path_in(conf, sizeof(conf), f, "empty-alsa.conf");
    mkdir(run, 0700);
    mkdir(home, 0700);
    FILE *c = fopen(conf, "w");
    assert_non_null(c);
    fclose(c);
    snprintf(xdg, sizeof(xdg), "XDG_RUNTIME_DIR=%s", run);
    snprintf(homev, sizeof(homev), "HOME=%s", home);
    snprintf(alsa, sizeof(alsa), "ALSA_CONFIG_PATH=%s", conf);
    const char *set[] = {xdg, homev, alsa, NULL};
    f->env = make_env(set);
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    stop_child(&f->kiosk);
    stop_child(&f->parec);
    stop_child(&f->pulse);
    if (f->master >= 0)
        close(f->master);
    if (f->slave >= 0)
        close(f->slave);
    free_env(f->env);
    free(f->pcm);
    if (getenv("TT_KIOSK_KEEP")) /* to look at a capture: its folder is kept, and named */
        print_message("kept %s\n", f->dir);
    else
        tl_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void need_pulse(void)
{
    if (!G.have_pulse) {
        print_message("pulseaudio, pactl or parec is not installed (scripts/deps.sh installs "
                      "them): the device-path test is skipped\n");
        skip();
    }
}

static const char *tonetree_bin(void)
{
    const char *b = getenv("TONETREE");
    return b && *b ? b : "build/tonetree";
}

/* Start `tonetree run MENU --cache --log [extra...]` on a fresh pty (its controlling
 * terminal, unless ctty is false). */
static void kiosk_start_on(struct fx *f, const char *menu, const char *const *extra, bool ctty)
{
    const char *bin = tonetree_bin();
    if (access(bin, X_OK) != 0)
        fail_msg("%s is missing: build it first (make %s)", bin, bin);
    f->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    assert_true(f->master >= 0);
    assert_int_equal(grantpt(f->master), 0);
    assert_int_equal(unlockpt(f->master), 0);
    char tty[128];
    snprintf(tty, sizeof(tty), "%s", ptsname(f->master));
    f->slave = open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
    assert_true(f->slave >= 0);
    assert_int_equal(tcgetattr(f->slave, &f->tio0), 0);
    assert_true(f->tio0.c_lflag & ICANON); /* a fresh pty is cooked: the check after means it */

    char *argv[32];
    int n = 0;
    argv[n++] = (char *)bin;
    argv[n++] = "run";
    argv[n++] = (char *)menu;
    argv[n++] = "--cache";
    argv[n++] = G.cache;
    argv[n++] = "--log";
    argv[n++] = f->log;
    argv[n++] = "--log-visits"; /* the timeline, which these tests read; counts: test_privacy */
    for (; extra && *extra && n < 30; extra++)
        argv[n++] = (char *)*extra;
    argv[n] = NULL;
    int err = open(f->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(err >= 0);
    f->kiosk = spawn(argv, f->env, -1, -1, err, tty, ctty);
    close(err);
}

static void kiosk_start(struct fx *f, const char *menu, const char *const *extra)
{
    kiosk_start_on(f, menu, extra, true);
}

/* Bytes from the pty: lines, stamped; escape sequences dropped, screen clears noted. */
static void take(struct fx *f, const char *buf, size_t n, double t)
{
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (f->esc == 1) {
            f->esc = c == '[' ? 2 : 0;
            f->ncsi = 0;
            continue;
        }
        if (f->esc == 2) {
            if (c >= 0x40 && c <= 0x7e) {
                f->csi[f->ncsi] = '\0';
                if (c == 'J' && !strcmp(f->csi, "3") && f->nclear < 16)
                    f->t_clear[f->nclear++] = t;
                f->esc = 0;
            } else if (f->ncsi < sizeof(f->csi) - 1) {
                f->csi[f->ncsi++] = c;
            }
            continue;
        }
        if (c == '\033') {
            f->esc = 1;
        } else if (c == '\r') {
            continue;
        } else if (c == '\n') {
            if (f->nlines < MAX_LINES) {
                struct line *l = &f->lines[f->nlines++];
                snprintf(l->text, sizeof(l->text), "%.*s", (int)f->npart, f->part);
                l->t = f->npart ? f->part_t : t;
            }
            f->npart = 0;
        } else {
            if (!f->npart)
                f->part_t = t;
            if (f->npart < sizeof(f->part) - 1)
                f->part[f->npart++] = c;
        }
    }
}

static void check_log_for_idle(struct fx *f, double t)
{
    if (!f->watch_log || f->t_idle > 0)
        return;
    FILE *l = fopen(f->log, "r");
    if (!l)
        return;
    char buf[256];
    while (fgets(buf, sizeof(buf), l))
        if (strstr(buf, " reset idle"))
            f->t_idle = t;
    fclose(l);
}

/* Read whatever the kiosk prints until `until` (monotonic seconds), in steps of at most 2 ms
 * so that each line's stamp is within a couple of ms of its arrival. */
static void pump(struct fx *f, double until)
{
    for (;;) {
        double t = now_s();
        if (t >= until)
            return;
        int ms = (int)((until - t) * 1000.0);
        struct pollfd p = {.fd = f->master, .events = POLLIN};
        int r = poll(&p, 1, ms < 2 ? ms : 2);
        t = now_s();
        if (r > 0 && (p.revents & POLLIN)) {
            char buf[4096];
            ssize_t got = read(f->master, buf, sizeof(buf));
            if (got > 0)
                take(f, buf, (size_t)got, t);
        }
        check_log_for_idle(f, t);
    }
}

static void dump(const struct fx *f)
{
    for (size_t i = 0; i < f->nlines; i++)
        fprintf(stderr, "    | %8.3f %s\n", f->lines[i].t, f->lines[i].text);
    char *err = file_size(f->err) > 0 ? tl_slurp(f->err) : NULL;
    if (err)
        fprintf(stderr, "    stderr: %s\n", err);
    free(err);
}

/* The first line from index `from` on that contains `what`, waiting up to secs for it. */
static size_t wait_line(struct fx *f, size_t from, const char *what, double secs)
{
    double until = now_s() + secs;
    for (;;) {
        for (size_t i = from; i < f->nlines; i++)
            if (strstr(f->lines[i].text, what))
                return i;
        if (now_s() >= until)
            break;
        pump(f, now_s() + 0.005);
    }
    dump(f);
    fail_msg("no line with '%s' within %.1f s", what, secs);
    return 0;
}

static double press(struct fx *f, const char *bytes)
{
    double t = now_s();
    assert_int_equal(write(f->master, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
    return t;
}

/* Stop the kiosk with SIGTERM (its normal end), then the recorder, and load the capture. */
static int finish(struct fx *f)
{
    pump(f, now_s() + 0.05);
    kill(f->kiosk, SIGTERM);
    int status = -1;
    bool ended = wait_bounded(f->kiosk, 5.0, &status);
    if (!ended)
        stop_child(&f->kiosk);
    f->kiosk = 0;
    if (f->parec > 0) {
        /* parec writes in 20 ms fragments: give the last ones time to land */
        usleep(150000);
        stop_child(&f->parec);
        char *raw = tl_slurp(f->cap);
        f->npcm = (size_t)file_size(f->cap) / 2;
        f->pcm = malloc(f->npcm * 2 + 2);
        assert_non_null(f->pcm);
        memcpy(f->pcm, raw, f->npcm * 2);
        free(raw);
    }
    assert_true(ended);
    return status;
}

/* ---- measuring the capture ---- */

/*
 * Where a clip starts in the capture (its sample 0), searching from sample `from` on; -1 when
 * it is not there. A 50 ms stretch from the clip's first clearly audible sample must match
 * sample for sample (within TINY): the sink passes the stream through unchanged, so this finds
 * a prompt by its content and also proves the volume it was played at.
 */
static long find_clip(const struct fx *f, size_t from, const int16_t *ref, size_t refn)
{
    size_t a = 0;
    while (a < refn && abs(ref[a]) < 30)
        a++;
    size_t w = refn - a < RATE / 20 ? refn - a : RATE / 20;
    assert_true(w > 100);
    for (size_t q = from + a; q + w <= f->npcm; q++) {
        if (abs(f->pcm[q] - ref[a]) > TINY)
            continue;
        size_t i = 1;
        while (i < w && abs(f->pcm[q + i] - ref[a + i]) <= TINY)
            i++;
        if (i == w)
            return (long)(q - a);
    }
    return -1;
}

/* Samples of the capture from `at` on, for n, that differ from ref by more than TINY. */
static size_t mismatches(const struct fx *f, size_t at, const int16_t *ref, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n && at + i < f->npcm; i++)
        bad += abs(f->pcm[at + i] - ref[i]) > TINY;
    return bad;
}

/* The capture sample that was playing at wall time t, given a prompt whose text line appeared
 * at t_line and whose audio begins at capture sample onset: the line and the audio go out
 * together, and the output latency is the same for both ends, so it cancels. */
static size_t at_time(double t, double t_line, long onset)
{
    return (size_t)((double)onset + (t - t_line) * RATE + 0.5);
}

/* A moment, from `min` samples into the clip on, inside a stretch of speech: audible for
 * 40 ms before and 120 ms after, so a key pressed then cuts speech rather than a pause. */
static size_t in_speech(const int16_t *ref, size_t n, size_t min)
{
    size_t blk = RATE / 100;
    for (size_t p = min; p + RATE / 5 < n; p += blk) {
        bool ok = true;
        for (size_t b = p - 4 * blk; ok && b < p + 12 * blk; b += blk)
            ok = tl_rms(ref, b, b + blk) > 60.0;
        if (ok)
            return p;
    }
    fail_msg("no stretch of speech in the clip after %zu", min);
    return 0;
}

/* The first sample from which the capture stays silent up to `to`. */
static size_t silent_from(const struct fx *f, size_t from, size_t to)
{
    size_t s = from;
    for (size_t i = from; i < to && i < f->npcm; i++)
        if (abs(f->pcm[i]) > TINY)
            s = i + 1;
    return s;
}

static double ms(double samples)
{
    return samples * 1000.0 / RATE;
}

/* After SIGTERM the terminal must have its settings back (cooked, echoing), not stay raw. */
static void expect_terminal_restored(const struct fx *f)
{
    struct termios now;
    assert_int_equal(tcgetattr(f->slave, &now), 0);
    tcflag_t l = ICANON | ECHO | ISIG;
    assert_int_equal(now.c_lflag & l, f->tio0.c_lflag & l);
    assert_int_equal(now.c_oflag & OPOST, f->tio0.c_oflag & OPOST);
}

/* ---- the tests ---- */

static void the_first_line_is_the_welcome_and_the_device_plays_its_samples_from_that_moment(
    void **state)
{
    struct fx *f = *state;
    need_pulse();
    kiosk_start(f, MENU, NULL);
    size_t w = wait_line(f, 0, "Welcome", 10.0);
    assert_int_equal(w, 0); /* the first thing shown is the start node's text ... */
    assert_string_equal(f->lines[w].text, welcome_text); /* ... exactly */
    /* where the recorder was when the line appeared (its file lags the sink by a fragment) */
    long cap_at_line = (long)file_size(f->cap) / 2;
    pump(f, f->lines[w].t + 1.5);
    struct termios raw;
    assert_int_equal(tcgetattr(f->slave, &raw), 0);
    assert_false(raw.c_lflag & (ICANON | ECHO)); /* keys are read raw while it runs */
    assert_int_equal(finish(f), 0); /* SIGTERM is a normal end */
    expect_terminal_restored(f);

    long onset = find_clip(f, 0, G.w4, G.wn);
    if (onset < 0)
        fail_msg("the welcome's samples (at the default volume) are not in the capture: is "
                 "PulseAudio resampling or applying a volume? (%zu samples captured)", f->npcm);
    /* bit for bit, for the whole second and a half heard, at the default volume */
    size_t heard = (size_t)(1.4 * RATE);
    assert_int_equal(mismatches(f, (size_t)onset, G.w4, heard), 0);
    /* speech, well above the silence before it */
    double rms = tl_rms(f->pcm, (size_t)onset, (size_t)onset + RATE);
    size_t before = (size_t)onset > RATE / 5 ? (size_t)onset - RATE / 5 : 0;
    assert_true(tl_peak(f->pcm, before, (size_t)onset) <= TINY);
    assert_true(rms > 100.0);
    /* and it began about when the line appeared: the recorder's file, sampled then, reaches
     * within a fragment or two of the onset (output latency + parec's 20 ms fragments) */
    double lag = ms((double)(onset - cap_at_line));
    print_message("welcome: onset %.1f ms after the recorder's position at the line "
                  "(output + recording latency); rms %.0f over its first second; "
                  "bit-exact at gain %.4f\n",
                  lag, rms, tt_volume_gain(TT_VOLUME_DEFAULT));
    assert_true(lag > -30.0 && lag < 250.0);
}

static void a_key_during_speech_silences_the_device_within_30_ms_until_the_answer(
    void **state)
{
    struct fx *f = *state;
    need_pulse();
    kiosk_start(f, MENU, NULL);
    enum { KEYS = 4 };
    double t_line[KEYS + 1], t_key[KEYS];
    size_t seen = wait_line(f, 0, "Welcome", 10.0);
    t_line[0] = f->lines[seen].t;
    /* 5 repeats: each press cuts the welcome, and it starts again 0.4 s later. The presses
     * land at different places in the clip, each inside speech. */
    size_t where[KEYS];
    for (int i = 0; i < KEYS; i++) {
        where[i] = in_speech(G.w4, G.wn, (size_t)((0.8 + 0.6 * i) * RATE));
        pump(f, t_line[i] + (double)where[i] / RATE);
        t_key[i] = press(f, "5");
        seen = wait_line(f, seen + 1, "Welcome", 3.0);
        t_line[i + 1] = f->lines[seen].t;
        assert_true(t_line[i + 1] - t_key[i] > 0.35); /* the answer waits for the pause */
    }
    pump(f, t_line[KEYS] + 0.5);
    assert_int_equal(finish(f), 0);

    long onset[KEYS + 1];
    onset[0] = find_clip(f, 0, G.w4, G.wn);
    assert_true(onset[0] >= 0);
    double worst = 0, sum = 0;
    for (int i = 0; i < KEYS; i++) {
        /* Align with the answer (its line and its onset), which starts 0.4 s after the key:
         * the stream is then in the same steady state as at the cut. The very first prompt
         * starts with the stream itself and sits 10 to 20 ms later than the rest, so it
         * would make the first key look that much slower than it is. */
        size_t rough = at_time(t_key[i], t_line[i], onset[i]);
        onset[i + 1] = find_clip(f, rough - RATE / 10, G.w4, G.wn);
        assert_true(onset[i + 1] > (long)rough);
        size_t key = at_time(t_key[i], t_line[i + 1], onset[i + 1]);
        /* speech was playing when the key came (it was cut, not already over) */
        assert_true(tl_rms(f->pcm, key - RATE / 50, key) > 20.0);
        /* silent from 30 ms after the key until the welcome starts again */
        size_t quiet = silent_from(f, key - RATE / 10, (size_t)onset[i + 1]);
        double k2s = ms((double)quiet - (double)key);
        double gap = ms((double)(onset[i + 1] - (long)key));
        print_message("key %d at %.2f s into the clip: silent %.1f ms after the key; the "
                      "answer began %.0f ms after it\n",
                      i + 1, (double)where[i] / RATE, k2s, gap);
        if (k2s > 30.0) {
            fail_msg("key %d: still sound %.1f ms after the key (peak %d from +30 ms)", i + 1,
                     k2s, tl_peak(f->pcm, key + RATE * 3 / 100, (size_t)onset[i + 1]));
        }
        assert_true(gap > 350.0 && gap < 600.0);
        worst = k2s > worst ? k2s : worst;
        sum += k2s;
    }
    print_message("key to silence on the device: mean %.1f ms, worst %.1f ms (bound 30 ms)\n",
                  sum / KEYS, worst);
    /* How steady the line-to-audio alignment is, prompt to prompt (see above). */
    for (int i = 1; i <= KEYS; i++)
        print_message("alignment: prompt %d sits %+.1f ms from the first's\n", i + 1,
                      ((t_line[i] - (double)onset[i] / RATE) -
                       (t_line[0] - (double)onset[0] / RATE)) * 1e3);
}

static void louder_cuts_in_then_repeats_the_cut_part_3_db_louder_on_the_device(void **state)
{
    struct fx *f = *state;
    need_pulse();
    kiosk_start(f, MENU, NULL);
    size_t w = wait_line(f, 0, "Welcome", 10.0);
    double t_line = f->lines[w].t;
    size_t at = in_speech(G.w4, G.wn, 2 * RATE);
    pump(f, t_line + (double)at / RATE);
    double t_key = press(f, "+");
    size_t l = wait_line(f, w + 1, "Louder.", 1.0);
    assert_int_equal(l, w + 1); /* said at once, nothing before it */
    size_t again = wait_line(f, l + 1, "Welcome", 5.0);
    assert_string_equal(f->lines[again].text, welcome_text); /* the cut part, from its start */
    double heard = (double)at / RATE;
    pump(f, f->lines[again].t + heard + 0.3);
    assert_int_equal(finish(f), 0);

    long first = find_clip(f, 0, G.w4, G.wn);
    assert_true(first >= 0);
    size_t key = at_time(t_key, t_line, first);
    long second = find_clip(f, key, G.w5, G.wn); /* the same words, found at volume 5 */
    if (second < 0)
        fail_msg("the repeated welcome is not in the capture at volume %d",
                 TT_VOLUME_DEFAULT + 1);
    /* Compare the same words: the part heard before the key, less 30 ms for the cut. */
    size_t n = key - (size_t)first - RATE * 3 / 100;
    assert_int_equal(mismatches(f, (size_t)second, G.w5, n), 0);
    double r1 = tl_rms(f->pcm, (size_t)first, (size_t)first + n);
    double r2 = tl_rms(f->pcm, (size_t)second, (size_t)second + n);
    double ratio = r2 / r1, want = pow(10.0, TT_VOLUME_STEP_DB / 20.0);
    print_message("louder: rms %.1f -> %.1f over the same %.2f s of speech: ratio %.4f "
                  "(want %.4f, %+.2f%%)\n",
                  r1, r2, (double)n / RATE, ratio, want, 100.0 * (ratio / want - 1.0));
    assert_true(fabs(ratio / want - 1.0) < 0.05);
}

static bool log_line_ok(const char *line)
{
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2} "
                             "(start|go) ([a-z0-9_.-]+)$|"
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2} "
                             "reset( idle)?$",
                             REG_EXTENDED),
                     0);
    regmatch_t mt[3];
    bool ok = regexec(&re, line, 3, mt, 0) == 0;
    if (ok && mt[2].rm_so >= 0) { /* a node id, and one of the menu's */
        char id[128];
        snprintf(id, sizeof(id), "%.*s", (int)(mt[2].rm_eo - mt[2].rm_so), line + mt[2].rm_so);
        ok = tt_menu_find(G.m, id) >= 0;
    }
    regfree(&re);
    return ok;
}

static void escape_wipes_at_once_welcome_at_default_volume_no_history_and_a_log_of_nodes_only(
    void **state)
{
    struct fx *f = *state;
    need_pulse();
    kiosk_start(f, MENU, NULL);
    size_t w = wait_line(f, 0, "Welcome", 10.0);
    double t_line0 = f->lines[w].t;
    /* someone walks the menu: 1, 1, louder, then leaves with Escape mid-sentence */
    pump(f, t_line0 + 1.0);
    press(f, "1");
    size_t i = wait_line(f, w + 1, "Here are some facts", 3.0);
    pump(f, f->lines[i].t + 0.8);
    press(f, "1");
    size_t h = wait_line(f, i + 1, "The court is open", 3.0);
    pump(f, f->lines[h].t + 0.5);
    press(f, "+");
    h = wait_line(f, h + 1, "The court is open", 3.0); /* after "Louder.", at volume 5 */
    pump(f, f->lines[h].t + 0.5);
    size_t before_esc = f->nlines;
    double t_esc = press(f, "\033");
    size_t r = wait_line(f, before_esc, "Welcome", 2.0);
    double t_r = f->lines[r].t;
    /* at once: the next line is the welcome, within the 50 ms Escape takes to tell from an
     * arrow key, plus a little; nothing said first (no goodbye) */
    assert_int_equal(r, before_esc);
    print_message("escape: the welcome was shown %.0f ms after the key\n", (t_r - t_esc) * 1e3);
    assert_true(t_r - t_esc < 0.25);
    /* what the last person saw is cleared, screen and scrollback */
    assert_true(f->nclear >= 1 && f->t_clear[f->nclear - 1] >= t_esc &&
                f->t_clear[f->nclear - 1] <= t_r);
    /* no history: back at the start says so */
    pump(f, t_r + 1.2);
    press(f, "*");
    size_t b = wait_line(f, r + 1, "You are at the beginning.", 2.0);
    assert_int_equal(b, r + 1);
    pump(f, f->lines[b].t + 0.3);
    assert_int_equal(finish(f), 0);
    for (size_t k = 0; k < f->nlines; k++)
        assert_null(strstr(f->lines[k].text, "Goodbye"));

    /* the welcome after the reset is at the default volume again: its samples are exactly
     * those at volume 4, and its level matches the first welcome's */
    long first = find_clip(f, 0, G.w4, G.wn);
    assert_true(first >= 0);
    long again = find_clip(f, at_time(t_esc, t_line0, first), G.w4, G.wn);
    if (again < 0)
        fail_msg("the welcome after Escape is not at the default volume");
    size_t n = RATE * 8 / 10; /* the first 0.8 s of each (the first was cut at 1 s) */
    assert_int_equal(mismatches(f, (size_t)again, G.w4, n), 0);
    double ratio = tl_rms(f->pcm, (size_t)again, (size_t)again + n) /
                   tl_rms(f->pcm, (size_t)first, (size_t)first + n);
    print_message("after the reset: level ratio to the first welcome %.4f (1 = default)\n",
                  ratio);
    assert_true(fabs(ratio - 1.0) < 0.01);

    /* the log: navigation by node id only, never keys */
    char *log = tl_slurp(f->log);
    const char *want[] = {"start main", "go info", "go hours", "reset", "go main"};
    size_t nl = 0;
    for (char *s = strtok(log, "\n"); s; s = strtok(NULL, "\n"), nl++) {
        if (strstr(s, " stop: ")) { /* the counts, at the end: checked in test_privacy */
            nl--;
            continue;
        }
        if (!log_line_ok(s))
            fail_msg("log line '%s' is not 'TIME start|go NODE|reset [idle]'", s);
        if (nl < 5 && strcmp(s + 20, want[nl]))
            fail_msg("log line %zu is '%s', want '... %s'", nl + 1, s, want[nl]);
        for (const char *c = s + 20; *c; c++) /* no digit after the time (ids have none) */
            assert_false(*c >= '0' && *c <= '9');
    }
    assert_int_equal(nl, 5);
    free(log);
}

static void with_no_audio_device_it_says_so_shows_the_words_takes_keys_and_sigterm_exits_0(
    void **state)
{
    struct fx *f = *state;
    kiosk_start(f, MENU, NULL);
    size_t notice = wait_line(f, 0, "[no audio output", 10.0);
    size_t w = wait_line(f, notice + 1, "Welcome", 2.0);
    assert_string_equal(f->lines[w].text, welcome_text);
    /* stderr: plainly, what is wrong and what to do */
    char *err = tl_slurp(f->err);
    assert_non_null(strstr(err, "no audio output device"));
    assert_non_null(strstr(err, "connect headphones or speakers"));
    assert_null(strstr(err, "ALSA lib")); /* and not the sound libraries' noise */
    free(err);
    /* a key still moves on: the page it chose is shown after the 0.4 s pause */
    pump(f, f->lines[w].t + 1.0);
    double t_key = press(f, "2");
    size_t p = wait_line(f, w + 1, "The forms are at the front desk.", 2.0);
    assert_true(f->lines[p].t - t_key > 0.35 && f->lines[p].t - t_key < 0.6);
    pump(f, f->lines[p].t + 0.2);
    int status = finish(f);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    expect_terminal_restored(f);
}

/* CPU seconds a process has used (utime + stime), from /proc. */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The terminal goes away (both ends of the pty closed here): the kiosk must end promptly,
 * not spin, and never crash. Returns its wait status. */
static int hang_up(struct fx *f, bool ctty)
{
    kiosk_start_on(f, MENU, NULL, ctty);
    size_t w = wait_line(f, 0, "Welcome", 10.0);
    pump(f, f->lines[w].t + 0.3);
    double cpu0 = cpu_seconds(f->kiosk);
    close(f->slave);
    f->slave = -1;
    double t = now_s();
    close(f->master);
    f->master = -1;
    int status = -1;
    bool ended = wait_bounded(f->kiosk, 3.0, &status);
    if (!ended) {
        double spent = cpu_seconds(f->kiosk) - cpu0;
        fail_msg("the kiosk was still running 3 s after its terminal closed (it used %.1f s of "
                 "CPU meanwhile%s)",
                 spent, spent > 1.5 ? ": a busy loop" : "");
    }
    f->kiosk = 0;
    print_message("hang-up (%s): ended %.0f ms after the terminal closed, %s %d\n",
                  ctty ? "its controlling terminal" : "not its controlling terminal",
                  (now_s() - t) * 1e3, WIFEXITED(status) ? "exit status" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return status;
}

static void with_no_audio_device_a_hang_up_of_its_controlling_terminal_ends_it_at_once(
    void **state)
{
    /* the kernel sends SIGHUP; the terminal code puts the settings back and lets it end the
     * program, which is the usual way for a terminal program to go: never a crash */
    int status = hang_up(*state, true);
    if (WIFSIGNALED(status))
        assert_int_equal(WTERMSIG(status), SIGHUP);
    else
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void with_no_audio_device_a_hang_up_of_a_terminal_it_was_handed_ends_it_with_status_0(
    void **state)
{
    /* no SIGHUP this time: the keys have simply ended, like the end of piped input */
    int status = hang_up(*state, false);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void left_idle_for_2_s_it_resets_goes_silent_and_a_key_brings_the_welcome_back(
    void **state)
{
    struct fx *f = *state;
    need_pulse();
    const char *idle[] = {"--idle", "2", NULL};
    f->watch_log = true;
    kiosk_start(f, MENU, idle);
    size_t w = wait_line(f, 0, "Welcome", 10.0);
    double t_line0 = f->lines[w].t;
    /* the last key: a repeat; the welcome starts again, and nobody presses anything more */
    pump(f, t_line0 + 0.6);
    double t_key = press(f, "5");
    size_t w2 = wait_line(f, w + 1, "Welcome", 2.0);
    double t_line1 = f->lines[w2].t;
    while (f->t_idle == 0 && now_s() < t_key + 4.0)
        pump(f, now_s() + 0.01);
    if (f->t_idle == 0)
        fail_msg("no 'reset idle' in the log 4 s after the last key");
    double idle_after = f->t_idle - t_key;
    size_t lines_at_reset = f->nlines;
    /* two seconds of nothing: nothing shown, and (below) nothing heard */
    pump(f, f->t_idle + 2.0);
    assert_int_equal(f->nlines, lines_at_reset);
    double t_wake = press(f, "7");
    size_t w3 = wait_line(f, lines_at_reset, "Welcome", 1.0);
    assert_int_equal(w3, lines_at_reset);
    double t_line2 = f->lines[w3].t;
    pump(f, t_line2 + 1.2);
    assert_int_equal(finish(f), 0);
    print_message("idle: reset %.3f s after the last key (--idle 2); the welcome came back "
                  "%.0f ms after the next key\n",
                  idle_after, (t_line2 - t_wake) * 1e3);
    assert_true(idle_after > 1.95 && idle_after < 2.25);

    long first = find_clip(f, 0, G.w4, G.wn);
    assert_true(first >= 0);
    long second = find_clip(f, at_time(t_key, t_line0, first), G.w4, G.wn);
    assert_true(second >= 0);
    size_t reset = at_time(f->t_idle, t_line1, second);
    size_t wake = at_time(t_wake, t_line1, second);
    /* the reset cut the welcome it interrupted: silent from 30 ms after the reset (as seen in
     * the log, a hair after it happened) until the next key (less 50 ms: the welcome it
     * brings starts at once, and the alignment is good to about 20 ms) */
    size_t quiet = silent_from(f, reset - RATE / 10, wake - RATE / 20);
    print_message("idle: the device was silent %.1f ms after the reset\n",
                  ms((double)quiet - (double)reset));
    if (quiet > reset + RATE * 3 / 100)
        fail_msg("the prompt the idle reset interrupted played on: sound until %.0f ms after "
                 "the reset (peak %d)",
                 ms((double)quiet - (double)reset),
                 tl_peak(f->pcm, reset + RATE * 3 / 100, wake - RATE / 20));
    /* and the key brought the welcome back, from its start, at the default volume */
    long third = find_clip(f, wake - RATE / 20, G.w4, G.wn);
    if (third < 0)
        fail_msg("the welcome after the wake-up key is not in the capture");
    assert_int_equal(mismatches(f, (size_t)third, G.w4, RATE), 0);
    char *log = tl_slurp(f->log);
    assert_non_null(strstr(log, " reset idle\n"));
    assert_non_null(strstr(strstr(log, " reset idle\n"), " go main\n"));
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            the_first_line_is_the_welcome_and_the_device_plays_its_samples_from_that_moment,
            fx_setup_audio, fx_teardown),
        cmocka_unit_test_setup_teardown(
            a_key_during_speech_silences_the_device_within_30_ms_until_the_answer,
            fx_setup_audio, fx_teardown),
        cmocka_unit_test_setup_teardown(
            louder_cuts_in_then_repeats_the_cut_part_3_db_louder_on_the_device,
            fx_setup_audio, fx_teardown),
        cmocka_unit_test_setup_teardown(
            escape_wipes_at_once_welcome_at_default_volume_no_history_and_a_log_of_nodes_only,
            fx_setup_audio, fx_teardown),
        cmocka_unit_test_setup_teardown(
            with_no_audio_device_it_says_so_shows_the_words_takes_keys_and_sigterm_exits_0,
            fx_setup_no_device, fx_teardown),
        cmocka_unit_test_setup_teardown(
            with_no_audio_device_a_hang_up_of_its_controlling_terminal_ends_it_at_once,
            fx_setup_no_device, fx_teardown),
        cmocka_unit_test_setup_teardown(
            with_no_audio_device_a_hang_up_of_a_terminal_it_was_handed_ends_it_with_status_0,
            fx_setup_no_device, fx_teardown),
        cmocka_unit_test_setup_teardown(
            left_idle_for_2_s_it_resets_goes_silent_and_a_key_brings_the_welcome_back,
            fx_setup_audio, fx_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
