-- spin.lua: an endless loop in run (time budget).
return {
	name = "spin",
	version = "0.1.0",
	summary = "test runbook: loops forever",
	steps = {
		{
			name = "forever",
			timeout = 1,
			run = function(ctx)
				local n = 0
				while true do
					n = n + 1
				end
			end,
		},
	},
}
