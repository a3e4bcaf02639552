/*
 * lua_fs.c: the `fs` host module. See lua_fs.h.
 *
 * Everything a function acquires (a DIR *, a file descriptor, a library
 * result) is owned by a "box" userdata on the Lua stack while Lua may
 * raise (out of memory, interruption), and released explicitly as soon as
 * it is no longer needed; the box's __gc is the safety net. Nothing here
 * raises while it holds a resource outside a box.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#define _DEFAULT_SOURCE   /* d_type */
#include <config.h>

#include "lua_fs.h"

#include "backup.h"
#include "error.h"
#include "journal.h"
#include "lua_host.h"
#include "walarchive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <lauxlib.h>

#define READ_LIMIT (1024 * 1024 * 1024) /* largest max_bytes fs.read accepts */
#define BOX_META "pgha.fs.box"
#define FILE_MODE 0640
#define DIR_MODE 0750

/* --- boxes and messages ------------------------------------------------------ */

struct box {
	void *p;
	void (*release)(void *);
};

static int box_gc(lua_State *L)
{
	struct box *b = lua_touserdata(L, 1);
	if (b && b->p) {
		b->release(b->p);
		b->p = NULL;
	}
	return 0;
}

/* Push an empty box whose contents release() frees. */
static struct box *box_push(lua_State *L, void (*release)(void *))
{
	struct box *b = lua_newuserdatauv(L, sizeof *b, 0);
	b->p = NULL;
	b->release = release;
	if (luaL_newmetatable(L, BOX_META)) {
		lua_pushcfunction(L, box_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	return b;
}

static void box_empty(struct box *b)
{
	if (b->p) {
		b->release(b->p);
		b->p = NULL;
	}
}

static void release_dir(void *p) { closedir(p); }
static void release_fd(void *p) { close((int)((intptr_t)p - 1)); }

/* Return nil and a message (an expected failure). */
static int fail(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(lua_State *L, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	lua_pushnil(L);
	lua_pushstring(L, msg);
	return 2;
}

/* A path argument: a non-empty string without NUL bytes, shorter than
 * PATH_MAX. */
static const char *check_path(lua_State *L, int arg)
{
	size_t len;
	const char *p = luaL_checklstring(L, arg, &len);
	luaL_argcheck(L, len > 0, arg, "empty path");
	luaL_argcheck(L, strlen(p) == len, arg, "path contains a NUL byte");
	luaL_argcheck(L, len < PATH_MAX, arg, "path too long");
	return p;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* --- fs.list, fs.stat, fs.read, fs.sha256, fs.free, fs.du ------------------------ */

/* fs.list(dir): the names in dir, sorted (byte order), without . and .. */
static int fs_list(lua_State *L)
{
	const char *dir = check_path(L, 1);
	lua_settop(L, 1);
	struct box *b = box_push(L, release_dir); /* 2 */
	DIR *d = opendir(dir);
	if (!d)
		return fail(L, "could not open directory \"%s\": %s", dir, strerror(errno));
	b->p = d;
	lua_newtable(L); /* 3: the names as read */
	lua_Integer n = 0;
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			lua_pushstring(L, e->d_name);
			lua_rawseti(L, 3, ++n);
			if ((n & 4095) == 0)
				pgha_lua_raise_if_interrupted(L);
		}
		errno = 0;
	}
	int read_errno = errno;
	box_empty(b);
	if (read_errno)
		return fail(L, "could not read directory \"%s\": %s", dir, strerror(read_errno));
	/* sort pointers to the strings, which table 3 keeps alive */
	const char **v = lua_newuserdatauv(L, (size_t)n * sizeof *v + 1, 0);
	for (lua_Integer i = 0; i < n; i++) {
		lua_rawgeti(L, 3, i + 1);
		v[i] = lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	qsort(v, (size_t)n, sizeof *v, cmp_str);
	lua_createtable(L, (int)n, 0);
	for (lua_Integer i = 0; i < n; i++) {
		lua_pushstring(L, v[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* fs.stat(path): { type, size, mtime, mode } of path itself. */
static int fs_stat(lua_State *L)
{
	const char *path = check_path(L, 1);
	struct stat st;
	if (lstat(path, &st) != 0)
		return fail(L, "could not stat \"%s\": %s", path, strerror(errno));
	lua_createtable(L, 0, 4);
	lua_pushstring(L, S_ISREG(st.st_mode)   ? "file"
			  : S_ISDIR(st.st_mode) ? "dir"
			  : S_ISLNK(st.st_mode) ? "link"
						: "other");
	lua_setfield(L, -2, "type");
	lua_pushinteger(L, (lua_Integer)st.st_size);
	lua_setfield(L, -2, "size");
	lua_pushinteger(L, (lua_Integer)st.st_mtime);
	lua_setfield(L, -2, "mtime");
	lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
	lua_setfield(L, -2, "mode");
	return 1;
}

/* fs.read(path [, max_bytes]): the file's contents (a regular file). */
static int fs_read(lua_State *L)
{
	const char *path = check_path(L, 1);
	lua_Integer max = luaL_optinteger(L, 2, PGHA_FS_READ_MAX);
	luaL_argcheck(L, max >= 0 && max <= READ_LIMIT, 2, "max_bytes out of range");
	lua_settop(L, 2);
	struct box *b = box_push(L, release_fd); /* 3 */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fail(L, "could not open file \"%s\": %s", path, strerror(errno));
	b->p = (void *)(intptr_t)(fd + 1);
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		box_empty(b);
		return fail(L, "could not stat \"%s\": %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		box_empty(b);
		return fail(L, "could not read \"%s\": not a regular file", path);
	}
	if (st.st_size > max) {
		box_empty(b);
		return fail(L, "file \"%s\" is larger than %lld bytes", path, (long long)max);
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = lua_newuserdatauv(L, cap, 0); /* 4; may raise: the box closes fd */
	for (;;) {
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			box_empty(b);
			return fail(L, "could not read file \"%s\": %s", path, strerror(e));
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n == cap) {
			box_empty(b);
			return fail(L, "file \"%s\" grew while it was read", path);
		}
	}
	box_empty(b);
	lua_pushlstring(L, buf, n);
	return 1;
}

/* fs.sha256(path): the file's SHA-256 as 64 lower-case hex digits. */
static int fs_sha256(lua_State *L)
{
	const char *path = check_path(L, 1);
	char hex[65], err[512];
	if (pgha_sha256_file(path, hex, err, sizeof err) != 0)
		return fail(L, "%s", err);
	lua_pushstring(L, hex);
	return 1;
}

/* fs.free(path): bytes available to an unprivileged user on path's file
 * system, and the file system's size. */
static int fs_free(lua_State *L)
{
	const char *path = check_path(L, 1);
	struct statvfs v;
	if (statvfs(path, &v) != 0)
		return fail(L, "could not stat the file system of \"%s\": %s", path, strerror(errno));
	lua_pushinteger(L, (lua_Integer)((uint64_t)v.f_bavail * v.f_frsize));
	lua_pushinteger(L, (lua_Integer)((uint64_t)v.f_blocks * v.f_frsize));
	return 2;
}

/* nftw has no user pointer: one walk at a time (the engine is single
 * threaded). */
static struct {
	lua_State *L;
	int64_t bytes, files;
	unsigned long visited;
	int stop;           /* 1: interrupted or out of time */
	int err;            /* errno of the entry that failed */
	char where[PATH_MAX];
} du;

static int du_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_DNR || type == FTW_NS) {
		du.err = type == FTW_DNR ? (errno ? errno : EACCES) : (errno ? errno : EIO);
		snprintf(du.where, sizeof du.where, "%s", path);
		return 1;
	}
	if (type == FTW_F) {
		du.bytes += st->st_size;
		du.files++;
	}
	if ((++du.visited & 1023) == 0 &&
	    (pgha_lua_interrupted() || pgha_lua_budget_left_ms(du.L) == 0)) {
		du.stop = 1;
		return 1;
	}
	return 0;
}

/* fs.du(path): the bytes of the regular files under path (sizes, not
 * blocks; symlinks not followed), and how many files. */
static int fs_du(lua_State *L)
{
	const char *path = check_path(L, 1);
	memset(&du, 0, sizeof du);
	du.L = L;
	errno = 0;
	int rc = nftw(path, du_visit, 16, FTW_PHYS);
	int e = errno;
	du.L = NULL;
	if (du.stop) {
		pgha_lua_raise_if_interrupted(L);
		return luaL_error(L, "fs.du(\"%s\"): time budget exceeded", path);
	}
	if (du.err)
		return fail(L, "could not read \"%s\": %s", du.where, strerror(du.err));
	if (rc != 0)
		return fail(L, "could not read \"%s\": %s", path, strerror(e ? e : EIO));
	lua_pushinteger(L, (lua_Integer)du.bytes);
	lua_pushinteger(L, (lua_Integer)du.files);
	return 2;
}

/* --- fs.wal_coverage, fs.backups ------------------------------------------------- */

static void release_coverage(void *p)
{
	pgha_wal_coverage_free(p);
	free(p);
}

static void push_lsn(lua_State *L, uint64_t lsn)
{
	char text[PGHA_LSN_SIZE];
	pgha_lsn_format(lsn, text);
	lua_pushstring(L, text);
}

/* Set t[key] = s unless s is empty. */
static void set_name(lua_State *L, const char *key, const char *s)
{
	if (s && s[0]) {
		lua_pushstring(L, s);
		lua_setfield(L, -2, key);
	}
}

/* fs.wal_coverage(archive_dir, start_wal [, end_lsn [, timeline]]): the
 * continuity report, or nil and a message when the archive cannot be
 * read. */
static int fs_wal_coverage(lua_State *L)
{
	const char *dir = check_path(L, 1);
	const char *start = luaL_checkstring(L, 2);
	luaL_argcheck(L, pgha_wal_parse_name(start, NULL, NULL) == 0, 2,
		      "not a WAL segment name");
	struct pgha_wal_coverage_opts opts = { 0 };
	if (!lua_isnoneornil(L, 3)) {
		const char *end = luaL_checkstring(L, 3);
		luaL_argcheck(L, pgha_lsn_parse(end, &opts.end_lsn) == 0, 3, "not an LSN \"X/Y\"");
		opts.has_end = true;
	}
	if (!lua_isnoneornil(L, 4)) {
		lua_Integer t = luaL_checkinteger(L, 4);
		luaL_argcheck(L, t >= 1 && t <= (lua_Integer)UINT32_MAX, 4, "not a timeline id");
		opts.timeline = (uint32_t)t;
	}
	lua_settop(L, 4);
	struct box *b = box_push(L, release_coverage);
	struct pgha_wal_coverage *c = calloc(1, sizeof *c);
	if (!c)
		return luaL_error(L, "out of memory");
	b->p = c;
	char err[512];
	int rc = pgha_wal_coverage_dir(dir, start, &opts, c, err, sizeof err);
	if (rc == PGHA_E_IO || rc == PGHA_E_TOOBIG) {
		box_empty(b);
		return fail(L, "%s", err);
	}
	if (rc) {
		box_empty(b);
		return luaL_error(L, "fs.wal_coverage: %s", err);
	}
	lua_createtable(L, 0, 12);
	lua_pushboolean(L, c->ok);
	lua_setfield(L, -2, "ok");
	set_name(L, "why", c->why);
	set_name(L, "start", c->start);
	set_name(L, "first", c->first);
	set_name(L, "last", c->last);
	set_name(L, "end", c->end);
	lua_pushinteger(L, (lua_Integer)c->timeline);
	lua_setfield(L, -2, "timeline");
	lua_pushinteger(L, (lua_Integer)c->n_present);
	lua_setfield(L, -2, "n_present");
	lua_pushinteger(L, (lua_Integer)c->n_missing);
	lua_setfield(L, -2, "n_missing");
	lua_createtable(L, (int)c->n_missing_listed, 0);
	for (size_t i = 0; i < c->n_missing_listed; i++) {
		lua_pushstring(L, c->missing[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "missing");
	lua_createtable(L, (int)c->n_timelines, 0);
	for (size_t i = 0; i < c->n_timelines; i++) {
		lua_createtable(L, 0, 3);
		lua_pushinteger(L, (lua_Integer)c->timelines[i].tli);
		lua_setfield(L, -2, "tli");
		push_lsn(L, c->timelines[i].begin);
		lua_setfield(L, -2, "from");
		if (c->timelines[i].has_end) {
			push_lsn(L, c->timelines[i].end);
			lua_setfield(L, -2, "to");
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "timelines");
	box_empty(b);
	return 1;
}

static void release_set(void *p)
{
	pgha_backup_set_free(p);
	free(p);
}

/* fs.backups(dir): every backup of dir, oldest first: its backup.json as a
 * table plus id (the directory's name), dir (its path), good, why (when
 * not good), finished_ts and started_ts (seconds since the epoch, when the
 * times parse). nil and a message when dir cannot be read. */
static int fs_backups(lua_State *L)
{
	const char *dir = check_path(L, 1);
	lua_settop(L, 1);
	struct box *b = box_push(L, release_set);
	struct pgha_backup_set *set = calloc(1, sizeof *set);
	if (!set)
		return luaL_error(L, "out of memory");
	b->p = set;
	char err[512];
	int rc = pgha_backup_scan(dir, set, err, sizeof err);
	if (rc == PGHA_E_NOMEM)
		return luaL_error(L, "fs.backups: out of memory");
	if (rc) {
		box_empty(b);
		return fail(L, "%s", err);
	}
	lua_createtable(L, (int)set->n, 0);
	for (size_t i = 0; i < set->n; i++) {
		const struct pgha_backup *bk = &set->items[i];
		if (bk->doc && cJSON_IsObject(bk->doc))
			pgha_lua_push_json(L, bk->doc);
		else
			lua_createtable(L, 0, 4);
		lua_pushstring(L, bk->id);
		lua_setfield(L, -2, "id");
		lua_pushstring(L, bk->path);
		lua_setfield(L, -2, "dir");
		lua_pushboolean(L, bk->good);
		lua_setfield(L, -2, "good");
		if (bk->why) {
			lua_pushstring(L, bk->why);
			lua_setfield(L, -2, "why");
		}
		if (bk->has_finished) {
			lua_pushinteger(L, (lua_Integer)bk->finished);
			lua_setfield(L, -2, "finished_ts");
		}
		if (bk->has_started) {
			lua_pushinteger(L, (lua_Integer)bk->started);
			lua_setfield(L, -2, "started_ts");
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	box_empty(b);
	return 1;
}

/* --- mutating: fs.write, fs.mkdir, fs.rename, fs.remove ------------------------------ */

/* The directory part of path into out ("." when there is none). */
static void dir_of(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(out, outlen, ".");
	else if (slash == path)
		snprintf(out, outlen, "/");
	else
		snprintf(out, outlen, "%.*s", (int)(slash - path), path);
}

/* fsync a directory, so a rename or a new entry in it is durable. Returns
 * 0 or an errno (file systems that cannot fsync a directory, EINVAL, are
 * fine). */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int rc = fsync(fd) == 0 || errno == EINVAL || errno == EROFS ? 0 : errno;
	close(fd);
	return rc;
}

/* fs.write(path, text): replace path atomically with text, mode 0640. */
static int fs_write(lua_State *L)
{
	static unsigned counter;
	const char *path = check_path(L, 1);
	size_t len;
	const char *text = luaL_checklstring(L, 2, &len);
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	luaL_argcheck(L, base[0] && strcmp(base, ".") && strcmp(base, ".."), 1,
		      "path does not name a file");
	char dir[PATH_MAX], tmp[PATH_MAX];
	dir_of(path, dir, sizeof dir);
	if (snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld.%u", dir, base, (long)getpid(),
		     counter++) >= (int)sizeof tmp)
		return luaL_argerror(L, 1, "path too long");

	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, FILE_MODE);
	if (fd < 0)
		return fail(L, "could not create file \"%s\": %s", tmp, strerror(errno));
	const char *what = "write";
	int e = 0;
	if (fchmod(fd, FILE_MODE) != 0) {
		e = errno;
		what = "chmod";
	}
	for (size_t done = 0; !e && done < len;) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			break;
		}
		done += (size_t)n;
	}
	if (!e && fsync(fd) != 0) {
		e = errno;
		what = "fsync";
	}
	if (close(fd) != 0 && !e) {
		e = errno;
		what = "close";
	}
	if (e) {
		unlink(tmp);
		return fail(L, "could not %s file \"%s\": %s", what, tmp, strerror(e));
	}
	if (rename(tmp, path) != 0) {
		e = errno;
		unlink(tmp);
		return fail(L, "could not rename \"%s\" to \"%s\": %s", tmp, path, strerror(e));
	}
	if ((e = sync_dir(dir)) != 0)
		return fail(L, "could not fsync directory \"%s\": %s", dir, strerror(e));
	lua_pushboolean(L, 1);
	return 1;
}

/* fs.mkdir(path): make path and its missing parents (0750). true when it
 * exists as a directory afterwards. */
static int fs_mkdir(lua_State *L)
{
	const char *path = check_path(L, 1);
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s", path);
	size_t len = strlen(p);
	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, DIR_MODE) == 0) {
			if (chmod(p, DIR_MODE) != 0) {
				int e = errno;
				return fail(L, "could not chmod directory \"%s\": %s", p, strerror(e));
			}
		} else {
			int e = errno;
			struct stat st;
			if (e != EEXIST)
				return fail(L, "could not create directory \"%s\": %s", p, strerror(e));
			if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
				return fail(L, "could not create directory \"%s\": it exists and is "
					    "not a directory", p);
		}
		*s = c;
		if (c == '\0')
			break;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* fs.rename(from, to): rename(2); both directories are then fsynced. */
static int fs_rename(lua_State *L)
{
	const char *from = check_path(L, 1);
	const char *to = check_path(L, 2);
	if (rename(from, to) != 0)
		return fail(L, "could not rename \"%s\" to \"%s\": %s", from, to, strerror(errno));
	char d1[PATH_MAX], d2[PATH_MAX];
	dir_of(to, d1, sizeof d1);
	dir_of(from, d2, sizeof d2);
	int e = sync_dir(d1);
	if (!e && strcmp(d1, d2) != 0)
		e = sync_dir(d2);
	if (e)
		return fail(L, "could not fsync the directory of \"%s\": %s", to, strerror(e));
	lua_pushboolean(L, 1);
	return 1;
}

/* fs.remove(path): a file, a symlink (not what it points to) or an empty
 * directory. */
static int fs_remove(lua_State *L)
{
	const char *path = check_path(L, 1);
	struct stat st;
	if (lstat(path, &st) != 0)
		return fail(L, "could not remove \"%s\": %s", path, strerror(errno));
	if ((S_ISDIR(st.st_mode) ? rmdir(path) : unlink(path)) != 0)
		return fail(L, "could not remove \"%s\": %s", path, strerror(errno));
	lua_pushboolean(L, 1);
	return 1;
}

static const luaL_Reg fs_lib[] = {
	{ "list", fs_list },
	{ "stat", fs_stat },
	{ "read", fs_read },
	{ "sha256", fs_sha256 },
	{ "free", fs_free },
	{ "du", fs_du },
	{ "wal_coverage", fs_wal_coverage },
	{ "backups", fs_backups },
	{ NULL, NULL }
};

void pgha_lua_open_fs(lua_State *L)
{
	luaL_newlib(L, fs_lib);
	pgha_lua_set_mutating(L, "fs", "write", fs_write);
	pgha_lua_set_mutating(L, "fs", "mkdir", fs_mkdir);
	pgha_lua_set_mutating(L, "fs", "rename", fs_rename);
	pgha_lua_set_mutating(L, "fs", "remove", fs_remove);
}
