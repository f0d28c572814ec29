/* The change stream: a publication of the table, a logical slot (pgoutput)
 * with an exported snapshot, and the CopyBoth loop of pg_recvlogical on a
 * replication=database connection. The position confirmed to the server
 * only moves when the caller says the shadow has committed a transaction,
 * so a restart never skips a change. */
#include "pg/internal.h"

#include "livemig/clock.h"
#include "livemig/log.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define STATUS_INTERVAL_S   10.0
#define MAX_FRAMES_PER_PUMP 4000

struct lm_pg_stream {
    PGconn *c;
    char slot[LM_PG_NAME_MAX];
    bool streaming;
    lm_lsn received;       /* end of WAL the server told us about */
    lm_lsn confirmed;      /* committed in the shadow */
    lm_lsn sent_confirmed; /* last value sent */
    lm_lsn last_data;      /* start of the last data message delivered */
    bool between_txns;     /* the last data message ended a transaction */
    double last_status;
};

static int64_t pg_now_us(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return ((int64_t)tv.tv_sec - LM_PG_EPOCH_OFFSET) * 1000000 + tv.tv_usec;
}

int lm_pg_stream_open(lm_pg_stream **out, const char *conninfo, const lm_pg_plan *p, lm_err *err)
{
    lm_pg_stream *s = calloc(1, sizeof(*s));
    int rc;

    *out = NULL;
    if (s == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    snprintf(s->slot, sizeof(s->slot), "%s", p->slot);
    s->between_txns = true;
    if ((rc = lm_pg_connect(&s->c, conninfo, true, err)) < 0) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int lm_pg_stream_create(lm_pg_stream **out, PGconn *c, const char *conninfo, const lm_pg_plan *p,
                        char *snapshot, lm_err *err)
{
    lm_pg_stream *s = NULL;
    lm_buf q = LM_BUF_INIT;
    PGresult *r = NULL;
    int rc;

    *out = NULL;
    /* The publication must exist before the slot: pgoutput looks it up
     * with the catalog as of each change. */
    lm_buf_puts(&q, "CREATE PUBLICATION ");
    lm_pg_put_ident(&q, p->slot);
    lm_buf_puts(&q, " FOR TABLE ONLY ");
    lm_pg_put_qname(&q, p->src.nsp, p->src.name);
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = lm_pg_exec(c, q.data, err)) < 0)
        goto cleanup;
    if ((rc = lm_pg_stream_open(&s, conninfo, p, err)) < 0)
        goto cleanup;
    lm_buf_reset(&q);
    /* Waits for transactions running now to end (a consistent point). */
    lm_buf_puts(&q, "CREATE_REPLICATION_SLOT ");
    lm_pg_put_ident(&q, p->slot);
    lm_buf_puts(&q, PQserverVersion(s->c) >= 150000 ? " LOGICAL pgoutput (SNAPSHOT 'export')"
                                                    : " LOGICAL pgoutput EXPORT_SNAPSHOT");
    if ((rc = lm_pg_query(s->c, q.data, 0, NULL, &r, err)) < 0)
        goto cleanup;
    if (PQntuples(r) != 1 || PQnfields(r) < 3 || PQgetisnull(r, 0, 2)) {
        rc = lm_err_set(err, LM_EDB, "CREATE_REPLICATION_SLOT returned no snapshot");
        goto cleanup;
    }
    snprintf(snapshot, 64, "%s", PQgetvalue(r, 0, 2));
    lm_info("slot %s created at %s (snapshot %s)", p->slot, PQgetvalue(r, 0, 1), snapshot);
cleanup:
    PQclear(r);
    lm_buf_free(&q);
    if (rc < 0)
        lm_pg_stream_close(s);
    else
        *out = s;
    return rc;
}

int lm_pg_stream_start(lm_pg_stream *s, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    PGresult *r;
    int rc = 0;

    lm_buf_puts(&q, "START_REPLICATION SLOT ");
    lm_pg_put_ident(&q, s->slot);
    /* Version 1 sends each transaction whole at its commit; messages
     * carries the cutover's fence. */
    lm_buf_printf(&q,
                  " LOGICAL 0/0 (proto_version '1', publication_names '\"%s\"', "
                  "messages 'true')",
                  s->slot);
    if (q.oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    r = PQexec(s->c, q.data);
    if (PQresultStatus(r) != PGRES_COPY_BOTH)
        rc = lm_pg_fail(err, s->c, r, LM_EDB, "START_REPLICATION");
    else
        s->streaming = true;
    PQclear(r);
    lm_buf_free(&q);
    s->last_status = lm_now();
    return rc;
}

static int send_status(lm_pg_stream *s, bool reply, lm_err *err)
{
    uint8_t msg[LM_PG_STATUS_LEN];

    lm_pgf_status(msg, s->received > s->confirmed ? s->received : s->confirmed, s->confirmed,
                  s->confirmed, pg_now_us(), reply);
    if (PQputCopyData(s->c, (const char *)msg, sizeof(msg)) <= 0 || PQflush(s->c) < 0)
        return lm_pg_fail(err, s->c, NULL, LM_EDB, "sending the stream's status");
    s->sent_confirmed = s->confirmed;
    s->last_status = lm_now();
    return 0;
}

int lm_pg_stream_keepalive(lm_pg_stream *s, lm_err *err)
{
    double since = lm_now() - s->last_status;

    if (!s->streaming)
        return 0;
    if (since >= STATUS_INTERVAL_S || (s->confirmed > s->sent_confirmed && since >= 1.0))
        return send_status(s, false, err);
    return 0;
}

void lm_pg_stream_flushed(lm_pg_stream *s, lm_lsn lsn)
{
    if (lsn > s->confirmed)
        s->confirmed = lsn;
}

static int wait_readable(lm_pg_stream *s, int wait_ms, lm_err *err)
{
    struct pollfd pfd = {PQsocket(s->c), POLLIN, 0};

    if (wait_ms > 0 && poll(&pfd, 1, wait_ms) < 0)
        return 0; /* EINTR: the caller looks at its stop flags */
    if (!PQconsumeInput(s->c))
        return lm_pg_fail(err, s->c, NULL, LM_EDB, "reading the replication stream");
    return 0;
}

static int on_frame(lm_pg_stream *s, const uint8_t *buf, size_t len, lm_pg_msg_fn fn, void *ctx,
                    lm_err *err)
{
    lm_pgf f;
    int rc;

    if ((rc = lm_pgf_parse(buf, len, &f, err)) < 0)
        return rc;
    if (f.kind == LM_PGF_KEEPALIVE) {
        if (f.wal_end > s->received)
            s->received = f.wal_end;
        /* Everything delivered is applied and no transaction is open: the
         * server has nothing for us before wal_end, so it can be confirmed
         * and WAL of other tables is not held back by a quiet table. */
        if (s->between_txns && s->confirmed >= s->last_data && s->confirmed > 0 &&
            f.wal_end > s->confirmed)
            s->confirmed = f.wal_end;
        return f.reply_requested ? send_status(s, false, err) : 0;
    }
    if (f.kind != LM_PGF_XLOGDATA || f.len == 0)
        return 0;
    if (f.wal_end > s->received)
        s->received = f.wal_end;
    s->last_data = f.wal_start;
    if (f.data[0] == 'B')
        s->between_txns = false;
    else if (f.data[0] == 'C')
        s->between_txns = true;
    return fn(ctx, f.wal_start, f.data, f.len, err);
}

int lm_pg_stream_pump(lm_pg_stream *s, int wait_ms, lm_pg_msg_fn fn, void *ctx, lm_err *err)
{
    int rc = 0;

    for (int frames = 0; frames < MAX_FRAMES_PER_PUMP;) {
        char *buf = NULL;
        int n;

        if ((rc = lm_pg_stream_keepalive(s, err)) < 0)
            return rc;
        n = PQgetCopyData(s->c, &buf, 1);
        if (n == 0) {
            if (frames > 0 || wait_ms <= 0) {
                /* Take what the socket already holds, without waiting. */
                if ((rc = wait_readable(s, 0, err)) < 0)
                    return rc;
                if ((n = PQgetCopyData(s->c, &buf, 1)) == 0)
                    return 0;
            } else {
                if ((rc = wait_readable(s, wait_ms, err)) < 0)
                    return rc;
                wait_ms = 0;
                continue;
            }
        }
        if (n == -1) {
            PGresult *r = PQgetResult(s->c);
            rc = lm_pg_fail(err, s->c, r, LM_EDB, "the server ended the replication stream");
            PQclear(r);
            return rc;
        }
        if (n < 0)
            return lm_pg_fail(err, s->c, NULL, LM_EDB, "reading the replication stream");
        frames++;
        rc = on_frame(s, (const uint8_t *)buf, (size_t)n, fn, ctx, err);
        PQfreemem(buf);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void lm_pg_stream_close(lm_pg_stream *s)
{
    if (s == NULL)
        return;
    if (s->c) {
        if (s->streaming) {
            /* A last status, so the slot remembers what was applied. */
            send_status(s, false, &(lm_err)LM_ERR_INIT);
            PQputCopyEnd(s->c, NULL);
            PQflush(s->c);
        }
        PQfinish(s->c);
    }
    free(s);
}
