/* Before anything is created: the server can stream (wal_level, a free
 * slot, the REPLICATION attribute), the table can be migrated (a key, a
 * usable replica identity, nothing livemig cannot carry over), and the
 * ALTER is valid — proven by running it on the shadow. */
#include "pg/internal.h"

#include "livemig/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int check_server(PGconn *c, lm_pg_plan *p, lm_err *err)
{
    PGresult *r = NULL;
    int rc = lm_pg_query(
        c,
        "SELECT current_setting('wal_level'), current_setting('server_version_num')::int, "
        "(SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user), "
        "current_setting('max_replication_slots')::int - (SELECT count(*) FROM "
        "pg_replication_slots), current_setting('max_wal_senders')::int - (SELECT count(*) FROM "
        "pg_stat_replication), (SELECT oid FROM pg_database WHERE datname = current_database()), "
        "has_database_privilege(current_database(), 'CREATE'), current_user",
        0, NULL, &r, err);

    if (rc < 0)
        return rc;
    if (strcmp(PQgetvalue(r, 0, 0), "logical") != 0)
        rc = lm_err_set(err, LM_EINVAL,
                        "wal_level is %s: livemig reads changes by logical replication; set "
                        "wal_level = logical and restart the server",
                        PQgetvalue(r, 0, 0));
    else if (atoi(PQgetvalue(r, 0, 1)) < 140000)
        rc = lm_err_set(err, LM_EINVAL, "PostgreSQL %s is too old: livemig needs 14 or later",
                        PQgetvalue(r, 0, 1));
    else if (PQgetvalue(r, 0, 2)[0] != 't')
        rc = lm_err_set(err, LM_EINVAL,
                        "role %s may not open a replication connection: ALTER ROLE %s "
                        "REPLICATION (or run livemig as a superuser)",
                        PQgetvalue(r, 0, 7), PQgetvalue(r, 0, 7));
    else if (atoi(PQgetvalue(r, 0, 3)) < 1)
        rc = lm_err_set(err, LM_EINVAL,
                        "no free replication slot (max_replication_slots is used up): drop an "
                        "unused slot or raise the setting");
    else if (atoi(PQgetvalue(r, 0, 4)) < 1)
        rc = lm_err_set(err, LM_EINVAL,
                        "no free WAL sender (max_wal_senders is used up): raise the setting");
    else if (PQgetvalue(r, 0, 6)[0] != 't')
        rc = lm_err_set(err, LM_EINVAL,
                        "role %s lacks CREATE on the database, needed for the publication",
                        PQgetvalue(r, 0, 7));
    p->dboid = (unsigned)strtoul(PQgetvalue(r, 0, 5), NULL, 10);
    PQclear(r);
    return rc;
}

/* Things a rename swap cannot carry (or that would make it unsafe). */
static int check_table(PGconn *c, const lm_pg_table *t, lm_err *err)
{
    char oid[16];
    const char *params[] = {oid};
    PGresult *r = NULL;
    int rc;

    snprintf(oid, sizeof(oid), "%u", t->oid);
    rc = lm_pg_query(
        c,
        "SELECT pg_has_role(c.relowner, 'USAGE'), "
        "has_schema_privilege(c.relnamespace, 'CREATE'), c.relrowsecurity, "
        "EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = c.oid OR inhparent = c.oid), "
        "(SELECT string_agg(m.oid::regclass::text, ', ') FROM pg_depend d JOIN pg_rewrite w ON "
        "w.oid = d.objid JOIN pg_class m ON m.oid = w.ev_class WHERE d.refobjid = c.oid AND "
        "d.classid = 'pg_rewrite'::regclass AND m.relkind = 'm' AND m.oid <> c.oid) "
        "FROM pg_class c WHERE c.oid = $1::oid",
        1, params, &r, err);
    if (rc < 0)
        return rc;
    if (PQgetvalue(r, 0, 0)[0] != 't')
        rc = lm_err_set(err, LM_EINVAL,
                        "the current role does not own %s.%s (owner %s): renaming it and "
                        "publishing it need the owner's rights",
                        t->nsp, t->name, t->owner);
    else if (PQgetvalue(r, 0, 1)[0] != 't')
        rc = lm_err_set(err, LM_EINVAL, "the current role lacks CREATE on schema %s", t->nsp);
    else if (PQgetvalue(r, 0, 2)[0] == 't')
        rc = lm_err_set(err, LM_EINVAL,
                        "%s.%s has row level security: livemig does not carry policies over yet",
                        t->nsp, t->name);
    else if (PQgetvalue(r, 0, 3)[0] == 't')
        rc = lm_err_set(err, LM_EINVAL,
                        "%s.%s is part of an inheritance tree: livemig migrates single tables",
                        t->nsp, t->name);
    else if (!PQgetisnull(r, 0, 4))
        rc = lm_err_set(err, LM_EINVAL,
                        "materialized view %s depends on %s.%s: drop it before the migration and "
                        "create it again after",
                        PQgetvalue(r, 0, 4), t->nsp, t->name);
    PQclear(r);
    if (rc < 0)
        return rc;
    if (t->replident == 'n')
        return lm_err_set(err, LM_EINVAL,
                          "%s.%s has REPLICA IDENTITY NOTHING: publishing it would make the "
                          "application's UPDATE and DELETE fail; set REPLICA IDENTITY DEFAULT "
                          "(with a primary key) first",
                          t->nsp, t->name);
    if (t->nkey == 0)
        return lm_err_set(err, LM_EINVAL,
                          "%s.%s has no primary key%s: livemig needs one to find rows (and "
                          "publishing it would make the application's UPDATE and DELETE fail)",
                          t->nsp, t->name, t->replident == 'i' ? " or replica identity index" : "");
    return 0;
}

/* A column a view, a constraint of another table, or an outgoing foreign
 * key uses must survive the ALTER unchanged: the cutover re-creates those
 * objects from their definitions. */
static int check_dependents(PGconn *c, const lm_pg_plan *p, lm_err *err)
{
    char oid[16];
    const char *params[] = {oid};
    PGresult *r = NULL;
    int rc;

    snprintf(oid, sizeof(oid), "%u", p->src.oid);
    rc = lm_pg_query(
        c,
        "SELECT d.refobjsubid, v.oid::regclass::text, 'view' FROM pg_depend d JOIN pg_rewrite w "
        "ON w.oid = d.objid JOIN pg_class v ON v.oid = w.ev_class WHERE d.classid = "
        "'pg_rewrite'::regclass AND d.refobjid = $1::oid AND d.refobjsubid > 0 AND v.oid <> "
        "$1::oid "
        "UNION ALL SELECT unnest(conkey), conname, 'foreign key' FROM pg_constraint WHERE "
        "conrelid = $1::oid AND contype = 'f' "
        "UNION ALL SELECT unnest(confkey), conname || ' of ' || conrelid::regclass::text, "
        "'foreign key' FROM pg_constraint WHERE confrelid = $1::oid AND contype = 'f' AND "
        "conrelid <> $1::oid",
        1, params, &r, err);
    if (rc < 0)
        return rc;
    for (int row = 0; row < PQntuples(r) && rc == 0; row++) {
        int attnum = atoi(PQgetvalue(r, row, 0));
        for (size_t i = 0; i < p->src.ncols; i++) {
            const lm_pg_col *col = &p->src.cols[i];
            const lm_pg_col *to = lm_pg_mapped(p, i);
            if (col->attnum != attnum)
                continue;
            if (to == NULL || col->retyped || strcmp(to->name, col->name) != 0)
                rc = lm_err_set(err, LM_EINVAL,
                                "the ALTER %s column %s, which %s %s uses: change that first",
                                to == NULL     ? "drops"
                                : col->retyped ? "retypes"
                                               : "renames",
                                col->name, PQgetvalue(r, row, 2), PQgetvalue(r, row, 1));
        }
    }
    PQclear(r);
    return rc;
}

/* The shadow must have a unique index on the (mapped) key: the stream's
 * inserts are upserts on it. */
static int check_shadow_key(PGconn *c, const lm_pg_plan *p, lm_err *err)
{
    lm_pg_table key;
    int rc;

    if ((rc = lm_pg_table_load(c, p->src.nsp, p->shadow_name, &key, err)) < 0)
        return rc;
    bool same = key.nkey == p->src.nkey;
    for (size_t k = 0; same && k < key.nkey; k++)
        same = (int)key.key[k] == p->src.cols[p->src.key[k]].to;
    lm_pg_table_free(&key);
    if (!same)
        return lm_err_set(err, LM_EINVAL,
                          "the ALTER changes the primary key (or replica identity) of %s.%s: "
                          "livemig finds rows by it, so it must stay",
                          p->src.nsp, p->src.name);
    return 0;
}

/* A USING expression converts differently from the copy's assignment
 * casts (and the stream's values could not follow it). */
static int check_alter_text(const char *alter, lm_err *err)
{
    bool quote = false, dquote = false;

    for (const char *s = alter; *s; s++) {
        if (*s == '\'' && !dquote)
            quote = !quote;
        else if (*s == '"' && !quote)
            dquote = !dquote;
        else if (!quote && !dquote && strncasecmp(s, "using", 5) == 0 &&
                 (s == alter || !isalnum((unsigned char)s[-1])) && !isalnum((unsigned char)s[5]) &&
                 s[5] != '_' && (s == alter || s[-1] != '_'))
            return lm_err_set(err, LM_EINVAL,
                              "the ALTER has USING: livemig converts values with the ordinary "
                              "assignment casts and cannot apply a USING expression to the "
                              "stream; change the type in two steps instead");
    }
    return 0;
}

static int leftovers(PGconn *c, lm_pg_plan *p, const lm_pg_preflight_opts *o, lm_err *err)
{
    char oldn[200], newn[200];
    const char *params[] = {newn, oldn, p->slot};
    PGresult *r = NULL;
    lm_buf b = LM_BUF_INIT;
    int rc;

    lm_pg_put_qname(&b, p->src.nsp, p->shadow_name);
    snprintf(newn, sizeof(newn), "%s", b.data ? b.data : "");
    lm_buf_reset(&b);
    lm_pg_put_qname(&b, p->src.nsp, p->old_name);
    snprintf(oldn, sizeof(oldn), "%s", b.data ? b.data : "");
    lm_buf_free(&b);
    rc = lm_pg_query(c,
                     "SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL, EXISTS "
                     "(SELECT 1 FROM pg_replication_slots WHERE slot_name = $3), EXISTS (SELECT 1 "
                     "FROM pg_publication WHERE pubname = $3), coalesce(obj_description("
                     "to_regclass($1), 'pg_class') = '" LM_PG_COPIED_MARK "', false)",
                     3, params, &r, err);
    if (rc < 0)
        return rc;
    bool shadow = PQgetvalue(r, 0, 0)[0] == 't', old = PQgetvalue(r, 0, 1)[0] == 't';
    bool helpers = PQgetvalue(r, 0, 2)[0] == 't' || PQgetvalue(r, 0, 3)[0] == 't';
    bool resumable = shadow && PQgetvalue(r, 0, 2)[0] == 't' && PQgetvalue(r, 0, 3)[0] == 't' &&
                     PQgetvalue(r, 0, 4)[0] == 't';
    bool force = o->force && o->execute;
    PQclear(r);
    if (o->resume) {
        if (!resumable)
            return lm_err_set(err, LM_EINVAL,
                              "nothing to resume for %s.%s: --resume continues a migration whose "
                              "copy had completed (its shadow, slot and publication are kept); "
                              "run without --resume%s",
                              p->src.nsp, p->src.name,
                              shadow || helpers ? " and with --force to start over" : "");
        p->resume = true;
        return 0;
    }
    if (old)
        return lm_err_set(err, LM_EINVAL,
                          "%s.%s exists (the old table of an earlier migration?): drop or rename "
                          "it first, the cutover renames %s to that name",
                          p->src.nsp, p->old_name, p->src.name);
    if ((shadow || helpers) && !force)
        return lm_err_set(err, LM_EINVAL,
                          "%s.%s or the slot/publication %s is left from an earlier livemig run: "
                          "run again with --force to drop them and start over",
                          p->src.nsp, p->shadow_name, p->slot);
    if (shadow || helpers) {
        lm_warn("--force: dropping %s.%s and the slot/publication %s left from an earlier run",
                p->src.nsp, p->shadow_name, p->slot);
        return lm_pg_drop_helpers(c, p, true, err);
    }
    return 0;
}

static int create_shadow(PGconn *c, const lm_pg_preflight_opts *o, lm_pg_plan *p, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    int rc;

    lm_buf_puts(&q, "CREATE TABLE ");
    lm_pg_put_qname(&q, p->src.nsp, p->shadow_name);
    lm_buf_puts(&q, " (LIKE ");
    lm_pg_put_qname(&q, p->src.nsp, p->src.name);
    lm_buf_puts(&q, " INCLUDING ALL)");
    if (q.oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if ((rc = lm_pg_exec(c, q.data, err)) < 0)
        goto cleanup;
    lm_buf_reset(&q);
    lm_buf_puts(&q, "ALTER TABLE ");
    lm_pg_put_qname(&q, p->src.nsp, p->shadow_name);
    lm_buf_printf(&q, " %s", o->alter);
    /* Syntax and semantic errors of the ALTER are the user's input. The
     * extended protocol runs one statement: nothing can ride along after
     * a ';'. */
    PGresult *res = PQexecParams(c, q.data, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        if (m && strstr(m, "multiple commands"))
            rc = lm_err_set(err, LM_EINVAL,
                            "invalid ALTER: give the clauses of one ALTER TABLE, without ';'");
        else
            rc = lm_pg_fail(err, c, res, LM_EINVAL, "invalid ALTER");
        PQclear(res);
        goto cleanup;
    }
    PQclear(res);
    if ((rc = lm_pg_table_load(c, p->src.nsp, p->shadow_name, &p->shadow, err)) < 0) {
        if (err->code == LM_EINVAL)
            snprintf(err->msg, sizeof(err->msg),
                     "the ALTER must not rename the table or move it to another schema");
        goto cleanup;
    }
    if ((rc = lm_pg_plan_map(p, err)) < 0 || (rc = check_shadow_key(c, p, err)) < 0 ||
        (rc = check_dependents(c, p, err)) < 0)
        goto cleanup;
    for (size_t i = 0; i < p->src.ncols; i++)
        if (p->src.cols[i].retyped && check_alter_text(o->alter, err) < 0) {
            rc = err->code;
            goto cleanup;
        }
cleanup:
    lm_buf_free(&q);
    return rc;
}

static int split_table(const char *spec, char *nsp, char *name, lm_err *err)
{
    const char *dot = strchr(spec, '.');

    nsp[0] = '\0';
    if (dot && (size_t)(dot - spec) < LM_PG_NAME_MAX)
        snprintf(nsp, LM_PG_NAME_MAX, "%.*s", (int)(dot - spec), spec);
    snprintf(name, LM_PG_NAME_MAX, "%s", dot ? dot + 1 : spec);
    if (strlen(name) > LM_PG_NAME_MAX - 7)
        return lm_err_set(err, LM_EINVAL,
                          "table name %s is too long: _<name>_new must fit PostgreSQL's 63 bytes",
                          name);
    return 0;
}

int lm_pg_preflight(PGconn *c, const lm_pg_preflight_opts *o, lm_pg_plan *p, lm_err *err)
{
    char nsp[LM_PG_NAME_MAX], name[LM_PG_NAME_MAX];
    bool began = false;
    int rc;

    if ((rc = split_table(o->table, nsp, name, err)) < 0 || (rc = check_server(c, p, err)) < 0 ||
        (rc = lm_pg_table_load(c, nsp, name, &p->src, err)) < 0 ||
        (rc = check_table(c, &p->src, err)) < 0)
        return rc;
    if (strlen(p->src.name) > LM_PG_NAME_MAX - 7)
        return lm_err_set(err, LM_EINVAL, "table name %s is too long for _<name>_new", p->src.name);
    /* The length was checked: the precision only tells the compiler. */
    snprintf(p->shadow_name, sizeof(p->shadow_name), "_%.57s_new", p->src.name);
    snprintf(p->old_name, sizeof(p->old_name), "_%.57s_old", p->src.name);
    snprintf(p->slot, sizeof(p->slot), "livemig_%u_%u", p->dboid, p->src.oid);
    if ((rc = leftovers(c, p, o, err)) < 0)
        return rc;
    if (p->resume) {
        if ((rc = lm_pg_table_load(c, p->src.nsp, p->shadow_name, &p->shadow, err)) < 0 ||
            (rc = lm_pg_plan_map(p, err)) < 0 || (rc = check_shadow_key(c, p, err)) < 0)
            return rc;
        lm_info("resuming: %s.%s, slot and publication %s are kept from the earlier run",
                p->src.nsp, p->shadow_name, p->slot);
        return 0;
    }
    /* The shadow is created in a transaction: a bad ALTER leaves nothing,
     * and a dry run rolls it back. */
    if ((rc = lm_pg_exec(c, "BEGIN", err)) < 0)
        return rc;
    began = true;
    if ((rc = create_shadow(c, o, p, err)) < 0)
        goto cleanup;
    rc = lm_pg_exec(c, o->execute ? "COMMIT" : "ROLLBACK", err);
    began = false;
cleanup:
    if (began)
        lm_pg_exec(c, "ROLLBACK", &(lm_err)LM_ERR_INIT);
    return rc;
}

int lm_pg_drop_helpers(PGconn *c, const lm_pg_plan *p, bool shadow, lm_err *err)
{
    const char *params[] = {p->slot};
    lm_buf q = LM_BUF_INIT;
    int rc = 0;

    /* The slot may still be held by a walsender that is going away: a
     * few tries. */
    for (int i = 0; i < 50; i++) {
        lm_err e = LM_ERR_INIT;
        if (lm_pg_query(c,
                        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                        "WHERE slot_name = $1",
                        1, params, NULL, &e) == 0)
            break;
        if (strcmp(e.sqlstate, "55006") != 0 || i == 49) {
            rc = lm_err_set(err, e.code, "dropping slot %s: %s", p->slot, e.msg);
            break;
        }
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    lm_buf_puts(&q, "DROP PUBLICATION IF EXISTS ");
    lm_pg_put_ident(&q, p->slot);
    if (shadow) {
        lm_buf_puts(&q, "; DROP TABLE IF EXISTS ");
        lm_pg_put_qname(&q, p->src.nsp, p->shadow_name);
    }
    if (q.oom)
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
    else if (lm_pg_exec(c, q.data, err) < 0)
        rc = err->code;
    lm_buf_free(&q);
    return rc;
}
