/* The cutover phase: attempts of the sentry algorithm (src/mysql/cutover.c),
 * each blocking writes for at most --cutover-lock-timeout; between them the
 * shadow catches up again, with a growing pause. When the lock timed out
 * because a session held the table, the log names it, and with
 * --kill-blockers-after such a session is killed once it has held up the
 * cutover that long. */
#include "livemig/buf.h"
#include "livemig/clock.h"
#include "livemig/log.h"
#include "core/run.h"

#include <stdio.h>

#define BLOCKERS_MAX  8
#define BACKOFF_MAX_S 16.0
/* Before an attempt: no more queued than the drain under the lock can apply quickly. */
#define READY_QUEUE 1000
#define READY_MAX_S 30.0

/* Under the lock: apply until the shadow has every change up to pos. */
static int drain(void *ctx, const lm_binlog_pos *pos, double timeout_s, lm_err *err)
{
    lm_run *r = ctx;
    double deadline = lm_now() + timeout_s;
    lm_binlog_pos recv;
    size_t n;
    int rc;

    for (;;) {
        if ((rc = lm_run_check_stop(r, err)) < 0)
            return rc;
        size_t len = lm_queue_peek(&r->q, &recv, NULL, NULL, NULL);
        if (len == 0 && (pos ? lm_binlog_pos_cmp(&recv, pos) >= 0 : lm_tail_files_done(r->tail))) {
            /* Everything up to the locked position is in the shadow; the
             * rename that follows is our own DDL. */
            lm_tail_expect_ddl(r->tail, true);
            return 0;
        }
        if (lm_now() > deadline) {
            rc = lm_err_set(err, LM_ETIMEOUT,
                            "the shadow did not catch up to %s:%llu within %.1fs under the lock",
                            pos ? pos->file : "the end of --changes-from",
                            pos ? (unsigned long long)pos->pos : 0ULL, timeout_s);
            err->retryable = true;
            return rc;
        }
        if ((rc = lm_run_apply_upto(r, NULL, 5, &n, err)) < 0)
            return rc;
    }
}

/* Apply for pause seconds, then until little is queued and the apply is
 * well within the lock timeout: the drain under the lock must be short. */
static int catch_up(lm_run *r, double pause, lm_err *err)
{
    double start = lm_now(), lag;
    size_t n, len;
    int rc;

    for (;;) {
        if ((rc = lm_run_check_stop(r, err)) < 0 ||
            (rc = lm_run_apply_upto(r, NULL, 100, &n, err)) < 0)
            return rc;
        if (lm_now() - start < pause)
            continue;
        len = lm_queue_peek(&r->q, NULL, NULL, NULL, NULL);
        pthread_mutex_lock(&r->st.mu);
        lag = r->st.lag_seconds;
        pthread_mutex_unlock(&r->st.mu);
        if ((len < READY_QUEUE && lag < r->o->cutover_lock_timeout / 2) ||
            lm_now() - start > pause + READY_MAX_S)
            return 0;
    }
}

/* Name the sessions that held the table; kill those that held up the
 * cutover for --kill-blockers-after seconds. True when one was killed. */
static bool handle_blockers(lm_run *r, double blocked_since)
{
    lm_blocker b[BLOCKERS_MAX];
    lm_err e = LM_ERR_INIT;
    lm_buf msg = LM_BUF_INIT;
    double after = r->o->kill_blockers_after, waited = lm_now() - blocked_since;
    bool exact, killed = false;
    size_t n;

    if (lm_mysql_blockers(r->c, r->plan, b, BLOCKERS_MAX, &n, &exact, &e) < 0) {
        lm_debug("could not list the sessions holding the table: %s", e.msg);
        return false;
    }
    if (n == 0)
        return false;
    lm_buf_puts(&msg, exact ? "held by"
                            : "open transactions (performance_schema's MDL "
                              "instrument is off, so maybe unrelated):");
    for (size_t i = 0; i < n; i++)
        lm_buf_printf(&msg, "%s session %llu (%.0fs, %s)", i ? "," : "", b[i].id, b[i].seconds,
                      b[i].what);
    lm_warn("cutover: %s.%s %s", r->plan->src->db, r->plan->src->name, msg.data ? msg.data : "");
    /* Only exact holders, and only those older than the lock timeout: a
     * transaction of the application caught in passing is not a blocker. */
    for (size_t i = 0; exact && after > 0 && waited >= after && i < n; i++) {
        if (b[i].seconds < r->o->cutover_lock_timeout)
            continue;
        lm_warn("cutover: killing session %llu, which has held %s.%s up for %.0fs "
                "(--kill-blockers-after %g); the next attempt follows at once",
                b[i].id, r->plan->src->db, r->plan->src->name, waited, after);
        if (lm_mysql_kill(r->c, b[i].id, &e) < 0)
            lm_warn("cutover: could not kill session %llu: %s", b[i].id, e.msg);
        else
            killed = true;
    }
    lm_buf_free(&msg);
    return killed;
}

int lm_run_cutover(lm_run *r, lm_err *err)
{
    double stall = 0, pause = 1.0, blocked_since = 0;
    lm_mysql_cutover_opts co = {r->o->cutover_lock_timeout, r->o->drop_old, lm_run_from_files(r),
                                &stall, &r->fk_todo};
    int rc = 0;

    lm_run_set_state(r, LM_STATE_CUTTING_OVER);
    for (int attempt = 1; attempt <= r->o->cutover_retries; attempt++) {
        lm_err cerr = LM_ERR_INIT;
        if ((rc = lm_run_check_stop(r, err)) < 0)
            return rc;
        pthread_mutex_lock(&r->st.mu);
        r->st.cutover_attempts++;
        pthread_mutex_unlock(&r->st.mu);
        if ((rc = lm_mysql_cutover(&r->dsn, r->plan, &co, drain, r, &cerr)) == 0) {
            pthread_mutex_lock(&r->st.mu);
            r->st.cutover_stall_seconds = stall;
            pthread_mutex_unlock(&r->st.mu);
            return 0;
        }
        lm_tail_expect_ddl(r->tail, false);
        if (!cerr.retryable || attempt == r->o->cutover_retries) {
            *err = cerr;
            lm_err_prefix(err, "cutover (attempt %d of %d)", attempt, r->o->cutover_retries);
            return rc;
        }
        lm_warn("cutover attempt %d/%d failed: %s; retrying in %.0fs", attempt,
                r->o->cutover_retries, cerr.msg, pause);
        if (cerr.server_errno == 1205) { /* lock wait timeout: someone holds the table */
            if (blocked_since == 0)
                blocked_since = lm_now() - r->o->cutover_lock_timeout;
            if (handle_blockers(r, blocked_since))
                pause = 0.1;
        } else {
            blocked_since = 0;
        }
        if ((rc = catch_up(r, pause, err)) < 0)
            return rc;
        pause = pause * 2 < BACKOFF_MAX_S ? (pause < 1 ? 1 : pause * 2) : BACKOFF_MAX_S;
    }
    return rc;
}
