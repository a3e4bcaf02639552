-- noundo.lua: step 2 has no undo, step 3 fails: the rollback stops at 2.
return {
	name = "noundo",
	version = "0.1.0",
	summary = "test runbook: incomplete rollback",
	params = { out = { type = "string", required = true } },
	steps = {
		{ name = "one", run = function(ctx) test.mutate(ctx.params.out, "run one") end,
		  undo = function(ctx) test.mutate(ctx.params.out, "undo one") end },
		{ name = "two", run = function(ctx) test.mutate(ctx.params.out, "run two") end },
		{ name = "three", run = function(ctx) test.mutate(ctx.params.out, "run three") end,
		  undo = function(ctx) test.mutate(ctx.params.out, "undo three") end,
		  verify = function() return false, "never converges" end, timeout = 0.5, interval = 0.1,
		  retries = 1 },
	},
}
