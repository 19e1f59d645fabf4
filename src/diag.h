/* Diagnostics internals: tests and the command line read messages back one by one. */
#ifndef TT_DIAG_H
#define TT_DIAG_H

#include "tonetree.h"

#define TT_DIAG_MAX 200

struct tt_diag_msg {
    enum tt_severity sev;
    char *file; /* NULL when the message is about no file */
    int line;   /* 0 when it is about no line */
    char *text;
};

size_t tt_diag_len(const tt_diag *d);
const struct tt_diag_msg *tt_diag_get(const tt_diag *d, size_t i);

#endif
