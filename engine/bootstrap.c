/*
 * bootstrap.c: `pgha restore-backup`, Patroni's custom bootstrap method in
 * a point-in-time restore. See bootstrap.h and man pgha(1).
 *
 *   pgha restore-backup --backup DIR [--scope=S] [--datadir=D]
 *
 * Patroni 3.0.2 runs `pitr.command` split like a shell would (shlex, no
 * shell) and appends `--scope=SCOPE --datadir=DATADIR`; nothing else of
 * the method's configuration reaches us, so the backup is named inside
 * the command. Steps, one line each on stdout (errors on stderr):
 *
 *   1. read DIR/backup.json through lib/backup.c (the parent directory is
 *      scanned, DIR's name must be a backup id) and refuse a backup that is
 *      not good; then compare every listed file's SHA-256;
 *   2. refuse a data directory that exists and is not an empty directory;
 *      make it (0700) when absent;
 *   3. tar layout: /bin/tar -xf base.tar.* -C DATADIR, then pg_wal.tar.*
 *      into DATADIR/pg_wal (GNU tar detects gzip and zstd on read; lz4 is
 *      named to it);
 *      plain layout: /bin/cp -a DIR/data/. DATADIR; each run with
 *      posix_spawn, no shell;
 *   4. chmod 0700 DATADIR.
 *
 * Exit 0 when restored, 1 on any error (usage included). It runs as the
 * user Patroni runs as: nothing here needs root.
 */
#define _DEFAULT_SOURCE /* lstat */
#include <config.h>

#include "bootstrap.h"

#include "backup.h"
#include "error.h"
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define TAR "/bin/tar"
#define CP "/bin/cp"

static const char *const suffixes[] = { ".gz", ".lz4", ".zst", "" };

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	fputs("pgha restore-backup: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	fputs("pgha restore-backup: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Run argv (argv[0] an absolute path, NULL-terminated) and wait; 0 when
 * it exited 0. */
static int run_argv(char *const argv[])
{
	pid_t pid;
	fflush(stdout);
	fflush(stderr);
	int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
	if (rc != 0)
		return fail("could not run %s: %s", argv[0], strerror(rc));
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return fail("waiting for %s: %s", argv[0], strerror(errno));
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return fail("%s %s was killed by signal %d", argv[0], argv[1], WTERMSIG(status));
	return fail("%s %s failed (exit %d)", argv[0], argv[1],
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Extract the tar archive src into dir. GNU tar recognises gzip and zstd
 * when reading, but not lz4 (1.34): that one is named. */
static int untar(const char *src, const char *dir)
{
	char prog[] = TAR, lz4[] = "--use-compress-program=lz4", x[] = "-xf", c[] = "-C";
	char from[PATH_MAX], to[PATH_MAX];
	snprintf(from, sizeof from, "%s", src);
	snprintf(to, sizeof to, "%s", dir);
	size_t n = strlen(from), k = 0;
	char *argv[7];
	argv[k++] = prog;
	if (n > 4 && strcmp(from + n - 4, ".lz4") == 0)
		argv[k++] = lz4;
	argv[k++] = x;
	argv[k++] = from;
	argv[k++] = c;
	argv[k++] = to;
	argv[k] = NULL;
	return run_argv(argv);
}

/* Copy the contents of the directory src into dir (cp -a src/. dir). */
static int copy_tree(const char *src, const char *dir)
{
	char prog[] = CP, a[] = "-a", from[PATH_MAX], to[PATH_MAX];
	snprintf(from, sizeof from, "%s", src);
	snprintf(to, sizeof to, "%s", dir);
	char *argv[] = { prog, a, from, to, NULL };
	return run_argv(argv);
}

/* The file of the backup named base (e.g. "base.tar") with the first of
 * the suffixes that exists as a regular file, into out. */
static bool find_tar(const char *dir, const char *base, char *out, size_t outlen)
{
	struct stat st;
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		int n = snprintf(out, outlen, "%s/%s%s", dir, base, suffixes[i]);
		if (n < 0 || (size_t)n >= outlen)
			return false;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
			return true;
	}
	return false;
}

/* 1 when path is an empty directory, 0 when it is absent, -1 (message
 * given) otherwise. */
static int datadir_state(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		fail("cannot use the data directory \"%s\": %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fail("the data directory \"%s\" exists and is not a directory", path);
		return -1;
	}
	DIR *d = opendir(path);
	if (!d) {
		fail("cannot read the data directory \"%s\": %s", path, strerror(errno));
		return -1;
	}
	struct dirent *e;
	const char *found = NULL;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			found = e->d_name;
			break;
		}
	}
	if (found) {
		fail("the data directory \"%s\" is not empty (it holds \"%s\"): "
		     "refusing to restore over it", path, found);
		closedir(d);
		return -1;
	}
	closedir(d);
	return 1;
}

/* Parse our arguments; both "--opt VALUE" and "--opt=VALUE". */
static int parse_args(int argc, char **argv, const char **backup, const char **scope,
		      const char **datadir, bool *help)
{
	static const char *const names[] = { "--backup", "--scope", "--datadir" };
	const char **dest[] = { backup, scope, datadir };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			*help = true;
			return 0;
		}
		size_t k;
		for (k = 0; k < 3; k++) {
			size_t len = strlen(names[k]);
			if (strncmp(a, names[k], len) != 0)
				continue;
			if (a[len] == '=') {
				*dest[k] = a + len + 1;
				break;
			}
			if (a[len] == '\0') {
				if (i + 1 >= argc)
					return fail("%s needs a value", names[k]);
				*dest[k] = argv[++i];
				break;
			}
		}
		if (k == 3)
			return fail("unknown argument \"%s\" (try pgha restore-backup --help)", a);
		if (**dest[k] == '\0')
			return fail("%s needs a value", names[k]);
	}
	return 0;
}

/* Read the backup at path (DIR/ID) through a scan of DIR. */
static int check_backup(const char *path, struct pgha_backup_set *set,
			const struct pgha_backup **out)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= sizeof buf)
		return fail("backup path too long");
	memcpy(buf, path, len);
	buf[len] = '\0';
	char *slash = strrchr(buf, '/');
	const char *id = slash ? slash + 1 : buf;
	const char *parent = slash ? (slash == buf ? "/" : buf) : ".";
	if (!pgha_backup_valid_id(id))
		return fail("\"%s\" is not a backup directory: its name must be a backup id "
			    "YYYYMMDDTHHMMSSZ (docs/backup-format.md)", path);
	struct stat st;
	if (stat(path, &st) != 0)
		return fail("backup \"%s\": %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail("backup \"%s\" is not a directory", path);
	char idcopy[PGHA_BACKUP_ID_LEN + 1];
	memcpy(idcopy, id, PGHA_BACKUP_ID_LEN);
	idcopy[PGHA_BACKUP_ID_LEN] = '\0';
	if (slash)
		*slash = '\0';
	char err[512];
	if (pgha_backup_scan(parent, set, err, sizeof err) != 0)
		return fail("%s", err);
	for (size_t i = 0; i < set->n; i++) {
		if (strcmp(set->items[i].id, idcopy) == 0) {
			*out = &set->items[i];
			if (!set->items[i].good)
				return fail("backup %s is not good: %s", idcopy, set->items[i].why);
			return 0;
		}
	}
	return fail("backup %s not found in \"%s\"", idcopy, parent);
}

int pgha_restore_backup_main(int argc, char **argv)
{
	const char *backup = NULL, *scope = NULL, *datadir = NULL;
	bool help = false;
	if (parse_args(argc, argv, &backup, &scope, &datadir, &help) != 0)
		return 1;
	if (help) {
		pgha_restore_backup_help();
		return 0;
	}
	if (!backup)
		return fail("--backup DIR is required (try pgha restore-backup --help)");
	if (!datadir)
		return fail("--datadir DIR is required (Patroni passes it)");
	if (backup[0] != '/' || datadir[0] != '/')
		return fail("--backup and --datadir must be absolute paths");

	struct pgha_backup_set set = { 0 };
	const struct pgha_backup *b = NULL;
	int rc = 1;
	if (check_backup(backup, &set, &b) != 0)
		goto out;
	say("backup %s is good (taken from %s, timeline %lld, %s to %s, finished %s)", b->id,
	    b->node ? b->node : "?", (long long)b->timeline, b->start_lsn ? b->start_lsn : "?",
	    b->stop_lsn ? b->stop_lsn : "?", b->finished_at);
	if (scope && b->scope && strcmp(scope, b->scope) != 0)
		say("note: the backup is of scope \"%s\", restoring into scope \"%s\"", b->scope, scope);

	for (size_t i = 0; i < b->n_files; i++) {
		const struct pgha_backup_file *f = &b->files[i];
		if (!f->sha256)
			continue;
		char path[PATH_MAX], hex[65], err[512];
		if (snprintf(path, sizeof path, "%s/%s", b->path, f->name) >= (int)sizeof path) {
			fail("path too long: %s/%s", b->path, f->name);
			goto out;
		}
		if (pgha_sha256_file(path, hex, err, sizeof err) != 0) {
			fail("%s", err);
			goto out;
		}
		if (strcasecmp(hex, f->sha256) != 0) {
			fail("%s has sha256 %s, backup.json lists %s: the backup is damaged",
			     path, hex, f->sha256);
			goto out;
		}
	}
	say("checksums of %zu file(s) match backup.json", b->n_files);

	int st = datadir_state(datadir);
	if (st < 0)
		goto out;
	if (st == 0) {
		if (mkdir(datadir, 0700) != 0) {
			fail("cannot make the data directory \"%s\": %s", datadir, strerror(errno));
			goto out;
		}
		say("made the data directory %s", datadir);
	}

	char src[PATH_MAX], dst[PATH_MAX];
	bool plain;
	if (b->layout)
		plain = strcmp(b->layout, "plain") == 0;
	else {
		struct stat sst;
		snprintf(src, sizeof src, "%s/data", b->path);
		plain = stat(src, &sst) == 0 && S_ISDIR(sst.st_mode);
	}
	if (plain) {
		if (snprintf(src, sizeof src, "%s/data/.", b->path) >= (int)sizeof src) {
			fail("path too long");
			goto out;
		}
		say("copying %s/data into %s (%s -a)", b->path, datadir, CP);
		if (copy_tree(src, datadir) != 0)
			goto out;
	} else {
		if (!find_tar(b->path, "base.tar", src, sizeof src)) {
			fail("backup %s has no base.tar, base.tar.gz, base.tar.lz4 or base.tar.zst", b->id);
			goto out;
		}
		say("extracting %s into %s", src, datadir);
		if (untar(src, datadir) != 0)
			goto out;
		if (find_tar(b->path, "pg_wal.tar", src, sizeof src)) {
			if (snprintf(dst, sizeof dst, "%s/pg_wal", datadir) >= (int)sizeof dst) {
				fail("path too long");
				goto out;
			}
			if (mkdir(dst, 0700) != 0 && errno != EEXIST) {
				fail("cannot make \"%s\": %s", dst, strerror(errno));
				goto out;
			}
			say("extracting %s into %s", src, dst);
			if (untar(src, dst) != 0)
				goto out;
		} else {
			say("no pg_wal.tar.* in the backup: the WAL comes from the archive only");
		}
	}
	if (chmod(datadir, 0700) != 0) {
		fail("chmod 0700 \"%s\": %s", datadir, strerror(errno));
		goto out;
	}
	say("restored backup %s into %s (mode 0700); PostgreSQL recovery does the rest", b->id,
	    datadir);
	rc = 0;
out:
	pgha_backup_set_free(&set);
	return rc;
}

void pgha_restore_backup_help(void)
{
	puts("Usage: pgha restore-backup --backup DIR [--scope=SCOPE] --datadir=DATADIR\n"
	     "\n"
	     "Restore the base backup DIR (one backup directory, named YYYYMMDDTHHMMSSZ,\n"
	     "docs/backup-format.md) into the data directory DATADIR. It is the command\n"
	     "Patroni runs as the custom bootstrap method of a point-in-time restore\n"
	     "(bootstrap.pitr.command, set by the restore runbook); Patroni appends\n"
	     "--scope and --datadir.\n"
	     "\n"
	     "It refuses a backup that is not good or whose files do not match the\n"
	     "checksums in backup.json, and a data directory that exists and is not\n"
	     "empty. Tar layout: " TAR " -xf base.tar.* -C DATADIR, then pg_wal.tar.*\n"
	     "into DATADIR/pg_wal; plain layout: " CP " -a DIR/data/. DATADIR. Then\n"
	     "chmod 0700 DATADIR. One line per action on stdout, errors on stderr.\n"
	     "Run it as the user PostgreSQL runs as; it needs no root.\n"
	     "\n"
	     "Options:\n"
	     "  --backup DIR      the backup directory (absolute path)\n"
	     "  --datadir DIR     the data directory to fill (absent or empty)\n"
	     "  --scope SCOPE     the cluster's scope (a note when the backup's differs)\n"
	     "  -h, --help        this help\n"
	     "\n"
	     "Exit status: 0 restored, 1 refused or failed (nothing is removed).");
}
