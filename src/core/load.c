/* Load limit specs: parsing and comparison (no server here). */
#include "livemig/load.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int lm_load_parse(const char *spec, lm_load *out, lm_err *err)
{
    const char *p = spec ? spec : "";

    memset(out, 0, sizeof(*out));
    while (*p) {
        const char *name = p, *eq;
        size_t len;
        char *end;
        double v;

        while (isalnum((unsigned char)*p) || *p == '_')
            p++;
        len = (size_t)(p - name);
        eq = p;
        if (len == 0 || len >= LM_LOAD_NAME_MAX || *eq != '=')
            return lm_err_set(err, LM_EINVAL,
                              "invalid load limit '%s': expected Name=N[,Name=N...], e.g. "
                              "Threads_running=25",
                              spec);
        v = strtod(eq + 1, &end);
        if (end == eq + 1 || v < 0 || (*end != '\0' && *end != ','))
            return lm_err_set(err, LM_EINVAL, "invalid load limit '%s': '%.*s' needs a number",
                              spec, (int)len, name);
        if (out->n == LM_LOAD_MAX)
            return lm_err_set(err, LM_EINVAL, "invalid load limit '%s': at most %d variables", spec,
                              LM_LOAD_MAX);
        memcpy(out->name[out->n], name, len);
        out->name[out->n][len] = '\0';
        out->limit[out->n++] = v;
        p = *end == ',' ? end + 1 : end;
    }
    return 0;
}

int lm_load_over(const lm_load *l, const double *values)
{
    for (size_t i = 0; i < l->n; i++)
        if (values[i] >= 0 && values[i] > l->limit[i])
            return (int)i;
    return -1;
}
