/* error.c: descriptions of the PGHA_E_* codes. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

void pgha_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *pgha_strerror(int err)
{
	switch (err) {
	case PGHA_E_OK: return "success";
	case PGHA_E_NOMEM: return "out of memory";
	case PGHA_E_INVALID: return "invalid argument";
	case PGHA_E_TOOBIG: return "too large";
	case PGHA_E_IO: return "input/output error";
	case PGHA_E_UNREACHABLE: return "unreachable";
	case PGHA_E_TIMEOUT: return "timed out";
	case PGHA_E_PROTOCOL: return "unexpected answer";
	case PGHA_E_NOTFOUND: return "not found";
	case PGHA_E_TYPE: return "wrong type";
	case PGHA_E_QUERY: return "query failed";
	case PGHA_E_AUTH: return "authentication failed";
	}
	return "unknown error";
}
