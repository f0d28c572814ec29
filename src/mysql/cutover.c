/* The cutover, sentry algorithm (DESIGN.md, research/ghost.md §2.3):
 *
 *   A: CREATE TABLE _t_old (sentry); LOCK TABLES t WRITE, _t_old WRITE
 *   C: SHOW MASTER STATUS -> pos;  drain(pos): the shadow has every change
 *   B: RENAME TABLE t TO _t_old, _t_new TO t      (blocks on A's locks)
 *   C: wait until B is seen waiting on a metadata lock
 *   A: DROP TABLE _t_old; UNLOCK TABLES           (B's rename goes first)
 *
 * Whatever dies or times out, the sentry holds the name _t_old while A's
 * lock is gone, so the rename fails and the table stays as it was.
 *
 * One subtlety: the server takes the rename's locks in name order, and
 * `_t_old` sorts before `t` for lower-case names, so B first waits for the
 * sentry and only asks for t once A dropped it. A must not unlock t
 * before B queued for it, or writes queued on t would run on the old
 * table. With performance_schema's MDL instrument on we watch for B's
 * pending lock on t; otherwise C probes the name _t_old with a zero lock
 * wait: "lock wait timeout" means B holds it and has moved on to t. */
#include "livemig/buf.h"
#include "livemig/clock.h"
#include "livemig/log.h"
#include "livemig/mysql.h"
#include "livemig/testpoint.h"
#include "mysql/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SENTRY_COMMENT "livemig-sentry"
#define POLL_US        2000
/* From B taking _t_old to B queueing on t: a few microseconds of server
 * code, unless the thread is descheduled. 2 ms proved too short on a
 * loaded 2-core machine under ASan; the exact way is performance_schema. */
#define GRACE_US 20000

typedef struct cut {
    const lm_plan *p;
    MYSQL *a, *b, *c;
    bool sentry, locked, sent;
    bool fk_dropped; /* the children's constraints are off (fk.c) */
    unsigned lock_s; /* --cutover-lock-timeout, whole seconds */
    bool have_ps;    /* performance_schema MDL instrument usable */
    double t0;
} cut;

static int run(MYSQL *c, lm_buf *q, lm_err *err)
{
    if (q->oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    return lm_mysql_exec(c, q->data, err);
}

/* DROP the sentry only if the table by that name is ours. */
static int drop_sentry_if_ours(MYSQL *c, const lm_plan *p, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    char *comment = NULL;
    int rc;

    if ((rc = lm_my_table_exists(c, p->src->db, p->old_name, &comment, err)) <= 0)
        return rc;
    if (strcmp(comment, SENTRY_COMMENT) == 0) {
        lm_buf_puts(&q, "DROP TABLE ");
        lm_my_put_table(&q, p->src->db, p->old_name);
        rc = run(c, &q, err);
    }
    free(comment);
    lm_buf_free(&q);
    return rc;
}

/* Undo an attempt that did not rename: B stopped first (so it cannot
 * rename once the sentry is gone), then the sentry and the lock. */
static void undo(cut *k)
{
    lm_err e = LM_ERR_INIT;
    lm_buf q = LM_BUF_INIT;

    if (k->sent) {
        lm_buf_printf(&q, "KILL QUERY %lu", mysql_thread_id(k->b));
        if (run(k->c, &q, &e) < 0)
            lm_warn("cutover: could not stop the rename: %s", e.msg);
        /* Its result: an interruption, or the rename's own failure. */
        mysql_read_query_result(k->b);
        k->sent = false;
        lm_buf_reset(&q);
    }
    if (k->locked) {
        lm_err_clear(&e);
        lm_buf_puts(&q, "DROP TABLE IF EXISTS ");
        lm_my_put_table(&q, k->p->src->db, k->p->old_name);
        if (run(k->a, &q, &e) == 0)
            k->sentry = false;
        if (mysql_query(k->a, "UNLOCK TABLES") != 0)
            lm_warn("cutover: UNLOCK TABLES failed: %s", mysql_error(k->a));
        k->locked = false;
    }
    if (k->sentry) {
        /* A's connection may be gone: drop the sentry from C, if still ours. */
        lm_err_clear(&e);
        if (drop_sentry_if_ours(k->c, k->p, &e) < 0)
            lm_warn("cutover: could not drop the sentry %s: %s", k->p->old_name, e.msg);
        k->sentry = false;
    }
    lm_buf_free(&q);
}

static int open_conns(cut *k, const lm_dsn *dsn, lm_err *err)
{
    MYSQL **cs[] = {&k->a, &k->b, &k->c};
    int rc;

    for (size_t i = 0; i < 3; i++) {
        if ((rc = lm_mysql_connect(cs[i], dsn, err)) < 0) {
            err->code = LM_EDB; /* a lost server now is worth another try */
            err->retryable = true;
            return LM_EDB;
        }
    }
    return 0;
}

static int create_sentry(cut *k, lm_err *err)
{
    const lm_plan *p = k->p;
    lm_buf q = LM_BUF_INIT;
    char *comment = NULL;
    int rc;

    if ((rc = lm_my_table_exists(k->c, p->src->db, p->old_name, &comment, err)) < 0)
        return rc;
    if (rc == 1) {
        bool ours = strcmp(comment, SENTRY_COMMENT) == 0;
        free(comment);
        if (!ours)
            return lm_err_set(err, LM_EFAIL,
                              "%s.%s exists and is not livemig's sentry: drop or rename it, "
                              "the cutover needs the name",
                              p->src->db, p->old_name);
        /* A sentry left by an earlier attempt of this run. */
        if ((rc = drop_sentry_if_ours(k->c, p, err)) < 0)
            return rc;
    }
    lm_buf_puts(&q, "CREATE TABLE ");
    lm_my_put_table(&q, p->src->db, p->old_name);
    lm_buf_puts(&q, " (id INT PRIMARY KEY) COMMENT='" SENTRY_COMMENT "'");
    rc = run(k->c, &q, err);
    lm_buf_free(&q);
    if (rc == 0)
        k->sentry = true;
    return rc;
}

/* An undone attempt: the children get their constraints on the old table
 * back (t is unlocked now). If that fails they stay off until the next
 * attempt or the operator runs the statements. */
static void restore_fks(cut *k)
{
    lm_err e = LM_ERR_INIT;
    char *todo = NULL;

    if (!k->fk_dropped)
        return;
    if (lm_mysql_fk_restore(k->c, k->p, k->lock_s, &todo, &e) < 0)
        lm_error("cutover: the foreign keys referencing %s.%s could not be added back (%s); "
                 "the next attempt retries, or run in one session:\n  SET SESSION "
                 "foreign_key_checks = 0;\n%s",
                 k->p->src->db, k->p->src->name, e.msg, todo ? todo : "");
    free(todo);
    k->fk_dropped = false;
}

/* The children's tables, read-locked with t so that every change of a
 * filled column before the rename is in the drain (--fill-from). */
static void put_fill_locks(lm_buf *q, const lm_plan *p)
{
    for (size_t i = 0; i < p->nfill; i++) {
        lm_buf_puts(q, ", ");
        lm_my_put_table(q, p->fills[i].child->db, p->fills[i].child->name);
        lm_buf_puts(q, " READ");
    }
}

static int lock_tables(cut *k, unsigned tsec, lm_err *err)
{
    const lm_plan *p = k->p;
    lm_buf q = LM_BUF_INIT;
    int rc;

    /* If livemig hangs, the server closes A and releases the lock. */
    lm_buf_printf(&q, "SET SESSION lock_wait_timeout = %u, wait_timeout = %u", tsec, 3 * tsec + 2);
    if ((rc = run(k->a, &q, err)) < 0)
        goto cleanup;
    lm_buf_reset(&q);
    lm_buf_printf(&q, "SET SESSION lock_wait_timeout = %u", tsec);
    if ((rc = run(k->b, &q, err)) < 0)
        goto cleanup;
    lm_buf_reset(&q);
    lm_buf_puts(&q, "LOCK TABLES ");
    lm_my_put_table(&q, p->src->db, p->src->name);
    lm_buf_puts(&q, " WRITE, ");
    lm_my_put_table(&q, p->src->db, p->old_name);
    lm_buf_puts(&q, " WRITE");
    put_fill_locks(&q, p);
    k->t0 = lm_now();
    if ((rc = run(k->a, &q, err)) < 0) {
        lm_err_prefix(err, "locking %s.%s", p->src->db, p->src->name);
        goto cleanup;
    }
    k->locked = true;
cleanup:
    lm_buf_free(&q);
    return rc;
}

static int count_rows(MYSQL *c, const char *db, const char *t, unsigned long long *n, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    char *v = NULL;
    int rc;

    lm_buf_puts(&q, "SELECT COUNT(*) FROM ");
    lm_my_put_table(&q, db, t);
    if ((rc = q.oom ? lm_err_set(err, LM_ENOMEM, "out of memory")
                    : lm_mysql_query_value(c, q.data, &v, err)) == 0)
        *n = v ? strtoull(v, NULL, 10) : 0;
    free(v);
    lm_buf_free(&q);
    return rc;
}

/* A new unique key must not have merged rows: compare counts under the lock. */
static int check_counts(cut *k, lm_err *err)
{
    unsigned long long src = 0, dst = 0;
    int rc;

    if ((rc = count_rows(k->a, k->p->src->db, k->p->src->name, &src, err)) < 0 ||
        (rc = count_rows(k->c, k->p->src->db, k->p->shadow_name, &dst, err)) < 0)
        return rc;
    if (src == dst)
        return 0;
    return lm_err_set(err, LM_EFAIL,
                      "the new unique key would lose %lld rows: %s.%s has %llu rows, the shadow "
                      "%llu (duplicates in the source?); nothing was renamed",
                      (long long)(src - dst), k->p->src->db, k->p->src->name, src, dst);
}

/* The shadow's AUTO_INCREMENT counter comes from its highest copied id; the
 * source's may be higher (rows deleted at the top), and ids must not be
 * reused after the swap. Read under the lock, so the value is final. */
static int carry_auto_increment(cut *k, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    char *v = NULL;
    int rc;

    lm_buf_puts(&q, "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
    lm_my_put_str(&q, k->c, k->p->src->db, strlen(k->p->src->db));
    lm_buf_puts(&q, " AND TABLE_NAME = ");
    lm_my_put_str(&q, k->c, k->p->src->name, strlen(k->p->src->name));
    if ((rc = q.oom ? lm_err_set(err, LM_ENOMEM, "out of memory")
                    : lm_mysql_query_value(k->c, q.data, &v, err)) < 0 ||
        v == NULL)
        goto cleanup;
    lm_buf_reset(&q);
    lm_buf_puts(&q, "ALTER TABLE ");
    lm_my_put_table(&q, k->p->src->db, k->p->shadow_name);
    lm_buf_printf(&q, " AUTO_INCREMENT = %llu", strtoull(v, NULL, 10));
    rc = run(k->c, &q, err);
cleanup:
    if (rc < 0)
        lm_err_prefix(err, "carrying the AUTO_INCREMENT counter over");
    free(v);
    lm_buf_free(&q);
    return rc;
}

/* 1 when C sees B waiting on a metadata lock in its RENAME, 0 when not (yet). */
static int rename_waiting(cut *k, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    int rc;

    lm_buf_printf(&q,
                  "SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = %lu AND STATE LIKE "
                  "'%%metadata lock%%' AND INFO LIKE 'RENAME%%'",
                  mysql_thread_id(k->b));
    if ((rc = q.oom ? lm_err_set(err, LM_ENOMEM, "out of memory")
                    : lm_my_query(k->c, q.data, &res, err)) == 0)
        rc = res && mysql_num_rows(res) > 0;
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    return rc;
}

/* 1 when B holds a pending exclusive lock on t itself (performance_schema). */
static int rename_queued_on_table(cut *k, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    int rc;

    lm_buf_puts(&q, "SELECT 1 FROM performance_schema.metadata_locks m JOIN "
                    "performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID "
                    "WHERE m.OBJECT_TYPE = 'TABLE' AND m.LOCK_STATUS = 'PENDING' AND "
                    "m.LOCK_TYPE = 'EXCLUSIVE' AND m.OBJECT_SCHEMA = ");
    lm_my_put_str(&q, k->c, k->p->src->db, strlen(k->p->src->db));
    lm_buf_puts(&q, " AND m.OBJECT_NAME = ");
    lm_my_put_str(&q, k->c, k->p->src->name, strlen(k->p->src->name));
    lm_buf_printf(&q, " AND t.PROCESSLIST_ID = %lu", mysql_thread_id(k->b));
    if ((rc = q.oom ? lm_err_set(err, LM_ENOMEM, "out of memory")
                    : lm_my_query(k->c, q.data, &res, err)) == 0)
        rc = res && mysql_num_rows(res) > 0;
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    return rc;
}

static bool mdl_instrumented(MYSQL *c)
{
    lm_err e = LM_ERR_INIT;
    char *v = NULL;
    bool on;

    if (lm_mysql_query_value(c,
                             "SELECT COUNT(*) FROM performance_schema.setup_instruments WHERE "
                             "NAME = 'wait/lock/metadata/sql/mdl' AND ENABLED = 'YES' AND "
                             "@@performance_schema = 1",
                             &v, &e) < 0)
        return false;
    on = v && strcmp(v, "1") == 0;
    free(v);
    return on;
}

/* 1 when B holds the name _t_old (C's zero-wait probe times out on its
 * metadata lock), 0 while the name is free (the table does not exist). */
static int rename_holds_old_name(cut *k, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    int rc = 0;

    lm_buf_puts(&q, "SELECT 1 FROM ");
    lm_my_put_table(&q, k->p->src->db, k->p->old_name);
    lm_buf_puts(&q, " LIMIT 0");
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
    } else if (mysql_query(k->c, q.data) == 0) {
        /* The name exists as a table again: not ours to judge, give up. */
        MYSQL_RES *res = mysql_store_result(k->c);
        if (res)
            mysql_free_result(res);
        rc = lm_err_set(err, LM_EFAIL, "%s.%s reappeared during the cutover", k->p->src->db,
                        k->p->old_name);
    } else if (mysql_errno(k->c) == 1205) {
        rc = 1;
    } else if (mysql_errno(k->c) != 1146) {
        rc = lm_my_fail(err, k->c, LM_EDB, "probing the rename's progress");
    }
    lm_buf_free(&q);
    return rc;
}

/* Wait (until deadline) for `probe` to say 1. */
static int wait_for(cut *k, int (*probe)(cut *, lm_err *), double deadline, lm_err *err)
{
    int rc;

    for (;;) {
        if ((rc = probe(k, err)) != 0)
            return rc;
        if (lm_now() > deadline)
            return 0;
        lm_sleep_us(POLL_US);
    }
}

/* The rename locks _t_new before anything else (name order). If another
 * session held it, B would be seen "waiting for a metadata lock" while not
 * yet queued behind A, and writes released by A's unlock would land in the
 * old table. So make sure nobody holds the shadow right before the rename
 * (only livemig knows the name; our own apply connection is idle now). */
static int shadow_free(cut *k, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    int rc;

    lm_buf_puts(&q, "LOCK TABLES ");
    lm_my_put_table(&q, k->p->src->db, k->p->shadow_name);
    lm_buf_puts(&q, " WRITE");
    if ((rc = lm_mysql_exec(k->c, "SET SESSION lock_wait_timeout = 0", err)) == 0 &&
        (rc = run(k->c, &q, err)) < 0) {
        lm_err_prefix(err, "another session is using the shadow %s", k->p->shadow_name);
        err->retryable = true;
    }
    if (rc == 0)
        rc = lm_mysql_exec(k->c, "UNLOCK TABLES", err);
    lm_buf_free(&q);
    return rc;
}

/* Send the rename, see it queued, release A: the rename runs first. */
static int swap(cut *k, double deadline, lm_err *err)
{
    const lm_plan *p = k->p;
    lm_buf q = LM_BUF_INIT;
    int rc;

    if ((rc = shadow_free(k, err)) < 0)
        return rc;
    lm_buf_puts(&q, "RENAME TABLE ");
    lm_my_put_table(&q, p->src->db, p->src->name);
    lm_buf_puts(&q, " TO ");
    lm_my_put_table(&q, p->src->db, p->old_name);
    lm_buf_puts(&q, ", ");
    lm_my_put_table(&q, p->src->db, p->shadow_name);
    lm_buf_puts(&q, " TO ");
    lm_my_put_table(&q, p->src->db, p->src->name);
    if (q.oom || mysql_send_query(k->b, q.data, (unsigned long)q.len) != 0) {
        rc = lm_my_fail(err, k->b, LM_EDB, "sending the rename");
        err->retryable = true;
        goto cleanup;
    }
    k->sent = true;
    if ((rc = wait_for(k, rename_waiting, deadline, err)) <= 0) {
        if (rc == 0) {
            rc = lm_err_set(err, LM_ETIMEOUT,
                            "the rename was not seen waiting for the lock in time");
            err->retryable = true;
        }
        goto cleanup;
    }
    lm_test_pause("cutover-queued");
    lm_buf_reset(&q);
    lm_buf_puts(&q, "DROP TABLE ");
    lm_my_put_table(&q, p->src->db, p->old_name);
    if ((rc = run(k->a, &q, err)) < 0) {
        err->retryable = true;
        goto cleanup;
    }
    k->sentry = false;
    /* B now moves on to t: let it queue there before t is released. */
    if (k->have_ps) {
        if ((rc = wait_for(k, rename_queued_on_table, deadline, err)) <= 0) {
            if (rc == 0) {
                rc = lm_err_set(err, LM_ETIMEOUT, "the rename was not seen queued on %s in time",
                                p->src->name);
                err->retryable = true;
            }
            goto cleanup; /* undo() stops B before t is released */
        }
    } else {
        if ((rc = wait_for(k, rename_holds_old_name, deadline, err)) <= 0) {
            if (rc == 0) {
                rc = lm_err_set(err, LM_ETIMEOUT, "the rename was not seen taking %s in time",
                                p->old_name);
                err->retryable = true;
            }
            goto cleanup;
        }
        lm_sleep_us(GRACE_US);
    }
    if (mysql_query(k->a, "UNLOCK TABLES") != 0)
        lm_warn("cutover: UNLOCK TABLES failed (%s): the lock goes with the connection",
                mysql_error(k->a));
    k->locked = false;
    k->sent = false;
    if (mysql_read_query_result(k->b) != 0) {
        /* The sentry is gone and t unlocked: a failed rename changed nothing. */
        rc = lm_my_fail(err, k->b, LM_EDB, "the rename failed");
        err->retryable = true;
        goto cleanup;
    }
    rc = 0;
cleanup:
    lm_buf_free(&q);
    return rc;
}

/* After the swap: the children's constraints follow the old table until
 * re-pointed. A failure does not undo the swap (writes go to the new table
 * already); the old table must then stay, it is still referenced. */
static int repoint_fks(cut *k, const lm_mysql_cutover_opts *opts)
{
    lm_err e = LM_ERR_INIT;
    char *todo = NULL;

    if (lm_mysql_fk_after_swap(k->c, k->p, k->lock_s, &todo, &e) == 0)
        return 0;
    lm_error("re-pointing foreign keys failed: %s; the swap is done and the old table %s.%s is "
             "kept; run these statements in one session:\n  SET SESSION foreign_key_checks = "
             "0;\n%s",
             e.msg, k->p->src->db, k->p->old_name, todo ? todo : "  (out of memory)\n");
    if (opts->fk_todo)
        *opts->fk_todo = todo;
    else
        free(todo);
    return -1;
}

int lm_mysql_cutover(const lm_dsn *dsn, const lm_plan *plan, const lm_mysql_cutover_opts *opts,
                     lm_drain_fn drain, void *drain_ctx, lm_err *err)
{
    double t = opts->lock_timeout_s > 0 ? opts->lock_timeout_s : 3.0, remaining, ms;
    unsigned tsec = (unsigned)ceil(t);
    cut k;
    lm_binlog_pos pos;
    int rc;

    memset(&k, 0, sizeof(k));
    k.p = plan;
    k.lock_s = tsec;
    if ((rc = open_conns(&k, dsn, err)) < 0)
        goto cleanup;
    k.have_ps = mdl_instrumented(k.c);
    if (!k.have_ps)
        lm_debug("cutover: no performance_schema MDL instrument; inferring the rename's queueing "
                 "from a probe and a %d ms grace",
                 GRACE_US / 1000);
    if ((rc = create_sentry(&k, err)) < 0)
        goto fail;
    lm_test_pause("cutover-sentry");
    /* Not under the lock: dropping a constraint needs a lock on t too. */
    if (plan->nfk_in) {
        if ((rc = lm_mysql_fk_predrop(k.c, plan, tsec, err)) < 0)
            goto fail;
        k.fk_dropped = true;
    }
    if ((rc = lock_tables(&k, tsec, err)) < 0) {
        if (err->server_errno == 1205)
            err->retryable = true;
        goto fail;
    }
    /* Under LOCK TABLES, A may touch nothing else: C reads the position. */
    if (!opts->no_binlog && (rc = lm_mysql_binlog_pos(k.c, &pos, err)) < 0)
        goto fail;
    remaining = t - (lm_now() - k.t0);
    if ((rc = drain(drain_ctx, opts->no_binlog ? NULL : &pos, remaining > 0.05 ? remaining : 0.05,
                    err)) < 0)
        goto fail;
    if (plan->adds_unique && (rc = check_counts(&k, err)) < 0)
        goto fail;
    if ((rc = carry_auto_increment(&k, err)) < 0)
        goto fail;
    lm_test_pause("cutover-locked");
    /* The rename may wait up to the rest of the budget, and at least 100 ms. */
    remaining = k.t0 + t - lm_now();
    if ((rc = swap(&k, lm_now() + (remaining > 0.1 ? remaining : 0.1), err)) < 0)
        goto fail;
    ms = (lm_now() - k.t0) * 1000.0;
    if (opts->blocked_s)
        *opts->blocked_s = ms / 1000.0;
    lm_info("cutover: %s.%s renamed; writes were blocked for %.0f ms", plan->src->db,
            plan->src->name, ms);
    lm_test_pause("cutover-renamed");
    if (repoint_fks(&k, opts) < 0)
        goto cleanup; /* the swap stands: the caller reports what is left */
    if (opts->drop_old) {
        lm_err e = LM_ERR_INIT;
        if (lm_my_drop_table(k.c, plan->src->db, plan->old_name, &e) < 0)
            lm_warn("the migration is done but the old table %s.%s could not be dropped: %s",
                    plan->src->db, plan->old_name, e.msg);
    }
    goto cleanup;
fail:
    undo(&k);
    restore_fks(&k);
    lm_info("cutover attempt undone after %.0f ms of lock; %s.%s unchanged",
            k.t0 > 0 ? (lm_now() - k.t0) * 1000.0 : 0.0, plan->src->db, plan->src->name);
cleanup:
    if (k.a)
        mysql_close(k.a);
    if (k.b)
        mysql_close(k.b);
    if (k.c)
        mysql_close(k.c);
    return rc;
}

int lm_mysql_cleanup(MYSQL *c, const lm_plan *plan, bool keep_resumable, lm_err *err)
{
    int rc = 0;

    if (plan == NULL || plan->src == NULL)
        return 0;
    if (!keep_resumable && ((rc = lm_my_drop_table(c, plan->src->db, plan->shadow_name, err)) < 0 ||
                            (rc = lm_my_drop_table(c, plan->src->db, plan->ckpt_name, err)) < 0))
        return rc;
    return drop_sentry_if_ours(c, plan, err) < 0 ? LM_EDB : 0;
}

int lm_mysql_finish(MYSQL *c, const lm_plan *plan, bool drop_old, lm_err *err)
{
    int rc;

    if (drop_old && (rc = lm_my_drop_table(c, plan->src->db, plan->old_name, err)) < 0)
        return rc;
    return lm_my_drop_table(c, plan->src->db, plan->ckpt_name, err);
}

int lm_mysql_binlog_pos(MYSQL *c, lm_binlog_pos *out, lm_err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = lm_my_query(c, "SHOW MASTER STATUS", &res, err)) < 0)
        return rc;
    if (res == NULL || (row = mysql_fetch_row(res)) == NULL || row[0] == NULL || row[1] == NULL) {
        rc = lm_err_set(err, LM_EINVAL,
                        "SHOW MASTER STATUS returned nothing: is binary logging on, and does "
                        "the user have BINLOG MONITOR (REPLICATION CLIENT)?");
        goto cleanup;
    }
    snprintf(out->file, sizeof(out->file), "%s", row[0]);
    out->pos = strtoull(row[1], NULL, 10);
cleanup:
    if (res)
        mysql_free_result(res);
    return rc;
}
