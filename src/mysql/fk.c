/* Foreign keys around a migration (issue 7). The shadow carries the
 * table's own foreign keys under temporary names (constraint names are
 * unique per schema); RENAME TABLE makes the children's constraints follow
 * the old table to _<t>_old. So they are dropped just before the cutover's
 * lock and added back right after the rename, referencing t by name (the
 * new table), with metadata-only ALTERs (foreign_key_checks = 0: no
 * validation, no copy) under their own names; the table's own get their
 * names back. In between the children are not checked (tens of ms): better
 * than checked against the old table, which fails every child row of a
 * parent created after the rename. An undone attempt adds them back on
 * the old table. */
#include "livemig/buf.h"
#include "livemig/clock.h"
#include "livemig/log.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FK_QUERY                                                                                   \
    "SELECT rc.CONSTRAINT_NAME, rc.CONSTRAINT_SCHEMA, rc.TABLE_NAME, "                             \
    "rc.UNIQUE_CONSTRAINT_SCHEMA, rc.REFERENCED_TABLE_NAME, rc.DELETE_RULE, rc.UPDATE_RULE, "      \
    "k.COLUMN_NAME, k.REFERENCED_COLUMN_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS rc "  \
    "JOIN information_schema.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA "    \
    "AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME AND k.TABLE_NAME = rc.TABLE_NAME "                 \
    "AND k.REFERENCED_TABLE_NAME IS NOT NULL WHERE "
#define AFTER_SWAP_TRIES 5

static int add_col(lm_fk *fk, const char *col, const char *ref)
{
    char **c = realloc(fk->cols, (fk->ncols + 1) * sizeof(char *));
    if (c)
        fk->cols = c;
    char **r = realloc(fk->ref_cols, (fk->ncols + 1) * sizeof(char *));
    if (r)
        fk->ref_cols = r;
    if (!c || !r)
        return LM_ENOMEM;
    fk->cols[fk->ncols] = strdup(col);
    fk->ref_cols[fk->ncols] = strdup(ref);
    fk->ncols++;
    return fk->cols[fk->ncols - 1] && fk->ref_cols[fk->ncols - 1] ? 0 : LM_ENOMEM;
}

/* The table's foreign keys (incoming: those referencing it). */
static int read_fks(MYSQL *c, const char *db, const char *t, bool incoming, lm_fk **out, size_t *n,
                    lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    lm_fk *fks = NULL;
    size_t nf = 0;
    int rc;

    lm_buf_puts(&q, FK_QUERY);
    lm_buf_puts(&q, incoming ? "rc.UNIQUE_CONSTRAINT_SCHEMA = " : "rc.CONSTRAINT_SCHEMA = ");
    lm_my_put_str(&q, c, db, strlen(db));
    lm_buf_puts(&q, incoming ? " AND rc.REFERENCED_TABLE_NAME = " : " AND rc.TABLE_NAME = ");
    lm_my_put_str(&q, c, t, strlen(t));
    lm_buf_puts(&q, " ORDER BY rc.CONSTRAINT_SCHEMA, rc.TABLE_NAME, rc.CONSTRAINT_NAME, "
                    "k.ORDINAL_POSITION");
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = lm_my_query(c, q.data, &res, err)) < 0)
        goto cleanup;
    while ((row = mysql_fetch_row(res)) != NULL) {
        for (int i = 0; i < 9; i++)
            if (row[i] == NULL) {
                rc =
                    lm_err_set(err, LM_EDB, "information_schema returned a NULL for a foreign key");
                goto cleanup;
            }
        lm_fk *f = nf ? &fks[nf - 1] : NULL;
        if (f == NULL || strcmp(f->name, row[0]) != 0 || strcmp(f->db, row[1]) != 0 ||
            strcmp(f->table, row[2]) != 0) {
            lm_fk *g = realloc(fks, (nf + 1) * sizeof(*fks));
            if (g == NULL)
                goto oom;
            fks = g;
            f = &fks[nf++];
            memset(f, 0, sizeof(*f));
            f->name = strdup(row[0]);
            f->db = strdup(row[1]);
            f->table = strdup(row[2]);
            f->ref_db = strdup(row[3]);
            f->ref_table = strdup(row[4]);
            f->on_delete = strdup(row[5]);
            f->on_update = strdup(row[6]);
            if (!f->name || !f->db || !f->table || !f->ref_db || !f->ref_table || !f->on_delete ||
                !f->on_update)
                goto oom;
        }
        if (add_col(f, row[7], row[8]) < 0)
            goto oom;
    }
    *out = fks;
    *n = nf;
    fks = NULL;
    goto cleanup;
oom:
    rc = lm_err_set(err, LM_ENOMEM, "out of memory");
cleanup:
    lm_fk_free(fks, nf);
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    return rc;
}

/* The shadow's name of source column `name`, or NULL when the ALTER drops it. */
static const char *mapped(const lm_plan *p, const char *name)
{
    int s = lm_table_def_find(p->src, name);

    for (size_t i = 0; s >= 0 && i < p->nmap; i++)
        if (p->map[i].src == (unsigned)s)
            return p->dst->cols[p->map[i].dst].name;
    return NULL;
}

static int rename_cols(char **cols, size_t n, const lm_plan *p)
{
    for (size_t i = 0; i < n; i++) {
        char *to = strdup(mapped(p, cols[i]));
        if (to == NULL)
            return LM_ENOMEM;
        free(cols[i]);
        cols[i] = to;
    }
    return 0;
}

static bool all_mapped(char **cols, size_t n, const lm_plan *p)
{
    for (size_t i = 0; i < n; i++)
        if (mapped(p, cols[i]) == NULL)
            return false;
    return true;
}

/* The refusal that lists who references the table. */
static int refuse_incoming(const lm_plan *p, lm_err *err)
{
    lm_buf b = LM_BUF_INIT;
    int rc;

    for (size_t i = 0; i < p->nfk_in; i++)
        lm_buf_printf(&b, "%s%s.%s", i ? ", " : "", p->fk_in[i].table, p->fk_in[i].name);
    rc = lm_err_set(err, LM_EINVAL,
                    "table %s.%s is referenced by foreign keys (%s): rerun with "
                    "--foreign-keys=rebuild to re-point them after the swap",
                    p->src->db, p->src->name, b.oom ? "…" : b.data);
    lm_buf_free(&b);
    return rc;
}

int lm_my_fk_plan(MYSQL *c, lm_plan *p, bool rebuild, lm_err *err)
{
    const char *db = p->src->db, *t = p->src->name;
    size_t keep = 0;
    int rc;

    p->fk_mode = rebuild ? LM_FK_REBUILD : LM_FK_REFUSE;
    if ((rc = read_fks(c, db, t, false, &p->fk_out, &p->nfk_out, err)) < 0 ||
        (rc = read_fks(c, db, t, true, &p->fk_in, &p->nfk_in, err)) < 0)
        return rc;
    for (size_t i = 0; i < p->nfk_in; i++) {
        lm_fk *f = &p->fk_in[i];
        if (strcmp(f->table, t) == 0 && strcmp(f->db, db) == 0)
            return lm_err_set(err, LM_EINVAL,
                              "table %s.%s references itself (%s): not supported yet", db, t,
                              f->name);
        if (strcmp(f->db, db) != 0)
            return lm_err_set(err, LM_EINVAL,
                              "table %s.%s is referenced from another schema (%s.%s.%s): not "
                              "supported yet",
                              db, t, f->db, f->table, f->name);
        if (!all_mapped(f->ref_cols, f->ncols, p))
            return lm_err_set(err, LM_EINVAL,
                              "the ALTER drops a column that %s.%s references (%s): drop that "
                              "foreign key first",
                              f->table, f->name, f->ref_cols[0]);
        for (size_t j = 0; j < f->ncols; j++) {
            /* Caught here, not after the swap when the re-point would fail. */
            const lm_column *a = &p->src->cols[lm_table_def_find(p->src, f->ref_cols[j])];
            const lm_column *b = &p->dst->cols[lm_table_def_find(p->dst, mapped(p, a->name))];
            if (strcasecmp(a->column_type, b->column_type) != 0)
                return lm_err_set(err, LM_EINVAL,
                                  "the ALTER changes the type of %s, which %s.%s references: "
                                  "change both in separate steps",
                                  a->name, f->table, f->name);
        }
    }
    if (p->nfk_in && !rebuild)
        return refuse_incoming(p, err);
    for (size_t i = 0; i < p->nfk_in; i++)
        if (rename_cols(p->fk_in[i].ref_cols, p->fk_in[i].ncols, p) < 0)
            return lm_err_set(err, LM_ENOMEM, "out of memory");
    /* The table's own: kept when every column survives the ALTER. */
    for (size_t i = 0; i < p->nfk_out; i++) {
        lm_fk *f = &p->fk_out[i];
        if (!all_mapped(f->cols, f->ncols, p)) {
            lm_info("foreign key %s goes with its column(s): the new table will not have it",
                    f->name);
            lm_fk_clear(f);
            continue;
        }
        if (rename_cols(f->cols, f->ncols, p) < 0)
            return lm_err_set(err, LM_ENOMEM, "out of memory");
        p->fk_out[keep++] = *f;
    }
    p->nfk_out = keep;
    return 0;
}

/* ADD CONSTRAINT `name` FOREIGN KEY (…) REFERENCES `db`.`t` (…) ON … */
static void put_add(lm_buf *b, const lm_fk *f, const char *name, const char *ref_table)
{
    lm_buf_puts(b, "ADD CONSTRAINT ");
    lm_mysql_quote_ident(b, name);
    lm_buf_puts(b, " FOREIGN KEY (");
    for (size_t i = 0; i < f->ncols; i++) {
        lm_buf_puts(b, i ? ", " : "");
        lm_mysql_quote_ident(b, f->cols[i]);
    }
    lm_buf_puts(b, ") REFERENCES ");
    lm_my_put_table(b, f->ref_db, ref_table);
    lm_buf_puts(b, " (");
    for (size_t i = 0; i < f->ncols; i++) {
        lm_buf_puts(b, i ? ", " : "");
        lm_mysql_quote_ident(b, f->ref_cols[i]);
    }
    lm_buf_putc(b, ')');
    /* RESTRICT is what an unspecified rule reads back as: keep it unspoken. */
    if (strcmp(f->on_delete, "RESTRICT") != 0)
        lm_buf_printf(b, " ON DELETE %s", f->on_delete);
    if (strcmp(f->on_update, "RESTRICT") != 0)
        lm_buf_printf(b, " ON UPDATE %s", f->on_update);
}

int lm_my_fk_shadow_add(MYSQL *c, const lm_plan *p, const char *table, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    char tmp[80];
    int rc;

    if (p->nfk_out == 0)
        return 0;
    lm_buf_puts(&q, "ALTER TABLE ");
    lm_my_put_table(&q, p->src->db, table);
    for (size_t i = 0; i < p->nfk_out; i++) {
        lm_fk_temp_name(tmp, sizeof(tmp), p->fk_out[i].name);
        lm_buf_puts(&q, i ? ", " : " ");
        put_add(&q, &p->fk_out[i], tmp, p->fk_out[i].ref_table);
    }
    if (q.oom)
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
    else if ((rc = lm_mysql_exec(c, q.data, err)) < 0)
        lm_err_prefix(err, "adding the table's foreign keys to the shadow");
    lm_buf_free(&q);
    return rc;
}

/* livemig's own DDL on other tables: the tail must not take it for a
 * schema change under the migration (a --fill-from child is tailed). */
#define OWN_DDL "/* livemig */ ALTER TABLE "

static void put_drop_in(lm_buf *b, const lm_fk *f)
{
    lm_buf_puts(b, OWN_DDL);
    lm_my_put_table(b, f->db, f->table);
    lm_buf_puts(b, " DROP FOREIGN KEY ");
    lm_mysql_quote_ident(b, f->name);
    lm_buf_puts(b, ", ALGORITHM=INPLACE");
}

static void put_add_in(lm_buf *b, const lm_plan *p, const lm_fk *f)
{
    lm_buf_puts(b, OWN_DDL);
    lm_my_put_table(b, f->db, f->table);
    lm_buf_putc(b, ' ');
    put_add(b, f, f->name, p->src->name);
    lm_buf_puts(b, ", ALGORITHM=INPLACE");
}

/* The old table's name for one of its constraints after the rename:
 * InnoDB renames generated names (<t>_ibfk_<n>) with their table. */
static void put_old_name(lm_buf *b, const lm_plan *p, const char *name)
{
    size_t n = strlen(p->src->name);

    if (strncmp(name, p->src->name, n) == 0 && strncmp(name + n, "_ibfk_", 6) == 0) {
        lm_buf b2 = LM_BUF_INIT;
        lm_buf_printf(&b2, "%s%s", p->old_name, name + n);
        lm_mysql_quote_ident(b, b2.oom ? name : b2.data);
        lm_buf_free(&b2);
        return;
    }
    lm_mysql_quote_ident(b, name);
}

/* The table's own constraints: off the old table, back to their names. */
static void put_renames(lm_buf *old_q, lm_buf *new_q, const lm_plan *p)
{
    char tmp[80];

    lm_buf_puts(old_q, OWN_DDL);
    lm_my_put_table(old_q, p->src->db, p->old_name);
    lm_buf_puts(new_q, OWN_DDL);
    lm_my_put_table(new_q, p->src->db, p->src->name);
    for (size_t i = 0; i < p->nfk_out; i++) {
        lm_buf_puts(old_q, i ? ", DROP FOREIGN KEY " : " DROP FOREIGN KEY ");
        put_old_name(old_q, p, p->fk_out[i].name);
        lm_fk_temp_name(tmp, sizeof(tmp), p->fk_out[i].name);
        lm_buf_puts(new_q, i ? ", DROP FOREIGN KEY " : " DROP FOREIGN KEY ");
        lm_mysql_quote_ident(new_q, tmp);
    }
    for (size_t i = 0; i < p->nfk_out; i++) {
        lm_buf_puts(new_q, ", ");
        put_add(new_q, &p->fk_out[i], p->fk_out[i].name, p->fk_out[i].ref_table);
    }
    lm_buf_puts(old_q, ", ALGORITHM=INPLACE");
    lm_buf_puts(new_q, ", ALGORITHM=INPLACE");
}

/* Run stmt, retrying lock waits; on failure append it to todo. */
static int run_retry(MYSQL *c, const lm_buf *stmt, lm_buf *todo, lm_err *err)
{
    int rc = 0;

    if (stmt->oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    for (int i = 0; i < AFTER_SWAP_TRIES; i++) {
        lm_err_clear(err);
        if ((rc = lm_mysql_exec(c, stmt->data, err)) == 0)
            return 0;
        if (!err->retryable)
            break;
        lm_warn("%s (retrying)", err->msg);
        lm_sleep_us(200000L << i);
    }
    lm_buf_printf(todo, "  %s;\n", stmt->data);
    return rc;
}

/* An ALTER of a child waits for metadata locks and, in InnoDB, for locks
 * of running transactions, whose next statements on the child queue behind
 * it (a deadlock across the two lock kinds that only the timeout breaks:
 * innodb_lock_wait_timeout is 50 s by default, which stalled the
 * application that long). So each try waits at most a second, and at most
 * the cutover's lock timeout; run_retry tries again. (foreign_key_checks is
 * 0 on every livemig session: conn.c.) */
static int session(MYSQL *c, unsigned lock_s, lm_err *err)
{
    char q[160];
    unsigned s = lock_s == 0 || lock_s > 1 ? 1 : lock_s;

    snprintf(q, sizeof(q), "SET SESSION lock_wait_timeout = %u, innodb_lock_wait_timeout = %u", s,
             s);
    return lm_mysql_exec(c, q, err);
}

int lm_mysql_fk_predrop(MYSQL *c, const lm_plan *p, unsigned lock_s, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    int rc = 0;

    if (p->nfk_in == 0 || (rc = session(c, lock_s, err)) < 0)
        return rc;
    for (size_t i = 0; i < p->nfk_in && rc == 0; i++) {
        lm_buf_reset(&q);
        put_drop_in(&q, &p->fk_in[i]);
        if (q.oom)
            rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        else if ((rc = lm_mysql_exec(c, q.data, err)) < 0 && err->server_errno == 1091) {
            /* Gone already: an earlier attempt could not put it back. */
            lm_err_clear(err);
            rc = 0;
        }
    }
    if (rc < 0) {
        lm_err_prefix(err, "dropping the foreign keys that reference %s before the swap",
                      p->src->name);
        err->retryable = lm_my_retryable(err->server_errno);
    }
    lm_buf_free(&q);
    return rc;
}

/* ADD the children's constraints back, referencing t by name: the old
 * table when an attempt is undone, the new one after the swap. */
static int add_incoming(MYSQL *c, const lm_plan *p, lm_buf *todo, lm_err *first, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;

    for (size_t i = 0; i < p->nfk_in; i++) {
        lm_buf_reset(&q);
        put_add_in(&q, p, &p->fk_in[i]);
        if (run_retry(c, &q, todo, err) < 0 && err->server_errno != 1826 && first->code == 0)
            *first = *err; /* 1826: already there */
    }
    lm_buf_free(&q);
    return first->code ? first->code : 0;
}

int lm_mysql_fk_restore(MYSQL *c, const lm_plan *p, unsigned lock_s, char **todo_out, lm_err *err)
{
    lm_buf todo = LM_BUF_INIT;
    lm_err first = LM_ERR_INIT;
    int rc;

    *todo_out = NULL;
    if (p->nfk_in == 0)
        return 0;
    if ((rc = session(c, lock_s, err)) == 0 && (rc = add_incoming(c, p, &todo, &first, err)) < 0) {
        *err = first;
        *todo_out = todo.oom ? NULL : strdup(todo.data);
    }
    lm_buf_free(&todo);
    return rc;
}

int lm_mysql_fk_after_swap(MYSQL *c, const lm_plan *p, unsigned lock_s, char **todo_out,
                           lm_err *err)
{
    lm_buf q = LM_BUF_INIT, q2 = LM_BUF_INIT, todo = LM_BUF_INIT;
    lm_err first = LM_ERR_INIT;
    double t0 = lm_now();
    int rc = 0, r;

    *todo_out = NULL;
    if (p->nfk_in == 0 && p->nfk_out == 0)
        return 0;
    if ((rc = session(c, lock_s, err)) < 0)
        return rc;
    /* Children first: they have had no constraint since the pre-drop. */
    add_incoming(c, p, &todo, &first, err);
    if (p->nfk_in)
        lm_info("cutover: %zu foreign key(s) re-created on the new %s.%s %.0f ms after the rename",
                p->nfk_in, p->src->db, p->src->name, (lm_now() - t0) * 1000.0);
    if (p->nfk_out) {
        put_renames(&q, &q2, p);
        if ((r = run_retry(c, &q, &todo, err)) == 0)
            r = run_retry(c, &q2, &todo, err);
        else
            lm_buf_printf(&todo, "  %s;\n", q2.data);
        if (r < 0 && first.code == 0)
            first = *err;
    }
    if (first.code) {
        *err = first;
        rc = first.code;
        *todo_out = todo.oom ? NULL : strdup(todo.data);
    }
    lm_buf_free(&q);
    lm_buf_free(&q2);
    lm_buf_free(&todo);
    return rc;
}
