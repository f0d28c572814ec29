/* The cutover: one transaction that locks the table (and the tables its
 * foreign keys touch), drains the stream to a fence emitted after the
 * lock, swaps and commits. A lock that is not granted in time is retried;
 * anything failing after the drain began fails the migration (the drained
 * changes were applied in the rolled-back transaction). */
#include "pg/run.h"

#include "livemig/clock.h"
#include "livemig/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FENCE_TIMEOUT_S 30.0

static int on_msg(void *ctx, lm_lsn at, const uint8_t *buf, size_t len, lm_err *err)
{
    return lm_pg_apply_msg(ctx, at, buf, len, err);
}

int lm_pg_run_apply(lm_pg_run *r, bool in_txn, lm_lsn *end, lm_err *err)
{
    int64_t since;
    size_t n;
    int rc;

    *end = 0;
    /* The lag: how old the oldest change about to be applied is. */
    since = lm_pg_apply_waiting_since(r->apply);
    double lag = since ? (double)time(NULL) - ((double)since / 1e6 + LM_PG_EPOCH_OFFSET) : 0;
    pthread_mutex_lock(&r->st.mu);
    r->st.lag_seconds = lag > 0 ? lag : 0;
    pthread_mutex_unlock(&r->st.mu);
    if ((rc = lm_pg_apply_flush(r->apply, in_txn, end, &n, err)) < 0)
        return rc;
    if (*end && !in_txn)
        lm_pg_stream_flushed(r->stream, *end);
    if (n) {
        pthread_mutex_lock(&r->st.mu);
        r->st.changes_applied += n;
        pthread_mutex_unlock(&r->st.mu);
    }
    return 0;
}

int lm_pg_run_to_fence(lm_pg_run *r, bool in_txn, double timeout_s, lm_lsn *end, lm_err *err)
{
    char token[64];
    const char *params[] = {token};
    double until = lm_now() + timeout_s;
    lm_lsn e;
    int rc;

    *end = 0;
    snprintf(token, sizeof(token), "fence-%d-%u", (int)getpid(), ++r->fences);
    lm_pg_apply_set_fence(r->apply, token);
    /* Transactional and committed with synchronous_commit on: the WAL is
     * flushed up to it at once, so decoding reaches it without waiting for
     * the WAL writer. */
    if ((rc = lm_pg_query(r->hold, "SELECT pg_logical_emit_message(true, 'livemig', $1)", 1, params,
                          NULL, err)) < 0)
        return rc;
    while (!lm_pg_apply_fence_seen(r->apply)) {
        if (lm_now() > until)
            return lm_err_set(err, LM_ETIMEOUT, "the stream did not reach the fence within %.0f s",
                              timeout_s);
        if ((rc = lm_pg_run_check_stop(r, err)) < 0 ||
            (rc = lm_pg_stream_pump(r->stream, 50, on_msg, r->apply, err)) < 0)
            return rc;
        if (lm_pg_apply_pending(r->apply) >= 1000 || lm_pg_apply_fence_seen(r->apply)) {
            if ((rc = lm_pg_run_apply(r, in_txn, &e, err)) < 0)
                return rc;
            if (e)
                *end = e;
        }
    }
    if ((rc = lm_pg_run_apply(r, in_txn, &e, err)) < 0)
        return rc;
    if (e)
        *end = e;
    return 0;
}

/* The tables whose foreign keys the swap drops and adds: locked up front
 * so the swap waits for nothing once the drain is done. */
static int lock_statement(lm_pg_run *r, lm_buf *q, lm_err *err)
{
    char oid[16];
    const char *params[] = {oid};
    PGresult *res = NULL;
    int rc;

    snprintf(oid, sizeof(oid), "%u", r->plan.src.oid);
    lm_buf_puts(q, "LOCK TABLE ONLY ");
    lm_pg_put_qname(q, r->plan.src.nsp, r->plan.src.name);
    lm_buf_puts(q, ", ONLY ");
    lm_pg_put_qname(q, r->plan.src.nsp, r->plan.shadow_name);
    if ((rc = lm_pg_query(r->c,
                          "SELECT DISTINCT x::regclass::text FROM (SELECT confrelid AS x FROM "
                          "pg_constraint WHERE conrelid = $1::oid AND contype = 'f' UNION SELECT "
                          "conrelid FROM pg_constraint WHERE confrelid = $1::oid AND contype = "
                          "'f') s WHERE x <> $1::oid ORDER BY 1",
                          1, params, &res, err)) < 0)
        return rc;
    for (int i = 0; i < PQntuples(res); i++)
        lm_buf_printf(q, ", ONLY %s", PQgetvalue(res, i, 0));
    lm_buf_puts(q, " IN ACCESS EXCLUSIVE MODE");
    PQclear(res);
    return q->oom ? lm_err_set(err, LM_ENOMEM, "out of memory") : 0;
}

/* DDL that ran on the table without a row change after it never shows
 * in the stream: compare the columns under the lock. */
static int check_unchanged(lm_pg_run *r, lm_err *err)
{
    lm_pg_table now;
    const lm_pg_table *t = &r->plan.src;
    int rc = lm_pg_table_load(r->c, t->nsp, t->name, &now, err);
    bool same;

    if (rc < 0)
        return rc;
    same = now.oid == t->oid && now.ncols == t->ncols;
    for (size_t i = 0; same && i < t->ncols; i++)
        same = strcmp(now.cols[i].name, t->cols[i].name) == 0 &&
               strcmp(now.cols[i].type, t->cols[i].type) == 0;
    lm_pg_table_free(&now);
    if (!same)
        return lm_err_set(err, LM_EFAIL,
                          "the columns of %s.%s changed during the migration (DDL ran on it); "
                          "livemig stops, the original table is unchanged: run it again",
                          t->nsp, t->name);
    return 0;
}

/* One attempt. *drained says whether changes were applied inside the
 * transaction (a failure after that cannot be retried). */
static int attempt(lm_pg_run *r, const char *lock_sql, bool *drained, lm_err *err)
{
    char *validate = NULL;
    lm_lsn end = 0;
    double t0;
    int rc;

    *drained = false;
    if ((rc = lm_pg_exec(r->c, "BEGIN", err)) < 0)
        return rc;
    if ((rc = lm_pg_exec(r->c, lock_sql, err)) < 0)
        goto rollback;
    t0 = lm_now();
    *drained = true;
    if ((rc = lm_pg_run_to_fence(r, true, FENCE_TIMEOUT_S, &end, err)) < 0 ||
        (rc = check_unchanged(r, err)) < 0 ||
        (rc = lm_pg_swap_objects(r->c, &r->plan, &validate, err)) < 0 ||
        (rc = lm_pg_exec(r->c, "COMMIT", err)) < 0)
        goto rollback;
    r->stall_ms = (lm_now() - t0) * 1000.0;
    if (end)
        lm_pg_stream_flushed(r->stream, end);
    lm_info("cutover: %s.%s renamed; writes were blocked for %.0f ms", r->plan.src.nsp,
            r->plan.src.name, r->stall_ms);
    pthread_mutex_lock(&r->st.mu);
    r->st.cutover_stall_seconds = r->stall_ms / 1000.0;
    pthread_mutex_unlock(&r->st.mu);
    /* The swap is done: what follows cannot undo it. */
    if ((rc = lm_pg_after_swap(r->c, &r->plan, validate, r->o->drop_old, err)) < 0) {
        lm_warn("after the cutover: %s", err->msg);
        lm_err_clear(err);
    }
    return 0;
rollback:
    free(validate);
    lm_pg_exec(r->c, "ROLLBACK", &(lm_err)LM_ERR_INIT);
    return rc;
}

int lm_pg_run_cutover(lm_pg_run *r, lm_err *err)
{
    lm_buf lock = LM_BUF_INIT, set = LM_BUF_INIT;
    int retries = r->o->cutover_retries > 0 ? r->o->cutover_retries : 1, rc;
    bool drained = false;
    lm_lsn end;

    lm_pg_run_state(r, LM_STATE_CUTTING_OVER);
    lm_buf_printf(&set, "SET lock_timeout = '%.0fms'", r->o->cutover_lock_timeout * 1000.0);
    if ((rc = lock_statement(r, &lock, err)) < 0 || (rc = lm_pg_exec(r->c, set.data, err)) < 0)
        goto cleanup;
    for (int i = 1;; i++) {
        pthread_mutex_lock(&r->st.mu);
        r->st.cutover_attempts++;
        pthread_mutex_unlock(&r->st.mu);
        if ((rc = attempt(r, lock.data, &drained, err)) == 0)
            break;
        if (drained || strcmp(err->sqlstate, "55P03") != 0 || i >= retries) {
            if (!drained && strcmp(err->sqlstate, "55P03") == 0)
                lm_err_prefix(err, "cutover: could not lock the tables in %d attempts", i);
            goto cleanup;
        }
        lm_warn("cutover attempt %d/%d: %s; catching up and retrying", i, retries, err->msg);
        lm_err_clear(err);
        /* Whatever piled up behind the lock goes in before the next try. */
        if ((rc = lm_pg_run_to_fence(r, false, FENCE_TIMEOUT_S, &end, err)) < 0)
            goto cleanup;
        usleep(100000u * (unsigned)(i < 10 ? i : 10));
    }
cleanup:
    lm_pg_exec(r->c, "RESET lock_timeout", &(lm_err)LM_ERR_INIT);
    lm_buf_free(&lock);
    lm_buf_free(&set);
    return rc;
}
