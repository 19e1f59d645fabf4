/*
 * The service's counters, and a page that shows them in Prometheus's text format (version
 * 0.0.4) on a loopback HTTP port (`--metrics 127.0.0.1:9070`), for whoever looks after the
 * service: how many calls, where callers go, where they give up, whether the machine keeps
 * the packets on time.
 *
 * What is counted is about the service, never about a caller: node ids (the menu's own names),
 * end reasons and counts. No number, no address, no key, no entry. Node counts are kept by id
 * across reloads (an id that a new edition drops keeps its old count), in a small array: a
 * menu has tens of nodes, and a visit is a short scan.
 */
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip_int.h"

/* Under AddressSanitizer malloc is the sanitizer's, and mallinfo2 describes glibc's unused
 * arenas: the heap figure then comes from the sanitizer's own count, so that a test of the
 * sanitized service can watch the heap come back after many calls. */
#if defined(__SANITIZE_ADDRESS__)
#define TT_ASAN_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TT_ASAN_HEAP 1
#endif
#endif
#ifdef TT_ASAN_HEAP
/* The sanitizer runtime's own count (gcc ships no header declaring it; clang's is
 * sanitizer/allocator_interface.h). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

struct nodecount {
    char *id;
    unsigned long visits, hangups;
};

struct metrics {
    struct http_sock *http;
    struct nodecount *nodes;
    size_t n, cap;
};

static struct nodecount *node(struct svc *s, const char *id)
{
    struct metrics *m = s->metrics;
    if (!m || !id)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->nodes[i].id, id))
            return &m->nodes[i];
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 32;
        struct nodecount *grown = realloc(m->nodes, cap * sizeof(*grown));
        if (!grown)
            return NULL; /* a count lost, not a call */
        m->nodes = grown;
        m->cap = cap;
    }
    char *copy = strdup(id);
    if (!copy)
        return NULL;
    m->nodes[m->n] = (struct nodecount){.id = copy};
    return &m->nodes[m->n++];
}

void metrics_visit(struct svc *s, const char *id)
{
    struct nodecount *n = node(s, id);
    if (n)
        n->visits++;
}

void metrics_hangup(struct svc *s, const char *id)
{
    struct nodecount *n = node(s, id);
    if (n)
        n->hangups++;
}

/* Node ids are [A-Za-z0-9_.-] (the menu loader checks), so they need no escaping in a label
 * value; the check here is a guard, not the rule. */
static bool plain(const char *id)
{
    for (const char *p = id; *p; p++)
        if (*p == '"' || *p == '\\' || *p == '\n')
            return false;
    return true;
}

static int page(struct re_printf *pf, void *arg)
{
    struct svc *s = arg;
    struct metrics *m = s->metrics;
    int err = re_hprintf(pf,
                         "# HELP tonetree_calls_total Calls answered.\n"
                         "# TYPE tonetree_calls_total counter\n"
                         "tonetree_calls_total %lu\n"
                         "# HELP tonetree_calls_active Calls up now.\n"
                         "# TYPE tonetree_calls_active gauge\n"
                         "tonetree_calls_active %u\n"
                         "# HELP tonetree_calls_refused_total Calls refused (full, draining, no "
                         "common codec, a bad offer).\n"
                         "# TYPE tonetree_calls_refused_total counter\n"
                         "tonetree_calls_refused_total %lu\n"
                         "# HELP tonetree_invalid_keys_total Keys that were not a choice.\n"
                         "# TYPE tonetree_invalid_keys_total counter\n"
                         "tonetree_invalid_keys_total %lu\n"
                         "# HELP tonetree_timeouts_total Times a caller said nothing after a "
                         "prompt.\n"
                         "# TYPE tonetree_timeouts_total counter\n"
                         "tonetree_timeouts_total %lu\n"
                         "# HELP tonetree_sip_stack_messages_total Warnings of the SIP stack "
                         "(malformed packets, mostly).\n"
                         "# TYPE tonetree_sip_stack_messages_total counter\n"
                         "tonetree_sip_stack_messages_total %lu\n",
                         s->calls_total, s->ncalls, s->calls_refused, s->invalid_total,
                         s->timeouts_total, s->stack_messages);
    err |= re_hprintf(pf, "# HELP tonetree_call_ends_total Calls ended, by why.\n"
                          "# TYPE tonetree_call_ends_total counter\n");
    for (int e = END_CALLER; e < END_COUNT; e++)
        err |= re_hprintf(pf, "tonetree_call_ends_total{reason=\"%s\"} %lu\n",
                          scall_end_name((enum scall_end)e), s->end_counts[e]);
    err |= re_hprintf(pf, "# HELP tonetree_node_visits_total Visits to each node of the menu.\n"
                          "# TYPE tonetree_node_visits_total counter\n");
    for (size_t i = 0; m && i < m->n; i++)
        if (plain(m->nodes[i].id))
            err |= re_hprintf(pf, "tonetree_node_visits_total{node=\"%s\"} %lu\n",
                              m->nodes[i].id, m->nodes[i].visits);
    err |= re_hprintf(pf, "# HELP tonetree_hangups_total Callers who hung up, by the node they "
                          "were at.\n"
                          "# TYPE tonetree_hangups_total counter\n");
    for (size_t i = 0; m && i < m->n; i++)
        if (plain(m->nodes[i].id) && m->nodes[i].hangups)
            err |= re_hprintf(pf, "tonetree_hangups_total{node=\"%s\"} %lu\n", m->nodes[i].id,
                              m->nodes[i].hangups);
    const struct tt_pace_hist *h = &s->late;
    err |= re_hprintf(pf,
                      "# HELP tonetree_packets_sent_total RTP packets sent.\n"
                      "# TYPE tonetree_packets_sent_total counter\n"
                      "tonetree_packets_sent_total %llu\n"
                      "# HELP tonetree_packets_late_total RTP packets sent more than %u ms after "
                      "their time.\n"
                      "# TYPE tonetree_packets_late_total counter\n"
                      "tonetree_packets_late_total %lu\n"
                      "# HELP tonetree_packet_send_late_seconds How late packets were sent "
                      "(since the start).\n"
                      "# TYPE tonetree_packet_send_late_seconds summary\n"
                      "tonetree_packet_send_late_seconds{quantile=\"0.5\"} %.6f\n"
                      "tonetree_packet_send_late_seconds{quantile=\"0.99\"} %.6f\n"
                      "tonetree_packet_send_late_seconds{quantile=\"1\"} %.6f\n"
                      "tonetree_packet_send_late_seconds_count %llu\n",
                      (unsigned long long)h->n, TT_SIP_LATE_US / 1000, s->packets_late,
                      tt_pace_hist_quantile(h, 0.5) / 1e6, tt_pace_hist_quantile(h, 0.99) / 1e6,
                      (double)h->max / 1e6, (unsigned long long)h->n);
    return err;
}

/* Descriptors open now: every call's socket and pipe must be closed with it (the leak check
 * after a thousand calls reads this). */
static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own */
}

static size_t heap_bytes(void)
{
#ifdef TT_ASAN_HEAP
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

static int process(struct re_printf *pf, void *arg)
{
    (void)arg;
    return re_hprintf(pf,
                      "# HELP process_open_fds Open file descriptors.\n"
                      "# TYPE process_open_fds gauge\n"
                      "process_open_fds %ld\n"
                      "# HELP tonetree_heap_bytes Bytes of the C heap in use.\n"
                      "# TYPE tonetree_heap_bytes gauge\n"
                      "tonetree_heap_bytes %zu\n",
                      open_fds(), heap_bytes());
}

static void http_handler(struct http_conn *conn, const struct http_msg *msg, void *arg)
{
    if (pl_strcmp(&msg->met, "GET")) {
        http_ereply(conn, 405, "Method Not Allowed");
        return;
    }
    if (pl_strcmp(&msg->path, "/metrics") && pl_strcmp(&msg->path, "/")) {
        http_ereply(conn, 404, "Not Found");
        return;
    }
    http_creply(conn, 200, "OK", "text/plain; version=0.0.4", "%H%H", page, arg, process, arg);
}

int metrics_open(struct svc *s, const struct sa *addr)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return ENOMEM;
    s->metrics = m;
    return addr ? http_listen(&m->http, addr, http_handler, s) : 0;
}

int metrics_where(const struct svc *s, struct sa *where)
{
    const struct metrics *m = s->metrics;
    return m && m->http ? tcp_sock_local_get(http_sock_tcp(m->http), where) : ENOENT;
}

void metrics_close(struct svc *s)
{
    struct metrics *m = s->metrics;
    if (!m)
        return;
    mem_deref(m->http);
    for (size_t i = 0; i < m->n; i++)
        free(m->nodes[i].id);
    free(m->nodes);
    free(m);
    s->metrics = NULL;
}
