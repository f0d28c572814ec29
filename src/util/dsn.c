/* Connection strings. MySQL/MariaDB URIs are taken apart here; PostgreSQL
 * URIs are kept whole because libpq understands more of them than we do. */
#include "livemig/dsn.h"
#include "livemig/buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into a new string. A decoded NUL would cut the
 * value short when handed to the connector, so it is refused. */
static int decode(const char *s, size_t n, char **out, const char *what, lm_err *err)
{
    char *d = malloc(n + 1), *p = d;

    if (d == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(d);
                return lm_err_set(err, LM_EINVAL, "the DSN has a bad %%-escape in the %s", what);
            }
            *p++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *p++ = s[i];
        }
    }
    *p = '\0';
    *out = d;
    return 0;
}

static int parse_query(lm_dsn *out, const char *q, lm_err *err)
{
    while (*q) {
        const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
        const char *eq = memchr(q, '=', (size_t)(end - q));
        size_t klen = eq ? (size_t)(eq - q) : (size_t)(end - q);
        int rc;

        if (klen == 6 && strncmp(q, "socket", 6) == 0 && eq) {
            free(out->socket);
            out->socket = NULL;
            if ((rc = decode(eq + 1, (size_t)(end - eq - 1), &out->socket, "socket", err)) < 0)
                return rc;
        } else if (klen > 0) {
            return lm_err_set(err, LM_EINVAL, "unknown DSN parameter '%.*s' (known: socket)",
                              (int)klen, q);
        }
        q = amp ? amp + 1 : end;
    }
    return 0;
}

int lm_dsn_parse(lm_dsn *out, const char *uri, lm_err *err)
{
    const char *p, *auth_end, *at, *hostp, *colon, *path_end;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (uri == NULL || *uri == '\0')
        return lm_err_set(err, LM_EINVAL, "no DSN given");
    if ((out->uri = strdup(uri)) == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    if (strncasecmp(uri, "postgres://", 11) == 0 || strncasecmp(uri, "postgresql://", 13) == 0) {
        out->kind = LM_DSN_PG;
        return 0;
    }
    if (strncasecmp(uri, "mysql://", 8) == 0)
        p = uri + 8;
    else if (strncasecmp(uri, "mariadb://", 10) == 0)
        p = uri + 10;
    else {
        rc = lm_err_set(err, LM_EINVAL,
                        "the DSN must start with mysql://, mariadb:// or postgres://");
        goto cleanup;
    }
    out->kind = LM_DSN_MYSQL;
    auth_end = p + strcspn(p, "/?");
    /* The password may contain '@' when not escaped: the last '@' ends it. */
    at = NULL;
    for (const char *s = p; s < auth_end; s++)
        if (*s == '@')
            at = s;
    hostp = p;
    if (at) {
        const char *c = memchr(p, ':', (size_t)(at - p));
        if ((rc = decode(p, (size_t)((c ? c : at) - p), &out->user, "user", err)) < 0)
            goto cleanup;
        if (c && (rc = decode(c + 1, (size_t)(at - c - 1), &out->password, "password", err)) < 0)
            goto cleanup;
        if (out->user[0] == '\0') {
            free(out->user);
            out->user = NULL;
        }
        hostp = at + 1;
    }
    if (*hostp == '[') { /* [IPv6]:port */
        const char *rb = memchr(hostp, ']', (size_t)(auth_end - hostp));
        if (rb == NULL) {
            rc = lm_err_set(err, LM_EINVAL, "the DSN has an unterminated [IPv6 address]");
            goto cleanup;
        }
        if ((out->host = strndup(hostp + 1, (size_t)(rb - hostp - 1))) == NULL)
            goto oom;
        colon = rb + 1 < auth_end && rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(hostp, ':', (size_t)(auth_end - hostp));
        size_t hl = (size_t)((colon ? colon : auth_end) - hostp);
        if (hl && (rc = decode(hostp, hl, &out->host, "host", err)) < 0)
            goto cleanup;
    }
    if (colon) {
        char *end;
        unsigned long port = strtoul(colon + 1, &end, 10);
        if (end != auth_end || end == colon + 1 || port == 0 || port > 65535) {
            rc = lm_err_set(err, LM_EINVAL, "the DSN has a bad port '%.*s'",
                            (int)(auth_end - colon - 1), colon + 1);
            goto cleanup;
        }
        out->port = (unsigned)port;
    }
    p = auth_end;
    if (*p == '/') {
        p++;
        path_end = p + strcspn(p, "?");
        if (path_end > p && (rc = decode(p, (size_t)(path_end - p), &out->db, "database", err)) < 0)
            goto cleanup;
        p = path_end;
    }
    if (*p == '?' && (rc = parse_query(out, p + 1, err)) < 0)
        goto cleanup;
    if (out->db == NULL || out->db[0] == '\0') {
        rc = lm_err_set(err, LM_EINVAL, "the DSN names no database (mysql://user@host/db)");
        goto cleanup;
    }
    return 0;
oom:
    rc = lm_err_set(err, LM_ENOMEM, "out of memory");
cleanup:
    lm_dsn_free(out);
    return rc;
}

void lm_dsn_free(lm_dsn *dsn)
{
    if (dsn == NULL)
        return;
    free(dsn->user);
    free(dsn->password);
    free(dsn->host);
    free(dsn->db);
    free(dsn->socket);
    free(dsn->defaults_file);
    free(dsn->uri);
    memset(dsn, 0, sizeof(*dsn));
}

/* Mask the value of a password=… query parameter (libpq URIs allow it). */
static void mask_query_password(lm_buf *b, const char *q)
{
    while (*q) {
        size_t n = strcspn(q, "&");
        if (strncasecmp(q, "password=", 9) == 0)
            lm_buf_puts(b, "password=***");
        else
            lm_buf_append(b, q, n);
        q += n;
        if (*q == '&')
            lm_buf_putc(b, *q++);
    }
}

char *lm_dsn_redacted(const lm_dsn *dsn)
{
    lm_buf b = LM_BUF_INIT;
    const char *u = dsn->uri, *scheme, *auth, *auth_end, *at = NULL, *colon;

    if (u == NULL)
        return NULL;
    scheme = strstr(u, "://");
    if (scheme == NULL) {
        /* A libpq key=value string: keep it only if it has no password. */
        return strdup(strstr(u, "password") ? "(connection string)" : u);
    }
    auth = scheme + 3;
    auth_end = auth + strcspn(auth, "/?");
    for (const char *s = auth; s < auth_end; s++)
        if (*s == '@')
            at = s;
    lm_buf_append(&b, u, (size_t)(auth - u));
    if (at) {
        colon = memchr(auth, ':', (size_t)(at - auth));
        lm_buf_append(&b, auth, (size_t)((colon ? colon : at) - auth));
        if (colon)
            lm_buf_puts(&b, ":***");
        lm_buf_append(&b, at, (size_t)(auth_end - at));
    } else {
        lm_buf_append(&b, auth, (size_t)(auth_end - auth));
    }
    {
        const char *q = strchr(auth_end, '?');
        lm_buf_append(&b, auth_end, (size_t)((q ? q : auth_end + strlen(auth_end)) - auth_end));
        if (q) {
            lm_buf_putc(&b, '?');
            mask_query_password(&b, q + 1);
        }
    }
    if (b.oom) {
        lm_buf_free(&b);
        return NULL;
    }
    return lm_buf_detach(&b);
}
