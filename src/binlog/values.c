/* One column value of a row image, per column type. */
#include "binlog/internal.h"
#include "binlog/textfmt.h"

#include <stdio.h>
#include <string.h>

#define NEED(n)                                                                                    \
    do {                                                                                           \
        if (avail < (size_t)(n))                                                                   \
            goto short_data;                                                                       \
    } while (0)

static void set_int(lm_value *v, const uint8_t *p, unsigned n, int is_unsigned)
{
    uint64_t u = lm_bl_le_n(p, n);
    unsigned shift = 64 - 8 * n;

    v->u = u;
    /* Sign-extend through the unsigned type to stay defined. */
    v->i = shift ? (int64_t)(u << shift) >> shift : (int64_t)u;
    v->kind = is_unsigned ? LM_VAL_UINT : LM_VAL_INT;
}

static int text_value(lm_value *v, lm_value_kind kind, const char *s, lm_bl_arena *a)
{
    v->kind = kind;
    v->len = strlen(s);
    v->str = lm_bl_arena_dup(a, s, v->len);
    return v->str ? 0 : LM_ENOMEM;
}

/* Arena room for a value's text, formatted there in place (no stack
 * copy and strlen per temporal value). */
static char *text_room(lm_value *v, lm_value_kind kind, lm_bl_arena *a)
{
    v->kind = kind;
    v->str = lm_bl_arena_alloc(a, LM_BL_TEXT_ROOM);
    return (char *)v->str;
}

/* ENUM member name, or the comma list of SET member names. */
static int enumset_names(const lm_table_map *tm, unsigned col, lm_value *v, lm_bl_arena *a)
{
    char **names;
    unsigned cnt, i;
    size_t len = 0;
    char *s;

    if (v->kind == LM_VAL_ENUM) {
        if (tm->enum_names == NULL || (names = tm->enum_names[col]) == NULL)
            return 0;
        if (v->u == 0) {
            v->str = "";
            v->len = 0;
        } else if (v->u <= tm->enum_counts[col]) {
            v->str = names[v->u - 1];
            v->len = strlen(v->str);
        }
        return 0;
    }
    if (tm->set_names == NULL || (names = tm->set_names[col]) == NULL)
        return 0;
    cnt = tm->set_counts[col];
    for (i = 0; i < cnt && i < 64; i++)
        if (v->u >> i & 1)
            len += strlen(names[i]) + 1;
    s = lm_bl_arena_alloc(a, len + 1);
    if (s == NULL)
        return LM_ENOMEM;
    s[0] = '\0';
    for (i = 0, len = 0; i < cnt && i < 64; i++) {
        if (!(v->u >> i & 1))
            continue;
        if (len)
            s[len++] = ',';
        memcpy(s + len, names[i], strlen(names[i]));
        len += strlen(names[i]);
    }
    s[len] = '\0';
    v->str = s;
    v->len = len;
    return 0;
}

/* Kind of character data: text when a non-binary collation is known. */
static lm_value_kind str_kind(const lm_value *v, lm_value_kind unknown)
{
    if (v->charset == 63)
        return LM_VAL_BLOB;
    return v->charset ? LM_VAL_STRING : unknown;
}

int lm_bl_value_decode(const lm_table_map *tm, unsigned col, const uint8_t *p, size_t avail,
                       lm_value *v, size_t *used, lm_bl_arena *a, lm_err *err)
{
    uint8_t type = tm->types[col];
    uint16_t meta = tm->meta[col];
    int uns = tm->is_unsigned && tm->is_unsigned[col] == 1;
    char text[96], *q, *text0;
    size_t n = 0, pre;
    unsigned len, fsp;
    uint8_t rt;
    int rc = 0, sz;

    memset(v, 0, sizeof(*v));
    v->type = type;
    v->charset = tm->charsets ? tm->charsets[col] : 0;
    switch (type) {
    case LM_T_TINY:
    case LM_T_SHORT:
    case LM_T_INT24:
    case LM_T_LONG:
    case LM_T_LONGLONG:
        n = type == LM_T_TINY    ? 1
            : type == LM_T_SHORT ? 2
            : type == LM_T_INT24 ? 3
            : type == LM_T_LONG  ? 4
                                 : 8;
        NEED(n);
        set_int(v, p, (unsigned)n, uns);
        break;
    case LM_T_FLOAT: {
        float f;
        uint32_t u32;
        NEED(4);
        n = 4;
        u32 = (uint32_t)lm_bl_le_n(p, 4);
        memcpy(&f, &u32, 4);
        v->kind = LM_VAL_FLOAT;
        v->d = f;
        break;
    }
    case LM_T_DOUBLE: {
        uint64_t u64;
        NEED(8);
        u64 = lm_bl_le_n(p, 8);
        n = 8;
        memcpy(&v->d, &u64, 8);
        v->kind = LM_VAL_DOUBLE;
        break;
    }
    case LM_T_NEWDECIMAL:
        sz = lm_bl_decimal_size(meta >> 8, meta & 0xFF);
        if (sz < 0)
            goto bad_meta;
        NEED(sz);
        n = (size_t)sz;
        if ((q = text_room(v, LM_VAL_DECIMAL, a)) == NULL)
            return lm_err_set(err, LM_ENOMEM, "out of memory");
        v->len = (size_t)lm_bl_decimal_str(p, meta >> 8, meta & 0xFF, q);
        break;
    case LM_T_YEAR:
        NEED(1);
        n = 1;
        v->kind = LM_VAL_YEAR;
        v->i = p[0] ? 1900 + p[0] : 0;
        v->u = (uint64_t)v->i;
        break;
    case LM_T_DATE:
    case LM_T_NEWDATE: {
        uint32_t d;
        NEED(3);
        n = 3;
        d = (uint32_t)lm_bl_le(p, 3);
        if ((text0 = q = text_room(v, LM_VAL_DATE, a)) == NULL)
            return lm_err_set(err, LM_ENOMEM, "out of memory");
        q = lm_bl_put_uint(q, d >> 9, 4);
        *q++ = '-';
        q = lm_bl_put2(q, (d >> 5) & 15);
        *q++ = '-';
        q = lm_bl_put2(q, d & 31);
        *q = '\0';
        v->len = (size_t)(q - text0);
        break;
    }
    case LM_T_TIME: {
        /* Old TIME: signed 3-byte integer hhmmss. */
        int32_t t;
        uint32_t at;
        NEED(3);
        n = 3;
        t = (int32_t)(lm_bl_le(p, 3) << 8) >> 8;
        at = t < 0 ? (uint32_t)-t : (uint32_t)t;
        q = text;
        if (t < 0)
            *q++ = '-';
        q = lm_bl_put_uint(q, at / 10000, 2);
        *q++ = ':';
        q = lm_bl_put_uint(q, at / 100 % 100, 2);
        *q++ = ':';
        *lm_bl_put_uint(q, at % 100, 2) = '\0';
        rc = text_value(v, LM_VAL_TIME, text, a);
        break;
    }
    case LM_T_DATETIME: {
        uint64_t dt;
        NEED(8);
        n = 8;
        dt = lm_bl_le(p, 8);
        /* (unsigned) keeps the old "%04u" truncation of absurd years. */
        q = lm_bl_put_uint(text, (unsigned)(dt / 10000000000ULL), 4);
        *q++ = '-';
        q = lm_bl_put_uint(q, dt / 100000000 % 100, 2);
        *q++ = '-';
        q = lm_bl_put_uint(q, dt / 1000000 % 100, 2);
        *q++ = ' ';
        q = lm_bl_put_uint(q, dt / 10000 % 100, 2);
        *q++ = ':';
        q = lm_bl_put_uint(q, dt / 100 % 100, 2);
        *q++ = ':';
        *lm_bl_put_uint(q, dt % 100, 2) = '\0';
        rc = text_value(v, LM_VAL_DATETIME, text, a);
        break;
    }
    case LM_T_TIMESTAMP:
        NEED(4);
        n = 4;
        v->i = (int64_t)lm_bl_le(p, 4);
        lm_bl_timestamp_text(v->i, 0, 0, text, sizeof(text));
        rc = text_value(v, LM_VAL_TIMESTAMP, text, a);
        break;
    case LM_T_TIMESTAMP2:
    case LM_T_DATETIME2:
    case LM_T_TIME2:
        fsp = meta;
        if (fsp > 6)
            goto bad_meta;
        n = (type == LM_T_TIMESTAMP2 ? 4 : type == LM_T_DATETIME2 ? 5 : 3) + lm_bl_frac_bytes(fsp);
        NEED(n);
        q = text_room(v,
                      type == LM_T_TIME2       ? LM_VAL_TIME
                      : type == LM_T_DATETIME2 ? LM_VAL_DATETIME
                                               : LM_VAL_TIMESTAMP,
                      a);
        if (q == NULL)
            return lm_err_set(err, LM_ENOMEM, "out of memory");
        if (type == LM_T_TIME2) {
            v->len = lm_bl_time2_str(p, fsp, q);
        } else if (type == LM_T_DATETIME2) {
            v->len = lm_bl_datetime2_str(p, fsp, q);
        } else {
            lm_bl_timestamp2(p, fsp, &v->i, &v->u);
            v->len = lm_bl_timestamp_str(v->i, v->u, fsp, q);
        }
        break;
    case LM_T_BIT: {
        unsigned nbits = (meta >> 8) * 8 + (meta & 0xFF);
        n = (nbits + 7) / 8;
        NEED(n);
        v->kind = LM_VAL_BIT;
        v->u = lm_bl_be(p, (unsigned)(n > 8 ? 8 : n));
        v->str = (const char *)p;
        v->len = n;
        break;
    }
    case LM_T_VARCHAR:
    case LM_T_VAR_STRING:
        pre = meta > 255 ? 2 : 1;
        NEED(pre);
        n = (size_t)lm_bl_le_n(p, (unsigned)pre);
        NEED(pre + n);
        v->kind = str_kind(v, LM_VAL_STRING);
        v->str = (const char *)p + pre;
        v->len = n;
        n += pre;
        break;
    case LM_T_STRING:
    case LM_T_ENUM:
    case LM_T_SET:
        rt = lm_bl_real_type(type, meta, &len);
        v->type = rt;
        if (rt == LM_T_ENUM || rt == LM_T_SET) {
            if (len < 1 || len > 8 || (rt == LM_T_ENUM && len > 2))
                goto bad_meta;
            n = len;
            NEED(n);
            v->kind = rt == LM_T_ENUM ? LM_VAL_ENUM : LM_VAL_SET;
            v->u = lm_bl_le_n(p, len);
            v->i = (int64_t)v->u;
            rc = enumset_names(tm, col, v, a);
            break;
        }
        pre = len > 255 ? 2 : 1;
        NEED(pre);
        n = (size_t)lm_bl_le_n(p, (unsigned)pre);
        NEED(pre + n);
        v->kind = str_kind(v, LM_VAL_STRING);
        v->str = (const char *)p + pre;
        v->len = n;
        if (v->charset == 63 && n < len) {
            /* BINARY(n) is logged without its trailing zero padding; the
             * server stores (and SELECT returns) the padded value. */
            char *s = lm_bl_arena_alloc(a, len + 1);
            if (s == NULL)
                return lm_err_set(err, LM_ENOMEM, "out of memory");
            memcpy(s, p + pre, n);
            memset(s + n, 0, len - n + 1);
            v->str = s;
            v->len = len;
        }
        n += pre;
        break;
    case LM_T_BLOB:
    case LM_T_TINY_BLOB:
    case LM_T_MEDIUM_BLOB:
    case LM_T_LONG_BLOB:
    case LM_T_GEOMETRY:
    case LM_T_JSON:
        pre = meta;
        if (pre < 1 || pre > 4)
            goto bad_meta;
        NEED(pre);
        n = (size_t)lm_bl_le_n(p, (unsigned)pre);
        NEED(pre + n);
        v->str = (const char *)p + pre;
        v->len = n;
        if (type == LM_T_GEOMETRY) {
            v->kind = LM_VAL_GEOMETRY;
        } else if (type == LM_T_JSON) {
            /* MySQL binary JSON; MariaDB logs JSON as LONGTEXT (a BLOB). */
            lm_buf jb = LM_BUF_INIT;
            rc = lm_bl_mysql_json(&jb, p + pre, n, err);
            if (rc == 0) {
                v->kind = LM_VAL_JSON;
                v->str = lm_bl_arena_dup(a, jb.data ? jb.data : "", jb.len);
                v->len = jb.len;
                if (v->str == NULL)
                    rc = LM_ENOMEM;
            }
            lm_buf_free(&jb);
        } else {
            v->kind = str_kind(v, LM_VAL_BLOB);
        }
        n += pre;
        break;
    default:
        return lm_err_set(err, LM_EINVAL, "column %u of %s.%s: unsupported column type %u", col + 1,
                          tm->db, tm->table, type);
    }
    if (rc == LM_ENOMEM)
        return lm_err_set(err, rc, "out of memory");
    if (rc < 0)
        return rc;
    *used = n;
    return 0;

short_data:
    return lm_err_set(err, LM_ECORRUPT, "column %u of %s.%s: row data ends inside a value", col + 1,
                      tm->db, tm->table);
bad_meta:
    return lm_err_set(err, LM_ECORRUPT, "column %u of %s.%s: bad metadata %u for type %u", col + 1,
                      tm->db, tm->table, meta, type);
}
