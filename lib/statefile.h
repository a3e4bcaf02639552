/*
 * statefile.h: small key=value state files kept between check runs.
 *
 * A check that compares with an earlier run (timeline, config hash)
 * records what it saw here. The file is text, one key=value per line,
 * '#' comments allowed, written atomically (a temporary file in the same
 * directory, fsync, rename) with mode 0600, so a reader never sees half a
 * file and a crash never leaves one.
 *
 * Keys are [A-Za-z0-9_.-]+, values any text without a newline. The
 * structure owns copies of all keys and values.
 */
#ifndef PGHA_STATEFILE_H
#define PGHA_STATEFILE_H

#include <stddef.h>

struct pgha_statefile {
	char **keys;
	char **values;
	size_t n, alloc;
};

void pgha_statefile_init(struct pgha_statefile *sf);

/* Read path. A missing file is PGHA_E_NOTFOUND with sf empty (a first
 * run); an unreadable or malformed one PGHA_E_IO / PGHA_E_INVALID with a
 * message naming the file (and line). */
int pgha_statefile_load(struct pgha_statefile *sf, const char *path,
			char *err, size_t errlen);

/* The value of key, or NULL. Borrowed until the next set or free. */
const char *pgha_statefile_get(const struct pgha_statefile *sf, const char *key);

/* Set (add or replace) key. PGHA_E_INVALID for a bad key or a value with a
 * newline; PGHA_E_NOMEM. */
int pgha_statefile_set(struct pgha_statefile *sf, const char *key, const char *value);

/* Write atomically with mode 0600. PGHA_E_IO with a message on failure
 * (the old file is then left as it was). */
int pgha_statefile_save(const struct pgha_statefile *sf, const char *path,
			char *err, size_t errlen);

void pgha_statefile_free(struct pgha_statefile *sf);

#endif
