/*
 * pgha.c: the `pgha` command, the operator's front door.
 *
 *   pgha status [...]     the live cluster view (engine/status.c)
 *   pgha run RUNBOOK ...  run a runbook (engine/run.c)
 *   pgha runbooks         list the runbooks in the search path
 *   pgha show RUNBOOK     a runbook's parameters and steps
 *   pgha journal [RUN]    the runs in the journal, or one run's story
 *   pgha --help | --version
 *
 * Subcommands are a table: a later one (run, runbooks, show) is one line
 * here and one function elsewhere. Each subcommand gets argv from its own
 * name on (argv[0] = "status") and returns the exit code.
 */
#include <config.h>

#include "journal.h"
#include "bootstrap.h"
#include "run.h"
#include "status.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv);
	void (*help)(void);
};

static const struct command commands[] = {
	{ "status", "show the cluster: members, lag, etcd quorum, sessions; "
		    "--json, --watch, --health-check", pgha_status_main, pgha_status_help },
	{ "run", "run a runbook: checks, gates, steps, verify, undo on failure; "
		 "--dry-run prints the plan", pgha_run_main, pgha_run_help },
	{ "runbooks", "list the runbooks found (name, version, summary)",
	  pgha_runbooks_main, pgha_runbooks_help },
	{ "show", "show a runbook's parameters and steps with their gates",
	  pgha_show_main, pgha_show_help },
	{ "journal", "list the runs in the journal, or tell one run's story",
	  pgha_journal_main, pgha_journal_help },
	{ "restore-backup", "restore a base backup into a data directory (Patroni's "
			    "bootstrap method in a point-in-time restore)",
	  pgha_restore_backup_main, pgha_restore_backup_help },
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fprintf(f, "pgha (%s) %s: operate a Patroni+etcd PostgreSQL cluster\n\n"
		"Usage: pgha COMMAND [OPTIONS]\n"
		"       pgha help COMMAND\n\n"
		"Commands:\n", PACKAGE_NAME, PACKAGE_VERSION);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nOptions:\n"
	      "  -h, --help     show this help and exit\n"
	      "  -V, --version  show the version and exit\n\n"
	      "Run 'pgha COMMAND --help' for the options of a command.\n", f);
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
		printf("pgha (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(name, "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		const struct command *c = find(argv[2]);
		if (!c) {
			fprintf(stderr, "pgha: unknown command \"%s\"\nTry 'pgha --help'.\n", argv[2]);
			return 2;
		}
		c->help();
		return 0;
	}
	const struct command *c = find(name);
	if (!c) {
		fprintf(stderr, "pgha: unknown command \"%s\"\nTry 'pgha --help'.\n", name);
		return 2;
	}
	return c->main(argc - 1, argv + 1);
}
