/* Event sources: raw binlog files and recordings behind one interface.
 *
 * A recording is read frame by frame with a streaming zstd context; the
 * decompressed bytes are cut into events and handed out only up to the
 * last transaction boundary seen, or all of them once the frame has ended
 * and its checksum matched. So a torn or corrupt frame yields every whole
 * transaction before the damage, then one error naming the file and the
 * byte offset of the frame. */
#include "record/record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zstd.h>

#define IN_CAP    ((size_t)256 << 10)
#define OUT_CHUNK ((size_t)256 << 10)
#define MAX_EVENT ((size_t)1 << 30)

struct lm_rec_source {
    char *path;
    char file[256];
    uint64_t pos;
    bool rec;
    lm_binlog_file *raw;

    FILE *fp;
    uint64_t fsize;
    uint8_t *in;
    size_t in_len, in_pos;
    uint64_t in_off; /* file offset of in[0] */
    ZSTD_DCtx *dctx;
    bool in_frame, eof, magic_done;
    uint64_t frame_off;

    uint8_t *buf; /* decompressed: [rd,bnd) ready, [bnd,scan) whole events, [scan,wr) partial */
    size_t cap, rd, bnd, scan, wr;
    lm_rec_txn txn;
    int err_code; /* pending error, returned once the ready events are out */
    lm_err err;
};

static const uint8_t binlog_magic[4] = {0xFE, 0x62, 0x69, 0x6E};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool lm_rec_is_zstd_magic(const uint8_t *m)
{
    uint32_t v = le32(m);
    return v == 0xFD2FB528u || (v & 0xFFFFFFF0u) == 0x184D2A50u;
}

static int frame_start(lm_rec_source *s);

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

int lm_rec_source_open(lm_rec_source **out, const char *path, lm_err *err)
{
    lm_rec_source *s = calloc(1, sizeof(*s));
    uint8_t m[4] = {0};
    struct stat st;
    FILE *fp = NULL;
    int rc;

    *out = NULL;
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto fail;
    }
    fp = fopen(path, "rb");
    if (fp == NULL) {
        rc = lm_err_set(err, LM_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (fread(m, 1, 4, fp) != 4 || !lm_rec_is_zstd_magic(m)) {
        fclose(fp);
        snprintf(s->file, sizeof(s->file), "%s", base_name(path));
        s->pos = 4;
        if ((rc = lm_binlog_file_open(&s->raw, path, err)) < 0)
            goto fail;
        *out = s;
        return 0;
    }
    s->rec = true;
    s->fp = fp;
    s->pos = 4;
    rewind(fp);
    if (fstat(fileno(fp), &st) == 0)
        s->fsize = (uint64_t)st.st_size;
    s->in = malloc(IN_CAP);
    s->dctx = ZSTD_createDCtx();
    if (s->in == NULL || s->dctx == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto fail;
    }
    /* Read the header now: it names the binlog file the events start in.
     * A failure stays pending and comes out of the first read. */
    if (le32(m) == LM_REC_MAGIC_HEADER)
        (void)frame_start(s);
    *out = s;
    return 0;
fail:
    lm_rec_source_close(s);
    return rc;
}

/* Keep at least `need` unread input bytes buffered if the file has them;
 * returns how many are buffered. */
static size_t fill_in(lm_rec_source *s, size_t need)
{
    size_t n;

    if (s->in_len - s->in_pos >= need)
        return s->in_len - s->in_pos;
    memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
    s->in_off += s->in_pos;
    s->in_len -= s->in_pos;
    s->in_pos = 0;
    n = fread(s->in + s->in_len, 1, IN_CAP - s->in_len, s->fp);
    s->in_len += n;
    return s->in_len;
}

static int fail_at(lm_rec_source *s, uint64_t off, int code, const char *what)
{
    s->err_code =
        lm_err_set(&s->err, code, "%s: %s at byte %llu", s->path, what, (unsigned long long)off);
    return s->err_code;
}

static void parse_header(lm_rec_source *s, const uint8_t *p, size_t n)
{
    const char *line = (const char *)p, *end = (const char *)p + n;

    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
        if (len > 12 && strncmp(line, "source_file=", 12) == 0 && len - 12 < sizeof(s->file)) {
            memcpy(s->file, line + 12, len - 12);
            s->file[len - 12] = '\0';
        } else if (len > 11 && len < 40 && strncmp(line, "source_pos=", 11) == 0) {
            char num[40];
            memcpy(num, line + 11, len - 11);
            num[len - 11] = '\0';
            s->pos = strtoull(num, NULL, 10);
        }
        line += len + 1;
    }
}

/* At a frame start: skip skippable frames (reading the header), or enter
 * a zstd frame. */
static int frame_start(lm_rec_source *s)
{
    uint64_t off = s->in_off + s->in_pos, size;
    size_t have = fill_in(s, 8);
    uint32_t magic;

    if (have == 0) {
        s->eof = true;
        return 0;
    }
    if (have < 8)
        return fail_at(s, off, LM_ECORRUPT, "torn frame header");
    magic = le32(s->in + s->in_pos);
    if (magic == 0xFD2FB528u) {
        size_t r = ZSTD_DCtx_reset(s->dctx, ZSTD_reset_session_only);
        (void)r;
        s->in_frame = true;
        s->frame_off = off;
        return 0;
    }
    if ((magic & 0xFFFFFFF0u) != 0x184D2A50u)
        return fail_at(s, off, LM_ECORRUPT, "not a zstd frame");
    size = le32(s->in + s->in_pos + 4);
    if (s->fsize && off + 8 + size > s->fsize)
        return fail_at(s, off, LM_ECORRUPT, "torn skippable frame");
    if (magic == LM_REC_MAGIC_HEADER && size <= IN_CAP - 8 &&
        fill_in(s, 8 + (size_t)size) >= 8 + size)
        parse_header(s, s->in + s->in_pos + 8, (size_t)size);
    if (s->in_len - s->in_pos >= 8 + size) {
        s->in_pos += 8 + (size_t)size;
        return 0;
    }
    /* Larger than the buffer: seek past it. */
    size -= s->in_len - s->in_pos - 8;
    s->in_off += s->in_len;
    s->in_len = s->in_pos = 0;
    if (fseek(s->fp, (long)size, SEEK_CUR) != 0)
        return fail_at(s, off, LM_EIO, "cannot skip a skippable frame");
    s->in_off += size;
    return 0;
}

/* Cut the new decompressed bytes into events, moving the boundary. */
static int scan_events(lm_rec_source *s)
{
    if (!s->magic_done) {
        if (s->wr < 4)
            return 0;
        if (memcmp(s->buf, binlog_magic, 4) != 0)
            return fail_at(s, s->frame_off, LM_ECORRUPT, "recording does not hold a binlog");
        s->magic_done = true;
        s->rd = s->bnd = s->scan = 4;
    }
    while (s->wr - s->scan >= LM_BINLOG_HEADER_LEN) {
        const uint8_t *e = s->buf + s->scan;
        size_t size = le32(e + 9);
        if (size < LM_BINLOG_HEADER_LEN || size > MAX_EVENT)
            return fail_at(s, s->frame_off, LM_ECORRUPT, "bad event size in the frame");
        if (s->wr - s->scan < size)
            break;
        s->scan += size;
        if (lm_rec_txn_step(&s->txn, e, size))
            s->bnd = s->scan;
    }
    return 0;
}

/* Decompress more of the current frame (or start the next one). */
static int more(lm_rec_source *s)
{
    ZSTD_inBuffer in;
    ZSTD_outBuffer out;
    size_t r;

    if (!s->in_frame)
        return frame_start(s);
    if (s->rd > 0 && s->rd == s->bnd) {
        memmove(s->buf, s->buf + s->rd, s->wr - s->rd);
        s->wr -= s->rd;
        s->scan -= s->rd;
        s->bnd = 0;
        s->rd = 0;
    }
    if (s->cap - s->wr < OUT_CHUNK) {
        size_t cap = s->cap ? s->cap * 2 : OUT_CHUNK * 4;
        uint8_t *b;
        while (cap - s->wr < OUT_CHUNK)
            cap *= 2;
        if (cap > 2 * MAX_EVENT + OUT_CHUNK * 8 || (b = realloc(s->buf, cap)) == NULL)
            return fail_at(s, s->frame_off, LM_ENOMEM, "out of memory decompressing the frame");
        s->buf = b;
        s->cap = cap;
    }
    if (fill_in(s, 1) == 0)
        return fail_at(s, s->frame_off, LM_ECORRUPT, "torn zstd frame (file ends inside it)");
    in.src = s->in;
    in.size = s->in_len;
    in.pos = s->in_pos;
    out.dst = s->buf + s->wr;
    out.size = s->cap - s->wr;
    out.pos = 0;
    r = ZSTD_decompressStream(s->dctx, &out, &in);
    s->in_pos = in.pos;
    s->wr += out.pos;
    if (ZSTD_isError(r)) {
        char what[200];
        snprintf(what, sizeof(what), "corrupt zstd frame (%s)", ZSTD_getErrorName(r));
        scan_events(s);
        return fail_at(s, s->frame_off, LM_ECORRUPT, what);
    }
    if (scan_events(s) < 0)
        return s->err_code;
    if (r == 0) {
        /* The frame ended and its checksum matched: all of it is good. */
        s->in_frame = false;
        if (s->scan != s->wr)
            return fail_at(s, s->frame_off, LM_ECORRUPT, "zstd frame ends inside an event");
        s->bnd = s->scan;
    }
    return 0;
}

int lm_rec_source_read(lm_rec_source *s, const uint8_t **data, size_t *len, lm_err *err)
{
    if (!s->rec)
        return lm_binlog_file_read(s->raw, data, len, err);
    for (;;) {
        if (s->rd < s->bnd) {
            size_t size = le32(s->buf + s->rd + 9);
            *data = s->buf + s->rd;
            *len = size;
            s->rd += size;
            return 1;
        }
        if (s->err_code) {
            lm_err_set(err, s->err_code, "%s", s->err.msg);
            return s->err_code;
        }
        if (s->eof) {
            if (!s->magic_done)
                return lm_err_set(err, LM_ECORRUPT,
                                  "%s: recording holds no binlog data (ends at byte %llu)", s->path,
                                  (unsigned long long)(s->in_off + s->in_pos));
            return 0;
        }
        /* A failure is kept in err_code: the ready events go out first. */
        (void)more(s);
    }
}

const char *lm_rec_source_file(const lm_rec_source *s)
{
    return s->file;
}

uint64_t lm_rec_source_pos(const lm_rec_source *s)
{
    return s->pos;
}

bool lm_rec_source_is_recording(const lm_rec_source *s)
{
    return s->rec;
}

void lm_rec_source_close(lm_rec_source *s)
{
    if (s == NULL)
        return;
    lm_binlog_file_close(s->raw);
    if (s->fp)
        fclose(s->fp);
    ZSTD_freeDCtx(s->dctx);
    free(s->in);
    free(s->buf);
    free(s->path);
    free(s);
}
