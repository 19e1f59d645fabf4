/*
 * Benchmarks of the kiosk's live output path (audio_out + ring), reported as medians, never
 * asserted.
 *
 * 1. Key to silence on the device path: audio plays, tt_out_cut() is called (what a key does),
 *    and we time the callback that applies the cut (the first buffer with the fade in it), the
 *    first callback buffer that is all zeros, and add the stream's output latency (what the
 *    device and the sound server still hold after a callback).
 * 2. CPU of an idle output: an open stream with nothing to play, 5 s, getrusage.
 *
 * Where: a private PulseAudio server with a null sink, which runs in real time, when the
 * `pulseaudio` program and ALSA's pulse plugin are installed; otherwise ALSA's file plugin
 * writing to /dev/null. The file plugin is not paced by any clock (the callback runs back to
 * back), so there the figures are only the callback side of the cut, and the idle CPU is
 * estimated from the cost of one callback; both are labelled so.
 */
#define _XOPEN_SOURCE 700 /* nftw, to remove the private folder PulseAudio filled */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "device/audio_out.h"
#include "tonetree.h"

#define RATE 16000
#define BUFFER_MS TT_OUT_BUFFER_MS
#define CUTS 50
#define LEVEL 8000      /* the audio that is cut: a constant, so the fade's steps stand out */
#define AHEAD_MS 40     /* how far ahead the producer keeps the ring filled */
#define IDLE_SECONDS 5

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n ? v[n / 2] : 0;
}

/* ---- what the callback saw (the tap runs in the callback thread) ---- */

struct probe {
    _Atomic uint64_t callbacks;
    _Atomic int state;      /* 0 off, 1 looking for the fade, 2 looking for all zeros, 3 done */
    _Atomic int64_t t_fade; /* when the callback that applied the cut ran */
    _Atomic int64_t t_zero; /* when the first all-zero buffer after it ran */
};

static void probe_tap(void *user, const int16_t *pcm, size_t frames, int channels)
{
    struct probe *p = user;
    atomic_fetch_add_explicit(&p->callbacks, 1, memory_order_relaxed);
    int st = atomic_load(&p->state);
    if (st != 1 && st != 2)
        return;
    size_t n = frames * (size_t)channels;
    bool faded = false, zero = true;
    for (size_t i = 0; i < n; i++) {
        if (pcm[i] != 0)
            zero = false;
        if (pcm[i] > 0 && pcm[i] < LEVEL)
            faded = true;
    }
    if (st == 1 && faded) {
        atomic_store(&p->t_fade, now_ns());
        atomic_store(&p->state, 2);
    } else if (st == 2 && zero) {
        atomic_store(&p->t_zero, now_ns());
        atomic_store(&p->state, 3);
    }
}

/* ---- the device: a private PulseAudio server, or the file plugin ---- */

struct rig {
    char dir[64];
    char conf[128];
    pid_t pulse; /* our PulseAudio child, or 0 */
};

static bool on_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[512];
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, prog);
        if (access(buf, X_OK) == 0)
            return true;
        path = end ? end + 1 : NULL;
    }
    return false;
}

static bool pulse_plugin_installed(void)
{
    return access("/usr/lib/x86_64-linux-gnu/alsa-lib/libasound_module_pcm_pulse.so", F_OK) == 0 ||
           access("/usr/lib/aarch64-linux-gnu/alsa-lib/libasound_module_pcm_pulse.so", F_OK) == 0 ||
           access("/usr/lib/alsa-lib/libasound_module_pcm_pulse.so", F_OK) == 0;
}

static bool write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs(text, f);
    return fclose(f) == 0;
}

/* Start `pulseaudio` with a real-time null sink at RATE, private to a folder; wait for its
 * socket (at most 5 s). Returns false, with nothing left running, if it does not come up. */
static bool start_pulse(struct rig *r)
{
    char run[96], home[96], sock[96], proto[160], sink[160];
    snprintf(run, sizeof(run), "%s/run", r->dir);
    snprintf(home, sizeof(home), "%s/home", r->dir);
    snprintf(sock, sizeof(sock), "%s/native", r->dir);
    mkdir(run, 0700);
    mkdir(home, 0700);
    snprintf(proto, sizeof(proto), "module-native-protocol-unix auth-anonymous=1 socket=%s", sock);
    snprintf(sink, sizeof(sink),
             "module-null-sink sink_name=out rate=%d channels=1 format=s16le norewinds=1", RATE);
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        setenv("XDG_RUNTIME_DIR", run, 1);
        setenv("HOME", home, 1);
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 1);
        dup2(fd, 2);
        execlp("pulseaudio", "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
               "--use-pid-file=no", "--disallow-module-loading", "-L", proto, "-L", sink,
               (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        if (access(sock, F_OK) == 0) {
            r->pulse = pid;
            char server[128];
            snprintf(server, sizeof(server), "unix:%s", sock);
            setenv("PULSE_SERVER", server, 1);
            return write_file(r->conf, "pcm.!default { type pulse }\n"
                                       "ctl.!default { type pulse }\n");
        }
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return false;
        sleep_us(10000);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return false;
}

static void stop_pulse(struct rig *r)
{
    if (!r->pulse)
        return;
    kill(r->pulse, SIGTERM);
    waitpid(r->pulse, NULL, 0);
    r->pulse = 0;
}

static bool use_file_plugin(struct rig *r)
{
    return write_file(r->conf, "pcm.!default {\n"
                               "    type file\n"
                               "    slave.pcm { type null }\n"
                               "    file \"/dev/null\"\n"
                               "    format \"raw\"\n"
                               "}\n"
                               "ctl.!default { type hw card 0 }\n");
}

/* CPU seconds a process has used, from /proc (for the sound server). */
static double proc_cpu(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    /* after the name: state, then 10 fields, then utime and stime (fields 14 and 15) */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* ---- 1. key to silence ---- */

/* Keep the ring AHEAD_MS full of LEVEL for `ms` milliseconds, as the player's thread would. */
static void play_for(struct tt_out *o, const int16_t *level, int ms, bool paced)
{
    size_t ahead = RATE * AHEAD_MS / 1000;
    if (!paced) { /* the unpaced callback drains anything at once: queue a lot, just once */
        size_t space = tt_out_space(o);
        while (space > 0) {
            size_t k = tt_out_write(o, level, space < RATE ? space : RATE);
            space -= k;
            if (k == 0)
                break;
        }
        return;
    }
    int64_t end = now_ns() + (int64_t)ms * 1000000;
    while (now_ns() < end) {
        size_t fill = (size_t)(tt_out_written(o) - tt_out_played(o));
        if (fill < ahead)
            tt_out_write(o, level, ahead - fill);
        sleep_us(2000);
    }
}

static int bench_cut(struct tt_out *o, struct probe *p, bool paced)
{
    static int16_t level[RATE];
    for (size_t i = 0; i < RATE; i++)
        level[i] = LEVEL;
    double to_fade[CUTS], to_zero[CUTS];
    int done = 0, missed = 0;
    unsigned seed = 1;
    for (int i = 0; i < CUTS + 20 && done < CUTS; i++) {
        seed = seed * 1103515245u + 12345u;
        play_for(o, level, 60 + (int)(seed >> 16) % 90, paced); /* cut at a random phase */
        atomic_store(&p->state, 1);
        int64_t t0 = now_ns();
        tt_out_cut(o);
        while (atomic_load(&p->state) != 3 && now_ns() - t0 < 1000000000)
            sleep_us(200);
        if (atomic_load(&p->state) != 3) {
            missed++; /* the ring had run dry before the cut: nothing to fade */
            atomic_store(&p->state, 0);
            continue;
        }
        atomic_store(&p->state, 0);
        to_fade[done] = (double)(atomic_load(&p->t_fade) - t0) / 1e6;
        to_zero[done] = (double)(atomic_load(&p->t_zero) - t0) / 1e6;
        done++;
    }
    double lat = tt_out_latency(o) * 1e3;
    double mf = median(to_fade, done), mz = median(to_zero, done);
    printf("key to silence on the device path (median of %d cuts, %d-ms buffers, %d Hz)\n",
           done, BUFFER_MS, RATE);
    if (missed)
        printf("  (%d cuts found the ring already empty and were not counted)\n", missed);
    printf("  %-44s %9.3f ms\n", "cut -> callback that applies it (fade)", mf);
    printf("  %-44s %9.3f ms\n", "the fade itself (by design)", 5.0);
    printf("  %-44s %9.3f ms\n", "cut -> first all-zero callback buffer", mz);
    if (paced) {
        printf("  %-44s %9.3f ms\n", "output latency (tt_out_latency)", lat);
        printf("  %-44s %9.3f ms\n", "key to silence at the output", mz + lat);
        printf("  %-44s %9.3f ms\n", "  (audible end: apply + fade + latency)", mf + 5.0 + lat);
    } else {
        printf("  CALLBACK SIDE ONLY: the file plugin runs unpaced, so these are the time for\n"
               "  the running callback loop to see the cut, not what a listener would hear.\n"
               "  Reported output latency (not added): %.3f ms\n", lat);
    }
    return done > 0 ? 0 : 1;
}

/* ---- 2. idle CPU ---- */

static void bench_idle(struct tt_out *o, struct probe *p, const struct rig *r, bool paced)
{
    uint64_t c0 = atomic_load(&p->callbacks);
    double cpu0 = self_cpu(), srv0 = r->pulse ? proc_cpu(r->pulse) : 0;
    int64_t t0 = now_ns();
    sleep_us(IDLE_SECONDS * 1000000L);
    double wall = (double)(now_ns() - t0) / 1e9;
    double cpu = self_cpu() - cpu0, srv = r->pulse ? proc_cpu(r->pulse) - srv0 : 0;
    uint64_t calls = atomic_load(&p->callbacks) - c0;
    printf("CPU of an idle output stream (%d s, nothing to play; %llu callbacks, %llu "
           "underruns)\n",
           IDLE_SECONDS, (unsigned long long)calls, (unsigned long long)tt_out_underruns(o));
    if (paced) {
        printf("  %-44s %9.3f %% of one core\n", "this process (callback + client threads)",
               100.0 * cpu / wall);
        printf("  %-44s %9.3f %% of one core\n", "the PulseAudio server (reference)",
               100.0 * srv / wall);
    } else {
        double per_call = calls ? cpu / (double)calls : 0;
        double real_rate = (double)RATE / (RATE * BUFFER_MS / 1000);
        printf("  ESTIMATE: the file plugin runs unpaced (%.0f callbacks/s, %.0f %% of a core),\n"
               "  so CPU is given per callback (PortAudio + ALSA + the callback) and scaled\n"
               "  to %.0f callbacks/s of a real device.\n",
               (double)calls / wall, 100.0 * cpu / wall, real_rate);
        printf("  %-44s %9.3f us\n", "CPU per callback", per_call * 1e6);
        printf("  %-44s %9.3f %% of one core\n", "estimated idle CPU at real pacing",
               100.0 * per_call * real_rate);
    }
}

int main(void)
{
    struct rig r = {0};
    strcpy(r.dir, "/tmp/tt-bench-audio-XXXXXX");
    if (!mkdtemp(r.dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(r.conf, sizeof(r.conf), "%s/alsa.conf", r.dir);
    bool paced = on_path("pulseaudio") && pulse_plugin_installed() && start_pulse(&r);
    if (!paced && !use_file_plugin(&r)) {
        perror(r.conf);
        return 1;
    }
    setenv("ALSA_CONFIG_PATH", r.conf, 1);
    printf("device path: %s\n", paced ? "PulseAudio null sink (real time), through ALSA's pulse "
                                        "plugin"
                                      : "ALSA file plugin to /dev/null (unpaced; PulseAudio "
                                        "not installed or did not start)");

    tt_diag *d = tt_diag_new();
    struct probe p = {0};
    struct tt_out *o = NULL;
    struct tt_out_opts opts = {.rate = RATE, .buffer_ms = BUFFER_MS,
                               .ring_ms = paced ? 200 : 10000, /* see play_for */
                               .tap = probe_tap, .tap_user = &p};
    int rc = tt_out_open(&o, &opts, d);
    if (rc) {
        tt_diag_print(d, stderr);
        goto out;
    }
    sleep_us(200000); /* let the stream settle */
    rc = bench_cut(o, &p, paced);
    tt_out_close(o);
    o = NULL;

    /* A fresh stream for the idle figure: nothing was ever written to it. */
    opts.ring_ms = 200;
    rc = rc || tt_out_open(&o, &opts, d);
    if (rc) {
        tt_diag_print(d, stderr);
        goto out;
    }
    sleep_us(200000);
    bench_idle(o, &p, &r, paced);
out:
    tt_out_close(o);
    tt_diag_free(d);
    stop_pulse(&r);
    nftw(r.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc ? 1 : 0;
}
