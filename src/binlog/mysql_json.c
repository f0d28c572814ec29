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

#define J_MAX_DEPTH 100

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
static int container(lm_buf *out, const uint8_t *p, size_t len, int large, int is_obj, int depth)
{
    size_t w = large ? 4 : 2, count, size, i, keys, ventry = 1 + w;

    if (len < 2 * w)
        return -1;
    count = (size_t)lm_bl_le(p, (unsigned)w);
    size = (size_t)lm_bl_le(p + w, (unsigned)w);
    if (size > len)
        return -1;
    keys = 2 * w;
    if (keys + count * ((is_obj ? w + 2 : 0) + ventry) > size)
        return -1;
    lm_buf_putc(out, is_obj ? '{' : '[');
    for (i = 0; i < count; i++) {
        const uint8_t *ve = p + keys + count * (is_obj ? w + 2 : 0) + i * ventry;
        uint8_t t = ve[0];
        size_t off = (size_t)lm_bl_le(ve + 1, (unsigned)w);
        int inl;

        if (i)
            lm_buf_puts(out, ", ");
        if (is_obj) {
            const uint8_t *ke = p + keys + i * (w + 2);
            size_t koff = (size_t)lm_bl_le(ke, (unsigned)w), klen = (size_t)lm_bl_le(ke + w, 2);
            if (koff > size || klen > size - koff)
                return -1;
            lm_buf_json_str(out, (const char *)p + koff, klen);
            lm_buf_puts(out, ": ");
        }
        /* Small scalars live in the entry itself instead of an offset. */
        inl = t == J_LITERAL || t == J_INT16 || t == J_UINT16 ||
              (large && (t == J_INT32 || t == J_UINT32));
        if (inl) {
            if (value(out, t, ve + 1, w, depth + 1) < 0)
                return -1;
        } else {
            if (off >= size)
                return -1;
            if (value(out, t, p + off, size - off, depth + 1) < 0)
                return -1;
        }
    }
    return lm_buf_putc(out, is_obj ? '}' : ']');
}

static int value(lm_buf *out, uint8_t type, const uint8_t *p, size_t len, int depth)
{
    char text[64];
    size_t n, used;

    if (depth > J_MAX_DEPTH)
        return -1;
    switch (type) {
    case J_SMALL_OBJ:
    case J_LARGE_OBJ:
    case J_SMALL_ARR:
    case J_LARGE_ARR:
        return container(out, p, len, type == J_LARGE_OBJ || type == J_LARGE_ARR,
                         type == J_SMALL_OBJ || type == J_LARGE_OBJ, depth);
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
