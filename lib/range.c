/*
 * range.c: Monitoring Plugins ranges ("[@]start:end"), warning/critical
 * thresholds and the number printing they share with perfdata.
 *
 * The parser is a small hand-written scanner over the grammar in range.h
 * rather than a regex or a bare strtod: every character must be accounted
 * for, so "1-10", "10:~" or "0x10" are rejected with a message saying
 * where, instead of being read as something else (the old C library read
 * garbage as 0). Numbers are delimited by the scanner first and only then
 * converted by strtod, whose end pointer must agree with the scanner; this
 * keeps out what strtod would otherwise accept ("inf", "nan", hex floats,
 * leading spaces).
 */
#include "range.h"
#include "error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit {
	const char *name;
	double mul; /* base units = number * mul / div; two factors so that */
	double div; /* "1500ms" is exactly 1.5 (0.001 has no exact double)  */
};

static const struct unit byte_units[] = {
	{ "B", 1, 1 },
	{ "kB", 1024.0, 1 },
	{ "KB", 1024.0, 1 },
	{ "MB", 1024.0 * 1024, 1 },
	{ "GB", 1024.0 * 1024 * 1024, 1 },
	{ "TB", 1024.0 * 1024 * 1024 * 1024, 1 },
	{ "KiB", 1024.0, 1 },
	{ "MiB", 1024.0 * 1024, 1 },
	{ "GiB", 1024.0 * 1024 * 1024, 1 },
	{ "TiB", 1024.0 * 1024 * 1024 * 1024, 1 },
	{ NULL, 0, 0 }
};

static const struct unit time_units[] = {
	{ "ms", 1, 1000 },
	{ "s", 1, 1 },
	{ "min", 60, 1 },
	{ "h", 3600, 1 },
	{ "d", 86400, 1 },
	{ NULL, 0, 0 }
};

/* What an error message calls the thing being parsed, and the text it
 * quotes. */
struct ctx {
	const char *what; /* "range", "warning range", "value" */
	const char *text;
	enum pgha_unit_kind units;
	char *err;
	size_t errlen;
};

/* Write `invalid WHAT "TEXT": REASON` into the caller's buffer and return
 * PGHA_E_INVALID. */
__attribute__((format(printf, 2, 3)))
static int fail(const struct ctx *c, const char *fmt, ...)
{
	if (c->err && c->errlen > 0) {
		int n = snprintf(c->err, c->errlen, "invalid %s \"%s\": ", c->what, c->text);
		if (n >= 0 && (size_t)n < c->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return PGHA_E_INVALID;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* Length of the decimal number at p ([+-] digits [. digits] [e [+-]
 * digits], at least one digit in the mantissa), 0 if there is none. An
 * 'e' not followed by digits is left for the unit scanner. */
static size_t scan_number(const char *p)
{
	const char *q = p;
	size_t digits = 0;

	if (*q == '+' || *q == '-')
		q++;
	while (is_digit(*q)) {
		q++;
		digits++;
	}
	if (*q == '.') {
		q++;
		while (is_digit(*q)) {
			q++;
			digits++;
		}
	}
	if (digits == 0)
		return 0;
	if (*q == 'e' || *q == 'E') {
		const char *e = q + 1;
		if (*e == '+' || *e == '-')
			e++;
		if (is_digit(*e)) {
			while (is_digit(*e))
				e++;
			q = e;
		}
	}
	return (size_t)(q - p);
}

/* True when p starts with "inf" or "nan" in any case: words a user may
 * try for infinity, which get a hint rather than a bare "expected a
 * number". */
static bool looks_like_infinity(const char *p)
{
	static const char *const words[] = { "inf", "nan" };
	for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
		size_t i = 0;
		while (i < 3 && p[i] && (p[i] | 0x20) == words[w][i])
			i++;
		if (i == 3)
			return true;
	}
	return false;
}

/* The units a kind accepts, for error messages. */
static const char *unit_hint(enum pgha_unit_kind units)
{
	switch (units) {
	case PGHA_UNIT_BYTES:
		return "valid units are B, kB, KB, MB, GB, TB, KiB, MiB, GiB and TiB";
	case PGHA_UNIT_SECONDS:
		return "valid units are ms, s, min, h and d";
	case PGHA_UNIT_NONE:
		break;
	}
	return "only a plain number or a percentage is accepted here";
}

/* Read one endpoint (a number and its optional unit) at *pp into *out in
 * base units and advance *pp past it. Returns 0, PGHA_E_NOTFOUND when no
 * number starts at *pp (the caller words that message, it knows what was
 * expected), or PGHA_E_INVALID with the message written. */
static int parse_endpoint(const struct ctx *c, const char **pp, double *out)
{
	const char *p = *pp;
	size_t n = scan_number(p);
	if (n == 0)
		return PGHA_E_NOTFOUND;

	char *end;
	double v = strtod(p, &end);
	if (end != p + n)
		return fail(c, "\"%.*s\" is not a decimal number", (int)(end - p), p);
	if (!isfinite(v))
		return fail(c, "number \"%.*s\" is out of range", (int)n, p);
	p += n;

	/* The unit: a run of letters, or for plain numbers a run of '%'. */
	if (c->units == PGHA_UNIT_NONE) {
		while (*p == '%')
			p++;
	}
	if (is_alpha(*p)) {
		const struct unit *units = c->units == PGHA_UNIT_BYTES ? byte_units
					 : c->units == PGHA_UNIT_SECONDS ? time_units
					 : NULL;
		const char *u = p;
		while (is_alpha(*p))
			p++;
		size_t ulen = (size_t)(p - u);
		const struct unit *hit = NULL;
		for (const struct unit *t = units; t && t->name; t++) {
			if (strlen(t->name) == ulen && memcmp(t->name, u, ulen) == 0) {
				hit = t;
				break;
			}
		}
		if (!hit)
			return fail(c, "unknown unit \"%.*s\" (%s)", (int)ulen, u,
				    unit_hint(c->units));
		v = v * hit->mul / hit->div;
		if (!isfinite(v))
			return fail(c, "number \"%.*s\" is out of range", (int)(p - *pp), *pp);
	}
	*out = v;
	*pp = p;
	return 0;
}

/* The message for a number that is missing at p; after names what came
 * before it ("\":\"") or is NULL at the start of the text. */
static int missing_number(const struct ctx *c, const char *p, const char *after)
{
	if (*p == '\0') {
		if (after)
			return fail(c, "expected a number after %s", after);
		return fail(c, "expected a number");
	}
	if (looks_like_infinity(p))
		return fail(c, "expected a number at \"%s\" (write \"~:N\" for no lower "
			    "bound and \"N:\" for no upper bound)", p);
	return fail(c, "expected a number at \"%s\"", p);
}

/* The whole range grammar of range.h, with the context c for messages. */
static int parse_range(const struct ctx *c, struct pgha_range *out)
{
	struct pgha_range r = { 0, 0, false, false, false };
	const char *p = c->text;
	int rc;

	if (*p == '\0')
		return fail(c, "empty string");
	if (*p == '@') {
		r.alert_inside = true;
		p++;
	}

	if (*p == '~') {                       /* ~:E */
		r.start_infinite = true;
		p++;
		if (*p != ':')
			return fail(c, "expected \":\" after \"~\"");
		p++;
		rc = parse_endpoint(c, &p, &r.end);
		if (rc == PGHA_E_NOTFOUND)
			return missing_number(c, p, "\"~:\"");
		if (rc)
			return rc;
	} else if (*p == ':') {                /* :E */
		p++;
		rc = parse_endpoint(c, &p, &r.end);
		if (rc == PGHA_E_NOTFOUND)
			return missing_number(c, p, "\":\"");
		if (rc)
			return rc;
	} else {                               /* N, S:, S:E */
		double first = 0;
		rc = parse_endpoint(c, &p, &first);
		if (rc == PGHA_E_NOTFOUND)
			return missing_number(c, p, NULL);
		if (rc)
			return rc;
		if (*p == ':') {
			r.start = first;
			p++;
			if (*p == '\0') {
				r.end_infinite = true;
			} else if (*p == '~') {
				return fail(c, "\"~\" is only valid as the start (leave the end "
					    "empty for no upper bound)");
			} else {
				rc = parse_endpoint(c, &p, &r.end);
				if (rc == PGHA_E_NOTFOUND)
					return missing_number(c, p, "\":\"");
				if (rc)
					return rc;
			}
		} else {
			r.end = first;
		}
	}

	if (*p != '\0')
		return fail(c, "unexpected \"%s\" (the syntax is [@]start:end)", p);
	if (!r.start_infinite && !r.end_infinite && r.start > r.end)
		return fail(c, "start is greater than end");
	*out = r;
	return 0;
}

int pgha_range_parse(const char *text, enum pgha_unit_kind units,
		     struct pgha_range *r, char *err, size_t errlen)
{
	struct ctx c = { "range", text ? text : "", units, err, errlen };
	return parse_range(&c, r);
}

bool pgha_range_alerts(const struct pgha_range *r, double value)
{
	if (isnan(value))
		return true;
	bool above_start = r->start_infinite || value >= r->start;
	bool below_end = r->end_infinite || value <= r->end;
	bool inside = above_start && below_end;
	return r->alert_inside ? inside : !inside;
}

/* Copy src (length len) into out as snprintf would: truncated, always
 * NUL-terminated when outlen > 0. Returns len. */
static size_t copy_out(const char *src, size_t len, char *out, size_t outlen)
{
	if (outlen > 0) {
		size_t n = len < outlen - 1 ? len : outlen - 1;
		memcpy(out, src, n);
		out[n] = '\0';
	}
	return len;
}

/* The %e text of v with the fewest significant digits (1..17) that reads
 * back as v, into buf (at least 32 bytes). */
static void shortest_e(double v, char *buf, size_t buflen)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, buflen, "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

size_t pgha_number_format(double v, char *out, size_t outlen)
{
	char buf[64];
	size_t len = 0;

	if (!isfinite(v))
		return copy_out("U", 1, out, outlen);
	if (v == 0)
		return copy_out("0", 1, out, outlen);

	double mag = v < 0 ? -v : v;
	if (mag < 1e15 && v == (double)(long long)v) {
		int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
		return copy_out(buf, (size_t)n, out, outlen);
	}

	/* Split "-d.ddde+XX" into sign, significant digits and exponent. */
	char e[40];
	shortest_e(v, e, sizeof e);
	const char *p = e;
	bool neg = *p == '-';
	if (neg)
		p++;
	char digits[24];
	size_t nd = 0;
	for (; *p && *p != 'e'; p++) {
		if (is_digit(*p) && nd < sizeof digits)
			digits[nd++] = *p;
	}
	long exp10 = *p == 'e' ? strtol(p + 1, NULL, 10) : 0;
	if (nd == 0) /* cannot happen: %e always has a digit */
		digits[nd++] = '0';
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;

	if (neg)
		buf[len++] = '-';
	if (mag >= 1e-7 && mag < 1e21) {
		/* Positional: value = d1.d2d3... * 10^exp10. */
		if (exp10 < 0) {
			buf[len++] = '0';
			buf[len++] = '.';
			for (long z = -1; z > exp10; z--)
				buf[len++] = '0';
			memcpy(buf + len, digits, nd);
			len += nd;
		} else if ((size_t)exp10 + 1 >= nd) {
			memcpy(buf + len, digits, nd);
			len += nd;
			for (size_t z = nd; z < (size_t)exp10 + 1; z++)
				buf[len++] = '0';
		} else {
			size_t ip = (size_t)exp10 + 1;
			memcpy(buf + len, digits, ip);
			len += ip;
			buf[len++] = '.';
			memcpy(buf + len, digits + ip, nd - ip);
			len += nd - ip;
		}
		buf[len] = '\0';
	} else {
		int n = snprintf(buf + len, sizeof buf - len, "%c%s%.*se%+03ld",
				 digits[0], nd > 1 ? "." : "", (int)(nd - 1), digits + 1, exp10);
		len += (size_t)n;
	}
	return copy_out(buf, len, out, outlen);
}

size_t pgha_range_format(const struct pgha_range *r, char *out, size_t outlen)
{
	char buf[2 * PGHA_NUMBER_MAX + 8];
	size_t len = 0;

	if (r->alert_inside)
		buf[len++] = '@';
	if (r->start_infinite) {
		buf[len++] = '~';
		buf[len++] = ':';
	} else if (r->start != 0 || r->end_infinite) {
		/* Perl omits a 0 start; we keep it in "0:" which would
		 * otherwise print as "". */
		len += pgha_number_format(r->start, buf + len, sizeof buf - len);
		buf[len++] = ':';
	}
	if (!r->end_infinite)
		len += pgha_number_format(r->end, buf + len, sizeof buf - len);
	buf[len] = '\0';
	return copy_out(buf, len, out, outlen);
}

int pgha_quantity_parse(const char *text, enum pgha_unit_kind units,
			double *out, char *err, size_t errlen)
{
	struct ctx c = { "value", text ? text : "", units, err, errlen };
	const char *p = c.text;
	double v;

	if (*p == '\0')
		return fail(&c, "empty string");
	int rc = parse_endpoint(&c, &p, &v);
	if (rc == PGHA_E_NOTFOUND)
		return missing_number(&c, p, NULL);
	if (rc)
		return rc;
	if (*p != '\0')
		return fail(&c, "unexpected \"%s\"", p);
	*out = v;
	return 0;
}

/* Parse one optional threshold: NULL or "" leaves it unset. */
static int set_one(const char *what, const char *text, enum pgha_unit_kind units,
		   bool *has, struct pgha_range *r, char *canon, size_t canonlen,
		   char *err, size_t errlen)
{
	if (!text || !*text)
		return 0;
	struct ctx c = { what, text, units, err, errlen };
	int rc = parse_range(&c, r);
	if (rc)
		return rc;
	if (pgha_range_format(r, canon, canonlen) >= canonlen)
		return fail(&c, "canonical text is too long"); /* cannot happen */
	*has = true;
	return 0;
}

int pgha_thresholds_set(struct pgha_thresholds *t, const char *warning,
			const char *critical, enum pgha_unit_kind units,
			char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	int rc = set_one("warning range", warning, units, &t->has_warning, &t->warning,
			 t->warning_text, sizeof t->warning_text, err, errlen);
	if (rc == 0)
		rc = set_one("critical range", critical, units, &t->has_critical,
			     &t->critical, t->critical_text, sizeof t->critical_text,
			     err, errlen);
	if (rc)
		memset(t, 0, sizeof *t);
	return rc;
}

enum pgha_state pgha_thresholds_check(const struct pgha_thresholds *t, double value)
{
	if (t->has_critical && pgha_range_alerts(&t->critical, value))
		return PGHA_CRITICAL;
	if (t->has_warning && pgha_range_alerts(&t->warning, value))
		return PGHA_WARNING;
	return PGHA_OK;
}

int pgha_thresholds_set_named(struct pgha_thresholds *t, const char *warning,
			      const char *critical, enum pgha_unit_kind units,
			      const char *wopt, const char *copt, char *err, size_t errlen)
{
	struct pgha_range tmp;
	char e[256];
	if (warning && warning[0] && pgha_range_parse(warning, units, &tmp, e, sizeof e)) {
		pgha_errf(err, errlen, "%s: %s", wopt, e);
		return PGHA_E_INVALID;
	}
	if (critical && critical[0] && pgha_range_parse(critical, units, &tmp, e, sizeof e)) {
		pgha_errf(err, errlen, "%s: %s", copt, e);
		return PGHA_E_INVALID;
	}
	return pgha_thresholds_set(t, warning, critical, units, err, errlen);
}
