/*
 * journal.h: the run journal and SHA-256.
 *
 * One append-only JSON-lines file per run, DIR/RUN_ID.jsonl, created with
 * O_EXCL and mode 0600 (the directory 0700), each record one line written
 * with a single write() and fsync()ed. Every record has "ts" (UTC, ISO
 * 8601 with milliseconds), "run" (the run id) and "event"; the rest is the
 * caller's (docs/runbooks.md lists the events).
 *
 * The process writing a journal holds an exclusive flock() on it for as
 * long as it is open, so a resume (pgha_journal_reopen) cannot join a run
 * that is still going, and the listing can tell a running run from one
 * whose process died (the kernel drops the lock with the process).
 *
 * Also here: reading a journal back, and the `pgha journal` command.
 *
 * Default directory: $XDG_STATE_HOME/pgha/journal when set, else
 * /var/lib/pgha/journal for root, else ~/.local/state/pgha/journal.
 */
#ifndef PGHA_JOURNAL_H
#define PGHA_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

/* SHA-256 (FIPS 180-4) of len bytes into out (32 bytes). */
void pgha_sha256(const void *data, size_t len, uint8_t out[32]);

/* SHA-256 of a file as 64 lower-case hex digits (hex: 65 bytes). Returns 0
 * or PGHA_E_IO (err set). */
int pgha_sha256_file(const char *path, char hex[65], char *err, size_t errlen);

struct pgha_journal;

/* The default directory into out. Returns 0 or PGHA_E_INVALID (no HOME). */
int pgha_journal_default_dir(char *out, size_t outlen);

/* Create dir (and parents, 0700) and the run's file. run_id gets a new id
 * ("20261125T211658Z-12345-a1b2"). Returns 0 and *out (caller frees with
 * pgha_journal_close), or PGHA_E_IO / PGHA_E_NOMEM with err set. */
int pgha_journal_open(const char *dir, struct pgha_journal **out, char *run_id,
		      size_t run_id_len, char *err, size_t errlen);

/* Reopen the journal of run_id in dir to append to it (a resume): the
 * same file, O_APPEND, not O_EXCL. When its last line was cut short (the
 * writer died mid-write), a newline is added first. Returns 0 and *out;
 * PGHA_JOURNAL_BUSY when another process holds it (the run is running);
 * PGHA_E_NOTFOUND when there is no such file; PGHA_E_IO / PGHA_E_NOMEM;
 * err set on every error. */
#define PGHA_JOURNAL_BUSY 1
int pgha_journal_reopen(const char *dir, const char *run_id, struct pgha_journal **out,
			char *err, size_t errlen);

/* Whether id looks like a run id (letters, digits, '-', '_', '.'; no
 * '/'; not starting with '.'): what may be joined to a directory. */
int pgha_journal_valid_id(const char *id);

/* Read DIR/RUN_ID.jsonl (path) into a cJSON array of its records (caller
 * frees), skipping lines that are not JSON objects (*n_bad counts them).
 * Returns 0, PGHA_E_NOTFOUND, PGHA_E_IO or PGHA_E_TOOBIG (past 64 MiB),
 * err set. */
int pgha_journal_read(const char *path, cJSON **records, size_t *n_bad, char *err,
		      size_t errlen);

/* 1 when a live process holds path's journal lock (the run is going on),
 * 0 otherwise. */
int pgha_journal_running(const char *path);

/* The state of a run from its records: the "end" record's state, else
 * "interrupted" or "lock_lost" when that was the last thing that happened
 * (a later "resume" cancels it), else "unfinished". Borrowed from
 * records. */
const char *pgha_journal_state(const cJSON *records);

/* `pgha journal [RUN_ID] [--journal-dir DIR]`: argv from "journal" on;
 * returns the exit code (0, or 4 for usage and unknown runs). */
int pgha_journal_main(int argc, char **argv);
void pgha_journal_help(void);

/* Append one record: takes ownership of rec (an object) and adds ts, run
 * and event. Returns 0 or PGHA_E_IO (write or fsync failed). NULL journal:
 * does nothing and frees rec. */
int pgha_journal_write(struct pgha_journal *j, const char *event, cJSON *rec);

/* The file's path; borrowed until close. */
const char *pgha_journal_path(const struct pgha_journal *j);

void pgha_journal_close(struct pgha_journal *j);

/* Whether a parameter name must be masked (contains "password", "secret"
 * or "token", case-insensitive). */
int pgha_journal_is_secret(const char *name);

#endif
