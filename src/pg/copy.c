/* The copy: key-ordered chunks read inside the slot's snapshot, so the
 * shadow holds exactly the table as of the stream's start. A holder
 * session keeps that snapshot alive (the replication connection may only
 * export it until its next command) and re-exports it to the chunks. */
#include "pg/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lm_pg_copy_hold(PGconn *hold, const char *slot_snapshot, lm_pg_copy *cp, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    PGresult *r = NULL;
    int rc;

    lm_buf_puts(&q, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT ");
    lm_pg_put_literal(&q, slot_snapshot);
    if (q.oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if ((rc = lm_pg_exec(hold, q.data, err)) < 0 ||
        (rc = lm_pg_query(hold, "SELECT pg_export_snapshot()", 0, NULL, &r, err)) < 0)
        goto cleanup;
    snprintf(cp->snapshot, sizeof(cp->snapshot), "%s", PQgetvalue(r, 0, 0));
cleanup:
    PQclear(r);
    lm_buf_free(&q);
    return rc;
}

/* (k1, k2) or k1 */
static void put_key(lm_buf *b, const lm_pg_plan *p)
{
    lm_buf_putc(b, '(');
    for (size_t k = 0; k < p->src.nkey; k++) {
        lm_buf_puts(b, k ? ", " : "");
        lm_pg_put_ident(b, p->src.cols[p->src.key[k]].name);
    }
    lm_buf_putc(b, ')');
}

/* ($first::t1, $2::t2) */
static void put_key_params(lm_buf *b, const lm_pg_plan *p, int first)
{
    lm_buf_putc(b, '(');
    for (size_t k = 0; k < p->src.nkey; k++)
        lm_buf_printf(b, "%s$%d::%s", k ? ", " : "", first + (int)k,
                      p->src.cols[p->src.key[k]].type);
    lm_buf_putc(b, ')');
}

/* The key of the n-th row after the last one copied, if there is one. */
static int chunk_end(PGconn *c, const lm_pg_plan *p, const lm_pg_copy *cp, size_t n, PGresult **end,
                     lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    int rc;

    lm_buf_puts(&q, "SELECT ");
    for (size_t k = 0; k < p->src.nkey; k++) {
        lm_buf_puts(&q, k ? ", " : "");
        lm_pg_put_ident(&q, p->src.cols[p->src.key[k]].name);
        /* Aliased: ORDER BY "id" would otherwise sort by this text. */
        lm_buf_printf(&q, "::text AS lm_k%zu", k);
    }
    lm_buf_puts(&q, " FROM ONLY ");
    lm_pg_put_qname(&q, p->src.nsp, p->src.name);
    if (cp->started) {
        lm_buf_puts(&q, " WHERE ");
        put_key(&q, p);
        lm_buf_puts(&q, " > ");
        put_key_params(&q, p, 1);
    }
    lm_buf_puts(&q, " ORDER BY ");
    for (size_t k = 0; k < p->src.nkey; k++) {
        lm_buf_puts(&q, k ? ", " : "");
        lm_pg_put_ident(&q, p->src.cols[p->src.key[k]].name);
    }
    lm_buf_printf(&q, " LIMIT 1 OFFSET %zu", n - 1);
    if (q.oom)
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
    else
        rc = lm_pg_query(c, q.data, cp->started ? (int)p->src.nkey : 0,
                         (const char *const *)cp->last, end, err);
    lm_buf_free(&q);
    return rc;
}

static void put_insert(lm_buf *q, const lm_pg_plan *p, const lm_pg_copy *cp, bool bounded)
{
    bool first = true;

    lm_buf_puts(q, "INSERT INTO ");
    lm_pg_put_qname(q, p->src.nsp, p->shadow_name);
    lm_buf_puts(q, " (");
    for (size_t i = 0; i < p->src.ncols; i++) {
        const lm_pg_col *to = lm_pg_mapped(p, i);
        if (to == NULL)
            continue;
        lm_buf_puts(q, first ? "" : ", ");
        lm_pg_put_ident(q, to->name);
        first = false;
    }
    lm_buf_puts(q, p->overriding ? ") OVERRIDING SYSTEM VALUE SELECT " : ") SELECT ");
    first = true;
    for (size_t i = 0; i < p->src.ncols; i++) {
        if (lm_pg_mapped(p, i) == NULL)
            continue;
        lm_buf_puts(q, first ? "" : ", ");
        lm_pg_put_ident(q, p->src.cols[i].name);
        first = false;
    }
    lm_buf_puts(q, " FROM ONLY ");
    lm_pg_put_qname(q, p->src.nsp, p->src.name);
    if (cp->started || bounded)
        lm_buf_puts(q, " WHERE ");
    if (cp->started) {
        put_key(q, p);
        lm_buf_puts(q, " > ");
        put_key_params(q, p, 1);
    }
    if (bounded) {
        lm_buf_puts(q, cp->started ? " AND " : "");
        put_key(q, p);
        lm_buf_puts(q, " <= ");
        put_key_params(q, p, cp->started ? (int)p->src.nkey + 1 : 1);
    }
}

int lm_pg_copy_chunk(PGconn *c, const lm_pg_plan *p, lm_pg_copy *cp, size_t n, size_t *rows,
                     lm_err *err)
{
    const char *params[64];
    lm_buf q = LM_BUF_INIT;
    PGresult *end = NULL, *ins = NULL;
    bool began = false, bounded;
    int np = 0, rc;

    *rows = 0;
    if (cp->done)
        return 0;
    lm_buf_puts(&q, "BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT ");
    lm_pg_put_literal(&q, cp->snapshot);
    if (q.oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if ((rc = lm_pg_exec(c, q.data, err)) < 0)
        goto cleanup;
    began = true;
    if ((rc = chunk_end(c, p, cp, n ? n : 1, &end, err)) < 0)
        goto cleanup;
    bounded = PQntuples(end) == 1;
    if (cp->started)
        for (size_t k = 0; k < p->src.nkey; k++)
            params[np++] = cp->last[k];
    if (bounded)
        for (size_t k = 0; k < p->src.nkey; k++)
            params[np++] = PQgetvalue(end, 0, (int)k);
    lm_buf_reset(&q);
    put_insert(&q, p, cp, bounded);
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = lm_pg_query(c, q.data, np, params, &ins, err)) < 0 ||
        (rc = lm_pg_exec(c, "COMMIT", err)) < 0)
        goto cleanup;
    began = false;
    *rows = (size_t)strtoull(PQcmdTuples(ins), NULL, 10);
    cp->rows += *rows;
    if (!bounded) {
        cp->done = true;
        goto cleanup;
    }
    for (size_t k = 0; k < p->src.nkey; k++) {
        char *v = strdup(PQgetvalue(end, 0, (int)k));
        if (v == NULL) {
            rc = lm_err_set(err, LM_ENOMEM, "out of memory");
            goto cleanup;
        }
        free(cp->last[k]);
        cp->last[k] = v;
    }
    cp->started = true;
cleanup:
    if (began)
        lm_pg_exec(c, "ROLLBACK", &(lm_err)LM_ERR_INIT);
    PQclear(end);
    PQclear(ins);
    lm_buf_free(&q);
    return rc;
}

void lm_pg_copy_free(lm_pg_copy *cp)
{
    for (size_t k = 0; k < sizeof(cp->last) / sizeof(cp->last[0]); k++) {
        free(cp->last[k]);
        cp->last[k] = NULL;
    }
}
