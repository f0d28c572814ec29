/* Table definitions from information_schema: columns (with their binlog
 * ordinal), unique keys, the iteration key and a row estimate. */
#include "livemig/buf.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void lm_table_extra_free(lm_table_extra *x)
{
    if (x == NULL)
        return;
    for (size_t i = 0; i < x->nkeys; i++) {
        free(x->keys[i].name);
        free(x->keys[i].cols);
    }
    free(x->keys);
    x->keys = NULL;
    x->nkeys = 0;
    for (size_t i = 0; i < x->ncols && x->collation; i++)
        free(x->collation[i]);
    free(x->collation);
    x->collation = NULL;
    x->ncols = 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* WHERE TABLE_SCHEMA = '<db>' AND TABLE_NAME = '<name>' */
static void put_where(lm_buf *b, MYSQL *c, const char *db, const char *name)
{
    lm_buf_puts(b, " WHERE TABLE_SCHEMA = ");
    lm_my_put_str(b, c, db, strlen(db));
    lm_buf_puts(b, " AND TABLE_NAME = ");
    lm_my_put_str(b, c, name, strlen(name));
}

int lm_my_table_exists(MYSQL *c, const char *db, const char *name, char **comment, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc;

    if (comment)
        *comment = NULL;
    lm_buf_puts(&q, "SELECT TABLE_COMMENT FROM information_schema.TABLES");
    put_where(&q, c, db, name);
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = lm_my_query(c, q.data, &res, err)) < 0)
        goto cleanup;
    row = res ? mysql_fetch_row(res) : NULL;
    rc = row != NULL;
    if (row && comment && (*comment = strdup(row[0] ? row[0] : "")) == NULL)
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
cleanup:
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    return rc;
}

static bool is_generated(const char *extra)
{
    /* MySQL also says DEFAULT_GENERATED for an expression default: not generated. */
    return extra &&
           (strstr(extra, "VIRTUAL") || strstr(extra, "STORED") || strstr(extra, "PERSISTENT"));
}

static int read_columns(MYSQL *c, lm_table_def *t, lm_table_extra *x, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    size_t n, i = 0;
    int rc;

    lm_buf_puts(&q, "SELECT COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, DATA_TYPE, "
                    "CHARACTER_SET_NAME, COLLATION_NAME, IS_NULLABLE, EXTRA "
                    "FROM information_schema.COLUMNS");
    put_where(&q, c, t->db, t->name);
    lm_buf_puts(&q, " ORDER BY ORDINAL_POSITION");
    if ((rc = lm_my_query(c, q.data, &res, err)) < 0)
        goto cleanup;
    n = (size_t)mysql_num_rows(res);
    t->cols = calloc(n ? n : 1, sizeof(*t->cols));
    x->collation = calloc(n ? n : 1, sizeof(char *));
    if (t->cols == NULL || x->collation == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    x->ncols = n;
    for (i = 0; i < n && (row = mysql_fetch_row(res)) != NULL; i++) {
        lm_column *col = &t->cols[i];
        col->name = strdup(row[0]);
        col->ordinal = (unsigned)strtoul(row[1], NULL, 10) - 1;
        col->column_type = strdup(row[2]);
        col->data_type = strdup(row[3]);
        col->charset = dup_or_null(row[4]);
        x->collation[i] = dup_or_null(row[5]);
        col->nullable = strcmp(row[6], "YES") == 0;
        col->is_unsigned = strstr(row[2], "unsigned") != NULL;
        col->generated = is_generated(row[7]);
        t->ncols = i + 1;
        if (!col->name || !col->column_type || !col->data_type || (row[4] && !col->charset) ||
            (row[5] && !x->collation[i])) {
            rc = lm_err_set(err, LM_ENOMEM, "out of memory");
            goto cleanup;
        }
        if (col->ordinal != i) {
            rc = lm_err_set(err, LM_EDB, "unexpected column ordinals in %s.%s", t->db, t->name);
            goto cleanup;
        }
    }
cleanup:
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    return rc;
}

static int read_keys(MYSQL *c, lm_table_def *t, lm_table_extra *x, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    lm_ukey *k = NULL;
    int rc;

    lm_buf_puts(&q, "SELECT INDEX_NAME, COLUMN_NAME, SUB_PART, INDEX_TYPE "
                    "FROM information_schema.STATISTICS");
    put_where(&q, c, t->db, t->name);
    lm_buf_puts(&q, " AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX");
    if ((rc = lm_my_query(c, q.data, &res, err)) < 0)
        goto cleanup;
    x->keys = calloc(mysql_num_rows(res) + 1, sizeof(*x->keys));
    if (x->keys == NULL)
        goto oom;
    while ((row = mysql_fetch_row(res)) != NULL) {
        int ci = row[1] ? lm_table_def_find(t, row[1]) : -1;
        if (k == NULL || strcmp(k->name, row[0]) != 0) {
            k = &x->keys[x->nkeys++];
            if ((k->name = strdup(row[0])) == NULL)
                goto oom;
            k->primary = strcmp(row[0], "PRIMARY") == 0;
            /* A HASH "long unique" (MariaDB, on blobs) cannot be walked in order. */
            k->usable = row[3] == NULL || strcasecmp(row[3], "BTREE") == 0;
        }
        unsigned *cols = realloc(k->cols, (k->ncols + 1) * sizeof(*cols));
        if (cols == NULL)
            goto oom;
        k->cols = cols;
        if (ci < 0) { /* an expression in the index: cannot be used as a key */
            k->usable = false;
            continue;
        }
        k->cols[k->ncols++] = (unsigned)ci;
        if (t->cols[ci].nullable || t->cols[ci].generated || row[2] != NULL)
            k->usable = false;
    }
    goto cleanup;
oom:
    rc = lm_err_set(err, LM_ENOMEM, "out of memory");
cleanup:
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    return rc;
}

/* The iteration key: PRIMARY when usable, else the usable unique key with
 * the fewest columns (ties: by name, so the choice is stable). */
static int pick_key(lm_table_def *t, const lm_table_extra *x, lm_err *err)
{
    const lm_ukey *best = NULL;

    for (size_t i = 0; i < x->nkeys; i++) {
        const lm_ukey *k = &x->keys[i];
        if (!k->usable || k->ncols == 0)
            continue;
        if (best == NULL || (k->primary && !best->primary) ||
            (!best->primary && k->ncols < best->ncols))
            best = k;
    }
    if (best == NULL)
        return 0;
    t->key_name = strdup(best->name);
    t->key_cols = malloc(best->ncols * sizeof(unsigned));
    if (t->key_name == NULL || t->key_cols == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    memcpy(t->key_cols, best->cols, best->ncols * sizeof(unsigned));
    t->nkey = best->ncols;
    return 0;
}

int lm_my_read_table(MYSQL *c, const char *db, const char *name, lm_table_def **out,
                     lm_table_extra *extra, bool *is_view, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    lm_table_def *t = NULL;
    int rc;

    memset(extra, 0, sizeof(*extra));
    *is_view = false;
    lm_buf_puts(&q, "SELECT TABLE_TYPE, TABLE_ROWS FROM information_schema.TABLES");
    put_where(&q, c, db, name);
    if ((rc = lm_my_query(c, q.data, &res, err)) < 0)
        goto cleanup;
    if ((row = mysql_fetch_row(res)) == NULL) {
        rc = 0;
        goto cleanup;
    }
    if (row[0] && strcmp(row[0], "BASE TABLE") != 0) {
        *is_view = true;
        rc = 0;
        goto cleanup;
    }
    if ((t = calloc(1, sizeof(*t))) == NULL || (t->db = strdup(db)) == NULL ||
        (t->name = strdup(name)) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    t->rows_estimate = row[1] ? strtoull(row[1], NULL, 10) : 0;
    if ((rc = read_columns(c, t, extra, err)) < 0 || (rc = read_keys(c, t, extra, err)) < 0 ||
        (rc = pick_key(t, extra, err)) < 0)
        goto cleanup;
    *out = t;
    t = NULL;
    rc = 1;
cleanup:
    if (rc < 0)
        lm_table_extra_free(extra);
    lm_table_def_free(t);
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    return rc;
}
