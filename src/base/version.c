/*
 * The library's version, as a function as well as the TT_VERSION macro: a program built against
 * one header and linked (or loaded) with another library can tell which one it runs with.
 */
#include "tonetree.h"

const char *tt_version(void)
{
    return TT_VERSION;
}
