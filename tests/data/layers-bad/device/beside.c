/* breaks the rule: device uses input, a layer beside it */
#include "input/keys.h"
#include "base/ok.h"
