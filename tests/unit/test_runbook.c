/*
 * test_runbook.c: SHA-256 vectors, the parameter parsers, the Lua sandbox
 * (allow-list, text only, memory cap, time budget, mutation refusal),
 * runbook validation and the journal file.
 */
#define _DEFAULT_SOURCE
#include <config.h>

#include "tap.h"

#include "buf.h"
#include "error.h"
#include "journal.h"
#include "lua_host.h"
#include "runbook.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

static void hex(const uint8_t d[32], char out[65])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[64] = '\0';
}

static void test_sha256(void)
{
	static const struct { const char *in, *want; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
		/* 55 and 56 bytes: the padding boundary (values from coreutils sha256sum) */
		{ "0123456789012345678901234567890123456789012345678901234",
		  "f34d5a0f80c0cbf84c8c0b90218c22637abd199965249da736a20143c8c9c9d9" },
		{ "01234567890123456789012345678901234567890123456789012345",
		  "83aa034bda83e458a0dc9cbce0d4e354716aa0ff770ed37ac0ed2b292052e4af" },
	};
	char h[65];
	uint8_t d[32];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		pgha_sha256(v[i].in, strlen(v[i].in), d);
		hex(d, h);
		is_str(h, v[i].want, "sha256 vector %zu (%zu bytes)", i, strlen(v[i].in));
	}
	char *a = malloc(1000000);
	memset(a, 'a', 1000000);
	pgha_sha256(a, 1000000, d);
	free(a);
	hex(d, h);
	is_str(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	       "sha256 of a million 'a'");
}

static void test_parsers(void)
{
	ok(pgha_semver_valid("1.2.0"), "semver 1.2.0");
	ok(pgha_semver_valid("0.1.0-rc.1+build.7"), "semver with pre-release and build");
	ok(!pgha_semver_valid("1.2"), "semver 1.2 refused");
	ok(!pgha_semver_valid("01.2.3"), "semver leading zero refused");
	ok(!pgha_semver_valid("1.2.3-"), "semver empty pre-release refused");
	ok(!pgha_semver_valid("v1.2.3"), "semver v-prefix refused");
	long long sz = 0;
	ok(pgha_parse_size("16MB", &sz) == 0 && sz == 16LL * 1024 * 1024, "size 16MB");
	ok(pgha_parse_size("512", &sz) == 0 && sz == 512, "size without unit is bytes");
	ok(pgha_parse_size("1 kB", &sz) == 0 && sz == 1024, "size 1 kB");
	ok(pgha_parse_size("12XB", &sz) != 0, "size 12XB refused");
	ok(pgha_parse_size("-1MB", &sz) != 0, "negative size refused");
	ok(pgha_parse_size("99999999999TB", &sz) != 0, "size overflow refused");
	double du = 0;
	ok(pgha_parse_duration("30s", &du) == 0 && du == 30, "duration 30s");
	ok(pgha_parse_duration("5min", &du) == 0 && du == 300, "duration 5min");
	ok(pgha_parse_duration("250ms", &du) == 0 && du == 0.25, "duration 250ms");
	ok(pgha_parse_duration("2h", &du) == 0 && du == 7200, "duration 2h");
	ok(pgha_parse_duration("5y", &du) != 0, "duration 5y refused");
	ok(pgha_journal_is_secret("password"), "password is secret");
	ok(pgha_journal_is_secret("api_TOKEN"), "api_TOKEN is secret");
	ok(pgha_journal_is_secret("client_secret_file"), "client_secret_file is secret");
	ok(!pgha_journal_is_secret("candidate"), "candidate is not secret");
}

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
	int rc = pgha_lua_pcall(h, 0, 1, err, errlen);
	return rc;
}

static void test_sandbox(void)
{
	char err[4096];
	struct pgha_lua *h = pgha_lua_new(8 * 1024 * 1024, NULL, NULL);
	ok(h != NULL, "host created");
	lua_State *L = pgha_lua_state(h);
	static const char *const absent[] = {
		"io", "os", "package", "dofile", "loadfile", "load", "debug",
		"collectgarbage", "string.dump", NULL
	};
	for (const char *const *n = absent; *n; n++) {
		char chunk[128];
		snprintf(chunk, sizeof chunk, "return %s == nil", *n);
		int rc = sandbox(h, chunk, err, sizeof err);
		ok(rc == LUA_OK && lua_toboolean(L, -1), "%s is not in the sandbox", *n);
		if (rc == LUA_OK)
			lua_pop(L, 1);
	}
	int rc = sandbox(h, "return type(string.format) == 'function' and type(json.encode) == 'function' "
			    "and type(wait['until']) == 'function' and type(exec.run) == 'function'", err, sizeof err);
	ok(rc == LUA_OK && lua_toboolean(L, -1), "string, json, wait, exec are there");
	lua_settop(L, 0);

	/* require: only the runbook library, by plain name, loaded once */
	char dir[] = "/tmp/pgha-test-lualib-XXXXXX";
	ok(mkdtemp(dir) != NULL, "temporary library dir");
	char lib[256];
	snprintf(lib, sizeof lib, "%s/counter.lua", dir);
	FILE *f = fopen(lib, "w");
	if (f) {
		fputs("loads = (loads or 0) + 1\nreturn { twice = function(x) return 2 * x end }\n", f);
		fclose(f);
	}
	setenv("PGHA_LUA_PATH", dir, 1);
	rc = sandbox(h, "local a = require 'counter'; local b = require 'counter'; "
			"return a == b and a.twice(21) == 42 and loads == 1", err, sizeof err);
	ok(rc == LUA_OK && lua_toboolean(L, -1), "require loads lua/NAME.lua once");
	lua_settop(L, 0);
	rc = sandbox(h, "require '../etc/passwd'", err, sizeof err);
	like(err, "a library name is lower-case letters", "require refuses a path");
	rc = sandbox(h, "require 'nosuchlib'", err, sizeof err);
	like(err, "require \"nosuchlib\": no nosuchlib.lua in", "require names what is missing");
	unsetenv("PGHA_LUA_PATH");
	remove(lib);
	rmdir(dir);

	rc = sandbox(h, "setmetatable({}, {__gc = function() end})", err, sizeof err);
	like(err, "__gc metamethods are not allowed", "__gc refused");
	rc = sandbox(h, "return getmetatable(setmetatable({}, {__index = {x = 1}})).__index.x", err, sizeof err);
	ok(rc == LUA_OK && lua_tointeger(L, -1) == 1, "setmetatable still works");
	lua_settop(L, 0);

	/* bytecode is refused */
	static const char bytecode[] = "\x1bLua\x54\x00";
	rc = luaL_loadbufferx(L, bytecode, sizeof bytecode - 1, "=bc", "t");
	ok(rc != LUA_OK, "a binary chunk is refused");
	like(lua_tostring(L, -1), "attempt to load a binary chunk", "binary chunk message");
	lua_settop(L, 0);

	/* mutation */
	pgha_lua_phase(h, "step \"x\" check", false, "check and verify are read-only");
	rc = sandbox(h, "return exec.run({'true'})", err, sizeof err);
	ok(rc != LUA_OK, "exec.run refused in check");
	like(err, "test:1: exec.run mutates: refused in step \"x\" check (check and verify are read-only)",
	     "refusal names the rule with file:line");
	pgha_lua_phase(h, "step \"x\" run", true, "");
	rc = sandbox(h, "local r = exec.run({'sh', '-c', 'printf hi'}) return r.stdout", err, sizeof err);
	ok(rc == LUA_OK, "exec.run allowed in run");
	is_str(rc == LUA_OK ? lua_tostring(L, -1) : err, "hi", "exec.run stdout");
	lua_settop(L, 0);
	rc = sandbox(h, "return exec.run('x')", err, sizeof err);
	like(err, "bad argument #1", "exec.run misuse raises");

	/* time budget */
	pgha_lua_budget(h, 0.2, "step \"spin\" run");
	rc = sandbox(h, "local n = 0\nwhile true do n = n + 1 end", err, sizeof err);
	ok(rc == LUA_ERRRUN, "an endless loop is stopped");
	like(err, "test:2: time budget exceeded in step \"spin\" run", "budget error with file:line and step");
	rc = sandbox(h, "time.sleep(5)", err, sizeof err);
	like(err, "time budget exceeded", "time.sleep stops at the budget");
	pgha_lua_budget(h, 0, "runbook");

	/* memory cap */
	rc = sandbox(h, "local t = {} while true do t[#t+1] = string.rep('x', 1000) .. #t end", err, sizeof err);
	is_int(rc, LUA_ERRMEM, "endless allocation hits the cap");
	like(err, "memory cap of 8388608 bytes exceeded", "memory cap message");
	ok(pgha_lua_mem_used(h) < pgha_lua_mem_cap(h), "memory is back under the cap after the error");
	rc = sandbox(h, "return json.encode({a = {1, 2}})", err, sizeof err);
	is_str(rc == LUA_OK ? lua_tostring(L, -1) : err, "{\"a\":[1,2]}", "the state still works after");
	lua_settop(L, 0);
	pgha_lua_free(h);
}

static char *write_tmp(const char *dir, const char *name, const char *text)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = malloc(n);
	snprintf(path, n, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_runbook_validation(const char *dir)
{
	struct pgha_lua *h = pgha_lua_new(0, NULL, NULL);
	struct pgha_runbook rb;
	struct pgha_buf errs;
	pgha_buf_init(&errs, 65536);
	char *p = write_tmp(dir, "bad.lua",
			    "return { name = 'bad name', version = '1.0', summary = 3, colour = 1,\n"
			    "  params = { n = { type = 'float' } },\n"
			    "  steps = { { name = 'a', gate = 5, timeout = -1 }, { name = 'a', run = 1 } } }\n");
	int rc = pgha_runbook_load(h, p, &rb, &errs);
	is_int(rc, PGHA_E_INVALID, "an invalid runbook is refused");
	const char *e = pgha_buf_str(&errs);
	like(e, "unknown key \"colour\"", "unknown top-level key");
	like(e, "name must be a word", "bad name");
	like(e, "version must be a semantic version", "bad version");
	like(e, "summary must be a string", "bad summary");
	like(e, "unknown type \"float\"", "bad param type");
	like(e, "step 1 \"a\": gate must be a string or a table", "bad gate");
	like(e, "timeout must be a number", "bad timeout");
	like(e, "duplicate step name", "duplicate step");
	like(e, "run must be a function", "run not a function");
	like(e, "has none of check, run, verify", "empty step");
	pgha_runbook_free(&rb);
	free(p);

	pgha_buf_reset(&errs);
	p = write_tmp(dir, "good.lua",
		      "return runbook { name = 'good', version = '1.2.3', summary = 's',\n"
		      "  params = { n = { type = 'integer', default = 2 }, s = { type = 'size', default = '2kB' } },\n"
		      "  steps = { { name = 'a', check = function(ctx) return true end,\n"
		      "              gate = { text = 'go?', type_word = 'yes' } } } }\n");
	rc = pgha_runbook_load(h, p, &rb, &errs);
	is_int(rc, 0, "a valid runbook loads");
	is_str(rb.name, "good", "name");
	is_str(rb.version, "1.2.3", "version");
	ok(rb.n_params == 2 && strcmp(rb.params[0].name, "n") == 0, "params sorted");
	ok(rb.n_steps == 1 && rb.steps[0].type_word && strcmp(rb.steps[0].gate, "go?") == 0,
	   "gate with type_word");
	char arg0[] = "n=7";
	char *args[] = { arg0 };
	rc = pgha_runbook_params(h, &rb, 1, args, &errs);
	is_int(rc, 0, "params parse");
	lua_State *L = pgha_lua_state(h);
	lua_getfield(L, -1, "n");
	lua_getfield(L, -2, "s");
	ok(lua_tointeger(L, -2) == 7 && lua_tointeger(L, -1) == 2048, "given value and converted default");
	lua_settop(L, 0);
	pgha_runbook_free(&rb);
	free(p);
	pgha_buf_free(&errs);
	pgha_lua_free(h);
}

static void test_journal(const char *dir)
{
	char jdir[512], id[64], err[512];
	snprintf(jdir, sizeof jdir, "%s/j/k", dir);
	struct pgha_journal *j = NULL;
	int rc = pgha_journal_open(jdir, &j, id, sizeof id, err, sizeof err);
	is_int(rc, 0, "journal opened in a new nested directory");
	struct stat st;
	ok(stat(pgha_journal_path(j), &st) == 0 && (st.st_mode & 0777) == 0600, "journal mode 0600");
	ok(stat(jdir, &st) == 0 && (st.st_mode & 0777) == 0700, "journal directory mode 0700");
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "k", "v\nw");
	is_int(pgha_journal_write(j, "test", o), 0, "record written");
	FILE *f = fopen(pgha_journal_path(j), "r");
	char line[1024] = "";
	if (f) {
		if (!fgets(line, sizeof line, f))
			line[0] = '\0';
		fclose(f);
	}
	like(line, "\"event\":\"test\",\"k\":\"v\\nw\"}\n", "one JSON line, newline escaped");
	like(line, id, "the line names the run");
	unlink(pgha_journal_path(j));
	pgha_journal_close(j);
	rmdir(jdir);
	snprintf(jdir, sizeof jdir, "%s/j", dir);
	rmdir(jdir);
}

int main(void)
{
	char dir[] = "/tmp/test_runbook.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	test_sha256();
	test_parsers();
	test_sandbox();
	test_runbook_validation(dir);
	test_journal(dir);
	/* leave no files behind: remove what the tests wrote */
	char path[512];
	static const char *const files[] = { "bad.lua", "good.lua", NULL };
	for (const char *const *f = files; *f; f++) {
		snprintf(path, sizeof path, "%s/%s", dir, *f);
		unlink(path);
	}
	rmdir(dir);
	return done_testing();
}
