/* range.c: stub, being written */
#include "range.h"
int pgha_range_stub(void);
int pgha_range_stub(void) { return 0; }
