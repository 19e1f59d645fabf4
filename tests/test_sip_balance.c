/*
 * Several `tonetree sip` engines behind Kamailio (examples/kamailio/), end to end, with callers
 * nobody here wrote: SIPp places the calls, Kamailio 5.6 balances them, three engines answer.
 * Everything is on loopback, on a block of free ports chosen per run and held by the test
 * until the process that needs a port starts (taken_ports).
 *
 * The group fixture starts three engines on one cache folder (the first alone, since on an
 * empty cache it prepares every prompt at every speed; the other two then start in a second or
 * two), then Kamailio on the example's own kamailio.cfg, unchanged: the ports, the list file of
 * the three engines and the control socket are given as -A defines, so what is tested is what
 * the README tells people to run. The tests then run in order on that one set of processes,
 * each leaving the next a smaller pool: all three engines in service, then one killed, then
 * another drained. Each call is tests/data/sip-balance-call.xml: INVITE with a PCMU offer,
 * 200, ACK, a pause of -d ms, BYE through Kamailio's Record-Route. Its <log> line says when
 * the INVITE left, when the 200 came and which engine answered (the 200's Contact), so the
 * caller's side of every check is read from SIPp and the engine's side from the engine's own
 * call log, and the two must agree.
 *
 * What is asserted, and why it cannot pass by accident:
 *  - Spread: nine calls, 100 ms apart, with all three engines in service, go three to each
 *    engine, and in turn: calls n, n+3, n+6 to the same one. Round-robin is a counter in
 *    Kamailio's shared memory, moved once per new INVITE (retransmissions are answered before
 *    the choice, see the cfg), so with no engine failing the split is exact; the test checks
 *    that no call waited for a failover (which would shift the turn) before it counts. A
 *    balancer that picks at random or by a hash of the Call-ID lands on this pattern with
 *    probability 3!/3^9, about 1 in 3300; one that sends everything to the first engine fails.
 *  - A killed engine (SIGKILL): three calls placed at once are all answered, and exactly one
 *    of them waited for the failover (INVITE_TIMEOUT, 3 s) and was then answered by another
 *    engine. Three consecutive turns over three engines hit the dead one exactly once, and no
 *    probe can have marked it down first: a probe sent after the kill waits PING_TIMEOUT
 *    (1.5 s) before it gives up, and the test checks that the three INVITEs left well inside
 *    that. Once Kamailio says the engine is down, four more calls are all answered with no
 *    wait (under half of INVITE_TIMEOUT: a failover costs all of it), none by the dead one.
 *  - A drained engine (SIGTERM while it has a call): the call runs to its end through
 *    Kamailio (SIPp's BYE gets its 200; the engine's log line says end=caller-hung-up, with a
 *    length of the call's pause); three calls placed once the engine has said it is draining
 *    are all answered at once by the engines still in service, and the drained engine's log
 *    has nothing but its one call (a call it took would be there); Kamailio takes it out of
 *    the turn within a probe; the engine exits with status 0 after its call. Neither it nor
 *    the dead engine is ever taken back into the turn meanwhile (several probes each): a
 *    probe that accepted 503, or its own timeout's 408, would bring them back, and the
 *    example's ds_ping_reply_codes is what keeps them out.
 * Each of these was seen to fail on a copy of kamailio.cfg broken on purpose: a hash in
 * place of round-robin, no record_route, 503 or 408 accepted from probes, no failover on 503.
 *
 * Facts about this machine's tools established with it (Debian 12: kamailio 5.6.3, SIPp
 * 3.6.1); each run prints what it saw:
 *  - Kamailio's round-robin walks the list file from its last line up.
 *  - A draining engine's 503 to a probe takes it out at once (0.5 to 1 s after SIGTERM, by
 *    hand), and so does a 503 to an INVITE (failure_route): the call goes to the next engine
 *    with no wait. A dead engine goes out when a probe times out (PING_TIMEOUT after the
 *    first probe sent after its death: 2.1 to 3.0 s after a SIGKILL, by hand) or when an
 *    INVITE to it does (INVITE_TIMEOUT), whichever comes first; the caller of that INVITE
 *    waits 2.85 to 3.0 s (tm's timer fires a little early). In this test the probe came
 *    first in 14 runs of 20 for the dead engine, and the INVITE's 503 in all 20 for the
 *    draining one (the new calls leave right after it says it drains).
 *  - SIPp binds a control socket on every interface (UDP 8888 and up) unless told -ci and
 *    -cp; it binds the media port given with -mp and that port + 2 (for video). Its
 *    gettimeofday action writes seconds and microseconds as "%f" numbers.
 *  - Kamailio runs in the foreground with -DD -E, its runtime files in a folder of the
 *    test's (-Y), and its control socket there too (the cfg's CTL_SOCKET, whose default is
 *    under /run/kamailio); it is ready when it answers an OPTIONS (options_ok).
 *  - SIPp that cannot bind one of its ports ends at once (status 254) with an empty log.
 *
 * Every wait is bounded and every child (engines, Kamailio and its own children, SIPp) is
 * stopped by its pid in the teardowns, whatever failed. 25 to 40 s here beside other suites,
 * 7 to 20 s of it the first engine preparing its prompts. The folder (Kamailio's messages,
 * the engines' logs, SIPp's traces) is kept and named when a test fails, or with
 * TT_SIP_KEEP=1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "proclib.h"
#include "testlib.h"

#define MENU "tests/data/sip.ini"
#define CFG "examples/kamailio/kamailio.cfg"
#define SCENARIO "tests/data/sip-balance-call.xml"
#define NENG 3

/* The example's timers (kamailio.cfg's defaults, not overridden here). */
#define INVITE_TIMEOUT_S 3.0
#define PING_INTERVAL_S 2.0
#define PING_TIMEOUT_S 1.5

/* A call answered with no failover: far under INVITE_TIMEOUT_S, which a failover costs (less
 * tm's early firing: 2.85 s seen). Calls are answered in a few ms here; half of it leaves a
 * loaded machine 1.5 s. */
#define NO_WAIT_S (INVITE_TIMEOUT_S / 2)
/* A call that waited for a failover: tm's timer fired at 2.85 to 3.0 s for 3 s. */
#define FAILOVER_WAIT_S (INVITE_TIMEOUT_S - 0.5)
/* The drained engine's call: long enough to drain around, short beside the file's budget. */
#define LONG_MS 5000
/* Its length in the engine's log: from the ACK to the BYE, which SIPp sends LONG_MS apart;
 * each crosses Kamailio (ms), and the log rounds to 0.1 s. */
#define LONG_LO_S (LONG_MS / 1000.0 - 0.3)
#define LONG_HI_S (LONG_MS / 1000.0 + 1.0)
/* Bounds for failing, not for speed: the first engine on an empty cache (about 25 s on a busy
 * machine), the others on a full one, Kamailio, one SIPp run. */
#define COLD_START_S 150.0
#define WARM_START_S 60.0
#define KAMAILIO_START_S 20.0
#define SIPP_SLACK_S 30.0

/* ---- ports: a block of free loopback ports for the run ---- */

/*
 * The block, all UDP on 127.0.0.1:
 *   +0 Kamailio           +2, +4, +6 the engines' SIP
 *   +10 SIPp A SIP, +11 its control socket, +12 its media (+14 video)
 *   +20 SIPp B (the same way)
 *   +40..+59, +60..+79, +80..+99 the engines' RTP
 */
#define BLOCK 100
#define PORT_LO 16384 /* under Linux's ephemeral range (32768 on) */
#define PORT_HI 32768

/*
 * The block is held from the start: a socket bound on each of its ports, closed just before
 * the process that needs the port starts (and bound again after a SIPp run). A port found
 * free at the start and left unbound for the half minute until a later test needs it was
 * seen taken meanwhile (other suites on this machine choose blocks the same way), and SIPp,
 * told -cp and -mp, then ends before its first call.
 */
static int held[BLOCK]; /* a socket on port base + i, or -1 */
static int held_base;

/* A socket bound on 127.0.0.1:port (close-on-exec: no child inherits it), or -1. */
static int hold_port(int port)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(s);
        return -1;
    }
    return s;
}

/* Let go of ports lo..hi of the block, for a process about to bind them. */
static void release_ports(int lo, int hi)
{
    for (int p = lo; p <= hi; p++)
        if (held[p - held_base] >= 0) {
            close(held[p - held_base]);
            held[p - held_base] = -1;
        }
}

/* Hold ports lo..hi again, those still free (after the process that used them has ended). */
static void hold_ports(int lo, int hi)
{
    for (int p = lo; p <= hi; p++)
        if (held[p - held_base] < 0)
            held[p - held_base] = hold_port(p);
}

/* The first block whose every port is free, held, from a place the pid chooses (two runs at
 * once start apart). */
static int taken_ports(void)
{
    unsigned nblocks = (PORT_HI - PORT_LO) / BLOCK;
    unsigned first = ((unsigned)getpid() * 53u + 17u) % nblocks;
    for (unsigned k = 0; k < nblocks; k++) {
        held_base = PORT_LO + (int)((first + k) % nblocks) * BLOCK;
        bool ok = true;
        for (int i = 0; i < BLOCK; i++) {
            held[i] = ok ? hold_port(held_base + i) : -1;
            ok = held[i] >= 0;
        }
        if (ok)
            return held_base;
        release_ports(held_base, held_base + BLOCK - 1);
    }
    fail_msg("no block of %d free loopback UDP ports between %d and %d", BLOCK, PORT_LO,
             PORT_HI);
    return 0;
}

/* ---- the processes: what the fixture started ---- */

struct engine {
    pid_t pid;
    int port, rtp_lo, rtp_hi;
    char log[600], err[600];
    bool dead;     /* killed by a test */
    bool draining; /* sent SIGTERM by a test */
};

#define MAX_SIPP 4

static struct {
    char *dir;
    char cache[600], run[600], list[600], kam_out[600], kam_err[600];
    int base;
    pid_t kam;
    struct engine eng[NENG];
    pid_t sipp[MAX_SIPP]; /* SIPp runs not yet reaped */
    unsigned nruns;       /* SIPp runs so far: each has its own files */
    bool in_test;         /* a test body began and has not returned: it failed */
    bool keep;            /* keep the folder: asked for, or a test failed */
} G;

static int kam_port(void)
{
    return G.base;
}

/* The program's path, looked up in PATH before fork (the child only execs). */
static bool find_program(const char *prog, char *buf, size_t size)
{
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin:/usr/sbin:/sbin"; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        snprintf(buf, size, "%.*s/%s", (int)n, p, prog);
        if (access(buf, X_OK) == 0)
            return true;
        p += n + (end ? 1 : 0);
    }
    /* kamailio is in /usr/sbin, which a user's PATH may lack */
    snprintf(buf, size, "/usr/sbin/%s", prog);
    return access(buf, X_OK) == 0;
}

/* fork + exec, stdout and stderr to files; with group, the child leads a process group of its
 * own (Kamailio forks its workers: the group is how none of them outlives the test). */
static pid_t spawn(char *const argv[], const char *out, const char *err, bool group)
{
    char path[1024];
    if (!find_program(argv[0], path, sizeof(path)))
        fail_msg("%s is not installed: scripts/deps.sh installs it (packages kamailio, "
                 "sip-tester)",
                 argv[0]);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (group)
            setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || o < 0 || e < 0)
            _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        for (int fd = 3; fd < 256; fd++)
            close(fd);
        execv(path, argv);
        _exit(127);
    }
    if (group)
        setpgid(pid, pid); /* also here: whichever runs first, the group exists before a kill */
    return pid;
}

/* Wait up to secs for pid to end; true (and *status) when it did. */
static bool wait_bounded(pid_t pid, double secs, int *status)
{
    double until = tl_now() + secs;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return true;
        if (r < 0 || tl_now() >= until)
            return false;
        tl_sleep(0.01);
    }
}

/* SIGTERM, a bounded wait, then SIGKILL (to the whole group when it leads one). */
static void stop_pid(pid_t *pid, int sig, double secs, bool group)
{
    int status;
    if (*pid <= 0)
        return;
    kill(*pid, sig);
    if (!wait_bounded(*pid, secs, &status)) {
        kill(group ? -*pid : *pid, SIGKILL); /* with every worker it had forked */
        waitpid(*pid, &status, 0);
    }
    *pid = 0;
}

static void path_in(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", G.dir, name);
}

/* ---- the engines ---- */

static void engine_start(int i)
{
    struct engine *e = &G.eng[i];
    char name[32];
    snprintf(name, sizeof(name), "engine%d.log", i + 1);
    path_in(e->log, sizeof(e->log), name);
    snprintf(name, sizeof(name), "engine%d.err", i + 1);
    path_in(e->err, sizeof(e->err), name);
    char listen[32], rtp[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", e->port);
    snprintf(rtp, sizeof(rtp), "%d-%d", e->rtp_lo, e->rtp_hi);
    const char *argv[] = {"tonetree", "sip",   MENU, "--listen", listen, "--rtp-ports", rtp,
                          "--cache",  G.cache, "--log", e->log, NULL};
    struct tl_proc p = {.argv = argv, .in = -1, .err = e->err, .tmp = G.dir};
    release_ports(e->port, e->port);
    release_ports(e->rtp_lo, e->rtp_hi);
    e->pid = tl_proc_start(&p);
}

static void engine_wait_ready(int i, double secs)
{
    char what[64];
    snprintf(what, sizeof(what), "listening on 127.0.0.1:%d", G.eng[i].port);
    tl_wait_file(G.eng[i].err, what, 0, secs);
}

static int engine_by_port(int port)
{
    for (int i = 0; i < NENG; i++)
        if (G.eng[i].port == port)
            return i;
    return -1;
}

static bool in_service(int i)
{
    return G.eng[i].pid > 0 && !G.eng[i].dead && !G.eng[i].draining;
}

/* One line of an engine's call log. */
struct logcall {
    char callid[128];
    double length;
    char end[32];
};

/* The calls an engine has logged from byte `from` of its log on. */
static size_t engine_calls(int i, size_t from, struct logcall *out, size_t max)
{
    size_t n, k = 0;
    char *b = tl_read_file(G.eng[i].log, &n);
    for (char *line = from < n ? b + from : b + n; *line && k < max;) {
        char *nl = strchr(line, '\n');
        if (!nl)
            break; /* a line still being written */
        *nl = '\0';
        struct logcall c;
        if (sscanf(line, "call call-id=%127s start=%*s length=%lf end=%31s", c.callid,
                   &c.length, c.end) == 3)
            out[k++] = c;
        line = nl + 1;
    }
    free(b);
    return k;
}

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* ---- Kamailio ---- */

/* Whether something answers an OPTIONS on 127.0.0.1:port with 200 within secs. */
static bool options_ok(int port, double secs)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in me = {.sin_family = AF_INET}, to = me;
    me.sin_addr.s_addr = to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons((uint16_t)port);
    socklen_t len = sizeof(me);
    assert_int_equal(bind(s, (struct sockaddr *)&me, sizeof(me)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&me, &len), 0);
    bool ok = false;
    double until = tl_now() + secs;
    for (unsigned try = 0; !ok && tl_now() < until; try++) {
        char req[512];
        int n = snprintf(req, sizeof(req),
                         "OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"
                         "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-balance-%u\r\n"
                         "Max-Forwards: 70\r\n"
                         "From: <sip:test@127.0.0.1>;tag=balance%u\r\n"
                         "To: <sip:127.0.0.1:%d>\r\n"
                         "Call-ID: ready-%d-%u@127.0.0.1\r\n"
                         "CSeq: 1 OPTIONS\r\n"
                         "Content-Length: 0\r\n\r\n",
                         port, ntohs(me.sin_port), try, try, port, (int)getpid(), try);
        (void)sendto(s, req, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to));
        struct pollfd p = {.fd = s, .events = POLLIN};
        if (poll(&p, 1, 300) == 1) {
            char rep[2048];
            ssize_t r = recv(s, rep, sizeof(rep) - 1, 0);
            ok = r > 0 && !strncmp(rep, "SIP/2.0 200", 11);
        }
    }
    close(s);
    return ok;
}

static void kamailio_start(void)
{
    FILE *f = fopen(G.list, "w");
    assert_non_null(f);
    for (int i = 0; i < NENG; i++)
        fprintf(f, "1 sip:127.0.0.1:%d\n", G.eng[i].port);
    fclose(f);
    char listen[64], list[700], ctl[700];
    snprintf(listen, sizeof(listen), "LISTEN=udp:127.0.0.1:%d", kam_port());
    snprintf(list, sizeof(list), "DISPATCHER_LIST=\"%s\"", G.list);
    snprintf(ctl, sizeof(ctl), "CTL_SOCKET=\"unix:%s/ctl\"", G.run);
    /* -DD -E: in the foreground, its messages on stderr; -Y: its runtime files in the test's
     * folder; -m -M: shared and private memory (MB), small */
    char *argv[] = {"kamailio", "-f", CFG, "-DD", "-E", "-Y", G.run, "-m", "64", "-M", "8",
                    "-A", listen, "-A", list, "-A", ctl, NULL};
    release_ports(kam_port(), kam_port());
    G.kam = spawn(argv, G.kam_out, G.kam_err, true);
    if (!options_ok(kam_port(), KAMAILIO_START_S)) {
        char *err = tl_slurp(G.kam_err);
        fail_msg("Kamailio did not answer OPTIONS on 127.0.0.1:%d within %.0f s; it said:\n%s",
                 kam_port(), KAMAILIO_START_S, err);
    }
}

/* ---- SIPp: N calls through Kamailio ---- */

struct answered {
    char callid[128];
    int number; /* SIPp's call number, the Call-ID's first part */
    double sent, answered, wait;
    int engine; /* the engine whose Contact was in the 200, or -1 */
};

struct sipp_run {
    int slot; /* 0: ports +10..+14, 1: +20..+24 */
    int calls;
    pid_t pid;
    int status;
    char log[600], out[600], err[600], msg[600], errors[600];
    struct answered a[16];
    size_t na;
};

static void sipp_start(struct sipp_run *r, int slot, int calls, int pause_ms)
{
    memset(r, 0, sizeof(*r));
    r->slot = slot;
    r->calls = calls;
    unsigned n = ++G.nruns;
    char name[64];
#define SIPP_FILE(field, what)                                                                 \
    snprintf(name, sizeof(name), "sipp%u.%s", n, what);                                        \
    path_in(r->field, sizeof(r->field), name)
    SIPP_FILE(log, "log");
    SIPP_FILE(out, "out");
    SIPP_FILE(err, "stderr");
    SIPP_FILE(msg, "messages");
    SIPP_FILE(errors, "errors");
#undef SIPP_FILE
    int base = G.base + 10 + 10 * slot; /* SIP, control, media, (video at media + 2) */
    char remote[32], sip[16], ctrl[16], media[16], m[16], d[16], timeout[16];
    snprintf(remote, sizeof(remote), "127.0.0.1:%d", kam_port());
    snprintf(sip, sizeof(sip), "%d", base);
    snprintf(ctrl, sizeof(ctrl), "%d", base + 1);
    snprintf(media, sizeof(media), "%d", base + 2);
    snprintf(m, sizeof(m), "%d", calls);
    snprintf(d, sizeof(d), "%d", pause_ms);
    snprintf(timeout, sizeof(timeout), "%ds", pause_ms / 1000 + 20);
    /* -r 10: a call every 100 ms. -timeout with -timeout_error: a run that overstays ends
     * itself, failed. -ci -cp: its control socket on loopback (it binds every interface
     * otherwise). -trace_logs: the scenario's <log> lines; -trace_msg and -trace_err: what a
     * failure is read from. */
    char *argv[] = {"sipp", remote, "-sf", SCENARIO, "-i", "127.0.0.1", "-p", sip, "-mp", media,
                    "-ci", "127.0.0.1", "-cp", ctrl, "-m", m, "-r", "10", "-d", d,
                    "-timeout", timeout, "-timeout_error", "-nostdin",
                    "-trace_logs", "-log_file", r->log, "-trace_msg", "-message_file", r->msg,
                    "-trace_err", "-error_file", r->errors, NULL};
    release_ports(base, base + 4);
    r->pid = spawn(argv, r->out, r->err, false);
    for (int i = 0; i < MAX_SIPP; i++)
        if (!G.sipp[i]) {
            G.sipp[i] = r->pid;
            break;
        }
}

static void sipp_forget(pid_t pid)
{
    for (int i = 0; i < MAX_SIPP; i++)
        if (G.sipp[i] == pid)
            G.sipp[i] = 0;
}

/* The run's answered calls, as its <log> lines say. */
static void sipp_read(struct sipp_run *r)
{
    size_t n;
    char *b = tl_read_file(r->log, &n);
    r->na = 0;
    for (char *line = strtok(b, "\n"); line && r->na < 16; line = strtok(NULL, "\n")) {
        struct answered *a = &r->a[r->na];
        double s0, u0, s1, u1;
        char contact[128];
        if (sscanf(line,
                   "answered call-id=%127s sent_s=%lf sent_us=%lf answered_s=%lf "
                   "answered_us=%lf engine=%127s",
                   a->callid, &s0, &u0, &s1, &u1, contact) != 6)
            continue;
        a->number = atoi(a->callid);
        a->sent = s0 + u0 / 1e6;
        a->answered = s1 + u1 / 1e6;
        a->wait = a->answered - a->sent;
        const char *colon = strrchr(contact, ':');
        a->engine = colon ? engine_by_port(atoi(colon + 1)) : -1;
        r->na++;
    }
    free(b);
}

static void sipp_show(const struct sipp_run *r)
{
    const char *files[] = {r->out, r->err, r->errors, r->log};
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
        size_t n;
        char *b = tl_read_file(files[i], &n);
        print_message("---- %s\n%s\n", files[i], n > 6000 ? b + n - 6000 : b);
        free(b);
    }
}

/* The end of Kamailio's messages, for a failure's report. */
static void kamailio_show(void)
{
    size_t n;
    char *b = tl_read_file(G.kam_err, &n);
    print_message("---- %s\n%s\n", G.kam_err, n > 6000 ? b + n - 6000 : b);
    free(b);
}

/* Wait (bounded) until the run's first call has been answered. */
static void sipp_wait_answered(struct sipp_run *r, double secs)
{
    double until = tl_now() + secs;
    for (;;) {
        char *b = tl_read_file(r->log, &(size_t){0});
        bool answered = strstr(b, "answered ") != NULL;
        free(b);
        if (answered)
            break;
        bool gone = waitpid(r->pid, &r->status, WNOHANG) == r->pid;
        if (gone || tl_now() > until) {
            if (gone) {
                sipp_forget(r->pid);
                r->pid = 0;
            }
            sipp_show(r);
            kamailio_show();
            fail_msg("SIPp's call was not answered within %.0f s%s", secs,
                     gone ? ": SIPp ended first (see its stderr above)" : "");
        }
        tl_sleep(0.05);
    }
    sipp_read(r);
}

/* Wait (bounded) for the run to end; fails the test, showing SIPp's files, unless every call
 * was answered and hung up (SIPp's status 0: all calls successful). */
static void sipp_finish(struct sipp_run *r, double secs)
{
    bool ended = wait_bounded(r->pid, secs, &r->status);
    if (!ended) {
        kill(r->pid, SIGKILL);
        waitpid(r->pid, &r->status, 0);
    }
    sipp_forget(r->pid);
    r->pid = 0;
    hold_ports(G.base + 10 + 10 * r->slot, G.base + 14 + 10 * r->slot);
    sipp_read(r);
    if (!ended || !WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0) {
        sipp_show(r);
        kamailio_show();
        fail_msg("SIPp (%d calls) %s; %zu answered", r->calls,
                 !ended ? "did not end in time: killed"
                        : "ended with a failed call (see its files above)",
                 r->na);
    }
    if (r->na != (size_t)r->calls) {
        sipp_show(r);
        fail_msg("SIPp logged %zu answered calls of %d", r->na, r->calls);
    }
}

/* Wait (bounded) until every answered call of the run is in its engine's log, from the
 * offsets given on; then each engine's count of them in n[]. The log line is written as the
 * engine takes the BYE, which SIPp may see answered first. */
static void engines_logged(const struct sipp_run *r, const size_t from[NENG], int n[NENG])
{
    double until = tl_now() + 5.0;
    for (;;) {
        size_t missing = 0;
        for (int i = 0; i < NENG; i++)
            n[i] = 0;
        for (size_t k = 0; k < r->na; k++) {
            int e = r->a[k].engine;
            assert_true(e >= 0);
            struct logcall lc[64];
            size_t nl = engine_calls(e, from[e], lc, 64);
            bool found = false;
            for (size_t j = 0; j < nl; j++)
                found |= !strcmp(lc[j].callid, r->a[k].callid);
            if (found)
                n[e]++;
            else
                missing++;
        }
        if (!missing)
            return;
        if (tl_now() > until)
            fail_msg("%zu calls SIPp saw answered are in no engine's log, or in another "
                     "engine's than the one whose Contact answered",
                     missing);
        tl_sleep(0.05);
    }
}

static void log_offsets(size_t from[NENG])
{
    for (int i = 0; i < NENG; i++)
        from[i] = file_size(G.eng[i].log);
}

static double wall_now(void)
{
    struct timeval t;
    gettimeofday(&t, NULL);
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
    (void)state;
    G.keep = true; /* until it has all started */
    for (int i = 0; i < BLOCK; i++)
        held[i] = -1;
    G.dir = tl_tmpdir();
    path_in(G.cache, sizeof(G.cache), "cache");
    path_in(G.run, sizeof(G.run), "run");
    path_in(G.list, sizeof(G.list), "dispatcher.list");
    path_in(G.kam_out, sizeof(G.kam_out), "kamailio.out");
    path_in(G.kam_err, sizeof(G.kam_err), "kamailio.err");
    assert_int_equal(mkdir(G.run, 0700), 0);
    G.base = taken_ports();
    for (int i = 0; i < NENG; i++) {
        G.eng[i].port = G.base + 2 + 2 * i;
        G.eng[i].rtp_lo = G.base + 40 + 20 * i;
        G.eng[i].rtp_hi = G.eng[i].rtp_lo + 19;
    }
    /* The first engine fills the cache; the other two then read it. */
    double t0 = tl_now();
    engine_start(0);
    engine_wait_ready(0, COLD_START_S);
    double t1 = tl_now();
    engine_start(1);
    engine_start(2);
    engine_wait_ready(1, WARM_START_S);
    engine_wait_ready(2, WARM_START_S);
    double t2 = tl_now();
    kamailio_start();
    print_message("engines on 127.0.0.1:%d, %d, %d (the first ready in %.1f s, the others in "
                  "%.1f s more), Kamailio on %d, up in %.1f s\n",
                  G.eng[0].port, G.eng[1].port, G.eng[2].port, t1 - t0, t2 - t1, kam_port(),
                  tl_now() - t2);
    G.keep = false;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < MAX_SIPP; i++)
        stop_pid(&G.sipp[i], SIGKILL, 2.0, false);
    /* All at once, then each waited for: an engine drains in about 3 s, Kamailio in less. */
    for (int i = 0; i < NENG; i++)
        if (G.eng[i].pid > 0)
            kill(G.eng[i].pid, SIGTERM);
    if (G.kam > 0)
        kill(G.kam, SIGTERM);
    for (int i = 0; i < NENG; i++)
        stop_pid(&G.eng[i].pid, SIGTERM, 8.0, false);
    stop_pid(&G.kam, SIGTERM, 8.0, true);
    if (held_base)
        release_ports(held_base, held_base + BLOCK - 1);
    if (G.dir) {
        if (G.keep || getenv("TT_SIP_KEEP"))
            print_message("kept %s (Kamailio's messages, the engines' logs, SIPp's traces)\n",
                          G.dir);
        else
            tl_rmtree(G.dir);
        free(G.dir);
        G.dir = NULL;
    }
    return 0;
}

/* Before each test: its body clears in_test as it returns, so a test that failed leaves it. */
static int test_setup(void **state)
{
    (void)state;
    G.in_test = true;
    return 0;
}

/* After each test: no SIPp run outlives it, whatever failed; the folder of a failed one is
 * kept for its traces. */
static int test_teardown(void **state)
{
    (void)state;
    G.keep |= G.in_test;
    G.in_test = false;
    for (int i = 0; i < MAX_SIPP; i++)
        stop_pid(&G.sipp[i], SIGKILL, 2.0, false);
    return 0;
}

/* ---- the tests ---- */

static void the_example_configuration_passes_kamailios_own_check(void **state)
{
    (void)state;
    char out[600], err[600];
    path_in(out, sizeof(out), "check.out");
    path_in(err, sizeof(err), "check.err");
    char *argv[] = {"kamailio", "-c", "-f", CFG, NULL};
    pid_t pid = spawn(argv, out, err, true);
    int status;
    if (!wait_bounded(pid, 20.0, &status)) {
        stop_pid(&pid, SIGKILL, 1.0, true);
        fail_msg("kamailio -c did not end within 20 s");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *e = tl_slurp(err);
        fail_msg("kamailio -c -f %s refused it:\n%s", CFG, e);
    }
    G.in_test = false;
}

static void nine_calls_go_three_to_each_engine_in_turn(void **state)
{
    (void)state;
    for (int i = 0; i < NENG; i++)
        assert_true(in_service(i));
    size_t from[NENG];
    log_offsets(from);
    struct sipp_run r;
    sipp_start(&r, 0, 9, 1000);
    sipp_finish(&r, 20.0 + SIPP_SLACK_S);
    /* No failover: each was answered by the first engine it was sent to, so the turn moved
     * once per call. */
    for (size_t k = 0; k < r.na; k++)
        if (r.a[k].wait >= NO_WAIT_S)
            fail_msg("call %s waited %.2f s for its answer: an engine failed during the spread",
                     r.a[k].callid, r.a[k].wait);
    int n[NENG];
    engines_logged(&r, from, n);
    print_message("nine calls: %d, %d, %d\n", n[0], n[1], n[2]);
    for (int i = 0; i < NENG; i++)
        assert_int_equal(n[i], 3);
    /* In turn: calls n, n+3, n+6 share an engine. */
    for (size_t k = 0; k < r.na; k++)
        for (size_t j = 0; j < r.na; j++)
            if (r.a[k].number % 3 == r.a[j].number % 3 && r.a[k].engine != r.a[j].engine)
                fail_msg("calls %s and %s are three apart but went to engines %d and %d: not "
                         "round-robin",
                         r.a[k].callid, r.a[j].callid, r.a[k].engine + 1, r.a[j].engine + 1);
    G.in_test = false;
}

static void a_killed_engine_costs_one_caller_a_failover_then_none(void **state)
{
    (void)state;
    int dead = 0;
    for (int i = 0; i < NENG; i++)
        assert_true(in_service(i));
    size_t from[NENG], kfrom = file_size(G.kam_err);
    log_offsets(from);

    double killed = wall_now(); /* SIPp's times are the wall clock's */
    kill(G.eng[dead].pid, SIGKILL);
    int status;
    assert_true(wait_bounded(G.eng[dead].pid, 5.0, &status));
    G.eng[dead].pid = 0;
    G.eng[dead].dead = true;

    /* Three calls at once: three turns over three engines, one of them the dead one. */
    struct sipp_run r;
    sipp_start(&r, 0, 3, 1000);
    sipp_finish(&r, 20.0 + SIPP_SLACK_S);
    double last_sent = 0;
    int waited = -1, nwaited = 0;
    for (size_t k = 0; k < r.na; k++) {
        assert_int_not_equal(r.a[k].engine, dead);
        if (r.a[k].sent > last_sent)
            last_sent = r.a[k].sent;
        if (r.a[k].wait >= FAILOVER_WAIT_S) {
            waited = (int)k;
            nwaited++;
        } else if (r.a[k].wait >= NO_WAIT_S) {
            fail_msg("call %s waited %.2f s: neither at once nor a failover", r.a[k].callid,
                     r.a[k].wait);
        }
    }
    /* No probe could have taken the dead engine out before its INVITE: the first probe
     * after the kill gives up PING_TIMEOUT later. A run that started later than that proves
     * nothing about failover, and says so. */
    if (last_sent - killed >= PING_TIMEOUT_S - 0.2)
        fail_msg("SIPp sent its INVITEs %.2f s after the kill: too late to be sure a probe "
                 "had not found the dead engine first (a very loaded machine?)",
                 last_sent - killed);
    if (nwaited != 1)
        fail_msg("%d of the 3 calls waited for a failover; exactly one should have", nwaited);
    char what[160];
    snprintf(what, sizeof(what), "call %s: engine sip:127.0.0.1:%d did not take it (408)",
             r.a[waited].callid, G.eng[dead].port);
    tl_wait_file(G.kam_err, what, kfrom, 2.0);
    /* Out of the turn: by that call's timeout or by a probe, whichever came first. */
    snprintf(what, sizeof(what), "engine sip:127.0.0.1:%d is down, found by", G.eng[dead].port);
    size_t at = tl_wait_file(G.kam_err, what, kfrom, INVITE_TIMEOUT_S + PING_INTERVAL_S);
    char *k = tl_read_file(G.kam_err, &(size_t){0});
    char by[64] = "";
    sscanf(k + at + strlen(what), " %63[^:]", by);
    free(k);
    print_message("engine %d killed: call %s waited %.2f s for the failover and engine %d "
                  "answered it; the dead engine is out of the turn, found by %s\n",
                  dead + 1, r.a[waited].callid, r.a[waited].wait, r.a[waited].engine + 1, by);
    int n[NENG];
    engines_logged(&r, from, n);

    /* Now out of the turn: four calls, none waits, both engines left take some. */
    log_offsets(from);
    struct sipp_run after;
    sipp_start(&after, 0, 4, 1000);
    sipp_finish(&after, 20.0 + SIPP_SLACK_S);
    for (size_t k2 = 0; k2 < after.na; k2++) {
        assert_int_not_equal(after.a[k2].engine, dead);
        if (after.a[k2].wait >= NO_WAIT_S)
            fail_msg("call %s waited %.2f s after the dead engine was out of the turn",
                     after.a[k2].callid, after.a[k2].wait);
    }
    engines_logged(&after, from, n);
    print_message("then four calls: %d, %d, %d\n", n[0], n[1], n[2]);
    assert_int_equal(n[dead], 0);
    for (int i = 0; i < NENG; i++)
        if (i != dead)
            assert_true(n[i] >= 1);
    G.in_test = false;
}

static void a_draining_engine_ends_its_call_new_calls_go_elsewhere_and_it_exits_0(void **state)
{
    (void)state;
    int serving = 0;
    for (int i = 0; i < NENG; i++)
        serving += in_service(i);
    assert_true(serving >= 2);
    size_t from[NENG];
    log_offsets(from);

    /* A call that lasts LONG_MS, on whichever engine the turn gives it. */
    struct sipp_run lng;
    sipp_start(&lng, 1, 1, LONG_MS);
    sipp_wait_answered(&lng, 10.0);
    assert_int_equal(lng.na, 1);
    int d = lng.a[0].engine;
    assert_true(d >= 0 && in_service(d));

    size_t kfrom = file_size(G.kam_err);
    double termed = tl_now();
    kill(G.eng[d].pid, SIGTERM);
    G.eng[d].draining = true;
    tl_wait_file(G.eng[d].err, "draining: 1 calls to finish", 0, 5.0);

    /* New calls, from the moment it drains: all answered at once, by the others. */
    struct sipp_run r;
    sipp_start(&r, 0, 3, 1000);
    sipp_finish(&r, 20.0 + SIPP_SLACK_S);
    for (size_t k = 0; k < r.na; k++) {
        if (r.a[k].engine == d || r.a[k].engine < 0 || !in_service(r.a[k].engine))
            fail_msg("call %s was answered by engine %d, which is not in service",
                     r.a[k].callid, r.a[k].engine + 1);
        if (r.a[k].wait >= NO_WAIT_S)
            fail_msg("call %s waited %.2f s while an engine drained", r.a[k].callid,
                     r.a[k].wait);
    }
    int n[NENG];
    engines_logged(&r, from, n);

    /* Kamailio has it out of the turn: by a probe's 503, or by a call's. */
    char what[128];
    snprintf(what, sizeof(what), "engine sip:127.0.0.1:%d is down, found by", G.eng[d].port);
    size_t at = tl_wait_file(G.kam_err, what, kfrom, PING_INTERVAL_S + 3.0);
    char *k = tl_read_file(G.kam_err, &(size_t){0});
    char by[64] = "";
    sscanf(k + at + strlen(what), " %63[^:]", by);
    free(k);

    /* The call runs to its end: SIPp's BYE, through Kamailio, answered by the engine. */
    sipp_finish(&lng, LONG_MS / 1000.0 + SIPP_SLACK_S);
    double ended = tl_now();
    int status = tl_proc_finish(G.eng[d].pid, 15.0);
    double exited = tl_now();
    G.eng[d].pid = 0;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    struct logcall lc[8];
    size_t nl = engine_calls(d, from[d], lc, 8);
    if (nl != 1)
        fail_msg("the drained engine logged %zu calls since it took the long one; it should "
                 "have taken no other",
                 nl);
    assert_string_equal(lc[0].callid, lng.a[0].callid);
    assert_string_equal(lc[0].end, "caller-hung-up");
    if (lc[0].length < LONG_LO_S || lc[0].length > LONG_HI_S)
        fail_msg("the drained engine's call lasted %.1f s; SIPp held it %.1f s", lc[0].length,
                 LONG_MS / 1000.0);
    /* Out of the turn for good: the probes kept it out while it drained (503) and kept the
     * dead one out (no answer). A probe that took either for well would have said so. */
    char *kam = tl_read_file(G.kam_err, &(size_t){0});
    for (int i = 0; i < NENG; i++) {
        snprintf(what, sizeof(what), "engine sip:127.0.0.1:%d is up", G.eng[i].port);
        if ((G.eng[i].dead || G.eng[i].draining) && strstr(kam, what)) {
            kamailio_show();
            fail_msg("Kamailio took engine %d back into the turn while it was %s", i + 1,
                     G.eng[i].dead ? "dead" : "draining");
        }
    }
    free(kam);
    print_message("engine %d drained: out of the turn (found by %s), three new calls to the "
                  "others (%d, %d, %d), its own call ended after %.1f s, the engine exited 0 "
                  "%.1f s after it (%.1f s after SIGTERM)\n",
                  d + 1, by, n[0], n[1], n[2], lc[0].length, exited - ended, exited - termed);
    G.in_test = false;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_example_configuration_passes_kamailios_own_check,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(nine_calls_go_three_to_each_engine_in_turn, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(a_killed_engine_costs_one_caller_a_failover_then_none,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(
            a_draining_engine_ends_its_call_new_calls_go_elsewhere_and_it_exits_0, test_setup,
            test_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
