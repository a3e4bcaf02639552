/* test_base64.c: base64 (lib/base64.c), RFC 4648 section 10 vectors. */
#include "tap.h"

#include "base64.h"

int main(void)
{
	static const char *const vectors[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
		{ "pgha:s3cret", "cGdoYTpzM2NyZXQ=" },
		{ "/service/pgha-sandbox/leader", "L3NlcnZpY2UvcGdoYS1zYW5kYm94L2xlYWRlcg==" },
	};
	char enc[128];
	unsigned char dec[128];

	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		pgha_base64_encode(vectors[i][0], strlen(vectors[i][0]), enc);
		is_str(enc, vectors[i][1], "encode \"%s\"", vectors[i][0]);
		long n = pgha_base64_decode(vectors[i][1], dec);
		is_int(n, strlen(vectors[i][0]), "decode \"%s\": length", vectors[i][1]);
		is_str((char *)dec, vectors[i][0], "decode \"%s\": bytes", vectors[i][1]);
	}
	unsigned char bin[3] = { 0xff, 0x00, 0xfe };
	pgha_base64_encode(bin, 3, enc);
	is_str(enc, "/wD+", "binary with a NUL");
	is_int(pgha_base64_decode("/wD+", dec), 3, "binary decodes to 3 bytes");
	ok(dec[0] == 0xff && dec[1] == 0 && dec[2] == 0xfe, "binary round trip");

	static const char *const bad[] = { "Zg=", "Zg=a", "Z===", "Zm9v!A==", "Zg==Zg==", "====" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		is_int(pgha_base64_decode(bad[i], dec), -1, "invalid \"%s\" refused", bad[i]);
	return done_testing();
}
