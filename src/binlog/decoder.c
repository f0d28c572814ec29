/* Event framing and the non-row events: FORMAT_DESCRIPTION, checksums,
 * ROTATE, GTIDs, QUERY, TABLE_MAP caching, TRANSACTION_PAYLOAD. */
#include "binlog/decoder.h"
#include "binlog/crc32.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int lm_binlog_decoder_new(lm_binlog_decoder **out, lm_err *err)
{
    lm_binlog_decoder *d = calloc(1, sizeof(*d));

    *out = NULL;
    if (d == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    d->verify = true;
    d->pos = 4;
    *out = d;
    return 0;
}

static void maps_clear(lm_binlog_decoder *d)
{
    size_t i;
    for (i = 0; i < d->nmaps; i++) {
        lm_bl_tablemap_free(d->maps[i].tm);
        free(d->maps[i].raw);
    }
    d->nmaps = 0;
}

void lm_binlog_decoder_free(lm_binlog_decoder *d)
{
    if (d == NULL)
        return;
    maps_clear(d);
    free(d->maps);
    free(d->pay);
    free(d->zbuf);
    free(d->before);
    free(d->after);
    free(d->jraw);
    free(d->jcols);
    lm_buf_free(&d->jkeys);
    lm_buf_free(&d->jtext);
    lm_bl_arena_free(&d->jarena);
    lm_bl_arena_free(&d->arena);
    lm_bl_arena_free(&d->evarena);
    free(d);
}

void lm_binlog_decoder_set_file(lm_binlog_decoder *d, const char *file, uint64_t pos)
{
    snprintf(d->file, sizeof(d->file), "%s", file ? file : "");
    d->pos = pos;
}

void lm_binlog_decoder_verify_checksum(lm_binlog_decoder *d, bool on)
{
    d->verify = on;
}

int lm_binlog_feed(lm_binlog_decoder *d, const uint8_t *data, size_t len, lm_err *err)
{
    if (d->in != NULL || d->pay_off < d->pay_len)
        return lm_err_set(err, LM_EINVAL, "binlog decoder fed before the last event was consumed");
    if (len < LM_BINLOG_HEADER_LEN)
        return lm_err_set(err, LM_ECORRUPT, "binlog event of %zu bytes is shorter than a header",
                          len);
    d->in = data;
    d->in_len = len;
    return 0;
}

const lm_table_map *lm_bl_map_find(const lm_binlog_decoder *d, uint64_t table_id)
{
    size_t i;
    for (i = 0; i < d->nmaps; i++)
        if (d->maps[i].tm->table_id == table_id)
            return d->maps[i].tm;
    return NULL;
}

/* Checksum-aware servers (MySQL 5.6.1+, MariaDB 5.3+) end the FDE with the
 * algorithm byte and a CRC, whatever the algorithm. */
static bool version_has_checksum(const char *ver)
{
    unsigned a = 0, b = 0, c = 0;

    if (sscanf(ver, "%u.%u.%u", &a, &b, &c) < 2)
        return false;
    if (strstr(ver, "MariaDB"))
        return a > 5 || (a == 5 && b >= 3);
    return a > 5 || (a == 5 && (b > 6 || (b == 6 && c >= 1)));
}

static int decode_fde(lm_binlog_decoder *d, lm_binlog_event *ev, const uint8_t *raw, size_t len,
                      lm_err *err)
{
    const uint8_t *body = raw + LM_BINLOG_HEADER_LEN;
    size_t blen = len - LM_BINLOG_HEADER_LEN, n, i;
    bool aware;

    if (blen < 57)
        return lm_err_set(err, LM_ECORRUPT, "FORMAT_DESCRIPTION event too short (%zu bytes)", blen);
    memset(d->server_version, 0, sizeof(d->server_version));
    memcpy(d->server_version, body + 2, 50);
    memcpy(ev->server_version, d->server_version, sizeof(ev->server_version));
    if (body[56] != LM_BINLOG_HEADER_LEN)
        return lm_err_set(err, LM_EINVAL, "unsupported binlog event header length %u", body[56]);
    aware = version_has_checksum(d->server_version);
    if (aware && blen < 57 + 5)
        return lm_err_set(err, LM_ECORRUPT, "FORMAT_DESCRIPTION event too short");
    n = blen - 57 - (aware ? 5 : 0);
    memset(d->post_len, 0, sizeof(d->post_len));
    for (i = 0; i < n && i < 255; i++)
        d->post_len[i + 1] = body[57 + i];
    d->crc32 = aware && body[blen - 5] == 1;
    if (aware && body[blen - 5] != 0 && body[blen - 5] != 1 && body[blen - 5] != 0xFF)
        return lm_err_set(err, LM_EINVAL, "unsupported binlog checksum algorithm %u",
                          body[blen - 5]);
    if (d->crc32 && d->verify) {
        /* The server sets BINLOG_IN_USE in the FDE of the file it is
         * writing without updating the CRC, which covers the flag clear. */
        uint8_t hdr[LM_BINLOG_HEADER_LEN];
        uLong crc;
        memcpy(hdr, raw, sizeof(hdr));
        hdr[17] &= (uint8_t)~0x01;
        crc = crc32(0L, hdr, sizeof(hdr));
        crc = crc32(crc, raw + sizeof(hdr), (uInt)(len - 4 - sizeof(hdr)));
        if (crc != (uLong)lm_bl_le(raw + len - 4, 4))
            return lm_err_set(err, LM_ECORRUPT, "CRC32 mismatch in FORMAT_DESCRIPTION event");
    }
    d->have_fde = true;
    return 0;
}

/* Body text as a decoder-owned C string. */
static const char *ev_str(lm_binlog_decoder *d, const uint8_t *p, size_t n)
{
    return lm_bl_arena_dup(&d->evarena, p, n);
}

static int decode_query(lm_binlog_decoder *d, lm_binlog_event *ev, const uint8_t *b, size_t len,
                        lm_err *err)
{
    unsigned post = d->post_len[ev->hdr.type] ? d->post_len[ev->hdr.type] : 13;
    size_t dblen, stlen, off;
    size_t qlen;

    if (post < 13 || len < post)
        goto bad;
    dblen = b[8];
    stlen = (size_t)lm_bl_le(b + 11, 2);
    off = post + stlen;
    if (off + dblen + 1 > len)
        goto bad;
    ev->query_db = ev_str(d, b + off, dblen);
    off += dblen + 1;
    qlen = len - off;
    if (ev->hdr.type == LM_BL_QUERY_COMPRESSED) {
        int rc = lm_bl_zlib_uncompress(b + off, qlen, &d->zbuf, &d->zcap, &qlen, err);
        if (rc < 0)
            return rc;
        ev->query = ev_str(d, d->zbuf, qlen);
    } else {
        ev->query = ev_str(d, b + off, qlen);
    }
    if (ev->query == NULL || ev->query_db == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    return 0;
bad:
    return lm_err_set(err, LM_ECORRUPT, "malformed QUERY event");
}

static int decode_table_map(lm_binlog_decoder *d, lm_binlog_event *ev, const uint8_t *b, size_t len,
                            lm_err *err)
{
    unsigned post = d->post_len[LM_BL_TABLE_MAP] ? d->post_len[LM_BL_TABLE_MAP] : 8;
    lm_table_map *tm = NULL;
    lm_bl_cached_map *slot = NULL;
    uint8_t *raw;
    uint64_t id;
    size_t i;
    int rc;

    if (len < 6)
        return lm_err_set(err, LM_ECORRUPT, "malformed TABLE_MAP event");
    id = lm_bl_le(b, post == 6 ? 4 : 6);
    for (i = 0; i < d->nmaps; i++) {
        if (d->maps[i].tm->table_id != id)
            continue;
        if (d->maps[i].raw_len == len && memcmp(d->maps[i].raw, b, len) == 0) {
            ev->table = d->maps[i].tm;
            return 0;
        }
        slot = &d->maps[i];
    }
    rc = lm_bl_tablemap_parse(b, len, post, strstr(d->server_version, "MariaDB") != NULL, &tm, err);
    if (rc < 0)
        return rc;
    raw = malloc(len ? len : 1);
    if (raw == NULL) {
        lm_bl_tablemap_free(tm);
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    }
    memcpy(raw, b, len);
    /* A table gets a new id after DDL or a flush: drop its old entry so
     * that the cache stays as small as the set of live tables. */
    for (i = 0; slot == NULL && i < d->nmaps; i++) {
        if (strcmp(d->maps[i].tm->db, tm->db) == 0 && strcmp(d->maps[i].tm->table, tm->table) == 0)
            slot = &d->maps[i];
    }
    if (slot == NULL) {
        if (d->nmaps == d->cap_maps) {
            size_t cap = d->cap_maps ? d->cap_maps * 2 : 16;
            lm_bl_cached_map *m = realloc(d->maps, cap * sizeof(*m));
            if (m == NULL) {
                free(raw);
                lm_bl_tablemap_free(tm);
                return lm_err_set(err, LM_ENOMEM, "out of memory");
            }
            d->maps = m;
            d->cap_maps = cap;
        }
        slot = &d->maps[d->nmaps++];
    } else {
        lm_bl_tablemap_free(slot->tm);
        free(slot->raw);
    }
    slot->tm = tm;
    slot->raw = raw;
    slot->raw_len = len;
    ev->table = tm;
    return 0;
}

static void uuid_text(const uint8_t *s, char *out)
{
    static const char hex[] = "0123456789abcdef";
    int i;
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *out++ = '-';
        *out++ = hex[s[i] >> 4];
        *out++ = hex[s[i] & 15];
    }
    *out = '\0';
}

static int decode_body(lm_binlog_decoder *d, lm_binlog_event *ev, const uint8_t *b, size_t len,
                       lm_err *err)
{
    uint64_t n, i;
    size_t off;

    switch (ev->hdr.type) {
    case LM_BL_QUERY:
    case LM_BL_QUERY_COMPRESSED:
        return decode_query(d, ev, b, len, err);
    case LM_BL_XID:
        if (len < 8)
            goto bad;
        ev->xid = lm_bl_le(b, 8);
        return 0;
    case LM_BL_TABLE_MAP:
        return decode_table_map(d, ev, b, len, err);
    case LM_BL_WRITE_ROWS_V1:
    case LM_BL_UPDATE_ROWS_V1:
    case LM_BL_DELETE_ROWS_V1:
    case LM_BL_WRITE_ROWS_V2:
    case LM_BL_UPDATE_ROWS_V2:
    case LM_BL_DELETE_ROWS_V2:
    case LM_BL_PARTIAL_UPDATE_ROWS:
    case LM_BL_WRITE_ROWS_COMPRESSED_V1:
    case LM_BL_UPDATE_ROWS_COMPRESSED_V1:
    case LM_BL_DELETE_ROWS_COMPRESSED_V1:
        return lm_bl_rows_start(d, ev, b, len, err);
    case LM_BL_GTID_MYSQL:
        if (len < 25)
            goto bad;
        uuid_text(b + 1, ev->gtid);
        snprintf(ev->gtid + 36, sizeof(ev->gtid) - 36, ":%lld", (long long)lm_bl_le(b + 17, 8));
        return 0;
    case LM_BL_GTID_MARIADB:
        if (len < 12)
            goto bad;
        snprintf(ev->gtid, sizeof(ev->gtid), "%u-%u-%llu", (unsigned)lm_bl_le(b + 8, 4),
                 (unsigned)ev->hdr.server_id, (unsigned long long)lm_bl_le(b, 8));
        return 0;
    case LM_BL_GTID_LIST:
        /* The list as "d-s-n,…" (truncated if it does not fit). */
        if (len < 4)
            goto bad;
        n = lm_bl_le(b, 4) & 0x0FFFFFFF;
        if (4 + n * 16 > len)
            goto bad;
        for (i = 0, off = 0; i < n && off < sizeof(ev->gtid); i++) {
            const uint8_t *e = b + 4 + i * 16;
            int w = snprintf(ev->gtid + off, sizeof(ev->gtid) - off, "%s%u-%u-%llu", i ? "," : "",
                             (unsigned)lm_bl_le(e, 4), (unsigned)lm_bl_le(e + 4, 4),
                             (unsigned long long)lm_bl_le(e + 8, 8));
            off += (size_t)w;
        }
        return 0;
    case LM_BL_ANNOTATE_ROWS:
        ev->query = ev_str(d, b, len);
        return ev->query ? 0 : lm_err_set(err, LM_ENOMEM, "out of memory");
    default:
        return 0;
    }
bad:
    return lm_err_set(err, LM_ECORRUPT, "malformed event of type %u", ev->hdr.type);
}

/* Decode one event. inner: from a TRANSACTION_PAYLOAD (no checksum, no
 * position of its own). */
static int decode_event(lm_binlog_decoder *d, lm_binlog_event *ev, const uint8_t *raw, size_t len,
                        bool inner, lm_err *err)
{
    lm_binlog_header *h = &ev->hdr;
    size_t crc = 0, blen;
    const uint8_t *b;
    int rc;

    memset(ev, 0, sizeof(*ev));
    h->timestamp = (uint32_t)lm_bl_le(raw, 4);
    h->type = raw[4];
    h->server_id = (uint32_t)lm_bl_le(raw + 5, 4);
    h->event_size = (uint32_t)lm_bl_le(raw + 9, 4);
    h->log_pos = (uint32_t)lm_bl_le(raw + 13, 4);
    h->flags = (uint16_t)lm_bl_le(raw + 17, 2);
    if (h->event_size != len)
        return lm_err_set(err, LM_ECORRUPT, "event at %s:%llu: size %u but %zu bytes given",
                          d->file, (unsigned long long)d->pos, h->event_size, len);
    snprintf(ev->at.file, sizeof(ev->at.file), "%s", inner ? d->pay_at.file : d->file);
    ev->at.pos = inner ? d->pay_at.pos : d->pos;
    /* A server-written event ends at log_pos: its start is known even
     * when the events before it were left out (a filtered recording). */
    if (!inner && h->log_pos >= len && !(h->flags & LM_BINLOG_FLAG_ARTIFICIAL) &&
        h->type != LM_BL_FORMAT_DESCRIPTION && h->type != LM_BL_ROTATE &&
        h->type != LM_BL_HEARTBEAT && h->type != LM_BL_HEARTBEAT_V2) {
        ev->at.pos = h->log_pos - len;
        d->pos = ev->at.pos;
    }

    if (h->type == LM_BL_FORMAT_DESCRIPTION && !inner) {
        rc = decode_fde(d, ev, raw, len, err);
        if (rc < 0)
            goto fail;
    } else if (!inner) {
        if (d->have_fde)
            crc = d->crc32 ? 4 : 0;
        else if (len >= LM_BINLOG_HEADER_LEN + 4 &&
                 lm_bl_crc32(0, raw, len - 4) == (uint32_t)lm_bl_le(raw + len - 4, 4))
            crc = 4; /* before any FDE (fake ROTATE): a matching CRC tells */
        if (len < LM_BINLOG_HEADER_LEN + crc)
            return lm_err_set(err, LM_ECORRUPT, "event at %s:%llu shorter than its checksum",
                              d->file, (unsigned long long)d->pos);
        if (crc && d->verify &&
            lm_bl_crc32(0, raw, len - 4) != (uint32_t)lm_bl_le(raw + len - 4, 4))
            return lm_err_set(err, LM_ECORRUPT, "CRC32 mismatch in event at %s:%llu (type %u)",
                              d->file, (unsigned long long)d->pos, h->type);
    }
    b = raw + LM_BINLOG_HEADER_LEN;
    blen = len - LM_BINLOG_HEADER_LEN - crc;

    /* Positions: log_pos is the end of the event when the server set it;
     * artificial events occupy no space; otherwise sum the sizes (log_pos
     * is 0 inside transactions on MariaDB 11.4+). */
    if (inner) {
        ev->next_pos = d->pay_at.pos;
    } else if (h->type == LM_BL_ROTATE) {
        uint64_t rpos;
        if (blen < 8)
            return lm_err_set(err, LM_ECORRUPT, "malformed ROTATE event");
        rpos = lm_bl_le(b, 8);
        ev->rotate_fake = h->timestamp == 0 || (h->flags & LM_BINLOG_FLAG_ARTIFICIAL);
        ev->rotate.pos = rpos;
        snprintf(ev->rotate.file, sizeof(ev->rotate.file), "%.*s",
                 (int)(blen - 8 < 255 ? blen - 8 : 255), (const char *)b + 8);
        if (ev->rotate_fake) {
            ev->at = ev->rotate;
            ev->next_pos = rpos;
        } else {
            ev->next_pos = h->log_pos ? h->log_pos : d->pos + len;
        }
        d->pos = rpos;
        memcpy(d->file, ev->rotate.file, sizeof(d->file));
        return 0;
    } else if (h->type == LM_BL_HEARTBEAT || h->type == LM_BL_HEARTBEAT_V2) {
        ev->next_pos = h->log_pos ? h->log_pos : d->pos;
        d->pos = ev->next_pos;
        return 0;
    } else if (h->log_pos) {
        ev->next_pos = h->log_pos;
    } else if ((h->flags & LM_BINLOG_FLAG_ARTIFICIAL) || h->type == LM_BL_FORMAT_DESCRIPTION) {
        ev->next_pos = d->pos;
    } else {
        ev->next_pos = d->pos + len;
    }
    if (!inner)
        d->pos = ev->next_pos;
    if (h->type == LM_BL_FORMAT_DESCRIPTION && !inner)
        return 0;

    if (h->type == LM_BL_TRANSACTION_PAYLOAD && !inner) {
        /* The FDE declares 40 here, but that is the most the TLV header
         * may take; the fields start right after the common header. */
        size_t plen = 0;
        rc = lm_bl_payload_uncompress(b, blen, &d->pay, &d->pay_cap, &plen, err);
        if (rc < 0)
            goto fail;
        d->pay_len = plen;
        d->pay_off = 0;
        d->pay_at = ev->at;
        d->pay_next = ev->next_pos;
        return 0;
    }
    rc = decode_body(d, ev, b, blen, err);
    if (rc < 0)
        goto fail;
    return 0;
fail:
    lm_err_prefix(err, "%s:%llu", ev->at.file, (unsigned long long)ev->at.pos);
    return rc;
}

/* Next inner event of the current TRANSACTION_PAYLOAD. */
static int next_inner(lm_binlog_decoder *d, lm_binlog_event *ev, lm_err *err)
{
    const uint8_t *p = d->pay + d->pay_off;
    size_t left = d->pay_len - d->pay_off, size;
    int rc;

    if (left < LM_BINLOG_HEADER_LEN)
        goto bad;
    size = (size_t)lm_bl_le(p + 9, 4);
    if (size < LM_BINLOG_HEADER_LEN || size > left)
        goto bad;
    d->pay_off += size;
    rc = decode_event(d, ev, p, size, true, err);
    if (rc < 0) {
        d->pay_off = d->pay_len = 0;
        return rc;
    }
    /* Resuming inside a payload means replaying all of it: only its last
     * inner event ends at the payload's end. */
    if (d->pay_off == d->pay_len) {
        ev->next_pos = d->pay_next;
        d->pay_off = d->pay_len = 0;
    }
    return 1;
bad:
    d->pay_off = d->pay_len = 0;
    return lm_err_set(err, LM_ECORRUPT, "%s:%llu: malformed event inside TRANSACTION_PAYLOAD",
                      d->pay_at.file, (unsigned long long)d->pay_at.pos);
}

int lm_binlog_next(lm_binlog_decoder *d, lm_binlog_event *ev, lm_err *err)
{
    const uint8_t *raw;
    size_t len;
    int rc;

    memset(&d->rows, 0, sizeof(d->rows));
    d->jtm = NULL; /* the JSON layout lives as long as one rows event */
    lm_bl_arena_reset(&d->arena);
    lm_bl_arena_reset(&d->evarena);
    for (;;) {
        if (d->pay_off < d->pay_len)
            return next_inner(d, ev, err);
        if (d->in == NULL)
            return 0;
        raw = d->in;
        len = d->in_len;
        d->in = NULL;
        rc = decode_event(d, ev, raw, len, false, err);
        if (rc < 0)
            return rc;
        /* A payload is not an event of its own: yield what it holds. */
        if (ev->hdr.type == LM_BL_TRANSACTION_PAYLOAD && d->pay_len > 0)
            continue;
        return 1;
    }
}
