/*
 * range.h: Monitoring Plugins ranges and warning/critical thresholds.
 *
 * Syntax [@]start:end per the plugin guidelines (see
 * shared design plugin-contract.md): "10" alerts outside 0..10, "10:" below
 * 10, "~:10" above 10, "10:20" outside 10..20, "@10:20" inside 10..20.
 * Endpoints are inclusive. Garbage ("1-10", "foo", "2:1", "10:~") is
 * rejected with a message, never read as 0.
 *
 * Ranges may carry units, converted to a base unit when parsed:
 *   PGHA_UNIT_BYTES   B kB KB MB GB TB (powers of 1024, as PostgreSQL)
 *                     also KiB MiB GiB TiB; base unit B
 *   PGHA_UNIT_SECONDS ms s min h d; base unit s
 *   PGHA_UNIT_NONE    plain numbers; a trailing '%' is accepted and ignored
 *                     (percent thresholds)
 * A number without a unit is already in the base unit.
 */
#ifndef PGHA_RANGE_H
#define PGHA_RANGE_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

enum pgha_unit_kind {
	PGHA_UNIT_NONE,
	PGHA_UNIT_BYTES,
	PGHA_UNIT_SECONDS
};

struct pgha_range {
	double start;        /* meaningless when start_infinite */
	double end;          /* meaningless when end_infinite */
	bool start_infinite; /* "~" */
	bool end_infinite;   /* "10:" */
	bool alert_inside;   /* "@" */
};

/* Parse text into r. On error returns PGHA_E_INVALID and writes a one-line
 * message (e.g. `invalid range "2:1": start is greater than end`) into
 * err (errlen bytes, may be 0). */
int pgha_range_parse(const char *text, enum pgha_unit_kind units,
		     struct pgha_range *r, char *err, size_t errlen);

/* True when value alerts against r. */
bool pgha_range_alerts(const struct pgha_range *r, double value);

/* Canonical text of r in base units, as the Perl Monitoring::Plugin::Range
 * stringifies it: "6", "10:", "~:10", "-7:23", "@657.8" (a 0 start is
 * omitted). Always NUL-terminates; returns the length it needed. */
size_t pgha_range_format(const struct pgha_range *r, char *out, size_t outlen);

/* Parse one quantity with an optional unit ("16MB", "30s", "5min", "12")
 * into base units. Same error contract as pgha_range_parse. */
int pgha_quantity_parse(const char *text, enum pgha_unit_kind units,
			double *out, char *err, size_t errlen);

/* A warning and a critical range, either optional. */
struct pgha_thresholds {
	bool has_warning, has_critical;
	struct pgha_range warning, critical;
	char warning_text[64];  /* canonical text for perfdata, "" if none */
	char critical_text[64];
};

/* Parse both (either may be NULL). Error contract as pgha_range_parse; the
 * message names which of the two was bad. */
int pgha_thresholds_set(struct pgha_thresholds *t, const char *warning,
			const char *critical, enum pgha_unit_kind units,
			char *err, size_t errlen);

/* CRITICAL if the critical range alerts, else WARNING if the warning range
 * alerts, else OK. */
enum pgha_state pgha_thresholds_check(const struct pgha_thresholds *t, double value);

#endif
