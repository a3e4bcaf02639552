/*
 * lua_patroni.h: the `patroni` host module of the runbook sandbox
 * (docs/runbook-api.md): GET /cluster, /patroni, /config and any path, and
 * the write requests (switchover, failover, restart, reinitialize, PATCH
 * /config, pause, resume, cancel a scheduled switchover), which are
 * registered as mutating.
 *
 * Endpoints, the credentials file and the TLS settings come from the
 * [cluster] section of the run's cluster file. Reads take their timeout
 * from the step's budget (10 s without one); a write takes its `timeout`
 * option, else the budget (at most 120 s), else 60 s, and is sent to one
 * node only: never again to another node after it was sent.
 */
#ifndef PGHA_LUA_PATRONI_H
#define PGHA_LUA_PATRONI_H

#include <stdbool.h>

#include <lua.h>

/* Push the module's table (its mutating functions wrapped). */
void pgha_lua_open_patroni(lua_State *L);

/* Argument idx as a member: a member name (letters, digits, '_', '.',
 * '-', as in a [node NAME] section, at most 128 bytes) or, when url_ok,
 * an http(s):// URL. Raises (luaL_argerror) for anything else. Shared by
 * the patroni and pg modules. */
const char *pgha_lua_check_member(lua_State *L, int idx, bool url_ok);

#endif
