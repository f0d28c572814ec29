/* Metrics and hooks of one run: the glue between the driver (migrate.c)
 * and the formatter, the HTTP server and the hook runner. */
#include "core/run.h"

#include "livemig/clock.h"
#include "livemig/hooks.h"
#include "livemig/log.h"

#include <stdio.h>
#include <string.h>

#define GATE_RETRY_S 5.0

int lm_run_observe_start(lm_run *r, lm_err *err)
{
    const lm_migrate_opts *o = r->o;
    int rc;

    if (o->hooks_dir && (rc = lm_hooks_check_dir(o->hooks_dir, err)) < 0)
        return rc;
    /* A path that cannot be written is found out before anything starts. */
    if (o->metrics_textfile && (rc = lm_metrics_write_file(&r->st, o->metrics_textfile, err)) < 0) {
        err->code = rc = LM_EINVAL;
        lm_err_prefix(err, "--metrics-textfile");
        return rc;
    }
    if (o->metrics_listen) {
        if ((rc = lm_metrics_start(&r->metrics, o->metrics_listen, &r->st, err)) < 0)
            return rc;
        lm_info("metrics on %s", lm_metrics_url(r->metrics));
    }
    r->observing = true;
    return 0;
}

static int run_hook(lm_run *r, const char *event, const char *extra, bool cancellable, lm_err *err)
{
    lm_hook_vars v;
    char state[32];
    bool ran;

    if (!r->observing || r->o->hooks_dir == NULL || !r->o->execute)
        return 0;
    memset(&v, 0, sizeof(v));
    pthread_mutex_lock(&r->st.mu);
    snprintf(state, sizeof(state), "%s", lm_state_name(r->st.state));
    v.rows_copied = r->st.rows_copied;
    v.rows_estimated = r->st.rows_estimated;
    v.changes_applied = r->st.changes_applied;
    v.elapsed_seconds = lm_now() - r->st.started;
    pthread_mutex_unlock(&r->st.mu);
    v.event = event;
    v.table = r->st.table;
    v.database = r->dsn.db ? r->dsn.db : "";
    v.alter = r->o->alter;
    v.state = state;
    v.timeout_s = r->o->hook_timeout;
    if (strcmp(event, "on-throttle") == 0)
        v.throttle_reason = extra;
    else if (strcmp(event, "on-failure") == 0)
        v.error = extra;
    /* on-failure still runs after Ctrl-C: it is what the signal leads to. */
    return lm_hooks_run(r->o->hooks_dir, &v, cancellable ? &lm_interrupted : NULL, &ran, err);
}

void lm_run_hook(lm_run *r, const char *event, const char *extra)
{
    lm_err err = LM_ERR_INIT;

    if (run_hook(r, event, extra, strcmp(event, "on-failure") != 0, &err) < 0)
        lm_warn("%s", err.msg);
}

static bool go_ahead(lm_run *r)
{
    bool go;

    pthread_mutex_lock(&r->st.mu);
    go = r->st.op_cutover;
    pthread_mutex_unlock(&r->st.mu);
    return go;
}

/* Keep the shadow current for s seconds or until `cutover`. */
static int wait_applying(lm_run *r, double s, lm_err *err)
{
    char why[160];
    size_t n;
    int rc;

    for (double until = lm_now() + s; lm_now() < until && !go_ahead(r);) {
        if ((rc = lm_run_check_stop(r, err)) < 0 ||
            (rc = lm_run_apply_upto(r, NULL, 200, &n, err)) < 0 ||
            (rc = lm_run_throttle(r, why, sizeof(why), err)) < 0) /* critical load */
            return rc;
        lm_run_progress(r, false);
    }
    return 0;
}

int lm_run_before_cutover(lm_run *r, lm_err *err)
{
    bool postponed = false;
    int rc;

    for (;;) {
        lm_err herr = LM_ERR_INIT;
        if ((rc = lm_run_check_stop(r, err)) < 0)
            return rc;
        if (run_hook(r, "on-before-cutover", NULL, true, &herr) == 0) {
            if (postponed)
                lm_info("hook on-before-cutover exited 0: cutting over");
            return 0;
        }
        if ((rc = lm_run_check_stop(r, err)) < 0)
            return rc;
        if (go_ahead(r)) {
            lm_warn("%s; cutting over anyway: `cutover` from the control socket", herr.msg);
            return 0;
        }
        if (!postponed) {
            lm_info("%s: cutover postponed; running it again every %.0f s (send `cutover` to the "
                    "control socket to go ahead)",
                    herr.msg, GATE_RETRY_S);
            lm_run_set_state(r, LM_STATE_POSTPONED);
            postponed = true;
        } else {
            lm_debug("%s: cutover still postponed", herr.msg);
        }
        if ((rc = wait_applying(r, GATE_RETRY_S, err)) < 0)
            return rc;
    }
}

void lm_run_textfile(lm_run *r)
{
    lm_err err = LM_ERR_INIT;

    if (!r->observing || r->o->metrics_textfile == NULL)
        return;
    if (lm_metrics_write_file(&r->st, r->o->metrics_textfile, &err) < 0) {
        if (!r->textfile_failed)
            lm_warn("--metrics-textfile: %s (warning once)", err.msg);
        r->textfile_failed = true;
    } else if (r->textfile_failed) {
        lm_info("--metrics-textfile: %s is written again", r->o->metrics_textfile);
        r->textfile_failed = false;
    }
}

void lm_run_finished(lm_run *r, int rc, const lm_err *err)
{
    lm_run_textfile(r);
    if (rc == 0)
        lm_run_hook(r, "on-success", NULL);
    else
        lm_run_hook(r, "on-failure", err->msg[0] ? err->msg : "the migration failed");
    lm_metrics_stop(r->metrics);
    r->metrics = NULL;
}
