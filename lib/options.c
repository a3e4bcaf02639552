/* options.c: stub, being written */
#include "options.h"
int pgha_options_stub(void) { return 0; }
