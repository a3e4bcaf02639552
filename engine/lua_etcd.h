/*
 * lua_etcd.h: the `etcd` host module of the runbook sandbox (docs/runbooks.md).
 */
#ifndef PGHA_LUA_ETCD_H
#define PGHA_LUA_ETCD_H

#include <lua.h>

/* Push the module's table (its mutating functions wrapped). */
void pgha_lua_open_etcd(lua_State *L);

#endif
