/* The MariaDB/MySQL engine: everything that speaks its SQL dialect. */
#ifndef LIVEMIG_MYSQL_H
#define LIVEMIG_MYSQL_H

#include <mysql.h>
#include <stdbool.h>
#include <stdint.h>

#include "livemig/binlog.h"
#include "livemig/change.h"
#include "livemig/dsn.h"
#include "livemig/err.h"
#include "livemig/plan.h"

/* Connect (utf8mb4, time_zone '+00:00', autocommit on). */
int lm_mysql_connect(MYSQL **out, const lm_dsn *dsn, lm_err *err);
/* Run a statement; fills err with the server message, errno, sqlstate. */
int lm_mysql_exec(MYSQL *c, const char *sql, lm_err *err);
/* Run a query that returns one row of one value; *out malloc'd (NULL for SQL NULL). */
int lm_mysql_query_value(MYSQL *c, const char *sql, char **out, lm_err *err);
/* Quote an identifier with backticks into buf. */
struct lm_buf;
int lm_mysql_quote_ident(struct lm_buf *b, const char *ident);

typedef struct lm_mysql_preflight_opts {
    const char *table;
    const char *alter;
    bool execute; /* false: also validate the ALTER on a scratch shadow, then drop it */
    bool force;   /* drop a leftover _<t>_new from an earlier run */
    bool resume;
    bool no_binlog; /* changes come from files (--changes-from): the server's binlog is not read */
    const char *const *fills; /* --fill-from specs */
    size_t nfills;
    bool fk_rebuild; /* --foreign-keys=rebuild */
} lm_mysql_preflight_opts;

/* Check server settings, privileges, the table and its key; read both
 * definitions; build the column map. With execute, creates the shadow
 * `_<t>_new` with the ALTER applied; otherwise leaves nothing behind.
 * Refusals are LM_EINVAL with a one-line message saying what to do. */
int lm_mysql_preflight(MYSQL *c, const lm_mysql_preflight_opts *opts, lm_plan **out, lm_err *err);

/* Current binlog position (SHOW MASTER STATUS). */
int lm_mysql_binlog_pos(MYSQL *c, lm_binlog_pos *out, lm_err *err);

/* Copy state: the last copied key (as text values, one per key column). */
typedef struct lm_mysql_copy {
    bool started;
    bool done;
    char **last_key; /* plan->src->nkey strings, NULL before the first chunk */
    size_t *last_key_len;
    uint64_t rows; /* rows copied so far, including before a resume */
    /* A checkpoint table records the copy's low-water mark (every row up
     * to it is in the shadow) for --resume. */
    bool checkpoint;
} lm_mysql_copy;

/* ---- the checkpoint table _<t>_ckp (one row) ---- */
typedef struct lm_ckpt {
    char *plan;     /* the fingerprint: what must not change across a resume */
    char state[32]; /* copying | catching-up | cutting-over */
    lm_mysql_copy copy;
    uint64_t changes_applied;
    lm_binlog_pos pos; /* the stream restarts here: the shadow holds everything before */
    char gtid[64];     /* GTID of the transaction that ended at pos, or "" */
} lm_ckpt;

/* Where the applier stands, written with each applied batch. */
typedef struct lm_ckpt_pos {
    lm_binlog_pos pos;
    const char *gtid;
    uint64_t changes_applied;
} lm_ckpt_pos;

/* The fingerprint of a plan (livemig version, table, key, ALTER, column
 * map, shadow definition) as text; malloc'd, NULL when out of memory. */
char *lm_mysql_ckpt_fingerprint(const lm_plan *plan);
/* Create _<t>_ckp with the stream's start position. */
int lm_mysql_ckpt_create(MYSQL *c, const lm_plan *plan, const char *fingerprint,
                         const lm_binlog_pos *start, lm_err *err);
/* Read it: 1 when found, 0 when there is none. Free with lm_mysql_ckpt_free. */
int lm_mysql_ckpt_read(MYSQL *c, const lm_plan *plan, lm_ckpt *out, lm_err *err);
void lm_mysql_ckpt_free(lm_ckpt *ck);
int lm_mysql_ckpt_set_state(MYSQL *c, const lm_plan *plan, const char *state, lm_err *err);
/* Record in the checkpoint that every row up to key (NULL: none) is copied. */
int lm_mysql_ckpt_copy(MYSQL *c, const lm_plan *plan, char **key, const size_t *key_len, bool done,
                       uint64_t rows, lm_err *err);
/* 1 when the binlog file is still on the server, 0 when purged (*oldest
 * says the oldest file left, malloc'd). */
int lm_mysql_binlog_has(MYSQL *c, const char *file, char **oldest, lm_err *err);
/* One migration per table: a named lock held by the main connection. */
int lm_mysql_run_lock(MYSQL *c, const char *table, lm_err *err);
/* True when err says the connection was lost (killed, server gone). */
bool lm_mysql_conn_lost(const lm_err *err);

/* The copy in key ranges (lo, hi]; a NULL bound is open. A key is
 * plan->src->nkey strings as the server prints them plus a NULL slot, and
 * their lengths. */
/* The key of the n-th row after lo that is at most hi (*found = false when
 * fewer rows remain); *upper is the caller's (lm_mysql_key_free). */
int lm_mysql_copy_bound(MYSQL *c, const lm_plan *plan, char *const *lo, const size_t *lo_len,
                        char *const *hi, const size_t *hi_len, size_t n, char ***upper,
                        size_t **upper_len, bool *found, lm_err *err);
/* Copy the rows of (lo, hi] into the shadow in one autocommitted
 * INSERT IGNORE … SELECT … LOCK IN SHARE MODE; idempotent. */
int lm_mysql_copy_range(MYSQL *c, const lm_plan *plan, char *const *lo, const size_t *lo_len,
                        char *const *hi, const size_t *hi_len, size_t *rows, lm_err *err);
int lm_mysql_key_dup(const lm_plan *plan, char *const *vals, const size_t *lens, char ***out,
                     size_t **out_len);
void lm_mysql_key_free(char **vals, size_t *lens);
void lm_mysql_copy_free(lm_mysql_copy *copy);

/* What one applied batch took (filled only when it commits). */
typedef struct lm_apply_stats {
    size_t changes;    /* the list's length */
    size_t superseded; /* row writes skipped: a later change of the batch rewrote the key */
    size_t statements; /* REPLACE/DELETE statements sent (a --fill-from write counts one) */
} lm_apply_stats;

/* Apply a list of changes (in order) to the shadow in one transaction,
 * from the row images only, and record ckpt (when given) in the same
 * transaction; stats tell what it took. Does not modify the changes. */
int lm_mysql_apply_batch(MYSQL *c, const lm_plan *plan, const lm_change *first,
                         const lm_ckpt_pos *ckpt, lm_apply_stats *stats, lm_err *err);

/* Cutover: the drain callback must return 0 once every change up to pos
 * (every change there is, when pos is NULL) has been applied to the
 * shadow, or an error (e.g. LM_ETIMEOUT). */
typedef int (*lm_drain_fn)(void *ctx, const lm_binlog_pos *pos, double timeout_s, lm_err *err);

typedef struct lm_mysql_cutover_opts {
    double lock_timeout_s; /* --cutover-lock-timeout */
    bool drop_old;
    bool no_binlog;    /* changes come from files: drain gets no position (NULL) */
    double *blocked_s; /* out (or NULL): how long writes were blocked, when it succeeds */
    /* out: after a successful swap whose foreign-key work failed, the
     * statements still to run (malloc'd); the old table is then kept. */
    char **fk_todo;
} lm_mysql_cutover_opts;

/* The sentry algorithm (DESIGN.md). One attempt; on failure the table is
 * untouched and err->retryable says whether to try again. */
int lm_mysql_cutover(const lm_dsn *dsn, const lm_plan *plan, const lm_mysql_cutover_opts *opts,
                     lm_drain_fn drain, void *drain_ctx, lm_err *err);

/* A session that may hold the table, for the log and --kill-blockers-after. */
typedef struct lm_blocker {
    unsigned long long id; /* processlist id */
    double seconds;        /* how long its transaction or statement has run */
    char what[128];        /* its statement, or "idle in transaction" */
} lm_blocker;

/* Sessions holding a metadata lock on the table (*exact, from
 * performance_schema's MDL instrument), else the oldest open InnoDB
 * transactions (which may not touch it); at most cap, longest first. */
int lm_mysql_blockers(MYSQL *c, const lm_plan *p, lm_blocker *out, size_t cap, size_t *n,
                      bool *exact, lm_err *err);
/* KILL CONNECTION id; a session already gone is not an error. */
int lm_mysql_kill(MYSQL *c, unsigned long long id, lm_err *err);

/* Foreign keys at the cutover (fk.c): the children's constraints on the
 * table are dropped before the lock, added back (referencing the table by
 * name) after the rename or after an undone attempt; after the swap the
 * table's own get their names back. On failure *todo is the statements
 * still to run (malloc'd, for the operator). */
int lm_mysql_fk_predrop(MYSQL *c, const lm_plan *plan, unsigned lock_s, lm_err *err);
int lm_mysql_fk_restore(MYSQL *c, const lm_plan *plan, unsigned lock_s, char **todo, lm_err *err);
int lm_mysql_fk_after_swap(MYSQL *c, const lm_plan *plan, unsigned lock_s, char **todo,
                           lm_err *err);

/* Drop helper tables created by this run: the undo. keep_resumable keeps
 * the shadow and the checkpoint (only the sentry goes). */
int lm_mysql_cleanup(MYSQL *c, const lm_plan *plan, bool keep_resumable, lm_err *err);
/* After the rename: drop the checkpoint (and the old table with drop_old). */
int lm_mysql_finish(MYSQL *c, const lm_plan *plan, bool drop_old, lm_err *err);

/* Binlog stream from a live server (mariadb_rpl_open + mysql_net_read_packet). */
typedef struct lm_binlog_stream lm_binlog_stream;
/* ---- throttle inputs (throttle.c) ---- */
struct lm_load;
/* Current values of the status variables of l (SHOW GLOBAL STATUS), in
 * order; LM_EINVAL naming the first one the server does not have. */
int lm_mysql_load_read(MYSQL *c, const struct lm_load *l, double *values, lm_err *err);
/* Run the operator's --throttle-query: *on when the first column of its
 * first row is a non-zero number. */
int lm_mysql_throttle_query(MYSQL *c, const char *sql, bool *on, lm_err *err);

/* ---- replica lag (heartbeat.c) ---- */
/* The heartbeat table db.hb (one row, UTC time of the last beat). */
int lm_mysql_heartbeat_create(MYSQL *c, const char *db, const char *hb, lm_err *err);
int lm_mysql_heartbeat_beat(MYSQL *c, const char *db, const char *hb, lm_err *err);
/* On a replica: seconds since the beat it shows; -1 when it has none yet. */
int lm_mysql_heartbeat_lag(MYSQL *replica, const char *db, const char *hb, double *lag,
                           lm_err *err);
int lm_mysql_heartbeat_drop(MYSQL *c, const char *db, const char *hb, lm_err *err);
/* Replicas that report themselves to the primary (SHOW SLAVE HOSTS with a
 * report_host): *n hosts and ports, caller frees both arrays and hosts. */
int lm_mysql_replica_hosts(MYSQL *c, char ***hosts, unsigned **ports, size_t *n, lm_err *err);

typedef struct lm_binlog_stream_opts {
    unsigned server_id;    /* unique replica id */
    lm_binlog_pos start;   /* file + pos */
    const char *gtid;      /* MariaDB GTID start state instead of file/pos, or NULL */
    unsigned heartbeat_ms; /* 0 = none */
    /* The tail: reconnect after a lost connection for up to this long
     * (seconds, 0 = do not reconnect), continuing where it stopped. */
    double reconnect_s;
} lm_binlog_stream_opts;

int lm_binlog_stream_open(lm_binlog_stream **out, const lm_dsn *dsn,
                          const lm_binlog_stream_opts *opts, lm_err *err);
/* Next raw event (header+body+crc). 1 = event, 0 = EOF, <0 error. The
 * bytes stay valid until the next call. */
int lm_binlog_stream_read(lm_binlog_stream *s, const uint8_t **data, size_t *len, lm_err *err);
/* Make a blocked read return (from another thread): shuts the socket. */
void lm_binlog_stream_interrupt(lm_binlog_stream *s);
void lm_binlog_stream_close(lm_binlog_stream *s);

#endif
