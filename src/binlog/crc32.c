/* CRC-32 with the reflected IEEE polynomial 0xEDB88320 (zlib's crc32):
 * checking it was 8% of a JSON dump with zlib's table-driven loop. On
 * x86-64 with PCLMULQDQ, 64 bytes per step are folded with carry-less
 * multiplies (Intel, "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ", 2009), then Barrett-reduced to 32 bits; the short head and
 * tail go through zlib. The folding constants are x^k mod P, bit-reflected
 * and shifted as the paper lays out; the unit test checks every length
 * against zlib. */
#include "binlog/crc32.h"

#include <zlib.h>

uint32_t lm_bl_crc32_generic(uint32_t crc, const uint8_t *p, size_t n)
{
    /* zlib takes uInt lengths: feed huge buffers in pieces. */
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define CLMUL __attribute__((target("pclmul,sse2")))

/* The CRC state (inverted, as inside zlib) of p[0..n), n >= 64 and a
 * multiple of 16, starting from state crc. */
CLMUL static uint32_t fold(uint32_t crc, const uint8_t *p, size_t n)
{
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
    const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124);
    const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641);
    const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
    __m128i x1, x2, x3, x4, t1, t2, t3, t4;

    x1 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)p),
                       _mm_cvtsi32_si128((int)crc));
    x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    x4 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    p += 64;
    n -= 64;
    /* Four independent lanes, each folded 512 bits forward. */
    while (n >= 64) {
        t1 = _mm_clmulepi64_si128(x1, k1k2, 0x00);
        t2 = _mm_clmulepi64_si128(x2, k1k2, 0x00);
        t3 = _mm_clmulepi64_si128(x3, k1k2, 0x00);
        t4 = _mm_clmulepi64_si128(x4, k1k2, 0x00);
        x1 = _mm_clmulepi64_si128(x1, k1k2, 0x11);
        x2 = _mm_clmulepi64_si128(x2, k1k2, 0x11);
        x3 = _mm_clmulepi64_si128(x3, k1k2, 0x11);
        x4 = _mm_clmulepi64_si128(x4, k1k2, 0x11);
        x1 =
            _mm_xor_si128(_mm_xor_si128(x1, t1), _mm_loadu_si128((const __m128i *)(const void *)p));
        x2 = _mm_xor_si128(_mm_xor_si128(x2, t2),
                           _mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
        x3 = _mm_xor_si128(_mm_xor_si128(x3, t3),
                           _mm_loadu_si128((const __m128i *)(const void *)(p + 32)));
        x4 = _mm_xor_si128(_mm_xor_si128(x4, t4),
                           _mm_loadu_si128((const __m128i *)(const void *)(p + 48)));
        p += 64;
        n -= 64;
    }
    /* The lanes into one, 128 bits forward at a time; then the rest. */
    t1 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), x2), t1);
    t1 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), x3), t1);
    t1 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), x4), t1);
    while (n >= 16) {
        t1 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
        x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11),
                                         _mm_loadu_si128((const __m128i *)(const void *)p)),
                           t1);
        p += 16;
        n -= 16;
    }
    /* 128 bits to 64. */
    t1 = _mm_clmulepi64_si128(x1, k3k4, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t1);
    t1 = _mm_srli_si128(x1, 4);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5, 0x00), t1);
    /* Barrett reduction to 32 bits. */
    t1 = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), poly, 0x10);
    t1 = _mm_clmulepi64_si128(_mm_and_si128(t1, low32), poly, 0x00);
    x1 = _mm_xor_si128(x1, t1);
    return (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(x1, 4));
}

uint32_t lm_bl_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    static int have = -1;
    size_t bulk;

    if (have < 0) {
        __builtin_cpu_init();
        have = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse2");
    }
    if (!have || n < 64)
        return lm_bl_crc32_generic(crc, p, n);
    bulk = n & ~(size_t)15;
    crc = ~fold(~crc, p, bulk);
    return lm_bl_crc32_generic(crc, p + bulk, n - bulk);
}
#else
uint32_t lm_bl_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    return lm_bl_crc32_generic(crc, p, n);
}
#endif
