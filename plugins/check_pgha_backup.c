/*
 * check_pgha_backup: (being written)
 */
#include <config.h>

#include <stdio.h>

int main(void)
{
	puts("PGHA_BACKUP UNKNOWN - not written yet");
	return 3;
}
