/* Recordings (DESIGN.md "Recordings"): a valid binlog file (magic,
 * FORMAT_DESCRIPTION, events with their CRC32) compressed as independent,
 * checksummed zstd frames, each closed on a transaction boundary, with a
 * header and an index in skippable frames. `zstd -dc` yields the binlog.
 *
 * Layout of FILE.binlog.zst:
 *   skippable frame 0x184D2A50: header, text lines "key=value"
 *   zstd frame: "\xfebin" FDE events…   (closed after a transaction)
 *   zstd frame: events…                 (closed after a transaction)
 *   …
 *   skippable frame 0x184D2A51: index (see writer.c), ends "…size u32 LMIX" */
#ifndef LIVEMIG_RECORD_H
#define LIVEMIG_RECORD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "livemig/binlog.h"
#include "livemig/err.h"

#define LM_REC_MAGIC_HEADER 0x184D2A50u
#define LM_REC_MAGIC_INDEX  0x184D2A51u

/* ---- txn.c: transaction boundaries on raw events (pure) ---- */

typedef struct lm_rec_txn {
    int state; /* private */
} lm_rec_txn;

/* Feed one raw event; returns true when the stream is at a transaction
 * boundary after it (the event closed a transaction, or it stands outside
 * any transaction: FDE, ROTATE, GTID_LIST, DDL, …). */
bool lm_rec_txn_step(lm_rec_txn *t, const uint8_t *ev, size_t len);
/* True while a transaction is open (after its GTID/BEGIN, before its end). */
bool lm_rec_txn_open(const lm_rec_txn *t);
/* db and table named by a raw TABLE_MAP event; 0 or -1 when malformed. */
int lm_rec_tablemap_name(const uint8_t *ev, size_t len, char *db, size_t dbcap, char *tbl,
                         size_t tblcap);

/* ---- writer.c ---- */

typedef struct lm_rec_writer lm_rec_writer;

/* zstd level when none is given. Level 1 compressed the bench table 3.29x
 * and the tests' workload binlog 2.94x; -1 took ~16% less zstd CPU but
 * gave 2.38x on the workload (the target is 2.5), a hashLog of 12 cost the
 * workload 10% of its ratio, level 3 about twice the CPU for 3.29x/3.82x. */
#define LM_REC_LEVEL_DEFAULT 1
/* Not a zstd level: no zstd, header or index, the plain binlog (the
 * bench's baseline for what streaming alone costs). */
#define LM_REC_LEVEL_PLAIN INT_MIN

typedef struct lm_rec_writer_opts {
    int level;            /* zstd level, <0 = fast levels, 0 = default, or _PLAIN */
    size_t frame_bytes;   /* close a frame at a boundary once this big (default 4 MiB) */
    double frame_seconds; /* … or this old (default 1 s; 0 = no age limit) */
    const char *header;   /* extra header lines "key=value\n…", or NULL */
} lm_rec_writer_opts;

/* Where the next bytes come from, for the index. */
typedef struct lm_rec_mark {
    const char *file; /* source binlog file */
    uint64_t pos;     /* start position of the first event */
    uint32_t ts;      /* its timestamp */
    const char *gtid; /* last GTID before it, or NULL */
} lm_rec_mark;

int lm_rec_writer_open(lm_rec_writer **out, const char *path, const lm_rec_writer_opts *opts,
                       lm_err *err);
/* Append raw binlog bytes (whole events; the "\xfebin" magic is written
 * first automatically). mark describes the first event of the bytes. */
int lm_rec_writer_put(lm_rec_writer *w, const uint8_t *data, size_t len, const lm_rec_mark *mark,
                      lm_err *err);
/* A point in the open frame to come back to: before a transaction whose
 * events are put as they arrive. */
size_t lm_rec_writer_tell(const lm_rec_writer *w);
/* Take back what was put since tell returned mark (a transaction left
 * out, or still open at the stop). Nothing has reached the file yet. */
void lm_rec_writer_undo(lm_rec_writer *w, size_t mark);
/* The stream is at a transaction boundary: close the frame when it is big
 * or old enough (or when force). */
int lm_rec_writer_boundary(lm_rec_writer *w, bool force, lm_err *err);
/* Close the last frame, write the index, fsync, close. Frees w. */
int lm_rec_writer_close(lm_rec_writer *w, lm_err *err);
/* Free without the index (the file stays readable up to its last frame). */
void lm_rec_writer_free(lm_rec_writer *w);
/* Bytes written so far (compressed) and fed (uncompressed). */
void lm_rec_writer_sizes(const lm_rec_writer *w, uint64_t *compressed, uint64_t *raw);

/* ---- reader.c ---- */

/* Events of a raw binlog file or a recording, told apart by magic. */
typedef struct lm_rec_source lm_rec_source;

int lm_rec_source_open(lm_rec_source **out, const char *path, lm_err *err);
/* Next raw event: 1 = event, 0 = end, <0 = error naming the file and byte
 * offset (for a recording: of the torn or corrupt frame, after every whole
 * transaction before it was returned). */
int lm_rec_source_read(lm_rec_source *s, const uint8_t **data, size_t *len, lm_err *err);
/* The binlog file name events start in: the recording's header, or the
 * base name of a raw file. */
const char *lm_rec_source_file(const lm_rec_source *s);
uint64_t lm_rec_source_pos(const lm_rec_source *s);
bool lm_rec_source_is_recording(const lm_rec_source *s);
void lm_rec_source_close(lm_rec_source *s);

/* True when the 4 bytes are a zstd frame or skippable frame magic. */
bool lm_rec_is_zstd_magic(const uint8_t *m);

/* ---- table filters (filter.c) ---- */

/* A list "db.t,db2.*,t" (a bare name matches any db). */
typedef struct lm_rec_filter {
    size_t n;
    char **db; /* NULL = any */
    char **tbl;
} lm_rec_filter;

int lm_rec_filter_parse(lm_rec_filter *f, const char *list, lm_err *err);
/* True when the filter is empty or matches. */
bool lm_rec_filter_match(const lm_rec_filter *f, const char *db, const char *tbl);
void lm_rec_filter_free(lm_rec_filter *f);
/* "FILE:POS" */
int lm_rec_parse_pos(const char *s, lm_binlog_pos *out, lm_err *err);

/* ---- commands ---- */
int lm_record_main(int argc, char **argv);
int lm_replay_main(int argc, char **argv);

#endif
