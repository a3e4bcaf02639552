/*
 * check_pgha_config: has Patroni's dynamic configuration changed?
 *
 * Reads GET /config (the dynamic configuration Patroni keeps in the DCS)
 * from the first --patroni endpoint that answers and fingerprints it the
 * way check_patroni's cluster_config_has_changed does, so recorded values
 * carry over: the MD5 hex digest of Python's json.dumps() of the parsed
 * document (key order as received, ", " and ": " separators, non-ASCII as
 * \uXXXX, floats as Python's repr).
 *
 *   --hash HASH             CRITICAL unless the configuration hashes to HASH
 *   --state-file FILE       CRITICAL when the hash differs from the one
 *                           recorded in FILE; the first run records it and
 *                           is OK
 *   --save                  with --state-file: record the current
 *                           configuration after checking (a change then
 *                           alerts once)
 *   --show-diff             with --state-file: name the keys that changed,
 *                           one per long-output line (values with -v)
 *
 * The state file (key=value, mode 0600, written atomically) holds the hash
 * and the configuration as json.dumps() printed it, split into config.N
 * lines, which --show-diff compares key by key. A check_patroni state file
 * (JSON {"hash": "..."}) is read too; --save rewrites it in pgha's format.
 * A node that cannot be reached in time is CRITICAL (--timeout-result
 * changes it); a non-200 answer (502: no configuration in the DCS) or a
 * body that is not JSON is UNKNOWN.
 */
#define _POSIX_C_SOURCE 200809L
#include "error.h"
#include "md5.h"
#include "options.h"
#include "output.h"
#include "pyjson.h"
#include "rest.h"
#include "statefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_BODY (1024u * 1024)      /* GET /config answers */
#define CONFIG_MAX_DUMP (8u * 1024 * 1024)  /* its json.dumps() text (< 6x) */
#define STATE_CHUNK 3000                    /* config.N line length */
#define STATE_MAX_CHUNKS 4096
#define SHOW_VALUE_MAX 60

struct config {
	char hash[PGHA_MD5_HEX_LEN]; /* --hash, lower case; "" if not given */
	const char *state_file;
	bool save;
	bool show_diff;
};

/* What an earlier run recorded. */
struct recorded {
	bool found;
	char hash[PGHA_MD5_HEX_LEN];
	char *config;       /* json.dumps() text, owned; NULL when not kept */
	bool check_patroni; /* read from check_patroni's JSON state file */
};

enum { OPT_HASH, OPT_STATE_FILE, OPT_SAVE, OPT_SHOW_DIFF };

static const struct pgha_option options[] = {
	{ "hash", 0, "HASH",
	  "CRITICAL unless the configuration hashes to HASH (32 hex digits, as "
	  "check_patroni's --hash)", OPT_HASH },
	{ "state-file", 0, "FILE",
	  "CRITICAL when the configuration differs from the one recorded in FILE "
	  "(recorded on the first run)", OPT_STATE_FILE },
	{ "save", 0, NULL, "with --state-file: record the current configuration after checking",
	  OPT_SAVE },
	{ "show-diff", 0, NULL,
	  "with --state-file: name the changed keys in the long output (and their "
	  "values with -v)", OPT_SHOW_DIFF },
};

/* Is s exactly 32 hex digits? */
static bool is_md5_hex(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') ||
		      (s[n] >= 'A' && s[n] <= 'F')))
			return false;
	return n == 32;
}

static void copy_hash_lower(char dst[PGHA_MD5_HEX_LEN], const char *src)
{
	for (size_t i = 0; i < 32; i++)
		dst[i] = (char)(src[i] >= 'A' && src[i] <= 'F' ? src[i] - 'A' + 'a' : src[i]);
	dst[32] = '\0';
}

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	switch (id) {
	case OPT_HASH:
		if (!is_md5_hex(arg)) {
			snprintf(err, errlen, "invalid hash \"%s\": must be 32 hex digits (an MD5 "
				 "hex digest)", arg);
			return PGHA_E_INVALID;
		}
		copy_hash_lower(cfg->hash, arg);
		return 0;
	case OPT_STATE_FILE:
		cfg->state_file = arg;
		return 0;
	case OPT_SAVE:
		cfg->save = true;
		return 0;
	case OPT_SHOW_DIFF:
		cfg->show_diff = true;
		return 0;
	}
	return PGHA_E_INVALID;
}

/* The configuration kept in config.parts / config.1..N, if it is whole
 * and hashes to the recorded hash; else NULL. Caller frees. */
static char *join_config(const struct pgha_statefile *sf, const char *hash)
{
	const char *parts = pgha_statefile_get(sf, "config.parts");
	char *end, key[32], hex[PGHA_MD5_HEX_LEN];
	if (!parts)
		return NULL;
	errno = 0;
	unsigned long n = strtoul(parts, &end, 10);
	if (errno || end == parts || *end || n == 0 || n > STATE_MAX_CHUNKS)
		return NULL;
	struct pgha_buf b;
	pgha_buf_init(&b, CONFIG_MAX_DUMP);
	for (unsigned long i = 1; i <= n; i++) {
		snprintf(key, sizeof key, "config.%lu", i);
		const char *part = pgha_statefile_get(sf, key);
		if (!part || pgha_buf_puts(&b, part)) {
			pgha_buf_free(&b);
			return NULL;
		}
	}
	pgha_md5_hex(pgha_buf_str(&b), b.len, hex);
	if (strcmp(hex, hash) != 0) {
		pgha_buf_free(&b);
		return NULL;
	}
	return pgha_buf_steal(&b);
}

/* check_patroni's state file: {"hash": "<md5>"} (nagiosplugin's Cookie). */
static int load_cookie(const char *path, struct recorded *rec)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return PGHA_E_IO;
	char text[4096], why[160];
	size_t len = fread(text, 1, sizeof text, f);
	bool whole = feof(f) && !ferror(f);
	fclose(f);
	struct pgha_pyjson *doc = NULL;
	int rc = PGHA_E_INVALID;
	if (whole && pgha_pyjson_parse(text, len, &doc, why, sizeof why) == 0 &&
	    doc->kind == PGHA_PYJSON_OBJECT) {
		for (size_t i = 0; i < doc->n; i++) {
			const struct pgha_pyjson *v = doc->items[i];
			if (strcmp(doc->keys[i], "\"hash\"") != 0 ||
			    v->kind != PGHA_PYJSON_SCALAR || v->text[0] != '"' ||
			    strlen(v->text) != 34)
				continue;
			char h[PGHA_MD5_HEX_LEN];
			memcpy(h, v->text + 1, 32);
			h[32] = '\0';
			if (is_md5_hex(h)) {
				copy_hash_lower(rec->hash, h);
				rec->found = rec->check_patroni = true;
				rc = 0;
			}
		}
	}
	pgha_pyjson_free(doc);
	return rc;
}

/* Read what the state file recorded. A missing or empty file records
 * nothing (rec->found false). PGHA_E_* with a message otherwise. */
static int load_recorded(const char *path, struct recorded *rec, char *err, size_t errlen)
{
	struct pgha_statefile sf;
	memset(rec, 0, sizeof *rec);
	int rc = pgha_statefile_load(&sf, path, err, errlen);
	if (rc == PGHA_E_NOTFOUND)
		return 0;
	if (rc == PGHA_E_INVALID && load_cookie(path, rec) == 0)
		return 0;
	if (rc)
		return rc;
	const char *hash = pgha_statefile_get(&sf, "hash");
	if (hash && !is_md5_hex(hash)) {
		snprintf(err, errlen, "state file \"%s\": invalid hash \"%.40s\"", path, hash);
		rc = PGHA_E_INVALID;
	} else if (hash) {
		rec->found = true;
		copy_hash_lower(rec->hash, hash);
		rec->config = join_config(&sf, rec->hash);
	}
	pgha_statefile_free(&sf);
	return rc;
}

/* Record hash and configuration text in the state file. */
static int save_recorded(const char *path, const char *hash, const char *text, size_t len,
			 char *err, size_t errlen)
{
	struct pgha_statefile sf;
	char key[32], chunk[STATE_CHUNK + 1], count[32];
	size_t n = (len + STATE_CHUNK - 1) / STATE_CHUNK;
	int rc = 0;

	if (n == 0 || n > STATE_MAX_CHUNKS) {
		snprintf(err, errlen, "the configuration is too large to record (%zu bytes)", len);
		return PGHA_E_TOOBIG;
	}
	pgha_statefile_init(&sf);
	snprintf(count, sizeof count, "%zu", n);
	rc = pgha_statefile_set(&sf, "hash", hash);
	if (rc == 0)
		rc = pgha_statefile_set(&sf, "config.parts", count);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t off = i * STATE_CHUNK, m = len - off < STATE_CHUNK ? len - off : STATE_CHUNK;
		memcpy(chunk, text + off, m);
		chunk[m] = '\0';
		snprintf(key, sizeof key, "config.%zu", i + 1);
		rc = pgha_statefile_set(&sf, key, chunk);
	}
	if (rc)
		snprintf(err, errlen, "could not record the configuration: %s", pgha_strerror(rc));
	else
		rc = pgha_statefile_save(&sf, path, err, errlen);
	pgha_statefile_free(&sf);
	return rc;
}

/* --- --show-diff ------------------------------------------------------ */

struct differ {
	struct pgha_result *r;
	enum pgha_state state; /* of each line */
	bool values;           /* -v: show the values too */
	size_t changes;
	struct pgha_buf path;  /* "postgresql.parameters.work_mem" */
	int rc;                /* an allocation failed */
};

/* The value as json.dumps() prints it, cut to SHOW_VALUE_MAX characters. */
static void show_value(const struct pgha_pyjson *v, char *out, size_t outlen)
{
	struct pgha_buf b;
	pgha_buf_init(&b, SHOW_VALUE_MAX);
	int rc = pgha_pyjson_dump(v, &b);
	snprintf(out, outlen, "%s%s", pgha_buf_str(&b), rc == PGHA_E_TOOBIG ? "..." : "");
	pgha_buf_free(&b);
}

static void diff_line(struct differ *d, const struct pgha_pyjson *old,
		      const struct pgha_pyjson *now)
{
	char a[SHOW_VALUE_MAX + 4], b[SHOW_VALUE_MAX + 4];
	const char *path = d->path.len ? pgha_buf_str(&d->path) : "the whole document";
	d->changes++;
	if (old && now && d->values) {
		show_value(old, a, sizeof a);
		show_value(now, b, sizeof b);
		pgha_result_line(d->r, d->state, "%s changed from %s to %s", path, a, b);
	} else if (old && now) {
		pgha_result_line(d->r, d->state, "%s changed", path);
	} else if (now && d->values) {
		show_value(now, b, sizeof b);
		pgha_result_line(d->r, d->state, "%s added: %s", path, b);
	} else if (now) {
		pgha_result_line(d->r, d->state, "%s added", path);
	} else if (d->values) {
		show_value(old, a, sizeof a);
		pgha_result_line(d->r, d->state, "%s removed (was %s)", path, a);
	} else {
		pgha_result_line(d->r, d->state, "%s removed", path);
	}
}

/* Append ".key" (the key without its quotes) to the path; returns the
 * length to cut back to. */
static size_t path_push(struct differ *d, const char *key)
{
	size_t mark = d->path.len;
	int rc = mark ? pgha_buf_puts(&d->path, ".") : 0;
	if (rc == 0)
		rc = pgha_buf_append(&d->path, key + 1, strlen(key) - 2);
	if (rc && !d->rc)
		d->rc = rc;
	return mark;
}

static void path_pop(struct differ *d, size_t mark)
{
	d->path.len = mark;
	if (d->path.data)
		d->path.data[mark] = '\0';
}

/* Name every key whose value differs; objects are compared key by key,
 * anything else as a whole. */
static void diff_nodes(struct differ *d, const struct pgha_pyjson *old,
		       const struct pgha_pyjson *now)
{
	if (old->kind != PGHA_PYJSON_OBJECT || now->kind != PGHA_PYJSON_OBJECT) {
		if (!pgha_pyjson_equal(old, now))
			diff_line(d, old, now);
		return;
	}
	struct pgha_pyjson_index *io = pgha_pyjson_index_new(old);
	struct pgha_pyjson_index *in = pgha_pyjson_index_new(now);
	if ((old->n && !io) || (now->n && !in)) {
		d->rc = PGHA_E_NOMEM;
	} else {
		for (size_t i = 0; i < now->n; i++) {
			const struct pgha_pyjson *was = pgha_pyjson_lookup(old, io, now->keys[i]);
			size_t mark = path_push(d, now->keys[i]);
			if (was)
				diff_nodes(d, was, now->items[i]);
			else
				diff_line(d, NULL, now->items[i]);
			path_pop(d, mark);
		}
		for (size_t i = 0; i < old->n; i++) {
			if (pgha_pyjson_lookup(now, in, old->keys[i]))
				continue;
			size_t mark = path_push(d, old->keys[i]);
			diff_line(d, old->items[i], NULL);
			path_pop(d, mark);
		}
	}
	pgha_pyjson_index_free(io);
	pgha_pyjson_index_free(in);
}

/* Long-output lines naming what changed since the recorded configuration. */
static void show_diff(const struct recorded *rec, const struct pgha_pyjson *now,
		      const struct pgha_common *common, const char *path, enum pgha_state state,
		      struct pgha_result *r)
{
	char err[256];
	struct pgha_pyjson *old = NULL;
	if (!rec->config) {
		pgha_result_line(r, state, "changed keys unknown: \"%s\" holds only a hash%s; "
				 "run once with --save to record the whole configuration", path,
				 rec->check_patroni ? " (written by check_patroni)" : "");
		return;
	}
	if (pgha_pyjson_parse(rec->config, strlen(rec->config), &old, err, sizeof err)) {
		pgha_result_line(r, state, "changed keys unknown: the recorded configuration "
				 "cannot be read: %s", err);
		return;
	}
	struct differ d = { .r = r, .state = state, .values = common->verbose >= 1 };
	pgha_buf_init(&d.path, 4096);
	diff_nodes(&d, old, now);
	if (d.rc == PGHA_E_NOMEM)
		pgha_result_line(r, PGHA_UNKNOWN, "out of memory comparing the configurations");
	else if (d.changes == 0)
		pgha_result_line(r, state, "same keys and values, in another order (the hash "
				 "follows the order)");
	pgha_buf_free(&d.path);
	pgha_pyjson_free(old);
}

/* --- GET /config ------------------------------------------------------- */

/* Fetch and parse /config; on failure the result says why (state set) and
 * PGHA_E_* is returned. On success *tree is the document (caller frees with
 * pgha_pyjson_free) and dump holds its json.dumps() text. */
static int fetch_config(struct pgha_rest *rest, const struct pgha_common *common,
			struct pgha_result *r, struct pgha_pyjson **tree, struct pgha_buf *dump)
{
	struct pgha_http_response resp;
	char why[200];
	*tree = NULL;
	pgha_http_response_init(&resp, CONFIG_MAX_BODY);
	int rc = pgha_http_get(&rest->http, &common->deadline, "/config", &resp);
	if (rc) {
		pgha_rest_set_failure(r, rc, common, "not reachable: ", resp.error);
	} else if (resp.status != 200) {
		rc = PGHA_E_PROTOCOL;
		pgha_result_set(r, PGHA_UNKNOWN, "GET /config from \"%s\" answered HTTP %ld%s",
				resp.endpoint, resp.status,
				resp.status == 502 ? " (no dynamic configuration in the DCS)" : "");
	} else if ((rc = pgha_pyjson_parse(pgha_buf_str(&resp.body), resp.body.len, tree, why,
				  sizeof why)) != 0) {
		if (resp.body.len == 0)
			pgha_result_set(r, PGHA_UNKNOWN, "GET /config from \"%s\" answered HTTP "
					"200 with no body", resp.endpoint);
		else
			pgha_result_set(r, PGHA_UNKNOWN, "GET /config from \"%s\" answered HTTP "
					"200 with a body that is not JSON (%s)", resp.endpoint, why);
	} else if ((rc = pgha_pyjson_dump(*tree, dump)) != 0) {
		pgha_result_set(r, PGHA_UNKNOWN, "GET /config: %s",
				rc == PGHA_E_TOOBIG ? "the configuration is too large"
						    : pgha_strerror(rc));
	} else if (common->verbose >= 2) {
		pgha_result_line(r, PGHA_OK, "GET /config from \"%s\": %zu bytes, %zu top-level "
				 "keys", resp.endpoint, resp.body.len,
				 (*tree)->kind == PGHA_PYJSON_OBJECT ? (*tree)->n : 0);
	}
	if (rc) {
		pgha_pyjson_free(*tree);
		*tree = NULL;
	}
	pgha_http_response_free(&resp);
	return rc;
}

static const struct pgha_perf_spec changed_spec = { .crit = "@1:1" };

/* Compare the current hash with the expected one, recording as asked. */
static void check_config(const struct config *cfg, const struct pgha_common *common,
			 struct recorded *rec, const struct pgha_pyjson *tree,
			 const struct pgha_buf *dump, struct pgha_result *r)
{
	char now[PGHA_MD5_HEX_LEN], err[512];
	pgha_md5_hex(pgha_buf_str(dump), dump->len, now);
	const char *expected = cfg->hash[0] ? cfg->hash : rec->found ? rec->hash : NULL;
	bool record = cfg->state_file && (cfg->save || !rec->found);

	if (!expected) {
		pgha_result_set(r, PGHA_OK, "dynamic configuration recorded in \"%s\" (hash %s)",
				cfg->state_file, now);
		pgha_result_perf(r, "is_configuration_changed", 0, &changed_spec);
	} else if (strcmp(expected, now) == 0) {
		pgha_result_set(r, PGHA_OK, "dynamic configuration unchanged (hash %s)", now);
		pgha_result_perf(r, "is_configuration_changed", 0, &changed_spec);
	} else {
		pgha_result_set(r, PGHA_CRITICAL, "dynamic configuration changed (hash %s)", now);
		pgha_result_perf(r, "is_configuration_changed", 1, &changed_spec);
		if (cfg->show_diff)
			show_diff(rec, tree, common, cfg->state_file, PGHA_CRITICAL, r);
		if (cfg->hash[0])
			pgha_result_line(r, PGHA_OK, "expected hash %s (--hash)", expected);
		else
			pgha_result_line(r, PGHA_OK, "recorded hash %s in \"%s\"%s", expected,
					 cfg->state_file, record ? "; recording the new one (--save)" : "");
	}
	if (record && save_recorded(cfg->state_file, now, pgha_buf_str(dump), dump->len, err,
				    sizeof err)) {
		if (!expected) { /* nothing was compared: the failure is the result */
			pgha_result_set(r, PGHA_UNKNOWN, "%s", err);
		} else {
			pgha_result_raise(r, PGHA_UNKNOWN);
			pgha_result_line(r, PGHA_UNKNOWN, "%s", err);
		}
	}
}

int main(int argc, char **argv)
{
	struct config cfg = { .hash = "" };
	const struct pgha_program program = {
		.name = "check_pgha_config",
		.result_name = "PGHA_CONFIG",
		.summary = "Check whether Patroni's dynamic configuration (GET /config) changed "
			   "since a recorded hash or state file.",
		.synopsis = "--patroni URL[,URL...] (--hash HASH | --state-file FILE [--save] "
			    "[--show-diff]) [-t SECONDS]",
		.groups = PGHA_GROUP_PATRONI | PGHA_GROUP_TLS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "The hash is check_patroni's: the MD5 of Python's json.dumps() of the "
			 "document, so its --hash values and state files carry over.\nGive every "
			 "node with --patroni: the first that answers is asked.\nA cluster that "
			 "cannot be reached within -t is CRITICAL unless --timeout-result says "
			 "otherwise.",
	};
	struct pgha_common common;
	int done = pgha_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;
	if (common.n_patroni == 0)
		return pgha_options_fail(&program, "give the Patroni REST API with --patroni URL");
	if (!cfg.hash[0] == !cfg.state_file)
		return pgha_options_fail(&program, "give either --hash or --state-file");
	if (cfg.save && !cfg.state_file)
		return pgha_options_fail(&program, "--save needs --state-file");
	if (cfg.show_diff && !cfg.state_file)
		return pgha_options_fail(&program, "--show-diff needs --state-file (a hash alone "
					 "cannot tell which keys changed)");

	struct pgha_rest rest;
	struct pgha_result r;
	done = pgha_rest_setup(&rest, &program, &common, common.patroni, common.n_patroni, &r);
	if (done >= 0)
		return done;
	struct recorded rec = { .found = false };
	char err[512];
	if (cfg.state_file && load_recorded(cfg.state_file, &rec, err, sizeof err)) {
		pgha_rest_close(&rest);
		pgha_result_set(&r, PGHA_UNKNOWN, "%s", err);
		return pgha_result_exit(&r);
	}

	struct pgha_pyjson *tree;
	struct pgha_buf dump;
	pgha_buf_init(&dump, CONFIG_MAX_DUMP);
	if (fetch_config(&rest, &common, &r, &tree, &dump) == 0)
		check_config(&cfg, &common, &rec, tree, &dump, &r);
	else
		pgha_result_perf_unknown(&r, "is_configuration_changed", &changed_spec);
	if (common.verbose >= 2 && cfg.state_file)
		pgha_result_line(&r, PGHA_OK, "state file \"%s\": %s", cfg.state_file,
				 !rec.found ? "nothing recorded before"
				 : rec.check_patroni ? "a hash recorded by check_patroni"
				 : rec.config ? "hash and configuration" : "a hash only");

	pgha_pyjson_free(tree);
	pgha_buf_free(&dump);
	free(rec.config);
	pgha_rest_close(&rest);
	return pgha_result_exit(&r);
}
