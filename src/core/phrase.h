/*
 * The engine's own words. Everything the engine says that is not a node's text comes from a
 * per-language phrase file (prompts/<lang>/phrases.ini, section [phrases]) that a court can
 * re-word; the C code only knows the phrase names and which {placeholders} each may use.
 */
#ifndef TT_PHRASE_H
#define TT_PHRASE_H

#include <stddef.h>

#include "tonetree.h"

enum tt_phrase_id {
    TT_PH_CHOICE,        /* {title} {key}: one choice, "To hear {title}, press {key}." */
    TT_PH_NEXT_PAGE,     /* {key}, may name the next page's {title} */
    TT_PH_PREV_PAGE,     /* {key}, may name the previous page's {title} */
    TT_PH_BACK,          /* {title} {key}: "To go back to {title}, press {key}." (leaves, last pages) */
    TT_PH_HELP_HINT,     /* {key}: said after the start node's choices */
    TT_PH_INVALID,       /* {key}: "{key} is not a choice here." */
    TT_PH_WARN,          /* "Are you still there? Press any key for more time." */
    TT_PH_TO_HELP,       /* said before help when failed tries sent the listener there */
    TT_PH_HELP,          /* heading of the help menu */
    TT_PH_HELP_WHERE,    /* {key} */
    TT_PH_HELP_RESTART,  /* {key} */
    TT_PH_HELP_LANGUAGE, /* {key}: taken from the *target* language's file, in its own words */
    TT_PH_HELP_RETURN,   /* {key} */
    TT_PH_HELP_KEYS,     /* {repeat} {back} {skip} {end}: the keys that work everywhere */
    TT_PH_WHERE,         /* {path}: "You are in {path}." */
    TT_PH_PATH_SEP,      /* joins titles in {path} */
    TT_PH_AT_START,      /* back pressed at the start node */
    TT_PH_GOODBYE,
    TT_PH_KEY_STAR,      /* how the * key is named aloud */
    TT_PH_KEY_HASH,      /* how the # key is named aloud */
    TT_PH_BROWSE,        /* {n} {count} {title}: one choice at a time, for up/down/select */
    TT_PH_BROWSE_NONE,   /* up/down where there is nothing to choose */
    TT_PH_HELP_SETTINGS, /* {key}: help's way into the settings */
    TT_PH_SETTINGS,      /* heading of the settings menu */
    TT_PH_SET_SLOWER,    /* {key} */
    TT_PH_SET_FASTER,    /* {key} */
    TT_PH_SET_LOUDER,    /* {key} */
    TT_PH_SET_SOFTER,    /* {key} */
    TT_PH_SET_PAUSE,     /* {key} */
    TT_PH_SLOWER,        /* said back after each change ... */
    TT_PH_FASTER,
    TT_PH_LOUDER,
    TT_PH_SOFTER,
    TT_PH_SLOWEST,       /* ... or that there is no further step */
    TT_PH_FASTEST,
    TT_PH_LOUDEST,
    TT_PH_SOFTEST,
    TT_PH_PAUSED,        /* "Paused. Press any key to go on." */
    TT_PH_ENTRY_READBACK, /* {digits}: "You entered {digits}." */
    TT_PH_ENTRY_COUNT,   /* {n}: a sensitive entry at a kiosk: "You entered {n} digits." */
    TT_PH_ENTRY_YES,     /* {key} */
    TT_PH_ENTRY_AGAIN,   /* {key} */
    TT_PH_ENTRY_HEAR,    /* {key}: hear a sensitive entry read back */
    TT_PH_ENTRY_SHORT,   /* {n}: fewer digits than the node wants */
    TT_PH_ENTRY_CLEARED,
    TT_PH_ENTRY_LEAVE,   /* {back} {end}: how to leave while typing, where 9 is a digit */
    TT_PH_LOOKUP_WAIT,
    TT_PH_LOOKUP_FAILED, /* the lookup found nothing for the entry */
    TT_PH_LOOKUP_DOWN,   /* the lookup failed or hung: not the caller's number's fault */
    TT_PH_LOOKUP_RETRY,  /* {key} */
    TT_PH_RESULT_AGAIN,  /* {key} */
    TT_PH_RESULT_ANOTHER, /* {key} */
    TT_PH_END_HINT,      /* {end}: the first words of a session: how to leave at once */
    TT_PH_TRANSFER_FAILED, /* a transfer to a person did not go through (the way back follows) */
    TT_PH_TEXT_MODE,     /* {n}: said first to a caller who reads and types: the letter keys, and
                          * the seconds of each wait */
    TT_PH_COUNT
};

/**
 * Load phrases from the bytes of a phrase file (tt_phrases_load reads the file, then this).
 * @param name  the file as named in messages
 * @return 0, EINVAL when the bytes have errors (every one is in diag), or ENOMEM
 */
int tt_phrases_load_mem(tt_phrases **pp, const char *name, const char *data, size_t len,
                        tt_diag *diag);

/** The phrase file's name for a phrase ("choice", "next_page", ...). */
const char *tt_phrase_name(enum tt_phrase_id id);
/** The raw phrase text, placeholders unexpanded. */
const char *tt_phrase_get(const tt_phrases *p, enum tt_phrase_id id);

/* Values for {placeholders}; NULL ones are not used by the phrase. Keys are raw ('1', '*'). */
struct tt_phrase_args {
    const char *title, *path;
    char key, repeat, back, skip, end;
    int n, count; /* browse: choice n of count */
    const char *digits; /* an entry, already grouped for reading */
};

struct tt_strbuf;
/** Append a phrase with its placeholders filled in (keys named aloud: "star", "1"). */
void tt_phrase_say(const tt_phrases *p, enum tt_phrase_id id, const struct tt_phrase_args *a,
                   struct tt_strbuf *out);
/** Append how a key is named aloud. */
void tt_phrase_key(const tt_phrases *p, char key, struct tt_strbuf *out);

#endif
