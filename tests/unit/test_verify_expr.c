/* The verifier's canonical column expressions (src/mysql/verify_expr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "livemig/buf.h"
#include "mysql/verify_expr.h"

#include <stdio.h>
#include <string.h>

static char out[2048];

static lm_column column(const char *name, const char *data_type, const char *type,
                        const char *charset)
{
    lm_column c;
    memset(&c, 0, sizeof(c));
    c.name = (char *)name;
    c.data_type = (char *)data_type;
    c.column_type = (char *)type;
    c.charset = (char *)charset;
    c.is_unsigned = strstr(type, "unsigned") != NULL;
    return c;
}

static const char *expr(const lm_column *src, const lm_column *dst)
{
    lm_buf b = LM_BUF_INIT;
    int rc = lm_vx_column(&b, src, dst);

    snprintf(out, sizeof(out), "%s", rc < 0 ? "ERROR" : (b.data ? b.data : ""));
    lm_buf_free(&b);
    return out;
}

static void test_same_type(void **state)
{
    lm_column a = column("a", "varchar", "varchar(10)", "utf8mb4");
    lm_column b = column("a", "varchar", "varchar(10)", "utf8mb4");
    lm_column l = column("a", "varchar", "varchar(10)", "latin1");
    lm_column i = column("n", "int", "int(11)", NULL);
    lm_column f = column("f", "float", "float", NULL);
    lm_column bit = column("b`q", "bit", "bit(3)", NULL);

    (void)state;
    assert_true(lm_vx_same_type(&a, &b));
    assert_false(lm_vx_same_type(&a, &l));
    assert_string_equal(expr(&a, &b), "IFNULL(HEX(`a`), 'N')");
    assert_string_equal(expr(&i, &i), "IFNULL(`n`, 'N')");
    assert_string_equal(expr(&f, &f), "IFNULL(CAST(`f` AS DOUBLE), 'N')");
    assert_string_equal(expr(&bit, &bit), "IFNULL((`b``q`) + 0, 'N')");
}

static void test_conversions(void **state)
{
    lm_column l = column("a", "varchar", "varchar(10)", "latin1");
    lm_column u = column("a", "varchar", "varchar(20)", "utf8mb4");
    lm_column ch = column("a", "char", "char(20)", "utf8mb4");
    lm_column d1 = column("d", "decimal", "decimal(10,2)", NULL);
    lm_column d2 = column("d", "decimal", "decimal(14,4) unsigned", NULL);
    lm_column t3 = column("t", "datetime", "datetime(3)", NULL);
    lm_column t6 = column("t", "timestamp", "timestamp(6)", NULL);
    lm_column i = column("n", "int", "int(11)", NULL);
    lm_column bu = column("n", "bigint", "bigint(20) unsigned", NULL);
    lm_column bin = column("a", "binary", "binary(16)", NULL);

    (void)state;
    assert_string_equal(expr(&l, &u), "IFNULL(HEX(CONVERT(`a` USING utf8mb4)), 'N')");
    assert_string_equal(expr(&l, &ch),
                        "IFNULL(HEX(TRIM(TRAILING ' ' FROM CONVERT(`a` USING utf8mb4))), 'N')");
    assert_string_equal(expr(&d1, &d2), "IFNULL(CAST(`d` AS DECIMAL(14,4)), 'N')");
    assert_string_equal(expr(&t3, &t6), "IFNULL(CAST(`t` AS DATETIME(6)), 'N')");
    assert_string_equal(expr(&i, &bu), "IFNULL(CAST(`n` AS UNSIGNED), 'N')");
    assert_string_equal(expr(&l, &bin), "IFNULL(HEX(CAST(`a` AS BINARY(16))), 'N')");
}

static void test_set_members(void **state)
{
    lm_column s1 = column("s", "set", "set('x','y')", "utf8mb4");
    lm_column s2 = column("s", "set", "set('y','x''q')", "utf8mb4");

    (void)state;
    /* Members in the target's order, as hex literals: 'y' = 79, 'x''q' = 782771. */
    assert_string_equal(expr(&s1, &s2),
                        "IFNULL(HEX(IF((`s`) IS NULL, NULL, CONCAT_WS(',', "
                        "IF(FIND_IN_SET(_utf8mb4 X'79', CONVERT((`s`) USING utf8mb4)), "
                        "_utf8mb4 X'79', NULL), "
                        "IF(FIND_IN_SET(_utf8mb4 X'782771', CONVERT((`s`) USING utf8mb4)), "
                        "_utf8mb4 X'782771', NULL)))), 'N')");
}

/* The row hash and the chunk checksum: one SHA1 per row, 64 bits of it
 * XORed (the diff hashes rows with the same lm_vx_row_hash). */
static void test_checksum(void **state)
{
    lm_column sc[2] = {column("id", "int", "int(11)", NULL),
                       column("v", "varchar", "varchar(10)", "latin1")};
    lm_column dc[2] = {column("id", "int", "int(11)", NULL),
                       column("v", "varchar", "varchar(20)", "utf8mb4")};
    unsigned key = 0;
    lm_table_def src = {.name = "t", .ncols = 2, .cols = sc, .nkey = 1, .key_cols = &key};
    lm_table_def dst = {.name = "_t_new", .ncols = 2, .cols = dc};
    lm_colpair map[2] = {{0, 0}, {1, 1}};
    lm_plan p = {.src = &src, .dst = &dst, .nmap = 2, .map = map};
    lm_buf b = LM_BUF_INIT;

    (void)state;
    assert_int_equal(lm_vx_checksum(&b, &p, true), 0);
    assert_string_equal(b.data, "SELECT COUNT(*), IFNULL(BIT_XOR(CAST(CONV(LEFT(SHA1("
                                "CONCAT_WS('#', IFNULL(`id`, 'N'), "
                                "IFNULL(HEX(CONVERT(`v` USING utf8mb4)), 'N'))), 16), 16, 10) "
                                "AS UNSIGNED)), 0)");
    lm_buf_reset(&b);
    assert_int_equal(lm_vx_row_hash(&b, &p, false), 0);
    assert_string_equal(b.data, "SHA1(CONCAT_WS('#', IFNULL(`id`, 'N'), IFNULL(HEX(`v`), 'N')))");
    lm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_type),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_set_members),
        cmocka_unit_test(test_checksum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
