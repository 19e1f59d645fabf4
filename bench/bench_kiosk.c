/*
 * The kiosk (`tonetree run`) on the guide, measured from outside as a person would meet it:
 * on a pseudo-terminal, speaking into a private PulseAudio null sink that parec records.
 * Medians and their parts are printed; nothing is asserted (tests/test_kiosk.c asserts).
 *
 * (a) CPU of an idle kiosk: started with --idle 1, it speaks, then falls asleep (silent, no
 *     deadline); /proc/PID/stat utime+stime over 10 s -> % of one core. The sound server's
 *     share over the same 10 s is printed beside it, since an open stream keeps it busy too.
 * (b) Memory of the running guide: VmRSS and VmHWM from /proc/PID/status once the prompts
 *     are prepared (the first words shown), and the time it took to get there from a cold
 *     cache: at --rate auto (the default: the prompts kept at the rate they are made at) and,
 *     beside it in the same run, at 48 kHz (the default before, and what (c) needs).
 * (c) Key to silence on the device path, over 10 presses of 5 (repeat) during the welcome:
 *     the capture is aligned with wall time through the answer's text line and its first
 *     sample (found by content: the sink passes samples through unchanged), exactly as in
 *     tests/test_kiosk.c. Both ends of that alignment go through the same output latency, so
 *     the figure is what the kiosk adds (wake-up, cut, 5 ms fade, callback period); what a
 *     listener hears adds PortAudio's output latency, which the kiosk does not print: this
 *     bench opens the same stream itself (tt_out_open, the kiosk's options) to read it.
 *
 * Without pulseaudio, pactl or parec it says so and exits 0. Children are stopped by pid.
 */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname, nftw */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "device/audio_out.h"
#include "prompt/player.h" /* TT_FADE_MS */
#include "tonetree.h"

#define RATE 48000
#define GUIDE "menus/no-contact-order.ini"
#define PRESSES 10
#define CPU_SECONDS 10
#define TINY 2
#define MAX_LINES 512

extern char **environ;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&t, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

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

/* fork + exec with this process's environment (set up once in main); on a pty when tty. */
static pid_t spawn(char *const argv[], int out_fd, int err_fd, const char *tty)
{
    char path[1024];
    if (!find_program(argv[0], path, sizeof(path)))
        return -1;
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    pid_t pid = fork();
    if (pid == 0) {
        int in_fd = devnull;
        if (tty) {
            setsid();
            int t = open(tty, O_RDWR);
            if (t < 0)
                _exit(126);
            in_fd = out_fd = t;
        }
        dup2(in_fd, 0);
        dup2(out_fd >= 0 ? out_fd : devnull, 1);
        dup2(err_fd >= 0 ? err_fd : devnull, 2);
        for (int fd = 3; fd < 256; fd++)
            close(fd);
        execve(path, argv, environ);
        _exit(127);
    }
    close(devnull);
    return pid;
}

static bool wait_bounded(pid_t pid, double secs, int *status)
{
    double until = now_s() + secs;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return true;
        if (r < 0 || now_s() >= until)
            return false;
        sleep_s(0.005);
    }
}

static void stop_child(pid_t *pid)
{
    int status;
    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    if (!wait_bounded(*pid, 3.0, &status)) {
        kill(*pid, SIGKILL);
        waitpid(*pid, &status, 0);
    }
    *pid = 0;
}

static int run_bounded(char *const argv[], double secs)
{
    pid_t pid = spawn(argv, -1, -1, NULL);
    int status;
    if (pid < 0)
        return -1;
    if (!wait_bounded(pid, secs, &status)) {
        stop_child(&pid);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static long long cache_bytes;

static int add_size(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)path, (void)ftw;
    if (flag == FTW_F)
        cache_bytes += sb->st_size;
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* ---- a kiosk on a pty, its lines stamped as they arrive ---- */

struct kiosk {
    pid_t pid;
    int master;
    char text[MAX_LINES][1024];
    double t[MAX_LINES];
    size_t n;
    char part[1024];
    size_t npart;
    double part_t;
    int esc;
};

static void take(struct kiosk *k, const char *buf, size_t n, double t)
{
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (k->esc == 1) {
            k->esc = c == '[' ? 2 : 0;
        } else if (k->esc == 2) {
            if (c >= 0x40 && c <= 0x7e)
                k->esc = 0;
        } else if (c == '\033') {
            k->esc = 1;
        } else if (c == '\n') {
            if (k->n < MAX_LINES) {
                snprintf(k->text[k->n], sizeof(k->text[0]), "%.*s", (int)k->npart, k->part);
                k->t[k->n++] = k->npart ? k->part_t : t;
            }
            k->npart = 0;
        } else if (c != '\r') {
            if (!k->npart)
                k->part_t = t;
            if (k->npart < sizeof(k->part) - 1)
                k->part[k->npart++] = c;
        }
    }
}

static void pump(struct kiosk *k, double until)
{
    for (double t; (t = now_s()) < until;) {
        int ms = (int)((until - t) * 1000.0);
        struct pollfd p = {.fd = k->master, .events = POLLIN};
        if (poll(&p, 1, ms < 2 ? ms : 2) > 0 && (p.revents & POLLIN)) {
            char buf[4096];
            ssize_t got = read(k->master, buf, sizeof(buf));
            if (got > 0)
                take(k, buf, (size_t)got, now_s());
        }
    }
}

/* Index of the first line from `from` on containing what (or any line when what is NULL),
 * waiting up to secs; -1 when none came. */
static long wait_line(struct kiosk *k, size_t from, const char *what, double secs)
{
    double until = now_s() + secs;
    for (;;) {
        for (size_t i = from; i < k->n; i++)
            if (!what || strstr(k->text[i], what))
                return (long)i;
        if (now_s() >= until)
            return -1;
        pump(k, now_s() + 0.005);
    }
}

static int kiosk_start(struct kiosk *k, const char *cache, const char *log, const char *idle,
                       const char *rate, const char *err_path)
{
    memset(k, 0, sizeof(*k));
    k->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (k->master < 0 || grantpt(k->master) || unlockpt(k->master))
        return -1;
    char tty[128];
    snprintf(tty, sizeof(tty), "%s", ptsname(k->master));
    /* --log-visits: (c) finds the start node in the log's timeline */
    char *argv[] = {"build/tonetree", "run",        GUIDE,          "--cache",
                    (char *)cache,    "--log",      (char *)log,    "--log-visits",
                    "--idle",         (char *)idle, "--rate",       (char *)rate,
                    NULL};
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    k->pid = spawn(argv, -1, err, tty);
    close(err);
    return k->pid > 0 ? 0 : -1;
}

static void kiosk_stop(struct kiosk *k)
{
    stop_child(&k->pid);
    if (k->master >= 0)
        close(k->master);
    k->master = -1;
}

/* ---- /proc ---- */

static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long utime = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                     &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static long status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, field, strlen(field)) && line[strlen(field)] == ':')
            kb = strtol(line + strlen(field) + 1, NULL, 10);
    fclose(f);
    return kb;
}

/* Context switches of each thread of a process (how often it wakes up), by thread id. */
#define MAX_TASKS 64
struct tasks {
    int n;
    long tid[MAX_TASKS];
    long long sw[MAX_TASKS];
};

static void wakeups(pid_t pid, struct tasks *t)
{
    char dir[64], path[320], line[256];
    snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    struct dirent *e;
    t->n = 0;
    while (d && (e = readdir(d)) && t->n < MAX_TASKS) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%.60s/%.200s/status", dir, e->d_name);
        FILE *f = fopen(path, "r");
        long long n = 0;
        while (f && fgets(line, sizeof(line), f))
            if (strstr(line, "ctxt_switches:"))
                n += strtoll(strchr(line, ':') + 1, NULL, 10);
        if (f)
            fclose(f);
        t->tid[t->n] = strtol(e->d_name, NULL, 10);
        t->sw[t->n++] = n;
    }
    if (d)
        closedir(d);
}

/* Wake-ups between two samples, over the threads alive at both (threads come and go). */
static long long wakeups_between(const struct tasks *a, const struct tasks *b, int *threads)
{
    long long n = 0;
    *threads = 0;
    for (int i = 0; i < b->n; i++)
        for (int j = 0; j < a->n; j++)
            if (a->tid[j] == b->tid[i]) {
                n += b->sw[i] - a->sw[j];
                ++*threads;
            }
    return n;
}

/* ---- the capture ---- */

static int16_t scale(int16_t x, float g)
{
    float v = (float)x * g;
    v += v >= 0.0f ? 0.5f : -0.5f;
    return v > 32767.0f ? 32767 : v < -32768.0f ? -32768 : (int16_t)v;
}

static long find_clip(const int16_t *cap, size_t n, size_t from, const int16_t *ref,
                      size_t refn)
{
    size_t a = 0;
    while (a < refn && abs(ref[a]) < 30)
        a++;
    size_t w = refn - a < RATE / 20 ? refn - a : RATE / 20;
    for (size_t q = from + a; q + w <= n; q++) {
        size_t i = 0;
        while (i < w && abs(cap[q + i] - ref[a + i]) <= TINY)
            i++;
        if (i == w)
            return (long)(q - a);
    }
    return -1;
}

static double rms(const int16_t *x, size_t from, size_t to)
{
    double s = 0;
    for (size_t i = from; i < to; i++)
        s += (double)x[i] * x[i];
    return to > from ? sqrt(s / (double)(to - from)) : 0;
}

/* A moment from `min` on with speech 40 ms before and 120 ms after (so a key cuts speech). */
static size_t in_speech(const int16_t *ref, size_t n, size_t min)
{
    size_t blk = RATE / 100;
    for (size_t p = min; p + RATE / 5 < n; p += blk) {
        bool ok = true;
        for (size_t b = p - 4 * blk; ok && b < p + 12 * blk; b += blk)
            ok = rms(ref, b, b + blk) > 60.0;
        if (ok)
            return p;
    }
    return min;
}

struct ctx {
    char dir[64], cache[128], log[128], err[128], cap[128], palog[128];
    pid_t pulse, parec;
};

static int start_audio(struct ctx *c)
{
    int pa_err = open(c->palog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    char *pa[] = {"pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
                  "--use-pid-file=no", "-L", "module-native-protocol-unix", "-L",
                  "module-null-sink sink_name=out rate=48000 channels=1 format=s16le "
                  "norewinds=1",
                  NULL};
    c->pulse = spawn(pa, -1, pa_err, NULL);
    close(pa_err);
    char *info[] = {"pactl", "info", NULL};
    double until = now_s() + 8.0;
    while (run_bounded(info, 2.0) != 0) {
        if (now_s() > until)
            return -1;
        sleep_s(0.05);
    }
    char *def[] = {"pactl", "set-default-sink", "out", NULL};
    if (run_bounded(def, 3.0) != 0)
        return -1;
    int cap = open(c->cap, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    char *rec[] = {"parec", "-d", "out.monitor", "--rate=48000", "--channels=1",
                   "--format=s16le", "--latency-msec=20", NULL};
    c->parec = spawn(rec, cap, -1, NULL);
    close(cap);
    until = now_s() + 5.0;
    while (file_size(c->cap) <= 0)
        if (now_s() > until)
            return -1;
        else
            sleep_s(0.01);
    return 0;
}

/* The start node's id, from the log's "TIME start NODE" line. */
static bool start_node(const char *log, char *id, size_t size)
{
    FILE *f = fopen(log, "r");
    char line[256];
    bool found = false;
    while (f && !found && fgets(line, sizeof(line), f)) {
        char *s = strstr(line, " start ");
        if (s) {
            snprintf(id, size, "%s", s + 7);
            id[strcspn(id, "\n")] = '\0';
            found = true;
        }
    }
    if (f)
        fclose(f);
    return found;
}

/* (b) at the rate tonetree run picks by itself (--rate auto: the voices' rate, 22050 Hz for the
 * guide's Spanish), beside the 48 kHz that was its default before, which (c) needs. */
static void memory_at_auto_rate(struct ctx *c)
{
    struct kiosk k;
    double t0 = now_s();
    /* a cache of its own, so that (b)'s size of the 48 kHz prompts counts only those */
    char cache[160];
    snprintf(cache, sizeof(cache), "%s-auto", c->cache);
    if (kiosk_start(&k, cache, c->log, "0", "auto", c->err)) {
        printf("  could not start build/tonetree (make build/tonetree)\n");
        return;
    }
    long w = wait_line(&k, 0, NULL, 120.0);
    if (w >= 0) {
        pump(&k, k.t[w] + 0.3);
        long rss = status_kb(k.pid, "VmRSS"), hwm = status_kb(k.pid, "VmHWM");
        printf("(b) memory of the running guide at --rate auto (the default)\n");
        printf("  %-44s %9.2f s\n", "start to first words (cold cache)", k.t[w] - t0);
        printf("  %-44s %9.1f MB\n", "VmRSS", rss / 1024.0);
        printf("  %-44s %9.1f MB\n", "VmHWM (peak, includes preparing)", hwm / 1024.0);
        /* the device's note on stderr: "audio output '...' (ALSA): 22050 Hz, ..." */
        char err[4096] = "";
        FILE *ef = fopen(c->err, "r");
        if (ef) {
            err[fread(err, 1, sizeof(err) - 1, ef)] = '\0';
            fclose(ef);
        }
        const char *hz = strstr(err, " Hz,");
        const char *from = hz;
        while (from && from > err && from[-1] != ' ')
            from--;
        if (hz)
            printf("  %-44s %9.*s Hz\n", "the output's rate", (int)(hz - from), from);
    } else {
        printf("  the kiosk showed nothing within 120 s (stderr in %s)\n", c->err);
    }
    kiosk_stop(&k);
    cache_bytes = 0;
    nftw(cache, add_size, 16, FTW_PHYS);
    printf("  %-44s %9.1f MB  (%.0f s of audio, if all at 22050 Hz)\n",
           "  of which prepared prompts (cache size)", (double)cache_bytes / 1048576.0,
           (double)cache_bytes / 2.0 / 22050);
}

/* (b) and (c): a kiosk that never idles; memory once ready, then PRESSES repeats. */
static void memory_and_key_to_silence(struct ctx *c)
{
    struct kiosk k;
    memory_at_auto_rate(c);
    double t0 = now_s();
    if (kiosk_start(&k, c->cache, c->log, "0", "48000", c->err)) {
        printf("  could not start build/tonetree (make build/tonetree)\n");
        return;
    }
    long w = wait_line(&k, 0, NULL, 60.0);
    if (w < 0) {
        printf("  the kiosk showed nothing within 60 s (stderr in %s)\n", c->err);
        kiosk_stop(&k);
        return;
    }
    double ready = k.t[w] - t0;
    pump(&k, k.t[w] + 0.3);
    long rss = status_kb(k.pid, "VmRSS"), hwm = status_kb(k.pid, "VmHWM");
    printf("(b) memory of the running guide at --rate 48000 (the default before)\n");
    printf("  %-44s %9.2f s\n", "start to first words (cold cache, 48 kHz)", ready);
    printf("  %-44s %9.1f MB\n", "VmRSS", rss / 1024.0);
    printf("  %-44s %9.1f MB\n", "VmHWM (peak, includes preparing)", hwm / 1024.0);
    /* the prompts are held in memory as int16 at 48 kHz, as they are cached on disk */
    cache_bytes = 0;
    nftw(c->cache, add_size, 16, FTW_PHYS);
    printf("  %-44s %9.1f MB  (%.0f s of audio)\n", "  of which prepared prompts (cache size)",
           (double)cache_bytes / 1048576.0, (double)cache_bytes / 2.0 / RATE);

    /* the welcome as the device plays it at the default volume, from the same cache: the
     * second line shown (the first is the way out, "To leave, press 9.") */
    long wl = wait_line(&k, (size_t)w + 1, NULL, 30.0);
    if (wl < 0) {
        printf("  (c) skipped: the welcome was not shown after the way out\n");
        kiosk_stop(&k);
        return;
    }
    w = wl;
    char node[128];
    tt_diag *d = tt_diag_new();
    tt_menu *m = NULL;
    tt_store *store = NULL;
    const struct tt_clip *clip = NULL;
    struct tt_store_opts so = {.rate = RATE, .cache_dir = c->cache};
    bool ok = start_node(c->log, node, sizeof(node)) && !tt_menu_load(&m, GUIDE, d);
    if (ok) {
        so.prompts_dir = tt_menu_prompts_dir(m);
        ok = !tt_store_new(&store, &so, d) &&
             !tt_store_get(store, tt_menu_lang(m, 0), tt_menu_voice(m, 0), node, k.text[w],
                           100, &clip);
    }
    if (!ok) {
        tt_diag_print(d, stdout);
        printf("  (c) skipped: the welcome's clip could not be made\n");
        tt_store_free(store);
        tt_menu_free(m);
        tt_diag_free(d);
        kiosk_stop(&k);
        return;
    }
    size_t refn = clip->frames;
    int16_t *ref = malloc(refn * sizeof(*ref));
    float g = (float)tt_volume_gain(TT_VOLUME_DEFAULT);
    for (size_t i = 0; i < refn; i++)
        ref[i] = scale(clip->pcm[i], g);
    tt_store_free(store);
    tt_menu_free(m);
    tt_diag_free(d);

    /* PRESSES repeats, each at a different place inside speech in the welcome */
    double t_line[PRESSES + 1], t_key[PRESSES];
    t_line[0] = k.t[w];
    long seen = w;
    double clip_s = (double)refn / RATE;
    int done = 0;
    for (int i = 0; i < PRESSES; i++) {
        double at = 0.6 + fmod(0.31 * i, clip_s > 2.0 ? clip_s - 1.2 : 0.5);
        size_t pos = in_speech(ref, refn, (size_t)(at * RATE));
        pump(&k, t_line[i] + (double)pos / RATE);
        t_key[i] = now_s();
        if (write(k.master, "5", 1) != 1)
            break;
        long next = wait_line(&k, (size_t)seen + 1, k.text[w], 3.0);
        if (next < 0)
            break;
        seen = next;
        t_line[i + 1] = k.t[next];
        done++;
    }
    pump(&k, t_line[done] + 0.5);
    kiosk_stop(&k);
    sleep_s(0.15);
    stop_child(&c->parec);

    size_t n = (size_t)file_size(c->cap) / 2;
    int16_t *cap = malloc(n * 2 + 2);
    FILE *f = fopen(c->cap, "rb");
    n = f ? fread(cap, 2, n, f) : 0;
    if (f)
        fclose(f);
    double k2s[PRESSES];
    int measured = 0;
    long onset = find_clip(cap, n, 0, ref, refn);
    for (int i = 0; i < done && onset >= 0; i++) {
        size_t rough = (size_t)(onset + (t_key[i] - t_line[i]) * RATE);
        long next = find_clip(cap, n, rough - RATE / 10, ref, refn);
        if (next < 0)
            break;
        /* aligned with the answer: the stream is steady then, as at the cut */
        size_t key = (size_t)((double)next + (t_key[i] - t_line[i + 1]) * RATE + 0.5);
        size_t quiet = key - RATE / 10;
        for (size_t j = quiet; j < (size_t)next; j++)
            if (abs(cap[j]) > TINY)
                quiet = j + 1;
        k2s[measured++] = ((double)quiet - (double)key) * 1000.0 / RATE;
        onset = next;
    }
    printf("(c) key to silence on the device path (%d presses of 5 in the welcome)\n",
           measured);
    if (measured) {
        double worst = k2s[0];
        for (int i = 1; i < measured; i++)
            worst = k2s[i] > worst ? k2s[i] : worst;
        printf("  %-44s %9.1f ms\n", "median, beyond the output latency", median(k2s, measured));
        printf("  %-44s %9.1f ms\n", "worst", worst);
        printf("  %-44s %9d ms\n", "  of which the fade (TT_FADE_MS)", TT_FADE_MS);
    } else {
        printf("  not measured: the welcome was not found in the capture by its samples\n");
    }
    free(cap);
    free(ref);
}

static bool log_has(const char *log, const char *what)
{
    FILE *f = fopen(log, "r");
    char line[256];
    bool found = false;
    while (f && !found && fgets(line, sizeof(line), f))
        found = strstr(line, what) != NULL;
    if (f)
        fclose(f);
    return found;
}

/* CPU (% of a core) and wake-ups per second of the kiosk over secs, while pumping its pty. */
static void sample(struct kiosk *k, pid_t server, double secs, const char *what)
{
    struct tasks w0, w1;
    int threads;
    double k0 = cpu_seconds(k->pid), p0 = cpu_seconds(server), t0 = now_s();
    wakeups(k->pid, &w0);
    pump(k, t0 + secs);
    double k1 = cpu_seconds(k->pid), p1 = cpu_seconds(server), t1 = now_s();
    wakeups(k->pid, &w1);
    long long woke = wakeups_between(&w0, &w1, &threads);
    printf("  %-44s %9.2f %% of a core\n", what, 100.0 * (k1 - k0) / (t1 - t0));
    printf("  %-44s %9.0f /s  (threads %d -> %d)\n", "    wake-ups (context switches)",
           (double)woke / (t1 - t0), w0.n, w1.n);
    printf("  %-44s %9.2f %% of a core\n", "    the sound server meanwhile",
           100.0 * (p1 - p0) / (t1 - t0));
}

/* (a): with --idle 1 the kiosk falls asleep a second after it starts (cutting the welcome);
 * the kiosk stops its output stream after a few silent seconds, so both phases are shown. */
static void idle_cpu(struct ctx *c)
{
    struct kiosk k;
    remove(c->log);
    if (kiosk_start(&k, c->cache, c->log, "1", "48000", c->err))
        return;
    if (wait_line(&k, 0, NULL, 30.0) < 0) {
        printf("  the kiosk showed nothing within 30 s\n");
        kiosk_stop(&k);
        return;
    }
    double until = now_s() + 10.0;
    while (!log_has(c->log, "reset idle") && now_s() < until)
        pump(&k, now_s() + 0.01);
    double t_reset = now_s();
    printf("(a) CPU of an idle kiosk (asleep after --idle 1; /proc/PID/stat)\n");
    pump(&k, t_reset + 0.5);
    sample(&k, c->pulse, 4.0, "asleep, first 4 s (output stream open)");
    pump(&k, t_reset + 7.0);
    sample(&k, c->pulse, CPU_SECONDS, "asleep, the next 10 s (aim ~0)");
    printf("  %-44s %9zu\n", "lines shown (the welcome, cut by the reset)", k.n);
    kiosk_stop(&k);
}

/* PortAudio's own figure for the stream the kiosk opens (same device, rate and options). */
static void output_latency(void)
{
    tt_diag *d = tt_diag_new();
    struct tt_out *o = NULL;
    struct tt_out_opts oo = {.rate = RATE};
    printf("PortAudio's output latency for the kiosk's stream (not printed by the kiosk)\n");
    if (tt_out_open(&o, &oo, d) == 0) {
        printf("  %-44s %9.1f ms\n", "reported by Pa_GetStreamInfo", tt_out_latency(o) * 1e3);
        printf("  (what a listener hears of a cut: (c) plus this)\n");
        tt_out_close(o);
    } else {
        tt_diag_print(d, stdout);
    }
    tt_diag_free(d);
}

int main(void)
{
    char buf[1024];
    printf("kiosk on the device path: build/tonetree run %s, PulseAudio null sink, 48 kHz\n",
           GUIDE);
    if (!find_program("pulseaudio", buf, sizeof(buf)) ||
        !find_program("pactl", buf, sizeof(buf)) || !find_program("parec", buf, sizeof(buf))) {
        printf("  skipped: pulseaudio, pactl or parec is not installed (scripts/deps.sh)\n");
        return 0;
    }
    if (access("build/tonetree", X_OK)) {
        printf("  skipped: build/tonetree is missing (make build/tonetree)\n");
        return 0;
    }
    struct ctx c = {0};
    snprintf(c.dir, sizeof(c.dir), "/tmp/tonetree-bench-XXXXXX");
    if (!mkdtemp(c.dir)) {
        printf("  skipped: no temporary folder: %s\n", strerror(errno));
        return 0;
    }
    char run[128], home[128];
    snprintf(run, sizeof(run), "%s/run", c.dir);
    snprintf(home, sizeof(home), "%s/home", c.dir);
    snprintf(c.cache, sizeof(c.cache), "%s/cache", c.dir);
    snprintf(c.log, sizeof(c.log), "%s/nav.log", c.dir);
    snprintf(c.err, sizeof(c.err), "%s/kiosk.err", c.dir);
    snprintf(c.cap, sizeof(c.cap), "%s/cap.raw", c.dir);
    snprintf(c.palog, sizeof(c.palog), "%s/pulse.log", c.dir);
    mkdir(run, 0700);
    mkdir(home, 0700);
    /* This process and its children talk to the private server only. */
    setenv("XDG_RUNTIME_DIR", run, 1);
    setenv("HOME", home, 1);
    unsetenv("ALSA_CONFIG_PATH");
    unsetenv("PULSE_SERVER");
    unsetenv("PULSE_SINK");
    unsetenv("XDG_CONFIG_HOME");

    if (start_audio(&c)) {
        printf("  skipped: the private PulseAudio server did not come up (log: %s)\n", c.palog);
    } else {
        memory_and_key_to_silence(&c);
        output_latency();
        idle_cpu(&c);
    }
    stop_child(&c.parec);
    stop_child(&c.pulse);
    nftw(c.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
