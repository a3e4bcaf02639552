/*
 * check_pgha_lag: replication lag, in bytes and in seconds, seen from the
 * primary (every standby) or from a replica (itself).
 *
 * The mode follows pg_is_in_recovery(); --role primary|replica asserts it
 * (CRITICAL when the server has the other role).
 *
 * Primary mode: one row of pg_stat_replication per standby (walsenders in
 * state "backup", i.e. pg_basebackup, are left out):
 *   bytes    pg_current_wal_lsn() minus sent_lsn, write_lsn, flush_lsn and
 *            replay_lsn (so replay >= flush >= write >= sent)
 *   seconds  write_lag, flush_lag, replay_lag. PostgreSQL shows NULL there
 *            once a standby has caught up and no WAL was written for a
 *            while (an idle primary): NULL means 0 here, not unknown.
 *   The thresholds apply to the replay lag (it includes the others).
 *   Missing standbys: --expected-standbys N wants at least N of them; with
 *   --patroni every replica Patroni lists in GET /cluster (except members
 *   tagged replicatefrom another member: they stream from a replica) must
 *   be there, by application_name = member name. A missing one is
 *   CRITICAL (--missing-state changes it).
 * Replica mode: the WAL it received but has not replayed,
 *   pg_last_wal_receive_lsn() - pg_last_wal_replay_lsn(), and the replay
 *   delay: 0 when both are equal (all that arrived is applied, so an idle
 *   primary does not make it grow), else now() -
 *   pg_last_xact_replay_timestamp() (the commit time of the last replayed
 *   transaction). --expected-standbys and the Patroni member list do not
 *   apply there.
 *
 * Thresholds: --warning-bytes/--critical-bytes (ranges, units B kB MB GB
 * TB) and --warning-seconds/--critical-seconds (ranges, units ms s min h
 * d). The worst standby is in the status line, every standby in long
 * output and in perfdata (n2_replay_lag_bytes, n2_replay_lag_seconds, ...;
 * on a replica replay_lag_bytes and replay_lag_seconds).
 *
 * With --patroni the check connects to the leader, or to --member NAME.
 * A server that cannot be reached within -t is CRITICAL (--timeout-result);
 * a failing query is UNKNOWN with the server's message. Grants: pg_monitor
 * (pg_read_all_stats shows the other roles' walsenders).
 */
#include "error.h"
#include "options.h"
#include "output.h"
#include "patroni.h"
#include "pg.h"
#include "pgtarget.h"
#include "range.h"
#include "rest.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum role { ROLE_AUTO, ROLE_PRIMARY, ROLE_REPLICA };

struct config {
	enum role role;
	const char *warn_bytes, *crit_bytes, *warn_secs, *crit_secs;
	struct pgha_thresholds bytes, secs;
	long expected; /* -1: not given */
	enum pgha_state missing_state;
};

enum { OPT_ROLE, OPT_WARN_BYTES, OPT_CRIT_BYTES, OPT_WARN_SECS, OPT_CRIT_SECS,
       OPT_EXPECTED, OPT_MISSING_STATE };

static const struct pgha_option options[] = {
	{ "role", 0, "ROLE", "primary or replica: CRITICAL when the server has the other role "
	  "(default: take the role it has)", OPT_ROLE },
	{ "warning-bytes", 0, "RANGE", "warning range for the replay lag in bytes (16MB, "
	  "~:1GB; units B kB MB GB TB)", OPT_WARN_BYTES },
	{ "critical-bytes", 0, "RANGE", "critical range for the replay lag in bytes",
	  OPT_CRIT_BYTES },
	{ "warning-seconds", 0, "RANGE", "warning range for the replay lag in seconds (30, "
	  "30s, 5min, 1h)", OPT_WARN_SECS },
	{ "critical-seconds", 0, "RANGE", "critical range for the replay lag in seconds",
	  OPT_CRIT_SECS },
	{ "expected-standbys", 0, "N", "primary: at least N standbys must be connected",
	  OPT_EXPECTED },
	{ "missing-state", 0, "STATE", "state for a missing standby: warning, critical "
	  "(default), unknown or ok", OPT_MISSING_STATE },
};

/* Validate a range now, so the message names the option. */
static int take_range(const char **slot, const char *opt, const char *arg,
		      enum pgha_unit_kind units, char *err, size_t errlen)
{
	struct pgha_range r;
	char why[256];
	if (arg[0] && pgha_range_parse(arg, units, &r, why, sizeof why)) {
		snprintf(err, errlen, "--%s: %s", opt, why);
		return PGHA_E_INVALID;
	}
	*slot = arg;
	return 0;
}

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	switch (id) {
	case OPT_ROLE:
		if (strcmp(arg, "primary") == 0)
			cfg->role = ROLE_PRIMARY;
		else if (strcmp(arg, "replica") == 0)
			cfg->role = ROLE_REPLICA;
		else {
			snprintf(err, errlen, "invalid role \"%s\": use primary or replica", arg);
			return PGHA_E_INVALID;
		}
		return 0;
	case OPT_WARN_BYTES:
		return take_range(&cfg->warn_bytes, "warning-bytes", arg, PGHA_UNIT_BYTES, err, errlen);
	case OPT_CRIT_BYTES:
		return take_range(&cfg->crit_bytes, "critical-bytes", arg, PGHA_UNIT_BYTES, err,
				  errlen);
	case OPT_WARN_SECS:
		return take_range(&cfg->warn_secs, "warning-seconds", arg, PGHA_UNIT_SECONDS, err,
				  errlen);
	case OPT_CRIT_SECS:
		return take_range(&cfg->crit_secs, "critical-seconds", arg, PGHA_UNIT_SECONDS, err,
				  errlen);
	case OPT_EXPECTED: {
		char *end;
		if (!arg[0]) { /* an empty Nagios $ARGn$: no minimum */
			cfg->expected = -1;
			return 0;
		}
		errno = 0;
		long v = strtol(arg, &end, 10);
		if (errno || end == arg || *end || v < 0 || v > 10000) {
			snprintf(err, errlen, "invalid number of standbys \"%s\": must be an integer "
				 "from 0 to 10000", arg);
			return PGHA_E_INVALID;
		}
		cfg->expected = v;
		return 0;
	}
	case OPT_MISSING_STATE:
		if (pgha_state_parse(arg, &cfg->missing_state)) {
			snprintf(err, errlen, "invalid state \"%s\": use ok, warning, critical or "
				 "unknown", arg);
			return PGHA_E_INVALID;
		}
		return 0;
	}
	return PGHA_E_INVALID;
}

/* --- formatting ------------------------------------------------------------ */

/* "0 B", "512 B", "20.1 MB" (powers of 1024, PostgreSQL's unit names). */
static void format_bytes(int64_t v, char *out, size_t outlen)
{
	static const char *const units[] = { "kB", "MB", "GB", "TB", "PB" };
	if (v < 1024 && v > -1024) {
		snprintf(out, outlen, "%" PRId64 " B", v);
		return;
	}
	double d = (double)v / 1024;
	size_t u = 0;
	while ((d >= 1024 || d <= -1024) && u + 1 < sizeof units / sizeof units[0]) {
		d /= 1024;
		u++;
	}
	snprintf(out, outlen, "%.1f %s", d, units[u]);
}

/* "0 s", "3.2 s", "125 s": one decimal under a minute. */
static void format_seconds(double v, char *out, size_t outlen)
{
	if (v == 0)
		snprintf(out, outlen, "0 s");
	else if (v < 60)
		snprintf(out, outlen, "%.1f s", v);
	else
		snprintf(out, outlen, "%.0f s", v);
}

/* The part of pgtarget's "n1 (127.0.0.1:5432)" before the address. */
static void short_name(const char *who, char *out, size_t outlen)
{
	const char *paren = strstr(who, " (");
	size_t len = paren ? (size_t)(paren - who) : strlen(who);
	snprintf(out, outlen, "%.*s", (int)len, who);
}

/* --- the server's role, and replica mode ------------------------------------ */

/* One row whatever the role; the replica columns are NULL on a primary.
 * The delay is 0 when all received WAL is replayed, so it does not grow
 * while the primary is idle. */
static const char replica_sql[] =
	"SELECT pg_is_in_recovery(),"
	" pg_wal_lsn_diff(w.receive, w.replay)::bigint,"
	" CASE WHEN w.receive IS NULL OR w.replay IS NULL THEN NULL"
	" WHEN w.receive <= w.replay THEN 0"
	/* greatest() skips NULLs: no transaction replayed yet is unknown, not 0 */
	" WHEN pg_last_xact_replay_timestamp() IS NULL THEN NULL"
	" ELSE greatest(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END,"
	" w.receive, w.replay,"
	" CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END,"
	" (SELECT status FROM pg_stat_wal_receiver LIMIT 1),"
	" pg_last_xact_replay_timestamp()"
	" FROM (SELECT pg_last_wal_receive_lsn() AS receive,"
	" pg_last_wal_replay_lsn() AS replay) AS w";

enum { R_RECOVERY, R_BYTES, R_SECONDS, R_RECEIVE, R_REPLAY, R_PAUSED, R_RECEIVER, R_XACT_TS };

/* Lag of the replica we are connected to (pg holds replica_sql's row). */
static void check_replica(const struct pgha_pg *pg, const struct config *cfg, const char *name,
			  int verbose, struct pgha_result *r)
{
	int64_t bytes = 0;
	double secs = 0;
	bool has_bytes = pgha_pg_int64(pg, 0, R_BYTES, &bytes) == 0;
	bool has_secs = pgha_pg_double(pg, 0, R_SECONDS, &secs) == 0;
	const char *receive = pgha_pg_value(pg, 0, R_RECEIVE);
	const char *replay = pgha_pg_value(pg, 0, R_REPLAY);
	const char *receiver = pgha_pg_value(pg, 0, R_RECEIVER);
	const char *xact_ts = pgha_pg_value(pg, 0, R_XACT_TS);
	bool is_paused = pgha_pg_bool(pg, 0, R_PAUSED);
	if (has_bytes && bytes < 0)
		bytes = 0; /* WAL replayed from pg_wal before streaming started */

	enum pgha_state sb = PGHA_OK, ss = PGHA_OK;
	char btext[32] = "unknown", stext[32] = "unknown";
	if (has_bytes) {
		sb = pgha_thresholds_check(&cfg->bytes, (double)bytes);
		format_bytes(bytes, btext, sizeof btext);
	} else if (cfg->bytes.has_warning || cfg->bytes.has_critical) {
		sb = PGHA_UNKNOWN;
	}
	if (has_secs) {
		ss = pgha_thresholds_check(&cfg->secs, secs);
		format_seconds(secs, stext, sizeof stext);
	} else if (cfg->secs.has_warning || cfg->secs.has_critical) {
		ss = PGHA_UNKNOWN;
	}
	enum pgha_state s = pgha_state_worst(sb, ss);
	pgha_result_raise(r, s);

	const char *why = "";
	if (!receive)
		why = " (no WAL received by streaming since the server started)";
	else if (!has_secs)
		why = " (no transaction replayed since the server started)";
	pgha_result_summary(r, "replica %s: replay lag %s, %s%s%s", name, btext, stext,
			    is_paused ? ", replay paused" : "", why);
	pgha_result_line(r, PGHA_OK, "received %s, replayed %s, WAL receiver %s",
			 receive ? receive : "nothing", replay ? replay : "nothing",
			 receiver ? receiver : "not running");
	if (verbose >= 1)
		pgha_result_line(r, PGHA_OK, "last replayed transaction committed at %s",
				 xact_ts ? xact_ts : "(none since start)");

	struct pgha_perf_spec bspec = { .uom = "B", .warn = cfg->bytes.warning_text,
					.crit = cfg->bytes.critical_text, .has_min = true };
	struct pgha_perf_spec sspec = { .uom = "s", .warn = cfg->secs.warning_text,
					.crit = cfg->secs.critical_text, .has_min = true };
	if (has_bytes)
		pgha_result_perf(r, "replay_lag_bytes", (double)bytes, &bspec);
	else
		pgha_result_perf_unknown(r, "replay_lag_bytes", &bspec);
	if (has_secs)
		pgha_result_perf(r, "replay_lag_seconds", secs, &sspec);
	else
		pgha_result_perf_unknown(r, "replay_lag_seconds", &sspec);
}

/* --- primary mode ------------------------------------------------------------ */

/* Every standby, lags against one reading of the current WAL position.
 * NULL lag times mean the standby has caught up on an idle primary: 0. */
static const char standbys_sql[] =
	"SELECT coalesce(nullif(s.application_name, ''), 'pid' || s.pid),"
	" coalesce(host(s.client_addr), s.client_hostname, 'local'),"
	" s.state, s.sync_state,"
	" greatest(pg_wal_lsn_diff(c.lsn, s.sent_lsn), 0)::bigint,"
	" greatest(pg_wal_lsn_diff(c.lsn, s.write_lsn), 0)::bigint,"
	" greatest(pg_wal_lsn_diff(c.lsn, s.flush_lsn), 0)::bigint,"
	" greatest(pg_wal_lsn_diff(c.lsn, s.replay_lsn), 0)::bigint,"
	" extract(epoch FROM coalesce(s.write_lag, '0')),"
	" extract(epoch FROM coalesce(s.flush_lag, '0')),"
	" extract(epoch FROM coalesce(s.replay_lag, '0')),"
	" c.lsn"
	" FROM pg_stat_replication AS s, (SELECT pg_current_wal_lsn() AS lsn) AS c"
	" WHERE s.state IS DISTINCT FROM 'backup'"
	" ORDER BY 1, s.pid";

enum { S_NAME, S_ADDR, S_STATE, S_SYNC, S_SENT, S_WRITE, S_FLUSH, S_REPLAY,
       S_WRITE_S, S_FLUSH_S, S_REPLAY_S, S_CURRENT };

enum { SENT, WRITE, FLUSH, REPLAY, N_POS };
static const char *const pos_name[N_POS] = { "sent", "write", "flush", "replay" };

struct standby {
	char name[128];
	char addr[64];
	char state[24];
	char sync[16];
	bool has_bytes[N_POS];
	int64_t bytes[N_POS];
	double secs[N_POS]; /* WRITE, FLUSH, REPLAY; SENT unused */
	enum pgha_state verdict;
};

/* Copy a field, "" for NULL. */
static void copy_field(const struct pgha_pg *pg, int row, int col, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", pgha_pg_text(pg, row, col));
}

/* Read the rows of standbys_sql into a new array (caller frees). */
static int read_standbys(const struct pgha_pg *pg, struct standby **out, size_t *n,
			 char *err, size_t errlen)
{
	int rows = pgha_pg_rows(pg);
	*out = NULL;
	*n = 0;
	if (rows == 0)
		return 0;
	struct standby *sb = calloc((size_t)rows, sizeof *sb);
	if (!sb) {
		snprintf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	for (int i = 0; i < rows; i++) {
		struct standby *s = &sb[i];
		copy_field(pg, i, S_NAME, s->name, sizeof s->name);
		copy_field(pg, i, S_ADDR, s->addr, sizeof s->addr);
		copy_field(pg, i, S_STATE, s->state, sizeof s->state);
		copy_field(pg, i, S_SYNC, s->sync, sizeof s->sync);
		for (int p = 0; p < N_POS; p++)
			s->has_bytes[p] = pgha_pg_int64(pg, i, S_SENT + p, &s->bytes[p]) == 0;
		for (int p = WRITE; p < N_POS; p++)
			if (pgha_pg_double(pg, i, S_WRITE_S + p - WRITE, &s->secs[p]))
				s->secs[p] = 0;
	}
	*out = sb;
	*n = (size_t)rows;
	return 0;
}

/* The replicas Patroni expects to stream from the leader: members in a
 * replica role, but not self and not those tagged replicatefrom another
 * member (cascading). names point into the tree in *root. */
struct expected {
	cJSON *root;
	struct pgha_cluster cluster;
	const char **names;
	size_t n;
};

static void expected_free(struct expected *e)
{
	free(e->names);
	pgha_cluster_free(&e->cluster);
	cJSON_Delete(e->root);
	memset(e, 0, sizeof *e);
}

static int patroni_expected(const struct pgha_common *c, const char *self, struct expected *e,
			    enum pgha_state *fail, char *err, size_t errlen)
{
	struct pgha_rest rest;
	long status = 0;
	memset(e, 0, sizeof *e);
	*fail = PGHA_UNKNOWN;
	int rc = pgha_rest_open(&rest, c->patroni, c->n_patroni, c, err, errlen);
	if (rc == 0) {
		rc = pgha_rest_get_json(&rest, &c->deadline, "/cluster", &e->root, &status, NULL,
					err, errlen);
		if (rc)
			*fail = pgha_rest_failure_state(rc, c);
	}
	pgha_rest_close(&rest);
	if (rc == 0)
		rc = pgha_cluster_parse(e->root, &e->cluster, err, errlen);
	if (rc == 0 && e->cluster.n_members) {
		e->names = calloc(e->cluster.n_members, sizeof *e->names);
		if (!e->names) {
			snprintf(err, errlen, "out of memory");
			rc = PGHA_E_NOMEM;
		}
	}
	if (rc)
		return rc;
	for (size_t i = 0; i < e->cluster.n_members; i++) {
		const struct pgha_member *m = &e->cluster.members[i];
		if (!pgha_member_is_replica(m) || strcmp(m->name, self) == 0)
			continue;
		const cJSON *from = pgha_json_get(m->tags, "replicatefrom");
		if (cJSON_IsString(from) && from->valuestring[0] &&
		    strcmp(from->valuestring, self) != 0)
			continue;
		e->names[e->n++] = m->name;
	}
	return 0;
}

/* Evaluate one standby's lag against the thresholds. */
static enum pgha_state judge(const struct standby *s, const struct config *cfg)
{
	enum pgha_state st;
	if (s->has_bytes[REPLAY])
		st = pgha_thresholds_check(&cfg->bytes, (double)s->bytes[REPLAY]);
	else
		st = cfg->bytes.has_warning || cfg->bytes.has_critical ? PGHA_UNKNOWN : PGHA_OK;
	return pgha_state_worst(st, pgha_thresholds_check(&cfg->secs, s->secs[REPLAY]));
}

/* "replay lag 20.1 MB, 3.2 s" (or "replay lag unknown (startup), 0 s"). */
static void describe_lag(const struct standby *s, char *out, size_t outlen)
{
	char b[48], t[32];
	if (s->has_bytes[REPLAY])
		format_bytes(s->bytes[REPLAY], b, sizeof b);
	else
		snprintf(b, sizeof b, "unknown (%s)", s->state[0] ? s->state : "no position yet");
	format_seconds(s->secs[REPLAY], t, sizeof t);
	snprintf(out, outlen, "replay lag %s, %s", b, t);
}

/* Is a standby of this name connected? */
static bool connected(const struct standby *sb, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(sb[i].name, name) == 0)
			return true;
	return false;
}

/* Long output and perfdata for one standby. */
static void report_standby(const struct standby *s, const struct config *cfg,
			   struct pgha_result *r)
{
	char lag[96], detail[160] = "", b[32], t[32];
	size_t len = 0;
	describe_lag(s, lag, sizeof lag);
	for (int p = SENT; p < REPLAY && len < sizeof detail; p++) {
		if (s->has_bytes[p])
			format_bytes(s->bytes[p], b, sizeof b);
		else
			snprintf(b, sizeof b, "unknown");
		len += (size_t)snprintf(detail + len, sizeof detail - len, "%s%s %s",
					p == SENT ? "" : ", ", pos_name[p], b);
	}
	format_seconds(s->secs[WRITE], b, sizeof b);
	format_seconds(s->secs[FLUSH], t, sizeof t);
	pgha_result_line(r, s->verdict, "%s: %s (%s; write %s, flush %s; %s, %s, %s)",
			 s->name, lag, detail, b, t, s->state, s->sync, s->addr);

	struct pgha_perf_spec spec = { .uom = "B", .has_min = true };
	char label[192];
	for (int p = SENT; p < N_POS; p++) {
		bool thr = p == REPLAY;
		spec.warn = thr ? cfg->bytes.warning_text : NULL;
		spec.crit = thr ? cfg->bytes.critical_text : NULL;
		snprintf(label, sizeof label, "%s_%s_lag_bytes", s->name, pos_name[p]);
		if (s->has_bytes[p])
			pgha_result_perf(r, label, (double)s->bytes[p], &spec);
		else
			pgha_result_perf_unknown(r, label, &spec);
	}
	spec.uom = "s";
	for (int p = WRITE; p < N_POS; p++) {
		bool thr = p == REPLAY;
		spec.warn = thr ? cfg->secs.warning_text : NULL;
		spec.crit = thr ? cfg->secs.critical_text : NULL;
		snprintf(label, sizeof label, "%s_%s_lag_seconds", s->name, pos_name[p]);
		pgha_result_perf(r, label, s->secs[p], &spec);
	}
}

/* Order for the long output and the "worst" pick: state, then lag. */
static int compare_standbys(const void *pa, const void *pb)
{
	const struct standby *a = pa, *b = pb;
	int ra = pgha_state_rank(a->verdict), rb = pgha_state_rank(b->verdict);
	if (ra != rb)
		return rb - ra;
	int64_t la = a->has_bytes[REPLAY] ? a->bytes[REPLAY] : -1;
	int64_t lb = b->has_bytes[REPLAY] ? b->bytes[REPLAY] : -1;
	if (la != lb)
		return la < lb ? 1 : -1;
	if (a->secs[REPLAY] != b->secs[REPLAY])
		return a->secs[REPLAY] < b->secs[REPLAY] ? 1 : -1;
	return strcmp(a->name, b->name);
}

/* Judge the standbys and the expected ones; fill summary, lines and
 * perfdata. exp may be NULL (no --patroni). */
static void check_primary(struct standby *sb, size_t n, const struct expected *exp,
			  const struct config *cfg, const char *name, struct pgha_result *r)
{
	char missing[256] = "", part[384] = "", worst[256] = "";
	size_t n_missing = 0, mlen = 0;

	for (size_t i = 0; i < n; i++) {
		sb[i].verdict = judge(&sb[i], cfg);
		pgha_result_raise(r, sb[i].verdict);
	}
	if (n > 1)
		qsort(sb, n, sizeof *sb, compare_standbys);

	/* named by Patroni but not connected */
	for (size_t i = 0; exp && i < exp->n; i++) {
		if (connected(sb, n, exp->names[i]))
			continue;
		n_missing++;
		if (mlen < sizeof missing)
			mlen += (size_t)snprintf(missing + mlen, sizeof missing - mlen, "%s%s",
						 n_missing > 1 ? ", " : "", exp->names[i]);
		pgha_result_line(r, cfg->missing_state, "%s: not connected (a replica in Patroni's "
				 "member list)", exp->names[i]);
	}
	bool short_count = cfg->expected >= 0 && (long)n < cfg->expected;
	long want = cfg->expected;
	if (exp && (long)exp->n > want)
		want = (long)exp->n;
	if (n_missing)
		pgha_result_raise(r, cfg->missing_state);
	if (short_count) {
		pgha_result_raise(r, cfg->missing_state);
		pgha_result_line(r, cfg->missing_state, "%zu standby%s connected, %ld expected", n,
				 n == 1 ? "" : "s", cfg->expected);
	}
	if (n_missing)
		snprintf(part, sizeof part, "standby%s %s missing, %zu of %ld connected",
			 n_missing > 1 ? "s" : "", missing, n, want);
	else if (short_count)
		snprintf(part, sizeof part, "%ld standby%s missing, %zu of %ld connected",
			 cfg->expected - (long)n, cfg->expected - (long)n > 1 ? "s" : "", n, want);
	else if (n == 0)
		snprintf(part, sizeof part, "no standbys");
	else
		snprintf(part, sizeof part, "%zu standby%s", n, n == 1 ? "" : "s");

	if (n) {
		char lag[96];
		describe_lag(&sb[0], lag, sizeof lag);
		snprintf(worst, sizeof worst, "; worst %s: %s",
			 sb[0].name, lag);
	}
	pgha_result_summary(r, "primary %s: %s%s", name, part, worst);

	for (size_t i = 0; i < n; i++)
		report_standby(&sb[i], cfg, r);

	struct pgha_perf_spec spec = { .has_min = true };
	char range[32] = "";
	if (want > 0) {
		snprintf(range, sizeof range, "%ld:", want);
		if (cfg->missing_state == PGHA_CRITICAL)
			spec.crit = range;
		else if (cfg->missing_state == PGHA_WARNING)
			spec.warn = range;
	}
	pgha_result_perf(r, "standbys", (double)n, &spec);
}

/* Standbys with their details hidden: the login lacks pg_read_all_stats. */
static bool details_hidden(const struct standby *sb, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!sb[i].state[0])
			return true;
	return false;
}

/* Primary mode: query, read, compare with Patroni's list, report. */
static void run_primary(struct pgha_pg *pg, const struct pgha_common *common,
			const struct config *cfg, const char *name, struct pgha_result *r)
{
	struct standby *sb = NULL;
	size_t n = 0;
	struct expected exp = { 0 };
	char err[512] = "", current[64] = "";
	enum pgha_state fail = PGHA_UNKNOWN;

	if (pgha_pg_check_query(pg, common, name, standbys_sql, 0, NULL, r))
		return;
	if (read_standbys(pg, &sb, &n, err, sizeof err)) {
		pgha_result_set(r, PGHA_UNKNOWN, "%s", err);
		return;
	}
	if (n)
		copy_field(pg, 0, S_CURRENT, current, sizeof current);
	if (details_hidden(sb, n)) {
		pgha_result_set(r, PGHA_UNKNOWN, "%s: pg_stat_replication hides the standbys' "
				"details from user \"%s\": grant it pg_monitor", name,
				PQuser(pg->conn));
	} else if (common->n_patroni &&
		   patroni_expected(common, name, &exp, &fail, err, sizeof err)) {
		pgha_result_set(r, fail, "%s: could not read Patroni's member list: %s", name, err);
	} else {
		check_primary(sb, n, common->n_patroni ? &exp : NULL, cfg, name, r);
		if (common->verbose >= 1 && current[0])
			pgha_result_line(r, PGHA_OK, "current WAL position %s", current);
	}
	expected_free(&exp);
	free(sb);
}

/* The role pg has (replica_sql's row), against --role; then the lag of
 * that role. PGHA_E_PROTOCOL when the row says nothing. */
static int check_role(struct pgha_pg *pg, const struct pgha_common *common,
		       const struct config *cfg, const char *name, struct pgha_result *r)
{
	if (pgha_pg_rows(pg) != 1 || !pgha_pg_value(pg, 0, R_RECOVERY)) {
		pgha_result_set(r, PGHA_UNKNOWN, "%s: pg_is_in_recovery() gave no answer", name);
		return PGHA_E_PROTOCOL;
	}
	bool recovery = pgha_pg_bool(pg, 0, R_RECOVERY);
	if (cfg->role == ROLE_PRIMARY && recovery)
		pgha_result_set(r, PGHA_CRITICAL, "%s is a replica (in recovery), expected a "
				"primary", name);
	else if (cfg->role == ROLE_REPLICA && !recovery)
		pgha_result_set(r, PGHA_CRITICAL, "%s is a primary, expected a replica", name);
	else if (recovery)
		check_replica(pg, cfg, name, common->verbose, r);
	else
		run_primary(pg, common, cfg, name, r);
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg = { .role = ROLE_AUTO, .expected = -1, .missing_state = PGHA_CRITICAL };
	const struct pgha_program program = {
		.name = "check_pgha_lag",
		.result_name = "PGHA_LAG",
		.summary = "Check replication lag in bytes and seconds: on a primary for every "
			   "standby in pg_stat_replication, on a replica the WAL it received but "
			   "has not replayed yet.",
		.synopsis = PGHA_PG_SYNOPSIS " [--role primary|replica] "
			    "[--warning-bytes RANGE] [--critical-bytes RANGE] "
			    "[--warning-seconds RANGE] [--critical-seconds RANGE] "
			    "[--expected-standbys N] [--missing-state STATE] [-t SECONDS]",
		.groups = PGHA_PG_GROUPS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "The mode follows pg_is_in_recovery(): on a primary every standby's lag "
			 "(replay behind pg_current_wal_lsn(), and replay_lag), on a replica "
			 "received minus replayed WAL and the replay delay (0 when all received "
			 "WAL is replayed, so an idle primary does not raise it).\n"
			 "The thresholds apply to the replay lag. An empty lag time in "
			 "pg_stat_replication (a caught-up standby of an idle primary) counts "
			 "as 0 s.\n"
			 "With --patroni it connects to the leader (or --member) and expects "
			 "every replica Patroni lists to be connected, by application_name.\n"
			 "A server that cannot be reached within -t is CRITICAL unless "
			 "--timeout-result says otherwise.",
	};
	struct pgha_common common;
	int done = pgha_pg_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;

	char err[512] = "";
	if (pgha_thresholds_set(&cfg.bytes, cfg.warn_bytes, cfg.crit_bytes, PGHA_UNIT_BYTES, err,
				sizeof err) ||
	    pgha_thresholds_set(&cfg.secs, cfg.warn_secs, cfg.crit_secs, PGHA_UNIT_SECONDS, err,
				sizeof err))
		return pgha_options_fail(&program, "%s", err);

	struct pgha_result r;
	struct pgha_pg pg;
	char who[192], name[192];
	pgha_result_init(&r, program.result_name);

	if (pgha_pg_check_connect(&pg, &common, who, sizeof who, &r) == 0) {
		short_name(who, name, sizeof name);
		if (pgha_pg_check_query(&pg, &common, name, replica_sql, 0, NULL, &r) == 0 &&
		    check_role(&pg, &common, &cfg, name, &r) == 0)
			pgha_pg_check_verbose(&pg, &common, who, &r);
	}
	pgha_pg_close(&pg);
	return pgha_result_exit(&r);
}
