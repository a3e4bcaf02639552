-- hosts_hang.lua: calls to a Patroni that accepts connections and never
-- answers (tests/integration/hosts.t): a write gives up after its
-- `timeout` option, a read within the step's time budget.
local function say(name, ...)
	local parts = {}
	for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
	log.info("hosts: " .. name .. " " .. table.concat(parts, " "))
end

return runbook {
	name = "hosts_hang",
	version = "1.0.0",
	summary = "test runbook: timeouts of the host modules",
	params = { url = { type = "string", required = true, help = "a URL that never answers" } },
	steps = {
		{
			name = "write_timeout",
			run = function(ctx)
				local t0 = time.now()
				local status, msg = patroni.switchover { leader = "n1", candidate = "n2",
					member = ctx.params.url, timeout = 1 }
				say("hang_switchover", status, msg, string.format("%.1f", time.now() - t0))
			end,
		},
		{
			name = "read_budget",
			timeout = 2,
			check = function(ctx)
				local t0 = time.now()
				local doc, msg = patroni.node(ctx.params.url)
				say("hang_node", doc, msg, string.format("%.1f", time.now() - t0))
				return true
			end,
		},
	},
}
