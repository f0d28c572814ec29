/* Compressed event bodies: MariaDB log_bin_compress (zlib) and MySQL
 * binlog_transaction_compression (TRANSACTION_PAYLOAD, zstd). */
#include "binlog/internal.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

/* Inflated sizes beyond this are treated as corruption, not honoured. */
#define MAX_INFLATE ((size_t)1 << 30)

static int reserve(uint8_t **buf, size_t *cap, size_t need)
{
    uint8_t *p;
    if (need <= *cap)
        return 0;
    p = realloc(*buf, need);
    if (p == NULL)
        return LM_ENOMEM;
    *buf = p;
    *cap = need;
    return 0;
}

int lm_bl_zlib_uncompress(const uint8_t *p, size_t len, uint8_t **buf, size_t *cap, size_t *outlen,
                          lm_err *err)
{
    unsigned lenlen;
    uLongf dlen;
    size_t want;

    /* Header byte: 0x80 | algorithm << 4 | bytes of the length that follows. */
    if (len < 1 || !(p[0] & 0x80) || ((p[0] >> 4) & 7) != 0)
        return lm_err_set(err, LM_ECORRUPT, "compressed event: unknown header byte 0x%02x",
                          len ? p[0] : 0);
    lenlen = p[0] & 7;
    if (lenlen < 1 || lenlen > 4 || len < 1 + lenlen)
        return lm_err_set(err, LM_ECORRUPT, "compressed event: bad length header");
    want = (size_t)lm_bl_be(p + 1, lenlen);
    if (want > MAX_INFLATE)
        return lm_err_set(err, LM_ECORRUPT, "compressed event: implausible size %zu", want);
    if (reserve(buf, cap, want + 1) < 0)
        return lm_err_set(err, LM_ENOMEM, "out of memory inflating an event");
    dlen = (uLongf)want;
    if (uncompress(*buf, &dlen, p + 1 + lenlen, (uLong)(len - 1 - lenlen)) != Z_OK || dlen != want)
        return lm_err_set(err, LM_ECORRUPT, "compressed event: zlib data is corrupt");
    *outlen = want;
    return 0;
}

enum { PL_END = 0, PL_SIZE = 1, PL_COMPRESSION = 2, PL_USIZE = 3 };
enum { PL_ZSTD = 0, PL_NONE = 255 };

int lm_bl_payload_uncompress(const uint8_t *p, size_t len, uint8_t **buf, size_t *cap,
                             size_t *outlen, lm_err *err)
{
    lm_bl_cur c = {p, p + len}, f;
    uint64_t kind, flen, v, ctype = PL_ZSTD, usize = 0, csize = 0;
    int have_usize = 0;
    size_t r;

    /* TLV header: type, length, value — each length-encoded. */
    for (;;) {
        if (lm_bl_lenenc(&c, &kind) < 0)
            goto bad;
        if (kind == PL_END)
            break;
        if (lm_bl_lenenc(&c, &flen) < 0 || flen > lm_bl_left(&c))
            goto bad;
        f.p = c.p;
        f.end = c.p + flen;
        c.p += flen;
        if (kind != PL_SIZE && kind != PL_COMPRESSION && kind != PL_USIZE)
            continue;
        if (lm_bl_lenenc(&f, &v) < 0)
            goto bad;
        if (kind == PL_SIZE)
            csize = v;
        else if (kind == PL_COMPRESSION)
            ctype = v;
        else {
            usize = v;
            have_usize = 1;
        }
    }
    if (csize && csize < lm_bl_left(&c))
        c.end = c.p + csize;
    if (ctype == PL_NONE) {
        if (reserve(buf, cap, lm_bl_left(&c) + 1) < 0)
            goto oom;
        memcpy(*buf, c.p, lm_bl_left(&c));
        *outlen = lm_bl_left(&c);
        return 0;
    }
    if (ctype != PL_ZSTD)
        return lm_err_set(err, LM_EINVAL, "TRANSACTION_PAYLOAD: unknown compression type %llu",
                          (unsigned long long)ctype);
    if (!have_usize) {
        unsigned long long fs = ZSTD_getFrameContentSize(c.p, lm_bl_left(&c));
        if (fs == ZSTD_CONTENTSIZE_ERROR || fs == ZSTD_CONTENTSIZE_UNKNOWN)
            goto bad;
        usize = fs;
    }
    if (usize > MAX_INFLATE)
        goto bad;
    if (reserve(buf, cap, (size_t)usize + 1) < 0)
        goto oom;
    r = ZSTD_decompress(*buf, (size_t)usize, c.p, lm_bl_left(&c));
    if (ZSTD_isError(r) || r != usize)
        return lm_err_set(err, LM_ECORRUPT, "TRANSACTION_PAYLOAD: zstd: %s",
                          ZSTD_isError(r) ? ZSTD_getErrorName(r) : "size mismatch");
    *outlen = (size_t)usize;
    return 0;
bad:
    return lm_err_set(err, LM_ECORRUPT, "TRANSACTION_PAYLOAD: malformed header");
oom:
    return lm_err_set(err, LM_ENOMEM, "out of memory inflating a transaction payload");
}
