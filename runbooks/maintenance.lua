-- maintenance.lua: pause or resume Patroni's automatic management of the
-- cluster (maintenance mode), with the reason recorded in the journal.
--
-- While paused, Patroni neither fails over a dead leader nor restarts a
-- stopped PostgreSQL: operators pause around planned work on the nodes and
-- must not forget to resume. The undo of a pause is a resume and the
-- other way round.

local pgha = require "pgha"

local function paused()
	local v, err = pgha.cluster()
	if not v then return nil, err end
	return v.paused
end

local function set(want)
	local status, text = want and patroni.pause() or patroni.resume()
	if not status then return nil, tostring(text) end
	if status ~= 200 then
		return nil, string.format("Patroni refused to %s the cluster (HTTP %d): %s", want and "pause" or "resume",
			status, type(text) == "string" and text or json.encode(text))
	end
end

local function is(want)
	return function()
		local p, err = paused()
		if p == nil then return false, err end
		if p == want then return true, want and "the cluster is paused" or "the cluster is managed again" end
		return false, want and "waiting for the pause to show in /cluster" or "waiting for the resume to show in /cluster"
	end
end

return runbook {
	name = "maintenance",
	version = "1.0.0",
	summary = "pause or resume Patroni's automatic failover (maintenance mode), with a reason",
	params = {
		action = { type = "string", required = true, help = "pause or resume",
			check = function(v) return v == "pause" or v == "resume", "action is pause or resume" end },
		reason = { type = "string", help = "why (required to pause): kept in the run's journal",
			check = function(v) return #v >= 3, "give a reason of a few words" end },
	},
	steps = {
		{
			name = "preflight",
			check = function(ctx)
				local want = ctx.params.action == "pause"
				if want and not ctx.params.reason then return false, "reason=... is required to pause" end
				local v, err = pgha.cluster()
				if not v then return false, err end
				local lok, lwhy = pgha.lock_free(ctx)
				if not lok then return false, lwhy end
				ctx.state.was_paused = v.paused
				if want then
					log.info("maintenance reason: " .. ctx.params.reason)
				end
				return true, string.format("the cluster is %s; leader %s", v.paused and "paused" or "managed by Patroni",
					v.leader and v.leader.name or "none")
			end,
		},
		{
			name = "set",
			when = function(ctx)
				local want = ctx.params.action == "pause"
				if ctx.state.was_paused == want then
					return false, "the cluster is already " .. (want and "paused" or "managed")
				end
				return true, ctx.params.action
			end,
			gate = {
				text = "Change maintenance mode. While paused, Patroni does NOT fail over a dead leader "
					.. "and does not restart a stopped PostgreSQL.",
			},
			run = function(ctx) return set(ctx.params.action == "pause") end,
			verify = function(ctx) return is(ctx.params.action == "pause")() end,
			undo = function(ctx) return set(ctx.params.action ~= "pause") end,
		},
	},
}
