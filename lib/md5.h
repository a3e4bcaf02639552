/*
 * md5.h: the MD5 message digest (RFC 1321).
 *
 * Not for security: pgha uses MD5 only to fingerprint documents the way
 * other tools already do (check_patroni records md5 hex digests of
 * Patroni's dynamic configuration), so the values stay comparable.
 *
 * Streaming use:
 *     struct pgha_md5 ctx;
 *     pgha_md5_init(&ctx);
 *     pgha_md5_update(&ctx, part1, len1);
 *     pgha_md5_update(&ctx, part2, len2);
 *     pgha_md5_final(&ctx, digest);     // 16 bytes
 * or in one go: pgha_md5_hex(data, len, hex) writes 32 lower-case hex
 * digits and a NUL. Nothing is allocated; a context may be reused after
 * pgha_md5_init().
 */
#ifndef PGHA_MD5_H
#define PGHA_MD5_H

#include <stddef.h>
#include <stdint.h>

#define PGHA_MD5_DIGEST_LEN 16
#define PGHA_MD5_HEX_LEN 33 /* 32 hex digits and the NUL */

struct pgha_md5 {
	uint32_t state[4];
	uint64_t length;         /* bytes hashed so far */
	unsigned char block[64]; /* the block being filled */
};

void pgha_md5_init(struct pgha_md5 *ctx);

/* Hash n more bytes (n may be 0; data may then be NULL). */
void pgha_md5_update(struct pgha_md5 *ctx, const void *data, size_t n);

/* Finish: pad, write the 16-byte digest. The context must be initialised
 * again before reuse. */
void pgha_md5_final(struct pgha_md5 *ctx, unsigned char digest[PGHA_MD5_DIGEST_LEN]);

/* The digest of n bytes as 32 lower-case hex digits plus a NUL. */
void pgha_md5_hex(const void *data, size_t n, char hex[PGHA_MD5_HEX_LEN]);

/* Write a finished digest as lower-case hex plus a NUL. */
void pgha_md5_to_hex(const unsigned char digest[PGHA_MD5_DIGEST_LEN],
		     char hex[PGHA_MD5_HEX_LEN]);

#endif
