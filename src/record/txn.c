/* Transaction boundaries on raw events, without a decoder: the recording
 * writer closes frames there, the reader stops there on a torn frame, and
 * the table filter keeps or drops whole transactions. Pure. */
#include "record/record.h"

#include <string.h>
#include <strings.h>

enum { T_OUT = 0, T_AFTER_GTID, T_STANDALONE, T_OPEN };

#define MARIADB_FL_STANDALONE 0x01
#define XA_PREPARE_EVENT      38

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    while (n--)
        v = (v << 8) | p[n];
    return v;
}

/* The statement text is `word` (with or without a trailing CRC32). */
static bool query_is(const uint8_t *q, size_t qlen, const char *word)
{
    size_t n = strlen(word);
    return (qlen == n || qlen == n + 4) && strncasecmp((const char *)q, word, n) == 0;
}

/* Statement text of a QUERY event (13-byte post-header in every v4 binlog). */
static bool query_text(const uint8_t *ev, size_t len, const uint8_t **q, size_t *qlen)
{
    const uint8_t *b = ev + LM_BINLOG_HEADER_LEN;
    size_t blen, off;

    if (len < LM_BINLOG_HEADER_LEN + 13)
        return false;
    blen = len - LM_BINLOG_HEADER_LEN;
    off = 13 + (size_t)le(b + 11, 2) + b[8] + 1;
    if (off > blen)
        return false;
    *q = b + off;
    *qlen = blen - off;
    return true;
}

bool lm_rec_txn_step(lm_rec_txn *t, const uint8_t *ev, size_t len)
{
    const uint8_t *q = NULL;
    size_t qlen = 0;
    uint8_t type;

    if (len < LM_BINLOG_HEADER_LEN)
        return t->state == T_OUT;
    type = ev[4];
    switch (type) {
    case LM_BL_HEARTBEAT:
    case LM_BL_HEARTBEAT_V2:
        return t->state == T_OUT;
    case LM_BL_GTID_MARIADB:
        if (len >= LM_BINLOG_HEADER_LEN + 13 &&
            (ev[LM_BINLOG_HEADER_LEN + 12] & MARIADB_FL_STANDALONE))
            t->state = T_STANDALONE;
        else
            t->state = T_OPEN; /* MariaDB writes no BEGIN after its GTID */
        return false;
    case LM_BL_GTID_MYSQL:
    case LM_BL_ANONYMOUS_GTID:
        t->state = T_AFTER_GTID;
        return false;
    case LM_BL_QUERY:
    case LM_BL_QUERY_COMPRESSED:
        if (type == LM_BL_QUERY && query_text(ev, len, &q, &qlen) && query_is(q, qlen, "BEGIN")) {
            t->state = T_OPEN;
            return false;
        }
        if (t->state == T_OPEN) {
            if (q && (query_is(q, qlen, "COMMIT") || query_is(q, qlen, "ROLLBACK"))) {
                t->state = T_OUT;
                return true;
            }
            return false;
        }
        /* DDL, XA COMMIT/ROLLBACK, a standalone statement: one event. */
        t->state = T_OUT;
        return true;
    case LM_BL_XID:
    case XA_PREPARE_EVENT:
    case LM_BL_TRANSACTION_PAYLOAD:
        t->state = T_OUT;
        return true;
    default:
        if (t->state == T_AFTER_GTID)
            t->state = T_OPEN;
        return t->state == T_OUT;
    }
}

bool lm_rec_txn_open(const lm_rec_txn *t)
{
    return t->state != T_OUT;
}

int lm_rec_tablemap_name(const uint8_t *ev, size_t len, char *db, size_t dbcap, char *tbl,
                         size_t tblcap)
{
    const uint8_t *b = ev + LM_BINLOG_HEADER_LEN, *end = ev + len;
    size_t n;

    /* table_id(6) flags(2) db_len db NUL tbl_len tbl NUL */
    if (len < LM_BINLOG_HEADER_LEN + 8 + 1 || ev[4] != LM_BL_TABLE_MAP)
        return -1;
    b += 8;
    n = *b++;
    if ((size_t)(end - b) < n + 2 || n >= dbcap)
        return -1;
    memcpy(db, b, n);
    db[n] = '\0';
    b += n + 1;
    n = *b++;
    if ((size_t)(end - b) < n + 1 || n >= tblcap)
        return -1;
    memcpy(tbl, b, n);
    tbl[n] = '\0';
    return 0;
}
