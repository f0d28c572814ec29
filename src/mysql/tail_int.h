/* Private to the tail: its state, shared by the stream reader (tail.c)
 * and the file reader (tail_files.c). */
#ifndef LIVEMIG_MYSQL_TAIL_INT_H
#define LIVEMIG_MYSQL_TAIL_INT_H

#include "mysql/tail.h"

#include <pthread.h>

struct lm_tail {
    lm_binlog_stream *stream; /* replaced on reconnect, under mu */
    lm_binlog_decoder *dec;
    lm_queue *q;
    char *db, *table;
    /* --fill-from children: their changes are queued too (source i + 1). */
    char **also;
    size_t nalso;
    const lm_dsn *dsn;
    lm_binlog_stream_opts opts; /* opts.gtid points to start_gtid */
    char *start_gtid;
    pthread_mutex_t mu; /* t->stream against lm_tail_stop's interrupt */
    pthread_t thread;
    bool started;
    volatile bool stop;
    volatile bool expect_ddl;

    /* Transaction boundaries: the stream restarts at `boundary`; `pushed`
     * changes of the table were queued since, `seen` of them on this
     * connection (a replay skips the first `pushed`). */
    lm_binlog_pos boundary;
    uint64_t pushed, seen;
    bool in_txn;
    lm_binlog_pos group_start; /* where the open group (in_txn) began */
    char gtid[128];            /* GTID of the group being read */
    char last_gtid[128];       /* GTID of the group that ended at boundary */
    lm_binlog_pos announced;   /* highest position handed to lm_queue_set_pos */
    double lost_since;         /* when the connection was lost; 0 once events flow */

    /* Files instead of a server (--changes-from). */
    char **files;
    size_t nfiles;
    lm_binlog_pos from, until;
    bool have_from, have_until;
    bool rotated;    /* the last event was a real ROTATE */
    bool files_done; /* every change up to `boundary` is queued; under mu */
};

/* A tail of db.table's changes into q, not started; NULL when out of memory. */
lm_tail *lm_tail_new(lm_queue *q, const char *db, const char *table);
/* Also queue the changes of db.name (a --fill-from child). */
int lm_tail_also(lm_tail *t, const char *name);
/* Start t's thread on fn; on failure t is freed. */
int lm_tail_launch(lm_tail *t, lm_tail **out, void *(*fn)(void *), lm_err *err);
/* Decode one raw event: queue the table's changes, follow transaction
 * boundaries, announce the position. */
int lm_tail_consume(lm_tail *t, const uint8_t *data, size_t len, lm_err *err);

#endif
