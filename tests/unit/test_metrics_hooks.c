/* Metrics and hooks without a server: the Prometheus text (escaping, HELP
 * and TYPE for every sample, the histogram), the textfile, the HTTP
 * server's answers and refusals, and the hooks' environment and runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "livemig/buf.h"
#include "livemig/clock.h"
#include "livemig/core.h"
#include "livemig/hooks.h"
#include "livemig/metrics.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_label_escaping(void **state)
{
    lm_buf b = LM_BUF_INIT;

    lm_metrics_label(&b, "a\"b\\c\nd`e é");
    assert_string_equal(b.data, "a\\\"b\\\\c\\nd`e é");
    lm_buf_free(&b);
}

static void fill(lm_status *st)
{
    lm_status_init(st);
    snprintf(st->table, sizeof(st->table), "%s", "shop.or\"ders");
    st->state = LM_STATE_COPYING;
    st->rows_copied = 1200;
    st->rows_estimated = 5000;
    st->changes_applied = 37;
    st->lag_seconds = 1.5;
    snprintf(st->throttled, sizeof(st->throttled), "%s", "max-lag: 12.0s>10s");
    st->cutover_attempts = 2;
    st->cutover_stall_seconds = 0.037;
}

/* Every sample belongs to a family declared by HELP and TYPE before it. */
static void assert_well_formed(const char *text)
{
    char *copy = strdup(text), *save = NULL, *line;
    char types[64][64];
    int ntypes = 0;

    assert_non_null(copy);
    for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[64], type[32];
        if (sscanf(line, "# TYPE %63s %31s", name, type) == 2) {
            assert_true(ntypes < 64);
            snprintf(types[ntypes++], sizeof(types[0]), "%s", name);
            continue;
        }
        if (line[0] == '#') {
            assert_true(strncmp(line, "# HELP livemig_", 15) == 0);
            continue;
        }
        size_t n = strcspn(line, "{ ");
        bool found = false;
        for (int i = 0; i < ntypes && !found; i++) {
            size_t tl = strlen(types[i]);
            found = (n == tl || (n > tl && line[tl] == '_' &&
                                 (strncmp(line + tl, "_bucket", n - tl) == 0 ||
                                  strncmp(line + tl, "_sum", n - tl) == 0 ||
                                  strncmp(line + tl, "_count", n - tl) == 0))) &&
                    strncmp(line, types[i], tl) == 0;
        }
        if (!found)
            fail_msg("sample without TYPE: %s", line);
        /* A value after the labels. */
        const char *sp = strrchr(line, ' ');
        assert_non_null(sp);
        char *end;
        strtod(sp + 1, &end);
        assert_true(*end == '\0');
    }
    free(copy);
}

static void test_format(void **state)
{
    lm_status st;
    lm_buf b = LM_BUF_INIT;

    fill(&st);
    lm_status_chunk(&st, 500, 0.03);
    lm_status_chunk(&st, 500, 0.2);
    lm_metrics_format(&st, &b);
    assert_non_null(b.data);
    assert_well_formed(b.data);
#define HAS(s)                                                                                     \
    do {                                                                                           \
        if (strstr(b.data, s) == NULL)                                                             \
            fail_msg("missing %s in:\n%s", s, b.data);                                             \
    } while (0)
    HAS("# HELP livemig_rows_copied_total ");
    HAS("# TYPE livemig_rows_copied_total counter\n");
    HAS("livemig_rows_copied_total{table=\"shop.or\\\"ders\"} 2200\n");
    HAS("livemig_rows_estimated{table=\"shop.or\\\"ders\"} 5000\n");
    HAS("livemig_changes_applied_total{table=\"shop.or\\\"ders\"} 37\n");
    HAS("livemig_lag_seconds{table=\"shop.or\\\"ders\"} 1.500000\n");
    HAS("livemig_throttled{table=\"shop.or\\\"ders\"} 1\n");
    HAS("livemig_throttle_info{table=\"shop.or\\\"ders\",reason=\"max-lag: 12.0s>10s\"} 1\n");
    HAS("livemig_state{table=\"shop.or\\\"ders\",state=\"copying\"} 1\n");
    HAS("livemig_state{table=\"shop.or\\\"ders\",state=\"done\"} 0\n");
    HAS("# TYPE livemig_chunk_seconds histogram\n");
    HAS("livemig_chunk_seconds_bucket{table=\"shop.or\\\"ders\",le=\"0.025\"} 0\n");
    HAS("livemig_chunk_seconds_bucket{table=\"shop.or\\\"ders\",le=\"0.05\"} 1\n");
    HAS("livemig_chunk_seconds_bucket{table=\"shop.or\\\"ders\",le=\"0.25\"} 2\n");
    HAS("livemig_chunk_seconds_bucket{table=\"shop.or\\\"ders\",le=\"+Inf\"} 2\n");
    HAS("livemig_chunk_seconds_sum{table=\"shop.or\\\"ders\"} 0.230000\n");
    HAS("livemig_chunk_seconds_count{table=\"shop.or\\\"ders\"} 2\n");
    HAS("livemig_chunk_seconds_max{table=\"shop.or\\\"ders\"} 0.200000\n");
    HAS("livemig_chunks_total{table=\"shop.or\\\"ders\"} 2\n");
    HAS("livemig_cutover_attempts_total{table=\"shop.or\\\"ders\"} 2\n");
    HAS("livemig_cutover_stall_seconds{table=\"shop.or\\\"ders\"} 0.037000\n");
    HAS("livemig_elapsed_seconds{table=");
    /* Not throttled: the info gauge has no sample, the family stays. */
    lm_buf_reset(&b);
    st.throttled[0] = '\0';
    lm_metrics_format(&st, &b);
    assert_well_formed(b.data);
    HAS("livemig_throttled{table=\"shop.or\\\"ders\"} 0\n");
    HAS("# TYPE livemig_throttle_info gauge\n");
    assert_null(strstr(b.data, "livemig_throttle_info{"));
#undef HAS
    lm_buf_free(&b);
    lm_status_destroy(&st);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    lm_buf b = LM_BUF_INIT;
    char buf[4096];
    size_t n;

    if (f == NULL)
        return NULL;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        lm_buf_append(&b, buf, n);
    fclose(f);
    lm_buf_putc(&b, '\0');
    return lm_buf_detach(&b);
}

static void test_textfile(void **state)
{
    char dir[] = "/tmp/lm-metrics-XXXXXX", path[256], tmp[300];
    lm_status st;
    lm_err err = LM_ERR_INIT;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/livemig.prom", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fill(&st);
    assert_int_equal(lm_metrics_write_file(&st, path, &err), 0);
    char *text = slurp(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "livemig_rows_copied_total{table=\"shop.or\\\"ders\"} 1200\n"));
    assert_well_formed(text);
    free(text);
    assert_int_not_equal(access(tmp, F_OK), 0);
    snprintf(path, sizeof(path), "%s/no/such/dir.prom", dir);
    assert_int_equal(lm_metrics_write_file(&st, path, &err), LM_EIO);
    assert_non_null(strstr(err.msg, "no/such/dir.prom.tmp"));
    snprintf(path, sizeof(path), "%s/livemig.prom", dir);
    unlink(path);
    rmdir(dir);
    lm_status_destroy(&st);
}

/* One request to url's host and port; returns the whole answer. */
static char *http(const char *url, const char *request)
{
    char host[64], port[16];
    struct addrinfo hints, *res;
    lm_buf b = LM_BUF_INIT;
    char buf[4096];
    ssize_t r;
    int fd;

    assert_int_equal(sscanf(url, "http://%63[^:]:%15[0-9]/", host, port), 2);
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    assert_int_equal(getaddrinfo(host, port, &hints, &res), 0);
    fd = socket(res->ai_family, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, res->ai_addr, res->ai_addrlen), 0);
    freeaddrinfo(res);
    assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
    while ((r = read(fd, buf, sizeof(buf))) > 0)
        lm_buf_append(&b, buf, (size_t)r);
    close(fd);
    lm_buf_putc(&b, '\0');
    return lm_buf_detach(&b);
}

static void test_http_server(void **state)
{
    lm_status st;
    lm_metrics *m = NULL, *m2 = NULL;
    lm_err err = LM_ERR_INIT;
    char addr[64], *ans;

    fill(&st);
    assert_int_equal(lm_metrics_start(&m, "127.0.0.1:0", &st, &err), 0);
    ans = http(lm_metrics_url(m), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(strncmp(ans, "HTTP/1.0 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(ans, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(ans, "\r\n\r\n# HELP livemig_rows_copied_total"));
    free(ans);
    ans = http(lm_metrics_url(m), "GET /other HTTP/1.0\r\n\r\n");
    assert_true(strncmp(ans, "HTTP/1.0 404 ", 13) == 0);
    free(ans);
    ans = http(lm_metrics_url(m), "POST /metrics HTTP/1.0\r\n\r\n");
    assert_true(strncmp(ans, "HTTP/1.0 405 ", 13) == 0);
    free(ans);
    /* The port is taken now: a second server is refused. */
    snprintf(addr, sizeof(addr), "%s", lm_metrics_url(m) + 7);
    addr[strcspn(addr, "/")] = '\0';
    assert_int_equal(lm_metrics_start(&m2, addr, &st, &err), LM_EINVAL);
    assert_non_null(strstr(err.msg, "cannot listen"));
    lm_metrics_stop(m);
    lm_err_clear(&err);
    assert_int_equal(lm_metrics_start(&m2, "127.0.0.1:http-ish", &st, &err), LM_EINVAL);
    lm_err_clear(&err);
    assert_int_equal(lm_metrics_start(&m2, "127.0.0.1:70000", &st, &err), LM_EINVAL);
    lm_err_clear(&err);
    assert_int_equal(lm_metrics_start(&m2, "no-such-host.invalid:9187", &st, &err), LM_EINVAL);
    lm_status_destroy(&st);
}

static const char *env_get(char **env, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

static void test_hook_env(void **state)
{
    char *base[] = {"PATH=/bin",  "MYSQL_PWD=secret", "LIVEMIG_EVENT=stale",
                    "HOME=/root", "PGPASSWORD=x",     NULL};
    lm_hook_vars v = {.event = "on-throttle",
                      .table = "shop.orders",
                      .database = "shop",
                      .alter = "ADD COLUMN x int, ADD KEY (x)",
                      .state = "copying",
                      .rows_copied = 12,
                      .rows_estimated = 99,
                      .changes_applied = 7,
                      .elapsed_seconds = 3.25,
                      .throttle_reason = "max-lag: 12.0s>10s",
                      .timeout_s = 60};
    char **env = lm_hooks_env(&v, base);
    int events = 0;

    assert_non_null(env);
    assert_string_equal(env_get(env, "PATH"), "/bin");
    assert_string_equal(env_get(env, "HOME"), "/root");
    assert_null(env_get(env, "MYSQL_PWD"));
    assert_null(env_get(env, "PGPASSWORD"));
    for (size_t i = 0; env[i]; i++)
        events += strncmp(env[i], "LIVEMIG_EVENT=", 14) == 0;
    assert_int_equal(events, 1);
    assert_string_equal(env_get(env, "LIVEMIG_EVENT"), "on-throttle");
    assert_string_equal(env_get(env, "LIVEMIG_TABLE"), "shop.orders");
    assert_string_equal(env_get(env, "LIVEMIG_DATABASE"), "shop");
    assert_string_equal(env_get(env, "LIVEMIG_ALTER"), "ADD COLUMN x int, ADD KEY (x)");
    assert_string_equal(env_get(env, "LIVEMIG_STATE"), "copying");
    assert_string_equal(env_get(env, "LIVEMIG_ROWS_COPIED"), "12");
    assert_string_equal(env_get(env, "LIVEMIG_ROWS_ESTIMATED"), "99");
    assert_string_equal(env_get(env, "LIVEMIG_CHANGES_APPLIED"), "7");
    assert_string_equal(env_get(env, "LIVEMIG_ELAPSED_SECONDS"), "3.2");
    assert_string_equal(env_get(env, "LIVEMIG_HOOK_TIMEOUT"), "60");
    assert_string_equal(env_get(env, "LIVEMIG_THROTTLE_REASON"), "max-lag: 12.0s>10s");
    assert_null(env_get(env, "LIVEMIG_ERROR"));
    lm_hooks_env_free(env);

    v.event = "on-failure";
    v.throttle_reason = NULL;
    v.error = "cutover: lock wait timeout";
    env = lm_hooks_env(&v, NULL);
    assert_string_equal(env_get(env, "LIVEMIG_ERROR"), "cutover: lock wait timeout");
    assert_null(env_get(env, "LIVEMIG_THROTTLE_REASON"));
    assert_null(env_get(env, "PATH"));
    lm_hooks_env_free(env);
}

static void write_script(const char *dir, const char *name, const char *body, mode_t mode)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, mode);
}

static void test_hook_run(void **state)
{
    char dir[] = "/tmp/lm-hooks-XXXXXX", body[512], out[300], *text;
    lm_hook_vars v = {.event = "on-start",
                      .table = "d.t",
                      .database = "d",
                      .alter = "ADD COLUMN c int",
                      .state = "preparing",
                      .timeout_s = 5};
    lm_err err = LM_ERR_INIT;
    bool ran = true;
    double t0;

    assert_non_null(mkdtemp(dir));
    snprintf(out, sizeof(out), "%s/out.txt", dir);
    /* Absent: nothing runs and that is fine. */
    assert_int_equal(lm_hooks_run(dir, &v, NULL, &ran, &err), 0);
    assert_false(ran);
    snprintf(body, sizeof(body),
             "echo \"$LIVEMIG_EVENT $LIVEMIG_TABLE [$LIVEMIG_ALTER] ${MYSQL_PWD-unset}\" > %s\n"
             "echo to the log; echo and stderr >&2; exit 3",
             out);
    write_script(dir, "on-start", body, 0755);
    setenv("MYSQL_PWD", "secret", 1);
    assert_int_equal(lm_hooks_run(dir, &v, NULL, &ran, &err), LM_EFAIL);
    unsetenv("MYSQL_PWD");
    assert_true(ran);
    assert_string_equal(err.msg, "hook on-start exited 3");
    text = slurp(out);
    assert_string_equal(text, "on-start d.t [ADD COLUMN c int] unset\n");
    free(text);
    /* A hook that outlives its timeout is killed, with what it started. */
    lm_err_clear(&err);
    write_script(dir, "on-start", "sleep 30 & sleep 30", 0755);
    v.timeout_s = 0.3;
    t0 = lm_now();
    assert_int_equal(lm_hooks_run(dir, &v, NULL, &ran, &err), LM_EFAIL);
    assert_true(lm_now() - t0 < 5);
    assert_non_null(strstr(err.msg, "did not finish in time"));
    /* Exit 0. */
    lm_err_clear(&err);
    write_script(dir, "on-start", "exit 0", 0755);
    assert_int_equal(lm_hooks_run(dir, &v, NULL, &ran, &err), 0);
    assert_true(ran);
    /* The directory check: fine, then a hook that cannot be run. */
    assert_int_equal(lm_hooks_check_dir(dir, &err), 0);
    write_script(dir, "on-success", "exit 0", 0644);
    assert_int_equal(lm_hooks_check_dir(dir, &err), LM_EINVAL);
    assert_non_null(strstr(err.msg, "not executable"));
    lm_err_clear(&err);
    snprintf(body, sizeof(body), "%s/missing", dir);
    assert_int_equal(lm_hooks_check_dir(body, &err), LM_EINVAL);
    lm_err_clear(&err);
    assert_int_equal(lm_hooks_check_dir(out, &err), LM_EINVAL);
    assert_non_null(strstr(err.msg, "not a directory"));
    snprintf(body, sizeof(body), "rm -rf %s", dir);
    assert_int_equal(system(body), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_escaping), cmocka_unit_test(test_format),
        cmocka_unit_test(test_textfile),       cmocka_unit_test(test_http_server),
        cmocka_unit_test(test_hook_env),       cmocka_unit_test(test_hook_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
