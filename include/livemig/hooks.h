/* Hooks (--hooks-dir): executables DIR/on-<event> run at the points of a
 * migration with what it is doing in LIVEMIG_* environment variables. */
#ifndef LIVEMIG_HOOKS_H
#define LIVEMIG_HOOKS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "livemig/err.h"

/* What a hook is told. */
typedef struct lm_hook_vars {
    const char *event; /* "on-start", "on-copy-complete", … */
    const char *table; /* db.t */
    const char *database;
    const char *alter;
    const char *state;
    uint64_t rows_copied, rows_estimated, changes_applied;
    double elapsed_seconds;
    const char *throttle_reason; /* on-throttle, else NULL */
    const char *error;           /* on-failure, else NULL */
    double timeout_s;
} lm_hook_vars;

/* The events livemig runs hooks for, NULL-terminated. */
extern const char *const lm_hook_events[];

/* The hook's environment: base (e.g. environ) without passwords
 * (MYSQL_PWD, PGPASSWORD) and without inherited LIVEMIG_* variables, then
 * the LIVEMIG_* variables of v. NULL on out of memory; free with
 * lm_hooks_env_free. */
char **lm_hooks_env(const lm_hook_vars *v, char *const *base);
void lm_hooks_env_free(char **env);

/* dir must be a directory and every on-<event> in it executable; a file
 * named like no event is warned about (a typo). LM_EINVAL otherwise. */
int lm_hooks_check_dir(const char *dir, lm_err *err);

/* Run dir/<v->event> when it exists, without a shell, its output logged
 * line by line; *ran says whether it did. 0 when it is absent or exits 0;
 * LM_EFAIL when it exits non-zero, dies or outlives v->timeout_s (then its
 * process group is killed), or when *cancel becomes non-zero meanwhile. */
int lm_hooks_run(const char *dir, const lm_hook_vars *v, const volatile sig_atomic_t *cancel,
                 bool *ran, lm_err *err);

#endif
