/* Metrics of a running migration in the Prometheus text exposition format
 * (version 0.0.4): served over HTTP (--metrics-listen) and written to a file
 * for node_exporter's textfile collector (--metrics-textfile). */
#ifndef LIVEMIG_METRICS_H
#define LIVEMIG_METRICS_H

#include "livemig/buf.h"
#include "livemig/core.h"
#include "livemig/err.h"

/* Append v as the inside of a label value: \ " and newline escaped. */
void lm_metrics_label(lm_buf *out, const char *v);
/* The whole exposition for st (every metric with its HELP and TYPE). */
void lm_metrics_format(lm_status *st, lm_buf *out);
/* Write the exposition to path atomically: path.tmp, then rename. */
int lm_metrics_write_file(lm_status *st, const char *path, lm_err *err);

/* The HTTP server: a thread answering GET /metrics (404 elsewhere). addr is
 * HOST:PORT, [IPv6]:PORT, :PORT or PORT (loopback); port 0 picks a free one.
 * A bad or busy address is LM_EINVAL. */
typedef struct lm_metrics lm_metrics;
int lm_metrics_start(lm_metrics **out, const char *addr, lm_status *st, lm_err *err);
/* http://ADDRESS:PORT/metrics as bound (with port 0, the port picked). */
const char *lm_metrics_url(const lm_metrics *m);
void lm_metrics_stop(lm_metrics *m);

#endif
