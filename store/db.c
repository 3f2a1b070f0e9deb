/*
 * store/db.c: finding, creating and opening the store; transactions.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/private.h"

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 1;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s%s", a, b);
	return p;
}

enum store_status store_path(const char *override, char **path, char **errstr)
{
	const char *env = getenv("HATO_STORE"), *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");

	*path = NULL;
	if (override != NULL && *override != '\0')
		*path = strdup(override);
	else if (env != NULL && *env != '\0')
		*path = strdup(env);
	else if (xdg != NULL && *xdg == '/')
		*path = join(xdg, "/hato/hato.db");
	else if (home != NULL && *home == '/')
		*path = join(home, "/.local/share/hato/hato.db");
	else
		return store_fail(errstr, STORE_EUSAGE,
				  "cannot find the store: set --store, HATO_STORE or HOME");
	return *path == NULL ? STORE_ENOMEM : STORE_OK;
}

static enum store_status set_paths(struct store *st, const char *path)
{
	st->path = strdup(path);
	st->keys_path = join(path, ".keys");
	st->lock_path = join(path, ".lock");
	if (st->path == NULL || st->keys_path == NULL || st->lock_path == NULL)
		return STORE_ENOMEM;
	return STORE_OK;
}

/* The real directory of path and its last part, joined; NULL when the directory can't be resolved.
 */
static char *real_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir =
	    slash == NULL ? strdup(".") : strndup(path, slash == path ? 1 : (size_t)(slash - path));
	char *real = dir != NULL ? realpath(dir, NULL) : NULL, *out = NULL;

	if (real != NULL && asprintf(&out, "%s/%s", real, slash != NULL ? slash + 1 : path) < 0)
		out = NULL;
	free(real);
	free(dir);
	return out;
}

/* True when a and b are one file: the same inode, or, where one does not exist, the same name. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	char *ra, *rb;
	bool same;

	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	ra = real_name(a);
	rb = real_name(b);
	same = ra != NULL && rb != NULL && strcmp(ra, rb) == 0;
	free(ra);
	free(rb);
	return same;
}

bool store_is_own_file(const struct store *st, const char *path)
{
	/* The database and SQLite's files, and the worker's lock and log. */
	static const char *const db_side[] = {"",	  "-wal", ".worker", ".worker.log",
					      "-journal", "-shm"};
	static const char *const keys_side[] = {"", ".new"};
	bool own = false;
	char *name;
	size_t i;

	for (i = 0; !own && i < sizeof(db_side) / sizeof(db_side[0]); i++) {
		name = join(st->path, db_side[i]);
		own = name == NULL || same_file(path, name);
		free(name);
	}
	for (i = 0; !own && i < sizeof(keys_side) / sizeof(keys_side[0]); i++) {
		name = join(st->keys_path, keys_side[i]);
		own = name == NULL || same_file(path, name);
		free(name);
	}
	return own || same_file(path, st->lock_path);
}

/* The shortest a store's file can be: one page of the smallest size (page_sizes). */
#define STORE_MIN_FILE 4096

/* The store's file is damaged, or does not go with its keyslot file. */
static enum store_status damaged(const char *path, char **errstr)
{
	return store_fail(errstr, STORE_ECORRUPT,
			  "%s is damaged or does not match its keyslot file; "
			  "restore both from a backup",
			  path);
}

/*
 * Refuses files and folders that others may write to, or that we do not own.
 * Fills *out (may be NULL) when p is safe.
 */
static enum store_status check_safe(const char *p, int want_dir, struct stat *out, char **errstr)
{
	struct stat sb;

	if (lstat(p, &sb) != 0) {
		if (errno == ENOENT)
			return store_fail(errstr, STORE_ENOTFOUND, "%s does not exist", p);
		return store_fail(errstr, STORE_EIO, "cannot read %s: %s", p, strerror(errno));
	}
	if (want_dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode))
		return store_fail(errstr, STORE_EUNSAFE, "%s is not a %s", p,
				  want_dir ? "folder" : "regular file");
	if (sb.st_uid != geteuid())
		return store_fail(errstr, STORE_EUNSAFE,
				  "%s belongs to another user; hato opens only your own store", p);
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return store_fail(errstr, STORE_EUNSAFE,
				  "%s can be written by %s; fix it with: chmod %s %s", p,
				  !(sb.st_mode & S_IWOTH)   ? "its group"
				  : !(sb.st_mode & S_IWGRP) ? "others"
							    : "its group and others",
				  want_dir ? "700" : "600", p);
	if (out != NULL)
		*out = sb;
	return STORE_OK;
}

enum store_status store_check_files(const char *path, char **errstr)
{
	enum store_status s;
	struct stat sb;
	char *copy = strdup(path), *keys = join(path, ".keys");

	if (copy == NULL || keys == NULL) {
		s = STORE_ENOMEM;
		goto done;
	}
	s = check_safe(dirname(copy), 1, NULL, errstr);
	/* Its keyslot file left without it: a store lost, not one never made. */
	if ((s == STORE_ENOTFOUND || (s == STORE_OK && access(path, F_OK) != 0)) &&
	    access(keys, F_OK) == 0) {
		s = store_fail(errstr, STORE_ENOTFOUND,
			       "there is no store at %s, but its keyslot file %s is there: put "
			       "the store back from a backup",
			       path, keys);
		goto done;
	}
	if (s == STORE_ENOTFOUND || (s == STORE_OK && access(path, F_OK) != 0)) {
		s = store_fail(errstr, STORE_ENOTFOUND,
			       "there is no store at %s; create one with: hato init --admin NAME",
			       path);
		goto done;
	}
	if (s == STORE_OK)
		s = check_safe(path, 0, &sb, errstr);
	/*
	 * SQLite would take a file shorter than a page for a new database and
	 * write one over it: a store is never shorter than its first page.
	 */
	if (s == STORE_OK && sb.st_size < STORE_MIN_FILE)
		s = damaged(path, errstr);
	/*
	 * The keyslot file counts failed logins: nobody else may reset them. A
	 * missing one is reported when it is read.
	 */
	if (s == STORE_OK && lstat(keys, &sb) == 0)
		s = check_safe(keys, 0, NULL, errstr);
	/* SQLite opens these itself, following a symlink out of the store's folder. */
	for (size_t i = 0; s == STORE_OK && i < 2; i++) {
		char *side = join(path, i == 0 ? "-wal" : "-shm");
		if (side == NULL)
			s = STORE_ENOMEM;
		else if (lstat(side, &sb) == 0)
			s = check_safe(side, 0, NULL, errstr);
		free(side);
	}
done:
	free(copy);
	free(keys);
	return s;
}

/*
 * The sizes of a store's pages, the newest first. Pages of 8 KiB since
 * issue 3's import: the same rows take half as many pages, so half as many
 * page splits, HMACs, IVs and system calls, and a 1M-row import took about
 * 3/4 of the time it took with pages of 4 KiB. Stores made before keep
 * their pages of 4 KiB. SQLCipher can't read the size from the file
 * before the key: a store opens at the size whose first page checks out.
 */
static const int page_sizes[] = {8192, 4096};

/*
 * Sets the SQLCipher key and the page size, and checks that they open the
 * database: STORE_ECORRUPT when its first page does not check out.
 */
static enum store_status db_key(sqlite3 *db, const unsigned char key[STORE_KEY_LEN], int page_size)
{
	char hex[2 * STORE_KEY_LEN + 1], raw[2 * STORE_KEY_LEN + 4], pragma[40];
	int rc;

	sodium_bin2hex(hex, sizeof(hex), key, STORE_KEY_LEN);
	snprintf(raw, sizeof(raw), "x'%s'", hex);
	rc = sqlite3_key(db, raw, (int)strlen(raw));
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(raw, sizeof(raw));
	if (rc != SQLITE_OK)
		return STORE_EIO;
	snprintf(pragma, sizeof(pragma), "PRAGMA cipher_page_size = %d", page_size);
	sqlite3_exec(db, pragma, NULL, NULL, NULL);
	rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
	if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
		return STORE_ECORRUPT;
	if (rc == SQLITE_BUSY)
		return STORE_EBUSY;
	return rc == SQLITE_OK ? STORE_OK : STORE_EIO;
}

/*
 * Before SQLite starts: no count of the memory it uses. hato never asks for
 * it, and the count takes a global lock around every allocation (about 5%
 * of an import).
 */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Opens path and sets the key and the page size: *db is NULL on failure. */
static enum store_status open_at(const char *path, const unsigned char key[STORE_KEY_LEN],
				 int page_size, sqlite3 **db, char **errstr)
{
	enum store_status s;

	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		s = store_fail(errstr, STORE_EIO, "cannot open %s: %s", path,
			       *db ? store_sql_why(*db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(*db, STORE_BUSY_MS);
	s = db_key(*db, key, page_size);
	if (s == STORE_OK || s == STORE_ECORRUPT)
		goto done;
	s = store_fail(errstr, s, "cannot read %s: %s", path, store_sql_why(*db));
fail:
	sqlite3_close(*db);
	*db = NULL;
done:
	return s;
}

enum store_status store_db_open(const char *path, const unsigned char key[STORE_KEY_LEN],
				sqlite3 **out, char **errstr)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	enum store_status s = STORE_ECORRUPT;
	sqlite3 *db = NULL;
	size_t i;

	*out = NULL;
	pthread_once(&once, sqlite_setup);
	for (i = 0; s == STORE_ECORRUPT && i < sizeof(page_sizes) / sizeof(page_sizes[0]); i++) {
		sqlite3_close(db);
		db = NULL;
		s = open_at(path, key, page_sizes[i], &db, errstr);
	}
	if (s == STORE_ECORRUPT) {
		s = damaged(path, errstr);
		goto done;
	}
	if (s != STORE_OK)
		goto done;
	if (sqlite3_exec(db,
			 "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
			 "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		s = store_fail(errstr, STORE_EIO, "cannot set up %s: %s", path, store_sql_why(db));
		goto done;
	}
	*out = db;
	db = NULL;
done:
	sqlite3_close(db);
	return s;
}

static void os_user(char out[STORE_NAME_MAX + 1])
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw != NULL && pw->pw_name != NULL)
		snprintf(out, STORE_NAME_MAX + 1, "%s", pw->pw_name);
	else
		snprintf(out, STORE_NAME_MAX + 1, "uid%u", (unsigned)geteuid());
}

struct store *store_new_session(const char *path)
{
	struct store *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	st->data_key = sodium_malloc(STORE_KEY_LEN);
	st->hash_key = sodium_malloc(STORE_KEY_LEN);
	if (st->data_key == NULL || st->hash_key == NULL || set_paths(st, path) != STORE_OK) {
		store_close(&st);
		return NULL;
	}
	os_user(st->os_user);
	return st;
}

void store_close(struct store **stp)
{
	struct store *st;

	if (stp == NULL || *stp == NULL)
		return;
	st = *stp;
	store_queue_stmts_free(st);
	if (st->db != NULL)
		sqlite3_close(st->db);
	sodium_free(st->data_key);
	sodium_free(st->sign_sk);
	sodium_free(st->hash_key);
	sodium_free(st->box_sk);
	free(st->path);
	free(st->keys_path);
	free(st->lock_path);
	free(st);
	*stp = NULL;
}

const char *store_file(const struct store *st)
{
	return st->path;
}

const char *store_user(const struct store *st)
{
	return st->user;
}

const char *store_role(const struct store *st)
{
	return st->role;
}

/* Creates the folders down to the store's, the last one with mode 0700. */
static enum store_status make_dirs(const char *path, char **errstr)
{
	char *copy = strdup(path), *dir, *p;
	enum store_status s = STORE_OK;

	if (copy == NULL)
		return STORE_ENOMEM;
	dir = dirname(copy);
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			s = store_fail(errstr, STORE_EIO, "cannot create %s: %s", dir,
				       store_strerror(errno));
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	if (s == STORE_OK)
		s = check_safe(dir, 1, NULL, errstr);
	free(copy);
	return s;
}

static void remove_files(const struct store *st)
{
	char *p;

	unlink(st->path);
	unlink(st->keys_path);
	unlink(st->lock_path);
	p = join(st->path, "-wal");
	if (p != NULL)
		unlink(p);
	free(p);
	p = join(st->path, "-shm");
	if (p != NULL)
		unlink(p);
	free(p);
}

static enum store_status init_db(struct store *st, const char *admin, const struct slot_keys *k,
				 char **errstr)
{
	enum store_status s;
	unsigned char secret[STORE_KEY_LEN];
	int fd;

	fd = open(st->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return store_fail(errstr, STORE_EIO, "cannot create %s: %s", st->path,
				  store_strerror(errno));
	close(fd);
	s = store_db_open(st->path, st->data_key, &st->db, errstr);
	if (s == STORE_OK)
		s = store_migrate(st, errstr);
	if (s != STORE_OK)
		return s;
	s = store_begin(st);
	randombytes_buf(secret, sizeof(secret));
	if (s == STORE_OK)
		s = store_secret_put(st, "address_hash_key", secret, sizeof(secret), errstr);
	randombytes_buf(secret, sizeof(secret));
	if (s == STORE_OK)
		s = store_secret_put(st, "unsubscribe_key", secret, sizeof(secret), errstr);
	sodium_memzero(secret, sizeof(secret));
	if (s == STORE_OK)
		s = store_user_insert(st, admin, "admin", k, errstr);
	if (s == STORE_OK)
		s = store_session_load(st, admin, k, errstr);
	if (s == STORE_OK)
		s = store_audit(st, "store.init", admin, "ok", "store created");
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

enum store_status store_init(const char *path, const char *admin, const char *password,
			     enum store_kdf kdf, char **errstr)
{
	enum store_status s;
	struct store *st = NULL;
	struct keyfile kf = {0};
	struct keyslot ks;
	struct slot_keys k;
	unsigned long long ops;
	size_t mem;
	int created = 0;

	s = store_name_check("user", admin, errstr);
	if (s == STORE_OK)
		s = store_password_check(admin, password, errstr);
	if (s != STORE_OK)
		return s;
	st = store_new_session(path);
	if (st == NULL)
		return STORE_ENOMEM;
	if (access(st->path, F_OK) == 0 || access(st->keys_path, F_OK) == 0) {
		s = store_fail(errstr, STORE_EEXIST, "a store exists already at %s", path);
		goto done;
	}
	s = make_dirs(path, errstr);
	if (s != STORE_OK)
		goto done;
	created = 1;
	randombytes_buf(st->data_key, STORE_KEY_LEN);
	keyslot_kdf_params(kdf, &ops, &mem);
	s = keyslot_create(&ks, admin, password, ops, mem, st->data_key, &k);
	if (s == STORE_OK)
		s = keyfile_add(&kf, &ks);
	sodium_memzero(&ks, sizeof(ks));
	if (s == STORE_OK)
		s = keyfile_save(st->keys_path, &kf, errstr);
	if (s == STORE_OK)
		s = init_db(st, admin, &k, errstr);
done:
	sodium_memzero(&k, sizeof(k));
	keyfile_free(&kf);
	if (s != STORE_OK && created)
		remove_files(st);
	store_close(&st);
	return s;
}

enum store_status store_begin(struct store *st)
{
	if (st->tx_depth++ > 0)
		return STORE_OK;
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		st->tx_depth = 0;
		return (sqlite3_errcode(st->db) & 0xff) == SQLITE_BUSY ? STORE_EBUSY : STORE_EIO;
	}
	return STORE_OK;
}

enum store_status store_begin_err(struct store *st, char **errstr, const char *what)
{
	/* Described at once: any statement run after the failure clears its code. */
	if (store_begin(st) != STORE_OK)
		return store_sqlfail(st, errstr, what);
	return STORE_OK;
}

enum store_status store_commit(struct store *st)
{
	return store_commit_err(st, NULL);
}

enum store_status store_commit_err(struct store *st, char **errstr)
{
	enum store_status s;

	if (st->tx_depth <= 0)
		return store_fail(errstr, STORE_EIO, "saving the changes: no transaction is open");
	if (--st->tx_depth > 0)
		return STORE_OK;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		/* Why, before the rollback resets SQLite's error. */
		s = store_sqlfail(st, errstr, "saving the changes");
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return s;
	}
	return STORE_OK;
}

void store_rollback(struct store *st)
{
	if (st->tx_depth > 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->tx_depth = 0;
}

enum store_status store_run(struct store *st, const char *sql, char **errstr, const char *what,
			    const char *fmt, ...)
{
	/* fmt: 't' text, 'i' int64, 'b' blob followed by length (size_t). */
	sqlite3_stmt *q = NULL;
	enum store_status s;
	va_list ap;
	int i = 1;

	s = store_prepare(st, sql, &q, errstr);
	if (s != STORE_OK)
		return s;
	va_start(ap, fmt);
	for (; *fmt; fmt++, i++) {
		if (*fmt == 't') {
			const char *t = va_arg(ap, const char *);
			sqlite3_bind_text(q, i, t ? t : "", -1, SQLITE_TRANSIENT);
		} else if (*fmt == 'i') {
			sqlite3_bind_int64(q, i, va_arg(ap, int64_t));
		} else {
			const void *b = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			sqlite3_bind_blob(q, i, n ? b : "", (int)n, SQLITE_TRANSIENT);
		}
	}
	va_end(ap);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, what);
	sqlite3_finalize(q);
	return s;
}
