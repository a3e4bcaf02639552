/*
 * check_pgha_slots: the replication slots of a PostgreSQL server.
 *
 * For every slot in pg_replication_slots (or only those named with
 * --slot, less those named with --exclude):
 *   retained WAL   bytes between the server's current WAL position and
 *                  the slot's restart_lsn: pg_current_wal_lsn() on a
 *                  primary, pg_last_wal_replay_lsn() on a replica (the
 *                  WAL it keeps so the slot's consumer can resume); a slot
 *                  without restart_lsn (never reserved, or lost) retains
 *                  nothing. -w/-c (or --warning-bytes/--critical-bytes)
 *                  take byte ranges with units: -w 1GB -c 4GB.
 *   inactive       no connection uses the slot (active is false). A
 *                  streaming replica's Patroni-managed physical slot is
 *                  active; an inactive one means its consumer is gone while
 *                  the slot keeps WAL. --warning-inactive and
 *                  --critical-inactive are ranges on how many slots are
 *                  inactive; the default warns on any ("0"), an empty value
 *                  turns it off.
 *   wal_status     "lost" (the WAL the slot needs was removed: its consumer
 *                  cannot resume) is CRITICAL, "unreserved" (past
 *                  max_slot_wal_keep_size, removed at the next checkpoint)
 *                  WARNING; --lost-state and --unreserved-state change
 *                  that. "reserved" and "extended" are fine.
 * A slot named with --slot that does not exist is CRITICAL.
 *
 * Perfdata: one item per slot, labelled with the slot name, the retained
 * WAL in B (with the byte ranges, min 0); slots (how many were checked)
 * and inactive_slots (with the inactive ranges).
 *
 * With --patroni the check connects to the leader (or --member). A server
 * that cannot be reached within -t is CRITICAL (--timeout-result changes
 * it); a failing query is UNKNOWN with the server's message. Grants: none
 * (pg_replication_slots and the WAL position functions are readable by
 * every role). PostgreSQL 13 or later (wal_status).
 */
#include "error.h"
#include "options.h"
#include "output.h"
#include "pg.h"
#include "pgtarget.h"
#include "range.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MAX_NAMES 32

/* One row per slot, or a single row of NULLs with the recovery flag when
 * there is no slot. The position the slots are measured against is the
 * primary's insert position, or on a replica how far it has replayed
 * (received, should replay not have started yet). */
static const char slots_sql[] =
	"WITH pos AS (SELECT pg_is_in_recovery() AS recovery,"
	" CASE WHEN pg_is_in_recovery()"
	" THEN coalesce(pg_last_wal_replay_lsn(), pg_last_wal_receive_lsn())"
	" ELSE pg_current_wal_lsn() END AS lsn)"
	" SELECT pos.recovery, s.slot_name, s.slot_type, s.active, s.temporary, s.wal_status,"
	" CASE WHEN s.restart_lsn IS NOT NULL" /* greatest() would turn NULL into 0 */
	" THEN greatest(pg_wal_lsn_diff(pos.lsn, s.restart_lsn), 0)::bigint END,"
	" s.safe_wal_size, coalesce(s.plugin, ''), coalesce(s.database, '')"
	" FROM pos LEFT JOIN pg_replication_slots s ON true"
	" ORDER BY s.slot_name";

enum { C_RECOVERY, C_NAME, C_TYPE, C_ACTIVE, C_TEMPORARY, C_WAL_STATUS, C_RETAINED,
       C_SAFE, C_PLUGIN, C_DATABASE, N_COLS };

struct config {
	const char *warning_bytes, *critical_bytes;
	const char *warning_inactive, *critical_inactive;
	enum pgha_state lost_state, unreserved_state;
	const char *slots[MAX_NAMES];
	size_t n_slots;
	const char *excludes[MAX_NAMES];
	size_t n_excludes;
};

enum {
	OPT_WARNING_BYTES, OPT_CRITICAL_BYTES, OPT_WARNING_INACTIVE, OPT_CRITICAL_INACTIVE,
	OPT_LOST_STATE, OPT_UNRESERVED_STATE, OPT_SLOT, OPT_EXCLUDE
};

static const struct pgha_option options[] = {
	{ "warning-bytes", 0, "RANGE",
	  "warning range on the WAL a slot retains, units B kB MB GB TB (same as -w)",
	  OPT_WARNING_BYTES },
	{ "critical-bytes", 0, "RANGE",
	  "critical range on the WAL a slot retains (same as -c)", OPT_CRITICAL_BYTES },
	{ "warning-inactive", 0, "RANGE",
	  "warning range on the number of inactive slots (default 0: any; empty: none)",
	  OPT_WARNING_INACTIVE },
	{ "critical-inactive", 0, "RANGE",
	  "critical range on the number of inactive slots (default none)",
	  OPT_CRITICAL_INACTIVE },
	{ "lost-state", 0, "STATE",
	  "state of a slot whose wal_status is lost (default critical)", OPT_LOST_STATE },
	{ "unreserved-state", 0, "STATE",
	  "state of a slot whose wal_status is unreserved (default warning)",
	  OPT_UNRESERVED_STATE },
	{ "slot", 0, "NAME",
	  "check only this slot (repeatable); CRITICAL when it does not exist", OPT_SLOT },
	{ "exclude", 0, "NAME", "do not check this slot (repeatable)", OPT_EXCLUDE },
};

static int add_name(const char **names, size_t *n, const char *arg, const char *what,
		    char *err, size_t errlen)
{
	if (!arg[0]) {
		snprintf(err, errlen, "empty slot name for --%s", what);
		return PGHA_E_INVALID;
	}
	if (*n >= MAX_NAMES) {
		snprintf(err, errlen, "too many --%s options (at most %d)", what, MAX_NAMES);
		return PGHA_E_INVALID;
	}
	names[(*n)++] = arg;
	return 0;
}

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	switch (id) {
	case OPT_WARNING_BYTES: cfg->warning_bytes = arg; return 0;
	case OPT_CRITICAL_BYTES: cfg->critical_bytes = arg; return 0;
	case OPT_WARNING_INACTIVE: cfg->warning_inactive = arg; return 0;
	case OPT_CRITICAL_INACTIVE: cfg->critical_inactive = arg; return 0;
	case OPT_LOST_STATE:
	case OPT_UNRESERVED_STATE: {
		enum pgha_state s;
		if (pgha_state_parse(arg, &s)) {
			snprintf(err, errlen, "invalid state \"%s\": use ok, warning, critical or "
				 "unknown", arg);
			return PGHA_E_INVALID;
		}
		*(id == OPT_LOST_STATE ? &cfg->lost_state : &cfg->unreserved_state) = s;
		return 0;
	}
	case OPT_SLOT: return add_name(cfg->slots, &cfg->n_slots, arg, "slot", err, errlen);
	case OPT_EXCLUDE:
		return add_name(cfg->excludes, &cfg->n_excludes, arg, "exclude", err, errlen);
	}
	return PGHA_E_INVALID;
}


static bool in_list(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* "512 bytes", "1.5 kB", "64.0 MB": powers of 1024, as PostgreSQL. */
static void format_bytes(double v, char *out, size_t outlen)
{
	static const char *const units[] = { "kB", "MB", "GB", "TB", "PB" };
	if (v < 1024) {
		snprintf(out, outlen, "%.0f bytes", v);
		return;
	}
	size_t u = 0;
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1024;
		u++;
	}
	snprintf(out, outlen, "%.1f %s", v, units[u]);
}

/* What the checks found, for the summary. */
struct tally {
	int checked, inactive;
	int64_t most;          /* the largest retained WAL */
	const char *most_slot; /* borrowed from the result set */
};

/* Judge one slot (row i): a long-output line with its state. */
static void check_slot(const struct config *cfg, const struct pgha_thresholds *bytes,
		       enum pgha_state inactive_state, const struct pgha_pg *pg, int i,
		       struct tally *tally, struct pgha_result *r)
{
	const char *name = pgha_pg_value(pg, i, C_NAME);
	const char *type = pgha_pg_value(pg, i, C_TYPE);
	bool is_temporary = pgha_pg_bool(pg, i, C_TEMPORARY);
	const char *wal_status = pgha_pg_value(pg, i, C_WAL_STATUS);
	const char *plugin = pgha_pg_value(pg, i, C_PLUGIN);
	const char *database = pgha_pg_value(pg, i, C_DATABASE);
	int64_t retained = 0, safe = 0;
	bool has_retained = pgha_pg_int64(pg, i, C_RETAINED, &retained) == 0;
	bool has_safe = pgha_pg_int64(pg, i, C_SAFE, &safe) == 0;
	bool is_active = pgha_pg_bool(pg, i, C_ACTIVE);
	enum pgha_state s = PGHA_OK;
	char amount[32], kind[160], why[160] = "", extra[96] = "";

	tally->checked++;
	if (!is_active) {
		tally->inactive++;
		s = inactive_state; /* the inactive ranges alert on the count */
	}
	if (has_retained && (!tally->most_slot || retained > tally->most)) {
		tally->most = retained;
		tally->most_slot = name;
	}

	/* retained WAL against the byte ranges */
	enum pgha_state sb = pgha_thresholds_check(bytes, (double)retained);
	if (sb != PGHA_OK)
		snprintf(why, sizeof why, " (%s range %s)", sb == PGHA_CRITICAL ? "critical" : "warning",
			 sb == PGHA_CRITICAL ? cfg->critical_bytes : cfg->warning_bytes);
	s = pgha_state_worst(s, sb);

	/* wal_status */
	if (wal_status && strcmp(wal_status, "lost") == 0) {
		s = pgha_state_worst(s, cfg->lost_state);
		snprintf(extra, sizeof extra, ", wal_status lost: the WAL it needs was removed");
	} else if (wal_status && strcmp(wal_status, "unreserved") == 0) {
		s = pgha_state_worst(s, cfg->unreserved_state);
		snprintf(extra, sizeof extra, ", wal_status unreserved: its WAL goes at the next "
			 "checkpoint");
	}

	format_bytes((double)retained, amount, sizeof amount);
	if (plugin && plugin[0])
		snprintf(kind, sizeof kind, "%s%s, %s on \"%s\"",
			 is_temporary ? "temporary " : "",
			 type ? type : "?", plugin, database ? database : "");
	else
		snprintf(kind, sizeof kind, "%s%s", is_temporary ? "temporary " : "",
			 type ? type : "?");
	char safe_text[64] = "";
	if (has_safe) {
		char sz[32];
		format_bytes((double)(safe < 0 ? 0 : safe), sz, sizeof sz);
		snprintf(safe_text, sizeof safe_text, ", %s until max_slot_wal_keep_size", sz);
	}
	pgha_result_line(r, s, "slot \"%s\" (%s) %s, %s%s%s%s", name, kind,
			 is_active ? "active" : "inactive",
			 has_retained ? "retains " : "reserves no WAL",
			 has_retained ? amount : "", why, extra[0] ? extra : safe_text);
	pgha_result_raise(r, s);

	struct pgha_perf_spec spec = { .uom = "B", .warn = bytes->warning_text,
				       .crit = bytes->critical_text, .has_min = true, .min = 0 };
	pgha_result_perf(r, name, (double)retained, &spec);
}

/* Is row i a slot the options select? */
static bool selected(const struct config *cfg, const struct pgha_pg *pg, int i)
{
	const char *name = pgha_pg_value(pg, i, C_NAME);
	if (!name) /* the row of NULLs: no slot at all */
		return false;
	if (cfg->n_slots && !in_list(cfg->slots, cfg->n_slots, name))
		return false;
	return !in_list(cfg->excludes, cfg->n_excludes, name);
}

/* Judge every slot the options select and fill the result. */
static void report(const struct config *cfg, const struct pgha_thresholds *bytes,
		   const struct pgha_thresholds *inactive, const char *who,
		   const struct pgha_pg *pg, int verbose, struct pgha_result *r)
{
	struct tally tally = { 0 };
	int rows = pgha_pg_rows(pg);
	bool recovery = pgha_pg_bool(pg, 0, C_RECOVERY);

	int n_inactive = 0;
	for (int i = 0; i < rows; i++)
		if (selected(cfg, pg, i) && !pgha_pg_bool(pg, i, C_ACTIVE))
			n_inactive++;
	enum pgha_state si = pgha_thresholds_check(inactive, n_inactive);
	for (int i = 0; i < rows; i++)
		if (selected(cfg, pg, i))
			check_slot(cfg, bytes, si, pg, i, &tally, r);
	for (size_t k = 0; k < cfg->n_slots; k++) {
		bool found = false;
		for (int i = 0; i < rows && !found; i++) {
			const char *name = pgha_pg_value(pg, i, C_NAME);
			found = name && strcmp(name, cfg->slots[k]) == 0;
		}
		if (!found) {
			pgha_result_raise(r, PGHA_CRITICAL);
			pgha_result_line(r, PGHA_CRITICAL, "slot \"%s\" does not exist", cfg->slots[k]);
		}
	}

	if (r->state != PGHA_OK) {
		pgha_result_summarise(r, who);
	} else if (tally.checked == 0) {
		pgha_result_summary(r, "%s: no replication slot%s", who,
				    cfg->n_slots || cfg->n_excludes ? " to check" : "s");
	} else {
		char amount[32];
		format_bytes((double)tally.most, amount, sizeof amount);
		pgha_result_summary(r, "%s: %d slot%s, %d inactive, most WAL retained %s by \"%s\"",
				    who, tally.checked, tally.checked == 1 ? "" : "s", tally.inactive,
				    amount, tally.most_slot ? tally.most_slot : "?");
	}
	if (verbose >= 1)
		pgha_result_line(r, PGHA_OK, "retained WAL measured from the %s",
				 recovery ? "replay position (a replica)" : "current WAL position");

	struct pgha_perf_spec cspec = { .has_min = true, .min = 0 };
	pgha_result_perf(r, "slots", tally.checked, &cspec);
	cspec.warn = inactive->warning_text;
	cspec.crit = inactive->critical_text;
	pgha_result_perf(r, "inactive_slots", tally.inactive, &cspec);
}

int main(int argc, char **argv)
{
	struct config cfg = { .warning_inactive = "0", .lost_state = PGHA_CRITICAL,
			      .unreserved_state = PGHA_WARNING };
	const struct pgha_program program = {
		.name = "check_pgha_slots",
		.result_name = "PGHA_SLOTS",
		.summary = "Check the replication slots of a PostgreSQL server: WAL each "
			   "retains, inactive slots, slots whose WAL is lost or unreserved.",
		.synopsis = PGHA_PG_SYNOPSIS " [-w SIZE-RANGE] [-c SIZE-RANGE] "
			    "[--warning-inactive RANGE] [--critical-inactive RANGE] "
			    "[--slot NAME]... [--exclude NAME]... [-t SECONDS]",
		.groups = PGHA_PG_GROUPS | PGHA_GROUP_THRESHOLDS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "-w and -c apply to the WAL each slot retains, in bytes with optional "
			 "units (-w 1GB -c 4GB).\nAny inactive slot is a WARNING unless "
			 "--warning-inactive says otherwise (--warning-inactive= turns it off).\n"
			 "wal_status lost is CRITICAL, unreserved WARNING.\n"
			 PGHA_PG_NOTES,
	};
	struct pgha_common common;
	int done = pgha_pg_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;
	if (common.warning && cfg.warning_bytes)
		return pgha_options_fail(&program, "-w and --warning-bytes are the same: give one");
	if (common.critical && cfg.critical_bytes)
		return pgha_options_fail(&program, "-c and --critical-bytes are the same: give one");
	if (!cfg.warning_bytes)
		cfg.warning_bytes = common.warning;
	if (!cfg.critical_bytes)
		cfg.critical_bytes = common.critical;

	struct pgha_thresholds bytes, inactive;
	char err[512] = "";
	if (pgha_thresholds_set_named(&bytes, cfg.warning_bytes, cfg.critical_bytes, PGHA_UNIT_BYTES,
			 common.warning ? "-w" : "--warning-bytes",
			 common.critical ? "-c" : "--critical-bytes", err, sizeof err) ||
	    pgha_thresholds_set_named(&inactive, cfg.warning_inactive, cfg.critical_inactive, PGHA_UNIT_NONE,
			 "--warning-inactive", "--critical-inactive", err, sizeof err))
		return pgha_options_fail(&program, "%s", err);

	struct pgha_result r;
	struct pgha_pg pg;
	char who[192];
	pgha_result_init(&r, program.result_name);

	if (pgha_pg_check_connect(&pg, &common, who, sizeof who, &r) == 0 &&
	    pgha_pg_check_query(&pg, &common, who, slots_sql, 0, NULL, &r) == 0) {
		if (pgha_pg_cols(&pg) != N_COLS || pgha_pg_rows(&pg) < 1) {
			pgha_result_set(&r, PGHA_UNKNOWN,
					"%s: unexpected answer from pg_replication_slots", who);
		} else {
			report(&cfg, &bytes, &inactive, who, &pg, common.verbose, &r);
			pgha_pg_check_verbose(&pg, &common, who, &r);
		}
	}
	pgha_pg_close(&pg);
	return pgha_result_exit(&r);
}
