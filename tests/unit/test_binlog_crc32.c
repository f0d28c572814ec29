/* lm_bl_crc32 (binlog/crc32.c) against zlib's crc32 for every length up
 * to a few blocks, every alignment, chained calls and known values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "binlog/crc32.h"

static void test_known(void **state)
{
    (void)state;
    assert_int_equal(lm_bl_crc32(0, (const uint8_t *)"", 0), 0);
    assert_int_equal(lm_bl_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
}

static void test_against_zlib(void **state)
{
    enum { MAX = 1100 };
    uint8_t *buf = malloc(MAX + 16);
    uint32_t seed = 12345;
    size_t n, a, i;
    (void)state;

    assert_non_null(buf);
    for (i = 0; i < MAX + 16; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    for (a = 0; a < 16; a++) {
        for (n = 0; n <= MAX; n++) {
            uint32_t want = (uint32_t)crc32(0L, buf + a, (uInt)n);
            assert_int_equal(lm_bl_crc32(0, buf + a, n), want);
            assert_int_equal(lm_bl_crc32_generic(0, buf + a, n), want);
        }
    }
    /* Chained: the state carries over like zlib's. */
    for (n = 0; n <= 300; n += 7) {
        uint32_t c = lm_bl_crc32(0, buf, n);
        c = lm_bl_crc32(c, buf + n, MAX - n);
        assert_int_equal(c, (uint32_t)crc32(0L, buf, MAX));
    }
    free(buf);
}

static void test_all_ones(void **state)
{
    uint8_t buf[4096];
    size_t n;
    (void)state;

    memset(buf, 0xFF, sizeof(buf));
    for (n = 60; n <= sizeof(buf); n += 61)
        assert_int_equal(lm_bl_crc32(0, buf, n), (uint32_t)crc32(0L, buf, (uInt)n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_against_zlib),
        cmocka_unit_test(test_all_ones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
