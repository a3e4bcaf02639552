-- params.lua: every parameter type, a check, a required one.
return {
	name = "params",
	version = "2.1.0-rc.1",
	summary = "test runbook: typed parameters",
	params = {
		node = { type = "string", required = true, help = "a node name",
			 check = function(v) return v:match("^n%d+$") ~= nil, "must look like n1" end },
		count = { type = "integer", default = 3 },
		ratio = { type = "number", default = 0.5 },
		force = { type = "boolean", default = false },
		max_lag = { type = "size", default = "1MB" },
		wait = { type = "duration", default = "30s" },
		api_token = { type = "string", default = "s3cr3t" },
	},
	steps = {
		{ name = "show", check = function(ctx)
			local p = ctx.params
			return true, string.format("node=%s count=%d ratio=%g force=%s max_lag=%d wait=%g",
				p.node, p.count, p.ratio, tostring(p.force), p.max_lag, p.wait)
		end },
	},
}
