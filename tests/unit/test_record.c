/* Recordings: transaction boundaries on raw events, the writer/reader
 * round trip, torn and corrupt frames (every whole transaction before the
 * damage, then one error naming the file and byte offset), table filters
 * and FILE:POS arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "livemig/buf.h"
#include "record/record.h"

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Append one event (no checksum) to b. */
static void ev(lm_buf *b, uint8_t type, const void *body, size_t blen)
{
    uint8_t h[19] = {0};
    put_le(h, 1700000000, 4);
    h[4] = type;
    put_le(h + 5, 1, 4);
    put_le(h + 9, 19 + blen, 4);
    lm_buf_append(b, h, 19);
    lm_buf_append(b, body, blen);
}

static void gtid(lm_buf *b, uint64_t seq, uint8_t flags)
{
    uint8_t body[13] = {0};
    put_le(body, seq, 8);
    body[12] = flags;
    ev(b, LM_BL_GTID_MARIADB, body, sizeof(body));
}

static void query(lm_buf *b, const char *q)
{
    uint8_t body[256] = {0};
    size_t n = strlen(q);
    body[8] = 4; /* db "test" */
    memcpy(body + 13, "test", 5);
    memcpy(body + 18, q, n);
    ev(b, LM_BL_QUERY, body, 18 + n);
}

static void tablemap(lm_buf *b, const char *db, const char *tbl)
{
    uint8_t body[64] = {0};
    size_t o = 8, n = strlen(db), m = strlen(tbl);
    body[o++] = (uint8_t)n;
    memcpy(body + o, db, n + 1);
    o += n + 1;
    body[o++] = (uint8_t)m;
    memcpy(body + o, tbl, m + 1);
    o += m + 1;
    ev(b, LM_BL_TABLE_MAP, body, o + 4);
}

static void xid(lm_buf *b)
{
    uint8_t body[8] = {1};
    ev(b, LM_BL_XID, body, sizeof(body));
}

/* Step over every event of b; count the boundaries. */
static int boundaries(const lm_buf *b)
{
    lm_rec_txn t = {0};
    size_t off = 0;
    int n = 0;
    while (off < b->len) {
        size_t size = (uint8_t)b->data[off + 9] | (size_t)(uint8_t)b->data[off + 10] << 8;
        n += lm_rec_txn_step(&t, (const uint8_t *)b->data + off, size);
        off += size;
    }
    return n;
}

static void test_txn_boundaries(void **state)
{
    lm_buf b = LM_BUF_INIT;
    (void)state;
    gtid(&b, 1, 0); /* MariaDB transaction: no BEGIN */
    tablemap(&b, "test", "t");
    xid(&b);
    assert_int_equal(boundaries(&b), 1);
    lm_buf_reset(&b);
    gtid(&b, 2, 1); /* standalone DDL */
    query(&b, "CREATE TABLE x (a int)");
    assert_int_equal(boundaries(&b), 1);
    lm_buf_reset(&b);
    query(&b, "BEGIN"); /* no GTID; non-transactional engine: COMMIT query */
    query(&b, "INSERT INTO m VALUES (1)");
    query(&b, "COMMIT");
    assert_int_equal(boundaries(&b), 1);
    lm_buf_reset(&b);
    gtid(&b, 3, 0);
    tablemap(&b, "test", "t"); /* no end: open */
    assert_int_equal(boundaries(&b), 0);
    lm_buf_free(&b);
}

static void test_tablemap_name(void **state)
{
    lm_buf b = LM_BUF_INIT;
    char db[64], tbl[64];
    (void)state;
    tablemap(&b, "app", "orders");
    assert_int_equal(
        lm_rec_tablemap_name((const uint8_t *)b.data, b.len, db, sizeof(db), tbl, sizeof(tbl)), 0);
    assert_string_equal(db, "app");
    assert_string_equal(tbl, "orders");
    assert_int_equal(
        lm_rec_tablemap_name((const uint8_t *)b.data, 25, db, sizeof(db), tbl, sizeof(tbl)), -1);
    lm_buf_free(&b);
}

/* A recording of ntrx transactions, one frame per `per` transactions. */
static void make_recording(const char *path, int ntrx, lm_buf *all)
{
    lm_rec_writer_opts o = {3, 1, 0, "source_file=mysql-bin.000007\nsource_pos=4\n"};
    lm_rec_writer *w;
    lm_err err = LM_ERR_INIT;
    lm_buf b = LM_BUF_INIT;

    assert_int_equal(lm_rec_writer_open(&w, path, &o, &err), 0);
    for (int i = 0; i < ntrx; i++) {
        lm_buf_reset(&b);
        gtid(&b, (uint64_t)i + 1, 0);
        tablemap(&b, "test", "t");
        for (int k = 0; k < i % 5; k++)
            query(&b, "SET @x = 'padding padding padding padding padding'");
        xid(&b);
        lm_buf_append(all, b.data, b.len);
        assert_int_equal(lm_rec_writer_put(w, (const uint8_t *)b.data, b.len, NULL, &err), 0);
        assert_int_equal(lm_rec_writer_boundary(w, false, &err), 0);
    }
    assert_int_equal(lm_rec_writer_close(w, &err), 0);
    lm_buf_free(&b);
}

/* Read all events; returns the status of the last read; *got = bytes. */
static int read_all(const char *path, lm_buf *got, lm_err *err)
{
    lm_rec_source *s;
    const uint8_t *d;
    size_t len;
    int rc;

    if ((rc = lm_rec_source_open(&s, path, err)) < 0)
        return rc;
    assert_true(lm_rec_source_is_recording(s));
    /* (empty when the header itself is torn) */
    if (lm_rec_source_file(s)[0])
        assert_string_equal(lm_rec_source_file(s), "mysql-bin.000007");
    while ((rc = lm_rec_source_read(s, &d, &len, err)) == 1)
        lm_buf_append(got, d, len);
    lm_rec_source_close(s);
    return rc;
}

static char path[64];

static void test_round_trip(void **state)
{
    lm_buf all = LM_BUF_INIT, got = LM_BUF_INIT;
    lm_err err = LM_ERR_INIT;
    (void)state;
    make_recording(path, 50, &all);
    assert_int_equal(read_all(path, &got, &err), 0);
    assert_int_equal(got.len, all.len);
    assert_memory_equal(got.data, all.data, all.len);
    lm_buf_free(&all);
    lm_buf_free(&got);
}

static long file_size(const char *p)
{
    FILE *f = fopen(p, "rb");
    long n;
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fclose(f);
    return n;
}

/* Truncated at every length: a prefix of whole transactions comes out,
 * and unless the cut is after the last frame, an error with the offset. */
static void test_torn(void **state)
{
    lm_buf all = LM_BUF_INIT, scratch = LM_BUF_INIT;
    long size;
    (void)state;
    make_recording(path, 12, &all);
    size = file_size(path);
    for (long cut = 4; cut < size; cut += 7) {
        lm_buf got = LM_BUF_INIT;
        lm_err err = LM_ERR_INIT;
        int rc;
        lm_buf_reset(&scratch);
        make_recording(path, 12, &scratch);
        assert_int_equal(truncate(path, cut), 0);
        rc = read_all(path, &got, &err);
        assert_true(got.len <= all.len);
        assert_memory_equal(got.data ? got.data : "", all.data, got.len);
        if (got.len)
            assert_int_equal((uint8_t)got.data[got.len - 8 - 19 + 4], LM_BL_XID);
        if (rc < 0) {
            assert_int_equal(rc, LM_ECORRUPT);
            if (strstr(err.msg, "at byte ") == NULL || strstr(err.msg, path) == NULL)
                fail_msg("cut %ld: %s", cut, err.msg);
        }
        lm_buf_free(&got);
    }
    lm_buf_free(&all);
    lm_buf_free(&scratch);
}

static void test_corrupt_frame(void **state)
{
    lm_buf all = LM_BUF_INIT, got = LM_BUF_INIT;
    lm_err err = LM_ERR_INIT;
    FILE *f;
    long size;
    int c;
    (void)state;
    make_recording(path, 30, &all);
    size = file_size(path);
    f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, size / 2, SEEK_SET);
    c = fgetc(f);
    fseek(f, size / 2, SEEK_SET);
    fputc(c ^ 0x5A, f);
    fclose(f);
    assert_true(read_all(path, &got, &err) < 0);
    assert_non_null(strstr(err.msg, "at byte "));
    assert_true(got.len < all.len);
    assert_memory_equal(got.data, all.data, got.len);
    lm_buf_free(&all);
    lm_buf_free(&got);
}

static void test_filter_and_pos(void **state)
{
    lm_rec_filter f = {0};
    lm_binlog_pos p;
    lm_err err = LM_ERR_INIT;
    (void)state;
    assert_true(lm_rec_filter_match(&f, "a", "b"));
    assert_int_equal(lm_rec_filter_parse(&f, "app.t1, app2.*,t3", &err), 0);
    assert_true(lm_rec_filter_match(&f, "app", "t1"));
    assert_false(lm_rec_filter_match(&f, "app", "t2"));
    assert_true(lm_rec_filter_match(&f, "app2", "zz"));
    assert_true(lm_rec_filter_match(&f, "other", "t3"));
    lm_rec_filter_free(&f);
    assert_int_equal(lm_rec_filter_parse(&f, "app.", &err), LM_EINVAL);
    lm_rec_filter_free(&f);
    assert_int_equal(lm_rec_parse_pos("mysql-bin.000003:1234", &p, &err), 0);
    assert_string_equal(p.file, "mysql-bin.000003");
    assert_int_equal(p.pos, 1234);
    lm_err_clear(&err);
    assert_int_equal(lm_rec_parse_pos("mysql-bin.000003", &p, &err), LM_EINVAL);
    lm_err_clear(&err);
    assert_int_equal(lm_rec_parse_pos("f:12x", &p, &err), LM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_txn_boundaries), cmocka_unit_test(test_tablemap_name),
        cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_torn),
        cmocka_unit_test(test_corrupt_frame),  cmocka_unit_test(test_filter_and_pos),
    };
    int fd, rc;

    snprintf(path, sizeof(path), "/tmp/lm-test-record.XXXXXX");
    fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    return rc;
}
