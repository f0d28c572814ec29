/* Raw binlog files: magic, then events framed by the 19-byte header's
 * event_size. A torn last event is an error naming the file and offset.
 *
 * The file is read in large blocks with read(2) and events are handed out
 * in place: stdio's 4 KiB reads plus a copy per event cost a sixth of a
 * JSON dump. An event is valid until the next read. */
#include "binlog/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct lm_binlog_file {
    int fd;
    char *path;
    uint64_t off; /* offset of the next event */
    uint8_t *buf; /* [pos, fill) read but not handed out */
    size_t cap, pos, fill;
    bool eof;
};

static const uint8_t magic[4] = {0xFE, 0x62, 0x69, 0x6E};

/* Events larger than this (max_allowed_packet is at most 1 GiB) mean the
 * framing is lost. */
#define MAX_EVENT ((size_t)1 << 30)

/* Large enough that read(2) costs little per byte, small enough that
 * the block is still in cache when its events are decoded. */
#define BLOCK ((size_t)1 << 18)

/* Keeps at least need bytes from buf[pos] buffered when the file has
 * them, moving the unread rest to the front and growing the buffer for a
 * large event. -1 with errno on a read error. */
static int fill(lm_binlog_file *f, size_t need)
{
    size_t keep = f->fill - f->pos;
    ssize_t n;

    if (keep >= need || f->eof)
        return 0;
    if (need > f->cap) {
        size_t cap = need > BLOCK ? need : BLOCK;
        uint8_t *b = malloc(cap);
        if (b == NULL) {
            errno = ENOMEM;
            return -1;
        }
        if (keep)
            memcpy(b, f->buf + f->pos, keep);
        free(f->buf);
        f->buf = b;
        f->cap = cap;
    } else if (f->pos) {
        memmove(f->buf, f->buf + f->pos, keep);
    }
    f->pos = 0;
    f->fill = keep;
    while (f->fill < need) {
        n = read(f->fd, f->buf + f->fill, f->cap - f->fill);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            f->eof = true;
            break;
        }
        f->fill += (size_t)n;
    }
    return 0;
}

int lm_binlog_file_open(lm_binlog_file **out, const char *path, lm_err *err)
{
    lm_binlog_file *f = calloc(1, sizeof(*f));
    int rc;

    *out = NULL;
    if (f == NULL || (f->path = strdup(path)) == NULL) {
        free(f);
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    }
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        rc = lm_err_set(err, LM_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (fill(f, 4) < 0) {
        rc = lm_err_set(err, errno == ENOMEM ? LM_ENOMEM : LM_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (f->fill < 4 || memcmp(f->buf, magic, 4) != 0) {
        rc = lm_err_set(err, LM_ECORRUPT, "%s: not a binlog file (bad magic)", path);
        goto fail;
    }
    f->pos = 4;
    f->off = 4;
    *out = f;
    return 0;
fail:
    lm_binlog_file_close(f);
    return rc;
}

static int read_error(lm_binlog_file *f, lm_err *err)
{
    if (errno == ENOMEM)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    return lm_err_set(err, LM_EIO, "%s: read error at byte %llu: %s", f->path,
                      (unsigned long long)f->off, strerror(errno));
}

int lm_binlog_file_read(lm_binlog_file *f, const uint8_t **data, size_t *len, lm_err *err)
{
    size_t size;

    if (fill(f, LM_BINLOG_HEADER_LEN) < 0)
        return read_error(f, err);
    if (f->fill == f->pos)
        return 0;
    if (f->fill - f->pos < LM_BINLOG_HEADER_LEN)
        return lm_err_set(err, LM_ECORRUPT, "%s: truncated event at byte %llu", f->path,
                          (unsigned long long)f->off);
    size = (size_t)lm_bl_le(f->buf + f->pos + 9, 4);
    if (size < LM_BINLOG_HEADER_LEN || size > MAX_EVENT)
        return lm_err_set(err, LM_ECORRUPT, "%s: bad event size %zu at byte %llu", f->path, size,
                          (unsigned long long)f->off);
    if (fill(f, size) < 0)
        return read_error(f, err);
    if (f->fill - f->pos < size)
        return lm_err_set(err, LM_ECORRUPT, "%s: truncated event at byte %llu", f->path,
                          (unsigned long long)f->off);
    *data = f->buf + f->pos;
    *len = size;
    f->pos += size;
    f->off += size;
    return 1;
}

void lm_binlog_file_close(lm_binlog_file *f)
{
    if (f == NULL)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f->path);
    free(f->buf);
    free(f);
}
