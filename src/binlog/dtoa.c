/* Shortest-precision %g text of floats and doubles without printf.
 *
 * The text wanted is "%.*g" at the smallest precision p (from 15, or 6
 * for FLOAT, or 1 for subnormals) whose output reads back as the value.
 * snprintf and strtod per precision dominated JSON dump profiles, so the
 * fast path gets the leading 17-18 decimal digits of d from one 53x128-bit
 * product with a table of 128-bit powers of ten, rounds them to p digits,
 * and decides "reads back" by comparing the candidate with the rounding
 * interval of d in the same fixed-point scale. The product is short of the
 * exact value by less than 2 units of its last bit; a decision that this
 * slack could flip falls back to strtod (read-back) or to the snprintf
 * definition (rounding), so the text is always the definition's. */
#include "binlog/dtoa.h"
#include "binlog/textfmt.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

size_t lm_bl_dtoa_slow(double d, int is_float, char *out)
{
    int prec, maxp = is_float ? 9 : 17;
    size_t outlen = LM_BL_DTOA_MAX;

    if (d != d) {
        snprintf(out, outlen, "nan");
        return 3;
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
    return strlen(out);
}

#if defined(__SIZEOF_INT128__)

__extension__ typedef unsigned __int128 u128;

/* 10^q ~ c * 2^b for QMIN <= q <= QMAX with c = floor(10^q / 2^b) in
 * [2^127, 2^128), kept as hi:lo. Built once from exact big integers
 * (a few thousand limb operations) rather than shipped as a table. */
#define QMIN  -300
#define QMAX  350
#define LIMBS 40
#define KNEG  1216 /* 2^KNEG / 10^300 still has more than 128 bits */

static uint64_t pw_hi[QMAX - QMIN + 1], pw_lo[QMAX - QMIN + 1];
static int pw_b[QMAX - QMIN + 1];
static pthread_once_t pw_once = PTHREAD_ONCE_INIT;

static int big_bitlen(const uint32_t *x)
{
    int i, b;

    for (i = LIMBS - 1; i >= 0; i--)
        if (x[i])
            for (b = 31; b >= 0; b--)
                if (x[i] >> b & 1)
                    return i * 32 + b + 1;
    return 0;
}

/* Bits [pos, pos + 64) of x; bits below 0 read as zero. */
static uint64_t big_bits64(const uint32_t *x, int pos)
{
    uint64_t r = 0;
    int i, b;

    for (i = 63; i >= 0; i--) {
        b = pos + i;
        r = r << 1 | (b >= 0 && b < LIMBS * 32 ? (x[b / 32] >> (b % 32)) & 1 : 0);
    }
    return r;
}

/* Top 128 bits of x, which is 10^q * 2^k (truncated). */
static void pw_set(int q, const uint32_t *x, int k)
{
    int len = big_bitlen(x);

    pw_hi[q - QMIN] = big_bits64(x, len - 64);
    pw_lo[q - QMIN] = big_bits64(x, len - 128);
    pw_b[q - QMIN] = len - 128 - k;
}

static void pw_init(void)
{
    uint32_t x[LIMBS] = {1};
    uint64_t carry;
    int q, i;

    for (q = 0; q <= QMAX; q++) {
        for (i = 0, carry = 0; q > 0 && i < LIMBS; i++) {
            carry += (uint64_t)x[i] * 10;
            x[i] = (uint32_t)carry;
            carry >>= 32;
        }
        pw_set(q, x, 0);
    }
    /* floor(floor(y / 10) / 10) = floor(y / 100): repeated short division
     * of 2^KNEG gives floor(2^KNEG / 10^-q) exactly. */
    memset(x, 0, sizeof(x));
    x[KNEG / 32] = 1u << (KNEG % 32);
    for (q = -1; q >= QMIN; q--) {
        for (i = LIMBS - 1, carry = 0; i >= 0; i--) {
            carry = carry << 32 | x[i];
            x[i] = (uint32_t)(carry / 10);
            carry %= 10;
        }
        pw_set(q, x, KNEG);
    }
}

const uint64_t lm_bl_pow10[20] = {1u,
                                  10u,
                                  100u,
                                  1000u,
                                  10000u,
                                  100000u,
                                  1000000u,
                                  10000000u,
                                  100000000u,
                                  1000000000u,
                                  10000000000u,
                                  100000000000u,
                                  1000000000000u,
                                  10000000000000u,
                                  100000000000000u,
                                  1000000000000000u,
                                  10000000000000000u,
                                  100000000000000000u,
                                  1000000000000000000u,
                                  10000000000000000000u};
#define p10 lm_bl_pow10

/* floor(k * log10(2)), |k| < 1600. */
static int floor_log10_pow2(int k)
{
    int64_t v = (int64_t)k * 78913;
    return (int)(v >= 0 ? v / 262144 : -((-v + 262143) / 262144));
}

/* "%.*g" layout of the p digits dig (first digit nonzero) times
 * 10^(x - p + 1) with precision p: fixed or exponent form as %g picks
 * it, trailing zeros dropped. Returns the length. */
static size_t g_text(char *out, int neg, const char *dig, int p, int x)
{
    char *q = out;
    int prec = p, i;

    while (p > 1 && dig[p - 1] == '0')
        p--;
    if (neg)
        *q++ = '-';
    if (x < -4 || x >= prec) {
        unsigned ax = (unsigned)(x < 0 ? -x : x);
        *q++ = dig[0];
        if (p > 1) {
            *q++ = '.';
            memcpy(q, dig + 1, (size_t)p - 1);
            q += p - 1;
        }
        *q++ = 'e';
        if (x < 0)
            *q++ = '-';
        if (ax >= 100)
            *q++ = (char)('0' + ax / 100);
        if (ax >= 10)
            *q++ = (char)('0' + ax / 10 % 10);
        *q++ = (char)('0' + ax % 10);
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
    return (size_t)(q - out);
}

/* Text of D (p digits, or 10^p after a carry) times 10^(x - p + 1). */
static size_t digits_text(char *out, int neg, uint64_t D, int p, int x)
{
    char dig[20];
    int i = p;

    if (D == p10[p]) {
        D = p10[p - 1];
        x++;
    }
    while (i >= 2) {
        i -= 2;
        memcpy(dig + i, lm_bl_digit_pairs + 2 * (D % 100), 2);
        D /= 100;
    }
    if (i)
        dig[0] = (char)('0' + D);
    return g_text(out, neg, dig, p, x);
}

/* n / 10^j with a constant divisor per case (a multiply, not a divide). */
static uint64_t div_p10(uint64_t n, int j)
{
    switch (j) {
    case 1:
        return n / 10ULL;
    case 2:
        return n / 100ULL;
    case 3:
        return n / 1000ULL;
    case 4:
        return n / 10000ULL;
    case 5:
        return n / 100000ULL;
    case 6:
        return n / 1000000ULL;
    case 7:
        return n / 10000000ULL;
    case 8:
        return n / 100000000ULL;
    case 9:
        return n / 1000000000ULL;
    case 10:
        return n / 10000000000ULL;
    case 11:
        return n / 100000000000ULL;
    case 12:
        return n / 1000000000000ULL;
    case 13:
        return n / 10000000000000ULL;
    case 14:
        return n / 100000000000000ULL;
    case 15:
        return n / 1000000000000000ULL;
    case 16:
        return n / 10000000000000000ULL;
    case 17:
        return n / 100000000000000000ULL;
    case 18:
        return n / 1000000000000000000ULL;
    default:
        return n;
    }
}

size_t lm_bl_dtoa(double d, int is_float, char *out)
{
    uint64_t bits, m, hi, lo, N, D = 0, P;
    int neg, bexp, e, eulp, s, halved, pmin, pmax, q, t = 0, tries, nd, x, p, in, outside;
    u128 W = 0, R, U, Z, dl, glo, ghi;

    memcpy(&bits, &d, 8);
    neg = (int)(bits >> 63);
    bexp = (int)(bits >> 52 & 0x7FF);
    m = bits & ((UINT64_C(1) << 52) - 1);
    if (bexp == 0x7FF)
        return lm_bl_dtoa_slow(d, is_float, out);
    if (bexp == 0 && m == 0) {
        memcpy(out, neg ? "-0" : "0", (size_t)neg + 2);
        return (size_t)neg + 1;
    }
    if (bexp) {
        m |= UINT64_C(1) << 52;
        e = bexp - 1075;
    } else {
        e = -1074;
    }
    /* The rounding interval is that of the type read back: half a unit
     * in the last place each way, a quarter below a power of two. */
    if (is_float) {
        float f = (float)d;
        uint32_t fb;
        int fexp;

        if ((double)f != d)
            return lm_bl_dtoa_slow(d, is_float, out);
        memcpy(&fb, &f, 4);
        fexp = (int)(fb >> 23 & 0xFF);
        eulp = fexp ? fexp - 150 : -149;
        halved = fexp > 1 && (fb & 0x7FFFFF) == 0;
        pmin = fexp ? 6 : 1;
        pmax = 9;
    } else {
        eulp = e;
        halved = bexp > 1 && (bits & ((UINT64_C(1) << 52) - 1)) == 0;
        pmin = bexp ? 15 : 1;
        pmax = 17;
    }
    while (!(m >> 52)) {
        m <<= 1;
        e--;
    }
    s = eulp - e;
    pthread_once(&pw_once, pw_init);

    /* d * 10^q in [W, W + 2) units of 2^-t, its integer part N of 17 or
     * 18 digits (the estimate of q can be one off either way). */
    q = 16 - floor_log10_pow2(e + 52);
    for (tries = 0;; tries++) {
        if (tries > 2 || q < QMIN || q > QMAX)
            return lm_bl_dtoa_slow(d, is_float, out);
        hi = pw_hi[q - QMIN];
        lo = pw_lo[q - QMIN];
        t = -(e + pw_b[q - QMIN] + 64);
        if (t <= 0 || t >= 64)
            return lm_bl_dtoa_slow(d, is_float, out);
        W = (u128)m * hi + (((u128)m * lo) >> 64);
        if ((W >> t) < p10[16])
            q++;
        else if ((W >> t) >= p10[18])
            q--;
        else
            break;
    }
    N = (uint64_t)(W >> t);
    nd = N >= p10[17] ? 18 : 17;
    x = nd - 1 - q;
    /* One unit of d's last place is in [hi, hi + 1] units of W. */
    glo = (u128)hi << s;
    ghi = ((u128)hi + 1) << s;
    for (p = pmin; p <= pmax; p++) {
        P = p10[nd - p];
        U = (u128)P << t;
        D = div_p10(N, nd - p);
        R = (u128)(N - D * P) << t | (W & (((u128)1 << t) - 1));
        if (R + 2 <= U / 2) {
            /* rounds down whatever the slack */
        } else if (R > U / 2) {
            D++;
        } else {
            return lm_bl_dtoa_slow(d, is_float, out); /* maybe a tie */
        }
        if (p == pmax)
            break;
        Z = (u128)(D * P) << t;
        if (Z >= W) {
            dl = Z - W;
            in = 2 * dl < glo;
            outside = dl >= 2 && 2 * (dl - 2) > ghi;
        } else {
            dl = W - Z;
            in = (halved ? 4 : 2) * (dl + 2) < glo;
            outside = (halved ? 4 : 2) * dl > ghi;
        }
        if (in)
            break;
        if (outside)
            continue;
        digits_text(out, neg, D, p, x);
        if (is_float ? strtof(out, NULL) == (float)d : strtod(out, NULL) == d)
            return strlen(out);
    }
    return digits_text(out, neg, D, p, x);
}

#else /* no 128-bit integers: the definition only */

size_t lm_bl_dtoa(double d, int is_float, char *out)
{
    return lm_bl_dtoa_slow(d, is_float, out);
}

#endif
