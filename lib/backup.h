/*
 * backup.h: (being written)
 */
#ifndef PGHA_BACKUP_H
#define PGHA_BACKUP_H

#endif
