#!/bin/bash
# fs.t: the runbook engine's fs host module (tests/runbooks/fs.lua) on
# files, a WAL archive and a backup directory built here. Needs no cluster.
# The runbook logs each result as "fs: NAME=VALUE"; this test compares them.

top_srcdir=${PGHA_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${PGHA_TOP_BUILDDIR:-$top_srcdir}
. "$top_srcdir/tests/tap.sh"

PGHA=${PGHA:-$top_builddir/pgha}
RB=$top_srcdir/tests/runbooks
[ -x "$PGHA" ] || { echo "1..0 # SKIP no pgha binary at $PGHA"; exit 0; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
unset PGHA_RUNBOOK_PATH PGHA_ENGINE_TEST
R=(--runbook-dir "$RB" --journal-dir "$T/journal")
D=$T/data

# got NAME: the value the runbook logged for NAME (the last one).
got() { printf '%s\n' "$OUT" | sed -n "s/^pgha: \[info\] fs: $1=//p" | tail -n 1; }

# --- files -------------------------------------------------------------------
mkdir -p "$D/sub/inner"
printf 'hello\n' >"$D/a.txt"
head -c $((5 * 1024 * 1024 + 7)) /dev/urandom >"$D/b.bin"     # past the old 4 MiB limit
head -c 100 /dev/zero >"$D/sub/c.txt"
head -c 50 /dev/zero >"$D/sub/inner/d"
ln -s a.txt "$D/link"
ln -s "$D/b.bin" "$D/sub/big-link"                                 # not followed by fs.du
touch -d '2026-11-25 22:00:00 UTC' "$D/a.txt"
chmod 0644 "$D/a.txt"

# --- a WAL archive: timeline 1, then 2 from 0/5000100 --------------------------
A=$T/archive
mkdir -p "$A"
for n in 000000010000000000000003 000000010000000000000004 000000010000000000000005.partial \
	000000020000000000000005 000000020000000000000006 000000020000000000000007 README; do
	: >"$A/$n"
done
printf '1\t0/5000100\tno recovery target specified\n' >"$A/00000002.history"
G=$T/gap
cp -r "$A" "$G"
rm "$G/000000020000000000000006"

# --- backups: one good, one unverified ------------------------------------------
B=$T/backups
backup() { # backup ID VERIFIED
	mkdir -p "$B/$1"
	head -c 300 /dev/zero >"$B/$1/base.tar.gz"
	cat >"$B/$1/backup.json" <<EOF
{"format":1, "id":"$1", "scope":"pgha-sandbox", "node":"n2", "timeline":1,
 "start_wal":"000000010000000000000003", "started_at":"2026-11-25T22:00:00Z",
 "finished_at":"2026-11-25T22:00:09Z", "layout":"tar", "compression":{"method":"gzip","level":1},
 "files":[{"name":"base.tar.gz","size":300}], "verified":$2}
EOF
}
backup 20261125T220000Z true
backup 20261126T220000Z false
mkdir -p "$B/.tmp-20261127T220000Z"

# --- the read-only functions, in a check --------------------------------------
run "$PGHA" run fs mode=read dir="$D" archive="$A" gap="$G" backups="$B" "${R[@]}"
is "$RC" 0 "mode=read: the runbook passes"
is "$(got list)" "a.txt,b.bin,link,sub" "fs.list: sorted names, no . or .."
like "$(got list_missing)" '^nil could not open directory ".*/nonexistent": No such file or directory$' \
	"fs.list of a missing directory: nil, message"
is "$(got stat_file)" "file 6 integer 644" "fs.stat of a file: type, size, integer mtime, mode"
is "$(got stat_dir)" "dir" "fs.stat of a directory"
is "$(got stat_link)" "link" "fs.stat of a symlink: the link itself"
like "$(got stat_missing)" '^nil could not stat ".*nonexistent": No such file' "fs.stat of nothing: nil, message"
is "$(got read)" 'hello\n' "fs.read: the bytes"
like "$(got read_capped)" '^nil file ".*b\.bin" is larger than 1000 bytes$' "fs.read with max_bytes: nil past it"
like "$(got read_dir)" '^nil could not read ".*sub": not a regular file$' "fs.read of a directory: nil"
like "$(got read_missing)" '^nil could not open file ".*nonexistent": No such file' "fs.read of nothing: nil"
is "$(got read_all)" $((5 * 1024 * 1024 + 7)) "fs.read of 5 MiB under the 16 MiB default"
is "$(got sha256)" "$(sha256sum "$D/b.bin" | cut -d' ' -f1)" "fs.sha256 of a 5 MiB file matches sha256sum"
like "$(got sha256_missing)" '^nil could not open file' "fs.sha256 of nothing: nil, message"
is "$(got free)" "integer true true" "fs.free: bytes available, not more than the size"
is "$(got du_sub)" "150 2" "fs.du: bytes and files of a tree, a symlink not followed"
is "$(got du_all)" "$((6 + 5 * 1024 * 1024 + 7 + 150)) 4" "fs.du of the whole tree"
like "$(got du_missing)" '^nil could not read ".*nonexistent"' "fs.du of nothing: nil, message"
like "$(got misuse_list)" '^false .*bad argument #1 to .*\(string expected, got no value\)' "misuse raises: fs.list()"
like "$(got misuse_stat)" '^false .*bad argument #1' "misuse raises: fs.stat({})"
like "$(got misuse_read)" '^false .*max_bytes out of range' "misuse raises: fs.read(path, -1)"
like "$(got misuse_wal)" '^false .*not a WAL segment name' "misuse raises: a bad start_wal"
like "$(got misuse_lsn)" '^false .*not an LSN' "misuse raises: a bad end LSN"
is "$(got wal)" "true 000000010000000000000003 000000020000000000000007 5 0 2 1:0/3000000-0/5000100,2:0/5000100-" \
	"fs.wal_coverage: ok, first, last, present, missing, timeline, the timelines followed"
is "$(got wal_end)" "false 000000020000000000000009 2 000000020000000000000008,000000020000000000000009 2 segments missing, the first 000000020000000000000008" \
	"fs.wal_coverage with an end LSN past the archive: the missing ones"
is "$(got wal_tl1)" "true 000000010000000000000004 1" "fs.wal_coverage on timeline 1 only"
is "$(got wal_gap)" "false 000000020000000000000006 1 1 segment missing, the first 000000020000000000000006" \
	"fs.wal_coverage with a gap: names it"
like "$(got wal_missing_dir)" '^nil could not open directory ".*nonexistent"' "fs.wal_coverage of nothing: nil, message"
n=$(printf '%s\n' "$OUT" | grep -c '^pgha: \[info\] fs: backup=')
is "$n" 2 "fs.backups: two backups (the work directory is not one)"
is "$(printf '%s\n' "$OUT" | sed -n 's/^pgha: \[info\] fs: backup=//p' | head -n 1)" \
	"20261125T220000Z true - pgha-sandbox 1 1795644009 gzip true" \
	"the good one: backup.json members, good, finished_ts, dir"
is "$(got backup)" "20261126T220000Z false not verified pgha-sandbox 1 1795644009 gzip true" \
	"the unverified one: good=false, why"
like "$(got backups_missing)" '^nil could not open directory' "fs.backups of nothing: nil, message"

# --- the mutating functions, in run ---------------------------------------------
run "$PGHA" run fs mode=write dir="$D" --yes "${R[@]}"
is "$RC" 0 "mode=write: the runbook passes"
is "$(got mkdir)" "true" "fs.mkdir with parents"
is "$(got mkdir_mode)" "750 750" "fs.mkdir: mode 0750, parents too"
is "$(got mkdir_again)" "true" "fs.mkdir of an existing directory: true"
like "$(got mkdir_file)" '^nil could not create directory ".*/a\.txt": it exists and is not a directory$' \
	"fs.mkdir under a file: nil, message naming the file"
is "$(got write)" "true" "fs.write"
is "$(got write_back)" '{"format":1} 640' "written, read back, mode 0640"
is "$(got overwrite)" 'true second\n' "fs.write replaces a file"
is "$(got no_temp_left)" "backup.json" "no temporary file left behind"
like "$(got write_nodir)" '^nil could not create file ".*nonexistent/\.x\.tmp\.[0-9]+\.[0-9]+": No such file' "fs.write into a missing directory: nil"
is "$(got rename)" 'true nil second' "fs.rename: the old name gone, the new one there"
like "$(got rename_missing)" '^nil could not rename' "fs.rename of nothing: nil"
like "$(got remove_notempty)" '^nil could not remove ".*new": Directory not empty' "fs.remove of a non-empty directory: nil"
is "$(got remove_file)" "true" "fs.remove of a file"
like "$(got remove_dir)" '^true nil could not stat' "fs.remove of an empty directory"
like "$(got remove_missing)" '^nil could not remove .*No such file' "fs.remove of nothing: nil"
like "$(got misuse_write)" '^false .*bad argument #2' "misuse raises: fs.write without text"

# --- refused in a check and under --dry-run --------------------------------------
run "$PGHA" run fs mode=sneak dir="$D" --yes "${R[@]}"
is "$RC" 0 "mode=sneak: the runbook passes (each refusal caught)"
for f in write mkdir rename remove; do
	like "$(got "sneak_$f")" "^false .*fs\\.$f mutates: refused in step \"fs\" check \\(check and verify are read-only\\)" \
		"fs.$f refused in a check"
done
ok "$([ ! -e "$D/sneaky" ] && [ ! -e "$D/sneaky_dir" ] && [ -e "$D/a.txt" ] && [ ! -e "$D/renamed" ]; echo $?)" \
	"nothing changed by the refused calls"
run "$PGHA" run fs mode=sneak dir="$D" --dry-run "${R[@]}"
is "$RC" 0 "mode=sneak --dry-run: passes"
like "$(got sneak_write)" '^false .*fs\.write mutates: refused in step "fs" check \(a dry-run changes nothing' \
	"fs.write refused under --dry-run"
run "$PGHA" run fs mode=write dir="$D/dry" --dry-run "${R[@]}"
is "$RC" 0 "mode=write --dry-run: the run step is not executed"
ok "$([ ! -e "$D/dry" ]; echo $?)" "nothing written under --dry-run"

done_testing
