#include "livemig/log.h"
#include "livemig/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static lm_log_level log_min = LM_LOG_INFO;
static bool log_as_json;

void lm_log_setup(lm_log_level min, bool json)
{
    log_min = min;
    log_as_json = json;
}

bool lm_log_json(void)
{
    return log_as_json;
}

void lm_log(lm_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    char msg[2048], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;

    if (lvl < log_min)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (log_as_json) {
        lm_buf b = LM_BUF_INIT;
        lm_buf_printf(&b,
                      "{\"schema\":%d,\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", LM_LOG_JSON_SCHEMA,
                      stamp, names[lvl]);
        lm_buf_json_str(&b, msg, strlen(msg));
        lm_buf_puts(&b, "}\n");
        if (b.data)
            fputs(b.data, stderr);
        lm_buf_free(&b);
    } else {
        fprintf(stderr, "livemig: %s%s%s\n", lvl >= LM_LOG_WARN ? names[lvl] : "",
                lvl >= LM_LOG_WARN ? ": " : "", msg);
    }
}
