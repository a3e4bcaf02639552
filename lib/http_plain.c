/*
 * http_plain.c: the http:// transport, HTTP/1.0 over a plain socket.
 *
 * A check makes one or two small requests to a Patroni or etcd endpoint
 * on the local network and exits. Doing that with a socket costs about
 * 1 ms and no shared library, where libcurl costs 7 ms and 7 MB before the
 * first byte is sent. The request is HTTP/1.0 with "Connection: close",
 * so the answer ends at its Content-Length or when the server closes;
 * servers do not send chunked bodies to HTTP/1.0 clients, but one that
 * does is decoded all the same.
 *
 * Everything runs against one time budget (connect, send, receive), with
 * non-blocking sockets and poll(). Only the name lookup (getaddrinfo)
 * blocks; numeric addresses never wait, and the options watchdog bounds
 * a hung resolver.
 */
#define _POSIX_C_SOURCE 200809L
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#include "http_attempt.h"
#include "base64.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define USER_AGENT "pgha/" PACKAGE_VERSION
#define MAX_HEAD (64 * 1024) /* response status line and headers */
#define MAX_HOST 256

/* The parts of a URL that was validated by http.c. */
struct target {
	char host[MAX_HOST]; /* without IPv6 brackets */
	char port[8];
	const char *authority; /* host[:port] as written, for Host: */
	size_t authority_len;
	const char *path;      /* "/..." or "" (then "/" is sent) */
};

/* Split "http://authority/path" into its parts. */
static int split_url(const char *url, struct target *t)
{
	const char *a = url + 7; /* "http://", checked by the caller */
	const char *end = a + strcspn(a, "/?#");
	const char *host = a, *host_end, *colon = NULL;

	t->authority = a;
	t->authority_len = (size_t)(end - a);
	t->path = end;
	if (*host == '[') {
		host++;
		host_end = memchr(host, ']', (size_t)(end - host));
		if (!host_end)
			return PGHA_E_INVALID;
		if (host_end + 1 < end && host_end[1] == ':')
			colon = host_end + 1;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		host_end = colon ? colon : end;
	}
	size_t hl = (size_t)(host_end - host);
	if (hl == 0 || hl >= sizeof t->host)
		return PGHA_E_INVALID;
	memcpy(t->host, host, hl);
	t->host[hl] = '\0';
	const char *port = colon ? colon + 1 : "80";
	size_t pl = colon ? (size_t)(end - port) : 2;
	if (pl == 0 || pl >= sizeof t->port)
		return PGHA_E_INVALID;
	memcpy(t->port, port, pl);
	t->port[pl] = '\0';
	return 0;
}

/* Overwrite memory that held a secret. */
static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

/* Build the request text into req. */
static int build_request(const struct pgha_http_attempt *a, const struct target *t,
			 struct pgha_buf *req)
{
	const struct pgha_credentials *auth = a->client->auth;
	int rc = pgha_buf_printf(req, "%s %s HTTP/1.0\r\nHost: %.*s\r\n"
				 "User-Agent: " USER_AGENT "\r\nAccept: */*\r\n"
				 "Connection: close\r\n",
				 a->method, t->path[0] == '/' ? t->path : "/",
				 (int)t->authority_len, t->authority);
	if (t->path[0] == '?' && rc == 0) {
		/* "http://h:p?x": the query belongs after "/" */
		pgha_buf_reset(req);
		rc = pgha_buf_printf(req, "%s /%s HTTP/1.0\r\nHost: %.*s\r\n"
				     "User-Agent: " USER_AGENT "\r\nAccept: */*\r\n"
				     "Connection: close\r\n",
				     a->method, t->path, (int)t->authority_len, t->authority);
	}
	if (rc == 0 && a->client->token) {
		rc = pgha_buf_printf(req, "Authorization: %s\r\n", a->client->token);
	} else if (rc == 0 && auth && auth->username) {
		struct pgha_buf cred;
		pgha_buf_init(&cred, 4096);
		rc = pgha_buf_printf(&cred, "%s:%s", auth->username,
				     auth->password ? auth->password : "");
		char *b64 = rc ? NULL : malloc(PGHA_BASE64_LEN(cred.len));
		if (b64) {
			pgha_base64_encode(cred.data, cred.len, b64);
			rc = pgha_buf_printf(req, "Authorization: Basic %s\r\n", b64);
			wipe(b64, strlen(b64));
			free(b64);
		} else if (rc == 0) {
			rc = PGHA_E_NOMEM;
		}
		if (cred.data)
			wipe(cred.data, cred.len);
		pgha_buf_free(&cred);
	}
	bool sends_body = a->body || strcmp(a->method, "POST") == 0 ||
			  strcmp(a->method, "PUT") == 0 || strcmp(a->method, "PATCH") == 0;
	if (rc == 0 && sends_body)
		rc = pgha_buf_printf(req, "Content-Type: application/json\r\n"
				     "Content-Length: %zu\r\n",
				     a->body ? strlen(a->body) : 0);
	if (rc == 0)
		rc = pgha_buf_puts(req, "\r\n");
	if (rc == 0 && a->body)
		rc = pgha_buf_puts(req, a->body);
	return rc;
}

/* Wait for events on fd until end_ms. 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t end_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	for (;;) {
		int64_t left = end_ms - pgha_now_ms();
		if (left <= 0)
			return 0;
		int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Connect to any address of t within end_ms. Returns the socket, -1 with
 * msg set (refused, unresolvable), or -2 when time ran out. */
static int connect_any(const struct target *t, int64_t end_ms, struct pgha_http_attempt *a)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	int g = getaddrinfo(t->host, t->port, &hints, &res);
	if (g) {
		pgha_errf(a->msg, sizeof a->msg, "could not connect to \"%s\": %s",
			  a->endpoint, g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
		return -1;
	}
	int fd = -1, last_errno = ECONNREFUSED;
	bool timed_out = false;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		int s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       ai->ai_protocol);
		if (s < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
			fd = s;
			break;
		}
		if (errno == EINPROGRESS) {
			int w = wait_fd(s, POLLOUT, end_ms);
			int soerr = 0;
			socklen_t len = sizeof soerr;
			if (w == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
			    soerr == 0) {
				fd = s;
				break;
			}
			if (w == 0)
				timed_out = true;
			last_errno = w == 1 ? soerr : errno;
		} else {
			last_errno = errno;
		}
		close(s);
		if (timed_out)
			break;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		return fd;
	if (timed_out)
		return -2;
	pgha_errf(a->msg, sizeof a->msg, "could not connect to \"%s\": %s", a->endpoint,
		  strerror(last_errno));
	return -1;
}

/* Send all of req within end_ms. 0, -1 (msg set) or -2 (time ran out). */
static int send_all(int fd, const struct pgha_buf *req, int64_t end_ms,
		    struct pgha_http_attempt *a)
{
	size_t off = 0;
	while (off < req->len) {
		ssize_t n = send(fd, req->data + off, req->len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			int w = wait_fd(fd, POLLOUT, end_ms);
			if (w == 1)
				continue;
			if (w == 0)
				return -2;
		}
		pgha_errf(a->msg, sizeof a->msg, "connection to \"%s\" failed: %s", a->endpoint,
			  strerror(errno));
		return -1;
	}
	return 0;
}

/* Find a header's value in the head (lines after the status line);
 * returns a pointer to it and its length, or NULL. */
static const char *header(const char *head, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	for (const char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
		line += 2;
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t n = strcspn(v, "\r\n");
			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			*len = n;
			return v;
		}
	}
	return NULL;
}

/* Decode a chunked body in place. 0, or -1 when it is malformed. */
static int dechunk(struct pgha_buf *b)
{
	size_t in = 0, out = 0;
	for (;;) {
		char *end;
		if (in >= b->len)
			return -1;
		errno = 0;
		unsigned long long size = strtoull(b->data + in, &end, 16);
		if (errno || end == b->data + in)
			return -1;
		char *eol = strstr(end, "\r\n");
		if (!eol)
			return -1;
		in = (size_t)(eol - b->data) + 2;
		if (size == 0)
			break;
		if (size > b->len - in)
			return -1;
		memmove(b->data + out, b->data + in, (size_t)size);
		out += (size_t)size;
		in += (size_t)size + 2;
	}
	b->len = out;
	b->data[out] = '\0';
	return 0;
}

/* Read and parse the answer. 0, PGHA_ATTEMPT_NEXT or a PGHA_E_* code. */
static int receive(int fd, int64_t end_ms, struct pgha_http_attempt *a)
{
	struct pgha_buf head;
	char chunk[16384];
	size_t head_end = 0;        /* bytes of head incl. the blank line */
	long long content_length = -1;
	bool chunked = false, no_body = strcmp(a->method, "HEAD") == 0;
	int rc = 0;

	pgha_buf_init(&head, MAX_HEAD);
	for (;;) {
		if (head_end && content_length >= 0 && a->out->len >= (size_t)content_length)
			break;
		int w = wait_fd(fd, POLLIN, end_ms);
		if (w == 0) {
			pgha_errf(a->msg, sizeof a->msg, "no answer from \"%s\" within %lld ms",
				  a->endpoint, (long long)a->budget_ms);
			a->timed_out = true;
			rc = PGHA_ATTEMPT_NEXT;
			break;
		}
		ssize_t n = w < 0 ? -1 : recv(fd, chunk, sizeof chunk, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0) {
			pgha_errf(a->msg, sizeof a->msg, "connection to \"%s\" failed: %s",
				  a->endpoint, strerror(errno));
			rc = PGHA_ATTEMPT_NEXT;
			break;
		}
		if (n == 0) {
			if (!head_end) {
				pgha_errf(a->msg, sizeof a->msg, "connection to \"%s\" failed: %s",
					  a->endpoint, head.len ? "incomplete answer" : "empty reply");
				rc = PGHA_ATTEMPT_NEXT;
			} else if (content_length >= 0 && a->out->len < (size_t)content_length) {
				pgha_errf(a->msg, sizeof a->msg, "connection to \"%s\" failed: "
					  "answer cut short", a->endpoint);
				rc = PGHA_ATTEMPT_NEXT;
			}
			break;
		}
		const char *data = chunk;
		size_t len = (size_t)n;
		if (!head_end) {
			if (pgha_buf_append(&head, chunk, len)) {
				pgha_errf(a->msg, sizeof a->msg, "connection to \"%s\" failed: "
					  "headers larger than %d bytes", a->endpoint, MAX_HEAD);
				rc = PGHA_ATTEMPT_NEXT;
				break;
			}
			const char *blank = strstr(head.data, "\r\n\r\n");
			if (!blank)
				continue;
			head_end = (size_t)(blank - head.data) + 4;
			int major, minor, status;
			if (sscanf(head.data, "HTTP/%d.%d %3d", &major, &minor, &status) != 3 ||
			    status < 100 || status > 999) {
				pgha_errf(a->msg, sizeof a->msg, "connection to \"%s\" failed: "
					  "not an HTTP answer", a->endpoint);
				rc = PGHA_ATTEMPT_NEXT;
				break;
			}
			a->status = status;
			head.data[head_end - 2] = '\0'; /* headers end at the blank line */
			size_t vl;
			const char *v = header(head.data, "Content-Length", &vl);
			if (v) {
				char *e;
				content_length = strtoll(v, &e, 10);
				if (e != v + vl || content_length < 0) {
					pgha_errf(a->msg, sizeof a->msg, "connection to \"%s\" "
						  "failed: bad Content-Length", a->endpoint);
					rc = PGHA_ATTEMPT_NEXT;
					break;
				}
			}
			v = header(head.data, "Transfer-Encoding", &vl);
			chunked = v && vl == 7 && strncasecmp(v, "chunked", 7) == 0;
			if (chunked)
				content_length = -1;
			if (no_body || status == 204 || status == 304)
				content_length = 0;
			if (content_length > (long long)a->cap) {
				pgha_errf(a->msg, sizeof a->msg, "response from \"%s\" larger than "
					  "%zu bytes", a->url, a->cap);
				rc = PGHA_E_TOOBIG;
				break;
			}
			data = head.data + head_end;
			len = head.len - head_end;
		}
		if (content_length >= 0 && len > (size_t)content_length - a->out->len)
			len = (size_t)content_length - a->out->len; /* ignore extra bytes */
		size_t cap = chunked ? a->cap + a->cap / 8 + 64 : a->cap;
		if (len > cap - a->out->len) {
			pgha_errf(a->msg, sizeof a->msg, "response from \"%s\" larger than %zu bytes",
				  a->url, a->cap);
			rc = PGHA_E_TOOBIG;
			break;
		}
		int ar = len ? pgha_buf_append(a->out, data, len) : 0;
		if (ar == PGHA_E_TOOBIG) {
			pgha_errf(a->msg, sizeof a->msg, "response from \"%s\" larger than %zu bytes",
				  a->url, a->out->limit);
			rc = PGHA_E_TOOBIG;
			break;
		}
		if (ar) {
			pgha_errf(a->msg, sizeof a->msg, "out of memory reading the response from \"%s\"",
				  a->url);
			rc = PGHA_E_NOMEM;
			break;
		}
	}
	if (rc == 0 && chunked && dechunk(a->out)) {
		pgha_errf(a->msg, sizeof a->msg, "connection to \"%s\" failed: bad chunked body",
			  a->endpoint);
		rc = PGHA_ATTEMPT_NEXT;
	}
	if (rc == 0 && a->out->len > a->cap) {
		pgha_errf(a->msg, sizeof a->msg, "response from \"%s\" larger than %zu bytes",
			  a->url, a->cap);
		rc = PGHA_E_TOOBIG;
	}
	pgha_buf_free(&head);
	return rc;
}

int pgha_http_plain_attempt(struct pgha_http_attempt *a)
{
	struct target t;
	struct pgha_buf req;
	int64_t end_ms = pgha_now_ms() + a->budget_ms;
	int rc;

	if (split_url(a->url, &t)) {
		pgha_errf(a->msg, sizeof a->msg, "invalid URL \"%s\"", a->endpoint);
		return PGHA_E_INVALID;
	}
	pgha_buf_init(&req, MAX_HEAD + (a->body ? strlen(a->body) : 0));
	rc = build_request(a, &t, &req);
	if (rc) {
		pgha_errf(a->msg, sizeof a->msg, "could not build the request for \"%s\": %s",
			  a->url, pgha_strerror(rc));
		rc = rc == PGHA_E_NOMEM ? PGHA_E_NOMEM : PGHA_E_INVALID;
	} else {
		int fd = connect_any(&t, end_ms, a);
		int sent = fd >= 0 ? send_all(fd, &req, end_ms, a) : fd;
		if (sent == 0) {
			rc = receive(fd, end_ms, a);
		} else if (sent == -2) {
			pgha_errf(a->msg, sizeof a->msg, "no answer from \"%s\" within %lld ms",
				  a->endpoint, (long long)a->budget_ms);
			a->timed_out = true;
			rc = PGHA_ATTEMPT_NEXT;
		} else {
			rc = PGHA_ATTEMPT_NEXT;
		}
		if (fd >= 0)
			close(fd);
	}
	if (req.data)
		wipe(req.data, req.len); /* it may hold the Authorization header */
	pgha_buf_free(&req);
	return rc;
}
