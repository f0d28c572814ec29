/* The apply rate of the progress line and the status JSON: the slope of
 * changes_applied over the last seconds, whatever the reading rhythm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "livemig/buf.h"
#include "livemig/core.h"

#include <string.h>

static double rate(lm_status *st, double now, uint64_t applied)
{
    st->changes_applied = applied;
    return lm_status_apply_rate(st, now);
}

static void test_steady_and_changing(void **state)
{
    lm_status st;

    lm_status_init(&st);
    st.state = LM_STATE_COPYING;
    assert_true(rate(&st, 100.0, 0) == 0);
    /* Too short a span keeps the last figure. */
    assert_true(rate(&st, 100.1, 50) == 0);
    assert_true(rate(&st, 101.0, 500) == 500);
    assert_true(rate(&st, 102.0, 1500) == 750);
    /* Read ten times a second at 100 changes/s for a minute: only the
     * last 10 s count, the burst above is forgotten. */
    uint64_t n = 1500;
    double t = 102.0, r = 0;
    for (int i = 0; i < 600; i++) {
        t += 0.1;
        n += 10;
        r = rate(&st, t, n);
    }
    assert_true(r > 99.0 && r < 101.0);
    /* The apply stops: the rate falls to 0 within the window. */
    for (int i = 0; i < 120; i++) {
        t += 0.1;
        r = rate(&st, t, n);
    }
    assert_true(r == 0);
    lm_status_destroy(&st);
}

static void test_rare_reads(void **state)
{
    lm_status st;

    /* Read only every 30 s (a long --progress-interval): the rate spans
     * the time since the last reading. */
    lm_status_init(&st);
    st.state = LM_STATE_CATCHING_UP;
    rate(&st, 10.0, 0);
    assert_true(rate(&st, 40.0, 3000) == 100);
    assert_true(rate(&st, 70.0, 9000) == 200);
    lm_status_destroy(&st);
}

static void test_resume_and_reset(void **state)
{
    lm_status st;

    lm_status_init(&st);
    /* --resume restores the counter while preparing: not a rate. */
    assert_true(rate(&st, 1.0, 0) == 0);
    assert_true(rate(&st, 2.0, 1000000) == 0);
    st.state = LM_STATE_COPYING;
    assert_true(rate(&st, 3.0, 1000000) == 0);
    assert_true(rate(&st, 5.0, 1000400) == 200);
    /* A counter going back starts the samples over. */
    assert_true(rate(&st, 6.0, 10) == 0);
    assert_true(rate(&st, 7.0, 110) == 100);
    lm_status_destroy(&st);
}

static void test_in_json(void **state)
{
    lm_status st;
    lm_buf b = LM_BUF_INIT;

    lm_status_init(&st);
    st.state = LM_STATE_COPYING;
    st.changes_applied = 7;
    lm_status_json(&st, &b);
    assert_non_null(strstr(b.data, "\"changes_applied\":7,\"changes_per_second\":0.0,"));
    lm_buf_free(&b);
    lm_status_destroy(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steady_and_changing),
        cmocka_unit_test(test_rare_reads),
        cmocka_unit_test(test_resume_and_reset),
        cmocka_unit_test(test_in_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
