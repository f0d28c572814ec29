/* The change source of a migration: the server's binlog from a new or a
 * resumed checkpoint, or (--changes-from) binlog files and recordings. */
#include "livemig/log.h"
#include "core/run.h"
#include "record/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned default_server_id(void)
{
    /* Must differ from every replica's id; pid and time make clashes unlikely. */
    return 1000000000u + (unsigned)(getpid() % 100000) * 1000u + (unsigned)(time(NULL) % 1000);
}

/* Bounded by memory; the count cap keeps the allocator's overhead per
 * change (not in lm_change_size) in check when rows are tiny. */
static void init_queue(lm_queue *q)
{
    lm_queue_init(q, 100000);
    lm_queue_set_max_bytes(q, LM_QUEUE_MAX_BYTES);
}

int lm_run_files_parse(const lm_migrate_opts *o, const char *dsn_db, lm_run_files *fp, lm_err *err)
{
    const char *t = o->changes_table, *dot;
    int rc;

    for (size_t i = 0; i < o->nchanges_from; i++)
        if (access(o->changes_from[i], R_OK) != 0)
            return lm_err_set(err, LM_EINVAL, "--changes-from %s: cannot read it",
                              o->changes_from[i]);
    if (o->changes_start && (rc = lm_rec_parse_pos(o->changes_start, &fp->from, err)) < 0)
        return rc;
    if (o->changes_until && (rc = lm_rec_parse_pos(o->changes_until, &fp->until, err)) < 0)
        return rc;
    if (o->changes_start && o->changes_until && lm_binlog_pos_cmp(&fp->until, &fp->from) < 0)
        return lm_err_set(err, LM_EINVAL, "--changes-until %s is before --changes-start %s",
                          o->changes_until, o->changes_start);
    dot = t ? strchr(t, '.') : NULL;
    snprintf(fp->db, sizeof(fp->db), "%.*s", dot ? (int)(dot - t) : (int)strlen(dsn_db),
             dot ? t : dsn_db);
    snprintf(fp->table, sizeof(fp->table), "%s", t ? (dot ? dot + 1 : t) : o->table);
    if (fp->db[0] == '\0' || fp->table[0] == '\0')
        return lm_err_set(err, LM_EINVAL, "invalid --changes-table '%s' (expected db.table)", t);
    return 0;
}

int lm_run_start_changes(lm_run *r, const lm_run_files *fp, lm_err *err)
{
    const lm_migrate_opts *o = r->o;
    lm_binlog_stream_opts so;
    int rc;

    if (o->nchanges_from) {
        lm_tail_files f = {o->changes_from, o->nchanges_from, o->changes_start ? &fp->from : NULL,
                           o->changes_until ? &fp->until : NULL};
        init_queue(&r->q);
        r->queue_ready = true;
        lm_info("migrating %s.%s: changes of %s.%s from %zu file(s), shadow %s", r->plan->src->db,
                r->plan->src->name, fp->db, fp->table, o->nchanges_from, r->plan->shadow_name);
        return lm_tail_start_files(&r->tail, &f, fp->db, fp->table, &r->q, err);
    }
    /* The stream starts before the first row is copied: at the current
     * position with a new checkpoint, or at the checkpoint's. */
    memset(&so, 0, sizeof(so));
    so.server_id = o->server_id ? o->server_id : default_server_id();
    so.heartbeat_ms = 1000;
    so.reconnect_s = o->reconnect_timeout;
    if ((rc = lm_run_checkpoint_start(r, &so.start, err)) < 0)
        return rc;
    init_queue(&r->q);
    lm_queue_set_safe_pos(&r->q, &so.start, "");
    r->queue_ready = true;
    const char *also[LM_MAX_FILLS];
    for (size_t i = 0; i < r->plan->nfill && i < LM_MAX_FILLS; i++)
        also[i] = r->plan->fills[i].child->name;
    if ((rc = lm_tail_start(&r->tail, &r->dsn, &so, r->plan->src->db, r->plan->src->name, also,
                            r->plan->nfill, &r->q, err)) < 0)
        return rc;
    lm_info("migrating %s.%s: binlog from %s:%llu, shadow %s", r->plan->src->db, r->plan->src->name,
            so.start.file, (unsigned long long)so.start.pos, r->plan->shadow_name);
    return 0;
}
