/* Decoded values as JSON (DESIGN.md, "livemig dump --format json"), with
 * text converted from its column charset to UTF-8. */
#include "binlog/internal.h"
#include "binlog/dtoa.h"
#include "binlog/jsonw.h"
#include "binlog/rowjson.h"
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

/* Room a value takes on the fast paths below (hex doubles the bytes; a
 * number or float text is short); the general paths (escaping, charset
 * conversion) grow the buffer themselves. */
static inline size_t value_room(const lm_value *v)
{
    return (v->str ? 2 * v->len : 0) + LM_BL_DTOA_MAX + 16;
}

/* s as a JSON string at q: copied as is when nothing needs escaping
 * (nearly always), else by lm_buf_json_str. Returns the end (no room
 * promised after a general path), NULL when out of memory. */
static char *str_at(lm_buf *out, char *q, const char *s, size_t n)
{
    char *e = lm_jw_plain(q + 1, (const uint8_t *)s, n, 0);

    if (e) {
        *q = '"';
        *e = '"';
        return e + 1;
    }
    lm_jw_end(out, q);
    lm_buf_json_str(out, s, n);
    return out->oom ? NULL : out->data + out->len;
}

static char *hex_at(char *q, const void *p, size_t n)
{
    q = LM_JW_LIT(q, "{\"hex\":\"");
    q = lm_jw_hex(q, p, n);
    return LM_JW_LIT(q, "\"}");
}

/* v's JSON at q, which has value_room(v) bytes of room; as str_at. */
static inline char *value_at(lm_buf *out, char *q, const lm_value *v)
{
    const char *s = v->str ? v->str : "";
    cs_kind cs;
    char *e;

    switch (v->kind) {
    case LM_VAL_ABSENT:
    case LM_VAL_NULL:
        break;
    case LM_VAL_INT:
    case LM_VAL_YEAR:
        return lm_jw_i64(q, v->i);
    case LM_VAL_UINT:
    case LM_VAL_BIT:
        return lm_jw_u64(q, v->u);
    case LM_VAL_FLOAT:
    case LM_VAL_DOUBLE:
        /* Digits, '-', '.', 'e', inf, nan: nothing to escape. */
        *q++ = '"';
        q += lm_bl_dtoa(v->d, v->kind == LM_VAL_FLOAT, q);
        *q++ = '"';
        return q;
    case LM_VAL_DECIMAL:
    case LM_VAL_DATE:
    case LM_VAL_TIME:
    case LM_VAL_DATETIME:
    case LM_VAL_TIMESTAMP:
    case LM_VAL_JSON:
        return str_at(out, q, s, v->len);
    case LM_VAL_STRING:
        cs = charset_kind(v->charset);
        if (cs == CS_BINARY)
            return hex_at(q, s, v->len);
        /* UTF-8 (or unknown, taken as UTF-8 when valid) and ASCII text
         * with nothing to escape is copied; text_json does the rest. */
        if (cs == CS_UNKNOWN || cs == CS_ASCII) {
            e = lm_jw_plain(q + 1, (const uint8_t *)s, v->len, cs == CS_UNKNOWN);
            if (e) {
                *q = '"';
                *e = '"';
                return e + 1;
            }
        }
        lm_jw_end(out, q);
        text_json(out, s, v->len, v->charset);
        return out->oom ? NULL : out->data + out->len;
    case LM_VAL_BLOB:
    case LM_VAL_GEOMETRY:
        return hex_at(q, s, v->len);
    case LM_VAL_ENUM:
    case LM_VAL_SET:
        if (v->str)
            return str_at(out, q, v->str, v->len);
        return lm_jw_u64(q, v->u);
    }
    return LM_JW_LIT(q, "null");
}

char *lm_bl_value_json_at(lm_buf *out, char *q, const lm_value *v)
{
    return value_at(out, q, v);
}

size_t lm_bl_value_json_room(const lm_value *v)
{
    return value_room(v);
}

lm_bl_csj lm_bl_charset_json(unsigned charset)
{
    switch (charset_kind(charset)) {
    case CS_BINARY:
        return LM_BL_CSJ_HEX;
    case CS_UNKNOWN:
        return LM_BL_CSJ_UTF8;
    case CS_ASCII:
        return LM_BL_CSJ_ASCII;
    default:
        return LM_BL_CSJ_OTHER;
    }
}

int lm_value_json(lm_buf *out, const lm_value *v, const lm_table_map *tm, unsigned col)
{
    char *q = lm_jw_begin(out, value_room(v));

    (void)tm;
    (void)col;
    if (q == NULL || (q = value_at(out, q, v)) == NULL)
        return LM_ENOMEM;
    lm_jw_end(out, q);
    return 0;
}

int lm_row_json(lm_buf *out, const lm_row *row, const lm_table_map *tm)
{
    const lm_value *v;
    unsigned i;
    int first = 1;
    char *q = lm_jw_begin(out, 2);

    if (q == NULL)
        return LM_ENOMEM;
    *q++ = '{';
    for (i = 0; i < row->ncols; i++) {
        v = &row->cols[i];
        if (v->kind == LM_VAL_ABSENT)
            continue;
        if ((q = lm_jw_room(out, q, value_room(v) + 32)) == NULL)
            return LM_ENOMEM;
        if (!first)
            *q++ = ',';
        first = 0;
        /* Named like mariadb-binlog (@1, @2, …) without column names. */
        if (tm && tm->names && i < tm->ncols) {
            const char *name = tm->names[i];
            size_t n = strlen(name);
            if ((q = lm_jw_room(out, q, n + 2)) == NULL || (q = str_at(out, q, name, n)) == NULL ||
                (q = lm_jw_room(out, q, value_room(v) + 2)) == NULL)
                return LM_ENOMEM;
        } else {
            q = LM_JW_LIT(q, "\"@");
            q = i < 9 ? (*q = (char)('1' + i), q + 1) : lm_jw_u64(q, i + 1);
            *q++ = '"';
        }
        *q++ = ':';
        if ((q = value_at(out, q, v)) == NULL)
            return LM_ENOMEM;
    }
    if ((q = lm_jw_room(out, q, 1)) == NULL)
        return LM_ENOMEM;
    *q++ = '}';
    lm_jw_end(out, q);
    return 0;
}
