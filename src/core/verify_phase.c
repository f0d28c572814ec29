/* The pre-cutover verification: every chunk of table and shadow compared
 * under one snapshot while changes keep flowing (issue 3, DESIGN.md step 4). */
#include "core/run.h"

#include "livemig/buf.h"
#include "livemig/log.h"
#include "livemig/verify.h"

#define VERIFY_PASSES    3
#define VERIFY_CHUNK_MAX 100000

/* Bring the shadow exactly to pos: every change ending at or before it is
 * applied and none after it (this thread is the only applier). */
static int apply_to(lm_run *r, const lm_binlog_pos *pos, lm_err *err)
{
    lm_binlog_pos recv;
    bool queued;
    size_t n;
    int rc;

    for (;;) {
        if ((rc = lm_run_check_stop(r, err)) < 0)
            return rc;
        lm_queue_peek(&r->q, &recv, NULL, NULL, NULL);
        /* Wait for the stream only while it is behind pos: on an idle
         * server a wait would last its whole timeout, for every chunk. */
        queued = lm_binlog_pos_cmp(&recv, pos) >= 0;
        if ((rc = lm_run_apply_upto(r, pos, queued ? 0 : 20, &n, err)) < 0)
            return rc;
        if (n > 0)
            continue;
        if (queued)
            return 0; /* everything up to pos is queued and applied */
        lm_run_progress(r, false);
    }
}

static void add_verify_time(lm_run *r, double *since)
{
    double now = lm_now();

    pthread_mutex_lock(&r->st.mu);
    r->st.verify_seconds += now - *since;
    pthread_mutex_unlock(&r->st.mu);
    *since = now;
}

typedef struct recopy_args {
    lm_mysql_verify *v;
    lm_run *r;
} recopy_args;

static int recopy_once(void *ctx, lm_err *err)
{
    recopy_args *a = ctx;

    /* r->c, not a copy of it: a retry may have reconnected. */
    return lm_mysql_verify_recopy(a->v, a->r->c, err);
}

/* One chunk: open a snapshot at binlog position P, bring the shadow to P,
 * compare; a differing chunk is re-copied and compared again, up to
 * VERIFY_PASSES comparisons. */
static int verify_one(lm_run *r, lm_mysql_verify *v, double *since, lm_err *err)
{
    lm_buf range = LM_BUF_INIT, diff = LM_BUF_INIT;
    lm_binlog_pos pos;
    bool equal = false;
    int rc;

    for (int pass = 1;; pass++) {
        if ((rc = lm_mysql_verify_begin(v, pass > 1, &pos, err)) <= 0)
            goto cleanup;
        if ((rc = apply_to(r, &pos, err)) < 0 ||
            (rc = lm_mysql_verify_check(v, r->c, &equal, err)) < 0)
            goto cleanup;
        if (!equal && pass == VERIFY_PASSES) {
            lm_err derr = LM_ERR_INIT;
            if (lm_mysql_verify_diff(v, r->c, 5, &diff, &derr) < 0)
                lm_warn("verify: could not list the differing rows: %s", derr.msg);
        }
        lm_mysql_verify_end(v);
        add_verify_time(r, since);
        lm_run_progress(r, false);
        if (equal) {
            rc = 1;
            goto cleanup;
        }
        lm_buf_reset(&range);
        lm_mysql_verify_range(v, &range);
        if (pass == VERIFY_PASSES) {
            if (diff.data)
                lm_error("verify: first differing rows of %s:\n%s", range.data, diff.data);
            rc = lm_err_set(err, LM_EFAIL,
                            "verification failed: the shadow %s differs from %s in the key range "
                            "%s after %d passes (re-copied in between)%s; the table is unchanged",
                            r->plan->shadow_name, r->plan->src->name, range.data, pass,
                            r->plan->adds_unique ? "; the ALTER adds a unique key: are there "
                                                   "duplicates under it?"
                                                 : "");
            goto cleanup;
        }
        lm_warn("verify: the shadow differs in %s (pass %d of %d): re-copying that range",
                range.data, pass, VERIFY_PASSES);
        if (r->no_recopy)
            lm_warn("LIVEMIG_TEST_NO_RECOPY: not re-copying");
        else if ((rc = lm_run_retry(r, "re-copying a chunk", recopy_once, &(recopy_args){v, r},
                                    err)) < 0)
            goto cleanup;
    }
cleanup:
    lm_buf_free(&range);
    lm_buf_free(&diff);
    return rc;
}

/* Compare table and shadow, chunk by chunk, while changes keep flowing. */
int lm_run_verify(lm_run *r, lm_err *err)
{
    size_t vchunk;
    lm_mysql_verify *v = NULL;
    unsigned long long chunks = 0, rows = 0;
    double since = lm_now(), t0 = since;
    int rc;

    if (r->o->no_verify) {
        lm_info("--no-verify: cutting over without comparing %s with %s", r->plan->src->name,
                r->plan->shadow_name);
        return 0;
    }
    if (r->o->nchanges_from) {
        /* The shadow holds changes the table never saw: equal is not the goal. */
        lm_info("--changes-from: %s is ahead of %s by design; not compared", r->plan->shadow_name,
                r->plan->src->name);
        return 0;
    }
    /* A checksum chunk costs a snapshot, two queries and a catch-up
     * whatever its size: ten copy chunks per verify chunk keep that
     * overhead small and each snapshot still short. */
    vchunk = r->o->chunk_size < VERIFY_CHUNK_MAX / 10 ? r->o->chunk_size * 10 : VERIFY_CHUNK_MAX;
    lm_run_set_state(r, LM_STATE_VERIFYING);
    lm_run_progress(r, true);
    lm_info("verifying %s against %s in chunks of %zu rows", r->plan->shadow_name,
            r->plan->src->name, vchunk);
    if ((rc = lm_mysql_verify_new(&v, &r->dsn, r->plan, vchunk, err)) < 0)
        goto cleanup;
    while ((rc = verify_one(r, v, &since, err)) == 1) {
        chunks++;
        rows += lm_mysql_verify_rows(v);
        lm_mysql_verify_next(v);
    }
    if (rc == 0)
        lm_info("verified: %s equals %s (%llu rows in %llu chunks, %.1fs)", r->plan->shadow_name,
                r->plan->src->name, rows, chunks, lm_now() - t0);
cleanup:
    add_verify_time(r, &since);
    lm_mysql_verify_free(v);
    return rc;
}
