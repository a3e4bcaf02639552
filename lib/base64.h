/*
 * base64.h: standard base64 (RFC 4648, with padding), for HTTP basic auth
 * and etcd's JSON gateway, which sends keys and values in base64.
 */
#ifndef PGHA_BASE64_H
#define PGHA_BASE64_H

#include <stddef.h>

/* Bytes needed to encode n bytes, including the NUL. */
#define PGHA_BASE64_LEN(n) (4 * (((n) + 2) / 3) + 1)

/* Encode n bytes into out (PGHA_BASE64_LEN(n) bytes); NUL-terminated. */
void pgha_base64_encode(const void *in, size_t n, char *out);

/* Decode text into out (at least 3 * strlen(text) / 4 + 1 bytes), adding
 * a NUL after the data. Returns the number of bytes, or -1 when text is
 * not valid base64 (wrong length, characters outside the alphabet,
 * misplaced padding). */
long pgha_base64_decode(const char *text, unsigned char *out);

#endif
