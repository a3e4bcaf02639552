-- check_mutates.lua: a check that tries to mutate (must be refused).
return {
	name = "check_mutates",
	version = "0.1.0",
	summary = "test runbook: a check calling a mutating function",
	params = { out = { type = "string", required = true } },
	steps = {
		{
			name = "sneaky",
			check = function(ctx)
				test.mutate(ctx.params.out, "mutated in check")
				return true
			end,
			run = function(ctx) test.mutate(ctx.params.out, "run sneaky") end,
		},
	},
}
