/*
 * lua_patroni.c: the `patroni` host module. See lua_patroni.h. (Being written.)
 */
#include <config.h>

#include "lua_patroni.h"

#include <lauxlib.h>

void pgha_lua_open_patroni(lua_State *L)
{
	lua_newtable(L);
}
