/*
 * buf.h: a growable byte buffer with a hard cap.
 *
 * Every buffer that holds data from outside (HTTP bodies, plugin output)
 * has a limit; appending past it fails with PGHA_E_TOOBIG and keeps what
 * fitted. The data is always NUL-terminated. The buffer owns its memory:
 * pgha_buf_free() releases it and leaves an empty, reusable buffer.
 */
#ifndef PGHA_BUF_H
#define PGHA_BUF_H

#include <stddef.h>

struct pgha_buf {
	char *data;    /* NUL-terminated contents, NULL until first append */
	size_t len;    /* bytes used, excluding the NUL */
	size_t alloc;  /* bytes allocated */
	size_t limit;  /* most bytes it may ever hold (excluding the NUL) */
};

/* Start an empty buffer that will never hold more than limit bytes. */
void pgha_buf_init(struct pgha_buf *b, size_t limit);

/* Append n bytes. On PGHA_E_TOOBIG the bytes that fit are kept. */
int pgha_buf_append(struct pgha_buf *b, const void *p, size_t n);

/* Append a NUL-terminated string. */
int pgha_buf_puts(struct pgha_buf *b, const char *s);

/* Append printf-style; truncated at the limit with PGHA_E_TOOBIG. */
int pgha_buf_printf(struct pgha_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The contents as a string; "" for an empty buffer. Valid until the next
 * append or free. */
const char *pgha_buf_str(const struct pgha_buf *b);

/* Forget the contents but keep the allocation. */
void pgha_buf_reset(struct pgha_buf *b);

/* Release the memory; the buffer is empty (same limit) afterwards. */
void pgha_buf_free(struct pgha_buf *b);

/* Take ownership of the contents (caller frees; never NULL on success);
 * the buffer is left empty. Returns NULL when out of memory. */
char *pgha_buf_steal(struct pgha_buf *b);

#endif
