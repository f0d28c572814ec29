/* Column type facts shared by the table map and row decoders, the text
 * arena, and float formatting (dtoa.c). */
#include "binlog/internal.h"
#include "binlog/dtoa.h"

#include <stdlib.h>
#include <string.h>

int lm_bl_meta_len(uint8_t type)
{
    switch (type) {
    case LM_T_FLOAT:
    case LM_T_DOUBLE:
    case LM_T_TIMESTAMP2:
    case LM_T_DATETIME2:
    case LM_T_TIME2:
    case LM_T_BLOB:
    case LM_T_TINY_BLOB:
    case LM_T_MEDIUM_BLOB:
    case LM_T_LONG_BLOB:
    case LM_T_GEOMETRY:
    case LM_T_JSON:
        return 1;
    case LM_T_VARCHAR:
    case LM_T_VAR_STRING:
    case LM_T_STRING:
    case LM_T_ENUM:
    case LM_T_SET:
    case LM_T_BIT:
    case LM_T_NEWDECIMAL:
        return 2;
    case LM_T_DECIMAL:
    case LM_T_TINY:
    case LM_T_SHORT:
    case LM_T_LONG:
    case LM_T_NULL:
    case LM_T_TIMESTAMP:
    case LM_T_LONGLONG:
    case LM_T_INT24:
    case LM_T_DATE:
    case LM_T_TIME:
    case LM_T_DATETIME:
    case LM_T_YEAR:
    case LM_T_NEWDATE:
        return 0;
    default:
        return -1;
    }
}

int lm_bl_type_is_numeric(uint8_t type)
{
    switch (type) {
    case LM_T_TINY:
    case LM_T_SHORT:
    case LM_T_INT24:
    case LM_T_LONG:
    case LM_T_LONGLONG:
    case LM_T_FLOAT:
    case LM_T_DOUBLE:
    case LM_T_NEWDECIMAL:
    case LM_T_DECIMAL:
        return 1;
    default:
        return 0;
    }
}

uint8_t lm_bl_real_type(uint8_t type, uint16_t meta, unsigned *len)
{
    unsigned b0 = meta >> 8, b1 = meta & 0xFF;

    if (type != LM_T_STRING) {
        if (len)
            *len = (type == LM_T_ENUM || type == LM_T_SET) ? b1 : meta;
        return type;
    }
    if (meta < 256) {
        if (len)
            *len = meta;
        return type;
    }
    /* The server folds bits 8-9 of CHAR's byte length into the type byte
     * (inverted) so that lengths up to 1023 fit; ENUM/SET keep their real
     * type there and put the pack length in the second byte. */
    if ((b0 & 0x30) != 0x30) {
        if (len)
            *len = b1 | (((b0 & 0x30) ^ 0x30) << 4);
        return (uint8_t)(b0 | 0x30);
    }
    if (len)
        *len = b1;
    return (uint8_t)b0;
}

int lm_bl_type_is_enumset(uint8_t type, uint16_t meta)
{
    uint8_t rt = lm_bl_real_type(type, meta, NULL);
    return rt == LM_T_ENUM || rt == LM_T_SET;
}

int lm_bl_type_is_char(uint8_t type, uint16_t meta)
{
    switch (lm_bl_real_type(type, meta, NULL)) {
    case LM_T_STRING:
    case LM_T_VAR_STRING:
    case LM_T_VARCHAR:
    case LM_T_BLOB:
    case LM_T_TINY_BLOB:
    case LM_T_MEDIUM_BLOB:
    case LM_T_LONG_BLOB:
        return 1;
    default:
        return 0;
    }
}

struct lm_bl_arena_blk {
    lm_bl_arena_blk *next;
    size_t cap, used;
    max_align_t data[];
};

void *lm_bl_arena_alloc(lm_bl_arena *a, size_t n)
{
    lm_bl_arena_blk *b = a->head;
    size_t need = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    char *p;

    if (b == NULL || b->cap - b->used < need) {
        size_t cap = need > 8192 ? need : 8192;
        b = malloc(sizeof(*b) + cap);
        if (b == NULL)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    p = (char *)b->data + b->used;
    b->used += need;
    return p;
}

char *lm_bl_arena_dup(lm_bl_arena *a, const void *s, size_t n)
{
    char *p = lm_bl_arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void lm_bl_arena_reset(lm_bl_arena *a)
{
    lm_bl_arena_blk *b = a->head;

    /* Keep one block so that a steady stream of rows does not malloc. */
    if (b == NULL)
        return;
    while (b->next) {
        lm_bl_arena_blk *n = b->next;
        b->next = n->next;
        free(n);
    }
    b->used = 0;
}

void lm_bl_arena_free(lm_bl_arena *a)
{
    while (a->head) {
        lm_bl_arena_blk *n = a->head->next;
        free(a->head);
        a->head = n;
    }
}

void lm_bl_float_text(double d, int is_float, char *out, size_t outlen)
{
    char t[LM_BL_DTOA_MAX];
    size_t n;

    if (outlen >= LM_BL_DTOA_MAX) {
        lm_bl_dtoa(d, is_float, out);
        return;
    }
    if (outlen == 0)
        return;
    n = lm_bl_dtoa(d, is_float, t);
    n = n < outlen - 1 ? n : outlen - 1;
    memcpy(out, t, n);
    out[n] = '\0';
}
