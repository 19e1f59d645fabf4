/*
 * A capture on loopback that does not trust the engine: when did each RTP packet really
 * leave, against when its own timestamp says it should have? The engine's metrics page keeps
 * a histogram of its send lateness, but it is the engine's own clock read at the engine's own
 * choice of moment; this reads the kernel's. An AF_PACKET socket on `lo` sees each packet as it
 * is handed to the device, inside the sender's sendto(), and stamps it with the kernel's clock
 * (a software timestamp, PACKET_TIMESTAMP / SO_TIMESTAMPNS). A filter in the kernel keeps only
 * the outgoing copy (loopback shows every packet twice: going out, then coming in) of IPv4 UDP
 * packets whose source port is in LO-HI (the engine's --rtp-ports) and whose payload starts as
 * RTP version 2 does; the packets go through a memory-mapped ring (TPACKET_V3), so a hundred
 * thousand a second cost the capture little and the machine under test less.
 *
 *   rtp_capture LO HI SECONDS
 *
 * The schedule of a stream (one SSRC from one source address and port) is its RTP timestamp:
 * packet k should leave at t0 + (ts_k - ts_0) / 8000 s (PCMU, PCMA and G.722 all count 8000 a
 * second, RFC 3551 4.5.2). t0 is unknown, so it is taken as the earliest the stream allows: the
 * least, over the stream's packets, of capture time less (ts_k - ts_0) / 8000. Each packet's
 * send-time error is then its capture time less t0 + (ts_k - ts_0) / 8000: never below 0, 0
 * for the stream's most punctual packet, and 0 for every packet of a stream that is late by a
 * constant. So the figure is lateness relative to the stream's best packet (jitter of the send
 * times), which is what a caller's jitter buffer has to absorb; a constant delay is not in it.
 * A stream seen for only a few packets (a call that began or ended near the edge of the
 * capture) has a less certain t0; there are few such packets against the rest.
 *
 * It prints one line of key=value:
 *   packets    RTP packets kept (outgoing, source port in LO-HI, version 2, 12 bytes or more)
 *   streams    distinct (source address, source port, SSRC): calls seen sending
 *   short_streams  of those, streams with fewer than 50 packets (under a second of 20 ms
 *              packets): their t0, and so their errors, are less certain
 *   err_p50_ms, err_p99_ms, err_max_ms  the send-time error over all packets of all streams,
 *              in ms (rank ceil(q x packets) of the sorted errors, as bench/udp_floor does)
 *   late_5ms   packets with an error above 5 ms (the engine's TT_SIP_LATE_US)
 *   seq_gaps   times a stream's sequence number was not the last one plus 1: a packet not
 *              sent, not captured (see drops) or out of order
 *   skipped_slots  packet times a stream's timestamp moved past with no packet sent: the
 *              sender's schedule jumping ahead after a stall, or silence on hold. The send
 *              error cannot see these (the packet after the jump is on its new time); they
 *              say how much audio a stall cost
 *   kernel_packets, kernel_drops  from PACKET_STATISTICS: packets that passed the filter, and
 *              of those the ones the ring had no room for (any drop makes the other figures
 *              incomplete). kernel_packets can exceed packets by what arrived in the last few
 *              ms: a block still filling when the time is up is not read
 *   ts_fallback  packets the kernel gave no software timestamp of the device (it then stamps
 *              them itself as it writes the ring: a little later); should be 0
 *   seconds    how long it captured
 *   cpu_s      the CPU time this program used (user and system), so that a run can say how much
 *              of the machine the watching took; the kernel's work for the filter and the ring
 *              is done in the sender's sendto() and counts as the sender's
 *
 * Needs CAP_NET_RAW (root). Not part of `make bench`; built by `make build/bench/rtp_capture`
 * and run by scripts/bench-sip.sh beside the engine and beside bench/udp_floor.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SECONDS 3600
/* Ticks of the RTP clock a second: 8000 for every codec the engine speaks (G.722's clock
 * is 8000 though it samples at 16000, RFC 3551 4.5.2). */
#define RTP_HZ 8000
#define NS_PER_TICK (1000000000LL / RTP_HZ)
/* One 20 ms packet's worth of ticks: a timestamp that moves on by more than this per
 * sequence number skipped packet times. */
#define TICKS_PER_PACKET (RTP_HZ / 50)
/* A second of 20 ms packets: a stream with fewer has a less certain t0. */
#define SHORT_STREAM 50
/* What the filter keeps of a packet: an IPv4 header (up to 60 bytes with options), UDP's 8
 * and RTP's fixed 12. */
#define SNAP 80
/* The ring: 32 blocks of 1 MiB. A kept packet takes about 128 bytes of it (the ring's own
 * header, the link address and the snap), so 2000 calls (100,000 packets a second) fill
 * 12.8 MB a second and the ring holds 2.5 s of them; the reader empties it every few ms. */
#define BLOCK_SIZE (1u << 20)
#define BLOCK_NR 32u
#define FRAME_SIZE 2048u
/* A block is handed to the reader when full or after this long, whichever comes first. */
#define BLOCK_TIMEOUT_MS 8
/* Streams: an open-addressed table, a power of two, at most half full. */
#define TABLE_SIZE (1u << 17)
#define MAX_STREAMS (TABLE_SIZE / 2)
#define LATE_NS 5000000LL

struct stream {
    uint32_t addr, ssrc; /* source, network order for addr */
    uint16_t port;
    bool used;
    uint16_t last_seq;
    uint32_t ts0, last_ts;
    int64_t min_off; /* the least capture time less ideal offset: t0 */
    uint64_t packets;
};

struct pkt {
    uint32_t stream;
    int64_t off; /* capture time (ns) less (ts - ts0) / RTP_HZ: t0 plus the error */
};

struct cap {
    struct stream *table;
    uint32_t nstreams;
    struct pkt *pkts;
    size_t n, cap;
    uint64_t seq_gaps, skipped, ts_fallback;
};

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct stream *stream_of(struct cap *c, uint32_t addr, uint16_t port, uint32_t ssrc)
{
    uint32_t h = (ssrc * 2654435761u) ^ (port * 40503u) ^ addr;
    for (uint32_t i = h & (TABLE_SIZE - 1);; i = (i + 1) & (TABLE_SIZE - 1)) {
        struct stream *s = &c->table[i];
        if (!s->used) {
            if (c->nstreams >= MAX_STREAMS)
                return NULL;
            *s = (struct stream){.addr = addr, .port = port, .ssrc = ssrc, .used = true};
            c->nstreams++;
            return s;
        }
        if (s->addr == addr && s->port == port && s->ssrc == ssrc)
            return s;
    }
}

/* One kept packet: the network header at ip, len bytes of it captured. */
static int take(struct cap *c, const uint8_t *ip, uint32_t len, int64_t t_ns)
{
    if (len < 20)
        return 0;
    uint32_t ihl = (ip[0] & 0x0f) * 4u;
    if (ihl < 20 || len < ihl + 8 + 12)
        return 0;
    const uint8_t *udp = ip + ihl, *rtp = udp + 8;
    uint16_t udplen = (uint16_t)(udp[4] << 8 | udp[5]);
    if (udplen < 8 + 12 || (rtp[0] & 0xc0) != 0x80)
        return 0;
    uint32_t addr, ssrc;
    memcpy(&addr, ip + 12, 4);
    memcpy(&ssrc, rtp + 8, 4);
    uint16_t port = (uint16_t)(udp[0] << 8 | udp[1]);
    uint16_t seq = (uint16_t)(rtp[2] << 8 | rtp[3]);
    uint32_t ts = (uint32_t)rtp[4] << 24 | (uint32_t)rtp[5] << 16 | (uint32_t)rtp[6] << 8 | rtp[7];
    struct stream *s = stream_of(c, addr, port, ntohl(ssrc));
    if (!s)
        return -1;
    if (s->packets == 0) {
        s->ts0 = ts;
    } else {
        uint16_t dseq = (uint16_t)(seq - s->last_seq);
        int32_t dts = (int32_t)(ts - s->last_ts);
        if (dseq != 1)
            c->seq_gaps++;
        /* the slots the timestamp moved past beyond the packets the sequence accounts for */
        int64_t slots = dts / TICKS_PER_PACKET - (dseq < 0x8000 ? dseq : 0);
        if (slots > 0)
            c->skipped += (uint64_t)slots;
    }
    s->last_seq = seq;
    s->last_ts = ts;
    /* signed: a packet reordered before the first has a negative offset, not a huge one */
    int64_t off = t_ns - (int64_t)(int32_t)(ts - s->ts0) * NS_PER_TICK;
    if (s->packets == 0 || off < s->min_off)
        s->min_off = off;
    s->packets++;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 1u << 20;
        struct pkt *grown = realloc(c->pkts, cap * sizeof(*grown));
        if (!grown)
            return -1;
        c->pkts = grown;
        c->cap = cap;
    }
    c->pkts[c->n++] = (struct pkt){.stream = (uint32_t)(s - c->table), .off = off};
    return 0;
}

/* Every packet of one block the kernel handed over. */
static int read_block(struct cap *c, struct tpacket_block_desc *b)
{
    struct tpacket3_hdr *h =
        (struct tpacket3_hdr *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
    for (uint32_t i = 0; i < b->hdr.bh1.num_pkts; i++) {
        if (!(h->tp_status & TP_STATUS_TS_SOFTWARE))
            c->ts_fallback++;
        int64_t t = (int64_t)h->tp_sec * 1000000000LL + h->tp_nsec;
        if (take(c, (const uint8_t *)h + h->tp_net, h->tp_snaplen - (h->tp_net - h->tp_mac), t) <
            0)
            return -1;
        h = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
    }
    return 0;
}

/*
 * The kernel's filter (classic BPF; the network header is at offset 0 on this SOCK_DGRAM
 * socket): outgoing, IPv4, UDP, not a later fragment, source port in lo..hi, RTP version 2.
 */
static int attach_filter(int fd, unsigned lo, unsigned hi)
{
    struct sock_filter code[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 14),
        /* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL)),
        /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 12),
        /* 4 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9), /* IP protocol */
        /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 10),
        /* 6 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6), /* flags and fragment offset */
        /* 7 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 8, 0),
        /* 8 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), /* X = IP header length */
        /* 9 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0), /* UDP source port */
        /* 10 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 5),
        /* 11 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, hi, 4, 0),
        /* 12 */ BPF_STMT(BPF_LD | BPF_B | BPF_IND, 8), /* first byte of the UDP payload */
        /* 13 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xc0),
        /* 14 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x80, 0, 1),
        /* 15 */ BPF_STMT(BPF_RET | BPF_K, SNAP),
        /* 16 */ BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The value a fraction q of the sorted v come up to (rank ceil(q n)), in ms. */
static double pct_ms(const uint64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)(q * (double)n);
    if ((double)rank < q * (double)n || rank == 0)
        rank++;
    return (double)v[rank - 1] / 1e6;
}

static int whole(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

int main(int argc, char **argv)
{
    long lo, hi, seconds;
    if (argc != 4 || !whole(argv[1], 1, 65535, &lo) || !whole(argv[2], lo, 65535, &hi) ||
        !whole(argv[3], 1, MAX_SECONDS, &seconds)) {
        fprintf(stderr, "usage: rtp_capture LO HI SECONDS   (source ports LO-HI, 1-65535; "
                        "1-%d seconds)\n",
                MAX_SECONDS);
        return 2;
    }
    int rc = 1, fd = -1;
    uint8_t *ring = MAP_FAILED;
    uint64_t *err = NULL;
    struct cap c = {0};
    c.table = calloc(TABLE_SIZE, sizeof(*c.table));
    if (!c.table) {
        fprintf(stderr, "rtp_capture: out of memory\n");
        goto out;
    }
    /* Protocol 0 until bound: the socket sees nothing before its filter and ring are set. */
    fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("rtp_capture: an AF_PACKET socket (this needs root, CAP_NET_RAW)");
        goto out;
    }
    int v3 = TPACKET_V3;
    int stamp = SOF_TIMESTAMPING_SOFTWARE, one = 1;
    struct tpacket_req3 req = {.tp_block_size = BLOCK_SIZE,
                               .tp_block_nr = BLOCK_NR,
                               .tp_frame_size = FRAME_SIZE,
                               .tp_frame_nr = BLOCK_SIZE / FRAME_SIZE * BLOCK_NR,
                               .tp_retire_blk_tov = BLOCK_TIMEOUT_MS};
    /* SO_TIMESTAMPNS turns on the kernel's stamping of packets as they pass the device (it is
     * off while nobody asks), so the ring gets the device's time, not the ring's own. */
    if (attach_filter(fd, (unsigned)lo, (unsigned)hi) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof(v3)) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_TIMESTAMP, &stamp, sizeof(stamp)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
        perror("rtp_capture: setting up the capture");
        goto out;
    }
    ring = mmap(NULL, (size_t)BLOCK_SIZE * BLOCK_NR, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_LOCKED, fd, 0);
    if (ring == MAP_FAILED) {
        perror("rtp_capture: mapping the ring");
        goto out;
    }
    /* ETH_P_ALL: packets going out are shown only to sockets that take every protocol (the
     * filter keeps IPv4) */
    struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                             .sll_ifindex = (int)if_nametoindex("lo")};
    if (!ll.sll_ifindex || bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
        perror("rtp_capture: listening on lo");
        goto out;
    }

    int64_t start = mono_ns(), end = start + seconds * 1000000000LL;
    unsigned blk = 0;
    for (;;) {
        struct tpacket_block_desc *b =
            (struct tpacket_block_desc *)(ring + (size_t)blk * BLOCK_SIZE);
        if (!(b->hdr.bh1.block_status & TP_STATUS_USER)) {
            int64_t left = end - mono_ns();
            if (left <= 0)
                break;
            struct pollfd p = {.fd = fd, .events = POLLIN | POLLERR};
            int wait = (int)(left / 1000000) + 1;
            (void)poll(&p, 1, wait < 100 ? wait : 100);
            continue;
        }
        if (read_block(&c, b) < 0) {
            fprintf(stderr, "rtp_capture: out of memory, or more than %u streams\n",
                    MAX_STREAMS);
            goto out;
        }
        __atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        blk = (blk + 1) % BLOCK_NR;
    }
    double took = (double)(mono_ns() - start) / 1e9;
    struct tpacket_stats_v3 st = {0};
    socklen_t stlen = sizeof(st);
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen) < 0) {
        perror("rtp_capture: PACKET_STATISTICS");
        goto out;
    }

    err = malloc((c.n ? c.n : 1) * sizeof(*err));
    if (!err) {
        fprintf(stderr, "rtp_capture: out of memory\n");
        goto out;
    }
    uint64_t late = 0;
    for (size_t i = 0; i < c.n; i++) {
        err[i] = (uint64_t)(c.pkts[i].off - c.table[c.pkts[i].stream].min_off);
        late += err[i] > (uint64_t)LATE_NS;
    }
    uint32_t short_streams = 0;
    for (uint32_t i = 0; i < TABLE_SIZE; i++)
        short_streams += c.table[i].used && c.table[i].packets < SHORT_STREAM;
    qsort(err, c.n, sizeof(*err), cmp_u64);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("rtp_capture ports=%ld-%ld seconds=%.1f packets=%zu streams=%u short_streams=%u "
           "err_p50_ms=%.3f err_p99_ms=%.3f err_max_ms=%.3f late_5ms=%llu seq_gaps=%llu "
           "skipped_slots=%llu kernel_packets=%u kernel_drops=%u ts_fallback=%llu "
           "cpu_s=%.2f\n",
           lo, hi, took, c.n, c.nstreams, short_streams, pct_ms(err, c.n, 0.5),
           pct_ms(err, c.n, 0.99), c.n ? (double)err[c.n - 1] / 1e6 : 0.0,
           (unsigned long long)late, (unsigned long long)c.seq_gaps,
           (unsigned long long)c.skipped, st.tp_packets, st.tp_drops,
           (unsigned long long)c.ts_fallback, cpu);
    rc = 0;
out:
    if (ring != MAP_FAILED)
        munmap(ring, (size_t)BLOCK_SIZE * BLOCK_NR);
    if (fd >= 0)
        close(fd);
    free(c.table);
    free(c.pkts);
    free(err);
    return rc;
}
