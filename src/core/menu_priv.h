/*
 * Menu loader internals, shared by its three files and nobody else:
 *
 *   menu_scan.c   one pass over the raw lines: where each [section] and key is, and the
 *                 lexical mistakes iniparser would swallow silently (cut values, duplicates,
 *                 `# = node`, lines too long, bytes that are not UTF-8 text)
 *   menu_load.c   iniparser's dictionaries -> struct tt_menu, the public accessors, and the
 *                 small hash map everything here uses to stay linear in the file's size
 *   menu_check.c  meaning: references between nodes, reserved keys, page sequences,
 *                 reachability, translations, and the "did you mean" suggestions
 *
 * They share one struct tt_load: the state of a load in progress, thrown away at its end.
 */
#ifndef TT_MENU_PRIV_H
#define TT_MENU_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/iniscan.h"
#include "core/menu.h"

/* iniparser 4.1 reads lines with fgets into a 1024-byte buffer, and a line continued with \
 * is joined into that same buffer: measured, a logical line may hold 1022 bytes before the
 * newline; one byte more and the whole load fails (iniscan.h, which the small files share). */
#define TT_LINE_MAX TT_INI_LINE_MAX
#define TT_FILE_MAX ((size_t)8 << 20)
#define TT_ID_MAX 64
#define TT_SETTINGS "tonetree"

/* iniparser's dictionary searches all its entries on every insert, so one dictionary for a
 * whole file is quadratic: measured, 490 ms for a 10,000-node menu (40,000 entries). It is
 * handed the file in chunks of about this many sections instead, each read into a dictionary
 * of its own: linear in the file. */
#ifndef TT_INI_CHUNK
#define TT_INI_CHUNK 64
#endif

/* ---- Hash map: (tag, string) -> int. Keys are borrowed, never copied or freed. --------------- */

struct tt_menu_map_slot {
    const char *key; /* NULL: empty slot */
    uint32_t len;
    int tag;
    int value;
};

struct tt_menu_map {
    struct tt_menu_map_slot *slot;
    size_t cap, n;
    uint64_t seed;
};

int tt_menu_map_init(struct tt_menu_map *m, size_t expected);
void tt_menu_map_free(struct tt_menu_map *m);
/** The value stored for (tag, key), or -1. */
int tt_menu_map_get(const struct tt_menu_map *m, int tag, const char *key, size_t len);
/**
 * Store value for (tag, key) unless the key is there already.
 * @return 0 (stored), EEXIST (*old set to the value already there), or ENOMEM
 */
int tt_menu_map_put(struct tt_menu_map *m, int tag, const char *key, size_t len, int value,
                    int *old);

/* ---- The line scan --------------------------------------------------------------------------- */

enum {
    TT_SCAN_EMPTY_COMMENT = 1 << 0, /* the value began with ; or #: iniparser read it as empty */
};

struct tt_scan_section {
    const char *name; /* lowercased, as iniparser names it */
    int line;         /* where its logical line starts (a header may be continued with \) */
    size_t offset;    /* the byte where that line starts: a place to cut the file for iniparser */
    int first;        /* index of the first header with this name (itself unless repeated) */
    bool valid;       /* a usable node id, or the settings section */
    bool starts;      /* iniparser enters a section here, whatever came before (not so "[]") */
};

struct tt_scan_key {
    const char *name; /* lowercased, as iniparser names it */
    int sec;          /* index into sections (the first header of that name) */
    int line;
    unsigned flags;
};

struct tt_scan {
    char *names;      /* every name above, each NUL-terminated; sized once, never moved */
    size_t names_len;
    struct tt_scan_section *sec;
    size_t nsec, sec_cap;
    struct tt_scan_key *key;
    size_t nkey, key_cap;
    bool fatal;       /* iniparser would reject or misread these bytes: do not run it */
};

struct tt_load;
/** Scan the raw bytes; lexical errors go to the load's diagnostics. 0 or ENOMEM. */
int tt_menu_scan(struct tt_load *ld, const char *data, size_t len);
void tt_menu_scan_free(struct tt_scan *s);

/* ---- iniparser, a chunk of sections at a time (menu_load.c) ---------------------------------- */

/* iniparser's reading of a file: one dictionary per chunk. */
struct tt_ini;
/**
 * Hand the scanned bytes to iniparser, cut before a section header every TT_INI_CHUNK sections
 * or so; its complaints go to the load's messages at their line in the whole file.
 * *inip is NULL when iniparser rejected a chunk (the messages say why).
 * @return 0, ENOMEM, or the errno of writing the bytes where iniparser can open them
 */
int tt_menu_ini_read(struct tt_load *ld, const char *data, size_t len, struct tt_ini **inip);
void tt_menu_ini_free(struct tt_ini *ini);

/* ---- A load in progress ---------------------------------------------------------------------- */

/* A link by name, resolved once every node is known. */
struct tt_ref {
    const char *to; /* the value as written (borrowed from the dictionary), or NULL */
    int line;
};

struct tt_node_src {
    struct tt_ref choice[TT_MAX_CHOICES];
    struct tt_ref next;
    int title_line[TT_MAX_LANGS]; /* 0: not given */
    int text_line[TT_MAX_LANGS];
};

/* What the engine does with a key ([tonetree] key.* settings, struct tt_keys). */
enum tt_menu_role { TT_ROLE_REPEAT, TT_ROLE_BACK, TT_ROLE_SKIP, TT_ROLE_HELP, TT_ROLE_END,
                    TT_ROLE_COUNT };

/* A message kept back until the load ends, so that they can be given in line order. */
struct tt_load_note {
    int line;
    enum tt_severity sev;
    unsigned seq;
    char *text;
    const char *rule; /* a string literal, or NULL: see tt_menu_msg_rule */
};

struct tt_load {
    const char *name;         /* the file as named in messages */
    tt_diag *diag;
    struct tt_load_note *notes;
    size_t nnotes;
    size_t extra[3];          /* messages past the most a diag list shows, by severity */
    int errors;
    bool nomem;
    int ini_line0;            /* lines of the file before the chunk iniparser reads */
    long suggest_budget;      /* work left for "did you mean" (table cells), bounding its cost */
    struct tt_scan scan;
    struct tt_menu_map ids;   /* node id -> index, handed to the menu at the end */
    struct tt_menu *m;
    struct tt_node_src *src;  /* per node, parallel to m->nodes */
    int settings_line;        /* line of [tonetree], 0 when there is none */
    struct tt_ref start;
    struct tt_ref safety;     /* [tonetree] safety */
    int lang_key_line[TT_MAX_LANGS]; /* where key.lang.xx was set, 0 for its default */
    int key_line[TT_ROLE_COUNT]; /* where each engine key was set, 0 for its default */
};

/* How often iniparser read a line otherwise than the scan said it would: a bug in the scan.
 * The fuzzer checks that it stays 0 (per thread, for that reason only). */
extern _Thread_local unsigned long tt_menu_scan_misses;

/** Add a message at a line of the file (0: about the whole file); counts errors. */
void tt_menu_msg(struct tt_load *ld, enum tt_severity sev, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/**
 * The same, found by a rule of `tonetree check` (docs/lint-rules.md): rule is its id, a
 * string literal. A message at a line with no rule of its own is about the file's format and
 * gets the rule "menu-format" when it is handed to the diag list.
 */
void tt_menu_msg_rule(struct tt_load *ld, enum tt_severity sev, int line, const char *rule,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/** Hand the messages to the diag list, sorted by line (file order is how people fix them). */
void tt_menu_msg_flush(struct tt_load *ld);

/** The engine key's setting name ("key.repeat") and what it does, for messages. */
const char *tt_menu_key_name(enum tt_menu_role k);
const char *tt_menu_key_does(enum tt_menu_role k);
char tt_menu_key_get(const struct tt_keys *keys, enum tt_menu_role k);

/* ---- Checks and suggestions (menu_check.c) --------------------------------------------------- */

/* "Did you mean": the closest candidate within edit distance 2. */
struct tt_suggest {
    const char *word;
    size_t len;
    char best[TT_ID_MAX + 16]; /* a copy: candidates may be built in a scratch buffer */
    int dist;                  /* of best; 3 while there is none */
    long *budget;
};

/** Start a suggestion for word; false when the load has spent its budget (then skip it). */
bool tt_menu_suggest_init(struct tt_suggest *s, struct tt_load *ld, const char *word);
void tt_menu_suggest_try(struct tt_suggest *s, const char *candidate);
/** The best candidate, or NULL. */
const char *tt_menu_suggest_best(const struct tt_suggest *s);
/** Closest node id to word, or NULL. */
const char *tt_menu_suggest_node(struct tt_load *ld, const char *word);

/** Everything about meaning: links, keys, pages, translations, reachability. 0 or ENOMEM. */
int tt_menu_check(struct tt_load *ld);

#endif
