/* breaks the rule: a bare name, no layer */
#include "menu.h"
