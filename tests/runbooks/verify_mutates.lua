-- verify_mutates.lua: a verify that tries exec.run (must be refused).
return {
	name = "verify_mutates",
	version = "0.1.0",
	summary = "test runbook: verify calling exec.run",
	params = { out = { type = "string", required = true } },
	steps = {
		{ name = "one", run = function(ctx) test.mutate(ctx.params.out, "run one") end,
		  undo = function(ctx) test.mutate(ctx.params.out, "undo one") end },
		{ name = "two", timeout = 2,
		  verify = function(ctx) exec.run({ "touch", ctx.params.out .. ".verify" }) return true end },
	},
}
