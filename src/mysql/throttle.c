/* What the throttle reads from the server: status variables for
 * --max-load/--critical-load and the operator's --throttle-query. */
#include "livemig/buf.h"
#include "livemig/load.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int lm_mysql_load_read(MYSQL *c, const lm_load *l, double *values, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc;

    for (size_t i = 0; i < l->n; i++)
        values[i] = -1;
    if (l->n == 0)
        return 0;
    lm_buf_puts(&q, "SHOW GLOBAL STATUS WHERE Variable_name IN (");
    for (size_t i = 0; i < l->n; i++) {
        lm_buf_puts(&q, i ? ", " : "");
        lm_my_put_str(&q, c, l->name[i], strlen(l->name[i]));
    }
    lm_buf_puts(&q, ")");
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = lm_my_query(c, q.data, &res, err)) < 0)
        goto cleanup;
    while ((row = mysql_fetch_row(res)) != NULL) {
        for (size_t i = 0; i < l->n; i++)
            if (row[0] && row[1] && strcasecmp(row[0], l->name[i]) == 0)
                values[i] = strtod(row[1], NULL);
    }
    for (size_t i = 0; i < l->n; i++)
        if (values[i] < 0) {
            rc = lm_err_set(err, LM_EINVAL,
                            "the server has no status variable %s (see SHOW GLOBAL STATUS)",
                            l->name[i]);
            goto cleanup;
        }
cleanup:
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    return rc;
}

int lm_mysql_throttle_query(MYSQL *c, const char *sql, bool *on, lm_err *err)
{
    char *v = NULL;
    int rc;

    *on = false;
    if ((rc = lm_mysql_query_value(c, sql, &v, err)) < 0) {
        lm_err_prefix(err, "--throttle-query");
        return rc;
    }
    *on = v != NULL && strtod(v, NULL) != 0;
    free(v);
    return 0;
}
