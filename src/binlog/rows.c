/* Row events (v1, v2, MariaDB compressed v1, MySQL PARTIAL_UPDATE_ROWS):
 * the header, then row images decoded one row at a time; lm_row_clone and
 * lm_row_free. */
#include "binlog/decoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_update(uint8_t t)
{
    return t == LM_BL_UPDATE_ROWS_V1 || t == LM_BL_UPDATE_ROWS_V2 ||
           t == LM_BL_UPDATE_ROWS_COMPRESSED_V1 || t == LM_BL_PARTIAL_UPDATE_ROWS;
}

static lm_row_op row_op(uint8_t t)
{
    switch (t) {
    case LM_BL_WRITE_ROWS_V1:
    case LM_BL_WRITE_ROWS_V2:
    case LM_BL_WRITE_ROWS_COMPRESSED_V1:
        return LM_ROW_INSERT;
    case LM_BL_DELETE_ROWS_V1:
    case LM_BL_DELETE_ROWS_V2:
    case LM_BL_DELETE_ROWS_COMPRESSED_V1:
        return LM_ROW_DELETE;
    default:
        return LM_ROW_UPDATE;
    }
}

int lm_bl_rows_start(lm_binlog_decoder *d, lm_binlog_event *ev, const uint8_t *b, size_t len,
                     lm_err *err)
{
    uint8_t t = ev->hdr.type;
    bool v2 = t == LM_BL_WRITE_ROWS_V2 || t == LM_BL_UPDATE_ROWS_V2 || t == LM_BL_DELETE_ROWS_V2 ||
              t == LM_BL_PARTIAL_UPDATE_ROWS;
    unsigned post = d->post_len[t] ? d->post_len[t] : (v2 ? 10 : 8);
    lm_bl_cur c = {b, b + len};
    lm_bl_rows *r = &d->rows;
    uint64_t ncols;
    size_t bm, extra = 0;

    if (len < post || post < 6)
        goto bad;
    r->table_id = lm_bl_le(b, post == 6 ? 4 : 6);
    c.p += post;
    /* v2: extra data (partition info, NDB) whose length includes its own
     * two bytes; it is the last field of the post-header. */
    if (v2 && post >= 10) {
        extra = (size_t)lm_bl_le(b + 8, 2);
        if (extra < 2 || lm_bl_skip(&c, extra - 2) < 0)
            goto bad;
    }
    if (lm_bl_lenenc(&c, &ncols) < 0 || ncols > 4096)
        goto bad;
    bm = ((size_t)ncols + 7) / 8;
    r->present = c.p;
    if (lm_bl_skip(&c, bm) < 0)
        goto bad;
    r->present_after = r->present;
    if (is_update(t)) {
        r->present_after = c.p;
        if (lm_bl_skip(&c, bm) < 0)
            goto bad;
    }
    if (t >= LM_BL_WRITE_ROWS_COMPRESSED_V1 && t <= LM_BL_DELETE_ROWS_COMPRESSED_V1 &&
        lm_bl_left(&c) > 0) {
        size_t n = 0;
        int rc = lm_bl_zlib_uncompress(c.p, lm_bl_left(&c), &d->zbuf, &d->zcap, &n, err);
        if (rc < 0)
            return rc;
        c.p = d->zbuf;
        c.end = d->zbuf + n;
    }
    r->active = true;
    r->type = t;
    r->ncols = (unsigned)ncols;
    r->p = c.p;
    r->end = c.end;
    r->op = row_op(t);
    r->tm = lm_bl_map_find(d, r->table_id);
    if (r->tm && r->ncols > r->tm->ncols)
        return lm_err_set(err, LM_ECORRUPT, "rows event for %s.%s has %u columns, table map %u",
                          r->tm->db, r->tm->table, r->ncols, r->tm->ncols);
    r->at = ev->at;
    ev->table = r->tm;
    ev->row_op = r->op;
    return 0;
bad:
    return lm_err_set(err, LM_ECORRUPT, "malformed rows event (type %u)", t);
}

static bool bit(const uint8_t *bm, unsigned i)
{
    return (bm[i / 8] >> (i % 8)) & 1;
}

/* "db.t column 3 (doc)" for messages. */
static void col_ctx(const lm_table_map *tm, unsigned col, char *out, size_t cap)
{
    const char *name = tm->names ? tm->names[col] : NULL;
    snprintf(out, cap, "%s.%s column %u%s%s%s", tm->db, tm->table, col + 1, name ? " (" : "",
             name ? name : "", name ? ")" : "");
}

/* A JSON column of a PARTIAL_UPDATE_ROWS after image in partial form:
 * 4-byte length, then diffs against the column's before image. */
static int partial_json(lm_binlog_decoder *d, unsigned col, lm_value *v, size_t *used, lm_err *err)
{
    lm_bl_rows *r = &d->rows;
    const lm_table_map *tm = r->tm;
    const lm_value *b = &d->before[col];
    size_t avail = (size_t)(r->end - r->p), n;
    char ctx[512];
    int rc;

    col_ctx(tm, col, ctx, sizeof(ctx));
    if (avail < 4 || (n = (size_t)lm_bl_le(r->p, 4)) > avail - 4)
        return lm_err_set(err, LM_ECORRUPT, "%s: JSON diffs run past the row data", ctx);
    /* The diffs need the whole old document, which only a FULL before
     * image carries (the server's applier reads it from its table). */
    if (b->kind == LM_VAL_ABSENT)
        return lm_err_set(err, LM_EFAIL,
                          "%s: partial JSON update without the column in the before image "
                          "(binlog_row_image=FULL is needed to decode it)",
                          ctx);
    if (b->kind != LM_VAL_JSON || d->jraw[col].p == NULL)
        return lm_err_set(err, LM_ECORRUPT, "%s: JSON diffs for a NULL before value", ctx);
    lm_buf_reset(&d->jtext);
    d->jtext.oom = 0; /* sticky: a past failure must not fail this row */
    rc = lm_bl_json_diff_apply(&d->jtext, &d->jarena, d->jraw[col].p, d->jraw[col].n, r->p + 4, n,
                               err);
    if (rc < 0) {
        lm_err_prefix(err, "%s", ctx);
        return rc;
    }
    memset(v, 0, sizeof(*v));
    v->kind = LM_VAL_JSON;
    v->type = LM_T_JSON;
    v->charset = tm->charsets ? tm->charsets[col] : 0;
    v->str = lm_bl_arena_dup(&d->arena, d->jtext.data ? d->jtext.data : "", d->jtext.len);
    if (v->str == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    v->len = d->jtext.len;
    *used = 4 + n;
    return 0;
}

/* PARTIAL_UPDATE_ROWS puts a shared image before the after image:
 * value_options (lenenc, 0 or 1 = PARTIAL_JSON) and, with PARTIAL_JSON,
 * one bit per JSON column of the table, present or not, set when that
 * column is in partial form (rpl_record.cc, pack_row/unpack_row). */
static int shared_image(lm_binlog_decoder *d, const uint8_t **partial, lm_err *err)
{
    lm_bl_rows *r = &d->rows;
    lm_bl_cur c = {r->p, r->end};
    uint64_t opts;
    unsigned i, njson = 0;

    *partial = NULL;
    if (lm_bl_lenenc(&c, &opts) < 0 || opts > 1)
        return lm_err_set(err, LM_ECORRUPT, "%s.%s: bad value_options in PARTIAL_UPDATE_ROWS",
                          r->tm->db, r->tm->table);
    if (opts) {
        for (i = 0; i < r->tm->ncols; i++)
            njson += r->tm->types[i] == LM_T_JSON;
        *partial = c.p;
        if (lm_bl_skip(&c, (njson + 7) / 8) < 0)
            return lm_err_set(err, LM_ECORRUPT, "row image of %s.%s is truncated", r->tm->db,
                              r->tm->table);
    }
    r->p = c.p;
    return 0;
}

/* One row image: null bitmap over the present columns only, then the
 * values of the present, non-NULL columns. partial: see shared_image.
 * jraw: where to note the binary JSON values (a partial event's before
 * image, for the diffs of its after image). */
static int decode_image(lm_binlog_decoder *d, const uint8_t *present, lm_value *vals,
                        const uint8_t *partial, lm_bl_span *jraw, lm_err *err)
{
    lm_bl_rows *r = &d->rows;
    const lm_table_map *tm = r->tm;
    unsigned i, npresent = 0, k = 0, jcol = 0;
    const uint8_t *nulls;
    size_t nb, used;
    int rc;

    for (i = 0; i < r->ncols; i++)
        npresent += bit(present, i);
    nb = (npresent + 7) / 8;
    if ((size_t)(r->end - r->p) < nb)
        goto short_data;
    nulls = r->p;
    r->p += nb;
    for (i = 0; i < tm->ncols; i++) {
        lm_value *v = &vals[i];
        bool is_json = tm->types[i] == LM_T_JSON, diff = false;
        if (is_json)
            diff = partial && bit(partial, jcol++);
        if (jraw)
            jraw[i] = (lm_bl_span){NULL, 0};
        if (i >= r->ncols || !bit(present, i)) {
            memset(v, 0, sizeof(*v));
            v->kind = LM_VAL_ABSENT;
            v->type = tm->types[i];
            continue;
        }
        if (bit(nulls, k++)) {
            memset(v, 0, sizeof(*v));
            v->kind = LM_VAL_NULL;
            v->type = lm_bl_real_type(tm->types[i], tm->meta[i], NULL);
            v->charset = tm->charsets ? tm->charsets[i] : 0;
            continue;
        }
        if (diff) {
            rc = partial_json(d, i, v, &used, err);
        } else {
            rc = lm_bl_value_decode(tm, i, r->p, (size_t)(r->end - r->p), v, &used, &d->arena, err);
            /* Decoded, so the length prefix (meta bytes) is sound. */
            if (rc == 0 && jraw && is_json)
                jraw[i] = (lm_bl_span){r->p + tm->meta[i], used - tm->meta[i]};
        }
        if (rc < 0)
            return rc;
        r->p += used;
    }
    return 0;
short_data:
    return lm_err_set(err, LM_ECORRUPT, "row image of %s.%s is truncated", tm->db, tm->table);
}

static int ensure_vals(lm_binlog_decoder *d, unsigned n)
{
    lm_value *b, *a;
    lm_bl_span *j;

    if (n <= d->vcap)
        return 0;
    b = realloc(d->before, n * sizeof(*b));
    if (b == NULL)
        return LM_ENOMEM;
    d->before = b;
    a = realloc(d->after, n * sizeof(*a));
    if (a == NULL)
        return LM_ENOMEM;
    d->after = a;
    j = realloc(d->jraw, n * sizeof(*j));
    if (j == NULL)
        return LM_ENOMEM;
    d->jraw = j;
    d->vcap = n;
    return 0;
}

int lm_binlog_rows_next(lm_binlog_decoder *d, lm_row *before, lm_row *after, lm_err *err)
{
    lm_bl_rows *r = &d->rows;
    bool partial_ev = r->type == LM_BL_PARTIAL_UPDATE_ROWS;
    const uint8_t *p0, *partial = NULL;
    int rc;

    if (before)
        *before = (lm_row){0, NULL};
    if (after)
        *after = (lm_row){0, NULL};
    if (!r->active || r->p >= r->end)
        return 0;
    if (r->tm == NULL) {
        rc = lm_err_set(err, LM_ECORRUPT, "rows event for unknown table id %llu",
                        (unsigned long long)r->table_id);
        goto fail;
    }
    if (ensure_vals(d, r->tm->ncols ? r->tm->ncols : 1) < 0)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    lm_bl_arena_reset(&d->arena);
    p0 = r->p;
    if (r->op != LM_ROW_INSERT) {
        rc = decode_image(d, r->present, d->before, NULL, partial_ev ? d->jraw : NULL, err);
        if (rc < 0)
            goto fail;
        if (before)
            *before = (lm_row){r->tm->ncols, d->before};
    }
    if (r->op != LM_ROW_DELETE) {
        if (partial_ev && (rc = shared_image(d, &partial, err)) < 0)
            goto fail;
        rc = decode_image(d, r->present_after, d->after, partial, NULL, err);
        if (rc < 0)
            goto fail;
        if (after)
            *after = (lm_row){r->tm->ncols, d->after};
    }
    /* A row of no bytes (a map of zero columns) would repeat forever. */
    if (r->p == p0) {
        rc = lm_err_set(err, LM_ECORRUPT, "%s.%s: empty row image", r->tm->db, r->tm->table);
        goto fail;
    }
    return 1;
fail:
    /* Do not retry a broken image: the next call ends the event. */
    r->active = false;
    lm_err_prefix(err, "%s:%llu", r->at.file, (unsigned long long)r->at.pos);
    return rc;
}

int lm_row_clone(const lm_row *src, lm_row **out)
{
    size_t bytes = sizeof(lm_row) + src->ncols * sizeof(lm_value), i;
    lm_row *row;
    char *s;

    *out = NULL;
    for (i = 0; i < src->ncols; i++)
        if (src->cols[i].str)
            bytes += src->cols[i].len + 1;
    row = malloc(bytes);
    if (row == NULL)
        return LM_ENOMEM;
    row->ncols = src->ncols;
    row->cols = (lm_value *)(row + 1);
    s = (char *)(row->cols + src->ncols);
    for (i = 0; i < src->ncols; i++) {
        row->cols[i] = src->cols[i];
        if (src->cols[i].str == NULL)
            continue;
        /* NUL-terminated as a convenience; len stays authoritative. */
        memcpy(s, src->cols[i].str, src->cols[i].len);
        s[src->cols[i].len] = '\0';
        row->cols[i].str = s;
        s += src->cols[i].len + 1;
    }
    *out = row;
    return 0;
}

void lm_row_free(lm_row *row)
{
    free(row);
}
