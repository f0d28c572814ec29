/* The change queue bounded by memory: byte accounting, back-pressure on a
 * producer thread, and a change bigger than the budget getting through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "livemig/core.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A change whose after image holds one string of len bytes. */
static lm_change *make_change(uint32_t ts, size_t len)
{
    lm_value v[2] = {{.kind = LM_VAL_INT, .i = ts}, {.kind = LM_VAL_BLOB}};
    lm_row r = {2, v};
    lm_change *c = calloc(1, sizeof(*c));
    char *s = malloc(len + 1);

    assert_non_null(c);
    assert_non_null(s);
    memset(s, 'x', len);
    v[1].str = s;
    v[1].len = len;
    c->op = LM_ROW_INSERT;
    c->timestamp = ts;
    assert_int_equal(lm_row_clone(&r, &c->after), 0);
    free(s);
    return c;
}

static void test_change_size(void **state)
{
    lm_change *c = make_change(1, 100);

    /* What lm_row_clone allocates: the values, then each string + NUL. */
    assert_int_equal(lm_change_size(c),
                     sizeof(lm_change) + sizeof(lm_row) + 2 * sizeof(lm_value) + 101);
    c->op = LM_ROW_UPDATE;
    assert_int_equal(lm_row_clone(c->after, &c->before), 0);
    assert_int_equal(lm_change_size(c),
                     sizeof(lm_change) + 2 * (sizeof(lm_row) + 2 * sizeof(lm_value) + 101));
    lm_change_free(c);
}

static void test_accounting(void **state)
{
    lm_queue q;
    size_t n, total = 0, sizes[5];

    lm_queue_init(&q, 0);
    for (uint32_t i = 0; i < 5; i++) {
        lm_change *c = make_change(i, 10 * i);
        sizes[i] = lm_change_size(c);
        total += sizes[i];
        lm_queue_push(&q, c, NULL);
    }
    assert_int_equal(lm_queue_bytes(&q), total);
    lm_change *a = lm_queue_pop(&q, 2, 0, &n);
    assert_int_equal(n, 2);
    assert_int_equal(lm_queue_bytes(&q), total - sizes[0] - sizes[1]);
    lm_change *b = lm_queue_pop(&q, 10, 0, &n);
    assert_int_equal(n, 3);
    assert_int_equal(lm_queue_bytes(&q), 0);
    lm_change_list_free(a);
    lm_change_list_free(b);
    lm_queue_destroy(&q);
}

typedef struct producer {
    lm_queue *q;
    size_t n, len;
    atomic_size_t pushed;
    volatile bool stop;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;

    for (size_t i = 0; i < p->n; i++) {
        lm_queue_push(p->q, make_change((uint32_t)i, p->len), &p->stop);
        atomic_fetch_add(&p->pushed, 1);
    }
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait (up to 10 s) until the producer pushed `want` changes. */
static void wait_pushed(producer *p, size_t want)
{
    for (int i = 0; i < 1000 && atomic_load(&p->pushed) < want; i++)
        sleep_ms(10);
    assert_int_equal(atomic_load(&p->pushed), want);
}

static void test_backpressure(void **state)
{
    lm_queue q;
    producer p = {&q, 20, 1000, 0, false};
    pthread_t th;
    size_t one, n, got = 0;
    uint32_t next = 0;

    lm_change *probe = make_change(0, 1000);
    one = lm_change_size(probe);
    lm_change_free(probe);
    lm_queue_init(&q, 0);
    /* Room for three changes and a bit: the fourth must wait. */
    lm_queue_set_max_bytes(&q, 3 * one + one / 2);
    assert_int_equal(pthread_create(&th, NULL, produce, &p), 0);
    wait_pushed(&p, 3);
    sleep_ms(200);
    assert_int_equal(atomic_load(&p.pushed), 3);
    assert_int_equal(lm_queue_bytes(&q), 3 * one);
    /* Popping one change makes room for exactly one more. */
    lm_change *a = lm_queue_pop(&q, 1, 0, &n);
    assert_int_equal(n, 1);
    assert_int_equal(a->timestamp, next++);
    lm_change_list_free(a);
    wait_pushed(&p, 4);
    sleep_ms(100);
    assert_int_equal(atomic_load(&p.pushed), 4);
    /* Drain the rest in order; the queue never holds more than the budget. */
    for (got = 1; got < p.n;) {
        assert_true(lm_queue_bytes(&q) <= 3 * one);
        lm_change *b = lm_queue_pop(&q, 2, 1000, &n);
        for (lm_change *c = b; c; c = c->next)
            assert_int_equal(c->timestamp, next++);
        got += n;
        lm_change_list_free(b);
    }
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(got, p.n);
    assert_int_equal(lm_queue_bytes(&q), 0);
    lm_queue_destroy(&q);
}

static void test_oversized_change(void **state)
{
    lm_queue q;
    producer p = {&q, 2, 4096, 0, false};
    pthread_t th;
    size_t n;

    /* Each change is bigger than the whole budget: the first goes into
     * the empty queue at once, the second waits for it to be popped. */
    lm_queue_init(&q, 0);
    lm_queue_set_max_bytes(&q, 1024);
    assert_int_equal(pthread_create(&th, NULL, produce, &p), 0);
    wait_pushed(&p, 1);
    sleep_ms(200);
    assert_int_equal(atomic_load(&p.pushed), 1);
    assert_true(lm_queue_bytes(&q) > 1024);
    lm_change *a = lm_queue_pop(&q, 10, 0, &n);
    assert_int_equal(n, 1);
    wait_pushed(&p, 2);
    lm_change *b = lm_queue_pop(&q, 10, 1000, &n);
    assert_int_equal(n, 1);
    assert_int_equal(pthread_join(th, NULL), 0);
    lm_change_list_free(a);
    lm_change_list_free(b);
    lm_queue_destroy(&q);
}

static void test_stop_and_count_cap(void **state)
{
    lm_queue q;
    producer p = {&q, 5, 10, 0, false};
    pthread_t th;

    /* The count cap still holds beside the byte budget, and a stop request
     * lets a waiting producer through (it is about to quit). */
    lm_queue_init(&q, 2);
    lm_queue_set_max_bytes(&q, LM_QUEUE_MAX_BYTES);
    assert_int_equal(pthread_create(&th, NULL, produce, &p), 0);
    wait_pushed(&p, 2);
    sleep_ms(200);
    assert_int_equal(atomic_load(&p.pushed), 2);
    p.stop = true;
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(lm_queue_peek(&q, NULL, NULL, NULL, NULL), 5);
    lm_queue_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_change_size),        cmocka_unit_test(test_accounting),
        cmocka_unit_test(test_backpressure),       cmocka_unit_test(test_oversized_change),
        cmocka_unit_test(test_stop_and_count_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
