-- fs.lua: the fs host module, driven by tests/integration/fs.t. Each result
-- is logged as "fs: NAME=VALUE" (stderr) for the test to compare.
--   mode=read       the read-only functions, in a check (dir, archive, backups)
--   mode=write      the mutating functions, in run (under dir)
--   mode=sneak      every mutating function called from a check: refused
local function show(name, ...)
	local parts = {}
	for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
	log.info("fs: " .. name .. "=" .. table.concat(parts, " "))
end

local function names(t)
	local out = {}
	for _, v in ipairs(t or {}) do out[#out + 1] = v end
	return table.concat(out, ",")
end

local function read_only(ctx)
	local p = ctx.params
	local d = p.dir
	show("list", names(fs.list(d)))
	show("list_missing", fs.list(d .. "/nonexistent"))
	local st = fs.stat(d .. "/a.txt")
	show("stat_file", st.type, st.size, math.type(st.mtime), string.format("%o", st.mode))
	show("stat_dir", fs.stat(d .. "/sub").type)
	show("stat_link", fs.stat(d .. "/link").type)
	show("stat_missing", fs.stat(d .. "/nonexistent"))
	show("read", (fs.read(d .. "/a.txt"):gsub("\n", "\\n")))
	show("read_capped", fs.read(d .. "/b.bin", 1000))
	show("read_dir", fs.read(d .. "/sub"))
	show("read_missing", fs.read(d .. "/nonexistent"))
	show("read_all", #fs.read(d .. "/b.bin"))
	show("sha256", fs.sha256(d .. "/b.bin"))
	show("sha256_missing", fs.sha256(d .. "/nonexistent"))
	local avail, total = fs.free(d)
	show("free", math.type(avail), avail > 0, total >= avail)
	show("du_sub", fs.du(d .. "/sub"))
	show("du_all", fs.du(d))
	show("du_missing", fs.du(d .. "/nonexistent"))

	-- misuse raises
	show("misuse_list", pcall(fs.list))
	show("misuse_stat", pcall(fs.stat, {}))
	show("misuse_read", pcall(fs.read, d .. "/a.txt", -1))
	show("misuse_wal", pcall(fs.wal_coverage, p.archive, "junk"))
	show("misuse_lsn", pcall(fs.wal_coverage, p.archive, "000000010000000000000003", "nope"))

	-- the WAL archive (a switch to timeline 2 at 0/5000100)
	local c = fs.wal_coverage(p.archive, "000000010000000000000003")
	local tl = {}
	for _, t in ipairs(c.timelines) do tl[#tl + 1] = t.tli .. ":" .. t.from .. "-" .. (t.to or "") end
	show("wal", c.ok, c.first, c.last, c.n_present, c.n_missing, c.timeline, table.concat(tl, ","))
	c = fs.wal_coverage(p.archive, "000000010000000000000003", "0/9000000")
	show("wal_end", c.ok, c["end"], c.n_missing, names(c.missing), c.why)
	c = fs.wal_coverage(p.archive, "000000010000000000000003", nil, 1)
	show("wal_tl1", c.ok, c.last, c.timeline)
	c = fs.wal_coverage(p.gap, "000000010000000000000003")
	show("wal_gap", c.ok, names(c.missing), c.n_missing, c.why)
	show("wal_missing_dir", fs.wal_coverage(d .. "/nonexistent", "000000010000000000000003"))

	-- the backups
	local bs = fs.backups(p.backups)
	for _, b in ipairs(bs) do
		show("backup", b.id, b.good, b.why or "-", b.scope or "-", b.files and #b.files or 0,
			b.finished_ts or "-", b.compression and b.compression.method or "-",
			b.dir == p.backups .. "/" .. b.id)
	end
	show("backups_missing", fs.backups(d .. "/nonexistent"))
	return true, "read-only functions done"
end

local function write(ctx)
	local d = ctx.params.dir
	local deep = d .. "/new/deep"
	show("mkdir", fs.mkdir(deep))
	show("mkdir_mode", string.format("%o", fs.stat(deep).mode), string.format("%o", fs.stat(d .. "/new").mode))
	show("mkdir_again", fs.mkdir(deep))
	show("mkdir_file", fs.mkdir(d .. "/a.txt/x"))
	local f = deep .. "/backup.json"
	show("write", fs.write(f, '{"format":1}'))
	show("write_back", fs.read(f), string.format("%o", fs.stat(f).mode))
	show("overwrite", fs.write(f, "second\n"), (fs.read(f):gsub("\n", "\\n")))
	show("no_temp_left", names(fs.list(deep)))
	show("write_nodir", fs.write(d .. "/nonexistent/x", "x"))
	show("rename", fs.rename(f, deep .. "/moved.json"), fs.stat(f), fs.read(deep .. "/moved.json"))
	show("rename_missing", fs.rename(f, deep .. "/other"))
	show("remove_notempty", fs.remove(d .. "/new"))
	show("remove_file", fs.remove(deep .. "/moved.json"))
	show("remove_dir", fs.remove(deep), fs.stat(deep))
	show("remove_missing", fs.remove(deep))
	show("misuse_write", pcall(fs.write, f))
end

local function sneak(ctx)
	local d = ctx.params.dir
	show("sneak_write", pcall(fs.write, d .. "/sneaky", "x"))
	show("sneak_mkdir", pcall(fs.mkdir, d .. "/sneaky_dir"))
	show("sneak_rename", pcall(fs.rename, d .. "/a.txt", d .. "/renamed"))
	show("sneak_remove", pcall(fs.remove, d .. "/a.txt"))
	return true
end

return runbook {
	name = "fs",
	version = "0.1.0",
	summary = "test runbook: the fs host module",
	params = {
		mode = { type = "string", required = true, help = "read, write or sneak" },
		dir = { type = "string", required = true, help = "the test's data directory" },
		archive = { type = "string", default = "", help = "a WAL archive" },
		gap = { type = "string", default = "", help = "a WAL archive with a gap" },
		backups = { type = "string", default = "", help = "a backup directory" },
	},
	steps = {
		{
			name = "fs",
			check = function(ctx)
				if ctx.params.mode == "read" then return read_only(ctx) end
				if ctx.params.mode == "sneak" then return sneak(ctx) end
				return true
			end,
			run = function(ctx)
				if ctx.params.mode == "write" then write(ctx) end
			end,
		},
	},
}
