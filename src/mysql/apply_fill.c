/* Applying changes with --fill-from (issue 7), from the row images:
 *
 * - a child row inserted or updated sets the filled columns of its
 *   parent's shadow row; deleted, it clears them; its join column changed,
 *   it moves them. An UPDATE by key: a parent not in the shadow yet is left
 *   alone (the copy, or the parent's own change, reads the child later).
 * - a parent row written takes the filled columns from the child's current
 *   row (REPLACE … SELECT … LEFT JOIN): the copy ignores rows the stream
 *   wrote first, so they must be whole. Reading the child's current row is
 *   safe for the same reason the copy is: every later change of the child
 *   is in the stream after this one and is applied after it. */
#include "livemig/buf.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <string.h>

/* UPDATE shadow SET filled = image values (or NULL) WHERE key = join value. */
static int set_filled(MYSQL *c, const lm_plan *p, const lm_fill *f, const lm_row *r, bool clear,
                      lm_err *err)
{
    const lm_value *k = &r->cols[f->join_col];
    const lm_table_def *d = p->dst;
    lm_buf q = LM_BUF_INIT;
    int rc;

    /* A child row that points nowhere fills nothing. */
    if (k->kind == LM_VAL_NULL || k->kind == LM_VAL_ABSENT)
        return 0;
    lm_buf_puts(&q, "UPDATE ");
    lm_my_put_table(&q, d->db, d->name);
    lm_buf_puts(&q, " SET ");
    for (size_t i = 0; i < f->ncols; i++) {
        unsigned s = f->cols[i].src;
        lm_buf_puts(&q, i ? ", " : "");
        lm_mysql_quote_ident(&q, d->cols[f->cols[i].dst].name);
        lm_buf_puts(&q, " = ");
        if (clear)
            lm_buf_puts(&q, "NULL");
        else if ((rc = lm_my_literal(&q, &r->cols[s], &f->child->cols[s], err)) < 0)
            goto cleanup;
    }
    lm_buf_puts(&q, " WHERE ");
    lm_mysql_quote_ident(&q, d->cols[d->key_cols[0]].name);
    lm_buf_puts(&q, " = ");
    if ((rc = lm_my_literal(&q, k, &f->child->cols[f->join_col], err)) < 0)
        goto cleanup;
    rc = lm_my_apply_stmt(c, &q, err);
cleanup:
    lm_buf_free(&q);
    return rc;
}

/* An update that changes neither the join column nor a filled one is
 * nothing to the shadow (e.g. a patch's state when only its diff is filled). */
static bool touches_fill(const lm_fill *f, const lm_change *ch)
{
    if (!lm_my_value_eq(&ch->before->cols[f->join_col], &ch->after->cols[f->join_col]))
        return true;
    for (size_t i = 0; i < f->ncols; i++) {
        unsigned s = f->cols[i].src;
        if (!lm_my_value_eq(&ch->before->cols[s], &ch->after->cols[s]))
            return true;
    }
    return false;
}

int lm_my_apply_child(MYSQL *c, const lm_plan *p, const lm_change *ch, lm_err *err)
{
    const lm_fill *f;
    int rc;

    if (ch->source == 0 || ch->source > p->nfill)
        return lm_err_set(err, LM_ECORRUPT, "a change from an unknown table (%u)", ch->source);
    f = &p->fills[ch->source - 1];
    switch (ch->op) {
    case LM_ROW_INSERT:
        if ((rc = lm_my_check_image(f->child, ch->after, err)) < 0)
            return rc;
        return set_filled(c, p, f, ch->after, false, err);
    case LM_ROW_DELETE:
        if ((rc = lm_my_check_image(f->child, ch->before, err)) < 0)
            return rc;
        return set_filled(c, p, f, ch->before, true, err);
    case LM_ROW_UPDATE:
        if ((rc = lm_my_check_image(f->child, ch->before, err)) < 0 ||
            (rc = lm_my_check_image(f->child, ch->after, err)) < 0)
            return rc;
        if (!touches_fill(f, ch))
            return 0;
        if (!lm_my_value_eq(&ch->before->cols[f->join_col], &ch->after->cols[f->join_col]) &&
            (rc = set_filled(c, p, f, ch->before, true, err)) < 0)
            return rc;
        return set_filled(c, p, f, ch->after, false, err);
    }
    return lm_err_set(err, LM_ECORRUPT, "unknown change kind %d", (int)ch->op);
}

int lm_my_apply_parent(MYSQL *c, const lm_plan *p, const lm_row *r, lm_err *err)
{
    const lm_table_def *s = p->src, *d = p->dst;
    lm_buf q = LM_BUF_INIT;
    int rc = 0;

    lm_buf_puts(&q, "REPLACE INTO ");
    lm_my_put_table(&q, d->db, d->name);
    lm_buf_puts(&q, " (");
    lm_my_put_dst_cols(&q, p);
    lm_buf_puts(&q, ") SELECT ");
    for (size_t i = 0; i < p->nmap; i++) {
        unsigned sc = p->map[i].src;
        lm_buf_puts(&q, i ? ", " : "");
        if ((rc = lm_my_literal(&q, &r->cols[sc], &s->cols[sc], err)) < 0)
            goto cleanup;
    }
    lm_my_put_fill_cols(&q, p, true);
    /* One row to join the children to: the parent's key. */
    lm_buf_puts(&q, " FROM (SELECT ");
    if ((rc = lm_my_literal(&q, &r->cols[s->key_cols[0]], &s->cols[s->key_cols[0]], err)) < 0)
        goto cleanup;
    lm_buf_puts(&q, " AS ");
    lm_mysql_quote_ident(&q, s->cols[s->key_cols[0]].name);
    lm_buf_puts(&q, ") AS ");
    lm_mysql_quote_ident(&q, s->name);
    lm_my_put_fill_joins(&q, p);
    rc = lm_my_apply_stmt(c, &q, err);
cleanup:
    lm_buf_free(&q);
    return rc;
}
