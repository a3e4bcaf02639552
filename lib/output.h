/*
 * output.h: building a plugin's result and printing it.
 *
 * A result gathers a state, a one-line summary, long-output lines (each
 * with its own state, printed worst first, stable otherwise) and perfdata.
 * Rendering follows the plugin contract:
 *
 *   NAME STATE - summary | 'label'=value[UOM];warn;crit;min;max ...
 *   long output line (worst first)
 *   ...
 *
 * '|' in human text becomes '/', newlines in a summary or line become
 * spaces, labels are quoted when they hold anything but [A-Za-z0-9_.-]
 * (with '=', '\'', '|' and control characters replaced by '_'; an empty
 * label becomes "_"), unknown values print as "U" (without the UOM; so
 * does a non-finite value), numbers are printed as pgha_number_format
 * does (no locale, "." decimal, integers without a fraction). The uom
 * keeps only letters and '%'; warn and crit lose spaces, control
 * characters, ';', '|', '=' and '\''. Trailing empty fields are dropped
 * ("x=5", "lag=0B;;;0").
 *
 * The whole output is capped at PGHA_OUTPUT_MAX bytes, newlines included.
 * "NAME STATE" is always printed. When the first line is too long, the
 * summary keeps at least half of it (cut on a UTF-8 boundary, ending in
 * "...") and perfdata items that do not fit are dropped whole from the
 * end. Long-output lines are printed until one does not fit; it and all
 * after it are replaced by a last line "... N more lines", for which room
 * is always kept.
 *
 * The result owns every string given to it (copies are taken). A failed
 * allocation sets oom; the result then renders as
 * "NAME UNKNOWN - out of memory".
 */
#ifndef PGHA_OUTPUT_H
#define PGHA_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "range.h"
#include "state.h"

#define PGHA_OUTPUT_MAX 8192

/* How a perfdata value is described; all fields optional (NULL/false). */
struct pgha_perf_spec {
	const char *uom;  /* "", "s", "B", "%", "c", ... */
	const char *warn; /* range text echoed as given, e.g. thresholds' text */
	const char *crit;
	bool has_min;
	double min;
	bool has_max;
	double max;
};

struct pgha_perf {
	char *label;
	bool known; /* false prints "U" */
	double value;
	char *uom, *warn, *crit;
	bool has_min, has_max;
	double min, max;
};

struct pgha_line {
	enum pgha_state state;
	char *text;
};

struct pgha_result {
	const char *name; /* e.g. "PGHA_NODE"; borrowed, static storage */
	enum pgha_state state;
	char *summary;
	struct pgha_line *lines;
	size_t nlines, lines_alloc;
	struct pgha_perf *perf;
	size_t nperf, perf_alloc;
	bool oom; /* an allocation failed: rendering says so, state UNKNOWN */
};

/* Start an OK result with an empty summary. */
void pgha_result_init(struct pgha_result *r, const char *name);

/* Free everything the result owns; it may be initialised again. */
void pgha_result_free(struct pgha_result *r);

/* Raise the state to s if s is worse (pgha_state_worst). */
void pgha_result_raise(struct pgha_result *r, enum pgha_state s);

/* Set the state exactly (e.g. UNKNOWN for bad input) and the summary. */
void pgha_result_set(struct pgha_result *r, enum pgha_state s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Replace the summary, keeping the state. */
void pgha_result_summary(struct pgha_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Add a long-output line with its own state; does not change r->state. */
void pgha_result_line(struct pgha_result *r, enum pgha_state s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Make the summary from the long-output lines: "<prefix>: " and the lines
 * that are not OK, worst first, joined by "; " -- or every line when all
 * are OK (prefix may be NULL). The lines that went into the summary are
 * removed from long output, so nothing is said twice; OK lines next to a
 * problem stay there as detail. With no lines: "<prefix>: nothing checked". */
void pgha_result_summarise(struct pgha_result *r, const char *prefix);

/* Add perfdata with a value; spec may be NULL. */
void pgha_result_perf(struct pgha_result *r, const char *label, double value,
		      const struct pgha_perf_spec *spec);

/* Add perfdata whose value could not be determined ("U"). */
void pgha_result_perf_unknown(struct pgha_result *r, const char *label,
			      const struct pgha_perf_spec *spec);

/* Render into out, replacing its contents (its limit should be at least
 * PGHA_OUTPUT_MAX; a smaller limit is used as the cap). The text ends with
 * a newline and never exceeds PGHA_OUTPUT_MAX bytes. Returns 0,
 * PGHA_E_NOMEM, or PGHA_E_TOOBIG if out's limit is too small for even the
 * head. */
int pgha_result_render(const struct pgha_result *r, struct pgha_buf *out);

/* Render to stdout, free the result, and return the exit code (the state;
 * UNKNOWN if memory ran out). main() ends with `return pgha_result_exit(&r);` */
int pgha_result_exit(struct pgha_result *r);

/* --- text for people -------------------------------------------------------- */

/* Seconds as people read them: "0.4 s" (one decimal under 10 s), "35 s",
 * "12 min 5 s", "3 h 20 min", "2 d 4 h" (rounded to the second from 10 s
 * on; negative is 0). Perfdata keeps the exact seconds. Always
 * NUL-terminates (when outlen > 0); 32 bytes are always enough. */
void pgha_duration_format(double seconds, char *out, size_t outlen);

/* Seconds rounded to the millisecond, for perfdata: 0 for negative (and
 * NaN) values. */
double pgha_round_ms(double seconds);

/* Why a threshold alerts: "critical range TEXT" for PGHA_CRITICAL (TEXT =
 * critical), "warning range TEXT" for PGHA_WARNING (TEXT = warning), and
 * "" for any other state. Returns buf, or a static "" (buf untouched). */
const char *pgha_alert_text(enum pgha_state s, const char *warning, const char *critical,
			    char *buf, size_t buflen);

#endif
