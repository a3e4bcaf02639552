#ifndef PGHA_PATRONI_H
#define PGHA_PATRONI_H
int pgha_patroni_stub(void);
#endif
