/* Canonical row expressions for the verifier (see verify_expr.h).
 *
 * The copy writes `INSERT INTO shadow (d…) SELECT s… FROM t`, so a shadow
 * value is the source value assigned to the shadow column's type. To
 * compare, the source side applies the same conversion explicitly, with
 * the CAST/CONVERT that matches the assignment: CONVERT(… USING cs) for
 * text (and trailing spaces trimmed for CHAR, which reads back without
 * them), CAST(… AS BINARY(n)) for bytes, CAST(… AS DECIMAL(M,D)),
 * DATETIME(n), TIME(n), DATE, SIGNED/UNSIGNED, FLOAT/DOUBLE. Types without
 * a CAST (ENUM, YEAR, JSON, GEOMETRY, BIT) compare by their text or
 * number. A SET whose definition changed compares by its members listed in
 * the target's order, so a reordered SET is equal when its members are. */
#include "mysql/verify_expr.h"

#include "livemig/mysql.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is(const lm_column *c, const char *t)
{
    return strcasecmp(c->data_type, t) == 0;
}

static bool is_int(const lm_column *c)
{
    return is(c, "tinyint") || is(c, "smallint") || is(c, "mediumint") || is(c, "int") ||
           is(c, "bigint");
}

static bool is_bytes(const lm_column *c)
{
    return is(c, "binary") || is(c, "varbinary") || strstr(c->data_type, "blob") != NULL;
}

static bool is_text(const lm_column *c)
{
    return c->charset != NULL && !is(c, "enum") && !is(c, "set");
}

bool lm_vx_same_type(const lm_column *a, const lm_column *b)
{
    if (strcasecmp(a->column_type, b->column_type) != 0)
        return false;
    if (a->charset == NULL || b->charset == NULL)
        return a->charset == b->charset;
    return strcasecmp(a->charset, b->charset) == 0;
}

/* The "(…)" of a column type such as decimal(12,3) or datetime(6), or "". */
static void put_type_args(lm_buf *b, const lm_column *c)
{
    const char *open = strchr(c->column_type, '('), *close;

    if (open == NULL || (close = strchr(open, ')')) == NULL)
        return;
    lm_buf_append(b, open, (size_t)(close - open + 1));
}

/* A string as a literal that survives any sql_mode: _utf8mb4 X'…'. */
static void put_lit(lm_buf *b, const char *s, size_t len)
{
    lm_buf_puts(b, "_utf8mb4 X'");
    lm_buf_hex(b, (const uint8_t *)s, len);
    lm_buf_putc(b, '\'');
}

/* The members of expr (a SET value or text) that dst's definition
 * set('a','b''c',…) lists, in that order, as 'a,b''c'. */
static int put_set_members(lm_buf *b, const lm_column *dst, const char *expr)
{
    const char *p = strchr(dst->column_type, '(');

    if (p == NULL)
        return LM_EINVAL;
    lm_buf_printf(b, "IF((%s) IS NULL, NULL, CONCAT_WS(','", expr);
    for (p++; *p == '\'';) {
        lm_buf m = LM_BUF_INIT;
        for (p++; *p; p++) {
            if (*p == '\'' && p[1] == '\'') {
                lm_buf_putc(&m, '\'');
                p++;
            } else if (*p == '\'') {
                break;
            } else {
                lm_buf_putc(&m, *p);
            }
        }
        if (*p != '\'') {
            lm_buf_free(&m);
            return LM_EINVAL;
        }
        lm_buf_puts(b, ", IF(FIND_IN_SET(");
        put_lit(b, m.data ? m.data : "", m.len);
        lm_buf_printf(b, ", CONVERT((%s) USING utf8mb4)), ", expr);
        put_lit(b, m.data ? m.data : "", m.len);
        lm_buf_puts(b, ", NULL)");
        lm_buf_free(&m);
        p++;
        if (*p == ',')
            p++;
    }
    return lm_buf_puts(b, "))");
}

/* `expr` (a value of src's type) assigned to dst's type. */
static void put_convert(lm_buf *b, const lm_column *src, const lm_column *dst, const char *expr)
{
    if (is_text(dst)) {
        bool trim = is(dst, "char");
        lm_buf_puts(b, trim ? "TRIM(TRAILING ' ' FROM CONVERT(" : "CONVERT(");
        lm_buf_puts(b, expr);
        lm_buf_printf(b, " USING %s)%s", dst->charset, trim ? ")" : "");
    } else if (is_bytes(dst)) {
        lm_buf_printf(b, "CAST(%s AS BINARY", expr);
        if (is(dst, "binary"))
            put_type_args(b, dst);
        lm_buf_putc(b, ')');
    } else if (is_int(dst)) {
        lm_buf_printf(b, "CAST(%s AS %s)", expr, dst->is_unsigned ? "UNSIGNED" : "SIGNED");
    } else if (is(dst, "decimal")) {
        lm_buf_printf(b, "CAST(%s AS DECIMAL", expr);
        put_type_args(b, dst);
        lm_buf_putc(b, ')');
    } else if (is(dst, "float") || is(dst, "double")) {
        lm_buf_printf(b, "CAST(%s AS %s)", expr, is(dst, "float") ? "FLOAT" : "DOUBLE");
    } else if (is(dst, "date")) {
        lm_buf_printf(b, "CAST(%s AS DATE)", expr);
    } else if (is(dst, "datetime") || is(dst, "timestamp") || is(dst, "time")) {
        lm_buf_printf(b, "CAST(%s AS %s", expr, is(dst, "time") ? "TIME" : "DATETIME");
        put_type_args(b, dst);
        lm_buf_putc(b, ')');
    } else if (is(dst, "bit") && !is(src, "bit")) {
        lm_buf_printf(b, "CAST(%s AS UNSIGNED)", expr);
    } else {
        lm_buf_puts(b, expr);
    }
}

int lm_vx_column(lm_buf *b, const lm_column *src, const lm_column *dst)
{
    lm_buf name = LM_BUF_INIT, conv = LM_BUF_INIT;
    bool same = src == dst || lm_vx_same_type(src, dst);
    const char *e;
    int rc = 0;

    lm_mysql_quote_ident(&name, src->name);
    if (same) {
        e = name.data;
    } else {
        put_convert(&conv, src, dst, name.data);
        e = conv.data;
    }
    if (e == NULL) {
        rc = LM_ENOMEM;
        goto cleanup;
    }
    lm_buf_puts(b, "IFNULL(");
    if (is(dst, "set") && !same) {
        lm_buf_puts(b, "HEX(");
        if ((rc = put_set_members(b, dst, e)) < 0)
            goto cleanup;
        lm_buf_putc(b, ')');
    } else if (is_text(dst) || is_bytes(dst) || is(dst, "enum") || is(dst, "set") ||
               is(dst, "geometry") || strstr(dst->data_type, "point") ||
               strstr(dst->data_type, "polygon") || strstr(dst->data_type, "linestring") ||
               strstr(dst->data_type, "collection")) {
        lm_buf_printf(b, "HEX(%s)", e);
    } else if (is(dst, "bit")) {
        lm_buf_printf(b, "(%s) + 0", e);
    } else if (is(dst, "float")) {
        lm_buf_printf(b, "CAST(%s AS DOUBLE)", e);
    } else {
        lm_buf_puts(b, e);
    }
    lm_buf_puts(b, ", 'N')");
    if (b->oom)
        rc = LM_ENOMEM;
cleanup:
    lm_buf_free(&name);
    lm_buf_free(&conv);
    return rc;
}

int lm_vx_map_of(const lm_plan *p, unsigned s)
{
    for (size_t i = 0; i < p->nmap; i++)
        if (p->map[i].src == s)
            return (int)i;
    return -1;
}

static int put_pair(lm_buf *b, const lm_plan *p, size_t i, bool is_src)
{
    const lm_column *s = &p->src->cols[p->map[i].src], *d = &p->dst->cols[p->map[i].dst];

    return is_src ? lm_vx_column(b, s, d) : lm_vx_column(b, d, d);
}

int lm_vx_row(lm_buf *b, const lm_plan *p, bool is_src)
{
    int rc;

    lm_buf_puts(b, "CONCAT_WS('#'");
    for (size_t i = 0; i < p->nmap; i++) {
        lm_buf_puts(b, ", ");
        if ((rc = put_pair(b, p, i, is_src)) < 0)
            return rc;
    }
    return lm_buf_putc(b, ')');
}

/* SHA1 rather than MD5: 0.9 against 1.7 s of server CPU per million
 * sbtest rows (MariaDB 10.11 with OpenSSL; 1.1 s without the CPU's SHA
 * extensions, still ahead). */
int lm_vx_row_hash(lm_buf *b, const lm_plan *p, bool is_src)
{
    int rc;

    lm_buf_puts(b, "SHA1(");
    if ((rc = lm_vx_row(b, p, is_src)) < 0)
        return rc;
    return lm_buf_putc(b, ')');
}

/* 64 bits of each row's hash, XORed: a chunk that differs passes only when
 * the hashes of its differing rows XOR to 0, 2^-64 for a hash like SHA1.
 * Not CRC32/CRC32C, though 3-4x cheaper: they are linear, so under XOR two
 * rows that swap equal-length values of a column cancel out (crc(a) ^
 * crc(b) = crc(a') ^ crc(b') when a ^ b = a' ^ b'), however wide. Not
 * both halves of the hash either: each reference to it evaluates it again
 * (a merged derived table; materialised costs as much), which doubled the
 * cost for no strength that matters. */
int lm_vx_checksum(lm_buf *b, const lm_plan *p, bool is_src)
{
    int rc;

    lm_buf_puts(b, "SELECT COUNT(*), IFNULL(BIT_XOR(CAST(CONV(LEFT(");
    if ((rc = lm_vx_row_hash(b, p, is_src)) < 0)
        return rc;
    return lm_buf_puts(b, ", 16), 16, 10) AS UNSIGNED)), 0)");
}

int lm_vx_key(lm_buf *b, const lm_plan *p, bool is_src)
{
    int rc, m;

    lm_buf_puts(b, "CONCAT_WS('#'");
    for (size_t k = 0; k < p->src->nkey; k++) {
        if ((m = lm_vx_map_of(p, p->src->key_cols[k])) < 0)
            return LM_EINVAL;
        lm_buf_puts(b, ", ");
        if ((rc = put_pair(b, p, (size_t)m, is_src)) < 0)
            return rc;
    }
    return lm_buf_putc(b, ')');
}

int lm_vx_show(lm_buf *b, const lm_plan *p, bool is_src)
{
    lm_buf_puts(b, "CONCAT_WS(', '");
    for (size_t i = 0; i < p->nmap; i++) {
        const lm_column *c = is_src ? &p->src->cols[p->map[i].src] : &p->dst->cols[p->map[i].dst];
        lm_buf_puts(b, ", CONCAT(");
        put_lit(b, c->name, strlen(c->name));
        lm_buf_puts(b, ", '=', IFNULL(");
        if (is_bytes(c) || is(c, "bit") || is(c, "geometry")) {
            lm_buf_puts(b, "CONCAT('0x', HEX(");
            lm_mysql_quote_ident(b, c->name);
            lm_buf_puts(b, "))");
        } else {
            lm_buf_puts(b, "QUOTE(");
            lm_mysql_quote_ident(b, c->name);
            lm_buf_putc(b, ')');
        }
        lm_buf_puts(b, ", 'NULL'))");
    }
    lm_buf_putc(b, ')');
    return b->oom ? LM_ENOMEM : 0;
}
