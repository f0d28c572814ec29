/* MySQL partial JSON updates (PARTIAL_UPDATE_ROWS, written with
 * binlog_row_value_options=PARTIAL_JSON): the after image of a JSON column
 * holds diffs to apply to the before image's document (sql/json_diff.cc,
 * Json_diff_vector::read_binary and apply_json_diffs). Each diff:
 *   op (1 byte: 0 REPLACE, 1 INSERT, 2 REMOVE), lenenc path length, path
 *   text, then unless REMOVE: lenenc value length, binary JSON value.
 * Paths are Json_path::to_string text: $ then .name, ."quoted name", [N],
 * [last] or [last-N]. Only the containers on a diff's path are opened into
 * nodes; everything else stays binary and prints through mysql_json.c, so
 * the text is what the full after image would have given. */
#include "binlog/internal.h"

#include <string.h>

enum { OP_REPLACE = 0, OP_INSERT = 1, OP_REMOVE = 2 };
enum { E_BAD = -1, E_NOAPPLY = -2, E_NOMEM = -3, E_PATH = -4 };

#define J_LITERAL 4

typedef struct jkid jkid;

/* A value: its binary form until a diff opens it into kids. */
typedef struct jnode {
    uint8_t type;
    const uint8_t *p;
    size_t len;
    bool open, obj;
    size_t n, cap;
    jkid *kids;
} jnode;

struct jkid {
    const char *key; /* objects only */
    size_t klen;
    jnode v;
};

typedef struct jleg {
    bool cell;        /* [N] rather than .name */
    bool from_end;    /* [last-N] */
    const char *name; /* decoded member name */
    size_t nlen;
    uint64_t idx;
} jleg;

typedef struct jctx {
    lm_bl_arena *a;
    jleg legs[LM_BL_JSON_MAX_DEPTH];
    size_t nlegs;
} jctx;

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && is_ws(s[i]))
        i++;
    return i;
}

static int digits(const char *s, size_t n, size_t *ip, uint64_t *v)
{
    size_t i = *ip;

    *v = 0;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return E_PATH;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (*v > (UINT64_MAX - d) / 10)
            return E_PATH;
        *v = *v * 10 + d;
    }
    *ip = i;
    return 0;
}

static int hex4(const char *s, size_t n, size_t i, unsigned *cp)
{
    size_t k;

    if (n - i < 4)
        return E_PATH;
    *cp = 0;
    for (k = 0; k < 4; k++) {
        char ch = s[i + k];
        unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
                     : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                     : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10)
                                              : 16;
        if (d == 16)
            return E_PATH;
        *cp = *cp << 4 | d;
    }
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ."member" with JSON escapes; *ip is at the opening quote. Every escape
 * decodes to no more bytes than it takes, so n - i bytes suffice. */
static int quoted(jctx *c, const char *s, size_t n, size_t *ip, jleg *leg)
{
    size_t i = *ip + 1, k = 0;
    char *o = lm_bl_arena_alloc(c->a, n - i + 1);

    if (o == NULL)
        return E_NOMEM;
    while (i < n && s[i] != '"') {
        char ch = s[i++];
        unsigned cp;
        if (ch != '\\') {
            o[k++] = ch;
            continue;
        }
        if (i == n)
            return E_PATH;
        ch = s[i++];
        switch (ch) {
        case '"':
        case '\\':
        case '/':
            o[k++] = ch;
            break;
        case 'b':
            o[k++] = '\b';
            break;
        case 'f':
            o[k++] = '\f';
            break;
        case 'n':
            o[k++] = '\n';
            break;
        case 'r':
            o[k++] = '\r';
            break;
        case 't':
            o[k++] = '\t';
            break;
        case 'u':
            if (hex4(s, n, i, &cp) < 0)
                return E_PATH;
            i += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return E_PATH;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u' || hex4(s, n, i + 2, &lo) < 0 ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return E_PATH;
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            k += put_utf8(o + k, cp);
            break;
        default:
            return E_PATH;
        }
    }
    if (i == n)
        return E_PATH;
    leg->name = o;
    leg->nlen = k;
    *ip = i + 1;
    return 0;
}

/* A seekable path: members and cells only (no wildcards or ranges, which
 * a diff never holds). */
static int parse_path(jctx *c, const char *s, size_t n)
{
    size_t i = skip_ws(s, n, 0), start;
    int rc;

    c->nlegs = 0;
    if (i == n || s[i] != '$')
        return E_PATH;
    for (i++;;) {
        jleg *leg = &c->legs[c->nlegs];
        i = skip_ws(s, n, i);
        if (i == n)
            return 0;
        if (c->nlegs == LM_BL_JSON_MAX_DEPTH)
            return E_PATH;
        memset(leg, 0, sizeof(*leg));
        if (s[i] == '.') {
            i = skip_ws(s, n, i + 1);
            if (i < n && s[i] == '"') {
                if ((rc = quoted(c, s, n, &i, leg)) < 0)
                    return rc;
            } else {
                for (start = i; i < n && !is_ws(s[i]) && s[i] != '.' && s[i] != '['; i++)
                    if (s[i] == '*' || s[i] == '"' || s[i] == ']' || s[i] == '\0')
                        return E_PATH;
                if (i == start)
                    return E_PATH;
                leg->name = s + start;
                leg->nlen = i - start;
            }
        } else if (s[i] == '[') {
            leg->cell = true;
            i = skip_ws(s, n, i + 1);
            if (n - i >= 4 && memcmp(s + i, "last", 4) == 0) {
                leg->from_end = true;
                i = skip_ws(s, n, i + 4);
                if (i < n && s[i] == '-') {
                    i = skip_ws(s, n, i + 1);
                    if (digits(s, n, &i, &leg->idx) < 0)
                        return E_PATH;
                }
            } else if (digits(s, n, &i, &leg->idx) < 0) {
                return E_PATH;
            }
            i = skip_ws(s, n, i);
            if (i == n || s[i] != ']')
                return E_PATH;
            i++;
        } else {
            return E_PATH;
        }
        c->nlegs++;
    }
}

static int expand(jctx *c, jnode *nd)
{
    lm_bl_jcont ct;
    lm_bl_jentry e;
    size_t i;
    int rc;

    if (nd->open)
        return 0;
    rc = lm_bl_mysql_json_open(&ct, nd->type, nd->p, nd->len);
    if (rc > 0)
        return E_NOAPPLY; /* a scalar has no members or cells */
    if (rc < 0)
        return E_BAD;
    /* count <= size <= len: the entries are bounded by the input. */
    nd->cap = ct.count + 1;
    nd->kids = lm_bl_arena_alloc(c->a, nd->cap * sizeof(jkid));
    if (nd->kids == NULL)
        return E_NOMEM;
    for (i = 0; i < ct.count; i++) {
        jkid *k = &nd->kids[i];
        if (lm_bl_mysql_json_entry(&ct, i, &e) < 0)
            return E_BAD;
        memset(k, 0, sizeof(*k));
        k->key = e.key;
        k->klen = e.klen;
        k->v.type = e.type;
        k->v.p = e.p;
        k->v.len = e.len;
    }
    nd->n = ct.count;
    nd->obj = ct.obj;
    nd->open = true;
    return 0;
}

static bool find(const jnode *nd, const char *name, size_t nlen, size_t *pos)
{
    size_t i;
    for (i = 0; i < nd->n; i++) {
        if (nd->kids[i].klen == nlen && memcmp(nd->kids[i].key, name, nlen) == 0) {
            *pos = i;
            return true;
        }
    }
    return false;
}

/* Json_array_index: a position clamped to the array, and whether the
 * index named an existing cell. */
static bool cell_pos(const jleg *l, size_t n, size_t *pos)
{
    if (l->from_end)
        *pos = l->idx < n ? n - (size_t)l->idx - 1 : 0;
    else
        *pos = l->idx < n ? (size_t)l->idx : n;
    return l->idx < n;
}

static int insert_kid(jctx *c, jnode *nd, size_t pos, const jkid *k)
{
    if (nd->n == nd->cap) {
        size_t cap = nd->cap * 2 + 4;
        jkid *kids = lm_bl_arena_alloc(c->a, cap * sizeof(jkid));
        if (kids == NULL)
            return E_NOMEM;
        if (nd->n)
            memcpy(kids, nd->kids, nd->n * sizeof(jkid));
        nd->kids = kids;
        nd->cap = cap;
    }
    memmove(nd->kids + pos + 1, nd->kids + pos, (nd->n - pos) * sizeof(jkid));
    nd->kids[pos] = *k;
    nd->n++;
    return 0;
}

/* Objects keep the binary order (shorter keys first, then bytewise), the
 * order the server's full after image would have. */
static size_t key_slot(const jnode *nd, const char *name, size_t nlen)
{
    size_t i;
    for (i = 0; i < nd->n; i++) {
        const jkid *k = &nd->kids[i];
        if (k->klen > nlen || (k->klen == nlen && memcmp(k->key, name, nlen) > 0))
            break;
    }
    return i;
}

static int apply(jctx *c, jnode *root, int op, const jnode *val)
{
    jnode *nd = root;
    const jleg *l;
    jkid k;
    size_t i, pos;
    bool found;
    int rc;

    if (c->nlegs == 0)
        return E_NOAPPLY; /* the server never diffs the root */
    for (i = 0;; i++) {
        l = &c->legs[i];
        if ((rc = expand(c, nd)) < 0)
            return rc;
        if (nd->obj != !l->cell)
            return E_NOAPPLY;
        found = nd->obj ? find(nd, l->name, l->nlen, &pos) : cell_pos(l, nd->n, &pos);
        if (i + 1 == c->nlegs)
            break;
        if (!found)
            return E_NOAPPLY;
        nd = &nd->kids[pos].v;
    }
    switch (op) {
    case OP_REPLACE:
        if (!found)
            return E_NOAPPLY;
        nd->kids[pos].v = *val;
        return 0;
    case OP_INSERT:
        if (nd->obj && found)
            return E_NOAPPLY;
        memset(&k, 0, sizeof(k));
        if (nd->obj) {
            k.key = l->name;
            k.klen = l->nlen;
            pos = key_slot(nd, l->name, l->nlen);
        }
        k.v = *val;
        return insert_kid(c, nd, pos, &k);
    default:
        if (!found)
            return E_NOAPPLY;
        memmove(nd->kids + pos, nd->kids + pos + 1, (nd->n - pos - 1) * sizeof(jkid));
        nd->n--;
        return 0;
    }
}

static int print(lm_buf *out, const jnode *nd, int depth)
{
    size_t i;

    if (!nd->open)
        return lm_bl_mysql_json_value(out, nd->type, nd->p, nd->len, depth);
    if (depth > LM_BL_JSON_MAX_DEPTH)
        return -1;
    lm_buf_putc(out, nd->obj ? '{' : '[');
    for (i = 0; i < nd->n; i++) {
        if (i)
            lm_buf_puts(out, ", ");
        if (nd->obj) {
            lm_buf_json_str(out, nd->kids[i].key, nd->kids[i].klen);
            lm_buf_puts(out, ": ");
        }
        if (print(out, &nd->kids[i].v, depth + 1) < 0)
            return -1;
    }
    return lm_buf_putc(out, nd->obj ? '}' : ']');
}

/* The path for a message: printable ASCII, cut at 80 bytes. */
static void path_text(char *dst, size_t cap, const uint8_t *p, size_t n)
{
    size_t i, k = 0;
    for (i = 0; i < n && k + 4 < cap; i++)
        dst[k++] = p[i] >= 0x20 && p[i] < 0x7F ? (char)p[i] : '?';
    if (i < n && k + 4 <= cap) {
        memcpy(dst + k, "...", 3);
        k += 3;
    }
    dst[k] = '\0';
}

int lm_bl_json_diff_apply(lm_buf *out, lm_bl_arena *scratch, const uint8_t *doc, size_t doclen,
                          const uint8_t *diffs, size_t n, lm_err *err)
{
    static const char *const names[] = {"REPLACE", "INSERT", "REMOVE"};
    static const uint8_t json_null = 0;
    lm_bl_cur cur = {diffs, diffs + n};
    jctx c;
    jnode root, val;
    unsigned ndiff = 0;
    char pt[84];
    int rc = 0;

    c.a = scratch;
    memset(&root, 0, sizeof(root));
    /* An empty value is a JSON null (see lm_bl_mysql_json). */
    root.type = doclen ? doc[0] : J_LITERAL;
    root.p = doclen ? doc + 1 : &json_null;
    root.len = doclen ? doclen - 1 : 1;
    while (lm_bl_left(&cur) > 0) {
        uint64_t op, plen, vlen;
        const uint8_t *path;

        ndiff++;
        op = *cur.p++;
        if (op > OP_REMOVE) {
            rc = lm_err_set(err, LM_ECORRUPT, "JSON diff %u: unknown operation %u", ndiff,
                            (unsigned)op);
            goto cleanup;
        }
        if (lm_bl_lenenc(&cur, &plen) < 0 || plen > lm_bl_left(&cur)) {
            rc = lm_err_set(err, LM_ECORRUPT, "JSON diff %u: path length runs past the diffs",
                            ndiff);
            goto cleanup;
        }
        path = cur.p;
        cur.p += plen;
        path_text(pt, sizeof(pt), path, (size_t)plen);
        rc = parse_path(&c, (const char *)path, (size_t)plen);
        if (rc == E_PATH) {
            rc = lm_err_set(err, LM_ECORRUPT, "JSON diff %u: bad path '%s'", ndiff, pt);
            goto cleanup;
        }
        if (rc < 0)
            goto nomem;
        memset(&val, 0, sizeof(val));
        if (op != OP_REMOVE) {
            /* A value is at least its type byte. */
            if (lm_bl_lenenc(&cur, &vlen) < 0 || vlen == 0 || vlen > lm_bl_left(&cur)) {
                rc = lm_err_set(err, LM_ECORRUPT,
                                "JSON diff %u (%s %s): value length runs past the diffs", ndiff,
                                names[op], pt);
                goto cleanup;
            }
            val.type = cur.p[0];
            val.p = cur.p + 1;
            val.len = (size_t)vlen - 1;
            cur.p += vlen;
        }
        rc = apply(&c, &root, (int)op, &val);
        if (rc == E_NOMEM)
            goto nomem;
        if (rc == E_BAD) {
            rc = lm_err_set(err, LM_ECORRUPT, "JSON diff %u (%s %s): malformed MySQL binary JSON",
                            ndiff, names[op], pt);
            goto cleanup;
        }
        if (rc < 0) {
            rc = lm_err_set(err, LM_ECORRUPT,
                            "JSON diff %u (%s %s) does not apply to the before image", ndiff,
                            names[op], pt);
            goto cleanup;
        }
    }
    if (print(out, &root, 0) < 0) {
        rc = lm_err_set(err, LM_ECORRUPT, "malformed MySQL binary JSON value in a JSON diff");
        goto cleanup;
    }
    if (out->oom)
        goto nomem;
    rc = 0;
    goto cleanup;
nomem:
    rc = lm_err_set(err, LM_ENOMEM, "out of memory");
cleanup:
    lm_bl_arena_reset(scratch);
    return rc;
}
