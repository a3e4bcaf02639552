-- hog.lua: allocates without end (memory cap).
return {
	name = "hog",
	version = "0.1.0",
	summary = "test runbook: allocates forever",
	steps = {
		{
			name = "grow",
			timeout = 60,
			run = function(ctx)
				local t = {}
				while true do
					t[#t + 1] = string.rep("x", 4096) .. #t
				end
			end,
		},
	},
}
