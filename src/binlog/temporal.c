/* Binary DECIMAL and the MySQL 5.6 temporal formats (TIME2, DATETIME2,
 * TIMESTAMP2), rendered as the server prints them. */
#include "binlog/internal.h"
#include "binlog/textfmt.h"

#include <string.h>

/* Bytes for a group of 0..9 leftover decimal digits. */
static const unsigned dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

int lm_bl_decimal_size(unsigned precision, unsigned scale)
{
    unsigned intg = precision - scale;

    if (scale > precision || precision > 65 || precision == 0)
        return -1;
    return (int)((intg / 9) * 4 + dig2bytes[intg % 9] + (scale / 9) * 4 + dig2bytes[scale % 9]);
}

/* Read one big-endian group after undoing the sign mask. */
static uint32_t dec_group(const uint8_t *p, unsigned n, uint8_t mask)
{
    uint32_t v = 0;
    unsigned i;
    for (i = 0; i < n; i++)
        v = (v << 8) | (uint8_t)(p[i] ^ mask);
    return v;
}

/* Nine digits of v; more when v >= 10^9 (a corrupt group), like
 * lm_bl_put_uint(q, v, 9). */
static char *put9(char *q, uint32_t v)
{
    if (v >= 1000000000u)
        return lm_bl_put_uint(q, v, 9);
    *q++ = (char)('0' + v / 100000000u);
    v %= 100000000u;
    q = lm_bl_put2(q, v / 1000000u);
    q = lm_bl_put2(q, v / 10000u % 100u);
    q = lm_bl_put2(q, v / 100u % 100u);
    return lm_bl_put2(q, v % 100u);
}

int lm_bl_decimal_str(const uint8_t *p, unsigned precision, unsigned scale, char *out)
{
    uint8_t buf[40], mask;
    unsigned intg = precision - scale, intg0 = intg / 9, intg0x = intg % 9;
    unsigned frac0 = scale / 9, frac0x = scale % 9, i, pos = 0;
    int size = lm_bl_decimal_size(precision, scale), neg;
    char *q = out, *start, *k;

    if (size < 0 || (size_t)size > sizeof(buf))
        return -1;
    memcpy(buf, p, (size_t)size);
    /* The stored sign bit is 1 for positive values; negatives are stored
     * bit-inverted so that the bytes sort like the numbers. */
    neg = !(buf[0] & 0x80);
    buf[0] ^= 0x80;
    mask = neg ? 0xFF : 0;
    if (neg)
        *q++ = '-';
    start = q;
    if (intg0x) {
        q = lm_bl_put_uint(q, dec_group(buf + pos, dig2bytes[intg0x], mask), 0);
        pos += dig2bytes[intg0x];
    }
    for (i = 0; i < intg0; i++, pos += 4)
        q = put9(q, dec_group(buf + pos, 4, mask));
    /* Leading zeros of the integer part are not printed, but "0" is. */
    for (k = start; k + 1 < q && *k == '0'; k++)
        ;
    if (q == start) {
        *q++ = '0';
    } else if (k > start) {
        memmove(start, k, (size_t)(q - k));
        q -= k - start;
    }
    if (scale) {
        *q++ = '.';
        for (i = 0; i < frac0; i++, pos += 4)
            q = put9(q, dec_group(buf + pos, 4, mask));
        if (frac0x)
            q = lm_bl_put_uint(q, dec_group(buf + pos, dig2bytes[frac0x], mask), frac0x);
    }
    *q = '\0';
    /* A negative zero is printed without its sign. */
    if (neg && strspn(out + 1, "0.") == (size_t)(q - out - 1)) {
        memmove(out, out + 1, (size_t)(q - out));
        q--;
    }
    return (int)(q - out);
}

int lm_bl_decimal_text(const uint8_t *p, unsigned precision, unsigned scale, char *out)
{
    if (lm_bl_decimal_str(p, precision, scale, out) < 0)
        return -1;
    return lm_bl_decimal_size(precision, scale);
}

size_t lm_bl_frac_bytes(unsigned fsp)
{
    return (fsp + 1) / 2;
}

/* The text helpers below write at most ~40 bytes (every field is bounded
 * by its bit width); callers pass 64-byte buffers, so outlen is only
 * checked against that bound. */
#define TEXT_MAX 48

/* Two digits, or more for a field out of range, like lm_bl_put_uint(q, v, 2). */
static char *put_2(char *q, uint64_t v)
{
    return v < 100 ? lm_bl_put2(q, (unsigned)v) : lm_bl_put_uint(q, v, 2);
}

/* Fraction: the microseconds / 10^(6 - fsp) in fsp digits (more when
 * usec is out of range); NUL-terminates, returns the NUL. */
static char *put_frac(char *q, uint64_t usec, unsigned fsp)
{
    static const unsigned div[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};

    if (fsp > 0 && fsp <= 6) {
        *q++ = '.';
        if (usec < 1000000) {
            /* The first fsp of six digits, written whole. */
            lm_bl_put2(q, (unsigned)(usec / 10000));
            lm_bl_put2(q + 2, (unsigned)(usec / 100 % 100));
            lm_bl_put2(q + 4, (unsigned)(usec % 100));
            q += fsp;
        } else {
            q = lm_bl_put_uint(q, (unsigned)(usec / div[fsp]), fsp);
        }
    }
    *q = '\0';
    return q;
}

/* "YYYY-MM-DD" then, unless date_only, " hh:mm:ss"; returns the end. */
static char *put_ymd_hms(char *q, unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                         unsigned s, int date_only)
{
    if (y < 10000) {
        q = lm_bl_put2(q, y / 100);
        q = lm_bl_put2(q, y % 100);
    } else {
        q = lm_bl_put_uint(q, y, 4);
    }
    *q++ = '-';
    q = put_2(q, mo);
    *q++ = '-';
    q = put_2(q, d);
    if (date_only)
        return q;
    *q++ = ' ';
    q = put_2(q, h);
    *q++ = ':';
    q = put_2(q, mi);
    *q++ = ':';
    return put_2(q, s);
}

/* Packed TIME: ((hh<<12 | mm<<6 | ss) << 24) + usec, negated for
 * negatives. fsp < 0: all six fraction digits, else the first fsp of
 * them (TIME2 columns). Returns the NUL. */
static char *packed_time_str(int64_t packed, int fsp, char *out)
{
    uint64_t t = packed < 0 ? (uint64_t)0 - (uint64_t)packed : (uint64_t)packed;
    uint64_t hms = t >> 24, usec = t % (1u << 24);
    char *q = out, digits[24];
    size_t n;

    if (packed < 0)
        *q++ = '-';
    q = put_2(q, (hms >> 12) % 1024);
    *q++ = ':';
    q = put_2(q, (hms >> 6) % 64);
    *q++ = ':';
    q = put_2(q, hms % 64);
    if (fsp < 0)
        return put_frac(q, usec, 6);
    if (usec < 1000000)
        return put_frac(q, usec, (unsigned)fsp);
    /* Out of range: the leading digits of the longer number. */
    if (fsp) {
        n = (size_t)(lm_bl_put_uint(digits, usec, 6) - digits);
        *q++ = '.';
        memcpy(q, digits, (size_t)fsp < n ? (size_t)fsp : n);
        q += (size_t)fsp < n ? (size_t)fsp : n;
    }
    *q = '\0';
    return q;
}

void lm_bl_packed_time_text(int64_t packed, char *out, size_t outlen)
{
    if (outlen < TEXT_MAX) {
        *out = '\0';
        return;
    }
    packed_time_str(packed, -1, out);
}

static char *datetime_str(uint64_t t, int date_only, unsigned fsp, char *out)
{
    uint64_t ymdhms = t >> 24, ymd = ymdhms >> 17, ym = ymd >> 5, hms = ymdhms % (1u << 17);
    char *q;

    q = put_ymd_hms(out, (unsigned)(ym / 13), (unsigned)(ym % 13), (unsigned)(ymd % 32),
                    (unsigned)(hms >> 12), (unsigned)((hms >> 6) % 64), (unsigned)(hms % 64),
                    date_only);
    return put_frac(q, t % (1u << 24), date_only ? 0 : fsp);
}

void lm_bl_packed_datetime_text(int64_t packed, int date_only, char *out, size_t outlen)
{
    uint64_t t = packed < 0 ? (uint64_t)0 - (uint64_t)packed : (uint64_t)packed;

    if (outlen < TEXT_MAX) {
        *out = '\0';
        return;
    }
    datetime_str(t, date_only, 6, out);
}

/* Signed fractional part as stored after the integer part (TIME2 only
 * needs the sign; DATETIME2 fractions are never negative). */
static int64_t frac_signed(const uint8_t *p, unsigned fsp, int64_t *intpart)
{
    int64_t frac;

    switch (fsp) {
    case 1:
    case 2:
        frac = p[0];
        if (*intpart < 0 && frac) {
            /* Negative values borrow one second into the fraction. */
            (*intpart)++;
            frac -= 0x100;
        }
        return frac * 10000;
    case 3:
    case 4:
        frac = (int64_t)lm_bl_be(p, 2);
        if (*intpart < 0 && frac) {
            (*intpart)++;
            frac -= 0x10000;
        }
        return frac * 100;
    default:
        return 0;
    }
}

size_t lm_bl_time2_str(const uint8_t *p, unsigned fsp, char *out)
{
    int64_t packed, intpart;

    if (fsp >= 5) {
        /* Six bytes hold integer and fraction together. */
        packed = (int64_t)lm_bl_be(p, 6) - INT64_C(0x800000000000);
    } else {
        intpart = (int64_t)lm_bl_be(p, 3) - 0x800000;
        packed = fsp ? frac_signed(p + 3, fsp, &intpart) : 0;
        packed += intpart * (INT64_C(1) << 24);
    }
    return (size_t)(packed_time_str(packed, (int)fsp, out) - out);
}

void lm_bl_time2_text(const uint8_t *p, unsigned fsp, char *out, size_t outlen)
{
    if (outlen < TEXT_MAX) {
        *out = '\0';
        return;
    }
    lm_bl_time2_str(p, fsp, out);
}

size_t lm_bl_datetime2_str(const uint8_t *p, unsigned fsp, char *out)
{
    int64_t intpart = (int64_t)lm_bl_be(p, 5) - INT64_C(0x8000000000);
    uint64_t frac = 0;

    if (fsp)
        frac = lm_bl_be(p + 5, (unsigned)lm_bl_frac_bytes(fsp)) * (fsp <= 2   ? 10000u
                                                                   : fsp <= 4 ? 100u
                                                                              : 1u);
    if (intpart < 0)
        intpart = -intpart;
    return (size_t)(datetime_str(((uint64_t)intpart << 24) + frac, 0, fsp, out) - out);
}

void lm_bl_datetime2_text(const uint8_t *p, unsigned fsp, char *out, size_t outlen)
{
    if (outlen < TEXT_MAX) {
        *out = '\0';
        return;
    }
    lm_bl_datetime2_str(p, fsp, out);
}

void lm_bl_timestamp2(const uint8_t *p, unsigned fsp, int64_t *sec, uint64_t *usec)
{
    *sec = (int64_t)lm_bl_be(p, 4);
    *usec = 0;
    if (fsp)
        *usec = lm_bl_be(p + 4, (unsigned)lm_bl_frac_bytes(fsp)) * (fsp <= 2   ? 10000u
                                                                    : fsp <= 4 ? 100u
                                                                               : 1u);
}

size_t lm_bl_timestamp_str(int64_t sec, uint64_t usec, unsigned fsp, char *out)
{
    int64_t days, era, z, doe, yoe, doy, mp, y, sod;
    char *q;

    if (sec <= 0) {
        /* The server stores the zero timestamp as epoch 0; stored values
         * are unsigned 32-bit, so there is nothing below it. */
        q = put_ymd_hms(out, 0, 0, 0, 0, 0, 0, 0);
    } else {
        /* UTC civil date from days since 1970 (H. Hinnant's algorithm),
         * replacing gmtime_r, which showed up in dump profiles. */
        days = sec / 86400;
        sod = sec % 86400;
        z = days + 719468;
        era = z / 146097;
        doe = z - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        y = yoe + era * 400;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        q = put_ymd_hms(out, (unsigned)(y + (mp >= 10)), (unsigned)(mp < 10 ? mp + 3 : mp - 9),
                        (unsigned)(doy - (153 * mp + 2) / 5 + 1), (unsigned)(sod / 3600),
                        (unsigned)(sod / 60 % 60), (unsigned)(sod % 60), 0);
    }
    return (size_t)(put_frac(q, usec, fsp) - out);
}

void lm_bl_timestamp_text(int64_t sec, uint64_t usec, unsigned fsp, char *out, size_t outlen)
{
    if (outlen < TEXT_MAX) {
        *out = '\0';
        return;
    }
    lm_bl_timestamp_str(sec, usec, fsp, out);
}
