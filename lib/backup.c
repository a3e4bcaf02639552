/*
 * backup.c: (being written)
 */
#include <config.h>

#include "backup.h"

int pgha_backup_placeholder(void);
int pgha_backup_placeholder(void) { return 0; }
