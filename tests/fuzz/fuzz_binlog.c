/* libFuzzer harness for the binlog decoder and the recording reader.
 *
 * Input byte 0 picks the target:
 *   even: the rest is a binlog file body (after the magic), cut into events
 *         by the header's event_size like lm_binlog_file_read, each event
 *         fed to the decoder; rows are decoded and formatted as JSON;
 *   odd:  the rest is a recording (or a raw binlog file) read through
 *         lm_rec_source from a memfd, each event decoded the same way.
 * Nothing may crash, hang, leak or read out of bounds (ASan/UBSan).
 * Build and run: tests/fuzz/run.sh (see there). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "livemig/binlog.h"
#include "livemig/buf.h"
#include "record/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_one(lm_binlog_decoder *d, const uint8_t *ev, size_t len, lm_buf *out)
{
    lm_binlog_event e;
    lm_err err = LM_ERR_INIT;
    lm_row before, after;
    int rc;

    if (lm_binlog_feed(d, ev, len, &err) < 0)
        return;
    while ((rc = lm_binlog_next(d, &e, &err)) == 1) {
        if (!e.row_op)
            continue;
        while (lm_binlog_rows_next(d, &before, &after, &err) == 1) {
            if (e.table && before.cols)
                lm_row_json(out, &before, e.table);
            if (e.table && after.cols)
                lm_row_json(out, &after, e.table);
            lm_buf_reset(out);
        }
    }
    /* After an error the decoder may hold unconsumed input: drain it. */
    if (rc < 0)
        while (lm_binlog_next(d, &e, &err) == 1)
            ;
}

static void fuzz_events(const uint8_t *p, size_t n)
{
    lm_binlog_decoder *d;
    lm_err err = LM_ERR_INIT;
    lm_buf out = LM_BUF_INIT;
    size_t off = 0;

    if (lm_binlog_decoder_new(&d, &err) < 0)
        return;
    lm_binlog_decoder_set_file(d, "fuzz.000001", 4);
    /* Half of the inputs skip CRC checks so that bodies get decoded. */
    lm_binlog_decoder_verify_checksum(d, n > 0 && (p[0] & 1));
    while (n - off >= LM_BINLOG_HEADER_LEN) {
        size_t size = (size_t)p[off + 9] | (size_t)p[off + 10] << 8 | (size_t)p[off + 11] << 16 |
                      (size_t)p[off + 12] << 24;
        if (size < LM_BINLOG_HEADER_LEN || size > n - off)
            break;
        decode_one(d, p + off, size, &out);
        off += size;
    }
    lm_buf_free(&out);
    lm_binlog_decoder_free(d);
}

static void fuzz_source(const uint8_t *p, size_t n)
{
    char path[64];
    lm_rec_source *s = NULL;
    lm_binlog_decoder *d = NULL;
    lm_err err = LM_ERR_INIT;
    lm_buf out = LM_BUF_INIT;
    const uint8_t *ev;
    size_t len;
    int fd = memfd_create("fuzz", 0);

    if (fd < 0)
        return;
    if (write(fd, p, n) != (ssize_t)n)
        goto cleanup;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (lm_rec_source_open(&s, path, &err) < 0 || lm_binlog_decoder_new(&d, &err) < 0)
        goto cleanup;
    lm_binlog_decoder_verify_checksum(d, false);
    lm_binlog_decoder_set_file(d, lm_rec_source_file(s), lm_rec_source_pos(s));
    while (lm_rec_source_read(s, &ev, &len, &err) == 1)
        decode_one(d, ev, len, &out);
cleanup:
    lm_buf_free(&out);
    lm_binlog_decoder_free(d);
    lm_rec_source_close(s);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        fuzz_source(data + 1, size - 1);
    else
        fuzz_events(data + 1, size - 1);
    return 0;
}
