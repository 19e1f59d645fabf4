/*
 * The floor under the SIP benchmark: the least a process can do to send N telephone streams,
 * so that the engine's figures can be read against it. No tonetree, no libre, no codec: N
 * pairs of UDP sockets on 127.0.0.1, one thread sending a 172-byte packet (an RTP header of
 * 12 bytes and 20 ms of PCMU, 160) on each sending socket every 20 ms, another receiving
 * them on the other side, for a given number of seconds. Then one line of key=value:
 *
 *   packets sent and received, and lost (sent less received, after the receiver drained);
 *   the send-time error, p50, p99 and max, in ms: when sendto() returned, less when the
 *   packet was due (so a late wake-up and the queue of sends before it in the same slot
 *   both count, as they would for the engine);
 *   CPU time per stream per second of running, in microseconds, of the sending thread and
 *   of the receiving thread (getrusage RUSAGE_THREAD), and of both.
 *
 *   udp_floor STREAMS [SECONDS [PHASES [PORT]]]      e.g. udp_floor 1000 5
 *
 * The schedule is absolute (clock_nanosleep with TIMER_ABSTIME on CLOCK_MONOTONIC: packet k
 * is due at start + k x 20 ms, whatever happened to packet k - 1), and it has no catch-up
 * rule: a late thread sends everything due, which is the bare minimum, not a policy. The
 * streams are spread over PHASES slots 20 ms / PHASES apart (default 20: one a millisecond),
 * as calls that start at random moments are on an engine whose timers count milliseconds;
 * PHASES 1 sends every stream at the same instant, the worst case for the error.
 *
 * With PORT, stream i sends from 127.0.0.1:PORT+i (else from a port the kernel picks), so that
 * bench/rtp_capture can watch the floor's packets leave by their source ports as it watches
 * the engine's (scripts/bench-sip.sh gives the engine's --rtp-ports). Its packets are RTP
 * enough for that: version 2, SSRC i, timestamp 160 per packet.
 *
 * It binds nothing but 127.0.0.1, sending sockets included (an unbound socket would be bound
 * to every address by its first sendto). 2000 streams need 4000 descriptors: the soft limit
 * is raised to the hard limit, and if that is still too few it says so and stops.
 * Not part of `make bench`; built by `make build/bench/udp_floor`.
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PERIOD_NS 20000000LL /* 20 ms */
#define PACKET 172           /* RTP header 12 + PCMU 20 ms at 8000 Hz 160 */
#define MAX_STREAMS 20000
#define MAX_SECONDS 3600
/* Set-up before the first packet: the sockets exist, the receiver is waiting. */
#define LEAD_NS 100000000LL /* 100 ms */
/* How long the receiver goes on after the last send for packets still in flight: on
 * loopback a packet is in the receiving socket's queue when sendto returns, so this only
 * has to cover the receiving thread's own lateness. */
#define DRAIN_NS 500000000LL /* 500 ms */
/* Descriptors beyond the sockets: stdio, the epoll instance, a margin. */
#define SPARE_FDS 16

struct run {
    int n, seconds, phases;
    int port;                     /* the first sending socket's port, or 0: the kernel's */
    int *tx, *rx;                 /* the sockets, by stream */
    struct sockaddr_in *to;       /* each receiving socket's address */
    int ep;                       /* the receiver's epoll instance */
    int64_t start_ns;             /* when slot 0 is due */
    atomic_int stop;              /* the sender is done: drain, then end */
    atomic_llong stop_at_ns;
    uint64_t sent, received, bad; /* bad: a packet of the wrong size or stream */
    uint64_t send_failed;         /* sendto refused a packet (counted apart from lost) */
    uint32_t *err_ns;             /* send-time error of each packet sent */
    size_t nerr;
    double cpu_send_s, cpu_recv_s;
};

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static double thread_cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_THREAD, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           u.ru_stime.tv_usec / 1e6;
}

static void sleep_until(int64_t t)
{
    struct timespec ts = {.tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* A UDP socket bound to 127.0.0.1 on port (0: one the kernel picks); its address in *addr. */
static int loopback_socket(int port, struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        close(fd);
        return -1;
    }
    if (addr)
        *addr = a;
    return fd;
}

/* ---- receiving ---- */

#define BATCH 16

static void *receiver(void *arg)
{
    struct run *r = arg;
    double cpu0 = thread_cpu_s();
    struct epoll_event ev[256];
    static uint8_t buf[BATCH][PACKET + 64];
    struct iovec iov[BATCH];
    struct mmsghdr msg[BATCH];
    for (;;) {
        if (atomic_load(&r->stop) && now_ns() >= atomic_load(&r->stop_at_ns))
            break;
        int k = epoll_wait(r->ep, ev, 256, 50);
        for (int e = 0; e < k; e++) {
            int i = (int)ev[e].data.u32;
            /* Everything queued on this socket: one packet every 20 ms normally, more if
             * this thread was late. */
            for (;;) {
                memset(msg, 0, sizeof(msg));
                for (int b = 0; b < BATCH; b++) {
                    iov[b] = (struct iovec){.iov_base = buf[b], .iov_len = sizeof(buf[b])};
                    msg[b].msg_hdr.msg_iov = &iov[b];
                    msg[b].msg_hdr.msg_iovlen = 1;
                }
                int got = recvmmsg(r->rx[i], msg, BATCH, MSG_DONTWAIT, NULL);
                if (got <= 0)
                    break;
                for (int b = 0; b < got; b++) {
                    uint32_t ssrc;
                    memcpy(&ssrc, buf[b] + 8, 4);
                    if (msg[b].msg_len != PACKET || ntohl(ssrc) != (uint32_t)i)
                        r->bad++;
                    else
                        r->received++;
                }
                if (got < BATCH)
                    break;
            }
        }
    }
    r->cpu_recv_s = thread_cpu_s() - cpu0;
    return NULL;
}

/* ---- sending ---- */

static void send_all(struct run *r)
{
    uint8_t pkt[PACKET];
    memset(pkt, 0xFF, sizeof(pkt)); /* PCMU silence */
    pkt[0] = 0x80;                  /* RTP version 2, no padding, extension or CSRC */
    pkt[1] = 0;                     /* payload type 0, PCMU */
    int64_t slot_ns = PERIOD_NS / r->phases;
    int64_t ticks = (int64_t)r->seconds * 1000000000LL / PERIOD_NS;
    double cpu0 = thread_cpu_s();
    for (int64_t k = 0; k < ticks; k++) {
        uint16_t seq = htons((uint16_t)k);
        uint32_t ts = htonl((uint32_t)(k * 160));
        memcpy(pkt + 2, &seq, 2);
        memcpy(pkt + 4, &ts, 4);
        for (int g = 0; g < r->phases; g++) {
            int64_t due = r->start_ns + k * PERIOD_NS + g * slot_ns;
            sleep_until(due);
            for (int i = g; i < r->n; i += r->phases) {
                uint32_t ssrc = htonl((uint32_t)i);
                memcpy(pkt + 8, &ssrc, 4);
                if (sendto(r->tx[i], pkt, sizeof(pkt), 0, (struct sockaddr *)&r->to[i],
                           sizeof(r->to[i])) == (ssize_t)sizeof(pkt))
                    r->sent++;
                else
                    r->send_failed++;
                int64_t late = now_ns() - due;
                r->err_ns[r->nerr++] = late < 0 ? 0 : late > UINT32_MAX ? UINT32_MAX
                                                                        : (uint32_t)late;
            }
        }
    }
    r->cpu_send_s = thread_cpu_s() - cpu0;
}

/* ---- setting up ---- */

/* Raise the soft limit on descriptors to the hard one; fail if even that is too few. */
static int enough_descriptors(long need, long *have)
{
    struct rlimit l;
    if (getrlimit(RLIMIT_NOFILE, &l) < 0)
        return -1;
    if (l.rlim_cur < l.rlim_max) {
        l.rlim_cur = l.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &l) < 0)
            return -1;
    }
    *have = l.rlim_cur == RLIM_INFINITY ? 1L << 30 : (long)l.rlim_cur;
    return *have >= need ? 0 : -1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The value a fraction q of the sorted v come up to (rank ceil(q n)). */
static double pct_ms(const uint32_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)(q * (double)n);
    if ((double)rank < q * (double)n || rank == 0)
        rank++;
    return v[rank - 1] / 1e6;
}

int main(int argc, char **argv)
{
    struct run r = {.seconds = 5, .phases = 20, .ep = -1};
    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: udp_floor STREAMS [SECONDS [PHASES [PORT]]]\n");
        return 2;
    }
    r.n = atoi(argv[1]);
    if (argc > 2)
        r.seconds = atoi(argv[2]);
    if (argc > 3)
        r.phases = atoi(argv[3]);
    if (argc > 4)
        r.port = atoi(argv[4]);
    if (r.n < 1 || r.n > MAX_STREAMS || r.seconds < 1 || r.seconds > MAX_SECONDS ||
        r.phases < 1 || r.phases > 1000 || r.port < 0 ||
        (r.port && (r.port < 1024 || r.port + r.n - 1 > 65535))) {
        fprintf(stderr, "udp_floor: STREAMS 1-%d, SECONDS 1-%d, PHASES 1-1000, PORT 1024 to "
                        "65536 less STREAMS\n",
                MAX_STREAMS, MAX_SECONDS);
        return 2;
    }
    if (r.phases > r.n)
        r.phases = r.n;

    int rc = 1;
    long need = 2L * r.n + SPARE_FDS, have = 0;
    if (enough_descriptors(need, &have) < 0) {
        fprintf(stderr,
                "udp_floor: %d streams need %ld file descriptors, and the limit is %ld "
                "(ulimit -Hn): run fewer streams, or raise the hard limit\n",
                r.n, need, have);
        return 1;
    }
    r.tx = malloc(sizeof(*r.tx) * (size_t)r.n);
    r.rx = malloc(sizeof(*r.rx) * (size_t)r.n);
    r.to = malloc(sizeof(*r.to) * (size_t)r.n);
    r.err_ns = malloc(sizeof(*r.err_ns) * (size_t)r.n * (size_t)r.seconds *
                      (size_t)(1000000000LL / PERIOD_NS));
    if (!r.tx || !r.rx || !r.to || !r.err_ns) {
        fprintf(stderr, "udp_floor: out of memory\n");
        goto out;
    }
    for (int i = 0; i < r.n; i++)
        r.tx[i] = r.rx[i] = -1;
    r.ep = epoll_create1(EPOLL_CLOEXEC);
    if (r.ep < 0) {
        perror("udp_floor: epoll_create1");
        goto out;
    }
    for (int i = 0; i < r.n; i++) {
        r.tx[i] = loopback_socket(r.port ? r.port + i : 0, NULL);
        r.rx[i] = loopback_socket(0, &r.to[i]);
        if (r.tx[i] < 0 || r.rx[i] < 0) {
            perror("udp_floor: a socket on 127.0.0.1");
            goto out;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(r.ep, EPOLL_CTL_ADD, r.rx[i], &ev) < 0) {
            perror("udp_floor: epoll_ctl");
            goto out;
        }
    }

    pthread_t rt;
    atomic_init(&r.stop, 0);
    atomic_init(&r.stop_at_ns, 0);
    if (pthread_create(&rt, NULL, receiver, &r) != 0) {
        fprintf(stderr, "udp_floor: cannot start the receiving thread\n");
        goto out;
    }
    r.start_ns = now_ns() + LEAD_NS;
    send_all(&r);
    atomic_store(&r.stop_at_ns, now_ns() + DRAIN_NS);
    atomic_store(&r.stop, 1);
    pthread_join(rt, NULL);

    qsort(r.err_ns, r.nerr, sizeof(*r.err_ns), cmp_u32);
    /* CPU seconds over this is microseconds of CPU per stream per second of running. */
    double per = (double)r.n * r.seconds / 1e6;
    printf("udp_floor streams=%d seconds=%d phases=%d sent=%llu received=%llu lost=%lld "
           "bad=%llu send_failed=%llu send_err_p50_ms=%.3f send_err_p99_ms=%.3f "
           "send_err_max_ms=%.3f cpu_send_us_per_stream_s=%.2f cpu_recv_us_per_stream_s=%.2f "
           "cpu_us_per_stream_s=%.2f nofile=%ld\n",
           r.n, r.seconds, r.phases, (unsigned long long)r.sent,
           (unsigned long long)r.received, (long long)r.sent - (long long)r.received,
           (unsigned long long)r.bad, (unsigned long long)r.send_failed,
           pct_ms(r.err_ns, r.nerr, 0.5), pct_ms(r.err_ns, r.nerr, 0.99),
           r.nerr ? r.err_ns[r.nerr - 1] / 1e6 : 0.0, r.cpu_send_s / per, r.cpu_recv_s / per,
           (r.cpu_send_s + r.cpu_recv_s) / per, have);
    rc = 0;
out:
    if (r.tx && r.rx)
        for (int i = 0; i < r.n; i++) {
            if (r.tx[i] >= 0)
                close(r.tx[i]);
            if (r.rx[i] >= 0)
                close(r.rx[i]);
        }
    if (r.ep >= 0)
        close(r.ep);
    free(r.tx);
    free(r.rx);
    free(r.to);
    free(r.err_ns);
    return rc;
}
