/* What the engine knows about a table: its columns, its row identity, and
 * how the source's columns map onto the shadow's after the ALTER. */
#include "pg/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_name(char *dst, const char *src)
{
    snprintf(dst, LM_PG_NAME_MAX, "%s", src);
}

static int load_cols(PGconn *c, lm_pg_table *t, lm_err *err)
{
    char oid[16];
    const char *params[] = {oid};
    PGresult *r = NULL;
    int rc;

    snprintf(oid, sizeof(oid), "%u", t->oid);
    rc =
        lm_pg_query(c,
                    "SELECT attname, format_type(atttypid, atttypmod), attnum, attgenerated <> '', "
                    "attidentity FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND "
                    "NOT attisdropped ORDER BY attnum",
                    1, params, &r, err);
    if (rc < 0)
        return rc;
    t->ncols = (size_t)PQntuples(r);
    t->cols = calloc(t->ncols ? t->ncols : 1, sizeof(*t->cols));
    if (t->cols == NULL) {
        PQclear(r);
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < t->ncols; i++) {
        lm_pg_col *col = &t->cols[i];
        copy_name(col->name, PQgetvalue(r, (int)i, 0));
        snprintf(col->type, sizeof(col->type), "%s", PQgetvalue(r, (int)i, 1));
        col->attnum = atoi(PQgetvalue(r, (int)i, 2));
        col->generated = PQgetvalue(r, (int)i, 3)[0] == 't';
        col->identity = PQgetvalue(r, (int)i, 4)[0];
        col->to = -1;
    }
    PQclear(r);
    return 0;
}

/* The row identity the stream carries: the replica identity index, or the
 * primary key (DEFAULT and FULL). */
static int load_key(PGconn *c, lm_pg_table *t, lm_err *err)
{
    char oid[16], ri[2] = {t->replident, '\0'};
    const char *params[] = {oid, ri};
    PGresult *r = NULL;
    int rc;

    snprintf(oid, sizeof(oid), "%u", t->oid);
    rc = lm_pg_query(c,
                     "SELECT k.attnum FROM pg_index i CROSS JOIN LATERAL "
                     "unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) "
                     "WHERE i.indrelid = $1::oid AND CASE WHEN $2 = 'i' THEN i.indisreplident "
                     "ELSE i.indisprimary END ORDER BY k.n",
                     2, params, &r, err);
    if (rc < 0)
        return rc;
    t->nkey = 0;
    for (int row = 0; row < PQntuples(r); row++) {
        int attnum = atoi(PQgetvalue(r, row, 0));
        size_t i;
        for (i = 0; i < t->ncols && t->cols[i].attnum != attnum; i++)
            ;
        if (i == t->ncols || t->nkey == sizeof(t->key) / sizeof(t->key[0])) {
            PQclear(r);
            return lm_err_set(err, LM_EINVAL,
                              "%s.%s: its key has an expression or too many columns; livemig "
                              "needs a primary key (or replica identity index) of plain columns",
                              t->nsp, t->name);
        }
        t->key[t->nkey++] = i;
    }
    PQclear(r);
    return 0;
}

int lm_pg_table_load(PGconn *c, const char *nsp, const char *name, lm_pg_table *t, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    const char *params[1];
    PGresult *r = NULL;
    int rc;

    memset(t, 0, sizeof(*t));
    if (nsp && nsp[0])
        lm_pg_put_qname(&q, nsp, name);
    else
        lm_pg_put_ident(&q, name);
    if (q.oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    params[0] = q.data;
    rc = lm_pg_query(c,
                     "SELECT c.oid, n.nspname, c.relname, pg_get_userbyid(c.relowner), "
                     "c.relreplident, c.reltuples, c.relkind, c.relpersistence "
                     "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE c.oid = to_regclass($1)",
                     1, params, &r, err);
    if (rc < 0)
        goto cleanup;
    if (PQntuples(r) != 1) {
        rc = lm_err_set(err, LM_EINVAL, "table %s%s%s does not exist", nsp && nsp[0] ? nsp : "",
                        nsp && nsp[0] ? "." : "", name);
        goto cleanup;
    }
    t->oid = (unsigned)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
    copy_name(t->nsp, PQgetvalue(r, 0, 1));
    copy_name(t->name, PQgetvalue(r, 0, 2));
    copy_name(t->owner, PQgetvalue(r, 0, 3));
    t->replident = PQgetvalue(r, 0, 4)[0];
    t->rows_estimate = atof(PQgetvalue(r, 0, 5));
    if (PQgetvalue(r, 0, 6)[0] != 'r') {
        rc = lm_err_set(err, LM_EINVAL,
                        "%s.%s is not a plain table (relkind %s): livemig "
                        "migrates ordinary tables only (not partitioned tables, views or "
                        "foreign tables)",
                        t->nsp, t->name, PQgetvalue(r, 0, 6));
        goto cleanup;
    }
    if (PQgetvalue(r, 0, 7)[0] != 'p') {
        rc = lm_err_set(err, LM_EINVAL,
                        "%s.%s is unlogged or temporary: logical replication "
                        "does not see its changes",
                        t->nsp, t->name);
        goto cleanup;
    }
    if ((rc = load_cols(c, t, err)) < 0 || (rc = load_key(c, t, err)) < 0)
        goto cleanup;
cleanup:
    PQclear(r);
    lm_buf_free(&q);
    return rc;
}

void lm_pg_table_free(lm_pg_table *t)
{
    free(t->cols);
    t->cols = NULL;
    t->ncols = 0;
}

int lm_pg_plan_map(lm_pg_plan *p, lm_err *err)
{
    lm_pg_table *s = &p->src, *d = &p->shadow;

    p->overriding = false;
    for (size_t j = 0; j < d->ncols; j++)
        if (d->cols[j].identity == 'a')
            p->overriding = true;
    for (size_t i = 0; i < s->ncols; i++) {
        lm_pg_col *col = &s->cols[i];
        col->to = -1;
        col->retyped = false;
        /* LIKE gave the shadow's copies attnums 1..n in this order. */
        for (size_t j = 0; j < d->ncols; j++) {
            if (d->cols[j].attnum != (int)i + 1)
                continue;
            /* Generated columns are computed by the shadow itself (and
             * are not in the stream). */
            if (!col->generated && !d->cols[j].generated) {
                col->to = (int)j;
                col->retyped = strcmp(col->type, d->cols[j].type) != 0;
            }
            break;
        }
    }
    for (size_t k = 0; k < s->nkey; k++) {
        const lm_pg_col *col = &s->cols[s->key[k]];
        if (col->to < 0)
            return lm_err_set(err, LM_EINVAL,
                              "the ALTER drops key column %s: livemig finds rows by the key, "
                              "so the key must stay",
                              col->name);
    }
    return 0;
}

const lm_pg_col *lm_pg_mapped(const lm_pg_plan *p, size_t i)
{
    int to = p->src.cols[i].to;
    return to < 0 ? NULL : &p->shadow.cols[to];
}
