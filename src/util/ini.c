/* INI reader for --config files; see include/livemig/ini.h. */
#include "livemig/ini.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LM_INI_MAX_FILE (1024 * 1024)

static char *trim(char *s)
{
    char *e;

    while (*s && isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int lm_ini_parse(const char *text, size_t len, const char *name, lm_ini_fn fn, void *ctx,
                 lm_err *err)
{
    char *copy = NULL, *section = NULL, *p, *next;
    int lineno = 0, rc = 0;

    copy = malloc(len + 1);
    section = calloc(1, 1);
    if (copy == NULL || section == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "%s: out of memory", name);
        goto cleanup;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (strlen(copy) != len) {
        rc = lm_err_set(err, LM_EINVAL, "%s: not a text file (NUL byte)", name);
        goto cleanup;
    }
    for (p = copy; p != NULL; p = next) {
        char *line, *eq, *key, *value;
        size_t vlen;

        lineno++;
        next = strchr(p, '\n');
        if (next != NULL)
            *next++ = '\0';
        line = trim(p);
        if (lineno == 1 && (unsigned char)line[0] == 0xef && (unsigned char)line[1] == 0xbb &&
            (unsigned char)line[2] == 0xbf)
            line = trim(line + 3); /* UTF-8 byte order mark */
        if (*line == '\0' || *line == '#' || *line == ';')
            continue;
        if (*line == '[') {
            char *end = strchr(line, ']');

            if (end == NULL || *trim(end + 1) != '\0') {
                rc = lm_err_set(err, LM_EINVAL, "%s:%d: malformed section header '%s'", name,
                                lineno, line);
                goto cleanup;
            }
            *end = '\0';
            free(section);
            section = strdup(trim(line + 1));
            if (section == NULL) {
                rc = lm_err_set(err, LM_ENOMEM, "%s: out of memory", name);
                goto cleanup;
            }
            if (*section == '\0') {
                rc = lm_err_set(err, LM_EINVAL, "%s:%d: empty section name", name, lineno);
                goto cleanup;
            }
            continue;
        }
        eq = strchr(line, '=');
        if (eq != NULL) {
            *eq = '\0';
            value = trim(eq + 1);
        } else {
            value = line + strlen(line);
        }
        key = trim(line);
        if (*key == '\0') {
            rc = lm_err_set(err, LM_EINVAL, "%s:%d: missing key before '='", name, lineno);
            goto cleanup;
        }
        vlen = strlen(value);
        if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') && value[vlen - 1] == value[0]) {
            value[vlen - 1] = '\0';
            value++;
        }
        rc = fn(ctx, section, key, value, lineno, err);
        if (rc < 0)
            goto cleanup;
    }
cleanup:
    free(copy);
    free(section);
    return rc;
}

int lm_ini_parse_file(const char *path, lm_ini_fn fn, void *ctx, lm_err *err)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t n;
    int rc = 0;

    f = fopen(path, "rb");
    if (f == NULL) {
        rc = lm_err_set(err, LM_EINVAL, "cannot open config file %s: %s", path, strerror(errno));
        goto cleanup;
    }
    buf = malloc(LM_INI_MAX_FILE + 1);
    if (buf == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory reading %s", path);
        goto cleanup;
    }
    n = fread(buf, 1, LM_INI_MAX_FILE + 1, f);
    if (ferror(f)) {
        rc = lm_err_set(err, LM_EIO, "cannot read config file %s: %s", path, strerror(errno));
        goto cleanup;
    }
    if (n > LM_INI_MAX_FILE) {
        rc = lm_err_set(err, LM_EINVAL, "config file %s is larger than 1 MiB", path);
        goto cleanup;
    }
    rc = lm_ini_parse(buf, n, path, fn, ctx, err);
cleanup:
    if (f != NULL)
        fclose(f);
    free(buf);
    return rc;
}
