/* Just enough of the ALTER spec to map columns: renames and explicit
 * drops. The server parses and applies the ALTER itself (to the shadow);
 * this only has to make sure no column's data is lost by a rename we did
 * not see. Pure: no connection. */
#include "livemig/plan.h"
#include "mysql/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum {
    TK_END,
    TK_WORD,
    TK_QUOTED,
    TK_STRING,
    TK_OPEN,
    TK_CLOSE,
    TK_COMMA,
    TK_SEMI,
    TK_OTHER
} tk_kind;

typedef struct token {
    tk_kind kind;
    const char *p; /* start in the spec (for TK_QUOTED: after the backtick) */
    size_t len;
} token;

typedef struct lexer {
    const char *s;
    size_t i;
} lexer;

static bool word_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Skip blanks and comments (--, #, / * … * /). */
static void skip_space(lexer *lx)
{
    const char *s = lx->s;
    for (;;) {
        while (s[lx->i] && isspace((unsigned char)s[lx->i]))
            lx->i++;
        if (s[lx->i] == '#' || (s[lx->i] == '-' && s[lx->i + 1] == '-' &&
                                (s[lx->i + 2] == '\0' || isspace((unsigned char)s[lx->i + 2])))) {
            while (s[lx->i] && s[lx->i] != '\n')
                lx->i++;
        } else if (s[lx->i] == '/' && s[lx->i + 1] == '*') {
            const char *end = strstr(s + lx->i + 2, "*/");
            lx->i = end ? (size_t)(end - s) + 2 : strlen(s);
        } else {
            return;
        }
    }
}

static int next_token(lexer *lx, token *t)
{
    const char *s = lx->s;
    char q;

    skip_space(lx);
    t->p = s + lx->i;
    t->len = 0;
    switch (s[lx->i]) {
    case '\0':
        t->kind = TK_END;
        return 0;
    case '(':
        t->kind = TK_OPEN;
        lx->i++;
        t->len = 1;
        return 0;
    case ')':
        t->kind = TK_CLOSE;
        lx->i++;
        t->len = 1;
        return 0;
    case ',':
        t->kind = TK_COMMA;
        lx->i++;
        t->len = 1;
        return 0;
    case ';':
        t->kind = TK_SEMI;
        lx->i++;
        t->len = 1;
        return 0;
    case '`':
    case '\'':
    case '"':
        q = s[lx->i++];
        t->kind = q == '`' ? TK_QUOTED : TK_STRING;
        t->p = s + lx->i;
        for (;;) {
            if (s[lx->i] == '\0')
                return LM_EINVAL; /* unterminated */
            if (q != '`' && s[lx->i] == '\\' && s[lx->i + 1]) {
                lx->i += 2;
            } else if (s[lx->i] == q && s[lx->i + 1] == q) {
                lx->i += 2; /* doubled quote */
            } else if (s[lx->i] == q) {
                t->len = (size_t)(s + lx->i - t->p);
                lx->i++;
                return 0;
            } else {
                lx->i++;
            }
        }
    default:
        if (word_char((unsigned char)s[lx->i])) {
            t->kind = TK_WORD;
            while (word_char((unsigned char)s[lx->i]))
                lx->i++;
        } else {
            t->kind = TK_OTHER;
            lx->i++;
        }
        t->len = (size_t)(s + lx->i - t->p);
        return 0;
    }
}

static bool is_kw(const token *t, const char *kw)
{
    return t->kind == TK_WORD && strlen(kw) == t->len && strncasecmp(t->p, kw, t->len) == 0;
}

static bool is_name(const token *t)
{
    return t->kind == TK_WORD || t->kind == TK_QUOTED;
}

/* The identifier a name token stands for (backtick escapes undone). */
static char *name_of(const token *t)
{
    char *out = malloc(t->len + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < t->len; i++) {
        *o++ = t->p[i];
        if (t->kind == TK_QUOTED && t->p[i] == '`')
            i++; /* `` inside backticks is one backtick */
    }
    *o = '\0';
    return out;
}

/* One top-level clause of the spec: its first few tokens are enough. */
#define CLAUSE_HEAD 8
typedef struct clause {
    token t[CLAUSE_HEAD];
    size_t n;
} clause;

typedef int (*clause_fn)(const clause *cl, void *ctx, lm_err *err);

/* Split the spec at top-level commas and call fn with each clause's head. */
static int walk_clauses(const char *alter, clause_fn fn, void *ctx, lm_err *err)
{
    lexer lx = {alter, 0};
    clause cl;
    token t;
    int depth = 0, rc;

    cl.n = 0;
    for (;;) {
        if (next_token(&lx, &t) < 0)
            return lm_err_set(err, LM_EINVAL, "the ALTER has an unterminated quote");
        if (t.kind == TK_SEMI && depth == 0) {
            skip_space(&lx);
            if (alter[lx.i] != '\0')
                return lm_err_set(err, LM_EINVAL,
                                  "the ALTER must be one statement (found ';' followed by more)");
            t.kind = TK_END;
        }
        if (t.kind == TK_END || (t.kind == TK_COMMA && depth == 0)) {
            if (cl.n > 0 && (rc = fn(&cl, ctx, err)) < 0)
                return rc;
            cl.n = 0;
            if (t.kind == TK_END)
                return depth == 0 ? 0 : lm_err_set(err, LM_EINVAL, "the ALTER has unbalanced ()");
            continue;
        }
        if (t.kind == TK_OPEN)
            depth++;
        else if (t.kind == TK_CLOSE && depth > 0)
            depth--;
        if (cl.n < CLAUSE_HEAD)
            cl.t[cl.n++] = t;
    }
}

/* Position after optional words, e.g. [COLUMN] [IF EXISTS]. */
static size_t skip_opt(const clause *cl, size_t i, const char *kw)
{
    return i < cl->n && is_kw(&cl->t[i], kw) ? i + 1 : i;
}

static size_t skip_if_exists(const clause *cl, size_t i)
{
    if (i + 1 < cl->n && is_kw(&cl->t[i], "IF") && is_kw(&cl->t[i + 1], "EXISTS"))
        return i + 2;
    return i;
}

typedef struct renames_ctx {
    lm_rename *r;
    size_t n;
} renames_ctx;

static int add_rename(renames_ctx *rc, const token *from, const token *to, lm_err *err)
{
    lm_rename *r = realloc(rc->r, (rc->n + 1) * sizeof(*r));
    if (r == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    rc->r = r;
    r[rc->n].from = name_of(from);
    r[rc->n].to = name_of(to);
    rc->n++;
    if (r[rc->n - 1].from == NULL || r[rc->n - 1].to == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    return 0;
}

static int rename_clause(const clause *cl, void *ctx, lm_err *err)
{
    size_t i;

    if (is_kw(&cl->t[0], "CHANGE")) {
        i = skip_if_exists(cl, skip_opt(cl, 1, "COLUMN"));
        if (i + 1 < cl->n && is_name(&cl->t[i]) && is_name(&cl->t[i + 1]))
            return add_rename(ctx, &cl->t[i], &cl->t[i + 1], err);
        return lm_err_set(err, LM_EINVAL, "cannot read the CHANGE clause of the ALTER");
    }
    if (!is_kw(&cl->t[0], "RENAME"))
        return 0;
    if (cl->n > 1 && (is_kw(&cl->t[1], "INDEX") || is_kw(&cl->t[1], "KEY")))
        return 0;
    if (cl->n > 1 && is_kw(&cl->t[1], "COLUMN")) {
        i = skip_if_exists(cl, 2);
        if (i + 2 < cl->n && is_name(&cl->t[i]) && is_kw(&cl->t[i + 1], "TO") &&
            is_name(&cl->t[i + 2]))
            return add_rename(ctx, &cl->t[i], &cl->t[i + 2], err);
        return lm_err_set(err, LM_EINVAL, "cannot read the RENAME COLUMN clause of the ALTER");
    }
    /* RENAME [TO|AS] other: would move the shadow away from under us. */
    return lm_err_set(err, LM_EINVAL,
                      "the ALTER renames the table: livemig keeps the table's name (rename it "
                      "separately)");
}

void lm_renames_free(lm_rename *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++) {
        free(r[i].from);
        free(r[i].to);
    }
    free(r);
}

int lm_alter_renames(const char *alter, lm_rename **out, size_t *n, lm_err *err)
{
    renames_ctx ctx = {NULL, 0};
    int rc = walk_clauses(alter, rename_clause, &ctx, err);

    if (rc < 0) {
        lm_renames_free(ctx.r, ctx.n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    *out = ctx.r;
    *n = ctx.n;
    return 0;
}

typedef struct drops_ctx {
    char **names;
    size_t n;
} drops_ctx;

static int drop_clause(const clause *cl, void *vctx, lm_err *err)
{
    static const char *not_columns[] = {"INDEX",      "KEY",    "PRIMARY",   "FOREIGN",
                                        "CONSTRAINT", "CHECK",  "PARTITION", "SYSTEM",
                                        "PERIOD",     "UNIQUE", "FULLTEXT",  "SPATIAL"};
    drops_ctx *ctx = vctx;
    size_t i;
    char **names;

    if (!is_kw(&cl->t[0], "DROP") || cl->n < 2)
        return 0;
    for (size_t k = 0; k < sizeof(not_columns) / sizeof(not_columns[0]); k++)
        if (is_kw(&cl->t[1], not_columns[k]))
            return 0;
    i = skip_if_exists(cl, skip_opt(cl, 1, "COLUMN"));
    if (i >= cl->n || !is_name(&cl->t[i]))
        return 0;
    if ((names = realloc(ctx->names, (ctx->n + 1) * sizeof(*names))) == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    ctx->names = names;
    if ((names[ctx->n] = name_of(&cl->t[i])) == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    ctx->n++;
    return 0;
}

void lm_names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

int lm_alter_drops(const char *alter, char ***out, size_t *n, lm_err *err)
{
    drops_ctx ctx = {NULL, 0};
    int rc = walk_clauses(alter, drop_clause, &ctx, err);

    if (rc < 0) {
        lm_names_free(ctx.names, ctx.n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    *out = ctx.names;
    *n = ctx.n;
    return 0;
}

static bool in_list(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(names[i], name) == 0)
            return true;
    return false;
}

/* The source column feeding shadow column `dname`, -1 if none (added). */
static int source_of(const lm_table_def *src, const lm_rename *r, size_t nr, const char *dname)
{
    int s;

    for (size_t i = nr; i-- > 0;) /* the last rename to a name wins, like the server */
        if (strcasecmp(r[i].to, dname) == 0)
            return lm_table_def_find(src, r[i].from);
    s = lm_table_def_find(src, dname);
    if (s < 0)
        return -1;
    /* Same name, but renamed away: the shadow's column is a new one. */
    for (size_t i = 0; i < nr; i++)
        if (strcasecmp(r[i].from, dname) == 0 && strcasecmp(r[i].to, dname) != 0)
            return -1;
    return s;
}

int lm_alter_map(const lm_table_def *src, const lm_table_def *dst, const char *alter,
                 lm_colpair **map, size_t *nmap, lm_err *err)
{
    lm_rename *r = NULL;
    char **drops = NULL;
    size_t nr = 0, nd = 0, n = 0;
    bool *used = NULL;
    lm_colpair *m = NULL;
    int rc;

    *map = NULL;
    *nmap = 0;
    if ((rc = lm_alter_renames(alter, &r, &nr, err)) < 0 ||
        (rc = lm_alter_drops(alter, &drops, &nd, err)) < 0)
        goto cleanup;
    m = calloc(dst->ncols ? dst->ncols : 1, sizeof(*m));
    used = calloc(src->ncols ? src->ncols : 1, sizeof(*used));
    if (m == NULL || used == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t d = 0; d < dst->ncols; d++) {
        int s = source_of(src, r, nr, dst->cols[d].name);
        if (s < 0 || used[s])
            continue;
        used[s] = true; /* seen, even when not written: it is not lost */
        if (dst->cols[d].generated)
            continue; /* the server computes it */
        if (src->cols[s].generated) {
            rc = lm_err_set(err, LM_EINVAL,
                            "column %s changes from generated to stored: not supported yet",
                            src->cols[s].name);
            goto cleanup;
        }
        m[n].src = (unsigned)s;
        m[n].dst = (unsigned)d;
        n++;
    }
    /* A column the shadow lacks must be dropped on purpose: otherwise a
     * rename we could not read would silently throw its data away. */
    for (size_t s = 0; s < src->ncols; s++) {
        if (used[s] || src->cols[s].generated || in_list(drops, nd, src->cols[s].name))
            continue;
        rc = lm_err_set(err, LM_EINVAL,
                        "column %s of %s would not reach the new table although the ALTER does "
                        "not drop it (a rename livemig cannot read?): use CHANGE old new … or "
                        "RENAME COLUMN old TO new, or DROP COLUMN explicitly",
                        src->cols[s].name, src->name ? src->name : "the table");
        goto cleanup;
    }
    *map = m;
    *nmap = n;
    m = NULL;
cleanup:
    free(m);
    free(used);
    lm_renames_free(r, nr);
    lm_names_free(drops, nd);
    return rc;
}
