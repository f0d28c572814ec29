/* Private to the MariaDB/MySQL engine (src/mysql): helpers shared by the
 * preflight, copy, apply and cutover, and the pure pieces unit tests use. */
#ifndef LIVEMIG_MYSQL_INTERNAL_H
#define LIVEMIG_MYSQL_INTERNAL_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "livemig/binlog.h"
#include "livemig/buf.h"
#include "livemig/dsn.h"
#include "livemig/err.h"
#include "livemig/mysql.h"
#include "livemig/plan.h"

/* ---- conn.c ---- */

/* Fill err from the connection's last error (message, errno, sqlstate,
 * retryable for deadlocks, lock wait timeouts and lost connections).
 * `what` says what was being done. Returns code. */
int lm_my_fail(lm_err *err, MYSQL *c, int code, const char *what);
/* True when a server/client errno is worth retrying. */
bool lm_my_retryable(unsigned int no);
/* Run a query and store its result (NULL result for statements). */
int lm_my_query(MYSQL *c, const char *sql, MYSQL_RES **res, lm_err *err);
int lm_my_check_warnings(MYSQL *c, bool allow_duplicates, const char *what, lm_err *err);
/* Append a quoted, escaped string literal ('…') for the connection. */
int lm_my_put_str(lm_buf *b, MYSQL *c, const char *s, size_t len);
/* Append `db`.`name`. */
int lm_my_put_table(lm_buf *b, const char *db, const char *name);
/* Connect without the session setup of lm_mysql_connect (the binlog
 * stream), with a read timeout in seconds (0 = none). */
int lm_my_connect_raw(MYSQL **out, const lm_dsn *dsn, unsigned read_timeout_s, lm_err *err);
/* DROP TABLE IF EXISTS db.name. */
int lm_my_drop_table(MYSQL *c, const char *db, const char *name, lm_err *err);
/* True when errno says the connection is gone (killed, server down). */
bool lm_my_conn_lost(unsigned int no);

/* ---- checkpoint.c ---- */

/* The UPDATE that moves the checkpoint's stream position, run inside the
 * transaction of the batch it describes. */
int lm_my_ckpt_apply_sql(lm_buf *q, MYSQL *c, const lm_plan *p, const lm_ckpt_pos *ck);

/* ---- privs.c ---- */

/* Refuse (LM_EINVAL, with the GRANT to run) when SHOW GRANTS lacks what a
 * migration of a table in db needs. */
int lm_my_check_privileges(MYSQL *c, const char *db, bool binlog, lm_err *err);

/* ---- schema.c ---- */

/* A unique index of a table (by column index into lm_table_def.cols). */
typedef struct lm_ukey {
    char *name;
    bool primary;
    bool usable; /* every column NOT NULL, whole-column (no prefix), not generated */
    size_t ncols;
    unsigned *cols;
} lm_ukey;

/* What livemig reads beyond lm_table_def: unique keys and collations. */
typedef struct lm_table_extra {
    size_t nkeys;
    lm_ukey *keys;
    size_t ncols;
    char **collation; /* ncols entries, NULL for non-text */
} lm_table_extra;

/* Read db.name's definition. Returns 1 when read, 0 when the table does
 * not exist (*out untouched), <0 on error. is_view set when it is a view
 * (then nothing else is read). A table without a usable key is read with
 * key_name NULL and nkey 0: the caller decides whether that is fatal. */
int lm_my_read_table(MYSQL *c, const char *db, const char *name, lm_table_def **out,
                     lm_table_extra *extra, bool *is_view, lm_err *err);
void lm_table_extra_free(lm_table_extra *x);
/* 1 when db.name exists (comment copied to *comment if not NULL), 0 when not. */
int lm_my_table_exists(MYSQL *c, const char *db, const char *name, char **comment, lm_err *err);

/* ---- fill.c, fk.c (issue 7) ---- */

/* Resolve the --fill-from specs into p->fills (needs p->map and p->dst). */
int lm_my_fill_plan(MYSQL *c, lm_plan *p, const char *const *specs, size_t n, lm_err *err);
/* Read the foreign keys from and to the table into p (needs p->map);
 * refuses referencing ones unless rebuild. */
int lm_my_fk_plan(MYSQL *c, lm_plan *p, bool rebuild, lm_err *err);
/* Add the table's own foreign keys to `table` (the shadow) under temporary names. */
int lm_my_fk_shadow_add(MYSQL *c, const lm_plan *p, const char *table, lm_err *err);

/* ---- apply.c ---- */
/* A row image of t has t's columns (LM_ECORRUPT otherwise). */
int lm_my_check_image(const lm_table_def *t, const lm_row *r, lm_err *err);
/* Run one statement on the shadow: data errors are LM_EFAIL, any warning fails. */
int lm_my_apply_stmt(MYSQL *c, const lm_buf *sql, lm_err *err);

/* ---- apply_plan.c (pure): writes a later change of the batch supersedes ---- */
#define LM_APPLY_SKIP_DELETE  1u /* the DELETE of the change's (old) key */
#define LM_APPLY_SKIP_REPLACE 2u /* the REPLACE of its after image */
/* For the first n changes of the list, skip[i] gets the LM_APPLY_SKIP_*
 * bits of change i's writes that a later change of the batch rewrites or
 * deletes the key of; *superseded counts them. Nothing is skipped with
 * --fill-from (p->nfill > 0) nor across a child table's change. */
int lm_my_apply_plan(const lm_plan *p, const lm_change *first, size_t n, uint8_t *skip,
                     size_t *superseded, lm_err *err);
/* The shadow's key (p->dst_key_src) differs between the two images. */
bool lm_my_key_changed(const lm_plan *p, const lm_row *before, const lm_row *after);

/* ---- apply_fill.c: changes with --fill-from, one statement each ---- */
int lm_my_apply_child(MYSQL *c, const lm_plan *p, const lm_change *ch, lm_err *err);
/* A parent row inserted or updated: its own columns from the image, the
 * filled ones from the children's current rows. */
int lm_my_apply_parent(MYSQL *c, const lm_plan *p, const lm_row *r, lm_err *err);

/* ---- alter.c (pure) ---- */

typedef struct lm_rename {
    char *from;
    char *to;
} lm_rename;

/* Column renames in an ALTER spec: CHANGE [COLUMN] [IF EXISTS] old new …
 * and RENAME COLUMN [IF EXISTS] old TO new. LM_EINVAL for a spec that
 * renames the table or holds more than one statement. */
int lm_alter_renames(const char *alter, lm_rename **out, size_t *n, lm_err *err);
void lm_renames_free(lm_rename *r, size_t n);
/* Columns the spec drops explicitly: DROP [COLUMN] [IF EXISTS] name. */
int lm_alter_drops(const char *alter, char ***out, size_t *n, lm_err *err);
void lm_names_free(char **names, size_t n);
/* Build the column map source -> shadow: same name, or a rename. Refuses
 * (LM_EINVAL) a source column that would silently disappear: one the new
 * table lacks although the spec neither drops nor renames it. */
int lm_alter_map(const lm_table_def *src, const lm_table_def *dst, const char *alter,
                 lm_colpair **map, size_t *nmap, lm_err *err);

/* ---- literal.c (pure) ---- */

/* Append v as an SQL literal for the column `col` of the source table. */
int lm_my_literal(lm_buf *b, const lm_value *v, const lm_column *col, lm_err *err);
/* Two values equal as stored bytes/numbers (used to see a key change). */
bool lm_my_value_eq(const lm_value *a, const lm_value *b);

/* ---- key ranges (copy.c), shared by the copy and the verification ---- */
/* A key value read back as text, written as a literal for the next query
 * (numbers as digits, ENUM/SET as their index, bytes as hex). */
int lm_my_put_key_value(lm_buf *b, MYSQL *c, const lm_column *col, const char *v, size_t len);
/* The key columns of t, comma-separated; select_expr reads ENUM/SET as their index (+ 0). */
void lm_my_put_key_cols(lm_buf *b, const lm_table_def *t, bool select_expr);
/* Row comparison key (op) vals, expanded so the range optimizer uses the
 * index: (a > x) OR (a = x AND b > y) …; with inclusive the last column
 * compares with op= (a chunk's upper bound). names[j] names key column j
 * (the shadow's names), or NULL for t's own; qual qualifies them. */
int lm_my_put_key_range(lm_buf *b, MYSQL *c, const lm_table_def *t, const char *qual,
                        char *const *names, char *const *vals, const size_t *lens, const char *op,
                        bool inclusive);
/* `qual`.`col` (qual NULL: just `col`). */
void lm_my_put_col(lm_buf *b, const char *qual, const char *col);
/* " LEFT JOIN `db`.`child` AS `_lmfN` ON `_lmfN`.`join` = `t`.`key`" for each fill. */
void lm_my_put_fill_joins(lm_buf *b, const lm_plan *p);
/* The shadow's columns a copy or a stream row writes: the mapped ones,
 * then the filled ones. */
void lm_my_put_dst_cols(lm_buf *b, const lm_plan *p);
/* ", col" for every filled column: the shadow's names, or the children's
 * (aliased as in those joins). */
void lm_my_put_fill_cols(lm_buf *b, const lm_plan *p, bool from_child);
/* The alias of fill i's child in those joins. */
void lm_my_fill_alias(char *out, size_t cap, size_t i);

#endif
