/* test_patroni.c: reading Patroni's /patroni document (lib/patroni.c). */
#include "tap.h"

#include "error.h"
#include "patroni.h"

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

	ok(pgha_version_cmp("3.0.10", "3.0.2") > 0, "3.0.10 > 3.0.2");
	ok(pgha_version_cmp("3.0.2", "3.0.2") == 0, "equal");
	ok(pgha_version_cmp("3.0", "3.0.0") == 0, "missing part is 0");
	ok(pgha_version_cmp("4.0.0", "3.3.9") > 0, "major wins");
	ok(pgha_version_cmp("3.0.4", "3.0.4rc1") == 0, "suffix ignored");
	return done_testing();
}
