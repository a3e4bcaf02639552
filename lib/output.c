/*
 * output.c: a plugin's result (state, summary, long output, perfdata) and
 * its rendering within the 8 KiB Nagios limit.
 *
 * Text is cleaned when it is added (the result owns a sanitised copy), so
 * rendering only has to decide what fits. The cap is applied in priority
 * order: the "NAME STATE" head always; then the summary and the perfdata
 * share the first line (the summary keeps at least half of it when both
 * are too long, and is cut on a UTF-8 boundary with "..."; perfdata items
 * are never cut, only dropped from the end); then long-output lines, worst
 * first, until one does not fit, with room always kept for the closing
 * "... N more lines". Nothing here allocates outside the result and the
 * caller's buffer, and nothing is global.
 */
#include "output.h"
#include "error.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pgha_result_init(struct pgha_result *r, const char *name)
{
	memset(r, 0, sizeof *r);
	r->name = name;
	r->state = PGHA_OK;
}

void pgha_result_free(struct pgha_result *r)
{
	free(r->summary);
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i].text);
	free(r->lines);
	for (size_t i = 0; i < r->nperf; i++) {
		free(r->perf[i].label);
		free(r->perf[i].uom);
		free(r->perf[i].warn);
		free(r->perf[i].crit);
	}
	free(r->perf);
	pgha_result_init(r, r->name);
}

void pgha_result_raise(struct pgha_result *r, enum pgha_state s)
{
	r->state = pgha_state_worst(r->state, s);
}

/* printf into a new string (caller frees); NULL when out of memory or the
 * format fails. */
__attribute__((format(printf, 1, 0)))
static char *vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

/* Make human text safe for the plugin output in place: '|' would start
 * perfdata, a newline would start another line. */
static void clean_text(char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			*s = '/';
		else if (*s == '\n' || *s == '\r')
			*s = ' ';
	}
}

/* A copy of s (caller frees) without the characters that would break a
 * perfdata field: spaces, control characters, ';', '|', '=' and '\''.
 * keep_only_unit additionally keeps only letters and '%' (a UOM). NULL
 * for NULL, or when out of memory (*oom set). */
static char *dup_field(const char *s, bool keep_only_unit, bool *oom)
{
	if (!s)
		return NULL;
	char *d = malloc(strlen(s) + 1);
	if (!d) {
		*oom = true;
		return NULL;
	}
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char ch = *p;
		if (ch <= ' ' || ch == 0x7f || ch == ';' || ch == '|' || ch == '=' || ch == '\'')
			continue;
		if (keep_only_unit && !(ch == '%' || (ch >= 'a' && ch <= 'z') ||
					(ch >= 'A' && ch <= 'Z')))
			continue;
		d[n++] = (char)ch;
	}
	d[n] = '\0';
	return d;
}

/* A copy of a perfdata label (caller frees) in which '=', '\'', '|' and
 * control characters are '_'; an empty or NULL label becomes "_". NULL
 * when out of memory. */
static char *dup_label(const char *s)
{
	if (!s || !*s)
		s = "_";
	size_t len = strlen(s);
	char *d = malloc(len + 1);
	if (!d)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		d[i] = (ch < ' ' || ch == 0x7f || ch == '=' || ch == '\'' || ch == '|')
			? '_' : (char)ch;
	}
	d[len] = '\0';
	return d;
}

/* Make room for one more element in an array of *alloc elements of size
 * elem holding used; returns the (possibly moved) array, or NULL with the
 * old array untouched when out of memory. */
static void *grow(void *arr, size_t *alloc, size_t used, size_t elem)
{
	if (used < *alloc)
		return arr;
	size_t want = *alloc ? *alloc * 2 : 8;
	if (want > SIZE_MAX / elem)
		return NULL;
	void *p = realloc(arr, want * elem);
	if (p)
		*alloc = want;
	return p;
}

/* Replace the summary with a formatted, cleaned string. */
__attribute__((format(printf, 2, 0)))
static void set_summary(struct pgha_result *r, const char *fmt, va_list ap)
{
	char *s = vformat(fmt, ap);
	if (!s) {
		r->oom = true;
		return;
	}
	clean_text(s);
	free(r->summary);
	r->summary = s;
}

void pgha_result_set(struct pgha_result *r, enum pgha_state s, const char *fmt, ...)
{
	va_list ap;
	r->state = s;
	va_start(ap, fmt);
	set_summary(r, fmt, ap);
	va_end(ap);
}

void pgha_result_summary(struct pgha_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_summary(r, fmt, ap);
	va_end(ap);
}

void pgha_result_line(struct pgha_result *r, enum pgha_state s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = vformat(fmt, ap);
	va_end(ap);
	if (!text) {
		r->oom = true;
		return;
	}
	struct pgha_line *lines = grow(r->lines, &r->lines_alloc, r->nlines, sizeof *lines);
	if (!lines) {
		free(text);
		r->oom = true;
		return;
	}
	r->lines = lines;
	clean_text(text);
	lines[r->nlines].state = s;
	lines[r->nlines].text = text;
	r->nlines++;
}

void pgha_result_summarise(struct pgha_result *r, const char *prefix)
{
	struct pgha_buf text;
	int worst = 0;

	pgha_buf_init(&text, PGHA_OUTPUT_MAX);
	if (prefix)
		pgha_buf_printf(&text, "%s: ", prefix);
	for (size_t i = 0; i < r->nlines; i++)
		if (pgha_state_rank(r->lines[i].state) > worst)
			worst = pgha_state_rank(r->lines[i].state);
	size_t used = 0;
	for (int rank = 3; rank >= (worst > 0 ? 1 : 0); rank--) {
		for (size_t i = 0; i < r->nlines; i++) {
			if (pgha_state_rank(r->lines[i].state) != rank)
				continue;
			pgha_buf_printf(&text, "%s%s", used++ ? "; " : "", r->lines[i].text);
		}
	}
	if (used == 0)
		pgha_buf_puts(&text, "nothing checked");
	pgha_result_summary(r, "%s", pgha_buf_str(&text));
	pgha_buf_free(&text);

	/* keep only the lines the summary left out */
	size_t kept = 0;
	for (size_t i = 0; i < r->nlines; i++) {
		if (worst > 0 && r->lines[i].state == PGHA_OK) {
			r->lines[kept++] = r->lines[i];
		} else {
			free(r->lines[i].text);
		}
	}
	r->nlines = kept;
}

/* Add one perfdata item, known or not; on any allocation failure nothing
 * is added and r->oom is set. */
static void add_perf(struct pgha_result *r, const char *label, bool known, double value,
		     const struct pgha_perf_spec *spec)
{
	static const struct pgha_perf_spec none = { NULL, NULL, NULL, false, 0, false, 0 };
	if (!spec)
		spec = &none;

	struct pgha_perf *perf = grow(r->perf, &r->perf_alloc, r->nperf, sizeof *perf);
	if (!perf) {
		r->oom = true;
		return;
	}
	r->perf = perf;

	bool oom = false;
	struct pgha_perf p = {
		.label = dup_label(label),
		.known = known && isfinite(value),
		.value = value,
		.uom = dup_field(spec->uom, true, &oom),
		.warn = dup_field(spec->warn, false, &oom),
		.crit = dup_field(spec->crit, false, &oom),
		.has_min = spec->has_min && isfinite(spec->min),
		.min = spec->min,
		.has_max = spec->has_max && isfinite(spec->max),
		.max = spec->max,
	};
	if (oom || !p.label) {
		free(p.label);
		free(p.uom);
		free(p.warn);
		free(p.crit);
		r->oom = true;
		return;
	}
	perf[r->nperf++] = p;
}

void pgha_result_perf(struct pgha_result *r, const char *label, double value,
		      const struct pgha_perf_spec *spec)
{
	add_perf(r, label, true, value, spec);
}

void pgha_result_perf_unknown(struct pgha_result *r, const char *label,
			      const struct pgha_perf_spec *spec)
{
	add_perf(r, label, false, 0, spec);
}

/* ---- rendering ---------------------------------------------------------- */

/* True when a label must be quoted: anything outside [A-Za-z0-9_.-]. */
static bool label_needs_quotes(const char *s)
{
	for (; *s; s++) {
		char ch = *s;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return true;
	}
	return false;
}

/* Write one perfdata item into b (reset first):
 * label=value[uom];warn;crit;min;max without trailing empty fields. */
static int perf_format(const struct pgha_perf *p, struct pgha_buf *b)
{
	char value[PGHA_NUMBER_MAX + 1], min[PGHA_NUMBER_MAX + 1], max[PGHA_NUMBER_MAX + 1];
	const char *field[5];
	int rc = 0, e;

	pgha_buf_reset(b);
	if (p->known)
		pgha_number_format(p->value, value, sizeof value);
	else
		memcpy(value, "U", 2);
	min[0] = max[0] = '\0';
	if (p->has_min)
		pgha_number_format(p->min, min, sizeof min);
	if (p->has_max)
		pgha_number_format(p->max, max, sizeof max);
	field[0] = value; /* never empty */
	field[1] = p->warn ? p->warn : "";
	field[2] = p->crit ? p->crit : "";
	field[3] = min;
	field[4] = max;
	int last = 4;
	while (last > 0 && field[last][0] == '\0')
		last--;

	bool quote = label_needs_quotes(p->label);
	if (quote && (e = pgha_buf_puts(b, "'")) != 0)
		rc = e;
	if ((e = pgha_buf_puts(b, p->label)) != 0)
		rc = e;
	if ((e = pgha_buf_puts(b, quote ? "'=" : "=")) != 0)
		rc = e;
	for (int i = 0; i <= last; i++) {
		if (i > 0 && (e = pgha_buf_puts(b, ";")) != 0)
			rc = e;
		if ((e = pgha_buf_puts(b, field[i])) != 0)
			rc = e;
		if (i == 0 && p->known && p->uom && (e = pgha_buf_puts(b, p->uom)) != 0)
			rc = e;
	}
	return rc;
}

/* Length of "... N more lines\n". */
static size_t more_len(size_t n)
{
	char tmp[64];
	int len = snprintf(tmp, sizeof tmp, "... %zu more lines\n", n);
	return len > 0 ? (size_t)len : 0;
}

/* Length of s cut to at most max bytes without splitting a UTF-8
 * sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* Appends into out remembering the first error, so the render code can
 * emit without checking each call. */
struct emitter {
	struct pgha_buf *out;
	int rc;
};

static void emit(struct emitter *em, const char *s, size_t n)
{
	int rc = pgha_buf_append(em->out, s, n);
	if (rc && !em->rc)
		em->rc = rc;
}

static void emit_str(struct emitter *em, const char *s)
{
	emit(em, s, strlen(s));
}

/* The first line when memory ran out while building the result. */
static int render_oom(const struct pgha_result *r, struct pgha_buf *out)
{
	struct emitter em = { out, 0 };
	emit_str(&em, r->name ? r->name : "PGHA");
	emit_str(&em, " UNKNOWN - out of memory\n");
	return em.rc;
}

/* The first line, given that it may take at most cap bytes with its
 * newline; see the top of this file for who gets the room. */
static void render_first_line(const struct pgha_result *r, struct emitter *em,
			      struct pgha_buf *scratch, size_t cap)
{
	const char *name = r->name ? r->name : "PGHA";
	const char *state = pgha_state_name(r->state);
	size_t head = strlen(name) + 1 + strlen(state);
	const char *summary = r->summary ? r->summary : "";
	size_t sum_len = strlen(summary);
	size_t sum_want = sum_len ? 3 + sum_len : 0; /* " - summary" */

	if (head + 1 > cap) { /* only with an absurdly small buffer */
		size_t n = cap > 0 ? cap - 1 : 0;
		size_t nl = n < strlen(name) ? n : strlen(name);
		emit(em, name, nl);
		if (n > nl) {
			emit(em, " ", 1);
			emit(em, state, n - nl - 1);
		}
		if (cap > 0)
			emit(em, "\n", 1);
		if (!em->rc)
			em->rc = PGHA_E_TOOBIG;
		return;
	}

	/* " | a b c": 2 for " |", then 1 + length per item. */
	size_t perf_want = 0;
	for (size_t i = 0; i < r->nperf; i++) {
		int rc = perf_format(&r->perf[i], scratch);
		if (rc == PGHA_E_NOMEM) {
			em->rc = rc;
			return;
		}
		perf_want += 1 + scratch->len;
	}
	if (perf_want)
		perf_want += 2;

	size_t avail = cap - 1 - head;
	size_t sum_room = perf_want <= avail ? avail - perf_want : 0;
	if (sum_room < avail / 2)
		sum_room = avail / 2;

	emit_str(em, name);
	emit(em, " ", 1);
	emit_str(em, state);

	size_t used = 0;
	if (sum_want && sum_want <= sum_room) {
		emit(em, " - ", 3);
		emit(em, summary, sum_len);
		used = sum_want;
	} else if (sum_want && sum_room >= 3 + 1 + 3) {
		size_t n = utf8_cut(summary, sum_len, sum_room - 6);
		emit(em, " - ", 3);
		emit(em, summary, n);
		emit(em, "...", 3);
		used = 3 + n + 3;
	}

	/* Whole perfdata items, in order, while they fit. */
	bool bar = false;
	for (size_t i = 0; i < r->nperf; i++) {
		int rc = perf_format(&r->perf[i], scratch);
		if (rc == PGHA_E_NOMEM) {
			em->rc = rc;
			return;
		}
		size_t need = (bar ? 0 : 2) + 1 + scratch->len;
		if (rc || used + need > avail)
			break;
		if (!bar)
			emit(em, " |", 2);
		bar = true;
		emit(em, " ", 1);
		emit(em, scratch->data, scratch->len);
		used += need;
	}
	emit(em, "\n", 1);
}

int pgha_result_render(const struct pgha_result *r, struct pgha_buf *out)
{
	pgha_buf_reset(out);
	if (r->oom)
		return render_oom(r, out);

	size_t cap = out->limit < PGHA_OUTPUT_MAX ? out->limit : PGHA_OUTPUT_MAX;
	struct emitter em = { out, 0 };
	struct pgha_buf scratch;
	pgha_buf_init(&scratch, cap);

	size_t total_lines = 0;
	for (size_t i = 0; i < r->nlines; i++)
		total_lines += strlen(r->lines[i].text) + 1;

	/* Try the first line at full size; if it and every long-output line
	 * fit, that is the whole output. Otherwise redo it keeping room for
	 * "... N more lines". */
	size_t first_cap = cap;
	if (r->nlines > 0) {
		size_t reserve = more_len(r->nlines);
		first_cap = cap > reserve ? cap - reserve : 0;
	}
	render_first_line(r, &em, &scratch, cap);
	if (!em.rc && out->len + total_lines > cap && out->len > first_cap) {
		pgha_buf_reset(out);
		render_first_line(r, &em, &scratch, first_cap);
	}
	pgha_buf_free(&scratch);
	if (em.rc)
		return em.rc;

	/* Long output, worst first (rank 3 = CRITICAL down to 0 = OK), stable
	 * within a state; stop at the first line that does not fit. */
	size_t used = out->len, rest = total_lines, left = r->nlines, dropped = 0;
	bool stopped = false;
	for (int rank = 3; rank >= 0; rank--) {
		for (size_t i = 0; i < r->nlines; i++) {
			const struct pgha_line *l = &r->lines[i];
			if (pgha_state_rank(l->state) != rank)
				continue;
			size_t len = strlen(l->text) + 1;
			if (!stopped && (used + rest <= cap ||
					 used + len + more_len(left - 1) <= cap)) {
				emit(&em, l->text, len - 1);
				emit(&em, "\n", 1);
				used += len;
				rest -= len;
				left--;
				continue;
			}
			stopped = true;
			dropped++;
		}
	}
	if (dropped) {
		char tail[64];
		int n = snprintf(tail, sizeof tail, "... %zu more lines\n", dropped);
		if (n > 0 && used + (size_t)n <= cap)
			emit(&em, tail, (size_t)n);
		else if (!em.rc)
			em.rc = PGHA_E_TOOBIG; /* only with an absurdly small buffer */
	}
	return em.rc;
}

/* The exit code for a state: its value, UNKNOWN for anything else. */
static int exit_code(enum pgha_state s)
{
	switch (s) {
	case PGHA_OK:
	case PGHA_WARNING:
	case PGHA_CRITICAL:
	case PGHA_UNKNOWN:
		return (int)s;
	}
	return PGHA_UNKNOWN;
}

int pgha_result_exit(struct pgha_result *r)
{
	struct pgha_buf out;
	int code = exit_code(r->state);

	pgha_buf_init(&out, PGHA_OUTPUT_MAX);
	int rc = pgha_result_render(r, &out);
	if (r->oom || rc == PGHA_E_NOMEM || !out.data) {
		char msg[256];
		int n = snprintf(msg, sizeof msg, "%s UNKNOWN - out of memory\n",
				 r->name ? r->name : "PGHA");
		if (n > 0)
			fwrite(msg, 1, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1, stdout);
		code = PGHA_UNKNOWN;
	} else {
		fwrite(out.data, 1, out.len, stdout);
	}
	fflush(stdout);
	pgha_buf_free(&out);
	pgha_result_free(r);
	return code;
}

void pgha_duration_format(double s, char *out, size_t outlen)
{
	if (!(s >= 10)) { /* NaN too */
		snprintf(out, outlen, "%.1f s", s > 0 ? s : 0);
		return;
	}
	long long t = s < 9e15 ? (long long)(s + 0.5) : 9000000000000000LL;
	if (t < 120)
		snprintf(out, outlen, "%lld s", t);
	else if (t < 7200)
		snprintf(out, outlen, "%lld min %lld s", t / 60, t % 60);
	else if (t < 172800)
		snprintf(out, outlen, "%lld h %lld min", t / 3600, t % 3600 / 60);
	else
		snprintf(out, outlen, "%lld d %lld h", t / 86400, t % 86400 / 3600);
}

double pgha_round_ms(double s)
{
	if (!(s > 0))
		return 0;
	if (s >= 9e12) /* past what a long long of milliseconds holds exactly */
		return s;
	return (double)(long long)(s * 1000 + 0.5) / 1000;
}

const char *pgha_alert_text(enum pgha_state s, const char *warning, const char *critical,
			    char *buf, size_t buflen)
{
	if (s != PGHA_WARNING && s != PGHA_CRITICAL)
		return "";
	const char *text = s == PGHA_CRITICAL ? critical : warning;
	snprintf(buf, buflen, "%s range %s", s == PGHA_CRITICAL ? "critical" : "warning",
		 text ? text : "");
	return buf;
}
