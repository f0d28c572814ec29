/* pw_workload: a write load shaped like Patchwork's Django application on
 * the v2.2 schema (examples/patchwork/schema.sql), for the flatten test.
 *
 *   pw_workload --dsn mysql://user[:pass]@host[:port]/db [--seconds N]
 *               [--threads N] [--seed N] [--stop-file PATH] [--tps N]
 *               [--ref TABLE] [--verbose]
 *   pw_workload --dsn … --init-ref [--ref TABLE]
 *
 * Each transaction is one of (weights 35/35/10/20):
 *   new    INSERT patchwork_submission, then patchwork_patch (+ a
 *          patch-created event), or 15% of the time patchwork_coverletter:
 *          parent first, child second, as Django's multi-table inheritance;
 *   update Patch.save(): pick a patch FOR UPDATE, UPDATE the parent
 *          submission row (a new name, or name = name: no row change, so
 *          only the child changes in the binlog), then UPDATE patchwork_patch
 *          (state, diff, sometimes pull_url);
 *   delete a submission with its patch or cover letter, its comments and
 *          what hangs off the patch, children first (Django cascades in
 *          Python);
 *   comment a comment on a random submission.
 * Every transaction touches patchwork_submission first (INSERT, or a SELECT
 * … FOR UPDATE), which holds its metadata lock until COMMIT, so a cutover
 * RENAME happens between transactions, never inside one. It then decides
 * from what the table looks like now (SELECT * … LIMIT 0: a column named
 * diff) whether it runs as the "v1" code or as the "v2" code of after the
 * flatten, which also writes every patch's diff and pull_url to
 * patchwork_submission (dual write; cover letters leave them NULL). So after
 * a correct migration every submission's diff/pull_url equals its patch's.
 *
 * The reference table (default ref_submission: id, msgid, name, diff,
 * pull_url, is_cover, ncomments, v2 = inserted by the new code) is written in the same transaction
 * as every change: at every commit it says what patchwork_submission + patchwork_patch must hold.
 * --init-ref (re)creates it from the current data. A reference statement that does not match
 * exactly one row means a row was lost or invented: counted as diverged=, exit 3.
 *
 * Deadlocks, lock wait timeouts and "table definition changed" roll back and
 * retry. Foreign-key errors (1452/1451) are expected for a few transactions
 * in the window between the cutover and the re-pointing of the child tables'
 * FKs: they are printed, counted (fk_errors=) and the transaction is rolled
 * back as a whole (reference included) and not retried. A duplicate key is
 * fatal: msgids are unique, so it is an id handed out twice (the new table's
 * AUTO_INCREMENT behind the old one's). Other errors are fatal too (exit 1).
 * The last line on stdout is the summary of the counts. */
#include <errno.h>
#include <inttypes.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "livemig/buf.h"
#include "livemig/clock.h"
#include "livemig/dsn.h"
#include "livemig/err.h"

static struct {
    lm_dsn dsn;
    const char *ref, *stop_file;
    double seconds, tps;
    int threads;
    uint64_t seed;
    bool init_ref, verbose;
} opt;

static atomic_int stop_flag;
static atomic_llong id_lo, id_hi; /* random picks are drawn from [id_lo, id_hi] */
static double t_start;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pw_workload: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void usage(void)
{
    fprintf(stderr, "usage: pw_workload --dsn URI [--seconds N] [--threads N] [--seed N]\n"
                    "                   [--stop-file PATH] [--tps N] [--ref TABLE] [--verbose]\n"
                    "       pw_workload --dsn URI --init-ref [--ref TABLE]\n");
    exit(2);
}

static void parse_args(int argc, char **argv)
{
    const char *dsn = NULL;
    opt.ref = "ref_submission";
    opt.threads = 3;
    opt.seed = (uint64_t)time(NULL);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = strcmp(a, "--init-ref") != 0 && strcmp(a, "--verbose") != 0;
        if (takes && !v)
            usage();
        if (strcmp(a, "--dsn") == 0)
            dsn = v;
        else if (strcmp(a, "--seconds") == 0)
            opt.seconds = strtod(v, NULL);
        else if (strcmp(a, "--threads") == 0)
            opt.threads = atoi(v);
        else if (strcmp(a, "--seed") == 0)
            opt.seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--stop-file") == 0)
            opt.stop_file = v;
        else if (strcmp(a, "--tps") == 0)
            opt.tps = strtod(v, NULL);
        else if (strcmp(a, "--ref") == 0)
            opt.ref = v;
        else if (strcmp(a, "--init-ref") == 0)
            opt.init_ref = true;
        else if (strcmp(a, "--verbose") == 0)
            opt.verbose = true;
        else
            usage();
        i += takes;
    }
    if (!dsn)
        usage();
    if (opt.threads < 1 || opt.threads > 64)
        die("--threads must be 1..64");
    if (!opt.init_ref && opt.seconds <= 0 && !opt.stop_file)
        die("give --seconds or --stop-file (or both)");
    /* The reference name is pasted into SQL: keep it a plain identifier. */
    if (strspn(opt.ref, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(opt.ref))
        die("--ref must be a lower-case identifier");
    lm_err err = LM_ERR_INIT;
    if (lm_dsn_parse(&opt.dsn, dsn, &err) < 0 || opt.dsn.kind != LM_DSN_MYSQL)
        die("--dsn: %s", err.msg[0] ? err.msg : "want mysql://");
}

/* xorshift64*: per thread, reproducible from --seed */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static uint64_t below(uint64_t *s, uint64_t n)
{
    return rnd(s) % n;
}

static bool chance(uint64_t *s, unsigned percent)
{
    return below(s, 100) < percent;
}

static MYSQL *connect_db(void)
{
    MYSQL *c = mysql_init(NULL);
    my_bool no = 0;
    unsigned timeout = 10;
    if (!c)
        die("mysql_init failed");
    mysql_optionsv(c, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_optionsv(c, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    /* A silent reconnect would run the rest of a transaction in autocommit. */
    mysql_optionsv(c, MYSQL_OPT_RECONNECT, &no);
    const lm_dsn *d = &opt.dsn;
    const char *host = d->host || d->socket ? d->host : "127.0.0.1";
    const char *pw = d->password ? d->password : getenv("MYSQL_PWD");
    /* CLIENT_FOUND_ROWS: "name = name" matches a row without changing it,
     * and the reference checks count matched rows. */
    if (!mysql_real_connect(c, host, d->user, pw, d->db, d->port, d->socket, CLIENT_FOUND_ROWS))
        die("cannot connect: %u %s", mysql_errno(c), mysql_error(c));
    if (mysql_query(c, "SET SESSION innodb_lock_wait_timeout = 10"))
        die("SET innodb_lock_wait_timeout: %s", mysql_error(c));
    return c;
}

/* the counters of the summary line, in its order */
// clang-format off
#define COUNTERS X(commits) X(new_patches) X(new_covers) X(updates) X(deletes) X(comments) \
    X(retries) X(fk_errors) X(none_found) X(v2_commits) X(v2_inserts) X(diverged)
// clang-format on

typedef struct stats {
#define X(n) unsigned long n;
    COUNTERS
#undef X
    double max_stall_ms;
} stats;

typedef struct worker {
    int id;
    pthread_t thread;
    MYSQL *c;
    uint64_t r;
    bool v2;      /* this transaction runs as the code of after the flatten */
    bool v2_seen; /* a former transaction saw the new columns: insert them directly */
    unsigned long msg_no;
    lm_buf q;
    stats st;
} worker;

typedef enum { TX_OK, TX_RETRY, TX_FK, TX_NONE, TX_REFRESH } res;

#define TRY(x)                                                                                     \
    do {                                                                                           \
        res r_ = (x);                                                                              \
        if (r_ != TX_OK)                                                                           \
            return r_;                                                                             \
    } while (0)

static bool retryable(unsigned e)
{
    return e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT || e == ER_TABLE_DEF_CHANGED ||
           e == ER_CHECKREAD || e == ER_LOCK_ABORTED || e == ER_QUERY_INTERRUPTED;
}

/* Classify the error of the last statement (die on the unexpected ones). */
static res failed(worker *w, const char *sql)
{
    unsigned e = mysql_errno(w->c);
    if (e == ER_NO_REFERENCED_ROW_2 || e == ER_ROW_IS_REFERENCED_2 || e == ER_NO_REFERENCED_ROW ||
        e == ER_ROW_IS_REFERENCED) {
        fprintf(stderr, "pw_workload[%d] %.3f s: FK error %u (rolled back): %s\n  in: %.200s\n",
                w->id, lm_now() - t_start, e, mysql_error(w->c), sql);
        return TX_FK;
    }
    if (e == ER_BAD_FIELD_ERROR && w->v2_seen)
        return TX_REFRESH;
    /* msgids are unique by construction and the reference's ids come from
     * patchwork_submission's AUTO_INCREMENT: a duplicate is a reused id. */
    if (e == ER_DUP_ENTRY)
        die("thread %d: duplicate key (an id handed out twice? the AUTO_INCREMENT of the new "
            "table must continue the old one's): %.300s\n  error %u: %s",
            w->id, sql, e, mysql_error(w->c));
    if (retryable(e)) {
        if (opt.verbose)
            fprintf(stderr, "pw_workload[%d]: %u %s (retrying)\n", w->id, e, mysql_error(w->c));
        return TX_RETRY;
    }
    die("thread %d: %.300s\n  error %u: %s", w->id, sql, e, mysql_error(w->c));
}

/* Run w->q; *matched = rows matched (CLIENT_FOUND_ROWS). */
static res run(worker *w, unsigned long long *matched)
{
    if (w->q.oom)
        die("out of memory");
    double t0 = lm_now();
    int rc = mysql_query(w->c, w->q.data);
    double ms = (lm_now() - t0) * 1000.0;
    if (ms > w->st.max_stall_ms)
        w->st.max_stall_ms = ms;
    if (rc)
        return failed(w, w->q.data);
    if (matched)
        *matched = mysql_affected_rows(w->c);
    return TX_OK;
}

/* Run w->q, which must match exactly one row: fewer or more means that
 * the tables and the reference disagree. */
static res run_one(worker *w)
{
    unsigned long long n = 0;
    TRY(run(w, &n));
    if (n != 1) {
        w->st.diverged++;
        fprintf(stderr, "pw_workload[%d]: DIVERGED: %llu rows matched, 1 expected:\n  %.300s\n",
                w->id, n, w->q.data);
    }
    return TX_OK;
}

/* Build w->q from a tiny format: %s a string literal (escaped) or NULL for
 * a null pointer, %r raw SQL text, %L a long long. Not printf: the values
 * are escaped, and no text of a value is ever read as a format. */
static void q(worker *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lm_buf_reset(&w->q);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            lm_buf_putc(&w->q, *p);
            continue;
        }
        const char *s;
        switch (*++p) {
        case 'L':
            lm_buf_printf(&w->q, "%lld", va_arg(ap, long long));
            break;
        case 'r':
            lm_buf_puts(&w->q, va_arg(ap, const char *));
            break;
        case 's':
            if (!(s = va_arg(ap, const char *))) {
                lm_buf_puts(&w->q, "NULL");
                break;
            }
            size_t n = strlen(s);
            if (lm_buf_grow(&w->q, 2 * n + 3) < 0)
                die("out of memory");
            w->q.data[w->q.len++] = '\'';
            w->q.len += mysql_real_escape_string(w->c, w->q.data + w->q.len, s, (unsigned long)n);
            w->q.data[w->q.len++] = '\'';
            w->q.data[w->q.len] = '\0';
            break;
        default:
            die("q: bad format %s", fmt);
        }
    }
    va_end(ap);
    if (w->q.oom)
        die("out of memory");
}

/* Does patchwork_submission have the flattened columns now? Run after the
 * first statement on it, whose metadata lock keeps the answer valid until
 * COMMIT. */
static res detect_mode(worker *w)
{
    const char *sel = "SELECT * FROM patchwork_submission LIMIT 0";
    MYSQL_RES *rs = NULL;
    if (mysql_query(w->c, sel) || !(rs = mysql_store_result(w->c)))
        return failed(w, sel);
    MYSQL_FIELD *f = mysql_fetch_fields(rs);
    bool diff = false, pull = false;
    for (unsigned i = 0; i < mysql_num_fields(rs); i++) {
        diff = diff || strcmp(f[i].name, "diff") == 0;
        pull = pull || strcmp(f[i].name, "pull_url") == 0;
    }
    mysql_free_result(rs);
    w->v2 = diff && pull;
    w->v2_seen = w->v2;
    return TX_OK;
}

/* Lock a random row: SELECT (id first, then *second if asked) … WHERE col >=
 * v ORDER BY col LIMIT 1 FOR UPDATE, or the last one below v. *second is
 * malloc'd or NULL. TX_NONE: the table is empty. */
static res pick(worker *w, const char *select, const char *col, long long *id, char **second)
{
    long long lo = atomic_load(&id_lo), hi = atomic_load(&id_hi);
    long long v = lo + (long long)below(&w->r, (uint64_t)(hi - lo + 1));
    *id = 0;
    for (int down = 0; down < 2 && !*id; down++) {
        q(w, "%r WHERE %r %r %L ORDER BY %r%r LIMIT 1 FOR UPDATE", select, col,
          down ? "<" : ">=", v, col, down ? " DESC" : "");
        MYSQL_RES *rs = NULL;
        if (mysql_query(w->c, w->q.data) || !(rs = mysql_store_result(w->c)))
            return failed(w, w->q.data);
        MYSQL_ROW row = mysql_fetch_row(rs);
        if (row) {
            *id = strtoll(row[0], NULL, 10);
            if (second)
                *second = mysql_num_fields(rs) > 1 && row[1] ? strdup(row[1]) : NULL;
        }
        mysql_free_result(rs);
    }
    if (*id)
        return TX_OK;
    w->st.none_found++;
    return TX_NONE;
}

/* A diff of a few hundred bytes to ~4 KB. */
static char *gen_diff(worker *w)
{
    lm_buf d = LM_BUF_INIT;
    unsigned file = (unsigned)below(&w->r, 500), hunks = 1 + (unsigned)below(&w->r, 4);
    lm_buf_printf(&d, "diff --git a/net/f%u.c b/net/f%u.c\n--- a/net/f%u.c\n+++ b/net/f%u.c\n",
                  file, file, file, file);
    for (unsigned h = 0; h < hunks; h++) {
        unsigned lines = 2 + (unsigned)below(&w->r, 12);
        lm_buf_printf(&d, "@@ -%u,%u +%u,%u @@ int probe(void) /* %016" PRIx64 " */\n", 10 + 40 * h,
                      lines, 10 + 40 * h, lines, rnd(&w->r));
        for (unsigned l = 0; l < lines; l++)
            lm_buf_printf(&d, "%c\tval_%u = readl(base + 0x%x); /* 'q' \\ \"dq\" */\n",
                          "+- "[below(&w->r, 3)], l, (unsigned)below(&w->r, 4096));
    }
    if (d.oom)
        die("out of memory");
    return lm_buf_detach(&d);
}

static char *gen_pull_url(worker *w)
{
    char buf[128];
    snprintf(buf, sizeof buf, "git://git.example.org/dev%u.git for-next-%" PRIx64,
             (unsigned)below(&w->r, 50), rnd(&w->r) & 0xffffff);
    return strdup(buf);
}

static void gen_name(worker *w, char *buf, size_t n, const char *what)
{
    static const char *const subsys[] = {"mm", "net", "block", "x86", "docs", "usb"};
    snprintf(buf, n, "[%s] %s: change %" PRIx64 " (w%d)", what, subsys[below(&w->r, 6)],
             rnd(&w->r) & 0xffffffff, w->id);
}

/* (a) a new patch or cover letter */
static res tx_new_rows(worker *w, bool cover, const char *diff, const char *pull)
{
    char name[128], msgid[128];
    gen_name(w, name, sizeof name, cover ? "PATCH 0/3" : "PATCH");
    snprintf(msgid, sizeof msgid, "<pw-%d-%" PRIx64 "-%lu@workload.example.org>", w->id, rnd(&w->r),
             ++w->msg_no);
    long long project = 1 + (long long)below(&w->r, 3), person = 1 + (long long)below(&w->r, 500);
    const char *content = cover ? "Cover letter.\n" : "Commit message.\n\nSigned-off-by: Dev\n";
    /* The code of after the flatten names the new columns in its INSERT. */
    bool direct = w->v2_seen;
    if (direct)
        q(w,
          "INSERT INTO patchwork_submission (msgid, name, date, headers, project_id,"
          " submitter_id, content, diff, pull_url) VALUES (%s, %s, NOW(6), 'From: dev',"
          " %L, %L, %s, %s, %s)",
          msgid, name, project, person, content, diff, pull);
    else
        q(w,
          "INSERT INTO patchwork_submission (msgid, name, date, headers, project_id,"
          " submitter_id, content) VALUES (%s, %s, NOW(6), 'From: dev', %L, %L, %s)",
          msgid, name, project, person, content);
    TRY(run(w, NULL));
    long long id = (long long)mysql_insert_id(w->c);
    TRY(detect_mode(w));
    if (cover)
        q(w, "INSERT INTO patchwork_coverletter (submission_ptr_id) VALUES (%L)", id);
    else
        q(w,
          "INSERT INTO patchwork_patch (submission_ptr_id, diff, commit_ref, pull_url, delegate_id,"
          " state_id, archived, hash, patch_project_id, number, series_id, related_id)"
          " VALUES (%L, %s, NULL, %s, %r, 1, 0, %r, %L, NULL, NULL, NULL)",
          id, diff, pull, chance(&w->r, 30) ? "1 + FLOOR(RAND() * 20)" : "NULL",
          diff ? "SHA1(RAND())" : "NULL", project);
    TRY(run(w, NULL));
    q(w, "INSERT INTO patchwork_event (category, date, project_id, %r) VALUES (%s, NOW(6), %L, %L)",
      cover ? "cover_id" : "patch_id", cover ? "cover-created" : "patch-created", project, id);
    TRY(run(w, NULL));
    /* The first transaction after the cutover learns it only now. */
    if (w->v2 && !direct && !cover) {
        q(w, "UPDATE patchwork_submission SET diff = %s, pull_url = %s WHERE id = %L", diff, pull,
          id);
        TRY(run_one(w));
    }
    q(w,
      "INSERT INTO %r (id, msgid, name, diff, pull_url, is_cover, ncomments, v2)"
      " VALUES (%L, %s, %s, %s, %s, %L, 0, %L)",
      opt.ref, id, msgid, name, diff, pull, (long long)cover, (long long)w->v2);
    TRY(run(w, NULL));
    cover ? w->st.new_covers++ : w->st.new_patches++;
    w->st.v2_inserts += w->v2;
    for (long long hi = atomic_load(&id_hi); id > hi;)
        if (atomic_compare_exchange_weak(&id_hi, &hi, id))
            break;
    return TX_OK;
}

static res tx_new(worker *w)
{
    bool cover = chance(&w->r, 15), pr = !cover && chance(&w->r, 10);
    char *diff = cover || (pr && chance(&w->r, 50)) ? NULL : gen_diff(w);
    char *pull = pr ? gen_pull_url(w) : NULL;
    res r = tx_new_rows(w, cover, diff, pull);
    free(diff);
    free(pull);
    return r;
}

/* (b) Patch.save(): the parent row, then the child: state, diff, sometimes
 * pull_url. The v2 code writes diff and pull_url to the parent too. */
static res tx_update_rows(worker *w, long long id, const char *diff, const char *pull)
{
    char name[128] = "", set_name[300] = "name";
    if (chance(&w->r, 50)) {
        gen_name(w, name, sizeof name, "PATCH v2");
        q(w, "%s", name); /* escaped once, used twice */
        snprintf(set_name, sizeof set_name, "%s", w->q.data);
    }
    if (w->v2)
        q(w, "UPDATE patchwork_submission SET name = %r, diff = %s, pull_url = %s WHERE id = %L",
          set_name, diff, pull, id);
    else
        q(w, "UPDATE patchwork_submission SET name = %r WHERE id = %L", set_name, id);
    TRY(run_one(w));
    q(w,
      "UPDATE patchwork_patch SET state_id = %L, archived = %L, diff = %s, pull_url = %s"
      " WHERE submission_ptr_id = %L",
      1 + (long long)below(&w->r, 10), (long long)chance(&w->r, 30), diff, pull, id);
    TRY(run_one(w));
    q(w, "UPDATE %r SET name = %r, diff = %s, pull_url = %s WHERE id = %L", opt.ref, set_name, diff,
      pull, id);
    TRY(run_one(w));
    w->st.updates++;
    return TX_OK;
}

static res tx_update(worker *w)
{
    long long id;
    char *pull = NULL, *diff = NULL;
    res r = pick(w,
                 "SELECT s.id, p.pull_url FROM patchwork_submission s"
                 " JOIN patchwork_patch p ON p.submission_ptr_id = s.id",
                 "s.id", &id, &pull);
    if (r == TX_OK)
        r = detect_mode(w);
    if (r == TX_OK) {
        if (chance(&w->r, 25)) {
            free(pull);
            pull = chance(&w->r, 50) ? gen_pull_url(w) : NULL;
        }
        diff = gen_diff(w);
        r = tx_update_rows(w, id, diff, pull);
    }
    free(pull);
    free(diff);
    return r;
}

/* (c) delete a submission, children first, as Django's Collector does. */
static res tx_delete(worker *w)
{
    long long id;
    TRY(pick(w, "SELECT id FROM patchwork_submission", "id", &id, NULL));
    TRY(detect_mode(w));
    /* what references the submission or its patch/cover letter, in order */
    static const char *const children[][2] = {
        {"patchwork_comment", "submission_id"},
        {"patchwork_event", "patch_id"},
        {"patchwork_event", "cover_id"},
        {"patchwork_check", "patch_id"},
        {"patchwork_patchtag", "patch_id"},
        {"patchwork_bundlepatch", "patch_id"},
        {"patchwork_patchchangenotification", "patch_id"},
        {"patchwork_patch", "submission_ptr_id"},
        {"patchwork_coverletter", "submission_ptr_id"},
    };
    q(w, "UPDATE patchwork_series SET cover_letter_id = NULL WHERE cover_letter_id = %L", id);
    TRY(run(w, NULL));
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
        q(w, "DELETE FROM %r WHERE %r = %L", children[i][0], children[i][1], id);
        TRY(run(w, NULL));
    }
    q(w, "DELETE FROM patchwork_submission WHERE id = %L", id);
    TRY(run_one(w));
    q(w, "DELETE FROM %r WHERE id = %L", opt.ref, id);
    TRY(run_one(w));
    w->st.deletes++;
    return TX_OK;
}

/* (d) a comment on a random submission */
static res tx_comment(worker *w)
{
    long long id;
    char msgid[128];
    TRY(pick(w, "SELECT id FROM patchwork_submission", "id", &id, NULL));
    TRY(detect_mode(w));
    snprintf(msgid, sizeof msgid, "<c-%d-%" PRIx64 "-%lu@workload.example.org>", w->id, rnd(&w->r),
             ++w->msg_no);
    q(w,
      "INSERT INTO patchwork_comment (msgid, date, headers, content, submission_id, submitter_id)"
      " VALUES (%s, NOW(6), 'From: someone', 'Reviewed-by: Someone <s@example.org>', %L, %L)",
      msgid, id, 1 + (long long)below(&w->r, 500));
    TRY(run(w, NULL));
    q(w, "UPDATE %r SET ncomments = ncomments + 1 WHERE id = %L", opt.ref, id);
    TRY(run_one(w));
    w->st.comments++;
    return TX_OK;
}

static bool should_stop(void)
{
    if (atomic_load(&stop_flag))
        return true;
    if ((opt.seconds > 0 && lm_now() - t_start >= opt.seconds) ||
        (opt.stop_file && access(opt.stop_file, F_OK) == 0))
        atomic_store(&stop_flag, 1);
    return atomic_load(&stop_flag);
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (s > 0 && nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static void simple(worker *w, const char *q)
{
    if (mysql_query(w->c, q))
        die("thread %d: %s: %u %s", w->id, q, mysql_errno(w->c), mysql_error(w->c));
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    mysql_thread_init();
    w->c = connect_db();
    double interval = opt.tps > 0 ? opt.threads / opt.tps : 0, next = lm_now();
    while (!should_stop()) {
        unsigned p = (unsigned)below(&w->r, 100);
        res (*tx)(worker *) = p < 35   ? tx_new
                              : p < 70 ? tx_update
                              : p < 80 ? tx_delete
                                       : tx_comment;
        for (int attempt = 0;; attempt++) {
            w->v2 = false;
            simple(w, "START TRANSACTION");
            res r = tx(w);
            if (r == TX_OK && mysql_query(w->c, "COMMIT"))
                r = failed(w, "COMMIT");
            if (r == TX_OK) {
                w->st.commits++;
                w->st.v2_commits += w->v2;
                break;
            }
            simple(w, "ROLLBACK");
            if (r == TX_FK) {
                w->st.fk_errors++;
                break;
            }
            if (r == TX_NONE || should_stop())
                break;
            if (r == TX_REFRESH) /* the new columns are gone: not the test's setup */
                w->v2_seen = false;
            w->st.retries++;
            if (attempt >= 200)
                die("thread %d: a transaction failed 200 times in a row", w->id);
            sleep_s(0.001 * (double)(1 + below(&w->r, 20)));
        }
        if (interval > 0) {
            next += interval;
            double d = next - lm_now();
            if (d > 0)
                sleep_s(d);
            else if (d < -1)
                next = lm_now();
        }
    }
    mysql_close(w->c);
    mysql_thread_end();
    return NULL;
}

/* --init-ref: the reference from the data as it is (the workload stopped) */
static void init_ref(MYSQL *c)
{
    /* statement = [0] + the reference's name + [1] */
    const char *const steps[][2] = {
        {"DROP TABLE IF EXISTS ", ""},
        {"CREATE TABLE ",
         " (id int NOT NULL PRIMARY KEY, msgid varchar(255) NOT NULL,"
         " name varchar(255) NOT NULL, diff longtext NULL, pull_url varchar(255) NULL,"
         " is_cover tinyint(1) NOT NULL, ncomments int NOT NULL, v2 tinyint(1) NOT NULL)"
         " ENGINE=InnoDB DEFAULT CHARSET=utf8mb3"},
        {"INSERT INTO ",
         " SELECT s.id, s.msgid, s.name, p.diff, p.pull_url, c.submission_ptr_id IS NOT NULL,"
         " (SELECT COUNT(*) FROM patchwork_comment m WHERE m.submission_id = s.id), 0"
         " FROM patchwork_submission s LEFT JOIN patchwork_patch p ON p.submission_ptr_id = s.id"
         " LEFT JOIN patchwork_coverletter c ON c.submission_ptr_id = s.id"}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        char sql[1024];
        snprintf(sql, sizeof sql, "%s%s%s", steps[i][0], opt.ref, steps[i][1]);
        if (mysql_query(c, sql))
            die("--init-ref: %s: %u %s", sql, mysql_errno(c), mysql_error(c));
    }
}

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_flag, 1);
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    if (mysql_library_init(0, NULL, NULL))
        die("mysql_library_init failed");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    MYSQL *c = connect_db();
    if (opt.init_ref) {
        init_ref(c);
        printf("pw_workload: %s initialised from patchwork_submission\n", opt.ref);
        mysql_close(c);
        return 0;
    }
    char q[256];
    snprintf(q, sizeof q, "SELECT COALESCE(MIN(id), 1), COALESCE(MAX(id), 1) FROM %s", opt.ref);
    MYSQL_RES *rs = NULL;
    if (mysql_query(c, q) || !(rs = mysql_store_result(c)))
        die("%s: %s (create it with --init-ref)", q, mysql_error(c));
    MYSQL_ROW row = mysql_fetch_row(rs);
    atomic_store(&id_lo, strtoll(row[0], NULL, 10));
    atomic_store(&id_hi, strtoll(row[1], NULL, 10));
    mysql_free_result(rs);
    mysql_close(c);

    worker *ws = calloc((size_t)opt.threads, sizeof *ws);
    if (!ws)
        die("out of memory");
    t_start = lm_now();
    fprintf(stderr, "pw_workload: %d thread(s), ids %lld..%lld, reference %s, seed %" PRIu64 "\n",
            opt.threads, (long long)atomic_load(&id_lo), (long long)atomic_load(&id_hi), opt.ref,
            opt.seed);
    for (int i = 0; i < opt.threads; i++) {
        ws[i].id = i;
        ws[i].r = opt.seed * UINT64_C(0x9E3779B97F4A7C15) + (uint64_t)i * 7919 + 1;
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]))
            die("pthread_create failed");
    }
    stats t = {0};
    for (int i = 0; i < opt.threads; i++) {
        pthread_join(ws[i].thread, NULL);
        stats *s = &ws[i].st;
#define X(n) t.n += s->n;
        COUNTERS
#undef X
        if (s->max_stall_ms > t.max_stall_ms)
            t.max_stall_ms = s->max_stall_ms;
        lm_buf_free(&ws[i].q);
    }
    printf("pw_workload: seconds=%.1f", lm_now() - t_start);
#define X(n) printf(" " #n "=%lu", t.n);
    COUNTERS
#undef X
    printf(" max_stall_ms=%.0f\n", t.max_stall_ms);
    free(ws);
    lm_dsn_free(&opt.dsn);
    mysql_library_end();
    return t.diverged ? 3 : 0;
}
