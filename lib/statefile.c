/* statefile.c: stub, being written */
#include "statefile.h"
int pgha_statefile_stub(void) { return 0; }
