-- hosts.lua: the patroni, pg and etcd host modules read a real cluster
-- (tests/integration/hosts.t). Every step is a check (read-only); each
-- fact goes to stderr as one line "hosts: NAME VALUE" for the test to
-- match. A check fails only when a call raises where it must not.
local function say(name, ...)
	local parts = {}
	for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
	log.info("hosts: " .. name .. " " .. table.concat(parts, " "))
end

-- "integer:42", "float:2.5", "boolean:true", "string:x", "nil"
local function typed(v)
	if v == nil then return "nil" end
	if type(v) == "number" then return math.type(v) .. ":" .. tostring(v) end
	return type(v) .. ":" .. tostring(v)
end

local function raises(f, ...)
	local ok, err = pcall(f, ...)
	return not ok, err
end

local function leader_and_replica()
	local c = assert(patroni.cluster())
	local leader, replica
	for _, m in ipairs(c.members) do
		if m.role == "leader" then leader = m.name
		elseif not replica then replica = m.name end
	end
	return c, leader, replica
end

return runbook {
	name = "hosts",
	version = "1.0.0",
	summary = "test runbook: the patroni, pg and etcd host modules, read-only",
	params = {
		probe = { type = "string", default = "", help = "a member expected to be down" },
		probe_url = { type = "string", default = "http://127.0.0.1:1", help = "a REST URL nobody answers" },
		list_prefix = { type = "string", default = "/pgha-test/hosts/", help = "etcd prefix to list" },
	},
	steps = {
		{
			name = "patroni",
			check = function(ctx)
				local c, leader, replica = leader_and_replica()
				say("members", #c.members)
				say("leader", leader)
				local doc, status = patroni.get("/leader", leader)
				say("get_leader_on_leader", status, type(doc))
				doc, status = patroni.get("/leader", replica)
				say("get_leader_on_replica", status, type(doc), type(doc) == "table" and doc.role)
				doc, status = patroni.get("/liveness")
				say("get_liveness", status, type(doc), #doc)
				local n, nstatus = patroni.node(leader)
				say("node_leader", nstatus, n.role, n.patroni.scope)
				local cfg = patroni.config()
				say("config_ttl", typed(cfg.ttl), typed(cfg.maximum_lag_on_failover))
				say("endpoint", patroni.endpoint(leader))
				say("endpoint_url", patroni.endpoint("http://10.0.0.1:8008/patroni/"))
				say("node_unreachable", patroni.node(ctx.params.probe_url))
				say("node_unknown", patroni.node("nosuch"))
				say("get_unknown", patroni.get("/patroni", "nosuch"))
				say("misuse_path", raises(patroni.get, "no-slash"))
				say("misuse_member", raises(patroni.node, "bad name!"))
				say("misuse_member_type", raises(patroni.node, {}))
				return true
			end,
		},
		{
			name = "pg",
			check = function(ctx)
				local _, leader, replica = leader_and_replica()
				local rows, err = pg.query(leader, [[
					SELECT pg_is_in_recovery() AS rec, 42::int2 AS small, 42::int4 AS i,
					       9007199254740993::int8 AS big, 2.5::float8 AS f, 0.25::float4 AS f4,
					       1.5::numeric AS num, 'x'::text AS t, NULL::int AS nul, true AS b,
					       '0/3000060'::pg_lsn AS lsn, 16::oid AS o, 'NaN'::float8 AS nan,
					       current_setting('application_name') AS app,
					       current_setting('transaction_read_only') AS ro]])
				if not rows then return false, err end
				local r = rows[1]
				say("pg_leader_n", rows.n, #rows, #rows.columns, rows.columns[1], rows.columns[15])
				say("pg_leader_rec", typed(r.rec))
				say("pg_types", typed(r.small), typed(r.i), typed(r.big), typed(r.f), typed(r.f4),
					typed(r.num), typed(r.t), typed(r.nul), typed(r.b), typed(r.lsn), typed(r.o),
					tostring(r.nan ~= r.nan))
				say("pg_session", r.app, r.ro)
				rows, err = pg.query(replica, "SELECT pg_is_in_recovery() AS rec")
				say("pg_replica_rec", rows and typed(rows[1].rec) or err)
				rows, err = pg.query(leader, "SELECT $1::int + 1 AS x, $2::text AS s, $3::text AS n, $4::bool AS b",
					{ 41, "a'b", json.null, true })
				say("pg_params", rows and typed(rows[1].x) or err, rows and rows[1].s, rows and typed(rows[1].n), rows and typed(rows[1].b))
				rows = assert(pg.query(leader, "SELECT g FROM generate_series(1, 3) g"))
				say("pg_rows", rows.n, rows[1].g, rows[3].g)
				rows = assert(pg.query(leader, "SELECT 1 AS x WHERE false"))
				say("pg_empty", rows.n, #rows, rows.columns[1])
				say("pg_write", pg.query(leader, "CREATE TABLE pgha_hosts_test (x int)"))
				say("pg_sql_error", pg.query(leader, "SELECT 1/0"))
				say("pg_unknown", pg.query("nosuch", "SELECT 1"))
				say("pg_misuse_sql", raises(pg.query, leader))
				say("pg_misuse_param", raises(pg.query, leader, "SELECT $1", { {} }))
				say("pg_misuse_url", raises(pg.query, "http://127.0.0.1:1", "SELECT 1"))
				return true
			end,
		},
		{
			name = "etcd",
			check = function(ctx)
				local h, err = etcd.health()
				if not h then return false, err end
				say("etcd_health", "ok=" .. tostring(h.ok), "healthy=" .. h.healthy, "voters=" .. h.voters,
					"quorum=" .. h.quorum, "leader=" .. tostring(h.leader), "members=" .. #h.members)
				for _, m in ipairs(h.members) do
					if not m.healthy then say("etcd_unhealthy", m.name, m.url, m.why) end
				end
				local _, leader = leader_and_replica()
				local cl = ctx.cluster
				say("etcd_leader_key", etcd.get(cl.namespace .. "/" .. cl.scope .. "/leader"), leader)
				say("etcd_absent", etcd.get("/pgha-test/no/such/key"))
				say("etcd_absent_serializable", etcd.get("/pgha-test/no/such/key", { serializable = true }))
				local t = assert(etcd.list(ctx.params.list_prefix))
				local keys = {}
				for k, v in pairs(t) do keys[#keys + 1] = k .. "=" .. v end
				table.sort(keys)
				say("etcd_list", #keys, table.concat(keys, ","))
				local members = assert(etcd.list(cl.namespace .. "/" .. cl.scope .. "/members/"))
				local n = 0
				for _ in pairs(members) do n = n + 1 end
				say("etcd_members_keys", n)
				local holder, herr = etcd.lock_holder()
				if type(holder) == "table" and holder.run == ctx.run_id then
					say("etcd_lock", "self") -- the engine's own lock on this run
				elseif type(holder) == "table" then
					say("etcd_lock", holder.run, holder.runbook, holder.user, holder.pid, holder.lease)
				else
					say("etcd_lock", holder, herr)
				end
				say("etcd_misuse", (raises(etcd.get, "")), (raises(etcd.list, {})))
				return true
			end,
		},
		{
			name = "down",
			check = function(ctx)
				local probe = ctx.params.probe
				if probe == "" then return true, "no member to probe" end
				say("down_node", patroni.node(probe))
				say("down_pg", pg.query(probe, "SELECT 1"))
				return true
			end,
		},
	},
}
