/* MySQL's binary JSON (type 245 columns) to the text the server prints,
 * e.g. {"a": 1, "b": [true, null]}. Layout: sql-common/json_binary.h. */
#include "binlog/internal.h"

#include <stdio.h>
#include <string.h>

enum {
    J_SMALL_OBJ = 0,
    J_LARGE_OBJ = 1,
    J_SMALL_ARR = 2,
    J_LARGE_ARR = 3,
    J_LITERAL = 4,
    J_INT16 = 5,
    J_UINT16 = 6,
    J_INT32 = 7,
    J_UINT32 = 8,
    J_INT64 = 9,
    J_UINT64 = 10,
    J_DOUBLE = 11,
    J_STRING = 12,
    J_OPAQUE = 15,
};

static int value(lm_buf *out, uint8_t type, const uint8_t *p, size_t len, int depth);

/* Variable-length size: 7 bits per byte, low groups first. */
static int varlen(const uint8_t *p, size_t len, size_t *val, size_t *used)
{
    size_t v = 0, i;
    for (i = 0; i < len && i < 5; i++) {
        v |= (size_t)(p[i] & 0x7F) << (7 * i);
        if (!(p[i] & 0x80)) {
            *val = v;
            *used = i + 1;
            return 0;
        }
    }
    return -1;
}

static void base64(lm_buf *out, const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        lm_buf_putc(out, tab[v >> 18]);
        lm_buf_putc(out, tab[v >> 12 & 63]);
        lm_buf_putc(out, tab[v >> 6 & 63]);
        lm_buf_putc(out, tab[v & 63]);
    }
    if (n - i == 1) {
        lm_buf_putc(out, tab[p[i] >> 2]);
        lm_buf_putc(out, tab[(p[i] & 3) << 4]);
        lm_buf_puts(out, "==");
    } else if (n - i == 2) {
        lm_buf_putc(out, tab[p[i] >> 2]);
        lm_buf_putc(out, tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
        lm_buf_putc(out, tab[(p[i + 1] & 15) << 2]);
        lm_buf_putc(out, '=');
    }
}

static int opaque(lm_buf *out, const uint8_t *p, size_t len)
{
    size_t n, used;
    uint8_t ftype;
    char text[96];

    if (len < 1 || varlen(p + 1, len - 1, &n, &used) < 0 || n > len - 1 - used)
        return -1;
    ftype = p[0];
    p += 1 + used;
    if (ftype == LM_T_NEWDECIMAL && n >= 2) {
        int sz = lm_bl_decimal_size(p[0], p[1]);
        if (sz < 0 || (size_t)sz > n - 2 || lm_bl_decimal_text(p + 2, p[0], p[1], text) < 0)
            return -1;
        return lm_buf_puts(out, text);
    }
    if ((ftype == LM_T_DATE || ftype == LM_T_TIME || ftype == LM_T_DATETIME ||
         ftype == LM_T_TIMESTAMP) &&
        n >= 8) {
        int64_t packed = (int64_t)lm_bl_le(p, 8);
        if (ftype == LM_T_TIME)
            lm_bl_packed_time_text(packed, text, sizeof(text));
        else
            lm_bl_packed_datetime_text(packed, ftype == LM_T_DATE, text, sizeof(text));
        return lm_buf_printf(out, "\"%s\"", text);
    }
    lm_buf_printf(out, "\"base64:type%u:", ftype);
    base64(out, p, n);
    return lm_buf_putc(out, '"');
}

/* Objects and arrays share a layout: count, size, [key entries], value
 * entries, then the keys and values they point at (offsets from p). */
int lm_bl_mysql_json_open(lm_bl_jcont *c, uint8_t type, const uint8_t *p, size_t len)
{
    size_t w;

    if (type > J_LARGE_ARR)
        return 1;
    c->large = type == J_LARGE_OBJ || type == J_LARGE_ARR;
    c->obj = type == J_SMALL_OBJ || type == J_LARGE_OBJ;
    w = c->large ? 4 : 2;
    if (len < 2 * w)
        return -1;
    c->p = p;
    c->count = (size_t)lm_bl_le(p, (unsigned)w);
    c->size = (size_t)lm_bl_le(p + w, (unsigned)w);
    if (c->size > len)
        return -1;
    /* Entry tables must fit in size: bounds every later entry read. */
    if (c->count > c->size || 2 * w + c->count * ((c->obj ? w + 2 : 0) + 1 + w) > c->size)
        return -1;
    return 0;
}

int lm_bl_mysql_json_entry(const lm_bl_jcont *c, size_t i, lm_bl_jentry *e)
{
    size_t w = c->large ? 4 : 2, keys = 2 * w;
    const uint8_t *ve = c->p + keys + c->count * (c->obj ? w + 2 : 0) + i * (1 + w);
    size_t off = (size_t)lm_bl_le(ve + 1, (unsigned)w);
    uint8_t t = ve[0];

    e->key = NULL;
    e->klen = 0;
    if (c->obj) {
        const uint8_t *ke = c->p + keys + i * (w + 2);
        size_t koff = (size_t)lm_bl_le(ke, (unsigned)w), klen = (size_t)lm_bl_le(ke + w, 2);
        if (koff > c->size || klen > c->size - koff)
            return -1;
        e->key = (const char *)c->p + koff;
        e->klen = klen;
    }
    e->type = t;
    /* Small scalars live in the entry itself instead of an offset. */
    if (t == J_LITERAL || t == J_INT16 || t == J_UINT16 ||
        (c->large && (t == J_INT32 || t == J_UINT32))) {
        e->p = ve + 1;
        e->len = w;
        return 0;
    }
    if (off >= c->size)
        return -1;
    e->p = c->p + off;
    e->len = c->size - off;
    return 0;
}

static int container(lm_buf *out, uint8_t type, const uint8_t *p, size_t len, int depth)
{
    lm_bl_jcont c;
    lm_bl_jentry e;
    size_t i;

    if (lm_bl_mysql_json_open(&c, type, p, len) != 0)
        return -1;
    lm_buf_putc(out, c.obj ? '{' : '[');
    for (i = 0; i < c.count; i++) {
        if (lm_bl_mysql_json_entry(&c, i, &e) < 0)
            return -1;
        if (i)
            lm_buf_puts(out, ", ");
        if (c.obj) {
            lm_buf_json_str(out, e.key, e.klen);
            lm_buf_puts(out, ": ");
        }
        if (value(out, e.type, e.p, e.len, depth + 1) < 0)
            return -1;
    }
    return lm_buf_putc(out, c.obj ? '}' : ']');
}

static int value(lm_buf *out, uint8_t type, const uint8_t *p, size_t len, int depth)
{
    char text[64];
    size_t n, used;

    if (depth > LM_BL_JSON_MAX_DEPTH)
        return -1;
    switch (type) {
    case J_SMALL_OBJ:
    case J_LARGE_OBJ:
    case J_SMALL_ARR:
    case J_LARGE_ARR:
        return container(out, type, p, len, depth);
    case J_LITERAL:
        if (len < 1 || p[0] > 2)
            return -1;
        return lm_buf_puts(out, p[0] == 0 ? "null" : p[0] == 1 ? "true" : "false");
    case J_INT16:
        if (len < 2)
            return -1;
        return lm_buf_printf(out, "%d", (int)(int16_t)lm_bl_le(p, 2));
    case J_UINT16:
        if (len < 2)
            return -1;
        return lm_buf_printf(out, "%u", (unsigned)lm_bl_le(p, 2));
    case J_INT32:
        if (len < 4)
            return -1;
        return lm_buf_printf(out, "%ld", (long)(int32_t)lm_bl_le(p, 4));
    case J_UINT32:
        if (len < 4)
            return -1;
        return lm_buf_printf(out, "%lu", (unsigned long)lm_bl_le(p, 4));
    case J_INT64:
        if (len < 8)
            return -1;
        return lm_buf_printf(out, "%lld", (long long)(int64_t)lm_bl_le(p, 8));
    case J_UINT64:
        if (len < 8)
            return -1;
        return lm_buf_printf(out, "%llu", (unsigned long long)lm_bl_le(p, 8));
    case J_DOUBLE: {
        uint64_t u = 0;
        double d;
        if (len < 8)
            return -1;
        u = lm_bl_le(p, 8);
        memcpy(&d, &u, 8);
        lm_bl_float_text(d, 0, text, sizeof(text));
        /* The server keeps a double recognisable: 1.0, not 1. */
        if (strpbrk(text, ".eni") == NULL)
            strcat(text, ".0");
        return lm_buf_puts(out, text);
    }
    case J_STRING:
        if (varlen(p, len, &n, &used) < 0 || n > len - used)
            return -1;
        return lm_buf_json_str(out, (const char *)p + used, n);
    case J_OPAQUE:
        return opaque(out, p, len);
    default:
        return -1;
    }
}

int lm_bl_mysql_json_value(lm_buf *out, uint8_t type, const uint8_t *p, size_t len, int depth)
{
    return value(out, type, p, len, depth);
}

int lm_bl_mysql_json(lm_buf *out, const uint8_t *p, size_t len, lm_err *err)
{
    /* An empty value is what the server logs for a JSON null in some
     * paths (e.g. a NOT NULL column given no value). */
    if (len == 0)
        return lm_buf_puts(out, "null");
    if (value(out, p[0], p + 1, len - 1, 0) < 0)
        return lm_err_set(err, LM_ECORRUPT, "malformed MySQL binary JSON value");
    if (out->oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    return 0;
}
