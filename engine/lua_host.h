/*
 * lua_host.h: the sandboxed Lua 5.4 state a runbook runs in.
 *
 * One host (one lua_State) per run. The state comes from lua_newstate with
 * a counting allocator that refuses to grow past a cap; only base, table,
 * string, math and utf8 are opened, and the runbook sees a fresh _ENV built
 * from an allow-list plus the host modules (log, json, time, wait, exec,
 * patroni, pg, etcd, and test when PGHA_ENGINE_TEST=1) and require(), which
 * loads the runbook library (lua/NAME.lua). Chunks are loaded as text only.
 *
 * Two rules are enforced here rather than by each runbook:
 * - a time budget: a count hook (every 1000 instructions) raises an error
 *   once the deadline set by pgha_lua_budget() has passed; blocking host
 *   calls (time.sleep, wait.until, exec.run) clamp their own waits to it;
 * - mutation: host functions registered as mutating (exec.run,
 *   test.mutate) raise unless pgha_lua_phase() allowed mutation.
 *
 * Ownership: pgha_lua_new() returns a host freed by pgha_lua_free(), which
 * calls lua_close().
 */
#ifndef PGHA_LUA_HOST_H
#define PGHA_LUA_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#define PGHA_LUA_MEM_CAP (64u * 1024 * 1024) /* default memory cap, bytes */

/* $(pkgdatadir), defined by the build (AM_CPPFLAGS) */
#ifndef PGHA_DATADIR
#define PGHA_DATADIR "/usr/local/share/pgha"
#endif

/* Called for log.info/warn/error: level is "info", "warn" or "error". */
typedef void (*pgha_lua_log_fn)(void *ud, const char *level, const char *msg);

/* Called while wait.until polls with a `what`: what it waits for and the
 * seconds waited so far (for a progress line on a terminal). */
typedef void (*pgha_lua_progress_fn)(void *ud, const char *what, double elapsed);

struct pgha_clusterfile;

struct pgha_lua;

/* A new host with a memory cap in bytes; log may be NULL (stderr only).
 * Returns NULL when out of memory. */
struct pgha_lua *pgha_lua_new(size_t mem_cap, pgha_lua_log_fn log, void *log_ud);

void pgha_lua_free(struct pgha_lua *h);

/* The state; borrowed until pgha_lua_free(). */
lua_State *pgha_lua_state(struct pgha_lua *h);

/* Push the sandbox _ENV table (the one chunks are loaded with). */
void pgha_lua_push_env(struct pgha_lua *h);

/* Load path as a text chunk named "@path" with the sandbox _ENV and run it
 * (protected, within the current budget); on success its first result is
 * left on the stack. Returns 0, or PGHA_E_IO / PGHA_E_INVALID with the
 * message ("path:LINE: ...") in err. */
int pgha_lua_dofile(struct pgha_lua *h, const char *path, char *err, size_t errlen);

/* Set the phase name ("check", "run", ...) used in messages, and whether
 * mutating host calls are allowed; why is the rule shown when they are not
 * ("check and verify are read-only", "a dry-run changes nothing"). */
void pgha_lua_phase(struct pgha_lua *h, const char *phase, bool may_mutate, const char *why);

/* Start a time budget of seconds (<= 0: none) for what (e.g. `step
 * "promote"`), measured from now. */
void pgha_lua_budget(struct pgha_lua *h, double seconds, const char *what);

/* Milliseconds left in the budget; -1 when there is none. */
long long pgha_lua_budget_left_ms(lua_State *L);

/* lua_pcall with a traceback message handler. Returns the lua_pcall code;
 * on error the message (with traceback) is in err, the stack popped. */
int pgha_lua_pcall(struct pgha_lua *h, int nargs, int nresults, char *err, size_t errlen);

/* The cluster the host modules (patroni, pg, etcd) talk to; borrowed, must
 * outlive the host. NULL (the default): those modules raise when used. */
void pgha_lua_set_cluster(struct pgha_lua *h, const struct pgha_clusterfile *cf);

/* The cluster, or NULL; pgha_lua_check_cluster raises ("WHAT needs the
 * cluster: pass -c CLUSTERFILE") instead of returning NULL. */
const struct pgha_clusterfile *pgha_lua_cluster(lua_State *L);
const struct pgha_clusterfile *pgha_lua_check_cluster(lua_State *L, const char *what);

void pgha_lua_set_progress(struct pgha_lua *h, pgha_lua_progress_fn fn, void *ud);
void pgha_lua_report_progress(lua_State *L, const char *what, double elapsed);

/* Set module[name] (the table on top of the stack) to f wrapped so that it
 * raises unless the phase allows mutation. For host modules. */
void pgha_lua_set_mutating(lua_State *L, const char *module, const char *name, lua_CFunction f);

/* Interruption (SIGINT, SIGTERM): pgha_lua_interrupt() is async-signal
 * safe and makes the count hook, sleeps and waits raise "interrupted by
 * signal N"; host calls that block should call
 * pgha_lua_raise_if_interrupted() when they wake up. */
void pgha_lua_interrupt(int signo);
int pgha_lua_interrupted(void); /* the signal, -1 without one, 0 if not */
void pgha_lua_raise_if_interrupted(lua_State *L);

/* JSON for the host modules, as json.decode and json.encode do it.
 * pgha_lua_push_json pushes j (objects -> tables, arrays -> sequences,
 * null -> json.null); it raises past 64 levels or out of memory, so the
 * caller must own j where a raise cannot leak it. pgha_lua_to_json returns
 * a new tree for the value at idx (caller frees with cJSON_Delete; an
 * empty table is an empty array), or NULL with a message pushed for what
 * JSON cannot hold. */
struct cJSON;
void pgha_lua_push_json(lua_State *L, const struct cJSON *j);
struct cJSON *pgha_lua_to_json(lua_State *L, int idx);

/* Bytes the state holds now, and its cap. */
size_t pgha_lua_mem_used(const struct pgha_lua *h);
size_t pgha_lua_mem_cap(const struct pgha_lua *h);

#endif
