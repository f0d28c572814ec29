#include "livemig/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void lm_change_free(lm_change *c)
{
    if (c == NULL)
        return;
    lm_row_free(c->before);
    lm_row_free(c->after);
    free(c);
}

/* What lm_row_clone allocates for r: the values and their bytes. */
static size_t row_size(const lm_row *r)
{
    size_t n;

    if (r == NULL)
        return 0;
    n = sizeof(*r) + r->ncols * sizeof(lm_value);
    for (unsigned i = 0; i < r->ncols; i++)
        if (r->cols[i].str)
            n += r->cols[i].len + 1;
    return n;
}

size_t lm_change_size(const lm_change *c)
{
    return sizeof(*c) + row_size(c->before) + row_size(c->after);
}

void lm_change_list_free(lm_change *list)
{
    while (list) {
        lm_change *next = list->next;
        lm_change_free(list);
        list = next;
    }
}

int lm_queue_init(lm_queue *q, size_t max_len)
{
    memset(q, 0, sizeof(*q));
    q->max_len = max_len;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cond, NULL);
    return 0;
}

void lm_queue_set_max_bytes(lm_queue *q, size_t max_bytes)
{
    pthread_mutex_lock(&q->mu);
    q->max_bytes = max_bytes;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mu);
}

/* Whether c must wait: the queue is full, by count or by memory. An empty
 * queue takes anything, or a change bigger than the budget would wait for
 * ever. */
static bool full(const lm_queue *q, size_t size)
{
    if (q->len == 0)
        return false;
    return (q->max_len && q->len >= q->max_len) ||
           (q->max_bytes && (q->bytes >= q->max_bytes || size > q->max_bytes - q->bytes));
}

void lm_queue_destroy(lm_queue *q)
{
    lm_change_list_free(q->head);
    q->head = q->tail = NULL;
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->mu);
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

void lm_queue_push(lm_queue *q, lm_change *c, const volatile bool *stop)
{
    size_t size = lm_change_size(c);
    struct timespec ts;

    c->next = NULL;
    pthread_mutex_lock(&q->mu);
    /* Backpressure keeps memory bounded; the binlog itself is the buffer. */
    while (full(q, size) && !(stop && *stop)) {
        deadline_in(&ts, 100);
        pthread_cond_timedwait(&q->cond, &q->mu, &ts);
    }
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    q->len++;
    q->bytes += size;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mu);
}

void lm_queue_set_pos(lm_queue *q, const lm_binlog_pos *pos, uint32_t ts)
{
    pthread_mutex_lock(&q->mu);
    q->recv_pos = *pos;
    if (ts)
        q->last_ts = ts;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mu);
}

void lm_queue_set_safe_pos(lm_queue *q, const lm_binlog_pos *pos, const char *gtid)
{
    pthread_mutex_lock(&q->mu);
    q->safe_pos = *pos;
    snprintf(q->safe_gtid, sizeof(q->safe_gtid), "%s", gtid ? gtid : "");
    pthread_mutex_unlock(&q->mu);
}

void lm_queue_close(lm_queue *q, const lm_err *err)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    if (err && err->code && q->err.code == 0)
        q->err = *err;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mu);
}

lm_change *lm_queue_pop(lm_queue *q, size_t max, int wait_ms, size_t *n)
{
    return lm_queue_pop_upto(q, max, NULL, wait_ms, n);
}

lm_change *lm_queue_pop_upto(lm_queue *q, size_t max, const lm_binlog_pos *upto, int wait_ms,
                             size_t *n)
{
    return lm_queue_pop_safe(q, max, upto, wait_ms, n, NULL, NULL);
}

lm_change *lm_queue_pop_safe(lm_queue *q, size_t max, const lm_binlog_pos *upto, int wait_ms,
                             size_t *n, lm_binlog_pos *safe, char *gtid)
{
    lm_change *first, *last;
    struct timespec ts;
    size_t k = 0, bytes = 0;

    pthread_mutex_lock(&q->mu);
    if (q->len == 0 && wait_ms > 0 && !q->closed) {
        deadline_in(&ts, wait_ms);
        while (q->len == 0 && !q->closed) {
            if (pthread_cond_timedwait(&q->cond, &q->mu, &ts) == ETIMEDOUT)
                break;
        }
    }
    first = q->head;
    last = NULL;
    for (lm_change *c = first; c && k < max; c = c->next) {
        if (upto && lm_binlog_pos_cmp(&c->end, upto) > 0)
            break;
        last = c;
        k++;
        bytes += lm_change_size(c);
    }
    if (last) {
        q->head = last->next;
        if (q->head == NULL)
            q->tail = NULL;
        last->next = NULL;
        q->len -= k;
        q->bytes -= bytes;
    } else {
        first = NULL;
    }
    if (safe)
        *safe = q->head ? q->head->txn_start : q->safe_pos;
    if (gtid)
        snprintf(gtid, 64, "%s", q->head ? "" : q->safe_gtid);
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mu);
    if (n)
        *n = k;
    return first;
}

size_t lm_queue_bytes(lm_queue *q)
{
    size_t bytes;

    pthread_mutex_lock(&q->mu);
    bytes = q->bytes;
    pthread_mutex_unlock(&q->mu);
    return bytes;
}

size_t lm_queue_peek(lm_queue *q, lm_binlog_pos *recv_pos, uint32_t *oldest_ts, bool *closed,
                     lm_err *err)
{
    size_t len;

    pthread_mutex_lock(&q->mu);
    len = q->len;
    if (recv_pos)
        *recv_pos = q->recv_pos;
    if (oldest_ts)
        *oldest_ts = q->head ? q->head->timestamp : 0;
    if (closed)
        *closed = q->closed;
    if (err)
        *err = q->err;
    pthread_mutex_unlock(&q->mu);
    return len;
}
