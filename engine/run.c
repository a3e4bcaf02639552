/*
 * run.c: `pgha run`, `pgha runbooks`, `pgha show`. See run.h and
 * docs/runbooks.md.
 *
 * A step goes check (read-only) -> gate -> run -> verify (polled until
 * true or the step's timeout), with retries of run + verify. Mutation is
 * allowed by the host only while run or undo executes outside a dry-run.
 * A failure undoes the completed steps in reverse; a step without undo
 * stops the rollback and the engine says what is left to do by hand.
 *
 * Hooks for the next slice: the etcd lock is taken in lock_acquire()
 * before the first mutating step, resume would start exec_steps() at the
 * first unfinished step after re-running its check.
 */
#define _DEFAULT_SOURCE
#include <config.h>

#include "run.h"

#include "buf.h"
#include "clusterfile.h"
#include "error.h"
#include "journal.h"
#include "lua_host.h"
#include "runbook.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#define MAX_DIRS 16
#define ERRS_LIMIT (64 * 1024)

struct run {
	struct pgha_lua *h;
	struct pgha_runbook rb;
	struct pgha_journal *j;
	struct pgha_clusterfile cf;
	bool have_cf, dry_run, yes;
	int tty;         /* /dev/tty, -1 until opened */
	int ctx_ref;     /* the ctx table in the registry */
	char run_id[64];
	char sha[65];
	size_t n_steps;
};

/* --- journal helpers ----------------------------------------------------- */

static void jlog(struct run *r, const char *event, cJSON *rec)
{
	if (!r->j) {
		cJSON_Delete(rec);
		return;
	}
	if (pgha_journal_write(r->j, event, rec) != 0)
		fprintf(stderr, "pgha: warning: could not write the journal \"%s\": %s\n",
			pgha_journal_path(r->j), strerror(errno));
}

static cJSON *jstep(size_t i, const char *name)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "step", (double)(i + 1));
	cJSON_AddStringToObject(o, "name", name);
	return o;
}

static void host_log(void *ud, const char *level, const char *msg)
{
	struct run *r = ud;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "level", level);
	cJSON_AddStringToObject(o, "message", msg);
	jlog(r, "log", o);
}

/* --- calling step functions ---------------------------------------------- */

/* Print a Lua error: the first line, then the traceback indented. */
static void print_error(const char *prefix, const char *msg)
{
	const char *nl = strchr(msg, '\n');
	if (!nl) {
		fprintf(stderr, "pgha: %s: %s\n", prefix, msg);
		return;
	}
	fprintf(stderr, "pgha: %s: %.*s\n", prefix, (int)(nl - msg), msg);
	for (const char *p = nl + 1; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		fprintf(stderr, "    %.*s\n", (int)n, p);
		p += n + (e ? 1 : 0);
	}
}

enum outcome { RAISED = -1, FALSY = 0, TRUTHY = 1 };

/* Call steps[i][field](ctx) within seconds, in phase, mutation allowed or
 * not. TRUTHY/FALSY by the first result (msg gets a second result, if
 * any, and *has_msg says whether there was one), RAISED with the error. */
static enum outcome call_step(struct run *r, size_t i, const char *field, bool mutate,
			      const char *why, double seconds, char *msg, size_t msglen,
			      bool *has_msg)
{
	lua_State *L = pgha_lua_state(r->h);
	const struct pgha_rb_step *s = &r->rb.steps[i];
	char what[512];
	snprintf(what, sizeof what, "step \"%s\" %s", s->name, field);
	msg[0] = '\0';
	if (has_msg)
		*has_msg = false;
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->rb.ref);
	lua_getfield(L, -1, "steps");
	lua_rawgeti(L, -1, (lua_Integer)i + 1);
	lua_getfield(L, -1, field);
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->ctx_ref);
	lua_pushstring(L, s->name);
	lua_setfield(L, -2, "step");
	pgha_lua_phase(r->h, what, mutate, why);
	pgha_lua_budget(r->h, seconds, what);
	int rc = pgha_lua_pcall(r->h, 1, 2, msg, msglen);
	pgha_lua_budget(r->h, 0, "runbook");
	pgha_lua_phase(r->h, "the engine", false, "only run and undo may mutate");
	if (rc != LUA_OK) {
		lua_pop(L, 3);
		return RAISED;
	}
	enum outcome o = lua_toboolean(L, -2) ? TRUTHY : FALSY;
	if (!lua_isnil(L, -1)) {
		snprintf(msg, msglen, "%s", luaL_tolstring(L, -1, NULL));
		lua_pop(L, 1);
		if (has_msg)
			*has_msg = true;
	} else if (o == FALSY && lua_type(L, -2) == LUA_TNIL)
		snprintf(msg, msglen, "returned nil");
	else if (o == FALSY)
		snprintf(msg, msglen, "returned false");
	lua_pop(L, 5);
	return o;
}

/* run and undo fail when they raise, return false, or return nil and a
 * message; returning nothing is success. */
static bool action_ok(struct run *r, size_t i, const char *field, char *msg, size_t msglen)
{
	bool has_msg;
	enum outcome o = call_step(r, i, field, true, "", r->rb.steps[i].timeout, msg, msglen, &has_msg);
	if (o == RAISED)
		return false;
	if (o == TRUTHY)
		return true;
	return !(has_msg || strcmp(msg, "returned false") == 0);
}

/* Poll verify until true or the step's timeout. */
static bool verify_ok(struct run *r, size_t i, char *msg, size_t msglen)
{
	const struct pgha_rb_step *s = &r->rb.steps[i];
	int64_t end = (int64_t)(s->timeout * 1000.0);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		int64_t used = (int64_t)(t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		int64_t left = end - used;
		if (left <= 0) {
			/* prefix the last message from verify */
			char pre[128];
			int pl = snprintf(pre, sizeof pre, "verify did not pass within %g s%s", s->timeout,
					  msg[0] ? ": " : "");
			size_t ml = strlen(msg);
			if (pl < 0 || (size_t)pl + 1 >= msglen)
				return false;
			if ((size_t)pl + ml + 1 > msglen)
				ml = msglen - (size_t)pl - 1;
			memmove(msg + pl, msg, ml);
			memcpy(msg, pre, (size_t)pl);
			msg[(size_t)pl + ml] = '\0';
			return false;
		}
		enum outcome o = call_step(r, i, "verify", false, "check and verify are read-only",
					   (double)left / 1000.0, msg, msglen, NULL);
		if (o == TRUTHY)
			return true;
		if (o == RAISED)
			return false;
		double nap = s->interval * 1000.0 < (double)left ? s->interval : (double)left / 1000.0;
		struct timespec ts = { (time_t)nap, (long)((nap - (double)(time_t)nap) * 1e9) };
		nanosleep(&ts, NULL);
	}
}

/* --- gates --------------------------------------------------------------- */

static bool open_tty(struct run *r)
{
	if (r->tty < 0)
		r->tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	return r->tty >= 0;
}

static void tty_puts(struct run *r, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(r->tty, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Read one line from the terminal (without the newline); false at EOF. */
static bool tty_line(struct run *r, char *out, size_t outlen)
{
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t got = read(r->tty, &c, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			out[n] = '\0';
			return n > 0;
		}
		if (c == '\n' || c == '\r')
			break;
		if (n + 1 < outlen)
			out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

/* The word a type_word gate wants, into word (empty when none); false
 * (msg set) when its function failed. */
static bool gate_word(struct run *r, size_t i, char *word, size_t wordlen, char *msg, size_t msglen)
{
	lua_State *L = pgha_lua_state(r->h);
	word[0] = '\0';
	if (!r->rb.steps[i].type_word)
		return true;
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->rb.ref);
	lua_getfield(L, -1, "steps");
	lua_rawgeti(L, -1, (lua_Integer)i + 1);
	lua_getfield(L, -1, "gate");
	lua_getfield(L, -1, "type_word");
	if (lua_isfunction(L, -1)) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, r->ctx_ref);
		pgha_lua_phase(r->h, "a gate", false, "gates are read-only");
		pgha_lua_budget(r->h, 5, "a gate's type_word");
		int rc = pgha_lua_pcall(r->h, 1, 1, msg, msglen);
		pgha_lua_budget(r->h, 0, "runbook");
		if (rc != LUA_OK) {
			lua_pop(L, 4);
			return false;
		}
	}
	const char *w = lua_tostring(L, -1);
	if (!w || !*w) {
		snprintf(msg, msglen, "step \"%s\": gate.type_word gave no word", r->rb.steps[i].name);
		lua_pop(L, 5);
		return false;
	}
	snprintf(word, wordlen, "%s", w);
	lua_pop(L, 5);
	return true;
}

/* Ask on the terminal. Returns true when confirmed; answer gets what was
 * typed (for the journal). */
static bool ask(struct run *r, const char *text, const char *word, char *answer, size_t answerlen)
{
	char prompt[4096];
	if (word[0])
		snprintf(prompt, sizeof prompt, "\n%s\nType \"%s\" to proceed, anything else stops: ",
			 text, word);
	else
		snprintf(prompt, sizeof prompt, "\n%s\nProceed? [y/N] ", text);
	tty_puts(r, prompt);
	if (!tty_line(r, answer, answerlen)) {
		snprintf(answer, answerlen, "(end of input)");
		return false;
	}
	if (word[0])
		return strcmp(answer, word) == 0;
	return strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 || strcmp(answer, "yes") == 0;
}

/* --- rollback ------------------------------------------------------------ */

/* Undo steps done-1 .. 0. Returns true when all were undone. */
static bool rollback(struct run *r, size_t done)
{
	if (done == 0)
		return true;
	fprintf(stderr, "pgha: rolling back %zu step(s) in reverse order\n", done);
	jlog(r, "rollback_start", cJSON_CreateObject());
	for (size_t k = done; k-- > 0;) {
		const struct pgha_rb_step *s = &r->rb.steps[k];
		char msg[4096];
		const char *stop = NULL;
		if (!s->has_undo)
			stop = "it has no undo";
		else if (!r->yes) {
			char text[1024], answer[256];
			snprintf(text, sizeof text, "Undo step %zu \"%s\"?", k + 1, s->name);
			bool yes = open_tty(r) && ask(r, text, "", answer, sizeof answer);
			cJSON *o = jstep(k, s->name);
			cJSON_AddStringToObject(o, "gate", "undo");
			cJSON_AddStringToObject(o, "answer", r->tty >= 0 ? answer : "(no terminal)");
			cJSON_AddBoolToObject(o, "confirmed", yes);
			jlog(r, "gate", o);
			if (!yes)
				stop = "its undo was not confirmed";
		}
		if (!stop) {
			fprintf(stderr, "pgha: undo step %zu/%zu \"%s\"\n", k + 1, r->n_steps, s->name);
			bool ok = action_ok(r, k, "undo", msg, sizeof msg);
			cJSON *o = jstep(k, s->name);
			cJSON_AddBoolToObject(o, "ok", ok);
			if (!ok)
				cJSON_AddStringToObject(o, "error", msg);
			jlog(r, "undo", o);
			if (ok)
				continue;
			print_error("undo failed", msg);
			stop = "its undo failed";
		}
		fprintf(stderr, "pgha: rollback stopped at step %zu \"%s\": %s\n", k + 1, s->name, stop);
		fprintf(stderr, "pgha: left to do by hand, in this order:");
		for (size_t m = k + 1; m-- > 0;)
			fprintf(stderr, " undo \"%s\"%s", r->rb.steps[m].name, m ? "," : "\n");
		cJSON *o = jstep(k, s->name);
		cJSON_AddStringToObject(o, "reason", stop);
		jlog(r, "rollback_stopped", o);
		return false;
	}
	jlog(r, "rollback_end", cJSON_CreateObject());
	return true;
}

static int finish(struct run *r, int code, const char *state)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddNumberToObject(o, "exit", code);
	jlog(r, "end", o);
	return code;
}

/* After a failure with done steps completed. */
static int fail(struct run *r, size_t done)
{
	if (rollback(r, done)) {
		fprintf(stderr, "pgha: run %s failed%s\n", r->run_id,
			done ? "; every completed step was undone" : "; nothing had been changed");
		return finish(r, PGHA_RUN_ROLLED_BACK, "rolled_back");
	}
	fprintf(stderr, "pgha: run %s failed and NEEDS A HUMAN: the rollback is incomplete (journal: %s)\n",
		r->run_id, r->j ? pgha_journal_path(r->j) : "none");
	return finish(r, PGHA_RUN_NEEDS_HUMAN, "needs_human");
}

/* Hook for the next slice: the etcd lock for the cluster scope. */
static int lock_acquire(struct run *r)
{
	(void)r;
	return 0;
}

/* --- the plan (dry-run) and the run -------------------------------------- */

static int dry_run(struct run *r)
{
	int failed = 0;
	printf("plan: %s %s (%zu steps), run %s, dry-run: nothing will be changed\n",
	       r->rb.name, r->rb.version, r->n_steps, r->run_id);
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct pgha_rb_step *s = &r->rb.steps[i];
		char msg[4096], word[256];
		printf("step %zu/%zu %s\n", i + 1, r->n_steps, s->name);
		if (s->has_check) {
			enum outcome o = call_step(r, i, "check", false,
						   "a dry-run changes nothing; check and verify are read-only",
						   s->timeout, msg, sizeof msg, NULL);
			const char *nl = strchr(msg, '\n');
			int len = nl ? (int)(nl - msg) : (int)strlen(msg);
			if (o == TRUTHY)
				printf("  check: ok%s%.*s\n", msg[0] ? ": " : "", len, msg);
			else
				printf("  check: FAILED: %.*s\n", len, msg);
			if (o == RAISED)
				print_error("check raised", msg);
			cJSON *j = jstep(i, s->name);
			cJSON_AddBoolToObject(j, "ok", o == TRUTHY);
			cJSON_AddStringToObject(j, "message", msg);
			jlog(r, "check", j);
			if (o != TRUTHY)
				failed++;
		} else
			printf("  check: none\n");
		if (s->gate) {
			if (!gate_word(r, i, word, sizeof word, msg, sizeof msg)) {
				printf("  gate: %s (type_word FAILED: %s)\n", s->gate, msg);
				failed++;
			} else if (word[0])
				printf("  gate: %s (type \"%s\" to confirm)\n", s->gate, word);
			else
				printf("  gate: %s\n", s->gate);
		}
		printf("  then:%s%s%s\n", s->has_run ? " run" : "", s->has_verify ? " verify" : "",
		       s->has_undo ? " (undo available)" : " (no undo)");
	}
	if (failed) {
		printf("plan: %d check(s) failed: the run would stop\n", failed);
		return finish(r, PGHA_RUN_REFUSED, "dry_run_failed");
	}
	printf("plan: every check passed\n");
	return finish(r, PGHA_RUN_OK, "dry_run_ok");
}

static int exec_steps(struct run *r)
{
	size_t done = 0;
	if (!r->yes) {
		for (size_t i = 0; i < r->n_steps; i++)
			if (r->rb.steps[i].gate && !open_tty(r)) {
				fprintf(stderr, "pgha: step %zu \"%s\" asks for confirmation but there is no "
					"terminal (/dev/tty): run on a terminal, or pass --yes; "
					"nothing was run\n", i + 1, r->rb.steps[i].name);
				cJSON *o = jstep(i, r->rb.steps[i].name);
				cJSON_AddStringToObject(o, "reason", "no terminal and no --yes");
				jlog(r, "refused", o);
				return finish(r, PGHA_RUN_REFUSED, "refused");
			}
	}
	if (lock_acquire(r) != 0)
		return finish(r, PGHA_RUN_REFUSED, "refused");
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct pgha_rb_step *s = &r->rb.steps[i];
		char msg[8192];
		fprintf(stderr, "pgha: step %zu/%zu \"%s\"\n", i + 1, r->n_steps, s->name);
		jlog(r, "step_start", jstep(i, s->name));
		if (s->has_check) {
			enum outcome o = call_step(r, i, "check", false, "check and verify are read-only",
						   s->timeout, msg, sizeof msg, NULL);
			cJSON *j = jstep(i, s->name);
			cJSON_AddBoolToObject(j, "ok", o == TRUTHY);
			cJSON_AddStringToObject(j, "message", msg);
			jlog(r, "check", j);
			if (o != TRUTHY) {
				char pre[600];
				snprintf(pre, sizeof pre, "step %zu \"%s\": check failed", i + 1, s->name);
				print_error(pre, msg);
				if (done == 0) {
					fprintf(stderr, "pgha: refused: a pre-condition does not hold; nothing was changed\n");
					return finish(r, PGHA_RUN_REFUSED, "refused");
				}
				return fail(r, done);
			}
		}
		if (s->gate) {
			char word[256], answer[256];
			bool yes;
			if (!gate_word(r, i, word, sizeof word, msg, sizeof msg)) {
				print_error("gate", msg);
				return done ? fail(r, done) : finish(r, PGHA_RUN_REFUSED, "refused");
			}
			if (r->yes) {
				yes = true;
				snprintf(answer, sizeof answer, "--yes");
				fprintf(stderr, "pgha: gate confirmed by --yes: %s\n", s->gate);
			} else
				yes = ask(r, s->gate, word, answer, sizeof answer);
			cJSON *j = jstep(i, s->name);
			cJSON_AddStringToObject(j, "answer", answer);
			cJSON_AddBoolToObject(j, "confirmed", yes);
			jlog(r, "gate", j);
			if (!yes) {
				fprintf(stderr, "pgha: step %zu \"%s\" declined at its gate: stopping\n",
					i + 1, s->name);
				if (rollback(r, done))
					return finish(r, PGHA_RUN_REFUSED, "declined");
				return finish(r, PGHA_RUN_NEEDS_HUMAN, "needs_human");
			}
		}
		bool ok = false, ran = false;
		for (int attempt = 0; attempt <= s->retries && !ok; attempt++) {
			if (attempt > 0)
				fprintf(stderr, "pgha: step %zu \"%s\": retry %d of %d\n", i + 1, s->name,
					attempt, s->retries);
			ok = !s->has_run || action_ok(r, i, "run", msg, sizeof msg);
			if (ok && s->has_run)
				ran = true;
			if (ok && s->has_verify)
				ok = verify_ok(r, i, msg, sizeof msg);
			if (!ok) {
				char pre[600];
				snprintf(pre, sizeof pre, "step %zu \"%s\" failed", i + 1, s->name);
				print_error(pre, msg);
				cJSON *j = jstep(i, s->name);
				cJSON_AddNumberToObject(j, "attempt", attempt + 1);
				cJSON_AddStringToObject(j, "error", msg);
				jlog(r, "error", j);
			}
		}
		cJSON *j = jstep(i, s->name);
		cJSON_AddBoolToObject(j, "ok", ok);
		jlog(r, "step_end", j);
		/* a step whose run succeeded but whose verify did not has
		 * changed things: its own undo runs first */
		if (!ok)
			return fail(r, ran ? done + 1 : done);
		done++;
	}
	fprintf(stderr, "pgha: run %s of %s %s: all %zu steps done\n", r->run_id, r->rb.name,
		r->rb.version, r->n_steps);
	return finish(r, PGHA_RUN_OK, "success");
}

/* --- set-up -------------------------------------------------------------- */

static void push_ctx(struct run *r)
{
	lua_State *L = pgha_lua_state(r->h);
	/* params table is on top */
	lua_newtable(L);
	lua_insert(L, -2);
	lua_setfield(L, -2, "params");
	lua_pushboolean(L, r->dry_run);
	lua_setfield(L, -2, "dry_run");
	lua_pushstring(L, r->run_id);
	lua_setfield(L, -2, "run_id");
	if (r->have_cf) {
		lua_newtable(L);
		lua_pushstring(L, r->cf.scope);
		lua_setfield(L, -2, "scope");
		lua_pushstring(L, r->cf.namespace ? r->cf.namespace : "/service");
		lua_setfield(L, -2, "namespace");
		lua_createtable(L, (int)r->cf.n_patroni, 0);
		for (size_t i = 0; i < r->cf.n_patroni; i++) {
			lua_pushstring(L, r->cf.patroni[i]);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		lua_setfield(L, -2, "patroni");
		lua_createtable(L, (int)r->cf.n_etcd, 0);
		for (size_t i = 0; i < r->cf.n_etcd; i++) {
			lua_pushstring(L, r->cf.etcd[i]);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		lua_setfield(L, -2, "etcd");
		lua_setfield(L, -2, "cluster");
	}
	r->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

static void journal_start(struct run *r, const char *cluster_file)
{
	lua_State *L = pgha_lua_state(r->h);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "runbook", r->rb.name);
	cJSON_AddStringToObject(o, "version", r->rb.version);
	cJSON_AddStringToObject(o, "file", r->rb.path);
	cJSON_AddStringToObject(o, "sha256", r->sha);
	cJSON_AddBoolToObject(o, "dry_run", r->dry_run);
	cJSON_AddBoolToObject(o, "yes", r->yes);
	if (cluster_file)
		cJSON_AddStringToObject(o, "cluster_file", cluster_file);
	if (r->have_cf)
		cJSON_AddStringToObject(o, "scope", r->cf.scope);
	cJSON *p = cJSON_AddObjectToObject(o, "params");
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->ctx_ref);
	lua_getfield(L, -1, "params");
	for (size_t i = 0; i < r->rb.n_params; i++) {
		const char *name = r->rb.params[i].name;
		int t = lua_getfield(L, -1, name);
		if (t == LUA_TNIL)
			cJSON_AddNullToObject(p, name);
		else if (pgha_journal_is_secret(name))
			cJSON_AddStringToObject(p, name, "********");
		else if (t == LUA_TBOOLEAN)
			cJSON_AddBoolToObject(p, name, lua_toboolean(L, -1));
		else if (t == LUA_TNUMBER)
			cJSON_AddNumberToObject(p, name, lua_tonumber(L, -1));
		else
			cJSON_AddStringToObject(p, name, lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
	struct passwd *pw = getpwuid(geteuid());
	cJSON_AddStringToObject(o, "user", pw ? pw->pw_name : "?");
	cJSON_AddNumberToObject(o, "uid", (double)geteuid());
	char host[256];
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "?");
	host[sizeof host - 1] = '\0';
	cJSON_AddStringToObject(o, "host", host);
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	jlog(r, "start", o);
}

struct opts {
	const char *dirs[MAX_DIRS];
	size_t n_dirs;
	const char *cluster_file, *journal_dir;
	bool dry_run, yes;
	char **rest;
	int n_rest;
};

/* Parse options anywhere among the positional arguments (kept in order in
 * argv itself). Returns 0 or -1 (message printed). */
static int parse_opts(int argc, char **argv, struct opts *o, bool run_opts)
{
	memset(o, 0, sizeof *o);
	o->rest = argv + 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (strcmp(a, "--runbook-dir") == 0 || (run_opts && (strcmp(a, "-c") == 0 ||
		    strcmp(a, "--cluster-file") == 0 || strcmp(a, "--journal-dir") == 0))) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pgha %s: option %s needs a value\n", argv[0], a);
				return -1;
			}
			val = argv[++i];
			if (strcmp(a, "--runbook-dir") == 0) {
				if (o->n_dirs == MAX_DIRS) {
					fprintf(stderr, "pgha %s: too many --runbook-dir\n", argv[0]);
					return -1;
				}
				o->dirs[o->n_dirs++] = val;
			} else if (strcmp(a, "--journal-dir") == 0)
				o->journal_dir = val;
			else
				o->cluster_file = val;
		} else if (run_opts && strcmp(a, "--dry-run") == 0)
			o->dry_run = true;
		else if (run_opts && (strcmp(a, "--yes") == 0 || strcmp(a, "-y") == 0))
			o->yes = true;
		else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "pgha %s: unknown option \"%s\"\nTry 'pgha %s --help'.\n",
				argv[0], a, argv[0]);
			return -1;
		} else
			o->rest[o->n_rest++] = argv[i];
	}
	return 0;
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}

static char *env_path_copy(void)
{
	const char *e = getenv("PGHA_RUNBOOK_PATH");
	if (!e)
		return NULL;
	size_t n = strlen(e) + 1;
	char *c = malloc(n);
	if (c)
		memcpy(c, e, n);
	return c;
}

static void print_errs(const struct pgha_buf *errs)
{
	const char *s = pgha_buf_str(errs);
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		fprintf(stderr, "pgha: %.*s\n", (int)n, s);
		s += n + (nl ? 1 : 0);
	}
}

/* Find and load name into a new host. Returns 0 or the exit code. */
static int open_runbook(const struct opts *o, const char *name, struct pgha_lua **hp,
			struct pgha_runbook *rb, pgha_lua_log_fn log, void *ud)
{
	struct pgha_rb_path path;
	char *envp = env_path_copy();
	pgha_rb_path_init(&path, o->dirs, o->n_dirs, envp);
	char file[4096], err[1024];
	int rc = pgha_rb_find(&path, name, file, sizeof file, err, sizeof err);
	free(envp);
	if (rc != 0) {
		fprintf(stderr, "pgha: %s\n", err);
		return PGHA_RUN_USAGE;
	}
	*hp = pgha_lua_new(PGHA_LUA_MEM_CAP, log, ud);
	if (!*hp) {
		fprintf(stderr, "pgha: out of memory\n");
		return PGHA_RUN_USAGE;
	}
	struct pgha_buf errs;
	pgha_buf_init(&errs, ERRS_LIMIT);
	rc = pgha_runbook_load(*hp, file, rb, &errs);
	if (rc != 0) {
		fprintf(stderr, "pgha: invalid runbook \"%s\":\n", file);
		print_errs(&errs);
		pgha_buf_free(&errs);
		return PGHA_RUN_USAGE;
	}
	pgha_buf_free(&errs);
	return 0;
}

/* --- pgha run ------------------------------------------------------------ */

void pgha_run_help(void)
{
	fputs("Usage: pgha run RUNBOOK [NAME=VALUE ...] [-c CLUSTERFILE] [--dry-run] [--yes]\n"
	      "                [--journal-dir DIR] [--runbook-dir DIR]\n\n"
	      "Run a runbook step by step: check, gate (confirmed on /dev/tty), run, verify;\n"
	      "on failure the completed steps are undone in reverse order.\n\n"
	      "  -c, --cluster-file FILE  the cluster (ctx.cluster in the runbook)\n"
	      "  --dry-run                run the checks only and print the plan\n"
	      "  -y, --yes                confirm every gate in advance\n"
	      "  --journal-dir DIR        where the run's journal goes (default\n"
	      "                           $XDG_STATE_HOME/pgha/journal, /var/lib/pgha/journal\n"
	      "                           for root, else ~/.local/state/pgha/journal)\n"
	      "  --runbook-dir DIR        look for RUNBOOK.lua in DIR first (repeatable;\n"
	      "                           then $PGHA_RUNBOOK_PATH, then " PGHA_DATADIR "/runbooks)\n\n"
	      "Exit: 0 success, 1 failed and rolled back, 2 failed and needs a human,\n"
	      "3 refused (gate declined, no terminal without --yes, a check failed),\n"
	      "4 usage or invalid runbook. See docs/runbooks.md.\n", stdout);
}

int pgha_run_main(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		pgha_run_help();
		return 0;
	}
	struct opts o;
	if (parse_opts(argc, argv, &o, true) != 0)
		return PGHA_RUN_USAGE;
	if (o.n_rest < 1) {
		fprintf(stderr, "pgha run: which runbook? Try 'pgha run --help'.\n");
		return PGHA_RUN_USAGE;
	}
	struct run r;
	memset(&r, 0, sizeof r);
	r.tty = -1;
	r.ctx_ref = LUA_NOREF;
	r.dry_run = o.dry_run;
	r.yes = o.yes;
	r.rb.ref = LUA_NOREF;
	int code = open_runbook(&o, o.rest[0], &r.h, &r.rb, host_log, &r);
	struct pgha_buf errs;
	pgha_buf_init(&errs, ERRS_LIMIT);
	char err[4096];
	if (code != 0)
		goto out;
	r.n_steps = r.rb.n_steps;
	code = PGHA_RUN_USAGE;
	if (pgha_sha256_file(r.rb.path, r.sha, err, sizeof err) != 0) {
		fprintf(stderr, "pgha: %s\n", err);
		goto out;
	}
	if (o.cluster_file) {
		if (pgha_clusterfile_load(o.cluster_file, &r.cf, err, sizeof err) != 0) {
			fprintf(stderr, "pgha: %s\n", err);
			goto out;
		}
		r.have_cf = true;
	}
	if (pgha_runbook_params(r.h, &r.rb, o.n_rest - 1, o.rest + 1, &errs) != 0) {
		fprintf(stderr, "pgha: invalid parameters for runbook \"%s\" (nothing was run):\n", r.rb.name);
		print_errs(&errs);
		goto out;
	}
	char jdir[4096];
	if (o.journal_dir)
		snprintf(jdir, sizeof jdir, "%s", o.journal_dir);
	else if (pgha_journal_default_dir(jdir, sizeof jdir) != 0) {
		fprintf(stderr, "pgha: no journal directory: set HOME or XDG_STATE_HOME, or pass --journal-dir\n");
		lua_pop(pgha_lua_state(r.h), 1);
		goto out;
	}
	if (pgha_journal_open(jdir, &r.j, r.run_id, sizeof r.run_id, err, sizeof err) != 0) {
		fprintf(stderr, "pgha: %s (nothing was run)\n", err);
		lua_pop(pgha_lua_state(r.h), 1);
		goto out;
	}
	push_ctx(&r);
	journal_start(&r, o.cluster_file);
	fprintf(stderr, "pgha: run %s: %s %s, journal %s\n", r.run_id, r.rb.name, r.rb.version,
		pgha_journal_path(r.j));
	code = r.dry_run ? dry_run(&r) : exec_steps(&r);
out:
	pgha_buf_free(&errs);
	pgha_journal_close(r.j);
	if (r.tty >= 0)
		close(r.tty);
	pgha_runbook_free(&r.rb);
	pgha_clusterfile_free(&r.cf);
	pgha_lua_free(r.h);
	return code;
}

/* --- pgha runbooks ------------------------------------------------------- */

void pgha_runbooks_help(void)
{
	fputs("Usage: pgha runbooks [--runbook-dir DIR]\n\n"
	      "List the runbooks in the search path: --runbook-dir (repeatable), then\n"
	      "$PGHA_RUNBOOK_PATH (colon-separated), then " PGHA_DATADIR "/runbooks.\n"
	      "The first RUNBOOK.lua found wins. Exit 4 if one is invalid.\n", stdout);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pgha_runbooks_main(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		pgha_runbooks_help();
		return 0;
	}
	struct opts o;
	if (parse_opts(argc, argv, &o, false) != 0)
		return PGHA_RUN_USAGE;
	if (o.n_rest) {
		fprintf(stderr, "pgha runbooks: unexpected argument \"%s\"\n", o.rest[0]);
		return PGHA_RUN_USAGE;
	}
	struct pgha_rb_path path;
	char *envp = env_path_copy();
	pgha_rb_path_init(&path, o.dirs, o.n_dirs, envp);
	char **names = NULL;
	size_t n = 0, cap = 0;
	int code = 0;
	for (size_t d = 0; d < path.n; d++) {
		DIR *dir = opendir(path.dirs[d]);
		if (!dir)
			continue;
		struct dirent *e;
		while ((e = readdir(dir))) {
			size_t len = strlen(e->d_name);
			if (len < 5 || strcmp(e->d_name + len - 4, ".lua") != 0 || e->d_name[0] == '.')
				continue;
			char *name = malloc(len - 3);
			if (!name)
				continue;
			memcpy(name, e->d_name, len - 4);
			name[len - 4] = '\0';
			bool seen = false;
			for (size_t k = 0; k < n && !seen; k++)
				seen = strcmp(names[k], name) == 0;
			if (seen) {
				free(name);
				continue;
			}
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				char **nn = realloc(names, ncap * sizeof *names);
				if (!nn) {
					free(name);
					continue;
				}
				names = nn;
				cap = ncap;
			}
			names[n++] = name;
		}
		closedir(dir);
	}
	qsort(names, n, sizeof *names, cmp_str);
	if (n == 0)
		fprintf(stderr, "pgha: no runbooks found in the search path\n");
	for (size_t k = 0; k < n; k++) {
		struct pgha_lua *h = NULL;
		struct pgha_runbook rb;
		memset(&rb, 0, sizeof rb);
		if (open_runbook(&o, names[k], &h, &rb, NULL, NULL) == 0)
			printf("%-20s %-10s %s\n", rb.name, rb.version, rb.summary);
		else
			code = PGHA_RUN_USAGE;
		pgha_runbook_free(&rb);
		pgha_lua_free(h);
		free(names[k]);
	}
	free(names);
	free(envp);
	return code;
}

/* --- pgha show ----------------------------------------------------------- */

void pgha_show_help(void)
{
	fputs("Usage: pgha show RUNBOOK [--runbook-dir DIR]\n\n"
	      "Show a runbook: its parameters (type, default, help) and its steps with\n"
	      "their gates.\n", stdout);
}

int pgha_show_main(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		pgha_show_help();
		return 0;
	}
	struct opts o;
	if (parse_opts(argc, argv, &o, false) != 0)
		return PGHA_RUN_USAGE;
	if (o.n_rest != 1) {
		fprintf(stderr, "pgha show: give one runbook. Try 'pgha show --help'.\n");
		return PGHA_RUN_USAGE;
	}
	struct pgha_lua *h = NULL;
	struct pgha_runbook rb;
	memset(&rb, 0, sizeof rb);
	int code = open_runbook(&o, o.rest[0], &h, &rb, NULL, NULL);
	if (code == 0) {
		char sha[65], err[512];
		if (pgha_sha256_file(rb.path, sha, err, sizeof err) != 0)
			snprintf(sha, sizeof sha, "?");
		printf("%s %s: %s\nfile: %s\nsha256: %s\n\nparameters:\n", rb.name, rb.version,
		       rb.summary, rb.path, sha);
		if (rb.n_params == 0)
			printf("  (none)\n");
		for (size_t i = 0; i < rb.n_params; i++) {
			const struct pgha_rb_param *p = &rb.params[i];
			printf("  %s (%s)%s", p->name, pgha_param_type_name(p->type),
			       p->required ? " required" : "");
			if (p->default_text)
				printf(" default %s", pgha_journal_is_secret(p->name) ? "********" : p->default_text);
			printf("\n");
			if (p->help)
				printf("      %s\n", p->help);
		}
		printf("\nsteps:\n");
		for (size_t i = 0; i < rb.n_steps; i++) {
			const struct pgha_rb_step *s = &rb.steps[i];
			printf("  %zu. %s [%s%s%s%s] timeout %gs, retries %d\n", i + 1, s->name,
			       s->has_check ? " check" : "", s->has_run ? " run" : "",
			       s->has_verify ? " verify" : "", s->has_undo ? " undo" : " (no undo)",
			       s->timeout, s->retries);
			if (s->gate)
				printf("      gate: %s%s\n", s->gate, s->type_word ? " (type a word to confirm)" : "");
		}
	}
	pgha_runbook_free(&rb);
	pgha_lua_free(h);
	return code;
}
