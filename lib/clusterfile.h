/*
 * clusterfile.h: the cluster file, one file describing one Patroni+etcd
 * cluster for `pgha status` and the runbook engine (docs/cluster-file.md).
 *
 *   # comment
 *   [cluster]
 *   scope = pgha-sandbox
 *   patroni = http://10.0.0.11:8008, http://10.0.0.12:8008
 *   etcd = http://10.0.0.21:2379           # a comment after a space
 *   [postgresql]
 *   user = pgha_monitor                     # any libpq keyword but password
 *   [node n1]
 *   host = 10.0.0.11
 *   stop = /usr/bin/ssh n1 sudo systemctl stop patroni
 *   [backup]
 *   dir = "/srv/backup"
 *
 * Lines are `key = value`, `[section]` headers, comments and blank lines.
 * Keys are [a-z0-9_.-]; values are the rest of the line (a '#' after a
 * space or tab starts a comment) or a "quoted string" with \" and \\.
 * Sections: [cluster] (required: scope, patroni), [postgresql], [node NAME]
 * (any number), [backup]. Unknown sections and keys, duplicate sections
 * and keys, empty values, bad URLs, ports, booleans and relative paths are
 * errors, reported as one line "FILE:LINE: message" (FILE as given).
 * Passwords are refused: libpq takes them from .pgpass / PGPASSFILE
 * (`passfile`), the REST and etcd ones live in the `auth_file`.
 *
 * Nothing here touches the network or the files the cluster file names.
 *
 * Ownership: the struct owns everything it points to; typed fields point
 * into its entries and live until pgha_clusterfile_free().
 */
#ifndef PGHA_CLUSTERFILE_H
#define PGHA_CLUSTERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define PGHA_CF_MAX_URLS 16          /* per patroni / etcd list */
#define PGHA_CF_MAX_NODES 64         /* [node NAME] sections */
#define PGHA_CF_MAX_FILE (1024 * 1024) /* bytes */
#define PGHA_CF_MAX_LINE 4096        /* bytes per line */

enum pgha_cf_section {
	PGHA_CF_CLUSTER,
	PGHA_CF_POSTGRESQL,
	PGHA_CF_NODE,
	PGHA_CF_BACKUP
};

/* One `key = value` as written (value unquoted), in file order. */
struct pgha_cf_entry {
	enum pgha_cf_section section;
	const char *node; /* the NAME of [node NAME], else NULL (borrowed) */
	char *key;        /* owned */
	char *value;      /* owned; never empty */
	int line;
};

/* One [node NAME] section. Absent keys are NULL / 0. */
struct pgha_cf_node {
	char *name;           /* owned */
	int line;             /* of the [node NAME] header */
	const char *host;     /* PostgreSQL host (overrides Patroni's) */
	int port;             /* PostgreSQL port, 0 if absent */
	const char *data_dir;
	const char *config_dir; /* Patroni's configuration directory */
	char **stop, **start; /* argv (NULL-terminated, owned), split on
				 blanks, no shell; NULL if absent */
};

struct pgha_clusterfile {
	char *path;                         /* as given, owned */
	struct pgha_cf_entry *entries;      /* owned, file order */
	size_t n_entries;
	struct pgha_cf_node *nodes;         /* owned, file order */
	size_t n_nodes;

	/* [cluster] */
	const char *scope;
	char *patroni[PGHA_CF_MAX_URLS];    /* owned, trimmed, in order */
	size_t n_patroni;
	char *etcd[PGHA_CF_MAX_URLS];       /* owned; may be empty */
	size_t n_etcd;
	const char *auth_file;              /* REST/etcd credentials, or NULL */
	const char *cacert, *cert, *key;    /* TLS files, or NULL */
	bool insecure;
	const char *namespace;              /* default "/service" */

	/* [backup] */
	const char *backup_dir, *archive_dir;
	const char *restore_command;        /* archive fetch, with %f %p */
};

/* Read and parse path. Returns 0; PGHA_E_IO when the file cannot be read
 * (err: `could not read cluster file "x": No such file or directory`);
 * PGHA_E_INVALID for a syntax or validation error (err: "x:7: ...");
 * PGHA_E_TOOBIG past PGHA_CF_MAX_FILE; PGHA_E_NOMEM. On error cf holds
 * nothing (free it anyway; it is safe). */
int pgha_clusterfile_load(const char *path, struct pgha_clusterfile *cf,
			  char *err, size_t errlen);

/* Parse len bytes of text; name is the file name used in messages. Same
 * results as pgha_clusterfile_load (used by it and by the tests). */
int pgha_clusterfile_parse(const char *text, size_t len, const char *name,
			   struct pgha_clusterfile *cf, char *err, size_t errlen);

/* Free everything; cf is left empty. Safe on a zeroed struct and twice. */
void pgha_clusterfile_free(struct pgha_clusterfile *cf);

/* The value of key in a section, spelled as in the file: "cluster",
 * "postgresql", "backup" or "node NAME". NULL when absent. Lets later
 * users (the runbook engine) read any valid key. */
const char *pgha_clusterfile_get(const struct pgha_clusterfile *cf,
				 const char *section, const char *key);

/* The [node NAME] section, or NULL. */
const struct pgha_cf_node *pgha_clusterfile_node(const struct pgha_clusterfile *cf,
						 const char *name);

/* The [postgresql] section as a libpq conninfo string ("k='v' ...",
 * quotes and backslashes escaped) appended to out; nothing for an empty
 * section. Returns 0 or the pgha_buf error. */
int pgha_clusterfile_conninfo(const struct pgha_clusterfile *cf, struct pgha_buf *out);

#endif
