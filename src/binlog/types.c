/* Column type facts shared by the table map and row decoders, the text
 * arena, and float formatting. */
#include "binlog/internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
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

/* Exponent as the server prints it: "1e20", "1.5e-7" (no '+', no padding). */
static void tidy_exponent(char *s)
{
    char *e = strchr(s, 'e'), *d;

    if (e == NULL)
        return;
    d = e + 1;
    if (*d == '+')
        memmove(d, d + 1, strlen(d));
    if (*d == '-')
        d++;
    while (d[0] == '0' && d[1] != '\0')
        memmove(d, d + 1, strlen(d));
}

/* "%.*g" (then tidy_exponent) of the value whose first p significant
 * digits are dig and whose decimal exponent is x, printed with precision
 * prec: fixed or exponent form as %g picks it, trailing zeros dropped. */
static void g_text(char *q, int neg, const char *dig, int p, int x, int prec)
{
    int i;

    while (p > 1 && dig[p - 1] == '0')
        p--;
    if (neg)
        *q++ = '-';
    if (x < -4 || x >= prec) {
        *q++ = dig[0];
        if (p > 1) {
            *q++ = '.';
            memcpy(q, dig + 1, (size_t)p - 1);
            q += p - 1;
        }
        *q++ = 'e';
        if (x < 0)
            *q++ = '-';
        q = lm_bl_put_uint(q, (unsigned)(x < 0 ? -x : x), 0);
    } else if (x >= 0) {
        for (i = 0; i <= x; i++)
            *q++ = i < p ? dig[i] : '0';
        if (p > x + 1) {
            *q++ = '.';
            memcpy(q, dig + x + 1, (size_t)(p - x - 1));
            q += p - x - 1;
        }
    } else {
        *q++ = '0';
        *q++ = '.';
        for (i = -1; i > x; i--)
            *q++ = '0';
        memcpy(q, dig, (size_t)p);
        q += p;
    }
    *q = '\0';
}

/* Does the decimal dig[0..p) × 10^(x-p+1), also spelled text, read back
 * as d? Clinger's fast path when the digits fit a double's mantissa and
 * the power of ten is exact (one correctly rounded IEEE operation, as
 * strtod would round), else strtod. */
static int reads_back(const char *dig, int p, int x, int neg, double d, const char *text)
{
    static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    uint64_t m = 0;
    int i, e = x - p + 1;
    double v;

    for (i = 0; i < p; i++)
        m = m * 10 + (uint64_t)(dig[i] - '0');
    if (FLT_EVAL_METHOD != 0 || m > (UINT64_C(1) << 53) || e < -22 || e > 22)
        return strtod(text, NULL) == d;
    v = e < 0 ? (double)m / p10[-e] : (double)m * p10[e];
    return (neg ? -v : v) == d;
}

/* One "%.*e" with every digit a double (float) needs, then the shorter
 * precisions by rounding those digits, instead of one snprintf per
 * precision: printf's float conversion dominated dump profiles. 0 when
 * the rounding cannot be decided from the digits (a tail of exactly
 * 5000…, where the true value may lie on either side) or out is small. */
static int float_text_fast(double d, int is_float, int minp, int maxp, char *out, size_t outlen)
{
    char e[48], dig[20], *p;
    int neg, x, prec, i, up;

    if (outlen < 40 || snprintf(e, sizeof(e), "%.*e", maxp - 1, d) >= (int)sizeof(e))
        return 0;
    p = e;
    neg = *p == '-';
    p += neg;
    dig[0] = *p++;
    if (*p++ != '.')
        return 0;
    memcpy(dig + 1, p, (size_t)maxp - 1);
    p += maxp - 1;
    if (*p++ != 'e')
        return 0;
    x = (int)strtol(p, NULL, 10);
    for (prec = minp; prec < maxp; prec++) {
        char r[20];
        int rx = x;

        up = dig[prec] > '5';
        if (dig[prec] == '5') {
            for (i = prec + 1; i < maxp && dig[i] == '0'; i++)
                ;
            if (i == maxp)
                return 0;
            up = 1;
        }
        memcpy(r, dig, (size_t)prec);
        for (i = prec - 1; up && i >= 0; i--) {
            if (r[i] == '9') {
                r[i] = '0';
            } else {
                r[i]++;
                up = 0;
            }
        }
        if (up) { /* 99…9 became 100…0 */
            r[0] = '1';
            rx++;
        }
        g_text(out, neg, r, prec, rx, prec);
        if (is_float ? (strtof(out, NULL) == (float)d) : reads_back(r, prec, rx, neg, d, out))
            return 1;
    }
    g_text(out, neg, dig, maxp, x, maxp);
    return 1;
}

void lm_bl_float_text(double d, int is_float, char *out, size_t outlen)
{
    int prec, maxp = is_float ? 9 : 17;

    if (isfinite(d) && fabs(d) >= (is_float ? FLT_MIN : DBL_MIN) &&
        float_text_fast(d, is_float, is_float ? 6 : 15, maxp, out, outlen))
        return;
    if (d != d) {
        snprintf(out, outlen, "nan");
        return;
    }
    /* A shorter form that reads back would also be what %.15g (%.6g for
     * FLOAT) prints once %g drops the trailing zeros: d is within half a
     * unit of the 17th digit of it, far from a rounding boundary of the
     * 15th. So start there instead of at 1 digit (subnormals have fewer). */
    for (prec = fabs(d) < (is_float ? FLT_MIN : DBL_MIN) ? 1
                : is_float                               ? 6
                                                         : 15;
         prec <= maxp; prec++) {
        snprintf(out, outlen, "%.*g", prec, d);
        if (is_float ? (strtof(out, NULL) == (float)d) : (strtod(out, NULL) == d))
            break;
    }
    tidy_exponent(out);
}
