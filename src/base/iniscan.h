/*
 * The line scan of the small INI files (phrase files, keymaps): where each [section] and
 * name = value line is, read the way iniparser 4.1 will read it.
 *
 * iniparser keeps no line numbers and is forgiving where a mistake should be said: it keeps the
 * last of two equal names, merges a repeated [section], and ends an unquoted value at ; or #.
 * This pass, made on the same bytes before iniparser sees them, gives every line its number and
 * shows what iniparser would hide, so each loader can say what is wrong and where. (The menu
 * loader has its own scan, menu_scan.c, built for files of thousands of sections; both follow
 * the same rules, and the text rules of textcheck.h are applied here too.)
 */
#ifndef TT_INISCAN_H
#define TT_INISCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/textcheck.h"

/* iniparser 4.1 reads lines with fgets into a 1024-byte buffer, and joins a line continued
 * with \ into that same buffer: a logical line may hold 1022 bytes before its newline. */
#define TT_INI_LINE_MAX 1022

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
