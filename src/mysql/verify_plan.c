/* The plan of a standalone `livemig verify`: two tables of one database
 * and the columns compared (same names, or the --columns list). */
#include "livemig/verify.h"

#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_def(MYSQL *c, const char *db, const char *name, lm_table_def **out, lm_err *err)
{
    lm_table_extra x = {0};
    bool is_view = false;
    int rc = lm_my_read_table(c, db, name, out, &x, &is_view, err);

    lm_table_extra_free(&x);
    if (rc == 0)
        return lm_err_set(err, LM_EINVAL, "table %s.%s does not exist", db, name);
    return rc < 0 ? rc : 0;
}

static int add_pair(lm_plan *p, const char *from, const char *to, lm_err *err)
{
    int s = lm_table_def_find(p->src, from), d = lm_table_def_find(p->dst, to);

    if (s < 0)
        return lm_err_set(err, LM_EINVAL, "%s has no column %s", p->src->name, from);
    if (d < 0)
        return lm_err_set(err, LM_EINVAL, "%s has no column %s", p->dst->name, to);
    for (size_t i = 0; i < p->nmap; i++)
        if (p->map[i].src == (unsigned)s || p->map[i].dst == (unsigned)d)
            return lm_err_set(err, LM_EINVAL, "column %s is listed twice", from);
    p->map[p->nmap].src = (unsigned)s;
    p->map[p->nmap].dst = (unsigned)d;
    p->nmap++;
    return 0;
}

/* "a,b,old:new" */
static int parse_columns(lm_plan *p, const char *list, lm_err *err)
{
    char *copy = strdup(list), *save = NULL, *item;
    int rc = 0;

    if (copy == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    for (item = strtok_r(copy, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(item, ':');
        while (*item == ' ')
            item++;
        if (colon)
            *colon = '\0';
        if (p->nmap >= p->src->ncols) {
            rc = lm_err_set(err, LM_EINVAL, "--columns lists more columns than %s has",
                            p->src->name);
            break;
        }
        rc = add_pair(p, item, colon ? colon + 1 : item, err);
    }
    free(copy);
    return rc;
}

int lm_mysql_verify_plan(MYSQL *c, const char *table, const char *against, const char *columns,
                         lm_plan **out, lm_err *err)
{
    lm_plan *p = calloc(1, sizeof(*p));
    char *db = NULL;
    int rc;

    *out = NULL;
    if (p == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if ((rc = lm_mysql_query_value(c, "SELECT DATABASE()", &db, err)) < 0)
        goto cleanup;
    if (db == NULL) {
        rc = lm_err_set(err, LM_EINVAL, "the DSN names no database");
        goto cleanup;
    }
    if ((rc = read_def(c, db, table, &p->src, err)) < 0 ||
        (rc = read_def(c, db, against, &p->dst, err)) < 0)
        goto cleanup;
    if (p->src->nkey == 0) {
        rc = lm_err_set(err, LM_EINVAL,
                        "table %s.%s has no PRIMARY KEY and no UNIQUE key on NOT NULL columns: "
                        "it cannot be compared in chunks",
                        db, table);
        goto cleanup;
    }
    if ((p->map = calloc(p->src->ncols + 1, sizeof(*p->map))) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (columns) {
        if ((rc = parse_columns(p, columns, err)) < 0)
            goto cleanup;
    } else {
        for (size_t i = 0; i < p->src->ncols; i++)
            if (lm_table_def_find(p->dst, p->src->cols[i].name) >= 0 &&
                (rc = add_pair(p, p->src->cols[i].name, p->src->cols[i].name, err)) < 0)
                goto cleanup;
    }
    if (p->nmap == 0) {
        rc = lm_err_set(err, LM_EINVAL, "%s and %s have no column in common: use --columns", table,
                        against);
        goto cleanup;
    }
    for (size_t k = 0; k < p->src->nkey; k++) {
        bool in = false;
        for (size_t i = 0; i < p->nmap; i++)
            in |= p->map[i].src == p->src->key_cols[k];
        if (!in) {
            rc = lm_err_set(err, LM_EINVAL, "the key column %s of %s must be compared",
                            p->src->cols[p->src->key_cols[k]].name, table);
            goto cleanup;
        }
    }
    *out = p;
    p = NULL;
cleanup:
    lm_plan_free(p);
    free(db);
    return rc;
}
