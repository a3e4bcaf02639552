-- backup.lua: a verified base backup of the cluster, then retention.
--
-- pg_basebackup (-X stream, a SHA-256 manifest, fast checkpoint) from the
-- healthy replica with the least replay lag (the leader only when asked),
-- into a hidden work directory of the backup directory that is renamed to
-- the backup's id (its UTC start, YYYYMMDDTHHMMSSZ) once pg_basebackup has
-- succeeded. backup.json (docs/backup-format.md) is written then with
-- verified=false, and rewritten with verified=true once pg_verifybackup
-- has checked the backup (tar format: extracted into a scratch directory
-- first, PostgreSQL 15's pg_verifybackup reads only plain backups). Then
-- the leader switches WAL so that the backup's last segment reaches the
-- archive, old backups go (age and a minimum count of good ones; the only
-- good one never), and the WAL archive is trimmed below the oldest kept
-- good backup's start.
--
-- Credentials: pg_basebackup needs a role with REPLICATION; the cluster
-- file's [postgresql] user is a monitoring role. The role is the `user`
-- parameter (default "replicator", Patroni's usual replication role); its
-- password comes from libpq's own sources: the `passfile` parameter
-- (passed as PGPASSFILE through env(1)), else pgha's environment
-- (PGPASSFILE, ~/.pgpass). Never on the command line.

local pgha = require "pgha"

local COMPRESS = { none = true, gzip = true, lz4 = true, zstd = true }
local LEVELS = { gzip = { 1, 9 }, lz4 = { 1, 12 }, zstd = { 1, 22 } }
local ID_PAT = "^%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ$"
local DAY = 86400

local function backup_dir(ctx)
	return ctx.params.dir or (ctx.cluster and ctx.cluster.backup_dir)
end

local function archive_dir(ctx)
	return ctx.cluster and ctx.cluster.archive_dir
end

-- The replication role and its password file: the parameters, else the
-- cluster file's [backup] user/passfile when the engine passes them on
-- (ctx.cluster.backup_user, backup_passfile), else "replicator" and
-- libpq's own sources (PGPASSFILE, ~/.pgpass).
local function repl_user(ctx)
	return ctx.params.user or (ctx.cluster and ctx.cluster.backup_user) or "replicator"
end

local function repl_passfile(ctx)
	return ctx.params.passfile or (ctx.cluster and ctx.cluster.backup_passfile)
end

-- The PostgreSQL binaries of the server's major version (Debian layout).
local function bindir(ctx, version_num)
	if ctx.params.bindir then return ctx.params.bindir end
	return string.format("/usr/lib/postgresql/%d/bin", (version_num or 150000) // 10000)
end

-- A path we may rm -rf: directly in the backup directory, named as a
-- backup, its work directory or its scratch directory.
local function removable(ctx, path)
	local dir = backup_dir(ctx)
	if type(path) ~= "string" or not dir then return false end
	local base = path:match("^(.*)/[^/]+$")
	local name = path:match("([^/]+)$")
	if base ~= dir:gsub("/+$", "") or path:find("/%.%.?/") or path:find("/%.%.?$") then return false end
	return name:match(ID_PAT) ~= nil or name:match("^%.tmp%-%d+T%d+Z$") ~= nil
		or name:match("^%.verify%-%d+T%d+Z$") ~= nil
end

local function rm_rf(ctx, path)
	if not removable(ctx, path) then
		error(string.format("refusing to remove %q: not a backup, work or scratch directory of %q", tostring(path),
			tostring(backup_dir(ctx))))
	end
	if not fs.stat(path) then return true end
	local r, err = exec.run({ "rm", "-rf", "--one-file-system", "--", path }, { timeout = 600 })
	if not r then return nil, "rm -rf " .. path .. ": " .. tostring(err) end
	if r.code ~= 0 then return nil, "rm -rf " .. path .. ": " .. (r.stderr or "") end
	return true
end

-- Give path (recursively) the owner and group of ref, so that a backup
-- taken by root belongs to whoever owns the backup directory (e.g. the
-- postgres user, who restores it). A failure is only a warning.
local function same_owner(ref, path, recursive)
	if not ref or ref == "" then return end
	local argv = { "chown" }
	if recursive then argv[#argv + 1] = "-R" end
	argv[#argv + 1] = "--reference=" .. ref
	argv[#argv + 1] = "--"
	argv[#argv + 1] = path
	local r, err = exec.run(argv, { timeout = 120 })
	if not r or r.code ~= 0 then
		log.warn(string.format("could not give %s the owner of %s: %s", path, ref,
			r and (r.stderr or ""):gsub("%s+$", "") or tostring(err)))
	end
end

-- Free bytes on the file system of dir, or of its nearest existing parent.
local function free_space(dir)
	local p = dir
	while p and p ~= "" do
		local st = fs.stat(p)
		if st and st.type == "dir" then
			local avail, err = fs.free(p)
			return avail, err, p
		end
		p = p:match("^(.*)/[^/]*$")
	end
	return fs.free("/"), nil, "/"
end

-- The pg_basebackup argv (PGPASSFILE through env(1) when given).
local function basebackup_argv(ctx, s)
	local p = ctx.params
	local argv = {}
	if repl_passfile(ctx) then
		argv[#argv + 1] = "/usr/bin/env"
		argv[#argv + 1] = "PGPASSFILE=" .. repl_passfile(ctx)
	end
	for _, a in ipairs {
		s.bindir .. "/pg_basebackup", "-h", s.host, "-p", tostring(s.port), "-U", repl_user(ctx), "-w",
		"-D", s.work_data, "-X", "stream", "--checkpoint=fast", "--manifest-checksums=SHA256",
		"--label", "pgha-" .. s.id,
	} do argv[#argv + 1] = a end
	if p.compress == "none" then
		argv[#argv + 1] = "-Fp"
	else
		argv[#argv + 1] = "-Ft"
		argv[#argv + 1] = "--compress=client-" .. p.compress .. (p.level and (":" .. p.level) or "")
	end
	return argv
end

-- Pick or vet the source node. Returns a plan or nil and why.
local function assess(ctx)
	local p = ctx.params
	local v, err = pgha.cluster()
	if not v then return nil, err end
	if #v.leaders ~= 1 then
		return nil, string.format("the cluster has %d leaders in the DCS; a backup needs exactly one", #v.leaders)
	end
	local leader = v.leader.name
	local lf, lerr = pgha.pg_self(leader)
	if not lf then return nil, "leader " .. lerr end
	if not lf.primary then return nil, "leader " .. leader .. " does not answer as a writable primary" end
	local rep, rerr = pgha.replication(leader)
	if not rep then return nil, rerr end

	local function fitness(name)
		local m = v.by_name[name]
		if not m then
			return nil, string.format("%s is not a member (members: %s)", name, table.concat(pgha.member_names(v), ", "))
		end
		if not ctx.cluster.nodes[name] then return nil, name .. " has no [node " .. name .. "] in the cluster file" end
		if name == leader then
			if not p.allow_leader then
				return nil, name .. " is the leader: pass allow_leader=true to back up from it"
			end
			return { name = name, lag = 0, leader = true }
		end
		if not pgha.is_replica_role(m.role) then return nil, name .. " is not a replica (" .. tostring(m.role) .. ")" end
		local r = rep[name]
		if not r or r.state ~= "streaming" then
			return nil, string.format("%s is not streaming from %s (%s)", name, leader, r and tostring(r.state) or "not connected")
		end
		local f, ferr = pgha.pg_self(name)
		if not f then return nil, ferr end
		if f.primary then return nil, name .. " answers as a primary" end
		if f.receiver ~= "streaming" then
			return nil, name .. ": its WAL receiver is " .. tostring(f.receiver)
		end
		return { name = name, lag = r.replay_lag or 0 }
	end

	local chosen
	if p.node then
		local f, why = fitness(p.node)
		if not f then return nil, "node " .. why end
		chosen = f
	else
		local reasons = {}
		for _, m in ipairs(v.replicas) do
			local f, why = fitness(m.name)
			if f then
				if not chosen or f.lag < chosen.lag or (f.lag == chosen.lag and f.name < chosen.name) then chosen = f end
			else
				reasons[#reasons + 1] = why
			end
		end
		if not chosen then
			return nil, "no healthy replica to back up from: " .. (#reasons > 0 and table.concat(reasons, "; ") or "the cluster has no replica")
				.. " (name the leader with node=" .. leader .. " allow_leader=true to back up from it)"
		end
	end
	return { leader = leader, node = chosen.name, lag = chosen.lag, from_leader = chosen.leader == true }
end

-- What retention would remove: { {path, why}, ... } and a summary.
local function retention_plan(ctx)
	local p = ctx.params
	local dir = backup_dir(ctx)
	local list = {}
	if not fs.stat(dir) then return list end
	local backups = fs.backups(dir) or {}
	local now = time.now()
	local cutoff = now - p.retention_days * DAY
	local keep_min = math.max(p.keep_min, 1)
	local good = {}
	for _, b in ipairs(backups) do if b.good then good[#good + 1] = b end end
	-- newest first
	table.sort(good, function(a, b) return a.id > b.id end)
	local keep = {}
	for i = 1, math.min(keep_min, #good) do keep[good[i].id] = true end
	for _, b in ipairs(backups) do
		local ts = b.finished_ts or b.started_ts or 0
		if b.id == ctx.state.id or keep[b.id] then
			-- kept
		elseif b.good then
			if ts < cutoff then
				list[#list + 1] = { path = dir .. "/" .. b.id, id = b.id,
					why = string.format("good, finished %s, older than %d days", pgha.iso8601(ts), p.retention_days) }
			end
		elseif (b.started_ts or now) < now - DAY then
			list[#list + 1] = { path = dir .. "/" .. b.id, id = b.id, why = "bad (" .. tostring(b.why) .. "), over a day old" }
		end
	end
	for _, name in ipairs(fs.list(dir) or {}) do
		local id = name:match("^%.tmp%-(%d+T%d+Z)$") or name:match("^%.verify%-(%d+T%d+Z)$")
		if id and id ~= ctx.state.id then
			local st = fs.stat(dir .. "/" .. name)
			if st and st.mtime and st.mtime < now - DAY then
				list[#list + 1] = { path = dir .. "/" .. name, why = "unfinished work directory, over a day old" }
			end
		end
	end
	return list
end

-- The oldest good backup that retention keeps, or nil. The cluster file's
-- backup directory counts too when dir= names another one: the archive is
-- shared, and its backups need their WAL as well.
local function oldest_kept(ctx)
	local gone = {}
	for _, e in ipairs(ctx.state.removed or retention_plan(ctx)) do gone[e.path] = true end
	local oldest
	local dirs = { backup_dir(ctx) }
	if ctx.cluster and ctx.cluster.backup_dir and ctx.cluster.backup_dir ~= dirs[1] then
		dirs[2] = ctx.cluster.backup_dir
	end
	for _, dir in ipairs(dirs) do
		if fs.stat(dir) then
			for _, b in ipairs(fs.backups(dir) or {}) do
				if b.good and not gone[dir .. "/" .. b.id] and type(b.start_wal) == "string" then
					if not oldest or b.start_wal:sub(9) < oldest.start_wal:sub(9) then oldest = b end
					break
				end
			end
		end
	end
	return oldest
end

-- Archived WAL segments strictly before start_wal (pg_archivecleanup's
-- rule: the timeline is not compared), and the count.
local function archive_older(ctx, start_wal)
	local adir = archive_dir(ctx)
	if not adir or not start_wal then return 0 end
	local n, first = 0, nil
	local key = start_wal:sub(9)
	for _, name in ipairs(fs.list(adir) or {}) do
		-- what pg_archivecleanup removes: segments and .partial segments
		local seg = name:match("^%x%x%x%x%x%x%x%x(%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x)$")
			or name:match("^%x%x%x%x%x%x%x%x(%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x)%.partial$")
		if seg and seg < key then
			n = n + 1
			if not first or name < first then first = name end
		end
	end
	return n, first
end

local function write_json(path, doc)
	local text, err = json.encode(doc)
	if not text then return nil, "backup.json: " .. tostring(err) end
	return fs.write(path, text .. "\n")
end

local function take_backup(ctx)
	local p, s = ctx.params, ctx.state
	-- a run cut short earlier: start again from scratch
	if s.work then
		local ok, err = rm_rf(ctx, s.work)
		if not ok then return nil, err end
	end
	local created = not fs.stat(s.dir)
	local ok, err = fs.mkdir(s.dir)
	if not ok then return nil, "mkdir " .. s.dir .. ": " .. tostring(err) end
	if created then same_owner(s.dir:match("^(.*)/[^/]+$"), s.dir, false) end
	local t0 = time.now()
	local id = pgha.backup_id(t0)
	if fs.stat(s.dir .. "/" .. id) or fs.stat(s.dir .. "/.tmp-" .. id) then
		time.sleep(1.05)
		t0 = time.now()
		id = pgha.backup_id(t0)
	end
	s.id, s.started, s.work = id, t0, s.dir .. "/.tmp-" .. id
	s.final = s.dir .. "/" .. id
	s.layout = p.compress == "none" and "plain" or "tar"
	s.work_data = s.layout == "plain" and (s.work .. "/data") or s.work
	ok, err = fs.mkdir(s.work)
	if not ok then return nil, "mkdir " .. s.work .. ": " .. tostring(err) end
	local argv = basebackup_argv(ctx, s)
	log.info(string.format("backup %s: pg_basebackup from %s (%s:%s) as %s into %s (%s)", id, s.node, s.host,
		tostring(s.port), repl_user(ctx), s.work, s.layout == "plain" and "plain" or ("tar, " .. p.compress)))
	local r, rerr = exec.run(argv, { timeout = p.timeout })
	local t1 = time.now()
	if not r then return nil, "pg_basebackup: " .. tostring(rerr) end
	if r.code ~= 0 then
		return nil, string.format("pg_basebackup exited with %s: %s", tostring(r.code or ("signal " .. tostring(r.signal))),
			(r.stderr or ""):gsub("%s+$", ""))
	end
	s.bb_seconds = t1 - t0
	ok, err = fs.rename(s.work, s.final)
	if not ok then return nil, "rename " .. s.work .. " -> " .. s.final .. ": " .. tostring(err) end
	s.work = nil
	same_owner(s.dir, s.final, true)

	-- what the backup is
	local mpath = s.layout == "plain" and (s.final .. "/data/backup_manifest") or (s.final .. "/backup_manifest")
	local mtext, merr = fs.read(mpath, 1024 * 1024 * 1024)
	if not mtext then return nil, "backup_manifest: " .. tostring(merr) end
	local m, jerr = json.decode(mtext)
	if type(m) ~= "table" then return nil, "backup_manifest: " .. tostring(jerr) end
	local ranges = m["WAL-Ranges"]
	if type(ranges) ~= "table" or #ranges == 0 then return nil, "backup_manifest has no WAL-Ranges" end
	local first, last = ranges[1], ranges[#ranges]
	s.timeline = last.Timeline
	s.start_lsn, s.stop_lsn = first["Start-LSN"], last["End-LSN"]
	s.start_wal = pgha.wal_name(first.Timeline, s.start_lsn)
	s.stop_wal = pgha.wal_name(last.Timeline, s.stop_lsn)
	local n_manifest = type(m.Files) == "table" and #m.Files or 0
	local sysrow, serr = pg.query(s.node, "SELECT system_identifier::text AS sysid FROM pg_control_system()")
	if not sysrow then log.warn("system identifier: " .. tostring(serr)) end

	local files, total = {}, 0
	if s.layout == "tar" then
		-- PostgreSQL 15 compresses pg_wal.tar with gzip only
		s.tars = {}
		for _, name in ipairs(fs.list(s.final) or {}) do
			if name:match("^base%.tar") or name:match("^pg_wal%.tar") then s.tars[#s.tars + 1] = name end
		end
		if not s.tars[1] or not s.tars[1]:match("^base%.tar") or not (s.tars[2] or ""):match("^pg_wal%.tar") then
			return nil, "pg_basebackup wrote no base.tar and pg_wal.tar (found: " .. table.concat(fs.list(s.final) or {}, ", ") .. ")"
		end
		for _, name in ipairs { s.tars[1], s.tars[2], "backup_manifest" } do
			local st = fs.stat(s.final .. "/" .. name)
			if not st or st.type ~= "file" then return nil, "pg_basebackup wrote no " .. name end
			local sum, herr = fs.sha256(s.final .. "/" .. name)
			if not sum then return nil, "sha256 of " .. name .. ": " .. tostring(herr) end
			files[#files + 1] = { name = name, size = st.size, sha256 = sum }
			total = total + st.size
		end
	else
		local st = fs.stat(mpath)
		local sum, herr = fs.sha256(mpath)
		if not sum then return nil, "sha256 of backup_manifest: " .. tostring(herr) end
		files[1] = { name = "data/backup_manifest", size = st.size, sha256 = sum }
		total = fs.du(s.final) or st.size
	end
	s.size = total
	s.finished = time.now()
	s.doc = {
		format = 1, id = id, scope = ctx.cluster.scope, node = s.node,
		system_identifier = sysrow and sysrow[1].sysid or nil,
		server_version = s.server_version, timeline = s.timeline,
		start_lsn = s.start_lsn, stop_lsn = s.stop_lsn, start_wal = s.start_wal, stop_wal = s.stop_wal,
		started_at = pgha.iso8601(s.started), finished_at = pgha.iso8601(s.finished),
		size_bytes = total, layout = s.layout,
		compression = { method = p.compress, level = p.level },
		files = files, manifest_files = n_manifest,
		verified = false,
		runbook = { name = "backup", version = "1.0.0", run = ctx.run_id },
	}
	ok, err = write_json(s.final .. "/backup.json", s.doc)
	if not ok then return nil, err end
	same_owner(s.final, s.final .. "/backup.json", false)
	local mb = total / 1048576
	log.info(string.format("backup %s: %s in %s (%.1f MB/s) from %s, timeline %d, WAL %s .. %s, in %s",
		id, pgha.bytes(total), pgha.seconds(s.bb_seconds), mb / math.max(s.bb_seconds, 0.001), s.node,
		s.timeline, s.start_wal, s.stop_wal, s.final))
end

return runbook {
	name = "backup",
	version = "1.0.0",
	summary = "verified base backup from the healthiest replica, then retention and WAL archive trimming",
	params = {
		node = { type = "string", help = "member to back up from (default: the healthy replica with the least replay lag)",
			check = function(v) return v:match("^[%w_.-]+$") ~= nil, "not a member name" end },
		allow_leader = { type = "boolean", default = false, help = "allow backing up from the leader" },
		dir = { type = "string", help = "backup directory (default: the cluster file's [backup] dir)",
			check = function(v) return v:match("^/") ~= nil and not v:find("/%.%.?/") and not v:find("/%.%.?$"), "not an absolute path" end },
		compress = { type = "string", default = "gzip", help = "none (plain format), gzip, lz4 or zstd (tar format)",
			check = function(v) return COMPRESS[v] == true, "not one of none, gzip, lz4, zstd" end },
		level = { type = "integer", help = "compression level (gzip 1-9, lz4 1-12, zstd 1-22)",
			check = function(v) return v >= 1 and v <= 22, "not a compression level (1-22)" end },
		retention_days = { type = "integer", default = 7, help = "remove good backups older than this many days",
			check = function(v) return v >= 0, "negative" end },
		keep_min = { type = "integer", default = 2, help = "always keep this many of the newest good backups (at least 1)",
			check = function(v) return v >= 0, "negative" end },
		user = { type = "string", help = "PostgreSQL role with REPLICATION for pg_basebackup (default: [backup] user, else replicator)",
			check = function(v) return v:match("^[%w_.-]+$") ~= nil, "not a role name" end },
		passfile = { type = "string", help = "libpq password file for that role (default: [backup] passfile, else PGPASSFILE or ~/.pgpass)",
			check = function(v) return v:match("^/[%w_./+-]+$") ~= nil, "not an absolute path of plain characters" end },
		bindir = { type = "string", help = "PostgreSQL binaries (default /usr/lib/postgresql/MAJOR/bin of the source)",
			check = function(v) return v:match("^/[%w_./+-]+$") ~= nil, "not an absolute path of plain characters" end },
		trim_archive = { type = "boolean", default = true, help = "remove archived WAL older than the oldest kept good backup" },
		timeout = { type = "duration", default = "1h", help = "time allowed for pg_basebackup, and for the verification" },
	},
	steps = {
		{
			name = "preflight",
			timeout = 60,
			check = function(ctx)
				local p = ctx.params
				if not ctx.cluster then return false, "no cluster file: pass -c CLUSTERFILE" end
				local dir = backup_dir(ctx)
				if not dir then return false, "no backup directory: set [backup] dir in the cluster file or pass dir=" end
				if p.level and p.compress == "none" then return false, "level= needs compress=gzip, lz4 or zstd" end
				if p.level then
					local lim = LEVELS[p.compress]
					if p.level < lim[1] or p.level > lim[2] then
						return false, string.format("level %d is out of range for %s (%d-%d)", p.level, p.compress, lim[1], lim[2])
					end
				end
				local plan, why = assess(ctx)
				if not plan then return false, why end
				local node = ctx.cluster.nodes[plan.node]
				if not node.host or not node.port then
					return false, "[node " .. plan.node .. "] has no host and port in the cluster file"
				end
				local rows, err = pg.query(plan.node, "SELECT (SELECT sum(pg_database_size(oid)) FROM pg_database)::bigint AS size, "
					.. "current_setting('server_version_num')::int AS version")
				if not rows then return false, err end
				local size, version = rows[1].size, rows[1].version
				local need = size + size // 10
				local avail, ferr, where = free_space(dir)
				if not avail then return false, "free space of " .. dir .. ": " .. tostring(ferr) end
				if avail < need then
					return false, string.format("not enough space in %s (%s): %s free, the databases need %s + 10%% = %s",
						dir, where, pgha.bytes(avail), pgha.bytes(size), pgha.bytes(need))
				end
				local ar, aerr = pg.query(plan.leader, "SELECT archived_count, failed_count, last_archived_wal, "
					.. "last_failed_wal, last_failed_time::text AS last_failed_time, "
					.. "(last_failed_time IS NULL OR (last_archived_time IS NOT NULL AND last_failed_time < last_archived_time)) AS ok, "
					.. "current_setting('archive_mode') AS mode FROM pg_stat_archiver")
				if not ar then return false, aerr end
				local a = ar[1]
				if a.mode == "off" then return false, "archive_mode is off on the leader " .. plan.leader end
				if not a.ok then
					return false, string.format("WAL archiving fails on the leader %s: last failure %s at %s (last archived: %s)",
						plan.leader, tostring(a.last_failed_wal), tostring(a.last_failed_time), tostring(a.last_archived_wal or "none"))
				end
				local bin = bindir(ctx, version)
				for _, tool in ipairs { "pg_basebackup", "pg_verifybackup" } do
					local st = fs.stat(bin .. "/" .. tool)
					if not st or (st.type ~= "file" and st.type ~= "link") then return false, bin .. "/" .. tool .. " not found (bindir=)" end
				end
				local pf = repl_passfile(ctx)
				if pf and not fs.stat(pf) then return false, "passfile " .. pf .. " not found" end
				local lok, lwhy = pgha.lock_free(ctx)
				if not lok then return false, lwhy end
				ctx.state.node = plan.node
				ctx.state.leader = plan.leader
				ctx.state.host = node.host
				ctx.state.port = node.port
				ctx.state.db_size = size
				ctx.state.server_version = version
				ctx.state.bindir = bin
				ctx.state.dir = dir
				return true, string.format("source %s (%s, replay lag %s), leader %s archiving (%d archived, last %s); "
					.. "databases %s, %s free in %s; %s as %s",
					plan.node, plan.from_leader and "the leader" or "streaming replica", pgha.bytes(plan.lag), plan.leader,
					a.archived_count or 0, tostring(a.last_archived_wal or "none"), pgha.bytes(size), pgha.bytes(avail), dir,
					p.compress == "none" and "plain" or ("tar, " .. p.compress .. (p.level and (":" .. p.level) or "")), repl_user(ctx))
			end,
		},
		{
			name = "backup",
			timeout = function(ctx) return ctx.params.timeout + 120 end,
			gate = "Take a base backup with pg_basebackup from the chosen node into the backup directory.",
			check = function(ctx)
				local s = ctx.state
				if not s.node then return false, "no source chosen by the pre-flight" end
				local f, err = pgha.pg_self(s.node)
				if not f then return false, err end
				return true, string.format("pg_basebackup from %s (%s:%s) into %s", s.node, s.host, tostring(s.port), s.dir)
			end,
			run = function(ctx)
				-- the engine undoes a step only when its run succeeded: a
				-- failed attempt cleans up after itself here
				local ok, a, b = pcall(take_backup, ctx)
				if ok and a ~= nil and a ~= false then return end
				if ok and a == nil and b == nil then return end
				local why = ok and b or a
				if not ok and tostring(a):match("interrupted by signal") then error(a, 0) end
				local s = ctx.state
				for _, path in ipairs { s.work or false, (s.final and not s.verified) and s.final or false } do
					if path and fs.stat(path) then
						local rok, rerr = rm_rf(ctx, path)
						if rok then log.info("removed " .. path) else log.warn(rerr) end
					end
				end
				s.work, s.final = nil, nil
				if ok then return nil, tostring(why) end
				error(why, 0)
			end,
			-- a failed or unverified backup goes; a verified one stays
			undo = function(ctx)
				local s = ctx.state
				if s.work then
					local ok, err = rm_rf(ctx, s.work)
					if not ok then return nil, err end
					s.work = nil
				end
				if s.final and not s.verified then
					local ok, err = rm_rf(ctx, s.final)
					if not ok then return nil, err end
					log.info("removed the unverified backup " .. s.final)
				end
			end,
		},
		{
			name = "verify-backup",
			timeout = function(ctx) return ctx.params.timeout + 60 end,
			check = function(ctx)
				local s = ctx.state
				if ctx.dry_run and not s.final then return true, "pg_verifybackup on the new backup" end
				if not s.final or not fs.stat(s.final .. "/backup.json") then return false, "no backup to verify" end
				if s.layout == "tar" then
					local avail = free_space(s.dir)
					local need = s.db_size or 0
					if avail and avail < need then
						return false, string.format("not enough space to extract the backup for verification: %s free, %s needed",
							pgha.bytes(avail), pgha.bytes(need))
					end
					return true, "extract into " .. s.dir .. "/.verify-" .. s.id .. " and run pg_verifybackup"
				end
				return true, "pg_verifybackup " .. s.final .. "/data"
			end,
			run = function(ctx)
				local p, s = ctx.params, ctx.state
				local t0 = time.now()
				local verify = s.bindir .. "/pg_verifybackup"
				local method
				local r, err
				if s.layout == "plain" then
					method = "pg_verifybackup"
					r, err = exec.run({ verify, s.final .. "/data" }, { timeout = p.timeout })
				else
					method = "extract+pg_verifybackup"
					local scratch = s.dir .. "/.verify-" .. s.id
					local ok, rerr = rm_rf(ctx, scratch)
					if not ok then return nil, rerr end
					ok, rerr = fs.mkdir(scratch .. "/pg_wal")
					if not ok then return nil, "mkdir " .. scratch .. ": " .. tostring(rerr) end
					for _, x in ipairs { { s.tars[1], scratch }, { s.tars[2], scratch .. "/pg_wal" } } do
						-- GNU tar 1.34 detects gzip and zstd on read, not lz4: say it
						local argv = { "tar" }
						if x[1]:match("%.lz4$") then
							argv[#argv + 1] = "-I"
							argv[#argv + 1] = "lz4"
						elseif x[1]:match("%.zst$") then
							argv[#argv + 1] = "--zstd"
						elseif x[1]:match("%.gz$") then
							argv[#argv + 1] = "-z"
						end
						for _, a in ipairs { "-xf", s.final .. "/" .. x[1], "-C", x[2] } do argv[#argv + 1] = a end
						local tr, terr = exec.run(argv, { timeout = p.timeout })
						if not tr or tr.code ~= 0 then
							rm_rf(ctx, scratch)
							return nil, "tar -xf " .. x[1] .. ": " .. (tr and (tr.stderr or ""):gsub("%s+$", "") or tostring(terr))
						end
					end
					r, err = exec.run({ verify, "-m", s.final .. "/backup_manifest", scratch }, { timeout = p.timeout })
					local ok2, rerr2 = rm_rf(ctx, scratch)
					if not ok2 then log.warn(rerr2) end
				end
				if not r then return nil, "pg_verifybackup: " .. tostring(err) end
				if r.code ~= 0 then
					return nil, "pg_verifybackup found problems: " .. ((r.stderr or "") .. (r.stdout or "")):gsub("%s+$", "")
				end
				s.doc.verified = true
				s.doc.verified_at = pgha.iso8601(time.now())
				s.doc.verify_method = method
				local ok, werr = write_json(s.final .. "/backup.json", s.doc)
				if not ok then return nil, werr end
				same_owner(s.final, s.final .. "/backup.json", false)
				s.verified = true
				log.info(string.format("backup %s verified (%s) in %s: %s", s.id, method, pgha.seconds(time.now() - t0),
					(r.stdout or ""):gsub("%s+$", "")))
			end,
			verify = function(ctx)
				for _, b in ipairs(fs.backups(ctx.state.dir) or {}) do
					if b.id == ctx.state.id then
						if b.good then return true, "backup " .. b.id .. " is good" end
						return false, "backup " .. b.id .. " is bad: " .. tostring(b.why)
					end
				end
				return false, "backup " .. tostring(ctx.state.id) .. " not found"
			end,
			-- the backup step's undo decides what happens to the backup
			undo = function() end,
		},
		{
			-- the backup's last segment must reach the archive for the
			-- archive to be continuous from its start (check_pgha_backup)
			name = "archive-wal",
			timeout = 90,
			check = function(ctx)
				if not archive_dir(ctx) then return true, "no [backup] archive_dir: nothing to watch" end
				return true, "pg_switch_wal() on the leader, then wait for the backup's WAL in " .. archive_dir(ctx)
			end,
			run = function(ctx)
				local s = ctx.state
				local rows, err = pg.exec(s.leader, "SELECT pg_switch_wal()::text AS lsn")
				s.switch_t = time.now()
				if rows then
					s.switched = true
					log.info("switched WAL on the leader " .. s.leader .. " at " .. tostring(rows[1].lsn))
				else
					s.switched = false
					log.warn("could not switch WAL on the leader (" .. tostring(err) .. "); the backup's last segment "
						.. tostring(s.stop_wal) .. " is archived when the leader fills or switches it (archive_timeout); "
						.. "to switch at once, GRANT EXECUTE ON FUNCTION pg_switch_wal() TO the cluster file's user")
				end
			end,
			verify = function(ctx)
				local s = ctx.state
				local adir = archive_dir(ctx)
				if not adir or not s.switched then return true, "not waited for" end
				local cov = fs.wal_coverage(adir, s.start_wal)
				if not cov then return false, "archive not readable" end
				if cov.ok and cov.last and cov.last:sub(9) >= s.stop_wal:sub(9) then
					return true, string.format("archive continuous from %s to %s", s.start_wal, cov.last)
				end
				local why = string.format("%s not in the archive yet (%s)", s.stop_wal, tostring(cov.why or cov.last))
				-- the backup itself is good: a slow archiver is reported, not a failure
				if time.now() - (s.switch_t or 0) > 60 then
					log.warn(why .. " after 60 s: check the archiver (check_pgha_archiver)")
					return true, why
				end
				return false, "waiting: " .. why
			end,
			undo = function() end,
		},
		{
			name = "retention",
			timeout = 600,
			gate = "Remove the old backups listed above (retention).",
			when = function(ctx)
				local list = retention_plan(ctx)
				if #list == 0 then
					return false, string.format("no backup to remove (retention %d days, keep at least %d good)",
						ctx.params.retention_days, math.max(ctx.params.keep_min, 1))
				end
				return true, string.format("%d to remove", #list)
			end,
			check = function(ctx)
				local list = retention_plan(ctx)
				for _, e in ipairs(list) do log.info("retention: remove " .. e.path .. ": " .. e.why) end
				return true, string.format("%d to remove: %s", #list, (function()
					local n = {}
					for _, e in ipairs(list) do n[#n + 1] = e.path:match("([^/]+)$") end
					return table.concat(n, ", ")
				end)())
			end,
			run = function(ctx)
				local list = retention_plan(ctx)
				ctx.state.removed = {}
				for _, e in ipairs(list) do
					local ok, err = rm_rf(ctx, e.path)
					if not ok then return nil, err end
					ctx.state.removed[#ctx.state.removed + 1] = { path = e.path }
					log.info("removed " .. e.path .. " (" .. e.why .. ")")
				end
			end,
			-- removed backups cannot come back; nothing to put back
			undo = function() end,
		},
		{
			name = "trim-archive",
			timeout = 600,
			gate = { text = "Remove archived WAL older than the oldest kept good backup's start (pg_archivecleanup); "
				.. "point-in-time recovery before that backup becomes impossible. Type the cluster's scope",
				type_word = function(ctx) return ctx.cluster.scope end },
			when = function(ctx)
				if not ctx.params.trim_archive then return false, "trim_archive=false" end
				if not archive_dir(ctx) then return false, "no [backup] archive_dir" end
				local b = oldest_kept(ctx)
				if not b then return false, "no good backup: the archive is kept whole" end
				local n = archive_older(ctx, b.start_wal)
				if n == 0 then return false, "nothing archived before " .. b.start_wal .. " (backup " .. b.id .. ")" end
				return true, string.format("%d segments before %s (backup %s)", n, b.start_wal, b.id)
			end,
			check = function(ctx)
				local b = oldest_kept(ctx)
				if not b then return false, "no good backup" end
				local n, first = archive_older(ctx, b.start_wal)
				ctx.state.trim_to = b.start_wal
				return true, string.format("pg_archivecleanup %s %s: %d segments (%s ..) before backup %s",
					archive_dir(ctx), b.start_wal, n, tostring(first), b.id)
			end,
			run = function(ctx)
				local s = ctx.state
				local b = oldest_kept(ctx)
				if not b then return nil, "no good backup any more" end
				local before = archive_older(ctx, b.start_wal)
				local r, err = exec.run({ s.bindir .. "/pg_archivecleanup", archive_dir(ctx), b.start_wal }, { timeout = 600 })
				if not r then return nil, "pg_archivecleanup: " .. tostring(err) end
				if r.code ~= 0 then return nil, "pg_archivecleanup: " .. (r.stderr or ""):gsub("%s+$", "") end
				local after = archive_older(ctx, b.start_wal)
				log.info(string.format("archive trimmed below %s (backup %s): %d segments removed", b.start_wal, b.id, before - after))
			end,
			undo = function() end,
		},
		{
			name = "report",
			timeout = 10,
			run = function(ctx)
				local s = ctx.state
				local total = time.now() - (s.started or time.now())
				log.info(string.format("backup %s done: %s from %s in %s (pg_basebackup %s, %.1f MB/s); %s; verified; WAL from %s",
					tostring(s.id), pgha.bytes(s.size), tostring(s.node), pgha.seconds(total), pgha.seconds(s.bb_seconds or 0),
					(s.size or 0) / 1048576 / math.max(s.bb_seconds or 1, 0.001), tostring(s.final), tostring(s.start_wal)))
			end,
		},
	},
}
