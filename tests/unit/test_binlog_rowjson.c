/* The JSON row writer (binlog/rowjson.c) against lm_row_json of the
 * decoded rows, over the binlog files of tests/unit/data and the shared
 * MySQL fixtures (every column type the rigs log), byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "binlog/rowjson.h"
#include "livemig/binlog.h"
#include "livemig/buf.h"

#define SEP ",\"after\":"

/* All rows of path as JSON lines, by the writer (fast) or through
 * lm_binlog_rows_next and lm_row_json; returns the row count, -1 on a
 * decode error. */
static long dump_rows(const char *path, int fast, lm_buf *out)
{
    lm_binlog_file *f = NULL;
    lm_binlog_decoder *d = NULL;
    lm_binlog_event ev;
    lm_err err = LM_ERR_INIT;
    const uint8_t *data;
    lm_row b, a;
    size_t len;
    long rows = 0;
    int rc;

    if (lm_binlog_file_open(&f, path, &err) < 0)
        return -1;
    if ((rc = lm_binlog_decoder_new(&d, &err)) < 0)
        goto done;
    lm_binlog_decoder_set_file(d, "x.000001", 4);
    while ((rc = lm_binlog_file_read(f, &data, &len, &err)) == 1) {
        if ((rc = lm_binlog_feed(d, data, len, &err)) < 0)
            goto done;
        while ((rc = lm_binlog_next(d, &ev, &err)) == 1) {
            if (!ev.row_op || !ev.table)
                continue;
            for (;;) {
                if (fast) {
                    rc = lm_bl_rows_next_json(d, out, SEP, strlen(SEP), &err);
                } else if ((rc = lm_binlog_rows_next(d, &b, &a, &err)) == 1) {
                    b.cols ? lm_row_json(out, &b, ev.table) : lm_buf_puts(out, "null");
                    lm_buf_puts(out, SEP);
                    a.cols ? lm_row_json(out, &a, ev.table) : lm_buf_puts(out, "null");
                }
                if (rc != 1)
                    break;
                lm_buf_putc(out, '\n');
                rows++;
            }
            if (rc < 0)
                goto done;
        }
        if (rc < 0)
            goto done;
    }
done:
    if (rc < 0)
        fprintf(stderr, "%s: %s\n", path, err.msg);
    lm_binlog_decoder_free(d);
    lm_binlog_file_close(f);
    return rc < 0 ? -1 : rows;
}

/* A raw binlog file: starts with the binlog magic. */
static int is_binlog(const char *path)
{
    unsigned char m[4];
    FILE *fp = fopen(path, "rb");
    int ok;

    if (fp == NULL)
        return 0;
    ok = fread(m, 1, 4, fp) == 4 && memcmp(m,
                                           "\xfe"
                                           "bin",
                                           4) == 0;
    fclose(fp);
    return ok;
}

static void compare_dir(const char *dir, unsigned *files, long *rows)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    char path[1024];

    if (dp == NULL)
        return;
    while ((de = readdir(dp)) != NULL) {
        lm_buf slow = LM_BUF_INIT, fast = LM_BUF_INIT;
        long n1, n2;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (de->d_name[0] == '.' || !is_binlog(path))
            continue;
        n1 = dump_rows(path, 0, &slow);
        n2 = dump_rows(path, 1, &fast);
        assert_int_equal(n1, n2);
        assert_int_equal(slow.len, fast.len);
        if (slow.len)
            assert_memory_equal(slow.data, fast.data, slow.len);
        (*files)++;
        *rows += n1 > 0 ? n1 : 0;
        lm_buf_free(&slow);
        lm_buf_free(&fast);
    }
    closedir(dp);
}

static void test_same_as_row_json(void **state)
{
    unsigned files = 0;
    long rows = 0;
    (void)state;

    compare_dir(LIVEMIG_TEST_DATA, &files, &rows);
    compare_dir(LIVEMIG_FIXTURES "/mysql", &files, &rows);
    assert_true(files >= 2);
    assert_true(rows > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_row_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
