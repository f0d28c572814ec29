/* Connection strings: mysql://user[:pass]@host[:port]/db, mariadb://…,
 * postgres://… (kept whole for libpq). A password is never printed. */
#ifndef LIVEMIG_DSN_H
#define LIVEMIG_DSN_H

#include "livemig/err.h"

typedef enum { LM_DSN_MYSQL = 1, LM_DSN_PG } lm_dsn_kind;

typedef struct lm_dsn {
    lm_dsn_kind kind;
    char *user;     /* NULL = connector default */
    char *password; /* NULL = MYSQL_PWD / option file */
    char *host;     /* NULL = localhost */
    unsigned port;  /* 0 = default */
    char *db;
    char *socket;        /* ?socket=/path query parameter */
    char *defaults_file; /* --defaults-file */
    char *uri;           /* the original text (PG: passed to libpq) */
} lm_dsn;

int lm_dsn_parse(lm_dsn *out, const char *uri, lm_err *err);
void lm_dsn_free(lm_dsn *dsn);
/* The URI with the password masked, for messages. Caller frees. */
char *lm_dsn_redacted(const lm_dsn *dsn);

#endif
