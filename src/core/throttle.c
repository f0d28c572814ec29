/* Throttling: when the copy pauses (the operator, a flag file, apply lag,
 * server load, the operator's query) and when the migration gives way
 * altogether (critical load). The stream is read and applied meanwhile, so
 * no lag builds up inside livemig. */
#include "livemig/clock.h"
#include "livemig/log.h"
#include "core/run.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOAD_CHECK_S 1.0

bool lm_run_file_exists(const char *path)
{
    return path && access(path, F_OK) == 0;
}

void lm_run_set_throttled(lm_run *r, const char *why)
{
    char kind[sizeof(r->throttle_kind)];

    pthread_mutex_lock(&r->st.mu);
    if (strcmp(r->st.throttled, why) != 0) {
        if (why[0])
            lm_info("throttled: %s", why);
        else if (r->st.throttled[0])
            lm_info("throttle released (was: %s)", r->st.throttled);
        snprintf(r->st.throttled, sizeof(r->st.throttled), "%s", why);
    }
    pthread_mutex_unlock(&r->st.mu);
    /* on-throttle once per kind of reason: "max-lag: 12.0s>10s" changes
     * with every reading, "max-lag" does not. */
    snprintf(kind, sizeof(kind), "%.*s", (int)strcspn(why, ":;"), why);
    if (strcmp(kind, r->throttle_kind) != 0) {
        memcpy(r->throttle_kind, kind, sizeof(kind));
        if (kind[0])
            lm_run_hook(r, "on-throttle", why);
    }
}

/* Take the control socket's changes to the load limits (already checked
 * for syntax there). */
static void refresh_limits(lm_run *r)
{
    char max_load[sizeof(r->st.live.max_load)], crit[sizeof(r->st.live.critical_load)];
    lm_err err = LM_ERR_INIT;

    pthread_mutex_lock(&r->st.mu);
    if (r->st.live.gen == r->live_gen) {
        pthread_mutex_unlock(&r->st.mu);
        return;
    }
    r->live_gen = r->st.live.gen;
    memcpy(max_load, r->st.live.max_load, sizeof(max_load));
    memcpy(crit, r->st.live.critical_load, sizeof(crit));
    pthread_mutex_unlock(&r->st.mu);
    if (lm_load_parse(max_load, &r->max_load, &err) < 0 ||
        lm_load_parse(crit, &r->crit_load, &err) < 0)
        lm_warn("ignoring a load limit: %s", err.msg);
    r->last_load_check = 0;
}

/* A limit set from the socket may name a variable the server lacks: drop
 * it with a warning rather than stop the migration. */
static int read_load(lm_run *r, lm_load *l, char *field, double *v, lm_err *err)
{
    int rc = lm_mysql_load_read(r->c, l, v, err);

    if (rc == LM_EINVAL) {
        lm_warn("ignoring the load limit %s: %s", field, err->msg);
        lm_err_clear(err);
        pthread_mutex_lock(&r->st.mu);
        field[0] = '\0';
        r->st.live.gen++;
        pthread_mutex_unlock(&r->st.mu);
        l->n = 0;
        return 0;
    }
    return rc;
}

static void describe(char *out, size_t cap, const char *what, const lm_load *l, int i,
                     const double *v)
{
    snprintf(out, cap, "%s: %s=%g>%g", what, l->name[i], v[i], l->limit[i]);
}

/* Pause everything (no copy, no apply) for s seconds, or until stopped. */
static void hibernate(lm_run *r, double s, const char *why)
{
    char msg[200];

    snprintf(msg, sizeof(msg), "%s; hibernating %.0fs", why, s);
    lm_run_set_throttled(r, msg);
    for (double until = lm_now() + s; lm_now() < until && !lm_interrupted;)
        lm_sleep_us(100000);
}

static int check_critical(lm_run *r, lm_err *err)
{
    double v[LM_LOAD_MAX];
    char why[160];
    int rc, i;

    if (r->crit_load.n == 0)
        return 0;
    if ((rc = read_load(r, &r->crit_load, r->st.live.critical_load, v, err)) < 0)
        return rc;
    if ((i = lm_load_over(&r->crit_load, v)) < 0)
        return 0;
    /* One reading can be a blip: a second one a second later decides. */
    lm_sleep_us(1000000);
    if ((rc = read_load(r, &r->crit_load, r->st.live.critical_load, v, err)) < 0)
        return rc;
    if ((i = lm_load_over(&r->crit_load, v)) < 0)
        return 0;
    describe(why, sizeof(why), "critical-load", &r->crit_load, i, v);
    if (r->o->critical_load_hibernate > 0) {
        hibernate(r, r->o->critical_load_hibernate, why);
        return 0;
    }
    return lm_err_set(err, LM_EABORT, "%s twice in a row: the migration gives way", why);
}

static int check_load(lm_run *r, lm_err *err)
{
    double v[LM_LOAD_MAX];
    bool on;
    int rc, i;

    r->load_why[0] = '\0';
    if ((rc = check_critical(r, err)) < 0)
        return rc;
    if (r->max_load.n > 0) {
        if ((rc = read_load(r, &r->max_load, r->st.live.max_load, v, err)) < 0)
            return rc;
        if ((i = lm_load_over(&r->max_load, v)) >= 0) {
            describe(r->load_why, sizeof(r->load_why), "max-load", &r->max_load, i, v);
            return 0;
        }
    }
    if (r->o->throttle_query) {
        if ((rc = lm_mysql_throttle_query(r->c, r->o->throttle_query, &on, err)) < 0)
            return rc;
        if (on)
            snprintf(r->load_why, sizeof(r->load_why), "throttle-query");
    }
    return 0;
}

int lm_run_throttle(lm_run *r, char *why, size_t cap, lm_err *err)
{
    char replica_why[160] = "";
    bool op;
    double lag, max_lag;
    int rc;

    why[0] = '\0';
    refresh_limits(r);
    if (lm_now() - r->last_load_check >= LOAD_CHECK_S) {
        r->last_load_check = lm_now();
        if ((rc = check_load(r, err)) < 0)
            return rc;
    }
    pthread_mutex_lock(&r->st.mu);
    op = r->st.op_throttle;
    lag = r->st.lag_seconds;
    max_lag = r->st.live.max_lag;
    pthread_mutex_unlock(&r->st.mu);
    /* The heartbeat goes on while paused for other reasons. */
    if ((rc = lm_run_replicas_check(r, max_lag, replica_why, sizeof(replica_why), err)) < 0)
        return rc;
    if (op)
        snprintf(why, cap, "operator");
    else if (lm_run_file_exists(r->o->throttle_flag))
        snprintf(why, cap, "throttle-flag");
    else if (max_lag > 0 && lag > max_lag)
        snprintf(why, cap, "max-lag: %.1fs>%gs", lag, max_lag);
    else if (replica_why[0])
        snprintf(why, cap, "%s", replica_why);
    else
        snprintf(why, cap, "%s", r->load_why);
    return 0;
}

int lm_run_live_init(lm_run *r, lm_err *err)
{
    const lm_migrate_opts *o = r->o;
    lm_live *l = &r->st.live;
    int rc;

    l->chunk_size = o->chunk_size;
    l->max_lag = o->max_lag;
    l->nice_ratio = o->nice_ratio;
    if ((o->max_load && strlen(o->max_load) >= sizeof(l->max_load)) ||
        (o->critical_load && strlen(o->critical_load) >= sizeof(l->critical_load)))
        return lm_err_set(err, LM_EINVAL, "--max-load/--critical-load: too long");
    snprintf(l->max_load, sizeof(l->max_load), "%s", o->max_load ? o->max_load : "");
    snprintf(l->critical_load, sizeof(l->critical_load), "%s",
             o->critical_load ? o->critical_load : "");
    if ((rc = lm_load_parse(l->max_load, &r->max_load, err)) < 0) {
        lm_err_prefix(err, "--max-load");
        return rc;
    }
    if ((rc = lm_load_parse(l->critical_load, &r->crit_load, err)) < 0) {
        lm_err_prefix(err, "--critical-load");
        return rc;
    }
    r->live_gen = l->gen;
    return 0;
}

int lm_run_throttle_init(lm_run *r, lm_err *err)
{
    const lm_migrate_opts *o = r->o;
    double v[LM_LOAD_MAX];
    bool on;
    int rc;

    refresh_limits(r);
    if ((rc = lm_mysql_load_read(r->c, &r->max_load, v, err)) < 0 ||
        (rc = lm_mysql_load_read(r->c, &r->crit_load, v, err)) < 0)
        return rc;
    if (o->throttle_query &&
        (rc = lm_mysql_throttle_query(r->c, o->throttle_query, &on, err)) < 0) {
        /* A query that fails now would fail on every check. */
        err->code = rc = LM_EINVAL;
        return rc;
    }
    return 0;
}
