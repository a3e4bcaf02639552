/* test_md5.c: MD5 (lib/md5.c) against RFC 1321 and Python's hashlib. */
#include "tap.h"

#include "md5.h"

#include <stdlib.h>
#include <string.h>

/* Digest of data fed in chunks of the given size (0: one call). */
static void md5_chunked(const unsigned char *data, size_t n, size_t chunk,
			char hex[PGHA_MD5_HEX_LEN])
{
	struct pgha_md5 ctx;
	unsigned char digest[PGHA_MD5_DIGEST_LEN];
	pgha_md5_init(&ctx);
	if (chunk == 0) {
		pgha_md5_update(&ctx, data, n);
	} else {
		for (size_t off = 0; off < n; off += chunk)
			pgha_md5_update(&ctx, data + off, n - off < chunk ? n - off : chunk);
	}
	pgha_md5_update(&ctx, NULL, 0);
	pgha_md5_final(&ctx, digest);
	pgha_md5_to_hex(digest, hex);
}

int main(void)
{
	/* RFC 1321, appendix A.5 */
	static const struct { const char *text, *hex; } rfc[] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "a", "0cc175b9c0f1b6a831c399e269772661" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
		{ "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		  "d174ab98d277d9f5a5611c2c9f419d9f" },
		{ "1234567890123456789012345678901234567890"
		  "1234567890123456789012345678901234567890",
		  "57edf4a22be3c955ac49da2e2107b67a" },
		{ "The quick brown fox jumps over the lazy dog",
		  "9e107d9d372bb6826bd81d3542a419d6" },
	};
	char hex[PGHA_MD5_HEX_LEN];
	for (size_t i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
		pgha_md5_hex(rfc[i].text, strlen(rfc[i].text), hex);
		is_str(hex, rfc[i].hex, "MD5(\"%.20s\")", rfc[i].text);
	}

	/* Lengths around the padding boundaries (56 and 64 bytes), bytes
	 * (i*7+3) mod 256; digests from Python's hashlib. */
	static const struct { size_t n; const char *hex; } edges[] = {
		{ 55, "52c0e574e1198de5fe3f8f11440dcb1b" },
		{ 56, "46c9907fc908ee68b1e7b8e71286a518" },
		{ 57, "1c805dd236c35cab25fcb1bc73802c51" },
		{ 63, "a62f6d59e837867693f042f5b8f5a236" },
		{ 64, "7160b8fb5e9e4023d549c3971fbaeead" },
		{ 65, "70bd662e7aefbda85a0f7244167b7897" },
		{ 119, "e84905d4214f4d1ca56c2cdcc152b143" },
		{ 120, "e3eb5a6c8669ea01a8c185b8abc8a5dc" },
		{ 128, "10b2da1a82f16d99a81a7203fe9f02cb" },
	};
	unsigned char bytes[128];
	for (size_t i = 0; i < sizeof bytes; i++)
		bytes[i] = (unsigned char)((i * 7 + 3) % 256);
	static const size_t chunks[] = { 0, 1, 3, 63, 64, 65 };
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
		int same = 1;
		for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
			md5_chunked(bytes, edges[i].n, chunks[c], hex);
			if (strcmp(hex, edges[i].hex) != 0) {
				same = 0;
				printf("# %zu bytes in chunks of %zu: %s\n", edges[i].n, chunks[c], hex);
			}
		}
		ok(same, "%zu bytes (binary, high bytes), fed whole and in chunks of 1, 3, "
		   "63, 64 and 65", edges[i].n);
	}

	/* a million 'a' (more than 2^23 bits: the length's high bits count) */
	size_t big = 1000000;
	unsigned char *a = malloc(big);
	if (!a)
		return 1;
	memset(a, 'a', big);
	md5_chunked(a, big, 0, hex);
	is_str(hex, "7707d6ae4e027c70eea2a935c2296f21", "a million 'a' in one call");
	md5_chunked(a, big, 4097, hex);
	is_str(hex, "7707d6ae4e027c70eea2a935c2296f21", "a million 'a' in chunks of 4097");
	free(a);

	/* the context is reusable after init */
	struct pgha_md5 ctx;
	unsigned char digest[PGHA_MD5_DIGEST_LEN];
	pgha_md5_init(&ctx);
	pgha_md5_update(&ctx, "xyz", 3);
	pgha_md5_final(&ctx, digest);
	pgha_md5_init(&ctx);
	pgha_md5_update(&ctx, "abc", 3);
	pgha_md5_final(&ctx, digest);
	pgha_md5_to_hex(digest, hex);
	is_str(hex, "900150983cd24fb0d6963f7d28e17f72", "a context reused after init");
	return done_testing();
}
