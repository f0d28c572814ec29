/* --fill-from specs and foreign-key descriptions: parsing, names and
 * ownership. Pure (no connection): the engine resolves the names. */
#include "livemig/err.h"
#include "livemig/plan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_IDENT 64

typedef struct cursor {
    const char *p;
    const char *spec;
    lm_err *err;
} cursor;

static void skip_ws(cursor *c)
{
    while (isspace((unsigned char)*c->p))
        c->p++;
}

static int bad(cursor *c, const char *what)
{
    return lm_err_set(c->err, LM_EINVAL,
                      "--fill-from '%s': %s (expected 'CHILD ON CHILD.COL = TABLE.KEY: col [AS "
                      "newcol], …')",
                      c->spec, what);
}

/* An identifier, plain or `quoted` (`` is a literal backquote). */
static int ident(cursor *c, char **out, const char *what)
{
    char buf[MAX_IDENT * 4 + 1];
    size_t n = 0;

    skip_ws(c);
    if (*c->p == '`') {
        for (c->p++;; c->p++) {
            if (*c->p == '\0')
                return bad(c, "unterminated `");
            if (*c->p == '`' && c->p[1] != '`')
                break;
            if (*c->p == '`')
                c->p++;
            if (n + 1 >= sizeof(buf))
                return bad(c, "identifier too long");
            buf[n++] = *c->p;
        }
        c->p++;
    } else {
        while (isalnum((unsigned char)*c->p) || *c->p == '_' || *c->p == '$' ||
               (unsigned char)*c->p >= 0x80) {
            if (n + 1 >= sizeof(buf))
                return bad(c, "identifier too long");
            buf[n++] = *c->p++;
        }
    }
    if (n == 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s expected", what);
        return bad(c, msg);
    }
    buf[n] = '\0';
    if ((*out = strdup(buf)) == NULL)
        return lm_err_set(c->err, LM_ENOMEM, "out of memory");
    return 0;
}

/* A keyword followed by a space or the end: true and consumed, or false. */
static bool keyword(cursor *c, const char *kw)
{
    size_t n = strlen(kw);

    skip_ws(c);
    if (strncasecmp(c->p, kw, n) != 0 || (c->p[n] && !isspace((unsigned char)c->p[n])))
        return false;
    c->p += n;
    return true;
}

static bool punct(cursor *c, char ch)
{
    skip_ws(c);
    if (*c->p != ch)
        return false;
    c->p++;
    return true;
}

/* table.column */
static int qualified(cursor *c, char **table, char **col)
{
    int rc;

    if ((rc = ident(c, table, "a table name")) < 0)
        return rc;
    if (!punct(c, '.'))
        return bad(c, "columns in ON must be written TABLE.COLUMN");
    return ident(c, col, "a column name");
}

static int add_pair(lm_fill_spec *s, char *from, char *to, lm_err *err)
{
    char **f = realloc(s->from, (s->ncols + 1) * sizeof(char *));
    if (f)
        s->from = f;
    char **t = realloc(s->to, (s->ncols + 1) * sizeof(char *));
    if (t)
        s->to = t;
    if (f == NULL || t == NULL) {
        free(from);
        free(to);
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    }
    s->from[s->ncols] = from;
    s->to[s->ncols] = to;
    s->ncols++;
    return 0;
}

static int columns(cursor *c, lm_fill_spec *s)
{
    int rc;

    do {
        char *from = NULL, *to = NULL;
        if ((rc = ident(c, &from, "a column of the child table")) < 0)
            return rc;
        if (keyword(c, "AS") && (rc = ident(c, &to, "a column name after AS")) < 0) {
            free(from);
            return rc;
        }
        if (to == NULL && (to = strdup(from)) == NULL) {
            free(from);
            return lm_err_set(c->err, LM_ENOMEM, "out of memory");
        }
        if ((rc = add_pair(s, from, to, c->err)) < 0)
            return rc;
    } while (punct(c, ','));
    skip_ws(c);
    return *c->p == '\0' ? 0 : bad(c, "unexpected text after the column list");
}

int lm_fill_spec_parse(const char *spec, const char *table, lm_fill_spec *out, lm_err *err)
{
    cursor c = {spec, spec, err};
    char *lt = NULL, *lc = NULL, *rt = NULL, *rc_ = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = ident(&c, &out->child, "the child table")) < 0)
        goto fail;
    if (!keyword(&c, "ON")) {
        rc = bad(&c, "ON expected after the child table");
        goto fail;
    }
    if ((rc = qualified(&c, &lt, &lc)) < 0)
        goto fail;
    if (!punct(&c, '=')) {
        rc = bad(&c, "the join must be one equality CHILD.COL = TABLE.KEY");
        goto fail;
    }
    if ((rc = qualified(&c, &rt, &rc_)) < 0)
        goto fail;
    if (!punct(&c, ':')) {
        rc = bad(&c, "':' and the columns to fill expected after the join");
        goto fail;
    }
    /* Either order: the side naming the child is the child's. */
    if (strcmp(lt, out->child) == 0 && strcmp(rt, table) == 0) {
        out->join_col = lc;
        out->parent_col = rc_;
        lc = rc_ = NULL;
    } else if (strcmp(rt, out->child) == 0 && strcmp(lt, table) == 0) {
        out->join_col = rc_;
        out->parent_col = lc;
        lc = rc_ = NULL;
    } else {
        rc = lm_err_set(err, LM_EINVAL,
                        "--fill-from '%s': the join must compare a column of %s with a column of "
                        "%s",
                        spec, out->child, table);
        goto fail;
    }
    if (strcmp(out->child, table) == 0) {
        rc = lm_err_set(err, LM_EINVAL, "--fill-from '%s': a table cannot fill itself", spec);
        goto fail;
    }
    if ((rc = columns(&c, out)) < 0)
        goto fail;
    free(lt);
    free(rt);
    return 0;
fail:
    free(lt);
    free(lc);
    free(rt);
    free(rc_);
    lm_fill_spec_free(out);
    return rc;
}

void lm_fill_spec_free(lm_fill_spec *s)
{
    for (size_t i = 0; i < s->ncols; i++) {
        free(s->from[i]);
        free(s->to[i]);
    }
    free(s->from);
    free(s->to);
    free(s->child);
    free(s->join_col);
    free(s->parent_col);
    memset(s, 0, sizeof(*s));
}

void lm_fk_clear(lm_fk *f)
{
    free(f->name);
    free(f->db);
    free(f->table);
    free(f->ref_db);
    free(f->ref_table);
    for (size_t j = 0; j < f->ncols; j++) {
        free(f->cols[j]);
        free(f->ref_cols[j]);
    }
    free(f->cols);
    free(f->ref_cols);
    free(f->on_delete);
    free(f->on_update);
    memset(f, 0, sizeof(*f));
}

void lm_fk_free(lm_fk *fks, size_t n)
{
    for (size_t i = 0; fks && i < n; i++)
        lm_fk_clear(&fks[i]);
    free(fks);
}

void lm_fk_temp_name(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "_%.*s", MAX_IDENT - 1, name);
}
