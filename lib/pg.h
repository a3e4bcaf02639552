/*
 * pg.h: a thin libpq helper for the checks.
 *
 * Connections honour one deadline: connecting and each query are driven
 * with libpq's asynchronous calls and poll() on the socket, so neither a
 * dead host nor a stuck query can outlast -t (a query past the deadline is
 * cancelled). statement_timeout is also set from the time left, so the
 * server gives up too. Passwords come only from libpq's own sources
 * (.pgpass, PGPASSFILE, PGPASSWORD, service files); nothing here prints a
 * connection string.
 *
 * Ownership: struct pgha_pg owns its connection and its one current
 * result; a new query frees the previous result, pgha_pg_close() frees
 * both. Values returned by pgha_pg_value() live until then.
 */
#ifndef PGHA_PG_H
#define PGHA_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "clock.h"

struct pgha_pg_params {
	const char *host;     /* NULL: libpq's default (PGHOST, socket) */
	const char *port;
	const char *dbname;
	const char *user;
	const char *dsn;      /* conninfo or URI; other fields override it */
	const char *application_name; /* default "pgha" */
	const char *options;  /* more server settings ("-c name=value ..."),
				 sent after the user's options and our
				 statement_timeout; NULL for none */
};

struct pgha_pg {
	PGconn *conn;
	PGresult *res;
	char error[512]; /* last error, one line */
	const struct pgha_deadline *deadline; /* borrowed */
};

void pgha_pg_init(struct pgha_pg *pg);

/* Connect within the deadline (which must outlive pg). Returns 0,
 * PGHA_E_UNREACHABLE (refused, auth failure, ...: pg->error says which),
 * PGHA_E_TIMEOUT, or PGHA_E_NOMEM. */
int pgha_pg_connect(struct pgha_pg *pg, const struct pgha_pg_params *params,
		    const struct pgha_deadline *deadline);

/* Run sql with text parameters ($1..$n; NULL entries are SQL NULL).
 * Returns 0 with pg->res holding a TUPLES_OK or COMMAND_OK result,
 * PGHA_E_QUERY (pg->error holds the server's message), or PGHA_E_TIMEOUT
 * (cancelled at the deadline). */
int pgha_pg_query(struct pgha_pg *pg, const char *sql, int nparams,
		  const char *const *params);

int pgha_pg_rows(const struct pgha_pg *pg);
int pgha_pg_cols(const struct pgha_pg *pg);

/* Text of a field, NULL when SQL NULL or out of range. */
const char *pgha_pg_value(const struct pgha_pg *pg, int row, int col);

/* Text of a field for a message: "" when SQL NULL or out of range (never
 * NULL). Valid as long as pgha_pg_value()'s. */
const char *pgha_pg_text(const struct pgha_pg *pg, int row, int col);

/* A boolean field: true only for PostgreSQL's "t"; false for "f", SQL
 * NULL or out of range. */
bool pgha_pg_bool(const struct pgha_pg *pg, int row, int col);

/* A field as an integer / a number. PGHA_E_NOTFOUND for NULL or out of
 * range, PGHA_E_TYPE when it is not a number. */
int pgha_pg_int64(const struct pgha_pg *pg, int row, int col, int64_t *out);
int pgha_pg_double(const struct pgha_pg *pg, int row, int col, double *out);

/* Close the connection and free the result. Safe to call twice. */
void pgha_pg_close(struct pgha_pg *pg);

#endif
