/*
 * test_auth.c: credentials files (lib/auth.c): the permission check, the
 * key=value syntax, and messages that never show a secret.
 */
#define _POSIX_C_SOURCE 200809L
#include "auth.h"
#include "error.h"

#include "../unit/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

/* Write n bytes of text to dir/name with mode; returns the path in a
 * static buffer (valid until the next call). */
static const char *put_n(const char *name, const char *text, size_t n,
			 mode_t mode)
{
	static char path[512];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n) {
		printf("# cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
	chmod(path, mode);
	return path;
}

static const char *put(const char *name, const char *text, mode_t mode)
{
	return put_n(name, text, strlen(text), mode);
}

/* Load text (mode 0600) and expect rc; leaves the result in c and err. */
static int load_text(const char *text, struct pgha_credentials *c, char *err,
		     size_t errlen)
{
	err[0] = '\0';
	return pgha_credentials_load(put("creds", text, 0600), c, err, errlen);
}

int main(void)
{
	struct pgha_credentials c;
	char err[512];
	const char *path;
	int rc;

	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/pgha-test-auth-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}

	/* a good file */
	rc = load_text("username=pgha\npassword=s3cret\n", &c, err, sizeof err);
	is_int(rc, 0, "good file loads");
	is_str(c.username, "pgha", "username");
	is_str(c.password, "s3cret", "password");
	pgha_credentials_free(&c);
	ok(c.username == NULL && c.password == NULL, "free leaves the fields NULL");
	pgha_credentials_free(&c);
	ok(1, "free twice is harmless");

	/* permissions */
	path = put("open", "username=pgha\npassword=s3cret\n", 0644);
	rc = pgha_credentials_load(path, &c, err, sizeof err);
	is_int(rc, PGHA_E_AUTH, "mode 0644 refused");
	like(err, "chmod 600", "message says to chmod");
	like(err, path, "message names the file");
	like(err, "0644", "message shows the mode");
	ok(c.username == NULL && c.password == NULL, "nothing kept on refusal");
	ok(strstr(err, "s3cret") == NULL, "no secret in the message");

	path = put("group", "username=pgha\n", 0640);
	is_int(pgha_credentials_load(path, &c, err, sizeof err), PGHA_E_AUTH,
	       "mode 0640 refused");
	path = put("gw", "username=pgha\n", 0620);
	is_int(pgha_credentials_load(path, &c, err, sizeof err), PGHA_E_AUTH,
	       "mode 0620 refused");
	path = put("ox", "username=pgha\n", 0601);
	is_int(pgha_credentials_load(path, &c, err, sizeof err), PGHA_E_AUTH,
	       "mode 0601 refused");
	path = put("ro", "username=pgha\n", 0400);
	is_int(pgha_credentials_load(path, &c, err, sizeof err), 0,
	       "mode 0400 accepted");
	pgha_credentials_free(&c);

	/* missing file, not a regular file */
	char missing[512];
	snprintf(missing, sizeof missing, "%s/no-such-file", dir);
	rc = pgha_credentials_load(missing, &c, err, sizeof err);
	is_int(rc, PGHA_E_IO, "missing file is PGHA_E_IO");
	like(err, missing, "message names the path");
	like(err, "No such file", "message has the system's reason");
	rc = pgha_credentials_load(dir, &c, err, sizeof err);
	is_int(rc, PGHA_E_IO, "a directory is refused");
	like(err, "not a regular file", "message says why");
	rc = pgha_credentials_load(missing, &c, NULL, 0);
	is_int(rc, PGHA_E_IO, "no room for a message is fine");

	/* comments, blank lines, verbatim values */
	rc = load_text("# pgha credentials\n\n   \n\t# indented comment\n"
		       "user=u1\npassword= p w=x \n", &c, err, sizeof err);
	is_int(rc, 0, "comments and blank lines are skipped");
	is_str(c.username, "u1", "'user' is a synonym of username");
	is_str(c.password, " p w=x ", "value verbatim after the first '='");
	pgha_credentials_free(&c);

	rc = load_text("username=a\r\npassword=b\r\n", &c, err, sizeof err);
	is_int(rc, 0, "CRLF file loads");
	is_str(c.username, "a", "CR dropped from username");
	is_str(c.password, "b", "CR dropped from password");
	pgha_credentials_free(&c);

	rc = load_text("username=a\npassword=b", &c, err, sizeof err);
	is_int(rc, 0, "no final newline");
	is_str(c.password, "b", "last line read");
	pgha_credentials_free(&c);

	rc = load_text("password=only\n", &c, err, sizeof err);
	is_int(rc, 0, "password alone");
	ok(c.username == NULL, "username absent stays NULL");
	is_str(c.password, "only", "password set");
	pgha_credentials_free(&c);

	rc = load_text("", &c, err, sizeof err);
	is_int(rc, 0, "empty file");
	ok(c.username == NULL && c.password == NULL, "empty file gives nothing");

	rc = load_text("username =pgha\npassword=\n", &c, err, sizeof err);
	is_int(rc, 0, "blank before '=' and an empty value");
	is_str(c.username, "pgha", "key trimmed");
	is_str(c.password, "", "empty password kept as empty");
	pgha_credentials_free(&c);

	/* syntax errors: line numbers, never values */
	rc = load_text("username=a\n# c\nsecret=hunter2\n", &c, err, sizeof err);
	is_int(rc, PGHA_E_AUTH, "unknown key refused");
	like(err, "line 3", "message has the line number");
	like(err, "unknown key \"secret\"", "message names the key");
	ok(strstr(err, "hunter2") == NULL, "message does not show the value");
	ok(c.username == NULL && c.password == NULL, "nothing kept on error");

	rc = load_text("username=a\nhunter2\n", &c, err, sizeof err);
	is_int(rc, PGHA_E_AUTH, "line without '=' refused");
	like(err, "line 2", "message has the line number");
	ok(strstr(err, "hunter2") == NULL, "message does not show the line");

	rc = load_text("pass word hunter2=x\n", &c, err, sizeof err);
	is_int(rc, PGHA_E_AUTH, "odd key refused");
	ok(strstr(err, "hunter2") == NULL, "odd key is not echoed");

	rc = load_text("password=a\npassword=b\n", &c, err, sizeof err);
	is_int(rc, PGHA_E_AUTH, "duplicate key refused");
	like(err, "line 2", "duplicate names its line");
	ok(c.password == NULL, "duplicate: nothing kept");

	rc = load_text("username=pgha\r\nPassword=x\r\n", &c, err, sizeof err);
	is_int(rc, PGHA_E_AUTH, "keys are case-sensitive");

	path = put_n("nul", "username=a\npassword=b\0c\n", 24, 0600);
	rc = pgha_credentials_load(path, &c, err, sizeof err);
	is_int(rc, PGHA_E_AUTH, "NUL byte refused");
	like(err, "line 2", "NUL byte line named");

	/* size cap */
	char *big = malloc(9001);
	memset(big, '#', 9000);
	big[9000] = '\0';
	rc = load_text(big, &c, err, sizeof err);
	free(big);
	is_int(rc, PGHA_E_AUTH, "file over 8 KiB refused");
	like(err, "larger than", "message says it is too large");

	/* clean up */
	const char *names[] = { "creds", "open", "group", "gw", "ox", "ro", "nul" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char p[512];
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
	return done_testing();
}
