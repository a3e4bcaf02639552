#ifndef PGHA_STATEFILE_H
#define PGHA_STATEFILE_H
int pgha_statefile_stub(void);
#endif
