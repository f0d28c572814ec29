/* The copy phase: worker threads, each on its own connection, copy
 * disjoint key ranges at once while this thread applies the stream,
 * throttles and reports. The stream and the copy each have their own
 * connections, so neither starves the other (gh-ost's strict priority lets
 * a hot table stall its copy forever).
 *
 * Ranges are handed out in key order from one cursor; the checkpoint's
 * watermark is the low-water mark (every range below it committed), so
 * --resume re-copies at most the ranges that were in flight (a range copy
 * is idempotent: INSERT IGNORE of (lo, hi]). */
#include "core/run.h"

#include "livemig/clock.h"
#include "livemig/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define THREADS_CAP   8      /* the default's ceiling */
#define CHUNK_FLOOR   100    /* adaptive chunks never go below … */
#define CHUNK_CEILING 100000 /* … or above (binlog transaction size) */

typedef struct range {
    char **lo, **hi; /* (lo, hi]; NULL: open */
    size_t *lo_len, *hi_len;
    uint64_t rows;
    bool done;
    struct range *next;
} range;

typedef struct copier {
    lm_run *r;
    pthread_mutex_t mu;
    char **cursor; /* the next range starts after it; NULL: the table's start */
    size_t *cursor_len;
    bool handed_all;    /* the last, open-ended range is out */
    range *head, *tail; /* handed out and not retired, in key order */
    char **mark;        /* low-water mark: every row up to it is copied */
    size_t *mark_len;
    uint64_t rows_marked; /* rows up to the mark */
    unsigned retired;     /* bumps when the mark moves */
    size_t out, window;   /* ranges not retired yet, and at most how many */
    size_t chunk;         /* rows per chunk now */
    size_t ceiling;       /* at most CHUNK_CEILING, less once a chunk was too big */
    size_t live_seen;     /* st.live.chunk_size as last seen */
    bool fixed;           /* --chunk-size, --chunk-time 0 or chunk-size=N */
    atomic_bool stop, paused;
    atomic_int running;
    int rc; /* the first worker failure */
    lm_err err;
} copier;

typedef struct worker {
    copier *cp;
    pthread_t th;
    bool joinable;
    MYSQL *c;
} worker;

/* A chunk whose transaction outgrew max_binlog_cache_size or a packet
 * limit: copying fewer rows at a time is the way through. */
static bool chunk_too_big(const lm_err *e)
{
    return e->server_errno == 1197 || e->server_errno == 1153 || e->server_errno == 2020;
}

static void range_free(range *rg)
{
    lm_mysql_key_free(rg->lo, rg->lo_len);
    lm_mysql_key_free(rg->hi, rg->hi_len);
    free(rg);
}

/* Retire the committed ranges at the head; the mark moves to the upper
 * bound of the last one retired. Caller holds mu. */
static void retire(copier *cp)
{
    while (cp->head && cp->head->done) {
        range *rg = cp->head;
        cp->head = rg->next;
        cp->rows_marked += rg->rows;
        if (rg->hi) {
            lm_mysql_key_free(cp->mark, cp->mark_len);
            cp->mark = rg->hi;
            cp->mark_len = rg->hi_len;
            rg->hi = NULL;
            rg->hi_len = NULL;
        }
        cp->retired++;
        cp->out--;
        range_free(rg);
    }
    if (cp->head == NULL)
        cp->tail = NULL;
}

size_t lm_chunk_next(size_t n, double secs, double target, size_t floor, size_t ceiling)
{
    double want = (double)n * target / (secs > 0.001 ? secs : 0.001);

    if (want > 2.0 * (double)n)
        want = 2.0 * (double)n;
    if (want > (double)ceiling)
        want = (double)ceiling;
    return want < (double)floor ? floor : (size_t)want;
}

/* After a chunk of n rows took secs: toward --chunk-time. Caller holds mu. */
static void adapt(copier *cp, size_t n, double secs)
{
    const lm_migrate_opts *o = cp->r->o;

    if (cp->fixed || n == 0)
        return;
    cp->chunk =
        lm_chunk_next(n, secs, o->chunk_time,
                      o->chunk_size < CHUNK_FLOOR ? o->chunk_size : CHUNK_FLOOR, cp->ceiling);
}

typedef struct bound_args {
    worker *w;
    char **lo, **hi;
    size_t *lo_len, *hi_len;
    size_t n;
    char ***up;
    size_t **up_len;
    bool *found;
} bound_args;

static int bound_once(void *ctx, lm_err *err)
{
    bound_args *a = ctx;

    return lm_mysql_copy_bound(a->w->c, a->w->cp->r->plan, a->lo, a->lo_len, a->hi, a->hi_len, a->n,
                               a->up, a->up_len, a->found, err);
}

typedef struct range_args {
    worker *w;
    char **lo, **hi;
    size_t *lo_len, *hi_len;
    size_t *rows;
} range_args;

static int range_once(void *ctx, lm_err *err)
{
    range_args *a = ctx;

    return lm_mysql_copy_range(a->w->c, a->w->cp->r->plan, a->lo, a->lo_len, a->hi, a->hi_len,
                               a->rows, err);
}

/* Hand out (cursor, the n-th key after it]; 0 with *out NULL: none left,
 * or *busy: the window is full. The window keeps the ranges above the
 * low-water mark few, so a slow range (a lock wait) cannot let the others
 * run far ahead of what the checkpoint says, nor a resume re-copy much. */
static int take_range(worker *w, range **out, size_t *n, bool *busy, lm_err *err)
{
    copier *cp = w->cp;
    lm_run *r = cp->r;
    range *rg = NULL;
    char **next = NULL;
    size_t *next_len = NULL;
    bool found = false;
    int rc = 0;

    *out = NULL;
    *busy = false;
    pthread_mutex_lock(&cp->mu);
    if (cp->handed_all)
        goto unlock;
    retire(cp);
    if (cp->out >= cp->window) {
        *busy = true;
        goto unlock;
    }
    pthread_mutex_lock(&r->st.mu);
    if (r->st.live.chunk_size != cp->live_seen) {
        /* chunk-size=N on the control socket pins the size. */
        lm_info("chunks of %zu rows from now on (were %zu)", r->st.live.chunk_size, cp->chunk);
        cp->chunk = cp->live_seen = r->st.live.chunk_size;
        cp->fixed = true;
    }
    pthread_mutex_unlock(&r->st.mu);
    *n = cp->chunk;
    if ((rg = calloc(1, sizeof(*rg))) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto unlock;
    }
    bound_args ba = {w, cp->cursor, NULL, cp->cursor_len, NULL, *n, &rg->hi, &rg->hi_len, &found};
    if ((rc = lm_run_retry_on(r, &w->c, false, "finding a chunk", bound_once, &ba, err)) < 0)
        goto unlock;
    if (found && lm_mysql_key_dup(r->plan, rg->hi, rg->hi_len, &next, &next_len) < 0) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto unlock;
    }
    /* The range starts at the cursor; its upper key is the next cursor. */
    rg->lo = cp->cursor;
    rg->lo_len = cp->cursor_len;
    cp->cursor = next;
    cp->cursor_len = next_len;
    cp->handed_all = !found;
    if (cp->tail)
        cp->tail->next = rg;
    else
        cp->head = rg;
    cp->tail = rg;
    cp->out++;
    *out = rg;
    rg = NULL;
unlock:
    pthread_mutex_unlock(&cp->mu);
    if (rg)
        range_free(rg);
    return rc;
}

/* Copy (lo, hi] of rg; a range too big for one transaction is copied in
 * pieces half the size, and halved again while they are still too big. */
static int copy_range(worker *w, range *rg, size_t n, uint64_t *rows, lm_err *err)
{
    copier *cp = w->cp;
    lm_run *r = cp->r;
    char **lo = rg->lo, **own = NULL;
    size_t *lo_len = rg->lo_len, *own_len = NULL, piece = 0, half, k;
    int rc;

    *rows = 0;
    for (;;) {
        char **b = NULL;
        size_t *b_len = NULL;
        bool found = false;
        if (piece) {
            bound_args ba = {w, lo, rg->hi, lo_len, rg->hi_len, piece, &b, &b_len, &found};
            if ((rc = lm_run_retry_on(r, &w->c, false, "finding a chunk", bound_once, &ba, err)) <
                0)
                break;
        }
        range_args ra = {w, lo, found ? b : rg->hi, lo_len, found ? b_len : rg->hi_len, &k};
        if ((rc = lm_run_retry_on(r, &w->c, false, "copying a chunk", range_once, &ra, err)) < 0) {
            lm_mysql_key_free(b, b_len);
            if (!chunk_too_big(err) || piece == 1)
                break;
            half = piece ? piece / 2 : (n > 1 ? n / 2 : 1);
            lm_warn("%s; shrinking chunks from %zu to %zu rows", err->msg, piece ? piece : n, half);
            piece = half;
            lm_err_clear(err);
            pthread_mutex_lock(&cp->mu);
            /* Adapting must not grow chunks back into the same failure. */
            if (cp->chunk > piece)
                cp->chunk = piece;
            if (cp->ceiling > piece)
                cp->ceiling = piece;
            pthread_mutex_unlock(&cp->mu);
            continue;
        }
        *rows += k;
        if (!found)
            break;
        lm_mysql_key_free(own, own_len);
        lo = own = b;
        lo_len = own_len = b_len;
    }
    lm_mysql_key_free(own, own_len);
    return rc;
}

static void worker_fail(copier *cp, int rc, const lm_err *err)
{
    pthread_mutex_lock(&cp->mu);
    if (cp->rc == 0) {
        cp->rc = rc;
        cp->err = *err;
    }
    pthread_mutex_unlock(&cp->mu);
    atomic_store(&cp->stop, true);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    copier *cp = w->cp;
    lm_run *r = cp->r;
    lm_err err = LM_ERR_INIT;
    range *rg;
    uint64_t rows;
    size_t n = 0;
    double t0, secs, nice;
    bool busy;
    int rc = 0;

    while (!atomic_load(&cp->stop)) {
        if (atomic_load(&cp->paused)) {
            lm_sleep_us(50000);
            continue;
        }
        if ((rc = take_range(w, &rg, &n, &busy, &err)) < 0)
            break;
        if (busy) {
            lm_sleep_us(5000);
            continue;
        }
        if (rg == NULL)
            break;
        t0 = lm_now();
        if ((rc = copy_range(w, rg, n, &rows, &err)) < 0)
            break;
        secs = lm_now() - t0;
        pthread_mutex_lock(&cp->mu);
        rg->rows = rows;
        rg->done = true; /* rg is the list's again from here */
        adapt(cp, n, secs);
        pthread_mutex_unlock(&cp->mu);
        lm_status_chunk(&r->st, rows, secs);
        pthread_mutex_lock(&r->st.mu);
        nice = r->st.live.nice_ratio;
        pthread_mutex_unlock(&r->st.mu);
        /* --nice-ratio: leave the server that much idle time per chunk. */
        for (double until = lm_now() + secs * nice;
             nice > 0 && lm_now() < until && !atomic_load(&cp->stop);)
            lm_sleep_us(20000);
    }
    if (rc < 0)
        worker_fail(cp, rc, &err);
    atomic_fetch_sub(&cp->running, 1);
    return NULL;
}

/* --threads, or the server's CPU count: MariaDB's thread_pool_size
 * defaults to it; MySQL has no such variable (then 4). */
static size_t pick_threads(lm_run *r)
{
    char *v = NULL;
    long n = 0;

    if (r->o->threads)
        return r->o->threads;
    if (lm_mysql_query_value(r->c, "SELECT @@GLOBAL.thread_pool_size", &v, &(lm_err)LM_ERR_INIT) ==
            0 &&
        v)
        n = strtol(v, NULL, 10);
    free(v);
    if (n <= 0)
        n = 4;
    return n > THREADS_CAP ? THREADS_CAP : (size_t)n;
}

/* Record the low-water mark when it moved (done: the copy finished). */
typedef struct mark_args {
    lm_run *r;
    char **key;
    size_t *key_len;
    bool done;
    uint64_t rows;
} mark_args;

static int mark_once(void *ctx, lm_err *err)
{
    mark_args *a = ctx;

    return lm_mysql_ckpt_copy(a->r->c, a->r->plan, a->key, a->key_len, a->done, a->rows, err);
}

static int record_mark(copier *cp, unsigned *seen, bool done, lm_err *err)
{
    lm_run *r = cp->r;
    mark_args ma = {r, NULL, NULL, done, 0};
    bool moved;
    int rc = 0;

    pthread_mutex_lock(&cp->mu);
    retire(cp);
    moved = cp->retired != *seen;
    *seen = cp->retired;
    ma.rows = cp->rows_marked;
    if ((moved || done) &&
        lm_mysql_key_dup(r->plan, cp->mark, cp->mark_len, &ma.key, &ma.key_len) < 0)
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
    pthread_mutex_unlock(&cp->mu);
    if (rc == 0 && (moved || done) && r->copy.checkpoint)
        rc = lm_run_retry(r, "recording the copy", mark_once, &ma, err);
    lm_mysql_key_free(ma.key, ma.key_len);
    return rc;
}

/* Pause the workers (before their next chunk) while a throttle says so. */
static int throttle(copier *cp, lm_err *err)
{
    char why[160];
    int rc;

    if ((rc = lm_run_throttle(cp->r, why, sizeof(why), err)) < 0)
        return rc;
    lm_run_set_throttled(cp->r, why);
    atomic_store(&cp->paused, why[0] != '\0');
    return 0;
}

/* This thread's share: stop requests, the stream, throttling, progress,
 * the checkpoint, until every worker is out. */
static int supervise(copier *cp, lm_err *err)
{
    lm_run *r = cp->r;
    unsigned seen = 0;
    size_t n;
    int rc = 0;

    while (atomic_load(&cp->running) > 0) {
        if ((rc = lm_run_check_stop(r, err)) < 0)
            break;
        /* A static table (--changes-from) must be copied before any change
         * is applied: a change applied first would be undone by the copy. */
        if (lm_run_from_files(r))
            lm_sleep_us(50000);
        else if ((rc = lm_run_apply_upto(r, NULL, 50, &n, err)) < 0)
            break;
        if ((rc = throttle(cp, err)) < 0)
            break;
        lm_run_progress(r, false);
        /* As soon as it moves: a kill loses at most the chunks in flight. */
        if ((rc = record_mark(cp, &seen, false, err)) < 0)
            break;
    }
    return rc;
}

static int start_workers(copier *cp, worker *w, size_t nw, lm_err *err)
{
    int rc;

    for (size_t i = 0; i < nw; i++) {
        w[i].cp = cp;
        if ((rc = lm_mysql_connect(&w[i].c, &cp->r->dsn, err)) < 0) {
            lm_err_prefix(err, "copy connection %zu", i + 1);
            return rc;
        }
    }
    for (size_t i = 0; i < nw; i++) {
        atomic_fetch_add(&cp->running, 1);
        if (pthread_create(&w[i].th, NULL, worker_main, &w[i]) != 0) {
            atomic_fetch_sub(&cp->running, 1);
            return lm_err_set(err, LM_ENOMEM, "cannot start a copy thread");
        }
        w[i].joinable = true;
    }
    return 0;
}

static void copier_free(copier *cp)
{
    while (cp->head) {
        range *rg = cp->head;
        cp->head = rg->next;
        range_free(rg);
    }
    lm_mysql_key_free(cp->cursor, cp->cursor_len);
    lm_mysql_key_free(cp->mark, cp->mark_len);
    pthread_mutex_destroy(&cp->mu);
}

int lm_run_copy(lm_run *r, lm_err *err)
{
    copier cp;
    worker *w = NULL;
    size_t nw = 0;
    unsigned seen = 0;
    double t0 = lm_now();
    int rc = 0;

    lm_run_set_state(r, LM_STATE_COPYING);
    if (r->copy.done)
        return 0;
    memset(&cp, 0, sizeof(cp));
    cp.r = r;
    pthread_mutex_init(&cp.mu, NULL);
    cp.chunk = r->o->chunk_size;
    cp.ceiling = CHUNK_CEILING;
    cp.fixed = r->o->chunk_fixed || r->o->chunk_time <= 0;
    cp.rows_marked = r->copy.rows;
    pthread_mutex_lock(&r->st.mu);
    cp.live_seen = r->st.live.chunk_size;
    pthread_mutex_unlock(&r->st.mu);
    if (lm_mysql_key_dup(r->plan, r->copy.last_key, r->copy.last_key_len, &cp.cursor,
                         &cp.cursor_len) < 0 ||
        lm_mysql_key_dup(r->plan, r->copy.last_key, r->copy.last_key_len, &cp.mark, &cp.mark_len) <
            0) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    r->copy.started = true;
    nw = pick_threads(r);
    cp.window = 2 * nw;
    if ((w = calloc(nw, sizeof(*w))) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (cp.fixed)
        lm_info("copying with %zu thread%s in chunks of %zu rows", nw, nw == 1 ? "" : "s",
                cp.chunk);
    else
        lm_info("copying with %zu thread%s, chunks sized to take %.2gs (from %zu rows)", nw,
                nw == 1 ? "" : "s", r->o->chunk_time, cp.chunk);
    /* Throttled from the first chunk on. */
    if ((rc = throttle(&cp, err)) == 0 && (rc = start_workers(&cp, w, nw, err)) == 0)
        rc = supervise(&cp, err);
    atomic_store(&cp.stop, true);
    for (size_t i = 0; i < nw; i++)
        if (w[i].joinable)
            pthread_join(w[i].th, NULL);
    if (rc == 0 && cp.rc < 0) {
        rc = cp.rc;
        *err = cp.err;
    }
    if (rc == 0) {
        pthread_mutex_lock(&cp.mu);
        retire(&cp);
        if (cp.head || !cp.handed_all)
            rc = lm_err_set(err, LM_EFAIL, "the copy stopped with ranges left (a bug)");
        pthread_mutex_unlock(&cp.mu);
    }
    if (rc == 0) {
        double secs = lm_now() - t0;
        r->copy.done = true;
        rc = record_mark(&cp, &seen, true, err);
        lm_info("copied %llu rows in %.1fs (%.0f rows/s, %zu thread%s, last chunks %zu rows)",
                (unsigned long long)(cp.rows_marked - r->copy.rows), secs,
                (double)(cp.rows_marked - r->copy.rows) / (secs > 0.001 ? secs : 0.001), nw,
                nw == 1 ? "" : "s", cp.chunk);
    } else if (r->c) {
        /* What did commit stays copied for --resume. */
        lm_err merr = LM_ERR_INIT;
        if (record_mark(&cp, &seen, false, &merr) < 0)
            lm_debug("could not record the copy's progress: %s", merr.msg);
    }
    r->copy.rows = cp.rows_marked;
    lm_mysql_key_free(r->copy.last_key, r->copy.last_key_len);
    r->copy.last_key = cp.mark;
    r->copy.last_key_len = cp.mark_len;
    cp.mark = NULL;
    cp.mark_len = NULL;
cleanup:
    for (size_t i = 0; w && i < nw; i++)
        if (w[i].c)
            mysql_close(w[i].c);
    free(w);
    copier_free(&cp);
    return rc;
}
