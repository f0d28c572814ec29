/* livemig dump FILE... [--format text|json] [--tables LIST]: decode binlog
 * files and recordings (told apart by magic, record/reader.c) with
 * livemig's own decoder. */
#include "record/dump.h"
#include "record/record.h"

#include "binlog/jsonw.h"
#include "binlog/rowjson.h"
#include "livemig/binlog.h"
#include "livemig/buf.h"
#include "livemig/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { FMT_TEXT, FMT_JSON } dump_format;

static const char *type_name(uint8_t t)
{
    switch (t) {
    case LM_BL_QUERY:
        return "QUERY";
    case LM_BL_STOP:
        return "STOP";
    case LM_BL_ROTATE:
        return "ROTATE";
    case LM_BL_FORMAT_DESCRIPTION:
        return "FORMAT_DESCRIPTION";
    case LM_BL_XID:
        return "XID";
    case LM_BL_TABLE_MAP:
        return "TABLE_MAP";
    case LM_BL_WRITE_ROWS_V1:
        return "WRITE_ROWS_V1";
    case LM_BL_UPDATE_ROWS_V1:
        return "UPDATE_ROWS_V1";
    case LM_BL_DELETE_ROWS_V1:
        return "DELETE_ROWS_V1";
    case LM_BL_HEARTBEAT:
        return "HEARTBEAT";
    case LM_BL_WRITE_ROWS_V2:
        return "WRITE_ROWS";
    case LM_BL_UPDATE_ROWS_V2:
        return "UPDATE_ROWS";
    case LM_BL_DELETE_ROWS_V2:
        return "DELETE_ROWS";
    case LM_BL_GTID_MYSQL:
        return "GTID";
    case LM_BL_ANONYMOUS_GTID:
        return "ANONYMOUS_GTID";
    case LM_BL_PREVIOUS_GTIDS:
        return "PREVIOUS_GTIDS";
    case LM_BL_PARTIAL_UPDATE_ROWS:
        return "PARTIAL_UPDATE_ROWS";
    case LM_BL_TRANSACTION_PAYLOAD:
        return "TRANSACTION_PAYLOAD";
    case LM_BL_HEARTBEAT_V2:
        return "HEARTBEAT_V2";
    case LM_BL_ANNOTATE_ROWS:
        return "ANNOTATE_ROWS";
    case LM_BL_BINLOG_CHECKPOINT:
        return "BINLOG_CHECKPOINT";
    case LM_BL_GTID_MARIADB:
        return "GTID";
    case LM_BL_GTID_LIST:
        return "GTID_LIST";
    case LM_BL_START_ENCRYPTION:
        return "START_ENCRYPTION";
    case LM_BL_QUERY_COMPRESSED:
        return "QUERY_COMPRESSED";
    case LM_BL_WRITE_ROWS_COMPRESSED_V1:
        return "WRITE_ROWS_COMPRESSED_V1";
    case LM_BL_UPDATE_ROWS_COMPRESSED_V1:
        return "UPDATE_ROWS_COMPRESSED_V1";
    case LM_BL_DELETE_ROWS_COMPRESSED_V1:
        return "DELETE_ROWS_COMPRESSED_V1";
    default:
        return NULL;
    }
}

static const char *op_name(lm_row_op op)
{
    return op == LM_ROW_INSERT ? "insert" : op == LM_ROW_UPDATE ? "update" : "delete";
}

typedef struct dump_state {
    dump_format fmt;
    lm_rec_filter tables;
    char gtid[128]; /* of the transaction being printed */
    lm_buf line;    /* whole lines not yet written, then the one being built */
    size_t whole;   /* bytes of line that are whole lines */
} dump_state;

/* Lines collect in st->line and go out in blocks of about this size:
 * one fwrite per line cost more than the formatting of short lines. */
#define OUT_BLOCK (256 * 1024)

/* A line left half-built by an error is dropped, as it always was. */
static void flush_out(dump_state *st)
{
    if (st->whole)
        fwrite(st->line.data, 1, st->whole, stdout);
    lm_buf_reset(&st->line);
    st->whole = 0;
}

static void emit(dump_state *st)
{
    lm_buf_putc(&st->line, '\n');
    st->whole = st->line.len;
    if (st->whole >= OUT_BLOCK)
        flush_out(st);
}

/* Integers without printf (one of these per printed row). */
static void put_u64(lm_buf *b, uint64_t u)
{
    char t[24];
    size_t n = sizeof(t);

    do {
        t[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    lm_buf_append(b, t + n, sizeof(t) - n);
}

/* One JSON object per row change. The part before the row images is the
 * same for every row of the event, so it is built once. */
static int rows_json(dump_state *st, lm_binlog_decoder *d, const lm_binlog_event *ev, lm_err *err)
{
    const lm_table_map *tm = ev->table;
    lm_buf head = LM_BUF_INIT, *b = &st->line;
    char *q;
    int rc;

    lm_buf_puts(&head, "{\"file\":");
    lm_buf_json_str(&head, ev->at.file, strlen(ev->at.file));
    lm_buf_puts(&head, ",\"pos\":");
    put_u64(&head, ev->at.pos);
    lm_buf_puts(&head, ",\"gtid\":");
    if (st->gtid[0])
        lm_buf_json_str(&head, st->gtid, strlen(st->gtid));
    else
        lm_buf_puts(&head, "null");
    lm_buf_puts(&head, ",\"ts\":");
    put_u64(&head, ev->hdr.timestamp);
    lm_buf_puts(&head, ",\"db\":");
    lm_buf_json_str(&head, tm->db, strlen(tm->db));
    lm_buf_puts(&head, ",\"table\":");
    lm_buf_json_str(&head, tm->table, strlen(tm->table));
    lm_buf_puts(&head, ",\"op\":\"");
    lm_buf_puts(&head, op_name(ev->row_op));
    lm_buf_puts(&head, "\",\"before\":");
    if (head.oom) {
        lm_buf_free(&head);
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    }
    for (;;) {
        size_t mark = b->len;
        if ((q = lm_jw_begin(b, head.len)) == NULL) {
            rc = lm_err_set(err, LM_ENOMEM, "out of memory");
            break;
        }
        memcpy(q, head.data, head.len);
        lm_jw_end(b, q + head.len);
        /* The row images are written as they are decoded (rowjson.c). */
        rc = lm_bl_rows_next_json(d, b, ",\"after\":", 9, err);
        if (rc != 1 || (q = lm_jw_begin(b, 2)) == NULL) {
            /* Drop the unfinished line. */
            b->len = mark;
            if (b->data)
                b->data[mark] = '\0';
            if (rc == 1)
                rc = lm_err_set(err, LM_ENOMEM, "out of memory");
            break;
        }
        *q++ = '}';
        *q++ = '\n';
        lm_jw_end(b, q);
        st->whole = b->len;
        if (st->whole >= OUT_BLOCK)
            flush_out(st);
    }
    lm_buf_free(&head);
    return rc;
}

static int event_text(dump_state *st, lm_binlog_decoder *d, const lm_binlog_event *ev, lm_err *err)
{
    const char *name = type_name(ev->hdr.type);
    lm_buf *b = &st->line;
    unsigned nrows = 0;
    int rc;

    lm_buf_puts(b, ev->at.file);
    lm_buf_putc(b, ':');
    put_u64(b, ev->at.pos);
    lm_buf_putc(b, ' ');
    if (name)
        lm_buf_puts(b, name);
    else
        lm_buf_printf(b, "UNKNOWN(%u)", ev->hdr.type);
    switch (ev->hdr.type) {
    case LM_BL_FORMAT_DESCRIPTION:
        lm_buf_printf(b, " server=%s", ev->server_version);
        break;
    case LM_BL_ROTATE:
        lm_buf_printf(b, " -> %s:%llu%s", ev->rotate.file, (unsigned long long)ev->rotate.pos,
                      ev->rotate_fake ? " (fake)" : "");
        break;
    case LM_BL_QUERY:
    case LM_BL_QUERY_COMPRESSED:
        lm_buf_puts(b, " db=");
        lm_buf_json_str(b, ev->query_db, strlen(ev->query_db));
        /* fallthrough */
    case LM_BL_ANNOTATE_ROWS:
        lm_buf_puts(b, " query=");
        lm_buf_json_str(b, ev->query, strlen(ev->query));
        break;
    case LM_BL_GTID_MYSQL:
    case LM_BL_GTID_MARIADB:
    case LM_BL_GTID_LIST:
        lm_buf_printf(b, " %s", ev->gtid);
        break;
    case LM_BL_XID:
        lm_buf_printf(b, " xid=%llu", (unsigned long long)ev->xid);
        break;
    case LM_BL_TABLE_MAP:
        lm_buf_printf(b, " %s.%s id=%llu cols=%u", ev->table->db, ev->table->table,
                      (unsigned long long)ev->table->table_id, ev->table->ncols);
        break;
    default:
        if (ev->row_op == 0)
            break;
        while ((rc = lm_binlog_rows_next(d, NULL, NULL, err)) == 1)
            nrows++;
        if (rc < 0)
            return rc;
        if (ev->table) {
            lm_buf_putc(b, ' ');
            lm_buf_puts(b, ev->table->db);
            lm_buf_putc(b, '.');
            lm_buf_puts(b, ev->table->table);
        }
        lm_buf_putc(b, ' ');
        lm_buf_puts(b, op_name(ev->row_op));
        lm_buf_puts(b, " rows=");
        put_u64(b, nrows);
        break;
    }
    if (b->oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    emit(st);
    return 0;
}

static int dump_event(dump_state *st, lm_binlog_decoder *d, const lm_binlog_event *ev, lm_err *err)
{
    /* --tables: leave out the maps and rows of other tables. */
    if (ev->table && !lm_rec_filter_match(&st->tables, ev->table->db, ev->table->table))
        return 0;
    switch (ev->hdr.type) {
    case LM_BL_GTID_MYSQL:
    case LM_BL_GTID_MARIADB:
    case LM_BL_ANONYMOUS_GTID:
        memcpy(st->gtid, ev->gtid, sizeof(st->gtid));
        break;
    default:
        break;
    }
    if (st->fmt == FMT_TEXT)
        return event_text(st, d, ev, err);
    if (ev->row_op && ev->table)
        return rows_json(st, d, ev, err);
    if (ev->row_op && lm_binlog_rows_next(d, NULL, NULL, err) != 0)
        return lm_err_set(err, LM_ECORRUPT, "rows event for an unknown table at %s:%llu",
                          ev->at.file, (unsigned long long)ev->at.pos);
    return 0;
}

/* Returns the exit status for this file: 0, 1 (unreadable/corrupt) or 2. */
static int dump_file(dump_state *st, const char *path, lm_err *err)
{
    lm_rec_source *src = NULL;
    lm_binlog_decoder *d = NULL;
    lm_binlog_event ev;
    const uint8_t *data;
    size_t len;
    int rc;

    rc = lm_rec_source_open(&src, path, err);
    if (rc < 0)
        return 1;
    rc = lm_binlog_decoder_new(&d, err);
    if (rc < 0)
        goto cleanup;
    lm_binlog_decoder_set_file(d, lm_rec_source_file(src), lm_rec_source_pos(src));
    st->gtid[0] = '\0';
    /* Read errors name the file and byte offset themselves; decode
     * errors name the binlog position, so add the path. */
    while ((rc = lm_rec_source_read(src, &data, &len, err)) == 1) {
        rc = lm_binlog_feed(d, data, len, err);
        while (rc == 0 && (rc = lm_binlog_next(d, &ev, err)) == 1)
            rc = dump_event(st, d, &ev, err);
        if (rc < 0) {
            lm_err_prefix(err, "%s", path);
            goto cleanup;
        }
    }
cleanup:
    flush_out(st);
    fflush(stdout);
    lm_binlog_decoder_free(d);
    lm_rec_source_close(src);
    return rc < 0 ? 1 : 0;
}

static int usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "livemig: dump: %s\n", msg);
    fprintf(stderr, "usage: livemig dump FILE... [--format text|json] [--tables db.t,...]\n");
    return 2;
}

int lm_dump_main(int argc, char **argv)
{
    dump_state st = {FMT_TEXT, {0, NULL, NULL}, {0}, LM_BUF_INIT, 0};
    lm_err err = LM_ERR_INIT;
    const char *fmt = NULL;
    int i, nfiles = 0, rc = 0;
    char **files = calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));

    if (files == NULL)
        return 1;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            fmt = argv[++i];
        else if (strncmp(argv[i], "--format=", 9) == 0)
            fmt = argv[i] + 9;
        else if ((strcmp(argv[i], "--tables") == 0 && i + 1 < argc) ||
                 strncmp(argv[i], "--tables=", 9) == 0) {
            const char *list = argv[i][8] == '=' ? argv[i] + 9 : argv[++i];
            if (lm_rec_filter_parse(&st.tables, list, &err) < 0) {
                free(files);
                lm_rec_filter_free(&st.tables);
                return usage(err.msg);
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            free(files);
            usage(NULL);
            return 0;
        } else if (strcmp(argv[i], "--") == 0) {
            while (++i < argc)
                files[nfiles++] = argv[i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            free(files);
            fprintf(stderr, "livemig: dump: unknown option %s\n", argv[i]);
            return usage(NULL);
        } else
            files[nfiles++] = argv[i];
    }
    if (fmt && strcmp(fmt, "json") == 0)
        st.fmt = FMT_JSON;
    else if (fmt && strcmp(fmt, "text") != 0) {
        free(files);
        return usage("--format must be text or json");
    }
    if (nfiles == 0) {
        free(files);
        return usage("no input file");
    }
    for (i = 0; i < nfiles && rc == 0; i++) {
        rc = dump_file(&st, files[i], &err);
        if (rc != 0)
            fprintf(stderr, "livemig: %s\n", err.msg);
    }
    lm_buf_free(&st.line);
    lm_rec_filter_free(&st.tables);
    free(files);
    return rc;
}
