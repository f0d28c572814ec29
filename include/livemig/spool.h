/* A spool: a local zstd-compressed file of length-prefixed records (each
 * with a 64-bit tag, e.g. the LSN a message was received at), written
 * once in order and then read back in the same order. The PostgreSQL
 * engine keeps the change stream here while the copy runs, so the stream
 * keeps flowing without piling up in memory. */
#ifndef LIVEMIG_SPOOL_H
#define LIVEMIG_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "livemig/err.h"

typedef struct lm_spool lm_spool;

/* Create (truncate) path for writing, mode 0600 (it holds row data). */
int lm_spool_create(lm_spool **out, const char *path, lm_err *err);
/* Append one record (len may be 0). */
int lm_spool_write(lm_spool *s, uint64_t tag, const void *data, size_t len, lm_err *err);
/* Finish writing (flush the zstd frame, fsync, close the file) and open
 * the same file for reading from its first record. */
int lm_spool_rewind(lm_spool *s, lm_err *err);
/* Next record: *data points into the spool's buffer, valid until the next
 * call. LM_EEOF after the last record (and on every call after);
 * LM_ECORRUPT on a damaged or truncated file, LM_EIO on a read error, and
 * the same code again on any call after a failure. */
int lm_spool_read(lm_spool *s, uint64_t *tag, const uint8_t **data, size_t *len, lm_err *err);
/* Records written, bytes before compression (records with their 16-byte
 * headers, and the end record) and after (the file's size). */
void lm_spool_stats(const lm_spool *s, uint64_t *records, uint64_t *raw_bytes,
                    uint64_t *file_bytes);
/* Close and remove the file. NULL is fine. */
void lm_spool_free(lm_spool *s);

#endif
