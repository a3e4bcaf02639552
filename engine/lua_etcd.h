/*
 * lua_etcd.h: the `etcd` host module of the runbook sandbox
 * (docs/runbook-api.md): quorum health, key reads (one key, a prefix),
 * the runbook lock's holder, and deleting a prefix (mutating).
 *
 * Endpoints from [cluster] etcd of the run's cluster file, credentials
 * from its auth_file (exchanged for a token when etcd has auth enabled),
 * TLS files from the cluster file. Each call takes its timeout from the
 * step's budget (10 s without one); health asks every voter at once,
 * each within 2 s.
 */
#ifndef PGHA_LUA_ETCD_H
#define PGHA_LUA_ETCD_H

#include <stddef.h>

#include <lua.h>

/* Push the module's table (its mutating functions wrapped). */
void pgha_lua_open_etcd(lua_State *L);

/* The range_end that makes a range read or delete cover every key
 * starting with the len bytes of prefix: the prefix with its last byte
 * below 0xff incremented and what follows it dropped; "\0" (every key)
 * when there is none. out needs len + 1 bytes; returns the length. */
size_t pgha_lua_etcd_range_end(const char *prefix, size_t len, char *out);

#endif
