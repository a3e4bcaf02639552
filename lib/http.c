/* http.c: stub, being written */
#include "http.h"
int pgha_http_stub(void);
int pgha_http_stub(void) { return 0; }
