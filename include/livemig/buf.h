/* Growable byte buffer, always NUL-terminated, used to build SQL and JSON. */
#ifndef LIVEMIG_BUF_H
#define LIVEMIG_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct lm_buf {
    char *data;
    size_t len;
    size_t cap;
    int oom; /* sticky: set once an allocation failed */
} lm_buf;

#define LM_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

int lm_buf_grow(lm_buf *b, size_t extra);
int lm_buf_append(lm_buf *b, const void *data, size_t len);
int lm_buf_puts(lm_buf *b, const char *s);
int lm_buf_putc(lm_buf *b, char c);
int lm_buf_printf(lm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append bytes as lowercase hex digits. */
int lm_buf_hex(lm_buf *b, const uint8_t *data, size_t len);
/* Append a JSON string literal (with quotes); invalid UTF-8 bytes become U+FFFD. */
int lm_buf_json_str(lm_buf *b, const char *s, size_t len);
void lm_buf_reset(lm_buf *b);
void lm_buf_free(lm_buf *b);
/* Take ownership of the data (caller frees); buffer is reset. */
char *lm_buf_detach(lm_buf *b);

/* Length of the valid UTF-8 sequence at s (at most n bytes; 1 for ASCII),
 * 0 if invalid (overlong, surrogate, above U+10FFFF, cut short). */
size_t lm_utf8_seq_len(const unsigned char *s, size_t n);

#endif
