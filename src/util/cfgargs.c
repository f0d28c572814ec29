/* --config FILE: INI keys become long options placed before the command-line
 * arguments, so that a flag given on the command line wins (see the man page,
 * CONFIGURATION). */
#include "livemig/cfgargs.h"

#include "livemig/ini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const flag_options[] = {"execute", "drop-old",  "force",   "resume",
                                           "verbose", "no-verify", "cleanup", NULL};

static bool is_flag_option(const char *key)
{
    size_t i;

    for (i = 0; flag_options[i] != NULL; i++)
        if (strcmp(flag_options[i], key) == 0)
            return true;
    return false;
}

static int cfg_push(lm_cfg_args *a, const char *key, const char *value, lm_err *err)
{
    size_t len = strlen(key) + (value ? strlen(value) + 1 : 0) + 3;
    char *arg;

    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        char **v = realloc(a->v, cap * sizeof(*v));

        if (v == NULL)
            return lm_err_set(err, LM_ENOMEM, "out of memory");
        a->v = v;
        a->cap = cap;
    }
    arg = malloc(len);
    if (arg == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if (value)
        snprintf(arg, len, "--%s=%s", key, value);
    else
        snprintf(arg, len, "--%s", key);
    a->v[a->n++] = arg;
    return 0;
}

static int cfg_key(void *ctx, const char *section, const char *key, const char *value, int line,
                   lm_err *err)
{
    lm_cfg_args *a = ctx;

    if (*section == '\0')
        return lm_err_set(err, LM_EINVAL, "line %d: '%s' is outside a section ([livemig] or [%s])",
                          line, key, a->cmd);
    if (a->section && strcmp(section, a->section) == 0)
        a->found++;
    if (strcmp(section, a->pass) != 0)
        return 0; /* another section, or this one in another pass */
    if (strcmp(key, "config") == 0 || strcmp(key, "help") == 0 || strcmp(key, "version") == 0)
        return lm_err_set(err, LM_EINVAL, "line %d: '%s' is not allowed in a config file", line,
                          key);
    if (key[0] == '-' || strpbrk(key, " \t=") != NULL)
        return lm_err_set(err, LM_EINVAL,
                          "line %d: '%s' is not an option name (write it without dashes)", line,
                          key);
    if (is_flag_option(key)) {
        if (*value == '\0' || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
            strcmp(value, "on") == 0 || strcmp(value, "1") == 0)
            return cfg_push(a, key, NULL, err);
        if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "off") == 0 ||
            strcmp(value, "0") == 0)
            return 0;
        return lm_err_set(err, LM_EINVAL, "line %d: '%s' takes true or false, not '%s'", line, key,
                          value);
    }
    if (*value == '\0')
        return lm_err_set(err, LM_EINVAL, "line %d: '%s' needs a value", line, key);
    return cfg_push(a, key, value, err);
}

void lm_cfg_args_free(lm_cfg_args *a)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

/* Build the argument vector of command argv[0]: the options of --config FILE
 * (if given) first, then argv without --config. Returns 0, or 2 after printing
 * the error. *out is freed by the caller with free(); its strings live in a. */
int lm_cfg_args_apply(int argc, char **argv, lm_cfg_args *a, int *out_argc, char ***out_argv)
{
    lm_err err = LM_ERR_INIT;
    const char *path = NULL;
    char **v = NULL;
    int i, n = 0;

    a->cmd = argv[0];
    a->section = NULL;
    v = calloc((size_t)argc + 1, sizeof(*v));
    if (v == NULL) {
        fprintf(stderr, "livemig: out of memory\n");
        return 2;
    }
    v[n++] = argv[0];
    for (i = 1; i < argc; i++) {
        const char *p = NULL;

        if (strcmp(argv[i], "--") == 0) {
            for (; i < argc; i++)
                v[n++] = argv[i];
            break;
        }
        if (strcmp(argv[i], "--section") == 0 || strncmp(argv[i], "--section=", 10) == 0) {
            if (argv[i][9] == '\0' && i + 1 >= argc) {
                fprintf(stderr, "livemig: --section needs a NAME\n");
                goto fail;
            }
            a->section = argv[i][9] == '=' ? argv[i] + 10 : argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "livemig: --config needs a FILE\n");
                goto fail;
            }
            p = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            p = argv[i] + 9;
        } else {
            v[n++] = argv[i];
            continue;
        }
        if (path != NULL) {
            fprintf(stderr, "livemig: --config given twice\n");
            goto fail;
        }
        path = p;
    }
    if (a->section && path == NULL) {
        fprintf(stderr, "livemig: --section goes with --config FILE\n");
        goto fail;
    }
    if (path != NULL) {
        const char *passes[3] = {"livemig", a->cmd, a->section};
        char **all;
        int j;

        /* One pass per section, so that the order of precedence does not
         * depend on the order of the sections in the file. */
        for (j = 0; j < 3 && passes[j]; j++) {
            a->pass = passes[j];
            a->found = 0;
            if (lm_ini_parse_file(path, cfg_key, a, &err) < 0) {
                if (strncmp(err.msg, "line ", 5) == 0)
                    fprintf(stderr, "livemig: config file %s, %s\n", path, err.msg);
                else
                    fprintf(stderr, "livemig: %s\n", err.msg);
                goto fail;
            }
        }
        if (a->section && a->found == 0) {
            fprintf(stderr, "livemig: config file %s has no section [%s] (or it is empty)\n", path,
                    a->section);
            goto fail;
        }
        all = calloc((size_t)n + a->n + 1, sizeof(*all));
        if (all == NULL) {
            fprintf(stderr, "livemig: out of memory\n");
            goto fail;
        }
        all[0] = v[0];
        for (j = 0; j < (int)a->n; j++)
            all[1 + j] = a->v[j];
        for (j = 1; j < n; j++)
            all[a->n + (size_t)j] = v[j];
        n += (int)a->n;
        free(v);
        v = all;
    }
    *out_argc = n;
    *out_argv = v;
    return 0;
fail:
    free(v);
    return 2;
}
