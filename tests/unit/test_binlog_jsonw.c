/* The pointer-based JSON pieces (binlog/jsonw.c) against plain C. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "binlog/jsonw.h"

static void test_ints(void **state)
{
    static const uint64_t u[] = {0,
                                 1,
                                 9,
                                 10,
                                 99,
                                 100,
                                 101,
                                 999,
                                 1000,
                                 65535,
                                 4294967295u,
                                 184467440737u,
                                 9999999999999999999u,
                                 10000000000000000000u,
                                 UINT64_MAX};
    char out[32], want[32], *e;
    uint64_t v;
    size_t i;
    int k;
    (void)state;

    for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
        e = lm_jw_u64(out, u[i]);
        *e = '\0';
        snprintf(want, sizeof(want), "%llu", (unsigned long long)u[i]);
        assert_string_equal(out, want);
    }
    for (v = 1, k = 0; k < 20; k++, v *= 10) {
        *lm_jw_u64(out, v) = '\0';
        snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
        assert_string_equal(out, want);
        *lm_jw_u64(out, v - 1) = '\0';
        snprintf(want, sizeof(want), "%llu", (unsigned long long)(v - 1));
        assert_string_equal(out, want);
    }
    *lm_jw_i64(out, INT64_MIN) = '\0';
    assert_string_equal(out, "-9223372036854775808");
    *lm_jw_i64(out, -1) = '\0';
    assert_string_equal(out, "-1");
    *lm_jw_i64(out, 0) = '\0';
    assert_string_equal(out, "0");
}

static void test_hex(void **state)
{
    uint8_t in[70];
    char out[160], want[160];
    size_t n, i;
    (void)state;

    for (i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 37 + 250);
    for (n = 0; n <= sizeof(in); n++) {
        *lm_jw_hex(out, in, n) = '\0';
        for (i = 0; i < n; i++)
            snprintf(want + 2 * i, 3, "%02x", in[i]);
        want[2 * n] = '\0';
        assert_string_equal(out, want);
    }
}

/* lm_jw_plain on s: NULL, or an exact copy of s. */
static int plain(const char *s, size_t n, int utf8)
{
    char out[128];
    char *e;

    memset(out, 'Z', sizeof(out));
    e = lm_jw_plain(out, (const uint8_t *)s, n, utf8);
    if (e == NULL)
        return 0;
    assert_int_equal((size_t)(e - out), n);
    assert_memory_equal(out, s, n);
    assert_int_equal(out[n], 'Z');
    return 1;
}

static void test_plain(void **state)
{
    char s[64];
    size_t n, at;
    const char *bad[] = {"\"",       "\\",       "\n",           "\x1f",
                         "\x7f\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                         "\xe2\x98", "\xff"};
    size_t i;
    (void)state;

    assert_true(plain("", 0, 0));
    assert_true(plain("2001-02-03 04:05:07.123456", 26, 0));
    assert_true(plain("na\xc3\xafve 1 \xe2\x98\x83", 12, 1));
    assert_false(plain("na\xc3\xafve 1 \xe2\x98\x83", 12, 0));
    assert_true(plain("\x7f~ \xf0\x9f\x98\x80", 7, 1));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (strcmp(bad[i], "\x7f\x80") == 0)
            continue;
        assert_false(plain(bad[i], strlen(bad[i]), 1));
    }
    assert_false(plain("\x7f\x80", 2, 1));
    /* Every length and every position of one special byte: the 8-byte
     * steps and the overlapping tail must all notice it. */
    for (n = 1; n < 40; n++) {
        for (at = 0; at <= n; at++) {
            memset(s, 'a', n);
            assert_true(plain(s, n, 0));
            if (at == n)
                continue;
            s[at] = '"';
            assert_false(plain(s, n, 0));
            s[at] = '\t';
            assert_false(plain(s, n, 1));
            s[at] = (char)0xC3;
            assert_false(plain(s, n, 0));
            if (at + 1 < n) {
                s[at + 1] = (char)0xA9;
                assert_true(plain(s, n, 1));
            }
        }
    }
}

static void test_room(void **state)
{
    lm_buf b = LM_BUF_INIT;
    char *q;
    int i;
    (void)state;

    q = lm_jw_begin(&b, 4);
    assert_non_null(q);
    for (i = 0; i < 1000; i++) {
        q = lm_jw_room(&b, q, 21);
        assert_non_null(q);
        q = lm_jw_u64(q, (uint64_t)i);
        *q++ = ',';
    }
    lm_jw_end(&b, q);
    assert_int_equal(b.len, strlen(b.data));
    assert_memory_equal(b.data, "0,1,2,", 6);
    assert_memory_equal(b.data + b.len - 4, "999,", 4);
    lm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ints),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
