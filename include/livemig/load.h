/* Load limits such as --max-load 'Threads_running=25,Threads_connected=500':
 * server status variables and the value above which livemig backs off. */
#ifndef LIVEMIG_LOAD_H
#define LIVEMIG_LOAD_H

#include <stddef.h>

#include "livemig/err.h"

#define LM_LOAD_MAX      8
#define LM_LOAD_NAME_MAX 64

typedef struct lm_load {
    size_t n;
    char name[LM_LOAD_MAX][LM_LOAD_NAME_MAX];
    double limit[LM_LOAD_MAX];
} lm_load;

/* Parse "Name=N[,Name=N…]" (empty = no limits). Names are letters, digits
 * and underscores; limits are non-negative numbers. LM_EINVAL when bad. */
int lm_load_parse(const char *spec, lm_load *out, lm_err *err);
/* Index of the first value above its limit, or -1. values[i] < 0 means
 * "not read" and never counts. */
int lm_load_over(const lm_load *l, const double *values);

#endif
