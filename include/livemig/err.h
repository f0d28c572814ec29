/* Error reporting: functions that can fail return 0 or a negative LM_E*
 * code and fill an lm_err at the failure site. Callers propagate, never
 * overwrite, so the first cause reaches the user. */
#ifndef LIVEMIG_ERR_H
#define LIVEMIG_ERR_H

#include <stdbool.h>

enum {
    LM_OK = 0,
    LM_EINVAL = -1,   /* bad input: usage, unknown table, unsupported (exit 2) */
    LM_EDB = -2,      /* server error */
    LM_EIO = -3,      /* file or socket error */
    LM_ENOMEM = -4,   /* allocation failed */
    LM_ECORRUPT = -5, /* malformed binlog / recording */
    LM_EABORT = -6,   /* aborted by operator or signal */
    LM_ETIMEOUT = -7, /* a wait ran out; retryable */
    LM_EEOF = -8,     /* clean end of input */
    LM_EFAIL = -9,    /* the migration failed (data problem) */
};

typedef struct lm_err {
    int code;
    unsigned int server_errno; /* MariaDB errno, 0 if none */
    char sqlstate[6];
    bool retryable;
    char msg[1024];
} lm_err;

#define LM_ERR_INIT                                                                                \
    {                                                                                              \
        0, 0, {0}, false,                                                                          \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/* Set err (if it holds no error yet) and return code. */
int lm_err_set(lm_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefix the existing message with context: "ctx: old message". */
void lm_err_prefix(lm_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lm_err_clear(lm_err *err);
/* Exit status for a failed command: 2 when refused before any change. */
int lm_err_exit_code(const lm_err *err, bool changed);

#endif
