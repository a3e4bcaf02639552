/* test_options.c: the shared command line (lib/options.c). */
#include "capture.h"
#include "tap.h"

#include "options.h"

#include <stdint.h>

enum { OWN_FLAG, OWN_VALUE };

struct ctx {
	int flag;
	const char *value;
};

static int handler(void *c, int id, const char *arg, char *err, size_t errlen)
{
	struct ctx *ctx = c;
	if (id == OWN_FLAG) {
		ctx->flag++;
		return 0;
	}
	if (strcmp(arg, "bad") == 0) {
		snprintf(err, errlen, "invalid value \"%s\" for --value", arg);
		return -2;
	}
	ctx->value = arg;
	return 0;
}

static const struct pgha_option own[] = {
	{ "flag", 0, NULL, "a flag of the program's own", OWN_FLAG },
	{ "value", 'x', "TEXT",
	  "a value of the program's own, with a help text long enough that it "
	  "has to be wrapped over several lines to stay within eighty columns",
	  OWN_VALUE },
};

static struct ctx ctx;
static const struct pgha_program prog = {
	.name = "check_test",
	.result_name = "PGHA_TEST",
	.summary = "A program for the tests.",
	.synopsis = "[--flag] [-x TEXT]",
	.groups = PGHA_GROUP_THRESHOLDS | PGHA_GROUP_HOST | PGHA_GROUP_PATRONI | PGHA_GROUP_TLS,
	.options = own,
	.n_options = 2,
	.handler = handler,
	.ctx = &ctx,
	.notes = "Some notes.",
};

/* Parse a NULL-terminated argument list; return the code and the output. */
static int run(char **out, struct pgha_common *c, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, c);
	argv[argc++] = (char *)(uintptr_t)"check_test";
	for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
		argv[argc++] = (char *)(uintptr_t)a;
	va_end(ap);
	argv[argc] = NULL;
	memset(&ctx, 0, sizeof ctx);
	int saved = capture_start();
	int rc = pgha_options_parse(&prog, argc, argv, c);
	*out = capture_end(saved);
	pgha_options_disarm();
	return rc;
}

/* True when every line of text is at most 80 columns. */
static int fits_80(const char *text)
{
	while (*text) {
		size_t len = strcspn(text, "\n");
		if (len > 80)
			return 0;
		text += len;
		if (*text)
			text++;
	}
	return 1;
}

int main(void)
{
	struct pgha_common c;
	char *out;
	int rc;

	rc = run(&out, &c, NULL);
	is_int(rc, -1, "no options: go on");
	ok(c.timeout == 10, "default timeout 10 s");
	is_int(c.timeout_result, PGHA_CRITICAL, "default timeout result CRITICAL");
	is_str(out, "", "nothing printed");
	free(out);

	rc = run(&out, &c, "-v", "-v", "-v", "-v", "-t", "2.5", "-w", "10:", "-c", "~:5",
		 "-H", "db1", "-p", "5433", "--patroni", "http://a:8008",
		 "--patroni=http://b:8008,http://c:8008", "--flag", "-x", "hello", NULL);
	is_int(rc, -1, "a full command line parses");
	is_int(c.verbose, 3, "-v counted up to 3");
	ok(c.timeout == 2.5, "-t 2.5");
	is_str(c.warning, "10:", "-w kept as text");
	is_str(c.critical, "~:5", "-c kept as text");
	is_str(c.hostname, "db1", "-H");
	is_str(c.port, "5433", "-p");
	is_int(c.n_patroni, 2, "--patroni twice");
	is_str(c.patroni[1], "http://b:8008,http://c:8008", "comma list kept whole");
	is_int(ctx.flag, 1, "own flag seen");
	is_str(ctx.value, "hello", "own short option with value");
	ok(pgha_deadline_left_ms(&c.deadline) > 2000, "deadline started from -t");
	free(out);

	rc = run(&out, &c, "--timeout-result=unknown", NULL);
	is_int(c.timeout_result, PGHA_UNKNOWN, "--timeout-result=unknown");
	free(out);
	rc = run(&out, &c, "--unreachable-state", "WARNING", NULL);
	is_int(c.timeout_result, PGHA_WARNING, "--unreachable-state WARNING (any case)");
	free(out);

	rc = run(&out, &c, "--bogus", NULL);
	is_int(rc, 3, "unknown long option: exit 3");
	like(out, "PGHA_TEST UNKNOWN - unknown option '--bogus'\n", "unknown long option named");
	like(out, "Usage: check_test", "short usage follows");
	ok(strstr(out, "Options:") == NULL, "but not the full help");
	free(out);

	rc = run(&out, &c, "--flag=yes", NULL);
	is_int(rc, 3, "a value for a flag of the program's own: exit 3");
	like(out, "PGHA_TEST UNKNOWN - option '--flag' takes no value\n", "explained");
	free(out);
	rc = run(&out, &c, "--insecure=1", NULL);
	is_int(rc, 3, "a value for a standard flag: exit 3");
	like(out, "option '--insecure' takes no value", "explained");
	free(out);

	rc = run(&out, &c, "-Z", NULL);
	is_int(rc, 3, "unknown short option: exit 3");
	like(out, "unknown option '-Z'", "unknown short option named");
	free(out);

	rc = run(&out, &c, "-t", "0", NULL);
	is_int(rc, 3, "-t 0: exit 3");
	like(out, "PGHA_TEST UNKNOWN - invalid timeout \"0\"", "-t 0 explained");
	free(out);
	rc = run(&out, &c, "-t", "abc", NULL);
	is_int(rc, 3, "-t abc: exit 3");
	like(out, "invalid timeout \"abc\"", "-t abc explained");
	free(out);
	rc = run(&out, &c, "-t", "5x", NULL);
	is_int(rc, 3, "-t 5x: exit 3");
	free(out);
	rc = run(&out, &c, "-t", NULL);
	is_int(rc, 3, "-t without value: exit 3");
	like(out, "option '-t' needs a value", "missing value explained");
	free(out);
	rc = run(&out, &c, "--patroni", NULL);
	is_int(rc, 3, "--patroni without value: exit 3");
	like(out, "needs a value", "missing long value explained");
	free(out);
	rc = run(&out, &c, "-p", "70000", NULL);
	is_int(rc, 3, "port out of range: exit 3");
	free(out);
	rc = run(&out, &c, "--timeout-result", "maybe", NULL);
	is_int(rc, 3, "bad state: exit 3");
	like(out, "invalid value \"maybe\" for --timeout-result", "bad state explained");
	free(out);
	rc = run(&out, &c, "-x", "bad", NULL);
	is_int(rc, 3, "the program's handler refuses: exit 3");
	like(out, "PGHA_TEST UNKNOWN - invalid value \"bad\" for --value", "handler message shown");
	free(out);
	rc = run(&out, &c, "stray", NULL);
	is_int(rc, 3, "positional argument: exit 3");
	like(out, "unexpected argument \"stray\"", "positional argument named");
	free(out);
	rc = run(&out, &c, "--dbname", "x", NULL);
	is_int(rc, 3, "an option of a group not asked for is unknown");
	free(out);

	rc = run(&out, &c, "--help", NULL);
	is_int(rc, 3, "--help: exit 3");
	like(out, "check_test (pgha) ", "help names the program and version");
	like(out, "A program for the tests.", "help has the summary");
	like(out, "  -w, --warning RANGE", "help lists -w");
	like(out, "      --insecure", "help lists a TLS option");
	like(out, "      --flag", "help lists the program's own options");
	like(out, "Some notes.", "help has the notes");
	ok(fits_80(out), "every help line fits 80 columns");
	ok(strstr(out, "--dbname") == NULL, "groups not asked for are not listed");
	free(out);
	rc = run(&out, &c, "-h", NULL);
	is_int(rc, 3, "-h: exit 3");
	free(out);

	rc = run(&out, &c, "-V", NULL);
	is_int(rc, 3, "-V: exit 3");
	like(out, "check_test (pgha) 0.", "version line");
	free(out);

	int saved = capture_start();
	rc = pgha_options_fail(&prog, "bad | input\nhere");
	out = capture_end(saved);
	is_int(rc, 3, "pgha_options_fail returns 3");
	like(out, "PGHA_TEST UNKNOWN - bad / input here\n", "message kept on one line, '|' replaced");
	free(out);

	return done_testing();
}
