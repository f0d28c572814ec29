/* Writing JSON straight into an lm_buf through a char pointer: room is
 * reserved once per value (or line) and then bytes are stored without a
 * length check each; lm_buf_putc and friends per piece (a grow check, a
 * copy and a NUL each) topped the JSON dump profile. */
#ifndef LIVEMIG_BINLOG_JSONW_H
#define LIVEMIG_BINLOG_JSONW_H

#include "livemig/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The write pointer at the end of b, with room for n bytes and a NUL;
 * NULL when out of memory. */
static inline char *lm_jw_begin(lm_buf *b, size_t n)
{
    if (!b->oom && b->cap - b->len > n)
        return b->data + b->len;
    if (lm_buf_grow(b, n) < 0)
        return NULL;
    return b->data + b->len;
}

/* q (inside b) with room for n more bytes and a NUL; NULL when out of
 * memory. */
static inline char *lm_jw_room(lm_buf *b, char *q, size_t n)
{
    size_t len = (size_t)(q - b->data);

    if (b->cap - len > n)
        return q;
    b->len = len;
    if (lm_buf_grow(b, n) < 0)
        return NULL;
    return b->data + len;
}

/* Ends the writing at q: sets b->len and the NUL. */
static inline void lm_jw_end(lm_buf *b, char *q)
{
    b->len = (size_t)(q - b->data);
    *q = '\0';
}

#define LM_JW_LIT(q, s) (memcpy((q), (s), sizeof(s) - 1), (q) + sizeof(s) - 1)

/* Decimal digits of u (at most 20 bytes); returns the end. */
char *lm_jw_u64(char *q, uint64_t u);

static inline char *lm_jw_i64(char *q, int64_t i)
{
    if (i < 0) {
        *q++ = '-';
        return lm_jw_u64(q, (uint64_t)0 - (uint64_t)i);
    }
    return lm_jw_u64(q, (uint64_t)i);
}

/* Lowercase hex of p[0..n) (2n bytes); returns the end. */
char *lm_jw_hex(char *q, const uint8_t *p, size_t n);

/* Copies s[0..n) (n bytes at most) when it can stand inside a JSON string
 * as is: no control character, quote or backslash, and no byte >= 0x80
 * unless utf8 is set and the bytes are valid UTF-8 (no overlongs,
 * surrogates or values past U+10FFFF). Returns the end, or NULL when
 * not (the caller then takes the general path). */
char *lm_jw_plain(char *q, const uint8_t *s, size_t n, int utf8);

#endif
