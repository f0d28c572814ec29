/* Row changes written as JSON straight from the row image (rowjson.c),
 * and the pieces of format.c it shares. */
#ifndef LIVEMIG_BINLOG_ROWJSON_H
#define LIVEMIG_BINLOG_ROWJSON_H

#include "livemig/binlog.h"
#include "livemig/buf.h"

#include <stddef.h>

/* The next row of the current rows event, as lm_binlog_rows_next, but
 * appended to out as JSON: the before image (an object as lm_row_json
 * writes it, or null for an insert), then sep, then the after image (or
 * null for a delete). Same results and errors as lm_binlog_rows_next;
 * on 0 or an error, out may hold part of the row (the caller drops it). */
int lm_bl_rows_next_json(lm_binlog_decoder *d, lm_buf *out, const char *sep, size_t seplen,
                         lm_err *err);

/* format.c: v's JSON at q, which has lm_bl_value_json_room(v) bytes of
 * room; returns the end (no room promised after a general path, which
 * grows out itself), NULL when out of memory. */
char *lm_bl_value_json_at(lm_buf *out, char *q, const lm_value *v);
size_t lm_bl_value_json_room(const lm_value *v);

/* How text in collation id charset is written (format.c). */
typedef enum {
    LM_BL_CSJ_HEX,   /* binary: {"hex":…} */
    LM_BL_CSJ_UTF8,  /* copied when valid UTF-8 with nothing to escape */
    LM_BL_CSJ_ASCII, /* copied when ASCII with nothing to escape */
    LM_BL_CSJ_OTHER  /* converted (latin1, UTF-16, …) */
} lm_bl_csj;
lm_bl_csj lm_bl_charset_json(unsigned charset);

#endif
