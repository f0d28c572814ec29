/* The row copy: key-ordered chunks, INSERT IGNORE … SELECT … LOCK IN
 * SHARE MODE. Rows the stream already wrote win (IGNORE); the stream's
 * later changes fix rows copied early. Any warning other than an expected
 * duplicate means data would change on the way, so it fails the copy. */
#include "livemig/buf.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { KV_TEXT, KV_HEX, KV_NUMBER } kv_style;

/* How a key value read back as text is written into the next query. */
static kv_style key_style(const lm_column *col)
{
    const char *t = col->data_type;

    /* ENUM/SET are read as their index (col+0) and ordered by it. */
    if (strcasecmp(t, "enum") == 0 || strcasecmp(t, "set") == 0)
        return KV_NUMBER;
    /* Bytes that are not text in the connection charset travel as hex. */
    if (strcasecmp(t, "bit") == 0 || strcasecmp(t, "binary") == 0 ||
        strcasecmp(t, "varbinary") == 0 || strstr(t, "blob") != NULL ||
        (col->charset == NULL && (strstr(t, "char") || strstr(t, "text"))))
        return KV_HEX;
    return KV_TEXT;
}

int lm_my_put_key_value(lm_buf *b, MYSQL *c, const lm_column *col, const char *v, size_t len)
{
    switch (key_style(col)) {
    case KV_NUMBER:
        for (size_t i = 0; i < len; i++)
            if (v[i] < '0' || v[i] > '9')
                return LM_EINVAL;
        return lm_buf_append(b, v, len);
    case KV_HEX:
        if (len == 0)
            return lm_buf_puts(b, "''");
        lm_buf_puts(b, "X'");
        lm_buf_hex(b, (const uint8_t *)v, len);
        return lm_buf_putc(b, '\'');
    default:
        return lm_my_put_str(b, c, v, len);
    }
}

void lm_my_put_key_cols(lm_buf *b, const lm_table_def *t, bool select_expr)
{
    for (size_t i = 0; i < t->nkey; i++) {
        const lm_column *col = &t->cols[t->key_cols[i]];
        if (i)
            lm_buf_puts(b, ", ");
        lm_mysql_quote_ident(b, col->name);
        if (select_expr && key_style(col) == KV_NUMBER)
            lm_buf_puts(b, " + 0");
    }
}

void lm_my_put_col(lm_buf *b, const char *qual, const char *col)
{
    if (qual) {
        lm_mysql_quote_ident(b, qual);
        lm_buf_putc(b, '.');
    }
    lm_mysql_quote_ident(b, col);
}

void lm_my_fill_alias(char *out, size_t cap, size_t i)
{
    snprintf(out, cap, "_lmf%zu", i);
}

void lm_my_put_fill_joins(lm_buf *b, const lm_plan *p)
{
    const lm_table_def *s = p->src;
    char alias[32];

    for (size_t i = 0; i < p->nfill; i++) {
        const lm_fill *f = &p->fills[i];
        lm_my_fill_alias(alias, sizeof(alias), i);
        lm_buf_puts(b, " LEFT JOIN ");
        lm_my_put_table(b, f->child->db, f->child->name);
        lm_buf_puts(b, " AS ");
        lm_mysql_quote_ident(b, alias);
        lm_buf_puts(b, " ON ");
        lm_my_put_col(b, alias, f->child->cols[f->join_col].name);
        lm_buf_puts(b, " = ");
        lm_my_put_col(b, s->name, s->cols[s->key_cols[0]].name);
    }
}

int lm_my_put_key_range(lm_buf *b, MYSQL *c, const lm_table_def *t, const char *qual,
                        char *const *names, char *const *vals, const size_t *lens, const char *op,
                        bool inclusive)
{
    lm_buf_putc(b, '(');
    for (size_t i = 0; i < t->nkey; i++) {
        lm_buf_puts(b, i ? " OR (" : "(");
        for (size_t j = 0; j <= i; j++) {
            const lm_column *col = &t->cols[t->key_cols[j]];
            if (j)
                lm_buf_puts(b, " AND ");
            lm_my_put_col(b, qual, names ? names[j] : col->name);
            if (j < i)
                lm_buf_puts(b, " = ");
            else
                lm_buf_printf(b, " %s%s ", op, inclusive && i + 1 == t->nkey ? "=" : "");
            if (lm_my_put_key_value(b, c, col, vals[j], lens[j]) < 0)
                return LM_EINVAL;
        }
        lm_buf_putc(b, ')');
    }
    return lm_buf_putc(b, ')');
}

static void put_from(lm_buf *b, const lm_table_def *t)
{
    lm_buf_puts(b, " FROM ");
    lm_my_put_table(b, t->db, t->name);
    lm_buf_puts(b, " FORCE INDEX (");
    lm_mysql_quote_ident(b, t->key_name);
    lm_buf_putc(b, ')');
}

void lm_my_put_dst_cols(lm_buf *b, const lm_plan *p)
{
    for (size_t i = 0; i < p->nmap; i++) {
        lm_buf_puts(b, i ? ", " : "");
        lm_mysql_quote_ident(b, p->dst->cols[p->map[i].dst].name);
    }
    lm_my_put_fill_cols(b, p, false);
}

void lm_my_put_fill_cols(lm_buf *b, const lm_plan *p, bool from_child)
{
    char alias[32];

    for (size_t i = 0; i < p->nfill; i++) {
        const lm_fill *f = &p->fills[i];
        lm_my_fill_alias(alias, sizeof(alias), i);
        for (size_t j = 0; j < f->ncols; j++) {
            lm_buf_puts(b, ", ");
            if (from_child)
                lm_my_put_col(b, alias, f->child->cols[f->cols[j].src].name);
            else
                lm_mysql_quote_ident(b, p->dst->cols[f->cols[j].dst].name);
        }
    }
}

void lm_mysql_key_free(char **vals, size_t *lens)
{
    for (size_t i = 0; vals && vals[i] != NULL; i++)
        free(vals[i]);
    free(vals);
    free(lens);
}

int lm_mysql_key_dup(const lm_plan *plan, char *const *vals, const size_t *lens, char ***out,
                     size_t **out_len)
{
    size_t n = plan->src->nkey;

    *out = NULL;
    *out_len = NULL;
    if (vals == NULL)
        return 0;
    /* One spare NULL slot: lm_mysql_key_free does not know nkey. */
    if ((*out = calloc(n + 1, sizeof(char *))) == NULL ||
        (*out_len = calloc(n, sizeof(size_t))) == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (((*out)[i] = malloc(lens[i] + 1)) == NULL)
            goto oom;
        memcpy((*out)[i], vals[i], lens[i]);
        (*out)[i][lens[i]] = '\0';
        (*out_len)[i] = lens[i];
    }
    return 0;
oom:
    lm_mysql_key_free(*out, *out_len);
    *out = NULL;
    *out_len = NULL;
    return LM_ENOMEM;
}

/* WHERE lo < key [AND key <= hi], qualified by qual; nothing when both are NULL. */
static int put_bounds(lm_buf *q, MYSQL *c, const lm_table_def *t, const char *qual, char *const *lo,
                      const size_t *lo_len, char *const *hi, const size_t *hi_len)
{
    if (lo || hi)
        lm_buf_puts(q, " WHERE ");
    if (lo && lm_my_put_key_range(q, c, t, qual, NULL, lo, lo_len, ">", false) < 0)
        return LM_EINVAL;
    if (lo && hi)
        lm_buf_puts(q, " AND ");
    if (hi && lm_my_put_key_range(q, c, t, qual, NULL, hi, hi_len, "<", true) < 0)
        return LM_EINVAL;
    return 0;
}

/* The n-th key after lo is found with an index range read of n entries from
 * lo, never an OFFSET scan from the start of the table. */
int lm_mysql_copy_bound(MYSQL *c, const lm_plan *p, char *const *lo, const size_t *lo_len,
                        char *const *hi, const size_t *hi_len, size_t n, char ***upper,
                        size_t **upper_len, bool *found, lm_err *err)
{
    const lm_table_def *t = p->src;
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    unsigned long *len;
    size_t lens[64];
    int rc;

    *found = false;
    *upper = NULL;
    *upper_len = NULL;
    lm_buf_puts(&q, "SELECT ");
    lm_my_put_key_cols(&q, t, true);
    put_from(&q, t);
    if (put_bounds(&q, c, t, NULL, lo, lo_len, hi, hi_len) < 0) {
        rc = lm_err_set(err, LM_EINVAL, "bad key value while copying");
        goto cleanup;
    }
    lm_buf_puts(&q, " ORDER BY ");
    lm_my_put_key_cols(&q, t, false);
    lm_buf_printf(&q, " LIMIT 1 OFFSET %zu", n ? n - 1 : 0);
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = lm_my_query(c, q.data, &res, err)) < 0)
        goto cleanup;
    if ((row = mysql_fetch_row(res)) == NULL)
        goto cleanup;
    len = mysql_fetch_lengths(res);
    if (t->nkey > 64) {
        rc = lm_err_set(err, LM_EINVAL, "key %s of %s has too many columns", t->key_name, t->name);
        goto cleanup;
    }
    for (size_t i = 0; i < t->nkey; i++) {
        if (row[i] == NULL) {
            rc = lm_err_set(err, LM_EFAIL, "NULL in key %s of %s", t->key_name, t->name);
            goto cleanup;
        }
        lens[i] = len[i];
    }
    if (lm_mysql_key_dup(p, row, lens, upper, upper_len) < 0) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    *found = true;
cleanup:
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    return rc;
}

int lm_mysql_copy_range(MYSQL *c, const lm_plan *p, char *const *lo, const size_t *lo_len,
                        char *const *hi, const size_t *hi_len, size_t *rows, lm_err *err)
{
    const lm_table_def *s = p->src, *d = p->dst;
    /* With joined children, the table's own columns are qualified. */
    const char *qual = p->nfill ? s->name : NULL;
    lm_buf q = LM_BUF_INIT;
    const char *info;
    unsigned long long records;
    int rc = 0;

    *rows = 0;
    lm_buf_puts(&q, "INSERT IGNORE INTO ");
    lm_my_put_table(&q, d->db, d->name);
    lm_buf_puts(&q, " (");
    lm_my_put_dst_cols(&q, p);
    lm_buf_puts(&q, ") SELECT ");
    for (size_t i = 0; i < p->nmap; i++) {
        lm_buf_puts(&q, i ? ", " : "");
        lm_my_put_col(&q, qual, s->cols[p->map[i].src].name);
    }
    lm_my_put_fill_cols(&q, p, true);
    put_from(&q, s);
    lm_my_put_fill_joins(&q, p);
    if (put_bounds(&q, c, s, qual, lo, lo_len, hi, hi_len) < 0) {
        rc = lm_err_set(err, LM_EINVAL, "bad key value while copying");
        goto cleanup;
    }
    /* The share locks hold every source row read until the chunk commits:
     * a later change to one is logged after the copy and applied over it. */
    lm_buf_puts(&q, " LOCK IN SHARE MODE");
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (mysql_query(c, q.data) != 0) {
        rc = lm_my_fail(err, c, LM_EDB, "copying a chunk");
        goto cleanup;
    }
    /* "Records: N  Duplicates: D  Warnings: W": rows already in the shadow
     * count as copied (the stream wrote a newer version). */
    info = mysql_info(c);
    if (info && sscanf(info, "Records: %llu", &records) == 1)
        *rows = (size_t)records;
    else
        *rows = (size_t)mysql_affected_rows(c);
    /* Duplicates pass: on the iteration key the stream put the row there
     * first; on another unique key the stream has not caught up yet (a real
     * duplicate is caught by the verification before the cutover). */
    rc = lm_my_check_warnings(c, true, "copying a chunk into the shadow", err);
cleanup:
    lm_buf_free(&q);
    return rc;
}

void lm_mysql_copy_free(lm_mysql_copy *copy)
{
    if (copy == NULL)
        return;
    lm_mysql_key_free(copy->last_key, copy->last_key_len);
    copy->last_key = NULL;
    copy->last_key_len = NULL;
}
