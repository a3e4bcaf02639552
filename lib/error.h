/*
 * error.h: the error codes every libpgha function returns.
 *
 * Functions return 0 on success or a negative PGHA_E_* code; results come
 * back through out parameters. Only a program's main() decides what an
 * error means as a plugin state.
 */
#ifndef PGHA_ERROR_H
#define PGHA_ERROR_H

#include <stddef.h>

enum pgha_error {
	PGHA_E_OK = 0,
	PGHA_E_NOMEM = -1,       /* allocation failed */
	PGHA_E_INVALID = -2,     /* bad input from the user or a caller */
	PGHA_E_TOOBIG = -3,      /* a capped buffer or response overflowed */
	PGHA_E_IO = -4,          /* a file could not be read or written */
	PGHA_E_UNREACHABLE = -5, /* no endpoint could be connected to */
	PGHA_E_TIMEOUT = -6,     /* the deadline passed */
	PGHA_E_PROTOCOL = -7,    /* a peer answered something we cannot use */
	PGHA_E_NOTFOUND = -8,    /* a key, file or row is absent */
	PGHA_E_TYPE = -9,        /* present, but of the wrong type */
	PGHA_E_QUERY = -10,      /* a SQL statement failed */
	PGHA_E_AUTH = -11        /* credentials refused or unusable */
};

/* Write a one-line message into err (errlen bytes) when the caller gave
 * room for one; NULL or 0 is fine. */
void pgha_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A short lower-case description of an error code; never NULL. */
const char *pgha_strerror(int err);

#endif
