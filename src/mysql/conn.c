/* Connections and the small helpers every part of the engine uses to talk
 * to the server: one place for error translation and quoting. */
#include "livemig/mysql.h"
#include "livemig/buf.h"
#include "livemig/log.h"
#include "mysql/internal.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define CONNECT_TIMEOUT_S 10u

bool lm_my_retryable(unsigned int no)
{
    switch (no) {
    case 1205: /* ER_LOCK_WAIT_TIMEOUT */
    case 1213: /* ER_LOCK_DEADLOCK */
        return true;
    default:
        return lm_my_conn_lost(no);
    }
}

bool lm_my_conn_lost(unsigned int no)
{
    switch (no) {
    case 1053: /* ER_SERVER_SHUTDOWN */
    case 1927: /* ER_CONNECTION_KILLED */
    case 2002: /* CR_CONNECTION_ERROR */
    case 2003: /* CR_CONN_HOST_ERROR */
    case 2006: /* CR_SERVER_GONE_ERROR */
    case 2013: /* CR_SERVER_LOST */
    case 2055: /* CR_SERVER_LOST_EXTENDED */
        return true;
    default:
        return false;
    }
}

int lm_my_drop_table(MYSQL *c, const char *db, const char *name, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    int rc;

    lm_buf_puts(&q, "DROP TABLE IF EXISTS ");
    lm_my_put_table(&q, db, name);
    rc = q.oom ? lm_err_set(err, LM_ENOMEM, "out of memory") : lm_mysql_exec(c, q.data, err);
    lm_buf_free(&q);
    if (rc < 0)
        lm_err_prefix(err, "dropping %s.%s", db, name);
    return rc;
}

int lm_my_fail(lm_err *err, MYSQL *c, int code, const char *what)
{
    unsigned int no = c ? mysql_errno(c) : 0;

    if (err == NULL || err->code != 0)
        return code;
    if (no)
        lm_err_set(err, code, "%s: %s (error %u)", what, mysql_error(c), no);
    else
        lm_err_set(err, code, "%s", what);
    err->server_errno = no;
    if (c && no) {
        strncpy(err->sqlstate, mysql_sqlstate(c), sizeof(err->sqlstate) - 1);
        err->sqlstate[sizeof(err->sqlstate) - 1] = '\0';
    }
    err->retryable = lm_my_retryable(no);
    return code;
}

int lm_mysql_quote_ident(struct lm_buf *b, const char *ident)
{
    /* A backtick inside a name is doubled; nothing else needs escaping. */
    lm_buf_putc(b, '`');
    for (const char *p = ident; *p; p++) {
        if (*p == '`')
            lm_buf_putc(b, '`');
        lm_buf_putc(b, *p);
    }
    return lm_buf_putc(b, '`');
}

int lm_my_put_table(lm_buf *b, const char *db, const char *name)
{
    lm_mysql_quote_ident(b, db);
    lm_buf_putc(b, '.');
    return lm_mysql_quote_ident(b, name);
}

int lm_my_put_str(lm_buf *b, MYSQL *c, const char *s, size_t len)
{
    if (lm_buf_grow(b, len * 2 + 2) < 0)
        return LM_ENOMEM;
    b->data[b->len++] = '\'';
    b->len += mysql_real_escape_string(c, b->data + b->len, s, (unsigned long)len);
    b->data[b->len++] = '\'';
    b->data[b->len] = '\0';
    return 0;
}

int lm_mysql_exec(MYSQL *c, const char *sql, lm_err *err)
{
    MYSQL_RES *res;

    if (mysql_query(c, sql) != 0)
        return lm_my_fail(err, c, LM_EDB, "query failed");
    /* Drain any result so the connection stays usable. */
    res = mysql_store_result(c);
    if (res)
        mysql_free_result(res);
    else if (mysql_field_count(c) != 0)
        return lm_my_fail(err, c, LM_EDB, "reading a result failed");
    return 0;
}

int lm_my_query(MYSQL *c, const char *sql, MYSQL_RES **res, lm_err *err)
{
    *res = NULL;
    if (mysql_query(c, sql) != 0)
        return lm_my_fail(err, c, LM_EDB, "query failed");
    *res = mysql_store_result(c);
    if (*res == NULL && mysql_field_count(c) != 0)
        return lm_my_fail(err, c, LM_EDB, "reading a result failed");
    return 0;
}

int lm_mysql_query_value(MYSQL *c, const char *sql, char **out, lm_err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    unsigned long *len;
    int rc;

    *out = NULL;
    if ((rc = lm_my_query(c, sql, &res, err)) < 0)
        return rc;
    if (res == NULL || (row = mysql_fetch_row(res)) == NULL || mysql_num_fields(res) < 1) {
        rc = lm_err_set(err, LM_EDB, "query returned no row: %s", sql);
        goto cleanup;
    }
    len = mysql_fetch_lengths(res);
    if (row[0]) {
        if ((*out = malloc(len[0] + 1)) == NULL) {
            rc = lm_err_set(err, LM_ENOMEM, "out of memory");
            goto cleanup;
        }
        memcpy(*out, row[0], len[0]);
        (*out)[len[0]] = '\0';
    }
cleanup:
    if (res)
        mysql_free_result(res);
    return rc;
}

static void describe_target(char *out, size_t n, const lm_dsn *dsn)
{
    if (dsn->socket)
        snprintf(out, n, "%s", dsn->socket);
    else
        snprintf(out, n, "%s:%u", dsn->host ? dsn->host : "localhost",
                 dsn->port ? dsn->port : 3306u);
}

int lm_my_connect_raw(MYSQL **out, const lm_dsn *dsn, unsigned read_timeout_s, lm_err *err)
{
    unsigned int timeout = CONNECT_TIMEOUT_S;
    const char *password = dsn->password;
    char target[300], what[400];
    MYSQL *c;
    int rc;

    *out = NULL;
    if ((c = mysql_init(NULL)) == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    mysql_optionsv(c, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_optionsv(c, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (read_timeout_s)
        mysql_optionsv(c, MYSQL_OPT_READ_TIMEOUT, &read_timeout_s);
    if (dsn->defaults_file) {
        mysql_optionsv(c, MYSQL_READ_DEFAULT_FILE, dsn->defaults_file);
        mysql_optionsv(c, MYSQL_READ_DEFAULT_GROUP, "client");
    }
    /* The option file may carry the password; MYSQL_PWD only when neither
     * the DSN nor an option file says anything. */
    if (password == NULL && dsn->defaults_file == NULL)
        password = getenv("MYSQL_PWD");
    if (mysql_real_connect(c, dsn->host, dsn->user, password, dsn->db, dsn->port, dsn->socket, 0) ==
        NULL) {
        describe_target(target, sizeof(target), dsn);
        snprintf(what, sizeof(what), "cannot connect to %s", target);
        rc = lm_my_fail(err, c, LM_EINVAL, what);
        mysql_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int lm_mysql_connect(MYSQL **out, const lm_dsn *dsn, lm_err *err)
{
    static const char *session_setup[] = {
        /* Timestamps in row images are UTC; literals must be read the same way. */
        "SET SESSION time_zone = '+00:00'",
        /* Strict: a value that does not fit is an error, not a silent change.
         * NO_AUTO_VALUE_ON_ZERO: a copied 0 in an AUTO_INCREMENT stays 0. */
        "SET SESSION sql_mode = TRIM(BOTH ',' FROM CONCAT(@@session.sql_mode, "
        "',STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO'))",
        /* The copy inspects every warning of a chunk: keep them all. */
        "SET SESSION max_error_count = 65535",
        /* The shadow carries the table's foreign keys, but the stream
         * writes rows as they were: a parent may be gone by now. Tables
         * livemig drops are never referenced (the old one only after its
         * children were re-pointed). */
        "SET SESSION foreign_key_checks = 0",
    };
    char target[300];
    MYSQL *c;
    int rc;

    if ((rc = lm_my_connect_raw(&c, dsn, 0, err)) < 0)
        return rc;
    for (size_t i = 0; i < sizeof(session_setup) / sizeof(session_setup[0]); i++) {
        if ((rc = lm_mysql_exec(c, session_setup[i], err)) < 0) {
            describe_target(target, sizeof(target), dsn);
            lm_err_prefix(err, "setting up the session on %s", target);
            mysql_close(c);
            return rc;
        }
    }
    *out = c;
    return 0;
}

/* A statement left warnings. Notes pass; duplicate-key warnings (1062) pass
 * when allow_duplicates (INSERT IGNORE of rows the stream may already have
 * put there); anything else means data would change: an error. */
int lm_my_check_warnings(MYSQL *c, bool allow_duplicates, const char *what, lm_err *err)
{
    unsigned int expected = mysql_warning_count(c), seen = 0;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc;

    if (expected == 0)
        return 0;
    if ((rc = lm_my_query(c, "SHOW WARNINGS", &res, err)) < 0)
        return rc;
    while (res && (row = mysql_fetch_row(res)) != NULL) {
        seen++;
        if (row[0] && strcmp(row[0], "Note") == 0)
            continue;
        if (allow_duplicates && row[1] && strcmp(row[1], "1062") == 0)
            continue;
        rc =
            lm_err_set(err, LM_EFAIL, "%s would change data: %s (%s %s); fix the ALTER or the data",
                       what, row[2] ? row[2] : "?", row[0] ? row[0] : "?", row[1] ? row[1] : "?");
        goto cleanup;
    }
    if (seen < expected)
        rc = lm_err_set(err, LM_EFAIL,
                        "%s raised %u warnings, more than could be checked: lower --chunk-size",
                        what, expected);
cleanup:
    if (res)
        mysql_free_result(res);
    return rc;
}

bool lm_mysql_conn_lost(const lm_err *err)
{
    return err->server_errno != 0 && lm_my_conn_lost(err->server_errno);
}
