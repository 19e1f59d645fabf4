/*
 * Key names. The twelve telephone keys are their own characters; named keys (from kiosk
 * keypads) have words, which keymap files and transcripts use, so a person reading either
 * sees "louder", not a number.
 */
#include <string.h>

#include "tonetree.h"

static const char *const names[] = {
    [TT_KEY_UP - TT_KEY_UP] = "up",
    [TT_KEY_DOWN - TT_KEY_UP] = "down",
    [TT_KEY_SELECT - TT_KEY_UP] = "select",
    [TT_KEY_BACK - TT_KEY_UP] = "back",
    [TT_KEY_HELP - TT_KEY_UP] = "help",
    [TT_KEY_REPEAT - TT_KEY_UP] = "repeat",
    [TT_KEY_LOUDER - TT_KEY_UP] = "louder",
    [TT_KEY_SOFTER - TT_KEY_UP] = "softer",
    [TT_KEY_SLOWER - TT_KEY_UP] = "slower",
    [TT_KEY_FASTER - TT_KEY_UP] = "faster",
    [TT_KEY_PAUSE - TT_KEY_UP] = "pause",
    [TT_KEY_EXIT - TT_KEY_UP] = "exit",
    [TT_KEY_SKIP - TT_KEY_UP] = "skip",
};

static const char digits[] = "0123456789*#";
static const char digit_names[][2] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"};

const char *tt_key_name(int key)
{
    if (key >= TT_KEY_UP && key <= TT_KEY_LAST)
        return names[key - TT_KEY_UP];
    const char *d = key > 0 && key < 0x100 ? strchr(digits, key) : NULL;
    return d ? digit_names[d - digits] : "?";
}

int tt_key_parse(const char *name)
{
    if (name[0] && !name[1] && strchr(digits, name[0]))
        return name[0];
    for (int k = TT_KEY_UP; k <= TT_KEY_LAST; k++)
        if (!strcmp(names[k - TT_KEY_UP], name))
            return k;
    return -1;
}
