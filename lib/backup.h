/*
 * backup.h: reading a backup directory (docs/backup-format.md).
 *
 * Backups live in one directory (the cluster file's [backup] dir), one
 * subdirectory per backup named by its UTC start time, YYYYMMDDTHHMMSSZ,
 * holding pg_basebackup's output and backup.json, written last by the
 * backup runbook. pgha_backup_scan() reads every such subdirectory (other
 * names, e.g. a runbook's ".tmp-..." work directory, are ignored), parses
 * its backup.json and judges it:
 *
 *   good   backup.json parses, "format" is 1, "id" is the directory's
 *          name, "verified" is true, "finished_at" is a UTC time,
 *          "start_wal" a WAL segment name, and "files" lists at least one
 *          file, each of which exists (a regular file) with the size
 *          listed; every other known member that is present has the
 *          documented type (e.g. "timeline" an integer, "layout" "tar" or
 *          "plain", "start_lsn" an LSN)
 *   bad    anything else; why says what, e.g. "not verified", `file
 *          "base.tar.gz" has 1200 bytes, not 1234`, "no backup.json
 *          (unfinished or failed)"
 *
 * Checksums are not recomputed here (that reads every byte; the runbooks
 * do it with fs.sha256). Nothing is written.
 *
 * Ownership: a set owns its backups, and each backup every string, file
 * and its cJSON document; all live until pgha_backup_set_free().
 */
#ifndef PGHA_BACKUP_H
#define PGHA_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#define PGHA_BACKUP_JSON "backup.json"
#define PGHA_BACKUP_JSON_MAX (16 * 1024 * 1024) /* bytes of backup.json read */
#define PGHA_BACKUP_FORMAT 1
#define PGHA_BACKUP_ID_LEN 16                   /* "20261125T220000Z" */

struct pgha_backup_file {
	char *name;     /* relative to the backup's directory */
	int64_t size;   /* as listed */
	char *sha256;   /* as listed (hex), or NULL */
};

/* One backup. Absent or unusable members are NULL / 0 / false. */
struct pgha_backup {
	char *id;       /* the directory's name */
	char *path;     /* DIR/ID */
	bool good;
	char *why;      /* why not good, one line (NULL when good) */
	cJSON *doc;     /* backup.json, NULL when it could not be parsed */

	int64_t format;
	char *scope, *node, *system_identifier;
	int64_t server_version, timeline;       /* 0 when absent */
	char *start_lsn, *stop_lsn, *start_wal, *stop_wal;
	char *started_at, *finished_at;         /* as written */
	bool has_started, has_finished;
	int64_t started, finished;              /* seconds since the epoch */
	bool has_size_bytes;
	int64_t size_bytes;                     /* as listed */
	int64_t files_bytes;                    /* the sum of the files' sizes */
	char *layout;                           /* "tar" or "plain" */
	char *compression_method;               /* "gzip", "lz4", "zstd", "none" */
	bool has_compression_level;
	int64_t compression_level;
	struct pgha_backup_file *files;
	size_t n_files;
	bool verified;
	char *verified_at, *verify_method;
	char *runbook_name, *runbook_version, *runbook_run;
};

struct pgha_backup_set {
	char *dir;                   /* as given */
	struct pgha_backup *items;   /* sorted by id (oldest first) */
	size_t n;
	size_t n_good;
	const struct pgha_backup *newest_good; /* into items, or NULL */
};

/* Read every backup of dir into set. Returns 0 (also for an empty
 * directory); PGHA_E_IO when dir cannot be read (err: `could not open
 * directory "x": Permission denied`); PGHA_E_NOMEM. A backup that cannot
 * be read is a bad backup, not an error. Free set in every case. */
int pgha_backup_scan(const char *dir, struct pgha_backup_set *set, char *err, size_t errlen);

/* Free everything; set is left empty. Safe on a zeroed struct and twice. */
void pgha_backup_set_free(struct pgha_backup_set *set);

/* Whether name is a backup id: YYYYMMDDTHHMMSSZ (digits, 'T', 'Z'). */
bool pgha_backup_valid_id(const char *name);

/* Parse an ISO 8601 time with a zone, as backup.json holds them:
 * YYYY-MM-DDTHH:MM:SS, an optional fraction (dropped), then Z or +HH:MM /
 * -HH:MM. Returns 0 and the seconds since the epoch, or PGHA_E_INVALID. */
int pgha_backup_parse_time(const char *text, int64_t *out);

#endif
