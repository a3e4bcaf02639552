-- hosts_write.lua: the mutating functions of the host modules in `run`
-- steps (tests/integration/hosts.t): pg.exec, etcd.delete_prefix, and a
-- real switchover from `from` to `to` through patroni.switchover, verified
-- on /cluster. Facts go to stderr as "hosts: NAME VALUE" lines.
local function say(name, ...)
	local parts = {}
	for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
	log.info("hosts: " .. name .. " " .. table.concat(parts, " "))
end

local function leader()
	local c, err = patroni.cluster()
	if not c then return nil, err end
	for _, m in ipairs(c.members) do
		if m.role == "leader" then return m.name, m end
	end
	return nil, "no leader"
end

return runbook {
	name = "hosts_write",
	version = "1.0.0",
	summary = "test runbook: pg.exec, etcd.delete_prefix, patroni.switchover",
	params = {
		from = { type = "string", default = "", help = "the leader now (empty: no switchover)" },
		to = { type = "string", default = "", help = "the candidate" },
		delete_prefix = { type = "string", default = "", help = "etcd prefix to delete" },
	},
	steps = {
		{
			name = "exec",
			run = function(ctx)
				local l = assert(leader())
				local rows, err = pg.exec(l, "SHOW transaction_read_only")
				say("exec_ro", rows and rows[1].transaction_read_only or err)
				rows, err = pg.exec(l, "CREATE TEMP TABLE hosts_tmp AS SELECT g FROM generate_series(1, 5) g")
				say("exec_temp", rows and rows.command or err, rows and rows.affected)
				rows, err = pg.query(l, "SHOW transaction_read_only")
				say("query_ro", rows and rows[1].transaction_read_only or err)
				if ctx.params.delete_prefix ~= "" then
					say("deleted", etcd.delete_prefix(ctx.params.delete_prefix))
					say("deleted_again", etcd.delete_prefix(ctx.params.delete_prefix))
				end
				local holder, herr = etcd.lock_holder()
				say("lock_in_run", type(holder) == "table" and (holder.run == ctx.run_id and "self" or holder.run)
					or tostring(holder) .. " " .. tostring(herr))
			end,
		},
		{
			name = "switchover",
			check = function(ctx)
				if ctx.params.from == "" then return true, "no switchover asked" end
				local l, err = leader()
				if l ~= ctx.params.from then return false, "leader is " .. tostring(l or err) end
				return true, ctx.params.from .. " leads"
			end,
			gate = "Switch over",
			run = function(ctx)
				if ctx.params.from == "" then return end
				local t0 = time.now()
				local status, text = patroni.switchover { leader = ctx.params.from, candidate = ctx.params.to }
				say("switchover", status, type(text) == "string" and text or json.encode(text),
					string.format("%.1f", time.now() - t0))
				if status ~= 200 and not (status == 503 and tostring(text):match("status unknown")) then
					return nil, "switchover: " .. tostring(status) .. " " .. tostring(text)
				end
			end,
			verify = function(ctx)
				if ctx.params.from == "" then return true end
				local l, m = leader()
				if l == ctx.params.to and m.state == "running" then return true end
				return false, "leader is " .. tostring(l)
			end,
			timeout = 60,
		},
	},
}
