#ifndef PGHA_PG_H
#define PGHA_PG_H
int pgha_pg_stub(void);
#endif
