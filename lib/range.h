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
 *   PGHA_UNIT_NONE    plain numbers; a run of '%' after a number is
 *                     accepted and ignored (percent thresholds)
 * A number without a unit is already in the base unit; a unit belongs to
 * one endpoint ("16MB:1GB", "~:30s", "@1min:2min", "10:1GB").
 *
 * Exact grammar: [@] then one of  N  |  S:  |  S:E  |  ~:E  |  :E  where
 * N, S and E are decimal numbers ([+-], digits, '.', optional exponent;
 * no hex, "inf" or "nan") each followed by an optional unit. Nothing else
 * is accepted: no spaces, no "~" as the end ("10:~"), no "~:" without an
 * end. Numbers are read and printed with '.' as the decimal separator
 * (the C locale; libpgha never calls setlocale).
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

/* Parse text into r. On error returns PGHA_E_INVALID, leaves r unchanged
 * and writes a one-line message (e.g.
 * `invalid range "2:1": start is greater than end`) into err (errlen
 * bytes, may be 0; err may then be NULL). */
int pgha_range_parse(const char *text, enum pgha_unit_kind units,
		     struct pgha_range *r, char *err, size_t errlen);

/* True when value alerts against r. A NaN value always alerts (a value
 * that could not be measured should be reported as unknown instead). */
bool pgha_range_alerts(const struct pgha_range *r, double value);

/* Canonical text of r in base units, as the Perl Monitoring::Plugin::Range
 * stringifies it: "6", "10:", "~:10", "-7:23", "@657.8" (a 0 start is
 * omitted, except in "0:", which Perl would print as ""). Numbers as
 * pgha_number_format prints them. Always NUL-terminates (when outlen > 0);
 * returns the length it needed, as snprintf does. */
size_t pgha_range_format(const struct pgha_range *r, char *out, size_t outlen);

/* Print v locale-independently, in the shortest form that reads back as
 * the same double: integers without a fraction ("42", "-7"), others with
 * the fewest significant digits that round-trip ("0.1", "657.8210567").
 * No exponent for 1e-7 <= |v| < 1e21 ("12345678901234567000",
 * "0.00001"); outside that, "1e+21", "5e-324". -0 prints as "0". A NaN or
 * an infinity prints as "U" (the perfdata "unknown" value, never "nan").
 * Always NUL-terminates (when outlen > 0); returns the length it needed,
 * which is never more than PGHA_NUMBER_MAX ("-0.00000010000000000000002"). */
#define PGHA_NUMBER_MAX 26
size_t pgha_number_format(double v, char *out, size_t outlen);

/* Parse one quantity with an optional unit ("16MB", "30s", "5min", "12",
 * "-3") into base units; *out is unchanged on error. Same error contract
 * as pgha_range_parse, the message reading `invalid value "5x": ...`. */
int pgha_quantity_parse(const char *text, enum pgha_unit_kind units,
			double *out, char *err, size_t errlen);

/* A warning and a critical range, either optional. The texts always fit
 * (a canonical range is at most 2 * PGHA_NUMBER_MAX + 2 bytes). */
struct pgha_thresholds {
	bool has_warning, has_critical;
	struct pgha_range warning, critical;
	char warning_text[64];  /* canonical text for perfdata, "" if none */
	char critical_text[64];
};

/* Parse both; either may be NULL or "" (not set, as in the Perl library,
 * so an empty Nagios $ARGn$ means no threshold). Error contract as
 * pgha_range_parse; the message names which of the two was bad
 * (`invalid warning range "2:1": ...`). On error t holds no thresholds. */
int pgha_thresholds_set(struct pgha_thresholds *t, const char *warning,
			const char *critical, enum pgha_unit_kind units,
			char *err, size_t errlen);

/* The same, for checks whose two ranges come from options with names
 * of their own: a bad range is reported as "OPTION: invalid range ..."
 * (wopt and copt name the warning and critical options). */
int pgha_thresholds_set_named(struct pgha_thresholds *t, const char *warning,
			      const char *critical, enum pgha_unit_kind units,
			      const char *wopt, const char *copt, char *err, size_t errlen);

/* CRITICAL if the critical range alerts, else WARNING if the warning range
 * alerts, else OK. */
enum pgha_state pgha_thresholds_check(const struct pgha_thresholds *t, double value);

#endif
