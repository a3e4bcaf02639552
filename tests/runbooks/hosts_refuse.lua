-- hosts_refuse.lua: a check that calls a mutating function of the patroni,
-- pg or etcd module (param `call`): the engine must refuse it, in a check
-- and under --dry-run (tests/integration/hosts.t).
local calls = {
	switchover = function(ctx)
		return patroni.switchover { leader = ctx.params.leader, candidate = ctx.params.candidate }
	end,
	request = function() return patroni.request("POST", "/restart", {}) end,
	pause = function() return patroni.pause() end,
	exec = function(ctx) return pg.exec(ctx.params.leader, "SELECT 1") end,
	delete_prefix = function() return etcd.delete_prefix("/pgha-test/hosts/") end,
}

return runbook {
	name = "hosts_refuse",
	version = "1.0.0",
	summary = "test runbook: a mutating host call in a check",
	params = {
		call = { type = "string", required = true, help = "switchover, request, pause, exec or delete_prefix" },
		leader = { type = "string", default = "n1" },
		candidate = { type = "string", default = "n2" },
	},
	steps = {
		{
			name = "sneaky",
			check = function(ctx)
				local f = assert(calls[ctx.params.call], "unknown call")
				f(ctx)
				return true
			end,
			run = function(ctx) end,
		},
	},
}
