/*
 * bootstrap.h: `pgha restore-backup`, the command Patroni runs as a custom
 * bootstrap method to restore a base backup into a node's data directory
 * (the restore runbook sets it up). (Being written.)
 */
#ifndef PGHA_BOOTSTRAP_H
#define PGHA_BOOTSTRAP_H

int pgha_restore_backup_main(int argc, char **argv);
void pgha_restore_backup_help(void);

#endif
