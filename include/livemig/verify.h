/* Verification: a chunked checksum of a table against its shadow (or any
 * table with the same key) on the mapped columns. Used by `livemig verify`
 * and by migrate before the cutover. */
#ifndef LIVEMIG_VERIFY_H
#define LIVEMIG_VERIFY_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>

#include "livemig/binlog.h"
#include "livemig/buf.h"
#include "livemig/dsn.h"
#include "livemig/err.h"
#include "livemig/plan.h"

/* `livemig verify`: returns the exit code (0 equal, 1 differ, 2 bad input). */
int lm_verify_main(int argc, char **argv);

/* The engine side. A verifier walks plan->src in key-ordered chunks on a
 * connection of its own. Each chunk is read under one consistent snapshot
 * (START TRANSACTION WITH CONSISTENT SNAPSHOT), whose binlog position
 * `begin` reports so that the caller can bring the target to exactly that
 * position before `check`.
 *
 * What is compared: for every mapped column, the target's value with the
 * source's value converted to the target column's type the way the copy
 * converts it (CONVERT … USING charset, CAST … AS DECIMAL(M,D), DATETIME(n),
 * …), both rendered canonically (text as HEX of its bytes, numbers and
 * dates as text, SET as its members in the target's order, NULL apart from
 * ''), hashed per row with SHA1 and combined per chunk as COUNT(*) and the
 * BIT_XOR of the first 64 bits of those hashes. */
typedef struct lm_mysql_verify lm_mysql_verify;

/* Opens its own connection. Refuses (LM_EINVAL) a plan whose source key is
 * not mapped to the target. When the key columns differ in type between
 * the two tables, the whole table is one chunk. */
int lm_mysql_verify_new(lm_mysql_verify **out, const lm_dsn *dsn, const lm_plan *plan,
                        size_t chunk_size, lm_err *err);
void lm_mysql_verify_free(lm_mysql_verify *v);

/* Open a snapshot and fix the current chunk: the next one, or with `again`
 * the same one as before. 1 = a chunk is open (its binlog position in
 * *pos), 0 = every chunk has been checked. */
int lm_mysql_verify_begin(lm_mysql_verify *v, bool again, lm_binlog_pos *pos, lm_err *err);
/* Checksum the open chunk: the source in the snapshot, the target on
 * `target` (NULL: in the same snapshot). With a target connection, both
 * queries run at once; on an error either connection is left with no
 * result pending. */
int lm_mysql_verify_check(lm_mysql_verify *v, MYSQL *target, bool *equal, lm_err *err);
/* Append up to max differing rows of the open chunk, one line each. */
int lm_mysql_verify_diff(lm_mysql_verify *v, MYSQL *target, size_t max, lm_buf *out, lm_err *err);
/* Plan of a standalone comparison of table with `against` (same database):
 * columns of the same name, or `columns` = "a,b,old:new". LM_EINVAL for a
 * missing table or column, or a key that is not compared. */
int lm_mysql_verify_plan(MYSQL *c, const char *table, const char *against, const char *columns,
                         lm_plan **out, lm_err *err);
/* Close the snapshot. */
void lm_mysql_verify_end(lm_mysql_verify *v);
/* Move past the chunk last opened. */
void lm_mysql_verify_next(lm_mysql_verify *v);
/* The key range of the chunk last opened, e.g. "(id) > (1000) and <= (2000)". */
void lm_mysql_verify_range(const lm_mysql_verify *v, lm_buf *out);
/* Rows the last check counted on the source side. */
unsigned long long lm_mysql_verify_rows(const lm_mysql_verify *v);
/* Re-copy the chunk last opened into the target on connection c: one
 * transaction deleting the target's range and inserting the source's rows
 * (INSERT IGNORE … SELECT … LOCK IN SHARE MODE). */
int lm_mysql_verify_recopy(lm_mysql_verify *v, MYSQL *c, lm_err *err);

#endif
