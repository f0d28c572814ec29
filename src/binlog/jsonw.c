/* Pointer-based JSON pieces (jsonw.h). */
#include "binlog/jsonw.h"
#include "livemig/buf.h"
#include "binlog/dtoa.h"
#include "binlog/textfmt.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

const char lm_bl_digit_pairs[200] = "00010203040506070809"
                                    "10111213141516171819"
                                    "20212223242526272829"
                                    "30313233343536373839"
                                    "40414243444546474849"
                                    "50515253545556575859"
                                    "60616263646566676869"
                                    "70717273747576777879"
                                    "80818283848586878889"
                                    "90919293949596979899";

char *lm_jw_u64(char *q, uint64_t u)
{
    const uint64_t *p10 = lm_bl_pow10;
    unsigned n = 1;
    char *end;

    if (u < 10) {
        *q = (char)('0' + u);
        return q + 1;
    }
    /* Digits right to left, two per division, straight into place (a
     * variable-length memcpy here showed up as a libc call per number). */
#if defined(__GNUC__)
    {
        /* floor(log10(u)) is t or t - 1 for t = floor(bit length * log10 2). */
        unsigned t = (unsigned)(64 - __builtin_clzll(u)) * 1233 >> 12;
        n = t < 19 ? t + (u >= p10[t]) : 19 + (u >= UINT64_C(10000000000000000000));
    }
#else
    while (n < 19 && u >= p10[n])
        n++;
    if (n == 19 && u >= UINT64_C(10000000000000000000))
        n = 20;
#endif
    end = q + n;
    q = end;
    /* Eight digits at a time in 32-bit arithmetic: four independent
     * pairs instead of one long chain of 64-bit divisions. */
    while (u >= 100000000) {
        uint32_t lo = (uint32_t)(u % 100000000), a = lo / 10000, b = lo % 10000;
        u /= 100000000;
        q -= 8;
        memcpy(q, lm_bl_digit_pairs + 2 * (a / 100), 2);
        memcpy(q + 2, lm_bl_digit_pairs + 2 * (a % 100), 2);
        memcpy(q + 4, lm_bl_digit_pairs + 2 * (b / 100), 2);
        memcpy(q + 6, lm_bl_digit_pairs + 2 * (b % 100), 2);
    }
    {
        uint32_t v = (uint32_t)u;
        while (v >= 100) {
            q -= 2;
            memcpy(q, lm_bl_digit_pairs + 2 * (v % 100), 2);
            v /= 100;
        }
        if (v >= 10)
            memcpy(q - 2, lm_bl_digit_pairs + 2 * v, 2);
        else
            q[-1] = (char)('0' + v);
    }
    return end;
}

char *lm_jw_hex(char *q, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t i = 0;

#if defined(__SSE2__)
    /* 16 bytes at a time: nibbles interleaved high-first, then each
     * nibble to '0'-'9' or 'a'-'f' (+39 past 9). */
    const __m128i low4 = _mm_set1_epi8(0x0F), nine = _mm_set1_epi8(9), zero = _mm_set1_epi8('0'),
                  gap = _mm_set1_epi8('a' - '0' - 10);
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i hi = _mm_and_si128(_mm_srli_epi16(x, 4), low4), lo = _mm_and_si128(x, low4);
        __m128i a = _mm_unpacklo_epi8(hi, lo), b = _mm_unpackhi_epi8(hi, lo);
        a = _mm_add_epi8(_mm_add_epi8(a, zero), _mm_and_si128(_mm_cmpgt_epi8(a, nine), gap));
        b = _mm_add_epi8(_mm_add_epi8(b, zero), _mm_and_si128(_mm_cmpgt_epi8(b, nine), gap));
        _mm_storeu_si128((__m128i *)(void *)q, a);
        _mm_storeu_si128((__m128i *)(void *)(q + 16), b);
        q += 32;
    }
#endif
    for (; i < n; i++) {
        *q++ = digits[p[i] >> 4];
        *q++ = digits[p[i] & 15];
    }
    return q;
}

/* Nonzero when one of the 8 bytes in w is < 0x20, '"', '\\' or >= 0x80
 * (exact for "any", as the usual has-zero-byte test). */
static inline uint64_t special8(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
    uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\');

    return (((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) | ((bslash - ones) & ~bslash) |
            w) &
           high;
}

char *lm_jw_plain(char *q, const uint8_t *s, size_t n, int utf8)
{
    size_t i = 0, len;
    uint64_t w;

    while (i < n) {
        if (i + 8 <= n) {
            memcpy(&w, s + i, 8);
            if (!special8(w)) {
                memcpy(q, &w, 8);
                q += 8;
                i += 8;
                continue;
            }
        } else if (n >= 8) {
            /* The tail as the last 8 bytes, overlapping what was copied. */
            memcpy(&w, s + n - 8, 8);
            if (!special8(w)) {
                memcpy(q - (i + 8 - n), &w, 8);
                return q + (n - i);
            }
        }
        if (s[i] < 0x80) {
            if (s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
                return NULL;
            *q++ = (char)s[i++];
            continue;
        }
        if (!utf8 || (len = lm_utf8_seq_len(s + i, n - i)) == 0)
            return NULL;
        while (len--)
            *q++ = (char)s[i++];
    }
    return q;
}
