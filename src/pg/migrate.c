/* `livemig migrate` on PostgreSQL: preflight → shadow → publication and
 * slot (exported snapshot) → copy in the snapshot while the stream is
 * spooled → spool applied → live stream applied to a fence → cutover →
 * slot and publication dropped. */
#include "livemig/pg.h"

#include "livemig/clock.h"
#include "livemig/log.h"
#include "pg/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APPLY_BATCH        1000
#define CATCH_UP_TIMEOUT_S 600.0

int lm_pg_run_check_stop(lm_pg_run *r, lm_err *err)
{
    return lm_status_check_stop(&r->st, lm_interrupted, err);
}

void lm_pg_run_state(lm_pg_run *r, lm_state s)
{
    pthread_mutex_lock(&r->st.mu);
    r->st.state = s;
    pthread_mutex_unlock(&r->st.mu);
}

void lm_pg_run_progress(lm_pg_run *r, bool force)
{
    double now = lm_now();

    if (force || now - r->last_progress >= r->o->progress_interval) {
        r->last_progress = now;
        lm_progress_print(&r->st);
    }
}

/* While the copy runs every message goes to the spool; relation and
 * truncate messages are looked at first, so DDL stops the copy early. */
static int to_spool(void *ctx, lm_lsn at, const uint8_t *buf, size_t len, lm_err *err)
{
    lm_pg_run *r = ctx;
    int rc = lm_pg_apply_check_msg(r->apply, buf, len, err);

    return rc < 0 ? rc : lm_spool_write(r->spool, at, buf, len, err);
}

static int copy_phase(lm_pg_run *r, lm_err *err)
{
    size_t rows, chunk;
    double t0;
    int rc;

    lm_pg_run_state(r, LM_STATE_COPYING);
    while (!r->copy.done) {
        if ((rc = lm_pg_run_check_stop(r, err)) < 0)
            return rc;
        pthread_mutex_lock(&r->st.mu);
        chunk = r->st.live.chunk_size;
        bool paused = r->st.op_throttle;
        pthread_mutex_unlock(&r->st.mu);
        if (paused || (r->o->throttle_flag && access(r->o->throttle_flag, F_OK) == 0)) {
            if ((rc = lm_pg_stream_pump(r->stream, 200, to_spool, r, err)) < 0)
                return rc;
            continue;
        }
        t0 = lm_now();
        if ((rc = lm_pg_copy_chunk(r->c, &r->plan, &r->copy, chunk, &rows, err)) < 0) {
            lm_err_prefix(err, "copying rows");
            return rc == LM_EDB && !err->retryable ? LM_EFAIL : rc;
        }
        lm_status_chunk(&r->st, rows, lm_now() - t0);
        if ((rc = lm_pg_stream_pump(r->stream, 0, to_spool, r, err)) < 0)
            return rc;
        lm_pg_run_progress(r, false);
    }
    /* The snapshot is no longer needed: holding it keeps VACUUM back. */
    if ((rc = lm_pg_exec(r->hold, "COMMIT", err)) < 0 ||
        (rc = lm_pg_exec(r->hold, "SET synchronous_commit = on", err)) < 0)
        return rc;
    /* From here a failure can keep what was built for --resume. */
    lm_buf q = LM_BUF_INIT;
    lm_buf_puts(&q, "COMMENT ON TABLE ");
    lm_pg_put_qname(&q, r->plan.src.nsp, r->plan.shadow_name);
    lm_buf_puts(&q, " IS '" LM_PG_COPIED_MARK "'");
    rc = q.oom ? lm_err_set(err, LM_ENOMEM, "out of memory") : lm_pg_exec(r->c, q.data, err);
    lm_buf_free(&q);
    if (rc < 0)
        return rc;
    lm_info("copied %llu rows", (unsigned long long)r->copy.rows);
    return 0;
}

/* The spooled changes, in order. The stream is not read meanwhile (it
 * waits in the server); status updates keep the connection alive. */
static int replay_spool(lm_pg_run *r, lm_err *err)
{
    uint64_t records, raw, file;
    const uint8_t *data;
    size_t len;
    uint64_t at;
    lm_lsn end;
    int rc;

    lm_pg_run_state(r, LM_STATE_CATCHING_UP);
    lm_spool_stats(r->spool, &records, &raw, &file);
    lm_info("applying %llu messages spooled during the copy (%llu bytes, %llu on disk)",
            (unsigned long long)records, (unsigned long long)raw, (unsigned long long)file);
    if ((rc = lm_spool_rewind(r->spool, err)) < 0)
        return rc;
    for (;;) {
        rc = lm_spool_read(r->spool, &at, &data, &len, err);
        if (rc == LM_EEOF) {
            lm_err_clear(err);
            break;
        }
        if (rc < 0 || (rc = lm_pg_apply_msg(r->apply, at, data, len, err)) < 0)
            return rc;
        if (lm_pg_apply_pending(r->apply) >= APPLY_BATCH) {
            if ((rc = lm_pg_run_check_stop(r, err)) < 0 ||
                (rc = lm_pg_run_apply(r, false, &end, err)) < 0 ||
                (rc = lm_pg_stream_keepalive(r->stream, err)) < 0)
                return rc;
            lm_pg_run_progress(r, false);
        }
    }
    if ((rc = lm_pg_run_apply(r, false, &end, err)) < 0)
        return rc;
    lm_spool_free(r->spool);
    r->spool = NULL;
    return 0;
}

/* Live changes until the shadow is as fresh as a fence emitted now; then
 * wait while the operator postpones the cutover. */
static int catch_up(lm_pg_run *r, lm_err *err)
{
    bool postponed = false, op_cutover, op_postpone;
    lm_lsn end;
    int rc;

    lm_pg_run_state(r, LM_STATE_CATCHING_UP);
    if ((rc = lm_pg_run_to_fence(r, false, CATCH_UP_TIMEOUT_S, &end, err)) < 0)
        return rc;
    for (;;) {
        pthread_mutex_lock(&r->st.mu);
        op_cutover = r->st.op_cutover;
        op_postpone = r->st.op_postpone;
        pthread_mutex_unlock(&r->st.mu);
        if (!op_postpone &&
            (op_cutover || !r->o->postpone_flag || access(r->o->postpone_flag, F_OK) != 0))
            break;
        if (!postponed) {
            lm_info("cutover postponed (remove %s or send `cutover` to the control socket)",
                    r->o->postpone_flag ? r->o->postpone_flag : "the postpone");
            lm_pg_run_state(r, LM_STATE_POSTPONED);
            postponed = true;
        }
        if ((rc = lm_pg_run_check_stop(r, err)) < 0 ||
            (rc = lm_pg_run_to_fence(r, false, CATCH_UP_TIMEOUT_S, &end, err)) < 0)
            return rc;
        usleep(200000);
    }
    if (postponed && (rc = lm_pg_run_to_fence(r, false, CATCH_UP_TIMEOUT_S, &end, err)) < 0)
        return rc;
    return 0;
}

static void print_plan(const lm_pg_run *r)
{
    const lm_pg_plan *p = &r->plan;

    printf("plan for %s.%s (about %.0f rows):\n", p->src.nsp, p->src.name,
           p->src.rows_estimate < 0 ? 0 : p->src.rows_estimate);
    printf("  shadow %s.%s: LIKE %s INCLUDING ALL, then ALTER TABLE … %s\n", p->src.nsp,
           p->shadow_name, p->src.name, r->o->alter);
    printf("  key:");
    for (size_t k = 0; k < p->src.nkey; k++)
        printf(" %s", p->src.cols[p->src.key[k]].name);
    printf(" (replica identity %c)\n  columns:\n", p->src.replident);
    for (size_t i = 0; i < p->src.ncols; i++) {
        const lm_pg_col *to = lm_pg_mapped(p, i), *c = &p->src.cols[i];
        if (c->generated)
            printf("    %s: generated, computed by the new table\n", c->name);
        else if (to == NULL)
            printf("    %s %s: dropped\n", c->name, c->type);
        else
            printf("    %s %s -> %s %s\n", c->name, c->type, to->name, to->type);
    }
    for (size_t j = 0; j < p->shadow.ncols; j++) {
        bool mapped = false;
        for (size_t i = 0; i < p->src.ncols; i++)
            mapped |= p->src.cols[i].to == (int)j;
        if (!mapped)
            printf("    (new) %s %s: its default\n", p->shadow.cols[j].name,
                   p->shadow.cols[j].type);
    }
    printf("  stream: publication and logical slot %s (pgoutput), spooled during the copy\n",
           p->slot);
    printf("  cutover: lock, drain to a fence, rename %s -> %s and %s -> %s in one transaction "
           "(lock_timeout %.1f s, %d tries)\n",
           p->src.name, p->old_name, p->shadow_name, p->src.name, r->o->cutover_lock_timeout,
           r->o->cutover_retries);
    printf("dry run: nothing was changed; add --execute to migrate\n");
}

/* Options that only the MySQL engine has so far. */
static int refuse_options(const lm_migrate_opts *o, lm_err *err)
{
    const char *what = o->nchanges_from              ? "--changes-from"
                       : o->nfill_from               ? "--fill-from"
                       : o->max_load                 ? "--max-load"
                       : o->critical_load            ? "--critical-load"
                       : o->throttle_query           ? "--throttle-query"
                       : o->replicas && *o->replicas ? "--replicas"
                       : o->metrics_listen           ? "--metrics-listen"
                       : o->metrics_textfile         ? "--metrics-textfile"
                       : o->hooks_dir                ? "--hooks-dir"
                       : o->kill_blockers_after > 0  ? "--kill-blockers-after"
                       : o->threads > 1              ? "--threads above 1"
                                                     : NULL;

    if (what)
        return lm_err_set(err, LM_EINVAL, "%s is not supported with PostgreSQL yet", what);
    return 0;
}

static int start_stream(lm_pg_run *r, lm_err *err)
{
    char snapshot[64], path[512];
    const char *tmp = getenv("TMPDIR");
    int rc;

    if (r->plan.resume) {
        /* The slot continues from what the shadow had confirmed. */
        r->copy.done = true;
        if ((rc = lm_pg_apply_new(&r->apply, r->c, &r->plan, err)) < 0 ||
            (rc = lm_pg_stream_open(&r->stream, r->o->dsn, &r->plan, err)) < 0 ||
            (rc = lm_pg_connect(&r->hold, r->o->dsn, false, err)) < 0 ||
            (rc = lm_pg_exec(r->hold, "SET synchronous_commit = on", err)) < 0 ||
            (rc = lm_pg_stream_start(r->stream, err)) < 0)
            return rc;
        lm_pg_apply_set_replaying(r->apply, true);
        return 0;
    }
    if ((rc = lm_pg_apply_new(&r->apply, r->c, &r->plan, err)) < 0 ||
        (rc = lm_pg_stream_create(&r->stream, r->c, r->o->dsn, &r->plan, snapshot, err)) < 0 ||
        (rc = lm_pg_connect(&r->hold, r->o->dsn, false, err)) < 0 ||
        (rc = lm_pg_copy_hold(r->hold, snapshot, &r->copy, err)) < 0 ||
        (rc = lm_pg_stream_start(r->stream, err)) < 0)
        return rc;
    snprintf(path, sizeof(path), "%s/livemig-%s-%d.spool.zst", tmp && *tmp ? tmp : "/tmp",
             r->plan.slot, (int)getpid());
    return lm_spool_create(&r->spool, path, err);
}

static void cleanup_helpers(lm_pg_run *r, bool drop_shadow)
{
    lm_err e = LM_ERR_INIT;

    lm_pg_stream_close(r->stream);
    r->stream = NULL;
    if (r->c == NULL || PQstatus(r->c) != CONNECTION_OK) {
        PQfinish(r->c);
        r->c = NULL;
        if (lm_pg_connect(&r->c, r->o->dsn, false, &e) < 0) {
            lm_error("could not drop slot/publication %s%s: %s", r->plan.slot,
                     drop_shadow ? " and the shadow" : "", e.msg);
            return;
        }
    }
    lm_pg_exec(r->c, "ROLLBACK", &(lm_err)LM_ERR_INIT);
    if (!drop_shadow) {
        /* After the swap the shadow is the table: only the stream goes. */
        if (lm_pg_drop_helpers(r->c, &r->plan, false, &e) < 0)
            lm_warn("dropping slot/publication %s: %s", r->plan.slot, e.msg);
        return;
    }
    if (lm_pg_drop_helpers(r->c, &r->plan, true, &e) < 0)
        lm_error("could not drop the helper objects: %s", e.msg);
    else
        lm_info("dropped %s.%s and the slot/publication %s; %s.%s is unchanged", r->plan.src.nsp,
                r->plan.shadow_name, r->plan.slot, r->plan.src.nsp, r->plan.src.name);
}

/* A failure after the copy that a later run can get past (a lost
 * connection, a cutover that could not get its locks) keeps the shadow and
 * the slot; refusals, data problems, DDL and operator aborts drop them. */
static bool keep_for_resume(const lm_pg_run *r, const lm_err *err, bool swapped)
{
    if (swapped || err->code == 0 || r->o->cleanup || !r->copy.done)
        return false;
    return err->code != LM_EINVAL && err->code != LM_EFAIL && err->code != LM_ECORRUPT &&
           err->code != LM_EABORT;
}

int lm_pg_migrate_main(const lm_migrate_opts *o, const char *redacted_dsn)
{
    lm_pg_preflight_opts pf = {o->table, o->alter, o->execute, o->force, o->resume};
    lm_err err = LM_ERR_INIT;
    bool changed = false, swapped = false;
    lm_pg_run r;
    int rc;

    memset(&r, 0, sizeof(r));
    r.o = o;
    lm_status_init(&r.st);
    r.st.live.chunk_size = o->chunk_size;
    snprintf(r.st.table, sizeof(r.st.table), "%s", o->table);
    if ((rc = refuse_options(o, &err)) < 0)
        goto cleanup;
    if (o->control_socket && (rc = lm_ctl_start(&r.ctl, o->control_socket, &r.st, &err)) < 0)
        goto cleanup;
    lm_info("connecting to %s", redacted_dsn ? redacted_dsn : "server");
    if ((rc = lm_pg_connect(&r.c, o->dsn, false, &err)) < 0 ||
        (rc = lm_pg_preflight(r.c, &pf, &r.plan, &err)) < 0)
        goto cleanup;
    if (!o->execute) {
        print_plan(&r);
        goto cleanup;
    }
    changed = true; /* the shadow exists from here: failures drop it */
    snprintf(r.st.table, sizeof(r.st.table), "%s.%s", r.plan.src.nsp, r.plan.src.name);
    pthread_mutex_lock(&r.st.mu);
    r.st.rows_estimated = r.plan.src.rows_estimate > 0 ? (uint64_t)r.plan.src.rows_estimate : 0;
    pthread_mutex_unlock(&r.st.mu);
    if ((rc = start_stream(&r, &err)) < 0 || (!r.plan.resume && (rc = copy_phase(&r, &err)) < 0) ||
        (!r.plan.resume && (rc = replay_spool(&r, &err)) < 0) || (rc = catch_up(&r, &err)) < 0)
        goto cleanup;
    lm_pg_run_progress(&r, true);
    if ((rc = lm_pg_run_cutover(&r, &err)) < 0)
        goto cleanup;
    swapped = true;
    lm_pg_run_state(&r, LM_STATE_DONE);
    lm_pg_run_progress(&r, true);
    lm_info("done: %s.%s has the new schema%s%s", r.plan.src.nsp, r.plan.src.name,
            o->drop_old ? "" : "; the old table is kept as ", o->drop_old ? "" : r.plan.old_name);

cleanup:
    if (rc < 0) {
        lm_pg_run_state(&r, LM_STATE_FAILED);
        lm_error("%s", err.msg[0] ? err.msg : "the migration failed");
    }
    if (changed && keep_for_resume(&r, &err, swapped)) {
        lm_pg_stream_close(r.stream);
        r.stream = NULL;
        lm_info("kept %s.%s and the slot/publication %s: run the same command with --resume to "
                "continue, or with --force to start over",
                r.plan.src.nsp, r.plan.shadow_name, r.plan.slot);
    } else if (changed) {
        cleanup_helpers(&r, !swapped);
    }
    lm_ctl_stop(r.ctl);
    lm_spool_free(r.spool);
    lm_pg_apply_free(r.apply);
    lm_pg_copy_free(&r.copy);
    lm_pg_table_free(&r.plan.src);
    lm_pg_table_free(&r.plan.shadow);
    PQfinish(r.hold);
    PQfinish(r.c);
    lm_status_destroy(&r.st);
    return rc < 0 ? lm_err_exit_code(&err, changed) : 0;
}
