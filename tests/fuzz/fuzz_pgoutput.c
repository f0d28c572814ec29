/* libFuzzer harness for the walsender frame and pgoutput parsers.
 *
 * Input byte 0 picks the target:
 *   even: the rest is a CopyData frame for lm_pgf_parse; an XLogData
 *         frame's payload then goes to lm_pgo_parse;
 *   odd:  the rest is a pgoutput message for lm_pgo_parse.
 * The rest is copied to an exact-size heap buffer so ASan sees any read
 * past it. A parsed message is walked whole: every pointer must lie inside
 * the input, strings must end there, counts must match the arrays. A
 * failed parse must leave the message cleared with an error message set;
 * a parsed one must parse the same again after lm_pgo_msg_clear.
 * Build and run: FUZZ_TARGET=fuzz_pgoutput tests/fuzz/run.sh (see there). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "livemig/pgoutput.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *lo, *hi; /* the input buffer */

static void inside(const void *p, size_t n)
{
    const uint8_t *b = p;

    if (n == 0 && b == NULL)
        return;
    if (b < lo || b > hi || n > (size_t)(hi - b))
        abort();
}

static void str_inside(const char *s)
{
    if (s == NULL)
        abort();
    inside(s, strlen(s) + 1);
}

static void tuple_ok(const lm_pgo_tuple *t)
{
    if ((t->ncols == 0) != (t->cols == NULL) || t->ncols > 1664)
        abort();
    for (uint16_t i = 0; i < t->ncols; i++) {
        const lm_pgo_col *c = &t->cols[i];
        switch (c->kind) {
        case 'n':
        case 'u':
            if (c->len != 0 || c->data != NULL)
                abort();
            break;
        case 't':
        case 'b':
            inside(c->data, c->len);
            break;
        default:
            abort();
        }
    }
}

static void msg_ok(const lm_pgo_msg *m)
{
    switch (m->type) {
    case 'O':
        str_inside(m->origin);
        break;
    case 'R':
        str_inside(m->nspname);
        str_inside(m->relname);
        if ((m->nrelcols == 0) != (m->relcols == NULL) || m->nrelcols > 1664)
            abort();
        for (uint16_t i = 0; i < m->nrelcols; i++)
            str_inside(m->relcols[i].name);
        break;
    case 'Y':
        str_inside(m->nspname);
        str_inside(m->relname);
        break;
    case 'I':
    case 'U':
    case 'D':
        if (m->type == 'I' ? m->old_kind != 0
                           : m->old_kind && m->old_kind != 'K' && m->old_kind != 'O')
            abort();
        if (m->type == 'D' && (m->old_kind == 0 || m->new_tuple.cols != NULL))
            abort();
        tuple_ok(&m->old_tuple);
        tuple_ok(&m->new_tuple);
        break;
    case 'T': {
        volatile uint32_t sum = 0; /* read every element: ASan checks the array */
        if ((m->nrels == 0) != (m->rel_oids == NULL) || m->nrels > 65536)
            abort();
        for (uint32_t i = 0; i < m->nrels; i++)
            sum += m->rel_oids[i];
        (void)sum;
        break;
    }
    case 'M':
        str_inside(m->prefix);
        inside(m->content, m->content_len);
        break;
    case 'B':
    case 'C':
        break;
    default:
        abort();
    }
}

static void pgo(const uint8_t *p, size_t n)
{
    lm_pgo_msg m, m2;
    lm_err err = LM_ERR_INIT, err2 = LM_ERR_INIT;
    static const lm_pgo_msg zero;
    int rc;

    lo = p;
    hi = p + n;
    memset(&m, 0, sizeof(m));
    rc = lm_pgo_parse(p, n, &m, &err);
    if (rc < 0) {
        if (rc != LM_ECORRUPT && rc != LM_ENOMEM)
            abort();
        if (err.code != rc || strncmp(err.msg, "pgoutput: ", 10) != 0)
            abort();
        if (memcmp(&m, &zero, sizeof(m)) != 0)
            abort();
        return;
    }
    if (rc != 0 || err.code != 0 || (n > 0 && m.type != (char)p[0]))
        abort();
    msg_ok(&m);
    /* Parsing is a function of the bytes: again, into a reused struct. */
    memset(&m2, 0, sizeof(m2));
    if (lm_pgo_parse(p, n, &m2, &err2) != 0 || m2.type != m.type || m2.nrelcols != m.nrelcols ||
        m2.new_tuple.ncols != m.new_tuple.ncols || m2.old_tuple.ncols != m.old_tuple.ncols ||
        m2.nrels != m.nrels)
        abort();
    lm_pgo_msg_clear(&m2);
    lm_pgo_msg_clear(&m);
    if (memcmp(&m, &zero, sizeof(m)) != 0)
        abort();
}

static void pgf(const uint8_t *p, size_t n)
{
    lm_pgf f;
    lm_err err = LM_ERR_INIT;
    uint8_t st[LM_PG_STATUS_LEN];

    if (lm_pgf_parse(p, n, &f, &err) < 0) {
        if (err.code != LM_ECORRUPT)
            abort();
        return;
    }
    switch (f.kind) {
    case LM_PGF_XLOGDATA:
        if (n < 25 || f.data != p + 25 || f.len != n - 25)
            abort();
        lm_pgf_status(st, f.wal_start, f.wal_end, 0, f.send_time, false);
        pgo(f.data, f.len);
        break;
    case LM_PGF_KEEPALIVE:
        if (n < 18)
            abort();
        lm_pgf_status(st, f.wal_end, f.wal_end, f.wal_end, f.send_time, f.reply_requested);
        if (st[0] != 'r' || st[33] != (f.reply_requested ? 1 : 0))
            abort();
        break;
    case LM_PGF_OTHER:
        if (n == 0 || p[0] == 'w' || p[0] == 'k' || f.data != p || f.len != n)
            abort();
        break;
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy;

    if (size < 1)
        return 0;
    copy = malloc(size - 1 ? size - 1 : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data + 1, size - 1);
    if (data[0] & 1)
        pgo(copy, size - 1);
    else
        pgf(copy, size - 1);
    free(copy);
    return 0;
}
