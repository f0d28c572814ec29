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

#define LM_MAX_FILLS 16

/* --fill-from: shadow columns filled from a child table joined 1:1 on
 * child.join_col = the source's (single-column) key. */
typedef struct lm_fill {
    char *spec;          /* as given: the plan, the fingerprint */
    lm_table_def *child; /* as read: its key is its own iteration key */
    unsigned join_col;   /* child column holding the parent's key */
    size_t ncols;
    lm_colpair *cols; /* child column -> shadow column */
} lm_fill;

/* A foreign key, as read from the server (engine-neutral text). */
typedef struct lm_fk {
    char *name;
    char *db, *table;         /* the referencing (child) table */
    char *ref_db, *ref_table; /* the referenced (parent) table */
    size_t ncols;
    char **cols; /* referencing columns, in order */
    char **ref_cols;
    char *on_delete; /* RESTRICT, CASCADE, SET NULL, NO ACTION */
    char *on_update;
} lm_fk;

typedef enum { LM_FK_REFUSE = 0, LM_FK_REBUILD } lm_fk_mode;

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
    size_t nfill;
    lm_fill *fills;
    /* Foreign keys: the table's own (carried onto the shadow under
     * temporary names, renamed back after the swap) and other tables'
     * referencing it (re-pointed after the swap with LM_FK_REBUILD). */
    size_t nfk_out, nfk_in;
    lm_fk *fk_out, *fk_in;
    lm_fk_mode fk_mode;
} lm_plan;

/* Parse one --fill-from spec "CHILD ON CHILD.COL = T.KEY: col [AS new], …"
 * (either side of the = may come first; identifiers may be backquoted)
 * into names: *child, *join_col (child side), *parent_col, and ncols pairs
 * of (child column, shadow column). Pure; LM_EINVAL with a message. */
typedef struct lm_fill_spec {
    char *child, *join_col, *parent_col;
    size_t ncols;
    char **from, **to;
} lm_fill_spec;
struct lm_err;
int lm_fill_spec_parse(const char *spec, const char *table, lm_fill_spec *out, struct lm_err *err);
void lm_fill_spec_free(lm_fill_spec *s);
/* Free what one foreign key owns (not f itself); lm_fk_free: n and the array. */
void lm_fk_clear(lm_fk *f);
void lm_fk_free(lm_fk *fks, size_t n);
/* The shadow's name for an outgoing constraint while both tables exist:
 * "_" + name, cut to 64 characters (names are unique per schema). */
void lm_fk_temp_name(char *out, size_t cap, const char *name);

void lm_table_def_free(lm_table_def *t);
void lm_plan_free(lm_plan *p);
/* Index of a column by name (case-insensitive), -1 if none. */
int lm_table_def_find(const lm_table_def *t, const char *name);

#endif
