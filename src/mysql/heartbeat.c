/* Replica lag the way gh-ost measures it: livemig writes the time into a
 * one-row table on the primary and reads it back on each replica. Unlike
 * Seconds_Behind_Master this covers the whole path (IO thread, relay log,
 * SQL thread, parallel applier) and never reads 0 for a stopped thread. */
#include "livemig/buf.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <stdlib.h>
#include <string.h>

/* Build "PREFIX `db`.`hb` SUFFIX" and run it (a result, if any, in *res). */
static int run_on(MYSQL *c, const char *prefix, const char *db, const char *hb, const char *suffix,
                  MYSQL_RES **res, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *tmp = NULL;
    int rc;

    lm_buf_puts(&q, prefix);
    lm_my_put_table(&q, db, hb);
    lm_buf_puts(&q, suffix);
    if (q.oom)
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
    else
        rc = lm_my_query(c, q.data, res ? res : &tmp, err);
    if (tmp)
        mysql_free_result(tmp);
    lm_buf_free(&q);
    return rc;
}

int lm_mysql_heartbeat_create(MYSQL *c, const char *db, const char *hb, lm_err *err)
{
    int rc = run_on(c, "CREATE TABLE IF NOT EXISTS ", db, hb,
                    " (id tinyint unsigned NOT NULL PRIMARY KEY, ts datetime(6) NOT NULL) "
                    "ENGINE=InnoDB COMMENT='livemig heartbeat: replica lag'",
                    NULL, err);

    return rc < 0 ? rc : lm_mysql_heartbeat_beat(c, db, hb, err);
}

int lm_mysql_heartbeat_beat(MYSQL *c, const char *db, const char *hb, lm_err *err)
{
    /* UTC on both ends: the sessions' time zones may differ. */
    return run_on(c, "REPLACE INTO ", db, hb, " VALUES (1, UTC_TIMESTAMP(6))", NULL, err);
}

int lm_mysql_heartbeat_lag(MYSQL *replica, const char *db, const char *hb, double *lag, lm_err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc;

    *lag = -1;
    rc = run_on(replica, "SELECT TIMESTAMPDIFF(MICROSECOND, ts, UTC_TIMESTAMP(6)) FROM ", db, hb,
                " WHERE id = 1", &res, err);
    if (rc < 0) {
        /* Not replicated there yet: lag unknown, not an error. */
        if (err->server_errno == 1146) {
            lm_err_clear(err);
            rc = 0;
        }
        return rc;
    }
    if (res && (row = mysql_fetch_row(res)) != NULL && row[0])
        *lag = strtod(row[0], NULL) / 1e6;
    if (res)
        mysql_free_result(res);
    return 0;
}

int lm_mysql_heartbeat_drop(MYSQL *c, const char *db, const char *hb, lm_err *err)
{
    return run_on(c, "DROP TABLE IF EXISTS ", db, hb, "", NULL, err);
}

int lm_mysql_replica_hosts(MYSQL *c, char ***hosts, unsigned **ports, size_t *n, lm_err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    size_t cap;
    int rc;

    *hosts = NULL;
    *ports = NULL;
    *n = 0;
    if ((rc = lm_my_query(c, "SHOW SLAVE HOSTS", &res, err)) < 0)
        return rc;
    cap = res ? (size_t)mysql_num_rows(res) : 0;
    if (cap == 0)
        goto cleanup;
    *hosts = calloc(cap, sizeof(**hosts));
    *ports = calloc(cap, sizeof(**ports));
    if (*hosts == NULL || *ports == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    /* Server_id, Host, Port, Master_id: Host is report_host, empty when unset. */
    while (*n < cap && (row = mysql_fetch_row(res)) != NULL) {
        if (row[1] == NULL || row[1][0] == '\0' || row[2] == NULL)
            continue;
        if (((*hosts)[*n] = strdup(row[1])) == NULL) {
            rc = lm_err_set(err, LM_ENOMEM, "out of memory");
            goto cleanup;
        }
        (*ports)[(*n)++] = (unsigned)strtoul(row[2], NULL, 10);
    }
cleanup:
    if (res)
        mysql_free_result(res);
    return rc;
}
