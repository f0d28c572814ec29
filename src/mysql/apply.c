/* Applying row changes to the shadow, from the row images only (never a
 * re-read of the source: the binlog can run ahead of what InnoDB shows).
 * insert -> REPLACE of the after image; update -> REPLACE of the after
 * image, preceded by a DELETE of the before key when the key changed;
 * delete -> DELETE by key. Consecutive statements of one kind are merged
 * into one multi-row statement; one call is one transaction. A write whose
 * key a later change of the batch writes again is skipped (apply_plan.c).
 *
 * REPLACE may delete a shadow row that collides on another unique key. It
 * converges (the stream later re-writes that row) unless the source really
 * holds duplicates for a key the ALTER adds; the cutover compares row
 * counts in that case (plan->adds_unique), so no row is lost silently. */
#include "livemig/buf.h"
#include "livemig/log.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <stdlib.h>
#include <string.h>

/* Flush a statement well below max_allowed_packet (16 MiB by default). */
#define STMT_MAX_BYTES (1u << 20)
#define STMT_MAX_ROWS  1000u

typedef enum { ST_NONE, ST_REPLACE, ST_DELETE } st_kind;

typedef struct batch {
    MYSQL *c;
    const lm_plan *p;
    lm_buf sql;
    st_kind kind;
    size_t rows;
    size_t statements;
} batch;

static bool is_data_error(unsigned int no)
{
    switch (no) {
    case 1048: /* column cannot be null */
    case 1264: /* out of range */
    case 1265: /* data truncated */
    case 1292: /* incorrect date/time value */
    case 1366: /* incorrect value for column */
    case 1406: /* data too long */
        return true;
    default:
        return false;
    }
}

int lm_my_apply_stmt(MYSQL *c, const lm_buf *sql, lm_err *err)
{
    if (sql->oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if (mysql_query(c, sql->data) != 0) {
        unsigned int no = mysql_errno(c);
        return lm_my_fail(err, c, is_data_error(no) ? LM_EFAIL : LM_EDB,
                          "applying changes to the shadow");
    }
    return lm_my_check_warnings(c, false, "applying a change to the shadow", err);
}

static int flush(batch *b, lm_err *err)
{
    int rc;

    if (b->kind == ST_NONE)
        return 0;
    rc = lm_my_apply_stmt(b->c, &b->sql, err);
    b->statements++;
    b->kind = ST_NONE;
    b->rows = 0;
    lm_buf_reset(&b->sql);
    return rc;
}

/* Start a statement of `kind` or continue the open one. */
static int begin(batch *b, st_kind kind, lm_err *err)
{
    const lm_table_def *d = b->p->dst;
    int rc;

    if (b->kind == kind && b->sql.len < STMT_MAX_BYTES && b->rows < STMT_MAX_ROWS) {
        lm_buf_puts(&b->sql, kind == ST_REPLACE ? ", " : " OR ");
        return 0;
    }
    if ((rc = flush(b, err)) < 0)
        return rc;
    b->kind = kind;
    if (kind == ST_REPLACE) {
        lm_buf_puts(&b->sql, "REPLACE INTO ");
        lm_my_put_table(&b->sql, d->db, d->name);
        lm_buf_puts(&b->sql, " (");
        for (size_t i = 0; i < b->p->nmap; i++) {
            lm_buf_puts(&b->sql, i ? ", " : "");
            lm_mysql_quote_ident(&b->sql, d->cols[b->p->map[i].dst].name);
        }
        lm_buf_puts(&b->sql, ") VALUES ");
    } else {
        lm_buf_puts(&b->sql, "DELETE FROM ");
        lm_my_put_table(&b->sql, d->db, d->name);
        lm_buf_puts(&b->sql, " WHERE ");
    }
    return 0;
}

int lm_my_check_image(const lm_table_def *t, const lm_row *r, lm_err *err)
{
    if (r == NULL)
        return lm_err_set(err, LM_ECORRUPT, "a change lacks its row image");
    if (r->ncols != t->ncols)
        return lm_err_set(err, LM_ECORRUPT,
                          "a row image of %s.%s has %u columns, the table has %zu (was it "
                          "altered during the migration?)",
                          t->db, t->name, r->ncols, t->ncols);
    return 0;
}

static int check_image(const lm_plan *p, const lm_row *r, lm_err *err)
{
    return lm_my_check_image(p->src, r, err);
}

static int add_replace(batch *b, const lm_row *r, lm_err *err)
{
    const lm_plan *p = b->p;
    int rc;

    if ((rc = check_image(p, r, err)) < 0 || (rc = begin(b, ST_REPLACE, err)) < 0)
        return rc;
    lm_buf_putc(&b->sql, '(');
    for (size_t i = 0; i < p->nmap; i++) {
        unsigned s = p->map[i].src;
        lm_buf_puts(&b->sql, i ? ", " : "");
        if ((rc = lm_my_literal(&b->sql, &r->cols[s], &p->src->cols[s], err)) < 0)
            return rc;
    }
    lm_buf_putc(&b->sql, ')');
    b->rows++;
    return 0;
}

/* (k1 = v1 AND k2 = v2) for the shadow's key, values from the image. */
static int add_delete(batch *b, const lm_row *r, lm_err *err)
{
    const lm_plan *p = b->p;
    const lm_table_def *d = p->dst;
    int rc;

    if ((rc = check_image(p, r, err)) < 0 || (rc = begin(b, ST_DELETE, err)) < 0)
        return rc;
    lm_buf_putc(&b->sql, '(');
    for (size_t j = 0; j < d->nkey; j++) {
        unsigned s = p->dst_key_src[j];
        const lm_value *v = &r->cols[s];
        if (v->kind == LM_VAL_ABSENT || v->kind == LM_VAL_NULL)
            return lm_err_set(err, LM_ECORRUPT, "key column %s is missing from a row image",
                              p->src->cols[s].name);
        lm_buf_puts(&b->sql, j ? " AND " : "");
        lm_mysql_quote_ident(&b->sql, d->cols[d->key_cols[j]].name);
        lm_buf_puts(&b->sql, " = ");
        if ((rc = lm_my_literal(&b->sql, v, &p->src->cols[s], err)) < 0)
            return rc;
    }
    lm_buf_putc(&b->sql, ')');
    b->rows++;
    return 0;
}

/* A row written with --fill-from: statements in order, one at a time. */
static int add_parent_fill(batch *b, const lm_row *r, lm_err *err)
{
    int rc;

    if ((rc = check_image(b->p, r, err)) < 0 || (rc = flush(b, err)) < 0)
        return rc;
    b->statements++;
    return lm_my_apply_parent(b->c, b->p, r, err);
}

/* A superseded write is still checked, so a bad image fails the batch
 * whether or not a later change hides it. */
static int add_write(batch *b, const lm_row *r, bool skip, lm_err *err)
{
    if (skip)
        return check_image(b->p, r, err);
    return b->p->nfill > 0 ? add_parent_fill(b, r, err) : add_replace(b, r, err);
}

static int add_change(batch *b, const lm_change *ch, unsigned skip, lm_err *err)
{
    int rc;

    if (ch->source != 0) {
        if ((rc = flush(b, err)) < 0)
            return rc;
        b->statements++;
        return lm_my_apply_child(b->c, b->p, ch, err);
    }
    switch (ch->op) {
    case LM_ROW_INSERT:
        return add_write(b, ch->after, skip & LM_APPLY_SKIP_REPLACE, err);
    case LM_ROW_UPDATE:
        if ((rc = check_image(b->p, ch->before, err)) < 0 ||
            (rc = check_image(b->p, ch->after, err)) < 0)
            return rc;
        /* The old key's row must go, or the shadow keeps both versions. */
        if (lm_my_key_changed(b->p, ch->before, ch->after) && !(skip & LM_APPLY_SKIP_DELETE) &&
            (rc = add_delete(b, ch->before, err)) < 0)
            return rc;
        return add_write(b, ch->after, skip & LM_APPLY_SKIP_REPLACE, err);
    case LM_ROW_DELETE:
        if (skip & LM_APPLY_SKIP_DELETE)
            return check_image(b->p, ch->before, err);
        return add_delete(b, ch->before, err);
    }
    return lm_err_set(err, LM_ECORRUPT, "unknown change kind %d", (int)ch->op);
}

int lm_mysql_apply_batch(MYSQL *c, const lm_plan *plan, const lm_change *first,
                         const lm_ckpt_pos *ckpt, lm_apply_stats *stats, lm_err *err)
{
    batch b = {c, plan, LM_BUF_INIT, ST_NONE, 0, 0};
    uint8_t *skip = NULL;
    size_t n = 0, superseded = 0;
    int rc;

    memset(stats, 0, sizeof(*stats));
    if (first == NULL && ckpt == NULL)
        return 0;
    for (const lm_change *ch = first; ch; ch = ch->next)
        n++;
    /* Planned before the transaction: it is pure, and a retry plans the
     * same list the same way. */
    if (n > 0 && (skip = malloc(n)) == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if ((rc = lm_my_apply_plan(plan, first, n, skip, &superseded, err)) < 0) {
        free(skip);
        return rc;
    }
    if (mysql_query(c, "START TRANSACTION") != 0) {
        free(skip);
        return lm_my_fail(err, c, LM_EDB, "starting a transaction on the shadow");
    }
    n = 0;
    for (const lm_change *ch = first; ch; ch = ch->next, n++)
        if ((rc = add_change(&b, ch, skip[n], err)) < 0)
            goto fail;
    if ((rc = flush(&b, err)) < 0)
        goto fail;
    if (ckpt) {
        lm_buf_reset(&b.sql);
        lm_my_ckpt_apply_sql(&b.sql, c, plan, ckpt);
        if (b.sql.oom) {
            rc = lm_err_set(err, LM_ENOMEM, "out of memory");
            goto fail;
        }
        if (mysql_query(c, b.sql.data) != 0) {
            rc = lm_my_fail(err, c, LM_EDB, "recording the stream position in the checkpoint");
            goto fail;
        }
    }
    if (mysql_query(c, "COMMIT") != 0) {
        rc = lm_my_fail(err, c, LM_EDB, "committing changes to the shadow");
        goto fail;
    }
    lm_buf_free(&b.sql);
    free(skip);
    stats->changes = n;
    stats->superseded = superseded;
    stats->statements = b.statements;
    if (superseded > 0)
        lm_debug("applied %zu changes in %zu statements, %zu row writes superseded", n,
                 b.statements, superseded);
    return 0;
fail:
    /* Nothing of this batch stays: the caller may replay it as is. */
    mysql_query(c, "ROLLBACK");
    lm_buf_free(&b.sql);
    free(skip);
    return rc;
}
