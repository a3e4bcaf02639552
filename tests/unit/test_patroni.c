/* test_patroni.c: reading Patroni's /patroni document (lib/patroni.c). */
#include "tap.h"

#include "error.h"
#include "output.h"
#include "patroni.h"
#include "rest.h"

/* Observed from Patroni 3.0.2 (Debian 12), a leader. */
static const char leader_302[] =
	"{\"state\":\"running\",\"postmaster_start_time\":\"2026-11-25 18:57:44.618972+00:00\","
	"\"role\":\"master\",\"server_version\":150020,\"xlog\":{\"location\":67108960},"
	"\"timeline\":1,\"replication\":[{\"usename\":\"replicator\",\"application_name\":\"n2\","
	"\"client_addr\":\"127.0.0.1\",\"state\":\"streaming\",\"sync_state\":\"async\","
	"\"sync_priority\":0}],\"dcs_last_seen\":1795633107,"
	"\"database_system_identifier\":\"7712185284546840787\","
	"\"patroni\":{\"version\":\"3.0.2\",\"scope\":\"labcluster\"}}";

/* Patroni 4.x shape: "primary", name, pending restart, paused. */
static const char primary_41[] =
	"{\"state\":\"running\",\"role\":\"primary\",\"timeline\":7,\"pending_restart\":true,"
	"\"pause\":true,\"patroni\":{\"version\":\"4.1.0\",\"scope\":\"c\",\"name\":\"pg-a\"}}";

static const char replica_stopped[] =
	"{\"state\":\"stopped\",\"role\":\"replica\",\"patroni\":{\"version\":\"3.0.2\"}}";

static int parse(const char *text, cJSON **root, struct pgha_patroni_node *n, char *err)
{
	if (pgha_json_parse(text, strlen(text), root, err, 128))
		return -100;
	return pgha_patroni_node_parse(*root, n, err, 128);
}

int main(void)
{
	cJSON *root = NULL;
	struct pgha_patroni_node n;
	char err[128] = "";

	is_int(parse(leader_302, &root, &n, err), 0, "3.0.2 leader parses");
	is_int(n.role, PGHA_ROLE_PRIMARY, "\"master\" is primary");
	is_str(pgha_role_name(n.role), "primary", "role name");
	is_str(n.state, "running", "state");
	ok(n.has_timeline && n.timeline == 1, "timeline 1");
	is_str(n.version, "3.0.2", "version");
	is_str(n.scope, "labcluster", "scope");
	is_str(n.name, "", "no name before 3.2");
	is_int(n.server_version, 150020, "server version");
	ok(!n.pending_restart && !n.paused, "absent flags are false");
	is_str(n.system_identifier, "7712185284546840787", "system identifier kept as text");
	cJSON_Delete(root);

	is_int(parse(primary_41, &root, &n, err), 0, "4.1 primary parses");
	is_int(n.role, PGHA_ROLE_PRIMARY, "\"primary\" is primary");
	is_str(n.name, "pg-a", "name (3.2+)");
	ok(n.pending_restart, "pending restart");
	ok(n.paused, "paused");
	cJSON_Delete(root);

	is_int(parse(replica_stopped, &root, &n, err), 0, "stopped replica parses");
	is_int(n.role, PGHA_ROLE_REPLICA, "replica");
	ok(!n.has_timeline, "a stopped member has no timeline (unknown, not 0)");
	cJSON_Delete(root);

	is_int(parse("{\"state\":\"running\",\"role\":\"standby_leader\"}", &root, &n, err), 0,
	       "standby leader parses");
	is_int(n.role, PGHA_ROLE_STANDBY_LEADER, "standby_leader");
	is_str(n.version, "", "missing patroni object: empty version");
	cJSON_Delete(root);

	is_int(parse("{\"state\":\"running\",\"role\":\"wizard\"}", &root, &n, err), 0,
	       "unknown role parses");
	is_int(n.role, PGHA_ROLE_UNKNOWN, "as unknown");
	cJSON_Delete(root);

	is_int(parse("{\"role\":\"master\"}", &root, &n, err), PGHA_E_PROTOCOL, "no state: refused");
	like(err, "no \"state\"", "explained");
	cJSON_Delete(root);
	is_int(parse("{\"state\":1,\"role\":\"master\"}", &root, &n, err), PGHA_E_PROTOCOL,
	       "state of the wrong type: refused");
	cJSON_Delete(root);
	is_int(parse("[1]", &root, &n, err), PGHA_E_PROTOCOL, "an array: refused");
	cJSON_Delete(root);
	is_int(parse("{\"state\":\"running\",\"role\":\"replica\",\"timeline\":\"x\"}", &root, &n, err),
	       0, "timeline of the wrong type parses");
	ok(!n.has_timeline, "as unknown timeline");
	cJSON_Delete(root);

	/* GET /cluster, 3.0.2 as observed, plus a stopped member */
	const struct pgha_member *m;
	struct pgha_cluster c;
	static const char cluster_302[] =
		"{\"members\":["
		"{\"name\":\"n1\",\"role\":\"leader\",\"state\":\"running\","
		"\"api_url\":\"http://127.0.0.1:18008/patroni\",\"host\":\"127.0.0.1\","
		"\"port\":15432,\"timeline\":1},"
		"{\"name\":\"n2\",\"role\":\"replica\",\"state\":\"running\","
		"\"host\":\"127.0.0.1\",\"port\":15433,\"timeline\":1,\"lag\":0,"
		"\"pending_restart\":true,\"tags\":{\"nofailover\":true}},"
		"{\"name\":\"n3\",\"role\":\"replica\",\"state\":\"stopped\",\"lag\":\"unknown\"},"
		"{\"role\":\"replica\"}, 7]}";
	root = NULL;
	ok(pgha_json_parse(cluster_302, strlen(cluster_302), &root, err, sizeof err) == 0,
	   "cluster document parses as JSON");
	is_int(pgha_cluster_parse(root, &c, err, sizeof err), 0, "3.0.2 cluster parses");
	is_int(c.n_members, 3, "members without a name and non-objects are skipped");
	ok(!c.paused && !c.scheduled_switchover, "not paused, nothing scheduled");
	m = pgha_cluster_leader(&c);
	ok(m && strcmp(m->name, "n1") == 0, "n1 is the leader");
	ok(m && m->lag_kind == PGHA_LAG_ABSENT, "the leader has no lag");
	ok(m && m->port == 15432 && m->has_timeline && m->timeline == 1, "port and timeline");
	is_str(c.members[1].name, "n2", "second member");
	ok(pgha_member_is_replica(&c.members[1]) && pgha_member_is_running(&c.members[1]),
	   "n2 is a running replica");
	ok(c.members[1].lag_kind == PGHA_LAG_BYTES && c.members[1].lag == 0, "lag 0 is known");
	ok(c.members[1].pending_restart, "pending restart");
	ok(c.members[1].tags && pgha_json_flag(c.members[1].tags, "nofailover"), "tags kept");
	ok(c.members[2].lag_kind == PGHA_LAG_UNKNOWN, "lag \"unknown\" is unknown, not 0");
	ok(!pgha_member_is_running(&c.members[2]), "stopped is not running");
	ok(!c.members[2].has_timeline, "a stopped member has no timeline");
	pgha_cluster_free(&c);
	cJSON_Delete(root);

	/* 4.1 shapes: quorum standby, receive/replay lag, pause, scheduled switchover */
	static const char cluster_41[] =
		"{\"scope\":\"c\",\"pause\":true,"
		"\"scheduled_switchover\":{\"at\":\"2030-01-01T00:00:00+00:00\",\"from\":\"a\"},"
		"\"members\":["
		"{\"name\":\"a\",\"role\":\"leader\",\"state\":\"running\",\"timeline\":4},"
		"{\"name\":\"b\",\"role\":\"quorum_standby\",\"state\":\"streaming\",\"timeline\":4,"
		"\"lag\":10,\"receive_lag\":5,\"replay_lag\":10,\"scheduled_restart\":{\"schedule\":\"x\"}},"
		"{\"name\":\"d\",\"role\":\"sync_standby\",\"state\":\"in archive recovery\",\"lag\":-1}]}";
	ok(pgha_json_parse(cluster_41, strlen(cluster_41), &root, err, sizeof err) == 0,
	   "4.1 cluster parses as JSON");
	is_int(pgha_cluster_parse(root, &c, err, sizeof err), 0, "4.1 cluster parses");
	ok(c.paused, "paused");
	ok(c.scheduled_switchover != NULL, "scheduled switchover");
	is_str(c.scope, "c", "scope (3.2+)");
	is_int(c.members[1].role, PGHA_MEMBER_QUORUM_STANDBY, "quorum_standby");
	ok(pgha_member_is_replica(&c.members[1]) && pgha_member_is_running(&c.members[1]),
	   "a streaming quorum standby is a running replica");
	ok(c.members[1].has_receive_lag && c.members[1].receive_lag == 5 &&
	   c.members[1].has_replay_lag && c.members[1].replay_lag == 10, "receive and replay lag");
	ok(c.members[1].has_scheduled_restart, "scheduled restart");
	ok(!pgha_member_is_running(&c.members[2]), "in archive recovery is not streaming");
	is_int(c.members[2].lag_kind, PGHA_LAG_UNKNOWN, "a negative lag is not trusted");
	is_str(pgha_member_role_name(c.members[2].role), "sync_standby", "role name");
	pgha_cluster_free(&c);
	cJSON_Delete(root);

	ok(pgha_json_parse("{\"members\":{}}", 14, &root, err, sizeof err) == 0, "parses");
	is_int(pgha_cluster_parse(root, &c, err, sizeof err), PGHA_E_PROTOCOL, "members not an array: refused");
	like(err, "no \"members\" array", "explained");
	cJSON_Delete(root);

	ok(pgha_version_cmp("3.0.10", "3.0.2") > 0, "3.0.10 > 3.0.2");
	ok(pgha_version_cmp("3.0.2", "3.0.2") == 0, "equal");
	ok(pgha_version_cmp("3.0", "3.0.0") == 0, "missing part is 0");
	ok(pgha_version_cmp("4.0.0", "3.3.9") > 0, "major wins");
	ok(pgha_version_cmp("3.0.4", "3.0.4rc1") == 0, "suffix ignored");

	/* --sync-type */
	enum pgha_sync_type t = PGHA_SYNC_SYNC;
	is_int(pgha_sync_type_parse("any", &t, err, sizeof err), 0, "sync type any");
	is_int(t, PGHA_SYNC_ANY, "any read");
	is_int(pgha_sync_type_parse("quorum", &t, err, sizeof err), 0, "sync type quorum");
	is_int(t, PGHA_SYNC_QUORUM, "quorum read");
	is_int(pgha_sync_type_parse("all", &t, err, sizeof err), PGHA_E_INVALID, "\"all\" refused");
	is_str(err, "invalid sync type \"all\": use any, sync or quorum", "and explained");
	is_int(t, PGHA_SYNC_QUORUM, "unchanged on error");
	ok(pgha_sync_type_accepts(PGHA_SYNC_ANY, true, false) &&
	   pgha_sync_type_accepts(PGHA_SYNC_ANY, false, true), "any: sync or quorum standby");
	ok(pgha_sync_type_accepts(PGHA_SYNC_SYNC, true, false) &&
	   !pgha_sync_type_accepts(PGHA_SYNC_SYNC, false, true), "sync: sync_standby only");
	ok(!pgha_sync_type_accepts(PGHA_SYNC_QUORUM, true, false) &&
	   pgha_sync_type_accepts(PGHA_SYNC_QUORUM, false, true), "quorum: quorum_standby only");
	ok(!pgha_sync_type_accepts(PGHA_SYNC_ANY, false, false), "an async replica is no sync");

	/* --max-lag */
	bool has = true;
	double bytes = -1;
	is_int(pgha_max_lag_parse("", &has, &bytes, err, sizeof err), 0,
	       "empty --max-lag accepted");
	ok(!has && bytes == -1, "empty: no limit, value untouched");
	is_int(pgha_max_lag_parse("16MB", &has, &bytes, err, sizeof err), 0, "16MB");
	ok(has && bytes == 16.0 * 1024 * 1024, "16MB is 16 MiB in bytes");
	is_int(pgha_max_lag_parse("0", &has, &bytes, err, sizeof err), 0, "0 accepted");
	ok(has && bytes == 0, "0 bytes");
	is_int(pgha_max_lag_parse("-1", &has, &bytes, err, sizeof err), PGHA_E_INVALID,
	       "negative refused");
	is_str(err, "invalid value \"-1\": a lag is between 0 and 1e18 bytes", "and explained");
	is_int(pgha_max_lag_parse("2e18", &has, &bytes, err, sizeof err), PGHA_E_INVALID,
	       "over 1e18 refused");
	is_int(pgha_max_lag_parse("5XB", &has, &bytes, err, sizeof err), PGHA_E_INVALID,
	       "bad unit refused");
	like(err, "invalid value \"5XB\"", "names the value");

	/* failures of a request, as the checks report them */
	struct pgha_common common = { .timeout_result = PGHA_WARNING };
	ok(pgha_rest_unreachable(PGHA_E_UNREACHABLE) && pgha_rest_unreachable(PGHA_E_TIMEOUT) &&
	   !pgha_rest_unreachable(PGHA_E_PROTOCOL) && !pgha_rest_unreachable(0), "unreachable");
	struct pgha_result r;
	pgha_result_init(&r, "T");
	pgha_rest_set_failure(&r, PGHA_E_TIMEOUT, &common, "not reachable: ", "no answer in 1 s");
	is_int(r.state, PGHA_WARNING, "nothing answered: the --timeout-result state");
	is_str(r.summary, "not reachable: no answer in 1 s", "prefixed");
	pgha_rest_set_failure(&r, PGHA_E_PROTOCOL, &common, "not reachable: ", "not JSON");
	is_int(r.state, PGHA_UNKNOWN, "a bad answer: UNKNOWN");
	is_str(r.summary, "not JSON", "no prefix for an answer");
	pgha_rest_set_failure(&r, PGHA_E_UNREACHABLE, &common, NULL, "refused");
	is_str(r.summary, "refused", "no prefix asked for");

	/* the -v line of a /cluster document */
	struct pgha_cluster_doc doc = { .endpoint = "http://n1:8008" };
	ok(pgha_json_parse("{\"scope\":\"prod\",\"members\":[]}", 29, &doc.root, err,
			   sizeof err) == 0, "parses");
	is_int(pgha_cluster_parse(doc.root, &doc.cluster, err, sizeof err), 0, "a cluster");
	pgha_cluster_doc_line(&doc, &r);
	is_str(r.nlines ? r.lines[0].text : "", "cluster \"prod\" read from http://n1:8008",
	       "names scope and endpoint");
	pgha_cluster_doc_free(&doc);
	ok(doc.root == NULL && doc.cluster.members == NULL, "freed and cleared");
	pgha_cluster_doc_free(&doc);
	pgha_result_free(&r);

	return done_testing();
}
