/* db.h - the SQLite state database (berth.db), shared by the modules.
 *
 * WAL mode, foreign keys on, a busy timeout so that many berth processes
 * can work at once; writers take the lock up front (BEGIN IMMEDIATE) so a
 * transaction never fails half-way on a lock upgrade. Each module owns its
 * tables and migrates them itself through db_migrate(), versioned by module
 * name in the "schema" table, so the image store knows nothing of the
 * engine's tables and the other way round.
 *
 *   db_open()       open or create, with the pragmas above
 *   db_close()
 *   db_migrate()    run the module's steps past its recorded version
 *   db_exec()       run SQL without results
 *   db_prepare()    a statement; error names the SQL's failure
 *   db_begin()      BEGIN IMMEDIATE
 *   db_commit()     COMMIT
 *   db_rollback()   ROLLBACK (no error when no transaction is open)
 *   db_fail()       fill err from the connection's last error
 *   db_text()       a column as a malloc'd string (NULL for NULL)
 */
#ifndef BERTH_IMAGE_DB_H
#define BERTH_IMAGE_DB_H

#include <sqlite3.h>

#include "common/error.h"

int db_open(const char *path, sqlite3 **out, berth_err *err);
void db_close(sqlite3 *db);
/* steps: NULL-terminated; step i takes the module from version i to i + 1. */
int db_migrate(sqlite3 *db, const char *module, const char *const *steps, berth_err *err);
int db_exec(sqlite3 *db, const char *sql, berth_err *err);
int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, berth_err *err);
int db_begin(sqlite3 *db, berth_err *err);
int db_commit(sqlite3 *db, berth_err *err);
void db_rollback(sqlite3 *db);
int db_fail(sqlite3 *db, berth_err *err, const char *what);
char *db_text(sqlite3_stmt *st, int col);

static inline void cleanup_stmtp(sqlite3_stmt **st)
{
	sqlite3_finalize(*st);
}
#define _cleanup_stmt_ __attribute__((cleanup(cleanup_stmtp)))

#endif
