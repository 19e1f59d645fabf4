/* Prompt store internals that tools share: where a node's recording lives. */
#ifndef TT_PROMPT_H
#define TT_PROMPT_H

#include <stddef.h>

/**
 * The recording that stands in for a node's text, if one exists: 0 with its path in path,
 * or ENOENT. Looks for <prompts_dir>/<lang>/<node>.<ext> with the extensions in the order the
 * store tries them, so tools (lint, prompts --list) name the file people actually hear.
 */
int tt_prompt_recording(const char *prompts_dir, const char *lang, const char *node, char *path,
                        size_t size);

#endif
