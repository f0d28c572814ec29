/* Replaying recorded row changes into a MariaDB/MySQL target (livemig
 * replay): idempotent statements from the row images, by the key the
 * target's information_schema names. Used by src/record/replay_cmd.c. */
#ifndef LIVEMIG_MYSQL_REPLAY_H
#define LIVEMIG_MYSQL_REPLAY_H

#include "livemig/binlog.h"
#include "livemig/dsn.h"
#include "livemig/err.h"

typedef struct lm_replay_target lm_replay_target;

/* Connect and set the session up (UTC, zero dates allowed, no FK checks). */
int lm_mysql_replay_open(lm_replay_target **out, const lm_dsn *dsn, lm_err *err);
/* Queue one row change of table map tm for the target table db.table
 * (insert -> REPLACE of the after image; update -> DELETE of the before
 * key when the key changed, then REPLACE of the after image; delete ->
 * DELETE by key). Opens the target transaction on the first change. */
int lm_mysql_replay_row(lm_replay_target *t, const lm_table_map *tm, const char *db,
                        const char *table, lm_row_op op, const lm_row *before, const lm_row *after,
                        lm_err *err);
/* Send what is queued and commit (nothing happens without a change). */
int lm_mysql_replay_commit(lm_replay_target *t, lm_err *err);
/* Drop what is queued and roll the open transaction back. */
void lm_mysql_replay_rollback(lm_replay_target *t);
void lm_mysql_replay_close(lm_replay_target *t);

#endif
