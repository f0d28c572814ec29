/* The checkpoint: one row in `_<t>_ckp`, written in the same transaction
 * as the shadow rows it describes (a copied chunk, an applied batch), so
 * the watermark and the stream position are never ahead of what the
 * shadow holds. A resume restarts the copy after the watermark and the
 * stream at the position: changes after it are applied again, which is
 * harmless because applying a change sets rows to its after-image. */
#include "livemig/buf.h"
#include "livemig/log.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CKPT_COMMENT "livemig-checkpoint"

char *lm_mysql_ckpt_fingerprint(const lm_plan *p)
{
    const lm_table_def *s = p->src, *d = p->dst;
    lm_buf b = LM_BUF_INIT;

    lm_buf_printf(&b, "livemig %s\nsource: %s.%s key %s (", LIVEMIG_VERSION, s->db, s->name,
                  s->key_name);
    for (size_t i = 0; i < s->nkey; i++)
        lm_buf_printf(&b, "%s%s", i ? ", " : "", s->cols[s->key_cols[i]].name);
    lm_buf_printf(&b, ")\nalter: %s\nmap:", p->alter);
    for (size_t i = 0; i < p->nmap; i++)
        lm_buf_printf(&b, " %s->%s", s->cols[p->map[i].src].name, d->cols[p->map[i].dst].name);
    lm_buf_puts(&b, "\nshadow:");
    for (size_t i = 0; i < d->ncols; i++)
        lm_buf_printf(&b, " %s %s%s", d->cols[i].name, d->cols[i].column_type,
                      d->cols[i].nullable ? " NULL" : "");
    lm_buf_putc(&b, '\n');
    /* A resume must tail and join the same children. */
    for (size_t i = 0; i < p->nfill; i++)
        lm_buf_printf(&b, "fill: %s\n", p->fills[i].spec);
    if (b.oom) {
        lm_buf_free(&b);
        return NULL;
    }
    return b.data;
}

static int run(MYSQL *c, lm_buf *q, lm_err *err)
{
    int rc = q->oom ? lm_err_set(err, LM_ENOMEM, "out of memory") : lm_mysql_exec(c, q->data, err);

    lm_buf_free(q);
    return rc;
}

int lm_mysql_ckpt_create(MYSQL *c, const lm_plan *p, const char *fingerprint,
                         const lm_binlog_pos *start, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    int rc;

    lm_buf_puts(&q, "CREATE TABLE ");
    lm_my_put_table(&q, p->src->db, p->ckpt_name);
    lm_buf_puts(&q, " (id tinyint unsigned NOT NULL PRIMARY KEY, plan mediumtext NOT NULL, "
                    "state varchar(32) NOT NULL, copy_done tinyint NOT NULL DEFAULT 0, "
                    "watermark mediumtext NULL, rows_copied bigint unsigned NOT NULL DEFAULT 0, "
                    "changes_applied bigint unsigned NOT NULL DEFAULT 0, "
                    "binlog_file varchar(512) NOT NULL, binlog_pos bigint unsigned NOT NULL, "
                    "gtid varchar(64) NOT NULL DEFAULT '', updated_at timestamp(6) NOT NULL "
                    "DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)) "
                    "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='" CKPT_COMMENT "'");
    if ((rc = run(c, &q, err)) < 0)
        return rc;
    lm_buf_puts(&q, "INSERT INTO ");
    lm_my_put_table(&q, p->src->db, p->ckpt_name);
    lm_buf_puts(&q, " (id, plan, state, binlog_file, binlog_pos) VALUES (1, ");
    lm_my_put_str(&q, c, fingerprint, strlen(fingerprint));
    lm_buf_puts(&q, ", 'copying', ");
    lm_my_put_str(&q, c, start->file, strlen(start->file));
    lm_buf_printf(&q, ", %llu)", (unsigned long long)start->pos);
    return run(c, &q, err);
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* "hex,hex,…" -> nkey values (NULL-terminated, like lm_mysql_copy.last_key). */
static int parse_watermark(const char *s, size_t nkey, lm_mysql_copy *cp, lm_err *err)
{
    const char *p = s;

    cp->last_key = calloc(nkey + 1, sizeof(char *));
    cp->last_key_len = calloc(nkey, sizeof(size_t));
    if (cp->last_key == NULL || cp->last_key_len == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    for (size_t i = 0; i < nkey; i++) {
        size_t n = strcspn(p, ",");
        char *v = malloc(n / 2 + 1);
        if (v == NULL)
            return lm_err_set(err, LM_ENOMEM, "out of memory");
        cp->last_key[i] = v;
        if (n % 2 != 0 || (p[n] == '\0' && i + 1 < nkey) || (p[n] == ',' && i + 1 == nkey))
            return lm_err_set(err, LM_ECORRUPT, "the checkpoint's watermark is malformed");
        for (size_t k = 0; k < n; k += 2) {
            int hi = hexval((unsigned char)p[k]), lo = hexval((unsigned char)p[k + 1]);
            if (hi < 0 || lo < 0)
                return lm_err_set(err, LM_ECORRUPT, "the checkpoint's watermark is malformed");
            v[k / 2] = (char)(hi << 4 | lo);
        }
        v[n / 2] = '\0';
        cp->last_key_len[i] = n / 2;
        p += n + (p[n] == ',');
    }
    return 0;
}

int lm_mysql_ckpt_read(MYSQL *c, const lm_plan *p, lm_ckpt *out, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = lm_my_table_exists(c, p->src->db, p->ckpt_name, NULL, err)) <= 0)
        return rc;
    lm_buf_puts(&q, "SELECT plan, state, copy_done, watermark, rows_copied, changes_applied, "
                    "binlog_file, binlog_pos, gtid FROM ");
    lm_my_put_table(&q, p->src->db, p->ckpt_name);
    lm_buf_puts(&q, " WHERE id = 1");
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = lm_my_query(c, q.data, &res, err)) < 0)
        goto cleanup;
    if ((row = mysql_fetch_row(res)) == NULL || row[0] == NULL || row[6] == NULL) {
        rc =
            lm_err_set(err, LM_ECORRUPT, "the checkpoint %s.%s is empty", p->src->db, p->ckpt_name);
        goto cleanup;
    }
    if ((out->plan = strdup(row[0])) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    snprintf(out->state, sizeof(out->state), "%s", row[1] ? row[1] : "");
    out->copy.done = row[2] && strcmp(row[2], "1") == 0;
    if (row[3] && (rc = parse_watermark(row[3], p->src->nkey, &out->copy, err)) < 0)
        goto cleanup;
    out->copy.started = row[3] != NULL || out->copy.done;
    out->copy.rows = strtoull(row[4] ? row[4] : "0", NULL, 10);
    out->changes_applied = strtoull(row[5] ? row[5] : "0", NULL, 10);
    snprintf(out->pos.file, sizeof(out->pos.file), "%s", row[6]);
    out->pos.pos = strtoull(row[7] ? row[7] : "0", NULL, 10);
    snprintf(out->gtid, sizeof(out->gtid), "%s", row[8] ? row[8] : "");
    rc = 1;
cleanup:
    if (res)
        mysql_free_result(res);
    lm_buf_free(&q);
    if (rc < 0)
        lm_mysql_ckpt_free(out);
    return rc;
}

void lm_mysql_ckpt_free(lm_ckpt *ck)
{
    if (ck == NULL)
        return;
    free(ck->plan);
    ck->plan = NULL;
    lm_mysql_copy_free(&ck->copy);
}

int lm_mysql_ckpt_set_state(MYSQL *c, const lm_plan *p, const char *state, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;

    lm_buf_puts(&q, "UPDATE ");
    lm_my_put_table(&q, p->src->db, p->ckpt_name);
    lm_buf_printf(&q, " SET state = '%s' WHERE id = 1", state);
    return run(c, &q, err);
}

/* The UPDATE that records the copy's low-water mark (key NULL: nothing
 * copied yet). */
static int ckpt_copy_sql(lm_buf *q, const lm_plan *p, char **key, const size_t *key_len, bool done,
                         uint64_t rows)
{
    lm_buf_puts(q, "UPDATE ");
    lm_my_put_table(q, p->src->db, p->ckpt_name);
    lm_buf_puts(q, " SET watermark = ");
    if (key == NULL) {
        lm_buf_puts(q, "NULL");
    } else {
        lm_buf_putc(q, '\'');
        for (size_t i = 0; i < p->src->nkey; i++) {
            if (i)
                lm_buf_putc(q, ',');
            lm_buf_hex(q, (const uint8_t *)key[i], key_len[i]);
        }
        lm_buf_putc(q, '\'');
    }
    return lm_buf_printf(q, ", copy_done = %d, rows_copied = %llu WHERE id = 1", done ? 1 : 0,
                         (unsigned long long)rows);
}

int lm_mysql_ckpt_copy(MYSQL *c, const lm_plan *p, char **key, const size_t *key_len, bool done,
                       uint64_t rows, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    int rc;

    ckpt_copy_sql(&q, p, key, key_len, done, rows);
    if ((rc = run(c, &q, err)) < 0)
        lm_err_prefix(err, "recording the copy in the checkpoint");
    return rc;
}

/* The UPDATE that records an applied batch (used inside its transaction). */
int lm_my_ckpt_apply_sql(lm_buf *q, MYSQL *c, const lm_plan *p, const lm_ckpt_pos *ck)
{
    lm_buf_puts(q, "UPDATE ");
    lm_my_put_table(q, p->src->db, p->ckpt_name);
    if (ck->pos.file[0] == '\0') /* no boundary seen yet: the old position stands */
        return lm_buf_printf(q, " SET changes_applied = %llu WHERE id = 1",
                             (unsigned long long)ck->changes_applied);
    lm_buf_puts(q, " SET binlog_file = ");
    lm_my_put_str(q, c, ck->pos.file, strlen(ck->pos.file));
    lm_buf_printf(q, ", binlog_pos = %llu, changes_applied = %llu, gtid = ",
                  (unsigned long long)ck->pos.pos, (unsigned long long)ck->changes_applied);
    lm_my_put_str(q, c, ck->gtid ? ck->gtid : "", ck->gtid ? strlen(ck->gtid) : 0);
    return lm_buf_puts(q, " WHERE id = 1");
}

int lm_mysql_binlog_has(MYSQL *c, const char *file, char **oldest, lm_err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc, found = 0;

    *oldest = NULL;
    if ((rc = lm_my_query(c, "SHOW BINARY LOGS", &res, err)) < 0)
        return rc;
    while (res && (row = mysql_fetch_row(res)) != NULL) {
        if (*oldest == NULL && row[0] && (*oldest = strdup(row[0])) == NULL) {
            rc = lm_err_set(err, LM_ENOMEM, "out of memory");
            break;
        }
        if (row[0] && strcmp(row[0], file) == 0)
            found = 1;
    }
    if (res)
        mysql_free_result(res);
    return rc < 0 ? rc : found;
}

/* The run lock's name; lock names are limited to 64 characters, so the
 * database and table are hashed. */
static void put_lock_name(lm_buf *q, MYSQL *c, const char *table)
{
    lm_buf_puts(q, "CONCAT('livemig:', MD5(CONCAT(DATABASE(), '.', ");
    lm_my_put_str(q, c, table, strlen(table));
    lm_buf_puts(q, ")))");
}

int lm_mysql_run_lock(MYSQL *c, const char *table, lm_err *err)
{
    lm_buf q = LM_BUF_INIT;
    char *got = NULL, *holder = NULL;
    int rc;

    lm_buf_puts(&q, "SELECT GET_LOCK(");
    put_lock_name(&q, c, table);
    lm_buf_puts(&q, ", 0)");
    if (q.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = lm_mysql_query_value(c, q.data, &got, err)) < 0)
        goto cleanup;
    if (got && strcmp(got, "1") == 0)
        goto cleanup;
    lm_buf_reset(&q);
    lm_buf_puts(&q, "SELECT IS_USED_LOCK(");
    put_lock_name(&q, c, table);
    lm_buf_putc(&q, ')');
    if (!q.oom)
        lm_mysql_query_value(c, q.data, &holder, err);
    lm_err_clear(err);
    rc = lm_err_set(err, LM_EINVAL,
                    "another livemig is migrating %s (server connection %s holds its lock): "
                    "wait for it, or stop it first",
                    table, holder ? holder : "?");
cleanup:
    free(got);
    free(holder);
    lm_buf_free(&q);
    return rc;
}
