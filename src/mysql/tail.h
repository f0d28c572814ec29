/* The tail: a thread that reads the binlog stream, decodes it with
 * livemig's decoder and queues the row changes of one table. */
#ifndef LIVEMIG_MYSQL_TAIL_H
#define LIVEMIG_MYSQL_TAIL_H

#include "livemig/core.h"
#include "livemig/dsn.h"
#include "livemig/mysql.h"

typedef struct lm_tail lm_tail;

/* Starts at opts->start (or opts->gtid). With opts->reconnect_s > 0 a lost
 * connection is reopened at the last transaction boundary and the changes
 * already queued from there are skipped: each change is queued once. dsn
 * must outlive the tail. */
int lm_tail_start(lm_tail **out, const lm_dsn *dsn, const lm_binlog_stream_opts *opts,
                  const char *db, const char *table, const char *const *also, size_t nalso,
                  lm_queue *q, lm_err *err);
/* Files instead of a server (--changes-from): raw binlogs or recordings
 * in binlog order, each starting where the one before it ended. */
typedef struct lm_tail_files {
    const char *const *paths;
    size_t npaths;
    const lm_binlog_pos *from;  /* skip transactions that start before it, or NULL */
    const lm_binlog_pos *until; /* stop after the transaction that reaches it, or NULL */
} lm_tail_files;

/* Reads the files in a thread and queues the changes of db.table; the
 * queue closes with an error on a bad file, a gap, or DDL on the table. */
int lm_tail_start_files(lm_tail **out, const lm_tail_files *f, const char *db, const char *table,
                        lm_queue *q, lm_err *err);
/* True once every change of the files is queued. */
bool lm_tail_files_done(lm_tail *t);
/* From here on DDL on the table is ours (the cutover rename), not a reason to stop. */
void lm_tail_expect_ddl(lm_tail *t, bool on);
void lm_tail_stop(lm_tail *t);
/* True when a QUERY event's text is DDL that names the table. Exposed for tests. */
bool lm_tail_is_table_ddl(const char *query, const char *table);

#endif
