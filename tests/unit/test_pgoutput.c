/* pgoutput and walsender frames: every message type built byte by byte,
 * and the damage a parser must refuse (each truncation point, strings
 * without NUL, lengths past the end, trailing bytes, absurd counts). Each
 * parse reads from an exact-size heap copy so ASan sees any overread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "livemig/err.h"
#include "livemig/pgoutput.h"

#include <stdlib.h>
#include <string.h>

/* ---- a message builder ---- */

typedef struct mb {
    uint8_t b[4096];
    size_t n;
} mb;

static void p8(mb *m, unsigned v)
{
    assert_true(m->n + 1 <= sizeof(m->b));
    m->b[m->n++] = (uint8_t)v;
}

static void p16(mb *m, unsigned v)
{
    p8(m, v >> 8);
    p8(m, v);
}

static void p32(mb *m, uint32_t v)
{
    p16(m, v >> 16);
    p16(m, v & 0xFFFF);
}

static void p64(mb *m, uint64_t v)
{
    p32(m, (uint32_t)(v >> 32));
    p32(m, (uint32_t)v);
}

static void pstr(mb *m, const char *s)
{
    size_t n = strlen(s) + 1;
    assert_true(m->n + n <= sizeof(m->b));
    memcpy(m->b + m->n, s, n);
    m->n += n;
}

static void pbytes(mb *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof(m->b));
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

/* Column helpers: 't'/'b' with a value, 'n', 'u'. */
static void ptext(mb *m, char kind, const char *v)
{
    p8(m, (unsigned char)kind);
    p32(m, (uint32_t)strlen(v));
    pbytes(m, v, strlen(v));
}

/* Parse the first n bytes of m from an exact-size heap copy. */
static int parse_n(const mb *m, size_t n, lm_pgo_msg *out, lm_err *err)
{
    uint8_t *copy = malloc(n ? n : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, m->b, n);
    rc = lm_pgo_parse(copy, n, out, err);
    /* Only for refusals: a parsed message would point into freed memory
     * (parse_ok keeps its copy). */
    free(copy);
    return rc;
}

static uint8_t *held; /* the buffer the last parse_ok result points into */

static void parse_ok(const mb *m, lm_pgo_msg *out)
{
    lm_err err = LM_ERR_INIT;

    free(held);
    held = malloc(m->n);
    assert_non_null(held);
    memcpy(held, m->b, m->n);
    memset(out, 0xA5, sizeof(*out)); /* the parser must not trust what was there */
    if (lm_pgo_parse(held, m->n, out, &err) != 0)
        fail_msg("parse failed: %s", err.msg);
}

static void assert_corrupt(const mb *m, size_t n, const char *words)
{
    lm_pgo_msg msg;
    lm_err err = LM_ERR_INIT;
    int rc = parse_n(m, n, &msg, &err);

    if (rc != LM_ECORRUPT)
        fail_msg("length %zu of %zu: rc %d, expected LM_ECORRUPT", n, m->n, rc);
    assert_int_equal(err.code, LM_ECORRUPT);
    assert_true(strncmp(err.msg, "pgoutput: ", 10) == 0);
    if (words && strstr(err.msg, words) == NULL)
        fail_msg("message '%s' lacks '%s'", err.msg, words);
    /* Left cleared: nothing allocated, nothing to free. */
    assert_null(msg.relcols);
    assert_null(msg.rel_oids);
    assert_null(msg.old_tuple.cols);
    assert_null(msg.new_tuple.cols);
    assert_int_equal(msg.type, 0);
}

/* Every proper prefix of a valid message is refused, and the whole one
 * with a byte appended too. */
static void assert_prefixes_corrupt(const mb *m)
{
    mb longer = *m;

    for (size_t n = 0; n < m->n; n++)
        assert_corrupt(m, n, NULL);
    p8(&longer, 0);
    assert_corrupt(&longer, longer.n, "1 unexpected bytes after the end");
}

/* ---- LSNs ---- */

static void test_lsn(void **state)
{
    char buf[24];
    lm_lsn l = 0;

    (void)state;
    lm_lsn_format(0x16B3748ULL, buf, sizeof(buf));
    assert_string_equal(buf, "0/16B3748");
    lm_lsn_format(0xFFFFFFFFFFFFFFFFULL, buf, sizeof(buf));
    assert_string_equal(buf, "FFFFFFFF/FFFFFFFF");
    lm_lsn_format(0, buf, sizeof(buf));
    assert_string_equal(buf, "0/0");
    assert_int_equal(lm_lsn_parse("0/16B3748", &l), 0);
    assert_true(l == 0x16B3748ULL);
    assert_int_equal(lm_lsn_parse("1a/0000000f", &l), 0);
    assert_true(l == 0x1A0000000FULL);
    assert_int_equal(lm_lsn_parse("FFFFFFFF/FFFFFFFF", &l), 0);
    assert_true(l == UINT64_MAX);
    l = 7;
    assert_int_equal(lm_lsn_parse("", &l), -1);
    assert_int_equal(lm_lsn_parse("0", &l), -1);
    assert_int_equal(lm_lsn_parse("/0", &l), -1);
    assert_int_equal(lm_lsn_parse("0/", &l), -1);
    assert_int_equal(lm_lsn_parse("0/0 ", &l), -1);
    assert_int_equal(lm_lsn_parse(" 0/0", &l), -1);
    assert_int_equal(lm_lsn_parse("0/g", &l), -1);
    assert_int_equal(lm_lsn_parse("-1/0", &l), -1);
    assert_int_equal(lm_lsn_parse("123456789/0", &l), -1);
    assert_int_equal(lm_lsn_parse("0/123456789", &l), -1);
    assert_int_equal(lm_lsn_parse("0/0/0", &l), -1);
    assert_int_equal(lm_lsn_parse(NULL, &l), -1);
    assert_true(l == 7);
    /* Round trip. */
    lm_lsn_format(0x123456789ABCDEF0ULL, buf, sizeof(buf));
    assert_int_equal(lm_lsn_parse(buf, &l), 0);
    assert_true(l == 0x123456789ABCDEF0ULL);
}

/* ---- frames ---- */

static int frame_n(const mb *m, size_t n, lm_pgf *f, lm_err *err, uint8_t **copy)
{
    *copy = malloc(n ? n : 1);
    assert_non_null(*copy);
    memcpy(*copy, m->b, n);
    return lm_pgf_parse(*copy, n, f, err);
}

static void test_frames(void **state)
{
    mb m = {{0}, 0};
    lm_pgf f;
    lm_err err = LM_ERR_INIT;
    uint8_t *c;

    (void)state;
    p8(&m, 'w');
    p64(&m, 0x100000028ULL);
    p64(&m, 0x200000000ULL);
    p64(&m, 123456789);
    pbytes(&m, "Bxyz", 4);
    assert_int_equal(frame_n(&m, m.n, &f, &err, &c), 0);
    assert_int_equal(f.kind, LM_PGF_XLOGDATA);
    assert_true(f.wal_start == 0x100000028ULL);
    assert_true(f.wal_end == 0x200000000ULL);
    assert_true(f.send_time == 123456789);
    assert_int_equal(f.len, 4);
    assert_ptr_equal(f.data, c + 25);
    assert_memory_equal(f.data, "Bxyz", 4);
    free(c);
    /* An empty payload is a frame; the pgoutput parser refuses it. */
    assert_int_equal(frame_n(&m, 25, &f, &err, &c), 0);
    assert_int_equal(f.len, 0);
    free(c);
    for (size_t n = 0; n < 25; n++) {
        lm_err e = LM_ERR_INIT;
        assert_int_equal(frame_n(&m, n, &f, &e, &c), LM_ECORRUPT);
        assert_int_equal(e.code, LM_ECORRUPT);
        free(c);
    }

    m.n = 0;
    p8(&m, 'k');
    p64(&m, 0xABCDEF0123ULL);
    p64(&m, (uint64_t)-5);
    p8(&m, 1);
    assert_int_equal(frame_n(&m, m.n, &f, &err, &c), 0);
    assert_int_equal(f.kind, LM_PGF_KEEPALIVE);
    assert_true(f.wal_end == 0xABCDEF0123ULL);
    assert_true(f.send_time == -5);
    assert_true(f.reply_requested);
    free(c);
    m.b[17] = 0;
    p8(&m, 0x99); /* a newer server's extra field is ignored */
    assert_int_equal(frame_n(&m, m.n, &f, &err, &c), 0);
    assert_false(f.reply_requested);
    free(c);
    for (size_t n = 0; n < 18; n++) {
        lm_err e = LM_ERR_INIT;
        assert_int_equal(frame_n(&m, n, &f, &e, &c), LM_ECORRUPT);
        free(c);
    }

    /* Unknown types pass as OTHER with the whole frame. */
    m.n = 0;
    p8(&m, 's');
    p64(&m, 1);
    assert_int_equal(frame_n(&m, m.n, &f, &err, &c), 0);
    assert_int_equal(f.kind, LM_PGF_OTHER);
    assert_ptr_equal(f.data, c);
    assert_int_equal(f.len, 9);
    free(c);
    assert_int_equal(frame_n(&m, 1, &f, &err, &c), 0);
    assert_int_equal(f.kind, LM_PGF_OTHER);
    free(c);
    assert_int_equal(err.code, 0);
}

static void test_status(void **state)
{
    static const uint8_t want[LM_PG_STATUS_LEN] = {
        'r',  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, /* written */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08,       /* flushed */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,       /* applied */
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,       /* clock -2 */
        0x01};
    uint8_t out[LM_PG_STATUS_LEN];

    (void)state;
    memset(out, 0x55, sizeof(out));
    lm_pgf_status(out, 0x100000010ULL, 0x100000008ULL, 0, -2, true);
    assert_memory_equal(out, want, sizeof(want));
    lm_pgf_status(out, 0, 0, 0, 0, false);
    assert_int_equal(out[33], 0);
}

/* ---- messages ---- */

static void test_begin_commit_origin(void **state)
{
    mb m = {{0}, 0};
    lm_pgo_msg msg;

    (void)state;
    p8(&m, 'B');
    p64(&m, 0x1000000A0ULL);
    p64(&m, (uint64_t)INT64_C(-1000));
    p32(&m, 0xFFFFFFF0u);
    parse_ok(&m, &msg);
    assert_int_equal(msg.type, 'B');
    assert_true(msg.final_lsn == 0x1000000A0ULL);
    assert_true(msg.commit_time == -1000);
    assert_int_equal(msg.xid, 0xFFFFFFF0u);
    assert_null(msg.relcols);
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);

    m.n = 0;
    p8(&m, 'C');
    p8(&m, 0);
    p64(&m, 0x10);
    p64(&m, 0x20);
    p64(&m, 777);
    parse_ok(&m, &msg);
    assert_int_equal(msg.type, 'C');
    assert_int_equal(msg.flags, 0);
    assert_true(msg.commit_lsn == 0x10);
    assert_true(msg.end_lsn == 0x20);
    assert_true(msg.commit_time == 777);
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);

    m.n = 0;
    p8(&m, 'O');
    p64(&m, 0xDEADBEEF);
    pstr(&m, "node_a");
    parse_ok(&m, &msg);
    assert_int_equal(msg.type, 'O');
    assert_true(msg.origin_lsn == 0xDEADBEEF);
    assert_string_equal(msg.origin, "node_a");
    assert_ptr_equal(msg.origin, (const char *)held + 9);
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);
}

static void build_relation(mb *m)
{
    p8(m, 'R');
    p32(m, 16384);
    pstr(m, "public");
    pstr(m, "patchwork_submission");
    p8(m, 'd');
    p16(m, 3);
    p8(m, 1);
    pstr(m, "id");
    p32(m, 23);
    p32(m, 0xFFFFFFFF);
    p8(m, 0);
    pstr(m, "name");
    p32(m, 1043);
    p32(m, 259);
    p8(m, 0);
    pstr(m, "");
    p32(m, 17);
    p32(m, 0xFFFFFFFF);
}

static void test_relation_type(void **state)
{
    mb m = {{0}, 0};
    lm_pgo_msg msg;

    (void)state;
    build_relation(&m);
    parse_ok(&m, &msg);
    assert_int_equal(msg.type, 'R');
    assert_int_equal(msg.rel_oid, 16384);
    assert_string_equal(msg.nspname, "public");
    assert_string_equal(msg.relname, "patchwork_submission");
    assert_int_equal(msg.replident, 'd');
    assert_int_equal(msg.nrelcols, 3);
    assert_true(msg.relcols[0].key);
    assert_string_equal(msg.relcols[0].name, "id");
    assert_int_equal(msg.relcols[0].type_oid, 23);
    assert_int_equal(msg.relcols[0].typmod, -1);
    assert_false(msg.relcols[1].key);
    assert_string_equal(msg.relcols[1].name, "name");
    assert_int_equal(msg.relcols[1].type_oid, 1043);
    assert_int_equal(msg.relcols[1].typmod, 259);
    assert_string_equal(msg.relcols[2].name, "");
    /* Cleared, the message takes another parse. */
    lm_pgo_msg_clear(&msg);
    assert_null(msg.relcols);
    assert_int_equal(msg.nrelcols, 0);
    assert_prefixes_corrupt(&m);

    /* No columns (a table without any): no array. */
    m.n = 0;
    p8(&m, 'R');
    p32(&m, 1);
    pstr(&m, "");
    pstr(&m, "empty");
    p8(&m, 'n');
    p16(&m, 0);
    parse_ok(&m, &msg);
    assert_int_equal(msg.nrelcols, 0);
    assert_null(msg.relcols);
    assert_string_equal(msg.nspname, "");
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);

    m.n = 0;
    p8(&m, 'Y');
    p32(&m, 99999);
    pstr(&m, "public");
    pstr(&m, "mood");
    parse_ok(&m, &msg);
    assert_int_equal(msg.type, 'Y');
    assert_int_equal(msg.rel_oid, 99999);
    assert_string_equal(msg.nspname, "public");
    assert_string_equal(msg.relname, "mood");
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);
}

static void test_insert(void **state)
{
    static const uint8_t bin[] = {0, 0xFF, 0, 1};
    mb m = {{0}, 0};
    lm_pgo_msg msg;

    (void)state;
    p8(&m, 'I');
    p32(&m, 16384);
    p8(&m, 'N');
    p16(&m, 5);
    ptext(&m, 't', "42");
    p8(&m, 'n');
    ptext(&m, 't', "");
    p8(&m, 'b');
    p32(&m, sizeof(bin));
    pbytes(&m, bin, sizeof(bin));
    ptext(&m, 't', "héllo");
    parse_ok(&m, &msg);
    assert_int_equal(msg.type, 'I');
    assert_int_equal(msg.rel_oid, 16384);
    assert_int_equal(msg.old_kind, 0);
    assert_int_equal(msg.old_tuple.ncols, 0);
    assert_null(msg.old_tuple.cols);
    assert_int_equal(msg.new_tuple.ncols, 5);
    assert_int_equal(msg.new_tuple.cols[0].kind, 't');
    assert_int_equal(msg.new_tuple.cols[0].len, 2);
    assert_memory_equal(msg.new_tuple.cols[0].data, "42", 2);
    assert_int_equal(msg.new_tuple.cols[1].kind, 'n');
    assert_int_equal(msg.new_tuple.cols[1].len, 0);
    assert_null(msg.new_tuple.cols[1].data);
    assert_int_equal(msg.new_tuple.cols[2].kind, 't');
    assert_int_equal(msg.new_tuple.cols[2].len, 0);
    assert_int_equal(msg.new_tuple.cols[3].kind, 'b');
    assert_int_equal(msg.new_tuple.cols[3].len, 4);
    assert_memory_equal(msg.new_tuple.cols[3].data, bin, 4);
    assert_int_equal(msg.new_tuple.cols[4].len, strlen("héllo"));
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);

    /* A tuple with no columns. */
    m.n = 0;
    p8(&m, 'I');
    p32(&m, 1);
    p8(&m, 'N');
    p16(&m, 0);
    parse_ok(&m, &msg);
    assert_int_equal(msg.new_tuple.ncols, 0);
    assert_null(msg.new_tuple.cols);
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);

    /* An insert has no old tuple. */
    m.n = 0;
    p8(&m, 'I');
    p32(&m, 1);
    p8(&m, 'K');
    p16(&m, 0);
    assert_corrupt(&m, m.n, "unexpected tuple tag 0x4b (expected 'N') at byte 5");
}

static void test_update(void **state)
{
    mb m = {{0}, 0};
    lm_pgo_msg msg;

    (void)state;
    /* Key changed: 'K' old key (non-key columns NULL), then 'N' with an
     * unchanged TOAST column. */
    p8(&m, 'U');
    p32(&m, 16384);
    p8(&m, 'K');
    p16(&m, 3);
    ptext(&m, 't', "1");
    p8(&m, 'n');
    p8(&m, 'n');
    p8(&m, 'N');
    p16(&m, 3);
    ptext(&m, 't', "2");
    ptext(&m, 't', "new name");
    p8(&m, 'u');
    parse_ok(&m, &msg);
    assert_int_equal(msg.type, 'U');
    assert_int_equal(msg.old_kind, 'K');
    assert_int_equal(msg.old_tuple.ncols, 3);
    assert_memory_equal(msg.old_tuple.cols[0].data, "1", 1);
    assert_int_equal(msg.old_tuple.cols[1].kind, 'n');
    assert_int_equal(msg.old_tuple.cols[2].kind, 'n');
    assert_int_equal(msg.new_tuple.ncols, 3);
    assert_memory_equal(msg.new_tuple.cols[0].data, "2", 1);
    assert_memory_equal(msg.new_tuple.cols[1].data, "new name", 8);
    assert_int_equal(msg.new_tuple.cols[2].kind, 'u');
    assert_null(msg.new_tuple.cols[2].data);
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);

    /* REPLICA IDENTITY FULL: 'O' old row. */
    m.n = 0;
    p8(&m, 'U');
    p32(&m, 7);
    p8(&m, 'O');
    p16(&m, 2);
    ptext(&m, 't', "1");
    ptext(&m, 't', "old");
    p8(&m, 'N');
    p16(&m, 2);
    ptext(&m, 't', "1");
    p8(&m, 'n');
    parse_ok(&m, &msg);
    assert_int_equal(msg.old_kind, 'O');
    assert_int_equal(msg.old_tuple.ncols, 2);
    assert_memory_equal(msg.old_tuple.cols[1].data, "old", 3);
    assert_int_equal(msg.new_tuple.cols[1].kind, 'n');
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);

    /* Neither: only the new row. */
    m.n = 0;
    p8(&m, 'U');
    p32(&m, 7);
    p8(&m, 'N');
    p16(&m, 1);
    ptext(&m, 't', "x");
    parse_ok(&m, &msg);
    assert_int_equal(msg.old_kind, 0);
    assert_null(msg.old_tuple.cols);
    assert_int_equal(msg.new_tuple.ncols, 1);
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);

    /* 'K' must be followed by 'N', not by another old tuple. */
    m.n = 0;
    p8(&m, 'U');
    p32(&m, 7);
    p8(&m, 'K');
    p16(&m, 0);
    p8(&m, 'O');
    p16(&m, 0);
    assert_corrupt(&m, m.n, "expected 'N'");
    m.n = 0;
    p8(&m, 'U');
    p32(&m, 7);
    p8(&m, 'X');
    assert_corrupt(&m, m.n, "expected 'K', 'O' or 'N'");
}

static void test_delete(void **state)
{
    mb m = {{0}, 0};
    lm_pgo_msg msg;

    (void)state;
    p8(&m, 'D');
    p32(&m, 16384);
    p8(&m, 'K');
    p16(&m, 2);
    ptext(&m, 't', "99");
    p8(&m, 'n');
    parse_ok(&m, &msg);
    assert_int_equal(msg.type, 'D');
    assert_int_equal(msg.rel_oid, 16384);
    assert_int_equal(msg.old_kind, 'K');
    assert_int_equal(msg.old_tuple.ncols, 2);
    assert_memory_equal(msg.old_tuple.cols[0].data, "99", 2);
    assert_int_equal(msg.new_tuple.ncols, 0);
    assert_null(msg.new_tuple.cols);
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);

    m.n = 0;
    p8(&m, 'D');
    p32(&m, 1);
    p8(&m, 'O');
    p16(&m, 1);
    ptext(&m, 't', "z");
    parse_ok(&m, &msg);
    assert_int_equal(msg.old_kind, 'O');
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);

    /* A delete carries no new row. */
    m.n = 0;
    p8(&m, 'D');
    p32(&m, 1);
    p8(&m, 'N');
    p16(&m, 0);
    assert_corrupt(&m, m.n, "expected 'K' or 'O'");
}

static void test_truncate_message(void **state)
{
    mb m = {{0}, 0};
    lm_pgo_msg msg;

    (void)state;
    p8(&m, 'T');
    p32(&m, 2);
    p8(&m, 3);
    p32(&m, 16384);
    p32(&m, 16390);
    parse_ok(&m, &msg);
    assert_int_equal(msg.type, 'T');
    assert_int_equal(msg.nrels, 2);
    assert_int_equal(msg.truncate_flags, 3);
    assert_int_equal(msg.rel_oids[0], 16384);
    assert_int_equal(msg.rel_oids[1], 16390);
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);

    m.n = 0;
    p8(&m, 'T');
    p32(&m, 0);
    p8(&m, 0);
    parse_ok(&m, &msg);
    assert_int_equal(msg.nrels, 0);
    assert_null(msg.rel_oids);
    lm_pgo_msg_clear(&msg);

    m.n = 0;
    p8(&m, 'M');
    p8(&m, 1);
    p64(&m, 0x5000);
    pstr(&m, "livemig");
    p32(&m, 5);
    pbytes(&m, "a\0b\0c", 5);
    parse_ok(&m, &msg);
    assert_int_equal(msg.type, 'M');
    assert_true(msg.transactional);
    assert_int_equal(msg.flags, 1);
    assert_true(msg.msg_lsn == 0x5000);
    assert_string_equal(msg.prefix, "livemig");
    assert_int_equal(msg.content_len, 5);
    assert_memory_equal(msg.content, "a\0b\0c", 5);
    lm_pgo_msg_clear(&msg);
    assert_prefixes_corrupt(&m);

    m.n = 0;
    p8(&m, 'M');
    p8(&m, 0);
    p64(&m, 1);
    pstr(&m, "");
    p32(&m, 0);
    parse_ok(&m, &msg);
    assert_false(msg.transactional);
    assert_int_equal(msg.content_len, 0);
    lm_pgo_msg_clear(&msg);
}

static void test_refusals(void **state)
{
    mb m = {{0}, 0};

    (void)state;
    assert_corrupt(&m, 0, "empty message");
    p8(&m, 'Z');
    assert_corrupt(&m, m.n, "unknown message type 0x5a");
    m.n = 0;
    p8(&m, 'S'); /* stream start: not with proto_version 1 */
    p32(&m, 1);
    p8(&m, 1);
    assert_corrupt(&m, m.n, "unknown message type 0x53");

    /* A string running to the end without NUL. */
    m.n = 0;
    p8(&m, 'O');
    p64(&m, 1);
    pbytes(&m, "abc", 3);
    assert_corrupt(&m, m.n, "origin name not NUL-terminated");
    m.n = 0;
    p8(&m, 'R');
    p32(&m, 1);
    pstr(&m, "public");
    pbytes(&m, "t", 1);
    assert_corrupt(&m, m.n,
                   "Relation message ('R', 13 bytes): relation name not NUL-terminated "
                   "inside the message at byte 12");

    /* Text lengths past the end, including ones that would wrap. */
    static const uint32_t lens[] = {3, 0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        m.n = 0;
        p8(&m, 'I');
        p32(&m, 1);
        p8(&m, 'N');
        p16(&m, 1);
        p8(&m, 't');
        p32(&m, lens[i]);
        pbytes(&m, "ab", 2);
        assert_corrupt(&m, m.n, "truncated column value");
    }
    m.n = 0;
    p8(&m, 'M');
    p8(&m, 0);
    p64(&m, 1);
    pstr(&m, "p");
    p32(&m, 0xFFFFFFFFu);
    assert_corrupt(&m, m.n, "truncated content");

    /* An unknown column kind. */
    m.n = 0;
    p8(&m, 'I');
    p32(&m, 1);
    p8(&m, 'N');
    p16(&m, 1);
    p8(&m, 'x');
    assert_corrupt(&m, m.n, "unknown column kind 0x78 at byte 8");

    /* Trailing bytes after a complete message. */
    m.n = 0;
    p8(&m, 'C');
    p8(&m, 0);
    p64(&m, 1);
    p64(&m, 2);
    p64(&m, 3);
    pbytes(&m, "\0\0\0", 3);
    assert_corrupt(&m, m.n, "3 unexpected bytes after the end at byte 26");
}

static void test_huge_counts(void **state)
{
    mb m = {{0}, 0};
    lm_pgo_msg msg;

    (void)state;
    /* Over the column cap (and a negative Int16). */
    static const unsigned big[] = {1665, 0x8000, 0xFFFF};
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        m.n = 0;
        p8(&m, 'I');
        p32(&m, 1);
        p8(&m, 'N');
        p16(&m, big[i]);
        for (unsigned c = 0; c < big[i] && m.n < sizeof(m.b); c++)
            p8(&m, 'n');
        assert_corrupt(&m, m.n, "more than 1664 columns");
        m.n = 0;
        p8(&m, 'R');
        p32(&m, 1);
        pstr(&m, "s");
        pstr(&m, "t");
        p8(&m, 'd');
        p16(&m, big[i]);
        assert_corrupt(&m, m.n, "more than 1664 columns");
    }
    /* Within the cap but more than the bytes left: refused before any
     * allocation for it. */
    m.n = 0;
    p8(&m, 'I');
    p32(&m, 1);
    p8(&m, 'N');
    p16(&m, 1664);
    p8(&m, 'n');
    assert_corrupt(&m, m.n, "truncated tuple columns (1664 bytes needed, 1 left)");

    /* Exactly 1664 NULL columns parse. */
    m.n = 0;
    p8(&m, 'I');
    p32(&m, 1);
    p8(&m, 'N');
    p16(&m, 1664);
    for (unsigned c = 0; c < 1664; c++)
        p8(&m, 'n');
    parse_ok(&m, &msg);
    assert_int_equal(msg.new_tuple.ncols, 1664);
    assert_int_equal(msg.new_tuple.cols[1663].kind, 'n');
    lm_pgo_msg_clear(&msg);

    static const uint32_t nrels[] = {65537, 0x80000000u, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof(nrels) / sizeof(nrels[0]); i++) {
        m.n = 0;
        p8(&m, 'T');
        p32(&m, nrels[i]);
        p8(&m, 0);
        p32(&m, 1);
        assert_corrupt(&m, m.n, "more than 65536 relations");
    }
    m.n = 0;
    p8(&m, 'T');
    p32(&m, 65536);
    p8(&m, 0);
    p32(&m, 1);
    assert_corrupt(&m, m.n, "truncated relation OIDs");
}

/* A message struct is reused across parses after clear, as the engine's
 * loop does; a failed parse leaves it reusable too. */
static void test_reuse(void **state)
{
    mb a = {{0}, 0}, b = {{0}, 0};
    lm_pgo_msg msg;
    lm_err err = LM_ERR_INIT;

    (void)state;
    build_relation(&a);
    p8(&b, 'I');
    p32(&b, 1);
    p8(&b, 'N');
    p16(&b, 1);
    ptext(&b, 't', "v");
    memset(&msg, 0, sizeof(msg));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(lm_pgo_parse(a.b, a.n, &msg, &err), 0);
        assert_int_equal(msg.nrelcols, 3);
        lm_pgo_msg_clear(&msg);
        assert_int_equal(lm_pgo_parse(a.b, a.n - 1, &msg, &err), LM_ECORRUPT);
        lm_err_clear(&err);
        assert_int_equal(lm_pgo_parse(b.b, b.n, &msg, &err), 0);
        assert_int_equal(msg.new_tuple.ncols, 1);
        assert_int_equal(msg.nrelcols, 0);
        lm_pgo_msg_clear(&msg);
    }
}

static int teardown(void **state)
{
    (void)state;
    free(held);
    held = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lsn),
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_begin_commit_origin),
        cmocka_unit_test(test_relation_type),
        cmocka_unit_test(test_insert),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_truncate_message),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_huge_counts),
        cmocka_unit_test(test_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
