/*
 * journal.c: the run journal and SHA-256. See journal.h.
 */
#define _DEFAULT_SOURCE
#include <config.h>

#include "journal.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

void pgha_sha256(const void *data, size_t len, uint8_t out[32])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	const uint8_t *p = data;
	size_t n = len;
	while (n >= 64) {
		block(h, p);
		p += 64;
		n -= 64;
	}
	uint8_t tail[128];
	memset(tail, 0, sizeof tail);
	if (n)
		memcpy(tail, p, n);
	tail[n] = 0x80;
	size_t tl = n < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
	block(h, tail);
	if (tl == 128)
		block(h, tail + 64);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}

int pgha_sha256_file(const char *path, char hex[65], char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		pgha_errf(err, errlen, "could not open file \"%s\": %s", path, strerror(errno));
		return PGHA_E_IO;
	}
	/* runbooks are small (the host refuses past 4 MiB): hash in memory */
	size_t cap = 4 * 1024 * 1024 + 1;
	char *buf = malloc(cap);
	if (!buf) {
		fclose(f);
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	size_t len = fread(buf, 1, cap, f);
	int bad = ferror(f) || len == cap;
	fclose(f);
	if (bad) {
		free(buf);
		pgha_errf(err, errlen, "could not read file \"%s\"", path);
		return PGHA_E_IO;
	}
	uint8_t d[32];
	pgha_sha256(buf, len, d);
	free(buf);
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
