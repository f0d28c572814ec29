/* The adaptive copy's chunk sizing (lm_chunk_next): toward the target
 * time, growing at most 2x a chunk, shrinking at once, within bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "livemig/core.h"

static void test_grows_gradually(void **state)
{
    (void)state;
    /* 1000 rows in 10 ms, target 0.1 s: 10x wanted, 2x allowed. */
    assert_int_equal(lm_chunk_next(1000, 0.010, 0.1, 100, 100000), 2000);
    /* Close to the target: scaled exactly. */
    assert_int_equal(lm_chunk_next(1000, 0.080, 0.1, 100, 100000), 1250);
    assert_int_equal(lm_chunk_next(1000, 0.1, 0.1, 100, 100000), 1000);
}

static void test_shrinks_at_once(void **state)
{
    (void)state;
    /* A chunk that ran 10x too long: a tenth next time, not a half. */
    assert_int_equal(lm_chunk_next(50000, 1.0, 0.1, 100, 100000), 5000);
    /* A stall far beyond the target lands on the floor. */
    assert_int_equal(lm_chunk_next(50000, 600.0, 0.1, 100, 100000), 100);
}

static void test_bounds(void **state)
{
    (void)state;
    assert_int_equal(lm_chunk_next(80000, 0.01, 0.5, 100, 100000), 100000);
    /* A zero duration (a clock that did not move) is not a division by zero. */
    assert_int_equal(lm_chunk_next(500, 0.0, 0.1, 100, 100000), 1000);
    /* A floor below the default one (--chunk-size 10 as the start). */
    assert_int_equal(lm_chunk_next(10, 5.0, 0.1, 10, 100000), 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grows_gradually),
        cmocka_unit_test(test_shrinks_at_once),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
