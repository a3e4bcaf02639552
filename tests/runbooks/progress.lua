-- progress.lua: a wait.until with a `what` (the progress line on a
-- terminal), then a log line that must start on a line of its own.
return runbook {
	name = "progress",
	version = "0.1.0",
	summary = "test runbook: waits 1.5 s for something, then logs",
	steps = {
		{
			name = "wait",
			run = function(ctx)
				local t0 = time.now()
				local ok, err = wait["until"](function() return time.now() - t0 > 1.5, "not yet" end,
					10, 0.5, "the moon")
				if not ok then return nil, err end
				log.info("after the wait")
			end,
		},
	},
}
