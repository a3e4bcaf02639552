/*
 * walarchive.c: WAL names, LSNs, timeline histories and archive continuity
 * (see walarchive.h).
 *
 * The continuity check never keeps the whole listing: names are parsed one
 * by one into the segments at or after the start (any timeline; their
 * number is what an archive holds past a backup) and the timelines that
 * have a history file. The path is then loaded, each segment kept only
 * when it lies on the timeline recovery would read it from, and the gaps
 * are computed from the sorted segment numbers.
 */
#define _DEFAULT_SOURCE /* d_type, DT_DIR */
#include <config.h>

#include "walarchive.h"

#include "error.h"

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

/* --- names and LSNs --------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* n upper-case hex digits at s into *out; 0 or -1. */
static int upper_hex(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return -1;
		v = v << 4 | (uint32_t)hexval(s[i]);
	}
	*out = v;
	return 0;
}

/* The first 24 characters of s as a segment (no check of what follows). */
static int parse_prefix(const char *s, uint32_t *tli, uint64_t *segno)
{
	uint32_t t, hi, lo;
	if (upper_hex(s, 8, &t) || upper_hex(s + 8, 8, &hi) || upper_hex(s + 16, 8, &lo))
		return PGHA_E_INVALID;
	if (t == 0 || lo >= PGHA_WAL_SEGS_PER_XLOGID)
		return PGHA_E_INVALID;
	if (tli)
		*tli = t;
	if (segno)
		*segno = (uint64_t)hi * PGHA_WAL_SEGS_PER_XLOGID + lo;
	return 0;
}

int pgha_wal_parse_name(const char *name, uint32_t *tli, uint64_t *segno)
{
	if (!name || strlen(name) != PGHA_WAL_NAME_LEN)
		return PGHA_E_INVALID;
	return parse_prefix(name, tli, segno);
}

void pgha_wal_format_name(uint32_t tli, uint64_t segno, char *out)
{
	snprintf(out, PGHA_WAL_NAME_SIZE, "%08" PRIX32 "%08" PRIX32 "%08" PRIX32, tli,
		 (uint32_t)(segno / PGHA_WAL_SEGS_PER_XLOGID),
		 (uint32_t)(segno % PGHA_WAL_SEGS_PER_XLOGID));
}

void pgha_wal_history_name(uint32_t tli, char *out)
{
	snprintf(out, PGHA_WAL_NAME_SIZE, "%08" PRIX32 ".history", tli);
}

int pgha_wal_next_name(const char *name, char *out)
{
	uint32_t tli;
	uint64_t segno;
	if (pgha_wal_parse_name(name, &tli, &segno))
		return PGHA_E_INVALID;
	pgha_wal_format_name(tli, segno + 1, out);
	return 0;
}

int pgha_lsn_parse(const char *text, uint64_t *lsn)
{
	uint64_t part[2] = { 0, 0 };
	const char *p = text;
	if (!p)
		return PGHA_E_INVALID;
	for (int k = 0; k < 2; k++) {
		size_t n = 0;
		while (hexval((unsigned char)p[n]) >= 0) {
			if (n == 8)
				return PGHA_E_INVALID;
			part[k] = part[k] << 4 | (uint64_t)hexval((unsigned char)p[n]);
			n++;
		}
		if (n == 0)
			return PGHA_E_INVALID;
		p += n;
		if (k == 0) {
			if (*p != '/')
				return PGHA_E_INVALID;
			p++;
		}
	}
	if (*p != '\0')
		return PGHA_E_INVALID;
	*lsn = part[0] << 32 | part[1];
	return 0;
}

void pgha_lsn_format(uint64_t lsn, char *out)
{
	snprintf(out, PGHA_LSN_SIZE, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32),
		 (uint32_t)lsn);
}

uint64_t pgha_wal_segno_of(uint64_t lsn)
{
	return lsn / PGHA_WAL_SEG_SIZE;
}

uint64_t pgha_wal_segment_start(uint64_t segno)
{
	return segno * PGHA_WAL_SEG_SIZE;
}

/* --- timeline history ------------------------------------------------------- */

void pgha_tl_history_free(struct pgha_tl_history *h)
{
	if (!h)
		return;
	free(h->entries);
	h->entries = NULL;
	h->n = 0;
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* One history line (NUL-terminated, without its newline). Returns 0 and
 * sets *tli and *lsn, 1 for a line to skip, or -1 with err set. */
static int history_line(const char *line, int lineno, uint32_t *tli, uint64_t *lsn,
			char *err, size_t errlen)
{
	const char *p = line;
	while (is_space((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 1;
	uint64_t t = 0;
	size_t n = 0;
	while (p[n] >= '0' && p[n] <= '9') {
		t = t * 10 + (uint64_t)(p[n] - '0');
		if (t > UINT32_MAX) {
			pgha_errf(err, errlen, "line %d: timeline id out of range", lineno);
			return -1;
		}
		n++;
	}
	if (n == 0) {
		pgha_errf(err, errlen, "line %d: expected a numeric timeline id", lineno);
		return -1;
	}
	p += n;
	while (is_space((unsigned char)*p))
		p++;
	/* the LSN ends at the first character that is neither hex nor '/' */
	char text[PGHA_LSN_SIZE + 1];
	size_t m = strspn(p, "0123456789ABCDEFabcdef/");
	if (m == 0 || m >= sizeof text) {
		pgha_errf(err, errlen, "line %d: expected a switch point \"X/Y\"", lineno);
		return -1;
	}
	memcpy(text, p, m);
	text[m] = '\0';
	if (pgha_lsn_parse(text, lsn)) {
		pgha_errf(err, errlen, "line %d: expected a switch point \"X/Y\"", lineno);
		return -1;
	}
	*tli = (uint32_t)t;
	return 0;
}

static int history_add(struct pgha_tl_history *h, size_t *alloc, uint32_t tli,
		       uint64_t begin, uint64_t end, bool has_end)
{
	if (h->n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 8;
		struct pgha_timeline *e = realloc(h->entries, na * sizeof *e);
		if (!e)
			return PGHA_E_NOMEM;
		h->entries = e;
		*alloc = na;
	}
	h->entries[h->n++] = (struct pgha_timeline){ tli, begin, end, has_end };
	return 0;
}

int pgha_tl_history_parse(uint32_t tli, const char *text, size_t len,
			  struct pgha_tl_history *h, char *err, size_t errlen)
{
	size_t alloc = 0;
	uint64_t prev_end = 0;
	uint32_t last_tli = 0;
	int lineno = 0, rc = 0;
	char line[1024];

	h->entries = NULL;
	h->n = 0;
	for (size_t pos = 0; pos < len;) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		/* a line longer than the buffer: its start is what matters */
		size_t n = end - pos < sizeof line - 1 ? end - pos : sizeof line - 1;
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if (memchr(line, '\0', n)) {
			pgha_errf(err, errlen, "line %d: NUL byte", lineno);
			rc = PGHA_E_INVALID;
			break;
		}
		pos = end + 1;
		uint32_t t;
		uint64_t lsn;
		int r = history_line(line, lineno, &t, &lsn, err, errlen);
		if (r > 0)
			continue;
		if (r < 0) {
			rc = PGHA_E_INVALID;
			break;
		}
		if (h->n > 0 && t <= last_tli) {
			pgha_errf(err, errlen, "line %d: timeline ids must increase", lineno);
			rc = PGHA_E_INVALID;
			break;
		}
		if (lsn < prev_end) {
			pgha_errf(err, errlen, "line %d: switch point before the previous one",
				  lineno);
			rc = PGHA_E_INVALID;
			break;
		}
		if ((rc = history_add(h, &alloc, t, prev_end, lsn, true)) != 0) {
			pgha_errf(err, errlen, "out of memory");
			break;
		}
		last_tli = t;
		prev_end = lsn;
	}
	if (rc == 0 && h->n > 0 && tli <= last_tli) {
		pgha_errf(err, errlen, "timeline ids must be below the file's timeline %" PRIu32,
			  tli);
		rc = PGHA_E_INVALID;
	}
	if (rc == 0 && (rc = history_add(h, &alloc, tli, prev_end, 0, false)) != 0)
		pgha_errf(err, errlen, "out of memory");
	if (rc)
		pgha_tl_history_free(h);
	return rc;
}

/* --- collecting a listing ----------------------------------------------------- */

struct seg {
	uint32_t tli;
	uint64_t segno;
};

struct listing {
	uint64_t from;      /* segments below this are not kept */
	struct seg *segs;
	size_t n_segs, segs_alloc;
	uint32_t *hist;     /* timelines with a history file */
	size_t n_hist, hist_alloc;
	uint32_t max_tli;   /* of full segments and history files */
};

static void listing_free(struct listing *l)
{
	free(l->segs);
	free(l->hist);
}

static bool is_compression_suffix(const char *s)
{
	static const char *const sfx[] = { ".gz", ".lz4", ".zst", ".bz2", ".xz" };
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++)
		if (strcmp(s, sfx[i]) == 0)
			return true;
	return false;
}

/* Take one file name into the listing. 0 or PGHA_E_NOMEM. */
static int listing_add(struct listing *l, const char *name)
{
	size_t len = strlen(name);
	uint32_t tli;
	uint64_t segno;
	if (len >= PGHA_WAL_NAME_LEN && parse_prefix(name, &tli, &segno) == 0 &&
	    (len == PGHA_WAL_NAME_LEN || is_compression_suffix(name + PGHA_WAL_NAME_LEN))) {
		if (tli > l->max_tli)
			l->max_tli = tli;
		if (segno < l->from)
			return 0;
		if (l->n_segs == l->segs_alloc) {
			size_t na = l->segs_alloc ? l->segs_alloc * 2 : 256;
			struct seg *s = realloc(l->segs, na * sizeof *s);
			if (!s)
				return PGHA_E_NOMEM;
			l->segs = s;
			l->segs_alloc = na;
		}
		l->segs[l->n_segs++] = (struct seg){ tli, segno };
		return 0;
	}
	if (len == 16 && strcmp(name + 8, ".history") == 0 && upper_hex(name, 8, &tli) == 0 &&
	    tli > 0) {
		if (tli > l->max_tli)
			l->max_tli = tli;
		if (l->n_hist == l->hist_alloc) {
			size_t na = l->hist_alloc ? l->hist_alloc * 2 : 8;
			uint32_t *h = realloc(l->hist, na * sizeof *h);
			if (!h)
				return PGHA_E_NOMEM;
			l->hist = h;
			l->hist_alloc = na;
		}
		l->hist[l->n_hist++] = tli;
	}
	return 0;
}

static bool has_history(const struct listing *l, uint32_t tli)
{
	for (size_t i = 0; i < l->n_hist; i++)
		if (l->hist[i] == tli)
			return true;
	return false;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* --- the report ------------------------------------------------------------------ */

void pgha_wal_coverage_free(struct pgha_wal_coverage *out)
{
	if (!out)
		return;
	free(out->timelines);
	memset(out, 0, sizeof *out);
}

/* The timeline recovery reads segment segno from: the newest of the path
 * whose begin segment is not after it (PostgreSQL's XLogFileReadAnyTLI). */
static uint32_t expected_tli(const struct pgha_tl_history *path, uint64_t segno)
{
	for (size_t i = path->n; i-- > 0;)
		if (pgha_wal_segno_of(path->entries[i].begin) <= segno)
			return path->entries[i].tli;
	return path->entries[0].tli;
}

static void add_missing_name(struct pgha_wal_coverage *out, const char *name)
{
	if (out->n_missing_listed < PGHA_WAL_MAX_MISSING)
		snprintf(out->missing[out->n_missing_listed++], PGHA_WAL_NAME_SIZE, "%s", name);
}

/* Segments from..to (inclusive) are missing. */
static void add_missing(struct pgha_wal_coverage *out, const struct pgha_tl_history *path,
			uint64_t from, uint64_t to)
{
	out->n_missing += to - from + 1;
	for (uint64_t s = from; s <= to && out->n_missing_listed < PGHA_WAL_MAX_MISSING; s++) {
		char name[PGHA_WAL_NAME_SIZE];
		pgha_wal_format_name(expected_tli(path, s), s, name);
		add_missing_name(out, name);
	}
}

/* Why the report is not ok (the first reason given wins). */
static void not_ok(struct pgha_wal_coverage *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void not_ok(struct pgha_wal_coverage *out, const char *fmt, ...)
{
	out->ok = false;
	if (out->why[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof out->why, fmt, ap);
	va_end(ap);
}

/* Load the path of timeline target into path. When the start is on the
 * target itself no history is needed (every segment from the start on is
 * on it, so it is not read). Returns 0 (path set, or out marked not ok with path empty) or an
 * error. */
static int load_path(const struct listing *l, pgha_wal_history_fn history, void *ud,
		     uint32_t target, uint32_t start_tli, struct pgha_tl_history *path,
		     struct pgha_wal_coverage *out, char *err, size_t errlen)
{
	char hname[PGHA_WAL_NAME_SIZE];
	size_t alloc = 0;
	path->entries = NULL;
	path->n = 0;
	if (target == start_tli) {
		if (history_add(path, &alloc, target, 0, 0, false)) {
			pgha_errf(err, errlen, "out of memory");
			return PGHA_E_NOMEM;
		}
		return 0;
	}
	pgha_wal_history_name(target, hname);
	char *text = NULL;
	size_t len = 0;
	int rc = has_history(l, target) && history
			 ? history(ud, target, &text, &len, err, errlen)
			 : PGHA_E_NOTFOUND;
	if (rc == PGHA_E_NOTFOUND) {
		free(text);
		out->n_missing++;
		add_missing_name(out, hname);
		not_ok(out, "history file %s of timeline %" PRIu32 " is missing: the switches "
		       "from timeline %" PRIu32 " cannot be followed", hname, target, start_tli);
		return 0;
	}
	if (rc) {
		free(text);
		return rc;
	}
	char perr[256];
	rc = pgha_tl_history_parse(target, text, len, path, perr, sizeof perr);
	free(text);
	if (rc == PGHA_E_NOMEM) {
		pgha_errf(err, errlen, "out of memory");
		return rc;
	}
	if (rc) {
		not_ok(out, "invalid history file %s: %s", hname, perr);
		return 0;
	}
	return 0;
}

/* The timelines followed from the start's (index i) on, into out. */
static int report_timelines(const struct pgha_tl_history *path, size_t i, uint64_t start,
			    struct pgha_wal_coverage *out)
{
	out->n_timelines = path->n - i;
	out->timelines = malloc(out->n_timelines * sizeof *out->timelines);
	if (!out->timelines) {
		out->n_timelines = 0;
		return PGHA_E_NOMEM;
	}
	memcpy(out->timelines, path->entries + i, out->n_timelines * sizeof *out->timelines);
	if (out->timelines[0].begin < start)
		out->timelines[0].begin = start;
	return 0;
}

/* Judge a collected listing. */
static int judge(struct listing *l, pgha_wal_history_fn history, void *ud, uint32_t start_tli,
		 uint64_t start, const struct pgha_wal_coverage_opts *opts,
		 struct pgha_wal_coverage *out, char *err, size_t errlen)
{
	uint32_t target = opts && opts->timeline ? opts->timeline : l->max_tli;
	if (target < start_tli && !(opts && opts->timeline))
		target = start_tli;
	out->timeline = target;

	struct pgha_tl_history path;
	int rc = load_path(l, history, ud, target, start_tli, &path, out, err, errlen);
	if (rc || path.n == 0)
		return rc;

	/* the start must be on the path, before its timeline ended */
	size_t si = path.n;
	for (size_t i = 0; i < path.n; i++)
		if (path.entries[i].tli == start_tli)
			si = i;
	if (si == path.n) {
		not_ok(out, "timeline %" PRIu32 " of %s is not on the path of timeline %" PRIu32
		       " (an abandoned branch)", start_tli, out->start, target);
		pgha_tl_history_free(&path);
		return 0;
	}
	const struct pgha_timeline *st = &path.entries[si];
	if (st->has_end && (st->end == 0 || pgha_wal_segno_of(st->end - 1) < start)) {
		char lsn[PGHA_LSN_SIZE];
		pgha_lsn_format(st->end, lsn);
		not_ok(out, "%s lies after the end of timeline %" PRIu32 " at %s (an abandoned "
		       "branch)", out->start, start_tli, lsn);
		pgha_tl_history_free(&path);
		return 0;
	}
	if (report_timelines(&path, si, pgha_wal_segment_start(start), out)) {
		pgha_tl_history_free(&path);
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}

	uint64_t limit = UINT64_MAX;
	if (opts && opts->has_end) {
		limit = pgha_wal_segno_of(opts->end_lsn);
		pgha_wal_format_name(expected_tli(&path, limit), limit, out->end);
	}

	/* keep the segments on the path, sorted, once each */
	uint64_t *keep = malloc((l->n_segs ? l->n_segs : 1) * sizeof *keep);
	if (!keep) {
		pgha_tl_history_free(&path);
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	size_t nk = 0;
	for (size_t i = 0; i < l->n_segs; i++)
		if (l->segs[i].segno >= start && l->segs[i].segno <= limit &&
		    l->segs[i].tli == expected_tli(&path, l->segs[i].segno))
			keep[nk++] = l->segs[i].segno;
	qsort(keep, nk, sizeof *keep, cmp_u64);

	uint64_t next = start;
	bool any = false;
	for (size_t i = 0; i < nk; i++) {
		if (i > 0 && keep[i] == keep[i - 1])
			continue;
		if (keep[i] > next)
			add_missing(out, &path, next, keep[i] - 1);
		if (!any)
			pgha_wal_format_name(expected_tli(&path, keep[i]), keep[i], out->first);
		any = true;
		pgha_wal_format_name(expected_tli(&path, keep[i]), keep[i], out->last);
		out->n_present++;
		next = keep[i] + 1;
	}
	if (opts && opts->has_end) {
		if (next <= limit)
			add_missing(out, &path, next, limit);
	} else if (!any) {
		add_missing(out, &path, start, start);
	}
	if (!any)
		not_ok(out, "nothing archived from %s on", out->start);
	else if (out->n_missing)
		not_ok(out, "%" PRIu64 " segment%s missing, the first %s", out->n_missing,
		       out->n_missing == 1 ? "" : "s", out->missing[0]);
	free(keep);
	pgha_tl_history_free(&path);
	return 0;
}

/* Start a report for start_wal; PGHA_E_INVALID for a bad one. */
static int begin(const char *start_wal, const struct pgha_wal_coverage_opts *opts,
		 struct pgha_wal_coverage *out, uint32_t *tli, uint64_t *segno,
		 char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->ok = true;
	if (pgha_wal_parse_name(start_wal, tli, segno)) {
		pgha_errf(err, errlen, "invalid WAL segment name \"%s\"", start_wal ? start_wal : "");
		return PGHA_E_INVALID;
	}
	snprintf(out->start, sizeof out->start, "%s", start_wal);
	if (opts && opts->has_end && pgha_wal_segno_of(opts->end_lsn) < *segno) {
		char lsn[PGHA_LSN_SIZE];
		pgha_lsn_format(opts->end_lsn, lsn);
		pgha_errf(err, errlen, "end %s lies before the start %s", lsn, start_wal);
		return PGHA_E_INVALID;
	}
	if (opts && opts->timeline && opts->timeline < *tli) {
		pgha_errf(err, errlen, "timeline %" PRIu32 " is older than the start's (%s)",
			  opts->timeline, start_wal);
		return PGHA_E_INVALID;
	}
	return 0;
}

int pgha_wal_coverage_list(const char *const *names, size_t n, pgha_wal_history_fn history,
			   void *ud, const char *start_wal,
			   const struct pgha_wal_coverage_opts *opts,
			   struct pgha_wal_coverage *out, char *err, size_t errlen)
{
	uint32_t tli;
	uint64_t segno;
	int rc = begin(start_wal, opts, out, &tli, &segno, err, errlen);
	if (rc)
		return rc;
	struct listing l = { .from = segno };
	for (size_t i = 0; i < n && rc == 0; i++)
		if (names[i])
			rc = listing_add(&l, names[i]);
	if (rc)
		pgha_errf(err, errlen, "out of memory");
	else
		rc = judge(&l, history, ud, tli, segno, opts, out, err, errlen);
	listing_free(&l);
	return rc;
}

/* --- a directory -------------------------------------------------------------------- */

struct dir_ctx {
	const char *dir;
};

/* Read dir/NNNNNNNN.history (pgha_wal_history_fn). */
static int read_history(void *ud, uint32_t tli, char **text, size_t *len, char *err,
			size_t errlen)
{
	const struct dir_ctx *d = ud;
	char name[PGHA_WAL_NAME_SIZE], path[4096];
	pgha_wal_history_name(tli, name);
	if (snprintf(path, sizeof path, "%s/%s", d->dir, name) >= (int)sizeof path) {
		pgha_errf(err, errlen, "path too long: \"%s/%s\"", d->dir, name);
		return PGHA_E_INVALID;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return PGHA_E_NOTFOUND;
		pgha_errf(err, errlen, "could not open file \"%s\": %s", path, strerror(errno));
		return PGHA_E_IO;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= PGHA_WAL_HISTORY_MAX) {
				free(buf);
				close(fd);
				pgha_errf(err, errlen, "history file \"%s\" is larger than %d bytes",
					  path, PGHA_WAL_HISTORY_MAX);
				return PGHA_E_TOOBIG;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				close(fd);
				pgha_errf(err, errlen, "out of memory");
				return PGHA_E_NOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			free(buf);
			close(fd);
			pgha_errf(err, errlen, "could not read file \"%s\": %s", path, strerror(e));
			return PGHA_E_IO;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	*text = buf;
	*len = n;
	return 0;
}

int pgha_wal_coverage_dir(const char *dir, const char *start_wal,
			  const struct pgha_wal_coverage_opts *opts,
			  struct pgha_wal_coverage *out, char *err, size_t errlen)
{
	uint32_t tli;
	uint64_t segno;
	int rc = begin(start_wal, opts, out, &tli, &segno, err, errlen);
	if (rc)
		return rc;
	DIR *d = opendir(dir);
	if (!d) {
		pgha_errf(err, errlen, "could not open directory \"%s\": %s", dir, strerror(errno));
		return PGHA_E_IO;
	}
	struct listing l = { .from = segno };
	struct dirent *e;
	errno = 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		/* names only: a directory named like a segment is rare enough that
		 * only d_type (when the file system fills it) is looked at */
		if (e->d_type == DT_DIR)
			continue;
		rc = listing_add(&l, e->d_name);
		errno = 0;
	}
	if (rc == 0 && errno) {
		pgha_errf(err, errlen, "could not read directory \"%s\": %s", dir, strerror(errno));
		rc = PGHA_E_IO;
	} else if (rc) {
		pgha_errf(err, errlen, "out of memory");
	}
	closedir(d);
	struct dir_ctx ctx = { dir };
	if (rc == 0)
		rc = judge(&l, read_history, &ctx, tli, segno, opts, out, err, errlen);
	listing_free(&l);
	return rc;
}
