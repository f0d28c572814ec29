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
    char out[sizeof(err->msg)];
    size_t n;
    va_list ap;

    /* Build "prefix: old" by hand: truncating the old message is intended. */
    va_start(ap, fmt);
    vsnprintf(out, sizeof(out), fmt, ap);
    va_end(ap);
    n = strlen(out);
    if (n + 2 < sizeof(out)) {
        memcpy(out + n, ": ", 2);
        n += 2;
        size_t m = strnlen(err->msg, sizeof(err->msg) - 1);
        if (m > sizeof(out) - 1 - n)
            m = sizeof(out) - 1 - n;
        memcpy(out + n, err->msg, m);
        n += m;
    }
    out[n] = '\0';
    memcpy(err->msg, out, sizeof(out));
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
