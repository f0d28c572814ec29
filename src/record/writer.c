/* Recording writer: raw binlog bytes into independent zstd frames (content
 * checksum on), each closed at a transaction boundary the caller reports,
 * then an index in a skippable frame. Each closed frame is flushed to the
 * file, so a crash loses at most the frame being written.
 *
 * The open frame's bytes are kept whole (frame) and compressed in one pass
 * when it closes: zstd then reads them in place instead of copying them
 * into its stream buffer, sizes its tables to the frame, and the file gets
 * one write per frame. It also lets the caller put a transaction's events
 * as they arrive and take them back (lm_rec_writer_undo) when the
 * transaction is left out, so nothing is buffered twice.
 *
 * Index payload (little-endian): "LMIX" version u32 nframes u32, then per
 * frame: comp_off u64 comp_size u32 raw_off u64 raw_size u32 ts u32 pos u64
 * file_len u8 file gtid_len u8 gtid; then frame_size u32 "LMIX", so that
 * the last 8 bytes of the file locate the whole index frame. */
#include "record/record.h"

#include "livemig/buf.h"
#include "livemig/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

typedef struct frame_ent {
    uint64_t comp_off, raw_off;
    uint32_t comp_size, raw_size, ts;
    uint64_t pos;
    char file[256];
    char gtid[128];
} frame_ent;

struct lm_rec_writer {
    FILE *fp;
    char *path;
    ZSTD_CCtx *cctx;
    lm_rec_writer_opts o;
    uint64_t off;     /* compressed bytes in the file */
    uint64_t raw_off; /* uncompressed bytes in the closed frames */
    bool frame_open;
    double frame_t0;
    lm_buf frame; /* uncompressed bytes of the open frame */
    frame_ent *ents;
    size_t nents, cap;
    uint8_t *out;
    size_t outcap;
};

/* A frame's compressed bytes go out in one piece up to this size; beyond
 * (a huge transaction) zstd streams through a buffer this big. */
#define OUT_MAX ((size_t)16 << 20)

static const uint8_t binlog_magic[4] = {0xFE, 0x62, 0x69, 0x6E};

static void put_le(lm_buf *b, uint64_t v, unsigned n)
{
    uint8_t t[8];
    for (unsigned i = 0; i < n; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    lm_buf_append(b, t, n);
}

static bool plain(const lm_rec_writer *w)
{
    return w->o.level == LM_REC_LEVEL_PLAIN;
}

static int write_all(lm_rec_writer *w, const void *p, size_t n, lm_err *err)
{
    if (n && fwrite(p, 1, n, w->fp) != n)
        return lm_err_set(err, LM_EIO, "%s: write error at byte %llu: %s", w->path,
                          (unsigned long long)w->off, strerror(errno));
    w->off += n;
    return 0;
}

static int skippable(lm_rec_writer *w, uint32_t magic, const lm_buf *payload, lm_err *err)
{
    lm_buf f = LM_BUF_INIT;
    int rc;

    put_le(&f, magic, 4);
    put_le(&f, payload->len, 4);
    lm_buf_append(&f, payload->data, payload->len);
    rc = f.oom ? lm_err_set(err, LM_ENOMEM, "out of memory") : write_all(w, f.data, f.len, err);
    lm_buf_free(&f);
    return rc;
}

int lm_rec_writer_open(lm_rec_writer **out, const char *path, const lm_rec_writer_opts *opts,
                       lm_err *err)
{
    lm_rec_writer *w = calloc(1, sizeof(*w));
    lm_buf h = LM_BUF_INIT;
    int rc;

    *out = NULL;
    if (w == NULL || (w->path = strdup(path)) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto fail;
    }
    if (opts)
        w->o = *opts;
    if (w->o.level == 0)
        w->o.level = LM_REC_LEVEL_DEFAULT;
    if (w->o.frame_bytes == 0)
        w->o.frame_bytes = (size_t)4 << 20;
    w->fp = fopen(path, "wb");
    if (w->fp == NULL) {
        rc = lm_err_set(err, LM_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (plain(w)) {
        *out = w; /* a plain binlog file: no header, no frames, no index */
        return 0;
    }
    w->cctx = ZSTD_createCCtx();
    if (w->cctx == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto fail;
    }
    if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->o.level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1))) {
        rc = lm_err_set(err, LM_EINVAL, "invalid zstd level %d", w->o.level);
        goto fail;
    }
    lm_buf_printf(&h, "livemig-recording=1\nlivemig-version=%s\ncreated=%lld\n", LIVEMIG_VERSION,
                  (long long)time(NULL));
    if (w->o.header)
        lm_buf_puts(&h, w->o.header);
    rc = skippable(w, LM_REC_MAGIC_HEADER, &h, err);
    lm_buf_free(&h);
    if (rc < 0)
        goto fail;
    *out = w;
    return 0;
fail:
    lm_rec_writer_free(w);
    return rc;
}

int lm_rec_writer_put(lm_rec_writer *w, const uint8_t *data, size_t len, const lm_rec_mark *mark,
                      lm_err *err)
{
    if (!w->frame_open) {
        frame_ent *e;
        if (w->nents == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 64;
            frame_ent *n = realloc(w->ents, cap * sizeof(*n));
            if (n == NULL)
                return lm_err_set(err, LM_ENOMEM, "out of memory");
            w->ents = n;
            w->cap = cap;
        }
        e = &w->ents[w->nents++];
        memset(e, 0, sizeof(*e));
        e->comp_off = w->off;
        e->raw_off = w->raw_off;
        if (mark) {
            snprintf(e->file, sizeof(e->file), "%s", mark->file ? mark->file : "");
            snprintf(e->gtid, sizeof(e->gtid), "%s", mark->gtid ? mark->gtid : "");
            e->pos = mark->pos;
            e->ts = mark->ts;
        }
        w->frame_open = true;
        w->frame_t0 = lm_now();
        if (w->raw_off == 0)
            lm_buf_append(&w->frame, binlog_magic, 4);
    }
    if (lm_buf_append(&w->frame, data, len) < 0 || w->frame.oom)
        return lm_err_set(err, LM_ENOMEM, "out of memory buffering %zu bytes of binlog",
                          w->frame.len + len);
    return 0;
}

size_t lm_rec_writer_tell(const lm_rec_writer *w)
{
    return w->frame_open ? w->frame.len : 0;
}

void lm_rec_writer_undo(lm_rec_writer *w, size_t mark)
{
    if (!w->frame_open || mark >= w->frame.len)
        return;
    if (mark == 0) { /* the frame held nothing else: as if never opened */
        w->frame_open = false;
        w->nents--;
    }
    w->frame.len = mark;
    w->frame.data[mark] = '\0'; /* lm_buf's invariant */
}

/* Compress the open frame in one ZSTD_e_end pass: with room for the
 * whole result zstd compresses straight from frame into out. */
static int compress_frame(lm_rec_writer *w, lm_err *err)
{
    ZSTD_inBuffer in = {w->frame.data, w->frame.len, 0};
    size_t need = ZSTD_compressBound(w->frame.len), left;
    int rc;

    if (need > OUT_MAX)
        need = OUT_MAX;
    if (w->outcap < need) {
        uint8_t *o = realloc(w->out, need);
        if (o == NULL)
            return lm_err_set(err, LM_ENOMEM, "out of memory");
        w->out = o;
        w->outcap = need;
    }
    /* The size in the frame header lets zstd fit its tables to the frame
     * (small transactions) and tells readers what to expect. */
    if (ZSTD_isError(left = ZSTD_CCtx_setPledgedSrcSize(w->cctx, w->frame.len)))
        goto zerr;
    do {
        ZSTD_outBuffer o = {w->out, w->outcap, 0};
        left = ZSTD_compressStream2(w->cctx, &o, &in, ZSTD_e_end);
        if (ZSTD_isError(left))
            goto zerr;
        if ((rc = write_all(w, w->out, o.pos, err)) < 0)
            return rc;
    } while (left != 0);
    return 0;
zerr:
    ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
    return lm_err_set(err, LM_EIO, "%s: zstd: %s", w->path, ZSTD_getErrorName(left));
}

static int end_frame(lm_rec_writer *w, lm_err *err)
{
    frame_ent *e;
    int rc;

    if (!w->frame_open)
        return 0;
    e = &w->ents[w->nents - 1];
    rc = plain(w) ? write_all(w, w->frame.data, w->frame.len, err) : compress_frame(w, err);
    if (rc < 0)
        return rc;
    e->comp_size = (uint32_t)(w->off - e->comp_off);
    e->raw_size = (uint32_t)w->frame.len;
    w->raw_off += w->frame.len;
    w->frame_open = false;
    /* Keep the buffer of a usual frame; give back a huge transaction's. */
    if (w->frame.cap > 2 * w->o.frame_bytes + ((size_t)1 << 20))
        lm_buf_free(&w->frame);
    lm_buf_reset(&w->frame);
    /* A whole frame on disk survives a crash of this process. */
    if (fflush(w->fp) != 0)
        return lm_err_set(err, LM_EIO, "%s: %s", w->path, strerror(errno));
    return 0;
}

int lm_rec_writer_boundary(lm_rec_writer *w, bool force, lm_err *err)
{
    if (!w->frame_open)
        return 0;
    if (force || w->frame.len >= w->o.frame_bytes ||
        (w->o.frame_seconds > 0 && lm_now() - w->frame_t0 >= w->o.frame_seconds))
        return end_frame(w, err);
    return 0;
}

static int write_index(lm_rec_writer *w, lm_err *err)
{
    lm_buf p = LM_BUF_INIT;
    int rc;

    lm_buf_append(&p, "LMIX", 4);
    put_le(&p, 1, 4);
    put_le(&p, w->nents, 4);
    for (size_t i = 0; i < w->nents; i++) {
        const frame_ent *e = &w->ents[i];
        size_t fl = strlen(e->file), gl = strlen(e->gtid);
        put_le(&p, e->comp_off, 8);
        put_le(&p, e->comp_size, 4);
        put_le(&p, e->raw_off, 8);
        put_le(&p, e->raw_size, 4);
        put_le(&p, e->ts, 4);
        put_le(&p, e->pos, 8);
        put_le(&p, fl, 1);
        lm_buf_append(&p, e->file, fl);
        put_le(&p, gl, 1);
        lm_buf_append(&p, e->gtid, gl);
    }
    put_le(&p, p.len + 8 + 8, 4); /* the whole skippable frame */
    lm_buf_append(&p, "LMIX", 4);
    rc = p.oom ? lm_err_set(err, LM_ENOMEM, "out of memory")
               : skippable(w, LM_REC_MAGIC_INDEX, &p, err);
    lm_buf_free(&p);
    return rc;
}

int lm_rec_writer_close(lm_rec_writer *w, lm_err *err)
{
    int rc;

    if ((rc = end_frame(w, err)) < 0 || (!plain(w) && (rc = write_index(w, err)) < 0))
        goto cleanup;
    if (fflush(w->fp) != 0 || fsync(fileno(w->fp)) != 0) {
        rc = lm_err_set(err, LM_EIO, "%s: %s", w->path, strerror(errno));
        goto cleanup;
    }
    if (fclose(w->fp) != 0) {
        w->fp = NULL;
        rc = lm_err_set(err, LM_EIO, "%s: %s", w->path, strerror(errno));
        goto cleanup;
    }
    w->fp = NULL;
cleanup:
    lm_rec_writer_free(w);
    return rc;
}

void lm_rec_writer_free(lm_rec_writer *w)
{
    if (w == NULL)
        return;
    if (w->fp)
        fclose(w->fp);
    ZSTD_freeCCtx(w->cctx);
    free(w->out);
    lm_buf_free(&w->frame);
    free(w->ents);
    free(w->path);
    free(w);
}

void lm_rec_writer_sizes(const lm_rec_writer *w, uint64_t *compressed, uint64_t *raw)
{
    *compressed = w->off;
    *raw = w->raw_off + (w->frame_open ? w->frame.len : 0);
}
