/* Private to the driver: the state of one migration run, shared by the
 * pipeline phases in src/core/migrate.c and src/core/verify_phase.c. */
#ifndef LIVEMIG_CORE_RUN_H
#define LIVEMIG_CORE_RUN_H

#include "livemig/core.h"
#include "livemig/dsn.h"
#include "livemig/load.h"
#include "livemig/metrics.h"
#include "livemig/migrate.h"
#include "livemig/mysql.h"
#include "mysql/tail.h"

#define LM_RUN_RETRIES 5

typedef struct lm_replica lm_replica;

typedef struct lm_run {
    const lm_migrate_opts *o;
    lm_dsn dsn;
    MYSQL *c;
    lm_plan *plan;
    lm_status st;
    lm_queue q;
    bool queue_ready;
    lm_tail *tail;
    lm_ctl *ctl;
    double last_progress;
    lm_mysql_copy copy; /* copy state, seeded from the checkpoint on --resume */
    double last_ckpt;   /* when the stream position was last recorded */
    /* Throttle state (throttle.c): the load limits as last parsed from
     * st.live, and what the last reading of the server said. */
    lm_load max_load, crit_load;
    unsigned live_gen;
    double last_load_check;
    char load_why[160];
    /* Replicas watched for --max-lag (replicas.c). */
    lm_replica *replicas;
    size_t nreplicas;
    char hb_name[80];
    bool hb_created;
    double last_beat, last_lag_check;
    char lag_why[160];
    /* Metrics and hooks (observe.c). */
    lm_metrics *metrics;
    bool observing;         /* the options were checked: hooks and the textfile are on */
    bool textfile_failed;   /* warned once already */
    char throttle_kind[40]; /* "max-lag", …: on-throttle runs when it changes */
    /* Test-only faults (LIVEMIG_TEST_DROP_CHANGE=N, LIVEMIG_TEST_NO_RECOPY=1). */
    unsigned long long popped;
    unsigned long long drop_change;
    bool no_recopy;
    char *fk_todo;                 /* foreign-key statements left after the swap (the run fails) */
    unsigned long long superseded; /* row writes the apply skipped (rewritten later in the batch) */
} lm_run;

/* --changes-from: where the table is, where to stop, and which table of
 * the files feeds it. */
typedef struct lm_run_files {
    lm_binlog_pos from, until;
    char db[193], table[193];
} lm_run_files;

/* Check the --changes-* options before anything is created (LM_EINVAL). */
int lm_run_files_parse(const lm_migrate_opts *o, const char *dsn_db, lm_run_files *fp, lm_err *err);
/* Start the change source: the binlog stream from a new or resumed
 * checkpoint, or the files; fp is used only with --changes-from. */
int lm_run_start_changes(lm_run *r, const lm_run_files *fp, lm_err *err);
/* The run-time settings from the options into st.live (before the control
 * socket starts); bad load limits are LM_EINVAL. */
int lm_run_live_init(lm_run *r, lm_err *err);
/* Check the throttle inputs against the server: an unknown status
 * variable or a failing --throttle-query is LM_EINVAL. */
int lm_run_throttle_init(lm_run *r, lm_err *err);
/* Why the copy should pause now (why[0] == '\0': it should not). Critical
 * load read above its limit twice in a row fails with LM_EABORT, or with
 * --critical-load-hibernate pauses everything that long. */
int lm_run_throttle(lm_run *r, char *why, size_t cap, lm_err *err);
/* Record why the copy is paused ("" = it is not), logging changes. */
void lm_run_set_throttled(lm_run *r, const char *why);
bool lm_run_file_exists(const char *path);
/* Find (SHOW SLAVE HOSTS) or take (--replicas) the replicas for --max-lag,
 * connect to them and create the heartbeat table, before preflight;
 * LM_EINVAL when one cannot be reached. */
int lm_run_replicas_start(lm_run *r, lm_err *err);
/* Close the replica connections, drop the heartbeat table. */
void lm_run_replicas_stop(lm_run *r);
/* Beat (twice a second) and read the replicas' lag (once a second): why
 * says which replica is over max_lag, or has no heartbeat or cannot be
 * reached; "" when none. */
int lm_run_replicas_check(lm_run *r, double max_lag, char *why, size_t cap, lm_err *err);
/* Changes come from --changes-from files, not from the server. */
bool lm_run_from_files(const lm_run *r);
/* The cutover phase (swap.c): attempts with backoff, blockers named and,
 * with --kill-blockers-after, killed. */
int lm_run_cutover(lm_run *r, lm_err *err);
void lm_run_set_state(lm_run *r, lm_state s);
/* Print the progress line when the interval passed (or force). */
void lm_run_progress(lm_run *r, bool force);
/* Ctrl-C, `abort` on the socket, or a failed stream: an error to stop on. */
int lm_run_check_stop(lm_run *r, lm_err *err);
/* Apply one batch of queued changes, only those ending at or before upto
 * when it is given; *n says how many. */
int lm_run_apply_upto(lm_run *r, const lm_binlog_pos *upto, int wait_ms, size_t *n, lm_err *err);
/* Run fn until it succeeds, fails for good, or retries run out: retryable
 * errors back off, a lost main connection (r->c) is reconnected first. */
int lm_run_retry(lm_run *r, const char *what, int (*fn)(void *ctx, lm_err *err), void *ctx,
                 lm_err *err);
/* The same for fn working on *c, reconnected (with the run lock when
 * run_lock) when it is lost. */
int lm_run_retry_on(lm_run *r, MYSQL **c, bool run_lock, const char *what,
                    int (*fn)(void *ctx, lm_err *err), void *ctx, lm_err *err);
/* Reconnect r->c (and take the run lock again) within --reconnect-timeout. */
int lm_run_reconnect(lm_run *r, lm_err *err);
/* The same for another connection of the run (*c closed first), with or
 * without the run lock. */
int lm_run_connect_again(lm_run *r, MYSQL **c, bool run_lock, lm_err *err);
/* The copy phase (copy_phase.c): workers copying key ranges at once while
 * this thread applies the stream, throttles and reports. */
int lm_run_copy(lm_run *r, lm_err *err);
/* Where the stream starts: a new checkpoint at the current position, or
 * (plan->resume) the checkpoint's position, with the copy state and the
 * counters restored. Refusals (plan changed, binlog purged) are LM_EINVAL. */
int lm_run_checkpoint_start(lm_run *r, lm_binlog_pos *start, lm_err *err);
/* Whether a failure leaves the shadow and checkpoint for --resume. */
bool lm_run_keep_for_resume(const lm_run *r, const lm_err *err);
/* Check and start what --metrics-listen, --metrics-textfile and
 * --hooks-dir ask for (LM_EINVAL when they cannot work). */
int lm_run_observe_start(lm_run *r, lm_err *err);
/* Run the hook of event (warn when it fails); extra is the throttle reason
 * of on-throttle. */
void lm_run_hook(lm_run *r, const char *event, const char *extra);
/* on-before-cutover: while it exits non-zero, keep applying changes (state
 * postponed) and run it again every few seconds, unless `cutover` says go. */
int lm_run_before_cutover(lm_run *r, lm_err *err);
/* Rewrite the --metrics-textfile (warns once when it cannot). */
void lm_run_textfile(lm_run *r);
/* The end: the last textfile, on-success or on-failure, the server stopped. */
void lm_run_finished(lm_run *r, int rc, const lm_err *err);
/* The verification phase; 0 when the shadow equals the table (or --no-verify). */
int lm_run_verify(lm_run *r, lm_err *err);

/* Print the plan of a dry run (plan_print.c). */
void lm_run_print_plan(const lm_plan *p, const lm_migrate_opts *o);

#endif
