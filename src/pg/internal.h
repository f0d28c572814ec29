/* Private to the PostgreSQL engine (src/pg): the table model, the plan,
 * the stream and the helpers the modules share. */
#ifndef LIVEMIG_PG_INTERNAL_H
#define LIVEMIG_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "livemig/buf.h"
#include "livemig/err.h"
#include "livemig/pgoutput.h"
#include "livemig/spool.h"

#define LM_PG_NAME_MAX 64 /* NAMEDATALEN */

/* ---- connections (conn.c) ---- */
/* A regular session (replication = false) or a logical walsender session
 * (replication=database) from a libpq URI or conninfo; application_name
 * is livemig, and the settings make text output unambiguous. */
int lm_pg_connect(PGconn **out, const char *conninfo, bool replication, lm_err *err);
/* Run SQL without a result set (or ignoring it). */
int lm_pg_exec(PGconn *c, const char *sql, lm_err *err);
/* Run SQL with text parameters; *res (may be NULL) receives the tuples,
 * which the caller PQclear()s. */
int lm_pg_query(PGconn *c, const char *sql, int nparams, const char *const *params, PGresult **res,
                lm_err *err);
/* Fill err from a failed result or connection: the server's message,
 * SQLSTATE, and whether retrying may help (deadlock, serialization,
 * lock timeout, lost connection). */
int lm_pg_fail(lm_err *err, PGconn *c, const PGresult *r, int code, const char *what);
/* "ident" quoted as PostgreSQL wants it. */
void lm_pg_put_ident(lm_buf *b, const char *ident);
/* nsp.name, both quoted. */
void lm_pg_put_qname(lm_buf *b, const char *nsp, const char *name);
/* 'text' as a literal. */
void lm_pg_put_literal(lm_buf *b, const char *text);

/* ---- the table and the plan (schema.c) ---- */
typedef struct lm_pg_col {
    char name[LM_PG_NAME_MAX];
    char type[256]; /* format_type() */
    int attnum;
    bool generated; /* not published; the shadow computes it */
    char identity;  /* 'a', 'd' or '\0' */
    /* In the shadow: the column it maps to (-1: dropped by the ALTER). */
    int to;
    bool retyped;
} lm_pg_col;

typedef struct lm_pg_table {
    unsigned oid;
    char nsp[LM_PG_NAME_MAX], name[LM_PG_NAME_MAX];
    char owner[LM_PG_NAME_MAX];
    char replident;
    lm_pg_col *cols; /* live (not dropped) columns in attnum order */
    size_t ncols;
    size_t key[32]; /* indexes into cols of the row identity */
    size_t nkey;
    double rows_estimate;
} lm_pg_table;

typedef struct lm_pg_plan {
    lm_pg_table src;
    lm_pg_table shadow; /* after the ALTER; only cols/ncols/oid/name used */
    char shadow_name[LM_PG_NAME_MAX], old_name[LM_PG_NAME_MAX];
    char slot[LM_PG_NAME_MAX]; /* slot and publication share the name */
    bool overriding;           /* the shadow has GENERATED ALWAYS identity columns */
    bool resume;               /* --resume: shadow, slot and publication are kept, copied */
    unsigned dboid;
} lm_pg_plan;

/* Read the table (nsp may be "" for the search path). */
int lm_pg_table_load(PGconn *c, const char *nsp, const char *name, lm_pg_table *t, lm_err *err);
void lm_pg_table_free(lm_pg_table *t);
/* Map src's columns onto the shadow's (by position: LIKE copies the live
 * columns in order, and the ALTER keeps attnums of what it keeps). */
int lm_pg_plan_map(lm_pg_plan *p, lm_err *err);
/* The shadow's column mapped from src column i, or NULL. */
const lm_pg_col *lm_pg_mapped(const lm_pg_plan *p, size_t i);

/* ---- preflight (preflight.c) ---- */
typedef struct lm_pg_preflight_opts {
    const char *table; /* [nsp.]name */
    const char *alter;
    bool execute;
    bool force;
    bool resume;
} lm_pg_preflight_opts;

/* Check the server and the table, build the plan, and with execute create
 * the shadow with the ALTER applied (a dry run creates it in a transaction
 * that is rolled back). Refusals are LM_EINVAL with one clear line. */
int lm_pg_preflight(PGconn *c, const lm_pg_preflight_opts *o, lm_pg_plan *p, lm_err *err);
/* Drop the publication and the slot and (shadow) the shadow table,
 * whichever exist. */
int lm_pg_drop_helpers(PGconn *c, const lm_pg_plan *p, bool shadow, lm_err *err);

/* ---- the change stream (stream.c) ---- */
typedef struct lm_pg_stream lm_pg_stream;
/* Called for every pgoutput message (buf, len) received at wal_start. */
typedef int (*lm_pg_msg_fn)(void *ctx, lm_lsn wal_start, const uint8_t *buf, size_t len,
                            lm_err *err);

/* Create the publication (on c) and, on a new replication connection,
 * the slot with an exported snapshot; *snapshot (64 bytes) receives its
 * name, valid until lm_pg_stream_start. */
int lm_pg_stream_create(lm_pg_stream **out, PGconn *c, const char *conninfo, const lm_pg_plan *p,
                        char *snapshot, lm_err *err);
/* Open the replication connection to the existing slot (--resume). */
int lm_pg_stream_open(lm_pg_stream **out, const char *conninfo, const lm_pg_plan *p, lm_err *err);
int lm_pg_stream_start(lm_pg_stream *s, lm_err *err);
/* Read what has arrived (waiting up to wait_ms for the first frame), feed
 * every message to fn; answers keepalives and sends status updates. */
int lm_pg_stream_pump(lm_pg_stream *s, int wait_ms, lm_pg_msg_fn fn, void *ctx, lm_err *err);
/* Everything up to lsn is committed in the shadow: confirm it. */
void lm_pg_stream_flushed(lm_pg_stream *s, lm_lsn lsn);
/* Send a status update now if one is due (used while not reading). */
int lm_pg_stream_keepalive(lm_pg_stream *s, lm_err *err);
/* Close the replication connection (the slot stays). NULL is fine. */
void lm_pg_stream_close(lm_pg_stream *s);

/* ---- applying changes (apply.c) ---- */
typedef struct lm_pg_apply lm_pg_apply;
int lm_pg_apply_new(lm_pg_apply **out, PGconn *c, const lm_pg_plan *p, lm_err *err);
/* After a resume the slot replays from its confirmed position, which may
 * be behind what the shadow has: an update finding no row is then skipped
 * (a later change in the stream sets the row). */
void lm_pg_apply_set_replaying(lm_pg_apply *a, bool replaying);
void lm_pg_apply_free(lm_pg_apply *a);
/* Feed one pgoutput message; changes of complete transactions queue up. */
int lm_pg_apply_msg(lm_pg_apply *a, lm_lsn wal_start, const uint8_t *buf, size_t len, lm_err *err);
/* Only check messages (relation and truncate), while they are spooled. */
int lm_pg_apply_check_msg(lm_pg_apply *a, const uint8_t *buf, size_t len, lm_err *err);
/* Changes of complete transactions waiting. */
size_t lm_pg_apply_pending(const lm_pg_apply *a);
/* Commit time (µs since 2000-01-01) of the oldest transaction waiting to
 * be applied, 0 when none: the lag. */
int64_t lm_pg_apply_waiting_since(const lm_pg_apply *a);
/* Apply the waiting changes in one transaction (in_txn: inside the
 * caller's open transaction, no BEGIN/COMMIT); *end receives the end LSN
 * of the last source transaction applied (0 if none). */
int lm_pg_apply_flush(lm_pg_apply *a, bool in_txn, lm_lsn *end, size_t *n, lm_err *err);
/* The fence: a logical message with this content has been seen. */
void lm_pg_apply_set_fence(lm_pg_apply *a, const char *token);
bool lm_pg_apply_fence_seen(const lm_pg_apply *a);

/* The shadow's comment once the copy is complete: --resume looks for it. */
#define LM_PG_COPIED_MARK "livemig: copy complete"

/* ---- the copy (copy.c) ---- */
typedef struct lm_pg_copy {
    char snapshot[64]; /* re-exported by the holder */
    char *last[32];    /* text of the last key copied; NULL before the first */
    bool started, done;
    uint64_t rows;
} lm_pg_copy;

/* hold: import the slot's snapshot and re-export it for the chunks. */
int lm_pg_copy_hold(PGconn *hold, const char *slot_snapshot, lm_pg_copy *cp, lm_err *err);
/* Copy the next chunk of up to n rows in the snapshot; *rows copied. */
int lm_pg_copy_chunk(PGconn *c, const lm_pg_plan *p, lm_pg_copy *cp, size_t n, size_t *rows,
                     lm_err *err);
void lm_pg_copy_free(lm_pg_copy *cp);

/* ---- the cutover (cutover.c) ---- */
/* Under the locks, after the drain: rename and fix dependent objects. */
int lm_pg_swap_objects(PGconn *c, const lm_pg_plan *p, char **validate, lm_err *err);
/* After commit: VALIDATE the constraints added NOT VALID (validate is
 * the list swap_objects returned; freed here), ANALYZE. */
int lm_pg_after_swap(PGconn *c, const lm_pg_plan *p, char *validate, bool drop_old, lm_err *err);

#endif
