/* The live binlog stream: Connector/C registers and sends COM_BINLOG_DUMP
 * (mariadb_rpl_open); packets are then read with mysql_net_read_packet and
 * handed out raw. mariadb_rpl_fetch is not used: its event parser breaks
 * at the first rotation on 3.3.20 (research/binlog.md §1.3). */
#include "livemig/mysql.h"

#include "livemig/buf.h"
#include "livemig/clock.h"
#include "livemig/log.h"
#include "mysql/internal.h"

#include <mariadb_rpl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct lm_binlog_stream {
    MYSQL *m;
    MARIADB_RPL *rpl;
    my_socket fd; /* -1 until the dump has started */
    atomic_bool interrupted;
    unsigned read_timeout_s; /* 0 = wait for ever */
};

/* Silence longer than this many heartbeats means the connection is dead. */
#define DEAD_HEARTBEATS 5u
#define DEAD_MIN_S      10u

static int exec(MYSQL *m, const char *sql, lm_err *err)
{
    if (mysql_query(m, sql) != 0) {
        lm_err_set(err, LM_EDB, "%s: %s", sql, mysql_error(m));
        err->server_errno = mysql_errno(m);
        snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", mysql_sqlstate(m));
        return LM_EDB;
    }
    return 0;
}

/* A GTID state is pasted into SQL, so only its own alphabet is allowed. */
static bool gtid_state_ok(const char *s)
{
    return strspn(s, "0123456789-, ") == strlen(s) && strlen(s) < 4096;
}

int lm_binlog_stream_open(lm_binlog_stream **out, const lm_dsn *dsn,
                          const lm_binlog_stream_opts *opts, lm_err *err)
{
    lm_binlog_stream *s = calloc(1, sizeof(*s));
    char sql[4200];
    const char *file = opts->gtid ? "" : opts->start.file;
    unsigned long start = opts->gtid ? 4 : (unsigned long)opts->start.pos;
    int rc;

    *out = NULL;
    if (s == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    atomic_init(&s->interrupted, false);
    s->fd = (my_socket)-1;
    /* Only a stream that will be reopened gives up on a silent server: the
     * heartbeats say how long silence may last. */
    if (opts->reconnect_s > 0 && opts->heartbeat_ms) {
        s->read_timeout_s = (opts->heartbeat_ms * DEAD_HEARTBEATS + 999) / 1000;
        if (s->read_timeout_s < DEAD_MIN_S)
            s->read_timeout_s = DEAD_MIN_S;
    }
    rc = lm_my_connect_raw(&s->m, dsn, s->read_timeout_s, err);
    if (rc < 0)
        goto fail;
    /* Without this the server refuses to send checksummed events (ER 1236). */
    if ((rc = exec(s->m, "SET @master_binlog_checksum = @@global.binlog_checksum", err)) < 0)
        goto fail;
    /* MariaDB: real GTID, ANNOTATE_ROWS and BINLOG_CHECKPOINT events. */
    if ((rc = exec(s->m, "SET @mariadb_slave_capability = 4", err)) < 0)
        goto fail;
    if (opts->heartbeat_ms) {
        snprintf(sql, sizeof(sql), "SET @master_heartbeat_period = %llu",
                 (unsigned long long)opts->heartbeat_ms * 1000000ULL);
        if ((rc = exec(s->m, sql, err)) < 0)
            goto fail;
    }
    if (opts->gtid) {
        if (!gtid_state_ok(opts->gtid)) {
            rc = lm_err_set(err, LM_EINVAL, "invalid GTID state '%s'", opts->gtid);
            goto fail;
        }
        snprintf(sql, sizeof(sql), "SET @slave_connect_state = '%s'", opts->gtid);
        if ((rc = exec(s->m, sql, err)) < 0)
            goto fail;
    }
    s->rpl = mariadb_rpl_init(s->m);
    if (s->rpl == NULL) {
        rc = lm_err_set(err, LM_EDB, "mariadb_rpl_init: %s", mysql_error(s->m));
        goto fail;
    }
    /* Varargs with the exact types the connector reads (LP64 pitfall). */
    if (mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_SERVER_ID, (unsigned int)opts->server_id) ||
        mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_FILENAME, file, (size_t)strlen(file)) ||
        mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_START, start) ||
        mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_FLAGS,
                             (unsigned int)MARIADB_RPL_BINLOG_SEND_ANNOTATE_ROWS)) {
        rc = lm_err_set(err, LM_EDB, "mariadb_rpl_optionsv failed");
        goto fail;
    }
    if (mariadb_rpl_open(s->rpl) != 0) {
        rc = lm_err_set(err, LM_EDB, "cannot start the binlog dump at %s:%lu: %s",
                        opts->gtid ? opts->gtid : file, start,
                        mysql_errno(s->m) ? mysql_error(s->m) : mariadb_rpl_error(s->rpl));
        err->server_errno = mysql_errno(s->m);
        goto fail;
    }
    s->fd = mysql_get_socket(s->m);
    *out = s;
    return 0;
fail:
    lm_binlog_stream_close(s);
    return rc;
}

int lm_binlog_stream_read(lm_binlog_stream *s, const uint8_t **data, size_t *len, lm_err *err)
{
    double started = s->read_timeout_s ? lm_now() : 0;
    unsigned long n = mysql_net_read_packet(s->m);
    unsigned int no;
    const uint8_t *p;

    if (n == (unsigned long)packet_error || n == ~0UL) {
        if (atomic_load(&s->interrupted))
            return lm_err_set(err, LM_EABORT, "binlog stream interrupted");
        no = mysql_errno(s->m);
        /* The connector reports its read timeout as a lost connection. */
        if (s->read_timeout_s && lm_now() - started >= s->read_timeout_s - 0.5)
            lm_err_set(err, LM_EIO, "binlog stream: nothing received for %u s (error %u)",
                       s->read_timeout_s, no);
        else
            lm_err_set(err, no >= 2000 ? LM_EIO : LM_EDB, "binlog stream: %s (error %u)",
                       mysql_error(s->m), no);
        err->server_errno = no;
        /* Lost connections are worth a reconnect; server refusals are not. */
        err->retryable = no >= 2000;
        return err->code;
    }
    p = s->m->net.read_pos;
    if (n == 0)
        return lm_err_set(err, LM_ECORRUPT, "binlog stream: empty packet");
    if (p[0] == 0xFE && n < 9)
        return 0;
    if (p[0] == 0xFF) {
        /* 0xFF errno(2) '#' sqlstate(5) message. */
        unsigned code = n >= 3 ? (unsigned)(p[1] | p[2] << 8) : 0;
        size_t off = (n >= 9 && p[3] == '#') ? 9 : 3;
        lm_err_set(err, LM_EDB, "binlog stream: server error %u: %.*s", code,
                   (int)(n > off ? n - off : 0), (const char *)p + off);
        err->server_errno = code;
        return LM_EDB;
    }
    if (p[0] != 0x00 || n < 1 + LM_BINLOG_HEADER_LEN)
        return lm_err_set(err, LM_ECORRUPT, "binlog stream: unexpected packet (0x%02x, %lu bytes)",
                          p[0], n);
    /* Semi-sync inserts 0xEF and a flags byte; the event size tells which
     * framing this packet has, since a timestamp byte can also be 0xEF. */
    if (n >= 3 + LM_BINLOG_HEADER_LEN && p[1] == 0xEF &&
        (p[10] | p[11] << 8 | (unsigned long)p[12] << 16 | (unsigned long)p[13] << 24) != n - 1 &&
        (p[12] | p[13] << 8 | (unsigned long)p[14] << 16 | (unsigned long)p[15] << 24) == n - 3) {
        *data = p + 3;
        *len = n - 3;
        return 1;
    }
    *data = p + 1;
    *len = n - 1;
    return 1;
}

void lm_binlog_stream_interrupt(lm_binlog_stream *s)
{
    if (s == NULL)
        return;
    atomic_store(&s->interrupted, true);
    /* shutdown, not close: the descriptor stays owned by the connector. */
    if (s->m && s->fd != (my_socket)-1)
        shutdown(s->fd, SHUT_RDWR);
}

void lm_binlog_stream_close(lm_binlog_stream *s)
{
    if (s == NULL)
        return;
    if (s->rpl)
        mariadb_rpl_close(s->rpl);
    if (s->m)
        mysql_close(s->m);
    free(s);
}
