/* The migration driver. It owns the order of the pipeline and the undo;
 * every SQL statement lives in the engine (src/mysql). */
#include "livemig/migrate.h"

#include "livemig/buf.h"
#include "livemig/clock.h"
#include "livemig/core.h"
#include "livemig/dsn.h"
#include "livemig/log.h"
#include "livemig/mysql.h"
#include "livemig/pg.h"
#include "livemig/verify.h"
#include "core/run.h"
#include "mysql/tail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t lm_interrupted;

#define APPLY_BATCH 1000

#define RECONNECTS_PER_STEP 10

int lm_run_retry(lm_run *r, const char *what, int (*fn)(void *ctx, lm_err *err), void *ctx,
                 lm_err *err)
{
    return lm_run_retry_on(r, &r->c, true, what, fn, ctx, err);
}

int lm_run_retry_on(lm_run *r, MYSQL **c, bool run_lock, const char *what,
                    int (*fn)(void *ctx, lm_err *err), void *ctx, lm_err *err)
{
    int rc, reconnects = 0;

    for (int attempt = 0;;) {
        lm_err aerr = LM_ERR_INIT;
        if ((rc = fn(ctx, &aerr)) == 0)
            return 0;
        if (lm_mysql_conn_lost(&aerr) && reconnects++ < RECONNECTS_PER_STEP) {
            /* The transaction died with the connection: replay it whole. */
            lm_warn("%s: %s; reconnecting", what, aerr.msg);
            if ((rc = lm_run_connect_again(r, c, run_lock, err)) < 0)
                return rc;
            continue;
        }
        if (!aerr.retryable || ++attempt >= LM_RUN_RETRIES) {
            *err = aerr;
            return rc;
        }
        lm_warn("%s: %s (retrying)", what, aerr.msg);
        usleep(50000u << attempt);
    }
}

void lm_run_set_state(lm_run *r, lm_state s)
{
    lm_err err = LM_ERR_INIT;

    pthread_mutex_lock(&r->st.mu);
    r->st.state = s;
    pthread_mutex_unlock(&r->st.mu);
    /* For whoever looks at the checkpoint table; resume does not need it. */
    if (r->copy.checkpoint && r->c && s != LM_STATE_DONE && s != LM_STATE_FAILED &&
        lm_mysql_ckpt_set_state(r->c, r->plan, lm_state_name(s), &err) < 0)
        lm_debug("could not record the state in the checkpoint: %s", err.msg);
}

void lm_run_progress(lm_run *r, bool force)
{
    double now = lm_now();

    if (force || now - r->last_progress >= r->o->progress_interval) {
        r->last_progress = now;
        lm_progress_print(&r->st);
        lm_run_textfile(r);
    }
}

/* Stop requests: Ctrl-C, `abort` on the socket, or the stream failing. */
int lm_run_check_stop(lm_run *r, lm_err *err)
{
    bool closed;
    lm_err qerr = LM_ERR_INIT;
    int rc;

    if ((rc = lm_status_check_stop(&r->st, lm_interrupted, err)) < 0)
        return rc;
    lm_queue_peek(&r->q, NULL, NULL, &closed, &qerr);
    if (closed) {
        if (qerr.code) {
            *err = qerr;
            return qerr.code;
        }
        return lm_err_set(err, LM_EIO, "the binlog stream stopped");
    }
    return 0;
}

bool lm_run_from_files(const lm_run *r)
{
    return r->o->nchanges_from > 0;
}

static void update_lag(lm_run *r)
{
    uint32_t oldest;
    size_t len = lm_queue_peek(&r->q, NULL, &oldest, NULL, NULL);
    double lag = 0;

    /* Recorded changes are old by nature: that is not lag. */
    if (len > 0 && oldest > 0 && !lm_run_from_files(r)) {
        lag = difftime(time(NULL), (time_t)oldest);
        if (lag < 0)
            lag = 0;
    }
    pthread_mutex_lock(&r->st.mu);
    r->st.lag_seconds = lag;
    pthread_mutex_unlock(&r->st.mu);
}

/* Test-only: lose the drop_change-th change ever popped, to prove that
 * the verification before the cutover notices a shadow gone wrong. */
static lm_change *inject_drop(lm_run *r, lm_change *list, size_t got)
{
    lm_change **pp = &list;

    if (r->drop_change == 0 || r->drop_change <= r->popped || r->drop_change > r->popped + got) {
        r->popped += got;
        return list;
    }
    for (unsigned long long i = r->popped + 1; i < r->drop_change; i++)
        pp = &(*pp)->next;
    lm_change *victim = *pp;
    *pp = victim->next;
    victim->next = NULL;
    lm_change_free(victim);
    lm_warn("LIVEMIG_TEST_DROP_CHANGE: dropped change %llu instead of applying it", r->drop_change);
    r->popped += got;
    return list;
}

/* The list is immutable, so a retry after a deadlock replays exactly the
 * same changes (gh-ost PR #1665). */
typedef struct apply_args {
    lm_run *r;
    const lm_change *list;
    const lm_ckpt_pos *ck;
} apply_args;

static int apply_once(void *ctx, lm_err *err)
{
    apply_args *a = ctx;
    lm_apply_stats stats;
    int rc = lm_mysql_apply_batch(a->r->c, a->r->plan, a->list, a->ck, &stats, err);

    if (rc == 0)
        a->r->superseded += stats.superseded;
    return rc;
}

#define CKPT_IDLE_S 10.0

/* Whether this batch records the stream position: always when it applies
 * changes, and now and then while the table is idle, so that a resume
 * does not need binlog files from long ago. */
static bool want_ckpt(lm_run *r, bool have_changes)
{
    double now = lm_now();

    if (!r->copy.checkpoint || (!have_changes && now - r->last_ckpt < CKPT_IDLE_S))
        return false;
    r->last_ckpt = now;
    return true;
}

/* Apply up to one batch of queued changes (only those ending at or before
 * upto, when given); *n says how many. The list is immutable, so a retry
 * after a deadlock replays exactly the same thing. */
int lm_run_apply_upto(lm_run *r, const lm_binlog_pos *upto, int wait_ms, size_t *n, lm_err *err)
{
    size_t got = 0;
    lm_ckpt_pos ck = {{{0}, 0}, NULL, 0};
    char gtid[64];
    bool record;
    lm_change *list = lm_queue_pop_safe(&r->q, APPLY_BATCH, upto, wait_ms, &got, &ck.pos, gtid);
    int rc = 0;

    *n = 0;
    ck.gtid = gtid;
    pthread_mutex_lock(&r->st.mu);
    ck.changes_applied = r->st.changes_applied + got;
    pthread_mutex_unlock(&r->st.mu);
    if (list != NULL)
        list = inject_drop(r, list, got);
    record = list ? want_ckpt(r, true) : got == 0 && want_ckpt(r, false);
    if (list == NULL && !record)
        goto counted;
    apply_args aa = {r, list, record ? &ck : NULL};
    if ((rc = lm_run_retry(r, "applying changes", apply_once, &aa, err)) < 0)
        lm_err_prefix(err, "applying changes to the shadow");
    lm_change_list_free(list);
counted:
    if (rc == 0) {
        *n = got;
        pthread_mutex_lock(&r->st.mu);
        r->st.changes_applied += got;
        pthread_mutex_unlock(&r->st.mu);
    }
    update_lag(r);
    return rc;
}

/* Apply until the shadow holds everything the server had logged when the
 * copy finished, then wait while the postpone flag says so. */
static int catch_up_phase(lm_run *r, lm_err *err)
{
    lm_binlog_pos target, recv;
    size_t n, len;
    bool postponed = false, op_cutover, op_postpone;
    char why[160];
    int rc;

    lm_run_set_state(r, LM_STATE_CATCHING_UP);
    lm_run_set_throttled(r, "");
    if (!lm_run_from_files(r) && (rc = lm_mysql_binlog_pos(r->c, &target, err)) < 0)
        return rc;
    for (;;) {
        if ((rc = lm_run_check_stop(r, err)) < 0)
            return rc;
        if ((rc = lm_run_apply_upto(r, NULL, 100, &n, err)) < 0)
            return rc;
        /* Nothing to pause without a copy, but critical load still counts. */
        if ((rc = lm_run_throttle(r, why, sizeof(why), err)) < 0)
            return rc;
        len = lm_queue_peek(&r->q, &recv, NULL, NULL, NULL);
        lm_run_progress(r, false);
        if (len > 0 || (lm_run_from_files(r) ? !lm_tail_files_done(r->tail)
                                             : lm_binlog_pos_cmp(&recv, &target) < 0))
            continue;
        pthread_mutex_lock(&r->st.mu);
        op_cutover = r->st.op_cutover;
        op_postpone = r->st.op_postpone;
        pthread_mutex_unlock(&r->st.mu);
        if ((lm_run_file_exists(r->o->postpone_flag) && !op_cutover) || op_postpone) {
            if (!postponed) {
                lm_info("cutover postponed while %s (send `cutover` to the control socket to go "
                        "ahead)",
                        op_postpone ? "`postpone` from the control socket holds"
                                    : r->o->postpone_flag);
                lm_run_set_state(r, LM_STATE_POSTPONED);
                postponed = true;
            }
            continue;
        }
        return 0;
    }
}

int lm_migrate_main(const lm_migrate_opts *o)
{
    lm_mysql_preflight_opts pf = {o->table,     o->alter,      o->execute,
                                  o->force,     o->resume,     o->nchanges_from > 0,
                                  o->fill_from, o->nfill_from, o->fk_rebuild};
    lm_run_files fp;
    lm_err err = LM_ERR_INIT;
    bool changed = false;
    char *redacted = NULL;
    lm_run r;
    int rc;

    memset(&r, 0, sizeof(r));
    r.o = o;
    if (getenv("LIVEMIG_TEST_DROP_CHANGE"))
        r.drop_change = strtoull(getenv("LIVEMIG_TEST_DROP_CHANGE"), NULL, 10);
    r.no_recopy = getenv("LIVEMIG_TEST_NO_RECOPY") != NULL;
    lm_status_init(&r.st);
    if ((rc = lm_dsn_parse(&r.dsn, o->dsn, &err)) < 0)
        goto cleanup;
    if (o->defaults_file && (r.dsn.defaults_file = strdup(o->defaults_file)) == NULL) {
        rc = lm_err_set(&err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (r.dsn.kind == LM_DSN_PG) {
        /* The PostgreSQL engine drives its own pipeline (src/pg). */
        redacted = lm_dsn_redacted(&r.dsn);
        rc = lm_pg_migrate_main(o, redacted);
        free(redacted);
        lm_dsn_free(&r.dsn);
        lm_status_destroy(&r.st);
        return rc;
    }
    snprintf(r.st.table, sizeof(r.st.table), "%s.%s", r.dsn.db, o->table);
    memset(&fp, 0, sizeof(fp));
    if (o->nchanges_from && (rc = lm_run_files_parse(o, r.dsn.db ? r.dsn.db : "", &fp, &err)) < 0)
        goto cleanup;
    if ((rc = lm_run_live_init(&r, &err)) < 0)
        goto cleanup;
    if (o->control_socket && (rc = lm_ctl_start(&r.ctl, o->control_socket, &r.st, &err)) < 0)
        goto cleanup;
    if ((rc = lm_run_observe_start(&r, &err)) < 0)
        goto cleanup;
    redacted = lm_dsn_redacted(&r.dsn);
    lm_info("connecting to %s", redacted ? redacted : "server");
    if ((rc = lm_mysql_connect(&r.c, &r.dsn, &err)) < 0)
        goto cleanup;
    /* One livemig per table: the lock is taken before anything is read. */
    if ((rc = lm_mysql_run_lock(r.c, o->table, &err)) < 0 ||
        (rc = lm_run_throttle_init(&r, &err)) < 0 ||
        (o->execute && !o->nchanges_from && (rc = lm_run_replicas_start(&r, &err)) < 0))
        goto cleanup;
    if ((rc = lm_mysql_preflight(r.c, &pf, &r.plan, &err)) < 0)
        goto cleanup;
    if (r.plan->cutover_done) {
        /* Killed after the rename: only the checkpoint (and maybe the old
         * table) is left to drop. */
        lm_info("the cutover of %s.%s had completed before livemig stopped; finishing",
                r.plan->src->db, r.plan->src->name);
        if (o->execute && (rc = lm_mysql_finish(r.c, r.plan, o->drop_old, &err)) < 0)
            goto cleanup;
        lm_run_set_state(&r, LM_STATE_DONE);
        goto cleanup;
    }
    if (!o->execute) {
        lm_run_print_plan(r.plan, o);
        goto cleanup;
    }
    pthread_mutex_lock(&r.st.mu);
    r.st.rows_estimated = r.plan->src->rows_estimate;
    pthread_mutex_unlock(&r.st.mu);
    lm_run_hook(&r, "on-start", NULL);

    changed = !r.plan->resume; /* the shadow exists from here: failures undo */
    if ((rc = lm_run_start_changes(&r, &fp, &err)) < 0)
        goto cleanup;
    changed = true;
    if ((rc = lm_run_copy(&r, &err)) < 0)
        goto cleanup;
    lm_run_progress(&r, true);
    lm_run_hook(&r, "on-copy-complete", NULL);
    if ((rc = catch_up_phase(&r, &err)) < 0 || (rc = lm_run_verify(&r, &err)) < 0 ||
        (rc = lm_run_before_cutover(&r, &err)) < 0)
        goto cleanup;
    if ((rc = lm_run_cutover(&r, &err)) < 0)
        goto cleanup;
    if ((rc = lm_mysql_finish(r.c, r.plan, false, &err)) < 0) {
        lm_warn("the migration is done but the checkpoint %s.%s could not be dropped: %s",
                r.plan->src->db, r.plan->ckpt_name, err.msg);
        lm_err_clear(&err);
        rc = 0;
    }
    lm_run_set_state(&r, LM_STATE_DONE);
    lm_run_progress(&r, true);
    if (r.superseded)
        lm_info("%llu row writes were skipped: a later change in the same batch rewrote the key",
                r.superseded);
    lm_info("done: %s.%s has the new schema%s", r.plan->src->db, r.plan->src->name,
            o->drop_old && !r.fk_todo ? "" : "; the old table is kept");

cleanup:
    lm_tail_stop(r.tail);
    lm_run_replicas_stop(&r);
    if (rc < 0) {
        bool keep = lm_run_keep_for_resume(&r, &err);
        lm_run_set_state(&r, LM_STATE_FAILED);
        lm_error("%s", err.msg[0] ? err.msg : "the migration failed");
        /* Without a connection only a drop needs one badly enough to wait. */
        if (changed && r.plan &&
            (r.c || (!keep && lm_run_reconnect(&r, &(lm_err)LM_ERR_INIT) == 0))) {
            lm_err cerr = LM_ERR_INIT;
            if (lm_mysql_cleanup(r.c, r.plan, keep, &cerr) < 0)
                lm_error("could not drop the helper tables: %s", cerr.msg);
            else if (keep)
                lm_info("kept %s.%s and %s.%s: run the same command with --resume to continue, "
                        "or with --force to start over",
                        r.plan->src->db, r.plan->shadow_name, r.plan->src->db, r.plan->ckpt_name);
        }
    }
    lm_run_finished(&r, rc, &err);
    lm_ctl_stop(r.ctl);
    if (r.queue_ready)
        lm_queue_destroy(&r.q);
    lm_mysql_copy_free(&r.copy);
    lm_plan_free(r.plan);
    if (r.c)
        mysql_close(r.c);
    lm_dsn_free(&r.dsn);
    free(redacted);
    lm_status_destroy(&r.st);
    if (r.fk_todo) {
        /* Logged with the statements by the cutover; the exit says it too. */
        free(r.fk_todo);
        return 1;
    }
    return rc < 0 ? lm_err_exit_code(&err, changed) : 0;
}
