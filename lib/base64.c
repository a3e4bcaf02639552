/* base64.c: base64 encoding and decoding (see base64.h). */
#include "base64.h"

#include <stdbool.h>
#include <string.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void pgha_base64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
}

/* The 6-bit value of c, or -1. */
static int value(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

long pgha_base64_decode(const char *text, unsigned char *out)
{
	size_t len = strlen(text), o = 0;
	if (len % 4)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		bool last = i + 4 == len;
		for (int k = 0; k < 4; k++)
			v[k] = value(text[i + (size_t)k]);
		if (v[0] < 0 || v[1] < 0)
			return -1;
		int pad = 0;
		if (text[i + 3] == '=') {
			pad = text[i + 2] == '=' ? 2 : 1;
			if (!last || (pad == 1 && v[2] < 0))
				return -1;
		} else if (v[2] < 0 || v[3] < 0) {
			return -1;
		}
		unsigned bits = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 |
				(pad < 2 ? (unsigned)v[2] << 6 : 0) | (pad < 1 ? (unsigned)v[3] : 0);
		out[o++] = (unsigned char)(bits >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(bits >> 8);
		if (pad < 1)
			out[o++] = (unsigned char)bits;
	}
	out[o] = '\0';
	return (long)o;
}
