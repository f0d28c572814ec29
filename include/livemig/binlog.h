/* livemig's own binlog decoder. Pure: it turns raw event bytes (from a
 * file, a recording or the network) into decoded events; it knows no
 * connection. Connector/C's parser is not used (research/binlog.md §1). */
#ifndef LIVEMIG_BINLOG_H
#define LIVEMIG_BINLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "livemig/err.h"

enum lm_binlog_type {
    LM_BL_UNKNOWN = 0,
    LM_BL_QUERY = 2,
    LM_BL_STOP = 3,
    LM_BL_ROTATE = 4,
    LM_BL_FORMAT_DESCRIPTION = 15,
    LM_BL_XID = 16,
    LM_BL_TABLE_MAP = 19,
    LM_BL_WRITE_ROWS_V1 = 23,
    LM_BL_UPDATE_ROWS_V1 = 24,
    LM_BL_DELETE_ROWS_V1 = 25,
    LM_BL_HEARTBEAT = 27,
    LM_BL_WRITE_ROWS_V2 = 30,
    LM_BL_UPDATE_ROWS_V2 = 31,
    LM_BL_DELETE_ROWS_V2 = 32,
    LM_BL_GTID_MYSQL = 33,
    LM_BL_ANONYMOUS_GTID = 34,
    LM_BL_PREVIOUS_GTIDS = 35,
    LM_BL_PARTIAL_UPDATE_ROWS = 39,
    LM_BL_TRANSACTION_PAYLOAD = 40,
    LM_BL_HEARTBEAT_V2 = 41,
    LM_BL_ANNOTATE_ROWS = 160,
    LM_BL_BINLOG_CHECKPOINT = 161,
    LM_BL_GTID_MARIADB = 162,
    LM_BL_GTID_LIST = 163,
    LM_BL_START_ENCRYPTION = 164,
    LM_BL_QUERY_COMPRESSED = 165,
    LM_BL_WRITE_ROWS_COMPRESSED_V1 = 166,
    LM_BL_UPDATE_ROWS_COMPRESSED_V1 = 167,
    LM_BL_DELETE_ROWS_COMPRESSED_V1 = 168,
};

/* Column types as they appear in TABLE_MAP. */
enum lm_mysql_type {
    LM_T_DECIMAL = 0,
    LM_T_TINY = 1,
    LM_T_SHORT = 2,
    LM_T_LONG = 3,
    LM_T_FLOAT = 4,
    LM_T_DOUBLE = 5,
    LM_T_NULL = 6,
    LM_T_TIMESTAMP = 7,
    LM_T_LONGLONG = 8,
    LM_T_INT24 = 9,
    LM_T_DATE = 10,
    LM_T_TIME = 11,
    LM_T_DATETIME = 12,
    LM_T_YEAR = 13,
    LM_T_NEWDATE = 14,
    LM_T_VARCHAR = 15,
    LM_T_BIT = 16,
    LM_T_TIMESTAMP2 = 17,
    LM_T_DATETIME2 = 18,
    LM_T_TIME2 = 19,
    LM_T_JSON = 245,
    LM_T_NEWDECIMAL = 246,
    LM_T_ENUM = 247,
    LM_T_SET = 248,
    LM_T_TINY_BLOB = 249,
    LM_T_MEDIUM_BLOB = 250,
    LM_T_LONG_BLOB = 251,
    LM_T_BLOB = 252,
    LM_T_VAR_STRING = 253,
    LM_T_STRING = 254,
    LM_T_GEOMETRY = 255,
};

typedef struct lm_binlog_header {
    uint32_t timestamp;
    uint8_t type;
    uint32_t server_id;
    uint32_t event_size; /* header + body + checksum */
    uint32_t log_pos;    /* end position; 0 for artificial/inner events */
    uint16_t flags;
} lm_binlog_header;

#define LM_BINLOG_HEADER_LEN      19
#define LM_BINLOG_FLAG_ARTIFICIAL 0x0020

typedef struct lm_binlog_pos {
    char file[256];
    uint64_t pos;
} lm_binlog_pos;

/* True for WRITE/UPDATE/DELETE rows events of every version and flavour. */
bool lm_binlog_type_is_rows(uint8_t type);

/* <0, 0, >0 like strcmp: files compare by their numeric suffix. */
int lm_binlog_pos_cmp(const lm_binlog_pos *a, const lm_binlog_pos *b);

typedef enum lm_value_kind {
    LM_VAL_ABSENT = 0, /* column not in this image (partial row image) */
    LM_VAL_NULL,
    LM_VAL_INT,       /* i = sign-extended, u = zero-extended raw bits of the width */
    LM_VAL_UINT,      /* signedness metadata said unsigned; i and u as above */
    LM_VAL_FLOAT,     /* d */
    LM_VAL_DOUBLE,    /* d */
    LM_VAL_DECIMAL,   /* str/len: server text form, e.g. "-12.340" */
    LM_VAL_STRING,    /* str/len: raw bytes in the column charset (CHAR/VARCHAR/TEXT*) */
    LM_VAL_BLOB,      /* str/len: raw bytes (BLOB family, BINARY; TEXT when charset unknown) */
    LM_VAL_DATE,      /* str: "YYYY-MM-DD" */
    LM_VAL_TIME,      /* str: "[-]HH:MM:SS[.ffffff]" */
    LM_VAL_DATETIME,  /* str: "YYYY-MM-DD HH:MM:SS[.ffffff]" */
    LM_VAL_TIMESTAMP, /* str: UTC "YYYY-MM-DD HH:MM:SS[.ffffff]"; i = epoch seconds, u = usec */
    LM_VAL_YEAR,      /* i: 0 or 1901..2155 */
    LM_VAL_BIT,       /* u: value; str/len: raw big-endian bytes */
    LM_VAL_ENUM,      /* u: 1-based index (0 = ''); str: member name when known, else NULL */
    LM_VAL_SET,       /* u: bitmask; str: comma list of member names when known, else NULL */
    LM_VAL_JSON,      /* str/len: JSON text (MySQL binary JSON converted) */
    LM_VAL_GEOMETRY,  /* str/len: 4-byte SRID + WKB */
} lm_value_kind;

typedef struct lm_value {
    lm_value_kind kind;
    uint8_t type;     /* lm_mysql_type of the column */
    uint16_t charset; /* collation id when known (optional metadata), else 0 */
    int64_t i;
    uint64_t u;
    double d;
    const char *str; /* not NUL-terminated in general; use len */
    size_t len;
} lm_value;

typedef struct lm_row {
    unsigned ncols;
    lm_value *cols; /* ncols entries, index = column ordinal in the table */
} lm_row;

typedef struct lm_table_map {
    uint64_t table_id;
    char db[193];
    char table[193];
    unsigned ncols;
    uint8_t *types;    /* ncols */
    uint16_t *meta;    /* ncols, decoded per-type metadata */
    uint8_t *nullable; /* ncols, 0/1 */
    /* Optional metadata (binlog_row_metadata=MINIMAL/FULL); NULL when absent. */
    int8_t *is_unsigned; /* ncols: 1 unsigned, 0 signed, -1 not numeric/unknown */
    uint16_t *charsets;  /* ncols: collation id or 0 */
    char **names;        /* ncols column names */
    char ***enum_names;  /* per column: NULL or member names */
    unsigned *enum_counts;
    char ***set_names;
    unsigned *set_counts;
} lm_table_map;

typedef enum lm_row_op { LM_ROW_INSERT = 1, LM_ROW_UPDATE, LM_ROW_DELETE } lm_row_op;

typedef struct lm_binlog_event {
    lm_binlog_header hdr;
    lm_binlog_pos at;  /* file and start position of this event (inner events: the payload's) */
    uint64_t next_pos; /* end position (from log_pos, else computed) */
    /* Filled according to hdr.type: */
    lm_binlog_pos rotate;      /* ROTATE: next file and position */
    bool rotate_fake;          /* ROTATE with ts == 0 / artificial */
    const char *query_db;      /* QUERY: default database (NUL-terminated, decoder-owned) */
    const char *query;         /* QUERY / ANNOTATE_ROWS text (NUL-terminated, decoder-owned) */
    char gtid[128];            /* GTID (MariaDB "d-s-n", MySQL "uuid:n"), empty if none */
    uint64_t xid;              /* XID */
    const lm_table_map *table; /* TABLE_MAP and ROWS events */
    lm_row_op row_op;          /* ROWS events */
    char server_version[51];   /* FORMAT_DESCRIPTION */
} lm_binlog_event;

typedef struct lm_binlog_decoder lm_binlog_decoder;

int lm_binlog_decoder_new(lm_binlog_decoder **out, lm_err *err);
void lm_binlog_decoder_free(lm_binlog_decoder *d);
/* The file name events come from (set from ROTATE automatically for streams). */
void lm_binlog_decoder_set_file(lm_binlog_decoder *d, const char *file, uint64_t pos);
/* Verify CRC32 of each event when the FDE announces it (default on). */
void lm_binlog_decoder_verify_checksum(lm_binlog_decoder *d, bool on);

/* Hand one raw event (19-byte header + body + checksum, exactly as in the
 * file or after the network OK byte) to the decoder. The bytes must stay
 * valid until the events decoded from them have been consumed. */
int lm_binlog_feed(lm_binlog_decoder *d, const uint8_t *data, size_t len, lm_err *err);
/* Next decoded event from what was fed: 1 = event filled, 0 = need more
 * input, <0 = error. A TRANSACTION_PAYLOAD yields its inner events. The
 * event and everything it points to stay valid until the next call. */
int lm_binlog_next(lm_binlog_decoder *d, lm_binlog_event *ev, lm_err *err);
/* For a ROWS event: next row. INSERT fills after, DELETE fills before,
 * UPDATE fills both. 1 = row, 0 = no more rows, <0 = error. Values point
 * into decoder memory valid until the next call to lm_binlog_rows_next or
 * lm_binlog_next. Either row pointer may be NULL when not wanted. */
int lm_binlog_rows_next(lm_binlog_decoder *d, lm_row *before, lm_row *after, lm_err *err);

/* Deep copy of a row into one allocation; free with lm_row_free. */
int lm_row_clone(const lm_row *src, lm_row **out);
void lm_row_free(lm_row *row);

/* Reading binlog files (raw or recordings are handled by record.h). */
typedef struct lm_binlog_file lm_binlog_file;
int lm_binlog_file_open(lm_binlog_file **out, const char *path, lm_err *err);
/* Next raw event; 1 = event, 0 = end of file, <0 = error (truncated/corrupt). */
int lm_binlog_file_read(lm_binlog_file *f, const uint8_t **data, size_t *len, lm_err *err);
void lm_binlog_file_close(lm_binlog_file *f);

/* Formatting decoded values: JSON per DESIGN.md "dump --format json". */
struct lm_buf;
int lm_value_json(struct lm_buf *out, const lm_value *v, const lm_table_map *tm, unsigned col);
int lm_row_json(struct lm_buf *out, const lm_row *row, const lm_table_map *tm);

#endif
