#include "livemig/buf.h"
#include "livemig/clock.h"
#include "livemig/core.h"
#include "livemig/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const char *lm_state_name(lm_state s)
{
    static const char *names[] = {"preparing", "copying",      "catching-up", "postponed",
                                  "verifying", "cutting-over", "done",        "failed"};
    return names[s];
}

const double lm_chunk_bucket_le[LM_CHUNK_BUCKETS] = {0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,  1,     2.5,  5,   10};

void lm_status_chunk(lm_status *st, uint64_t rows, double seconds)
{
    pthread_mutex_lock(&st->mu);
    st->rows_copied += rows;
    st->chunks++;
    st->chunk_seconds_sum += seconds;
    if (seconds > st->chunk_seconds_max)
        st->chunk_seconds_max = seconds;
    for (int i = 0; i < LM_CHUNK_BUCKETS; i++)
        if (seconds <= lm_chunk_bucket_le[i])
            st->chunk_buckets[i]++;
    pthread_mutex_unlock(&st->mu);
}

#define RATE_WINDOW_S  10.0
#define RATE_SPACING_S 0.25

/* The k-th newest sample (0: the newest). */
static unsigned rate_at(const lm_status *st, unsigned k)
{
    return (st->rate_next + LM_RATE_SAMPLES - 1 - k) % LM_RATE_SAMPLES;
}

/* The slope of changes_applied over the window, from samples taken as the
 * status is read (at least at the progress line's rhythm): no hook in the
 * apply path is needed. Caller holds st->mu. */
static double rate_locked(lm_status *st, double now)
{
    uint64_t n = st->changes_applied;
    unsigned base, k;

    /* --resume loads the counter while preparing: not changes applied now. */
    if (st->state == LM_STATE_PREPARING || (st->rate_len > 0 && n < st->rate_n[rate_at(st, 0)])) {
        st->rate_len = 0;
        st->apply_rate = 0;
        if (st->state == LM_STATE_PREPARING)
            return 0;
    }
    if (st->rate_len == 0 || now - st->rate_t[rate_at(st, 0)] >= RATE_SPACING_S) {
        st->rate_t[st->rate_next] = now;
        st->rate_n[st->rate_next] = n;
        st->rate_next = (st->rate_next + 1) % LM_RATE_SAMPLES;
        if (st->rate_len < LM_RATE_SAMPLES)
            st->rate_len++;
    }
    /* The oldest sample inside the window; when the status is read
     * rarely, the newest one before it (the last progress line). */
    for (k = st->rate_len - 1; k > 0 && now - st->rate_t[rate_at(st, k)] > RATE_WINDOW_S; k--)
        ;
    if (now - st->rate_t[rate_at(st, k)] < 1.0 && k + 1 < st->rate_len)
        k++;
    base = rate_at(st, k);
    /* Too short a span says nothing new: keep the last figure. */
    if (now - st->rate_t[base] >= 0.5)
        st->apply_rate = (double)(n - st->rate_n[base]) / (now - st->rate_t[base]);
    return st->apply_rate;
}

double lm_status_apply_rate(lm_status *st, double now)
{
    double rate;

    pthread_mutex_lock(&st->mu);
    rate = rate_locked(st, now);
    pthread_mutex_unlock(&st->mu);
    return rate;
}

void lm_status_init(lm_status *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_init(&st->mu, NULL);
    st->started = lm_now();
}

void lm_status_destroy(lm_status *st)
{
    pthread_mutex_destroy(&st->mu);
}

void lm_status_json(lm_status *st, lm_buf *out)
{
    pthread_mutex_lock(&st->mu);
    lm_buf_printf(out, "{\"schema\":%d,\"state\":\"%s\",\"table\":", LM_LOG_JSON_SCHEMA,
                  lm_state_name(st->state));
    lm_buf_json_str(out, st->table, strlen(st->table));
    lm_buf_printf(out,
                  ",\"rows_copied\":%llu,\"rows_estimated\":%llu,\"changes_applied\":%llu,"
                  "\"changes_per_second\":%.1f,\"lag_seconds\":%.3f,\"throttled\":",
                  (unsigned long long)st->rows_copied, (unsigned long long)st->rows_estimated,
                  (unsigned long long)st->changes_applied, rate_locked(st, lm_now()),
                  st->lag_seconds);
    if (st->throttled[0])
        lm_buf_json_str(out, st->throttled, strlen(st->throttled));
    else
        lm_buf_puts(out, "false");
    lm_buf_printf(out, ",\"verify_seconds\":%.3f,\"elapsed_seconds\":%.1f", st->verify_seconds,
                  lm_now() - st->started);
    lm_buf_printf(out, ",\"settings\":{\"chunk_size\":%zu,\"max_lag\":%g,\"nice_ratio\":%g,",
                  st->live.chunk_size, st->live.max_lag, st->live.nice_ratio);
    lm_buf_puts(out, "\"max_load\":");
    lm_buf_json_str(out, st->live.max_load, strlen(st->live.max_load));
    lm_buf_puts(out, ",\"critical_load\":");
    lm_buf_json_str(out, st->live.critical_load, strlen(st->live.critical_load));
    lm_buf_printf(out, ",\"postponed\":%s}}", st->op_postpone ? "true" : "false");
    pthread_mutex_unlock(&st->mu);
}

static void format_duration(char *out, size_t n, double s)
{
    long t = (long)(s + 0.5);

    snprintf(out, n, "%02ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

int lm_status_check_stop(lm_status *st, bool interrupted, lm_err *err)
{
    bool abort_req;

    pthread_mutex_lock(&st->mu);
    abort_req = st->op_abort;
    pthread_mutex_unlock(&st->mu);
    if (interrupted)
        return lm_err_set(err, LM_EABORT, "interrupted by signal; the table is unchanged");
    if (abort_req)
        return lm_err_set(err, LM_EABORT,
                          "aborted from the control socket; the table is unchanged");
    return 0;
}

void lm_progress_print(lm_status *st)
{
    double elapsed, pct, eta = -1;
    char eta_s[32] = "--:--:--", el_s[32], verify_s[48] = "";
    uint64_t copied, est;

    if (lm_log_json()) {
        lm_buf b = LM_BUF_INIT;
        lm_buf_printf(&b, "{\"schema\":%d,\"event\":\"progress\",\"status\":", LM_LOG_JSON_SCHEMA);
        lm_status_json(st, &b);
        lm_buf_puts(&b, "}\n");
        if (b.data)
            fputs(b.data, stderr);
        lm_buf_free(&b);
        return;
    }
    pthread_mutex_lock(&st->mu);
    elapsed = lm_now() - st->started;
    copied = st->rows_copied;
    est = st->rows_estimated > copied ? st->rows_estimated : copied;
    pct = est ? 100.0 * (double)copied / (double)est : 100.0;
    if (st->state == LM_STATE_COPYING && copied > 0 && est > copied)
        eta = elapsed * (double)(est - copied) / (double)copied;
    else if (st->state != LM_STATE_COPYING && st->state != LM_STATE_PREPARING)
        eta = 0;
    if (eta >= 0)
        format_duration(eta_s, sizeof(eta_s), eta);
    format_duration(el_s, sizeof(el_s), elapsed);
    if (st->verify_seconds > 0 || st->state == LM_STATE_VERIFYING)
        snprintf(verify_s, sizeof(verify_s), ", verify %.1fs", st->verify_seconds);
    fprintf(stderr,
            "livemig: %s copied %llu/%llu rows (%.1f%%), applied %llu changes (%.0f/s), lag %.1fs, "
            "state %s%s%s%s, elapsed %s, ETA %s\n",
            st->table, (unsigned long long)copied, (unsigned long long)est, pct,
            (unsigned long long)st->changes_applied, rate_locked(st, lm_now()), st->lag_seconds,
            lm_state_name(st->state), st->throttled[0] ? ", throttled: " : "", st->throttled,
            verify_s, el_s, eta_s);
    pthread_mutex_unlock(&st->mu);
}
