/* Builders shared by the PARTIAL_UPDATE_ROWS tests: a small MySQL binary
 * JSON encoder, JSON diff vectors and events written byte by byte after
 * the server's format (rpl_record.cc pack_row, json_diff.cc
 * Json_diff_vector::write_binary), fed from exact-size heap copies so that
 * ASan sees any read past an event's end. */
#ifndef LIVEMIG_TEST_PARTIAL_JSON_BUILD_H
#define LIVEMIG_TEST_PARTIAL_JSON_BUILD_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "livemig/binlog.h"

#define LM_UNUSED __attribute__((unused))

enum { OP_REPLACE = 0, OP_INSERT = 1, OP_REMOVE = 2 };

typedef struct wb {
    uint8_t b[8192];
    size_t n;
} wb;

static LM_UNUSED void w8(wb *w, unsigned v)
{
    w->b[w->n++] = (uint8_t)v;
}

static LM_UNUSED void wle(wb *w, uint64_t v, int n)
{
    int i;
    for (i = 0; i < n; i++)
        w8(w, (unsigned)(v >> (8 * i)) & 0xFF);
}

static LM_UNUSED void wmem(wb *w, const void *p, size_t n)
{
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static LM_UNUSED void wlenenc(wb *w, uint64_t v)
{
    if (v < 251) {
        w8(w, (unsigned)v);
    } else {
        w8(w, 0xFC);
        wle(w, v, 2);
    }
}

/* --- a small MySQL binary JSON encoder (small containers, int16/int32,
 * short strings, literals), keys sorted as the server sorts them --- */

typedef struct jel {
    char key[32];
    size_t klen;
    uint8_t t;
    uint8_t v[600];
    size_t n;
} jel;

static const char *ws(const char *s)
{
    while (*s == ' ')
        s++;
    return s;
}

static LM_UNUSED bool key_less(const jel *a, const jel *b)
{
    if (a->klen != b->klen)
        return a->klen < b->klen;
    return memcmp(a->key, b->key, a->klen) < 0;
}

static const char *enc(const char *s, uint8_t *type, uint8_t *out, size_t *n)
{
    s = ws(s);
    if (*s == '{' || *s == '[') {
        bool obj = *s == '{';
        jel *el = calloc(12, sizeof(*el)), tmp;
        size_t cnt = 0, i, j, k, ke, ve;
        s = ws(s + 1);
        while (*s != (obj ? '}' : ']')) {
            if (obj) {
                const char *q = strchr(s + 1, '"');
                el[cnt].klen = (size_t)(q - s - 1);
                memcpy(el[cnt].key, s + 1, el[cnt].klen);
                s = ws(q + 1) + 1; /* ':' */
            }
            s = ws(enc(s, &el[cnt].t, el[cnt].v, &el[cnt].n));
            cnt++;
            if (*s == ',')
                s = ws(s + 1);
        }
        for (i = 1; obj && i < cnt; i++)
            for (j = i; j > 0 && key_less(&el[j], &el[j - 1]); j--) {
                tmp = el[j];
                el[j] = el[j - 1];
                el[j - 1] = tmp;
            }
        ke = obj ? 4 * cnt : 0;
        ve = 3 * cnt;
        k = 4 + ke + ve;
        out[0] = (uint8_t)cnt;
        out[1] = 0;
        for (i = 0; obj && i < cnt; i++) {
            out[4 + 4 * i] = (uint8_t)k;
            out[5 + 4 * i] = (uint8_t)(k >> 8);
            out[6 + 4 * i] = (uint8_t)el[i].klen;
            out[7 + 4 * i] = 0;
            memcpy(out + k, el[i].key, el[i].klen);
            k += el[i].klen;
        }
        for (i = 0; i < cnt; i++) {
            uint8_t *e = out + 4 + ke + 3 * i;
            e[0] = el[i].t;
            if (el[i].t == 4 || el[i].t == 5) { /* inlined */
                e[1] = el[i].v[0];
                e[2] = el[i].n > 1 ? el[i].v[1] : 0;
                continue;
            }
            e[1] = (uint8_t)k;
            e[2] = (uint8_t)(k >> 8);
            memcpy(out + k, el[i].v, el[i].n);
            k += el[i].n;
        }
        out[2] = (uint8_t)k;
        out[3] = (uint8_t)(k >> 8);
        *n = k;
        *type = obj ? 0 : 2;
        free(el);
        return s + 1;
    }
    if (*s == '"') {
        const char *q = strchr(s + 1, '"');
        *type = 12;
        out[0] = (uint8_t)(q - s - 1);
        memcpy(out + 1, s + 1, out[0]);
        *n = 1 + out[0];
        return q + 1;
    }
    if (strncmp(s, "null", 4) == 0 || strncmp(s, "true", 4) == 0 || strncmp(s, "false", 5) == 0) {
        *type = 4;
        out[0] = s[0] == 'n' ? 0 : s[0] == 't' ? 1 : 2;
        *n = 1;
        return s + (s[0] == 'f' ? 5 : 4);
    } else {
        char *end;
        long v = strtol(s, &end, 10);
        *type = v >= -32768 && v <= 32767 ? 5 : 7;
        *n = *type == 5 ? 2 : 4;
        for (size_t i = 0; i < *n; i++)
            out[i] = (uint8_t)((unsigned long)v >> (8 * i));
        return end;
    }
}

/* Type byte + value: a whole binary JSON document. */
static LM_UNUSED void wjdoc(wb *w, const char *text)
{
    size_t n = 0;
    enc(text, &w->b[w->n], w->b + w->n + 1, &n);
    w->n += 1 + n;
}

/* A JSON column value in full form: 4-byte length, document. */
static LM_UNUSED void wjfull(wb *w, const char *text)
{
    size_t at = w->n;
    w->n += 4;
    wjdoc(w, text);
    w->b[at] = (uint8_t)(w->n - at - 4);
    w->b[at + 1] = (uint8_t)((w->n - at - 4) >> 8);
    w->b[at + 2] = w->b[at + 3] = 0;
}

/* One diff appended to a diff vector under construction. */
static LM_UNUSED void wdiff(wb *w, int op, const char *path, const char *value)
{
    wb v = {{0}, 0};
    w8(w, (unsigned)op);
    wlenenc(w, strlen(path));
    wmem(w, path, strlen(path));
    if (value) {
        wjdoc(&v, value);
        wlenenc(w, v.n);
        wmem(w, v.b, v.n);
    }
}

/* --- events --- */

typedef struct ctx {
    lm_binlog_decoder *d;
    lm_binlog_event ev;
    lm_err err;
    uint8_t *heap[8];
    int nheap;
    uint32_t pos;
    bool crc; /* binlog_checksum=CRC32; off by default so that ASan sees
               * a read past a body (no checksum bytes after it) */
} ctx;

static LM_UNUSED void put_le(uint8_t *p, uint64_t v, int n)
{
    int i;
    for (i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Header + body [+ CRC32] in an exact-size allocation; log_pos set so the
 * event sits at c->pos. The FDE always ends with a checksum field. */
static LM_UNUSED uint8_t *mkev(ctx *c, uint8_t type, const uint8_t *body, size_t blen, size_t *len)
{
    size_t crc = c->crc || type == LM_BL_FORMAT_DESCRIPTION ? 4 : 0;
    uint8_t *e = malloc(19 + blen + crc);
    *len = 19 + blen + crc;
    put_le(e, 1700000000, 4);
    e[4] = type;
    put_le(e + 5, 1, 4);
    put_le(e + 9, *len, 4);
    put_le(e + 13, c->pos + *len, 4);
    put_le(e + 17, 0, 2);
    memcpy(e + 19, body, blen);
    if (crc)
        put_le(e + 19 + blen, c->crc ? crc32(0L, e, (uInt)(19 + blen)) : 0, 4);
    c->pos += (uint32_t)*len;
    return e;
}

static LM_UNUSED int feed(ctx *c, uint8_t type, const uint8_t *body, size_t blen)
{
    size_t len;
    uint8_t *e = mkev(c, type, body, blen, &len);
    int rc;

    lm_err_clear(&c->err);
    free(c->heap[c->nheap % 8]);
    c->heap[c->nheap++ % 8] = e;
    rc = lm_binlog_feed(c->d, e, len, &c->err);
    return rc < 0 ? rc : lm_binlog_next(c->d, &c->ev, &c->err);
}

static LM_UNUSED void fde(wb *w, bool crc)
{
    static const char ver[] = "8.0.36";
    int t;

    wle(w, 4, 2);
    for (t = 0; t < 50; t++)
        w8(w, t < (int)sizeof(ver) ? (unsigned char)ver[t] : 0);
    wle(w, 0, 4);
    w8(w, 19);
    for (t = 1; t <= 41; t++)
        w8(w, t == 2 ? 13 : t == 19 ? 8 : (t >= 30 && t <= 32) || t == 39 ? 10 : t == 33 ? 42 : 0);
    w8(w, crc ? 1 : 0); /* checksum algorithm: CRC32 or NONE */
}

/* db.t (id INT, j JSON, k JSON) with column names. */
static LM_UNUSED void table_map(wb *w)
{
    static const uint8_t names[] = {4, 7, 2, 'i', 'd', 1, 'j', 1, 'k'};
    wle(w, 42, 6);
    wle(w, 1, 2);
    w8(w, 2);
    wmem(w, "db", 3);
    w8(w, 1);
    wmem(w, "t", 2);
    w8(w, 3);
    w8(w, LM_T_LONG);
    w8(w, LM_T_JSON);
    w8(w, LM_T_JSON);
    w8(w, 2);
    w8(w, 4);
    w8(w, 4);
    w8(w, 0x07);
    wmem(w, names, sizeof(names));
}

static LM_UNUSED void start(ctx *c)
{
    wb w = {{0}, 0};
    lm_binlog_decoder_set_file(c->d, "binlog.000042", 4);
    c->pos = 4;
    fde(&w, c->crc);
    assert_int_equal(feed(c, LM_BL_FORMAT_DESCRIPTION, w.b, w.n), 1);
    w.n = 0;
    table_map(&w);
    assert_int_equal(feed(c, LM_BL_TABLE_MAP, w.b, w.n), 1);
    c->pos = 1000; /* the rows events start at binlog.000042:1000 */
}

/* A JSON column of an image: full text, diffs, or SQL NULL (both NULL). */
typedef struct jcol {
    const char *full;
    const wb *diffs;
    const wb *raw; /* partial, bytes as given (length included) */
} jcol;

static LM_UNUSED void image(wb *w, int id, jcol j, jcol k)
{
    w8(w, (j.full || j.diffs || j.raw ? 0 : 2) | (k.full || k.diffs || k.raw ? 0 : 4));
    wle(w, (uint64_t)id, 4);
    for (int i = 0; i < 2; i++) {
        jcol x = i ? k : j;
        if (x.full) {
            wjfull(w, x.full);
        } else if (x.diffs) {
            wle(w, x.diffs->n, 4);
            wmem(w, x.diffs->b, x.diffs->n);
        } else if (x.raw) {
            wmem(w, x.raw->b, x.raw->n);
        }
    }
}

/* One row: before (id, j, k) full, shared image, after. */
static LM_UNUSED void row(wb *w, int id, const char *bj, const char *bk, jcol aj, jcol ak)
{
    image(w, id, (jcol){bj, NULL, NULL}, (jcol){bk, NULL, NULL});
    w8(w, 1); /* value_options: PARTIAL_JSON */
    w8(w, (aj.diffs || aj.raw ? 1 : 0) | (ak.diffs || ak.raw ? 2 : 0)); /* partial bits */
    image(w, id, aj, ak);
}

static LM_UNUSED void rows_header(wb *w, unsigned before_bits)
{
    wle(w, 42, 6);
    wle(w, 1, 2);
    wle(w, 2, 2);
    w8(w, 3);
    w8(w, before_bits);
    w8(w, 0x07);
}

static LM_UNUSED int setup(void **state)
{
    ctx *c = calloc(1, sizeof(*c));
    assert_int_equal(lm_binlog_decoder_new(&c->d, &c->err), 0);
    *state = c;
    return 0;
}

static LM_UNUSED int teardown(void **state)
{
    ctx *c = *state;
    int i;
    lm_binlog_decoder_free(c->d);
    for (i = 0; i < 8; i++)
        free(c->heap[i]);
    free(c);
    return 0;
}

static LM_UNUSED void want_json(const lm_value *v, const char *text)
{
    assert_int_equal(v->kind, LM_VAL_JSON);
    if (v->len != strlen(text) || memcmp(v->str, text, v->len) != 0)
        fail_msg("got '%.*s', want '%s'", (int)v->len, v->str, text);
}

/* One event of one row changing j by the diffs; returns the after j. */
static LM_UNUSED void one(ctx *c, const char *before, const wb *diffs, const char *want)
{
    wb w = {{0}, 0};
    lm_row b, a;

    start(c);
    rows_header(&w, 0x07);
    row(&w, 1, before, "[]", (jcol){NULL, diffs, NULL}, (jcol){"[]", NULL, NULL});
    assert_int_equal(feed(c, LM_BL_PARTIAL_UPDATE_ROWS, w.b, w.n), 1);
    assert_int_equal(c->ev.row_op, LM_ROW_UPDATE);
    if (lm_binlog_rows_next(c->d, &b, &a, &c->err) != 1)
        fail_msg("%s", c->err.msg);
    want_json(&b.cols[1], before);
    want_json(&a.cols[1], want);
    assert_int_equal(a.cols[0].i, 1);
    assert_int_equal(lm_binlog_rows_next(c->d, &b, &a, &c->err), 0);
}

/* Same, expecting an error naming the event's position and `msg`. */
static LM_UNUSED void one_err(ctx *c, const char *before, const wb *diffs, int code,
                              const char *msg)
{
    wb w = {{0}, 0};
    lm_row b, a;

    start(c);
    rows_header(&w, 0x07);
    row(&w, 1, before, "[]", (jcol){NULL, diffs, NULL}, (jcol){"[]", NULL, NULL});
    assert_int_equal(feed(c, LM_BL_PARTIAL_UPDATE_ROWS, w.b, w.n), 1);
    assert_int_equal(lm_binlog_rows_next(c->d, &b, &a, &c->err), code);
    if (strstr(c->err.msg, "binlog.000042:1000: db.t column 2 (j)") == NULL ||
        strstr(c->err.msg, msg) == NULL)
        fail_msg("message '%s' lacks '%s'", c->err.msg, msg);
    assert_int_equal(lm_binlog_rows_next(c->d, &b, &a, &c->err), 0);
}

#define D(w) ((w).n = 0, &(w))

#endif
