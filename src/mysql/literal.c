/* Row-image values as SQL literals. Everything that could carry user
 * bytes goes out as hex, so no escaping mistake can turn data into SQL;
 * the rest (numbers, dates) is checked to be what it claims. Pure. */
#include "livemig/buf.h"
#include "mysql/internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Only characters of the given set: the decoder's text must not smuggle SQL. */
static bool only(const char *s, size_t len, const char *allowed)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\0' || strchr(allowed, s[i]) == NULL)
            return false;
    return true;
}

static bool text_charset(const lm_column *col)
{
    const char *cs = col ? col->charset : NULL;

    if (cs == NULL || *cs == '\0' || strcasecmp(cs, "binary") == 0)
        return false;
    for (const char *p = cs; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

/* The width of a fixed-length binary column (BINARY(n), and MariaDB's
 * INET6, UUID and INET4, stored the same way), else 0. The row image
 * drops a BINARY value's trailing zero bytes (the pad character), as
 * replicas pad them back: 2001:db8::fb00 arrives as 15 bytes. */
static size_t fixed_binary_len(const lm_column *col)
{
    const char *t = col && col->column_type ? col->column_type : "";

    if (strncasecmp(t, "binary(", 7) == 0)
        return (size_t)strtoul(t + 7, NULL, 10);
    if (strcasecmp(t, "inet6") == 0 || strcasecmp(t, "uuid") == 0)
        return 16;
    if (strcasecmp(t, "inet4") == 0)
        return 4;
    return 0;
}

/* Bytes in a charset: _cs X'…' makes the server convert them to the
 * target column's charset, exactly as INSERT … SELECT would. */
static int put_text(lm_buf *b, const char *cs, const char *s, size_t len)
{
    if (cs) {
        lm_buf_putc(b, '_');
        lm_buf_puts(b, cs);
        lm_buf_putc(b, ' ');
    }
    if (len == 0)
        return lm_buf_puts(b, "''");
    lm_buf_puts(b, "X'");
    lm_buf_hex(b, (const uint8_t *)s, len);
    return lm_buf_putc(b, '\'');
}

/* Member `want` (1-based) of an enum('a','b''c',…)/set(…) column type,
 * undoing the '' and \ escapes information_schema uses. */
static bool member(const char *type, unsigned want, lm_buf *out)
{
    const char *p = strchr(type ? type : "", '(');
    unsigned idx = 0;

    if (p == NULL)
        return false;
    for (p++; *p == '\'';) {
        idx++;
        p++;
        for (;;) {
            if (*p == '\0')
                return false;
            if (*p == '\'' && p[1] == '\'') {
                if (idx == want)
                    lm_buf_putc(out, '\'');
                p += 2;
            } else if (*p == '\\' && p[1]) {
                if (idx == want)
                    lm_buf_putc(out, p[1]);
                p += 2;
            } else if (*p == '\'') {
                p++;
                break;
            } else {
                if (idx == want)
                    lm_buf_putc(out, *p);
                p++;
            }
        }
        if (idx == want)
            return true;
        if (*p == ',')
            p++;
    }
    return false;
}

/* ENUM/SET by member names, like INSERT … SELECT converts them: the
 * index alone would be wrong when the ALTER reorders members or turns
 * the column into text. Falls back to the number. */
static int put_enum_set(lm_buf *b, const lm_value *v, const lm_column *col)
{
    lm_buf names = LM_BUF_INIT;
    bool ok = true;
    int rc;

    if (v->kind == LM_VAL_ENUM) {
        if (v->u != 0)
            ok = member(col ? col->column_type : NULL, (unsigned)v->u, &names);
    } else {
        for (unsigned bit = 0; ok && bit < 64; bit++) {
            if (!(v->u & (UINT64_C(1) << bit)))
                continue;
            if (names.len)
                lm_buf_putc(&names, ',');
            ok = member(col ? col->column_type : NULL, bit + 1, &names);
        }
    }
    if (!ok || names.oom) {
        lm_buf_free(&names);
        return lm_buf_printf(b, "%llu", (unsigned long long)v->u);
    }
    /* information_schema text arrives in the connection charset. */
    rc = put_text(b, "utf8mb4", names.data ? names.data : "", names.len);
    lm_buf_free(&names);
    return rc;
}

int lm_my_literal(lm_buf *b, const lm_value *v, const lm_column *col, lm_err *err)
{
    const char *cname = col ? col->name : "?";

    switch (v->kind) {
    case LM_VAL_ABSENT:
        return lm_err_set(err, LM_EINVAL,
                          "column %s is missing from the row image (binlog_row_image must be FULL)",
                          cname);
    case LM_VAL_NULL:
        return lm_buf_puts(b, "NULL");
    case LM_VAL_INT:
    case LM_VAL_UINT:
        if (v->kind == LM_VAL_UINT || (col && col->is_unsigned))
            return lm_buf_printf(b, "%llu", (unsigned long long)v->u);
        return lm_buf_printf(b, "%lld", (long long)v->i);
    case LM_VAL_FLOAT:
    case LM_VAL_DOUBLE:
        if (!isfinite(v->d))
            return lm_err_set(err, LM_EFAIL, "column %s holds a non-finite number", cname);
        return lm_buf_printf(b, v->kind == LM_VAL_FLOAT ? "%.9g" : "%.17g", v->d);
    case LM_VAL_DECIMAL:
        if (v->len == 0 || !only(v->str, v->len, "0123456789+-.eE"))
            return lm_err_set(err, LM_ECORRUPT, "column %s: bad DECIMAL text", cname);
        lm_buf_putc(b, '\'');
        lm_buf_append(b, v->str, v->len);
        return lm_buf_putc(b, '\'');
    case LM_VAL_STRING:
    case LM_VAL_BLOB: {
        size_t width = v->kind == LM_VAL_STRING ? fixed_binary_len(col) : 0;
        if (width > v->len && width <= 255) {
            static const uint8_t zeros[255];
            lm_buf_puts(b, "X'");
            lm_buf_hex(b, (const uint8_t *)v->str, v->len);
            lm_buf_hex(b, zeros, width - v->len);
            return lm_buf_putc(b, '\'');
        }
        return put_text(b, text_charset(col) ? col->charset : NULL, v->str, v->len);
    }
    case LM_VAL_JSON:
        return put_text(b, "utf8mb4", v->str, v->len);
    case LM_VAL_DATE:
    case LM_VAL_TIME:
    case LM_VAL_DATETIME:
    case LM_VAL_TIMESTAMP: {
        size_t len = v->str ? (v->len ? v->len : strlen(v->str)) : 0;
        if (len == 0 || !only(v->str, len, "0123456789-:. "))
            return lm_err_set(err, LM_ECORRUPT, "column %s: bad date/time text", cname);
        lm_buf_putc(b, '\'');
        lm_buf_append(b, v->str, len);
        return lm_buf_putc(b, '\'');
    }
    case LM_VAL_YEAR:
        return lm_buf_printf(b, "%lld", (long long)v->i);
    case LM_VAL_BIT:
        return lm_buf_printf(b, "%llu", (unsigned long long)v->u);
    case LM_VAL_ENUM:
    case LM_VAL_SET:
        return put_enum_set(b, v, col);
    case LM_VAL_GEOMETRY:
        /* SRID + WKB is the server's own storage format: it accepts it as is. */
        return put_text(b, NULL, v->str, v->len);
    }
    return lm_err_set(err, LM_ECORRUPT, "column %s: unknown value kind %d", cname, (int)v->kind);
}

bool lm_my_value_eq(const lm_value *a, const lm_value *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case LM_VAL_ABSENT:
    case LM_VAL_NULL:
        return true;
    case LM_VAL_INT:
    case LM_VAL_UINT:
    case LM_VAL_YEAR:
    case LM_VAL_BIT:
    case LM_VAL_ENUM:
    case LM_VAL_SET:
        return a->i == b->i && a->u == b->u;
    case LM_VAL_FLOAT:
    case LM_VAL_DOUBLE:
        return a->d == b->d;
    case LM_VAL_DATE:
    case LM_VAL_TIME:
    case LM_VAL_DATETIME:
    case LM_VAL_TIMESTAMP: {
        /* Decoded date text is NUL-terminated; len may be left 0. */
        size_t la = a->len ? a->len : (a->str ? strlen(a->str) : 0);
        size_t lb = b->len ? b->len : (b->str ? strlen(b->str) : 0);
        return la == lb && (la == 0 || memcmp(a->str, b->str, la) == 0);
    }
    default:
        return a->len == b->len && (a->len == 0 || memcmp(a->str, b->str, a->len) == 0);
    }
}
