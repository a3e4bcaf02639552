/*
 * lua_pg.c: the `pg` host module. See lua_pg.h and docs/runbook-api.md.
 *
 * As in lua_patroni.c, the C resources of a call (the connection and its
 * result, the REST client and /cluster) live in a userdata with __gc, so
 * a raise while the rows are converted (memory cap, interrupt) leaks
 * nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <config.h>

#include "lua_pg.h"

#include "buf.h"
#include "clock.h"
#include "clusterfile.h"
#include "error.h"
#include "lua_host.h"
#include "lua_patroni.h"
#include "patroni.h"
#include "pg.h"
#include "rest.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#define DEFAULT_S 10.0         /* without a budget */
#define MAX_PARAMS 65535       /* PostgreSQL's limit */
#define CONNINFO_MAX (64 * 1024)

/* type OIDs (pg_type.dat; stable across versions) */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_OID 26
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

static const char box_meta[] = "pgha.pg.box";

struct box {
	struct pgha_pg pg;
	struct pgha_rest rest;
	cJSON *cluster_root;
	struct pgha_cluster cluster;
	struct pgha_buf conninfo;
	const char **params; /* point into the anchor table */
	char err[1024];
};

static void box_free(struct box *b)
{
	pgha_pg_close(&b->pg);
	pgha_rest_close(&b->rest);
	pgha_cluster_free(&b->cluster);
	cJSON_Delete(b->cluster_root);
	b->cluster_root = NULL;
	pgha_buf_free(&b->conninfo);
	free(b->params);
	b->params = NULL;
}

static int box_gc(lua_State *L)
{
	box_free(luaL_checkudata(L, 1, box_meta));
	return 0;
}

static int fail(lua_State *L, struct box *b)
{
	lua_pushnil(L);
	lua_pushstring(L, b->err);
	box_free(b);
	return 2;
}

/* --- values --------------------------------------------------------------- */

void pgha_lua_pg_push_value(lua_State *L, unsigned int type_oid, const char *text, size_t len)
{
	char *end;
	switch (type_oid) {
	case OID_BOOL:
		lua_pushboolean(L, len == 1 && text[0] == 't');
		return;
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID: {
		errno = 0;
		long long v = strtoll(text, &end, 10);
		if (errno == 0 && end != text && *end == '\0') {
			lua_pushinteger(L, (lua_Integer)v);
			return;
		}
		break;
	}
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC: {
		double v = strtod(text, &end);
		if (end != text && *end == '\0') {
			lua_pushnumber(L, (lua_Number)v);
			return;
		}
		break;
	}
	default:
		break;
	}
	lua_pushlstring(L, text, len);
}

/* Push the result as rows: { {col = value, ...}, ..., n = N, columns =
 * {names}, command = "INSERT 0 1", affected = N }. */
static void push_rows(lua_State *L, PGresult *res)
{
	int nrows = PQntuples(res), ncols = PQnfields(res);
	lua_createtable(L, nrows, 4);
	for (int r = 0; r < nrows; r++) {
		lua_createtable(L, 0, ncols);
		for (int c = 0; c < ncols; c++) {
			if (PQgetisnull(res, r, c))
				continue;
			pgha_lua_pg_push_value(L, (unsigned int)PQftype(res, c), PQgetvalue(res, r, c),
					       (size_t)PQgetlength(res, r, c));
			lua_setfield(L, -2, PQfname(res, c));
		}
		lua_rawseti(L, -2, (lua_Integer)r + 1);
	}
	lua_createtable(L, ncols, 0);
	for (int c = 0; c < ncols; c++) {
		lua_pushstring(L, PQfname(res, c));
		lua_rawseti(L, -2, (lua_Integer)c + 1);
	}
	lua_setfield(L, -2, "columns");
	lua_pushinteger(L, nrows);
	lua_setfield(L, -2, "n");
	const char *cmd = PQcmdStatus(res);
	if (cmd && cmd[0]) {
		lua_pushstring(L, cmd);
		lua_setfield(L, -2, "command");
	}
	const char *affected = PQcmdTuples(res);
	if (affected && affected[0]) {
		lua_pushinteger(L, (lua_Integer)strtoll(affected, NULL, 10));
		lua_setfield(L, -2, "affected");
	}
}

/* The parameters at idx (a sequence) as text in b->params, the strings
 * anchored in a new table left on the stack. json.null is SQL NULL. */
static int check_params(lua_State *L, int idx, struct box *b)
{
	static const cJSON json_null = { .type = cJSON_NULL };
	int n = 0;
	lua_newtable(L); /* the anchor */
	if (lua_isnoneornil(L, idx))
		return 0;
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
	luaL_argcheck(L, len <= MAX_PARAMS, idx, "too many parameters");
	n = (int)len;
	b->params = calloc((size_t)n + 1, sizeof *b->params);
	if (!b->params)
		luaL_error(L, "out of memory");
	int anchor = lua_gettop(L);
	pgha_lua_push_json(L, &json_null); /* the json.null sentinel */
	for (int i = 1; i <= n; i++) {
		char num[64];
		lua_rawgeti(L, idx, i);
		switch (lua_type(L, -1)) {
		case LUA_TSTRING:
			break;
		case LUA_TNUMBER:
			if (lua_isinteger(L, -1))
				snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, -1));
			else
				snprintf(num, sizeof num, "%.17g", (double)lua_tonumber(L, -1));
			lua_pop(L, 1);
			lua_pushstring(L, num);
			break;
		case LUA_TBOOLEAN: {
			int v = lua_toboolean(L, -1);
			lua_pop(L, 1);
			lua_pushstring(L, v ? "true" : "false");
			break;
		}
		default:
			if (lua_rawequal(L, -1, anchor + 1)) {
				lua_pop(L, 1);
				continue; /* NULL */
			}
			lua_pushfstring(L, "parameter %d is a %s: use strings, numbers, booleans "
					"or json.null", i, luaL_typename(L, -1));
			luaL_argerror(L, idx, lua_tostring(L, -1));
		}
		b->params[i - 1] = lua_tostring(L, -1);
		lua_rawseti(L, anchor, i);
	}
	lua_pop(L, 1);
	return n;
}

/* --- the call ------------------------------------------------------------- */

/* Where member's PostgreSQL is: its [node] section, else GET /cluster. */
static int locate(struct box *b, const struct pgha_clusterfile *cf, const struct pgha_deadline *d,
		  const char *member, char *host, size_t hostlen, int *port)
{
	const struct pgha_cf_node *node = pgha_clusterfile_node(cf, member);
	host[0] = '\0';
	*port = 0;
	if (node && node->host)
		snprintf(host, hostlen, "%s", node->host);
	if (node && node->port)
		*port = node->port;
	if (host[0] && *port)
		return 0;

	char why[256];
	const char *endpoint = NULL;
	int rc = pgha_rest_open_cluster(&b->rest, cf, false, b->err, sizeof b->err);
	if (rc == 0)
		rc = pgha_rest_get_json_ok(&b->rest, d, "/cluster", &b->cluster_root, &endpoint,
					   b->err, sizeof b->err);
	if (rc)
		return rc;
	if (pgha_cluster_parse(b->cluster_root, &b->cluster, why, sizeof why)) {
		pgha_errf(b->err, sizeof b->err, "GET /cluster from \"%s\": %s", endpoint, why);
		return PGHA_E_PROTOCOL;
	}
	const struct pgha_member *m = pgha_cluster_member(&b->cluster, member);
	if (!m) {
		char names[512];
		pgha_cluster_names(&b->cluster, names, sizeof names);
		pgha_errf(b->err, sizeof b->err, "no member \"%s\" in the cluster (members: %s)",
			  member, names);
		return PGHA_E_NOTFOUND;
	}
	if (!host[0] && m->host[0])
		snprintf(host, hostlen, "%s", m->host);
	if (!*port && m->port > 0 && m->port <= 65535)
		*port = (int)m->port;
	if (!host[0] || !*port) {
		pgha_errf(b->err, sizeof b->err, "Patroni publishes no host and port for \"%s\" "
			  "(set them in its [node] section)", member);
		return PGHA_E_PROTOCOL;
	}
	return 0;
}

static int run_sql(lua_State *L, const char *what, bool read_only)
{
	const char *member = pgha_lua_check_member(L, 1, false);
	const char *sql = luaL_checkstring(L, 2);
	lua_settop(L, 3);
	const struct pgha_clusterfile *cf = pgha_lua_check_cluster(L, what);

	struct box *b = lua_newuserdatauv(L, sizeof *b, 0); /* index 4 */
	memset(b, 0, sizeof *b);
	pgha_pg_init(&b->pg);
	pgha_http_init(&b->rest.http);
	pgha_buf_init(&b->conninfo, CONNINFO_MAX);
	luaL_setmetatable(L, box_meta);
	int nparams = check_params(L, 3, b); /* the anchor: index 5 */

	struct pgha_deadline d;
	pgha_deadline_within(&d, pgha_lua_budget_left_ms(L), 0, DEFAULT_S, 0);
	char host[256], port[16];
	int portnum;
	int rc = locate(b, cf, &d, member, host, sizeof host, &portnum);
	pgha_lua_raise_if_interrupted(L);
	if (rc)
		return fail(L, b);
	snprintf(port, sizeof port, "%d", portnum);
	if (pgha_clusterfile_conninfo(cf, &b->conninfo)) {
		pgha_errf(b->err, sizeof b->err, "[postgresql] of the cluster file is too long");
		return fail(L, b);
	}
	struct pgha_pg_params p = {
		.host = host, .port = port,
		.dsn = b->conninfo.len ? pgha_buf_str(&b->conninfo) : NULL,
		.application_name = "pgha run",
		.options = read_only ? "-c default_transaction_read_only=on" : NULL,
	};
	rc = pgha_pg_connect(&b->pg, &p, &d);
	pgha_lua_raise_if_interrupted(L);
	if (rc == 0) {
		rc = pgha_pg_query(&b->pg, sql, nparams, (const char *const *)b->params);
		pgha_lua_raise_if_interrupted(L);
	}
	if (rc) {
		pgha_errf(b->err, sizeof b->err, "%s (%s:%s): %s", member, host, port, b->pg.error);
		return fail(L, b);
	}
	push_rows(L, b->pg.res);
	box_free(b);
	return 1;
}

/* pg.query(member, sql [, params]) -> rows | nil, msg */
static int pg_query(lua_State *L)
{
	return run_sql(L, "pg.query", true);
}

/* pg.exec(member, sql [, params]) -> rows | nil, msg (mutating) */
static int pg_exec(lua_State *L)
{
	return run_sql(L, "pg.exec", false);
}

void pgha_lua_open_pg(lua_State *L)
{
	if (luaL_newmetatable(L, box_meta)) {
		lua_pushcfunction(L, box_gc);
		lua_setfield(L, -2, "__gc");
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
	}
	lua_pop(L, 1);
	lua_newtable(L);
	lua_pushcfunction(L, pg_query);
	lua_setfield(L, -2, "query");
	pgha_lua_set_mutating(L, "pg", "exec", pg_exec);
}
