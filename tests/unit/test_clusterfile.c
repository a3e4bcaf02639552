/* test_clusterfile.c: the cluster file parser, every error path. */
#define _POSIX_C_SOURCE 200809L
#include "buf.h"
#include "clusterfile.h"
#include "error.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MINIMAL "[cluster]\nscope = s\npatroni = http://a:8008\n"

static char err[1024];

/* Parse text as "t.conf"; returns the result code, cf freed unless kept. */
static int parse(const char *text, struct pgha_clusterfile *cf)
{
	err[0] = '\0';
	return pgha_clusterfile_parse(text, strlen(text), "t.conf", cf, err, sizeof err);
}

/* The error a text gives. */
static const char *error_of(const char *text)
{
	struct pgha_clusterfile cf;
	int rc = parse(text, &cf);
	pgha_clusterfile_free(&cf);
	return rc ? err : "(no error)";
}

static void test_full(void)
{
	const char *text =
		"# the sandbox\n"
		"\n"
		"[cluster]\n"
		"scope = pgha-sandbox\n"
		"patroni = http://127.0.0.1:28008, http://127.0.0.1:28009 ,https://h:1/\n"
		"etcd = http://127.0.0.1:22379\n"
		"auth_file = /tmp/pgha-sandbox/rest-auth      # REST/etcd credentials, mode 0600\n"
		"cacert = /etc/ssl/ca.pem\n"
		"cert = /etc/ssl/c.pem\n"
		"key = /etc/ssl/c.key\n"
		"insecure = Yes\n"
		"namespace = /pg\n"
		"[postgresql]\n"
		"dbname = postgres\n"
		"user = pgha_monitor\n"
		"application_name = \"it's \\\"me\\\" \\\\o/\"\n"
		"passfile = /tmp/x#not-a-comment\n"
		"\t[node n1]   # first node\r\n"
		"host = 127.0.0.1\n"
		"port = 25432\n"
		"data_dir = /tmp/pgha-sandbox/n1/data\n"
		"config_dir = /tmp/pgha-sandbox/n1/patroni.d\n"
		"stop = /path/to/pgha-sandbox   stop\tn1\n"
		"start = \"/path/to/pgha-sandbox start n1\"\n"
		"[node n2.example-com_2]\n"
		"port = 65535\n"
		"[backup]\n"
		"dir = \"/srv/backup # here\"\n"
		"restore_command = /usr/bin/wal-fetch %f %p /srv/archive   # fetch\n"
		"archive_dir = /srv/archive";
	struct pgha_clusterfile cf;
	int rc = parse(text, &cf);
	is_int(rc, 0, "a full file parses");
	if (rc) {
		printf("# %s\n", err);
		return;
	}
	is_str(cf.path, "t.conf", "path kept");
	is_str(cf.scope, "pgha-sandbox", "scope");
	is_int(cf.n_patroni, 3, "three Patroni URLs");
	is_str(cf.patroni[0], "http://127.0.0.1:28008", "first URL trimmed");
	is_str(cf.patroni[1], "http://127.0.0.1:28009", "blank before a comma trimmed");
	is_str(cf.patroni[2], "https://h:1/", "https accepted");
	is_int(cf.n_etcd, 1, "one etcd URL");
	is_str(cf.auth_file, "/tmp/pgha-sandbox/rest-auth", "comment after a value dropped");
	is_str(cf.cacert, "/etc/ssl/ca.pem", "cacert");
	is_str(cf.cert, "/etc/ssl/c.pem", "cert");
	is_str(cf.key, "/etc/ssl/c.key", "key");
	ok(cf.insecure, "insecure = Yes is true");
	is_str(cf.namespace, "/pg", "namespace");
	is_str(pgha_clusterfile_get(&cf, "postgresql", "application_name"),
	       "it's \"me\" \\o/", "quoted value with escapes");
	is_str(pgha_clusterfile_get(&cf, "postgresql", "passfile"), "/tmp/x#not-a-comment",
	       "'#' not after a blank is part of the value");
	is_int(cf.n_nodes, 2, "two nodes");
	const struct pgha_cf_node *n1 = pgha_clusterfile_node(&cf, "n1");
	ok(n1 != NULL, "node n1 found");
	if (n1) {
		is_int(n1->line, 18, "node header line");
		is_str(n1->host, "127.0.0.1", "CRLF line end dropped from the host");
		is_int(n1->port, 25432, "node port");
		is_str(n1->data_dir, "/tmp/pgha-sandbox/n1/data", "data_dir");
		is_str(n1->config_dir, "/tmp/pgha-sandbox/n1/patroni.d", "config_dir");
		ok(n1->stop && n1->stop[0] && n1->stop[1] && n1->stop[2] && !n1->stop[3],
		   "stop split into 3 words on blanks and tabs");
		if (n1->stop && n1->stop[2]) {
			is_str(n1->stop[0], "/path/to/pgha-sandbox", "argv[0]");
			is_str(n1->stop[2], "n1", "argv[2]");
		}
		ok(n1->start && n1->start[2] && !n1->start[3], "a quoted command splits too");
	}
	const struct pgha_cf_node *n2 = pgha_clusterfile_node(&cf, "n2.example-com_2");
	ok(n2 && n2->port == 65535 && !n2->host && !n2->stop && !n2->config_dir, "second node: port only");
	is_str(cf.restore_command, "/usr/bin/wal-fetch %f %p /srv/archive", "restore_command, comment dropped");
	ok(pgha_clusterfile_node(&cf, "n3") == NULL, "no node n3");
	is_str(cf.backup_dir, "/srv/backup # here", "quoted value keeps ' #'");
	is_str(cf.archive_dir, "/srv/archive", "last line without a newline");
	is_str(pgha_clusterfile_get(&cf, "node n1", "port"), "25432", "get from a node section");
	is_str(pgha_clusterfile_get(&cf, "cluster", "insecure"), "Yes", "get keeps the text");
	ok(pgha_clusterfile_get(&cf, "cluster", "nope") == NULL, "get: absent key");
	ok(pgha_clusterfile_get(&cf, "nosuch", "scope") == NULL, "get: unknown section");
	ok(pgha_clusterfile_get(&cf, "node n9", "port") == NULL, "get: unknown node");

	struct pgha_buf b;
	pgha_buf_init(&b, 4096);
	is_int(pgha_clusterfile_conninfo(&cf, &b), 0, "conninfo built");
	is_str(pgha_buf_str(&b), "dbname='postgres' user='pgha_monitor' "
	       "application_name='it\\'s \"me\" \\\\o/' passfile='/tmp/x#not-a-comment'",
	       "conninfo quotes and escapes");
	pgha_buf_free(&b);
	pgha_clusterfile_free(&cf);
	pgha_clusterfile_free(&cf);
	ok(cf.scope == NULL && cf.n_entries == 0, "free twice is safe and empties");
}

static void test_minimal(void)
{
	struct pgha_clusterfile cf;
	is_int(parse(MINIMAL, &cf), 0, "the minimal file parses");
	is_str(cf.namespace, "/service", "namespace defaults to /service");
	ok(!cf.insecure && cf.n_etcd == 0 && cf.n_nodes == 0 && !cf.auth_file,
	   "optional keys absent");
	struct pgha_buf b;
	pgha_buf_init(&b, 100);
	pgha_clusterfile_conninfo(&cf, &b);
	is_str(pgha_buf_str(&b), "", "no [postgresql]: empty conninfo");
	pgha_buf_free(&b);
	pgha_clusterfile_free(&cf);

	is_str(error_of("\xef\xbb\xbf" MINIMAL), "(no error)", "a UTF-8 BOM is skipped");
	is_str(error_of("  # indented comment\n" MINIMAL "insecure = off\n"), "(no error)",
	       "indented comment; insecure = off");
	is_str(error_of(MINIMAL "[postgresql]\n[backup]\n"), "(no error)", "empty sections");
}

struct bad {
	const char *text, *error;
};

static void test_errors(void)
{
	static const struct bad cases[] = {
		/* syntax */
		{ "scope = s\n", "t.conf:1: \"scope\" outside a section: the file starts with [cluster]" },
		{ MINIMAL "Scope = x\n", "t.conf:4: invalid key \"Scope\": keys are lower-case letters, digits, '_', '.' and '-'" },
		{ MINIMAL "scope: x\n", "t.conf:4: invalid key \"scope:\": keys are lower-case letters, digits, '_', '.' and '-'" },
		{ MINIMAL "insecure true\n", "t.conf:4: expected \"key = value\" (no \"=\" after \"insecure\")" },
		{ MINIMAL "insecure =\n", "t.conf:4: empty value for \"insecure\"" },
		{ MINIMAL "insecure =   # nothing\n", "t.conf:4: empty value for \"insecure\"" },
		{ MINIMAL "insecure = \"\"\n", "t.conf:4: empty value for \"insecure\"" },
		{ MINIMAL "namespace = \"/a\n", "t.conf:4: unterminated quoted value for \"namespace\"" },
		{ MINIMAL "namespace = \"/a\\\n", "t.conf:4: unterminated quoted value for \"namespace\"" },
		{ MINIMAL "namespace = \"/a\\n\"\n", "t.conf:4: invalid escape \"\\n\" in the value of \"namespace\": only \\\" and \\\\ are allowed" },
		{ MINIMAL "namespace = \"/a\" b\n", "t.conf:4: unexpected text after the quoted value of \"namespace\"" },
		{ MINIMAL "namespace = /a\001\n", "t.conf:4: control character 0x01 in the line" },
		{ "[cluster\n", "t.conf:1: missing \"]\" in section header" },
		{ "[cluster] x\n", "t.conf:1: unexpected text after the section header" },
		{ "[clustre]\n", "t.conf:1: unknown section [clustre] (did you mean [cluster]?)" },
		{ "[etcd]\n", "t.conf:1: unknown section [etcd]" },
		{ "[cluster x]\n", "t.conf:1: [cluster] takes no name" },
		{ "[node]\n", "t.conf:1: [node] needs the member's name: [node NAME]" },
		{ "[node a b]\n", "t.conf:1: invalid node name \"a b\": use letters, digits, '_', '.' and '-'" },
		{ MINIMAL "[node n1]\nport = 1\n[node n1]\n", "t.conf:6: duplicate section [node n1] (first at line 4)" },
		{ MINIMAL "[cluster]\n", "t.conf:4: duplicate section [cluster] (first at line 1)" },
		{ MINIMAL "[backup]\n[backup]\n", "t.conf:5: duplicate section [backup] (first at line 4)" },
		{ MINIMAL "scope = t\n", "t.conf:4: duplicate key \"scope\" in [cluster] (first at line 2)" },
		{ MINIMAL "[node n1]\nport = 1\nport = 2\n", "t.conf:6: duplicate key \"port\" in [node n1] (first at line 5)" },
		/* unknown keys */
		{ "[cluster]\nscope = s\npatrony = http://a\n", "t.conf:3: unknown key \"patrony\" in [cluster] (did you mean \"patroni\"?)" },
		{ MINIMAL "colour = red\n", "t.conf:4: unknown key \"colour\" in [cluster]" },
		{ MINIMAL "[node n1]\nhots = h\n", "t.conf:5: unknown key \"hots\" in [node n1] (did you mean \"host\"?)" },
		{ MINIMAL "[backup]\ndirectory = /x\n", "t.conf:5: unknown key \"directory\" in [backup]" },
		{ MINIMAL "[postgresql]\ndbnam = x\n", "t.conf:5: unknown libpq keyword \"dbnam\" in [postgresql] (did you mean \"dbname\"?)" },
		/* refused */
		{ MINIMAL "[postgresql]\npassword = secret\n", "t.conf:5: \"password\" is not allowed in [postgresql]: passwords are not kept in the cluster file: use .pgpass or PGPASSFILE (or passfile = PATH)" },
		{ MINIMAL "[postgresql]\nsslpassword = x\n", "t.conf:5: \"sslpassword\" is not allowed in [postgresql]" },
		{ MINIMAL "[postgresql]\nhost = h\n", "t.conf:5: \"host\" is not allowed in [postgresql]: each member's host comes from Patroni or from its [node NAME] section" },
		{ MINIMAL "[postgresql]\nport = 5432\n", "t.conf:5: \"port\" is not allowed in [postgresql]" },
		/* values */
		{ "[cluster]\nscope = a/b\n", "t.conf:2: invalid scope \"a/b\": it must not contain '/'" },
		{ "[cluster]\npatroni = a:8008\n", "t.conf:2: invalid URL \"a:8008\" in \"patroni\": it must start with http:// or https://" },
		{ "[cluster]\npatroni = http://\n", "t.conf:2: invalid URL \"http://\" in \"patroni\": it must start with http:// or https://" },
		{ "[cluster]\npatroni = http://a,,http://b\n", "t.conf:2: empty URL in the list of \"patroni\"" },
		{ "[cluster]\npatroni = http://a,\n", "t.conf:2: empty URL in the list of \"patroni\"" },
		{ "[cluster]\netcd = \"http://a http://b\"\n", "t.conf:2: invalid URL \"http://a http://b\" in \"etcd\": blank inside (separate URLs with commas)" },
		{ "[cluster]\netcd = h://1,h://2,h://3,h://4,h://5,h://6,h://7,h://8,h://9,h://10,h://11,h://12,h://13,h://14,h://15,h://16,h://17\n",
		  "t.conf:2: invalid URL \"h://1\" in \"etcd\"" },
		{ "[cluster]\netcd = http://1,http://2,http://3,http://4,http://5,http://6,http://7,http://8,http://9,http://10,http://11,http://12,http://13,http://14,http://15,http://16,http://17\n",
		  "t.conf:2: too many URLs in \"etcd\" (at most 16)" },
		{ "[cluster]\nauth_file = rest-auth\n", "t.conf:2: \"auth_file\" must be an absolute path, not \"rest-auth\"" },
		{ "[cluster]\ninsecure = maybe\n", "t.conf:2: invalid boolean \"maybe\" for \"insecure\": use true or false" },
		{ "[cluster]\nnamespace = service\n", "t.conf:2: invalid namespace \"service\": it must start with '/'" },
		{ "[node n1]\nport = 0\n", "t.conf:2: invalid port \"0\": it must be 1 to 65535" },
		{ "[node n1]\nport = 65536\n", "t.conf:2: invalid port \"65536\": it must be 1 to 65535" },
		{ "[node n1]\nport = 54x\n", "t.conf:2: invalid port \"54x\": it must be 1 to 65535" },
		{ "[node n1]\nhost = \"a b\"\n", "t.conf:2: invalid host \"a b\": blank inside" },
		{ "[node n1]\nstop = \"   \"\n", "t.conf:2: empty command in \"stop\"" },
		{ "[node n1]\ndata_dir = data\n", "t.conf:2: \"data_dir\" must be an absolute path, not \"data\"" },
		{ "[backup]\narchive_dir = ./a\n", "t.conf:2: \"archive_dir\" must be an absolute path, not \"./a\"" },
		{ "[node n1]\nconfig_dir = patroni.d\n", "t.conf:2: \"config_dir\" must be an absolute path, not \"patroni.d\"" },
		{ "[backup]\nrestore_command = cp /a/%f %p\n", "t.conf:2: \"restore_command\" must start with the absolute path of a program, not \"cp /a/%f %p\"" },
		{ "[backup]\nrestore_command = /bin/cp /a/%f\n", "t.conf:2: \"restore_command\" must contain %f and %p (the WAL file name and the path to copy it to): \"/bin/cp /a/%f\"" },
		{ "[backup]\nrestore_command = /bin/cp /a/x %p\n", "t.conf:2: \"restore_command\" must contain %f and %p" },
		/* required */
		{ "", "t.conf:1: no [cluster] section (it needs scope and patroni)" },
		{ "# only a comment\n\n[postgresql]\n", "t.conf:3: no [cluster] section (it needs scope and patroni)" },
		{ "[node n1]\n[cluster]\npatroni = http://a\n", "t.conf:2: missing key \"scope\" in [cluster]" },
		{ "\n[cluster]\nscope = s\n", "t.conf:2: missing key \"patroni\" in [cluster] (the Patroni REST API URLs)" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = error_of(cases[i].text);
		size_t wl = strlen(cases[i].error);
		if (!ok(strncmp(got, cases[i].error, wl) == 0, "error: %s", cases[i].error))
			printf("#   got \"%s\"\n", got);
		ok(strchr(got, '\n') == NULL, "one line (%zu)", i);
	}

	/* a long line, a NUL byte, too many nodes, too many words, a huge file */
	char *long_line = malloc(PGHA_CF_MAX_LINE + 64);
	snprintf(long_line, 64, "[cluster]\nscope = ");
	size_t l = strlen(long_line);
	memset(long_line + l, 'x', PGHA_CF_MAX_LINE);
	long_line[l + PGHA_CF_MAX_LINE] = '\0';
	is_str(error_of(long_line), "t.conf:2: line longer than 4096 bytes", "a line too long");
	free(long_line);

	struct pgha_clusterfile cf;
	static const char nul[] = "[cluster]\nscope = a\0b\n";
	is_int(pgha_clusterfile_parse(nul, sizeof nul - 1, "t.conf", &cf, err, sizeof err),
	       PGHA_E_INVALID, "a NUL byte is invalid");
	is_str(err, "t.conf:2: NUL byte in the line", "NUL byte named");
	pgha_clusterfile_free(&cf);

	struct pgha_buf b;
	pgha_buf_init(&b, 1 << 20);
	pgha_buf_puts(&b, MINIMAL);
	for (int i = 0; i <= PGHA_CF_MAX_NODES; i++)
		pgha_buf_printf(&b, "[node n%d]\n", i);
	is_str(error_of(pgha_buf_str(&b)), "t.conf:68: too many [node] sections (at most 64)",
	       "too many nodes");
	pgha_buf_reset(&b);
	pgha_buf_puts(&b, "[node n1]\nstop =");
	for (int i = 0; i <= 64; i++)
		pgha_buf_puts(&b, " w");
	is_str(error_of(pgha_buf_str(&b)), "t.conf:2: too many words in \"stop\" (at most 64)",
	       "too many words");
	pgha_buf_free(&b);

	is_int(pgha_clusterfile_parse("", PGHA_CF_MAX_FILE + 1, "t.conf", &cf, err, sizeof err),
	       PGHA_E_TOOBIG, "a file over the cap");
	pgha_clusterfile_free(&cf);
}

static void test_load(void)
{
	char path[] = "/tmp/test_clusterfile.XXXXXX";
	int fd = mkstemp(path);
	ok(fd >= 0, "temp file");
	if (fd < 0)
		return;
	static const char text[] = MINIMAL "[node n1]\nprot = 5\n";
	ok(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1), "written");
	close(fd);
	struct pgha_clusterfile cf;
	int rc = pgha_clusterfile_load(path, &cf, err, sizeof err);
	is_int(rc, PGHA_E_INVALID, "load: invalid file");
	char want[256];
	snprintf(want, sizeof want, "%s:5: unknown key \"prot\" in [node n1] (did you mean \"port\"?)", path);
	is_str(err, want, "load: the message names the path as given and the line");
	pgha_clusterfile_free(&cf);
	unlink(path);

	rc = pgha_clusterfile_load(path, &cf, err, sizeof err);
	is_int(rc, PGHA_E_IO, "load: missing file");
	snprintf(want, sizeof want, "could not open cluster file \"%s\": No such file or directory", path);
	is_str(err, want, "load: missing file named");
	pgha_clusterfile_free(&cf);

	rc = pgha_clusterfile_load("/tmp", &cf, err, sizeof err);
	is_int(rc, PGHA_E_IO, "load: a directory");
	is_str(err, "could not read cluster file \"/tmp\": not a regular file", "load: directory named");
	pgha_clusterfile_free(&cf);
}

int main(void)
{
	test_full();
	test_minimal();
	test_errors();
	test_load();
	return done_testing();
}
