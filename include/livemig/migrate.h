/* `livemig migrate`: the pipeline preflight → shadow → copy ‖ tail →
 * cutover → cleanup, driven against one engine. */
#ifndef LIVEMIG_MIGRATE_H
#define LIVEMIG_MIGRATE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "livemig/plan.h"

typedef struct lm_migrate_opts {
    const char *dsn;
    const char *table;
    const char *alter;
    const char *defaults_file;
    bool execute;
    bool force;
    bool resume;
    bool drop_old;
    size_t chunk_size; /* rows of the first chunk (of every chunk when chunk_time is 0) */
    double chunk_time; /* seconds a chunk should take; chunks adapt to it */
    size_t threads;    /* copy workers; 0 = the server's CPU count, capped */
    bool chunk_fixed;  /* --chunk-size given: every chunk has chunk_size rows */
    double max_lag;    /* seconds; copy pauses above it */
    const char *throttle_flag;
    const char *postpone_flag;
    const char *control_socket;
    double cutover_lock_timeout;
    int cutover_retries;
    unsigned server_id;
    double progress_interval;
    bool no_verify;           /* skip the checksum before the cutover */
    bool cleanup;             /* on failure or abort drop everything, even what --resume needs */
    double reconnect_timeout; /* seconds to keep reconnecting after a lost connection */
    /* --changes-from: binlog files or recordings instead of the server's stream. */
    const char **changes_from;
    size_t nchanges_from;
    const char *changes_start; /* FILE:POS the table is at, or NULL (start of the first file) */
    const char *changes_until; /* FILE:POS to stop at, or NULL (end of the last file) */
    const char *changes_table; /* db.t in the files, or NULL (the migrated table) */
    /* Throttling beyond --max-lag and the flag file. */
    const char *max_load;           /* "Threads_running=25,…": pause the copy above */
    const char *critical_load;      /* … abort (or hibernate) above, read twice in a row */
    double critical_load_hibernate; /* seconds to pause everything instead of aborting; 0 = abort */
    const char *throttle_query;     /* pause while it returns non-zero */
    double nice_ratio;              /* sleep ratio × a chunk's duration after it */
    const char *replicas; /* --replicas "host:port,DSN,…"; NULL = SHOW SLAVE HOSTS, "" = none */
    double kill_blockers_after; /* KILL sessions holding up the cutover this long; 0 = never */
    /* Metrics and hooks (src/core/metrics.c, hooks.c, observe.c). */
    const char *metrics_listen;   /* HOST:PORT of the /metrics HTTP server */
    const char *metrics_textfile; /* PATH rewritten on every progress tick */
    const char *hooks_dir;        /* DIR/on-<event> executables */
    double hook_timeout;          /* seconds before a hook is killed */
    /* --fill-from specs (issue 7) and what to do with referencing FKs. */
    const char *fill_from[LM_MAX_FILLS];
    size_t nfill_from;
    bool fk_rebuild; /* --foreign-keys=rebuild */
} lm_migrate_opts;

#define LM_MIGRATE_OPTS_INIT                                                                       \
    {                                                                                              \
        .chunk_size = 1000, .chunk_time = 0.1, .max_lag = 10.0, .cutover_lock_timeout = 3.0,       \
        .cutover_retries = 10, .progress_interval = 5.0, .reconnect_timeout = 120.0,               \
        .hook_timeout = 60.0                                                                       \
    }

/* Set from the SIGINT/SIGTERM handler: the only global besides the logger. */
extern volatile sig_atomic_t lm_interrupted;

/* Returns the process exit code (0 done / dry run, 1 failed, 2 refused). */
int lm_migrate_main(const lm_migrate_opts *opts);

#endif
