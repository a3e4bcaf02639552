/* state.c: plugin states (see state.h). */
#include "state.h"
#include "error.h"

#include <strings.h>

const char *pgha_state_name(enum pgha_state s)
{
	switch (s) {
	case PGHA_OK: return "OK";
	case PGHA_WARNING: return "WARNING";
	case PGHA_CRITICAL: return "CRITICAL";
	case PGHA_UNKNOWN: return "UNKNOWN";
	}
	return "UNKNOWN";
}

int pgha_state_rank(enum pgha_state s)
{
	switch (s) {
	case PGHA_OK: return 0;
	case PGHA_UNKNOWN: return 1;
	case PGHA_WARNING: return 2;
	case PGHA_CRITICAL: return 3;
	}
	return 1;
}

enum pgha_state pgha_state_worst(enum pgha_state a, enum pgha_state b)
{
	return pgha_state_rank(a) >= pgha_state_rank(b) ? a : b;
}

int pgha_state_parse(const char *text, enum pgha_state *out)
{
	static const struct { const char *name; enum pgha_state state; } names[] = {
		{ "ok", PGHA_OK }, { "0", PGHA_OK },
		{ "warning", PGHA_WARNING }, { "1", PGHA_WARNING },
		{ "critical", PGHA_CRITICAL }, { "2", PGHA_CRITICAL },
		{ "unknown", PGHA_UNKNOWN }, { "3", PGHA_UNKNOWN },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcasecmp(text, names[i].name) == 0) {
			*out = names[i].state;
			return 0;
		}
	}
	return PGHA_E_INVALID;
}
