/*
 * test_http.c: the HTTP client (lib/http.c) against tests/unit/fixture_server,
 * which is tested along the way (routes, record, modes, max-requests).
 *
 * The fixture binary is found as $PGHA_TOP_BUILDDIR/tests/unit/fixture_server,
 * else ./tests/unit/fixture_server (make check runs in the build directory).
 * "Nothing listening" is a socket bound to a port without listen(), held
 * for the whole test so no one else can take that port.
 */
#define _POSIX_C_SOURCE 200809L
#include "auth.h"
#include "clock.h"
#include "error.h"
#include "http.h"

#include "../unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[256];
static char fixture_bin[512];
static int n_files;

struct fixture {
	pid_t pid;
	unsigned port;
	char url[64];
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* A new file name under dir (static storage, valid to the end). */
static char paths[64][512];
static const char *tmp_path(const char *what)
{
	if (n_files == 64) {
		printf("Bail out! too many temporary files\n");
		exit(1);
	}
	char *p = paths[n_files];
	snprintf(p, sizeof paths[0], "%s/%s.%d", dir, what, n_files);
	n_files++;
	return p;
}

/* Contents of path as a new string (caller frees), or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (s = malloc((size_t)n + 1)) != NULL) {
		size_t got = fread(s, 1, (size_t)n, f);
		s[got] = '\0';
	}
	fclose(f);
	return s;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Start the fixture with the NULL-terminated extra args; wait for its
 * port file. Returns 0, or -1 (f->pid is then 0 or reaped). */
static int fixture_start(struct fixture *f, const char *const *args)
{
	const char *port_file = tmp_path("port");
	char *argv[40];
	int n = 0;

	f->pid = 0;
	f->port = 0;
	unlink(port_file);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		argv[n++] = strdup(fixture_bin);
		argv[n++] = strdup("--port-file");
		argv[n++] = strdup(port_file);
		argv[n++] = strdup("--lifetime");
		argv[n++] = strdup("30");
		for (int i = 0; args && args[i] && n < 39; i++)
			argv[n++] = strdup(args[i]);
		argv[n] = NULL;
		execv(fixture_bin, argv);
		fprintf(stderr, "exec %s: %s\n", fixture_bin, strerror(errno));
		_exit(127);
	}
	f->pid = pid;
	for (int waited = 0; waited < 5000; waited += 10) {
		char *s = slurp(port_file);
		if (s && s[0]) {
			f->port = (unsigned)strtoul(s, NULL, 10);
			free(s);
			snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u",
				 f->port);
			return f->port ? 0 : -1;
		}
		free(s);
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			f->pid = 0;
			return -1;
		}
		sleep_ms(10);
	}
	return -1;
}

/* Wait up to ms for the fixture to exit by itself; its exit status, or -1
 * if it is still running (or died of a signal). */
static int fixture_wait(struct fixture *f, int ms)
{
	int status;

	if (f->pid <= 0)
		return -1;
	for (int waited = 0; waited <= ms; waited += 10) {
		if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
			f->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		sleep_ms(10);
	}
	return -1;
}

/* SIGTERM the fixture and reap it; its exit status or -1. */
static int fixture_stop(struct fixture *f)
{
	int status;

	if (f->pid <= 0)
		return -1;
	kill(f->pid, SIGTERM);
	if (waitpid(f->pid, &status, 0) != f->pid)
		return -1;
	f->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Run the fixture with args, which should make it exit at once (usage
 * errors); its exit status, or -1 (killed after 3 s). */
static int fixture_run(const char *const *args)
{
	char *argv[16];
	int n = 0, status;

	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		argv[n++] = strdup(fixture_bin);
		for (int i = 0; args[i] && n < 15; i++)
			argv[n++] = strdup(args[i]);
		argv[n] = NULL;
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 2);
		execv(fixture_bin, argv);
		_exit(127);
	}
	for (int waited = 0; waited < 3000; waited += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* A port with nothing listening: bound, never listen()ed; keep fd open. */
static unsigned dead_port(int *fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(*fd, (struct sockaddr *)&sa, &len) != 0)
		return 0;
	return ntohs(sa.sin_port);
}

/* A client over the comma-separated endpoints; aborts the test if they
 * are refused. */
static void client(struct pgha_http *h, const char *endpoints)
{
	char err[256];

	pgha_http_init(h);
	if (pgha_http_add_endpoints(h, endpoints, err, sizeof err) != 0) {
		printf("Bail out! endpoints \"%s\": %s\n", endpoints, err);
		exit(1);
	}
}

static void test_endpoint_parsing(void)
{
	struct pgha_http h;
	char err[256], list[2048];
	int rc;

	pgha_http_init(&h);
	rc = pgha_http_add_endpoints(&h, " http://a:8008 ,\thttps://b.example:8443/ ,http://[::1]:8008//", err, sizeof err);
	is_int(rc, 0, "valid list accepted");
	is_int(h.n_endpoints, 3, "three endpoints");
	is_str(h.endpoints[0], "http://a:8008", "spaces trimmed");
	is_str(h.endpoints[1], "https://b.example:8443", "trailing '/' dropped");
	is_str(h.endpoints[2], "http://[::1]:8008", "IPv6 literal, all trailing '/' dropped");
	rc = pgha_http_add_endpoints(&h, "HTTP://c/prefix/", err, sizeof err);
	is_int(rc, 0, "upper-case scheme and a base path accepted");
	is_str(h.endpoints[3], "HTTP://c/prefix", "base path kept");
	pgha_http_free(&h);
	is_int(h.n_endpoints, 0, "free empties the list");

	static const struct {
		const char *list, *why;
	} bad[] = {
		{ "", "empty" },
		{ "http://a,,http://b", "empty" },
		{ "http://a,", "empty" },
		{ "ftp://a", "must start with http:// or https://" },
		{ "a:8008", "must start with http:// or https://" },
		{ "http://", "no host" },
		{ "http://:8008", "no host" },
		{ "http://a b", "whitespace" },
		{ "http://a\tb", "whitespace" },
		{ "http://a\nb", "whitespace" },
		{ "http://a:0", "bad port" },
		{ "http://a:65536", "bad port" },
		{ "http://a:80x", "bad port" },
		{ "http://a:", "bad port" },
		{ "http://[::1", "bad IPv6" },
		{ "http://a/x?y=1", "query" },
		{ "http://a#f", "query" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pgha_http_init(&h);
		err[0] = '\0';
		rc = pgha_http_add_endpoints(&h, bad[i].list, err, sizeof err);
		is_int(rc, PGHA_E_INVALID, "invalid endpoint %zu refused", i);
		like(err, bad[i].why, "invalid endpoint %zu: reason", i);
		is_int(h.n_endpoints, 0, "invalid endpoint %zu: nothing added", i);
		pgha_http_free(&h);
	}

	pgha_http_init(&h);
	rc = pgha_http_add_endpoints(&h, "http://user:hunter2@a:8008", err, sizeof err);
	is_int(rc, PGHA_E_INVALID, "user information refused");
	like(err, "credentials file", "message points to the credentials file");
	ok(strstr(err, "hunter2") == NULL, "the password is not echoed");
	rc = pgha_http_add_endpoints(&h, "http://a:1,ftp://b", err, sizeof err);
	is_int(rc, PGHA_E_INVALID, "one bad entry refuses the list");
	is_int(h.n_endpoints, 0, "a refused list adds nothing");
	like(err, "\"ftp://b\"", "message quotes the bad entry");
	pgha_http_free(&h);

	/* at most 16 */
	list[0] = '\0';
	size_t len = 0;
	for (int i = 0; i < 17; i++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%shttp://h%d:8008",
					i ? "," : "", i);
	pgha_http_init(&h);
	rc = pgha_http_add_endpoints(&h, list, err, sizeof err);
	is_int(rc, PGHA_E_TOOBIG, "17 endpoints refused");
	like(err, "at most 16", "message gives the limit");
	is_int(h.n_endpoints, 0, "nothing added");
	*strrchr(list, ',') = '\0';
	rc = pgha_http_add_endpoints(&h, list, err, sizeof err);
	is_int(rc, 0, "16 endpoints accepted");
	rc = pgha_http_add_endpoints(&h, "http://one-more", err, sizeof err);
	is_int(rc, PGHA_E_TOOBIG, "a 17th added later refused");
	is_int(h.n_endpoints, 16, "still 16");
	pgha_http_free(&h);
}

int main(void)
{
	struct pgha_http h;
	struct pgha_http_response resp;
	struct pgha_deadline d;
	struct fixture good, s503, hang, closer, rec, big, nolen;
	char url[256], list[512];
	int64_t t0, elapsed;
	int rc, dead_fd1, dead_fd2;

	/* never let a proxy from the environment get in the way */
	setenv("no_proxy", "*", 1);
	setenv("NO_PROXY", "*", 1);
	signal(SIGPIPE, SIG_IGN);

	const char *top = getenv("PGHA_TOP_BUILDDIR");
	snprintf(fixture_bin, sizeof fixture_bin, "%s/tests/unit/fixture_server",
		 top && *top ? top : ".");
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/pgha-test-http-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}

	test_endpoint_parsing();

	/* --- fixtures --------------------------------------------------- */
	const char *leader = tmp_path("leader.json");
	spit(leader, "{\"role\":\"master\",\"state\":\"running\"}");
	const char *big_file = tmp_path("big.json");
	{
		char *s = malloc(10001);
		memset(s, 'x', 10000);
		s[10000] = '\0';
		spit(big_file, s);
		free(s);
	}
	const char *record = tmp_path("record");
	char route1[600], route2[600];
	snprintf(route1, sizeof route1, "/patroni=%s", leader);
	snprintf(route2, sizeof route2, "/primary=503:%s", leader);

	const char *a_good[] = { "--body", "{\"ok\":true}", "--route", route1,
				 "--route", route2, NULL };
	const char *a_503[] = { "--status", "503", "--body", "{\"state\":\"running\"}", NULL };
	const char *a_hang[] = { "--mode", "hang", NULL };
	const char *a_close[] = { "--mode", "close", NULL };
	const char *a_rec[] = { "--record", record, "--body", "{}", NULL };
	const char *a_big[] = { "--body-file", big_file, NULL };
	const char *a_nolen[] = { "--body-file", big_file, "--no-length", NULL };
	rc = fixture_start(&good, a_good);
	ok(rc == 0, "fixture (serve) started on port %u", good.port);
	ok(fixture_start(&s503, a_503) == 0, "fixture (503) started");
	ok(fixture_start(&hang, a_hang) == 0, "fixture (hang) started");
	ok(fixture_start(&closer, a_close) == 0, "fixture (close) started");
	ok(fixture_start(&rec, a_rec) == 0, "fixture (record) started");
	ok(fixture_start(&big, a_big) == 0, "fixture (big body) started");
	ok(fixture_start(&nolen, a_nolen) == 0, "fixture (no length) started");
	unsigned dead1 = dead_port(&dead_fd1), dead2 = dead_port(&dead_fd2);
	ok(dead1 && dead2, "ports with nothing listening");
	char dead1_url[64], dead2_url[64];
	snprintf(dead1_url, sizeof dead1_url, "http://127.0.0.1:%u", dead1);
	snprintf(dead2_url, sizeof dead2_url, "http://127.0.0.1:%u", dead2);

	pgha_http_response_init(&resp, 0);

	/* --- GET 200 with a body, routes -------------------------------- */
	client(&h, good.url);
	pgha_deadline_start(&d, 10);
	rc = pgha_http_get(&h, &d, "/cluster", &resp);
	is_int(rc, 0, "GET answered");
	is_int(resp.status, 200, "status 200");
	is_str(resp.body.data, "{\"ok\":true}", "body received");
	ok(resp.endpoint == h.endpoints[0], "endpoint is the client's string");
	rc = pgha_http_get(&h, &d, "/patroni", &resp);
	is_int(rc, 0, "GET on a route");
	is_str(pgha_buf_str(&resp.body), "{\"role\":\"master\",\"state\":\"running\"}",
	       "route serves its file");
	rc = pgha_http_get(&h, &d, "/primary?x=1", &resp);
	is_int(resp.status, 503, "route with a status, matched without the query");
	is_str(pgha_buf_str(&resp.body), "{\"role\":\"master\",\"state\":\"running\"}",
	       "route with a status serves its file");
	spit(leader, "{\"role\":\"replica\"}");
	rc = pgha_http_get(&h, &d, "/patroni", &resp);
	is_str(pgha_buf_str(&resp.body), "{\"role\":\"replica\"}",
	       "route file is read per request");
	rc = pgha_http_request(&h, &d, "HEAD", "/patroni", NULL, &resp);
	is_int(rc, 0, "HEAD answered");
	is_int(resp.status, 200, "HEAD status");
	is_int(resp.body.len, 0, "HEAD has no body");
	ok(resp.body.data != NULL, "body is a string even when empty");
	pgha_http_free(&h);

	/* --- 503 is an answer, not a failover --------------------------- */
	snprintf(list, sizeof list, "%s,%s", s503.url, good.url);
	client(&h, list);
	pgha_deadline_start(&d, 10);
	rc = pgha_http_get(&h, &d, "/primary", &resp);
	is_int(rc, 0, "503 returned as an answer");
	is_int(resp.status, 503, "status 503");
	ok(resp.endpoint && strcmp(resp.endpoint, s503.url) == 0,
	   "from the first endpoint");
	is_str(pgha_buf_str(&resp.body), "{\"state\":\"running\"}", "503 body kept");
	pgha_http_free(&h);

	/* --- refused, then a good one ----------------------------------- */
	snprintf(list, sizeof list, "%s,%s", dead1_url, good.url);
	client(&h, list);
	pgha_deadline_start(&d, 10);
	rc = pgha_http_get(&h, &d, "/cluster", &resp);
	is_int(rc, 0, "refused endpoint skipped");
	is_int(resp.status, 200, "second endpoint answered");
	ok(resp.endpoint && strcmp(resp.endpoint, good.url) == 0,
	   "endpoint names the second");
	pgha_http_free(&h);

	/* --- all refused ------------------------------------------------ */
	client(&h, dead1_url);
	pgha_deadline_start(&d, 10);
	rc = pgha_http_get(&h, &d, "/cluster", &resp);
	is_int(rc, PGHA_E_UNREACHABLE, "one refused endpoint: unreachable");
	snprintf(url, sizeof url, "could not connect to \"%s\": Connection refused",
		 dead1_url);
	is_str(resp.error, url, "message names the endpoint and the reason");
	is_int(resp.status, 0, "no status");
	ok(resp.endpoint == NULL, "no endpoint");
	pgha_http_free(&h);

	snprintf(list, sizeof list, "%s,%s", dead1_url, dead2_url);
	client(&h, list);
	rc = pgha_http_get(&h, &d, "/cluster", &resp);
	is_int(rc, PGHA_E_UNREACHABLE, "all refused: unreachable");
	like(resp.error, "no endpoint answered (2 tried); last: could not connect to \"",
	     "message counts the endpoints");
	like(resp.error, dead2_url, "message names the last endpoint");
	pgha_http_free(&h);

	/* --- an endpoint that hangs up at once, then a good one --------- */
	snprintf(list, sizeof list, "%s,%s", closer.url, good.url);
	client(&h, list);
	pgha_deadline_start(&d, 10);
	rc = pgha_http_get(&h, &d, "/cluster", &resp);
	is_int(rc, 0, "closed connection skipped");
	is_int(resp.status, 200, "good endpoint answered after a hang-up");
	pgha_http_free(&h);
	client(&h, closer.url);
	rc = pgha_http_get(&h, &d, "/cluster", &resp);
	is_int(rc, PGHA_E_UNREACHABLE, "only a hang-up: unreachable");
	like(resp.error, closer.url, "message names it");
	pgha_http_free(&h);

	/* --- a hanging endpoint, then a good one, 2 s for both ---------- */
	snprintf(list, sizeof list, "%s,%s", hang.url, good.url);
	client(&h, list);
	pgha_deadline_start(&d, 2);
	t0 = pgha_now_ms();
	rc = pgha_http_get(&h, &d, "/cluster", &resp);
	elapsed = pgha_now_ms() - t0;
	is_int(rc, 0, "hanging endpoint skipped");
	is_int(resp.status, 200, "good endpoint answered in time");
	ok(elapsed < 2000, "within the deadline (%lld ms)", (long long)elapsed);
	ok(elapsed >= 900, "the hanging one had half the time (%lld ms)",
	   (long long)elapsed);
	pgha_http_free(&h);

	/* --- only a hanging endpoint ------------------------------------ */
	client(&h, hang.url);
	pgha_deadline_start(&d, 1);
	t0 = pgha_now_ms();
	rc = pgha_http_get(&h, &d, "/cluster", &resp);
	elapsed = pgha_now_ms() - t0;
	is_int(rc, PGHA_E_TIMEOUT, "hanging endpoint: timeout");
	ok(elapsed <= 1300, "gave up at the deadline (%lld ms)", (long long)elapsed);
	like(resp.error, "no answer from \"", "message says no answer");
	like(resp.error, hang.url, "message names the endpoint");

	/* deadline already over: no attempt at all */
	pgha_deadline_start(&d, 0);
	t0 = pgha_now_ms();
	rc = pgha_http_get(&h, &d, "/cluster", &resp);
	elapsed = pgha_now_ms() - t0;
	is_int(rc, PGHA_E_TIMEOUT, "expired deadline: timeout");
	like(resp.error, "deadline passed before contacting", "message says so");
	ok(elapsed < 100, "without trying (%lld ms)", (long long)elapsed);
	pgha_http_free(&h);

	/* --- body cap --------------------------------------------------- */
	client(&h, big.url);
	h.max_body = 1000;
	pgha_deadline_start(&d, 10);
	rc = pgha_http_get(&h, &d, "/", &resp);
	is_int(rc, PGHA_E_TOOBIG, "body over max_body refused (Content-Length)");
	snprintf(url, sizeof url, "response from \"%s/\" larger than 1000 bytes",
		 big.url);
	is_str(resp.error, url, "message names the URL and the cap");
	is_int(resp.body.len, 0, "no partial body kept");
	h.max_body = 10000;
	rc = pgha_http_get(&h, &d, "/", &resp);
	is_int(rc, 0, "body of exactly max_body accepted");
	is_int(resp.body.len, 10000, "all of it");
	pgha_http_free(&h);

	client(&h, nolen.url);
	h.max_body = 1000;
	rc = pgha_http_get(&h, &d, "/", &resp);
	is_int(rc, PGHA_E_TOOBIG, "body over max_body refused (no Content-Length)");
	like(resp.error, "larger than 1000 bytes", "message gives the cap");
	h.max_body = PGHA_HTTP_DEFAULT_MAX_BODY;
	{
		struct pgha_http_response small;
		pgha_http_response_init(&small, 500);
		rc = pgha_http_get(&h, &d, "/", &small);
		is_int(rc, PGHA_E_TOOBIG, "the response's own cap applies too");
		like(small.error, "larger than 500 bytes", "message gives that cap");
		pgha_http_response_free(&small);
	}
	rc = pgha_http_get(&h, &d, "/", &resp);
	is_int(rc, 0, "close-delimited body read whole");
	is_int(resp.body.len, 10000, "all of it");
	pgha_http_free(&h);

	/* --- POST and auth, seen from the server ------------------------ */
	client(&h, rec.url);
	pgha_deadline_start(&d, 10);
	rc = pgha_http_request(&h, &d, "POST", "/switchover",
			       "{\"leader\":\"n1\"}", &resp);
	is_int(rc, 0, "POST answered");
	char *seen = slurp(record);
	like(seen, "POST /switchover HTTP/1.0\r\n", "request line");
	like(seen, "\r\nContent-Length: 15\r\n", "Content-Length sent");
	like(seen, "\r\nContent-Type: application/json\r\n", "JSON content type");
	like(seen, "\r\nUser-Agent: pgha/", "User-Agent");
	ok(seen && strstr(seen, "Expect:") == NULL, "no Expect header");
	ok(seen && strstr(seen, "Authorization") == NULL, "no credentials, no Authorization");
	ok(seen && strlen(seen) > 15 &&
	   strcmp(seen + strlen(seen) - 15, "{\"leader\":\"n1\"}") == 0,
	   "body received");
	free(seen);
	unlink(record);

	struct pgha_credentials cred = { .username = (char[]){ "pgha" },
					 .password = (char[]){ "s3cret" } };
	h.auth = &cred;
	rc = pgha_http_get(&h, &d, "/patroni", &resp);
	is_int(rc, 0, "GET with credentials");
	seen = slurp(record);
	like(seen, "\r\nAuthorization: Basic cGdoYTpzM2NyZXQ=\r\n",
	     "basic auth header (pgha:s3cret)");
	like(seen, "GET /patroni HTTP/1.0\r\n", "GET after a POST is a GET");
	ok(seen && strstr(seen, "Content-Length") == NULL, "GET has no body");
	free(seen);
	unlink(record);

	h.token = "etcdtoken.42";
	rc = pgha_http_get(&h, &d, "/v3/x", &resp);
	is_int(rc, 0, "GET with a token");
	seen = slurp(record);
	like(seen, "\r\nAuthorization: etcdtoken.42\r\n", "the token is the Authorization header");
	ok(seen && strstr(seen, "Basic") == NULL, "and replaces basic auth");
	free(seen);
	unlink(record);
	h.token = NULL;

	rc = pgha_http_request(&h, &d, "PATCH", "/config", "{\"pause\":true}", &resp);
	is_int(rc, 0, "PATCH answered");
	rc = pgha_http_request(&h, &d, "POST", "/reload", NULL, &resp);
	is_int(rc, 0, "POST without a body answered");
	rc = pgha_http_request(&h, &d, "DELETE", "/switchover", NULL, &resp);
	is_int(rc, 0, "DELETE answered");
	seen = slurp(record);
	like(seen, "PATCH /config HTTP/1.0\r\n", "PATCH request line");
	like(seen, "\r\nContent-Length: 14\r\n", "PATCH Content-Length");
	like(seen, "POST /reload HTTP/1.0\r\n", "POST request line");
	like(seen, "\r\nContent-Length: 0\r\n", "empty POST says Content-Length: 0");
	like(seen, "DELETE /switchover HTTP/1.0\r\n", "DELETE request line");
	free(seen);
	unlink(record);

	/* the trace never shows credentials */
	{
		const char *trace_file = tmp_path("trace");
		fflush(stderr);
		int saved = dup(2);
		int fd = open(trace_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		close(fd);
		h.verbose = 3;
		rc = pgha_http_get(&h, &d, "/patroni", &resp);
		h.verbose = 0;
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
		char *t = slurp(trace_file);
		snprintf(url, sizeof url, "http: GET %s/patroni -> 200 (", rec.url);
		like(t, url, "trace line with method, URL, status");
		ok(t && !strstr(t, "s3cret") && !strstr(t, "cGdoYTpzM2NyZXQ") &&
		   !strstr(t, "Authorization"), "trace has no credentials");
		free(t);
	}
	h.auth = NULL;
	unlink(record);
	pgha_http_free(&h);

	/* --- request_url, from a client without endpoints ---------------- */
	pgha_http_init(&h);
	snprintf(url, sizeof url, "%s/patroni", good.url);
	rc = pgha_http_request_url(&h, &d, "GET", url, NULL, &resp);
	is_int(rc, 0, "request_url answered");
	is_int(resp.status, 200, "request_url status");
	is_str(pgha_buf_str(&resp.body), "{\"role\":\"replica\"}", "request_url body");
	ok(resp.endpoint == url, "request_url: endpoint is the URL given");
	seen = slurp(record);
	ok(seen == NULL, "request_url did not use the client's endpoints");
	free(seen);
	snprintf(url, sizeof url, "%s/patroni", dead1_url);
	rc = pgha_http_request_url(&h, &d, "GET", url, NULL, &resp);
	is_int(rc, PGHA_E_UNREACHABLE, "request_url to nothing: unreachable");
	like(resp.error, "could not connect to \"", "request_url message");
	like(resp.error, url, "request_url message names the URL");
	rc = pgha_http_request_url(&h, &d, "GET", "file:///etc/passwd", NULL, &resp);
	is_int(rc, PGHA_E_INVALID, "request_url refuses other schemes");
	rc = pgha_http_request_url(&h, &d, "GET", "http://u:p@h/x", NULL, &resp);
	is_int(rc, PGHA_E_INVALID, "request_url refuses user information");

	/* --- misuse ----------------------------------------------------- */
	rc = pgha_http_get(&h, &d, "/x", &resp);
	is_int(rc, PGHA_E_INVALID, "no endpoints: invalid");
	pgha_http_free(&h);
	client(&h, good.url);
	rc = pgha_http_get(&h, &d, "patroni", &resp);
	is_int(rc, PGHA_E_INVALID, "path without '/' refused");
	rc = pgha_http_get(&h, &d, "/a b", &resp);
	is_int(rc, PGHA_E_INVALID, "path with a space refused");
	rc = pgha_http_request(&h, &d, "get", "/", NULL, &resp);
	is_int(rc, PGHA_E_INVALID, "lower-case method refused");
	rc = pgha_http_request(&h, &d, "GET /x HTTP/1.0\r\n", "/", NULL, &resp);
	is_int(rc, PGHA_E_INVALID, "method with spaces refused");
	rc = pgha_http_get(&h, NULL, "/", &resp);
	is_int(rc, PGHA_E_INVALID, "no deadline refused");
	pgha_http_free(&h);
	pgha_http_free(&h);
	ok(1, "free twice is harmless");
	{
		struct pgha_http unused;
		pgha_http_init(&unused);
		pgha_http_free(&unused);
		ok(unused.curl == NULL, "a client never used never touched libcurl");
	}

	/* --- TLS: the plain-HTTP fixture cannot do a handshake ----------- */
	snprintf(url, sizeof url, "https://127.0.0.1:%u", good.port);
	client(&h, url);
	pgha_deadline_start(&d, 10);
	rc = pgha_http_get(&h, &d, "/", &resp);
	is_int(rc, PGHA_E_UNREACHABLE, "TLS handshake failure: unreachable");
	like(resp.error, "TLS connection to \"https://", "message says TLS");
	snprintf(list, sizeof list, "%s,%s", url, good.url);
	pgha_http_free(&h);
	client(&h, list);
	pgha_deadline_start(&d, 10);
	rc = pgha_http_get(&h, &d, "/", &resp);
	is_int(rc, 0, "TLS failure moves on to the next endpoint");
	pgha_http_free(&h);
	client(&h, url);
	h.tls.cacert = tmp_path("no-such-ca.pem");
	pgha_deadline_start(&d, 10);
	rc = pgha_http_get(&h, &d, "/", &resp);
	is_int(rc, PGHA_E_INVALID, "unreadable CA file: a set-up error");
	like(resp.error, "could not send request to", "set-up error message");
	h.tls.cacert = NULL;
	h.tls.insecure = true;
	pgha_deadline_start(&d, 10);
	rc = pgha_http_get(&h, &d, "/", &resp);
	is_int(rc, PGHA_E_UNREACHABLE, "insecure still needs TLS");
	pgha_http_free(&h);

	pgha_http_response_free(&resp);

	/* --- the fixture itself ----------------------------------------- */
	{
		struct fixture once, slow, hang1;
		const char *a_once[] = { "--max-requests", "1", NULL };
		const char *a_slow[] = { "--delay-ms", "300", NULL };
		const char *a_hang1[] = { "--mode", "hang", "--max-requests", "1", NULL };
		struct pgha_http_response r2;

		pgha_http_response_init(&r2, 0);
		ok(fixture_start(&once, a_once) == 0, "fixture --max-requests 1 started");
		client(&h, once.url);
		pgha_deadline_start(&d, 10);
		rc = pgha_http_get(&h, &d, "/", &r2);
		is_int(rc, 0, "answered once");
		is_int(fixture_wait(&once, 3000), 0, "then exited by itself with 0");
		pgha_http_free(&h);

		ok(fixture_start(&slow, a_slow) == 0, "fixture --delay-ms 300 started");
		client(&h, slow.url);
		t0 = pgha_now_ms();
		rc = pgha_http_get(&h, &d, "/", &r2);
		elapsed = pgha_now_ms() - t0;
		is_int(rc, 0, "delayed answer");
		ok(elapsed >= 280, "answer delayed (%lld ms)", (long long)elapsed);
		is_int(fixture_stop(&slow), 0, "SIGTERM: exit 0");
		pgha_http_free(&h);

		ok(fixture_start(&hang1, a_hang1) == 0, "fixture hang --max-requests 1 started");
		client(&h, hang1.url);
		pgha_deadline_start(&d, 0.3);
		rc = pgha_http_get(&h, &d, "/", &r2);
		is_int(rc, PGHA_E_TIMEOUT, "hang: no answer");
		is_int(fixture_wait(&hang1, 3000), 0, "hang: exits once the client gave up");
		pgha_http_free(&h);
		pgha_http_response_free(&r2);

		const char *bad_mode[] = { "--mode", "bogus", NULL };
		const char *bad_opt[] = { "--frobnicate", NULL };
		const char *both[] = { "--body", "x", "--body-file", leader, NULL };
		const char *missing[] = { "--route", "/x=/no/such/file", NULL };
		is_int(fixture_run(bad_mode), 2, "fixture: bad --mode exits 2");
		is_int(fixture_run(bad_opt), 2, "fixture: unknown option exits 2");
		is_int(fixture_run(both), 2, "fixture: --body and --body-file exclude each other");
		is_int(fixture_run(missing), 2, "fixture: unreadable route file exits 2");
	}

	is_int(fixture_stop(&good), 0, "fixture (serve) stopped");
	is_int(fixture_stop(&s503), 0, "fixture (503) stopped");
	is_int(fixture_stop(&hang), 0, "fixture (hang) stopped");
	is_int(fixture_stop(&closer), 0, "fixture (close) stopped");
	is_int(fixture_stop(&rec), 0, "fixture (record) stopped");
	is_int(fixture_stop(&big), 0, "fixture (big) stopped");
	is_int(fixture_stop(&nolen), 0, "fixture (no length) stopped");
	close(dead_fd1);
	close(dead_fd2);

	/* remove what we wrote */
	for (int i = 0; i < n_files; i++)
		unlink(paths[i]);
	rmdir(dir);
	return done_testing();
}
