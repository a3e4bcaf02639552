/*
 * backup.c: reading and judging a backup directory (see backup.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <config.h>

#include "backup.h"

#include "buf.h"
#include "error.h"
#include "json.h"
#include "walarchive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WHY_MAX 480 /* bytes of reasons kept per backup */

/* --- helpers ------------------------------------------------------------------ */

bool pgha_backup_valid_id(const char *s)
{
	if (!s || strlen(s) != PGHA_BACKUP_ID_LEN)
		return false;
	for (int i = 0; i < PGHA_BACKUP_ID_LEN; i++) {
		char c = s[i];
		if (i == 8 ? c != 'T' : i == 15 ? c != 'Z' : !(c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

/* n digits at *p into *v, advancing *p. */
static bool digits(const char **p, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		x = x * 10 + (c - '0');
	}
	*v = x;
	*p += n;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

int pgha_backup_parse_time(const char *text, int64_t *out)
{
	const char *p = text;
	int y, mo, d, h, mi, s;
	if (!p || !digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) ||
	    !expect(&p, '-') || !digits(&p, 2, &d) || !expect(&p, 'T') || !digits(&p, 2, &h) ||
	    !expect(&p, ':') || !digits(&p, 2, &mi) || !expect(&p, ':') || !digits(&p, 2, &s))
		return PGHA_E_INVALID;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60)
		return PGHA_E_INVALID;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return PGHA_E_INVALID;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	int64_t offset = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om) || oh > 23 ||
		    om > 59)
			return PGHA_E_INVALID;
		offset = sign * (oh * 3600 + om * 60);
	} else {
		return PGHA_E_INVALID;
	}
	if (*p)
		return PGHA_E_INVALID;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset;
	return 0;
}

/* Add a reason to b->why ("; " between them). */
static void bad(struct pgha_backup *b, struct pgha_buf *why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bad(struct pgha_backup *b, struct pgha_buf *why, const char *fmt, ...)
{
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	b->good = false;
	if (why->len)
		pgha_buf_puts(why, "; ");
	pgha_buf_puts(why, msg);
}

/* A copy of s, or NULL (also when out of memory: the caller checks
 * *oom). */
static char *copy_str(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

/* Optional string member; a present non-string is a reason. */
static char *opt_string(const cJSON *doc, const char *key, struct pgha_backup *b,
			struct pgha_buf *why, bool *oom)
{
	const char *s;
	int rc = pgha_json_string(doc, key, &s);
	if (rc == PGHA_E_TYPE)
		bad(b, why, "\"%s\" is not a string", key);
	return rc == 0 ? copy_str(s, oom) : NULL;
}

/* Optional integer member; returns whether it was present and valid. */
static bool opt_int(const cJSON *doc, const char *key, int64_t *v, struct pgha_backup *b,
		    struct pgha_buf *why)
{
	int rc = pgha_json_int64(doc, key, v);
	if (rc == PGHA_E_TYPE)
		bad(b, why, "\"%s\" is not an integer", key);
	return rc == 0;
}

static bool safe_relative(const char *name)
{
	if (!name[0] || name[0] == '/')
		return false;
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

/* --- one backup ------------------------------------------------------------------ */

/* Read path (a regular file, at most max bytes) into a NUL-terminated
 * buffer. Returns 0, PGHA_E_NOTFOUND, PGHA_E_TOOBIG, PGHA_E_NOMEM or
 * PGHA_E_IO (msg set). */
static int read_file(const char *path, size_t max, char **text, size_t *len, char *msg,
		     size_t msglen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(msg, msglen, "%s", strerror(e));
		return e == ENOENT ? PGHA_E_NOTFOUND : PGHA_E_IO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(msg, msglen, "not a regular file");
		close(fd);
		return PGHA_E_IO;
	}
	if ((uint64_t)st.st_size > max) {
		snprintf(msg, msglen, "larger than %zu bytes", max);
		close(fd);
		return PGHA_E_TOOBIG;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		snprintf(msg, msglen, "out of memory");
		return PGHA_E_NOMEM;
	}
	for (;;) {
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(msg, msglen, "%s", strerror(errno));
			free(buf);
			close(fd);
			return PGHA_E_IO;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n == cap) { /* grew while we read it */
			snprintf(msg, msglen, "changed while read");
			free(buf);
			close(fd);
			return PGHA_E_IO;
		}
	}
	close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* The files member: parse and check each file. */
static void judge_files(struct pgha_backup *b, const cJSON *doc, struct pgha_buf *why,
			bool *oom)
{
	const cJSON *files;
	int rc = pgha_json_array(doc, "files", &files);
	if (rc == PGHA_E_TYPE) {
		bad(b, why, "\"files\" is not a list");
		return;
	}
	int n = rc == 0 ? cJSON_GetArraySize(files) : 0;
	if (n == 0) {
		bad(b, why, "lists no files");
		return;
	}
	b->files = calloc((size_t)n, sizeof *b->files);
	if (!b->files) {
		*oom = true;
		return;
	}
	const cJSON *f;
	int problems = 0;
	cJSON_ArrayForEach(f, files) {
		struct pgha_backup_file *bf = &b->files[b->n_files];
		const char *name, *sha;
		int64_t size;
		if (!cJSON_IsObject(f) || pgha_json_string(f, "name", &name) != 0) {
			if (problems++ < 3)
				bad(b, why, "file %zu of \"files\" has no \"name\"", b->n_files + 1);
			continue;
		}
		if (pgha_json_int64(f, "size", &size) != 0 || size < 0) {
			if (problems++ < 3)
				bad(b, why, "file \"%s\" has no valid \"size\"", name);
			continue;
		}
		bf->name = copy_str(name, oom);
		bf->size = size;
		if (pgha_json_string(f, "sha256", &sha) == 0)
			bf->sha256 = copy_str(sha, oom);
		b->n_files++;
		b->files_bytes += size;
		if (!safe_relative(name)) {
			if (problems++ < 3)
				bad(b, why, "file \"%s\" is not a path inside the backup", name);
			continue;
		}
		char path[4096];
		struct stat st;
		if (snprintf(path, sizeof path, "%s/%s", b->path, name) >= (int)sizeof path) {
			if (problems++ < 3)
				bad(b, why, "file \"%s\": path too long", name);
		} else if (stat(path, &st) != 0) {
			if (problems++ < 3)
				bad(b, why, "file \"%s\" is %s", name,
				    errno == ENOENT ? "missing" : strerror(errno));
		} else if (!S_ISREG(st.st_mode)) {
			if (problems++ < 3)
				bad(b, why, "file \"%s\" is not a regular file", name);
		} else if ((int64_t)st.st_size != size) {
			if (problems++ < 3)
				bad(b, why, "file \"%s\" has %jd bytes, not %" PRId64, name,
				    (intmax_t)st.st_size, size);
		}
	}
	if (problems > 3)
		bad(b, why, "%d more problems with files", problems - 3);
}

/* Parse and judge b->path/backup.json. */
static void judge(struct pgha_backup *b, struct pgha_buf *why, bool *oom)
{
	char path[4096], msg[256], perr[128];
	char *text = NULL;
	size_t len = 0;
	struct stat st;

	if (stat(b->path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		bad(b, why, "not a directory");
		return;
	}
	if (snprintf(path, sizeof path, "%s/%s", b->path, PGHA_BACKUP_JSON) >= (int)sizeof path) {
		bad(b, why, "path too long");
		return;
	}
	int rc = read_file(path, PGHA_BACKUP_JSON_MAX, &text, &len, msg, sizeof msg);
	if (rc == PGHA_E_NOTFOUND) {
		bad(b, why, "no " PGHA_BACKUP_JSON " (unfinished or failed)");
		return;
	}
	if (rc == PGHA_E_NOMEM)
		*oom = true;
	if (rc) {
		bad(b, why, "could not read " PGHA_BACKUP_JSON ": %s", msg);
		return;
	}
	rc = pgha_json_parse(text, len, &b->doc, perr, sizeof perr);
	free(text);
	if (rc) {
		b->doc = NULL;
		bad(b, why, PGHA_BACKUP_JSON " is not valid JSON (%s)", perr);
		return;
	}
	const cJSON *doc = b->doc;
	if (!cJSON_IsObject(doc)) {
		bad(b, why, PGHA_BACKUP_JSON " is not a JSON object");
		return;
	}

	/* what makes a backup good */
	rc = pgha_json_int64(doc, "format", &b->format);
	if (rc)
		bad(b, why, rc == PGHA_E_NOTFOUND ? "no \"format\"" : "\"format\" is not an integer");
	else if (b->format != PGHA_BACKUP_FORMAT)
		bad(b, why, "format %" PRId64 " is not supported (%d is)", b->format,
		    PGHA_BACKUP_FORMAT);

	const char *id;
	rc = pgha_json_string(doc, "id", &id);
	if (rc)
		bad(b, why, rc == PGHA_E_NOTFOUND ? "no \"id\"" : "\"id\" is not a string");
	else if (strcmp(id, b->id) != 0)
		bad(b, why, "\"id\" is \"%.40s\", not the directory's name", id);

	bool verified = false;
	rc = pgha_json_bool(doc, "verified", &verified);
	b->verified = rc == 0 && verified;
	if (rc == PGHA_E_TYPE)
		bad(b, why, "\"verified\" is not true or false");
	else if (!b->verified)
		bad(b, why, "not verified");

	b->finished_at = opt_string(doc, "finished_at", b, why, oom);
	if (!b->finished_at)
		bad(b, why, "no \"finished_at\"");
	else if (pgha_backup_parse_time(b->finished_at, &b->finished) != 0)
		bad(b, why, "\"finished_at\" is not a time (YYYY-MM-DDTHH:MM:SSZ)");
	else
		b->has_finished = true;

	b->start_wal = opt_string(doc, "start_wal", b, why, oom);
	if (!b->start_wal)
		bad(b, why, "no \"start_wal\"");
	else if (pgha_wal_parse_name(b->start_wal, NULL, NULL) != 0)
		bad(b, why, "\"start_wal\" is not a WAL segment name");

	judge_files(b, doc, why, oom);

	/* the other members: the documented types when present */
	uint64_t lsn;
	b->scope = opt_string(doc, "scope", b, why, oom);
	b->node = opt_string(doc, "node", b, why, oom);
	b->system_identifier = opt_string(doc, "system_identifier", b, why, oom);
	opt_int(doc, "server_version", &b->server_version, b, why);
	opt_int(doc, "timeline", &b->timeline, b, why);
	b->start_lsn = opt_string(doc, "start_lsn", b, why, oom);
	if (b->start_lsn && pgha_lsn_parse(b->start_lsn, &lsn) != 0)
		bad(b, why, "\"start_lsn\" is not an LSN");
	b->stop_lsn = opt_string(doc, "stop_lsn", b, why, oom);
	if (b->stop_lsn && pgha_lsn_parse(b->stop_lsn, &lsn) != 0)
		bad(b, why, "\"stop_lsn\" is not an LSN");
	b->stop_wal = opt_string(doc, "stop_wal", b, why, oom);
	if (b->stop_wal && pgha_wal_parse_name(b->stop_wal, NULL, NULL) != 0)
		bad(b, why, "\"stop_wal\" is not a WAL segment name");
	b->started_at = opt_string(doc, "started_at", b, why, oom);
	if (b->started_at) {
		if (pgha_backup_parse_time(b->started_at, &b->started) == 0)
			b->has_started = true;
		else
			bad(b, why, "\"started_at\" is not a time (YYYY-MM-DDTHH:MM:SSZ)");
	}
	b->has_size_bytes = opt_int(doc, "size_bytes", &b->size_bytes, b, why);
	if (b->has_size_bytes && b->size_bytes < 0)
		bad(b, why, "\"size_bytes\" is negative");
	b->layout = opt_string(doc, "layout", b, why, oom);
	if (b->layout && strcmp(b->layout, "tar") != 0 && strcmp(b->layout, "plain") != 0)
		bad(b, why, "\"layout\" is neither \"tar\" nor \"plain\"");
	const cJSON *comp;
	rc = pgha_json_object(doc, "compression", &comp);
	if (rc == PGHA_E_TYPE)
		bad(b, why, "\"compression\" is not an object");
	if (rc == 0) {
		b->compression_method = opt_string(comp, "method", b, why, oom);
		const char *m = b->compression_method;
		if (m && strcmp(m, "gzip") && strcmp(m, "lz4") && strcmp(m, "zstd") &&
		    strcmp(m, "none"))
			bad(b, why, "compression method \"%.20s\" is not gzip, lz4, zstd or none", m);
		b->has_compression_level = opt_int(comp, "level", &b->compression_level, b, why);
	}
	b->verified_at = opt_string(doc, "verified_at", b, why, oom);
	int64_t t;
	if (b->verified_at && pgha_backup_parse_time(b->verified_at, &t) != 0)
		bad(b, why, "\"verified_at\" is not a time (YYYY-MM-DDTHH:MM:SSZ)");
	b->verify_method = opt_string(doc, "verify_method", b, why, oom);
	const cJSON *rb;
	rc = pgha_json_object(doc, "runbook", &rb);
	if (rc == PGHA_E_TYPE)
		bad(b, why, "\"runbook\" is not an object");
	if (rc == 0) {
		b->runbook_name = opt_string(rb, "name", b, why, oom);
		b->runbook_version = opt_string(rb, "version", b, why, oom);
		b->runbook_run = opt_string(rb, "run", b, why, oom);
	}
}

static void backup_free(struct pgha_backup *b)
{
	free(b->id);
	free(b->path);
	free(b->why);
	cJSON_Delete(b->doc);
	free(b->scope);
	free(b->node);
	free(b->system_identifier);
	free(b->start_lsn);
	free(b->stop_lsn);
	free(b->start_wal);
	free(b->stop_wal);
	free(b->started_at);
	free(b->finished_at);
	free(b->layout);
	free(b->compression_method);
	for (size_t i = 0; i < b->n_files; i++) {
		free(b->files[i].name);
		free(b->files[i].sha256);
	}
	free(b->files);
	free(b->verified_at);
	free(b->verify_method);
	free(b->runbook_name);
	free(b->runbook_version);
	free(b->runbook_run);
	memset(b, 0, sizeof *b);
}

/* Read and judge the backup id of dir into b. 0 or PGHA_E_NOMEM. */
static int backup_load(const char *dir, const char *id, struct pgha_backup *b)
{
	bool oom = false;
	memset(b, 0, sizeof *b);
	b->id = copy_str(id, &oom);
	size_t n = strlen(dir) + 1 + strlen(id) + 1;
	b->path = malloc(n);
	if (!b->id || !b->path)
		return PGHA_E_NOMEM;
	snprintf(b->path, n, "%s/%s", dir, id);
	b->good = true;

	struct pgha_buf why;
	pgha_buf_init(&why, WHY_MAX);
	judge(b, &why, &oom);
	if (!b->good) {
		b->why = pgha_buf_steal(&why);
		if (!b->why)
			oom = true;
	}
	pgha_buf_free(&why);
	return oom ? PGHA_E_NOMEM : 0;
}

/* --- the set ------------------------------------------------------------------- */

void pgha_backup_set_free(struct pgha_backup_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		backup_free(&set->items[i]);
	free(set->items);
	free(set->dir);
	memset(set, 0, sizeof *set);
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pgha_backup_scan(const char *dir, struct pgha_backup_set *set, char *err, size_t errlen)
{
	memset(set, 0, sizeof *set);
	set->dir = strdup(dir);
	if (!set->dir) {
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	DIR *d = opendir(dir);
	if (!d) {
		pgha_errf(err, errlen, "could not open directory \"%s\": %s", dir, strerror(errno));
		return PGHA_E_IO;
	}
	/* the ids first, sorted; then each backup */
	char **ids = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0;
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		if (!pgha_backup_valid_id(e->d_name)) {
			errno = 0;
			continue;
		}
		if (n == alloc) {
			size_t na = alloc ? alloc * 2 : 16;
			char **ni = realloc(ids, na * sizeof *ni);
			if (!ni) {
				rc = PGHA_E_NOMEM;
				break;
			}
			ids = ni;
			alloc = na;
		}
		if (!(ids[n] = strdup(e->d_name))) {
			rc = PGHA_E_NOMEM;
			break;
		}
		n++;
		errno = 0;
	}
	if (rc == 0 && errno) {
		pgha_errf(err, errlen, "could not read directory \"%s\": %s", dir, strerror(errno));
		rc = PGHA_E_IO;
	}
	closedir(d);
	if (rc == 0 && n > 0) {
		qsort(ids, n, sizeof *ids, cmp_id);
		set->items = calloc(n, sizeof *set->items);
		if (!set->items)
			rc = PGHA_E_NOMEM;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = backup_load(dir, ids[i], &set->items[i]);
		set->n++;
		if (rc == 0 && set->items[i].good) {
			set->n_good++;
			set->newest_good = &set->items[i];
		}
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	if (rc == PGHA_E_NOMEM)
		pgha_errf(err, errlen, "out of memory");
	return rc;
}
