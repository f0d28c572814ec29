/* The control socket: one command per line, one answer per line. A thread
 * accepts connections so the operator is answered even mid-chunk. */
#include "livemig/buf.h"
#include "livemig/core.h"
#include "livemig/load.h"
#include "livemig/log.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct lm_ctl {
    int fd;
    char *path;
    lm_status *st;
    pthread_t thread;
    volatile bool stop;
};

static int fill_addr(struct sockaddr_un *sa, const char *path, lm_err *err)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path))
        return lm_err_set(err, LM_EINVAL, "control socket path is too long: %s", path);
    strcpy(sa->sun_path, path);
    return 0;
}

/* `name=?` reads a setting, `name=VALUE` changes it (from the next chunk
 * or throttle check). Returns false when name is not a setting. Called
 * with st->mu held. */
static bool setting(lm_status *st, const char *cmd, lm_buf *out)
{
    lm_live *l = &st->live;
    const char *eq = strchr(cmd, '=');
    const char *v = eq ? eq + 1 : NULL;
    size_t nl = eq ? (size_t)(eq - cmd) : 0;
    bool get = v && strcmp(v, "?") == 0;
    lm_err err = LM_ERR_INIT;
    bool changed = false;
    char *end;
    double d;

#define IS(name) (nl == strlen(name) && strncmp(cmd, name, nl) == 0)
    if (v == NULL)
        return false;
    if (IS("chunk-size")) {
        unsigned long n = strtoul(v, &end, 10);
        if (get)
            lm_buf_printf(out, "chunk-size=%zu", l->chunk_size);
        else if (*v == '\0' || *end || n == 0 || n > 1000000)
            lm_buf_puts(out, "error: chunk-size must be 1..1000000");
        else
            lm_buf_printf(out, "ok: chunk-size=%zu", l->chunk_size = n), changed = true;
    } else if (IS("max-lag") || IS("nice-ratio")) {
        double *field = IS("max-lag") ? &l->max_lag : &l->nice_ratio;
        d = strtod(v, &end);
        if (get)
            lm_buf_printf(out, "%.*s=%g", (int)nl, cmd, *field);
        else if (*v == '\0' || *end || d < 0 || d > 1e6)
            lm_buf_printf(out, "error: %.*s must be a number >= 0", (int)nl, cmd);
        else
            lm_buf_printf(out, "ok: %.*s=%g", (int)nl, cmd, *field = d), changed = true;
    } else if (IS("max-load") || IS("critical-load")) {
        char *field = IS("max-load") ? l->max_load : l->critical_load;
        lm_load parsed;
        if (get) {
            lm_buf_printf(out, "%.*s=%s", (int)nl, cmd, field);
        } else if (strlen(v) >= sizeof(l->max_load) || lm_load_parse(v, &parsed, &err) < 0) {
            lm_buf_printf(out, "error: %s", err.msg[0] ? err.msg : "value too long");
        } else {
            snprintf(field, sizeof(l->max_load), "%s", v);
            lm_buf_printf(out, "ok: %.*s=%s", (int)nl, cmd, field);
            changed = true;
        }
    } else {
        return false;
    }
#undef IS
    if (changed)
        l->gen++;
    return true;
}

static void answer(lm_ctl *ctl, const char *cmd, lm_buf *out)
{
    lm_status *st = ctl->st;

    if (strcmp(cmd, "status") == 0) {
        lm_status_json(st, out);
        return;
    }
    pthread_mutex_lock(&st->mu);
    if (strcmp(cmd, "throttle") == 0) {
        st->op_throttle = true;
        lm_buf_puts(out, "ok: throttled");
    } else if (strcmp(cmd, "resume") == 0 || strcmp(cmd, "no-throttle") == 0) {
        st->op_throttle = false;
        lm_buf_puts(out, "ok: resumed");
    } else if (strcmp(cmd, "cutover") == 0 || strcmp(cmd, "unpostpone") == 0) {
        st->op_cutover = true;
        st->op_postpone = false;
        lm_buf_puts(out, "ok: cutover will not wait for the postpone flag");
    } else if (strcmp(cmd, "postpone") == 0) {
        st->op_postpone = true;
        st->op_cutover = false;
        lm_buf_puts(out, "ok: cutover postponed until `cutover`");
    } else if (strcmp(cmd, "abort") == 0 || strcmp(cmd, "panic") == 0) {
        st->op_abort = true;
        lm_buf_puts(out, "ok: aborting");
    } else if (!setting(st, cmd, out)) {
        lm_buf_puts(out, "error: unknown command (status, throttle, resume, postpone, cutover, "
                         "abort, or NAME=? / NAME=VALUE for chunk-size, max-lag, nice-ratio, "
                         "max-load, critical-load)");
    }
    pthread_mutex_unlock(&st->mu);
}

static void serve_client(lm_ctl *ctl, int fd)
{
    char line[512];
    size_t len = 0;
    struct pollfd p = {fd, POLLIN, 0};

    /* One short line; a client that says nothing for 2 s is dropped. */
    while (len < sizeof(line) - 1 && poll(&p, 1, 2000) > 0) {
        ssize_t r = read(fd, line + len, sizeof(line) - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        if (memchr(line, '\n', len))
            break;
    }
    line[len] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (len > 0) {
        lm_buf out = LM_BUF_INIT;
        answer(ctl, line, &out);
        lm_buf_putc(&out, '\n');
        if (out.data && write(fd, out.data, out.len) < 0)
            lm_debug("control socket: write failed: %s", strerror(errno));
        lm_buf_free(&out);
    }
    close(fd);
}

static void *ctl_main(void *arg)
{
    lm_ctl *ctl = arg;
    struct pollfd p = {ctl->fd, POLLIN, 0};

    while (!ctl->stop) {
        if (poll(&p, 1, 200) <= 0)
            continue;
        int fd = accept(ctl->fd, NULL, NULL);
        if (fd >= 0)
            serve_client(ctl, fd);
    }
    return NULL;
}

int lm_ctl_start(lm_ctl **out, const char *path, lm_status *st, lm_err *err)
{
    struct sockaddr_un sa;
    lm_ctl *ctl = NULL;
    int fd = -1, probe, rc;

    if ((rc = fill_addr(&sa, path, err)) < 0)
        return rc;
    /* A socket file left by a killed run is replaced; a live one is not. */
    if (access(path, F_OK) == 0) {
        probe = socket(AF_UNIX, SOCK_STREAM, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(probe);
            return lm_err_set(err, LM_EINVAL,
                              "control socket %s is in use by a running livemig: pick another "
                              "--control-socket path",
                              path);
        }
        if (probe >= 0)
            close(probe);
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    /* Mode 0600 from the start: the socket can abort a migration. */
    mode_t old_mask = umask(0177);
    int bound = fd >= 0 ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) : -1;
    umask(old_mask);
    if (fd < 0 || bound < 0 || listen(fd, 8) < 0) {
        rc = lm_err_set(err, LM_EINVAL, "cannot listen on control socket %s: %s", path,
                        strerror(errno));
        goto cleanup;
    }
    ctl = calloc(1, sizeof(*ctl));
    if (ctl == NULL || (ctl->path = strdup(path)) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    ctl->fd = fd;
    ctl->st = st;
    if (pthread_create(&ctl->thread, NULL, ctl_main, ctl) != 0) {
        rc = lm_err_set(err, LM_EIO, "cannot start the control socket thread");
        goto cleanup;
    }
    *out = ctl;
    return 0;
cleanup:
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    if (ctl)
        free(ctl->path);
    free(ctl);
    return rc;
}

void lm_ctl_stop(lm_ctl *ctl)
{
    if (ctl == NULL)
        return;
    ctl->stop = true;
    pthread_join(ctl->thread, NULL);
    close(ctl->fd);
    unlink(ctl->path);
    free(ctl->path);
    free(ctl);
}

int lm_ctl_send(const char *path, const char *command, lm_buf *answer_out, lm_err *err)
{
    struct sockaddr_un sa;
    char buf[4096];
    int fd, rc = 0;
    ssize_t r;

    if ((rc = fill_addr(&sa, path, err)) < 0)
        return rc;
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = lm_err_set(err, LM_EINVAL, "cannot connect to control socket %s: %s", path,
                        strerror(errno));
        goto cleanup;
    }
    if (write(fd, command, strlen(command)) < 0 || write(fd, "\n", 1) < 0) {
        rc =
            lm_err_set(err, LM_EIO, "cannot write to control socket %s: %s", path, strerror(errno));
        goto cleanup;
    }
    while ((r = read(fd, buf, sizeof(buf))) > 0)
        lm_buf_append(answer_out, buf, (size_t)r);
cleanup:
    if (fd >= 0)
        close(fd);
    return rc;
}
