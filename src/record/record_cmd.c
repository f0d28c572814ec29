/* livemig record --dsn URI --out FILE.binlog.zst [--tables db.t,…]
 *                [--from FILE:POS | --gtid G] [--until FILE:POS | --duration S]
 *
 * Streams the binlog as a replica and writes a recording (record.h). Each
 * transaction is buffered until its end, then written whole, so the file
 * only ever holds whole transactions; SIGINT/SIGTERM, --until and
 * --duration stop at a transaction boundary (an open transaction at a
 * signal is left out) and close the frame and the index. With --tables,
 * transactions that touch none of the tables are left out; the events of
 * the kept ones stay as the server wrote them (CRC32 intact), as do DDL
 * and the FORMAT_DESCRIPTION/ROTATE events. */
#include "record/record.h"

#include "livemig/buf.h"
#include "livemig/clock.h"
#include "livemig/dsn.h"
#include "livemig/log.h"
#include "livemig/migrate.h"
#include "livemig/mysql.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct rec_opts {
    const char *dsn, *out, *tables, *from, *gtid, *until, *defaults;
    double duration;
    size_t frame_bytes;
    unsigned server_id;
    int level;
    bool plain; /* --level 0 */
} rec_opts;

typedef struct rec_ctx {
    const rec_opts *o;
    lm_rec_filter filter;
    lm_binlog_pos until;
    bool have_until;
    lm_rec_writer *w;
    lm_binlog_decoder *d;
    lm_rec_txn txn;
    size_t trx_bytes;    /* of the open transaction, put into the writer as they came */
    size_t trx_mark;     /* where it starts in the writer's open frame */
    bool trx_keep;       /* it touches a filtered table (or there is no filter) */
    bool trx_maps;       /* it has TABLE_MAPs at all */
    lm_binlog_pos start; /* where the open transaction (or next event) starts */
    lm_binlog_pos at;    /* where the next event starts */
    bool dec_behind;     /* events went past the decoder since it last saw one */
    uint32_t trx_ts;
    char gtid[128];     /* of the last written transaction */
    char cur_gtid[128]; /* of the open one */
    lm_binlog_pos done; /* position after the last written transaction */
    bool need_fde;      /* the next FORMAT_DESCRIPTION is written */
    uint64_t ntrx, nskipped;
    char header[1024];
} rec_ctx;

static int open_writer(rec_ctx *c, lm_err *err)
{
    lm_rec_writer_opts wo = {c->o->plain ? LM_REC_LEVEL_PLAIN : c->o->level, c->o->frame_bytes, 1.0,
                             c->header};
    size_t n = strlen(c->header);

    snprintf(c->header + n, sizeof(c->header) - n, "source_file=%s\nsource_pos=%llu\n",
             c->start.file, (unsigned long long)c->start.pos);
    return lm_rec_writer_open(&c->w, c->o->out, &wo, err);
}

static int put(rec_ctx *c, const uint8_t *data, size_t len, uint32_t ts, lm_err *err)
{
    lm_rec_mark m = {c->start.file, c->start.pos, ts, c->gtid};
    int rc;

    if (c->w == NULL && (rc = open_writer(c, err)) < 0)
        return rc;
    return lm_rec_writer_put(c->w, data, len, &m, err);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The bulk of the bytes (TABLE_MAP and rows events, and without --tables
 * MySQL's compressed TRANSACTION_PAYLOADs) need nothing the decoder gives:
 * boundaries come from txn.c, table names from lm_rec_tablemap_name.
 * Skipping the decoder there skips its CRC32 pass over every byte (the
 * largest cost after zstd); the CRC32s stay in the file, and every reader
 * (dump, replay, mariadb-binlog) checks them. */
static bool skim_only(const rec_ctx *c, uint8_t type)
{
    return type == LM_BL_TABLE_MAP || lm_binlog_type_is_rows(type) ||
           (type == LM_BL_TRANSACTION_PAYLOAD && c->filter.n == 0);
}

/* Header and position of an event the decoder does not see, the way the
 * decoder places events (decoder.c decode_event): log_pos is the end of a
 * server-written event, else sizes add up. */
static int skim(rec_ctx *c, const uint8_t *ev, size_t len, lm_binlog_event *e, bool *match,
                lm_err *err)
{
    lm_binlog_header *h = &e->hdr;
    char db[193], tbl[193];

    h->timestamp = le32(ev);
    h->type = ev[4];
    h->event_size = le32(ev + 9);
    h->log_pos = le32(ev + 13);
    h->flags = (uint16_t)(ev[17] | ev[18] << 8);
    if (h->event_size != len)
        return lm_err_set(err, LM_ECORRUPT, "event at %s:%llu: size %u but %zu bytes given",
                          c->at.file, (unsigned long long)c->at.pos, h->event_size, len);
    e->gtid[0] = '\0';
    e->rotate_fake = false;
    e->at = c->at;
    if (h->log_pos >= len && !(h->flags & LM_BINLOG_FLAG_ARTIFICIAL))
        e->at.pos = h->log_pos - len;
    e->next_pos = h->log_pos                               ? h->log_pos
                  : (h->flags & LM_BINLOG_FLAG_ARTIFICIAL) ? e->at.pos
                                                           : e->at.pos + len;
    c->at.pos = e->next_pos;
    c->dec_behind = true;
    if (h->type != LM_BL_TABLE_MAP)
        return 0;
    c->trx_maps = true;
    if (c->filter.n == 0)
        return 0;
    if (lm_rec_tablemap_name(ev, len, db, sizeof(db), tbl, sizeof(tbl)) < 0)
        return lm_err_set(err, LM_ECORRUPT, "%s:%llu: malformed TABLE_MAP event", e->at.file,
                          (unsigned long long)e->at.pos);
    *match = lm_rec_filter_match(&c->filter, db, tbl);
    return 0;
}

/* Decode what the decoder needs (rotations, GTIDs, table names inside a
 * TRANSACTION_PAYLOAD); *first gets the event, or the payload's first
 * inner event with the payload's end as next_pos. */
static int inspect(rec_ctx *c, const uint8_t *ev, size_t len, lm_binlog_event *first, bool *match,
                   lm_err *err)
{
    lm_binlog_event e;
    uint64_t next = 0;
    int rc, n = 0;

    *match = false;
    if (skim_only(c, ev[4]))
        return skim(c, ev, len, first, match, err);
    if (c->dec_behind)
        lm_binlog_decoder_set_file(c->d, c->at.file, c->at.pos);
    c->dec_behind = false;
    if ((rc = lm_binlog_feed(c->d, ev, len, err)) < 0)
        return rc;
    while ((rc = lm_binlog_next(c->d, &e, err)) == 1) {
        if (n++ == 0)
            *first = e;
        next = e.next_pos;
        if (e.hdr.type == LM_BL_TABLE_MAP &&
            lm_rec_filter_match(&c->filter, e.table->db, e.table->table))
            *match = true;
        if (e.hdr.type == LM_BL_TABLE_MAP)
            c->trx_maps = true;
    }
    if (n == 0) { /* an empty payload */
        memset(first, 0, sizeof(*first));
        return rc;
    }
    first->next_pos = next;
    if (first->hdr.type == LM_BL_ROTATE) {
        c->at = first->rotate;
    } else {
        c->at = first->at;
        c->at.pos = next;
    }
    return rc;
}

static int end_trx(rec_ctx *c, const lm_binlog_event *last, lm_err *err)
{
    int rc = 0;

    if (c->trx_keep || !c->trx_maps) {
        memcpy(c->gtid, c->cur_gtid, sizeof(c->gtid));
        c->ntrx++;
        rc = lm_rec_writer_boundary(c->w, false, err);
    } else {
        lm_rec_writer_undo(c->w, c->trx_mark);
        c->nskipped++;
    }
    c->done = last->at;
    c->done.pos = last->next_pos;
    c->trx_bytes = 0;
    c->trx_keep = c->trx_maps = false;
    c->cur_gtid[0] = '\0';
    return rc;
}

static int on_event(rec_ctx *c, const uint8_t *ev, size_t len, lm_err *err)
{
    lm_binlog_event e;
    bool match, was_open = lm_rec_txn_open(&c->txn), boundary;
    uint16_t flags = (uint16_t)(ev[17] | ev[18] << 8);
    int rc;

    if (ev[4] == LM_BL_HEARTBEAT || ev[4] == LM_BL_HEARTBEAT_V2)
        return 0;
    if ((rc = inspect(c, ev, len, &e, &match, err)) < 0)
        return rc;
    if (ev[4] == LM_BL_ROTATE && e.rotate_fake) {
        c->start = e.rotate;
        c->need_fde = true;
        return 0;
    }
    if (ev[4] == LM_BL_FORMAT_DESCRIPTION) {
        if (!c->need_fde)
            return 0;
        c->need_fde = false;
        return put(c, ev, len, e.hdr.timestamp, err);
    }
    if (flags & LM_BINLOG_FLAG_ARTIFICIAL)
        return 0; /* e.g. the GTID list the server makes up at the start */
    /* mariadb-binlog (gtid-strict-mode) takes a GTID_LIST as the state the
     * log starts from: one after transactions, or after the events a
     * filter left out, makes it refuse the file. Only a leading one stays. */
    if (ev[4] == LM_BL_GTID_LIST && (c->ntrx || c->nskipped))
        return 0;
    boundary = lm_rec_txn_step(&c->txn, ev, len);
    if (!was_open && boundary && c->trx_bytes == 0) {
        /* Outside any transaction: ROTATE, GTID_LIST, checkpoints. */
        c->start = e.at;
        if ((rc = put(c, ev, len, e.hdr.timestamp, err)) < 0)
            return rc;
        c->done = e.at;
        c->done.pos = e.next_pos;
        if (ev[4] == LM_BL_ROTATE) {
            c->done = e.rotate;
            c->need_fde = true;
        }
        return lm_rec_writer_boundary(c->w, false, err);
    }
    if (c->trx_bytes == 0) {
        c->start = e.at;
        c->trx_ts = e.hdr.timestamp;
        if (c->w == NULL && (rc = open_writer(c, err)) < 0)
            return rc;
        c->trx_mark = lm_rec_writer_tell(c->w);
    }
    if (e.gtid[0] && (ev[4] == LM_BL_GTID_MARIADB || ev[4] == LM_BL_GTID_MYSQL))
        memcpy(c->cur_gtid, e.gtid, sizeof(c->cur_gtid));
    if (match || c->filter.n == 0)
        c->trx_keep = true;
    /* Into the writer's open frame right away: it holds whole frames
     * anyway, and end_trx takes the events back when --tables drops the
     * transaction. */
    if ((rc = put(c, ev, len, c->trx_ts, err)) < 0)
        return rc;
    c->trx_bytes += len;
    return boundary ? end_trx(c, &e, err) : 0;
}

/* Should the recording end here (only called between transactions)? */
static bool done(rec_ctx *c, double t_end)
{
    if (lm_interrupted)
        return true;
    if (t_end > 0 && lm_now() >= t_end)
        return true;
    return c->have_until && c->done.file[0] && lm_binlog_pos_cmp(&c->done, &c->until) >= 0;
}

static int start_info(rec_ctx *c, const lm_dsn *dsn, lm_binlog_pos *from, lm_err *err)
{
    MYSQL *m = NULL;
    char *ver = NULL, *sid = NULL, *cks = NULL;
    int rc;

    if ((rc = lm_mysql_connect(&m, dsn, err)) < 0)
        return rc;
    if (!c->o->from && !c->o->gtid && (rc = lm_mysql_binlog_pos(m, from, err)) < 0)
        goto cleanup;
    if ((rc = lm_mysql_query_value(m, "SELECT @@version", &ver, err)) < 0 ||
        (rc = lm_mysql_query_value(m, "SELECT @@server_id", &sid, err)) < 0 ||
        (rc = lm_mysql_query_value(m, "SELECT @@global.binlog_checksum", &cks, err)) < 0)
        goto cleanup;
    snprintf(c->header, sizeof(c->header),
             "source_version=%s\nsource_server_id=%s\nsource_checksum=%s\nstart_gtid=%s\n",
             ver ? ver : "", sid ? sid : "", cks ? cks : "", c->o->gtid ? c->o->gtid : "");
cleanup:
    free(ver);
    free(sid);
    free(cks);
    mysql_close(m);
    return rc;
}

static int record(const rec_opts *o, lm_err *err)
{
    rec_ctx c;
    lm_dsn dsn = {0};
    lm_binlog_stream *s = NULL;
    lm_binlog_stream_opts so = {0};
    const uint8_t *data;
    size_t len;
    double t_end = 0;
    uint64_t comp = 0, raw = 0;
    int rc;

    memset(&c, 0, sizeof(c));
    c.o = o;
    c.need_fde = true;
    if ((rc = lm_rec_filter_parse(&c.filter, o->tables, err)) < 0)
        goto cleanup;
    if (o->until && (rc = lm_rec_parse_pos(o->until, &c.until, err)) < 0)
        goto cleanup;
    c.have_until = o->until != NULL;
    if (o->from && (rc = lm_rec_parse_pos(o->from, &so.start, err)) < 0)
        goto cleanup;
    if ((rc = lm_dsn_parse(&dsn, o->dsn, err)) < 0)
        goto cleanup;
    dsn.defaults_file = o->defaults ? strdup(o->defaults) : NULL;
    if ((rc = lm_binlog_decoder_new(&c.d, err)) < 0 || (rc = start_info(&c, &dsn, &so.start, err)))
        goto cleanup;
    so.server_id = o->server_id ? o->server_id : 0x4C4D0000u + (unsigned)(getpid() & 0xFFFF);
    so.gtid = o->gtid;
    so.heartbeat_ms = 500; /* wake up to see signals and --duration */
    c.start = c.at = so.start;
    if ((rc = lm_binlog_stream_open(&s, &dsn, &so, err)) < 0)
        goto cleanup;
    lm_info("recording %s from %s into %s", dsn.host ? dsn.host : "localhost",
            o->gtid ? o->gtid : so.start.file, o->out);
    if (o->plain)
        lm_info("--level 0: writing the plain binlog, without zstd, header or index");
    if (o->duration > 0)
        t_end = lm_now() + o->duration;
    for (;;) {
        if (!lm_rec_txn_open(&c.txn) && done(&c, t_end))
            break;
        rc = lm_binlog_stream_read(s, &data, &len, err);
        if (rc < 0 && lm_interrupted) {
            lm_err_clear(err);
            break;
        }
        if (rc < 0)
            goto cleanup;
        if (rc == 0) /* the server ended the dump */
            break;
        if ((rc = on_event(&c, data, len, err)) < 0)
            goto cleanup;
        if (lm_interrupted)
            break; /* an open transaction is left out */
    }
    if (c.trx_bytes) {
        lm_warn("left out the transaction open at the stop (%zu bytes from %s:%llu)", c.trx_bytes,
                c.start.file, (unsigned long long)c.start.pos);
        lm_rec_writer_undo(c.w, c.trx_mark);
    }
    if (c.w == NULL && (rc = open_writer(&c, err)) < 0)
        goto cleanup;
    /* Close the last frame first so that the sizes count it. */
    if ((rc = lm_rec_writer_boundary(c.w, true, err)) < 0)
        goto cleanup;
    lm_rec_writer_sizes(c.w, &comp, &raw);
    rc = lm_rec_writer_close(c.w, err);
    c.w = NULL;
    if (rc < 0)
        goto cleanup;
    lm_info("recorded %llu transactions (%llu left out by --tables): %.1f MB of binlog in %.1f MB "
            "(ratio %.2f); resume with --from %s:%llu",
            (unsigned long long)c.ntrx, (unsigned long long)c.nskipped, raw / 1e6, comp / 1e6,
            comp ? (double)raw / (double)comp : 0.0, c.done.file[0] ? c.done.file : c.start.file,
            (unsigned long long)(c.done.file[0] ? c.done.pos : c.start.pos));
cleanup:
    /* On failure the frames already written stay readable. */
    lm_rec_writer_free(c.w);
    lm_binlog_stream_close(s);
    lm_binlog_decoder_free(c.d);
    lm_rec_filter_free(&c.filter);
    lm_dsn_free(&dsn);
    return rc;
}

static int usage(FILE *f)
{
    fputs("usage: livemig record --dsn URI --out FILE.binlog.zst [--tables db.t,...]\n"
          "         [--from FILE:POS | --gtid G] [--until FILE:POS | --duration SECONDS]\n"
          "         [--server-id N] [--level -7..19] [--frame-size BYTES] [--defaults-file FILE]\n",
          f);
    return f == stdout ? 0 : 2;
}

int lm_record_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dsn", required_argument, NULL, 'd'},
        {"out", required_argument, NULL, 'o'},
        {"tables", required_argument, NULL, 't'},
        {"from", required_argument, NULL, 'f'},
        {"gtid", required_argument, NULL, 'g'},
        {"until", required_argument, NULL, 'u'},
        {"duration", required_argument, NULL, 'D'},
        {"server-id", required_argument, NULL, 's'},
        {"level", required_argument, NULL, 'l'},
        {"defaults-file", required_argument, NULL, 'F'},
        {"frame-size", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rec_opts o = {0};
    lm_err err = LM_ERR_INIT;
    char *end;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.dsn = optarg;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 't':
            o.tables = optarg;
            break;
        case 'f':
            o.from = optarg;
            break;
        case 'g':
            o.gtid = optarg;
            break;
        case 'u':
            o.until = optarg;
            break;
        case 'D':
            o.duration = strtod(optarg, &end);
            if (*end || o.duration <= 0) {
                fprintf(stderr, "livemig: invalid value for --duration: '%s'\n", optarg);
                return 2;
            }
            break;
        case 's':
            o.server_id = (unsigned)strtoul(optarg, &end, 10);
            if (*end || o.server_id == 0) {
                fprintf(stderr, "livemig: invalid value for --server-id: '%s'\n", optarg);
                return 2;
            }
            break;
        case 'l':
            /* Negative: zstd's fast levels. 0 (left out of the usage on
             * purpose) writes the plain binlog without zstd: the bench's
             * measure of what streaming alone costs livemig. */
            o.level = (int)strtol(optarg, &end, 10);
            if (*end || !*optarg || o.level < -7 || o.level > 19) {
                fprintf(stderr, "livemig: invalid value for --level: '%s'\n", optarg);
                return 2;
            }
            o.plain = o.level == 0;
            break;
        case 'F':
            o.defaults = optarg;
            break;
        case 'S':
            o.frame_bytes = (size_t)strtoull(optarg, &end, 10);
            if (*end || o.frame_bytes < 4096) {
                fprintf(stderr, "livemig: invalid value for --frame-size: '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h':
            return usage(stdout);
        default:
            return usage(stderr);
        }
    }
    if (optind < argc || !o.dsn || !o.out || (o.from && o.gtid) || (o.until && o.duration > 0)) {
        fprintf(stderr, "livemig: record needs --dsn and --out; --from and --gtid, --until and "
                        "--duration exclude each other\n");
        return usage(stderr);
    }
    rc = record(&o, &err);
    if (rc < 0) {
        fprintf(stderr, "livemig: record: %s\n", err.msg);
        return lm_err_exit_code(&err, false);
    }
    return 0;
}
