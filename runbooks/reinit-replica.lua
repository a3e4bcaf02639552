-- reinit-replica.lua: wipe one replica and clone it again from the leader.
--
-- For a replica that cannot follow any more (diverged timeline that
-- pg_rewind could not fix, a broken data directory, missing WAL). Patroni
-- does the work (POST /reinitialize); the runbook refuses the leader,
-- wants a healthy leader to clone from, asks for the member's name to be
-- typed, and waits until the replica streams again.

local pgha = require "pgha"

return runbook {
	name = "reinit-replica",
	version = "1.0.0",
	summary = "reinitialise one replica from the leader (its data directory is wiped), verified streaming",
	params = {
		member = { type = "string", required = true, help = "the replica to reinitialise",
			check = function(v) return v:match("^[%w_.-]+$") ~= nil, "not a member name" end },
		timeout = { type = "duration", default = "10min", help = "how long the clone may take" },
	},
	steps = {
		{
			name = "preflight",
			check = function(ctx)
				local name = ctx.params.member
				local v, err = pgha.cluster()
				if not v then return false, err end
				local m = v.by_name[name]
				if not m then
					return false, string.format("%s is not a member (members: %s)", name, table.concat(pgha.member_names(v), ", "))
				end
				if pgha.is_leader_role(m.role) then return false, name .. " is the leader: never reinitialise a leader" end
				if #v.leaders ~= 1 then return false, "the cluster needs exactly one leader to clone from" end
				local f, ferr = pgha.pg_self(v.leader.name)
				if not f then return false, "leader " .. v.leader.name .. ": " .. tostring(ferr) end
				if not f.primary then return false, "leader " .. v.leader.name .. " is not writable" end
				local lok, lwhy = pgha.lock_free(ctx)
				if not lok then return false, lwhy end
				ctx.state.leader = v.leader.name
				ctx.state.max_lag = pgha.max_lag_on_failover()
				local rep = pgha.replication(v.leader.name)
				local r = rep and rep[name]
				return true, string.format("%s is %s (%s); leader %s clones it", name, tostring(m.state),
					r and ("streaming, lag " .. pgha.bytes(r.replay_lag or 0)) or "not streaming", v.leader.name)
			end,
		},
		{
			name = "reinitialize",
			timeout = function(ctx) return ctx.params.timeout end,
			interval = 1,
			gate = {
				text = "Reinitialize the replica: its data directory is WIPED and cloned again from the leader.",
				type_word = function(ctx) return ctx.params.member end,
			},
			run = function(ctx)
				local status, text = patroni.reinitialize(ctx.params.member, { force = true })
				if not status then return nil, "reinitialize: " .. tostring(text) end
				if status ~= 200 then
					return nil, string.format("Patroni refused to reinitialize %s (HTTP %d): %s", ctx.params.member,
						status, type(text) == "string" and text or json.encode(text))
				end
				ctx.state.t_start = time.now()
			end,
			verify = function(ctx)
				local name = ctx.params.member
				-- Patroni answers before it stops the old PostgreSQL: wait a
				-- moment before a streaming connection counts
				if ctx.state.t_start and time.now() - ctx.state.t_start < 2 then return false, "started" end
				local rep, err = pgha.replication(ctx.state.leader)
				if not rep then return false, err end
				local r = rep[name]
				if not r or r.state ~= "streaming" then
					return false, name .. (r and (" is " .. tostring(r.state)) or " is not connected")
				end
				if (r.replay_lag or 0) > ctx.state.max_lag then
					return false, string.format("%s lag %s", name, pgha.bytes(r.replay_lag))
				end
				return true, string.format("%s streams from %s again (lag %s)", name, ctx.state.leader, pgha.bytes(r.replay_lag or 0))
			end,
		},
	},
}
