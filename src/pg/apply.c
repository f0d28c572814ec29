/* Applying the stream to the shadow: pgoutput messages become changes of
 * whole transactions, and each change one statement on the shadow. Values
 * travel as text typed with the source column's type, so the server
 * converts them with the same assignment casts the copy uses. */
#include "pg/internal.h"

#include "livemig/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pg_val {
    char kind; /* 'n', 'u', 't' */
    char *text;
} pg_val;

typedef struct pg_change {
    struct pg_change *next;
    char op;
    uint16_t ncols;
    pg_val *newv; /* I, U */
    pg_val *oldv; /* U with a 'K'/'O' tuple, D */
} pg_change;

struct lm_pg_apply {
    PGconn *c;
    const lm_pg_plan *p;
    bool rel_seen;
    int *rpos; /* src column -> position in the stream's tuples, or -1 */
    pg_change *cur, **cur_tail;
    size_t cur_n;
    pg_change *ready, **ready_tail;
    size_t ready_n;
    lm_lsn ready_end;
    int64_t ready_since; /* commit time of the oldest waiting transaction */
    char fence[64];
    bool fence_seen;
    bool replaying;
    lm_buf sql;
};

static void change_free(pg_change *ch)
{
    while (ch) {
        pg_change *next = ch->next;
        free(ch);
        ch = next;
    }
}

int lm_pg_apply_new(lm_pg_apply **out, PGconn *c, const lm_pg_plan *p, lm_err *err)
{
    lm_pg_apply *a = calloc(1, sizeof(*a));

    if (a == NULL || (a->rpos = calloc(p->src.ncols + 1, sizeof(int))) == NULL) {
        free(a);
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    }
    a->c = c;
    a->p = p;
    a->cur_tail = &a->cur;
    a->ready_tail = &a->ready;
    /* Until a relation message says otherwise: the published columns are
     * the non-generated ones in order. */
    for (size_t i = 0, j = 0; i < p->src.ncols; i++)
        a->rpos[i] = p->src.cols[i].generated ? -1 : (int)j++;
    *out = a;
    return 0;
}

void lm_pg_apply_free(lm_pg_apply *a)
{
    if (a == NULL)
        return;
    change_free(a->cur);
    change_free(a->ready);
    lm_buf_free(&a->sql);
    free(a->rpos);
    free(a);
}

size_t lm_pg_apply_pending(const lm_pg_apply *a)
{
    return a->ready_n;
}

int64_t lm_pg_apply_waiting_since(const lm_pg_apply *a)
{
    return a->ready_since;
}

void lm_pg_apply_set_replaying(lm_pg_apply *a, bool replaying)
{
    a->replaying = replaying;
}

void lm_pg_apply_set_fence(lm_pg_apply *a, const char *token)
{
    snprintf(a->fence, sizeof(a->fence), "%s", token);
    a->fence_seen = false;
}

bool lm_pg_apply_fence_seen(const lm_pg_apply *a)
{
    return a->fence_seen;
}

/* A relation message must describe the table as planned: anything else is
 * DDL that ran during the migration. */
static int check_relation(lm_pg_apply *a, const lm_pgo_msg *m, lm_err *err)
{
    const lm_pg_table *t = &a->p->src;
    size_t j = 0;

    if (m->rel_oid != t->oid)
        return 0;
    if (strcmp(m->nspname, t->nsp) != 0 || strcmp(m->relname, t->name) != 0)
        return lm_err_set(err, LM_EFAIL,
                          "%s.%s was renamed to %s.%s during the migration; livemig stops "
                          "(the original table is unchanged)",
                          t->nsp, t->name, m->nspname, m->relname);
    for (size_t i = 0; i < t->ncols; i++) {
        if (t->cols[i].generated)
            continue;
        if (j >= m->nrelcols || strcmp(m->relcols[j].name, t->cols[i].name) != 0)
            break;
        a->rpos[i] = (int)j++;
    }
    size_t published = 0;
    for (size_t i = 0; i < t->ncols; i++)
        published += !t->cols[i].generated;
    if (j != m->nrelcols || j != published)
        return lm_err_set(err, LM_EFAIL,
                          "the columns of %s.%s changed during the migration (DDL ran on it); "
                          "livemig stops, the original table is unchanged: run the migration "
                          "again",
                          t->nsp, t->name);
    a->rel_seen = true;
    return 0;
}

static int check_truncate(lm_pg_apply *a, const lm_pgo_msg *m, lm_err *err)
{
    for (uint32_t i = 0; i < m->nrels; i++)
        if (m->rel_oids[i] == a->p->src.oid)
            return lm_err_set(err, LM_EFAIL,
                              "%s.%s was truncated during the migration; livemig stops (run it "
                              "again)",
                              a->p->src.nsp, a->p->src.name);
    return 0;
}

/* One allocation per change: the struct, the value arrays, the texts. */
static int change_new(const lm_pgo_msg *m, pg_change **out, lm_err *err)
{
    const lm_pgo_tuple *nt = m->type == 'D' ? NULL : &m->new_tuple;
    const lm_pgo_tuple *ot = m->old_kind ? &m->old_tuple : NULL;
    uint16_t n = nt ? nt->ncols : ot->ncols;
    size_t size = sizeof(pg_change) + (size_t)n * sizeof(pg_val) * 2;
    const lm_pgo_tuple *tuples[2] = {nt, ot};
    pg_change *ch = NULL;
    char *text;

    if ((nt && nt->ncols != n) || (ot && ot->ncols != n))
        return lm_err_set(err, LM_ECORRUPT, "pgoutput: old and new tuples differ in columns");
    for (int t = 0; t < 2; t++)
        for (uint16_t i = 0; tuples[t] && i < n; i++)
            size += tuples[t]->cols[i].len + 1;
    if ((ch = calloc(1, size)) == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    ch->op = m->type;
    ch->ncols = n;
    ch->newv = (pg_val *)(ch + 1);
    ch->oldv = ch->newv + n;
    text = (char *)(ch->oldv + n);
    for (int t = 0; t < 2; t++) {
        pg_val *v = t == 0 ? ch->newv : ch->oldv;
        for (uint16_t i = 0; tuples[t] && i < n; i++) {
            const lm_pgo_col *col = &tuples[t]->cols[i];
            if (col->kind == 'b') {
                free(ch);
                return lm_err_set(err, LM_ECORRUPT, "pgoutput: binary value in text mode");
            }
            v[i].kind = col->kind;
            if (col->kind == 't') {
                memcpy(text, col->data, col->len);
                text[col->len] = '\0';
                v[i].text = text;
                text += col->len + 1;
            }
        }
    }
    if (nt == NULL)
        ch->newv = NULL;
    if (ot == NULL)
        ch->oldv = NULL;
    *out = ch;
    return 0;
}

int lm_pg_apply_check_msg(lm_pg_apply *a, const uint8_t *buf, size_t len, lm_err *err)
{
    lm_pgo_msg m;
    int rc;

    if (len == 0 || (buf[0] != 'R' && buf[0] != 'T'))
        return 0;
    memset(&m, 0, sizeof(m));
    if ((rc = lm_pgo_parse(buf, len, &m, err)) == 0)
        rc = m.type == 'R' ? check_relation(a, &m, err) : check_truncate(a, &m, err);
    lm_pgo_msg_clear(&m);
    return rc;
}

int lm_pg_apply_msg(lm_pg_apply *a, lm_lsn wal_start, const uint8_t *buf, size_t len, lm_err *err)
{
    lm_pgo_msg m;
    pg_change *ch = NULL;
    int rc;

    (void)wal_start;
    memset(&m, 0, sizeof(m));
    if ((rc = lm_pgo_parse(buf, len, &m, err)) < 0)
        goto cleanup;
    switch (m.type) {
    case 'C':
        /* The transaction is whole: its changes may be applied. */
        *a->ready_tail = a->cur;
        if (a->cur)
            a->ready_tail = a->cur_tail;
        a->cur = NULL;
        a->cur_tail = &a->cur;
        if (a->ready == NULL && a->cur)
            a->ready_since = m.commit_time;
        a->ready_n += a->cur_n;
        a->cur_n = 0;
        a->ready_end = m.end_lsn;
        break;
    case 'R':
        rc = check_relation(a, &m, err);
        break;
    case 'T':
        rc = check_truncate(a, &m, err);
        break;
    case 'I':
    case 'U':
    case 'D':
        if (m.rel_oid != a->p->src.oid)
            break;
        if ((rc = change_new(&m, &ch, err)) < 0)
            break;
        *a->cur_tail = ch;
        a->cur_tail = &ch->next;
        a->cur_n++;
        break;
    case 'M':
        if (a->fence[0] && strcmp(m.prefix, "livemig") == 0 && m.content_len == strlen(a->fence) &&
            memcmp(m.content, a->fence, m.content_len) == 0)
            a->fence_seen = true;
        break;
    default: /* 'B' (changes gather until 'C'), 'O' origin, 'Y' type */
        break;
    }
cleanup:
    lm_pgo_msg_clear(&m);
    return rc;
}

static void put_param(lm_pg_apply *a, int n, const char *type)
{
    lm_buf_printf(&a->sql, "$%d::%s", n, type);
}

/* WHERE key = old key (or the new row's key when the key did not change). */
static void put_where(lm_pg_apply *a, const pg_change *ch, const char **params, int *np)
{
    const lm_pg_plan *p = a->p;
    const pg_val *v = ch->oldv ? ch->oldv : ch->newv;

    lm_buf_puts(&a->sql, " WHERE ");
    for (size_t k = 0; k < p->src.nkey; k++) {
        const lm_pg_col *col = &p->src.cols[p->src.key[k]];
        int pos = a->rpos[p->src.key[k]];
        lm_buf_puts(&a->sql, k ? " AND " : "");
        lm_pg_put_ident(&a->sql, lm_pg_mapped(p, p->src.key[k])->name);
        lm_buf_puts(&a->sql, " = ");
        params[*np] = pos >= 0 && pos < ch->ncols && v[pos].kind == 't' ? v[pos].text : NULL;
        put_param(a, ++*np, col->type);
    }
}

static bool is_key(const lm_pg_plan *p, size_t i)
{
    for (size_t k = 0; k < p->src.nkey; k++)
        if (p->src.key[k] == i)
            return true;
    return false;
}

static void build_insert(lm_pg_apply *a, const pg_change *ch, const char **params, int *np)
{
    const lm_pg_plan *p = a->p;
    bool first = true;

    lm_buf_puts(&a->sql, "INSERT INTO ");
    lm_pg_put_qname(&a->sql, p->src.nsp, p->shadow_name);
    lm_buf_puts(&a->sql, " (");
    for (size_t i = 0; i < p->src.ncols; i++) {
        const lm_pg_col *to = lm_pg_mapped(p, i);
        if (to == NULL || a->rpos[i] < 0)
            continue;
        lm_buf_puts(&a->sql, first ? "" : ", ");
        lm_pg_put_ident(&a->sql, to->name);
        first = false;
    }
    lm_buf_puts(&a->sql, p->overriding ? ") OVERRIDING SYSTEM VALUE VALUES (" : ") VALUES (");
    first = true;
    for (size_t i = 0; i < p->src.ncols; i++) {
        int pos = a->rpos[i];
        if (lm_pg_mapped(p, i) == NULL || pos < 0)
            continue;
        lm_buf_puts(&a->sql, first ? "" : ", ");
        params[*np] = pos < ch->ncols && ch->newv[pos].kind == 't' ? ch->newv[pos].text : NULL;
        put_param(a, ++*np, p->src.cols[i].type);
        first = false;
    }
    lm_buf_puts(&a->sql, ") ON CONFLICT (");
    for (size_t k = 0; k < p->src.nkey; k++) {
        lm_buf_puts(&a->sql, k ? ", " : "");
        lm_pg_put_ident(&a->sql, lm_pg_mapped(p, p->src.key[k])->name);
    }
    lm_buf_puts(&a->sql, ")");
    first = true;
    for (size_t i = 0; i < p->src.ncols; i++) {
        const lm_pg_col *to = lm_pg_mapped(p, i);
        /* The key is what conflicted; GENERATED ALWAYS identity columns
         * may not be set (the source cannot change them either). */
        if (to == NULL || a->rpos[i] < 0 || is_key(p, i) || to->identity == 'a')
            continue;
        lm_buf_puts(&a->sql, first ? " DO UPDATE SET " : ", ");
        lm_pg_put_ident(&a->sql, to->name);
        lm_buf_puts(&a->sql, " = EXCLUDED.");
        lm_pg_put_ident(&a->sql, to->name);
        first = false;
    }
    if (first)
        lm_buf_puts(&a->sql, " DO NOTHING");
}

/* SET the columns the stream sent (an unchanged TOAST value, 'u', keeps
 * what the shadow has). *unchanged says whether any was left out. */
static void build_update(lm_pg_apply *a, const pg_change *ch, const char **params, int *np,
                         bool *unchanged)
{
    const lm_pg_plan *p = a->p;
    bool first = true;

    *unchanged = false;
    lm_buf_puts(&a->sql, "UPDATE ");
    lm_pg_put_qname(&a->sql, p->src.nsp, p->shadow_name);
    lm_buf_puts(&a->sql, " SET ");
    for (size_t i = 0; i < p->src.ncols; i++) {
        const lm_pg_col *to = lm_pg_mapped(p, i);
        int pos = a->rpos[i];
        if (to == NULL || pos < 0 || pos >= ch->ncols)
            continue;
        /* A key that did not change needs no SET (and an identity column
         * GENERATED ALWAYS may not be set at all; the source cannot change
         * it either). */
        if ((ch->oldv == NULL && is_key(p, i)) || to->identity == 'a')
            continue;
        if (ch->newv[pos].kind == 'u') {
            *unchanged = true;
            continue;
        }
        lm_buf_puts(&a->sql, first ? "" : ", ");
        lm_pg_put_ident(&a->sql, to->name);
        lm_buf_puts(&a->sql, " = ");
        params[*np] = ch->newv[pos].kind == 't' ? ch->newv[pos].text : NULL;
        put_param(a, ++*np, p->src.cols[i].type);
        first = false;
    }
    if (first) {
        /* Nothing to set (only dropped or unchangeable columns changed):
         * still look the row up, so a missing one is noticed. */
        lm_buf_reset(&a->sql);
        lm_buf_puts(&a->sql, "SELECT 1 FROM ");
        lm_pg_put_qname(&a->sql, p->src.nsp, p->shadow_name);
        *np = 0;
    }
    put_where(a, ch, params, np);
}

static int run(lm_pg_apply *a, const char **params, int np, PGresult **res, lm_err *err)
{
    if (a->sql.oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    return lm_pg_query(a->c, a->sql.data, np, params, res, err);
}

static int apply_one(lm_pg_apply *a, const pg_change *ch, const char **params, lm_err *err)
{
    PGresult *r = NULL;
    bool unchanged = false;
    int np = 0, rc;

    lm_buf_reset(&a->sql);
    if (ch->op == 'I') {
        build_insert(a, ch, params, &np);
        return run(a, params, np, NULL, err);
    }
    if (ch->op == 'D') {
        lm_buf_puts(&a->sql, "DELETE FROM ");
        lm_pg_put_qname(&a->sql, a->p->src.nsp, a->p->shadow_name);
        put_where(a, ch, params, &np);
        return run(a, params, np, NULL, err);
    }
    build_update(a, ch, params, &np, &unchanged);
    if ((rc = run(a, params, np, &r, err)) < 0)
        return rc;
    bool missing = strcmp(PQcmdTuples(r), "0") == 0;
    PQclear(r);
    if (!missing)
        return 0;
    /* The snapshot copy plus every later change leaves no row missing; a
     * whole row can still be written, a partial one means a lost change. */
    if (unchanged && a->replaying)
        return 0;
    if (unchanged)
        return lm_err_set(err, LM_EFAIL,
                          "an update of %s.%s found no row in the shadow to apply to; the shadow "
                          "is incomplete and livemig stops",
                          a->p->src.nsp, a->p->src.name);
    lm_buf_reset(&a->sql);
    np = 0;
    build_insert(a, ch, params, &np);
    return run(a, params, np, NULL, err);
}

int lm_pg_apply_flush(lm_pg_apply *a, bool in_txn, lm_lsn *end, size_t *n, lm_err *err)
{
    const char **params = NULL;
    size_t done = 0;
    int rc = 0;

    *end = 0;
    *n = 0;
    if (a->ready == NULL && a->ready_end == 0)
        return 0;
    if ((params = calloc(a->p->src.ncols * 2 + 1, sizeof(*params))) == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if (!in_txn && a->ready && (rc = lm_pg_exec(a->c, "BEGIN", err)) < 0)
        goto cleanup;
    for (const pg_change *ch = a->ready; ch && rc == 0; ch = ch->next, done++)
        rc = apply_one(a, ch, params, err);
    if (rc == 0 && !in_txn && a->ready)
        rc = lm_pg_exec(a->c, "COMMIT", err);
    if (rc < 0) {
        if (!in_txn)
            lm_pg_exec(a->c, "ROLLBACK", &(lm_err)LM_ERR_INIT);
        goto cleanup;
    }
    change_free(a->ready);
    a->ready = NULL;
    a->ready_tail = &a->ready;
    a->ready_n = 0;
    a->ready_since = 0;
    *end = a->ready_end;
    *n = done;
    a->ready_end = 0;
cleanup:
    free(params);
    return rc;
}
