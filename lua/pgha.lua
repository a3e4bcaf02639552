-- pgha.lua: the runbook library (require "pgha").
--
-- What the shipped runbooks share: the cluster as Patroni publishes it,
-- and the facts that only PostgreSQL knows for sure (who is writable, on
-- which timeline, how far behind each standby really is). Patroni's own
-- `lag` and replica `timeline` come from the DCS and can be stale (shared
-- design patroni-api.md), so every decision here is taken on what
-- PostgreSQL answers. Everything in this file is read-only: it calls
-- patroni.cluster/config/node, pg.query and etcd reads, never a mutating
-- host function.
--
-- Functions return a value, or nil and a one-line message.

local M = {}

local LEADER_ROLES = { leader = true, master = true, primary = true, standby_leader = true }
local REPLICA_ROLES = { replica = true, sync_standby = true, quorum_standby = true }
local DEFAULT_MAX_LAG = 1048576 -- Patroni's maximum_lag_on_failover default

-- "16/B374D848" -> bytes (an integer), nil for anything else
function M.lsn(text)
	if type(text) ~= "string" then return nil end
	local hi, lo = text:match("^(%x+)/(%x+)$")
	if not hi then return nil end
	return (tonumber(hi, 16) << 32) | tonumber(lo, 16)
end

-- 1536 -> "1.5 kB"
function M.bytes(n)
	if type(n) ~= "number" then return "?" end
	local units = { "B", "kB", "MB", "GB", "TB" }
	local u = 1
	while math.abs(n) >= 1024 and u < #units do
		n = n / 1024
		u = u + 1
	end
	if u == 1 then return string.format("%d B", math.floor(n)) end
	return string.format("%.1f %s", n, units[u])
end

function M.is_leader_role(role) return LEADER_ROLES[role] == true end
function M.is_replica_role(role) return REPLICA_ROLES[role] == true end

-- A member's PostgreSQL runs (leaders say "running", replicas "running"
-- up to 3.0.3 and "streaming" from 3.0.4).
function M.is_running(m)
	return m.state == "running" or m.state == "streaming"
end

-- A member's state as its own Patroni says it now (GET /patroni), which is
-- what Patroni's switchover pre-check asks too; /cluster's copy in the DCS
-- lags by up to loop_wait ("starting" while it already streams). Falls
-- back to the DCS copy when the node does not answer.
function M.live_state(m)
	local doc = patroni.node(m.name)
	if type(doc) == "table" and type(doc.state) == "string" then return doc.state end
	return m.state
end

function M.is_running_live(m)
	local st = M.live_state(m)
	return st == "running" or st == "streaming", st
end

-- Does the member's Patroni answer its REST API right now?
function M.patroni_alive(name)
	return type(patroni.node(name)) == "table"
end

local function sorted_names(t)
	local names = {}
	for name in pairs(t) do names[#names + 1] = name end
	table.sort(names)
	return names
end
M.sorted_names = sorted_names

-- GET /cluster, indexed: { doc, members (list), by_name, leaders (list),
-- leader (the first, or nil), replicas (list), paused, scheduled }.
function M.cluster()
	local doc, err = patroni.cluster()
	if not doc then return nil, err end
	local v = {
		doc = doc, members = {}, by_name = {}, leaders = {}, replicas = {},
		paused = doc.pause == true,
		scheduled = type(doc.scheduled_switchover) == "table" and doc.scheduled_switchover or nil,
	}
	for _, m in ipairs(doc.members or {}) do
		v.members[#v.members + 1] = m
		v.by_name[m.name] = m
		if LEADER_ROLES[m.role] then
			v.leaders[#v.leaders + 1] = m
		elseif REPLICA_ROLES[m.role] then
			v.replicas[#v.replicas + 1] = m
		end
	end
	v.leader = v.leaders[1]
	return v
end

-- The member names of a cluster view, sorted.
function M.member_names(v)
	local names = {}
	for _, m in ipairs(v.members) do names[#names + 1] = m.name end
	table.sort(names)
	return names
end

-- maximum_lag_on_failover from GET /config (bytes), or Patroni's default.
function M.max_lag_on_failover()
	local cfg = patroni.config()
	if type(cfg) == "table" and math.type(cfg.maximum_lag_on_failover) then
		return cfg.maximum_lag_on_failover
	end
	return DEFAULT_MAX_LAG
end

-- Is synchronous mode on (Patroni's synchronous_mode: true, "on",
-- "quorum")?
function M.synchronous_mode()
	local cfg = patroni.config()
	if type(cfg) ~= "table" then return false end
	local s = cfg.synchronous_mode
	return s == true or s == "on" or s == "quorum"
end

-- What a node's PostgreSQL says of itself:
-- { primary = bool, lsn (primary: current WAL), timeline (primary: from
--   its current WAL file; replica: the timeline it receives),
--   receive_lsn, replay_lsn, replay_paused, receiver ("streaming", ...),
--   sender_host }
local SELF_SQL = [[
SELECT NOT pg_is_in_recovery() AS primary,
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS lsn,
       CASE WHEN pg_is_in_recovery() THEN (SELECT received_tli FROM pg_stat_wal_receiver)
            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END
         AS timeline,
       pg_last_wal_receive_lsn()::text AS receive_lsn,
       pg_last_wal_replay_lsn()::text AS replay_lsn,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END AS replay_paused,
       (SELECT status FROM pg_stat_wal_receiver) AS receiver,
       (SELECT sender_host FROM pg_stat_wal_receiver) AS sender_host]]

function M.pg_self(name)
	local rows, err = pg.query(name, SELF_SQL)
	if not rows then return nil, err end
	local r = rows[1]
	if not r then return nil, name .. ": no answer row" end
	return r
end

-- The standbys a primary streams to, by application_name (Patroni sets it
-- to the member name): { state, sync_state, replay_lag, flush_lag,
-- write_lag (bytes behind the primary's current WAL), replay_lsn }.
local REPLICATION_SQL = [[
SELECT application_name AS name, state, sync_state,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS replay_lag,
       pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn) AS flush_lag,
       pg_wal_lsn_diff(pg_current_wal_lsn(), write_lsn) AS write_lag,
       replay_lsn::text AS replay_lsn
  FROM pg_stat_replication]]

function M.replication(leader)
	local rows, err = pg.query(leader, REPLICATION_SQL)
	if not rows then return nil, err end
	local by = {}
	for _, r in ipairs(rows) do by[r.name] = r end
	return by
end

-- Every member answering as a writable primary, asked directly (not the
-- DCS): { names (sorted list), facts = { name = pg_self } }. Members that
-- do not answer are left out (listed in `unreachable`).
function M.primaries(v, extra_names)
	local seen, names, facts, unreachable = {}, {}, {}, {}
	local function ask(name)
		if seen[name] then return end
		seen[name] = true
		local f, err = M.pg_self(name)
		if not f then
			unreachable[#unreachable + 1] = name .. ": " .. tostring(err)
			return
		end
		facts[name] = f
		if f.primary then names[#names + 1] = name end
	end
	for _, m in ipairs(v.members) do ask(m.name) end
	for _, name in ipairs(extra_names or {}) do ask(name) end
	table.sort(names)
	return { names = names, facts = facts, unreachable = unreachable }
end

-- "split brain: n1 and n2 both answer as primary (n1: timeline 3 at 0/5000060; ...)"
function M.split_brain_message(p)
	local parts = {}
	for _, name in ipairs(p.names) do
		local f = p.facts[name]
		parts[#parts + 1] = string.format("%s: timeline %s at %s", name,
			tostring(f.timeline), tostring(f.lsn))
	end
	return string.format("split brain: %s answer as primary (%s); stop and decide by hand",
		table.concat(p.names, " and "), table.concat(parts, "; "))
end

-- The etcd quorum, as a check: true, "etcd 3/3 healthy, leader e1" or
-- false and why.
function M.etcd_ok()
	local h, err = etcd.health()
	if not h then return false, "etcd: " .. tostring(err) end
	local summary = string.format("etcd %d/%d healthy (quorum %d)", h.healthy, h.voters, h.quorum)
	if not h.ok then return false, summary .. ": no quorum" end
	return true, summary
end

-- Nobody else holds the runbook lock (ours is fine): true, or false and
-- who holds it.
function M.lock_free(ctx)
	local holder, err = etcd.lock_holder()
	if holder == nil then
		if err == "no etcd in the cluster file" then return true end
		return false, "runbook lock: " .. tostring(err)
	end
	if holder == false or holder.run == ctx.run_id then return true end
	return false, string.format("cluster is locked by run %s (runbook %s %s, user %s on host %s since %s)",
		tostring(holder.run), tostring(holder.runbook), tostring(holder.version),
		tostring(holder.user), tostring(holder.host), tostring(holder.since))
end

-- The state everyone must reach after a change of leader:
--   want = { leader = "n2", members = {"n1","n2","n3"}, after_timeline = 3,
--            max_lag = bytes, optional = { n1 = true } }
-- The leader is the only one in /cluster, answers writable on a timeline
-- above after_timeline; every other member streams from it (its
-- pg_stat_replication) with replay lag <= max_lag. Members in `optional`
-- may be missing (reported, not waited for).
-- Returns ok, message, details { writable = bool, missing = {names} }.
function M.converged(want)
	local details = { writable = false, missing = {} }
	local v, err = M.cluster()
	if not v then return false, err, details end
	if #v.leaders ~= 1 or v.leader.name ~= want.leader then
		local names = {}
		for _, m in ipairs(v.leaders) do names[#names + 1] = m.name end
		return false, string.format("waiting for %s to lead (leader now: %s)", want.leader,
			#names > 0 and table.concat(names, ", ") or "none"), details
	end
	local self, perr = M.pg_self(want.leader)
	if not self then return false, perr, details end
	if not self.primary then
		return false, want.leader .. " holds the leader lock but is not writable yet", details
	end
	if want.after_timeline and (self.timeline or 0) <= want.after_timeline then
		return false, string.format("%s is on timeline %s, waiting for one above %d", want.leader,
			tostring(self.timeline), want.after_timeline), details
	end
	details.writable = true
	details.timeline = self.timeline
	local rep, rerr = M.replication(want.leader)
	if not rep then return false, rerr, details end
	local ok_parts, waiting = {}, {}
	for _, name in ipairs(want.members) do
		if name ~= want.leader then
			local r = rep[name]
			if r and r.state == "streaming" and (r.replay_lag or 0) <= want.max_lag then
				ok_parts[#ok_parts + 1] = string.format("%s streaming (lag %s)", name, M.bytes(r.replay_lag or 0))
			else
				local why
				if not r then why = name .. " not connected"
				elseif r.state ~= "streaming" then why = name .. " " .. tostring(r.state)
				else why = string.format("%s lag %s > %s", name, M.bytes(r.replay_lag), M.bytes(want.max_lag)) end
				waiting[#waiting + 1] = why
				details.missing[#details.missing + 1] = name
			end
		end
	end
	local summary = string.format("%s leads on timeline %s%s%s", want.leader, tostring(self.timeline),
		#ok_parts > 0 and "; " or "", table.concat(ok_parts, ", "))
	if #waiting > 0 then
		return false, summary .. "; waiting for: " .. table.concat(waiting, ", "), details
	end
	return true, summary, details
end

-- Seconds since the epoch (UTC) -> year, month, day, hour, min, sec
-- (integers; the fraction is dropped). The sandbox has no os.date.
function M.utc(ts)
	local t = math.floor(ts)
	local days, rem = t // 86400, t % 86400
	-- civil_from_days (Howard Hinnant's algorithm)
	local z = days + 719468
	local era = (z >= 0 and z or z - 146096) // 146097
	local doe = z - era * 146097
	local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
	local y = yoe + era * 400
	local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
	local mp = (5 * doy + 2) // 153
	local d = doy - (153 * mp + 2) // 5 + 1
	local m = mp < 10 and mp + 3 or mp - 9
	if m <= 2 then y = y + 1 end
	return y, m, d, rem // 3600, rem % 3600 // 60, rem % 60
end

-- 1795644000 -> "20261125T220000Z" (a backup's id)
function M.backup_id(ts)
	return string.format("%04d%02d%02dT%02d%02d%02dZ", M.utc(ts))
end

-- 1795644000 -> "2026-11-25T22:00:00Z"
function M.iso8601(ts)
	return string.format("%04d-%02d-%02dT%02d:%02d:%02dZ", M.utc(ts))
end

-- The WAL segment holding an LSN on a timeline (16 MB segments):
-- (3, "0/5000028") -> "000000030000000000000005"; nil for a bad LSN.
function M.wal_name(tli, lsn_text, seg_size)
	local lsn = M.lsn(lsn_text)
	if not lsn or math.type(tli) ~= "integer" then return nil end
	local seg = lsn // (seg_size or 16777216)
	local per_id = 0x100000000 // (seg_size or 16777216)
	return string.format("%08X%08X%08X", tli, seg // per_id, seg % per_id)
end

-- Seconds as "2.4 s".
function M.seconds(s)
	return string.format("%.1f s", s)
end

return M
