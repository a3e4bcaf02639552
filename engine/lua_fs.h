/*
 * lua_fs.h: the `fs` host module of the runbook sandbox (docs/runbooks.md,
 * docs/backup-format.md): files and directories for the backup and restore
 * runbooks.
 *
 * Read-only (any phase):
 *   fs.list(dir)            sorted names (without . and ..)
 *   fs.stat(path)           { type = "file"|"dir"|"link"|"other", size,
 *                           mtime, mode } of path itself (lstat)
 *   fs.read(path [, max])   the file's bytes; at most max (default 16 MiB)
 *   fs.sha256(path)         64 hex digits
 *   fs.free(path)           bytes available to us on path's file system,
 *                           and its size
 *   fs.du(path)             bytes of the regular files of a tree (symlinks
 *                           not followed), and how many files
 *   fs.wal_coverage(archive_dir, start_wal [, end_lsn [, timeline]])
 *                           lib/walarchive's continuity report
 *   fs.backups(dir)         lib/backup's scan: a list of backup.json tables
 *                           plus id, dir, good, why, finished_ts,
 *                           started_ts
 * Mutating (only in run and undo, never under --dry-run):
 *   fs.write(path, text)    atomic: temporary file in the same directory,
 *                           fsync, rename, fsync of the directory; 0640
 *   fs.mkdir(path)          with parents, 0750; true if it exists
 *   fs.rename(from, to)     rename(2), then fsync of the directories
 *   fs.remove(path)         a file, a symlink or an empty directory
 * Expected failures (a missing file, permission denied) return nil and a
 * message; misuse (wrong argument types, an invalid WAL name) raises.
 */
#ifndef PGHA_LUA_FS_H
#define PGHA_LUA_FS_H

#include <lua.h>

#define PGHA_FS_READ_MAX (16 * 1024 * 1024) /* fs.read's default cap */

/* Push the module's table (its mutating functions wrapped). */
void pgha_lua_open_fs(lua_State *L);

#endif
