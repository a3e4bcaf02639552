/*
 * runbook.c: finding, loading and validating runbooks. See runbook.h.
 */
#define _DEFAULT_SOURCE
#include <config.h>

#include "runbook.h"

#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#define ERR_LIMIT (64 * 1024)

static const char *const type_names[] = {
	"string", "integer", "number", "boolean", "size", "duration"
};

const char *pgha_param_type_name(enum pgha_param_type t) { return type_names[t]; }

/* --- small parsers ------------------------------------------------------- */

static bool digits(const char **p)
{
	const char *s = *p;
	if (!isdigit((unsigned char)*s))
		return false;
	if (*s == '0' && isdigit((unsigned char)s[1]))
		return false; /* no leading zeros */
	while (isdigit((unsigned char)*s))
		s++;
	*p = s;
	return true;
}

static bool ident_list(const char **p)
{
	const char *s = *p;
	for (;;) {
		const char *start = s;
		while (isalnum((unsigned char)*s) || *s == '-')
			s++;
		if (s == start)
			return false;
		if (*s != '.')
			break;
		s++;
	}
	*p = s;
	return true;
}

bool pgha_semver_valid(const char *v)
{
	const char *p = v;
	if (!digits(&p) || *p++ != '.' || !digits(&p) || *p++ != '.' || !digits(&p))
		return false;
	if (*p == '-') {
		p++;
		if (!ident_list(&p))
			return false;
	}
	if (*p == '+') {
		p++;
		if (!ident_list(&p))
			return false;
	}
	return *p == '\0';
}

int pgha_parse_size(const char *s, long long *out)
{
	static const struct { const char *unit; long long mul; } units[] = {
		{ "", 1 }, { "B", 1 }, { "kB", 1024LL }, { "MB", 1024LL * 1024 },
		{ "GB", 1024LL * 1024 * 1024 }, { "TB", 1024LL * 1024 * 1024 * 1024 }
	};
	char *end;
	if (!isdigit((unsigned char)*s))
		return PGHA_E_INVALID;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno)
		return PGHA_E_INVALID;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(end, units[i].unit) == 0) {
			if (v > LLONG_MAX / units[i].mul)
				return PGHA_E_INVALID;
			*out = v * units[i].mul;
			return 0;
		}
	return PGHA_E_INVALID;
}

int pgha_parse_duration(const char *s, double *out)
{
	static const struct { const char *unit; double mul; } units[] = {
		{ "", 1 }, { "ms", 0.001 }, { "s", 1 }, { "min", 60 }, { "m", 60 },
		{ "h", 3600 }, { "d", 86400 }
	};
	char *end;
	if (!isdigit((unsigned char)*s))
		return PGHA_E_INVALID;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || !isfinite(v))
		return PGHA_E_INVALID;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(end, units[i].unit) == 0) {
			*out = v * units[i].mul;
			return 0;
		}
	return PGHA_E_INVALID;
}

/* --- search path --------------------------------------------------------- */

void pgha_rb_path_init(struct pgha_rb_path *p, const char *const *opt_dirs, size_t n_opt,
		       char *env_copy)
{
	p->n = 0;
	for (size_t i = 0; i < n_opt && p->n < 63; i++)
		p->dirs[p->n++] = opt_dirs[i];
	if (env_copy) {
		char *s = env_copy;
		while (s && p->n < 63) {
			char *colon = strchr(s, ':');
			if (colon)
				*colon = '\0';
			if (*s)
				p->dirs[p->n++] = s;
			s = colon ? colon + 1 : NULL;
		}
	}
	p->dirs[p->n++] = PGHA_DATADIR "/runbooks";
}

static bool valid_name(const char *n)
{
	if (!*n)
		return false;
	for (const char *c = n; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
			return false;
	return true;
}

int pgha_rb_find(const struct pgha_rb_path *p, const char *name, char *out, size_t outlen,
		 char *err, size_t errlen)
{
	struct stat st;
	if (strchr(name, '/')) {
		if (stat(name, &st) != 0 || !S_ISREG(st.st_mode)) {
			pgha_errf(err, errlen, "runbook file \"%s\" not found", name);
			return PGHA_E_NOTFOUND;
		}
		snprintf(out, outlen, "%s", name);
		return 0;
	}
	if (!valid_name(name)) {
		pgha_errf(err, errlen, "invalid runbook name \"%s\" (letters, digits, '_' and '-')", name);
		return PGHA_E_INVALID;
	}
	for (size_t i = 0; i < p->n; i++) {
		int n = snprintf(out, outlen, "%s/%s.lua", p->dirs[i], name);
		if (n < 0 || (size_t)n >= outlen)
			continue;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
			return 0;
	}
	pgha_errf(err, errlen, "runbook \"%s\" not found in the search path (%zu directories; see 'pgha runbooks')",
		  name, p->n);
	return PGHA_E_NOTFOUND;
}

/* --- validation ---------------------------------------------------------- */

static char *xstrdup(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static const char *const step_keys[] = {
	"name", "when", "check", "gate", "run", "verify", "undo", "timeout", "retries", "interval",
	NULL
};
static const char *const param_keys[] = { "type", "default", "required", "help", "check", NULL };
static const char *const top_keys[] = { "name", "version", "summary", "params", "steps", NULL };

static bool known(const char *k, const char *const *keys)
{
	for (; *keys; keys++)
		if (strcmp(k, *keys) == 0)
			return true;
	return false;
}

/* Report unknown (or non-string) keys of the table at idx. */
static void unknown_keys(lua_State *L, int idx, const char *const *keys, const char *where,
			 struct pgha_buf *errs, int *bad)
{
	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			pgha_buf_printf(errs, "%s: keys must be names\n", where);
			(*bad)++;
		} else if (!known(lua_tostring(L, -1), keys)) {
			pgha_buf_printf(errs, "%s: unknown key \"%s\"\n", where, lua_tostring(L, -1));
			(*bad)++;
		}
	}
}

static bool opt_function(lua_State *L, int t, const char *key, const char *where,
			 struct pgha_buf *errs, int *bad)
{
	int ty = lua_getfield(L, t, key);
	lua_pop(L, 1);
	if (ty == LUA_TNIL)
		return false;
	if (ty != LUA_TFUNCTION) {
		pgha_buf_printf(errs, "%s: %s must be a function, not a %s\n", where, key,
				lua_typename(L, ty));
		(*bad)++;
		return false;
	}
	return true;
}

static int cmp_param(const void *a, const void *b)
{
	return strcmp(((const struct pgha_rb_param *)a)->name, ((const struct pgha_rb_param *)b)->name);
}

/* Convert the string s to the param's type and push it; returns false
 * (pushes nothing) when it does not parse. */
static bool push_converted(lua_State *L, enum pgha_param_type t, const char *s)
{
	switch (t) {
	case PGHA_P_STRING:
		lua_pushstring(L, s);
		return true;
	case PGHA_P_INTEGER: {
		char *end;
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (errno || end == s || *end)
			return false;
		lua_pushinteger(L, (lua_Integer)v);
		return true;
	}
	case PGHA_P_NUMBER: {
		char *end;
		errno = 0;
		double v = strtod(s, &end);
		if (errno || end == s || *end || !isfinite(v))
			return false;
		lua_pushnumber(L, v);
		return true;
	}
	case PGHA_P_BOOLEAN: {
		static const char *const yes[] = { "true", "yes", "on", "1", NULL };
		static const char *const no[] = { "false", "no", "off", "0", NULL };
		for (const char *const *w = yes; *w; w++)
			if (strcasecmp(s, *w) == 0) {
				lua_pushboolean(L, 1);
				return true;
			}
		for (const char *const *w = no; *w; w++)
			if (strcasecmp(s, *w) == 0) {
				lua_pushboolean(L, 0);
				return true;
			}
		return false;
	}
	case PGHA_P_SIZE: {
		long long v;
		if (pgha_parse_size(s, &v) != 0)
			return false;
		lua_pushinteger(L, (lua_Integer)v);
		return true;
	}
	case PGHA_P_DURATION: {
		double v;
		if (pgha_parse_duration(s, &v) != 0)
			return false;
		lua_pushnumber(L, v);
		return true;
	}
	}
	return false;
}

static const char *type_hint(enum pgha_param_type t)
{
	switch (t) {
	case PGHA_P_INTEGER: return "an integer";
	case PGHA_P_NUMBER: return "a number";
	case PGHA_P_BOOLEAN: return "true or false";
	case PGHA_P_SIZE: return "a size such as 16MB (B, kB, MB, GB, TB)";
	case PGHA_P_DURATION: return "a duration such as 30s (ms, s, min, h, d)";
	default: return "a string";
	}
}

/* Is the Lua value at idx acceptable as-is for type t? */
static bool lua_value_fits(lua_State *L, int idx, enum pgha_param_type t)
{
	switch (t) {
	case PGHA_P_STRING: return lua_type(L, idx) == LUA_TSTRING;
	case PGHA_P_INTEGER:
	case PGHA_P_SIZE: return lua_isinteger(L, idx);
	case PGHA_P_NUMBER:
	case PGHA_P_DURATION: return lua_type(L, idx) == LUA_TNUMBER;
	case PGHA_P_BOOLEAN: return lua_type(L, idx) == LUA_TBOOLEAN;
	}
	return false;
}

static void load_params(lua_State *L, int t, struct pgha_runbook *rb, struct pgha_buf *errs, int *bad)
{
	int ty = lua_getfield(L, t, "params");
	if (ty == LUA_TNIL) {
		lua_pop(L, 1);
		return;
	}
	if (ty != LUA_TTABLE) {
		pgha_buf_printf(errs, "%s: params must be a table\n", rb->path);
		(*bad)++;
		lua_pop(L, 1);
		return;
	}
	int pt = lua_gettop(L);
	size_t n = 0;
	lua_pushnil(L);
	while (lua_next(L, pt)) {
		n++;
		lua_pop(L, 1);
	}
	rb->params = calloc(n ? n : 1, sizeof *rb->params);
	if (!rb->params) {
		(*bad)++;
		lua_pop(L, 1);
		return;
	}
	lua_pushnil(L);
	while (lua_next(L, pt)) {
		char where[256];
		if (lua_type(L, -2) != LUA_TSTRING || !valid_name(lua_tostring(L, -2))) {
			pgha_buf_printf(errs, "%s: parameter names must be words\n", rb->path);
			(*bad)++;
			lua_pop(L, 1);
			continue;
		}
		const char *pname = lua_tostring(L, -2);
		snprintf(where, sizeof where, "%s: parameter \"%s\"", rb->path, pname);
		if (lua_type(L, -1) != LUA_TTABLE) {
			pgha_buf_printf(errs, "%s: must be a table\n", where);
			(*bad)++;
			lua_pop(L, 1);
			continue;
		}
		int e = lua_gettop(L);
		struct pgha_rb_param *p = &rb->params[rb->n_params++];
		p->name = xstrdup(pname);
		unknown_keys(L, e, param_keys, where, errs, bad);
		lua_getfield(L, e, "type");
		const char *tn = lua_tostring(L, -1);
		p->type = PGHA_P_STRING;
		if (lua_isnil(L, -1))
			; /* string */
		else {
			size_t i;
			for (i = 0; i < 6; i++)
				if (tn && lua_type(L, -1) == LUA_TSTRING && strcmp(tn, type_names[i]) == 0)
					break;
			if (i == 6) {
				pgha_buf_printf(errs, "%s: unknown type \"%s\" (string, integer, number, "
						"boolean, size, duration)\n", where, tn ? tn : "?");
				(*bad)++;
			} else
				p->type = (enum pgha_param_type)i;
		}
		lua_pop(L, 1);
		lua_getfield(L, e, "help");
		if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING) {
			pgha_buf_printf(errs, "%s: help must be a string\n", where);
			(*bad)++;
		} else
			p->help = xstrdup(lua_tostring(L, -1));
		lua_pop(L, 1);
		lua_getfield(L, e, "required");
		if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TBOOLEAN) {
			pgha_buf_printf(errs, "%s: required must be true or false\n", where);
			(*bad)++;
		}
		p->required = lua_toboolean(L, -1);
		lua_pop(L, 1);
		p->has_check = opt_function(L, e, "check", where, errs, bad);
		lua_getfield(L, e, "default");
		if (!lua_isnil(L, -1)) {
			p->has_default = true;
			if (!lua_value_fits(L, -1, p->type)) {
				const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
				if (!s || !push_converted(L, p->type, s)) {
					pgha_buf_printf(errs, "%s: default is not %s\n", where, type_hint(p->type));
					(*bad)++;
				} else
					lua_pop(L, 1);
			}
			p->default_text = xstrdup(luaL_tolstring(L, -1, NULL));
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		lua_settop(L, e - 1);
	}
	lua_pop(L, 1);
	qsort(rb->params, rb->n_params, sizeof *rb->params, cmp_param);
}

static void load_steps(lua_State *L, int t, struct pgha_runbook *rb, struct pgha_buf *errs, int *bad)
{
	int ty = lua_getfield(L, t, "steps");
	if (ty != LUA_TTABLE || lua_rawlen(L, -1) == 0) {
		pgha_buf_printf(errs, "%s: steps must be a non-empty list of steps\n", rb->path);
		(*bad)++;
		lua_pop(L, 1);
		return;
	}
	int st = lua_gettop(L);
	size_t n = (size_t)lua_rawlen(L, st);
	rb->steps = calloc(n, sizeof *rb->steps);
	if (!rb->steps) {
		(*bad)++;
		lua_pop(L, 1);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char where[256];
		struct pgha_rb_step *s = &rb->steps[rb->n_steps++];
		s->timeout = 30;
		s->interval = 1;
		lua_rawgeti(L, st, (lua_Integer)i + 1);
		int e = lua_gettop(L);
		if (lua_type(L, e) != LUA_TTABLE) {
			pgha_buf_printf(errs, "%s: step %zu must be a table\n", rb->path, i + 1);
			(*bad)++;
			lua_settop(L, e - 1);
			continue;
		}
		lua_getfield(L, e, "name");
		if (lua_type(L, -1) != LUA_TSTRING || !*lua_tostring(L, -1)) {
			pgha_buf_printf(errs, "%s: step %zu: name must be a non-empty string\n", rb->path, i + 1);
			(*bad)++;
			snprintf(where, sizeof where, "%s: step %zu", rb->path, i + 1);
		} else {
			s->name = xstrdup(lua_tostring(L, -1));
			snprintf(where, sizeof where, "%s: step %zu \"%s\"", rb->path, i + 1, s->name);
			for (size_t k = 0; k + 1 < rb->n_steps; k++)
				if (rb->steps[k].name && strcmp(rb->steps[k].name, s->name) == 0) {
					pgha_buf_printf(errs, "%s: duplicate step name\n", where);
					(*bad)++;
				}
		}
		lua_pop(L, 1);
		unknown_keys(L, e, step_keys, where, errs, bad);
		s->has_when = opt_function(L, e, "when", where, errs, bad);
		s->has_check = opt_function(L, e, "check", where, errs, bad);
		s->has_run = opt_function(L, e, "run", where, errs, bad);
		s->has_verify = opt_function(L, e, "verify", where, errs, bad);
		s->has_undo = opt_function(L, e, "undo", where, errs, bad);
		if (!s->has_check && !s->has_run && !s->has_verify) {
			pgha_buf_printf(errs, "%s: has none of check, run, verify\n", where);
			(*bad)++;
		}
		ty = lua_getfield(L, e, "gate");
		if (ty == LUA_TSTRING)
			s->gate = xstrdup(lua_tostring(L, -1));
		else if (ty == LUA_TTABLE) {
			int g = lua_gettop(L);
			static const char *const gate_keys[] = { "text", "type_word", NULL };
			unknown_keys(L, g, gate_keys, where, errs, bad);
			if (lua_getfield(L, g, "text") != LUA_TSTRING) {
				pgha_buf_printf(errs, "%s: gate.text must be a string\n", where);
				(*bad)++;
			} else
				s->gate = xstrdup(lua_tostring(L, -1));
			lua_pop(L, 1);
			int wt = lua_getfield(L, g, "type_word");
			if (wt == LUA_TSTRING || wt == LUA_TFUNCTION)
				s->type_word = true;
			else if (wt != LUA_TNIL) {
				pgha_buf_printf(errs, "%s: gate.type_word must be a string or a function\n", where);
				(*bad)++;
			}
			lua_pop(L, 1);
		} else if (ty != LUA_TNIL) {
			pgha_buf_printf(errs, "%s: gate must be a string or a table\n", where);
			(*bad)++;
		}
		lua_pop(L, 1);
		static const struct { const char *key; double lo, hi; } nums[] = {
			{ "timeout", 0.001, 86400 }, { "interval", 0.001, 3600 }, { "retries", 0, 100 }
		};
		for (size_t k = 0; k < 3; k++) {
			ty = lua_getfield(L, e, nums[k].key);
			if (k == 0 && ty == LUA_TFUNCTION)
				s->timeout_fn = true; /* timeout(ctx), e.g. from a parameter */
			else if (ty != LUA_TNIL) {
				double v = lua_tonumber(L, -1);
				if (ty != LUA_TNUMBER || v < nums[k].lo || v > nums[k].hi ||
				    (k == 2 && !lua_isinteger(L, -1))) {
					pgha_buf_printf(errs, "%s: %s must be a number from %g to %g\n", where,
							nums[k].key, nums[k].lo, nums[k].hi);
					(*bad)++;
				} else if (k == 0)
					s->timeout = v;
				else if (k == 1)
					s->interval = v;
				else
					s->retries = (int)v;
			}
			lua_pop(L, 1);
		}
		lua_settop(L, e - 1);
	}
	lua_pop(L, 1);
}

int pgha_runbook_load(struct pgha_lua *h, const char *path, struct pgha_runbook *rb,
		      struct pgha_buf *errs)
{
	lua_State *L = pgha_lua_state(h);
	char err[4096];
	memset(rb, 0, sizeof *rb);
	rb->ref = LUA_NOREF;
	rb->path = xstrdup(path);
	pgha_lua_phase(h, "load", false, "loading a runbook changes nothing");
	pgha_lua_budget(h, 5, "loading the runbook");
	int rc = pgha_lua_dofile(h, path, err, sizeof err);
	pgha_lua_budget(h, 0, "runbook");
	if (rc != 0) {
		pgha_buf_printf(errs, "%s\n", err);
		return rc == PGHA_E_IO ? PGHA_E_IO : PGHA_E_INVALID;
	}
	if (!lua_istable(L, -1)) {
		pgha_buf_printf(errs, "%s: the file must return a table (return runbook { ... })\n", path);
		lua_pop(L, 1);
		return PGHA_E_INVALID;
	}
	int t = lua_gettop(L);
	int bad = 0;
	unknown_keys(L, t, top_keys, path, errs, &bad);
	lua_getfield(L, t, "name");
	if (lua_type(L, -1) != LUA_TSTRING || !valid_name(lua_tostring(L, -1))) {
		pgha_buf_printf(errs, "%s: name must be a word (letters, digits, '_' and '-')\n", path);
		bad++;
	} else
		rb->name = xstrdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	lua_getfield(L, t, "version");
	if (lua_type(L, -1) != LUA_TSTRING || !pgha_semver_valid(lua_tostring(L, -1))) {
		pgha_buf_printf(errs, "%s: version must be a semantic version such as \"1.2.0\"\n", path);
		bad++;
	} else
		rb->version = xstrdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	lua_getfield(L, t, "summary");
	if (lua_type(L, -1) != LUA_TSTRING) {
		pgha_buf_printf(errs, "%s: summary must be a string\n", path);
		bad++;
	} else
		rb->summary = xstrdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	load_params(L, t, rb, errs, &bad);
	load_steps(L, t, rb, errs, &bad);
	if (bad) {
		lua_settop(L, t - 1);
		return PGHA_E_INVALID;
	}
	rb->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

void pgha_runbook_free(struct pgha_runbook *rb)
{
	for (size_t i = 0; i < rb->n_params; i++) {
		free(rb->params[i].name);
		free(rb->params[i].help);
		free(rb->params[i].default_text);
	}
	for (size_t i = 0; i < rb->n_steps; i++) {
		free(rb->steps[i].name);
		free(rb->steps[i].gate);
	}
	free(rb->params);
	free(rb->steps);
	free(rb->path);
	free(rb->name);
	free(rb->version);
	free(rb->summary);
	memset(rb, 0, sizeof *rb);
	rb->ref = LUA_NOREF;
}

/* --- parameters ---------------------------------------------------------- */

static const struct pgha_rb_param *find_param(const struct pgha_runbook *rb, const char *name,
					      size_t len)
{
	for (size_t i = 0; i < rb->n_params; i++)
		if (strlen(rb->params[i].name) == len && strncmp(rb->params[i].name, name, len) == 0)
			return &rb->params[i];
	return NULL;
}

int pgha_runbook_params(struct pgha_lua *h, const struct pgha_runbook *rb, int argc,
			char *const *argv, struct pgha_buf *errs)
{
	lua_State *L = pgha_lua_state(h);
	int bad = 0;
	int top = lua_gettop(L);
	lua_newtable(L);
	int vt = lua_gettop(L);
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i]) {
			pgha_buf_printf(errs, "argument \"%s\" is not name=value\n", argv[i]);
			bad++;
			continue;
		}
		size_t nl = (size_t)(eq - argv[i]);
		const struct pgha_rb_param *p = find_param(rb, argv[i], nl);
		if (!p) {
			pgha_buf_printf(errs, "unknown parameter \"%.*s\" (see 'pgha show %s')\n",
					(int)nl, argv[i], rb->name);
			bad++;
			continue;
		}
		if (lua_getfield(L, vt, p->name) != LUA_TNIL) {
			pgha_buf_printf(errs, "parameter \"%s\" given twice\n", p->name);
			bad++;
			lua_pop(L, 1);
			continue;
		}
		lua_pop(L, 1);
		if (!push_converted(L, p->type, eq + 1)) {
			pgha_buf_printf(errs, "parameter \"%s\": \"%s\" is not %s\n", p->name, eq + 1,
					type_hint(p->type));
			bad++;
			continue;
		}
		lua_setfield(L, vt, p->name);
	}
	/* defaults, required, checks */
	lua_rawgeti(L, LUA_REGISTRYINDEX, rb->ref);
	lua_getfield(L, -1, "params");
	int pt = lua_gettop(L);
	for (size_t i = 0; i < rb->n_params; i++) {
		const struct pgha_rb_param *p = &rb->params[i];
		if (lua_getfield(L, vt, p->name) == LUA_TNIL && p->has_default) {
			lua_pop(L, 1);
			lua_getfield(L, pt, p->name);
			lua_getfield(L, -1, "default");
			lua_remove(L, -2);
			if (lua_type(L, -1) == LUA_TSTRING && p->type != PGHA_P_STRING) {
				const char *s = lua_tostring(L, -1);
				if (push_converted(L, p->type, s))
					lua_remove(L, -2);
			}
			lua_pushvalue(L, -1);
			lua_setfield(L, vt, p->name);
		}
		if (lua_isnil(L, -1)) {
			if (p->required) {
				pgha_buf_printf(errs, "parameter \"%s\" is required%s%s\n", p->name,
						p->help ? ": " : "", p->help ? p->help : "");
				bad++;
			}
			lua_pop(L, 1);
			continue;
		}
		if (p->has_check) {
			lua_getfield(L, pt, p->name);
			lua_getfield(L, -1, "check");
			lua_remove(L, -2);
			lua_insert(L, -2); /* check, value */
			char err[1024];
			pgha_lua_phase(h, "a parameter check", false, "checks are read-only");
			pgha_lua_budget(h, 5, "a parameter check");
			int rc = pgha_lua_pcall(h, 1, 2, err, sizeof err);
			pgha_lua_budget(h, 0, "runbook");
			if (rc != LUA_OK) {
				char *nl = strchr(err, '\n');
				if (nl)
					*nl = '\0';
				pgha_buf_printf(errs, "parameter \"%s\": check failed: %s\n", p->name, err);
				bad++;
				continue;
			}
			if (!lua_toboolean(L, -2)) {
				const char *m = lua_tostring(L, -1);
				pgha_buf_printf(errs, "parameter \"%s\": %s\n", p->name,
						m ? m : "rejected by its check");
				bad++;
			}
			lua_pop(L, 2);
		} else
			lua_pop(L, 1);
	}
	lua_pop(L, 2); /* runbook table, params */
	if (bad) {
		lua_settop(L, top);
		return PGHA_E_INVALID;
	}
	return 0;
}
