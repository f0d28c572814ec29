/* Which row writes of a batch a later change of the same batch makes
 * redundant (pure: no connection, unit-tested).
 *
 * The batch is applied in one transaction and each key's final state is
 * set by the last write to it: a REPLACE deletes whatever row holds its
 * key before inserting, a DELETE removes it. So a REPLACE or DELETE of
 * key K followed later in the batch by a REPLACE or DELETE of K can be
 * skipped. What the skipped write could do to other rows (a REPLACE
 * deleting a row that collides on another unique key) is the repair the
 * stream repeats anyway: that row is stale and a later change rewrites it.
 *
 * A key-changing update is two writes, DELETE of the old key and REPLACE
 * of the new one, and each is superseded on its own. Keys compare as
 * stored bytes (lm_my_value_eq): values a collation calls equal but whose
 * bytes differ are simply not merged, which keeps their order. */
#include "mysql/internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    const lm_row *row; /* whose key this is; NULL: free */
    uint64_t hash;
    unsigned gen; /* a slot of an older generation is free */
} slot;

typedef struct table {
    const lm_plan *p;
    slot *slots;
    size_t mask;
    unsigned gen;
} table;

static uint64_t mix(uint64_t h, const void *data, size_t len)
{
    const unsigned char *s = data;

    /* FNV-1a: short keys, few of them; good enough and dependency-free. */
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Equal under lm_my_value_eq => equal hash. */
static uint64_t hash_value(uint64_t h, const lm_value *v)
{
    h = mix(h, &v->kind, sizeof(v->kind));
    switch (v->kind) {
    case LM_VAL_ABSENT:
    case LM_VAL_NULL:
        return h;
    case LM_VAL_INT:
    case LM_VAL_UINT:
    case LM_VAL_YEAR:
    case LM_VAL_BIT:
    case LM_VAL_ENUM:
    case LM_VAL_SET:
        h = mix(h, &v->i, sizeof(v->i));
        return mix(h, &v->u, sizeof(v->u));
    case LM_VAL_FLOAT:
    case LM_VAL_DOUBLE: {
        double d = v->d == 0 ? 0 : v->d; /* -0.0 == 0.0 */
        return mix(h, &d, sizeof(d));
    }
    case LM_VAL_DATE:
    case LM_VAL_TIME:
    case LM_VAL_DATETIME:
    case LM_VAL_TIMESTAMP: {
        size_t len = v->len ? v->len : (v->str ? strlen(v->str) : 0);
        return mix(h, v->str ? v->str : "", len);
    }
    default:
        return mix(h, v->str ? v->str : "", v->str ? v->len : 0);
    }
}

/* Whether r carries a whole shadow key: images the apply would refuse
 * (missing, wrong width, no key value) take no part, so its error stays. */
static bool has_key(const lm_plan *p, const lm_row *r)
{
    if (r == NULL || r->ncols != p->src->ncols)
        return false;
    for (size_t j = 0; j < p->dst->nkey; j++) {
        unsigned s = p->dst_key_src[j];
        if (s >= r->ncols || r->cols[s].kind == LM_VAL_ABSENT || r->cols[s].kind == LM_VAL_NULL)
            return false;
    }
    return true;
}

static bool same_key(const lm_plan *p, const lm_row *a, const lm_row *b)
{
    for (size_t j = 0; j < p->dst->nkey; j++) {
        unsigned s = p->dst_key_src[j];
        if (!lm_my_value_eq(&a->cols[s], &b->cols[s]))
            return false;
    }
    return true;
}

bool lm_my_key_changed(const lm_plan *p, const lm_row *before, const lm_row *after)
{
    return !same_key(p, before, after);
}

/* A write of r's key, seen walking the batch backwards: true when a later
 * write of the same key was seen already (this one is superseded). */
static bool seen_later(table *t, const lm_row *r)
{
    uint64_t h = 14695981039346656037ull;
    size_t i;

    if (!has_key(t->p, r))
        return false;
    for (size_t j = 0; j < t->p->dst->nkey; j++)
        h = hash_value(h, &r->cols[t->p->dst_key_src[j]]);
    for (i = h & t->mask; t->slots[i].gen == t->gen; i = (i + 1) & t->mask)
        if (t->slots[i].hash == h && same_key(t->p, t->slots[i].row, r))
            return true;
    t->slots[i] = (slot){r, h, t->gen};
    return false;
}

int lm_my_apply_plan(const lm_plan *p, const lm_change *first, size_t n, uint8_t *skip,
                     size_t *superseded, lm_err *err)
{
    const lm_change **v = NULL;
    table t = {p, NULL, 0, 1};
    size_t cap = 16, i = 0;
    int rc = 0;

    *superseded = 0;
    if (n > 0)
        memset(skip, 0, n);
    /* --fill-from keeps every change, in order: a parent's write reads its
     * children's current rows and a child's write updates its parent. */
    if (p->nfill > 0 || p->dst->nkey == 0 || n < 2)
        return 0;
    /* At most two writes per change; at most half the slots in use. */
    while (cap < 4 * n)
        cap *= 2;
    v = malloc(n * sizeof(*v));
    t.slots = calloc(cap, sizeof(*t.slots));
    if (v == NULL || t.slots == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory planning a batch of changes");
        goto cleanup;
    }
    t.mask = cap - 1;
    for (const lm_change *ch = first; ch && i < n; ch = ch->next)
        v[i++] = ch;
    n = i;
    while (i-- > 0) {
        const lm_change *ch = v[i];
        /* A child table's change is a barrier: nothing merges across it. */
        if (ch->source != 0) {
            t.gen++;
            continue;
        }
        switch (ch->op) {
        case LM_ROW_INSERT:
            if (seen_later(&t, ch->after))
                skip[i] |= LM_APPLY_SKIP_REPLACE;
            break;
        case LM_ROW_DELETE:
            if (seen_later(&t, ch->before))
                skip[i] |= LM_APPLY_SKIP_DELETE;
            break;
        case LM_ROW_UPDATE:
            /* An image without its key: the apply refuses the batch. */
            if (!has_key(p, ch->before) || !has_key(p, ch->after))
                break;
            /* The REPLACE of the new key comes after the DELETE of the old. */
            if (seen_later(&t, ch->after))
                skip[i] |= LM_APPLY_SKIP_REPLACE;
            if (lm_my_key_changed(p, ch->before, ch->after) && seen_later(&t, ch->before))
                skip[i] |= LM_APPLY_SKIP_DELETE;
            break;
        }
        *superseded += (size_t)((skip[i] & LM_APPLY_SKIP_REPLACE) != 0) +
                       (size_t)((skip[i] & LM_APPLY_SKIP_DELETE) != 0);
    }
cleanup:
    free(v);
    free(t.slots);
    return rc;
}
