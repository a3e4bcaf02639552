-- exec.lua: exec.run without a shell, a missing program, a timeout.
return {
	name = "exec",
	version = "0.1.0",
	summary = "test runbook: exec.run",
	params = { out = { type = "string", required = true } },
	steps = {
		{
			name = "argv",
			run = function(ctx)
				local r = assert(exec.run({ "printf", "%s|%s", "$HOME;", "a b" }))
				test.mutate(ctx.params.out, "stdout=" .. r.stdout .. " code=" .. r.code)
				local e = assert(exec.run({ "sh", "-c", "echo err >&2; exit 7" }))
				test.mutate(ctx.params.out, "stderr=" .. e.stderr:gsub("\n", "") .. " code=" .. e.code)
				local none, why = exec.run({ "/nonexistent/pgha-prog" })
				test.mutate(ctx.params.out, "missing=" .. tostring(none) .. " " .. why)
			end,
		},
		{
			name = "timeout",
			run = function(ctx)
				local t0 = time.now()
				local r, why = exec.run({ "sleep", "20" }, { timeout = 1 })
				test.mutate(ctx.params.out, string.format("timeout=%s %s elapsed=%d",
					tostring(r), why, math.floor(time.now() - t0)))
				local ok, err = pcall(exec.run, "not a table")
				test.mutate(ctx.params.out, "misuse raises=" .. tostring(not ok))
				local j = json.decode(json.encode({ a = 1, b = { 1, 2, "x" } }))
				test.mutate(ctx.params.out, "json=" .. j.a .. j.b[3] .. tostring(json.decode("{bad")))
				local w, werr = wait["until"](function() return false, "not yet" end, 0.2, 0.05)
				test.mutate(ctx.params.out, "wait=" .. tostring(w) .. " " .. werr)
			end,
		},
	},
}
