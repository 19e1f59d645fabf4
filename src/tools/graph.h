/*
 * The menu tree as a Graphviz graph (`tonetree graph`): one box per node with its id and
 * title, one arrow per key. Writers see the whole menu at once and spot what a listener
 * never could: a branch nobody reaches, a page sequence that stops short.
 */
#ifndef TT_GRAPH_H
#define TT_GRAPH_H

#include <stdio.h>

#include "tonetree.h"

/**
 * Write the menu as a Graphviz dot graph: a node per menu node (the start drawn with a double
 * border, nodes no key reaches with a dashed one), an arrow per choice labelled with its key,
 * an arrow labelled with the skip key (#) to each next page and a dashed one labelled with
 * the back key (*) to each previous page. Titles are in language lang (an index).
 * @return 0, EINVAL for a bad language (message in diag), ENOMEM, or EIO when f could not be
 *         written
 */
int tt_graph_write(FILE *f, const tt_menu *m, int lang, tt_diag *diag);

/**
 * The same graph drawn as SVG by Graphviz's dot, found on PATH, written to f.
 * @return 0; ENOENT when dot is not installed (diag says what to do instead); EIO when dot
 *         failed (its messages are in diag); or another errno
 */
int tt_graph_svg(FILE *f, const tt_menu *m, int lang, tt_diag *diag);

#endif
