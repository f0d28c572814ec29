/* The fast float/double text (binlog/dtoa.c) against its definition: the
 * shortest "%.*g" from 15 (FLOAT: 6; subnormals: 1) digits that strtod
 * (strtof) reads back, exponent without '+' or padding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <float.h>
#include <math.h>

#include <cmocka.h>

#include "binlog/dtoa.h"

/* The formatter as it was before dtoa.c, kept here as the oracle. */
static void oracle(double d, int is_float, char *out)
{
    int prec, maxp = is_float ? 9 : 17;
    char *e, *p;

    if (d != d) {
        strcpy(out, "nan");
        return;
    }
    for (prec = fabs(d) < (is_float ? FLT_MIN : DBL_MIN) ? 1
                : is_float                               ? 6
                                                         : 15;
         prec <= maxp; prec++) {
        snprintf(out, 64, "%.*g", prec, d);
        if (is_float ? (strtof(out, NULL) == (float)d) : (strtod(out, NULL) == d))
            break;
    }
    if ((e = strchr(out, 'e')) == NULL)
        return;
    p = e + 1;
    if (*p == '+')
        memmove(p, p + 1, strlen(p));
    if (*p == '-')
        p++;
    while (p[0] == '0' && p[1] != '\0')
        memmove(p, p + 1, strlen(p));
}

/* lm_bl_dtoa(d) equals the oracle and lm_bl_dtoa_slow, and reads back. */
static void check(double d, int is_float)
{
    char fast[LM_BL_DTOA_MAX + 8], slow[LM_BL_DTOA_MAX + 8], want[64];
    size_t n;

    memset(fast, 'x', sizeof(fast));
    n = lm_bl_dtoa(d, is_float, fast);
    oracle(d, is_float, want);
    lm_bl_dtoa_slow(d, is_float, slow);
    if (strcmp(fast, want) != 0 || strcmp(slow, want) != 0)
        fail_msg("%s %.17g (%a): fast \"%s\" slow \"%s\" want \"%s\"",
                 is_float ? "float" : "double", d, d, fast, slow, want);
    assert_int_equal(n, strlen(fast));
    assert_true(n < LM_BL_DTOA_MAX);
    if (d == d && !is_float)
        assert_true(strtod(fast, NULL) == d);
    if (d == d && is_float)
        assert_true(strtof(fast, NULL) == (float)d);
}

static void expect(double d, int is_float, const char *text)
{
    char out[LM_BL_DTOA_MAX];

    lm_bl_dtoa(d, is_float, out);
    assert_string_equal(out, text);
    check(d, is_float);
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static float from_bits32(uint32_t b)
{
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static void test_known(void **state)
{
    (void)state;
    expect(0.0, 0, "0");
    expect(-0.0, 0, "-0");
    expect(0.1, 0, "0.1");
    expect(0.1 + 0.2, 0, "0.30000000000000004");
    expect(1.0 / 7, 0, "0.14285714285714285");
    expect(2.0 / 7, 0, "0.2857142857142857");
    expect(5e-324, 0, "5e-324");
    expect(-5e-324, 0, "-5e-324");
    expect(1.7976931348623157e308, 0, "1.7976931348623157e308");
    expect(-1.7976931348623157e308, 0, "-1.7976931348623157e308");
    expect(2.2250738585072014e-308, 0, "2.2250738585072014e-308");
    expect(2.225073858507201e-308, 0, "2.225073858507201e-308"); /* largest subnormal */
    expect(1e21, 0, "1e21");
    expect(1e15, 0, "1e15");
    expect(1e14, 0, "100000000000000");
    expect(123456789012345.0, 0, "123456789012345");
    expect(1234567890123456.0, 0, "1234567890123456");
    expect(1e-7, 0, "1e-7");
    expect(1e-5, 0, "1e-5");
    expect(0.0001, 0, "0.0001");
    expect(9007199254740992.0, 0, "9007199254740992");
    expect(9007199254740991.0, 0, "9007199254740991");
    expect(-1.5, 0, "-1.5");
    expect(HUGE_VAL, 0, "inf");
    expect(-HUGE_VAL, 0, "-inf");
    expect(3.14159f, 1, "3.14159");
    expect(0.1f, 1, "0.1");
    expect(1e10f, 1, "1e10");
    expect(16777216.0f, 1, "16777216");
    expect(FLT_MAX, 1, "3.4028235e38");
    expect(-0.0f, 1, "-0");
    expect(1.4e-45f, 1, "1e-45"); /* smallest float subnormal */
    expect(nan(""), 0, "nan");
}

static void test_edges(void **state)
{
    int i, k;
    double d;
    (void)state;

    /* Powers of two and ten across the whole range, and their
     * neighbours: the rounding intervals are asymmetric at powers of two
     * and the table lookups change at every decade. */
    for (i = -1074; i <= 1023; i++) {
        d = ldexp(1.0, i);
        check(d, 0);
        check(nextafter(d, 0), 0);
        check(nextafter(d, HUGE_VAL), 0);
    }
    for (i = -149; i <= 127; i++) {
        float f = ldexpf(1.0f, i);
        check(f, 1);
        check(nextafterf(f, 0), 1);
        check(nextafterf(f, HUGE_VALF), 1);
    }
    for (i = -323; i <= 308; i++) {
        char s[32];
        snprintf(s, sizeof(s), "1e%d", i);
        d = strtod(s, NULL);
        check(d, 0);
        check(nextafter(d, 0), 0);
        check(nextafter(d, HUGE_VAL), 0);
        check(-d, 0);
        if (i >= -45 && i <= 38)
            check(strtof(s, NULL), 1);
    }
    /* Integers: every one up to 2^53 is exact, so their text has to be. */
    for (i = 0; i <= 20000; i++)
        check((double)i, 0);
    for (k = 0; k < 54; k++) {
        for (i = -3; i <= 3; i++) {
            check(ldexp(1.0, k) + i, 0);
            check((float)(ldexp(1.0, k) + i), 1);
        }
    }
    /* Halves and short decimals, where ties at a digit could appear. */
    for (i = 0; i < 4000; i++) {
        check(i + 0.5, 0);
        check(i / 8.0, 0);
        check(i * 0.01, 0);
        check(i / 7.0, 0);
        check((float)(i / 7.0), 1);
        check(i * 1e17, 0);
        check(i * 1e-300, 0);
    }
}

static void test_random(void **state)
{
    int i;
    double d;
    (void)state;

    for (i = 0; i < 60000; i++) {
        d = from_bits(next());
        if (d == d)
            check(d, 0);
        check(from_bits(next() & UINT64_C(0x000FFFFFFFFFFFFF)), 0); /* subnormal */
        check(from_bits32((uint32_t)next()), 1);
        check(from_bits32((uint32_t)next() & 0x807FFFFFu), 1); /* float subnormal */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
