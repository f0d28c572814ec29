#include "tail.h"

#include "livemig/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct lm_tail {
    lm_binlog_stream *stream;
    lm_binlog_decoder *dec;
    lm_queue *q;
    char *db, *table;
    pthread_t thread;
    bool started;
    volatile bool stop;
    volatile bool expect_ddl;
};

static bool ident_char(int c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
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
    for (hit = strstr(p, table); hit; hit = strstr(hit + 1, table)) {
        int before = hit > query ? (unsigned char)hit[-1] : ' ';
        int after = (unsigned char)hit[tl];
        if (!ident_char(before) && !ident_char(after))
            return true;
    }
    return false;
}

static int queue_rows(lm_tail *t, const lm_binlog_event *ev, lm_err *err)
{
    lm_row before, after;
    int rc;

    while ((rc = lm_binlog_rows_next(t->dec, &before, &after, err)) == 1) {
        lm_change *c = calloc(1, sizeof(*c));
        if (c == NULL)
            return lm_err_set(err, LM_ENOMEM, "out of memory queueing a change");
        c->op = ev->row_op;
        c->timestamp = ev->hdr.timestamp;
        snprintf(c->end.file, sizeof(c->end.file), "%s", ev->at.file);
        c->end.pos = ev->next_pos;
        if ((ev->row_op != LM_ROW_INSERT && lm_row_clone(&before, &c->before) < 0) ||
            (ev->row_op != LM_ROW_DELETE && lm_row_clone(&after, &c->after) < 0)) {
            lm_change_free(c);
            return lm_err_set(err, LM_ENOMEM, "out of memory queueing a change");
        }
        lm_queue_push(t->q, c, &t->stop);
    }
    return rc;
}

static int handle_event(lm_tail *t, const lm_binlog_event *ev, lm_err *err)
{
    if (lm_binlog_type_is_rows(ev->hdr.type)) {
        if (ev->table && strcmp(ev->table->db, t->db) == 0 &&
            strcmp(ev->table->table, t->table) == 0)
            return queue_rows(t, ev, err);
        return 0;
    }
    switch (ev->hdr.type) {
    case LM_BL_QUERY:
    case LM_BL_QUERY_COMPRESSED:
        if (ev->query && !t->expect_ddl && lm_tail_is_table_ddl(ev->query, t->table) &&
            (ev->query_db == NULL || strcmp(ev->query_db, t->db) == 0 ||
             strstr(ev->query, t->db) != NULL))
            return lm_err_set(err, LM_EFAIL,
                              "DDL on %s.%s during the migration (%.200s): the migration "
                              "stops; run it again when the schema is stable",
                              t->db, t->table, ev->query);
        return 0;
    default:
        return 0;
    }
}

static void *tail_main(void *arg)
{
    lm_tail *t = arg;
    lm_err err = LM_ERR_INIT;
    lm_binlog_event ev;
    const uint8_t *data;
    size_t len;
    int rc = 0;

    while (!t->stop) {
        rc = lm_binlog_stream_read(t->stream, &data, &len, &err);
        if (rc <= 0) {
            if (rc == 0)
                lm_err_set(&err, LM_EIO, "the binlog stream ended unexpectedly");
            break;
        }
        if ((rc = lm_binlog_feed(t->dec, data, len, &err)) < 0)
            break;
        while ((rc = lm_binlog_next(t->dec, &ev, &err)) == 1) {
            if ((rc = handle_event(t, &ev, &err)) < 0)
                break;
            /* Announce the position only after its changes are queued. */
            if (ev.hdr.log_pos != 0 && !(ev.hdr.flags & LM_BINLOG_FLAG_ARTIFICIAL) &&
                ev.hdr.type != LM_BL_FORMAT_DESCRIPTION) {
                lm_binlog_pos p;
                snprintf(p.file, sizeof(p.file), "%s", ev.at.file);
                p.pos = ev.next_pos;
                lm_queue_set_pos(t->q, &p, ev.hdr.timestamp);
            }
        }
        if (rc < 0)
            break;
    }
    if (t->stop)
        lm_err_clear(&err);
    else if (err.code)
        lm_err_prefix(&err, "binlog stream");
    lm_queue_close(t->q, &err);
    return NULL;
}

int lm_tail_start(lm_tail **out, const lm_dsn *dsn, const lm_binlog_stream_opts *opts,
                  const char *db, const char *table, lm_queue *q, lm_err *err)
{
    lm_tail *t = calloc(1, sizeof(*t));
    int rc;

    if (t == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    t->q = q;
    t->db = strdup(db);
    t->table = strdup(table);
    if (t->db == NULL || t->table == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = lm_binlog_decoder_new(&t->dec, err)) < 0)
        goto fail;
    lm_binlog_decoder_set_file(t->dec, opts->start.file, opts->start.pos);
    if ((rc = lm_binlog_stream_open(&t->stream, dsn, opts, err)) < 0)
        goto fail;
    lm_queue_set_pos(q, &opts->start, 0);
    if (pthread_create(&t->thread, NULL, tail_main, t) != 0) {
        rc = lm_err_set(err, LM_EIO, "cannot start the binlog thread");
        goto fail;
    }
    t->started = true;
    *out = t;
    return 0;
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
        lm_binlog_stream_interrupt(t->stream);
        pthread_join(t->thread, NULL);
    }
    lm_binlog_stream_close(t->stream);
    lm_binlog_decoder_free(t->dec);
    free(t->db);
    free(t->table);
    free(t);
}
