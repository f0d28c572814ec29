/* Private parts of the binlog decoder shared by its source files. */
#ifndef LIVEMIG_BINLOG_INTERNAL_H
#define LIVEMIG_BINLOG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "livemig/binlog.h"
#include "livemig/buf.h"

/* Little/big-endian loads; callers have checked the length. */
static inline uint64_t lm_bl_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    while (n--)
        v = (v << 8) | p[n];
    return v;
}

/* Little-endian load of n <= 8 bytes with fixed-size loads: the
 * byte-at-a-time lm_bl_le loop over a variable n led the decode profile. */
static inline uint64_t lm_bl_le_n(const uint8_t *p, unsigned n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v = 0;
    uint32_t w = 0;
    uint16_t h = 0;

    switch (n) {
    case 1:
        return p[0];
    case 2:
        memcpy(&h, p, 2);
        return h;
    case 3:
        memcpy(&h, p, 2);
        return h | (uint64_t)p[2] << 16;
    case 4:
        memcpy(&w, p, 4);
        return w;
    case 8:
        memcpy(&v, p, 8);
        return v;
    default:
        break;
    }
#endif
    return lm_bl_le(p, n);
}

static inline uint64_t lm_bl_be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    unsigned i;
    for (i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* A bounds-checked read cursor over an event body. */
typedef struct lm_bl_cur {
    const uint8_t *p;
    const uint8_t *end;
} lm_bl_cur;

static inline size_t lm_bl_left(const lm_bl_cur *c)
{
    return (size_t)(c->end - c->p);
}

/* Fixed-width LE integer; -1 when the body is too short. */
static inline int lm_bl_get(lm_bl_cur *c, unsigned n, uint64_t *v)
{
    if (lm_bl_left(c) < n)
        return -1;
    *v = lm_bl_le(c->p, n);
    c->p += n;
    return 0;
}

static inline int lm_bl_skip(lm_bl_cur *c, size_t n)
{
    if (lm_bl_left(c) < n)
        return -1;
    c->p += n;
    return 0;
}

/* Length-encoded integer (0xFB, SQL NULL, is not valid in binlog bodies). */
static inline int lm_bl_lenenc(lm_bl_cur *c, uint64_t *v)
{
    uint8_t b;
    if (lm_bl_left(c) < 1)
        return -1;
    b = *c->p++;
    if (b < 0xFB) {
        *v = b;
        return 0;
    }
    if (b == 0xFC)
        return lm_bl_get(c, 2, v);
    if (b == 0xFD)
        return lm_bl_get(c, 3, v);
    if (b == 0xFE)
        return lm_bl_get(c, 8, v);
    return -1;
}

/* Memory for decoded text (decimals, temporals, set names, JSON): blocks
 * that never move, so values handed out stay valid until the reset. */
typedef struct lm_bl_arena_blk lm_bl_arena_blk;
typedef struct lm_bl_arena {
    lm_bl_arena_blk *head;
} lm_bl_arena;

void *lm_bl_arena_alloc(lm_bl_arena *a, size_t n);
char *lm_bl_arena_dup(lm_bl_arena *a, const void *s, size_t n);
void lm_bl_arena_reset(lm_bl_arena *a);
void lm_bl_arena_free(lm_bl_arena *a);

/* Per-type metadata width in TABLE_MAP (bytes), -1 for unknown types. */
int lm_bl_meta_len(uint8_t type);
/* Whether a column counts in the SIGNEDNESS / charset optional metadata. */
int lm_bl_type_is_numeric(uint8_t type);
/* Effective type of a STRING column (ENUM/SET hide behind it) and its max
 * byte length or pack length. */
uint8_t lm_bl_real_type(uint8_t type, uint16_t meta, unsigned *len);
int lm_bl_type_is_char(uint8_t type, uint16_t meta);
int lm_bl_type_is_enumset(uint8_t type, uint16_t meta);

/* Table map parsing (tablemap.c). The raw body is kept to recognise a
 * repeated identical map cheaply. */
/* mariadb: the server is MariaDB, whose SIGNEDNESS bitmap also has a bit
 * for YEAR columns (MySQL's has none). */
int lm_bl_tablemap_parse(const uint8_t *body, size_t len, unsigned post_len, bool mariadb,
                         lm_table_map **out, lm_err *err);
void lm_bl_tablemap_free(lm_table_map *tm);

/* Decode one column value at p (avail bytes). On success sets *used. */
int lm_bl_value_decode(const lm_table_map *tm, unsigned col, const uint8_t *p, size_t avail,
                       lm_value *v, size_t *used, lm_bl_arena *a, lm_err *err);

/* Writes v in decimal, zero-padded to at least width digits, and returns
 * the end (no NUL). Hand-written because snprintf dominated dump profiles;
 * same output as "%0*u". */
static inline char *lm_bl_put_uint(char *q, uint64_t v, unsigned width)
{
    char t[20];
    unsigned n = 0;

    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width && width <= 20)
        t[n++] = '0';
    while (n)
        *q++ = t[--n];
    return q;
}

/* Temporal and decimal helpers (temporal.c). Text is NUL-terminated. */
int lm_bl_decimal_size(unsigned precision, unsigned scale);
/* Writes the server's text form of a binary NEWDECIMAL; out needs
 * precision + 3 bytes. */
int lm_bl_decimal_text(const uint8_t *p, unsigned precision, unsigned scale, char *out);
size_t lm_bl_frac_bytes(unsigned fsp);
void lm_bl_time2_text(const uint8_t *p, unsigned fsp, char *out, size_t outlen);
void lm_bl_datetime2_text(const uint8_t *p, unsigned fsp, char *out, size_t outlen);
void lm_bl_timestamp2(const uint8_t *p, unsigned fsp, int64_t *sec, uint64_t *usec);
void lm_bl_timestamp_text(int64_t sec, uint64_t usec, unsigned fsp, char *out, size_t outlen);
/* Packed longlong temporal (MySQL JSON opaque values). */
void lm_bl_packed_time_text(int64_t packed, char *out, size_t outlen);
void lm_bl_packed_datetime_text(int64_t packed, int date_only, char *out, size_t outlen);

/* MySQL binary JSON to text, appended to out. */
int lm_bl_mysql_json(lm_buf *out, const uint8_t *p, size_t len, lm_err *err);

/* Deepest nesting of JSON containers that is decoded. */
#define LM_BL_JSON_MAX_DEPTH 100

/* One binary JSON value given its type byte (p, len: the bytes after it)
 * as text; depth counts the containers around it. -1 when malformed. */
int lm_bl_mysql_json_value(lm_buf *out, uint8_t type, const uint8_t *p, size_t len, int depth);

/* A binary JSON object or array opened for entry-by-entry access. */
typedef struct lm_bl_jcont {
    const uint8_t *p;
    size_t size, count;
    bool large, obj;
} lm_bl_jcont;

typedef struct lm_bl_jentry {
    const char *key; /* objects only; not NUL-terminated */
    size_t klen;
    uint8_t type; /* the value: type byte and its bytes */
    const uint8_t *p;
    size_t len;
} lm_bl_jentry;

/* 0 = opened, 1 = not a container type, -1 = malformed header. */
int lm_bl_mysql_json_open(lm_bl_jcont *c, uint8_t type, const uint8_t *p, size_t len);
/* Entry i < c->count; -1 when its offsets point outside the container. */
int lm_bl_mysql_json_entry(const lm_bl_jcont *c, size_t i, lm_bl_jentry *e);

/* Applies a MySQL JSON diff vector (PARTIAL_UPDATE_ROWS; diffs/n: the
 * bytes after its 4-byte length) to the binary JSON document doc/doclen
 * and appends the resulting document's text to out. scratch is reset. */
int lm_bl_json_diff_apply(lm_buf *out, lm_bl_arena *scratch, const uint8_t *doc, size_t doclen,
                          const uint8_t *diffs, size_t n, lm_err *err);

/* Shortest text that reads back as the same float/double. */
void lm_bl_float_text(double d, int is_float, char *out, size_t outlen);

/* MariaDB compressed event bodies: header byte, BE length, zlib data. */
int lm_bl_zlib_uncompress(const uint8_t *p, size_t len, uint8_t **buf, size_t *cap, size_t *outlen,
                          lm_err *err);
/* MySQL TRANSACTION_PAYLOAD: fields then one zstd frame (or raw). */
int lm_bl_payload_uncompress(const uint8_t *p, size_t len, uint8_t **buf, size_t *cap,
                             size_t *outlen, lm_err *err);

#endif
