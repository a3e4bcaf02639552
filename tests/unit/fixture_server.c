/*
 * fixture_server.c: a tiny HTTP/1.1 server for tests.
 *
 * Serves canned answers (Patroni or etcd JSON, error statuses) and
 * misbehaves on request (never answers, hangs up), for the states a real
 * cluster cannot be put in on demand. It uses nothing but libc, POSIX
 * sockets and libpgha_core's buffer.
 *
 * usage: fixture_server [--port N] [--port-file F] [--status N]
 *            [--body-file F | --body TEXT] [--route /path=[STATUS:]FILE]...
 *            [--mode serve|hang|close] [--delay-ms N] [--max-requests N]
 *            [--record F] [--no-length] [--lifetime S] [--verbose]
 *
 *   --port N         listen on 127.0.0.1:N; 0 (default) picks a free port
 *   --port-file F    write the chosen port and a newline to F once listening
 *                    (written to a temporary name and renamed, so a reader
 *                    that sees F sees all of it); start accepting after that
 *   --status N       status of every answer (default 200)
 *   --body TEXT      body of every answer (default empty)
 *   --body-file F    body read from F, afresh for every request (so a test
 *                    may change it between requests)
 *   --route P=FILE   requests for path P are answered from FILE, status 200,
 *                    or STATUS when given as P=STATUS:FILE; repeatable. P
 *                    matches the request target exactly, or its part before
 *                    '?'; the split is at the last '='. Other paths fall
 *                    back to --status/--body. FILE is read per request.
 *   --mode M         serve (default): answer every request with the status
 *                    and body, "Content-Type: application/json",
 *                    Content-Length and "Connection: close";
 *                    hang: accept, read the request, never answer (the
 *                    connection is held until the client gives up);
 *                    close: accept, then close at once without reading
 *   --delay-ms N     serve: wait N ms after the request before answering
 *   --max-requests N exit after N requests: answered (serve), abandoned by
 *                    the client (hang) or closed (close). Default: no limit
 *   --record F       append every complete request to F, exactly as
 *                    received (head, then Content-Length bytes of body),
 *                    before answering it
 *   --no-length      send no Content-Length: the body ends with the
 *                    connection (tests a client's own body cap)
 *   --lifetime S     exit after S seconds whatever happens (1-60, default
 *                    60), so a failed test never leaves a server behind
 *   --verbose        log each request line and status to stderr
 *
 * It exits 0 on SIGTERM or SIGINT, after --max-requests, or at the end of
 * its lifetime; 2 on a usage error; 1 when it cannot listen or write F.
 * Each connection carries one request (HTTP/1.1 with "Connection: close");
 * up to 64 connections are served at once. Request heads over 64 KiB,
 * bodies over 1 MiB and chunked request bodies are refused (431, 413,
 * 411), and so is anything that does not start like a request (400; a
 * TLS ClientHello gets that at once, so a TLS client fails fast). "Expect: 100-continue" is honoured. HEAD gets the headers only.
 *
 * From a shell:
 *   fixture_server --port-file "$tmp/port" --route /patroni=leader.json \
 *       --route /primary=503:leader.json &
 *   while [ ! -s "$tmp/port" ]; do sleep 0.05; done
 *   curl "http://127.0.0.1:$(cat "$tmp/port")/patroni"
 */
#define _POSIX_C_SOURCE 200809L
#include "buf.h"
#include "clock.h"
#include "error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_CONNS 64
#define MAX_ROUTES 64
#define MAX_HEAD (64 * 1024)
#define MAX_REQ_BODY (1024 * 1024)
#define MAX_RESP_BODY (64 * 1024 * 1024)
#define MAX_LIFETIME 60
#define LINGER_MS 1000

enum mode { MODE_SERVE, MODE_HANG, MODE_CLOSE };

enum cstate {
	C_FREE,   /* slot unused */
	C_READ,   /* reading the request */
	C_DELAY,  /* request read, waiting --delay-ms before answering */
	C_WRITE,  /* sending the answer */
	C_LINGER, /* answer sent and write side shut: wait for the client's close */
	C_HANG    /* hang mode: reading and discarding until the client leaves */
};

struct route {
	const char *path;
	size_t path_len;
	int status;
	const char *file;
};

struct config {
	long port;
	const char *port_file;
	int status;
	const char *body;
	const char *body_file;
	enum mode mode;
	long delay_ms;
	long max_requests; /* 0: no limit */
	const char *record;
	bool no_length;
	long lifetime;
	bool verbose;
	struct route routes[MAX_ROUTES];
	size_t n_routes;
};

struct conn {
	int fd;
	enum cstate state;
	struct pgha_buf in;  /* the request as received */
	size_t head_len;     /* bytes up to and including the blank line; 0 until seen */
	size_t need;         /* head_len + Content-Length */
	bool complete;       /* the whole request has been read */
	bool refused;        /* hang mode: malformed, not to be recorded */
	struct pgha_buf out; /* the answer */
	size_t out_off;      /* bytes of out already sent */
	int64_t until;       /* end of C_DELAY or C_LINGER (monotonic ms) */
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

__attribute__((format(printf, 1, 2)))
static void warn(const char *fmt, ...)
{
	va_list ap;

	fputs("fixture_server: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(void)
{
	fputs("usage: fixture_server [--port N] [--port-file F] [--status N]\n"
	      "           [--body-file F | --body TEXT] [--route /path=[STATUS:]FILE]...\n"
	      "           [--mode serve|hang|close] [--delay-ms N] [--max-requests N]\n"
	      "           [--record F] [--no-length] [--lifetime S] [--verbose]\n",
	      stderr);
}

/* Parse a whole decimal string into *out within [min, max]. */
static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;

	if (!s || !*s)
		return false;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Read the whole file at path into b (reset first). 0, or -1 with errno. */
static int read_file(const char *path, struct pgha_buf *b)
{
	char chunk[16384];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	pgha_buf_reset(b);
	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		if (r == 0)
			break;
		if (pgha_buf_append(b, chunk, (size_t)r) != 0) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
	}
	close(fd);
	return 0;
}

/* Write all n bytes of p to fd (a blocking file). 0, or -1 with errno. */
static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Parse "--route P=[STATUS:]FILE" into r; false when malformed. */
static bool parse_route(const char *arg, struct route *r)
{
	const char *eq = strrchr(arg, '=');

	if (!eq || arg[0] != '/' || eq == arg || !eq[1])
		return false;
	r->path = arg;
	r->path_len = (size_t)(eq - arg);
	r->status = 200;
	r->file = eq + 1;
	const char *f = eq + 1;
	if (f[0] >= '1' && f[0] <= '5' && f[1] >= '0' && f[1] <= '9' &&
	    f[2] >= '0' && f[2] <= '9' && f[3] == ':' && f[4]) {
		r->status = (f[0] - '0') * 100 + (f[1] - '0') * 10 + (f[2] - '0');
		r->file = f + 4;
	}
	return true;
}

/* Fill cfg from argv; false (after a message) on a usage error. Options
 * take their value as the next argument or after '='. */
static bool parse_args(int argc, char **argv, struct config *cfg)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL;
		char name[32];
		const char *eq = strchr(arg, '=');
		size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
		long n;

		if (nlen >= sizeof name) {
			warn("unknown option \"%s\"", arg);
			return false;
		}
		memcpy(name, arg, nlen);
		name[nlen] = '\0';
		bool flag = strcmp(name, "--no-length") == 0 ||
			    strcmp(name, "--verbose") == 0 ||
			    strcmp(name, "--help") == 0;
		if (!flag) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				warn("option %s needs a value", name);
				return false;
			}
		} else if (eq) {
			warn("option %s takes no value", name);
			return false;
		}

		if (strcmp(name, "--help") == 0) {
			usage();
			exit(0);
		} else if (strcmp(name, "--no-length") == 0) {
			cfg->no_length = true;
		} else if (strcmp(name, "--verbose") == 0) {
			cfg->verbose = true;
		} else if (strcmp(name, "--port") == 0) {
			if (!parse_long(val, 0, 65535, &cfg->port))
				goto bad_value;
		} else if (strcmp(name, "--port-file") == 0) {
			cfg->port_file = val;
		} else if (strcmp(name, "--status") == 0) {
			if (!parse_long(val, 100, 599, &n))
				goto bad_value;
			cfg->status = (int)n;
		} else if (strcmp(name, "--body") == 0) {
			cfg->body = val;
		} else if (strcmp(name, "--body-file") == 0) {
			cfg->body_file = val;
		} else if (strcmp(name, "--route") == 0) {
			if (cfg->n_routes == MAX_ROUTES) {
				warn("at most %d routes", MAX_ROUTES);
				return false;
			}
			if (!parse_route(val, &cfg->routes[cfg->n_routes]))
				goto bad_value;
			cfg->n_routes++;
		} else if (strcmp(name, "--mode") == 0) {
			if (strcmp(val, "serve") == 0)
				cfg->mode = MODE_SERVE;
			else if (strcmp(val, "hang") == 0)
				cfg->mode = MODE_HANG;
			else if (strcmp(val, "close") == 0)
				cfg->mode = MODE_CLOSE;
			else
				goto bad_value;
		} else if (strcmp(name, "--delay-ms") == 0) {
			if (!parse_long(val, 0, MAX_LIFETIME * 1000L, &cfg->delay_ms))
				goto bad_value;
		} else if (strcmp(name, "--max-requests") == 0) {
			if (!parse_long(val, 1, LONG_MAX, &cfg->max_requests))
				goto bad_value;
		} else if (strcmp(name, "--record") == 0) {
			cfg->record = val;
		} else if (strcmp(name, "--lifetime") == 0) {
			if (!parse_long(val, 1, MAX_LIFETIME, &cfg->lifetime))
				goto bad_value;
		} else {
			warn("unknown option \"%s\"", name);
			return false;
		}
		continue;
bad_value:
		warn("invalid value \"%s\" for %s", val, name);
		return false;
	}
	if (cfg->body && cfg->body_file) {
		warn("--body and --body-file exclude each other");
		return false;
	}
	return true;
}

/* Check at start-up that every file we will serve can be read, so that a
 * typo fails the test at once rather than as a 500 later. */
static bool check_files(const struct config *cfg)
{
	struct pgha_buf b;
	bool ok = true;

	pgha_buf_init(&b, MAX_RESP_BODY);
	if (cfg->body_file && read_file(cfg->body_file, &b) != 0) {
		warn("cannot read \"%s\": %s", cfg->body_file, strerror(errno));
		ok = false;
	}
	for (size_t i = 0; ok && i < cfg->n_routes; i++) {
		if (read_file(cfg->routes[i].file, &b) != 0) {
			warn("cannot read \"%s\": %s", cfg->routes[i].file,
			     strerror(errno));
			ok = false;
		}
	}
	pgha_buf_free(&b);
	return ok;
}

/* Write the port to path through a temporary file and rename(). */
static bool write_port_file(const char *path, unsigned port)
{
	size_t n = strlen(path) + 32;
	char *tmp = malloc(n);
	char line[16];
	bool ok = false;

	if (!tmp)
		return false;
	snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
	int len = snprintf(line, sizeof line, "%u\n", port);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		ok = write_all(fd, line, (size_t)len) == 0;
		ok = close(fd) == 0 && ok;
		if (ok)
			ok = rename(tmp, path) == 0;
		if (!ok)
			unlink(tmp);
	}
	if (!ok)
		warn("cannot write port file \"%s\": %s", path, strerror(errno));
	free(tmp);
	return ok;
}

/* The reason phrase for an HTTP status. */
static const char *reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 422: return "Unprocessable Content";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return "Status";
}

/* Find the value of header name (case-insensitive) in the head of n
 * bytes; returns a pointer to it (leading blanks skipped) and its length
 * up to the line end, or NULL. */
static const char *find_header(const char *head, size_t n, const char *name,
			       size_t *len)
{
	size_t nl = strlen(name);
	const char *p = memchr(head, '\n', n), *end = head + n;

	/* skip the request line */
	while (p && p + 1 < end) {
		const char *line = p + 1;
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			break;
		if ((size_t)(eol - line) > nl && line[nl] == ':' &&
		    strncasecmp(line, name, nl) == 0) {
			const char *v = line + nl + 1, *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' ||
					  ve[-1] == '\t'))
				ve--;
			*len = (size_t)(ve - v);
			return v;
		}
		p = eol;
	}
	return NULL;
}

/* Build the answer in c->out: status, the standard headers and body
 * (body omitted for HEAD and statuses that have none). */
static void build_answer(const struct config *cfg, struct conn *c, int status,
			 const char *body, size_t body_len, bool head_only)
{
	bool no_body = status < 200 || status == 204 || status == 304;

	pgha_buf_reset(&c->out);
	pgha_buf_printf(&c->out, "HTTP/1.1 %d %s\r\n", status, reason(status));
	pgha_buf_puts(&c->out, "Content-Type: application/json\r\n");
	if (!no_body && !cfg->no_length)
		pgha_buf_printf(&c->out, "Content-Length: %zu\r\n", body_len);
	pgha_buf_puts(&c->out, "Connection: close\r\n\r\n");
	if (!no_body && !head_only)
		pgha_buf_append(&c->out, body, body_len);
	c->out_off = 0;
}

/* Answer a bad request at once with status and a JSON error message. */
static void refuse(const struct config *cfg, struct conn *c, int status,
		   const char *why)
{
	char body[256];

	if (c->state == C_HANG) {
		/* never answer in hang mode; just stop reading */
		c->refused = true;
		c->complete = true;
		return;
	}
	int n = snprintf(body, sizeof body, "{\"error\":\"%s\"}", why);

	build_answer(cfg, c, status, body, (size_t)n, false);
	c->state = C_WRITE;
	if (cfg->verbose)
		warn("refused a request: %d %s", status, why);
}

/* Append the complete request in c->in to the --record file. */
static void record_request(const struct config *cfg, const struct conn *c)
{
	if (!cfg->record || c->refused)
		return;
	int fd = open(cfg->record, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, c->in.data, c->need) != 0)
		warn("cannot append to \"%s\": %s", cfg->record, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Prepare the answer for the complete request in c (serve mode). */
static void prepare_answer(const struct config *cfg, struct conn *c)
{
	const char *req = c->in.data;
	const char *sp1 = memchr(req, ' ', c->head_len);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', c->head_len - (size_t)(sp1 + 1 - req)) : NULL;

	if (!sp1 || !sp2 || sp2 == sp1 + 1) {
		refuse(cfg, c, 400, "malformed request line");
		return;
	}
	const char *target = sp1 + 1;
	size_t tlen = (size_t)(sp2 - target);
	const char *q = memchr(target, '?', tlen);
	size_t plen = q ? (size_t)(q - target) : tlen;
	bool head_only = sp1 - req == 4 && memcmp(req, "HEAD", 4) == 0;

	const struct route *route = NULL;
	for (size_t i = 0; i < cfg->n_routes && !route; i++) /* exact first */
		if (cfg->routes[i].path_len == tlen &&
		    memcmp(cfg->routes[i].path, target, tlen) == 0)
			route = &cfg->routes[i];
	for (size_t i = 0; i < cfg->n_routes && !route; i++)
		if (cfg->routes[i].path_len == plen &&
		    memcmp(cfg->routes[i].path, target, plen) == 0)
			route = &cfg->routes[i];

	int status = route ? route->status : cfg->status;
	const char *file = route ? route->file : cfg->body_file;
	if (file) {
		struct pgha_buf b;
		pgha_buf_init(&b, MAX_RESP_BODY);
		if (read_file(file, &b) != 0) {
			warn("cannot read \"%s\": %s", file, strerror(errno));
			refuse(cfg, c, 500, "fixture_server cannot read its file");
		} else {
			build_answer(cfg, c, status, pgha_buf_str(&b), b.len,
				     head_only);
		}
		pgha_buf_free(&b);
	} else {
		const char *body = cfg->body ? cfg->body : "";
		build_answer(cfg, c, status, body, strlen(body), head_only);
	}
	if (cfg->verbose)
		warn("%.*s %.*s -> %d", (int)(sp1 - req), req, (int)tlen, target,
		     status);
}

/* Look at what has been read so far: find the end of the head, the body
 * length, and whether the whole request is in. May switch c to C_WRITE
 * with a refusal. */
static void examine_request(const struct config *cfg, struct conn *c)
{
	if (c->head_len == 0) {
		const char *data = pgha_buf_str(&c->in);
		/* A request starts with a method; anything else (a TLS
		 * ClientHello, say) is refused at once instead of waiting for
		 * a blank line that will never come. */
		if (c->in.len > 0 && (data[0] < 'A' || data[0] > 'Z')) {
			refuse(cfg, c, 400, "not an HTTP request");
			return;
		}
		const char *blank = NULL;
		for (size_t i = 0; i + 3 < c->in.len; i++)
			if (memcmp(data + i, "\r\n\r\n", 4) == 0) {
				blank = data + i;
				break;
			}
		if (!blank) {
			if (c->in.len > MAX_HEAD)
				refuse(cfg, c, 431, "request head too large");
			return;
		}
		c->head_len = (size_t)(blank - data) + 4;
		if (c->head_len > MAX_HEAD) {
			refuse(cfg, c, 431, "request head too large");
			return;
		}

		size_t vlen = 0;
		const char *v = find_header(data, c->head_len,
					    "Transfer-Encoding", &vlen);
		if (v) {
			refuse(cfg, c, 411, "chunked bodies are not supported");
			return;
		}
		long clen = 0;
		v = find_header(data, c->head_len, "Content-Length", &vlen);
		if (v) {
			char num[24];
			if (vlen >= sizeof num) {
				refuse(cfg, c, 400, "bad Content-Length");
				return;
			}
			memcpy(num, v, vlen);
			num[vlen] = '\0';
			if (!parse_long(num, 0, LONG_MAX, &clen)) {
				refuse(cfg, c, 400, "bad Content-Length");
				return;
			}
			if (clen > MAX_REQ_BODY) {
				refuse(cfg, c, 413, "request body too large");
				return;
			}
		}
		c->need = c->head_len + (size_t)clen;
		v = find_header(data, c->head_len, "Expect", &vlen);
		if (v && vlen == 12 && strncasecmp(v, "100-continue", 12) == 0 &&
		    c->in.len < c->need) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
			/* small enough to fit any socket buffer */
			if (send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL) < 0)
				warn("send: %s", strerror(errno));
		}
	}
	if (c->in.len >= c->need)
		c->complete = true;
}

/* Release a connection slot. */
static void close_conn(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->state = C_FREE;
	pgha_buf_free(&c->in);
	pgha_buf_free(&c->out);
}

/* Read what is available on c. Returns false when the client has closed
 * the connection or it failed. */
static bool read_some(const struct config *cfg, struct conn *c)
{
	char chunk[16384];
	ssize_t r = recv(c->fd, chunk, sizeof chunk, 0);

	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	if (r == 0)
		return false;
	if (c->state != C_READ && c->state != C_HANG)
		return true; /* lingering: discard */
	if (c->complete)
		return true; /* hang mode, request already in: discard */
	if (pgha_buf_append(&c->in, chunk, (size_t)r) != 0) {
		refuse(cfg, c, 413, "request too large");
		return true;
	}
	examine_request(cfg, c);
	return true;
}

/* The request in c has just become complete: record it, then answer it
 * (serve) or keep holding it (hang). */
static void request_done(const struct config *cfg, struct conn *c)
{
	record_request(cfg, c);
	if (c->state == C_HANG)
		return;
	prepare_answer(cfg, c);
	if (cfg->delay_ms > 0 && c->state == C_READ) {
		c->state = C_DELAY;
		c->until = pgha_now_ms() + cfg->delay_ms;
	} else {
		c->state = C_WRITE;
	}
}

/* Send what the socket takes of c's answer. Returns true once all is
 * sent (or sending failed: the answer is over either way). */
static bool write_some(struct conn *c)
{
	size_t left = c->out.len - c->out_off;
	ssize_t w = send(c->fd, c->out.data + c->out_off, left, MSG_NOSIGNAL);

	if (w < 0)
		return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
	c->out_off += (size_t)w;
	return c->out_off == c->out.len;
}

/* Open the listening socket on 127.0.0.1:port; -1 after a message. */
static int listen_on(long port, unsigned *bound)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		warn("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		warn("cannot listen on 127.0.0.1:%ld: %s", port, strerror(errno));
		close(fd);
		return -1;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct conn conns[MAX_CONNS];
	struct pollfd pfd[MAX_CONNS + 1];
	int map[MAX_CONNS + 1]; /* pfd index -> conns index, -1 = listener */
	long accepted = 0, completed = 0;
	unsigned port = 0;

	memset(&cfg, 0, sizeof cfg);
	cfg.status = 200;
	cfg.mode = MODE_SERVE;
	cfg.lifetime = MAX_LIFETIME;
	if (!parse_args(argc, argv, &cfg)) {
		usage();
		return 2;
	}
	if (!check_files(&cfg))
		return 2;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() must wake up */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	alarm((unsigned)cfg.lifetime);

	int lfd = listen_on(cfg.port, &port);
	if (lfd < 0)
		return 1;
	if (cfg.port_file && !write_port_file(cfg.port_file, port)) {
		close(lfd);
		return 1;
	}
	if (cfg.verbose)
		warn("listening on 127.0.0.1:%u", port);

	for (int i = 0; i < MAX_CONNS; i++) {
		conns[i].fd = -1;
		conns[i].state = C_FREE;
		pgha_buf_init(&conns[i].in, MAX_HEAD + MAX_REQ_BODY);
		pgha_buf_init(&conns[i].out, MAX_RESP_BODY + 4096);
	}

	while (!got_signal &&
	       (cfg.max_requests == 0 || completed < cfg.max_requests)) {
		nfds_t n = 0;
		int64_t now = pgha_now_ms(), wake = -1;
		int active = 0;

		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];
			short ev = 0;
			if (c->state == C_FREE)
				continue;
			active++;
			if (c->state == C_DELAY || c->state == C_LINGER) {
				int64_t w = c->until > now ? c->until - now : 0;
				if (wake < 0 || w < wake)
					wake = w;
			}
			if (c->state == C_READ || c->state == C_HANG ||
			    c->state == C_LINGER)
				ev = POLLIN;
			else if (c->state == C_WRITE)
				ev = POLLOUT;
			if (ev) {
				pfd[n].fd = c->fd;
				pfd[n].events = ev;
				pfd[n].revents = 0;
				map[n++] = i;
			}
		}
		if (active < MAX_CONNS &&
		    (cfg.max_requests == 0 || accepted < cfg.max_requests)) {
			pfd[n].fd = lfd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			map[n++] = -1;
		}

		int timeout = wake < 0 ? -1 : (wake > INT_MAX ? INT_MAX : (int)wake);
		int ready = poll(pfd, n, timeout);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			warn("poll: %s", strerror(errno));
			break;
		}

		for (nfds_t k = 0; k < n; k++) {
			if (!pfd[k].revents)
				continue;
			if (map[k] < 0) {
				/* accept what is waiting, while slots remain */
				for (;;) {
					if (cfg.max_requests && accepted >= cfg.max_requests)
						break;
					int slot = -1;
					for (int i = 0; i < MAX_CONNS && slot < 0; i++)
						if (conns[i].state == C_FREE)
							slot = i;
					if (slot < 0)
						break;
					int fd = accept(lfd, NULL, NULL);
					if (fd < 0)
						break;
					accepted++;
					if (cfg.mode == MODE_CLOSE) {
						close(fd);
						completed++;
						if (cfg.verbose)
							warn("closed a connection at once");
						continue;
					}
					fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
					fcntl(fd, F_SETFD, FD_CLOEXEC);
					struct conn *c = &conns[slot];
					c->fd = fd;
					c->state = cfg.mode == MODE_HANG ? C_HANG : C_READ;
					c->head_len = 0;
					c->need = 0;
					c->complete = false;
					c->refused = false;
					c->out_off = 0;
					pgha_buf_reset(&c->in);
					pgha_buf_reset(&c->out);
				}
				continue;
			}

			struct conn *c = &conns[map[k]];
			if (c->state == C_WRITE) {
				if (write_some(c)) {
					shutdown(c->fd, SHUT_WR);
					c->state = C_LINGER;
					c->until = pgha_now_ms() + LINGER_MS;
					completed++;
				}
				continue;
			}
			bool was_complete = c->complete;
			enum cstate before = c->state;
			if (!read_some(&cfg, c)) {
				if (c->state == C_HANG)
					completed++; /* the client gave up */
				close_conn(c);
				continue;
			}
			if (!was_complete && c->complete && before == c->state)
				request_done(&cfg, c);
		}

		/* timers: delays that are over, lingering that has lasted */
		now = pgha_now_ms();
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];
			if (c->state == C_DELAY && c->until <= now)
				c->state = C_WRITE;
			else if (c->state == C_LINGER && c->until <= now)
				close_conn(c);
		}
	}

	if (got_signal == SIGALRM)
		warn("lifetime of %ld s is over, exiting", cfg.lifetime);
	for (int i = 0; i < MAX_CONNS; i++) {
		if (conns[i].state != C_FREE)
			close_conn(&conns[i]);
		pgha_buf_free(&conns[i].in);
		pgha_buf_free(&conns[i].out);
	}
	close(lfd);
	return 0;
}
