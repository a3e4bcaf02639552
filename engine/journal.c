/*
 * journal.c: the run journal and SHA-256, reading journals back, and the
 * `pgha journal` command. See journal.h.
 */
#define _DEFAULT_SOURCE
#include <config.h>

#include "journal.h"

#include "error.h"
#include "json.h"
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* --- SHA-256 ------------------------------------------------------------- */

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t S1 = ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25);
		uint32_t ch = (e & f) ^ (~e & g);
		uint32_t t1 = k + S1 + ch + K[i] + w[i];
		uint32_t S0 = ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22);
		uint32_t mj = (a & b) ^ (a & c) ^ (b & c);
		uint32_t t2 = S0 + mj;
		k = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d;
	h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

/* Incremental SHA-256: whole blocks are hashed as they come, the rest
 * waits in buf. */
struct sha256_ctx {
	uint32_t h[8];
	uint8_t buf[64];
	size_t n;     /* bytes in buf */
	uint64_t len; /* bytes in all */
};

static void sha256_init(struct sha256_ctx *c)
{
	static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(c->h, h0, sizeof h0);
	c->n = 0;
	c->len = 0;
}

static void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	c->len += len;
	if (c->n) {
		size_t take = 64 - c->n < len ? 64 - c->n : len;
		memcpy(c->buf + c->n, p, take);
		c->n += take;
		p += take;
		len -= take;
		if (c->n < 64)
			return;
		block(c->h, c->buf);
		c->n = 0;
	}
	while (len >= 64) {
		block(c->h, p);
		p += 64;
		len -= 64;
	}
	memcpy(c->buf, p, len);
	c->n = len;
}

static void sha256_final(struct sha256_ctx *c, uint8_t out[32])
{
	uint8_t tail[128];
	memset(tail, 0, sizeof tail);
	memcpy(tail, c->buf, c->n);
	tail[c->n] = 0x80;
	size_t tl = c->n < 56 ? 64 : 128;
	uint64_t bits = c->len * 8;
	for (int i = 0; i < 8; i++)
		tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
	block(c->h, tail);
	if (tl == 128)
		block(c->h, tail + 64);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}

void pgha_sha256(const void *data, size_t len, uint8_t out[32])
{
	struct sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, out);
}

int pgha_sha256_file(const char *path, char hex[65], char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		pgha_errf(err, errlen, "could not open file \"%s\": %s", path, strerror(errno));
		return PGHA_E_IO;
	}
	/* streamed: runbooks are small, but fs.sha256 hashes base backups */
	enum { CHUNK = 256 * 1024 };
	uint8_t *buf = malloc(CHUNK);
	if (!buf) {
		fclose(f);
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	struct sha256_ctx c;
	sha256_init(&c);
	size_t got;
	while ((got = fread(buf, 1, CHUNK, f)) > 0)
		sha256_update(&c, buf, got);
	int bad = ferror(f);
	int e = errno;
	fclose(f);
	free(buf);
	if (bad) {
		pgha_errf(err, errlen, "could not read file \"%s\": %s", path, strerror(e));
		return PGHA_E_IO;
	}
	uint8_t d[32];
	sha256_final(&c, d);
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
	return 0;
}

/* --- journal ------------------------------------------------------------- */

struct pgha_journal {
	int fd;
	char *path;
	char run_id[64];
};

int pgha_journal_is_secret(const char *name)
{
	static const char *const words[] = { "password", "secret", "token", NULL };
	size_t n = strlen(name);
	for (const char *const *w = words; *w; w++) {
		size_t wl = strlen(*w);
		for (size_t i = 0; i + wl <= n; i++)
			if (strncasecmp(name + i, *w, wl) == 0)
				return 1;
	}
	return 0;
}

int pgha_journal_default_dir(char *out, size_t outlen)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	int n;
	if (xdg && xdg[0] == '/')
		n = snprintf(out, outlen, "%s/pgha/journal", xdg);
	else if (geteuid() == 0)
		n = snprintf(out, outlen, "/var/lib/pgha/journal");
	else {
		const char *home = getenv("HOME");
		if (!home || home[0] != '/')
			return PGHA_E_INVALID;
		n = snprintf(out, outlen, "%s/.local/state/pgha/journal", home);
	}
	return n < 0 || (size_t)n >= outlen ? PGHA_E_INVALID : 0;
}

static int mkdirs(const char *dir)
{
	char path[4096];
	int n = snprintf(path, sizeof path, "%s", dir);
	if (n < 0 || (size_t)n >= sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static void timestamp(char *out, size_t outlen, int compact)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	time_t t = tv.tv_sec;
	gmtime_r(&t, &tm);
	if (compact)
		strftime(out, outlen, "%Y%m%dT%H%M%SZ", &tm);
	else {
		char base[32];
		strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(out, outlen, "%s.%03dZ", base, (int)(tv.tv_usec / 1000));
	}
}

int pgha_journal_open(const char *dir, struct pgha_journal **out, char *run_id,
		      size_t run_id_len, char *err, size_t errlen)
{
	*out = NULL;
	if (mkdirs(dir) != 0) {
		pgha_errf(err, errlen, "could not create directory \"%s\": %s", dir, strerror(errno));
		return PGHA_E_IO;
	}
	struct pgha_journal *j = calloc(1, sizeof *j);
	if (!j) {
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	char ts[32];
	timestamp(ts, sizeof ts, 1);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	unsigned salt = (unsigned)tv.tv_usec ^ (unsigned)getpid() * 2654435761u;
	snprintf(j->run_id, sizeof j->run_id, "%s-%ld-%04x", ts, (long)getpid(), salt & 0xffff);
	size_t plen = strlen(dir) + strlen(j->run_id) + 8;
	j->path = malloc(plen);
	if (!j->path) {
		free(j);
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	snprintf(j->path, plen, "%s/%s.jsonl", dir, j->run_id);
	j->fd = open(j->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		pgha_errf(err, errlen, "could not create file \"%s\": %s", j->path, strerror(errno));
		free(j->path);
		free(j);
		return PGHA_E_IO;
	}
	/* held while the run goes on: a resume cannot join it (new file:
	 * nobody else can hold it yet) */
	(void)flock(j->fd, LOCK_EX | LOCK_NB);
	snprintf(run_id, run_id_len, "%s", j->run_id);
	*out = j;
	return 0;
}

int pgha_journal_write(struct pgha_journal *j, const char *event, cJSON *rec)
{
	if (!j || !rec) {
		cJSON_Delete(rec);
		return 0;
	}
	char ts[40];
	timestamp(ts, sizeof ts, 0);
	/* ts, run and event first, for people reading the file */
	cJSON *line = cJSON_CreateObject();
	if (!line) {
		cJSON_Delete(rec);
		return PGHA_E_NOMEM;
	}
	cJSON_AddStringToObject(line, "ts", ts);
	cJSON_AddStringToObject(line, "run", j->run_id);
	cJSON_AddStringToObject(line, "event", event);
	while (rec->child) {
		cJSON *c = cJSON_DetachItemViaPointer(rec, rec->child);
		cJSON_AddItemToObject(line, c->string, c); /* reuses c->string */
	}
	cJSON_Delete(rec);
	char *s = cJSON_PrintUnformatted(line);
	cJSON_Delete(line);
	if (!s)
		return PGHA_E_NOMEM;
	size_t n = strlen(s);
	s[n] = '\n'; /* replaces the NUL: write n + 1 bytes */
	ssize_t w = write(j->fd, s, n + 1);
	free(s);
	if (w != (ssize_t)(n + 1) || fsync(j->fd) != 0)
		return PGHA_E_IO;
	return 0;
}

const char *pgha_journal_path(const struct pgha_journal *j) { return j ? j->path : NULL; }

void pgha_journal_close(struct pgha_journal *j)
{
	if (!j)
		return;
	close(j->fd);
	free(j->path);
	free(j);
}

/* --- reading back ---------------------------------------------------------- */

#define JOURNAL_MAX_READ (64L * 1024 * 1024)

int pgha_journal_valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 200 || id[0] == '.')
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

int pgha_journal_reopen(const char *dir, const char *run_id, struct pgha_journal **out,
			char *err, size_t errlen)
{
	*out = NULL;
	struct pgha_journal *j = calloc(1, sizeof *j);
	size_t plen = strlen(dir) + strlen(run_id) + 8;
	if (j)
		j->path = malloc(plen);
	if (!j || !j->path) {
		free(j);
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	snprintf(j->path, plen, "%s/%s.jsonl", dir, run_id);
	snprintf(j->run_id, sizeof j->run_id, "%s", run_id);
	j->fd = open(j->path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	int rc = 0;
	if (j->fd < 0) {
		rc = errno == ENOENT ? PGHA_E_NOTFOUND : PGHA_E_IO;
		pgha_errf(err, errlen, "could not open file \"%s\": %s", j->path, strerror(errno));
	} else if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			rc = PGHA_JOURNAL_BUSY;
			pgha_errf(err, errlen, "run %s is still going on: another process holds its "
				  "journal \"%s\"", run_id, j->path);
		} else {
			rc = PGHA_E_IO;
			pgha_errf(err, errlen, "could not lock file \"%s\": %s", j->path, strerror(errno));
		}
	} else {
		/* a writer killed mid-line left no newline: end that line */
		struct stat st;
		char last = '\n';
		if (fstat(j->fd, &st) == 0 && st.st_size > 0 &&
		    pread(j->fd, &last, 1, st.st_size - 1) == 1 && last != '\n' &&
		    write(j->fd, "\n", 1) != 1) {
			rc = PGHA_E_IO;
			pgha_errf(err, errlen, "could not write file \"%s\": %s", j->path, strerror(errno));
		}
	}
	if (rc) {
		if (j->fd >= 0)
			close(j->fd);
		free(j->path);
		free(j);
		return rc;
	}
	*out = j;
	return 0;
}

int pgha_journal_read(const char *path, cJSON **records, size_t *n_bad, char *err,
		      size_t errlen)
{
	*records = NULL;
	*n_bad = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		pgha_errf(err, errlen, "could not open file \"%s\": %s", path, strerror(e));
		return e == ENOENT ? PGHA_E_NOTFOUND : PGHA_E_IO;
	}
	cJSON *arr = cJSON_CreateArray();
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long total = 0;
	int rc = arr ? 0 : PGHA_E_NOMEM;
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		total += n;
		if (total > JOURNAL_MAX_READ) {
			pgha_errf(err, errlen, "journal \"%s\" is larger than 64 MiB", path);
			rc = PGHA_E_TOOBIG;
			break;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		cJSON *rec = cJSON_ParseWithLength(line, (size_t)n);
		if (!cJSON_IsObject(rec)) {
			cJSON_Delete(rec);
			(*n_bad)++;
			continue;
		}
		cJSON_AddItemToArray(arr, rec);
	}
	if (rc == 0 && ferror(f)) {
		pgha_errf(err, errlen, "could not read file \"%s\"", path);
		rc = PGHA_E_IO;
	}
	if (rc == PGHA_E_NOMEM)
		pgha_errf(err, errlen, "out of memory");
	free(line);
	fclose(f);
	if (rc) {
		cJSON_Delete(arr);
		return rc;
	}
	*records = arr;
	return 0;
}

int pgha_journal_running(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	int busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

static const char *str_of(const cJSON *o, const char *key)
{
	const char *s = NULL;
	if (pgha_json_string(o, key, &s) != 0)
		return NULL;
	return s;
}

static const char *event_of(const cJSON *rec)
{
	const char *e = str_of(rec, "event");
	return e ? e : "?";
}

const char *pgha_journal_state(const cJSON *records)
{
	const char *state = "unfinished";
	const cJSON *rec;
	cJSON_ArrayForEach(rec, records) {
		const char *ev = event_of(rec);
		if (strcmp(ev, "end") == 0) {
			const char *s = str_of(rec, "state");
			return s ? s : "ended";
		}
		if (strcmp(ev, "interrupted") == 0 || strcmp(ev, "lock_lost") == 0)
			state = ev;
		else if (strcmp(ev, "resume") == 0)
			state = "unfinished";
	}
	return state;
}

/* --- pgha journal ------------------------------------------------------------- */

void pgha_journal_help(void)
{
	fputs("Usage: pgha journal [RUN_ID] [--journal-dir DIR]\n\n"
	      "Without RUN_ID, list the runs in the journal directory, newest first: run id,\n"
	      "start time (UTC), runbook and version, user, state (the final state, or\n"
	      "\"running\", \"unfinished\" when its process died, \"interrupted\",\n"
	      "\"lock_lost\"). With RUN_ID, tell that run's story, one line per record.\n\n"
	      "  --journal-dir DIR  the journal directory (default $XDG_STATE_HOME/pgha/journal,\n"
	      "                     /var/lib/pgha/journal for root, else\n"
	      "                     ~/.local/state/pgha/journal)\n\n"
	      "Exit: 0, or 4 for a usage error or an unknown run.\n", stdout);
}

struct run_row {
	char *id, *started, *runbook, *user, *state;
};

static int cmp_rows(const void *a, const void *b)
{
	const struct run_row *x = a, *y = b;
	int c = strcmp(y->started, x->started); /* newest first */
	return c ? c : strcmp(y->id, x->id);
}

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dupf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* "2026-11-25T21:23:48.123Z" -> "2026-11-25 21:23:48" */
static void short_time(const char *ts, char *out, size_t outlen)
{
	snprintf(out, outlen, "%.19s", ts ? ts : "?");
	if (strlen(out) > 10 && out[10] == 'T')
		out[10] = ' ';
}

static int list_runs(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT) {
			fprintf(stderr, "pgha journal: no runs in \"%s\"\n", dir);
			return 0;
		}
		fprintf(stderr, "pgha journal: could not open directory \"%s\": %s\n", dir,
			strerror(errno));
		return PGHA_RUN_USAGE;
	}
	struct run_row *rows = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 7 || strcmp(e->d_name + len - 6, ".jsonl") != 0)
			continue;
		char id[256];
		snprintf(id, sizeof id, "%.*s", (int)(len - 6), e->d_name);
		if (!pgha_journal_valid_id(id))
			continue;
		char path[4096], err[512];
		int pn = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (pn < 0 || (size_t)pn >= sizeof path)
			continue;
		cJSON *recs = NULL;
		size_t bad;
		if (pgha_journal_read(path, &recs, &bad, err, sizeof err) != 0) {
			fprintf(stderr, "pgha journal: %s\n", err);
			continue;
		}
		const cJSON *start = NULL, *rec;
		cJSON_ArrayForEach(rec, recs)
			if (strcmp(event_of(rec), "start") == 0) {
				start = rec;
				break;
			}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			struct run_row *nr = realloc(rows, nc * sizeof *rows);
			if (!nr) {
				cJSON_Delete(recs);
				break;
			}
			rows = nr;
			cap = nc;
		}
		const char *state = pgha_journal_state(recs);
		bool dry = start && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(start, "dry_run"));
		if (!strcmp(state, "unfinished") && pgha_journal_running(path))
			state = "running";
		char when[32];
		short_time(start ? str_of(start, "ts") : NULL, when, sizeof when);
		const char *rb = start ? str_of(start, "runbook") : NULL;
		const char *ver = start ? str_of(start, "version") : NULL;
		const char *user = start ? str_of(start, "user") : NULL;
		struct run_row *r = &rows[n];
		r->id = dupf("%s", id);
		r->started = dupf("%s", when);
		r->runbook = dupf("%s %s", rb ? rb : "?", ver ? ver : "?");
		r->user = dupf("%s", user ? user : "?");
		r->state = dupf("%s%s", state, dry && strncmp(state, "dry_run", 7) ? " (dry-run)" : "");
		cJSON_Delete(recs);
		if (!r->id || !r->started || !r->runbook || !r->user || !r->state) {
			free(r->id); free(r->started); free(r->runbook); free(r->user); free(r->state);
			continue;
		}
		n++;
	}
	closedir(d);
	if (n == 0)
		fprintf(stderr, "pgha journal: no runs in \"%s\"\n", dir);
	else {
		qsort(rows, n, sizeof *rows, cmp_rows);
		printf("%-32s %-19s  %-28s %-12s %s\n", "RUN", "STARTED (UTC)", "RUNBOOK", "USER",
		       "STATE");
	}
	for (size_t i = 0; i < n; i++) {
		printf("%-32s %-19s  %-28s %-12s %s\n", rows[i].id, rows[i].started, rows[i].runbook,
		       rows[i].user, rows[i].state);
		free(rows[i].id); free(rows[i].started); free(rows[i].runbook); free(rows[i].user);
		free(rows[i].state);
	}
	free(rows);
	return 0;
}

/* The first line of s into out. */
static void first_line(const char *s, char *out, size_t outlen)
{
	if (!s)
		s = "";
	const char *nl = strchr(s, '\n');
	snprintf(out, outlen, "%.*s", nl ? (int)(nl - s) : (int)strlen(s), s);
}

/* ` step N "name"` of a record, or "". */
static void step_of(const cJSON *rec, char *out, size_t outlen)
{
	double step;
	const char *name = str_of(rec, "name");
	if (pgha_json_double(rec, "step", &step) == 0)
		snprintf(out, outlen, "step %d \"%s\"", (int)step, name ? name : "?");
	else
		out[0] = '\0';
}

static void append(char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void append(char *out, size_t outlen, const char *fmt, ...)
{
	size_t used = strlen(out);
	if (used + 1 >= outlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + used, outlen - used, fmt, ap);
	va_end(ap);
}

/* A JSON value as text: strings bare, the rest printed. */
static void value_text(const cJSON *v, char *out, size_t outlen)
{
	if (cJSON_IsString(v)) {
		snprintf(out, outlen, "%s", v->valuestring);
		return;
	}
	char *p = cJSON_PrintUnformatted(v);
	snprintf(out, outlen, "%s", p ? p : "?");
	free(p);
}

/* One human line for a record. */
static void describe(const cJSON *rec, char *out, size_t outlen)
{
	const char *ev = event_of(rec);
	char step[600], buf[2048];
	step_of(rec, step, sizeof step);
	out[0] = '\0';
	if (!strcmp(ev, "start")) {
		const char *sha = str_of(rec, "sha256");
		double pid = 0;
		pgha_json_double(rec, "pid", &pid);
		append(out, outlen, "%s %s by %s on host %s, pid %d%s%s (sha256 %.12s)",
		       str_of(rec, "runbook") ? str_of(rec, "runbook") : "?",
		       str_of(rec, "version") ? str_of(rec, "version") : "?",
		       str_of(rec, "user") ? str_of(rec, "user") : "?",
		       str_of(rec, "host") ? str_of(rec, "host") : "?", (int)pid,
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "dry_run")) ? ", dry-run" : "",
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "yes")) ? ", --yes" : "",
		       sha ? sha : "?");
		if (str_of(rec, "scope"))
			append(out, outlen, ", cluster %s", str_of(rec, "scope"));
		const cJSON *params = cJSON_GetObjectItemCaseSensitive(rec, "params"), *p;
		if (cJSON_IsObject(params) && params->child) {
			append(out, outlen, "; params:");
			cJSON_ArrayForEach(p, params) {
				value_text(p, buf, sizeof buf);
				append(out, outlen, " %s=%s", p->string, buf);
			}
		}
	} else if (!strcmp(ev, "resume")) {
		double pid = 0;
		pgha_json_double(rec, "pid", &pid);
		append(out, outlen, "by %s on host %s, pid %d",
		       str_of(rec, "user") ? str_of(rec, "user") : "?",
		       str_of(rec, "host") ? str_of(rec, "host") : "?", (int)pid);
		if (step[0])
			append(out, outlen, ", from %s", step);
	} else if (!strcmp(ev, "check")) {
		first_line(str_of(rec, "message"), buf, sizeof buf);
		append(out, outlen, "%s: %s%s%s", step,
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "ok")) ? "ok" : "FAILED",
		       buf[0] ? ": " : "", buf);
	} else if (!strcmp(ev, "gate")) {
		const char *kind = str_of(rec, "gate");
		append(out, outlen, "%s%s: answer \"%s\", %s", step, kind ? " (undo)" : "",
		       str_of(rec, "answer") ? str_of(rec, "answer") : "",
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "confirmed")) ? "confirmed"
											 : "declined");
	} else if (!strcmp(ev, "error")) {
		double attempt = 0;
		pgha_json_double(rec, "attempt", &attempt);
		first_line(str_of(rec, "error"), buf, sizeof buf);
		append(out, outlen, "%s, attempt %d: %s", step, (int)attempt, buf);
	} else if (!strcmp(ev, "step_end") || !strcmp(ev, "undo")) {
		bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "ok"));
		first_line(str_of(rec, "error"), buf, sizeof buf);
		append(out, outlen, "%s: %s%s%s", step, ok ? "ok" : "FAILED", buf[0] ? ": " : "", buf);
		double secs;
		if (pgha_json_double(rec, "seconds", &secs) == 0)
			append(out, outlen, " (%.1f s)", secs);
	} else if (!strcmp(ev, "log")) {
		first_line(str_of(rec, "message"), buf, sizeof buf);
		append(out, outlen, "[%s] %s", str_of(rec, "level") ? str_of(rec, "level") : "?", buf);
	} else if (!strcmp(ev, "lock")) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "acquired"))) {
			double ttl = 0;
			pgha_json_double(rec, "ttl", &ttl);
			append(out, outlen, "acquired %s, lease %s, ttl %d s",
			       str_of(rec, "key") ? str_of(rec, "key") : "?",
			       str_of(rec, "lease") ? str_of(rec, "lease") : "?", (int)ttl);
		} else
			append(out, outlen, "not taken: %s",
			       str_of(rec, "reason") ? str_of(rec, "reason") : "?");
	} else if (!strcmp(ev, "unlock")) {
		bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "ok"));
		append(out, outlen, "%s%s%s", ok ? "released" : "FAILED",
		       ok ? "" : ": ", ok ? "" : (str_of(rec, "error") ? str_of(rec, "error") : "?"));
	} else if (!strcmp(ev, "interrupted")) {
		double sig = 0;
		pgha_json_double(rec, "signal", &sig);
		append(out, outlen, "%s%sduring %s, by signal %d", step, step[0] ? " " : "",
		       str_of(rec, "phase") ? str_of(rec, "phase") : "?", (int)sig);
	} else if (!strcmp(ev, "end")) {
		double code = 0;
		pgha_json_double(rec, "exit", &code);
		append(out, outlen, "%s (exit %d)", str_of(rec, "state") ? str_of(rec, "state") : "?",
		       (int)code);
	} else {
		/* refused, lock_lost, rollback_*: the step, then every other field */
		static const char *const skip[] = { "ts", "run", "event", "step", "name", NULL };
		append(out, outlen, "%s", step);
		const cJSON *f;
		cJSON_ArrayForEach(f, rec) {
			bool skipped = false;
			for (const char *const *k = skip; *k && !skipped; k++)
				skipped = !strcmp(f->string, *k);
			if (skipped)
				continue;
			value_text(f, buf, sizeof buf);
			char line[2048];
			first_line(buf, line, sizeof line);
			append(out, outlen, "%s%s: %s", out[0] ? ", " : "", f->string, line);
		}
	}
}

static int show_run(const char *dir, const char *id)
{
	if (!pgha_journal_valid_id(id)) {
		fprintf(stderr, "pgha journal: \"%s\" is not a run id\n", id);
		return PGHA_RUN_USAGE;
	}
	char path[4096], err[512];
	int pn = snprintf(path, sizeof path, "%s/%s.jsonl", dir, id);
	if (pn < 0 || (size_t)pn >= sizeof path) {
		fprintf(stderr, "pgha journal: journal directory name too long\n");
		return PGHA_RUN_USAGE;
	}
	cJSON *recs = NULL;
	size_t bad = 0;
	int rc = pgha_journal_read(path, &recs, &bad, err, sizeof err);
	if (rc == PGHA_E_NOTFOUND) {
		fprintf(stderr, "pgha journal: no run %s in \"%s\"\n", id, dir);
		return PGHA_RUN_USAGE;
	}
	if (rc) {
		fprintf(stderr, "pgha journal: %s\n", err);
		return PGHA_RUN_USAGE;
	}
	const char *state = pgha_journal_state(recs);
	if (!strcmp(state, "unfinished") && pgha_journal_running(path))
		state = "running";
	printf("run %s: %s (journal %s)\n", id, state, path);
	const cJSON *rec;
	cJSON_ArrayForEach(rec, recs) {
		char line[8192];
		describe(rec, line, sizeof line);
		const char *ts = str_of(rec, "ts");
		if (line[0])
			printf("%-24s %-16s %s\n", ts ? ts : "?", event_of(rec), line);
		else
			printf("%-24s %s\n", ts ? ts : "?", event_of(rec));
	}
	if (bad)
		printf("(%zu line(s) that are not JSON records skipped)\n", bad);
	cJSON_Delete(recs);
	return 0;
}

int pgha_journal_main(int argc, char **argv)
{
	const char *dir = NULL, *id = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			pgha_journal_help();
			return 0;
		}
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--journal-dir")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pgha journal: option --journal-dir needs a value\n");
				return PGHA_RUN_USAGE;
			}
			dir = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "pgha journal: unknown option \"%s\"\nTry 'pgha journal --help'.\n",
				a);
			return PGHA_RUN_USAGE;
		} else if (id) {
			fprintf(stderr, "pgha journal: one run id at most. Try 'pgha journal --help'.\n");
			return PGHA_RUN_USAGE;
		} else
			id = a;
	}
	char jdir[4096];
	if (dir)
		snprintf(jdir, sizeof jdir, "%s", dir);
	else if (pgha_journal_default_dir(jdir, sizeof jdir) != 0) {
		fprintf(stderr, "pgha journal: no journal directory: set HOME or XDG_STATE_HOME, "
			"or pass --journal-dir\n");
		return PGHA_RUN_USAGE;
	}
	return id ? show_run(jdir, id) : list_runs(jdir);
}
