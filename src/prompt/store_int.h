/* Between the prompt store (prompt.c) and its workers (jobs.c), and nothing else: what the
 * workers need of the store to make a miss, and what the store needs to start and stop them. */
#ifndef TT_STORE_INT_H
#define TT_STORE_INT_H

#include <stdatomic.h>
#include <stdbool.h>

#include "tonetree.h"

struct tt_pool;

/**
 * @param workers  threads to start at the first job: 0 for the default, < 0 for none (jobs are
 *                 then made on the thread that starts them)
 * @return 0 or an errno value
 */
int tt_pool_new(struct tt_pool **pp, tt_store *s, int workers);
/** Stop the workers (what they make is given up), join them and free every job left. */
void tt_pool_free(struct tt_pool *p);
struct tt_pool *tt_store_pool(tt_store *s);

/** A hit in either tier, held: 0 with the clip, ENOENT on a miss, EINVAL for a bad speed. */
int tt_store_find(tt_store *s, const char *lang, const char *voice, const char *node,
                  const char *text, int speed, const struct tt_clip **clip);
/**
 * Make what a SAY asked for, on any thread, as tt_store_say would: public words into the
 * dynamic tier (or the hit, if someone made them meanwhile), personal words for one use.
 * @param stop  NULL, or a flag that gives up a stretch early: ECANCELED and nothing kept
 */
int tt_store_make(tt_store *s, const char *lang, const char *voice, const char *node,
                  const char *text, int speed, bool personal, const atomic_bool *stop,
                  const struct tt_clip **clip);
/** One more holder of a clip someone already holds (a job's result handed to a second call). */
void tt_store_hold_again(tt_store *s, const struct tt_clip *clip);

#endif
