/*
 * test_output.c: rendering a plugin result: the first line, perfdata
 * fields and quoting, sanitising, worst-first long output, the 8 KiB cap,
 * pgha_result_exit's stdout and exit code, and the text helpers
 * (durations, millisecond rounding, alert notes).
 */
#define _POSIX_C_SOURCE 200809L

#include "../unit/tap.h"

#include "error.h"
#include "output.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

/* Render r into out and return the text (valid until out changes). */
static const char *render(const struct pgha_result *r, struct pgha_buf *out)
{
	int rc = pgha_result_render(r, out);
	if (rc)
		printf("#   render returned %d\n", rc);
	return pgha_buf_str(out);
}

/* A result with one perfdata item, rendered, compared with want. */
static void is_perf(const char *label, bool known, double value,
		    const struct pgha_perf_spec *spec, const char *want, const char *name)
{
	struct pgha_result r;
	struct pgha_buf out;
	char full[512];

	pgha_buf_init(&out, PGHA_OUTPUT_MAX);
	pgha_result_init(&r, "PGHA_T");
	if (known)
		pgha_result_perf(&r, label, value, spec);
	else
		pgha_result_perf_unknown(&r, label, spec);
	snprintf(full, sizeof full, "PGHA_T OK | %s\n", want);
	is_str(render(&r, &out), full, "perfdata %s: %s", name, want);
	pgha_result_free(&r);
	pgha_buf_free(&out);
}

static void test_first_line(void)
{
	struct pgha_result r;
	struct pgha_buf out;
	pgha_buf_init(&out, PGHA_OUTPUT_MAX);

	pgha_result_init(&r, "PGHA_T");
	is_str(render(&r, &out), "PGHA_T OK\n", "no summary: NAME STATE only");
	pgha_result_perf(&r, "x", 5, NULL);
	is_str(render(&r, &out), "PGHA_T OK | x=5\n", "no summary with perfdata");
	pgha_result_summary(&r, "all %d nodes fine", 3);
	is_str(render(&r, &out), "PGHA_T OK - all 3 nodes fine | x=5\n", "summary and perfdata");
	pgha_result_perf(&r, "y", 1.5, NULL);
	is_str(render(&r, &out), "PGHA_T OK - all 3 nodes fine | x=5 y=1.5\n",
	       "perfdata items space separated");
	pgha_result_set(&r, PGHA_CRITICAL, "replica %s is down", "n2");
	is_str(render(&r, &out), "PGHA_T CRITICAL - replica n2 is down | x=5 y=1.5\n",
	       "set replaces state and summary");
	pgha_result_summary(&r, "%s", "");
	is_str(render(&r, &out), "PGHA_T CRITICAL | x=5 y=1.5\n", "an empty summary is no summary");
	pgha_result_free(&r);

	pgha_result_init(&r, "PGHA_T");
	pgha_result_set(&r, PGHA_WARNING, "a|b|c\nnext\r\nline");
	is_str(render(&r, &out), "PGHA_T WARNING - a/b/c next  line\n",
	       "'|' and newlines in the summary are replaced");
	pgha_result_line(&r, PGHA_OK, "x | y\nz");
	is_str(render(&r, &out), "PGHA_T WARNING - a/b/c next  line\nx / y z\n",
	       "'|' and newlines in a line are replaced");
	pgha_result_free(&r);

	/* Raising the state goes by severity: UNKNOWN is below WARNING. */
	pgha_result_init(&r, "PGHA_T");
	pgha_result_raise(&r, PGHA_UNKNOWN);
	is_int(r.state, PGHA_UNKNOWN, "raise OK to UNKNOWN");
	pgha_result_raise(&r, PGHA_WARNING);
	is_int(r.state, PGHA_WARNING, "raise UNKNOWN to WARNING");
	pgha_result_raise(&r, PGHA_UNKNOWN);
	is_int(r.state, PGHA_WARNING, "UNKNOWN does not lower WARNING");
	pgha_result_raise(&r, PGHA_OK);
	is_int(r.state, PGHA_WARNING, "OK does not lower WARNING");
	pgha_result_raise(&r, PGHA_CRITICAL);
	is_int(r.state, PGHA_CRITICAL, "raise WARNING to CRITICAL");
	pgha_result_line(&r, PGHA_OK, "line");
	is_int(r.state, PGHA_CRITICAL, "adding a line does not change the state");
	pgha_result_free(&r);
	ok(r.nlines == 0 && r.summary == NULL && r.nperf == 0 && strcmp(r.name, "PGHA_T") == 0,
	   "free leaves an empty result that keeps its name");
	pgha_result_line(&r, PGHA_OK, "again");
	is_str(render(&r, &out), "PGHA_T OK\nagain\n", "a freed result can be used again");
	pgha_result_free(&r);

	/* Out of memory. */
	pgha_result_init(&r, "PGHA_T");
	pgha_result_set(&r, PGHA_OK, "fine");
	pgha_result_perf(&r, "x", 1, NULL);
	r.oom = true;
	is_str(render(&r, &out), "PGHA_T UNKNOWN - out of memory\n", "oom renders UNKNOWN");
	pgha_result_free(&r);

	/* A state outside the enum prints and exits as UNKNOWN. */
	pgha_result_init(&r, "PGHA_T");
	r.state = (enum pgha_state)7;
	is_str(render(&r, &out), "PGHA_T UNKNOWN\n", "a bad state renders UNKNOWN");
	pgha_result_free(&r);

	pgha_buf_free(&out);
}

static void test_perfdata(void)
{
	struct pgha_perf_spec s;

	is_perf("x", true, 5, NULL, "x=5", "no spec");
	is_perf("a b", false, 0, NULL, "'a b'=U", "label with a space, unknown");
	is_perf("a=b'c", true, 1, NULL, "a_b_c=1", "'=' and quote replaced");
	is_perf("it's a=b", true, 1, NULL, "'it_s a_b'=1", "replaced and quoted");
	is_perf("a|b\n", true, 1, NULL, "a_b_=1", "'|' and newline in a label");
	is_perf("lag.node-1_x", true, 1, NULL, "lag.node-1_x=1", "plain label not quoted");
	is_perf("db/x:y", true, 1, NULL, "'db/x:y'=1", "'/' and ':' quoted");
	is_perf("", true, 1, NULL, "_=1", "empty label");
	is_perf(NULL, true, 1, NULL, "_=1", "NULL label");
	is_perf("x", true, -1.5, NULL, "x=-1.5", "negative fraction");
	is_perf("x", true, 0.1, NULL, "x=0.1", "0.1");
	is_perf("x", true, 1e20, NULL, "x=100000000000000000000", "large, no exponent");
	is_perf("x", true, 123456789012345, NULL, "x=123456789012345", "large integer");
	is_perf("x", true, -0.0, NULL, "x=0", "negative zero");
	is_perf("x", true, NAN, NULL, "x=U", "NaN prints U");
	is_perf("x", true, INFINITY, NULL, "x=U", "infinity prints U");

	s = (struct pgha_perf_spec){ .uom = "B", .has_min = true, .min = 0 };
	is_perf("lag", true, 0, &s, "lag=0B;;;0", "only min");
	s = (struct pgha_perf_spec){ .uom = "%", .warn = "80", .crit = "90", .has_min = true,
				     .min = 0, .has_max = true, .max = 100 };
	is_perf("used", true, 42.5, &s, "used=42.5%;80;90;0;100", "all fields");
	s = (struct pgha_perf_spec){ .warn = "5" };
	is_perf("x", true, 1, &s, "x=1;5", "warn only");
	s = (struct pgha_perf_spec){ .crit = "5" };
	is_perf("x", true, 1, &s, "x=1;;5", "crit only");
	s = (struct pgha_perf_spec){ .warn = "", .crit = "" };
	is_perf("x", true, 1, &s, "x=1", "empty warn and crit dropped");
	s = (struct pgha_perf_spec){ .has_max = true, .max = 10 };
	is_perf("x", true, 1, &s, "x=1;;;;10", "max only");
	s = (struct pgha_perf_spec){ .has_min = true, .min = 0, .has_max = true, .max = 10 };
	is_perf("x", true, 1, &s, "x=1;;;0;10", "min and max");
	s = (struct pgha_perf_spec){ .uom = "s", .warn = "~:30", .crit = "@60:120" };
	is_perf("t", true, 0.25, &s, "t=0.25s;~:30;@60:120", "time with ranges");
	s = (struct pgha_perf_spec){ .uom = "c" };
	is_perf("n", true, 12, &s, "n=12c", "counter");
	s = (struct pgha_perf_spec){ .uom = "B", .warn = "5" };
	is_perf("a b", false, 0, &s, "'a b'=U;5", "unknown keeps thresholds, drops the uom");
	s = (struct pgha_perf_spec){ .has_min = true, .min = NAN, .has_max = true, .max = 3 };
	is_perf("x", true, 1, &s, "x=1;;;;3", "a non-finite min is dropped");
	s = (struct pgha_perf_spec){ .uom = "B;x 1", .warn = "1 0;|'=", .crit = "2\n0" };
	is_perf("x", true, 1, &s, "x=1Bx;10;20", "junk in uom, warn and crit removed");
}

/* Count the '\n' in s. */
static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_ordering(void)
{
	struct pgha_result r;
	struct pgha_buf out;
	pgha_buf_init(&out, PGHA_OUTPUT_MAX);

	pgha_result_init(&r, "PGHA_T");
	pgha_result_set(&r, PGHA_CRITICAL, "s");
	pgha_result_line(&r, PGHA_OK, "ok a");
	pgha_result_line(&r, PGHA_CRITICAL, "crit b");
	pgha_result_line(&r, PGHA_WARNING, "warn c");
	pgha_result_line(&r, PGHA_UNKNOWN, "unknown d");
	pgha_result_line(&r, PGHA_OK, "ok e");
	pgha_result_line(&r, PGHA_CRITICAL, "crit f");
	pgha_result_line(&r, PGHA_WARNING, "warn g");
	pgha_result_line(&r, PGHA_UNKNOWN, "unknown h");
	pgha_result_perf(&r, "x", 1, NULL);
	is_str(render(&r, &out),
	       "PGHA_T CRITICAL - s | x=1\ncrit b\ncrit f\nwarn c\nwarn g\nunknown d\nunknown h\n"
	       "ok a\nok e\n",
	       "lines worst first (CRITICAL, WARNING, UNKNOWN, OK), stable");
	is_str(render(&r, &out),
	       "PGHA_T CRITICAL - s | x=1\ncrit b\ncrit f\nwarn c\nwarn g\nunknown d\nunknown h\n"
	       "ok a\nok e\n",
	       "rendering twice gives the same text");
	ok(strcmp(r.lines[0].text, "ok a") == 0, "rendering does not reorder the result");
	pgha_result_free(&r);
	pgha_buf_free(&out);
}

/* Check the invariants of capped output: within the cap, ends with a
 * newline, and when lines were dropped the count in "... N more lines"
 * is exact (total lines added minus long-output lines printed). */
static void check_capped(const char *s, size_t total, size_t cap, const char *name)
{
	size_t len = strlen(s);
	ok(len <= cap && len > 0 && s[len - 1] == '\n', "%s: %zu bytes <= %zu, ends with newline",
	   name, len, cap);
	size_t nl = count_lines(s);
	const char *last = s;
	for (const char *p = s; p[0] && p[1]; p++)
		if (*p == '\n')
			last = p + 1;
	size_t more = 0;
	bool has_more = sscanf(last, "... %zu more lines", &more) == 1;
	if (total == 0) {
		ok(!has_more, "%s: no \"more lines\" without lines", name);
		return;
	}
	size_t printed = nl - 1 - (has_more ? 1 : 0);
	ok(printed + more == total, "%s: %zu printed + %zu more = %zu lines", name, printed, more,
	   total);
}

static void test_cap(void)
{
	struct pgha_result r;
	struct pgha_buf out;
	char pad[200];
	const char *s;

	pgha_buf_init(&out, PGHA_OUTPUT_MAX);
	memset(pad, 'x', sizeof pad);
	pad[sizeof pad - 1] = '\0';

	/* 500 long-output lines of mixed states. */
	pgha_result_init(&r, "PGHA_T");
	pgha_result_set(&r, PGHA_CRITICAL, "500 members");
	for (int i = 0; i < 500; i++) {
		enum pgha_state st = i % 7 == 0 ? PGHA_CRITICAL : i % 5 == 0 ? PGHA_WARNING : PGHA_OK;
		pgha_result_line(&r, st, "member %03d is %s, padding %.40s", i,
				 pgha_state_name(st), pad);
	}
	s = render(&r, &out);
	check_capped(s, 500, PGHA_OUTPUT_MAX, "500 lines");
	like(s, "\nmember 000 is CRITICAL", "first long line is the first critical one");
	{
		/* Printed lines: ranks never rise, indices rise within a state. */
		const char *p = strchr(s, '\n');
		int prev_rank = 3, prev_idx = -1, good = 1, seen = 0;
		while (p && p[1] && strncmp(p + 1, "member ", 7) == 0) {
			int idx;
			char st[16];
			if (sscanf(p + 1, "member %d is %15[A-Z]", &idx, st) != 2) {
				good = 0;
				break;
			}
			int rank = strcmp(st, "CRITICAL") == 0 ? 3 : strcmp(st, "WARNING") == 0 ? 2 : 0;
			if (rank > prev_rank || (rank == prev_rank && idx <= prev_idx))
				good = 0;
			prev_idx = idx;
			prev_rank = rank;
			seen++;
			p = strchr(p + 1, '\n');
		}
		ok(good && seen > 72 && prev_rank < 3,
		   "worst first and stable under the cap (%d lines checked)", seen);
	}
	size_t n = strlen(s);
	ok(n > PGHA_OUTPUT_MAX - 100, "the cap is used, not wasted (%zu bytes)", n);
	pgha_result_free(&r);

	/* Lines that fill the cap exactly are all printed; one byte more
	 * drops lines and says how many. */
	for (int extra = 0; extra <= 1; extra++) {
		pgha_result_init(&r, "PGHA_T");              /* "PGHA_T OK\n" is 10 bytes */
		char big[1001];
		memset(big, 'y', 1000);
		big[1000] = '\0';
		for (int i = 0; i < 8; i++)
			pgha_result_line(&r, PGHA_OK, "%s", big); /* 8 * 1001 = 8008 */
		/* 10 + 8008 + 174 = 8192 */
		pgha_result_line(&r, PGHA_OK, "%.*s", 173 + extra, big);
		s = render(&r, &out);
		check_capped(s, 9, PGHA_OUTPUT_MAX, extra ? "one byte over" : "exactly full");
		if (extra)
			like(s, "\n... 1 more lines\n", "one byte over drops the last line");
		else
			is_int(strlen(s), PGHA_OUTPUT_MAX, "exactly full output is 8192 bytes");
		pgha_result_free(&r);
	}

	/* One line bigger than the whole cap. */
	pgha_result_init(&r, "PGHA_T");
	char *huge = malloc(20000);
	if (huge) {
		memset(huge, 'z', 19999);
		huge[19999] = '\0';
		pgha_result_line(&r, PGHA_CRITICAL, "%s", huge);
		pgha_result_line(&r, PGHA_OK, "small");
		s = render(&r, &out);
		check_capped(s, 2, PGHA_OUTPUT_MAX, "a giant line");
		is_str(s, "PGHA_T OK\n... 2 more lines\n", "a giant line is dropped with what follows");
	}
	pgha_result_free(&r);

	/* A giant summary: cut with "...", perfdata kept, one line. */
	pgha_result_init(&r, "PGHA_T");
	pgha_result_set(&r, PGHA_CRITICAL, "%s", huge ? huge : "");
	pgha_result_perf(&r, "x", 1, NULL);
	pgha_result_perf(&r, "y", 2, NULL);
	s = render(&r, &out);
	check_capped(s, 0, PGHA_OUTPUT_MAX, "giant summary");
	ok(count_lines(s) == 1 && strncmp(s, "PGHA_T CRITICAL - zzz", 21) == 0,
	   "giant summary: one line");
	like(s, "zzz... | x=1 y=2\n", "giant summary is cut with \"...\" and keeps perfdata");
	is_int(strlen(s), PGHA_OUTPUT_MAX, "giant summary uses the whole cap");
	/* Add lines: room is kept for the "more lines" line. */
	for (int i = 0; i < 3; i++)
		pgha_result_line(&r, PGHA_WARNING, "line %d", i);
	s = render(&r, &out);
	check_capped(s, 3, PGHA_OUTPUT_MAX, "giant summary and lines");
	like(s, "\n... 3 more lines\n", "giant summary: lines counted");
	pgha_result_free(&r);

	/* A giant summary of multi-byte characters is not cut inside one. */
	pgha_result_init(&r, "PGHA_T");
	char *utf = malloc(3 * 5000 + 1);
	if (utf) {
		for (int i = 0; i < 5000; i++)
			memcpy(utf + 3 * i, "\xe2\x82\xac", 3); /* U+20AC, 3 bytes */
		utf[3 * 5000] = '\0';
		for (int off = 0; off < 3; off++) {
			pgha_result_set(&r, PGHA_OK, "%.*s%s", off, "ab", utf);
			s = render(&r, &out);
			const char *dots = strstr(s, "...");
			size_t before = dots ? (size_t)(dots - s) - strlen("PGHA_T OK - ") - (size_t)off : 1;
			ok(dots && before % 3 == 0, "UTF-8 summary cut on a character boundary (%d)", off);
		}
	}
	free(utf);
	pgha_result_free(&r);

	/* A giant perfdata list: whole items only, a prefix, in order. */
	pgha_result_init(&r, "PGHA_T");
	pgha_result_set(&r, PGHA_OK, "many metrics");
	for (int i = 0; i < 2000; i++) {
		char label[32];
		snprintf(label, sizeof label, "metric_%04d", i);
		pgha_result_perf(&r, label, i, NULL);
	}
	pgha_result_line(&r, PGHA_OK, "detail");
	s = render(&r, &out);
	check_capped(s, 1, PGHA_OUTPUT_MAX, "giant perfdata");
	ok(strncmp(s, "PGHA_T OK - many metrics | metric_0000=0 metric_0001=1 ", 55) == 0,
	   "giant perfdata: summary kept, items from the start");
	{
		const char *p = strstr(s, " | ");
		int items = 0, good = 1;
		p = p ? p + 3 : s;
		while (*p && *p != '\n') {
			int idx = -1, val = -1, used = 0;
			if (sscanf(p, "metric_%4d=%d%n", &idx, &val, &used) != 2 || idx != items ||
			    val != items || (p[used] != ' ' && p[used] != '\n'))
				good = 0;
			items++;
			p += used > 0 ? (size_t)used : 1;
			if (*p == ' ')
				p++;
			if (!good)
				break;
		}
		ok(good && items > 100 && items < 2000, "giant perfdata: %d whole items in order",
		   items);
	}
	ok(strstr(s, "\ndetail\n") != NULL || strstr(s, "more lines") != NULL,
	   "giant perfdata: the line is printed or counted");
	pgha_result_free(&r);

	/* Everything giant at once. */
	pgha_result_init(&r, "PGHA_T");
	pgha_result_set(&r, PGHA_WARNING, "%s", huge ? huge : "");
	for (int i = 0; i < 2000; i++)
		pgha_result_perf(&r, "a metric", i, NULL);
	for (int i = 0; i < 500; i++)
		pgha_result_line(&r, PGHA_OK, "line %d %.50s", i, pad);
	s = render(&r, &out);
	check_capped(s, 500, PGHA_OUTPUT_MAX, "giant everything");
	like(s, "... | 'a metric'=0 'a metric'=1", "giant everything: summary cut, perfdata kept");
	like(s, "\n... 500 more lines\n", "giant everything: all lines counted");
	pgha_result_free(&r);
	free(huge);

	/* A smaller buffer is used as the cap; a tiny one fails. */
	struct pgha_buf small;
	pgha_buf_init(&small, 100);
	pgha_result_init(&r, "PGHA_T");
	pgha_result_set(&r, PGHA_OK, "%s", pad);
	for (int i = 0; i < 10; i++)
		pgha_result_line(&r, PGHA_OK, "line %d", i);
	int rc = pgha_result_render(&r, &small);
	is_int(rc, 0, "render into a 100-byte buffer");
	check_capped(pgha_buf_str(&small), 10, 100, "100-byte buffer");
	pgha_buf_free(&small);
	pgha_buf_init(&small, 5);
	rc = pgha_result_render(&r, &small);
	ok(rc == PGHA_E_TOOBIG && small.len <= 5 && strcmp(pgha_buf_str(&small), "PGHA\n") == 0,
	   "a 5-byte buffer is too small (%zu bytes kept)", small.len);
	pgha_buf_free(&small);
	pgha_result_free(&r);

	pgha_buf_free(&out);
}

/* Run pgha_result_exit with stdout sent to a temporary file; returns the
 * exit code and leaves what was printed in got (caller frees). */
static int exit_captured(struct pgha_result *r, char **got)
{
	char path[] = "/tmp/pgha-test-output-XXXXXX";
	*got = NULL;
	fflush(stdout);
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	int saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		close(fd);
		return -1;
	}
	int code = pgha_result_exit(r);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);

	off_t size = lseek(fd, 0, SEEK_END);
	char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
	if (text && pread(fd, text, (size_t)size, 0) == (ssize_t)size) {
		text[size] = '\0';
		*got = text;
	} else {
		free(text);
	}
	close(fd);
	return code;
}

static void test_exit(void)
{
	static const enum pgha_state states[] = { PGHA_OK, PGHA_WARNING, PGHA_CRITICAL,
						  PGHA_UNKNOWN, (enum pgha_state)9 };
	struct pgha_buf out;
	pgha_buf_init(&out, PGHA_OUTPUT_MAX);

	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		struct pgha_result r;
		char *got;
		pgha_result_init(&r, "PGHA_T");
		r.state = states[i];
		pgha_result_summary(&r, "state %d", (int)states[i]);
		pgha_result_perf(&r, "v", (double)i, NULL);
		for (int j = 0; j < 300; j++)
			pgha_result_line(&r, j % 2 ? PGHA_OK : PGHA_WARNING, "line %d", j);
		char *want = strdup(render(&r, &out));
		int code = exit_captured(&r, &got);
		int want_code = (int)states[i] <= 3 ? (int)states[i] : 3;
		is_int(code, want_code, "exit code for state %d", (int)states[i]);
		ok(got && want && strcmp(got, want) == 0, "exit printed what render gives (%zu bytes)",
		   got ? strlen(got) : 0);
		ok(r.nlines == 0 && r.summary == NULL && r.perf == NULL, "exit freed the result");
		free(got);
		free(want);
	}

	struct pgha_result r;
	char *got;
	pgha_result_init(&r, "PGHA_T");
	pgha_result_set(&r, PGHA_OK, "fine");
	r.oom = true;
	int code = exit_captured(&r, &got);
	is_int(code, PGHA_UNKNOWN, "exit code UNKNOWN on oom");
	is_str(got, "PGHA_T UNKNOWN - out of memory\n", "exit prints the oom line");
	free(got);
	pgha_buf_free(&out);
}

/* The summary made from the lines: problems first, nothing said twice. */
static void test_summarise(void)
{
	struct pgha_result r;
	struct pgha_buf out;
	pgha_buf_init(&out, PGHA_OUTPUT_MAX);

	pgha_result_init(&r, "PGHA_T");
	pgha_result_line(&r, PGHA_OK, "alive");
	pgha_result_line(&r, PGHA_OK, "role primary");
	pgha_result_summarise(&r, "n1");
	is_str(render(&r, &out), "PGHA_T OK - n1: alive; role primary\n",
	       "all OK: every line in the summary, no long output");
	pgha_result_free(&r);

	pgha_result_init(&r, "PGHA_T");
	pgha_result_line(&r, PGHA_OK, "alive");
	pgha_result_line(&r, PGHA_WARNING, "w1");
	pgha_result_line(&r, PGHA_CRITICAL, "c1");
	pgha_result_line(&r, PGHA_UNKNOWN, "u1");
	pgha_result_line(&r, PGHA_CRITICAL, "c2");
	pgha_result_raise(&r, PGHA_CRITICAL);
	pgha_result_summarise(&r, "n1");
	is_str(render(&r, &out), "PGHA_T CRITICAL - n1: c1; c2; w1; u1\nalive\n",
	       "problems worst first in the summary, OK lines stay as detail");
	pgha_result_free(&r);

	pgha_result_init(&r, "PGHA_T");
	pgha_result_summarise(&r, NULL);
	is_str(render(&r, &out), "PGHA_T OK - nothing checked\n", "no lines, no prefix");
	pgha_result_free(&r);
	pgha_buf_free(&out);
}

/* Durations and alert notes for people (pgha_duration_format,
 * pgha_round_ms, pgha_alert_text). */
static void test_text(void)
{
	static const struct {
		double s;
		const char *want;
	} durations[] = {
		{ -3, "0.0 s" }, { 0, "0.0 s" }, { 0.44, "0.4 s" }, { 9.94, "9.9 s" },
		{ 9.96, "10.0 s" }, { 10, "10 s" }, { 35.4, "35 s" }, { 119.4, "119 s" },
		{ 119.5, "2 min 0 s" }, { 725, "12 min 5 s" }, { 7199, "119 min 59 s" },
		{ 7200, "2 h 0 min" }, { 12000, "3 h 20 min" }, { 172799, "47 h 59 min" },
		{ 172800, "2 d 0 h" }, { 187200, "2 d 4 h" }, { NAN, "0.0 s" },
	};
	char buf[32];
	for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
		pgha_duration_format(durations[i].s, buf, sizeof buf);
		is_str(buf, durations[i].want, "duration of %g s", durations[i].s);
	}
	pgha_duration_format(1e300, buf, sizeof buf);
	like(buf, " d ", "a huge duration is still days (%s)", buf);
	char small[6];
	pgha_duration_format(725, small, sizeof small);
	is_str(small, "12 mi", "a short buffer is cut and terminated");

	ok(pgha_round_ms(1.23449) == 1.234, "round_ms rounds to the millisecond (down)");
	ok(pgha_round_ms(1.2345) == 1.235 || pgha_round_ms(1.2345) == 1.234,
	   "round_ms of a half (binary fraction either way)");
	ok(pgha_round_ms(2.0005) > 2.0004 && pgha_round_ms(2.0005) < 2.0016, "round_ms up");
	ok(pgha_round_ms(-1) == 0, "round_ms of a negative value is 0");
	ok(pgha_round_ms(NAN) == 0, "round_ms of NaN is 0");
	ok(pgha_round_ms(1e20) == 1e20, "round_ms keeps a value too large to round");

	char a[64] = "untouched";
	is_str(pgha_alert_text(PGHA_OK, "5", "10", a, sizeof a), "", "OK: no alert text");
	is_str(a, "untouched", "OK: buf untouched");
	is_str(pgha_alert_text(PGHA_UNKNOWN, "5", "10", a, sizeof a), "", "UNKNOWN: none");
	is_str(pgha_alert_text(PGHA_WARNING, "5", "10", a, sizeof a), "warning range 5",
	       "WARNING names the warning range");
	is_str(pgha_alert_text(PGHA_CRITICAL, "5", "10min", a, sizeof a),
	       "critical range 10min", "CRITICAL names the critical range as given");
	is_str(pgha_alert_text(PGHA_CRITICAL, "5", NULL, a, sizeof a), "critical range ",
	       "a NULL range text prints empty");
}

int main(void)
{
	test_text();
	test_summarise();
	test_first_line();
	test_perfdata();
	test_ordering();
	test_cap();
	test_exit();
	return done_testing();
}
