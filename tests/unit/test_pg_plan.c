/* The PostgreSQL engine's column mapping: by position (LIKE copies the live
 * columns in order, the ALTER keeps what it keeps), generated columns left
 * to the new table, and the key must survive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pg/internal.h"

#include <string.h>

static void col(lm_pg_col *c, const char *name, const char *type, int attnum)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->name, name);
    strcpy(c->type, type);
    c->attnum = attnum;
    c->to = -1;
}

static void test_map_rename_drop_retype_add(void **state)
{
    lm_pg_col src[4], dst[4];
    lm_pg_plan p;
    lm_err err = LM_ERR_INIT;

    (void)state;
    memset(&p, 0, sizeof(p));
    /* The source had a dropped column once: its attnums have a gap. */
    col(&src[0], "id", "integer", 1);
    col(&src[1], "name", "text", 3);
    col(&src[2], "qty", "integer", 4);
    col(&src[3], "legacy", "text", 5);
    /* Shadow: name renamed to title, qty retyped, legacy dropped, note added. */
    col(&dst[0], "id", "integer", 1);
    col(&dst[1], "title", "text", 2);
    col(&dst[2], "qty", "bigint", 3);
    col(&dst[3], "note", "text", 5);
    p.src.cols = src;
    p.src.ncols = 4;
    p.src.key[0] = 0;
    p.src.nkey = 1;
    p.shadow.cols = dst;
    p.shadow.ncols = 4;
    assert_int_equal(lm_pg_plan_map(&p, &err), 0);
    assert_string_equal(lm_pg_mapped(&p, 0)->name, "id");
    assert_string_equal(lm_pg_mapped(&p, 1)->name, "title");
    assert_false(src[1].retyped);
    assert_string_equal(lm_pg_mapped(&p, 2)->name, "qty");
    assert_true(src[2].retyped);
    assert_null(lm_pg_mapped(&p, 3));
    assert_false(p.overriding);
}

static void test_generated_and_identity(void **state)
{
    lm_pg_col src[2], dst[2];
    lm_pg_plan p;
    lm_err err = LM_ERR_INIT;

    (void)state;
    memset(&p, 0, sizeof(p));
    col(&src[0], "id", "bigint", 1);
    col(&src[1], "twice", "bigint", 2);
    src[1].generated = true;
    col(&dst[0], "id", "bigint", 1);
    dst[0].identity = 'a';
    col(&dst[1], "twice", "bigint", 2);
    dst[1].generated = true;
    p.src.cols = src;
    p.src.ncols = 2;
    p.src.nkey = 1;
    p.shadow.cols = dst;
    p.shadow.ncols = 2;
    assert_int_equal(lm_pg_plan_map(&p, &err), 0);
    assert_non_null(lm_pg_mapped(&p, 0));
    assert_null(lm_pg_mapped(&p, 1)); /* computed by the new table */
    assert_true(p.overriding);        /* GENERATED ALWAYS needs OVERRIDING */
}

static void test_key_dropped_refused(void **state)
{
    lm_pg_col src[2], dst[1];
    lm_pg_plan p;
    lm_err err = LM_ERR_INIT;

    (void)state;
    memset(&p, 0, sizeof(p));
    col(&src[0], "id", "integer", 1);
    col(&src[1], "v", "text", 2);
    col(&dst[0], "v", "text", 2);
    p.src.cols = src;
    p.src.ncols = 2;
    p.src.nkey = 1;
    p.shadow.cols = dst;
    p.shadow.ncols = 1;
    assert_int_equal(lm_pg_plan_map(&p, &err), LM_EINVAL);
    assert_non_null(strstr(err.msg, "drops key column id"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_rename_drop_retype_add),
        cmocka_unit_test(test_generated_and_identity),
        cmocka_unit_test(test_key_dropped_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
