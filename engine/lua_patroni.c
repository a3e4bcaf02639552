/*
 * lua_patroni.c: the `patroni` host module. See lua_patroni.h and
 * docs/runbook-api.md.
 *
 * Every C resource a call holds (the REST client, JSON trees, the request
 * body, the response) lives in a "box", a userdata with a __gc
 * metamethod: pushing results into Lua may raise (memory cap, an
 * interrupt), and the box is then freed by the collector instead of
 * leaking. On the normal path the box is emptied before returning.
 */
#define _POSIX_C_SOURCE 200809L
#include <config.h>

#include "lua_patroni.h"

#include "clock.h"
#include "clusterfile.h"
#include "error.h"
#include "http.h"
#include "json.h"
#include "lua_host.h"
#include "patroni.h"
#include "rest.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#define READ_DEFAULT_S 10.0  /* a read without a budget */
#define WRITE_DEFAULT_S 60.0 /* a write without a budget or timeout option */
#define WRITE_CAP_S 120.0    /* a write takes at most this of the budget */
#define BASE_MAX 1100        /* a base URL */
#define PATH_MAX_LEN 2048
#define NAME_MAX_LEN 128

static const char box_meta[] = "pgha.patroni.box";

struct box {
	struct pgha_rest rest;
	cJSON *cluster_root;             /* GET /cluster, once per call */
	struct pgha_cluster cluster;     /* borrows from cluster_root */
	const char *cluster_endpoint;    /* borrowed from rest */
	cJSON *doc;                      /* a document being pushed */
	char *body;                      /* the request body */
	struct pgha_http_response resp;
	char err[768];
};

static void box_free(struct box *b)
{
	pgha_rest_close(&b->rest);
	pgha_cluster_free(&b->cluster);
	cJSON_Delete(b->cluster_root);
	b->cluster_root = NULL;
	b->cluster_endpoint = NULL;
	cJSON_Delete(b->doc);
	b->doc = NULL;
	free(b->body);
	b->body = NULL;
	pgha_http_response_free(&b->resp);
}

static int box_gc(lua_State *L)
{
	struct box *b = luaL_checkudata(L, 1, box_meta);
	box_free(b);
	return 0;
}

/* Push a new box with a REST client for the cluster's Patroni endpoints.
 * Returns it, or NULL with err set (the box stays on the stack). */
static struct box *box_open(lua_State *L, const struct pgha_clusterfile *cf)
{
	struct box *b = lua_newuserdatauv(L, sizeof *b, 0);
	memset(b, 0, sizeof *b);
	pgha_http_init(&b->rest.http);
	pgha_http_response_init(&b->resp, 0);
	luaL_setmetatable(L, box_meta);
	if (pgha_rest_open_cluster(&b->rest, cf, false, b->err, sizeof b->err))
		return NULL;
	return b;
}

/* Free the box and return nil, its message. */
static int fail(lua_State *L, struct box *b)
{
	lua_pushnil(L);
	lua_pushstring(L, b->err);
	box_free(b);
	return 2;
}

/* --- arguments ------------------------------------------------------------ */

static bool is_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

/* Why s is not a member (a name, or a URL when url_ok), or NULL; why
 * holds the message for a bad URL. */
static const char *member_problem(const char *s, size_t len, bool url_ok, char *why,
				  size_t whylen)
{
	if (url_ok && is_url(s)) {
		struct pgha_http h;
		pgha_http_init(&h);
		int rc = pgha_http_add_endpoints(&h, s, why, whylen);
		size_t n = h.n_endpoints;
		pgha_http_free(&h);
		if (rc == 0 && n != 1) {
			snprintf(why, whylen, "one URL, not a list");
			rc = PGHA_E_INVALID;
		}
		return rc ? why : NULL;
	}
	bool good = len > 0 && len <= NAME_MAX_LEN && strlen(s) == len;
	for (size_t i = 0; good && i < len; i++) {
		char c = s[i];
		good = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		       c == '_' || c == '.' || c == '-';
	}
	if (good)
		return NULL;
	return url_ok ? "a member name (letters, digits, '_', '.', '-') or an http(s):// URL"
		      : "a member name (letters, digits, '_', '.', '-')";
}

const char *pgha_lua_check_member(lua_State *L, int idx, bool url_ok)
{
	size_t len;
	char why[256];
	const char *s = luaL_checklstring(L, idx, &len);
	const char *problem = member_problem(s, len, url_ok, why, sizeof why);
	if (problem) {
		lua_pushstring(L, problem);
		luaL_argerror(L, idx, lua_tostring(L, -1));
	}
	return s;
}

static const char *opt_member(lua_State *L, int idx)
{
	return lua_isnoneornil(L, idx) ? NULL : pgha_lua_check_member(L, idx, true);
}

/* A request path: "/..." without whitespace or control characters. */
static const char *check_path(lua_State *L, int idx)
{
	size_t len;
	const char *p = luaL_checklstring(L, idx, &len);
	bool good = len > 0 && len <= PATH_MAX_LEN && p[0] == '/' && strlen(p) == len;
	for (size_t i = 0; good && i < len; i++)
		good = (unsigned char)p[i] > 0x20 && p[i] != 0x7f;
	luaL_argcheck(L, good, idx, "a path starting with '/' without spaces");
	return p;
}

/* The body table at idx as JSON text, owned by the box. An empty table
 * is an empty object: every Patroni write endpoint takes an object. */
static void set_body(lua_State *L, struct box *b, int idx)
{
	cJSON *j = pgha_lua_to_json(L, idx);
	if (!j)
		luaL_argerror(L, idx, lua_tostring(L, -1));
	b->doc = j;
	if (cJSON_IsArray(j) && !j->child) {
		cJSON *o = cJSON_CreateObject();
		if (!o)
			luaL_error(L, "out of memory");
		cJSON_Delete(j);
		b->doc = o;
	}
	b->body = cJSON_PrintUnformatted(b->doc);
	cJSON_Delete(b->doc);
	b->doc = NULL;
	if (!b->body)
		luaL_error(L, "out of memory");
}

/* Reads: the budget left, 10 s without one. */
static void read_deadline(lua_State *L, struct pgha_deadline *d)
{
	pgha_deadline_within(d, pgha_lua_budget_left_ms(L), 0, READ_DEFAULT_S, 0);
}

/* Writes: the timeout option cut to the budget, else the budget (at most
 * 120 s), else 60 s. */
static void write_deadline(lua_State *L, struct pgha_deadline *d, double timeout)
{
	pgha_deadline_within(d, pgha_lua_budget_left_ms(L), timeout, WRITE_DEFAULT_S, WRITE_CAP_S);
}

/* The part of d a look-up before a write may use: at most 10 s. */
static struct pgha_deadline lookup_deadline(const struct pgha_deadline *d)
{
	struct pgha_deadline r = *d;
	int64_t cap = pgha_now_ms() + (int64_t)(READ_DEFAULT_S * 1000);
	if (r.end_ms > cap)
		r.end_ms = cap;
	return r;
}

/* --- requests ------------------------------------------------------------- */

/* GET /cluster from the first endpoint answering 200 with a member list
 * (once per box). */
static int load_cluster(struct box *b, const struct pgha_deadline *d)
{
	char why[256];
	if (b->cluster_root)
		return 0;
	int rc = pgha_rest_get_json_ok(&b->rest, d, "/cluster", &b->cluster_root,
				       &b->cluster_endpoint, b->err, sizeof b->err);
	if (rc)
		return rc;
	rc = pgha_cluster_parse(b->cluster_root, &b->cluster, why, sizeof why);
	if (rc)
		pgha_errf(b->err, sizeof b->err, "GET /cluster from \"%s\": %s",
			  b->cluster_endpoint, why);
	return rc;
}

/* The base URL of member (a name looked up in /cluster, or a URL). */
static int resolve(struct box *b, const struct pgha_deadline *d, const char *member, char *base)
{
	if (is_url(member)) {
		pgha_patroni_base_url(member, base, BASE_MAX);
		return 0;
	}
	int rc = load_cluster(b, d);
	if (rc)
		return rc;
	const struct pgha_member *m = pgha_cluster_member(&b->cluster, member);
	if (!m) {
		char names[512];
		pgha_cluster_names(&b->cluster, names, sizeof names);
		pgha_errf(b->err, sizeof b->err, "no member \"%s\" in the cluster (members: %s)",
			  member, names);
		return PGHA_E_NOTFOUND;
	}
	if (!m->api_url[0]) {
		pgha_errf(b->err, sizeof b->err, "Patroni publishes no api_url for member \"%s\"",
			  member);
		return PGHA_E_PROTOCOL;
	}
	pgha_patroni_base_url(m->api_url, base, BASE_MAX);
	return 0;
}

/* Send method to base + path (base NULL: the endpoints in order, for
 * reads only). */
static int send(struct box *b, const struct pgha_deadline *d, const char *method,
		const char *base, const char *path, const char *body)
{
	int rc;
	if (base) {
		char url[BASE_MAX + PATH_MAX_LEN + 1];
		snprintf(url, sizeof url, "%s%s", base, path);
		rc = pgha_http_request_url(&b->rest.http, d, method, url, body, &b->resp);
	} else {
		rc = pgha_http_request(&b->rest.http, d, method, path, body, &b->resp);
	}
	if (rc)
		pgha_errf(b->err, sizeof b->err, "%s", b->resp.error);
	return rc;
}

/* Push the response body: decoded when it is JSON, else its text. */
static void push_body(lua_State *L, struct box *b)
{
	char why[64];
	const char *text = pgha_buf_str(&b->resp.body);
	if (b->resp.body.len &&
	    pgha_json_parse(text, b->resp.body.len, &b->doc, why, sizeof why) == 0) {
		pgha_lua_push_json(L, b->doc);
		cJSON_Delete(b->doc);
		b->doc = NULL;
	} else {
		lua_pushlstring(L, text, b->resp.body.len);
	}
}

/* --- reads ---------------------------------------------------------------- */

/* patroni.cluster() -> doc | nil, msg */
static int p_cluster(lua_State *L)
{
	const struct pgha_clusterfile *cf = pgha_lua_check_cluster(L, "patroni.cluster");
	struct pgha_deadline d;
	read_deadline(L, &d);
	struct box *b = box_open(L, cf);
	if (!b)
		return fail(L, lua_touserdata(L, -1));
	int rc = load_cluster(b, &d);
	pgha_lua_raise_if_interrupted(L);
	if (rc)
		return fail(L, b);
	pgha_lua_push_json(L, b->cluster_root);
	box_free(b);
	return 1;
}

/* GET path from member (NULL: the endpoints in order); pushes doc, status
 * or nil, msg. json_only: a body that is not JSON is an error. */
static int get_from(lua_State *L, const char *what, const char *path, const char *member,
		    bool json_only)
{
	const struct pgha_clusterfile *cf = pgha_lua_check_cluster(L, what);
	struct pgha_deadline d;
	char base[BASE_MAX];
	read_deadline(L, &d);
	struct box *b = box_open(L, cf);
	if (!b)
		return fail(L, lua_touserdata(L, -1));
	int rc = member ? resolve(b, &d, member, base) : 0;
	if (rc == 0)
		rc = send(b, &d, "GET", member ? base : NULL, path, NULL);
	pgha_lua_raise_if_interrupted(L);
	if (rc)
		return fail(L, b);
	if (json_only) {
		char why[64];
		if (pgha_json_parse(pgha_buf_str(&b->resp.body), b->resp.body.len, &b->doc, why,
				    sizeof why)) {
			pgha_errf(b->err, sizeof b->err, "GET %s from \"%s\" answered HTTP %ld with %s",
				  path, b->resp.endpoint, b->resp.status,
				  b->resp.body.len ? "a body that is not JSON" : "no body");
			return fail(L, b);
		}
		pgha_lua_push_json(L, b->doc);
	} else {
		push_body(L, b);
	}
	lua_pushinteger(L, b->resp.status);
	box_free(b);
	return 2;
}

/* patroni.get(path [, member]) -> doc, status | nil, msg */
static int p_get(lua_State *L)
{
	const char *path = check_path(L, 1);
	const char *member = opt_member(L, 2);
	return get_from(L, "patroni.get", path, member, false);
}

/* patroni.node(member) -> doc, status | nil, msg */
static int p_node(lua_State *L)
{
	const char *member = pgha_lua_check_member(L, 1, true);
	return get_from(L, "patroni.node", "/patroni", member, true);
}

/* patroni.config() -> doc | nil, msg */
static int p_config(lua_State *L)
{
	const struct pgha_clusterfile *cf = pgha_lua_check_cluster(L, "patroni.config");
	struct pgha_deadline d;
	read_deadline(L, &d);
	struct box *b = box_open(L, cf);
	if (!b)
		return fail(L, lua_touserdata(L, -1));
	int rc = pgha_rest_get_json_ok(&b->rest, &d, "/config", &b->doc, NULL, b->err,
				       sizeof b->err);
	pgha_lua_raise_if_interrupted(L);
	if (rc)
		return fail(L, b);
	pgha_lua_push_json(L, b->doc);
	box_free(b);
	return 1;
}

/* patroni.endpoint(member) -> base URL | nil, msg */
static int p_endpoint(lua_State *L)
{
	const char *member = pgha_lua_check_member(L, 1, true);
	const struct pgha_clusterfile *cf = pgha_lua_check_cluster(L, "patroni.endpoint");
	char base[BASE_MAX];
	if (is_url(member)) {
		pgha_patroni_base_url(member, base, sizeof base);
		lua_pushstring(L, base);
		return 1;
	}
	struct pgha_deadline d;
	read_deadline(L, &d);
	struct box *b = box_open(L, cf);
	if (!b)
		return fail(L, lua_touserdata(L, -1));
	int rc = resolve(b, &d, member, base);
	pgha_lua_raise_if_interrupted(L);
	if (rc)
		return fail(L, b);
	box_free(b);
	lua_pushstring(L, base);
	return 1;
}

/* --- writes --------------------------------------------------------------- */

enum target {
	TARGET_ANY,   /* the first endpoint that answers a GET */
	TARGET_LEADER /* the leader's api_url in /cluster, else as TARGET_ANY */
};

/*
 * Send a write (the box holds the body, or none) to member, or to the
 * target, within timeout (0: the default rule). The node is chosen first
 * (a look-up: /cluster or GET /liveness), then the request goes to that
 * node alone, so it is never sent twice. Pushes status, body or nil, msg.
 * The box is at the top of the stack.
 */
static int write_to(lua_State *L, struct box *b, const char *method, const char *path,
		    const char *member, enum target target, double timeout)
{
	struct pgha_deadline d, look;
	char base[BASE_MAX] = "";
	int rc = 0;

	write_deadline(L, &d, timeout);
	look = lookup_deadline(&d);
	if (member) {
		rc = resolve(b, &look, member, base);
	} else {
		if (target == TARGET_LEADER && load_cluster(b, &look) == 0) {
			const struct pgha_member *l = pgha_cluster_leader(&b->cluster);
			if (l && l->api_url[0])
				pgha_patroni_base_url(l->api_url, base, sizeof base);
			else
				pgha_errf(base, sizeof base, "%s", b->cluster_endpoint);
		}
		if (!base[0]) {
			/* any answer, whatever its status, shows the node is up */
			rc = send(b, &look, "GET", NULL, "/liveness", NULL);
			if (rc == 0)
				pgha_errf(base, sizeof base, "%s", b->resp.endpoint);
		}
	}
	pgha_lua_raise_if_interrupted(L);
	if (rc)
		return fail(L, b);
	rc = send(b, &d, method, base, path, b->body ? b->body : "");
	pgha_lua_raise_if_interrupted(L);
	if (rc)
		return fail(L, b);
	lua_pushinteger(L, b->resp.status);
	push_body(L, b);
	box_free(b);
	return 2;
}

/* Start a write: the cluster, a box on the stack. NULL: nil, msg pushed
 * (return 2). */
static struct box *write_box(lua_State *L, const char *what)
{
	const struct pgha_clusterfile *cf = pgha_lua_check_cluster(L, what);
	struct box *b = box_open(L, cf);
	if (!b)
		fail(L, lua_touserdata(L, -1));
	return b;
}

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", NULL };

/* patroni.request(method, path [, body_table [, member]]) -> status, body */
static int p_request(lua_State *L)
{
	const char *m = luaL_checkstring(L, 1);
	char method[8] = "";
	size_t i = 0;
	for (; m[i] && i < sizeof method - 1; i++)
		method[i] = (char)(m[i] >= 'a' && m[i] <= 'z' ? m[i] - 'a' + 'A' : m[i]);
	method[i] = '\0';
	size_t k = 0;
	while (methods[k] && (m[i] || strcmp(methods[k], method) != 0))
		k++;
	luaL_argcheck(L, methods[k] != NULL, 1, "GET, POST, PUT, PATCH or DELETE");
	const char *path = check_path(L, 2);
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	const char *member = opt_member(L, 4);
	struct box *b = write_box(L, "patroni.request");
	if (!b)
		return 2;
	if (!lua_isnoneornil(L, 3))
		set_body(L, b, 3);
	if (strcmp(method, "GET") == 0 && !member) {
		/* a read may go to each endpoint in turn */
		struct pgha_deadline d;
		write_deadline(L, &d, 0);
		int rc = send(b, &d, "GET", NULL, path, b->body);
		pgha_lua_raise_if_interrupted(L);
		if (rc)
			return fail(L, b);
		lua_pushinteger(L, b->resp.status);
		push_body(L, b);
		box_free(b);
		return 2;
	}
	return write_to(L, b, method, path, member, TARGET_ANY, 0);
}

/* Read the options table at idx: each key must be one of names (strings
 * except "timeout", a number); unknown keys raise. Values are pushed to
 * the out arrays (NULL when absent). */
static void read_opts(lua_State *L, int idx, const char *const *names, const char **out,
		      double *timeout)
{
	luaL_checktype(L, idx, LUA_TTABLE);
	for (size_t i = 0; names[i]; i++)
		out[i] = NULL;
	*timeout = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		size_t i = 0;
		while (k && names[i] && strcmp(names[i], k) != 0)
			i++;
		if (k && strcmp(k, "timeout") == 0) {
			if (!lua_isnumber(L, -1))
				luaL_argerror(L, idx, "timeout must be a number of seconds");
			*timeout = lua_tonumber(L, -1);
			if (!(*timeout > 0 && *timeout <= 86400))
				luaL_argerror(L, idx, "timeout out of range");
		} else if (!k || !names[i]) {
			lua_pushfstring(L, "unknown option \"%s\"", k ? k : luaL_typename(L, -2));
			luaL_argerror(L, idx, lua_tostring(L, -1));
		} else if (lua_type(L, -1) != LUA_TSTRING) {
			lua_pushfstring(L, "%s must be a string", k);
			luaL_argerror(L, idx, lua_tostring(L, -1));
		}
		lua_pop(L, 1);
	}
	for (size_t i = 0; names[i]; i++) {
		lua_getfield(L, idx, names[i]);
		out[i] = lua_tostring(L, -1); /* anchored in the table */
		lua_pop(L, 1);
	}
}

/* switchover / failover: opts[0..2] go into the body (those present),
 * opts[member_at] is the member to send it to. */
static int handover(lua_State *L, const char *what, const char *path,
		    const char *const *names, size_t n_body, size_t member_at)
{
	const char *opts[8];
	double timeout;
	read_opts(L, 1, names, opts, &timeout);
	const char *member = opts[member_at];
	char why[256];
	const char *problem = member ? member_problem(member, strlen(member), true, why,
						      sizeof why) : NULL;
	if (problem) {
		lua_pushfstring(L, "member: %s", problem);
		luaL_argerror(L, 1, lua_tostring(L, -1));
	}
	lua_settop(L, 1);
	struct box *b = write_box(L, what);
	if (!b)
		return 2;
	cJSON *o = cJSON_CreateObject();
	b->doc = o;
	for (size_t i = 0; o && i < n_body; i++)
		if (opts[i] && !cJSON_AddStringToObject(o, names[i], opts[i]))
			o = NULL;
	b->body = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(b->doc);
	b->doc = NULL;
	if (!b->body)
		return luaL_error(L, "out of memory");
	return write_to(L, b, "POST", path, member, TARGET_LEADER, timeout);
}

/* patroni.switchover{leader=, candidate=, scheduled_at=, member=, timeout=} */
static int p_switchover(lua_State *L)
{
	static const char *const names[] = { "leader", "candidate", "scheduled_at", "member", NULL };
	return handover(L, "patroni.switchover", "/switchover", names, 3, 3);
}

/* patroni.failover{candidate=, leader=, member=, timeout=} */
static int p_failover(lua_State *L)
{
	static const char *const names[] = { "candidate", "leader", "member", NULL };
	return handover(L, "patroni.failover", "/failover", names, 2, 2);
}

/* restart / reinitialize: POST path on member with the options table. */
static int on_member(lua_State *L, const char *what, const char *path)
{
	const char *member = pgha_lua_check_member(L, 1, true);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	struct box *b = write_box(L, what);
	if (!b)
		return 2;
	if (lua_istable(L, 2))
		set_body(L, b, 2);
	else if (!(b->body = strdup("{}")))
		return luaL_error(L, "out of memory");
	return write_to(L, b, "POST", path, member, TARGET_ANY, 0);
}

/* patroni.restart(member [, opts]) */
static int p_restart(lua_State *L)
{
	return on_member(L, "patroni.restart", "/restart");
}

/* patroni.reinitialize(member [, {force = true}]) */
static int p_reinitialize(lua_State *L)
{
	return on_member(L, "patroni.reinitialize", "/reinitialize");
}

/* PATCH /config with the JSON text body. */
static int patch(lua_State *L, const char *what, const char *body)
{
	struct box *b = write_box(L, what);
	if (!b)
		return 2;
	if (!(b->body = strdup(body)))
		return luaL_error(L, "out of memory");
	return write_to(L, b, "PATCH", "/config", NULL, TARGET_ANY, 0);
}

/* patroni.patch_config(tbl) */
static int p_patch_config(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	struct box *b = write_box(L, "patroni.patch_config");
	if (!b)
		return 2;
	set_body(L, b, 1);
	return write_to(L, b, "PATCH", "/config", NULL, TARGET_ANY, 0);
}

/* patroni.pause() / patroni.resume(): as patronictl, resume removes the
 * key ({"pause": null}) rather than storing false. */
static int p_pause(lua_State *L)
{
	return patch(L, "patroni.pause", "{\"pause\":true}");
}

static int p_resume(lua_State *L)
{
	return patch(L, "patroni.resume", "{\"pause\":null}");
}

/* patroni.cancel_switchover(): DELETE /switchover */
static int p_cancel_switchover(lua_State *L)
{
	struct box *b = write_box(L, "patroni.cancel_switchover");
	if (!b)
		return 2;
	return write_to(L, b, "DELETE", "/switchover", NULL, TARGET_ANY, 0);
}

static const luaL_Reg reads[] = {
	{ "cluster", p_cluster }, { "get", p_get }, { "node", p_node },
	{ "config", p_config }, { "endpoint", p_endpoint }, { NULL, NULL }
};

static const luaL_Reg writes[] = {
	{ "request", p_request }, { "switchover", p_switchover }, { "failover", p_failover },
	{ "restart", p_restart }, { "reinitialize", p_reinitialize },
	{ "patch_config", p_patch_config }, { "pause", p_pause }, { "resume", p_resume },
	{ "cancel_switchover", p_cancel_switchover }, { NULL, NULL }
};

void pgha_lua_open_patroni(lua_State *L)
{
	if (luaL_newmetatable(L, box_meta)) {
		lua_pushcfunction(L, box_gc);
		lua_setfield(L, -2, "__gc");
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
	}
	lua_pop(L, 1);
	luaL_newlib(L, reads);
	for (const luaL_Reg *r = writes; r->name; r++)
		pgha_lua_set_mutating(L, "patroni", r->name, r->func);
}
