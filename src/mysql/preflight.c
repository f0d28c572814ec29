/* Preflight: everything that can be checked before the first durable
 * change, each refusal one line saying what is wrong and what to do;
 * then the shadow (or, for a dry run, a scratch copy that is dropped). */
#include "livemig/buf.h"
#include "livemig/log.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_IDENT      64
#define SENTRY_COMMENT "livemig-sentry"

static int check_settings(MYSQL *c, lm_err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc;

    if ((rc = lm_my_query(c,
                          "SELECT @@global.log_bin, @@global.binlog_format, "
                          "@@global.binlog_row_image",
                          &res, err)) < 0)
        return rc;
    if ((row = mysql_fetch_row(res)) == NULL) {
        rc = lm_err_set(err, LM_EDB, "could not read the binlog settings");
        goto cleanup;
    }
    if (row[0] == NULL || strcmp(row[0], "1") != 0)
        rc = lm_err_set(err, LM_EINVAL,
                        "binary logging is off (log_bin): restart the server with "
                        "--log-bin --binlog-format=ROW --binlog-row-image=FULL");
    else if (row[1] == NULL || strcasecmp(row[1], "ROW") != 0)
        rc = lm_err_set(err, LM_EINVAL,
                        "binlog_format is %s but livemig needs ROW: run SET GLOBAL "
                        "binlog_format = 'ROW' (and set it in the server's config)",
                        row[1] ? row[1] : "NULL");
    else if (row[2] == NULL || strcasecmp(row[2], "FULL") != 0)
        rc = lm_err_set(err, LM_EINVAL,
                        "binlog_row_image is %s but livemig needs FULL: run SET GLOBAL "
                        "binlog_row_image = 'FULL' (and set it in the server's config)",
                        row[2] ? row[2] : "NULL");
cleanup:
    mysql_free_result(res);
    return rc;
}

/* Run `prefix '<db>' middle '<t>'` and return the first column of the first row (or NULL). */
static int lookup(MYSQL *c, const char *sql_fmt_a, const char *db, const char *sql_fmt_b,
                  const char *t, const char *tail, char **out, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc;

    *out = NULL;
    lm_buf_puts(&q, sql_fmt_a);
    lm_my_put_str(&q, c, db, strlen(db));
    lm_buf_puts(&q, sql_fmt_b);
    lm_my_put_str(&q, c, t, strlen(t));
    lm_buf_puts(&q, tail);
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = lm_my_query(c, q.data, &res, err)) < 0)
        goto cleanup;
    if ((row = mysql_fetch_row(res)) != NULL && (*out = strdup(row[0] ? row[0] : "")) == NULL)
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
cleanup:
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    return rc;
}

static int check_table_objects(MYSQL *c, const char *db, const char *t, lm_err *err)
{
    char *hit = NULL;
    int rc;

    if ((rc = lookup(c,
                     "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
                     "WHERE EVENT_OBJECT_SCHEMA = ",
                     db, " AND EVENT_OBJECT_TABLE = ", t, " LIMIT 1", &hit, err)) < 0)
        return rc;
    if (hit) {
        rc = lm_err_set(err, LM_EINVAL,
                        "table %s.%s has triggers (e.g. %s): not supported yet; drop them "
                        "first or migrate another way",
                        db, t, hit);
        free(hit);
        return rc;
    }
    /* Foreign keys are planned after the column map (fk.c). */
    return rc;
}

/* Shadow and checkpoint of an earlier run: what --resume continues,
 * --force drops, and a plain run refuses to overwrite. */
static int check_interrupted(MYSQL *c, const lm_mysql_preflight_opts *o, const char *db, lm_plan *p,
                             lm_err *err)
{
    char *comment = NULL;
    int shadow, ckpt, old, rc;

    if ((shadow = lm_my_table_exists(c, db, p->shadow_name, NULL, err)) < 0 ||
        (ckpt = lm_my_table_exists(c, db, p->ckpt_name, NULL, err)) < 0)
        return LM_EDB;
    if (o->resume) {
        if (shadow && ckpt) {
            p->resume = true;
            return 0;
        }
        if (!ckpt)
            return lm_err_set(err, LM_EINVAL,
                              "nothing to resume: there is no checkpoint %s.%s (run without "
                              "--resume%s)",
                              db, p->ckpt_name,
                              shadow ? " and with --force to drop the shadow" : "");
        if ((old = lm_my_table_exists(c, db, p->old_name, &comment, err)) < 0)
            return old;
        if (old == 1 && strcmp(comment, SENTRY_COMMENT) != 0)
            p->cutover_done = true; /* the rename ran: t is the new table */
        free(comment);
        if (p->cutover_done)
            return 0;
        return lm_err_set(err, LM_EINVAL,
                          "the shadow %s.%s is missing, so the migration cannot be resumed: "
                          "run it again without --resume and with --force (a fresh start)",
                          db, p->shadow_name);
    }
    if (!shadow && !ckpt)
        return 0;
    if (!o->force)
        return lm_err_set(err, LM_EINVAL,
                          "an earlier migration of %s.%s was interrupted (%s%s%s left): use "
                          "--resume to continue it or --force to drop them and start over",
                          db, p->src->name, shadow ? p->shadow_name : "",
                          shadow && ckpt ? " and " : "", ckpt ? p->ckpt_name : "");
    lm_warn("--force: dropping the leftovers %s.%s and %s.%s of an earlier run", db, p->shadow_name,
            db, p->ckpt_name);
    if ((rc = lm_my_drop_table(c, db, p->shadow_name, err)) < 0 ||
        (rc = lm_my_drop_table(c, db, p->ckpt_name, err)) < 0)
        return rc;
    return 0;
}

/* Leftovers of an earlier run on the names we need. */
static int check_leftovers(MYSQL *c, const lm_mysql_preflight_opts *o, const char *db, lm_plan *p,
                           const char *scratch, lm_err *err)
{
    char *comment = NULL;
    int rc;

    if ((rc = check_interrupted(c, o, db, p, err)) < 0 || p->cutover_done)
        return rc;
    if ((rc = lm_my_table_exists(c, db, p->old_name, &comment, err)) < 0)
        return rc;
    if (rc == 1) {
        bool sentry = strcmp(comment, SENTRY_COMMENT) == 0;
        free(comment);
        if (!sentry)
            return lm_err_set(err, LM_EINVAL,
                              "a table %s.%s exists (the old table of an earlier migration?): "
                              "drop or rename it first, the cutover needs the name",
                              db, p->old_name);
        /* The run lock is ours, so no livemig is in this sentry's cutover. */
        if (!o->force && !o->resume)
            return lm_err_set(err, LM_EINVAL,
                              "a cutover sentry %s.%s is left from an earlier run: use --resume "
                              "to continue that run or --force to drop it",
                              db, p->old_name);
        lm_info("dropping the cutover sentry %s.%s left by an earlier run", db, p->old_name);
        if ((rc = lm_my_drop_table(c, db, p->old_name, err)) < 0)
            return rc;
    }
    if (strcmp(scratch, p->shadow_name) != 0) {
        if ((rc = lm_my_table_exists(c, db, scratch, NULL, err)) < 0)
            return rc;
        if (rc == 1 && !o->force)
            return lm_err_set(err, LM_EINVAL,
                              "a table %s.%s exists (a dry run's scratch copy?): drop it or "
                              "use --force",
                              db, scratch);
        if (rc == 1 && (rc = lm_my_drop_table(c, db, scratch, err)) < 0)
            return rc;
    }
    return 0;
}

static bool same_type(const lm_table_def *s, const lm_table_extra *sx, unsigned si,
                      const lm_table_def *d, const lm_table_extra *dx, unsigned di)
{
    const char *sc = sx->collation[si], *dc = dx->collation[di];

    return strcasecmp(s->cols[si].column_type, d->cols[di].column_type) == 0 &&
           ((sc == NULL && dc == NULL) || (sc && dc && strcasecmp(sc, dc) == 0));
}

/* Does every row distinct under the source's unique keys stay distinct
 * under shadow key k? Yes when some source unique key's columns all map
 * into k unchanged (same type and collation). Otherwise the shadow may
 * merge rows: the cutover must compare row counts. */
static bool key_covered(const lm_plan *p, const lm_table_extra *sx, const lm_table_extra *dx,
                        const lm_ukey *k)
{
    for (size_t i = 0; i < sx->nkeys; i++) {
        const lm_ukey *s = &sx->keys[i];
        bool all = s->ncols > 0;
        for (size_t j = 0; all && j < s->ncols; j++) {
            bool found = false;
            for (size_t m = 0; !found && m < p->nmap; m++) {
                if (p->map[m].src != s->cols[j])
                    continue;
                for (size_t kk = 0; kk < k->ncols; kk++)
                    if (k->cols[kk] == p->map[m].dst &&
                        same_type(p->src, sx, p->map[m].src, p->dst, dx, p->map[m].dst))
                        found = true;
            }
            all = found;
        }
        if (all)
            return true;
    }
    return false;
}

/* The shadow's key: a usable unique key over exactly the columns that
 * the source's iteration key maps to. */
static int pick_shadow_key(lm_plan *p, const lm_table_extra *dx, lm_err *err)
{
    const lm_table_def *s = p->src;
    lm_table_def *d = p->dst;
    unsigned *want = calloc(s->nkey, sizeof(unsigned));
    const lm_ukey *best = NULL;
    int rc = 0;

    if (want == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->nkey; i++) {
        size_t m;
        for (m = 0; m < p->nmap && p->map[m].src != s->key_cols[i]; m++)
            ;
        if (m == p->nmap)
            goto nokey;
        want[i] = p->map[m].dst;
    }
    for (size_t i = 0; i < dx->nkeys; i++) {
        const lm_ukey *k = &dx->keys[i];
        bool all = k->usable && k->ncols == s->nkey;
        for (size_t j = 0; all && j < k->ncols; j++) {
            bool in = false;
            for (size_t w = 0; w < s->nkey; w++)
                in |= want[w] == k->cols[j];
            all = in;
        }
        if (all && (best == NULL || k->primary))
            best = k;
    }
    if (best == NULL)
        goto nokey;
    free(d->key_name);
    free(d->key_cols);
    d->key_name = strdup(best->name);
    d->key_cols = malloc(best->ncols * sizeof(unsigned));
    p->dst_key_src = malloc(best->ncols * sizeof(unsigned));
    if (!d->key_name || !d->key_cols || !p->dst_key_src) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    d->nkey = best->ncols;
    for (size_t j = 0; j < best->ncols; j++) {
        d->key_cols[j] = best->cols[j];
        for (size_t m = 0; m < p->nmap; m++)
            if (p->map[m].dst == best->cols[j])
                p->dst_key_src[j] = p->map[m].src;
    }
    goto cleanup;
nokey:
    rc = lm_err_set(err, LM_EINVAL,
                    "no usable key shared by the old and new schema: the new table needs a "
                    "PRIMARY or NOT NULL UNIQUE key on the columns of %s's key %s",
                    s->name, s->key_name);
cleanup:
    free(want);
    return rc;
}

static int make_shadow(MYSQL *c, const char *db, const char *scratch, const lm_plan *p,
                       bool *created, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    int rc = 0;

    lm_buf_puts(&q, "CREATE TABLE ");
    lm_my_put_table(&q, db, scratch);
    lm_buf_puts(&q, " LIKE ");
    lm_my_put_table(&q, db, p->src->name);
    if (q.oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if (mysql_query(c, q.data) != 0) {
        /* Nothing was changed yet: a refusal, not a failure. */
        rc = lm_my_fail(err, c, LM_EINVAL, "cannot create the shadow table");
        goto cleanup;
    }
    *created = true;
    /* The spec is the user's own DDL: it is the one text appended as is. */
    lm_buf_reset(&q);
    lm_buf_puts(&q, "ALTER TABLE ");
    lm_my_put_table(&q, db, scratch);
    lm_buf_putc(&q, ' ');
    lm_buf_puts(&q, p->alter);
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (mysql_query(c, q.data) != 0) {
        rc = lm_err_set(err, LM_EINVAL, "the ALTER does not apply: %s", mysql_error(c));
        err->server_errno = mysql_errno(c);
    }
cleanup:
    lm_buf_free(&q);
    return rc;
}

static char *affix(const char *t, const char *suffix)
{
    size_t n = strlen(t) + strlen(suffix) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "_%s%s", t, suffix);
    return s;
}

int lm_mysql_preflight(MYSQL *c, const lm_mysql_preflight_opts *o, lm_plan **out, lm_err *err)
{
    lm_table_extra sx = {0}, dx = {0};
    lm_plan *p = NULL;
    char *db = NULL, *scratch = NULL;
    bool is_view = false, created = false;
    lm_rename *ren = NULL;
    size_t nren = 0;
    int rc;

    *out = NULL;
    if (o->table == NULL || o->alter == NULL || *o->table == '\0' || *o->alter == '\0')
        return lm_err_set(err, LM_EINVAL, "--table and --alter are required");
    if ((rc = lm_mysql_query_value(c, "SELECT DATABASE()", &db, err)) < 0)
        return rc;
    if (db == NULL)
        return lm_err_set(err, LM_EINVAL, "the DSN names no database");
    /* With --changes-from the server's own binlog plays no part. */
    if ((!o->no_binlog && (rc = check_settings(c, err)) < 0) ||
        (rc = lm_my_check_privileges(c, db, !o->no_binlog, err)) < 0)
        goto cleanup;
    /* Read the spec before touching anything: a table rename or a second
     * statement is refused here. */
    if ((rc = lm_alter_renames(o->alter, &ren, &nren, err)) < 0)
        goto cleanup;
    if (strlen(o->table) + 5 > MAX_IDENT) {
        rc = lm_err_set(err, LM_EINVAL,
                        "table name %s is too long for the helper names (_%s_new): at most %d "
                        "characters",
                        o->table, o->table, MAX_IDENT - 5);
        goto cleanup;
    }
    if ((p = calloc(1, sizeof(*p))) == NULL || (p->alter = strdup(o->alter)) == NULL ||
        (p->shadow_name = affix(o->table, "_new")) == NULL ||
        (p->old_name = affix(o->table, "_old")) == NULL ||
        (p->ckpt_name = affix(o->table, "_ckp")) == NULL ||
        (scratch = o->execute || o->resume ? strdup(p->shadow_name) : affix(o->table, "_chk")) ==
            NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = lm_my_read_table(c, db, o->table, &p->src, &sx, &is_view, err)) < 0)
        goto cleanup;
    if (rc == 0) {
        rc = lm_err_set(err, LM_EINVAL,
                        is_view ? "%s.%s is a view: only base tables can be migrated"
                                : "table %s.%s does not exist",
                        db, o->table);
        goto cleanup;
    }
    if ((rc = check_table_objects(c, db, o->table, err)) < 0)
        goto cleanup;
    if (p->src->nkey == 0) {
        rc = lm_err_set(err, LM_EINVAL,
                        "table %s.%s has no PRIMARY KEY and no UNIQUE key on NOT NULL columns: "
                        "add one first",
                        db, o->table);
        goto cleanup;
    }
    if ((rc = check_leftovers(c, o, db, p, scratch, err)) < 0)
        goto cleanup;
    if (p->cutover_done) {
        /* Nothing left to plan: the caller finishes the cleanup. */
        *out = p;
        p = NULL;
        goto cleanup;
    }

    /* From here a table of ours may exist: every failure drops it. A
     * resumed run reads the shadow it left instead. */
    if (!p->resume && (rc = make_shadow(c, db, scratch, p, &created, err)) < 0)
        goto cleanup;
    if ((rc = lm_my_read_table(c, db, scratch, &p->dst, &dx, &is_view, err)) < 0)
        goto cleanup;
    if (rc == 0) {
        rc = lm_err_set(err, LM_EDB, "the shadow %s.%s vanished", db, scratch);
        goto cleanup;
    }
    free(p->dst->name);
    if ((p->dst->name = strdup(p->shadow_name)) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = lm_alter_map(p->src, p->dst, o->alter, &p->map, &p->nmap, err)) < 0 ||
        (rc = pick_shadow_key(p, &dx, err)) < 0)
        goto cleanup;
    for (size_t i = 0; i < dx.nkeys; i++)
        if (!key_covered(p, &sx, &dx, &dx.keys[i])) {
            lm_info("the new unique key %s may reject rows the old table holds: row counts are "
                    "compared at the cutover",
                    dx.keys[i].name);
            p->adds_unique = true;
        }
    if ((rc = lm_my_fill_plan(c, p, o->fills, o->nfills, err)) < 0 ||
        (rc = lm_my_fk_plan(c, p, o->fk_rebuild, err)) < 0 ||
        (created && (rc = lm_my_fk_shadow_add(c, p, scratch, err)) < 0))
        goto cleanup;
    /* Success: the shadow stays (execute) or is dropped now (dry run). */
    created = false;
    if (!o->execute && !p->resume && (rc = lm_my_drop_table(c, db, scratch, err)) < 0)
        goto cleanup;
    *out = p;
    p = NULL;
    rc = 0;
cleanup:
    if (created) {
        lm_err cerr = LM_ERR_INIT;
        if (lm_my_drop_table(c, db, scratch, &cerr) < 0)
            lm_error("could not drop %s.%s: %s", db, scratch, cerr.msg);
    }
    lm_renames_free(ren, nren);
    lm_table_extra_free(&sx);
    lm_table_extra_free(&dx);
    lm_plan_free(p);
    free(scratch);
    free(db);
    return rc;
}
