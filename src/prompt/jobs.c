/*
 * The store's workers: misses made off the caller's thread (prompt.h's store jobs).
 *
 * A telephone service runs hundreds of calls from one event loop. If one caller's miss (a
 * lookup's answer to synthesize, a page at a new speed to stretch) were made on that thread,
 * every other call's audio would stop for as long. So a call hands its miss to a small fixed
 * pool of threads that belongs to the store, plays silence meanwhile, and is woken through a
 * descriptor of its own when the clip is ready. The pool, not each call, owns the threads:
 * their number does not grow with the calls, and nothing is started for a store that only
 * prepares (the threads start with the first job).
 *
 * Public words asked for while the same words are being made (a queued or running job that has
 * not been told to stop) follow that job instead of queuing: when it is made, each follower gets
 * the same clip, held once more. Personal words are never matched: made for each SAY alone.
 *
 * Contract. The pool's lock guards the queue, the list of jobs being made, and every started
 * job's state, followers and result. A worker makes a job outside the lock; it writes the
 * completion byte under the lock, and only for a job whose caller still wants it, so that once
 * tt_store_job_cancel returns, no thread writes to that caller's descriptor again (it may be
 * closed, and its number reused). Lock order: the pool's, then the store's (a result held
 * again or given back); the store never takes the pool's while holding its own.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/thread.h"
#include "prompt/prompt.h"
#include "prompt/store_int.h"

#define WORKERS_DEFAULT 2 /* a speech engine keeps a core busy; the driver's thread needs one */
/* Jobs waiting for a worker (TT_STORE_QUEUE_MAX): a call waits for one at a time; a public job
 * nobody waits for any more (the listener pressed on) is still made, but goes to the back of
 * the queue, behind everything someone is waiting for. So the queue can grow with keys, up to
 * its bound, without ever holding up the prompt a listener is waiting for. */

enum job_state {
    JOB_NEW,       /* the caller's, not started */
    JOB_QUEUED,    /* waiting for a worker */
    JOB_FOLLOWING, /* waiting for an identical job's clip */
    JOB_MAKING,    /* a worker (or, with none, the starting thread) is making it */
    JOB_DONE       /* made: the caller's again */
};

struct tt_store_job {
    char *lang, *voice, *node, *text; /* the request, copied: the job outlives its event */
    int speed;
    bool personal;
    bool matchable;     /* public and not told to stop: an identical ask may follow it */
    bool started;       /* the caller's own note: handed to the pool (read by the caller only) */
    bool abandoned;     /* cancelled while the store had it: freed once made */
    atomic_bool stop;   /* give up a stretch (looked at without the lock) */
    enum job_state state;
    int fd;
    struct tt_store_job *next;      /* in the queue, the making list, or a leader's followers */
    struct tt_store_job *followers; /* identical asks waiting for this one */
    struct tt_store_job *leader;    /* the job this one follows */
    const struct tt_clip *clip;     /* the result, held */
    int err;
};

struct tt_pool {
    tt_store *s;
    int want;     /* threads to start at the first job; 0: make jobs on the starting thread */
    int nthreads; /* started */
    pthread_t threads[16];
    pthread_mutex_t lock; /* everything below, and the state of every started job */
    pthread_cond_t work;  /* a job queued, the hold lifted, or quitting */
    pthread_cond_t quiet; /* a job made */
    struct tt_store_job *head, *tail; /* the queue, oldest first */
    size_t queued;
    struct tt_store_job *making;
    bool held, quit;
};

/* ---- jobs --------------------------------------------------------------------------------- */

static void job_free(struct tt_store_job *j)
{
    if (!j)
        return;
    /* Personal words are someone's own: not left in freed memory either. */
    if (j->personal && j->text)
        explicit_bzero(j->text, strlen(j->text)); /* not optimized away before the free */
    free(j->lang);
    free(j->voice);
    free(j->node);
    free(j->text);
    free(j);
}

/* A made job nobody will finish: its clip goes back (a personal one is wiped), then the job. */
static void job_drop(tt_store *s, struct tt_store_job *j)
{
    tt_store_release(s, j->clip);
    job_free(j);
}

static bool same(const char *a, const char *b)
{
    return a && b ? !strcmp(a, b) : a == b;
}

static bool same_ask(const struct tt_store_job *a, const struct tt_store_job *b)
{
    return a->speed == b->speed && same(a->text, b->text) && same(a->node, b->node) &&
           same(a->voice, b->voice) && same(a->lang, b->lang);
}

int tt_store_job_new(tt_store *s, const tt_menu *m, const struct tt_event *ev,
                     const struct tt_clip **clip, struct tt_store_job **jp)
{
    if (!s || !m || !ev || !clip || !jp || ev->type != TT_EV_SAY || !ev->text || ev->lang < 0 ||
        (size_t)ev->lang >= tt_menu_lang_count(m))
        return EINVAL;
    *clip = NULL;
    *jp = NULL;
    const char *lang = tt_menu_lang(m, (size_t)ev->lang);
    const char *voice = tt_menu_voice(m, (size_t)ev->lang);
    bool personal = ev->privacy != TT_PUBLIC;
    int speed = ev->speed ? ev->speed : 100;
    char id[TT_REC_ID_MAX];
    const char *node = personal ? NULL : tt_store_rec_id(m, ev, id, sizeof(id));
    if (!personal) {
        int err = tt_store_find(s, lang, voice, node, ev->text, speed, clip);
        if (err != ENOENT)
            return err; /* a hit, or a speed out of range (said in the store's diag) */
    }
    struct tt_store_job *j = calloc(1, sizeof(*j));
    if (!j)
        return ENOMEM;
    j->speed = speed;
    j->personal = personal;
    j->matchable = !personal;
    j->fd = -1;
    atomic_init(&j->stop, false);
    j->lang = strdup(lang);
    j->voice = strdup(voice);
    j->node = node ? strdup(node) : NULL;
    j->text = strdup(ev->text);
    if (!j->lang || !j->voice || (node && !j->node) || !j->text) {
        job_free(j);
        return ENOMEM;
    }
    *jp = j;
    return 0;
}

/* ---- the pool (under its lock unless said) ------------------------------------------------ */

static void wake(int fd)
{
    /* A full pipe already holds a byte the caller has not read: that wakes it as well. */
    ssize_t w;
    do
        w = write(fd, "", 1);
    while (w < 0 && errno == EINTR);
}

static void unlink_from(struct tt_store_job **list, struct tt_store_job *j)
{
    for (struct tt_store_job **p = list; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            j->next = NULL;
            return;
        }
}

static void dequeue(struct tt_pool *p, struct tt_store_job *j)
{
    struct tt_store_job *prev = NULL;
    for (struct tt_store_job *x = p->head; x; prev = x, x = x->next)
        if (x == j) {
            if (prev)
                prev->next = j->next;
            else
                p->head = j->next;
            if (p->tail == j)
                p->tail = prev;
            j->next = NULL;
            p->queued--;
            return;
        }
}

/* A job asking for the same public words, queued or being made, that one may follow. */
static struct tt_store_job *leader_for(struct tt_pool *p, const struct tt_store_job *j)
{
    for (int list = 0; list < 2; list++)
        for (struct tt_store_job *x = list ? p->making : p->head; x; x = x->next)
            if (x->matchable && same_ask(x, j))
                return x;
    return NULL;
}

/* Made (err, clip held): to each follower its own hold of the clip, then to the job's caller,
 * or back to the store if it has gone. */
static void complete(struct tt_pool *p, struct tt_store_job *j, int err, const struct tt_clip *clip)
{
    for (struct tt_store_job *f = j->followers, *next; f; f = next) {
        next = f->next;
        f->next = f->leader = NULL;
        f->err = err;
        f->clip = clip;
        tt_store_hold_again(p->s, clip);
        f->state = JOB_DONE;
        wake(f->fd);
    }
    j->followers = NULL;
    j->err = err;
    j->clip = clip;
    j->state = JOB_DONE;
    if (j->abandoned)
        job_drop(p->s, j);
    else
        wake(j->fd);
    pthread_cond_broadcast(&p->quiet);
}

/* Make a job: the lock is let go meanwhile, and held again when this returns. */
static void make(struct tt_pool *p, struct tt_store_job *j)
{
    j->state = JOB_MAKING;
    j->next = p->making;
    p->making = j;
    pthread_mutex_unlock(&p->lock);
    const struct tt_clip *clip = NULL;
    int err = tt_store_make(p->s, j->lang, j->voice, j->node, j->text, j->speed, j->personal,
                            &j->stop, &clip);
    pthread_mutex_lock(&p->lock);
    unlink_from(&p->making, j);
    complete(p, j, err, clip);
}

static void *worker(void *arg)
{
    struct tt_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->quit && (p->held || !p->head))
            pthread_cond_wait(&p->work, &p->lock);
        if (p->quit)
            break;
        struct tt_store_job *j = p->head;
        dequeue(p, j);
        make(p, j);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* The workers start with the first job, taking none of the program's signals
 * (base/thread.h); if none can be started, jobs are made on the thread that starts them: late,
 * rather than never. */
static void start_workers(struct tt_pool *p)
{
    while (p->nthreads < p->want && !tt_thread_start(&p->threads[p->nthreads], worker, p))
        p->nthreads++;
    p->want = p->nthreads;
}

int tt_pool_new(struct tt_pool **pp, tt_store *s, int workers)
{
    *pp = NULL;
    struct tt_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return ENOMEM;
    p->s = s;
    p->want = workers == 0 ? WORKERS_DEFAULT : workers < 0 ? 0 : workers;
    if (p->want > (int)(sizeof(p->threads) / sizeof(p->threads[0])))
        p->want = (int)(sizeof(p->threads) / sizeof(p->threads[0]));
    int err = pthread_mutex_init(&p->lock, NULL);
    if (err) {
        free(p);
        return err;
    }
    if ((err = pthread_cond_init(&p->work, NULL))) {
        pthread_mutex_destroy(&p->lock);
        free(p);
        return err;
    }
    if ((err = pthread_cond_init(&p->quiet, NULL))) {
        pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return err;
    }
    *pp = p;
    return 0;
}

void tt_pool_free(struct tt_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->quit = true;
    /* What is being made is not wanted now: a stretch gives up within milliseconds. */
    for (struct tt_store_job *x = p->making; x; x = x->next)
        atomic_store_explicit(&x->stop, true, memory_order_relaxed);
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    /* Every call has been freed before its store, so whatever is queued is nobody's. */
    for (struct tt_store_job *x = p->head, *next; x; x = next) {
        next = x->next;
        for (struct tt_store_job *f = x->followers, *fn; f; f = fn) {
            fn = f->next;
            job_free(f);
        }
        job_free(x);
    }
    pthread_cond_destroy(&p->quiet);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* ---- the caller's side -------------------------------------------------------------------- */

int tt_store_job_start(tt_store *s, struct tt_store_job *j, int done_fd)
{
    struct tt_pool *p = tt_store_pool(s);
    pthread_mutex_lock(&p->lock);
    j->fd = done_fd;
    struct tt_store_job *lead = j->matchable ? leader_for(p, j) : NULL;
    if (lead) {
        j->state = JOB_FOLLOWING;
        j->leader = lead;
        j->next = lead->followers;
        lead->followers = j;
        j->started = true;
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    if (p->nthreads < p->want)
        start_workers(p);
    if (p->nthreads == 0) {
        j->started = true;
        make(p, j); /* no workers: here and now, as tt_store_say would */
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    if (p->queued >= TT_STORE_QUEUE_MAX) {
        pthread_mutex_unlock(&p->lock);
        return EAGAIN;
    }
    j->state = JOB_QUEUED;
    j->started = true;
    /* Ahead of the jobs nobody waits for any more (they are kept at the back), behind those
     * somebody does: a scan, bounded by TT_STORE_QUEUE_MAX, under the lock. */
    struct tt_store_job **at = &p->head;
    while (*at && !(*at)->abandoned)
        at = &(*at)->next;
    j->next = *at;
    *at = j;
    if (!j->next)
        p->tail = j;
    p->queued++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

bool tt_store_job_done(tt_store *s, struct tt_store_job *j)
{
    struct tt_pool *p = tt_store_pool(s);
    pthread_mutex_lock(&p->lock);
    bool done = j->state == JOB_DONE;
    pthread_mutex_unlock(&p->lock);
    return done;
}

int tt_store_job_finish(tt_store *s, struct tt_store_job *j, const struct tt_clip **clip)
{
    (void)s; /* done: the pool touches it no more */
    int err = j->err;
    *clip = j->clip;
    job_free(j);
    return err;
}

void tt_store_job_cancel(tt_store *s, struct tt_store_job *j, bool stop)
{
    if (!j)
        return;
    if (!j->started) { /* the caller's alone */
        job_free(j);
        return;
    }
    struct tt_pool *p = tt_store_pool(s);
    pthread_mutex_lock(&p->lock);
    /* Public words nobody else waits for are still worth making, unless told to stop: the
     * listener may come back to them; personal words are of no use to anyone else. */
    bool give_up = (j->personal || stop) && !j->followers;
    switch (j->state) {
    case JOB_FOLLOWING:
        unlink_from(&j->leader->followers, j);
        job_free(j);
        break;
    case JOB_QUEUED:
        if (give_up) {
            dequeue(p, j);
            job_free(j);
            pthread_cond_broadcast(&p->quiet);
        } else {
            j->abandoned = true;
            if (!j->followers && p->tail != j) { /* nobody waits: behind those who do */
                dequeue(p, j);
                p->tail->next = j;
                p->tail = j;
                p->queued++;
            }
        }
        break;
    case JOB_MAKING:
        j->abandoned = true;
        if (give_up) {
            j->matchable = false; /* what it makes now may be nothing: followers go elsewhere */
            atomic_store_explicit(&j->stop, true, memory_order_relaxed);
        }
        break;
    case JOB_DONE:
        job_drop(s, j);
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&p->lock);
}

void tt_store_jobs_hold(tt_store *s, bool on)
{
    struct tt_pool *p = tt_store_pool(s);
    pthread_mutex_lock(&p->lock);
    p->held = on;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
}

void tt_store_jobs_wait(tt_store *s)
{
    struct tt_pool *p = tt_store_pool(s);
    pthread_mutex_lock(&p->lock);
    while (p->head || p->making)
        pthread_cond_wait(&p->quiet, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

size_t tt_store_jobs_ahead(tt_store *s, const struct tt_store_job *j)
{
    struct tt_pool *p = tt_store_pool(s);
    size_t n = 0;
    pthread_mutex_lock(&p->lock);
    for (const struct tt_store_job *x = p->head; x && x != j; x = x->next)
        n++;
    pthread_mutex_unlock(&p->lock);
    return n;
}
