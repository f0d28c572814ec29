/* Inputs the fuzzer (tests/fuzz/run.sh) found, replayed through the same
 * harness: each must finish quickly without a crash or sanitizer report.
 *   timeout-*: a TABLE_MAP of zero columns made lm_binlog_rows_next return
 *              empty rows forever (fixed in rows.c).
 *   crash-d3eadced…: a string that grew the JSON buffer and then needed
 *              escaping was written through a stale pointer (rowjson.c). */
#include "../fuzz/fuzz_binlog.c"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

static void test_fuzz_findings(void **state)
{
    DIR *dir = opendir(LIVEMIG_TEST_DATA "/fuzz");
    struct dirent *e;
    int n = 0;

    (void)state;
    assert_non_null(dir);
    while ((e = readdir(dir)) != NULL) {
        char path[512];
        uint8_t *buf;
        long size;
        FILE *f;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/fuzz/%s", LIVEMIG_TEST_DATA, e->d_name);
        f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        rewind(f);
        buf = malloc((size_t)size + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)size);
        free(buf);
        n++;
    }
    closedir(dir);
    assert_true(n > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fuzz_findings)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
