/*
 * state.h: the four plugin states and how they combine.
 *
 * The numeric values are the exit codes of the Monitoring Plugins API.
 * Sub-results combine worst first: CRITICAL > WARNING > UNKNOWN > OK.
 */
#ifndef PGHA_STATE_H
#define PGHA_STATE_H

enum pgha_state {
	PGHA_OK = 0,
	PGHA_WARNING = 1,
	PGHA_CRITICAL = 2,
	PGHA_UNKNOWN = 3
};

/* "OK", "WARNING", "CRITICAL" or "UNKNOWN". */
const char *pgha_state_name(enum pgha_state s);

/* The worse of two states by the order above. */
enum pgha_state pgha_state_worst(enum pgha_state a, enum pgha_state b);

/* Severity rank for sorting: OK 0, UNKNOWN 1, WARNING 2, CRITICAL 3. */
int pgha_state_rank(enum pgha_state s);

/* Parse "ok|warning|critical|unknown" (any case) or "0".."3".
 * Returns 0, or PGHA_E_INVALID. */
int pgha_state_parse(const char *text, enum pgha_state *out);

#endif
