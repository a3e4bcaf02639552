/*
 * pyjson.h: JSON read as Python's json.loads() and printed as json.dumps().
 *
 * check_patroni fingerprints Patroni's dynamic configuration as
 * md5(json.dumps(json.loads(body))); to give the same hash, the document
 * must be printed byte for byte as Python prints it, which a general JSON
 * library (cJSON, lib/json.h) does not do. This module keeps, for every
 * scalar, the exact text json.dumps() (default arguments) writes:
 *
 *   - strings escaped with ensure_ascii: \" \\ \n \r \t \b \f, other
 *     control and non-ASCII characters as \u00XX / \uXXXX, characters past
 *     U+FFFF as a surrogate pair; a lone surrogate escape is kept;
 *   - integers as written, of any size ("-0" becomes "0");
 *   - floats as Python's repr() of the nearest double ("1e+16", "1e-07",
 *     "-0.0", "5e-324");
 *   - true, false, null, and NaN, Infinity, -Infinity (Python reads and
 *     prints them);
 *   - objects in document order with ", " and ": " separators; a repeated
 *     key keeps its first position and its last value, as a dict does.
 *
 * Input must be UTF-8 (checked strictly). Nesting deeper than
 * PGHA_PYJSON_MAX_DEPTH is refused (Python's own limit is about 1000).
 * Only libc is used.
 */
#ifndef PGHA_PYJSON_H
#define PGHA_PYJSON_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

#define PGHA_PYJSON_MAX_DEPTH 500
/* Longest printed form of one string or number (PGHA_E_PROTOCOL past it). */
#define PGHA_PYJSON_MAX_TEXT (8u * 1024 * 1024)
/* Room for any pgha_pyjson_float_repr() result, NUL included. */
#define PGHA_PYJSON_REPR_LEN 32

enum pgha_pyjson_kind { PGHA_PYJSON_SCALAR, PGHA_PYJSON_ARRAY, PGHA_PYJSON_OBJECT };

/* A parsed value. Read the fields; change them only through this module.
 * A node owns its text, keys and items. */
struct pgha_pyjson {
	enum pgha_pyjson_kind kind;
	char *text;                 /* SCALAR: printed form ("\"a\"", "1.0", "null") */
	char **keys;                /* OBJECT: printed keys, quotes included */
	struct pgha_pyjson **items; /* ARRAY items, OBJECT values (keys[i]: items[i]) */
	size_t n;                   /* number of items (0 for a scalar) */
	size_t alloc;               /* private */
};

/* Parse a whole document of len bytes (white space around it allowed,
 * nothing else; text need not be NUL-terminated). On success *out is the
 * tree (caller frees with pgha_pyjson_free()). On failure *out is NULL and
 * err (errlen bytes; NULL/0 for none) gets a one-line reason: with
 * PGHA_E_PROTOCOL "invalid JSON at byte N: WHAT"; PGHA_E_NOMEM otherwise. */
int pgha_pyjson_parse(const char *text, size_t len, struct pgha_pyjson **out, char *err,
		      size_t errlen);

/* Free a tree; NULL is fine. */
void pgha_pyjson_free(struct pgha_pyjson *v);

/* Append v as json.dumps() prints it to b. PGHA_E_TOOBIG when b's cap is
 * reached (what fitted is kept), PGHA_E_NOMEM. */
int pgha_pyjson_dump(const struct pgha_pyjson *v, struct pgha_buf *b);

/* Do a and b print the same (same keys in the same order)? */
bool pgha_pyjson_equal(const struct pgha_pyjson *a, const struct pgha_pyjson *b);

/* A sorted index of an object's keys for pgha_pyjson_lookup(); caller
 * frees with pgha_pyjson_index_free(). NULL when the object is empty or
 * memory runs out (tell them apart by obj->n). It borrows obj's keys: free
 * it before obj. */
struct pgha_pyjson_index;
struct pgha_pyjson_index *pgha_pyjson_index_new(const struct pgha_pyjson *obj);
void pgha_pyjson_index_free(struct pgha_pyjson_index *idx);

/* The value of key (printed form, quotes included: "\"ttl\"") in obj,
 * through idx from pgha_pyjson_index_new(obj) (NULL for an empty object);
 * NULL when absent. Borrowed from obj. */
const struct pgha_pyjson *pgha_pyjson_lookup(const struct pgha_pyjson *obj,
					     const struct pgha_pyjson_index *idx,
					     const char *key);

/* Python's repr() of x, as json.dumps() prints floats: "0.1", "1.0",
 * "1e+16", "1e-05", "-0.0", "5e-324", "NaN", "Infinity", "-Infinity".
 * out gets outlen bytes (PGHA_PYJSON_REPR_LEN is always enough). */
void pgha_pyjson_float_repr(double x, char *out, size_t outlen);

#endif
