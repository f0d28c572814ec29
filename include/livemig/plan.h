/* A migration plan: the source table, the shadow, and how columns map.
 * Built by an engine's preflight; read by the core. Dialect-free. */
#ifndef LIVEMIG_PLAN_H
#define LIVEMIG_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lm_column {
    char *name;
    char *column_type; /* full type, e.g. "int(10) unsigned", "varchar(200)" */
    char *data_type;   /* e.g. "int", "varchar" */
    char *charset;     /* NULL for non-text */
    bool nullable;
    bool is_unsigned;
    bool generated;   /* virtual/stored generated: never written */
    unsigned ordinal; /* 0-based position = binlog column index */
} lm_column;

typedef struct lm_table_def {
    char *db;
    char *name;
    size_t ncols;
    lm_column *cols;
    char *key_name; /* the iteration key (PRIMARY or a NOT NULL unique key) */
    size_t nkey;
    unsigned *key_cols; /* indexes into cols, key order */
    uint64_t rows_estimate;
} lm_table_def;

/* One mapped column: source column index -> shadow column index. */
typedef struct lm_colpair {
    unsigned src;
    unsigned dst;
} lm_colpair;

typedef struct lm_plan {
    lm_table_def *src;
    lm_table_def *dst; /* the shadow */
    size_t nmap;
    lm_colpair *map;
    unsigned *dst_key_src; /* for each shadow key column: its source column index */
    char *alter;
    char *shadow_name; /* _<t>_new */
    char *old_name;    /* _<t>_old */
    char *ckpt_name;   /* _<t>_ckp: the checkpoint (resume) */
    bool resume;       /* built from an existing shadow (--resume) */
    bool cutover_done; /* --resume found the rename already done */
    bool adds_unique;  /* the ALTER adds a unique key: count rows at cutover */
} lm_plan;

void lm_table_def_free(lm_table_def *t);
void lm_plan_free(lm_plan *p);
/* Index of a column by name (case-insensitive), -1 if none. */
int lm_table_def_find(const lm_table_def *t, const char *name);

#endif
