#include "livemig/buf.h"
#include "livemig/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lm_buf_grow(lm_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1, cap;
    char *p;

    if (b->oom)
        return LM_ENOMEM;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL) {
        b->oom = 1;
        return LM_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int lm_buf_append(lm_buf *b, const void *data, size_t len)
{
    if (lm_buf_grow(b, len) < 0)
        return LM_ENOMEM;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int lm_buf_puts(lm_buf *b, const char *s)
{
    return lm_buf_append(b, s, strlen(s));
}

int lm_buf_putc(lm_buf *b, char c)
{
    return lm_buf_append(b, &c, 1);
}

int lm_buf_printf(lm_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || lm_buf_grow(b, (size_t)n) < 0)
        return LM_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int lm_buf_hex(lm_buf *b, const uint8_t *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    if (lm_buf_grow(b, len * 2) < 0)
        return LM_ENOMEM;
    for (i = 0; i < len; i++) {
        b->data[b->len++] = digits[data[i] >> 4];
        b->data[b->len++] = digits[data[i] & 15];
    }
    b->data[b->len] = '\0';
    return 0;
}

size_t lm_utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned int cp;

    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

int lm_buf_json_str(lm_buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;

    lm_buf_putc(b, '"');
    while (i < len) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            lm_buf_putc(b, '\\');
            lm_buf_putc(b, (char)c);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n':
                lm_buf_puts(b, "\\n");
                break;
            case '\r':
                lm_buf_puts(b, "\\r");
                break;
            case '\t':
                lm_buf_puts(b, "\\t");
                break;
            default:
                lm_buf_printf(b, "\\u%04x", c);
                break;
            }
            i++;
        } else if ((n = lm_utf8_seq_len(p + i, len - i)) == 0) {
            lm_buf_puts(b, "\xEF\xBF\xBD");
            i++;
        } else {
            lm_buf_append(b, p + i, n);
            i += n;
        }
    }
    return lm_buf_putc(b, '"');
}

void lm_buf_reset(lm_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void lm_buf_free(lm_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

char *lm_buf_detach(lm_buf *b)
{
    char *p = b->data;

    if (p == NULL)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
