/* auth.c: stub, being written */
#include "auth.h"
int pgha_auth_stub(void);
int pgha_auth_stub(void) { return 0; }
