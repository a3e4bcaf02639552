/*
 * json.h: type-checked access to JSON documents (over cJSON).
 *
 * Peers change shapes between versions (Patroni 3.0 to 4.1, etcd 3.4 to
 * 3.5), so nothing here trusts one: every accessor says whether the key
 * was missing (PGHA_E_NOTFOUND) or of another type (PGHA_E_TYPE), and
 * leaves *out untouched then. 64-bit integers may arrive as JSON numbers
 * (exact up to 2^53) or, as etcd sends them, as strings of digits, which
 * are parsed exactly.
 *
 * Ownership: pgha_json_parse() returns a tree the caller frees with
 * cJSON_Delete(); every other function borrows from a tree, and returned
 * pointers live as long as it.
 */
#ifndef PGHA_JSON_H
#define PGHA_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

/* Parse len bytes of text. Returns 0 or PGHA_E_PROTOCOL with a message
 * (`invalid JSON at byte 12`), or PGHA_E_NOMEM. */
int pgha_json_parse(const char *text, size_t len, cJSON **out,
		    char *err, size_t errlen);

/* Member key of obj (NULL when obj is not an object or key is absent). */
const cJSON *pgha_json_get(const cJSON *obj, const char *key);

/* Typed members. Each returns 0, PGHA_E_NOTFOUND or PGHA_E_TYPE. */
int pgha_json_object(const cJSON *obj, const char *key, const cJSON **out);
int pgha_json_array(const cJSON *obj, const char *key, const cJSON **out);
int pgha_json_string(const cJSON *obj, const char *key, const char **out);
int pgha_json_bool(const cJSON *obj, const char *key, bool *out);
int pgha_json_double(const cJSON *obj, const char *key, double *out);

/* An integer: a JSON number with no fraction within +-2^53, or a string
 * holding only an optional '-' and digits that fits int64_t. "unknown",
 * "12abc", 1.5 and 2^60 as a number are PGHA_E_TYPE. */
int pgha_json_int64(const cJSON *obj, const char *key, int64_t *out);

/* The same for an unsigned 64-bit value (etcd member IDs exceed 2^63 is
 * impossible but exceed 2^53 often); a leading '-' is PGHA_E_TYPE. */
int pgha_json_uint64(const cJSON *obj, const char *key, uint64_t *out);

/* Value conversions used by the keyed accessors, for array items. */
int pgha_json_value_int64(const cJSON *item, int64_t *out);
int pgha_json_value_uint64(const cJSON *item, uint64_t *out);

/* True only when key is present and JSON true: Patroni omits false flags
 * such as "pause" and "pending_restart". */
bool pgha_json_flag(const cJSON *obj, const char *key);

#endif
