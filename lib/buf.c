/* buf.c: growable, capped byte buffer (see buf.h). */
#include "buf.h"
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pgha_buf_init(struct pgha_buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->limit = limit;
}

/* Make room for want more bytes plus the NUL, growing geometrically but
 * never allocating past limit + 1. */
static int reserve(struct pgha_buf *b, size_t want)
{
	size_t need = b->len + want + 1;
	if (need <= b->alloc)
		return 0;
	size_t size = b->alloc ? b->alloc : 256;
	while (size < need)
		size *= 2;
	if (size > b->limit + 1)
		size = b->limit + 1;
	char *p = realloc(b->data, size);
	if (!p)
		return PGHA_E_NOMEM;
	b->data = p;
	b->alloc = size;
	return 0;
}

int pgha_buf_append(struct pgha_buf *b, const void *p, size_t n)
{
	int rc = 0;
	size_t room = b->limit - b->len;
	if (n > room) {
		n = room;
		rc = PGHA_E_TOOBIG;
	}
	int err = reserve(b, n);
	if (err)
		return err;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return rc;
}

int pgha_buf_puts(struct pgha_buf *b, const char *s)
{
	return pgha_buf_append(b, s, strlen(s));
}

int pgha_buf_printf(struct pgha_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return PGHA_E_INVALID;
	if ((size_t)n < sizeof small)
		return pgha_buf_append(b, small, (size_t)n);

	char *big = malloc((size_t)n + 1);
	if (!big)
		return PGHA_E_NOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int rc = pgha_buf_append(b, big, (size_t)n);
	free(big);
	return rc;
}

const char *pgha_buf_str(const struct pgha_buf *b)
{
	return b->data ? b->data : "";
}

void pgha_buf_reset(struct pgha_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void pgha_buf_free(struct pgha_buf *b)
{
	free(b->data);
	pgha_buf_init(b, b->limit);
}

char *pgha_buf_steal(struct pgha_buf *b)
{
	char *s = b->data;
	if (!s)
		s = calloc(1, 1);
	pgha_buf_init(b, b->limit);
	return s;
}
