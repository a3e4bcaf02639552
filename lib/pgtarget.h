/*
 * pgtarget.h: connect a libpq check to the PostgreSQL it is about.
 *
 * Either the standard libpq options (-H -p -d -U --dsn, libpq's
 * environment and .pgpass), or, with --patroni, the member that holds the
 * leader lock right now (or the one named by --member), as published in
 * GET /cluster (its host and port): so an Icinga service keeps checking
 * the primary after a failover. -d, -U and --dsn still apply then.
 *
 * Passwords come only from libpq's own sources; nothing here prints a
 * connection string.
 *
 * The pgha_pg_check_* functions are the steps every libpq check's main
 * takes, each mapping its failure to the result in one place, so that
 * main reads
 *
 *   int done = pgha_pg_options_parse(&program, argc, argv, &common);
 *   if (done >= 0)
 *           return done;
 *   ... thresholds ...
 *   if (pgha_pg_check_connect(&pg, &common, who, sizeof who, &r) == 0 &&
 *       pgha_pg_check_query(&pg, &common, who, sql, 0, NULL, &r) == 0) {
 *           report(...);
 *           pgha_pg_check_verbose(&pg, &common, who, &r);
 *   }
 *   pgha_pg_close(&pg);
 *   return pgha_result_exit(&r);
 *
 * They set the result only on failure (pgha_result_set: state and
 * summary), borrow every argument for the call, and keep nothing.
 */
#ifndef PGHA_PGTARGET_H
#define PGHA_PGTARGET_H

#include <stddef.h>

#include "options.h"
#include "output.h"
#include "pg.h"
#include "state.h"

/* Connect pg for the check. who gets a short name for the status line
 * ("n1 (127.0.0.1:5432)" or "127.0.0.1:5432" or "default"). On failure
 * returns the PGHA_E_* code, writes one line into err and sets *fail to
 * the state to report: the --timeout-result state for a server that
 * cannot be reached or refuses us, UNKNOWN for a usage problem (no such
 * member, no leader known to Patroni is the timeout-result state too). */
int pgha_pg_target_connect(struct pgha_pg *pg, const struct pgha_common *c,
			   char *who, size_t wholen, enum pgha_state *fail,
			   char *err, size_t errlen);

/* What the --help of every libpq check shares: the connection part of its
 * synopsis, its option groups (add PGHA_GROUP_THRESHOLDS for -w/-c), and
 * the last lines of its notes. */
#define PGHA_PG_SYNOPSIS \
	"[-H HOST] [-p PORT] [-d DB] [-U USER] [--dsn CONNINFO] [--patroni URL [--member NAME]]"
#define PGHA_PG_GROUPS (PGHA_GROUP_PG | PGHA_GROUP_PATRONI | PGHA_GROUP_TLS | PGHA_GROUP_MEMBER)
#define PGHA_PG_NOTES \
	"With --patroni it connects to the current leader (or --member).\n" \
	"A server that cannot be reached within -t is CRITICAL unless --timeout-result says " \
	"otherwise."

/* pgha_options_parse for a libpq check, which also refuses --member
 * without --patroni. Returns -1 to go on, or the exit code main() returns
 * right away (as pgha_options_parse). */
int pgha_pg_options_parse(const struct pgha_program *p, int argc, char **argv,
			  struct pgha_common *c);

/* pgha_pg_target_connect, and on failure set r to the failure state with
 * "WHO: why" (just "why" when no name was made yet). Returns 0 or the
 * PGHA_E_* code. pg is initialised either way: pgha_pg_close() it. */
int pgha_pg_check_connect(struct pgha_pg *pg, const struct pgha_common *c, char *who,
			  size_t wholen, struct pgha_result *r);

/* pgha_pg_query, and on failure set r to "WHO: the server's message" in
 * the state pgha_pg_query_failure_state() gives. Returns 0 with pg->res
 * holding the answer, or the PGHA_E_* code. */
int pgha_pg_check_query(struct pgha_pg *pg, const struct pgha_common *c, const char *who,
			const char *sql, int nparams, const char *const *params,
			struct pgha_result *r);

/* The state for a query that failed with rc: the --timeout-result state
 * when it was cancelled at the deadline (PGHA_E_TIMEOUT) or failed within
 * 250 ms of it (the server's statement_timeout, set from -t, fires just
 * before our deadline); UNKNOWN for any other SQL error. */
enum pgha_state pgha_pg_query_failure_state(int rc, const struct pgha_common *c);

/* Parse --query-length N, the characters of a session's query that a
 * check shows in long output: 0 (none) to 1000. Returns 0 with *out set,
 * or PGHA_E_INVALID with a message in err. */
int pgha_pg_check_query_length(const char *arg, long *out, char *err, size_t errlen);

/* With -vv (c->verbose >= 2), the long-output line "connected to WHO as
 * "USER", PostgreSQL VERSION"; nothing otherwise. */
void pgha_pg_check_verbose(const struct pgha_pg *pg, const struct pgha_common *c,
			   const char *who, struct pgha_result *r);

#endif
