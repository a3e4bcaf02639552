/* test_backup.c: reading a backup directory (lib/backup) on temporary
 * directories: good and bad backups, every reason, sorting, the newest
 * good one. */
#define _POSIX_C_SOURCE 200809L
#include "backup.h"
#include "error.h"
#include "tap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/test_backup.XXXXXX";
static char err[512];

/* Write text to root/rel (directories made as needed). */
static void put(const char *rel, const char *text)
{
	char path[2048];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0700);
			*p = '/';
		}
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* A file of n bytes. */
static void put_size(const char *rel, size_t n)
{
	char *text = malloc(n + 1);
	memset(text, 'x', n);
	text[n] = '\0';
	put(rel, text);
	free(text);
}

/* backup.json for id with the members given in extra (a JSON fragment
 * starting with ',' or ""), verified and with base.tar.gz of 123 bytes
 * unless extra overrides them (cJSON keeps the first of duplicate keys, so
 * overrides come first: pre). */
static void put_backup(const char *id, const char *pre, const char *post)
{
	char rel[64], json[4096];
	snprintf(rel, sizeof rel, "%s/backup.json", id);
	snprintf(json, sizeof json,
		 "{%s\"format\":1, \"id\":\"%s\", \"scope\":\"pgha-sandbox\", \"node\":\"n2\","
		 " \"system_identifier\":\"7712185284546840787\", \"server_version\":150020,"
		 " \"timeline\":3, \"start_lsn\":\"0/5000028\", \"stop_lsn\":\"0/5000100\","
		 " \"start_wal\":\"000000030000000000000005\","
		 " \"stop_wal\":\"000000030000000000000005\","
		 " \"started_at\":\"2026-11-25T22:00:00Z\", \"finished_at\":\"2026-11-25T22:00:09Z\","
		 " \"size_bytes\":47395635, \"layout\":\"tar\","
		 " \"compression\":{\"method\":\"gzip\",\"level\":6},"
		 " \"files\":[{\"name\":\"base.tar.gz\",\"size\":123,\"sha256\":\"ab12\"},"
		 " {\"name\":\"pg_wal.tar.gz\",\"size\":0}],"
		 " \"verified\":true, \"verified_at\":\"2026-11-25T22:01:00Z\","
		 " \"verify_method\":\"extract+pg_verifybackup\","
		 " \"runbook\":{\"name\":\"backup\",\"version\":\"1.0.0\",\"run\":\"r1\"}%s}",
		 pre, id, post);
	put(rel, json);
	snprintf(rel, sizeof rel, "%s/base.tar.gz", id);
	put_size(rel, 123);
	snprintf(rel, sizeof rel, "%s/pg_wal.tar.gz", id);
	put_size(rel, 0);
}

static const struct pgha_backup *find(const struct pgha_backup_set *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->items[i].id, id) == 0)
			return &s->items[i];
	return NULL;
}

static void test_helpers(void)
{
	ok(pgha_backup_valid_id("20261125T220000Z"), "valid id");
	ok(!pgha_backup_valid_id("20261125T220000"), "id without Z");
	ok(!pgha_backup_valid_id("20261125-220000Z"), "id with '-'");
	ok(!pgha_backup_valid_id("2026112XT220000Z"), "id with a letter");
	ok(!pgha_backup_valid_id(".20261125T220000Z"), "hidden work directory");
	ok(!pgha_backup_valid_id(NULL), "NULL");

	int64_t t = -1;
	is_int(pgha_backup_parse_time("2026-11-25T22:00:09Z", &t), 0, "parse a UTC time");
	is_int(t, 1795644009, "its epoch seconds");
	is_int(pgha_backup_parse_time("2026-11-25T23:00:09.123456+01:00", &t), 0,
	       "fraction and an offset");
	is_int(t, 1795644009, "the same instant");
	pgha_backup_parse_time("2026-11-25T21:00:09-00:00", &t);
	is_int(t, 1795640409, "-00:00");
	is_int(pgha_backup_parse_time("2024-02-29T12:00:00Z", &t), 0, "a leap day");
	is_int(t, 1709208000, "its epoch seconds");
	is_int(pgha_backup_parse_time("1970-01-01T00:00:00Z", &t), 0, "the epoch");
	is_int(t, 0, "is 0");
	const char *bad[] = { "2026-02-29T00:00:00Z", "2026-11-25T22:00:09", "2026-11-25 22:00:09Z",
			      "2026-13-01T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T22:00:09Zx",
			      "2026-11-25T22:00:09.Z", "2026-11-25T22:00:09+0100", "", "yesterday" };
	t = 42;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		is_int(pgha_backup_parse_time(bad[i], &t), PGHA_E_INVALID, "refuse \"%s\"", bad[i]);
	is_int(t, 42, "a refused time leaves the value");
}

static void test_empty_and_missing(void)
{
	struct pgha_backup_set s;
	is_int(pgha_backup_scan(root, &s, err, sizeof err), 0, "an empty directory: 0");
	is_int(s.n, 0, "no backups");
	ok(s.newest_good == NULL, "no newest good backup");
	pgha_backup_set_free(&s);
	pgha_backup_set_free(&s);
	ok(s.items == NULL && s.n == 0, "free twice is safe");

	char path[1024];
	snprintf(path, sizeof path, "%s/nonexistent", root);
	err[0] = '\0';
	is_int(pgha_backup_scan(path, &s, err, sizeof err), PGHA_E_IO, "a missing directory");
	like(err, "could not open directory", "message");
	like(err, "No such file or directory", "with the reason");
	pgha_backup_set_free(&s);
}

static void test_scan(void)
{
	/* good ones, out of order on disk */
	put_backup("20261125T220000Z", "", "");
	put_backup("20261123T220000Z", "", "");
	/* bad ones */
	put_backup("20261124T220000Z", "\"verified\":false,", "");
	put_backup("20261126T220000Z", "", ""); /* newest, made bad below */
	char p[1024];
	snprintf(p, sizeof p, "%s/20261126T220000Z/base.tar.gz", root);
	unlink(p);
	put_backup("20261127T220000Z", "\"files\":[{\"name\":\"base.tar.gz\",\"size\":1234}],",
		   "");
	put("20261128T220000Z/base.tar.gz", "partial");          /* no backup.json */
	put("20261129T220000Z/backup.json", "{\"format\":1, ");   /* invalid JSON */
	put_backup("20261130T220000Z", "\"format\":2,", "");
	put_backup("20261201T220000Z", "\"id\":\"20261111T111111Z\",", "");
	put_backup("20261202T220000Z", "\"files\":[{\"name\":\"../20261125T220000Z/base.tar.gz\","
		   "\"size\":123}],", "");
	put_backup("20261203T220000Z", "\"timeline\":\"three\", \"layout\":\"zip\","
		   "\"start_lsn\":\"nope\",", "");
	put_backup("20261204T220000Z", "\"files\":[],", "");
	put_backup("20261205T220000Z", "\"finished_at\":\"2026-11-25 22:00\","
		   "\"start_wal\":\"x\",", "");
	put("20261206T220000Z", "a file, not a directory");
	/* ignored names */
	put(".tmp-20261207T220000Z/backup.json", "{}");
	put("lost+found/x", "");
	put("2026-12-07/backup.json", "{}");

	struct pgha_backup_set s;
	err[0] = '\0';
	is_int(pgha_backup_scan(root, &s, err, sizeof err), 0, "scan: 0");
	is_int(s.n, 14, "14 backups (other names ignored)");
	is_int(s.n_good, 2, "2 good");
	for (size_t i = 1; i < s.n; i++)
		if (strcmp(s.items[i - 1].id, s.items[i].id) >= 0)
			ok(0, "sorted by id at %zu", i);
	is_str(s.items[0].id, "20261123T220000Z", "sorted: the oldest first");
	is_str(s.items[s.n - 1].id, "20261206T220000Z", "sorted: the newest last");
	ok(s.newest_good && strcmp(s.newest_good->id, "20261125T220000Z") == 0,
	   "the newest good one, newer bad ones notwithstanding");

	const struct pgha_backup *b = s.newest_good;
	if (b) {
		ok(b->good && b->why == NULL, "good, no reason");
		is_int(b->format, 1, "format");
		is_str(b->scope, "pgha-sandbox", "scope");
		is_str(b->node, "n2", "node");
		is_str(b->system_identifier, "7712185284546840787", "system identifier (text)");
		is_int(b->server_version, 150020, "server version");
		is_int(b->timeline, 3, "timeline");
		is_str(b->start_lsn, "0/5000028", "start LSN");
		is_str(b->stop_lsn, "0/5000100", "stop LSN");
		is_str(b->start_wal, "000000030000000000000005", "start WAL");
		is_str(b->stop_wal, "000000030000000000000005", "stop WAL");
		ok(b->has_started && b->started == 1795644000, "started_at parsed");
		ok(b->has_finished && b->finished == 1795644009, "finished_at parsed");
		is_str(b->finished_at, "2026-11-25T22:00:09Z", "finished_at as written");
		ok(b->has_size_bytes && b->size_bytes == 47395635, "size_bytes");
		is_int(b->files_bytes, 123, "the files add up to 123 bytes");
		is_str(b->layout, "tar", "layout");
		is_str(b->compression_method, "gzip", "compression method");
		ok(b->has_compression_level && b->compression_level == 6, "compression level");
		is_int(b->n_files, 2, "two files");
		if (b->n_files == 2) {
			is_str(b->files[0].name, "base.tar.gz", "file name");
			is_int(b->files[0].size, 123, "file size");
			is_str(b->files[0].sha256, "ab12", "file sha256");
			ok(b->files[1].sha256 == NULL, "no sha256 listed: NULL");
		}
		ok(b->verified, "verified");
		is_str(b->verified_at, "2026-11-25T22:01:00Z", "verified_at");
		is_str(b->verify_method, "extract+pg_verifybackup", "verify method");
		is_str(b->runbook_name, "backup", "runbook name");
		is_str(b->runbook_version, "1.0.0", "runbook version");
		is_str(b->runbook_run, "r1", "runbook run");
		ok(b->doc && cJSON_IsObject(b->doc), "the document is kept");
		like(b->path, "/20261125T220000Z", "path is DIR/ID");
	}

	struct { const char *id, *why; } cases[] = {
		{ "20261124T220000Z", "not verified" },
		{ "20261126T220000Z", "file \"base.tar.gz\" is missing" },
		{ "20261127T220000Z", "file \"base.tar.gz\" has 123 bytes, not 1234" },
		{ "20261128T220000Z", "no backup.json (unfinished or failed)" },
		{ "20261129T220000Z", "backup.json is not valid JSON (invalid JSON at byte" },
		{ "20261130T220000Z", "format 2 is not supported (1 is)" },
		{ "20261201T220000Z", "\"id\" is \"20261111T111111Z\", not the directory's name" },
		{ "20261202T220000Z", "is not a path inside the backup" },
		{ "20261203T220000Z", "\"timeline\" is not an integer" },
		{ "20261203T220000Z", "\"layout\" is neither \"tar\" nor \"plain\"" },
		{ "20261203T220000Z", "\"start_lsn\" is not an LSN" },
		{ "20261204T220000Z", "lists no files" },
		{ "20261205T220000Z", "\"finished_at\" is not a time" },
		{ "20261205T220000Z", "\"start_wal\" is not a WAL segment name" },
		{ "20261206T220000Z", "not a directory" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct pgha_backup *c = find(&s, cases[i].id);
		ok(c && !c->good, "%s is bad", cases[i].id);
		like(c ? c->why : NULL, cases[i].why, "%s: why", cases[i].id);
	}
	const struct pgha_backup *v = find(&s, "20261124T220000Z");
	ok(v && !v->verified && v->doc && v->timeline == 3,
	   "a bad backup still has its members parsed");
	const struct pgha_backup *nj = find(&s, "20261128T220000Z");
	ok(nj && nj->doc == NULL, "no document without backup.json");
	pgha_backup_set_free(&s);
}

static void test_unreadable(void)
{
	if (geteuid() == 0) {
		ok(1, "# SKIP unreadable directory: running as root");
		return;
	}
	chmod(root, 0);
	struct pgha_backup_set s;
	is_int(pgha_backup_scan(root, &s, err, sizeof err), PGHA_E_IO, "an unreadable directory");
	like(err, "Permission denied", "message");
	pgha_backup_set_free(&s);
	chmod(root, 0700);
}

int main(void)
{
	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_helpers();
	test_empty_and_missing();
	test_unreadable();
	test_scan();
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	ok(system(cmd) == 0, "temporary directory removed");
	return done_testing();
}
