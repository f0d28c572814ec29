/* Row-image values as SQL literals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "livemig/buf.h"
#include "mysql/internal.h"

#include <stdio.h>
#include <string.h>

static char out[512];

static const char *lit(const lm_value *v, const lm_column *col)
{
    lm_buf b = LM_BUF_INIT;
    lm_err err = LM_ERR_INIT;
    int rc = lm_my_literal(&b, v, col, &err);

    snprintf(out, sizeof(out), "%s", rc < 0 ? "ERROR" : (b.data ? b.data : ""));
    lm_buf_free(&b);
    return out;
}

static lm_column column(const char *type, const char *charset, bool is_unsigned)
{
    lm_column c;
    memset(&c, 0, sizeof(c));
    c.name = (char *)"c";
    c.column_type = (char *)type;
    c.charset = (char *)charset;
    c.is_unsigned = is_unsigned;
    return c;
}

static void test_numbers(void **state)
{
    lm_value v = {0};
    lm_column s = column("int(11)", NULL, false), u = column("int(10) unsigned", NULL, true);

    v.kind = LM_VAL_NULL;
    assert_string_equal(lit(&v, &s), "NULL");
    v.kind = LM_VAL_INT;
    v.i = -1;
    v.u = 0xffffffffu;
    assert_string_equal(lit(&v, &s), "-1");
    assert_string_equal(lit(&v, &u), "4294967295");
    v.kind = LM_VAL_UINT;
    v.u = UINT64_MAX;
    assert_string_equal(lit(&v, &s), "18446744073709551615");
    v.kind = LM_VAL_FLOAT;
    v.d = (double)0.1f;
    assert_string_equal(lit(&v, &s), "0.100000001");
    v.kind = LM_VAL_DOUBLE;
    v.d = 0.1;
    assert_string_equal(lit(&v, &s), "0.10000000000000001");
    v.kind = LM_VAL_DECIMAL;
    v.str = "-12.340";
    v.len = 7;
    assert_string_equal(lit(&v, &s), "'-12.340'");
    v.str = "1); DROP";
    v.len = 8;
    assert_string_equal(lit(&v, &s), "ERROR");
    v.kind = LM_VAL_YEAR;
    v.i = 2024;
    assert_string_equal(lit(&v, &s), "2024");
    v.kind = LM_VAL_BIT;
    v.u = 5;
    assert_string_equal(lit(&v, &s), "5");
}

static void test_text_and_bytes(void **state)
{
    lm_value v = {0};
    lm_column latin = column("varchar(10)", "latin1", false);
    lm_column utf = column("text", "utf8mb4", false);
    lm_column bin = column("varbinary(10)", NULL, false);
    lm_column evil = column("varchar(10)", "latin1 X'00'; --", false);

    v.kind = LM_VAL_STRING;
    v.str = "caf\xe9'";
    v.len = 5;
    assert_string_equal(lit(&v, &latin), "_latin1 X'636166e927'");
    v.str = "\xc3\xa9";
    v.len = 2;
    assert_string_equal(lit(&v, &utf), "_utf8mb4 X'c3a9'");
    v.len = 0;
    assert_string_equal(lit(&v, &utf), "_utf8mb4 ''");
    /* A charset name that is not a plain word is never pasted. */
    v.len = 2;
    assert_string_equal(lit(&v, &evil), "X'c3a9'");
    v.kind = LM_VAL_BLOB;
    v.str = "\x00\xff";
    assert_string_equal(lit(&v, &bin), "X'00ff'");
    v.len = 0;
    assert_string_equal(lit(&v, &bin), "''");
    v.kind = LM_VAL_JSON;
    v.str = "{\"a\":1}";
    v.len = 7;
    assert_string_equal(lit(&v, &utf), "_utf8mb4 X'7b2261223a317d'");
    v.kind = LM_VAL_GEOMETRY;
    v.str = "\x00\x00\x00\x00\x01";
    v.len = 5;
    assert_string_equal(lit(&v, &bin), "X'0000000001'");
    v.kind = LM_VAL_ABSENT;
    assert_string_equal(lit(&v, &bin), "ERROR");
}

/* BINARY(n) and MariaDB's INET6/UUID lose trailing zero bytes in the row
 * image; the literal pads them back (2001:db8::fb00 came as 15 bytes). */
static void test_fixed_binary_padded(void **state)
{
    lm_value v = {0};
    lm_column inet6 = column("inet6", NULL, false), bin = column("binary(4)", NULL, false);
    lm_column vb = column("varbinary(4)", NULL, false);

    (void)state;
    v.kind = LM_VAL_STRING;
    v.str = "\x20\x01";
    v.len = 2;
    assert_string_equal(lit(&v, &inet6), "X'20010000000000000000000000000000'");
    assert_string_equal(lit(&v, &bin), "X'20010000'");
    assert_string_equal(lit(&v, &vb), "X'2001'");
    v.len = 0;
    assert_string_equal(lit(&v, &bin), "X'00000000'");
}

static void test_temporal(void **state)
{
    lm_value v = {0};
    lm_column c = column("datetime(6)", NULL, false);

    v.kind = LM_VAL_DATETIME;
    v.str = "2024-02-29 23:59:59.123456";
    v.len = strlen(v.str);
    assert_string_equal(lit(&v, &c), "'2024-02-29 23:59:59.123456'");
    v.kind = LM_VAL_TIME;
    v.str = "-838:59:59";
    v.len = 0; /* NUL-terminated text without a length */
    assert_string_equal(lit(&v, &c), "'-838:59:59'");
    v.kind = LM_VAL_TIMESTAMP;
    v.str = "2024-01-01 00:00:00' OR 1";
    v.len = strlen(v.str);
    assert_string_equal(lit(&v, &c), "ERROR");
}

static void test_enum_set(void **state)
{
    lm_value v = {0};
    lm_column e = column("enum('new','it''s','a\\\\b')", "utf8mb4", false);
    lm_column s = column("set('x','y','z')", "utf8mb4", false);
    lm_column bad = column("int", NULL, false);

    v.kind = LM_VAL_ENUM;
    v.u = 2;
    assert_string_equal(lit(&v, &e), "_utf8mb4 X'69742773'"); /* it's */
    v.u = 3;
    assert_string_equal(lit(&v, &e), "_utf8mb4 X'615c62'"); /* a\b */
    v.u = 0;
    assert_string_equal(lit(&v, &e), "_utf8mb4 ''");
    v.u = 9; /* unknown member: the number */
    assert_string_equal(lit(&v, &e), "9");
    v.kind = LM_VAL_SET;
    v.u = 5;
    assert_string_equal(lit(&v, &s), "_utf8mb4 X'782c7a'"); /* x,z */
    v.u = 3;
    assert_string_equal(lit(&v, &bad), "3");
}

static void test_value_eq(void **state)
{
    lm_value a = {0}, b = {0};

    a.kind = b.kind = LM_VAL_INT;
    a.i = b.i = 5;
    a.u = b.u = 5;
    assert_true(lm_my_value_eq(&a, &b));
    b.i = b.u = 6;
    assert_false(lm_my_value_eq(&a, &b));
    a.kind = b.kind = LM_VAL_STRING;
    a.str = "abc";
    b.str = "abd";
    a.len = b.len = 2;
    assert_true(lm_my_value_eq(&a, &b));
    a.len = b.len = 3;
    assert_false(lm_my_value_eq(&a, &b));
    b.kind = LM_VAL_NULL;
    assert_false(lm_my_value_eq(&a, &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),  cmocka_unit_test(test_text_and_bytes),
        cmocka_unit_test(test_temporal), cmocka_unit_test(test_enum_set),
        cmocka_unit_test(test_value_eq), cmocka_unit_test(test_fixed_binary_padded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
