/* test_pg.c: the libpq helper without a server (lib/pg.c); the real
 * server is exercised by the integration tests. */
#define _POSIX_C_SOURCE 200809L
#include "tap.h"

#include "error.h"
#include "pg.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* A TCP listener on 127.0.0.1 that never accepts: connecting succeeds in
 * the kernel, then PostgreSQL's answer never comes. Returns the port. */
static int silent_listener(int *fd_out)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		abort();
	*fd_out = fd;
	return ntohs(a.sin_port);
}

/* A port with nothing listening: bind, read the port, close. */
static int closed_port(void)
{
	int fd;
	int port = silent_listener(&fd);
	close(fd);
	return port;
}

int main(void)
{
	struct pgha_pg pg;
	struct pgha_deadline d;
	char port[16];

	/* PGPASSWORD and friends must not make the test depend on the caller */
	unsetenv("PGSERVICE");

	pgha_pg_init(&pg);
	snprintf(port, sizeof port, "%d", closed_port());
	struct pgha_pg_params p = { .host = "127.0.0.1", .port = port, .dbname = "postgres",
				    .user = "nobody" };
	pgha_deadline_start(&d, 5);
	int64_t t0 = pgha_now_ms();
	is_int(pgha_pg_connect(&pg, &p, &d), PGHA_E_UNREACHABLE, "refused port: UNREACHABLE");
	ok(pgha_now_ms() - t0 < 2000, "refusal is quick");
	like(pg.error, "Connection refused", "libpq's reason kept");
	ok(strchr(pg.error, '\n') == NULL, "error is one line");
	is_int(pgha_pg_query(&pg, "SELECT 1", 0, NULL), PGHA_E_QUERY, "query without a connection");
	pgha_pg_close(&pg);
	pgha_pg_close(&pg);
	ok(pg.conn == NULL, "close twice is safe");

	int fd;
	snprintf(port, sizeof port, "%d", silent_listener(&fd));
	pgha_pg_init(&pg);
	pgha_deadline_start(&d, 1);
	t0 = pgha_now_ms();
	is_int(pgha_pg_connect(&pg, &p, &d), PGHA_E_TIMEOUT, "silent server: TIMEOUT");
	int64_t took = pgha_now_ms() - t0;
	ok(took >= 900 && took < 1500, "gave up at the deadline (%lld ms)", (long long)took);
	like(pg.error, "timed out", "explained");
	pgha_pg_close(&pg);
	close(fd);

	/* a dsn is used, and explicit fields override it */
	pgha_pg_init(&pg);
	snprintf(port, sizeof port, "%d", closed_port());
	char dsn[128];
	snprintf(dsn, sizeof dsn, "host=127.0.0.1 port=1 dbname=x");
	struct pgha_pg_params q = { .dsn = dsn, .port = port };
	pgha_deadline_start(&d, 5);
	is_int(pgha_pg_connect(&pg, &q, &d), PGHA_E_UNREACHABLE, "dsn + port override: refused");
	like(pg.error, port, "the overriding port was used");
	pgha_pg_close(&pg);

	ok(pgha_pg_value(&pg, 0, 0) == NULL, "no result: value NULL");
	is_int(pgha_pg_rows(&pg), 0, "no result: 0 rows");
	int64_t v;
	is_int(pgha_pg_int64(&pg, 0, 0, &v), PGHA_E_NOTFOUND, "no result: NOTFOUND");
	is_str(pgha_pg_text(&pg, 0, 0), "", "no result: text \"\"");
	ok(!pgha_pg_bool(&pg, 0, 0), "no result: bool false");

	/* a result made by hand: text, NULL and booleans */
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc cols[3] = {
		{ .name = (char *)(uintptr_t)"s", .format = 0 },
		{ .name = (char *)(uintptr_t)"b", .format = 0 },
		{ .name = (char *)(uintptr_t)"n", .format = 0 },
	};
	if (!res || !PQsetResultAttrs(res, 3, cols) ||
	    !PQsetvalue(res, 0, 0, (char *)(uintptr_t)"abc", 3) ||
	    !PQsetvalue(res, 0, 1, (char *)(uintptr_t)"t", 1) ||
	    !PQsetvalue(res, 0, 2, NULL, -1) ||
	    !PQsetvalue(res, 1, 0, (char *)(uintptr_t)"", 0) ||
	    !PQsetvalue(res, 1, 1, (char *)(uintptr_t)"f", 1) ||
	    !PQsetvalue(res, 1, 2, (char *)(uintptr_t)"true", 4))
		abort();
	pg.res = res;
	is_str(pgha_pg_text(&pg, 0, 0), "abc", "text of a value");
	is_str(pgha_pg_text(&pg, 0, 2), "", "text of NULL: \"\"");
	is_str(pgha_pg_text(&pg, 1, 0), "", "text of an empty string");
	is_str(pgha_pg_text(&pg, 5, 0), "", "text out of range: \"\"");
	ok(pgha_pg_bool(&pg, 0, 1), "bool \"t\" is true");
	ok(!pgha_pg_bool(&pg, 1, 1), "bool \"f\" is false");
	ok(!pgha_pg_bool(&pg, 0, 2), "bool NULL is false");
	ok(!pgha_pg_bool(&pg, 1, 2), "only PostgreSQL's \"t\" is true");
	ok(!pgha_pg_bool(&pg, 0, 9), "bool out of range is false");
	pgha_pg_close(&pg);
	ok(pg.res == NULL, "close frees the result");
	return done_testing();
}
