/*
 * clusterfile.c: the cluster file parser (see clusterfile.h and
 * docs/cluster-file.md).
 *
 * One pass over the lines: each header opens a section, each key = value
 * is checked against its section's table right away (so every error has
 * the line it is about), then the required keys are checked at the end.
 * Typed fields point into the entries, which own the values.
 */
#define _POSIX_C_SOURCE 200809L
#include "clusterfile.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ARGV 64
#define MAX_KEY 64

/* --- what each section accepts ----------------------------------------- */

enum vtype {
	V_TEXT,      /* anything not empty */
	V_SCOPE,     /* no '/' */
	V_URLS,      /* comma list of http(s) URLs */
	V_PATH,      /* absolute path */
	V_BOOL,
	V_PORT,      /* 1..65535 */
	V_NAMESPACE, /* starts with '/' */
	V_ARGV,      /* words split on blanks */
	V_HOST,      /* no blanks */
	V_COMMAND    /* a command line: absolute program path, with %f and %p */
};

struct keydef {
	const char *key;
	enum vtype type;
};

static const struct keydef cluster_keys[] = {
	{ "scope", V_SCOPE }, { "patroni", V_URLS }, { "etcd", V_URLS },
	{ "auth_file", V_PATH }, { "cacert", V_PATH }, { "cert", V_PATH },
	{ "key", V_PATH }, { "insecure", V_BOOL }, { "namespace", V_NAMESPACE },
};

static const struct keydef node_keys[] = {
	{ "host", V_HOST }, { "port", V_PORT }, { "data_dir", V_PATH },
	{ "stop", V_ARGV }, { "start", V_ARGV }, { "config_dir", V_PATH },
};

static const struct keydef backup_keys[] = {
	{ "dir", V_PATH }, { "archive_dir", V_PATH }, { "restore_command", V_COMMAND },
};

/* libpq connection keywords (PostgreSQL 15 to 17), minus the refused ones
 * below. A keyword the installed libpq does not know fails at connect. */
static const char *const libpq_keywords[] = {
	"service", "user", "passfile", "require_auth", "channel_binding",
	"connect_timeout", "dbname", "client_encoding", "options",
	"application_name", "fallback_application_name", "keepalives",
	"keepalives_idle", "keepalives_interval", "keepalives_count",
	"tcp_user_timeout", "sslmode", "sslnegotiation", "sslcompression",
	"sslcert", "sslkey", "sslcertmode", "sslrootcert", "sslcrl", "sslcrldir",
	"sslsni", "requirepeer", "ssl_min_protocol_version",
	"ssl_max_protocol_version", "gssencmode", "krbsrvname", "gsslib",
	"gssdelegation", "replication", "target_session_attrs", "load_balance_hosts",
};

/* libpq keywords refused in [postgresql], and why. */
static const struct {
	const char *key, *why;
} refused_keywords[] = {
	{ "password", "passwords are not kept in the cluster file: use .pgpass or "
		      "PGPASSFILE (or passfile = PATH)" },
	{ "sslpassword", "passwords are not kept in the cluster file: use an "
			 "unencrypted key readable only by its owner" },
	{ "host", "each member's host comes from Patroni or from its [node NAME] section" },
	{ "hostaddr", "each member's host comes from Patroni or from its [node NAME] section" },
	{ "port", "each member's port comes from Patroni or from its [node NAME] section" },
};

static const char *const section_names[] = {
	[PGHA_CF_CLUSTER] = "cluster", [PGHA_CF_POSTGRESQL] = "postgresql",
	[PGHA_CF_NODE] = "node", [PGHA_CF_BACKUP] = "backup",
};

#define N_OF(a) (sizeof (a) / sizeof (a)[0])

/* --- parser state -------------------------------------------------------- */

struct parser {
	const char *name; /* file name for messages */
	struct pgha_clusterfile *cf;
	char *err;
	size_t errlen;
	int line;
	bool in_section;
	enum pgha_cf_section section;
	size_t node;            /* index into cf->nodes when section is NODE */
	int seen[4];            /* header line of each single section, 0 if none */
	size_t entries_alloc;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pgha_errf(p->err, p->errlen, "%s:%d: %s", p->name, line, msg);
	return PGHA_E_INVALID;
}

static int oom(struct parser *p)
{
	pgha_errf(p->err, p->errlen, "out of memory");
	return PGHA_E_NOMEM;
}

/* "[cluster]" or "[node n1]" for messages. */
static void section_label(const struct parser *p, char *buf, size_t len)
{
	if (p->section == PGHA_CF_NODE)
		snprintf(buf, len, "[node %s]", p->cf->nodes[p->node].name);
	else
		snprintf(buf, len, "[%s]", section_names[p->section]);
}

/* Edit distance of two short strings (0..MAX_KEY each), for suggestions. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[MAX_KEY + 1];
	if (la > MAX_KEY || lb > MAX_KEY)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The closest of n candidates within 2 edits, or NULL. */
static const char *suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d = distance(word, cands[i]);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best;
}

static const char *suggest_key(const char *word, const struct keydef *defs, size_t n)
{
	const char *cands[16];
	for (size_t i = 0; i < n && i < N_OF(cands); i++)
		cands[i] = defs[i].key;
	return suggest(word, cands, n < N_OF(cands) ? n : N_OF(cands));
}

/* --- values -------------------------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == '-';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* Split a comma list of URLs into out (owned copies). */
static int parse_urls(struct parser *p, const char *key, const char *value,
		      char **out, size_t *n)
{
	const char *s = value;
	*n = 0;
	for (;;) {
		size_t len = strcspn(s, ",");
		const char *b = s, *e = s + len;
		while (b < e && is_blank(*b))
			b++;
		while (e > b && is_blank(e[-1]))
			e--;
		size_t ulen = (size_t)(e - b);
		if (ulen == 0)
			return fail(p, p->line, "empty URL in the list of \"%s\"", key);
		bool http = ulen > 7 && strncmp(b, "http://", 7) == 0;
		bool https = ulen > 8 && strncmp(b, "https://", 8) == 0;
		if (!http && !https)
			return fail(p, p->line, "invalid URL \"%.*s\" in \"%s\": it must start "
				    "with http:// or https://", (int)ulen, b, key);
		for (const char *c = b; c < e; c++)
			if (is_blank(*c))
				return fail(p, p->line, "invalid URL \"%.*s\" in \"%s\": blank "
					    "inside (separate URLs with commas)", (int)ulen, b, key);
		if (*n >= PGHA_CF_MAX_URLS)
			return fail(p, p->line, "too many URLs in \"%s\" (at most %d)", key,
				    PGHA_CF_MAX_URLS);
		out[*n] = strndup(b, ulen);
		if (!out[*n])
			return oom(p);
		(*n)++;
		if (!s[len])
			return 0;
		s += len + 1;
	}
}

/* Split an argv template on blanks into a NULL-terminated array. */
static int parse_argv(struct parser *p, const char *key, const char *value, char ***out)
{
	char *words[MAX_ARGV];
	size_t n = 0;
	const char *s = value;
	for (;;) {
		while (is_blank(*s))
			s++;
		if (!*s)
			break;
		size_t len = 0;
		while (s[len] && !is_blank(s[len]))
			len++;
		if (n >= MAX_ARGV) {
			for (size_t i = 0; i < n; i++)
				free(words[i]);
			return fail(p, p->line, "too many words in \"%s\" (at most %d)", key, MAX_ARGV);
		}
		words[n] = strndup(s, len);
		if (!words[n]) {
			for (size_t i = 0; i < n; i++)
				free(words[i]);
			return oom(p);
		}
		n++;
		s += len;
	}
	if (n == 0)
		return fail(p, p->line, "empty command in \"%s\"", key);
	char **argv = calloc(n + 1, sizeof *argv);
	if (!argv) {
		for (size_t i = 0; i < n; i++)
			free(words[i]);
		return oom(p);
	}
	memcpy(argv, words, n * sizeof *argv);
	*out = argv;
	return 0;
}

static void free_argv(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < N_OF(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return PGHA_E_INVALID;
}

static int parse_port(const char *v, int *out)
{
	long n = 0;
	if (!*v || strlen(v) > 5)
		return PGHA_E_INVALID;
	for (const char *c = v; *c; c++) {
		if (*c < '0' || *c > '9')
			return PGHA_E_INVALID;
		n = n * 10 + (*c - '0');
	}
	if (n < 1 || n > 65535)
		return PGHA_E_INVALID;
	*out = (int)n;
	return 0;
}

/* Check value against its type and store the typed result. */
static int apply(struct parser *p, const struct keydef *def, const char *value)
{
	struct pgha_clusterfile *cf = p->cf;
	struct pgha_cf_node *node = p->section == PGHA_CF_NODE ? &cf->nodes[p->node] : NULL;
	const char *key = def->key;

	switch (def->type) {
	case V_TEXT:
		break;
	case V_SCOPE:
		if (strchr(value, '/'))
			return fail(p, p->line, "invalid scope \"%s\": it must not contain '/'", value);
		break;
	case V_URLS:
		return parse_urls(p, key, value, strcmp(key, "patroni") == 0 ? cf->patroni : cf->etcd,
				  strcmp(key, "patroni") == 0 ? &cf->n_patroni : &cf->n_etcd);
	case V_PATH:
		if (value[0] != '/')
			return fail(p, p->line, "\"%s\" must be an absolute path, not \"%s\"", key, value);
		break;
	case V_BOOL:
		if (parse_bool(value, &cf->insecure))
			return fail(p, p->line, "invalid boolean \"%s\" for \"%s\": use true or false",
				    value, key);
		return 0;
	case V_PORT:
		if (parse_port(value, &node->port))
			return fail(p, p->line, "invalid port \"%s\": it must be 1 to 65535", value);
		return 0;
	case V_NAMESPACE:
		if (value[0] != '/')
			return fail(p, p->line, "invalid namespace \"%s\": it must start with '/'", value);
		break;
	case V_ARGV:
		return parse_argv(p, key, value, strcmp(key, "stop") == 0 ? &node->stop : &node->start);
	case V_HOST:
		for (const char *c = value; *c; c++)
			if (is_blank(*c))
				return fail(p, p->line, "invalid host \"%s\": blank inside", value);
		break;
	case V_COMMAND:
		if (value[0] != '/')
			return fail(p, p->line, "\"%s\" must start with the absolute path of a "
				    "program, not \"%s\"", key, value);
		if (!strstr(value, "%f") || !strstr(value, "%p"))
			return fail(p, p->line, "\"%s\" must contain %%f and %%p (the WAL file "
				    "name and the path to copy it to): \"%s\"", key, value);
		break;
	}

	/* plain strings: point into the entry */
	if (p->section == PGHA_CF_CLUSTER) {
		if (strcmp(key, "scope") == 0) cf->scope = value;
		else if (strcmp(key, "auth_file") == 0) cf->auth_file = value;
		else if (strcmp(key, "cacert") == 0) cf->cacert = value;
		else if (strcmp(key, "cert") == 0) cf->cert = value;
		else if (strcmp(key, "key") == 0) cf->key = value;
		else if (strcmp(key, "namespace") == 0) cf->namespace = value;
	} else if (p->section == PGHA_CF_NODE) {
		if (strcmp(key, "host") == 0) node->host = value;
		else if (strcmp(key, "data_dir") == 0) node->data_dir = value;
		else if (strcmp(key, "config_dir") == 0) node->config_dir = value;
	} else if (p->section == PGHA_CF_BACKUP) {
		if (strcmp(key, "dir") == 0) cf->backup_dir = value;
		else if (strcmp(key, "archive_dir") == 0) cf->archive_dir = value;
		else if (strcmp(key, "restore_command") == 0) cf->restore_command = value;
	}
	return 0;
}

/* --- lines --------------------------------------------------------------- */

/* The part of a line after a value or header: blanks, then a comment. */
static bool only_comment(const char *s)
{
	while (is_blank(*s))
		s++;
	return *s == '\0' || *s == '#';
}

static int parse_header(struct parser *p, char *s)
{
	struct pgha_clusterfile *cf = p->cf;
	char *close = strchr(s, ']');
	if (!close)
		return fail(p, p->line, "missing \"]\" in section header");
	if (!only_comment(close + 1))
		return fail(p, p->line, "unexpected text after the section header");
	*close = '\0';
	char *b = s + 1;
	while (is_blank(*b))
		b++;
	char *e = close;
	while (e > b && is_blank(e[-1]))
		*--e = '\0';
	size_t wlen = 0;
	while (b[wlen] && !is_blank(b[wlen]))
		wlen++;
	char *arg = b + wlen;
	while (is_blank(*arg))
		arg++;

	int which = -1;
	for (size_t i = 0; i < N_OF(section_names); i++)
		if (strlen(section_names[i]) == wlen && strncmp(b, section_names[i], wlen) == 0)
			which = (int)i;
	if (which < 0) {
		char word[MAX_KEY + 1];
		snprintf(word, sizeof word, "%.*s", (int)(wlen < MAX_KEY ? wlen : MAX_KEY), b);
		const char *s2 = suggest(word, section_names, N_OF(section_names));
		return fail(p, p->line, "unknown section [%s]%s%s%s", b,
			    s2 ? " (did you mean [" : "", s2 ? s2 : "", s2 ? "]?)" : "");
	}
	p->section = (enum pgha_cf_section)which;
	p->in_section = true;
	if (p->section != PGHA_CF_NODE) {
		if (*arg)
			return fail(p, p->line, "[%s] takes no name", section_names[which]);
		if (p->seen[which])
			return fail(p, p->line, "duplicate section [%s] (first at line %d)",
				    section_names[which], p->seen[which]);
		p->seen[which] = p->line;
		return 0;
	}
	if (!*arg)
		return fail(p, p->line, "[node] needs the member's name: [node NAME]");
	for (const char *c = arg; *c; c++)
		if (!is_name_char(*c))
			return fail(p, p->line, "invalid node name \"%s\": use letters, digits, "
				    "'_', '.' and '-'", arg);
	for (size_t i = 0; i < cf->n_nodes; i++)
		if (strcmp(cf->nodes[i].name, arg) == 0)
			return fail(p, p->line, "duplicate section [node %s] (first at line %d)",
				    arg, cf->nodes[i].line);
	if (cf->n_nodes >= PGHA_CF_MAX_NODES)
		return fail(p, p->line, "too many [node] sections (at most %d)", PGHA_CF_MAX_NODES);
	if (!cf->nodes) {
		cf->nodes = calloc(PGHA_CF_MAX_NODES, sizeof *cf->nodes);
		if (!cf->nodes)
			return oom(p);
	}
	struct pgha_cf_node *n = &cf->nodes[cf->n_nodes];
	memset(n, 0, sizeof *n);
	n->name = strdup(arg);
	if (!n->name)
		return oom(p);
	n->line = p->line;
	p->node = cf->n_nodes++;
	return 0;
}

/* Read the value after '=' into a new string (*out, caller frees). */
static int parse_value(struct parser *p, const char *s, const char *key, char **out)
{
	*out = NULL;
	while (is_blank(*s))
		s++;
	if (*s == '"') {
		size_t len = strlen(s);
		char *v = malloc(len + 1), *w = v;
		if (!v)
			return oom(p);
		const char *c = s + 1;
		for (;; c++) {
			if (!*c) {
				free(v);
				return fail(p, p->line, "unterminated quoted value for \"%s\"", key);
			}
			if (*c == '"')
				break;
			if (*c == '\\') {
				if (c[1] != '"' && c[1] != '\\') {
					free(v);
					if (!c[1])
						return fail(p, p->line, "unterminated quoted value for \"%s\"", key);
					return fail(p, p->line, "invalid escape \"\\%c\" in the value of "
						    "\"%s\": only \\\" and \\\\ are allowed", c[1], key);
				}
				c++;
			}
			*w++ = *c;
		}
		*w = '\0';
		if (!only_comment(c + 1)) {
			free(v);
			return fail(p, p->line, "unexpected text after the quoted value of \"%s\"", key);
		}
		if (!v[0]) {
			free(v);
			return fail(p, p->line, "empty value for \"%s\"", key);
		}
		*out = v;
		return 0;
	}
	/* unquoted: up to a '#' that follows a blank, blanks trimmed */
	size_t len = 0;
	for (; s[len]; len++)
		if (s[len] == '#' && len > 0 && is_blank(s[len - 1]))
			break;
	if (s[0] == '#')
		len = 0;
	while (len && is_blank(s[len - 1]))
		len--;
	if (len == 0)
		return fail(p, p->line, "empty value for \"%s\"", key);
	*out = strndup(s, len);
	return *out ? 0 : oom(p);
}

static const struct pgha_cf_entry *find_entry(const struct pgha_clusterfile *cf,
					      enum pgha_cf_section section, const char *node,
					      const char *key)
{
	for (size_t i = 0; i < cf->n_entries; i++) {
		const struct pgha_cf_entry *e = &cf->entries[i];
		if (e->section == section && strcmp(e->key, key) == 0 &&
		    (section != PGHA_CF_NODE || strcmp(e->node, node) == 0))
			return e;
	}
	return NULL;
}

/* Which definition key has in the current section; NULL after setting
 * the error. */
static const struct keydef *lookup_key(struct parser *p, const char *key, int *rc)
{
	static const struct keydef libpq = { NULL, V_TEXT };
	const struct keydef *defs = NULL;
	size_t n = 0;
	char label[160];

	section_label(p, label, sizeof label);
	switch (p->section) {
	case PGHA_CF_CLUSTER: defs = cluster_keys; n = N_OF(cluster_keys); break;
	case PGHA_CF_NODE: defs = node_keys; n = N_OF(node_keys); break;
	case PGHA_CF_BACKUP: defs = backup_keys; n = N_OF(backup_keys); break;
	case PGHA_CF_POSTGRESQL:
		for (size_t i = 0; i < N_OF(refused_keywords); i++)
			if (strcmp(key, refused_keywords[i].key) == 0) {
				*rc = fail(p, p->line, "\"%s\" is not allowed in [postgresql]: %s",
					   key, refused_keywords[i].why);
				return NULL;
			}
		for (size_t i = 0; i < N_OF(libpq_keywords); i++)
			if (strcmp(key, libpq_keywords[i]) == 0)
				return &libpq;
		const char *s = suggest(key, libpq_keywords, N_OF(libpq_keywords));
		*rc = fail(p, p->line, "unknown libpq keyword \"%s\" in [postgresql]%s%s%s", key,
			   s ? " (did you mean \"" : "", s ? s : "", s ? "\"?)" : "");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, defs[i].key) == 0)
			return &defs[i];
	const char *s = suggest_key(key, defs, n);
	*rc = fail(p, p->line, "unknown key \"%s\" in %s%s%s%s", key, label,
		   s ? " (did you mean \"" : "", s ? s : "", s ? "\"?)" : "");
	return NULL;
}

static int parse_assignment(struct parser *p, char *s)
{
	struct pgha_clusterfile *cf = p->cf;
	size_t klen = 0;
	while (s[klen] && !is_blank(s[klen]) && s[klen] != '=')
		klen++;
	for (size_t i = 0; i < klen; i++)
		if (!is_key_char(s[i]))
			return fail(p, p->line, "invalid key \"%.*s\": keys are lower-case letters, "
				    "digits, '_', '.' and '-'", (int)(klen > MAX_KEY ? MAX_KEY : klen), s);
	if (klen > MAX_KEY)
		return fail(p, p->line, "key longer than %d characters", MAX_KEY);
	char key[MAX_KEY + 1];
	memcpy(key, s, klen);
	key[klen] = '\0';
	const char *rest = s + klen;
	while (is_blank(*rest))
		rest++;
	if (*rest != '=')
		return fail(p, p->line, "expected \"key = value\" (no \"=\" after \"%s\")", key);
	if (!p->in_section)
		return fail(p, p->line, "\"%s\" outside a section: the file starts with [cluster]", key);

	int rc = 0;
	const struct keydef *def = lookup_key(p, key, &rc);
	if (!def)
		return rc;
	const char *node = p->section == PGHA_CF_NODE ? cf->nodes[p->node].name : NULL;
	const struct pgha_cf_entry *dup = find_entry(cf, p->section, node, key);
	if (dup) {
		char label[160];
		section_label(p, label, sizeof label);
		return fail(p, p->line, "duplicate key \"%s\" in %s (first at line %d)", key,
			    label, dup->line);
	}
	char *value;
	rc = parse_value(p, rest + 1, key, &value);
	if (rc)
		return rc;
	if (cf->n_entries == p->entries_alloc) {
		size_t na = p->entries_alloc ? 2 * p->entries_alloc : 16;
		struct pgha_cf_entry *ne = realloc(cf->entries, na * sizeof *ne);
		if (!ne) {
			free(value);
			return oom(p);
		}
		cf->entries = ne;
		p->entries_alloc = na;
	}
	char *k = strdup(key);
	if (!k) {
		free(value);
		return oom(p);
	}
	cf->entries[cf->n_entries++] = (struct pgha_cf_entry){
		.section = p->section, .node = node, .key = k, .value = value, .line = p->line };
	struct keydef named = *def;
	if (!named.key)
		named.key = k; /* a libpq keyword */
	return apply(p, &named, value);
}

static int parse_line(struct parser *p, char *s)
{
	while (is_blank(*s))
		s++;
	if (!*s || *s == '#')
		return 0;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return fail(p, p->line, "control character 0x%02x in the line", (unsigned)*c);
	if (*s == '[')
		return parse_header(p, s);
	return parse_assignment(p, s);
}

/* --- entry points -------------------------------------------------------- */

int pgha_clusterfile_parse(const char *text, size_t len, const char *name,
			   struct pgha_clusterfile *cf, char *err, size_t errlen)
{
	struct parser p = { .name = name, .cf = cf, .err = err, .errlen = errlen };
	char line[PGHA_CF_MAX_LINE + 1];
	int rc = 0;

	memset(cf, 0, sizeof *cf);
	cf->namespace = "/service";
	cf->path = strdup(name);
	if (!cf->path)
		return oom(&p);
	if (len > PGHA_CF_MAX_FILE) {
		pgha_errf(err, errlen, "could not read cluster file \"%s\": larger than %d bytes",
			  name, PGHA_CF_MAX_FILE);
		rc = PGHA_E_TOOBIG;
		goto out;
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3; /* a UTF-8 byte order mark */
		len -= 3;
	}
	size_t pos = 0;
	while (pos < len) {
		p.line++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (llen && text[pos + llen - 1] == '\r')
			llen--;
		if (llen > PGHA_CF_MAX_LINE) {
			rc = fail(&p, p.line, "line longer than %d bytes", PGHA_CF_MAX_LINE);
			goto out;
		}
		if (memchr(text + pos, '\0', llen)) {
			rc = fail(&p, p.line, "NUL byte in the line");
			goto out;
		}
		memcpy(line, text + pos, llen);
		line[llen] = '\0';
		rc = parse_line(&p, line);
		if (rc)
			goto out;
		pos += nl ? (size_t)(nl - (text + pos)) + 1 : llen;
	}

	int last = p.line ? p.line : 1;
	if (!p.seen[PGHA_CF_CLUSTER]) {
		rc = fail(&p, last, "no [cluster] section (it needs scope and patroni)");
	} else if (!cf->scope) {
		rc = fail(&p, p.seen[PGHA_CF_CLUSTER], "missing key \"scope\" in [cluster]");
	} else if (!cf->n_patroni) {
		rc = fail(&p, p.seen[PGHA_CF_CLUSTER], "missing key \"patroni\" in [cluster] "
			  "(the Patroni REST API URLs)");
	}
out:
	if (rc)
		pgha_clusterfile_free(cf);
	return rc;
}

int pgha_clusterfile_load(const char *path, struct pgha_clusterfile *cf,
			  char *err, size_t errlen)
{
	memset(cf, 0, sizeof *cf);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pgha_errf(err, errlen, "could not open cluster file \"%s\": %s", path, strerror(errno));
		return PGHA_E_IO;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		pgha_errf(err, errlen, "could not read cluster file \"%s\": not a regular file", path);
		return PGHA_E_IO;
	}
	size_t cap = PGHA_CF_MAX_FILE + 1, len = 0;
	char *text = malloc(cap);
	if (!text) {
		close(fd);
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, text + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(text);
			close(fd);
			pgha_errf(err, errlen, "could not read cluster file \"%s\": %s", path, strerror(e));
			return PGHA_E_IO;
		}
		if (n == 0 || (len += (size_t)n) == cap)
			break;
	}
	close(fd);
	int rc = pgha_clusterfile_parse(text, len, path, cf, err, errlen);
	free(text);
	return rc;
}

void pgha_clusterfile_free(struct pgha_clusterfile *cf)
{
	for (size_t i = 0; i < cf->n_entries; i++) {
		free(cf->entries[i].key);
		free(cf->entries[i].value);
	}
	free(cf->entries);
	for (size_t i = 0; i < cf->n_nodes; i++) {
		free(cf->nodes[i].name);
		free_argv(cf->nodes[i].stop);
		free_argv(cf->nodes[i].start);
	}
	free(cf->nodes);
	for (size_t i = 0; i < cf->n_patroni; i++)
		free(cf->patroni[i]);
	for (size_t i = 0; i < cf->n_etcd; i++)
		free(cf->etcd[i]);
	free(cf->path);
	memset(cf, 0, sizeof *cf);
}

const char *pgha_clusterfile_get(const struct pgha_clusterfile *cf,
				 const char *section, const char *key)
{
	const char *node = NULL;
	int which = -1;
	if (strncmp(section, "node ", 5) == 0) {
		which = PGHA_CF_NODE;
		node = section + 5;
	} else {
		for (size_t i = 0; i < N_OF(section_names); i++)
			if (i != PGHA_CF_NODE && strcmp(section, section_names[i]) == 0)
				which = (int)i;
	}
	if (which < 0)
		return NULL;
	const struct pgha_cf_entry *e = find_entry(cf, (enum pgha_cf_section)which, node, key);
	return e ? e->value : NULL;
}

const struct pgha_cf_node *pgha_clusterfile_node(const struct pgha_clusterfile *cf,
						 const char *name)
{
	for (size_t i = 0; i < cf->n_nodes; i++)
		if (strcmp(cf->nodes[i].name, name) == 0)
			return &cf->nodes[i];
	return NULL;
}

int pgha_clusterfile_conninfo(const struct pgha_clusterfile *cf, struct pgha_buf *out)
{
	bool first = true;
	for (size_t i = 0; i < cf->n_entries; i++) {
		const struct pgha_cf_entry *e = &cf->entries[i];
		if (e->section != PGHA_CF_POSTGRESQL)
			continue;
		int rc = pgha_buf_printf(out, "%s%s='", first ? "" : " ", e->key);
		for (const char *c = e->value; rc == 0 && *c; c++) {
			if (*c == '\'' || *c == '\\')
				rc = pgha_buf_append(out, "\\", 1);
			if (rc == 0)
				rc = pgha_buf_append(out, c, 1);
		}
		if (rc == 0)
			rc = pgha_buf_append(out, "'", 1);
		if (rc)
			return rc;
		first = false;
	}
	return 0;
}
