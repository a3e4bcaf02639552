/*
 * tap.h: a minimal TAP producer for the unit tests (header only).
 *
 *   ok(cond, "name %d", i);  is_int(got, want, "name"); is_str(...);
 *   return done_testing();
 */
#ifndef PGHA_TAP_H
#define PGHA_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_run, tap_failed;

__attribute__((format(printf, 2, 3)))
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

#define is_int(got, want, ...) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (!ok(g_ == w_, __VA_ARGS__)) \
		printf("#   got %lld, want %lld\n", g_, w_); \
} while (0)

#define is_str(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	if (!ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__)) \
		printf("#   got \"%s\"\n#  want \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

#define like(got, needle, ...) do { \
	const char *g_ = (got), *n_ = (needle); \
	if (!ok(g_ && strstr(g_, n_) != NULL, __VA_ARGS__)) \
		printf("#   \"%s\"\n#   does not contain \"%s\"\n", g_ ? g_ : "(null)", n_); \
} while (0)

static int done_testing(void)
{
	printf("1..%d\n", tap_run);
	return tap_failed ? 1 : 0;
}

#endif
