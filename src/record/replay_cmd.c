/* livemig replay FILE... --to URI [--tables LIST] [--rename db.t=db2.t2]
 *                [--speed max|1x|Nx] [--from FILE:POS] [--commit-every N]
 *
 * Reads binlog files and recordings in the order given and applies the row
 * changes of the chosen tables to the target, one target transaction per
 * source transaction (or per N with --commit-every), in commit order. The
 * statements are idempotent (mysql/replay.c), so replaying an overlap again
 * converges; --from skips the transactions that start before FILE:POS. At
 * the end (or on SIGINT/SIGTERM, after rolling back the open transaction)
 * the position after the last committed transaction is printed for --from. */
#include "record/record.h"

#include "livemig/clock.h"
#include "livemig/dsn.h"
#include "livemig/log.h"
#include "livemig/migrate.h"
#include "mysql/replay.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rename_rule {
    char from_db[193], from_tbl[193], to_db[193], to_tbl[193];
} rename_rule;

typedef struct rp_ctx {
    lm_rec_filter filter;
    rename_rule *renames;
    size_t nrenames;
    double speed; /* 0 = as fast as possible */
    lm_binlog_pos from;
    bool have_from;
    unsigned commit_every;
    lm_replay_target *t;
    /* The transaction being read. */
    lm_binlog_pos trx_start;
    bool trx_started, trx_skip, trx_paced;
    unsigned pending; /* source transactions in the open target transaction */
    /* Pacing. */
    double wall0;
    uint32_t ts0;
    bool paced0;
    /* Results. */
    lm_binlog_pos last_end; /* after the last source transaction replayed */
    lm_binlog_pos done;     /* after the last one committed on the target */
    uint64_t ntrx, nrows;
} rp_ctx;

/* Copy a name; false when it does not fit. */
static bool name_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* "db.t" or "t" into db (may stay empty) and table. */
static bool split_name(char *s, char *db, char *tbl)
{
    char *dot = strchr(s, '.');
    if (dot) {
        *dot = '\0';
        if (!name_copy(db, 193, s) || !*db)
            return false;
        s = dot + 1;
    }
    return name_copy(tbl, 193, s) && *tbl;
}

static int parse_rename(rp_ctx *c, const char *spec, lm_err *err)
{
    char buf[800], *eq;
    rename_rule r, *n;

    memset(&r, 0, sizeof(r));
    if (!name_copy(buf, sizeof(buf), spec) || (eq = strchr(buf, '=')) == NULL)
        return lm_err_set(err, LM_EINVAL, "invalid --rename '%s' (expected db.t=db2.t2)", spec);
    *eq++ = '\0';
    if (!split_name(buf, r.from_db, r.from_tbl) || !split_name(eq, r.to_db, r.to_tbl))
        return lm_err_set(err, LM_EINVAL, "invalid --rename '%s' (expected db.t=db2.t2)", spec);
    if ((n = realloc(c->renames, (c->nrenames + 1) * sizeof(*n))) == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    c->renames = n;
    c->renames[c->nrenames++] = r;
    return 0;
}

static void target_of(const rp_ctx *c, const lm_table_map *tm, const char **db, const char **tbl)
{
    *db = tm->db;
    *tbl = tm->table;
    for (size_t i = 0; i < c->nrenames; i++) {
        const rename_rule *r = &c->renames[i];
        if ((r->from_db[0] && strcmp(r->from_db, tm->db) != 0) || strcmp(r->from_tbl, tm->table))
            continue;
        if (r->to_db[0])
            *db = r->to_db;
        *tbl = r->to_tbl;
        return;
    }
}

/* --speed: wait until the transaction's recorded time comes round. */
static void pace(rp_ctx *c, uint32_t ts)
{
    double target;

    if (c->speed <= 0)
        return;
    if (!c->paced0) {
        c->paced0 = true;
        c->wall0 = lm_now();
        c->ts0 = ts;
        return;
    }
    target = c->wall0 + (ts >= c->ts0 ? (double)(ts - c->ts0) : 0.0) / c->speed;
    while (!lm_interrupted && lm_now() < target) {
        double left = target - lm_now();
        lm_sleep_us((long)((left > 0.2 ? 0.2 : left) * 1e6));
    }
}

static int rows(rp_ctx *c, lm_binlog_decoder *d, const lm_binlog_event *ev, lm_err *err)
{
    const lm_table_map *tm = ev->table;
    const char *db, *tbl;
    lm_row before, after;
    int rc;

    if (tm == NULL)
        return lm_err_set(err, LM_ECORRUPT, "rows event for an unknown table at %s:%llu",
                          ev->at.file, (unsigned long long)ev->at.pos);
    if (!lm_rec_filter_match(&c->filter, tm->db, tm->table))
        return 0;
    if (!c->trx_started) {
        /* Rows without a GTID/BEGIN before them (a file cut mid-way). */
        c->trx_started = true;
        c->trx_start = ev->at;
        c->trx_skip = c->have_from && lm_binlog_pos_cmp(&ev->at, &c->from) < 0;
    }
    if (c->trx_skip)
        return 0;
    if (!c->trx_paced) {
        c->trx_paced = true;
        pace(c, ev->hdr.timestamp);
    }
    target_of(c, tm, &db, &tbl);
    while ((rc = lm_binlog_rows_next(d, &before, &after, err)) == 1) {
        rc = lm_mysql_replay_row(c->t, tm, db, tbl, ev->row_op, before.cols ? &before : NULL,
                                 after.cols ? &after : NULL, err);
        if (rc < 0)
            return rc;
        c->nrows++;
    }
    return rc;
}

static int end_trx(rp_ctx *c, const lm_binlog_event *last, lm_err *err)
{
    int rc;

    if (c->trx_started && !c->trx_skip) {
        c->ntrx++;
        c->last_end = last->at;
        c->last_end.pos = last->next_pos;
        if (++c->pending >= c->commit_every) {
            if ((rc = lm_mysql_replay_commit(c->t, err)) < 0)
                return rc;
            c->pending = 0;
            c->done = c->last_end;
        }
    }
    c->trx_started = c->trx_skip = c->trx_paced = false;
    return 0;
}

static int replay_file(rp_ctx *c, const char *path, lm_err *err)
{
    lm_rec_source *src = NULL;
    lm_binlog_decoder *d = NULL;
    lm_rec_txn txn = {0};
    lm_binlog_event ev;
    const uint8_t *data;
    size_t len;
    int rc;

    if ((rc = lm_rec_source_open(&src, path, err)) < 0)
        return rc;
    if ((rc = lm_binlog_decoder_new(&d, err)) < 0)
        goto cleanup;
    lm_binlog_decoder_set_file(d, lm_rec_source_file(src), lm_rec_source_pos(src));
    while (!lm_interrupted && (rc = lm_rec_source_read(src, &data, &len, err)) == 1) {
        bool boundary = lm_rec_txn_step(&txn, data, len);
        lm_binlog_event last = {0};
        if ((rc = lm_binlog_feed(d, data, len, err)) < 0)
            break;
        while ((rc = lm_binlog_next(d, &ev, err)) == 1) {
            last = ev;
            if (ev.hdr.type == LM_BL_GTID_MARIADB || ev.hdr.type == LM_BL_GTID_MYSQL ||
                ev.hdr.type == LM_BL_ANONYMOUS_GTID) {
                c->trx_started = true;
                c->trx_start = ev.at;
                c->trx_skip = c->have_from && lm_binlog_pos_cmp(&ev.at, &c->from) < 0;
            } else if (ev.row_op && (rc = rows(c, d, &ev, err)) < 0) {
                break;
            }
        }
        if (rc < 0)
            break;
        if (boundary && (rc = end_trx(c, &last, err)) < 0)
            break;
    }
    if (rc < 0)
        lm_err_prefix(err, "%s", path);
cleanup:
    lm_binlog_decoder_free(d);
    lm_rec_source_close(src);
    return rc;
}

static int usage(FILE *f)
{
    fputs("usage: livemig replay FILE... --to URI [--tables db.t,...] [--rename db.t=db2.t2]\n"
          "         [--speed max|1x|Nx] [--from FILE:POS] [--commit-every N]\n"
          "         [--defaults-file FILE]\n",
          f);
    return f == stdout ? 0 : 2;
}

static int parse_speed(const char *s, double *out)
{
    char *end;
    double v;

    if (strcmp(s, "max") == 0) {
        *out = 0;
        return 0;
    }
    v = strtod(s, &end);
    if (end == s || (*end && strcmp(end, "x") != 0) || !(v > 0))
        return -1;
    *out = v;
    return 0;
}

int lm_replay_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},
        {"tables", required_argument, NULL, 'T'},
        {"rename", required_argument, NULL, 'r'},
        {"speed", required_argument, NULL, 's'},
        {"from", required_argument, NULL, 'f'},
        {"commit-every", required_argument, NULL, 'n'},
        {"defaults-file", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rp_ctx c;
    lm_err err = LM_ERR_INIT;
    lm_dsn dsn = {0};
    const char *to = NULL, *defaults = NULL;
    double t0;
    char *end;
    int o, rc = 0, status = 0;

    memset(&c, 0, sizeof(c));
    c.commit_every = 1;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 't':
            to = optarg;
            break;
        case 'T':
            rc = lm_rec_filter_parse(&c.filter, optarg, &err);
            break;
        case 'r':
            rc = parse_rename(&c, optarg, &err);
            break;
        case 's':
            if (parse_speed(optarg, &c.speed) < 0)
                rc = lm_err_set(&err, LM_EINVAL, "invalid --speed '%s' (max, 1x, 2.5x…)", optarg);
            break;
        case 'f':
            rc = lm_rec_parse_pos(optarg, &c.from, &err);
            c.have_from = true;
            break;
        case 'n':
            c.commit_every = (unsigned)strtoul(optarg, &end, 10);
            if (*end || c.commit_every == 0)
                rc = lm_err_set(&err, LM_EINVAL, "invalid --commit-every '%s'", optarg);
            break;
        case 'F':
            defaults = optarg;
            break;
        case 'h':
            return usage(stdout);
        default:
            status = usage(stderr);
            goto cleanup;
        }
        if (rc < 0)
            break;
    }
    if (rc == 0 && (to == NULL || optind >= argc))
        rc = lm_err_set(&err, LM_EINVAL, "replay needs FILE... and --to URI");
    if (rc == 0 && (rc = lm_dsn_parse(&dsn, to, &err)) == 0 && defaults)
        dsn.defaults_file = strdup(defaults);
    if (rc < 0) {
        fprintf(stderr, "livemig: replay: %s\n", err.msg);
        status = 2;
        goto cleanup;
    }
    if ((rc = lm_mysql_replay_open(&c.t, &dsn, &err)) < 0)
        goto report;
    t0 = lm_now();
    for (int i = optind; i < argc && rc == 0 && !lm_interrupted; i++)
        rc = replay_file(&c, argv[i], &err);
    if (rc == 0 && !lm_interrupted && c.pending) {
        /* --commit-every leftovers */
        if ((rc = lm_mysql_replay_commit(c.t, &err)) == 0)
            c.done = c.last_end;
    }
    if (rc < 0 || lm_interrupted)
        lm_mysql_replay_rollback(c.t);
    {
        double s = lm_now() - t0;
        lm_info("replayed %llu transactions, %llu row changes in %.2f s (%.0f rows/s)",
                (unsigned long long)c.ntrx, (unsigned long long)c.nrows, s,
                s > 0 ? (double)c.nrows / s : 0.0);
        if (c.done.file[0])
            lm_info("committed up to %s:%llu (resume with --from %s:%llu)", c.done.file,
                    (unsigned long long)c.done.pos, c.done.file, (unsigned long long)c.done.pos);
    }
report:
    if (rc < 0) {
        fprintf(stderr, "livemig: replay: %s\n", err.msg);
        status = lm_err_exit_code(&err, false);
    } else if (lm_interrupted) {
        fprintf(stderr, "livemig: replay: interrupted\n");
        status = 1;
    }
cleanup:
    lm_mysql_replay_close(c.t);
    lm_rec_filter_free(&c.filter);
    free(c.renames);
    lm_dsn_free(&dsn);
    return status;
}
