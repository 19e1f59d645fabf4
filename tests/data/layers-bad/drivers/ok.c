/* keeps the rules: drivers use core, their own folder and the public header */
#include "core/menu.h"
#include "drivers/run.h"
#include "tonetree.h"
