/*
 * auth.c: credentials for the Patroni REST API and etcd (see auth.h).
 *
 * The file is opened once and checked through its descriptor (fstat), so
 * the file checked is the file read: it must be a regular file with no
 * group or other permission bits, like .pgpass. It is read whole into one
 * fixed-size buffer (credentials files are tiny; past CRED_MAX_SIZE bytes
 * it is refused), parsed in place, and the buffer is wiped before it is
 * freed, so no copy of the password is left behind in freed memory.
 *
 * Error messages name the file and the line number, never a value: a
 * password must not reach a monitoring system's output.
 */
#define _POSIX_C_SOURCE 200809L
#include "auth.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CRED_MAX_SIZE 8192

/* Overwrite n bytes at p with zeroes in a way the compiler may not drop
 * as a dead store (the memory is freed right after). */
static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

/* Wipe and free a NUL-terminated string; NULL-safe. */
static void free_secret(char *s)
{
	if (s) {
		wipe(s, strlen(s));
		free(s);
	}
}

/* A copy of n bytes at p as a string, or NULL when out of memory. */
static char *dup_n(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* Whether key is a short plain identifier that may be echoed in a
 * message (anything else could be a misplaced secret). */
static bool printable_key(const char *key, size_t n)
{
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = key[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* Read all of fd into a new buffer of CRED_MAX_SIZE + 1 bytes, NUL-
 * terminated. On success *out owns the buffer (wipe before free) and
 * *len is the number of bytes read. Returns 0, PGHA_E_IO (errno set),
 * PGHA_E_TOOBIG or PGHA_E_NOMEM. */
static int read_all(int fd, char **out, size_t *len)
{
	char *buf = malloc(CRED_MAX_SIZE + 1);
	size_t n = 0;

	if (!buf)
		return PGHA_E_NOMEM;
	for (;;) {
		ssize_t r = read(fd, buf + n, CRED_MAX_SIZE + 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			wipe(buf, n);
			free(buf);
			errno = saved;
			return PGHA_E_IO;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > CRED_MAX_SIZE) {
			wipe(buf, n);
			free(buf);
			return PGHA_E_TOOBIG;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Parse the key=value lines of text (len bytes) into c, which starts
 * empty. On error returns PGHA_E_AUTH or PGHA_E_NOMEM with a message in
 * err; c may then hold values, which the caller frees. */
static int parse(const char *path, const char *text, size_t len,
		 struct pgha_credentials *c, char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	unsigned lineno = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		lineno++;

		if (n > 0 && p[n - 1] == '\r')
			n--;
		const char *line_end = p + n;
		if (memchr(p, '\0', n)) {
			pgha_errf(err, errlen,
				"credentials file \"%s\" line %u: contains a NUL byte",
				path, lineno);
			return PGHA_E_AUTH;
		}

		const char *s = p;
		while (s < line_end && (*s == ' ' || *s == '\t'))
			s++;
		if (s == line_end || *s == '#') {
			p = next;
			continue;
		}

		const char *eq = memchr(s, '=', (size_t)(line_end - s));
		if (!eq) {
			pgha_errf(err, errlen,
				"credentials file \"%s\" line %u: expected key=value",
				path, lineno);
			return PGHA_E_AUTH;
		}
		const char *kend = eq;
		while (kend > s && (kend[-1] == ' ' || kend[-1] == '\t'))
			kend--;
		size_t klen = (size_t)(kend - s);

		char **slot = NULL;
		const char *name = NULL;
		if ((klen == 8 && memcmp(s, "username", 8) == 0) ||
		    (klen == 4 && memcmp(s, "user", 4) == 0)) {
			slot = &c->username;
			name = "username";
		} else if (klen == 8 && memcmp(s, "password", 8) == 0) {
			slot = &c->password;
			name = "password";
		}
		if (!slot) {
			if (printable_key(s, klen))
				pgha_errf(err, errlen,
					"credentials file \"%s\" line %u: unknown key \"%.*s\" (expected username or password)",
					path, lineno, (int)klen, s);
			else
				pgha_errf(err, errlen,
					"credentials file \"%s\" line %u: unknown key (expected username or password)",
					path, lineno);
			return PGHA_E_AUTH;
		}
		if (*slot) {
			pgha_errf(err, errlen,
				"credentials file \"%s\" line %u: %s given twice",
				path, lineno, name);
			return PGHA_E_AUTH;
		}
		*slot = dup_n(eq + 1, (size_t)(line_end - (eq + 1)));
		if (!*slot) {
			pgha_errf(err, errlen, "out of memory");
			return PGHA_E_NOMEM;
		}
		p = next;
	}
	return 0;
}

int pgha_credentials_load(const char *path, struct pgha_credentials *c,
			  char *err, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int rc;

	c->username = NULL;
	c->password = NULL;

	/* O_NONBLOCK so that a FIFO cannot block the open; it has no effect
	 * on the regular file we insist on below. */
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		pgha_errf(err, errlen,
			"could not open credentials file \"%s\": %s", path,
			strerror(errno));
		return PGHA_E_IO;
	}
	if (fstat(fd, &st) != 0) {
		pgha_errf(err, errlen,
			"could not stat credentials file \"%s\": %s", path,
			strerror(errno));
		close(fd);
		return PGHA_E_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		pgha_errf(err, errlen,
			"credentials file \"%s\" is not a regular file", path);
		close(fd);
		return PGHA_E_IO;
	}
	if (st.st_mode & 077) {
		pgha_errf(err, errlen,
			"credentials file \"%s\" is accessible by group or others (mode %04o): chmod 600 it",
			path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return PGHA_E_AUTH;
	}

	rc = read_all(fd, &text, &len);
	if (rc == PGHA_E_IO)
		pgha_errf(err, errlen,
			"could not read credentials file \"%s\": %s", path,
			strerror(errno));
	else if (rc == PGHA_E_TOOBIG) {
		pgha_errf(err, errlen,
			"credentials file \"%s\" is larger than %d bytes",
			path, CRED_MAX_SIZE);
		rc = PGHA_E_AUTH;
	} else if (rc == PGHA_E_NOMEM)
		pgha_errf(err, errlen, "out of memory");
	close(fd);
	if (rc)
		return rc;

	rc = parse(path, text, len, c, err, errlen);
	wipe(text, len);
	free(text);
	if (rc)
		pgha_credentials_free(c);
	return rc;
}

void pgha_credentials_free(struct pgha_credentials *c)
{
	free_secret(c->username);
	free_secret(c->password);
	c->username = NULL;
	c->password = NULL;
}
