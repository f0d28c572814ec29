/* Metrics: the status as Prometheus text, served by a small HTTP/1.0
 * thread and written to a file for node_exporter's textfile collector.
 * Scrapers poll, so nothing here pushes or blocks the migration. */
#include "livemig/metrics.h"

#include "livemig/clock.h"
#include "livemig/log.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define REQ_MAX        8192 /* a scraper's request is a few hundred bytes */
#define REQ_TIMEOUT_S  2    /* a client that dawdles is dropped */
#define SEND_TIMEOUT_S 5    /* and so is one that does not read */

void lm_metrics_label(lm_buf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            lm_buf_puts(out, "\\\\");
        else if (*v == '"')
            lm_buf_puts(out, "\\\"");
        else if (*v == '\n')
            lm_buf_puts(out, "\\n");
        else
            lm_buf_putc(out, *v);
    }
}

static void family(lm_buf *out, const char *name, const char *type, const char *help)
{
    lm_buf_printf(out, "# HELP livemig_%s %s\n# TYPE livemig_%s %s\n", name, help, name, type);
}

/* One sample: livemig_NAME{table="…"[,LABEL="VALUE"]} VALUE */
static void sample(lm_buf *out, const char *name, const char *table, const char *label,
                   const char *lvalue, double v)
{
    lm_buf_printf(out, "livemig_%s{table=\"", name);
    lm_metrics_label(out, table);
    if (label) {
        lm_buf_printf(out, "\",%s=\"", label);
        lm_metrics_label(out, lvalue);
    }
    /* Counters exact, seconds to the microsecond. */
    if (v == floor(v) && fabs(v) < 1e15)
        lm_buf_printf(out, "\"} %.0f\n", v);
    else
        lm_buf_printf(out, "\"} %.6f\n", v);
}

static void metric(lm_buf *out, const char *name, const char *type, const char *help,
                   const char *table, double v)
{
    family(out, name, type, help);
    sample(out, name, table, NULL, NULL, v);
}

void lm_metrics_format(lm_status *st, lm_buf *out)
{
    const char *t = st->table;
    char le[32];

    pthread_mutex_lock(&st->mu);
    metric(out, "rows_copied_total", "counter", "Rows copied from the table into the shadow.", t,
           (double)st->rows_copied);
    metric(out, "rows_estimated", "gauge",
           "Estimated rows in the table (raised if the copy passes it).", t,
           (double)st->rows_estimated);
    metric(out, "changes_applied_total", "counter", "Binlog row changes applied to the shadow.", t,
           (double)st->changes_applied);
    metric(out, "lag_seconds", "gauge", "How far applying the binlog is behind the server.", t,
           st->lag_seconds);
    metric(out, "throttled", "gauge", "1 while the copy is paused, else 0.", t,
           st->throttled[0] ? 1 : 0);
    family(out, "throttle_info", "gauge", "Why the copy is paused (present only while it is).");
    if (st->throttled[0])
        sample(out, "throttle_info", t, "reason", st->throttled, 1);
    family(out, "state", "gauge", "The migration's state: 1 for the current one.");
    for (lm_state s = LM_STATE_PREPARING; s <= LM_STATE_FAILED; s++)
        sample(out, "state", t, "state", lm_state_name(s), s == st->state);
    metric(out, "chunks_total", "counter", "Copy chunks committed.", t, (double)st->chunks);
    family(out, "chunk_seconds", "histogram", "Time to copy one chunk.");
    for (int i = 0; i < LM_CHUNK_BUCKETS; i++) {
        snprintf(le, sizeof(le), "%g", lm_chunk_bucket_le[i]);
        sample(out, "chunk_seconds_bucket", t, "le", le, (double)st->chunk_buckets[i]);
    }
    sample(out, "chunk_seconds_bucket", t, "le", "+Inf", (double)st->chunks);
    sample(out, "chunk_seconds_sum", t, NULL, NULL, st->chunk_seconds_sum);
    sample(out, "chunk_seconds_count", t, NULL, NULL, (double)st->chunks);
    metric(out, "chunk_seconds_max", "gauge", "The longest time one chunk took.", t,
           st->chunk_seconds_max);
    metric(out, "cutover_attempts_total", "counter", "Cutover attempts started.", t,
           (double)st->cutover_attempts);
    metric(out, "cutover_stall_seconds", "gauge",
           "How long the successful cutover blocked writes (0 before it).", t,
           st->cutover_stall_seconds);
    metric(out, "verify_seconds", "gauge", "Time spent verifying the shadow so far.", t,
           st->verify_seconds);
    metric(out, "elapsed_seconds", "gauge", "Seconds since livemig started.", t,
           lm_now() - st->started);
    pthread_mutex_unlock(&st->mu);
    family(out, "build_info", "gauge", "The livemig version.");
    lm_buf_puts(out, "livemig_build_info{version=\"");
    lm_metrics_label(out, LIVEMIG_VERSION);
    lm_buf_puts(out, "\"} 1\n");
}

int lm_metrics_write_file(lm_status *st, const char *path, lm_err *err)
{
    lm_buf body = LM_BUF_INIT, tmp = LM_BUF_INIT;
    FILE *f = NULL;
    int rc = 0;

    lm_metrics_format(st, &body);
    lm_buf_printf(&tmp, "%s.tmp", path);
    if (body.oom || tmp.oom) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    /* The collector may read at any moment: it sees the old file or the new. */
    if ((f = fopen(tmp.data, "w")) == NULL || fwrite(body.data, 1, body.len, f) != body.len) {
        rc = lm_err_set(err, LM_EIO, "cannot write %s: %s", tmp.data, strerror(errno));
        goto cleanup;
    }
    if (fclose(f) != 0) {
        f = NULL;
        rc = lm_err_set(err, LM_EIO, "cannot write %s: %s", tmp.data, strerror(errno));
        goto cleanup;
    }
    f = NULL;
    if (rename(tmp.data, path) < 0)
        rc = lm_err_set(err, LM_EIO, "cannot rename %s to %s: %s", tmp.data, path, strerror(errno));
cleanup:
    if (f)
        fclose(f);
    if (rc < 0 && tmp.data)
        unlink(tmp.data);
    lm_buf_free(&body);
    lm_buf_free(&tmp);
    return rc;
}

/* ---- the HTTP server ---- */

struct lm_metrics {
    int fd;
    char url[NI_MAXHOST + 64];
    lm_status *st;
    pthread_t thread;
    volatile bool stop;
};

static void reply(int fd, const char *status, const char *type, const lm_buf *body, bool head)
{
    lm_buf b = LM_BUF_INIT;
    size_t off = 0;

    lm_buf_printf(&b,
                  "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n\r\n",
                  status, type, body->len);
    if (!head && body->len)
        lm_buf_append(&b, body->data, body->len);
    while (b.data && off < b.len) {
        ssize_t w = send(fd, b.data + off, b.len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    lm_buf_free(&b);
}

/* Read the request head (up to an empty line), bounded in size and time. */
static size_t read_request(int fd, char *req, size_t cap)
{
    double deadline = lm_now() + REQ_TIMEOUT_S;
    struct pollfd p = {fd, POLLIN, 0};
    size_t len = 0;

    while (len < cap - 1) {
        int left = (int)((deadline - lm_now()) * 1000);
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        ssize_t r = recv(fd, req + len, cap - 1 - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
            break;
    }
    req[len] = '\0';
    return len;
}

static void serve(lm_metrics *m, int fd)
{
    char req[REQ_MAX];
    struct timeval tv = {SEND_TIMEOUT_S, 0};
    lm_buf body = LM_BUF_INIT;
    char method[16], path[256];
    bool head;

    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (read_request(fd, req, sizeof(req)) == 0 || sscanf(req, "%15s %255s", method, path) != 2) {
        lm_buf_puts(&body, "bad request\n");
        reply(fd, "400 Bad Request", "text/plain", &body, false);
        goto cleanup;
    }
    head = strcmp(method, "HEAD") == 0;
    path[strcspn(path, "?")] = '\0';
    if (!head && strcmp(method, "GET") != 0) {
        lm_buf_puts(&body, "only GET\n");
        reply(fd, "405 Method Not Allowed", "text/plain", &body, false);
    } else if (strcmp(path, "/metrics") != 0) {
        lm_buf_puts(&body, "not found: the metrics are at /metrics\n");
        reply(fd, "404 Not Found", "text/plain", &body, head);
    } else {
        lm_metrics_format(m->st, &body);
        reply(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", &body, head);
    }
cleanup:
    lm_buf_free(&body);
    close(fd);
}

static void *metrics_main(void *arg)
{
    lm_metrics *m = arg;
    struct pollfd p = {m->fd, POLLIN, 0};

    while (!m->stop) {
        if (poll(&p, 1, 200) <= 0)
            continue;
        int fd = accept(m->fd, NULL, NULL);
        if (fd >= 0)
            serve(m, fd);
    }
    return NULL;
}

/* HOST:PORT, [V6]:PORT, :PORT or PORT into host (NULL: loopback) and port. */
static int split_addr(const char *addr, char *host, size_t cap, char *port, size_t pcap,
                      lm_err *err)
{
    const char *colon = strrchr(addr, ':'), *p = colon ? colon + 1 : addr;
    size_t hl = colon ? (size_t)(colon - addr) : 0;
    char *end;
    unsigned long n = strtoul(p, &end, 10);

    if (*p == '\0' || *end || n > 65535 || strspn(p, "0123456789") != strlen(p))
        return lm_err_set(err, LM_EINVAL,
                          "--metrics-listen %s: want HOST:PORT (e.g. 127.0.0.1:9187)", addr);
    if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']')
        addr++, hl -= 2;
    if (hl >= cap)
        return lm_err_set(err, LM_EINVAL, "--metrics-listen %s: host too long", addr);
    memcpy(host, addr, hl);
    host[hl] = '\0';
    snprintf(port, pcap, "%lu", n);
    return 0;
}

static int bind_addr(const char *addr, int *out, lm_err *err)
{
    struct addrinfo hints, *res = NULL;
    char host[256], port[8];
    int fd = -1, rc, one = 1, gai;

    if ((rc = split_addr(addr, host, sizeof(host), port, sizeof(port), err)) < 0)
        return rc;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    if ((gai = getaddrinfo(host[0] ? host : "127.0.0.1", port, &hints, &res)) != 0)
        return lm_err_set(err, LM_EINVAL, "--metrics-listen %s: %s", addr, gai_strerror(gai));
    fd = socket(res->ai_family, SOCK_STREAM, 0);
    /* Restarting right after a run must not wait out TIME_WAIT; a port
     * another process listens on is still refused. */
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 16) < 0) {
        rc = lm_err_set(err, LM_EINVAL, "--metrics-listen %s: cannot listen: %s%s", addr,
                        strerror(errno), errno == EADDRINUSE ? " (pick another port)" : "");
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    *out = fd;
    return rc;
}

int lm_metrics_start(lm_metrics **out, const char *addr, lm_status *st, lm_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    lm_metrics *m = NULL;
    char host[256], port[NI_MAXSERV];
    int fd = -1, rc;

    if ((rc = bind_addr(addr, &fd, err)) < 0)
        return rc;
    if ((m = calloc(1, sizeof(*m))) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    m->fd = fd;
    m->st = st;
    /* The address as bound: with port 0 the kernel picked it. */
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(m->url, sizeof(m->url), "http://%s%s%s:%s/metrics",
                 ss.ss_family == AF_INET6 ? "[" : "", host, ss.ss_family == AF_INET6 ? "]" : "",
                 port);
    else
        snprintf(m->url, sizeof(m->url), "http://%s/metrics", addr);
    if (pthread_create(&m->thread, NULL, metrics_main, m) != 0) {
        rc = lm_err_set(err, LM_EIO, "cannot start the metrics thread");
        goto cleanup;
    }
    *out = m;
    return 0;
cleanup:
    close(fd);
    free(m);
    return rc;
}

const char *lm_metrics_url(const lm_metrics *m)
{
    return m->url;
}

void lm_metrics_stop(lm_metrics *m)
{
    if (m == NULL)
        return;
    m->stop = true;
    pthread_join(m->thread, NULL);
    close(m->fd);
    free(m);
}
