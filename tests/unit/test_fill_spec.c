/* --fill-from specs: the grammar, either order of the join, renames,
 * quoting, and one clear refusal per mistake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "livemig/err.h"
#include "livemig/plan.h"

#include <string.h>

static void test_patchwork(void **state)
{
    lm_fill_spec s;
    lm_err err = LM_ERR_INIT;

    (void)state;
    assert_int_equal(lm_fill_spec_parse("patchwork_patch ON patchwork_patch.submission_ptr_id = "
                                        "patchwork_submission.id: diff, pull_url",
                                        "patchwork_submission", &s, &err),
                     0);
    assert_string_equal(s.child, "patchwork_patch");
    assert_string_equal(s.join_col, "submission_ptr_id");
    assert_string_equal(s.parent_col, "id");
    assert_int_equal(s.ncols, 2);
    assert_string_equal(s.from[0], "diff");
    assert_string_equal(s.to[0], "diff");
    assert_string_equal(s.from[1], "pull_url");
    assert_string_equal(s.to[1], "pull_url");
    lm_fill_spec_free(&s);
}

static void test_reversed_quoted_renamed(void **state)
{
    lm_fill_spec s;
    lm_err err = LM_ERR_INIT;

    (void)state;
    assert_int_equal(lm_fill_spec_parse("`my child` on t.`id`=`my child`.`pa``rent`:"
                                        "a AS b,`c d` as `e`",
                                        "t", &s, &err),
                     0);
    assert_string_equal(s.child, "my child");
    assert_string_equal(s.join_col, "pa`rent");
    assert_string_equal(s.parent_col, "id");
    assert_int_equal(s.ncols, 2);
    assert_string_equal(s.from[0], "a");
    assert_string_equal(s.to[0], "b");
    assert_string_equal(s.from[1], "c d");
    assert_string_equal(s.to[1], "e");
    lm_fill_spec_free(&s);
}

static void refused(const char *spec, const char *words)
{
    lm_fill_spec s;
    lm_err err = LM_ERR_INIT;

    assert_int_equal(lm_fill_spec_parse(spec, "t", &s, &err), LM_EINVAL);
    if (strstr(err.msg, words) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", spec, err.msg, words);
    assert_null(s.child);
    assert_int_equal(s.ncols, 0);
}

static void test_refusals(void **state)
{
    (void)state;
    refused("", "the child table expected");
    refused("c", "ON expected");
    refused("c ON pid = t.id: a", "TABLE.COLUMN");
    refused("c ON c.pid > t.id: a", "one equality");
    refused("c ON c.pid = t.id a", "':'");
    refused("c ON c.pid = t.id:", "a column of the child table expected");
    refused("c ON c.pid = x.id: a", "must compare a column of c with a column of t");
    refused("t ON t.pid = t.id: a", "cannot fill itself");
    refused("c ON c.pid = t.id: a b", "unexpected text");
    refused("c ON c.pid = t.id: a AS", "a column name after AS expected");
    refused("`c ON c.pid = t.id: a", "unterminated");
}

static void test_temp_name(void **state)
{
    char out[80];
    char longname[70];

    (void)state;
    lm_fk_temp_name(out, sizeof(out), "fk_a");
    assert_string_equal(out, "_fk_a");
    memset(longname, 'x', 64);
    longname[64] = '\0';
    lm_fk_temp_name(out, sizeof(out), longname);
    assert_int_equal(strlen(out), 64);
    assert_int_equal(out[0], '_');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patchwork),
        cmocka_unit_test(test_reversed_quoted_renamed),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_temp_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
