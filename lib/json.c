/* json.c: shape-checked JSON access (see json.h). */
#include "json.h"
#include "error.h"

#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define EXACT_DOUBLE_LIMIT 9007199254740992.0 /* 2^53 */

int pgha_json_parse(const char *text, size_t len, cJSON **out,
		    char *err, size_t errlen)
{
	/* cJSON records the position of the last error in a static variable:
	 * parses in several threads (lib/fanout users) must not race on it */
	static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;
	const char *end = NULL;
	pthread_mutex_lock(&parse_lock);
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	pthread_mutex_unlock(&parse_lock);
	if (!root) {
		size_t at = end && end >= text ? (size_t)(end - text) : 0;
		if (len == 0)
			snprintf(err, errlen, "empty JSON document");
		else
			snprintf(err, errlen, "invalid JSON at byte %zu", at);
		return PGHA_E_PROTOCOL;
	}
	/* cJSON stops after the first value: anything but white space after
	 * it makes the document invalid */
	while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end != text + len) {
		snprintf(err, errlen, "invalid JSON at byte %zu: data after the document",
			 (size_t)(end - text));
		cJSON_Delete(root);
		return PGHA_E_PROTOCOL;
	}
	*out = root;
	return 0;
}

const cJSON *pgha_json_get(const cJSON *obj, const char *key)
{
	if (!cJSON_IsObject(obj))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* Look up key and check its type with pred. */
static int typed(const cJSON *obj, const char *key, cJSON_bool (*pred)(const cJSON *),
		 const cJSON **item)
{
	const cJSON *it = pgha_json_get(obj, key);
	if (!it)
		return PGHA_E_NOTFOUND;
	if (!pred(it))
		return PGHA_E_TYPE;
	*item = it;
	return 0;
}

int pgha_json_object(const cJSON *obj, const char *key, const cJSON **out)
{
	return typed(obj, key, cJSON_IsObject, out);
}

int pgha_json_array(const cJSON *obj, const char *key, const cJSON **out)
{
	return typed(obj, key, cJSON_IsArray, out);
}

int pgha_json_string(const cJSON *obj, const char *key, const char **out)
{
	const cJSON *it;
	int rc = typed(obj, key, cJSON_IsString, &it);
	if (rc == 0)
		*out = it->valuestring;
	return rc;
}

int pgha_json_bool(const cJSON *obj, const char *key, bool *out)
{
	const cJSON *it;
	int rc = typed(obj, key, cJSON_IsBool, &it);
	if (rc == 0)
		*out = cJSON_IsTrue(it);
	return rc;
}

int pgha_json_double(const cJSON *obj, const char *key, double *out)
{
	const cJSON *it;
	int rc = typed(obj, key, cJSON_IsNumber, &it);
	if (rc == 0)
		*out = it->valuedouble;
	return rc;
}

/* Parse a string of digits (with an optional '-' when allow_minus) exactly.
 * Returns 0 or PGHA_E_TYPE. */
static int digits(const char *s, bool allow_minus, bool *negative, uint64_t *magnitude)
{
	*negative = false;
	if (*s == '-') {
		if (!allow_minus)
			return PGHA_E_TYPE;
		*negative = true;
		s++;
	}
	if (*s < '0' || *s > '9')
		return PGHA_E_TYPE;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return PGHA_E_TYPE;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return PGHA_E_TYPE;
		v = v * 10 + d;
	}
	*magnitude = v;
	return 0;
}

/* A JSON number that holds an integer exactly representable in a double. */
static int exact_number(const cJSON *item, double *out)
{
	double v = item->valuedouble;
	if (!isfinite(v) || v != floor(v) || fabs(v) > EXACT_DOUBLE_LIMIT)
		return PGHA_E_TYPE;
	*out = v;
	return 0;
}

int pgha_json_value_int64(const cJSON *item, int64_t *out)
{
	if (cJSON_IsNumber(item)) {
		double v;
		if (exact_number(item, &v))
			return PGHA_E_TYPE;
		*out = (int64_t)v;
		return 0;
	}
	if (cJSON_IsString(item)) {
		bool negative;
		uint64_t m;
		if (digits(item->valuestring, true, &negative, &m))
			return PGHA_E_TYPE;
		if (negative) {
			if (m > (uint64_t)INT64_MAX + 1)
				return PGHA_E_TYPE;
			*out = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
		} else {
			if (m > (uint64_t)INT64_MAX)
				return PGHA_E_TYPE;
			*out = (int64_t)m;
		}
		return 0;
	}
	return PGHA_E_TYPE;
}

int pgha_json_value_uint64(const cJSON *item, uint64_t *out)
{
	if (cJSON_IsNumber(item)) {
		double v;
		if (exact_number(item, &v) || v < 0)
			return PGHA_E_TYPE;
		*out = (uint64_t)v;
		return 0;
	}
	if (cJSON_IsString(item)) {
		bool negative;
		uint64_t m;
		if (digits(item->valuestring, false, &negative, &m))
			return PGHA_E_TYPE;
		*out = m;
		return 0;
	}
	return PGHA_E_TYPE;
}

int pgha_json_int64(const cJSON *obj, const char *key, int64_t *out)
{
	const cJSON *it = pgha_json_get(obj, key);
	if (!it)
		return PGHA_E_NOTFOUND;
	return pgha_json_value_int64(it, out);
}

int pgha_json_uint64(const cJSON *obj, const char *key, uint64_t *out)
{
	const cJSON *it = pgha_json_get(obj, key);
	if (!it)
		return PGHA_E_NOTFOUND;
	return pgha_json_value_uint64(it, out);
}

bool pgha_json_flag(const cJSON *obj, const char *key)
{
	return cJSON_IsTrue(pgha_json_get(obj, key));
}
