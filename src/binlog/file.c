/* Raw binlog files: magic, then events framed by the 19-byte header's
 * event_size. A torn last event is an error naming the file and offset. */
#include "binlog/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lm_binlog_file {
    FILE *fp;
    char *path;
    uint64_t off; /* offset of the next event */
    uint8_t *buf;
    size_t cap;
};

static const uint8_t magic[4] = {0xFE, 0x62, 0x69, 0x6E};

/* Events larger than this (max_allowed_packet is at most 1 GiB) mean the
 * framing is lost. */
#define MAX_EVENT ((size_t)1 << 30)

int lm_binlog_file_open(lm_binlog_file **out, const char *path, lm_err *err)
{
    lm_binlog_file *f = calloc(1, sizeof(*f));
    uint8_t m[4];
    size_t n;
    int rc;

    *out = NULL;
    if (f == NULL || (f->path = strdup(path)) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto fail;
    }
    f->fp = fopen(path, "rb");
    if (f->fp == NULL) {
        rc = lm_err_set(err, LM_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    n = fread(m, 1, 4, f->fp);
    if (n != 4 || memcmp(m, magic, 4) != 0) {
        rc = lm_err_set(err, LM_ECORRUPT, "%s: not a binlog file (bad magic)", path);
        goto fail;
    }
    f->off = 4;
    *out = f;
    return 0;
fail:
    lm_binlog_file_close(f);
    return rc;
}

int lm_binlog_file_read(lm_binlog_file *f, const uint8_t **data, size_t *len, lm_err *err)
{
    uint8_t hdr[LM_BINLOG_HEADER_LEN];
    size_t n, size;

    n = fread(hdr, 1, sizeof(hdr), f->fp);
    if (n == 0 && feof(f->fp))
        return 0;
    if (ferror(f->fp))
        return lm_err_set(err, LM_EIO, "%s: read error at byte %llu: %s", f->path,
                          (unsigned long long)f->off, strerror(errno));
    if (n < sizeof(hdr))
        return lm_err_set(err, LM_ECORRUPT, "%s: truncated event at byte %llu", f->path,
                          (unsigned long long)f->off);
    size = (size_t)lm_bl_le(hdr + 9, 4);
    if (size < LM_BINLOG_HEADER_LEN || size > MAX_EVENT)
        return lm_err_set(err, LM_ECORRUPT, "%s: bad event size %zu at byte %llu", f->path, size,
                          (unsigned long long)f->off);
    if (size > f->cap) {
        uint8_t *b = realloc(f->buf, size);
        if (b == NULL)
            return lm_err_set(err, LM_ENOMEM, "out of memory");
        f->buf = b;
        f->cap = size;
    }
    memcpy(f->buf, hdr, sizeof(hdr));
    n = fread(f->buf + sizeof(hdr), 1, size - sizeof(hdr), f->fp);
    if (n < size - sizeof(hdr)) {
        if (ferror(f->fp))
            return lm_err_set(err, LM_EIO, "%s: read error at byte %llu: %s", f->path,
                              (unsigned long long)f->off, strerror(errno));
        return lm_err_set(err, LM_ECORRUPT, "%s: truncated event at byte %llu", f->path,
                          (unsigned long long)f->off);
    }
    f->off += size;
    *data = f->buf;
    *len = size;
    return 1;
}

void lm_binlog_file_close(lm_binlog_file *f)
{
    if (f == NULL)
        return;
    if (f->fp)
        fclose(f->fp);
    free(f->path);
    free(f->buf);
    free(f);
}
