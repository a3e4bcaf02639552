/*
 * md5.c: MD5 (RFC 1321), written from the RFC's description (see md5.h).
 *
 * The message is processed in 64-byte blocks, each read as sixteen
 * little-endian 32-bit words, through four rounds of sixteen steps. Step i
 * adds the constant K[i] = floor(2^32 * |sin(i + 1)|) and rotates left by
 * the round's shift for i mod 4. Padding: a 0x80 byte, zeros up to 56 mod
 * 64, then the message length in bits as a little-endian 64-bit number.
 * Byte order is handled explicitly, so the code is endian-neutral.
 */
#include "md5.h"

#include <string.h>

static const uint32_t K[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
	0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
	0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
	0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
	0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Left rotations per round, for steps i mod 4. */
static const unsigned char SHIFT[4][4] = {
	{ 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 },
};

static uint32_t rotl(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static uint32_t load_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void store_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Mix one 64-byte block into the state. */
static void transform(uint32_t state[4], const unsigned char block[64])
{
	uint32_t x[16];
	for (int i = 0; i < 16; i++)
		x[i] = load_le32(block + 4 * i);

	uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
	for (unsigned i = 0; i < 64; i++) {
		uint32_t f;
		unsigned g, round = i / 16;
		switch (round) {
		case 0:
			f = (b & c) | (~b & d);
			g = i;
			break;
		case 1:
			f = (b & d) | (c & ~d);
			g = (5 * i + 1) % 16;
			break;
		case 2:
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
			break;
		default:
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
			break;
		}
		uint32_t t = d;
		d = c;
		c = b;
		b = b + rotl(a + f + K[i] + x[g], SHIFT[round][i % 4]);
		a = t;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
}

void pgha_md5_init(struct pgha_md5 *ctx)
{
	ctx->state[0] = 0x67452301;
	ctx->state[1] = 0xefcdab89;
	ctx->state[2] = 0x98badcfe;
	ctx->state[3] = 0x10325476;
	ctx->length = 0;
}

void pgha_md5_update(struct pgha_md5 *ctx, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t used = (size_t)(ctx->length % 64);
	if (n == 0)
		return;
	ctx->length += n;
	if (used) {
		size_t room = 64 - used;
		if (n < room) {
			memcpy(ctx->block + used, p, n);
			return;
		}
		memcpy(ctx->block + used, p, room);
		transform(ctx->state, ctx->block);
		p += room;
		n -= room;
	}
	for (; n >= 64; p += 64, n -= 64)
		transform(ctx->state, p);
	if (n)
		memcpy(ctx->block, p, n);
}

void pgha_md5_final(struct pgha_md5 *ctx, unsigned char digest[PGHA_MD5_DIGEST_LEN])
{
	uint64_t bits = ctx->length * 8;
	size_t used = (size_t)(ctx->length % 64);
	static const unsigned char zeros[64];

	ctx->block[used++] = 0x80;
	if (used > 56) {
		memset(ctx->block + used, 0, 64 - used);
		transform(ctx->state, ctx->block);
		used = 0;
	}
	memcpy(ctx->block + used, zeros, 56 - used);
	store_le32(ctx->block + 56, (uint32_t)bits);
	store_le32(ctx->block + 60, (uint32_t)(bits >> 32));
	transform(ctx->state, ctx->block);
	for (int i = 0; i < 4; i++)
		store_le32(digest + 4 * i, ctx->state[i]);
	memset(ctx, 0, sizeof *ctx);
}

void pgha_md5_to_hex(const unsigned char digest[PGHA_MD5_DIGEST_LEN],
		     char hex[PGHA_MD5_HEX_LEN])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < PGHA_MD5_DIGEST_LEN; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[32] = '\0';
}

void pgha_md5_hex(const void *data, size_t n, char hex[PGHA_MD5_HEX_LEN])
{
	struct pgha_md5 ctx;
	unsigned char digest[PGHA_MD5_DIGEST_LEN];
	pgha_md5_init(&ctx);
	pgha_md5_update(&ctx, data, n);
	pgha_md5_final(&ctx, digest);
	pgha_md5_to_hex(digest, hex);
}
