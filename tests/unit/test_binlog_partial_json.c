/* MySQL PARTIAL_UPDATE_ROWS (binlog_row_value_options=PARTIAL_JSON): the
 * JSON diffs of an after image applied to the before image (REPLACE,
 * INSERT, REMOVE; member, cell, [last-N] and quoted paths), diffs that do
 * not apply, and malformed diffs. Rows and the seed binlog are in
 * test_binlog_partial_rows.c; the builders in partial_json_build.h. */
#include "partial_json_build.h"

static void test_replace_scalar(void **state)
{
    ctx *c = *state;
    wb d;

    wdiff(D(d), OP_REPLACE, "$.a", "2");
    one(c, "{\"a\": 1, \"b\": \"x\"}", &d, "{\"a\": 2, \"b\": \"x\"}");
    /* Another type, an int32 (stored by offset), several diffs in order. */
    wdiff(D(d), OP_REPLACE, "$.b", "[1, {\"c\": null}]");
    wdiff(&d, OP_REPLACE, "$.a", "100000");
    wdiff(&d, OP_REPLACE, "$.b[1].c", "false");
    one(c, "{\"a\": 1, \"b\": \"x\"}", &d, "{\"a\": 100000, \"b\": [1, {\"c\": false}]}");
    /* No diffs at all: the document is unchanged. */
    one(c, "{\"a\": 1}", D(d), "{\"a\": 1}");
}

static void test_insert_object(void **state)
{
    ctx *c = *state;
    wb d;

    /* Keys land where the server's binary order puts them: shorter
     * first, then bytewise. */
    wdiff(D(d), OP_INSERT, "$.c", "\"z\"");
    wdiff(&d, OP_INSERT, "$.bb", "true");
    wdiff(&d, OP_INSERT, "$.b", "5");
    wdiff(&d, OP_INSERT, "$.A", "null");
    one(c, "{\"a\": 1}", &d, "{\"A\": null, \"a\": 1, \"b\": 5, \"c\": \"z\", \"bb\": true}");
    /* Into an empty object, and into a value inserted by an earlier diff. */
    wdiff(D(d), OP_INSERT, "$.n", "{}");
    wdiff(&d, OP_INSERT, "$.n.m", "[1]");
    wdiff(&d, OP_INSERT, "$.n.m[5]", "2");
    one(c, "{}", &d, "{\"n\": {\"m\": [1, 2]}}");
}

static void test_insert_array(void **state)
{
    ctx *c = *state;
    wb d;

    wdiff(D(d), OP_INSERT, "$.l[1]", "9");
    wdiff(&d, OP_INSERT, "$.l[100]", "7");  /* past the end: appended */
    wdiff(&d, OP_INSERT, "$.l[last]", "8"); /* before the last cell */
    one(c, "{\"l\": [1, 2, 3]}", &d, "{\"l\": [1, 9, 2, 3, 8, 7]}");
    wdiff(D(d), OP_INSERT, "$[0]", "\"first\"");
    wdiff(&d, OP_INSERT, " $ [ last - 9 ] ", "0"); /* before the start: at 0 */
    one(c, "[1]", &d, "[0, \"first\", 1]");
}

static void test_remove(void **state)
{
    ctx *c = *state;
    wb d;

    wdiff(D(d), OP_REMOVE, "$.a", NULL);
    wdiff(&d, OP_REMOVE, "$.l[0]", NULL);
    wdiff(&d, OP_REMOVE, "$.l[last]", NULL);
    wdiff(&d, OP_REMOVE, "$.o.x", NULL);
    one(c, "{\"a\": 1, \"l\": [1, 2, 3], \"o\": {\"x\": 1}}", &d, "{\"l\": [2], \"o\": {}}");
}

static void test_nested_paths(void **state)
{
    ctx *c = *state;
    wb d;

    wdiff(D(d), OP_REPLACE, "$.o.p[0].q", "[true, null]");
    wdiff(&d, OP_REPLACE, "$.\"k y\"", "\"s\"");
    wdiff(&d, OP_INSERT, "$.o.\"p\"[last-1]", "0");
    wdiff(&d, OP_INSERT, "$.\"\\u00e9\"", "1");
    wdiff(&d, OP_REPLACE, "$.o.p[3].r[0]", "-3");
    one(c, "{\"o\": {\"p\": [{\"q\": 1}, 2, {\"r\": [5]}]}, \"k y\": 1}", &d,
        "{\"o\": {\"p\": [{\"q\": [true, null]}, 0, 2, {\"r\": [-3]}]}, \"\xc3\xa9\": 1, "
        "\"k y\": \"s\"}");
}

/* Several rows, partial and full JSON columns side by side, a NULL after
 * value, and a row whose value_options is 0 (no partial bits). */
static void test_not_applicable(void **state)
{
    ctx *c = *state;
    static const struct {
        int op;
        const char *path, *value;
    } bad[] = {
        {OP_REPLACE, "$.zz", "1"},  {OP_INSERT, "$.a", "1"},     {OP_REMOVE, "$[0]", NULL},
        {OP_REPLACE, "$.a.b", "1"}, {OP_REPLACE, "$", "1"},      {OP_REMOVE, "$.l[5]", NULL},
        {OP_INSERT, "$.l.x", "1"},  {OP_REPLACE, "$.l[3]", "1"}, {OP_REMOVE, "$.l[last-3]", NULL},
        {OP_INSERT, "$.q.r", "1"},  {OP_INSERT, "$.a[0]", "1"},
    };
    const char *doc = "{\"a\": 1, \"l\": [1, 2, 3]}";
    wb d;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wdiff(D(d), bad[i].op, bad[i].path, bad[i].value);
        one_err(c, doc, &d, LM_ECORRUPT, "does not apply to the before image");
    }
}

static void test_malformed(void **state)
{
    ctx *c = *state;
    static const char *const paths[] = {
        "",
        "a",
        "$.",
        "$.*",
        "$[*]",
        "$**.a",
        "$[1 to 2]",
        "$[",
        "$[x]",
        "$.\"a",
        "$.\"\\ud800\"",
        "$.\"\\q\"",
        "$[1",
        "$[last-]",
        "$a",
        "$.a]",
        "$[99999999999999999999999]",
        "$.a\"b",
        "$.\"\\u12\"",
        "$[-1]",
    };
    char deep[512] = "$";
    wb d;
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        wdiff(D(d), OP_REMOVE, paths[i], NULL);
        one_err(c, "{\"a\": [1]}", &d, LM_ECORRUPT, "bad path");
    }
    for (i = 0; i < 101; i++)
        strcat(deep, "[0]");
    wdiff(D(d), OP_REMOVE, deep, NULL);
    one_err(c, "[1]", &d, LM_ECORRUPT, "bad path");
    /* A NUL inside a member name. */
    d.n = 0;
    w8(&d, OP_REMOVE);
    w8(&d, 4);
    wmem(&d, "$.a\0", 4);
    one_err(c, "{\"a\": 1}", &d, LM_ECORRUPT, "bad path '$.a?'");
    /* Unknown operation. */
    wdiff(D(d), 3, "$.a", NULL);
    one_err(c, "{\"a\": 1}", &d, LM_ECORRUPT, "unknown operation 3");
    /* Path length past the end, also as a cut lenenc. */
    d.n = 0;
    w8(&d, OP_REMOVE);
    w8(&d, 50);
    wmem(&d, "$.a", 3);
    one_err(c, "{\"a\": 1}", &d, LM_ECORRUPT, "path length runs past");
    d.n = 0;
    w8(&d, OP_REMOVE);
    w8(&d, 0xFC);
    w8(&d, 1);
    one_err(c, "{\"a\": 1}", &d, LM_ECORRUPT, "path length runs past");
    /* Value length past the end, zero, or missing. */
    d.n = 0;
    w8(&d, OP_REPLACE);
    w8(&d, 3);
    wmem(&d, "$.a", 3);
    w8(&d, 20);
    w8(&d, 5);
    w8(&d, 1);
    one_err(c, "{\"a\": 1}", &d, LM_ECORRUPT, "value length runs past");
    d.b[5] = 0;
    d.n = 6;
    one_err(c, "{\"a\": 1}", &d, LM_ECORRUPT, "value length runs past");
    d.n = 5;
    one_err(c, "{\"a\": 1}", &d, LM_ECORRUPT, "value length runs past");
    /* A value whose binary JSON is cut: found when printed or opened. */
    d.b[5] = 2;
    d.b[6] = 2;
    d.b[7] = 5;
    d.n = 8;
    one_err(c, "{\"a\": 1}", &d, LM_ECORRUPT, "malformed MySQL binary JSON value");
    w8(&d, OP_INSERT);
    w8(&d, 5);
    wmem(&d, "$.a.x", 5);
    w8(&d, 1);
    w8(&d, 4);
    one_err(c, "{\"a\": 1}", &d, LM_ECORRUPT, "malformed MySQL binary JSON");
}

/* Row-level damage: diff vector length, value_options, partial bits. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replace_scalar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_array, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_applicable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
