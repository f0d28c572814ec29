/* MySQL PARTIAL_UPDATE_ROWS rows: several rows with partial and full JSON
 * columns, value_options 0, NULL and missing before images, damaged row
 * data, and the seed binlog tests/unit/data/mysql-partial-json.000001
 * (fuzz corpus, see tests/fuzz/run.sh; LIVEMIG_WRITE_SEED=path rewrites
 * it from the builders in partial_json_build.h). */
#include "partial_json_build.h"

static void test_rows_mixed(void **state)
{
    ctx *c = *state;
    wb w = {{0}, 0}, d1, d2;
    lm_row b, a;

    start(c);
    rows_header(&w, 0x07);
    wdiff(D(d1), OP_REPLACE, "$.v", "2");
    wdiff(D(d2), OP_INSERT, "$[1]", "\"k\"");
    row(&w, 1, "{\"v\": 1}", "[0]", (jcol){NULL, &d1, NULL}, (jcol){"{\"z\": [1]}", NULL, NULL});
    row(&w, 2, "[1]", "[0]", (jcol){"[9]", NULL, NULL}, (jcol){NULL, &d2, NULL});
    row(&w, 3, "{\"v\": 1}", "[0]", (jcol){NULL, &d1, NULL}, (jcol){NULL, NULL, NULL});
    image(&w, 4, (jcol){"1", NULL, NULL}, (jcol){NULL, NULL, NULL});
    w8(&w, 0);
    image(&w, 4, (jcol){"\"s\"", NULL, NULL}, (jcol){"true", NULL, NULL});
    assert_int_equal(feed(c, LM_BL_PARTIAL_UPDATE_ROWS, w.b, w.n), 1);
    assert_int_equal(lm_binlog_rows_next(c->d, &b, &a, &c->err), 1);
    want_json(&a.cols[1], "{\"v\": 2}");
    want_json(&a.cols[2], "{\"z\": [1]}");
    assert_int_equal(lm_binlog_rows_next(c->d, &b, &a, &c->err), 1);
    assert_int_equal(a.cols[0].i, 2);
    want_json(&a.cols[1], "[9]");
    want_json(&a.cols[2], "[0, \"k\"]");
    want_json(&b.cols[2], "[0]");
    assert_int_equal(lm_binlog_rows_next(c->d, &b, &a, &c->err), 1);
    want_json(&a.cols[1], "{\"v\": 2}");
    assert_int_equal(a.cols[2].kind, LM_VAL_NULL);
    assert_int_equal(lm_binlog_rows_next(c->d, &b, &a, &c->err), 1);
    assert_int_equal(a.cols[0].i, 4);
    want_json(&b.cols[1], "1");
    want_json(&a.cols[1], "\"s\"");
    want_json(&a.cols[2], "true");
    assert_int_equal(lm_binlog_rows_next(c->d, &b, &a, &c->err), 0);
}

static void test_before_missing(void **state)
{
    ctx *c = *state;
    wb w = {{0}, 0}, d;
    lm_row b, a;

    wdiff(D(d), OP_REPLACE, "$.v", "2");
    one_err(c, NULL, &d, LM_ECORRUPT, "JSON diffs for a NULL before value");
    /* binlog_row_image=MINIMAL: the before image has the key only. */
    start(c);
    rows_header(&w, 0x01);
    w8(&w, 0);
    wle(&w, 1, 4);
    w8(&w, 1);
    w8(&w, 1);
    image(&w, 1, (jcol){NULL, &d, NULL}, (jcol){"[]", NULL, NULL});
    assert_int_equal(feed(c, LM_BL_PARTIAL_UPDATE_ROWS, w.b, w.n), 1);
    assert_int_equal(lm_binlog_rows_next(c->d, &b, &a, &c->err), LM_EFAIL);
    assert_non_null(strstr(c->err.msg, "binlog.000042:1000: db.t column 2 (j)"));
    assert_non_null(strstr(c->err.msg, "binlog_row_image=FULL"));
}

static void test_malformed_row(void **state)
{
    ctx *c = *state;
    wb w = {{0}, 0}, raw = {{0}, 0};
    lm_row b, a;
    static const struct {
        const char *bytes; /* after the before image */
        size_t n;
        const char *msg;
    } cut[] = {
        {"\x01\x01\x04\x01\x00\x00\x00\x05\x00", 9, "JSON diffs run past"},
        {"\x01\x01\x04\x01\x00\x00\x00\xff\x00\x00\x00\x00", 12, "JSON diffs run past"},
        {"\x02\x01", 2, "bad value_options"},
        {"\xfb", 1, "bad value_options"},
        {"\x01", 1, "is truncated"},
    };
    size_t i;

    for (i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
        start(c);
        w.n = 0;
        rows_header(&w, 0x07);
        image(&w, 1, (jcol){"[1]", NULL, NULL}, (jcol){"[]", NULL, NULL});
        wmem(&w, cut[i].bytes, cut[i].n);
        assert_int_equal(feed(c, LM_BL_PARTIAL_UPDATE_ROWS, w.b, w.n), 1);
        assert_int_equal(lm_binlog_rows_next(c->d, &b, &a, &c->err), LM_ECORRUPT);
        if (strstr(c->err.msg, "binlog.000042:1000: ") != c->err.msg ||
            strstr(c->err.msg, cut[i].msg) == NULL)
            fail_msg("case %zu: message '%s'", i, c->err.msg);
        assert_int_equal(lm_binlog_rows_next(c->d, &b, &a, &c->err), 0);
    }
    (void)raw;
}

/* The seed binlog: FDE, TABLE_MAP, one PARTIAL_UPDATE_ROWS of two rows,
 * XID, as a MySQL 8.0 server with PARTIAL_JSON would write them. */
static size_t seed_file(ctx *c, uint8_t *out)
{
    wb w = {{0}, 0}, d1, d2;
    uint8_t *e;
    size_t n = 4, len;
    int i;

    memcpy(out,
           "\xfe"
           "bin",
           4);
    c->pos = 4;
    c->crc = true;
    for (i = 0; i < 4; i++) {
        uint8_t type = i == 0   ? LM_BL_FORMAT_DESCRIPTION
                       : i == 1 ? LM_BL_TABLE_MAP
                       : i == 2 ? LM_BL_PARTIAL_UPDATE_ROWS
                                : LM_BL_XID;
        w.n = 0;
        if (i == 0)
            fde(&w, true);
        else if (i == 1)
            table_map(&w);
        else if (i == 3)
            wle(&w, 77, 8);
        else {
            rows_header(&w, 0x07);
            wdiff(D(d1), OP_REPLACE, "$.name", "\"new\"");
            wdiff(&d1, OP_INSERT, "$.tags[0]", "\"x\"");
            wdiff(&d1, OP_REMOVE, "$.old", NULL);
            wdiff(D(d2), OP_INSERT, "$.\"a b\"", "{\"n\": [1, 2]}");
            row(&w, 1, "{\"old\": true, \"name\": \"n\", \"tags\": []}", "{}",
                (jcol){NULL, &d1, NULL}, (jcol){NULL, &d2, NULL});
            row(&w, 2, "[1, 2]", "{}", (jcol){"[3]", NULL, NULL}, (jcol){NULL, &d2, NULL});
        }
        e = mkev(c, type, w.b, w.n, &len);
        memcpy(out + n, e, len);
        n += len;
        free(e);
    }
    return n;
}

static void test_seed_file(void **state)
{
    ctx *c = *state;
    static uint8_t built[8192];
    size_t n = seed_file(c, built), len;
    const char *dst = getenv("LIVEMIG_WRITE_SEED");
    lm_binlog_file *f = NULL;
    const uint8_t *data;
    lm_row b, a;
    int rc, rows = 0;

    if (dst) {
        FILE *o = fopen(dst, "wb");
        assert_non_null(o);
        assert_int_equal(fwrite(built, 1, n, o), n);
        fclose(o);
    }
    assert_int_equal(
        lm_binlog_file_open(&f, LIVEMIG_TEST_DATA "/mysql-partial-json.000001", &c->err), 0);
    lm_binlog_decoder_set_file(c->d, "mysql-partial-json.000001", 4);
    while ((rc = lm_binlog_file_read(f, &data, &len, &c->err)) == 1) {
        assert_int_equal(lm_binlog_feed(c->d, data, len, &c->err), 0);
        while ((rc = lm_binlog_next(c->d, &c->ev, &c->err)) == 1) {
            if (c->ev.hdr.type != LM_BL_PARTIAL_UPDATE_ROWS)
                continue;
            while ((rc = lm_binlog_rows_next(c->d, &b, &a, &c->err)) == 1) {
                if (rows++ == 0) {
                    want_json(&a.cols[1], "{\"name\": \"new\", \"tags\": [\"x\"]}");
                } else {
                    want_json(&b.cols[1], "[1, 2]");
                    want_json(&a.cols[1], "[3]");
                }
                want_json(&a.cols[2], "{\"a b\": {\"n\": [1, 2]}}");
            }
            assert_int_equal(rc, 0);
        }
        assert_int_equal(rc, 0);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(rows, 2);
    lm_binlog_file_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows_mixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_before_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
