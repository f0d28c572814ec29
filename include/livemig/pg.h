/* The PostgreSQL engine's entry: `livemig migrate` against a postgres://
 * DSN (src/pg). */
#ifndef LIVEMIG_PG_H
#define LIVEMIG_PG_H

#include "livemig/migrate.h"

/* Returns the process exit code, like lm_migrate_main. */
int lm_pg_migrate_main(const lm_migrate_opts *opts, const char *redacted_dsn);

#endif
