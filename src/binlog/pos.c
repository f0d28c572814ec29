/* Ordering of binlog positions across files. */
#include "livemig/binlog.h"

#include <stdlib.h>
#include <string.h>

/* Length of the name without its trailing digits (the sequence number). */
static size_t stem_len(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] >= '0' && s[n - 1] <= '9')
        n--;
    return n;
}

int lm_binlog_pos_cmp(const lm_binlog_pos *a, const lm_binlog_pos *b)
{
    size_t la = stem_len(a->file), lb = stem_len(b->file);
    int c;

    /* mysql-bin.999999 rolls over to mysql-bin.1000000: compare the
     * numbers, not the text. */
    if (la == lb && memcmp(a->file, b->file, la) == 0 && a->file[la] && b->file[lb]) {
        unsigned long long na = strtoull(a->file + la, NULL, 10);
        unsigned long long nb = strtoull(b->file + lb, NULL, 10);
        if (na != nb)
            return na < nb ? -1 : 1;
    } else {
        c = strcmp(a->file, b->file);
        if (c)
            return c < 0 ? -1 : 1;
    }
    if (a->pos != b->pos)
        return a->pos < b->pos ? -1 : 1;
    return 0;
}

bool lm_binlog_type_is_rows(uint8_t type)
{
    switch (type) {
    case LM_BL_WRITE_ROWS_V1:
    case LM_BL_UPDATE_ROWS_V1:
    case LM_BL_DELETE_ROWS_V1:
    case LM_BL_WRITE_ROWS_V2:
    case LM_BL_UPDATE_ROWS_V2:
    case LM_BL_DELETE_ROWS_V2:
    case LM_BL_PARTIAL_UPDATE_ROWS: /* MySQL PARTIAL_JSON: UPDATE_ROWS v2 + JSON diffs */
    case LM_BL_WRITE_ROWS_COMPRESSED_V1:
    case LM_BL_UPDATE_ROWS_COMPRESSED_V1:
    case LM_BL_DELETE_ROWS_COMPRESSED_V1:
        return true;
    default:
        return false;
    }
}
