/* Who holds the table when the cutover's lock times out: the sessions to
 * name in the log, and to KILL with --kill-blockers-after. */
#include "livemig/buf.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* With the MDL instrument: the sessions holding a granted metadata lock on
 * the table, with how long their transaction (or statement) has run. */
static const char holders_sql[] =
    "SELECT t.PROCESSLIST_ID, GREATEST(IFNULL(p.TIME, 0), "
    "IFNULL(TIMESTAMPDIFF(SECOND, x.trx_started, NOW()), 0)), "
    "IF(p.COMMAND = 'Sleep', 'idle in transaction', IFNULL(LEFT(p.INFO, 100), p.COMMAND)) "
    "FROM performance_schema.metadata_locks m "
    "JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID "
    "LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.PROCESSLIST_ID "
    "LEFT JOIN information_schema.INNODB_TRX x ON x.trx_mysql_thread_id = t.PROCESSLIST_ID "
    "WHERE m.OBJECT_TYPE = 'TABLE' AND m.LOCK_STATUS = 'GRANTED' "
    "AND t.PROCESSLIST_ID IS NOT NULL AND t.PROCESSLIST_ID <> CONNECTION_ID() "
    "AND m.OBJECT_SCHEMA = ";

/* Without it: InnoDB transactions open for a second or more (which may or
 * may not touch the table). */
static const char trx_sql[] =
    "SELECT x.trx_mysql_thread_id, TIMESTAMPDIFF(SECOND, x.trx_started, NOW()), "
    "IFNULL(LEFT(x.trx_query, 100), 'idle in transaction') "
    "FROM information_schema.INNODB_TRX x "
    "WHERE x.trx_mysql_thread_id <> CONNECTION_ID() "
    "AND x.trx_started <= NOW() - INTERVAL 1 SECOND ORDER BY x.trx_started LIMIT ";

int lm_mysql_blockers(MYSQL *c, const lm_plan *p, lm_blocker *out, size_t cap, size_t *n,
                      bool *exact, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    char *on = NULL;
    int rc;

    *n = 0;
    *exact = lm_mysql_query_value(c,
                                  "SELECT ENABLED FROM performance_schema.setup_instruments "
                                  "WHERE NAME = 'wait/lock/metadata/sql/mdl'",
                                  &on, &(lm_err)LM_ERR_INIT) == 0 &&
             on && strcmp(on, "YES") == 0;
    free(on);
    if (*exact) {
        lm_buf_puts(&q, holders_sql);
        lm_my_put_str(&q, c, p->src->db, strlen(p->src->db));
        lm_buf_puts(&q, " AND m.OBJECT_NAME = ");
        lm_my_put_str(&q, c, p->src->name, strlen(p->src->name));
        lm_buf_printf(&q, " GROUP BY t.PROCESSLIST_ID ORDER BY 2 DESC LIMIT %zu", cap);
    } else {
        lm_buf_printf(&q, "%s%zu", trx_sql, cap);
    }
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = lm_my_query(c, q.data, &res, err)) < 0)
        goto cleanup;
    while (*n < cap && (row = mysql_fetch_row(res)) != NULL) {
        lm_blocker *b = &out[(*n)++];
        b->id = row[0] ? strtoull(row[0], NULL, 10) : 0;
        b->seconds = row[1] ? strtod(row[1], NULL) : 0;
        snprintf(b->what, sizeof(b->what), "%s", row[2] ? row[2] : "");
    }
cleanup:
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    return rc;
}

int lm_mysql_kill(MYSQL *c, unsigned long long id, lm_err *err)
{
    char q[64];
    MYSQL_RES *res = NULL;
    int rc;

    snprintf(q, sizeof(q), "KILL CONNECTION %llu", id);
    rc = lm_my_query(c, q, &res, err);
    if (res)
        mysql_free_result(res);
    /* Gone already (1094 unknown thread): what we wanted. */
    if (rc < 0 && err->server_errno == 1094) {
        lm_err_clear(err);
        rc = 0;
    }
    return rc;
}
