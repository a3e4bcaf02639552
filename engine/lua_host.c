/*
 * lua_host.c: the sandboxed Lua state, require() for the runbook library
 * and the small host modules (log, json, time, wait, exec, test); patroni,
 * pg and etcd have their own files. See lua_host.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <config.h>

#include "lua_host.h"

#include "clock.h"
#include "error.h"
#include "lua_etcd.h"
#include "lua_fs.h"
#include "lua_patroni.h"
#include "lua_pg.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#define EXEC_MAX_OUTPUT (1024 * 1024) /* bytes kept of stdout and stderr each */
#define JSON_MAX_DEPTH 64

struct pgha_lua {
	lua_State *L;
	size_t used, cap;
	pgha_lua_log_fn log;
	void *log_ud;
	pgha_lua_progress_fn progress;
	void *progress_ud;
	const struct pgha_clusterfile *cf; /* borrowed, may be NULL */
	char lib_dir[4096];                /* <runbook dir>/../lua, "" if none */
};

/* Set from a signal handler: the count hook and the blocking host calls
 * raise "interrupted" as soon as they see it. */
static volatile sig_atomic_t interrupted_by;

/* Registry keys: the addresses of these variables. */
static const char host_key = 'h';     /* lightuserdata: struct pgha_lua * */
static const char env_key = 'e';      /* the sandbox _ENV table */
static const char deadline_key = 'd'; /* integer: monotonic ms, 0 = none */
static const char what_key = 'w';     /* string: what the budget is for */
static const char mutate_key = 'm';   /* boolean: mutation allowed */
static const char phase_key = 'p';    /* string: the phase */
static const char why_key = 'y';      /* string: why mutation is refused */
static char null_key = 'n';     /* json.null sentinel */
static const char loaded_key = 'l';   /* table: require()d libraries */

static int lua_require(lua_State *L);

/* --- allocator, hook, message handler ------------------------------------ */

/* Counting allocator: refuses to grow past the cap. When ptr is NULL,
 * osize is a type tag, not a size. */
static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct pgha_lua *h = ud;
	size_t old = ptr ? osize : 0;
	if (nsize == 0) {
		free(ptr);
		h->used -= old;
		return NULL;
	}
	if (nsize > old && h->used - old + nsize > h->cap)
		return NULL;
	void *p = realloc(ptr, nsize);
	if (!p)
		return NULL;
	h->used = h->used - old + nsize;
	return p;
}

static long long deadline_of(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &deadline_key);
	long long d = (long long)lua_tointeger(L, -1);
	lua_pop(L, 1);
	return d;
}

long long pgha_lua_budget_left_ms(lua_State *L)
{
	long long d = deadline_of(L);
	if (d == 0)
		return -1;
	long long left = d - (long long)pgha_now_ms();
	return left > 0 ? left : 0;
}

static int budget_error(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &what_key);
	const char *what = lua_tostring(L, -1);
	return luaL_error(L, "time budget exceeded in %s", what ? what : "runbook");
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
	if (interrupted_by)
		pgha_lua_raise_if_interrupted(L);
	long long d = deadline_of(L);
	if (d == 0 || (long long)pgha_now_ms() < d)
		return;
	/* name where the time ran out: the running Lua function's line */
	if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0) {
		lua_rawgetp(L, LUA_REGISTRYINDEX, &what_key);
		const char *what = lua_tostring(L, -1);
		lua_pushfstring(L, "%s:%d: time budget exceeded in %s", ar->short_src,
				ar->currentline, what ? what : "runbook");
		lua_error(L);
	}
	budget_error(L);
}

static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			msg = lua_tostring(L, -1);
		else
			msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

static struct pgha_lua *host_of(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &host_key);
	struct pgha_lua *h = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return h;
}

/* --- the mutating wrapper ------------------------------------------------ */

void pgha_lua_interrupt(int signo)
{
	interrupted_by = signo ? signo : -1;
}

int pgha_lua_interrupted(void)
{
	return (int)interrupted_by;
}

void pgha_lua_raise_if_interrupted(lua_State *L)
{
	int sig = (int)interrupted_by;
	if (sig > 0)
		luaL_error(L, "interrupted by signal %d (%s)", sig, strsignal(sig));
	else if (sig)
		luaL_error(L, "interrupted");
}

const struct pgha_clusterfile *pgha_lua_cluster(lua_State *L)
{
	struct pgha_lua *h = host_of(L);
	return h ? h->cf : NULL;
}

const struct pgha_clusterfile *pgha_lua_check_cluster(lua_State *L, const char *what)
{
	const struct pgha_clusterfile *cf = pgha_lua_cluster(L);
	if (!cf)
		luaL_error(L, "%s needs the cluster: pass -c CLUSTERFILE to pgha run", what);
	return cf;
}

void pgha_lua_set_cluster(struct pgha_lua *h, const struct pgha_clusterfile *cf)
{
	h->cf = cf;
}

void pgha_lua_set_progress(struct pgha_lua *h, pgha_lua_progress_fn fn, void *ud)
{
	h->progress = fn;
	h->progress_ud = ud;
}

void pgha_lua_report_progress(lua_State *L, const char *what, double elapsed)
{
	struct pgha_lua *h = host_of(L);
	if (h && h->progress)
		h->progress(h->progress_ud, what, elapsed);
}

/* Upvalues: 1 the real function, 2 its name. */
static int mutating_call(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &mutate_key);
	int allowed = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (!allowed) {
		lua_rawgetp(L, LUA_REGISTRYINDEX, &phase_key);
		lua_rawgetp(L, LUA_REGISTRYINDEX, &why_key);
		return luaL_error(L, "%s mutates: refused in %s (%s)",
				  lua_tostring(L, lua_upvalueindex(2)),
				  lua_tostring(L, -2) ? lua_tostring(L, -2) : "this phase",
				  lua_tostring(L, -1) ? lua_tostring(L, -1) : "read-only");
	}
	int n = lua_gettop(L);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, n, LUA_MULTRET);
	return lua_gettop(L);
}

void pgha_lua_set_mutating(lua_State *L, const char *module, const char *name, lua_CFunction f)
{
	lua_pushcfunction(L, f);
	lua_pushfstring(L, "%s.%s", module, name);
	lua_pushcclosure(L, mutating_call, 2);
	lua_setfield(L, -2, name);
}

/* --- log ----------------------------------------------------------------- */

static int log_at(lua_State *L, const char *level)
{
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, ' ');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	const char *msg = lua_tostring(L, -1);
	struct pgha_lua *h = host_of(L);
	fprintf(stderr, "pgha: [%s] %s\n", level, msg);
	if (h && h->log)
		h->log(h->log_ud, level, msg);
	return 0;
}

static int log_info(lua_State *L) { return log_at(L, "info"); }
static int log_warn(lua_State *L) { return log_at(L, "warn"); }
static int log_error(lua_State *L) { return log_at(L, "error"); }

static const luaL_Reg log_lib[] = {
	{ "info", log_info }, { "warn", log_warn }, { "error", log_error }, { NULL, NULL }
};

/* --- json ---------------------------------------------------------------- */

static int is_null(lua_State *L, int idx)
{
	if (lua_type(L, idx) != LUA_TLIGHTUSERDATA)
		return 0;
	return lua_touserdata(L, idx) == (void *)&null_key;
}

/* Encode the value at idx; returns NULL with a message pushed on error. */
static cJSON *encode(lua_State *L, int idx, int depth)
{
	idx = lua_absindex(L, idx);
	if (depth > JSON_MAX_DEPTH) {
		lua_pushstring(L, "nested too deeply");
		return NULL;
	}
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return cJSON_CreateNull();
	case LUA_TBOOLEAN:
		return cJSON_CreateBool(lua_toboolean(L, idx));
	case LUA_TNUMBER: {
		double v = lua_tonumber(L, idx);
		if (!isfinite(v)) {
			lua_pushstring(L, "cannot encode inf or nan");
			return NULL;
		}
		return cJSON_CreateNumber(v);
	}
	case LUA_TSTRING:
		return cJSON_CreateString(lua_tostring(L, idx));
	case LUA_TLIGHTUSERDATA:
		if (is_null(L, idx))
			return cJSON_CreateNull();
		break;
	case LUA_TTABLE: {
		lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			count++;
			lua_pop(L, 1);
		}
		int array = count == 0 || count == n;
		cJSON *out = array ? cJSON_CreateArray() : cJSON_CreateObject();
		if (!out) {
			lua_pushstring(L, "out of memory");
			return NULL;
		}
		if (array) {
			for (lua_Integer i = 1; i <= n; i++) {
				lua_rawgeti(L, idx, i);
				cJSON *item = encode(L, -1, depth + 1);
				if (!item) {
					lua_remove(L, -2);
					cJSON_Delete(out);
					return NULL;
				}
				lua_pop(L, 1);
				cJSON_AddItemToArray(out, item);
			}
			return out;
		}
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			if (lua_type(L, -2) != LUA_TSTRING) {
				lua_pop(L, 2);
				cJSON_Delete(out);
				lua_pushstring(L, "object keys must be strings");
				return NULL;
			}
			cJSON *item = encode(L, -1, depth + 1);
			if (!item) {
				lua_remove(L, -2);
				lua_remove(L, -2);
				cJSON_Delete(out);
				return NULL;
			}
			cJSON_AddItemToObject(out, lua_tostring(L, -2), item);
			lua_pop(L, 1);
		}
		return out;
	}
	default:
		break;
	}
	lua_pushfstring(L, "cannot encode a %s", luaL_typename(L, idx));
	return NULL;
}

static int json_encode(lua_State *L)
{
	luaL_checkany(L, 1);
	cJSON *j = encode(L, 1, 0);
	if (!j) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!s)
		return luaL_error(L, "out of memory");
	lua_pushstring(L, s);
	free(s);
	return 1;
}

static void decode(lua_State *L, const cJSON *j, int depth)
{
	luaL_checkstack(L, 3, "json too deep");
	if (depth > JSON_MAX_DEPTH)
		luaL_error(L, "json nested too deeply");
	if (cJSON_IsBool(j))
		lua_pushboolean(L, cJSON_IsTrue(j));
	else if (cJSON_IsNumber(j)) {
		double v = j->valuedouble;
		if (v == floor(v) && fabs(v) < 9007199254740992.0)
			lua_pushinteger(L, (lua_Integer)v);
		else
			lua_pushnumber(L, v);
	} else if (cJSON_IsString(j))
		lua_pushstring(L, j->valuestring);
	else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
		lua_newtable(L);
		lua_Integer i = 1;
		for (const cJSON *c = j->child; c; c = c->next) {
			decode(L, c, depth + 1);
			if (cJSON_IsArray(j))
				lua_rawseti(L, -2, i++);
			else
				lua_setfield(L, -2, c->string);
		}
	} else
		lua_pushlightuserdata(L, (void *)&null_key);
}

void pgha_lua_push_json(lua_State *L, const cJSON *j)
{
	decode(L, j, 0);
}

cJSON *pgha_lua_to_json(lua_State *L, int idx)
{
	return encode(L, idx, 0);
}

static int json_box_gc(lua_State *L)
{
	cJSON **box = lua_touserdata(L, 1);
	if (box && *box) {
		cJSON_Delete(*box);
		*box = NULL;
	}
	return 0;
}

static int json_decode(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(s, len, &end, 0);
	if (!j) {
		lua_pushnil(L);
		lua_pushfstring(L, "invalid JSON at byte %d", end ? (int)(end - s) : 0);
		return 2;
	}
	/* decode may raise (depth, memory): a box with __gc owns the tree
	 * until it is freed here */
	cJSON **box = lua_newuserdatauv(L, sizeof *box, 0);
	*box = j;
	if (luaL_newmetatable(L, "pgha.cjson")) {
		lua_pushcfunction(L, json_box_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	decode(L, j, 0);
	cJSON_Delete(j);
	*box = NULL;
	return 1;
}

static const luaL_Reg json_lib[] = {
	{ "encode", json_encode }, { "decode", json_decode }, { NULL, NULL }
};

/* --- time and wait ------------------------------------------------------- */

static void sleep_ms(long long ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !interrupted_by)
		;
}

/* Sleep seconds, but never past the budget (then raise). */
static void budget_sleep(lua_State *L, double seconds)
{
	long long ms = (long long)(seconds * 1000.0);
	long long left = pgha_lua_budget_left_ms(L);
	if (left >= 0 && ms >= left) {
		sleep_ms(left);
		pgha_lua_raise_if_interrupted(L);
		budget_error(L);
	}
	sleep_ms(ms);
	pgha_lua_raise_if_interrupted(L);
}

static int time_now(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	lua_pushnumber(L, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	return 1;
}

static int time_sleep(lua_State *L)
{
	double s = luaL_checknumber(L, 1);
	luaL_argcheck(L, s >= 0 && s <= 86400, 1, "seconds out of range");
	budget_sleep(L, s);
	return 0;
}

static const luaL_Reg time_lib[] = {
	{ "now", time_now }, { "sleep", time_sleep }, { NULL, NULL }
};

/* wait.until(fn, timeout [, interval [, what]]): call fn until it returns
 * true; returns true, or nil and "timed out after N s" (with fn's last
 * message). what ("the new leader") is shown as progress on a terminal. */
static int wait_until(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	double timeout = luaL_checknumber(L, 2);
	double interval = luaL_optnumber(L, 3, 1.0);
	const char *what = luaL_optstring(L, 4, NULL);
	luaL_argcheck(L, timeout >= 0 && timeout <= 86400, 2, "timeout out of range");
	luaL_argcheck(L, interval > 0 && interval <= 3600, 3, "interval out of range");
	int64_t start = pgha_now_ms();
	int64_t end = start + (int64_t)(timeout * 1000.0);
	for (;;) {
		lua_settop(L, 4);
		lua_pushvalue(L, 1);
		lua_call(L, 0, 2);
		if (lua_toboolean(L, -2)) {
			lua_pushboolean(L, 1);
			return 1;
		}
		int64_t now = pgha_now_ms();
		int64_t left = end - now;
		if (left <= 0) {
			const char *why = lua_tostring(L, -1);
			lua_pushnil(L);
			if (why)
				lua_pushfstring(L, "timed out after %f s: %s", timeout, why);
			else
				lua_pushfstring(L, "timed out after %f s", timeout);
			return 2;
		}
		if (what)
			pgha_lua_report_progress(L, what, (double)(now - start) / 1000.0);
		double step = interval * 1000.0 < (double)left ? interval : (double)left / 1000.0;
		budget_sleep(L, step);
	}
}

static const luaL_Reg wait_lib[] = {
	{ "until", wait_until }, { "poll", wait_until }, { NULL, NULL }
};

/* --- exec ---------------------------------------------------------------- */

static void keep(char *buf, size_t *len, const char *p, size_t n)
{
	size_t room = EXEC_MAX_OUTPUT - *len;
	if (n > room)
		n = room;
	memcpy(buf + *len, p, n);
	*len += n;
}

/* exec.run(argv [, {timeout = s}]): runs argv[1] with argv (no shell).
 * Returns { code = N | nil, signal = N | nil, stdout = s, stderr = s }, or
 * nil and a message when it cannot start or timed out (then killed). */
static int exec_run(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	double timeout = 30;
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_getfield(L, 2, "timeout");
		if (!lua_isnil(L, -1))
			timeout = luaL_checknumber(L, -1);
		lua_pop(L, 1);
	}
	luaL_argcheck(L, timeout > 0 && timeout <= 86400, 2, "timeout out of range");
	lua_Integer argc = (lua_Integer)lua_rawlen(L, 1);
	luaL_argcheck(L, argc >= 1 && argc <= 4096, 1, "argv must be a non-empty list");
	/* argv strings stay anchored in the table at index 1 */
	char **argv = lua_newuserdatauv(L, sizeof(char *) * (size_t)(argc + 1), 0);
	for (lua_Integer i = 1; i <= argc; i++) {
		lua_rawgeti(L, 1, i);
		if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
			return luaL_argerror(L, 1, "argv items must be strings");
		argv[i - 1] = (char *)(uintptr_t)lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	argv[argc] = NULL;
	char *out = lua_newuserdatauv(L, EXEC_MAX_OUTPUT, 0);
	char *err = lua_newuserdatauv(L, EXEC_MAX_OUTPUT, 0);
	size_t out_len = 0, err_len = 0;

	long long left = pgha_lua_budget_left_ms(L);
	long long limit_ms = (long long)(timeout * 1000.0);
	int budget_bound = 0;
	if (left >= 0 && left < limit_ms) {
		limit_ms = left;
		budget_bound = 1;
	}

	int po[2], pe[2], px[2];
	if (pipe(po) != 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "could not create a pipe: %s", strerror(errno));
		return 2;
	}
	if (pipe(pe) != 0) {
		close(po[0]);
		close(po[1]);
		lua_pushnil(L);
		lua_pushfstring(L, "could not create a pipe: %s", strerror(errno));
		return 2;
	}
	if (pipe(px) != 0) {
		close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
		lua_pushnil(L);
		lua_pushfstring(L, "could not create a pipe: %s", strerror(errno));
		return 2;
	}
	fcntl(px[1], F_SETFD, FD_CLOEXEC);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(po[0]); close(po[1]); close(pe[0]); close(pe[1]); close(px[0]); close(px[1]);
		lua_pushnil(L);
		lua_pushfstring(L, "could not fork: %s", strerror(e));
		return 2;
	}
	if (pid == 0) {
		setpgid(0, 0);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0) {
			dup2(devnull, 0);
			close(devnull);
		}
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]); close(po[1]); close(pe[0]); close(pe[1]); close(px[0]);
		execvp(argv[0], argv);
		int e = errno;
		ssize_t w = write(px[1], &e, sizeof e);
		(void)w;
		_exit(127);
	}
	setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	close(px[1]);
	int exec_errno = 0;
	ssize_t r;
	while ((r = read(px[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
		;
	close(px[0]);
	if (r != (ssize_t)sizeof exec_errno)
		exec_errno = 0;

	int64_t end = pgha_now_ms() + limit_ms;
	int open_fds = 2, timed_out = 0, interrupted = 0;
	struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
	char chunk[8192];
	while (open_fds > 0) {
		if (interrupted_by) {
			interrupted = 1;
			break;
		}
		int64_t wait_ms = end - pgha_now_ms();
		if (wait_ms <= 0) {
			timed_out = 1;
			break;
		}
		int n = poll(fds, 2, (int)(wait_ms > 1000 ? 1000 : wait_ms));
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2 && n > 0; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t got = read(fds[i].fd, chunk, sizeof chunk);
			if (got > 0) {
				if (i == 0)
					keep(out, &out_len, chunk, (size_t)got);
				else
					keep(err, &err_len, chunk, (size_t)got);
			} else if (got == 0 || errno != EINTR) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
	if (timed_out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	int status = 0;
	/* after the pipes closed the child may linger: bound the wait too */
	while (!timed_out && !interrupted) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (interrupted_by) {
			interrupted = 1;
			break;
		}
		if (pgha_now_ms() >= end) {
			timed_out = 1;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		sleep_ms(10);
	}
	if (timed_out)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	if (interrupted) {
		/* SIGINT/SIGTERM for pgha: its child is in a process group of
		 * its own, which the terminal's ^C does not reach. SIGTERM the
		 * group, SIGKILL what is left of it after 2 s, then raise. */
		kill(-pid, SIGTERM);
		kill(pid, SIGTERM);
		int64_t kill_at = pgha_now_ms() + 2000;
		int reaped = 0;
		for (;;) {
			if (!reaped) {
				pid_t w = waitpid(pid, &status, WNOHANG);
				reaped = w == pid || (w < 0 && errno == ECHILD);
			}
			if (reaped && kill(-pid, 0) != 0)
				break;
			if (pgha_now_ms() >= kill_at) {
				kill(-pid, SIGKILL);
				if (!reaped) {
					kill(pid, SIGKILL);
					while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
						;
				}
				break;
			}
			sleep_ms(10);
		}
		pgha_lua_raise_if_interrupted(L);
	}
	if (exec_errno) {
		lua_pushnil(L);
		lua_pushfstring(L, "could not execute \"%s\": %s", argv[0], strerror(exec_errno));
		return 2;
	}
	if (timed_out) {
		if (budget_bound)
			return budget_error(L);
		lua_pushnil(L);
		lua_pushfstring(L, "\"%s\" timed out after %f s (killed)", argv[0], timeout);
		return 2;
	}
	lua_createtable(L, 0, 4);
	if (WIFEXITED(status)) {
		lua_pushinteger(L, WEXITSTATUS(status));
		lua_setfield(L, -2, "code");
	} else if (WIFSIGNALED(status)) {
		lua_pushinteger(L, WTERMSIG(status));
		lua_setfield(L, -2, "signal");
	}
	lua_pushlstring(L, out, out_len);
	lua_setfield(L, -2, "stdout");
	lua_pushlstring(L, err, err_len);
	lua_setfield(L, -2, "stderr");
	return 1;
}

/* --- test (only with PGHA_ENGINE_TEST=1) ---------------------------------- */

/* test.mutate(path, text): append text and a newline to path. */
static int test_mutate(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	size_t len;
	const char *text = luaL_checklstring(L, 2, &len);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "could not open file \"%s\": %s", path, strerror(errno));
		return 2;
	}
	int ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
	close(fd);
	lua_pushboolean(L, ok);
	return 1;
}

/* --- the state ----------------------------------------------------------- */

/* setmetatable without __gc: a finalizer would run at an unknown time,
 * outside any step's budget and phase. */
static int safe_setmetatable(lua_State *L)
{
	if (lua_istable(L, 2) && lua_getfield(L, 2, "__gc") != LUA_TNIL)
		return luaL_error(L, "__gc metamethods are not allowed in runbooks");
	lua_settop(L, 2);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, 2, 1);
	return 1;
}

/* runbook { ... }: returns its table, so a file can `return runbook {...}`. */
static int runbook_decl(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	return 1;
}

static const char *const base_allowed[] = {
	"assert", "error", "ipairs", "next", "pairs", "pcall", "print", "rawequal",
	"rawget", "rawlen", "rawset", "select", "setmetatable", "getmetatable",
	"tonumber", "tostring", "type", "xpcall", "_VERSION", NULL
};

static const char *const libs_allowed[] = { "table", "string", "math", "utf8", NULL };

/* Build everything inside a protected call: memory errors are caught. */
static int setup(lua_State *L)
{
	luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
	luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
	luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
	luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
	luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
	lua_settop(L, 0);
	/* string.dump makes bytecode; nothing may load it, but drop it anyway */
	lua_getglobal(L, LUA_STRLIBNAME);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);

	lua_newtable(L); /* the sandbox _ENV */
	lua_pushglobaltable(L);
	for (const char *const *n = base_allowed; *n; n++) {
		lua_getfield(L, -1, *n);
		lua_setfield(L, -3, *n);
	}
	for (const char *const *n = libs_allowed; *n; n++) {
		lua_getfield(L, -1, *n);
		lua_setfield(L, -3, *n);
	}
	lua_getfield(L, -1, "setmetatable");
	lua_pushcclosure(L, safe_setmetatable, 1);
	lua_setfield(L, -3, "setmetatable");
	lua_pop(L, 1);

	lua_pushcfunction(L, runbook_decl);
	lua_setfield(L, -2, "runbook");
	lua_pushcfunction(L, lua_require);
	lua_setfield(L, -2, "require");
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &loaded_key);
	pgha_lua_open_patroni(L);
	lua_setfield(L, -2, "patroni");
	pgha_lua_open_pg(L);
	lua_setfield(L, -2, "pg");
	pgha_lua_open_etcd(L);
	lua_setfield(L, -2, "etcd");
	pgha_lua_open_fs(L);
	lua_setfield(L, -2, "fs");
	luaL_newlib(L, log_lib);
	lua_setfield(L, -2, "log");
	luaL_newlib(L, json_lib);
	lua_pushlightuserdata(L, (void *)&null_key);
	lua_setfield(L, -2, "null");
	lua_setfield(L, -2, "json");
	luaL_newlib(L, time_lib);
	lua_setfield(L, -2, "time");
	luaL_newlib(L, wait_lib);
	lua_setfield(L, -2, "wait");
	lua_newtable(L);
	pgha_lua_set_mutating(L, "exec", "run", exec_run);
	lua_setfield(L, -2, "exec");
	const char *t = getenv("PGHA_ENGINE_TEST");
	if (t && strcmp(t, "1") == 0) {
		lua_newtable(L);
		pgha_lua_set_mutating(L, "test", "mutate", test_mutate);
		lua_setfield(L, -2, "test");
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, -2, "_G");
	lua_rawsetp(L, LUA_REGISTRYINDEX, &env_key);
	return 0;
}

/* An error outside any protected call (only the engine's own small
 * pushes can raise there, e.g. out of memory): say so before abort(). */
static int panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);
	fprintf(stderr, "pgha: fatal: unprotected Lua error: %s\n", msg ? msg : "?");
	return 0;
}

struct pgha_lua *pgha_lua_new(size_t mem_cap, pgha_lua_log_fn log, void *log_ud)
{
	struct pgha_lua *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->cap = mem_cap ? mem_cap : PGHA_LUA_MEM_CAP;
	h->log = log;
	h->log_ud = log_ud;
	h->L = lua_newstate(host_alloc, h);
	if (!h->L) {
		free(h);
		return NULL;
	}
	lua_State *L = h->L;
	lua_atpanic(L, panic);
	lua_pushcfunction(L, setup);
	if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
		lua_close(L);
		free(h);
		return NULL;
	}
	lua_pushlightuserdata(L, h);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &host_key);
	pgha_lua_phase(h, "load", false, "loading a runbook changes nothing");
	pgha_lua_budget(h, 0, "runbook");
	lua_sethook(L, count_hook, LUA_MASKCOUNT, 1000);
	return h;
}

void pgha_lua_free(struct pgha_lua *h)
{
	if (!h)
		return;
	/* nothing of the runbook should run now; bound it all the same */
	pgha_lua_phase(h, "closing", false, "the run is over");
	pgha_lua_budget(h, 2, "closing the runbook");
	lua_close(h->L);
	free(h);
}

lua_State *pgha_lua_state(struct pgha_lua *h) { return h->L; }
size_t pgha_lua_mem_used(const struct pgha_lua *h) { return h->used; }
size_t pgha_lua_mem_cap(const struct pgha_lua *h) { return h->cap; }

void pgha_lua_push_env(struct pgha_lua *h)
{
	lua_rawgetp(h->L, LUA_REGISTRYINDEX, &env_key);
}

void pgha_lua_phase(struct pgha_lua *h, const char *phase, bool may_mutate, const char *why)
{
	lua_State *L = h->L;
	lua_pushboolean(L, may_mutate);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &mutate_key);
	lua_pushstring(L, phase);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &phase_key);
	lua_pushstring(L, why ? why : "");
	lua_rawsetp(L, LUA_REGISTRYINDEX, &why_key);
}

void pgha_lua_budget(struct pgha_lua *h, double seconds, const char *what)
{
	lua_State *L = h->L;
	lua_Integer d = seconds > 0 ? (lua_Integer)(pgha_now_ms() + (int64_t)(seconds * 1000.0)) : 0;
	lua_pushinteger(L, d);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &deadline_key);
	if (seconds > 0)
		lua_pushfstring(L, "%s (%f s)", what, seconds);
	else
		lua_pushstring(L, what);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &what_key);
}

int pgha_lua_pcall(struct pgha_lua *h, int nargs, int nresults, char *err, size_t errlen)
{
	lua_State *L = h->L;
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	int rc = lua_pcall(L, nargs, nresults, base);
	if (rc != LUA_OK) {
		const char *msg = lua_tostring(L, -1);
		if (rc == LUA_ERRMEM)
			pgha_errf(err, errlen, "memory cap of %zu bytes exceeded (%s)", h->cap,
				  msg ? msg : "not enough memory");
		else
			pgha_errf(err, errlen, "%s", msg ? msg : "(no message)");
		lua_pop(L, 2); /* message and handler */
		lua_gc(L, LUA_GCCOLLECT);
		return rc;
	}
	lua_remove(L, base);
	return rc;
}

/* Read path and push it as a text chunk named "@path" whose _ENV is the
 * sandbox's. Returns 0, or PGHA_E_IO / PGHA_E_INVALID / PGHA_E_NOMEM with
 * err set and nothing pushed. */
static int load_text(struct pgha_lua *h, const char *path, char *err, size_t errlen)
{
	lua_State *L = h->L;
	FILE *f = fopen(path, "rb");
	if (!f) {
		pgha_errf(err, errlen, "could not open file \"%s\": %s", path, strerror(errno));
		return PGHA_E_IO;
	}
	char *text = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			if (cap >= 4 * 1024 * 1024) {
				free(text);
				fclose(f);
				pgha_errf(err, errlen, "\"%s\" is larger than 4 MiB", path);
				return PGHA_E_INVALID;
			}
			cap = cap ? cap * 2 : 16384;
			char *n = realloc(text, cap);
			if (!n) {
				free(text);
				fclose(f);
				pgha_errf(err, errlen, "out of memory");
				return PGHA_E_NOMEM;
			}
			text = n;
		}
		size_t got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(text);
		pgha_errf(err, errlen, "could not read file \"%s\"", path);
		return PGHA_E_IO;
	}
	lua_pushfstring(L, "@%s", path);
	int rc = luaL_loadbufferx(L, text, len, lua_tostring(L, -1), "t");
	free(text);
	lua_remove(L, -2);
	if (rc != LUA_OK) {
		pgha_errf(err, errlen, "%s", lua_tostring(L, -1));
		lua_pop(L, 1);
		return PGHA_E_INVALID;
	}
	pgha_lua_push_env(h);
	lua_setupvalue(L, -2, 1);
	return 0;
}

int pgha_lua_dofile(struct pgha_lua *h, const char *path, char *err, size_t errlen)
{
	/* the runbook's own library directory: <its dir>/../lua */
	if (!h->lib_dir[0]) {
		const char *slash = strrchr(path, '/');
		if (slash)
			snprintf(h->lib_dir, sizeof h->lib_dir, "%.*s/../lua", (int)(slash - path), path);
		else
			snprintf(h->lib_dir, sizeof h->lib_dir, "../lua");
	}
	int rc = load_text(h, path, err, errlen);
	if (rc != 0)
		return rc;
	if (pgha_lua_pcall(h, 0, 1, err, errlen) != LUA_OK)
		return PGHA_E_INVALID;
	return 0;
}

/* --- require ------------------------------------------------------------- */

/* Try dir/name.lua: 1 found (chunk pushed), 0 absent, raises on a broken
 * file. */
static int require_try(lua_State *L, struct pgha_lua *h, const char *dir, size_t dirlen,
		       const char *name)
{
	char path[4096], err[1024];
	snprintf(path, sizeof path, "%.*s/%s.lua", (int)dirlen, dir, name);
	if (access(path, R_OK) != 0)
		return 0;
	if (load_text(h, path, err, sizeof err) != 0)
		luaL_error(L, "require \"%s\": %s", name, err);
	return 1;
}

/* require(name): a library of the runbook library (lua/NAME.lua), looked up
 * in $PGHA_LUA_PATH (colon-separated), then <runbook dir>/../lua, then
 * PGHA_DATADIR/lua; run once with the sandbox _ENV, its result cached. */
static int lua_require(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	luaL_argcheck(L, name[0] && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name),
		      1, "a library name is lower-case letters, digits and _");
	lua_settop(L, 1);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &loaded_key);
	if (lua_getfield(L, 2, name) != LUA_TNIL)
		return 1;
	lua_pop(L, 1);
	struct pgha_lua *h = host_of(L);
	int found = 0;
	const char *env = getenv("PGHA_LUA_PATH");
	for (const char *p = env; p && *p && !found;) {
		size_t n = strcspn(p, ":");
		if (n)
			found = require_try(L, h, p, n, name);
		p += n + (p[n] == ':');
	}
	if (!found && h->lib_dir[0])
		found = require_try(L, h, h->lib_dir, strlen(h->lib_dir), name);
	if (!found)
		found = require_try(L, h, PGHA_DATADIR "/lua", strlen(PGHA_DATADIR "/lua"), name);
	if (!found)
		return luaL_error(L, "require \"%s\": no %s.lua in $PGHA_LUA_PATH, %s or %s",
				  name, name, h->lib_dir[0] ? h->lib_dir : "(no runbook dir)",
				  PGHA_DATADIR "/lua");
	lua_pushstring(L, name);
	lua_call(L, 1, 1);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_pushboolean(L, 1);
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, 2, name);
	return 1;
}
