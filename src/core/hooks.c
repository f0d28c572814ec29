/* Hooks: run DIR/on-<event> with fork/exec (no shell, so nothing in a table
 * name or an ALTER is ever interpreted), its output passed through to the
 * log, and a deadline after which its process group is killed. */
#include "livemig/hooks.h"

#include "livemig/buf.h"
#include "livemig/clock.h"
#include "livemig/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

const char *const lm_hook_events[] = {"on-start",   "on-copy-complete", "on-before-cutover",
                                      "on-success", "on-failure",       "on-throttle",
                                      NULL};

#define LINE_MAX_LEN 1024

/* Inherited variables a hook must not see: passwords, and LIVEMIG_* that
 * could be mistaken for what livemig says. */
static bool dropped(const char *kv)
{
    return strncmp(kv, "MYSQL_PWD=", 10) == 0 || strncmp(kv, "PGPASSWORD=", 11) == 0 ||
           strncmp(kv, "LIVEMIG_", 8) == 0;
}

static int push(char ***env, size_t *n, size_t *cap, char *s)
{
    if (s == NULL)
        return -1;
    if (*n + 2 > *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        char **e = realloc(*env, nc * sizeof(*e));
        if (e == NULL) {
            free(s);
            return -1;
        }
        *env = e;
        *cap = nc;
    }
    (*env)[(*n)++] = s;
    (*env)[*n] = NULL;
    return 0;
}

static char *kv(const char *name, const char *value)
{
    lm_buf b = LM_BUF_INIT;

    lm_buf_printf(&b, "%s=%s", name, value ? value : "");
    if (b.oom) {
        lm_buf_free(&b);
        return NULL;
    }
    return lm_buf_detach(&b);
}

static char *kv_u64(const char *name, uint64_t v)
{
    char num[32];

    snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
    return kv(name, num);
}

char **lm_hooks_env(const lm_hook_vars *v, char *const *base)
{
    char **env = NULL, num[64];
    size_t n = 0, cap = 0;
    int bad = 0;

    for (size_t i = 0; base && base[i]; i++)
        if (!dropped(base[i]))
            bad |= push(&env, &n, &cap, strdup(base[i]));
    bad |= push(&env, &n, &cap, kv("LIVEMIG_EVENT", v->event));
    bad |= push(&env, &n, &cap, kv("LIVEMIG_TABLE", v->table));
    bad |= push(&env, &n, &cap, kv("LIVEMIG_DATABASE", v->database));
    bad |= push(&env, &n, &cap, kv("LIVEMIG_ALTER", v->alter));
    bad |= push(&env, &n, &cap, kv("LIVEMIG_STATE", v->state));
    bad |= push(&env, &n, &cap, kv_u64("LIVEMIG_ROWS_COPIED", v->rows_copied));
    bad |= push(&env, &n, &cap, kv_u64("LIVEMIG_ROWS_ESTIMATED", v->rows_estimated));
    bad |= push(&env, &n, &cap, kv_u64("LIVEMIG_CHANGES_APPLIED", v->changes_applied));
    snprintf(num, sizeof(num), "%.1f", v->elapsed_seconds);
    bad |= push(&env, &n, &cap, kv("LIVEMIG_ELAPSED_SECONDS", num));
    snprintf(num, sizeof(num), "%g", v->timeout_s);
    bad |= push(&env, &n, &cap, kv("LIVEMIG_HOOK_TIMEOUT", num));
    if (v->throttle_reason)
        bad |= push(&env, &n, &cap, kv("LIVEMIG_THROTTLE_REASON", v->throttle_reason));
    if (v->error)
        bad |= push(&env, &n, &cap, kv("LIVEMIG_ERROR", v->error));
    if (bad) {
        lm_hooks_env_free(env);
        return NULL;
    }
    return env;
}

void lm_hooks_env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

static bool is_event(const char *name)
{
    for (int i = 0; lm_hook_events[i]; i++)
        if (strcmp(name, lm_hook_events[i]) == 0)
            return true;
    return false;
}

int lm_hooks_check_dir(const char *dir, lm_err *err)
{
    struct stat sb;
    struct dirent *de;
    DIR *d;
    char path[4096];
    int rc = 0;

    if (stat(dir, &sb) < 0)
        return lm_err_set(err, LM_EINVAL, "--hooks-dir %s: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return lm_err_set(err, LM_EINVAL, "--hooks-dir %s: not a directory", dir);
    if ((d = opendir(dir)) == NULL)
        return lm_err_set(err, LM_EINVAL, "--hooks-dir %s: %s", dir, strerror(errno));
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "on-", 3) != 0)
            continue;
        if (!is_event(de->d_name)) {
            lm_warn("--hooks-dir: %s/%s is not a hook livemig runs (on-start, on-copy-complete, "
                    "on-before-cutover, on-success, on-failure, on-throttle)",
                    dir, de->d_name);
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        /* Found out now rather than when on-before-cutover is due. */
        if (access(path, X_OK) < 0)
            rc = lm_err_set(err, LM_EINVAL, "hook %s is not executable: chmod +x it", path);
    }
    closedir(d);
    return rc;
}

/* The hook's output, one log line per line it writes. */
typedef struct out_lines {
    const char *event;
    char line[LINE_MAX_LEN];
    size_t len;
} out_lines;

static void out_flush(out_lines *o)
{
    if (o->len == 0)
        return;
    o->line[o->len] = '\0';
    lm_info("hook %s: %s", o->event, o->line);
    o->len = 0;
}

static void out_feed(out_lines *o, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n')
            out_flush(o);
        else if (p[i] != '\r')
            o->line[o->len++] = p[i];
        if (o->len == sizeof(o->line) - 1)
            out_flush(o);
    }
}

/* Only async-signal-safe calls between fork and exec: the parent has
 * threads (the stream, the sockets). */
static void child(const char *path, char **env, int out, long maxfd)
{
    char *argv[] = {(char *)path, NULL};
    struct sigaction sa;
    int null = open("/dev/null", O_RDONLY);

    setpgid(0, 0); /* a timeout kills whatever the hook started too */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &sa, NULL); /* livemig ignores it; exec would keep that */
    if (null >= 0)
        dup2(null, 0);
    dup2(out, 1);
    dup2(out, 2);
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
        for (long fd = 3; fd < maxfd; fd++)
            close((int)fd);
    execve(path, argv, env);
    static const char msg[] = "cannot execute the hook\n";
    ssize_t ignored = write(2, msg, sizeof(msg) - 1);
    (void)ignored;
    _exit(127);
}

static void drain_pipe(int fd, out_lines *o)
{
    char buf[4096];
    ssize_t r;

    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    while ((r = read(fd, buf, sizeof(buf))) > 0)
        out_feed(o, buf, (size_t)r);
}

/* Wait for pid, passing its output through, killing it at the deadline. */
static int supervise(pid_t pid, int fd, const lm_hook_vars *v, const volatile sig_atomic_t *cancel,
                     lm_err *err)
{
    double deadline = lm_now() + v->timeout_s;
    out_lines o = {v->event, {0}, 0};
    struct pollfd p = {fd, POLLIN, 0};
    bool eof = false;
    const char *killed = NULL;
    int status = 0;
    char buf[4096];

    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        if (killed == NULL && lm_now() > deadline)
            killed = "did not finish in time";
        else if (killed == NULL && cancel && *cancel)
            killed = "was stopped: livemig is stopping";
        if (killed) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        if (eof) {
            lm_sleep_us(20000);
            continue;
        }
        if (poll(&p, 1, 100) > 0) {
            ssize_t r = read(fd, buf, sizeof(buf));
            if (r > 0)
                out_feed(&o, buf, (size_t)r);
            else if (r == 0 || errno != EINTR)
                eof = true;
        }
    }
    /* What it wrote last; a child it left running may hold the pipe open,
     * so only what is there now. */
    if (!eof)
        drain_pipe(fd, &o);
    out_flush(&o);
    if (killed)
        return lm_err_set(err, LM_EFAIL, "hook %s %s (%gs): killed", v->event, killed,
                          v->timeout_s);
    if (WIFSIGNALED(status))
        return lm_err_set(err, LM_EFAIL, "hook %s died of signal %d", v->event, WTERMSIG(status));
    if (WEXITSTATUS(status) != 0)
        return lm_err_set(err, LM_EFAIL, "hook %s exited %d", v->event, WEXITSTATUS(status));
    return 0;
}

int lm_hooks_run(const char *dir, const lm_hook_vars *v, const volatile sig_atomic_t *cancel,
                 bool *ran, lm_err *err)
{
    extern char **environ;
    char **env = NULL;
    lm_buf path = LM_BUF_INIT;
    int pfd[2] = {-1, -1}, rc = 0;
    long maxfd = sysconf(_SC_OPEN_MAX);
    pid_t pid;

    *ran = false;
    lm_buf_printf(&path, "%s/%s", dir, v->event);
    if (path.oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if (access(path.data, F_OK) < 0)
        goto cleanup;
    if ((env = lm_hooks_env(v, environ)) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (pipe(pfd) < 0) {
        rc = lm_err_set(err, LM_EFAIL, "hook %s: pipe: %s", v->event, strerror(errno));
        goto cleanup;
    }
    /* The read end must not leak into hooks run later from other paths. */
    fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
    lm_debug("running hook %s", path.data);
    if ((pid = fork()) < 0) {
        rc = lm_err_set(err, LM_EFAIL, "hook %s: fork: %s", v->event, strerror(errno));
        goto cleanup;
    }
    if (pid == 0)
        child(path.data, env, pfd[1], maxfd > 0 && maxfd < 65536 ? maxfd : 65536);
    *ran = true;
    setpgid(pid, pid); /* also here: a kill may come before the child ran */
    close(pfd[1]);
    pfd[1] = -1;
    rc = supervise(pid, pfd[0], v, cancel, err);
cleanup:
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    lm_hooks_env_free(env);
    lm_buf_free(&path);
    return rc;
}
