/* The logger: the one piece of global state. Messages go to stderr. */
#ifndef LIVEMIG_LOG_H
#define LIVEMIG_LOG_H

#include <stdbool.h>

/* The version of the JSON line format (--log-format json), in every line as
 * "schema". Bump it when a field is removed, renamed or changes meaning;
 * adding fields keeps it. docs/guide.md "Output for machines" lists them. */
#define LM_LOG_JSON_SCHEMA 1

typedef enum { LM_LOG_DEBUG, LM_LOG_INFO, LM_LOG_WARN, LM_LOG_ERROR } lm_log_level;

void lm_log_setup(lm_log_level min, bool json);
bool lm_log_json(void);
void lm_log(lm_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define lm_debug(...) lm_log(LM_LOG_DEBUG, __VA_ARGS__)
#define lm_info(...)  lm_log(LM_LOG_INFO, __VA_ARGS__)
#define lm_warn(...)  lm_log(LM_LOG_WARN, __VA_ARGS__)
#define lm_error(...) lm_log(LM_LOG_ERROR, __VA_ARGS__)

#endif
