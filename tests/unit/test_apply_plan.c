/* The batch planner of the MariaDB apply: which row writes a later change
 * of the same batch supersedes (src/mysql/apply_plan.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "livemig/core.h"
#include "mysql/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEL LM_APPLY_SKIP_DELETE
#define REP LM_APPLY_SKIP_REPLACE

/* t (a int, b varchar, v int); the shadow's key is (a) or (a, b). */
static lm_column cols[3];
static lm_table_def src = {(char *)"db", (char *)"t", 3, cols, NULL, 0, NULL, 0};
static unsigned dst_key_cols[2] = {0, 1};
static lm_table_def dst = {(char *)"db", (char *)"_t_new", 3, cols, NULL, 1, dst_key_cols, 0};
static unsigned key_src[2] = {0, 1};
static lm_plan plan;

static void setup_plan(size_t nkey)
{
    memset(&plan, 0, sizeof(plan));
    plan.src = &src;
    plan.dst = &dst;
    plan.dst_key_src = key_src;
    dst.nkey = nkey;
}

static lm_row *row(long a, const char *b, long v)
{
    lm_row *r = calloc(1, sizeof(*r) + 3 * sizeof(lm_value));
    assert_non_null(r);
    r->ncols = 3;
    r->cols = (lm_value *)(r + 1);
    r->cols[0] = (lm_value){.kind = LM_VAL_INT, .i = a, .u = (uint64_t)a};
    r->cols[1] = (lm_value){.kind = LM_VAL_STRING, .str = b, .len = strlen(b)};
    r->cols[2] = (lm_value){.kind = LM_VAL_INT, .i = v, .u = (uint64_t)v};
    return r;
}

/* A list built in order; free with lm_change_list_free. */
typedef struct list {
    lm_change *first, *last;
    size_t n;
} list;

static lm_change *add(list *l, lm_row_op op, lm_row *before, lm_row *after)
{
    lm_change *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->op = op;
    c->before = before;
    c->after = after;
    if (l->last)
        l->last->next = c;
    else
        l->first = c;
    l->last = c;
    l->n++;
    return c;
}

static void ins(list *l, long a, long v)
{
    add(l, LM_ROW_INSERT, NULL, row(a, "x", v));
}

static void upd(list *l, long a0, long a1, long v)
{
    add(l, LM_ROW_UPDATE, row(a0, "x", v - 1), row(a1, "x", v));
}

static void del(list *l, long a)
{
    add(l, LM_ROW_DELETE, row(a, "x", 0), NULL);
}

/* Plans l; returns the skip bits as a string of digits, one per change. */
static char bits[4096];

static const char *plan_list(list *l, size_t *superseded)
{
    uint8_t skip[4096];
    lm_err err = LM_ERR_INIT;

    assert_true(l->n < sizeof(skip));
    assert_int_equal(lm_my_apply_plan(&plan, l->first, l->n, skip, superseded, &err), 0);
    for (size_t i = 0; i < l->n; i++)
        bits[i] = (char)('0' + skip[i]);
    bits[l->n] = '\0';
    lm_change_list_free(l->first);
    memset(l, 0, sizeof(*l));
    return bits;
}

static void test_hot_row(void **state)
{
    list l = {0};
    size_t sup;

    setup_plan(1);
    ins(&l, 1, 0);
    for (int i = 1; i <= 99; i++)
        upd(&l, 1, 1, i);
    const char *b = plan_list(&l, &sup);
    assert_int_equal(sup, 99);
    for (int i = 0; i < 99; i++)
        assert_int_equal(b[i], '0' + REP);
    assert_int_equal(b[99], '0');
}

static void test_insert_delete(void **state)
{
    list l = {0};
    size_t sup;

    setup_plan(1);
    /* The delete wins over the insert before it; the insert after it wins
     * over the delete (its REPLACE removes the row with that key itself). */
    ins(&l, 1, 1);
    del(&l, 1);
    del(&l, 2);
    ins(&l, 2, 2);
    del(&l, 3);
    del(&l, 3);
    assert_string_equal(plan_list(&l, &sup), "201010");
    assert_int_equal(sup, 3);
}

static void test_key_change(void **state)
{
    list l = {0};
    size_t sup;

    setup_plan(1);
    /* 1 -> 2, then 2 updated: only the REPLACE of 2 is superseded; the
     * DELETE of 1 stays. */
    upd(&l, 1, 2, 1);
    upd(&l, 2, 2, 2);
    assert_string_equal(plan_list(&l, &sup), "20");
    assert_int_equal(sup, 1);
    /* Insert 1, then 1 -> 2: the insert is superseded by the DELETE of 1. */
    ins(&l, 1, 1);
    upd(&l, 1, 2, 2);
    assert_string_equal(plan_list(&l, &sup), "20");
    /* 1 -> 2, then 1 inserted again: the DELETE half is superseded, the
     * REPLACE of 2 is not. */
    upd(&l, 1, 2, 1);
    ins(&l, 1, 5);
    assert_string_equal(plan_list(&l, &sup), "10");
    /* 1 -> 2 -> 1: the first is superseded whole (both keys rewritten),
     * the second not at all. */
    upd(&l, 1, 2, 1);
    upd(&l, 2, 1, 2);
    assert_string_equal(plan_list(&l, &sup), "30");
    assert_int_equal(sup, 2);
    /* A swap through a third key (1 -> 3, 2 -> 1, 3 -> 2). */
    upd(&l, 1, 3, 1);
    upd(&l, 2, 1, 2);
    upd(&l, 3, 2, 3);
    assert_string_equal(plan_list(&l, &sup), "310");
    assert_int_equal(sup, 3);
}

static void test_distinct_keys(void **state)
{
    list l = {0};
    size_t sup;

    setup_plan(1);
    for (int i = 0; i < 500; i++)
        ins(&l, i, i);
    for (int i = 500; i < 1000; i++)
        upd(&l, i, i, i);
    plan_list(&l, &sup);
    assert_int_equal(sup, 0);
    assert_int_equal(strspn(bits, "0"), 1000);
}

static void test_composite_key(void **state)
{
    list l = {0};
    size_t sup;

    setup_plan(2);
    add(&l, LM_ROW_INSERT, NULL, row(1, "a", 1));
    add(&l, LM_ROW_INSERT, NULL, row(1, "b", 1));
    add(&l, LM_ROW_INSERT, NULL, row(1, "ab", 1));
    add(&l, LM_ROW_UPDATE, row(1, "a", 1), row(1, "a", 2));
    /* Bytes, not collations: 'A' is another key to the planner. */
    add(&l, LM_ROW_DELETE, row(1, "A", 1), NULL);
    assert_string_equal(plan_list(&l, &sup), "20000");
    assert_int_equal(sup, 1);
}

static void test_barriers(void **state)
{
    list l = {0};
    size_t sup;
    lm_change *c;

    setup_plan(1);
    /* Nothing merges across a child table's change. */
    ins(&l, 1, 1);
    c = add(&l, LM_ROW_INSERT, NULL, row(1, "x", 9));
    c->source = 1;
    ins(&l, 1, 2);
    ins(&l, 1, 3);
    assert_string_equal(plan_list(&l, &sup), "0020");
    assert_int_equal(sup, 1);
    /* --fill-from keeps every change. */
    plan.nfill = 1;
    ins(&l, 1, 1);
    ins(&l, 1, 2);
    assert_string_equal(plan_list(&l, &sup), "00");
    assert_int_equal(sup, 0);
    plan.nfill = 0;
}

static void test_bad_images(void **state)
{
    list l = {0};
    size_t sup;
    lm_row *r;

    setup_plan(1);
    /* Images the apply refuses neither supersede nor are superseded, so
     * the batch still fails on them. */
    add(&l, LM_ROW_INSERT, NULL, NULL);
    ins(&l, 1, 1);
    r = row(1, "x", 1);
    r->cols[0].kind = LM_VAL_ABSENT;
    add(&l, LM_ROW_UPDATE, r, row(1, "x", 2));
    r = row(1, "x", 1);
    r->ncols = 2;
    add(&l, LM_ROW_DELETE, r, NULL);
    r = row(1, "x", 1);
    r->cols[0].kind = LM_VAL_NULL;
    add(&l, LM_ROW_INSERT, NULL, r);
    add(&l, LM_ROW_INSERT, NULL, NULL);
    assert_string_equal(plan_list(&l, &sup), "000000");
    assert_int_equal(sup, 0);
    /* No key at all (never planned by a migration): nothing is skipped. */
    setup_plan(0);
    ins(&l, 1, 1);
    ins(&l, 1, 1);
    assert_string_equal(plan_list(&l, &sup), "00");
}

static void test_value_kinds(void **state)
{
    list l = {0};
    size_t sup;
    lm_row *r[6];

    setup_plan(1);
    for (int i = 0; i < 6; i++) {
        r[i] = row(0, "x", i);
        add(&l, LM_ROW_INSERT, NULL, r[i]);
    }
    /* -0.0 and 0.0 are one key (lm_my_value_eq), so they hash alike. */
    r[0]->cols[0] = (lm_value){.kind = LM_VAL_DOUBLE, .d = -0.0};
    r[1]->cols[0] = (lm_value){.kind = LM_VAL_DOUBLE, .d = 0.0};
    /* Dates compare by their text, whether or not len was set. */
    r[2]->cols[0] = (lm_value){.kind = LM_VAL_DATE, .str = "2024-01-02", .len = 0};
    r[3]->cols[0] = (lm_value){.kind = LM_VAL_DATE, .str = "2024-01-02", .len = 10};
    /* Another kind is another key. */
    r[4]->cols[0] = (lm_value){.kind = LM_VAL_INT, .i = 7, .u = 7};
    r[5]->cols[0] = (lm_value){.kind = LM_VAL_UINT, .i = 7, .u = 7};
    assert_string_equal(plan_list(&l, &sup), "202000");
    assert_int_equal(sup, 2);
}

/* Writes of a random batch, checked against the obvious quadratic rule. */
typedef struct wr {
    long key;
    unsigned bit;
    size_t change;
    unsigned seg; /* child changes between writes bump it */
} wr;

static void test_random_against_reference(void **state)
{
    uint8_t skip[600], want[600];
    static wr w[1200];
    lm_err err = LM_ERR_INIT;
    unsigned seed = 12345;

    setup_plan(1);
    for (int round = 0; round < 200; round++) {
        list l = {0};
        size_t nw = 0, sup, want_sup = 0, n = 1 + (size_t)(rand_r(&seed) % 600);
        long keys = 1 + rand_r(&seed) % 40;
        unsigned seg = 0;

        for (size_t i = 0; i < n; i++) {
            long a = rand_r(&seed) % keys, b = rand_r(&seed) % keys;
            switch (rand_r(&seed) % 7) {
            case 0:
                ins(&l, a, 1);
                w[nw++] = (wr){a, REP, i, seg};
                break;
            case 1:
                del(&l, a);
                w[nw++] = (wr){a, DEL, i, seg};
                break;
            case 2:
                upd(&l, a, b, 1);
                if (a != b)
                    w[nw++] = (wr){a, DEL, i, seg};
                w[nw++] = (wr){b, REP, i, seg};
                break;
            case 3:
                add(&l, LM_ROW_INSERT, NULL, row(a, "x", 1))->source = 1;
                seg++;
                break;
            default:
                upd(&l, a, a, 2);
                w[nw++] = (wr){a, REP, i, seg};
                break;
            }
        }
        memset(want, 0, n);
        for (size_t i = 0; i < nw; i++)
            for (size_t j = i + 1; j < nw; j++)
                if (w[j].key == w[i].key && w[j].seg == w[i].seg) {
                    want[w[i].change] |= (uint8_t)w[i].bit;
                    want_sup++;
                    break;
                }
        assert_int_equal(lm_my_apply_plan(&plan, l.first, n, skip, &sup, &err), 0);
        assert_int_equal(sup, want_sup);
        assert_memory_equal(skip, want, n);
        lm_change_list_free(l.first);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hot_row),
        cmocka_unit_test(test_insert_delete),
        cmocka_unit_test(test_key_change),
        cmocka_unit_test(test_distinct_keys),
        cmocka_unit_test(test_composite_key),
        cmocka_unit_test(test_barriers),
        cmocka_unit_test(test_bad_images),
        cmocka_unit_test(test_value_kinds),
        cmocka_unit_test(test_random_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
