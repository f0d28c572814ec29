/* libFuzzer harness for the binlog decoder and the recording reader.
 *
 * Input byte 0 picks the target:
 *   even: the rest is a binlog file body (after the magic), cut into events
 *         by the header's event_size like lm_binlog_file_read, each event
 *         fed to two decoders; rows are formatted as JSON from the
 *         decoded values and by the JSON row writer, which must agree;
 *   odd:  the rest is a recording (or a raw binlog file) read through
 *         lm_rec_source from a memfd, each event decoded, rows written
 *         by the JSON row writer.
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
#include "binlog/rowjson.h"
#include "record/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The rows of the current event as dump writes them, through the
 * decoded rows and lm_row_json; rc and the message of the last call. */
static int rows_via_values(lm_binlog_decoder *d, const lm_binlog_event *e, lm_buf *out, lm_err *err)
{
    lm_row before, after;
    int rc;

    while ((rc = lm_binlog_rows_next(d, &before, &after, err)) == 1) {
        if (e->table && before.cols)
            lm_row_json(out, &before, e->table);
        else
            lm_buf_puts(out, "null");
        lm_buf_puts(out, ",\"after\":");
        if (e->table && after.cols)
            lm_row_json(out, &after, e->table);
        else
            lm_buf_puts(out, "null");
        lm_buf_putc(out, '\n');
    }
    return rc;
}

/* The same through the JSON row writer (binlog/rowjson.c). */
static int rows_via_json(lm_binlog_decoder *d, lm_buf *out, lm_err *err)
{
    int rc;

    while ((rc = lm_bl_rows_next_json(d, out, ",\"after\":", 9, err)) == 1)
        lm_buf_putc(out, '\n');
    return rc;
}

/* ev through decoder d (rows via values) and d2 (rows via the JSON
 * writer): the two must agree byte for byte, errors included. */
static void decode_one(lm_binlog_decoder *d, lm_binlog_decoder *d2, const uint8_t *ev, size_t len,
                       lm_buf *out, lm_buf *out2)
{
    lm_binlog_event e, e2;
    lm_err err = LM_ERR_INIT, err2 = LM_ERR_INIT;
    int rc, rc2, r1, r2;

    rc = lm_binlog_feed(d, ev, len, &err);
    rc2 = lm_binlog_feed(d2, ev, len, &err2);
    if (rc != rc2)
        abort();
    if (rc < 0)
        return;
    for (;;) {
        rc = lm_binlog_next(d, &e, &err);
        rc2 = lm_binlog_next(d2, &e2, &err2);
        if (rc != rc2)
            abort();
        if (rc != 1)
            break;
        if (!e.row_op)
            continue;
        lm_buf_reset(out);
        lm_buf_reset(out2);
        r1 = rows_via_values(d, &e, out, &err);
        r2 = rows_via_json(d2, out2, &err2);
        /* Out of memory (a huge value) may hit one path only. */
        if (out->oom || out2->oom || r1 == LM_ENOMEM || r2 == LM_ENOMEM)
            continue;
        /* The JSON writer leaves a failed row's part in out2: compare
         * the whole rows only. */
        if (r1 != r2 || (r1 < 0 && strcmp(err.msg, err2.msg) != 0))
            abort();
        if (r1 < 0) {
            char *nl = out2->len ? memrchr(out2->data, '\n', out2->len) : NULL;
            out2->len = nl ? (size_t)(nl - out2->data) + 1 : 0;
        }
        if (out->len != out2->len || (out->len && memcmp(out->data, out2->data, out->len) != 0))
            abort();
    }
    /* After an error the decoder may hold unconsumed input: drain it. */
    if (rc < 0) {
        while (lm_binlog_next(d, &e, &err) == 1)
            ;
        while (lm_binlog_next(d2, &e2, &err2) == 1)
            ;
    }
}

/* ev through d alone, rows through the JSON writer (the recording
 * reader's inputs). */
static void decode_single(lm_binlog_decoder *d, const uint8_t *ev, size_t len, lm_buf *out)
{
    lm_binlog_event e;
    lm_err err = LM_ERR_INIT;
    int rc;

    if (lm_binlog_feed(d, ev, len, &err) < 0)
        return;
    while ((rc = lm_binlog_next(d, &e, &err)) == 1) {
        if (e.row_op)
            (void)rows_via_json(d, out, &err);
        lm_buf_reset(out);
    }
    if (rc < 0)
        while (lm_binlog_next(d, &e, &err) == 1)
            ;
}

static void fuzz_events(const uint8_t *p, size_t n)
{
    lm_binlog_decoder *d = NULL, *d2 = NULL;
    lm_err err = LM_ERR_INIT;
    lm_buf out = LM_BUF_INIT, out2 = LM_BUF_INIT;
    size_t off = 0;

    if (lm_binlog_decoder_new(&d, &err) < 0 || lm_binlog_decoder_new(&d2, &err) < 0)
        goto cleanup;
    lm_binlog_decoder_set_file(d, "fuzz.000001", 4);
    lm_binlog_decoder_set_file(d2, "fuzz.000001", 4);
    /* Half of the inputs skip CRC checks so that bodies get decoded. */
    lm_binlog_decoder_verify_checksum(d, n > 0 && (p[0] & 1));
    lm_binlog_decoder_verify_checksum(d2, n > 0 && (p[0] & 1));
    while (n - off >= LM_BINLOG_HEADER_LEN) {
        size_t size = (size_t)p[off + 9] | (size_t)p[off + 10] << 8 | (size_t)p[off + 11] << 16 |
                      (size_t)p[off + 12] << 24;
        if (size < LM_BINLOG_HEADER_LEN || size > n - off)
            break;
        decode_one(d, d2, p + off, size, &out, &out2);
        off += size;
    }
cleanup:
    lm_buf_free(&out);
    lm_buf_free(&out2);
    lm_binlog_decoder_free(d);
    lm_binlog_decoder_free(d2);
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
        decode_single(d, ev, len, &out);
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
