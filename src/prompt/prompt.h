/* Prompt store internals that tools and drivers share: where a node's recording lives, and
 * slow misses done on another thread. */
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
 * Publish everything made so far as the store's shared tier (see prompt.c): read by any number
 * of threads with no lock, never evicted. tt_store_prepare does it when it has made a menu's
 * prompts. @return 0 or ENOMEM (the store is then as before)
 */
int tt_store_share(tt_store *s);
/** Hold eviction off (on) until the matching call with off: what a prepare makes is all to be
 *  shared, however much more it is than the dynamic tier's bound. */
void tt_store_hold(tt_store *s, bool on);

/*
 * A slow miss: a node's recording at a speed it was not prepared at must be stretched, which
 * takes seconds for a long recording (rubberband runs at a few times real time). A live driver
 * must not stop for that: its keys must keep working. So the work is split in three:
 *
 *   tt_store_job_new     the driver's thread: is this SAY such a miss? (copies the request)
 *   tt_store_job_run     any thread: decode, resample, stretch; touches nothing of the store
 *   tt_store_job_finish  the driver's thread again: put the result in the store (or, for a
 *                        recording that cannot be used, the spoken text, with a warning)
 *
 * after which tt_store_say finds the clip at once. The job's own memory is handed over by
 * whatever the driver uses to learn that the run has ended (a thread join); the store itself
 * may be used from any thread meanwhile.
 */
struct tt_store_job;

/**
 * @param jp  set to a job when ev is a slow miss, else to NULL (tt_store_say is then quick:
 *            a hit, speech, or a recording at its own speed)
 * @return 0 or ENOMEM
 */
int tt_store_job_new(tt_store *s, const tt_menu *m, const struct tt_event *ev,
                     struct tt_store_job **jp);
void tt_store_job_run(struct tt_store_job *j);
/** Ask a running job to give up soon (any thread); it then finishes with nothing to keep. */
void tt_store_job_stop(struct tt_store_job *j);
/**
 * Put the job's result in the store and free the job.
 * @param clip  if not NULL: set to the clip, held (give it back with tt_store_release), so that
 *              it cannot be evicted before it plays; NULL when the job was given up
 * @return 0, or tt_store_get's errors
 */
int tt_store_job_finish(tt_store *s, struct tt_store_job *j, const struct tt_clip **clip);
/** Free a job that will not be finished. */
void tt_store_job_free(struct tt_store_job *j);

#endif
