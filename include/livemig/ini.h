/* A small INI reader for --config files.
 *
 *   # comment        ; comment
 *   [section]
 *   key = value      (whitespace around key and value is trimmed;
 *   flag             a key without '=' has the value "")
 *   key = "quoted"   (one pair of double or single quotes is removed)
 *
 * Keys before any section have the section "". Section and key names are
 * passed as written; the caller decides what they mean. */
#ifndef LIVEMIG_INI_H
#define LIVEMIG_INI_H

#include "livemig/err.h"

#include <stddef.h>

/* Called once per key in file order; line is 1-based. A negative return
 * stops the parse and is returned by lm_ini_parse. */
typedef int (*lm_ini_fn)(void *ctx, const char *section, const char *key, const char *value,
                         int line, lm_err *err);

/* Parse len bytes of text (need not be NUL-terminated). name is used in
 * error messages ("name:LINE: ..."). */
int lm_ini_parse(const char *text, size_t len, const char *name, lm_ini_fn fn, void *ctx,
                 lm_err *err);
/* Read and parse the file at path. */
int lm_ini_parse_file(const char *path, lm_ini_fn fn, void *ctx, lm_err *err);

#endif
