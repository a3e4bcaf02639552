/* statefile.c: atomic key=value state files (see statefile.h). */
#define _POSIX_C_SOURCE 200809L
#include "statefile.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINE 4096

void pgha_statefile_init(struct pgha_statefile *sf)
{
	sf->keys = NULL;
	sf->values = NULL;
	sf->n = 0;
	sf->alloc = 0;
}

void pgha_statefile_free(struct pgha_statefile *sf)
{
	for (size_t i = 0; i < sf->n; i++) {
		free(sf->keys[i]);
		free(sf->values[i]);
	}
	free(sf->keys);
	free(sf->values);
	pgha_statefile_init(sf);
}

static bool valid_key(const char *k, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = k[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

const char *pgha_statefile_get(const struct pgha_statefile *sf, const char *key)
{
	for (size_t i = 0; i < sf->n; i++)
		if (strcmp(sf->keys[i], key) == 0)
			return sf->values[i];
	return NULL;
}

int pgha_statefile_set(struct pgha_statefile *sf, const char *key, const char *value)
{
	if (!valid_key(key, strlen(key)) || strpbrk(value, "\r\n"))
		return PGHA_E_INVALID;
	char *v = strdup(value);
	if (!v)
		return PGHA_E_NOMEM;
	for (size_t i = 0; i < sf->n; i++) {
		if (strcmp(sf->keys[i], key) == 0) {
			free(sf->values[i]);
			sf->values[i] = v;
			return 0;
		}
	}
	if (sf->n == sf->alloc) {
		size_t alloc = sf->alloc ? sf->alloc * 2 : 8;
		char **k = realloc(sf->keys, alloc * sizeof *k);
		if (!k) {
			free(v);
			return PGHA_E_NOMEM;
		}
		sf->keys = k;
		char **vals = realloc(sf->values, alloc * sizeof *vals);
		if (!vals) {
			free(v);
			return PGHA_E_NOMEM;
		}
		sf->values = vals;
		sf->alloc = alloc;
	}
	char *k = strdup(key);
	if (!k) {
		free(v);
		return PGHA_E_NOMEM;
	}
	sf->keys[sf->n] = k;
	sf->values[sf->n] = v;
	sf->n++;
	return 0;
}

int pgha_statefile_load(struct pgha_statefile *sf, const char *path,
			char *err, size_t errlen)
{
	pgha_statefile_init(sf);
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return PGHA_E_NOTFOUND;
		snprintf(err, errlen, "could not open state file \"%s\": %s", path, strerror(errno));
		return PGHA_E_IO;
	}
	char line[MAX_LINE];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		size_t len = strcspn(line, "\r\n");
		if (line[len] == '\0' && !feof(f)) {
			snprintf(err, errlen, "state file \"%s\" line %d is too long", path, lineno);
			rc = PGHA_E_INVALID;
			break;
		}
		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		char *eq = strchr(line, '=');
		if (!eq || !valid_key(line, (size_t)(eq - line))) {
			snprintf(err, errlen, "state file \"%s\" line %d is not key=value",
				 path, lineno);
			rc = PGHA_E_INVALID;
			break;
		}
		*eq = '\0';
		rc = pgha_statefile_set(sf, line, eq + 1);
		if (rc)
			snprintf(err, errlen, "state file \"%s\": %s", path, pgha_strerror(rc));
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "could not read state file \"%s\": %s", path, strerror(errno));
		rc = PGHA_E_IO;
	}
	fclose(f);
	if (rc)
		pgha_statefile_free(sf);
	return rc;
}

/* Write all of buf to fd, retrying on short writes. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int pgha_statefile_save(const struct pgha_statefile *sf, const char *path,
			char *err, size_t errlen)
{
	char tmp[4096];
	int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp) {
		snprintf(err, errlen, "state file path is too long");
		return PGHA_E_INVALID;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "could not create state file \"%s\": %s", tmp, strerror(errno));
		return PGHA_E_IO;
	}
	int failed = fchmod(fd, 0600); /* in case the umask or an old file differ */
	static const char header[] = "# pgha state file: written by a check, do not edit\n";
	if (!failed)
		failed = write_all(fd, header, sizeof header - 1);
	for (size_t i = 0; !failed && i < sf->n; i++) {
		failed = write_all(fd, sf->keys[i], strlen(sf->keys[i])) ||
			 write_all(fd, "=", 1) ||
			 write_all(fd, sf->values[i], strlen(sf->values[i])) ||
			 write_all(fd, "\n", 1);
	}
	if (!failed)
		failed = fsync(fd);
	int saved = errno;
	if (close(fd) && !failed) {
		failed = -1;
		saved = errno;
	}
	if (!failed && rename(tmp, path)) {
		failed = -1;
		saved = errno;
	}
	if (failed) {
		unlink(tmp);
		snprintf(err, errlen, "could not write state file \"%s\": %s", path, strerror(saved));
		return PGHA_E_IO;
	}
	return 0;
}
