/* The core: dialect-free pieces of a migration — the change queue fed by
 * the stream, the shared status, the control socket and progress. */
#ifndef LIVEMIG_CORE_H
#define LIVEMIG_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "livemig/binlog.h"
#include "livemig/change.h"
#include "livemig/clock.h"
#include "livemig/err.h"

/* ---- change queue: stream thread produces, applier consumes ---- */

/* The memory a migration's queue may hold (lm_change_size of the queued
 * changes): the binlog itself is the buffer beyond it. */
#define LM_QUEUE_MAX_BYTES ((size_t)32 << 20)

typedef struct lm_queue {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    lm_change *head, *tail;
    size_t len;
    size_t max_len;         /* producer waits at this many changes (0: no limit) */
    size_t bytes;           /* lm_change_size of the queued changes */
    size_t max_bytes;       /* producer waits while a push would pass this (0: no limit) */
    lm_binlog_pos recv_pos; /* stream position fully received */
    lm_binlog_pos safe_pos; /* last transaction boundary whose changes are all pushed */
    char safe_gtid[64];     /* GTID of the transaction that ended at safe_pos, or "" */
    uint32_t last_ts;       /* timestamp of the newest event seen */
    bool closed;            /* producer finished (error or stop) */
    lm_err err;             /* why the producer stopped, if it failed */
} lm_queue;

int lm_queue_init(lm_queue *q, size_t max_len);
/* Also bound the queue by the memory its changes hold (0: no limit). */
void lm_queue_set_max_bytes(lm_queue *q, size_t max_bytes);
void lm_queue_destroy(lm_queue *q);
/* The memory a queued change holds: the change and its row images. */
size_t lm_change_size(const lm_change *c);
/* Producer: append (takes ownership); waits while full unless *stop.
 * Full: max_len changes queued, or c would take the queue past max_bytes;
 * an empty queue takes any change, however big, so nothing deadlocks. */
void lm_queue_push(lm_queue *q, lm_change *c, const volatile bool *stop);
void lm_queue_set_pos(lm_queue *q, const lm_binlog_pos *pos, uint32_t ts);
/* Producer: every change of the transactions before pos was pushed (pos
 * is a transaction boundary, gtid the GTID of the one that ended there). */
void lm_queue_set_safe_pos(lm_queue *q, const lm_binlog_pos *pos, const char *gtid);
void lm_queue_close(lm_queue *q, const lm_err *err);
/* Consumer: detach up to max changes (a NULL-terminated list), waiting
 * up to wait_ms for the first one. */
lm_change *lm_queue_pop(lm_queue *q, size_t max, int wait_ms, size_t *n);
/* The same, but only changes whose end position is <= upto (NULL: any):
 * the applier can stop exactly at a binlog position. */
lm_change *lm_queue_pop_upto(lm_queue *q, size_t max, const lm_binlog_pos *upto, int wait_ms,
                             size_t *n);
/* The same, and *safe (gtid: 64 bytes or NULL) says where a restarted
 * stream must begin so that, once the popped changes are applied,
 * nothing is lost: the next queued change's transaction start, or the
 * last boundary when the queue is empty. */
lm_change *lm_queue_pop_safe(lm_queue *q, size_t max, const lm_binlog_pos *upto, int wait_ms,
                             size_t *n, lm_binlog_pos *safe, char *gtid);
/* Snapshot of producer state. Returns the queue length. */
size_t lm_queue_peek(lm_queue *q, lm_binlog_pos *recv_pos, uint32_t *oldest_ts, bool *closed,
                     lm_err *err);
/* The memory the queued changes hold (lm_change_size). */
size_t lm_queue_bytes(lm_queue *q);
void lm_change_list_free(lm_change *list);

/* ---- shared status, read by the control socket and progress ---- */
typedef enum {
    LM_STATE_PREPARING,
    LM_STATE_COPYING,
    LM_STATE_CATCHING_UP,
    LM_STATE_POSTPONED,
    LM_STATE_VERIFYING,
    LM_STATE_CUTTING_OVER,
    LM_STATE_DONE,
    LM_STATE_FAILED,
} lm_state;

const char *lm_state_name(lm_state s);

/* Settings the control socket can read (`name=?`) and change (`name=V`)
 * while a migration runs; gen counts the changes. */
typedef struct lm_live {
    size_t chunk_size;
    double max_lag;
    double nice_ratio;  /* sleep this many times a chunk's duration after it */
    char max_load[256]; /* "Name=N,…" or "" */
    char critical_load[256];
    unsigned gen;
} lm_live;

/* Samples of changes_applied kept for the apply rate. */
#define LM_RATE_SAMPLES 64

/* Upper bounds (seconds) of the chunk duration histogram's buckets. */
#define LM_CHUNK_BUCKETS 10
extern const double lm_chunk_bucket_le[LM_CHUNK_BUCKETS];

typedef struct lm_status {
    pthread_mutex_t mu;
    lm_state state;
    uint64_t rows_copied;
    uint64_t rows_estimated;
    uint64_t changes_applied;
    double lag_seconds;
    double verify_seconds; /* time spent verifying so far */
    char throttled[160];   /* why the copy is paused ("max-load: Threads_running=31>25"), or "" */
    double started;        /* monotonic seconds */
    /* For the metrics (--metrics-listen, --metrics-textfile): copy chunks
     * committed and how long they took, and the cutover's attempts. */
    uint64_t chunks;
    double chunk_seconds_sum, chunk_seconds_max;
    uint64_t chunk_buckets[LM_CHUNK_BUCKETS]; /* chunks that took <= lm_chunk_bucket_le[i] */
    uint64_t cutover_attempts;
    double cutover_stall_seconds; /* writes blocked by the cutover that succeeded */
    lm_live live;
    /* (when, changes_applied) as the status was last read, a ring: the
     * apply rate is the slope over the last seconds (status.c). */
    double rate_t[LM_RATE_SAMPLES];
    uint64_t rate_n[LM_RATE_SAMPLES];
    unsigned rate_len, rate_next;
    double apply_rate; /* changes/s, as last computed */
    /* operator requests (control socket) */
    bool op_throttle;
    bool op_cutover;
    bool op_postpone;
    bool op_abort;
    char table[400];
} lm_status;

/* The adaptive copy's next chunk: a chunk of n rows took secs, chunks
 * should take target: n scaled to that, at most 2n (growth is gradual,
 * shrinking immediate), within [floor, ceiling]. */
size_t lm_chunk_next(size_t n, double secs, double target, size_t floor, size_t ceiling);

void lm_status_init(lm_status *st);
void lm_status_destroy(lm_status *st);
/* The operator's stop requests: a signal (interrupted) or `abort` on the
 * control socket, as LM_EABORT; 0 when neither. */
int lm_status_check_stop(lm_status *st, bool interrupted, lm_err *err);
/* Changes applied per second over the last 10 s or so (now: lm_now()),
 * sampling changes_applied; the progress line and the JSON call it. */
double lm_status_apply_rate(lm_status *st, double now);
/* A copy chunk of rows committed in seconds: counters and timings. */
void lm_status_chunk(lm_status *st, uint64_t rows, double seconds);
/* One JSON object describing the status (no newline). */
struct lm_buf;
void lm_status_json(lm_status *st, struct lm_buf *out);

/* ---- control socket ---- */
typedef struct lm_ctl lm_ctl;
/* Listen on path: a stale socket file is replaced, a live one refused. */
int lm_ctl_start(lm_ctl **out, const char *path, lm_status *st, lm_err *err);
void lm_ctl_stop(lm_ctl *ctl);
/* Client side: send one command, print the answer to stdout. */
int lm_ctl_send(const char *path, const char *command, struct lm_buf *answer, lm_err *err);

/* ---- progress ---- */
void lm_progress_print(lm_status *st);

#endif
