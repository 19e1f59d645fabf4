/* Prompt store internals that tools, calls and drivers share: where a node's recording lives,
 * and misses made by the store's workers. */
#ifndef TT_PROMPT_H
#define TT_PROMPT_H

#include <stddef.h>

#include "tonetree.h"

/**
 * The recording that stands in for a node's text, if one exists: 0 with its path in path,
 * or ENOENT. Looks for <prompts_dir>/<lang>/<node>.<ext> with the extensions in the order the
 * store tries them, so tools (lint, prompts --list) name the file people actually hear.
 */
int tt_prompt_recording(const char *prompts_dir, const char *lang, const char *node, char *path,
                        size_t size);

/* Room for a recording's name: a node id (at most 64 bytes) and ".short". */
#define TT_REC_ID_MAX 80
/**
 * The name a SAY's recording goes by: the node id for its text, "<id>.short" for its short
 * text, NULL for the engine's words (never recorded). buf holds the short name.
 */
const char *tt_store_rec_id(const tt_menu *m, const struct tt_event *ev, char *buf,
                            size_t size);

/**
 * Publish what prepares marked (tt_store_mark_prepared) as the store's shared tier (see prompt.c): read by any number
 * of threads with no lock, never evicted. tt_store_prepare does it when it has made a menu's
 * prompts. @return 0 or ENOMEM (the store is then as before)
 */
int tt_store_share(tt_store *s);
/** A clip from tt_store_get that a prepare asked for: kept (never evicted) and moved to the
 *  shared tier by the next tt_store_share, however much more it is than the dynamic tier's
 *  bound. Nothing else is shared. */
void tt_store_mark_prepared(tt_store *s, const struct tt_clip *clip);

/*
 * A miss, made by the store's workers: a text not prepared (a lookup's answer, an entry read
 * back, a prompt composed on the way), a prompt at a speed not prepared (speech, or a recording
 * to stretch: seconds for a long one), personal words. A call on a busy telephone service must
 * not stop for any of these: hundreds of calls may share its thread. So a SAY is asked in parts:
 *
 *   tt_store_job_new     the caller's thread: a hit (the clip, held, at once) or a miss (a job,
 *                        the request copied)
 *   tt_store_job_start   hand the job to the store's workers, with a descriptor to write a
 *                        byte to when it is made (a pipe the caller polls)
 *   tt_store_job_done    the caller's thread, woken by that byte: is it made?
 *   tt_store_job_finish  take the clip (held, as tt_store_say gives it) and free the job
 *   tt_store_job_cancel  give it up at any time: the clip is not wanted any more
 *
 * Ownership: a job is the caller's until started, the store's until done, the caller's again
 * until finished; cancel gives it to the store for good. Once cancel returns, no worker writes
 * to the job's descriptor again, so the caller may close it. A byte may come for a job since
 * cancelled: the descriptor only wakes, tt_store_job_done says.
 *
 * Public words asked for again while being made (two calls at the same page at the same slow
 * speed) are made once: the later job waits for the first's clip. Personal words never are.
 */
struct tt_store_job;

/* Jobs that may wait for a worker at once; tt_store_job_start says EAGAIN beyond. */
#define TT_STORE_QUEUE_MAX 4096

/**
 * @param clip  set to the clip (held) on a hit, else to NULL
 * @param jp    set to a job on a miss, else to NULL
 * @return 0, EINVAL (not a SAY of this menu, or a bad speed, said in the store's diag), ENOMEM
 */
int tt_store_job_new(tt_store *s, const tt_menu *m, const struct tt_event *ev,
                     const struct tt_clip **clip, struct tt_store_job **jp);
/**
 * Give the job to the store's workers (or, for a store with none, make it now, on this thread).
 * @param done_fd  written one byte when the job is made (not when it has been cancelled)
 * @return 0, or EAGAIN when the queue is full: the job is still the caller's (start it again
 *         later, or cancel it)
 */
int tt_store_job_start(tt_store *s, struct tt_store_job *j, int done_fd);
/** Is a started job made? (Then it is the caller's again: finish it, or cancel it.) */
bool tt_store_job_done(tt_store *s, struct tt_store_job *j);
/**
 * Take a made job's clip and free the job.
 * @param clip  set to the clip, held (give it back with tt_store_release), so that it cannot be
 *              evicted before it plays
 * @return 0, or the error that making it met (tt_store_say's errors)
 */
int tt_store_job_finish(tt_store *s, struct tt_store_job *j, const struct tt_clip **clip);
/**
 * Give up a job in any state (NULL is fine). Public words still being made are made all the
 * same and kept (the next caller there finds them), unless stop asks to give them up too (a
 * call that ends: a stretch stops within milliseconds); personal words are wiped when made.
 */
void tt_store_job_cancel(tt_store *s, struct tt_store_job *j, bool stop);

/* For tests: hold the workers (on) so that jobs wait in the queue until released (off), so a
 * test can look at a call while its clip is being "made" with no timing at all; and wait until
 * every job started has been made (not while held). */
void tt_store_jobs_hold(tt_store *s, bool on);
void tt_store_jobs_wait(tt_store *s);
/** For tests: how many queued jobs a worker takes before j (the queue's length if j is not
 *  queued). */
size_t tt_store_jobs_ahead(tt_store *s, const struct tt_store_job *j);

#endif
