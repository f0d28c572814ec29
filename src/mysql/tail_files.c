/* The tail fed by files (--changes-from): archived binlogs or recordings
 * bring a restored backup's table forward, instead of a live stream. */
#include "livemig/log.h"
#include "mysql/tail_int.h"
#include "record/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void pos_of(lm_binlog_pos *p, const char *file, uint64_t pos)
{
    snprintf(p->file, sizeof(p->file), "%s", file);
    p->pos = pos;
}

/* Each file must start where the one before it ended: a gap loses changes,
 * an overlap would apply old changes over newer ones. */
static int check_start(lm_tail *t, const char *path, const lm_binlog_pos *start, bool first,
                       lm_err *err)
{
    int cmp = lm_binlog_pos_cmp(start, &t->boundary);

    if (first) {
        if (t->have_from && lm_binlog_pos_cmp(start, &t->from) > 0)
            return lm_err_set(err, LM_EINVAL,
                              "--changes-from %s starts at %s:%llu, after --changes-start %s:%llu: "
                              "the changes in between are missing; give the files that hold them",
                              path, start->file, (unsigned long long)start->pos, t->from.file,
                              (unsigned long long)t->from.pos);
        t->boundary = t->announced = *start;
        lm_queue_set_pos(t->q, start, 0);
        lm_queue_set_safe_pos(t->q, start, "");
        return 0;
    }
    if (cmp == 0)
        return 0;
    if (cmp > 0 && !t->rotated && strcmp(start->file, t->boundary.file) != 0 && start->pos <= 4) {
        /* A server that crashed starts a new file without a ROTATE in the old one. */
        lm_warn("--changes-from %s starts binlog %s but the file before it ends at %s:%llu without "
                "a ROTATE (a server restart?); assuming nothing is missing in between",
                path, start->file, t->boundary.file, (unsigned long long)t->boundary.pos);
        t->boundary = *start;
        return 0;
    }
    return lm_err_set(err, LM_EINVAL,
                      "--changes-from %s starts at %s:%llu but the file before it ends at "
                      "%s:%llu: %s",
                      path, start->file, (unsigned long long)start->pos, t->boundary.file,
                      (unsigned long long)t->boundary.pos,
                      cmp > 0 ? "the changes in between are missing"
                              : "the files overlap or are out of order; give them in binlog "
                                "order, without overlaps");
}

/* 1 when --changes-until was reached, 0 at the end of the file. */
static int read_file(lm_tail *t, const char *path, bool first, lm_err *err)
{
    lm_rec_source *src = NULL;
    lm_binlog_pos start;
    const uint8_t *data;
    size_t len;
    int rc;

    if ((rc = lm_rec_source_open(&src, path, err)) < 0)
        goto cleanup;
    pos_of(&start, lm_rec_source_file(src), lm_rec_source_pos(src));
    if ((rc = check_start(t, path, &start, first, err)) < 0)
        goto cleanup;
    lm_binlog_decoder_free(t->dec);
    t->dec = NULL;
    if ((rc = lm_binlog_decoder_new(&t->dec, err)) < 0)
        goto cleanup;
    lm_binlog_decoder_set_file(t->dec, start.file, start.pos);
    while (!t->stop && (rc = lm_rec_source_read(src, &data, &len, err)) == 1) {
        if ((rc = lm_tail_consume(t, data, len, err)) < 0)
            break;
        if (t->have_until && !t->in_txn && lm_binlog_pos_cmp(&t->boundary, &t->until) >= 0) {
            rc = 1;
            goto cleanup;
        }
    }
    if (rc == 0 && t->in_txn && !t->stop)
        rc = lm_err_set(err, LM_EINVAL,
                        "--changes-from %s ends inside a transaction that began at %s:%llu (a file "
                        "cut short?): pass --changes-until %s:%llu to stop after the last whole "
                        "transaction",
                        path, t->boundary.file, (unsigned long long)t->boundary.pos,
                        t->boundary.file, (unsigned long long)t->boundary.pos);
    else if (rc < 0 && strstr(err->msg, path) == NULL)
        lm_err_prefix(err, "--changes-from %s", path);
cleanup:
    lm_rec_source_close(src);
    return rc;
}

static void *files_main(void *arg)
{
    lm_tail *t = arg;
    lm_err err = LM_ERR_INIT;
    int rc = 0;

    for (size_t i = 0; i < t->nfiles && rc == 0 && !t->stop; i++)
        rc = read_file(t, t->files[i], i == 0, &err);
    if (rc == 0 && t->have_until && !t->stop)
        rc = lm_err_set(&err, LM_EINVAL,
                        "the --changes-from files end at %s:%llu, before --changes-until %s:%llu",
                        t->boundary.file, (unsigned long long)t->boundary.pos, t->until.file,
                        (unsigned long long)t->until.pos);
    if (rc >= 0 && !t->stop) {
        pthread_mutex_lock(&t->mu);
        t->files_done = true;
        pthread_mutex_unlock(&t->mu);
        lm_info("read the --changes-from files up to %s:%llu", t->boundary.file,
                (unsigned long long)t->boundary.pos);
        return NULL;
    }
    if (t->stop)
        lm_err_clear(&err);
    lm_queue_close(t->q, &err);
    return NULL;
}

int lm_tail_start_files(lm_tail **out, const lm_tail_files *f, const char *db, const char *table,
                        lm_queue *q, lm_err *err)
{
    lm_tail *t = lm_tail_new(q, db, table);
    int rc;

    if (t == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    t->files = calloc(f->npaths ? f->npaths : 1, sizeof(*t->files));
    if (t->files == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto fail;
    }
    for (; t->nfiles < f->npaths; t->nfiles++) {
        if ((t->files[t->nfiles] = strdup(f->paths[t->nfiles])) == NULL) {
            rc = lm_err_set(err, LM_ENOMEM, "out of memory");
            goto fail;
        }
    }
    if ((t->have_from = f->from != NULL))
        t->from = *f->from;
    if ((t->have_until = f->until != NULL))
        t->until = *f->until;
    return lm_tail_launch(t, out, files_main, err);
fail:
    lm_tail_stop(t);
    return rc;
}

bool lm_tail_files_done(lm_tail *t)
{
    bool done;

    pthread_mutex_lock(&t->mu);
    done = t->files_done;
    pthread_mutex_unlock(&t->mu);
    return done;
}
