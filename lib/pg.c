/* pg.c: stub, being written */
#include "pg.h"
int pgha_pg_stub(void) { return 0; }
