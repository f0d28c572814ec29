/* PostgreSQL's logical replication wire format: LSN text, the walsender's
 * CopyBoth frames and pgoutput protocol version 1 messages (see
 * livemig/pgoutput.h and research/postgres.md §3.6–3.7). Every read goes
 * through the bounds-checked readers below; a message that ends early, has
 * a length past its end or bytes after its end is LM_ECORRUPT naming the
 * message type and byte offset. */
#include "livemig/pgoutput.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PostgreSQL's MaxTupleAttributeNumber: no relation or tuple has more. */
#define MAX_COLS 1664
/* More relations in one TRUNCATE is surely damage, not a real statement. */
#define MAX_TRUNC_RELS 65536

/* ---- LSN text ---- */

void lm_lsn_format(lm_lsn lsn, char *buf, size_t cap)
{
    /* The form pg_lsn prints (PostgreSQL ≤ 17; 18 zero-pads the low half,
     * which lm_lsn_parse and the server both accept either way). */
    snprintf(buf, cap, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
}

static size_t hex_run(const char *p, uint32_t *v)
{
    size_t n = 0;

    *v = 0;
    for (;; n++) {
        char c = p[n];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return n;
        if (n == 8)
            return 9; /* too long: the caller rejects it */
        *v = *v << 4 | d;
    }
}

int lm_lsn_parse(const char *text, lm_lsn *out)
{
    uint32_t hi, lo;
    size_t n1, n2;

    /* The rules of pg_lsn_in: 1-8 hex digits, '/', 1-8 hex digits, end. */
    if (text == NULL)
        return -1;
    n1 = hex_run(text, &hi);
    if (n1 < 1 || n1 > 8 || text[n1] != '/')
        return -1;
    n2 = hex_run(text + n1 + 1, &lo);
    if (n2 < 1 || n2 > 8 || text[n1 + 1 + n2] != '\0')
        return -1;
    *out = (lm_lsn)hi << 32 | lo;
    return 0;
}

/* ---- big-endian integers ---- */

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* ---- CopyBoth frames ---- */

#define XLOGDATA_HDR  25 /* 'w' + dataStart + walEnd + sendTime */
#define KEEPALIVE_LEN 18 /* 'k' + walEnd + sendTime + replyRequested */

int lm_pgf_parse(const uint8_t *buf, size_t len, lm_pgf *out, lm_err *err)
{
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return lm_err_set(err, LM_ECORRUPT, "walsender: empty CopyData frame");
    switch (buf[0]) {
    case 'w':
        if (len < XLOGDATA_HDR)
            return lm_err_set(err, LM_ECORRUPT,
                              "walsender: XLogData frame of %zu bytes, shorter than its %d-byte "
                              "header",
                              len, XLOGDATA_HDR);
        out->kind = LM_PGF_XLOGDATA;
        out->wal_start = be64(buf + 1);
        out->wal_end = be64(buf + 9);
        out->send_time = (int64_t)be64(buf + 17);
        out->data = buf + XLOGDATA_HDR;
        out->len = len - XLOGDATA_HDR;
        return 0;
    case 'k':
        /* Longer is accepted (as pg_recvlogical does): room for fields a
         * newer server may append. */
        if (len < KEEPALIVE_LEN)
            return lm_err_set(err, LM_ECORRUPT,
                              "walsender: keepalive frame of %zu bytes, expected %d", len,
                              KEEPALIVE_LEN);
        out->kind = LM_PGF_KEEPALIVE;
        out->wal_end = be64(buf + 1);
        out->send_time = (int64_t)be64(buf + 9);
        out->reply_requested = buf[17] != 0;
        return 0;
    default:
        /* Newer servers add frame types: the caller skips them. */
        out->kind = LM_PGF_OTHER;
        out->data = buf;
        out->len = len;
        return 0;
    }
}

void lm_pgf_status(uint8_t out[LM_PG_STATUS_LEN], lm_lsn written, lm_lsn flushed, lm_lsn applied,
                   int64_t now_us, bool reply)
{
    out[0] = 'r';
    put_be64(out + 1, written);
    put_be64(out + 9, flushed);
    put_be64(out + 17, applied);
    put_be64(out + 25, (uint64_t)now_us);
    out[33] = reply ? 1 : 0;
}

/* ---- pgoutput messages ---- */

typedef struct rd {
    const uint8_t *p;
    size_t len, off;
    char type;
    lm_err *err;
} rd;

static const char *type_name(char t)
{
    switch (t) {
    case 'B':
        return "Begin";
    case 'C':
        return "Commit";
    case 'O':
        return "Origin";
    case 'R':
        return "Relation";
    case 'Y':
        return "Type";
    case 'I':
        return "Insert";
    case 'U':
        return "Update";
    case 'D':
        return "Delete";
    case 'T':
        return "Truncate";
    case 'M':
        return "Message";
    default:
        return "unknown";
    }
}

static int bad(rd *r, const char *what)
{
    return lm_err_set(r->err, LM_ECORRUPT, "pgoutput: %s message ('%c', %zu bytes): %s at byte %zu",
                      type_name(r->type), r->type, r->len, what, r->off);
}

/* Fail unless n more bytes are there. */
static int need(rd *r, size_t n, const char *what)
{
    if (n > r->len - r->off) {
        char m[96];
        snprintf(m, sizeof(m), "truncated %s (%zu bytes needed, %zu left)", what, n,
                 r->len - r->off);
        return bad(r, m);
    }
    return 0;
}

static int u8(rd *r, uint8_t *v, const char *what)
{
    if (need(r, 1, what) < 0)
        return LM_ECORRUPT;
    *v = r->p[r->off++];
    return 0;
}

static int u16(rd *r, uint16_t *v, const char *what)
{
    if (need(r, 2, what) < 0)
        return LM_ECORRUPT;
    *v = be16(r->p + r->off);
    r->off += 2;
    return 0;
}

static int u32(rd *r, uint32_t *v, const char *what)
{
    if (need(r, 4, what) < 0)
        return LM_ECORRUPT;
    *v = be32(r->p + r->off);
    r->off += 4;
    return 0;
}

static int u64(rd *r, uint64_t *v, const char *what)
{
    if (need(r, 8, what) < 0)
        return LM_ECORRUPT;
    *v = be64(r->p + r->off);
    r->off += 8;
    return 0;
}

static int str(rd *r, const char **v, const char *what)
{
    const uint8_t *nul = memchr(r->p + r->off, '\0', r->len - r->off);

    if (nul == NULL) {
        char m[96];
        snprintf(m, sizeof(m), "%s not NUL-terminated inside the message", what);
        return bad(r, m);
    }
    *v = (const char *)(r->p + r->off);
    r->off = (size_t)(nul - r->p) + 1;
    return 0;
}

/* n bytes in place (n from the wire: checked against what is left, so a
 * huge value cannot overflow the offset). */
static int bytes(rd *r, size_t n, const uint8_t **v, const char *what)
{
    if (need(r, n, what) < 0)
        return LM_ECORRUPT;
    *v = r->p + r->off;
    r->off += n;
    return 0;
}

static int nomem(rd *r)
{
    return lm_err_set(r->err, LM_ENOMEM, "pgoutput: out of memory parsing a %s message",
                      type_name(r->type));
}

/* TupleData: Int16 ncols, then per column 'n' | 'u' | 't'/'b' Int32 len, bytes. */
static int tuple(rd *r, lm_pgo_tuple *t)
{
    uint16_t n;

    if (u16(r, &n, "tuple column count") < 0)
        return LM_ECORRUPT;
    if (n > MAX_COLS)
        return bad(r, "tuple has more than 1664 columns");
    /* Each column takes a byte at least: refuse a count the rest cannot
     * hold before allocating for it. */
    if (n > r->len - r->off)
        return need(r, n, "tuple columns");
    if (n == 0)
        return 0;
    t->cols = calloc(n, sizeof(*t->cols));
    if (t->cols == NULL)
        return nomem(r);
    t->ncols = n;
    for (uint16_t i = 0; i < n; i++) {
        lm_pgo_col *c = &t->cols[i];
        uint8_t kind;
        if (u8(r, &kind, "column kind") < 0)
            return LM_ECORRUPT;
        c->kind = (char)kind;
        switch (kind) {
        case 'n':
        case 'u':
            break;
        case 't':
        case 'b':
            if (u32(r, &c->len, "column length") < 0 ||
                bytes(r, c->len, &c->data, "column value") < 0)
                return LM_ECORRUPT;
            break;
        default: {
            char m[64];
            r->off--;
            snprintf(m, sizeof(m), "unknown column kind 0x%02x", kind);
            return bad(r, m);
        }
        }
    }
    return 0;
}

static int relation(rd *r, lm_pgo_msg *m)
{
    uint8_t ident;
    uint16_t n;

    if (u32(r, &m->rel_oid, "relation OID") < 0 || str(r, &m->nspname, "namespace") < 0 ||
        str(r, &m->relname, "relation name") < 0 || u8(r, &ident, "replica identity") < 0 ||
        u16(r, &n, "column count") < 0)
        return LM_ECORRUPT;
    m->replident = (char)ident;
    if (n > MAX_COLS)
        return bad(r, "relation has more than 1664 columns");
    /* A column takes 10 bytes at least (flags, "", type, typmod). */
    if ((size_t)n * 10 > r->len - r->off)
        return need(r, (size_t)n * 10, "relation columns");
    if (n == 0)
        return 0;
    m->relcols = calloc(n, sizeof(*m->relcols));
    if (m->relcols == NULL)
        return nomem(r);
    m->nrelcols = n;
    for (uint16_t i = 0; i < n; i++) {
        lm_pgo_relcol *c = &m->relcols[i];
        uint8_t flags;
        uint32_t typmod;
        if (u8(r, &flags, "column flags") < 0 || str(r, &c->name, "column name") < 0 ||
            u32(r, &c->type_oid, "column type OID") < 0 || u32(r, &typmod, "column typmod") < 0)
            return LM_ECORRUPT;
        c->key = (flags & 1) != 0;
        c->typmod = (int32_t)typmod;
    }
    return 0;
}

static int truncate_msg(rd *r, lm_pgo_msg *m)
{
    uint32_t n;

    if (u32(r, &n, "relation count") < 0 || u8(r, &m->truncate_flags, "options") < 0)
        return LM_ECORRUPT;
    if (n > MAX_TRUNC_RELS)
        return bad(r, "more than 65536 relations");
    if ((size_t)n * 4 > r->len - r->off)
        return need(r, (size_t)n * 4, "relation OIDs");
    if (n == 0)
        return 0;
    m->rel_oids = calloc(n, sizeof(*m->rel_oids));
    if (m->rel_oids == NULL)
        return nomem(r);
    m->nrels = n;
    for (uint32_t i = 0; i < n; i++)
        (void)u32(r, &m->rel_oids[i], "relation OID"); /* in bounds: checked above */
    return 0;
}

/* I, U, D: Int32 relation OID, then the tuples their tags announce. */
static int dml(rd *r, lm_pgo_msg *m)
{
    uint8_t tag;

    if (u32(r, &m->rel_oid, "relation OID") < 0 || u8(r, &tag, "tuple tag") < 0)
        return LM_ECORRUPT;
    if (r->type != 'I' && (tag == 'K' || tag == 'O')) {
        m->old_kind = (char)tag;
        if (tuple(r, &m->old_tuple) < 0)
            return LM_ECORRUPT;
        if (r->type == 'D')
            return 0;
        if (u8(r, &tag, "tuple tag") < 0)
            return LM_ECORRUPT;
    }
    if (r->type == 'D' || tag != 'N') {
        char e[80];
        r->off--;
        snprintf(e, sizeof(e), "unexpected tuple tag 0x%02x (expected %s)", tag,
                 r->type == 'I'   ? "'N'"
                 : r->type == 'D' ? "'K' or 'O'"
                 : m->old_kind    ? "'N'"
                                  : "'K', 'O' or 'N'");
        return bad(r, e);
    }
    return tuple(r, &m->new_tuple);
}

static int message(rd *r, lm_pgo_msg *m)
{
    uint8_t flags;

    if (u8(r, &flags, "flags") < 0 || u64(r, &m->msg_lsn, "LSN") < 0 ||
        str(r, &m->prefix, "prefix") < 0 || u32(r, &m->content_len, "content length") < 0 ||
        bytes(r, m->content_len, &m->content, "content") < 0)
        return LM_ECORRUPT;
    m->flags = flags;
    m->transactional = (flags & 1) != 0;
    return 0;
}

static int body(rd *r, lm_pgo_msg *m)
{
    uint64_t v;

    switch (r->type) {
    case 'B':
        if (u64(r, &m->final_lsn, "final LSN") < 0 || u64(r, &v, "commit time") < 0 ||
            u32(r, &m->xid, "xid") < 0)
            return LM_ECORRUPT;
        m->commit_time = (int64_t)v;
        return 0;
    case 'C':
        if (u8(r, &m->flags, "flags") < 0 || u64(r, &m->commit_lsn, "commit LSN") < 0 ||
            u64(r, &m->end_lsn, "end LSN") < 0 || u64(r, &v, "commit time") < 0)
            return LM_ECORRUPT;
        m->commit_time = (int64_t)v;
        return 0;
    case 'O':
        if (u64(r, &m->origin_lsn, "origin LSN") < 0 || str(r, &m->origin, "origin name") < 0)
            return LM_ECORRUPT;
        return 0;
    case 'R':
        return relation(r, m);
    case 'Y':
        if (u32(r, &m->rel_oid, "type OID") < 0 || str(r, &m->nspname, "namespace") < 0 ||
            str(r, &m->relname, "type name") < 0)
            return LM_ECORRUPT;
        return 0;
    case 'I':
    case 'U':
    case 'D':
        return dml(r, m);
    case 'T':
        return truncate_msg(r, m);
    case 'M':
        return message(r, m);
    default:
        return lm_err_set(r->err, LM_ECORRUPT,
                          "pgoutput: unknown message type 0x%02x at byte 0 (%zu bytes; "
                          "streaming and two-phase messages are not expected)",
                          (unsigned char)r->type, r->len);
    }
}

int lm_pgo_parse(const uint8_t *buf, size_t len, lm_pgo_msg *out, lm_err *err)
{
    rd r = {buf, len, 1, 0, err};
    int rc;

    memset(out, 0, sizeof(*out));
    if (len == 0)
        return lm_err_set(err, LM_ECORRUPT, "pgoutput: empty message");
    r.type = (char)buf[0];
    out->type = r.type;
    rc = body(&r, out);
    if (rc == 0 && r.off != len) {
        char m[64];
        snprintf(m, sizeof(m), "%zu unexpected bytes after the end", len - r.off);
        rc = bad(&r, m);
    }
    if (rc < 0)
        lm_pgo_msg_clear(out); /* nothing half-parsed is left to free or to trust */
    return rc;
}

void lm_pgo_msg_clear(lm_pgo_msg *m)
{
    free(m->old_tuple.cols);
    free(m->new_tuple.cols);
    free(m->relcols);
    free(m->rel_oids);
    memset(m, 0, sizeof(*m));
}
