/*
 * run.h: the `pgha run`, `pgha runbooks` and `pgha show` commands.
 *
 * Each takes argv from its own name on and returns the exit code
 * (docs/runbooks.md): PGHA_RUN_OK 0, PGHA_RUN_ROLLED_BACK 1 (failed, every
 * completed step undone), PGHA_RUN_NEEDS_HUMAN 2 (failed, rollback
 * incomplete), PGHA_RUN_REFUSED 3 (gate declined, no terminal without
 * --yes, a pre-check failed), PGHA_RUN_USAGE 4 (usage or invalid runbook).
 */
#ifndef PGHA_RUN_H
#define PGHA_RUN_H

enum {
	PGHA_RUN_OK = 0,
	PGHA_RUN_ROLLED_BACK = 1,
	PGHA_RUN_NEEDS_HUMAN = 2,
	PGHA_RUN_REFUSED = 3,
	PGHA_RUN_USAGE = 4
};

int pgha_run_main(int argc, char **argv);
void pgha_run_help(void);
int pgha_runbooks_main(int argc, char **argv);
void pgha_runbooks_help(void);
int pgha_show_main(int argc, char **argv);
void pgha_show_help(void);

#endif
