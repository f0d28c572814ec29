/* The verifier: key-ordered chunks of the source, each checksummed under
 * one consistent snapshot against the same key range of the target (see
 * include/livemig/verify.h for the protocol, verify_expr.c for what is
 * compared). */
#include "livemig/verify.h"

#include "livemig/log.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"
#include "mysql/verify_expr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct keyval {
    char **v;
    size_t *len;
} keyval;

struct lm_mysql_verify {
    MYSQL *c;
    const lm_plan *p;
    size_t chunk;
    bool one_chunk;  /* key types differ: ranges would not select the same rows */
    char **dst_key;  /* target column name of each source key column */
    lm_buf src_hash; /* SELECT of the source chunk's checksum, up to the WHERE */
    lm_buf dst_hash; /* the same for the target */
    lm_buf src_rows; /* key, row canon, readable row: for the diff */
    lm_buf dst_rows; /* the same for the target */
    keyval lo, hi;   /* chunk bounds: (lo, hi], NULL = open */
    /* --fill-from: the source is the table joined with its children, read
     * through a derived table that names each filled column as a column of
     * aug's source (see augment); NULL without fills. */
    lm_plan *aug;
    lm_buf joined;
    size_t src_ncols; /* the real source's columns (aug's are more) */
    bool in_txn;
    bool done;
    unsigned long long rows;
};

static void keyval_free(keyval *k, size_t n)
{
    for (size_t i = 0; k->v && i < n; i++)
        free(k->v[i]);
    free(k->v);
    free(k->len);
    k->v = NULL;
    k->len = NULL;
}

static int put_range(lm_buf *b, const lm_mysql_verify *v, bool src, const keyval *k, const char *op,
                     bool inclusive)
{
    return lm_my_put_key_range(b, v->c, v->p->src, NULL, src ? NULL : v->dst_key, k->v, k->len, op,
                               inclusive);
}

static int put_where(lm_buf *b, const lm_mysql_verify *v, bool src)
{
    if (v->lo.v == NULL && v->hi.v == NULL)
        return 0;
    lm_buf_puts(b, " WHERE ");
    if (v->lo.v && put_range(b, v, src, &v->lo, ">", false) < 0)
        return LM_EINVAL;
    if (v->lo.v && v->hi.v)
        lm_buf_puts(b, " AND ");
    if (v->hi.v && put_range(b, v, src, &v->hi, "<", true) < 0)
        return LM_EINVAL;
    return 0;
}

static void put_from(lm_buf *b, const lm_table_def *t, bool force_key)
{
    lm_buf_puts(b, " FROM ");
    lm_my_put_table(b, t->db, t->name);
    if (force_key) {
        lm_buf_puts(b, " FORCE INDEX (");
        lm_mysql_quote_ident(b, t->key_name);
        lm_buf_putc(b, ')');
    }
}

/* The source's FROM for the checksum and the re-copy. */
static void put_src_from(lm_buf *b, const lm_mysql_verify *v)
{
    if (v->aug)
        lm_buf_append(b, v->joined.data, v->joined.len);
    else
        put_from(b, v->p->src, true);
}

static char *fill_name(size_t f, size_t j)
{
    char buf[48];

    snprintf(buf, sizeof(buf), "__lmf%zu_%zu", f, j);
    return strdup(buf);
}

/* A plan whose source also has the filled columns (named __lmfF_J, typed
 * like the child's) mapped to the shadow's, and the derived table
 *   FROM (SELECT `t`.*, `_lmf0`.`c` AS `__lmf0_0` … FROM t FORCE INDEX (key)
 *         LEFT JOIN child AS `_lmf0` ON …) AS `t`
 * that provides them (the server merges it: key ranges still use the index). */
static int augment(lm_mysql_verify *v, const lm_plan *p, lm_err *err)
{
    const lm_table_def *s = p->src;
    lm_plan *a = calloc(1, sizeof(*a));
    lm_table_def *t = calloc(1, sizeof(*t));
    size_t extra = 0, n;
    char alias[32];

    for (size_t f = 0; f < p->nfill; f++)
        extra += p->fills[f].ncols;
    if (a == NULL || t == NULL)
        goto oom;
    *a = *p;
    *t = *s;
    a->src = t;
    v->aug = a;
    t->cols = calloc(s->ncols + extra, sizeof(lm_column));
    a->map = calloc(p->nmap + extra, sizeof(lm_colpair));
    if (t->cols == NULL || a->map == NULL)
        goto oom;
    memcpy(t->cols, s->cols, s->ncols * sizeof(lm_column));
    memcpy(a->map, p->map, p->nmap * sizeof(lm_colpair));
    lm_buf_puts(&v->joined, " FROM (SELECT ");
    lm_mysql_quote_ident(&v->joined, s->name);
    lm_buf_puts(&v->joined, ".*");
    n = s->ncols;
    for (size_t f = 0; f < p->nfill; f++) {
        const lm_fill *fl = &p->fills[f];
        lm_my_fill_alias(alias, sizeof(alias), f);
        for (size_t j = 0; j < fl->ncols; j++, n++) {
            t->cols[n] = fl->child->cols[fl->cols[j].src];
            if ((t->cols[n].name = fill_name(f, j)) == NULL)
                goto oom;
            t->ncols = n + 1;
            a->map[a->nmap].src = (unsigned)n;
            a->map[a->nmap++].dst = fl->cols[j].dst;
            lm_buf_puts(&v->joined, ", ");
            lm_my_put_col(&v->joined, alias, fl->child->cols[fl->cols[j].src].name);
            lm_buf_puts(&v->joined, " AS ");
            lm_mysql_quote_ident(&v->joined, t->cols[n].name);
        }
    }
    put_from(&v->joined, s, true);
    lm_my_put_fill_joins(&v->joined, p);
    lm_buf_puts(&v->joined, ") AS ");
    lm_mysql_quote_ident(&v->joined, s->name);
    if (v->joined.oom)
        goto oom;
    v->p = a;
    return 0;
oom:
    if (a && v->aug == NULL) {
        free(a);
        free(t);
    }
    return lm_err_set(err, LM_ENOMEM, "out of memory");
}

static void augment_free(lm_mysql_verify *v, size_t src_ncols)
{
    if (v->aug == NULL)
        return;
    for (size_t i = src_ncols; i < v->aug->src->ncols; i++)
        free(v->aug->src->cols[i].name);
    free(v->aug->src->cols);
    free(v->aug->src);
    free(v->aug->map);
    free(v->aug);
    v->aug = NULL;
    lm_buf_free(&v->joined);
}

static int build(lm_mysql_verify *v, bool src, lm_err *err)
{
    const lm_table_def *t = src ? v->p->src : v->p->dst;
    lm_buf *h = src ? &v->src_hash : &v->dst_hash, *r = src ? &v->src_rows : &v->dst_rows;
    int rc;

    if ((rc = lm_vx_checksum(h, v->p, src)) < 0)
        goto bad;
    if (src)
        put_src_from(h, v);
    else
        put_from(h, t, false);
    lm_buf_puts(r, "SELECT ");
    if ((rc = lm_vx_key(r, v->p, src)) < 0)
        goto bad;
    lm_buf_puts(r, ", ");
    lm_vx_row_hash(r, v->p, src);
    lm_buf_puts(r, ", ");
    lm_vx_show(r, v->p, src);
    if (src)
        put_src_from(r, v);
    else
        put_from(r, t, false);
    if (h->oom || r->oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    return 0;
bad:
    return lm_err_set(err, LM_EINVAL, "cannot build the checksum of %s.%s (column types?)", t->db,
                      t->name);
}

int lm_mysql_verify_new(lm_mysql_verify **out, const lm_dsn *dsn, const lm_plan *plan,
                        size_t chunk_size, lm_err *err)
{
    lm_mysql_verify *v = calloc(1, sizeof(*v));
    const lm_table_def *s = plan->src;
    int rc;

    *out = NULL;
    if (v == NULL || (v->dst_key = calloc(s->nkey + 1, sizeof(char *))) == NULL) {
        free(v);
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    }
    v->p = plan;
    v->src_ncols = s->ncols;
    if (plan->nfill && (rc = augment(v, plan, err)) < 0)
        goto fail;
    v->chunk = chunk_size ? chunk_size : 1000;
    for (size_t k = 0; k < s->nkey; k++) {
        int m = lm_vx_map_of(plan, s->key_cols[k]);
        if (m < 0) {
            rc = lm_err_set(err, LM_EINVAL, "key column %s of %s is not compared",
                            s->cols[s->key_cols[k]].name, s->name);
            goto fail;
        }
        v->dst_key[k] = plan->dst->cols[plan->map[m].dst].name;
        if (!lm_vx_same_type(&s->cols[s->key_cols[k]], &plan->dst->cols[plan->map[m].dst]))
            v->one_chunk = true;
    }
    if (v->one_chunk)
        lm_info("verify: the key of %s changes type: comparing the table in one chunk", s->name);
    if ((rc = build(v, true, err)) < 0 || (rc = build(v, false, err)) < 0)
        goto fail;
    if ((rc = lm_mysql_connect(&v->c, dsn, err)) < 0)
        goto fail;
    /* One snapshot per chunk, however the server's default is set. */
    if ((rc = lm_mysql_exec(v->c, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", err)) <
        0)
        goto fail;
    *out = v;
    return 0;
fail:
    lm_mysql_verify_free(v);
    return rc;
}

void lm_mysql_verify_free(lm_mysql_verify *v)
{
    if (v == NULL)
        return;
    lm_mysql_verify_end(v);
    if (v->c)
        mysql_close(v->c);
    keyval_free(&v->lo, v->p->src->nkey);
    keyval_free(&v->hi, v->p->src->nkey);
    free(v->dst_key);
    augment_free(v, v->src_ncols);
    lm_buf_free(&v->src_hash);
    lm_buf_free(&v->dst_hash);
    lm_buf_free(&v->src_rows);
    lm_buf_free(&v->dst_rows);
    free(v);
}

static int snapshot_pos(MYSQL *c, lm_binlog_pos *pos, lm_err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc, got = 0;

    memset(pos, 0, sizeof(*pos));
    if ((rc = lm_my_query(c, "SHOW STATUS LIKE 'binlog_snapshot_%'", &res, err)) < 0)
        return rc;
    while (res && (row = mysql_fetch_row(res)) != NULL) {
        if (row[0] && row[1] && strcasecmp(row[0], "Binlog_snapshot_file") == 0) {
            snprintf(pos->file, sizeof(pos->file), "%s", row[1]);
            got |= 1;
        } else if (row[0] && row[1] && strcasecmp(row[0], "Binlog_snapshot_position") == 0) {
            pos->pos = strtoull(row[1], NULL, 10);
            got |= 2;
        }
    }
    mysql_free_result(res);
    if (got != 3 || pos->file[0] == '\0')
        return lm_err_set(err, LM_EINVAL,
                          "the server reports no binlog snapshot position "
                          "(Binlog_snapshot_file): verifying needs MariaDB with log_bin");
    return 0;
}

/* The key of the chunk-th row after lo, in the snapshot; none: last chunk.
 * The same index read as the copy's bounds. */
static int find_upper(lm_mysql_verify *v, lm_err *err)
{
    bool found;

    keyval_free(&v->hi, v->p->src->nkey);
    if (v->one_chunk)
        return 0;
    return lm_mysql_copy_bound(v->c, v->p, v->lo.v, v->lo.len, NULL, NULL, v->chunk, &v->hi.v,
                               &v->hi.len, &found, err);
}

int lm_mysql_verify_begin(lm_mysql_verify *v, bool again, lm_binlog_pos *pos, lm_err *err)
{
    int rc;

    lm_mysql_verify_end(v);
    if (v->done)
        return 0;
    if ((rc = lm_mysql_exec(v->c, "START TRANSACTION WITH CONSISTENT SNAPSHOT", err)) < 0) {
        lm_err_prefix(err, "verify");
        return rc;
    }
    v->in_txn = true;
    if ((rc = snapshot_pos(v->c, pos, err)) < 0)
        return rc;
    if (!again && (rc = find_upper(v, err)) < 0)
        return rc;
    return 1;
}

void lm_mysql_verify_end(lm_mysql_verify *v)
{
    if (v->in_txn) {
        mysql_query(v->c, "COMMIT");
        v->in_txn = false;
    }
}

void lm_mysql_verify_next(lm_mysql_verify *v)
{
    keyval_free(&v->lo, v->p->src->nkey);
    if (v->hi.v == NULL) {
        v->done = true;
        return;
    }
    v->lo = v->hi;
    v->hi.v = NULL;
    v->hi.len = NULL;
}

unsigned long long lm_mysql_verify_rows(const lm_mysql_verify *v)
{
    return v->rows;
}

static void put_key_text(lm_buf *b, const lm_mysql_verify *v, const keyval *k)
{
    lm_buf_putc(b, '(');
    for (size_t i = 0; i < v->p->src->nkey; i++) {
        lm_buf_puts(b, i ? ", " : "");
        lm_buf_append(b, k->v[i], k->len[i] > 100 ? 100 : k->len[i]);
    }
    lm_buf_putc(b, ')');
}

void lm_mysql_verify_range(const lm_mysql_verify *v, lm_buf *out)
{
    const lm_table_def *t = v->p->src;

    lm_buf_putc(out, '(');
    for (size_t i = 0; i < t->nkey; i++) {
        lm_buf_puts(out, i ? ", " : "");
        lm_buf_puts(out, t->cols[t->key_cols[i]].name);
    }
    lm_buf_putc(out, ')');
    if (v->lo.v == NULL && v->hi.v == NULL)
        lm_buf_puts(out, " over the whole table");
    if (v->lo.v) {
        lm_buf_puts(out, " > ");
        put_key_text(out, v, &v->lo);
    }
    if (v->lo.v && v->hi.v)
        lm_buf_puts(out, " and");
    if (v->hi.v) {
        lm_buf_puts(out, " <= ");
        put_key_text(out, v, &v->hi);
    }
}

/* The checksum query of one side for the open chunk. */
static int checksum_sql(const lm_mysql_verify *v, bool src, lm_buf *q, lm_err *err)
{
    const lm_buf *h = src ? &v->src_hash : &v->dst_hash;

    lm_buf_append(q, h->data, h->len);
    if (put_where(q, v, src) < 0)
        return lm_err_set(err, LM_EINVAL, "bad key value while verifying");
    return q->oom ? lm_err_set(err, LM_ENOMEM, "out of memory") : 0;
}

static int checksum_send(const lm_mysql_verify *v, MYSQL *c, bool src, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    int rc;

    if ((rc = checksum_sql(v, src, &q, err)) < 0)
        goto cleanup;
    if (mysql_send_query(c, q.data, (unsigned long)q.len) != 0) {
        rc = lm_my_fail(err, c, LM_EDB, "query failed");
        lm_err_prefix(err, "checksum of %s", src ? v->p->src->name : v->p->dst->name);
    }
cleanup:
    lm_buf_free(&q);
    return rc;
}

/* Read the result of the checksum query sent on c, so that c is left with
 * nothing pending whatever happened elsewhere, and copy its row. */
static int checksum_read(const lm_mysql_verify *v, MYSQL *c, bool src, char out[2][32], lm_err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc = 0;

    if (mysql_read_query_result(c) != 0 ||
        ((res = mysql_store_result(c)) == NULL && mysql_field_count(c) != 0)) {
        rc = lm_my_fail(err, c, LM_EDB, "query failed");
        lm_err_prefix(err, "checksum of %s", src ? v->p->src->name : v->p->dst->name);
        goto cleanup;
    }
    if (res == NULL || (row = mysql_fetch_row(res)) == NULL || !row[0] || !row[1]) {
        rc = lm_err_set(err, LM_EDB, "a checksum query returned nothing");
        goto cleanup;
    }
    for (int i = 0; i < 2; i++)
        snprintf(out[i], 32, "%s", row[i]);
cleanup:
    if (res)
        mysql_free_result(res);
    return rc;
}

static int checksum(const lm_mysql_verify *v, MYSQL *c, bool src, char out[2][32], lm_err *err)
{
    int rc = checksum_send(v, c, src, err);

    return rc < 0 ? rc : checksum_read(v, c, src, out, err);
}

/* With a target connection of its own, both checksums run at once: the
 * source's is sent on v->c (in the snapshot), the target's runs meanwhile,
 * then the source's result is read. They scan two different tables, so on
 * a server with more than one core this takes about the longer of the two
 * instead of their sum. */
int lm_mysql_verify_check(lm_mysql_verify *v, MYSQL *target, bool *equal, lm_err *err)
{
    char a[2][32], b[2][32];
    lm_err terr = LM_ERR_INIT;
    int rc, trc;

    *equal = false;
    if (target == NULL || target == v->c) {
        if ((rc = checksum(v, v->c, true, a, err)) < 0 ||
            (rc = checksum(v, v->c, false, b, err)) < 0)
            return rc;
    } else {
        if ((rc = checksum_send(v, v->c, true, err)) < 0)
            return rc;
        trc = checksum(v, target, false, b, &terr);
        /* Read the source's result even when the target's query failed:
         * a result left pending would make v->c unusable. */
        rc = checksum_read(v, v->c, true, a, err);
        if (trc < 0 && rc < 0) {
            lm_warn("verify: %s", terr.msg);
        } else if (trc < 0) {
            if (err && err->code == 0)
                *err = terr;
            return trc;
        }
        if (rc < 0)
            return rc;
    }
    v->rows = strtoull(a[0], NULL, 10);
    *equal = strcmp(a[0], b[0]) == 0 && strcmp(a[1], b[1]) == 0;
    return 0;
}

int lm_vx_rows_sql(const lm_mysql_verify *v, bool src, lm_buf *q)
{
    const lm_buf *r = src ? &v->src_rows : &v->dst_rows;

    lm_buf_append(q, r->data, r->len);
    if (put_where(q, v, src) < 0)
        return LM_EINVAL;
    return q->oom ? LM_ENOMEM : 0;
}

MYSQL *lm_vx_conn(const lm_mysql_verify *v)
{
    return v->c;
}

int lm_mysql_verify_recopy(lm_mysql_verify *v, MYSQL *c, lm_err *err)
{
    const lm_plan *p = v->p;
    lm_buf q = LM_BUF_INIT;
    int rc;

    if (mysql_query(c, "START TRANSACTION") != 0)
        return lm_my_fail(err, c, LM_EDB, "re-copying a chunk");
    lm_buf_puts(&q, "DELETE");
    put_from(&q, p->dst, false);
    if (put_where(&q, v, false) < 0)
        goto bad;
    if (q.oom)
        goto oom;
    if (mysql_query(c, q.data) != 0) {
        rc = lm_my_fail(err, c, LM_EDB, "re-copying a chunk (delete)");
        goto fail;
    }
    lm_buf_reset(&q);
    lm_buf_puts(&q, "INSERT IGNORE INTO ");
    lm_my_put_table(&q, p->dst->db, p->dst->name);
    lm_buf_puts(&q, " (");
    for (size_t i = 0; i < p->nmap; i++) {
        lm_buf_puts(&q, i ? ", " : "");
        lm_mysql_quote_ident(&q, p->dst->cols[p->map[i].dst].name);
    }
    lm_buf_puts(&q, ") SELECT ");
    for (size_t i = 0; i < p->nmap; i++) {
        lm_buf_puts(&q, i ? ", " : "");
        lm_mysql_quote_ident(&q, p->src->cols[p->map[i].src].name);
    }
    put_src_from(&q, v);
    if (put_where(&q, v, true) < 0)
        goto bad;
    lm_buf_puts(&q, " LOCK IN SHARE MODE");
    if (q.oom)
        goto oom;
    if (mysql_query(c, q.data) != 0) {
        rc = lm_my_fail(err, c, LM_EDB, "re-copying a chunk");
        goto fail;
    }
    if ((rc = lm_my_check_warnings(c, true, "re-copying a chunk", err)) < 0)
        goto fail;
    if (mysql_query(c, "COMMIT") != 0) {
        rc = lm_my_fail(err, c, LM_EDB, "re-copying a chunk (commit)");
        goto fail;
    }
    lm_buf_free(&q);
    return 0;
oom:
    rc = lm_err_set(err, LM_ENOMEM, "out of memory");
    goto fail;
bad:
    rc = lm_err_set(err, LM_EINVAL, "bad key value while re-copying");
fail:
    mysql_query(c, "ROLLBACK");
    lm_buf_free(&q);
    return rc;
}
