/* The decoder's state, shared by decoder.c (events) and rows.c (rows). */
#ifndef LIVEMIG_BINLOG_DECODER_H
#define LIVEMIG_BINLOG_DECODER_H

#include "binlog/internal.h"

/* One cached TABLE_MAP plus its raw body, to skip re-parsing the map
 * MySQL repeats before every statement. */
typedef struct lm_bl_cached_map {
    lm_table_map *tm;
    uint8_t *raw;
    size_t raw_len;
} lm_bl_cached_map;

typedef struct lm_bl_rows {
    bool active;
    uint8_t type;
    const uint8_t *p, *end; /* row data still to decode */
    const lm_table_map *tm; /* NULL when the table id is unknown */
    uint64_t table_id;
    lm_row_op op;
    unsigned ncols;         /* columns in the event */
    const uint8_t *present; /* columns-present bitmaps */
    const uint8_t *present_after;
    lm_binlog_pos at; /* the event, for messages */
} lm_bl_rows;

/* How the JSON row writer (rowjson.c) handles one column of the current
 * table map, worked out once per rows event: op, value bytes or length
 * prefix bytes, and the column's JSON key in jkeys. */
typedef struct lm_bl_jcol {
    uint8_t op;
    uint8_t size;
    uint16_t meta; /* the map's */
    uint16_t klen;
    uint32_t koff;
} lm_bl_jcol;

/* Bytes of a value inside the event. */
typedef struct lm_bl_span {
    const uint8_t *p;
    size_t n;
} lm_bl_span;

struct lm_binlog_decoder {
    char file[256];
    uint64_t pos; /* start of the next outer event */
    bool verify;

    /* From the FORMAT_DESCRIPTION event. */
    bool have_fde;
    bool crc32; /* events carry a CRC32 */
    uint8_t post_len[256];
    char server_version[51];

    /* The event handed to lm_binlog_feed, not decoded yet. */
    const uint8_t *in;
    size_t in_len;

    /* Inner events of a TRANSACTION_PAYLOAD. */
    uint8_t *pay;
    size_t pay_cap, pay_len, pay_off;
    lm_binlog_pos pay_at;
    uint64_t pay_next;

    /* Inflated MariaDB compressed rows/query. */
    uint8_t *zbuf;
    size_t zcap;

    lm_bl_cached_map *maps;
    size_t nmaps, cap_maps;

    lm_bl_rows rows;
    lm_value *before, *after;
    lm_bl_span *jraw; /* binary JSON of the before image (partial JSON) */
    unsigned vcap;
    lm_buf jtext;        /* after-image JSON text being built */
    lm_bl_arena jarena;  /* scratch for applying JSON diffs */
    lm_bl_arena arena;   /* row values, reset per row */
    lm_bl_arena evarena; /* event strings, reset per event */

    /* Column layout of rows.tm for the JSON row writer; jtm is NULL until
     * it is worked out for the current rows event. */
    const lm_table_map *jtm;
    lm_bl_jcol *jcols;
    unsigned jcap;
    lm_buf jkeys;
};

/* Parse the rows-event header and set up d->rows (rows.c). */
int lm_bl_rows_start(lm_binlog_decoder *d, lm_binlog_event *ev, const uint8_t *body, size_t len,
                     lm_err *err);
/* Cache lookup by table id. */
const lm_table_map *lm_bl_map_find(const lm_binlog_decoder *d, uint64_t table_id);

#endif
