/*
 * walarchive.c: (being written)
 */
#include <config.h>

#include "walarchive.h"

int pgha_walarchive_placeholder(void);
int pgha_walarchive_placeholder(void) { return 0; }
