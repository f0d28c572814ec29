/* Column mapping from the ALTER text: renames, drops, and the refusal to
 * lose a column silently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "livemig/plan.h"
#include "mysql/internal.h"

#include <stdlib.h>
#include <string.h>

static void test_renames(void **state)
{
    lm_rename *r;
    size_t n;
    lm_err err = LM_ERR_INIT;

    assert_int_equal(
        lm_alter_renames("ADD COLUMN x INT DEFAULT 1 COMMENT 'CHANGE a b, c', "
                         "change column `we``ird` `new name` VARCHAR(10) "
                         "DEFAULT 'x,y', MODIFY z ENUM('a','b'), "
                         "Rename Column IF EXISTS q TO `r`, RENAME INDEX i1 TO i2, "
                         "CHANGE IF EXISTS old1 new1 DECIMAL(10, 2) /* , CHANGE p q */",
                         &r, &n, &err),
        0);
    assert_int_equal(n, 3);
    assert_string_equal(r[0].from, "we`ird");
    assert_string_equal(r[0].to, "new name");
    assert_string_equal(r[1].from, "q");
    assert_string_equal(r[1].to, "r");
    assert_string_equal(r[2].from, "old1");
    assert_string_equal(r[2].to, "new1");
    lm_renames_free(r, n);
}

static void test_refusals(void **state)
{
    lm_rename *r;
    size_t n;
    lm_err err = LM_ERR_INIT;

    assert_int_equal(lm_alter_renames("ADD x INT, RENAME TO other", &r, &n, &err), LM_EINVAL);
    lm_err_clear(&err);
    assert_int_equal(lm_alter_renames("RENAME AS other", &r, &n, &err), LM_EINVAL);
    lm_err_clear(&err);
    assert_int_equal(lm_alter_renames("ADD x INT; DROP TABLE t", &r, &n, &err), LM_EINVAL);
    lm_err_clear(&err);
    assert_int_equal(lm_alter_renames("ADD x INT COMMENT 'oops", &r, &n, &err), LM_EINVAL);
    lm_err_clear(&err);
    /* A trailing ';' alone is fine. */
    assert_int_equal(lm_alter_renames("ADD x INT;  ", &r, &n, &err), 0);
    assert_int_equal(n, 0);
    lm_renames_free(r, n);
}

static void test_drops(void **state)
{
    char **d;
    size_t n;
    lm_err err = LM_ERR_INIT;

    assert_int_equal(lm_alter_drops("DROP COLUMN a, DROP INDEX i, drop b, DROP PRIMARY KEY, "
                                    "DROP FOREIGN KEY f, DROP COLUMN IF EXISTS `c`, "
                                    "DROP CONSTRAINT k, DROP CHECK ch",
                                    &d, &n, &err),
                     0);
    assert_int_equal(n, 3);
    assert_string_equal(d[0], "a");
    assert_string_equal(d[1], "b");
    assert_string_equal(d[2], "c");
    lm_names_free(d, n);
}

static lm_table_def *table(const char *names[], size_t n)
{
    lm_table_def *t = calloc(1, sizeof(*t));
    t->name = strdup("t");
    t->db = strdup("db");
    t->cols = calloc(n, sizeof(lm_column));
    t->ncols = n;
    for (size_t i = 0; i < n; i++) {
        t->cols[i].name = strdup(names[i]);
        t->cols[i].column_type = strdup("int(11)");
        t->cols[i].data_type = strdup("int");
        t->cols[i].ordinal = (unsigned)i;
    }
    return t;
}

static void test_map(void **state)
{
    const char *s[] = {"id", "a", "b", "c", "d"};
    const char *d[] = {"id", "b", "A2", "e", "c"};
    lm_table_def *src = table(s, 5), *dst = table(d, 5);
    lm_colpair *m;
    size_t n;
    lm_err err = LM_ERR_INIT;

    /* a renamed, d dropped, e added, c and b kept (order changed). */
    assert_int_equal(lm_alter_map(src, dst,
                                  "CHANGE a a2 INT, DROP d, ADD e INT, MODIFY c INT "
                                  "AFTER e",
                                  &m, &n, &err),
                     0);
    assert_int_equal(n, 4);
    assert_int_equal(m[0].src, 0);
    assert_int_equal(m[0].dst, 0);
    assert_int_equal(m[1].src, 2); /* b */
    assert_int_equal(m[1].dst, 1);
    assert_int_equal(m[2].src, 1); /* a -> A2 (case-insensitive) */
    assert_int_equal(m[2].dst, 2);
    assert_int_equal(m[3].src, 3); /* c */
    assert_int_equal(m[3].dst, 4);
    free(m);

    /* d vanished without an explicit DROP: refused, never silently lost. */
    assert_int_equal(lm_alter_map(src, dst, "CHANGE a a2 INT, ADD e INT", &m, &n, &err), LM_EINVAL);
    assert_non_null(strstr(err.msg, "column d"));
    lm_table_def_free(src);
    lm_table_def_free(dst);
}

static void test_map_swap_and_generated(void **state)
{
    const char *s[] = {"id", "a", "b", "g"};
    const char *d[] = {"id", "b", "a", "g"};
    lm_table_def *src = table(s, 4), *dst = table(d, 4);
    lm_colpair *m;
    size_t n;
    lm_err err = LM_ERR_INIT;

    src->cols[3].generated = true;
    dst->cols[3].generated = true;
    /* Swapped names: values follow the rename, not the name. */
    assert_int_equal(lm_alter_map(src, dst, "CHANGE a b INT, CHANGE b a INT", &m, &n, &err), 0);
    assert_int_equal(n, 3); /* the generated column is never written */
    assert_int_equal(m[1].src, 1);
    assert_int_equal(m[1].dst, 1);
    assert_int_equal(m[2].src, 2);
    assert_int_equal(m[2].dst, 2);
    free(m);
    lm_table_def_free(src);
    lm_table_def_free(dst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_renames),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_drops),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_map_swap_and_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
