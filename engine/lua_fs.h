/*
 * lua_fs.h: the `fs` host module of the runbook sandbox (docs/runbook-api.md).
 */
#ifndef PGHA_LUA_FS_H
#define PGHA_LUA_FS_H

#include <lua.h>

/* Push the module's table (its mutating functions wrapped). */
void pgha_lua_open_fs(lua_State *L);

#endif
