/*
 * Reports on a menu's prompts for the people who record them: which node, in which language,
 * is heard as a recording and which is synthesized, how long each lasts, and a recording
 * script of what still needs a human voice (`tonetree prompts --list` and `--missing`).
 */
#ifndef TT_PROMPT_LIST_H
#define TT_PROMPT_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "prompt/prompt.h"
#include "tonetree.h"

struct tt_prompts_list_opts {
    int rate;                /* the store's output rate, Hz: durations are frames / rate */
    const char *prompts_dir; /* the folder the store looks in for recordings */
    int lang;                /* only this language index, or -1 for every language */
    bool missing_only;       /* the recording script of what has no usable recording */
    int width;               /* wrap the words at this many characters (0: 60) */
};

/**
 * List every node's own words (the part a recording can stand in for), language by language,
 * in the menu's reading order: recorded or synthesized, the duration, the text. With
 * missing_only, a recording script instead: for each node and language without a usable
 * recording, the file to make and the words to read.
 * @param store  a store made with o->rate and o->prompts_dir; the list synthesizes what it
 *               has not got yet (run tt_store_prepare first to show progress); the recording
 *               script synthesizes nothing
 *               (but the text of a recording that cannot be played, as the store does)
 * @return 0, EINVAL for a bad option (message in diag), EIO when f could not be written, or
 *         the store's error
 */
int tt_prompts_list(FILE *f, tt_store *store, const tt_menu *m,
                    const struct tt_prompts_list_opts *o, tt_diag *diag);

#endif
