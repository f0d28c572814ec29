/* Decoded values as JSON (DESIGN.md, "livemig dump --format json"), with
 * text converted from its column charset to UTF-8. */
#include "binlog/internal.h"
#include "livemig/buf.h"

#include <stdio.h>
#include <string.h>

/* MySQL's latin1 is Windows-1252 with the five holes mapped to C1. */
static const uint16_t cp1252_80[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

typedef enum {
    CS_UNKNOWN,
    CS_BINARY,
    CS_LATIN1,
    CS_ASCII,
    CS_UCS2,
    CS_UTF16,
    CS_UTF16LE,
    CS_UTF32
} cs_kind;

static cs_kind charset_kind(unsigned id)
{
    /* MariaDB's NO PAD variants are the PAD collation's id + 1024. */
    unsigned base = (id >= 1024 && id < 2048) ? id - 1024 : id;

    switch (base) {
    case 63:
        return id == 63 ? CS_BINARY : CS_UNKNOWN;
    case 5:
    case 8:
    case 15:
    case 31:
    case 47:
    case 48:
    case 49:
    case 94:
        return CS_LATIN1;
    case 11:
    case 65:
        return CS_ASCII;
    case 35:
    case 90:
    case 159:
        return CS_UCS2;
    case 54:
    case 55:
        return CS_UTF16;
    case 56:
    case 62:
        return CS_UTF16LE;
    case 60:
    case 61:
        return CS_UTF32;
    default:
        break;
    }
    if (base >= 128 && base <= 151)
        return CS_UCS2;
    if (base >= 101 && base <= 124)
        return CS_UTF16;
    if (base >= 160 && base <= 183)
        return CS_UTF32;
    return CS_UNKNOWN;
}

static void put_utf8(lm_buf *b, uint32_t cp)
{
    char s[4];
    if (cp < 0x80) {
        s[0] = (char)cp;
        lm_buf_append(b, s, 1);
    } else if (cp < 0x800) {
        s[0] = (char)(0xC0 | cp >> 6);
        s[1] = (char)(0x80 | (cp & 0x3F));
        lm_buf_append(b, s, 2);
    } else if (cp < 0x10000) {
        s[0] = (char)(0xE0 | cp >> 12);
        s[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        s[2] = (char)(0x80 | (cp & 0x3F));
        lm_buf_append(b, s, 3);
    } else {
        s[0] = (char)(0xF0 | cp >> 18);
        s[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        s[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        s[3] = (char)(0x80 | (cp & 0x3F));
        lm_buf_append(b, s, 4);
    }
}

/* Strict UTF-8 check (no overlongs, surrogates or values past U+10FFFF). */
static int valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0, len, k;
    uint32_t cp;

    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if ((s[i] & 0xE0) == 0xC0) {
            len = 2;
            cp = s[i] & 0x1F;
        } else if ((s[i] & 0xF0) == 0xE0) {
            len = 3;
            cp = s[i] & 0x0F;
        } else if ((s[i] & 0xF8) == 0xF0) {
            len = 4;
            cp = s[i] & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

/* Convert wide encodings; 0 when the bytes are not valid in them. */
static int wide_to_utf8(lm_buf *u, const uint8_t *s, size_t n, cs_kind cs)
{
    size_t unit = cs == CS_UTF32 ? 4 : 2, i;
    uint32_t cp, lo;

    if (n % unit)
        return 0;
    for (i = 0; i < n; i += unit) {
        cp = (uint32_t)(cs == CS_UTF16LE ? lm_bl_le(s + i, 2) : lm_bl_be(s + i, (unsigned)unit));
        if ((cs == CS_UTF16 || cs == CS_UTF16LE) && cp >= 0xD800 && cp < 0xDC00) {
            if (i + 4 > n)
                return 0;
            lo = (uint32_t)(cs == CS_UTF16LE ? lm_bl_le(s + i + 2, 2) : lm_bl_be(s + i + 2, 2));
            if (lo < 0xDC00 || lo > 0xDFFF)
                return 0;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        } else if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            return 0;
        }
        put_utf8(u, cp);
    }
    return 1;
}

/* The appenders below reserve once and write in place: lm_buf_putc and
 * friends (a grow, a memcpy and a NUL per call) were the top of the JSON
 * dump profile once printf was gone. */
static int put1(lm_buf *out, char c)
{
    if (out->len + 2 > out->cap && lm_buf_grow(out, 1) < 0)
        return LM_ENOMEM;
    out->data[out->len++] = c;
    out->data[out->len] = '\0';
    return 0;
}

static int put_lit(lm_buf *out, const char *s, size_t n)
{
    if (out->len + n + 1 > out->cap && lm_buf_grow(out, n) < 0)
        return LM_ENOMEM;
    memcpy(out->data + out->len, s, n);
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

#define PUT_LIT(out, s) put_lit(out, s, sizeof(s) - 1)

/* A JSON string literal copied in one go when nothing in it needs
 * escaping or replacing (nearly always); otherwise lm_buf_json_str, whose
 * output this equals. utf8_ok: the bytes are known to be valid UTF-8,
 * which lm_buf_json_str passes through unchanged. */
static int json_str(lm_buf *out, const char *s, size_t n, int utf8_ok)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i;
    char *q;

    for (i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == '"' || p[i] == '\\' || (p[i] >= 0x80 && !utf8_ok))
            return lm_buf_json_str(out, s, n);
    }
    if (lm_buf_grow(out, n + 2) < 0)
        return LM_ENOMEM;
    q = out->data + out->len;
    q[0] = '"';
    memcpy(q + 1, s, n);
    q[n + 1] = '"';
    out->len += n + 2;
    out->data[out->len] = '\0';
    return 0;
}

static int hex_obj(lm_buf *out, const void *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *b = p;
    char *q;
    size_t i;

    if (lm_buf_grow(out, 2 * n + 11) < 0)
        return LM_ENOMEM;
    q = out->data + out->len;
    memcpy(q, "{\"hex\":\"", 8);
    q += 8;
    for (i = 0; i < n; i++) {
        *q++ = digits[b[i] >> 4];
        *q++ = digits[b[i] & 15];
    }
    memcpy(q, "\"}", 3); /* with the NUL */
    out->len = (size_t)(q + 2 - out->data);
    return 0;
}

/* Text in charset cs as a JSON string, or {"hex":…} when undecodable. */
static int text_json(lm_buf *out, const char *str, size_t n, unsigned charset)
{
    const uint8_t *s = (const uint8_t *)str;
    cs_kind cs = charset_kind(charset);
    lm_buf u = LM_BUF_INIT;
    size_t i;
    int rc, ok = 1;

    switch (cs) {
    case CS_BINARY:
        return hex_obj(out, s, n);
    case CS_LATIN1:
        for (i = 0; i < n; i++)
            put_utf8(&u, s[i] >= 0x80 && s[i] < 0xA0 ? cp1252_80[s[i] - 0x80] : s[i]);
        break;
    case CS_ASCII:
        for (i = 0; i < n && ok; i++)
            ok = s[i] < 0x80;
        if (ok)
            return json_str(out, str, n, 1);
        break;
    case CS_UCS2:
    case CS_UTF16:
    case CS_UTF16LE:
    case CS_UTF32:
        ok = wide_to_utf8(&u, s, n, cs);
        break;
    default:
        /* utf8mb3/utf8mb4 and anything unknown: text if it is UTF-8. */
        ok = valid_utf8(s, n);
        if (ok)
            return json_str(out, str, n, 1);
        break;
    }
    if (!ok)
        rc = hex_obj(out, s, n);
    else
        rc = json_str(out, u.data ? u.data : "", u.len, 1);
    if (u.oom)
        rc = LM_ENOMEM;
    lm_buf_free(&u);
    return rc;
}

/* Integers without printf: they are most of what a dump prints. */
static int put_u64(lm_buf *out, uint64_t u, bool neg)
{
    char t[24];
    size_t n = sizeof(t);

    do {
        t[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg)
        t[--n] = '-';
    return put_lit(out, t + n, sizeof(t) - n);
}

static int put_i64(lm_buf *out, int64_t i)
{
    return put_u64(out, i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i, i < 0);
}

int lm_value_json(lm_buf *out, const lm_value *v, const lm_table_map *tm, unsigned col)
{
    char text[64];

    (void)tm;
    (void)col;
    switch (v->kind) {
    case LM_VAL_ABSENT:
    case LM_VAL_NULL:
        return PUT_LIT(out, "null");
    case LM_VAL_INT:
    case LM_VAL_YEAR:
        return put_i64(out, v->i);
    case LM_VAL_UINT:
    case LM_VAL_BIT:
        return put_u64(out, v->u, false);
    case LM_VAL_FLOAT:
    case LM_VAL_DOUBLE:
        lm_bl_float_text(v->d, v->kind == LM_VAL_FLOAT, text, sizeof(text));
        return json_str(out, text, strlen(text), 0);
    case LM_VAL_DECIMAL:
    case LM_VAL_DATE:
    case LM_VAL_TIME:
    case LM_VAL_DATETIME:
    case LM_VAL_TIMESTAMP:
    case LM_VAL_JSON:
        return json_str(out, v->str ? v->str : "", v->len, 0);
    case LM_VAL_STRING:
        return text_json(out, v->str ? v->str : "", v->len, v->charset);
    case LM_VAL_BLOB:
    case LM_VAL_GEOMETRY:
        return hex_obj(out, v->str ? v->str : "", v->len);
    case LM_VAL_ENUM:
    case LM_VAL_SET:
        if (v->str)
            return json_str(out, v->str, v->len, 0);
        return put_u64(out, v->u, false);
    }
    return PUT_LIT(out, "null");
}

int lm_row_json(lm_buf *out, const lm_row *row, const lm_table_map *tm)
{
    unsigned i;
    int first = 1;

    put1(out, '{');
    for (i = 0; i < row->ncols; i++) {
        if (row->cols[i].kind == LM_VAL_ABSENT)
            continue;
        if (!first)
            put1(out, ',');
        first = 0;
        /* Named like mariadb-binlog (@1, @2, …) without column names. */
        if (tm && tm->names && i < tm->ncols)
            json_str(out, tm->names[i], strlen(tm->names[i]), 0);
        else {
            PUT_LIT(out, "\"@");
            put_u64(out, i + 1, false);
            put1(out, '"');
        }
        put1(out, ':');
        lm_value_json(out, &row->cols[i], tm, i);
    }
    put1(out, '}');
    return out->oom ? LM_ENOMEM : 0;
}
