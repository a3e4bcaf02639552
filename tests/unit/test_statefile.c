/* test_statefile.c: atomic key=value state files (lib/statefile.c). */
#define _POSIX_C_SOURCE 200809L
#include "tap.h"

#include "error.h"
#include "statefile.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

int main(void)
{
	char dir[] = "/tmp/pgha-test-statefile-XXXXXX";
	char path[256], err[512] = "";
	struct pgha_statefile sf;
	struct stat st;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/state", dir);

	is_int(pgha_statefile_load(&sf, path, err, sizeof err), PGHA_E_NOTFOUND,
	       "missing file: NOTFOUND (a first run)");
	ok(pgha_statefile_get(&sf, "timeline") == NULL, "and empty");

	is_int(pgha_statefile_set(&sf, "timeline", "3"), 0, "set");
	is_int(pgha_statefile_set(&sf, "hash", "abc"), 0, "set another");
	is_int(pgha_statefile_set(&sf, "timeline", "4"), 0, "replace");
	is_int(pgha_statefile_set(&sf, "bad key", "x"), PGHA_E_INVALID, "key with a space refused");
	is_int(pgha_statefile_set(&sf, "k", "two\nlines"), PGHA_E_INVALID, "value with newline refused");
	umask(022);
	is_int(pgha_statefile_save(&sf, path, err, sizeof err), 0, "save");
	pgha_statefile_free(&sf);

	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "saved with mode 0600 despite umask");
	is_int(pgha_statefile_load(&sf, path, err, sizeof err), 0, "load");
	is_str(pgha_statefile_get(&sf, "timeline"), "4", "replaced value read back");
	is_str(pgha_statefile_get(&sf, "hash"), "abc", "other value read back");
	is_int(sf.n, 2, "two keys");
	pgha_statefile_free(&sf);

	/* no temporary file is left behind */
	char tmp[300];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	ok(access(tmp, F_OK) != 0, "no temporary file left");

	write_file(path, "# comment\n\nkey=value with = sign\r\n");
	is_int(pgha_statefile_load(&sf, path, err, sizeof err), 0, "comments, blank lines, CRLF");
	is_str(pgha_statefile_get(&sf, "key"), "value with = sign", "value after the first '='");
	pgha_statefile_free(&sf);

	write_file(path, "ok=1\nthis is not a pair\n");
	is_int(pgha_statefile_load(&sf, path, err, sizeof err), PGHA_E_INVALID, "malformed file refused");
	like(err, "line 2 is not key=value", "the line is named");
	ok(sf.n == 0, "nothing kept from a malformed file");

	/* a directory that cannot be written: save fails, old file intact */
	char baddir[300];
	snprintf(baddir, sizeof baddir, "%s/missing/state", dir);
	pgha_statefile_init(&sf);
	pgha_statefile_set(&sf, "a", "b");
	is_int(pgha_statefile_save(&sf, baddir, err, sizeof err), PGHA_E_IO, "unwritable path: IO");
	like(err, "could not create state file", "explained");
	pgha_statefile_free(&sf);

	unlink(path);
	rmdir(dir);
	return done_testing();
}
