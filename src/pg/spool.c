/* The change spool (livemig/spool.h): records streamed through zstd into a
 * local file, then read back once in order.
 *
 * File: the 8 bytes "LMSPOOL1" (so a wrong file is told apart before zstd
 * sees it), then one zstd frame with its content checksum on. Inside the
 * frame, little-endian:
 *     per record:  u64 tag, u32 len (< 0xFFFFFFFF), u32 crc, len bytes
 *     end record:  u64 count of records, u32 0xFFFFFFFF, u32 crc
 * crc is zlib's CRC-32 of the tag and len bytes, then of the data. zstd's
 * frame checksum is checked only at the end of the frame, after every
 * record was handed out; the per-record CRC catches damage before the
 * engine applies it. The end record makes a file cut at a record (or
 * frame) boundary read as truncated rather than as a shorter stream, and
 * its count is checked against what was read. Nothing may follow the
 * frame. */
#include "livemig/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define MAGIC     "LMSPOOL1"
#define MAGIC_LEN 8
#define REC_HDR   16 /* u64 tag, u32 len, u32 crc */
#define END_LEN   0xFFFFFFFFu
#define LEVEL     1 /* the spool is short-lived: speed over ratio */

enum { ST_WRITE, ST_READ, ST_DONE, ST_FAILED };

struct lm_spool {
    char *path;
    int fd;
    int state;
    int fail_code; /* ST_FAILED: the first error's code, repeated after */
    uint64_t records, raw_bytes, file_bytes;
    /* writing */
    ZSTD_CCtx *cctx;
    ZSTD_outBuffer out; /* compressed bytes waiting for write() */
    /* reading */
    ZSTD_DCtx *dctx;
    ZSTD_inBuffer in; /* compressed bytes read from the file */
    uint8_t *inbuf;
    size_t incap;
    bool eof;        /* read() returned 0 */
    bool frame_done; /* zstd finished a frame and has nothing left to flush */
    bool header_ok;
    uint8_t *dbuf; /* decompressed bytes [dpos, dlen) not yet returned */
    size_t dpos, dlen, dcap;
    uint64_t nread;  /* records returned */
    uint32_t maxlen; /* the longest record written: a longer one read is damage */
};

static int io_err(lm_spool *s, lm_err *err, const char *what)
{
    int e = errno;

    s->state = ST_FAILED;
    s->fail_code = LM_EIO;
    return lm_err_set(err, LM_EIO, "spool %s: %s: %s", s->path, what, strerror(e));
}

static int corrupt(lm_spool *s, lm_err *err, const char *what)
{
    s->state = ST_FAILED;
    s->fail_code = LM_ECORRUPT;
    return lm_err_set(err, LM_ECORRUPT, "spool %s: %s", s->path, what);
}

static int write_all(lm_spool *s, const void *p, size_t n, lm_err *err)
{
    const uint8_t *b = p;

    while (n > 0) {
        ssize_t w = write(s->fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return io_err(s, err, "write error");
        b += w;
        n -= (size_t)w;
        s->file_bytes += (uint64_t)w;
    }
    return 0;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The CRC of a record: over tag and len (h[0..11]), then the data. */
static uint32_t rec_crc(const uint8_t *h, const void *data, size_t len)
{
    uLong c = crc32(0L, h, 12);

    /* zlib takes uInt lengths: feed a huge record in pieces. */
    for (const uint8_t *p = data; len > 0;) {
        uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
        c = crc32(c, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)c;
}

/* Feed in to zstd; write the output buffer out whenever it fills (and at
 * the end of the frame with ZSTD_e_end). */
static int feed(lm_spool *s, const void *p, size_t n, ZSTD_EndDirective mode, lm_err *err)
{
    ZSTD_inBuffer in = {p, n, 0};
    size_t left;

    do {
        left = ZSTD_compressStream2(s->cctx, &s->out, &in, mode);
        if (ZSTD_isError(left)) {
            s->state = ST_FAILED;
            s->fail_code = LM_EIO;
            return lm_err_set(err, LM_EIO, "spool %s: zstd: %s", s->path, ZSTD_getErrorName(left));
        }
        if (s->out.pos == s->out.size || (mode == ZSTD_e_end && s->out.pos > 0)) {
            if (write_all(s, s->out.dst, s->out.pos, err) < 0)
                return LM_EIO;
            s->out.pos = 0;
        }
    } while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
    return 0;
}

int lm_spool_create(lm_spool **out, const char *path, lm_err *err)
{
    lm_spool *s = calloc(1, sizeof(*s));
    int rc;

    *out = NULL;
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        return lm_err_set(err, LM_ENOMEM, "spool %s: out of memory", path);
    }
    s->state = ST_WRITE;
    /* 0600: the spool holds row data of the migrated table. */
    s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (s->fd < 0) {
        rc = lm_err_set(err, LM_EIO, "spool %s: cannot create: %s", path, strerror(errno));
        free(s->path);
        free(s);
        return rc;
    }
    s->cctx = ZSTD_createCCtx();
    s->out.size = ZSTD_CStreamOutSize();
    s->out.dst = malloc(s->out.size);
    if (s->cctx == NULL || s->out.dst == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "spool %s: out of memory", path);
        goto fail;
    }
    if (ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_compressionLevel, LEVEL)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_checksumFlag, 1))) {
        rc = lm_err_set(err, LM_EINVAL, "spool %s: cannot set up zstd", path);
        goto fail;
    }
    if ((rc = write_all(s, MAGIC, MAGIC_LEN, err)) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    lm_spool_free(s);
    return rc;
}

static int state_err(lm_spool *s, lm_err *err, const char *what)
{
    if (s->state == ST_FAILED)
        return lm_err_set(err, s->fail_code, "spool %s: unusable after an earlier error", s->path);
    return lm_err_set(err, LM_EINVAL, "spool %s: %s", s->path, what);
}

int lm_spool_write(lm_spool *s, uint64_t tag, const void *data, size_t len, lm_err *err)
{
    uint8_t h[REC_HDR];

    if (s->state != ST_WRITE)
        return state_err(s, err, "write after rewind");
    if (len >= END_LEN)
        return lm_err_set(err, LM_EINVAL, "spool %s: record of %zu bytes is too large", s->path,
                          len);
    put_le(h, tag, 8);
    put_le(h + 8, len, 4);
    put_le(h + 12, rec_crc(h, data, len), 4);
    if (feed(s, h, REC_HDR, ZSTD_e_continue, err) < 0 ||
        (len > 0 && feed(s, data, len, ZSTD_e_continue, err) < 0))
        return LM_EIO;
    s->records++;
    s->raw_bytes += REC_HDR + len;
    if (len > s->maxlen)
        s->maxlen = (uint32_t)len;
    return 0;
}

int lm_spool_rewind(lm_spool *s, lm_err *err)
{
    uint8_t h[REC_HDR];

    if (s->state != ST_WRITE)
        return state_err(s, err, "rewound twice");
    put_le(h, s->records, 8);
    put_le(h + 8, END_LEN, 4);
    put_le(h + 12, rec_crc(h, NULL, 0), 4);
    if (feed(s, h, REC_HDR, ZSTD_e_continue, err) < 0 || feed(s, NULL, 0, ZSTD_e_end, err) < 0)
        return LM_EIO;
    s->raw_bytes += REC_HDR;
    /* Durable before the stream is confirmed to the server on its
     * account. */
    if (fsync(s->fd) < 0)
        return io_err(s, err, "fsync");
    if (close(s->fd) < 0) {
        s->fd = -1;
        return io_err(s, err, "close");
    }
    s->fd = -1;
    ZSTD_freeCCtx(s->cctx);
    s->cctx = NULL;
    free(s->out.dst);
    s->out.dst = NULL;

    s->fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return io_err(s, err, "cannot reopen for reading");
    s->dctx = ZSTD_createDCtx();
    s->incap = ZSTD_DStreamInSize();
    s->inbuf = malloc(s->incap);
    s->dcap = 2 * ZSTD_DStreamOutSize();
    s->dbuf = malloc(s->dcap);
    if (s->dctx == NULL || s->inbuf == NULL || s->dbuf == NULL) {
        s->state = ST_FAILED;
        s->fail_code = LM_ENOMEM;
        return lm_err_set(err, LM_ENOMEM, "spool %s: out of memory", s->path);
    }
    s->in.src = s->inbuf;
    s->state = ST_READ;
    return 0;
}

/* More compressed input, unless at the end of the file. */
static int refill(lm_spool *s, lm_err *err)
{
    ssize_t r;

    if (s->in.pos < s->in.size || s->eof)
        return 0;
    do
        r = read(s->fd, s->inbuf, s->incap);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return io_err(s, err, "read error");
    s->in.size = (size_t)r;
    s->in.pos = 0;
    s->eof = r == 0;
    return 0;
}

/* One decompression step into dbuf's free space: 1 if it made progress,
 * 0 at the end of the input. */
static int step(lm_spool *s, lm_err *err)
{
    ZSTD_outBuffer o = {s->dbuf, s->dcap, s->dlen};
    size_t in0, r;

    if (refill(s, err) < 0)
        return LM_EIO;
    in0 = s->in.pos;
    r = ZSTD_decompressStream(s->dctx, &o, &s->in);
    if (ZSTD_isError(r)) {
        char m[160];
        snprintf(m, sizeof(m), "damaged (zstd: %s)", ZSTD_getErrorName(r));
        return corrupt(s, err, m);
    }
    s->frame_done = r == 0;
    /* With free output space zstd moves unless the input is used up. */
    if (o.pos == s->dlen && s->in.pos == in0)
        return 0;
    s->dlen = o.pos;
    return 1;
}

/* Make n decompressed bytes available at dbuf + dpos: 1 if there, 0 if the
 * input ended first. */
static int fill(lm_spool *s, size_t n, lm_err *err)
{
    int rc;

    if (s->dlen - s->dpos >= n)
        return 1;
    if (s->dpos > 0) {
        memmove(s->dbuf, s->dbuf + s->dpos, s->dlen - s->dpos);
        s->dlen -= s->dpos;
        s->dpos = 0;
    }
    if (n > s->dcap) {
        /* A record bigger than the buffer: grow to hold it whole, since
         * the caller gets a pointer to it. */
        size_t cap = s->dcap;
        uint8_t *p;
        while (cap < n)
            cap *= 2;
        p = realloc(s->dbuf, cap);
        if (p == NULL) {
            s->state = ST_FAILED;
            s->fail_code = LM_ENOMEM;
            return lm_err_set(err, LM_ENOMEM, "spool %s: out of memory for a record of %zu bytes",
                              s->path, n);
        }
        s->dbuf = p;
        s->dcap = cap;
    }
    while (s->dlen < n) {
        if ((rc = step(s, err)) < 0)
            return rc;
        if (rc == 0)
            return 0;
    }
    return 1;
}

static int read_header(lm_spool *s, lm_err *err)
{
    uint8_t h[MAGIC_LEN];
    size_t n = 0;

    while (n < MAGIC_LEN) {
        ssize_t r = read(s->fd, h + n, MAGIC_LEN - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return io_err(s, err, "read error");
        if (r == 0)
            return corrupt(s, err, "truncated header");
        n += (size_t)r;
    }
    if (memcmp(h, MAGIC, MAGIC_LEN) != 0)
        return corrupt(s, err, "not a livemig spool (bad magic)");
    s->header_ok = true;
    return 0;
}

/* After the end record: the frame must end (zstd checks its checksum
 * there) and the file with it. */
static int check_end(lm_spool *s, lm_err *err)
{
    int rc;

    if (s->dpos != s->dlen)
        return corrupt(s, err, "data after the end record");
    s->dpos = s->dlen = 0;
    while (!s->frame_done) {
        if ((rc = step(s, err)) < 0)
            return rc;
        if (rc == 0)
            return corrupt(s, err, "truncated after the end record");
        if (s->dlen > 0)
            return corrupt(s, err, "data after the end record");
    }
    if ((rc = refill(s, err)) < 0)
        return rc;
    if (s->in.pos < s->in.size)
        return corrupt(s, err, "trailing bytes after the compressed stream");
    s->state = ST_DONE;
    return 0;
}

int lm_spool_read(lm_spool *s, uint64_t *tag, const uint8_t **data, size_t *len, lm_err *err)
{
    const uint8_t *h;
    char m[128];
    uint32_t n;
    int rc;

    if (s->state == ST_DONE)
        return LM_EEOF;
    if (s->state != ST_READ)
        return state_err(s, err, "read before rewind");
    if (!s->header_ok && (rc = read_header(s, err)) < 0)
        return rc;
    if ((rc = fill(s, REC_HDR, err)) <= 0) {
        if (rc < 0)
            return rc;
        snprintf(m, sizeof(m), "truncated %s after %llu records",
                 s->dlen > s->dpos ? "record header" : "file (end record missing)",
                 (unsigned long long)s->nread);
        return corrupt(s, err, m);
    }
    h = s->dbuf + s->dpos;
    *tag = get_le(h, 8);
    n = (uint32_t)get_le(h + 8, 4);
    if (n == END_LEN) {
        if ((uint32_t)get_le(h + 12, 4) != rec_crc(h, NULL, 0))
            return corrupt(s, err, "damaged end record (CRC mismatch)");
        if (*tag != s->nread || s->nread != s->records) {
            snprintf(m, sizeof(m), "end record counts %llu records, %llu read, %llu written",
                     (unsigned long long)*tag, (unsigned long long)s->nread,
                     (unsigned long long)s->records);
            return corrupt(s, err, m);
        }
        s->dpos += REC_HDR;
        if ((rc = check_end(s, err)) < 0)
            return rc;
        return LM_EEOF;
    }
    /* Checked before growing the buffer for it: a damaged length must not
     * become a huge allocation. */
    if (s->nread >= s->records) {
        snprintf(m, sizeof(m), "more records than the %llu written",
                 (unsigned long long)s->records);
        return corrupt(s, err, m);
    }
    if (n > s->maxlen) {
        snprintf(m, sizeof(m), "record %llu: length %u, longer than any written",
                 (unsigned long long)s->nread + 1, n);
        return corrupt(s, err, m);
    }
    if ((rc = fill(s, REC_HDR + (size_t)n, err)) <= 0) {
        if (rc < 0)
            return rc;
        snprintf(m, sizeof(m), "truncated record %llu (%u bytes)", (unsigned long long)s->nread + 1,
                 n);
        return corrupt(s, err, m);
    }
    h = s->dbuf + s->dpos; /* fill may have moved it */
    if ((uint32_t)get_le(h + 12, 4) != rec_crc(h, h + REC_HDR, n)) {
        snprintf(m, sizeof(m), "record %llu (%u bytes) is damaged (CRC mismatch)",
                 (unsigned long long)s->nread + 1, n);
        return corrupt(s, err, m);
    }
    *data = h + REC_HDR;
    *len = n;
    s->dpos += REC_HDR + (size_t)n;
    s->nread++;
    return 0;
}

void lm_spool_stats(const lm_spool *s, uint64_t *records, uint64_t *raw_bytes, uint64_t *file_bytes)
{
    if (records)
        *records = s->records;
    if (raw_bytes)
        *raw_bytes = s->raw_bytes;
    if (file_bytes)
        *file_bytes = s->file_bytes;
}

void lm_spool_free(lm_spool *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    if (s->path)
        unlink(s->path);
    ZSTD_freeCCtx(s->cctx);
    ZSTD_freeDCtx(s->dctx);
    free(s->out.dst);
    free(s->inbuf);
    free(s->dbuf);
    free(s->path);
    free(s);
}
