/*
 * test_range.c: ranges, thresholds, quantities and number printing.
 *
 * Every row of tests/unit/vectors/range-parse.tsv and range-check.tsv (the
 * monitoring-plugins C and Perl suites) is read at run time, one TAP line
 * per row, from $PGHA_TOP_SRCDIR (set by `make check`) or ".". Then the
 * cases the vectors do not cover: units, error wording, thresholds.
 */
#include "../unit/tap.h"

#include "error.h"
#include "range.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define VEC_FIELDS 10

/* Open a vector file; the full path is left in path for messages. */
static FILE *open_vector(const char *name, char *path, size_t pathlen)
{
	const char *top = getenv("PGHA_TOP_SRCDIR");
	if (!top || !*top)
		top = ".";
	snprintf(path, pathlen, "%s/tests/unit/vectors/%s", top, name);
	return fopen(path, "r");
}

/* Split line in place at tabs (after stripping the newline) into at most
 * max fields; returns how many. */
static int split_tabs(char *line, char **field, int max)
{
	line[strcspn(line, "\r\n")] = '\0';
	int n = 0;
	char *p = line;
	while (n < max) {
		field[n++] = p;
		char *tab = strchr(p, '\t');
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	return n;
}

/* The double a vector field spells (the vectors use C syntax). */
static double num(const char *s)
{
	return strtod(s, NULL);
}

/* One row of range-parse.tsv:
 * range valid start start_inf end end_inf alert_on canonical source */
static void check_parse_row(char **f, int nf, int lineno)
{
	struct pgha_range r;
	char err[256] = "";
	char diag[1024] = "";
	size_t dl = 0;
	bool good = true;

#define MISMATCH(...) do { \
	good = false; \
	if (dl < sizeof diag) \
		dl += (size_t)snprintf(diag + dl, sizeof diag - dl, __VA_ARGS__); \
} while (0)

	if (nf < 9) {
		ok(0, "range-parse.tsv line %d has %d fields, want 9", lineno, nf);
		return;
	}
	bool want_valid = strcmp(f[1], "1") == 0;
	int rc = pgha_range_parse(f[0], PGHA_UNIT_NONE, &r, err, sizeof err);
	if (want_valid != (rc == 0)) {
		MISMATCH("#   parse returned %d (%s), want %s\n", rc, err,
			 want_valid ? "valid" : "invalid");
	} else if (want_valid) {
		bool start_inf = strcmp(f[3], "1") == 0, end_inf = strcmp(f[5], "1") == 0;
		if (r.start_infinite != start_inf)
			MISMATCH("#   start_infinite %d, want %d\n", r.start_infinite, start_inf);
		if (r.end_infinite != end_inf)
			MISMATCH("#   end_infinite %d, want %d\n", r.end_infinite, end_inf);
		if (strcmp(f[2], "-") != 0 && r.start != num(f[2]))
			MISMATCH("#   start %.17g, want %s\n", r.start, f[2]);
		if (strcmp(f[4], "-") != 0 && r.end != num(f[4]))
			MISMATCH("#   end %.17g, want %s\n", r.end, f[4]);
		bool inside = strcmp(f[6], "inside") == 0;
		if (r.alert_inside != inside)
			MISMATCH("#   alert_inside %d, want %s\n", r.alert_inside, f[6]);
		if (strcmp(f[7], "-") != 0) {
			char canon[80];
			pgha_range_format(&r, canon, sizeof canon);
			if (strcmp(canon, f[7]) != 0)
				MISMATCH("#   canonical \"%s\", want \"%s\"\n", canon, f[7]);
		}
	} else {
		char prefix[128];
		snprintf(prefix, sizeof prefix, "invalid range \"%s\": ", f[0]);
		size_t el = strlen(err);
		if (strncmp(err, prefix, strlen(prefix)) != 0 || el == 0 || err[el - 1] == '.')
			MISMATCH("#   message \"%s\" does not start with '%s' or ends in '.'\n",
				 err, prefix);
	}
	ok(good, "parse vector \"%s\" (%s)%s%s", f[0], want_valid ? "valid" : "invalid",
	   rc ? ": " : "", rc ? err : "");
	if (!good)
		printf("%s", diag);
#undef MISMATCH
}

/* One row of range-check.tsv: range value alert source */
static void check_alert_row(char **f, int nf, int lineno)
{
	struct pgha_range r;
	char err[256] = "";

	if (nf < 3) {
		ok(0, "range-check.tsv line %d has %d fields, want 4", lineno, nf);
		return;
	}
	int rc = pgha_range_parse(f[0], PGHA_UNIT_NONE, &r, err, sizeof err);
	bool want = strcmp(f[2], "1") == 0;
	bool got = rc == 0 && pgha_range_alerts(&r, num(f[1]));
	ok(rc == 0 && got == want, "range \"%s\" value %s %s", f[0], f[1],
	   want ? "alerts" : "does not alert");
	if (rc)
		printf("#   %s\n", err);
}

/* Run every row of one vector file through fn; a missing file fails. */
static void run_vectors(const char *name, int min_rows,
			void (*fn)(char **f, int nf, int lineno))
{
	char path[4096], line[1024];
	FILE *fp = open_vector(name, path, sizeof path);
	if (!fp) {
		ok(0, "open vector file \"%s\" (set PGHA_TOP_SRCDIR)", path);
		return;
	}
	int lineno = 0, rows = 0;
	while (fgets(line, sizeof line, fp)) {
		char *f[VEC_FIELDS];
		lineno++;
		if (line[0] == '#' || line[0] == '\n' || line[0] == '\0')
			continue;
		int nf = split_tabs(line, f, VEC_FIELDS);
		fn(f, nf, lineno);
		rows++;
	}
	fclose(fp);
	ok(rows >= min_rows, "%s: %d rows read (at least %d expected)", name, rows, min_rows);
}

/* Parse text (which must be valid) and compare start/end. Pass NAN for an
 * infinite endpoint. */
static void is_range(const char *text, enum pgha_unit_kind units, double start, double end,
		     bool inside)
{
	struct pgha_range r;
	char err[256] = "";
	int rc = pgha_range_parse(text, units, &r, err, sizeof err);
	bool good = rc == 0 &&
		(isnan(start) ? r.start_infinite : (!r.start_infinite && r.start == start)) &&
		(isnan(end) ? r.end_infinite : (!r.end_infinite && r.end == end)) &&
		r.alert_inside == inside;
	ok(good, "\"%s\" parses as start %g end %g%s", text, start, end, inside ? " inside" : "");
	if (!good)
		printf("#   rc %d (%s): start %.17g%s end %.17g%s inside %d\n", rc, err, r.start,
		       r.start_infinite ? " (inf)" : "", r.end, r.end_infinite ? " (inf)" : "",
		       r.alert_inside);
}

/* Parse text expecting failure; the message must be exactly want when want
 * is not NULL, and contain needle when that is not NULL. */
static void is_invalid(const char *text, enum pgha_unit_kind units, const char *want,
		       const char *needle)
{
	struct pgha_range r = { 42, 43, false, false, false };
	char err[512] = "";
	int rc = pgha_range_parse(text, units, &r, err, sizeof err);
	bool good = rc == PGHA_E_INVALID && r.start == 42 && r.end == 43 &&
		strncmp(err, "invalid range \"", 15) == 0 && err[strlen(err) - 1] != '.' &&
		(!want || strcmp(err, want) == 0) && (!needle || strstr(err, needle));
	ok(good, "\"%s\" is rejected: %s", text, err);
	if (!good)
		printf("#   rc %d, want \"%s\" containing \"%s\"\n", rc, want ? want : "",
		       needle ? needle : "");
}

static void is_canonical(const char *text, enum pgha_unit_kind units, const char *want)
{
	struct pgha_range r;
	char err[256] = "", canon[80] = "";
	int rc = pgha_range_parse(text, units, &r, err, sizeof err);
	if (rc == 0)
		pgha_range_format(&r, canon, sizeof canon);
	is_str(rc == 0 ? canon : err, want, "\"%s\" prints as \"%s\"", text, want);
}

static void test_units(void)
{
	const double K = 1024;
	/* Bytes, every suffix. */
	is_range("1B", PGHA_UNIT_BYTES, 0, 1, false);
	is_range("1kB", PGHA_UNIT_BYTES, 0, K, false);
	is_range("1KB", PGHA_UNIT_BYTES, 0, K, false);
	is_range("1KiB", PGHA_UNIT_BYTES, 0, K, false);
	is_range("1MB", PGHA_UNIT_BYTES, 0, K * K, false);
	is_range("1MiB", PGHA_UNIT_BYTES, 0, K * K, false);
	is_range("1GB", PGHA_UNIT_BYTES, 0, K * K * K, false);
	is_range("1GiB", PGHA_UNIT_BYTES, 0, K * K * K, false);
	is_range("1TB", PGHA_UNIT_BYTES, 0, K * K * K * K, false);
	is_range("1TiB", PGHA_UNIT_BYTES, 0, K * K * K * K, false);
	is_range("1.5kB", PGHA_UNIT_BYTES, 0, 1536, false);
	is_range("123", PGHA_UNIT_BYTES, 0, 123, false);
	is_range("16MB:", PGHA_UNIT_BYTES, 16 * K * K, NAN, false);
	is_range("16MB:1GB", PGHA_UNIT_BYTES, 16 * K * K, K * K * K, false);
	is_range("10:1GB", PGHA_UNIT_BYTES, 10, K * K * K, false);
	is_range("1kB:2000", PGHA_UNIT_BYTES, K, 2000, false);
	is_range("~:1kB", PGHA_UNIT_BYTES, NAN, K, false);
	is_range("@-1kB:1kB", PGHA_UNIT_BYTES, -K, K, true);
	is_range(":2MB", PGHA_UNIT_BYTES, 0, 2 * K * K, false);
	is_canonical("16MB:1GB", PGHA_UNIT_BYTES, "16777216:1073741824");
	is_canonical("16MB:", PGHA_UNIT_BYTES, "16777216:");
	is_canonical("1TB", PGHA_UNIT_BYTES, "1099511627776");
	is_invalid("1mb", PGHA_UNIT_BYTES,
		   "invalid range \"1mb\": unknown unit \"mb\" (valid units are B, kB, KB, "
		   "MB, GB, TB, KiB, MiB, GiB and TiB)", NULL);
	is_invalid("1PB", PGHA_UNIT_BYTES, NULL, "unknown unit \"PB\"");
	is_invalid("1s", PGHA_UNIT_BYTES, NULL, "unknown unit \"s\"");
	is_invalid("1 MB", PGHA_UNIT_BYTES, NULL, "unexpected \" MB\"");
	is_invalid("1%", PGHA_UNIT_BYTES, NULL, "unexpected \"%\"");
	is_invalid("1MB1", PGHA_UNIT_BYTES, NULL, "unexpected \"1\"");
	is_invalid("1e308TB", PGHA_UNIT_BYTES, NULL, "out of range");

	/* Seconds, every suffix. */
	is_range("500ms", PGHA_UNIT_SECONDS, 0, 0.5, false);
	is_range("1500ms", PGHA_UNIT_SECONDS, 0, 1.5, false);
	is_range("1ms", PGHA_UNIT_SECONDS, 0, 0.001, false);
	is_range("30s", PGHA_UNIT_SECONDS, 0, 30, false);
	is_range("5min", PGHA_UNIT_SECONDS, 0, 300, false);
	is_range("2h", PGHA_UNIT_SECONDS, 0, 7200, false);
	is_range("1.5h", PGHA_UNIT_SECONDS, 0, 5400, false);
	is_range("1d", PGHA_UNIT_SECONDS, 0, 86400, false);
	is_range("45", PGHA_UNIT_SECONDS, 0, 45, false);
	is_range("~:30s", PGHA_UNIT_SECONDS, NAN, 30, false);
	is_range("@1min:2min", PGHA_UNIT_SECONDS, 60, 120, true);
	is_range("1min:", PGHA_UNIT_SECONDS, 60, NAN, false);
	is_range("1e3ms", PGHA_UNIT_SECONDS, 0, 1, false);
	is_canonical("@1min:2min", PGHA_UNIT_SECONDS, "@60:120");
	is_canonical("~:30s", PGHA_UNIT_SECONDS, "~:30");
	is_canonical("250ms:", PGHA_UNIT_SECONDS, "0.25:");
	is_invalid("1m", PGHA_UNIT_SECONDS,
		   "invalid range \"1m\": unknown unit \"m\" (valid units are ms, s, min, h and d)",
		   NULL);
	is_invalid("1sec", PGHA_UNIT_SECONDS, NULL, "unknown unit \"sec\"");
	is_invalid("1MB", PGHA_UNIT_SECONDS, NULL, "unknown unit \"MB\"");
	is_invalid("2min:1min", PGHA_UNIT_SECONDS,
		   "invalid range \"2min:1min\": start is greater than end", NULL);
	is_invalid("1e", PGHA_UNIT_SECONDS, NULL, "unknown unit \"e\"");

	/* Plain numbers: '%' accepted and ignored, letters not. */
	is_range("80%", PGHA_UNIT_NONE, 0, 80, false);
	is_range("80%:90%", PGHA_UNIT_NONE, 80, 90, false);
	is_range("~:95%", PGHA_UNIT_NONE, NAN, 95, false);
	is_range("1:12%%", PGHA_UNIT_NONE, 1, 12, false);
	is_invalid("10s", PGHA_UNIT_NONE,
		   "invalid range \"10s\": unknown unit \"s\" (only a plain number or a "
		   "percentage is accepted here)", NULL);
	is_invalid("%", PGHA_UNIT_NONE, NULL, "expected a number at \"%\"");
	is_invalid("10%x", PGHA_UNIT_NONE, NULL, "unknown unit \"x\"");
}

static void test_syntax(void)
{
	/* Numbers: signs, fractions, exponents. */
	is_range("+5", PGHA_UNIT_NONE, 0, 5, false);
	is_range("5.", PGHA_UNIT_NONE, 0, 5, false);
	is_range(".5", PGHA_UNIT_NONE, 0, 0.5, false);
	is_range("1e3", PGHA_UNIT_NONE, 0, 1000, false);
	is_range("1E3:2e+3", PGHA_UNIT_NONE, 1000, 2000, false);
	is_range("-1e-3:", PGHA_UNIT_NONE, -0.001, NAN, false);
	is_range("@~:5", PGHA_UNIT_NONE, NAN, 5, true);
	is_range("@10:", PGHA_UNIT_NONE, 10, NAN, true);
	is_range("@:5", PGHA_UNIT_NONE, 0, 5, true);
	is_range("0", PGHA_UNIT_NONE, 0, 0, false);
	is_range("-5:-5", PGHA_UNIT_NONE, -5, -5, false);

	/* The wording of each kind of error. */
	is_invalid("2:1", PGHA_UNIT_NONE, "invalid range \"2:1\": start is greater than end", NULL);
	is_invalid("", PGHA_UNIT_NONE, "invalid range \"\": empty string", NULL);
	is_invalid(":", PGHA_UNIT_NONE, "invalid range \":\": expected a number after \":\"", NULL);
	is_invalid("~:", PGHA_UNIT_NONE, "invalid range \"~:\": expected a number after \"~:\"",
		   NULL);
	is_invalid("~", PGHA_UNIT_NONE, "invalid range \"~\": expected \":\" after \"~\"", NULL);
	is_invalid("@", PGHA_UNIT_NONE, "invalid range \"@\": expected a number", NULL);
	is_invalid("foo", PGHA_UNIT_NONE, "invalid range \"foo\": expected a number at \"foo\"",
		   NULL);
	is_invalid("1-10", PGHA_UNIT_NONE,
		   "invalid range \"1-10\": unexpected \"-10\" (the syntax is [@]start:end)", NULL);
	is_invalid("10:~", PGHA_UNIT_NONE,
		   "invalid range \"10:~\": \"~\" is only valid as the start (leave the end empty "
		   "for no upper bound)", NULL);
	is_invalid("1:~", PGHA_UNIT_NONE, NULL, "only valid as the start");
	is_invalid("1e999", PGHA_UNIT_NONE, "invalid range \"1e999\": number \"1e999\" is out of "
		   "range", NULL);
	is_invalid("0x10", PGHA_UNIT_NONE,
		   "invalid range \"0x10\": \"0x10\" is not a decimal number", NULL);

	/* NaN and infinity words, and other garbage. */
	static const char *const garbage[] = {
		"nan", "NaN", "inf", "-inf", "Infinity", "1:inf", "~:nan", "inf:",
		"5 ", " 5", "5:6:7", "@@5", "~5", "5~", "~~:5", "@~", "1..2", ".", "-", "+",
		"--5", "1e", "1e+", "5::", ":5:", "1,5", "5;6", "1-10:2.4", "0x1p3", "\t5",
	};
	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
		is_invalid(garbage[i], PGHA_UNIT_NONE, NULL, NULL);
	is_invalid("inf", PGHA_UNIT_NONE, NULL, "write \"~:N\" for no lower bound");

	/* A small or absent error buffer is fine and NUL-terminated. */
	struct pgha_range r;
	char small[8];
	memset(small, 'x', sizeof small);
	int rc = pgha_range_parse("2:1", PGHA_UNIT_NONE, &r, small, sizeof small);
	ok(rc == PGHA_E_INVALID && strcmp(small, "invalid") == 0,
	   "a short error buffer is truncated: \"%s\"", small);
	rc = pgha_range_parse("2:1", PGHA_UNIT_NONE, &r, NULL, 0);
	is_int(rc, PGHA_E_INVALID, "no error buffer at all");
	rc = pgha_range_parse(NULL, PGHA_UNIT_NONE, &r, NULL, 0);
	is_int(rc, PGHA_E_INVALID, "NULL text is invalid");
}

static void test_format(void)
{
	char buf[80];
	struct pgha_range r = { 0, 0, false, true, false };

	is_canonical("0:", PGHA_UNIT_NONE, "0:");     /* Perl would print "" */
	is_canonical("@0:", PGHA_UNIT_NONE, "@0:");
	is_canonical("@1:1", PGHA_UNIT_NONE, "@1:1");
	is_canonical("0", PGHA_UNIT_NONE, "0");
	is_canonical("@-0:3", PGHA_UNIT_NONE, "@3");
	is_canonical("1e3:", PGHA_UNIT_NONE, "1000:");
	is_canonical("12345678901234567890:", PGHA_UNIT_NONE, "12345678901234567000:");

	r.start_infinite = true;
	pgha_range_format(&r, buf, sizeof buf);
	is_str(buf, "~:", "both ends infinite prints \"~:\"");
	r = (struct pgha_range){ -7, 23, false, false, false };
	size_t n = pgha_range_format(&r, buf, 3);
	ok(n == 5 && strcmp(buf, "-7") == 0, "range_format truncates and returns the length (%zu)",
	   n);
	n = pgha_range_format(&r, NULL, 0);
	is_int(n, 5, "range_format with no buffer returns the length");

	/* Numbers. */
	static const struct { double v; const char *want; } nums[] = {
		{ 0, "0" }, { -0.0, "0" }, { 42, "42" }, { -7, "-7" }, { 0.1, "0.1" },
		{ 0.1 + 0.2, "0.30000000000000004" }, { 657.8210567, "657.8210567" },
		{ -95.99, "-95.99" }, { 5.75, "5.75" }, { 123456789012345, "123456789012345" },
		{ 999999999999999, "999999999999999" }, { 1e15, "1000000000000000" },
		{ 12345678901234567890.0, "12345678901234567000" },
		{ 1e20, "100000000000000000000" }, { 1e21, "1e+21" }, { 1.5e300, "1.5e+300" },
		{ 1e-5, "0.00001" }, { 1e-7, "0.0000001" }, { 1e-8, "1e-08" },
		{ 5e-324, "5e-324" }, { -1.0000000000000002e-7, "-0.00000010000000000000002" },
		{ 2.5, "2.5" }, { 1.0 / 3, "0.3333333333333333" }, { 1e100, "1e+100" },
		{ NAN, "U" }, { INFINITY, "U" }, { -INFINITY, "U" },
	};
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		n = pgha_number_format(nums[i].v, buf, sizeof buf);
		ok(strcmp(buf, nums[i].want) == 0 && n == strlen(buf),
		   "number %.17g prints as \"%s\"", nums[i].v, nums[i].want);
		if (strcmp(buf, nums[i].want) != 0)
			printf("#   got \"%s\"\n", buf);
	}
	n = pgha_number_format(12345, buf, 3);
	ok(n == 5 && strcmp(buf, "12") == 0, "number_format truncates and returns the length");

	/* Random bit patterns: round trip, length bound, exponent only outside
	 * [1e-7, 1e21). */
	uint64_t x = 0x9e3779b97f4a7c15u;
	int bad = 0, tried = 0;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double v;
		uint64_t bits = x;
		if (i % 4 == 0) /* also plenty of ordinary magnitudes */
			bits = (bits & 0x800fffffffffffffu) |
				((uint64_t)(1023 - 30 + (int)(x % 110)) << 52);
		memcpy(&v, &bits, sizeof v);
		if (!isfinite(v))
			continue;
		tried++;
		n = pgha_number_format(v, buf, sizeof buf);
		double mag = v < 0 ? -v : v;
		bool has_e = strchr(buf, 'e') != NULL;
		bool want_e = mag != 0 && (mag < 1e-7 || mag >= 1e21);
		if (n > PGHA_NUMBER_MAX || n != strlen(buf) || strtod(buf, NULL) != v ||
		    has_e != want_e) {
			if (bad++ < 5)
				printf("#   %.17g -> \"%s\"\n", v, buf);
		}
	}
	ok(bad == 0, "%d random doubles round-trip within %d bytes", tried, PGHA_NUMBER_MAX);

	/* The longest canonical range fits the thresholds' text fields. */
	r = (struct pgha_range){ -1.0000000000000002e-7, -1.0000000000000002e-7, false, false, true };
	n = pgha_range_format(&r, buf, sizeof buf);
	ok(n == 2 * PGHA_NUMBER_MAX + 2 && n < sizeof((struct pgha_thresholds *)0)->warning_text,
	   "longest canonical range is %zu bytes: %s", n, buf);

	/* NaN alerts. */
	r = (struct pgha_range){ 0, 10, false, false, false };
	ok(pgha_range_alerts(&r, NAN), "NaN alerts outside");
	r.alert_inside = true;
	ok(pgha_range_alerts(&r, NAN), "NaN alerts inside");
}

static void test_thresholds(void)
{
	struct pgha_thresholds t;
	char err[256] = "";
	int rc;

	rc = pgha_thresholds_set(&t, "10", "20", PGHA_UNIT_NONE, err, sizeof err);
	ok(rc == 0 && t.has_warning && t.has_critical, "thresholds 10/20 set");
	is_str(t.warning_text, "10", "warning text");
	is_str(t.critical_text, "20", "critical text");
	is_int(pgha_thresholds_check(&t, 5), PGHA_OK, "5 is OK");
	is_int(pgha_thresholds_check(&t, 10), PGHA_OK, "10 is OK (inclusive)");
	is_int(pgha_thresholds_check(&t, 15), PGHA_WARNING, "15 is WARNING");
	is_int(pgha_thresholds_check(&t, 25), PGHA_CRITICAL, "25 is CRITICAL");
	is_int(pgha_thresholds_check(&t, -1), PGHA_CRITICAL, "-1 is CRITICAL");

	/* Critical is evaluated first even when warning also alerts. */
	rc = pgha_thresholds_set(&t, "@0:100", "50:", PGHA_UNIT_NONE, err, sizeof err);
	ok(rc == 0, "thresholds @0:100 / 50: set");
	is_int(pgha_thresholds_check(&t, 30), PGHA_CRITICAL, "both alert: CRITICAL wins");
	is_int(pgha_thresholds_check(&t, 70), PGHA_WARNING, "only warning alerts");
	is_int(pgha_thresholds_check(&t, 170), PGHA_OK, "neither alerts");

	/* Warning only, critical only, none. */
	rc = pgha_thresholds_set(&t, "10", NULL, PGHA_UNIT_NONE, err, sizeof err);
	ok(rc == 0 && t.has_warning && !t.has_critical && t.critical_text[0] == '\0',
	   "warning only");
	is_int(pgha_thresholds_check(&t, 11), PGHA_WARNING, "warning only: 11 is WARNING");
	is_int(pgha_thresholds_check(&t, 1e9), PGHA_WARNING, "warning only: 1e9 is WARNING");
	rc = pgha_thresholds_set(&t, NULL, "~:5", PGHA_UNIT_NONE, err, sizeof err);
	ok(rc == 0 && !t.has_warning && t.has_critical && t.warning_text[0] == '\0',
	   "critical only");
	is_int(pgha_thresholds_check(&t, 6), PGHA_CRITICAL, "critical only: 6 is CRITICAL");
	is_int(pgha_thresholds_check(&t, 4), PGHA_OK, "critical only: 4 is OK");
	rc = pgha_thresholds_set(&t, NULL, NULL, PGHA_UNIT_NONE, err, sizeof err);
	ok(rc == 0 && !t.has_warning && !t.has_critical, "no thresholds");
	is_int(pgha_thresholds_check(&t, -1e300), PGHA_OK, "no thresholds: anything is OK");
	rc = pgha_thresholds_set(&t, "", "", PGHA_UNIT_NONE, err, sizeof err);
	ok(rc == 0 && !t.has_warning && !t.has_critical, "empty strings mean no threshold");

	/* Errors name which one was bad, and leave no thresholds. */
	rc = pgha_thresholds_set(&t, "2:1", "5", PGHA_UNIT_NONE, err, sizeof err);
	ok(rc == PGHA_E_INVALID && !t.has_warning && !t.has_critical, "bad warning is an error");
	is_str(err, "invalid warning range \"2:1\": start is greater than end",
	       "bad warning is named");
	rc = pgha_thresholds_set(&t, "5", "foo", PGHA_UNIT_NONE, err, sizeof err);
	ok(rc == PGHA_E_INVALID && !t.has_warning && !t.has_critical, "bad critical is an error");
	is_str(err, "invalid critical range \"foo\": expected a number at \"foo\"",
	       "bad critical is named");
	rc = pgha_thresholds_set(&t, "1GB", "5XB", PGHA_UNIT_BYTES, err, sizeof err);
	is_int(rc, PGHA_E_INVALID, "bad critical unit is an error");
	like(err, "invalid critical range \"5XB\": unknown unit \"XB\"", "unit error is named");

	/* Units, canonical text in base units. */
	rc = pgha_thresholds_set(&t, "16MB", "1GB:", PGHA_UNIT_BYTES, err, sizeof err);
	ok(rc == 0, "byte thresholds set");
	is_str(t.warning_text, "16777216", "byte warning text in B");
	is_str(t.critical_text, "1073741824:", "byte critical text in B");
	rc = pgha_thresholds_set(&t, "~:30s", "@1min:2min", PGHA_UNIT_SECONDS, err, sizeof err);
	ok(rc == 0 && strcmp(t.warning_text, "~:30") == 0 &&
	   strcmp(t.critical_text, "@60:120") == 0, "time thresholds in s: %s %s",
	   t.warning_text, t.critical_text);
	is_int(pgha_thresholds_check(&t, 90), PGHA_CRITICAL, "90 s is inside @1min:2min");
	is_int(pgha_thresholds_check(&t, 31), PGHA_WARNING, "31 s is above ~:30s");
}

static void is_quantity(const char *text, enum pgha_unit_kind units, double want)
{
	double v = -12345;
	char err[256] = "";
	int rc = pgha_quantity_parse(text, units, &v, err, sizeof err);
	ok(rc == 0 && v == want, "quantity \"%s\" is %g", text, want);
	if (rc || v != want)
		printf("#   rc %d (%s), got %.17g\n", rc, err, v);
}

static void test_quantity(void)
{
	char err[256] = "";
	double v = 7;
	int rc;

	is_quantity("16MB", PGHA_UNIT_BYTES, 16777216);
	is_quantity("2kB", PGHA_UNIT_BYTES, 2048);
	is_quantity("12", PGHA_UNIT_BYTES, 12);
	is_quantity("30s", PGHA_UNIT_SECONDS, 30);
	is_quantity("5min", PGHA_UNIT_SECONDS, 300);
	is_quantity("250ms", PGHA_UNIT_SECONDS, 0.25);
	is_quantity("1d", PGHA_UNIT_SECONDS, 86400);
	is_quantity("12", PGHA_UNIT_NONE, 12);
	is_quantity("-3", PGHA_UNIT_NONE, -3);
	is_quantity("-1.5h", PGHA_UNIT_SECONDS, -5400);
	is_quantity("99.5%", PGHA_UNIT_NONE, 99.5);

	rc = pgha_quantity_parse("5x", PGHA_UNIT_SECONDS, &v, err, sizeof err);
	ok(rc == PGHA_E_INVALID && v == 7, "quantity with a bad unit is rejected");
	is_str(err, "invalid value \"5x\": unknown unit \"x\" (valid units are ms, s, min, h and d)",
	       "quantity error wording");
	static const char *const bad[] = { "", "~", "5:", ":5", "5 s", " 5", "abc", "nan", "inf",
					   "1e999", "5s5", "0x10" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		rc = pgha_quantity_parse(bad[i], PGHA_UNIT_SECONDS, &v, err, sizeof err);
		ok(rc == PGHA_E_INVALID && v == 7 && strncmp(err, "invalid value \"", 15) == 0,
		   "quantity \"%s\" is rejected: %s", bad[i], err);
	}
}

/* Ranges from options with names of their own. */
static void test_named(void)
{
	struct pgha_thresholds t;
	char err[256] = "";
	is_int(pgha_thresholds_set_named(&t, "1MB", "2XB", PGHA_UNIT_BYTES, "--warning-bytes",
					 "--critical-bytes", err, sizeof err), PGHA_E_INVALID,
	       "named: a bad critical range is refused");
	like(err, "--critical-bytes: invalid range \"2XB\"", "named: the critical option is named");
	is_int(pgha_thresholds_set_named(&t, "1:x", NULL, PGHA_UNIT_NONE, "--warn-it",
					 "--crit-it", err, sizeof err), PGHA_E_INVALID,
	       "named: a bad warning range is refused");
	like(err, "--warn-it: invalid range \"1:x\"", "named: the warning option is named");
	is_int(pgha_thresholds_set_named(&t, "", "16MB", PGHA_UNIT_BYTES, "w", "c", err, sizeof err),
	       0, "named: an empty warning is no threshold");
	ok(!t.has_warning && t.has_critical && pgha_thresholds_check(&t, 17e6) == PGHA_CRITICAL,
	   "named: 17 MB over a critical 16MB");
}

int main(void)
{
	test_named();
	run_vectors("range-parse.tsv", 20, check_parse_row);
	run_vectors("range-check.tsv", 70, check_alert_row);
	test_units();
	test_syntax();
	test_format();
	test_thresholds();
	test_quantity();
	return done_testing();
}
