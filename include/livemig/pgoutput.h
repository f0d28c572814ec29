/* PostgreSQL's logical replication wire format: the CopyBoth frames of a
 * walsender ('w' XLogData, 'k' keepalive, 'r' standby status) and the
 * pgoutput messages (protocol version 1) inside XLogData. Pure: no
 * connection, every read bounds-checked; parsed messages point into the
 * caller's buffer. */
#ifndef LIVEMIG_PGOUTPUT_H
#define LIVEMIG_PGOUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "livemig/err.h"

typedef uint64_t lm_lsn;

/* PostgreSQL's epoch (2000-01-01) in Unix seconds. */
#define LM_PG_EPOCH_OFFSET 946684800LL

/* "X/Y" text of an LSN into buf (at least 24 bytes). */
void lm_lsn_format(lm_lsn lsn, char *buf, size_t cap);
/* Parse "X/Y" (hex halves); -1 on bad text. */
int lm_lsn_parse(const char *text, lm_lsn *out);

/* ---- CopyBoth frames from the walsender ---- */
typedef enum {
    LM_PGF_XLOGDATA = 'w',
    LM_PGF_KEEPALIVE = 'k',
    LM_PGF_OTHER = 0, /* unknown types are skipped, as newer servers add some */
} lm_pgf_kind;

typedef struct lm_pgf {
    lm_pgf_kind kind;
    lm_lsn wal_start;     /* 'w': where the payload's record starts */
    lm_lsn wal_end;       /* 'w' and 'k': the server's end of WAL */
    int64_t send_time;    /* µs since 2000-01-01 */
    bool reply_requested; /* 'k' */
    const uint8_t *data;  /* 'w': the pgoutput message; other: the whole frame */
    size_t len;
} lm_pgf;

/* Split one frame as returned by PQgetCopyData. LM_ECORRUPT if empty or
 * shorter than its type's fixed part; a longer keepalive is accepted. */
int lm_pgf_parse(const uint8_t *buf, size_t len, lm_pgf *out, lm_err *err);

/* The 34-byte standby status update ('r'): written, flushed and applied
 * positions, the client's clock (µs since 2000-01-01), reply request. */
#define LM_PG_STATUS_LEN 34
void lm_pgf_status(uint8_t out[LM_PG_STATUS_LEN], lm_lsn written, lm_lsn flushed, lm_lsn applied,
                   int64_t now_us, bool reply);

/* ---- pgoutput messages (proto_version 1, no streaming) ---- */

/* One column of a TupleData: 'n' NULL, 'u' unchanged TOAST (no value),
 * 't' text (len bytes at data, not NUL-terminated), 'b' binary. 'n' and
 * 'u' have len 0 and data NULL. */
typedef struct lm_pgo_col {
    char kind;
    uint32_t len;
    const uint8_t *data;
} lm_pgo_col;

typedef struct lm_pgo_tuple {
    uint16_t ncols;
    lm_pgo_col *cols; /* owned by the message (see lm_pgo_msg_clear) */
} lm_pgo_tuple;

typedef struct lm_pgo_relcol {
    bool key;         /* flags & 1: part of the replica identity */
    const char *name; /* into the buffer, NUL-terminated */
    uint32_t type_oid;
    int32_t typmod;
} lm_pgo_relcol;

typedef struct lm_pgo_msg {
    char type; /* 'B','C','O','R','Y','I','U','D','T','M' */
    /* B */
    lm_lsn final_lsn;
    int64_t commit_time; /* B and C: µs since 2000-01-01 */
    uint32_t xid;
    /* C (and M: the raw flags byte) */
    uint8_t flags;
    lm_lsn commit_lsn;
    lm_lsn end_lsn;
    /* O */
    lm_lsn origin_lsn;
    const char *origin;
    /* R and Y (and the relation of I/U/D) */
    uint32_t rel_oid; /* Y: the type's OID */
    const char *nspname;
    const char *relname; /* Y: the type's name */
    char replident;      /* 'd','n','f','i' */
    uint16_t nrelcols;
    lm_pgo_relcol *relcols; /* owned */
    /* I, U, D: old is the 'K' (key) or 'O' (old row) tuple, old_kind says
     * which ('\0' when absent); new is the 'N' tuple (I and U). */
    char old_kind;
    lm_pgo_tuple old_tuple;
    lm_pgo_tuple new_tuple;
    /* T */
    uint32_t nrels;
    uint8_t truncate_flags;
    uint32_t *rel_oids; /* owned */
    /* M */
    bool transactional;
    lm_lsn msg_lsn;
    const char *prefix;
    uint32_t content_len;
    const uint8_t *content;
} lm_pgo_msg;

/* Parse one pgoutput message (the payload of a 'w' frame) into out, which
 * must have been zeroed or cleared. Unknown message types, any read past
 * the end and bytes after the end are LM_ECORRUPT with the type and offset
 * in the message. Strings must be NUL-terminated inside the buffer. On
 * error out is left cleared (nothing to free). */
int lm_pgo_parse(const uint8_t *buf, size_t len, lm_pgo_msg *out, lm_err *err);
/* Free what a parse allocated; the message can be parsed into again. */
void lm_pgo_msg_clear(lm_pgo_msg *m);

#endif
