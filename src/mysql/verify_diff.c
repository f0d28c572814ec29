/* The first differing rows of a chunk that failed its checksum: both sides
 * are read (key canon, row hash, readable row), matched by key and listed. */
#include "livemig/verify.h"

#include "livemig/mysql.h"
#include "mysql/internal.h"
#include "mysql/verify_expr.h"

#include <stdlib.h>
#include <string.h>

#define SHOW_MAX 300

typedef struct drow {
    char *key, *hash, *show;
} drow;

typedef struct dside {
    drow *rows;
    size_t n;
} dside;

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const drow *)a)->key, ((const drow *)b)->key);
}

static void side_free(dside *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->rows[i].key);
        free(s->rows[i].hash);
        free(s->rows[i].show);
    }
    free(s->rows);
}

static int fetch(const lm_mysql_verify *v, MYSQL *c, bool src, dside *out, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = lm_vx_rows_sql(v, src, &q)) < 0) {
        rc = lm_err_set(err, rc, "cannot build the row query");
        goto cleanup;
    }
    if ((rc = lm_my_query(c, q.data, &res, err)) < 0)
        goto cleanup;
    out->rows = calloc((size_t)mysql_num_rows(res) + 1, sizeof(drow));
    if (out->rows == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    while ((row = mysql_fetch_row(res)) != NULL) {
        drow *d = &out->rows[out->n++];
        d->key = strdup(row[0] ? row[0] : "");
        d->hash = strdup(row[1] ? row[1] : "");
        d->show = strndup(row[2] ? row[2] : "", SHOW_MAX);
        if (!d->key || !d->hash || !d->show) {
            rc = lm_err_set(err, LM_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    qsort(out->rows, out->n, sizeof(drow), cmp_row);
cleanup:
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    return rc;
}

int lm_mysql_verify_diff(lm_mysql_verify *v, MYSQL *target, size_t max, lm_buf *out, lm_err *err)
{
    dside a, b;
    size_t i = 0, j = 0, shown = 0;
    int rc;

    memset(&b, 0, sizeof(b));
    if ((rc = fetch(v, lm_vx_conn(v), true, &a, err)) < 0)
        goto cleanup;
    if ((rc = fetch(v, target ? target : lm_vx_conn(v), false, &b, err)) < 0)
        goto cleanup;
    while ((i < a.n || j < b.n) && shown < max) {
        int c = i == a.n ? 1 : j == b.n ? -1 : strcmp(a.rows[i].key, b.rows[j].key);
        if (c < 0) {
            lm_buf_printf(out, "  only in the source: %s\n", a.rows[i++].show);
            shown++;
        } else if (c > 0) {
            lm_buf_printf(out, "  only in the target: %s\n", b.rows[j++].show);
            shown++;
        } else {
            if (strcmp(a.rows[i].hash, b.rows[j].hash) != 0) {
                lm_buf_printf(out, "  differs: source %s\n           target %s\n", a.rows[i].show,
                              b.rows[j].show);
                shown++;
            }
            i++;
            j++;
        }
    }
    if (out->oom)
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
cleanup:
    side_free(&a);
    side_free(&b);
    return rc;
}
