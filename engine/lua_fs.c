/*
 * lua_fs.c: the `fs` host module. See lua_fs.h. (Being written.)
 */
#include <config.h>

#include "lua_fs.h"

#include <lauxlib.h>

void pgha_lua_open_fs(lua_State *L)
{
	lua_newtable(L);
}
