/* DSN parsing and redaction: the password must never leak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "livemig/dsn.h"

#include <stdlib.h>
#include <string.h>

static void test_full_mysql(void **state)
{
    lm_dsn d;
    lm_err err = LM_ERR_INIT;

    assert_int_equal(lm_dsn_parse(&d, "mysql://app:s%40c:r%2Fet@db.example:3307/shop", &err), 0);
    assert_int_equal(d.kind, LM_DSN_MYSQL);
    assert_string_equal(d.user, "app");
    assert_string_equal(d.password, "s@c:r/et");
    assert_string_equal(d.host, "db.example");
    assert_int_equal(d.port, 3307);
    assert_string_equal(d.db, "shop");
    assert_null(d.socket);
    lm_dsn_free(&d);
}

static void test_minimal_and_socket(void **state)
{
    lm_dsn d;
    lm_err err = LM_ERR_INIT;

    assert_int_equal(lm_dsn_parse(&d, "MariaDB://root@localhost/app?socket=%2Ftmp%2Fmy.sock", &err),
                     0);
    assert_string_equal(d.user, "root");
    assert_null(d.password);
    assert_int_equal(d.port, 0);
    assert_string_equal(d.socket, "/tmp/my.sock");
    assert_string_equal(d.db, "app");
    lm_dsn_free(&d);

    assert_int_equal(lm_dsn_parse(&d, "mysql://[::1]:3310/x", &err), 0);
    assert_null(d.user);
    assert_string_equal(d.host, "::1");
    assert_int_equal(d.port, 3310);
    lm_dsn_free(&d);
}

static void test_pg_kept_whole(void **state)
{
    lm_dsn d;
    lm_err err = LM_ERR_INIT;
    const char *u = "postgresql://u:pw@h/db?sslmode=require";
    char *r;

    assert_int_equal(lm_dsn_parse(&d, u, &err), 0);
    assert_int_equal(d.kind, LM_DSN_PG);
    assert_string_equal(d.uri, u);
    r = lm_dsn_redacted(&d);
    assert_string_equal(r, "postgresql://u:***@h/db?sslmode=require");
    free(r);
    lm_dsn_free(&d);
}

static void test_errors(void **state)
{
    lm_dsn d;
    lm_err err = LM_ERR_INIT;

    assert_int_equal(lm_dsn_parse(&d, "mysql://u@h", &err), LM_EINVAL);
    assert_non_null(strstr(err.msg, "the DSN names no database"));
    lm_err_clear(&err);
    assert_int_equal(lm_dsn_parse(&d, "mysql://u@h:99999/db", &err), LM_EINVAL);
    lm_err_clear(&err);
    assert_int_equal(lm_dsn_parse(&d, "mysql://u:%zz@h/db", &err), LM_EINVAL);
    lm_err_clear(&err);
    assert_int_equal(lm_dsn_parse(&d, "mysql://u@h/db?bogus=1", &err), LM_EINVAL);
    lm_err_clear(&err);
    assert_int_equal(lm_dsn_parse(&d, "oracle://u@h/db", &err), LM_EINVAL);
}

static void test_redacted(void **state)
{
    lm_dsn d;
    lm_err err = LM_ERR_INIT;
    char *r;

    assert_int_equal(lm_dsn_parse(&d, "mysql://app:hunter2@h:1/db?socket=/s", &err), 0);
    r = lm_dsn_redacted(&d);
    assert_string_equal(r, "mysql://app:***@h:1/db?socket=/s");
    assert_null(strstr(r, "hunter2"));
    free(r);
    lm_dsn_free(&d);
    assert_int_equal(lm_dsn_parse(&d, "mysql://app@h/db", &err), 0);
    r = lm_dsn_redacted(&d);
    assert_string_equal(r, "mysql://app@h/db");
    free(r);
    lm_dsn_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_mysql),    cmocka_unit_test(test_minimal_and_socket),
        cmocka_unit_test(test_pg_kept_whole), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_redacted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
