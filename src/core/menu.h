/*
 * The menu tree as the rest of the engine sees it. A loaded menu is immutable: the session,
 * the prompt store and the drivers only read it, so one menu can serve many sessions.
 * Nodes are addressed by index; links that go nowhere are -1.
 */
#ifndef TT_MENU_H
#define TT_MENU_H

#include <stdbool.h>

#include "tonetree.h"

#define TT_MAX_LANGS 8
#define TT_MAX_CHOICES 10
#define TT_TRANSFER_MAX 256 /* the longest transfer address */
#define TT_ENTRY_MAX 32   /* the most digits one entry may have */ /* keys '0'..'9'; which of them are free for choices depends on [tonetree] */

/* The keys the engine itself answers to ([tonetree] key.* settings). */
struct tt_keys {
    char repeat, back, skip, help, end;
};

struct tt_node {
    char *id;                    /* lowercased section name */
    int line;                    /* line of its [section] header */
    char *title[TT_MAX_LANGS];   /* NULL where the language has none (validation forbids it) */
    char *text[TT_MAX_LANGS];    /* as spoken: say-as marks ({tel:...}) are written out */
    char *shown[TT_MAX_LANGS];   /* as shown on screen and in transcripts, when not text */
    char *brief[TT_MAX_LANGS];   /* said on a return visit ("short = ..."), or NULL */
    char *brief_shown[TT_MAX_LANGS];
    int choice[TT_MAX_CHOICES];  /* child node index per digit key, or -1 */
    int next, prev;              /* page sequence neighbours, or -1 (prev is derived from next) */
    /* Where each key was written (0: not written), so that tools such as the linter can point
     * at the line to change, not only at the [section]. */
    int choice_line[TT_MAX_CHOICES];
    int next_line;
    int title_line[TT_MAX_LANGS];
    int text_line[TT_MAX_LANGS];
    int brief_line[TT_MAX_LANGS];
    /* An input node (input = digits): its text asks for digits, which go to a lookup command. */
    bool input;
    int in_min, in_max;          /* how many digits an entry may have */
    bool sensitive;              /* never in logs or transcripts; read back only on request */
    bool confirm;                /* read the entry back before the lookup */
    char *lookup;                /* absolute path of the command */
    int input_line, lookup_line;
    /* A node that sends the caller to a person (transfer = sip:...): its text says where, then
     * the driver transfers the call; if that fails, the caller hears so and the way back. */
    char *transfer;              /* the address (sip:, sips: or tel:), or NULL */
    int transfer_line;
};

struct tt_menu {
    char *path;                  /* as given, for messages */
    char *prompts_dir;
    char *title[TT_MAX_LANGS];
    int start;
    size_t nlangs;
    char lang[TT_MAX_LANGS][16];
    char *voice[TT_MAX_LANGS];
    struct tt_keys keys;
    char lang_key[TT_MAX_LANGS]; /* the key that switches to each language, on every node; 0
                                  * when the menu has one language */
    int safety;                  /* the node with the safety lines ([tonetree] safety), or -1 */
    tt_ms timeout;               /* silence after a prompt before it counts as a try */
    tt_ms gap;                   /* pause between the parts of a prompt */
    int tries;                   /* silent or invalid tries before help */
    tt_ms digit_timeout;         /* in digit entry, silence after a digit that ends the entry */
    tt_ms text_timeout;          /* both waits, for a caller who reads and types */
    struct tt_node *nodes;
    size_t nnodes;
    void *index;                 /* id -> node lookup (menu_load.c's private hash) */
};

/** Digit key ('0'..'9') to choice slot, or -1 for any other character. */
static inline int tt_key_slot(int key) { return key >= '0' && key <= '9' ? key - '0' : -1; }

/** The language a key switches to, or -1. */
static inline int tt_menu_lang_of_key(const struct tt_menu *m, int key)
{
    for (size_t l = 0; l < m->nlangs; l++)
        if (m->lang_key[l] && m->lang_key[l] == key)
            return (int)l;
    return -1;
}

/** Does the node offer key as one of its choices? */
static inline int tt_node_choice(const struct tt_node *n, int key)
{
    int slot = tt_key_slot(key);
    return slot < 0 ? -1 : n->choice[slot];
}

#endif
