/* --fill-from: resolving the specs against the server's tables. Each
 * refusal says what to change; nothing is written here. */
#include "livemig/log.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool unique_on(const lm_table_extra *x, unsigned col)
{
    for (size_t i = 0; i < x->nkeys; i++)
        if (x->keys[i].ncols == 1 && x->keys[i].cols[0] == col)
            return true;
    return false;
}

/* Shadow column d is written already: by the table itself or another fill. */
static const char *taken_by(const lm_plan *p, unsigned d)
{
    for (size_t i = 0; i < p->nmap; i++)
        if (p->map[i].dst == d)
            return p->src->name;
    for (size_t f = 0; f < p->nfill; f++)
        for (size_t i = 0; i < p->fills[f].ncols; i++)
            if (p->fills[f].cols[i].dst == d)
                return p->fills[f].child->name;
    return NULL;
}

static int resolve_cols(lm_plan *p, const lm_fill_spec *s, lm_fill *f, lm_err *err)
{
    const char *db = p->src->db;

    if ((f->cols = calloc(s->ncols, sizeof(lm_colpair))) == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->ncols; i++) {
        int from = lm_table_def_find(f->child, s->from[i]);
        int to = lm_table_def_find(p->dst, s->to[i]);
        const char *owner;
        if (from < 0)
            return lm_err_set(err, LM_EINVAL, "--fill-from: %s.%s has no column %s", db, s->child,
                              s->from[i]);
        if (f->child->cols[from].generated)
            return lm_err_set(err, LM_EINVAL,
                              "--fill-from: %s.%s is a generated column: fill from the columns "
                              "it is computed from",
                              s->child, s->from[i]);
        if (to < 0)
            return lm_err_set(err, LM_EINVAL,
                              "--fill-from: the shadow has no column %s (add it with --alter)",
                              s->to[i]);
        if ((owner = taken_by(p, (unsigned)to)) != NULL)
            return lm_err_set(err, LM_EINVAL,
                              "--fill-from: column %s already gets its values from %s: fill "
                              "another column (AS newcol)",
                              s->to[i], owner);
        if (!p->dst->cols[to].nullable)
            return lm_err_set(err, LM_EINVAL,
                              "--fill-from: column %s is NOT NULL, but a row of %s without a %s "
                              "row gets NULL: add it as NULL-able (tighten it later)",
                              s->to[i], p->src->name, s->child);
        f->cols[f->ncols].src = (unsigned)from;
        f->cols[f->ncols].dst = (unsigned)to;
        f->ncols++;
    }
    return 0;
}

/* One spec: the child must be a base table of the same schema, unique on
 * its join column, joined to the table's single-column key. */
static int resolve(MYSQL *c, lm_plan *p, const char *spec, lm_err *err)
{
    const char *db = p->src->db;
    lm_fill_spec s;
    lm_table_extra x = {0};
    lm_fill *f;
    bool is_view = false;
    int rc, jc;

    if ((rc = lm_fill_spec_parse(spec, p->src->name, &s, err)) < 0)
        return rc;
    if (p->nfill == LM_MAX_FILLS) {
        rc = lm_err_set(err, LM_EINVAL, "--fill-from: at most %d child tables", LM_MAX_FILLS);
        goto cleanup;
    }
    lm_fill *g = realloc(p->fills, (p->nfill + 1) * sizeof(*g));
    if (g == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    p->fills = g;
    f = &p->fills[p->nfill++];
    memset(f, 0, sizeof(*f));
    if ((f->spec = strdup(spec)) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (p->src->nkey != 1 ||
        strcasecmp(s.parent_col, p->src->cols[p->src->key_cols[0]].name) != 0) {
        rc = lm_err_set(err, LM_EINVAL,
                        "--fill-from: the join must compare %s.%s with %s's key column %s", s.child,
                        s.join_col, p->src->name,
                        p->src->nkey == 1 ? p->src->cols[p->src->key_cols[0]].name
                                          : "(a single-column key is needed)");
        goto cleanup;
    }
    if ((rc = lm_my_read_table(c, db, s.child, &f->child, &x, &is_view, err)) < 0)
        goto cleanup;
    if (rc == 0) {
        rc = lm_err_set(err, LM_EINVAL,
                        is_view ? "--fill-from: %s.%s is a view: fill from a base table"
                                : "--fill-from: table %s.%s does not exist",
                        db, s.child);
        goto cleanup;
    }
    for (size_t i = 0; i + 1 < p->nfill; i++)
        if (strcmp(p->fills[i].child->name, f->child->name) == 0) {
            rc = lm_err_set(err, LM_EINVAL,
                            "--fill-from: %s is named twice: list all its columns in one spec",
                            s.child);
            goto cleanup;
        }
    if ((jc = lm_table_def_find(f->child, s.join_col)) < 0) {
        rc = lm_err_set(err, LM_EINVAL, "--fill-from: %s.%s has no column %s", db, s.child,
                        s.join_col);
        goto cleanup;
    }
    f->join_col = (unsigned)jc;
    if (!unique_on(&x, f->join_col)) {
        rc = lm_err_set(err, LM_EINVAL,
                        "--fill-from: %s is not unique on %s: the join must find at most one "
                        "row (add a UNIQUE key on %s.%s)",
                        s.child, s.join_col, s.child, s.join_col);
        goto cleanup;
    }
    rc = resolve_cols(p, &s, f, err);
cleanup:
    lm_table_extra_free(&x);
    lm_fill_spec_free(&s);
    return rc;
}

int lm_my_fill_plan(MYSQL *c, lm_plan *p, const char *const *specs, size_t n, lm_err *err)
{
    int rc;

    for (size_t i = 0; i < n; i++)
        if ((rc = resolve(c, p, specs[i], err)) < 0)
            return rc;
    return 0;
}
