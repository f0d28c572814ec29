/* Surviving faults: the checkpoint a run starts from, reconnecting the
 * main connection, and what a failure keeps for --resume (issue 5). */
#include "core/run.h"

#include "livemig/buf.h"
#include "livemig/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first line where two fingerprints differ, for the refusal. */
static void first_difference(const char *a, const char *b, char *out, size_t n)
{
    while (*a || *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || strncmp(a, b, la) != 0) {
            snprintf(out, n, "was \"%.*s\", now \"%.*s\"", (int)(la > 200 ? 200 : la), a,
                     (int)(lb > 200 ? 200 : lb), b);
            return;
        }
        a += la + (a[la] == '\n');
        b += lb + (b[lb] == '\n');
    }
    snprintf(out, n, "(no difference)");
}

static void describe_key(const lm_run *r, const lm_mysql_copy *cp, lm_buf *b)
{
    if (cp->done) {
        lm_buf_puts(b, "the copy is complete");
        return;
    }
    if (cp->last_key == NULL) {
        lm_buf_puts(b, "the copy starts from the first row");
        return;
    }
    lm_buf_puts(b, "copy continues after key (");
    for (size_t i = 0; i < r->plan->src->nkey; i++)
        lm_buf_printf(b, "%s%.*s", i ? ", " : "",
                      (int)(cp->last_key_len[i] > 40 ? 40 : cp->last_key_len[i]), cp->last_key[i]);
    lm_buf_putc(b, ')');
}

static int resume_from(lm_run *r, const char *fingerprint, lm_binlog_pos *start, lm_err *err)
{
    lm_ckpt ck;
    lm_buf where = LM_BUF_INIT;
    char *oldest = NULL, why[600];
    int rc;

    if ((rc = lm_mysql_ckpt_read(r->c, r->plan, &ck, err)) < 0)
        return rc;
    if (rc == 0)
        return lm_err_set(err, LM_EINVAL, "nothing to resume: the checkpoint %s.%s is gone",
                          r->plan->src->db, r->plan->ckpt_name);
    if (strcmp(ck.plan, fingerprint) != 0) {
        first_difference(ck.plan, fingerprint, why, sizeof(why));
        rc = lm_err_set(err, LM_EINVAL,
                        "cannot resume: the plan differs from the interrupted run's (%s); run "
                        "it with the same --alter and livemig version, or use --force to start "
                        "over",
                        why);
        goto cleanup;
    }
    if ((rc = lm_mysql_binlog_has(r->c, ck.pos.file, &oldest, err)) < 0)
        goto cleanup;
    if (rc == 0) {
        rc = lm_err_set(err, LM_EINVAL,
                        "cannot resume: the binlog file %s it needs was purged (the oldest left "
                        "is %s); a fresh start is needed: run again with --force instead of "
                        "--resume",
                        ck.pos.file, oldest ? oldest : "none");
        goto cleanup;
    }
    *start = ck.pos;
    r->copy = ck.copy;
    memset(&ck.copy, 0, sizeof(ck.copy));
    pthread_mutex_lock(&r->st.mu);
    r->st.rows_copied = r->copy.rows;
    r->st.changes_applied = ck.changes_applied;
    pthread_mutex_unlock(&r->st.mu);
    describe_key(r, &r->copy, &where);
    lm_info("resuming from checkpoint: %llu rows copied before, %s; binlog from %s:%llu%s%s",
            (unsigned long long)r->copy.rows, where.data ? where.data : "", start->file,
            (unsigned long long)start->pos, ck.gtid[0] ? " after GTID " : "", ck.gtid);
    rc = 0;
cleanup:
    lm_buf_free(&where);
    free(oldest);
    lm_mysql_ckpt_free(&ck);
    return rc;
}

int lm_run_checkpoint_start(lm_run *r, lm_binlog_pos *start, lm_err *err)
{
    char *fingerprint = lm_mysql_ckpt_fingerprint(r->plan);
    int rc;

    if (fingerprint == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if (r->plan->resume) {
        rc = resume_from(r, fingerprint, start, err);
    } else if ((rc = lm_mysql_binlog_pos(r->c, start, err)) == 0) {
        rc = lm_mysql_ckpt_create(r->c, r->plan, fingerprint, start, err);
    }
    free(fingerprint);
    r->copy.checkpoint = rc == 0;
    return rc;
}

int lm_run_connect_again(lm_run *r, MYSQL **c, bool run_lock, lm_err *err)
{
    double t0 = lm_now(), deadline = t0 + r->o->reconnect_timeout;
    unsigned delay_ms = 100;
    lm_err last = LM_ERR_INIT;
    int rc;

    if (*c)
        mysql_close(*c);
    *c = NULL;
    for (;;) {
        lm_err_clear(&last);
        if ((rc = lm_mysql_connect(c, &r->dsn, &last)) == 0) {
            /* The lock went with the old connection: take it again. */
            if (run_lock && (rc = lm_mysql_run_lock(*c, r->plan->src->name, err)) < 0)
                return rc;
            lm_info("reconnected to the server after %.1fs", lm_now() - t0);
            return 0;
        }
        if (lm_interrupted)
            return lm_err_set(err, LM_EABORT, "interrupted by signal while reconnecting");
        if (lm_now() + delay_ms / 1000.0 > deadline) {
            *err = last;
            lm_err_prefix(err, "the server stayed unreachable for %.0fs (--reconnect-timeout)",
                          r->o->reconnect_timeout);
            /* A lost server, not a refusal: what --resume needs stays. */
            err->code = rc = LM_EIO;
            err->retryable = false;
            return rc;
        }
        lm_sleep_us(delay_ms * 1000u);
        delay_ms = delay_ms < 5000 ? delay_ms * 2 : 5000;
    }
}

int lm_run_reconnect(lm_run *r, lm_err *err)
{
    return lm_run_connect_again(r, &r->c, true, err);
}

bool lm_run_keep_for_resume(const lm_run *r, const lm_err *err)
{
    if (r->o->cleanup || r->plan == NULL || r->plan->cutover_done || !r->copy.checkpoint)
        return false;
    /* A refused input, a data problem or a corrupt stream does not get
     * better by resuming: those drop everything. */
    return err->code != LM_EINVAL && err->code != LM_EFAIL && err->code != LM_ECORRUPT;
}
