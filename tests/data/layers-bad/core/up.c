/* breaks the rule: core uses drivers, a layer above it */
#include "drivers/run.h"
