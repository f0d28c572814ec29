/* Private to the verifier: the SQL expressions that render a row of the
 * source (converted the way the copy converts it) and of the target in one
 * canonical text, so equal rows hash equally. Pure: no connection. */
#ifndef LIVEMIG_MYSQL_VERIFY_EXPR_H
#define LIVEMIG_MYSQL_VERIFY_EXPR_H

#include <stdbool.h>

#include "livemig/buf.h"
#include "livemig/plan.h"

/* True when a value of `a` is stored as the same bytes in `b` (same full
 * type and charset): then no conversion is needed. */
bool lm_vx_same_type(const lm_column *a, const lm_column *b);

/* Append the canonical expression of column `src` (of the table being
 * read) as it would be stored in a column like `dst`: converted when the
 * types differ, rendered as text (strings as HEX of their bytes, FLOAT as
 * DOUBLE, BIT as a number, SET as its members in dst's order), NULL as 'N'.
 * src == dst renders a column as itself. */
int lm_vx_column(lm_buf *b, const lm_column *src, const lm_column *dst);

/* CONCAT_WS('#', …) of lm_vx_column over the mapped pairs: the source side
 * (is_src: read src columns converted to dst types) or the target side. */
int lm_vx_row(lm_buf *b, const lm_plan *p, bool is_src);
/* The row's hash: SHA1 of lm_vx_row (hex text). */
int lm_vx_row_hash(lm_buf *b, const lm_plan *p, bool is_src);
/* "SELECT COUNT(*), <64-bit BIT_XOR of the row hashes>", for a FROM. */
int lm_vx_checksum(lm_buf *b, const lm_plan *p, bool is_src);
/* The same as lm_vx_row over the key columns of p->src only (to match rows). */
int lm_vx_key(lm_buf *b, const lm_plan *p, bool is_src);
/* A readable rendering of the mapped columns of one side (QUOTE of each). */
int lm_vx_show(lm_buf *b, const lm_plan *p, bool is_src);

/* Index into p->map of the pair whose source is column s, -1 if none. */
int lm_vx_map_of(const lm_plan *p, unsigned s);

/* Owned by verify.c: the diff query of one side for the open chunk (key
 * canon, row hash, readable row), and the verifier's connection. */
struct lm_mysql_verify;
#include <mysql.h>
int lm_vx_rows_sql(const struct lm_mysql_verify *v, bool src, lm_buf *q);
MYSQL *lm_vx_conn(const struct lm_mysql_verify *v);

#endif
