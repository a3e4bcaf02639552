/* patroni.c: stub, being written */
#include "patroni.h"
int pgha_patroni_stub(void) { return 0; }
