#include "tail_int.h"

#include "livemig/clock.h"
#include "livemig/log.h"
#include "mysql/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Reconnect backoff: first wait, doubling up to the longest. */
#define RECONNECT_FIRST_MS 100L
#define RECONNECT_MAX_MS   5000L
/* MariaDB GTID event flags2 (after seq_no(8) and domain_id(4)): a group
 * without BEGIN/COMMIT, e.g. DDL. The decoder does not expose it. */
#define MARIADB_GTID_FLAGS_OFF  (LM_BINLOG_HEADER_LEN + 12)
#define MARIADB_GTID_STANDALONE 0x01
/* XA_PREPARE_LOG_EVENT: not decoded, but it ends a group. */
#define BL_XA_PREPARE 38

static bool ident_char(int c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* After keyword kw (and spaces), or NULL. */
static const char *skip_word(const char *p, const char *kw)
{
    size_t n = strlen(kw);

    if (strncasecmp(p, kw, n) != 0 || ident_char((unsigned char)p[n]))
        return NULL;
    p += n;
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

/* "CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name …": where name starts.
 * Only that name is created; `LIKE t` or `SELECT … FROM t` read t without
 * changing it (a backup taken during the migration is not DDL on t).
 * TEMPORARY tables are never t's rows: "" (names nothing). */
static const char *created_table(const char *p)
{
    const char *q;

    if ((p = skip_word(p, "CREATE")) == NULL)
        return NULL;
    if ((q = skip_word(p, "OR")) && (q = skip_word(q, "REPLACE")))
        p = q;
    if (skip_word(p, "TEMPORARY"))
        return "";
    if ((p = skip_word(p, "TABLE")) == NULL)
        return NULL;
    if ((q = skip_word(p, "IF")) && (q = skip_word(q, "NOT")) && (q = skip_word(q, "EXISTS")))
        p = q;
    return p;
}

/* Whether the (maybe db-qualified, maybe quoted) name at p ends in table. */
static bool last_name_is(const char *p, const char *table)
{
    size_t tl = strlen(table);

    for (;;) {
        const char *start = p, *end;
        if (*p == '`') {
            start = ++p;
            while (*p && *p != '`')
                p++;
            end = p;
            if (*p)
                p++;
        } else {
            while (ident_char((unsigned char)*p))
                p++;
            end = p;
        }
        if (*p != '.')
            return (size_t)(end - start) == tl && strncmp(start, table, tl) == 0;
        p++;
    }
}

bool lm_tail_is_table_ddl(const char *query, const char *table)
{
    static const char *ddl[] = {"ALTER", "DROP", "RENAME", "TRUNCATE", "CREATE", NULL};
    const char *p = query, *hit;
    size_t tl = strlen(table);
    bool is_ddl = false;

    while (*p && (isspace((unsigned char)*p) || *p == '('))
        p++;
    /* Skip leading comments such as the one the server adds to DROP TABLE. */
    while (p[0] == '/' && p[1] == '*') {
        const char *end = strstr(p + 2, "*/");
        if (end == NULL)
            return false;
        p = end + 2;
        while (*p && isspace((unsigned char)*p))
            p++;
    }
    for (int i = 0; ddl[i]; i++) {
        size_t kl = strlen(ddl[i]);
        if (strncasecmp(p, ddl[i], kl) == 0 && !ident_char((unsigned char)p[kl]))
            is_ddl = true;
    }
    if (!is_ddl || tl == 0)
        return false;
    if ((hit = created_table(p)) != NULL)
        return last_name_is(hit, table);
    for (hit = strstr(p, table); hit; hit = strstr(hit + 1, table)) {
        int before = hit > query ? (unsigned char)hit[-1] : ' ';
        int after = (unsigned char)hit[tl];
        if (!ident_char(before) && !ident_char(after))
            return true;
    }
    return false;
}

static int queue_rows(lm_tail *t, const lm_binlog_event *ev, unsigned source, lm_err *err)
{
    lm_row before, after;
    int rc;

    while ((rc = lm_binlog_rows_next(t->dec, &before, &after, err)) == 1) {
        /* Replayed after a reconnect: queued once already. */
        if (++t->seen <= t->pushed)
            continue;
        lm_change *c = calloc(1, sizeof(*c));
        if (c == NULL)
            return lm_err_set(err, LM_ENOMEM, "out of memory queueing a change");
        c->op = ev->row_op;
        c->source = source;
        c->timestamp = ev->hdr.timestamp;
        snprintf(c->end.file, sizeof(c->end.file), "%s", ev->at.file);
        c->end.pos = ev->next_pos;
        c->txn_start = t->boundary;
        if ((ev->row_op != LM_ROW_INSERT && lm_row_clone(&before, &c->before) < 0) ||
            (ev->row_op != LM_ROW_DELETE && lm_row_clone(&after, &c->after) < 0)) {
            lm_change_free(c);
            return lm_err_set(err, LM_ENOMEM, "out of memory queueing a change");
        }
        lm_queue_push(t->q, c, &t->stop);
        t->pushed++;
    }
    return rc;
}

static int handle_event(lm_tail *t, const lm_binlog_event *ev, lm_err *err)
{
    /* --changes-start: the table already holds what came before. A group
     * is judged by where it began: the boundary stays before a file's
     * header events until the first group ends, so the first group of a
     * file started right after them would be skipped. */
    if (t->have_from && lm_binlog_pos_cmp(t->in_txn ? &t->group_start : &t->boundary, &t->from) < 0)
        return 0;
    if (lm_binlog_type_is_rows(ev->hdr.type)) {
        if (ev->table == NULL || strcmp(ev->table->db, t->db) != 0)
            return 0;
        if (strcmp(ev->table->table, t->table) == 0)
            return queue_rows(t, ev, 0, err);
        for (size_t i = 0; i < t->nalso; i++)
            if (strcmp(ev->table->table, t->also[i]) == 0)
                return queue_rows(t, ev, (unsigned)i + 1, err);
        return 0;
    }
    switch (ev->hdr.type) {
    case LM_BL_QUERY:
    case LM_BL_QUERY_COMPRESSED:
        /* livemig's own DDL (foreign keys at the cutover, fk.c). */
        if (ev->query == NULL || t->expect_ddl || strncmp(ev->query, "/* livemig */", 13) == 0 ||
            (ev->query_db && strcmp(ev->query_db, t->db) != 0 && !strstr(ev->query, t->db)))
            return 0;
        for (size_t i = 0; i <= t->nalso; i++) {
            const char *name = i ? t->also[i - 1] : t->table;
            if (lm_tail_is_table_ddl(ev->query, name))
                return lm_err_set(err, LM_EFAIL,
                                  "DDL on %s.%s during the migration (%.200s): the migration "
                                  "stops; run it again when the schema is stable",
                                  t->db, name, ev->query);
        }
        return 0;
    default:
        return 0;
    }
}

/* The text after the leading keyword(s) kw (case-insensitive), or NULL. */
static const char *query_is(const char *q, const char *kw)
{
    size_t n = strlen(kw);

    while (isspace((unsigned char)*q))
        q++;
    if (strncasecmp(q, kw, n) != 0 || ident_char((unsigned char)q[n]))
        return NULL;
    return q + n;
}

/* COMMIT, ROLLBACK (not ROLLBACK TO a savepoint), XA COMMIT/ROLLBACK. */
static bool query_ends_txn(const char *q)
{
    const char *rest = query_is(q, "ROLLBACK");

    return query_is(q, "COMMIT") || query_is(q, "XA COMMIT") || query_is(q, "XA ROLLBACK") ||
           (rest && !query_is(rest, "TO"));
}

static void set_boundary(lm_tail *t, const lm_binlog_pos *pos, const char *gtid)
{
    t->boundary = *pos;
    t->pushed = t->seen = 0;
    t->in_txn = false;
    if (gtid != t->last_gtid) { /* a ROTATE passes last_gtid itself */
        size_t n = strnlen(gtid, sizeof(t->last_gtid) - 1);
        memcpy(t->last_gtid, gtid, n);
        t->last_gtid[n] = '\0';
    }
    t->gtid[0] = '\0';
    lm_queue_set_safe_pos(t->q, &t->boundary, t->last_gtid);
}

/* Follow event groups: a boundary is where a restarted stream begins
 * with a whole transaction (its TABLE_MAPs included). Groups end at XID,
 * COMMIT/ROLLBACK, XA PREPARE, or after a statement outside a transaction
 * (DDL); a real ROTATE between groups moves the boundary to the new file
 * so that a purged old file does not matter. raw is the outer event. */
static void track_group(lm_tail *t, const lm_binlog_event *ev, const uint8_t *raw, size_t len)
{
    lm_binlog_pos end;
    bool ends = false, was_in = t->in_txn;

    snprintf(end.file, sizeof(end.file), "%s", ev->at.file);
    end.pos = ev->next_pos;
    if (ev->hdr.type != LM_BL_ROTATE)
        t->rotated = false;
    switch (ev->hdr.type) {
    case LM_BL_GTID_MARIADB:
        /* MariaDB has no BEGIN event: the GTID event opens the group. */
        t->in_txn = !(len > MARIADB_GTID_FLAGS_OFF &&
                      (raw[MARIADB_GTID_FLAGS_OFF] & MARIADB_GTID_STANDALONE));
        snprintf(t->gtid, sizeof(t->gtid), "%s", ev->gtid);
        break;
    case LM_BL_GTID_MYSQL:
        snprintf(t->gtid, sizeof(t->gtid), "%s", ev->gtid);
        break;
    case LM_BL_QUERY:
    case LM_BL_QUERY_COMPRESSED:
        if (ev->query == NULL)
            break;
        if (query_is(ev->query, "BEGIN") || query_is(ev->query, "XA START"))
            t->in_txn = true;
        else if (!t->in_txn || query_ends_txn(ev->query))
            ends = true;
        break;
    case LM_BL_XID:
    case BL_XA_PREPARE:
        ends = true;
        break;
    case LM_BL_ROTATE:
        if (!ev->rotate_fake && !t->in_txn)
            set_boundary(t, &ev->rotate, t->last_gtid);
        t->rotated = !ev->rotate_fake;
        break;
    default:
        /* Rows outside BEGIN would be odd; be safe and keep them in a group. */
        if (lm_binlog_type_is_rows(ev->hdr.type))
            t->in_txn = true;
        break;
    }
    if (!was_in && t->in_txn)
        t->group_start = ev->at;
    if (ends)
        set_boundary(t, &end, t->gtid);
}

int lm_tail_consume(lm_tail *t, const uint8_t *data, size_t len, lm_err *err)
{
    lm_binlog_event ev;
    int rc;

    if ((rc = lm_binlog_feed(t->dec, data, len, err)) < 0)
        return rc;
    while ((rc = lm_binlog_next(t->dec, &ev, err)) == 1) {
        if ((rc = handle_event(t, &ev, err)) < 0)
            return rc;
        track_group(t, &ev, data, len);
        /* Announce the position only after its changes are queued, and
         * not again while a reconnect replays what was announced. */
        if (ev.hdr.log_pos != 0 && !(ev.hdr.flags & LM_BINLOG_FLAG_ARTIFICIAL) &&
            ev.hdr.type != LM_BL_FORMAT_DESCRIPTION) {
            lm_binlog_pos p;
            snprintf(p.file, sizeof(p.file), "%s", ev.at.file);
            p.pos = ev.next_pos;
            t->lost_since = 0;
            if (lm_binlog_pos_cmp(&p, &t->announced) > 0) {
                lm_queue_set_pos(t->q, &p, ev.hdr.timestamp);
                t->announced = p;
            }
        }
    }
    return rc;
}

/* Worth reopening the stream: the connection went away (the read timeout
 * is a 2013 too) or the server is too busy for one more, not a refusal. */
static bool conn_lost(const lm_err *e)
{
    return lm_my_conn_lost(e->server_errno) || e->server_errno == 1040; /* ER_CON_COUNT_ERROR */
}

static const char *reason_of(const lm_err *e)
{
    static const char prefix[] = "binlog stream: ";

    return strncmp(e->msg, prefix, sizeof(prefix) - 1) == 0 ? e->msg + sizeof(prefix) - 1 : e->msg;
}

/* Sleep ms in small steps; false when lm_tail_stop was called. */
static bool nap(lm_tail *t, long ms)
{
    for (; ms > 0 && !t->stop; ms -= 20)
        lm_sleep_us((ms < 20 ? ms : 20) * 1000L);
    return !t->stop;
}

/* Reopen the stream at the last boundary after *err (a lost connection),
 * with backoff, until opts.reconnect_s have passed since it was lost. */
static int reconnect(lm_tail *t, lm_err *err)
{
    char reason[sizeof(err->msg)];
    lm_binlog_stream_opts o = t->opts;
    lm_binlog_stream *s = NULL;
    lm_binlog_decoder *dec = NULL;
    lm_err last = LM_ERR_INIT;
    long delay = RECONNECT_FIRST_MS;
    double left;
    int rc;

    snprintf(reason, sizeof(reason), "%s", reason_of(err));
    lm_err_clear(err);
    if (t->lost_since == 0)
        t->lost_since = lm_now();
    lm_warn("binlog stream: %s; reconnecting from %s:%llu", reason, t->boundary.file,
            (unsigned long long)t->boundary.pos);
    pthread_mutex_lock(&t->mu);
    lm_binlog_stream_close(t->stream);
    t->stream = NULL;
    pthread_mutex_unlock(&t->mu);

    o.start = t->boundary;
    /* Started from a GTID state and no boundary seen yet: start there again. */
    o.gtid = t->boundary.file[0] ? NULL : t->opts.gtid;
    for (;;) {
        left = t->lost_since + t->opts.reconnect_s - lm_now();
        if (left <= 0)
            return lm_err_set(err, LM_EIO,
                              "binlog stream: %s, and reconnecting failed for %.0f s; "
                              "last error: %s",
                              reason, t->opts.reconnect_s, last.msg[0] ? last.msg : "none");
        if (!nap(t, delay < left * 1000 ? delay : (long)(left * 1000) + 1))
            return lm_err_set(err, LM_EABORT, "stopped while reconnecting");
        delay = delay * 2 < RECONNECT_MAX_MS ? delay * 2 : RECONNECT_MAX_MS;
        lm_err_clear(&last);
        if (lm_binlog_stream_open(&s, t->dsn, &o, &last) == 0)
            break;
        if (!conn_lost(&last)) {
            *err = last;
            lm_err_prefix(err, "binlog stream: reconnecting after \"%s\"", reason);
            return err->code;
        }
        lm_debug("binlog stream: reconnect attempt failed: %s", last.msg);
    }
    if ((rc = lm_binlog_decoder_new(&dec, err)) < 0) {
        lm_binlog_stream_close(s);
        return rc;
    }
    pthread_mutex_lock(&t->mu);
    if (t->stop) {
        pthread_mutex_unlock(&t->mu);
        lm_binlog_stream_close(s);
        lm_binlog_decoder_free(dec);
        return lm_err_set(err, LM_EABORT, "stopped while reconnecting");
    }
    t->stream = s;
    pthread_mutex_unlock(&t->mu);
    /* A fresh decoder: the replay brings the FDE and TABLE_MAPs again. */
    lm_binlog_decoder_free(t->dec);
    t->dec = dec;
    lm_binlog_decoder_set_file(t->dec, t->boundary.file, t->boundary.pos);
    t->seen = 0;
    t->in_txn = false;
    t->gtid[0] = '\0';
    if (t->pushed)
        lm_info("binlog stream: reconnected after %.1f s at %s:%llu; skipping %llu change(s) "
                "already queued",
                lm_now() - t->lost_since, t->boundary.file, (unsigned long long)t->boundary.pos,
                (unsigned long long)t->pushed);
    else
        lm_info("binlog stream: reconnected after %.1f s at %s:%llu", lm_now() - t->lost_since,
                t->boundary.file, (unsigned long long)t->boundary.pos);
    return 0;
}

static void *tail_main(void *arg)
{
    lm_tail *t = arg;
    lm_err err = LM_ERR_INIT;
    const uint8_t *data;
    size_t len;
    bool ended;
    int rc = 0;

    while (!t->stop) {
        rc = lm_binlog_stream_read(t->stream, &data, &len, &err);
        if (rc > 0) {
            if ((rc = lm_tail_consume(t, data, len, &err)) < 0)
                break;
            continue;
        }
        ended = rc == 0;
        if (ended)
            rc = lm_err_set(&err, LM_EIO, "binlog stream: the server ended the stream");
        if (t->stop || t->opts.reconnect_s <= 0 || !(ended || conn_lost(&err)))
            break;
        if ((rc = reconnect(t, &err)) < 0)
            break;
    }
    if (t->stop)
        lm_err_clear(&err);
    else if (err.code && strncmp(err.msg, "binlog stream", 13) != 0)
        lm_err_prefix(&err, "binlog stream");
    lm_queue_close(t->q, &err);
    return NULL;
}

lm_tail *lm_tail_new(lm_queue *q, const char *db, const char *table)
{
    lm_tail *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    pthread_mutex_init(&t->mu, NULL);
    t->q = q;
    t->db = strdup(db);
    t->table = strdup(table);
    if (t->db == NULL || t->table == NULL) {
        lm_tail_stop(t);
        return NULL;
    }
    return t;
}

int lm_tail_also(lm_tail *t, const char *name)
{
    char **a = realloc(t->also, (t->nalso + 1) * sizeof(char *));

    if (a == NULL)
        return LM_ENOMEM;
    t->also = a;
    if ((a[t->nalso] = strdup(name)) == NULL)
        return LM_ENOMEM;
    t->nalso++;
    return 0;
}

int lm_tail_launch(lm_tail *t, lm_tail **out, void *(*fn)(void *), lm_err *err)
{
    if (pthread_create(&t->thread, NULL, fn, t) != 0) {
        lm_tail_stop(t);
        return lm_err_set(err, LM_EIO, "cannot start the thread reading the changes");
    }
    t->started = true;
    *out = t;
    return 0;
}

int lm_tail_start(lm_tail **out, const lm_dsn *dsn, const lm_binlog_stream_opts *opts,
                  const char *db, const char *table, const char *const *also, size_t nalso,
                  lm_queue *q, lm_err *err)
{
    lm_tail *t = lm_tail_new(q, db, table);
    int rc;

    if (t == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    for (size_t i = 0; i < nalso; i++)
        if (lm_tail_also(t, also[i]) < 0) {
            rc = lm_err_set(err, LM_ENOMEM, "out of memory");
            goto fail;
        }
    t->dsn = dsn;
    t->opts = *opts;
    t->boundary = opts->start;
    t->announced = opts->start;
    t->start_gtid = opts->gtid ? strdup(opts->gtid) : NULL;
    t->opts.gtid = t->start_gtid;
    if (opts->gtid && t->start_gtid == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = lm_binlog_decoder_new(&t->dec, err)) < 0)
        goto fail;
    lm_binlog_decoder_set_file(t->dec, opts->start.file, opts->start.pos);
    if ((rc = lm_binlog_stream_open(&t->stream, dsn, opts, err)) < 0)
        goto fail;
    lm_queue_set_pos(q, &opts->start, 0);
    lm_queue_set_safe_pos(q, &opts->start, "");
    return lm_tail_launch(t, out, tail_main, err);
fail:
    lm_tail_stop(t);
    return rc;
}

void lm_tail_expect_ddl(lm_tail *t, bool on)
{
    t->expect_ddl = on;
}

void lm_tail_stop(lm_tail *t)
{
    if (t == NULL)
        return;
    t->stop = true;
    if (t->started) {
        /* The thread may be swapping streams: interrupt the current one. */
        pthread_mutex_lock(&t->mu);
        lm_binlog_stream_interrupt(t->stream);
        pthread_mutex_unlock(&t->mu);
        pthread_join(t->thread, NULL);
    }
    lm_binlog_stream_close(t->stream);
    lm_binlog_decoder_free(t->dec);
    pthread_mutex_destroy(&t->mu);
    for (size_t i = 0; i < t->nfiles; i++)
        free(t->files[i]);
    free(t->files);
    for (size_t i = 0; i < t->nalso; i++)
        free(t->also[i]);
    free(t->also);
    free(t->start_gtid);
    free(t->db);
    free(t->table);
    free(t);
}
