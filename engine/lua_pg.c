/*
 * lua_pg.c: the `pg` host module. See lua_pg.h. (Being written.)
 */
#include <config.h>

#include "lua_pg.h"

#include <lauxlib.h>

void pgha_lua_open_pg(lua_State *L)
{
	lua_newtable(L);
}
