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
 */
#ifndef PGHA_PGTARGET_H
#define PGHA_PGTARGET_H

#include <stddef.h>

#include "options.h"
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

#endif
