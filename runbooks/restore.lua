-- restore.lua: point-in-time restore of the whole cluster from a base
-- backup and the WAL archive (Patroni 3.0.2, PostgreSQL 15, etcd).
--
-- The verified procedure of the shared design (runbooks.md, "restore"):
--   1. stop Patroni on every node, replicas first, the leader last;
--   2. delete the cluster from the DCS (NAMESPACE/SCOPE/) so that Patroni
--      bootstraps it again;
--   3. move every data directory aside (kept, never deleted here);
--   4. start one node with a custom bootstrap method, written as
--      CONFIG_DIR/90-pgha-restore.yml (Patroni merges every *.yml of its
--      configuration directory in name order): `pgha restore-backup`
--      restores the base backup (on 3.0.2 every argument must be inside
--      `command`), then PostgreSQL replays the archive up to the target
--      and promotes itself onto a new timeline;
--   5. start the other nodes with empty data directories: they clone
--      from the new leader;
--   6. take the bootstrap method back out of the configuration, report.
--   The DCS dynamic configuration read by the pre-flight goes into the
--   restore file as bootstrap.dcs, so the restored cluster starts with it
--   (parameters that need a restart included); the dcs-config step
--   compares it afterwards and warns about any difference.
--
-- Target: exactly one of target_time, target_lsn, latest. The stop is
-- exclusive (recovery_target_inclusive = false): a restore to time T
-- keeps every transaction that committed before T and none that committed
-- at T or later; a restore to LSN X stops just before the record at X
-- (give the LSN returned by pg_current_wal_lsn() after the last commit to
-- keep: that commit ends before it).
--
-- Evidence of the stop point: PostgreSQL writes the reason for the
-- timeline switch into the new timeline's history file ("before
-- 2026-11-25 22:10:00.5+00", "before LSN 0/5000060"); Patroni publishes
-- that file as GET /history, read without any PostgreSQL privilege (the
-- cluster file's role has pg_monitor, which cannot read pg_wal). The
-- report step logs the switch LSN and the reason.
--
-- The restored leader archives its new timeline into the same WAL archive:
-- PostgreSQL picks a timeline above every one whose history file the
-- archive holds (it asks restore_command), so its segments have new names,
-- and segments of the old timeline past the stop point are never asked
-- for again; archive_command should still refuse to overwrite a file.
--
-- A failure rolls back: the restored node stopped, the restore file and
-- the new cluster's keys removed, a failed new data directory kept as
-- DATA_DIR.pgha-restore-failed-RUN, the old data directories put back and
-- the nodes started, the old leader first (Patroni, with no leader in the
-- DCS, writes the keys again and promotes it onto a new timeline). A
-- bootstrap that fails is seen only when the step's timeout runs out
-- (Patroni exits, nothing answers): give a timeout that fits the backup.
--
-- Requirements: the host running pgha reaches every node's config_dir and
-- data_dir on its file system (the sandbox; an NFS or a local one-node
-- run), the backup directory is readable by the user Patroni runs as, and
-- the config_dir lets Patroni read a file this run writes there (mode
-- 0640: e.g. a setgid directory of Patroni's group when pgha runs as root).

local pgha = require "pgha"

local RESTORE_FILE = "90-pgha-restore.yml"
local NO_PREFLIGHT = "needs what the pre-flight decides (it did not pass)"
local ID_PAT = "^%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ$"

-- "2026-11-25T22:10:00.25+01:00" (or a space for T, Z, +HH, +HHMM) ->
-- seconds since the epoch, or nil.
local function parse_time(s)
	if type(s) ~= "string" then return nil end
	local y, mo, d, h, mi, sec, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[T ](%d%d):(%d%d):(%d%d)(.*)$")
	if not y then return nil end
	local frac = 0
	local f = rest:match("^%.(%d+)")
	if f then
		frac = tonumber("0." .. f)
		rest = rest:sub(#f + 2)
	end
	local off
	if rest == "Z" or rest == "z" then
		off = 0
	else
		local sign, oh, om = rest:match("^([+-])(%d%d):?(%d?%d?)$")
		if not sign or (#om ~= 0 and #om ~= 2) then return nil end
		off = (tonumber(oh) * 3600 + (tonumber(om) or 0) * 60) * (sign == "-" and -1 or 1)
	end
	y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
	if mo < 1 or mo > 12 or d < 1 or d > 31 then return nil end
	-- days_from_civil (Howard Hinnant)
	local yy = mo <= 2 and y - 1 or y
	local era = (yy >= 0 and yy or yy - 399) // 400
	local yoe = yy - era * 400
	local doy = (153 * (mo > 2 and mo - 3 or mo + 9) + 2) // 5 + d - 1
	local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
	local days = era * 146097 + doe - 719468
	return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec) + frac - off
end

-- The node names, in cluster-file order.
local function node_names(ctx)
	local names = {}
	for name in pairs(ctx.cluster.nodes) do names[#names + 1] = name end
	table.sort(names, function(a, b)
		local ia, ib = ctx.cluster.nodes[a].index or 0, ctx.cluster.nodes[b].index or 0
		if ia ~= ib then return ia < ib end
		return a < b
	end)
	return names
end

local function leader_name(ctx)
	if ctx.params.leader then return ctx.params.leader end
	return node_names(ctx)[1]
end

local function restore_file(ctx, name)
	return ctx.cluster.nodes[name].config_dir:gsub("/+$", "") .. "/" .. RESTORE_FILE
end

local function target_text(ctx)
	local p = ctx.params
	if p.target_time then return "time " .. p.target_time end
	if p.target_lsn then return "LSN " .. p.target_lsn end
	return "the end of the WAL archive (latest)"
end

-- Every node's Patroni and PostgreSQL: which still answer.
local function still_up(ctx)
	local up = {}
	for _, name in ipairs(node_names(ctx)) do
		if patroni.node(name) then up[#up + 1] = name .. " (Patroni REST)"
		elseif pg.query(name, "SELECT 1 AS one") then up[#up + 1] = name .. " (PostgreSQL)" end
	end
	return up
end

local function exec_node(ctx, name, what)
	local argv = ctx.cluster.nodes[name][what]
	local res, err = exec.run(argv, { timeout = 180 })
	if not res then return nil, string.format("%s %s: %s", what, name, tostring(err)) end
	if res.code ~= 0 then
		return nil, string.format("%s %s exited %s: %s", what, name, tostring(res.code or ("signal " .. tostring(res.signal))),
			(res.stderr or ""):gsub("%s+$", ""):sub(-400))
	end
	log.info(string.format("%s %s: done", what, name))
	return true
end

local function empty_or_absent(path)
	local st = fs.stat(path)
	if not st then return true end
	if st.type ~= "dir" then return false end
	local names = fs.list(path)
	return names ~= nil and #names == 0
end

-- The backup chosen: the named one, or the newest good one.
local function choose_backup(ctx)
	local list, err = fs.backups(ctx.cluster.backup_dir)
	if not list then return nil, "backups in " .. ctx.cluster.backup_dir .. ": " .. tostring(err) end
	if ctx.params.backup then
		for _, b in ipairs(list) do
			if b.id == ctx.params.backup then
				if not b.good then return nil, "backup " .. b.id .. " is not good: " .. tostring(b.why) end
				return b
			end
		end
		return nil, string.format("no backup %s in %s", ctx.params.backup, ctx.cluster.backup_dir)
	end
	local newest
	for _, b in ipairs(list) do if b.good then newest = b end end
	if not newest then return nil, "no good backup in " .. ctx.cluster.backup_dir end
	return newest
end

local function preflight(ctx)
	local p, c = ctx.params, ctx.cluster
	if not c then return false, "the restore needs the cluster file: pass -c CLUSTERFILE" end
	local n_targets = (p.target_time and 1 or 0) + (p.target_lsn and 1 or 0) + (p.latest and 1 or 0)
	if n_targets ~= 1 then
		return false, "give exactly one target: target_time=..., target_lsn=... or latest=true"
	end
	if not c.backup_dir or not c.archive_dir then
		return false, "the cluster file's [backup] needs dir and archive_dir"
	end
	if not c.restore_command then
		return false, "the cluster file's [backup] has no restore_command (the archive fetch command, with %f and %p)"
	end
	local names = node_names(ctx)
	if #names == 0 then return false, "the cluster file has no [node NAME] section" end
	local missing = {}
	for _, name in ipairs(names) do
		local n = c.nodes[name]
		for _, k in ipairs { "stop", "start", "data_dir", "config_dir" } do
			if not n[k] then missing[#missing + 1] = name .. ": " .. k end
		end
	end
	if #missing > 0 then
		return false, "the cluster file lacks what a restore needs: " .. table.concat(missing, ", ")
	end
	local leader = leader_name(ctx)
	if not c.nodes[leader] then
		return false, string.format("leader %s is not a [node] of the cluster file (nodes: %s)", leader,
			table.concat(names, ", "))
	end
	for _, name in ipairs(names) do
		local st = fs.stat(c.nodes[name].config_dir)
		if not st or st.type ~= "dir" then
			return false, string.format("%s: config_dir %s is not a directory", name, c.nodes[name].config_dir)
		end
	end

	local b, berr = choose_backup(ctx)
	if not b then return false, berr end
	for _, f in ipairs(b.files or {}) do
		if f.sha256 then
			local sum, serr = fs.sha256(b.dir .. "/" .. f.name)
			if not sum then return false, "backup " .. b.id .. ": " .. tostring(serr) end
			if sum:lower() ~= f.sha256:lower() then
				return false, string.format("backup %s: %s has sha256 %s, backup.json lists %s", b.id, f.name, sum, f.sha256)
			end
		end
	end

	-- the target after the backup's end
	local target_ts
	if p.target_time then
		target_ts = parse_time(p.target_time)
		if not target_ts then return false, "target_time " .. p.target_time .. " does not parse" end
		if target_ts <= b.finished_ts then
			return false, string.format("target_time %s is not after backup %s finished (%s): choose an older backup",
				p.target_time, b.id, tostring(b.finished_at))
		end
		if target_ts > time.now() then
			return false, "target_time " .. p.target_time .. " is in the future"
		end
	elseif p.target_lsn then
		local t, s = pgha.lsn(p.target_lsn), b.stop_lsn and pgha.lsn(b.stop_lsn)
		if not t then return false, "target_lsn " .. p.target_lsn .. " is not an LSN" end
		if s and t <= s then
			return false, string.format("target_lsn %s is not after backup %s's stop LSN %s", p.target_lsn, b.id, b.stop_lsn)
		end
	end

	-- the archive continuous from the backup's start to the target
	local cov, cerr = fs.wal_coverage(c.archive_dir, b.start_wal, p.target_lsn)
	if not cov then return false, "WAL archive: " .. tostring(cerr) end
	if not cov.ok then
		return false, string.format("the WAL archive %s is not continuous from backup %s's start %s: %s%s",
			c.archive_dir, b.id, b.start_wal, tostring(cov.why),
			(cov.missing and #cov.missing > 0) and (" (missing: " .. table.concat(cov.missing, ", ") .. ")") or "")
	end
	if target_ts and cov.last then
		-- the archive must reach the target: its newest segment was
		-- written at or after it
		local st = fs.stat(c.archive_dir .. "/" .. cov.last)
		if st and st.mtime and st.mtime < target_ts then
			return false, string.format("the newest archived segment %s was written before target_time %s: "
				.. "switch WAL on the leader (SELECT pg_switch_wal()) and wait for it to be archived", cov.last,
				p.target_time)
		end
	end

	local lok, lwhy = pgha.lock_free(ctx)
	if not lok then return false, lwhy end

	-- what the cluster is now (it may be down: then from the archive)
	local timeline, old_leader = cov.timeline or b.timeline or 1, nil
	local v = pgha.cluster()
	if v then
		for _, m in ipairs(v.members) do
			if type(m.timeline) == "number" and m.timeline > timeline then timeline = m.timeline end
		end
		if v.leader then old_leader = v.leader.name end
	end
	local cfg = patroni.config()
	ctx.state.backup = { id = b.id, dir = b.dir, timeline = b.timeline, start_wal = b.start_wal,
		stop_lsn = b.stop_lsn, finished_at = b.finished_at }
	ctx.state.timeline = math.tointeger(timeline) or 1
	ctx.state.old_leader = old_leader
	ctx.state.leader = leader
	ctx.state.nodes = names
	ctx.state.dcs_config = cfg and json.encode(cfg) or nil
	ctx.state.tag = ctx.run_id
	return true, string.format("backup %s (timeline %s, %s to %s, finished %s); archive continuous from %s to %s "
		.. "(%d segments); target %s; cluster on timeline %d%s; %s restored first, then %s%s",
		b.id, tostring(b.timeline), tostring(b.start_lsn), tostring(b.stop_lsn), tostring(b.finished_at),
		tostring(cov.first or b.start_wal), tostring(cov.last), cov.n_present or 0, target_text(ctx),
		ctx.state.timeline, old_leader and (", leader " .. old_leader) or ", no leader now", leader,
		#names > 1 and "the others" or "nothing else",
		cfg and "" or "; the DCS configuration could not be read (it will not be put back)")
end

-- Stop order: replicas first, the current leader last.
local function stop_order(ctx)
	local order, last = {}, nil
	for _, name in ipairs(ctx.state.nodes or node_names(ctx)) do
		if name == ctx.state.old_leader then last = name else order[#order + 1] = name end
	end
	if last then order[#order + 1] = last end
	return order
end

-- The DCS configuration recorded by the pre-flight, without "pause", or
-- nil (also for an empty one: JSON would make it a list).
local function recorded_dcs(ctx)
	if not ctx.state.dcs_config then return nil end
	local cfg = json.decode(ctx.state.dcs_config)
	if type(cfg) ~= "table" then return nil end
	cfg.pause = nil
	if next(cfg) == nil then return nil end
	return cfg
end

-- Every value of want that now lacks or has otherwise, as "a.b.c".
local function subset_diff(want, now, prefix, out)
	for k, v in pairs(want) do
		local key = prefix .. tostring(k)
		local n = type(now) == "table" and now[k] or nil
		if type(v) == "table" and type(n) == "table" then
			subset_diff(v, n, key .. ".", out)
		elseif v ~= n and tostring(v) ~= tostring(n) then
			out[#out + 1] = key
		end
	end
end

-- Patroni splits pitr.command with Python's shlex (no shell runs it).
local function shell_quote(s)
	if s:match("^[%w_./:+-]+$") then return s end
	return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function bootstrap_config(ctx)
	local p = ctx.params
	local rc = {
		restore_command = ctx.cluster.restore_command,
		recovery_target_timeline = "latest",
	}
	if p.target_time then
		rc.recovery_target_time = p.target_time
	elseif p.target_lsn then
		rc.recovery_target_lsn = p.target_lsn
	end
	if not p.latest then
		rc.recovery_target_action = "promote"
		rc.recovery_target_inclusive = false
	end
	return {
		bootstrap = {
			-- the dynamic configuration as it was: written into the DCS
			-- at bootstrap, so nothing needs a restart afterwards
			dcs = recorded_dcs(ctx),
			method = "pitr",
			pitr = {
				command = shell_quote(ctx.pgha) .. " restore-backup --backup " .. shell_quote(ctx.state.backup.dir),
				keep_existing_recoveryconf = false,
				recovery_conf = rc,
			},
		},
	}
end

local function converged(ctx)
	return pgha.converged {
		leader = ctx.state.leader, members = ctx.state.nodes,
		after_timeline = math.max(ctx.state.timeline or 0, ctx.state.backup.timeline or 0),
		max_lag = 16 * 1024 * 1024,
	}
end

return runbook {
	name = "restore",
	version = "1.0.0",
	summary = "point-in-time restore of the whole cluster from a base backup and the WAL archive",
	params = {
		backup = { type = "string", help = "backup id YYYYMMDDTHHMMSSZ (default: the newest good backup)",
			check = function(v) return v:match(ID_PAT) ~= nil, "not a backup id (YYYYMMDDTHHMMSSZ)" end },
		target_time = { type = "string", help = "restore up to this time, ISO 8601 with a zone "
			.. "(2026-11-25T22:10:00+00:00; PostgreSQL's format with a space works too); exclusive",
			check = function(v) return parse_time(v) ~= nil, "not an ISO 8601 time with a time zone" end },
		target_lsn = { type = "string", help = "restore up to this WAL location X/Y; exclusive",
			check = function(v) return v:match("^%x+/%x+$") ~= nil, "not an LSN (X/Y)" end },
		latest = { type = "boolean", help = "restore to the end of the WAL archive" },
		leader = { type = "string", help = "node restored first, the new leader (default: the first [node] of the cluster file)",
			check = function(v) return v:match("^[%w_.-]+$") ~= nil, "not a node name" end },
		timeout = { type = "duration", default = "10min", help = "time for each long step (stop, restore, clone)" },
	},
	steps = {
		{
			name = "preflight",
			timeout = function(ctx) return ctx.params.timeout end,
			check = preflight,
		},
		{
			name = "stop-patroni",
			timeout = function(ctx) return ctx.params.timeout end,
			interval = 1,
			gate = {
				text = "Stop Patroni and PostgreSQL on every node (replicas first, the leader last): "
					.. "the cluster is down from now until the restore is complete.",
				type_word = function(ctx) return ctx.cluster.scope end,
			},
			run = function(ctx)
				for _, name in ipairs(stop_order(ctx)) do
					local ok, err = exec_node(ctx, name, "stop")
					if not ok then return nil, err end
				end
			end,
			verify = function(ctx)
				local up = still_up(ctx)
				if #up > 0 then return false, "still answering: " .. table.concat(up, ", ") end
				return true, "no node answers (Patroni REST nor PostgreSQL)"
			end,
			-- the old leader first, so that it takes the lead again
			undo = function(ctx)
				local order = stop_order(ctx)
				for i = #order, 1, -1 do
					local ok, err = exec_node(ctx, order[i], "start")
					if not ok then return nil, err end
				end
			end,
		},
		{
			name = "remove-from-dcs",
			timeout = 30,
			gate = {
				text = "Delete the cluster from etcd (every key under NAMESPACE/SCOPE/: leader, members, "
					.. "configuration, history) so that Patroni bootstraps it again. This cannot be undone: "
					.. "if the restore fails later, the old data directories are put back and the nodes started, "
					.. "and Patroni writes the keys again from them (the dynamic configuration from its cache).",
				type_word = function(ctx) return ctx.cluster.scope end,
			},
			check = function(ctx)
				local prefix = ctx.cluster.namespace:gsub("/+$", "") .. "/" .. ctx.cluster.scope .. "/"
				if ctx.dry_run then return true, "delete " .. prefix .. " once every node is stopped" end
				local up = still_up(ctx)
				if #up > 0 then return false, "nodes still answer: " .. table.concat(up, ", ") end
				return true, "delete " .. prefix
			end,
			run = function(ctx)
				local prefix = ctx.cluster.namespace:gsub("/+$", "") .. "/" .. ctx.cluster.scope .. "/"
				local n, err = etcd.delete_prefix(prefix)
				if not n then return nil, "etcd: " .. tostring(err) end
				log.info(string.format("deleted %d key(s) under %s", n, prefix))
			end,
			-- nothing can be put back; the rollback goes on to the older
			-- steps (the data directories back, the nodes started)
			undo = function(ctx)
				log.warn("the cluster's etcd keys cannot be put back: Patroni writes them again when the nodes start")
			end,
		},
		{
			name = "move-data-aside",
			timeout = 60,
			check = function(ctx)
				if not ctx.state.nodes then return false, NO_PREFLIGHT end
				if not ctx.dry_run then
					local up = still_up(ctx)
					if #up > 0 then return false, "nodes still answer: " .. table.concat(up, ", ") end
				end
				local parts = {}
				for _, name in ipairs(ctx.state.nodes) do
					local dd = ctx.cluster.nodes[name].data_dir
					parts[#parts + 1] = string.format("%s: %s -> %s.pgha-restore-%s", name, dd, dd, ctx.state.tag)
				end
				return true, table.concat(parts, "; ")
			end,
			run = function(ctx)
				ctx.state.aside = ctx.state.aside or {}
				for _, name in ipairs(ctx.state.nodes) do
					local dd = ctx.cluster.nodes[name].data_dir:gsub("/+$", "")
					local aside = dd .. ".pgha-restore-" .. ctx.state.tag
					if fs.stat(aside) then
						log.info(string.format("%s: %s already moved aside to %s", name, dd, aside))
						ctx.state.aside[name] = aside
					elseif fs.stat(dd) then
						local ok, err = fs.rename(dd, aside)
						if not ok then return nil, string.format("%s: rename %s: %s", name, dd, tostring(err)) end
						ctx.state.aside[name] = aside
						log.info(string.format("%s: old data directory kept as %s", name, aside))
					else
						log.info(string.format("%s: no data directory %s, nothing to move", name, dd))
					end
				end
			end,
			-- the old directories back; a new data directory that is not
			-- empty (a failed restore) is moved aside first, not removed
			undo = function(ctx)
				for _, name in ipairs(ctx.state.nodes) do
					local aside = ctx.state.aside and ctx.state.aside[name]
					local dd = ctx.cluster.nodes[name].data_dir:gsub("/+$", "")
					if aside and fs.stat(aside) then
						if not empty_or_absent(dd) then
							local failed = dd .. ".pgha-restore-failed-" .. ctx.state.tag
							local ok, err = fs.rename(dd, failed)
							if not ok then return nil, string.format("%s: rename %s: %s", name, dd, tostring(err)) end
							log.warn(string.format("%s: the data directory of the failed restore is kept as %s", name, failed))
						elseif fs.stat(dd) then
							local ok, err = fs.remove(dd)
							if not ok then return nil, string.format("%s: remove empty %s: %s", name, dd, tostring(err)) end
						end
						local ok, err = fs.rename(aside, dd)
						if not ok then return nil, string.format("%s: rename %s back: %s", name, aside, tostring(err)) end
						log.info(string.format("%s: %s put back as %s", name, aside, dd))
					end
				end
			end,
		},
		{
			name = "bootstrap-leader",
			timeout = function(ctx) return ctx.params.timeout end,
			interval = 2,
			check = function(ctx)
				if not ctx.state.nodes then return false, NO_PREFLIGHT end
				local leader = ctx.state.leader
				local dd = ctx.cluster.nodes[leader].data_dir
				local v = pgha.cluster()
				if ctx.state.aside and v and v.leader and v.leader.name == leader then
					return true, leader .. " already leads (a resumed run)"
				end
				if not ctx.dry_run and not empty_or_absent(dd) then
					return false, string.format("%s: the data directory %s is not empty", leader, dd)
				end
				return true, string.format("%s: %s with bootstrap method pitr (pgha restore-backup --backup %s), "
					.. "recovery to %s", leader, restore_file(ctx, leader), ctx.state.backup.dir, target_text(ctx))
			end,
			run = function(ctx)
				local leader = ctx.state.leader
				local v = pgha.cluster()
				if ctx.state.aside and v and v.leader and v.leader.name == leader then return end
				local text, jerr = json.encode(bootstrap_config(ctx))
				if not text then return nil, "json: " .. tostring(jerr) end
				local path = restore_file(ctx, leader)
				local ok, err = fs.write(path, "# Written by pgha run restore " .. ctx.run_id
					.. "; removed when the restore is done. JSON is YAML.\n" .. text .. "\n")
				if not ok then return nil, "write " .. path .. ": " .. tostring(err) end
				log.info("wrote " .. path)
				return exec_node(ctx, leader, "start")
			end,
			verify = function(ctx)
				local leader = ctx.state.leader
				local v, err = pgha.cluster()
				if not v then return false, err end
				if not v.leader or v.leader.name ~= leader then
					local m = v.by_name and v.by_name[leader]
					return false, string.format("waiting for %s to lead (%s)", leader,
						m and tostring(m.state) or "not in /cluster yet")
				end
				local f, ferr = pgha.pg_self(leader)
				if not f then return false, ferr end
				if not f.primary then return false, leader .. " holds the leader lock, still in recovery" end
				local above = math.max(ctx.state.timeline or 0, ctx.state.backup.timeline or 0)
				if (f.timeline or 0) <= above then
					return false, string.format("%s is on timeline %s, waiting for one above %d", leader,
						tostring(f.timeline), above)
				end
				ctx.state.new_timeline = f.timeline
				return true, string.format("%s leads, writable, on timeline %s", leader, tostring(f.timeline))
			end,
			undo = function(ctx)
				local ok, err = exec_node(ctx, ctx.state.leader, "stop")
				if not ok then return nil, err end
				local path = restore_file(ctx, ctx.state.leader)
				if fs.stat(path) then
					local rok, rerr = fs.remove(path)
					if not rok then return nil, "remove " .. path .. ": " .. tostring(rerr) end
				end
				-- the restored cluster's keys, so the old data can take over again
				local prefix = ctx.cluster.namespace:gsub("/+$", "") .. "/" .. ctx.cluster.scope .. "/"
				local n, derr = etcd.delete_prefix(prefix)
				if not n then return nil, "etcd: " .. tostring(derr) end
			end,
		},
		{
			name = "start-replicas",
			timeout = function(ctx) return ctx.params.timeout end,
			interval = 2,
			check = function(ctx)
				if not ctx.state.nodes then return false, NO_PREFLIGHT end
				local others = {}
				for _, name in ipairs(ctx.state.nodes) do
					if name ~= ctx.state.leader then others[#others + 1] = name end
				end
				if #others == 0 then return true, "no other node" end
				return true, "start " .. table.concat(others, ", ") .. ": they clone from " .. ctx.state.leader
			end,
			run = function(ctx)
				for _, name in ipairs(ctx.state.nodes) do
					if name ~= ctx.state.leader then
						local ok, err = exec_node(ctx, name, "start")
						if not ok then return nil, err end
					end
				end
			end,
			verify = converged,
			undo = function(ctx)
				for _, name in ipairs(ctx.state.nodes) do
					if name ~= ctx.state.leader then
						local ok, err = exec_node(ctx, name, "stop")
						if not ok then return nil, err end
					end
				end
			end,
		},
		{
			name = "dcs-config",
			timeout = 20,
			when = function(ctx)
				if not ctx.state.dcs_config then return false, "the configuration was not read in the pre-flight" end
				return true, "the DCS configuration as it was before the restore (bootstrap.dcs of the restore)"
			end,
			-- a warning, never a failure: the restore is done, and a
			-- failure here would roll it back
			verify = function(ctx)
				local want = recorded_dcs(ctx)
				local now, err = patroni.config()
				if not now then
					log.warn("GET /config: " .. tostring(err) .. "; compare the configuration by hand with: " .. ctx.state.dcs_config)
					return true, "not compared"
				end
				local diff = {}
				subset_diff(want or {}, now, "", diff)
				if #diff > 0 then
					log.warn("the DCS configuration differs from the one before the restore: " .. table.concat(diff, ", ")
						.. "; it was: " .. ctx.state.dcs_config)
					return true, "differs: " .. table.concat(diff, ", ")
				end
				return true, "the DCS configuration is the one before the restore"
			end,
		},
		{
			name = "cleanup",
			timeout = 30,
			run = function(ctx)
				local path = restore_file(ctx, ctx.state.leader)
				if fs.stat(path) then
					local ok, err = fs.remove(path)
					if not ok then return nil, "remove " .. path .. ": " .. tostring(err) end
					log.info("removed " .. path .. " (the bootstrap method is out of the configuration)")
				end
			end,
			verify = function(ctx)
				if fs.stat(restore_file(ctx, ctx.state.leader)) then return false, "still there" end
				return true, "no bootstrap method left in " .. ctx.cluster.nodes[ctx.state.leader].config_dir
			end,
		},
		{
			name = "report",
			timeout = 30,
			verify = function(ctx)
				-- the timeline switch, as PostgreSQL wrote it into the new
				-- timeline's history file, published by Patroni
				local hist = patroni.get("/history", ctx.state.leader)
				-- its last entry is the switch into the current timeline (the
				-- parent is not always the one below: a target on an older
				-- timeline of the path)
				local last
				if type(hist) == "table" and #hist > 0 and type(hist[#hist]) == "table" then
					local e = hist[#hist]
					if math.type(e[1]) == "integer" and (ctx.state.new_timeline == nil or e[1] < ctx.state.new_timeline) then
						last = e
					end
				end
				if not last then
					-- never fail here: that would roll back a finished restore
					ctx.state.t_report = ctx.state.t_report or time.now()
					if time.now() - ctx.state.t_report < 20 then
						return false, "waiting for Patroni to publish the new timeline's history"
					end
					log.warn("Patroni did not publish the new timeline's history (GET /history); "
						.. "see the new leader's PostgreSQL log for \"recovery stopping\"")
					return true, "restored; stop point not published"
				end
				if math.type(last[2]) == "integer" then
					last[2] = string.format("%X/%X", last[2] >> 32, last[2] & 0xFFFFFFFF)
				end
				ctx.state.switch_lsn = last[2]
				ctx.state.stop_reason = last[3]
				log.info(string.format("restored backup %s to %s: %s leads on timeline %s; recovery stopped on "
					.. "timeline %s at LSN %s (%s: %s); old data directories kept as *.pgha-restore-%s",
					ctx.state.backup.id, target_text(ctx), ctx.state.leader, tostring(ctx.state.new_timeline),
					tostring(last[1]), tostring(last[2]), "PostgreSQL's reason", tostring(last[3]), ctx.state.tag))
				return true, "recovery ended: " .. tostring(last[3])
			end,
		},
	},
}
