/* pg.c: libpq connections and queries under a deadline (see pg.h). */
#define _POSIX_C_SOURCE 200809L
#include "pg.h"
#include "error.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pgha_pg_init(struct pgha_pg *pg)
{
	pg->conn = NULL;
	pg->res = NULL;
	pg->error[0] = '\0';
	pg->deadline = NULL;
}

/* Keep the first line of a libpq message, without its trailing newline. */
static void set_error(struct pgha_pg *pg, const char *prefix, const char *msg)
{
	size_t len = strcspn(msg, "\n");
	snprintf(pg->error, sizeof pg->error, "%s%.*s", prefix, (int)len, msg);
}

/* Wait until the socket is readable/writable or the deadline passes.
 * Returns 0, or PGHA_E_TIMEOUT. */
static int wait_socket(struct pgha_pg *pg, bool for_write)
{
	struct pollfd pfd = { .fd = PQsocket(pg->conn), .events = for_write ? POLLOUT : POLLIN };
	for (;;) {
		int64_t left = pgha_deadline_left_ms(pg->deadline);
		if (left <= 0)
			return PGHA_E_TIMEOUT;
		int n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return PGHA_E_TIMEOUT;
		if (errno != EINTR)
			return PGHA_E_UNREACHABLE;
	}
}

/* The "options" the user gave (in the conninfo, else PGOPTIONS), or "".
 * libpq takes a single options value and ours must not replace theirs, so
 * they are joined. *parsed, when set, must be freed with
 * PQconninfoFree. */
static const char *user_options(const char *dsn, PQconninfoOption **parsed)
{
	*parsed = NULL;
	if (dsn) {
		char *errmsg = NULL;
		*parsed = PQconninfoParse(dsn, &errmsg);
		PQfreemem(errmsg); /* a bad dsn is reported by the connection */
		for (PQconninfoOption *o = *parsed; o && o->keyword; o++)
			if (strcmp(o->keyword, "options") == 0 && o->val)
				return o->val;
	}
	const char *env = getenv("PGOPTIONS");
	return env ? env : "";
}

int pgha_pg_connect(struct pgha_pg *pg, const struct pgha_pg_params *p,
		    const struct pgha_deadline *deadline)
{
	const char *keys[10], *values[10];
	int n = 0;
	char options[1024];
	PQconninfoOption *parsed;

	pg->deadline = deadline;
	/* the server gives up a little before we do */
	int64_t left = pgha_deadline_left_ms(deadline);
	const char *theirs = user_options(p->dsn, &parsed);
	int len = snprintf(options, sizeof options, "%s%s-c statement_timeout=%lld%s%s", theirs,
			   theirs[0] ? " " : "", (long long)(left > 100 ? left - 50 : 50),
			   p->options ? " " : "", p->options ? p->options : "");
	PQconninfoFree(parsed);
	if (len < 0 || (size_t)len >= sizeof options) {
		snprintf(pg->error, sizeof pg->error, "connection options are too long");
		return PGHA_E_INVALID;
	}

	if (p->dsn) {
		keys[n] = "dbname"; /* expanded as a conninfo by expand_dbname */
		values[n++] = p->dsn;
	}
	if (p->host) { keys[n] = "host"; values[n++] = p->host; }
	if (p->port) { keys[n] = "port"; values[n++] = p->port; }
	if (p->dbname) { keys[n] = "dbname"; values[n++] = p->dbname; }
	if (p->user) { keys[n] = "user"; values[n++] = p->user; }
	keys[n] = "application_name";
	values[n++] = p->application_name ? p->application_name : "pgha";
	keys[n] = "options";
	values[n++] = options;
	keys[n] = NULL;
	values[n] = NULL;

	pg->conn = PQconnectStartParams(keys, values, p->dsn ? 1 : 0);
	if (!pg->conn) {
		snprintf(pg->error, sizeof pg->error, "out of memory");
		return PGHA_E_NOMEM;
	}
	if (PQstatus(pg->conn) == CONNECTION_BAD) {
		set_error(pg, "", PQerrorMessage(pg->conn));
		return PGHA_E_UNREACHABLE;
	}
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	for (;;) {
		if (st == PGRES_POLLING_OK)
			return 0;
		if (st == PGRES_POLLING_FAILED) {
			set_error(pg, "", PQerrorMessage(pg->conn));
			return PGHA_E_UNREACHABLE;
		}
		int rc = wait_socket(pg, st == PGRES_POLLING_WRITING);
		if (rc) {
			snprintf(pg->error, sizeof pg->error,
				 "could not connect to PostgreSQL: timed out");
			return rc;
		}
		st = PQconnectPoll(pg->conn);
	}
}

/* Ask the server to cancel the running query (best effort). */
static void cancel(struct pgha_pg *pg)
{
	PGcancel *c = PQgetCancel(pg->conn);
	if (c) {
		char buf[256];
		PQcancel(c, buf, sizeof buf);
		PQfreeCancel(c);
	}
}

int pgha_pg_query(struct pgha_pg *pg, const char *sql, int nparams,
		  const char *const *params)
{
	PQclear(pg->res);
	pg->res = NULL;
	if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
		snprintf(pg->error, sizeof pg->error, "not connected");
		return PGHA_E_QUERY;
	}
	if (!PQsendQueryParams(pg->conn, sql, nparams, NULL, params, NULL, NULL, 0)) {
		set_error(pg, "", PQerrorMessage(pg->conn));
		return PGHA_E_QUERY;
	}
	/* flush the query, then read until the result is complete */
	for (;;) {
		int f = PQflush(pg->conn);
		if (f == 0)
			break;
		if (f < 0 || wait_socket(pg, true)) {
			cancel(pg);
			snprintf(pg->error, sizeof pg->error, "could not send query: timed out");
			return PGHA_E_TIMEOUT;
		}
	}
	int rc = 0;
	for (;;) {
		while (PQisBusy(pg->conn)) {
			if (wait_socket(pg, false)) {
				cancel(pg);
				snprintf(pg->error, sizeof pg->error,
					 "query cancelled: no answer before the timeout");
				return PGHA_E_TIMEOUT;
			}
			if (!PQconsumeInput(pg->conn)) {
				set_error(pg, "", PQerrorMessage(pg->conn));
				return PGHA_E_QUERY;
			}
		}
		PGresult *r = PQgetResult(pg->conn);
		if (!r)
			break;
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
			if (!pg->res && rc == 0) {
				pg->res = r;
				continue;
			}
		} else if (rc == 0) {
			set_error(pg, "", PQresultErrorMessage(r));
			rc = PGHA_E_QUERY;
		}
		PQclear(r);
	}
	if (rc) {
		PQclear(pg->res);
		pg->res = NULL;
	}
	return rc;
}

int pgha_pg_rows(const struct pgha_pg *pg)
{
	return pg->res ? PQntuples(pg->res) : 0;
}

int pgha_pg_cols(const struct pgha_pg *pg)
{
	return pg->res ? PQnfields(pg->res) : 0;
}

const char *pgha_pg_value(const struct pgha_pg *pg, int row, int col)
{
	if (!pg->res || row < 0 || col < 0 || row >= PQntuples(pg->res) ||
	    col >= PQnfields(pg->res) || PQgetisnull(pg->res, row, col))
		return NULL;
	return PQgetvalue(pg->res, row, col);
}

const char *pgha_pg_text(const struct pgha_pg *pg, int row, int col)
{
	const char *v = pgha_pg_value(pg, row, col);
	return v ? v : "";
}

bool pgha_pg_bool(const struct pgha_pg *pg, int row, int col)
{
	const char *v = pgha_pg_value(pg, row, col);
	return v && strcmp(v, "t") == 0;
}

int pgha_pg_int64(const struct pgha_pg *pg, int row, int col, int64_t *out)
{
	const char *s = pgha_pg_value(pg, row, col);
	if (!s)
		return PGHA_E_NOTFOUND;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return PGHA_E_TYPE;
	*out = v;
	return 0;
}

int pgha_pg_double(const struct pgha_pg *pg, int row, int col, double *out)
{
	const char *s = pgha_pg_value(pg, row, col);
	if (!s)
		return PGHA_E_NOTFOUND;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return PGHA_E_TYPE;
	*out = v;
	return 0;
}

void pgha_pg_close(struct pgha_pg *pg)
{
	PQclear(pg->res);
	pg->res = NULL;
	if (pg->conn)
		PQfinish(pg->conn);
	pg->conn = NULL;
}
