/*
 * lua_pg.h: the `pg` host module of the runbook sandbox (docs/runbooks.md).
 */
#ifndef PGHA_LUA_PG_H
#define PGHA_LUA_PG_H

#include <lua.h>

/* Push the module's table (its mutating functions wrapped). */
void pgha_lua_open_pg(lua_State *L);

#endif
