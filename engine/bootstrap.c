/*
 * bootstrap.c: `pgha restore-backup`. See bootstrap.h. (Being written.)
 */
#include <config.h>

#include "bootstrap.h"

#include <stdio.h>

int pgha_restore_backup_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "pgha restore-backup: not written yet\n");
	return 4;
}

void pgha_restore_backup_help(void)
{
	puts("Usage: pgha restore-backup --backup DIR --datadir DIR (not written yet)");
}
