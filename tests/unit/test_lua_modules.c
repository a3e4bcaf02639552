/*
 * test_lua_modules.c: the patroni, pg and etcd host modules without a
 * cluster: value conversion, etcd's range_end, the lib helpers they use,
 * which functions are mutating, misuse that raises, and the nil, message
 * of peers that cannot be reached (ports nobody listens on).
 */
#define _DEFAULT_SOURCE
#include <config.h>

#include "tap.h"

#include "clock.h"
#include "clusterfile.h"
#include "json.h"
#include "lua_etcd.h"
#include "lua_host.h"
#include "lua_pg.h"
#include "patroni.h"

#include <cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

/* Run chunk in the sandbox; returns the pcall code, err the message. */
static int sandbox(struct pgha_lua *h, const char *chunk, char *err, size_t errlen)
{
	lua_State *L = pgha_lua_state(h);
	if (luaL_loadbufferx(L, chunk, strlen(chunk), "=test", "t") != LUA_OK) {
		snprintf(err, errlen, "%s", lua_tostring(L, -1));
		lua_pop(L, 1);
		return LUA_ERRSYNTAX;
	}
	pgha_lua_push_env(h);
	lua_setupvalue(L, -2, 1);
	return pgha_lua_pcall(h, 0, 1, err, errlen);
}

/* The chunk's string result, or its error. */
static const char *result(struct pgha_lua *h, const char *chunk, char *buf, size_t len)
{
	lua_State *L = pgha_lua_state(h);
	char err[1024];
	if (sandbox(h, chunk, err, sizeof err) != LUA_OK) {
		snprintf(buf, len, "ERROR: %.1000s", err);
		return buf;
	}
	snprintf(buf, len, "%s", luaL_tolstring(L, -1, NULL));
	lua_settop(L, 0);
	return buf;
}

static void test_values(void)
{
	struct pgha_lua *h = pgha_lua_new(0, NULL, NULL);
	lua_State *L = pgha_lua_state(h);
	static const struct {
		unsigned int oid;
		const char *text, *want;
	} v[] = {
		{ 16, "t", "boolean true" },
		{ 16, "f", "boolean false" },
		{ 21, "-32768", "integer -32768" },
		{ 23, "42", "integer 42" },
		{ 20, "9223372036854775807", "integer 9223372036854775807" },
		{ 20, "-9007199254740993", "integer -9007199254740993" },
		{ 26, "4294967295", "integer 4294967295" },
		{ 700, "0.25", "float 0.25" },
		{ 701, "-1.5e+300", "float -1.5e+300" },
		{ 701, "Infinity", "float inf" },
		{ 1700, "12.50", "float 12.5" },
		{ 1700, "NaN", "float nan" },
		{ 25, "42", "string 42" },
		{ 3220, "0/3000060", "string 0/3000060" },
		{ 1184, "2026-11-25 21:23:48+00", "string 2026-11-25 21:23:48+00" },
		{ 23, "notanumber", "string notanumber" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		pgha_lua_pg_push_value(L, v[i].oid, v[i].text, strlen(v[i].text));
		char got[128];
		if (lua_isinteger(L, -1))
			snprintf(got, sizeof got, "integer %lld", (long long)lua_tointeger(L, -1));
		else if (lua_type(L, -1) == LUA_TNUMBER) {
			double d = lua_tonumber(L, -1);
			snprintf(got, sizeof got, "float %s", d != d ? "nan" : luaL_tolstring(L, -1, NULL));
		} else {
			const char *type = luaL_typename(L, -1);
			snprintf(got, sizeof got, "%s %s", type, luaL_tolstring(L, -1, NULL));
		}
		is_str(got, v[i].want, "type %u \"%s\"", v[i].oid, v[i].text);
		lua_settop(L, 0);
	}
	/* json: the exported helpers round-trip */
	cJSON *j = cJSON_Parse("{\"a\":[1,2.5,\"x\",null,true],\"b\":{}}");
	pgha_lua_push_json(L, j);
	cJSON_Delete(j);
	cJSON *back = pgha_lua_to_json(L, -1);
	char *a = back ? cJSON_PrintUnformatted(cJSON_GetObjectItem(back, "a")) : NULL;
	char *b = back ? cJSON_PrintUnformatted(cJSON_GetObjectItem(back, "b")) : NULL;
	is_str(a, "[1,2.5,\"x\",null,true]", "push_json / to_json round trip: an array");
	is_str(b, "[]", "push_json / to_json: an empty object comes back as an empty array");
	free(a);
	free(b);
	cJSON_Delete(back);
	lua_settop(L, 0);
	pgha_lua_free(h);
}

static void test_range_end(void)
{
	char out[16];
	size_t n = pgha_lua_etcd_range_end("/a/", 3, out);
	ok(n == 3 && memcmp(out, "/a0", 3) == 0, "range_end of \"/a/\" is \"/a0\"");
	n = pgha_lua_etcd_range_end("a\xff\xff", 3, out);
	ok(n == 1 && out[0] == 'b', "trailing 0xff bytes are dropped");
	n = pgha_lua_etcd_range_end("\xff", 1, out);
	ok(n == 1 && out[0] == '\0', "all 0xff: every key (\"\\0\")");
	n = pgha_lua_etcd_range_end("", 0, out);
	ok(n == 1 && out[0] == '\0', "empty prefix: every key");
}

static void test_lib(void)
{
	char base[64];
	pgha_patroni_base_url("http://h:8008/patroni", base, sizeof base);
	is_str(base, "http://h:8008", "base of an api_url");
	pgha_patroni_base_url("http://h:8008/patroni/", base, sizeof base);
	is_str(base, "http://h:8008", "base of an api_url with a slash");
	pgha_patroni_base_url("https://h:8008//", base, sizeof base);
	is_str(base, "https://h:8008", "base of a base URL");

	struct pgha_deadline d;
	pgha_deadline_within(&d, -1, 0, 10, 0);
	int64_t left = pgha_deadline_left_ms(&d);
	ok(left > 9900 && left <= 10000, "no budget: the default (%lld ms)", (long long)left);
	pgha_deadline_within(&d, 3000, 0, 10, 0);
	left = pgha_deadline_left_ms(&d);
	ok(left > 2900 && left <= 3000, "the budget left (%lld ms)", (long long)left);
	pgha_deadline_within(&d, 300000, 0, 60, 120);
	left = pgha_deadline_left_ms(&d);
	ok(left > 119900 && left <= 120000, "the budget, capped (%lld ms)", (long long)left);
	pgha_deadline_within(&d, 3000, 5, 60, 120);
	left = pgha_deadline_left_ms(&d);
	ok(left > 2900 && left <= 3000, "a timeout option cut to the budget (%lld ms)", (long long)left);
	pgha_deadline_within(&d, -1, 5, 60, 120);
	left = pgha_deadline_left_ms(&d);
	ok(left > 4900 && left <= 5000, "a timeout option without a budget (%lld ms)", (long long)left);

	const char *doc = "{\"members\":[{\"name\":\"n1\",\"role\":\"leader\"},{\"name\":\"n2\"}]}";
	cJSON *root = cJSON_Parse(doc);
	struct pgha_cluster c;
	char names[64];
	ok(pgha_cluster_parse(root, &c, NULL, 0) == 0, "a /cluster document");
	ok(pgha_cluster_member(&c, "n2") == &c.members[1], "member by name");
	ok(pgha_cluster_member(&c, "n9") == NULL, "no such member");
	pgha_cluster_names(&c, names, sizeof names);
	is_str(names, "n1, n2", "member names");
	pgha_cluster_free(&c);
	pgha_cluster_names(&c, names, sizeof names);
	is_str(names, "none", "no member names");
	cJSON_Delete(root);
}

static const char cluster_text[] =
	"[cluster]\n"
	"scope = unit\n"
	"patroni = http://127.0.0.1:1, http://127.0.0.1:2\n"
	"[postgresql]\n"
	"dbname = postgres\n"
	"connect_timeout = 2\n"
	"[node n1]\n"
	"host = 127.0.0.1\n"
	"port = 1\n";

static void test_modules(void)
{
	char buf[2048];
	struct pgha_lua *h = pgha_lua_new(0, NULL, NULL);

	/* without a cluster file */
	like(result(h, "return patroni.cluster()", buf, sizeof buf),
	     "patroni.cluster needs the cluster: pass -c", "patroni without -c raises");
	like(result(h, "return pg.query('n1', 'SELECT 1')", buf, sizeof buf),
	     "pg.query needs the cluster", "pg without -c raises");
	like(result(h, "return etcd.health()", buf, sizeof buf), "etcd.health needs the cluster",
	     "etcd without -c raises");

	/* every write is mutating, no read is */
	static const char *const writes[] = {
		"patroni.request('POST', '/restart')", "patroni.switchover{leader='n1'}",
		"patroni.failover{candidate='n2'}", "patroni.restart('n1')",
		"patroni.reinitialize('n2', {force = true})", "patroni.patch_config{ttl = 30}",
		"patroni.pause()", "patroni.resume()", "patroni.cancel_switchover()",
		"pg.exec('n1', 'SELECT 1')", "etcd.delete_prefix('/x/')", NULL
	};
	pgha_lua_phase(h, "step \"x\" check", false, "check and verify are read-only");
	for (const char *const *w = writes; *w; w++) {
		char chunk[256], want[128];
		snprintf(chunk, sizeof chunk, "return %s", *w);
		snprintf(want, sizeof want, "%.*s mutates: refused in step \"x\" check",
			 (int)strcspn(*w, "({"), *w);
		like(result(h, chunk, buf, sizeof buf), want, "%s is refused in a check", *w);
	}
	static const char *const reads[] = {
		"patroni.cluster", "patroni.get", "patroni.node", "patroni.config", "patroni.endpoint",
		"pg.query", "etcd.health", "etcd.get", "etcd.list", "etcd.lock_holder", NULL
	};
	for (const char *const *r = reads; *r; r++) {
		char chunk[256];
		snprintf(chunk, sizeof chunk, "local ok, e = pcall(%s, 'n1', 'x') return tostring(e)", *r);
		ok(strstr(result(h, chunk, buf, sizeof buf), "mutates") == NULL, "%s is not mutating", *r);
	}

	/* with a cluster whose peers do not listen */
	struct pgha_clusterfile cf;
	char err[256];
	ok(pgha_clusterfile_parse(cluster_text, strlen(cluster_text), "unit.conf", &cf, err,
				  sizeof err) == 0, "cluster file parsed");
	pgha_lua_set_cluster(h, &cf);
	like(result(h, "local d, m = patroni.cluster() return tostring(d) .. ' ' .. m", buf, sizeof buf),
	     "nil no endpoint answered in time (2 of 2 tried); last: could not connect to "
	     "\"http://127.0.0.1:2/cluster\": Connection refused", "patroni.cluster: nil, message");
	like(result(h, "local d, m = patroni.get('/patroni') return tostring(d) .. ' ' .. m", buf, sizeof buf),
	     "nil no endpoint answered (2 tried); last: could not connect to \"http://127.0.0.1:2\"",
	     "patroni.get: nil, message");
	like(result(h, "local d, m = patroni.node('http://127.0.0.1:1/') return tostring(d) .. ' ' .. m",
		    buf, sizeof buf),
	     "nil could not connect to \"http://127.0.0.1:1/patroni\"", "patroni.node of a URL: nil, message");
	is_str(result(h, "return patroni.endpoint('HTTPS://h:1/patroni')", buf, sizeof buf),
	       "HTTPS://h:1", "patroni.endpoint of a URL needs no request");
	like(result(h, "local r, m = pg.query('n1', 'SELECT 1') return tostring(r) .. ' ' .. m", buf,
		    sizeof buf),
	     "nil n1 (127.0.0.1:1): connection to server at \"127.0.0.1\", port 1 failed",
	     "pg.query: nil, \"member (host:port): libpq's message\"");
	like(result(h, "local r, m = pg.query('n2', 'SELECT 1') return tostring(r) .. ' ' .. m", buf,
		    sizeof buf),
	     "nil no endpoint answered", "pg.query of a member without [node]: /cluster asked");
	is_str(result(h, "local h, m = etcd.health() return tostring(h) .. ' ' .. m", buf, sizeof buf),
	       "nil no etcd in the cluster file", "etcd without URLs: nil, message");
	is_str(result(h, "local h, m = etcd.lock_holder() return tostring(h) .. ' ' .. m", buf, sizeof buf),
	       "nil no etcd in the cluster file", "etcd.lock_holder without URLs: nil, message");

	/* misuse raises */
	static const struct { const char *chunk, *want; } misuse[] = {
		{ "patroni.get('cluster')", "a path starting with '/'" },
		{ "patroni.get('/a b')", "a path starting with '/'" },
		{ "patroni.node('n 1')", "a member name" },
		{ "patroni.node('http://h:1,http://h:2')", "one URL, not a list" },
		{ "patroni.node('http://u@h:1')", "user information" },
		{ "patroni.node()", "string expected" },
		{ "pg.query('n1')", "string expected" },
		{ "pg.query('n1', 'SELECT $1', {{}})", "parameter 1 is a table" },
		{ "pg.query('http://h:1', 'SELECT 1')", "a member name" },
		{ "etcd.get('')", "empty key" },
		{ "etcd.get('/k', {linearizable = true})", "the only option is serializable" },
		{ NULL, NULL }
	};
	for (size_t i = 0; misuse[i].chunk; i++) {
		char chunk[256];
		snprintf(chunk, sizeof chunk, "return %s", misuse[i].chunk);
		like(result(h, chunk, buf, sizeof buf), misuse[i].want, "%s raises", misuse[i].chunk);
	}
	pgha_lua_phase(h, "step \"x\" run", true, "");
	static const struct { const char *chunk, *want; } write_misuse[] = {
		{ "patroni.switchover{leader = 'n1', cand = 'n2'}", "unknown option \"cand\"" },
		{ "patroni.switchover{leader = 1}", "leader must be a string" },
		{ "patroni.switchover{member = 'a b'}", "member: a member name" },
		{ "patroni.switchover{timeout = -1}", "timeout out of range" },
		{ "patroni.switchover('n1')", "table expected" },
		{ "patroni.request('FETCH', '/x')", "GET, POST, PUT, PATCH or DELETE" },
		{ "patroni.request('POST', '/x', 'body')", "table expected" },
		{ "patroni.restart('n1', 5)", "table expected" },
		{ "patroni.patch_config()", "table expected" },
		{ "etcd.delete_prefix('')", "an empty prefix would delete every key" },
		{ NULL, NULL }
	};
	for (size_t i = 0; write_misuse[i].chunk; i++) {
		char chunk[256];
		snprintf(chunk, sizeof chunk, "return %s", write_misuse[i].chunk);
		like(result(h, chunk, buf, sizeof buf), write_misuse[i].want, "%s raises",
		     write_misuse[i].chunk);
	}
	like(result(h, "local s, m = patroni.switchover{leader = 'n1', candidate = 'n2', "
		       "member = 'http://127.0.0.1:1', timeout = 2} return tostring(s) .. ' ' .. m",
		    buf, sizeof buf),
	     "nil could not connect to \"http://127.0.0.1:1/switchover\"",
	     "patroni.switchover to a member that is down: nil, message");
	like(result(h, "local s, m = patroni.pause() return tostring(s) .. ' ' .. m", buf, sizeof buf),
	     "nil no endpoint answered", "patroni.pause with no node up: nil, message");

	/* a signal that came during a call raises when the call returns (last:
	 * the flag cannot be cleared) */
	pgha_lua_interrupt(SIGINT);
	like(result(h, "return patroni.cluster()", buf, sizeof buf), "interrupted by signal 2",
	     "patroni: interrupted during the call raises after it");
	like(result(h, "return pg.query('n1', 'SELECT 1')", buf, sizeof buf), "interrupted by signal 2",
	     "pg: interrupted during the call raises after it");
	pgha_lua_free(h);
	pgha_clusterfile_free(&cf);
}

int main(void)
{
	test_values();
	test_range_end();
	test_lib();
	test_modules();
	return done_testing();
}
