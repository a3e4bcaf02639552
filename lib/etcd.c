/* etcd.c: etcd v3 JSON gateway documents (see etcd.h). */
#define _POSIX_C_SOURCE 200809L
#include "etcd.h"
#include "error.h"
#include "fanout.h"
#include "patroni.h"

#include <inttypes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pgha_etcd_prefix(const cJSON *root, const char **prefix, const char **version,
		     char *err, size_t errlen)
{
	const char *v;
	if (pgha_json_string(root, "etcdserver", &v)) {
		pgha_errf(err, errlen, "etcd /version has no \"etcdserver\"");
		return PGHA_E_PROTOCOL;
	}
	*version = v;
	/* 3.3 and older only serve /v3beta; 3.4 both; 3.5+ only /v3 */
	*prefix = pgha_version_cmp(v, "3.4") < 0 ? "/v3beta" : "/v3";
	return 0;
}

/* A uint64 member that may be absent (etcd omits zeros). */
static uint64_t u64_or_zero(const cJSON *obj, const char *key)
{
	uint64_t v = 0;
	if (pgha_json_uint64(obj, key, &v))
		v = 0;
	return v;
}

int pgha_etcd_members_parse(const cJSON *root, struct pgha_etcd_member *members,
			    size_t *n, char *err, size_t errlen)
{
	const cJSON *list, *item;
	*n = 0;
	if (pgha_json_array(root, "members", &list)) {
		pgha_errf(err, errlen, "etcd member list has no \"members\" array");
		return PGHA_E_PROTOCOL;
	}
	cJSON_ArrayForEach(item, list) {
		if (!cJSON_IsObject(item) || *n >= PGHA_ETCD_MAX_MEMBERS)
			continue;
		struct pgha_etcd_member *m = &members[(*n)++];
		m->id = u64_or_zero(item, "ID");
		m->name = "";
		pgha_json_string(item, "name", &m->name);
		m->client_url = "";
		const cJSON *urls;
		if (pgha_json_array(item, "clientURLs", &urls) == 0 &&
		    cJSON_IsString(cJSON_GetArrayItem(urls, 0)))
			m->client_url = cJSON_GetArrayItem(urls, 0)->valuestring;
		m->learner = pgha_json_flag(item, "isLearner");
	}
	return 0;
}

int pgha_etcd_status_parse(const cJSON *root, struct pgha_etcd_status *st,
			   char *err, size_t errlen)
{
	const cJSON *header, *errors, *e;
	memset(st, 0, sizeof *st);
	if (pgha_json_object(root, "header", &header)) {
		pgha_errf(err, errlen, "etcd status has no \"header\"");
		return PGHA_E_PROTOCOL;
	}
	st->member_id = u64_or_zero(header, "member_id");
	st->leader = u64_or_zero(root, "leader");
	st->raft_index = u64_or_zero(root, "raftIndex");
	st->raft_applied_index = u64_or_zero(root, "raftAppliedIndex");
	st->raft_term = u64_or_zero(root, "raftTerm");
	st->db_size = u64_or_zero(root, "dbSize");
	st->db_size_in_use = u64_or_zero(root, "dbSizeInUse");
	const char *version = "";
	pgha_json_string(root, "version", &version);
	pgha_errf(st->version, sizeof st->version, "%s", version);
	if (pgha_json_array(root, "errors", &errors) == 0) {
		size_t used = 0;
		cJSON_ArrayForEach(e, errors) {
			if (!cJSON_IsString(e))
				continue;
			if (strstr(e->valuestring, "alarm:"))
				st->alarm = true;
			int w = snprintf(st->errors + used, sizeof st->errors - used, "%s%s",
					 used ? "; " : "", e->valuestring);
			if (w < 0 || (size_t)w >= sizeof st->errors - used)
				break;
			used += (size_t)w;
		}
		/* etcd pads alarm texts with a trailing space */
		while (used && st->errors[used - 1] == ' ')
			st->errors[--used] = '\0';
	}
	return 0;
}

int pgha_etcd_call(struct pgha_rest *r, const struct pgha_deadline *d, const char *path,
		   const char *body, cJSON **root, char *err, size_t errlen)
{
	struct pgha_http_response resp;
	char why[128];

	*root = NULL;
	pgha_http_response_init(&resp, 0);
	int rc = pgha_http_request(&r->http, d, "POST", path, body ? body : "{}", &resp);
	if (rc) {
		pgha_errf(err, errlen, "%s", resp.error);
	} else if (pgha_json_parse(pgha_buf_str(&resp.body), resp.body.len, root, why, sizeof why)) {
		pgha_errf(err, errlen, "POST %s from \"%s\" answered HTTP %ld with %s", path,
			  resp.endpoint, resp.status, "a body that is not JSON");
		rc = PGHA_E_PROTOCOL;
	} else if (resp.status != 200) {
		const char *msg = "";
		if (pgha_json_string(*root, "message", &msg))
			pgha_json_string(*root, "error", &msg);
		pgha_errf(err, errlen, "POST %s from \"%s\" answered HTTP %ld%s%s", path,
			  resp.endpoint, resp.status, msg[0] ? ": " : "", msg);
		cJSON_Delete(*root);
		*root = NULL;
		rc = resp.status == 401 ? PGHA_E_AUTH : PGHA_E_PROTOCOL;
	}
	pgha_http_response_free(&resp);
	return rc;
}

/* Overwrite memory that held a secret. */
static void wipe(char *s)
{
	if (!s)
		return;
	for (volatile char *v = s; *v; v++)
		*v = 0;
}

int pgha_etcd_authenticate(struct pgha_rest *r, const struct pgha_deadline *d,
			   const char *prefix, char **token, char *err, size_t errlen)
{
	*token = NULL;
	if (!r->creds.username)
		return 0;
	cJSON *req = cJSON_CreateObject();
	if (!req || !cJSON_AddStringToObject(req, "name", r->creds.username) ||
	    !cJSON_AddStringToObject(req, "password",
				     r->creds.password ? r->creds.password : "")) {
		cJSON_Delete(req);
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	char *body = cJSON_PrintUnformatted(req);
	cJSON *pw = cJSON_GetObjectItemCaseSensitive(req, "password");
	wipe(pw ? pw->valuestring : NULL);
	cJSON_Delete(req);
	if (!body) {
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	char path[64];
	snprintf(path, sizeof path, "%s/auth/authenticate", prefix);
	cJSON *root = NULL;
	char why[256];
	/* basic auth is not etcd's: send the credentials only in the body */
	const struct pgha_credentials *basic = r->http.auth;
	r->http.auth = NULL;
	int rc = pgha_etcd_call(r, d, path, body, &root, why, sizeof why);
	r->http.auth = basic;
	wipe(body);
	free(body);
	const char *t = NULL;
	if (rc == 0 && pgha_json_string(root, "token", &t) == 0) {
		*token = strdup(t);
		if (!*token)
			rc = PGHA_E_NOMEM;
	} else if (rc == 0 || strstr(why, "authentication is not enabled")) {
		rc = 0; /* auth is off: nothing to do */
	} else {
		pgha_errf(err, errlen, "etcd authentication as \"%s\" failed: %s",
			  r->creds.username, why);
		rc = PGHA_E_AUTH;
	}
	cJSON_Delete(root);
	r->http.token = *token;
	return rc;
}

int pgha_etcd_discover(struct pgha_rest *r, const struct pgha_deadline *d,
		       struct pgha_etcd_view *v, char *err, size_t errlen)
{
	long status = 0;
	char path[64];

	memset(v, 0, sizeof *v);
	v->prefix = "/v3";
	v->version = "";
	int rc = pgha_rest_get_json(r, d, "/version", &v->version_doc, &status, NULL, err, errlen);
	if (rc == 0 && status != 200) {
		pgha_errf(err, errlen, "GET /version answered HTTP %ld", status);
		rc = PGHA_E_PROTOCOL;
	}
	if (rc == 0)
		rc = pgha_etcd_prefix(v->version_doc, &v->prefix, &v->version, err, errlen);
	if (rc == 0)
		rc = pgha_etcd_authenticate(r, d, v->prefix, &v->token, err, errlen);
	if (rc == 0) {
		snprintf(path, sizeof path, "%s/cluster/member/list", v->prefix);
		rc = pgha_etcd_call(r, d, path, "{}", &v->list_doc, err, errlen);
	}
	if (rc == 0)
		rc = pgha_etcd_members_parse(v->list_doc, v->members, &v->n_members, err, errlen);
	return rc;
}

void pgha_etcd_view_free(struct pgha_etcd_view *v)
{
	cJSON_Delete(v->version_doc);
	cJSON_Delete(v->list_doc);
	free(v->token);
	memset(v, 0, sizeof *v);
}

/* Read one voter's answer into v. */
static void read_voter(struct pgha_fanout *item, struct pgha_etcd_voter *v)
{
	cJSON *root = NULL;
	char err[200];

	if (item->rc) {
		pgha_errf(v->why, sizeof v->why, "%s", item->resp.error);
	} else if (item->resp.status != 200) {
		pgha_errf(v->why, sizeof v->why, "status answered HTTP %ld", item->resp.status);
	} else if (pgha_json_parse(pgha_buf_str(&item->resp.body), item->resp.body.len, &root,
				   err, sizeof err) ||
		   pgha_etcd_status_parse(root, &v->st, err, sizeof err)) {
		pgha_errf(v->why, sizeof v->why, "status: %s", err);
	} else {
		v->answered = true;
		if (v->st.member_id != v->member->id)
			pgha_errf(v->why, sizeof v->why, "answers as member %" PRIx64, v->st.member_id);
		else if (v->st.errors[0])
			pgha_errf(v->why, sizeof v->why, "%s", v->st.errors);
		else if (!v->st.leader)
			pgha_errf(v->why, sizeof v->why, "no leader");
		else
			v->healthy = true;
	}
	cJSON_Delete(root);
}

void pgha_etcd_assess(const struct pgha_http *model, const struct pgha_deadline *d,
		      int64_t member_timeout_ms, const struct pgha_etcd_view *view,
		      struct pgha_etcd_health *h)
{
	struct pgha_fanout items[PGHA_ETCD_MAX_MEMBERS];
	char urls[PGHA_ETCD_MAX_MEMBERS][1100];
	size_t n = 0;

	memset(h, 0, sizeof *h);
	for (size_t i = 0; i < view->n_members; i++) {
		const struct pgha_etcd_member *m = &view->members[i];
		if (m->learner) {
			h->learners++;
			continue;
		}
		if (!m->name[0] || !m->client_url[0])
			continue; /* added but not started yet: not a voter */
		h->voters[n].member = m;
		snprintf(urls[n], sizeof urls[n], "%s%s/maintenance/status", m->client_url,
			 view->prefix);
		items[n] = (struct pgha_fanout){ .method = "POST", .url = urls[n], .body = "{}" };
		n++;
	}
	h->n_voters = n;
	h->quorum = n / 2 + 1;
	if (pgha_fanout_run(model, d, member_timeout_ms, items, n)) {
		for (size_t i = 0; i < n; i++)
			pgha_errf(h->voters[i].why, sizeof h->voters[i].why, "out of memory");
	} else {
		for (size_t i = 0; i < n; i++)
			read_voter(&items[i], &h->voters[i]);
	}
	pgha_fanout_free(items, n);

	uint64_t min_index = UINT64_MAX, max_index = 0;
	for (size_t i = 0; i < n; i++) {
		const struct pgha_etcd_voter *v = &h->voters[i];
		if (v->st.alarm)
			h->alarm = true;
		if (!v->healthy)
			continue;
		h->healthy++;
		if (h->leader && v->st.leader != h->leader)
			h->disagree = true;
		h->leader = v->st.leader;
		if (v->st.raft_term > h->raft_term)
			h->raft_term = v->st.raft_term;
		if (v->st.db_size > h->max_db_size)
			h->max_db_size = v->st.db_size;
		if (v->st.raft_index < min_index)
			min_index = v->st.raft_index;
		if (v->st.raft_index > max_index)
			max_index = v->st.raft_index;
	}
	h->raft_index_spread = h->healthy ? max_index - min_index : 0;
	if (h->disagree)
		h->leader = 0;
	for (size_t i = 0; i < view->n_members; i++)
		if (h->leader && view->members[i].id == h->leader)
			h->leader_name = view->members[i].name;
}
