#ifndef PGHA_OPTIONS_H
#define PGHA_OPTIONS_H
int pgha_options_stub(void);
#endif
