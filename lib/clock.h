/*
 * clock.h: one deadline for a whole check.
 *
 * A check gets -t seconds in all; every network call takes its own timeout
 * from what is left, so one slow peer cannot make the check overrun.
 */
#ifndef PGHA_CLOCK_H
#define PGHA_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct pgha_deadline {
	int64_t end_ms; /* monotonic milliseconds at which time is up */
};

/* Monotonic time in milliseconds (CLOCK_MONOTONIC). */
int64_t pgha_now_ms(void);

/* A deadline seconds from now (fractions allowed). */
void pgha_deadline_start(struct pgha_deadline *d, double seconds);

/* Milliseconds left, 0 once the deadline has passed. */
int64_t pgha_deadline_left_ms(const struct pgha_deadline *d);

bool pgha_deadline_expired(const struct pgha_deadline *d);

/* Start d for a call made inside a time budget (a runbook step's) of which
 * budget_ms milliseconds are left (-1: no budget). With seconds > 0 (the
 * caller's own timeout) the call gets that, cut to the budget; otherwise
 * it gets the budget, at most cap_s seconds when cap_s > 0, and default_s
 * seconds when there is no budget. */
void pgha_deadline_within(struct pgha_deadline *d, long long budget_ms, double seconds,
			  double default_s, double cap_s);

#endif
