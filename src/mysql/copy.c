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

static void free_key(char **vals, size_t *lens, size_t n)
{
    for (size_t i = 0; vals && i < n; i++)
        free(vals[i]);
    free(vals);
    free(lens);
}

/* The key of the chunk_size-th row after the last copied one, or none
 * (*found = false) when fewer rows remain: then this is the last chunk. */
static int find_upper(MYSQL *c, const lm_plan *p, const lm_mysql_copy *cp, size_t chunk,
                      char ***vals, size_t **lens, bool *found, lm_err *err)
{
    const lm_table_def *t = p->src;
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    unsigned long *len;
    int rc;

    *found = false;
    lm_buf_puts(&q, "SELECT ");
    lm_my_put_key_cols(&q, t, true);
    put_from(&q, t);
    if (cp->last_key) {
        lm_buf_puts(&q, " WHERE ");
        if (lm_my_put_key_range(&q, c, t, NULL, NULL, cp->last_key, cp->last_key_len, ">", false) <
            0) {
            rc = lm_err_set(err, LM_EINVAL, "bad key value while copying");
            goto cleanup;
        }
    }
    lm_buf_puts(&q, " ORDER BY ");
    lm_my_put_key_cols(&q, t, false);
    lm_buf_printf(&q, " LIMIT 1 OFFSET %zu", chunk - 1);
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = lm_my_query(c, q.data, &res, err)) < 0)
        goto cleanup;
    if ((row = mysql_fetch_row(res)) == NULL)
        goto cleanup;
    len = mysql_fetch_lengths(res);
    /* One spare NULL slot: lm_mysql_copy_free does not know nkey. */
    *vals = calloc(t->nkey + 1, sizeof(char *));
    *lens = calloc(t->nkey, sizeof(size_t));
    if (*vals == NULL || *lens == NULL)
        goto oom;
    for (size_t i = 0; i < t->nkey; i++) {
        if (row[i] == NULL) {
            rc = lm_err_set(err, LM_EFAIL, "NULL in key %s of %s", t->key_name, t->name);
            goto cleanup;
        }
        if (((*vals)[i] = malloc(len[i] + 1)) == NULL)
            goto oom;
        memcpy((*vals)[i], row[i], len[i]);
        (*vals)[i][len[i]] = '\0';
        (*lens)[i] = len[i];
    }
    *found = true;
    goto cleanup;
oom:
    rc = lm_err_set(err, LM_ENOMEM, "out of memory");
cleanup:
    if (rc < 0 || !*found) {
        free_key(*vals, *lens, t->nkey);
        *vals = NULL;
        *lens = NULL;
    }
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    return rc;
}

static int copy_range(MYSQL *c, const lm_plan *p, const lm_mysql_copy *cp, char **upper,
                      size_t *upper_len, size_t *rows, lm_err *err)
{
    const lm_table_def *s = p->src, *d = p->dst;
    /* With joined children, the table's own columns are qualified. */
    const char *qual = p->nfill ? s->name : NULL;
    lm_buf q = LM_BUF_INIT;
    const char *info;
    unsigned long long records;
    int rc = 0;

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
    if (cp->last_key || upper)
        lm_buf_puts(&q, " WHERE ");
    if (cp->last_key &&
        lm_my_put_key_range(&q, c, s, qual, NULL, cp->last_key, cp->last_key_len, ">", false) < 0)
        goto bad;
    if (cp->last_key && upper)
        lm_buf_puts(&q, " AND ");
    if (upper && lm_my_put_key_range(&q, c, s, qual, NULL, upper, upper_len, "<", true) < 0)
        goto bad;
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
    goto cleanup;
bad:
    rc = lm_err_set(err, LM_EINVAL, "bad key value while copying");
cleanup:
    lm_buf_free(&q);
    return rc;
}

/* With a checkpoint, the chunk and the watermark commit together. */
static int copy_range_ckpt(MYSQL *c, const lm_plan *p, const lm_mysql_copy *cp, char **upper,
                           size_t *upper_len, bool found, size_t *rows, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    int rc;

    if (!cp->checkpoint)
        return copy_range(c, p, cp, upper, upper_len, rows, err);
    if (mysql_query(c, "START TRANSACTION") != 0)
        return lm_my_fail(err, c, LM_EDB, "starting a chunk's transaction");
    if ((rc = copy_range(c, p, cp, upper, upper_len, rows, err)) < 0)
        goto fail;
    /* The last chunk has no upper key: keep the previous watermark. */
    if (found)
        lm_my_ckpt_copy_sql(&q, p, upper, upper_len, false, cp->rows + *rows);
    else
        lm_my_ckpt_copy_sql(&q, p, cp->last_key, cp->last_key_len, true, cp->rows + *rows);
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto fail;
    }
    if (mysql_query(c, q.data) != 0) {
        rc = lm_my_fail(err, c, LM_EDB, "recording the copy in the checkpoint");
        goto fail;
    }
    if (mysql_query(c, "COMMIT") != 0) {
        rc = lm_my_fail(err, c, LM_EDB, "committing a chunk");
        goto fail;
    }
    lm_buf_free(&q);
    return 0;
fail:
    mysql_query(c, "ROLLBACK");
    lm_buf_free(&q);
    return rc;
}

int lm_mysql_copy_chunk(MYSQL *c, const lm_plan *plan, lm_mysql_copy *copy, size_t chunk_size,
                        size_t *rows_copied, lm_err *err)
{
    char **upper = NULL;
    size_t *upper_len = NULL;
    bool found;
    int rc;

    *rows_copied = 0;
    if (copy->done)
        return 0;
    if (chunk_size == 0)
        chunk_size = 1;
    copy->started = true;
    if ((rc = find_upper(c, plan, copy, chunk_size, &upper, &upper_len, &found, err)) < 0)
        return rc;
    /* The state moves only after the chunk committed: a failed chunk is
     * simply copied again. */
    if ((rc = copy_range_ckpt(c, plan, copy, upper, upper_len, found, rows_copied, err)) < 0) {
        free_key(upper, upper_len, plan->src->nkey);
        return rc;
    }
    copy->rows += *rows_copied;
    if (!found) {
        copy->done = true;
        return 0;
    }
    free_key(copy->last_key, copy->last_key_len, plan->src->nkey);
    copy->last_key = upper;
    copy->last_key_len = upper_len;
    return 0;
}

void lm_mysql_copy_free(lm_mysql_copy *copy)
{
    /* last_key is NULL-terminated (see find_upper): nkey is not stored here. */
    if (copy == NULL)
        return;
    if (copy->last_key) {
        for (size_t i = 0; copy->last_key[i] != NULL; i++)
            free(copy->last_key[i]);
    }
    free(copy->last_key);
    free(copy->last_key_len);
    copy->last_key = NULL;
    copy->last_key_len = NULL;
}
