-- basic.lua: three gated or ungated steps that append to the file `out`
-- (test.mutate), so the tests can see what ran and in which order.
return runbook {
	name = "basic",
	version = "1.0.0",
	summary = "test runbook: three steps that write to a file",
	params = {
		out = { type = "string", required = true, help = "file the steps append to" },
		fail_at = { type = "string", default = "none", help = "step name that fails" },
		password = { type = "string", default = "hunter2", help = "a secret (masked in the journal)" },
		max_lag = { type = "size", default = "16MB", help = "a size" },
		pause = { type = "duration", default = "0s", help = "sleep in the last step" },
	},
	steps = {
		{
			name = "prepare",
			check = function(ctx) return true, "ready" end,
			gate = "Prepare: writes 'run prepare' to the out file",
			run = function(ctx)
				assert(ctx.params.max_lag == 16 * 1024 * 1024)
				test.mutate(ctx.params.out, "run prepare")
			end,
			undo = function(ctx) test.mutate(ctx.params.out, "undo prepare") end,
		},
		{
			name = "apply",
			check = function(ctx)
				if ctx.params.fail_at == "check" then return false, "fail_at=check" end
				return true
			end,
			gate = {
				text = "Apply: writes 'run apply'",
				type_word = function(ctx) return ctx.cluster and ctx.cluster.scope or "apply" end,
			},
			run = function(ctx)
				if ctx.params.fail_at == "apply" then error("apply failed on purpose") end
				test.mutate(ctx.params.out, "run apply")
			end,
			verify = function(ctx) return true end,
			undo = function(ctx) test.mutate(ctx.params.out, "undo apply") end,
		},
		{
			name = "finish",
			run = function(ctx)
				if ctx.params.fail_at == "finish" then return nil, "finish failed on purpose" end
				time.sleep(ctx.params.pause)
				log.info("finishing", ctx.params.out)
				test.mutate(ctx.params.out, "run finish")
			end,
		},
	},
}
