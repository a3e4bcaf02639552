/* clock.c: monotonic deadlines (see clock.h). */
#define _POSIX_C_SOURCE 200809L
#include "clock.h"

#include <time.h>

int64_t pgha_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pgha_deadline_start(struct pgha_deadline *d, double seconds)
{
	d->end_ms = pgha_now_ms() + (int64_t)(seconds * 1000.0);
}

int64_t pgha_deadline_left_ms(const struct pgha_deadline *d)
{
	int64_t left = d->end_ms - pgha_now_ms();
	return left > 0 ? left : 0;
}

bool pgha_deadline_expired(const struct pgha_deadline *d)
{
	return pgha_deadline_left_ms(d) == 0;
}

void pgha_deadline_within(struct pgha_deadline *d, long long budget_ms, double seconds,
			  double default_s, double cap_s)
{
	double s;
	if (seconds > 0)
		s = budget_ms >= 0 && (double)budget_ms / 1000.0 < seconds ? (double)budget_ms / 1000.0
									  : seconds;
	else if (budget_ms >= 0)
		s = cap_s > 0 && (double)budget_ms / 1000.0 > cap_s ? cap_s : (double)budget_ms / 1000.0;
	else
		s = default_s;
	pgha_deadline_start(d, s);
}
