/*
 * runbook.h: finding, loading and validating a runbook (docs/runbooks.md).
 *
 * A runbook is NAME.lua; the chunk returns a table (runbook { ... } is the
 * same table) with name, version (semantic), summary, params and steps.
 * pgha_runbook_load() runs the chunk in the sandbox (nothing may mutate
 * while loading) and checks the whole table, reporting every problem, one
 * line each, into errs. The table stays in the Lua registry (rb->ref): the
 * step functions are called from there by run.c.
 *
 * Ownership: struct pgha_runbook owns its strings; pgha_runbook_free()
 * releases them (the Lua table goes with the host).
 */
#ifndef PGHA_RUNBOOK_H
#define PGHA_RUNBOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "lua_host.h"

/* $(pkgdatadir), defined by the build (AM_CPPFLAGS) */
#ifndef PGHA_DATADIR
#define PGHA_DATADIR "/usr/local/share/pgha"
#endif

enum pgha_param_type {
	PGHA_P_STRING, PGHA_P_INTEGER, PGHA_P_NUMBER, PGHA_P_BOOLEAN,
	PGHA_P_SIZE, PGHA_P_DURATION
};

struct pgha_rb_param {
	char *name, *help;      /* owned; help may be NULL */
	enum pgha_param_type type;
	bool required, has_default, has_check;
	char *default_text;     /* owned: the default as shown, or NULL */
};

struct pgha_rb_step {
	char *name;             /* owned */
	char *gate;             /* owned gate text, NULL when ungated */
	bool type_word;         /* the gate demands typing a word */
	bool has_when;          /* when(ctx): false skips the step */
	bool has_check, has_run, has_verify, has_undo;
	double timeout;         /* seconds for each phase (default 30) */
	bool timeout_fn;        /* timeout is a function of ctx, called when
				   the step starts (timeout above until then) */
	double interval;        /* verify polling interval (default 1) */
	int retries;            /* extra attempts of run + verify (default 0) */
};

struct pgha_runbook {
	char *path, *name, *version, *summary; /* owned */
	struct pgha_rb_param *params;          /* owned, sorted by name */
	size_t n_params;
	struct pgha_rb_step *steps;            /* owned, in order */
	size_t n_steps;
	int ref;                               /* the table in the registry */
};

/* Search path for runbooks: dirs given by option (in order), then the
 * entries of $PGHA_RUNBOOK_PATH, then PGHA_DATADIR "/runbooks". */
struct pgha_rb_path {
	const char *dirs[64];
	size_t n;
};

void pgha_rb_path_init(struct pgha_rb_path *p, const char *const *opt_dirs, size_t n_opt,
		       char *env_copy);

/* Resolve NAME (or a path containing '/', used as is) to a file into out.
 * Returns 0 or PGHA_E_NOTFOUND / PGHA_E_INVALID (err set). */
int pgha_rb_find(const struct pgha_rb_path *p, const char *name, char *out, size_t outlen,
		 char *err, size_t errlen);

/* Load and validate. Returns 0, or PGHA_E_INVALID / PGHA_E_IO with every
 * problem in errs (one line each). rb holds nothing on error (free it). */
int pgha_runbook_load(struct pgha_lua *h, const char *path, struct pgha_runbook *rb,
		      struct pgha_buf *errs);

void pgha_runbook_free(struct pgha_runbook *rb);

/* Parse name=value arguments against rb's params, apply defaults and run
 * each param's check. On success pushes the params table and returns 0;
 * otherwise returns PGHA_E_INVALID with all errors in errs (one line
 * each) and pushes nothing. */
int pgha_runbook_params(struct pgha_lua *h, const struct pgha_runbook *rb, int argc,
			char *const *argv, struct pgha_buf *errs);

const char *pgha_param_type_name(enum pgha_param_type t);

/* Helpers exposed for the unit tests. */
bool pgha_semver_valid(const char *v);
int pgha_parse_size(const char *s, long long *out);     /* bytes */
int pgha_parse_duration(const char *s, double *out);    /* seconds */

#endif
