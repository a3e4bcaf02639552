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
 * The cluster lock (lock.c) is taken before the first step of a real run
 * when the cluster file lists etcd, checked (fencing) before every step
 * that can change something, and released on every way out: success,
 * failure, rollback, refusal, interruption, lost lock.
 *
 * SIGINT and SIGTERM interrupt: the Lua host raises in the running step
 * function (and exec.run kills its child); the engine writes an
 * "interrupted" record, undoes nothing, releases the lock and exits 2.
 * The first signal restores the default handlers, so a second one kills.
 *
 * Resume (--resume RUN_ID) reads the run's journal back, refuses a run
 * that ended, whose rollback had started or whose runbook file changed,
 * takes the parameters from the "start" record (masked secrets given
 * again), appends to the same journal and starts at the first step
 * without a successful "step_end", re-running its check.
 *
 * Output: every engine message goes through say(). On a terminal a
 * progress line (a step's verify polling, wait.until's `what`) is
 * rewritten in place with \r and ended with a newline before any other
 * output; stderr is then fully buffered so that the newline can be put
 * before a log line the Lua host has just formatted (see host_log).
 */
#define _DEFAULT_SOURCE
#include <config.h>

#include "run.h"

#include "buf.h"
#include "clock.h"
#include "clusterfile.h"
#include "error.h"
#include "journal.h"
#include "json.h"
#include "lock.h"
#include "lua_host.h"
#include "runbook.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#define MAX_DIRS 16
#define ERRS_LIMIT (64 * 1024)
#define WHEN_BUDGET 30.0 /* seconds for a step's when() and timeout() */
#define MASKED "********"

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

	/* the cluster lock */
	struct pgha_lock *lock;      /* NULL when not held */
	int lock_ttl;
	bool resumed;                /* may take back its own dead lock */
	bool *skipped;               /* per step: its when() said no (owned) */
	const char *cluster_file;    /* as given or recorded, for the hint */
	const char *journal_dir;     /* --journal-dir as given, or NULL */

	/* output */
	bool progress_tty;           /* stderr is a terminal */
	bool progress_shown;         /* a progress line waits for its newline */
};

/* --- output -------------------------------------------------------------- */

static char stderr_buf[16384];

/* End a progress line: the newline before any other output. */
static void progress_end(struct run *r)
{
	if (r->progress_shown) {
		fputc('\n', stderr);
		r->progress_shown = false;
	}
}

static void say(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct run *r, const char *fmt, ...)
{
	progress_end(r);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

/* Rewrite the progress line in place (terminal only). */
static void progress(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(struct run *r, const char *fmt, ...)
{
	if (!r->progress_tty)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	r->progress_shown = true;
}

/* wait.until(fn, timeout, interval, what) polling. */
static void host_progress(void *ud, const char *what, double elapsed)
{
	progress(ud, "  waiting for %s (%.0f s)", what, elapsed);
}

/* --- journal helpers ----------------------------------------------------- */

static void jlog(struct run *r, const char *event, cJSON *rec)
{
	if (!r->j) {
		cJSON_Delete(rec);
		return;
	}
	if (pgha_journal_write(r->j, event, rec) != 0)
		say(r, "pgha: warning: could not write the journal \"%s\": %s\n",
		    pgha_journal_path(r->j), strerror(errno));
}

static cJSON *jstep(size_t i, const char *name)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "step", (double)(i + 1));
	cJSON_AddStringToObject(o, "name", name);
	return o;
}

/* log.info/warn/error: the host has printed the line (into the stdio
 * buffer when stderr is a terminal): end a progress line first. */
static void host_log(void *ud, const char *level, const char *msg)
{
	struct run *r = ud;
	if (r->progress_shown) {
		ssize_t w = write(STDERR_FILENO, "\n", 1);
		(void)w;
		r->progress_shown = false;
	}
	fflush(stderr);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "level", level);
	cJSON_AddStringToObject(o, "message", msg);
	jlog(r, "log", o);
}

static void add_identity(cJSON *o)
{
	struct passwd *pw = getpwuid(geteuid());
	cJSON_AddStringToObject(o, "user", pw ? pw->pw_name : "?");
	cJSON_AddNumberToObject(o, "uid", (double)geteuid());
	char host[256];
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "?");
	host[sizeof host - 1] = '\0';
	cJSON_AddStringToObject(o, "host", host);
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
}

/* --- calling step functions ---------------------------------------------- */

/* Print a Lua error: the first line, then the traceback indented. */
static void print_error(struct run *r, const char *prefix, const char *msg)
{
	const char *nl = strchr(msg, '\n');
	if (!nl) {
		say(r, "pgha: %s: %s\n", prefix, msg);
		return;
	}
	say(r, "pgha: %s: %.*s\n", prefix, (int)(nl - msg), msg);
	for (const char *p = nl + 1; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		fprintf(stderr, "    %.*s\n", (int)n, p);
		p += n + (e ? 1 : 0);
	}
	fflush(stderr);
}

static bool interrupted_now(void) { return pgha_lua_interrupted() != 0; }

/* The first line of msg, in a static buffer (for one-line reports). */
static const char *first_line(const char *msg)
{
	static char line[1024];
	size_t n = strcspn(msg, "\n");
	if (n >= sizeof line)
		n = sizeof line - 1;
	memcpy(line, msg, n);
	line[n] = '\0';
	return line;
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

/* Poll verify until true or the step's timeout (or an interruption:
 * false, the caller looks at interrupted_now()). */
static bool verify_ok(struct run *r, size_t i, char *msg, size_t msglen)
{
	const struct pgha_rb_step *s = &r->rb.steps[i];
	int64_t end = (int64_t)(s->timeout * 1000.0);
	int64_t t0 = pgha_now_ms();
	for (;;) {
		if (interrupted_now())
			return false;
		int64_t used = pgha_now_ms() - t0;
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
		if (o == RAISED || interrupted_now())
			return false;
		size_t ml = strcspn(msg, "\n");
		progress(r, "  step %zu/%zu \"%s\": verify (%lld s)%s%.*s", i + 1, r->n_steps, s->name,
			 (long long)((pgha_now_ms() - t0) / 1000), ml ? ": " : "",
			 (int)(ml > 80 ? 80 : ml), msg);
		double nap = s->interval * 1000.0 < (double)left ? s->interval : (double)left / 1000.0;
		struct timespec ts = { (time_t)nap, (long)((nap - (double)(time_t)nap) * 1e9) };
		nanosleep(&ts, NULL); /* a signal cuts it short */
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

/* Read one line from the terminal (without the newline); false at EOF or
 * when interrupted. */
static bool tty_line(struct run *r, char *out, size_t outlen)
{
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t got = read(r->tty, &c, 1);
		if (got < 0 && errno == EINTR && !interrupted_now())
			continue;
		if (got <= 0) {
			out[n] = '\0';
			return n > 0 && !interrupted_now();
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
	progress_end(r);
	fflush(stderr);
	if (word[0])
		snprintf(prompt, sizeof prompt, "\n%s\nType \"%s\" to proceed, anything else stops: ",
			 text, word);
	else
		snprintf(prompt, sizeof prompt, "\n%s\nProceed? [y/N] ", text);
	tty_puts(r, prompt);
	if (!tty_line(r, answer, answerlen)) {
		snprintf(answer, answerlen, interrupted_now() ? "(interrupted)" : "(end of input)");
		if (interrupted_now())
			tty_puts(r, "\n");
		return false;
	}
	if (word[0])
		return strcmp(answer, word) == 0;
	return strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 || strcmp(answer, "yes") == 0;
}

/* --- the cluster lock ----------------------------------------------------- */

/* "pgha run --resume ID -c FILE [--journal-dir DIR]" into out. */
static void resume_hint(const struct run *r, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "pgha run --resume %s", r->run_id);
	if (n > 0 && (size_t)n < outlen && r->cluster_file)
		n += snprintf(out + n, outlen - (size_t)n, " -c %s", r->cluster_file);
	if (n > 0 && (size_t)n < outlen && r->journal_dir)
		snprintf(out + n, outlen - (size_t)n, " --journal-dir %s", r->journal_dir);
}

static void lock_release(struct run *r)
{
	if (!r->lock)
		return;
	char err[512];
	int ttl = pgha_lock_ttl(r->lock);
	int rc = pgha_lock_release(r->lock, err, sizeof err);
	r->lock = NULL;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", rc == 0);
	if (rc)
		cJSON_AddStringToObject(o, "error", err);
	jlog(r, "unlock", o);
	if (rc)
		say(r, "pgha: warning: could not release the cluster lock: %s (it expires with its "
		       "lease within %d s)\n", err, ttl);
}

static int finish(struct run *r, int code, const char *state)
{
	lock_release(r);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddNumberToObject(o, "exit", code);
	jlog(r, "end", o);
	return code;
}

/* Take the lock before the first step. Returns 0 to go on, or the exit
 * code (the run refused and finished). */
static int lock_acquire(struct run *r)
{
	if (!r->have_cf)
		return 0; /* no cluster: nothing to lock */
	if (r->cf.n_etcd == 0) {
		say(r, "pgha: warning: no etcd in the cluster file: running without the cluster lock\n");
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "acquired", false);
		cJSON_AddStringToObject(o, "reason", "no etcd in the cluster file");
		jlog(r, "lock", o);
		return 0;
	}
	struct pgha_lock_holder me, other;
	memset(&me, 0, sizeof me);
	memset(&other, 0, sizeof other);
	snprintf(me.run, sizeof me.run, "%s", r->run_id);
	snprintf(me.runbook, sizeof me.runbook, "%s", r->rb.name);
	snprintf(me.version, sizeof me.version, "%s", r->rb.version);
	pgha_lock_holder_self(&me);
	char err[1024], reason[1200];
	int rc = pgha_lock_acquire(&r->cf, r->lock_ttl, &me, r->resumed ? r->run_id : NULL, &r->lock,
				   &other, err, sizeof err);
	if (rc == 0) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "acquired", true);
		cJSON_AddStringToObject(o, "key", pgha_lock_key(r->lock));
		cJSON_AddStringToObject(o, "lease", pgha_lock_lease(r->lock));
		cJSON_AddNumberToObject(o, "ttl", r->lock_ttl);
		jlog(r, "lock", o);
		say(r, "pgha: cluster lock %s taken (lease %s, ttl %d s)\n", pgha_lock_key(r->lock),
		    pgha_lock_lease(r->lock), r->lock_ttl);
		return 0;
	}
	if (rc == PGHA_LOCK_HELD) {
		char who[800];
		pgha_lock_holder_describe(&other, who, sizeof who);
		snprintf(reason, sizeof reason, "cluster \"%s\" is locked by %s", r->cf.scope, who);
		say(r, "pgha: refused: %s\n", reason);
	} else {
		snprintf(reason, sizeof reason, "could not take the cluster lock %s%s in etcd: %s",
			 PGHA_LOCK_PREFIX, r->cf.scope, err);
		say(r, "pgha: refused: %s; nothing was run\n", reason);
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "reason", reason);
	jlog(r, "refused", o);
	return finish(r, PGHA_RUN_REFUSED, "refused");
}

/* Fencing before step i mutates. true: still ours (or no lock); false:
 * lost or unconfirmable, why set. */
static bool lock_held(struct run *r, char *why, size_t whylen)
{
	if (!r->lock)
		return true;
	int rc = pgha_lock_check(r->lock, why, whylen);
	if (rc < 0) {
		/* etcd did not answer: once more, a second later */
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
		rc = pgha_lock_check(r->lock, why, whylen);
	}
	if (rc < 0) {
		char e[512];
		snprintf(e, sizeof e, "%s", why);
		snprintf(why, whylen, "could not confirm it in etcd: %s", e);
	}
	return rc == 0;
}

/* The lock was lost before step i: stop without running it, undo
 * nothing (another run may be changing the cluster). */
static int lock_lost(struct run *r, size_t i, const char *why)
{
	const struct pgha_rb_step *s = &r->rb.steps[i];
	cJSON *o = jstep(i, s->name);
	cJSON_AddStringToObject(o, "reason", why);
	jlog(r, "lock_lost", o);
	lock_release(r);
	char hint[8192];
	resume_hint(r, hint, sizeof hint);
	say(r, "pgha: run %s stopped: lost the cluster lock before step %zu \"%s\": %s\n", r->run_id,
	    i + 1, s->name, why);
	say(r, "pgha: step %zu was not run and nothing was undone (another run may be changing the "
	       "cluster); when the cluster is yours again, resume with: %s\n", i + 1, hint);
	return PGHA_RUN_NEEDS_HUMAN;
}

/* --- interruption ---------------------------------------------------------- */

static struct sigaction default_action;

static void on_signal(int sig)
{
	pgha_lua_interrupt(sig);
	/* a second signal kills */
	sigaction(SIGINT, &default_action, NULL);
	sigaction(SIGTERM, &default_action, NULL);
}

static void catch_signals(bool on)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	default_action = sa;
	if (on)
		sa.sa_handler = on_signal; /* no SA_RESTART: reads and sleeps stop */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void journal_interrupted(struct run *r, size_t i, const char *phase)
{
	cJSON *o = jstep(i, r->rb.steps[i].name);
	cJSON_AddStringToObject(o, "phase", phase);
	cJSON_AddNumberToObject(o, "signal", pgha_lua_interrupted());
	jlog(r, "interrupted", o);
}

/* Interrupted in step i, phase: no rollback, the lock released, exit 2;
 * the run can be resumed. */
static int interrupted(struct run *r, size_t i, const char *phase)
{
	journal_interrupted(r, i, phase);
	lock_release(r);
	char hint[8192];
	resume_hint(r, hint, sizeof hint);
	say(r, "pgha: run %s interrupted in step %zu \"%s\"; resume with: %s\n", r->run_id, i + 1,
	    r->rb.steps[i].name, hint);
	return PGHA_RUN_NEEDS_HUMAN;
}

/* --- when, timeout(ctx), ctx.state ---------------------------------------- */

/* Evaluate a step's when(ctx): 1 the step runs, 0 it is skipped, -1 when
 * raised; why gets its second result (or the error). */
static int step_wanted(struct run *r, size_t i, char *why, size_t whylen)
{
	why[0] = '\0';
	if (!r->rb.steps[i].has_when)
		return 1;
	enum outcome o = call_step(r, i, "when", false, "when is read-only",
				   WHEN_BUDGET, why, whylen, NULL);
	if (o == RAISED)
		return -1;
	if (o == FALSY && (strcmp(why, "returned nil") == 0 || strcmp(why, "returned false") == 0))
		why[0] = '\0';
	return o == TRUTHY;
}

/* A step whose timeout is a function of ctx: call it and keep the result
 * as the step's timeout. Returns 0, or -1 with msg set. */
static int step_timeout(struct run *r, size_t i, char *msg, size_t msglen)
{
	struct pgha_rb_step *s = &r->rb.steps[i];
	if (!s->timeout_fn)
		return 0;
	lua_State *L = pgha_lua_state(r->h);
	char what[512];
	snprintf(what, sizeof what, "step \"%s\" timeout", s->name);
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->rb.ref);
	lua_getfield(L, -1, "steps");
	lua_rawgeti(L, -1, (lua_Integer)i + 1);
	lua_getfield(L, -1, "timeout");
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->ctx_ref);
	pgha_lua_phase(r->h, what, false, "timeout is read-only");
	pgha_lua_budget(r->h, WHEN_BUDGET, what);
	int rc = pgha_lua_pcall(r->h, 1, 1, msg, msglen);
	pgha_lua_budget(r->h, 0, "runbook");
	pgha_lua_phase(r->h, "the engine", false, "only run and undo may mutate");
	if (rc != LUA_OK) {
		lua_pop(L, 3);
		return -1;
	}
	int isnum = 0;
	double v = lua_tonumberx(L, -1, &isnum);
	lua_pop(L, 4);
	if (!isnum || !(v >= 0.001 && v <= 86400)) {
		snprintf(msg, msglen, "step \"%s\": timeout(ctx) must return a number of seconds "
			 "from 0.001 to 86400", s->name);
		return -1;
	}
	s->timeout = v;
	return 0;
}

/* In a protected call: arg 1 the ctx table, arg 2 a cJSON ** to fill with
 * ctx.state as JSON (left NULL when it is empty); raises with the reason
 * when it cannot be encoded. */
static int encode_state(lua_State *L)
{
	cJSON **out = lua_touserdata(L, 2);
	lua_getfield(L, 1, "state");
	if (!lua_istable(L, -1))
		return 0;
	lua_pushnil(L);
	if (lua_next(L, -2) == 0)
		return 0;
	lua_pop(L, 2);
	*out = pgha_lua_to_json(L, -1);
	if (!*out)
		return lua_error(L);
	return 0;
}

/* ctx.state as JSON for the step_end record; NULL when empty, or (with a
 * warning) when it cannot be encoded. */
static cJSON *state_json(struct run *r)
{
	lua_State *L = pgha_lua_state(r->h);
	cJSON *j = NULL;
	lua_pushcfunction(L, encode_state);
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->ctx_ref);
	lua_pushlightuserdata(L, &j);
	if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
		say(r, "pgha: warning: ctx.state cannot be journaled (%s): a resume will not have it\n",
		    lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
		lua_pop(L, 1);
		cJSON_Delete(j);
		j = NULL;
	}
	return j;
}

/* In a protected call (the memory cap may refuse it): ctx.state = the JSON
 * object given as light userdata (arg 2), ctx being arg 1. */
static int decode_state(lua_State *L)
{
	pgha_lua_push_json(L, lua_touserdata(L, 2));
	lua_setfield(L, 1, "state");
	return 0;
}

/* Restore ctx.state from the newest step_end that journaled one. */
static void state_restore(struct run *r, const cJSON *recs)
{
	const cJSON *rec;
	cJSON *last = NULL;
	cJSON_ArrayForEach(rec, recs) {
		cJSON *st = cJSON_GetObjectItemCaseSensitive(rec, "state");
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(rec, "event");
		if (cJSON_IsObject(st) && cJSON_IsString(ev) && strcmp(ev->valuestring, "step_end") == 0)
			last = st;
	}
	if (!last)
		return;
	lua_State *L = pgha_lua_state(r->h);
	lua_pushcfunction(L, decode_state);
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->ctx_ref);
	lua_pushlightuserdata(L, last);
	if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
		say(r, "pgha: warning: ctx.state from the journal could not be restored (%s)\n",
		    lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
		lua_pop(L, 1);
	}
}

/* Steps skipped by when() in the journal (a resume). */
static void skipped_restore(struct run *r, const cJSON *recs)
{
	const cJSON *rec;
	cJSON_ArrayForEach(rec, recs) {
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(rec, "event");
		double step = 0;
		if (cJSON_IsString(ev) && strcmp(ev->valuestring, "skipped") == 0 &&
		    pgha_json_double(rec, "step", &step) == 0 && step >= 1 &&
		    step <= (double)r->n_steps)
			r->skipped[(size_t)step - 1] = true;
	}
}

/* Did step k change anything that an undo should put back? */
static bool step_changed(const struct run *r, size_t k)
{
	return r->rb.steps[k].has_run && !r->skipped[k];
}

/* --- rollback ------------------------------------------------------------ */

/* Undo steps done-1 .. 0. Returns true when all were undone. */
static bool rollback(struct run *r, size_t done)
{
	if (done == 0)
		return true;
	say(r, "pgha: rolling back %zu step(s) in reverse order\n", done);
	jlog(r, "rollback_start", cJSON_CreateObject());
	for (size_t k = done; k-- > 0;) {
		const struct pgha_rb_step *s = &r->rb.steps[k];
		char msg[4096], why[1024];
		const char *stop = NULL;
		if (!step_changed(r, k))
			continue; /* checked or skipped: nothing to put back */
		if (interrupted_now())
			stop = "the run was interrupted";
		else if (!s->has_undo)
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
			if (interrupted_now())
				stop = "the run was interrupted";
			else if (!yes)
				stop = "its undo was not confirmed";
		}
		if (!stop && !lock_held(r, why, sizeof why)) {
			say(r, "pgha: lost the cluster lock: %s\n", why);
			stop = "the cluster lock was lost";
		}
		if (!stop) {
			say(r, "pgha: undo step %zu/%zu \"%s\"\n", k + 1, r->n_steps, s->name);
			bool ok = action_ok(r, k, "undo", msg, sizeof msg);
			if (interrupted_now()) {
				journal_interrupted(r, k, "undo");
				stop = "the run was interrupted during its undo";
			} else {
				cJSON *o = jstep(k, s->name);
				cJSON_AddBoolToObject(o, "ok", ok);
				if (!ok)
					cJSON_AddStringToObject(o, "error", msg);
				jlog(r, "undo", o);
				if (ok)
					continue;
				print_error(r, "undo failed", msg);
				stop = "its undo failed";
			}
		}
		say(r, "pgha: rollback stopped at step %zu \"%s\": %s\n", k + 1, s->name, stop);
		struct pgha_buf left;
		pgha_buf_init(&left, 64 * 1024);
		for (size_t m = k + 1; m-- > 0;)
			if (step_changed(r, m))
				pgha_buf_printf(&left, "%s undo \"%s\"", left.len ? "," : "",
						r->rb.steps[m].name);
		say(r, "pgha: left to do by hand, in this order:%s\n", pgha_buf_str(&left));
		pgha_buf_free(&left);
		cJSON *o = jstep(k, s->name);
		cJSON_AddStringToObject(o, "reason", stop);
		jlog(r, "rollback_stopped", o);
		return false;
	}
	jlog(r, "rollback_end", cJSON_CreateObject());
	return true;
}

/* After a failure with done steps completed. */
static int fail(struct run *r, size_t done)
{
	bool changed = false;
	for (size_t k = 0; k < done; k++)
		changed = changed || step_changed(r, k);
	if (rollback(r, done)) {
		say(r, "pgha: run %s failed%s\n", r->run_id,
		    changed ? "; every completed step was undone" : "; nothing had been changed");
		return finish(r, PGHA_RUN_ROLLED_BACK, "rolled_back");
	}
	say(r, "pgha: run %s failed and NEEDS A HUMAN: the rollback is incomplete (journal: %s)\n",
	    r->run_id, r->j ? pgha_journal_path(r->j) : "none");
	return finish(r, PGHA_RUN_NEEDS_HUMAN, "needs_human");
}

/* --- the plan (dry-run) and the run -------------------------------------- */

static int dry_run(struct run *r)
{
	int failed = 0;
	printf("plan: %s %s (%zu steps), run %s, dry-run: nothing will be changed\n",
	       r->rb.name, r->rb.version, r->n_steps, r->run_id);
	fflush(stdout);
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct pgha_rb_step *s = &r->rb.steps[i];
		char msg[4096], word[256];
		printf("step %zu/%zu %s\n", i + 1, r->n_steps, s->name);
		int wanted = step_wanted(r, i, msg, sizeof msg);
		if (wanted < 0 || step_timeout(r, i, msg, sizeof msg) != 0) {
			if (interrupted_now()) {
				journal_interrupted(r, i, "when");
				return PGHA_RUN_NEEDS_HUMAN;
			}
			printf("  FAILED: %s\n", first_line(msg));
			print_error(r, "step set-up raised", msg);
			failed++;
			continue;
		}
		if (!wanted) {
			printf("  skipped%s%s\n", msg[0] ? ": " : "", first_line(msg));
			continue;
		}
		if (s->has_when && msg[0])
			printf("  when: %s\n", first_line(msg));
		if (s->has_check) {
			enum outcome o = call_step(r, i, "check", false,
						   "a dry-run changes nothing; check and verify are read-only",
						   s->timeout, msg, sizeof msg, NULL);
			if (interrupted_now()) {
				fflush(stdout);
				journal_interrupted(r, i, "check");
				say(r, "pgha: dry-run %s interrupted in step %zu \"%s\"\n", r->run_id, i + 1,
				    s->name);
				return PGHA_RUN_NEEDS_HUMAN;
			}
			const char *nl = strchr(msg, '\n');
			int len = nl ? (int)(nl - msg) : (int)strlen(msg);
			if (o == TRUTHY)
				printf("  check: ok%s%.*s\n", msg[0] ? ": " : "", len, msg);
			else
				printf("  check: FAILED: %.*s\n", len, msg);
			fflush(stdout);
			if (o == RAISED)
				print_error(r, "check raised", msg);
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
		fflush(stdout);
	}
	if (failed) {
		printf("plan: %d check(s) failed: the run would stop\n", failed);
		return finish(r, PGHA_RUN_REFUSED, "dry_run_failed");
	}
	printf("plan: every check passed\n");
	return finish(r, PGHA_RUN_OK, "dry_run_ok");
}

static double seconds_since(int64_t t0) { return (double)(pgha_now_ms() - t0) / 1000.0; }

/* Run steps first .. n-1; steps 0 .. first-1 are done (a resume). */
static int exec_steps(struct run *r, size_t first)
{
	size_t done = first;
	if (!r->yes) {
		for (size_t i = first; i < r->n_steps; i++)
			if (r->rb.steps[i].gate && !open_tty(r)) {
				say(r, "pgha: step %zu \"%s\" asks for confirmation but there is no "
				       "terminal (/dev/tty): run on a terminal, or pass --yes; "
				       "nothing was run\n", i + 1, r->rb.steps[i].name);
				cJSON *o = jstep(i, r->rb.steps[i].name);
				cJSON_AddStringToObject(o, "reason", "no terminal and no --yes");
				jlog(r, "refused", o);
				return finish(r, PGHA_RUN_REFUSED, "refused");
			}
	}
	if (first < r->n_steps) {
		int code = lock_acquire(r);
		if (code != 0)
			return code;
		if (interrupted_now())
			return interrupted(r, first, "taking the lock");
	}
	for (size_t i = first; i < r->n_steps; i++) {
		const struct pgha_rb_step *s = &r->rb.steps[i];
		char msg[8192];
		if (interrupted_now())
			return interrupted(r, i, "between steps");
		int wanted = step_wanted(r, i, msg, sizeof msg);
		if (wanted >= 0 && step_timeout(r, i, msg, sizeof msg) != 0)
			wanted = -1;
		if (interrupted_now())
			return interrupted(r, i, "when");
		if (wanted < 0) {
			char pre[600];
			snprintf(pre, sizeof pre, "step %zu \"%s\": when/timeout raised", i + 1, s->name);
			print_error(r, pre, msg);
			cJSON *j = jstep(i, s->name);
			cJSON_AddStringToObject(j, "error", msg);
			jlog(r, "error", j);
			return done ? fail(r, done) : finish(r, PGHA_RUN_REFUSED, "refused");
		}
		if (!wanted) {
			say(r, "pgha: step %zu/%zu \"%s\" skipped%s%s\n", i + 1, r->n_steps, s->name,
			    msg[0] ? ": " : "", first_line(msg));
			r->skipped[i] = true;
			cJSON *j = jstep(i, s->name);
			cJSON_AddStringToObject(j, "reason", msg);
			jlog(r, "skipped", j);
			j = jstep(i, s->name);
			cJSON_AddBoolToObject(j, "ok", true);
			cJSON_AddBoolToObject(j, "skipped", true);
			cJSON *st = state_json(r);
			if (st)
				cJSON_AddItemToObject(j, "state", st);
			jlog(r, "step_end", j);
			done++;
			continue;
		}
		say(r, "pgha: step %zu/%zu \"%s\"\n", i + 1, r->n_steps, s->name);
		jlog(r, "step_start", jstep(i, s->name));
		int64_t t0 = pgha_now_ms();
		if (s->has_check) {
			enum outcome o = call_step(r, i, "check", false, "check and verify are read-only",
						   s->timeout, msg, sizeof msg, NULL);
			if (interrupted_now())
				return interrupted(r, i, "check");
			cJSON *j = jstep(i, s->name);
			cJSON_AddBoolToObject(j, "ok", o == TRUTHY);
			cJSON_AddStringToObject(j, "message", msg);
			jlog(r, "check", j);
			if (o == TRUTHY && msg[0])
				say(r, "pgha: step %zu/%zu \"%s\" check: ok: %s\n", i + 1, r->n_steps, s->name,
				    first_line(msg));
			if (o != TRUTHY) {
				char pre[600];
				snprintf(pre, sizeof pre, "step %zu \"%s\": check failed", i + 1, s->name);
				print_error(r, pre, msg);
				if (done == 0) {
					say(r, "pgha: refused: a pre-condition does not hold; nothing was changed\n");
					return finish(r, PGHA_RUN_REFUSED, "refused");
				}
				return fail(r, done);
			}
		}
		if (s->gate) {
			char word[256], answer[256];
			bool yes;
			if (!gate_word(r, i, word, sizeof word, msg, sizeof msg)) {
				if (interrupted_now())
					return interrupted(r, i, "gate");
				print_error(r, "gate", msg);
				return done ? fail(r, done) : finish(r, PGHA_RUN_REFUSED, "refused");
			}
			int64_t asked = pgha_now_ms();
			if (r->yes) {
				yes = true;
				snprintf(answer, sizeof answer, "--yes");
				say(r, "pgha: gate confirmed by --yes: %s\n", s->gate);
			} else
				yes = ask(r, s->gate, word, answer, sizeof answer);
			if (interrupted_now())
				return interrupted(r, i, "gate");
			t0 += pgha_now_ms() - asked; /* a step's time leaves out the human's */
			cJSON *j = jstep(i, s->name);
			cJSON_AddStringToObject(j, "answer", answer);
			cJSON_AddBoolToObject(j, "confirmed", yes);
			jlog(r, "gate", j);
			if (!yes) {
				say(r, "pgha: step %zu \"%s\" declined at its gate: stopping\n", i + 1, s->name);
				if (rollback(r, done))
					return finish(r, PGHA_RUN_REFUSED, "declined");
				return finish(r, PGHA_RUN_NEEDS_HUMAN, "needs_human");
			}
		}
		bool ok = false, ran = false;
		for (int attempt = 0; attempt <= s->retries && !ok; attempt++) {
			if (attempt > 0)
				say(r, "pgha: step %zu \"%s\": retry %d of %d\n", i + 1, s->name, attempt,
				    s->retries);
			char why[1024];
			if ((s->has_run || s->has_undo) && !lock_held(r, why, sizeof why))
				return ran ? fail(r, done + 1) : lock_lost(r, i, why);
			ok = !s->has_run || action_ok(r, i, "run", msg, sizeof msg);
			if (interrupted_now())
				return interrupted(r, i, "run");
			if (ok && s->has_run)
				ran = true;
			if (ok && s->has_verify) {
				ok = verify_ok(r, i, msg, sizeof msg);
				if (ok && msg[0] && !interrupted_now())
					say(r, "pgha: step %zu/%zu \"%s\" verified: %s\n", i + 1, r->n_steps,
					    s->name, first_line(msg));
			}
			if (interrupted_now())
				return interrupted(r, i, "verify");
			if (!ok) {
				char pre[600];
				snprintf(pre, sizeof pre, "step %zu \"%s\" failed", i + 1, s->name);
				print_error(r, pre, msg);
				cJSON *j = jstep(i, s->name);
				cJSON_AddNumberToObject(j, "attempt", attempt + 1);
				cJSON_AddStringToObject(j, "error", msg);
				jlog(r, "error", j);
			}
		}
		double took = seconds_since(t0);
		cJSON *j = jstep(i, s->name);
		cJSON_AddBoolToObject(j, "ok", ok);
		cJSON_AddNumberToObject(j, "seconds", (double)(int64_t)(took * 1000.0) / 1000.0);
		cJSON *st = state_json(r);
		if (st)
			cJSON_AddItemToObject(j, "state", st);
		jlog(r, "step_end", j);
		/* a step whose run succeeded but whose verify did not has
		 * changed things: its own undo runs first */
		if (!ok)
			return fail(r, ran ? done + 1 : done);
		say(r, "pgha: step %zu/%zu \"%s\" done in %.1f s\n", i + 1, r->n_steps, s->name, took);
		done++;
	}
	say(r, "pgha: run %s of %s %s: all %zu steps done\n", r->run_id, r->rb.name, r->rb.version,
	    r->n_steps);
	return finish(r, PGHA_RUN_OK, "success");
}

/* --- set-up -------------------------------------------------------------- */

static void push_argv(lua_State *L, char *const *argv)
{
	lua_newtable(L);
	for (lua_Integer k = 0; argv[k]; k++) {
		lua_pushstring(L, argv[k]);
		lua_rawseti(L, -2, k + 1);
	}
}

/* ctx.cluster.nodes: NAME = { index, host, port, data_dir, config_dir,
 * stop = argv, start = argv }, from the cluster file's [node NAME]
 * sections; index is the section's place in the file (1, 2, ...). */
static void push_nodes(struct run *r)
{
	lua_State *L = pgha_lua_state(r->h);
	lua_newtable(L);
	for (size_t i = 0; i < r->cf.n_nodes; i++) {
		const struct pgha_cf_node *n = &r->cf.nodes[i];
		lua_newtable(L);
		lua_pushinteger(L, (lua_Integer)i + 1);
		lua_setfield(L, -2, "index");
		if (n->host) {
			lua_pushstring(L, n->host);
			lua_setfield(L, -2, "host");
		}
		if (n->port) {
			lua_pushinteger(L, n->port);
			lua_setfield(L, -2, "port");
		}
		if (n->data_dir) {
			lua_pushstring(L, n->data_dir);
			lua_setfield(L, -2, "data_dir");
		}
		if (n->config_dir) {
			lua_pushstring(L, n->config_dir);
			lua_setfield(L, -2, "config_dir");
		}
		if (n->stop) {
			push_argv(L, n->stop);
			lua_setfield(L, -2, "stop");
		}
		if (n->start) {
			push_argv(L, n->start);
			lua_setfield(L, -2, "start");
		}
		lua_setfield(L, -2, n->name);
	}
}

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
	lua_newtable(L);
	lua_setfield(L, -2, "state");
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		lua_pushstring(L, self); /* this pgha, for commands run later */
		lua_setfield(L, -2, "pgha");
	}
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
		push_nodes(r);
		lua_setfield(L, -2, "nodes");
		if (r->cf.backup_dir) {
			lua_pushstring(L, r->cf.backup_dir);
			lua_setfield(L, -2, "backup_dir");
		}
		if (r->cf.archive_dir) {
			lua_pushstring(L, r->cf.archive_dir);
			lua_setfield(L, -2, "archive_dir");
		}
		if (r->cf.restore_command) {
			lua_pushstring(L, r->cf.restore_command);
			lua_setfield(L, -2, "restore_command");
		}
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
			cJSON_AddStringToObject(p, name, MASKED);
		else if (t == LUA_TBOOLEAN)
			cJSON_AddBoolToObject(p, name, lua_toboolean(L, -1));
		else if (t == LUA_TNUMBER)
			cJSON_AddNumberToObject(p, name, lua_tonumber(L, -1));
		else
			cJSON_AddStringToObject(p, name, lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
	add_identity(o);
	jlog(r, "start", o);
}

struct opts {
	const char *dirs[MAX_DIRS];
	size_t n_dirs;
	const char *cluster_file, *journal_dir, *resume;
	int lock_ttl; /* 0: the default */
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
		    strcmp(a, "--cluster-file") == 0 || strcmp(a, "--journal-dir") == 0 ||
		    strcmp(a, "--resume") == 0 || strcmp(a, "--lock-ttl") == 0))) {
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
			else if (strcmp(a, "--resume") == 0)
				o->resume = val;
			else if (strcmp(a, "--lock-ttl") == 0) {
				char *end;
				errno = 0;
				long v = strtol(val, &end, 10);
				if (errno || end == val || *end || v < PGHA_LOCK_TTL_MIN ||
				    v > PGHA_LOCK_TTL_MAX) {
					fprintf(stderr, "pgha %s: --lock-ttl takes seconds from %d to %d, not "
						"\"%s\"\n", argv[0], PGHA_LOCK_TTL_MIN, PGHA_LOCK_TTL_MAX, val);
					return -1;
				}
				o->lock_ttl = (int)v;
			} else
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
	fflush(stderr);
}

/* Resolve name (a runbook name, or a path with a '/') into file. Returns
 * 0 or the exit code (message printed). */
static int find_runbook(const struct opts *o, const char *name, char *file, size_t filelen)
{
	struct pgha_rb_path path;
	char *envp = env_path_copy();
	pgha_rb_path_init(&path, o->dirs, o->n_dirs, envp);
	char err[1024];
	int rc = pgha_rb_find(&path, name, file, filelen, err, sizeof err);
	free(envp);
	if (rc != 0) {
		fprintf(stderr, "pgha: %s\n", err);
		return PGHA_RUN_USAGE;
	}
	return 0;
}

/* Load file into a new host. Returns 0 or the exit code. */
static int load_runbook(const char *file, struct pgha_lua **hp, struct pgha_runbook *rb,
			pgha_lua_log_fn log, void *ud)
{
	*hp = pgha_lua_new(PGHA_LUA_MEM_CAP, log, ud);
	if (!*hp) {
		fprintf(stderr, "pgha: out of memory\n");
		return PGHA_RUN_USAGE;
	}
	struct pgha_buf errs;
	pgha_buf_init(&errs, ERRS_LIMIT);
	int rc = pgha_runbook_load(*hp, file, rb, &errs);
	if (rc != 0) {
		fprintf(stderr, "pgha: invalid runbook \"%s\":\n", file);
		print_errs(&errs);
		pgha_buf_free(&errs);
		return PGHA_RUN_USAGE;
	}
	pgha_buf_free(&errs);
	return 0;
}

/* Find and load name into a new host. Returns 0 or the exit code. */
static int open_runbook(const struct opts *o, const char *name, struct pgha_lua **hp,
			struct pgha_runbook *rb, pgha_lua_log_fn log, void *ud)
{
	char file[4096];
	int rc = find_runbook(o, name, file, sizeof file);
	return rc ? rc : load_runbook(file, hp, rb, log, ud);
}

static int load_cluster(struct run *r, const char *file)
{
	char err[4096];
	if (pgha_clusterfile_load(file, &r->cf, err, sizeof err) != 0) {
		fprintf(stderr, "pgha: %s\n", err);
		return PGHA_RUN_USAGE;
	}
	r->have_cf = true;
	r->cluster_file = file;
	return 0;
}

/* The loaded runbook's step count and the per-step run state. */
static int set_steps(struct run *r)
{
	r->n_steps = r->rb.n_steps;
	r->skipped = calloc(r->n_steps ? r->n_steps : 1, sizeof *r->skipped);
	if (!r->skipped) {
		fprintf(stderr, "pgha: out of memory\n");
		return -1;
	}
	return 0;
}

/* A new run: runbook, cluster, parameters, a new journal. Returns 0 or
 * the exit code. */
static int setup_new(struct run *r, const struct opts *o, const char *jdir)
{
	char err[4096];
	int code = open_runbook(o, o->rest[0], &r->h, &r->rb, host_log, r);
	if (code != 0)
		return code;
	if (set_steps(r) != 0)
		return PGHA_RUN_USAGE;
	if (pgha_sha256_file(r->rb.path, r->sha, err, sizeof err) != 0) {
		fprintf(stderr, "pgha: %s\n", err);
		return PGHA_RUN_USAGE;
	}
	if (o->cluster_file && (code = load_cluster(r, o->cluster_file)) != 0)
		return code;
	struct pgha_buf errs;
	pgha_buf_init(&errs, ERRS_LIMIT);
	if (pgha_runbook_params(r->h, &r->rb, o->n_rest - 1, o->rest + 1, &errs) != 0) {
		fprintf(stderr, "pgha: invalid parameters for runbook \"%s\" (nothing was run):\n",
			r->rb.name);
		print_errs(&errs);
		pgha_buf_free(&errs);
		return PGHA_RUN_USAGE;
	}
	pgha_buf_free(&errs);
	if (pgha_journal_open(jdir, &r->j, r->run_id, sizeof r->run_id, err, sizeof err) != 0) {
		fprintf(stderr, "pgha: %s (nothing was run)\n", err);
		lua_pop(pgha_lua_state(r->h), 1);
		return PGHA_RUN_USAGE;
	}
	push_ctx(r);
	journal_start(r, o->cluster_file);
	say(r, "pgha: run %s: %s %s, journal %s\n", r->run_id, r->rb.name, r->rb.version,
	    pgha_journal_path(r->j));
	return 0;
}

/* --- resume ---------------------------------------------------------------- */

static const char *rec_str(const cJSON *rec, const char *key)
{
	const char *s = NULL;
	return pgha_json_string(rec, key, &s) == 0 ? s : NULL;
}

static char *kv_arg(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s=%s", name, value);
	return s;
}

/* A recorded parameter value in its command-line form into out; false
 * for null and what a parameter cannot be. */
static bool param_text(const cJSON *v, char *out, size_t outlen)
{
	if (cJSON_IsString(v))
		snprintf(out, outlen, "%s", v->valuestring);
	else if (cJSON_IsBool(v))
		snprintf(out, outlen, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d == (double)(long long)d && d < 9007199254740992.0 && d > -9007199254740992.0)
			snprintf(out, outlen, "%lld", (long long)d);
		else
			snprintf(out, outlen, "%.17g", d);
	} else
		return false;
	return true;
}

static const char *arg_for(char **args, int n_args, const char *name)
{
	size_t nl = strlen(name);
	for (int i = 0; i < n_args; i++)
		if (strncmp(args[i], name, nl) == 0 && args[i][nl] == '=')
			return args[i];
	return NULL;
}

/* The parameters of a resumed run: those of its "start" record, with the
 * masked secrets given again in args; a parameter that is not a masked
 * secret may be given only with the value it had. On success pushes the
 * params table and returns 0; otherwise every problem is in errs. */
static int resume_params(struct run *r, const cJSON *start, char **args, int n_args,
			 struct pgha_buf *errs)
{
	lua_State *L = pgha_lua_state(r->h);
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(start, "params");
	size_t cap = r->rb.n_params + (size_t)n_args + 1;
	char **base = calloc(cap, sizeof *base);
	bool *masked = calloc(r->rb.n_params + 1, sizeof *masked);
	int nb = 0, bad = 0;
	if (!base || !masked) {
		free(base);
		free(masked);
		pgha_buf_printf(errs, "out of memory\n");
		return PGHA_E_NOMEM;
	}
	for (size_t k = 0; k < r->rb.n_params; k++) {
		const char *name = r->rb.params[k].name;
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, name);
		char text[4096];
		if (cJSON_IsString(v) && strcmp(v->valuestring, MASKED) == 0 &&
		    pgha_journal_is_secret(name)) {
			masked[k] = true;
			const char *a = arg_for(args, n_args, name);
			if (a)
				base[nb++] = kv_arg(name, a + strlen(name) + 1);
			else {
				pgha_buf_printf(errs, "parameter \"%s\" is a secret the journal does not "
						"keep: give it again (%s=...)\n", name, name);
				bad++;
			}
		} else if (v && param_text(v, text, sizeof text))
			base[nb++] = kv_arg(name, text);
	}
	/* every argument must name a parameter; the non-secret ones are
	 * compared below */
	for (int i = 0; i < n_args; i++) {
		const char *eq = strchr(args[i], '=');
		bool found = false;
		for (size_t k = 0; eq && k < r->rb.n_params && !found; k++)
			found = strlen(r->rb.params[k].name) == (size_t)(eq - args[i]) &&
				strncmp(r->rb.params[k].name, args[i], (size_t)(eq - args[i])) == 0;
		if (!eq || eq == args[i]) {
			pgha_buf_printf(errs, "argument \"%s\" is not name=value\n", args[i]);
			bad++;
		} else if (!found) {
			pgha_buf_printf(errs, "unknown parameter \"%.*s\" (see 'pgha show %s')\n",
					(int)(eq - args[i]), args[i], r->rb.name);
			bad++;
		}
	}
	for (int i = 0; i < nb; i++)
		if (!base[i]) {
			pgha_buf_printf(errs, "out of memory\n");
			bad++;
			break;
		}
	bool pushed = !bad && pgha_runbook_params(r->h, &r->rb, nb, base, errs) == 0;
	if (!pushed)
		bad++;
	char **given = pushed ? calloc(cap, sizeof *given) : NULL;
	if (pushed && !given) {
		pgha_buf_printf(errs, "out of memory\n");
		bad++;
	}
	/* the params table is on top now: compare each non-secret argument
	 * with it */
	for (size_t k = 0; k < r->rb.n_params && given; k++) {
		const char *name = r->rb.params[k].name;
		size_t nl = strlen(name);
		const char *a = arg_for(args, n_args, name);
		if (!a || masked[k])
			continue;
		/* the same parameters with this one as given now */
		int ng = 0, replaced = 0;
		for (int i = 0; i < nb; i++) {
			if (strncmp(base[i], name, nl) == 0 && base[i][nl] == '=') {
				given[ng++] = (char *)(uintptr_t)a;
				replaced = 1;
			} else
				given[ng++] = base[i];
		}
		if (!replaced)
			given[ng++] = (char *)(uintptr_t)a;
		struct pgha_buf e2;
		pgha_buf_init(&e2, ERRS_LIMIT);
		bool same = false;
		if (pgha_runbook_params(r->h, &r->rb, ng, given, &e2) == 0) {
			lua_getfield(L, -2, name); /* as recorded */
			lua_getfield(L, -2, name); /* as given */
			same = lua_rawequal(L, -1, -2);
			lua_pop(L, 3);
		}
		pgha_buf_free(&e2);
		if (!same) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, name);
			char text[4096];
			if (!v || !param_text(v, text, sizeof text))
				snprintf(text, sizeof text, "(no value)");
			pgha_buf_printf(errs, "parameter \"%s\" cannot be changed on resume: the run "
					"started with %s=%s\n", name, name, text);
			bad++;
		}
	}
	free(given);
	if (bad && pushed)
		lua_pop(L, 1);
	for (int i = 0; i < nb; i++)
		free(base[i]);
	free(base);
	free(masked);
	return bad ? PGHA_E_INVALID : 0;
}

/* Refuse a resume: message, exit 3; nothing is written. */
static int refuse_resume(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int refuse_resume(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("pgha: refused: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	fflush(stderr);
	return PGHA_RUN_REFUSED;
}

/* A resumed run: its journal read back and checked, the same runbook
 * (same SHA-256), its parameters, the same journal file reopened.
 * *first gets the first step to run. Returns 0 or the exit code. */
static int setup_resume(struct run *r, const struct opts *o, const char *jdir, size_t *first)
{
	const char *id = o->resume;
	char path[4096], err[4096], file[4096];
	if (!pgha_journal_valid_id(id)) {
		fprintf(stderr, "pgha: \"%s\" is not a run id (see 'pgha journal')\n", id);
		return PGHA_RUN_USAGE;
	}
	int pn = snprintf(path, sizeof path, "%s/%s.jsonl", jdir, id);
	if (pn < 0 || (size_t)pn >= sizeof path) {
		fprintf(stderr, "pgha: journal directory name too long\n");
		return PGHA_RUN_USAGE;
	}
	cJSON *recs = NULL;
	size_t n_bad = 0;
	int rc = pgha_journal_read(path, &recs, &n_bad, err, sizeof err);
	if (rc == PGHA_E_NOTFOUND) {
		fprintf(stderr, "pgha: no run %s in the journal directory \"%s\" (see 'pgha journal"
			"%s%s')\n", id, jdir, o->journal_dir ? " --journal-dir " : "",
			o->journal_dir ? o->journal_dir : "");
		return PGHA_RUN_USAGE;
	}
	if (rc) {
		fprintf(stderr, "pgha: %s\n", err);
		return PGHA_RUN_USAGE;
	}
	int code = 0;
	const cJSON *start = NULL, *end = NULL, *rec;
	bool rollback_started = false;
	cJSON_ArrayForEach(rec, recs) {
		const char *ev = rec_str(rec, "event");
		if (!ev)
			continue;
		if (!start && strcmp(ev, "start") == 0)
			start = rec;
		else if (strcmp(ev, "end") == 0)
			end = rec;
		else if (strcmp(ev, "rollback_start") == 0)
			rollback_started = true;
	}
	const char *rb_arg = o->n_rest > 0 && !strchr(o->rest[0], '=') ? o->rest[0] : NULL;
	char **args = o->rest + (rb_arg ? 1 : 0);
	int n_args = o->n_rest - (rb_arg ? 1 : 0);
	const char *rec_file = start ? rec_str(start, "file") : NULL;
	const char *rec_sha = start ? rec_str(start, "sha256") : NULL;
	const char *rec_name = start ? rec_str(start, "runbook") : NULL;
	const char *rec_cf = start ? rec_str(start, "cluster_file") : NULL;
	const char *rec_scope = start ? rec_str(start, "scope") : NULL;
	if (!start || !rec_file || !rec_sha || !rec_name) {
		fprintf(stderr, "pgha: \"%s\" has no usable \"start\" record: not the journal of a "
			"run\n", path);
		code = PGHA_RUN_USAGE;
	} else if (end) {
		double ex = -1;
		pgha_json_double(end, "exit", &ex);
		code = refuse_resume("run %s has ended (final state %s, exit %d): there is nothing "
				     "to resume", id, rec_str(end, "state") ? rec_str(end, "state")
				     : "?", (int)ex);
	} else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(start, "dry_run"))) {
		code = refuse_resume("run %s is a dry-run: run it again instead", id);
	} else if (rollback_started) {
		code = refuse_resume("a rollback had started in run %s: it cannot be resumed; "
				     "see 'pgha journal %s' for what was undone", id, id);
	}
	if (code == 0) {
		code = find_runbook(o, rb_arg ? rb_arg : rec_file, file, sizeof file);
		if (code && !rb_arg)
			fprintf(stderr, "pgha: (run %s ran \"%s\"; if it moved, name the runbook after "
				"--resume %s)\n", id, rec_file, id);
	}
	if (code == 0 && pgha_sha256_file(file, r->sha, err, sizeof err) != 0) {
		fprintf(stderr, "pgha: %s\n", err);
		code = PGHA_RUN_USAGE;
	}
	if (code == 0 && strcmp(r->sha, rec_sha) != 0)
		code = refuse_resume("the runbook changed since run %s started: \"%s\" has sha256 %s "
				     "now, the run started with sha256 %s; nothing was run", id, file,
				     r->sha, rec_sha);
	if (code == 0)
		code = load_runbook(file, &r->h, &r->rb, host_log, r);
	if (code == 0 && strcmp(r->rb.name, rec_name) != 0)
		code = refuse_resume("run %s ran runbook \"%s\", not \"%s\"", id, rec_name, r->rb.name);
	if (code == 0 && set_steps(r) != 0)
		code = PGHA_RUN_USAGE;
	if (code == 0) {
		const char *cfile = o->cluster_file ? o->cluster_file : rec_cf;
		if (o->cluster_file && !rec_cf)
			code = refuse_resume("run %s ran without a cluster file: resume it without -c",
					     id);
		else if (cfile && (code = load_cluster(r, cfile)) == 0 && rec_scope &&
			 strcmp(r->cf.scope, rec_scope) != 0)
			code = refuse_resume("run %s ran on cluster \"%s\"; \"%s\" is cluster \"%s\"",
					     id, rec_scope, cfile, r->cf.scope);
		if (code == 0 && cfile == rec_cf && rec_cf) {
			/* the path must outlive recs */
			r->cluster_file = r->cf.path;
		}
	}
	if (code == 0) {
		struct pgha_buf errs;
		pgha_buf_init(&errs, ERRS_LIMIT);
		if (resume_params(r, start, args, n_args, &errs) != 0) {
			fprintf(stderr, "pgha: invalid parameters to resume run %s (nothing was run):\n",
				id);
			print_errs(&errs);
			code = PGHA_RUN_USAGE;
		}
		pgha_buf_free(&errs);
	}
	if (code == 0) {
		/* the first step without a successful step_end */
		bool *ok = calloc(r->n_steps + 1, sizeof *ok);
		cJSON_ArrayForEach(rec, recs) {
			const char *ev = rec_str(rec, "event");
			double step = 0;
			if (ok && ev && strcmp(ev, "step_end") == 0 &&
			    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "ok")) &&
			    pgha_json_double(rec, "step", &step) == 0 && step >= 1 &&
			    step <= (double)r->n_steps)
				ok[(size_t)step - 1] = true;
		}
		*first = 0;
		while (ok && *first < r->n_steps && ok[*first])
			(*first)++;
		free(ok);
		rc = pgha_journal_reopen(jdir, id, &r->j, err, sizeof err);
		if (rc == PGHA_JOURNAL_BUSY)
			code = refuse_resume("%s", err);
		else if (rc) {
			fprintf(stderr, "pgha: %s\n", err);
			code = PGHA_RUN_USAGE;
		}
		if (code)
			lua_pop(pgha_lua_state(r->h), 1); /* the params */
	}
	if (code == 0) {
		snprintf(r->run_id, sizeof r->run_id, "%s", id);
		r->resumed = true;
		push_ctx(r);
		state_restore(r, recs);
		skipped_restore(r, recs);
		cJSON *o2 = *first < r->n_steps ? jstep(*first, r->rb.steps[*first].name)
						: cJSON_CreateObject();
		add_identity(o2);
		cJSON_AddBoolToObject(o2, "yes", r->yes);
		if (r->cluster_file)
			cJSON_AddStringToObject(o2, "cluster_file", r->cluster_file);
		jlog(r, "resume", o2);
		if (n_bad)
			say(r, "pgha: warning: %zu line(s) of the journal are not records (cut short?)\n",
			    n_bad);
		if (*first < r->n_steps)
			say(r, "pgha: resuming run %s: %s %s at step %zu/%zu \"%s\" (%zu step(s) done), "
			       "journal %s\n", id, r->rb.name, r->rb.version, *first + 1, r->n_steps,
			    r->rb.steps[*first].name, *first, pgha_journal_path(r->j));
		else
			say(r, "pgha: resuming run %s: every step was done already, journal %s\n", id,
			    pgha_journal_path(r->j));
	}
	cJSON_Delete(recs);
	return code;
}

/* --- pgha run ------------------------------------------------------------ */

void pgha_run_help(void)
{
	fputs("Usage: pgha run RUNBOOK [NAME=VALUE ...] [-c CLUSTERFILE] [--dry-run] [--yes]\n"
	      "                [--journal-dir DIR] [--runbook-dir DIR] [--lock-ttl SECONDS]\n"
	      "       pgha run --resume RUN_ID [RUNBOOK] [NAME=VALUE ...] [-c CLUSTERFILE] [--yes]\n"
	      "                [--journal-dir DIR]\n\n"
	      "Run a runbook step by step: check, gate (confirmed on /dev/tty), run, verify;\n"
	      "on failure the completed steps are undone in reverse order. A real run holds\n"
	      "the cluster lock in etcd (/pgha/lock/SCOPE) from its first step to its end.\n\n"
	      "  -c, --cluster-file FILE  the cluster (ctx.cluster in the runbook)\n"
	      "  --dry-run                run the checks only and print the plan\n"
	      "  -y, --yes                confirm every gate in advance\n"
	      "  --resume RUN_ID          continue an interrupted or crashed run from its first\n"
	      "                           unfinished step (its check runs again); parameters\n"
	      "                           come from its journal, secret ones are given again\n"
	      "  --journal-dir DIR        where the run's journal goes (default\n"
	      "                           $XDG_STATE_HOME/pgha/journal, /var/lib/pgha/journal\n"
	      "                           for root, else ~/.local/state/pgha/journal)\n"
	      "  --runbook-dir DIR        look for RUNBOOK.lua in DIR first (repeatable;\n"
	      "                           then $PGHA_RUNBOOK_PATH, then " PGHA_DATADIR "/runbooks)\n"
	      "  --lock-ttl SECONDS       advanced: the lock's lease, 5 to 3600 (default 30); a\n"
	      "                           crashed run's lock expires after it\n\n"
	      "SIGINT or SIGTERM stops the run where it is (no rollback) and prints how to\n"
	      "resume it; a second signal kills.\n\n"
	      "Exit: 0 success, 1 failed and rolled back, 2 needs a human (rollback\n"
	      "incomplete, interrupted, lost the cluster lock), 3 refused (gate declined,\n"
	      "no terminal without --yes, a check failed, the cluster is locked or etcd does\n"
	      "not answer, a resume refused), 4 usage or invalid runbook. See\n"
	      "docs/runbooks.md.\n", stdout);
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
	if (o.resume && o.dry_run) {
		fprintf(stderr, "pgha run: --resume and --dry-run do not go together\n");
		return PGHA_RUN_USAGE;
	}
	if (!o.resume && o.n_rest < 1) {
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
	r.lock_ttl = o.lock_ttl ? o.lock_ttl : PGHA_LOCK_TTL_DEFAULT;
	r.journal_dir = o.journal_dir;
	if (isatty(STDERR_FILENO)) {
		/* see host_log: a newline can then go before a log line */
		setvbuf(stderr, stderr_buf, _IOFBF, sizeof stderr_buf);
		r.progress_tty = true;
	}
	int code;
	size_t first = 0;
	char jdir[4096];
	if (o.journal_dir)
		snprintf(jdir, sizeof jdir, "%s", o.journal_dir);
	else if (pgha_journal_default_dir(jdir, sizeof jdir) != 0) {
		fprintf(stderr, "pgha: no journal directory: set HOME or XDG_STATE_HOME, or pass "
			"--journal-dir\n");
		return PGHA_RUN_USAGE;
	}
	code = o.resume ? setup_resume(&r, &o, jdir, &first) : setup_new(&r, &o, jdir);
	if (code == 0) {
		pgha_lua_set_progress(r.h, host_progress, &r);
		if (r.have_cf)
			pgha_lua_set_cluster(r.h, &r.cf);
		catch_signals(true);
		code = r.dry_run ? dry_run(&r) : exec_steps(&r, first);
		catch_signals(false);
	}
	lock_release(&r); /* every path above has released it; a last guard */
	progress_end(&r);
	fflush(stderr);
	pgha_journal_close(r.j);
	if (r.tty >= 0)
		close(r.tty);
	pgha_runbook_free(&r.rb);
	pgha_lua_free(r.h);
	pgha_clusterfile_free(&r.cf);
	free(r.skipped);
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
			char tmo[64];
			if (s->timeout_fn)
				snprintf(tmo, sizeof tmo, "timeout from the parameters");
			else
				snprintf(tmo, sizeof tmo, "timeout %gs", s->timeout);
			printf("  %zu. %s [%s%s%s%s%s] %s, retries %d\n", i + 1, s->name,
			       s->has_when ? " when" : "", s->has_check ? " check" : "",
			       s->has_run ? " run" : "", s->has_verify ? " verify" : "",
			       s->has_undo ? " undo" : " (no undo)", tmo, s->retries);
			if (s->gate)
				printf("      gate: %s%s\n", s->gate, s->type_word ? " (type a word to confirm)" : "");
		}
	}
	pgha_runbook_free(&rb);
	pgha_lua_free(h);
	return code;
}
