/* Binary DECIMAL and the MySQL 5.6 temporal formats (TIME2, DATETIME2,
 * TIMESTAMP2), rendered as the server prints them. */
#include "binlog/internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

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

int lm_bl_decimal_text(const uint8_t *p, unsigned precision, unsigned scale, char *out)
{
    uint8_t buf[40], mask;
    unsigned intg = precision - scale, intg0 = intg / 9, intg0x = intg % 9;
    unsigned frac0 = scale / 9, frac0x = scale % 9, i, pos = 0, d;
    int size = lm_bl_decimal_size(precision, scale), neg;
    char digits[80], *q = out;
    size_t nd = 0, k;

    if (size < 0 || (size_t)size > sizeof(buf))
        return -1;
    memcpy(buf, p, (size_t)size);
    /* The stored sign bit is 1 for positive values; negatives are stored
     * bit-inverted so that the bytes sort like the numbers. */
    neg = !(buf[0] & 0x80);
    buf[0] ^= 0x80;
    mask = neg ? 0xFF : 0;

    if (intg0x) {
        d = dig2bytes[intg0x];
        nd += (size_t)sprintf(digits + nd, "%u", dec_group(buf + pos, d, mask));
        pos += d;
    }
    for (i = 0; i < intg0; i++, pos += 4)
        nd += (size_t)sprintf(digits + nd, "%09u", dec_group(buf + pos, 4, mask));
    /* Leading zeros of the integer part are not printed, but "0" is. */
    for (k = 0; k + 1 < nd && digits[k] == '0'; k++)
        ;
    if (nd == 0) {
        digits[0] = '0';
        nd = 1;
        k = 0;
    }
    if (neg)
        *q++ = '-';
    memcpy(q, digits + k, nd - k);
    q += nd - k;
    if (scale) {
        *q++ = '.';
        for (i = 0; i < frac0; i++, pos += 4)
            q += sprintf(q, "%09u", dec_group(buf + pos, 4, mask));
        if (frac0x)
            q += sprintf(q, "%0*u", (int)frac0x, dec_group(buf + pos, dig2bytes[frac0x], mask));
    }
    *q = '\0';
    /* A negative zero is printed without its sign. */
    if (neg && strspn(out + 1, "0.") == strlen(out + 1))
        memmove(out, out + 1, strlen(out));
    return size;
}

size_t lm_bl_frac_bytes(unsigned fsp)
{
    return (fsp + 1) / 2;
}

/* Fraction digits: exactly fsp of the microseconds. */
static void append_frac(char *out, size_t outlen, uint64_t usec, unsigned fsp)
{
    static const unsigned div[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
    size_t n = strlen(out);

    if (fsp == 0 || fsp > 6)
        return;
    snprintf(out + n, outlen - n, ".%0*u", (int)fsp, (unsigned)(usec / div[fsp]));
}

/* Packed TIME: ((hh<<12 | mm<<6 | ss) << 24) + usec, negated for negatives. */
void lm_bl_packed_time_text(int64_t packed, char *out, size_t outlen)
{
    uint64_t t = packed < 0 ? (uint64_t)0 - (uint64_t)packed : (uint64_t)packed;
    uint64_t hms = t >> 24;

    snprintf(out, outlen, "%s%02u:%02u:%02u", packed < 0 ? "-" : "", (unsigned)((hms >> 12) % 1024),
             (unsigned)((hms >> 6) % 64), (unsigned)(hms % 64));
    append_frac(out, outlen, t % (1u << 24), 6);
}

static void datetime_fmt(uint64_t t, int date_only, unsigned fsp, char *out, size_t outlen)
{
    uint64_t ymdhms = t >> 24, ymd = ymdhms >> 17, ym = ymd >> 5, hms = ymdhms % (1u << 17);

    if (date_only) {
        snprintf(out, outlen, "%04u-%02u-%02u", (unsigned)(ym / 13), (unsigned)(ym % 13),
                 (unsigned)(ymd % 32));
        return;
    }
    snprintf(out, outlen, "%04u-%02u-%02u %02u:%02u:%02u", (unsigned)(ym / 13), (unsigned)(ym % 13),
             (unsigned)(ymd % 32), (unsigned)(hms >> 12), (unsigned)((hms >> 6) % 64),
             (unsigned)(hms % 64));
    append_frac(out, outlen, t % (1u << 24), fsp);
}

void lm_bl_packed_datetime_text(int64_t packed, int date_only, char *out, size_t outlen)
{
    uint64_t t = packed < 0 ? (uint64_t)0 - (uint64_t)packed : (uint64_t)packed;
    datetime_fmt(t, date_only, 6, out, outlen);
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

void lm_bl_time2_text(const uint8_t *p, unsigned fsp, char *out, size_t outlen)
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
    lm_bl_packed_time_text(packed, out, outlen);
    /* Packed text always carries 6 digits; trim to the column's fsp. */
    {
        char *dot = strchr(out, '.');
        if (dot)
            dot[fsp ? fsp + 1 : 0] = '\0';
    }
}

void lm_bl_datetime2_text(const uint8_t *p, unsigned fsp, char *out, size_t outlen)
{
    int64_t intpart = (int64_t)lm_bl_be(p, 5) - INT64_C(0x8000000000);
    uint64_t frac = 0;

    if (fsp)
        frac = lm_bl_be(p + 5, (unsigned)lm_bl_frac_bytes(fsp)) * (fsp <= 2   ? 10000u
                                                                   : fsp <= 4 ? 100u
                                                                              : 1u);
    if (intpart < 0)
        intpart = -intpart;
    datetime_fmt(((uint64_t)intpart << 24) + frac, 0, fsp, out, outlen);
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

void lm_bl_timestamp_text(int64_t sec, uint64_t usec, unsigned fsp, char *out, size_t outlen)
{
    struct tm tm;
    time_t t = (time_t)sec;

    if (sec == 0 || gmtime_r(&t, &tm) == NULL) {
        /* The server stores the zero timestamp as epoch 0. */
        snprintf(out, outlen, "0000-00-00 00:00:00");
    } else {
        snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
    append_frac(out, outlen, usec, fsp);
}
