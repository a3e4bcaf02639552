/* test_walarchive.c: WAL names, LSNs, history files and archive continuity
 * on hand-built listings (and one directory). */
#define _POSIX_C_SOURCE 200809L
#include "error.h"
#include "tap.h"
#include "walarchive.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char err[512];

/* --- names and LSNs --------------------------------------------------------- */

static void test_names(void)
{
	uint32_t tli = 0;
	uint64_t segno = 0;
	char name[PGHA_WAL_NAME_SIZE];

	is_int(pgha_wal_parse_name("000000030000000000000005", &tli, &segno), 0, "parse a name");
	is_int(tli, 3, "its timeline");
	is_int(segno, 5, "its segment number");
	is_int(pgha_wal_parse_name("0000000A00000016000000B3", &tli, &segno), 0,
	       "parse a name with a high part");
	is_int(tli, 10, "timeline 0A");
	is_int(segno, 0x16 * 256 + 0xB3, "segment 0x16 * 256 + 0xB3");
	is_int(pgha_wal_parse_name("00000001000000000000000a", NULL, NULL), PGHA_E_INVALID,
	       "lower case refused");
	is_int(pgha_wal_parse_name("00000001000000000000000", NULL, NULL), PGHA_E_INVALID,
	       "23 characters refused");
	is_int(pgha_wal_parse_name("0000000100000000000000050", NULL, NULL), PGHA_E_INVALID,
	       "25 characters refused");
	is_int(pgha_wal_parse_name("000000010000000000000100", NULL, NULL), PGHA_E_INVALID,
	       "low part 0x100 refused (16 MB segments)");
	is_int(pgha_wal_parse_name("000000000000000000000005", NULL, NULL), PGHA_E_INVALID,
	       "timeline 0 refused");
	is_int(pgha_wal_parse_name(NULL, NULL, NULL), PGHA_E_INVALID, "NULL refused");

	pgha_wal_format_name(3, 5, name);
	is_str(name, "000000030000000000000005", "format a name");
	pgha_wal_format_name(0xA, 0x16 * 256 + 0xB3, name);
	is_str(name, "0000000A00000016000000B3", "format with a high part, upper case");
	is_int(pgha_wal_next_name("0000000100000000000000FE", name), 0, "next name");
	is_str(name, "0000000100000000000000FF", "next of FE is FF");
	pgha_wal_next_name("0000000100000000000000FF", name);
	is_str(name, "000000010000000100000000", "next of FF carries into the high part");
	is_int(pgha_wal_next_name("junk", name), PGHA_E_INVALID, "next of junk refused");
	pgha_wal_history_name(4, name);
	is_str(name, "00000004.history", "history file name");
}

static void test_lsn(void)
{
	uint64_t lsn = 42;
	char text[PGHA_LSN_SIZE];

	is_int(pgha_lsn_parse("0/5000028", &lsn), 0, "parse 0/5000028");
	is_int(lsn, 0x5000028, "its value");
	is_int(pgha_lsn_parse("16/b374d848", &lsn), 0, "parse lower case");
	ok(lsn == ((uint64_t)0x16 << 32 | 0xB374D848), "16/B374D848");
	pgha_lsn_format(lsn, text);
	is_str(text, "16/B374D848", "format as PostgreSQL (upper case)");
	pgha_lsn_format(0, text);
	is_str(text, "0/0", "format 0/0");
	pgha_lsn_format(UINT64_MAX, text);
	is_str(text, "FFFFFFFF/FFFFFFFF", "format the largest");
	lsn = 7;
	const char *bad[] = { "", "0/", "/1", "123456789/0", "0/123456789", "0/5x", "G/1",
			      "0 /1", "0/1 ", "1", "0//1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		is_int(pgha_lsn_parse(bad[i], &lsn), PGHA_E_INVALID, "refuse \"%s\"", bad[i]);
	is_int(lsn, 7, "a refused LSN leaves the value");

	is_int(pgha_wal_segno_of(0x5000028), 5, "segment of 0/5000028");
	is_int(pgha_wal_segno_of(0x4FFFFFF), 4, "segment of 0/4FFFFFF");
	is_int(pgha_wal_segno_of((uint64_t)1 << 32), 256, "segment of 1/0");
	ok(pgha_wal_segment_start(257) == ((uint64_t)1 << 32 | 0x1000000), "segment 257 starts at 1/1000000");
}

/* --- history ---------------------------------------------------------------- */

static int parse_history(uint32_t tli, const char *text, struct pgha_tl_history *h)
{
	err[0] = '\0';
	return pgha_tl_history_parse(tli, text, strlen(text), h, err, sizeof err);
}

static void test_history(void)
{
	struct pgha_tl_history h;
	int rc = parse_history(3, "1\t0/3000000\tno recovery target specified\n"
			       "\n# a comment\n  \n"
			       "2\t0/5000100\tat restore point \"x\"\n", &h);
	is_int(rc, 0, "parse a history with comments and blank lines");
	is_int(h.n, 3, "two ancestors and the timeline itself");
	if (h.n == 3) {
		ok(h.entries[0].tli == 1 && h.entries[0].begin == 0 && h.entries[0].end == 0x3000000 &&
		   h.entries[0].has_end, "timeline 1 ends at 0/3000000");
		ok(h.entries[1].tli == 2 && h.entries[1].begin == 0x3000000 &&
		   h.entries[1].end == 0x5000100, "timeline 2 from 0/3000000 to 0/5000100");
		ok(h.entries[2].tli == 3 && h.entries[2].begin == 0x5000100 && !h.entries[2].has_end,
		   "timeline 3 from 0/5000100 on");
	}
	pgha_tl_history_free(&h);
	pgha_tl_history_free(&h);
	ok(h.entries == NULL && h.n == 0, "free twice is safe");

	rc = parse_history(2, "1 0/3000000\r\n", &h);
	is_int(rc, 0, "space separator and CRLF accepted (PostgreSQL's sscanf)");
	is_int(h.n, 2, "one ancestor");
	pgha_tl_history_free(&h);

	rc = parse_history(4, "1\t0/3000000\treason\n3\t0/4800000\treason", &h);
	is_int(rc, 0, "a skipped timeline (2 abandoned) and no final newline");
	ok(h.n == 3 && h.entries[1].tli == 3 && h.entries[2].tli == 4, "path 1, 3, 4");
	pgha_tl_history_free(&h);

	is_int(parse_history(2, "", &h), 0, "an empty history: just the timeline");
	is_int(h.n, 1, "one entry");
	pgha_tl_history_free(&h);

	is_int(parse_history(3, "2\t0/3000000\n1\t0/4000000\n", &h), PGHA_E_INVALID,
	       "decreasing timelines refused");
	like(err, "line 2: timeline ids must increase", "message");
	ok(h.entries == NULL && h.n == 0, "nothing kept on error");
	is_int(parse_history(3, "1\t0/5000000\n2\t0/4000000\n", &h), PGHA_E_INVALID,
	       "decreasing switch points refused");
	like(err, "line 2: switch point before", "message");
	is_int(parse_history(2, "x\t0/5000000\n", &h), PGHA_E_INVALID, "non-numeric timeline");
	like(err, "line 1: expected a numeric timeline id", "message");
	is_int(parse_history(2, "1\tnope\n", &h), PGHA_E_INVALID, "bad switch point");
	like(err, "line 1: expected a switch point", "message");
	is_int(parse_history(2, "1\t0/5000000\n2\t0/6000000\n", &h), PGHA_E_INVALID,
	       "a timeline not below the file's refused");
	like(err, "below the file's timeline 2", "message");
}

/* --- continuity on listings --------------------------------------------------- */

struct hist {
	uint32_t tli;
	const char *text;
};

/* History texts for the list tests: a NULL-terminated table. */
static int hist_cb(void *ud, uint32_t tli, char **text, size_t *len, char *e, size_t elen)
{
	const struct hist *h = ud;
	for (; h && h->text; h++)
		if (h->tli == tli) {
			*text = strdup(h->text);
			*len = strlen(h->text);
			return *text ? 0 : PGHA_E_NOMEM;
		}
	(void)e;
	(void)elen;
	return PGHA_E_NOTFOUND;
}

static int io_error_cb(void *ud, uint32_t tli, char **text, size_t *len, char *e, size_t elen)
{
	(void)ud;
	(void)tli;
	(void)text;
	(void)len;
	pgha_errf(e, elen, "could not open file \"x\": Permission denied");
	return PGHA_E_IO;
}

static int cover(const char *const *names, const struct hist *hist, const char *start,
		 const struct pgha_wal_coverage_opts *opts, struct pgha_wal_coverage *c)
{
	size_t n = 0;
	while (names[n])
		n++;
	err[0] = '\0';
	return pgha_wal_coverage_list(names, n, hist_cb, (void *)(uintptr_t)hist, start, opts, c,
				      err, sizeof err);
}

static void test_continuous(void)
{
	const char *names[] = { "000000030000000000000004", "000000030000000000000005",
				"000000030000000000000006", "000000030000000000000007",
				"000000030000000000000008", "000000030000000000000009",
				"00000003000000000000000A", NULL };
	struct pgha_wal_coverage c;
	is_int(cover(names, NULL, "000000030000000000000005", NULL, &c), 0,
	       "continuous: report made");
	ok(c.ok, "continuous single timeline: ok");
	is_str(c.first, "000000030000000000000005", "first is the start");
	is_str(c.last, "00000003000000000000000A", "last is the newest");
	is_int(c.n_present, 6, "six segments from the start on");
	is_int(c.n_missing, 0, "none missing");
	is_str(c.why, "", "no reason");
	is_int(c.timeline, 3, "timeline 3 followed");
	is_int(c.n_timelines, 1, "one timeline on the path");
	ok(c.n_timelines == 1 && c.timelines[0].tli == 3 && c.timelines[0].begin == 0x5000000 &&
	   !c.timelines[0].has_end, "timeline 3 from the start segment on");
	pgha_wal_coverage_free(&c);
	ok(c.timelines == NULL && c.n_timelines == 0, "free leaves it empty");

	/* a history file of the start's own timeline is not needed */
	const char *own[] = { "00000003.history", "000000030000000000000005", NULL };
	struct hist broken[] = { { 3, "garbage" }, { 0, NULL } };
	cover(own, broken, "000000030000000000000005", NULL, &c);
	ok(c.ok, "the start's own timeline: its history is not read");
	pgha_wal_coverage_free(&c);

	/* the same segment plain and compressed counts once */
	const char *dup[] = { "000000010000000000000001", "000000010000000000000001.gz",
			      "000000010000000000000002.zst", "000000010000000000000003.lz4",
			      NULL };
	cover(dup, NULL, "000000010000000000000001", NULL, &c);
	ok(c.ok, "compressed segments count");
	is_int(c.n_present, 3, "a segment present twice counts once");
	is_str(c.last, "000000010000000000000003", "last");
	pgha_wal_coverage_free(&c);

	/* over an xlogid boundary */
	const char *wrap[] = { "0000000100000000000000FE", "0000000100000000000000FF",
			       "000000010000000100000000", NULL };
	cover(wrap, NULL, "0000000100000000000000FE", NULL, &c);
	ok(c.ok, "continuous across 0/FF000000 -> 1/0");
	is_str(c.last, "000000010000000100000000", "last is 1/0's segment");
	pgha_wal_coverage_free(&c);
}

static void test_gap(void)
{
	const char *names[] = { "000000010000000000000005", "000000010000000000000006",
				"000000010000000000000008", "000000010000000000000009", NULL };
	struct pgha_wal_coverage c;
	is_int(cover(names, NULL, "000000010000000000000005", NULL, &c), 0, "gap: report made");
	ok(!c.ok, "one gap: not ok");
	is_int(c.n_missing, 1, "one missing");
	is_int(c.n_missing_listed, 1, "one listed");
	is_str(c.missing[0], "000000010000000000000007", "the missing one named");
	is_str(c.why, "1 segment missing, the first 000000010000000000000007", "why");
	is_str(c.last, "000000010000000000000009", "last still the newest");
	is_int(c.n_present, 4, "four present");
	pgha_wal_coverage_free(&c);

	/* the start itself missing */
	const char *late[] = { "000000010000000000000006", NULL };
	cover(late, NULL, "000000010000000000000005", NULL, &c);
	ok(!c.ok, "start segment missing: not ok");
	is_str(c.missing[0], "000000010000000000000005", "the start named");
	is_str(c.first, "000000010000000000000006", "first present is the next");
	pgha_wal_coverage_free(&c);

	/* a long gap: a few listed, all counted */
	const char *longgap[] = { "000000010000000000000001", "000000010000000100000000", NULL };
	cover(longgap, NULL, "000000010000000000000001", NULL, &c);
	ok(!c.ok, "long gap: not ok");
	is_int(c.n_missing, 254, "254 missing counted (02..FF)");
	is_int(c.n_missing_listed, PGHA_WAL_MAX_MISSING, "only the first few listed");
	is_str(c.missing[0], "000000010000000000000002", "first missing");
	is_str(c.missing[4], "000000010000000000000006", "fifth missing");
	pgha_wal_coverage_free(&c);

	/* segments before the start do not matter */
	const char *before[] = { "000000010000000000000001", "000000010000000000000005", NULL };
	cover(before, NULL, "000000010000000000000005", NULL, &c);
	ok(c.ok, "a gap before the start does not count");
	pgha_wal_coverage_free(&c);
}

static void test_switch(void)
{
	/* failover at 0/5000100 from timeline 1 to 2 */
	const char *names[] = { "000000010000000000000003", "000000010000000000000004",
				"000000010000000000000005.partial", "00000002.history",
				"000000020000000000000005", "000000020000000000000006",
				"000000020000000000000007", NULL };
	struct hist hist[] = { { 2, "1\t0/5000100\tno recovery target specified\n" },
			       { 0, NULL } };
	struct pgha_wal_coverage c;
	cover(names, hist, "000000010000000000000003", NULL, &c);
	ok(c.ok, "switch to timeline 2 with its history: ok");
	is_str(c.why, "", "no reason");
	is_str(c.first, "000000010000000000000003", "first on timeline 1");
	is_str(c.last, "000000020000000000000007", "last on timeline 2");
	is_int(c.n_present, 5, "03, 04 on 1; 05, 06, 07 on 2");
	is_int(c.timeline, 2, "newest timeline 2");
	is_int(c.n_timelines, 2, "two timelines followed");
	if (c.n_timelines == 2) {
		ok(c.timelines[0].tli == 1 && c.timelines[0].begin == 0x3000000 &&
		   c.timelines[0].has_end && c.timelines[0].end == 0x5000100,
		   "timeline 1 from the start to the switch point");
		ok(c.timelines[1].tli == 2 && c.timelines[1].begin == 0x5000100 &&
		   !c.timelines[1].has_end, "timeline 2 from the switch point on");
	}
	pgha_wal_coverage_free(&c);

	/* the switch segment only on the old timeline (the old primary's copy) */
	const char *old[] = { "000000010000000000000004", "000000010000000000000005",
			      "00000002.history", "000000020000000000000006", NULL };
	cover(old, hist, "000000010000000000000004", NULL, &c);
	ok(!c.ok, "the switch segment on the old timeline does not count");
	is_str(c.missing[0], "000000020000000000000005", "it is missing on the new timeline");
	pgha_wal_coverage_free(&c);

	/* a backup whose start segment holds the switch point */
	cover(names, hist, "000000010000000000000005", NULL, &c);
	ok(c.ok, "start in the switch segment: read from the new timeline, ok");
	is_str(c.first, "000000020000000000000005", "first is on timeline 2");
	pgha_wal_coverage_free(&c);

	/* following timeline 1 only */
	struct pgha_wal_coverage_opts one = { .timeline = 1 };
	cover(names, hist, "000000010000000000000003", &one, &c);
	ok(c.ok, "--timeline 1: ok up to its last full segment");
	is_str(c.last, "000000010000000000000004", "last full segment of timeline 1");
	pgha_wal_coverage_free(&c);

	/* a switch at a segment boundary */
	const char *bound[] = { "000000010000000000000004", "00000002.history",
				"000000020000000000000005", NULL };
	struct hist bh[] = { { 2, "1\t0/5000000\treason\n" }, { 0, NULL } };
	cover(bound, bh, "000000010000000000000004", NULL, &c);
	ok(c.ok, "switch at a segment boundary: ok");
	pgha_wal_coverage_free(&c);
	const char *after[] = { "000000010000000000000005", "00000002.history",
				"000000020000000000000005", NULL };
	cover(after, bh, "000000010000000000000005", NULL, &c);
	ok(!c.ok, "a start on timeline 1 after it ended at the boundary: not ok");
	like(c.why, "lies after the end of timeline 1 at 0/5000000", "why");
	pgha_wal_coverage_free(&c);
}

static void test_abandoned(void)
{
	/* timeline 2 branched from 1 at 0/5000000 and was abandoned: timeline 3
	 * branched from 1 at 0/4800000 (a restore to an earlier point) */
	const char *names[] = { "000000010000000000000003", "000000010000000000000004",
				"000000010000000000000005", "000000010000000000000006",
				"00000002.history", "000000020000000000000005",
				"000000020000000000000006", "00000003.history",
				"000000030000000000000004", "000000030000000000000006", NULL };
	struct hist hist[] = { { 2, "1\t0/5000000\treason\n" },
			       { 3, "1\t0/4800000\tbefore 2026-11-25 22:00:00+00\n" },
			       { 0, NULL } };
	struct pgha_wal_coverage c;
	cover(names, hist, "000000010000000000000003", NULL, &c);
	ok(!c.ok, "abandoned branch: its segments do not fill the gap");
	is_int(c.timeline, 3, "newest timeline 3 followed");
	is_str(c.missing[0], "000000030000000000000005", "missing on timeline 3");
	is_int(c.n_missing, 1, "only that one (05 on 1 and 2 do not count)");
	is_str(c.last, "000000030000000000000006", "last on timeline 3");
	is_int(c.n_timelines, 2, "path from the start: 1 then 3");
	ok(c.n_timelines == 2 && c.timelines[1].tli == 3 && c.timelines[1].begin == 0x4800000,
	   "timeline 3 from 0/4800000");
	pgha_wal_coverage_free(&c);

	cover(names, hist, "000000020000000000000005", NULL, &c);
	ok(!c.ok, "a start on the abandoned timeline: not ok");
	like(c.why, "timeline 2 of 000000020000000000000005 is not on the path of timeline 3",
	     "why names it");
	pgha_wal_coverage_free(&c);

	/* ... but following timeline 2 explicitly is fine */
	struct pgha_wal_coverage_opts two = { .timeline = 2 };
	cover(names, hist, "000000010000000000000003", &two, &c);
	ok(c.ok, "--timeline 2: 03, 04 on 1 then 05, 06 on 2");
	is_str(c.last, "000000020000000000000006", "last on 2");
	pgha_wal_coverage_free(&c);
}

static void test_missing_history(void)
{
	const char *names[] = { "000000010000000000000003", "000000010000000000000004",
				"000000020000000000000005", NULL };
	struct pgha_wal_coverage c;
	is_int(cover(names, NULL, "000000010000000000000003", NULL, &c), 0,
	       "missing history: a report, not an error");
	ok(!c.ok, "missing history: not ok");
	is_str(c.missing[0], "00000002.history", "the history file named as missing");
	is_int(c.n_missing, 1, "counted");
	like(c.why, "history file 00000002.history of timeline 2 is missing", "why");
	pgha_wal_coverage_free(&c);

	/* listed but unreadable: the callback's error */
	const char *listed[] = { "000000010000000000000003", "00000002.history", NULL };
	is_int(pgha_wal_coverage_list(listed, 2, io_error_cb, NULL, "000000010000000000000003",
				      NULL, &c, err, sizeof err),
	       PGHA_E_IO, "an unreadable history file is an error");
	like(err, "Permission denied", "with the callback's message");
	pgha_wal_coverage_free(&c);

	/* invalid content */
	struct hist bad[] = { { 2, "1\tnot-an-lsn\n" }, { 0, NULL } };
	cover(listed, bad, "000000010000000000000003", NULL, &c);
	ok(!c.ok, "an invalid history file: not ok");
	like(c.why, "invalid history file 00000002.history: line 1: expected a switch point",
	     "why");
	pgha_wal_coverage_free(&c);
}

static void test_partial_and_garbage(void)
{
	const char *partial[] = { "000000010000000000000005.partial", NULL };
	struct pgha_wal_coverage c;
	cover(partial, NULL, "000000010000000000000005", NULL, &c);
	ok(!c.ok, ".partial only: not ok");
	is_str(c.missing[0], "000000010000000000000005", "the start is missing");
	is_str(c.why, "nothing archived from 000000010000000000000005 on", "why");
	is_str(c.first, "", "no first");
	is_str(c.last, "", "no last");
	pgha_wal_coverage_free(&c);

	const char *empty[] = { NULL };
	cover(empty, NULL, "000000010000000000000005", NULL, &c);
	ok(!c.ok && c.n_missing == 1, "an empty archive: the start missing");
	pgha_wal_coverage_free(&c);

	const char *garbage[] = { "README", "000000010000000000000005",
				  "00000001000000000000000g", "000000010000000000000006.tmp",
				  ".000000010000000000000006.tmp.4242",
				  "000000010000000000000006.partial.gz",
				  "000000010000000000000005.00000028.backup",
				  "000000000000000000000006", "000000010000000000000106",
				  "0000000100000000000000006", "00000009.history.bak",
				  "0000000G.history", "000000010000000000000006", NULL };
	cover(garbage, NULL, "000000010000000000000005", NULL, &c);
	ok(c.ok, "garbage names ignored");
	is_str(c.last, "000000010000000000000006", "last is the real 06");
	is_int(c.timeline, 1, "no timeline taken from a garbage name");
	is_int(c.n_present, 2, "two segments");
	pgha_wal_coverage_free(&c);
}

static void test_target(void)
{
	const char *names[] = { "000000010000000000000005", "000000010000000000000006",
				"000000010000000000000007", NULL };
	struct pgha_wal_coverage c;
	struct pgha_wal_coverage_opts o = { .has_end = true, .end_lsn = 0x6000010 };
	cover(names, NULL, "000000010000000000000005", &o, &c);
	ok(c.ok, "target inside the archive: ok");
	is_str(c.last, "000000010000000000000006", "last is the target's segment");
	is_str(c.end, "000000010000000000000006", "end names it");
	pgha_wal_coverage_free(&c);

	o.end_lsn = 0x9000000;
	cover(names, NULL, "000000010000000000000005", &o, &c);
	ok(!c.ok, "target past the archive: not ok");
	is_int(c.n_missing, 2, "08 and 09 missing");
	is_str(c.missing[0], "000000010000000000000008", "first missing");
	is_str(c.missing[1], "000000010000000000000009", "second missing");
	pgha_wal_coverage_free(&c);

	o.end_lsn = 0x4000000;
	is_int(cover(names, NULL, "000000010000000000000005", &o, &c), PGHA_E_INVALID,
	       "an end before the start is an error");
	like(err, "end 0/4000000 lies before the start", "message");
	pgha_wal_coverage_free(&c);

	is_int(cover(names, NULL, "nonsense", NULL, &c), PGHA_E_INVALID, "bad start refused");
	like(err, "invalid WAL segment name \"nonsense\"", "message");
	pgha_wal_coverage_free(&c);
	struct pgha_wal_coverage_opts t = { .timeline = 1 };
	is_int(cover(names, NULL, "000000020000000000000005", &t, &c), PGHA_E_INVALID,
	       "a timeline older than the start's is an error");
	pgha_wal_coverage_free(&c);
}

/* --- a directory ---------------------------------------------------------------- */

static void touch(const char *dir, const char *name, const char *text)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f) {
		if (text)
			fputs(text, f);
		fclose(f);
	}
}

static void test_dir(void)
{
	char dir[] = "/tmp/test_walarchive.XXXXXX";
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	touch(dir, "000000010000000000000003", NULL);
	touch(dir, "000000010000000000000004", NULL);
	touch(dir, "000000010000000000000005.partial", NULL);
	touch(dir, "00000002.history", "1\t0/5000100\tno recovery target specified\n");
	touch(dir, "000000020000000000000005", NULL);
	touch(dir, "000000020000000000000007", NULL);
	char sub[1100];
	snprintf(sub, sizeof sub, "%s/000000020000000000000006", dir);
	mkdir(sub, 0700);

	struct pgha_wal_coverage c;
	err[0] = '\0';
	is_int(pgha_wal_coverage_dir(dir, "000000010000000000000003", NULL, &c, err, sizeof err),
	       0, "directory: report made");
	ok(!c.ok, "directory: a directory named like a segment does not count");
	is_str(c.missing[0], "000000020000000000000006", "06 missing on timeline 2");
	is_str(c.last, "000000020000000000000007", "last");
	is_int(c.n_timelines, 2, "history read from the directory");
	pgha_wal_coverage_free(&c);

	rmdir(sub);
	touch(dir, "000000020000000000000006", NULL);
	pgha_wal_coverage_dir(dir, "000000010000000000000003", NULL, &c, err, sizeof err);
	ok(c.ok, "directory: continuous once 06 is there");
	pgha_wal_coverage_free(&c);

	char path[1100];
	snprintf(path, sizeof path, "%s/00000002.history", dir);
	unlink(path);
	pgha_wal_coverage_dir(dir, "000000010000000000000003", NULL, &c, err, sizeof err);
	ok(!c.ok, "directory: history removed: not ok");
	is_str(c.missing[0], "00000002.history", "names the history file");
	pgha_wal_coverage_free(&c);

	snprintf(path, sizeof path, "%s/nonexistent", dir);
	is_int(pgha_wal_coverage_dir(path, "000000010000000000000003", NULL, &c, err, sizeof err),
	       PGHA_E_IO, "a missing directory: PGHA_E_IO");
	like(err, "could not open directory", "message");
	like(err, "No such file or directory", "with the reason");
	pgha_wal_coverage_free(&c);

	/* clean up */
	const char *files[] = { "000000010000000000000003", "000000010000000000000004",
				"000000010000000000000005.partial", "000000020000000000000005",
				"000000020000000000000006", "000000020000000000000007" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	ok(rmdir(dir) == 0, "temporary directory removed");
}

int main(void)
{
	test_names();
	test_lsn();
	test_history();
	test_continuous();
	test_gap();
	test_switch();
	test_abandoned();
	test_missing_history();
	test_partial_and_garbage();
	test_target();
	test_dir();
	return done_testing();
}
