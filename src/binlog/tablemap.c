/* TABLE_MAP events: column types, per-type metadata and the optional
 * metadata TLVs of binlog_row_metadata=MINIMAL|FULL. */
#include "binlog/internal.h"

#include <stdlib.h>
#include <string.h>

enum {
    OPT_SIGNEDNESS = 1,
    OPT_DEFAULT_CHARSET = 2,
    OPT_COLUMN_CHARSET = 3,
    OPT_COLUMN_NAME = 4,
    OPT_SET_STR_VALUE = 5,
    OPT_ENUM_STR_VALUE = 6,
};

static void free_names(char **names, unsigned n)
{
    unsigned i;
    if (names == NULL)
        return;
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void lm_bl_tablemap_free(lm_table_map *tm)
{
    unsigned i;

    if (tm == NULL)
        return;
    free(tm->types);
    free(tm->meta);
    free(tm->nullable);
    free(tm->is_unsigned);
    free(tm->charsets);
    free_names(tm->names, tm->ncols);
    for (i = 0; tm->enum_names && i < tm->ncols; i++)
        free_names(tm->enum_names[i], tm->enum_counts[i]);
    for (i = 0; tm->set_names && i < tm->ncols; i++)
        free_names(tm->set_names[i], tm->set_counts[i]);
    free(tm->enum_names);
    free(tm->enum_counts);
    free(tm->set_names);
    free(tm->set_counts);
    free(tm);
}

static char *dup_n(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* Signedness: one bit (MSB first) per numeric column. */
static int opt_signedness(lm_table_map *tm, lm_bl_cur c, bool mariadb)
{
    unsigned i, k = 0;

    tm->is_unsigned = malloc(tm->ncols ? tm->ncols : 1);
    if (tm->is_unsigned == NULL)
        return LM_ENOMEM;
    for (i = 0; i < tm->ncols; i++) {
        tm->is_unsigned[i] = -1;
        if (!lm_bl_type_is_numeric(tm->types[i]) && !(mariadb && tm->types[i] == LM_T_YEAR))
            continue;
        if (k / 8 >= lm_bl_left(&c))
            return LM_ECORRUPT;
        tm->is_unsigned[i] = (c.p[k / 8] >> (7 - k % 8)) & 1;
        if (tm->types[i] == LM_T_YEAR)
            tm->is_unsigned[i] = -1;
        k++;
    }
    return 0;
}

static int ensure_charsets(lm_table_map *tm)
{
    if (tm->charsets == NULL)
        tm->charsets = calloc(tm->ncols ? tm->ncols : 1, sizeof(*tm->charsets));
    return tm->charsets ? 0 : LM_ENOMEM;
}

/* DEFAULT_CHARSET: a default, then (index among char columns, collation)
 * pairs for the exceptions. COLUMN_CHARSET: one collation per char column. */
static int opt_charsets(lm_table_map *tm, lm_bl_cur c, int per_column)
{
    uint64_t v, idx, dflt = 0;
    unsigned i, k = 0;

    if (ensure_charsets(tm) < 0)
        return LM_ENOMEM;
    if (!per_column && lm_bl_lenenc(&c, &dflt) < 0)
        return LM_ECORRUPT;
    for (i = 0; i < tm->ncols; i++) {
        if (!lm_bl_type_is_char(tm->types[i], tm->meta[i]))
            continue;
        if (per_column) {
            if (lm_bl_lenenc(&c, &v) < 0)
                return LM_ECORRUPT;
            tm->charsets[i] = (uint16_t)v;
        } else {
            tm->charsets[i] = (uint16_t)dflt;
        }
    }
    while (!per_column && lm_bl_left(&c) > 0) {
        if (lm_bl_lenenc(&c, &idx) < 0 || lm_bl_lenenc(&c, &v) < 0)
            return LM_ECORRUPT;
        for (i = 0, k = 0; i < tm->ncols; i++) {
            if (!lm_bl_type_is_char(tm->types[i], tm->meta[i]))
                continue;
            if (k++ == idx) {
                tm->charsets[i] = (uint16_t)v;
                break;
            }
        }
    }
    return 0;
}

static int opt_names(lm_table_map *tm, lm_bl_cur c)
{
    uint64_t n;
    unsigned i;

    tm->names = calloc(tm->ncols ? tm->ncols : 1, sizeof(char *));
    if (tm->names == NULL)
        return LM_ENOMEM;
    for (i = 0; i < tm->ncols; i++) {
        if (lm_bl_lenenc(&c, &n) < 0 || n > lm_bl_left(&c))
            return LM_ECORRUPT;
        if ((tm->names[i] = dup_n(c.p, (size_t)n)) == NULL)
            return LM_ENOMEM;
        c.p += n;
    }
    return 0;
}

/* Member names of each ENUM (or SET) column, in column order. */
static int opt_strvalues(lm_table_map *tm, lm_bl_cur c, uint8_t want, char ****names_out,
                         unsigned **counts_out)
{
    char ***names = calloc(tm->ncols ? tm->ncols : 1, sizeof(*names));
    unsigned *counts = calloc(tm->ncols ? tm->ncols : 1, sizeof(*counts));
    uint64_t cnt, n, j;
    unsigned i;

    *names_out = names;
    *counts_out = counts;
    if (names == NULL || counts == NULL)
        return LM_ENOMEM;
    for (i = 0; i < tm->ncols && lm_bl_left(&c) > 0; i++) {
        if (lm_bl_real_type(tm->types[i], tm->meta[i], NULL) != want)
            continue;
        if (lm_bl_lenenc(&c, &cnt) < 0 || cnt > lm_bl_left(&c))
            return LM_ECORRUPT;
        names[i] = calloc(cnt ? (size_t)cnt : 1, sizeof(char *));
        if (names[i] == NULL)
            return LM_ENOMEM;
        counts[i] = (unsigned)cnt;
        for (j = 0; j < cnt; j++) {
            if (lm_bl_lenenc(&c, &n) < 0 || n > lm_bl_left(&c))
                return LM_ECORRUPT;
            if ((names[i][j] = dup_n(c.p, (size_t)n)) == NULL)
                return LM_ENOMEM;
            c.p += n;
        }
    }
    return 0;
}

static int parse_optional(lm_table_map *tm, lm_bl_cur *c, bool mariadb)
{
    uint64_t len;
    uint8_t kind;
    lm_bl_cur v;
    int rc = 0;

    while (rc == 0 && lm_bl_left(c) > 0) {
        kind = *c->p++;
        if (lm_bl_lenenc(c, &len) < 0 || len > lm_bl_left(c))
            return LM_ECORRUPT;
        v.p = c->p;
        v.end = c->p + len;
        c->p += len;
        /* A field seen twice would leak; the server never repeats one. */
        switch (kind) {
        case OPT_SIGNEDNESS:
            if (tm->is_unsigned == NULL)
                rc = opt_signedness(tm, v, mariadb);
            break;
        case OPT_DEFAULT_CHARSET:
            rc = opt_charsets(tm, v, 0);
            break;
        case OPT_COLUMN_CHARSET:
            rc = opt_charsets(tm, v, 1);
            break;
        case OPT_COLUMN_NAME:
            if (tm->names == NULL)
                rc = opt_names(tm, v);
            break;
        case OPT_SET_STR_VALUE:
            if (tm->set_names == NULL)
                rc = opt_strvalues(tm, v, LM_T_SET, &tm->set_names, &tm->set_counts);
            break;
        case OPT_ENUM_STR_VALUE:
            if (tm->enum_names == NULL)
                rc = opt_strvalues(tm, v, LM_T_ENUM, &tm->enum_names, &tm->enum_counts);
            break;
        default:
            /* Geometry types, primary key, visibility…: not needed to decode. */
            break;
        }
    }
    return rc;
}

int lm_bl_tablemap_parse(const uint8_t *body, size_t len, unsigned post_len, bool mariadb,
                         lm_table_map **out, lm_err *err)
{
    lm_bl_cur c = {body, body + len};
    lm_table_map *tm = NULL;
    uint64_t v, ncols, mlen;
    const uint8_t *mend;
    unsigned i;
    int rc = LM_ECORRUPT, ml;

    *out = NULL;
    if (post_len < 6 || lm_bl_left(&c) < post_len)
        goto cleanup;
    tm = calloc(1, sizeof(*tm));
    if (tm == NULL) {
        rc = LM_ENOMEM;
        goto cleanup;
    }
    /* Very old servers wrote a 4-byte table id (post-header of 6). */
    tm->table_id = lm_bl_le(c.p, post_len == 6 ? 4 : 6);
    c.p += post_len;
    if (lm_bl_get(&c, 1, &v) < 0 || v + 1 > lm_bl_left(&c) || v >= sizeof(tm->db))
        goto cleanup;
    memcpy(tm->db, c.p, (size_t)v);
    c.p += v + 1;
    if (lm_bl_get(&c, 1, &v) < 0 || v + 1 > lm_bl_left(&c) || v >= sizeof(tm->table))
        goto cleanup;
    memcpy(tm->table, c.p, (size_t)v);
    c.p += v + 1;
    if (lm_bl_lenenc(&c, &ncols) < 0 || ncols > lm_bl_left(&c) || ncols > 4096)
        goto cleanup;
    tm->ncols = (unsigned)ncols;
    tm->types = malloc(tm->ncols + 1);
    tm->meta = calloc(tm->ncols + 1, sizeof(uint16_t));
    tm->nullable = calloc(tm->ncols + 1, 1);
    if (tm->types == NULL || tm->meta == NULL || tm->nullable == NULL) {
        rc = LM_ENOMEM;
        goto cleanup;
    }
    memcpy(tm->types, c.p, tm->ncols);
    c.p += tm->ncols;
    if (lm_bl_lenenc(&c, &mlen) < 0 || mlen > lm_bl_left(&c))
        goto cleanup;
    mend = c.p + mlen;
    for (i = 0; i < tm->ncols; i++) {
        ml = lm_bl_meta_len(tm->types[i]);
        if (ml < 0) {
            lm_err_set(err, LM_ECORRUPT, "table map %s.%s: unknown column type %u", tm->db,
                       tm->table, tm->types[i]);
            goto cleanup;
        }
        if ((size_t)(mend - c.p) < (size_t)ml)
            goto cleanup;
        /* Two-byte metadata is little-endian except where the server
         * writes (type, length) or (precision, scale) pairs: keep those as
         * high byte = first byte. */
        if (ml == 1)
            tm->meta[i] = c.p[0];
        else if (ml == 2 && (tm->types[i] == LM_T_VARCHAR || tm->types[i] == LM_T_VAR_STRING ||
                             tm->types[i] == LM_T_BIT))
            tm->meta[i] = (uint16_t)lm_bl_le(c.p, 2);
        else if (ml == 2)
            tm->meta[i] = (uint16_t)((c.p[0] << 8) | c.p[1]);
        c.p += ml;
    }
    c.p = mend;
    if (lm_bl_left(&c) < (tm->ncols + 7) / 8)
        goto cleanup;
    for (i = 0; i < tm->ncols; i++)
        tm->nullable[i] = (c.p[i / 8] >> (i % 8)) & 1;
    c.p += (tm->ncols + 7) / 8;
    rc = parse_optional(tm, &c, mariadb);
    if (rc == LM_ENOMEM)
        goto cleanup;
    if (rc < 0) {
        lm_err_set(err, LM_ECORRUPT, "table map %s.%s: malformed optional metadata", tm->db,
                   tm->table);
        goto cleanup;
    }
    *out = tm;
    tm = NULL;
    rc = 0;
cleanup:
    if (rc == LM_ENOMEM)
        lm_err_set(err, rc, "out of memory decoding a table map");
    else if (rc < 0)
        lm_err_set(err, rc, "malformed TABLE_MAP event");
    lm_bl_tablemap_free(tm);
    return rc;
}
