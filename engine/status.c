/*
 * status.c: `pgha status` (see status.h, man/pgha.1, docs/status-json.md).
 *
 * Three parts: the configuration (options over the cluster file), the
 * gather (everything asked concurrently under one deadline, into one
 * struct gather that owns every answer), and the views (text, JSON,
 * health line) that only read the gather. --watch repeats gather + text.
 */
#define _POSIX_C_SOURCE 200809L
#include <config.h>

#include "status.h"
#include "auth.h"
#include "buf.h"
#include "clock.h"
#include "clusterfile.h"
#include "error.h"
#include "etcd.h"
#include "fanout.h"
#include "http.h"
#include "json.h"
#include "options.h"
#include "patroni.h"
#include "pg.h"
#include "rest.h"
#include "state.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define PROG "pgha status"
#define RESULT_NAME "PGHA_STATUS"
#define SCHEMA_VERSION 1
#define DEFAULT_TIMEOUT 5.0
#define DEFAULT_INTERVAL 5.0
#define MAX_PROBES 48
#define MAX_PROBLEMS 48
#define OUTPUT_LIMIT (1024 * 1024)
#define BLOCKED_SHOWN 10

/* snprintf for text that may be cut at the buffer's end (on purpose). */
__attribute__((format(printf, 3, 4)))
static void textf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* configuration                                                            */
/* ------------------------------------------------------------------------ */

enum mode { MODE_TEXT, MODE_JSON, MODE_HEALTH };

struct config {
	enum mode mode;
	bool watch;
	double interval;                     /* seconds between redraws */
	double timeout;                      /* -t, seconds per gather */
	bool color;
	const char *file;                    /* the cluster file, or NULL */
	struct pgha_clusterfile cf;          /* loaded when file is set */
	char *patroni[PGHA_CF_MAX_URLS];     /* owned, one URL each */
	size_t n_patroni;
	char *etcd[PGHA_CF_MAX_URLS];        /* owned */
	size_t n_etcd;
	const char *scope;                   /* --scope or the file's, or NULL */
	const char *dbname, *username;       /* -d, -U */
	char *conninfo;                      /* owned: --dsn or [postgresql] */
	struct pgha_common common;           /* what pgha_rest_open reads */
};

/* Command-line values before they are merged with the cluster file. */
struct cli {
	const char *file;
	const char *patroni[PGHA_CF_MAX_URLS];
	size_t n_patroni;
	const char *etcd[PGHA_CF_MAX_URLS];
	size_t n_etcd;
	const char *scope, *dbname, *username, *dsn;
	const char *auth_file, *cacert, *cert, *key;
	bool insecure, no_color;
};

enum {
	OPT_PATRONI = 256, OPT_ETCD, OPT_SCOPE, OPT_DSN, OPT_AUTH_FILE, OPT_CACERT,
	OPT_CERT, OPT_KEY, OPT_INSECURE, OPT_JSON, OPT_HEALTH, OPT_WATCH, OPT_NO_COLOR
};

static const struct option long_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "cluster-file", required_argument, NULL, 'c' },
	{ "timeout", required_argument, NULL, 't' },
	{ "patroni", required_argument, NULL, OPT_PATRONI },
	{ "etcd", required_argument, NULL, OPT_ETCD },
	{ "scope", required_argument, NULL, OPT_SCOPE },
	{ "dbname", required_argument, NULL, 'd' },
	{ "username", required_argument, NULL, 'U' },
	{ "dsn", required_argument, NULL, OPT_DSN },
	{ "auth-file", required_argument, NULL, OPT_AUTH_FILE },
	{ "cacert", required_argument, NULL, OPT_CACERT },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "health-check", no_argument, NULL, OPT_HEALTH },
	{ "watch", optional_argument, NULL, OPT_WATCH },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ NULL, 0, NULL, 0 },
};

void pgha_status_help(void)
{
	fputs(
"pgha status (" PACKAGE_NAME ") " PACKAGE_VERSION "\n"
"Show one Patroni+etcd cluster: members, roles, timelines, replication lag,\n"
"etcd quorum, connections and blocked sessions on the leader, maintenance\n"
"mode and scheduled actions.\n"
"\n"
"Usage: pgha status [-c CLUSTERFILE] [--json | --health-check | --watch [S]]\n"
"                   [--patroni URL] [--etcd URL] [-t SECONDS] [OPTIONS]\n"
"\n"
"Options:\n"
"  -c, --cluster-file FILE  the cluster file (default $PGHA_CLUSTER_FILE when\n"
"                           no --patroni is given); options below override it\n"
"      --json               print one JSON document (docs/status-json.md)\n"
"      --health-check       print one line; exit 0 OK, 1 WARNING, 2 CRITICAL,\n"
"                           3 UNKNOWN\n"
"      --watch [SECONDS]    redraw every SECONDS (default 5) until Ctrl-C\n"
"  -t, --timeout SECONDS    time for one look at the cluster (default 5)\n"
"      --patroni URL        Patroni REST API base URL; repeat or separate with\n"
"                           commas; list every node\n"
"      --etcd URL           etcd client URL; repeat or separate with commas\n"
"      --scope NAME         the cluster's scope (checked against Patroni's)\n"
"  -d, --dbname NAME        database on the leader (default: libpq's)\n"
"  -U, --username USER      database user; the password comes from .pgpass or\n"
"                           PGPASSFILE\n"
"      --dsn CONNINFO       libpq connection string (replaces [postgresql])\n"
"      --auth-file FILE     REST/etcd credentials (username=, password=; mode\n"
"                           0600); default $PGHA_AUTH_FILE\n"
"      --cacert FILE        CA bundle to verify TLS peers\n"
"      --cert FILE          TLS client certificate (PEM)\n"
"      --key FILE           TLS client key (PEM)\n"
"      --insecure           do not verify TLS certificates (unsafe)\n"
"      --no-color           no colour (also: NO_COLOR set, or not a terminal)\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n"
"\n"
"Exit status: text, --json and --watch exit 0 once shown (the cluster's\n"
"health is in the output), 2 for a usage error or a bad cluster file, 1 when\n"
"the output cannot be written. --health-check exits with the health: 0 OK,\n"
"1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for a usage error).\n", stdout);
}

/* Report a problem found before looking at the cluster, in the form the
 * mode calls for: --health-check prints its one UNKNOWN line on stdout and
 * returns 3; the other modes print the message on stderr (a usage error
 * with a hint) and return 2. */
__attribute__((format(printf, 3, 0)))
static int vreport(enum mode mode, bool usage, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	for (char *m = msg; *m; m++)
		if (*m == '\n' || (mode == MODE_HEALTH && *m == '|'))
			*m = ' ';
	if (mode == MODE_HEALTH) {
		printf("%s UNKNOWN - %s\n", RESULT_NAME, msg);
		fflush(stdout);
		return PGHA_UNKNOWN;
	}
	if (usage)
		fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", PROG, msg, PROG);
	else
		fprintf(stderr, "%s\n", msg);
	return 2;
}

/* A bad option: "pgha status: ..." and a hint. */
__attribute__((format(printf, 2, 3)))
static int usage_error(enum mode mode, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vreport(mode, true, fmt, ap);
	va_end(ap);
	return rc;
}

/* A bad cluster file or credentials file: the message alone, one line
 * (a cluster file error starts with "FILE:LINE:"). */
__attribute__((format(printf, 2, 3)))
static int config_error(enum mode mode, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vreport(mode, false, fmt, ap);
	va_end(ap);
	return rc;
}

static int parse_seconds(const char *arg, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= min) || v > max)
		return PGHA_E_INVALID;
	*out = v;
	return 0;
}

/* Split comma lists into single URLs (owned), checking each. */
static int split_urls(const char *const *args, size_t n_args, char **out, size_t *n,
		      const char *what, char *err, size_t errlen)
{
	struct pgha_http check;
	int rc = pgha_http_init(&check);
	for (size_t i = 0; rc == 0 && i < n_args; i++)
		rc = pgha_http_add_endpoints(&check, args[i], err, errlen);
	if (rc == PGHA_E_TOOBIG)
		pgha_errf(err, errlen, "too many %s URLs (at most %d)", what, PGHA_CF_MAX_URLS);
	for (size_t i = 0; rc == 0 && i < check.n_endpoints; i++) {
		if (*n >= PGHA_CF_MAX_URLS) {
			pgha_errf(err, errlen, "too many %s URLs (at most %d)", what, PGHA_CF_MAX_URLS);
			rc = PGHA_E_INVALID;
			break;
		}
		out[*n] = strdup(check.endpoints[i]);
		if (!out[*n]) {
			pgha_errf(err, errlen, "out of memory");
			rc = PGHA_E_NOMEM;
			break;
		}
		(*n)++;
	}
	pgha_http_free(&check);
	return rc;
}

static void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_patroni; i++)
		free(cfg->patroni[i]);
	for (size_t i = 0; i < cfg->n_etcd; i++)
		free(cfg->etcd[i]);
	free(cfg->conninfo);
	pgha_clusterfile_free(&cfg->cf);
	memset(cfg, 0, sizeof *cfg);
}

/* argv -> cfg. Returns -1 to go on, or an exit code. */
static int configure(int argc, char **argv, struct config *cfg)
{
	struct cli cli;
	char err[1024];

	memset(&cli, 0, sizeof cli);
	memset(cfg, 0, sizeof *cfg);
	cfg->timeout = DEFAULT_TIMEOUT;
	cfg->interval = DEFAULT_INTERVAL;
	/* the mode decides how errors are reported: know it before parsing */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--health-check") == 0)
			cfg->mode = MODE_HEALTH;
	enum mode err_mode = cfg->mode;

	opterr = 0;
	optind = 1;
	for (;;) {
		int prev = optind;
		int id = getopt_long(argc, argv, "+:hVc:t:d:U:", long_options, NULL);
		if (id == -1)
			break;
		const char *spelled = prev < argc ? argv[prev] : "?";
		switch (id) {
		case 'h':
			pgha_status_help();
			return 0;
		case 'V':
			printf("pgha (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return 0;
		case 'c': cli.file = optarg; break;
		case 't':
			if (parse_seconds(optarg, 0.001, 3600, &cfg->timeout))
				return usage_error(err_mode, "invalid timeout \"%s\": seconds "
						   "above 0, at most 3600", optarg);
			break;
		case OPT_PATRONI:
		case OPT_ETCD: {
			const char **list = id == OPT_PATRONI ? cli.patroni : cli.etcd;
			size_t *n = id == OPT_PATRONI ? &cli.n_patroni : &cli.n_etcd;
			if (*n >= PGHA_CF_MAX_URLS)
				return usage_error(err_mode, "too many %s options", spelled);
			list[(*n)++] = optarg;
			break;
		}
		case OPT_SCOPE: cli.scope = optarg; break;
		case 'd': cli.dbname = optarg; break;
		case 'U': cli.username = optarg; break;
		case OPT_DSN: cli.dsn = optarg; break;
		case OPT_AUTH_FILE: cli.auth_file = optarg; break;
		case OPT_CACERT: cli.cacert = optarg; break;
		case OPT_CERT: cli.cert = optarg; break;
		case OPT_KEY: cli.key = optarg; break;
		case OPT_INSECURE: cli.insecure = true; break;
		case OPT_JSON:
			if (cfg->mode == MODE_HEALTH)
				return usage_error(err_mode, "--json and --health-check "
						   "exclude each other");
			cfg->mode = MODE_JSON;
			break;
		case OPT_HEALTH:
			if (cfg->mode == MODE_JSON)
				return usage_error(err_mode, "--json and --health-check "
						   "exclude each other");
			cfg->mode = MODE_HEALTH;
			break;
		case OPT_WATCH: {
			/* --watch=2, or --watch 2: the next word when it is not an
			 * option */
			const char *arg = optarg;
			if (!arg && optind < argc && argv[optind][0] != '-')
				arg = argv[optind++];
			cfg->watch = true;
			if (arg && parse_seconds(arg, 0.1, 86400, &cfg->interval))
				return usage_error(err_mode, "invalid --watch interval \"%s\": "
						   "seconds, at least 0.1", arg);
			break;
		}
		case OPT_NO_COLOR: cli.no_color = true; break;
		case ':':
			return usage_error(err_mode, "option '%s' needs a value", spelled);
		default:
			if (optopt >= 256 || (optopt && strncmp(spelled, "--", 2) == 0 &&
					      strchr(spelled, '=')))
				return usage_error(err_mode, "option '%.*s' takes no value",
						   (int)strcspn(spelled, "="), spelled);
			if (optopt && optopt < 256)
				return usage_error(err_mode, "unknown option '-%c'", optopt);
			return usage_error(err_mode, "unknown option '%s'", spelled);
		}
	}
	if (optind < argc)
		return usage_error(err_mode, "unexpected argument \"%s\"", argv[optind]);
	if (cfg->watch && cfg->mode != MODE_TEXT)
		return usage_error(err_mode, "--watch shows text: it does not combine with "
				   "--json or --health-check");

	/* the cluster file: -c, else $PGHA_CLUSTER_FILE unless --patroni */
	cfg->file = cli.file;
	if (!cfg->file && !cli.n_patroni) {
		const char *env = getenv("PGHA_CLUSTER_FILE");
		if (env && *env)
			cfg->file = env;
	}
	if (cfg->file) {
		if (pgha_clusterfile_load(cfg->file, &cfg->cf, err, sizeof err))
			return config_error(cfg->mode, "%s", err);
	}
	const struct pgha_clusterfile *cf = &cfg->cf;

	int rc = 0;
	if (cli.n_patroni)
		rc = split_urls(cli.patroni, cli.n_patroni, cfg->patroni, &cfg->n_patroni,
				"--patroni", err, sizeof err);
	else
		rc = split_urls((const char *const *)cf->patroni, cf->n_patroni, cfg->patroni,
				&cfg->n_patroni, "patroni", err, sizeof err);
	if (rc == 0 && cli.n_etcd)
		rc = split_urls(cli.etcd, cli.n_etcd, cfg->etcd, &cfg->n_etcd, "--etcd",
				err, sizeof err);
	else if (rc == 0)
		rc = split_urls((const char *const *)cf->etcd, cf->n_etcd, cfg->etcd,
				&cfg->n_etcd, "etcd", err, sizeof err);
	if (rc)
		return usage_error(cfg->mode, "%s", err);
	if (!cfg->n_patroni)
		return usage_error(cfg->mode, "which cluster? Give -c CLUSTERFILE, set "
				   "PGHA_CLUSTER_FILE or give --patroni URL");

	cfg->scope = cli.scope ? cli.scope : cf->scope;
	cfg->dbname = cli.dbname;
	cfg->username = cli.username;
	if (cli.dsn) {
		cfg->conninfo = strdup(cli.dsn);
		if (!cfg->conninfo)
			return usage_error(cfg->mode, "out of memory");
	} else {
		struct pgha_buf b;
		pgha_buf_init(&b, 64 * 1024);
		if (pgha_clusterfile_conninfo(cf, &b))
			return usage_error(cfg->mode, "[postgresql] too long");
		if (b.len)
			cfg->conninfo = pgha_buf_steal(&b);
		pgha_buf_free(&b);
	}

	/* what the REST clients read */
	struct pgha_common *c = &cfg->common;
	c->timeout = cfg->timeout;
	c->timeout_result = PGHA_CRITICAL;
	c->auth_file = cli.auth_file ? cli.auth_file : cf->auth_file;
	if (!c->auth_file) {
		const char *env = getenv("PGHA_AUTH_FILE");
		if (env && *env)
			c->auth_file = env;
	}
	c->cacert = cli.cacert ? cli.cacert : cf->cacert;
	c->cert = cli.cert ? cli.cert : cf->cert;
	c->key = cli.key ? cli.key : cf->key;
	c->insecure = cli.insecure || cf->insecure;
	for (size_t i = 0; i < cfg->n_patroni; i++)
		c->patroni[c->n_patroni++] = cfg->patroni[i];
	for (size_t i = 0; i < cfg->n_etcd; i++)
		c->etcd[c->n_etcd++] = cfg->etcd[i];
	if (c->auth_file) {
		/* a bad credentials file is a configuration error: say so once */
		struct pgha_credentials creds;
		if (pgha_credentials_load(c->auth_file, &creds, err, sizeof err))
			return config_error(cfg->mode, "%s", err);
		pgha_credentials_free(&creds);
	}

	const char *no_color = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	cfg->color = cfg->mode == MODE_TEXT && !cli.no_color && !(no_color && *no_color) &&
		     isatty(STDOUT_FILENO) && !(term && strcmp(term, "dumb") == 0);
	return -1;
}

/* ------------------------------------------------------------------------ */
/* gather                                                                   */
/* ------------------------------------------------------------------------ */

/* GET /patroni of one node. */
struct probe {
	char base[512];       /* "http://host:port", as configured or published */
	char url[600];        /* base + "/patroni" */
	bool configured;      /* listed in the cluster file / --patroni */
	bool alias;           /* the same node as another probe: not shown */
	int rc;               /* of the request */
	long status;
	char error[300];      /* why it failed */
	cJSON *doc;           /* owned */
	bool ok;              /* doc parsed */
	struct pgha_patroni_node node; /* borrows from doc */
};

struct gather {
	const struct config *cfg;
	struct pgha_deadline deadline;
	struct timespec t0;
	double elapsed_ms;
	time_t when;

	/* GET /cluster (cluster thread) */
	int cluster_rc;
	char cluster_error[512];
	char cluster_endpoint[512];
	cJSON *cluster_doc;              /* owned */
	struct pgha_cluster cluster;     /* borrows from cluster_doc */
	bool have_cluster;

	/* the leader's PostgreSQL (cluster thread) */
	bool pg_tried;
	char pg_member[128];
	char pg_host[256];
	int pg_port;
	int pg_rc;
	char pg_error[600];
	cJSON *pg_doc;                   /* owned: the query's JSON */
	int pg_server_version;

	/* etcd (etcd thread) */
	bool etcd_configured;
	int etcd_rc;
	char etcd_error[512];
	struct pgha_etcd_view etcd_view;
	struct pgha_etcd_health etcd_health;

	/* every node's GET /patroni (main thread) */
	struct probe probes[MAX_PROBES];
	size_t n_probes;
};

/* One query for everything shown about the leader's PostgreSQL, as JSON.
 * Lag is measured on the leader (the /cluster lag is not real lag):
 * replay lag in bytes from pg_wal_lsn_diff, in seconds from replay_lag
 * (NULL, i.e. nothing to replay, is 0). It reads the functions behind
 * pg_stat_activity and pg_stat_replication rather than the views: a
 * fresh backend plans that in a third of the time. */
#define PG_SQL(WAITSTART) \
	"WITH a AS (SELECT pid, usesysid, datid, application_name, state, wait_event_type," \
	"        query, query_start FROM pg_stat_get_activity(NULL)" \
	"        WHERE backend_type = 'client backend')," \
	" bl AS (SELECT * FROM (SELECT a.*, pg_blocking_pids(a.pid) AS blockers FROM a" \
	"        WHERE a.wait_event_type = 'Lock') w WHERE cardinality(w.blockers) > 0)," \
	" r AS (SELECT s.application_name, s.client_addr, w.state, w.sync_state, w.replay_lsn," \
	"        w.replay_lag FROM pg_stat_get_wal_senders() w" \
	"        LEFT JOIN pg_stat_get_activity(w.pid) s ON true" \
	"        WHERE w.state IS DISTINCT FROM 'backup')," \
	" cur AS (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()" \
	"        ELSE pg_current_wal_lsn() END AS lsn)" \
	" SELECT json_build_object(" \
	"  'in_recovery', pg_is_in_recovery()," \
	"  'server_version', split_part(current_setting('server_version'), ' ', 1)," \
	"  'max_connections', current_setting('max_connections')::int," \
	"  'connections', (SELECT json_build_object('total', count(*)," \
	"    'active', count(*) FILTER (WHERE state = 'active')," \
	"    'idle', count(*) FILTER (WHERE state = 'idle')," \
	"    'idle_in_transaction', count(*) FILTER (WHERE state LIKE 'idle in transaction%')," \
	"    'waiting_on_locks', count(*) FILTER (WHERE wait_event_type = 'Lock')) FROM a)," \
	"  'replication', (SELECT coalesce(json_agg(json_build_object(" \
	"    'name', r.application_name, 'client_addr', host(r.client_addr)," \
	"    'state', r.state, 'sync_state', r.sync_state," \
	"    'lag_bytes', pg_wal_lsn_diff(cur.lsn, r.replay_lsn)::bigint," \
	"    'lag_seconds', coalesce(extract(epoch FROM r.replay_lag), 0)::float8)" \
	"    ORDER BY r.application_name), '[]') FROM r, cur)," \
	"  'blocked_count', (SELECT count(*) FROM bl)," \
	"  'blocked', (SELECT coalesce(json_agg(x ORDER BY x.waiting_seconds DESC), '[]') FROM (" \
	"    SELECT bl.pid, bl.usesysid::regrole::text AS \"user\"," \
	"     (SELECT datname FROM pg_database d WHERE d.oid = bl.datid) AS \"database\"," \
	"     bl.application_name AS \"application\", bl.blockers AS \"blocked_by\"," \
	"     greatest(extract(epoch FROM now() - " WAITSTART "), 0)::float8 AS \"waiting_seconds\"," \
	"     left(regexp_replace(bl.query, '\\s+', ' ', 'g'), 200) AS \"query\"" \
	"    FROM bl ORDER BY 6 DESC LIMIT 10) x))"
static const char pg_sql_14[] = PG_SQL(
	"coalesce((SELECT min(l.waitstart) FROM pg_locks l WHERE l.pid = bl.pid"
	" AND NOT l.granted), bl.query_start, now())");
static const char pg_sql_10[] = PG_SQL("coalesce(bl.query_start, now())");

/* Connect to the leader's PostgreSQL and run the query. */
static void pg_look(struct gather *g, const struct pgha_member *leader)
{
	const struct config *cfg = g->cfg;
	const struct pgha_cf_node *n = pgha_clusterfile_node(&cfg->cf, leader->name);
	char port[16];
	struct pgha_pg pg;

	g->pg_tried = true;
	textf(g->pg_member, sizeof g->pg_member, "%s", leader->name);
	textf(g->pg_host, sizeof g->pg_host, "%s", n && n->host ? n->host : leader->host);
	g->pg_port = n && n->port ? n->port : (int)leader->port;
	if (!g->pg_host[0] || g->pg_port <= 0) {
		pgha_errf(g->pg_error, sizeof g->pg_error, "Patroni publishes no host and port "
			  "for \"%s\" (set them in its [node] section)", leader->name);
		g->pg_rc = PGHA_E_PROTOCOL;
		return;
	}
	textf(port, sizeof port, "%d", g->pg_port);
	struct pgha_pg_params params = {
		.host = g->pg_host, .port = port, .dbname = cfg->dbname,
		.user = cfg->username, .dsn = cfg->conninfo, .application_name = "pgha status",
	};
	pgha_pg_init(&pg);
	g->pg_rc = pgha_pg_connect(&pg, &params, &g->deadline);
	if (g->pg_rc == 0) {
		g->pg_server_version = PQserverVersion(pg.conn);
		g->pg_rc = pgha_pg_query(&pg, g->pg_server_version >= 140000 ? pg_sql_14 : pg_sql_10,
					 0, NULL);
	}
	if (g->pg_rc) {
		pgha_errf(g->pg_error, sizeof g->pg_error, "%s", pg.error);
	} else {
		const char *text = pgha_pg_value(&pg, 0, 0);
		char why[128];
		if (!text || pgha_json_parse(text, strlen(text), &g->pg_doc, why, sizeof why)) {
			pgha_errf(g->pg_error, sizeof g->pg_error, "unexpected answer to the "
				  "status query");
			g->pg_rc = PGHA_E_PROTOCOL;
		}
	}
	pgha_pg_close(&pg);
}

/* Thread: GET /cluster from the first node that answers, then PostgreSQL. */
static void *cluster_thread(void *arg)
{
	struct gather *g = arg;
	const struct config *cfg = g->cfg;
	struct pgha_rest rest;
	long status = 0;
	const char *endpoint = NULL;

	g->cluster_rc = pgha_rest_open(&rest, cfg->common.patroni, cfg->common.n_patroni,
				       &cfg->common, g->cluster_error, sizeof g->cluster_error);
	if (g->cluster_rc == 0)
		g->cluster_rc = pgha_rest_get_json(&rest, &g->deadline, "/cluster", &g->cluster_doc,
						   &status, &endpoint, g->cluster_error,
						   sizeof g->cluster_error);
	if (g->cluster_rc == 0) {
		textf(g->cluster_endpoint, sizeof g->cluster_endpoint, "%s", endpoint);
		g->cluster_rc = pgha_cluster_parse(g->cluster_doc, &g->cluster, g->cluster_error,
						   sizeof g->cluster_error);
		if (g->cluster_rc)
			pgha_errf(g->cluster_error, sizeof g->cluster_error, "GET /cluster from "
				  "\"%s\" (HTTP %ld): no member list", endpoint, status);
	}
	pgha_rest_close(&rest);
	if (g->cluster_rc)
		return NULL;
	g->have_cluster = true;
	const struct pgha_member *leader = pgha_cluster_leader(&g->cluster);
	if (leader)
		pg_look(g, leader);
	return NULL;
}

/* Thread: etcd's members, then every voter's status. */
static void *etcd_thread(void *arg)
{
	struct gather *g = arg;
	const struct config *cfg = g->cfg;
	struct pgha_rest rest;

	g->etcd_rc = pgha_rest_open(&rest, cfg->common.etcd, cfg->common.n_etcd, &cfg->common,
				    g->etcd_error, sizeof g->etcd_error);
	if (g->etcd_rc == 0)
		g->etcd_rc = pgha_etcd_discover(&rest, &g->deadline, &g->etcd_view, g->etcd_error,
						sizeof g->etcd_error);
	if (g->etcd_rc == 0)
		pgha_etcd_assess(&rest.http, &g->deadline, 0, &g->etcd_view, &g->etcd_health);
	pgha_rest_close(&rest);
	return NULL;
}

/* "http://h:p/patroni" or "http://h:p/" -> "http://h:p". */
static void base_of(const char *url, char *out, size_t len)
{
	textf(out, len, "%s", url);
	size_t n = strlen(out);
	while (n && out[n - 1] == '/')
		out[--n] = '\0';
	if (n >= 8 && strcmp(out + n - 8, "/patroni") == 0)
		out[n - 8] = '\0';
}

static struct probe *add_probe(struct gather *g, const char *url, bool configured)
{
	if (g->n_probes >= MAX_PROBES)
		return NULL;
	struct probe *p = &g->probes[g->n_probes++];
	memset(p, 0, sizeof *p);
	base_of(url, p->base, sizeof p->base);
	textf(p->url, sizeof p->url, "%s/patroni", p->base);
	p->configured = configured;
	return p;
}

/* GET /patroni of probes [from, to) at once. */
static void run_probes(struct gather *g, size_t from, size_t to)
{
	struct pgha_fanout items[MAX_PROBES];
	size_t n = to - from;
	if (!n)
		return;
	struct pgha_rest rest;
	char err[256];
	/* a client for the credentials and TLS settings; the URLs are the probes' */
	int rc = pgha_rest_open(&rest, g->cfg->common.patroni, g->cfg->common.n_patroni,
				&g->cfg->common, err, sizeof err);
	for (size_t i = 0; i < n; i++)
		items[i] = (struct pgha_fanout){ .method = "GET", .url = g->probes[from + i].url };
	bool ran = rc == 0;
	if (ran)
		rc = pgha_fanout_run(&rest.http, &g->deadline, 0, items, n);
	for (size_t i = 0; i < n; i++) {
		struct probe *p = &g->probes[from + i];
		if (rc) {
			p->rc = rc;
			pgha_errf(p->error, sizeof p->error, "%s", rc == PGHA_E_NOMEM ? "out of memory" : err);
			continue;
		}
		p->rc = items[i].rc;
		p->status = items[i].resp.status;
		char why[128];
		if (p->rc) {
			pgha_errf(p->error, sizeof p->error, "%s", items[i].resp.error);
		} else if (pgha_json_parse(pgha_buf_str(&items[i].resp.body), items[i].resp.body.len,
					   &p->doc, why, sizeof why) ||
			   pgha_patroni_node_parse(p->doc, &p->node, why, sizeof why)) {
			pgha_errf(p->error, sizeof p->error, "GET %s answered HTTP %ld: %s", p->url,
				  p->status, items[i].resp.body.len ? "not a Patroni status" : "no body");
			p->rc = PGHA_E_PROTOCOL;
		} else {
			p->ok = true;
		}
	}
	if (ran)
		pgha_fanout_free(items, n);
	pgha_rest_close(&rest);
}

static bool same_base(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* The probe of a /cluster member, by its published api_url. */
static struct probe *probe_of_member(struct gather *g, const struct pgha_member *m)
{
	char base[512];
	if (!m->api_url[0])
		return NULL;
	base_of(m->api_url, base, sizeof base);
	for (size_t i = 0; i < g->n_probes; i++)
		if (!g->probes[i].alias && same_base(g->probes[i].base, base))
			return &g->probes[i];
	return NULL;
}

/* Two answers from the same node (a configured URL spelled differently
 * from the published one): same name (3.2+) or same postmaster start. */
static bool same_node(const struct probe *a, const struct probe *b)
{
	if (!a->ok || !b->ok)
		return false;
	if (a->node.name[0] && b->node.name[0])
		return strcmp(a->node.name, b->node.name) == 0;
	const char *sa = "", *sb = "";
	pgha_json_string(a->doc, "postmaster_start_time", &sa);
	pgha_json_string(b->doc, "postmaster_start_time", &sb);
	return sa[0] && strcmp(sa, sb) == 0 &&
	       strcmp(a->node.system_identifier, b->node.system_identifier) == 0;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Everything at once: /patroni of each configured node here, /cluster and
 * PostgreSQL in one thread, etcd in another. */
static void gather_run(struct gather *g, const struct config *cfg)
{
	pthread_t cluster_tid, etcd_tid;
	bool cluster_started, etcd_started = false;

	memset(g, 0, sizeof *g);
	g->cfg = cfg;
	g->when = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &g->t0);
	pgha_deadline_start(&g->deadline, cfg->timeout);
	g->etcd_configured = cfg->n_etcd > 0;

	cluster_started = pthread_create(&cluster_tid, NULL, cluster_thread, g) == 0;
	if (!cluster_started)
		cluster_thread(g);
	if (g->etcd_configured) {
		etcd_started = pthread_create(&etcd_tid, NULL, etcd_thread, g) == 0;
		if (!etcd_started)
			etcd_thread(g);
	}
	for (size_t i = 0; i < cfg->n_patroni; i++)
		add_probe(g, cfg->patroni[i], true);
	run_probes(g, 0, g->n_probes);
	if (cluster_started)
		pthread_join(cluster_tid, NULL);

	/* members that were not configured: ask them too (a second round) */
	if (g->have_cluster) {
		size_t from = g->n_probes;
		for (size_t i = 0; i < g->cluster.n_members; i++) {
			const struct pgha_member *m = &g->cluster.members[i];
			if (m->api_url[0] && !probe_of_member(g, m))
				add_probe(g, m->api_url, false);
		}
		run_probes(g, from, g->n_probes);
		/* a configured URL spelled differently from the published one */
		for (size_t i = 0; i < from; i++) {
			struct probe *p = &g->probes[i];
			bool matched = false;
			for (size_t j = 0; j < g->cluster.n_members && !matched; j++)
				matched = probe_of_member(g, &g->cluster.members[j]) == p;
			for (size_t j = from; j < g->n_probes && !matched; j++)
				if (same_node(p, &g->probes[j]))
					p->alias = matched = true;
		}
	}
	if (etcd_started)
		pthread_join(etcd_tid, NULL);
	g->elapsed_ms = ms_since(&g->t0);
}

static void gather_free(struct gather *g)
{
	for (size_t i = 0; i < g->n_probes; i++)
		cJSON_Delete(g->probes[i].doc);
	pgha_cluster_free(&g->cluster);
	cJSON_Delete(g->cluster_doc);
	cJSON_Delete(g->pg_doc);
	pgha_etcd_view_free(&g->etcd_view);
	memset(g, 0, sizeof *g);
}

/* ------------------------------------------------------------------------ */
/* the merged view: one row per node                                        */
/* ------------------------------------------------------------------------ */

struct row {
	const char *name;                 /* NULL when unknown */
	const struct pgha_member *member; /* /cluster's entry, or NULL */
	const struct probe *probe;        /* its /patroni, or NULL */
	const cJSON *repl;                /* its pg_stat_replication row, or NULL */
	bool leader;
};

struct view {
	struct row rows[MAX_PROBES * 2];
	size_t n;
	const struct row *leader;
	const char *scope;
};

static const cJSON *repl_of(const struct gather *g, const char *name)
{
	const cJSON *list, *r;
	if (!name || !g->pg_doc || pgha_json_array(g->pg_doc, "replication", &list))
		return NULL;
	cJSON_ArrayForEach(r, list) {
		const char *n = NULL;
		if (pgha_json_string(r, "name", &n) == 0 && strcmp(n, name) == 0)
			return r;
	}
	return NULL;
}

static void view_build(struct gather *g, struct view *v)
{
	memset(v, 0, sizeof *v);
	bool used[MAX_PROBES] = { false };
	const size_t cap = sizeof v->rows / sizeof v->rows[0];
	for (size_t i = 0; g->have_cluster && i < g->cluster.n_members && v->n < cap; i++) {
		const struct pgha_member *m = &g->cluster.members[i];
		struct row *r = &v->rows[v->n++];
		r->name = m->name;
		r->member = m;
		r->probe = probe_of_member(g, m);
		if (r->probe)
			used[r->probe - g->probes] = true;
		r->leader = m->role == PGHA_MEMBER_LEADER || m->role == PGHA_MEMBER_STANDBY_LEADER;
		if (r->leader && !v->leader)
			v->leader = r;
	}
	for (size_t i = 0; i < g->n_probes; i++) {
		const struct probe *p = &g->probes[i];
		if (used[i] || p->alias || v->n >= cap)
			continue;
		struct row *r = &v->rows[v->n++];
		r->probe = p;
		r->name = p->ok && p->node.name[0] ? p->node.name : NULL;
	}
	for (size_t i = 0; i < v->n; i++)
		v->rows[i].repl = repl_of(g, v->rows[i].name);
	v->scope = g->cfg->scope;
	if (!v->scope && g->have_cluster && g->cluster.scope[0])
		v->scope = g->cluster.scope;
	for (size_t i = 0; !v->scope && i < g->n_probes; i++)
		if (g->probes[i].ok && g->probes[i].node.scope[0])
			v->scope = g->probes[i].node.scope;
}

/* What a row is called in messages: its name, else its REST URL. */
static const char *row_label(const struct row *r)
{
	return r->name ? r->name : r->probe ? r->probe->base : "?";
}

static bool row_reachable(const struct row *r)
{
	return r->probe && r->probe->ok;
}

static const char *row_state(const struct row *r)
{
	/* a REST API that does not answer: Patroni's last word if it said
	 * the node is down, else "unreachable" */
	if (r->probe && !r->probe->ok)
		return r->member && r->member->state[0] && !pgha_member_is_running(r->member)
		       ? r->member->state : "unreachable";
	if (r->member && r->member->state[0])
		return r->member->state;
	if (r->probe)
		return r->probe->node.state[0] ? r->probe->node.state : "unknown";
	return "unknown";
}

static const char *row_role(const struct row *r)
{
	if (r->member && r->member->role_text[0])
		return r->member->role_text;
	if (row_reachable(r)) {
		switch (r->probe->node.role) {
		case PGHA_ROLE_PRIMARY: return "primary";
		case PGHA_ROLE_STANDBY_LEADER: return "standby_leader";
		case PGHA_ROLE_REPLICA: return "replica";
		case PGHA_ROLE_UNKNOWN: break;
		}
	}
	return "unknown";
}

static bool row_timeline(const struct row *r, int64_t *tl)
{
	if (row_reachable(r) && r->probe->node.has_timeline) {
		*tl = r->probe->node.timeline;
		return true;
	}
	if (r->member && r->member->has_timeline && !(r->probe && !r->probe->ok)) {
		*tl = r->member->timeline;
		return true;
	}
	return false;
}

static bool row_pending_restart(const struct row *r)
{
	return (row_reachable(r) && r->probe->node.pending_restart) ||
	       (r->member && r->member->pending_restart);
}

/* The schedule of a restart, "" when one is scheduled at an unknown time,
 * NULL when none is. */
static const char *row_scheduled_restart(const struct row *r)
{
	const cJSON *obj = NULL;
	const char *when = NULL;
	if (row_reachable(r) && pgha_json_object(r->probe->doc, "scheduled_restart", &obj) == 0) {
		if (pgha_json_string(obj, "schedule", &when) == 0)
			return when;
		return "";
	}
	if (r->member && r->member->has_scheduled_restart)
		return "";
	return NULL;
}

static const cJSON *row_tags(const struct row *r)
{
	if (r->member && r->member->tags)
		return r->member->tags;
	const cJSON *t = NULL;
	if (row_reachable(r) && pgha_json_object(r->probe->doc, "tags", &t) == 0)
		return t;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* health                                                                   */
/* ------------------------------------------------------------------------ */

struct problem {
	enum pgha_state state;
	char text[400];
};

struct health {
	enum pgha_state state;
	struct problem p[MAX_PROBLEMS];
	size_t n;
	size_t replicas, streaming;
	char summary[2048];
};

__attribute__((format(printf, 3, 4)))
static void problem(struct health *h, enum pgha_state s, const char *fmt, ...)
{
	h->state = pgha_state_worst(h->state, s);
	if (h->n >= MAX_PROBLEMS)
		return;
	struct problem *p = &h->p[h->n++];
	p->state = s;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->text, sizeof p->text, fmt, ap);
	va_end(ap);
}

/* Append to a fixed buffer, "; "-joined. */
static void join(char *buf, size_t len, const char *sep, const char *text)
{
	size_t used = strlen(buf);
	if (used + 1 >= len)
		return;
	textf(buf + used, len - used, "%s%s", used ? sep : "", text);
}

static bool row_streaming(const struct gather *g, const struct row *r)
{
	if (g->pg_doc) {
		const char *st = NULL;
		return r->repl && pgha_json_string(r->repl, "state", &st) == 0 &&
		       strcmp(st, "streaming") == 0;
	}
	/* no PostgreSQL answer: Patroni's word for it */
	return row_reachable(r) && r->member && pgha_member_is_replica(r->member) &&
	       pgha_member_is_running(r->member);
}

static void health_check(const struct gather *g, const struct view *v, struct health *h)
{
	memset(h, 0, sizeof *h);
	h->state = PGHA_OK;
	if (!g->have_cluster) {
		problem(h, g->cluster_rc == PGHA_E_UNREACHABLE || g->cluster_rc == PGHA_E_TIMEOUT
			   ? PGHA_CRITICAL : PGHA_UNKNOWN,
			"no Patroni REST API answered: %s", g->cluster_error);
	} else if (!v->leader) {
		problem(h, PGHA_CRITICAL, "no leader in the Patroni cluster");
	} else if (v->leader->probe && !v->leader->probe->ok) {
		problem(h, PGHA_CRITICAL, "leader %s unreachable: %s", v->leader->name,
			v->leader->probe->error);
	} else if (v->leader->member->role == PGHA_MEMBER_STANDBY_LEADER &&
		   strcmp(v->leader->member->state, "in archive recovery") == 0) {
		problem(h, PGHA_WARNING, "standby leader %s in archive recovery, not streaming",
			v->leader->name);
	} else if (!pgha_member_is_running(v->leader->member)) {
		problem(h, PGHA_CRITICAL, "leader %s is %s", v->leader->name, row_state(v->leader));
	}

	/* several primaries */
	char primaries[512] = "";
	size_t n_primaries = 0;
	for (size_t i = 0; i < v->n; i++) {
		const struct row *r = &v->rows[i];
		if (row_reachable(r) && r->probe->node.role == PGHA_ROLE_PRIMARY) {
			n_primaries++;
			join(primaries, sizeof primaries, ", ", row_label(r));
		}
	}
	if (n_primaries > 1)
		problem(h, PGHA_CRITICAL, "%zu nodes run as primary: %s", n_primaries, primaries);

	/* replicas */
	if (g->have_cluster && v->leader) {
		char why[1024] = "";
		int64_t ltl = 0;
		bool has_ltl = row_timeline(v->leader, &ltl);
		for (size_t i = 0; i < v->n; i++) {
			const struct row *r = &v->rows[i];
			if (r == v->leader)
				continue;
			if (!r->member && row_reachable(r) && v->scope && r->probe->node.scope[0] &&
			    strcmp(r->probe->node.scope, v->scope) != 0)
				continue; /* another cluster's node: reported below */
			h->replicas++;
			char one[400];
			int64_t tl;
			if (row_streaming(g, r)) {
				h->streaming++;
				if (r->probe && !r->probe->ok)
					problem(h, PGHA_WARNING, "%s: Patroni does not answer "
						"(PostgreSQL still streaming)", row_label(r));
				/* A replica streaming from the leader (pg_stat_replication
				 * says so) follows its timeline: Patroni's figure for a
				 * replica comes from its last restartpoint and lags for
				 * minutes after a switchover. Without that evidence, a
				 * timeline other than the leader's is worth a warning. */
				if (!g->pg_doc && has_ltl && row_timeline(r, &tl) && tl != ltl)
					problem(h, PGHA_WARNING, "%s on timeline %" PRId64 ", the leader "
						"on %" PRId64, row_label(r), tl, ltl);
				continue;
			}
			if (r->probe && !r->probe->ok && strcmp(row_state(r), "unreachable") == 0)
				textf(one, sizeof one, "%s unreachable", row_label(r));
			else if (strcmp(row_state(r), "running") != 0 &&
				 strcmp(row_state(r), "streaming") != 0)
				textf(one, sizeof one, "%s %s", row_label(r), row_state(r));
			else
				textf(one, sizeof one, "%s not streaming", row_label(r));
			join(why, sizeof why, ", ", one);
		}
		if (h->streaming < h->replicas)
			problem(h, h->streaming ? PGHA_WARNING : PGHA_CRITICAL,
				"%zu of %zu replicas streaming (%s)", h->streaming, h->replicas, why);
	}
	if (g->have_cluster && g->cluster.paused)
		problem(h, PGHA_WARNING, "maintenance mode: Patroni is paused");

	/* nodes of another cluster in the list */
	for (size_t i = 0; v->scope && i < g->n_probes; i++) {
		const struct probe *p = &g->probes[i];
		if (p->ok && p->node.scope[0] && strcmp(p->node.scope, v->scope) != 0)
			problem(h, PGHA_UNKNOWN, "%s belongs to cluster \"%s\", not \"%s\"", p->base,
				p->node.scope, v->scope);
	}

	if (g->pg_tried && g->pg_rc)
		problem(h, PGHA_UNKNOWN, "could not query PostgreSQL on leader %s: %s",
			g->pg_member, g->pg_error);

	if (g->etcd_configured) {
		const struct pgha_etcd_health *e = &g->etcd_health;
		if (g->etcd_rc)
			problem(h, g->etcd_rc == PGHA_E_UNREACHABLE || g->etcd_rc == PGHA_E_TIMEOUT
				   ? PGHA_CRITICAL : PGHA_UNKNOWN, "etcd: %s", g->etcd_error);
		else if (e->healthy < e->quorum)
			problem(h, PGHA_CRITICAL, "etcd quorum lost: %zu of %zu voters healthy "
				"(quorum %zu)", e->healthy, e->n_voters, e->quorum);
		else if (e->disagree)
			problem(h, PGHA_CRITICAL, "etcd members disagree on the leader");
		else if (!e->leader_name)
			problem(h, PGHA_CRITICAL, "etcd has no leader");
		else if (e->healthy < e->n_voters)
			problem(h, PGHA_WARNING, "etcd: %zu of %zu members healthy, fault tolerance %zu",
				e->healthy, e->n_voters, e->healthy - e->quorum);
		if (!g->etcd_rc && e->alarm)
			problem(h, PGHA_WARNING, "etcd alarm raised");
	}

	/* worst first, stable */
	for (size_t i = 1; i < h->n; i++) {
		struct problem p = h->p[i];
		size_t j = i;
		while (j > 0 && pgha_state_rank(h->p[j - 1].state) < pgha_state_rank(p.state)) {
			h->p[j] = h->p[j - 1];
			j--;
		}
		h->p[j] = p;
	}
	for (size_t i = 0; i < h->n; i++)
		join(h->summary, sizeof h->summary, "; ", h->p[i].text);
	if (h->n == 0) {
		char buf[512];
		int64_t tl = 0;
		bool has_tl = v->leader && row_timeline(v->leader, &tl);
		textf(buf, sizeof buf, "leader %s", v->leader ? v->leader->name : "?");
		join(h->summary, sizeof h->summary, "", buf);
		if (has_tl) {
			textf(buf, sizeof buf, " on timeline %" PRId64, tl);
			join(h->summary, sizeof h->summary, "", buf);
		}
		textf(buf, sizeof buf, "%zu of %zu replicas streaming", h->streaming, h->replicas);
		join(h->summary, sizeof h->summary, ", ", buf);
		if (g->etcd_configured)
			textf(buf, sizeof buf, "etcd %zu of %zu healthy (fault tolerance %zu)",
				 g->etcd_health.healthy, g->etcd_health.n_voters,
				 g->etcd_health.healthy - g->etcd_health.quorum);
		else
			textf(buf, sizeof buf, "etcd not checked");
		join(h->summary, sizeof h->summary, ", ", buf);
	}
}

/* ------------------------------------------------------------------------ */
/* text                                                                     */
/* ------------------------------------------------------------------------ */

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_DIM "\033[2m"

#define MAX_COLS 9
#define MAX_ROWS (MAX_PROBES * 2 + 2)
#define CELL 160

struct table {
	size_t ncols, nrows;
	bool right[MAX_COLS];
	char cell[MAX_ROWS][MAX_COLS][CELL];
	const char *color[MAX_ROWS][MAX_COLS];
};

__attribute__((format(printf, 5, 6)))
static void cellf(struct table *t, size_t row, size_t col, const char *color, const char *fmt, ...)
{
	if (row >= MAX_ROWS || col >= MAX_COLS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->cell[row][col], CELL, fmt, ap);
	va_end(ap);
	t->color[row][col] = color;
	if (row >= t->nrows)
		t->nrows = row + 1;
}

static void table_print(const struct table *t, struct pgha_buf *out, bool color)
{
	size_t w[MAX_COLS] = { 0 };
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++)
			if (strlen(t->cell[r][c]) > w[c])
				w[c] = strlen(t->cell[r][c]);
	for (size_t r = 0; r < t->nrows; r++) {
		/* trailing empty cells are not padded */
		size_t last = 0;
		for (size_t c = 0; c < t->ncols; c++)
			if (t->cell[r][c][0])
				last = c + 1;
		for (size_t c = 0; c < last; c++) {
			const char *s = t->cell[r][c];
			int pad = (int)(w[c] - strlen(s));
			const char *col = color ? t->color[r][c] : NULL;
			if (c)
				pgha_buf_puts(out, "  ");
			if (t->right[c] && pad > 0)
				pgha_buf_printf(out, "%*s", pad, "");
			pgha_buf_printf(out, "%s%s%s", col ? col : "", s, col ? C_RESET : "");
			if (!t->right[c] && c + 1 < last && pad > 0)
				pgha_buf_printf(out, "%*s", pad, "");
		}
		pgha_buf_puts(out, "\n");
	}
}

static const char *state_color(const char *state)
{
	if (strcmp(state, "running") == 0 || strcmp(state, "streaming") == 0)
		return C_GREEN;
	if (strcmp(state, "unreachable") == 0 || strcmp(state, "stopped") == 0 ||
	    strcmp(state, "crashed") == 0 || strcmp(state, "start failed") == 0 ||
	    strcmp(state, "unknown") == 0)
		return C_RED;
	return C_YELLOW;
}

static const char *health_color(enum pgha_state s)
{
	switch (s) {
	case PGHA_OK: return C_GREEN;
	case PGHA_WARNING: return C_YELLOW;
	case PGHA_CRITICAL: return C_RED;
	case PGHA_UNKNOWN: break;
	}
	return C_YELLOW;
}

static void human_bytes(double v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		textf(buf, len, "%.0f B", v);
	else
		textf(buf, len, "%.1f %s", v, units[u]);
}

static void tags_text(const cJSON *tags, char *buf, size_t len)
{
	const cJSON *t;
	buf[0] = '\0';
	cJSON_ArrayForEach(t, tags) {
		char one[200];
		if (cJSON_IsString(t))
			textf(one, sizeof one, "%s=%s", t->string, t->valuestring);
		else if (cJSON_IsBool(t))
			textf(one, sizeof one, "%s=%s", t->string, cJSON_IsTrue(t) ? "true" : "false");
		else if (cJSON_IsNumber(t))
			textf(one, sizeof one, "%s=%g", t->string, t->valuedouble);
		else
			textf(one, sizeof one, "%s", t->string);
		join(buf, len, ",", one);
	}
}

/* "2026-11-25 20:45:01 CET" */
static void local_time(time_t t, char *buf, size_t len)
{
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm))
		textf(buf, len, "?");
}

static void render_members(const struct gather *g, const struct view *v, struct pgha_buf *out,
			   bool color, struct table *t)
{
	static const char *const head[] = { "MEMBER", "HOST", "ROLE", "STATE", "TL", "LAG B",
					    "LAG S", "PENDING", "TAGS" };
	memset(t, 0, sizeof *t);
	t->ncols = MAX_COLS;
	t->right[4] = t->right[5] = t->right[6] = true;
	for (size_t c = 0; c < MAX_COLS; c++)
		cellf(t, 0, c, C_BOLD, "%s", head[c]);
	for (size_t i = 0; i < v->n && i + 1 < MAX_ROWS; i++) {
		const struct row *r = &v->rows[i];
		size_t row = i + 1;
		cellf(t, row, 0, r->leader ? C_BOLD : NULL, "%s", r->name ? r->name : "-");
		if (r->member && r->member->host[0])
			cellf(t, row, 1, NULL, "%s:%" PRId64, r->member->host, r->member->port);
		else
			cellf(t, row, 1, NULL, "%s", r->probe ? r->probe->base : "-");
		cellf(t, row, 2, r->leader ? C_GREEN : NULL, "%s",
		      r->member || row_reachable(r) ? row_role(r) : "-");
		const char *state = row_state(r);
		cellf(t, row, 3, state_color(state), "%s", state);
		int64_t tl;
		if (row_timeline(r, &tl))
			cellf(t, row, 4, NULL, "%" PRId64, tl);
		else
			cellf(t, row, 4, NULL, "-");
		int64_t lag_b;
		double lag_s;
		if (r->repl && pgha_json_int64(r->repl, "lag_bytes", &lag_b) == 0)
			cellf(t, row, 5, lag_b > 0 ? C_YELLOW : NULL, "%" PRId64, lag_b);
		else
			cellf(t, row, 5, NULL, "-");
		if (r->repl && pgha_json_double(r->repl, "lag_seconds", &lag_s) == 0)
			cellf(t, row, 6, lag_s >= 1 ? C_YELLOW : NULL, "%.3f", lag_s);
		else
			cellf(t, row, 6, NULL, "-");
		const char *sched = row_scheduled_restart(r);
		char pend[CELL] = "";
		if (row_pending_restart(r))
			join(pend, sizeof pend, ", ", "restart");
		if (sched) {
			char s[CELL];
			textf(s, sizeof s, "restart at %s", sched[0] ? sched : "?");
			join(pend, sizeof pend, ", ", s);
		}
		cellf(t, row, 7, C_YELLOW, "%s", pend);
		char tags[CELL];
		tags_text(row_tags(r), tags, sizeof tags);
		cellf(t, row, 8, NULL, "%s", tags);
	}
	table_print(t, out, color);
	/* why nodes could not be asked */
	for (size_t i = 0; i < v->n; i++) {
		const struct row *r = &v->rows[i];
		if (r->probe && !r->probe->ok)
			pgha_buf_printf(out, "  %s: %s\n", row_label(r), r->probe->error);
		else if (!r->member && g->have_cluster)
			pgha_buf_printf(out, "  %s: not in the cluster's member list\n", row_label(r));
	}
	if (!g->have_cluster)
		pgha_buf_printf(out, "  no member list: %s\n", g->cluster_error);
}

/* The etcd members in name order (member/list is in ID order). */
static size_t etcd_order(const struct pgha_etcd_view *ev, size_t *idx)
{
	size_t n = ev->n_members;
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		while (j > 0 && strcmp(ev->members[idx[j - 1]].name, ev->members[i].name) > 0) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = i;
	}
	return n;
}

static void render_etcd(const struct gather *g, struct pgha_buf *out, bool color, struct table *t)
{
	if (!g->etcd_configured) {
		pgha_buf_puts(out, "etcd: not checked (no etcd URLs: [cluster] etcd or --etcd)\n");
		return;
	}
	if (g->etcd_rc) {
		pgha_buf_printf(out, "etcd: %s%s%s\n", color ? C_RED : "", g->etcd_error,
				color ? C_RESET : "");
		return;
	}
	static const char *const head[] = { "ETCD", "CLIENT URL", "ROLE", "TERM", "RAFT INDEX",
					    "DB SIZE", "STATUS" };
	const struct pgha_etcd_view *ev = &g->etcd_view;
	const struct pgha_etcd_health *eh = &g->etcd_health;
	memset(t, 0, sizeof *t);
	t->ncols = 7;
	t->right[3] = t->right[4] = t->right[5] = true;
	for (size_t c = 0; c < t->ncols; c++)
		cellf(t, 0, c, C_BOLD, "%s", head[c]);
	size_t order[PGHA_ETCD_MAX_MEMBERS];
	size_t n = etcd_order(ev, order);
	for (size_t i = 0; i < n && i + 1 < MAX_ROWS; i++) {
		const struct pgha_etcd_member *m = &ev->members[order[i]];
		const struct pgha_etcd_voter *vo = NULL;
		for (size_t j = 0; j < eh->n_voters; j++)
			if (eh->voters[j].member == m)
				vo = &eh->voters[j];
		size_t row = i + 1;
		if (m->name[0])
			cellf(t, row, 0, NULL, "%s", m->name);
		else
			cellf(t, row, 0, NULL, "%" PRIx64, m->id);
		cellf(t, row, 1, NULL, "%s", m->client_url[0] ? m->client_url : "-");
		if (m->learner)
			cellf(t, row, 2, NULL, "learner");
		else if (vo && vo->answered && vo->st.leader == m->id)
			cellf(t, row, 2, C_GREEN, "leader");
		else if (vo && vo->answered)
			cellf(t, row, 2, NULL, "follower");
		else
			cellf(t, row, 2, NULL, "-");
		if (!vo)
			cellf(t, row, 6, NULL, "%s", m->learner ? "learner" : "not started");
		else if (vo->healthy)
			cellf(t, row, 6, C_GREEN, "healthy");
		else
			cellf(t, row, 6, C_RED, "%s", vo->answered ? vo->why : "unreachable");
		if (vo && vo->answered) {
			char size[32];
			human_bytes((double)vo->st.db_size, size, sizeof size);
			cellf(t, row, 3, NULL, "%" PRIu64, vo->st.raft_term);
			cellf(t, row, 4, NULL, "%" PRIu64, vo->st.raft_index);
			cellf(t, row, 5, NULL, "%s", size);
		} else {
			cellf(t, row, 3, NULL, "-");
			cellf(t, row, 4, NULL, "-");
			cellf(t, row, 5, NULL, "-");
		}
	}
	table_print(t, out, color);
	for (size_t i = 0; i < eh->n_voters; i++)
		if (!eh->voters[i].answered)
			pgha_buf_printf(out, "  %s: %s\n", eh->voters[i].member->name,
					eh->voters[i].why);
	pgha_buf_printf(out, "etcd %s: %zu of %zu voters healthy, quorum %zu, fault tolerance "
			"%zu", ev->version, eh->healthy, eh->n_voters, eh->quorum,
			eh->healthy >= eh->quorum ? eh->healthy - eh->quorum : 0);
	if (eh->learners)
		pgha_buf_printf(out, ", %zu learner%s", eh->learners, eh->learners > 1 ? "s" : "");
	pgha_buf_puts(out, "\n");
}

static int64_t int_or(const cJSON *obj, const char *key, int64_t dflt)
{
	int64_t v;
	return pgha_json_int64(obj, key, &v) == 0 ? v : dflt;
}

static void render_pg(const struct gather *g, struct pgha_buf *out, bool color)
{
	if (!g->pg_tried) {
		pgha_buf_puts(out, "leader PostgreSQL: not asked (no leader)\n");
		return;
	}
	if (g->pg_rc) {
		pgha_buf_printf(out, "leader %s (%s:%d): %s%s%s\n", g->pg_member, g->pg_host,
				g->pg_port, color ? C_RED : "", g->pg_error, color ? C_RESET : "");
		return;
	}
	const cJSON *c = NULL;
	pgha_json_object(g->pg_doc, "connections", &c);
	int64_t blocked = int_or(g->pg_doc, "blocked_count", 0);
	const char *ver = "?";
	pgha_json_string(g->pg_doc, "server_version", &ver);
	pgha_buf_printf(out, "leader %s (%s:%d, PostgreSQL %s): %" PRId64 " of %" PRId64
			" connections (%" PRId64 " active, %" PRId64 " idle, %" PRId64
			" idle in transaction), %s%" PRId64 " blocked session%s%s\n",
			g->pg_member, g->pg_host, g->pg_port, ver, int_or(c, "total", 0),
			int_or(g->pg_doc, "max_connections", 0), int_or(c, "active", 0),
			int_or(c, "idle", 0), int_or(c, "idle_in_transaction", 0),
			color && blocked ? C_YELLOW : "", blocked, blocked == 1 ? "" : "s",
			color && blocked ? C_RESET : "");
	const cJSON *list = NULL, *b;
	pgha_json_array(g->pg_doc, "blocked", &list);
	cJSON_ArrayForEach(b, list) {
		const char *user = "?", *db = "?", *query = "";
		double wait = 0;
		pgha_json_string(b, "user", &user);
		pgha_json_string(b, "database", &db);
		pgha_json_string(b, "query", &query);
		pgha_json_double(b, "waiting_seconds", &wait);
		char by[256] = "";
		const cJSON *bl = pgha_json_get(b, "blocked_by"), *p;
		cJSON_ArrayForEach(p, bl) {
			char one[32];
			textf(one, sizeof one, "%.0f", p->valuedouble);
			join(by, sizeof by, ", ", one);
		}
		pgha_buf_printf(out, "  pid %" PRId64 " (%s@%s) waits %.1f s for pid %s: %.80s\n",
				int_or(b, "pid", 0), user, db, wait, by, query);
	}
	if (blocked > BLOCKED_SHOWN)
		pgha_buf_printf(out, "  ... %" PRId64 " more\n", blocked - BLOCKED_SHOWN);
}

static void render_actions(const struct gather *g, const struct view *v, struct pgha_buf *out,
			   bool color)
{
	char sched[2048] = "";
	if (g->have_cluster && g->cluster.scheduled_switchover) {
		const cJSON *s = g->cluster.scheduled_switchover;
		const char *at = "?", *from = NULL, *to = NULL;
		pgha_json_string(s, "at", &at);
		pgha_json_string(s, "from", &from);
		pgha_json_string(s, "to", &to);
		char one[512];
		textf(one, sizeof one, "switchover at %s%s%s%s%s", at, from ? " from " : "",
			 from ? from : "", to ? " to " : "", to ? to : "");
		join(sched, sizeof sched, "; ", one);
	}
	for (size_t i = 0; i < v->n; i++) {
		const char *when = row_scheduled_restart(&v->rows[i]);
		if (!when)
			continue;
		char one[512];
		textf(one, sizeof one, "restart of %s at %s", row_label(&v->rows[i]),
			 when[0] ? when : "?");
		join(sched, sizeof sched, "; ", one);
	}
	bool paused = g->have_cluster && g->cluster.paused;
	pgha_buf_printf(out, "paused: %s%s%s   scheduled: %s\n", color && paused ? C_YELLOW : "",
			paused ? "yes (maintenance mode)" : g->have_cluster ? "no" : "?",
			color && paused ? C_RESET : "", sched[0] ? sched : "nothing");
}

static void render_text(const struct gather *g, const struct view *v, const struct health *h,
			const struct config *cfg, struct pgha_buf *out, struct table *t)
{
	bool color = cfg->color;
	char when[64];
	local_time(g->when, when, sizeof when);
	const char *pv = NULL;
	for (size_t i = 0; !pv && i < v->n; i++)
		if (row_reachable(&v->rows[i]) && v->rows[i].probe->node.version[0])
			pv = v->rows[i].probe->node.version;
	pgha_buf_printf(out, "%s%s%s  %s  Patroni %s  (%.0f ms)", color ? C_BOLD : "",
			v->scope ? v->scope : "(scope unknown)", color ? C_RESET : "", when,
			pv ? pv : "?", g->elapsed_ms);
	if (cfg->watch)
		pgha_buf_printf(out, "  every %g s, Ctrl-C to quit", cfg->interval);
	pgha_buf_printf(out, "\nhealth: %s%s%s - %s\n\n", color ? health_color(h->state) : "",
			pgha_state_name(h->state), color ? C_RESET : "", h->summary);
	render_members(g, v, out, color, t);
	pgha_buf_puts(out, "\n");
	render_etcd(g, out, color, t);
	pgha_buf_puts(out, "\n");
	render_pg(g, out, color);
	render_actions(g, v, out, color);
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */
/* ------------------------------------------------------------------------ */

/* A string, or null for NULL and "". */
static void add_str(cJSON *obj, const char *key, const char *s)
{
	if (s && *s)
		cJSON_AddStringToObject(obj, key, s);
	else
		cJSON_AddNullToObject(obj, key);
}

static void add_num(cJSON *obj, const char *key, bool known, double v)
{
	if (known)
		cJSON_AddNumberToObject(obj, key, v);
	else
		cJSON_AddNullToObject(obj, key);
}

/* A copy of a JSON value from a peer's document, or a fallback. */
static void add_copy(cJSON *obj, const char *key, const cJSON *v, bool empty_object)
{
	cJSON *c = v ? cJSON_Duplicate(v, true) : NULL;
	if (!c)
		c = empty_object ? cJSON_CreateObject() : cJSON_CreateNull();
	if (c)
		cJSON_AddItemToObject(obj, key, c);
}

static cJSON *json_members(const struct view *v)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < v->n; i++) {
		const struct row *r = &v->rows[i];
		cJSON *m = cJSON_CreateObject();
		if (!m)
			break;
		cJSON_AddItemToArray(arr, m);
		add_str(m, "name", r->name);
		char base[512] = "";
		if (r->probe)
			textf(base, sizeof base, "%s", r->probe->base);
		else if (r->member)
			base_of(r->member->api_url, base, sizeof base);
		add_str(m, "api_url", base);
		add_str(m, "host", r->member ? r->member->host : NULL);
		add_num(m, "port", r->member && r->member->port > 0,
			r->member ? (double)r->member->port : 0);
		cJSON_AddBoolToObject(m, "in_cluster", r->member != NULL);
		cJSON_AddBoolToObject(m, "reachable", row_reachable(r));
		add_str(m, "error", r->probe && !r->probe->ok ? r->probe->error : NULL);
		cJSON_AddStringToObject(m, "role", row_role(r));
		cJSON_AddStringToObject(m, "state", row_state(r));
		int64_t tl = 0;
		bool has_tl = row_timeline(r, &tl);
		add_num(m, "timeline", has_tl, (double)tl);
		int64_t lag_b = 0;
		double lag_s = 0;
		const char *rs = NULL, *ss = NULL;
		bool has_b = r->repl && pgha_json_int64(r->repl, "lag_bytes", &lag_b) == 0;
		bool has_s = r->repl && pgha_json_double(r->repl, "lag_seconds", &lag_s) == 0;
		if (r->repl) {
			pgha_json_string(r->repl, "state", &rs);
			pgha_json_string(r->repl, "sync_state", &ss);
		}
		add_num(m, "lag_bytes", has_b, (double)lag_b);
		add_num(m, "lag_seconds", has_s, lag_s);
		add_str(m, "replication_state", rs);
		add_str(m, "sync_state", ss);
		cJSON_AddBoolToObject(m, "pending_restart", row_pending_restart(r));
		const char *sched = row_scheduled_restart(r);
		if (sched)
			cJSON_AddStringToObject(m, "scheduled_restart", sched[0] ? sched : "unknown");
		else
			cJSON_AddNullToObject(m, "scheduled_restart");
		add_copy(m, "tags", row_tags(r), true);
		add_str(m, "patroni_version", row_reachable(r) ? r->probe->node.version : NULL);
		add_num(m, "server_version", row_reachable(r) && r->probe->node.server_version,
			row_reachable(r) ? (double)r->probe->node.server_version : 0);
	}
	return arr;
}

static cJSON *json_etcd(const struct gather *g)
{
	cJSON *e = cJSON_CreateObject();
	if (!e)
		return NULL;
	const struct pgha_etcd_view *ev = &g->etcd_view;
	const struct pgha_etcd_health *eh = &g->etcd_health;
	bool known = g->etcd_configured && g->etcd_rc == 0;
	cJSON_AddBoolToObject(e, "configured", g->etcd_configured);
	add_str(e, "error", g->etcd_configured && g->etcd_rc ? g->etcd_error : NULL);
	add_str(e, "version", known ? ev->version : NULL);
	add_num(e, "voters", known, (double)eh->n_voters);
	add_num(e, "healthy", known, (double)eh->healthy);
	add_num(e, "quorum", known, (double)eh->quorum);
	add_num(e, "fault_tolerance", known,
		known && eh->healthy >= eh->quorum ? (double)(eh->healthy - eh->quorum) : 0);
	add_num(e, "learners", known, (double)eh->learners);
	add_str(e, "leader", known ? eh->leader_name : NULL);
	if (known)
		cJSON_AddBoolToObject(e, "leaders_disagree", eh->disagree);
	else
		cJSON_AddNullToObject(e, "leaders_disagree");
	if (known)
		cJSON_AddBoolToObject(e, "alarm", eh->alarm);
	else
		cJSON_AddNullToObject(e, "alarm");
	add_num(e, "raft_term", known && eh->healthy, (double)eh->raft_term);
	cJSON *arr = cJSON_AddArrayToObject(e, "members");
	size_t order[PGHA_ETCD_MAX_MEMBERS];
	size_t n = known ? etcd_order(ev, order) : 0;
	for (size_t i = 0; arr && i < n; i++) {
		const struct pgha_etcd_member *m = &ev->members[order[i]];
		const struct pgha_etcd_voter *vo = NULL;
		for (size_t j = 0; j < eh->n_voters; j++)
			if (eh->voters[j].member == m)
				vo = &eh->voters[j];
		cJSON *o = cJSON_CreateObject();
		if (!o)
			break;
		cJSON_AddItemToArray(arr, o);
		char id[32];
		textf(id, sizeof id, "%" PRIx64, m->id);
		add_str(o, "name", m->name);
		cJSON_AddStringToObject(o, "id", id);
		add_str(o, "client_url", m->client_url);
		cJSON_AddBoolToObject(o, "voter", vo != NULL);
		cJSON_AddBoolToObject(o, "learner", m->learner);
		bool ans = vo && vo->answered;
		cJSON_AddBoolToObject(o, "reachable", ans);
		cJSON_AddBoolToObject(o, "healthy", vo && vo->healthy);
		cJSON_AddBoolToObject(o, "leader", ans && vo->st.leader == m->id);
		add_num(o, "raft_term", ans, ans ? (double)vo->st.raft_term : 0);
		add_num(o, "raft_index", ans, ans ? (double)vo->st.raft_index : 0);
		add_num(o, "db_size_bytes", ans, ans ? (double)vo->st.db_size : 0);
		add_str(o, "error", vo && !vo->healthy ? vo->why : NULL);
	}
	return e;
}

static cJSON *json_pg(const struct gather *g)
{
	cJSON *p = cJSON_CreateObject();
	if (!p)
		return NULL;
	bool ok = g->pg_tried && g->pg_rc == 0;
	add_str(p, "member", g->pg_tried ? g->pg_member : NULL);
	add_str(p, "host", g->pg_tried ? g->pg_host : NULL);
	add_num(p, "port", g->pg_tried && g->pg_port > 0, g->pg_port);
	cJSON_AddBoolToObject(p, "connected", ok);
	add_str(p, "error", !g->pg_tried ? "no leader to connect to" : g->pg_rc ? g->pg_error : NULL);
	const char *ver = NULL;
	if (ok)
		pgha_json_string(g->pg_doc, "server_version", &ver);
	add_str(p, "server_version", ver);
	bool rec = false;
	if (ok && pgha_json_bool(g->pg_doc, "in_recovery", &rec) == 0)
		cJSON_AddBoolToObject(p, "in_recovery", rec);
	else
		cJSON_AddNullToObject(p, "in_recovery");
	const cJSON *c = NULL;
	if (ok)
		pgha_json_object(g->pg_doc, "connections", &c);
	if (c) {
		cJSON *o = cJSON_AddObjectToObject(p, "connections");
		static const char *const keys[] = { "total", "active", "idle", "idle_in_transaction",
						    "waiting_on_locks" };
		for (size_t i = 0; o && i < sizeof keys / sizeof keys[0]; i++) {
			int64_t v = 0;
			bool known = pgha_json_int64(c, keys[i], &v) == 0;
			add_num(o, keys[i], known, (double)v);
		}
		int64_t max = 0;
		bool known = pgha_json_int64(g->pg_doc, "max_connections", &max) == 0;
		if (o)
			add_num(o, "max", known, (double)max);
	} else {
		cJSON_AddNullToObject(p, "connections");
	}
	int64_t nb = 0;
	bool has_nb = ok && pgha_json_int64(g->pg_doc, "blocked_count", &nb) == 0;
	add_num(p, "blocked_sessions", has_nb, (double)nb);
	const cJSON *blocked = NULL;
	if (ok)
		pgha_json_array(g->pg_doc, "blocked", &blocked);
	if (blocked)
		add_copy(p, "blocked", blocked, false);
	else
		cJSON_AddArrayToObject(p, "blocked");
	return p;
}

static cJSON *json_health(const struct health *h)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "state", pgha_state_name(h->state));
	cJSON_AddNumberToObject(o, "exit_code", (double)h->state);
	cJSON_AddStringToObject(o, "summary", h->summary);
	cJSON *arr = cJSON_AddArrayToObject(o, "problems");
	for (size_t i = 0; arr && i < h->n; i++) {
		cJSON *p = cJSON_CreateObject();
		if (!p)
			break;
		cJSON_AddItemToArray(arr, p);
		cJSON_AddStringToObject(p, "state", pgha_state_name(h->p[i].state));
		cJSON_AddStringToObject(p, "text", h->p[i].text);
	}
	return o;
}

/* The document; caller frees. NULL when out of memory. */
static cJSON *render_json(const struct gather *g, const struct view *v, const struct health *h)
{
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	char when[32];
	struct tm tm;
	if (!gmtime_r(&g->when, &tm) || !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
		textf(when, sizeof when, "1970-01-01T00:00:00Z");
	cJSON_AddNumberToObject(root, "schema_version", SCHEMA_VERSION);
	cJSON_AddStringToObject(root, "generated_at", when);
	cJSON_AddNumberToObject(root, "elapsed_ms", (double)(int64_t)(g->elapsed_ms * 10 + 0.5) / 10);
	cJSON_AddNumberToObject(root, "timeout_s", g->cfg->timeout);
	add_str(root, "scope", v->scope);
	add_str(root, "cluster_file", g->cfg->file);
	add_str(root, "patroni_endpoint", g->have_cluster ? g->cluster_endpoint : NULL);
	add_str(root, "patroni_error", g->have_cluster ? NULL : g->cluster_error);
	if (g->have_cluster)
		cJSON_AddBoolToObject(root, "paused", g->cluster.paused);
	else
		cJSON_AddNullToObject(root, "paused");
	const cJSON *sw = g->have_cluster ? g->cluster.scheduled_switchover : NULL;
	if (sw) {
		cJSON *o = cJSON_AddObjectToObject(root, "scheduled_switchover");
		const char *at = NULL, *from = NULL, *to = NULL;
		pgha_json_string(sw, "at", &at);
		pgha_json_string(sw, "from", &from);
		pgha_json_string(sw, "to", &to);
		if (o) {
			add_str(o, "at", at);
			add_str(o, "from", from);
			add_str(o, "to", to);
		}
	} else {
		cJSON_AddNullToObject(root, "scheduled_switchover");
	}
	add_str(root, "leader", v->leader ? v->leader->name : NULL);
	int64_t tl = 0;
	bool has_tl = v->leader && row_timeline(v->leader, &tl);
	add_num(root, "timeline", has_tl, (double)tl);
	cJSON *x = json_members(v);
	if (x)
		cJSON_AddItemToObject(root, "members", x);
	x = json_etcd(g);
	if (x)
		cJSON_AddItemToObject(root, "etcd", x);
	x = json_pg(g);
	if (x)
		cJSON_AddItemToObject(root, "postgresql", x);
	x = json_health(h);
	if (x)
		cJSON_AddItemToObject(root, "health", x);
	return root;
}

/* ------------------------------------------------------------------------ */
/* running                                                                  */
/* ------------------------------------------------------------------------ */

#define TERM_HIDE_CURSOR "\033[?25l"
#define TERM_SHOW_CURSOR "\033[?25h"
#define TERM_HOME "\033[H"
#define TERM_CLEAR "\033[2J"
#define TERM_CLEAR_EOL "\033[K"
#define TERM_CLEAR_BELOW "\033[J"
#define TERM_RESTORE C_RESET TERM_SHOW_CURSOR "\n"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t gathering;
static volatile sig_atomic_t cursor_hidden;

/* SIGINT/SIGTERM in --watch: between looks, ask the loop to stop; during
 * a look (threads in flight, up to -t), restore the terminal and leave
 * now: Ctrl-C must not wait for a hanging node. */
static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	if (gathering) {
		if (cursor_hidden) {
			ssize_t n = write(STDOUT_FILENO, TERM_RESTORE, sizeof TERM_RESTORE - 1);
			(void)n;
		}
		_exit(0);
	}
}

static int write_all(const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One look: gather, then the view the mode asks for, into out. Returns
 * the health state. */
static enum pgha_state look(const struct config *cfg, struct pgha_buf *out, struct table *t)
{
	struct gather *g = malloc(sizeof *g);
	struct view *v = malloc(sizeof *v);
	struct health *h = malloc(sizeof *h);
	enum pgha_state state = PGHA_UNKNOWN;

	if (!g || !v || !h) {
		pgha_buf_printf(out, "%s UNKNOWN - out of memory\n", RESULT_NAME);
		goto out;
	}
	gathering = 1;
	gather_run(g, cfg);
	gathering = 0;
	view_build(g, v);
	health_check(g, v, h);
	state = h->state;
	switch (cfg->mode) {
	case MODE_HEALTH: {
		char line[sizeof h->summary];
		textf(line, sizeof line, "%s", h->summary);
		for (char *c = line; *c; c++)
			if (*c == '|' || *c == '\n')
				*c = *c == '|' ? '/' : ' ';
		pgha_buf_printf(out, "%s %s - %s\n", RESULT_NAME, pgha_state_name(h->state), line);
		break;
	}
	case MODE_JSON: {
		cJSON *doc = render_json(g, v, h);
		char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
		if (text)
			pgha_buf_printf(out, "%s\n", text);
		else
			pgha_buf_puts(out, "{\"schema_version\": 1, \"error\": \"out of memory\"}\n");
		free(text);
		cJSON_Delete(doc);
		break;
	}
	case MODE_TEXT:
		render_text(g, v, h, cfg, out, t);
		break;
	}
	gather_free(g);
out:
	free(g);
	free(v);
	free(h);
	return state;
}

/* Sleep up to seconds, or until a signal asks to stop. */
static void pause_for(double seconds)
{
	int64_t end = pgha_now_ms() + (int64_t)(seconds * 1000);
	while (!stop_requested) {
		int64_t left = end - pgha_now_ms();
		if (left <= 0)
			break;
		if (left > 100)
			left = 100;
		struct timespec ts = { left / 1000, (long)(left % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static int watch(const struct config *cfg, struct table *t)
{
	bool tty = isatty(STDOUT_FILENO);
	const char *term = getenv("TERM");
	bool ansi = tty && !(term && strcmp(term, "dumb") == 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct pgha_buf frame, out;
	pgha_buf_init(&frame, OUTPUT_LIMIT);
	pgha_buf_init(&out, 2 * OUTPUT_LIMIT);
	int rc = 0;
	if (ansi) {
		cursor_hidden = 1;
		if (write_all(TERM_HIDE_CURSOR TERM_CLEAR, sizeof TERM_HIDE_CURSOR TERM_CLEAR - 1))
			rc = 1;
	}
	while (!stop_requested && rc == 0) {
		pgha_buf_reset(&frame);
		pgha_buf_reset(&out);
		look(cfg, &frame, t);
		if (ansi) {
			/* redraw in place: home, each line cleared to its end, the
			 * rest of the screen cleared */
			pgha_buf_puts(&out, TERM_HOME);
			for (const char *s = pgha_buf_str(&frame); *s; ) {
				size_t len = strcspn(s, "\n");
				pgha_buf_append(&out, s, len);
				pgha_buf_puts(&out, TERM_CLEAR_EOL);
				s += len;
				if (*s == '\n') {
					pgha_buf_puts(&out, "\n");
					s++;
				}
			}
			pgha_buf_puts(&out, TERM_CLEAR_BELOW);
		} else {
			/* a plain stream: one frame after another */
			pgha_buf_append(&out, frame.data ? frame.data : "", frame.len);
			pgha_buf_puts(&out, "\n");
		}
		if (write_all(pgha_buf_str(&out), out.len))
			rc = 1;
		pause_for(cfg->interval);
	}
	if (cursor_hidden) {
		cursor_hidden = 0;
		write_all(TERM_RESTORE, sizeof TERM_RESTORE - 1);
	}
	pgha_buf_free(&frame);
	pgha_buf_free(&out);
	return rc;
}

int pgha_status_main(int argc, char **argv)
{
	struct config cfg;
	int rc = configure(argc, argv, &cfg);
	if (rc >= 0) {
		config_free(&cfg);
		return rc;
	}
	struct table *t = malloc(sizeof *t);
	if (!t) {
		config_free(&cfg);
		fprintf(stderr, "%s: out of memory\n", PROG);
		return cfg.mode == MODE_HEALTH ? PGHA_UNKNOWN : 1;
	}
	if (cfg.watch) {
		rc = watch(&cfg, t);
	} else {
		struct pgha_buf out;
		pgha_buf_init(&out, OUTPUT_LIMIT);
		enum pgha_state state = look(&cfg, &out, t);
		int w = write_all(pgha_buf_str(&out), out.len);
		pgha_buf_free(&out);
		if (cfg.mode == MODE_HEALTH)
			rc = (int)state;
		else
			rc = w ? 1 : 0;
	}
	free(t);
	config_free(&cfg);
	return rc;
}
