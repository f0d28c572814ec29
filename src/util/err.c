#include "livemig/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int lm_err_set(lm_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err->code != 0)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void lm_err_prefix(lm_err *err, const char *fmt, ...)
{
    char prefix[256], old[sizeof(err->msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
}

void lm_err_clear(lm_err *err)
{
    memset(err, 0, sizeof(*err));
}

int lm_err_exit_code(const lm_err *err, bool changed)
{
    if (err->code == 0)
        return 0;
    if (!changed && err->code == LM_EINVAL)
        return 2;
    return 1;
}
