/* Byte-level vectors for every column type of the binlog decoder, the
 * JSON formatting of values and rows, positions and row copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "binlog/internal.h"
#include "livemig/binlog.h"
#include "livemig/buf.h"

/* A one-column table map built by hand. */
typedef struct one_col {
    lm_table_map tm;
    uint8_t type;
    uint16_t meta;
    uint8_t nullable;
    int8_t uns;
    uint16_t cs;
} one_col;

static void col_init(one_col *c, uint8_t type, uint16_t meta)
{
    memset(c, 0, sizeof(*c));
    c->type = type;
    c->meta = meta;
    c->nullable = 1;
    c->tm.ncols = 1;
    c->tm.types = &c->type;
    c->tm.meta = &c->meta;
    c->tm.nullable = &c->nullable;
    strcpy(c->tm.db, "db");
    strcpy(c->tm.table, "t");
}

static void col_unsigned(one_col *c, int uns)
{
    c->uns = (int8_t)uns;
    c->tm.is_unsigned = &c->uns;
}

static void col_charset(one_col *c, uint16_t cs)
{
    c->cs = cs;
    c->tm.charsets = &c->cs;
}

static lm_bl_arena arena;

/* Decode bytes as the column's value; asserts the whole input is used. */
static lm_value dec(one_col *c, const void *bytes, size_t n)
{
    lm_err err = LM_ERR_INIT;
    lm_value v;
    size_t used = 0;
    int rc = lm_bl_value_decode(&c->tm, 0, bytes, n, &v, &used, &arena, &err);
    if (rc != 0)
        fail_msg("decode failed: %s", err.msg);
    assert_int_equal(used, n);
    return v;
}

static void assert_text(const lm_value *v, lm_value_kind kind, const char *want)
{
    assert_int_equal(v->kind, kind);
    assert_non_null(v->str);
    if (v->len != strlen(want) || memcmp(v->str, want, v->len) != 0)
        fail_msg("got '%.*s', want '%s'", (int)v->len, v->str, want);
}

static void test_ints(void **state)
{
    one_col c;
    lm_value v;
    (void)state;

    col_init(&c, LM_T_TINY, 0);
    v = dec(&c, "\xff", 1);
    assert_int_equal(v.kind, LM_VAL_INT);
    assert_int_equal(v.i, -1);
    assert_int_equal(v.u, 255);
    col_unsigned(&c, 1);
    v = dec(&c, "\xff", 1);
    assert_int_equal(v.kind, LM_VAL_UINT);
    assert_int_equal(v.u, 255);

    col_init(&c, LM_T_SHORT, 0);
    v = dec(&c, "\x00\x80", 2);
    assert_int_equal(v.i, -32768);
    assert_int_equal(v.u, 32768);
    col_init(&c, LM_T_INT24, 0);
    v = dec(&c, "\x00\x00\x80", 3);
    assert_int_equal(v.i, -8388608);
    v = dec(&c, "\xff\xff\x7f", 3);
    assert_int_equal(v.i, 8388607);
    col_init(&c, LM_T_LONG, 0);
    v = dec(&c, "\xff\xff\xff\xff", 4);
    assert_int_equal(v.i, -1);
    assert_int_equal(v.u, 4294967295u);
    col_init(&c, LM_T_LONGLONG, 0);
    col_unsigned(&c, 1);
    v = dec(&c, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
    assert_int_equal(v.kind, LM_VAL_UINT);
    assert_true(v.u == UINT64_MAX);
    assert_true(v.i == -1);
    col_unsigned(&c, 0);
    v = dec(&c, "\x00\x00\x00\x00\x00\x00\x00\x80", 8);
    assert_int_equal(v.kind, LM_VAL_INT);
    assert_true(v.i == INT64_MIN);
}

static void test_floats(void **state)
{
    one_col c;
    lm_value v;
    float f = 3.14159f;
    double d = -1.7976931348623157e308;
    uint8_t b[8];
    char text[64];
    (void)state;

    col_init(&c, LM_T_FLOAT, 4);
    memcpy(b, &f, 4); /* little-endian host, as the binlog */
    v = dec(&c, b, 4);
    assert_int_equal(v.kind, LM_VAL_FLOAT);
    lm_bl_float_text(v.d, 1, text, sizeof(text));
    assert_string_equal(text, "3.14159");
    col_init(&c, LM_T_DOUBLE, 8);
    memcpy(b, &d, 8);
    v = dec(&c, b, 8);
    assert_int_equal(v.kind, LM_VAL_DOUBLE);
    lm_bl_float_text(v.d, 0, text, sizeof(text));
    assert_string_equal(text, "-1.7976931348623157e308");
    lm_bl_float_text(0.1, 0, text, sizeof(text));
    assert_string_equal(text, "0.1");
    lm_bl_float_text(1e10, 1, text, sizeof(text));
    assert_string_equal(text, "1e10");
    lm_bl_float_text(5e-324, 0, text, sizeof(text));
    assert_string_equal(text, "5e-324");
    lm_bl_float_text(0.1 + 0.2, 0, text, sizeof(text));
    assert_string_equal(text, "0.30000000000000004");
}

static void test_decimal(void **state)
{
    one_col c;
    lm_value v;
    (void)state;

    col_init(&c, LM_T_NEWDECIMAL, 10 << 8 | 3);
    v = dec(&c, "\x80\x00\x00\x00\x00\x01", 6);
    assert_text(&v, LM_VAL_DECIMAL, "0.001");
    v = dec(&c, "\x7f\xff\xff\xf3\xfe\xab", 6);
    assert_text(&v, LM_VAL_DECIMAL, "-12.340");
    v = dec(&c, "\x80\x00\x00\x00\x00\x00", 6);
    assert_text(&v, LM_VAL_DECIMAL, "0.000");
    /* Scale 0. */
    col_init(&c, LM_T_NEWDECIMAL, 5 << 8 | 0);
    v = dec(&c, "\x7e\x79\x60", 3);
    assert_text(&v, LM_VAL_DECIMAL, "-99999");
    v = dec(&c, "\x80\x00\x00", 3);
    assert_text(&v, LM_VAL_DECIMAL, "0");
    /* The example of MySQL's decimal.c: 1234567890.1234 as DECIMAL(14,4). */
    col_init(&c, LM_T_NEWDECIMAL, 14 << 8 | 4);
    v = dec(&c, "\x81\x0d\xfb\x38\xd2\x04\xd2", 7);
    assert_text(&v, LM_VAL_DECIMAL, "1234567890.1234");
    v = dec(&c, "\x7e\xf2\x04\xc7\x2d\xfb\x2d", 7);
    assert_text(&v, LM_VAL_DECIMAL, "-1234567890.1234");
    /* Large: DECIMAL(30,10) 12345678901234567890.0123456789: groups of 9
     * digits; 20 integer digits = 2 leftover digits (1 byte) + 2 groups. */
    col_init(&c, LM_T_NEWDECIMAL, 30 << 8 | 10);
    {
        const uint8_t b[] = {0x80 | 12, 0x14, 0x9a, 0xa4, 0x35, /* 12 | 345678901 */
                             0x0d,      0xfb, 0x38, 0xd2,       /* 234567890 */
                             0x00,      0xbc, 0x61, 0x4e,       /* .012345678 */
                             0x09};                             /* 9 */
        v = dec(&c, b, sizeof(b));
        assert_text(&v, LM_VAL_DECIMAL, "12345678901234567890.0123456789");
    }
}

/* MySQL's my_time_packed_to_binary, as a reference encoder for TIME2. */
static void time2_bin(int64_t nr, unsigned fsp, uint8_t *p)
{
    int64_t ip = nr >> 24, fr = nr % (INT64_C(1) << 24);
    uint64_t u;
    int i;

    switch (fsp) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
        u = (uint64_t)(ip + 0x800000);
        p[0] = (uint8_t)(u >> 16);
        p[1] = (uint8_t)(u >> 8);
        p[2] = (uint8_t)u;
        if (fsp == 1 || fsp == 2) {
            p[3] = (uint8_t)(int8_t)(fr / 10000);
        } else if (fsp == 3 || fsp == 4) {
            uint16_t f = (uint16_t)(int16_t)(fr / 100);
            p[3] = (uint8_t)(f >> 8);
            p[4] = (uint8_t)f;
        }
        break;
    default:
        u = (uint64_t)(nr + INT64_C(0x800000000000));
        for (i = 0; i < 6; i++)
            p[i] = (uint8_t)(u >> (8 * (5 - i)));
        break;
    }
}

static int64_t time_packed(int neg, unsigned h, unsigned m, unsigned s, unsigned usec)
{
    int64_t v = ((int64_t)(h << 12 | m << 6 | s) << 24) + usec;
    return neg ? -v : v;
}

static void test_time2(void **state)
{
    static const struct {
        int neg;
        unsigned h, m, s, usec, fsp;
        const char *want;
    } cases[] = {
        {1, 0, 0, 0, 500000, 1, "-00:00:00.5"},      {1, 0, 0, 1, 100000, 1, "-00:00:01.1"},
        {1, 0, 0, 0, 10000, 2, "-00:00:00.01"},      {1, 12, 34, 56, 780000, 2, "-12:34:56.78"},
        {1, 0, 0, 0, 1000, 3, "-00:00:00.001"},      {1, 1, 2, 3, 456000, 3, "-01:02:03.456"},
        {1, 838, 59, 58, 900000, 1, "-838:59:58.9"}, {1, 0, 0, 0, 100, 4, "-00:00:00.0001"},
        {1, 0, 0, 0, 10, 5, "-00:00:00.00001"},      {1, 0, 0, 0, 1, 6, "-00:00:00.000001"},
        {1, 12, 34, 56, 1, 6, "-12:34:56.000001"},   {1, 0, 0, 0, 999999, 6, "-00:00:00.999999"},
        {1, 838, 59, 59, 0, 0, "-838:59:59"},        {1, 838, 59, 59, 0, 6, "-838:59:59.000000"},
        {0, 838, 59, 59, 0, 0, "838:59:59"},         {0, 0, 0, 0, 0, 0, "00:00:00"},
        {0, 23, 59, 59, 900000, 1, "23:59:59.9"},    {0, 0, 0, 0, 1000, 3, "00:00:00.001"},
        {0, 10, 11, 12, 123400, 4, "10:11:12.1234"}, {0, 10, 11, 12, 123450, 5, "10:11:12.12345"},
    };
    one_col c;
    uint8_t b[8];
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lm_value v;
        col_init(&c, LM_T_TIME2, (uint16_t)cases[i].fsp);
        time2_bin(time_packed(cases[i].neg, cases[i].h, cases[i].m, cases[i].s, cases[i].usec),
                  cases[i].fsp, b);
        v = dec(&c, b, 3 + (cases[i].fsp + 1) / 2);
        assert_text(&v, LM_VAL_TIME, cases[i].want);
    }
    /* Hard-coded: -00:00:00.5 as TIME(1) is 7F FF FF CE. */
    col_init(&c, LM_T_TIME2, 1);
    {
        lm_value v = dec(&c, "\x7f\xff\xff\xce", 4);
        assert_text(&v, LM_VAL_TIME, "-00:00:00.5");
    }
}

static void frac_bin(uint8_t *p, unsigned usec, unsigned fsp)
{
    if (fsp == 1 || fsp == 2)
        p[0] = (uint8_t)(usec / 10000);
    else if (fsp == 3 || fsp == 4) {
        p[0] = (uint8_t)((usec / 100) >> 8);
        p[1] = (uint8_t)(usec / 100);
    } else if (fsp >= 5) {
        p[0] = (uint8_t)(usec >> 16);
        p[1] = (uint8_t)(usec >> 8);
        p[2] = (uint8_t)usec;
    }
}

static void test_datetime2(void **state)
{
    static const struct {
        unsigned y, mo, d, h, mi, s, usec, fsp;
        const char *want;
    } cases[] = {
        {9999, 12, 31, 23, 59, 59, 999999, 6, "9999-12-31 23:59:59.999999"},
        {1000, 1, 1, 0, 0, 0, 0, 0, "1000-01-01 00:00:00"},
        {0, 0, 0, 0, 0, 0, 0, 6, "0000-00-00 00:00:00.000000"},
        {2024, 1, 1, 0, 0, 0, 10000, 2, "2024-01-01 00:00:00.01"},
        {2020, 2, 2, 2, 2, 2, 200000, 1, "2020-02-02 02:02:02.2"},
        {2001, 2, 3, 4, 5, 6, 700, 4, "2001-02-03 04:05:06.0007"},
    };
    one_col c;
    uint8_t b[8];
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t ym = cases[i].y * 13u + cases[i].mo;
        uint64_t ip =
            ((ym << 5 | cases[i].d) << 17) | (cases[i].h << 12 | cases[i].mi << 6 | cases[i].s);
        uint64_t u = ip + 0x8000000000ULL;
        lm_value v;
        int k;
        for (k = 0; k < 5; k++)
            b[k] = (uint8_t)(u >> (8 * (4 - k)));
        frac_bin(b + 5, cases[i].usec, cases[i].fsp);
        col_init(&c, LM_T_DATETIME2, (uint16_t)cases[i].fsp);
        v = dec(&c, b, 5 + (cases[i].fsp + 1) / 2);
        assert_text(&v, LM_VAL_DATETIME, cases[i].want);
    }
}

static void test_timestamp(void **state)
{
    one_col c;
    lm_value v;
    uint8_t b[8] = {0x7f, 0xff, 0xff, 0xff};
    (void)state;

    col_init(&c, LM_T_TIMESTAMP2, 6);
    frac_bin(b + 4, 999999, 6);
    v = dec(&c, b, 7);
    assert_text(&v, LM_VAL_TIMESTAMP, "2038-01-19 03:14:07.999999");
    assert_int_equal(v.i, 2147483647);
    assert_int_equal(v.u, 999999);
    memset(b, 0, sizeof(b));
    v = dec(&c, b, 7);
    assert_text(&v, LM_VAL_TIMESTAMP, "0000-00-00 00:00:00.000000");
    col_init(&c, LM_T_TIMESTAMP2, 0);
    v = dec(&c, "\x00\x00\x00\x01", 4);
    assert_text(&v, LM_VAL_TIMESTAMP, "1970-01-01 00:00:01");
    col_init(&c, LM_T_TIMESTAMP2, 3);
    v = dec(&c, "\x00\x00\x00\x01\x00\x32", 6); /* 50 x 100 us */
    assert_text(&v, LM_VAL_TIMESTAMP, "1970-01-01 00:00:01.005");
    assert_int_equal(v.u, 5000);
    /* Old TIMESTAMP: little-endian seconds. */
    col_init(&c, LM_T_TIMESTAMP, 0);
    v = dec(&c, "\x00\x00\x00\x00", 4);
    assert_text(&v, LM_VAL_TIMESTAMP, "0000-00-00 00:00:00");
    v = dec(&c, "\x10\x00\x00\x00", 4);
    assert_text(&v, LM_VAL_TIMESTAMP, "1970-01-01 00:00:16");
}

static void test_date_year_oldtime(void **state)
{
    one_col c;
    lm_value v;
    uint32_t d = 29 | 2 << 5 | 2024u << 9;
    uint8_t b[8] = {(uint8_t)d, (uint8_t)(d >> 8), (uint8_t)(d >> 16)};
    (void)state;

    col_init(&c, LM_T_DATE, 0);
    v = dec(&c, b, 3);
    assert_text(&v, LM_VAL_DATE, "2024-02-29");
    v = dec(&c, "\0\0\0", 3);
    assert_text(&v, LM_VAL_DATE, "0000-00-00");
    col_init(&c, LM_T_YEAR, 0);
    v = dec(&c, "\0", 1);
    assert_int_equal(v.kind, LM_VAL_YEAR);
    assert_int_equal(v.i, 0);
    v = dec(&c, "\x7c", 1);
    assert_int_equal(v.i, 2024);
    v = dec(&c, "\xff", 1);
    assert_int_equal(v.i, 2155);
    /* Old TIME: signed hhmmss; -838:59:59 = -8385959. */
    col_init(&c, LM_T_TIME, 0);
    {
        int32_t t = -8385959;
        uint32_t u = (uint32_t)t;
        uint8_t tb[3] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16)};
        v = dec(&c, tb, 3);
        assert_text(&v, LM_VAL_TIME, "-838:59:59");
    }
    col_init(&c, LM_T_DATETIME, 0);
    {
        uint64_t x = 20240229123456ULL;
        uint8_t xb[8];
        int k;
        for (k = 0; k < 8; k++)
            xb[k] = (uint8_t)(x >> (8 * k));
        v = dec(&c, xb, 8);
        assert_text(&v, LM_VAL_DATETIME, "2024-02-29 12:34:56");
    }
}

static void test_bit(void **state)
{
    one_col c;
    lm_value v;
    (void)state;

    col_init(&c, LM_T_BIT, 1 << 8 | 2); /* BIT(10): 1 byte + 2 bits */
    v = dec(&c, "\x02\xaa", 2);
    assert_int_equal(v.kind, LM_VAL_BIT);
    assert_int_equal(v.u, 682);
    assert_int_equal(v.len, 2);
    col_init(&c, LM_T_BIT, 0 << 8 | 1); /* BIT(1) */
    v = dec(&c, "\x01", 1);
    assert_int_equal(v.u, 1);
    col_init(&c, LM_T_BIT, 8 << 8 | 0); /* BIT(64) */
    v = dec(&c, "\x80\0\0\0\0\0\0\x01", 8);
    assert_true(v.u == 0x8000000000000001ULL);
}

static void test_strings(void **state)
{
    one_col c;
    lm_value v;
    uint8_t big[300];
    (void)state;

    /* VARCHAR(100) latin1: 1-byte length prefix. */
    col_init(&c, LM_T_VARCHAR, 100);
    v = dec(&c,
            "\x03"
            "abc",
            4);
    assert_text(&v, LM_VAL_STRING, "abc");
    /* VARCHAR(100) utf8mb4 = 400 bytes: 2-byte prefix. */
    col_init(&c, LM_T_VARCHAR, 400);
    memset(big, 'x', sizeof(big));
    big[0] = 0x2c;
    big[1] = 0x01;
    v = dec(&c, big, 2 + 300);
    assert_int_equal(v.len, 300);
    /* CHAR(255) utf8mb4: 1020 bytes folded into the type byte. */
    col_init(&c, LM_T_STRING, 0xCE << 8 | 0xFC);
    v = dec(&c,
            "\x02\x00"
            "ab",
            4);
    assert_text(&v, LM_VAL_STRING, "ab");
    assert_int_equal(v.type, LM_T_STRING);
    /* CHAR(4) utf8mb4: 16 bytes, plain metadata, 1-byte prefix. */
    col_init(&c, LM_T_STRING, 0xFE << 8 | 16);
    v = dec(&c,
            "\x02"
            "ab",
            3);
    assert_text(&v, LM_VAL_STRING, "ab");
    /* BINARY(4): padding restored when the charset says binary. */
    col_charset(&c, 63);
    c.meta = 0xFE << 8 | 4;
    v = dec(&c,
            "\x02"
            "ab",
            3);
    assert_int_equal(v.kind, LM_VAL_BLOB);
    assert_int_equal(v.len, 4);
    assert_memory_equal(v.str, "ab\0\0", 4);
    /* VARBINARY. */
    col_init(&c, LM_T_VARCHAR, 300);
    col_charset(&c, 63);
    v = dec(&c, "\x02\x00\x00\xff", 4);
    assert_int_equal(v.kind, LM_VAL_BLOB);
    assert_memory_equal(v.str, "\x00\xff", 2);
}

static void test_blobs(void **state)
{
    one_col c;
    lm_value v;
    (void)state;

    col_init(&c, LM_T_BLOB, 1);
    v = dec(&c, "\x02hi", 3);
    assert_int_equal(v.kind, LM_VAL_BLOB); /* charset unknown */
    col_init(&c, LM_T_BLOB, 2);
    col_charset(&c, 45);
    v = dec(&c, "\x02\x00hi", 4);
    assert_text(&v, LM_VAL_STRING, "hi"); /* TEXT */
    col_charset(&c, 63);
    v = dec(&c, "\x02\x00hi", 4);
    assert_int_equal(v.kind, LM_VAL_BLOB);
    col_init(&c, LM_T_BLOB, 3);
    v = dec(&c, "\x01\x00\x00z", 4);
    assert_int_equal(v.len, 1);
    col_init(&c, LM_T_BLOB, 4);
    v = dec(&c, "\x01\x00\x00\x00z", 5);
    assert_int_equal(v.len, 1);
    col_init(&c, LM_T_GEOMETRY, 4);
    v = dec(&c, "\x05\x00\x00\x00\x00\x00\x00\x00\x01", 9);
    assert_int_equal(v.kind, LM_VAL_GEOMETRY);
    assert_int_equal(v.len, 5);
}

static char *enum_names[] = {"a", "b", "c"};
static char *set_names[] = {"x", "y", "z"};

static void test_enum_set(void **state)
{
    one_col c;
    lm_value v;
    char **en[1] = {enum_names}, **sn[1] = {set_names};
    unsigned cnt[1] = {3};
    (void)state;

    col_init(&c, LM_T_STRING, 0xF7 << 8 | 1);
    v = dec(&c, "\x02", 1);
    assert_int_equal(v.kind, LM_VAL_ENUM);
    assert_int_equal(v.type, LM_T_ENUM);
    assert_int_equal(v.u, 2);
    assert_null(v.str);
    c.tm.enum_names = en;
    c.tm.enum_counts = cnt;
    v = dec(&c, "\x02", 1);
    assert_text(&v, LM_VAL_ENUM, "b");
    v = dec(&c, "\x00", 1);
    assert_text(&v, LM_VAL_ENUM, "");
    /* Two-byte ENUM (more than 255 members). */
    col_init(&c, LM_T_STRING, 0xF7 << 8 | 2);
    v = dec(&c, "\x01\x01", 2);
    assert_int_equal(v.u, 257);

    col_init(&c, LM_T_STRING, 0xF8 << 8 | 1);
    v = dec(&c, "\x05", 1);
    assert_int_equal(v.kind, LM_VAL_SET);
    assert_int_equal(v.u, 5);
    c.tm.set_names = sn;
    c.tm.set_counts = cnt;
    v = dec(&c, "\x05", 1);
    assert_text(&v, LM_VAL_SET, "x,z");
    v = dec(&c, "\x00", 1);
    assert_text(&v, LM_VAL_SET, "");
    col_init(&c, LM_T_STRING, 0xF8 << 8 | 8);
    v = dec(&c, "\0\0\0\0\0\0\0\x80", 8);
    assert_true(v.u == 0x8000000000000000ULL);
}

static void test_mysql_json_text(void **state)
{
    lm_buf b = LM_BUF_INIT;
    lm_err err = LM_ERR_INIT;
    /* [1, "x", null, 2.5, {"k": -2}] */
    static const uint8_t doc[] = {
        0x02,                                           /* small array */
        0x05, 0x00, 0x2a, 0x00,                         /* 5 elements, 42 bytes */
        0x05, 0x01, 0x00,                               /* int16 1 */
        0x0c, 0x13, 0x00,                               /* string at 19 */
        0x04, 0x00, 0x00,                               /* null */
        0x0b, 0x15, 0x00,                               /* double at 21 */
        0x00, 0x1d, 0x00,                               /* object at 29 */
        0x01, 'x',                                      /* 19: "x" */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x40, /* 21: 2.5 */
        0x01, 0x00, 0x0d, 0x00,                         /* 29: object, 1 member, 13 bytes */
        0x0b, 0x00, 0x01, 0x00,                         /* key at 11, len 1 */
        0x05, 0xfe, 0xff,                               /* int16 -2 */
        'k',  0x00,                                     /* padding to the declared size */
    };
    (void)state;

    assert_int_equal(lm_bl_mysql_json(&b, doc, sizeof(doc), &err), 0);
    assert_string_equal(b.data, "[1, \"x\", null, 2.5, {\"k\": -2}]");
    lm_buf_reset(&b);
    assert_int_equal(lm_bl_mysql_json(&b, (const uint8_t *)"", 0, &err), 0);
    assert_string_equal(b.data, "null");
    lm_buf_reset(&b);
    assert_true(lm_bl_mysql_json(&b, (const uint8_t *)"\x02\x05\x00", 3, &err) < 0);
    lm_buf_free(&b);
}

static void test_null_bytes_short(void **state)
{
    one_col c;
    lm_value v;
    lm_err err = LM_ERR_INIT;
    size_t used;
    (void)state;

    col_init(&c, LM_T_LONG, 0);
    assert_int_equal(
        lm_bl_value_decode(&c.tm, 0, (const uint8_t *)"\1\2", 2, &v, &used, &arena, &err),
        LM_ECORRUPT);
    assert_non_null(strstr(err.msg, "column 1 of db.t"));
}

static void test_json_format(void **state)
{
    lm_buf b = LM_BUF_INIT;
    lm_value vals[8];
    lm_row row = {8, vals};
    uint8_t types[8] = {LM_T_LONG,   LM_T_VARCHAR, LM_T_VARCHAR, LM_T_BLOB,
                        LM_T_STRING, LM_T_DOUBLE,  LM_T_BIT,     LM_T_LONG};
    lm_table_map tm;
    char *names[8] = {"id", "name", "l1", "bin", "e", "d", "b", "gone"};
    (void)state;

    memset(vals, 0, sizeof(vals));
    memset(&tm, 0, sizeof(tm));
    tm.ncols = 8;
    tm.types = types;
    vals[0] = (lm_value){.kind = LM_VAL_UINT, .i = -1, .u = 4294967295u};
    vals[1] = (lm_value){.kind = LM_VAL_STRING, .str = "h\xc3\xa9\"", .len = 4, .charset = 45};
    vals[2] = (lm_value){.kind = LM_VAL_STRING, .str = "caf\xe9\x80", .len = 5, .charset = 8};
    vals[3] = (lm_value){.kind = LM_VAL_BLOB, .str = "\x00\xff", .len = 2};
    vals[4] = (lm_value){.kind = LM_VAL_ENUM, .u = 2};
    vals[5] = (lm_value){.kind = LM_VAL_DOUBLE, .d = 2.5};
    vals[6] = (lm_value){.kind = LM_VAL_BIT, .u = 682};
    vals[7] = (lm_value){.kind = LM_VAL_ABSENT};
    assert_int_equal(lm_row_json(&b, &row, &tm), 0);
    assert_string_equal(
        b.data, "{\"@1\":4294967295,\"@2\":\"h\xc3\xa9\\\"\",\"@3\":\"caf\xc3\xa9\xe2\x82\xac\","
                "\"@4\":{\"hex\":\"00ff\"},\"@5\":2,\"@6\":\"2.5\",\"@7\":682}");
    lm_buf_reset(&b);
    tm.names = names;
    vals[4].str = "b";
    vals[4].len = 1;
    vals[1].charset = 0; /* unknown charset, valid UTF-8: a string */
    vals[2].charset = 0; /* unknown charset, not UTF-8: hex */
    vals[7].kind = LM_VAL_NULL;
    vals[0].kind = LM_VAL_INT;
    assert_int_equal(lm_row_json(&b, &row, &tm), 0);
    assert_string_equal(b.data,
                        "{\"id\":-1,\"name\":\"h\xc3\xa9\\\"\",\"l1\":{\"hex\":\"636166e980\"},"
                        "\"bin\":{\"hex\":\"00ff\"},\"e\":\"b\",\"d\":\"2.5\",\"b\":682,"
                        "\"gone\":null}");
    lm_buf_reset(&b);
    /* Binary collation text and ucs2. */
    vals[0] = (lm_value){.kind = LM_VAL_STRING, .str = "ab", .len = 2, .charset = 63};
    lm_value_json(&b, &vals[0], &tm, 0);
    assert_string_equal(b.data, "{\"hex\":\"6162\"}");
    lm_buf_reset(&b);
    vals[0] = (lm_value){.kind = LM_VAL_STRING, .str = "\x00\xe9", .len = 2, .charset = 35};
    lm_value_json(&b, &vals[0], &tm, 0);
    assert_string_equal(b.data, "\"\xc3\xa9\"");
    lm_buf_free(&b);
}

static void test_pos_cmp(void **state)
{
    lm_binlog_pos a = {"mysql-bin.000009", 100}, b = {"mysql-bin.000010", 4};
    (void)state;

    assert_true(lm_binlog_pos_cmp(&a, &b) < 0);
    assert_true(lm_binlog_pos_cmp(&b, &a) > 0);
    strcpy(a.file, "mysql-bin.999999");
    strcpy(b.file, "mysql-bin.1000000");
    assert_true(lm_binlog_pos_cmp(&a, &b) < 0);
    strcpy(a.file, b.file);
    a.pos = 4;
    assert_int_equal(lm_binlog_pos_cmp(&a, &b), 0);
    a.pos = 5;
    assert_true(lm_binlog_pos_cmp(&a, &b) > 0);
}

static void test_row_clone(void **state)
{
    lm_value vals[3] = {
        {.kind = LM_VAL_INT, .i = 7},
        {.kind = LM_VAL_STRING, .str = "abc", .len = 3},
        {.kind = LM_VAL_NULL},
    };
    lm_row src = {3, vals}, *copy = NULL;
    char text[4] = "xyz";
    (void)state;

    vals[1].str = text;
    assert_int_equal(lm_row_clone(&src, &copy), 0);
    text[0] = 'Q'; /* the copy must not see later changes */
    assert_int_equal(copy->ncols, 3);
    assert_int_equal(copy->cols[0].i, 7);
    assert_memory_equal(copy->cols[1].str, "xyz", 3);
    assert_true(copy->cols[1].str != text);
    assert_int_equal(copy->cols[2].kind, LM_VAL_NULL);
    lm_row_free(copy);
}

static int teardown(void **state)
{
    (void)state;
    lm_bl_arena_free(&arena);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ints),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_time2),
        cmocka_unit_test(test_datetime2),
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_date_year_oldtime),
        cmocka_unit_test(test_bit),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_blobs),
        cmocka_unit_test(test_enum_set),
        cmocka_unit_test(test_mysql_json_text),
        cmocka_unit_test(test_null_bytes_short),
        cmocka_unit_test(test_json_format),
        cmocka_unit_test(test_pos_cmp),
        cmocka_unit_test(test_row_clone),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
