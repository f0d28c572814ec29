/* Private to the PostgreSQL driver (migrate.c, cutover.c): one run. */
#ifndef LIVEMIG_PG_RUN_H
#define LIVEMIG_PG_RUN_H

#include "livemig/core.h"
#include "livemig/migrate.h"
#include "pg/internal.h"

typedef struct lm_pg_run {
    const lm_migrate_opts *o;
    PGconn *c;    /* copy, apply, cutover */
    PGconn *hold; /* holds the snapshot during the copy, then emits fences */
    lm_pg_plan plan;
    lm_pg_stream *stream;
    lm_pg_apply *apply;
    lm_spool *spool;
    lm_pg_copy copy;
    lm_status st;
    lm_ctl *ctl;
    double last_progress;
    unsigned fences;
    double stall_ms; /* writes blocked by the cutover that succeeded */
} lm_pg_run;

/* Stop requests: a signal or `abort` on the control socket. */
int lm_pg_run_check_stop(lm_pg_run *r, lm_err *err);
void lm_pg_run_progress(lm_pg_run *r, bool force);
void lm_pg_run_state(lm_pg_run *r, lm_state s);
/* Apply what is waiting (in_txn: inside the open transaction on r->c;
 * the caller confirms after its commit). */
int lm_pg_run_apply(lm_pg_run *r, bool in_txn, lm_lsn *end, lm_err *err);
/* Read and apply the live stream until a fence emitted now comes back
 * (everything committed before it is then in the shadow), within
 * timeout_s; in_txn as above. */
int lm_pg_run_to_fence(lm_pg_run *r, bool in_txn, double timeout_s, lm_lsn *end, lm_err *err);
/* Lock, drain, swap, commit; retried on lock timeouts. */
int lm_pg_run_cutover(lm_pg_run *r, lm_err *err);

#endif
