/*
 * lua_pg.h: the `pg` host module of the runbook sandbox
 * (docs/runbook-api.md): one SQL statement on one member's PostgreSQL,
 * read-only (pg.query) or read-write (pg.exec, mutating).
 *
 * The connection: the cluster file's [postgresql] section as a conninfo,
 * host and port from the member's [node NAME] section, else from GET
 * /cluster; application_name "pgha run"; connecting and the statement
 * (statement_timeout, and a cancel at the deadline) within the step's
 * budget (10 s without one). One connection per call, closed before it
 * returns. Passwords only from libpq's own sources (passfile, PGPASSFILE,
 * .pgpass, the environment); messages never hold a conninfo.
 */
#ifndef PGHA_LUA_PG_H
#define PGHA_LUA_PG_H

#include <lua.h>

/* Push the module's table (its mutating functions wrapped). */
void pgha_lua_open_pg(lua_State *L);

/* Push a field's text as the Lua value for its column type: bool ->
 * boolean; int2, int4, int8, oid -> integer; float4, float8, numeric ->
 * number; anything else (and a number that does not parse) -> string. */
void pgha_lua_pg_push_value(lua_State *L, unsigned int type_oid, const char *text, size_t len);

#endif
