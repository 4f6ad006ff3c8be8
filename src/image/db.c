/* db.c - the SQLite state database, shared by the modules. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "image/db.h"

int db_fail(sqlite3 *db, berth_err *err, const char *what)
{
	int code = sqlite3_errcode(db);
	int e = code == SQLITE_BUSY || code == SQLITE_LOCKED      ? EBUSY
		: code == SQLITE_FULL                             ? ENOSPC
		: code == SQLITE_CONSTRAINT                       ? EEXIST
		: code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? EUCLEAN
								  : EIO;
	return berth_error_code(err, e, "%s: database: %s", what, sqlite3_errmsg(db));
}

int db_open(const char *path, sqlite3 **out, berth_err *err)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					 SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE,
				 NULL);
	if (rc != SQLITE_OK) {
		int r = berth_error_code(err, EIO, "open database %s: %s", path,
					 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return r;
	}
	sqlite3_busy_timeout(db, 30000);
	/* Most berth processes live a few milliseconds: keep the WAL file and
	 * leave checkpoints to the automatic ones, instead of a checkpoint, two
	 * fsyncs and a WAL delete and re-create on every run. */
	int on = 1;
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
	/* synchronous=NORMAL in WAL mode: a crash of the process loses nothing;
	 * a power cut may lose the last transactions but never corrupts.
	 * wal_autocheckpoint=32: each berth process is the database's first
	 * opener, and rebuilds the WAL index by reading the whole WAL; a WAL kept
	 * at 128 KiB makes that ~0.3 ms instead of ~10 ms at SQLite's 4 MiB. */
	/* Switching a new database to WAL needs it to itself, and SQLite answers
	 * SQLITE_BUSY there without calling the busy handler: when several
	 * berth processes open a new store at once, retry (bounded: 30 s). */
	int r = 0;
	for (int tries = 0;; tries++) {
		berth_err_clear(err);
		r = db_exec(db,
			    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA "
			    "foreign_keys=ON; PRAGMA wal_autocheckpoint=32;"
			    "CREATE TABLE IF NOT EXISTS schema(module TEXT PRIMARY KEY, "
			    "version INTEGER NOT NULL);",
			    err);
		int code = sqlite3_errcode(db) & 0xff;
		if (r == 0 || (code != SQLITE_BUSY && code != SQLITE_LOCKED) || tries >= 3000)
			break;
		usleep(10000);
	}
	if (r < 0) {
		berth_error_wrap(err, "open database %s", path);
		sqlite3_close(db);
		return r;
	}
	*out = db;
	return 0;
}

void db_close(sqlite3 *db)
{
	sqlite3_close(db);
}

int db_exec(sqlite3 *db, const char *sql, berth_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int r = db_fail(db, err, "sql");
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, berth_err *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(db, err, "prepare");
	return 0;
}

int db_begin(sqlite3 *db, berth_err *err)
{
	return db_exec(db, "BEGIN IMMEDIATE", err);
}

int db_commit(sqlite3 *db, berth_err *err)
{
	int r = db_exec(db, "COMMIT", err);
	if (r < 0)
		db_rollback(db);
	return r;
}

void db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

char *db_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? xstrdup((const char *)t) : NULL;
}

int db_migrate(sqlite3 *db, const char *module, const char *const *steps, berth_err *err)
{
	int r = db_begin(db, err);
	if (r < 0)
		return r;
	sqlite3_stmt *st = NULL;
	int version = 0;
	if ((r = db_prepare(db, "SELECT version FROM schema WHERE module = ?", &st, err)) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	int n = 0;
	while (steps[n])
		n++;
	if (version > n) {
		r = berth_error_code(
			err, EPROTO,
			"database schema of %s is version %d, newer than this berth knows (%d)",
			module, version, n);
		goto fail;
	}
	if (version == n) {
		db_rollback(db);
		return 0;
	}
	for (int i = version; i < n; i++)
		if ((r = db_exec(db, steps[i], err)) < 0)
			goto fail;
	if ((r = db_prepare(db, "INSERT OR REPLACE INTO schema(module, version) VALUES(?, ?)", &st,
			    err)) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, n);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = db_fail(db, err, "record schema version");
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	return db_commit(db, err);
fail:
	db_rollback(db);
	return berth_error_wrap(err, "migrate %s tables", module);
}
