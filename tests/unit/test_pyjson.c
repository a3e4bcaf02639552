/*
 * test_pyjson.c: lib/pyjson.c, JSON read and printed as Python does.
 *
 * Every expected string is what CPython 3.11 printed for
 * json.dumps(json.loads(text)) (or repr(x) for a float), pinned here so
 * the test needs no Python.
 */
#include "tap.h"

#include "buf.h"
#include "error.h"
#include "md5.h"
#include "pyjson.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_LIMIT (1024u * 1024)

/* json.dumps(json.loads(text)) through the module, or NULL (with the
 * error code in *rc). Caller frees. */
static char *dumps(const char *text, size_t len, int *rc)
{
	struct pgha_pyjson *v;
	struct pgha_buf b;
	char err[200];
	*rc = pgha_pyjson_parse(text, len, &v, err, sizeof err);
	if (*rc)
		return NULL;
	pgha_buf_init(&b, DUMP_LIMIT);
	*rc = pgha_pyjson_dump(v, &b);
	pgha_pyjson_free(v);
	char *out = *rc ? NULL : pgha_buf_steal(&b);
	pgha_buf_free(&b);
	return out;
}

/* Documents and what Python prints for them: separators, key order,
 * repeated keys, \u escaping (surrogate pairs, lone surrogates), numbers,
 * NaN and Infinity. */
static const struct { const char *text, *want; } documents[] = {
	{ "{\"a\":1,\"b\":[1,2,{\"c\":null}]}",
	  "{\"a\": 1, \"b\": [1, 2, {\"c\": null}]}" },
	{ "  \t\n\r[ 1 ,\n 2 ]\r\n ",
	  "[1, 2]" },
	{ "[]",
	  "[]" },
	{ "{}",
	  "{}" },
	{ "[ ]",
	  "[]" },
	{ " { } ",
	  "{}" },
	{ "[[],{},[[]]]",
	  "[[], {}, [[]]]" },
	{ "\"x\"",
	  "\"x\"" },
	{ "1",
	  "1" },
	{ "true",
	  "true" },
	{ "false",
	  "false" },
	{ "null",
	  "null" },
	{ "{\"b\":1,\"a\":2,\"c\":3}",
	  "{\"b\": 1, \"a\": 2, \"c\": 3}" },
	{ "{\"z\":{\"y\":1,\"x\":2},\"a\":[3,{\"q\":1,\"p\":2}]}",
	  "{\"z\": {\"y\": 1, \"x\": 2}, \"a\": [3, {\"q\": 1, \"p\": 2}]}" },
	{ "{\"a\":1,\"b\":2,\"a\":3}",
	  "{\"a\": 3, \"b\": 2}" },
	{ "{\"a\":1,\"a\":2,\"a\":3}",
	  "{\"a\": 3}" },
	{ "{\"x\":1,\"a\":1,\"b\":2,\"a\":{\"z\":1},\"x\":5}",
	  "{\"x\": 5, \"a\": {\"z\": 1}, \"b\": 2}" },
	{ "{\"\\u0061\":1,\"a\":2}",
	  "{\"a\": 2}" },
	{ "[{\"k\":1,\"k\":2},{\"k\":3}]",
	  "[{\"k\": 2}, {\"k\": 3}]" },
	{ "{\"a\":{\"b\":1,\"b\":2},\"a\":{\"c\":3}}",
	  "{\"a\": {\"c\": 3}}" },
	{ "\"\\u00e9\"",
	  "\"\\u00e9\"" },
	{ "\"\xc3\xa9\"",
	  "\"\\u00e9\"" },
	{ "\"\xe2\x82\xac\"",
	  "\"\\u20ac\"" },
	{ "\"\xf0\x9f\x98\x80\"",
	  "\"\\ud83d\\ude00\"" },
	{ "\"\\ud83d\\ude00\"",
	  "\"\\ud83d\\ude00\"" },
	{ "\"\\uD83D\\uDE00\"",
	  "\"\\ud83d\\ude00\"" },
	{ "\"\\ud800\"",
	  "\"\\ud800\"" },
	{ "\"\\udc00x\"",
	  "\"\\udc00x\"" },
	{ "\"\\ud800\\u0041\"",
	  "\"\\ud800A\"" },
	{ "\"\\ud800\\ud800\\udc00\"",
	  "\"\\ud800\\ud800\\udc00\"" },
	{ "\"\\ude00\\ud83d\"",
	  "\"\\ude00\\ud83d\"" },
	{ "\"\\u0000\\u0001\\u001f\\u007f\"",
	  "\"\\u0000\\u0001\\u001f\\u007f\"" },
	{ "\"\x7f\xc2\x80\xdf\xbf\xef\xbf\xbf\"",
	  "\"\\u007f\\u0080\\u07ff\\uffff\"" },
	{ "\"\\b\\f\\n\\r\\t\\/\\\"\\\\\"",
	  "\"\\b\\f\\n\\r\\t/\\\"\\\\\"" },
	{ "\"a/b'c\"",
	  "\"a/b'c\"" },
	{ "{\"\xc3\xa9\":\"\xc3\xbc\",\"\\u00e9x\":1}",
	  "{\"\\u00e9\": \"\\u00fc\", \"\\u00e9x\": 1}" },
	{ "[0.1, 1e16, 1e-7, 5e-324, -0.0, 0.0, -0, 0, -12, 1.0, 100.0]",
	  "[0.1, 1e+16, 1e-07, 5e-324, -0.0, 0.0, 0, 0, -12, 1.0, 100.0]" },
	{ "[1E2, 1e+2, 1e-2, 1.5E-3, -1.5E+3, -0e0, 0e0, 0.0001, 0.00001, 1e-4, 1234.5e-2]",
	  "[100.0, 100.0, 0.01, 0.0015, -1500.0, -0.0, 0.0, 0.0001, 1e-05, 0.0001, 12.345]" },
	{ "[1e15, 1e16, 123456789012345678.0, 9007199254740993.0, 0.30000000000000004]",
	  "[1000000000000000.0, 1e+16, 1.2345678901234568e+17, 9007199254740992.0, "
	  "0.30000000000000004]" },
	{ "[1.7976931348623157e308, 2.2250738585072014e-308, 4.9e-324, 1e-400, 1E400, -1e400]",
	  "[1.7976931348623157e+308, 2.2250738585072014e-308, 5e-324, 0.0, Infinity, -Infinity]" },
	{ "[123456789012345678901234567890, -98765432109876543210, 18446744073709551616]",
	  "[123456789012345678901234567890, -98765432109876543210, 18446744073709551616]" },
	{ "[2.5, 3.14159, 1.1, 2.675, 1e22, 1e23, 5e-5, 0.5e-323]",
	  "[2.5, 3.14159, 1.1, 2.675, 1e+22, 1e+23, 5e-05, 5e-324]" },
	{ "[NaN, Infinity, -Infinity]",
	  "[NaN, Infinity, -Infinity]" },
	{ "{\"n\":NaN}",
	  "{\"n\": NaN}" },
	{ "Infinity",
	  "Infinity" },
	{ "-Infinity",
	  "-Infinity" },
};

static void test_documents(void)
{
	for (size_t i = 0; i < sizeof documents / sizeof documents[0]; i++) {
		int rc;
		char *got = dumps(documents[i].text, strlen(documents[i].text), &rc);
		is_str(got, documents[i].want, "dumps(loads(%s))", documents[i].want);
		if (rc)
			printf("#   error %d\n", rc);
		free(got);
	}
}

/* The length given is the length read: no NUL needed, nothing after it
 * looked at. */
static void test_length(void)
{
	int rc;
	char *got = dumps("[1, \"a\"]garbage", 8, &rc);
	is_str(got, "[1, \"a\"]", "reads only len bytes");
	free(got);
	got = dumps("\"a\0b\"", 5, &rc);
	ok(!got && rc == PGHA_E_PROTOCOL, "a raw NUL in a string is a control character");
	free(got);
	got = dumps("", 0, &rc);
	ok(!got && rc == PGHA_E_PROTOCOL, "an empty document is an error");
	free(got);
}

/* Documents Python refuses (json.JSONDecodeError or UnicodeDecodeError),
 * with pgha's message. */
static const struct { const char *text; const char *err; } malformed[] = {
	{ "   ", "invalid JSON at byte 3: unexpected end" },
	{ "[1,]", "invalid JSON at byte 3: expected a value" },
	{ "{\"a\" 1}", "invalid JSON at byte 5: expected ':'" },
	{ "{\"a\":1,}", "invalid JSON at byte 7: expected a key" },
	{ "[1 2]", "invalid JSON at byte 3: expected ',' or ']'" },
	{ "{\"a\":1 \"b\":2}", "invalid JSON at byte 7: expected ',' or '}'" },
	{ "\"abc", "invalid JSON at byte 4: unterminated string" },
	{ "\"\\", "invalid JSON at byte 1: unterminated string" },
	{ "\"a\nb\"", "invalid JSON at byte 2: control character in a string" },
	{ "\"\\x\"", "invalid JSON at byte 1: invalid escape" },
	{ "\"\\u12\"", "invalid JSON at byte 1: invalid \\u escape" },
	{ "\"\\u12g4\"", "invalid JSON at byte 1: invalid \\u escape" },
	{ "\"\xff\"", "invalid JSON at byte 1: not UTF-8" },
	{ "\"\x80\"", "invalid JSON at byte 1: not UTF-8" },
	{ "\"\xc0\xaf\"", "invalid JSON at byte 1: not UTF-8" },         /* overlong */
	{ "\"\xed\xa0\x80\"", "invalid JSON at byte 1: not UTF-8" },     /* a surrogate */
	{ "\"\xe2\x82\"", "invalid JSON at byte 1: not UTF-8" },         /* cut short */
	{ "\"\xf4\x90\x80\x80\"", "invalid JSON at byte 1: not UTF-8" }, /* > U+10FFFF */
	{ "\xef\xbb\xbf[]", "invalid JSON at byte 0: expected a value" }, /* a BOM */
	{ "[1] x", "invalid JSON at byte 4: extra data after the document" },
	{ "01", "invalid JSON at byte 1: extra data after the document" },
	{ "1.", "invalid JSON at byte 1: extra data after the document" },
	{ "1e", "invalid JSON at byte 1: extra data after the document" },
	{ ".5", "invalid JSON at byte 0: expected a value" },
	{ "-", "invalid JSON at byte 1: expected a value" },
	{ "+1", "invalid JSON at byte 0: expected a value" },
	{ "tru", "invalid JSON at byte 0: expected a value" },
	{ "nan", "invalid JSON at byte 0: expected a value" },
	{ "-NaN", "invalid JSON at byte 1: expected a value" },
	{ "{1:2}", "invalid JSON at byte 1: expected a key" },
	{ "{'a':1}", "invalid JSON at byte 1: expected a key" },
	{ "[", "invalid JSON at byte 1: unexpected end" },
	{ "{\"a\":", "invalid JSON at byte 5: unexpected end" },
	{ "[1,2", "invalid JSON at byte 4: expected ',' or ']'" },
};

static void test_malformed(void)
{
	for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		static struct pgha_pyjson sentinel;
		struct pgha_pyjson *v = &sentinel; /* must come back NULL */
		char err[200] = "";
		int rc = pgha_pyjson_parse(malformed[i].text, strlen(malformed[i].text), &v, err,
					   sizeof err);
		ok(rc == PGHA_E_PROTOCOL && v == NULL, "malformed #%zu refused", i);
		is_str(err, malformed[i].err, "malformed #%zu: message", i);
	}
	struct pgha_pyjson *v;
	ok(pgha_pyjson_parse("[1,", 3, &v, NULL, 0) == PGHA_E_PROTOCOL && !v,
	   "no room for a message is fine");
	char small[12];
	ok(pgha_pyjson_parse("[1,", 3, &v, small, sizeof small) == PGHA_E_PROTOCOL,
	   "a short message buffer is fine");
	is_str(small, "invalid JSO", "the message is cut to fit");
}

/* PGHA_PYJSON_MAX_DEPTH levels are read; one more is refused (Python
 * itself goes to about 1000). */
static void test_depth(void)
{
	size_t n = PGHA_PYJSON_MAX_DEPTH + 1;
	char *text = malloc(2 * n + 1);
	char err[200] = "";
	struct pgha_pyjson *v;
	if (!text)
		exit(2);
	memset(text, '[', n);
	memset(text + n, ']', n);
	text[2 * n] = '\0';
	int rc;
	char *got = dumps(text + 1, 2 * n - 2, &rc);
	ok(got && strncmp(got, text + 1, 2 * n - 2) == 0, "%d levels read", PGHA_PYJSON_MAX_DEPTH);
	free(got);
	rc = pgha_pyjson_parse(text, 2 * n, &v, err, sizeof err);
	ok(rc == PGHA_E_PROTOCOL && !v, "%zu levels refused", n);
	like(err, "nested too deep", "says why");
	free(text);
}

/* Python's repr() of doubles; each also goes through a document. */
static const struct { double x; const char *repr; } floats[] = {
	{ 0x1.999999999999ap-4, "0.1" },
	{ 0x1.1c37937e08000p+53, "1e+16" },
	{ 0x1.ad7f29abcaf48p-24, "1e-07" },
	{ 0x0.0000000000001p-1022, "5e-324" },
	{ -0x0.0p+0, "-0.0" },
	{ 0x0.0p+0, "0.0" },
	{ 0x1.0000000000000p+0, "1.0" },
	{ -0x1.8000000000000p+0, "-1.5" },
	{ 0x1.c6bf526340000p+49, "1000000000000000.0" },
	{ 0x1.a36e2eb1c432dp-14, "0.0001" },
	{ 0x1.4f8b588e368f1p-17, "1e-05" },
	{ 0x1.edd2f1a9fbe77p+6, "123.456" },
	{ 0x1.5555555555555p-2, "0.3333333333333333" },
	{ 0x1.5555555555555p-1, "0.6666666666666666" },
	{ 0x1.0f0cf064dd592p+73, "1e+22" },
	{ 0x1.52d02c7e14af6p+76, "1e+23" },
	{ 0x1.0000000000000p+53, "9007199254740992.0" },
	{ 0x1.0000000000001p+53, "9007199254740994.0" },
	{ 0x1.0000000000000p-1022, "2.2250738585072014e-308" },
	{ 0x0.0000000000003p-1022, "1.5e-323" },
	{ 0x1.fffffffffffffp+1023, "1.7976931348623157e+308" },
	{ 0x1.0000000000000p-44, "5.684341886080802e-14" },
	{ 0x1.0000000000000p+60, "1.152921504606847e+18" },
	{ 0x1.0000000000000p-20, "9.5367431640625e-07" },
	{ 0x1.3333333333333p-2, "0.3" },
	{ 0x1.6ce789e774eecp-15, "4.35e-05" },
	{ 0x1.a36e2eb1c432dp-15, "5e-05" },
	{ 0x1.18b54f22aeb03p+50, "1234567890123456.8" },
	{ 0x1.5ee2a2eb5a5c4p+53, "1.2345678901234568e+16" },
	{ 0x1.01f31f46ed246p-13, "0.000123" },
	{ 0x1.9000000000000p+6, "100.0" },
	{ 0x1.249ad2594c37dp+332, "1e+100" },
	{ 0x1.49da7e361ce4cp-33, "1.5e-10" },
	{ 0x1.0000000000000p-1017, "7.120236347223045e-307" },
	{ 0x1.0000000000000p-791, "7.678447687145631e-239" },
};

static void test_float_repr(void)
{
	char out[PGHA_PYJSON_REPR_LEN], num[40], text[64];
	for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
		pgha_pyjson_float_repr(floats[i].x, out, sizeof out);
		is_str(out, floats[i].repr, "repr(%a)", floats[i].x);
		/* %.17g reads back as the same double */
		snprintf(num, sizeof num, "%.17g", floats[i].x);
		snprintf(text, sizeof text, "%s%s", num,
			 strpbrk(num, ".e") ? "" : ".0"); /* a float, not an int */
		int rc;
		char *got = dumps(text, strlen(text), &rc);
		is_str(got, floats[i].repr, "dumps(loads(\"%s\"))", text);
		free(got);
	}
	pgha_pyjson_float_repr(NAN, out, sizeof out);
	is_str(out, "NaN", "repr(nan) as json.dumps prints it");
	pgha_pyjson_float_repr(INFINITY, out, sizeof out);
	is_str(out, "Infinity", "repr(inf)");
	pgha_pyjson_float_repr(-INFINITY, out, sizeof out);
	is_str(out, "-Infinity", "repr(-inf)");
	pgha_pyjson_float_repr(-0x1p-1022, out, sizeof out);
	is_str(out, "-2.2250738585072014e-308", "a long one fits PGHA_PYJSON_REPR_LEN");
}

/* The tree: kinds, keys as printed, values; equality; lookups. */
static void test_tree(void)
{
	struct pgha_pyjson *a, *b, *c, *e;
	char err[200];
	static const char doc[] = "{\"b\": 1, \"a\": [2.50, \"x\"], \"c\": {}}";
	int rc = pgha_pyjson_parse(doc, strlen(doc), &a, err, sizeof err);
	ok(rc == 0 && a->kind == PGHA_PYJSON_OBJECT && a->n == 3, "an object of three keys");
	if (rc)
		exit(1);
	is_str(a->keys[0], "\"b\"", "keys keep their quotes, in document order");
	is_str(a->keys[1], "\"a\"", "second key");
	ok(a->items[0]->kind == PGHA_PYJSON_SCALAR, "a scalar");
	is_str(a->items[0]->text, "1", "its printed form");
	ok(a->items[1]->kind == PGHA_PYJSON_ARRAY && a->items[1]->n == 2, "an array");
	is_str(a->items[1]->items[0]->text, "2.5", "floats printed as repr()");
	is_str(a->items[1]->items[1]->text, "\"x\"", "strings printed with quotes");

	struct pgha_pyjson_index *idx = pgha_pyjson_index_new(a);
	ok(idx != NULL, "an index");
	const struct pgha_pyjson *got = pgha_pyjson_lookup(a, idx, "\"a\"");
	ok(got == a->items[1], "lookup by printed key");
	ok(pgha_pyjson_lookup(a, idx, "\"c\"") == a->items[2], "lookup of the last key");
	ok(pgha_pyjson_lookup(a, idx, "a") == NULL, "a key without quotes is not found");
	ok(pgha_pyjson_lookup(a, idx, "\"zz\"") == NULL, "an absent key is not found");
	pgha_pyjson_index_free(idx);
	ok(pgha_pyjson_index_new(a->items[2]) == NULL, "an empty object has no index");
	ok(pgha_pyjson_lookup(a->items[2], NULL, "\"a\"") == NULL, "lookup in it finds nothing");
	pgha_pyjson_index_free(NULL);

	static const char same[] = "{\"b\":1,\"a\":[2.5,\"\\u0078\"],\"c\":{}}";
	static const char order[] = "{\"a\":[2.5,\"x\"],\"b\":1,\"c\":{}}";
	static const char other[] = "{\"b\":1.0,\"a\":[2.5,\"x\"],\"c\":{}}";
	rc = pgha_pyjson_parse(same, strlen(same), &b, err, sizeof err);
	ok(rc == 0 && pgha_pyjson_equal(a, b), "equal when printed the same");
	rc = pgha_pyjson_parse(order, strlen(order), &c, err, sizeof err);
	ok(rc == 0 && !pgha_pyjson_equal(a, c), "another key order is not equal");
	rc = pgha_pyjson_parse(other, strlen(other), &e, err, sizeof err);
	ok(rc == 0 && !pgha_pyjson_equal(a, e), "1 and 1.0 are not equal");
	ok(!pgha_pyjson_equal(a->items[2], a->items[1]), "an object is not an array");

	struct pgha_buf out;
	pgha_buf_init(&out, 10);
	is_int(pgha_pyjson_dump(a, &out), PGHA_E_TOOBIG, "dump past the buffer's cap");
	is_str(pgha_buf_str(&out), "{\"b\": 1, \"", "what fitted is kept");
	pgha_buf_free(&out);

	pgha_pyjson_free(a);
	pgha_pyjson_free(b);
	pgha_pyjson_free(c);
	pgha_pyjson_free(e);
	pgha_pyjson_free(NULL);
}

/* check_patroni's fingerprint, md5(json.dumps(config)), from hashlib. */
static void test_config_hash(void)
{
	static const char config[] =
		"{\"loop_wait\":10,\"postgresql\":{\"parameters\":{\"max_connections\":100,"
		"\"work_mem\":\"4MB\",\"wal_level\":\"replica\"},\"use_pg_rewind\":true},"
		"\"retry_timeout\":10,\"ttl\":30,\"maximum_lag_on_failover\":1048576,"
		"\"synchronous_mode\":false,\"note\":\"caf\xc3\xa9 \xe2\x98\x83\"}";
	char hex[PGHA_MD5_HEX_LEN];
	int rc;
	char *got = dumps(config, sizeof config - 1, &rc);
	is_str(got, "{\"loop_wait\": 10, \"postgresql\": {\"parameters\": {\"max_connections\": "
	       "100, \"work_mem\": \"4MB\", \"wal_level\": \"replica\"}, \"use_pg_rewind\": "
	       "true}, \"retry_timeout\": 10, \"ttl\": 30, \"maximum_lag_on_failover\": 1048576, "
	       "\"synchronous_mode\": false, \"note\": \"caf\\u00e9 \\u2603\"}",
	       "a Patroni configuration printed as json.dumps");
	pgha_md5_hex(got ? got : "", got ? strlen(got) : 0, hex);
	is_str(hex, "902b0c4ad150c53442ac577a7694bd28", "its hash is check_patroni's");
	free(got);
}

int main(void)
{
	test_documents();
	test_length();
	test_malformed();
	test_depth();
	test_float_repr();
	test_tree();
	test_config_hash();
	return done_testing();
}
