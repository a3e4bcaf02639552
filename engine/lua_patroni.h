/*
 * lua_patroni.h: the `patroni` host module of the runbook sandbox (docs/runbooks.md).
 */
#ifndef PGHA_LUA_PATRONI_H
#define PGHA_LUA_PATRONI_H

#include <lua.h>

/* Push the module's table (its mutating functions wrapped). */
void pgha_lua_open_patroni(lua_State *L);

#endif
