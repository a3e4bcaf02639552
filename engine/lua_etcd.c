/*
 * lua_etcd.c: the `etcd` host module. See lua_etcd.h and
 * docs/runbook-api.md.
 *
 * Keys and values travel base64-encoded through etcd's JSON gateway
 * (shared design etcd-api.md); they are Lua strings here, binary-safe.
 * As in the other host modules, every C resource of a call lives in a
 * userdata with __gc so that a raise while results are pushed leaks
 * nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <config.h>

#include "lua_etcd.h"

#include "base64.h"
#include "clock.h"
#include "clusterfile.h"
#include "error.h"
#include "etcd.h"
#include "json.h"
#include "lock.h"
#include "lua_host.h"
#include "rest.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#define DEFAULT_S 10.0            /* without a budget */
#define MEMBER_TIMEOUT_MS 2000    /* health: each voter's status */
#define KEY_MAX (64 * 1024)       /* bytes of a key or prefix */
#define LOCK_PREFIX PGHA_LOCK_PREFIX

static const char box_meta[] = "pgha.etcd.box";

struct box {
	struct pgha_rest rest;
	cJSON *version_doc;
	const char *prefix;       /* "/v3" or "/v3beta" */
	char *token;
	cJSON *root;              /* the answer being pushed */
	char *body;               /* the request body */
	char *bytes;              /* a decoded key or value */
	cJSON *holder;            /* the lock holder being pushed */
	struct pgha_etcd_view view;
	char err[768];
};

static void box_free(struct box *b)
{
	pgha_rest_close(&b->rest);
	cJSON_Delete(b->version_doc);
	b->version_doc = NULL;
	free(b->token);
	b->token = NULL;
	cJSON_Delete(b->root);
	b->root = NULL;
	free(b->body);
	b->body = NULL;
	free(b->bytes);
	b->bytes = NULL;
	cJSON_Delete(b->holder);
	b->holder = NULL;
	pgha_etcd_view_free(&b->view);
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

/* Push a new box with a client for the cluster's etcd endpoints. NULL
 * when there are none or the client cannot be set up: err is set and the
 * box is on the stack. */
static struct box *box_open(lua_State *L, const char *what)
{
	const struct pgha_clusterfile *cf = pgha_lua_check_cluster(L, what);
	struct box *b = lua_newuserdatauv(L, sizeof *b, 0);
	memset(b, 0, sizeof *b);
	pgha_http_init(&b->rest.http);
	luaL_setmetatable(L, box_meta);
	if (cf->n_etcd == 0) {
		pgha_errf(b->err, sizeof b->err, "no etcd in the cluster file");
		return NULL;
	}
	if (pgha_rest_open_cluster(&b->rest, cf, true, b->err, sizeof b->err))
		return NULL;
	return b;
}

static void call_deadline(lua_State *L, struct pgha_deadline *d)
{
	pgha_deadline_within(d, pgha_lua_budget_left_ms(L), 0, DEFAULT_S, 0);
}

/* GET /version (the API prefix) from the first endpoint that answers,
 * which then goes first for the calls that follow; authenticate when the
 * credentials name a user. */
static int connect_etcd(struct box *b, const struct pgha_deadline *d)
{
	long status = 0;
	const char *endpoint = NULL, *version = NULL;
	int rc = pgha_rest_get_json(&b->rest, d, "/version", &b->version_doc, &status, &endpoint,
				    b->err, sizeof b->err);
	if (rc == 0 && status != 200) {
		pgha_errf(b->err, sizeof b->err, "GET /version from \"%s\" answered HTTP %ld",
			  endpoint, status);
		rc = PGHA_E_PROTOCOL;
	}
	if (rc == 0)
		rc = pgha_etcd_prefix(b->version_doc, &b->prefix, &version, b->err, sizeof b->err);
	if (rc)
		return rc;
	for (size_t i = 1; i < b->rest.http.n_endpoints; i++) {
		if (b->rest.http.endpoints[i] == endpoint) {
			char *first = b->rest.http.endpoints[0];
			b->rest.http.endpoints[0] = b->rest.http.endpoints[i];
			b->rest.http.endpoints[i] = first;
			break;
		}
	}
	return pgha_etcd_authenticate(&b->rest, d, b->prefix, &b->token, b->err, sizeof b->err);
}

size_t pgha_lua_etcd_range_end(const char *prefix, size_t len, char *out)
{
	size_t n = len;
	while (n > 0 && (unsigned char)prefix[n - 1] == 0xff)
		n--;
	if (n == 0) {
		out[0] = '\0';
		return 1;
	}
	memcpy(out, prefix, n);
	out[n - 1] = (char)((unsigned char)out[n - 1] + 1);
	return n;
}

/* Add name: base64 of len bytes to the object o. */
static bool add_b64(cJSON *o, const char *name, const char *bytes, size_t len)
{
	char *text = malloc(PGHA_BASE64_LEN(len));
	if (!text)
		return false;
	pgha_base64_encode(bytes, len, text);
	bool ok = cJSON_AddStringToObject(o, name, text) != NULL;
	free(text);
	return ok;
}

/* POST <prefix>/kv/<op> for key (with a range_end covering the prefix
 * when prefix is true); the answer goes to b->root. */
static int kv_call(struct box *b, const struct pgha_deadline *d, const char *op, const char *key,
		   size_t len, bool prefix, bool serializable)
{
	char path[64];
	cJSON *req = cJSON_CreateObject();
	bool ok = req != NULL;
	if (ok && prefix) {
		char *end = malloc(len + 1);
		ok = end != NULL;
		if (ok) {
			size_t n = pgha_lua_etcd_range_end(key, len, end);
			/* an empty prefix: from "\0" to the end, i.e. every key */
			ok = add_b64(req, "key", len ? key : "", len ? len : 1) &&
			     add_b64(req, "range_end", end, n);
			free(end);
		}
	} else if (ok) {
		ok = add_b64(req, "key", key, len);
	}
	if (ok && serializable)
		ok = cJSON_AddTrueToObject(req, "serializable") != NULL;
	b->body = ok ? cJSON_PrintUnformatted(req) : NULL;
	cJSON_Delete(req);
	if (!b->body) {
		pgha_errf(b->err, sizeof b->err, "out of memory");
		return PGHA_E_NOMEM;
	}
	snprintf(path, sizeof path, "%s/kv/%s", b->prefix, op);
	int rc = pgha_etcd_call(&b->rest, d, path, b->body, &b->root, b->err, sizeof b->err);
	free(b->body);
	b->body = NULL;
	return rc;
}

/* Decode the base64 field name of kv into b->bytes; *len its length
 * (an absent field is etcd's empty value). */
static int kv_bytes(struct box *b, const cJSON *kv, const char *name, size_t *len)
{
	const char *text = "";
	pgha_json_string(kv, name, &text);
	free(b->bytes);
	b->bytes = malloc(3 * strlen(text) / 4 + 1);
	if (!b->bytes) {
		pgha_errf(b->err, sizeof b->err, "out of memory");
		return PGHA_E_NOMEM;
	}
	long n = pgha_base64_decode(text, (unsigned char *)b->bytes);
	if (n < 0) {
		pgha_errf(b->err, sizeof b->err, "etcd sent a %s that is not base64", name);
		return PGHA_E_PROTOCOL;
	}
	*len = (size_t)n;
	return 0;
}

/* A key or prefix argument. */
static const char *check_key(lua_State *L, int idx, size_t *len, bool empty_ok)
{
	const char *k = luaL_checklstring(L, idx, len);
	luaL_argcheck(L, *len <= KEY_MAX, idx, "key longer than 65536 bytes");
	luaL_argcheck(L, empty_ok || *len > 0, idx, "empty key");
	return k;
}

/* The options table of get/list: { serializable = bool }. */
static bool check_read_opts(lua_State *L, int idx)
{
	bool serializable = false;
	if (lua_isnoneornil(L, idx))
		return false;
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), "serializable") != 0)
			luaL_argerror(L, idx, "the only option is serializable");
		luaL_argcheck(L, lua_isboolean(L, -1), idx, "serializable must be a boolean");
		serializable = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	return serializable;
}

/* Connect within the call's deadline and send one kv request (verb
 * "range" or "deleterange") for key, or every key under it when prefix;
 * the answer is in b->root. Raises when interrupted. */
static int kv_request(lua_State *L, struct box *b, const char *verb, const char *key,
		      size_t len, bool prefix, bool serializable)
{
	struct pgha_deadline d;
	call_deadline(L, &d);
	int rc = connect_etcd(b, &d);
	if (rc == 0)
		rc = kv_call(b, &d, verb, key, len, prefix, serializable);
	pgha_lua_raise_if_interrupted(L);
	return rc;
}

/* Read one key into b->root; *kv is its record, NULL when absent. */
static int get_key(lua_State *L, struct box *b, const char *key, size_t len, bool serializable,
		   const cJSON **kv)
{
	const cJSON *kvs;
	int rc = kv_request(L, b, "range", key, len, false, serializable);
	*kv = NULL;
	if (rc == 0 && pgha_json_array(b->root, "kvs", &kvs) == 0)
		*kv = cJSON_GetArrayItem(kvs, 0);
	return rc;
}

/* etcd.get(key [, {serializable = true}]) -> value | false | nil, msg */
static int e_get(lua_State *L)
{
	size_t len, vlen = 0;
	const char *key = check_key(L, 1, &len, false);
	bool serializable = check_read_opts(L, 2);
	lua_settop(L, 2);
	struct box *b = box_open(L, "etcd.get");
	if (!b)
		return fail(L, lua_touserdata(L, -1));
	const cJSON *kv;
	int rc = get_key(L, b, key, len, serializable, &kv);
	if (rc == 0 && kv)
		rc = kv_bytes(b, kv, "value", &vlen);
	if (rc)
		return fail(L, b);
	if (kv)
		lua_pushlstring(L, b->bytes, vlen);
	else
		lua_pushboolean(L, 0);
	box_free(b);
	return 1;
}

/* etcd.list(prefix [, {serializable = true}]) -> { key = value } | nil, msg */
static int e_list(lua_State *L)
{
	size_t len;
	const char *prefix = check_key(L, 1, &len, true);
	bool serializable = check_read_opts(L, 2);
	lua_settop(L, 2);
	struct box *b = box_open(L, "etcd.list");
	if (!b)
		return fail(L, lua_touserdata(L, -1));
	if (kv_request(L, b, "range", prefix, len, true, serializable))
		return fail(L, b);
	const cJSON *kvs = NULL, *kv;
	pgha_json_array(b->root, "kvs", &kvs);
	lua_newtable(L);
	cJSON_ArrayForEach(kv, kvs) {
		size_t klen, vlen;
		if (kv_bytes(b, kv, "key", &klen))
			return fail(L, b);
		lua_pushlstring(L, b->bytes, klen);
		if (kv_bytes(b, kv, "value", &vlen))
			return fail(L, b);
		lua_pushlstring(L, b->bytes, vlen);
		lua_rawset(L, -3);
	}
	box_free(b);
	return 1;
}

/* etcd.delete_prefix(prefix) -> number deleted | nil, msg (mutating) */
static int e_delete_prefix(lua_State *L)
{
	size_t len;
	const char *prefix = check_key(L, 1, &len, true);
	luaL_argcheck(L, len > 0, 1, "an empty prefix would delete every key");
	lua_settop(L, 1);
	struct box *b = box_open(L, "etcd.delete_prefix");
	if (!b)
		return fail(L, lua_touserdata(L, -1));
	if (kv_request(L, b, "deleterange", prefix, len, true, false))
		return fail(L, b);
	int64_t deleted = 0; /* absent when 0 */
	pgha_json_int64(b->root, "deleted", &deleted);
	box_free(b);
	lua_pushinteger(L, (lua_Integer)deleted);
	return 1;
}

/* etcd.lock_holder() -> holder table | false | nil, msg */
static int e_lock_holder(lua_State *L)
{
	const struct pgha_clusterfile *cf = pgha_lua_check_cluster(L, "etcd.lock_holder");
	lua_settop(L, 0);
	lua_pushfstring(L, LOCK_PREFIX "%s", cf->scope); /* index 1 */
	size_t len, vlen = 0;
	const char *key = lua_tolstring(L, 1, &len);
	struct box *b = box_open(L, "etcd.lock_holder");
	if (!b)
		return fail(L, lua_touserdata(L, -1));
	const cJSON *kv;
	int rc = get_key(L, b, key, len, false, &kv);
	if (rc == 0 && kv)
		rc = kv_bytes(b, kv, "value", &vlen);
	if (rc)
		return fail(L, b);
	if (!kv) {
		box_free(b);
		lua_pushboolean(L, 0);
		return 1;
	}
	char why[128];
	if (pgha_json_parse(b->bytes, vlen, &b->holder, why, sizeof why) ||
	    !cJSON_IsObject(b->holder)) {
		pgha_errf(b->err, sizeof b->err, "the lock key \"%s\" does not hold a JSON object",
			  key);
		return fail(L, b);
	}
	/* the record's lease when the holder does not name it */
	const char *lease = NULL;
	if (!cJSON_HasObjectItem(b->holder, "lease") && pgha_json_string(kv, "lease", &lease) == 0 &&
	    !cJSON_AddStringToObject(b->holder, "lease", lease))
		return luaL_error(L, "out of memory");
	pgha_lua_push_json(L, b->holder);
	box_free(b);
	return 1;
}

/* etcd.health() -> { ok, healthy, voters, quorum, leader, members, ... } */
static int e_health(lua_State *L)
{
	lua_settop(L, 0);
	struct box *b = box_open(L, "etcd.health");
	if (!b)
		return fail(L, lua_touserdata(L, -1));
	struct pgha_deadline d;
	struct pgha_etcd_health h;
	call_deadline(L, &d);
	int rc = pgha_etcd_discover(&b->rest, &d, &b->view, b->err, sizeof b->err);
	pgha_lua_raise_if_interrupted(L);
	if (rc)
		return fail(L, b);
	pgha_etcd_assess(&b->rest.http, &d, MEMBER_TIMEOUT_MS, &b->view, &h);
	pgha_lua_raise_if_interrupted(L);

	lua_createtable(L, 0, 9);
	lua_pushboolean(L, h.healthy >= h.quorum && h.leader != 0 && !h.disagree);
	lua_setfield(L, -2, "ok");
	lua_pushinteger(L, (lua_Integer)h.healthy);
	lua_setfield(L, -2, "healthy");
	lua_pushinteger(L, (lua_Integer)h.n_voters);
	lua_setfield(L, -2, "voters");
	lua_pushinteger(L, (lua_Integer)h.quorum);
	lua_setfield(L, -2, "quorum");
	lua_pushinteger(L, (lua_Integer)h.learners);
	lua_setfield(L, -2, "learners");
	lua_pushboolean(L, h.alarm);
	lua_setfield(L, -2, "alarm");
	if (h.leader_name && h.leader_name[0]) {
		lua_pushstring(L, h.leader_name);
		lua_setfield(L, -2, "leader");
	}
	lua_pushstring(L, b->view.version);
	lua_setfield(L, -2, "version");
	lua_createtable(L, (int)h.n_voters, 0);
	for (size_t i = 0; i < h.n_voters; i++) {
		const struct pgha_etcd_voter *v = &h.voters[i];
		lua_createtable(L, 0, 4);
		lua_pushstring(L, v->member->name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, v->member->client_url);
		lua_setfield(L, -2, "url");
		lua_pushboolean(L, v->healthy);
		lua_setfield(L, -2, "healthy");
		if (!v->healthy) {
			lua_pushstring(L, v->why[0] ? v->why : "not healthy");
			lua_setfield(L, -2, "why");
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "members");
	box_free(b);
	return 1;
}

void pgha_lua_open_etcd(lua_State *L)
{
	static const luaL_Reg reads[] = {
		{ "health", e_health }, { "get", e_get }, { "list", e_list },
		{ "lock_holder", e_lock_holder }, { NULL, NULL }
	};
	if (luaL_newmetatable(L, box_meta)) {
		lua_pushcfunction(L, box_gc);
		lua_setfield(L, -2, "__gc");
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
	}
	lua_pop(L, 1);
	luaL_newlib(L, reads);
	pgha_lua_set_mutating(L, "etcd", "delete_prefix", e_delete_prefix);
}
