/*
 * status.h: `pgha status`, the live view of one Patroni+etcd cluster.
 *
 * One gather asks, all at once under one deadline (-t, default 5 s):
 *   - every Patroni node's GET /patroni (one thread per node, lib/fanout);
 *   - GET /cluster from the first node that answers, then the leader's
 *     PostgreSQL (one query: pg_stat_replication lag in bytes and seconds,
 *     client connections, blocked sessions), in a thread of its own;
 *   - etcd's members and every voter's status (lib/etcd), in a thread.
 * It is then shown as text (one screen, --watch redraws it), as one JSON
 * document (--json, docs/status-json.md) or as one health line and an
 * exit code (--health-check). See man/pgha.1.
 */
#ifndef PGHA_STATUS_H
#define PGHA_STATUS_H

/* `pgha status ...`: argv[0] is "status". Returns the exit code:
 *   text, --json, --watch: 0 shown, 2 usage error or bad cluster file,
 *                          1 the output could not be written;
 *   --health-check:        0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also
 *                          for a usage error or a bad cluster file). */
int pgha_status_main(int argc, char **argv);

/* Print `pgha status --help` to stdout. */
void pgha_status_help(void);

#endif
