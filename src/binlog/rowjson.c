/* Row images written as JSON straight from the event bytes, for
 * `livemig dump --format json`: decoding each value into an lm_value
 * (memset, a switch on the type, text into the arena) and then switching
 * again on its kind to write it was more than half of a dump's time.
 * The column layout (how each column is written, its key) is worked out
 * once per rows event. The output equals lm_row_json of the images
 * lm_binlog_rows_next decodes: every value the fast ops below do not
 * cover, and every value they find malformed, goes through
 * lm_bl_value_decode and format.c (which also gives the same errors). */
#include "binlog/rowjson.h"
#include "binlog/decoder.h"
#include "binlog/dtoa.h"
#include "binlog/jsonw.h"
#include "binlog/textfmt.h"

#include <stdlib.h>
#include <string.h>

enum {
    OP_GENERIC, /* lm_bl_value_decode + format.c */
    OP_INT,     /* size bytes, signed */
    OP_UINT,    /* size bytes, unsigned */
    OP_YEAR,
    OP_FLOAT,
    OP_DOUBLE,
    OP_DECIMAL, /* size bytes */
    OP_DATE,
    OP_DATETIME2, /* size: fsp */
    OP_TIMESTAMP2,
    OP_TIME2,
    OP_BIT,   /* size bytes */
    OP_ENUM,  /* size bytes, no member names */
    OP_SET,   /* size bytes, no member names */
    OP_HEX,   /* size: length prefix bytes */
    OP_UTF8,  /* size: length prefix bytes */
    OP_ASCII, /* size: length prefix bytes */
};

/* Bytes after each key that may be copied with it. */
#define KEY_PAD 16

/* Room for any fixed-size op's value (temporal and decimal text, a
 * number, a float). */
#define FIXED_ROOM (LM_BL_TEXT_ROOM + LM_BL_DTOA_MAX + 8)

/* Op for text or bytes with a size-byte length prefix in collation
 * charset; default_hex: the column type's kind with no charset known
 * (BLOB types are bytes, VARCHAR/CHAR text). */
static uint8_t text_op(unsigned charset, int default_hex)
{
    if (charset == 63 || (charset == 0 && default_hex))
        return OP_HEX;
    switch (lm_bl_charset_json(charset)) {
    case LM_BL_CSJ_HEX:
        return OP_HEX;
    case LM_BL_CSJ_UTF8:
        return OP_UTF8;
    case LM_BL_CSJ_ASCII:
        return OP_ASCII;
    default:
        return OP_GENERIC;
    }
}

/* Mirrors the cases of lm_bl_value_decode that need no more than the
 * bytes and the map. */
static void col_op(const lm_table_map *tm, unsigned i, lm_bl_jcol *c)
{
    uint8_t type = tm->types[i], rt;
    uint16_t meta = tm->meta[i];
    unsigned charset = tm->charsets ? tm->charsets[i] : 0, len;
    int sz;

    c->op = OP_GENERIC;
    c->size = 0;
    c->meta = meta;
    switch (type) {
    case LM_T_TINY:
    case LM_T_SHORT:
    case LM_T_INT24:
    case LM_T_LONG:
    case LM_T_LONGLONG:
        c->op = tm->is_unsigned && tm->is_unsigned[i] == 1 ? OP_UINT : OP_INT;
        c->size = type == LM_T_TINY    ? 1
                  : type == LM_T_SHORT ? 2
                  : type == LM_T_INT24 ? 3
                  : type == LM_T_LONG  ? 4
                                       : 8;
        break;
    case LM_T_YEAR:
        c->op = OP_YEAR;
        c->size = 1;
        break;
    case LM_T_FLOAT:
        c->op = OP_FLOAT;
        c->size = 4;
        break;
    case LM_T_DOUBLE:
        c->op = OP_DOUBLE;
        c->size = 8;
        break;
    case LM_T_NEWDECIMAL:
        sz = lm_bl_decimal_size(meta >> 8, meta & 0xFF);
        if (sz > 0 && sz < 256) {
            c->op = OP_DECIMAL;
            c->size = (uint8_t)sz;
        }
        break;
    case LM_T_DATE:
    case LM_T_NEWDATE:
        c->op = OP_DATE;
        c->size = 3;
        break;
    case LM_T_DATETIME2:
    case LM_T_TIMESTAMP2:
    case LM_T_TIME2:
        if (meta <= 6) {
            c->op = type == LM_T_DATETIME2    ? OP_DATETIME2
                    : type == LM_T_TIMESTAMP2 ? OP_TIMESTAMP2
                                              : OP_TIME2;
            c->size = (uint8_t)meta;
        }
        break;
    case LM_T_BIT:
        c->op = OP_BIT;
        c->size = (uint8_t)(((meta >> 8) * 8 + (meta & 0xFF) + 7) / 8);
        break;
    case LM_T_VARCHAR:
    case LM_T_VAR_STRING:
        c->op = text_op(charset, 0);
        c->size = meta > 255 ? 2 : 1;
        break;
    case LM_T_BLOB:
    case LM_T_TINY_BLOB:
    case LM_T_MEDIUM_BLOB:
    case LM_T_LONG_BLOB:
        if (meta >= 1 && meta <= 4) {
            c->op = text_op(charset, 1);
            c->size = (uint8_t)meta;
        }
        break;
    case LM_T_STRING:
    case LM_T_ENUM:
    case LM_T_SET:
        rt = lm_bl_real_type(type, meta, &len);
        if (rt == LM_T_ENUM && len >= 1 && len <= 2 &&
            (tm->enum_names == NULL || tm->enum_names[i] == NULL)) {
            c->op = OP_ENUM;
            c->size = (uint8_t)len;
        } else if (rt == LM_T_SET && len >= 1 && len <= 8 &&
                   (tm->set_names == NULL || tm->set_names[i] == NULL)) {
            c->op = OP_SET;
            c->size = (uint8_t)len;
        } else if (rt == LM_T_STRING && charset != 63) {
            /* BINARY(n) (charset 63) is padded back: generic. */
            c->op = text_op(charset, 0);
            c->size = len > 255 ? 2 : 1;
        }
        break;
    default:
        break;
    }
}

/* Works out d->jcols and d->jkeys for the current map. */
static int layout(lm_binlog_decoder *d)
{
    const lm_table_map *tm = d->rows.tm;
    lm_buf *k = &d->jkeys;
    unsigned i, n = tm->ncols ? tm->ncols : 1;
    size_t off;

    if (n > d->jcap) {
        lm_bl_jcol *c = realloc(d->jcols, n * sizeof(*c));
        if (c == NULL)
            return LM_ENOMEM;
        d->jcols = c;
        d->jcap = n;
    }
    lm_buf_reset(k);
    k->oom = 0;
    for (i = 0; i < tm->ncols; i++) {
        off = k->len;
        /* Named like mariadb-binlog (@1, @2, …) without column names. */
        if (tm->names) {
            lm_buf_json_str(k, tm->names[i], strlen(tm->names[i]));
        } else {
            char t[24], *e = lm_jw_u64(t, i + 1);
            lm_buf_puts(k, "\"@");
            lm_buf_append(k, t, (size_t)(e - t));
            lm_buf_putc(k, '"');
        }
        lm_buf_putc(k, ':');
        if (k->oom || k->len - off > UINT16_MAX || off > UINT32_MAX)
            return LM_ENOMEM;
        d->jcols[i].koff = (uint32_t)off;
        d->jcols[i].klen = (uint16_t)(k->len - off);
        col_op(tm, i, &d->jcols[i]);
    }
    /* Padding for the fixed-size key copies. */
    lm_buf_append(k, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", KEY_PAD);
    if (k->oom)
        return LM_ENOMEM;
    d->jtm = tm;
    return 0;
}

static inline bool bit(const uint8_t *bm, unsigned i)
{
    return (bm[i / 8] >> (i % 8)) & 1;
}

/* The value at p (avail bytes) by the fast op c, at *qp with FIXED_ROOM
 * of room (*qp follows the buffer when it grows); returns the end and sets *used, or NULL when the
 * op does not apply (the generic path takes over) or out of memory (out->oom). */
static inline char *fast_value(lm_buf *out, char **qp, const lm_bl_jcol *c, const uint8_t *p,
                               size_t avail, size_t *used)
{
    char *q = *qp;
    unsigned fsp = c->meta;
    uint64_t u, usec;
    int64_t sec;
    size_t n, pre;
    double dv;
    char *e;
    int len;

    switch (c->op) {
    case OP_INT:
    case OP_UINT:
        if (avail < c->size)
            return NULL;
        u = lm_bl_le_n(p, c->size);
        *used = c->size;
        if (c->op == OP_UINT)
            return lm_jw_u64(q, u);
        /* Sign-extend through the unsigned type to stay defined. */
        if (c->size < 8)
            u = (uint64_t)((int64_t)(u << (64 - 8 * c->size)) >> (64 - 8 * c->size));
        return lm_jw_i64(q, (int64_t)u);
    case OP_YEAR:
        if (avail < 1)
            return NULL;
        *used = 1;
        return lm_jw_u64(q, p[0] ? 1900u + p[0] : 0u);
    case OP_FLOAT:
    case OP_DOUBLE:
        if (avail < c->size)
            return NULL;
        if (c->op == OP_FLOAT) {
            uint32_t u32 = (uint32_t)lm_bl_le_n(p, 4);
            float f;
            memcpy(&f, &u32, 4);
            dv = f;
        } else {
            u = lm_bl_le_n(p, 8);
            memcpy(&dv, &u, 8);
        }
        *used = c->size;
        /* Digits, '-', '.', 'e', inf, nan: nothing to escape. */
        *q++ = '"';
        q += lm_bl_dtoa(dv, c->op == OP_FLOAT, q);
        *q++ = '"';
        return q;
    case OP_DECIMAL:
        if (avail < c->size ||
            (len = lm_bl_decimal_str(p, c->meta >> 8, c->meta & 0xFF, q + 1)) < 0)
            return NULL;
        *used = c->size;
        *q = '"';
        q += 1 + len;
        *q++ = '"';
        return q;
    case OP_DATE:
        if (avail < 3)
            return NULL;
        u = lm_bl_le_n(p, 3);
        *used = 3;
        *q++ = '"';
        q = lm_bl_put_uint(q, u >> 9, 4);
        *q++ = '-';
        q = lm_bl_put2(q, (unsigned)(u >> 5) & 15);
        *q++ = '-';
        q = lm_bl_put2(q, (unsigned)u & 31);
        *q++ = '"';
        return q;
    case OP_DATETIME2:
    case OP_TIMESTAMP2:
    case OP_TIME2:
        n = (c->op == OP_TIMESTAMP2 ? 4 : c->op == OP_DATETIME2 ? 5 : 3) + lm_bl_frac_bytes(fsp);
        if (avail < n)
            return NULL;
        *used = n;
        *q = '"';
        if (c->op == OP_DATETIME2) {
            q += 1 + lm_bl_datetime2_str(p, fsp, q + 1);
        } else if (c->op == OP_TIMESTAMP2) {
            lm_bl_timestamp2(p, fsp, &sec, &usec);
            q += 1 + lm_bl_timestamp_str(sec, usec, fsp, q + 1);
        } else {
            q += 1 + lm_bl_time2_str(p, fsp, q + 1);
        }
        *q++ = '"';
        return q;
    case OP_BIT:
        if (avail < c->size)
            return NULL;
        *used = c->size;
        return lm_jw_u64(q, lm_bl_be(p, c->size > 8 ? 8 : c->size));
    case OP_ENUM:
    case OP_SET:
        if (avail < c->size)
            return NULL;
        *used = c->size;
        return lm_jw_u64(q, lm_bl_le_n(p, c->size));
    case OP_HEX:
    case OP_UTF8:
    case OP_ASCII:
        pre = c->size;
        if (avail < pre || (n = (size_t)lm_bl_le_n(p, (unsigned)pre)) > avail - pre)
            return NULL;
        /* The buffer may move: the caller's pointer follows. */
        if ((q = lm_jw_room(out, q, 2 * n + 16)) == NULL)
            return NULL;
        *qp = q;
        if (c->op == OP_HEX) {
            q = LM_JW_LIT(q, "{\"hex\":\"");
            q = lm_jw_hex(q, p + pre, n);
            q = LM_JW_LIT(q, "\"}");
        } else {
            if ((e = lm_jw_plain(q + 1, p + pre, n, c->op == OP_UTF8)) == NULL)
                return NULL;
            *q = '"';
            *e = '"';
            q = e + 1;
        }
        *used = pre + n;
        return q;
    default:
        return NULL;
    }
}

/* Set bits in b. */
static inline unsigned popcount8(unsigned b)
{
    b = b - ((b >> 1) & 0x55);
    b = (b & 0x33) + ((b >> 2) & 0x33);
    return (b + (b >> 4)) & 0x0F;
}

/* One row image as a JSON object, like decode_image (rows.c) followed
 * by lm_row_json. The cursor and the layout are kept in locals: stores
 * through the char pointer q may alias anything, which made the
 * compiler reload them after every byte written. */
static int image_json(lm_binlog_decoder *d, const uint8_t *present, lm_buf *out, lm_err *err)
{
    lm_bl_rows *r = &d->rows;
    const lm_table_map *tm = r->tm;
    const lm_bl_jcol *cols = d->jcols;
    const char *keys = d->jkeys.data;
    const uint8_t *p = r->p, *end = r->end, *nulls;
    unsigned i, npresent = 0, k = 0, ncols = tm->ncols < r->ncols ? tm->ncols : r->ncols;
    bool first = true;
    size_t nb, used;
    lm_value v;
    char *q, *e;
    int rc;

    for (i = 0; i < r->ncols / 8; i++)
        npresent += popcount8(present[i]);
    for (i = r->ncols / 8 * 8; i < r->ncols; i++)
        npresent += bit(present, i);
    nb = (npresent + 7) / 8;
    if ((size_t)(end - p) < nb)
        return lm_err_set(err, LM_ECORRUPT, "row image of %s.%s is truncated", tm->db, tm->table);
    nulls = p;
    p += nb;
    if ((q = lm_jw_begin(out, 2)) == NULL)
        goto oom;
    *q++ = '{';
    for (i = 0; i < ncols; i++) {
        const lm_bl_jcol *c = &cols[i];

        if (!bit(present, i))
            continue;
        if ((q = lm_jw_room(out, q, c->klen + 1 + FIXED_ROOM)) == NULL)
            goto oom;
        if (!first)
            *q++ = ',';
        first = false;
        /* A fixed-size copy (keys has KEY_PAD bytes after the last) is
         * inlined; a variable one is a libc call per value. */
        if (c->klen <= KEY_PAD)
            memcpy(q, keys + c->koff, KEY_PAD);
        else
            memcpy(q, keys + c->koff, c->klen);
        q += c->klen;
        if (bit(nulls, k++)) {
            q = LM_JW_LIT(q, "null");
            continue;
        }
        if ((e = fast_value(out, &q, c, p, (size_t)(end - p), &used)) == NULL) {
            if (out->oom)
                goto oom;
            /* Anything else, and malformed values (for the error). */
            rc = lm_bl_value_decode(tm, i, p, (size_t)(end - p), &v, &used, &d->arena, err);
            if (rc < 0)
                return rc;
            if ((q = lm_jw_room(out, q, lm_bl_value_json_room(&v))) == NULL ||
                (e = lm_bl_value_json_at(out, q, &v)) == NULL)
                goto oom;
        }
        q = e;
        p += used;
    }
    r->p = p;
    if ((q = lm_jw_room(out, q, 1)) == NULL)
        goto oom;
    *q++ = '}';
    lm_jw_end(out, q);
    return 0;
oom:
    return lm_err_set(err, LM_ENOMEM, "out of memory");
}

/* The general path: decoded rows, then lm_row_json. */
static int next_json_slow(lm_binlog_decoder *d, lm_buf *out, const char *sep, size_t seplen,
                          lm_err *err)
{
    lm_row before, after;
    int rc = lm_binlog_rows_next(d, &before, &after, err);

    if (rc != 1)
        return rc;
    if (before.cols ? lm_row_json(out, &before, d->rows.tm) < 0 : lm_buf_puts(out, "null") < 0)
        goto oom;
    lm_buf_append(out, sep, seplen);
    if (after.cols ? lm_row_json(out, &after, d->rows.tm) < 0 : lm_buf_puts(out, "null") < 0)
        goto oom;
    return out->oom ? lm_err_set(err, LM_ENOMEM, "out of memory") : 1;
oom:
    return lm_err_set(err, LM_ENOMEM, "out of memory");
}

/* Appends s[0..n) (the separator, "null"). */
static inline int put(lm_buf *out, const char *s, size_t n)
{
    char *q = lm_jw_begin(out, n);

    if (q == NULL)
        return LM_ENOMEM;
    memcpy(q, s, n);
    lm_jw_end(out, q + n);
    return 0;
}

int lm_bl_rows_next_json(lm_binlog_decoder *d, lm_buf *out, const char *sep, size_t seplen,
                         lm_err *err)
{
    lm_bl_rows *r = &d->rows;
    const uint8_t *p0;
    int rc;

    /* Unknown tables (the error) and partial JSON (diffs against the
     * decoded before image) take the general path. */
    if (!r->active || r->p >= r->end || r->tm == NULL || r->type == LM_BL_PARTIAL_UPDATE_ROWS)
        return next_json_slow(d, out, sep, seplen, err);
    if (d->jtm != r->tm && layout(d) < 0)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    lm_bl_arena_reset(&d->arena);
    p0 = r->p;
    if (r->op != LM_ROW_INSERT) {
        if ((rc = image_json(d, r->present, out, err)) < 0)
            goto fail;
    } else if (put(out, "null", 4) < 0) {
        goto oom;
    }
    if (put(out, sep, seplen) < 0)
        goto oom;
    if (r->op != LM_ROW_DELETE) {
        if ((rc = image_json(d, r->present_after, out, err)) < 0)
            goto fail;
    } else if (put(out, "null", 4) < 0) {
        goto oom;
    }
    /* A row of no bytes (a map of zero columns) would repeat forever. */
    if (r->p == p0) {
        rc = lm_err_set(err, LM_ECORRUPT, "%s.%s: empty row image", r->tm->db, r->tm->table);
        goto fail;
    }
    return 1;
oom:
    rc = lm_err_set(err, LM_ENOMEM, "out of memory");
fail:
    /* Do not retry a broken image: the next call ends the event. */
    r->active = false;
    lm_err_prefix(err, "%s:%llu", r->at.file, (unsigned long long)r->at.pos);
    return rc;
}
