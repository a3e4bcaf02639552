/*
 * lua_etcd.c: the `etcd` host module. See lua_etcd.h. (Being written.)
 */
#include <config.h>

#include "lua_etcd.h"

#include <lauxlib.h>

void pgha_lua_open_etcd(lua_State *L)
{
	lua_newtable(L);
}
