/*
 * options.c: shared command-line handling for the checks (see options.h).
 *
 * The getopt_long table is built from the standard groups a program asks
 * for plus its own options; --help is generated from the same table so the
 * two cannot drift apart.
 */
#define _POSIX_C_SOURCE 200809L
#include "options.h"
#include "error.h"

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HELP_WIDTH 80
#define HELP_INDENT 26
#define MAX_TIMEOUT 3600.0

/* Ids of the standard options; a program's own get OWN_BASE + index. */
enum {
	OPT_HELP = 'h', OPT_VERSION = 'V', OPT_VERBOSE = 'v', OPT_TIMEOUT = 't',
	OPT_WARNING = 'w', OPT_CRITICAL = 'c', OPT_HOST = 'H', OPT_PORT = 'p',
	OPT_DBNAME = 'd', OPT_USER = 'U',
	OPT_TIMEOUT_RESULT = 256, OPT_UNREACHABLE, OPT_DSN, OPT_PATRONI,
	OPT_ETCD, OPT_AUTH_FILE, OPT_CACERT, OPT_CERT, OPT_KEY, OPT_INSECURE, OPT_MEMBER,
	OWN_BASE = 512
};

struct std_option {
	unsigned group; /* 0: always */
	struct pgha_option opt;
};

static const struct std_option std_options[] = {
	{ 0, { "help", 'h', NULL, "show this help and exit", OPT_HELP } },
	{ 0, { "version", 'V', NULL, "show the version and exit", OPT_VERSION } },
	{ 0, { "verbose", 'v', NULL, "more detail; repeat up to three times", OPT_VERBOSE } },
	{ 0, { "timeout", 't', "SECONDS", "give up after this many seconds in all (default 10)", OPT_TIMEOUT } },
	{ 0, { "timeout-result", 0, "STATE",
	       "state when a peer cannot be reached or does not answer in time: "
	       "ok, warning, critical (default) or unknown", OPT_TIMEOUT_RESULT } },
	{ 0, { "unreachable-state", 0, "STATE", "the same as --timeout-result", OPT_UNREACHABLE } },
	{ PGHA_GROUP_THRESHOLDS, { "warning", 'w', "RANGE", "warning range", OPT_WARNING } },
	{ PGHA_GROUP_THRESHOLDS, { "critical", 'c', "RANGE", "critical range", OPT_CRITICAL } },
	{ PGHA_GROUP_HOST | PGHA_GROUP_PG, { "hostname", 'H', "HOST", "host to connect to", OPT_HOST } },
	{ PGHA_GROUP_HOST | PGHA_GROUP_PG, { "port", 'p', "PORT", "port to connect to", OPT_PORT } },
	{ PGHA_GROUP_PG, { "dbname", 'd', "NAME", "database name", OPT_DBNAME } },
	{ PGHA_GROUP_PG, { "username", 'U', "USER",
	  "database user; the password comes from .pgpass, PGPASSFILE or PGPASSWORD", OPT_USER } },
	{ PGHA_GROUP_PG, { "dsn", 0, "CONNINFO", "libpq connection string or service=NAME", OPT_DSN } },
	{ PGHA_GROUP_PATRONI, { "patroni", 0, "URL",
	  "Patroni REST API base URL; repeat or separate with commas: tried in "
	  "order while unreachable", OPT_PATRONI } },
	{ PGHA_GROUP_MEMBER, { "member", 0, "NAME",
	  "with --patroni: connect to this member instead of the leader", OPT_MEMBER } },
	{ PGHA_GROUP_ETCD, { "etcd", 0, "URL",
	  "etcd client URL; repeat or separate with commas", OPT_ETCD } },
	{ PGHA_GROUP_TLS, { "auth-file", 0, "FILE",
	  "credentials file (username=, password=; mode 0600) for HTTP basic "
	  "auth; default $PGHA_AUTH_FILE", OPT_AUTH_FILE } },
	{ PGHA_GROUP_TLS, { "cacert", 0, "FILE", "CA bundle to verify TLS peers", OPT_CACERT } },
	{ PGHA_GROUP_TLS, { "cert", 0, "FILE", "TLS client certificate (PEM)", OPT_CERT } },
	{ PGHA_GROUP_TLS, { "key", 0, "FILE", "TLS client key (PEM)", OPT_KEY } },
	{ PGHA_GROUP_TLS, { "insecure", 0, NULL, "do not verify TLS certificates (unsafe)", OPT_INSECURE } },
};
#define N_STD (sizeof std_options / sizeof std_options[0])

/* --- watchdog ------------------------------------------------------------ */

static char watchdog_message[160];
static size_t watchdog_len;
static int watchdog_exit;

static void watchdog_fire(int sig)
{
	(void)sig;
	ssize_t n = write(STDOUT_FILENO, watchdog_message, watchdog_len);
	(void)n;
	_exit(watchdog_exit);
}

/* Arm SIGALRM to fire one second after the timeout: the message is built
 * now, because the handler may only call async-signal-safe functions. */
static void watchdog_arm(const struct pgha_program *p, const struct pgha_common *c)
{
	int n = snprintf(watchdog_message, sizeof watchdog_message,
			 "%s %s - plugin timed out after %g s\n", p->result_name,
			 pgha_state_name(c->timeout_result), c->timeout);
	watchdog_len = n > 0 && (size_t)n < sizeof watchdog_message ? (size_t)n : 0;
	watchdog_exit = (int)c->timeout_result;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = watchdog_fire;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned)ceil(c->timeout) + 1);
}

void pgha_options_disarm(void)
{
	alarm(0);
}

/* --- help ------------------------------------------------------------------ */

static bool wanted(const struct pgha_program *p, unsigned group)
{
	return group == 0 || (p->groups & group) != 0;
}

/* Print text word-wrapped from column `col` (where the cursor is) up to
 * HELP_WIDTH, continuation lines indented by `indent`. */
static void print_wrapped(FILE *f, const char *text, int col, int indent)
{
	const char *s = text;
	while (*s) {
		while (*s == ' ')
			s++;
		size_t word = strcspn(s, " ");
		if (word == 0)
			break;
		if (col > indent && col + 1 + (int)word > HELP_WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(s, 1, word, f);
		col += (int)word;
		s += word;
	}
	fputc('\n', f);
}

static void print_option_help(FILE *f, const struct pgha_option *o)
{
	char head[64];
	int n = snprintf(head, sizeof head, "  %s%c%s--%s%s%s",
			 o->short_name ? "-" : "", o->short_name ? o->short_name : ' ',
			 o->short_name ? ", " : "  ", o->long_name,
			 o->arg_name ? " " : "", o->arg_name ? o->arg_name : "");
	if (!o->short_name)
		n = snprintf(head, sizeof head, "      --%s%s%s", o->long_name,
			     o->arg_name ? " " : "", o->arg_name ? o->arg_name : "");
	fputs(head, f);
	int col = n;
	if (col + 2 > HELP_INDENT) {
		fprintf(f, "\n%*s", HELP_INDENT, "");
	} else {
		fprintf(f, "%*s", HELP_INDENT - col, "");
	}
	print_wrapped(f, o->help, HELP_INDENT, HELP_INDENT);
}

static void print_usage_line(const struct pgha_program *p, FILE *f)
{
	fprintf(f, "Usage: %s", p->name);
	print_wrapped(f, p->synopsis ? p->synopsis : "[OPTIONS]",
		      (int)strlen(p->name) + 7, 8);
}

void pgha_options_help(const struct pgha_program *p, FILE *f)
{
	fprintf(f, "%s (%s) %s\n", p->name, PACKAGE_NAME, PACKAGE_VERSION);
	print_wrapped(f, p->summary, 0, 0);
	fputc('\n', f);
	print_usage_line(p, f);
	fputs("\nOptions:\n", f);
	for (size_t i = 0; i < N_STD; i++)
		if (wanted(p, std_options[i].group))
			print_option_help(f, &std_options[i].opt);
	for (size_t i = 0; i < p->n_options; i++)
		print_option_help(f, &p->options[i]);
	fputs("\nExit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n", f);
	if (p->notes) {
		fputc('\n', f);
		/* notes are pre-formatted paragraphs separated by '\n' */
		const char *s = p->notes;
		while (*s) {
			size_t len = strcspn(s, "\n");
			char para[1024];
			if (len >= sizeof para)
				len = sizeof para - 1;
			memcpy(para, s, len);
			para[len] = '\0';
			print_wrapped(f, para, 0, 0);
			s += len;
			if (*s == '\n')
				s++;
		}
	}
}

/* --- errors ---------------------------------------------------------------- */

static int vfail(const struct pgha_program *p, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	for (char *m = msg; *m; m++) {
		if (*m == '\n' || *m == '\r')
			*m = ' ';
		else if (*m == '|')
			*m = '/'; /* as output.c does: it would start perfdata */
	}
	printf("%s UNKNOWN - %s\n", p->result_name, msg);
	print_usage_line(p, stdout);
	printf("Try '%s --help' for more information.\n", p->name);
	fflush(stdout);
	return PGHA_UNKNOWN;
}

int pgha_options_fail(const struct pgha_program *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vfail(p, fmt, ap);
	va_end(ap);
	return rc;
}

/* --- parsing --------------------------------------------------------------- */

/* Parse a timeout in seconds: a positive number up to MAX_TIMEOUT. */
static int parse_timeout(const char *arg, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end != '\0' || !(v > 0) || v > MAX_TIMEOUT)
		return PGHA_E_INVALID;
	*out = v;
	return 0;
}

/* Accept a port number 1..65535, kept as text for libpq and URLs. */
static int check_port(const char *arg)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	return errno || end == arg || *end || v < 1 || v > 65535 ? PGHA_E_INVALID : 0;
}

static int add_url(const char **list, size_t *n, const char *arg)
{
	if (*n >= PGHA_MAX_URL_ARGS)
		return PGHA_E_TOOBIG;
	list[(*n)++] = arg;
	return 0;
}

static void common_defaults(struct pgha_common *c)
{
	memset(c, 0, sizeof *c);
	c->timeout = 10;
	c->timeout_result = PGHA_CRITICAL;
}

/* Handle one standard option. Returns -1 to go on, else an exit code. */
static int handle_std(const struct pgha_program *p, struct pgha_common *c,
		      int id, const char *arg, const char *spelled)
{
	switch (id) {
	case OPT_HELP:
		pgha_options_help(p, stdout);
		fflush(stdout);
		return PGHA_UNKNOWN;
	case OPT_VERSION:
		printf("%s (%s) %s\n", p->name, PACKAGE_NAME, PACKAGE_VERSION);
		fflush(stdout);
		return PGHA_UNKNOWN;
	case OPT_VERBOSE:
		if (c->verbose < 3)
			c->verbose++;
		return -1;
	case OPT_TIMEOUT:
		if (parse_timeout(arg, &c->timeout))
			return pgha_options_fail(p, "invalid timeout \"%s\": must be "
						 "a number of seconds above 0 and at most %g",
						 arg, MAX_TIMEOUT);
		return -1;
	case OPT_TIMEOUT_RESULT:
	case OPT_UNREACHABLE:
		if (pgha_state_parse(arg, &c->timeout_result))
			return pgha_options_fail(p, "invalid value \"%s\" for %s: use "
						 "ok, warning, critical or unknown", arg, spelled);
		return -1;
	case OPT_WARNING: c->warning = arg; return -1;
	case OPT_CRITICAL: c->critical = arg; return -1;
	case OPT_HOST: c->hostname = arg; return -1;
	case OPT_PORT:
		if (check_port(arg))
			return pgha_options_fail(p, "invalid port \"%s\": must be 1 to 65535", arg);
		c->port = arg;
		return -1;
	case OPT_DBNAME: c->dbname = arg; return -1;
	case OPT_USER: c->username = arg; return -1;
	case OPT_DSN: c->dsn = arg; return -1;
	case OPT_PATRONI:
		if (add_url(c->patroni, &c->n_patroni, arg))
			return pgha_options_fail(p, "too many --patroni options (at most %d)",
						 PGHA_MAX_URL_ARGS);
		return -1;
	case OPT_ETCD:
		if (add_url(c->etcd, &c->n_etcd, arg))
			return pgha_options_fail(p, "too many --etcd options (at most %d)",
						 PGHA_MAX_URL_ARGS);
		return -1;
	case OPT_AUTH_FILE: c->auth_file = arg; return -1;
	case OPT_CACERT: c->cacert = arg; return -1;
	case OPT_CERT: c->cert = arg; return -1;
	case OPT_KEY: c->key = arg; return -1;
	case OPT_INSECURE: c->insecure = true; return -1;
	case OPT_MEMBER: c->member = arg; return -1;
	}
	return pgha_options_fail(p, "internal error: unhandled option %d", id);
}

/* Append one option to the getopt tables. */
static void add_getopt(struct option *longs, size_t *nl, char *shorts, size_t *ns,
		       const struct pgha_option *o, int val)
{
	longs[*nl].name = o->long_name;
	longs[*nl].has_arg = o->arg_name ? required_argument : no_argument;
	longs[*nl].flag = NULL;
	longs[*nl].val = val;
	(*nl)++;
	if (o->short_name) {
		shorts[(*ns)++] = (char)o->short_name;
		if (o->arg_name)
			shorts[(*ns)++] = ':';
	}
}

#define MAX_OPTIONS 64

int pgha_options_parse(const struct pgha_program *p, int argc, char **argv,
		       struct pgha_common *c)
{
	struct option longs[MAX_OPTIONS + 1];
	char shorts[2 * MAX_OPTIONS + 2];
	size_t nl = 0, ns = 0;

	common_defaults(c);
	if (N_STD + p->n_options > MAX_OPTIONS)
		return pgha_options_fail(p, "internal error: too many options");

	shorts[ns++] = ':'; /* report a missing argument as ':' */
	for (size_t i = 0; i < N_STD; i++)
		if (wanted(p, std_options[i].group))
			add_getopt(longs, &nl, shorts, &ns, &std_options[i].opt,
				   std_options[i].opt.id);
	for (size_t i = 0; i < p->n_options; i++) {
		const struct pgha_option *o = &p->options[i];
		add_getopt(longs, &nl, shorts, &ns, o,
			   o->short_name ? o->short_name : OWN_BASE + (int)i);
	}
	memset(&longs[nl], 0, sizeof longs[nl]);
	shorts[ns] = '\0';

	opterr = 0;
	optind = 1;
	for (;;) {
		int index = -1;
		int prev = optind;
		int id = getopt_long(argc, argv, shorts, longs, &index);
		if (id == -1)
			break;
		const char *spelled = prev < argc ? argv[prev] : "?";
		if (id == '?') {
			if (strncmp(spelled, "--", 2) == 0) {
				/* getopt names a known option given a value in optopt */
				const char *eq = strchr(spelled, '=');
				if (optopt && eq)
					return pgha_options_fail(p, "option '%.*s' takes no value",
								 (int)(eq - spelled), spelled);
				return pgha_options_fail(p, "unknown option '%s'", spelled);
			}
			return pgha_options_fail(p, "unknown option '-%c'", optopt);
		}
		if (id == ':') {
			if (optopt && optopt < 256)
				return pgha_options_fail(p, "option '-%c' needs a value", optopt);
			return pgha_options_fail(p, "option '%s' needs a value", spelled);
		}

		/* the program's own options win over nothing: find by value */
		const struct pgha_option *own = NULL;
		for (size_t i = 0; i < p->n_options; i++) {
			int val = p->options[i].short_name ? p->options[i].short_name
							   : OWN_BASE + (int)i;
			if (val == id)
				own = &p->options[i];
		}
		if (own) {
			char err[256] = "";
			if (p->handler(p->ctx, own->id, optarg, err, sizeof err))
				return pgha_options_fail(p, "%s", err[0] ? err : "invalid option");
			continue;
		}
		int done = handle_std(p, c, id, optarg, spelled);
		if (done >= 0)
			return done;
	}
	if (optind < argc)
		return pgha_options_fail(p, "unexpected argument \"%s\"", argv[optind]);

	if ((p->groups & PGHA_GROUP_TLS) && !c->auth_file) {
		const char *env = getenv("PGHA_AUTH_FILE");
		if (env && *env)
			c->auth_file = env;
	}
	pgha_deadline_start(&c->deadline, c->timeout);
	watchdog_arm(p, c);
	return -1;
}
