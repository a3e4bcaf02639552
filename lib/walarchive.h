/*
 * walarchive.h: WAL file names, LSNs, timeline history files, and whether
 * a WAL archive holds every segment from a starting point on.
 *
 * Segments are PostgreSQL's default 16 MB (wal_segment_size = 16MB), so a
 * segment name TTTTTTTTXXXXXXXXYYYYYYYY is the timeline T, then the segment
 * number split as XXXXXXXX = segno / 256 and YYYYYYYY = segno % 256 (00 to
 * FF), in upper-case hex as PostgreSQL writes them. An LSN is printed
 * "X/Y" (upper-case hex, the high and low 32 bits).
 *
 * Timeline history: after a promotion at LSN X on timeline T the new
 * timeline T' (the next free id) begins at X, and PostgreSQL archives
 * T'.history (8 hex digits + ".history") listing every ancestor: one line
 * "parentTLI<TAB>switchpoint<TAB>reason" per timeline, oldest first, where
 * switchpoint is the LSN at which that timeline ended. The segment holding
 * X exists on T' (the part before X is copied from T); the old primary's
 * copy of that segment on T is archived as NAME.partial.
 *
 * Continuity (pgha_wal_coverage_*): starting at a segment (a base backup's
 * start_wal), the archive is continuous when every segment from it to the
 * newest archived one (or to a target LSN) is present on the timeline that
 * recovery would read it from: the timeline path of the newest timeline (or
 * of a timeline given), as its history file describes it, exactly as
 * PostgreSQL picks a segment for recovery_target_timeline = latest (the
 * newest timeline of the path whose begin segment is not after it).
 *   counted      full segments, also compressed ones (NAME.gz, .lz4, .zst,
 *                .bz2, .xz) as some archive_commands write them
 *   not counted  NAME.partial (a timeline's unfinished last segment),
 *                segments of timelines not on the path (abandoned branches,
 *                a crashed old primary's WAL past its timeline's end),
 *                NAME.XXXXXXXX.backup files, anything else (ignored)
 * The newest timeline is the highest of the full segments, history files
 * and the start's; when it is not the start's timeline its history file is
 * needed to follow the switches: a missing one is reported as missing.
 *
 * Nothing here decides a plugin state; the check and the fs host module
 * do.
 */
#ifndef PGHA_WALARCHIVE_H
#define PGHA_WALARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PGHA_WAL_SEG_SIZE (16u * 1024u * 1024u)
#define PGHA_WAL_SEGS_PER_XLOGID 256u /* 4 GB / 16 MB */
#define PGHA_WAL_NAME_LEN 24          /* "000000030000000000000005" */
#define PGHA_WAL_NAME_SIZE 32         /* room for a segment or history name */
#define PGHA_LSN_SIZE 18              /* "FFFFFFFF/FFFFFFFF" + NUL */
#define PGHA_WAL_MAX_MISSING 5        /* missing names listed in a report */
#define PGHA_WAL_HISTORY_MAX (1024 * 1024) /* bytes read of a history file */

/* --- names and LSNs --------------------------------------------------------- */

/* Parse a segment name: exactly 24 upper-case hex digits, timeline >= 1 and
 * the low part 00000000..000000FF. Returns 0 (tli, segno set; either may be
 * NULL) or PGHA_E_INVALID. */
int pgha_wal_parse_name(const char *name, uint32_t *tli, uint64_t *segno);

/* The segment's name into out (PGHA_WAL_NAME_SIZE bytes). */
void pgha_wal_format_name(uint32_t tli, uint64_t segno, char *out);

/* The history file name of a timeline ("00000004.history") into out
 * (PGHA_WAL_NAME_SIZE bytes). */
void pgha_wal_history_name(uint32_t tli, char *out);

/* The segment after name on the same timeline into out
 * (PGHA_WAL_NAME_SIZE bytes). Returns 0 or PGHA_E_INVALID (not a name). */
int pgha_wal_next_name(const char *name, char *out);

/* Parse "X/Y" (1 to 8 hex digits each, either case). Returns 0 or
 * PGHA_E_INVALID (*lsn unchanged). */
int pgha_lsn_parse(const char *text, uint64_t *lsn);

/* "X/Y" as PostgreSQL prints it, into out (PGHA_LSN_SIZE bytes). */
void pgha_lsn_format(uint64_t lsn, char *out);

/* The segment number holding lsn, and the first LSN of a segment. */
uint64_t pgha_wal_segno_of(uint64_t lsn);
uint64_t pgha_wal_segment_start(uint64_t segno);

/* --- timeline history ------------------------------------------------------- */

/* One timeline of a path: it holds WAL from begin (0 for the first) up to
 * end, the switch point where the next timeline of the path took over
 * (has_end false for the last: it goes on). */
struct pgha_timeline {
	uint32_t tli;
	uint64_t begin, end;
	bool has_end;
};

/* The path to a timeline, oldest first; the last entry is that timeline.
 * Owns its array. */
struct pgha_tl_history {
	struct pgha_timeline *entries;
	size_t n;
};

/* Parse the text (len bytes) of tli's history file as PostgreSQL does:
 * blank lines and lines starting with '#' are skipped, each other line is
 * "TLI<whitespace>X/Y" and then anything; timelines must increase and be
 * below tli, switch points must not decrease. Returns 0, PGHA_E_INVALID
 * (err: `line 2: expected a switch point "X/Y"`) or PGHA_E_NOMEM. On
 * error h holds nothing. */
int pgha_tl_history_parse(uint32_t tli, const char *text, size_t len,
			  struct pgha_tl_history *h, char *err, size_t errlen);

/* Free the entries; h is left empty. Safe on a zeroed struct. */
void pgha_tl_history_free(struct pgha_tl_history *h);

/* --- continuity --------------------------------------------------------------- */

struct pgha_wal_coverage_opts {
	uint32_t timeline; /* follow this timeline's path; 0: the newest */
	bool has_end;      /* check up to the segment holding end_lsn ... */
	uint64_t end_lsn;  /* ... instead of up to the newest archived one */
};

/* The report. Names are "" when there is none. */
struct pgha_wal_coverage {
	bool ok;                     /* continuous (and nothing else wrong) */
	char why[512];               /* when not ok: one line saying why */
	char start[PGHA_WAL_NAME_SIZE]; /* the start as given */
	char first[PGHA_WAL_NAME_SIZE]; /* first segment present from start on */
	char last[PGHA_WAL_NAME_SIZE];  /* last one present on the path */
	char end[PGHA_WAL_NAME_SIZE];   /* with has_end: the segment required last */
	uint32_t timeline;           /* the timeline followed */
	uint64_t n_present;          /* segments present from start to last */
	uint64_t n_missing;          /* segments (and history files) missing */
	char missing[PGHA_WAL_MAX_MISSING][PGHA_WAL_NAME_SIZE]; /* the first ones */
	size_t n_missing_listed;
	/* the timelines followed from the start's on: the first begins at the
	 * start segment, each later one at its switch point. Owned. */
	struct pgha_timeline *timelines;
	size_t n_timelines;
};

/* Called for a timeline's history file: set *text (malloc'ed, caller
 * frees) and *len and return 0; return PGHA_E_NOTFOUND when there is none,
 * or another error with err set. */
typedef int (*pgha_wal_history_fn)(void *ud, uint32_t tli, char **text, size_t *len,
				   char *err, size_t errlen);

/* Judge an archive given as a list of n file names (anything not a
 * segment or a history file is ignored; history texts come from history).
 * start_wal is a segment name. opts may be NULL (newest timeline, up to
 * the newest segment). Returns 0 with the report in out (ok or not);
 * PGHA_E_INVALID for a bad start_wal or an end before the start;
 * PGHA_E_NOMEM; or history's error (e.g. PGHA_E_IO); err set on every
 * error. Free out with pgha_wal_coverage_free() in every case. */
int pgha_wal_coverage_list(const char *const *names, size_t n, pgha_wal_history_fn history,
			   void *ud, const char *start_wal,
			   const struct pgha_wal_coverage_opts *opts,
			   struct pgha_wal_coverage *out, char *err, size_t errlen);

/* The same for the files of a directory (its subdirectories are ignored),
 * reading history files from it (up to PGHA_WAL_HISTORY_MAX bytes).
 * PGHA_E_IO when the directory or a history file cannot be read
 * (err: `could not open directory "x": Permission denied`). */
int pgha_wal_coverage_dir(const char *dir, const char *start_wal,
			  const struct pgha_wal_coverage_opts *opts,
			  struct pgha_wal_coverage *out, char *err, size_t errlen);

/* Free the report's timelines; out is left zeroed. */
void pgha_wal_coverage_free(struct pgha_wal_coverage *out);

#endif
