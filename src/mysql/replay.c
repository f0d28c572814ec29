/* Replay of recorded row changes into a target server. Like the shadow
 * apply (apply.c), every statement is idempotent and built from the row
 * images only: re-running over an overlap converges. Unlike it, one
 * target transaction may span several tables (a source transaction is
 * replayed whole), and the columns map by name when the table map has
 * names (binlog_row_metadata=FULL), else by position. Values go out
 * through lm_my_literal (hex for anything that carries user bytes). */
#include "mysql/replay.h"

#include "livemig/buf.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_MAX_BYTES (1u << 20)
#define STMT_MAX_ROWS  1000u

typedef struct rp_table {
    char key[400]; /* "db.table" of the target */
    lm_table_def *def;
    uint64_t table_id; /* table map the column map was built for */
    unsigned map_ncols;
    int *src; /* per target column: binlog column, -1 = not written */
} rp_table;

typedef enum { ST_NONE, ST_REPLACE, ST_DELETE } st_kind;

struct lm_replay_target {
    MYSQL *c;
    rp_table *tabs;
    size_t ntabs, cap;
    bool in_trx;
    lm_buf sql;
    st_kind kind;
    const rp_table *st_tab;
    size_t rows;
};

int lm_mysql_replay_open(lm_replay_target **out, const lm_dsn *dsn, lm_err *err)
{
    lm_replay_target *t = calloc(1, sizeof(*t));
    int rc;

    *out = NULL;
    if (t == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if ((rc = lm_mysql_connect(&t->c, dsn, err)) < 0)
        goto fail;
    /* The images hold what the source stored: zero dates, id 0, rows whose
     * parents a filtered replay may not carry. */
    if ((rc = lm_mysql_exec(t->c,
                            "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION',"
                            " foreign_key_checks = 0",
                            err)) < 0)
        goto fail;
    *out = t;
    return 0;
fail:
    lm_mysql_replay_close(t);
    return rc;
}

/* The target table, read from information_schema once. */
static int find_table(lm_replay_target *t, const char *db, const char *name, rp_table **out,
                      lm_err *err)
{
    char key[400];
    lm_table_extra extra;
    lm_table_def *def = NULL;
    bool is_view;
    rp_table *tab;
    int rc;

    snprintf(key, sizeof(key), "%s.%s", db, name);
    for (size_t i = 0; i < t->ntabs; i++) {
        if (strcmp(t->tabs[i].key, key) == 0) {
            *out = &t->tabs[i];
            return 0;
        }
    }
    rc = lm_my_read_table(t->c, db, name, &def, &extra, &is_view, err);
    lm_table_extra_free(&extra);
    if (rc < 0)
        return rc;
    if (rc == 0 || is_view)
        return lm_err_set(err, LM_EINVAL, "target table %s does not exist (or is a view)", key);
    if (def->nkey == 0) {
        lm_table_def_free(def);
        return lm_err_set(err, LM_EINVAL,
                          "target table %s has no PRIMARY KEY or NOT NULL UNIQUE key to replay "
                          "changes by",
                          key);
    }
    if (t->ntabs == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        rp_table *n = realloc(t->tabs, cap * sizeof(*n));
        if (n == NULL) {
            lm_table_def_free(def);
            return lm_err_set(err, LM_ENOMEM, "out of memory");
        }
        t->tabs = n;
        t->cap = cap;
    }
    tab = &t->tabs[t->ntabs++];
    memset(tab, 0, sizeof(*tab));
    memcpy(tab->key, key, sizeof(tab->key));
    tab->def = def;
    tab->table_id = UINT64_MAX;
    *out = tab;
    return 0;
}

/* Target column -> binlog column, by name or position. */
static int map_columns(rp_table *tab, const lm_table_map *tm, lm_err *err)
{
    const lm_table_def *d = tab->def;
    int *src;

    if (tab->src && tab->table_id == tm->table_id && tab->map_ncols == tm->ncols)
        return 0;
    if (tm->names == NULL && tm->ncols != d->ncols)
        return lm_err_set(err, LM_EINVAL,
                          "%s.%s has %u columns in the binlog and %zu in the target %s; without "
                          "column names (binlog_row_metadata=FULL) they cannot be matched",
                          tm->db, tm->table, tm->ncols, d->ncols, tab->key);
    if ((src = calloc(d->ncols ? d->ncols : 1, sizeof(int))) == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->ncols; i++) {
        src[i] = -1;
        if (d->cols[i].generated)
            continue;
        if (tm->names == NULL) {
            src[i] = (int)i;
            continue;
        }
        for (unsigned j = 0; j < tm->ncols; j++)
            if (tm->names[j] && strcasecmp(tm->names[j], d->cols[i].name) == 0)
                src[i] = (int)j;
    }
    for (size_t k = 0; k < d->nkey; k++) {
        if (src[d->key_cols[k]] < 0) {
            free(src);
            return lm_err_set(err, LM_EINVAL, "key column %s of %s is not in the binlog's %s.%s",
                              d->cols[d->key_cols[k]].name, tab->key, tm->db, tm->table);
        }
    }
    free(tab->src);
    tab->src = src;
    tab->table_id = tm->table_id;
    tab->map_ncols = tm->ncols;
    return 0;
}

static int flush(lm_replay_target *t, lm_err *err)
{
    if (t->kind == ST_NONE)
        return 0;
    if (t->sql.oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if (mysql_query(t->c, t->sql.data) != 0)
        return lm_my_fail(err, t->c, LM_EDB, "replaying changes");
    t->kind = ST_NONE;
    t->rows = 0;
    lm_buf_reset(&t->sql);
    return 0;
}

static int begin(lm_replay_target *t, const rp_table *tab, st_kind kind, lm_err *err)
{
    const lm_table_def *d = tab->def;
    bool first = true;
    int rc;

    if (!t->in_trx) {
        if (mysql_query(t->c, "START TRANSACTION") != 0)
            return lm_my_fail(err, t->c, LM_EDB, "starting a transaction on the target");
        t->in_trx = true;
    }
    if (t->kind == kind && t->st_tab == tab && t->sql.len < STMT_MAX_BYTES &&
        t->rows < STMT_MAX_ROWS) {
        lm_buf_puts(&t->sql, kind == ST_REPLACE ? ", " : " OR ");
        return 0;
    }
    if ((rc = flush(t, err)) < 0)
        return rc;
    t->kind = kind;
    t->st_tab = tab;
    lm_buf_puts(&t->sql, kind == ST_REPLACE ? "REPLACE INTO " : "DELETE FROM ");
    lm_my_put_table(&t->sql, d->db, d->name);
    if (kind == ST_DELETE)
        return lm_buf_puts(&t->sql, " WHERE ");
    lm_buf_puts(&t->sql, " (");
    for (size_t i = 0; i < d->ncols; i++) {
        if (tab->src[i] < 0)
            continue;
        lm_buf_puts(&t->sql, first ? "" : ", ");
        lm_mysql_quote_ident(&t->sql, d->cols[i].name);
        first = false;
    }
    return lm_buf_puts(&t->sql, ") VALUES ");
}

static int add_replace(lm_replay_target *t, const rp_table *tab, const lm_row *r, lm_err *err)
{
    const lm_table_def *d = tab->def;
    bool first = true;
    int rc;

    if ((rc = begin(t, tab, ST_REPLACE, err)) < 0)
        return rc;
    lm_buf_putc(&t->sql, '(');
    for (size_t i = 0; i < d->ncols; i++) {
        if (tab->src[i] < 0)
            continue;
        lm_buf_puts(&t->sql, first ? "" : ", ");
        first = false;
        if ((rc = lm_my_literal(&t->sql, &r->cols[tab->src[i]], &d->cols[i], err)) < 0)
            return rc;
    }
    lm_buf_putc(&t->sql, ')');
    t->rows++;
    return 0;
}

static int add_delete(lm_replay_target *t, const rp_table *tab, const lm_row *r, lm_err *err)
{
    const lm_table_def *d = tab->def;
    int rc;

    if ((rc = begin(t, tab, ST_DELETE, err)) < 0)
        return rc;
    lm_buf_putc(&t->sql, '(');
    for (size_t k = 0; k < d->nkey; k++) {
        unsigned ci = d->key_cols[k];
        const lm_value *v = &r->cols[tab->src[ci]];
        if (v->kind == LM_VAL_ABSENT || v->kind == LM_VAL_NULL)
            return lm_err_set(err, LM_ECORRUPT, "key column %s is missing from a row image",
                              d->cols[ci].name);
        lm_buf_puts(&t->sql, k ? " AND " : "");
        lm_mysql_quote_ident(&t->sql, d->cols[ci].name);
        lm_buf_puts(&t->sql, " = ");
        if ((rc = lm_my_literal(&t->sql, v, &d->cols[ci], err)) < 0)
            return rc;
    }
    lm_buf_putc(&t->sql, ')');
    t->rows++;
    return 0;
}

static bool key_changed(const rp_table *tab, const lm_row *b, const lm_row *a)
{
    for (size_t k = 0; k < tab->def->nkey; k++) {
        int s = tab->src[tab->def->key_cols[k]];
        if (!lm_my_value_eq(&b->cols[s], &a->cols[s]))
            return true;
    }
    return false;
}

int lm_mysql_replay_row(lm_replay_target *t, const lm_table_map *tm, const char *db,
                        const char *table, lm_row_op op, const lm_row *before, const lm_row *after,
                        lm_err *err)
{
    rp_table *tab;
    int rc;

    if ((rc = find_table(t, db, table, &tab, err)) < 0 || (rc = map_columns(tab, tm, err)) < 0)
        return rc;
    if ((op != LM_ROW_INSERT && (before == NULL || before->ncols != tm->ncols)) ||
        (op != LM_ROW_DELETE && (after == NULL || after->ncols != tm->ncols)))
        return lm_err_set(err, LM_ECORRUPT, "a row change of %s.%s lacks its row image", tm->db,
                          tm->table);
    switch (op) {
    case LM_ROW_INSERT:
        return add_replace(t, tab, after, err);
    case LM_ROW_UPDATE:
        /* The old key's row must go, or the target keeps both versions. */
        if (key_changed(tab, before, after) && (rc = add_delete(t, tab, before, err)) < 0)
            return rc;
        return add_replace(t, tab, after, err);
    case LM_ROW_DELETE:
        return add_delete(t, tab, before, err);
    }
    return lm_err_set(err, LM_ECORRUPT, "unknown row operation %d", (int)op);
}

int lm_mysql_replay_commit(lm_replay_target *t, lm_err *err)
{
    int rc;

    if (!t->in_trx)
        return 0;
    if ((rc = flush(t, err)) < 0)
        return rc;
    if (mysql_query(t->c, "COMMIT") != 0)
        return lm_my_fail(err, t->c, LM_EDB, "committing on the target");
    t->in_trx = false;
    return 0;
}

void lm_mysql_replay_rollback(lm_replay_target *t)
{
    lm_buf_reset(&t->sql);
    t->kind = ST_NONE;
    t->rows = 0;
    if (t->in_trx)
        mysql_query(t->c, "ROLLBACK");
    t->in_trx = false;
}

void lm_mysql_replay_close(lm_replay_target *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->ntabs; i++) {
        lm_table_def_free(t->tabs[i].def);
        free(t->tabs[i].src);
    }
    free(t->tabs);
    lm_buf_free(&t->sql);
    if (t->c)
        mysql_close(t->c);
    free(t);
}
