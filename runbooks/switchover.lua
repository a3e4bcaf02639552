-- switchover.lua: a planned change of leader to a healthy replica.
--
-- Replaces the seed's `manual-failover.sh --switchover`. Pre-flight on
-- what PostgreSQL says (not Patroni's DCS figures), one gate, POST
-- /switchover, then wait until the cluster has converged: the candidate
-- leads and takes writes on a new timeline, every other member streams
-- from it with its lag under max_lag, the old leader included. A refused
-- switchover leaves the cluster as it was. Switching back is a new run,
-- never automatic.

local pgha = require "pgha"

local function candidate_name(ctx)
	return ctx.params.candidate or ctx.state.candidate
end

-- Pick or vet the candidate against the live cluster. Returns a plan
-- table or nil and why.
local function assess(ctx)
	local p = ctx.params
	local v, err = pgha.cluster()
	if not v then return nil, err end
	if #v.leaders == 0 then
		return nil, "the cluster has no leader: this is a failover (runbook failover), not a switchover"
	end
	if #v.leaders > 1 then
		local names = {}
		for _, m in ipairs(v.leaders) do names[#names + 1] = m.name end
		return nil, "more than one leader in the DCS: " .. table.concat(names, ", ")
	end
	local leader = v.leader
	local leader_running, leader_state = pgha.is_running_live(leader)
	if not leader_running then
		return nil, string.format("leader %s is %s: use the failover runbook", leader.name, tostring(leader_state))
	end
	local prim = pgha.primaries(v)
	if #prim.names > 1 then return nil, pgha.split_brain_message(prim) end
	local lf = prim.facts[leader.name]
	if not lf or not lf.primary then
		return nil, string.format("leader %s does not answer as a writable primary%s", leader.name,
			lf and "" or (": " .. table.concat(prim.unreachable, "; ")))
	end
	if v.scheduled then
		return nil, string.format("a switchover is already scheduled (at %s, to %s): cancel it first",
			tostring(v.scheduled.at), tostring(v.scheduled.to))
	end
	if v.paused and not p.candidate then
		return nil, "the cluster is paused (maintenance mode): name a candidate, or resume it first"
	end
	local max_lag = p.max_lag or pgha.max_lag_on_failover()
	local sync_mode = pgha.synchronous_mode()
	local rep, rerr = pgha.replication(leader.name)
	if not rep then return nil, rerr end

	-- a replica is fit when it streams from the leader on the leader's
	-- timeline with its replay lag under max_lag
	local function fitness(m)
		if m.name == leader.name then return nil, m.name .. " is the leader" end
		if not pgha.is_replica_role(m.role) then return nil, m.name .. " is not a replica (" .. tostring(m.role) .. ")" end
		-- Patroni's own pre-check wants the node's REST API to answer; its
		-- state may still read "starting" seconds after PostgreSQL streams,
		-- so the streaming evidence below decides, as it does for Patroni
		if not pgha.patroni_alive(m.name) then return nil, m.name .. ": its Patroni does not answer" end
		if type(m.tags) == "table" and m.tags.nofailover == true then return nil, m.name .. " is tagged nofailover" end
		if sync_mode and m.role ~= "sync_standby" then
			return nil, m.name .. " is not a synchronous standby and synchronous mode is on"
		end
		local r = rep[m.name]
		if not r or r.state ~= "streaming" then
			return nil, string.format("%s is not streaming from %s (%s)", m.name, leader.name,
				r and tostring(r.state) or "not connected")
		end
		local f, ferr = pgha.pg_self(m.name)
		if not f then return nil, ferr end
		if f.primary then return nil, m.name .. " answers as a primary" end
		if f.timeline ~= lf.timeline then
			return nil, string.format("%s receives timeline %s, the leader is on %s", m.name,
				tostring(f.timeline), tostring(lf.timeline))
		end
		if r.replay_lag > max_lag then
			return nil, string.format("%s replay lag %s is over max_lag %s", m.name,
				pgha.bytes(r.replay_lag), pgha.bytes(max_lag))
		end
		return { name = m.name, lag = r.replay_lag, sync = m.role == "sync_standby" }
	end

	local chosen, why
	if p.candidate then
		local m = v.by_name[p.candidate]
		if not m then
			return nil, string.format("candidate %s is not a member (members: %s)", p.candidate,
				table.concat(pgha.member_names(v), ", "))
		end
		chosen, why = fitness(m)
		if not chosen then return nil, "candidate " .. why end
	else
		local reasons = {}
		for _, m in ipairs(v.replicas) do
			local f, fwhy = fitness(m)
			if f then
				-- sync standby first, then the least lag, then the name
				if not chosen or (f.sync and not chosen.sync) or
				   (f.sync == chosen.sync and (f.lag < chosen.lag or (f.lag == chosen.lag and f.name < chosen.name))) then
					chosen = f
				end
			else
				reasons[#reasons + 1] = fwhy
			end
		end
		if not chosen then
			return nil, "no healthy candidate: " .. (#reasons > 0 and table.concat(reasons, "; ") or "the cluster has no replica")
		end
	end
	return {
		leader = leader.name, candidate = chosen.name, lag = chosen.lag, max_lag = max_lag,
		timeline = lf.timeline, members = pgha.member_names(v), sync_mode = sync_mode,
		paused = v.paused,
	}
end

return runbook {
	name = "switchover",
	version = "1.0.0",
	summary = "planned switchover to a healthy replica, verified until the cluster has converged",
	params = {
		candidate = { type = "string", help = "member to promote (default: the healthy replica with the least lag, sync standby first)",
			check = function(v) return v:match("^[%w_.-]+$") ~= nil, "not a member name" end },
		max_lag = { type = "size", help = "largest replay lag accepted for the candidate and after the switch (default: the cluster's maximum_lag_on_failover)" },
		scheduled_at = { type = "string", help = "ISO 8601 time with a time zone, e.g. 2026-11-26T02:00:00+00:00: let Patroni switch over then",
			check = function(v) return v:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d") ~= nil and (v:match("[Zz]$") or v:match("[+-]%d%d:?%d%d$")) ~= nil,
				"not an ISO 8601 time with a time zone" end },
		timeout = { type = "duration", default = "2min", help = "how long to wait for the cluster to converge" },
	},
	steps = {
		{
			name = "preflight",
			timeout = 30,
			check = function(ctx)
				local plan, why = assess(ctx)
				if not plan then return false, why end
				local eok, ewhy = pgha.etcd_ok()
				if not eok then return false, ewhy end
				local lok, lwhy = pgha.lock_free(ctx)
				if not lok then return false, lwhy end
				ctx.state.leader = plan.leader
				ctx.state.candidate = plan.candidate
				ctx.state.timeline = plan.timeline
				ctx.state.members = plan.members
				ctx.state.max_lag = plan.max_lag
				return true, string.format("leader %s on timeline %d; candidate %s streaming, replay lag %s (max %s)%s; %s",
					plan.leader, plan.timeline, plan.candidate, pgha.bytes(plan.lag), pgha.bytes(plan.max_lag),
					plan.sync_mode and ", synchronous standby" or "", ewhy)
			end,
		},
		{
			name = "switchover",
			timeout = 90,
			interval = 0.25,
			gate = {
				text = "Switch the leader of this cluster over: the current leader is demoted and the candidate promoted; "
					.. "writes fail for a few seconds.",
			},
			check = function(ctx)
				-- on resume: the switchover may already have happened
				local v, err = pgha.cluster()
				if not v then return false, err end
				if v.leader and v.leader.name == candidate_name(ctx) then
					return true, candidate_name(ctx) .. " already leads"
				end
				if not v.leader or v.leader.name ~= ctx.state.leader then
					return false, string.format("the leader changed since the pre-flight (now %s)",
						v.leader and v.leader.name or "none")
				end
				return true, string.format("%s -> %s", ctx.state.leader, candidate_name(ctx))
			end,
			run = function(ctx)
				local v = pgha.cluster()
				if v and v.leader and v.leader.name == candidate_name(ctx) then return end
				-- the old leader answers writable right now: the start of
				-- the window without a writable leader is after this
				local before = pgha.pg_self(ctx.state.leader)
				ctx.state.t_before = time.now()
				if not before or not before.primary then ctx.state.t_before = nil end
				local status, text = patroni.switchover {
					leader = ctx.state.leader, candidate = candidate_name(ctx),
					scheduled_at = ctx.params.scheduled_at,
				}
				ctx.state.t_answer = time.now()
				if not status then
					-- no answer: it may still go through; verify decides
					log.warn("no answer to POST /switchover (" .. tostring(text) .. "); watching the cluster")
					return
				end
				local msg = type(text) == "string" and text or json.encode(text)
				if status == 200 or status == 202 then
					log.info(string.format("Patroni: HTTP %d %s", status, msg))
					return
				end
				if status == 503 and msg:match("status unknown") then
					log.warn("Patroni: " .. msg .. ": the switchover may still complete; watching the cluster")
					return
				end
				return nil, string.format("Patroni refused the switchover (HTTP %d): %s; the cluster was left as it was",
					status, msg)
			end,
			-- the candidate leads and takes writes
			verify = function(ctx)
				local cand = candidate_name(ctx)
				local v, err = pgha.cluster()
				if not v then return false, err end
				if ctx.params.scheduled_at and (not v.leader or v.leader.name ~= cand) and v.scheduled then
					return false, "scheduled for " .. tostring(v.scheduled.at)
				end
				if not v.leader or v.leader.name ~= cand or #v.leaders ~= 1 then
					return false, "waiting for " .. cand .. " to take the leader lock"
				end
				local f, ferr = pgha.pg_self(cand)
				if not f then return false, ferr end
				if not f.primary then return false, cand .. " holds the lock, not writable yet" end
				ctx.state.t_writable = ctx.state.t_writable or time.now()
				return true, cand .. " is the leader and writable"
			end,
		},
		{
			name = "converge",
			timeout = function(ctx) return ctx.params.timeout end,
			interval = 0.25,
			-- every member on the new timeline, streaming, lag under max_lag;
			-- the old leader gets rejoin_grace to come back by itself, after
			-- which the next step offers to reinitialise it
			verify = function(ctx)
				local want = {
					leader = candidate_name(ctx), members = ctx.state.members,
					after_timeline = ctx.state.timeline, max_lag = ctx.state.max_lag,
				}
				local ok, msg, d = pgha.converged(want)
				if ok then
					ctx.state.rejoined = true
					return true, msg
				end
				ctx.state.t_converge = ctx.state.t_converge or time.now()
				local only_old = d.writable and #d.missing == 1 and d.missing[1] == ctx.state.leader
				if only_old and time.now() - ctx.state.t_converge > ctx.params.timeout / 2 then
					ctx.state.rejoined = false
					log.warn(msg .. ": the old leader has not rejoined")
					return true, msg
				end
				return false, msg
			end,
		},
		{
			name = "reinitialize-old-leader",
			when = function(ctx)
				if ctx.state.rejoined == nil then return true, "only if the old leader has not rejoined by then" end
				if ctx.state.rejoined then return false, "the old leader rejoined as a replica" end
				return true, "the old leader has not rejoined"
			end,
			timeout = function(ctx) return ctx.params.timeout end,
			interval = 0.5,
			gate = { text = "The old leader did not rejoin: reinitialize it (its data directory is wiped and cloned again from the new leader)." },
			run = function(ctx)
				local status, text = patroni.reinitialize(ctx.state.leader, { force = true })
				if not status then return nil, "reinitialize: " .. tostring(text) end
				if status ~= 200 then
					return nil, string.format("Patroni refused to reinitialize %s (HTTP %d): %s", ctx.state.leader,
						status, type(text) == "string" and text or json.encode(text))
				end
			end,
			verify = function(ctx)
				return pgha.converged {
					leader = candidate_name(ctx), members = ctx.state.members,
					after_timeline = ctx.state.timeline, max_lag = ctx.state.max_lag,
				}
			end,
		},
		{
			name = "report",
			timeout = 10,
			run = function(ctx)
				if ctx.state.t_before and ctx.state.t_writable then
					log.info(string.format("no writable leader for at most %s (from the last write check on %s "
						.. "before the request to %s taking writes); Patroni answered after %s",
						pgha.seconds(ctx.state.t_writable - ctx.state.t_before), ctx.state.leader,
						candidate_name(ctx), pgha.seconds(ctx.state.t_answer - ctx.state.t_before)))
				end
				log.info(string.format("switchover done: %s -> %s", ctx.state.leader, candidate_name(ctx)))
			end,
		},
	},
}
