/*
 * pyjson.c: JSON read as Python's json.loads() and printed as json.dumps().
 *
 * The parser prints as it reads: each scalar is stored as the text
 * json.dumps() would write for it, so printing a tree is only joining
 * those texts with ", " and ": ". Strings are decoded (UTF-8 and escapes)
 * into code points and escaped again with ensure_ascii; numbers with a
 * fraction or exponent go through strtod() and Python's repr() algorithm
 * (shortest digits that read back, then Python's layout); integers keep
 * their digits. One scratch buffer (capped at PGHA_PYJSON_MAX_TEXT) holds
 * the scalar being printed.
 */
#define _POSIX_C_SOURCE 200809L
#include "pyjson.h"

#include "error.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The state of one pgha_pyjson_parse() call. */
struct parser {
	const unsigned char *s;
	size_t len, pos;
	int depth;
	struct pgha_buf scratch; /* one string or number being printed */
	char err[160];
};

void pgha_pyjson_free(struct pgha_pyjson *node)
{
	if (!node)
		return;
	for (size_t i = 0; i < node->n; i++) {
		if (node->keys)
			free(node->keys[i]);
		pgha_pyjson_free(node->items[i]);
	}
	free(node->keys);
	free(node->items);
	free(node->text);
	free(node);
}

static struct pgha_pyjson *node_new(enum pgha_pyjson_kind kind)
{
	struct pgha_pyjson *node = calloc(1, sizeof *node);
	if (node)
		node->kind = kind;
	return node;
}

/* Append an item (and its key, for objects); takes ownership of both,
 * freeing them on failure. */
static int push(struct pgha_pyjson *node, char *key, struct pgha_pyjson *item)
{
	if (node->n == node->alloc) {
		size_t alloc = node->alloc ? node->alloc * 2 : 8;
		struct pgha_pyjson **items = realloc(node->items, alloc * sizeof *items);
		if (!items)
			goto nomem;
		node->items = items;
		if (node->kind == PGHA_PYJSON_OBJECT) {
			char **keys = realloc(node->keys, alloc * sizeof *keys);
			if (!keys)
				goto nomem;
			node->keys = keys;
		}
		node->alloc = alloc;
	}
	if (node->kind == PGHA_PYJSON_OBJECT)
		node->keys[node->n] = key;
	node->items[node->n++] = item;
	return 0;
nomem:
	free(key);
	pgha_pyjson_free(item);
	return PGHA_E_NOMEM;
}

static int fail(struct parser *p, const char *what)
{
	snprintf(p->err, sizeof p->err, "invalid JSON at byte %zu: %s", p->pos, what);
	return PGHA_E_PROTOCOL;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static bool literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return false;
	p->pos += n;
	return true;
}

/* A copy of the scratch buffer's text, or NULL. */
static char *take_scratch(struct parser *p)
{
	char *t = malloc(p->scratch.len + 1);
	if (t) {
		memcpy(t, pgha_buf_str(&p->scratch), p->scratch.len);
		t[p->scratch.len] = '\0';
	}
	return t;
}

/* Append code point cp (a lone surrogate is allowed, as in Python) as
 * json.dumps(ensure_ascii=True) writes it. */
static int put_escaped(struct pgha_buf *b, uint32_t cp)
{
	char u[16];
	switch (cp) {
	case '"': return pgha_buf_puts(b, "\\\"");
	case '\\': return pgha_buf_puts(b, "\\\\");
	case '\n': return pgha_buf_puts(b, "\\n");
	case '\r': return pgha_buf_puts(b, "\\r");
	case '\t': return pgha_buf_puts(b, "\\t");
	case '\b': return pgha_buf_puts(b, "\\b");
	case '\f': return pgha_buf_puts(b, "\\f");
	}
	if (cp >= 0x20 && cp <= 0x7e) {
		char c = (char)cp;
		return pgha_buf_append(b, &c, 1);
	}
	if (cp >= 0x10000) {
		uint32_t v = cp - 0x10000;
		snprintf(u, sizeof u, "\\u%04x\\u%04x", (unsigned)(0xd800 | (v >> 10)),
			 (unsigned)(0xdc00 | (v & 0x3ff)));
	} else {
		snprintf(u, sizeof u, "\\u%04x", (unsigned)cp);
	}
	return pgha_buf_puts(b, u);
}

static int hex4(const unsigned char *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int c = s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + (uint32_t)d;
	}
	*out = v;
	return 0;
}

/* Decode one UTF-8 sequence at p->pos (strict: no overlong forms, no
 * surrogates, at most U+10FFFF), as Python's utf-8 codec. */
static int utf8_char(struct parser *p, uint32_t *cp)
{
	const unsigned char *s = p->s + p->pos;
	size_t left = p->len - p->pos;
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2; v = c & 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3; v = c & 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4; v = c & 0x07; min = 0x10000;
	} else {
		return fail(p, "not UTF-8");
	}
	if (left < n)
		return fail(p, "not UTF-8");
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return fail(p, "not UTF-8");
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return fail(p, "not UTF-8");
	p->pos += n;
	*cp = v;
	return 0;
}

/* A string at p->pos (on the quote): its printed form, quotes included. */
static int parse_string(struct parser *p, char **out)
{
	struct pgha_buf *b = &p->scratch;
	pgha_buf_reset(b);
	p->pos++; /* the opening quote */
	int rc = pgha_buf_puts(b, "\"");
	while (rc == 0) {
		if (p->pos >= p->len)
			return fail(p, "unterminated string");
		unsigned char c = p->s[p->pos];
		uint32_t cp;
		if (c == '"') {
			p->pos++;
			break;
		} else if (c < 0x20) {
			return fail(p, "control character in a string");
		} else if (c >= 0x80) {
			if ((rc = utf8_char(p, &cp)) != 0)
				return rc;
		} else if (c != '\\') {
			cp = c;
			p->pos++;
		} else {
			if (p->pos + 1 >= p->len)
				return fail(p, "unterminated string");
			unsigned char e = p->s[p->pos + 1];
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *hit = e ? strchr(from, e) : NULL;
			if (hit) {
				cp = (unsigned char)to[hit - from];
				p->pos += 2;
			} else if (e == 'u') {
				if (p->len - p->pos < 6 || hex4(p->s + p->pos + 2, &cp))
					return fail(p, "invalid \\u escape");
				p->pos += 6;
				/* a high surrogate followed by an escaped low one is one
				 * character; anything else leaves it alone (Python keeps
				 * lone surrogates) */
				uint32_t lo;
				if (cp >= 0xd800 && cp <= 0xdbff && p->len - p->pos >= 6 &&
				    p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u' &&
				    hex4(p->s + p->pos + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p->pos += 6;
				}
			} else {
				return fail(p, "invalid escape");
			}
		}
		rc = put_escaped(b, cp);
	}
	if (rc == 0)
		rc = pgha_buf_puts(b, "\"");
	if (rc == PGHA_E_TOOBIG)
		return fail(p, "string too long");
	if (rc)
		return rc;
	*out = take_scratch(p);
	return *out ? 0 : PGHA_E_NOMEM;
}

/* Keep m * 10^scale as digits without trailing zeros and decpt. */
static void set_digits(uint64_t m, long scale, char digits[24], int *decpt)
{
	int k = snprintf(digits, 24, "%" PRIu64, m);
	*decpt = (int)(k + scale);
	while (k > 1 && digits[k - 1] == '0')
		digits[--k] = '\0';
}

/*
 * The shortest decimal digits that read back as x (finite, > 0), as
 * Python's repr() finds them: x = 0.DIGITS * 10^decpt, no trailing zeros.
 * For each length p the correctly rounded p-digit decimal is tried first
 * (the closest, which Python prefers), then its neighbour on the other
 * side of x: at a power of two the rounding interval is lopsided, so the
 * farther one may read back when the closer one does not. Only these two
 * p-digit decimals can be the nearest inside the interval. 17 digits
 * always read back.
 */
static void shortest_digits(double x, char digits[24], int *decpt)
{
	char buf[64];
	for (int p = 1; p <= 17; p++) {
		snprintf(buf, sizeof buf, "%.*e", p - 1, x);
		uint64_t m = 0;
		const char *c = buf;
		for (; *c && *c != 'e'; c++)
			if (*c >= '0' && *c <= '9')
				m = m * 10 + (uint64_t)(*c - '0');
		long scale = (*c ? strtol(c + 1, NULL, 10) : 0) - (p - 1);
		double back = strtod(buf, NULL);
		if (back == x || p == 17) {
			set_digits(m, scale, digits, decpt);
			return;
		}
		uint64_t other = back > x ? m - 1 : m + 1;
		if (other == 0)
			continue;
		snprintf(buf, sizeof buf, "%" PRIu64 "e%ld", other, scale);
		if (strtod(buf, NULL) == x) {
			set_digits(other, scale, digits, decpt);
			return;
		}
	}
}

static const char ZEROS[] = "0000000000000000"; /* 16 */

/* Python's repr() of a double, as json.dumps() prints floats: "0.1",
 * "1.0", "1e+16", "1e-05", "-0.0", "NaN", "Infinity", "-Infinity". */
void pgha_pyjson_float_repr(double x, char *out, size_t outlen)
{
	if (isnan(x)) {
		snprintf(out, outlen, "NaN");
		return;
	}
	if (isinf(x)) {
		snprintf(out, outlen, "%sInfinity", x < 0 ? "-" : "");
		return;
	}
	const char *sign = signbit(x) ? "-" : "";
	if (x == 0) {
		snprintf(out, outlen, "%s0.0", sign);
		return;
	}
	char d[24];
	int decpt;
	shortest_digits(fabs(x), d, &decpt);
	int nd = (int)strlen(d);
	if (decpt <= -4 || decpt > 16) {
		/* d[0].d[1..]e+XX, the exponent with a sign and two digits or more */
		snprintf(out, outlen, "%s%c%s%se%+03d", sign, d[0], nd > 1 ? "." : "", d + 1,
			 decpt - 1);
	} else if (decpt <= 0) { /* here decpt > -4 */
		snprintf(out, outlen, "%s0.%.*s%s", sign, -decpt, ZEROS, d);
	} else if (decpt < nd) {
		snprintf(out, outlen, "%s%.*s.%s", sign, decpt, d, d + decpt);
	} else { /* an integer: Python adds ".0"; here decpt <= 16 */
		snprintf(out, outlen, "%s%s%.*s.0", sign, d, decpt - nd, ZEROS);
	}
}

/* A number at p->pos, as Python's scanner reads it:
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?, an int without fraction
 * and exponent, else a float; or -Infinity. */
static int parse_number(struct parser *p, char **out)
{
	const unsigned char *s = p->s;
	size_t start = p->pos, i = p->pos;
	bool is_float = false;
	char repr[64];

	if (i < p->len && s[i] == '-')
		i++;
	if (i < p->len && s[i] == '0') {
		i++;
	} else if (i < p->len && s[i] >= '1' && s[i] <= '9') {
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		p->pos = i;
		if (i == start + 1 && literal(p, "Infinity")) { /* after a '-' */
			*out = strdup("-Infinity");
			return *out ? 0 : PGHA_E_NOMEM;
		}
		return fail(p, "expected a value");
	}
	if (i + 1 < p->len && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
		is_float = true;
		for (i++; i < p->len && s[i] >= '0' && s[i] <= '9'; i++)
			;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;
		if (j < p->len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < p->len && s[j] >= '0' && s[j] <= '9') {
			is_float = true;
			for (i = j; i < p->len && s[i] >= '0' && s[i] <= '9'; i++)
				;
		}
	}
	p->pos = i;
	pgha_buf_reset(&p->scratch);
	int rc = pgha_buf_append(&p->scratch, s + start, i - start);
	if (rc == PGHA_E_TOOBIG)
		return fail(p, "number too long");
	if (rc)
		return rc;
	if (is_float) {
		pgha_pyjson_float_repr(strtod(pgha_buf_str(&p->scratch), NULL), repr, sizeof repr);
		*out = strdup(repr);
	} else if (strcmp(pgha_buf_str(&p->scratch), "-0") == 0) {
		*out = strdup("0");
	} else {
		*out = take_scratch(p);
	}
	return *out ? 0 : PGHA_E_NOMEM;
}

static int parse_value(struct parser *p, struct pgha_pyjson **out);

static int parse_array(struct parser *p, struct pgha_pyjson *node)
{
	p->pos++; /* '[' */
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		struct pgha_pyjson *item;
		int rc = parse_value(p, &item);
		if (rc == 0)
			rc = push(node, NULL, item);
		if (rc)
			return rc;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == ']') {
			p->pos++;
			return 0;
		}
		return fail(p, "expected ',' or ']'");
	}
}

/* One entry of an index; an index is an array of obj->n of them. */
struct pgha_pyjson_index {
	const char *key;
	size_t i;
};

static int index_cmp(const void *a, const void *b)
{
	const struct pgha_pyjson_index *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The keys of an object sorted (by key, then position), for lookups;
 * caller frees with pgha_pyjson_index_free(). NULL when out of memory or
 * the object is empty. */
struct pgha_pyjson_index *pgha_pyjson_index_new(const struct pgha_pyjson *obj)
{
	if (obj->n == 0)
		return NULL;
	struct pgha_pyjson_index *idx = malloc(obj->n * sizeof *idx);
	if (!idx)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		idx[i] = (struct pgha_pyjson_index){ obj->keys[i], i };
	qsort(idx, obj->n, sizeof *idx, index_cmp);
	return idx;
}

void pgha_pyjson_index_free(struct pgha_pyjson_index *idx)
{
	free(idx);
}

/* The value of key in obj through its index, or NULL. */
const struct pgha_pyjson *pgha_pyjson_lookup(const struct pgha_pyjson *obj,
					     const struct pgha_pyjson_index *idx, const char *key)
{
	size_t lo = 0, hi = idx ? obj->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key, idx[mid].key);
		if (c == 0)
			return obj->items[idx[mid].i];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Resolve repeated keys as a Python dict does: the first position keeps
 * the last value; the other pairs go. */
static int dedupe(struct pgha_pyjson *obj)
{
	if (obj->n < 2)
		return 0;
	struct pgha_pyjson_index *idx = pgha_pyjson_index_new(obj);
	if (!idx)
		return PGHA_E_NOMEM;
	bool *gone = calloc(obj->n, sizeof *gone);
	if (!gone) {
		pgha_pyjson_index_free(idx);
		return PGHA_E_NOMEM;
	}
	size_t dups = 0;
	for (size_t a = 0, b; a < obj->n; a = b) {
		for (b = a + 1; b < obj->n && strcmp(idx[a].key, idx[b].key) == 0; b++) {
			gone[idx[b].i] = true;
			dups++;
		}
		if (b - a > 1) {
			struct pgha_pyjson *t = obj->items[idx[a].i];
			obj->items[idx[a].i] = obj->items[idx[b - 1].i];
			obj->items[idx[b - 1].i] = t;
		}
	}
	pgha_pyjson_index_free(idx);
	if (dups) {
		size_t kept = 0;
		for (size_t i = 0; i < obj->n; i++) {
			if (gone[i]) {
				free(obj->keys[i]);
				pgha_pyjson_free(obj->items[i]);
			} else {
				obj->keys[kept] = obj->keys[i];
				obj->items[kept++] = obj->items[i];
			}
		}
		obj->n = kept;
	}
	free(gone);
	return 0;
}

static int parse_object(struct parser *p, struct pgha_pyjson *node)
{
	p->pos++; /* '{' */
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		char *key;
		struct pgha_pyjson *value;
		if (p->pos >= p->len || p->s[p->pos] != '"')
			return fail(p, "expected a key");
		int rc = parse_string(p, &key);
		if (rc)
			return rc;
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ':') {
			free(key);
			return fail(p, "expected ':'");
		}
		p->pos++;
		rc = parse_value(p, &value);
		if (rc) {
			free(key);
			return rc;
		}
		if ((rc = push(node, key, value)) != 0)
			return rc;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			skip_ws(p);
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == '}') {
			p->pos++;
			return dedupe(node);
		}
		return fail(p, "expected ',' or '}'");
	}
}

/* One value after optional white space. */
static int parse_value(struct parser *p, struct pgha_pyjson **out)
{
	*out = NULL;
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, "unexpected end");
	unsigned char c = p->s[p->pos];
	int rc;
	if (c == '{' || c == '[') {
		if (p->depth >= PGHA_PYJSON_MAX_DEPTH)
			return fail(p, "nested too deep");
		struct pgha_pyjson *node =
			node_new(c == '{' ? PGHA_PYJSON_OBJECT : PGHA_PYJSON_ARRAY);
		if (!node)
			return PGHA_E_NOMEM;
		p->depth++;
		rc = c == '{' ? parse_object(p, node) : parse_array(p, node);
		p->depth--;
		if (rc) {
			pgha_pyjson_free(node);
			return rc;
		}
		*out = node;
		return 0;
	}
	struct pgha_pyjson *node = node_new(PGHA_PYJSON_SCALAR);
	if (!node)
		return PGHA_E_NOMEM;
	static const char *const words[] = { "null", "true", "false", "NaN", "Infinity" };
	rc = 1;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (literal(p, words[i])) {
			node->text = strdup(words[i]);
			rc = node->text ? 0 : PGHA_E_NOMEM;
			break;
		}
	}
	if (rc == 1)
		rc = c == '"' ? parse_string(p, &node->text) : parse_number(p, &node->text);
	if (rc) {
		pgha_pyjson_free(node);
		return rc;
	}
	*out = node;
	return 0;
}

int pgha_pyjson_parse(const char *text, size_t len, struct pgha_pyjson **out, char *err,
		      size_t errlen)
{
	struct parser p = { .s = (const unsigned char *)text, .len = len };
	pgha_buf_init(&p.scratch, PGHA_PYJSON_MAX_TEXT);
	int rc = parse_value(&p, out);
	if (rc == 0) {
		skip_ws(&p);
		if (p.pos != p.len) {
			rc = fail(&p, "extra data after the document");
			pgha_pyjson_free(*out);
			*out = NULL;
		}
	}
	if (rc == PGHA_E_PROTOCOL)
		pgha_errf(err, errlen, "%s", p.err);
	else if (rc)
		pgha_errf(err, errlen, "%s", pgha_strerror(rc));
	pgha_buf_free(&p.scratch);
	return rc;
}

int pgha_pyjson_dump(const struct pgha_pyjson *node, struct pgha_buf *b)
{
	int rc = 0;
	switch (node->kind) {
	case PGHA_PYJSON_SCALAR:
		return pgha_buf_puts(b, node->text);
	case PGHA_PYJSON_ARRAY:
		rc = pgha_buf_puts(b, "[");
		for (size_t i = 0; rc == 0 && i < node->n; i++) {
			if (i)
				rc = pgha_buf_puts(b, ", ");
			if (rc == 0)
				rc = pgha_pyjson_dump(node->items[i], b);
		}
		return rc ? rc : pgha_buf_puts(b, "]");
	case PGHA_PYJSON_OBJECT:
		rc = pgha_buf_puts(b, "{");
		for (size_t i = 0; rc == 0 && i < node->n; i++) {
			if (i)
				rc = pgha_buf_puts(b, ", ");
			if (rc == 0)
				rc = pgha_buf_puts(b, node->keys[i]);
			if (rc == 0)
				rc = pgha_buf_puts(b, ": ");
			if (rc == 0)
				rc = pgha_pyjson_dump(node->items[i], b);
		}
		return rc ? rc : pgha_buf_puts(b, "}");
	}
	return PGHA_E_INVALID;
}

bool pgha_pyjson_equal(const struct pgha_pyjson *a, const struct pgha_pyjson *b)
{
	if (a->kind != b->kind || a->n != b->n)
		return false;
	if (a->kind == PGHA_PYJSON_SCALAR)
		return strcmp(a->text, b->text) == 0;
	for (size_t i = 0; i < a->n; i++) {
		if (a->kind == PGHA_PYJSON_OBJECT && strcmp(a->keys[i], b->keys[i]) != 0)
			return false;
		if (!pgha_pyjson_equal(a->items[i], b->items[i]))
			return false;
	}
	return true;
}
