-- slow.lua: three steps writing to the file `out`; step two waits while
-- the file `hold` exists, so a test can kill, interrupt or fence the run
-- in its middle, then resume it.
return runbook {
	name = "slow",
	version = "1.0.0",
	summary = "test runbook: a middle step that waits while a file exists",
	params = {
		out = { type = "string", required = true, help = "file the steps append to" },
		hold = { type = "string", required = true, help = "step two waits while this file exists" },
		token = { type = "string", default = "t0", help = "a secret (masked in the journal)" },
		note = { type = "string", default = "plain", help = "a parameter that is not secret" },
	},
	steps = {
		{
			name = "one",
			check = function(ctx) return true, "one is ready" end,
			run = function(ctx) test.mutate(ctx.params.out, "run one") end,
			undo = function(ctx) test.mutate(ctx.params.out, "undo one") end,
		},
		{
			name = "two",
			timeout = 120,
			check = function(ctx) return true, "two is ready" end,
			run = function(ctx)
				test.mutate(ctx.params.out, "start two")
				local r, err = exec.run({ "sh", "-c", 'while [ -e "$1" ]; do sleep 0.1; done',
					"slow-hold", ctx.params.hold }, { timeout = 110 })
				if not r then return nil, err end
				test.mutate(ctx.params.out, "end two")
			end,
			undo = function(ctx) test.mutate(ctx.params.out, "undo two") end,
		},
		{
			name = "three",
			run = function(ctx)
				test.mutate(ctx.params.out, "run three token=" .. ctx.params.token ..
					" note=" .. ctx.params.note)
			end,
			undo = function(ctx) test.mutate(ctx.params.out, "undo three") end,
		},
	},
}
