/*
 * options.h: the command line every pgha check shares.
 *
 * A program describes itself (name, one-line summary, synopsis, its own
 * options) and which standard groups it accepts; pgha_options_parse() then
 * handles the reserved options of the plugin guidelines and the shared
 * pgha ones, calls the program back for its own, prints --help (within 80
 * columns) and --version, and on a bad option prints a one-line UNKNOWN
 * status plus a short usage. Only main() exits:
 *
 *     int done = pgha_options_parse(&program, argc, argv, &common);
 *     if (done >= 0)
 *             return done;
 *
 * Standard options, by group:
 *   always              -h --help, -V --version, -v --verbose (up to 3),
 *                       -t --timeout SECONDS (default 10),
 *                       --timeout-result STATE, --unreachable-state STATE
 *   PGHA_GROUP_THRESHOLDS  -w --warning RANGE, -c --critical RANGE
 *   PGHA_GROUP_HOST        -H --hostname HOST, -p --port PORT
 *   PGHA_GROUP_PG          -d --dbname, -U --username, --dsn CONNINFO
 *   PGHA_GROUP_PATRONI     --patroni URL (repeatable, comma list)
 *   PGHA_GROUP_ETCD        --etcd URL (repeatable, comma list)
 *   PGHA_GROUP_TLS         --auth-file F, --cacert F, --cert F, --key F,
 *                          --insecure
 *   PGHA_GROUP_MEMBER      --member NAME (with --patroni: which member's
 *                          PostgreSQL a libpq check connects to)
 * --timeout-result and --unreachable-state are two spellings of one
 * setting: the state reported when a peer cannot be reached or does not
 * answer within -t (default CRITICAL).
 *
 * After a successful parse a watchdog is armed: should the program still
 * run one second after -t, it prints "<NAME> <STATE> - plugin timed out
 * after N s" and exits with the --timeout-result state. Library calls take
 * their own timeouts from the same deadline, so the watchdog is a last
 * resort, never the normal path.
 */
#ifndef PGHA_OPTIONS_H
#define PGHA_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "clock.h"
#include "state.h"

enum pgha_option_group {
	PGHA_GROUP_THRESHOLDS = 1 << 0,
	PGHA_GROUP_HOST = 1 << 1,
	PGHA_GROUP_PG = 1 << 2,
	PGHA_GROUP_PATRONI = 1 << 3,
	PGHA_GROUP_ETCD = 1 << 4,
	PGHA_GROUP_TLS = 1 << 5,
	PGHA_GROUP_MEMBER = 1 << 6
};

#define PGHA_MAX_URL_ARGS 16

/* One option of the program's own. */
struct pgha_option {
	const char *long_name; /* without "--" */
	int short_name;        /* a letter, or 0 */
	const char *arg_name;  /* NULL for a flag, else e.g. "ROLE" */
	const char *help;      /* one sentence; wrapped to 80 columns */
	int id;                /* passed back to the handler */
};

/* The parsed standard options. Strings point into argv. */
struct pgha_common {
	int verbose;
	double timeout;                 /* seconds */
	enum pgha_state timeout_result; /* unreachable or no answer in time */
	const char *warning, *critical;
	const char *hostname, *port;
	const char *dbname, *username, *dsn;
	const char *patroni[PGHA_MAX_URL_ARGS];
	size_t n_patroni;
	const char *etcd[PGHA_MAX_URL_ARGS];
	size_t n_etcd;
	const char *member;             /* --member, NULL: the leader */
	const char *auth_file;          /* or $PGHA_AUTH_FILE */
	const char *cacert, *cert, *key;
	bool insecure;
	struct pgha_deadline deadline;  /* started when parsing succeeds */
};

/* The program's description. handler returns 0, or PGHA_E_INVALID after
 * writing a one-line message into err. */
struct pgha_program {
	const char *name;        /* "check_pgha_node" */
	const char *result_name; /* "PGHA_NODE": the status line prefix */
	const char *summary;     /* what it checks, one sentence */
	const char *synopsis;    /* arguments after the name in "Usage:" */
	unsigned groups;         /* PGHA_GROUP_* */
	const struct pgha_option *options; /* may be NULL */
	size_t n_options;
	int (*handler)(void *ctx, int id, const char *arg, char *err, size_t errlen);
	void *ctx;
	const char *notes;       /* free text printed at the end of --help */
};

/* Parse argv. Returns -1 to go on, or the exit code main() should return
 * right away (--help and --version: 3 after printing; a bad option: 3
 * after printing "NAME UNKNOWN - message" and a short usage). */
int pgha_options_parse(const struct pgha_program *p, int argc, char **argv,
		       struct pgha_common *c);

/* Print "NAME UNKNOWN - <message>" and the short usage to stdout, for
 * option errors found after parsing (e.g. an invalid range). Returns 3. */
int pgha_options_fail(const struct pgha_program *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print the full --help text to f (used by parse, exposed for tests). */
void pgha_options_help(const struct pgha_program *p, FILE *f);

/* Disarm the watchdog (tests; programs that run long on purpose). */
void pgha_options_disarm(void);

#endif
