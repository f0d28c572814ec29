/* Connections to PostgreSQL and the helpers every module of the engine uses
 * to talk to it: one place for error translation and quoting. */
#include "pg/internal.h"

#include "livemig/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Server notices (NOTICE, WARNING) are for the debug log, not stderr. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    lm_debug("pg notice: %.*s", (int)strcspn(message, "\n"), message);
}

int lm_pg_connect(PGconn **out, const char *conninfo, bool replication, lm_err *err)
{
    /* expand_dbname: the first dbname is a URI or conninfo whose settings
     * the later keywords override. The options give unambiguous text for
     * values (ISO dates, exact floats, UTC): the stream's text goes back
     * into the server through the same input functions. */
    const char *keys[] = {
        "dbname", "application_name", "options", "client_encoding", "connect_timeout", NULL, NULL};
    const char *vals[] = {conninfo,
                          "livemig",
                          "-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3 "
                          "-c statement_timeout=0 -c idle_in_transaction_session_timeout=0",
                          "UTF8",
                          "10",
                          NULL,
                          NULL};
    PGconn *c;

    *out = NULL;
    if (replication) {
        keys[5] = "replication";
        vals[5] = "database";
    }
    c = PQconnectdbParams(keys, vals, 1);
    if (c == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
        msg[strcspn(msg, "\n")] = '\0';
        PQfinish(c);
        lm_err_set(err, LM_EDB, "cannot connect to PostgreSQL%s: %s",
                   replication ? " for replication" : "", msg);
        err->retryable = true;
        return LM_EDB;
    }
    PQsetNoticeProcessor(c, on_notice, NULL);
    *out = c;
    return 0;
}

static bool retryable_state(const char *st)
{
    return st &&
           (strcmp(st, "40P01") == 0 || strcmp(st, "40001") == 0 || strcmp(st, "55P03") == 0 ||
            strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0);
}

int lm_pg_fail(lm_err *err, PGconn *c, const PGresult *r, int code, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char text[700];

    if (err == NULL || err->code != 0)
        return code;
    if (msg == NULL) {
        snprintf(text, sizeof(text), "%s", c ? PQerrorMessage(c) : "unknown error");
        text[strcspn(text, "\n")] = '\0';
        msg = text;
    }
    if (state == NULL && c && PQstatus(c) != CONNECTION_OK)
        state = "08006"; /* connection failure */
    lm_err_set(err, code, "%s: %s%s%s%s", what, msg, state ? " (SQLSTATE " : "", state ? state : "",
               state ? ")" : "");
    if (state)
        snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
    err->retryable = retryable_state(state);
    return code;
}

/* The statement's first words, for messages. */
static void what_of(const char *sql, char *out, size_t cap)
{
    size_t n = strcspn(sql, "\n(");
    snprintf(out, cap, "%.*s%s", (int)(n > 60 ? 60 : n), sql, n > 60 || sql[n] ? " …" : "");
}

int lm_pg_query(PGconn *c, const char *sql, int nparams, const char *const *params, PGresult **res,
                lm_err *err)
{
    PGresult *r;
    ExecStatusType st;
    char what[80];

    if (res)
        *res = NULL;
    lm_debug("pg: %s", sql);
    r = nparams ? PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0) : PQexec(c, sql);
    st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        what_of(sql, what, sizeof(what));
        lm_pg_fail(err, c, r, LM_EDB, what);
        PQclear(r);
        return LM_EDB;
    }
    if (res)
        *res = r;
    else
        PQclear(r);
    return 0;
}

int lm_pg_exec(PGconn *c, const char *sql, lm_err *err)
{
    return lm_pg_query(c, sql, 0, NULL, NULL, err);
}

void lm_pg_put_ident(lm_buf *b, const char *ident)
{
    lm_buf_putc(b, '"');
    for (const char *p = ident; *p; p++) {
        if (*p == '"')
            lm_buf_putc(b, '"');
        lm_buf_putc(b, *p);
    }
    lm_buf_putc(b, '"');
}

void lm_pg_put_qname(lm_buf *b, const char *nsp, const char *name)
{
    lm_pg_put_ident(b, nsp);
    lm_buf_putc(b, '.');
    lm_pg_put_ident(b, name);
}

void lm_pg_put_literal(lm_buf *b, const char *text)
{
    /* standard_conforming_strings is on since 9.1: only quotes double. */
    lm_buf_putc(b, '\'');
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            lm_buf_putc(b, '\'');
        lm_buf_putc(b, *p);
    }
    lm_buf_putc(b, '\'');
}
