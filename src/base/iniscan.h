/*
 * The line scan of INI files (menus, phrase files, keymaps): where each [section] and
 * name = value line is, read the way iniparser 4.1 will read it.
 *
 * iniparser keeps no line numbers and is forgiving where a mistake should be said: it keeps the
 * last of two equal names, merges a repeated [section], and ends an unquoted value at ; or #.
 * This pass, made on the same bytes before iniparser sees them, gives every line its number and
 * shows what iniparser would hide, so each loader can say what is wrong and where.
 *
 * It comes in two parts. tt_ini_lines walks the logical lines (continuations joined, spaces
 * trimmed) and says what iniparser will make of each, with nothing kept and nothing said: the
 * menu loader builds on it alone, as it words its own messages and finds its repeats with hash
 * maps, for files of thousands of sections. tt_iniscan_run, for the small files, builds on that
 * walk a list of every line, applies the text rules of textcheck.h, finds repeats and reports
 * them.
 */
#ifndef TT_INISCAN_H
#define TT_INISCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/textcheck.h"

/* iniparser 4.1 reads lines with fgets into a 1024-byte buffer, and joins a line continued
 * with \ into that same buffer: a logical line may hold 1022 bytes before its newline. */
#define TT_INI_LINE_MAX 1022

/* iniparser trims with isspace() in the C locale: exactly these six. */
static inline bool tt_ini_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* iniparser lowercases names byte by byte in the C locale. */
static inline char tt_ini_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---- The walk over the logical lines ------------------------------------------------------- */

enum tt_ini_kind {
    TT_INI_SECTION,  /* [name] */
    TT_INI_KEY,      /* name = value */
    TT_INI_COMMENT,  /* starts with ; or # (the menu looks inside: `# = node` is a lost choice) */
    /* iniparser refuses the whole file on each of these three */
    TT_INI_UNCLOSED, /* starts with [ but does not end with ]: "[main] ; note", "[main" */
    TT_INI_NO_NAME,  /* an = with nothing before it */
    TT_INI_NOT_INI,  /* neither a section, a name = value nor a comment */
    TT_INI_TOO_LONG, /* longer than TT_INI_LINE_MAX, lines joined by \ counted together */
    TT_INI_DANGLING, /* the file's last line ends with \: iniparser drops it */
};

struct tt_ini_line {
    enum tt_ini_kind kind;
    int line;           /* the physical line where the logical line starts */
    int last;           /* TOO_LONG: the physical line that took it over the limit */
    size_t offset;      /* the byte of the data where the logical line starts */
    /* The logical line, joined, with its spaces at both ends gone (not NUL-terminated);
     * TOO_LONG: s is NULL and n the length it reached. Valid during the call only. */
    const char *s;
    size_t n;
    /* SECTION: all between the outer brackets, trimmed (iniparser's name ends at the first ],
     * a reader may want to say more about "[a]b]"); KEY: the name before the first =, trimmed */
    const char *name;
    size_t name_len;
    const char *value;  /* KEY: after the = and its spaces, quotes kept */
    size_t value_len;
};

/** Called for each line that is not blank; a return other than 0 ends the walk with it. */
typedef int tt_ini_line_fn(void *arg, const struct tt_ini_line *l);

/**
 * Walk the logical lines of data as iniparser 4.1's reading of a file does: spaces at the end
 * of a line go, a line ending in \ is joined to the next in one buffer of TT_INI_LINE_MAX
 * bytes, a line starting with ; or # is a comment, [name] starts a section, name = value sets a
 * key, and any other line makes iniparser refuse the file. Linear in len, no allocation.
 * @return 0, or the first value other than 0 that fn returned
 */
int tt_ini_lines(const char *data, size_t len, tt_ini_line_fn *fn, void *arg);

/* How iniparser reads a value (v, n as in tt_ini_line): in "double" or 'single' quotes it is
 * kept whole up to the next quote of its kind, and what follows is dropped; otherwise it ends
 * at the first ; or #. */
struct tt_ini_value {
    const char *cut;  /* unquoted: the first ; or # (v itself when it starts so), or NULL */
    const char *rest; /* quoted: the words after the closing quote, or NULL */
    bool unclosed;    /* quoted: the quote is never closed */
};
void tt_ini_value_read(const char *v, size_t n, struct tt_ini_value *out);

/* ---- The scan of a small file into a list of lines ----------------------------------------- */

enum tt_iniscan_kind { TT_INISCAN_SECTION, TT_INISCAN_KEY };

struct tt_iniscan_line {
    enum tt_iniscan_kind kind;
    int line;           /* where its logical line starts (lines joined by \ are one) */
    const char *name;   /* lowercased, as iniparser names it */
    const char *raw;    /* the name as written, for messages */
    int section;        /* KEY: index of the first [section] of its name, -1 before any */
    int first;          /* the line of an earlier line of the same name (a key: in the same
                           section), 0 when there is none */
    /* KEY only: the value after '=' and its spaces, quotes kept, and how iniparser reads it */
    const char *value;
    const char *cut;    /* an unquoted ; or # in value: iniparser ends the value there */
    const char *rest;   /* words after a closing quote, which iniparser drops */
    bool unclosed;      /* a quote that is never closed */
};

struct tt_iniscan {
    struct tt_iniscan_line *l;
    size_t n, cap;
    char *text;    /* every string above, each NUL-terminated */
    size_t text_len;
    bool fatal;    /* iniparser would refuse or misread the bytes: do not run it */
};

/**
 * Scan the bytes of a file (after its byte order mark: tt_text_bom). Lines iniparser cannot
 * read, a repeated [section] and every fault of tt_text_check are reported through report,
 * each with its line; the rest is the loader's to judge.
 * @param what  the file in messages ("a phrase file")
 * @return 0 or ENOMEM
 */
int tt_iniscan_run(struct tt_iniscan *s, const char *data, size_t len, const char *what,
                   tt_text_report_fn *report, void *arg);
void tt_iniscan_free(struct tt_iniscan *s);

/* How often iniparser complained about bytes this scan let through: a bug in the scan, since it
 * refuses every line iniparser would. The loaders count here, and their fuzzers check that it
 * stays 0 (per thread, for that reason only). */
extern _Thread_local unsigned long tt_iniscan_misses;

#endif
