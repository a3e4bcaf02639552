#ifndef PGHA_JSON_H
#define PGHA_JSON_H
int pgha_json_stub(void);
#endif
