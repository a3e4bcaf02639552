-- failover.lua: promote a replica of a cluster that has lost its leader.
--
-- Replaces the seed's `manual-failover.sh --failover --force`. For a
-- cluster without a healthy leader (or, with force=true, with an
-- unhealthy one): show for every candidate how far behind the last leader
-- position known to the DCS it is, which is the committed data that
-- choosing it would lose; pick the most advanced healthy replica unless
-- one is named; a gate that asks for the cluster scope to be typed; POST
-- /failover; verify as a switchover does; then bring the old leader back
-- as a replica (its start command from the cluster file, pg_rewind done
-- by Patroni) or, gated, reinitialise it. More than one node answering as
-- primary at any point stops the runbook (split brain).

local pgha = require "pgha"

-- The last leader LSN Patroni wrote into the DCS (/status "optime",
-- bytes), or nil and why.
local function last_leader_lsn(ctx)
	local key = ctx.cluster.namespace .. "/" .. ctx.cluster.scope .. "/status"
	local value, err = etcd.get(key)
	if value == nil then return nil, err end
	if value == false then
		-- Patroni before 2.1 wrote /optime/leader
		value, err = etcd.get(ctx.cluster.namespace .. "/" .. ctx.cluster.scope .. "/optime/leader")
		if not value then return nil, err or "no optime in the DCS" end
		return math.tointeger(tonumber(value))
	end
	local doc = json.decode(value)
	if type(doc) == "table" and doc.optime then return math.tointeger(doc.optime) end
	return nil, "no optime in " .. key
end

local function fmt_lsn(n)
	if not n then return "?" end
	return string.format("%X/%X", n >> 32, n & 0xffffffff)
end

-- Stop at once when two nodes answer as primary.
local function refuse_split_brain(v, extra)
	local prim = pgha.primaries(v, extra)
	if #prim.names > 1 then error(pgha.split_brain_message(prim), 0) end
	return prim
end

local function assess(ctx)
	local p = ctx.params
	local v, err = pgha.cluster()
	if not v then return nil, err end
	local old = v.leader and v.leader.name or nil
	local prim = pgha.primaries(v)
	if #prim.names > 1 then return nil, pgha.split_brain_message(prim) end
	local healthy_leader = old and prim.facts[old] and prim.facts[old].primary and pgha.is_running(v.leader)
	if healthy_leader and not p.force then
		return nil, string.format("leader %s is healthy and writable: use the switchover runbook (or force=true)", old)
	end
	if #prim.names == 1 and prim.names[1] ~= old then
		return nil, string.format("%s already answers as primary: nothing to fail over to", prim.names[1])
	end
	local last, lerr = last_leader_lsn(ctx)
	local cands, lines, reasons = {}, {}, {}
	for _, m in ipairs(v.members) do
		local f = prim.facts[m.name]
		if m.name == old then
			-- not a candidate
		elseif not pgha.is_replica_role(m.role) then
			reasons[#reasons + 1] = m.name .. " is " .. tostring(m.role)
		elseif type(m.tags) == "table" and m.tags.nofailover == true then
			reasons[#reasons + 1] = m.name .. " is tagged nofailover"
		elseif not f then
			reasons[#reasons + 1] = m.name .. ": PostgreSQL does not answer"
		elseif not pgha.patroni_alive(m.name) then
			reasons[#reasons + 1] = m.name .. ": its Patroni does not answer"
		elseif not f.receive_lsn and not f.replay_lsn then
			reasons[#reasons + 1] = m.name .. ": PostgreSQL is not in recovery"
		else
			local rcv, rpl = pgha.lsn(f.receive_lsn), pgha.lsn(f.replay_lsn)
			local pos = math.max(rcv or 0, rpl or 0)
			local c = { name = m.name, receive = rcv, replay = rpl, pos = pos, timeline = f.timeline }
			cands[#cands + 1] = c
			local behind = last and math.max(0, last - pos) or nil
			c.behind = behind
			lines[#lines + 1] = string.format("%s received %s, replayed %s: %s behind the last leader LSN",
				m.name, fmt_lsn(rcv), fmt_lsn(rpl), behind and pgha.bytes(behind) or "?")
		end
	end
	table.sort(cands, function(a, b)
		if a.pos ~= b.pos then return a.pos > b.pos end
		return a.name < b.name
	end)
	local chosen
	if p.candidate then
		for _, c in ipairs(cands) do if c.name == p.candidate then chosen = c end end
		if not chosen then
			return nil, string.format("candidate %s is not a healthy replica (%s)", p.candidate,
				#reasons > 0 and table.concat(reasons, "; ") or "members: " .. table.concat(pgha.member_names(v), ", "))
		end
	else
		chosen = cands[1]
		if not chosen then
			return nil, "no healthy replica to promote: " .. (#reasons > 0 and table.concat(reasons, "; ") or "none")
		end
	end
	local members = {}
	for _, name in ipairs(pgha.member_names(v)) do
		if name ~= old then members[#members + 1] = name end
	end
	return {
		old = old, candidate = chosen.name, timeline = chosen.timeline or 0, members = members,
		last = last, last_err = lerr, lines = lines, behind = chosen.behind,
	}
end

local function want(ctx, with_old)
	local members = {}
	for _, n in ipairs(ctx.state.members) do members[#members + 1] = n end
	if with_old and ctx.state.old then members[#members + 1] = ctx.state.old end
	return { leader = ctx.state.candidate, members = members, after_timeline = ctx.state.timeline,
		max_lag = ctx.state.max_lag }
end

-- The old leader streams from the new one.
local function old_streams(ctx)
	local rep = pgha.replication(ctx.state.candidate)
	local r = rep and rep[ctx.state.old]
	return r ~= nil and r.state == "streaming"
end

return runbook {
	name = "failover",
	version = "1.0.0",
	summary = "promote the most advanced replica of a cluster without a healthy leader (data loss shown, scope typed)",
	params = {
		candidate = { type = "string", help = "member to promote (default: the most advanced healthy replica)",
			check = function(v) return v:match("^[%w_.-]+$") ~= nil, "not a member name" end },
		force = { type = "boolean", default = false, help = "fail over even though the leader looks healthy" },
		timeout = { type = "duration", default = "2min", help = "how long to wait for each stage to converge" },
	},
	steps = {
		{
			name = "assess",
			timeout = 30,
			check = function(ctx)
				local a, why = assess(ctx)
				if not a then return false, why end
				local eok, ewhy = pgha.etcd_ok()
				if not eok then return false, ewhy .. " (Patroni cannot fail over without its DCS)" end
				local lok, lwhy = pgha.lock_free(ctx)
				if not lok then return false, lwhy end
				for _, line in ipairs(a.lines) do log.info("candidate " .. line) end
				if not a.last then log.warn("last leader LSN unknown: " .. tostring(a.last_err)) end
				ctx.state.old = a.old
				ctx.state.candidate = a.candidate
				ctx.state.timeline = a.timeline
				ctx.state.members = a.members
				ctx.state.max_lag = pgha.max_lag_on_failover()
				return true, string.format("leader %s is not healthy; last leader LSN %s; promote %s (%s behind: %s)",
					a.old or "(none)", fmt_lsn(a.last), a.candidate,
					a.behind and pgha.bytes(a.behind) or "?",
					a.behind == 0 and "no known loss" or "committed data may be lost")
			end,
		},
		{
			name = "failover",
			timeout = function(ctx) return math.max(60, ctx.params.timeout) end,
			interval = 0.5,
			gate = {
				text = "FAIL OVER: promote the candidate without its leader's consent. Transactions the candidate "
					.. "has not received are lost for good.",
				type_word = function(ctx) return ctx.cluster.scope end,
			},
			check = function(ctx)
				local v, err = pgha.cluster()
				if not v then return false, err end
				refuse_split_brain(v, { ctx.state.old })
				if v.leader and v.leader.name == ctx.state.candidate then return true, ctx.state.candidate .. " already leads" end
				return true, "promote " .. ctx.state.candidate
			end,
			run = function(ctx)
				local v = pgha.cluster()
				if v and v.leader and v.leader.name == ctx.state.candidate then return end
				ctx.state.t_request = time.now()
				local status, text = patroni.failover { candidate = ctx.state.candidate, member = ctx.state.candidate }
				local msg = type(text) == "string" and text or json.encode(text)
				if not status then
					log.warn("no answer to POST /failover (" .. msg .. "); watching the cluster")
				elseif status == 200 then
					log.info("Patroni: " .. msg)
				elseif status == 503 and msg:match("status unknown") then
					log.warn("Patroni: " .. msg .. ": the failover may still complete; watching the cluster")
				else
					return nil, string.format("Patroni refused the failover (HTTP %d): %s", status, msg)
				end
			end,
			verify = function(ctx)
				local v, err = pgha.cluster()
				if not v then return false, err end
				refuse_split_brain(v, { ctx.state.old })
				if not v.leader or v.leader.name ~= ctx.state.candidate then
					return false, string.format("waiting for %s to lead (leader now: %s)", ctx.state.candidate,
						v.leader and v.leader.name or "none")
				end
				local f, ferr = pgha.pg_self(ctx.state.candidate)
				if not f then return false, ferr end
				if not f.primary then return false, ctx.state.candidate .. " holds the lock, not writable yet" end
				ctx.state.t_writable = ctx.state.t_writable or time.now()
				return true, ctx.state.candidate .. " is the leader and writable"
			end,
		},
		{
			name = "converge",
			timeout = function(ctx) return ctx.params.timeout end,
			interval = 0.25,
			verify = function(ctx)
				local v = pgha.cluster()
				if v then refuse_split_brain(v, { ctx.state.old }) end
				return pgha.converged(want(ctx, false))
			end,
		},
		{
			name = "restart-old-leader",
			when = function(ctx)
				local old = ctx.state.old
				if not old then return false, "there was no old leader" end
				if ctx.state.members == nil then return true, "if the old leader has not come back" end
				if old_streams(ctx) then return false, old .. " already streams from " .. ctx.state.candidate end
				if pgha.patroni_alive(old) then
					return true, "Patroni runs on " .. old .. ": wait for it to stream"
				end
				local node = ctx.cluster.nodes and ctx.cluster.nodes[old]
				if not node or not node.start then
					return false, "no start command for " .. old .. " in the cluster file: start its Patroni by hand"
				end
				return true, "start Patroni on " .. old
			end,
			timeout = function(ctx) return ctx.params.timeout end,
			interval = 0.5,
			gate = { text = "Start Patroni on the old leader: it rejoins as a replica (pg_rewind when its timeline diverged)." },
			run = function(ctx)
				if pgha.patroni_alive(ctx.state.old) then return end
				local node = ctx.cluster.nodes[ctx.state.old]
				local r, err = exec.run(node.start, { timeout = 60 })
				if not r then return nil, "start " .. ctx.state.old .. ": " .. tostring(err) end
				if r.code ~= 0 then
					return nil, string.format("start %s exited with %s: %s", ctx.state.old, tostring(r.code or ("signal " .. tostring(r.signal))),
						(r.stderr or ""):gsub("%s+$", ""):sub(-300))
				end
			end,
			verify = function(ctx)
				local ok, msg = pgha.converged(want(ctx, true))
				ctx.state.rejoined = ok
				return ok, msg
			end,
		},
		{
			name = "reinitialize-old-leader",
			when = function(ctx)
				if not ctx.state.old then return false, "there was no old leader" end
				if ctx.state.members == nil then return true, "if the old leader could not rejoin" end
				if old_streams(ctx) then return false, ctx.state.old .. " streams from " .. ctx.state.candidate end
				local v = pgha.cluster()
				if not (v and v.by_name[ctx.state.old]) then
					return false, ctx.state.old .. " is not in the cluster: start it, then run reinit-replica"
				end
				return true, ctx.state.old .. " does not stream"
			end,
			timeout = function(ctx) return ctx.params.timeout end,
			interval = 0.5,
			gate = { text = "The old leader could not rejoin: reinitialize it (its data directory is wiped and cloned from the new leader)." },
			run = function(ctx)
				local status, text = patroni.reinitialize(ctx.state.old, { force = true })
				if not status then return nil, "reinitialize: " .. tostring(text) end
				if status ~= 200 then
					return nil, string.format("Patroni refused to reinitialize %s (HTTP %d): %s", ctx.state.old, status,
						type(text) == "string" and text or json.encode(text))
				end
			end,
			verify = function(ctx) return pgha.converged(want(ctx, true)) end,
		},
		{
			name = "report",
			timeout = 10,
			run = function(ctx)
				if ctx.state.t_request and ctx.state.t_writable then
					log.info(string.format("%s took writes %s after the failover request",
						ctx.state.candidate, pgha.seconds(ctx.state.t_writable - ctx.state.t_request)))
				end
				log.info(string.format("failover done: %s leads%s", ctx.state.candidate,
					ctx.state.old and (", old leader " .. ctx.state.old .. (old_streams(ctx) and " streams from it" or " is NOT streaming")) or ""))
			end,
		},
	},
}
