/*
 * lock.c: the cluster lock. See lock.h. (Being written.)
 */
#include <config.h>

#include "lock.h"

/* placeholder until the lock lands */
int pgha_lock_placeholder(void);
int pgha_lock_placeholder(void) { return 0; }
