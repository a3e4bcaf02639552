/* test_json.c: shape-checked JSON access (lib/json.c). */
#include "tap.h"

#include "error.h"
#include "json.h"

#include <stdlib.h>

static cJSON *parse(const char *text)
{
	cJSON *root = NULL;
	char err[128];
	if (pgha_json_parse(text, strlen(text), &root, err, sizeof err))
		return NULL;
	return root;
}

int main(void)
{
	char err[128] = "";
	cJSON *root = NULL;

	is_int(pgha_json_parse("{\"a\":", 5, &root, err, sizeof err), PGHA_E_PROTOCOL,
	       "truncated JSON refused");
	like(err, "invalid JSON at byte", "with the byte offset");
	is_int(pgha_json_parse("", 0, &root, err, sizeof err), PGHA_E_PROTOCOL, "empty refused");
	is_str(err, "empty JSON document", "empty explained");
	is_int(pgha_json_parse("{} trailing", 11, &root, err, sizeof err), PGHA_E_PROTOCOL,
	       "trailing garbage refused");

	root = parse("{\"s\":\"text\",\"n\":42,\"f\":1.5,\"t\":true,\"no\":false,"
		     "\"lag\":\"unknown\",\"big\":\"9223372036854775807\","
		     "\"id\":\"17800000000000000001\",\"neg\":\"-42\","
		     "\"huge\":1e300,\"o\":{\"x\":1},\"a\":[1,\"2\"],\"nul\":null,"
		     "\"p53\":9007199254740992,\"p60\":1152921504606846976,"
		     "\"over\":\"9223372036854775808\",\"junk\":\"12abc\",\"empty\":\"\"}");
	ok(root != NULL, "document parses");

	const char *s = NULL;
	int64_t i = 0;
	uint64_t u = 0;
	double d = 0;
	bool b = false;
	const cJSON *o = NULL;

	is_int(pgha_json_string(root, "s", &s), 0, "string");
	is_str(s, "text", "string value");
	is_int(pgha_json_string(root, "missing", &s), PGHA_E_NOTFOUND, "missing string: NOTFOUND");
	is_str(s, "text", "out untouched when missing");
	is_int(pgha_json_string(root, "n", &s), PGHA_E_TYPE, "number as string: TYPE");
	is_int(pgha_json_string(root, "nul", &s), PGHA_E_TYPE, "null as string: TYPE");

	is_int(pgha_json_int64(root, "n", &i), 0, "int from number");
	is_int(i, 42, "int value");
	is_int(pgha_json_int64(root, "f", &i), PGHA_E_TYPE, "1.5 is not an integer");
	is_int(pgha_json_int64(root, "lag", &i), PGHA_E_TYPE, "lag \"unknown\" is TYPE, not 0");
	is_int(i, 42, "out untouched on TYPE");
	is_int(pgha_json_int64(root, "big", &i), 0, "INT64_MAX as string");
	ok(i == INT64_MAX, "parsed exactly");
	is_int(pgha_json_int64(root, "neg", &i), 0, "negative string");
	is_int(i, -42, "negative value");
	is_int(pgha_json_int64(root, "over", &i), PGHA_E_TYPE, "INT64_MAX+1 refused");
	is_int(pgha_json_int64(root, "junk", &i), PGHA_E_TYPE, "\"12abc\" refused");
	is_int(pgha_json_int64(root, "empty", &i), PGHA_E_TYPE, "\"\" refused");
	is_int(pgha_json_int64(root, "huge", &i), PGHA_E_TYPE, "1e300 refused");
	is_int(pgha_json_int64(root, "p53", &i), 0, "2^53 as a number accepted");
	ok(i == 9007199254740992LL, "2^53 exact");
	is_int(pgha_json_int64(root, "p60", &i), PGHA_E_TYPE, "2^60 as a number is not exact: refused");
	is_int(pgha_json_int64(root, "t", &i), PGHA_E_TYPE, "bool as int refused");
	is_int(pgha_json_int64(root, "nope", &i), PGHA_E_NOTFOUND, "missing int");

	is_int(pgha_json_uint64(root, "id", &u), 0, "etcd member id above 2^63 as string");
	ok(u == 17800000000000000001ULL, "member id exact");
	is_int(pgha_json_uint64(root, "neg", &u), PGHA_E_TYPE, "negative uint refused");

	is_int(pgha_json_double(root, "f", &d), 0, "double");
	ok(d == 1.5, "double value");
	is_int(pgha_json_double(root, "s", &d), PGHA_E_TYPE, "string as double refused");

	is_int(pgha_json_bool(root, "t", &b), 0, "bool");
	ok(b, "bool true");
	is_int(pgha_json_bool(root, "n", &b), PGHA_E_TYPE, "number as bool refused");
	ok(pgha_json_flag(root, "t"), "flag true");
	ok(!pgha_json_flag(root, "no"), "flag false");
	ok(!pgha_json_flag(root, "absent"), "absent flag is false");
	ok(!pgha_json_flag(root, "s"), "non-bool flag is false");

	is_int(pgha_json_object(root, "o", &o), 0, "object");
	is_int(pgha_json_int64(o, "x", &i), 0, "nested member");
	is_int(pgha_json_object(root, "a", &o), PGHA_E_TYPE, "array as object refused");
	is_int(pgha_json_array(root, "a", &o), 0, "array");
	is_int(pgha_json_value_int64(cJSON_GetArrayItem(o, 1), &i), 0, "array item string int");
	is_int(i, 2, "array item value");
	ok(pgha_json_get(o, "x") == NULL, "get on an array is NULL");
	ok(pgha_json_get(NULL, "x") == NULL, "get on NULL is NULL");
	is_int(pgha_json_int64(NULL, "x", &i), PGHA_E_NOTFOUND, "accessor on NULL: NOTFOUND");

	cJSON_Delete(root);

	root = parse("[1,2]");
	is_int(pgha_json_string(root, "a", &s), PGHA_E_NOTFOUND, "key on an array: NOTFOUND");
	cJSON_Delete(root);
	return done_testing();
}
