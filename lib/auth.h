/*
 * auth.h: credentials for the Patroni REST API and etcd, from a file.
 *
 * Secrets never come from the command line. The file holds key=value
 * lines; blank lines and lines starting with '#' are ignored:
 *
 *   username=pgha
 *   password=s3cret
 *
 * The file must not be readable or writable by group or others (like
 * .pgpass); otherwise loading fails with a message saying so. Values are
 * taken verbatim after the first '=' up to the end of the line (a trailing
 * '\r' is dropped). The password is wiped from memory when freed.
 */
#ifndef PGHA_AUTH_H
#define PGHA_AUTH_H

#include <stddef.h>

struct pgha_credentials {
	char *username; /* NULL when not given */
	char *password; /* NULL when not given */
};

/* Load path into c (which is overwritten, not freed first). Returns 0,
 * PGHA_E_IO (cannot open/read: message with strerror), PGHA_E_AUTH (mode
 * too open, or a line that is not key=value, or an unknown key), or
 * PGHA_E_NOMEM. On error c holds nothing and err holds one line such as
 * `credentials file "/x" is readable by others: chmod 600 it`. */
int pgha_credentials_load(const char *path, struct pgha_credentials *c,
			  char *err, size_t errlen);

/* Wipe and free; c is left empty. NULL-safe fields. */
void pgha_credentials_free(struct pgha_credentials *c);

#endif
